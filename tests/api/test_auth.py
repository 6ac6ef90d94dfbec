# SPDX-License-Identifier: AGPL-3.0-or-later
"""Identity, first slice (docs/internals/auth-contract.md): owner accounts
with single-use setup links (COMMITMENT A1), login with a `__Host-` session
cookie, /api/v1/me, CSRF on logout (B5), sessions that never cross tenants
(B2), account lockout (A5), IP ban (A6), the access journal (C1), the audit
trail (C2), no clear e-mail, password or token at rest (D1, invariant 3)
and never a secret in the log.

Every server here has its own data directory. Argon2id costs about 100 ms a
hash, so logins are counted: the whole file stays well under a minute.
"""

import base64
import json
import re
import secrets
import sqlite3
import time
from pathlib import Path

import pytest

from conftest import (assert_clean_stop, assert_error, init_data_dir,
                      make_temp_root, run_cli, start_server, write_conf)

COOKIE = "__Host-coffre_session"
UA_FIREFOX = ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 "
              "Firefox/120.0")
NO_LIMITS = ("[limits]\nread_per_minute = 0\nwrite_per_minute = 0\n"
             "auth_per_minute = 0\n")
STRENGTH_KEYS = {"acceptable", "score", "entropy_bits", "length", "problems",
                 "hints"}

OWNER = "owner@acme.example"
OTHER = "other@acme.example"          # second owner, never uses its link
BETA_OWNER = "owner@beta.example"
PW_OWNER = "violet-Tambour-glacier-47-mirabelle"
PW_BETA = "Cormoran-quatorze-Figuier-83-ardoise"
PW_NEW = "Lanterne-Bisou-orage-1291-pelican"
UNKNOWN = "nobody@acme.example"

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# public ids of accounts, sessions and API tokens (COMMITMENT B2)
ID_RE = re.compile(r"^[0-9a-f]{32}$")
SETUP_RE = re.compile(r"^setup: https://([^/\s]+)/setup#(\S+)$", re.M)
HEX64_RE = re.compile(r"^[0-9a-fA-F]{64}$")
REQUEST_ID_RE = re.compile(r"^[0-9a-fA-F]{32}$")


# ---------------------------------------------------------------- helpers

def setup_token(stdout, slug):
    """The TOKEN of the `setup: https://SLUG.<base>:<port>/setup#TOKEN` line."""
    m = SETUP_RE.search(stdout)
    assert m, f"no setup line in {stdout!r}"
    assert m.group(1).split(":")[0] == f"{slug}.localhost", m.group(0)
    token = m.group(2)
    assert TOKEN_RE.match(token), f"setup token {token!r} is not 43 base64url chars"
    return token


def create_tenant_with_owner(data, slug, name, email):
    r = run_cli("tenant", "create", slug, "--name", name, "--owner", email,
                "--data", data)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return setup_token(r.stdout, slug)


def add_owner(data, slug, email):
    r = run_cli("tenant", "owner", slug, email, "--data", data)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return setup_token(r.stdout, slug)


def call(srv, method, path, tenant="acme", host=None, token=None, csrf=None,
         origin=None, body=None, headers=None, ua=UA_FIREFOX):
    """One request with exactly the cookie given (the requests jar is
    emptied after each call, so no cookie leaks into the next request or
    to another Host)."""
    hdrs = {"User-Agent": ua}
    if token is not None:
        hdrs["Cookie"] = f"{COOKIE}={token}"
    if csrf is not None:
        hdrs["X-CSRF-Token"] = csrf
    if origin is not None:
        hdrs["Origin"] = origin
    hdrs.update(headers or {})
    kw = {"host": host} if host is not None else {"tenant": tenant}
    srv.session.cookies.clear()
    try:
        if body is not None:
            return srv.post_json(path, body, headers=hdrs, **kw)
        return srv.request(method, path, headers=hdrs, **kw)
    finally:
        srv.session.cookies.clear()


def set_cookies(r):
    return r.raw.headers.getlist("Set-Cookie")


def secrets_of(srv):
    if not hasattr(srv, "secrets"):
        srv.secrets = set()
    return srv.secrets


def do_setup(srv, token, password, tenant="acme", **kw):
    secrets_of(srv).update({token, password})
    return call(srv, "POST", "/api/v1/auth/setup", tenant=tenant,
                body={"token": token, "password": password}, **kw)


def login(srv, email, password, tenant="acme", **kw):
    secrets_of(srv).add(password)
    return call(srv, "POST", "/api/v1/auth/login", tenant=tenant,
                body={"email": email, "password": password}, **kw)


def session_token(r):
    """The session token of a successful login response."""
    cookies = set_cookies(r)
    assert len(cookies) == 1, cookies
    m = re.match(rf"^{re.escape(COOKIE)}=([^;]*)", cookies[0])
    assert m, cookies[0]
    return m.group(1)


def login_ok(srv, email, password, tenant="acme"):
    r = login(srv, email, password, tenant=tenant)
    assert r.status_code == 200, f"login {email} on {tenant}: {r.status_code} {r.text}"
    tok = session_token(r)
    secrets_of(srv).add(tok)
    return tok


def me(srv, token, tenant="acme"):
    return call(srv, "GET", "/api/v1/me", tenant=tenant, token=token)


def csrf_of(srv, token, tenant="acme"):
    r = me(srv, token, tenant)
    assert r.status_code == 200, r.text
    return r.json()["csrf_token"]


def logout(srv, token, csrf=None, origin=None, tenant="acme"):
    return call(srv, "POST", "/api/v1/auth/logout", tenant=tenant, token=token,
                csrf=csrf, origin=origin, body={})


def origin_of(srv, slug, scheme="https"):
    return f"{scheme}://{srv.tenant_host(slug)}"


def strength_of(r):
    """The "strength" object of a weak_password answer: the contract says
    the error comes "with" it without fixing where, so both the top level
    and the error object are accepted."""
    body = r.json()
    s = body.get("strength", body.get("error", {}).get("strength"))
    assert isinstance(s, dict), f"no strength object in {body!r}"
    return s


def db_bytes(folder):
    """Bytes of a database and its side files (WAL)."""
    out = b""
    for p in sorted(Path(folder).iterdir()):
        if p.is_file():
            out += p.read_bytes()
    return out


def query(db_path, sql, *args):
    con = sqlite3.connect(str(db_path))
    try:
        con.row_factory = sqlite3.Row
        return [dict(row) for row in con.execute(sql, args)]
    finally:
        con.close()


def tenant_db(data, slug):
    """The tenant database of SLUG under the data directory DATA."""
    rows = query(Path(data) / "control.db",
                 "SELECT id FROM tenants WHERE slug = ?", slug)
    assert len(rows) == 1, (slug, rows)
    return Path(data) / "tenants" / str(rows[0]["id"]) / "tenant.db"


def row_of(db_path, public_id, table="users"):
    """The row number behind the public id of an account (or of a
    session, TABLE sessions): internal, never shown by the API."""
    rows = query(db_path, f"SELECT id FROM {table} WHERE public_id = ?",
                 public_id)
    assert len(rows) == 1, (table, public_id, rows)
    return rows[0]["id"]


def assert_public_id(value, row=None):
    """VALUE is a public id: 32 lower-case hex characters (128 random
    bits), and not the row number ROW in any spelling."""
    assert isinstance(value, str) and ID_RE.match(value), (
        f"not a public id (32 lower-case hex characters): {value!r}")
    if row is not None:
        assert value != str(row) and int(value, 16) != row, (value, row)


def b64url_bytes(token):
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def new_server(conf_extra=""):
    root = make_temp_root()
    data = init_data_dir(root / "data")
    write_conf(data, NO_LIMITS + conf_extra)
    return root, data


# ---------------------------------------------------------------- main server

@pytest.fixture(scope="module")
def ids():
    """A server with tenants acme (owner with a password, a second owner
    who never used its link) and beta (owner with a password). The IP ban
    threshold is raised so the failures of this module never ban."""
    root, data = new_server("[auth]\nip_ban_failures = 1000\n")
    acme_link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    add_owner(data, "acme", OTHER)
    beta_link = create_tenant_with_owner(data, "beta", "Beta Corp", BETA_OWNER)
    srv = start_server(data, log_path=root / "serve.log")
    try:
        r = do_setup(srv, acme_link, PW_OWNER)
        assert r.status_code == 200, r.text
        r = do_setup(srv, beta_link, PW_BETA, tenant="beta")
        assert r.status_code == 200, r.text
        yield srv
    finally:
        if srv.alive():
            assert_clean_stop(srv)
        else:
            pytest.fail(f"server died (rc={srv.proc.returncode}); log:\n"
                        f"{srv.log_tail()}")


@pytest.fixture(scope="module")
def owner_token(ids):
    """A session of the acme owner that no test ends."""
    return login_ok(ids, OWNER, PW_OWNER)


# ---- setup

def test_setup_weak_password_lists_problems(ids):
    link = add_owner(ids.data, "acme", "weak@acme.example")
    r = do_setup(ids, link, "password")
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "weak_password", r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    s = strength_of(r)
    assert set(s) == STRENGTH_KEYS, s     # same object as /password/strength
    assert s["acceptable"] is False, s
    assert isinstance(s["problems"], list) and s["problems"], s
    assert {"common", "weak"} & set(s["problems"]), s
    assert "too_short" in s["problems"], s
    assert s["hints"]["en"] and s["hints"]["fr"], s
    assert not set_cookies(r)


def test_setup_owner_needs_16_characters(ids):
    email = "sixteen@acme.example"
    link = add_owner(ids.data, "acme", email)
    # strong but 14 characters: fine for a member, refused for an owner
    pw14 = "Kx7#mq2Lz9@wR4"
    r = call(ids, "POST", "/api/v1/password/strength", body={"password": pw14})
    assert r.status_code == 200 and r.json()["acceptable"] is True, r.text
    r = do_setup(ids, link, pw14)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "weak_password", r.text
    assert strength_of(r)["problems"] == ["too_short"], r.text
    # refusals do not consume the link; the password is then really set
    r = do_setup(ids, link, PW_NEW)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}
    tok = login_ok(ids, email, PW_NEW)
    r = me(ids, tok)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == email
    assert r.json()["user"]["role"] == "owner"


def test_setup_link_single_use_and_tenant_bound(ids):
    link = add_owner(ids.data, "acme", "once@acme.example")
    # not on the platform host, not on another tenant
    r = do_setup(ids, link, PW_NEW, host=ids.platform_host)
    assert_error(r, 404, "not_found")
    r = do_setup(ids, link, PW_NEW, tenant="beta")
    assert_error(r, 400, "invalid_token")
    # on its tenant: once
    r = do_setup(ids, link, PW_NEW)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}
    r = do_setup(ids, link, PW_NEW)
    assert_error(r, 400, "invalid_token")
    r = do_setup(ids, link, "Another-Perfectly-good-phrase-5150")
    assert_error(r, 400, "invalid_token")


def test_setup_random_token(ids):
    tok = secrets.token_urlsafe(32)
    assert len(tok) == 43
    assert_error(do_setup(ids, tok, PW_NEW), 400, "invalid_token")


def test_setup_malformed_token(ids):
    assert_error(do_setup(ids, "A" * 65, PW_NEW), 400, "bad_request")


def test_setup_bad_input(ids):
    link = add_owner(ids.data, "acme", "input@acme.example")
    path = "/api/v1/auth/setup"
    r = call(ids, "POST", path, body={"token": link, "password": PW_NEW,
                                      "role": "admin"})
    err = assert_error(r, 400, "unknown_field")
    assert "role" in err["message"], err
    r = call(ids, "POST", path, body={"token": link})
    err = assert_error(r, 400, "missing_field")
    assert "password" in err["message"], err
    r = call(ids, "POST", path, body={"token": link, "password": 12345})
    assert_error(r, 400, "bad_request")
    # none of these consumed the link
    r = do_setup(ids, link, PW_NEW)
    assert r.status_code == 200, r.text


# ---- login

def test_login_sets_session_cookie(ids):
    r = login(ids, OWNER, PW_OWNER)
    assert r.status_code == 200, r.text
    assert r.json() == {"mfa_required": False}
    assert r.headers.get("Cache-Control") == "no-store"
    cookies = set_cookies(r)
    assert len(cookies) == 1, cookies
    parts = [p.strip() for p in cookies[0].split(";")]
    name, _, value = parts[0].partition("=")
    assert name == COOKIE, cookies[0]
    assert TOKEN_RE.match(value), f"cookie value {value!r} is not 43 base64url chars"
    secrets_of(ids).add(value)
    attrs = [p.lower() for p in parts[1:]]
    assert sorted(attrs) == sorted(["path=/", "secure", "httponly",
                                    "samesite=strict"]), cookies[0]
    for bad in ("domain", "max-age", "expires"):
        assert not any(a.startswith(bad) for a in attrs), cookies[0]
    assert me(ids, value).status_code == 200


def test_login_email_trimmed_and_case_insensitive(ids):
    tok = login_ok(ids, " OWNER@Acme.Example ", PW_OWNER)
    r = me(ids, tok)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == OWNER


def test_login_failures_are_indistinguishable(ids):
    answers = {
        "wrong password": login(ids, OWNER, PW_OWNER + "x"),
        "unknown e-mail": login(ids, UNKNOWN, PW_OWNER),
        "no password yet": login(ids, OTHER, PW_OWNER),
        "account of another tenant": login(ids, BETA_OWNER, PW_BETA),
    }
    first = answers["wrong password"]
    assert_error(first, 401, "invalid_credentials")
    for what, r in answers.items():
        assert r.status_code == 401, (what, r.status_code, r.text)
        assert r.json() == first.json(), (what, r.text, first.text)
        assert r.headers.get("Content-Type") == first.headers.get("Content-Type")
        assert not set_cookies(r), (what, set_cookies(r))


def test_new_token_each_login_and_sessions_coexist(ids):
    t1 = login_ok(ids, OWNER, PW_OWNER)
    t2 = login_ok(ids, OWNER, PW_OWNER)
    assert t1 != t2
    for t in (t1, t2):
        r = me(ids, t)
        assert r.status_code == 200, r.text
        assert r.json()["user"]["email"] == OWNER
    # ending one session leaves the other (no Origin: not a browser)
    r = logout(ids, t1, csrf_of(ids, t1))
    assert r.status_code == 200, r.text
    assert me(ids, t1).status_code == 401
    assert me(ids, t2).status_code == 200


# ---- /api/v1/me

def test_me_shape(ids, owner_token):
    r = me(ids, owner_token)
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    body = r.json()
    assert set(body) == {"user", "csrf_token", "session", "policy", "mfa"}, body
    assert body["policy"] == {"mfa": "admins"}, body
    # COMMITMENT A12, said plainly: an owner without 2FA must enrol before
    # administration
    assert body["mfa"] == {"enrolled": False, "required": True,
                           "required_for": "administration"}, body
    user = body["user"]
    assert set(user) == {"id", "email", "role", "permissions", "totp",
                         "password_expired"}, user
    # the owner role holds the whole catalogue
    assert len(user["permissions"]) == 11 and "tenant.delete" in user["permissions"]
    assert user["totp"] is False
    assert user["password_expired"] is False
    # COMMITMENT B2: a random public id, not the row number
    assert_public_id(user["id"],
                     row=row_of(tenant_db(ids.data, "acme"), user["id"]))
    assert user["email"] == OWNER
    assert user["role"] == "owner"
    assert isinstance(body["csrf_token"], str) and HEX64_RE.match(body["csrf_token"]), body
    sess = body["session"]
    assert set(sess) >= {"created", "expires"}, sess
    assert isinstance(sess["created"], str) and isinstance(sess["expires"], str)
    assert sess["created"] < sess["expires"], sess
    # stable for the session
    assert me(ids, owner_token).json()["csrf_token"] == body["csrf_token"]


def test_me_without_a_valid_session(ids, owner_token):
    assert_error(call(ids, "GET", "/api/v1/me"), 401, "unauthorized")
    for bad in (secrets.token_urlsafe(32), "x", "",
                owner_token[:-1] + ("A" if owner_token[-1] != "A" else "B"),
                owner_token + "A", "%00" + owner_token):
        assert_error(me(ids, bad), 401, "unauthorized")
    # the right value under another cookie name is no session
    r = call(ids, "GET", "/api/v1/me",
             headers={"Cookie": f"coffre_session={owner_token}"})
    assert_error(r, 401, "unauthorized")
    # and the real session is still fine
    assert me(ids, owner_token).status_code == 200


def test_session_does_not_cross_tenants(ids, owner_token):
    """COMMITMENT B2: a session of acme is nothing on beta."""
    csrf = csrf_of(ids, owner_token)
    assert_error(me(ids, owner_token, tenant="beta"), 401, "unauthorized")
    r = logout(ids, owner_token, csrf, origin=origin_of(ids, "beta"),
               tenant="beta")
    assert_error(r, 401, "unauthorized")
    # not on the platform host either
    r = call(ids, "GET", "/api/v1/me", host=ids.platform_host,
             token=owner_token)
    assert r.status_code in (401, 404), r.text
    assert me(ids, owner_token).status_code == 200
    # beta's own session works on beta, not on acme
    beta = login_ok(ids, BETA_OWNER, PW_BETA, tenant="beta")
    r = me(ids, beta, tenant="beta")
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == BETA_OWNER
    assert_error(me(ids, beta, tenant="acme"), 401, "unauthorized")


# ---- CSRF and logout

def test_logout_needs_csrf_and_same_origin(ids):
    tok = login_ok(ids, OWNER, PW_OWNER)
    csrf = csrf_of(ids, tok)
    same = origin_of(ids, "acme")
    other_csrf = ("0" if csrf[0] != "0" else "1") + csrf[1:]
    refused = {
        "no token": logout(ids, tok),
        "wrong token": logout(ids, tok, other_csrf),
        "empty token": logout(ids, tok, ""),
        "foreign Origin": logout(ids, tok, csrf, "https://evil.example"),
        "http Origin": logout(ids, tok, csrf, origin_of(ids, "acme", "http")),
        "sibling tenant Origin": logout(ids, tok, csrf, origin_of(ids, "beta")),
        "null Origin": logout(ids, tok, csrf, "null"),
    }
    for what, r in refused.items():
        assert r.status_code == 403, (what, r.status_code, r.text)
        assert_error(r, 403, "csrf")
        assert not set_cookies(r), (what, set_cookies(r))
    # none of the refusals ended the session
    assert me(ids, tok).status_code == 200
    r = logout(ids, tok, csrf, same)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}
    cookies = set_cookies(r)
    assert len(cookies) == 1, cookies
    parts = [p.strip() for p in cookies[0].split(";")]
    assert parts[0] == f"{COOKIE}=", cookies[0]
    assert "max-age=0" in [p.lower() for p in parts[1:]], cookies[0]
    assert "path=/" in [p.lower() for p in parts[1:]], cookies[0]
    assert not any(p.lower().startswith("domain") for p in parts), cookies[0]
    assert_error(me(ids, tok), 401, "unauthorized")
    assert_error(logout(ids, tok, csrf, same), 401, "unauthorized")


# ---- OpenAPI

def test_openapi_lists_auth_routes(ids):
    r = call(ids, "GET", "/api/v1/openapi.json", host=ids.platform_host)
    assert r.status_code == 200, r.text[:300]
    paths = r.json()["paths"]
    expected = {
        "/api/v1/auth/setup": ("post", "PUBLIC"),
        "/api/v1/auth/login": ("post", "PUBLIC"),
        # logout also serves a session still owing its second factor
        "/api/v1/auth/logout": ("post", "session.partial"),
        "/api/v1/auth/totp": ("post", "session.partial"),
        "/api/v1/me": ("get", "session"),
    }
    for path, (method, perm) in expected.items():
        assert path in paths, sorted(paths)
        assert method in paths[path], (path, sorted(paths[path]))
        assert paths[path][method].get("x-permission") == perm, (
            path, paths[path][method].get("x-permission"))


# ---- last: the log of everything above

def test_no_secret_in_the_log(ids):
    time.sleep(0.3)  # the log writer flushes every 20 ms
    log = ids.log_text()
    assert '"route":"/api/v1/auth/login"' in log, "no request lines to judge"
    assert len(secrets_of(ids)) >= 15, "too few secrets collected to judge"
    # ("password", the weak one, is also a word of route names)
    leaked = [s for s in secrets_of(ids) if len(s) >= 12 and s in log]
    assert not leaked, f"secrets in the server log: {leaked}"


# ---------------------------------------------------------------- journal

@pytest.fixture(scope="module")
def journal():
    """Its own server: setup, two logins (one ended by logout), an unknown
    e-mail, five wrong passwords, then the right one on the locked
    account; then the server stops and the files are read."""
    root, data = new_server()
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    srv = start_server(data, log_path=root / "serve.log")
    run = {"srv": srv, "data": data, "link": link,
           "wrong": [f"{PW_OWNER}-{i}" for i in range(5)]}
    try:
        r = do_setup(srv, link, PW_OWNER)
        assert r.status_code == 200, r.text
        run["kept"] = login_ok(srv, OWNER, PW_OWNER)          # success
        run["user_id"] = me(srv, run["kept"]).json()["user"]["id"]
        ended = login_ok(srv, OWNER, PW_OWNER)                # success
        run["ended"] = ended
        run["logout"] = logout(srv, ended, csrf_of(srv, ended),
                               origin_of(srv, "acme"))        # logout
        run["unknown"] = login(srv, UNKNOWN, PW_OWNER)        # unknown_user
        run["bad"] = [login(srv, OWNER, pw) for pw in run["wrong"]]
        run["locked"] = login(srv, OWNER, PW_OWNER)           # locked
        run["kept_after"] = me(srv, run["kept"]).status_code
    finally:
        if srv.alive():
            assert_clean_stop(srv)
    tdir = data / "tenants" / "1"
    run["tenant_dir"] = tdir
    run["db"] = tdir / "tenant.db"
    run["bytes"] = db_bytes(tdir)
    run["control_bytes"] = (data / "control.db").read_bytes()
    return run


def test_lockout_after_five_failures(journal):
    """COMMITMENT A5: the right password on a locked account is refused
    exactly like a wrong one."""
    assert journal["unknown"].status_code == 401, journal["unknown"].text
    bad = journal["bad"]
    for r in bad:
        assert_error(r, 401, "invalid_credentials")
    r = journal["locked"]
    assert_error(r, 401, "invalid_credentials")
    assert r.json() == bad[0].json()
    assert not set_cookies(r), set_cookies(r)
    assert "Retry-After" not in r.headers
    # an open session is not ended by the lock
    assert journal["kept_after"] == 200


def test_access_log_records_every_attempt(journal):
    """COMMITMENT C1: every login attempt and logout, in order, with the
    address, the user agent and the device label."""
    assert journal["logout"].status_code == 200, journal["logout"].text
    rows = query(journal["db"], "SELECT * FROM access_log ORDER BY id")
    outcomes = [r["outcome"] for r in rows]
    assert outcomes == (["success", "success", "logout", "unknown_user"]
                        + ["bad_password"] * 5 + ["locked"]), outcomes
    # the journal keeps the row number; the API showed the public id
    assert_public_id(journal["user_id"])
    uid = row_of(journal["db"], journal["user_id"])
    macs = set()
    for r in rows:
        # invariant 3, COMMITMENT D1: the address, the user agent and the device label
        # are sealed at rest (the API shows them: test_me.py); the label's
        # keyed hash is what the new-device check compares
        for col in ("client_ip", "user_agent", "device"):
            assert isinstance(r[col], bytes) and len(r[col]) >= 40, (col, r)
            assert b"127.0.0.1" not in r[col] and b"Firefox" not in r[col]
        assert isinstance(r["device_mac"], bytes), r
        assert len(r["device_mac"]) == 32, r
        macs.add(r["device_mac"])
        assert isinstance(r["time"], str) and r["time"], r
        if r["outcome"] == "unknown_user":
            # no account: no user id (NULL, or 0 which no account has)
            assert r["user_id"] in (None, 0), r
            assert r["email_index"], r
            assert UNKNOWN.encode() not in bytes(r["email_index"]), r
        else:
            assert r["user_id"] == uid, r
    times = [r["time"] for r in rows]
    assert times == sorted(times), times
    assert len(macs) == 1, macs   # one device, one keyed hash
    sessions = query(journal["db"], "SELECT client_ip, user_agent, device "
                     "FROM sessions")
    for r in sessions:
        for col in ("client_ip", "user_agent", "device"):
            assert isinstance(r[col], bytes) and len(r[col]) >= 40, (col, r)


def test_audit_events(journal):
    """COMMITMENT C2: account creation, password set, session start and
    end are audit events."""
    rows = query(journal["db"], "SELECT * FROM audit_events ORDER BY seq")
    actions = [r["action"] for r in rows]
    wanted = ["user.create", "user.password_set", "session.create",
              "session.delete"]
    for a in wanted:
        assert a in actions, (a, actions)
    firsts = [actions.index(a) for a in wanted]
    assert firsts == sorted(firsts), actions
    assert actions.count("session.create") == 2, actions
    assert actions.count("session.delete") == 1, actions
    for r in rows:
        if r["action"] in wanted:
            assert r["outcome"] == "success", r
        if r["action"] in wanted[1:]:  # over HTTP
            assert r["client_ip"] == "127.0.0.1", r
            assert r["request_id"] and REQUEST_ID_RE.match(r["request_id"]), r


def test_no_clear_email_at_rest(journal):
    """COMMITMENT D1 / invariant 3: the address is in no database file, in
    any usual spelling."""
    blob = journal["bytes"]
    # the scan does see the journal (its outcomes are kept in clear), and
    # the user agent is sealed like the address
    assert b"bad_password" in blob
    assert UA_FIREFOX.encode() not in blob
    for email in (OWNER, UNKNOWN, "owner@Acme.Example", "OWNER@ACME.EXAMPLE"):
        assert email.encode() not in blob, email
        assert email.encode("utf-16-le") not in blob, email
    users = query(journal["db"], "SELECT * FROM users")
    assert len(users) == 1, users
    for v in users[0].values():
        if isinstance(v, (str, bytes)):
            assert b"acme.example" not in (v if isinstance(v, bytes) else v.encode())
    # control.db: its audit details are clear JSON and must hold no
    # personal data (audit.md)
    assert OWNER.encode() not in journal["control_bytes"]


def test_no_clear_password_at_rest(journal):
    blob = journal["bytes"]
    for pw in [PW_OWNER, *journal["wrong"]]:
        assert pw.encode() not in blob, pw
    (user,) = query(journal["db"], "SELECT password_hash FROM users")
    assert user["password_hash"].startswith("$argon2id$"), user
    assert PW_OWNER not in user["password_hash"]


def test_no_token_at_rest(journal):
    """Sessions and links keep a keyed hash only: neither the cookie value
    nor the setup token (text or decoded bytes) is in the files."""
    blob = journal["bytes"]
    sessions = query(journal["db"], "SELECT * FROM sessions")
    assert len(sessions) == 1, sessions   # the kept one; the ended one is gone
    for tok in (journal["kept"], journal["ended"], journal["link"]):
        assert tok.encode() not in blob, tok
        assert b64url_bytes(tok) not in blob, tok
    for s in sessions:
        assert s["token_hash"] not in (journal["kept"].encode(),
                                       b64url_bytes(journal["kept"]))


def test_no_secret_in_the_journal_server_log(journal):
    log = journal["srv"].log_text()
    assert '"route":"/api/v1/auth/login"' in log, "no request lines to judge"
    for s in [PW_OWNER, *journal["wrong"], journal["kept"], journal["ended"],
              journal["link"]]:
        assert s not in log, s


# ---------------------------------------------------------------- IP ban

def test_ip_ban(server_factory):
    """COMMITMENT A6: more than ip_ban_failures failed logins from one
    address, over any accounts and any tenants, ban it: 429 `banned` with
    Retry-After, even with the right password; probes stay up."""
    root = make_temp_root()
    data = init_data_dir(root / "data")
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    r = run_cli("tenant", "create", "beta", "--name", "Beta Corp", "--data", data)
    assert r.returncode == 0, r.stderr
    srv = server_factory(data=data, conf=NO_LIMITS + "[auth]\nip_ban_failures = 3\n"
                                                      "ip_ban_minutes = 1\n")
    r = do_setup(srv, link, PW_OWNER)
    assert r.status_code == 200, r.text
    failures = [
        login(srv, UNKNOWN, PW_OWNER),
        login(srv, "ghost@beta.example", PW_OWNER, tenant="beta"),
        login(srv, "ghost2@beta.example", PW_OWNER, tenant="beta"),
        login(srv, OWNER, PW_OWNER + "!"),
    ]
    for r in failures:
        assert_error(r, 401, "invalid_credentials")
    r = login(srv, OWNER, PW_OWNER)
    assert_error(r, 429, "banned")
    assert not set_cookies(r)
    retry = r.headers.get("Retry-After")
    assert retry is not None and retry.isdigit(), r.headers
    assert 1 <= int(retry) <= 60, retry
    # the whole server, every tenant
    assert_error(login(srv, "ghost@beta.example", PW_OWNER, tenant="beta"),
                 429, "banned")
    assert srv.get("/healthz").status_code == 200
    assert call(srv, "GET", "/healthz", tenant="acme").status_code == 200
    assert_clean_stop(srv)
    rows = query(data / "tenants" / "1" / "tenant.db",
                 "SELECT outcome, client_ip FROM access_log ORDER BY id")
    assert [r["outcome"] for r in rows] == [
        "unknown_user", "bad_password", "banned"], rows
    # sealed at rest (invariant 3)
    assert all(isinstance(r["client_ip"], bytes) and
               b"127.0.0.1" not in r["client_ip"] for r in rows), rows
