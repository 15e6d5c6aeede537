#!/bin/sh
# Peak memory of `export purchases` (CSV and JSON) on books of different sizes
# (issue 14: the export streams, so its memory must stay flat as the book grows).
# One line per book, binary and format:
#   binary  book  purchases  format  wall_s  user_s  sys_s  max_rss_kb
# The books are demos, e.g. `solocrm --db small.db demo --customers 10000 --end
# 2025-12-31` (about 100 k purchases) and `--customers 100000` (about 1 M).
#   scripts/bench-export-rss.sh "BOOK..." BIN...
set -eu
BOOKS=$1
shift
export NO_COLOR=1
for book in $BOOKS; do
    n=$(sqlite3 "$book" 'SELECT count(*) FROM purchases WHERE void_at IS NULL')
    for format in csv json; do
        for bin in "$@"; do
            /usr/bin/time -f "%e %U %S %M" -o /tmp/bench-export.$$ \
                "$bin" --db "$book" export purchases --format "$format" > /dev/null
            printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$bin")" "$(basename "$book")" "$n" \
                "$format" "$(cat /tmp/bench-export.$$)"
        done
    done
done
rm -f /tmp/bench-export.$$
