#!/usr/bin/env bash
# The web dashboard's first load after a write made by another program (the CLI):
# serves BOOK (a copy of it, deleted at the end), loads `/` once so it is kept, then
# ROUNDS times records a purchase with `solocrm purchase add` and loads `/` after WAIT
# seconds, printing the time to the first byte of that load (the server time) and of
# a second, unchanged load. With WAIT 0 the load races the server's refresh (ADR 0071):
# it shows the dashboard of a moment ago, marked (ADR 0072; a build before it waited
# for what was left of the refresh); with a WAIT longer than one report it should find
# the report computed. Ends with the server's peak RSS.
#
#   scripts/web-after-write.sh BOOK [ROUNDS] [WAIT]      # defaults: 5 rounds, 3 s
#
# SOLOCRM_BIN names the binary (default target/release/solocrm); PAGE another page to
# load instead of `/` (e.g. PAGE='/customers?q=an', a search, whose index the refresh
# rebuilds too); the server runs with --no-automation so that only the CLI's purchases
# move the outbox.
set -euo pipefail
book=${1:?usage: web-after-write.sh BOOK [ROUNDS] [WAIT]}
rounds=${2:-5}
wait_s=${3:-3}
bin=${SOLOCRM_BIN:-${CARGO_TARGET_DIR:-target}/release/solocrm}
page=${PAGE:-/}
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

cp "$book" "$dir/book.db"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
  "load $(cut -d' ' -f1-3 /proc/loadavg); binary $bin"
"$bin" --db "$dir/book.db" serve --port 0 --no-automation >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 100); do [ -s "$dir/out" ] && break; sleep 0.1; done
url=$(head -n 1 "$dir/out")
base=${url%%/\?token=*}
cookie=$(curl -s -o /dev/null -D - "$url" | tr -d '\r' | sed -n 's/^set-cookie: \([^;]*\).*/\1/Ip')
[ -n "$cookie" ] || { echo "no session cookie from $url" >&2; cat "$dir/err" >&2; exit 1; }

# load: the time to the first byte of `/`, in ms, marked "(a moment ago)" when the
# page is the kept dashboard from before the latest write, reloading itself (ADR 0072).
load() {
  local ms
  ms=$(curl -s -o "$dir/page" -w '%{http_code} %{time_starttransfer}\n' -H "Cookie: $cookie" "$base$page" |
    awk '{ if ($1 != 200) { print "status " $1; exit 1 } printf "%.0f", $2 * 1000 }')
  if grep -q 'http-equiv="refresh"' "$dir/page"; then echo "$ms (a moment ago)"; else echo "$ms"; fi
}
echo "first load (computes): $(load) ms; again: $(load) ms"
for round in $(seq 1 "$rounds"); do
  "$bin" --quiet --db "$dir/book.db" purchase add "#1" "$round.25" >/dev/null
  sleep "$wait_s"
  after=$(load)
  again=$(load)
  echo "round $round: a CLI purchase, ${wait_s} s, then $page in $after ms; again $again ms"
done
echo "server peak RSS: $(awk '/VmHWM/ { print $2 " " $3 }' "/proc/$pid/status")"
