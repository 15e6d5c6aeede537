#!/usr/bin/env bash
# The screenshots of docs/web.md: a 2,000-customer zh-CN demo (to 2026-11-29) served on
# loopback without automation, captured by headless Chromium (Debian's `chromium`) with
# the browser's language set. Writes docs/web/*.png; the book is built in a temporary
# directory and deleted.
#
#   scripts/web-screenshots.sh [OUT_DIR]        # default docs/web
#
# SOLOCRM_BIN names the binary (default target/release/solocrm), SOLOCRM_CHROMIUM the
# browser (default chromium).
set -euo pipefail
out=${1:-docs/web}
bin=${SOLOCRM_BIN:-${CARGO_TARGET_DIR:-target}/release/solocrm}
chromium=${SOLOCRM_CHROMIUM:-chromium}
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$out"
"$bin" --quiet --db "$dir/demo.db" demo --customers 2000 --end 2026-11-29 --locale zh-CN >/dev/null
"$bin" --db "$dir/demo.db" serve --port 0 --no-automation >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 100); do [ -s "$dir/out" ] && break; sleep 0.1; done
url=$(head -n 1 "$dir/out")
base=${url%%/\?token=*}
token=${url##*token=}
# shot NAME PATH LANGUAGE HEIGHT: the page at 1280 × HEIGHT pixels; the token is taken
# on any path (a 303 to the path with the session cookie).
shot() {
  timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$dir/profile-$1" --accept-lang="$3" --window-size="1280,$4" \
    --screenshot="$out/$1.png" "$base$2?token=$token" >/dev/null 2>&1
  echo "$out/$1.png"
}
# Customer 78 of this seeded demo has the most interactions (40) and 340 purchases: a
# timeline worth showing.
shot dashboard-zh / zh-CN 2600
shot dashboard-en / en-US 2600
shot customer-zh /customers/78 zh-CN 1500
shot pipeline-zh /pipeline zh-CN 1100
