# shellcheck shell=bash
# The lab's DNS: test/lab/resolver.py in the router's namespace on
# 10.0.0.1:53 (UDP), the resolver every lab host would ask, answering for
# the endpoint's hosted zone db.example.internal. (Z0A00000000000000000A,
# the shared world's) from what Route 53 answers (the newest change in
# sync), each answer kept for its TTL as a caching resolver does. The
# internet's host may ask it too (the router's NAT lets UDP to port 53 of
# 10.0.0.1 in, nothing else of the router's). Its queries: dns-queries.jsonl.
# Sourced by scripts/lab.sh, after net.sh and aws.sh.

LAB_DNS_ZONE=Z0A00000000000000000A

resolver_up() {
  router_service resolver /usr/bin/python3 "$TOP/test/lab/resolver.py" --endpoint "$LAB_EC2" --zone "$LAB_DNS_ZONE" \
    --listen "$LAB_SERVICES" --log "$LAB_DIR/dns-queries.jsonl"
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
