# pg_vip: PGXS build of a C++17 extension.
#   make && make install     build and install the extension
#   make unit                build and run the core's unit tests (no PostgreSQL needed)
#   make installcheck        pg_regress and TAP tests against the installed extension

EXTENSION  = pg_vip
# The version is written once, in pg_vip.control; everything else derives it.
EXTVERSION = $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(dir $(firstword $(MAKEFILE_LIST)))pg_vip.control)
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
GLUE_SRCS = $(sort $(wildcard src/glue/*.cpp))
MODULE_big = pg_vip
OBJS = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)
DATA_built = pg_vip--$(EXTVERSION).sql

REGRESS = setup status gucs privileges door
REGRESS_OPTS = --temp-instance=tmp_check_regress --temp-config=$(srcdir)/test/regress.conf

CORE_LIBS = -lcurl -lssl -lcrypto -lxml2
SHLIB_LINK += $(CORE_LIBS) -lstdc++

# PostgreSQL's headers use `register`, gone from C++17; -isystem keeps their
# warnings out of ours.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -I$(srcdir)/src -I/usr/include/libxml2 \
              -DPG_VIP_VERSION='"$(EXTVERSION)"'
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-register -fno-omit-frame-pointer -MMD -MP

# The LLVM bitcode PGXS would build only serves JIT inlining, and it would be
# compiled without PG_CXXFLAGS (so without -std=c++17).
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Header dependencies, which PGXS does not track for C++.
-include $(OBJS:.o=.d)

pg_vip--$(EXTVERSION).sql: pg_vip.sql pg_vip.control
	cp $< $@

# Unit tests of the core, built without any PostgreSQL header.
UNIT_SRCS = $(sort $(wildcard test/unit/*.cpp))
UNIT_BIN  = test/unit/pg_vip_unit
$(UNIT_BIN): $(UNIT_SRCS) $(CORE_SRCS) $(wildcard src/core/*.hpp test/common/*.hpp)
	$(CXX) -std=c++17 -Wall -Wextra -O1 -g -Isrc -Itest -I/usr/include/libxml2 -o $@ $(UNIT_SRCS) $(CORE_SRCS) \
	  -lgtest -lgmock -lpthread $(CORE_LIBS)

.PHONY: unit
unit: $(UNIT_BIN)
	$(UNIT_BIN)

EXTRA_CLEAN = $(UNIT_BIN) tmp_check tmp_check_regress $(OBJS:.o=.d)

# Integration tests: the core against the local AWS endpoint over real HTTP.
INTEGRATION_SRCS = $(sort $(wildcard test/integration/*.cpp))
INTEGRATION_BIN  = test/integration/pg_vip_integration
$(INTEGRATION_BIN): $(INTEGRATION_SRCS) $(wildcard test/integration/*.hpp test/common/*.hpp) $(CORE_SRCS) $(wildcard src/core/*.hpp)
	$(CXX) -std=c++17 -Wall -Wextra -O1 -g -Isrc -Itest -I/usr/include/libxml2 -o $@ $(INTEGRATION_SRCS) $(CORE_SRCS) \
	  -lgtest_main -lgtest -lpthread $(CORE_LIBS)

.PHONY: integration
integration: $(INTEGRATION_BIN)
	$(INTEGRATION_BIN)

EXTRA_CLEAN += $(INTEGRATION_BIN)

# The simulation of the fence (test/sim): every node's controller over a
# simulated EC2 and clock. SEEDS and STEPS size the run; SEED=n replays one
# seed with its whole trace.
SIM_SRCS = $(sort $(wildcard test/sim/*.cpp))
SIM_BIN  = test/sim/pg_vip_sim
SEEDS ?= 1000
STEPS ?= 3000
$(SIM_BIN): $(SIM_SRCS) $(wildcard test/sim/*.hpp) $(CORE_SRCS) $(wildcard src/core/*.hpp)
	$(CXX) -std=c++17 -Wall -Wextra -O2 -g -Isrc -Itest -I/usr/include/libxml2 -o $@ $(SIM_SRCS) $(CORE_SRCS) \
	  -lpthread $(CORE_LIBS)

.PHONY: simulate
simulate: $(SIM_BIN)
ifdef SEED
	$(SIM_BIN) --seed $(SEED) --steps $(STEPS) --trace
else
	$(SIM_BIN) --seeds $(SEEDS) --steps $(STEPS)
endif

EXTRA_CLEAN += $(SIM_BIN)

# The benchmark (about 8 minutes; see bench/bench.py).
.PHONY: bench
bench:
	bash scripts/bench.sh
