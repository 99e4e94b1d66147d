#!/usr/bin/env bash
# CalDAV side by side on one machine, one server after the other, each on a fresh calendar:
# imipd (release build), Cyrus 3.6 and Radicale, each filled with N events (10% weekly
# recurring) and timed by the peers' caldav-bench.py; then the sync-collection delta of one
# change (bench/sync-delta.py) on each, and imipd's memory while it serves the N objects.
# usage: bench/caldav-peers.sh [N [SERVER...]]   (SERVER: imipd cyrus radicale, default all;
# as root: Cyrus drops to its own user)
# PEERS: the directory of caldav-bench.py, cyrus.sh and radicale.sh (default ../shared/peers).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
servers=("${@:2}")
((${#servers[@]})) || servers=(imipd cyrus radicale)
peers=${PEERS:-../shared/peers}
dir=$(mktemp -d)
chmod 755 "$dir"  # Cyrus runs as its own user and must reach its directory
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

imipd() {
  cargo build --release -q -p imipd
  # Ephemeral ports: the log names the HTTP one.
  export IMIPD_DATA_DIR=$dir/imipd IMIPD_LOG=info \
    IMIPD_LMTP_LISTEN=127.0.0.1:0 IMIPD_HTTP_LISTEN=127.0.0.1:0
  mkdir -p "$IMIPD_DATA_DIR"
  target/release/imipd user add bob@example.org --password secret >/dev/null
  target/release/imipd serve 2>"$dir/imipd.log" &
  pids+=($!)
  imipd=$!
  local addr=""
  for _ in $(seq 100); do
    addr=$(grep -o "http listening on [0-9.:]*" "$dir/imipd.log" | awk '{print $4}') && [[ -n $addr ]] && break
    sleep 0.1
  done
  run imipd "http://$addr" /calendars/bob@example.org/default/ bob@example.org secret
  grep -E "^(VmRSS|VmHWM)" "/proc/$imipd/status" | sed 's/^/imipd serving '"$n"' objects: /'
  kill "$imipd"
}

cyrus() {
  "$peers/cyrus.sh" start "$dir/cyrus" >/dev/null
  run cyrus http://127.0.0.1:8081 /dav/calendars/user/bob/Default/ bob secret
  "$peers/cyrus.sh" stop "$dir/cyrus" >/dev/null
}

radicale() {
  "$peers/radicale.sh" "$dir/radicale" 5232 >/dev/null
  pids+=("$(cat "$dir/radicale/pid")")
  run radicale http://127.0.0.1:5232 /bob/bench/ bob secret
}

for s in "${servers[@]}"; do "$s"; done
