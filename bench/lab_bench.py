#!/usr/bin/python3
"""The benchmark a user cares about: write downtime through a failover, in the lab.

For N route tables (1, 3, 10) and each way of moving the VIP (pg_vip, or the
tutorial's repmgr hook calling the AWS CLI once per table: --mover hook), one
lab (scripts/lab.sh: repmgr with failover=automatic, a client committing one
row every 5 ms through the VIP) fails over --runs times, back and forth: the
primary dies (its PostgreSQL killed, or --how cut: its link cut), repmgrd
promotes the standby, the VIP moves; then the old primary is brought back as
a standby as the tutorial does (started, stopped, `repmgr node rejoin
--force-rewind`), it streams again, the client runs on, and the new primary
is failed in turn.

Each failover is measured from the failure (the moment scripts/lab.sh failover
reports the kill) and split, one phase after the other, into
  detection   -> repmgrd on the standby decides to promote (its log line
                 "... will now promote itself", timed as it is written: the
                 repmgr log has whole seconds only, so this script watches the
                 file);
  promotion   -> PostgreSQL on the new primary ends recovery ("archive
                 recovery complete", its millisecond log timestamp);
  vip_move    -> the ReplaceRoute of the client's route table (the first)
                 answered: the lab's AWS endpoint writes each request's line
                 to aws-requests.jsonl after it changed the router's kernel
                 route, just before it answers; this script watches the file;
  reconnect   -> the client's first commit acknowledged by the new primary.
The total is the client's write downtime (test/lab/report.py's outage: the
last commit acknowledged by the old primary to the first acknowledged by the
new one, so it also holds the few ms between that last commit and the
failure).

A second client, on the lab's internet, writes through the Elastic IP's
public address through the same failovers (scripts/lab.sh up --eip-client):
its downtime is the "by Elastic IP" row beside the VIP client's "by route".
Its move: from the end of recovery until the router's NAT sends the public
address to the new primary (test/lab/eip_router.py's record, written once
nftables has the new rule; it follows the endpoint's association a few ms
after the AssociateAddress is answered). pg_vip associates the address in
the promotion's round trip; the hook after its last ReplaceRoute.

A third client, in the VPC, connects by the Route 53 record's name
(primary.db.example.internal; scripts/lab.sh up --dns-client), which libpq
resolves at each connection with the system resolver, asking the lab's
caching resolver (test/lab/resolver.py): its downtime is the "by DNS (TTL
N s)" row, the TTL the lab's (LAB_DNS_TTL, 5 s). Its move: from the end of
recovery until the resolver first answered the new primary's address
(dns-queries.jsonl): the record's change (pg_vip's, in the promotion's
claim; the hook's UPSERT after the Elastic IP), then what is left of the
TTL of the answer the client was given when the old primary failed and it
reconnected (the resolver keeps it that long). vip_all is the time from the end of recovery until every route
table's ReplaceRoute was answered (the client in the N-th subnet waits for
that); lost: commits the old primary acknowledged that the new one lacks
(asynchronous replication).

Then, in the lab with the most route tables, --switchovers planned
switchovers (scripts/lab.sh switchover), the client's downtime each.

Writes results.csv (a row per run), results.md (per mover and N: downtime
p50/p95/max, the phases' p50, the VIP move's share of the downtime) and
timeline.png (gnuplot: the client's acknowledged commits per 10 ms through a
failover at the largest N, both movers; the run with the median downtime).
Runs as root (the lab makes network namespaces); every lab it makes is
removed when it ends, however it ends.
"""

import argparse
import csv
import datetime
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = f"{TOP}/scripts/lab.sh"
REPORT = f"{TOP}/test/lab/report.py"
NODES = ("node-a", "node-b")
ENI = {"node-a": "eni-0a00000a", "node-b": "eni-0b00000b"}
INSTANCE = {"node-a": "i-0a000001", "node-b": "i-0b000001"}
DNS_NAME = "primary.db.example.internal."
CLIENT_CSV = {"vip": "client.csv", "eip": "client-eip.csv", "dns": "client-dns.csv"}
HOST = {"node-a": "10.0.1.10", "node-b": "10.0.2.10"}
VIP = "10.0.99.10"
CLIENT_TABLE = "rtb-0a000001"  # the client's subnet uses the first route table
DECIDE = re.compile(r"will now promote itself|promote_command is")
PRIMARY_MONITORING = re.compile(r"monitoring cluster primary")
STANDBY_MONITORING = re.compile(r"switching to standby monitoring|restored as standby")
PG_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC ")
HELD = re.compile(r"pg_vip: VIP \S+ held on \d+ route tables?, (\d+) ms after this node became primary")
FIELDS = ["manager", "mover", "tables", "run", "failure", "from_node", "to_node", "total_ms", "detection_ms",
          "promotion_ms", "vip_move_ms", "reconnect_ms", "vip_all_ms", "lost_commits", "failed_attempts",
          "failure_after_last_ack_ms", "ready_ms", "mover_start_ms", "vip_request_ms", "client_table_answered_ms",
          "vip_after_ready_ms", "endpoint_per_table_ms", "pg_vip_held_ms",
          "eip_total_ms", "eip_move_ms", "eip_reconnect_ms", "eip_after_ready_ms", "eip_lost_commits",
          "eip_failed_attempts", "dns_total_ms", "dns_change_ms", "dns_move_ms", "dns_reconnect_ms",
          "dns_after_ready_ms", "dns_lost_commits", "dns_failed_attempts", "load1", "valid", "note"]

labs_up = []  # labs to remove, whatever ends this script


def other(node):
    return "node-b" if node == "node-a" else "node-a"


def now():
    return time.time()


def wait_until(fn, timeout, interval=0.1):
    end = now() + timeout
    while True:
        v = fn()
        if v:
            return v
        if now() >= end:
            return None
        time.sleep(interval)


class Tailer(threading.Thread):
    """Watches files as they grow and notes when each line appeared (Unix seconds).

    The lab's repmgr log has whole seconds and the endpoint's log the receive
    time only; the time a line is written is what tells when repmgrd decided
    and when a ReplaceRoute was done. Polls every few ms."""

    def __init__(self, paths, interval=0.003):
        super().__init__(daemon=True)
        self.paths = list(paths)
        self.interval = interval
        self.offsets = {p: 0 for p in self.paths}
        self.partial = {p: b"" for p in self.paths}
        self.lines = {p: [] for p in self.paths}
        self.lock = threading.Lock()
        self.stopping = False

    def poll(self):
        for p in self.paths:
            try:
                size = os.stat(p).st_size
            except OSError:
                continue
            if size <= self.offsets[p]:
                continue
            t = now()
            with open(p, "rb") as f:
                f.seek(self.offsets[p])
                data = f.read(size - self.offsets[p])
            self.offsets[p] += len(data)
            data = self.partial[p] + data
            parts = data.split(b"\n")
            self.partial[p] = parts.pop()
            if parts:
                with self.lock:
                    self.lines[p].extend((t, line.decode("utf-8", "replace")) for line in parts)

    def run(self):
        while not self.stopping:
            self.poll()
            time.sleep(self.interval)

    def since(self, path, t0):
        with self.lock:
            return [(t, line) for t, line in self.lines[path] if t >= t0]

    def stop(self):
        self.stopping = True
        self.join(2)


class RouteMonitor(threading.Thread):
    """`ip -ts monitor route` in the router's namespace: when the kernel's route for the VIP changed in
    each table (the moment the client's packets go elsewhere)."""

    LINE = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\] (Deleted )?(?:blackhole )?(\S+) (.*)$")

    def __init__(self, router):
        super().__init__(daemon=True)
        self.proc = subprocess.Popen(["ip", "-ts", "-n", router, "monitor", "route"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, TZ="UTC"))
        self.changes = []  # (Unix seconds, kernel table, next hop address, "blackhole" or "deleted")
        self.lock = threading.Lock()

    def run(self):
        for line in self.proc.stdout:
            line = line.strip()
            m = self.LINE.match(line)
            table = re.search(r" table (\d+)", line)
            if not m or m.group(3) not in (VIP, f"{VIP}/32") or not table:
                continue
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            via = re.search(r"via (\S+)", m.group(4))
            hop = "deleted" if m.group(2) else via.group(1) if via else "blackhole"
            with self.lock:
                self.changes.append((t, int(table.group(1)), hop))

    def moved(self, table, addr, t0):
        """When the kernel's route in `table` first went to addr at or after t0, or None."""
        with self.lock:
            return next((t for t, tb, hop in self.changes if t >= t0 and tb == table and hop == addr), None)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def pg_log_time(line):
    m = PG_STAMP.match(line)
    if not m:
        return None
    dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


class LabBroken(Exception):
    pass


class Lab:
    def __init__(self, parent, tables, mover, reconnect):
        self.tables = tables
        self.mover = mover
        self.dir = tempfile.mkdtemp(prefix=f"{mover}-N{tables}.", dir=parent)
        os.chmod(self.dir, 0o755)
        self.env = dict(os.environ, PG_VIP_LAB_DIR=self.dir, TZ="UTC")
        if reconnect[0] is not None:
            self.env["LAB_RECONNECT_ATTEMPTS"] = str(reconnect[0])
        if reconnect[1] is not None:
            self.env["LAB_RECONNECT_INTERVAL"] = str(reconnect[1])
        self.tailer = None
        self.monitor = None
        self.router = None

    def sh(self, *args, timeout=300, check=True):
        try:
            p = subprocess.run(["bash", LAB, *args], env=self.env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LabBroken(f"scripts/lab.sh {' '.join(args)}: no answer after {timeout} s")
        if check and p.returncode != 0:
            raise LabBroken(f"scripts/lab.sh {' '.join(args)} failed ({p.returncode}):\n{p.stdout[-3000:]}")
        return p

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def up(self):
        labs_up.append(self)
        self.sh("up", "--manager", "repmgr", "--tables", str(self.tables), "--mover", self.mover, "--eip-client",
                "--dns-client",
                timeout=300)
        env = dict(line.split("=", 1) for line in self.sh("env").stdout.split("\n") if "=" in line)
        self.router = f"pgvip-{env['LAB_ID']}-router"
        self.dns_ttl = env.get("LAB_DNS_TTL", "")
        self.tailer = Tailer([self.path(n, "repmgrd.log") for n in NODES] +
                             [self.path("aws-requests.jsonl"), self.path("client.csv"),
                              self.path("client-eip.csv"), self.path("eip-router.jsonl"),
                              self.path("client-dns.csv"), self.path("dns-queries.jsonl")])
        self.tailer.start()
        self.monitor = RouteMonitor(self.router)
        self.monitor.start()

    def down(self):
        if self.tailer:
            self.tailer.stop()
        if self.monitor:
            self.monitor.stop()
        subprocess.run(["bash", LAB, "down"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)
        if self in labs_up:
            labs_up.remove(self)

    def keep_logs(self):
        """The logs of a lab that broke, kept (outside the lab's directory) to tell why."""
        dest = tempfile.mkdtemp(prefix=f"pg_vip_lab_bench_broken.{self.mover}-N{self.tables}.", dir="/tmp")
        for rel in ("aws-requests.jsonl", "aws.log", "client.log", "switchover.log", *(
                f"{n}/{f}" for n in NODES for f in ("postgresql.log", "repmgrd.log", "repmgrd.out", "hook.log"))):
            if os.path.exists(self.path(rel)):
                os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
                shutil.copy(self.path(rel), os.path.join(dest, rel))
        return dest

    def sql(self, node, query):
        p = self.sh("sql", node, query, check=False, timeout=30)
        return p.stdout.strip() if p.returncode == 0 else None

    def primary(self):
        return self.sh("primary", timeout=60).stdout.strip()

    def kernel_holders(self):
        """Route table number (1..N) -> the node the router's kernel sends the VIP to."""
        p = subprocess.run(["ip", "-n", self.router, "-o", "route", "show", "table", "all", f"{VIP}/32"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        holders = {}
        for line in p.stdout.split("\n"):
            m = re.search(r"table (\d+)", line)
            if not m or not 101 <= int(m.group(1)) <= 100 + self.tables:
                continue
            holder = next((n for n in NODES if f"via {HOST[n]} " in line + " "), None)
            holders[int(m.group(1)) - 100] = holder
        return holders

    def all_tables_at(self, node):
        h = self.kernel_holders()
        return len(h) == self.tables and all(v == node for v in h.values())

    def eip_nat(self, node, t0):
        """When the router's NAT first sent the Elastic IP to node at or after t0 (eip_router.py's record)."""
        for _, line in self.tailer.since(self.path("eip-router.jsonl"), t0 - 5):
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("node") == node and e.get("t", 0) >= t0:
                return e["t"]
        return None

    def dns_answer(self, node, t0):
        """When the lab's resolver first answered the record with node's address at or after t0."""
        for _, line in self.tailer.since(self.path("dns-queries.jsonl"), t0 - 5):
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if (e.get("t", 0) >= t0 and e.get("name") == DNS_NAME and e.get("type") == "A"
                    and e.get("answers") == [HOST[node]]):
                return e["t"]
        return None

    def dns_change(self, node, t0):
        """When the endpoint answered node's first ChangeResourceRecordSets at or after t0 (its log line)."""
        for t, line in self.tailer.since(self.path("aws-requests.jsonl"), t0):
            if "ChangeResourceRecordSets" not in line:
                continue
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if (e.get("action") == "ChangeResourceRecordSets" and e.get("caller") == INSTANCE[node]
                    and e.get("status") == 200 and e.get("t", 0) >= t0):
                return t
        return None

    def acks(self, since, node=None, via="vip"):
        """A client's acknowledged commits answered at or after `since`: [(done, node)]."""
        out = []
        csv_file = CLIENT_CSV[via]
        for _, line in self.tailer.since(self.path(csv_file), since - 5):
            parts = line.split(",")
            if len(parts) != 6 or parts[3] != "1":
                continue
            done = float(parts[2])
            if done >= since and (node is None or parts[4] == node):
                out.append((done, parts[4]))
        return out

    def log_line_after(self, node, pattern, t0):
        for t, line in self.tailer.since(self.path(node, "repmgrd.log"), t0):
            if pattern.search(line):
                return t
        return None

    def pg_log_after(self, node, needle, t0):
        """(timestamp, line) of the first line of node's PostgreSQL log at or after t0 containing needle."""
        try:
            with open(self.path(node, "postgresql.log"), errors="replace") as f:
                for line in f:
                    if needle in line:
                        t = pg_log_time(line)
                        if t is not None and t >= t0 - 0.0005:
                            return t, line
        except OSError:
            pass
        return None, None

    def routes_answered(self, node, t0):
        """Route table -> (answered, received) of its first ReplaceRoute to node's ENI received after t0."""
        done = {}
        for t, line in self.tailer.since(self.path("aws-requests.jsonl"), t0):
            try:
                e = json.loads(line)
            except ValueError:
                continue
            p = e.get("params", {})
            if (e.get("action") == "ReplaceRoute" and e.get("status") == 200 and e.get("t", 0) >= t0
                    and p.get("NetworkInterfaceId") == ENI[node]):
                done.setdefault(p.get("RouteTableId"), (t, e["t"]))
        return done

    def hook_event_after(self, node, t0):
        """When the hook started on node (its log's first line at or after t0), or None."""
        try:
            with open(self.path(node, "hook.log"), errors="replace") as f:
                for line in f:
                    try:
                        t = float(line.split(" ", 1)[0])
                    except ValueError:
                        continue
                    if t >= t0 and " event " in line:
                        return t
        except OSError:
            pass
        return None

    def report(self, since, check_node=None, via="vip"):
        args = ["client", "--via", via, "report", "--since", f"{since:.6f}", "--json"]
        if check_node:
            args += ["--check", check_node]
        return json.loads(self.sh(*args, timeout=60).stdout)

    def streaming(self, primary, standby):
        return self.sql(primary, "SELECT state FROM pg_stat_replication "
                                 f"WHERE application_name = '{standby}'") == "streaming"

    def wait_standby_ready(self, primary, standby, since):
        """The standby streams from the primary, repmgrd on it monitors as a standby, and (pg_vip) its
        worker says standby."""
        if not wait_until(lambda: self.streaming(primary, standby), 90, 0.2):
            raise LabBroken(f"{standby} does not stream from {primary}")
        if since is not None and not wait_until(
                lambda: self.log_line_after(standby, STANDBY_MONITORING, since), 90, 0.1):
            raise LabBroken(f"repmgrd on {standby} does not monitor it as a standby")
        if self.mover == "pg_vip" and not wait_until(
                lambda: self.sql(standby, "SELECT state FROM vip_status()") == "standby", 60, 0.2):
            raise LabBroken(f"pg_vip on {standby} does not say standby")

    def bring_back(self, old, new, how):
        """The tutorial's way back for the failed primary: a standby of the new one."""
        t = now()
        # The new primary's end-of-recovery checkpoint first: until it is done, its control file still
        # names the old timeline, pg_rewind (in node rejoin) finds nothing to rewind, and the old primary,
        # started as a standby, waits forever for WAL ("new timeline 2 forked off current database
        # system timeline 1 before current recovery point").
        if self.sql(new, "CHECKPOINT") is None:
            raise LabBroken(f"CHECKPOINT on {new} failed")
        if how == "kill":
            self.sh("start", old, timeout=120)  # a stale primary (fenced by pg_vip)
        else:
            self.sh("heal", old, timeout=60)  # still running as a stale primary
        self.sh("stop", old, timeout=120)
        self.sh("rejoin", old, timeout=300)
        self.wait_standby_ready(new, old, t)


def parse_failed_at(text, t_call):
    """The time scripts/lab.sh failover reports the failure (`date +%T.%3N`, run with TZ=UTC)."""
    m = re.search(r"failed \((\w+)\) at (\d\d):(\d\d):(\d\d\.\d{3})", text)
    if not m:
        return None
    base = datetime.datetime.fromtimestamp(t_call, datetime.timezone.utc)
    best = None
    for days in (-1, 0, 1):
        d = (base + datetime.timedelta(days=days)).replace(hour=int(m.group(2)), minute=int(m.group(3)),
                                                           second=0, microsecond=0)
        t = d.timestamp() + float(m.group(4))
        if best is None or abs(t - t_call) < abs(best - t_call):
            best = t
    return best


def failover_run(lab, run, how):
    """One failover of the current primary; returns the CSV row and whether the lab is broken."""
    old = lab.primary()
    if old not in NODES:
        raise LabBroken(f"no primary before run {run}")
    new = other(old)
    row = {"manager": "repmgr", "mover": lab.mover, "tables": lab.tables, "run": run, "failure": how,
           "from_node": old, "to_node": new, "load1": f"{os.getloadavg()[0]:.2f}", "valid": 0, "note": ""}
    run_start = now()
    time.sleep(1.2)  # the client commits on the old primary for over a second
    if any(len(lab.acks(run_start, old, via=via)) < 50 for via in CLIENT_CSV):
        raise LabBroken(f"run {run}: the clients do not commit on {old}")
    t_call = now()
    p = lab.sh("failover", "--how", how, timeout=200, check=False)
    t0 = parse_failed_at(p.stdout, t_call)
    if p.returncode != 0 or t0 is None:
        row["note"] = "no failover: " + " ".join(p.stdout.split())[-300:]
        return row, True
    row["_t0"] = t0
    # Every route table at the new primary; the client on the new primary for a moment.
    if not wait_until(lambda: lab.all_tables_at(new), 180, 0.1):
        row["note"] = f"not all {lab.tables} route tables moved to {new}"
        return row, True
    if not wait_until(lambda: len(lab.acks(t0, new)) >= 40, 60, 0.05):
        row["note"] = f"the client does not commit on {new}"
        return row, True
    if not wait_until(lambda: lab.eip_nat(new, t0), 60, 0.1):
        row["note"] = f"the Elastic IP did not move to {new}"
        return row, True
    if not wait_until(lambda: len(lab.acks(t0, new, via="eip")) >= 40, 60, 0.05):
        row["note"] = f"the client outside the VPC does not commit on {new}"
        return row, True
    if not wait_until(lambda: len(lab.acks(t0, new, via="dns")) >= 40, 90, 0.05):
        row["note"] = f"the client by name does not commit on {new}"
        return row, True
    rep = lab.report(run_start, check_node=new)
    rep_eip = lab.report(run_start, check_node=new, via="eip")
    oe = rep_eip.get("outage") or {}
    rep_dns = lab.report(run_start, check_node=new, via="dns")
    od = rep_dns.get("outage") or {}
    answered_new = lab.dns_answer(new, t0)
    changed = lab.dns_change(new, t0)
    nat = lab.eip_nat(new, t0)
    o = rep.get("outage") or {}
    decide = lab.log_line_after(new, DECIDE, t0)
    promoted, _ = lab.pg_log_after(new, "archive recovery complete", t0)
    ready, _ = lab.pg_log_after(new, "database system is ready to accept connections", t0)
    routes = lab.routes_answered(new, t0)
    answered1, received1 = routes.get(CLIENT_TABLE, (None, None))
    route1 = lab.monitor.moved(101, HOST[new], t0)  # the client's packets go to the new primary
    route_all = max(a for a, _ in routes.values()) if len(routes) == lab.tables else None
    first_ack, last_ack = o.get("first_ack"), o.get("last_ack")
    if lab.mover == "pg_vip":
        mover_start, _ = lab.pg_log_after(new, "pg_vip: this node was promoted", t0)
    else:
        mover_start = lab.hook_event_after(new, t0)
    ms = lambda a, b: round((b - a) * 1000, 1) if a is not None and b is not None else ""  # noqa: E731
    row.update({"total_ms": ms(last_ack, first_ack), "detection_ms": ms(t0, decide),
                "promotion_ms": ms(decide, promoted), "vip_move_ms": ms(promoted, route1),
                "reconnect_ms": ms(route1, first_ack), "vip_all_ms": ms(promoted, route_all),
                "lost_commits": rep.get("lost_by_node", {}).get(old, 0),
                "failed_attempts": o.get("failed_attempts", ""), "ready_ms": ms(promoted, ready),
                "mover_start_ms": ms(promoted, mover_start), "vip_request_ms": ms(promoted, received1),
                "client_table_answered_ms": ms(promoted, answered1),
                # how long the client's packets still went to the old primary once PostgreSQL was ready
                "vip_after_ready_ms": max(0.0, ms(ready, route1)) if ready and route1 else "",
                # the endpoint's time per table, first request received to last answered, over N
                "endpoint_per_table_ms": round((max(a for a, _ in routes.values()) - min(r for _, r in routes.values()))
                                               * 1000 / len(routes), 1) if routes else "",
                "failure_after_last_ack_ms": ms(last_ack, t0)})
    row.update({"eip_total_ms": ms(oe.get("last_ack"), oe.get("first_ack")), "eip_move_ms": ms(promoted, nat),
                "eip_reconnect_ms": ms(nat, oe.get("first_ack")),
                "eip_after_ready_ms": max(0.0, ms(ready, nat)) if ready and nat else "",
                "eip_lost_commits": rep_eip.get("lost_by_node", {}).get(old, 0),
                "eip_failed_attempts": oe.get("failed_attempts", "")})
    row.update({"dns_total_ms": ms(od.get("last_ack"), od.get("first_ack")), "dns_change_ms": ms(promoted, changed),
                "dns_move_ms": ms(promoted, answered_new), "dns_reconnect_ms": ms(answered_new, od.get("first_ack")),
                "dns_after_ready_ms": max(0.0, ms(ready, answered_new)) if ready and answered_new else "",
                "dns_lost_commits": rep_dns.get("lost_by_node", {}).get(old, 0),
                "dns_failed_attempts": od.get("failed_attempts", "")})
    if lab.mover == "pg_vip":
        _, held = lab.pg_log_after(new, "pg_vip: VIP", t0)
        m = HELD.search(held or "")
        row["pg_vip_held_ms"] = m.group(1) if m else ""
    notes = []
    if o.get("last_node") != old or o.get("first_node") != new:
        notes.append(f"the longest write gap runs {o.get('last_node')} -> {o.get('first_node')}")
    if oe.get("last_node") != old or oe.get("first_node") != new:
        notes.append(f"the longest write gap by Elastic IP runs {oe.get('last_node')} -> {oe.get('first_node')}")
    if od.get("last_node") != old or od.get("first_node") != new:
        notes.append(f"the longest write gap by DNS runs {od.get('last_node')} -> {od.get('first_node')}")
    missing = [k for k in ("total_ms", "detection_ms", "promotion_ms", "vip_move_ms", "reconnect_ms", "vip_all_ms",
                           "eip_total_ms", "eip_move_ms", "eip_reconnect_ms", "dns_total_ms", "dns_move_ms",
                           "dns_reconnect_ms") if row[k] == ""]
    if missing:
        notes.append("not found: " + ", ".join(missing))
    row["note"] = "; ".join(notes)
    row["valid"] = 0 if notes else 1
    rel = lambda t: round((t - t0) * 1000, 1) if t is not None else None  # noqa: E731
    row["_marks"] = {"decided": rel(decide), "promoted": rel(promoted), "VIP moved": rel(route1),
                     "first commit": rel(first_ack), "EIP moved": rel(nat),
                     "DNS answered": rel(answered_new)}
    return row, False


def timeline_of(lab, row, window):
    """The client's acknowledged commits around the failure, in ms from it (waits until the window is over)."""
    t0 = row["_t0"]
    lo, hi = t0 + window[0], t0 + window[1]
    time.sleep(max(0.0, hi - now() + 0.1))
    return {"run": row["run"], "total_ms": row["total_ms"], "marks": row["_marks"],
            "acks": [round((d - t0) * 1000, 2) for d, _ in lab.acks(lo) if d < hi]}


def after_failover(lab, row, how):
    """repmgrd on the new primary back at its post (the hook holds it until it is done), then the old
    primary back as a standby."""
    old, new = row["from_node"], row["to_node"]
    if not wait_until(lambda: lab.log_line_after(new, PRIMARY_MONITORING, row["_t0"]), 120, 0.1):
        raise LabBroken(f"repmgrd on {new} does not monitor it as the primary")
    lab.bring_back(old, new, how)


def switchover_run(lab, run):
    old = lab.primary()
    new = other(old)
    row = {"mover": lab.mover, "tables": lab.tables, "run": run, "from_node": old, "to_node": new,
           "load1": f"{os.getloadavg()[0]:.2f}"}
    start = now()
    time.sleep(1.2)
    t1 = now()
    p = lab.sh("switchover", timeout=300, check=False)
    t2 = now()
    if p.returncode != 0:
        # `repmgr standby switchover --log-to-file` says why in the repmgrd log
        why = [line.split("] ", 2)[-1] for _, line in lab.tailer.since(lab.path(new, "repmgrd.log"), t1)
               if re.search(r"\[(ERROR|DETAIL|HINT)\]", line)]
        row["error"] = " ".join((" / ".join(why[-4:]) or p.stdout).split())[-400:]
        return row
    wait_until(lambda: len(lab.acks(t1, new)) >= 40, 60, 0.05)
    rep = lab.report(start, check_node=new)
    o = rep.get("outage") or {}
    row.update({"total_ms": round(o.get("seconds", 0) * 1000, 1), "command_s": round(t2 - t1, 2),
                "gap": f"{o.get('last_node')} -> {o.get('first_node')}",
                "lost_commits": rep.get("lost_by_node", {}).get(old, 0)})
    lab.wait_standby_ready(new, old, None)
    return row


def pct(values, p):
    """Nearest-rank percentile (with 5 runs, p95 is the maximum)."""
    v = sorted(values)
    if not v:
        return None
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def fmt(v, digits=0):
    return "-" if v is None or v == "" else f"{v:.{digits}f}"


def write_results(out, rows, switchovers, meta, timelines):
    with open(f"{out}/results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    lines = ["# pg_vip in the lab: write downtime through a failover", "",
             f"Machine: {meta['cores']} cores ({meta['load_note']}), Linux {os.uname().release}; "
             f"the run took {meta['wall_s']:.0f} s (`{meta['command']}`).",
             f"repmgr (failover=automatic, monitor_interval_secs=1, reconnect_attempts={meta['attempts']}, "
             f"reconnect_interval={meta['interval']}); failure: the primary's PostgreSQL {meta['how_text']}; "
             "a client commits one row every 5 ms through the VIP, and another from outside the VPC through "
             "the Elastic IP. "
             "The hook: the tutorial's repmgr event hook (test/lab/repmgr-hook.sh), Debian's AWS CLI once "
             "per route table, one after the other, then `aws ec2 associate-address` for the Elastic IP. "
             "All times in ms; p95 is nearest-rank (with 5 runs: the maximum).", "",
             "| mover | N | runs | downtime p50 / p95 / max | detection p50 | promotion p50 | VIP move p50 "
             "(client's table) | reconnect p50 | **VIP share of the downtime, p50** | all N tables answered p50 "
             "(share) | lost commits |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for mover in ("pg_vip", "hook"):
        for n in sorted({r["tables"] for r in rows}):
            rs = [r for r in rows if r["mover"] == mover and r["tables"] == n]
            if not rs:
                continue
            ok = [r for r in rs if r["valid"]]
            col = lambda k: [r[k] for r in ok if r[k] != ""]  # noqa: E731
            share = [r["vip_move_ms"] / r["total_ms"] * 100 for r in ok if r["total_ms"]]
            share_all = [r["vip_all_ms"] / r["total_ms"] * 100 for r in ok if r["total_ms"]]
            lost = sum(r["lost_commits"] for r in ok if r["lost_commits"] != "")
            lines.append(
                f"| {mover} | {n} | {len(ok)}{'' if len(ok) == len(rs) else f' of {len(rs)}'} | "
                f"{fmt(pct(col('total_ms'), 50))} / {fmt(pct(col('total_ms'), 95))} / {fmt(pct(col('total_ms'), 100))} | "
                f"{fmt(pct(col('detection_ms'), 50))} | {fmt(pct(col('promotion_ms'), 50))} | "
                f"{fmt(pct(col('vip_move_ms'), 50), 1)} | {fmt(pct(col('reconnect_ms'), 50), 1)} | "
                f"**{fmt(pct(share, 50), 2)} %** | {fmt(pct(col('vip_all_ms'), 50), 1)} "
                f"({fmt(pct(share_all, 50), 1)} %) | {lost} |")
    lines += ["",
              "Phases, one after the other from the failure: detection (until repmgrd on the standby logs that "
              "it will promote itself), promotion (until PostgreSQL logs \"archive recovery complete\"), VIP move "
              "(until the router sends the client's packets to the new primary: the lab's endpoint changes the "
              "router's kernel route of the first route table, the one the client's subnet uses, as it carries "
              "out that table's ReplaceRoute; seen with `ip monitor route`), reconnect (until the client's first "
              "commit acknowledged by the new primary). The downtime runs from the client's last commit "
              "acknowledged by the old primary to its first by the new one (test/lab/report.py). VIP share = "
              "VIP move / downtime. \"All N tables answered\": from the end of recovery until the endpoint "
              "answered the last route table's ReplaceRoute (it writes its log line, then answers), about what a "
              "client in the last table's subnet waits for; its share is of the same downtime. Lost: commits the "
              "old primary acknowledged that the new one lacks (asynchronous replication), summed over the runs.",
              ""]
    lines += ["Where the VIP move's time goes (p50, ms from the end of recovery, \"archive recovery complete\"): "
              "the mover starts (pg_vip: its \"this node was promoted\" log line; the hook: repmgr runs it, its "
              "first hook.log line); the endpoint receives the client's table's ReplaceRoute (its \"t\"); the "
              "router's kernel route changes; the endpoint answers (it writes its log line, then answers; with "
              "concurrent requests its lock can hold an answer back); every table answered. PostgreSQL's own "
              "\"ready to accept connections\" for comparison. Last: per table, the first request received to the last "
              "answered, over N: for pg_vip, which sends the N requests at once, that is the lab's endpoint, which "
              "carries them out one at a time (a Python server: botocore's signature check and the answer under one "
              "lock; the kernel route itself is one netlink message); for the "
              "hook, one AWS CLI run per table. \"VIP after ready\": how long after PostgreSQL was ready the client's "
              "packets still went to the old primary (0: the route had moved before), the part of the downtime "
              "that waits for the VIP alone.", "",
              "| mover | N | mover starts | client's table: request received | kernel route | answered | all N "
              "tables answered | PostgreSQL ready | per table | VIP after ready |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for mover in ("pg_vip", "hook"):
        for n in sorted({r["tables"] for r in rows}):
            ok = [r for r in rows if r["mover"] == mover and r["tables"] == n and r["valid"]]
            if not ok:
                continue
            p50 = lambda k: fmt(pct([r[k] for r in ok if r.get(k, "") != ""], 50), 1)  # noqa: E731
            lines.append(f"| {mover} | {n} | {p50('mover_start_ms')} | {p50('vip_request_ms')} | "
                         f"{p50('vip_move_ms')} | {p50('client_table_answered_ms')} | {p50('vip_all_ms')} | "
                         f"{p50('ready_ms')} | {p50('endpoint_per_table_ms')} | {p50('vip_after_ready_ms')} |")
    lines.append("")
    lines += ["Client downtime by the way it reaches the primary, through the same failovers: \"by route\" is the "
              "client in the VPC writing through the VIP (the table above); \"by Elastic IP\" a client outside "
              "the VPC (the lab's internet) writing through the Elastic IP's public address, which the router "
              "NATs to the associated node. Move: from the end of recovery until the router's kernel sends that "
              "client's packets to the new primary (the route of the client's table; the Elastic IP's NAT, "
              "eip_router.py's record); \"by DNS\" a client in the VPC connecting by the Route 53 record's name "
              f"(TTL {meta.get('dns_ttl', '?')} s), resolved by libpq with the system resolver through the lab's "
              "caching resolver: its move runs until the resolver first answered the new primary's address, "
              "and \"record changed\" until the endpoint answered the new primary's ChangeResourceRecordSets. "
              "After ready: how long after PostgreSQL was ready they still went to the old primary.", "",
              "| way | mover | N | runs | downtime p50 / p95 / max | record changed p50 | move p50 | reconnect p50 | "
              "after ready p50 | lost commits |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    ways = (("by route", "total_ms", None, "vip_move_ms", "reconnect_ms", "vip_after_ready_ms", "lost_commits"),
            ("by Elastic IP", "eip_total_ms", None, "eip_move_ms", "eip_reconnect_ms", "eip_after_ready_ms",
             "eip_lost_commits"),
            (f"by DNS (TTL {meta.get('dns_ttl', '?')} s)", "dns_total_ms", "dns_change_ms", "dns_move_ms",
             "dns_reconnect_ms", "dns_after_ready_ms", "dns_lost_commits"))
    for mover in ("pg_vip", "hook"):
        for n in sorted({r["tables"] for r in rows}):
            ok = [r for r in rows if r["mover"] == mover and r["tables"] == n and r["valid"]]
            if not ok:
                continue
            for way, total, change, move, reconnect, after, lost in ways:
                col = lambda k: [r[k] for r in ok if r.get(k, "") != ""]  # noqa: E731
                changed = fmt(pct(col(change), 50), 1) if change else "-"
                lines.append(f"| {way} | {mover} | {n} | {len(col(total))} | {fmt(pct(col(total), 50))} / "
                             f"{fmt(pct(col(total), 95))} / {fmt(pct(col(total), 100))} | {changed} | "
                             f"{fmt(pct(col(move), 50), 1)} | {fmt(pct(col(reconnect), 50), 1)} | "
                             f"{fmt(pct(col(after), 50), 1)} | {sum(col(lost))} |")
    lines.append("")
    bad = [r for r in rows if not r["valid"]]
    if bad:
        lines += ["Runs left out of the table: " + "; ".join(
            f"{r['mover']} N={r['tables']} run {r['run']}: {r['note']}" for r in bad), ""]
    lines += ["## Planned switchover (scripts/lab.sh switchover)", ""]
    if switchovers.get("skipped"):
        lines += [f"Not yet: {switchovers['skipped']}", ""]
    else:
        lines += ["| mover | N | runs | downtime p50 / max | `repmgr standby switchover` wall time p50 (s) | lost |",
                  "|---|---|---|---|---|---|"]
        for mover in ("pg_vip", "hook"):
            rs = [r for r in switchovers.get("rows", []) if r["mover"] == mover]
            if not rs:
                continue
            ok = [r for r in rs if "error" in r or r.get("total_ms") is not None]
            good = [r for r in ok if "error" not in r]
            if not good:
                lines.append(f"| {mover} | {rs[0]['tables']} | 0 | not yet: {rs[0].get('error', '')[:300]} | | |")
                continue
            d = [r["total_ms"] for r in good]
            lines.append(f"| {mover} | {rs[0]['tables']} | {len(good)} | {fmt(pct(d, 50))} / {fmt(max(d))} | "
                         f"{fmt(pct([r['command_s'] for r in good], 50), 1)} | "
                         f"{sum(r['lost_commits'] for r in good)} |")
        lines.append("")
    if timelines:
        lines += ["## Through one failover, N = %d" % meta["timeline_n"], "",
                  "The client's commits acknowledged per 10 ms, from the failure (the run with the median "
                  "downtime of each mover): " + ", ".join(f"{m}: run {t['run']}, {t['total_ms']:.0f} ms downtime"
                                                          for m, t in timelines.items()) + ".", "",
                  "![commits per 10 ms through a failover](timeline.png)", ""]
    with open(f"{out}/results.md", "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


def plot(out, timelines, n, window):
    if not timelines:
        return
    lo, hi = int(window[0] * 1000), int(window[1] * 1000)
    movers = list(timelines)
    bins = {}
    for mover, tl in timelines.items():
        counts = [0] * ((hi - lo) // 10)
        for x in tl["acks"]:
            i = int((x - lo) // 10)
            if 0 <= i < len(counts):
                counts[i] += 1
        bins[mover] = counts
    with open(f"{out}/timeline.dat", "w") as f:
        f.write("# the client's acknowledged commits per 10 ms, from the failure (bin start, ms): "
                + ", ".join(f"{m} (run {timelines[m]['run']})" for m in movers) + "\n")
        f.write("# ms " + " ".join(movers) + "\n")
        for i in range((hi - lo) // 10):
            f.write(f"{lo + i * 10} " + " ".join(str(bins[m][i]) for m in movers) + "\n")
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("gnuplot not found: no plot")
        return
    end = min(hi, max(t["total_ms"] for t in timelines.values()) + 1500)
    colors = {"pg_vip": "#1f77b4", "hook": "#d62728"}
    arrows, series = [], []
    for i, m in enumerate(movers):
        c = colors.get(m, "black")
        series.append(f"'{out}/timeline.dat' using 1:($" + str(i + 2) + f" + {0.06 * i}) with steps lw 1.2 "
                      f"lc rgb '{c}' title '{m}: {timelines[m]['total_ms']:.0f} ms without a commit'")
        for k, (label, x) in enumerate(sorted(((lb, x) for lb, x in timelines[m]["marks"].items() if x is not None),
                                              key=lambda e: e[1])):
            y = 3.85 - 0.22 * k - (0.0 if i == 0 else 1.0)
            arrows.append(f"set arrow from {x}, graph 0 to {x}, first {y - 0.05} nohead dt 3 lc rgb '{c}'")
            arrows.append(f"set label '{m}: {label} {x:.0f}' at {x}, first {y} left offset 0.3,0 "
                          f"textcolor rgb '{c}' font ',8'")
    script = (f"set terminal pngcairo size 1100,560 noenhanced\nset output '{out}/timeline.png'\n"
              f"set title 'The client through one failover: repmgr, primary killed at 0 ms, N = {n} route tables "
              "(the run with the median downtime)'\n"
              "set xlabel 'ms from the failure'\nset ylabel 'commits acknowledged per 10 ms'\nset grid\n"
              "set key at graph 0.99, graph 0.30 box opaque\n"
              f"set xrange [{lo}:{end}]\nset yrange [0:4]\nset ytics 0,1,3\n"
              "set arrow from 0, graph 0 to 0, graph 1 nohead lw 1.5 lc rgb 'black'\n"
              + "\n".join(arrows) + "\nplot " + ", ".join(series) + "\n")
    subprocess.run([gnuplot], input=script, text=True, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=f"{TOP}/bench-results/lab")
    ap.add_argument("--runs", type=int, default=5, help="failovers per mover and N")
    ap.add_argument("--tables", default="1,3,10", help="the numbers of route tables N, comma-separated")
    ap.add_argument("--movers", default="pg_vip,hook")
    ap.add_argument("--how", default="kill", choices=("kill", "cut"))
    ap.add_argument("--switchovers", type=int, default=3, help="planned switchovers per mover, at the largest N")
    ap.add_argument("--reconnect-attempts", type=int, help="repmgr's reconnect_attempts (lab default 2)")
    ap.add_argument("--reconnect-interval", type=int, help="repmgr's reconnect_interval (lab default 1)")
    ap.add_argument("--workdir", default="/tmp", help="where the labs' directories go")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("lab_bench.py runs as root (the lab makes network namespaces)")
    tables = [int(x) for x in args.tables.split(",")]
    movers = args.movers.split(",")
    os.makedirs(args.out, exist_ok=True)
    parent = tempfile.mkdtemp(prefix="pg_vip_lab_bench.", dir=args.workdir)
    os.chmod(parent, 0o755)
    started = now()
    loads = [os.getloadavg()[0]]
    rows, switchovers, tl_runs = [], {"rows": []}, {}
    window = (-0.5, 10.0)
    reconnect = (args.reconnect_attempts, args.reconnect_interval)
    try:
        for n in tables:
            for mover in movers:
                lab = Lab(parent, n, mover, reconnect)
                print(f"== {mover}, N = {n}: lab up", flush=True)
                try:
                    lab.up()
                    first = lab.primary()
                    lab.wait_standby_ready(first, other(first), None)
                    for run in range(1, args.runs + 1):
                        row, broken = failover_run(lab, run, args.how)
                        rows.append(row)
                        loads.append(os.getloadavg()[0])
                        print(f"   run {run}: {row['from_node']} -> {row['to_node']}: downtime "
                              f"{row.get('total_ms', '-')} ms (detection {row.get('detection_ms', '-')}, promotion "
                              f"{row.get('promotion_ms', '-')}, VIP {row.get('vip_move_ms', '-')}, reconnect "
                              f"{row.get('reconnect_ms', '-')}; all tables {row.get('vip_all_ms', '-')}) lost "
                              f"{row.get('lost_commits', '-')}; by Elastic IP {row.get('eip_total_ms', '-')} ms (move "
                              f"{row.get('eip_move_ms', '-')}); by DNS {row.get('dns_total_ms', '-')} ms (record "
                              f"{row.get('dns_change_ms', '-')}, answered {row.get('dns_move_ms', '-')}) "
                              f"{row['note']}", flush=True)
                        if broken:
                            break
                        if run < args.runs or (n == max(tables) and args.switchovers > 0):
                            after_failover(lab, row, args.how)
                        if n == max(tables) and row["valid"]:
                            tl_runs.setdefault(mover, []).append(timeline_of(lab, row, window))
                    if n == max(tables) and args.switchovers > 0 and not switchovers.get("skipped"):
                        for k in range(1, args.switchovers + 1):
                            s = switchover_run(lab, k)
                            switchovers["rows"].append(s)
                            print(f"   switchover {k}: {s.get('total_ms', '-')} ms {s.get('error', '')[:300]}",
                                  flush=True)
                            if "error" in s:
                                if not os.path.exists(f"{TOP}/test/lab/ssh.sh"):
                                    switchovers["skipped"] = ("scripts/lab.sh switchover does not work yet "
                                                              "(test/lab/ssh.sh, the nodes' sshd, is not there): "
                                                              + s["error"][-200:])
                                break
                except LabBroken as e:
                    kept = lab.keep_logs()
                    print(f"   the lab broke: {e}\n   its logs: {kept}", flush=True)
                    rows.append({"manager": "repmgr", "mover": mover, "tables": n, "run": "-",
                                 "failure": args.how, "valid": 0, "note": f"lab broke: {str(e)[:300]}"})
                finally:
                    lab.down()
    finally:
        for lab in list(labs_up):
            lab.down()
        shutil.rmtree(parent, ignore_errors=True)
    for r in rows:
        for k in FIELDS:
            r.setdefault(k, "")
    timelines = {}
    for mover, runs in tl_runs.items():
        runs = sorted((r for r in runs if r["total_ms"] != ""), key=lambda r: r["total_ms"])
        if runs:
            timelines[mover] = runs[(len(runs) - 1) // 2]
    wall = now() - started
    meta = {"cores": os.cpu_count(), "wall_s": wall, "timeline_n": max(tables),
            "dns_ttl": os.environ.get("LAB_DNS_TTL", "5"),
            "load_note": f"1-min load average {min(loads):.1f} to {max(loads):.1f} during the run, shared with "
                         "other work",
            "command": " ".join(["scripts/bench.sh lab", " ".join(sys.argv[1:]).replace(
                f"--out {args.out}", "").strip()]).strip(),
            "attempts": args.reconnect_attempts or os.environ.get("LAB_RECONNECT_ATTEMPTS", 2),
            "interval": args.reconnect_interval or os.environ.get("LAB_RECONNECT_INTERVAL", 1),
            "how_text": "killed (SIGKILL to the postmaster and its children)" if args.how == "kill"
            else "node's link cut"}
    write_results(args.out, rows, switchovers, meta, timelines)
    plot(args.out, timelines, max(tables), window)
    print(f"\nwritten: {args.out}/results.md, results.csv, timeline.png ({wall:.0f} s)")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *a: sys.exit(130))
    main()
