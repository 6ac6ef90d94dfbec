# SPDX-License-Identifier: AGPL-3.0-or-later
"""Administration, first slice (docs/internals/auth-contract.md,
"Permissions and built-in roles", "2FA policy of a tenant",
"Administration in this slice"): the permission catalogue and the
built-in roles (COMMITMENT B1), the access journal of every account
(C1), unlocking a locked account (A5), the tenant's 2FA policy set with
`coffre tenant policy` (A12), and CSRF on the admin routes (B5).

One server for the module, tenant acme with two owners: the first turns
2FA on and administers, the second (no 2FA) gets locked, unlocked, and
tries the routes under each policy. Logins are counted (Argon2id).
"""

import re
import secrets
import time

import pytest

from conftest import assert_clean_stop, assert_error, run_cli, start_server
from test_auth import (OTHER, OWNER, PW_NEW, PW_OWNER, UNKNOWN, add_owner,
                       call, create_tenant_with_owner, do_setup, login,
                       login_ok, me, new_server, origin_of, query)
from test_tokens import Account

CATALOGUE = ["doc.read", "doc.write", "doc.delete", "note.write",
             "space.manage", "user.manage", "role.manage", "audit.read",
             "settings.security", "tenant.export", "tenant.delete"]
ROLES = {
    "owner": set(CATALOGUE),
    "admin": set(CATALOGUE) - {"tenant.export", "tenant.delete"},
    "member": {"doc.read", "doc.write", "doc.delete", "note.write"},
    "guest": {"doc.read"},
    "auditor": {"audit.read"},
}
LOGINS = "/api/v1/admin/logins"
LINE_KEYS = {"id", "time", "user_id", "email", "outcome", "client_ip",
             "device"}
# the audit action of a 2FA policy change: settings.NAME (auth-contract.md,
# "Security policy of a tenant")
MFA_ACTIONS = ("settings.mfa",)


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def srv():
    root, data = new_server("[auth]\nip_ban_failures = 1000\nmfa_optional = 1\n")
    first = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    second = add_owner(data, "acme", OTHER)
    s = start_server(data, log_path=root / "serve.log")
    s.db = data / "tenants" / "1" / "tenant.db"
    s.made = []
    try:
        assert do_setup(s, first, PW_OWNER).status_code == 200
        assert do_setup(s, second, PW_NEW).status_code == 200
        yield s
    finally:
        if s.alive():
            assert_clean_stop(s)


@pytest.fixture(scope="module")
def admin(srv):
    """The first owner, with 2FA, on a cookie session."""
    a = Account(srv, OWNER, PW_OWNER)
    a.enrol_totp()
    return a


@pytest.fixture(scope="module")
def other(srv):
    """The second owner, without 2FA; one attempt on an unknown address
    goes into the journal as well."""
    a = Account(srv, OTHER, PW_NEW)
    r = login(srv, UNKNOWN, PW_NEW)
    assert_error(r, 401, "invalid_credentials")
    return a


def policy(srv, *args):
    return run_cli("tenant", "policy", "acme", *args, "--data", srv.data)


def mfa_of(stdout):
    m = re.search(r"^mfa: (\S+)$", stdout, re.M)
    assert m, stdout
    return m.group(1)


def set_policy(srv, value):
    r = policy(srv, "--mfa", value)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert mfa_of(r.stdout) == value, r.stdout


def logins(who, query_string=""):
    r = who.call("GET", LOGINS + query_string, csrf=False)
    assert r.status_code == 200, (query_string, r.status_code, r.text)
    body = r.json()
    assert set(body) == {"logins", "next_before"}, body
    return body


# ---------------------------------------------------------------- catalogue

def test_permissions_catalogue(srv, admin):
    """COMMITMENT B1: the 11 permissions in catalogue order, each described
    in French and English, and the built-in roles."""
    r = admin.call("GET", "/api/v1/permissions", csrf=False)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"permissions", "roles"}, body
    perms = body["permissions"]
    assert [p["name"] for p in perms] == CATALOGUE
    for p in perms:
        assert set(p) == {"name", "fr", "en"}, p
        assert isinstance(p["fr"], str) and p["fr"].strip(), p
        assert isinstance(p["en"], str) and p["en"].strip(), p
        assert p["fr"] != p["en"], p
    assert len({p["en"] for p in perms}) == len(perms)
    assert len({p["fr"] for p in perms}) == len(perms)
    roles = {x["name"]: x["permissions"] for x in body["roles"]}
    assert len(roles) == len(body["roles"]), body["roles"]
    assert set(roles) == set(ROLES), roles
    for name, held in roles.items():
        assert len(held) == len(set(held)), (name, held)
        assert set(held) == ROLES[name], (name, held)


def test_permissions_needs_a_principal(srv):
    assert_error(call(srv, "GET", "/api/v1/permissions"), 401, "unauthorized")
    r = call(srv, "GET", "/api/v1/permissions", host=srv.platform_host)
    assert r.status_code == 404, r.text


# ---------------------------------------------------------------- journal

def test_journal_of_every_account(srv, admin, other):
    """COMMITMENT C1: the lines of both owners and of the unknown address,
    newest first, with the account's e-mail (null when no account)."""
    body = logins(admin, "?limit=100")
    lines = body["logins"]
    assert lines, body
    for x in lines:
        assert set(x) == LINE_KEYS, x
        assert x["client_ip"] == "127.0.0.1", x
        # the account's public id, never its row number
        assert x["user_id"] is None or re.match(r"^[0-9a-f]{32}$",
                                                x["user_id"]), x
        assert isinstance(x["time"], str) and x["time"], x
    ids = [x["id"] for x in lines]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    by_user = {}
    for x in lines:
        by_user.setdefault(x["user_id"], set()).add(x["email"])
    assert by_user.get(admin.id) == {OWNER}, by_user
    assert by_user.get(other.id) == {OTHER}, by_user
    unknown = [x for x in lines if x["outcome"] == "unknown_user"]
    assert unknown, lines
    for x in unknown:
        assert x["user_id"] is None and x["email"] is None, x
    assert UNKNOWN not in str(lines)
    assert body["next_before"] is None, body  # fewer than 100 lines


def test_journal_filters(srv, admin, other):
    lines = logins(admin, f"?user={other.id}&limit=100")["logins"]
    assert lines and all(x["user_id"] == other.id for x in lines), lines
    assert any(x["outcome"] == "success" for x in lines), lines
    lines = logins(admin, f"?user={admin.id}")["logins"]
    assert lines and all(x["user_id"] == admin.id for x in lines), lines
    lines = logins(admin, "?outcome=unknown_user")["logins"]
    assert lines and all(x["outcome"] == "unknown_user" for x in lines), lines
    lines = logins(admin, "?outcome=success")["logins"]
    assert {x["user_id"] for x in lines} >= {admin.id, other.id}, lines
    assert all(x["outcome"] == "success" for x in lines), lines
    both = logins(admin, f"?outcome=success&user={other.id}")["logins"]
    assert both and all(x["outcome"] == "success" and x["user_id"] == other.id
                        for x in both), both
    assert logins(admin, "?outcome=no_such_outcome")["logins"] == []
    # an id that is no account's selects nothing, whatever its form; so
    # do the row number of an account and its id misspelt
    upper = other.id.upper()
    if upper == other.id:  # all digits
        upper = "A" + upper[1:]
    for uid in ("999999", "0" * 32, secrets.token_hex(16), "abc",
                str(other.row), upper, other.id[:-1]):
        assert logins(admin, f"?user={uid}")["logins"] == [], uid


def test_journal_paging(srv, admin, other):
    for i in range(4):  # more lines (unknown addresses: no account touched)
        assert_error(login(srv, f"ghost{i}@acme.example", PW_NEW), 401,
                     "invalid_credentials")
    full = logins(admin, "?limit=100")["logins"]
    assert len(full) >= 7, full
    seen = []
    before = None
    for _ in range(len(full) + 2):
        qs = "?limit=3" + (f"&before={before}" if before is not None else "")
        page = logins(admin, qs)
        assert len(page["logins"]) <= 3
        if before is not None:
            assert all(x["id"] < before for x in page["logins"]), page
        seen += page["logins"]
        if len(page["logins"]) == 3:
            assert page["next_before"] == page["logins"][-1]["id"], page
        else:
            assert page["next_before"] is None, page
        before = page["next_before"]
        if before is None:
            break
    assert seen == full
    # default page size 50
    assert len(logins(admin)["logins"]) == min(50, len(full))
    one = logins(admin, "?limit=1")
    assert len(one["logins"]) == 1 and one["next_before"] == full[0]["id"]


def test_journal_bad_query(srv, admin):
    for qs, code in (("?limit=0", None), ("?limit=101", None),
                     ("?limit=-1", None), ("?limit=abc", None),
                     ("?user=" + "a" * 33, None), ("?before=x", None),
                     ("?outcome=" + "a" * 17, None),
                     ("?foo=1", "unknown_parameter"),
                     ("?limit=10&role=owner", "unknown_parameter")):
        r = admin.call("GET", LOGINS + qs, csrf=False)
        assert r.status_code == 400, (qs, r.status_code, r.text)
        err = assert_error(r, 400, code or r.json()["error"]["code"])
        if code == "unknown_parameter":
            assert qs.split("&")[-1].split("=")[0].lstrip("?") in err["message"]


def test_journal_needs_audit_read(srv):
    assert_error(call(srv, "GET", LOGINS), 401, "unauthorized")


# ---------------------------------------------------------------- unlock

def test_unlock(srv, admin, other):
    """COMMITMENT A5: five failures lock the account (the right password is
    then refused); an owner unlocks it; the right password works again."""
    for i in range(5):
        assert_error(login(srv, OTHER, f"{PW_NEW}-{i}"), 401,
                     "invalid_credentials")
    assert_error(login(srv, OTHER, PW_NEW), 401, "invalid_credentials")
    (u,) = query(srv.db, "SELECT failed_count, locked_until FROM users "
                 "WHERE public_id = ?", other.id)
    assert u["locked_until"] > time.time(), u
    path = f"/api/v1/admin/users/{other.id}/unlock"
    # B5: the cookie session needs the CSRF token and a same origin
    assert_error(admin.call("POST", path, body={}, csrf=False), 403, "csrf")
    r = call(srv, "POST", path, token=admin.session, csrf=admin.csrf,
             origin="https://evil.example", body={})
    assert_error(r, 403, "csrf")
    assert_error(login(srv, OTHER, PW_NEW), 401, "invalid_credentials")
    events = len(query(srv.db, "SELECT seq FROM audit_events"))
    r = call(srv, "POST", path, token=admin.session, csrf=admin.csrf,
             origin=origin_of(srv, "acme"), body={})
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}
    (u,) = query(srv.db, "SELECT failed_count, locked_until FROM users "
                 "WHERE public_id = ?", other.id)
    assert u["failed_count"] == 0 and u["locked_until"] <= time.time(), u
    rows = query(srv.db, "SELECT * FROM audit_events ORDER BY seq")[events:]
    assert [r["action"] for r in rows] == ["user.unlock"], rows
    # the audit trail names accounts by row number (internal)
    assert rows[0]["principal"] == f"user:{admin.row}", rows[0]
    assert rows[0]["target"] == f"user:{other.row}", rows[0]
    assert rows[0]["outcome"] == "success", rows[0]
    assert rows[0]["client_ip"] == "127.0.0.1", rows[0]
    tok = login_ok(srv, OTHER, PW_NEW)
    assert me(srv, tok).json()["user"]["id"] == other.id
    # the journal shows it all, to the administrator
    lines = logins(admin, f"?user={other.id}&limit=9")["logins"]
    assert [x["outcome"] for x in lines[:8]] == (
        ["success", "locked", "locked"] + ["bad_password"] * 5), lines
    assert all(x["email"] == OTHER for x in lines), lines


def test_unlock_unknown_or_malformed_id(srv, admin):
    events = len(query(srv.db, "SELECT seq FROM audit_events"))
    for bad in ("999999", "0", "-1", "abc", "1x", "1.0", "0x1",
                "99999999999999999999999", "%20" + admin.id,
                "%20" + admin.id[1:], "0" * 32, secrets.token_hex(16),
                str(admin.row), admin.id + "0", admin.id[:-1]):
        r = admin.call("POST", f"/api/v1/admin/users/{bad}/unlock", body={})
        assert r.status_code == 404, (bad, r.status_code, r.text)
        assert_error(r, 404, "not_found")
    assert len(query(srv.db, "SELECT seq FROM audit_events")) == events


def test_unlock_needs_a_session_or_token(srv, other):
    assert_error(call(srv, "POST", f"/api/v1/admin/users/{other.id}/unlock",
                      body={}), 401, "unauthorized")


# ---------------------------------------------------------------- 2FA policy

def test_policy_default_and_changes(srv, admin, other):
    """COMMITMENT A12: `admins` by default; `all` and `optional` change what
    an account without 2FA may do, at once, on live sessions."""
    r = policy(srv)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert mfa_of(r.stdout) == "admins"
    mfa_events = lambda: [e for e in query(  # noqa: E731
        srv.db, "SELECT * FROM audit_events ORDER BY seq")
        if e["action"] in MFA_ACTIONS]
    assert mfa_events() == []
    try:
        # admins: the owner without 2FA may not read the journal ...
        assert_error(other.call("GET", LOGINS, csrf=False), 403,
                     "mfa_enrolment_required")
        # ... but the rest of its account is open
        assert other.call("GET", "/api/v1/me/sessions",
                          csrf=False).status_code == 200

        set_policy(srv, "all")
        assert_error(other.call("GET", "/api/v1/me/sessions", csrf=False),
                     403, "mfa_enrolment_required")
        assert_error(other.call("GET", "/api/v1/permissions", csrf=False),
                     403, "mfa_enrolment_required")
        assert_error(other.call("GET", LOGINS, csrf=False), 403,
                     "mfa_enrolment_required")
        r = other.call("GET", "/api/v1/me", csrf=False)
        assert r.status_code == 200, r.text
        assert r.json()["user"]["totp"] is False
        r = other.call("POST", "/api/v1/me/totp", body={})
        assert r.status_code == 200, r.text
        assert r.json()["otpauth_uri"].startswith("otpauth://totp/")
        # an account with 2FA is not concerned
        assert admin.call("GET", "/api/v1/me/sessions",
                          csrf=False).status_code == 200
        assert admin.call("GET", LOGINS, csrf=False).status_code == 200

        set_policy(srv, "optional")
        r = other.call("GET", LOGINS, csrf=False)
        assert r.status_code == 200, r.text
        assert r.json()["logins"], r.text
        assert other.call("GET", "/api/v1/me/sessions",
                          csrf=False).status_code == 200

        # a bad value: non-zero exit, a message, nothing changed
        before = len(query(srv.db, "SELECT seq FROM audit_events"))
        r = policy(srv, "--mfa", "bogus")
        assert r.returncode == 7, (r.returncode, r.stdout, r.stderr)
        assert "bogus" in r.stderr and r.stderr.startswith("coffre:"), r.stderr
        assert "mfa: bogus" not in r.stdout
        assert len(query(srv.db, "SELECT seq FROM audit_events")) == before
        r = policy(srv)
        assert r.returncode == 0 and mfa_of(r.stdout) == "optional", r.stdout
        assert other.call("GET", LOGINS, csrf=False).status_code == 200
    finally:
        set_policy(srv, "admins")
    assert_error(other.call("GET", LOGINS, csrf=False), 403,
                 "mfa_enrolment_required")
    events = mfa_events()
    assert len(events) == 3, events  # all, optional, admins
    for e in events:
        assert e["outcome"] == "success", e
        assert e["principal"], e
        assert e["client_ip"] in (None, ""), e  # set from the command line


# ---------------------------------------------------------------- CSRF

def test_admin_posts_need_csrf_with_a_cookie(srv, admin, other):
    """B5: a cookie-authenticated admin POST without X-CSRF-Token, or with
    another session's, is refused before anything happens."""
    path = f"/api/v1/admin/users/{other.id}/unlock"
    events = len(query(srv.db, "SELECT seq FROM audit_events"))
    assert_error(call(srv, "POST", path, token=admin.session, body={}), 403,
                 "csrf")
    assert_error(call(srv, "POST", path, token=admin.session,
                      csrf="0" * 64, body={}), 403, "csrf")
    assert_error(call(srv, "POST", path, token=admin.session,
                      csrf=admin.csrf[:-1], body={}), 403, "csrf")
    assert len(query(srv.db, "SELECT seq FROM audit_events")) == events
    r = admin.call("POST", path, body={})
    assert r.status_code == 200, r.text
