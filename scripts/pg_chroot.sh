#!/usr/bin/env bash
# A Debian chroot with another PostgreSQL major version, to build and test
# pg_vip on it without installing that version on this machine.
#
#   bash scripts/pg_chroot.sh tarball N   makes (or reuses) the chroot of
#                                         PostgreSQL N, prints its tarball's path
#   bash scripts/pg_chroot.sh run N DIR CMD...
#                                         runs CMD as root in a fresh copy of
#                                         that chroot, with a copy of the
#                                         sources of the tree DIR at /src
#
# Each version comes from the Debian release that ships it, from the same
# archive this machine's apt uses: 17 from trixie (Debian 13), 18 from forky
# (testing). Debian has no PostgreSQL 16. The chroot is made by mmdebstrap
# into a tarball under $PG_VIP_CHROOT_CACHE (/var/cache/pg_vip/chroots),
# outside any clone, named by a hash of what it is made from: the suite, the
# archive, the package list and the functions below that make it. A second
# run reuses it; one older than PG_VIP_CHROOT_MAX_AGE_DAYS (14) is made anew,
# so that a suite that moves (testing does) is followed. Beside each tarball, its .packages
# file lists the versions it holds. A Release file past its Valid-Until is
# accepted (Acquire::Check-Valid-Until false): the archive may be a frozen
# snapshot, whose testing suite has expired; its signature is still checked.
#
# `run` unpacks the tarball into a temporary directory, copies the sources
# there (what git tracks and the new files it does not ignore, never a
# build product of this machine's version), and enters it in new
# mount, PID and network namespaces (unshare): /proc, /dev and /dev/shm are
# mounted inside the mount namespace, so they go with it however the command
# ends, and the network has only loopback, so servers inside cannot collide
# with this machine's. The directory is removed on exit.
set -euo pipefail

CACHE=${PG_VIP_CHROOT_CACHE:-/var/cache/pg_vip/chroots}
MAX_AGE_DAYS=${PG_VIP_CHROOT_MAX_AGE_DAYS:-14}

suite_of() {  # PostgreSQL major -> Debian suite that ships it
  case $1 in
    17) echo trixie ;;
    18) echo forky ;;
    *) echo "pg_chroot: no Debian suite known for PostgreSQL $1 (17: trixie, 18: forky)" >&2; return 1 ;;
  esac
}

# What the chroot holds: the server, its headers, and what scripts/common.sh
# installs on the host for building and for pg_regress and the TAP tests
# (the fake AWS endpoint needs awscli's botocore).
packages_of() {
  local v=$1
  echo "build-essential make g++ postgresql-$v postgresql-client-$v postgresql-server-dev-$v" \
    "libcurl4-openssl-dev libssl-dev rapidjson-dev libxml2-dev libgtest-dev libgmock-dev" \
    "libipc-run-perl perl awscli python3 openssl ca-certificates curl procps iproute2" \
    "debhelper dpkg-dev fakeroot postgresql-server-dev-all"
}

# The Debian archive this machine's apt uses (its main suite's URI), unless
# PG_VIP_DEBIAN_MIRROR says otherwise.
mirror() {
  if [ -n "${PG_VIP_DEBIAN_MIRROR:-}" ]; then echo "$PG_VIP_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(apt-get indextargets --format '$(REPO_URI) $(ORIGIN) $(COMPONENT)' 2>/dev/null |
        awk '$2 == "Debian" && $3 == "main" && $1 !~ /-security/ { print $1; exit }')
  echo "${uri:-http://deb.debian.org/debian/}"
}

tarball() {
  local v=$1 suite pkgs url key out age
  suite=$(suite_of "$v")
  pkgs=$(packages_of "$v")
  url=$(mirror)
  key=$( { echo "$suite"; echo "$url"; echo "$pkgs"; declare -f suite_of packages_of tarball; } | sha256sum | cut -c1-16)
  out="$CACHE/pg$v-$suite-$key.tar.zst"
  if [ -f "$out" ]; then
    age=$(( ( $(date +%s) - $(stat -c %Y "$out") ) / 86400 ))
    if [ "$age" -lt "$MAX_AGE_DAYS" ]; then
      echo "pg_chroot: reusing $out (made $age days ago)" >&2
      echo "$out"
      return
    fi
    echo "pg_chroot: $out is $age days old: making it anew" >&2
  fi
  command -v mmdebstrap >/dev/null || {
    echo "pg_chroot: mmdebstrap is not installed (apt-get install mmdebstrap)" >&2; return 1; }
  mkdir -p "$CACHE"
  # Older chroots of this version (another key) go: one per version is kept.
  rm -f "$CACHE/pg$v-"*.tar.zst "$CACHE/pg$v-"*.packages
  echo "pg_chroot: making the chroot of PostgreSQL $v from $suite ($url)" >&2
  local start=$SECONDS tmp="$out.tmp.$$.tar.zst"
  # No cluster is made on install (postgresql-common's main cluster): the
  # tests make their own. The package list is kept beside the tarball.
  # shellcheck disable=SC2086
  if ! mmdebstrap --quiet --variant=apt --include="$(echo $pkgs | tr ' ' ',')" \
      --essential-hook='mkdir -p "$1/etc/postgresql-common" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.conf"' \
      --customize-hook='chroot "$1" dpkg-query -W -f "\${Package} \${Version}\n" >"$1/.pg_vip_packages"' \
      --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
      --dpkgopt='force-confold' \
      --aptopt='Acquire::Check-Valid-Until "false"' \
      "$suite" "$tmp" "deb $url $suite main" >&2; then
    rm -f "$tmp"
    echo "pg_chroot: mmdebstrap failed for $suite" >&2
    return 1
  fi
  tar --zstd -xOf "$tmp" ./.pg_vip_packages >"${out%.tar.zst}.packages" 2>/dev/null || true
  mv "$tmp" "$out"
  echo "pg_chroot: made $out in $((SECONDS - start)) s" >&2
  echo "$out"
}

run() {
  local v=$1 src=$2 tb
  shift 2
  tb=$(tarball "$v")
  root=$(mktemp -d /tmp/pg_vip_chroot.XXXXXX)
  # Whatever happens, the unpacked chroot goes (the mounts went with their
  # namespace already).
  trap 'rm -rf --one-file-system "${root:?}"' EXIT
  tar --zstd -xpf "$tb" -C "$root"
  mkdir -p "$root/src"
  if git -C "$src" rev-parse -q --verify HEAD >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$root/src" -xf -
  else
    tar -C "$src" --exclude=.git --exclude=./build --exclude='*.o' --exclude='*.so' --exclude='*.d' --exclude='*.bc' \
      --exclude='./tmp_check*' --exclude=./results -cf - . | tar -C "$root/src" -xf -
  fi
  # shellcheck disable=SC2016
  unshare --mount --propagation private --net --pid --fork --kill-child bash -c '
    set -e
    root=$1
    shift
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    ip link set lo up
    exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 "$@"
  ' pg_chroot "$root" "$@"
}

case ${1:-} in
  tarball) tarball "$2" ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 tarball N | run N DIR CMD..." >&2; exit 2 ;;
esac
