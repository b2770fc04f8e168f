// The pg_vip.* settings as PostgreSQL holds them, one variable per row of
// core/setting_table.hpp. Every string setting is checked by the core's
// parser (core/settings.hpp) and stored in canonical form.
#pragma once

#include "../core/controller.hpp"
#include "../core/sts.hpp"

namespace pg_vip::gucs {

extern char *vip;
extern char *route_tables;
extern char *elastic_ips;
extern char *elastic_ip_private_address;
extern char *secondary_ips;
extern char *network_interface;
extern char *region;
extern char *ec2_endpoint;
extern char *imds_endpoint;
extern char *aws_profile;
extern char *role_arn;
extern char *role_external_id;  // a secret of sorts: never shown
extern char *role_session_name;
extern char *sts_endpoint;
extern char *node_name;
extern bool enabled;
extern bool dry_run;
extern int check_interval_ms;
extern int request_timeout_ms;
extern char *ca_file;
extern char *fence_key_file;
extern char *event_notification_command;
extern char *event_notifications;
extern int fence_action;  // a fence_action::Action (fence_action.hpp)
// Role names as SQL identifiers, checked by fence_action::check_allow_roles.
extern char *fence_allow_roles;
extern int preflight_min_interval_ms;
extern char *preflight_probe_table;

// Registers every row of settings::kSettings (core/setting_table.hpp).
void define();

// Validates `value` for the setting `name` (with or without "pg_vip.") as a
// reload would, with the same words, and returns its canonical form,
// palloc'd. Raises ERROR when the value or the name is refused.
char *check_value(const char *name, const char *value);

// The settings as the controller takes them. Uses the core (throws): call it
// inside door::run().
ControllerConfig controller_config();

// pg_vip.role_arn and its companions, as the targets' credentials take
// them (the session name as set: empty is the Cloud's default). Uses the
// core (throws): call it inside door::run().
aws::RoleSettings role_settings();

}  // namespace pg_vip::gucs
