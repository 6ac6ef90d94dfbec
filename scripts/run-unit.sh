#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Run every unit test binary, each with its whole output (cmocka's lines and
# the log lines of the errors the tests provoke on purpose) in
# build/test-logs/unit/<suite>.log; print the tail of a failing suite's log
# and one summary line, "unit: P/N suites passed".
set -u
# SQLite fsyncs dominate the storage tests on disk; their subject is not
# the disk, so run them on tmpfs when there is one.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm
fi
logs=build/test-logs/unit
mkdir -p "$logs"
pass=0
fail=0
failed=()
for t in "$@"; do
  name=$(basename "$t")
  log=$logs/$name.log
  if "$t" >"$log" 2>&1; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    failed+=("$name")
    echo "unit: $name failed; the end of $log:"
    tail -n 30 "$log" | sed 's/^/  /'
  fi
done
echo "unit: $pass/$((pass + fail)) suites passed${failed:+; failed: ${failed[*]} (logs in $logs/)}"
[ "$fail" -eq 0 ]
