#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Attack the administration JSON endpoints as an attacker with a valid
# session would (invariant 4: SQL only with bound parameters): sqlmap at
# --level 5 --risk 3 against each endpoint's query parameters, JSON fields
# and path id. Expected: no injection found anywhere. Prints sqlmap's
# verdict line per endpoint and exits non-zero if one is injectable.
# Needs sqlmap (Debian package sqlmap). Takes several minutes.
#
# Environment: COFFRE_BIN (build/coffre), LEVEL (5), RISK (3),
# PROBES (the probe names to run, space-separated; all by default),
# KEEP_TMP=1 keeps the temporary directory (sqlmap's logs).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${COFFRE_BIN:-build/coffre}
LEVEL=${LEVEL:-5}
RISK=${RISK:-3}
PY=/usr/bin/python3
command -v sqlmap >/dev/null || { echo "sqlmap-check: install sqlmap" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/coffre-sqlmap.XXXXXX")
PID=
cleanup() {
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
PORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
OWNER=owner@acme.example
GOOD="violet-Tambour-glacier-47-mirabelle"
"$BIN" init --data "$TMP/d" >/dev/null 2>&1
printf '[limits]\nread_per_minute = 0\nwrite_per_minute = 0\nauth_per_minute = 0\n[log]\nlevel = warn\n' \
  >"$TMP/d/coffre.conf"
TOKEN=$("$BIN" tenant create acme --owner "$OWNER" --data "$TMP/d" 2>/dev/null \
  | sed -n 's/^setup: .*#//p')
"$BIN" tenant policy acme mfa=optional --data "$TMP/d" >/dev/null 2>&1
"$BIN" serve --data "$TMP/d" --listen "127.0.0.1:$PORT" 2>"$TMP/serve.log" &
PID=$!
BASE=https://127.0.0.1:$PORT
HOST=acme.localhost:$PORT
for _ in $(seq 1 100); do
  curl -ksf -o /dev/null -H "Host: localhost:$PORT" "$BASE/healthz" && break
  sleep 0.1
done
json() { curl -ks -H "Host: $HOST" -H 'Content-Type: application/json' "$@"; }
json -o /dev/null -d "{\"token\":\"$TOKEN\",\"password\":\"$GOOD\"}" "$BASE/api/v1/auth/setup"
COOKIE=$(json -D - -o /dev/null -d "{\"email\":\"$OWNER\",\"password\":\"$GOOD\"}" \
  "$BASE/api/v1/auth/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | tr -d '\r')
CSRF=$(curl -ks -H "Host: $HOST" -H "Cookie: $COOKIE" "$BASE/api/v1/me" \
  | sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p')
[ -n "$CSRF" ] || { echo "sqlmap-check: could not sign in" >&2; exit 1; }
MEMBER=$(json -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" \
  -d '{"email":"member@acme.example","role":"member"}' "$BASE/api/v1/admin/users" \
  | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
[ -n "$MEMBER" ] || { echo "sqlmap-check: could not invite a member" >&2; exit 1; }

# objects of the authorization routes to aim at
ROLE=$(json -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" \
  -d '{"name":"Relecteurs","permissions":["doc.read"]}' "$BASE/api/v1/admin/roles" \
  | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
GROUP=$(json -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" \
  -d "{\"name\":\"Finance\",\"members\":[\"$MEMBER\"]}" "$BASE/api/v1/admin/groups" \
  | sed -n 's/.*"group":{"id":"\([0-9a-f]*\)".*/\1/p')
SPACE=$(json -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" \
  -d '{"name":"Contrats"}' "$BASE/api/v1/spaces" \
  | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
[ -n "$ROLE" ] && [ -n "$GROUP" ] && [ -n "$SPACE" ] \
  || { echo "sqlmap-check: could not make a role, a group and a space" >&2; exit 1; }

fail=0
probe() { # name, then sqlmap arguments
  local name=$1; shift
  if [ -n "${PROBES:-}" ] && [[ " $PROBES " != *" $name "* ]]; then
    return 0
  fi
  sqlmap --batch --level "$LEVEL" --risk "$RISK" --threads 4 --time-sec 2 \
    --flush-session --output-dir "$TMP/sqlmap" --disable-coloring \
    -H "Host: $HOST" -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" \
    "$@" >"$TMP/$name.log" 2>&1 || true
  if grep -qE "is vulnerable|sqlmap identified the following injection" "$TMP/$name.log"; then
    echo "sqlmap-check: $name: INJECTABLE (see $TMP/$name.log; KEEP_TMP=1 keeps it)"
    fail=1
  else
    echo "sqlmap-check: $name: $(grep -cE "testing '" "$TMP/$name.log") tests, no injection" \
      "($(grep -oE "all tested parameters do not appear to be injectable" "$TMP/$name.log" | head -n1))"
  fi
}
echo "sqlmap-check: sqlmap $(sqlmap --version 2>/dev/null | head -n1) --level $LEVEL --risk $RISK"
probe logins -u "$BASE/api/v1/admin/logins?user=$MEMBER&outcome=success&before=100&limit=10"
# the headers (Host, User-Agent, Referer, Cookie) were tested by the first
# probe; the others test their own parameters only
SKIP=(--skip "Host,User-Agent,Referer,Cookie,X-CSRF-Token")
probe invite "${SKIP[@]}" -u "$BASE/api/v1/admin/users" --method POST \
  --data '{"email":"x@acme.example","role":"member"}'
probe patch "${SKIP[@]}" -u "$BASE/api/v1/admin/users/$MEMBER*" --method PATCH \
  --data '{"role":"guest","state":"active"}'
probe perms "${SKIP[@]}" -u "$BASE/api/v1/admin/users/$MEMBER*/permissions"
probe tokens "${SKIP[@]}" -u "$BASE/api/v1/me/tokens" --method POST \
  --data '{"name":"ci","expires_days":30,"permissions":["audit.read"]}'
probe roles "${SKIP[@]}" -u "$BASE/api/v1/admin/roles" --method POST \
  --data '{"name":"Lecture","permissions":["doc.read","audit.read"]}'
probe role_patch "${SKIP[@]}" -u "$BASE/api/v1/admin/roles/$ROLE*" --method PATCH \
  --data '{"name":"Relecture","permissions":["doc.read"]}'
probe groups "${SKIP[@]}" -u "$BASE/api/v1/admin/groups/$GROUP*" --method PATCH \
  --data "{\"name\":\"Compta\",\"members\":[\"$MEMBER\"],\"groups\":[]}"
probe grants "${SKIP[@]}" -u "$BASE/api/v1/admin/grants" --method POST \
  --data "{\"user\":\"$MEMBER\",\"role\":\"$ROLE\",\"space\":\"$SPACE\"}"
probe grants_list "${SKIP[@]}" \
  -u "$BASE/api/v1/admin/grants?user=$MEMBER&group=$GROUP&space=$SPACE"
probe space "${SKIP[@]}" -u "$BASE/api/v1/spaces/$SPACE*" --method PATCH \
  --data '{"name":"Contrats 2027"}'
if ! kill -0 "$PID" 2>/dev/null; then
  echo "sqlmap-check: the server died during the run" >&2
  fail=1
fi
[ "$fail" = 0 ] && echo "sqlmap-check: ok (nothing injectable; the server stayed up)"
exit "$fail"
