#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Attack the login as an attacker would (COMMITMENT A5, A6): hydra tries a
# list of passwords, the right one last, against an owner account of a
# fresh server with the default configuration. Expected: the account locks
# after 5 failures, so hydra never finds the password; the client address is
# banned after 20 failures; the access journal records every attempt.
# Prints the journal's outcome counts. Needs hydra (Debian package hydra).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${COFFRE_BIN:-build/coffre}
PY=/usr/bin/python3
command -v hydra >/dev/null || { echo "hydra-check: install hydra" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/coffre-hydra.XXXXXX")
PID=
cleanup() {
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  [ "${KEEP_TMP:-0}" = 1 ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT
PORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
GOOD="violet-Tambour-glacier-47-mirabelle"
"$BIN" init --data "$TMP/d" >/dev/null 2>&1
# rate limits stay at their defaults except auth, so the lock and the ban
# are what stop the attack, not the per-minute limiter
printf '[limits]\nauth_per_minute = 0\n' >"$TMP/d/coffre.conf"
TOKEN=$("$BIN" tenant create acme --owner owner@acme.example --data "$TMP/d" \
  2>/dev/null | sed -n 's/^setup: .*#//p')
"$BIN" serve --data "$TMP/d" --listen "127.0.0.1:$PORT" 2>"$TMP/log" &
PID=$!
for _ in $(seq 1 100); do
  curl -ksf -o /dev/null -H 'Host: localhost' "https://127.0.0.1:$PORT/healthz" && break
  sleep 0.1
done
curl -ksf -o /dev/null -H "Host: acme.localhost:$PORT" \
  -H 'Content-Type: application/json' \
  -d "{\"token\":\"$TOKEN\",\"password\":\"$GOOD\"}" \
  "https://127.0.0.1:$PORT/api/v1/auth/setup"
{ for i in $(seq 1 29); do echo "guess-$i-Winter2024!"; done; echo "$GOOD"; } >"$TMP/words"
echo "hydra-check: hydra, 30 passwords (the right one last) against owner@acme.example"
hydra -l owner@acme.example -P "$TMP/words" -t 1 -f -I -s "$PORT" -S 127.0.0.1 \
  https-post-form "/api/v1/auth/login:{\"email\"\\:\"^USER^\",\"password\"\\:\"^PASS^\"}:H=Host\\: acme.localhost\\:$PORT:H=Content-Type\\: application/json:F=error" \
  2>&1 | grep -E "valid password|completed|\\[ERROR\\]" | sort | uniq -c || true
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=
$PY - "$TMP/d/tenants/1/tenant.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT outcome, count(*) FROM access_log GROUP BY outcome ORDER BY min(id)").fetchall()
print("hydra-check: access journal:", ", ".join(f"{o} {n}" for o, n in rows))
ok = dict(rows).get("success", 0) == 0 and dict(rows).get("banned", 0) > 0
print("hydra-check:", "ok (no login succeeded; account locked; address banned)" if ok else "FAILED")
sys.exit(0 if ok else 1)
PYEOF
