#!/usr/bin/env bash
# The README's test command. Installs what the integration tests use (real Postfix and
# Dovecot, swaks for the quick start, python-caldav and vdirsyncer, Chromium and the npm
# packages of the browser test) when this machine can, then runs the whole suite and the
# README's quick start verbatim. Plain `cargo test` installs nothing: tests whose tool is
# missing say so and skip.
#
# The tests run their own Postfix and Dovecot instances (config, queue and sockets in a
# temporary directory, loopback, ephemeral ports); the system-wide daemons the packages come
# with are never started, so nothing listens on 25, 143 or 993 because of this script.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(dovecot-lmtpd dovecot-sieve dovecot-imapd postfix swaks chromium)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "scripts/test.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Postfix's installer would ask what kind of mail system this is: nothing, here.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    # Packages must not start their daemons (invoke-rc.d asks policy-rc.d; 101: not now).
    own_policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      own_policy=1
    fi
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } ||
      echo "scripts/test.sh: could not install ${missing[*]}; the tests that need them will skip"
    [[ -n $own_policy ]] && rm -f /usr/sbin/policy-rc.d
    # Where a service manager started them anyway, stop them and keep them from booting.
    if [[ -d /run/systemd/system ]]; then
      for unit in postfix dovecot; do
        systemctl disable --now "$unit" >/dev/null 2>&1 || true
      done
    fi
  else
    echo "scripts/test.sh: not root (or no apt-get): ${missing[*]} not installed; the tests that need them will skip"
  fi
fi

# The real clients of the CalDAV and CardDAV tests, python-caldav and vdirsyncer, in a venv of
# their own: $IMIPD_TEST_VENV, by default ~/.cache/imipd/test-venv (kept between runs; a
# finished install leaves .ok naming the versions). The tests find it there and skip without it.
venv=${IMIPD_TEST_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/imipd/test-venv}
clients=(caldav==3.6.0 vdirsyncer==0.21.0)
if [[ $(cat "$venv/.ok" 2>/dev/null) != "${clients[*]}" ]]; then
  echo "scripts/test.sh: installing ${clients[*]} into $venv"
  rm -rf "$venv"
  if python3 -m venv "$venv" && "$venv/bin/pip" install -q "${clients[@]}"; then
    echo "${clients[*]}" >"$venv/.ok"
  else
    echo "scripts/test.sh: could not install ${clients[*]} into $venv (needs python3-venv and PyPI);" \
      "the tests with real clients will skip"
  fi
fi
export IMIPD_TEST_VENV=$venv

# The browser test's npm packages (playwright-core drives the Debian chromium above).
if command -v npm >/dev/null; then
  (cd tests/browser && npm ci --no-audit --no-fund >/dev/null) ||
    echo "scripts/test.sh: npm ci failed in tests/browser; the browser test will skip"
else
  echo "scripts/test.sh: no npm; the browser test will skip"
fi

# A one-off build keeps no incremental state: on a fresh machine it would only take disk
# (over a gigabyte) that the release build of the quick start needs next.
export CARGO_INCREMENTAL=0
cargo test --workspace
scripts/quickstart.sh
