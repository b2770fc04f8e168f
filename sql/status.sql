-- vip_status() and vip_routes() on a standalone primary.
SELECT pg_get_function_arguments('vip_status'::regproc);
SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS vip_route
  FROM pg_attribute WHERE attrelid = 'vip_route'::regclass AND attnum > 0;
SELECT pg_get_function_result('vip_routes'::regproc), pg_get_function_result('vip_claim'::regproc);

\x on
SELECT node_name, role, state, vip, network_interface, timeline, promoted_at, primary_by,
       route_tables, routes_held, last_claim_ms, last_error, holder, holder_timeline, source_dest_check,
       worker_pid = (SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_vip') AS worker_pid_matches
  FROM vip_status();
\x off

SELECT * FROM vip_routes();
SELECT pg_get_function_result('vip_targets'::regproc);
SELECT * FROM vip_targets();
SELECT pg_get_function_arguments('vip_events'::regproc);
SELECT pg_get_function_arguments('vip_claim'::regproc);
SELECT count(*) AS events_while_disabled FROM vip_events();

-- vip_claim() answers at once when there is nothing it may do.
SELECT * FROM vip_claim();
