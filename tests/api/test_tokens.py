# SPDX-License-Identifier: AGPL-3.0-or-later
"""Personal API tokens (COMMITMENT A10; docs/internals/auth-contract.md,
"Personal API tokens"): creation shown once and kept only as a keyed hash,
use as `Authorization: Bearer` without cookie or CSRF, the token's own
permissions on top of the role's (B1), refusal on the account's own
`session` routes, revocation, expiry, tenant binding, step-up, input
checks, the 50-token cap and the audit trail.

One server for the module. Argon2id costs about 100 ms a login, so the
accounts log in once each (the second owner twice) and tokens, which are
cheap, do the rest.
"""

import base64
import re
import secrets
import sqlite3
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest

from conftest import assert_clean_stop, assert_error, error_of, start_server
from test_auth import (BETA_OWNER, OTHER, OWNER, PW_BETA, PW_NEW, PW_OWNER,
                       add_owner, assert_public_id, b64url_bytes, call,
                       create_tenant_with_owner, db_bytes, do_setup, login_ok,
                       me, new_server, query, row_of, tenant_db)
from test_totp import totp

PAT_RE = re.compile(r"^coffre_pat_[A-Za-z0-9_-]{43}$")
ID_RE = re.compile(r"^[0-9a-f]{32}$")
CATALOGUE = ["doc.read", "doc.write", "doc.delete", "note.write",
             "space.manage", "user.manage", "role.manage", "audit.read",
             "settings.security", "tenant.export", "tenant.delete"]
TOKENS = "/api/v1/me/tokens"
ADMIN_LOGINS = "/api/v1/admin/logins"
PERMISSIONS = "/api/v1/permissions"


# ---------------------------------------------------------------- helpers

def parse_time(s):
    """An RFC 3339 time of the API as an aware datetime."""
    assert isinstance(s, str) and s, s
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def bearer(srv, method, path, tok, body=None, tenant="acme", headers=None):
    """A request authenticated by an API token only (no cookie)."""
    hdrs = {"Authorization": f"Bearer {tok}"}
    hdrs.update(headers or {})
    return call(srv, method, path, tenant=tenant, body=body, headers=hdrs)


def tokens_count(srv, user_id=None):
    if user_id is None:
        return query(srv.db, "SELECT count(*) AS n FROM api_tokens")[0]["n"]
    return query(srv.db, "SELECT count(*) AS n FROM api_tokens "
                 "WHERE user_id = ?", user_id)[0]["n"]


def audit_actions(srv):
    return [r["action"] for r in
            query(srv.db, "SELECT action FROM audit_events ORDER BY seq")]


def sql(srv, statement, *args):
    con = sqlite3.connect(str(srv.db), timeout=10)
    try:
        with con:
            con.execute(statement, args)
    finally:
        con.close()


class Account:
    """A signed-in account: its session cookie, CSRF token and id (the
    public id the API shows); `row` is its row number in the tenant
    database, for the tests that read or change rows."""

    def __init__(self, srv, email, password, tenant="acme"):
        self.srv = srv
        self.email = email
        self.password = password
        self.tenant = tenant
        self.session = login_ok(srv, email, password, tenant=tenant)
        r = me(srv, self.session, tenant=tenant)
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf_token"]
        self.id = r.json()["user"]["id"]
        assert_public_id(self.id)

    @property
    def db(self):
        return tenant_db(self.srv.data, self.tenant)

    @property
    def row(self):
        return row_of(self.db, self.id)

    def call(self, method, path, body=None, csrf=True):
        return call(self.srv, method, path, tenant=self.tenant,
                    token=self.session, csrf=self.csrf if csrf else None,
                    body=body)

    def create(self, name="ci", permissions=("audit.read",), **extra):
        body = {"name": name, "permissions": list(permissions), **extra}
        return self.call("POST", TOKENS, body=body)

    def create_ok(self, name="ci", permissions=("audit.read",), **extra):
        r = self.create(name, permissions, **extra)
        assert r.status_code == 201, r.text
        body = r.json()
        self.srv.made.append(body["token"])
        return body

    def revoke(self, token_id, csrf=True):
        return self.call("DELETE", f"{TOKENS}/{token_id}", csrf=csrf)

    def listed(self):
        r = self.call("GET", TOKENS, csrf=False)
        assert r.status_code == 200, r.text
        return r.json()["tokens"]

    def enrol_totp(self):
        """Turn 2FA on (the session proved itself at login, just now)."""
        r = self.call("POST", "/api/v1/me/totp", body={})
        assert r.status_code == 200, r.text
        uri = urllib.parse.urlparse(r.json()["otpauth_uri"])
        secret = urllib.parse.parse_qs(uri.query)["secret"][0]
        r = self.call("POST", "/api/v1/me/totp/confirm",
                      body={"code": totp(secret)})
        assert r.status_code == 200, r.text
        assert me(self.srv, self.session,
                  tenant=self.tenant).json()["user"]["totp"] is True


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def srv():
    """acme (two owners) and beta (one owner)."""
    root, data = new_server("[auth]\nip_ban_failures = 1000\n")
    acme = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    other = add_owner(data, "acme", OTHER)
    beta = create_tenant_with_owner(data, "beta", "Beta Corp", BETA_OWNER)
    s = start_server(data, log_path=root / "serve.log")
    s.tenant_dir = data / "tenants" / "1"
    s.db = s.tenant_dir / "tenant.db"
    s.made = []  # every token string created here
    s.made_beta = set()
    try:
        for link, pw, tenant in ((acme, PW_OWNER, "acme"),
                                 (other, PW_NEW, "acme"),
                                 (beta, PW_BETA, "beta")):
            r = do_setup(s, link, pw, tenant=tenant)
            assert r.status_code == 200, r.text
        yield s
    finally:
        if s.alive():
            assert_clean_stop(s)


@pytest.fixture(scope="module")
def owner(srv):
    """The first acme owner, with 2FA on (admin routes need it under the
    default policy `admins`)."""
    a = Account(srv, OWNER, PW_OWNER)
    a.enrol_totp()
    return a


@pytest.fixture(scope="module")
def other(srv):
    """The second acme owner, without 2FA (until test_admin_route_needs_2fa
    turns it on)."""
    return Account(srv, OTHER, PW_NEW)


# ---------------------------------------------------------------- creation

def test_create_shape_and_list(srv, owner):
    before = datetime.now(timezone.utc)
    body = owner.create_ok(
        name="backup script",
        permissions=["audit.read", "doc.read", "audit.read", "note.write"],
        expires_days=30)
    assert set(body) >= {"id", "token", "name", "permissions", "created",
                         "expires"}, body
    assert ID_RE.match(body["id"]), body["id"]
    assert PAT_RE.match(body["token"]), body["token"]
    assert body["name"] == "backup script"
    # catalogue order, each once
    assert body["permissions"] == ["doc.read", "note.write", "audit.read"]
    created = parse_time(body["created"])
    expires = parse_time(body["expires"])
    assert abs((created - before).total_seconds()) < 60, body
    assert abs((expires - created) - timedelta(days=30)) < timedelta(
        seconds=5), body

    # default validity: 90 days
    dflt = owner.create_ok(name="default expiry")
    assert abs((parse_time(dflt["expires"]) - parse_time(dflt["created"]))
               - timedelta(days=90)) < timedelta(seconds=5), dflt
    assert dflt["permissions"] == ["audit.read"]
    assert dflt["id"] != body["id"] and dflt["token"] != body["token"]

    listed = owner.listed()
    by_id = {t["id"]: t for t in listed}
    assert body["id"] in by_id and dflt["id"] in by_id, listed
    item = by_id[body["id"]]
    assert set(item) == {"id", "name", "permissions", "created", "expires",
                         "last_used"}, item
    assert item["name"] == "backup script"
    assert item["permissions"] == body["permissions"]
    assert item["created"] == body["created"]
    assert item["expires"] == body["expires"]
    assert item["last_used"] is None
    # never the token, under any key
    r = owner.call("GET", TOKENS, csrf=False)
    for t in (body["token"], dflt["token"]):
        assert t not in r.text
        assert t[len("coffre_pat_"):] not in r.text
    # newest first
    created_list = [t["created"] for t in listed]
    assert created_list == sorted(created_list, reverse=True), created_list


def test_token_is_not_in_the_database_nor_the_log(srv, owner):
    """Only a keyed hash is stored (invariant 3); the log never sees it."""
    body = owner.create_ok(name="at rest", permissions=["audit.read"])
    tok = body["token"]
    r = bearer(srv, "GET", ADMIN_LOGINS, tok)
    assert r.status_code == 200, r.text
    assert_error(bearer(srv, "GET", "/api/v1/me", tok), 403,
                 "session_required")
    time.sleep(0.3)  # the log writer flushes every 20 ms
    blob = db_bytes(srv.tenant_dir)
    # the scan does see the table: the permission list is kept in clear
    assert b"audit.read" in blob
    (row,) = query(srv.db, "SELECT * FROM api_tokens WHERE id = ?", body["id"])
    assert row["user_id"] == owner.row, row
    log = srv.log_text()
    assert '"route":"/api/v1/admin/logins"' in log, "no request line to judge"
    assert len(srv.made) >= 1
    for t in srv.made:
        secret = t[len("coffre_pat_"):]
        assert t.encode() not in blob, t
        assert secret.encode() not in blob, t
        assert b64url_bytes(secret) not in blob, t
        assert secret not in log, t
    for v in row.values():
        if isinstance(v, bytes):
            assert v not in (tok.encode(), b64url_bytes(tok[11:])), row


# ---------------------------------------------------------------- use

def test_admin_route_needs_2fa_under_policy_admins(srv, other):
    """COMMITMENT A12: an owner without 2FA is refused /api/v1/admin/ with
    a token too; the same token works once the owner has enrolled."""
    body = other.create_ok(name="journal", permissions=["audit.read"])
    tok = body["token"]
    assert_error(bearer(srv, "GET", ADMIN_LOGINS, tok), 403,
                 "mfa_enrolment_required")
    # a principal route outside /admin/ is fine meanwhile
    assert bearer(srv, "GET", PERMISSIONS, tok).status_code == 200
    other.enrol_totp()
    r = bearer(srv, "GET", ADMIN_LOGINS, tok)
    assert r.status_code == 200, r.text
    lines = r.json()["logins"]
    assert any(x["user_id"] == other.id and x["outcome"] == "success"
               for x in lines), lines


def test_bearer_works_on_a_permission_route(srv, owner):
    body = owner.create_ok(name="journal", permissions=["audit.read"])
    r = bearer(srv, "GET", ADMIN_LOGINS, body["token"])
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    assert any(x["user_id"] == owner.id for x in r.json()["logins"])
    # no cookie was set or needed
    assert "Set-Cookie" not in r.headers
    # the scheme name is case-insensitive (RFC 7235)
    r = call(srv, "GET", ADMIN_LOGINS,
             headers={"Authorization": f"bearer {body['token']}"})
    assert r.status_code == 200, r.text
    # used: last_used is now set
    item = {t["id"]: t for t in owner.listed()}[body["id"]]
    assert item["last_used"] is not None, item
    assert abs(parse_time(item["last_used"])
               - datetime.now(timezone.utc)) < timedelta(minutes=1), item


def test_permissions_route_with_a_token(srv, owner):
    tok = owner.create_ok(name="reader", permissions=["doc.read"])["token"]
    r = bearer(srv, "GET", PERMISSIONS, tok)
    assert r.status_code == 200, r.text
    assert [p["name"] for p in r.json()["permissions"]] == CATALOGUE


def test_token_without_the_permission_is_forbidden(srv, owner):
    """B1: the owner's role holds audit.read and user.manage, but the token
    carries only doc.read: both admin routes answer 403 forbidden."""
    tok = owner.create_ok(name="docs only", permissions=["doc.read"])["token"]
    assert_error(bearer(srv, "GET", ADMIN_LOGINS, tok), 403, "forbidden")
    assert_error(bearer(srv, "POST", f"/api/v1/admin/users/{owner.id}/unlock",
                        tok, body={}), 403, "forbidden")
    # user.manage does not give audit.read either
    tok = owner.create_ok(name="unlocker",
                          permissions=["user.manage"])["token"]
    assert_error(bearer(srv, "GET", ADMIN_LOGINS, tok), 403, "forbidden")


def test_role_must_still_hold_the_permission(srv, other):
    """A token carries at most its account's role: once the account is an
    auditor, its token's user.manage is refused, while audit.read goes on
    working. A role that lacks a permission cannot put it on a new token
    (403 permission_not_held, nothing created)."""
    tok = other.create_ok(name="both",
                          permissions=["user.manage", "audit.read"])["token"]
    unlock = f"/api/v1/admin/users/{other.id}/unlock"
    sql(srv, "UPDATE users SET role = 'auditor' WHERE id = ?", other.row)
    try:
        assert_error(bearer(srv, "POST", unlock, tok, body={}), 403,
                     "forbidden")
        r = bearer(srv, "GET", ADMIN_LOGINS, tok)
        assert r.status_code == 200, r.text
        n = tokens_count(srv)
        assert_error(other.create(name="x", permissions=["doc.read"]), 403,
                     "permission_not_held")
        assert_error(other.create(name="x", permissions=["audit.read",
                                                          "user.manage"]),
                     403, "permission_not_held")
        assert tokens_count(srv) == n
    finally:
        sql(srv, "UPDATE users SET role = 'owner' WHERE id = ?", other.row)
    r = bearer(srv, "POST", unlock, tok, body={})
    assert r.status_code == 200, r.text


def test_no_csrf_needed_with_a_token(srv, owner, other):
    """The unlock route is a cookie-free POST with a token: no X-CSRF-Token,
    and a cross-site Origin does not matter (browsers never attach the
    token on their own)."""
    tok = owner.create_ok(name="unlocker", permissions=["user.manage"])["token"]
    path = f"/api/v1/admin/users/{other.id}/unlock"
    sql(srv, "UPDATE users SET failed_count = 7, locked_until = ? WHERE id = ?",
        int(time.time()) + 3600, other.row)
    try:
        r = bearer(srv, "POST", path, tok, body={})
        assert r.status_code == 200, r.text
        assert r.json() == {"ok": True}
        (u,) = query(srv.db, "SELECT failed_count, locked_until FROM users "
                     "WHERE id = ?", other.row)
        assert u["failed_count"] == 0 and u["locked_until"] <= time.time(), u
    finally:
        sql(srv, "UPDATE users SET failed_count = 0, locked_until = 0 "
            "WHERE id = ?", other.row)
    r = bearer(srv, "POST", path, tok, body={},
               headers={"Origin": "https://evil.example"})
    assert r.status_code == 200, r.text
    # the audit event names the token as principal
    rows = query(srv.db, "SELECT principal, target FROM audit_events "
                 "WHERE action = 'user.unlock' ORDER BY seq")
    assert rows, rows
    assert rows[-1]["target"] == f"user:{other.row}", rows[-1]
    assert rows[-1]["principal"].startswith("token:"), rows[-1]


def test_token_refused_on_session_routes(srv, owner):
    body = owner.create_ok(name="everything", permissions=CATALOGUE)
    tok = body["token"]
    n = tokens_count(srv)
    sessions = query(srv.db, "SELECT count(*) AS n FROM sessions")[0]["n"]
    refused = {
        "GET /me": bearer(srv, "GET", "/api/v1/me", tok),
        "GET /me/tokens": bearer(srv, "GET", TOKENS, tok),
        "POST /me/tokens": bearer(srv, "POST", TOKENS, tok,
                                  body={"name": "more",
                                        "permissions": ["doc.read"]}),
        "DELETE /me/tokens/{id}": bearer(srv, "DELETE",
                                         f"{TOKENS}/{body['id']}", tok),
        "DELETE /me/sessions": bearer(srv, "DELETE", "/api/v1/me/sessions",
                                      tok),
        "GET /me/sessions": bearer(srv, "GET", "/api/v1/me/sessions", tok),
        "POST /me/totp": bearer(srv, "POST", "/api/v1/me/totp", tok, body={}),
    }
    for what, r in refused.items():
        assert r.status_code == 403, (what, r.status_code, r.text)
        assert_error(r, 403, "session_required")
    assert tokens_count(srv) == n
    assert query(srv.db, "SELECT count(*) AS n FROM sessions")[0]["n"] == sessions
    # the token still lives, the session too
    assert bearer(srv, "GET", PERMISSIONS, tok).status_code == 200
    assert me(srv, owner.session).status_code == 200
    # a token next to a valid cookie does not open a session route either
    r = call(srv, "GET", TOKENS, token=owner.session,
             headers={"Authorization": f"Bearer {tok}"})
    assert_error(r, 403, "session_required")


# ---------------------------------------------------------------- revocation

def test_revoke(srv, owner):
    body = owner.create_ok(name="to revoke", permissions=["audit.read"])
    tok, tid = body["token"], body["id"]
    assert bearer(srv, "GET", ADMIN_LOGINS, tok).status_code == 200
    # a cookie-authenticated DELETE needs the CSRF token
    assert_error(owner.revoke(tid, csrf=False), 403, "csrf")
    assert bearer(srv, "GET", ADMIN_LOGINS, tok).status_code == 200
    r = owner.revoke(tid)
    assert r.status_code == 200, r.text
    assert r.json() == {"revoked": 1}
    assert_error(bearer(srv, "GET", ADMIN_LOGINS, tok), 401, "unauthorized")
    assert_error(bearer(srv, "GET", PERMISSIONS, tok), 401, "unauthorized")
    assert tid not in {t["id"] for t in owner.listed()}
    assert not query(srv.db, "SELECT id FROM api_tokens WHERE id = ?", tid)
    # again, or an id that never was
    assert_error(owner.revoke(tid), 404, "not_found")
    assert_error(owner.revoke(secrets.token_hex(16)), 404, "not_found")


def test_revoke_malformed_ids(srv, owner):
    body = owner.create_ok(name="kept", permissions=["audit.read"])
    tid = body["id"]
    n = tokens_count(srv)
    for bad in (tid.upper(), tid[:-1], tid + "0", "g" * 32, "1", "0" * 31,
                tid[:16] + "-" + tid[17:], "%20" + tid[3:], "x" * 200):
        r = owner.revoke(bad)
        assert r.status_code == 404, (bad, r.status_code, r.text)
    assert tokens_count(srv) == n
    assert bearer(srv, "GET", ADMIN_LOGINS, body["token"]).status_code == 200


def test_revoke_another_accounts_token(srv, owner, other):
    body = other.create_ok(name="not yours", permissions=["doc.read"])
    assert_error(owner.revoke(body["id"]), 404, "not_found")
    assert bearer(srv, "GET", PERMISSIONS, body["token"]).status_code == 200
    assert body["id"] not in {t["id"] for t in owner.listed()}
    assert body["id"] in {t["id"] for t in other.listed()}
    r = other.revoke(body["id"])
    assert r.status_code == 200, r.text
    assert_error(bearer(srv, "GET", PERMISSIONS, body["token"]), 401,
                 "unauthorized")


# ---------------------------------------------------------------- refusals

def test_expired_token(srv, owner):
    body = owner.create_ok(name="short", permissions=["audit.read"],
                           expires_days=1)
    assert bearer(srv, "GET", PERMISSIONS, body["token"]).status_code == 200
    sql(srv, "UPDATE api_tokens SET expires = ? WHERE id = ?",
        int(time.time()) - 5, body["id"])
    assert_error(bearer(srv, "GET", PERMISSIONS, body["token"]), 401,
                 "unauthorized")
    assert_error(bearer(srv, "GET", ADMIN_LOGINS, body["token"]), 401,
                 "unauthorized")
    assert body["id"] not in {t["id"] for t in owner.listed()}
    r = bearer(srv, "GET", PERMISSIONS, body["token"])
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers


def test_token_of_a_disabled_account(srv, other):
    tok = other.create_ok(name="disabled", permissions=["doc.read"])["token"]
    assert bearer(srv, "GET", PERMISSIONS, tok).status_code == 200
    sql(srv, "UPDATE users SET state = 'disabled' WHERE id = ?", other.row)
    try:
        assert_error(bearer(srv, "GET", PERMISSIONS, tok), 401,
                     "unauthorized")
    finally:
        sql(srv, "UPDATE users SET state = 'active' WHERE id = ?", other.row)
    assert bearer(srv, "GET", PERMISSIONS, tok).status_code == 200


def test_token_of_another_tenant(srv, owner):
    """COMMITMENT B2: acme's token is nothing on beta."""
    tok = owner.create_ok(name="acme only", permissions=["audit.read"])["token"]
    assert_error(bearer(srv, "GET", PERMISSIONS, tok, tenant="beta"), 401,
                 "unauthorized")
    assert_error(bearer(srv, "GET", ADMIN_LOGINS, tok, tenant="beta"), 401,
                 "unauthorized")
    assert bearer(srv, "GET", PERMISSIONS, tok).status_code == 200


def test_garbage_bearer_values(srv, owner):
    body = owner.create_ok(name="real", permissions=["audit.read"])
    tok = body["token"]
    secret = tok[len("coffre_pat_"):]
    n = tokens_count(srv)
    audit = len(audit_actions(srv))
    (before,) = query(srv.db, "SELECT * FROM api_tokens WHERE id = ?",
                      body["id"])
    odd = secret[:20] + "+" + secret[21:]
    values = {
        "unknown token": "coffre_pat_" + base64.urlsafe_b64encode(
            secrets.token_bytes(32)).decode().rstrip("="),
        "wrong prefix": "coffre_pak_" + secret,
        "no prefix": secret,
        "upper-case prefix": "COFFRE_PAT_" + secret,
        "one short": tok[:-1],
        "one long": tok + "A",
        "twice": tok + tok,
        "plus sign": "coffre_pat_" + odd,
        "slash": "coffre_pat_" + secret[:-1] + "/",
        "padding": "coffre_pat_" + secret[:-1] + "=",
        "dot": "coffre_pat_" + secret[:-1] + ".",
        "space inside": "coffre_pat_" + secret[:10] + " " + secret[11:],
        "leading space": " " + tok,
        "empty": "",
        "metrics-like": "mt-5f0c2a9e7b41d3866c1e4fa0b9d27e13",
    }
    for what, v in values.items():
        for path in (PERMISSIONS, ADMIN_LOGINS):
            r = call(srv, "GET", path, headers={"Authorization": f"Bearer {v}"})
            assert r.status_code == 401, (what, path, r.status_code, r.text)
            assert_error(r, 401, "unauthorized")
    for header in ("Bearer", "Basic " + base64.b64encode(b"a:b").decode(),
                   tok):
        r = call(srv, "GET", PERMISSIONS, headers={"Authorization": header})
        assert_error(r, 401, "unauthorized")
    # nothing changed: no row, no event, the real token untouched and working
    assert tokens_count(srv) == n
    assert len(audit_actions(srv)) == audit
    (after,) = query(srv.db, "SELECT * FROM api_tokens WHERE id = ?",
                     body["id"])
    assert after == before
    assert bearer(srv, "GET", PERMISSIONS, tok).status_code == 200


# ---------------------------------------------------------------- step-up

def test_create_needs_step_up(srv, other):
    """A token is as good as a password for what it carries: creating one
    needs a proof of identity from the last 5 minutes."""
    # age this account's newest session (its login) past 5 minutes
    sql(srv, "UPDATE sessions SET auth_at = auth_at - 600 WHERE id = "
        "(SELECT max(id) FROM sessions WHERE user_id = ?)", other.row)
    n = tokens_count(srv)
    # the input is judged first: a bad request says what is wrong with it
    assert_error(other.create(name="late", permissions=["doc.reed"]), 400,
                 "unknown_permission")
    assert_error(other.create(name="late", permissions=["doc.read"]), 403,
                 "step_up_required")
    assert tokens_count(srv) == n
    r = other.call("POST", "/api/v1/auth/step-up", body={"password": PW_NEW})
    assert r.status_code == 200, r.text
    body = other.create_ok(name="late", permissions=["doc.read"])
    assert PAT_RE.match(body["token"])
    assert tokens_count(srv) == n + 1


# ---------------------------------------------------------------- input

def test_bad_input_creates_nothing(srv, owner):
    n = tokens_count(srv)
    events = len(audit_actions(srv))
    p = ["audit.read"]
    cases = [
        ({"name": "x", "permissions": ["audit.read", "doc.reed"]}, 400,
         "unknown_permission"),
        ({"name": "x", "permissions": ["*"]}, 400, "unknown_permission"),
        ({"name": "x", "permissions": ["Doc.Read"]}, 400,
         "unknown_permission"),
        ({"name": "x", "permissions": ["session"]}, 400,
         "unknown_permission"),
        ({"name": "x", "permissions": [""]}, 400, "unknown_permission"),
        ({"name": "x", "permissions": []}, 400, None),
        ({"name": "x", "permissions": p, "expires_days": 0}, 400,
         "bad_request"),
        ({"name": "", "permissions": p}, 400, "invalid_name"),
        ({"name": "tab\there", "permissions": p}, 400, "invalid_name"),
        ({"name": "bell\x07", "permissions": p}, 400, "invalid_name"),
        ({"name": "nul\x00x", "permissions": p}, 400, None),
        ({"name": " leading", "permissions": p}, 400, "invalid_name"),
        ({"name": "trailing ", "permissions": p}, 400, "invalid_name"),
        ({"name": "x", "permissions": p, "role": "owner"}, 400,
         "unknown_field"),
        ({"name": "x", "permissions": p, "token": "coffre_pat_" + "A" * 43},
         400, "unknown_field"),
        ({"name": "x", "permissions": "audit.read"}, 400, None),
        ({"name": "x", "permissions": [1]}, 400, None),
        ({"name": "x", "permissions": [None]}, 400, None),
        ({"name": "x", "permissions": [["audit.read"]]}, 400, None),
        ({"name": "x", "permissions": p, "expires_days": "30"}, 400, None),
        ({"name": "x", "permissions": p, "expires_days": 1.5}, 400, None),
        ({"name": 7, "permissions": p}, 400, None),
        ({"permissions": p}, 400, "missing_field"),
        ({"name": "x"}, 400, "missing_field"),
    ]
    wrong = []
    for body, status, code in cases:
        r = owner.call("POST", TOKENS, body=body)
        got = error_of(r)["code"] if r.status_code >= 400 else None
        if r.status_code != status or (code is not None and got != code):
            wrong.append((body, r.status_code, got))
    assert not wrong, f"answers not as in the contract: {wrong}"
    assert tokens_count(srv) == n
    assert len(audit_actions(srv)) == events


def test_out_of_range_answers_the_contract_codes(srv, owner):
    """Outside its declared range a field gets 400 bad_request naming it
    (from the input whitelist, or from the handler for expires_days 0);
    a name that is not printable gets invalid_name. Nothing is created."""
    n = tokens_count(srv)
    p = ["audit.read"]
    cases = [
        ({"name": "x", "permissions": p, "expires_days": 366}, "bad_request"),
        ({"name": "x", "permissions": p, "expires_days": 1000}, "bad_request"),
        ({"name": "x", "permissions": p, "expires_days": -1}, "bad_request"),
        ({"name": "x", "permissions": p, "expires_days": 0}, "bad_request"),
        ({"name": "a" * 65, "permissions": p}, "bad_request"),
        ({"name": "é" * 65, "permissions": p}, "bad_request"),
        ({"name": "", "permissions": p}, "invalid_name"),
        ({"name": " x", "permissions": p}, "invalid_name"),
        ({"name": "a\u0007b", "permissions": p}, "invalid_name"),
    ]
    wrong = []
    for body, code in cases:
        r = owner.call("POST", TOKENS, body=body)
        err = error_of(r) if r.status_code >= 400 else {}
        if r.status_code != 400 or err.get("code") != code:
            wrong.append((body, r.status_code, err))
        elif code == "bad_request" and "expires_days" in body \
                and "expires_days" not in err["message"]:
            wrong.append((body, "message does not name the field", err))
    assert tokens_count(srv) == n
    assert not wrong, f"answers not as in the contract: {wrong}"


def test_name_limits(srv, owner):
    """64 characters is the limit in characters, not bytes."""
    for name in ("é" * 64, "a" * 64, "日本語のトークン", "x"):
        body = owner.create_ok(name=name, permissions=["doc.read"])
        assert body["name"] == name
        assert {t["id"]: t for t in owner.listed()}[body["id"]]["name"] == name
    for days in (1, 365):
        body = owner.create_ok(name=f"{days} days", expires_days=days)
        span = parse_time(body["expires"]) - parse_time(body["created"])
        assert abs(span - timedelta(days=days)) < timedelta(seconds=5), body


def test_too_many_tokens(srv):
    """At most 50 live tokens per account: the 51st is refused, nothing is
    created; revoking one makes room; expired ones do not count."""
    beta = Account(srv, BETA_OWNER, PW_BETA, tenant="beta")
    db = srv.tenant_dir.parent / "2" / "tenant.db"

    def count():
        return query(db, "SELECT count(*) AS n FROM api_tokens")[0]["n"]

    made = [beta.create_ok(name=f"t{i}", permissions=["doc.read"])
            for i in range(50)]
    srv.made_beta.update(t["token"] for t in made)
    assert count() == 50
    r = beta.create(name="one too many", permissions=["doc.read"])
    assert_error(r, 409, "too_many_tokens")
    assert count() == 50
    assert len(beta.listed()) == 50
    assert beta.revoke(made[0]["id"]).status_code == 200
    srv.made_beta.add(beta.create_ok(name="room again",
                                     permissions=["doc.read"])["token"])
    assert_error(beta.create(name="full", permissions=["doc.read"]), 409,
                 "too_many_tokens")
    # an expired token no longer counts
    con = sqlite3.connect(str(db), timeout=10)
    try:
        with con:
            con.execute("UPDATE api_tokens SET expires = ? WHERE id = ?",
                        (int(time.time()) - 5, made[1]["id"]))
    finally:
        con.close()
    srv.made_beta.add(beta.create_ok(name="after expiry",
                                     permissions=["doc.read"])["token"])
    assert count() == 51  # 50 live, one expired


# ---------------------------------------------------------------- audit

def test_audit_events(srv, owner):
    before = audit_actions(srv)
    body = owner.create_ok(name="audited", permissions=["doc.read"])
    assert owner.revoke(body["id"]).status_code == 200
    rows = query(srv.db, "SELECT * FROM audit_events ORDER BY seq")
    new = rows[len(before):]
    assert [r["action"] for r in new] == ["token.create", "token.revoke"], new
    for r in new:
        assert r["outcome"] == "success", r
        # audit events name the row number (internal, never shown)
        assert r["principal"] == f"user:{owner.row}", r
        assert r["target"] == f"user:{owner.row}", r
        assert r["client_ip"] == "127.0.0.1", r
        assert r["request_id"] and re.match(r"^[0-9a-f]{32}$",
                                            r["request_id"]), r
        raw = r["details"] if isinstance(r["details"], bytes) else (
            (r["details"] or "").encode())
        assert body["token"].encode() not in raw, r
    # every creation on acme was audited
    acme = [t for t in srv.made if t not in srv.made_beta]
    assert audit_actions(srv).count("token.create") == len(acme)
