# Shared by scripts/test.sh, demo.sh and bench.sh: packages, build, and running
# commands as the postgres OS user when started as root (PostgreSQL refuses
# to run as root).

# The PostgreSQL major version of this machine (Debian 12's): written here
# only; everything else takes PG_CONFIG (make, and bench.py through
# scripts/bench.sh). The tests of another version run in a chroot of the
# Debian release that has it (scripts/pg_chroot.sh, scripts/pg_version_tests.sh),
# which sets PG_MAJOR before sourcing this file.
PG_MAJOR=${PG_MAJOR:-15}
PG_BINDIR=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BINDIR/pg_config
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Compiles at once: one per core (make -j).
JOBS=$(nproc 2>/dev/null || echo 2)

PACKAGES=(
  build-essential make g++ "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR"
  libcurl4-openssl-dev libssl-dev rapidjson-dev libxml2-dev libgtest-dev libgmock-dev
  libipc-run-perl libjson-pp-perl awscli python3-awscrt python3 openssl ca-certificates curl clang-format
  # The fuzz targets: Debian's clang and its compiler-rt (libFuzzer, ASan, UBSan).
  clang libclang-rt-14-dev
  # The lab (scripts/lab.sh, test/lab): namespaces, the failover managers, the client,
  # nftables (the Elastic IP's NAT in the router).
  iproute2 procps "postgresql-$PG_MAJOR-repmgr" patroni etcd-server etcd-client
  "postgresql-$PG_MAJOR-auto-failover" pg-auto-failover-cli python3-psycopg2 python3-pyroute2 openssh-server openssh-client nftables
  # The Debian package (debian/: pg_buildext, dh --with pgxs_loop) and the
  # PGXN archive (make dist: git archive, read back with unzip).
  debhelper dpkg-dev fakeroot postgresql-server-dev-all git unzip
  # The other PostgreSQL versions, each in a chroot of the Debian release
  # that ships it (scripts/pg_chroot.sh), never installed on this machine.
  mmdebstrap zstd
)

# Each heading carries the time since the script started, so that a run's
# log shows where its minutes went.
log() { printf '\n== %s  [%dm%02ds]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

install_packages() {
  if [ "$(id -u)" -ne 0 ]; then
    log "not root: skipping apt-get (needs: ${PACKAGES[*]})"
    return 0
  fi
  log "installing packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
}

# Builds and installs the extension; the compiler's output goes to $1, and
# any further arguments go to make (e.g. WERROR=1).
build_and_install() {
  local build_log=$1
  shift
  log "building and installing pg_vip${*:+ ($*)}"
  make -C "$TOP" -j"$JOBS" PG_CONFIG="$PG_CONFIG" "$@" >"$build_log" 2>&1 || { cat "$build_log"; return 1; }
  if [ "$(id -u)" -eq 0 ]; then
    make -C "$TOP" PG_CONFIG="$PG_CONFIG" "$@" install >/dev/null
  else
    sudo make -C "$TOP" PG_CONFIG="$PG_CONFIG" "$@" install >/dev/null
  fi
}

# A copy of the tree the server's OS user can write to (a clone under /root
# is not readable by postgres). Prints its path.
make_work_tree() {
  local dir
  dir=$(mktemp -d /tmp/pg_vip.XXXXXX)
  chmod 755 "$dir"
  tar -C "$TOP" --exclude=.git --exclude=./build -cf - . | tar -C "$dir" -xf -
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$dir"; fi
  printf '%s\n' "$dir"
}

# Runs a command as the postgres OS user when root, else as ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- env PATH="$PG_BINDIR:$PATH" "$@"
  else
    env PATH="$PG_BINDIR:$PATH" "$@"
  fi
}

# Runs pg_regress from the tree $1 against the installed extension and
# counts each of its tests with the caller's count().
run_regress() {
  local dir=$1 out total rf
  out=$(mktemp)
  (cd "$dir" && as_pg make PG_CONFIG="$PG_CONFIG" installcheck TAP_TESTS=) >"$out" 2>&1
  grep -E '^(test |ok |not ok | *[0-9]+ of [0-9]+ tests| All [0-9]+ tests)' "$out"
  total=$(grep -cE '^test |^(not )?ok [0-9]+ ' "$out")
  rf=$(grep -cE '^test .*FAILED|^not ok [0-9]+ ' "$out")
  if [ "$total" -eq 0 ]; then cat "$out"; rf=1; fi
  [ -f "$dir/regression.diffs" ] && cat "$dir/regression.diffs"
  count $((total - rf)) "$rf"
}

# test/run_tap.pl stands in for prove: the same run, and a count of the
# assertions. Prints "passed failed skipped" from its last line ("tap
# totals: N passed, M failed, K skipped") in the file $1, or "0 1 0".
tap_totals() {
  local line
  line=$(sed -n 's/^tap totals: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$1")
  echo "${line:-0 1 0}"
}
