# SPDX-License-Identifier: AGPL-3.0-or-later
"""Accounts for the administration tests (test_users.py, test_matrix.py):
invitations read back from a real SMTP sink, completed with
POST /api/v1/auth/setup, and signed-in accounts that send any method with
a cookie, a CSRF token or an API token.

Not a test module: pytest collects nothing here.
"""

import json
import re
import secrets
import sqlite3
import time

from test_auth import COOKIE, UA_FIREFOX, assert_public_id, do_setup, query
from test_tokens import Account as TokenAccount

USERS = "/api/v1/admin/users"
CATALOGUE = ["doc.read", "doc.write", "doc.delete", "note.write",
             "space.manage", "user.manage", "role.manage", "audit.read",
             "settings.security", "tenant.export", "tenant.delete"]
INVITE_TTL_S = 7 * 24 * 3600


def invite_subject(slug):
    return (f"Invitation à rejoindre l'espace {slug} / "
            f"Invitation to join {slug}")


def link_re(slug):
    return re.compile(rf"https://{re.escape(slug)}\.localhost:(\d+)/setup#"
                      r"([A-Za-z0-9_-]{43})")


def strong_password(n=24):
    """A random password zxcvbn scores 4 (n base64url characters)."""
    return "Pw-" + secrets.token_urlsafe(n)[:n - 3]


def send(srv, method, path, tenant="acme", host=None, cookie=None, csrf=None,
         bearer=None, body=None, headers=None):
    """One request with exactly the credentials given: a session cookie
    and/or an X-CSRF-Token, or a Bearer token; BODY (a dict) goes as
    application/json whatever the method."""
    hdrs = {"User-Agent": UA_FIREFOX}
    if cookie is not None:
        hdrs["Cookie"] = f"{COOKIE}={cookie}"
    if csrf is not None:
        hdrs["X-CSRF-Token"] = csrf
    if bearer is not None:
        hdrs["Authorization"] = f"Bearer {bearer}"
    kw = {}
    if body is not None:
        hdrs["Content-Type"] = "application/json"
        kw["data"] = json.dumps(body).encode()
    hdrs.update(headers or {})
    where = {"host": host} if host is not None else {"tenant": tenant}
    srv.session.cookies.clear()
    try:
        return srv.request(method, path, headers=hdrs, **where, **kw)
    finally:
        srv.session.cookies.clear()


def sql(db_path, statement, *args):
    con = sqlite3.connect(str(db_path), timeout=10)
    try:
        with con:
            con.execute(statement, args)
    finally:
        con.close()


# the row number of the account of public id ?N (rows keep integer ids)
ROW_OF_1 = "(SELECT id FROM users WHERE public_id = ?1)"


def count(db_path, table, public_id):
    """Rows of TABLE that belong to the account of PUBLIC_ID."""
    return query(db_path, f"SELECT count(*) AS n FROM {table} "
                 f"WHERE user_id = {ROW_OF_1}", public_id)[0]["n"]


class Account(TokenAccount):
    """A signed-in account (cookie, CSRF token, id) that can send any
    method, prove itself again (step-up) and make API tokens."""

    def __init__(self, srv, email, password, tenant="acme"):
        if not hasattr(srv, "made"):
            srv.made = []
        super().__init__(srv, email, password, tenant=tenant)

    def send(self, method, path, body=None, csrf=True, **kw):
        return send(self.srv, method, path, tenant=self.tenant,
                    cookie=self.session, csrf=self.csrf if csrf else None,
                    body=body, **kw)

    def step_up(self):
        r = self.send("POST", "/api/v1/auth/step-up",
                      body={"password": self.password})
        assert r.status_code == 200, r.text

    def age_proof(self, db_path, seconds=600):
        """Make every proof of identity of this account SECONDS older."""
        sql(db_path, "UPDATE sessions SET auth_at = auth_at - ?2 "
            f"WHERE user_id = {ROW_OF_1}", self.id, seconds)

    def token(self, permissions, name="admin script"):
        """A new API token (the session proved itself recently)."""
        return self.create_ok(name=name, permissions=permissions)


def invitations(sink, email, slug="acme"):
    """The invitation mails to EMAIL so far, oldest first."""
    subject = invite_subject(slug)
    return [m for m in sink.messages()
            if email.lower() in sink.recipients(m)
            and str(m["Subject"]) == subject]


def invitation_token(sink, srv, email, before, slug="acme", timeout=10):
    """The TOKEN of invitation number BEFORE (0-based) to EMAIL; waits for
    it. Checks the link names the tenant's host and the server's port."""
    deadline = time.monotonic() + timeout
    while True:
        got = invitations(sink, email, slug)
        if len(got) > before:
            body = sink.body(got[before])
            m = link_re(slug).search(body)
            assert m, body
            assert int(m.group(1)) == srv.port, m.group(0)
            return m.group(2)
        if time.monotonic() > deadline:
            seen = [(sink.recipients(x), str(x["Subject"]))
                    for x in sink.messages()]
            raise AssertionError(f"no invitation to {email} (number "
                                 f"{before}); received {seen!r}")
        time.sleep(0.05)


def invite(actor, email, role):
    """POST /api/v1/admin/users as ACTOR (an Account)."""
    return actor.send("POST", USERS, body={"email": email, "role": role})


def invite_ok(actor, sink, email, role):
    """Invite EMAIL; returns (account as listed, link token)."""
    before = len(invitations(sink, email, actor.tenant))
    r = invite(actor, email, role)
    assert r.status_code == 201, r.text
    user = r.json()["user"]
    assert_public_id(user.get("id"))
    token = invitation_token(sink, actor.srv, email, before, actor.tenant)
    return user, token


def join(actor, sink, email, role, password=None):
    """Invite EMAIL with ROLE, complete the link, sign in: an Account,
    whose id (GET /api/v1/me) is the invited account's id."""
    password = password or strong_password()
    user, token = invite_ok(actor, sink, email, role)
    r = do_setup(actor.srv, token, password, tenant=actor.tenant)
    assert r.status_code == 200, r.text
    acc = Account(actor.srv, email, password, tenant=actor.tenant)
    assert acc.id == user["id"], (acc.id, user)
    return acc


def listed(actor):
    """GET /api/v1/admin/users as ACTOR: {id: account}."""
    r = actor.send("GET", USERS, csrf=False)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"users"}, body
    for u in body["users"]:
        assert_public_id(u.get("id"))
    out = {u["id"]: u for u in body["users"]}
    assert len(out) == len(body["users"]), body   # no id twice
    return out

