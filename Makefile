# pg_vip: PGXS build of a C++17 extension.
#   make && make install     build and install the extension
#   make unit                the core's unit tests (no PostgreSQL needed)
#   make integration         the core against the local AWS endpoint (test/fake_aws)
#   make simulate            the simulation of the fence (SEEDS=, STEPS=, WORLD=, KINDS=; SEED=n replays one)
#   make simulate-scenarios  its scripted scenarios (SCENARIO=name runs one, with its trace)
#   make simulate-fleet      the fleet simulation's tables (K clusters in one account; minutes)
#   make mutate              mutation testing of the simulation (test/mutate; MUTATE_SEEDS=, MUTATIONS=);
#                            make mutate-ci: the list's ci subset, fewer seeds
#   make installcheck        pg_regress, then the TAP tests (test/t), against the installed extension
#   make check-tap           the TAP tests only (also: installcheck-tap); PROVE_TESTS=test/t/001_version.pl picks files
#   make dist                the PGXN archive pg_vip-<version>.zip (git archive of HEAD), its META.json
#                            claiming the versions scripts/test.sh passed on HEAD, validated
#   make format-check        clang-format --dry-run --Werror over src/ and test/; `make format` applies it
#   make unit-asan           the unit tests built with AddressSanitizer and UBSan (also: integration-asan)
#   make fuzz                builds the libFuzzer targets (test/fuzz) with clang and runs each FUZZ_SECONDS (60)
#   make check-tap-valgrind  the TAP tests with every server process, the worker too, under valgrind (not as root)
# WERROR=1 (as CI builds) makes every warning in the project's own code an error.
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
# The script of this version is built from pg_vip.sql. Beside it ship, as
# written, the upgrade scripts (pg_vip--OLD--NEW.sql, which ALTER EXTENSION
# pg_vip UPDATE chains) and the first release's full script, unchanged:
# CREATE EXTENSION pg_vip VERSION 'X' installs any released X from it along
# the upgrade scripts, and test/t/043_upgrade.pl updates from it and compares
# the result with a fresh install.
DATA_built = pg_vip--$(EXTVERSION).sql
DATA = $(sort $(wildcard pg_vip--*--*.sql)) pg_vip--0.1.0.sql

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
# WERROR=1: warnings in our own code are errors (CI builds so). -Werror joins
# our flags only, never PostgreSQL's CFLAGS/CXXFLAGS, and its headers stay
# -isystem, so it judges our code alone.
ifneq ($(filter 1 yes on true,$(WERROR)),)
WERROR_FLAGS = -Werror
endif
# The sanitizers, as the ASan builds and the fuzz targets below use them:
# any UBSan report aborts, as an ASan one does.
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# -Wshadow=compatible-local: PostgreSQL 16 and later build extensions with
# it; here too, so that a shadowed local fails the first build, not 17's.
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wshadow=compatible-local -Wno-register -fno-omit-frame-pointer -MMD -MP $(WERROR_FLAGS)

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
# with their tests, built without any PostgreSQL header, object by object
# (so that `make -j` helps). The core is compiled once, with the
# simulation's flags, into build/sim/obj: the unit tests, the integration
# tests, the simulation and the mutation testing all link those objects.
TEST_CXXFLAGS = -std=c++17 -Wall -Wextra $(WERROR_FLAGS) -g -Isrc -Itest $(XML2_CFLAGS)
SIM_OPT  = -O2
SIM_CXXFLAGS = $(TEST_CXXFLAGS) $(SIM_OPT)
SIM_OBJ = build/sim/obj
CORE_TEST_OBJS = $(patsubst %.cpp,$(SIM_OBJ)/%.o,$(CORE_SRCS))
$(SIM_OBJ)/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(SIM_CXXFLAGS) -MMD -MP -c -o $@ $<
# The tests' own sources: -O1, which compiles GoogleTest's macros faster.
TEST_OBJ = build/test/obj
test_objs = $(patsubst %.cpp,$(TEST_OBJ)/%.o,$(1))
$(TEST_OBJ)/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(TEST_CXXFLAGS) -O1 -MMD -MP -c -o $@ $<
# Unit tests of the core.
UNIT_SRCS = $(sort $(wildcard test/unit/*.cpp))
UNIT_GLUE_SRCS = $(wildcard src/glue/wait_policy.cpp)
UNIT_BIN  = test/unit/pg_vip_unit
$(UNIT_BIN): $(CORE_TEST_OBJS) $(call test_objs,$(UNIT_SRCS) $(UNIT_GLUE_SRCS))
	$(CXX) -o $@ $^ -lgtest -lgmock -lpthread $(CORE_LIBS)
# Integration tests: the core against the local AWS endpoint over real HTTP.
INTEGRATION_SRCS = $(sort $(wildcard test/integration/*.cpp))
INTEGRATION_BIN  = test/integration/pg_vip_integration
$(INTEGRATION_BIN): $(CORE_TEST_OBJS) $(call test_objs,$(INTEGRATION_SRCS))
	$(CXX) -o $@ $^ -lgtest_main -lgtest -lpthread $(CORE_LIBS)
# The simulation of the fence (test/sim): every node's controller over a
# simulated EC2 and clock. SEEDS and STEPS size the run; SEED=n replays one
# seed with its whole trace; WORLD=classic|wide (wide by default) says which
# faults the seeds may draw; KINDS=route|mixed|eip|dns|any (any by default:
# a quarter of the seeds each, by the seed's number) which targets a seed
# configures: route tables, both, Elastic IPs, or Route 53 records (with
# route tables or alone). The scenarios are fixed
# scripts, each with its figures and expectation.
SIM_SRCS = $(sort $(wildcard test/sim/*.cpp))
SIM_BIN  = test/sim/pg_vip_sim
SIM_LIBS = -lpthread $(CORE_LIBS)
SIM_OBJS = $(patsubst %.cpp,$(SIM_OBJ)/%.o,$(CORE_SRCS) $(SIM_SRCS))
$(SIM_BIN): $(SIM_OBJS)
	$(CXX) -o $@ $^ $(SIM_LIBS)
# The fleet simulation (test/fleet): K clusters' controllers sharing one
# account's request limits, on fibers and a simulated clock.
FLEET_SRCS = $(sort $(wildcard test/fleet/*.cpp))
FLEET_BIN  = test/fleet/pg_vip_fleet
FLEET_OBJS = $(patsubst %.cpp,$(SIM_OBJ)/%.o,$(CORE_SRCS) $(FLEET_SRCS))
$(FLEET_BIN): $(FLEET_OBJS)
	$(CXX) -o $@ $^ $(SIM_LIBS)
-include $(patsubst %.cpp,$(SIM_OBJ)/%.d,$(FLEET_SRCS))

# The README's fleet tables (a benchmark: minutes, not in the test command):
# steady state for K clusters at N route tables, then an AZ outage and the
# zone's return (each run prints both rows; two tables) with the node's
# retry budget and with the naive policy. FLEET_STEADY, FLEET_STORM,
# FLEET_TABLES and FLEET_ARGS (e.g. --check-interval 60000) choose.
FLEET_STEADY ?= 10 100 1000 3000
FLEET_STORM  ?= 100 1000 3000
FLEET_TABLES ?= 1 10
FLEET_ARGS   ?=
.PHONY: simulate-fleet simulate-fleet-check
simulate-fleet: $(FLEET_BIN)
	@echo "| K | N | reads/s (busiest action) | of its refill | changes/s (busiest action) | of its refill | throttled in 30 min |"
	@echo "|---|---|---|---|---|---|---|"
	@for k in $(FLEET_STEADY); do for n in $(FLEET_TABLES); do \
	  $(FLEET_BIN) --clusters $$k --tables $$n --steady-only --table $(FLEET_ARGS) | sed 's/^| steady //'; done; done
	@echo
	@out=$$(mktemp) && \
	for k in $(FLEET_STORM); do for n in $(FLEET_TABLES); do for p in budget naive; do \
	  $(FLEET_BIN) --clusters $$k --tables $$n --policy $$p --storm-only --table $(FLEET_ARGS) >>$$out || \
	    echo "pg_vip_fleet exited $$? (K=$$k N=$$n $$p)" >&2; done; done; done; \
	echo "| K | N | policy | promoted | drain (s) | held p50 (s) | p99 | max | p99 / drain | calls | throttled | starved |"; \
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"; \
	grep '^| failover' $$out | sed 's/^| failover //'; \
	echo; \
	echo "| K | N | policy | restarted | settled (s) | calls | throttled | preflight calls / throttled | routes back to a stale primary |"; \
	echo "|---|---|---|---|---|---|---|---|---|"; \
	grep '^| return' $$out | sed 's/^| return //'; \
	rm -f $$out

# One small fleet through the outage and the zone's return, in the test
# command, with changing buckets small enough that the outage is throttled:
# fails if a held primary leaves its tag unrenewed past its lease in the
# steady state, a promoted cluster starves, a route goes back to a stale
# primary, or nothing was throttled.
simulate-fleet-check: $(FLEET_BIN)
	$(FLEET_BIN) --clusters 20 --tables 3 --seed 3 --mutate 5/1 --expect-throttling
-include $(SIM_OBJS:.o=.d) $(patsubst %.o,%.d,$(call test_objs,$(UNIT_SRCS) $(UNIT_GLUE_SRCS) $(INTEGRATION_SRCS)))

# The unit and integration tests again, built with AddressSanitizer and
# UBSan (build/asan): any report aborts the binary, and the leak check at
# exit makes it exit non-zero. Object by object, so that the core is
# compiled once for both and `make -j` helps; -O0 compiles the tests about
# three times faster than -O1 and hides nothing from the sanitizers.
ASAN_OBJ = build/asan/obj
asan_objs = $(patsubst %.cpp,$(ASAN_OBJ)/%.o,$(1))
$(ASAN_OBJ)/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(TEST_CXXFLAGS) -O0 $(SANITIZE_FLAGS) -MMD -MP -c -o $@ $<
ASAN_UNIT_BIN = build/asan/pg_vip_unit
ASAN_INTEGRATION_BIN = build/asan/pg_vip_integration
$(ASAN_UNIT_BIN): $(call asan_objs,$(CORE_SRCS) $(UNIT_SRCS) $(UNIT_GLUE_SRCS))
	$(CXX) $(SANITIZE_FLAGS) -o $@ $^ -lgtest -lgmock -lpthread $(CORE_LIBS)
$(ASAN_INTEGRATION_BIN): $(call asan_objs,$(CORE_SRCS) $(INTEGRATION_SRCS))
	$(CXX) $(SANITIZE_FLAGS) -o $@ $^ -lgtest_main -lgtest -lpthread $(CORE_LIBS)
ASAN_BINS = $(ASAN_UNIT_BIN) $(ASAN_INTEGRATION_BIN)
-include $(patsubst %.o,%.d,$(call asan_objs,$(CORE_SRCS) $(UNIT_SRCS) $(UNIT_GLUE_SRCS) $(INTEGRATION_SRCS)))

TEST_BINS = $(UNIT_BIN) $(INTEGRATION_BIN) $(SIM_BIN) $(FLEET_BIN)

EXTRA_CLEAN = $(TEST_BINS) tmp_check tmp_check_regress $(OBJS:.o=.d) build/asan build/sim build/test build/fuzz build/tap-valgrind

.PHONY: unit integration simulate simulate-scenarios
unit: $(UNIT_BIN)
	$(UNIT_BIN)

integration: $(INTEGRATION_BIN)
	$(INTEGRATION_BIN)

# halt_on_error: the first report ends the run; LeakSanitizer runs at exit.
ASAN_ENV = ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
.PHONY: unit-asan integration-asan
unit-asan: $(ASAN_UNIT_BIN)
	$(ASAN_ENV) $(ASAN_UNIT_BIN)

integration-asan: $(ASAN_INTEGRATION_BIN)
	$(ASAN_ENV) $(ASAN_INTEGRATION_BIN)

SEEDS ?= 1000
STEPS ?= 3000
WORLD ?= wide
KINDS ?= any
# The seeds are shared among SIM_JOBS processes (one per core), each its
# own run of consecutive seeds from 1 (--first), their reports printed in order;
# any violation fails the target.
SIM_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
simulate: $(SIM_BIN)
ifdef SEED
	$(SIM_BIN) --world $(WORLD) --kinds $(KINDS) --seed $(SEED) --steps $(STEPS) --trace
else
	@out=$$(mktemp -d) && jobs=$(SIM_JOBS) && per=$$(( ($(SEEDS) + jobs - 1) / jobs )) && \
	for j in $$(seq 0 $$((jobs - 1))); do \
	  first=$$((1 + j * per)); n=$$(( $(SEEDS) + 1 - first < per ? $(SEEDS) + 1 - first : per )); \
	  [ $$n -gt 0 ] || continue; \
	  ( $(SIM_BIN) --world $(WORLD) --kinds $(KINDS) --first $$first --seeds $$n --steps $(STEPS) \
	      >$$out/$$j.out 2>&1; echo $$? >$$out/$$j.rc ) & \
	done; wait; status=0; \
	for j in $$(seq 0 $$((jobs - 1))); do \
	  [ -f $$out/$$j.rc ] || continue; cat $$out/$$j.out; [ "$$(cat $$out/$$j.rc)" = 0 ] || status=1; \
	done; rm -rf $$out; exit $$status
endif

simulate-scenarios: $(SIM_BIN)
ifdef SCENARIO
	$(SIM_BIN) --scenario $(SCENARIO) --trace
else
	$(SIM_BIN) --scenario all
endif

# Mutation testing of the simulation (test/mutate/run.sh, the mutations in
# test/mutate/mutations.txt): each mutation of src/core is applied to a copy
# of src/ outside the tree, the simulation built against it and run; one the
# simulation does not catch fails the target. The simulation's objects
# (build/sim/obj) are those of $(SIM_BIN): a mutation recompiles only the
# file it changes. MUTATIONS="a b" runs those alone.

MUTATE_SEEDS ?= 300
MUTATE_CI_SEEDS ?= 100
MUTATE_JOBS ?= 2
MUTATE_ENV = MUTATE_CXX='$(CXX)' MUTATE_CXXFLAGS='$(SIM_CXXFLAGS)' MUTATE_LIBS='$(SIM_LIBS)' \
             MUTATE_OBJ='$(SIM_OBJ)' MUTATE_STEPS='$(STEPS)' MUTATE_JOBS='$(MUTATE_JOBS)'
.PHONY: sim-objects mutate mutate-ci
sim-objects: $(SIM_OBJS)

mutate:
	@$(MAKE) --no-print-directory -s -j$(MUTATE_JOBS) sim-objects
	@$(MUTATE_ENV) MUTATE_SEEDS='$(MUTATE_SEEDS)' bash test/mutate/run.sh $(MUTATIONS)

mutate-ci:
	@$(MAKE) --no-print-directory -s -j$(MUTATE_JOBS) sim-objects
	@$(MUTATE_ENV) MUTATE_SEEDS='$(MUTATE_CI_SEEDS)' bash test/mutate/run.sh --ci $(MUTATIONS)

# The TAP tests with every server process under valgrind (memcheck): the
# postmaster and all it forks, the pg_vip worker among them. pg_vip.so is
# built (with its -g) in a copy of this tree, build/tap-valgrind/src, and
# installed into a private copy of the PostgreSQL installation,
# build/tap-valgrind/pg/<its absolute paths> (PostgreSQL finds its files
# relative to its binaries), so the system's stays untouched; there
# `postgres` is a script that runs the real one under valgrind when it runs
# as a server (initdb's --boot and --single, -V and -C run directly). An
# error whose stack passes through pg_vip's code fails the target (the
# others are PostgreSQL's own, without its suppression file: counted, shown,
# not ours); so does a failed test, though under valgrind the tests' time
# bounds may be what fails. (ASan instead of valgrind: PostgreSQL's binaries
# with libasan preloaded deadlock on glibc's locale lock, in bindtextdomain
# or p11-kit's exit handler, before any test runs.)
TAP_VG = build/tap-valgrind
TAP_VG_PG = $(CURDIR)/$(TAP_VG)/pg
TAP_VG_LOGS = $(CURDIR)/$(TAP_VG)/valgrind
VALGRIND_FLAGS = --quiet --leak-check=no --num-callers=30 --fullpath-after= --error-limit=no
.PHONY: check-tap-valgrind
check-tap-valgrind: | not-root
	@rm -rf $(TAP_VG)
	@mkdir -p $(TAP_VG)/src $(TAP_VG_LOGS)
	@for d in '$(bindir)' '$(pkglibdir)' '$(datadir)'; do \
	  mkdir -p "$(TAP_VG_PG)$$(dirname "$$d")" && cp -a "$$d" "$(TAP_VG_PG)$$d" || exit 1; \
	done
	@inc='$(shell $(PG_CONFIG) --includedir-server)'; \
	  mkdir -p "$(TAP_VG_PG)$$(dirname "$$inc")" && ln -s "$$inc" "$(TAP_VG_PG)$$inc"
	@bin='$(TAP_VG_PG)$(bindir)'; mv "$$bin/postgres" "$$bin/postgres.bin" && \
	  printf '%s\n' '#!/bin/sh' \
	    '# postgres under valgrind when it runs as a server (make check-tap-valgrind)' \
	    'real="$$(dirname "$$0")/postgres.bin"' \
	    'case "$$1" in -V|--version|-C|--describe-config|--boot|--single|--check) exec "$$real" "$$@";; esac' \
	    'exec valgrind $(VALGRIND_FLAGS) --log-file=$(TAP_VG_LOGS)/%p.log "$$real" "$$@"' \
	    >"$$bin/postgres" && chmod 755 "$$bin/postgres"
	@tar --exclude=./.git --exclude=./build --exclude='./tmp_check*' --exclude='*.o' --exclude='*.so' \
	    --exclude='*.d' --exclude='*.bc' -cf - . | tar -C $(TAP_VG)/src -xf -
	$(MAKE) -C $(TAP_VG)/src PG_CONFIG='$(TAP_VG_PG)$(bindir)/pg_config' WERROR='$(WERROR)' install
	@status=0; \
	$(MAKE) -C $(TAP_VG)/src PG_CONFIG='$(TAP_VG_PG)$(bindir)/pg_config' check-tap \
	  $(if $(filter command line environment,$(origin PROVE)),PROVE='$(PROVE)') \
	  $(if $(filter command line environment,$(origin PROVE_TESTS)),PROVE_TESTS='$(PROVE_TESTS)') || status=1; \
	cat $(TAP_VG_LOGS)/*.log 2>/dev/null | sed 's/^==[0-9]*== \{0,1\}//' | \
	  awk 'BEGIN { RS = "" } /^(Memcheck|Copyright|Using Valgrind|Command:|Parent PID:)/ { next } \
	       { all++ } /(at|by) 0x[0-9A-F]+: .*(pg_vip\.so|\/src\/(core|glue)\/[a-z_]+\.(cpp|hpp):)/ { ours++; print "--- an error in pg_vip'"'"'s code:"; print } \
	       END { printf "valgrind: %d error(s) in pg_vip'"'"'s code, %d elsewhere (PostgreSQL'"'"'s own), in %s\n", ours, all - ours, "$(TAP_VG_LOGS)"; exit (ours > 0) }' \
	  || status=1; \
	echo "check-tap-valgrind: $$([ $$status -eq 0 ] && echo passed || echo FAILED)"; exit $$status

# libFuzzer targets (test/fuzz/*.cpp, one per parser of outside input), built
# with Debian's clang and its libFuzzer (libclang-rt-14-dev) under ASan and
# UBSan, against the core compiled alike (build/fuzz). `make fuzz` runs each
# for FUZZ_SECONDS, growing build/fuzz/corpus/<target> and reading the seeds
# in test/fuzz/corpus/<target> without writing to them; crashes land in
# test/fuzz/crashes/. FUZZ_TARGETS=settings picks targets.
FUZZ_CXX ?= clang++
FUZZ_SECONDS ?= 60
# test/fuzz/ubsan_ignorelist.txt: one known UBSan report in a third-party
# header (rapidjson's), not instrumented; nothing of ours is listed there.
FUZZ_FLAGS = -std=c++17 -g -O1 -Wall -Wextra $(WERROR_FLAGS) $(SANITIZE_FLAGS) \
             -fsanitize-ignorelist=test/fuzz/ubsan_ignorelist.txt -Isrc -Itest $(XML2_CFLAGS)
FUZZ_SRCS = $(sort $(wildcard test/fuzz/*.cpp))
FUZZ_ALL = $(patsubst test/fuzz/%.cpp,%,$(FUZZ_SRCS))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS = $(addprefix build/fuzz/,$(FUZZ_ALL))
FUZZ_CORE_OBJS = $(patsubst src/core/%.cpp,build/fuzz/core/%.o,$(CORE_SRCS))

build/fuzz/core/%.o: src/core/%.cpp test/fuzz/ubsan_ignorelist.txt
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build/fuzz/libcore.a: $(FUZZ_CORE_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BINS): build/fuzz/%: test/fuzz/%.cpp test/fuzz/support.hpp test/fuzz/ubsan_ignorelist.txt build/fuzz/libcore.a
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libcore.a $(CORE_LIBS)

-include $(FUZZ_CORE_OBJS:.o=.d)

.PHONY: fuzz fuzz-build print-fuzz-targets
fuzz-build: $(addprefix build/fuzz/,$(FUZZ_TARGETS))

print-fuzz-targets:
	@echo $(FUZZ_TARGETS)

fuzz: fuzz-build
	@status=0; for t in $(FUZZ_TARGETS); do \
	  FUZZ_SECONDS=$(FUZZ_SECONDS) bash test/fuzz/run.sh build/fuzz/$$t || status=1; \
	done; exit $$status

# The C++ style is .clang-format's; CI fails on any difference.
CLANG_FORMAT ?= clang-format
FORMAT_SRCS = $(sort $(wildcard src/*/*.cpp src/*/*.hpp test/*/*.cpp test/*/*.hpp))
# The PostgreSQL-version guard of GUC string memory (src/glue/guc_memory.hpp),
# built against stand-ins as 15 and as 16+: each must take its own branch.
.PHONY: check-guc-memory
check-guc-memory:
	@for v in 150000 160000 180000; do \
	  $(CXX) -std=c++17 -Wall -Wextra -Werror -I$(srcdir)/src -DPG_VERSION_NUM=$$v \
	    -o test/compile/guc_memory_test_$$v $(srcdir)/test/compile/guc_memory_test.cpp && \
	  test/compile/guc_memory_test_$$v || exit 1; \
	done

EXTRA_CLEAN += $(addprefix test/compile/guc_memory_test_,150000 160000 180000)

.PHONY: format format-check
format:
	$(CLANG_FORMAT) -i $(FORMAT_SRCS)

format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_SRCS)

# The PGXN archive, as PGXN's own convention makes it: git's HEAD under
# pg_vip-<version>/. Its META.json claims the PostgreSQL versions that passed
# the test command on this very commit (scripts/dist_meta.pl reads the record
# scripts/test.sh leaves in $(TEST_RECORD); without one for HEAD it refuses),
# and is checked against the PGXN Meta Spec and against the archive itself
# (test/check_pgxn_meta.pl); an archive that fails the check is deleted, not
# left to be uploaded.
DIST = pg_vip-$(EXTVERSION).zip
TEST_RECORD ?= build/tested-postgresql.txt
.PHONY: dist
dist:
	@git rev-parse -q --verify HEAD >/dev/null 2>&1 || \
	  { echo "make dist archives git's HEAD: run it in a git checkout that has a commit"; exit 1; }
	@[ -z "$$(git status --porcelain --untracked-files=no)" ] || \
	  echo "make dist: the archive is HEAD; changes not committed are not in it"
	@mkdir -p build/dist
	perl scripts/dist_meta.pl $(TEST_RECORD) META.json $$(git rev-parse HEAD) > build/dist/META.json || \
	  { rm -f build/dist/META.json; exit 1; }
	git archive --format zip --prefix=pg_vip-$(EXTVERSION)/ --add-file=build/dist/META.json --output $(DIST) \
	  HEAD -- . ':(exclude)META.json'
	@perl test/check_pgxn_meta.pl $(DIST) || { rm -f $(DIST); exit 1; }

# The benchmark (about 8 minutes; see bench/bench.py).
.PHONY: bench
bench:
	bash scripts/bench.sh

# The lab's benchmark, as root (about 10 minutes; see bench/lab_bench.py):
# the client's write downtime through repmgr failovers, pg_vip against the hook.
.PHONY: bench-lab
bench-lab:
	bash scripts/bench.sh lab
