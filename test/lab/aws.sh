# shellcheck shell=bash
# The lab's AWS: the project's endpoint (test/fake_aws/server.py), run as
# root inside the router's namespace on 10.0.0.1, whose route tables are the
# router's kernel tables 101.. (--kernel-routes): a ReplaceRoute really
# moves the client's packets. Instances as in the shared world: node-a is
# i-0a000001 (eni-0a00000a), node-b i-0b000001 (eni-0b00000b), each with its
# own metadata service; their source/destination check is off, as the
# tutorial sets it. Every table starts with the VIP routed to node-a.
# Each instance's interface has the lab's address of its node (node-b's in
# a subnet of its own, 10.0.2.0/24), so the Elastic IP (eipalloc-0a000001,
# 198.51.100.10, associated with node-a's interface at the start) maps to
# the address the node really has; test/lab/eip_router.py makes the router
# follow its association.
# Sourced by scripts/lab.sh, after net.sh.

declare -gA LAB_INSTANCE=([node-a]=i-0a000001 [node-b]=i-0b000001)
declare -gA LAB_ENI=([node-a]=eni-0a00000a [node-b]=eni-0b00000b)

lab_tables() {  # the route table ids, comma-separated
  local i ids=()
  for ((i = 1; i <= LAB_TABLES; i++)); do ids+=("$(printf 'rtb-0a%06d' "$i")"); done
  (IFS=,; printf '%s' "${ids[*]}")
}

aws_up() {
  local tables json kernel i id
  tables=$(lab_tables)
  json="[" kernel='{"tables": {'
  i=0
  for id in ${tables//,/ }; do
    i=$((i + 1))
    [ "$i" -gt 1 ] && { json+=","; kernel+=","; }
    json+="{\"id\": \"$id\", \"routes\": [{\"destination\": \"$LAB_VIP/32\", \"eni\": \"${LAB_ENI[node-a]}\"}], \"vpc_cidr\": \"$LAB_VPC_CIDR\"}"
    kernel+="\"$id\": $((100 + i))"
  done
  json+="]"
  kernel+="}, \"hops\": {\"${LAB_ENI[node-a]}\": [\"$(host_addr node-a)\", \"$(router_dev node-a)\"],"
  kernel+=" \"${LAB_ENI[node-b]}\": [\"$(host_addr node-b)\", \"$(router_dev node-b)\"]}}"
  printf '%s\n' "$kernel" >"$LAB_DIR/kernel-routes.json"
  in_ns router setsid /usr/bin/python3 "$TOP/test/fake_aws/server.py" --listen "$LAB_SERVICES" \
    --kernel-routes "$LAB_DIR/kernel-routes.json" --log "$LAB_DIR/aws-requests.jsonl" \
    --set "route_tables=$json" --set "vip=\"$LAB_VIP/32\"" \
    --set "instances.${LAB_INSTANCE[node-a]}.source_dest_check=false" \
    --set "instances.${LAB_INSTANCE[node-b]}.source_dest_check=false" \
    --set "instances.${LAB_INSTANCE[node-a]}.private_ip=\"$(host_addr node-a)\"" \
    --set 'subnets.subnet-0a000002={"cidr": "10.0.2.0/24"}' \
    --set "instances.${LAB_INSTANCE[node-b]}.subnet=\"subnet-0a000002\"" \
    --set "instances.${LAB_INSTANCE[node-b]}.private_ip=\"$(host_addr node-b)\"" \
    >"$LAB_DIR/aws.answer" 2>"$LAB_DIR/aws.log" </dev/null &
  for ((i = 0; i < 100; i++)); do
    [ -s "$LAB_DIR/aws.answer" ] && break
    sleep 0.1
  done
  if [ ! -s "$LAB_DIR/aws.answer" ]; then
    echo "the lab's AWS endpoint did not start:"; cat "$LAB_DIR/aws.log"; return 1
  fi
  /usr/bin/python3 - "$LAB_DIR/aws.answer" >>"$LAB_DIR/lab.env" <<'PY'
import json, sys
a = json.loads(open(sys.argv[1]).readline())
print(f"LAB_EC2={a['ec2']}")
print(f"LAB_IMDS_A={a['imds']['i-0a000001']}")
print(f"LAB_IMDS_B={a['imds']['i-0b000001']}")
PY
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  eip_router_up
}

# The router's NAT for the Elastic IP, following the endpoint's association.
eip_router_up() {
  router_service eip-router /usr/bin/python3 "$TOP/test/lab/eip_router.py" --endpoint "$LAB_EC2" \
    --allocation "$LAB_EIP_ALLOCATION" --requests "$LAB_DIR/aws-requests.jsonl" \
    --record "$LAB_DIR/eip-router.jsonl" --device "$(router_dev internet)" --internet "$LAB_INTERNET_NET" \
    --eni "${LAB_ENI[node-a]}=node-a" --eni "${LAB_ENI[node-b]}=node-b" --resolver "$LAB_SERVICES"
}

imds_of() { case $1 in node-a) printf '%s' "$LAB_IMDS_A" ;; node-b) printf '%s' "$LAB_IMDS_B" ;; esac; }

# The endpoint's control API, from inside the router (the host has no way in).
aws_control() {  # path [json]: GET, or POST of the JSON
  if [ -n "${2:-}" ]; then
    in_ns router curl -sSf --max-time 5 -H 'Content-Type: application/json' -d "$2" "$LAB_EC2/_fake/$1"
  else
    in_ns router curl -sSf --max-time 5 "$LAB_EC2/_fake/$1"
  fi
}

# Where the client's packets for the VIP go now: the router's kernel, table 101.
vip_route_now() {
  ip -n "$(ns_of router)" route show table 101 "$LAB_VIP/32" 2>/dev/null
}

# The host whose link the first table's kernel route goes to ("" if none).
vip_host_now() {
  local route
  route=$(vip_route_now)
  case $route in
    *"via $(host_addr node-a) "*) echo node-a ;;
    *"via $(host_addr node-b) "*) echo node-b ;;
    *) echo "" ;;
  esac
}

# The host the router's NAT sends the Elastic IP's packets to now ("" if
# none): read from the router's kernel (nftables), as vip_host_now reads
# its route.
eip_host_now() {
  local rules
  rules=$(ip netns exec "$(ns_of router)" nft list chain ip pgvip_eip nat 2>/dev/null) || true
  case $rules in
    *"ip daddr set $(host_addr node-a) "*) echo node-a ;;
    *"ip daddr set $(host_addr node-b) "*) echo node-b ;;
    *) echo "" ;;
  esac
}
