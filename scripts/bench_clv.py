#!/usr/bin/env python3
"""The driver of scripts/bench-clv.sh: see there. Arguments: SCRATCH BIN [BIN...]."""
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import lifetimes
import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import summary_data_from_transaction_data

scratch, bins = sys.argv[1], [os.path.abspath(b) for b in sys.argv[2:]]
rounds = int(os.environ.get("ROUNDS", "7"))
master = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_master.txt")

# CDNOW_master.txt: customer id, date YYYYMMDD, number of CDs, dollar value.
tx = pd.read_csv(master, sep=r"\s+", header=0, names=["customer", "date", "cds", "amount"],
                 dtype={"customer": str, "date": str})
tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")

cdnow_db = os.path.join(scratch, "cdnow.db")
if not os.path.exists(cdnow_db):
    csv = os.path.join(scratch, "cdnow-purchases.csv")
    with open(csv, "w") as f:
        f.write("customer,date,amount\n")
        for c, d, a in zip(tx["customer"], tx["date"], tx["amount"]):
            f.write(f"cdnow-{c},{d:%Y-%m-%d},{a:.2f}\n")
    subprocess.run([bins[0], "--db", cdnow_db, "-q", "init", "--currency", "USD",
                    "--timezone", "America/New_York"], check=True)
    subprocess.run([bins[0], "--db", cdnow_db, "-q", "import", "purchases", csv,
                    "--create-missing"], check=True, stdout=subprocess.DEVNULL)
demo_db = os.path.join(scratch, "demo100k.db")
if not os.path.exists(demo_db):
    subprocess.run([bins[0], "--db", demo_db, "-q", "demo", "--customers", "100000",
                    "--end", "2025-12-31", "--locale", "zh-CN"], check=True,
                   stdout=subprocess.DEVNULL)

# lifetimes' own summary in days, turned into weeks as solocrm's (days / 7).
summary = summary_data_from_transaction_data(
    tx, "customer", "date", observation_period_end="1997-09-30", freq="D")
summary["recency"] /= 7.0
summary["T"] /= 7.0

def lifetimes_fit():
    t, c = time.perf_counter(), time.process_time()
    f = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    return time.perf_counter() - t, time.process_time() - c, f

books = {"cdnow": (cdnow_db, "1997-09-30"), "100k": (demo_db, "2025-12-31")}

def clv(binary, book):
    db, end = books[book]
    # Into a file, as `> file` would: a pipe into this Python process measured the
    # reader as much as the command (0.79 s against 0.45 s at 100 k customers).
    path = os.path.join(scratch, "clv-out.json")
    # The previous output (32 MB at 100 k customers) is removed before the clock
    # starts: truncating it inside the timing counted freeing its pages.
    if os.path.exists(path):
        os.unlink(path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with open(path, "wb") as f:
        subprocess.run([binary, "--db", db, "clv", "--calibration-end", end, "--json"],
                       check=True, stdout=f)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(path, "rb") as f:
        out = f.read()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    first_output.setdefault((binary, book), out)
    return wall, cpu, hashlib.sha256(out).hexdigest()

# Each binary's first JSON per book, to tell how far apart differing outputs are.
first_output = {}

def largest_difference(a, b):
    """The largest relative difference between two JSON values' numbers (None if
    anything but a number differs)."""
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) / max(abs(b), 1e-6)
    if type(a) is not type(b):
        return None
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return None
        parts = [largest_difference(a[k], b[k]) for k in a]
    elif isinstance(a, list):
        if len(a) != len(b):
            return None
        parts = [largest_difference(x, y) for x, y in zip(a, b)]
    else:
        return 0.0 if a == b else None
    return None if None in parts else max(parts, default=0.0)

# Wall time and CPU time (user + system) of each run: on a loaded machine the CPU time
# is the steadier measure of the work; the ratios are taken per round.
times = {}
cpus = {}
digests = {}
for r in range(rounds):
    for book in books:
        for b in bins:
            t, c, h = clv(b, book)
            times.setdefault((b, book), []).append(t)
            cpus.setdefault((b, book), []).append(c)
            digests.setdefault(book, set()).add(h)
    t, c, fit = lifetimes_fit()
    times.setdefault(("lifetimes", "cdnow"), []).append(t)
    cpus.setdefault(("lifetimes", "cdnow"), []).append(c)

print(f"load average {os.getloadavg()}, {rounds} rounds, lifetimes {lifetimes.__version__}, "
      f"pandas {pd.__version__}")
print("lifetimes params on CDNOW (weeks):", {k: round(v, 6) for k, v in fit.params_.items()})
for (who, book), ts in times.items():
    cs = cpus[(who, book)]
    print(f"{book:6} {who}: wall median {statistics.median(ts):.3f} s (min {min(ts):.3f}), "
          f"CPU median {statistics.median(cs):.3f} s (min {min(cs):.3f})")
for b in bins:
    for what, table in (("wall", times), ("CPU", cpus)):
        lt = table[("lifetimes", "cdnow")]
        ratios = [a / l for a, l in zip(table[(b, "cdnow")], lt)]
        print(f"cdnow  {b} / lifetimes fit, {what}: median of rounds "
              f"{statistics.median(ratios):.3f}")
for book, ds in digests.items():
    if len(ds) == 1:
        print(f"{book}: the same JSON from every binary")
        continue
    want = json.loads(first_output[(bins[0], book)])
    for b in bins[1:]:
        d = largest_difference(json.loads(first_output[(b, book)]), want)
        what = ("JSON DIFFERS beyond its numbers" if d is None
                else f"the same JSON but for floats up to {d:.2e} relative")
        print(f"{book}: {b} against {bins[0]}: {what}")
