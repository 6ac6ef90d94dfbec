#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Session benchmark: what a signed-in request costs over an anonymous one.
# In one run against one `coffre serve`: GET /healthz (no session, the
# baseline), GET /api/v1/me with a session cookie (the session looked up
# by its keyed hash, the account read, the e-mail unsealed) and GET
# /api/v1/permissions with an API token (Bearer); and the cost of a
# permission that comes from a grant: GET /api/v1/admin/roles by the owner
# (its role holds role.manage: no query) and by a member holding
# role.manage through a custom role granted to a group that contains the
# member's group (the grants read through nested groups on every
# request). Reported: req/s, p50, p99 and the ratio of each authenticated
# route to /healthz, and of the granted route to the owner's.
#
# Environment: DURATION (10s), CONNECTIONS (16), THREADS (2), ROUNDS (3),
# COFFRE_BIN (build/coffre), KEEP_TMP=1 keeps the temporary directory.
# A benchmark reports; it exits 0 unless it could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
COFFRE_BIN=${COFFRE_BIN:-build/coffre}
OWNER=bench@acme.example
PASSWORD=violet-Tambour-glacier-47-mirabelle

die() { echo "bench session: $*" >&2; exit 1; }
for tool in wrk curl; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
[ -x "$COFFRE_BIN" ] || die "missing $COFFRE_BIN (run: make build/coffre)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/coffre-bench-session.XXXXXX")
COFFRE_PID=
cleanup() {
  local rc=$?
  if [ -n "$COFFRE_PID" ] && kill -0 "$COFFRE_PID" 2>/dev/null; then
    kill -TERM "$COFFRE_PID" 2>/dev/null || true
    wait "$COFFRE_PID" 2>/dev/null || true
  fi
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT

PORT=$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE=https://127.0.0.1:$PORT
DATA=$TMP/data
"$COFFRE_BIN" init --data "$DATA" >"$TMP/init.log" 2>&1 || die "coffre init failed"
cat >"$DATA/coffre.conf" <<'EOF'
[limits]
read_per_minute = 0
write_per_minute = 0
auth_per_minute = 0
[log]
level = warn
EOF
"$COFFRE_BIN" tenant create acme --owner "$OWNER" --data "$DATA" \
  >"$TMP/tenant.out" 2>"$TMP/tenant.log" || die "coffre tenant create failed"
TOKEN=$(sed -n 's|^setup: https://[^ ]*/setup#\([A-Za-z0-9_-]*\)$|\1|p' "$TMP/tenant.out")
[ -n "$TOKEN" ] || die "no setup link"
# the benchmark signs in without 2FA: the owner may use admin routes
"$COFFRE_BIN" tenant policy acme mfa=optional --data "$DATA" >/dev/null 2>&1 \
  || die "coffre tenant policy failed"
"$COFFRE_BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" \
  >"$TMP/serve.out" 2>"$TMP/serve.log" &
COFFRE_PID=$!
for _ in $(seq 1 150); do
  curl -ksf -o /dev/null --max-time 2 -H "Host: localhost:$PORT" "$BASE/healthz" && break
  kill -0 "$COFFRE_PID" 2>/dev/null || die "coffre exited (log: $TMP/serve.log)"
  sleep 0.1
done

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

# a member whose role.manage comes from a grant to an outer group
api() { # method, path, body (as the owner)
  curl -ks -X "$1" -H "Host: $HOST" -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" \
    -H 'Content-Type: application/json' --data-binary "$3" "$BASE$2"
}
field_id() { sed -n 's/^{"[a-z]*":{"id":"\([0-9a-f]*\)".*/\1/p'; }
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

WRK_MS='function ms(v,  n) { n = v + 0
  if (v ~ /us$/) return n / 1000; if (v ~ /ms$/) return n
  if (v ~ /[0-9]s$/) return n * 1000; return n }'
run() { # name, then extra wrk arguments; prints "rps p50 p99 non2xx"
  local name=$1; shift
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$TMP/$name.wrk" 2>&1
  awk "$WRK_MS"'
    /Requests\/sec:/ { rps = $2 } /^[[:space:]]+50%/ { p50 = ms($2) }
    /^[[:space:]]+99%/ { p99 = ms($2) } /Non-2xx or 3xx responses:/ { bad = $NF }
    END { printf "%s %s %s %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }' "$TMP/$name.wrk"
}

echo "bench session: wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds, $(nproc) CPUs"
: >"$TMP/ratios"
for r in $(seq 1 "$ROUNDS"); do
  read -r h_rps h_p50 h_p99 h_bad < <(run healthz -H "Host: localhost:$PORT" "$BASE/healthz")
  read -r m_rps m_p50 m_p99 m_bad < <(run me -H "Host: $HOST" -H "Cookie: $COOKIE" "$BASE/api/v1/me")
  read -r t_rps t_p50 t_p99 t_bad < <(run token -H "Host: $HOST" -H "Authorization: Bearer $PAT" \
    "$BASE/api/v1/permissions")
  read -r o_rps o_p50 o_p99 o_bad < <(run own -H "Host: $HOST" -H "Cookie: $COOKIE" \
    "$BASE/api/v1/admin/roles")
  read -r g_rps g_p50 g_p99 g_bad < <(run grant -H "Host: $HOST" -H "Cookie: $MCOOKIE" \
    "$BASE/api/v1/admin/roles")
  [ "$h_bad$m_bad$t_bad$o_bad$g_bad" = 00000 ] \
    || die "non-2xx answers: healthz $h_bad, me $m_bad, token $t_bad, own $o_bad, grant $g_bad"
  me_ratio=$(awk -v a="$m_rps" -v b="$h_rps" 'BEGIN { printf "%.2f", a / b }')
  tok_ratio=$(awk -v a="$t_rps" -v b="$h_rps" 'BEGIN { printf "%.2f", a / b }')
  printf 'round %d: healthz %8.0f req/s p50 %.3f ms p99 %.3f ms\n' "$r" "$h_rps" "$h_p50" "$h_p99"
  printf '         me      %8.0f req/s p50 %.3f ms p99 %.3f ms  ratio %s\n' "$m_rps" "$m_p50" "$m_p99" "$me_ratio"
  printf '         token   %8.0f req/s p50 %.3f ms p99 %.3f ms  ratio %s\n' "$t_rps" "$t_p50" "$t_p99" "$tok_ratio"
  grant_ratio=$(awk -v a="$g_rps" -v b="$o_rps" 'BEGIN { printf "%.2f", a / b }')
  printf '         roles   %8.0f req/s p50 %.3f ms p99 %.3f ms  (owner: its role)\n' "$o_rps" "$o_p50" "$o_p99"
  printf '         roles   %8.0f req/s p50 %.3f ms p99 %.3f ms  (member: a grant) ratio %s of the owner\n' \
    "$g_rps" "$g_p50" "$g_p99" "$grant_ratio"
  echo "$me_ratio $tok_ratio $m_rps $t_rps $h_rps $grant_ratio $g_rps $o_rps" >>"$TMP/ratios"
done
sort -n -k1 "$TMP/ratios" | awk '{ a[NR] = $0 } END { split(a[int((NR + 1) / 2)], m, " ")
  printf "bench session: median GET /api/v1/me (cookie) %.2f of /healthz (%.0f req/s); ", m[1], m[3] }'
sort -n -k2 "$TMP/ratios" | awk '{ a[NR] = $0 } END { split(a[int((NR + 1) / 2)], m, " ")
  printf "GET /api/v1/permissions (token) %.2f (%.0f req/s)\n", m[2], m[4] }'
sort -n -k6 "$TMP/ratios" | awk '{ a[NR] = $0 } END { split(a[int((NR + 1) / 2)], m, " ")
  printf "bench session: median GET /api/v1/admin/roles through a grant %.2f of the owner'"'"'s (%.0f vs %.0f req/s)\n", m[6], m[7], m[8] }'
