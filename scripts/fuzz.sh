#!/usr/bin/env bash
# Hammers the two parsers that read untrusted text — the strict CSV reader of the
# imports and the segment-condition parser — with the property tests that guard them,
# at many more cases than `cargo test` runs, for a bounded time.
#
#   scripts/fuzz.sh [CASES] [SECONDS_PER_TARGET]     (defaults: 200000 cases, 600 s)
#
# A failure prints the minimal input proptest shrank it to, and proptest stores it under
# the crate's proptest-regressions/ so that the ordinary test run keeps checking it.
# Not part of .ci/run (it is slow on purpose); run it by hand after touching a parser.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-200000}
limit=${2:-600}

run() {
  local what=$1; shift
  echo "=== $what: $cases cases per property, at most $limit s"
  local start=$SECONDS
  PROPTEST_CASES=$cases timeout "$limit" cargo test --release --quiet "$@"
  echo "--- $what: done in $((SECONDS - start)) s"
}

run "CSV reader (arbitrary bytes, CSV-like files, formula guard)" \
  -p solocrm-cli --bin solocrm -- csvio::tests::
run "segment parser (arbitrary and deeply nested text, round trips)" \
  -p solocrm-core --lib -- segment_syntax::tests::
