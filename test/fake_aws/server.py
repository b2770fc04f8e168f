#!/usr/bin/python3
"""A local AWS-compatible endpoint for pg_vip's tests, demo and benchmark.

Speaks the EC2 Query API (ReplaceRoute, CreateRoute, DescribeRouteTables,
CreateTags, DescribeInstanceAttribute, ModifyInstanceAttribute,
DescribeNetworkInterfaces, DescribeNetworkInterfaceAttribute,
ModifyNetworkInterfaceAttribute) with real state, and IMDSv2 (one
metadata service per instance, each on its own port). Every EC2 request's
SigV4 signature is checked by botocore (Debian's awscli), never by pg_vip's
own signer. Listens on loopback (or, in the lab, on the lab router's own
address inside its network namespace: --listen).

The world: world.json beside this file (--world for another), the one
every caller shares (the TAP tests, the integration tests, the demo, the
benchmark); what a caller needs different it changes with --set, never with
a copy of the world. Its keys: region, vpc_id, vpc_cidr, role_credentials_ttl,
  vip           the address its routes route (read by the callers, not here)
  credentials   [{access_key, secret, token?, instance?, user?}]: static keys;
                "instance" makes calls with that key count as that instance's
                (for deny rules)
  instances     [{id, eni, mac?, role?, source_dest_check?, imds_port?,
                  extra_enis?: [{mac, eni, source_dest_check?}]}]
                source_dest_check is the check of the instance's primary
                interface (what DescribeInstanceAttribute shows); a secondary
                interface has its own
  route_tables  [{id, routes?: [{destination, eni, state?}], tags?: {}, vpc_id?, vpc_cidr?}]
                each table has the VPC's local route (vpc_cidr, gateway local);
                vpc_id and vpc_cidr default to the world's
  describe_page_size  N: DescribeRouteTables answers list at most N tables
                      and a <nextToken> for the rest (absent: one page)
  error_form    "Response" (EC2's, the default) or "ErrorResponse"

Callers: every signed request is made with an access key; role credentials
handed out by an instance's IMDS belong to that instance, static keys to the
instance their "instance" field names (else to none). The log records it as
"caller".

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
                              whose they are), faults, deny rules
  POST /_fake/faults          JSON: delay_ms, fail_next {count,status,code,message,actions},
                              drop_next, garbage_next, stall_next {count,seconds}, down_for_s,
                              error_form ("Response" | "ErrorResponse"),
                              describe_page_size (N; 0 or null: one page),
                              date_skew_s (seconds added to every answer's Date header),
                              clear (all of these back to the world file's)
  POST /_fake/deny            JSON: {"rules": [{actions?, instance?, code?, status?, message?}]}
                              replaces the deny rules ({"rules": []} clears them;
                              faults' clear does not). A rule matches a request when
                              its action is in "actions" (absent: any action) and the
                              caller is "instance" (absent: any caller); the first
                              matching rule answers (default 403 UnauthorizedOperation
                              with EC2's "You are not authorized to perform this
                              operation. User: ... is not authorized to perform:
                              ec2:<Action> ..." message), is logged with its code and
                              applies nothing. Checked after the signature, before
                              faults.
  POST /_fake/policy          JSON: {"instance": "i-...", "policy": {IAM policy} | null}: that
                              instance's callers are held to the policy (policy_allows: Allow
                              statements, Action/Resource wildcards, StringEquals, StringLike,
                              ForAllValues/ForAnyValue:StringLike and Null on ec2:Region and
                              aws:TagKeys); what it does not allow is answered 403
                              UnauthorizedOperation, after the deny rules; null lifts it
  POST /_fake/route           JSON: {route_table_id, destination, eni | blackhole | delete}; 400 unless
                              EC2 could hold it (a table that exists, an IPv4 CIDR block not the
                              local route's, a known eni for an active route)
  POST /_fake/tag             JSON: {route_table_id, key, value | delete}: a tag written by someone else
  POST /_fake/expire_role_credentials   role credentials already handed out expire now
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
instance's own, 1, 2, ... for extra_enis), iam/security-credentials/[<role>],
and dynamic/instance-identity/document (accountId, instanceId, region, ...).

Run: /usr/bin/python3 server.py [--set PATH=JSON ...] [--log log.jsonl] [--tls-cert cert.pem --tls-key key.pem]
  --set PATH=JSON  changes the world before it starts, in the order given; PATH
                   is a key (credentials), or LIST.ID: the element of that list
                   whose id is ID (instances.i-0c000001; added if absent), or
                   LIST.ID.FIELD (instances.i-0a000001.source_dest_check);
                   JSON null removes what PATH names.
It listens on free loopback ports, then answers on stdout, one JSON line, and
writes nothing there again, so a caller starts it and reads that line (end of
file: it failed to start; its stderr says why):
  {"pid": N, "ec2": "http://127.0.0.1:P", "imds": {"<instance id>": "http://127.0.0.1:Q", ...}}
With TLS the EC2 URL's host is "localhost", the name a test certificate is
made for. It runs until SIGTERM.
"""

import argparse
import datetime
import fnmatch
import hmac
import ipaddress
import json
import os
import secrets
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import awscli  # noqa: F401  (Debian's awscli makes its bundled botocore importable)
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
CHANGING = {"ReplaceRoute", "CreateRoute", "CreateTags", "DeleteTags", "ModifyInstanceAttribute",
            "ModifyNetworkInterfaceAttribute"}
DRY_RUN_ACTIONS = {"ReplaceRoute", "CreateRoute", "CreateTags", "DeleteTags", "DescribeRouteTables",
                   "DescribeInstanceAttribute",
                   "ModifyInstanceAttribute", "DescribeNetworkInterfaces", "DescribeNetworkInterfaceAttribute",
                   "ModifyNetworkInterfaceAttribute"}
ERROR_FORMS = ("Response", "ErrorResponse")
ACCOUNT = "123456789012"
DENY_FIELDS = {"actions", "instance", "code", "status", "message"}
MAX_SKEW = datetime.timedelta(minutes=5)


class AwsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class World:
    """The VPC, its route tables, instances and credentials, behind one lock."""

    def __init__(self, spec):
        self.lock = threading.Lock()
        self.spec = spec
        self.region = spec.get("region", "us-east-1")
        self.vpc_id = spec.get("vpc_id", "vpc-0a0b0c0d")
        self.vpc_cidr = spec.get("vpc_cidr", "10.0.0.0/16")
        # access key -> {secret, token, expires, instance (whose key, or None), principal (its ARN)}
        self.keys = {}
        for c in spec.get("credentials", []):
            user = c.get("user", "pg-vip")
            self.keys[c["access_key"]] = {"secret": c["secret"], "token": c.get("token"), "expires": None,
                                          "instance": c.get("instance"),
                                          "principal": f"arn:aws:iam::{ACCOUNT}:user/{user}"}
        self.instances = {}
        self.enis = {}
        self.secondary_checks = {}  # a secondary interface's own source/destination check
        for i in spec.get("instances", []):
            self.instances[i["id"]] = dict(i, source_dest_check=i.get("source_dest_check", False))
            self.enis[i["eni"]] = i["id"]
            for extra in i.get("extra_enis", []):
                self.enis[extra["eni"]] = i["id"]
                self.secondary_checks[extra["eni"]] = bool(extra.get("source_dest_check", False))
        self.reset_tables()
        self.role_ttl = spec.get("role_credentials_ttl", 3600)
        self.log = []
        self.faults = {}
        self.down_until = 0.0
        self.deny_rules = []
        self.policies = {}  # instance id -> an IAM policy document its callers are held to
        self.page_tokens = {}  # nextToken -> (route table ids of the query, offset of the next page)
        self.kernel = None  # KernelRoutes, in the lab
        self.reset_answers()

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
        """Error form and DescribeRouteTables page size as the world file has them."""
        self.error_form = self.spec.get("error_form", "Response")
        if self.error_form not in ERROR_FORMS:
            raise ValueError(f"error_form must be one of {ERROR_FORMS}")
        self.page_size = int(self.spec.get("describe_page_size") or 0)
        self.date_skew = 0.0

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

    def record(self, entry):
        with self.lock:
            self.log.append(entry)
        if LOG_FILE:
            with open(LOG_FILE, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def take_fault(self, name, action=None):
        """Consumes one occurrence of a counted fault; returns its settings or None."""
        with self.lock:
            f = self.faults.get(name)
            if not f:
                return None
            actions = f.get("actions")
            if actions and action not in actions:
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
                              "principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{iid or 'session'}"}
        return key, secret, token, expires

    def caller_of(self, key):
        """The instance an access key belongs to, or None."""
        with self.lock:
            return (self.keys.get(key) or {}).get("instance")

    def denial(self, key, action, params):
        """The AwsError the first matching deny rule answers with, or None."""
        with self.lock:
            cred = self.keys.get(key) or {}
            caller, principal = cred.get("instance"), cred.get("principal", f"arn:aws:iam::{ACCOUNT}:user/unknown")
            for rule in self.deny_rules:
                actions = rule.get("actions")
                if actions is not None and action not in actions:
                    continue
                if rule.get("instance") is not None and rule["instance"] != caller:
                    continue
                code = rule.get("code", "UnauthorizedOperation")
                status = int(rule.get("status", 403))
                message = rule.get("message") or unauthorized_message(self.region, principal, action, params)
                return AwsError(status, code, message)
            policy = self.policies.get(caller)
            if policy is not None and not policy_allows(policy, self.region, action, params):
                return AwsError(403, "UnauthorizedOperation",
                                unauthorized_message(self.region, principal, action, params))
        return None


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
# StringLike, ForAllValues:StringLike, ForAnyValue:StringLike and Null over
# the keys ec2:Region and aws:TagKeys. An operator or key it does not know
# never matches: a policy it cannot judge allows nothing.
def _like(pattern, value):
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _resources(region, action, params):
    account = ACCOUNT
    if action in ("ReplaceRoute", "CreateRoute"):
        return [f"arn:aws:ec2:{region}:{account}:route-table/{params.get('RouteTableId', '')}"]
    if action in ("CreateTags", "DeleteTags"):
        ids = [v for k, v in sorted(params.items()) if k.startswith("ResourceId.")]
        kinds = {"rtb": "route-table", "eni": "network-interface", "i": "instance"}
        return [f"arn:aws:ec2:{region}:{account}:{kinds.get(i.split('-')[0], 'unknown')}/{i}" for i in ids] or [""]
    return ["*"]


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
    return False


def policy_allows(policy, region, action, params):
    context = {"ec2:Region": region}
    keys = [v for k, v in params.items() if k.startswith("Tag.") and k.endswith(".Key")]
    if keys:
        context["aws:TagKeys"] = keys
    for resource in _resources(region, action, params):
        allowed = False
        for st in policy.get("Statement", []):
            if st.get("Effect") != "Allow":
                continue
            actions = st.get("Action", [])
            actions = actions if isinstance(actions, list) else [actions]
            if not any(_like(a.lower(), f"ec2:{action}".lower()) for a in actions):
                continue
            resources = st.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            if not any(r == "*" or _like(r, resource) for r in resources):
                continue
            if all(_condition_holds(op, key, wanted, context)
                   for op, conds in st.get("Condition", {}).items() for key, wanted in conds.items()):
                allowed = True
                break
        if not allowed:
            return False
    return True


def unauthorized_message(region, principal, action, params):
    """EC2's UnauthorizedOperation message: who, which permission, on what, and an opaque encoded part."""
    resource = None
    rtb = params.get("RouteTableId") or params.get("ResourceId.1")
    if action in ("ReplaceRoute", "CreateRoute", "CreateTags", "DeleteTags") and rtb:
        resource = f"arn:aws:ec2:{region}:{ACCOUNT}:route-table/{rtb}"
    elif action == "DescribeInstanceAttribute" and params.get("InstanceId"):
        resource = f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{params['InstanceId']}"
    on = f" on resource: {resource}" if resource else ""
    return (f"You are not authorized to perform this operation. User: {principal} is not authorized to perform: "
            f"ec2:{action}{on} because no identity-based policy allows the ec2:{action} action. "
            f"Encoded authorization failure message: {secrets.token_urlsafe(48)}")


def verify_signature(world, method, path, headers, body):
    """Returns the caller's access key, or raises AwsError as EC2 would. botocore decides."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        raise AwsError(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
    fields = {}
    for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    try:
        key, day, region, service, terminal = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        raise AwsError(400, "IncompleteSignature", "The request signature does not conform to AWS standards.")
    cred = world.keys.get(key)
    if cred is None:
        raise AwsError(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
    amz_date = headers.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise AwsError(400, "IncompleteSignature", "X-Amz-Date is missing or malformed.")
    if abs(datetime.datetime.now(datetime.timezone.utc) - when) > MAX_SKEW:
        raise AwsError(400, "RequestExpired", f"Request has expired. Timestamp date is {amz_date}")
    if region != world.region or service != "ec2" or terminal != "aws4_request" or day != amz_date[:8]:
        raise AwsError(401, "AuthFailure", "Credential should be scoped to a valid region.")
    for h in ("host", "x-amz-date"):
        if h not in signed:
            raise AwsError(403, "SignatureDoesNotMatch", f"{h} must be signed.")
    token = headers.get("x-amz-security-token")
    if cred["token"] is not None:
        if token != cred["token"]:
            raise AwsError(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
        if cred["expires"] is not None and time.time() >= cred["expires"]:
            raise AwsError(400, "ExpiredToken", "The security token included in the request is expired")
    missing = [h for h in signed if headers.get(h) is None]
    if missing:
        raise AwsError(403, "SignatureDoesNotMatch", "Signed headers are missing from the request.")
    request = AWSRequest(method=method, url="http://" + headers["host"] + path, data=body,
                         headers={h: headers[h] for h in signed})
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(key, cred["secret"], cred["token"]), "ec2", region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, signature):
        raise AwsError(403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you provided. "
                       "Check your AWS Secret Access Key and signing method.")
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


def table_of(world, params):
    rtb = params.get("RouteTableId")
    if rtb not in world.tables:
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


def ec2_action(world, action, params):
    answer = ec2_answer(world, action, params)
    if action in CHANGING:
        world.routes_changed()
    return answer


def ec2_answer(world, action, params):
    with world.lock:
        if action == "ReplaceRoute":
            rtb, table = table_of(world, params)
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
            rtb, table = table_of(world, params)
            dest, eni = destination_of(params), eni_of(world, params)
            if any(r["destination"] == dest for r in table["routes"]):
                raise AwsError(400, "RouteAlreadyExists", f"The route identified by {dest} already exists.")
            table["routes"].append({"destination": dest, "eni": eni, "state": "active", "origin": "CreateRoute"})
            return xml_response(action, "<return>true</return>")
        if action == "DescribeRouteTables":
            ids = indexed(params, "RouteTableId") or sorted(world.tables)
            for rtb in ids:
                if rtb not in world.tables:
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
            for rid in ids:
                if rid not in world.tables:
                    raise AwsError(400, "InvalidID", f"The ID '{rid}' is not valid")
            for rid in ids:
                # EC2 keeps at most 50 tags per resource.
                if len(set(world.tables[rid]["tags"]) | set(tags)) > 50:
                    raise AwsError(400, "TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
            for rid in ids:
                world.tables[rid]["tags"].update(tags)
            return xml_response(action, "<return>true</return>")
        if action == "DeleteTags":
            # Tag.N.Key alone deletes the key whatever its value; with
            # Tag.N.Value, only when the value matches. A key that is not
            # there is no error.
            ids = indexed(params, "ResourceId")
            if not ids:
                raise AwsError(400, "MissingParameter", "The request must contain the parameter resourceIdSet")
            for rid in ids:
                if rid not in world.tables:
                    raise AwsError(400, "InvalidID", f"The ID '{rid}' is not valid")
            n = 1
            while f"Tag.{n}.Key" in params:
                key, value = params[f"Tag.{n}.Key"], params.get(f"Tag.{n}.Value")
                for rid in ids:
                    tags = world.tables[rid]["tags"]
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
            ids = indexed(params, "NetworkInterfaceId") or sorted(world.enis)
            items = ""
            for eni in ids:
                if eni not in world.enis:
                    raise AwsError(400, "InvalidNetworkInterfaceID.NotFound",
                                   f"The networkInterface ID '{eni}' does not exist")
                iid = world.enis[eni]
                primary = world.instances[iid]["eni"] == eni
                check = "true" if world.source_dest_check(eni) else "false"
                items += (f"<item><networkInterfaceId>{escape(eni)}</networkInterfaceId>"
                          f"<subnetId>subnet-0a0b0c0d</subnetId><vpcId>{world.vpc_id}</vpcId>"
                          f"<availabilityZone>{world.region}a</availabilityZone><ownerId>{ACCOUNT}</ownerId>"
                          f"<status>in-use</status><sourceDestCheck>{check}</sourceDestCheck>"
                          f"<attachment><attachmentId>eni-attach-{eni[4:]}</attachmentId><instanceId>{iid}</instanceId>"
                          f"<deviceIndex>{0 if primary else 1}</deviceIndex><status>attached</status></attachment>"
                          f"<tagSet/></item>")
            return xml_response(action, f"<networkInterfaceSet>{items}</networkInterfaceSet>")
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


class Ec2Handler(Handler):
    def do_GET(self):
        world = self.server.world
        if self.path == "/_fake/log":
            with world.lock:
                return self.send(200, json.dumps(world.log), "application/json")
        if self.path == "/_fake/state":
            with world.lock:
                state = {"tables": world.tables, "instances": world.instances,
                         "keys": sorted(world.keys),
                         "key_instances": {k: c.get("instance") for k, c in world.keys.items()},
                         "faults": world.faults, "deny": world.deny_rules, "error_form": world.error_form,
                         "describe_page_size": world.page_size}
                return self.send(200, json.dumps(state, default=str), "application/json")
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
        params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                                           keep_blank_values=True).items()}
        action = params.pop("Action", "")
        params.pop("Version", None)
        dry_run = params.get("DryRun", "").lower() == "true"
        entry = {"t": received, "service": "ec2", "action": action, "params": params,
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
            entry["access_key"] = verify_signature(world, "POST", self.path, self.lower_headers(), body)
            entry["caller"] = world.caller_of(entry["access_key"])
            denied = world.denial(entry["access_key"], action, params)
            if denied:
                raise denied
            if world.take_fault("drop_next", action):
                entry["status"], entry["code"] = "dropped", "Dropped"
                world.record(entry)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            stall = world.take_fault("stall_next", action)
            if stall:
                entry["code"] = "Stalled"
                time.sleep(stall.get("seconds", 30))
            fail = world.take_fault("fail_next", action)
            if fail:
                raise AwsError(fail.get("status", 503), fail.get("code", "RequestLimitExceeded"),
                               fail.get("message", "Request limit exceeded."))
            if world.take_fault("garbage_next", action):
                entry["status"], entry["code"] = 200, "Garbage"
                world.record(entry)
                return self.send(200, b"<?xml version='1.0'?><ReplaceRouteResp\x00\xff garbage")
            if dry_run:
                if action not in DRY_RUN_ACTIONS:
                    raise AwsError(400, "InvalidAction", f"The action {action} is not valid for this web service.")
                raise AwsError(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
            answer = ec2_action(world, action, params)
            entry["status"] = 200
            world.record(entry)
            return self.send(200, answer)
        except AwsError as e:
            entry["status"], entry["code"] = e.status, e.code
            world.record(entry)
            return self.send(e.status, xml_error(e.code, e.message, world.error_form, e.status))
        except (BrokenPipeError, ConnectionResetError, OSError):
            return

    def control(self, what, body):
        world = self.server.world
        try:
            args = json.loads(body or b"{}")
        except ValueError:
            return self.send(400, "bad JSON", "text/plain")
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
                    elif name in ("drop_next", "garbage_next"):
                        world.faults[name] = {"count": int(value)} if isinstance(value, int) else dict(value)
                    elif name == "error_form":
                        if value not in ERROR_FORMS:
                            return self.send(400, f"error_form must be one of {ERROR_FORMS}", "text/plain")
                        world.error_form = value
                    elif name == "describe_page_size":
                        world.page_size = int(value or 0)
                    elif name == "date_skew_s":
                        world.date_skew = float(value or 0)
                    elif name == "clear":
                        world.faults.clear()
                        world.down_until = 0
                        world.reset_answers()
                    else:
                        return self.send(400, f"unknown fault {name}", "text/plain")
            elif what == "policy":
                if not isinstance(args.get("instance"), str) or not isinstance(args.get("policy"), (dict, type(None))):
                    return self.send(400, 'expected {"instance": "i-...", "policy": {...} | null}', "text/plain")
                if args["policy"] is None:
                    world.policies.pop(args["instance"], None)
                else:
                    world.policies[args["instance"]] = args["policy"]
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
                for cred in world.keys.values():
                    if cred["expires"] is not None:
                        cred["expires"] = time.time() - 1
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
        at = next((n for n, item in enumerate(items) if item.get("id") == ident), None)
        if not field:
            # The element replaced in place: its position is the order IMDS ports and tables are listed in.
            if at is not None:
                del items[at]
            if value is not None:
                items.insert(len(items) if at is None else at, dict(value, id=ident))
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
    print(json.dumps({"pid": os.getpid(), "ec2": f"{scheme}://{host}:{ec2.server_address[1]}", "imds": imds}),
          flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
