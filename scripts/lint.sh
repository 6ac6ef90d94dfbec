#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# make lint: formatting, static analysis, the include walls and raw
# allocations outside core/. The -Wconversion pass is advisory and never
# fails the run.
set -u
cd "$(dirname "$0")/.."
fail=0
files=$(ls src/*/*.c src/*/*.h tests/unit/*.c tests/fuzz/*.c tools/*.c 2>/dev/null)
cflags="-std=c17 -Isrc -Ibuild/gen -DCOFFRE_VERSION=\"lint\" $(pkg-config --cflags libmicrohttpd gnutls libsodium sqlite3 jansson inih)"

echo "lint: clang-format"
clang-format --dry-run -Werror $files || fail=1

echo "lint: include walls"
scripts/check-walls.sh || fail=1

echo "lint: allocations through cf_"
# STYLE 14: outside core/, memory comes from cf_malloc/cf_calloc/
# cf_realloc/cf_strdup and goes back with cf_free, so the test hook can
# fail any allocation. A bare free() is allowed only for memory a library
# allocated and documents must be given to free(), marked on that line:
#   free(b32); /* liboath's allocator */
# Comments and string literals are not code. Exceptions by file:function
# (none today), one per line:
alloc_allow="
"
awk -v allow="$alloc_allow" '
  BEGIN {
    n = split(allow, a, "\n")
    for (i = 1; i <= n; i++) {
      if (a[i] != "") {
        ok[a[i]] = 1
      }
    }
    bad = 0
  }
  FNR == 1 {
    fn = ""
    incomment = 0
  }
  /^[A-Za-z_][A-Za-z0-9_]*\(/ {
    fn = $0
    sub(/\(.*/, "", fn)
  }
  {
    code = $0
    marked = code ~ /\/\*.*allocator.*\*\//
    gsub(/"([^"\\]|\\.)*"/, "\"\"", code)
    if (incomment) {
      if (code !~ /\*\//) {
        next
      }
      sub(/^.*\*\//, "", code)
      incomment = 0
    }
    gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, " ", code)
    sub(/\/\/.*$/, "", code)
    if (code ~ /\/\*/) {
      sub(/\/\*.*$/, "", code)
      incomment = 1
    }
    if (code !~ /(^|[^A-Za-z0-9_.>])(malloc|calloc|realloc|free|strdup|strndup)[ \t]*\(/) {
      next
    }
    if (marked && code !~ /(^|[^A-Za-z0-9_.>])(malloc|calloc|realloc|strdup|strndup)[ \t]*\(/) {
      next
    }
    if ((FILENAME ":" fn) in ok) {
      next
    }
    printf "alloc: %s:%d: %s: raw allocation, use the cf_ wrappers\n", FILENAME, FNR, fn
    bad = 1
  }
  END {
    exit bad
  }
' $(ls src/*/*.c src/*/*.h | grep -v '^src/core/') || fail=1

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
