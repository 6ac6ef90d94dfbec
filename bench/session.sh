#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# shellcheck disable=SC2317  # cleanup runs from a trap
# Session benchmark: what a signed-in request costs, against nginx serving
# a constant JSON answer over HTTPS in the same run (bench/nginx.conf.in,
# as bench/http.sh) and against coffre's own anonymous GET /healthz.
#
# One `coffre serve` (rate limits off, log level warn, the tenant's 2FA
# policy optional), an owner with a session cookie and an API token, a
# few spaces, and a member holding role.manage through a custom role
# granted to a group that contains the member's group. Routes, each run
# with the same wrk settings:
#   nginx    GET /healthz on nginx (the baseline)
#   healthz  GET /healthz on coffre's platform host (no session)
#   me       GET /api/v1/me with the owner's cookie (session found by its
#            keyed hash, the account read, its e-mail unsealed, the
#            tenant's policy read, the grants reaching the account read)
#   spaces   GET /api/v1/spaces with the owner's cookie (a list: every
#            space's name unsealed, the principal's permissions in each)
#   token    GET /api/v1/permissions with Authorization: Bearer
#   own      GET /api/v1/admin/roles by the owner (its role holds
#            role.manage: the gate decides without a query)
#   grant    GET /api/v1/admin/roles by the member (the gate reads the
#            grants through nested groups)
#   nlist    GET /spaces.json on nginx: a file holding the bytes of
#            coffre's GET /api/v1/spaces answer in this run, so that the
#            list can also be compared with nginx sending as many bytes
# Rounds alternate the order (nginx first in odd rounds, last in even
# ones), and each route's ratio to nginx is taken within its round.
# Reported: req/s, p50, p99 per run; the ratio of each route to nginx and
# to coffre's /healthz; medians over the rounds.
#
# Environment: DURATION (10s), CONNECTIONS (64), THREADS (2), ROUNDS (3),
# ROUTES (all of the above, space-separated; nginx is always run),
# SPACES (5: spaces created for the list), COFFRE_BIN (build/coffre),
# NGINX (nginx), KEEP_TMP=1 keeps the temporary directory.
# A benchmark reports; it exits 0 unless it could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
ROUTES=${ROUTES:-healthz me spaces nlist token own grant}
SPACES=${SPACES:-5}
COFFRE_BIN=${COFFRE_BIN:-build/coffre}
NGINX=${NGINX:-nginx}
OWNER=bench@acme.example
PASSWORD=violet-Tambour-glacier-47-mirabelle
GOAL=0.6

die() { echo "bench session: $*" >&2; exit 1; }
for tool in wrk curl openssl "$NGINX"; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
[ -x "$COFFRE_BIN" ] || die "missing $COFFRE_BIN (run: make build/coffre)"
for r in $ROUTES; do
  case $r in
    healthz | me | spaces | nlist | token | own | grant) ;;
    *) die "unknown route '$r' in ROUTES" ;;
  esac
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/coffre-bench-session.XXXXXX")
COFFRE_PID=
NGINX_PID=
stop_pid() {
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
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
PORT=$(free_port)
NPORT=$(free_port)
while [ "$NPORT" = "$PORT" ]; do NPORT=$(free_port); done
BASE=https://127.0.0.1:$PORT
DATA=$TMP/data
"$COFFRE_BIN" init --data "$DATA" >"$TMP/init.log" 2>&1 || die "coffre init failed"
# optional 2FA must be allowed by the operator before a tenant may choose it
cat >"$DATA/coffre.conf" <<'EOF'
[limits]
read_per_minute = 0
write_per_minute = 0
auth_per_minute = 0
[auth]
mfa_optional = 1
[log]
level = warn
EOF
"$COFFRE_BIN" tenant create acme --owner "$OWNER" --data "$DATA" \
  >"$TMP/tenant.out" 2>"$TMP/tenant.log" || die "coffre tenant create failed"
TOKEN=$(sed -n 's|^setup: https://[^ ]*/setup#\([A-Za-z0-9_-]*\)$|\1|p' "$TMP/tenant.out")
[ -n "$TOKEN" ] || die "no setup link"
# the benchmark signs in without 2FA: the owner may use admin routes
"$COFFRE_BIN" tenant policy acme mfa=optional --data "$DATA" >"$TMP/policy.log" 2>&1 \
  || die "coffre tenant policy failed (log: $TMP/policy.log)"
"$COFFRE_BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" \
  >"$TMP/serve.out" 2>"$TMP/serve.log" &
COFFRE_PID=$!
for _ in $(seq 1 150); do
  curl -ksf -o /dev/null --max-time 2 -H "Host: localhost:$PORT" "$BASE/healthz" && break
  kill -0 "$COFFRE_PID" 2>/dev/null || die "coffre exited (log: $TMP/serve.log)"
  sleep 0.1
done

# ---------------------------------------------------------------- nginx
# As bench/http.sh: a self-signed ECDSA P-256 certificate, 2 workers,
# TLS 1.2/1.3 ECDHE+AEAD, keep-alive, GET /healthz answers {"status":"ok"}.
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp" "$TMP/nginx/www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$TMP/nginx/key.pem" -out "$TMP/nginx/cert.pem" -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
  >/dev/null 2>&1 || die "openssl could not make the nginx certificate"
NGINX_USER=
if [ "$(id -u)" = 0 ]; then
  NGINX_USER="user $(id -un) $(id -gn);"
fi
sed -e "s|@PREFIX@|$TMP/nginx|g" -e "s|@PORT@|$NPORT|g" \
  -e "s|@USER@|$NGINX_USER|g" "$ROOT/bench/nginx.conf.in" >"$TMP/nginx/nginx.conf"
"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" \
  -c "$TMP/nginx/nginx.conf" >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 150); do
  curl -ksf -o /dev/null --max-time 2 "https://127.0.0.1:$NPORT/healthz" && break
  kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited (log: $TMP/nginx/logs/error.log)"
  sleep 0.1
done

# ---------------------------------------------------------------- accounts
HOST=acme.localhost:$PORT
curl -ks -o /dev/null -w '%{http_code}' -H "Host: $HOST" -H 'Content-Type: application/json' \
  --data-binary "{\"token\":\"$TOKEN\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/setup" \
  | grep -q 200 || die "setup failed"
COOKIE=$(curl -ks -D - -o /dev/null -H "Host: $HOST" -H 'Content-Type: application/json' \
  --data-binary "{\"email\":\"$OWNER\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-coffre_session=[^;]*\).*/\1/p' | tr -d '\r')
[ -n "$COOKIE" ] || die "login failed"
CSRF=$(curl -ks -H "Host: $HOST" -H "Cookie: $COOKIE" "$BASE/api/v1/me" \
  | sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p')
PAT=$(curl -ks -H "Host: $HOST" -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" \
  -H 'Content-Type: application/json' \
  --data-binary '{"name":"bench","permissions":["audit.read"]}' "$BASE/api/v1/me/tokens" \
  | sed -n 's/.*"token":"\(coffre_pat_[A-Za-z0-9_-]*\)".*/\1/p')
[ -n "$PAT" ] || die "token creation failed"

api() { # method, path, body (as the owner)
  curl -ks -X "$1" -H "Host: $HOST" -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" \
    -H 'Content-Type: application/json' --data-binary "$3" "$BASE$2"
}
field_id() { sed -n 's/^{"[a-z]*":{"id":"\([0-9a-f]*\)".*/\1/p'; }

# the spaces the list shows
for i in $(seq 1 "$SPACES"); do
  api POST /api/v1/spaces "{\"name\":\"Space $i\"}" | grep -q '"space"' \
    || die "space creation failed"
done

# the list's bytes, for nginx to send as a file (route nlist)
curl -ks -H "Host: $HOST" -H "Cookie: $COOKIE" "$BASE/api/v1/spaces" >"$TMP/nginx/www/spaces.json"
grep -q '"spaces"' "$TMP/nginx/www/spaces.json" || die "could not read the list"

# a member whose role.manage comes from a grant to an outer group
MEMBER=member@acme.example
MTOKEN=$("$COFFRE_BIN" tenant owner acme "$MEMBER" --data "$DATA" 2>/dev/null \
  | sed -n 's|^setup: https://[^ ]*/setup#\([A-Za-z0-9_-]*\)$|\1|p')
curl -ks -o /dev/null -H "Host: $HOST" -H 'Content-Type: application/json' \
  --data-binary "{\"token\":\"$MTOKEN\",\"password\":\"$PASSWORD\"}" \
  "$BASE/api/v1/auth/setup"
MID=$(api GET /api/v1/admin/users '' | grep -o '"id":"[0-9a-f]*","email":"member@acme.example"' \
  | sed 's/"id":"\([0-9a-f]*\)".*/\1/')
[ -n "$MID" ] || die "no member account"
api PATCH "/api/v1/admin/users/$MID" '{"role":"member"}' | grep -q '"role":"member"' \
  || die "could not make the account a member"
ROLE=$(api POST /api/v1/admin/roles '{"name":"Managers","permissions":["role.manage"]}' | field_id)
INNER=$(api POST /api/v1/admin/groups "{\"name\":\"Inner\",\"members\":[\"$MID\"]}" | field_id)
OUTER=$(api POST /api/v1/admin/groups "{\"name\":\"Outer\",\"groups\":[\"$INNER\"]}" | field_id)
api POST /api/v1/admin/grants "{\"group\":\"$OUTER\",\"role\":\"$ROLE\"}" | grep -q '"grant"' \
  || die "grant failed"
MCOOKIE=$(curl -ks -D - -o /dev/null -H "Host: $HOST" -H 'Content-Type: application/json' \
  --data-binary "{\"email\":\"$MEMBER\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-coffre_session=[^;]*\).*/\1/p' | tr -d '\r')
[ -n "$MCOOKIE" ] || die "member login failed"

# ---------------------------------------------------------------- runs
WRK_MS='function ms(v,  n) { n = v + 0
  if (v ~ /us$/) return n / 1000; if (v ~ /ms$/) return n
  if (v ~ /[0-9]s$/) return n * 1000; return n }'
run() { # name, round, then wrk arguments; writes "rps p50 p99 non2xx" to $TMP/res-name.round
  local name=$1 round=$2
  shift 2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$TMP/$name.$round.wrk" 2>&1 || true
  awk "$WRK_MS"'
    /Requests\/sec:/ { rps = $2 } /^[[:space:]]+50%/ { p50 = ms($2) }
    /^[[:space:]]+99%/ { p99 = ms($2) } /Non-2xx or 3xx responses:/ { bad = $NF }
    END { printf "%s %s %s %s\n", (rps == "" ? 0 : rps), (p50 == "" ? 0 : p50),
      (p99 == "" ? 0 : p99), (bad == "" ? 0 : bad) }' "$TMP/$name.$round.wrk" >"$TMP/res-$name.$round"
}
run_route() { # name, round
  case $1 in
    nginx) run nginx "$2" "https://127.0.0.1:$NPORT/healthz" ;;
    healthz) run healthz "$2" -H "Host: localhost:$PORT" "$BASE/healthz" ;;
    me) run me "$2" -H "Host: $HOST" -H "Cookie: $COOKIE" "$BASE/api/v1/me" ;;
    spaces) run spaces "$2" -H "Host: $HOST" -H "Cookie: $COOKIE" "$BASE/api/v1/spaces" ;;
    nlist) run nlist "$2" "https://127.0.0.1:$NPORT/spaces.json" ;;
    token) run token "$2" -H "Host: $HOST" -H "Authorization: Bearer $PAT" "$BASE/api/v1/permissions" ;;
    own) run own "$2" -H "Host: $HOST" -H "Cookie: $COOKIE" "$BASE/api/v1/admin/roles" ;;
    grant) run grant "$2" -H "Host: $HOST" -H "Cookie: $MCOOKIE" "$BASE/api/v1/admin/roles" ;;
  esac
}
describe() {
  case $1 in
    nginx) echo "GET /healthz on nginx" ;;
    healthz) echo "GET /healthz (no session)" ;;
    me) echo "GET /api/v1/me (cookie)" ;;
    spaces) echo "GET /api/v1/spaces (cookie, $SPACES spaces)" ;;
    nlist) echo "GET /spaces.json on nginx (the same $(wc -c <"$TMP/nginx/www/spaces.json") bytes as a file)" ;;
    token) echo "GET /api/v1/permissions (token)" ;;
    own) echo "GET /api/v1/admin/roles (owner: its role)" ;;
    grant) echo "GET /api/v1/admin/roles (member: a grant)" ;;
  esac
}
rps_of() { cut -d' ' -f1 "$TMP/res-$1.$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f\n", a / b; else print 0 }'; }

cpu_busy() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  echo "$a $b" | awk '{ busy = $3 - $1; idle = $4 - $2; t = busy + idle; printf "%d", (t > 0) ? 100 * busy / t : 0 }'
}
BUSY=$(cpu_busy)

echo "bench session: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds, $(nproc) CPUs"
echo "  $("$COFFRE_BIN" version 2>/dev/null | head -n1) ($COFFRE_BIN), $("$NGINX" -v 2>&1)"
[ "$BUSY" -le 15 ] || echo "  WARNING: the CPUs were ${BUSY}% busy before the runs: figures are unreliable"
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order="nginx $ROUTES"; else order="$(echo "$ROUTES" | tr ' ' '\n' | tac | paste -sd' ') nginx"; fi
  echo "round $r/$ROUNDS"
  for name in $order; do
    run_route "$name" "$r"
  done
  n_rps=$(rps_of nginx "$r")
  for name in nginx $ROUTES; do
    read -r rps p50 p99 bad <"$TMP/res-$name.$r"
    [ "$bad" = 0 ] || die "non-2xx answers on $name: $bad (wrk output: $TMP/$name.$r.wrk; KEEP_TMP=1 keeps it)"
    extra=
    if [ "$name" != nginx ]; then
      ratio "$rps" "$n_rps" >"$TMP/ratio-$name.$r"
      extra="  /nginx $(cat "$TMP/ratio-$name.$r")"
      if [ -f "$TMP/res-healthz.$r" ] && [ "$name" != healthz ]; then
        extra="$extra  /healthz $(ratio "$rps" "$(rps_of healthz "$r")")"
      fi
    fi
    printf '  %-8s %8.0f req/s  p50 %7.3f ms  p99 %7.3f ms%s\n' "$name" "$rps" "$p50" "$p99" "$extra"
  done
done

median() { # median of the numbers on stdin
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
    else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "medians over $ROUNDS rounds (req/s of each run; ratio to nginx of each round):"
N_MED=$(for r in $(seq 1 "$ROUNDS"); do rps_of nginx "$r"; done | median)
printf '  %-8s %8.0f req/s  %s\n' nginx "$N_MED" "$(describe nginx)"
for name in $ROUTES; do
  m=$(for r in $(seq 1 "$ROUNDS"); do rps_of "$name" "$r"; done | median)
  q=$(cat "$TMP"/ratio-"$name".* | median)
  printf '  %-8s %8.0f req/s  ratio %.2f  %s\n' "$name" "$m" "$q" "$(describe "$name")"
  echo "$q" >"$TMP/median-$name"
done
for name in me spaces; do
  case " $ROUTES " in *" $name "*) ;; *) continue ;; esac
  q=$(cat "$TMP/median-$name")
  met=$(awk -v r="$q" -v g="$GOAL" 'BEGIN { print (r + 0 >= g) ? "met" : "NOT met" }')
  echo "goal: $(describe "$name") >= $GOAL of nginx: $met (ratio $(printf '%.2f' "$q"))"
done
if [ -f "$TMP/median-spaces" ] && [ -f "$TMP/median-nlist" ]; then
  q=$(for r in $(seq 1 "$ROUNDS"); do ratio "$(rps_of spaces "$r")" "$(rps_of nlist "$r")"; done | median)
  echo "the list against nginx sending its bytes (spaces / nlist, median of the rounds): $(printf '%.2f' "$q")"
fi
echo "bench session: ratios to nginx:$(for name in $ROUTES; do printf ' %s %.2f' "$name" "$(cat "$TMP/median-$name")"; done)"
exit 0
