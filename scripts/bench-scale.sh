#!/bin/sh
# How each of issue 14's commands grows with the book: 10 k → 100 k → 1 M customers
# (the demo business, about 10 purchases a customer, surveys, interactions, requests
# and deals in its proportions). For each size it builds a book once
# (`demo --customers N --end 2025-12-31`), adds the segments `lapsed` and `vip-spend`,
# and times each command ROUNDS times (default 1) with /usr/bin/time: wall time, CPU
# (user + system) and peak RSS. The import is timed into a fresh copy of a book that
# holds the same customers and no purchases, from the book's own purchase export (the
# rows of customers an email or a reference names).
#
#   SCRATCH=/big/disk/dir scripts/bench-scale.sh BIN [SIZE...]     # default sizes 10000 100000 1000000
#
# Output: one tab-separated line per run on standard output,
#   customers  command  wall_s  cpu_s  max_rss_kb
# followed by a table of the growth factors: each command's CPU time at a size over
# its CPU time at the size before, divided by the growth of the book (1.00 = linear).
# The 1 M book takes about 4 GB of disk and 8 GB of memory to build; the whole run at
# the three sizes takes 15–25 minutes on a 2-core machine.
set -eu
BIN=$1
shift
[ "$#" -gt 0 ] || set -- 10000 100000 1000000
SCRATCH=${SCRATCH:-/tmp/solocrm-scale}
ROUNDS=${ROUNDS:-1}
export NO_COLOR=1
mkdir -p "$SCRATCH"
OUT="$SCRATCH/runs.tsv"
: > "$OUT"

# time_cmd SIZE LABEL CMD... : run CMD with its output thrown away, append a line.
time_cmd() {
    size=$1
    label=$2
    shift 2
    /usr/bin/time -f "%e %U %S %M" -o "$SCRATCH/time.$$" "$@" > /dev/null
    read -r wall user sys rss < "$SCRATCH/time.$$"
    cpu=$(echo "$user $sys" | awk '{ printf "%.2f", $1 + $2 }')
    printf '%s\t%s\t%s\t%s\t%s\n' "$size" "$label" "$wall" "$cpu" "$rss" | tee -a "$OUT"
}

for n in "$@"; do
    book="$SCRATCH/scale-$n.db"
    if [ ! -f "$book" ]; then
        "$BIN" --db "$book" demo --customers "$n" --end 2025-12-31 > /dev/null
        "$BIN" --db "$book" segment add lapsed 'days_since_purchase > 90 and purchase_count >= 2' > /dev/null
        "$BIN" --db "$book" segment add vip-spend 'tag = "vip" and total_spend >= 1000' > /dev/null
        "$BIN" --db "$book" export customers --out "$SCRATCH/customers-$n.csv"
        # Purchases of customers with neither email nor reference are exported as
        # `#ID`, which names a customer of this book only: the import leaves them out
        # (about a fifth of the rows), so the line count of the file is the rows timed.
        # (The demo's cells hold no line breaks, so a line is a row.)
        "$BIN" --db "$book" export purchases --out "$SCRATCH/all-purchases-$n.csv"
        awk -F, 'NR == 1 || $1 !~ /^#/' "$SCRATCH/all-purchases-$n.csv" > "$SCRATCH/purchases-$n.csv"
        rm -f "$SCRATCH/all-purchases-$n.csv"
        rm -f "$SCRATCH/template-$n.db"
        "$BIN" --db "$SCRATCH/template-$n.db" init > /dev/null
        "$BIN" --db "$SCRATCH/template-$n.db" import customers "$SCRATCH/customers-$n.csv" > /dev/null
    fi
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        for cmd in \
            "rfm --json" \
            "cohort" \
            "report --json" \
            "report" \
            "care" \
            "churn-risk" \
            "stage reassess" \
            "segment show lapsed" \
            "segment show vip-spend" \
            "clv --calibration-end 2025-12-31 --json" \
            "export purchases"; do
            # shellcheck disable=SC2086
            time_cmd "$n" "$cmd" "$BIN" --db "$book" $cmd
        done
        rm -f "$SCRATCH/run.db"*
        cp "$SCRATCH/template-$n.db" "$SCRATCH/run.db"
        time_cmd "$n" "import purchases" "$BIN" --db "$SCRATCH/run.db" import purchases "$SCRATCH/purchases-$n.csv"
        rm -f "$SCRATCH/run.db"*
        r=$((r + 1))
    done
done
rm -f "$SCRATCH/time.$$"

# The growth table: the median CPU of each (size, command), then each size against
# the one before it, divided by how much the book grew.
echo
awk -F '\t' '
    { key = $1 SUBSEP $2; n[key]++; v[key, n[key]] = $4; if (!($1 in seen)) { seen[$1] = 1; sizes[++ns] = $1 }
      if (!($2 in cseen)) { cseen[$2] = 1; cmds[++nc] = $2 } }
    function median(key,   i, j, t, m, a) {
        m = n[key]; for (i = 1; i <= m; i++) a[i] = v[key, i]
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END {
        printf "command"; for (s = 1; s <= ns; s++) printf "\t%s cpu_s", sizes[s]
        for (s = 2; s <= ns; s++) printf "\tgrowth %s→%s", sizes[s - 1], sizes[s]
        printf "\n"
        for (c = 1; c <= nc; c++) {
            printf "%s", cmds[c]
            for (s = 1; s <= ns; s++) printf "\t%.2f", median(sizes[s] SUBSEP cmds[c])
            for (s = 2; s <= ns; s++) {
                a = median(sizes[s - 1] SUBSEP cmds[c]); b = median(sizes[s] SUBSEP cmds[c])
                if (a > 0) printf "\t%.2f", (b / a) / (sizes[s] / sizes[s - 1]); else printf "\t-"
            }
            printf "\n"
        }
    }' "$OUT"
