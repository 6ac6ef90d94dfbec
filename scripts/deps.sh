#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Install every Debian package the build, the tests and the benchmarks need,
# and the npm modules of the browser tests. Idempotent: installs only what is
# missing. Works as root, uses sudo otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  build-essential pkg-config clang clang-format clang-tidy cppcheck
  libclang-rt-14-dev
  libmicrohttpd-dev libgnutls28-dev gnutls-bin libsodium-dev libsqlite3-dev
  sqlite3 libjansson-dev libinih-dev libcmocka-dev
  libzxcvbn-dev libutf8proc-dev liboath-dev libqrencode-dev
  libcurl4-gnutls-dev python3-aiosmtpd
  python3 python3-pytest python3-requests
  openssl testssl.sh wrk nginx-light chromium ca-certificates
)

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
else
  echo "deps: all Debian packages present"
fi

if [ -f tests/e2e/package-lock.json ] &&
   [ ! -d tests/e2e/node_modules/playwright-core ]; then
  echo "deps: installing browser test modules"
  (cd tests/e2e && npm ci --no-audit --no-fund --silent)
fi
