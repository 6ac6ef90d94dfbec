#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# make lint: formatting, static analysis and the include walls. The
# -Wconversion pass is advisory and never fails the run.
set -u
cd "$(dirname "$0")/.."
fail=0
files=$(ls src/*/*.c src/*/*.h tests/unit/*.c tests/fuzz/*.c tools/*.c 2>/dev/null)
cflags="-std=c17 -Isrc -Ibuild/gen -DCOFFRE_VERSION=\"lint\" $(pkg-config --cflags libmicrohttpd gnutls libsodium sqlite3 jansson inih)"

echo "lint: clang-format"
clang-format --dry-run -Werror $files || fail=1

echo "lint: include walls"
scripts/check-walls.sh || fail=1

echo "lint: cppcheck"
cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
  --suppress=missingIncludeSystem --suppress=unusedFunction \
  -Isrc src || fail=1

echo "lint: clang-tidy"
clang-tidy --quiet \
  -checks='-*,bugprone-*,cert-*,clang-analyzer-*,readability-braces-around-statements,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-cert-dcl37-c,-cert-dcl51-cpp,-bugprone-assignment-in-if-condition,-cert-err33-c,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-clang-analyzer-valist.Uninitialized' \
  --warnings-as-errors='*' src/*/*.c -- $cflags || fail=1

echo "lint: -Wconversion (advisory)"
for f in src/*/*.c; do
  gcc $cflags -Wconversion -fsyntax-only "$f" 2>&1 | grep -c warning: |
    sed "s|^|  $f: |" | grep -v ': 0$'
done

[ "$fail" -eq 0 ] && echo "lint: ok"
exit "$fail"
