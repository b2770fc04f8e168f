#!/usr/bin/python3
"""The lab's DNS: a resolver in the router answering for the endpoint's Route 53 zones.

A client that connects by name asks a resolver, which asks Route 53 and
keeps the answer for the record's TTL. This plays both for the lab's
clients, over UDP: a query for a name in one of the --zone hosted zones is
answered from the endpoint's GET /_fake/route53/zone/ID "dns" (what Route
53's servers answer: the records of the newest change in sync, never one
still PENDING), and the answer is kept for its TTL, counted down in every
answer given from it, as a caching resolver in front of Route 53 does (the
time a client by name waits beyond the record's change). --no-cache: every
query asks the endpoint (Route 53's own servers, as it were).

A and AAAA (and any other type of a name the zone holds) are answered from
the records of that type: NOERROR with none is "no data"; a name the zone
lacks is NXDOMAIN (kept for the zone SOA's minimum, as RFC 2308 says, no
longer than 5 s here); a name in no zone of the lab is REFUSED (it is
no recursive resolver to the world: nothing leaves the lab). Weighted and
other record sets with a set identifier are left out (a plain record only).

  resolver.py --endpoint URL --zone ID [--zone ID ...] [--listen ADDR] [--port 53] [--no-cache]
              [--log FILE]

--log: one JSON line per query {t, name, type, rcode, answers, ttl, cached}.
Prints "ready" on stdout once it listens. Runs until SIGTERM.

  resolver.py --ask NAME [--type A|AAAA] [--server ADDR] [--port 53]

asks a resolver once (a stub's query, 2 s to answer) and prints its answer
as JSON {rcode, answers, ttl}: what the lab's tests check with.
"""
import argparse
import ipaddress
import json
import signal
import socket
import struct
import sys
import time
import urllib.request

TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 15: "MX", 16: "TXT", 28: "AAAA"}
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
NEGATIVE_TTL_MAX = 5


def parse_question(packet):
    """(id, flags, name, qtype, end of the question) of a query; ValueError if it is not one."""
    if len(packet) < 12:
        raise ValueError("short header")
    qid, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if flags & 0x8000 or qdcount != 1:
        raise ValueError("not one question")
    labels, at = [], 12
    while True:
        if at >= len(packet):
            raise ValueError("name runs past the packet")
        n = packet[at]
        at += 1
        if n == 0:
            break
        if n & 0xC0 or at + n > len(packet):
            raise ValueError("bad label")
        labels.append(packet[at:at + n].decode("ascii", "replace").lower())
        at += n
    if at + 4 > len(packet):
        raise ValueError("no type and class")
    qtype, _qclass = struct.unpack("!HH", packet[at:at + 4])
    return qid, flags, ".".join(labels) + ".", qtype, at + 4


def rdata(rtype, value):
    if rtype == 1:
        return ipaddress.IPv4Address(value).packed
    if rtype == 28:
        return ipaddress.IPv6Address(value).packed
    return None  # other types: not encoded here (the lab needs addresses)


def answer(packet, qid, flags, question_end, rcode, rtype=0, values=(), ttl=0, authoritative=False):
    rd = flags & 0x0100
    out_flags = 0x8000 | (0x0400 if authoritative else 0) | rd | 0x0080 | rcode  # QR, AA?, RD, RA
    records = []
    for v in values:
        data = rdata(rtype, v)
        if data is not None:
            # The name: a pointer to the question's (offset 12).
            records.append(struct.pack("!HHHIH", 0xC00C, rtype, 1, int(ttl), len(data)) + data)
    header = struct.pack("!HHHHHH", qid, out_flags, 1, len(records), 0, 0)
    return header + packet[12:question_end] + b"".join(records)


class Zones:
    def __init__(self, endpoint, zone_ids, cache):
        self.endpoint = endpoint
        self.zone_ids = zone_ids
        self.cache_on = cache
        self.names = {}  # zone name -> zone id (read once: a zone's name does not change)
        self.cache = {}  # (name, type) -> (expires, rcode, values, ttl)
        for zid in zone_ids:
            self.names[self.fetch(zid)["name"]] = zid

    def fetch(self, zid):
        with urllib.request.urlopen(f"{self.endpoint}/_fake/route53/zone/{zid}", timeout=5) as r:
            return json.load(r)

    def zone_of(self, name):
        best = None
        for zname, zid in self.names.items():
            if (name == zname or name.endswith("." + zname)) and (best is None or len(zname) > len(best[0])):
                best = (zname, zid)
        return best

    def resolve(self, name, qtype):
        """(rcode, values, ttl, cached)."""
        now = time.time()
        hit = self.cache.get((name, qtype))
        if hit and hit[0] > now:
            return hit[1], hit[2], max(0, int(hit[0] - now)), True
        zone = self.zone_of(name)
        if zone is None:
            return REFUSED, [], 0, False
        dns = self.fetch(zone[1])["dns"]
        same = [r for r in dns if r["name"] == name and not r.get("set_identifier")]
        if not same:
            soa = next((r for r in dns if r["type"] == "SOA"), None)
            ttl = min(NEGATIVE_TTL_MAX, int(soa["values"][0].split()[-1]) if soa else 0)
            rcode, values = NXDOMAIN, []
        else:
            wanted = [r for r in same if r["type"] == TYPES.get(qtype)]
            rcode, values = NOERROR, [v for r in wanted for v in r["values"]]
            ttl = wanted[0]["ttl"] if wanted else NEGATIVE_TTL_MAX
        if self.cache_on and ttl > 0:
            self.cache[(name, qtype)] = (now + ttl, rcode, values, ttl)
        return rcode, values, ttl, False


def ask(server, port, name, qtype):
    qid = int(time.time() * 1000) & 0xFFFF
    question = b"".join(bytes([len(label)]) + label.encode("ascii") for label in name.rstrip(".").split(".")) + b"\0"
    packet = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", qtype, 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    sock.sendto(packet, (server, port))
    reply = sock.recv(4096)
    rid, flags, _qd, ancount = struct.unpack("!HHHH", reply[:8])
    if rid != qid:
        raise SystemExit("resolver: an answer to another query")
    at = 12 + len(question) + 4
    answers, ttl = [], None
    for _ in range(ancount):
        _name, rtype, _cls, rttl, length = struct.unpack("!HHHIH", reply[at:at + 12])
        data = reply[at + 12:at + 12 + length]
        answers.append(str(ipaddress.ip_address(data)))
        ttl = rttl
        at += 12 + length
    return {"rcode": flags & 0xF, "answers": answers, "ttl": ttl}


running = True


def stop(signum, frame):
    global running
    running = False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint")
    ap.add_argument("--zone", action="append", help="a hosted zone id the lab's DNS serves")
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--ask", metavar="NAME")
    ap.add_argument("--type", default="A", choices=("A", "AAAA"))
    ap.add_argument("--server", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--log")
    args = ap.parse_args()
    if args.ask:
        print(json.dumps(ask(args.server, args.port, args.ask, 1 if args.type == "A" else 28)))
        return 0
    if not args.endpoint or not args.zone:
        ap.error("--endpoint and --zone are needed to serve")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    zones = Zones(args.endpoint, args.zone, not args.no_cache)
    log = open(args.log, "a", buffering=1) if args.log else None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((str(ipaddress.ip_address(args.listen)), args.port))
    sock.settimeout(0.5)
    print("ready", flush=True)
    while running:
        try:
            packet, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        try:
            qid, flags, name, qtype, end = parse_question(packet)
        except ValueError:
            if len(packet) >= 12:
                sock.sendto(struct.pack("!HHHHHH", struct.unpack("!H", packet[:2])[0], 0x8000 | FORMERR, 0, 0, 0, 0),
                            peer)
            continue
        try:
            rcode, values, ttl, cached = zones.resolve(name, qtype)
        except (OSError, ValueError, KeyError) as e:
            print(f"resolver: {name}: {e}", file=sys.stderr, flush=True)
            rcode, values, ttl, cached = SERVFAIL, [], 0, False
        sock.sendto(answer(packet, qid, flags, end, rcode, qtype, values, ttl, authoritative=not cached), peer)
        if log:
            log.write(json.dumps({"t": time.time(), "name": name, "type": TYPES.get(qtype, qtype), "rcode": rcode,
                                  "answers": values, "ttl": ttl, "cached": cached}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
