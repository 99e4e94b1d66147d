#!/usr/bin/env bash
# A flood of wrong HTTP passwords against imipd, side by side for each binary given:
# RSS before, at its peak during and 10 s after the flood, LMTP latency during it, and what
# a wrong password costs for an existing user and for an unknown address.
# usage: bench/login-flood.sh [IMIPD_BINARY...]   (default: target/release/imipd)
#   FLOOD_CLIENTS=100 FLOOD_SECONDS=15 FLOOD_SOURCES=0 (0: all from 127.0.0.1; N: N addresses)
#   FLOOD_SPRAY=0 (N: guess N made-up addresses instead of the users')
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${FLOOD_CLIENTS:-100} seconds=${FLOOD_SECONDS:-15} sources=${FLOOD_SOURCES:-0}
spray=${FLOOD_SPRAY:-0}
cargo build --release -q -p imipd -p imipd-bench
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=(target/release/imipd)

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

for bin in "${bins[@]}"; do
  dir=$(mktemp -d)
  export IMIPD_DATA_DIR=$dir IMIPD_HOSTNAME=mx.bench IMIPD_LOG=warn \
    IMIPD_LMTP_LISTEN=127.0.0.1:2534 IMIPD_HTTP_LISTEN=127.0.0.1:8118
  logins=()
  for i in 0 1 2 3 4 5 6 7 8 9; do
    echo "secret-$i" | "$bin" user add "user$i@example.org" --password-stdin >/dev/null
    logins+=("user$i@example.org")
  done
  "$bin" user add bob@example.org >/dev/null
  echo "secret-p" | "$bin" user add probe@example.org --password-stdin >/dev/null
  "$bin" serve 2>"$dir/serve.log" &
  pid=$!
  for _ in $(seq 100); do
    grep -q "lmtp listening" "$dir/serve.log" && break
    sleep 0.1
  done
  echo "== $bin"
  target/release/imipd-bench --server 127.0.0.1:2534 --connections 1 --messages 300 \
    --corpus plain-2k | sed 's/^/lmtp before the flood: /'
  echo "rss before: $(( $(rss_kb $pid) / 1024 )) MiB"
  python3 bench/login-flood.py 127.0.0.1:8118 "${logins[@]}" nobody{0,1,2,3,4}@example.org \
    --clients "$clients" --seconds "$seconds" --sources "$sources" --spray "$spray" &
  flood=$!
  peak=0
  sleep 2
  target/release/imipd-bench --server 127.0.0.1:2534 --connections 1 --messages 300 \
    --corpus plain-2k | sed 's/^/lmtp during the flood: /' &
  bench=$!
  while kill -0 "$flood" 2>/dev/null; do
    rss=$(rss_kb $pid); [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 0.5
  done
  wait "$flood"
  wait "$bench"
  echo "rss peak during the flood: $(( peak / 1024 )) MiB"
  sleep 10
  echo "rss 10 s after the flood: $(( $(rss_kb $pid) / 1024 )) MiB"
  python3 bench/login-flood.py 127.0.0.1:8118 probe@example.org nobody9@example.org --probe 9
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
done
