// The PostgreSQL headers the glue needs, with C linkage. Include this after
// every core header: core headers refuse to follow it (core/cpp_only.hpp).
#pragma once

extern "C" {
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
}

// shmem_request_hook and InitMaterializedSRF came in 15; META.json and the
// README say 15 through 18, the versions the source is written for.
#if PG_VERSION_NUM < 150000
#error "pg_vip needs PostgreSQL 15 or later"
#endif
