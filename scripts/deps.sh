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

# The browser tests need Node 18 or later: Debian 12's own nodejs is 18.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 18 ]; then
  echo "deps: Node $(node --version 2>/dev/null || echo '(none)') is too old" \
    "for the browser tests (18 or later is needed)" >&2
  exit 1
fi

# npm ci again when the installed playwright-core is not the locked one.
want=$(node -p 'require("./tests/e2e/package-lock.json").packages["node_modules/playwright-core"].version' 2>/dev/null || echo "")
have=$(node -p 'require("./tests/e2e/node_modules/playwright-core/package.json").version' 2>/dev/null || echo "")
if [ -f tests/e2e/package-lock.json ] && [ "$want" != "$have" ]; then
  echo "deps: installing browser test modules (playwright-core $want)"
  (cd tests/e2e && npm ci --no-audit --no-fund --silent)
fi
