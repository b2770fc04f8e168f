#!/usr/bin/python3
"""A local AWS-compatible endpoint for pg_vip's tests, demo and benchmark.

Speaks, with real state, on one port:
  EC2 (Query API 2016-11-15): ReplaceRoute, CreateRoute, DescribeRouteTables,
    CreateTags, DeleteTags, DescribeInstanceAttribute, ModifyInstanceAttribute,
    DescribeNetworkInterfaces, DescribeNetworkInterfaceAttribute,
    ModifyNetworkInterfaceAttribute; Elastic IPs: DescribeAddresses,
    AssociateAddress, DisassociateAddress; secondary private addresses:
    AssignPrivateIpAddresses, UnassignPrivateIpAddresses
  STS (Query API 2011-06-15, told from EC2 by its Version): AssumeRole,
    GetCallerIdentity (which no policy denies)
  Route 53 (REST XML 2013-04-01, under /2013-04-01/): ChangeResourceRecordSets,
    ListResourceRecordSets, GetChange
and IMDSv2 (one metadata service per instance, each on its own port). Every
request's SigV4 signature is checked by botocore (Debian's awscli), never by
pg_vip's own signer, with the service's own signing name and region (ec2 and
sts: the world's region; route53: us-east-1). Listens on loopback (or, in
the lab, on the lab router's own address inside its network namespace:
--listen).

The world: world.json beside this file (--world for another), the one
every caller shares (the TAP tests, the integration tests, the demo, the
benchmark); what a caller needs different it changes with --set, never with
a copy of the world. Its keys: region, vpc_id, vpc_cidr, role_credentials_ttl,
  vip           the address its routes route (read by the callers, not here)
  credentials   [{access_key, secret, token?, instance?, user?}]: static keys;
                "instance" makes calls with that key count as that instance's
                (for deny rules)
  credentials may name an "account" (default: the world's, 123456789012)
  instances     [{id, eni, mac?, role?, source_dest_check?, imds_port?, public_ip?,
                  subnet?, private_ip?, secondary_ips?, tags?,
                  extra_enis?: [{mac, eni, source_dest_check?, subnet?, private_ip?,
                                 secondary_ips?, tags?}]}]
                source_dest_check is the check of the instance's primary
                interface (what DescribeInstanceAttribute shows); a secondary
                interface has its own. An interface without private_ip gets
                its subnet's next free address from .10 on
  route_tables  [{id, routes?: [{destination, eni, state?}], tags?: {}, vpc_id?, vpc_cidr?,
                  account?}]
                each table has the VPC's local route (vpc_cidr, gateway local);
                vpc_id and vpc_cidr default to the world's
  accounts      [{id, name?}]: accounts other than the world's. Anything that
                names an "account" (a route table, subnet, interface, address,
                hosted zone) belongs to it; a caller sees only its own account's
                (EC2: another account's ids are NotFound and left out of
                listings, as in AWS; Route 53: AccessDenied)
  subnets       [{id, cidr, vpc_id?, account?, tags?}] (absent: one, subnet-0a0b0c0d, the VPC's cidr);
                DescribeSubnets shows them with their tags (a secondary IP's fence)
  network_interfaces  [{id, subnet?, private_ip?, secondary_ips?, mac?, tags?, account?}]:
                interfaces attached to no instance (another account's, say)
  addresses     [{allocation_id, public_ip, account?, tags?, eni?, private_ip?}]: Elastic
                IPs; one with an eni is associated with its private_ip (default: the
                interface's primary address). AssociateAddress takes an interface of
                the caller's account, or one in a subnet the caller's account owns
                (a shared VPC: its owner's Elastic IP to a participant's interface;
                an instance may name "account" for its interfaces, apart from its
                subnet's)
  roles         [{arn, trusted: [access key | instance id | role ARN | account id],
                  external_id?, max_session_duration? (3600)}]: what AssumeRole may
                assume; the ARN's account is the role's
  hosted_zones  [{id, name, account?, records?: [{name, type, ttl, values, set_identifier?,
                  weight?}]}]: Route 53 zones (apex SOA and NS added); names are held
                as Route 53 answers them, lower case with the trailing dot
  eip_visible_after_ms     DescribeAddresses (and an interface's association) shows an
                           Elastic IP's old association this long after a change
  secondary_ip_delay_ms    AssignPrivateIpAddresses moves its addresses this long after
                           answering (until then they stay where they were)
  route53_insync_after_ms  a Route 53 change is PENDING this long, then INSYNC (and only
                           then do resolvers, GET /_fake/route53/zone/ID "dns", answer it)
  assume_role_ttl_s        AssumeRole's credentials live this long whatever DurationSeconds
                           (and their Expiration says so)
  describe_page_size  N: DescribeRouteTables answers list at most N tables
                      and a <nextToken> for the rest (absent: one page)
  error_form    "Response" (EC2's, the default) or "ErrorResponse"
  buckets       the account's request rate limits (absent: none); as POST /_fake/buckets

Callers: every signed request is made with an access key; role credentials
handed out by an instance's IMDS belong to that instance, static keys to the
instance their "instance" field names (else to none), AssumeRole's to the
role: caller "role:<role ARN>", in the role's account. The log records it as
"caller", with "service" (ec2, sts, route53), "action", "params",
"changing" and "dry_run".

AssumeRole trusts a caller a role's "trusted" names by access key, instance,
role ARN (role chaining, at most an hour) or account, and only with the
role's external_id if it has one; anything else (an unknown role too) is
403 AccessDenied, worded alike. Its credentials (ASIA...) are then checked
as any: signature, session token, expiry (400 ExpiredToken).

Route 53: a batch applies whole or not at all, each change against what the
ones before it left (DELETE then CREATE is a compare-and-swap); a DELETE
must match TTL and values exactly. Failures are 400 InvalidChangeBatch with
Route 53's messages in brackets ("[Tried to delete resource record set
[name='a.example.com.', type='A'] but the values provided do not match the
current values]"); errors come as Route 53's <ErrorResponse>; alias records
are refused (InvalidInput). Throttling and PriorRequestNotComplete are
injected with fail_next {"service": "route53", "status": 400, "code": ...}.

Request rate limits (off unless the world's "buckets" or POST /_fake/buckets
turns them on): EC2 throttles each account and region with a token bucket per
action, Route 53 each account with one bucket for all its actions. A bucket
holds at most "size" tokens and gains "refill_per_s" a second, by the
monotonic clock, continuously; it starts full. Every signed request of a
bucketed action that passed the signature, deny rules, policy and faults
takes a token, a DryRun one too (as in EC2); one that finds none is answered
as AWS answers it and carries nothing out: EC2 HTTP 503 RequestLimitExceeded
("Request limit exceeded.", in the world's error form), Route 53 HTTP 400
Throttling ("Rate exceeded", its <ErrorResponse>), STS HTTP 400 Throttling.
Refused requests take no token; they are logged with their code and
"throttled": true. Every caller shares the buckets: they are the account's.

Every answer carries a Date header (the server's clock, moved by the fault
date_skew_s: the client's clock check sees AWS's clock that far off).

DryRun=true (any action): after the signature, deny rules and faults, an
allowed request is answered HTTP 412 DryRunOperation ("Request would have
succeeded, but DryRun flag is set.") and changes nothing; it is logged with
"dry_run": true and "changing": false. A denied one gets the deny error.

Control API (unsigned, on the EC2 port, under /_fake/):
  GET  /_fake/log             the request log (JSON list)
  POST /_fake/log/clear       empties it
  GET  /_fake/state           route tables, instances, credentials' keys (and
                              whose they are: key_instances, key_callers), faults, deny
                              rules, timing, accounts, subnets, network_interfaces (ips:
                              primary first), ip_moves (under way), addresses (association:
                              the truth; shown: what DescribeAddresses answers now), roles,
                              hosted_zones (records), changes (Route 53's, with status)
  GET  /_fake/route53/zone/ID JSON {id, name, account, records (what the API lists), dns (what
                              a resolver answers: the records of the newest change in sync)}
  POST /_fake/faults          JSON: delay_ms, fail_next {count,status,code,message,actions,service},
                              drop_next, garbage_next, stall_next {count,seconds}, down_for_s,
                              lose_answer_next (the request carried out, its answer dropped),
                              error_form ("Response" | "ErrorResponse"),
                              describe_page_size (N; 0 or null: one page),
                              date_skew_s (seconds added to every answer's Date header),
                              eip_visible_after_ms, secondary_ip_delay_ms,
                              route53_insync_after_ms, assume_role_ttl_s (as in the world;
                              null: none),
                              clear (all of these back to the world file's)
                              Counted faults may name "service" (ec2, sts, route53) besides
                              "actions" (e.g. ["ChangeResourceRecordSets"])
  POST /_fake/buckets         JSON: {"actions": {ACTION: {size, refill_per_s}, ...}, "ec2_default": {size,
                              refill_per_s} | null, "route53": {size, refill_per_s} | null}: replaces
                              the request rate limits ({}: none, as at start). "actions" names any
                              action's own bucket (EC2's, STS's or Route 53's); "ec2_default" gives
                              every other EC2 action a bucket of its own of that size (AWS's example
                              for a Describe action: 100 tokens, 20 a second); "route53" is the one
                              bucket every other Route 53 action shares (about 5 a second). Every
                              bucket starts full; the counts carry on
  GET  /_fake/buckets         {"config", "tokens": {bucket: tokens now}, "counts": {action: {accepted,
                              refused, dry_run_accepted, dry_run_refused}}}: the counts of requests
                              that met a bucket since the last clear (dry_run_*: the DryRun ones,
                              counted in accepted and refused too). A bucket is named by its action,
                              or "route53" for Route 53's shared one
  POST /_fake/buckets/counts/clear   the counts back to none (the buckets stay as they are)
  POST /_fake/deny            JSON: {"rules": [{actions?, instance?, caller?, service?, code?, status?,
                              message?}]}
                              replaces the deny rules ({"rules": []} clears them;
                              faults' clear does not). A rule matches a request when
                              its action is in "actions" (absent: any action) and the
                              caller is "instance" (absent: any caller), or "caller" (as the
                              log names it: "role:<ARN>"), of "service" (absent: any); the
                              first matching rule answers (default 403 UnauthorizedOperation
                              with EC2's "You are not authorized to perform this
                              operation. User: ... is not authorized to perform:
                              ec2:<Action> ..." message; STS and Route 53: 403
                              AccessDenied "User: ... is not authorized to perform:
                              sts:AssumeRole on resource: ..."), is logged with its code and
                              applies nothing. Checked after the signature, before
                              faults.
  POST /_fake/policy          JSON: {"instance": "i-..." | "role": ARN | "caller": NAME,
                              "policy": {IAM policy} | null}: that caller is held to the
                              policy (policy_allows: Allow statements, Action/Resource
                              wildcards with the resources' real ARNs (route-table,
                              network-interface, elastic-ip, instance; the role's ARN;
                              arn:aws:route53:::hostedzone/ID, change/ID), StringEquals,
                              StringLike, ForAllValues/ForAnyValue: StringEquals/StringLike
                              and Null on ec2:Region, aws:TagKeys and route53:ChangeResource-
                              RecordSets{NormalizedRecordNames,RecordTypes,Actions}; an
                              action it knows no resources of is allowed by nothing); what
                              it does not allow is answered 403 UnauthorizedOperation
                              (AccessDenied), after the deny rules; null lifts it
  POST /_fake/route           JSON: {route_table_id, destination, eni | blackhole | delete}; 400 unless
                              EC2 could hold it (a table that exists, an IPv4 CIDR block not the
                              local route's, a known eni for an active route)
  POST /_fake/tag             JSON: {route_table_id, key, value | delete}: a tag written by someone else
  POST /_fake/expire_role_credentials   role credentials already handed out expire now
                              ({"role": ARN}: only that role's AssumeRole sessions)
  POST /_fake/address         JSON: {allocation_id, eni, private_ip?} | {allocation_id,
                              disassociate: true}: an Elastic IP moved by someone else,
                              visible at once
  POST /_fake/route53/record  JSON: {zone, name, type, ttl, values} | {zone, name, type,
                              delete: true}: a record changed by someone else, in sync at once
  POST /_fake/reset_addresses interfaces' addresses and Elastic IPs back to the world file's
  POST /_fake/reset_zones     hosted zones back to the world file's
  POST /_fake/role_ttl        JSON: {seconds}: lifetime of role credentials handed out next
  POST /_fake/reset_tables    route tables back to the world file's routes and tags
  POST /_fake/source_dest_check  JSON: {instance, value}: that instance's check (its primary
                              interface's) on or off; {eni, value}: that interface's

Real routing (the lab, scripts/lab.sh): --kernel-routes FILE names, in JSON,
  {"tables": {"<route table id>": <kernel table number>, ...},
   "hops": {"<eni>": ["<next hop address>", "<device>"], ...}}
and the server, run as root inside the lab router's network namespace, keeps
those kernel tables equal to its route tables after every change, before it
answers (over netlink, with Debian's python3-pyroute2): a route to
an interface it has a hop for goes there; a blackhole route, a route to any
other interface, or to an instance whose source/destination check is on,
becomes a kernel blackhole route (EC2 drops packets for an address that is
not the instance's own unless the check is off: the client sees the same loss).

IMDSv2 (per instance): instance-id, mac, placement/region,
placement/availability-zone, network/interfaces/macs/ ("<mac>/" a line, the
instance's own interface first, then its extra_enis),
network/interfaces/macs/<mac>/interface-id and .../device-number (0 for the
instance's own, 1, 2, ... for extra_enis), local-ipv4 (its interface's primary address), public-ipv4 (its "public_ip", when set),
iam/security-credentials/[<role>],
and dynamic/instance-identity/document (accountId, instanceId, region, ...).

Run: /usr/bin/python3 server.py [--set PATH=JSON ...] [--log log.jsonl] [--tls-cert cert.pem --tls-key key.pem]
  --set PATH=JSON  changes the world before it starts, in the order given; PATH
                   is a key (credentials), or LIST.ID: the element of that list
                   whose id (an address's allocation_id) is ID
                   (instances.i-0c000001; added if absent), or
                   LIST.ID.FIELD (instances.i-0a000001.source_dest_check);
                   JSON null removes what PATH names.
It listens on free loopback ports, then answers on stdout, one JSON line, and
writes nothing there again, so a caller starts it and reads that line (end of
file: it failed to start; its stderr says why):
  {"pid": N, "ec2": "http://127.0.0.1:P", "sts": (the same), "route53": (the same),
   "imds": {"<instance id>": "http://127.0.0.1:Q", ...}}
With TLS the EC2 URL's host is "localhost", the name a test certificate is
made for. It runs until SIGTERM.
"""

import argparse
import base64
import datetime
import fnmatch
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import awscli  # noqa: F401  (Debian's awscli makes its bundled botocore importable)
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
NS_STS = "https://sts.amazonaws.com/doc/2011-06-15/"
NS_ROUTE53 = "https://route53.amazonaws.com/doc/2013-04-01/"
STS_VERSION = "2011-06-15"
ROUTE53_PREFIX = "/2013-04-01/"
CHANGING = {"ReplaceRoute", "CreateRoute", "CreateTags", "DeleteTags", "ModifyInstanceAttribute",
            "ModifyNetworkInterfaceAttribute", "AssociateAddress", "DisassociateAddress",
            "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses", "AssumeRole", "ChangeResourceRecordSets"}
DRY_RUN_ACTIONS = {"ReplaceRoute", "CreateRoute", "CreateTags", "DeleteTags", "DescribeRouteTables",
                   "DescribeInstanceAttribute",
                   "ModifyInstanceAttribute", "DescribeNetworkInterfaces", "DescribeNetworkInterfaceAttribute",
                   "ModifyNetworkInterfaceAttribute", "DescribeAddresses", "AssociateAddress", "DisassociateAddress",
                   "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses", "DescribeSubnets"}
ERROR_FORMS = ("Response", "ErrorResponse")
ACCOUNT = "123456789012"  # the world's own account: its instances, and every resource that names no other
DENY_FIELDS = {"actions", "instance", "caller", "service", "code", "status", "message"}
# What each service answers a request its deny rules or policy refuse with.
DENIED = {"ec2": (403, "UnauthorizedOperation"), "sts": (403, "AccessDenied"), "route53": (403, "AccessDenied")}
# World settings a fault may change for a while (faults' clear: back to the world file's).
TIMING_SETTINGS = ("eip_visible_after_ms", "secondary_ip_delay_ms", "route53_insync_after_ms", "assume_role_ttl_s")
MAX_SKEW = datetime.timedelta(minutes=5)


class AwsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class World:
    """The VPC, its route tables, interfaces, Elastic IPs, hosted zones, roles and credentials, behind one lock."""

    def __init__(self, spec):
        self.lock = threading.Lock()
        self.spec = spec
        self.region = spec.get("region", "us-east-1")
        self.vpc_id = spec.get("vpc_id", "vpc-0a0b0c0d")
        self.vpc_cidr = spec.get("vpc_cidr", "10.0.0.0/16")
        # The world's own account and the others it knows (a resource naming another is invisible to this one's callers).
        self.accounts = {ACCOUNT: "default"}
        for a in spec.get("accounts", []):
            self.accounts[a["id"]] = a.get("name", "")
        # access key -> {secret, token, expires, instance (whose key, or None), principal (its ARN),
        #                account, role (the ARN of the role an AssumeRole session acts as, or None)}
        self.keys = {}
        for c in spec.get("credentials", []):
            user = c.get("user", "pg-vip")
            account = self.known_account(c.get("account", ACCOUNT), "credentials")
            self.keys[c["access_key"]] = {"secret": c["secret"], "token": c.get("token"), "expires": None,
                                          "instance": c.get("instance"), "account": account, "role": None,
                                          "principal": f"arn:aws:iam::{account}:user/{user}"}
        self.instances = {}
        self.enis = {}  # an instance's interface -> its instance id (interfaces a route may name)
        self.secondary_checks = {}  # a secondary interface's own source/destination check
        for i in spec.get("instances", []):
            self.instances[i["id"]] = dict(i, source_dest_check=i.get("source_dest_check", False))
            self.enis[i["eni"]] = i["id"]
            for extra in i.get("extra_enis", []):
                self.enis[extra["eni"]] = i["id"]
                self.secondary_checks[extra["eni"]] = bool(extra.get("source_dest_check", False))
        self.reset_interfaces()
        self.reset_tables()
        self.reset_addresses()
        self.reset_zones()
        # role ARN -> {trusted: [access key | instance id | role ARN | account id], external_id, account,
        #              max_session_duration}
        self.roles = {}
        for r in spec.get("roles", []):
            account = self.known_account(r["arn"].split(":")[4], "roles")
            self.roles[r["arn"]] = {"trusted": list(r.get("trusted", [])), "external_id": r.get("external_id"),
                                    "account": account,
                                    "max_session_duration": int(r.get("max_session_duration", 3600))}
        self.role_ttl = spec.get("role_credentials_ttl", 3600)
        self.log = []
        self.faults = {}
        self.down_until = 0.0
        self.deny_rules = []
        self.policies = {}  # caller (instance id, or "role:<ARN>") -> an IAM policy document its calls are held to
        self.page_tokens = {}  # nextToken -> (route table ids of the query, offset of the next page)
        self.changes = {}  # Route 53 change id -> {zone, submitted, insync_at, comment}
        self.kernel = None  # KernelRoutes, in the lab
        self.reset_answers()
        self.buckets = RateLimits()
        if spec.get("buckets"):
            self.buckets.configure(spec["buckets"])

    def known_account(self, account, where):
        if account not in self.accounts:
            raise SystemExit(f"{where}: account {account} is neither the world's ({ACCOUNT}) nor in \"accounts\"")
        return account

    def routes_changed(self):
        """After a change of routes or of a source/destination check: the lab's kernel follows."""
        if self.kernel:
            # The kernel's lock first: snapshots reach the kernel in the order they were taken.
            with self.kernel.lock:
                with self.lock:
                    want = self.kernel.wanted(self)
                self.kernel.apply(want)

    def source_dest_check(self, eni):
        """An interface's check: the primary's is its instance's attribute. Under world.lock."""
        if eni in self.secondary_checks:
            return self.secondary_checks[eni]
        instance = self.instances.get(self.enis.get(eni))
        return bool(instance and instance["source_dest_check"])

    def set_source_dest_check(self, eni, value):
        """Under world.lock."""
        if eni in self.secondary_checks:
            self.secondary_checks[eni] = value
        else:
            self.instances[self.enis[eni]]["source_dest_check"] = value

    def reset_answers(self):
        """Error form, DescribeRouteTables page size and the timing settings as the world file has them."""
        self.error_form = self.spec.get("error_form", "Response")
        if self.error_form not in ERROR_FORMS:
            raise ValueError(f"error_form must be one of {ERROR_FORMS}")
        self.page_size = int(self.spec.get("describe_page_size") or 0)
        self.date_skew = 0.0
        self.timing = {name: self.spec.get(name) for name in TIMING_SETTINGS}

    def after(self, setting):
        """Seconds a timing setting (in ms, or s for assume_role_ttl_s) stands for; 0 when unset."""
        value = float(self.timing.get(setting) or 0)
        return value if setting.endswith("_s") else value / 1000.0

    def reset_interfaces(self):
        """Subnets and every interface's addresses and tags as the world file has them.

        An instance's interface (and each of its extra_enis) may name its
        subnet, private_ip (its primary address), secondary_ips and tags;
        network_interfaces lists interfaces attached to no instance (another
        account's, say). An interface without private_ip gets the next free
        address of its subnet from .10 on, so every interface has one."""
        spec = self.spec
        self.subnets = {}
        for s in spec.get("subnets", []) or [{"id": "subnet-0a0b0c0d", "cidr": self.vpc_cidr}]:
            self.subnets[s["id"]] = {"cidr": ipaddress.IPv4Network(s["cidr"]), "vpc_id": s.get("vpc_id", self.vpc_id),
                                     "account": self.known_account(s.get("account", ACCOUNT), "subnets"),
                                     "tags": dict(s.get("tags", {}))}
        first_subnet = next(iter(self.subnets))
        wanted = []  # (eni, spec, instance id)
        for i in spec.get("instances", []):
            wanted.append((i["eni"], i, i["id"]))
            for extra in i.get("extra_enis", []):
                wanted.append((extra["eni"], extra, i["id"]))
        for n in spec.get("network_interfaces", []):
            wanted.append((n["id"], n, None))
        self.nics = {}
        self.ip_moves = []  # [{ip, from, to, at}]: AssignPrivateIpAddresses still under way
        for eni, s, iid in wanted:
            subnet = s.get("subnet", first_subnet)
            if subnet not in self.subnets:
                raise SystemExit(f"interface {eni}: no subnet {subnet}")
            ips = ([s["private_ip"]] if s.get("private_ip") else []) + list(s.get("secondary_ips", []))
            self.nics[eni] = {"instance": iid, "subnet": subnet, "ips": ips, "tags": dict(s.get("tags", {})),
                              "mac": s.get("mac", "0e:00:00:00:00:01"),
                              "account": self.known_account(s.get("account", self.subnets[subnet]["account"]),
                                                            f"interface {eni}")}
        for eni, nic in self.nics.items():
            if not nic["ips"]:
                nic["ips"] = [self.free_address(nic["subnet"], start=10)]

    def holder_of(self, ip):
        """The interface that holds (or is about to get) a private address, or None. Under world.lock."""
        for m in self.ip_moves:
            if m["ip"] == ip:
                return m["to"]
        return next((eni for eni, nic in self.nics.items() if ip in nic["ips"]), None)

    def free_address(self, subnet, start=4):
        """The subnet's first address no interface holds (EC2 keeps the first four and the last)."""
        net = self.subnets[subnet]["cidr"]
        for n in range(start, net.num_addresses - 1):
            ip = str(net[n])
            if self.holder_of(ip) is None:
                return ip
        raise AwsError(400, "InsufficientFreeAddressesInSubnet",
                       "The specified subnet does not have enough free addresses to satisfy the request.")

    def settle(self, now=None):
        """Carries out the private address moves whose time has come. Under world.lock."""
        now = time.time() if now is None else now
        due = [m for m in self.ip_moves if m["at"] <= now]
        self.ip_moves = [m for m in self.ip_moves if m["at"] > now]
        for m in due:
            self.move_address(m["ip"], m["from"], m["to"], now)

    def move_address(self, ip, source, target, now):
        """A secondary address leaves `source` (if any) for `target` (None: released). An Elastic IP
        associated with it moves with it, as EC2 moves it. Under world.lock."""
        if source in self.nics and ip in self.nics[source]["ips"][1:]:
            self.nics[source]["ips"].remove(ip)
        if target in self.nics and ip not in self.nics[target]["ips"]:
            self.nics[target]["ips"].append(ip)
        for address in self.addresses.values():
            assoc = address["assoc"]
            if assoc and assoc["eni"] == source and assoc["private_ip"] == ip:
                self.associate(address, dict(assoc, eni=target) if target else None, now)

    def reset_addresses(self):
        """Elastic IPs as the world file describes them: [{allocation_id, public_ip, account?, tags?,
        eni?, private_ip?}]; one with an eni is associated with that interface's private_ip (its primary
        address by default)."""
        self.addresses = {}
        for a in self.spec.get("addresses", []):
            assoc, nic = None, self.nics.get(a.get("eni"))
            if nic is not None:
                # (One whose interface a caller's --set took away stays unassociated: the world is shared.)
                assoc = {"association_id": a.get("association_id") or new_id("eipassoc"), "eni": a["eni"],
                         "private_ip": a.get("private_ip") or nic["ips"][0]}
            self.addresses[a["allocation_id"]] = {
                "public_ip": a["public_ip"], "tags": dict(a.get("tags", {})), "assoc": assoc,
                "account": self.known_account(a.get("account", ACCOUNT), f"address {a['allocation_id']}"),
                # (time from which DescribeAddresses shows it, association): EC2's eventual consistency
                "views": [(0.0, assoc)]}

    def associate(self, address, assoc, now):
        """An Elastic IP's association changes now; DescribeAddresses sees it eip_visible_after_ms later.
        Under world.lock."""
        address["assoc"] = assoc
        visible = now + self.after("eip_visible_after_ms")
        # Views no one can be shown any more are dropped: all but the newest already visible.
        shown = [v for v in address["views"] if v[0] <= now]
        address["views"] = shown[-1:] + [v for v in address["views"] if v[0] > now] + [(visible, assoc)]

    @staticmethod
    def shown_association(address, now):
        """The association DescribeAddresses answers with now."""
        return max((v for v in address["views"] if v[0] <= now), key=lambda v: v[0], default=(0, None))[1]

    def reset_zones(self):
        """Route 53 hosted zones as the world file describes them: [{id, name, account?, records?: [{name,
        type, ttl, values, set_identifier?, weight?}]}]; each has its apex SOA and NS records unless listed."""
        self.zones = {}
        for z in self.spec.get("hosted_zones", []):
            name = dns_name(z["name"])
            records = {}
            for r in [{"name": name, "type": "SOA", "ttl": 900,
                       "values": [f"ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"]},
                      {"name": name, "type": "NS", "ttl": 172800,
                       "values": ["ns-1.awsdns-01.org.", "ns-2.awsdns-02.co.uk.", "ns-3.awsdns-03.com.",
                                  "ns-4.awsdns-04.net."]}] + list(z.get("records", [])):
                record = {"name": dns_name(r["name"]), "type": r["type"], "ttl": int(r["ttl"]),
                          "values": list(r["values"])}
                for field in ("set_identifier", "weight"):
                    if r.get(field) is not None:
                        record[field] = r[field]
                records[record_key(record)] = record
            self.zones[z["id"]] = {"name": name, "records": records,
                                   "account": self.known_account(z.get("account", ACCOUNT), f"hosted zone {z['id']}"),
                                   # (time from which resolvers answer it, records): what DNS serves
                                   "dns": [(0.0, dict(records))]}

    def reset_tables(self):
        """Route tables as the world file describes them: routes, and tags."""
        spec = self.spec
        self.tables = {}
        for t in spec.get("route_tables", []):
            routes = [{"destination": t.get("vpc_cidr", self.vpc_cidr), "gateway": "local", "state": "active",
                       "origin": "CreateRouteTable"}]
            for r in t.get("routes", []):
                routes.append({"destination": r["destination"], "eni": r.get("eni"),
                               "state": r.get("state", "active"), "origin": "CreateRoute"})
            self.tables[t["id"]] = {"routes": routes, "tags": dict(t.get("tags", {})),
                                    "vpc_id": t.get("vpc_id", self.vpc_id)}
            if t.get("account"):  # only then: the state's tables stay as they were for every other world
                self.tables[t["id"]]["account"] = self.known_account(t["account"], f"route table {t['id']}")

    def record(self, entry):
        with self.lock:
            self.log.append(entry)
        if LOG_FILE:
            with open(LOG_FILE, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def take_fault(self, name, action=None, service=None):
        """Consumes one occurrence of a counted fault; returns its settings or None.
        A fault may name the "actions" and the "service" it is for."""
        with self.lock:
            f = self.faults.get(name)
            if not f:
                return None
            actions = f.get("actions")
            if actions and action not in actions:
                return None
            if f.get("service") and f["service"] != service:
                return None
            f["count"] -= 1
            if f["count"] <= 0:
                del self.faults[name]
            return f

    def new_role_credentials(self, instance=None):
        """Temporary credentials of `instance`'s role (the instance's dict), remembered as that instance's."""
        key = "ASIA" + secrets.token_hex(8).upper()
        secret = secrets.token_urlsafe(30)
        token = secrets.token_urlsafe(60)
        expires = time.time() + self.role_ttl
        iid = instance["id"] if instance else None
        role = (instance or {}).get("role", "role")
        with self.lock:
            self.keys[key] = {"secret": secret, "token": token, "expires": expires, "instance": iid,
                              "account": ACCOUNT, "role": None,
                              "principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{iid or 'session'}"}
        return key, secret, token, expires

    @staticmethod
    def caller_name(cred):
        """Whose calls these are, as the log, deny rules and policies name it: the instance, "role:<ARN>"
        for an AssumeRole session, or None."""
        if cred.get("role"):
            return "role:" + cred["role"]
        return cred.get("instance")

    def caller_of(self, key):
        """The caller an access key belongs to (see caller_name), or None."""
        with self.lock:
            return self.caller_name(self.keys.get(key) or {})

    def who(self, key):
        """The caller of a verified request: {key, instance, caller, account, principal, role}."""
        with self.lock:
            cred = self.keys.get(key) or {}
            return {"key": key, "instance": cred.get("instance"), "caller": self.caller_name(cred),
                    "account": cred.get("account", ACCOUNT), "role": cred.get("role"),
                    "principal": cred.get("principal", f"arn:aws:iam::{ACCOUNT}:user/unknown")}

    def denial(self, who, service, action, params):
        """The AwsError the first matching deny rule, or the caller's policy, answers with, or None."""
        status, code = DENIED[service]
        with self.lock:
            for rule in self.deny_rules:
                if rule.get("service") is not None and rule["service"] != service:
                    continue
                actions = rule.get("actions")
                if actions is not None and action not in actions:
                    continue
                if rule.get("instance") is not None and rule["instance"] != who["instance"]:
                    continue
                if rule.get("caller") is not None and rule["caller"] != who["caller"]:
                    continue
                message = rule.get("message") or unauthorized_message(self, service, who, action, params)
                return AwsError(int(rule.get("status", status)), rule.get("code", code), message)
            policy = self.policies.get(who["caller"])
            # GetCallerIdentity needs no permission: IAM policies cannot deny it.
            if (policy is not None and (service, action) != ("sts", "GetCallerIdentity")
                    and not policy_allows(policy, self, service, action, params)):
                return AwsError(status, code, unauthorized_message(self, service, who, action, params))
        return None


# What a request that finds its bucket empty is answered with, by service.
THROTTLED = {"ec2": (503, "RequestLimitExceeded", "Request limit exceeded."),
             "route53": (400, "Throttling", "Rate exceeded"),
             "sts": (400, "Throttling", "Rate exceeded")}


class RateLimits:
    """The account's token buckets (see the module's help): per EC2 action, one for Route 53.

    Its own lock, taken alone: a request's token is taken before it reaches the world."""

    def __init__(self):
        self.lock = threading.Lock()
        self.config = {}
        self.tokens = {}  # bucket -> [tokens, time.monotonic() of that count]
        self.counts = {}  # action -> {accepted, refused, dry_run_accepted, dry_run_refused}

    @staticmethod
    def checked(limit, where):
        if limit is None:
            return None
        if not isinstance(limit, dict) or set(limit) - {"size", "refill_per_s"}:
            raise ValueError(f"{where}: expected {{\"size\": N, \"refill_per_s\": R}}")
        size, rate = limit.get("size"), limit.get("refill_per_s", 0)
        if isinstance(size, bool) or not isinstance(size, (int, float)) or size < 1:
            raise ValueError(f"{where}: size is a number of tokens, at least 1")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate < 0:
            raise ValueError(f"{where}: refill_per_s is a number, at least 0")
        return {"size": float(size), "refill_per_s": float(rate)}

    def configure(self, spec):
        """Replaces the limits (ValueError if spec is not one); every bucket starts full."""
        if not isinstance(spec, dict) or set(spec) - {"actions", "ec2_default", "route53"}:
            raise ValueError('expected {"actions": {ACTION: {"size": N, "refill_per_s": R}}, '
                             '"ec2_default": {...} | null, "route53": {...} | null}')
        actions = spec.get("actions") or {}
        if not isinstance(actions, dict):
            raise ValueError("buckets' actions is an object: {ACTION: {size, refill_per_s}}")
        config = {"actions": {a: self.checked(v, a) for a, v in actions.items()},
                  "ec2_default": self.checked(spec.get("ec2_default"), "ec2_default"),
                  "route53": self.checked(spec.get("route53"), "route53")}
        config["actions"] = {a: v for a, v in config["actions"].items() if v}
        with self.lock:
            self.config = config if (config["actions"] or config["ec2_default"] or config["route53"]) else {}
            self.tokens = {}

    def bucket_of(self, service, action):
        """(bucket name, its limit) for a request, or None when none applies. Under self.lock."""
        if not self.config:
            return None
        if action in self.config["actions"]:
            return action, self.config["actions"][action]
        if service == "ec2" and self.config["ec2_default"]:
            return action, self.config["ec2_default"]
        if service == "route53" and self.config["route53"]:
            return "route53", self.config["route53"]
        return None

    def level(self, name, limit, now):
        """A bucket's tokens now, refilled continuously since they were last counted. Under self.lock."""
        tokens, then = self.tokens.get(name, (limit["size"], now))
        tokens = min(limit["size"], tokens + max(0.0, now - then) * limit["refill_per_s"])
        self.tokens[name] = [tokens, now]
        return tokens

    def take(self, service, action, dry_run):
        """True when the request may go on (a token taken, or no bucket); False: throttled."""
        with self.lock:
            found = self.bucket_of(service, action)
            if found is None:
                return True
            name, limit = found
            tokens = self.level(name, limit, time.monotonic())
            allowed = tokens >= 1
            if allowed:
                self.tokens[name][0] = tokens - 1
            counts = self.counts.setdefault(action, {"accepted": 0, "refused": 0, "dry_run_accepted": 0,
                                                     "dry_run_refused": 0})
            outcome = "accepted" if allowed else "refused"
            counts[outcome] += 1
            if dry_run:
                counts["dry_run_" + outcome] += 1
            return allowed

    def view(self):
        """GET /_fake/buckets."""
        with self.lock:
            now = time.monotonic()
            tokens = {}
            for name in sorted(self.tokens):
                found = self.bucket_of("route53" if name == "route53" else "ec2", name)
                if found:
                    tokens[name] = round(self.level(name, found[1], now), 3)
            return {"config": self.config, "tokens": tokens,
                    "counts": {a: dict(c) for a, c in sorted(self.counts.items())}}

    def clear_counts(self):
        with self.lock:
            self.counts = {}


class KernelRoutes:
    """Mirrors the route tables into the kernel of the namespace the server runs in (the lab's router).

    Over netlink (Debian's pyroute2), in the request's own thread: a change
    costs well under a millisecond, so the lab adds nothing measurable to
    the time a route takes to move, and parallel requests stay parallel.
    """

    def __init__(self, spec):
        # The lab only (other callers need not have it); the module itself: the
        # package's lazy names do not resolve once awscli is imported.
        from pyroute2.iproute.linux import IPRoute
        self.tables = {rtb: int(n) for rtb, n in spec.get("tables", {}).items()}
        self.hops = {}
        for eni, (via, dev) in spec.get("hops", {}).items():
            self.hops[eni] = (str(ipaddress.ip_address(via)), socket.if_nametoindex(dev))
        self.installed = {}  # (kernel table, destination) -> (via, interface index) or None (blackhole)
        self.lock = threading.Lock()
        self.ipr = IPRoute()

    def wanted(self, world):
        """What the kernel should hold; read with world.lock held."""
        want = {}
        for rtb, number in self.tables.items():
            for r in world.tables.get(rtb, {}).get("routes", []):
                if r.get("origin") == "CreateRouteTable":
                    continue  # the VPC's local route: the router's own connected routes
                hop = self.hops.get(r.get("eni"))
                instance = world.instances.get(world.enis.get(r.get("eni")))
                usable = (r.get("state") == "active" and hop and instance
                          and not world.source_dest_check(r.get("eni")))
                want[(number, str(ipaddress.ip_network(r["destination"])))] = hop if usable else None
        return want

    def apply(self, want):
        """Called with self.lock held."""
        for (table, dest) in sorted(set(self.installed) - set(want)):
            self.ipr.route("del", dst=dest, table=table)
        for (table, dest), hop in sorted(want.items(), key=lambda kv: kv[0]):
            if self.installed.get((table, dest), "unset") == hop:
                continue
            if hop is None:
                self.ipr.route("replace", dst=dest, table=table, type="blackhole")
            else:
                self.ipr.route("replace", dst=dest, table=table, gateway=hop[0], oif=hop[1])
        self.installed = want


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def xml_response(action, body):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{NS}">'
            f"<requestId>{uuid.uuid4()}</requestId>{body}</{action}Response>")


def xml_error(code, message, form="Response", status=400):
    """EC2's <Response><Errors><Error> document, or the Query dialect's <ErrorResponse>."""
    if form == "ErrorResponse":
        kind = "Receiver" if status >= 500 else "Sender"
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{NS}"><Error><Type>{kind}</Type>'
                f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
                f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>")


# A small IAM evaluator, written from AWS's documentation of policy
# evaluation, for the policies vip_iam_policy() writes: Allow statements
# only (anything not allowed is denied), Action with * wildcards, Resource
# "*" or ARNs with wildcards, and the condition operators StringEquals,
# StringLike, ForAllValues:/ForAnyValue: StringEquals and StringLike, and
# Null, over the keys ec2:Region, aws:TagKeys and Route 53's
# route53:ChangeResourceRecordSets{NormalizedRecordNames,RecordTypes,Actions}.
# An operator or key it does not know never matches, and an action whose
# resources it does not know is allowed by nothing: a policy it cannot
# judge allows nothing.
def _like(pattern, value):
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


# Actions IAM authorizes on no particular resource (Resource "*" only); pg_vip's older actions stay here as they were.
EC2_ANY_RESOURCE = {"DescribeRouteTables", "DescribeInstanceAttribute", "ModifyInstanceAttribute",
                    "DescribeNetworkInterfaces", "DescribeNetworkInterfaceAttribute",
                    "ModifyNetworkInterfaceAttribute", "DescribeAddresses", "DescribeSubnets"}
EC2_KINDS = {"rtb": "route-table", "eni": "network-interface", "i": "instance", "eipalloc": "elastic-ip",
             "subnet": "subnet"}


def _ec2_arn(world, rid):
    """The ARN of an EC2 resource id, in the account that holds it. Under world.lock."""
    kind = EC2_KINDS.get(rid.split("-")[0], "unknown")
    account = ACCOUNT
    if kind == "elastic-ip" and rid in world.addresses:
        account = world.addresses[rid]["account"]
    elif kind == "network-interface" and rid in world.nics:
        account = world.nics[rid]["account"]
    elif kind == "subnet" and rid in world.subnets:
        account = world.subnets[rid]["account"]
    elif kind == "route-table" and rid in world.tables:
        account = world.tables[rid].get("account", ACCOUNT)
    return f"arn:aws:ec2:{world.region}:{account}:{kind}/{rid}"


def _resources(world, service, action, params):
    """The ARNs a request acts on, as IAM authorizes it; None for an action this evaluator does not know.
    Under world.lock."""
    if service == "ec2":
        if action in EC2_ANY_RESOURCE:
            return ["*"]
        if action in ("ReplaceRoute", "CreateRoute"):
            rtb = params.get("RouteTableId", "")
            account = world.tables.get(rtb, {}).get("account", ACCOUNT)
            return [f"arn:aws:ec2:{world.region}:{account}:route-table/{rtb}"]
        if action in ("CreateTags", "DeleteTags"):
            return [_ec2_arn(world, v) for k, v in sorted(params.items()) if k.startswith("ResourceId.")] or [""]
        if action == "AssociateAddress":
            aid = params.get("AllocationId") or next(
                (a for a, v in world.addresses.items() if v["public_ip"] == params.get("PublicIp")), "")
            out = [_ec2_arn(world, aid or "eipalloc-")]
            if params.get("NetworkInterfaceId"):
                out.append(_ec2_arn(world, params["NetworkInterfaceId"]))
            if params.get("InstanceId"):
                out.append(_ec2_arn(world, params["InstanceId"]))
            return out
        if action == "DisassociateAddress":
            aid = next((a for a, v in world.addresses.items()
                        if (v["assoc"] or {}).get("association_id") == params.get("AssociationId")
                        or (params.get("PublicIp") and v["public_ip"] == params.get("PublicIp"))), "eipalloc-")
            return [_ec2_arn(world, aid)]
        if action in ("AssignPrivateIpAddresses", "UnassignPrivateIpAddresses"):
            return [_ec2_arn(world, params.get("NetworkInterfaceId") or "eni-")]
        return None
    if service == "sts" and action == "AssumeRole":
        return [params.get("RoleArn", "")]
    if service == "route53":
        if action in ("ChangeResourceRecordSets", "ListResourceRecordSets"):
            return [f"arn:aws:route53:::hostedzone/{params.get('HostedZoneId', '')}"]
        if action == "GetChange":
            return [f"arn:aws:route53:::change/{params.get('Id', '')}"]
    return None


def _context(world, service, action, params):
    """The condition keys a request brings. Under world.lock."""
    context = {}
    if service == "ec2":
        context["ec2:Region"] = world.region
        keys = [v for k, v in params.items() if k.startswith("Tag.") and k.endswith(".Key")]
        if keys:
            context["aws:TagKeys"] = keys
    if service == "route53" and action == "ChangeResourceRecordSets":
        changes = params.get("Changes", [])
        # IAM's normalized names: lower case, no trailing dot.
        context["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = [
            c["Name"].rstrip(".").lower() for c in changes]
        context["route53:ChangeResourceRecordSetsRecordTypes"] = [c["Type"] for c in changes]
        context["route53:ChangeResourceRecordSetsActions"] = [c["Action"] for c in changes]
    return context


def _condition_holds(op, key, wanted, context):
    wanted = wanted if isinstance(wanted, list) else [wanted]
    value = context.get(key)
    if op == "Null":
        return (value is None) == (str(wanted[0]).lower() == "true")
    if key not in context:
        return op.startswith("ForAllValues:")  # ForAllValues over no values holds, as in IAM
    values = value if isinstance(value, list) else [value]
    if op == "StringEquals":
        return len(values) == 1 and values[0] in wanted
    if op == "StringLike":
        return len(values) == 1 and any(_like(w, values[0]) for w in wanted)
    if op == "ForAllValues:StringLike":
        return all(any(_like(w, v) for w in wanted) for v in values)
    if op == "ForAnyValue:StringLike":
        return any(any(_like(w, v) for w in wanted) for v in values)
    if op == "ForAllValues:StringEquals":
        return all(v in wanted for v in values)
    if op == "ForAnyValue:StringEquals":
        return any(v in wanted for v in values)
    return False


def policy_allows(policy, world, service, action, params):
    """Under world.lock."""
    resources = _resources(world, service, action, params)
    if resources is None:
        return False
    context = _context(world, service, action, params)
    for resource in resources:
        allowed = False
        for st in policy.get("Statement", []):
            if st.get("Effect") != "Allow":
                continue
            actions = st.get("Action", [])
            actions = actions if isinstance(actions, list) else [actions]
            if not any(_like(a.lower(), f"{service}:{action}".lower()) for a in actions):
                continue
            listed = st.get("Resource", [])
            listed = listed if isinstance(listed, list) else [listed]
            if not any(r == "*" or _like(r, resource) for r in listed):
                continue
            if all(_condition_holds(op, key, wanted, context)
                   for op, conds in st.get("Condition", {}).items() for key, wanted in conds.items()):
                allowed = True
                break
        if not allowed:
            return False
    return True


def unauthorized_message(world, service, who, action, params):
    """The service's refusal: EC2's UnauthorizedOperation message (who, which permission, on what, and an
    opaque encoded part), or STS's and Route 53's AccessDenied. Under world.lock."""
    principal = who["principal"]
    if service == "sts":
        return (f"User: {principal} is not authorized to perform: sts:{action} on resource: "
                f"{params.get('RoleArn', '')}")
    if service == "route53":
        on = (_resources(world, service, action, params) or [""])[0]
        return (f"User: {principal} is not authorized to perform: route53:{action} on resource: {on} "
                f"because no identity-based policy allows the route53:{action} action")
    region = world.region
    resource = None
    rtb = params.get("RouteTableId") or params.get("ResourceId.1")
    if action in ("ReplaceRoute", "CreateRoute", "CreateTags", "DeleteTags") and rtb:
        resource = f"arn:aws:ec2:{region}:{ACCOUNT}:route-table/{rtb}"
        if not rtb.startswith("rtb-"):
            resource = _ec2_arn(world, rtb)
    elif action == "DescribeInstanceAttribute" and params.get("InstanceId"):
        resource = f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{params['InstanceId']}"
    elif action in ("AssociateAddress", "DisassociateAddress", "AssignPrivateIpAddresses",
                    "UnassignPrivateIpAddresses"):
        resource = (_resources(world, service, action, params) or [None])[0]
    on = f" on resource: {resource}" if resource else ""
    return (f"You are not authorized to perform this operation. User: {principal} is not authorized to perform: "
            f"ec2:{action}{on} because no identity-based policy allows the ec2:{action} action. "
            f"Encoded authorization failure message: {secrets.token_urlsafe(48)}")


# How each service refuses a signature (EC2's as pg_vip's tests have always seen them; STS and Route 53
# answer as AWS's other Query and REST services do).
SIGNATURE_ERRORS = {
    "ec2": {"missing": (401, "AuthFailure", "AWS was not able to validate the provided access credentials"),
            "unknown_key": (401, "AuthFailure", "AWS was not able to validate the provided access credentials"),
            "scope": (401, "AuthFailure", "Credential should be scoped to a valid region."),
            "bad_token": (401, "AuthFailure", "AWS was not able to validate the provided access credentials"),
            "expired_token": (400, "ExpiredToken", "The security token included in the request is expired")},
    "sts": {"missing": (403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
            "unknown_key": (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
            "scope": (403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region and service."),
            "bad_token": (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
            "expired_token": (400, "ExpiredToken", "The security token included in the request is expired")},
}
SIGNATURE_ERRORS["route53"] = dict(SIGNATURE_ERRORS["sts"], expired_token=(
    403, "ExpiredToken", "The security token included in the request is expired"))


def signing_region(world, service):
    """Route 53 is global: its requests are signed for us-east-1 whatever the world's region."""
    return "us-east-1" if service == "route53" else world.region


def verify_signature(world, method, path, headers, body, service="ec2"):
    """Returns the caller's access key, or raises AwsError as the service would. botocore decides,
    with the service's own signing name and region."""
    errors = SIGNATURE_ERRORS[service]
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        raise AwsError(*errors["missing"])
    fields = {}
    for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    try:
        key, day, region, signed_service, terminal = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        raise AwsError(400, "IncompleteSignature", "The request signature does not conform to AWS standards.")
    with world.lock:
        cred = dict(world.keys.get(key) or {}) or None
    if cred is None:
        raise AwsError(*errors["unknown_key"])
    amz_date = headers.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise AwsError(400, "IncompleteSignature", "X-Amz-Date is missing or malformed.")
    if abs(datetime.datetime.now(datetime.timezone.utc) - when) > MAX_SKEW:
        raise AwsError(400, "RequestExpired", f"Request has expired. Timestamp date is {amz_date}")
    if (region != signing_region(world, service) or signed_service != service or terminal != "aws4_request"
            or day != amz_date[:8]):
        raise AwsError(*errors["scope"])
    for h in ("host", "x-amz-date"):
        if h not in signed:
            raise AwsError(403, "SignatureDoesNotMatch", f"{h} must be signed.")
    token = headers.get("x-amz-security-token")
    if cred["token"] is not None:
        if token != cred["token"]:
            raise AwsError(*errors["bad_token"])
        if cred["expires"] is not None and time.time() >= cred["expires"]:
            raise AwsError(*errors["expired_token"])
    missing = [h for h in signed if headers.get(h) is None]
    if missing:
        raise AwsError(403, "SignatureDoesNotMatch", "Signed headers are missing from the request.")
    mismatch = AwsError(403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided. "
                        "Check your AWS Secret Access Key and signing method.")
    # A signed payload hash must be the body's (botocore would take the header's word for it).
    content_hash = headers.get("x-amz-content-sha256")
    if content_hash not in (None, "UNSIGNED-PAYLOAD") and content_hash != hashlib.sha256(body).hexdigest():
        raise mismatch
    request = AWSRequest(method=method, url="http://" + headers["host"] + path, data=body,
                         headers={h: headers[h] for h in signed})
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(key, cred["secret"], cred["token"]), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, signature):
        raise mismatch
    return key


def route_xml(r, world):
    out = "<item>"
    dest_tag = "destinationIpv6CidrBlock" if ":" in r["destination"] else "destinationCidrBlock"
    out += f"<{dest_tag}>{escape(r['destination'])}</{dest_tag}>"
    if r.get("gateway"):
        out += f"<gatewayId>{escape(r['gateway'])}</gatewayId>"
    if r.get("eni"):
        instance = world.enis.get(r["eni"])
        if instance:
            out += f"<instanceId>{instance}</instanceId><instanceOwnerId>123456789012</instanceOwnerId>"
        out += f"<networkInterfaceId>{escape(r['eni'])}</networkInterfaceId>"
    out += f"<state>{r['state']}</state><origin>{r['origin']}</origin></item>"
    return out


def indexed(params, prefix):
    """Values of Prefix.1, Prefix.2, ... in order."""
    out, n = [], 1
    while f"{prefix}.{n}" in params:
        out.append(params[f"{prefix}.{n}"])
        n += 1
    return out


def destination_of(params):
    dest = params.get("DestinationCidrBlock") or params.get("DestinationIpv6CidrBlock")
    if not dest:
        raise AwsError(400, "MissingParameter", "The request must contain the parameter destinationCidrBlock")
    try:
        return str(ipaddress.ip_network(dest, strict=True))
    except ValueError:
        raise AwsError(400, "InvalidParameterValue", f"Value ({dest}) for parameter destinationCidrBlock is invalid.")


def route_control(world, args):
    """POST /_fake/route's JSON checked as EC2 checks a route: its table and
    its destination (an IPv4 CIDR block, as EC2 writes it: 10.0.99.10 is
    10.0.99.10/32), or ValueError saying what is wrong. The lab mirrors every
    route into its router's kernel: what EC2 could not hold must not get in.
    Under world.lock."""
    if not isinstance(args, dict):
        raise ValueError('expected a JSON object: {"route_table_id", "destination", "eni" | "blackhole" | "delete"}')
    rtb = args.get("route_table_id")
    if not isinstance(rtb, str) or rtb not in world.tables:
        raise ValueError(f"route_table_id {json.dumps(rtb)}: no such route table")
    dest = args.get("destination")
    try:
        if not isinstance(dest, str):
            raise ValueError
        destination = str(ipaddress.IPv4Network(dest, strict=True))
    except ValueError:
        raise ValueError(f"destination {json.dumps(dest)}: not an IPv4 CIDR block "
                         "(an address and a prefix length of 0 to 32, no host bits set)") from None
    table = world.tables[rtb]
    if any(r["destination"] == destination and r.get("origin") == "CreateRouteTable" for r in table["routes"]):
        raise ValueError(f"destination {destination}: the VPC's local route, which EC2 lets no one change")
    eni = args.get("eni")
    if args.get("delete"):
        pass
    elif args.get("blackhole"):
        if eni is not None and not isinstance(eni, str):
            raise ValueError(f"eni {json.dumps(eni)}: an interface id is a string")
    elif not isinstance(eni, str) or eni not in world.enis:
        raise ValueError(f"eni {json.dumps(eni)}: no such network interface (a route to none: \"blackhole\": true)")
    return table, destination


def address_control(world, args):
    """POST /_fake/address: an Elastic IP moved (or disassociated) by someone else, visible at once.
    {allocation_id, eni, private_ip?} or {allocation_id, disassociate: true}. Under world.lock."""
    if not isinstance(args, dict) or args.get("allocation_id") not in world.addresses:
        raise ValueError(f"allocation_id {json.dumps(args.get('allocation_id') if isinstance(args, dict) else None)}: "
                         "no such Elastic IP")
    address = world.addresses[args["allocation_id"]]
    assoc = None
    if not args.get("disassociate"):
        nic = world.nics.get(args.get("eni"))
        if nic is None:
            raise ValueError(f"eni {json.dumps(args.get('eni'))}: no such network interface")
        private = args.get("private_ip") or nic["ips"][0]
        if private not in nic["ips"]:
            raise ValueError(f"private_ip {json.dumps(private)}: not an address of {args['eni']}")
        assoc = {"association_id": new_id("eipassoc"), "eni": args["eni"], "private_ip": private}
    address["assoc"] = assoc
    address["views"] = [(0.0, assoc)]


def record_control(world, args):
    """POST /_fake/route53/record: a record changed by someone else, in sync at once.
    {zone, name, type, ttl, values} or {zone, name, type, delete: true}. Under world.lock."""
    if not isinstance(args, dict) or args.get("zone") not in world.zones:
        raise ValueError("zone: no such hosted zone")
    zone = world.zones[args["zone"]]
    if not isinstance(args.get("name"), str) or args.get("type") not in RR_TYPES:
        raise ValueError("name (a string) and type (a Route 53 record type) are needed")
    name = dns_name(args["name"])
    if name != zone["name"] and not name.endswith("." + zone["name"]):
        raise ValueError(f"name {name}: not in zone {zone['name']}")
    record = {"name": name, "type": args["type"]}
    if args.get("delete"):
        zone["records"].pop(record_key(record), None)
    else:
        if not isinstance(args.get("ttl"), int) or not isinstance(args.get("values"), list) or not args["values"]:
            raise ValueError("ttl (a number) and values (a non-empty list) are needed")
        record.update(ttl=args["ttl"], values=[str(v) for v in args["values"]])
        zone["records"][record_key(record)] = record
    zone["dns"] = [(0.0, dict(zone["records"]))]


def table_of(world, params, who):
    rtb = params.get("RouteTableId")
    if rtb not in world.tables or not mine(world.tables[rtb], who):
        raise AwsError(400, "InvalidRouteTableID.NotFound", f"The routeTable ID '{rtb}' does not exist")
    return rtb, world.tables[rtb]


def eni_of(world, params):
    eni = params.get("NetworkInterfaceId")
    if not eni:
        raise AwsError(400, "MissingParameter", "The request must contain a route target")
    if eni not in world.enis:
        raise AwsError(400, "InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID '{eni}' does not exist")
    return eni


def describe_page(world, params, ids):
    """The route table ids of this page, and the nextToken of the next one ("" if none). Under world.lock."""
    offset = 0
    token = params.get("NextToken")
    if token:
        held = world.page_tokens.pop(token, None)
        if held is None or list(held[0]) != list(ids):
            raise AwsError(400, "InvalidPaginationToken", f"Invalid pagination token: {token[:64]}")
        offset = held[1]
    size = world.page_size
    if params.get("MaxResults"):
        try:
            asked = int(params["MaxResults"])
        except ValueError:
            raise AwsError(400, "InvalidParameterValue", "Value for parameter maxResults is invalid.")
        size = min(size, asked) if size else asked
    if size <= 0:
        return ids[offset:], ""
    page = ids[offset:offset + size]
    if offset + size >= len(ids):
        return page, ""
    token = secrets.token_urlsafe(24)
    world.page_tokens[token] = (tuple(ids), offset + size)
    return page, token


def new_id(prefix, hex_digits=17):
    return f"{prefix}-{secrets.token_hex(9)[:hex_digits]}"


def mine(resource, who):
    """Whether the caller's account holds a resource (a route table, interface, address, zone): EC2
    shows a caller only its own account's, as if the others did not exist."""
    return resource.get("account", ACCOUNT) == who["account"]


def filters_of(params):
    """Filter.N.Name / Filter.N.Value.M as [(name, [values])]."""
    out, n = [], 1
    while f"Filter.{n}.Name" in params:
        out.append((params[f"Filter.{n}.Name"], indexed(params, f"Filter.{n}.Value")))
        n += 1
    return out


def tags_xml(tags):
    return "".join(f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>" for k, v in sorted(tags.items()))


def tag_filter(name, values, tags):
    """Whether EC2's tag:<key> or tag-key filter keeps a resource with these tags; None for other names."""
    if name.startswith("tag:"):
        return tags.get(name[4:]) in values
    if name == "tag-key":
        return any(k in values for k in tags)
    return None


def filters_keep(params, tags, values_of):
    """Whether a resource passes the request's filters (all of them): tag:<key> and tag-key on its tags,
    and any other name on values_of(name), the resource's values for it (None: a filter EC2 does not
    have for this kind, which it refuses)."""
    for name, values in filters_of(params):
        kept = tag_filter(name, values, tags)
        if kept is None:
            held = values_of(name)
            if held is None:
                raise AwsError(400, "InvalidParameterValue", f"The filter '{name}' is invalid")
            kept = any(v in values for v in held)
        if not kept:
            return False
    return True


def tags_of(world, rid, who):
    """The tags of a route table, interface, subnet or Elastic IP the caller's account holds, or the error
    CreateTags answers for an id it does not. Under world.lock."""
    if rid.startswith("eni-"):
        if rid not in world.nics or not mine(world.nics[rid], who):
            raise AwsError(400, "InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID '{rid}' does not exist")
        return world.nics[rid]["tags"]
    if rid.startswith("subnet-"):
        if rid not in world.subnets or not mine(world.subnets[rid], who):
            raise AwsError(400, "InvalidSubnetID.NotFound", f"The subnet ID '{rid}' does not exist")
        return world.subnets[rid]["tags"]
    if rid.startswith("eipalloc-"):
        if rid not in world.addresses or not mine(world.addresses[rid], who):
            raise AwsError(400, "InvalidAllocationID.NotFound", f"The allocation ID '{rid}' does not exist")
        return world.addresses[rid]["tags"]
    if rid not in world.tables or not mine(world.tables[rid], who):
        raise AwsError(400, "InvalidID", f"The ID '{rid}' is not valid")
    return world.tables[rid]["tags"]


def nic_of(world, eni, who, subnet_owner=False):
    """subnet_owner: the account that owns the interface's subnet may name it too (a shared VPC's owner,
    whose role pg_vip assumes, associating its Elastic IP with a participant's interface)."""
    if not eni:
        raise AwsError(400, "MissingParameter", "The request must contain the parameter networkInterfaceId")
    if eni not in world.nics or not (mine(world.nics[eni], who) or (
            subnet_owner and mine(world.subnets[world.nics[eni]["subnet"]], who))):
        raise AwsError(400, "InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID '{eni}' does not exist")
    return world.nics[eni]


def ipv4(value, parameter):
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise AwsError(400, "InvalidParameterValue", f"Value ({value}) for parameter {parameter} is invalid. "
                                                     "Invalid format for IPv4 address.") from None


# --- EC2: Elastic IPs -------------------------------------------------------
# State: world.addresses, allocation id -> {public_ip, account, tags, assoc: {association_id, eni,
# private_ip} | None, views}. The truth changes at once; DescribeAddresses (and the association an
# interface shows) answers from `views`, eip_visible_after_ms behind, as EC2's eventual consistency does.
EIP_ACTIONS = {"DescribeAddresses", "AssociateAddress", "DisassociateAddress"}


def address_xml(world, aid, address, assoc):
    out = (f"<item><publicIp>{address['public_ip']}</publicIp><allocationId>{aid}</allocationId>"
           "<domain>vpc</domain>")
    if assoc:
        nic = world.nics.get(assoc["eni"], {})
        if nic.get("instance"):
            out += f"<instanceId>{nic['instance']}</instanceId>"
        out += (f"<associationId>{assoc['association_id']}</associationId>"
                f"<networkInterfaceId>{assoc['eni']}</networkInterfaceId>"
                f"<networkInterfaceOwnerId>{nic.get('account', ACCOUNT)}</networkInterfaceOwnerId>"
                f"<privateIpAddress>{assoc['private_ip']}</privateIpAddress>")
    return (out + f"<tagSet>{tags_xml(address['tags'])}</tagSet><publicIpv4Pool>amazon</publicIpv4Pool>"
                  f"<networkBorderGroup>{world.region}</networkBorderGroup></item>")


ADDRESS_FILTERS = {
    "allocation-id": lambda aid, a, s, w: [aid],
    "association-id": lambda aid, a, s, w: [s["association_id"]] if s else [],
    "domain": lambda aid, a, s, w: ["vpc"],
    "instance-id": lambda aid, a, s, w: [w.nics.get(s["eni"], {}).get("instance")] if s else [],
    "network-interface-id": lambda aid, a, s, w: [s["eni"]] if s else [],
    "network-interface-owner-id": lambda aid, a, s, w: [w.nics.get(s["eni"], {}).get("account")] if s else [],
    "private-ip-address": lambda aid, a, s, w: [s["private_ip"]] if s else [],
    "public-ip": lambda aid, a, s, w: [a["public_ip"]],
}


def eip_answer(world, action, params, who, now):
    """Under world.lock."""
    owned = {aid: a for aid, a in world.addresses.items() if mine(a, who)}
    if action == "DescribeAddresses":
        ids, ips = indexed(params, "AllocationId"), indexed(params, "PublicIp")
        for aid in ids:
            if aid not in owned:
                raise AwsError(400, "InvalidAllocationID.NotFound", f"The allocation ID '{aid}' does not exist")
        for ip in ips:
            if not any(a["public_ip"] == ip for a in owned.values()):
                raise AwsError(400, "InvalidAddress.NotFound", f"Address '{ip}' not found.")
        items = ""
        for aid in sorted(owned):
            address = owned[aid]
            if (ids and aid not in ids) or (ips and address["public_ip"] not in ips):
                continue
            shown = World.shown_association(address, now)
            if filters_keep(params, address["tags"], lambda name: ADDRESS_FILTERS[name](aid, address, shown, world)
                            if name in ADDRESS_FILTERS else None):
                items += address_xml(world, aid, address, shown)
        return xml_response(action, f"<addressesSet>{items}</addressesSet>")
    if action == "AssociateAddress":
        aid, public_ip = params.get("AllocationId"), params.get("PublicIp")
        if aid:
            if aid not in owned:
                raise AwsError(400, "InvalidAllocationID.NotFound", f"The allocation ID '{aid}' does not exist")
        elif public_ip:
            aid = next((a for a, v in owned.items() if v["public_ip"] == public_ip), None)
            if aid is None:
                raise AwsError(400, "InvalidAddress.NotFound", f"Address '{public_ip}' not found.")
        else:
            raise AwsError(400, "MissingParameter", "Either public IP or allocation id must be specified")
        eni, iid = params.get("NetworkInterfaceId"), params.get("InstanceId")
        if eni and iid:
            raise AwsError(400, "InvalidParameterCombination",
                           "You may specify either an instance ID or a network interface ID, but not both")
        if iid:
            instance = world.instances.get(iid)
            if instance is None or not mine(world.nics[instance["eni"]], who):
                raise AwsError(400, "InvalidInstanceID.NotFound", f"The instance ID '{iid}' does not exist")
            eni = instance["eni"]
        if not eni:
            raise AwsError(400, "MissingParameter", "Either instance ID or network interface id must be specified")
        nic = nic_of(world, eni, who, subnet_owner=True)
        private = ipv4(params["PrivateIpAddress"], "privateIpAddress") if params.get("PrivateIpAddress") else nic["ips"][0]
        if private not in nic["ips"]:
            raise AwsError(400, "InvalidParameterValue",
                           f"The private IP address {private} is not assigned to network interface {eni}")
        address = owned[aid]
        # Without AllowReassociation EC2 refuses any address already associated, even where it is asked to go.
        if address["assoc"] and params.get("AllowReassociation", "").lower() != "true":
            raise AwsError(400, "Resource.AlreadyAssociated",
                           f"resource {aid} is already associated with associate-id "
                           f"{address['assoc']['association_id']}")
        # One Elastic IP per private address: one already there is disassociated.
        for other in world.addresses.values():
            if other is not address and other["assoc"] and (other["assoc"]["eni"], other["assoc"]["private_ip"]) == (
                    eni, private):
                world.associate(other, None, now)
        assoc = {"association_id": new_id("eipassoc"), "eni": eni, "private_ip": private}
        world.associate(address, assoc, now)
        return xml_response(action, f"<return>true</return><associationId>{assoc['association_id']}</associationId>")
    if action == "DisassociateAddress":
        assoc_id, public_ip = params.get("AssociationId"), params.get("PublicIp")
        if not assoc_id and not public_ip:
            raise AwsError(400, "MissingParameter", "Either public IP or association id must be specified")
        for address in owned.values():
            if assoc_id and (address["assoc"] or {}).get("association_id") == assoc_id:
                break
            if not assoc_id and address["public_ip"] == public_ip:
                break
        else:
            if assoc_id:
                raise AwsError(400, "InvalidAssociationID.NotFound", f"The association ID '{assoc_id}' does not exist")
            raise AwsError(400, "InvalidAddress.NotFound", f"Address '{public_ip}' not found.")
        if address["assoc"]:
            world.associate(address, None, now)
        return xml_response(action, "<return>true</return>")
    raise AssertionError(action)


# --- EC2: secondary private addresses ---------------------------------------
# State: world.nics, interface -> {instance, account, subnet, mac, ips: [primary, secondaries...], tags}.
# AssignPrivateIpAddresses answers at once but the address moves secondary_ip_delay_ms later
# (world.ip_moves, carried out by World.settle before every EC2 answer): until then it stays where it was.
PRIVATE_IP_ACTIONS = {"AssignPrivateIpAddresses", "UnassignPrivateIpAddresses"}


def private_ip_answer(world, action, params, who, now):
    """Under world.lock."""
    eni = params.get("NetworkInterfaceId")
    nic = nic_of(world, eni, who)
    asked = [ipv4(ip, "privateIpAddress") for ip in indexed(params, "PrivateIpAddress")]
    if action == "AssignPrivateIpAddresses":
        count = params.get("SecondaryPrivateIpAddressCount")
        if asked and count:
            raise AwsError(400, "InvalidParameterCombination",
                           "You may specify either PrivateIpAddresses or SecondaryPrivateIpAddressCount, not both")
        if not asked and not count:
            raise AwsError(400, "MissingParameter",
                           "Either PrivateIpAddresses or SecondaryPrivateIpAddressCount must be specified")
        allow = params.get("AllowReassignment", "").lower() == "true"
        subnet = world.subnets[nic["subnet"]]["cidr"]
        moves = []
        for ip in asked:
            if ipaddress.IPv4Address(ip) not in subnet:
                raise AwsError(400, "InvalidParameterValue",
                               f"Address {ip} does not fall within the subnet's address range")
            holder = world.holder_of(ip)
            if holder == eni:
                continue  # already there (or on its way): nothing to do
            if holder is not None:
                if world.nics[holder]["ips"][0] == ip:
                    raise AwsError(400, "InvalidParameterValue",
                                   f"Address {ip} is the primary private IP address of {holder} and cannot be moved")
                if not allow:
                    raise AwsError(400, "PrivateIpAddressInUse", f"Address {ip} is in use.")
            moves.append({"ip": ip, "from": holder, "to": eni})
        if count:
            try:
                count = int(count)
            except ValueError:
                raise AwsError(400, "InvalidParameterValue",
                               f"Value ({count}) for parameter secondaryPrivateIpAddressCount is invalid.") from None
            for _ in range(count):
                ip = world.free_address(nic["subnet"])
                moves.append({"ip": ip, "from": None, "to": eni})
                world.ip_moves.append(dict(moves[-1], at=float("inf")))  # held while the others are chosen
            world.ip_moves = [m for m in world.ip_moves if m["at"] != float("inf")]
        at = now + world.after("secondary_ip_delay_ms")
        for m in moves:
            world.ip_moves = [p for p in world.ip_moves if p["ip"] != m["ip"]]
            if at <= now:
                world.move_address(m["ip"], m["from"], m["to"], now)
            else:
                world.ip_moves.append(dict(m, at=at))
        items = "".join(f"<item><privateIpAddress>{m['ip']}</privateIpAddress></item>" for m in moves)
        return xml_response(action, f"<networkInterfaceId>{eni}</networkInterfaceId>"
                                    f"<assignedPrivateIpAddressesSet>{items}</assignedPrivateIpAddressesSet>"
                                    "<assignedIpv4PrefixSet/><return>true</return>")
    if not asked:
        raise AwsError(400, "MissingParameter", "The request must contain the parameter privateIpAddress")
    for ip in asked:
        if ip == nic["ips"][0]:
            raise AwsError(400, "InvalidParameterValue",
                           f"The primary private IP address {ip} of {eni} cannot be unassigned")
        if ip not in nic["ips"]:
            raise AwsError(400, "InvalidParameterValue", f"Some of the specified addresses are not assigned to "
                                                         f"interface {eni}")
    for ip in asked:
        world.move_address(ip, eni, None, now)
    return xml_response(action, "<return>true</return>")


NIC_FILTERS = {
    "network-interface-id": lambda eni, nic: [eni],
    "attachment.instance-id": lambda eni, nic: [nic["instance"]],
    "private-ip-address": lambda eni, nic: [nic["ips"][0]],
    "addresses.private-ip-address": lambda eni, nic: nic["ips"],
    "subnet-id": lambda eni, nic: [nic["subnet"]],
    "owner-id": lambda eni, nic: [nic["account"]],
    "status": lambda eni, nic: ["in-use" if nic["instance"] else "available"],
}


def describe_network_interfaces(world, params, who, now):
    """Under world.lock."""
    ids = indexed(params, "NetworkInterfaceId")
    for eni in ids:
        nic_of(world, eni, who)
    by_address = {}  # (interface, private address) -> (allocation id, address, association), as shown now
    for aid, address in world.addresses.items():
        shown = World.shown_association(address, now)
        if shown:
            by_address[(shown["eni"], shown["private_ip"])] = (aid, address, shown)
    items = ""
    for eni in ids or sorted(e for e in world.nics if mine(world.nics[e], who)):
        nic = world.nics[eni]
        if not filters_keep(params, nic["tags"], lambda name: NIC_FILTERS[name](eni, nic) if name in NIC_FILTERS else None):
            continue

        def association(ip):
            held = by_address.get((eni, ip))
            if not held:
                return ""
            aid, address, shown = held
            return (f"<association><publicIp>{address['public_ip']}</publicIp>"
                    f"<ipOwnerId>{address['account']}</ipOwnerId><allocationId>{aid}</allocationId>"
                    f"<associationId>{shown['association_id']}</associationId></association>")

        addresses = "".join(f"<item><privateIpAddress>{ip}</privateIpAddress>"
                            f"<primary>{'true' if n == 0 else 'false'}</primary>{association(ip)}</item>"
                            for n, ip in enumerate(nic["ips"]))
        iid = nic["instance"]
        attachment = ""
        if iid:
            primary = world.instances[iid]["eni"] == eni
            attachment = (f"<attachment><attachmentId>eni-attach-{eni[4:]}</attachmentId><instanceId>{iid}</instanceId>"
                          f"<deviceIndex>{0 if primary else 1}</deviceIndex><status>attached</status></attachment>")
        check = "true" if (world.source_dest_check(eni) if iid else True) else "false"
        items += (f"<item><networkInterfaceId>{escape(eni)}</networkInterfaceId>"
                  f"<subnetId>{nic['subnet']}</subnetId><vpcId>{world.subnets[nic['subnet']]['vpc_id']}</vpcId>"
                  f"<availabilityZone>{world.region}a</availabilityZone><ownerId>{nic['account']}</ownerId>"
                  f"<status>{'in-use' if iid else 'available'}</status><macAddress>{nic['mac']}</macAddress>"
                  f"<privateIpAddress>{nic['ips'][0]}</privateIpAddress>"
                  f"<sourceDestCheck>{check}</sourceDestCheck>{attachment}{association(nic['ips'][0])}"
                  f"<privateIpAddressesSet>{addresses}</privateIpAddressesSet>"
                  f"<tagSet>{tags_xml(nic['tags'])}</tagSet></item>")
    return xml_response("DescribeNetworkInterfaces", f"<networkInterfaceSet>{items}</networkInterfaceSet>")


SUBNET_FILTERS = {
    "subnet-id": lambda sid, subnet: [sid],
    "vpc-id": lambda sid, subnet: [subnet["vpc_id"]],
    "owner-id": lambda sid, subnet: [subnet["account"]],
    "cidr-block": lambda sid, subnet: [str(subnet["cidr"])],
}


def describe_subnets(world, params, who):
    """The subnets asked for (SubnetId.N; none: every one of the caller's account), with their tags: a
    secondary IP's fence is on its subnet. Under world.lock."""
    ids = indexed(params, "SubnetId")
    for sid in ids:
        if sid not in world.subnets or not mine(world.subnets[sid], who):
            raise AwsError(400, "InvalidSubnetID.NotFound", f"The subnet ID '{sid}' does not exist")
    items = ""
    for sid in ids or sorted(s for s in world.subnets if mine(world.subnets[s], who)):
        subnet = world.subnets[sid]
        if not filters_keep(params, subnet["tags"],
                            lambda name: SUBNET_FILTERS[name](sid, subnet) if name in SUBNET_FILTERS else None):
            continue
        free = subnet["cidr"].num_addresses - 5 - sum(
            1 for nic in world.nics.values() if nic["subnet"] == sid for _ in nic["ips"])
        items += (f"<item><subnetId>{escape(sid)}</subnetId><subnetArn>{_ec2_arn(world, sid)}</subnetArn>"
                  f"<state>available</state><ownerId>{subnet['account']}</ownerId>"
                  f"<vpcId>{subnet['vpc_id']}</vpcId><cidrBlock>{subnet['cidr']}</cidrBlock>"
                  f"<availableIpAddressCount>{max(free, 0)}</availableIpAddressCount>"
                  f"<availabilityZone>{world.region}a</availabilityZone><defaultForAz>false</defaultForAz>"
                  f"<mapPublicIpOnLaunch>false</mapPublicIpOnLaunch><tagSet>{tags_xml(subnet['tags'])}</tagSet></item>")
    return xml_response("DescribeSubnets", f"<subnetSet>{items}</subnetSet>")


def ec2_action(world, action, params, who):
    answer = ec2_answer(world, action, params, who)
    if action in CHANGING:
        world.routes_changed()
    return answer


def ec2_answer(world, action, params, who):
    with world.lock:
        now = time.time()
        world.settle(now)
        if action in EIP_ACTIONS:
            return eip_answer(world, action, params, who, now)
        if action in PRIVATE_IP_ACTIONS:
            return private_ip_answer(world, action, params, who, now)
        if action == "ReplaceRoute":
            rtb, table = table_of(world, params, who)
            dest, eni = destination_of(params), eni_of(world, params)
            for r in table["routes"]:
                if r["destination"] == dest:
                    if r.get("origin") == "CreateRouteTable":
                        raise AwsError(400, "InvalidParameterValue", "Cannot replace the local route")
                    r.update(eni=eni, state="active", gateway=None)
                    return xml_response(action, "<return>true</return>")
            raise AwsError(400, "InvalidParameterValue",
                           f"There is no route defined for '{dest}' in the route table. Use CreateRoute instead.")
        if action == "CreateRoute":
            rtb, table = table_of(world, params, who)
            dest, eni = destination_of(params), eni_of(world, params)
            if any(r["destination"] == dest for r in table["routes"]):
                raise AwsError(400, "RouteAlreadyExists", f"The route identified by {dest} already exists.")
            table["routes"].append({"destination": dest, "eni": eni, "state": "active", "origin": "CreateRoute"})
            return xml_response(action, "<return>true</return>")
        if action == "DescribeRouteTables":
            ids = indexed(params, "RouteTableId") or sorted(t for t in world.tables if mine(world.tables[t], who))
            for rtb in ids:
                if rtb not in world.tables or not mine(world.tables[rtb], who):
                    raise AwsError(400, "InvalidRouteTableID.NotFound", f"The routeTable ID '{rtb}' does not exist")
            ids, next_token = describe_page(world, params, ids)
            items = ""
            for rtb in ids:
                t = world.tables[rtb]
                routes = "".join(route_xml(r, world) for r in t["routes"])
                tags = "".join(f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>"
                               for k, v in sorted(t["tags"].items()))
                items += (f"<item><routeTableId>{rtb}</routeTableId><vpcId>{t['vpc_id']}</vpcId>"
                          f"<ownerId>123456789012</ownerId><routeSet>{routes}</routeSet>"
                          f"<associationSet/><propagatingVgwSet/><tagSet>{tags}</tagSet></item>")
            more = f"<nextToken>{next_token}</nextToken>" if next_token else ""
            return xml_response(action, f"<routeTableSet>{items}</routeTableSet>{more}")
        if action == "CreateTags":
            ids = indexed(params, "ResourceId")
            if not ids:
                raise AwsError(400, "MissingParameter", "The request must contain the parameter resourceIdSet")
            tags, n = {}, 1
            while f"Tag.{n}.Key" in params:
                key, value = params[f"Tag.{n}.Key"], params.get(f"Tag.{n}.Value", "")
                if len(key) > 128 or len(value) > 256:
                    raise AwsError(400, "InvalidParameterValue", "Tag keys have at most 128 and values 256 characters")
                tags[key] = value
                n += 1
            holders = [tags_of(world, rid, who) for rid in ids]
            for held in holders:
                # EC2 keeps at most 50 tags per resource.
                if len(set(held) | set(tags)) > 50:
                    raise AwsError(400, "TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
            for held in holders:
                held.update(tags)
            return xml_response(action, "<return>true</return>")
        if action == "DeleteTags":
            # Tag.N.Key alone deletes the key whatever its value; with
            # Tag.N.Value, only when the value matches. A key that is not
            # there is no error.
            ids = indexed(params, "ResourceId")
            if not ids:
                raise AwsError(400, "MissingParameter", "The request must contain the parameter resourceIdSet")
            holders = [tags_of(world, rid, who) for rid in ids]
            n = 1
            while f"Tag.{n}.Key" in params:
                key, value = params[f"Tag.{n}.Key"], params.get(f"Tag.{n}.Value")
                for tags in holders:
                    if key in tags and (value is None or tags[key] == value):
                        del tags[key]
                n += 1
            return xml_response(action, "<return>true</return>")
        if action == "DescribeInstanceAttribute":
            iid, attr = params.get("InstanceId"), params.get("Attribute")
            if iid not in world.instances:
                raise AwsError(400, "InvalidInstanceID.NotFound", f"The instance ID '{iid}' does not exist")
            if attr != "sourceDestCheck":
                raise AwsError(400, "InvalidParameterValue", f"Value ({attr}) for parameter attribute is invalid.")
            value = "true" if world.instances[iid]["source_dest_check"] else "false"
            return xml_response(action, f"<instanceId>{iid}</instanceId><sourceDestCheck><value>{value}</value>"
                                        "</sourceDestCheck>")
        if action == "DescribeNetworkInterfaces":
            return describe_network_interfaces(world, params, who, now)
        if action == "DescribeSubnets":
            return describe_subnets(world, params, who)
        if action == "DescribeNetworkInterfaceAttribute":
            eni, attr = params.get("NetworkInterfaceId"), params.get("Attribute")
            if eni not in world.enis:
                raise AwsError(400, "InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID '{eni}' does not exist")
            if attr != "sourceDestCheck":
                raise AwsError(400, "InvalidParameterValue", f"Value ({attr}) for parameter attribute is invalid.")
            value = "true" if world.source_dest_check(eni) else "false"
            return xml_response(action, f"<networkInterfaceId>{escape(eni)}</networkInterfaceId>"
                                        f"<sourceDestCheck><value>{value}</value></sourceDestCheck>")
        if action == "ModifyNetworkInterfaceAttribute":
            eni, value = params.get("NetworkInterfaceId"), params.get("SourceDestCheck.Value", "").lower()
            if eni not in world.enis:
                raise AwsError(400, "InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID '{eni}' does not exist")
            if value not in ("true", "false"):
                raise AwsError(400, "InvalidParameterCombination", "Only SourceDestCheck.Value is supported here.")
            world.set_source_dest_check(eni, value == "true")
            return xml_response(action, "<return>true</return>")
        if action == "ModifyInstanceAttribute":
            iid, value = params.get("InstanceId"), params.get("SourceDestCheck.Value", "").lower()
            if iid not in world.instances:
                raise AwsError(400, "InvalidInstanceID.NotFound", f"The instance ID '{iid}' does not exist")
            if value not in ("true", "false"):
                raise AwsError(400, "InvalidParameterCombination", "Only SourceDestCheck.Value is supported here.")
            world.instances[iid]["source_dest_check"] = value == "true"
            return xml_response(action, "<return>true</return>")
    raise AwsError(400, "InvalidAction", f"The action {action} is not valid for this web service.")


# --- STS ----------------------------------------------------------------------
# AssumeRole (Query API, Version 2011-06-15, on the same port as EC2: the
# Version tells them apart). world.roles, role ARN -> {trusted, external_id,
# account, max_session_duration}. A session's credentials are remembered in
# world.keys with the role's ARN and account: its calls are logged with the
# caller "role:<ARN>" and see that account's resources.
ROLE_SESSION_NAME = re.compile(r"[\w+=,.@-]*")


def sts_response(action, body):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{NS_STS}"><{action}Result>{body}'
            f"</{action}Result><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</{action}Response>")


def query_error_xml(ns, code, message, status):
    """The <ErrorResponse> of STS and Route 53 (and EC2's other form)."""
    kind = "Receiver" if status >= 500 else "Sender"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{ns}"><Error><Type>{kind}</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")


def validation_error(value, field, constraint):
    return AwsError(400, "ValidationError",
                    f"1 validation error detected: Value {value} at '{field}' failed to satisfy constraint: "
                    f"Member must {constraint}")


def unique_id(prefix, arn):
    """IAM's unique id of a user (AIDA...) or role (AROA...): one per ARN."""
    return prefix + hashlib.sha256(arn.encode()).hexdigest()[:17].upper()


def sts_answer(world, action, params, who):
    if action == "GetCallerIdentity":
        user_id = (f"{unique_id('AROA', who['role'])}:{who['principal'].rsplit('/', 1)[-1]}" if who["role"]
                   else unique_id("AIDA", who["principal"]))
        return sts_response(action, f"<Arn>{who['principal']}</Arn><UserId>{user_id}</UserId>"
                                    f"<Account>{who['account']}</Account>")
    if action != "AssumeRole":
        raise AwsError(400, "InvalidAction", f"Could not find operation {action} for version {STS_VERSION}")
    arn, session = params.get("RoleArn"), params.get("RoleSessionName")
    if arn is None:
        raise validation_error("null", "roleArn", "not be null")
    if session is None:
        raise validation_error("null", "roleSessionName", "not be null")
    if not 2 <= len(session) <= 64:
        raise validation_error(f"'{session}'", "roleSessionName",
                               "have length greater than or equal to 2" if len(session) < 2
                               else "have length less than or equal to 64")
    if not ROLE_SESSION_NAME.fullmatch(session):
        raise validation_error(f"'{session}'", "roleSessionName", r"satisfy regular expression pattern: [\w+=,.@-]*")
    try:
        duration = int(params.get("DurationSeconds", "3600"))
    except ValueError:
        raise AwsError(400, "MalformedInput", "DurationSeconds is not a number") from None
    if duration < 900:
        raise validation_error(f"'{duration}'", "durationSeconds", "have value greater than or equal to 900")
    if duration > 43200:
        raise validation_error(f"'{duration}'", "durationSeconds", "have value less than or equal to 43200")
    with world.lock:
        role = world.roles.get(arn)
        trusted = role is not None and any(
            c is not None and c in role["trusted"] for c in (who["key"], who["instance"], who["role"], who["account"]))
        # A role whose trust names an external id is assumed only with it (the confused-deputy guard).
        external_ok = role is not None and (role["external_id"] is None
                                            or params.get("ExternalId") == role["external_id"])
        if not (trusted and external_ok):
            # AWS words every refusal alike, an unknown role included: the caller learns nothing more.
            raise AwsError(403, "AccessDenied", f"User: {who['principal']} is not authorized to perform: "
                                                f"sts:AssumeRole on resource: {arn}")
        if duration > role["max_session_duration"]:
            raise AwsError(400, "ValidationError",
                           "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        if who["role"] and duration > 3600:
            raise AwsError(400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit "
                                                   "for roles assumed by role chaining.")
        now = time.time()
        lifetime = world.after("assume_role_ttl_s") or duration
        key = "ASIA" + secrets.token_hex(8).upper()
        # STS writes both in standard base64 (+ and /, never - or _): 40 characters of secret.
        secret = base64.b64encode(secrets.token_bytes(30)).decode()
        token = base64.b64encode(secrets.token_bytes(90)).decode()
        name = arn.rsplit("/", 1)[-1]
        principal = f"arn:aws:sts::{role['account']}:assumed-role/{name}/{session}"
        world.keys[key] = {"secret": secret, "token": token, "expires": now + lifetime, "instance": None,
                           "account": role["account"], "role": arn, "principal": principal}
    role_id = unique_id("AROA", arn)
    return sts_response(action, f"<AssumedRoleUser><AssumedRoleId>{role_id}:{session}</AssumedRoleId>"
                                f"<Arn>{principal}</Arn></AssumedRoleUser>"
                                f"<Credentials><AccessKeyId>{key}</AccessKeyId>"
                                f"<SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>"
                                f"<Expiration>{iso(now + lifetime)}</Expiration></Credentials>")


# --- Route 53 -----------------------------------------------------------------
# The REST XML API, version 2013-04-01, on the same port (its paths tell it
# apart), signed for route53 in us-east-1. world.zones, zone id -> {name,
# account, records: {(name, type, set identifier): record}, dns}; names held
# as Route 53 answers them: lower case, with the trailing dot. A change is
# PENDING for route53_insync_after_ms, then INSYNC; `dns` is what a resolver
# answers (GET /_fake/route53/zone/<id>): the records of the newest change
# in sync.
RR_TYPES = {"SOA", "A", "TXT", "NS", "CNAME", "MX", "NAPTR", "PTR", "SRV", "SPF", "AAAA", "CAA", "DS"}


def dns_name(name):
    name = name.lower()
    return name if name.endswith(".") else name + "."


def record_key(record):
    return record["name"], record["type"], record.get("set_identifier") or ""


def record_order(record):
    """Route 53's listing order: the name with its labels reversed (com.example.www.), then type, then id."""
    labels = record["name"].rstrip(".").split(".")
    return ".".join(reversed(labels)) + ".", record["type"], record.get("set_identifier") or ""


def record_label(record):
    extra = f", set-identifier='{record['set_identifier']}'" if record.get("set_identifier") else ""
    return f"[name='{record['name']}', type='{record['type']}'{extra}]"


def route53_response(action, body):
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{NS_ROUTE53}">{body}</{action}Response>'


def _children(element, name):
    return [c for c in element if c.tag.rsplit("}", 1)[-1] == name]


def _text(element, name):
    found = _children(element, name)
    return found[0].text or "" if found else None


def parse_change_batch(body):
    """ChangeResourceRecordSetsRequest's changes as [{Action, Name, Type, TTL, Values, SetIdentifier,
    Weight, Alias}], and its comment; AwsError InvalidInput for what Route 53 would not parse."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as e:
        raise AwsError(400, "InvalidInput", f"Invalid XML ; {e}") from None
    batch = _children(root, "ChangeBatch")
    if root.tag.rsplit("}", 1)[-1] != "ChangeResourceRecordSetsRequest" or not batch:
        raise AwsError(400, "InvalidInput", "Invalid XML ; expected a ChangeResourceRecordSetsRequest with a ChangeBatch")
    changes = []
    for holder in _children(batch[0], "Changes"):
        for c in _children(holder, "Change"):
            rrsets = _children(c, "ResourceRecordSet")
            rrset = rrsets[0] if rrsets else ElementTree.Element("none")
            values = [_text(r, "Value") or "" for rr in _children(rrset, "ResourceRecords")
                      for r in _children(rr, "ResourceRecord")]
            ttl = _text(rrset, "TTL")
            weight = _text(rrset, "Weight")
            try:
                ttl = int(ttl) if ttl is not None else None
                weight = int(weight) if weight is not None else None
            except ValueError:
                raise AwsError(400, "InvalidInput", "Invalid XML ; TTL and Weight are numbers") from None
            changes.append({"Action": _text(c, "Action") or "", "Name": _text(rrset, "Name") or "",
                            "Type": _text(rrset, "Type") or "", "TTL": ttl, "Values": values,
                            "SetIdentifier": _text(rrset, "SetIdentifier"), "Weight": weight,
                            "Alias": bool(_children(rrset, "AliasTarget"))})
    if not changes:
        raise AwsError(400, "InvalidInput", "Invalid XML ; a ChangeBatch has at least one Change")
    return changes, _text(batch[0], "Comment")


def route53_request(method, path, body):
    """(action, params) of a Route 53 request, from its method, path and body."""
    url = urllib.parse.urlsplit(path)
    parts = url.path[len(ROUTE53_PREFIX):].strip("/").split("/")
    query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
    if len(parts) == 3 and parts[0] == "hostedzone" and parts[2] == "rrset":
        params = dict(query, HostedZoneId=urllib.parse.unquote(parts[1]))
        if method == "POST":
            try:
                params["Changes"], params["Comment"] = parse_change_batch(body)
            except AwsError as e:
                params["Changes"], params["_invalid"] = [], (e.status, e.code, e.message)
            return "ChangeResourceRecordSets", params
        return "ListResourceRecordSets", params
    if len(parts) == 2 and parts[0] == "change" and method == "GET":
        return "GetChange", {"Id": urllib.parse.unquote(parts[1])}
    return "Unknown", {"Path": url.path}


def zone_of(world, zone_id, who):
    """Under world.lock."""
    zone = world.zones.get(zone_id)
    if zone is None:
        raise AwsError(404, "NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}")
    if not mine(zone, who):
        raise AwsError(403, "AccessDenied", f"User: {who['principal']} is not authorized to access this resource")
    return zone


def change_info(cid, change, now):
    status = "INSYNC" if now >= change["insync_at"] else "PENDING"
    submitted = datetime.datetime.fromtimestamp(change["submitted"], datetime.timezone.utc)
    comment = f"<Comment>{escape(change['comment'])}</Comment>" if change.get("comment") else ""
    return (f"<ChangeInfo><Id>/change/{cid}</Id><Status>{status}</Status>"
            f"<SubmittedAt>{submitted.strftime('%Y-%m-%dT%H:%M:%S.')}{submitted.microsecond // 1000:03d}Z</SubmittedAt>"
            f"{comment}</ChangeInfo>")


def apply_changes(zone, changes):
    """The zone's records after the batch, or InvalidChangeBatch naming every change that failed: Route 53
    applies a batch whole or not at all, each change against the records the ones before it left."""
    records = dict(zone["records"])
    problems = []
    for c in changes:
        if c["Action"] not in ("CREATE", "DELETE", "UPSERT"):
            raise AwsError(400, "InvalidInput", f"Invalid request: unknown change action '{c['Action']}'")
        if c["Type"] not in RR_TYPES:
            raise AwsError(400, "InvalidInput", f"Invalid request: unknown record type '{c['Type']}'")
        name = dns_name(c["Name"])
        if c["Alias"]:
            raise AwsError(400, "InvalidInput", "Invalid request: alias records are not supported by this endpoint")
        if c["TTL"] is None or not c["Values"]:
            raise AwsError(400, "InvalidInput",
                           "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], "
                           f"or TrafficPolicyInstanceId], but found none in Change with [Action={c['Action']}, "
                           f"Name={name}, Type={c['Type']}, SetIdentifier={c['SetIdentifier'] or 'null'}]")
        record = {"name": name, "type": c["Type"], "ttl": c["TTL"], "values": list(c["Values"])}
        if c["SetIdentifier"]:
            record["set_identifier"] = c["SetIdentifier"]
        if c["Weight"] is not None:
            record["weight"] = c["Weight"]
        if name != zone["name"] and not name.endswith("." + zone["name"]):
            problems.append(f"RRSet with DNS name {name} is not permitted in zone {zone['name']}")
            continue
        if c["Type"] == "A" and c["Action"] != "DELETE":
            bad = [v for v in record["values"] if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", v)
                   or any(int(o) > 255 for o in v.split("."))]
            if bad:
                problems.append(f"Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not "
                                f"a valid IPv4 address) encountered with '{bad[0]}''")
                continue
        key = record_key(record)
        held = records.get(key)
        if c["Action"] == "CREATE":
            if held:
                problems.append(f"Tried to create resource record set {record_label(record)} but it already exists")
                continue
            records[key] = record
        elif c["Action"] == "DELETE":
            if not held:
                problems.append(f"Tried to delete resource record set {record_label(record)} but it was not found")
                continue
            if held["ttl"] != record["ttl"] or sorted(held["values"]) != sorted(record["values"]) or held.get(
                    "weight") != record.get("weight"):
                problems.append(f"Tried to delete resource record set {record_label(record)} but the values "
                                "provided do not match the current values")
                continue
            del records[key]
        else:
            records[key] = record
    if problems:
        raise AwsError(400, "InvalidChangeBatch", "[" + ", ".join(problems) + "]")
    return records


def route53_answer(world, action, params, who):
    if "_invalid" in params:
        raise AwsError(*params["_invalid"])
    with world.lock:
        now = time.time()
        if action == "ChangeResourceRecordSets":
            zone = zone_of(world, params["HostedZoneId"], who)
            zone["records"] = apply_changes(zone, params["Changes"])
            cid = "C" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(20))
            insync_at = now + world.after("route53_insync_after_ms")
            world.changes[cid] = {"zone": params["HostedZoneId"], "submitted": now, "insync_at": insync_at,
                                  "comment": params.get("Comment")}
            # Versions no resolver can be shown any more are dropped: all but the newest already in sync.
            synced = [v for v in zone["dns"] if v[0] <= now]
            zone["dns"] = synced[-1:] + [v for v in zone["dns"] if v[0] > now] + [(insync_at, dict(zone["records"]))]
            return route53_response(action, change_info(cid, world.changes[cid], -1))
        if action == "ListResourceRecordSets":
            zone = zone_of(world, params["HostedZoneId"], who)
            start_name, start_type = params.get("name"), params.get("type")
            start_id = params.get("identifier")
            if start_type and not start_name:
                raise AwsError(400, "InvalidInput", "The input is not valid: a record type needs a record name")
            if start_type and start_type not in RR_TYPES:
                raise AwsError(400, "InvalidInput", f"Invalid type: {start_type}")
            try:
                max_items = int(params.get("maxitems", "300"))
            except ValueError:
                raise AwsError(400, "InvalidInput", "maxitems must be a number") from None
            if max_items < 1:
                raise AwsError(400, "InvalidInput", "maxitems must be at least 1")
            listed = sorted(zone["records"].values(), key=record_order)
            if start_name:
                start = record_order({"name": dns_name(start_name), "type": start_type or "",
                                      "set_identifier": start_id or ""})
                listed = [r for r in listed if record_order(r) >= start]
            page, rest = listed[:min(max_items, 300)], listed[min(max_items, 300):]
            items = ""
            for r in page:
                extra = f"<SetIdentifier>{escape(r['set_identifier'])}</SetIdentifier>" if r.get("set_identifier") else ""
                extra += f"<Weight>{r['weight']}</Weight>" if r.get("weight") is not None else ""
                values = "".join(f"<ResourceRecord><Value>{escape(v)}</Value></ResourceRecord>" for v in r["values"])
                items += (f"<ResourceRecordSet><Name>{escape(r['name'])}</Name><Type>{r['type']}</Type>{extra}"
                          f"<TTL>{r['ttl']}</TTL><ResourceRecords>{values}</ResourceRecords></ResourceRecordSet>")
            more = ""
            if rest:
                more = f"<NextRecordName>{escape(rest[0]['name'])}</NextRecordName><NextRecordType>{rest[0]['type']}</NextRecordType>"
                if rest[0].get("set_identifier"):
                    more += f"<NextRecordIdentifier>{escape(rest[0]['set_identifier'])}</NextRecordIdentifier>"
            return route53_response(action, f"<ResourceRecordSets>{items}</ResourceRecordSets>"
                                             f"<IsTruncated>{'true' if rest else 'false'}</IsTruncated>{more}"
                                             f"<MaxItems>{max_items}</MaxItems>")
        if action == "GetChange":
            cid = params["Id"]
            change = world.changes.get(cid)
            if change is None:
                raise AwsError(404, "NoSuchChange", f"A change with the specified change ID does not exist: {cid}")
            zone_of(world, change["zone"], who)
            return route53_response(action, change_info(cid, change, now))
    raise AwsError(404, "InvalidInput", f"Unknown operation: {params.get('Path')}")


def dns_view(zone, now):
    """What a resolver answers for a zone now: the records of its newest change in sync."""
    records = max((v for v in zone["dns"] if v[0] <= now), key=lambda v: v[0])[1]
    return [dict(r) for r in sorted(records.values(), key=record_order)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as EC2: pg_vip reuses connections
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle and
    # the client's delayed ACK add 40 ms to an answer, which EC2 does not.
    disable_nagle_algorithm = True
    server_version = "AmazonEC2"
    sys_version = ""

    def log_message(self, fmt, *args):  # the request log is the record; keep stderr quiet
        pass

    def date_time_string(self, timestamp=None):
        """The Date header: the server's clock, moved by the fault date_skew_s."""
        skew = getattr(self.server.world, "date_skew", 0.0)
        return super().date_time_string((time.time() if timestamp is None else timestamp) + skew)

    def lower_headers(self):
        return {k.lower(): v for k, v in self.headers.items()}

    def send(self, status, body, content_type="text/xml;charset=UTF-8"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1 << 20:
            raise AwsError(413, "RequestEntityTooLarge", "Request body too large")
        return self.rfile.read(length) if length else b""


def state_of(world):
    """GET /_fake/state. Under world.lock."""
    now = time.time()
    return {"tables": world.tables, "instances": world.instances,
            "keys": sorted(world.keys),
            "key_instances": {k: c.get("instance") for k, c in world.keys.items()},
            "key_callers": {k: World.caller_name(c) for k, c in world.keys.items()},
            "faults": world.faults, "deny": world.deny_rules, "error_form": world.error_form,
            "describe_page_size": world.page_size, "timing": world.timing,
            "accounts": world.accounts,
            "subnets": {sid: dict(s, cidr=str(s["cidr"])) for sid, s in world.subnets.items()},
            "network_interfaces": world.nics,
            "ip_moves": [dict(m, in_ms=round((m["at"] - now) * 1000)) for m in world.ip_moves],
            "addresses": {aid: {"public_ip": a["public_ip"], "account": a["account"], "tags": a["tags"],
                                "association": a["assoc"],
                                "shown": World.shown_association(a, now)} for aid, a in world.addresses.items()},
            "roles": world.roles,
            "hosted_zones": {zid: {"name": z["name"], "account": z["account"],
                                   "records": sorted(z["records"].values(), key=record_order)}
                             for zid, z in world.zones.items()},
            "changes": {cid: dict(c, status="INSYNC" if now >= c["insync_at"] else "PENDING")
                        for cid, c in world.changes.items()}}


class Ec2Handler(Handler):
    """The AWS port: EC2 and STS (Query API, told apart by Version), Route 53 (REST, under /2013-04-01/),
    and the control API under /_fake/."""

    def do_GET(self):
        world = self.server.world
        if self.path == "/_fake/log":
            with world.lock:
                return self.send(200, json.dumps(world.log), "application/json")
        if self.path == "/_fake/state":
            with world.lock:
                world.settle()
                return self.send(200, json.dumps(state_of(world), default=str), "application/json")
        if self.path == "/_fake/buckets":
            return self.send(200, json.dumps(world.buckets.view()), "application/json")
        if self.path.startswith("/_fake/route53/zone/"):
            zone_id = self.path[len("/_fake/route53/zone/"):]
            with world.lock:
                zone = world.zones.get(zone_id)
                if zone is None:
                    return self.send(404, "no such hosted zone", "text/plain")
                now = time.time()
                view = {"id": zone_id, "name": zone["name"], "account": zone["account"],
                        "records": [dict(r) for r in sorted(zone["records"].values(), key=record_order)],
                        "dns": dns_view(zone, now)}
            return self.send(200, json.dumps(view), "application/json")
        if self.path.startswith(ROUTE53_PREFIX):
            return self.route53(b"", time.time())
        self.send(400, xml_error("InvalidAction", "GET is not supported; POST a form.", world.error_form))

    def do_POST(self):
        received = time.time()
        world = self.server.world
        try:
            body = self.read_body()
        except AwsError as e:
            return self.send(e.status, xml_error(e.code, e.message, world.error_form, e.status))
        if self.path.startswith("/_fake/"):
            return self.control(self.path[len("/_fake/"):], body)
        if self.path.startswith(ROUTE53_PREFIX):
            return self.route53(body, received)
        params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                                           keep_blank_values=True).items()}
        action = params.pop("Action", "")
        service = "sts" if params.pop("Version", None) == STS_VERSION else "ec2"
        dry_run = service == "ec2" and params.get("DryRun", "").lower() == "true"
        return self.serve(service, action, params, body, received, dry_run)

    def route53(self, body, received):
        action, params = route53_request(self.command, self.path, body)
        return self.serve("route53", action, params, body, received)

    def error_body(self, service, e):
        world = self.server.world
        if service == "sts":
            return query_error_xml(NS_STS, e.code, e.message, e.status)
        if service == "route53":
            return query_error_xml(NS_ROUTE53, e.code, e.message, e.status)
        return xml_error(e.code, e.message, world.error_form, e.status)

    def serve(self, service, action, params, body, received, dry_run=False):
        """One signed request, whichever service: signature, deny rules and policy, faults, then the answer."""
        world = self.server.world
        logged = {k: v for k, v in params.items() if not k.startswith("_")}
        entry = {"t": received, "service": service, "action": action, "params": logged,
                 "changing": action in CHANGING and not dry_run, "access_key": None, "caller": None,
                 "status": None, "code": None}
        if dry_run:
            entry["dry_run"] = True
        try:
            if received < world.down_until:
                entry["status"], entry["code"] = "dropped", "Down"
                world.record(entry)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            delay = world.faults.get("delay_ms", 0)
            if delay:
                time.sleep(delay / 1000.0)
            entry["access_key"] = verify_signature(world, self.command, self.path, self.lower_headers(), body, service)
            who = world.who(entry["access_key"])
            entry["caller"] = who["caller"]
            denied = world.denial(who, service, action, params)
            if denied:
                raise denied
            if world.take_fault("drop_next", action, service):
                entry["status"], entry["code"] = "dropped", "Dropped"
                world.record(entry)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            stall = world.take_fault("stall_next", action, service)
            if stall:
                entry["code"] = "Stalled"
                time.sleep(stall.get("seconds", 30))
            fail = world.take_fault("fail_next", action, service)
            if fail:
                raise AwsError(fail.get("status", 503), fail.get("code", "RequestLimitExceeded"),
                               fail.get("message", "Request limit exceeded."))
            if world.take_fault("garbage_next", action, service):
                entry["status"], entry["code"] = 200, "Garbage"
                world.record(entry)
                return self.send(200, b"<?xml version='1.0'?><ReplaceRouteResp\x00\xff garbage")
            if not world.buckets.take(service, action, dry_run):
                entry["throttled"] = True
                raise AwsError(*THROTTLED[service])
            if dry_run:
                if action not in DRY_RUN_ACTIONS:
                    raise AwsError(400, "InvalidAction", f"The action {action} is not valid for this web service.")
                raise AwsError(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
            if service == "sts":
                answer = sts_answer(world, action, params, who)
            elif service == "route53":
                answer = route53_answer(world, action, params, who)
            else:
                answer = ec2_action(world, action, params, who)
            if world.take_fault("lose_answer_next", action, service):
                # Carried out, and the answer lost on the way back.
                entry["status"], entry["code"] = "applied-dropped", "AnswerLost"
                world.record(entry)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            entry["status"] = 200
            world.record(entry)
            return self.send(200, answer)
        except AwsError as e:
            entry["status"], entry["code"] = e.status, e.code
            world.record(entry)
            return self.send(e.status, self.error_body(service, e))
        except (BrokenPipeError, ConnectionResetError, OSError):
            return

    def control(self, what, body):
        world = self.server.world
        try:
            args = json.loads(body or b"{}")
        except ValueError:
            return self.send(400, "bad JSON", "text/plain")
        # The buckets have their own lock (see RateLimits).
        if what == "buckets":
            try:
                world.buckets.configure(args)
            except ValueError as e:
                return self.send(400, str(e), "text/plain")
            return self.send(200, "{}", "application/json")
        if what == "buckets/counts/clear":
            world.buckets.clear_counts()
            return self.send(200, "{}", "application/json")
        with world.lock:
            if what == "log/clear":
                world.log.clear()
            elif what == "faults":
                for name, value in args.items():
                    if name == "delay_ms":
                        world.faults["delay_ms"] = int(value)
                    elif name == "down_for_s":
                        world.down_until = time.time() + float(value)
                    elif name in ("fail_next", "stall_next"):
                        world.faults[name] = dict(value)
                    elif name in ("drop_next", "garbage_next", "lose_answer_next"):
                        world.faults[name] = {"count": int(value)} if isinstance(value, int) else dict(value)
                    elif name == "error_form":
                        if value not in ERROR_FORMS:
                            return self.send(400, f"error_form must be one of {ERROR_FORMS}", "text/plain")
                        world.error_form = value
                    elif name == "describe_page_size":
                        world.page_size = int(value or 0)
                    elif name == "date_skew_s":
                        world.date_skew = float(value or 0)
                    elif name in TIMING_SETTINGS:
                        world.timing[name] = None if value is None else float(value)
                    elif name == "clear":
                        world.faults.clear()
                        world.down_until = 0
                        world.reset_answers()
                    else:
                        return self.send(400, f"unknown fault {name}", "text/plain")
            elif what == "policy":
                # A caller: an instance, or an AssumeRole session's role ("role": ARN; its caller "role:<ARN>").
                caller = args.get("instance") or args.get("caller") or (
                    "role:" + args["role"] if isinstance(args.get("role"), str) else None)
                if not isinstance(caller, str) or not isinstance(args.get("policy"), (dict, type(None))):
                    return self.send(400, 'expected {"instance": "i-..." | "role": ARN | "caller": NAME, '
                                          '"policy": {...} | null}', "text/plain")
                if args["policy"] is None:
                    world.policies.pop(caller, None)
                else:
                    world.policies[caller] = args["policy"]
            elif what == "deny":
                rules = args.get("rules")
                if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
                    return self.send(400, 'expected {"rules": [{...}, ...]}', "text/plain")
                for r in rules:
                    unknown = set(r) - DENY_FIELDS
                    if unknown:
                        return self.send(400, f"unknown deny rule fields {sorted(unknown)}", "text/plain")
                    if "actions" in r and not isinstance(r["actions"], list):
                        return self.send(400, "a deny rule's actions is a list", "text/plain")
                world.deny_rules = [dict(r) for r in rules]
            elif what == "route":
                try:
                    table, destination = route_control(world, args)
                except ValueError as e:
                    return self.send(400, str(e), "text/plain")
                table["routes"] = [r for r in table["routes"] if r["destination"] != destination]
                if not args.get("delete"):
                    table["routes"].append({"destination": destination, "eni": args.get("eni"),
                                            "state": "blackhole" if args.get("blackhole") else "active",
                                            "origin": "CreateRoute"})
            elif what == "tag":
                # What anyone allowed ec2:CreateTags could write (or delete).
                tags = world.tables[args["route_table_id"]]["tags"]
                if args.get("delete"):
                    tags.pop(args["key"], None)
                else:
                    tags[args["key"]] = args["value"]
            elif what == "expire_role_credentials":
                # All temporary credentials, or ({"role": ARN}) only that role's AssumeRole sessions.
                for cred in world.keys.values():
                    if cred["expires"] is not None and args.get("role") in (None, cred.get("role")):
                        cred["expires"] = time.time() - 1
            elif what == "address":
                try:
                    address_control(world, args)
                except ValueError as e:
                    return self.send(400, str(e), "text/plain")
            elif what == "route53/record":
                try:
                    record_control(world, args)
                except ValueError as e:
                    return self.send(400, str(e), "text/plain")
            elif what == "reset_addresses":
                world.reset_interfaces()
                world.reset_addresses()
            elif what == "reset_zones":
                world.reset_zones()
            elif what == "reset_tables":
                world.reset_tables()
            elif what == "source_dest_check":
                if not isinstance(args.get("value"), bool) or not (
                        args.get("instance") in world.instances or args.get("eni") in world.enis):
                    return self.send(400, 'expected {"instance": ID, "value": true|false} or {"eni": ID, "value": ...}',
                                     "text/plain")
                if "eni" in args:
                    world.set_source_dest_check(args["eni"], args["value"])
                else:
                    world.instances[args["instance"]]["source_dest_check"] = args["value"]
            elif what == "role_ttl":
                world.role_ttl = float(args["seconds"])
            else:
                return self.send(404, "unknown control", "text/plain")
        if what in ("route", "reset_tables", "source_dest_check"):
            world.routes_changed()
        return self.send(200, "{}", "application/json")


class ImdsHandler(Handler):
    server_version = "EC2ws"

    def do_PUT(self):
        world, instance = self.server.world, self.server.instance
        entry = {"t": time.time(), "service": "imds", "instance": instance["id"], "method": "PUT",
                 "path": self.path, "status": None}
        if self.path != "/latest/api/token":
            entry["status"] = 404
        elif "X-Forwarded-For" in self.headers:
            entry["status"] = 403
        else:
            try:
                ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
            except ValueError:
                ttl = 0
            if not 1 <= ttl <= 21600:
                entry["status"] = 400
            else:
                token = secrets.token_urlsafe(32)
                with world.lock:
                    self.server.tokens[token] = time.time() + ttl
                entry["status"] = 200
                world.record(entry)
                self.read_body()
                return self.send(200, token, "text/plain")
        world.record(entry)
        self.read_body()
        self.send(entry["status"], "", "text/plain")

    def do_GET(self):
        world, instance = self.server.world, self.server.instance
        entry = {"t": time.time(), "service": "imds", "instance": instance["id"], "method": "GET",
                 "path": self.path, "status": None}
        token = self.headers.get("X-aws-ec2-metadata-token")
        with world.lock:
            valid = token is not None and self.server.tokens.get(token, 0) > time.time()
        if not valid:
            entry["status"] = 401
            world.record(entry)
            return self.send(401, "", "text/plain")
        mac = instance.get("mac", "0e:00:00:00:00:01")
        role = instance.get("role")
        interfaces = [(mac, instance["eni"])] + [(e["mac"], e["eni"]) for e in instance.get("extra_enis", [])]
        macs = "/latest/meta-data/network/interfaces/macs"
        paths = {
            "/latest/meta-data/instance-id": instance["id"],
            "/latest/meta-data/mac": mac,
            macs: "\n".join(f"{m}/" for m, _ in interfaces),
            macs + "/": "\n".join(f"{m}/" for m, _ in interfaces),
            "/latest/meta-data/placement/region": world.region,
            "/latest/meta-data/placement/availability-zone": world.region + "a",
            "/latest/dynamic/instance-identity/document": json.dumps(
                {"accountId": ACCOUNT, "instanceId": instance["id"], "region": world.region,
                 "availabilityZone": world.region + "a", "architecture": "x86_64"}, indent=2),
        }
        for n, (m, eni) in enumerate(interfaces):
            paths[f"{macs}/{m}/interface-id"] = eni
            paths[f"{macs}/{m}/device-number"] = str(n)
        # The primary interface's primary private address, and the public
        # address the world gives the instance ("public_ip"), as IMDS says them.
        with world.lock:
            nic = world.nics.get(instance["eni"])
            if nic and nic.get("ips"):
                paths["/latest/meta-data/local-ipv4"] = nic["ips"][0]
        if instance.get("public_ip"):
            paths["/latest/meta-data/public-ipv4"] = instance["public_ip"]
        if role:
            paths["/latest/meta-data/iam/security-credentials/"] = role
        answer = paths.get(self.path)
        if answer is None and role and self.path == f"/latest/meta-data/iam/security-credentials/{role}":
            key, secret, tok, expires = world.new_role_credentials(instance)
            answer = json.dumps({"Code": "Success", "LastUpdated": iso(time.time()), "Type": "AWS-HMAC",
                                 "AccessKeyId": key, "SecretAccessKey": secret, "Token": tok,
                                 "Expiration": iso(expires)})
        entry["status"] = 200 if answer is not None else 404
        world.record(entry)
        if answer is None:
            return self.send(404, "", "text/plain")
        return self.send(200, answer, "text/plain")

    def do_POST(self):
        self.send(405, "", "text/plain")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # A real endpoint accepts a burst of connections; Python's default
    # backlog of 5 would drop SYNs and cost the client a 1 s retransmit.
    request_queue_size = 256


LOG_FILE = None
WORLD_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "world.json")


def change(spec, path, value):
    """Applies one --set PATH=JSON to the world file's contents (see the module's help)."""
    key, _, rest = path.partition(".")
    if not rest:
        target, name = spec, key
    else:
        ident, _, field = rest.partition(".")
        items = spec.setdefault(key, [])
        id_key = "allocation_id" if key == "addresses" else "id"  # an Elastic IP's id is its allocation's
        at = next((n for n, item in enumerate(items) if item.get(id_key) == ident), None)
        if not field:
            # The element replaced in place: its position is the order IMDS ports and tables are listed in.
            if at is not None:
                del items[at]
            if value is not None:
                items.insert(len(items) if at is None else at, dict(value, **{id_key: ident}))
            return
        if at is None:
            raise SystemExit(f"--set {path}: {key} has no element with id {ident}")
        target, name = items[at], field
    if value is None:
        target.pop(name, None)
    else:
        target[name] = value


def main():
    global LOG_FILE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", default=WORLD_FILE, help="JSON file: region, credentials, instances, route_tables")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=JSON", help="a change to the world")
    parser.add_argument("--port", type=int, default=0, help="EC2 port (0: any free one)")
    parser.add_argument("--log", help="also append the request log here, one JSON object a line")
    parser.add_argument("--listen", default="127.0.0.1", help="the address to listen on (the lab: its router's)")
    parser.add_argument("--kernel-routes", metavar="FILE", help="JSON: kernel tables and next hops to mirror routes into")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    LOG_FILE = args.log
    with open(args.world) as f:
        spec = json.load(f)
    for setting in args.set:
        path, sep, value = setting.partition("=")
        if not sep:
            raise SystemExit(f"--set {setting}: expected PATH=JSON")
        change(spec, path, json.loads(value))
    world = World(spec)
    if args.kernel_routes:
        with open(args.kernel_routes) as f:
            world.kernel = KernelRoutes(json.load(f))
        world.routes_changed()
    listen = str(ipaddress.ip_address(args.listen))

    ec2 = Server((listen, args.port), Ec2Handler)
    ec2.world = world
    host, scheme = listen, "http"
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        ec2.socket = ctx.wrap_socket(ec2.socket, server_side=True)
        host, scheme = "localhost", "https"
    servers = [ec2]
    imds = {}
    for instance in world.instances.values():
        s = Server((listen, int(instance.get("imds_port", 0))), ImdsHandler)
        s.world, s.instance, s.tokens = world, instance, {}
        servers.append(s)
        imds[instance["id"]] = f"http://{listen}:{s.server_address[1]}"
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    # Every socket listens already: the caller may connect as soon as it reads this line.
    url = f"{scheme}://{host}:{ec2.server_address[1]}"
    print(json.dumps({"pid": os.getpid(), "ec2": url, "sts": url, "route53": url, "imds": imds}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
