#!/bin/sh
# Whole-command timings of the analytic views and the purchase export (issue 14):
# wall time, CPU (user + system) and peak RSS of each command, alternating the
# binaries given, ROUNDS rounds (default 3). Output: one line per run,
#   binary  command  wall_s  user_s  sys_s  max_rss_kb
# The book must exist (e.g. `solocrm --db big.db demo --customers 100000 --end
# 2025-12-31`) and hold the segments `lapsed` and `vip-spend`:
#   solocrm --db big.db segment add lapsed 'days_since_purchase > 90 and purchase_count >= 2'
#   solocrm --db big.db segment add vip-spend 'tag = "vip" and total_spend >= 1000'
# Each output goes to /dev/null; run it once more with `| sha256sum` to compare
# outputs between binaries (the views_snapshot test does that on a fixed book).
#   scripts/bench-views.sh BOOK BIN...
set -eu
BOOK=$1
shift
ROUNDS=${ROUNDS:-3}
export NO_COLOR=1
run() {
    bin=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o /tmp/bench-views.$$ "$bin" --db "$BOOK" "$@" > /dev/null
    printf '%s\t%s\t%s\n' "$(basename "$bin")" "$*" "$(cat /tmp/bench-views.$$)"
}
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for cmd in \
        "care" \
        "care --as-of 2025-12-31" \
        "churn-risk" \
        "churn-risk --as-of 2025-12-31" \
        "stage reassess" \
        "segment show lapsed" \
        "segment show vip-spend" \
        "customer list --segment lapsed --limit 50" \
        "customer list --segment vip-spend --limit 50" \
        "customer list --segment lapsed" \
        "export purchases" \
        "export purchases --format json"; do
        for bin in "$@"; do
            # shellcheck disable=SC2086
            run "$bin" $cmd
        done
    done
    r=$((r + 1))
done
rm -f /tmp/bench-views.$$
