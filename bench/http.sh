#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# shellcheck disable=SC2317  # cleanup and helpers run from traps
# HTTP benchmark: coffre against nginx, over HTTPS on loopback, in one run.
#
# Both servers answer GET /healthz with {"status":"ok"} over TLS (ECDSA P-256
# certificate, TLS 1.2/1.3, ECDHE + AEAD only, HTTP/1.1 keep-alive). wrk
# loads each one in turn with the same settings; the script prints req/s,
# latency p50/p99 and the ratio coffre/nginx. The goal is a ratio >= 0.8.
# A benchmark reports; it does not fail: the exit status is 0 whether the goal
# is met or not (non-zero only if the benchmark could not run).
#
# Environment:
#   DURATION     wrk duration                       (default 10s)
#   CONNECTIONS  wrk connections                    (default 64)
#   THREADS      wrk threads                        (default 2)
#   ROUNDS       rounds of (nginx, coffre); the summary takes the median
#                of each server's req/s and the median of the per-round
#                ratios                             (default 1)
#   COFFRE_BIN   coffre binary                      (default build/coffre)
#   NGINX        nginx binary                       (default nginx)
#   KEEP_TMP=1   keep the temporary directory (logs, configs)
#
# Notes:
# - coffre runs with its default [server] threads = 2 (coffre.conf is left as
#   `coffre init` writes it); nginx runs worker_processes 2. The machine this
#   was tuned on has 2 cores (nproc), and wrk shares them with the server
#   under test.
# - coffre's default max_connections_per_ip is 64, so CONNECTIONS above 64
#   from 127.0.0.1 will see refused connections on coffre (not on nginx).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
COFFRE_BIN=${COFFRE_BIN:-build/coffre}
NGINX=${NGINX:-nginx}
GOAL=0.8

die() { echo "bench http: $*" >&2; exit 1; }

for tool in wrk openssl curl "$NGINX"; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
[ -x "$COFFRE_BIN" ] || die "missing $COFFRE_BIN (run: make build/coffre)"
[ "$THREADS" -le "$CONNECTIONS" ] || die "THREADS ($THREADS) must be <= CONNECTIONS ($CONNECTIONS)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/coffre-bench-http.XXXXXX")
COFFRE_PID=
NGINX_PID=

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
  local rc=$?
  stop_pid "$NGINX_PID"
  stop_pid "$COFFRE_PID"
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    echo "bench http: temporary files kept in $TMP" >&2
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

PORT1=${PORT1:-$(free_port)}   # coffre
PORT2=${PORT2:-$(free_port)}   # nginx
while [ "$PORT2" = "$PORT1" ]; do PORT2=$(free_port); done

wait_healthz() {
  # $1 name, $2 pid, $3.. curl arguments
  local name=$1 pid=$2
  shift 2
  for _ in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      die "$name exited during start-up (see logs in $TMP; KEEP_TMP=1 keeps them)"
    fi
    if curl -ksf -o /dev/null --max-time 2 "$@"; then
      return 0
    fi
    sleep 0.1
  done
  die "$name did not answer /healthz within 15 s"
}

# ---------------------------------------------------------------- coffre
DATA=$TMP/coffre-data
"$COFFRE_BIN" init --data "$DATA" >"$TMP/coffre-init.log" 2>&1 \
  || { cat "$TMP/coffre-init.log" >&2; die "coffre init failed"; }
COFFRE_THREADS=$(sed -n '/^\[server\]/,/^\[/{s/^[[:space:]]*threads[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p}' "$DATA/coffre.conf" | head -n1)
COFFRE_THREADS=${COFFRE_THREADS:-2 (default)}
# One JSON log line per request: send the log to a file, not the terminal.
"$COFFRE_BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT1" \
  >"$TMP/coffre.out" 2>"$TMP/coffre.log" &
COFFRE_PID=$!
wait_healthz coffre "$COFFRE_PID" -H 'Host: localhost' "https://127.0.0.1:$PORT1/healthz"
# Make sure the answer came from our coffre (it sends X-Request-Id), not from
# another server that took the port first.
head_c=$(curl -ksi -H 'Host: localhost' "https://127.0.0.1:$PORT1/healthz" || true)
case "$head_c" in
  *[Xx]-[Rr]equest-[Ii]d:*) ;;
  *) die "the server on port $PORT1 is not our coffre" ;;
esac
kill -0 "$COFFRE_PID" 2>/dev/null || die "coffre exited during start-up (log: $TMP/coffre.log)"

# ---------------------------------------------------------------- nginx
# The same kind of certificate as coffre's: self-signed ECDSA P-256.
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$TMP/nginx/key.pem" -out "$TMP/nginx/cert.pem" -days 2 \
  -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,DNS:*.localhost" \
  >/dev/null 2>&1 || die "openssl could not make the nginx certificate"

# When run as root, nginx would switch its workers to `nobody`; keep them as
# the current user instead (the directive is only allowed, and only needed,
# for root).
NGINX_USER=
if [ "$(id -u)" = 0 ]; then
  NGINX_USER="user $(id -un) $(id -gn);"
fi
sed -e "s|@PREFIX@|$TMP/nginx|g" -e "s|@PORT@|$PORT2|g" \
    -e "s|@USER@|$NGINX_USER|g" \
    "$ROOT/bench/nginx.conf.in" >"$TMP/nginx/nginx.conf"
"$NGINX" -t -q -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" \
  -c "$TMP/nginx/nginx.conf" >"$TMP/nginx/test.log" 2>&1 \
  || { cat "$TMP/nginx/test.log" >&2; die "nginx rejected its configuration"; }
"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" \
  -c "$TMP/nginx/nginx.conf" >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
wait_healthz nginx "$NGINX_PID" "https://127.0.0.1:$PORT2/healthz"

# Both must answer the same body.
body_c=$(curl -ks -H 'Host: localhost' "https://127.0.0.1:$PORT1/healthz")
body_n=$(curl -ks "https://127.0.0.1:$PORT2/healthz")
[ "$body_c" = "$body_n" ] || echo "bench http: warning: bodies differ: coffre '$body_c', nginx '$body_n'" >&2

# ---------------------------------------------------------------- runs
# CPU accounting around each run (clock ticks): the server under test, wrk,
# and everything else on the machine. On a shared machine, "other" tells
# whether a run was disturbed; requests per server CPU-second is a figure
# that disturbance changes less than req/s.
TICK=$(getconf CLK_TCK 2>/dev/null || echo 100)
busy_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
proc_ticks() { # sum of utime+stime of the given pids (and their threads)
  local pid t=0 v
  for pid in "$@"; do
    v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
    t=$((t + v))
  done
  echo "$t"
}
server_pids() { # coffre: the process; nginx: master and workers
  # shellcheck disable=SC2046  # one pid per word
  case $1 in
    coffre) echo "$COFFRE_PID" ;;
    nginx) echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" 2>/dev/null || true) ;;
  esac
}

# run_wrk NAME URL ROUND [wrk args...]: runs wrk, stores
# "rps p50 p99 non2xx server% wrk% other% req_per_server_cpu_s" in
# $TMP/res-NAME.ROUND and socket errors in $TMP/err-NAME.ROUND.
run_wrk() {
  local name=$1 url=$2 round=$3 out b0 b1 s0 s1 t0 t1 wrk_cpu pids
  shift 3
  out=$TMP/wrk-$name.$round.txt
  pids=$(server_pids "$name")
  # shellcheck disable=SC2086
  s0=$(proc_ticks $pids)
  b0=$(busy_ticks)
  t0=$(date +%s%N)
  local TIMEFORMAT='%U %S'
  { time wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$out" 2>&1 || true; } 2>"$TMP/time-$name.$round"
  t1=$(date +%s%N)
  b1=$(busy_ticks)
  # shellcheck disable=SC2086
  s1=$(proc_ticks $pids)
  wrk_cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$TMP/time-$name.$round")
  awk -v tick="$TICK" -v ncpu="$(nproc)" -v ns="$((t1 - t0))" \
      -v srv="$((s1 - s0))" -v busy="$((b1 - b0))" -v wrkcpu="$wrk_cpu" '
    /Requests\/sec:/            { rps = $2 }
    /^[[:space:]]+50%/          { p50 = $2 }
    /^[[:space:]]+99%/          { p99 = $2 }
    /requests in/               { nreq = $1 }
    /Socket errors:/            { err = $0; sub(/.*Socket errors:[[:space:]]*/, "", err) }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    END {
      if (rps == "") rps = 0
      wall = ns / 1e9                       # seconds
      srv_s = srv / tick; busy_s = busy / tick
      other_s = busy_s - srv_s - wrkcpu; if (other_s < 0) other_s = 0
      eff = (srv_s > 0) ? nreq / srv_s : 0
      printf "%s %s %s %s %.0f %.0f %.0f %.0f\n", rps, (p50 == "" ? "-" : p50), (p99 == "" ? "-" : p99),
        (non2xx == "" ? 0 : non2xx), 100 * srv_s / wall, 100 * wrkcpu / wall, 100 * other_s / wall, eff
      if (err != "") printf "socket errors: %s\n", err > "/dev/stderr"
    }' "$out" >"$TMP/res-$name.$round" 2>"$TMP/err-$name.$round"
}

show() {
  local name=$1 round=$2 rps p50 p99 non2xx srv wrkc other eff
  read -r rps p50 p99 non2xx srv wrkc other eff <"$TMP/res-$name.$round"
  printf '  %-7s %10s req/s   p50 %8s   p99 %8s   cpu: server %3s%% wrk %3s%% other %3s%%   %6s req/server-cpu-s' \
    "$name" "$rps" "$p50" "$p99" "$srv" "$wrkc" "$other" "$eff"
  [ "$non2xx" = 0 ] || printf '   NON-2xx: %s' "$non2xx"
  if [ -s "$TMP/err-$name.$round" ]; then printf '   %s' "$(cat "$TMP/err-$name.$round")"; fi
  if [ "$other" -gt 10 ]; then printf '   (disturbed: other work on the machine)'; fi
  printf '\n'
}

# CPU busy share over one second, before the runs: the figures mean little on
# a machine that is busy with something else.
cpu_busy() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  echo "$a $b" | awk '{ busy = $3 - $1; idle = $4 - $2; t = busy + idle; printf "%d", (t > 0) ? 100 * busy / t : 0 }'
}
BUSY=$(cpu_busy)

echo "bench http: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, GET /healthz over HTTPS"
echo "  machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), kernel $(uname -r)"
echo "  $("$COFFRE_BIN" version 2>/dev/null | head -n1) on 127.0.0.1:$PORT1, [server] threads = $COFFRE_THREADS"
echo "  $("$NGINX" -v 2>&1) on 127.0.0.1:$PORT2, worker_processes 2"
echo "  (wrk, coffre and nginx share the same $(nproc) cores)"
if [ "$BUSY" -gt 15 ]; then
  echo "  WARNING: the CPUs were ${BUSY}% busy before the runs (other work on this machine): figures are unreliable"
fi

for round in $(seq 1 "$ROUNDS"); do
  [ "$ROUNDS" = 1 ] || echo "round $round/$ROUNDS"
  run_wrk nginx "https://127.0.0.1:$PORT2/healthz" "$round"
  show nginx "$round"
  run_wrk coffre "https://127.0.0.1:$PORT1/healthz" "$round" -H 'Host: localhost'
  show coffre "$round"
  # The ratio of each round: its two runs are the closest in time, so it is
  # the figure least moved by a machine whose speed drifts.
  awk '{ print $1 }' "$TMP/res-coffre.$round" "$TMP/res-nginx.$round" | paste -sd' ' |
    awk '{ printf "%s\n", ($2 > 0) ? sprintf("%.3f", $1 / $2) : 0 }' >"$TMP/ratio.$round"
  [ "$ROUNDS" = 1 ] || echo "  ratio   $(cat "$TMP/ratio.$round")"
done

kill -0 "$COFFRE_PID" 2>/dev/null || die "coffre died during the benchmark (log: $TMP/coffre.log)"
kill -0 "$NGINX_PID" 2>/dev/null || die "nginx died during the benchmark"

median() { # median of field $1 of the files that follow
  local field=$1 f
  shift
  for f in "$@"; do cut -d' ' -f"$field" "$f"; done | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", c / n; else print "n/a" }'; }
C_RPS=$(median 1 "$TMP"/res-coffre.*)
N_RPS=$(median 1 "$TMP"/res-nginx.*)
C_EFF=$(median 8 "$TMP"/res-coffre.*)
N_EFF=$(median 8 "$TMP"/res-nginx.*)
# With one round this is coffre/nginx; with more, the median of the
# per-round ratios.
RATIO=$(median 1 "$TMP"/ratio.* | awk '{ printf "%.2f", $1 }')
MET=$(awk -v r="$RATIO" -v g="$GOAL" 'BEGIN { print (r != "n/a" && r + 0 >= g) ? "met" : "NOT met" }')

[ "$ROUNDS" = 1 ] || echo "medians over $ROUNDS rounds (req/s of each server, ratio of each round):"
echo "  requests per server CPU-second: coffre $C_EFF, nginx $N_EFF, ratio $(ratio "$C_EFF" "$N_EFF")"
echo "goal: coffre/nginx req/s >= $GOAL: $MET (ratio $RATIO)"
echo "bench http: coffre $C_RPS req/s, nginx $N_RPS req/s, ratio $RATIO"
exit 0
