#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# shellcheck disable=SC2317  # cleanup and helpers run from traps
# Login benchmark: coffre's successful-login rate over HTTPS against the raw
# Argon2id rate of libsodium on the same machine, and /healthz latency while
# logins flood the worker pool, in one run.
#
# 1. Raw rate: build/bench/pwhash 64 2 N times crypto_pwhash_str at the
#    default cost (64 MiB, t = 2) on one core. The machine has 2 cores and
#    coffre's worker pool has [workers] threads = 2, so the raw ceiling is
#    2 x (1000 / ms) hashes/s. (Two pwhash processes are also run side by
#    side, for information: Argon2id is memory-bound and two at once may not
#    go twice as fast.)
# 2. coffre: `coffre serve` on a temporary data directory with the rate
#    limits and the IP ban out of the way, one tenant whose owner has set a
#    password; wrk (Lua script) POSTs /api/v1/auth/login with the right
#    credentials and counts the 200 answers. Goal: logins/s >= 0.95 x the
#    raw 2-core ceiling.
# 3. GET /healthz p99 idle, then while a login flood (CONNECTIONS_FLOOD)
#    keeps the worker pool busy. Goal: p99 under flood <= 2 x idle.
# A benchmark reports; it does not fail: the exit status is 0 whether the
# goals are met or not (non-zero only if the benchmark could not run).
#
# Environment:
#   DURATION            login rate run                  (default 10s)
#   CONNECTIONS         login rate run connections      (default 8)
#   THREADS             wrk threads of the login runs   (default 2)
#   HEALTH_DURATION     each /healthz run               (default 5s)
#   HEALTH_CONNECTIONS  /healthz connections (wrk -t1)  (default 4)
#   FLOOD_CONNECTIONS   login flood connections         (default 32)
#   PWHASH_ROUNDS       hashes per pwhash measurement   (default 20)
#   ROUNDS              rounds of (1, 2, 3); the summary takes medians
#                                                       (default 1)
#   COFFRE_BIN          coffre binary                   (default build/coffre)
#   PWHASH_BIN          pwhash bench binary     (default build/bench/pwhash)
#   KEEP_TMP=1          keep the temporary directory (logs, configs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
HEALTH_DURATION=${HEALTH_DURATION:-5s}
HEALTH_CONNECTIONS=${HEALTH_CONNECTIONS:-4}
FLOOD_CONNECTIONS=${FLOOD_CONNECTIONS:-32}
PWHASH_ROUNDS=${PWHASH_ROUNDS:-20}
ROUNDS=${ROUNDS:-1}
COFFRE_BIN=${COFFRE_BIN:-build/coffre}
PWHASH_BIN=${PWHASH_BIN:-build/bench/pwhash}
GOAL_RATE=0.95
GOAL_P99=2
CORES=2 # the worker pool's threads and the cores of the reference machine

OWNER=bench@acme.example
PASSWORD=violet-Tambour-glacier-47-mirabelle

die() { echo "bench login: $*" >&2; exit 1; }

for tool in wrk curl; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
[ -x "$COFFRE_BIN" ] || die "missing $COFFRE_BIN (run: make build/coffre)"
[ -x "$PWHASH_BIN" ] || die "missing $PWHASH_BIN (run: make build/bench/pwhash)"
[ "$THREADS" -le "$CONNECTIONS" ] || die "THREADS ($THREADS) must be <= CONNECTIONS ($CONNECTIONS)"
[ "$THREADS" -le "$FLOOD_CONNECTIONS" ] || die "THREADS ($THREADS) must be <= FLOOD_CONNECTIONS ($FLOOD_CONNECTIONS)"
# coffre's default max_connections_per_ip is 64
[ $((FLOOD_CONNECTIONS + HEALTH_CONNECTIONS)) -le 64 ] \
  || die "FLOOD_CONNECTIONS + HEALTH_CONNECTIONS must be <= 64 (max_connections_per_ip)"

secs() { # 10s, 2m, 500ms -> seconds (integer, at least 1)
  awk -v d="$1" 'BEGIN { n = d + 0
    if (d ~ /ms$/) n /= 1000; else if (d ~ /m$/) n *= 60; else if (d ~ /h$/) n *= 3600
    n = int(n + 0.5); print (n < 1) ? 1 : n }'
}
HEALTH_SECS=$(secs "$HEALTH_DURATION")

TMP=$(mktemp -d "${TMPDIR:-/tmp}/coffre-bench-login.XXXXXX")
COFFRE_PID=
FLOOD_PID=
PW_PIDS=

stop_pid() {
  # Stop one process we started: SIGTERM, wait a bounded time, then SIGKILL.
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid
  stop_pid "$FLOOD_PID"
  for pid in $PW_PIDS; do stop_pid "$pid"; done
  stop_pid "$COFFRE_PID"
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    echo "bench login: temporary files kept in $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
PORT=${PORT:-$(free_port)}
BASE=https://127.0.0.1:$PORT

# ---------------------------------------------------------------- coffre
DATA=$TMP/coffre-data
"$COFFRE_BIN" init --data "$DATA" >"$TMP/coffre-init.log" 2>&1 \
  || { cat "$TMP/coffre-init.log" >&2; die "coffre init failed"; }
# Rate limits off and the IP ban out of reach: the benchmark logs in from
# one address many times a second. A deeper queue so that a flood is
# queued, not refused (the default is 64).
cat >"$DATA/coffre.conf" <<'EOF'
[limits]
read_per_minute = 0
write_per_minute = 0
auth_per_minute = 0
[auth]
ip_ban_failures = 100000
[workers]
queue = 1024
EOF
"$COFFRE_BIN" tenant create acme --owner "$OWNER" --data "$DATA" \
  >"$TMP/tenant.out" 2>"$TMP/tenant.log" \
  || { cat "$TMP/tenant.out" "$TMP/tenant.log" >&2; die "coffre tenant create failed"; }
TOKEN=$(sed -n 's|^setup: https://[^ ]*/setup#\([A-Za-z0-9_-]*\)$|\1|p' "$TMP/tenant.out" | head -n1)
[ -n "$TOKEN" ] || { cat "$TMP/tenant.out" >&2; die "no setup link in the output of coffre tenant create"; }

# One JSON log line per request: send the log to a file, not the terminal.
"$COFFRE_BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" \
  >"$TMP/coffre.out" 2>"$TMP/coffre.log" &
COFFRE_PID=$!
for _ in $(seq 1 150); do
  kill -0 "$COFFRE_PID" 2>/dev/null \
    || die "coffre exited during start-up (log: $TMP/coffre.log; KEEP_TMP=1 keeps it)"
  if curl -ksf -o /dev/null --max-time 2 -H "Host: localhost:$PORT" "$BASE/healthz"; then
    break
  fi
  sleep 0.1
done
head_c=$(curl -ksi -H "Host: localhost:$PORT" "$BASE/healthz" || true)
case "$head_c" in
  *[Xx]-[Rr]equest-[Ii]d:*) ;;
  *) die "the server on port $PORT is not our coffre (or it did not start within 15 s)" ;;
esac

TENANT_HOST=acme.localhost:$PORT
post() { # $1 path, $2 JSON body; prints the body then the status code
  curl -ks --max-time 30 -H "Host: $TENANT_HOST" -H 'Content-Type: application/json' \
    --data-binary "$2" -w '\n%{http_code}' "$BASE$1"
}
answer=$(post /api/v1/auth/setup "{\"token\":\"$TOKEN\",\"password\":\"$PASSWORD\"}")
[ "${answer##*$'\n'}" = 200 ] || die "POST /api/v1/auth/setup answered: $answer"
LOGIN_BODY="{\"email\":\"$OWNER\",\"password\":\"$PASSWORD\"}"
answer=$(post /api/v1/auth/login "$LOGIN_BODY")
[ "${answer##*$'\n'}" = 200 ] || die "POST /api/v1/auth/login answered: $answer"

# wrk script: POST the login, count the answers by status in every thread,
# and print the totals at the end (wrk's own summary only says "non-2xx").
cat >"$TMP/login.lua" <<EOF
wrk.method = "POST"
wrk.body = '$LOGIN_BODY'
wrk.headers["Host"] = "$TENANT_HOST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) s200 = 0; s503 = 0; sother = 0; last_other = 0 end
function response(status, headers, body)
  if status == 200 then s200 = s200 + 1
  elseif status == 503 then s503 = s503 + 1
  else sother = sother + 1; last_other = status end
end
function done(summary, latency, requests)
  local a, b, c, last = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s200"); b = b + t:get("s503"); c = c + t:get("sother")
    if t:get("last_other") ~= 0 then last = t:get("last_other") end
  end
  io.write(string.format("LOGIN-STATUS %d %d %d %d %.3f\n", a, b, c, last,
                         summary.duration / 1e6))
end
EOF

# ---------------------------------------------------------------- helpers
# CPU accounting (clock ticks): a process of ours, and the whole machine; on
# a shared machine, "other" tells whether a run was disturbed.
TICK=$(getconf CLK_TCK 2>/dev/null || echo 100)
NCPU=$(nproc)
busy_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
proc_ticks() { # utime+stime of a process (all its threads)
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# pct TICKS NS: CPU share (100 = one core) of TICKS over NS nanoseconds
pct() { awk -v t="$1" -v ns="$2" -v tick="$TICK" 'BEGIN { printf "%.0f", (ns > 0) ? 100 * t / tick / (ns / 1e9) : 0 }'; }
cpu_busy() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  echo "$a $b" | awk '{ busy = $3 - $1; idle = $4 - $2; t = busy + idle; printf "%d", (t > 0) ? 100 * busy / t : 0 }'
}
# wrk latency ("850.00us", "1.20ms", "2.00s", "1.00m") -> milliseconds
WRK_MS='function ms(v,  n) { n = v + 0
  if (v ~ /us$/) return n / 1000; if (v ~ /ms$/) return n
  if (v ~ /[0-9]s$/) return n * 1000; if (v ~ /[0-9]m$/) return n * 60000; return n }'
# parse_wrk FILE: "rps p50_ms p99_ms non2xx" and socket errors on stderr
parse_wrk() {
  awk "$WRK_MS"'
    /Requests\/sec:/            { rps = $2 }
    /^[[:space:]]+50%/          { p50 = ms($2) }
    /^[[:space:]]+99%/          { p99 = ms($2) }
    /Socket errors:/            { err = $0; sub(/.*Socket errors:[[:space:]]*/, "", err) }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    END {
      printf "%s %s %s %s\n", (rps == "" ? 0 : rps), (p50 == "" ? "-" : p50),
        (p99 == "" ? "-" : p99), (non2xx == "" ? 0 : non2xx)
      if (err != "") printf "socket errors: %s\n", err > "/dev/stderr"
    }' "$1"
}
# login_status FILE: "n200 n503 nother last_other seconds" (zeros if absent)
login_status() {
  awk '/^LOGIN-STATUS / { print $2, $3, $4, $5, $6; found = 1 }
       END { if (!found) print 0, 0, 0, 0, 0 }' "$1"
}
fmt_status() { # n200 n503 nother last_other
  printf '200: %s' "$1"
  [ "$2" = 0 ] || printf ', 503 (worker queue full): %s' "$2"
  [ "$3" = 0 ] || printf ', other: %s (last status %s)' "$3" "$4"
}
disturbed() { [ "$1" -le 10 ] || printf '   (disturbed: other work on the machine)'; }

# When wrk stops, the logins it had in flight are still queued in coffre's
# worker pool and get hashed anyway (up to CONNECTIONS x a hash time): wait
# until coffre is idle (under 10 % of a core over half a second, at most
# 60 s) so that this work does not land in the next measurement.
wait_coffre_idle() {
  local a b
  for _ in $(seq 1 120); do
    a=$(proc_ticks "$COFFRE_PID"); sleep 0.5; b=$(proc_ticks "$COFFRE_PID")
    [ $(( (b - a) * 100 / TICK )) -ge 5 ] || return 0
  done
  echo "  (coffre still busy 60 s after the load stopped)"
}

# pwhash_run ROUND: raw ms/hash on one core, then two processes side by side.
pwhash_run() {
  local round=$1
  local out=$TMP/pwhash.$1 b0 b1 t0 t1 cpu other raw rawcpu ours p1 p2 par
  local TIMEFORMAT='%U %S'
  b0=$(busy_ticks); t0=$(date +%s%N)
  { time "$PWHASH_BIN" 64 2 "$PWHASH_ROUNDS" >"$out" 2>&1; } 2>"$out.time" \
    || die "pwhash failed: $(cat "$out")"
  t1=$(date +%s%N); b1=$(busy_ticks)
  cpu=$(awk -v tick="$TICK" '{ printf "%.0f", ($1 + $2) * tick }' "$out.time")
  other=$(pct $(( (b1 - b0) > cpu ? (b1 - b0) - cpu : 0 )) $((t1 - t0)))
  raw=$(awk '/crypto_pwhash_str/ { print $3 }' "$out")
  # CPU per hash: the process hashes 2 x PWHASH_ROUNDS times (raw, then
  # coffre's wrapper around the same call)
  rawcpu=$(awk -v n="$PWHASH_ROUNDS" '{ printf "%.2f", ($1 + $2) * 1000 / (2 * n) }' "$out.time")
  ours=$(awk '/cx_pwhash/ { print $3 }' "$out")
  [ -n "$raw" ] || die "no figure in the output of $PWHASH_BIN: $(cat "$out")"
  # two at once: the raw figure of each (informational)
  "$PWHASH_BIN" 64 2 "$PWHASH_ROUNDS" >"$out.p1" 2>&1 &
  p1=$!
  "$PWHASH_BIN" 64 2 "$PWHASH_ROUNDS" >"$out.p2" 2>&1 &
  p2=$!
  PW_PIDS="$p1 $p2"
  wait "$p1" || true
  wait "$p2" || true
  PW_PIDS=
  par=$(awk '/crypto_pwhash_str/ { s += $3; n++ } END { if (n == 2) printf "%.2f", s / n; else print "-" }' "$out.p1" "$out.p2")
  # raw_ms ours_ms par_ms other% cpu_ms_per_hash
  echo "$raw $ours $par $other $rawcpu" >"$TMP/res-pwhash.$round"
}

# login_run ROUND: the successful-login rate at CONNECTIONS.
login_run() {
  local round=$1
  local out=$TMP/wrk-login.$1 b0 b1 s0 s1 t0 t1 wrkcpu srv other
  local n200 n503 nother last dur rate
  local TIMEFORMAT='%U %S'
  s0=$(proc_ticks "$COFFRE_PID"); b0=$(busy_ticks); t0=$(date +%s%N)
  { time wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency \
      -s "$TMP/login.lua" "$BASE/api/v1/auth/login" >"$out" 2>&1 || true; } 2>"$out.time"
  t1=$(date +%s%N); b1=$(busy_ticks); s1=$(proc_ticks "$COFFRE_PID")
  wrkcpu=$(awk -v tick="$TICK" '{ printf "%.0f", ($1 + $2) * tick }' "$out.time")
  srv=$((s1 - s0))
  other=$(( (b1 - b0) - srv - wrkcpu )); [ "$other" -ge 0 ] || other=0
  read -r n200 n503 nother last dur < <(login_status "$out")
  rate=$(awk -v n="$n200" -v s="$dur" 'BEGIN { printf "%.2f", (s > 0) ? n / s : 0 }')
  # rate n200 n503 nother last server% wrk% other% logins-per-server-cpu-s
  echo "$rate $n200 $n503 $nother $last $(pct "$srv" $((t1 - t0))) $(pct "$wrkcpu" $((t1 - t0))) \
$(pct "$other" $((t1 - t0))) $(awk -v n="$n200" -v t="$srv" -v tick="$TICK" 'BEGIN { printf "%.2f", (t > 0) ? n / (t / tick) : 0 }')" \
    >"$TMP/res-login.$round"
  parse_wrk "$out" >"$TMP/wrk-login.$round.parsed" 2>"$TMP/err-login.$round"
}

# health_run NAME ROUND: /healthz, wrk -t1 -c HEALTH_CONNECTIONS
health_run() {
  local name=$1 round=$2 out=$TMP/wrk-$1.$2 s0 s1 b0 b1 t0 t1 wrkcpu other
  local TIMEFORMAT='%U %S'
  s0=$(proc_ticks "$COFFRE_PID"); b0=$(busy_ticks); t0=$(date +%s%N)
  { time wrk -t1 -c"$HEALTH_CONNECTIONS" -d"$HEALTH_DURATION" --latency \
      -H "Host: localhost:$PORT" "$BASE/healthz" >"$out" 2>&1 || true; } 2>"$out.time"
  t1=$(date +%s%N); b1=$(busy_ticks); s1=$(proc_ticks "$COFFRE_PID")
  wrkcpu=$(awk -v tick="$TICK" '{ printf "%.0f", ($1 + $2) * tick }' "$out.time")
  # other: everything but coffre and this wrk (the flood's wrk, a few
  # requests a second, counts here)
  other=$(( (b1 - b0) - (s1 - s0) - wrkcpu )); [ "$other" -ge 0 ] || other=0
  # rps p50 p99 non2xx coffre% wrk% other%
  echo "$(parse_wrk "$out" 2>"$TMP/err-$name.$round") $(pct $((s1 - s0)) $((t1 - t0))) \
$(pct "$wrkcpu" $((t1 - t0))) $(pct "$other" $((t1 - t0)))" >"$TMP/res-$name.$round"
}

# ---------------------------------------------------------------- runs
BUSY=$(cpu_busy)
echo "bench login: Argon2id m=64 MiB t=2; POST /api/v1/auth/login and GET /healthz over HTTPS"
echo "  machine: $NCPU cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), kernel $(uname -r)"
echo "  $("$COFFRE_BIN" version 2>/dev/null | head -n1) on 127.0.0.1:$PORT, [workers] threads = 2 (default), queue = 1024"
echo "  logins: wrk -t$THREADS -c$CONNECTIONS -d$DURATION -s login.lua (right credentials); healthz: wrk -t1 -c$HEALTH_CONNECTIONS -d$HEALTH_DURATION --latency"
echo "  (wrk, coffre and pwhash share the same $NCPU cores)"
if [ "$BUSY" -gt 15 ]; then
  echo "  WARNING: the CPUs were ${BUSY}% busy before the runs (other work on this machine): figures are unreliable"
fi

for round in $(seq 1 "$ROUNDS"); do
  [ "$ROUNDS" = 1 ] || echo "round $round/$ROUNDS"

  # 1. raw Argon2id
  wait_coffre_idle
  pwhash_run "$round"
  read -r raw ours par pw_other rawcpu <"$TMP/res-pwhash.$round"
  raw1=$(awk -v m="$raw" 'BEGIN { printf "%.2f", 1000 / m }')
  raw2=$(awk -v m="$raw" -v c="$CORES" 'BEGIN { printf "%.2f", c * 1000 / m }')
  echo "$raw2" >"$TMP/raw2.$round"
  printf '  raw       crypto_pwhash_str %7.2f ms/hash = %6.2f hashes/s on 1 core, ceiling %6.2f hashes/s on %d cores%s\n' \
    "$raw" "$raw1" "$raw2" "$CORES" "$(disturbed "$pw_other")"
  printf '            (CPU %s ms/hash; coffre cx_pwhash %.2f ms/hash; 2 pwhash processes at once: %s ms/hash each = %s hashes/s)\n' \
    "$rawcpu" "$ours" "$par" "$(awk -v m="$par" 'BEGIN { if (m + 0 > 0) printf "%.2f", 2000 / m; else print "-" }')"

  # 2. successful logins per second
  login_run "$round"
  read -r rate n200 n503 nother last srv wrkc other eff <"$TMP/res-login.$round"
  read -r _ lp50 lp99 _ <"$TMP/wrk-login.$round.parsed"
  ratio=$(awk -v c="$rate" -v r="$raw2" 'BEGIN { if (r > 0) printf "%.3f", c / r; else print "0" }')
  echo "$ratio" >"$TMP/ratio-login.$round"
  printf '  coffre    %7.2f logins/s (%s)   p50 %s ms   p99 %s ms   cpu: coffre %s%% wrk %s%% other %s%%%s\n' \
    "$rate" "$(fmt_status "$n200" "$n503" "$nother" "$last")" "$lp50" "$lp99" "$srv" "$wrkc" "$other" "$(disturbed "$other")"
  if [ -s "$TMP/err-login.$round" ]; then echo "            $(cat "$TMP/err-login.$round")"; fi
  printf '            %s logins per coffre CPU-second (raw: %s hashes per CPU-second); ratio to the 2-core ceiling %s\n' \
    "$eff" "$(awk -v m="$rawcpu" 'BEGIN { if (m > 0) printf "%.2f", 1000 / m; else print "-" }')" "$ratio"

  # 3. /healthz idle, then under a login flood
  wait_coffre_idle
  health_run health-idle "$round"
  flood_secs=$((HEALTH_SECS + 4))
  wrk -t"$THREADS" -c"$FLOOD_CONNECTIONS" -d"${flood_secs}s" --timeout 30s \
    -s "$TMP/login.lua" "$BASE/api/v1/auth/login" >"$TMP/wrk-flood.$round" 2>&1 &
  FLOOD_PID=$!
  sleep 2 # the flood fills the worker queue
  health_run health-flood "$round"
  wait "$FLOOD_PID" || true
  FLOOD_PID=
  read -r fn200 fn503 fnother flast fsecs < <(login_status "$TMP/wrk-flood.$round")
  for name in health-idle health-flood; do
    read -r rps p50 p99 non2xx srv wrkc other <"$TMP/res-$name.$round"
    printf '  healthz %-6s %9s req/s   p50 %7s ms   p99 %7s ms   cpu: coffre %s%% wrk %s%% other %s%%%s' \
      "${name#health-}" "$rps" "$p50" "$p99" "$srv" "$wrkc" "$other" "$(disturbed "$other")"
    [ "$non2xx" = 0 ] || printf '   NON-2xx: %s' "$non2xx"
    if [ -s "$TMP/err-$name.$round" ]; then printf '   %s' "$(cat "$TMP/err-$name.$round")"; fi
    printf '\n'
  done
  printf '  login flood  wrk -t%s -c%s -d%ss: %s logins/s, %s\n' "$THREADS" "$FLOOD_CONNECTIONS" "$flood_secs" \
    "$(awk -v n="$fn200" -v s="$fsecs" 'BEGIN { printf "%.2f", (s > 0) ? n / s : 0 }')" \
    "$(fmt_status "$fn200" "$fn503" "$fnother" "$flast")"
  if [ "$fn503" = 0 ]; then echo "            no 503 from the worker pool during the flood"; fi
  idle99=$(cut -d' ' -f3 "$TMP/res-health-idle.$round")
  flood99=$(cut -d' ' -f3 "$TMP/res-health-flood.$round")
  awk -v f="$flood99" -v i="$idle99" 'BEGIN { if (i + 0 > 0 && f != "-") printf "%.2f\n", f / i; else print "0" }' \
    >"$TMP/ratio-p99.$round"
  echo "  healthz p99 flood/idle: $(cat "$TMP/ratio-p99.$round")"
  kill -0 "$COFFRE_PID" 2>/dev/null || die "coffre died during the benchmark (log: $TMP/coffre.log)"
done

median() { # median of field $1 of the files that follow
  local field=$1 f
  shift
  for f in "$@"; do cut -d' ' -f"$field" "$f"; done | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
C_RATE=$(median 1 "$TMP"/res-login.*)
RAW2=$(median 1 "$TMP"/raw2.*)
RATIO=$(median 1 "$TMP"/ratio-login.* | awk '{ printf "%.2f", $1 }')
IDLE99=$(median 3 "$TMP"/res-health-idle.*)
FLOOD99=$(median 3 "$TMP"/res-health-flood.*)
P99RATIO=$(median 1 "$TMP"/ratio-p99.* | awk '{ printf "%.2f", $1 }')
met() { awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN {
  ok = (op == ">=") ? (v + 0 >= g) : (v + 0 > 0 && v + 0 <= g); print ok ? "met" : "NOT met" }'; }

[ "$ROUNDS" = 1 ] || echo "medians over $ROUNDS rounds (of each figure, and of each round's ratios):"
echo "goal: coffre logins/s >= $GOAL_RATE x raw $CORES-core hash rate: $(met "$RATIO" "$GOAL_RATE" ">=") (ratio $RATIO)"
echo "goal: healthz p99 under login flood <= ${GOAL_P99}x idle: $(met "$P99RATIO" "$GOAL_P99" "<=") (ratio $P99RATIO)"
echo "bench login: coffre $C_RATE logins/s, raw $RAW2 hashes/s ($CORES cores), ratio $RATIO; healthz p99 idle $IDLE99 ms, flood $FLOOD99 ms, ratio $P99RATIO"
exit 0
