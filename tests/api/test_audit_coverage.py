# SPDX-License-Identifier: AGPL-3.0-or-later
"""COMMITMENT C2, invariant 1, route by route: every state-changing route of the route
table (every POST, PUT, PATCH and DELETE of the OpenAPI document, tenant
host and platform host) performed once with a valid request that
succeeds writes exactly one audit event in the tenant's audit_events
(the expected action, outcome success, the request's id, the client
address, the principal and the target), and nothing in the platform's
trail. Routes that change nothing by design are listed as such, with the
reason, and write no event.

The table below must cover the document: a mutating route without an
entry fails test_table_covers_every_mutating_route, so a new route comes
with its audit expectation.

A refused request (a 4xx) writes no event: each case first sends its
request refused (no CSRF token, a cross-site Origin, or an unknown field)
and checks the trail did not move, and the domain refusals below (wrong
password, wrong code, missing step-up, conflicts...) are checked the same
way. The audited refusals are the exceptions the contracts name:
admin.ip_refused (outcome failure), and the failure that locks an
account, which is a change (user.lock).

One server for the module (tenant acme, 2FA policy optional, a mail
sink); each case makes what it needs (an invited or signed-in account,
2FA, a token, a role, a group, a grant, a space) before counting.
"""

import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pytest

from accounts import Account, invite_ok, join, send, strong_password
from conftest import REQUEST_ID_RE, run_cli
from test_auth import (OWNER, PW_OWNER, login, login_ok, query, row_of,
                       session_token)
from test_roles import (create_grant_ok, create_group_ok, create_role_ok,
                        create_space_ok, mail_sink, model_server, token_of)
from test_totp import totp

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
EVIL_ORIGIN = "https://evil.example"
SETTINGS = "/api/v1/admin/settings/security"


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sink():
    yield from mail_sink()


@pytest.fixture(scope="module")
def srv(sink):
    yield from model_server(sink)


@pytest.fixture(scope="module")
def owner(srv):
    return Account(srv, OWNER, PW_OWNER)


@dataclass
class Env:
    srv: object
    sink: object
    owner: Account

    @property
    def db(self):
        return self.srv.db

    @property
    def control(self):
        return Path(self.srv.data) / "control.db"

    def row(self, public_id):
        return row_of(self.db, public_id)

    def email(self, tag):
        return f"{tag}-{secrets.token_hex(4)}@acme.example"

    def member(self, tag, role="member"):
        """A new account that completed its invitation and signed in."""
        return join(self.owner, self.sink, self.email(tag), role)

    def invited(self, tag, role="member"):
        """A new invited account (no password yet): (account, token)."""
        return invite_ok(self.owner, self.sink, self.email(tag), role)


@pytest.fixture(scope="module")
def env(srv, sink, owner):
    return Env(srv, sink, owner)


# ---------------------------------------------------------------- requests

@dataclass
class Req:
    """One request: its credentials exactly as given."""
    method: str
    path: str
    body: Optional[dict] = None
    cookie: Optional[str] = None
    csrf: Optional[str] = None
    bearer: Optional[str] = None
    host: str = "tenant"          # or "platform"
    headers: dict = field(default_factory=dict)

    @classmethod
    def of(cls, acc, method, path, body=None):
        """As the signed-in Account ACC (cookie and CSRF token)."""
        return cls(method, path, body=body, cookie=acc.session, csrf=acc.csrf)

    def send(self, srv, body=None, csrf=None, headers=None):
        host = srv.platform_host if self.host == "platform" else None
        hdrs = dict(self.headers)
        hdrs.update(headers or {})
        return send(srv, self.method, self.path, host=host,
                    cookie=self.cookie, csrf=csrf, bearer=self.bearer,
                    body=body, headers=hdrs)

    def valid(self, srv):
        return self.send(srv, body=self.body, csrf=self.csrf)

    def refused(self, srv):
        """The same request refused before anything changes: without its
        CSRF token, from a cross-site page when it has none, or with an
        unknown field (an unknown query parameter without a body)."""
        if self.csrf is not None:
            return self.send(srv, body=self.body), "no CSRF token"
        if self.cookie is not None:
            return (self.send(srv, body=self.body,
                              headers={"Origin": EVIL_ORIGIN}),
                    "cross-site Origin")
        if self.body is not None:
            return (self.send(srv, body=dict(self.body, zz_unknown=1)),
                    "unknown field")
        r = send(srv, self.method, self.path + "?zz_unknown=1",
                 host=srv.platform_host if self.host == "platform" else None,
                 cookie=self.cookie, bearer=self.bearer, headers=self.headers)
        return r, "unknown query parameter"


@dataclass
class Expect:
    """What one performance of the route writes: ACTION (None: nothing),
    by PRINCIPAL on TARGET (strings, or callables of the response)."""
    action: Optional[str]
    principal: object = None
    target: object = None
    status: int = 200


@dataclass
class Case:
    method: str
    path: str               # the route's pattern, as in the document
    name: str
    prepare: Callable       # env -> (Req, Expect)
    action: Optional[str]   # the table's expected action (None: no event)
    reason: str = ""        # why no event (action None)
    xfail: str = ""         # a known gap: the contract is asserted anyway

    @property
    def id(self):
        return f"{self.method} {self.path} [{self.name}]"


# ---------------------------------------------------------------- trail

def max_seq(db):
    return query(db, "SELECT coalesce(max(seq), 0) AS n "
                 "FROM audit_events")[0]["n"]


def new_events(db, since):
    return query(db, "SELECT * FROM audit_events WHERE seq > ? ORDER BY seq",
                 since)


class Trail:
    """The tenant's and the platform's trails from now on."""

    def __init__(self, env):
        self.env = env
        self.tenant = max_seq(env.db)
        self.platform = max_seq(env.control)

    def tenant_new(self):
        return new_events(self.env.db, self.tenant)

    def platform_new(self):
        return new_events(self.env.control, self.platform)

    def assert_unchanged(self, why):
        assert self.tenant_new() == [], (why, self.tenant_new())
        assert self.platform_new() == [], (why, self.platform_new())


def value(x, resp):
    return x(resp) if callable(x) else x


def check_event(ev, resp, action, principal, target, outcome="success"):
    assert ev["action"] == action, ev
    assert ev["outcome"] == outcome, ev
    assert ev["request_id"] and REQUEST_ID_RE.match(ev["request_id"]), ev
    assert ev["request_id"].lower() == \
        resp.headers["X-Request-Id"].lower(), (ev, resp.headers)
    assert ev["client_ip"] == "127.0.0.1", ev
    if principal is not None:
        assert ev["principal"] == value(principal, resp), ev
    if target is not None:
        assert ev["target"] == value(target, resp), ev


# ---------------------------------------------------------------- helpers

def user(acc):
    return f"user:{acc.row}"


def by_owner(env):
    return user(env.owner)


def begin_totp(acc):
    r = acc.send("POST", "/api/v1/me/totp", body={})
    assert r.status_code == 200, r.text
    uri = urllib.parse.urlparse(r.json()["otpauth_uri"])
    return urllib.parse.parse_qs(uri.query)["secret"][0]


def enrol(acc):
    """Turn 2FA on for ACC: (secret, recovery codes); the step whose code
    confirmed it is used up, later steps are not."""
    secret = begin_totp(acc)
    r = acc.send("POST", "/api/v1/me/totp/confirm",
                 body={"code": totp(secret)})
    assert r.status_code == 200, r.text
    return secret, r.json()["recovery_codes"]


def half_session(env, acc):
    """A login of ACC (2FA on) waiting for its second step."""
    r = login(env.srv, acc.email, acc.password)
    assert r.status_code == 200 and r.json() == {"mfa_required": True}, r.text
    return session_token(r)


def sessions_of(acc):
    r = acc.send("GET", "/api/v1/me/sessions", csrf=False)
    assert r.status_code == 200, r.text
    return r.json()["sessions"]


def settings_of(env):
    r = env.owner.send("GET", SETTINGS, csrf=False)
    assert r.status_code == 200, r.text
    return r.json()


def lock(env, acc):
    """Lock ACC with consecutive wrong passwords."""
    n = settings_of(env)["lockout_failures"]
    for _ in range(n):
        r = login(env.srv, acc.email, "not-the-password-" + secrets.token_hex(4))
        assert r.status_code == 401, r.text
    r = login(env.srv, acc.email, acc.password)
    assert r.status_code == 401, "locked: even the right password fails"


def reset_token(env, email, before):
    """The token of the newest reset link mailed to EMAIL after message
    number BEFORE (any subject: it is the only mail with a link)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mails = [m for m in env.sink.messages()
                 if email.lower() in env.sink.recipients(m)]
        for m in mails[before:]:
            body = env.sink.body(m)
            if "/setup#" in body:
                return body.split("/setup#", 1)[1].split()[0].strip()
        time.sleep(0.05)
    raise AssertionError(f"no reset link to {email}")


def mails_to(env, email):
    return len([m for m in env.sink.messages()
                if email.lower() in env.sink.recipients(m)])


def created(key):
    """The target of an object the response created: KEY:<its id>."""
    kind = key

    def target(resp):
        return f"{kind}:{resp.json()[kind]['id']}"
    return target


# ---------------------------------------------------------------- cases
# Each prepare(env) makes what its request needs, uncounted, and returns
# (Req, Expect).

def p_slug_check(env):
    return (Req("POST", "/api/v1/slug/check", body={"slug": "newco"},
                host="platform"), Expect(None))


def p_strength(host):
    def prepare(env):
        return (Req("POST", "/api/v1/password/strength",
                    body={"password": "Correct horse battery 1"}, host=host),
                Expect(None))
    return prepare


def p_setup_invitation(env):
    u, token = env.invited("setup")
    t = f"user:{env.row(u['id'])}"
    return (Req("POST", "/api/v1/auth/setup",
                body={"token": token, "password": strong_password()}),
            Expect("user.password_set", t, t))


def p_setup_reset(env):
    acc = env.member("resetlink")
    before = mails_to(env, acc.email)
    r = send(env.srv, "POST", "/api/v1/auth/reset", body={"email": acc.email})
    assert r.status_code == 200, r.text
    token = reset_token(env, acc.email, before)
    return (Req("POST", "/api/v1/auth/setup",
                body={"token": token, "password": strong_password()}),
            Expect("user.password_reset", user(acc), user(acc)))


def p_login(env):
    acc = env.member("login")
    return (Req("POST", "/api/v1/auth/login",
                body={"email": acc.email, "password": acc.password}),
            Expect("session.create", user(acc), user(acc)))


def p_reset(env):
    acc = env.member("reset")
    return (Req("POST", "/api/v1/auth/reset", body={"email": acc.email}),
            Expect("user.reset_request", user(acc), user(acc)))


def p_reset_unknown(env):
    return (Req("POST", "/api/v1/auth/reset",
                body={"email": env.email("nobody")}), Expect(None))


def p_logout(env):
    acc = env.member("logout")
    return (Req.of(acc, "POST", "/api/v1/auth/logout", body={}),
            Expect("session.delete", user(acc), user(acc)))


def p_second_step_totp(env):
    acc = env.member("mfa")
    secret, _ = enrol(acc)
    half = half_session(env, acc)
    # the confirming step is used up; one step of drift is accepted
    return (Req("POST", "/api/v1/auth/totp",
                body={"code": totp(secret, shift=1)}, cookie=half),
            Expect("session.mfa_totp", user(acc), user(acc)))


def p_second_step_recovery(env):
    acc = env.member("mfarec")
    _, codes = enrol(acc)
    half = half_session(env, acc)
    return (Req("POST", "/api/v1/auth/totp", body={"code": codes[0]},
                cookie=half),
            Expect("session.mfa_recovery", user(acc), user(acc)))


def p_step_up(env):
    acc = env.member("stepup")
    return (Req.of(acc, "POST", "/api/v1/auth/step-up",
                   body={"password": acc.password}),
            Expect("session.step_up", user(acc), user(acc)))


def p_totp_begin(env):
    acc = env.member("totpbegin")
    return (Req.of(acc, "POST", "/api/v1/me/totp", body={}),
            Expect("user.totp_begin", user(acc), user(acc)))


def p_totp_confirm(env):
    acc = env.member("totpconfirm")
    secret = begin_totp(acc)
    return (Req.of(acc, "POST", "/api/v1/me/totp/confirm",
                   body={"code": totp(secret)}),
            Expect("user.totp_enable", user(acc), user(acc)))


def p_totp_delete(env):
    acc = env.member("totpoff")
    enrol(acc)
    acc.step_up()
    return (Req.of(acc, "DELETE", "/api/v1/me/totp"),
            Expect("user.totp_disable", user(acc), user(acc)))


def p_session_delete(env):
    acc = env.member("sessionone")
    login_ok(env.srv, acc.email, acc.password)
    (other,) = [s for s in sessions_of(acc) if not s["current"]]
    return (Req.of(acc, "DELETE", f"/api/v1/me/sessions/{other['id']}"),
            Expect("session.revoke", user(acc), user(acc)))


def p_sessions_delete(env):
    acc = env.member("sessionsall")
    login_ok(env.srv, acc.email, acc.password)
    login_ok(env.srv, acc.email, acc.password)
    return (Req.of(acc, "DELETE", "/api/v1/me/sessions"),
            Expect("session.revoke", user(acc), user(acc)))


def p_sessions_delete_none(env):
    acc = env.member("sessionsnone")
    return Req.of(acc, "DELETE", "/api/v1/me/sessions"), Expect(None)


def p_password(env):
    acc = env.member("password")
    return (Req.of(acc, "POST", "/api/v1/me/password",
                   body={"current": acc.password, "new": strong_password()}),
            Expect("user.password_change", user(acc), user(acc)))


def p_token_create(env):
    env.owner.step_up()
    return (Req.of(env.owner, "POST", "/api/v1/me/tokens",
                   body={"name": "coverage", "permissions": ["audit.read"]}),
            Expect("token.create", by_owner(env), by_owner(env), 201))


def p_token_revoke(env):
    env.owner.step_up()
    tok = env.owner.token(["audit.read"], name="coverage revoke")
    return (Req.of(env.owner, "DELETE", f"/api/v1/me/tokens/{tok['id']}"),
            Expect("token.revoke", by_owner(env), by_owner(env)))


def p_settings(env):
    env.owner.step_up()
    now = settings_of(env)["session_max_hours"]
    assert now > 1, now
    return (Req.of(env.owner, "PATCH", SETTINGS,
                   body={"session_max_hours": now - 1}),
            Expect("settings.session_max_hours", by_owner(env), "tenant"))


def p_settings_same(env):
    env.owner.step_up()
    now = settings_of(env)["session_max_hours"]
    return (Req.of(env.owner, "PATCH", SETTINGS,
                   body={"session_max_hours": now}), Expect(None))


def p_invite(env):
    def target(resp):
        return f"user:{env.row(resp.json()['user']['id'])}"
    return (Req.of(env.owner, "POST", "/api/v1/admin/users",
                   body={"email": env.email("invite"), "role": "member"}),
            Expect("user.invite", by_owner(env), target, 201))


def p_user_role(env):
    acc = env.member("role")
    return (Req.of(env.owner, "PATCH", f"/api/v1/admin/users/{acc.id}",
                   body={"role": "guest"}),
            Expect("user.role", by_owner(env), user(acc)))


def p_user_disable(env):
    acc = env.member("disable")
    return (Req.of(env.owner, "PATCH", f"/api/v1/admin/users/{acc.id}",
                   body={"state": "disabled"}),
            Expect("user.disable", by_owner(env), user(acc)))


def p_user_enable(env):
    acc = env.member("enable")
    r = env.owner.send("PATCH", f"/api/v1/admin/users/{acc.id}",
                       body={"state": "disabled"})
    assert r.status_code == 200, r.text
    return (Req.of(env.owner, "PATCH", f"/api/v1/admin/users/{acc.id}",
                   body={"state": "active"}),
            Expect("user.enable", by_owner(env), user(acc)))


def p_user_remove(env):
    u, _ = env.invited("remove")
    t = f"user:{env.row(u['id'])}"
    env.owner.step_up()
    return (Req.of(env.owner, "DELETE", f"/api/v1/admin/users/{u['id']}"),
            Expect("user.remove", by_owner(env), t))


def p_user_reset_totp(env):
    acc = env.member("lostphone")
    enrol(acc)
    env.owner.step_up()
    return (Req.of(env.owner, "POST",
                   f"/api/v1/admin/users/{acc.id}/reset-totp", body={}),
            Expect("user.totp_reset", by_owner(env), user(acc)))


def p_user_logout(env):
    acc = env.member("kicked")
    return (Req.of(env.owner, "POST", f"/api/v1/admin/users/{acc.id}/logout",
                   body={}),
            Expect("user.logout", by_owner(env), user(acc)))


def p_user_unlock(env):
    acc = env.member("locked")
    lock(env, acc)
    return (Req.of(env.owner, "POST", f"/api/v1/admin/users/{acc.id}/unlock",
                   body={}),
            Expect("user.unlock", by_owner(env), user(acc)))


def uniq(prefix):
    return f"{prefix} {secrets.token_hex(3)}"


def p_role_create(env):
    return (Req.of(env.owner, "POST", "/api/v1/admin/roles",
                   body={"name": uniq("Readers"), "permissions": ["doc.read"]}),
            Expect("role.create", by_owner(env), created("role"), 201))


def p_role_create_token(env):
    tok = token_of(env.owner, ["doc.read", "role.manage"],
                   name="coverage roles")
    return (Req("POST", "/api/v1/admin/roles", bearer=tok.token,
                body={"name": uniq("Scripted"), "permissions": ["doc.read"]}),
            Expect("role.create", tok.principal, created("role"), 201))


def p_role_patch(env):
    role = create_role_ok(env.owner, uniq("Editors"), ["doc.read"])
    return (Req.of(env.owner, "PATCH", f"/api/v1/admin/roles/{role['id']}",
                   body={"name": uniq("Writers"),
                         "permissions": ["doc.read", "doc.write"]}),
            Expect("role.update", by_owner(env), f"role:{role['id']}"))


def p_role_delete(env):
    role = create_role_ok(env.owner, uniq("Gone"), ["doc.read"])
    return (Req.of(env.owner, "DELETE", f"/api/v1/admin/roles/{role['id']}"),
            Expect("role.delete", by_owner(env), f"role:{role['id']}"))


def p_group_create(env):
    u, _ = env.invited("groupmember")
    return (Req.of(env.owner, "POST", "/api/v1/admin/groups",
                   body={"name": uniq("Team"), "members": [u["id"]]}),
            Expect("group.create", by_owner(env), created("group"), 201))


def p_group_patch(env):
    u, _ = env.invited("groupnew")
    inner = create_group_ok(env.owner, uniq("Inner"))
    g = create_group_ok(env.owner, uniq("Outer"))
    return (Req.of(env.owner, "PATCH", f"/api/v1/admin/groups/{g['id']}",
                   body={"name": uniq("Renamed"), "members": [u["id"]],
                         "groups": [inner["id"]]}),
            Expect("group.update", by_owner(env), f"group:{g['id']}"))


def p_group_delete(env):
    """A group with a member, a nested group and a grant: one event."""
    u, _ = env.invited("groupgone")
    inner = create_group_ok(env.owner, uniq("Nested"))
    g = create_group_ok(env.owner, uniq("Doomed"), members=[u["id"]],
                        groups=[inner["id"]])
    create_grant_ok(env.owner, "guest", group=g["id"])
    return (Req.of(env.owner, "DELETE", f"/api/v1/admin/groups/{g['id']}"),
            Expect("group.delete", by_owner(env), f"group:{g['id']}"))


def p_grant_create(env):
    g = create_group_ok(env.owner, uniq("Granted"))
    space = create_space_ok(env.owner, uniq("Granted space"))
    return (Req.of(env.owner, "POST", "/api/v1/admin/grants",
                   body={"role": "member", "group": g["id"],
                         "space": space["id"]}),
            Expect("grant.create", by_owner(env), created("grant"), 201))


def p_grant_delete(env):
    u, _ = env.invited("grantee")
    grant = create_grant_ok(env.owner, "guest", user=u["id"])
    return (Req.of(env.owner, "DELETE", f"/api/v1/admin/grants/{grant['id']}"),
            Expect("grant.delete", by_owner(env), f"grant:{grant['id']}"))


def p_space_create(env):
    return (Req.of(env.owner, "POST", "/api/v1/spaces",
                   body={"name": uniq("Space")}),
            Expect("space.create", by_owner(env), created("space"), 201))


def p_space_patch(env):
    space = create_space_ok(env.owner, uniq("Old name"))
    return (Req.of(env.owner, "PATCH", f"/api/v1/spaces/{space['id']}",
                   body={"name": uniq("New name")}),
            Expect("space.rename", by_owner(env), f"space:{space['id']}"))


def p_space_delete(env):
    """A space with grants on it: one event."""
    space = create_space_ok(env.owner, uniq("Doomed space"))
    g = create_group_ok(env.owner, uniq("Space team"))
    create_grant_ok(env.owner, "member", group=g["id"], space=space["id"])
    return (Req.of(env.owner, "DELETE", f"/api/v1/spaces/{space['id']}"),
            Expect("space.delete", by_owner(env), f"space:{space['id']}"))


C = Case
TABLE = [
    # platform host, or any host: computations, nothing stored
    C("POST", "/api/v1/slug/check", "platform host", p_slug_check, None,
      reason="pure computation: the syntax of a candidate slug, nothing "
             "stored, no tenant"),
    C("POST", "/api/v1/password/strength", "tenant host",
      p_strength("tenant"), None,
      reason="pure computation: judges a candidate password, never "
             "stored"),
    C("POST", "/api/v1/password/strength", "platform host",
      p_strength("platform"), None,
      reason="pure computation: judges a candidate password, never "
             "stored"),
    # sign-in
    C("POST", "/api/v1/auth/setup", "invitation link", p_setup_invitation,
      "user.password_set"),
    C("POST", "/api/v1/auth/setup", "reset link", p_setup_reset,
      "user.password_reset"),
    C("POST", "/api/v1/auth/login", "password", p_login, "session.create"),
    C("POST", "/api/v1/auth/reset", "known address", p_reset,
      "user.reset_request"),
    C("POST", "/api/v1/auth/reset", "unknown address", p_reset_unknown, None,
      reason="no account, nothing changes: the same answer as for an "
             "account (only the access journal notes the attempt)"),
    C("POST", "/api/v1/auth/logout", "own session", p_logout,
      "session.delete"),
    C("POST", "/api/v1/auth/totp", "authenticator code", p_second_step_totp,
      "session.mfa_totp"),
    C("POST", "/api/v1/auth/totp", "recovery code", p_second_step_recovery,
      "session.mfa_recovery"),
    C("POST", "/api/v1/auth/step-up", "password", p_step_up,
      "session.step_up"),
    # my account
    C("POST", "/api/v1/me/totp", "begin", p_totp_begin, "user.totp_begin"),
    C("POST", "/api/v1/me/totp/confirm", "first code", p_totp_confirm,
      "user.totp_enable"),
    C("DELETE", "/api/v1/me/totp", "turn off", p_totp_delete,
      "user.totp_disable"),
    C("DELETE", "/api/v1/me/sessions/{id}", "another session",
      p_session_delete, "session.revoke"),
    C("DELETE", "/api/v1/me/sessions", "two other sessions",
      p_sessions_delete, "session.revoke"),
    C("DELETE", "/api/v1/me/sessions", "no other session",
      p_sessions_delete_none, None,
      reason="no other session: nothing ends, nothing changes"),
    C("POST", "/api/v1/me/password", "change", p_password,
      "user.password_change"),
    C("POST", "/api/v1/me/tokens", "create", p_token_create, "token.create"),
    C("DELETE", "/api/v1/me/tokens/{id}", "revoke", p_token_revoke,
      "token.revoke"),
    # administration
    C("PATCH", SETTINGS, "one stricter setting", p_settings,
      "settings.session_max_hours"),
    C("PATCH", SETTINGS, "the current value", p_settings_same, None,
      reason="a value equal to the current one changes nothing "
             "(auth-contract: no event)"),
    C("POST", "/api/v1/admin/users", "invite", p_invite, "user.invite"),
    C("PATCH", "/api/v1/admin/users/{id}", "role", p_user_role, "user.role"),
    C("PATCH", "/api/v1/admin/users/{id}", "disable", p_user_disable,
      "user.disable"),
    C("PATCH", "/api/v1/admin/users/{id}", "enable", p_user_enable,
      "user.enable"),
    C("DELETE", "/api/v1/admin/users/{id}", "remove", p_user_remove,
      "user.remove"),
    C("POST", "/api/v1/admin/users/{id}/reset-totp", "lost phone",
      p_user_reset_totp, "user.totp_reset"),
    C("POST", "/api/v1/admin/users/{id}/logout", "every session",
      p_user_logout, "user.logout"),
    C("POST", "/api/v1/admin/users/{id}/unlock", "locked account",
      p_user_unlock, "user.unlock"),
    # the model
    C("POST", "/api/v1/admin/roles", "cookie", p_role_create, "role.create"),
    C("POST", "/api/v1/admin/roles", "API token", p_role_create_token,
      "role.create"),
    C("PATCH", "/api/v1/admin/roles/{id}", "name and permissions",
      p_role_patch, "role.update"),
    C("DELETE", "/api/v1/admin/roles/{id}", "unused role", p_role_delete,
      "role.delete"),
    C("POST", "/api/v1/admin/groups", "with a member", p_group_create,
      "group.create"),
    C("PATCH", "/api/v1/admin/groups/{id}", "name, members, groups",
      p_group_patch, "group.update"),
    C("DELETE", "/api/v1/admin/groups/{id}", "with members and a grant",
      p_group_delete, "group.delete"),
    C("POST", "/api/v1/admin/grants", "group in a space", p_grant_create,
      "grant.create"),
    C("DELETE", "/api/v1/admin/grants/{id}", "account's grant",
      p_grant_delete, "grant.delete"),
    C("POST", "/api/v1/spaces", "create", p_space_create, "space.create"),
    C("PATCH", "/api/v1/spaces/{id}", "rename", p_space_patch,
      "space.rename"),
    C("DELETE", "/api/v1/spaces/{id}", "with a grant", p_space_delete,
      "space.delete"),
]


def params(cases):
    out = []
    for c in cases:
        marks = []
        if c.xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=c.xfail))
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


# ---------------------------------------------------------------- the table

def test_table_is_well_formed():
    for c in TABLE:
        assert c.method in MUTATING, c.id
        if c.action is None:
            assert c.reason, f"{c.id}: a route without event needs a reason"
        else:
            assert not c.reason, c.id


def test_table_covers_every_mutating_route(srv):
    """Every POST, PUT, PATCH and DELETE of the OpenAPI document (read on
    the platform host: it lists the routes of both hosts) has an entry,
    and every entry names a route of the document."""
    r = send(srv, "GET", "/api/v1/openapi.json", host=srv.platform_host)
    assert r.status_code == 200, r.text
    doc = set()
    for path, item in r.json()["paths"].items():
        for method in item:
            if method.upper() in MUTATING:
                doc.add((method.upper(), path))
    assert len(doc) > 30, sorted(doc)
    table = {(c.method, c.path) for c in TABLE}
    missing = sorted(doc - table)
    assert not missing, (
        "mutating routes without an entry in the audit table of "
        f"test_audit_coverage.py (add the action they write): {missing}")
    stale = sorted(table - doc)
    assert not stale, f"entries naming no route of the document: {stale}"


@pytest.mark.parametrize("case", params(TABLE))
def test_route_writes_its_event(env, case):
    req, exp = case.prepare(env)
    assert exp.action == case.action, (case.id, exp.action)
    trail = Trail(env)

    # refused first: no event, and the valid request below still works
    r, how = req.refused(env.srv)
    assert 400 <= r.status_code < 500, (case.id, how, r.status_code, r.text)
    trail.assert_unchanged(f"{case.id} refused ({how}, {r.status_code})")

    r = req.valid(env.srv)
    assert r.status_code == exp.status, (case.id, r.status_code, r.text)
    assert REQUEST_ID_RE.match(r.headers.get("X-Request-Id", "")), r.headers
    got = trail.tenant_new()
    platform = trail.platform_new()
    assert platform == [], (case.id, "an event in the platform's trail",
                            platform)
    if exp.action is None:
        assert got == [], (case.id, case.reason, got)
        return
    assert [e["action"] for e in got] == [exp.action], (
        f"{case.id}: expected exactly one event {exp.action}", got)
    check_event(got[0], r, exp.action, exp.principal, exp.target)


# ---------------------------------------------------------------- refusals
# Each refusal makes what it needs and returns the refused request, not
# yet sent.

def r_login_wrong_password(env):
    acc = env.member("wrongpw")
    body = {"email": acc.email, "password": "wrong-" + acc.password}
    return lambda: send(env.srv, "POST", "/api/v1/auth/login", body=body)


def r_login_unknown(env):
    body = {"email": env.email("ghost"), "password": PW_OWNER}
    return lambda: send(env.srv, "POST", "/api/v1/auth/login", body=body)


def r_setup_weak(env):
    _, token = env.invited("weak")
    body = {"token": token, "password": "password"}
    return lambda: send(env.srv, "POST", "/api/v1/auth/setup", body=body)


def r_setup_unknown_link(env):
    body = {"token": secrets.token_urlsafe(32)[:43],
            "password": strong_password()}
    return lambda: send(env.srv, "POST", "/api/v1/auth/setup", body=body)


def r_step_up_wrong(env):
    acc = env.member("stepupwrong")
    body = {"password": "wrong-" + acc.password}
    return lambda: acc.send("POST", "/api/v1/auth/step-up", body=body)


def r_second_step_wrong(env):
    acc = env.member("mfawrong")
    secret, _ = enrol(acc)
    half = half_session(env, acc)
    good = {totp(secret, shift=s) for s in (-1, 0, 1, 2)}
    code = next(c for c in ("000000", "111111", "222222", "333333",
                            "444444") if c not in good)
    return lambda: send(env.srv, "POST", "/api/v1/auth/totp", cookie=half,
                        body={"code": code})


def r_confirm_wrong(env):
    acc = env.member("confirmwrong")
    begin_totp(acc)
    return lambda: acc.send("POST", "/api/v1/me/totp/confirm",
                            body={"code": "12345"})


def r_password_wrong_current(env):
    acc = env.member("pwwrong")
    body = {"current": "wrong-" + acc.password, "new": strong_password()}
    return lambda: acc.send("POST", "/api/v1/me/password", body=body)


def r_token_without_step_up(env):
    acc = env.member("nostepup")
    acc.age_proof(env.db)
    body = {"name": "late", "permissions": ["doc.read"]}
    return lambda: acc.send("POST", "/api/v1/me/tokens", body=body)


def r_token_revoke_unknown(env):
    path = f"/api/v1/me/tokens/{secrets.token_hex(16)}"
    return lambda: env.owner.send("DELETE", path)


def r_session_unknown(env):
    path = f"/api/v1/me/sessions/{secrets.token_hex(16)}"
    return lambda: env.owner.send("DELETE", path)


def r_settings_below_range(env):
    env.owner.step_up()
    return lambda: env.owner.send("PATCH", SETTINGS, body={"history": 1})


def r_settings_lock_out(env):
    env.owner.step_up()
    body = {"admin_ips": ["192.0.2.0/24"]}
    return lambda: env.owner.send("PATCH", SETTINGS, body=body)


def r_invite_taken(env):
    body = {"email": OWNER, "role": "member"}
    return lambda: env.owner.send("POST", "/api/v1/admin/users", body=body)


def r_user_unknown(env):
    path = f"/api/v1/admin/users/{secrets.token_hex(16)}"
    return lambda: env.owner.send("PATCH", path, body={"role": "guest"})


def r_remove_without_step_up(env):
    u, _ = env.invited("keepme")
    env.owner.age_proof(env.db)
    path = f"/api/v1/admin/users/{u['id']}"
    return lambda: env.owner.send("DELETE", path)


def r_role_unknown_permission(env):
    body = {"name": uniq("Bad"), "permissions": ["doc.fly"]}
    return lambda: env.owner.send("POST", "/api/v1/admin/roles", body=body)


def r_role_in_use(env):
    role = create_role_ok(env.owner, uniq("Used"), ["doc.read"])
    g = create_group_ok(env.owner, uniq("Users of role"))
    create_grant_ok(env.owner, role["id"], group=g["id"])
    path = f"/api/v1/admin/roles/{role['id']}"
    return lambda: env.owner.send("DELETE", path)


def r_group_cycle(env):
    a = create_group_ok(env.owner, uniq("A"))
    b = create_group_ok(env.owner, uniq("B"), groups=[a["id"]])
    path = f"/api/v1/admin/groups/{a['id']}"
    return lambda: env.owner.send("PATCH", path, body={"groups": [b["id"]]})


def r_grant_unknown_role(env):
    g = create_group_ok(env.owner, uniq("No role"))
    body = {"role": secrets.token_hex(16), "group": g["id"]}
    return lambda: env.owner.send("POST", "/api/v1/admin/grants", body=body)


def r_space_unknown(env):
    path = f"/api/v1/spaces/{secrets.token_hex(16)}"
    return lambda: env.owner.send("PATCH", path, body={"name": "x"})


def r_member_on_admin_route(env):
    acc = env.member("notadmin")
    body = {"name": uniq("Nope"), "permissions": ["doc.read"]}
    return lambda: acc.send("POST", "/api/v1/admin/roles", body=body)


REFUSALS = [
    ("POST /api/v1/auth/login wrong password", r_login_wrong_password),
    ("POST /api/v1/auth/login unknown address", r_login_unknown),
    ("POST /api/v1/auth/setup weak password", r_setup_weak),
    ("POST /api/v1/auth/setup unknown link", r_setup_unknown_link),
    ("POST /api/v1/auth/step-up wrong password", r_step_up_wrong),
    ("POST /api/v1/auth/totp wrong code", r_second_step_wrong),
    ("POST /api/v1/me/totp/confirm wrong code", r_confirm_wrong),
    ("POST /api/v1/me/password wrong current", r_password_wrong_current),
    ("POST /api/v1/me/tokens without step-up", r_token_without_step_up),
    ("DELETE /api/v1/me/tokens/{id} unknown", r_token_revoke_unknown),
    ("DELETE /api/v1/me/sessions/{id} unknown", r_session_unknown),
    ("PATCH settings below range", r_settings_below_range),
    ("PATCH settings would lock me out", r_settings_lock_out),
    ("POST /api/v1/admin/users address taken", r_invite_taken),
    ("PATCH /api/v1/admin/users/{id} unknown", r_user_unknown),
    ("DELETE /api/v1/admin/users/{id} without step-up",
     r_remove_without_step_up),
    ("POST /api/v1/admin/roles unknown permission",
     r_role_unknown_permission),
    ("DELETE /api/v1/admin/roles/{id} in use", r_role_in_use),
    ("PATCH /api/v1/admin/groups/{id} cycle", r_group_cycle),
    ("POST /api/v1/admin/grants unknown role", r_grant_unknown_role),
    ("PATCH /api/v1/spaces/{id} unknown", r_space_unknown),
    ("POST /api/v1/admin/roles without the permission",
     r_member_on_admin_route),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=[n for n, _ in REFUSALS])
def test_refusal_writes_no_event(env, refusal):
    """The refusal's setup writes events of its own; the trail is read
    around the refused request only."""
    name, prepare = refusal
    request = prepare(env)
    trail = Trail(env)
    r = request()
    assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
    trail.assert_unchanged(f"{name}: {r.status_code} {r.text}")


# ---------------------------------------------------------------- audited
# The refusals the contracts audit: one event each, outcome failure for
# a refusal, success for the lock (a change of the account).

def test_admin_ip_refused_is_one_failure_event(env):
    """auth-contract.md, admin_ips: an administration route from another
    address answers 403 ip_not_allowed and writes admin.ip_refused."""
    r = run_cli("tenant", "policy", "acme", "admin_ips=192.0.2.0/24",
                "--data", str(env.srv.data))
    assert r.returncode == 0, r.stderr
    try:
        for method, path, body in (
                ("GET", "/api/v1/admin/users", None),
                ("POST", "/api/v1/admin/roles",
                 {"name": uniq("Far away"), "permissions": ["doc.read"]})):
            trail = Trail(env)
            r = env.owner.send(method, path, body=body)
            assert r.status_code == 403, (path, r.status_code, r.text)
            assert r.json()["error"]["code"] == "ip_not_allowed", r.text
            got = trail.tenant_new()
            assert [e["action"] for e in got] == ["admin.ip_refused"], got
            check_event(got[0], r, "admin.ip_refused", by_owner(env),
                        "tenant", outcome="failure")
            assert trail.platform_new() == []
        # the account's own routes stay open, and write nothing
        trail = Trail(env)
        assert env.owner.send("GET", "/api/v1/me", csrf=False).status_code \
            == 200
        trail.assert_unchanged("GET /api/v1/me")
    finally:
        r = run_cli("tenant", "policy", "acme", "admin_ips=", "--data",
                    str(env.srv.data))
        assert r.returncode == 0 and "admin_ips: any" in r.stdout, r.stderr


def test_the_failure_that_locks_writes_user_lock(env):
    """Failures below the threshold write nothing; the one that locks
    the account (a change: it cannot sign in any more) writes user.lock,
    by the system, on the account."""
    acc = env.member("lockme")
    n = settings_of(env)["lockout_failures"]
    body = {"email": acc.email, "password": "wrong-" + acc.password}
    for i in range(n):
        trail = Trail(env)
        r = send(env.srv, "POST", "/api/v1/auth/login", body=body)
        assert r.status_code == 401, r.text
        got = trail.tenant_new()
        if i < n - 1:
            assert got == [], (i, got)
        else:
            assert [e["action"] for e in got] == ["user.lock"], got
            check_event(got[0], r, "user.lock", "system", user(acc))
    # locked: the right password fails, and writes nothing more
    trail = Trail(env)
    r = send(env.srv, "POST", "/api/v1/auth/login",
             body={"email": acc.email, "password": acc.password})
    assert r.status_code == 401, r.text
    trail.assert_unchanged("a login refused while locked")


# ---------------------------------------------------------------- changes
# One request may carry several changes; the contracts audit each change:
# admin-contract.md ("Every change is one audit event": a role and a
# state), auth-contract.md ("Every change is an audit event
# settings.NAME"). Still one event per change, none for a field that
# does not change.

def test_one_event_per_change_of_a_request(env):
    acc = env.member("twochanges")
    trail = Trail(env)
    r = env.owner.send("PATCH", f"/api/v1/admin/users/{acc.id}",
                       body={"role": "guest", "state": "disabled"})
    assert r.status_code == 200, r.text
    got = trail.tenant_new()
    assert [e["action"] for e in got] == ["user.role", "user.disable"], got
    for ev in got:
        check_event(ev, r, ev["action"], by_owner(env), user(acc))

    env.owner.step_up()
    now = settings_of(env)
    body = {"session_idle_minutes": now["session_idle_minutes"] - 1,
            "password_min": now["password_min"] + 1,
            "password_score": now["password_score"]}
    assert body["session_idle_minutes"] >= 1, now
    trail = Trail(env)
    r = env.owner.send("PATCH", SETTINGS, body=body)
    assert r.status_code == 200, r.text
    got = trail.tenant_new()
    assert sorted(e["action"] for e in got) == [
        "settings.password_min", "settings.session_idle_minutes"], got
    for ev in got:
        check_event(ev, r, ev["action"], by_owner(env), "tenant")
    assert trail.platform_new() == []
