#!/usr/bin/python3
"""The lab's application: writes through the VIP, as a service would.

Connects to the VIP (or, from the lab's internet, to the Elastic IP's
public address; or by the Route 53 record's name, which libpq resolves
anew at each connection with the system resolver), commits one row every --interval-ms (each INSERT its own
transaction) and records every attempt, one CSV line each, flushed at once:
  seq,sent,done,ok,node,error
sent/done: Unix seconds (float) when the attempt started and when its answer
(or its failure) came; ok: 1 when the commit was acknowledged; node: the
lab.node_name of the server that acknowledged it (a manager may
set cluster_name itself); error: the failure's class.
After any failure it drops the connection and connects anew (a pool or an
application does the same), with a short connect timeout and a TCP user
timeout, so a vanished server costs at most about a second, not minutes.
The rows: lab_writes(seq, sent, node) (--table: another such table, one
per client), created by the lab on the primary; seq is their key, so a client started again goes on after the last seq of
the record it appends to, never from 1 (every write would be refused).
Stops on SIGTERM or SIGINT, after the attempt in flight.
"""
import argparse
import re
import signal
import sys
import time

import psycopg2

running = True


def stop(signum, frame):
    global running
    running = False


def last_seq(path):
    """The largest seq in the record (0 if there is none yet)."""
    try:
        with open(path) as f:
            return max((int(first) for first in (line.split(",", 1)[0] for line in f) if first.isdigit()), default=0)
    except FileNotFoundError:
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", required=True, help="the VIP, the Elastic IP's public address, or a name")
    parser.add_argument("--table", default="lab_writes", help="the table its rows go to")
    parser.add_argument("--out", required=True, help="the CSV file to append attempts to")
    parser.add_argument("--interval-ms", type=float, default=5.0)
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.table):
        parser.error(f"--table {args.table!r}: a plain lower-case SQL name")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    dsn = (f"host={args.host} port=5432 dbname=postgres user=postgres application_name=lab_client "
           "connect_timeout=1 tcp_user_timeout=1000 keepalives=1 keepalives_idle=1 "
           "keepalives_interval=1 keepalives_count=1")
    seq = last_seq(args.out)
    out = open(args.out, "a", buffering=1)
    conn = None
    while running:
        seq += 1
        sent = time.time()
        ok, node, error = 0, "", ""
        try:
            if conn is None:
                conn = psycopg2.connect(dsn)
                conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"INSERT INTO {args.table} (seq, sent) VALUES (%s, to_timestamp(%s)) "
                            "RETURNING current_setting('lab.node_name')", (seq, sent))
                node = cur.fetchone()[0]
            ok = 1
        except psycopg2.Error as e:
            error = type(e).__name__
            if conn is not None:
                try:
                    conn.close()
                except psycopg2.Error:
                    pass
            conn = None
        done = time.time()
        out.write(f"{seq},{sent:.6f},{done:.6f},{ok},{node},{error}\n")
        pause = args.interval_ms / 1000.0 - (time.time() - sent)
        if ok and pause > 0:
            time.sleep(pause)
        elif not ok:
            time.sleep(0.01)  # a failed connect may return at once: do not spin
    if conn is not None:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
