#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Run every unit test binary; print one summary line.
set -u
# SQLite fsyncs dominate the storage tests on disk; their subject is not
# the disk, so run them on tmpfs when there is one.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm
fi
pass=0
fail=0
failed=()
for t in "$@"; do
  if "$t"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    failed+=("$(basename "$t")")
  fi
done
echo "unit: $pass suites passed, $fail failed${failed:+ (${failed[*]})}"
[ "$fail" -eq 0 ]
