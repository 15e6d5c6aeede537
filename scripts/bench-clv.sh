#!/bin/sh
# `solocrm clv` end to end against Python `lifetimes` (issue 14): one command.
#
#   scripts/bench-clv.sh BIN [BIN...]
#
# Sets up a virtualenv with lifetimes 0.11.3 (which ships the CDNOW data) under
# $SCRATCH (default /tmp/solocrm-bench-clv), builds two books with the first BIN (CDNOW's
# 69,659 purchases of 23,570 customers, imported from lifetimes' CDNOW_master.txt; a
# 100 k-customer zh-CN demo), then runs each BIN's `clv --json` (into a file) on both
# and lifetimes' BG/NBD fit alone on CDNOW in turn for $ROUNDS rounds (default 7), says
# whether every BIN prints the same JSON (else how far apart their numbers are), and
# prints medians and per-round ratios. See
# docs/performance.md "clv end to end".
set -eu
SCRATCH=${SCRATCH:-/tmp/solocrm-bench-clv}
mkdir -p "$SCRATCH"
VENV="$SCRATCH/venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import lifetimes' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q lifetimes==0.11.3
fi
exec "$VENV/bin/python" "$(dirname "$0")/bench_clv.py" "$SCRATCH" "$@"
