#!/usr/bin/env bash
# Runs imipd (release build) on a fresh data directory and loads it with imipd-bench:
# plain mail, 100 KB mail, invitations end to end (LMTP in -> calendar written).
# usage: bench/imipd-load.sh [MESSAGES] [CONNECTIONS] [BIN_DIR]
# BIN_DIR: run the imipd and imipd-bench found there (another build, side by side) instead
# of building this checkout's.
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-2000} connections=${2:-4}
if [[ -n ${3:-} ]]; then
  bin=$3
else
  cargo build --release -q -p imipd -p imipd-bench
  bin=target/release
fi
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
export IMIPD_DATA_DIR=$dir IMIPD_HOSTNAME=mx.bench IMIPD_LOG=warn \
  IMIPD_LMTP_LISTEN=127.0.0.1:2524 IMIPD_HTTP_LISTEN=127.0.0.1:8108 \
  IMIPD_MAX_PER_SENDER_PER_HOUR=0
$bin/imipd user add bob@example.org >/dev/null
$bin/imipd prefs set bob@example.org add_invitations=everyone >/dev/null
$bin/imipd serve 2>"$dir/serve.log" &
pid=$!
for _ in $(seq 100); do
  grep -q "lmtp listening" "$dir/serve.log" && break
  sleep 0.1
done
for corpus in plain-2k plain-100k invite invite-100k mixed; do
  $bin/imipd-bench --server 127.0.0.1:2524 --messages "$messages" --connections "$connections" \
    --corpus "$corpus" --authserv-id mx.bench --until-applied http://127.0.0.1:8108/healthz
done
