// Included last by every core header: the core must stay free of PostgreSQL.
// postgres.h redefines printf, snprintf, strerror and friends (port.h) and
// its error handling longjmps over C++ destructors, so mixing the two is a
// bug the compiler should catch, not a reviewer.
#pragma once
#ifdef PG_VERSION_NUM
#error "a pg_vip core header was included after a PostgreSQL header; include core headers first"
#endif
