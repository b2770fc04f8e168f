#!/usr/bin/python3
"""What the lab's client saw, from its record (client.py's CSV).

  report.py client.csv [--present FILE] [--since T] [--until T] [--json] [--brief]

The outage: the longest stretch between two acknowledged commits (the
client's write downtime), from the last commit acknowledged before it (and
by which node) to the first after it (and by which). With --present (the
seq of every row the final primary has, one a line): every acknowledged
commit missing there is lost, counted and listed. --since: only attempts
sent at or after Unix time T; --until: only attempts answered before T (the
time the final primary's rows were read, with --present).
"""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--present")
    parser.add_argument("--since", type=float, default=0.0)
    parser.add_argument("--until", type=float, default=float("inf"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--brief", action="store_true")
    args = parser.parse_args()
    attempts = []
    with open(args.csv) as f:
        for line in f:
            parts = line.rstrip("\n").split(",")
            if len(parts) != 6:
                continue  # a line cut by a kill: not an attempt
            seq, sent, done, ok, node, error = parts
            if float(sent) < args.since or float(done) >= args.until:
                continue
            attempts.append({"seq": int(seq), "sent": float(sent), "done": float(done), "ok": ok == "1",
                             "node": node, "error": error})
    acked = [a for a in attempts if a["ok"]]
    by_node = {}
    for a in acked:
        by_node[a["node"]] = by_node.get(a["node"], 0) + 1
    outage = None
    for before, after in zip(acked, acked[1:]):
        gap = after["done"] - before["done"]
        if outage is None or gap > outage["seconds"]:
            outage = {"seconds": gap, "last_ack": before["done"], "last_node": before["node"],
                      "first_ack": after["done"], "first_node": after["node"],
                      "failed_attempts": sum(1 for a in attempts
                                             if not a["ok"] and before["seq"] < a["seq"] < after["seq"])}
    # Which nodes acknowledged commits after the outage: only the new primary may.
    after = {}
    for a in acked:
        if outage and a["done"] >= outage["first_ack"]:
            after[a["node"]] = after.get(a["node"], 0) + 1
    if outage:
        outage["after_by_node"] = after
    report = {"attempts": len(attempts), "acked": len(acked), "failed": len(attempts) - len(acked),
              "by_node": by_node, "outage": outage,
              "last_node": acked[-1]["node"] if acked else None}
    if args.present:
        with open(args.present) as f:
            present = {int(line) for line in f if line.strip()}
        lost = [a["seq"] for a in acked if a["seq"] not in present]
        report["lost"] = len(lost)
        report["lost_seqs"] = lost[:20]
        report["lost_by_node"] = {}
        for a in acked:
            if a["seq"] not in present:
                report["lost_by_node"][a["node"]] = report["lost_by_node"].get(a["node"], 0) + 1
    if args.json:
        print(json.dumps(report))
    elif args.brief:
        o = outage
        print(f"{report['acked']} commits acknowledged ({', '.join(f'{n}: {c}' for n, c in sorted(by_node.items()))}), "
              f"{report['failed']} attempts failed" +
              (f"; longest write gap {o['seconds'] * 1000:.0f} ms ({o['last_node']} -> {o['first_node']})" if o else ""))
    else:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
