#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# fuzz.sh replay BIN...: run each target once over its committed corpus
#                        (tests/fuzz/corpus/<target>/ for fuzz_<target>), as
#                        make test does; a crash, leak or hang fails.
# fuzz.sh run BIN...:    fuzz each target for FUZZ_SECONDS (default 60);
#                        new inputs go to build/fuzz/corpus/<name>/, crashes
#                        to build/fuzz/crashes/ (copy them into the corpus).
set -u
mode=$1
shift
secs=${FUZZ_SECONDS:-60}
fail=0
n=0
for bin in "$@"; do
  name=$(basename "$bin")
  corpus=tests/fuzz/corpus/${name#fuzz_}
  dict=tests/fuzz/$name.dict
  dictarg=()
  [ -f "$dict" ] && dictarg=(-dict="$dict")
  n=$((n + 1))
  case $mode in
    replay)
      files=$(find "$corpus" -type f 2>/dev/null | wc -l)
      if [ "$files" -eq 0 ]; then
        echo "fuzz: $name has no corpus in $corpus" >&2
        fail=$((fail + 1))
        continue
      fi
      # Given file paths (not a directory), libFuzzer runs each file once
      # and exits non-zero on the first crash; -timeout turns a hang into
      # a failure instead of a stuck make test, and the artifact prefix
      # keeps the copy it writes of a crashing input out of the tree root.
      if ! find "$corpus" -type f -print0 |
           xargs -0 -r "$bin" -runs=1 -timeout=10 \
             -artifact_prefix="build/fuzz/replay-$name-" \
             >"build/fuzz/$name.replay.log" 2>&1; then
        echo "fuzz: $name failed on its corpus, see build/fuzz/$name.replay.log" >&2
        fail=$((fail + 1))
      fi
      ;;
    run)
      mkdir -p "build/fuzz/corpus/$name" build/fuzz/crashes
      if ! "$bin" -max_total_time="$secs" -artifact_prefix=build/fuzz/crashes/ \
           "${dictarg[@]}" "build/fuzz/corpus/$name" "$corpus"; then
        fail=$((fail + 1))
      fi
      ;;
  esac
done
case $mode in
  replay) echo "fuzz: $((n - fail))/$n targets replayed their corpus clean" ;;
  *) echo "fuzz: $((n - fail))/$n targets ran ${secs} s without a failure" ;;
esac
[ "$fail" -eq 0 ]
