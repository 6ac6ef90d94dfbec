#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# test.sh LAYER...: run test layers against binaries already built (make
# test, unit, fuzz-replay, api and e2e build them first). Layers:
#   unit         tests/unit suites (sanitizer build)
#   fuzz         each fuzz target over its committed corpus
#   api          tests/api against build/san/coffre
#   api-release  the mail, token and policy API tests against the hardened
#                release build (_FORTIFY_SOURCE, no sanitizer)
#   browser      tests/e2e/run.mjs (headless Chromium)
# Each layer's whole output goes to build/test-logs/<layer>.log (the API
# servers' logs of a failed run to build/test-logs/<layer>-servers/). Every
# layer runs even after one fails. The output ends with what failed, one
# summary line per layer and a total line; the exit status is 1 when any
# layer failed.
set -u
cd "$(dirname "$0")/.." || exit 2
PY=${PY:-/usr/bin/python3}
logs=build/test-logs
mkdir -p "$logs"

# The binaries of the layers, named as the Makefile builds them.
unit_bins() {
  local f
  for f in tests/unit/test_*.c; do
    f=${f##*/}
    echo "build/san/tests/${f%.c}"
  done
}
fuzz_bins() {
  local f
  for f in tests/fuzz/fuzz_*.c; do
    f=${f##*/}
    echo "build/fuzz/${f%.c}"
  done
}

# run_layer LAYER: run it; returns its status. COLUMNS: pytest cuts its
# FAILED lines to the terminal's width, 80 when writing to a file.
run_layer() {
  local servers=$PWD/$logs/$1-servers
  local -a bins
  rm -rf "$servers"
  case $1 in
    unit) mapfile -t bins < <(unit_bins); scripts/run-unit.sh "${bins[@]}" ;;
    fuzz) mapfile -t bins < <(fuzz_bins); scripts/fuzz.sh replay "${bins[@]}" ;;
    api)
      COFFRE_BIN=$PWD/build/san/coffre COFFRE_TEST_LOGS=$servers COLUMNS=160 \
        "$PY" -m pytest -q -p no:cacheprovider tests/api
      ;;
    api-release)
      # the paths that lock accounts and send every kind of mail
      COFFRE_BIN=$PWD/build/coffre COFFRE_TEST_LOGS=$servers COLUMNS=160 \
        "$PY" -m pytest -q -p no:cacheprovider tests/api/test_mail.py \
        tests/api/test_tokens.py tests/api/test_policy.py
      ;;
    browser) COFFRE_BIN=$PWD/build/san/coffre node tests/e2e/run.mjs ;;
    *) echo "test.sh: unknown layer '$1'"; return 2 ;;
  esac
}

# summary LAYER LOG: "LAYER <short result>" from the layer's own last line.
summary() {
  local line
  case $1 in
    unit | fuzz)
      line=$(grep -E "^$1: [0-9]+/[0-9]+ " "$2" | tail -n 1)
      [ -n "$line" ] || { echo "$1 no result"; return; }
      # "unit: 10/10 suites passed" -> "unit 10/10 suites"
      read -r _ count what _ <<<"$line"
      echo "$1 $count $what"
      ;;
    api | api-release)
      # pytest's last line: "2 failed, 721 passed in 151.57s (0:02:31)"
      line=$(grep -E "^=*[ ]?[0-9]+ (passed|failed|error)" "$2" | tail -n 1)
      line=${line%% in *}
      line=${line#"${line%%[0-9]*}"}
      echo "$1 ${line:-no result}"
      ;;
    browser)
      line=$(grep -E "^e2e: [0-9]+ passed, [0-9]+ failed" "$2" | tail -n 1)
      line=${line#e2e: }
      echo "browser ${line:-no result}" | sed 's/, 0 failed$//'
      ;;
    *) echo "$1 no result" ;;
  esac
}

# details LAYER LOG: the lines that say what failed.
details() {
  case $1 in
    unit | fuzz) grep -E "^(unit|fuzz): .*fail|^  " "$2" | head -n 60 ;;
    api | api-release) grep -E "^(FAILED|ERROR) " "$2" | head -n 30 ;;
    browser) grep -E "^not ok |^# [a-z]" "$2" | grep -v "^# last lines" |
      head -n 40 ;;
    *) tail -n 20 "$2" ;;
  esac
}

shorts=()
lines=()
failed=()
for layer in "$@"; do
  log=$logs/$layer.log
  echo "test: $layer (output in $log)"
  mark=""
  if ! run_layer "$layer" >"$log" 2>&1; then
    mark=" FAILED"
    failed+=("$layer")
  fi
  short=$(summary "$layer" "$log")
  shorts+=("$short")
  lines+=("$layer: ${short#* }$mark")
done

for layer in "${failed[@]}"; do
  log=$logs/$layer.log
  echo
  echo "$layer failed; from $log:"
  details "$layer" "$log" | sed 's/^/  /'
  if [ -d "$logs/$layer-servers" ]; then
    echo "  the servers' logs: $logs/$layer-servers/"
  fi
done
echo
printf '%s\n' "${lines[@]}"
total=$(printf '%s, ' "${shorts[@]}")
total=${total%, }
if [ "${#failed[@]}" -eq 0 ]; then
  echo "total: $total: OK"
  exit 0
fi
echo "total: $total: FAILED (${failed[*]}; logs in $logs/)"
exit 1
