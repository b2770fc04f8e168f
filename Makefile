# pg_vip: PGXS build of a C++17 extension.
#   make && make install     build and install the extension
#   make unit                the core's unit tests (no PostgreSQL needed)
#   make integration         the core against the local AWS endpoint (test/fake_aws)
#   make simulate            the simulation of the fence (SEEDS=, STEPS=; SEED=n replays one)
#   make installcheck        pg_regress, then the TAP tests (test/t), against the installed extension
#   make check-tap           the TAP tests only (also: installcheck-tap); PROVE_TESTS=test/t/001_version.pl picks files
#   make format-check        clang-format --dry-run --Werror over src/ and test/; `make format` applies it
# The PostgreSQL built against is the pg_config on PATH, or PG_CONFIG=/path/to/pg_config.
# installcheck and check-tap start their own servers, so they run as a user
# other than root (PostgreSQL refuses root), in a tree that user can write.

PG_CONFIG ?= pg_config

EXTENSION  = pg_vip
# The version is written once, in pg_vip.control; everything else derives it.
EXTVERSION = $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(dir $(firstword $(MAKEFILE_LIST)))pg_vip.control)

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
GLUE_SRCS = $(sort $(wildcard src/glue/*.cpp))
MODULE_big = pg_vip
OBJS = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)
DATA_built = pg_vip--$(EXTVERSION).sql

REGRESS = setup status gucs privileges door
REGRESS_OPTS = --temp-instance=tmp_check_regress --temp-config=$(srcdir)/test/regress.conf

# The TAP tests, laid out as pgvector's: test/t/*.pl, their module in test/perl.
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

# libxml2's flags, as its own xml2-config (libxml2-dev) gives them.
XML2_CONFIG ?= xml2-config
XML2_CFLAGS := $(shell $(XML2_CONFIG) --cflags)
XML2_LIBS   := $(shell $(XML2_CONFIG) --libs)

CORE_LIBS = -lcurl -lssl -lcrypto $(XML2_LIBS)
SHLIB_LINK += $(CORE_LIBS) -lstdc++

# PostgreSQL's headers use `register`, gone from C++17; -isystem keeps their
# warnings out of ours.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -I$(srcdir)/src $(XML2_CFLAGS) \
              -DPG_VIP_VERSION='"$(EXTVERSION)"'
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-register -fno-omit-frame-pointer -MMD -MP

# The LLVM bitcode PGXS would build only serves JIT inlining, and it would be
# compiled without PG_CXXFLAGS (so without -std=c++17).
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# After the include: Makefile.global sets PROVE_FLAGS empty.
PROVE_FLAGS += -I ./test/perl

# Header dependencies, which PGXS does not track for C++.
-include $(OBJS:.o=.d)

pg_vip--$(EXTVERSION).sql: pg_vip.sql pg_vip.control
	cp $< $@

# The TAP tests alone, with the environment PGXS's installcheck gives them.
.PHONY: check-tap installcheck-tap
check-tap installcheck-tap: | not-root
	$(prove_installcheck)

installcheck: | not-root

.PHONY: not-root
not-root:
	@if [ "$$(id -u)" -eq 0 ]; then \
	  echo "PostgreSQL refuses to run as root: run the tests as another user, in a tree it can write," \
	       "e.g. runuser -u postgres -- make installcheck"; \
	  exit 1; \
	fi

# The test binaries: the core (and the PostgreSQL-free parts of the glue)
# with their tests, built by one rule without any PostgreSQL header. Each
# names its sources as prerequisites; the rule compiles every .cpp among them.
TEST_CXXFLAGS = -std=c++17 -Wall -Wextra -g -Isrc -Itest $(XML2_CFLAGS)
# Unit tests of the core.
UNIT_SRCS = $(sort $(wildcard test/unit/*.cpp))
UNIT_GLUE_SRCS = $(wildcard src/glue/wait_policy.cpp)
UNIT_BIN  = test/unit/pg_vip_unit
$(UNIT_BIN): $(UNIT_SRCS) $(UNIT_GLUE_SRCS)
$(UNIT_BIN): TEST_OPT = -O1
$(UNIT_BIN): TEST_LIBS = -lgtest -lgmock -lpthread

# Integration tests: the core against the local AWS endpoint over real HTTP.
INTEGRATION_SRCS = $(sort $(wildcard test/integration/*.cpp))
INTEGRATION_BIN  = test/integration/pg_vip_integration
$(INTEGRATION_BIN): $(INTEGRATION_SRCS)
$(INTEGRATION_BIN): TEST_OPT = -O1
$(INTEGRATION_BIN): TEST_LIBS = -lgtest_main -lgtest -lpthread

# The simulation of the fence (test/sim): every node's controller over a
# simulated EC2 and clock. SEEDS and STEPS size the run; SEED=n replays one
# seed with its whole trace.
SIM_SRCS = $(sort $(wildcard test/sim/*.cpp))
SIM_BIN  = test/sim/pg_vip_sim
$(SIM_BIN): $(SIM_SRCS)
$(SIM_BIN): TEST_OPT = -O2
$(SIM_BIN): TEST_LIBS = -lpthread

TEST_BINS = $(UNIT_BIN) $(INTEGRATION_BIN) $(SIM_BIN)
TEST_HDRS = $(wildcard src/core/*.hpp $(UNIT_GLUE_SRCS:.cpp=.hpp) test/*/*.hpp)
$(TEST_BINS): $(CORE_SRCS) $(TEST_HDRS)
	$(CXX) $(TEST_CXXFLAGS) $(TEST_OPT) -o $@ $(filter %.cpp,$^) $(TEST_LIBS) $(CORE_LIBS)

EXTRA_CLEAN = $(TEST_BINS) tmp_check tmp_check_regress $(OBJS:.o=.d)

.PHONY: unit integration simulate
unit: $(UNIT_BIN)
	$(UNIT_BIN)

integration: $(INTEGRATION_BIN)
	$(INTEGRATION_BIN)

SEEDS ?= 1000
STEPS ?= 3000
simulate: $(SIM_BIN)
ifdef SEED
	$(SIM_BIN) --seed $(SEED) --steps $(STEPS) --trace
else
	$(SIM_BIN) --seeds $(SEEDS) --steps $(STEPS)
endif

# The C++ style is .clang-format's; CI fails on any difference.
CLANG_FORMAT ?= clang-format
FORMAT_SRCS = $(sort $(wildcard src/*/*.cpp src/*/*.hpp test/*/*.cpp test/*/*.hpp))
.PHONY: format format-check
format:
	$(CLANG_FORMAT) -i $(FORMAT_SRCS)

format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_SRCS)

# The benchmark (about 8 minutes; see bench/bench.py).
.PHONY: bench
bench:
	bash scripts/bench.sh
