# SPDX-License-Identifier: AGPL-3.0-or-later
"""Administration of accounts (docs/internals/admin-contract.md): the list
as an administrator sees it, invitations mailed to a real SMTP sink and
completed with /api/v1/auth/setup, role and state changes, removal, a
forced sign-out, turning off a lost second factor, the effective
permissions of an account; the rules against escalation and for the last
owner (COMMITMENT B1, B3), CSRF on cookie changes (B5), step-up on the
destructive routes, API tokens carrying user.manage, and one audit event
per change.

One server and one mail sink for the module, tenant acme under the
default 2FA policy: its first owner and an invited admin turn 2FA on;
every other account is invited for the test that needs it. Argon2id
costs about 100 ms a login or a setup, so logins are counted.
"""

import re
import secrets
import time
from datetime import datetime, timedelta, timezone

import pytest

from accounts import (CATALOGUE, INVITE_TTL_S, ROW_OF_1, USERS, Account,
                      count, invitation_token, invitations, invite, invite_ok,
                      join, listed, send, sql, strong_password)
from conftest import assert_clean_stop, assert_error, start_server
from mailsink import MailSink
from test_auth import (OWNER, PW_OWNER, assert_public_id,
                       create_tenant_with_owner, do_setup, login, login_ok, me,
                       new_server, query, row_of, session_token)

ACCOUNT_KEYS = {"id", "email", "role", "state", "totp", "locked",
                "last_login", "created"}
# the list adds each account's direct groups (authz-contract.md)
LISTED_KEYS = ACCOUNT_KEYS | {"groups"}
# created is whole seconds; last_login is the journal line's time (ms)
RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
PW14 = "Kx7#mq2Lz9@wR4"   # strong, 14 characters: a member's, not an admin's
ROLES = {
    "owner": CATALOGUE,
    "admin": [p for p in CATALOGUE
              if p not in ("tenant.export", "tenant.delete")],
    "member": ["doc.read", "doc.write", "doc.delete", "note.write"],
    "guest": ["doc.read"],
    "auditor": ["audit.read"],
}


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sink():
    s = MailSink().start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def srv(sink):
    root, data = new_server("[auth]\nip_ban_failures = 1000\n" + sink.conf())
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    s = start_server(data, log_path=root / "serve.log")
    s.db = data / "tenants" / "1" / "tenant.db"
    s.made = []
    try:
        assert do_setup(s, link, PW_OWNER).status_code == 200
        yield s
    finally:
        if s.alive():
            assert_clean_stop(s)


@pytest.fixture(scope="module")
def owner(srv):
    """The first owner, 2FA on (admin routes need it by default)."""
    a = Account(srv, OWNER, PW_OWNER)
    a.enrol_totp()
    return a


@pytest.fixture(scope="module")
def admin(srv, sink, owner):
    """An invited admin, 2FA on."""
    a = join(owner, sink, "admin@acme.example", "admin")
    a.enrol_totp()
    return a


# ---------------------------------------------------------------- helpers

def events(srv, action, target_id):
    """The events ACTION on the account of public id TARGET_ID: the audit
    trail names accounts by row number (user:<row>), an internal id."""
    return query(srv.db, "SELECT * FROM audit_events WHERE action = ? AND "
                 "target = ? ORDER BY seq", action,
                 f"user:{row_of(srv.db, target_id)}")


def by(actor):
    """The audit principal of an Account acting with its session."""
    return f"user:{actor.row}"


def assert_event(srv, action, target_id, principal, n=1):
    """Exactly N events ACTION on the account TARGET_ID (public id), the
    last by PRINCIPAL."""
    rows = events(srv, action, target_id)
    assert len(rows) == n, (action, target_id, rows)
    ev = rows[-1]
    assert ev["principal"] == principal, ev
    assert ev["outcome"] == "success", ev
    assert ev["client_ip"] == "127.0.0.1", ev
    assert ev["request_id"], ev
    return ev


def user_row(srv, uid):
    """The row of the account of public id UID."""
    rows = query(srv.db, "SELECT role, state, "
                 "password_hash IS NOT NULL AS pw, "
                 "totp_sealed IS NOT NULL AS totp FROM users "
                 "WHERE public_id = ?", uid)
    return rows[0] if rows else None


def bearer(srv, method, path, tok, body=None):
    return send(srv, method, path, bearer=tok, body=body)


def patch(actor, uid, body, csrf=True):
    return actor.send("PATCH", f"{USERS}/{uid}", body=body, csrf=csrf)


def parse_time(s):
    assert isinstance(s, str) and RFC3339_RE.match(s), s
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def id_routes(srv):
    """Every (method, path) of the OpenAPI document under
    /api/v1/admin/users/{id}."""
    r = send(srv, "GET", "/api/v1/openapi.json")
    assert r.status_code == 200, r.text
    out = []
    for path, item in r.json()["paths"].items():
        if path.startswith(f"{USERS}/{{id}}"):
            out += [(m.upper(), path) for m in item]
    return sorted(out)


# ---------------------------------------------------------------- the list

def test_list_shape(srv, sink, owner, admin):
    """Every field of the account as an administrator sees it, for an
    active account with 2FA, a fresh invitation, and a locked one."""
    invited, _ = invite_ok(owner, sink, "Shape@Acme.Example", "guest")
    lock = join(owner, sink, "locked@acme.example", "member")
    users = listed(owner)
    # oldest first: in the order the rows were made
    rows = [row_of(srv.db, i) for i in users]
    assert rows == sorted(rows), "oldest first"
    for u, row in zip(users.values(), rows):
        assert set(u) == LISTED_KEYS, u
        assert u["groups"] == [], u
        # COMMITMENT B2: a random public id, never the row number
        assert_public_id(u["id"], row=row)
        assert u["state"] in ("active", "invited", "disabled"), u
        assert isinstance(u["totp"], bool) and isinstance(u["locked"], bool)
        parse_time(u["created"])
        if u["last_login"] is not None:
            parse_time(u["last_login"])
    created = [u["created"] for u in users.values()]
    assert created == sorted(created), created

    me_ = users[owner.id]
    assert me_["email"] == OWNER and me_["role"] == "owner", me_
    assert me_["state"] == "active" and me_["totp"] is True, me_
    assert me_["locked"] is False, me_
    assert abs(parse_time(me_["last_login"])
               - datetime.now(timezone.utc)) < timedelta(minutes=5), me_
    assert users[admin.id]["role"] == "admin" and users[admin.id]["totp"]

    new = users[invited["id"]]
    assert new == dict(invited, groups=[]), (new, invited)
    assert new["email"] == "shape@acme.example", new   # normalised
    assert new["role"] == "guest" and new["state"] == "invited", new
    assert new["totp"] is False and new["last_login"] is None, new
    assert abs(parse_time(new["created"])
               - datetime.now(timezone.utc)) < timedelta(minutes=1), new

    assert users[lock.id]["locked"] is False
    sql(srv.db, "UPDATE users SET locked_until = ? WHERE public_id = ?",
        int(time.time()) + 600, lock.id)
    try:
        assert listed(owner)[lock.id]["locked"] is True
    finally:
        sql(srv.db, "UPDATE users SET locked_until = 0 WHERE public_id = ?",
            lock.id)
    assert listed(owner)[lock.id]["locked"] is False


# ---------------------------------------------------------------- invitation

def test_invite_mail_and_join(srv, sink, owner):
    email = "new.member@acme.example"
    n_users = len(listed(owner))
    r = invite(owner, "New.Member@ACME.example", "member")
    assert r.status_code == 201, r.text
    body = r.json()
    # a mail was queued: the link is not in the answer
    assert set(body) == {"user", "mail"} and body["mail"] == "queued", body
    user = body["user"]
    assert set(user) == ACCOUNT_KEYS, user
    assert user["email"] == email and user["role"] == "member", user
    assert user["state"] == "invited" and user["last_login"] is None, user
    assert len(listed(owner)) == n_users + 1

    token = invitation_token(sink, srv, email, 0)
    msg = invitations(sink, email)[0]
    assert msg.get_content_type() == "text/plain"
    text = sink.body(msg)
    assert "7 jours" in text and "7 days" in text, text

    # no password yet: the account cannot sign in, like any failure
    wrong = login(srv, OWNER, PW_OWNER + "x")
    r = login(srv, email, PW14)
    assert_error(r, 401, "invalid_credentials")
    assert r.json() == wrong.json()

    # a member's password rules: 14 characters are enough
    r = do_setup(srv, token, PW14)
    assert r.status_code == 200, r.text
    assert listed(owner)[user["id"]]["state"] == "active"
    m = Account(srv, email, PW14)
    assert m.id == user["id"]
    r = me(srv, m.session)
    assert r.json()["user"]["role"] == "member", r.text
    assert listed(owner)[user["id"]]["last_login"] is not None
    # single use
    assert_error(do_setup(srv, token, strong_password()), 400, "invalid_token")

    assert_event(srv, "user.invite", user["id"], by(owner))


def test_invited_admin_needs_16_characters(srv, sink, owner):
    email = "new.admin@acme.example"
    user, token = invite_ok(owner, sink, email, "admin")
    r = do_setup(srv, token, PW14)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "weak_password", r.text
    assert r.json()["strength"]["problems"] == ["too_short"], r.text
    assert listed(owner)[user["id"]]["state"] == "invited"
    pw = strong_password(18)
    r = do_setup(srv, token, pw)
    assert r.status_code == 200, r.text
    a = Account(srv, email, pw)
    assert me(srv, a.session).json()["user"]["role"] == "admin"


def test_invite_conflicts(srv, sink, owner, admin):
    pending, _ = invite_ok(owner, sink, "pending@acme.example", "member")
    before = listed(owner)
    for email in (OWNER, " Owner@ACME.example ", "admin@acme.example",
                  "pending@acme.example", "PENDING@acme.example"):
        r = invite(owner, email, "member")
        assert_error(r, 409, "email_taken")
    assert listed(owner) == before
    # a refusal mails nothing
    time.sleep(0.5)
    assert len(invitations(sink, "pending@acme.example")) == 1


def test_invite_bad_input(srv, owner):
    before = listed(owner)
    n_events = len(query(srv.db, "SELECT seq FROM audit_events"))
    for email in ("not-an-address", "a@", "@acme.example", "two@@acme.example",
                  ""):
        assert_error(invite(owner, email, "member"), 400, "invalid_email")
    for role in ("superuser", "Owner", "", "user.manage"):
        assert_error(invite(owner, "fine@acme.example", role), 400,
                     "unknown_role")
    r = owner.send("POST", USERS, body={"email": "fine@acme.example"})
    assert_error(r, 400, "missing_field")
    r = owner.send("POST", USERS, body={"email": "fine@acme.example",
                                        "role": "member", "state": "active"})
    assert_error(r, 400, "unknown_field")
    assert listed(owner) == before
    assert len(query(srv.db, "SELECT seq FROM audit_events")) == n_events


def test_admin_cannot_invite_an_owner(srv, sink, admin):
    """COMMITMENT B1, no escalation: an admin lacks tenant.export and
    tenant.delete, so it cannot make an owner; it can make an admin."""
    before = listed(admin)
    r = invite(admin, "would-be-owner@acme.example", "owner")
    assert_error(r, 403, "role_not_allowed")
    assert listed(admin) == before
    user, _ = invite_ok(admin, sink, "peer.admin@acme.example", "admin")
    assert user["role"] == "admin"
    assert_event(srv, "user.invite", user["id"], by(admin))


def test_invitation_expires_after_7_days(srv, sink, owner):
    email = "late@acme.example"
    user, token = invite_ok(owner, sink, email, "member")
    (link,) = query(srv.db, "SELECT * FROM user_links WHERE user_id = "
                    + ROW_OF_1, user["id"])
    assert link["purpose"] == "invite", link
    assert abs(link["expires"] - link["created"] - INVITE_TTL_S) <= 2, link
    assert abs(link["expires"] - (time.time() + INVITE_TTL_S)) < 120, link
    sql(srv.db, "UPDATE user_links SET expires = ?2 WHERE user_id = "
        + ROW_OF_1, user["id"], int(time.time()) - 1)
    assert_error(do_setup(srv, token, PW14), 400, "invalid_token")
    assert listed(owner)[user["id"]]["state"] == "invited"
    assert_error(login(srv, email, PW14), 401, "invalid_credentials")


# ---------------------------------------------------------------- changes

def test_patch_role(srv, sink, owner):
    m, _ = invite_ok(owner, sink, "role@acme.example", "member")
    r = patch(owner, m["id"], {"role": "guest"})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"user"}
    u = r.json()["user"]
    assert u["role"] == "guest" and u["id"] == m["id"], u
    assert set(u) == ACCOUNT_KEYS
    assert listed(owner)[m["id"]]["role"] == "guest"
    ev = assert_event(srv, "user.role", m["id"], by(owner))
    assert ev["details"], ev           # old and new role, sealed
    assert b"member" not in bytes(ev["details"]), ev
    r = owner.send("GET", f"{USERS}/{m['id']}/permissions", csrf=False)
    assert r.status_code == 200, r.text
    assert r.json() == {"role": "guest", "permissions": ["doc.read"],
                        "groups": [], "spaces": []}
    # the same role again changes nothing and writes no event
    r = patch(owner, m["id"], {"role": "guest"})
    assert r.status_code == 200, r.text
    assert len(events(srv, "user.role", m["id"])) == 1
    # role and state in one call: both apply, one event each
    r = patch(owner, m["id"], {"role": "auditor", "state": "disabled"})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["role"] == "auditor"
    assert r.json()["user"]["state"] == "disabled"
    assert len(events(srv, "user.role", m["id"])) == 2
    assert_event(srv, "user.disable", m["id"], by(owner))


def test_patch_bad_input(srv, sink, owner):
    m, _ = invite_ok(owner, sink, "patch@acme.example", "member")
    path = f"{USERS}/{m['id']}"
    before = user_row(srv, m["id"])
    n_events = len(query(srv.db, "SELECT seq FROM audit_events"))
    err = assert_error(owner.send("PATCH", path, body={}), 400, "bad_request")
    assert err["message"], err
    for state in ("invited", "locked", "Active", "", "enabled"):
        assert_error(owner.send("PATCH", path, body={"state": state}), 400,
                     "bad_request")
    for role in ("superuser", "OWNER", ""):
        assert_error(owner.send("PATCH", path, body={"role": role}), 400,
                     "unknown_role")
    assert_error(owner.send("PATCH", path, body={"email": "x@acme.example"}),
                 400, "unknown_field")
    assert_error(owner.send("PATCH", path, body={"state": True}), 400,
                 "bad_request")
    assert user_row(srv, m["id"]) == before
    assert len(query(srv.db, "SELECT seq FROM audit_events")) == n_events


def test_disable_then_enable(srv, sink, owner):
    """Disabling ends every session and revokes every token (COMMITMENT
    B1); the account cannot sign in (401 like any failure). Enabling lets
    it sign in again; its old tokens stay dead."""
    pw = strong_password()
    m = join(owner, sink, "disabled@acme.example", "member", pw)
    second = login_ok(srv, m.email, pw)
    tok = m.token(["doc.read"])["token"]
    assert me(srv, m.session).status_code == 200
    assert bearer(srv, "GET", "/api/v1/permissions", tok).status_code == 200
    assert count(srv.db, "sessions", m.id) == 2
    assert count(srv.db, "api_tokens", m.id) == 1

    r = patch(owner, m.id, {"state": "disabled"})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["state"] == "disabled"
    assert listed(owner)[m.id]["state"] == "disabled"
    for cookie in (m.session, second):
        assert_error(me(srv, cookie), 401, "unauthorized")
    assert_error(bearer(srv, "GET", "/api/v1/permissions", tok), 401,
                 "unauthorized")
    assert count(srv.db, "sessions", m.id) == 0
    assert count(srv.db, "api_tokens", m.id) == 0
    wrong = login(srv, m.email, pw + "x")
    r = login(srv, m.email, pw)
    assert_error(r, 401, "invalid_credentials")
    assert r.json() == wrong.json()
    assert "Set-Cookie" not in r.headers
    assert_event(srv, "user.disable", m.id, by(owner))

    r = patch(owner, m.id, {"state": "active"})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["state"] == "active"
    assert_event(srv, "user.enable", m.id, by(owner))
    back = login_ok(srv, m.email, pw)
    assert me(srv, back).status_code == 200
    assert_error(bearer(srv, "GET", "/api/v1/permissions", tok), 401,
                 "unauthorized")


def test_last_owner(srv, sink, owner):
    """COMMITMENT B1: the only active owner cannot be demoted, disabled or
    removed, not even by themself, and nothing changes; an invited owner
    (no password yet) does not count. With a second active owner, one can
    be demoted."""
    owners = [u for u in listed(owner).values()
              if u["role"] == "owner" and u["state"] == "active"]
    assert [u["id"] for u in owners] == [owner.id], owners
    invited, _ = invite_ok(owner, sink, "owner.to.be@acme.example", "owner")
    before = user_row(srv, owner.id)
    owner.step_up()   # audited itself (session.step_up)
    n_events = len(query(srv.db, "SELECT seq FROM audit_events"))
    for body in ({"role": "admin"}, {"role": "member"},
                 {"state": "disabled"}, {"role": "admin", "state": "active"}):
        assert_error(patch(owner, owner.id, body), 409, "last_owner")
    assert_error(owner.send("DELETE", f"{USERS}/{owner.id}"), 409,
                 "last_owner")
    assert user_row(srv, owner.id) == before
    assert len(query(srv.db, "SELECT seq FROM audit_events")) == n_events
    assert me(srv, owner.session).status_code == 200
    # enabling or keeping the owner role is no change of the owners
    r = patch(owner, owner.id, {"role": "owner", "state": "active"})
    assert r.status_code == 200, r.text

    # a second active owner: now one of them can be demoted
    second = join(owner, sink, "second.owner@acme.example", "owner")
    r = patch(owner, second.id, {"role": "admin"})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["role"] == "admin"
    assert_event(srv, "user.role", second.id, by(owner))
    # the invited owner is still no help
    assert listed(owner)[invited["id"]]["state"] == "invited"
    assert_error(patch(owner, owner.id, {"state": "disabled"}), 409,
                 "last_owner")


def test_admin_cannot_manage_an_owner(srv, sink, owner, admin):
    """COMMITMENT B1: an admin cannot demote, disable, remove, sign out or
    reset the 2FA of an owner, nor make anyone an owner (403
    role_not_allowed); it can do all of it to a member. The owner here is
    a second one, so that a failure leaves the first one usable."""
    victim = join(owner, sink, "victim.owner@acme.example", "owner")
    try:
        victim.enrol_totp()
        admin.step_up()
        before = user_row(srv, victim.id)
        assert before["totp"] == 1
        n_events = len(query(srv.db, "SELECT seq FROM audit_events"))
        path = f"{USERS}/{victim.id}"
        refused = {
            "demote": patch(admin, victim.id, {"role": "member"}),
            "disable": patch(admin, victim.id, {"state": "disabled"}),
            "remove": admin.send("DELETE", path),
            "logout": admin.send("POST", f"{path}/logout", body={}),
            "reset-totp": admin.send("POST", f"{path}/reset-totp", body={}),
        }
        for what, r in refused.items():
            assert r.status_code == 403, (what, r.status_code, r.text)
            assert_error(r, 403, "role_not_allowed")
        assert user_row(srv, victim.id) == before
        assert count(srv.db, "sessions", victim.id) == 1
        assert me(srv, victim.session).status_code == 200
        assert len(query(srv.db, "SELECT seq FROM audit_events")) == n_events
        # the first owner, likewise
        assert_error(patch(admin, owner.id, {"state": "disabled"}), 403,
                     "role_not_allowed")
        assert me(srv, owner.session).status_code == 200
        # an owner can (there are two)
        r = patch(owner, victim.id, {"role": "member"})
        assert r.status_code == 200, r.text
    finally:
        sql(srv.db, "UPDATE users SET role = 'member' WHERE public_id = ?",
            victim.id)

    pw = strong_password()
    m = join(owner, sink, "managed@acme.example", "member", pw)
    m.enrol_totp()
    assert_error(patch(admin, m.id, {"role": "owner"}), 403,
                 "role_not_allowed")
    assert user_row(srv, m.id)["role"] == "member"
    r = patch(admin, m.id, {"role": "guest"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "guest"
    r = patch(admin, m.id, {"role": "admin"})      # an admin covers admin
    assert r.status_code == 200 and r.json()["user"]["role"] == "admin"
    r = patch(admin, m.id, {"role": "member", "state": "disabled"})
    assert r.status_code == 200, r.text
    r = patch(admin, m.id, {"state": "active"})
    assert r.status_code == 200, r.text
    login_ok(srv, m.email, pw)
    r = admin.send("POST", f"{USERS}/{m.id}/logout", body={})
    assert r.status_code == 200 and r.json() == {"ended": 1}, r.text
    r = admin.send("POST", f"{USERS}/{m.id}/reset-totp", body={})
    assert r.status_code == 200 and r.json() == {"ok": True}, r.text
    r = admin.send("DELETE", f"{USERS}/{m.id}")
    assert r.status_code == 200 and r.json() == {"removed": 1}, r.text
    for action in ("user.role", "user.disable", "user.enable", "user.logout",
                   "user.totp_reset", "user.remove"):
        rows = events(srv, action, m.id)
        assert rows and rows[-1]["principal"] == by(admin), (action,
                                                                      rows)


def test_remove(srv, sink, owner):
    """Remove needs a step-up, then deletes the account with its
    sessions, tokens, links, recovery codes and password history; the row
    stays as a tombstone (state removed, nothing personal) that no list
    shows and every {id} route answers 404 for; its journal lines and
    audit events stay; the address can be invited again, under a new
    id."""
    email = "leaving@acme.example"
    pw = strong_password()
    m = join(owner, sink, email, "member", pw)
    m.enrol_totp()                                  # recovery codes
    tok = m.token(["doc.read"])["token"]
    # a password history line (none is kept until a password is replaced)
    sql(srv.db, "INSERT INTO password_history (user_id, hash, set_at) "
        "VALUES (?, '$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA', 1)", m.row)
    journal = count(srv.db, "access_log", m.id)
    assert journal >= 1
    tables = ("sessions", "api_tokens", "user_links", "recovery_codes",
              "password_history")
    for t in tables:
        assert count(srv.db, t, m.id) >= 1, t
    path = f"{USERS}/{m.id}"
    # an earlier account may have held this id (see the next test)
    removes = len(events(srv, "user.remove", m.id))
    (index,) = query(srv.db, "SELECT email_index FROM users WHERE "
                     "public_id = ?", m.id)

    owner.age_proof(srv.db)
    assert_error(owner.send("DELETE", path), 403, "step_up_required")
    assert m.id in listed(owner)
    assert me(srv, m.session).status_code == 200
    assert_error(owner.send("DELETE", path, csrf=False), 403, "csrf")
    owner.step_up()
    r = owner.send("DELETE", path)
    assert r.status_code == 200, r.text
    assert r.json() == {"removed": 1}
    assert m.id not in listed(owner)
    # a tombstone keeps the id taken, with nothing personal left in it
    assert user_row(srv, m.id) == {"role": "member", "state": "removed",
                                   "pw": 0, "totp": 0}
    tomb = query(srv.db, "SELECT length(email_sealed) AS n FROM users "
                 "WHERE public_id = ?", m.id)
    assert tomb == [{"n": 0}], tomb
    (after,) = query(srv.db, "SELECT email_index, name_sealed, totp_pending "
                     "FROM users WHERE public_id = ?", m.id)
    assert after["email_index"] != index["email_index"], "address kept"
    assert after["name_sealed"] is None and after["totp_pending"] is None
    for t in tables:
        assert count(srv.db, t, m.id) == 0, t
    assert count(srv.db, "access_log", m.id) == journal
    assert events(srv, "user.invite", m.id), "earlier events stay"
    assert_event(srv, "user.remove", m.id, by(owner), n=removes + 1)
    assert_error(me(srv, m.session), 401, "unauthorized")
    assert_error(bearer(srv, "GET", "/api/v1/permissions", tok), 401,
                 "unauthorized")
    assert_error(login(srv, email, pw), 401, "invalid_credentials")
    bodies = {"PATCH": {"state": "active"}, "POST": {}}
    for method, pattern in id_routes(srv):
        r = owner.send(method, pattern.replace("{id}", str(m.id)),
                       body=bodies.get(method))
        assert r.status_code == 404, (method, pattern, r.text)
        assert_error(r, 404, "not_found")
    # the journal still reads, without the address
    r = owner.send("GET", f"/api/v1/admin/logins?user={m.id}", csrf=False)
    assert r.status_code == 200, r.text
    lines = r.json()["logins"]
    assert len(lines) == journal, lines
    assert all(x["user_id"] == m.id and x["email"] in (None, "")
               for x in lines), lines
    # the address can be invited again
    again, token = invite_ok(owner, sink, email, "guest")
    assert again["state"] == "invited" and again["role"] == "guest"
    assert again["id"] != m.id, again
    assert row_of(srv.db, again["id"]) != row_of(srv.db, m.id), again
    assert do_setup(srv, token, strong_password()).status_code == 200


def test_removed_id_is_not_reused(srv, sink, owner):
    """The journal lines and audit events of a removed account name its
    row (user:<row>), and the API its public id: a later account must get
    neither, or it inherits the removed one's journal (last_login,
    /admin/logins?user=) and its audit trail reads as one person."""
    email = "reused@acme.example"
    m = join(owner, sink, email, "member")
    assert list(listed(owner))[-1] == m.id, "the newest is listed last"
    removed_row = m.row
    owner.step_up()
    r = owner.send("DELETE", f"{USERS}/{m.id}")
    assert r.status_code == 200, r.text
    again, _ = invite_ok(owner, sink, email, "member")
    assert again["id"] != m.id, (
        f"the new account got the removed account's id {m.id}: {again}")
    # nor its row number, which the journal and the audit trail name
    assert row_of(srv.db, again["id"]) != removed_row, again
    assert again["last_login"] is None, again


def test_reset_totp(srv, sink, owner):
    """Needs a step-up; turns 2FA off and drops the recovery codes: the
    account then signs in without a code."""
    pw = strong_password()
    m = join(owner, sink, "lost.phone@acme.example", "member", pw)
    m.enrol_totp()
    r = login(srv, m.email, pw)
    assert r.status_code == 200 and r.json() == {"mfa_required": True}
    assert count(srv.db, "recovery_codes", m.id) == 10
    path = f"{USERS}/{m.id}/reset-totp"

    owner.age_proof(srv.db)
    assert_error(owner.send("POST", path, body={}), 403, "step_up_required")
    assert listed(owner)[m.id]["totp"] is True
    owner.step_up()
    r = owner.send("POST", path, body={})
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}
    assert listed(owner)[m.id]["totp"] is False
    assert count(srv.db, "recovery_codes", m.id) == 0
    assert_event(srv, "user.totp_reset", m.id, by(owner))
    r = login(srv, m.email, pw)
    assert r.status_code == 200 and r.json() == {"mfa_required": False}
    assert me(srv, session_token(r)).status_code == 200


def test_logout_ends_every_session(srv, sink, owner):
    pw = strong_password()
    m = join(owner, sink, "signed.out@acme.example", "member", pw)
    cookies = [m.session, login_ok(srv, m.email, pw),
               login_ok(srv, m.email, pw)]
    path = f"{USERS}/{m.id}/logout"
    assert_error(owner.send("POST", path, body={}, csrf=False), 403, "csrf")
    r = owner.send("POST", path, body={})
    assert r.status_code == 200, r.text
    assert r.json() == {"ended": 3}
    for c in cookies:
        assert_error(me(srv, c), 401, "unauthorized")
    assert count(srv.db, "sessions", m.id) == 0
    assert_event(srv, "user.logout", m.id, by(owner))
    r = owner.send("POST", path, body={})
    assert r.json() == {"ended": 0}, r.text
    assert_event(srv, "user.logout", m.id, by(owner), n=2)
    # only that account's sessions
    assert me(srv, owner.session).status_code == 200


def test_permissions_of_each_role(srv, sink, owner):
    """The effective permissions: the role's, in catalogue order, the same
    lists as GET /api/v1/permissions."""
    r = owner.send("GET", "/api/v1/permissions", csrf=False)
    assert r.status_code == 200, r.text
    declared = {x["name"]: x["permissions"] for x in r.json()["roles"]}
    for role, perms in ROLES.items():
        user, _ = invite_ok(owner, sink, f"perm.{role}@acme.example", role)
        r = owner.send("GET", f"{USERS}/{user['id']}/permissions", csrf=False)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body == {"role": role, "permissions": perms, "groups": [],
                        "spaces": []}, body
        assert body["permissions"] == [p for p in CATALOGUE
                                       if p in declared[role]], body
    r = owner.send("GET", f"{USERS}/{owner.id}/permissions", csrf=False)
    assert r.json() == {"role": "owner", "permissions": CATALOGUE,
                        "groups": [], "spaces": []}


def test_unknown_and_malformed_ids(srv, owner):
    """404 not_found on every {id} route for an id that is not an
    account's, whatever its form; nothing changes."""
    routes = id_routes(srv)
    assert len(routes) >= 6, routes
    owner.step_up()
    n_events = len(query(srv.db, "SELECT seq FROM audit_events"))
    bodies = {"PATCH": {"state": "active"}, "POST": {}}
    real = owner.id
    upper = real.upper() if real.upper() != real else "A" + real[1:]
    for uid in ("999999", "0", "-1", "abc", "1.5", "1e3", " 1",
                "9" * 30, "18446744073709551617",
                # well-formed, but no account's
                "0" * 32, secrets.token_hex(16),
                # an account's id, misspelt, or its row number
                upper, real[:-1], real + "0", "%20" + real[1:],
                real[:16] + "-" + real[17:], str(owner.row),
                format(owner.row, "032x")):
        for method, pattern in routes:
            path = pattern.replace("{id}", uid)
            r = owner.send(method, path, body=bodies.get(method))
            assert r.status_code == 404, (method, path, r.status_code, r.text)
            assert_error(r, 404, "not_found")
    assert len(query(srv.db, "SELECT seq FROM audit_events")) == n_events


# ---------------------------------------------------------------- tokens, CSRF

def test_token_with_user_manage(srv, sink, owner, admin):
    """A token carrying user.manage invites and changes accounts (audited
    as token:<id>) without CSRF, giving only roles whose permissions it
    carries too (a leaked token never mints more than it has); it cannot
    remove or reset 2FA (a token cannot step up); an admin's token cannot
    make an owner."""
    bare = owner.token(["user.manage"])["token"]
    n = len(listed(owner))
    assert_error(bearer(srv, "POST", USERS, bare,
                        body={"email": "bare@acme.example", "role": "member"}),
                 403, "role_not_allowed")
    assert len(listed(owner)) == n
    made = owner.token(["user.manage"] + ROLES["member"])
    tok, tid = made["token"], made["id"]
    r = bearer(srv, "POST", USERS, tok,
               body={"email": "by.token@acme.example", "role": "member"})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    invitation_token(sink, srv, "by.token@acme.example", 0)
    assert_event(srv, "user.invite", uid, f"token:{tid}")
    r = bearer(srv, "PATCH", f"{USERS}/{uid}", tok, body={"role": "guest"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "guest"
    assert_event(srv, "user.role", uid, f"token:{tid}")
    r = bearer(srv, "PATCH", f"{USERS}/{uid}", tok, body={"state": "disabled"})
    assert r.status_code == 200, r.text
    assert_event(srv, "user.disable", uid, f"token:{tid}")
    r = bearer(srv, "GET", USERS, tok)
    assert r.status_code == 200 and str(uid) in r.text
    assert_error(bearer(srv, "DELETE", f"{USERS}/{uid}", tok), 403,
                 "step_up_required")
    assert_error(bearer(srv, "POST", f"{USERS}/{uid}/reset-totp", tok,
                        body={}), 403, "step_up_required")
    assert uid in listed(owner)
    assert not events(srv, "user.remove", uid)

    atok = admin.token(["user.manage"])["token"]
    r = bearer(srv, "POST", USERS, atok,
               body={"email": "token.owner@acme.example", "role": "owner"})
    assert_error(r, 403, "role_not_allowed")
    assert_error(bearer(srv, "PATCH", f"{USERS}/{owner.id}", atok,
                        body={"state": "disabled"}), 403, "role_not_allowed")
    # a token without user.manage, even an owner's, is refused
    other = owner.token(["audit.read"])["token"]
    assert_error(bearer(srv, "GET", USERS, other), 403, "forbidden")


def test_cookie_change_needs_csrf(srv, sink, owner):
    m, _ = invite_ok(owner, sink, "csrf@acme.example", "member")
    owner.step_up()   # audited itself (session.step_up)
    before = listed(owner)
    n_events = len(query(srv.db, "SELECT seq FROM audit_events"))
    uid = m["id"]
    changes = [
        ("POST", USERS, {"email": "csrf2@acme.example", "role": "member"}),
        ("PATCH", f"{USERS}/{uid}", {"role": "guest"}),
        ("DELETE", f"{USERS}/{uid}", None),
        ("POST", f"{USERS}/{uid}/logout", {}),
        ("POST", f"{USERS}/{uid}/reset-totp", {}),
        ("POST", f"{USERS}/{uid}/unlock", {}),
    ]
    for method, path, body in changes:
        r = owner.send(method, path, body=body, csrf=False)
        assert_error(r, 403, "csrf")
        r = owner.send(method, path, body=body,
                       headers={"Origin": "https://evil.localhost"})
        assert_error(r, 403, "csrf")
    assert listed(owner) == before
    assert len(query(srv.db, "SELECT seq FROM audit_events")) == n_events


def test_unlock_is_audited(srv, sink, owner):
    m, _ = invite_ok(owner, sink, "unlock@acme.example", "member")
    sql(srv.db, "UPDATE users SET failed_count = 6, locked_until = ? "
        "WHERE public_id = ?", int(time.time()) + 600, m["id"])
    assert listed(owner)[m["id"]]["locked"] is True
    r = owner.send("POST", f"{USERS}/{m['id']}/unlock", body={})
    assert r.status_code == 200 and r.json() == {"ok": True}, r.text
    assert listed(owner)[m["id"]]["locked"] is False
    assert_event(srv, "user.unlock", m["id"], by(owner))
