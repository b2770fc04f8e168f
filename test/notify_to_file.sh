#!/bin/sh
# A notification command for the tests: appends its arguments, separated by
# "|", to the file named first.
file=$1
shift
out=$1
shift
for arg in "$@"; do out="$out|$arg"; done
printf '%s\n' "$out" >> "$file"
