#!/usr/bin/env bash
# Server times of the web workspace (`solocrm serve`) on a demo book: the dashboard,
# customer pages and searches, each requested RUNS times over loopback with curl after
# one warm-up request. Prints the median, the fastest and the slowest time to the first
# byte (the page is rendered whole before it is sent, so this is the server time) and
# the median total. The demo book is built in a temporary directory and deleted.
#
#   scripts/web-timings.sh [CUSTOMERS] [RUNS] [LOCALE]     # defaults: 100000 20 en
#
# SOLOCRM_BIN names the binary (default target/release/solocrm; build it with
# `cargo build --release -p solocrm-cli`).
set -euo pipefail
customers=${1:-100000}
runs=${2:-20}
locale=${3:-en}
bin=${SOLOCRM_BIN:-${CARGO_TARGET_DIR:-target}/release/solocrm}
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
"$bin" --quiet --db "$dir/demo.db" demo --customers "$customers" --end 2026-11-29 \
  --locale "$locale" >/dev/null
echo "demo of $customers customers ($locale) built in $(( $(date +%s) - start )) s," \
  "$(du -m "$dir/demo.db" | cut -f1) MB"

"$bin" --db "$dir/demo.db" serve --port 0 >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 100); do [ -s "$dir/out" ] && break; sleep 0.1; done
url=$(head -n 1 "$dir/out")
base=${url%%/\?token=*}
cookie=$(curl -s -o /dev/null -D - "$url" | tr -d '\r' | sed -n 's/^set-cookie: \([^;]*\).*/\1/Ip')
[ -n "$cookie" ] || { echo "no session cookie from $url" >&2; cat "$dir/err" >&2; exit 1; }

# measure LABEL PATH: the statistics of RUNS requests of PATH.
measure() {
  local label=$1 path=$2 status
  local first
  read -r status first < <(curl -s -o /dev/null -w '%{http_code} %{time_starttransfer}\n' \
    -H "Cookie: $cookie" "$base$path")
  [ "$status" = 200 ] || { echo "$path answered $status" >&2; exit 1; }
  for _ in $(seq 1 "$runs"); do
    curl -s -o /dev/null -w '%{time_starttransfer} %{time_total}\n' -H "Cookie: $cookie" "$base$path"
  done >"$dir/times"
  local total
  total=$(cut -d' ' -f2 "$dir/times" | sort -n | awk '{ t[NR] = $1 * 1000 } END { print t[int((NR + 1) / 2)] }')
  cut -d' ' -f1 "$dir/times" | sort -n | awk -v label="$label" -v path="$path" \
    -v total="$total" -v first="$first" '
    { t[NR] = $1 * 1000 }
    END {
      printf "%-20s %-34s median %7.1f ms  min %7.1f  max %7.1f  (total median %.1f; first %.1f ms)\n",
        label, path, t[int((NR + 1) / 2)], t[1], t[NR], total, first * 1000
    }'
}

measure "dashboard" "/"
measure "customer page" "/customers/1"
measure "customer page" "/customers/$(( customers / 2 ))"
measure "customer list" "/customers"
if [ "$locale" = zh-CN ]; then
  measure "search (Chinese)" "/customers?q=%E7%8E%8B"
  measure "search (Chinese)" "/customers?q=%E5%BC%A0%E4%BC%9F"
else
  # Customer 7's full name, surname and email, percent-encoded.
  page=$(curl -s -H "Cookie: $cookie" "$base/customers/7")
  name=$(sed -n 's/.*<h1><bdi>\([^<]*\)<\/bdi>.*/\1/p' <<<"$page")
  email=$(sed -n 's/.*<dt>Email<\/dt><dd>\([^<]*\)<\/dd>.*/\1/p' <<<"$page")
  enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
  measure "search (full name)" "/customers?q=$(enc "$name")"
  [ -z "$email" ] || measure "search (email)" "/customers?q=$(enc "$email")"
  measure "search (a surname)" "/customers?q=$(enc "$(awk '{ print $NF }' <<<"$name")")"
  measure "search (common)" "/customers?q=an"
fi
measure "pipeline" "/pipeline"
measure "care" "/care"
echo "server memory (RSS): $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' /proc/$pid/status)"
