# SPDX-License-Identifier: AGPL-3.0-or-later
"""The tenant's security settings over the API (docs/internals/auth-contract.md,
"Security policy of a tenant"; the authorization issue's settings.security):
read, made stricter all or nothing, audited with old and new values; the
administration allow-list (COMMITMENT A12) refuses other addresses with 403
and an audit event; a stricter lockout threshold (A5)."""

import json
import sqlite3

import pytest

from conftest import assert_clean_stop, assert_error, run_cli, start_server
from test_auth import (COOKIE, OWNER, PW_OWNER, UA_FIREFOX, call, create_tenant_with_owner,
                       csrf_of, do_setup, login, login_ok, new_server, query)

SETTINGS = "/api/v1/admin/settings/security"
DEFAULTS = {"mfa": "admins", "password_min": 12, "password_min_admin": 16,
            "password_score": 3, "max_age_days": 0, "max_age_days_admin": 365,
            "history": 5, "session_idle_minutes": 30, "session_max_hours": 12,
            "lockout_failures": 5, "admin_ips": [],
            "upload_types": ["pdf", "png", "jpeg", "gif", "webp", "txt", "csv",
                             "md", "docx", "xlsx", "pptx", "odt", "ods",
                             "odp"]}
SECOND = "second@acme.example"
PW_SECOND = "Cormoran-quatorze-Figuier-83-ardoise"


@pytest.fixture(scope="module")
def srv():
    root, data = new_server("[auth]\nip_ban_failures = 1000\nmfa_optional = 1\n")
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    r = run_cli("tenant", "owner", "acme", SECOND, "--data", str(data))
    link2 = r.stdout.split("#")[1].split()[0]
    # this file is about settings, not 2FA: owners may administer without it
    assert run_cli("tenant", "policy", "acme", "mfa=optional", "--data",
                   str(data)).returncode == 0
    s = start_server(data, log_path=root / "serve.log")
    s.data = data
    s.db_path = data / "tenants" / "1" / "tenant.db"
    try:
        assert do_setup(s, link, PW_OWNER).status_code == 200
        assert do_setup(s, link2, PW_SECOND).status_code == 200
        s.tok = login_ok(s, OWNER, PW_OWNER)
        s.csrf = csrf_of(s, s.tok)
        yield s
    finally:
        if s.alive():
            assert_clean_stop(s)


def get(srv):
    return call(srv, "GET", SETTINGS, token=srv.tok)


def patch(srv, body, csrf="auto"):
    csrf = srv.csrf if csrf == "auto" else csrf
    headers = {"Content-Type": "application/json", "User-Agent": UA_FIREFOX,
               "Cookie": f"{COOKIE}={srv.tok}"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    srv.session.cookies.clear()
    return srv.request("PATCH", SETTINGS, tenant="acme", headers=headers,
                       data=json.dumps(body).encode())


def settings_rows(srv):
    return query(srv.db_path, "SELECT key, value FROM settings ORDER BY key")


def test_read(srv):
    r = get(srv)
    assert r.status_code == 200, r.text
    assert r.json() == dict(DEFAULTS, mfa="optional")


def test_stricter_all_at_once_and_audited(srv):
    r = patch(srv, {"password_min": 14, "history": 8, "max_age_days": 180,
                    "session_idle_minutes": 20})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["password_min"], body["history"], body["max_age_days"],
            body["session_idle_minutes"]) == (14, 8, 180, 20)
    assert get(srv).json() == body
    ev = query(srv.db_path, "SELECT action, principal, details FROM "
               "audit_events WHERE action LIKE 'settings.%' AND principal "
               "LIKE 'user:%' ORDER BY seq")
    assert {e["action"] for e in ev} >= {
        "settings.password_min", "settings.history", "settings.max_age_days",
        "settings.session_idle_minutes"}
    assert all(e["details"] for e in ev)       # old and new, sealed
    # the same values again change nothing and add no event
    n = len(ev)
    assert patch(srv, {"password_min": 14}).status_code == 200
    assert len(query(srv.db_path, "SELECT seq FROM audit_events WHERE action "
                     "LIKE 'settings.%' AND principal LIKE 'user:%'")) == n


@pytest.mark.parametrize("body,field", [
    ({"password_min": 11}, "password_min"),
    ({"password_min_admin": 15}, "password_min_admin"),
    ({"password_score": 2}, "password_score"),
    ({"max_age_days_admin": 0}, "max_age_days_admin"),
    ({"session_idle_minutes": 0}, "session_idle_minutes"),
    ({"lockout_failures": 2}, "lockout_failures"),
    ({"mfa": "never"}, "mfa"),
    ({"admin_ips": ["300.1.1.1"]}, "admin_ips"),
    ({"admin_ips": ["10.0.0.0/99"]}, "admin_ips"),
    ({"upload_types": ["exe"]}, "upload_types"),
    ({"upload_types": ["pdf", "pdf"]}, "upload_types"),
    ({"upload_types": ["PDF"]}, "upload_types"),
    ({"upload_types": ["pdf,exe"]}, "upload_types"),
    # a good value with a bad one: nothing at all is written
    ({"history": 9, "password_score": 1}, "password_score"),
    # below the server's own value: only ever stricter
    ({"history": 0}, "history"),
    ({"history": 4}, "history"),
])
def test_weaker_or_bad_values_change_nothing(srv, body, field):
    before = settings_rows(srv)
    r = patch(srv, body)
    err = assert_error(r, 400, "invalid_setting")
    assert field in err["message"]
    assert settings_rows(srv) == before


@pytest.mark.parametrize("body,code", [
    ({}, "bad_request"),
    ({"password_min": 500}, "bad_request"),        # over the declared max
    ({"password_min": "14"}, "bad_request"),       # a string for a number
    ({"lockout_failures": 6}, "bad_request"),
    ({"admin_ips": "127.0.0.1"}, "bad_request"),   # not a list
    ({"admin_ips": ["a"] * 33}, "bad_request"),
    ({"upload_types": "pdf"}, "bad_request"),     # not a list
    ({"upload_types": ["pdf"] * 15}, "bad_request"),
    ({"unknown": 1}, "unknown_field"),
])
def test_bad_input(srv, body, code):
    before = settings_rows(srv)
    assert_error(patch(srv, body), 400, code)
    assert settings_rows(srv) == before


def test_needs_csrf_and_step_up_and_the_permission(srv):
    assert_error(patch(srv, {"history": 6}, csrf=None), 403, "csrf")
    db = sqlite3.connect(srv.db_path, timeout=10)
    with db:
        db.execute("UPDATE sessions SET auth_at = auth_at - 600")
    db.close()
    assert_error(patch(srv, {"history": 6}), 403, "step_up_required")
    r = call(srv, "POST", "/api/v1/auth/step-up", token=srv.tok,
             csrf=srv.csrf, body={"password": PW_OWNER})
    assert r.status_code == 200
    assert patch(srv, {"history": 6}).status_code == 200
    assert call(srv, "GET", SETTINGS).status_code == 401


def test_allow_list_cannot_lock_out_its_author(srv):
    before = settings_rows(srv)
    assert_error(patch(srv, {"admin_ips": ["10.0.0.0/8"]}), 409,
                 "would_lock_you_out")
    assert settings_rows(srv) == before
    r = patch(srv, {"admin_ips": ["127.0.0.0/8", "2001:db8::1/64"]})
    assert r.status_code == 200, r.text
    assert r.json()["admin_ips"] == ["127.0.0.0/8", "2001:db8::/64"]
    assert patch(srv, {"admin_ips": []}).json()["admin_ips"] == []


def test_allow_list_refuses_other_addresses(srv):
    """Set by the operator's command line (which has no address of its
    own to keep): the server then refuses administration from loopback
    with 403 and an audit event, and still serves the account's own
    routes."""
    r = run_cli("tenant", "policy", "acme", "admin_ips=192.0.2.0/24",
                "--data", str(srv.data))
    assert r.returncode == 0, r.stderr
    assert "admin_ips: 192.0.2.0/24" in r.stdout
    n = len(query(srv.db_path, "SELECT seq FROM audit_events WHERE action = "
                  "'admin.ip_refused'"))
    assert_error(get(srv), 403, "ip_not_allowed")
    assert_error(call(srv, "GET", "/api/v1/admin/users", token=srv.tok), 403,
                 "ip_not_allowed")
    ev = query(srv.db_path, "SELECT principal, outcome, client_ip FROM "
               "audit_events WHERE action = 'admin.ip_refused'")
    assert len(ev) == n + 2
    assert ev[-1]["outcome"] == "failure" and ev[-1]["client_ip"] == "127.0.0.1"
    assert ev[-1]["principal"].startswith("user:")
    assert call(srv, "GET", "/api/v1/me", token=srv.tok).status_code == 200
    r = run_cli("tenant", "policy", "acme", "admin_ips=", "--data",
                str(srv.data))
    assert r.returncode == 0 and "admin_ips: any" in r.stdout
    assert get(srv).status_code == 200


def test_stricter_lockout(srv):
    assert patch(srv, {"lockout_failures": 3}).status_code == 200
    try:
        for _ in range(3):
            assert login(srv, SECOND, "not-the-password-at-all").status_code == 401
        # locked after 3: the right password fails too
        assert login(srv, SECOND, PW_SECOND).status_code == 401
        row = query(srv.db_path, "SELECT failed_count, locked_until FROM "
                    "users WHERE role = 'owner' AND failed_count > 0")
        assert row and row[0]["failed_count"] == 3 and row[0]["locked_until"] > 0
    finally:
        db = sqlite3.connect(srv.db_path, timeout=10)
        with db:
            db.execute("UPDATE users SET failed_count = 0, locked_until = 0")
        db.close()
        assert patch(srv, {"lockout_failures": 5}).status_code == 200


def test_upload_types(srv):
    # COMMITMENT B7
    """The documents' upload allow-list: a subset of the server's list,
    kept in its order, audited with old and new values; [] accepts none;
    the operator's command line sets it too."""
    r = patch(srv, {"upload_types": ["png", "pdf", "odt"]})
    assert r.status_code == 200, r.text
    assert r.json()["upload_types"] == ["pdf", "png", "odt"]
    ev = query(srv.db_path, "SELECT outcome FROM audit_events WHERE action = "
               "'settings.upload_types'")
    assert ev and ev[-1]["outcome"] == "success"
    assert patch(srv, {"upload_types": []}).json()["upload_types"] == []
    r = run_cli("tenant", "policy", "acme", "upload_types=txt,csv", "--data",
                str(srv.data))
    assert r.returncode == 0, r.stderr
    assert "upload_types: txt,csv" in r.stdout
    assert get(srv).json()["upload_types"] == ["txt", "csv"]
    r = run_cli("tenant", "policy", "acme", "upload_types=exe", "--data",
                str(srv.data))
    assert r.returncode != 0
    assert get(srv).json()["upload_types"] == ["txt", "csv"]
    everything = DEFAULTS["upload_types"]
    assert patch(srv, {"upload_types": everything}).json()["upload_types"] == \
        everything


def test_both_lists_at_once(srv):
    """admin_ips and upload_types in one PATCH: each keeps its own value."""
    r = patch(srv, {"admin_ips": ["127.0.0.1"], "upload_types": ["pdf"]})
    assert r.status_code == 200, r.text
    assert r.json()["admin_ips"] == ["127.0.0.1/32"]
    assert r.json()["upload_types"] == ["pdf"]
    r = patch(srv, {"upload_types": DEFAULTS["upload_types"], "admin_ips": []})
    assert r.status_code == 200, r.text
    assert r.json()["admin_ips"] == []
    assert r.json()["upload_types"] == DEFAULTS["upload_types"]


@pytest.mark.parametrize("body,floor", [
    ({"history": 0}, "the server's floor is 5"),
    ({"password_min": 11}, "the server's floor is 12"),
    ({"lockout_failures": 2}, "from 3 to 5"),
])
def test_refusal_names_the_floor(srv, body, floor):
    """COMMITMENT A2: a refused setting is named with the range it accepts, whose weaker
    end is the server's own value."""
    err = assert_error(patch(srv, body), 400, "invalid_setting")
    assert floor in err["message"], err


def test_optional_2fa_needs_the_operator(server_factory):
    """COMMITMENT A12: `optional` 2FA only where the operator's
    configuration allows it (`[auth] mfa_optional = 1`); a tenant set to
    it before the operator took it back has the default again."""
    srv = server_factory()
    data = srv.data
    create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    r = run_cli("tenant", "policy", "acme", "mfa=optional", "--data",
                str(data))
    assert r.returncode == 7, (r.returncode, r.stdout, r.stderr)
    assert "does not let 2FA be optional" in r.stderr, r.stderr
    r = run_cli("tenant", "policy", "acme", "--data", str(data))
    assert "mfa: admins" in r.stdout, r.stdout
    # a value stored while the operator allowed it reads as the default
    db = data / "tenants" / "1" / "tenant.db"
    con = sqlite3.connect(str(db))
    with con:
        con.execute("INSERT OR REPLACE INTO settings (key, value) "
                    "VALUES ('mfa', 'optional')")
    con.close()
    r = run_cli("tenant", "policy", "acme", "--data", str(data))
    assert "mfa: admins" in r.stdout, r.stdout
