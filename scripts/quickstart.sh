#!/usr/bin/env bash
# Runs the README's quick start exactly as written: the `cargo run --release -- serve` line of
# its first block in the background, then every command of its second block, and checks that
# the invitation ended up in the calendar. Only the data directory differs (a temporary one,
# through IMIPD_DATA_DIR), so a developer's ./imipd-data is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

# The shell blocks of the "## Quick start" section, continuation lines joined.
blocks=$(awk '
  /^## / { inside = ($0 == "## Quick start") }
  inside && /^```sh$/ { code = 1; next }
  code && /^```$/ { code = 0; print "#END"; next }
  code { print }
' README.md | sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
serve_cmd=$(printf '%s\n' "$blocks" | awk '/^#END/{exit} /^cargo run --release -- serve/')
steps=$(printf '%s\n' "$blocks" | awk '/^#END/{b++; next} b==1 && !/^#/ && NF')
[[ -n $serve_cmd && -n $steps ]] || { echo "quickstart: README quick start not found"; exit 1; }
command -v swaks >/dev/null || { echo "quickstart: swaks is not installed (scripts/test.sh installs it); quick start not checked"; exit 0; }

IMIPD_DATA_DIR=$(mktemp -d)
export IMIPD_DATA_DIR
log="$IMIPD_DATA_DIR/serve.log"
cargo build --release -q
bash -c "$serve_cmd" >"$log" 2>&1 &
serve=$!
trap 'kill "$serve" 2>/dev/null; wait "$serve" 2>/dev/null; rm -rf "$IMIPD_DATA_DIR"' EXIT
for _ in $(seq 1 300); do
  grep -q "lmtp listening on" "$log" && break
  kill -0 "$serve" 2>/dev/null || { cat "$log"; echo "quickstart: serve exited"; exit 1; }
  sleep 0.2
done
grep -q "lmtp listening on" "$log" || { cat "$log"; echo "quickstart: serve did not start"; exit 1; }

out=""
while IFS= read -r step; do
  echo "quickstart\$ $step"
  out=$(bash -c "$step" 2>&1) || { echo "$out"; echo "quickstart: step failed: $step"; exit 1; }
done <<<"$steps"
# The last step lists the events; the invitation is applied by the update stage shortly after
# delivery, so the listing is repeated until it appears.
uid=$(sed -n 's/^UID:\(.*\)\r\{0,1\}$/\1/p' examples/invite.ics | head -1)
last=$(printf '%s\n' "$steps" | tail -1)
for _ in $(seq 1 50); do
  grep -qF "$uid" <<<"$out" && { echo "quickstart: ok, $uid is in the calendar"; exit 0; }
  sleep 0.2
  out=$(bash -c "$last" 2>&1)
done
echo "$out"; cat "$log"
echo "quickstart: the invitation $uid did not reach the calendar"
exit 1
