# shellcheck shell=bash
# The lab's network: a VPC in a box, made of network namespaces.
#
#   router   plays the VPC router. It forwards between the lab's links only
#            (it has no link to the host: nothing can leave the lab), and
#            hosts the lab's services on 10.0.0.1 (its loopback): the AWS
#            endpoint (the EC2 API and each instance's metadata), etcd.
#   node-a, node-b   one database instance each: link 10.0.N.0/24, the
#            instance at 10.0.N.10, the router at 10.0.N.1; the VIP bound as
#            a /32 on the instance's interface (the tutorial's netplan step).
#   client   an application host on 10.0.3.10, in the subnet whose route
#            table is the first one: its packets for the VIP follow that
#            table, which the AWS endpoint keeps in the router's kernel.
#   monitor  (pg_auto_failover only) 10.0.4.10.
#   internet the world outside the VPC: one host, 192.0.2.10 (TEST-NET-1),
#            on its own link to the router (192.0.2.1). It reaches the
#            lab by the Elastic IP's public address 198.51.100.10
#            (TEST-NET-2) only: the router does AWS's 1:1 NAT for it,
#            following the endpoint's association (test/lab/eip_router.py),
#            and drops anything else from or to that link. Both ranges are
#            documentation ranges, on links that exist only inside the
#            lab's namespaces: nothing is routed out.
#
# Names carry the run's id (LAB_ID), so two labs never collide: an id is
# taken only if no namespace of it exists, by making its router's namespace
# (net_claim_id); `net_down` removes every namespace of the run, which ends
# every process inside.
# Sourced by scripts/lab.sh; needs root and iproute2.

LAB_VPC_CIDR=10.0.0.0/18
LAB_SERVICES=10.0.0.1
LAB_VIP=10.0.99.10
# host name -> link number (10.0.N.0/24; internet's link is not the VPC's)
declare -gA LAB_LINK=([node-a]=1 [node-b]=2 [client]=3 [monitor]=4 [internet]=5)
# The Elastic IP (the shared world's eipalloc-0a000001) and the outside world.
LAB_EIP_ALLOCATION=eipalloc-0a000001
LAB_EIP_PUBLIC=198.51.100.10
LAB_INTERNET_NET=192.0.2.0/24
LAB_INTERNET_ROUTER=192.0.2.1
LAB_INTERNET_HOST=192.0.2.10

ns_of() { printf 'pgvip-%s-%s' "$LAB_ID" "$1"; }
host_addr() { printf '10.0.%s.10' "${LAB_LINK[$1]}"; }
# Interface names are at most 15 characters: v<id><link><side>.
router_dev() { printf 'v%s%sr' "$LAB_ID" "${LAB_LINK[$1]}"; }
host_dev() { printf 'v%s%sh' "$LAB_ID" "${LAB_LINK[$1]}"; }

in_ns() { local ns; ns=$(ns_of "$1"); shift; ip netns exec "$ns" "$@"; }

# Says what is missing for the lab, in one line, and fails; or succeeds.
net_check() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "the lab needs root: it makes network namespaces (run as root)"; return 1
  fi
  if ! command -v ip >/dev/null; then
    echo "the lab needs iproute2 (ip): apt-get install iproute2"; return 1
  fi
  if ! command -v nft >/dev/null; then
    echo "the lab needs nftables (nft), the Elastic IP's NAT: apt-get install nftables"; return 1
  fi
  local probe="pgvip-probe-$$"
  if ! ip netns add "$probe" 2>/dev/null; then
    echo "network namespaces are unavailable here (ip netns add failed): the lab cannot run"; return 1
  fi
  ip netns del "$probe"
}

# Five hex digits, at random.
lab_random_id() { od -An -N3 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5; }

# Sets LAB_ID to an id no namespace on this machine carries (not a lab up,
# nor what one left behind), and holds it: its router's namespace is made
# here. `ip netns add` fails when the name exists, so two labs starting at
# once never take the same id.
net_claim_id() {
  local try id
  for try in 1 2 3 4 5 6 7 8 9 10; do
    id=$(lab_random_id)
    [[ $id =~ ^[0-9a-f]{5}$ ]] || continue
    if ! ip netns list 2>/dev/null | grep -q "^pgvip-$id-" && ip netns add "pgvip-$id-router" 2>/dev/null; then
      LAB_ID=$id
      return 0
    fi
  done
  echo "no free lab id after $try tries (ip netns list: are there that many labs?)" >&2
  return 1
}

# The router, in the namespace net_claim_id made.
net_up_router() {
  local r
  r=$(ns_of router)
  ip -n "$r" link set lo up
  ip -n "$r" addr add "$LAB_SERVICES/32" dev lo
  ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
  # The VIP's packets come back from an instance with the VIP as source, on
  # whichever link holds it: no reverse-path filter on the router.
  ip netns exec "$r" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# net_up_host NAME [vip]: a namespace on its own link to the router; "vip"
# binds the VIP as a /32 on its interface, as on every database node.
net_up_host() {
  local name=$1 vip=${2:-} ns r n
  ns=$(ns_of "$name")
  r=$(ns_of router)
  n=${LAB_LINK[$name]}
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$(router_dev "$name")" netns "$r" type veth peer name "$(host_dev "$name")" netns "$ns"
  ip -n "$r" addr add "10.0.$n.1/24" dev "$(router_dev "$name")"
  ip -n "$r" link set "$(router_dev "$name")" up
  ip netns exec "$r" sysctl -qw "net.ipv4.conf.$(router_dev "$name").rp_filter=0"
  ip -n "$ns" addr add "10.0.$n.10/24" dev "$(host_dev "$name")"
  if [ -n "$vip" ]; then
    ip -n "$ns" addr add "$LAB_VIP/32" dev "$(host_dev "$name")"
  fi
  ip -n "$ns" link set "$(host_dev "$name")" up
  # The only way out of a host is the router, and the router has no way out.
  ip -n "$ns" route add default via "10.0.$n.1"
}

# The outside world: a host on its own link, not in the VPC's range. What
# reaches the lab from it, and what leaves the lab for it, is the router's
# NAT's business (eip_router.py); until that runs, the router drops it all.
net_up_internet() {
  local ns r
  ns=$(ns_of internet)
  r=$(ns_of router)
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$(router_dev internet)" netns "$r" type veth peer name "$(host_dev internet)" netns "$ns"
  ip -n "$r" addr add "$LAB_INTERNET_ROUTER/24" dev "$(router_dev internet)"
  ip -n "$ns" addr add "$LAB_INTERNET_HOST/24" dev "$(host_dev internet)"
  ip netns exec "$r" nft -f - <<NFT
table ip pgvip_eip {
  chain forward { type filter hook forward priority filter; policy accept;
    iifname "$(router_dev internet)" drop
    oifname "$(router_dev internet)" drop
  }
  chain input { type filter hook input priority filter; policy accept;
    iifname "$(router_dev internet)" ip daddr $LAB_SERVICES udp dport 53 accept
    iifname "$(router_dev internet)" drop
  }
}
NFT
  ip -n "$r" link set "$(router_dev internet)" up
  ip -n "$ns" link set "$(host_dev internet)" up
  ip -n "$ns" route add default via "$LAB_INTERNET_ROUTER"
}

# Route tables: rtb number i (1..N) is kernel table 100+i on the router; the
# client's subnet uses the first.
net_route_tables() {
  local r
  r=$(ns_of router)
  ip -n "$r" rule add from "$(host_addr client)/32" lookup 101 priority 1000
}

# A service of the lab's in the router's namespace, in the background:
# its stdout is $LAB_DIR/NAME.answer, its errors NAME.log; it is up once it
# has written its first line there (10 s at most, or its errors are shown).
router_service() {  # name command...
  local name=$1 i
  shift
  in_ns router setsid "$@" >"$LAB_DIR/$name.answer" 2>"$LAB_DIR/$name.log" </dev/null &
  for ((i = 0; i < 100; i++)); do
    [ -s "$LAB_DIR/$name.answer" ] && return 0
    sleep 0.1
  done
  echo "the lab's $name did not start:"; cat "$LAB_DIR/$name.log"; return 1
}

# The link of a host goes down (a cut cable) or up again.
net_cut() { ip -n "$(ns_of "$1")" link set "$(host_dev "$1")" down; }
net_heal() {
  ip -n "$(ns_of "$1")" link set "$(host_dev "$1")" up
  ip -n "$(ns_of "$1")" route replace default via "10.0.${LAB_LINK[$1]}.1"
}

# Every namespace of this run: its processes killed, then the namespace
# removed (its veths go with it).
net_down() {
  local ns pids
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^pgvip-$LAB_ID-" || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    # shellcheck disable=SC2086 # a list of pids
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  done
  sleep 0.2
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^pgvip-$LAB_ID-" || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    # shellcheck disable=SC2086 # a list of pids
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null && sleep 0.3
    ip netns del "$ns" 2>/dev/null || true
  done
}
