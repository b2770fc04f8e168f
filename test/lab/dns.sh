# shellcheck shell=bash
# The lab's DNS: test/lab/resolver.py in the router's namespace on
# 10.0.0.1:53 (UDP), the resolver the lab's application hosts ask,
# answering for the endpoint's hosted zone db.example.internal.
# (Z0A00000000000000000A, the shared world's) from what Route 53 answers
# (the newest change in sync), each answer kept for its TTL as a caching
# resolver does. The internet's host may ask it too (the router's NAT lets
# UDP to port 53 of 10.0.0.1 in, nothing else of the router's). Its
# queries: dns-queries.jsonl.
# The nodes' pg_vip points $LAB_DNS_NAME at the primary's private address
# (test/lab/node.sh), TTL $LAB_DNS_TTL seconds: 5 by default, short as
# failover records are (a client may keep the old address that long), and
# long enough beside repmgr's 1.5 to 2 s of detection that the benchmark's
# "by DNS" row shows what the TTL costs. The application hosts' system
# resolver (glibc's, what libpq uses) asks the lab's: `ip netns exec` puts
# /etc/netns/<namespace>/resolv.conf over /etc/resolv.conf, which
# resolver_conf_up writes and resolver_conf_down (scripts/lab.sh down, and
# a failed up) removes.
# Sourced by scripts/lab.sh, after net.sh and aws.sh.

LAB_DNS_ZONE=Z0A00000000000000000A
LAB_DNS_NAME=primary.db.example.internal.
LAB_DNS_TTL=${LAB_DNS_TTL:-5}
# The hosts whose system resolver asks the lab's.
LAB_DNS_HOSTS=(client internet)

resolver_up() {
  router_service resolver /usr/bin/python3 "$TOP/test/lab/resolver.py" --endpoint "$LAB_EC2" --zone "$LAB_DNS_ZONE" \
    --listen "$LAB_SERVICES" --log "$LAB_DIR/dns-queries.jsonl"
}

# The lab's resolver for the application hosts' system resolver: their
# /etc/netns/<namespace>/resolv.conf (root's, as /etc is). The names carry
# the lab's id, so another lab's files are never touched.
resolver_conf_up() {
  local host netns_dir
  for host in "${LAB_DNS_HOSTS[@]}"; do
    # root's own /etc/netns, not a node's directory
    netns_dir=/etc/netns/$(ns_of "$host")
    install -d -m 755 "$netns_dir"
    printf '%s\n' "# The lab's resolver (test/lab/dns.sh): ip netns exec mounts this over /etc/resolv.conf." \
      "nameserver $LAB_SERVICES" "options timeout:1 attempts:2" >"$netns_dir/resolv.conf"
  done
}
resolver_conf_down() {
  local host
  for host in "${LAB_DNS_HOSTS[@]}"; do
    rm -rf -- "/etc/netns/$(ns_of "$host")"
  done
  # /etc/netns itself only if the lab made it and nothing else is in it.
  rmdir /etc/netns 2>/dev/null || true
}

# What the application hosts' system resolver answers for the record (the
# addresses getent finds, one a line): what libpq connects to.
dns_system_answer() {  # [host]
  in_ns "${1:-client}" getent ahostsv4 "${LAB_DNS_NAME%.}" 2>/dev/null | awk '{print $1}' | sort -u
}

# The record as an operator creates it before the cluster: at node-a, with
# the lab's TTL (the world's has 60 s). pg_vip leaves a record that already
# points at its node as it is, TTL included (it writes only the fence
# then): without this, node-a's record would keep 60 s until the first
# failover. With the tutorial's hook (LAB_MOVER=hook) no pg_vip writes it
# at all; the hook points it at the new primary (test/lab/repmgr-hook.sh).
dns_record_to() {  # node
  lab_aws "$1" route53 change-resource-record-sets --hosted-zone-id "$LAB_DNS_ZONE" --change-batch \
    "{\"Changes\": [{\"Action\": \"UPSERT\", \"ResourceRecordSet\": {\"Name\": \"$LAB_DNS_NAME\", \"Type\": \"A\",
      \"TTL\": $LAB_DNS_TTL, \"ResourceRecords\": [{\"Value\": \"$(host_addr "$1")\"}]}}]}" >/dev/null
}

# The node the record points at in Route 53 now (what its servers answer,
# the newest change in sync; "" if neither node's address).
dns_host_now() {
  local address
  address=$(aws_control "route53/zone/$LAB_DNS_ZONE" | /usr/bin/python3 -c '
import json, sys
name = sys.argv[1]
print(next((",".join(r["values"]) for r in json.load(sys.stdin)["dns"] if r["name"] == name and r["type"] == "A"), ""))
' "$LAB_DNS_NAME") || true
  case $address in
    "$(host_addr node-a)") echo node-a ;;
    "$(host_addr node-b)") echo node-b ;;
    *) echo "" ;;
  esac
}

# One query from a lab host (client by default), its answer as JSON.
dns_ask() {  # [--from HOST] [--type A|AAAA] NAME
  local from=client type=A
  while [ $# -gt 1 ]; do
    case $1 in
      --from) from=$2; shift 2 ;;
      --type) type=$2; shift 2 ;;
      *) break ;;
    esac
  done
  in_ns "$from" /usr/bin/python3 "$TOP/test/lab/resolver.py" --ask "$1" --type "$type" --server "$LAB_SERVICES"
}

# The AWS CLI (Debian's) in the router's namespace against the lab's
# endpoint, with a node's instance role (its metadata service); nothing of
# the caller's environment.
lab_aws() {  # node aws-arguments...
  local node=$1
  shift
  in_ns router env -i PATH=/usr/bin:/bin HOME="$LAB_DIR" AWS_EC2_METADATA_SERVICE_ENDPOINT="$(imds_of "$node")/" \
    AWS_DEFAULT_REGION=us-east-1 /usr/bin/aws --endpoint-url "$LAB_EC2" "$@"
}
