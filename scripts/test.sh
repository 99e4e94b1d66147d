#!/usr/bin/env bash
# The README's test command. Installs what the integration tests use (real Dovecot, swaks for
# the quick start) when this machine can, then runs the whole suite and the README's quick
# start verbatim. Plain `cargo test` installs nothing: tests whose tool is missing say so and
# skip.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(dovecot-lmtpd dovecot-sieve swaks)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "scripts/test.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } ||
      echo "scripts/test.sh: could not install ${missing[*]}; the tests that need them will skip"
  else
    echo "scripts/test.sh: not root (or no apt-get): ${missing[*]} not installed; the tests that need them will skip"
  fi
fi

cargo test --workspace
scripts/quickstart.sh
