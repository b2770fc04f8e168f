# The Debian package step of the tests, on this machine's PostgreSQL
# (scripts/test.sh) and in each other version's chroot
# (scripts/pg_version_tests.sh). Sourced after common.sh, by a script that
# defines count() and MAKE_ARGS.
#
# The package (debian/: pg_buildext, dh --with pgxs_loop) is built by
# dpkg-buildpackage in a copy of the sources, for the PostgreSQL version
# installed here: `pg_buildext updatecontrol` first writes debian/control's
# postgresql-N-pg-vip from debian/control.in, with PG_SUPPORTED_VERSIONS=installed
# so that the version built is the one whose server-dev is installed, never a
# release's default that is not. The package is installed with dpkg, checked
# to own what the server loads, and pg_regress is run against what it
# installed. dpkg needs root: without it the step is skipped and counted so.
# The package replaces, while it is installed, the files `make install` put
# there before; they are put back after it.

# Builds the package in a copy of the sources; sets deb_pkg, deb_dir,
# deb_file. Further arguments are set in make's environment (WERROR=1: a
# warning in our code fails the build). Counts one test: built or not.
deb_build() {
  deb_pkg="postgresql-$PG_MAJOR-pg-vip"
  deb_dir=$(mktemp -d /tmp/pg_vip_deb.XXXXXX)
  mkdir "$deb_dir/src"
  # The sources alone: what git tracks (and new files it does not ignore),
  # never this tree's build products.
  if git -C "$TOP" rev-parse -q --verify HEAD >/dev/null 2>&1; then
    (cd "$TOP" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$deb_dir/src" -xf -
  else
    tar -C "$TOP" --exclude=.git --exclude=./build --exclude='*.o' --exclude='*.so' --exclude='*.d' --exclude='*.bc' \
      --exclude='./tmp_check*' --exclude=./results -cf - . | tar -C "$deb_dir/src" -xf -
  fi
  local deb_version
  deb_version=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
  deb_file="$deb_dir/${deb_pkg}_${deb_version}_$(dpkg --print-architecture).deb"
  if (cd "$deb_dir/src" && export PG_SUPPORTED_VERSIONS=installed "$@" && pg_buildext updatecontrol &&
    DEB_BUILD_OPTIONS="parallel=2" dpkg-buildpackage -us -uc -b) >"$deb_dir/build.log" 2>&1 &&
    [ -f "$deb_file" ]; then
    echo "built $(basename "$deb_file")"
    count 1 0
  else
    grep -E 'error|Error' "$deb_dir/build.log" | head -40
    tail -n 20 "$deb_dir/build.log"
    echo "dpkg-buildpackage did not build $(basename "$deb_file") (its log: $deb_dir/build.log)"
    count 0 1
    return 1
  fi
}

# Installs the package built by deb_build and checks that it ships what the
# server loads. Counts one test per step.
deb_install_and_check() {
  if ! dpkg -i "$deb_file" >"$deb_dir/install.log" 2>&1; then
    cat "$deb_dir/install.log"
    echo "dpkg -i failed"
    count 0 1
    dpkg -r "$deb_pkg" >/dev/null 2>&1
    return 1
  fi
  # The package ships the library, the control file, the script of this
  # version, the released one's and every upgrade script; the files in
  # place are the package's own (dpkg -S, dpkg --verify): what the server
  # loads is what the package installed.
  local ext_version pkglibdir extdir want f missing=0 deb_version
  deb_version=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
  ext_version=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$TOP/pg_vip.control")
  pkglibdir=$("$PG_CONFIG" --pkglibdir)
  extdir="$("$PG_CONFIG" --sharedir)/extension"
  want=("$pkglibdir/pg_vip.so" "$extdir/pg_vip.control" "$extdir/pg_vip--$ext_version.sql" "$extdir/pg_vip--0.1.0.sql")
  for f in "$TOP"/pg_vip--*--*.sql; do want+=("$extdir/$(basename "$f")"); done
  for f in "${want[@]}"; do
    if ! dpkg -L "$deb_pkg" | grep -qxF "$f"; then echo "the package does not ship $f"; missing=1; fi
  done
  [ "$(dpkg -S "$pkglibdir/pg_vip.so" 2>/dev/null | cut -d: -f1)" = "$deb_pkg" ] ||
    { echo "$pkglibdir/pg_vip.so does not belong to $deb_pkg"; missing=1; }
  dpkg --verify "$deb_pkg" || { echo "files of $deb_pkg differ from the package"; missing=1; }
  [ "${deb_version%-*}" = "$ext_version" ] ||
    { echo "debian/changelog's version $deb_version is not pg_vip.control's $ext_version"; missing=1; }
  if [ "$missing" -eq 0 ]; then
    echo "$deb_pkg $deb_version ships ${#want[@]} files of pg_vip, and owns those the server loads"
    count 1 0
  else
    count 0 1
  fi
}

# On a machine whose tree was built and installed with make (scripts/test.sh):
# the package built, installed, checked, pg_regress against it, removed,
# and make install's files put back.
test_debian_package() {
  log "the Debian package for PostgreSQL $PG_MAJOR: dpkg-buildpackage -b, dpkg -i, pg_regress against it"
  if [ "$(id -u)" -ne 0 ]; then
    echo "not root: skipped (dpkg -i needs root)"
    count 0 0 1
    return
  fi
  if dpkg -s "postgresql-$PG_MAJOR-pg-vip" >/dev/null 2>&1; then
    # `make install` above already wrote over that package's files (dpkg
    # --verify now reports them): say so rather than leave it unsaid.
    echo "postgresql-$PG_MAJOR-pg-vip is installed on this machine already: this step is skipped" \
      "(dpkg -r postgresql-$PG_MAJOR-pg-vip to run it);"
    echo "note that the build step's make install has replaced its files with this tree's"
    count 0 0 1
    return
  fi
  local deb_ok=0 deb_work
  if deb_build && deb_install_and_check; then
    deb_ok=1
    deb_work=$(make_work_tree)
    run_regress "$deb_work"
    rm -rf "$deb_work"
    dpkg -r "$deb_pkg" >/dev/null 2>&1 || { echo "dpkg -r $deb_pkg failed"; count 0 1; }
  fi
  # Back to what `make install` put in place before this step.
  make -C "$TOP" "${MAKE_ARGS[@]}" install >/dev/null || { echo "make install after the package step failed"; count 0 1; }
  if [ "$deb_ok" -eq 1 ]; then rm -rf "$deb_dir"; else echo "the package's logs are in $deb_dir"; fi
}
