#!/usr/bin/python3
"""The lab's Elastic IP: what AWS's internet gateway does for one, in the router.

AWS maps an Elastic IP 1:1 to the private address it is associated with:
packets from the internet for the public address reach the instance with
its private address as destination, and the instance's packets to the
internet leave with the public address as source. The instance never binds
the public address. This does the same in the lab router's namespace with
nftables, stateless (no connection tracking): once the association moves,
the next packet of any connection goes to the new instance, which answers
with a reset, as on AWS; the old one's packets to the internet are dropped.
Nothing else passes between the internet link and the lab: not to the
VPC's private addresses, not to the router's services (the endpoint, the
metadata), but for the lab's resolver (--resolver: UDP to its port 53).

It follows the association the endpoint holds (GET /_fake/state,
addresses.<allocation>.association: the truth, not what DescribeAddresses
shows eip_visible_after_ms later), as the endpoint's --kernel-routes follows
its route tables: it reads the state anew each time the endpoint's request
log gains a changing request (looked at every 2 ms), and every 0.5 s
besides (changes made through the control API, which the log does not
hold). The endpoint answers AssociateAddress, then the router follows a
few ms later (a state read and one nftables transaction, through
libnftables in this process: running nft costs 8 to 25 ms more): the
record says when.

  eip_router.py --endpoint URL --allocation ID --requests FILE --record FILE
                --device DEV --internet CIDR --eni ENI=NAME ... [--resolver ADDR]

--record: one JSON line per change of the NAT, {t, seen, allocation,
public_ip, eni, node, private_ip} (t: when nft had applied it; seen: when
the change was noticed); node and private_ip null while the address goes
nowhere. Prints "ready" on stdout once the first state is applied. Runs
until SIGTERM. Refuses a public address outside the documentation ranges
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24): the lab never routes a
real one.
"""
import argparse
import ctypes
import ipaddress
import json
import os
import signal
import sys
import time
import urllib.request

MARK = "0x1e1b"  # packets from the internet that the NAT let in
DOCUMENTATION = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
running = True


def stop(signum, frame):
    global running
    running = False


def association(endpoint, allocation):
    """(public address, interface, private address) of the allocation as the endpoint holds it now."""
    with urllib.request.urlopen(f"{endpoint}/_fake/state", timeout=5) as r:
        state = json.load(r)
    address = state["addresses"].get(allocation)
    if address is None:
        raise SystemExit(f"eip_router: the endpoint has no Elastic IP {allocation}")
    assoc = address.get("association") or {}
    return address["public_ip"], assoc.get("eni"), assoc.get("private_ip")


class Nftables:
    """libnftables (Debian's nftables package), one context for the process's life."""

    def __init__(self):
        self.lib = ctypes.CDLL("libnftables.so.1")
        self.lib.nft_ctx_new.restype = ctypes.c_void_p
        self.lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        self.lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self.lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
        self.ctx = self.lib.nft_ctx_new(0)
        if not self.ctx:
            raise SystemExit("eip_router: nft_ctx_new failed")

    def run(self, text):
        # nftables writes its own error to stderr (eip-router.log).
        if self.lib.nft_run_cmd_from_buffer(self.ctx, text.encode()) != 0:
            raise SystemExit(f"eip_router: nftables refused:\n{text}")


def ruleset(device, internet, public, private, resolver):
    """The whole table, replaced in one nft transaction (what a packet meets is either before or after)."""
    nat = ""
    if private:
        nat = (f'    iifname "{device}" ip daddr {public} notrack ip daddr set {private} meta mark set {MARK}\n'
               f"    ip saddr {private} ip daddr {internet} notrack ip saddr set {public}\n")
    return (f"table ip pgvip_eip\ndelete table ip pgvip_eip\ntable ip pgvip_eip {{\n"
            f"  chain nat {{ type filter hook prerouting priority raw; policy accept;\n{nat}  }}\n"
            f"  chain forward {{ type filter hook forward priority filter; policy accept;\n"
            f'    iifname "{device}" meta mark != {MARK} drop\n'
            f'    oifname "{device}" ip saddr != {public} drop\n  }}\n'
            f"  chain input {{ type filter hook input priority filter; policy accept;\n"
            + (f'    iifname "{device}" ip daddr {resolver} udp dport 53 accept\n' if resolver else "")
            + f'    iifname "{device}" drop\n  }}\n}}\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--allocation", required=True)
    ap.add_argument("--requests", required=True, help="the endpoint's request log (--log)")
    ap.add_argument("--record", required=True)
    ap.add_argument("--device", required=True, help="the router's link to the internet")
    ap.add_argument("--internet", required=True, help="the internet link's network")
    ap.add_argument("--eni", action="append", default=[], metavar="ENI=NAME", help="a lab node's interface")
    ap.add_argument("--resolver", type=ipaddress.IPv4Address, help="the lab's resolver, which the internet may ask")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    internet = ipaddress.ip_network(args.internet)
    nodes = dict(e.split("=", 1) for e in args.eni)
    record = open(args.record, "a", buffering=1)
    nft = Nftables()
    applied = object()
    offset = 0
    next_poll = 0.0
    first = True
    while running:
        seen = time.time()
        changed = False
        try:
            size = os.stat(args.requests).st_size
        except OSError:
            size = 0
        if size > offset:
            with open(args.requests, "rb") as f:
                f.seek(offset)
                data = f.read(size - offset)
            # Only whole lines; a line being written is read the next time.
            end = data.rfind(b"\n") + 1
            offset += end
            changed = b'"changing": true' in data[:end]
        if changed or seen >= next_poll:
            next_poll = seen + 0.5
            public, eni, private = association(args.endpoint, args.allocation)
            if not any(ipaddress.ip_address(public) in n for n in DOCUMENTATION):
                raise SystemExit(f"eip_router: {public} is not a documentation address: the lab routes none else")
            node = nodes.get(eni)
            # An association with an interface outside the lab (another account's) leads nowhere here.
            target = str(ipaddress.IPv4Address(private)) if node and private else None
            if (public, target) != applied:
                nft.run(ruleset(args.device, internet, public, target, args.resolver))
                applied = (public, target)
                record.write(json.dumps({"t": time.time(), "seen": seen, "allocation": args.allocation,
                                         "public_ip": public, "eni": eni, "node": node if target else None,
                                         "private_ip": target}) + "\n")
            if first:
                print("ready", flush=True)
                first = False
        time.sleep(0.002)
    return 0


if __name__ == "__main__":
    sys.exit(main())
