#!/usr/bin/env python3
"""The driver of scripts/bench-rfm.sh: see there. Arguments: SCRATCH DB BIN [BIN...]."""
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import time

import duckdb

scratch, book = sys.argv[1], os.path.abspath(sys.argv[2])
bins = [os.path.abspath(b) for b in sys.argv[3:]]
rounds = int(os.environ.get("ROUNDS", "7"))
as_of = os.environ.get("AS_OF", "2025-12-31")

duck = os.path.join(scratch, "purchases.duckdb")
if not os.path.exists(duck):
    csv = os.path.join(scratch, "purchases.csv")
    with open(csv, "wb") as f:
        subprocess.run([bins[0], "--db", book, "-q", "export", "purchases", "--format", "csv"],
                       check=True, stdout=f)
    con = duckdb.connect(duck)
    # The export's instants are UTC; the table keeps the business-local day (the
    # book's zone is $ZONE_HOURS ahead of UTC, default 8: Asia/Shanghai, no DST).
    hours = int(os.environ.get("ZONE_HOURS", "8"))
    con.execute(f"""CREATE TABLE purchases AS
        SELECT customer, amount,
               CAST(CAST(replace(replace(date, 'T', ' '), 'Z', '') AS TIMESTAMP)
                    + INTERVAL {hours} HOUR AS DATE) AS day
        FROM read_csv('{csv}', header = true, types = {{'date': 'VARCHAR',
                      'amount': 'DECIMAL(18,2)', 'customer': 'VARCHAR'}})""")
    con.close()
    os.remove(csv)

# Recency in days to the as-of day, purchase count, total spend, and quintile scores,
# for every customer with a purchase on or before the as-of day, written as JSON.
QUERY = f"""
COPY (
  WITH c AS (
    SELECT customer,
           date_diff('day', max(day), DATE '{as_of}') AS recency_days,
           count(*) AS frequency, sum(amount) AS monetary
    FROM purchases WHERE day <= DATE '{as_of}' GROUP BY customer)
  SELECT customer, recency_days, frequency, monetary,
         ntile(5) OVER (ORDER BY recency_days DESC) AS r,
         ntile(5) OVER (ORDER BY frequency) AS f,
         ntile(5) OVER (ORDER BY monetary) AS m
  FROM c ORDER BY customer
) TO '{os.path.join(scratch, "duck-rfm.json")}' (FORMAT JSON, ARRAY true)
"""

def unlink(path):
    # Each side's previous answer (18 MB at 100 k customers) is removed before its
    # clock starts: truncating or replacing it inside the timing counted freeing its
    # pages.
    if os.path.exists(path):
        os.unlink(path)

def run_duckdb():
    unlink(os.path.join(scratch, "duck-rfm.json"))
    t, c = time.perf_counter(), time.process_time()
    con = duckdb.connect(duck, read_only=True)
    con.execute(QUERY)
    con.close()
    return time.perf_counter() - t, time.process_time() - c

def run_bin(binary):
    # Into a file, as DuckDB's COPY writes its answer (a pipe into this Python
    # process would time the reader too).
    path = os.path.join(scratch, "solocrm-rfm.json")
    unlink(path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with open(path, "wb") as f:
        subprocess.run([binary, "--db", book, "rfm", "--json", "--as-of", as_of],
                       check=True, stdout=f)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(path, "rb") as f:
        out = f.read()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, hashlib.sha256(out).hexdigest()

walls, cpus, digests = {}, {}, set()
for r in range(rounds):
    for b in bins:
        w, c, h = run_bin(b)
        walls.setdefault(b, []).append(w)
        cpus.setdefault(b, []).append(c)
        digests.add(h)
    w, c = run_duckdb()
    walls.setdefault("duckdb", []).append(w)
    cpus.setdefault("duckdb", []).append(c)

print(f"load average {os.getloadavg()}, {rounds} rounds, duckdb {duckdb.__version__}")
for who in walls:
    print(f"{who}: wall median {statistics.median(walls[who]):.3f} s "
          f"(min {min(walls[who]):.3f}), CPU median {statistics.median(cpus[who]):.3f} s")
for b in bins:
    for what, table in (("wall", walls), ("CPU", cpus)):
        ratios = [x / d for x, d in zip(table[b], table["duckdb"])]
        print(f"{b} / duckdb, {what}: median of rounds {statistics.median(ratios):.3f}")
print("the same JSON from every binary" if len(digests) == 1 else f"JSON DIFFERS: {digests}")
