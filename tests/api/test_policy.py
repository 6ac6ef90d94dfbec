# SPDX-License-Identifier: AGPL-3.0-or-later
"""A tenant's security policy (docs/internals/auth-contract.md, "Security
policy of a tenant"): stricter password rules (COMMITMENT A2), a maximum
password age and a history of earlier passwords (COMMITMENT A8), set with `coffre
tenant policy`, only ever stricter than the server, every change audited.
"""

import sqlite3
import time

import pytest

from conftest import assert_clean_stop, assert_error, run_cli, start_server
from test_auth import (OWNER, PW_OWNER, call, create_tenant_with_owner,
                       csrf_of, do_setup, login, login_ok, me, new_server,
                       query, strength_of)

PW_B = "Marmotte-plage-soleil-88-quinoa"
PW_C = "Girafe-tonnerre-cuivre-4071-prune"
PW_LONG = "Hibou-calanque-violon-2290-nectar-brume"  # 39 characters


@pytest.fixture(scope="module")
def srv():
    root, data = new_server("[auth]\nip_ban_failures = 1000\n")
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    s = start_server(data, log_path=root / "serve.log")
    s.data = data
    s.db_path = data / "tenants" / "1" / "tenant.db"
    s.pw = PW_OWNER
    try:
        assert do_setup(s, link, PW_OWNER).status_code == 200
        yield s
    finally:
        if s.alive():
            assert_clean_stop(s)


def policy(srv, *args):
    r = run_cli("tenant", "policy", "acme", *args, "--data", str(srv.data))
    lines = dict(l.split(": ", 1) for l in r.stdout.splitlines() if ": " in l)
    return r, lines


def change(srv, token, current, new):
    return call(srv, "POST", "/api/v1/me/password", token=token,
                csrf=csrf_of(srv, token), body={"current": current, "new": new})


def assert_weak(r, problem):
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"]["code"] == "weak_password", body
    assert problem in strength_of(r)["problems"], body


def change_ok(srv, new):
    tok = login_ok(srv, OWNER, srv.pw)
    r = change(srv, tok, srv.pw, new)
    assert r.status_code == 200, r.text
    srv.pw = new
    return tok


def test_defaults_printed():
    root, data = new_server()
    create_tenant_with_owner(data, "zeta", "Zeta", "o@zeta.example")
    r = run_cli("tenant", "policy", "zeta", "--data", str(data))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "mfa: admins", "password_min: 12", "password_min_admin: 16",
        "password_score: 3", "max_age_days: 0", "max_age_days_admin: 365",
        "history: 5", "session_idle_minutes: 30", "session_max_hours: 12",
        "lockout_failures: 5", "admin_ips: any",
        "upload_types: pdf,png,jpeg,gif,webp,txt,csv,md,docx,xlsx,pptx,odt,"
        "ods,odp"]


@pytest.mark.parametrize("arg", [
    "password_min=11", "password_min_admin=15", "password_score=2",
    "max_age_days=366", "max_age_days_admin=0", "max_age_days_admin=400",
    "history=25", "mfa=sometimes", "bogus=1", "password_min", "=3",
    "password_min=-1", "password_min=12x", "history=",
    "session_idle_minutes=0", "session_idle_minutes=31",
    "session_max_hours=0", "session_max_hours=13",
    "lockout_failures=2", "lockout_failures=6", "admin_ips=10.0.0.0/33",
    "admin_ips=not-an-address", "admin_ips=1.2.3.4/8/8",
])
def test_weaker_or_bad_settings_refused(srv, arg):
    before = query(srv.db_path, "SELECT key, value FROM settings ORDER BY key")
    r, _ = policy(srv, arg)
    assert r.returncode == 7, (arg, r.returncode, r.stdout, r.stderr)
    assert arg in r.stderr
    assert query(srv.db_path,
                 "SELECT key, value FROM settings ORDER BY key") == before


def test_unknown_tenant(srv):
    r = run_cli("tenant", "policy", "nope", "--data", str(srv.data))
    assert r.returncode != 0 and "nope" in r.stderr


def test_stricter_minimum_length(srv):
    r, lines = policy(srv, "password_min_admin=40")
    assert r.returncode == 0, r.stderr
    assert lines["password_min_admin"] == "40"
    tok = login_ok(srv, OWNER, srv.pw)
    r = change(srv, tok, srv.pw, PW_LONG)  # 39 characters: one short
    assert_weak(r, "too_short")
    r, _ = policy(srv, "password_min_admin=16")
    assert r.returncode == 0
    ev = query(srv.db_path, "SELECT principal, target FROM audit_events "
               "WHERE action = 'settings.password_min_admin'")
    assert len(ev) == 2 and ev[0]["target"] == "tenant", ev
    assert ev[0]["principal"].startswith("cli:"), ev


def test_history_refuses_recent_passwords(srv):
    first = srv.pw
    change_ok(srv, PW_B)
    # the current password and the one before are refused
    tok = login_ok(srv, OWNER, srv.pw)
    for pw in (PW_B, first):
        r = change(srv, tok, srv.pw, pw)
        assert_weak(r, "reused")
    # the journal of earlier hashes holds hashes, never a password
    rows = query(srv.db_path, "SELECT hash FROM password_history")
    assert rows and all(r["hash"].startswith("$argon2id$") for r in rows)
    raw = b"".join(p.read_bytes() for p in srv.db_path.parent.iterdir())
    assert first.encode() not in raw and PW_B.encode() not in raw
    # a tenant may not keep fewer than the server's 5 (only stricter)
    r, _ = policy(srv, "history=1")
    assert r.returncode == 7, (r.returncode, r.stderr)
    assert "history is from 5 to 24 (the server's floor is 5)" in r.stderr, (
        r.stderr)
    r, _ = policy(srv)
    assert "history: 5" in r.stdout, r.stdout
    assert_weak(change(srv, tok, srv.pw, first), "reused")


def test_current_password_cannot_be_kept(srv):
    """A "change" to the same password is a reuse too."""
    tok = login_ok(srv, OWNER, srv.pw)
    r = change(srv, tok, srv.pw, srv.pw)
    assert_weak(r, "reused")


def test_max_age_forces_a_change(srv):
    r, lines = policy(srv, "max_age_days_admin=30")
    assert r.returncode == 0 and lines["max_age_days_admin"] == "30"
    tok = login_ok(srv, OWNER, srv.pw)
    assert call(srv, "GET", "/api/v1/me/sessions", token=tok).status_code == 200
    db = sqlite3.connect(srv.db_path, timeout=10)
    with db:
        db.execute("UPDATE users SET password_set = ?",
                   (int(time.time()) - 31 * 86400,))
    db.close()
    assert_error(call(srv, "GET", "/api/v1/me/sessions", token=tok), 403,
                 "password_expired")
    assert_error(call(srv, "POST", "/api/v1/me/totp", token=tok,
                      csrf=csrf_of(srv, tok), body={}), 403, "password_expired")
    body = me(srv, tok).json()
    assert body["user"]["password_expired"] is True, body
    # changing it is allowed and lifts the gate
    r = change(srv, tok, srv.pw, PW_C)
    assert r.status_code == 200, r.text
    srv.pw = PW_C
    assert call(srv, "GET", "/api/v1/me/sessions", token=tok).status_code == 200
    assert me(srv, tok).json()["user"]["password_expired"] is False
    # ordinary accounts have no maximum by default; the tenant may set one
    r, lines = policy(srv, "max_age_days=90")
    assert r.returncode == 0 and lines["max_age_days"] == "90"
    ev = query(srv.db_path, "SELECT count(*) AS n FROM audit_events WHERE "
               "action = 'settings.max_age_days'")
    assert ev[0]["n"] == 1


def test_policy_change_is_seen_by_a_running_server(srv):
    r, _ = policy(srv, "--mfa", "all")
    assert r.returncode == 0
    tok = login_ok(srv, OWNER, srv.pw)
    assert me(srv, tok).json()["policy"] == {"mfa": "all"}
    assert_error(call(srv, "GET", "/api/v1/me/logins", token=tok), 403,
                 "mfa_enrolment_required")
    policy(srv, "mfa=admins")
    assert call(srv, "GET", "/api/v1/me/logins", token=tok).status_code == 200


def test_strength_meter_follows_the_tenant_policy(srv):
    """On the tenant's host the meter judges by the tenant's policy; on the
    platform host by the server's defaults."""
    pw = "Hibou-calanque-violon-2290"            # 26 characters
    r, _ = policy(srv, "password_min=30")
    assert r.returncode == 0
    try:
        r = call(srv, "POST", "/api/v1/password/strength",
                 body={"password": pw})
        assert r.status_code == 200, r.text
        assert r.json()["acceptable"] is False
        assert "too_short" in r.json()["problems"]
        r = call(srv, "POST", "/api/v1/password/strength",
                 host=f"localhost:{srv.port}", body={"password": pw})
        assert r.status_code == 200 and r.json()["acceptable"] is True, r.text
    finally:
        policy(srv, "password_min=12")


def age_session(srv, token_col, seconds):
    db = sqlite3.connect(srv.db_path, timeout=10)
    with db:
        db.execute(f"UPDATE sessions SET {token_col} = {token_col} - ?",
                   (seconds,))
    db.close()


def test_tenant_may_shorten_session_limits(srv):
    """COMMITMENT B5: idle 30 min and absolute 12 h by default; a tenant
    may only shorten them, and a running server applies the change."""
    tok = login_ok(srv, OWNER, srv.pw)
    age_session(srv, "last_seen", 5 * 60)        # 5 minutes idle: fine
    assert me(srv, tok).status_code == 200
    r, lines = policy(srv, "session_idle_minutes=2")
    assert r.returncode == 0 and lines["session_idle_minutes"] == "2"
    age_session(srv, "last_seen", 3 * 60)        # 3 minutes idle: over 2
    assert_error(me(srv, tok), 401, "unauthorized")
    policy(srv, "session_idle_minutes=30")
    # absolute limit: a session created 2 hours ago ends at 1 hour
    tok = login_ok(srv, OWNER, srv.pw)
    age_session(srv, "created", 2 * 3600)
    assert me(srv, tok).status_code == 200
    r, _ = policy(srv, "session_max_hours=1")
    assert r.returncode == 0
    assert_error(me(srv, tok), 401, "unauthorized")
    policy(srv, "session_max_hours=12")
    # a fresh session is unaffected
    assert me(srv, login_ok(srv, OWNER, srv.pw)).status_code == 200
