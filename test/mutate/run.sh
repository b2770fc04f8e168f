#!/usr/bin/env bash
# Mutation testing of the simulation (test/sim): does it catch the bugs it
# is there to catch? Each mutation in test/mutate/mutations.txt (its format
# is described at the top of that file) changes one exact snippet of one
# file under src/core. For each, this script copies src/ and test/sim to a
# temporary directory outside the tree, applies the mutation there, builds
# the simulation against the copy and runs its scripted scenarios (a failed
# one catches the mutation) and then MUTATE_SEEDS random seeds. The
# checked-in sources are never touched.
#
#   make mutate                     every mutation, MUTATE_SEEDS (300) seeds each
#   make mutate-ci                  the mutations marked `ci`, MUTATE_CI_SEEDS (100) seeds
#   make mutate MUTATIONS="a b"     only the mutations named a and b
#   make mutate MUTATE_SEEDS=1000 STEPS=3000 MUTATE_JOBS=2
#   (PG_CONFIG=... as for every target: the Makefile includes PGXS.)
#
# Environment (the make targets set the first five; run it through make):
#   MUTATE_CXX, MUTATE_CXXFLAGS, MUTATE_LIBS  the simulation's compiler, flags
#                                 and libraries, as the Makefile builds it
#   MUTATE_OBJ     the unmutated objects (build/sim/obj, by make sim-objects):
#                  a mutation of a .cpp recompiles that file alone and links
#                  it with the others; one of a header recompiles every file
#   MUTATE_STEPS   steps per seed (3000, as make simulate)
#   MUTATE_SEEDS   seeds per mutation (300)
#   MUTATE_JOBS    mutations built and run at once (2: one per core)
#   MUTATE_TIMEOUT seconds one simulation run may take (default: 20 times the
#                  unmutated run, at least 60); a run that takes longer hangs,
#                  and counts as caught ("timeout")
#   MUTATE_LIST    the list (test/mutate/mutations.txt)
#   MUTATE_KEEP=1  keep the temporary directory (each mutation's copy, build
#                  log and simulation output) and say where it is
#
# A mutation may name the kinds of target its seeds configure (`kinds:` in
# the list, the simulation's --kinds): a mutation of the Route 53 code means
# nothing on route tables alone. Without it the simulation's default.
#
# First the unmutated simulation is built from the same objects and run over
# the same seeds, once for each --kinds the chosen mutations name: if it
# reports a violation, no result would mean anything, and the script stops
# (exit 2). Then one line per mutation, in the list's
# order:
#   caught      NAME  S3, seed 17 (12 of 300 seeds): <the violation, cut short>
#   MISSED      NAME  no violation in 300 seeds
#   equivalent  NAME  <the reason the list gives>  (checked to apply; not run)
#   BROKEN      NAME  <why: its snippet is missing or not unique in FILE, it
#                     changes nothing, or the mutated copy does not build>
# A mutation caught by a timeout or a crash of the simulation says so. The
# last line is `mutations: N caught of M`, M without the equivalent ones
# (named on that line). The exit status is 0 when every mutation run was
# caught, 1 when any was MISSED or BROKEN, 2 when the list cannot be read or
# the unmutated simulation fails.
#
# A BROKEN mutation is an error of the list, never a catch: when the code
# changes, the list must follow it (fix the snippet, or drop the mutation).
set -uo pipefail
# A replacement is inserted as written: & in it is no reference to the match.
shopt -u patsub_replacement 2>/dev/null || true

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIST=${MUTATE_LIST:-$TOP/test/mutate/mutations.txt}
SEEDS=${MUTATE_SEEDS:-300}
STEPS=${MUTATE_STEPS:-3000}
JOBS=${MUTATE_JOBS:-2}

usage() {
  echo "usage: run.sh [--ci] [NAME...] (through make: make mutate, make mutate-ci, MUTATIONS=\"NAME...\")" >&2
  exit 2
}
ci_only=0
wanted=()
for a in "$@"; do
  case $a in
    --ci) ci_only=1 ;;
    -*) usage ;;
    *) wanted+=("$a") ;;
  esac
done
for v in MUTATE_CXX MUTATE_CXXFLAGS MUTATE_LIBS MUTATE_OBJ; do
  if [ -z "${!v:-}" ]; then
    echo "mutate: $v is not set; run this through make (make mutate, make mutate-ci)" >&2
    exit 2
  fi
done
CXX=$MUTATE_CXX
# A mutation may leave a variable unused: a warning, never an error here.
read -r -a CXXFLAGS <<<"${MUTATE_CXXFLAGS//-Werror/}"
read -r -a LIBS <<<"$MUTATE_LIBS"
OBJ=$TOP/$MUTATE_OBJ

# ---- The list -------------------------------------------------------------
names=() files=() cis=() equivs=() origs=() repls=() lines=() kinds=()
list_error() {
  echo "mutate: $LIST:$1: $2" >&2
  exit 2
}
close_block() {
  local i=$((${#names[@]} - 1))
  [ "$i" -ge 0 ] || return 0
  [ -n "${files[$i]}" ] || list_error "${lines[$i]}" "mutation ${names[$i]} names no file (file: src/core/...)"
  [ -n "${have_orig:-}" ] || list_error "${lines[$i]}" "mutation ${names[$i]} has no original snippet (lines '- ...')"
  [ -n "${origs[$i]}" ] || list_error "${lines[$i]}" "mutation ${names[$i]}: its original snippet is empty"
}
n=0
have_orig=
while IFS= read -r line || [ -n "$line" ]; do
  n=$((n + 1))
  i=$((${#names[@]} - 1))
  case $line in
    'mutation '*)
      close_block
      read -r -a words <<<"${line#mutation }"
      [ "${#words[@]}" -ge 1 ] || list_error "$n" "a mutation without a name"
      name=${words[0]}
      [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || list_error "$n" "mutation name '$name': letters, digits, . _ - only"
      for k in "${names[@]}"; do [ "$k" != "$name" ] || list_error "$n" "mutation $name is named twice"; done
      ci=0
      for w in "${words[@]:1}"; do
        [ "$w" = ci ] || list_error "$n" "mutation $name: unknown mark '$w' (the only mark is ci)"
        ci=1
      done
      names+=("$name") files+=("") cis+=("$ci") equivs+=("") origs+=("") repls+=("") lines+=("$n") kinds+=("")
      have_orig=
      ;;
    'file: '* | 'equivalent: '* | 'kinds: '* | '- '* | '-' | '+ '* | '+')
      [ "$i" -ge 0 ] || list_error "$n" "'$line' before any 'mutation NAME' line"
      case $line in
        'file: '*) files[i]=${line#file: } ;;
        'equivalent: '*) equivs[i]=${line#equivalent: } ;;
        'kinds: '*)
          kinds[i]=${line#kinds: }
          [[ ${kinds[$i]} =~ ^(route|mixed|eip|dns|any)$ ]] ||
            list_error "$n" "mutation ${names[$i]}: kinds '${kinds[$i]}': one of route, mixed, eip, dns, any (the simulation's --kinds)"
          ;;
        -*)
          [ -z "${repls[$i]}" ] || list_error "$n" "mutation ${names[$i]}: an original line after the replacement"
          text=${line#-}
          text=${text# }
          if [ -n "$have_orig" ]; then origs[i]+=$'\n'"$text"; else origs[i]=$text; fi
          have_orig=1
          ;;
        +*)
          text=${line#+}
          text=${text# }
          # A marker keeps an empty first line apart from no replacement.
          if [ -n "${repls[$i]}" ]; then repls[i]+=$'\n'"$text"; else repls[i]="R$text"; fi
          ;;
      esac
      ;;
    '' | '#'*) ;;
    *) list_error "$n" "cannot read this line (see the format at the top of the file): $line" ;;
  esac
done <"$LIST"
close_block
[ "${#names[@]}" -gt 0 ] || list_error "$n" "no mutations"
for k in "${wanted[@]}"; do
  found=0
  for m in "${names[@]}"; do [ "$m" != "$k" ] || found=1; done
  [ "$found" -eq 1 ] || { echo "mutate: no mutation named $k in $LIST" >&2; exit 2; }
done

selected=()
for i in "${!names[@]}"; do
  if [ "${#wanted[@]}" -gt 0 ]; then
    for k in "${wanted[@]}"; do [ "$k" != "${names[$i]}" ] || selected+=("$i"); done
  elif [ "$ci_only" -eq 0 ] || [ "${cis[$i]}" -eq 1 ]; then
    selected+=("$i")
  fi
done

# ---- Work ------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pg_vip_mutate.XXXXXX")
if [ "${MUTATE_KEEP:-0}" = 1 ]; then
  trap 'echo "mutate: kept $tmp"' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi
started=$SECONDS

core_srcs=() sim_srcs=()
for f in "$TOP"/src/core/*.cpp; do core_srcs+=("src/core/${f##*/}"); done
for f in "$TOP"/test/sim/*.cpp; do sim_srcs+=("test/sim/${f##*/}"); done
all_srcs=("${core_srcs[@]}" "${sim_srcs[@]}")
for s in "${all_srcs[@]}"; do
  [ -f "$OBJ/${s%.cpp}.o" ] || { echo "mutate: $OBJ/${s%.cpp}.o is missing (make sim-objects)" >&2; exit 2; }
done

# link OUT [SRC=OBJ...]: the simulation from the unmutated objects, those
# named replaced.
link() {
  local out=$1 objs=() s o
  shift
  for s in "${all_srcs[@]}"; do
    o=$OBJ/${s%.cpp}.o
    for r in "$@"; do [ "${r%%=*}" != "$s" ] || o=${r#*=}; done
    objs+=("$o")
  done
  "$CXX" "${CXXFLAGS[@]}" -o "$out" "${objs[@]}" "${LIBS[@]}"
}

# simulate BIN DIR TIMEOUT [KINDS]: runs its scripted scenarios (each a
# situation the random seeds reach seldom), then, when they all pass, the
# seeds (with --kinds KINDS when given); leaves the output in DIR/scen.out
# and DIR/sim.out, the exit statuses in DIR/scen.rc and DIR/sim.rc.
simulate() {
  local kind_args=()
  [ -z "${4:-}" ] || kind_args=(--kinds "$4")
  timeout "$3" "$1" --scenario all >"$2/scen.out" 2>&1
  echo $? >"$2/scen.rc"
  if [ "$(cat "$2/scen.rc")" != 0 ]; then
    : >"$2/sim.out"
    echo 0 >"$2/sim.rc"
    return
  fi
  timeout "$3" "$1" --seeds "$SEEDS" --steps "$STEPS" "${kind_args[@]}" >"$2/sim.out" 2>&1
  echo $? >"$2/sim.rc"
}

# The first scripted scenario that failed, from DIR/scen.out: "NAME: why".
failed_scenario() {
  awk '/^scenario /{name=$2; sub(/:$/, "", name)} /^  (expectation NOT met|violation)/{if (!why) why=$0}
       /^  result: FAIL/{print name ":" (why ? why : " failed"); exit} /^  result: pass/{why=""}' "$1/scen.out"
}

mkdir -p "$tmp/base"
if ! link "$tmp/base/pg_vip_sim" 2>"$tmp/base/build.log"; then
  cat "$tmp/base/build.log"
  echo "mutate: the unmutated simulation does not link" >&2
  exit 2
fi
# Each --kinds the chosen mutations run with ("" the default), once; the
# slowest sets the timeout.
base_kinds=()
for i in "${selected[@]}"; do
  [ -z "${equivs[$i]}" ] || continue
  seen=0
  for k in "${base_kinds[@]}"; do [ "$k" != "${kinds[$i]}" ] || seen=1; done
  [ "$seen" -eq 1 ] || base_kinds+=("${kinds[$i]}")
done
base_seconds=0
for k in "${base_kinds[@]}"; do
  echo "mutate: the unmutated simulation, $SEEDS seeds of $STEPS steps${k:+, --kinds $k}"
  d=$tmp/base/${k:-default}
  mkdir -p "$d"
  t0=$SECONDS
  simulate "$tmp/base/pg_vip_sim" "$d" 3600 "$k"
  [ $((SECONDS - t0)) -le "$base_seconds" ] || base_seconds=$((SECONDS - t0))
  if [ "$(cat "$d/scen.rc")" != 0 ]; then
    grep -E '^(scenario |  result)' "$d/scen.out"
    echo "mutate: the unmutated simulation fails a scenario: no mutation's result would mean anything" >&2
    exit 2
  fi
  if [ "$(cat "$d/sim.rc")" != 0 ]; then
    grep -m3 -E '^violation of ' "$d/sim.out"
    tail -n 1 "$d/sim.out"
    echo "mutate: the unmutated simulation${k:+ (--kinds $k)} fails: no mutation's result would mean anything" >&2
    exit 2
  fi
  echo "mutate: $(tail -n 1 "$d/sim.out") ($((SECONDS - t0)) s)"
done
TIMEOUT=${MUTATE_TIMEOUT:-$((base_seconds * 20 > 60 ? base_seconds * 20 : 60))}
echo "mutate: each mutation may run ${TIMEOUT} s"

# check I: the mutated text of its file on stdout, or why not on stderr.
mutated_text() {
  local i=$1 path=$TOP/${files[$1]} content rest count
  case ${files[$i]} in
    src/core/*) ;;
    *) echo "its file ${files[$i]} is not under src/core" >&2; return 1 ;;
  esac
  [ -f "$path" ] || { echo "its file ${files[$i]} does not exist" >&2; return 1; }
  content=$(cat "$path"; printf x)
  content=${content%x}
  local orig=${origs[$i]} repl=${repls[$i]#R}
  rest=${content//"$orig"/}
  count=$(((${#content} - ${#rest}) / ${#orig}))
  if [ "$count" -ne 1 ]; then
    echo "its original snippet occurs $count times in ${files[$i]} (it must occur exactly once; the list must follow the code): $(printf '%s' "$orig" | head -n 1)" >&2
    return 1
  fi
  [ "$orig" != "$repl" ] || { echo "its replacement is its original" >&2; return 1; }
  printf '%s' "${content/"$orig"/"$repl"}"
}

# run_one I: builds and runs mutation I; its result line goes to $tmp/I.line.
run_one() {
  local i=$1 d=$tmp/m$i name=${names[$1]} file=${files[$1]} rc out
  mkdir -p "$d/copy/test"
  cp -r "$TOP/src" "$d/copy/src" && cp -r "$TOP/test/sim" "$d/copy/test/sim"
  if ! mutated_text "$i" >"$d/copy/$file" 2>"$d/why"; then
    printf '%-11s %-34s %s\n' BROKEN "$name" "$(cat "$d/why")" >"$tmp/$i.line"
    return
  fi
  # The files to compile again: the mutated one, or all of them for a header.
  local srcs=() repl=() s
  if [[ $file == *.cpp ]]; then srcs=("$file"); else srcs=("${all_srcs[@]}"); fi
  for s in "${srcs[@]}"; do
    mkdir -p "$d/obj/$(dirname "$s")"
    if ! (cd "$d/copy" && "$CXX" "${CXXFLAGS[@]}" -c -o "$d/obj/${s%.cpp}.o" "$s") >>"$d/build.log" 2>&1; then
      printf '%-11s %-34s %s\n' BROKEN "$name" \
        "does not build: $(grep -m1 -E 'error' "$d/build.log" | sed "s|$d/copy/||")" >"$tmp/$i.line"
      return
    fi
    repl+=("$s=$d/obj/${s%.cpp}.o")
  done
  if ! link "$d/pg_vip_sim" "${repl[@]}" >>"$d/build.log" 2>&1; then
    printf '%-11s %-34s %s\n' BROKEN "$name" "does not link: $(grep -m1 -E 'error' "$d/build.log")" >"$tmp/$i.line"
    return
  fi
  simulate "$d/pg_vip_sim" "$d" "$TIMEOUT" "${kinds[$i]}"
  rc=$(cat "$d/sim.rc")
  local first summary scen
  first=$(grep -m1 -E '^violation of ' "$d/sim.out")
  summary=$(grep -E '^simulation: ' "$d/sim.out" | tail -n 1)
  scen=$(failed_scenario "$d")
  if [ -n "$scen" ]; then
    printf '%-11s %-34s scenario %.110s\n' caught "$name" "$(tr -s ' ' <<<"$scen")" >"$tmp/$i.line"
  elif [ "$(cat "$d/scen.rc")" = 124 ]; then
    printf '%-11s %-34s %s\n' caught "$name" "timeout: the scenarios ran past $TIMEOUT s (they hang)" >"$tmp/$i.line"
  elif [ "$(cat "$d/scen.rc")" != 0 ]; then
    printf '%-11s %-34s %s\n' caught "$name" "crash: the scenarios exited with status $(cat "$d/scen.rc")" >"$tmp/$i.line"
  elif [ -n "$first" ]; then
    local inv seed what k
    inv=$(sed -E 's/^violation of ([^ ]+) with seed ([0-9]+): .*/\1/' <<<"$first")
    seed=$(sed -E 's/^violation of ([^ ]+) with seed ([0-9]+): .*/\2/' <<<"$first")
    what=$(sed -E 's/^violation of [^:]*: //' <<<"$first")
    k=$(sed -nE 's/.* ([0-9]+) violations$/\1/p' <<<"$summary")
    printf '%-11s %-34s %s, seed %s (%s of %s seeds): %.90s\n' caught "$name" "$inv" "$seed" "${k:-?}" "$SEEDS" \
      "$what" >"$tmp/$i.line"
  elif [ "$rc" = 124 ]; then
    printf '%-11s %-34s %s\n' caught "$name" "timeout: the simulation ran past $TIMEOUT s (it hangs)" >"$tmp/$i.line"
  elif [ "$rc" != 0 ]; then
    printf '%-11s %-34s %s\n' caught "$name" "crash: the simulation exited with status $rc: $(tail -n 1 "$d/sim.out")" \
      >"$tmp/$i.line"
  else
    printf '%-11s %-34s %s\n' MISSED "$name" "no violation in $SEEDS seeds" >"$tmp/$i.line"
  fi
  [ "${MUTATE_KEEP:-0}" = 1 ] || rm -rf "$d/copy" "$d/obj" "$d/pg_vip_sim"
}

# Equivalent mutations are not run, but must still apply to today's code.
for i in "${selected[@]}"; do
  [ -n "${equivs[$i]}" ] || continue
  mkdir -p "$tmp/e$i"
  if mutated_text "$i" >/dev/null 2>"$tmp/e$i/why"; then
    printf '%-11s %-34s %s\n' equivalent "${names[$i]}" "${equivs[$i]}" >"$tmp/$i.line"
  else
    printf '%-11s %-34s %s\n' BROKEN "${names[$i]}" "$(cat "$tmp/e$i/why")" >"$tmp/$i.line"
  fi
done

# MUTATE_JOBS at once; the lines come out in the list's order.
printed=0
print_ready() {
  while [ "$printed" -lt "${#selected[@]}" ] && [ -f "$tmp/${selected[$printed]}.line" ]; do
    cat "$tmp/${selected[$printed]}.line"
    printed=$((printed + 1))
  done
}
running=0
for i in "${selected[@]}"; do
  [ -z "${equivs[$i]}" ] || continue
  if [ "$running" -ge "$JOBS" ]; then
    wait -n
    running=$((running - 1))
    print_ready
  fi
  run_one "$i" &
  running=$((running + 1))
done
wait
print_ready

caught=0 total=0 bad=0 equivalent=()
for i in "${selected[@]}"; do
  case $(cut -d' ' -f1 "$tmp/$i.line") in
    caught) caught=$((caught + 1)) total=$((total + 1)) ;;
    equivalent) equivalent+=("${names[$i]}") ;;
    *) total=$((total + 1)) bad=$((bad + 1)) ;;
  esac
done
echo "mutate: $((SECONDS - started)) s, $SEEDS seeds of $STEPS steps per mutation, $JOBS at once"
eq=
[ "${#equivalent[@]}" -eq 0 ] || eq=" (equivalent, not counted: ${equivalent[*]})"
echo "mutations: $caught caught of $total$eq"
[ "$bad" -eq 0 ]
