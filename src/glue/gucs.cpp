#include "gucs.hpp"

#include <unistd.h>

#include "../core/settings.hpp"
#include "door.hpp"
#include "fence_action.hpp"
#include "guc_memory.hpp"

namespace pg_vip::gucs {

char *vip = nullptr;
char *route_tables = nullptr;
char *network_interface = nullptr;
char *region = nullptr;
char *ec2_endpoint = nullptr;
char *imds_endpoint = nullptr;
char *aws_profile = nullptr;
char *node_name = nullptr;
bool enabled = true;
bool dry_run = false;
int check_interval_ms = 10000;
int request_timeout_ms = 2000;
char *ca_file = nullptr;
char *fence_key_file = nullptr;
char *event_notification_command = nullptr;
char *event_notifications = nullptr;
int fence_action = fence_action::kNone;
char *fence_allow_roles = nullptr;
int preflight_min_interval_ms = 60000;
char *preflight_probe_table = nullptr;

namespace {

// Validates *newval with the core parser and replaces it by its canonical
// form. A bad value is refused with the parser's explanation, so a typo in
// postgresql.conf is reported at reload instead of silently disabling failover.
bool check_setting(const char *name, char **newval) {
  door::Failure failure;
  char *canonical = nullptr;
  const char *value = *newval ? *newval : "";
  bool ok = door::run([&] { canonical = door::copy_out(settings::normalize(name, value)); }, failure);
  if (!ok) {
    GUC_check_errdetail("%s", failure.detail[0] ? failure.detail : failure.message);
    if (failure.hint[0]) GUC_check_errhint("%s", failure.hint);
    return false;
  }
  // copy_out's copy is malloc()'d; the server's must come from its own
  // allocator (guc_memory.hpp).
  char *owned = canonical ? guc_string_copy(canonical) : nullptr;
  free(canonical);
  if (owned == nullptr) {
    GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
    GUC_check_errdetail("out of memory");
    return false;
  }
  guc_string_free(*newval);
  *newval = owned;
  return true;
}

#define PG_VIP_CHECK_HOOK(NAME) \
  bool check_##NAME(char **newval, void **, GucSource) { return check_setting(#NAME, newval); }
PG_VIP_CHECK_HOOK(vip)
PG_VIP_CHECK_HOOK(route_tables)
PG_VIP_CHECK_HOOK(network_interface)
PG_VIP_CHECK_HOOK(region)
PG_VIP_CHECK_HOOK(ec2_endpoint)
PG_VIP_CHECK_HOOK(imds_endpoint)
PG_VIP_CHECK_HOOK(aws_profile)
PG_VIP_CHECK_HOOK(node_name)
PG_VIP_CHECK_HOOK(ca_file)
PG_VIP_CHECK_HOOK(fence_key_file)
PG_VIP_CHECK_HOOK(event_notifications)
PG_VIP_CHECK_HOOK(event_notification_command)
PG_VIP_CHECK_HOOK(preflight_probe_table)
#undef PG_VIP_CHECK_HOOK

// All settings are reloadable and hidden from non-superusers: they steer a
// process that changes the network, and the notification command may
// carry credentials of its own.
constexpr int kFlags = GUC_SUPERUSER_ONLY;

// What a fenced node does about its own clients.
const struct config_enum_entry fence_action_options[] = {
    {"none", fence_action::kNone, false},            // the VIP is moved, nothing else changes
    {"reject", fence_action::kReject, false},        // new connections refused while fenced
    {"terminate", fence_action::kTerminate, false},  // reject, and the sessions already there ended once
    {nullptr, 0, false},
};

void define_string(const char *name, const char *desc, char **var, const char *boot, GucStringCheckHook check) {
  DefineCustomStringVariable(name, desc, nullptr, var, boot, PGC_SIGHUP, kFlags, check, nullptr, nullptr);
}

}  // namespace

void define() {
  define_string("pg_vip.vip", "The virtual IP, as a /32 (IPv4) or /128 (IPv6) CIDR; empty: not configured.", &vip, "",
                check_vip);
  define_string("pg_vip.route_tables", "Comma-separated ids of the VPC route tables that carry the virtual IP.",
                &route_tables, "", check_route_tables);
  define_string(
      "pg_vip.network_interface",
      "The network interface the VIP routes point at: an eni- id, or auto for this instance's primary interface.",
      &network_interface, "auto", check_network_interface);
  define_string("pg_vip.region", "The AWS region; empty: AWS_REGION, AWS_DEFAULT_REGION, then instance metadata.",
                &region, "", check_region);
  define_string("pg_vip.ec2_endpoint",
                "The EC2 API endpoint URL; empty: AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, then the regional endpoint.",
                &ec2_endpoint, "", check_ec2_endpoint);
  define_string("pg_vip.imds_endpoint", "The instance metadata service endpoint URL.", &imds_endpoint,
                "http://169.254.169.254", check_imds_endpoint);
  define_string("pg_vip.aws_profile",
                "The profile of the shared AWS credentials files; empty: AWS_PROFILE, then default.", &aws_profile, "",
                check_aws_profile);
  define_string("pg_vip.node_name",
                "This node's name in status, tags and events; empty: cluster_name, then the host name.", &node_name, "",
                check_node_name);
  DefineCustomBoolVariable("pg_vip.enabled", "Whether pg_vip moves the virtual IP.", nullptr, &enabled, true,
                           PGC_SIGHUP, kFlags, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("pg_vip.dry_run", "Decide and report, but send no request that changes AWS.", nullptr,
                           &dry_run, false, PGC_SIGHUP, kFlags, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("pg_vip.check_interval", "How often a primary re-verifies its routes.", nullptr,
                          &check_interval_ms, 10000, 100, 3600 * 1000, PGC_SIGHUP, kFlags | GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
  DefineCustomIntVariable("pg_vip.request_timeout", "The bound on one HTTP request to AWS.", nullptr,
                          &request_timeout_ms, 2000, 100, 60 * 1000, PGC_SIGHUP, kFlags | GUC_UNIT_MS, nullptr, nullptr,
                          nullptr);
  define_string("pg_vip.ca_file", "A CA bundle to verify the endpoints' TLS certificates; empty: the system's store.",
                &ca_file, "", check_ca_file);
  define_string("pg_vip.fence_key_file",
                "A file (mode 600, the same on every node) whose key MACs the fence tags; a tag without a valid MAC "
                "is not this cluster's. Empty: no key.",
                &fence_key_file, "", check_fence_key_file);
  define_string(
      "pg_vip.event_notification_command",
      "A shell command run on each event: %n %e %s %t %d %v %r as unquoted words, also in PG_VIP_* variables.",
      &event_notification_command, "", check_event_notification_command);
  define_string("pg_vip.event_notifications", "The events that run the notification command; empty: all.",
                &event_notifications, "", check_event_notifications);
  DefineCustomEnumVariable(
      "pg_vip.fence_action", "What a fenced node does about its own clients.",
      "reject refuses new connections while this node is fenced, but superusers' and replication's; terminate "
      "also ends the ordinary sessions already there, once each time the node becomes fenced.",
      &fence_action, fence_action::kNone, fence_action_options, PGC_SIGHUP, kFlags, nullptr, nullptr, nullptr);
  define_string("pg_vip.fence_allow_roles",
                "Roles that may still open ordinary sessions on a fenced node, with the members that inherit their "
                "privileges (for monitoring); comma-separated SQL identifiers. Empty: none.",
                &fence_allow_roles, "", fence_action::check_allow_roles);
  // vip_preflight() sends about three DryRun requests per route table; they
  // draw on the account's request buckets as a failover's ReplaceRoute does.
  DefineCustomIntVariable("pg_vip.preflight_min_interval",
                          "The least time between two runs of vip_preflight()'s checks; a call sooner gets the last "
                          "run's rows.",
                          "Superusers may ask for a fresh run at any time: vip_preflight(fresh => true).",
                          &preflight_min_interval_ms, 60000, 1000, 24 * 3600 * 1000, PGC_SIGHUP, kFlags | GUC_UNIT_MS,
                          nullptr, nullptr, nullptr);
  define_string("pg_vip.preflight_probe_table",
                "A route table pg_vip does not manage, on which vip_preflight() proves each changing action "
                "refused; empty: not checked.",
                &preflight_probe_table, "", check_preflight_probe_table);
  MarkGUCPrefixReserved("pg_vip");
}

namespace {

std::string text(const char *s, const char *fallback = "") { return s ? s : fallback; }

// pg_vip.node_name, else cluster_name, else the host name.
std::string effective_node_name() {
  std::string name = settings::parse_node_name(text(node_name));
  if (name.empty() && cluster_name) name = settings::sanitize_node_name(cluster_name);
  if (name.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) name = settings::sanitize_node_name(host);
  }
  return name;
}

}  // namespace

ControllerConfig controller_config() {
  ControllerConfig cc;
  cc.enabled = enabled;
  cc.dry_run = dry_run;
  cc.vip = settings::normalize("vip", text(vip));
  cc.route_tables = settings::parse_route_tables(text(route_tables));
  cc.network_interface = text(network_interface, "auto");
  cc.region = text(region);
  cc.ec2_endpoint = text(ec2_endpoint);
  cc.imds_endpoint = text(imds_endpoint, "http://169.254.169.254");
  cc.aws_profile = text(aws_profile);
  cc.ca_file = text(ca_file);
  cc.fence_key_file = text(fence_key_file);
  cc.node_name = effective_node_name();
  cc.check_interval = std::chrono::milliseconds(check_interval_ms);
  cc.request_timeout = std::chrono::milliseconds(request_timeout_ms);
  cc.notification_command = text(event_notification_command);
  cc.notification_events = settings::parse_event_list(text(event_notifications));
  cc.preflight_probe_table = settings::parse_probe_table(text(preflight_probe_table));
  return cc;
}

}  // namespace pg_vip::gucs
