#!/usr/bin/env bash
# The PostgreSQL benchmarks of issue 17, in one run (results: docs/performance.md,
# "PostgreSQL store"):
#
#   1. `solocrm import purchases` of the demo's purchases (1 M rows for 100 000
#      customers) into a PostgreSQL tenant that has the customers, against
#      `psql \copy` of the same CSV into a bare table (text columns, no index, no key);
#   2. `solocrm report` on a book of those customers and purchases in PostgreSQL
#      (the tenant of the first import) against the same book in an SQLite file.
#
# Each pair runs RUNS times, alternating (a, b, a, b, ...), so that the machine's load
# falls on both alike. Every import goes into a fresh tenant, every \copy into a fresh
# table. Prints each time, then the medians and their ratio.
#
# Usage: scripts/bench-postgres.sh [CUSTOMERS] [RUNS]     (defaults 100000 and 3)
# Environment:
#   PG_URL    a server where the script may create and drop a database
#             (default postgres://root@127.0.0.1:5432/postgres)
#   SOLOCRM   the binary (default: target/release/solocrm, built if missing)
#   WORK      scratch directory (default: a new one under /tmp, removed at the end)
#   KEEP=1    keep the scratch directory and the database
set -euo pipefail

customers=${1:-100000}
runs=${2:-3}
pg_url=${PG_URL:-postgres://root@127.0.0.1:5432/postgres}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
solocrm=${SOLOCRM:-$target/release/solocrm}
if [[ ! -x $solocrm ]]; then
    (cd "$root" && cargo build --release -p solocrm-cli)
fi
work=${WORK:-$(mktemp -d /tmp/solocrm-bench-pg.XXXXXX)}
mkdir -p "$work"
db=solocrm_bench_$$
base=${pg_url%/*}/$db
admin() { psql "$pg_url" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
cleanup() {
    if [[ ${KEEP:-0} != 1 ]]; then
        admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
        rm -rf "$work"
    else
        echo "kept: $work and $base"
    fi
}
trap cleanup EXIT

# Seconds a command takes, its output thrown away; a failure stops the script.
seconds() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null || { echo "failed: $*" >&2; return 1; }
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l | xargs printf '%.2f'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server:  $(psql "$pg_url" -qAtX -c 'SHOW server_version')"
echo "binary:  $solocrm"
echo "data:    solocrm demo --customers $customers --end 2025-12-31, in $work"

sqlite=$work/demo.db
"$solocrm" --quiet --db "$sqlite" demo --customers "$customers" --end 2025-12-31 >/dev/null
"$solocrm" --quiet --db "$sqlite" export purchases --out "$work/purchases.csv"
"$solocrm" --quiet --db "$sqlite" export all --out "$work/archive.json"
rows=$(($(wc -l <"$work/purchases.csv") - 1))
echo "         $rows purchases ($(du -h "$work/purchases.csv" | cut -f1) of CSV)"
# The customers alone, in a file of their own with the demo's book id (so that the
# CSV's `#ID@BOOK` keys of customers without email or reference resolve), copied into
# each import's tenant.
python3 - "$work/archive.json" "$work/customers.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
for k, v in list(a.items()):
    if isinstance(v, list) and k != "customers":
        a[k] = []
a["next_ids"] = {k: (v if k == "customer" else 1) for k, v in a["next_ids"].items()}
json.dump(a, open(sys.argv[2], "w"))
PY
"$solocrm" --quiet --db "$work/customers.db" init --currency EUR --timezone UTC
"$solocrm" --quiet --db "$work/customers.db" import all "$work/customers.json" >/dev/null
rm "$work/archive.json" "$work/customers.json"

admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
admin "CREATE DATABASE $db" >/dev/null
# The schema, by solocrm itself (a tenant of its own).
"$solocrm" --quiet --db "$base?tenant=999" init --currency EUR --timezone UTC
# Tenant 1: the customers of customers.db (book id, tags and consents included),
# loaded with COPY. Not timed. `solocrm migrate` would copy them too, but it writes
# one row per round trip, which on this shared machine (2-14 ms a round trip) takes
# most of an hour for the 100 000 customers; the export below shows the copy reads
# back as the file does.
python3 - "$work/customers.db" "$work/t1" <<'PY'
import sqlite3, sys
src, out = sys.argv[1], sys.argv[2]
db = sqlite3.connect(src)
def text(v):
    if v is None:
        return "\\N"
    v = str(v)
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
def dump(name, rows):
    with open(f"{out}.{name}", "w", encoding="utf-8") as f:
        for r in rows:
            f.write("\t".join(text(v) for v in r) + "\n")
cols = ("id, name, email, email_key, phone, company, birthday, profile, acquisition_channel, "
        "acquisition_cost, external_ref, notes, created_at, created_at_ns, stage, erased_at, erased_at_ns")
dump("tenants", db.execute("SELECT 1, base_currency, book_id, time_zone FROM store_info"))
dump("customers", ((1,) + r for r in db.execute(f"SELECT {cols} FROM customers ORDER BY id")))
dump("customer_tags", ((1,) + r for r in db.execute("SELECT customer_id, tag FROM customer_tags")))
seq = {}
def consents():
    for cid, *rest in db.execute(
            "SELECT customer_id, purpose, granted, at, at_ns, source FROM consents ORDER BY customer_id, id"):
        seq[cid] = seq.get(cid, 0) + 1
        yield (1, cid, seq[cid], *rest[:1], "t" if rest[1] else "f", *rest[2:])
dump("consents", consents())
PY
for table in tenants customers customer_tags consents; do
    psql "$base" -qAtX -v ON_ERROR_STOP=1 -c "\\copy $table FROM '$work/t1.$table'"
    rm "$work/t1.$table"
done
psql "$base" -qAtX -v ON_ERROR_STOP=1 -c "VACUUM ANALYZE" >/dev/null
"$solocrm" --quiet --db "$work/customers.db" export customers --out "$work/c-file.csv"
"$solocrm" --quiet --db "$base?tenant=1" export customers --out "$work/c-pg.csv"
cmp "$work/c-file.csv" "$work/c-pg.csv"
rm "$work/c-file.csv" "$work/c-pg.csv"
echo "         tenant 1: $(psql "$base" -qAtX -c 'SELECT count(*) FROM customers WHERE tenant_id = 1') customers, exported the same as customers.db"
header=$(head -1 "$work/purchases.csv")
columns=$(echo "$header" | tr ',' '\n' | sed 's/.*/"&" text/' | paste -sd, -)

# A new tenant N with tenant 1's customers, copied on the server (not timed).
copy_tenant() {
    psql "$base" -qAtX -v ON_ERROR_STOP=1 <<SQL >/dev/null
INSERT INTO tenants SELECT $1, base_currency, book_id, time_zone FROM tenants WHERE tenant_id = 1;
INSERT INTO customers SELECT $1, id, name, email, email_key, phone, company, birthday, profile,
    acquisition_channel, acquisition_cost, external_ref, notes, created_at, created_at_ns,
    stage, erased_at, erased_at_ns FROM customers WHERE tenant_id = 1;
INSERT INTO customer_tags SELECT $1, customer_id, tag FROM customer_tags WHERE tenant_id = 1;
INSERT INTO consents SELECT $1, customer_id, seq, purpose, granted, at, at_ns, source
    FROM consents WHERE tenant_id = 1;
SQL
    psql "$base" -qAtX -v ON_ERROR_STOP=1 -c "VACUUM ANALYZE" >/dev/null
}

import_times=()
copy_times=()
for run in $(seq "$runs"); do
    tenant=$((run + 1))
    copy_tenant "$tenant"
    t=$(seconds "$solocrm" --quiet --db "$base?tenant=$tenant" import purchases "$work/purchases.csv")
    import_times+=("$t")
    psql "$base" -qAtX -v ON_ERROR_STOP=1 -c "CREATE TABLE bare_$run ($columns)" >/dev/null
    c=$(seconds psql "$base" -qAtX -v ON_ERROR_STOP=1 \
        -c "\\copy bare_$run FROM '$work/purchases.csv' WITH (FORMAT csv, HEADER true)")
    copy_times+=("$c")
    echo "run $run: import purchases $t s, psql \\copy $c s (load $(cut -d' ' -f1 /proc/loadavg))"
done
stored=$(psql "$base" -qAtX -c "SELECT count(*) FROM purchases WHERE tenant_id = 2")
copied=$(psql "$base" -qAtX -c "SELECT count(*) FROM bare_1")
echo "         tenant 2 holds $stored purchases, bare_1 $copied rows"
mi=$(median "${import_times[@]}")
mc=$(median "${copy_times[@]}")
echo "import purchases: median $mi s; psql \\copy: median $mc s; ratio $(ratio "$mi" "$mc") (target <= 2)"

# Where the time goes: the server storing the same rows, from tenant 2, with no client
# and no CSV (rolled back): into the tenant's partition of purchases attached first
# (as a write of a tenant that has purchases: keys, index and foreign keys kept row by
# row), into a bare copy of its columns, and staged as `import` does into a tenant
# without purchases (a plain table, then its keys and index built and the partition
# attached: ADR 0019).
floor_tenant=$((runs + 2))
copy_tenant "$floor_tenant"
psql "$base" -qAtX -v ON_ERROR_STOP=1 -c "CREATE TABLE bare_purchases (LIKE purchases)" >/dev/null
select="SELECT $floor_tenant, id, customer_id, at, at_ns, amount, cost, description, items, \
    external_ref, deal_id, void_at, void_at_ns, void_by, void_reason FROM purchases WHERE tenant_id = 2"
part=purchases_t$floor_tenant
create="CREATE TABLE $part (LIKE purchases INCLUDING DEFAULTS INCLUDING CONSTRAINTS); \
    ALTER TABLE $part ADD CHECK (tenant_id = $floor_tenant)"
attach="ALTER TABLE purchases ATTACH PARTITION $part FOR VALUES IN ($floor_tenant)"
floor() { seconds psql "$base" -qAtX -v ON_ERROR_STOP=1 -c "BEGIN; $1; ROLLBACK"; }
f1=$(floor "$create; $attach; INSERT INTO purchases $select")
f2=$(floor "INSERT INTO bare_purchases $select")
f3=$(floor "$create; INSERT INTO $part $select; SET LOCAL maintenance_work_mem = '256MB'; \
    ALTER TABLE $part ADD PRIMARY KEY (tenant_id, id), ADD UNIQUE (tenant_id, external_ref); \
    CREATE INDEX ON $part (tenant_id, customer_id, at, at_ns, id); $attach")
echo "server alone, INSERT ... SELECT of the 1 M stored rows: into an attached partition $f1 s, into a bare copy of its columns $f2 s, staged and attached $f3 s"

# The report's books: tenant 2 (its customers and the imported purchases) and the
# same in a file (customers.db and the same import).
cp "$work/customers.db" "$work/report.db"
"$solocrm" --quiet --db "$work/report.db" import purchases "$work/purchases.csv" >/dev/null
psql "$base" -qAtX -v ON_ERROR_STOP=1 -c "VACUUM ANALYZE" >/dev/null
pg_times=()
sqlite_times=()
for run in $(seq "$runs"); do
    p=$(seconds "$solocrm" --db "$base?tenant=2" report)
    s=$(seconds "$solocrm" --db "$work/report.db" report)
    pg_times+=("$p")
    sqlite_times+=("$s")
    echo "run $run: report on PostgreSQL $p s, on SQLite $s s"
done
mp=$(median "${pg_times[@]}")
ms=$(median "${sqlite_times[@]}")
echo "report: PostgreSQL median $mp s; SQLite median $ms s; ratio $(ratio "$mp" "$ms") (target <= 2)"
