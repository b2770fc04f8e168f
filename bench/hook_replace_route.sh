#!/bin/sh
# The approach pg_vip replaces, for the benchmark: a failover hook that runs
# the AWS CLI once per route table, one after the other (as Pacemaker's
# aws-vpc-move-ip does, without its one-second pauses).
#   hook_replace_route.sh ENDPOINT_URL VIP ENI RTB...
endpoint=$1 vip=$2 eni=$3
shift 3
for rtb in "$@"; do
  /usr/bin/aws ec2 replace-route --endpoint-url "$endpoint" --region us-east-1 \
    --route-table-id "$rtb" --destination-cidr-block "$vip" --network-interface-id "$eni" >/dev/null
done
