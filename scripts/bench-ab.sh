#!/bin/sh
# Two or more builds of solocrm on one command, alternating, ROUNDS rounds: one run of
# each binary in turn, so that a machine's slower minutes fall on both. Prints one line
# per run: book, binary, CPU seconds (user + system), wall seconds, peak RSS in kB.
# Each binary's output of its last run is kept in $SCRATCH/ab.out.NAME for `cmp`.
#
#   SCRATCH=/work/scale sh scripts/bench-ab.sh ROUNDS BOOK "COMMAND ARGS" BINARY...
#
# e.g. SCRATCH=/work/scale sh scripts/bench-ab.sh 5 /work/scale/scale-1000000.db \
#          "report --json" /work/scale/solocrm-old /work/scale/solocrm-new
set -eu
rounds=$1
book=$2
cmd=$3
shift 3
SCRATCH=${SCRATCH:-/tmp/solocrm-scale}
export NO_COLOR=1
mkdir -p "$SCRATCH"
r=1
while [ "$r" -le "$rounds" ]; do
    for bin in "$@"; do
        name=$(basename "$bin")
        # shellcheck disable=SC2086
        /usr/bin/time -f "%e %U %S %M" -o "$SCRATCH/ab.time.$$" "$bin" --db "$book" $cmd \
            > "$SCRATCH/ab.out.$name"
        read -r wall user sys rss < "$SCRATCH/ab.time.$$"
        cpu=$(echo "$user $sys" | awk '{ printf "%.2f", $1 + $2 }')
        printf '%s\t%s\tcpu %s\twall %s\trss %s\n' "$(basename "$book")" "$name" "$cpu" "$wall" "$rss"
    done
    r=$((r + 1))
done
rm -f "$SCRATCH/ab.time.$$"
