#!/bin/sh
# `solocrm rfm --json` against DuckDB computing an RFM on its own file (issue 14).
#
#   scripts/bench-rfm.sh DB BIN [BIN...]
#
# DB is a solocrm book (e.g. the 100 k-customer demo that scripts/bench-clv.sh builds).
# Sets up a virtualenv with duckdb under $SCRATCH (default /tmp/solocrm-bench-rfm),
# exports the book's purchases with the first BIN into a DuckDB file once, then runs each
# BIN's `rfm --json --as-of $AS_OF` (default 2025-12-31) and DuckDB's RFM (grouping,
# quintile scores, written as JSON with COPY) in turn for $ROUNDS rounds (default 7),
# checks that every BIN prints the same JSON (each BIN's into a file, as DuckDB's COPY),
# and prints medians and per-round ratios.
set -eu
SCRATCH=${SCRATCH:-/tmp/solocrm-bench-rfm}
mkdir -p "$SCRATCH"
VENV="$SCRATCH/venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q duckdb
fi
exec "$VENV/bin/python" "$(dirname "$0")/bench_rfm.py" "$SCRATCH" "$@"
