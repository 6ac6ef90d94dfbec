# SPDX-License-Identifier: AGPL-3.0-or-later
"""My account: live sessions listed and ended (COMMITMENT B5), the access
journal read by its owner (COMMITMENT C1), the password changed with the
current one, other sessions ended (COMMITMENT A2, A4). Every state change
needs the CSRF token; nothing crosses to another account or tenant."""

import secrets

import pytest

from conftest import assert_clean_stop, assert_error, start_server
from test_auth import (OWNER, PW_OWNER, UA_FIREFOX, assert_public_id, call,
                       create_tenant_with_owner, csrf_of, do_setup, login_ok,
                       me, new_server, row_of, strength_of, tenant_db)

PW_NEW = "Marmotte-plage-soleil-88-quinoa"
SECOND = "second@acme.example"
PW_SECOND = "Cormoran-quatorze-Figuier-83-ardoise"


@pytest.fixture(scope="module")
def srv():
    root, data = new_server("[auth]\nip_ban_failures = 1000\n")
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    link2 = create_tenant_with_owner(data, "beta", "Beta", SECOND)
    from test_auth import add_owner
    link3 = add_owner(data, "acme", SECOND)
    s = start_server(data, log_path=root / "serve.log")
    try:
        assert do_setup(s, link, PW_OWNER).status_code == 200
        assert do_setup(s, link2, PW_SECOND, tenant="beta").status_code == 200
        assert do_setup(s, link3, PW_SECOND).status_code == 200
        yield s
    finally:
        if s.alive():
            assert_clean_stop(s)


def delete(s, path, token, csrf=None):
    return call(s, "DELETE", path, token=token, csrf=csrf)


def sessions_of(s, token):
    r = call(s, "GET", "/api/v1/me/sessions", token=token)
    assert r.status_code == 200, r.text
    return r.json()["sessions"]


def current_id(s, token):
    """The public id of the session of TOKEN, as its own list shows it."""
    (mine,) = [x["id"] for x in sessions_of(s, token) if x["current"]]
    return mine


def test_sessions_listed_and_ended(srv):
    a = login_ok(srv, OWNER, PW_OWNER)
    b = login_ok(srv, OWNER, PW_OWNER)
    other = login_ok(srv, SECOND, PW_SECOND)
    r = call(srv, "GET", "/api/v1/me/sessions", token=a)
    assert r.status_code == 200, r.text
    sessions = r.json()["sessions"]
    assert len(sessions) >= 2
    assert sum(1 for x in sessions if x["current"]) == 1
    assert all(x["device"] == "Firefox on Linux" for x in sessions)
    assert all(x["client_ip"] == "127.0.0.1" for x in sessions)
    ids = {x["id"] for x in sessions}
    assert len(ids) == len(sessions), sessions
    # COMMITMENT B2: random public ids, never the row numbers
    db = tenant_db(srv.data, "acme")
    for x in sessions:
        assert_public_id(x["id"], row=row_of(db, x["id"], table="sessions"))
    mine = current_id(srv, a)
    b_id = current_id(srv, b)
    assert {mine, b_id} <= ids and mine != b_id, (mine, b_id, ids)
    # no token of any kind in the list
    assert a not in r.text and b not in r.text
    # another account's session id cannot be ended from here
    other_ids = {x["id"] for x in
                 call(srv, "GET", "/api/v1/me/sessions", token=other).json()["sessions"]}
    csrf = csrf_of(srv, a)
    for sid in other_ids:
        assert_error(delete(srv, f"/api/v1/me/sessions/{sid}", a, csrf), 404,
                     "not_found")
    assert me(srv, other).status_code == 200
    # CSRF is required to end one
    assert_error(delete(srv, f"/api/v1/me/sessions/{b_id}", a), 403, "csrf")
    assert me(srv, b).status_code == 200
    r = delete(srv, f"/api/v1/me/sessions/{b_id}", a, csrf)
    assert r.status_code == 200 and r.json() == {"ended": 1}, r.text
    assert me(srv, b).status_code == 401
    assert me(srv, a).status_code == 200
    assert b_id not in {x["id"] for x in sessions_of(srv, a)}
    # gone: its id is now unknown
    assert_error(delete(srv, f"/api/v1/me/sessions/{b_id}", a, csrf), 404,
                 "not_found")


def test_malformed_or_unknown_session_ids(srv):
    """A malformed id answers like an unknown one: 404 not_found, and no
    session ends; the row number of a live session is no id of it."""
    a = login_ok(srv, OWNER, PW_OWNER)
    c = login_ok(srv, OWNER, PW_OWNER)
    csrf = csrf_of(srv, a)
    c_id = current_id(srv, c)
    c_row = row_of(tenant_db(srv.data, "acme"), c_id, table="sessions")
    upper = c_id.upper() if c_id.upper() != c_id else "A" + c_id[1:]
    first = None
    for bad in ("abc", "1", "0", "-1", str(c_row), format(c_row, "032x"),
                "0" * 32, secrets.token_hex(16), upper, c_id[:-1],
                c_id + "0", "%20" + c_id[1:], c_id[:16] + "-" + c_id[17:],
                "x" * 200):
        r = delete(srv, f"/api/v1/me/sessions/{bad}", a, csrf)
        assert r.status_code == 404, (bad, r.status_code, r.text)
        assert_error(r, 404, "not_found")
        first = first or r.json()
        assert r.json() == first, (bad, r.text)
    assert me(srv, a).status_code == 200
    assert me(srv, c).status_code == 200
    r = delete(srv, f"/api/v1/me/sessions/{c_id}", a, csrf)
    assert r.status_code == 200 and r.json() == {"ended": 1}, r.text
    assert me(srv, c).status_code == 401


def test_ending_the_current_session_by_its_id(srv):
    a = login_ok(srv, OWNER, PW_OWNER)
    r = delete(srv, f"/api/v1/me/sessions/{current_id(srv, a)}", a,
               csrf_of(srv, a))
    assert r.status_code == 200 and r.json() == {"ended": 1}, r.text
    cookies = r.raw.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and "max-age=0" in cookies[0].lower(), cookies
    assert me(srv, a).status_code == 401


def test_end_all_other_sessions(srv):
    a = login_ok(srv, OWNER, PW_OWNER)
    b = login_ok(srv, OWNER, PW_OWNER)
    c = login_ok(srv, OWNER, PW_OWNER)
    r = delete(srv, "/api/v1/me/sessions", a, csrf_of(srv, a))
    assert r.status_code == 200, r.text
    assert r.json()["ended"] >= 2
    assert me(srv, a).status_code == 200
    assert me(srv, b).status_code == 401
    assert me(srv, c).status_code == 401


def test_access_journal_of_my_own(srv):
    tok = login_ok(srv, SECOND, PW_SECOND)
    call(srv, "POST", "/api/v1/auth/login",
         body={"email": SECOND, "password": "wrong-password-1"})
    r = call(srv, "GET", "/api/v1/me/logins?limit=2", token=tok)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["logins"]) == 2
    newest = body["logins"][0]
    assert newest["outcome"] == "bad_password"
    assert newest["device"] == "Firefox on Linux"
    assert body["next_before"] == body["logins"][-1]["id"]
    r2 = call(srv, "GET", f"/api/v1/me/logins?before={body['next_before']}&limit=100",
              token=tok)
    older = r2.json()["logins"]
    assert all(x["id"] < body["next_before"] for x in older)
    # the owner's journal never shows the second account's lines
    mine = call(srv, "GET", "/api/v1/me/logins?limit=100",
                token=login_ok(srv, OWNER, PW_OWNER)).json()["logins"]
    assert all(x["id"] not in {y["id"] for y in body["logins"]} for x in mine)
    assert_error(call(srv, "GET", "/api/v1/me/logins?limit=0", token=tok), 400,
                 "bad_request")
    assert_error(call(srv, "GET", "/api/v1/me/logins?limit=101", token=tok),
                 400, "bad_request")
    assert_error(call(srv, "GET", "/api/v1/me/logins?user=1", token=tok), 400,
                 "unknown_parameter")
    assert call(srv, "GET", "/api/v1/me/logins").status_code == 401


def change(s, token, current, new, csrf="auto"):
    if csrf == "auto":
        csrf = csrf_of(s, token)
    return call(s, "POST", "/api/v1/me/password", token=token, csrf=csrf,
                body={"current": current, "new": new})


def test_password_change(srv):
    a = login_ok(srv, SECOND, PW_SECOND)
    b = login_ok(srv, SECOND, PW_SECOND)
    assert_error(change(srv, a, PW_SECOND, PW_NEW, csrf=None), 403, "csrf")
    assert_error(change(srv, a, "not-my-password", PW_NEW), 400,
                 "wrong_password")
    r = change(srv, a, PW_SECOND, "short")
    assert r.status_code == 400 and r.json()["error"]["code"] == "weak_password"
    assert "too_short" in strength_of(r)["problems"]
    # nothing changed so far: both sessions live, old password works
    assert me(srv, b).status_code == 200
    r = change(srv, a, PW_SECOND, PW_NEW)
    assert r.status_code == 200, r.text
    assert me(srv, a).status_code == 200      # this session stays
    assert me(srv, b).status_code == 401      # every other one ends
    assert call(srv, "POST", "/api/v1/auth/login",
                body={"email": SECOND, "password": PW_SECOND}).status_code == 401
    login_ok(srv, SECOND, PW_NEW)
    # the same address in tenant beta is another account: untouched
    login_ok(srv, SECOND, PW_SECOND, tenant="beta")
