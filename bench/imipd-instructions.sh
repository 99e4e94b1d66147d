#!/usr/bin/env bash
# What one fixed workload costs imipd in instructions (valgrind --tool=callgrind) and in
# fsync calls (strace), figures that, unlike msgs/s, do not move with whatever else the
# machine is doing: two builds compare on a busy machine.
# usage: bench/imipd-instructions.sh BIN_DIR [MESSAGES] [IDLE_SECS]
# Sends MESSAGES plain-2k messages, then MESSAGES invitations (waiting until they are
# applied), then leaves the server idle for IDLE_SECS, once under callgrind and once under
# strace; prints the instructions in all, the biggest background costs, and fsyncs per
# message. CALLGRIND_OUT=FILE keeps callgrind's figures for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: bench/imipd-instructions.sh BIN_DIR [MESSAGES] [IDLE_SECS]}
messages=${2:-300} idle=${3:-10}
lmtp=127.0.0.1:2624 http=127.0.0.1:8208
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT

# Runs `imipd serve` under the tool given, loads it, stops it cleanly (SIGTERM, so the tool
# writes its figures).
run() {
  local data=$dir/data-$1
  shift
  mkdir -p "$data"
  export IMIPD_DATA_DIR=$data IMIPD_HOSTNAME=mx.bench IMIPD_LOG=warn \
    IMIPD_LMTP_LISTEN=$lmtp IMIPD_HTTP_LISTEN=$http IMIPD_MAX_PER_SENDER_PER_HOUR=0
  "$bin/imipd" user add bob@example.org >/dev/null
  "$bin/imipd" prefs set bob@example.org add_invitations=everyone >/dev/null
  "$@" "$bin/imipd" serve 2>"$data/serve.log" &
  pid=$!
  # Under valgrind the start takes seconds: wait for the port, not for a log line.
  for _ in $(seq 600); do
    (exec 3<>"/dev/tcp/${lmtp%:*}/${lmtp#*:}") 2>/dev/null && break
    sleep 0.1
  done
  local load=("$bin/imipd-bench" --server "$lmtp" --messages "$messages" --connections 2
    --authserv-id mx.bench)
  "${load[@]}" --corpus plain-2k >/dev/null
  "${load[@]}" --corpus invite --until-applied "http://$http/healthz" >/dev/null
  sleep "$idle"
  # strace runs imipd as its child; valgrind runs it as itself.
  kill -TERM "$(pgrep -P "$pid" imipd || echo "$pid")"
  wait "$pid" || true
}

run callgrind valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" -q
[[ -n ${CALLGRIND_OUT:-} ]] && cp "$dir/callgrind.out" "$CALLGRIND_OUT"
total=$(callgrind_annotate "$dir/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "instructions: $total in all ($((total / (2 * messages))) per message, background and start-up included)"
callgrind_annotate --inclusive=yes "$dir/callgrind.out" 2>/dev/null |
  grep -E "guarded|claim_jobs|claim_mail|feed_since|read_feed" | head -8

run strace strace -f -qq -c -e trace=fsync,fdatasync -o "$dir/strace.out"
syncs=$(awk '$NF ~ /^(fsync|fdatasync)$/ {n += $4} END {print n + 0}' "$dir/strace.out")
echo "fsync+fdatasync: $syncs in all ($(awk -v s="$syncs" -v m="$messages" 'BEGIN {printf "%.2f", s / (2 * m)}') per message)"
