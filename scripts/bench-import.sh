#!/bin/sh
# Issue 14's import target: `solocrm import purchases` of 1 M rows against the
# `sqlite3` shell's `.import` of the same CSV into a bare table, with existing
# customers and with --create-missing, two binaries alternating, ROUNDS rounds.
# Run in a scratch directory holding (see docs/performance.md, "2026-12-03 (late)"):
#   tmpl.db   a book holding the demo's customers (imported from its export)
#   tmpl0.db  an empty book (`solocrm init`)
#   p2.csv    the demo's purchase export, customers as emails, references or #ID
#   p4.csv    the same rows, each customer as a reference K-n (created by the import)
#   bare.sql  CREATE TABLE purchases(customer, date, amount, currency, reference, description)
# usage: sh bench-import.sh ROUNDS BINARY...   (paths relative to it)
set -eu
rounds=$1
shift
for i in $(seq 1 "$rounds"); do
  for b in "$@"; do
    rm -f run.db*; cp tmpl.db run.db
    /usr/bin/time -f "existing $b %e %U %S %M" "./$b" --db run.db import purchases p2.csv >/dev/null
  done
  rm -f bare.db; sqlite3 bare.db < bare.sql
  /usr/bin/time -f "existing sqlite3 %e %U %S %M" sqlite3 bare.db '.import --csv --skip 1 p2.csv purchases'
  for b in "$@"; do
    rm -f run.db*; cp tmpl0.db run.db
    /usr/bin/time -f "create $b %e %U %S %M" "./$b" --db run.db import purchases --create-missing p4.csv >/dev/null
  done
  rm -f bare.db; sqlite3 bare.db < bare.sql
  /usr/bin/time -f "create sqlite3 %e %U %S %M" sqlite3 bare.db '.import --csv --skip 1 p4.csv purchases'
done
