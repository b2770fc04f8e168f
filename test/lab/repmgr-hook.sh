#!/bin/sh
# The tutorial's failover hook, as a user has it: repmgr's
#   event_notification_command='/path/repmgr-hook.sh %n %e %s "%t" "%d"'
#   event_notifications='standby_promote'
# On a successful standby_promote it points the VIP's /32 route at this
# node's interface in every route table, one AWS CLI call per table, one
# after the other (Debian's awscli), then reattaches the Elastic IP to this
# node's interface (the tutorial's "reattaching Elastic IP to the new
# Primary"), then UPSERTs the Route 53 record to this node's address (its
# "update the Route 53 DNS pointings"; no fence: a plain UPSERT). The credentials are the instance
# role's, from the instance metadata service (the lab's, never
# 169.254.169.254); nothing else credential-like is set.
# Its settings: hook.env beside it
#   VIP=10.0.99.10/32  ROUTE_TABLES='rtb-... rtb-...'  ENI=eni-...  EIP_ALLOCATION=eipalloc-...
#   EC2_ENDPOINT=http://...  IMDS_ENDPOINT=http://...  REGION=us-east-1
#   DNS_ZONE=Z...  DNS_NAME=primary.example.  DNS_TTL=5  DNS_VALUE=10.0.2.10
# Its record: hook.log beside it, each call's start and end (Unix seconds)
# and exit status.
# (bench/hook_replace_route.sh is the older benchmark's variant.)
node_id=$1 event=$2 success=$3 timestamp=$4 details=$5
dir=$(dirname "$0")
log="$dir/hook.log"

stamp() { date +%s.%3N; }
say() { printf '%s %s\n' "$(stamp)" "$*" >>"$log"; }

say "event node=$node_id event=$event success=$success at=\"$timestamp\" details=\"$details\""
[ "$event" = standby_promote ] && [ "$success" = 1 ] || exit 0

# shellcheck disable=SC1091
. "$dir/hook.env" || { say "cannot read $dir/hook.env"; exit 1; }
# botocore appends "latest/api/token" to the endpoint as it is: it must end in "/".
AWS_EC2_METADATA_SERVICE_ENDPOINT="${IMDS_ENDPOINT%/}/"
export AWS_EC2_METADATA_SERVICE_ENDPOINT

failed=0
for rtb in $ROUTE_TABLES; do
  say "start replace-route $rtb $VIP -> $ENI"
  /usr/bin/aws ec2 replace-route --endpoint-url "$EC2_ENDPOINT" --region "$REGION" \
    --route-table-id "$rtb" --destination-cidr-block "$VIP" \
    --network-interface-id "$ENI" >>"$log" 2>&1
  rc=$?
  say "end replace-route $rtb exit=$rc"
  [ "$rc" -eq 0 ] || failed=1
done
if [ -n "${EIP_ALLOCATION:-}" ]; then
  say "start associate-address $EIP_ALLOCATION -> $ENI"
  /usr/bin/aws ec2 associate-address --endpoint-url "$EC2_ENDPOINT" --region "$REGION" \
    --allocation-id "$EIP_ALLOCATION" --network-interface-id "$ENI" --allow-reassociation >>"$log" 2>&1
  rc=$?
  say "end associate-address $EIP_ALLOCATION exit=$rc"
  [ "$rc" -eq 0 ] || failed=1
fi
if [ -n "${DNS_ZONE:-}" ]; then
  say "start change-resource-record-sets $DNS_ZONE $DNS_NAME -> $DNS_VALUE"
  /usr/bin/aws route53 change-resource-record-sets --endpoint-url "$EC2_ENDPOINT" --region "$REGION" \
    --hosted-zone-id "$DNS_ZONE" --change-batch "{\"Changes\": [{\"Action\": \"UPSERT\", \"ResourceRecordSet\":
      {\"Name\": \"$DNS_NAME\", \"Type\": \"A\", \"TTL\": $DNS_TTL, \"ResourceRecords\": [{\"Value\": \"$DNS_VALUE\"}]}}]}" \
    >>"$log" 2>&1
  rc=$?
  say "end change-resource-record-sets $DNS_ZONE exit=$rc"
  [ "$rc" -eq 0 ] || failed=1
fi
say "done failed=$failed"
exit "$failed"
