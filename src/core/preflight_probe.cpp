#include "preflight_probe.hpp"

#include <algorithm>
#include <memory>

#include "region.hpp"
#include "ec2_client.hpp"
#include "ec2_xml.hpp"
#include "error.hpp"
#include "fence.hpp"
#include "http_client.hpp"
#include "imds.hpp"
#include "settings.hpp"
#include "preflight_kind.hpp"
#include "route53_client.hpp"
#include "route53_target.hpp"
#include "text.hpp"

namespace pg_vip::preflight {
namespace {

using namespace std::chrono;

Problem problem_of(const Error &e) {
  std::string message = e.what();
  if (!e.detail().empty()) message += ". " + e.detail();
  if (!message.empty() && message.back() != '.') message += '.';
  return {message, e.hint()};
}

std::string period_of(std::string s) {
  if (!s.empty() && s.back() != '.') s += '.';
  return s;
}

// What to fix when the role could not be assumed: the node's sts:AssumeRole,
// the role's trust policy, the external id (never shown); STS's own hint
// for a failure that is not a refusal.
std::string assume_role_hint(const aws::AssumeRoleFailure &f, const std::string &arn) {
  if (f.error().kind != aws::ErrorKind::Authorization) return f.hint();
  return "Check that " + arn + " exists; allow sts:AssumeRole on it in the IAM policy of the node's own credentials" +
         (f.signer().empty() ? std::string() : " (" + f.signer() + ")") +
         " (statement PgVipAssumeRole of vip_iam_policy()); name the node's role or account in the role's trust "
         "policy; and, when that policy asks for sts:ExternalId, set pg_vip.role_external_id to it.";
}

}  // namespace

// Calls in groups of kMaxParallel, each retried as the policy says.
std::vector<aws::Ec2Result> call_bounded(aws::Ec2Client &ec2, const std::vector<aws::Ec2Call> &calls,
                                         const aws::RetryPolicy &policy) {
  std::vector<aws::Ec2Result> out;
  for (std::size_t at = 0; at < calls.size(); at += kMaxParallel) {
    std::vector<aws::Ec2Call> group(calls.begin() + at, calls.begin() + std::min(calls.size(), at + kMaxParallel));
    for (auto &r : ec2.call_all(group, policy)) out.push_back(std::move(r));
  }
  return out;
}

aws::AwsError not_found(const std::string &code, const std::string &message) {
  aws::AwsError e;
  e.kind = aws::ErrorKind::NotFound;
  e.code = code;
  e.message = message;
  return e;
}

aws::RetryPolicy probe_policy(const ControllerConfig &config, const ProbeHooks &hooks) {
  aws::RetryPolicy policy;
  policy.max_attempts = 2;
  policy.deadline = std::max<milliseconds>(config.request_timeout * 3, milliseconds(3000));
  policy.backoff = aws::Backoff{milliseconds(50), milliseconds(500)};
  policy.cancelled = hooks.cancelled;
  if (hooks.throttled)
    policy.on_attempt = [&hooks](const aws::Ec2Call &, const aws::Ec2Result &r) {
      if (r.error && r.error->kind == aws::ErrorKind::Throttled) hooks.throttled();
    };
  return policy;
}

Observed observe(const ControllerConfig &config, const ProbeHooks &hooks) {
  Observed seen;
  seen.vip = config.vip;
  seen.route_tables = config.route_tables;
  seen.elastic_ips = config.elastic_ips;
  seen.secondary_ips = config.secondary_ips;
  seen.dns_records = config.dns_records;
  seen.dns_value = config.dns_value;
  seen.network_interface = config.network_interface;
  seen.imds_endpoint = config.imds_endpoint;
  seen.enabled = config.enabled;
  aws::Environment env = hooks.env ? hooks.env : aws::process_environment();
  Clock system_clock;
  const Clock &clock = hooks.clock ? *hooks.clock : system_clock;

  try {
    seen.local_addresses = hooks.local_addresses ? hooks.local_addresses() : local_addresses();
  } catch (const Error &e) {
    seen.local_addresses_error = e.what() + (e.detail().empty() ? std::string() : ": " + e.detail());
  }

  http::ClientOptions ho;
  ho.ca_file = config.ca_file;
  ho.cancelled = hooks.cancelled;
  http::Client http(ho);

  // Instance metadata: the instance, its interfaces, maybe the region.
  std::unique_ptr<aws::ImdsClient> imds;
  bool imds_ok = false;
  if (aws::metadata_disabled(env)) {
    seen.imds_disabled = true;
  } else {
    aws::ImdsOptions io;
    io.endpoint = config.imds_endpoint;
    io.timeout = std::min(config.request_timeout, milliseconds(1000));
    imds = std::make_unique<aws::ImdsClient>(http, io, clock);
    try {
      seen.instance_id = imds->instance_id();
      imds_ok = true;
      seen.instance_interfaces = imds->interface_ids();
    } catch (const aws::AwsFailure &e) {
      seen.imds_problem = Problem{"Instance metadata (IMDSv2) at " + config.imds_endpoint +
                                      " did not answer as it should: " + e.error().describe() + ".",
                                  "Check pg_vip.imds_endpoint, and that the instance's metadata options allow IMDSv2 "
                                  "(http-tokens, and http-put-response-hop-limit 2 or more in a container)."};
    }
  }

  // The region, as a claim finds it.
  try {
    aws::RegionChoice r = aws::find_region(config.region, env, imds_ok ? imds.get() : nullptr);
    seen.region = r.region;
    seen.region_source = r.source;
  } catch (const aws::AwsFailure &e) {
    seen.region.clear();
    seen.region_problem =
        Problem{"Instance metadata did not give the region: " + e.error().describe() + ".", "Set pg_vip.region."};
  }
  if (seen.region.empty() && !seen.region_problem)
    seen.region_problem =
        Problem{"No AWS region is configured, and instance metadata cannot give one.", "Set pg_vip.region."};

  // The interface.
  if (config.network_interface != "auto") {
    seen.interface_id = config.network_interface;
  } else if (imds_ok) {
    try {
      seen.interface_id = imds->primary_interface_id();
    } catch (const aws::AwsFailure &e) {
      seen.interface_problem = Problem{"pg_vip.network_interface is auto, and instance metadata did not name the "
                                       "primary interface: " +
                                           e.error().describe() + ".",
                                       "Set pg_vip.network_interface to this node's eni- id."};
    }
  } else {
    seen.interface_problem =
        Problem{"pg_vip.network_interface is auto, and instance metadata " +
                    std::string(seen.imds_disabled ? "is not used (AWS_EC2_METADATA_DISABLED)." : "did not answer."),
                "Set pg_vip.network_interface to this node's eni- id."};
  }

  // Credentials, and where they came from.
  aws::CredentialProvider credentials(aws::CredentialOptions{config.aws_profile}, env, imds_ok ? imds.get() : nullptr,
                                      clock);
  try {
    seen.credentials_source = credentials.get().source;
  } catch (const Error &e) {
    seen.credentials_problem = problem_of(e);
  }

  aws::RetryPolicy policy = probe_policy(config, hooks);

  // EC2: nothing asked without a region and credentials; each step's
  // row then says why.
  std::optional<Problem> no_ec2;
  std::unique_ptr<aws::Ec2Client> ec2;      // the node's own reads
  std::unique_ptr<aws::Ec2Client> targets;  // the targets' probes: the role's credentials, if any
  std::unique_ptr<aws::TargetCredentials> target_credentials;
  if (seen.region.empty()) no_ec2 = Problem{"Not checked: no AWS region is known.", "Fix the region check."};
  else if (!seen.credentials_source) no_ec2 = Problem{"Not checked: no AWS credentials.", "Fix the credentials check."};
  else {
    try {
      aws::Ec2Options eo;
      eo.endpoint = aws::resolve_ec2_endpoint(config.ec2_endpoint, env, seen.region);
      eo.region = seen.region;
      eo.timeout = config.request_timeout;
      eo.connect_timeout = std::min(config.request_timeout, milliseconds(1000));
      ec2 = std::make_unique<aws::Ec2Client>(http, credentials, eo, clock);
      aws::TargetCredentials::Context tc;
      tc.region = seen.region;
      tc.env = env;
      tc.default_session_name =
          settings::default_role_session_name(!config.node_name.empty() ? config.node_name : seen.instance_id);
      tc.timeout = config.request_timeout;
      tc.retry = policy;
      target_credentials = std::make_unique<aws::TargetCredentials>(aws::transport_of(http), credentials, tc, clock);
      targets = std::make_unique<aws::Ec2Client>(http, *target_credentials, eo, clock);
    } catch (const Error &e) {
      no_ec2 = problem_of(e);
    }
  }

  // The role, when one is set: one AssumeRole (at most two attempts within
  // the policy's deadline), as a claim's first read would make it.
  std::optional<Problem> no_targets = no_ec2;
  seen.role_arn = hooks.role.arn;
  if (!seen.role_arn.empty()) {
    if (no_ec2) {
      seen.role_problem = no_ec2;
    } else {
      try {
        target_credentials->configure(hooks.role);
        seen.role_session_name = target_credentials->role()->options().request.session_name;
        (void) target_credentials->get();
        seen.role_assumed = true;
      } catch (const aws::AssumeRoleFailure &f) {
        seen.role_problem = Problem{period_of(f.what()) + (f.detail().empty() ? "" : " " + f.detail()),
                                    assume_role_hint(f, seen.role_arn)};
      } catch (const Error &e) {
        seen.role_problem = problem_of(e);
      }
      if (!seen.role_assumed)
        no_targets =
            Problem{"Not checked: the role pg_vip.role_arn names could not be assumed.", "Fix the assume_role check."};
    }
  }

  std::vector<aws::Ec2Call> calls;
  struct Slot {
    enum Kind { Interface, Attribute, Read, Permission } kind;
    std::size_t index = 0;
    // The node's own reads go with the node's credentials, the rest with
    // the targets' (actions.hpp's Action::on_node).
    bool own() const { return kind == Interface || kind == Attribute; }
  };
  std::vector<Slot> slots;
  std::vector<std::function<void(const aws::Ec2Result &)>> takers;  // the kinds' reads
  auto add = [&](aws::Ec2Call c, Slot::Kind kind, std::size_t index = 0) {
    calls.push_back(std::move(c));
    slots.push_back({kind, index});
  };

  if (ec2 && !seen.interface_id.empty()) {
    add(aws::describe_network_interfaces({seen.interface_id}), Slot::Interface);
    add(aws::describe_network_interface_attribute(seen.interface_id, "sourceDestCheck"), Slot::Attribute);
  }

  // Sends calls[from...] and takes their answers: the node's own reads with
  // the node's signer, the targets' probes with theirs (one batch when both
  // are the node's).
  std::vector<aws::Ec2Result> results;
  auto send_from = [&](std::size_t from) {
    results.resize(calls.size());
    std::vector<std::size_t> own, theirs;
    for (std::size_t i = from; i < calls.size(); ++i)
      (slots[i].own() || !target_credentials->uses_role() ? own : theirs).push_back(i);
    auto send = [&](aws::Ec2Client &client, const std::vector<std::size_t> &which) {
      std::vector<aws::Ec2Call> batch;
      for (auto i : which) batch.push_back(calls[i]);
      std::vector<aws::Ec2Result> answers = call_bounded(client, batch, policy);
      for (std::size_t k = 0; k < which.size(); ++k) results[which[k]] = std::move(answers[k]);
    };
    if (!own.empty()) send(*ec2, own);
    if (!theirs.empty()) send(*targets, theirs);
    std::chrono::system_clock::time_point arrived = clock.now();
    if (!seen.aws_date) seen.local_time = arrived;
    for (std::size_t i = from; i < calls.size(); ++i) {
      aws::Ec2Result &r = results[i];
      if (!r.error || r.error->kind != aws::ErrorKind::Transport) seen.ec2_answered = true;
      if (!seen.aws_date && !r.date.empty()) seen.aws_date = http::parse_http_date(r.date);
      try {
        switch (slots[i].kind) {
          case Slot::Interface:
            if (r.error) {
              seen.interface_error = r.error;
            } else {
              for (auto &n : aws::parse_network_interfaces(r.body))
                if (n.id == seen.interface_id) seen.interface = std::move(n);
              if (!seen.interface)
                seen.interface_error = not_found("InvalidNetworkInterfaceID.NotFound",
                                                 "the answer does not describe " + seen.interface_id);
            }
            break;
          case Slot::Attribute:
            if (r.error) seen.source_dest_error = r.error;
            else seen.source_dest_check = aws::parse_network_interface_attribute_bool(r.body, "sourceDestCheck");
            break;
          case Slot::Read: takers[slots[i].index](r); break;
          case Slot::Permission: seen.permissions[slots[i].index].answer = r.error; break;
        }
      } catch (const aws::AwsFailure &f) {
        switch (slots[i].kind) {
          case Slot::Interface: seen.interface_error = f.error(); break;
          case Slot::Attribute: seen.source_dest_error = f.error(); break;
          case Slot::Read:
          case Slot::Permission: break;
        }
      }
    }
  };

  // The node's interface first when a secondary IP is configured: that
  // kind plans with what it shows (its requests name this node's subnet,
  // as a claim's do). Otherwise it goes with the kinds' requests, in one
  // round trip.
  std::size_t planned_from = 0;
  if (ec2 && !config.secondary_ips.empty()) {
    send_from(0);
    planned_from = calls.size();
  }

  // Each configured kind plans its own rows and requests.
  ProbePlan plan{config, seen, config.vip, seen.interface_id, seen.interface ? seen.interface->subnet_id : "", {}, {}};
  plan.permission = [&](const std::string &action, const std::string &target, std::optional<aws::Ec2Call> call,
                        std::optional<Problem> skipped, bool expect_refused, const std::string &variant) {
    PermissionProbe p{action, target, std::nullopt, std::nullopt, false, ""};
    if (no_targets) p.skipped = no_targets;
    else if (!call) p.skipped = skipped;
    p.expect_refused = expect_refused;
    p.variant = variant;
    seen.permissions.push_back(std::move(p));
    if (!seen.permissions.back().skipped)
      add(aws::with_dry_run(std::move(*call)), Slot::Permission, seen.permissions.size() - 1);
  };
  plan.read = [&](aws::Ec2Call call, std::function<void(const aws::Ec2Result &)> take) {
    if (no_targets) return;
    takers.push_back(std::move(take));
    add(std::move(call), Slot::Read, takers.size() - 1);
  };
  std::vector<std::unique_ptr<KindProbe>> kinds = kind_probes(config);
  for (auto &k : kinds) k->plan(plan);

  // Route 53's records: read with the targets' credentials (the role's,
  // when one is set and could be assumed; Route 53 needs no region); each
  // record's read is its row.
  aws::CredentialSource *record_credentials = &credentials;
  if (target_credentials && target_credentials->uses_role())
    record_credentials = seen.role_assumed ? static_cast<aws::CredentialSource *>(target_credentials.get()) : nullptr;
  if (!config.dns_records.empty() && seen.credentials_source && record_credentials) {
    aws::Route53Options ro;
    ro.endpoint = aws::resolve_route53_endpoint(config.route53_endpoint, env);
    ro.timeout = config.request_timeout;
    ro.connect_timeout = std::min(config.request_timeout, milliseconds(1000));
    aws::Route53Client route53(http, *record_credentials, ro, clock);
    aws::RetryPolicy rp;
    rp.max_attempts = 2;
    rp.deadline = std::max<milliseconds>(config.request_timeout * 3, milliseconds(3000));
    rp.backoff = aws::Backoff{milliseconds(200), milliseconds(1000)};
    rp.cancelled = hooks.cancelled;
    rp.on_attempt = policy.on_attempt;
    const std::string type = config.dns_value.find(':') != std::string::npos ? "AAAA" : "A";
    for (const auto &id : config.dns_records) {
      RecordProbe probe{id, std::nullopt, std::nullopt};
      std::optional<DnsTarget> t = parse_dns_target(id);
      if (t) {
        aws::TargetReadResult r = route53.read_target(t->zone, t->name, type, dns_fence_name(t->name), rp);
        if (r.ok()) probe.records = std::move(r.target);
        else probe.error = r.error;
      }
      seen.records.push_back(std::move(probe));
    }
  } else {
    for (const auto &id : config.dns_records) seen.records.push_back({id, std::nullopt, std::nullopt});
  }

  if (!ec2) return seen;
  send_from(planned_from);
  if (!no_targets)
    for (auto &k : kinds) k->finish(*targets, policy, seen);
  return seen;
}

std::vector<CheckResult> run(const ControllerConfig &config, const ProbeHooks &hooks) {
  return evaluate(observe(config, hooks));
}

}  // namespace pg_vip::preflight
