#!/usr/bin/env bash
# CalDAV side by side on one machine, one server after the other, each on a fresh calendar:
# imipd (release build), Cyrus 3.6 and Radicale, each filled with N events (10% weekly
# recurring) and timed by the peers' caldav-bench.py; then the sync-collection delta of one
# change (bench/sync-delta.py) on each, and imipd's memory while it serves the N objects.
# usage: bench/caldav-peers.sh [N]    (as root: Cyrus drops to its own user)
# PEERS: the directory of caldav-bench.py, cyrus.sh and radicale.sh (default ../shared/peers).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
peers=${PEERS:-../shared/peers}
cargo build --release -q -p imipd
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$peers/cyrus.sh" stop "$dir/cyrus" >/dev/null 2>&1 || true
}
trap cleanup EXIT

run() {  # run NAME BASE CALENDAR USER PW
  echo "== $1"
  python3 "$peers/caldav-bench.py" "$2" "$3" "$4" "$5" "$n" --fill
  python3 bench/sync-delta.py "$2" "$3" "$4" "$5" "${3}bench-5.ics"
}

# imipd
export IMIPD_DATA_DIR=$dir/imipd IMIPD_LOG=warn \
  IMIPD_LMTP_LISTEN=127.0.0.1:2624 IMIPD_HTTP_LISTEN=127.0.0.1:8208
mkdir -p "$IMIPD_DATA_DIR"
target/release/imipd user add bob@example.org --password secret >/dev/null
target/release/imipd serve 2>"$dir/imipd.log" &
pids+=($!)
imipd=$!
for _ in $(seq 100); do
  grep -q "http listening" "$dir/imipd.log" && break
  sleep 0.1
done
run imipd http://127.0.0.1:8208 /calendars/bob@example.org/default/ bob@example.org secret
grep -E "^(VmRSS|VmHWM)" "/proc/$imipd/status" | sed 's/^/imipd serving '"$n"' objects: /'
kill "$imipd"

# Cyrus
"$peers/cyrus.sh" start "$dir/cyrus" >/dev/null
run cyrus http://127.0.0.1:8081 /dav/calendars/user/bob/Default/ bob secret
"$peers/cyrus.sh" stop "$dir/cyrus" >/dev/null

# Radicale
"$peers/radicale.sh" "$dir/radicale" 5232 >/dev/null
pids+=("$(cat "$dir/radicale/pid")")
run radicale http://127.0.0.1:5232 /bob/bench/ bob secret
