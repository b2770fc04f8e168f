#include "gucs.hpp"

#include <unistd.h>

#include <array>
#include <utility>

#include "../core/setting_table.hpp"
#include "../core/settings.hpp"
#include "door.hpp"
#include "fence_action.hpp"
#include "guc_memory.hpp"

extern "C" {
#include "utils/builtins.h"
}

namespace pg_vip::gucs {

char *vip = nullptr;
char *route_tables = nullptr;
char *elastic_ips = nullptr;
char *elastic_ip_private_address = nullptr;
char *secondary_ips = nullptr;
char *dns_records = nullptr;
int dns_ttl_s = 10;
char *dns_value = nullptr;
char *route53_endpoint = nullptr;
char *network_interface = nullptr;
char *region = nullptr;
char *ec2_endpoint = nullptr;
char *imds_endpoint = nullptr;
char *aws_profile = nullptr;
char *role_arn = nullptr;
char *role_external_id = nullptr;
char *role_session_name = nullptr;
char *sts_endpoint = nullptr;
char *node_name = nullptr;
bool enabled = true;
bool dry_run = false;
int check_interval_ms = 10000;
int replicated_check_interval_ms = 300000;
int standby_check_interval_ms = 600000;
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

// Validates *newval with the row's core parser and replaces it by its
// canonical form. A bad value is refused with the parser's explanation, so a
// typo in postgresql.conf is reported at reload instead of silently
// disabling failover.
bool check_setting(const settings::Setting &row, char **newval) {
  door::Failure failure;
  char *canonical = nullptr;
  const char *value = *newval ? *newval : "";
  bool ok = door::run([&] { canonical = door::copy_out(row.normalize(value)); }, failure);
  if (!ok) {
    // PostgreSQL's own message would show the value whole: a secret's
    // message is the parser's, which does not.
    if (row.secret) GUC_check_errmsg("%s", failure.message);
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

// A check hook is told the value, not the setting: one instance per row.
template <std::size_t Row>
bool check_row(char **newval, void **, GucSource) {
  return check_setting(settings::kSettings[Row], newval);
}

constexpr std::size_t kRows = std::size(settings::kSettings);

template <std::size_t... Rows>
constexpr std::array<GucStringCheckHook, kRows> row_hooks(std::index_sequence<Rows...>) {
  return {{check_row<Rows>...}};
}
constexpr auto kRowHooks = row_hooks(std::make_index_sequence<kRows>());

// Each row's C variable, in the table's order; a setting the core checks
// not (Normalizer nullptr) names its glue check hook here.
struct Binding {
  const char *name;
  char **text = nullptr;
  bool *boolean = nullptr;
  int *integer = nullptr;
  double *real = nullptr;
  GucStringCheckHook glue_check = nullptr;

  constexpr Binding(const char *n, char **v, GucStringCheckHook check = nullptr)
      : name(n), text(v), glue_check(check) {}
  constexpr Binding(const char *n, bool *v) : name(n), boolean(v) {}
  constexpr Binding(const char *n, int *v) : name(n), integer(v) {}
  constexpr Binding(const char *n, double *v) : name(n), real(v) {}
};

constexpr Binding kBindings[] = {
    {"pg_vip.vip", &vip},
    {"pg_vip.route_tables", &route_tables},
    {"pg_vip.elastic_ips", &elastic_ips},
    {"pg_vip.elastic_ip_private_address", &elastic_ip_private_address},
    {"pg_vip.secondary_ips", &secondary_ips},
    {"pg_vip.dns_records", &dns_records},
    {"pg_vip.dns_ttl", &dns_ttl_s},
    {"pg_vip.dns_value", &dns_value},
    {"pg_vip.route53_endpoint", &route53_endpoint},
    {"pg_vip.network_interface", &network_interface},
    {"pg_vip.region", &region},
    {"pg_vip.ec2_endpoint", &ec2_endpoint},
    {"pg_vip.imds_endpoint", &imds_endpoint},
    {"pg_vip.aws_profile", &aws_profile},
    {"pg_vip.role_arn", &role_arn},
    {"pg_vip.role_external_id", &role_external_id},
    {"pg_vip.role_session_name", &role_session_name},
    {"pg_vip.sts_endpoint", &sts_endpoint},
    {"pg_vip.node_name", &node_name},
    {"pg_vip.enabled", &enabled},
    {"pg_vip.dry_run", &dry_run},
    {"pg_vip.check_interval", &check_interval_ms},
    {"pg_vip.replicated_check_interval", &replicated_check_interval_ms},
    {"pg_vip.standby_check_interval", &standby_check_interval_ms},
    {"pg_vip.request_timeout", &request_timeout_ms},
    {"pg_vip.ca_file", &ca_file},
    {"pg_vip.fence_key_file", &fence_key_file},
    {"pg_vip.event_notification_command", &event_notification_command},
    {"pg_vip.event_notifications", &event_notifications},
    {"pg_vip.preflight_min_interval", &preflight_min_interval_ms},
    {"pg_vip.preflight_probe_table", &preflight_probe_table},
    {"pg_vip.fence_action", &fence_action},
    {"pg_vip.fence_allow_roles", &fence_allow_roles, fence_action::check_allow_roles},
};

constexpr bool same_name(const char *a, const char *b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

// The bindings and the table agree row by row: same name, a variable of the
// row's type, and a check for every string (the core's or the glue's).
constexpr bool bindings_match() {
  if (std::size(kBindings) != kRows) return false;
  for (std::size_t i = 0; i < kRows; ++i) {
    const auto &row = settings::kSettings[i];
    const auto &b = kBindings[i];
    if (!same_name(row.name, b.name)) return false;
    switch (row.type) {
      case settings::Type::Bool:
        if (!b.boolean) return false;
        break;
      case settings::Type::Int:
      case settings::Type::Enum:
        if (!b.integer) return false;
        break;
      case settings::Type::Real:
        if (!b.real) return false;
        break;
      case settings::Type::String:
      case settings::Type::List:
        if (!b.text || (row.normalize == nullptr) == (b.glue_check == nullptr)) return false;
        break;
    }
  }
  return true;
}
static_assert(bindings_match(), "kBindings must follow settings::kSettings row by row");
static_assert(settings::kFenceActions[fence_action::kNone].value == fence_action::kNone &&
                  settings::kFenceActions[fence_action::kReject].value == fence_action::kReject &&
                  settings::kFenceActions[fence_action::kTerminate].value == fence_action::kTerminate,
              "pg_vip.fence_action's values are fence_action::Action's");

GucContext guc_context(settings::Context c) {
  switch (c) {
    case settings::Context::Reload: return PGC_SIGHUP;
    case settings::Context::Restart: return PGC_POSTMASTER;
    case settings::Context::Superuser: return PGC_SUSET;
  }
  return PGC_SIGHUP;
}

// Every setting is hidden from non-superusers (setting_table.hpp says why).
int guc_flags(const settings::Setting &row) {
  int flags = GUC_SUPERUSER_ONLY;
  if (row.unit == settings::Unit::Ms) flags |= GUC_UNIT_MS;
  if (row.unit == settings::Unit::S) flags |= GUC_UNIT_S;
  return flags;
}

// PostgreSQL keeps a pointer to each enum's options: static, for every row.
constexpr std::size_t enum_slots() {
  std::size_t n = 0;
  for (const auto &row : settings::kSettings) n += row.type == settings::Type::Enum ? row.n_enum_values + 1 : 0;
  return n;
}
config_enum_entry enum_options[enum_slots() + 1];

}  // namespace

void define() {
  std::size_t next_option = 0;
  for (std::size_t i = 0; i < kRows; ++i) {
    const auto &row = settings::kSettings[i];
    const auto &b = kBindings[i];
    GucContext context = guc_context(row.context);
    int flags = guc_flags(row);
    switch (row.type) {
      case settings::Type::Bool:
        DefineCustomBoolVariable(row.name, row.short_desc, row.long_desc, b.boolean, row.boot_int != 0, context, flags,
                                 nullptr, nullptr, nullptr);
        break;
      case settings::Type::Int:
        DefineCustomIntVariable(row.name, row.short_desc, row.long_desc, b.integer, row.boot_int, row.min_int,
                                row.max_int, context, flags, nullptr, nullptr, nullptr);
        break;
      case settings::Type::Real:
        DefineCustomRealVariable(row.name, row.short_desc, row.long_desc, b.real, row.boot_real, row.min_real,
                                 row.max_real, context, flags, nullptr, nullptr, nullptr);
        break;
      case settings::Type::Enum: {
        config_enum_entry *options = &enum_options[next_option];
        for (std::size_t v = 0; v < row.n_enum_values; ++v)
          enum_options[next_option++] = {row.enum_values[v].name, row.enum_values[v].value, false};
        enum_options[next_option++] = {nullptr, 0, false};
        DefineCustomEnumVariable(row.name, row.short_desc, row.long_desc, b.integer, row.boot_int, options, context,
                                 flags, nullptr, nullptr, nullptr);
        break;
      }
      case settings::Type::String:
      case settings::Type::List:
        DefineCustomStringVariable(row.name, row.short_desc, row.long_desc, b.text, row.boot_text, context, flags,
                                   b.glue_check ? b.glue_check : kRowHooks[i], nullptr, nullptr);
        break;
    }
  }
  MarkGUCPrefixReserved("pg_vip");
}

char *check_value(const char *name, const char *value) {
  const settings::Setting *row = settings::find_setting(name);
  door::Failure failure;
  char *canonical = nullptr;
  if (row == nullptr || row->normalize != nullptr) {
    // The core's parser, as the row's check hook runs it; an unknown name
    // is the core's error too, naming every setting.
    if (!door::run([&] { canonical = door::copy_out(settings::normalize(name, value)); }, failure))
      door::raise_error(failure);
  } else {
    // PostgreSQL's own parsing, range check and check hook, as ALTER SYSTEM
    // and a reload run them: the same words. changeVal = false: nothing
    // changes. PGC_POSTMASTER is the context every setting accepts.
    (void) set_config_option(row->name, value, PGC_POSTMASTER, PGC_S_FILE, GUC_ACTION_SET, false, ERROR, false);
    switch (row->type) {
      case settings::Type::Bool: {
        bool on = false;
        (void) parse_bool(value, &on);
        return pstrdup(on ? "on" : "off");
      }
      case settings::Type::Int: {
        int n = 0;
        (void) parse_int(value, &n, guc_flags(*row), nullptr);
        if (!door::run([&] { canonical = door::copy_out(settings::show_int(*row, n)); }, failure))
          door::raise_error(failure);
        break;
      }
      case settings::Type::Real: {
        double d = 0;
        (void) parse_real(value, &d, guc_flags(*row), nullptr);
        return psprintf("%g", d);
      }
      case settings::Type::Enum:
        for (std::size_t v = 0; v < row->n_enum_values; ++v)
          if (pg_strcasecmp(value, row->enum_values[v].name) == 0) return pstrdup(row->enum_values[v].name);
        return pstrdup(value);
      case settings::Type::String:
      case settings::Type::List: return pstrdup(value);  // a glue check hook keeps the value as written
    }
  }
  if (canonical == nullptr) ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
  char *result = pstrdup(canonical);
  free(canonical);
  return result;
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
  cc.vip = settings::normalize_vip(text(vip));
  cc.route_tables = settings::parse_route_tables(text(route_tables));
  cc.elastic_ips = settings::parse_elastic_ips(text(elastic_ips));
  cc.elastic_ip_private_address = settings::parse_elastic_ip_private_address(text(elastic_ip_private_address));
  cc.secondary_ips = settings::parse_secondary_ips(text(secondary_ips));
  for (const auto &r : settings::parse_dns_records(text(dns_records)))
    cc.dns_records.push_back(r.zone_id + ":" + r.name);
  cc.dns_ttl = dns_ttl_s;
  cc.dns_value = settings::parse_dns_value(text(dns_value, "private"));
  cc.route53_endpoint = settings::normalize_route53_endpoint(text(route53_endpoint));
  cc.network_interface = text(network_interface, "auto");
  cc.region = text(region);
  cc.ec2_endpoint = text(ec2_endpoint);
  cc.imds_endpoint = text(imds_endpoint, "http://169.254.169.254");
  cc.aws_profile = text(aws_profile);
  cc.ca_file = text(ca_file);
  cc.fence_key_file = text(fence_key_file);
  cc.node_name = effective_node_name();
  cc.check_interval = std::chrono::milliseconds(check_interval_ms);
  cc.replicated_check_interval = std::chrono::milliseconds(replicated_check_interval_ms);
  cc.standby_check_interval = std::chrono::milliseconds(standby_check_interval_ms);
  cc.request_timeout = std::chrono::milliseconds(request_timeout_ms);
  cc.notification_command = text(event_notification_command);
  cc.notification_events = settings::parse_event_list(text(event_notifications));
  cc.preflight_probe_table = settings::parse_probe_table(text(preflight_probe_table));
  return cc;
}

aws::RoleSettings role_settings() {
  aws::RoleSettings r;
  r.arn = settings::parse_role_arn(text(role_arn));
  r.external_id = settings::parse_role_external_id(text(role_external_id));
  r.session_name = settings::parse_role_session_name(text(role_session_name));
  r.endpoint = settings::normalize_sts_endpoint(text(sts_endpoint));
  return r;
}

}  // namespace pg_vip::gucs
