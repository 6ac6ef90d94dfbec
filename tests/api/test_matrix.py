# SPDX-License-Identifier: AGPL-3.0-or-later
"""The authorization matrix (COMMITMENT B1, B2, B3): every route of the
route table, as the OpenAPI document publishes it, against every kind of
principal, with the expected answer computed from the route's declared
`x-permission` and the roles' permissions of GET /api/v1/permissions.

Principals: no credentials; a cookie session of each built-in role
(owner, admin, member, guest, auditor) of tenant acme; the owner of
tenant beta, whose cookie and API token are sent to acme's host; API
tokens of acme (an owner's with every permission; an admin's, a
member's and an auditor's with one each, the admin's carrying less than
its role holds); a well-formed token nobody issued; the
operator's metrics token; and, once the route table has grants, a
"space keeper": an auditor granted a custom role of doc.read and
space.manage in one space only.

Expected answers (docs/internals/auth-contract.md, "Permissions and
built-in roles"; ARCHITECTURE.md, "The path of a request"):
- PUBLIC: never 401 or 403, whoever asks.
- ops.metrics: 401 for all but the metrics token.
- session, session.partial: 401 `unauthorized` without a session of this
  tenant; 403 `session_required` for any Bearer token; allowed for a
  session of every role.
- principal: 401 without a session or a valid token of this tenant;
  allowed for every role and every valid token.
- a catalogue permission: 401 as above; 403 `forbidden` when the role
  lacks it (or the token does not carry it); allowed otherwise.
- a catalogue permission on a route marked `"x-scope": "space"` (in a
  space, docs/internals/authz-contract.md): allowed when the principal
  holds it tenant-wide or in at least one space (through a grant), 403
  `forbidden` when it holds it nowhere.
"Allowed" means the request went past authorization: not 401, not 403,
no server error. The requests are harmless: ids that name nothing (32
zero hex digits, the form of every public id) and `{}` bodies, so an
allowed principal gets 400 or 404 where a route would change something.
POST /api/v1/auth/logout is sent with a throw-away session of the
account.

The accounts are made the way an administrator makes them: invited by
the owner, the link read from a real SMTP sink. Tenant acme's 2FA policy
is `optional` here (2FA is tested in test_admin.py and test_users.py):
owners and admins then pass the account gates without enrolling.
"""

import os
import secrets

import pytest

from accounts import CATALOGUE, Account, join, send
from conftest import METRICS_TOKEN, assert_clean_stop, run_cli, start_server
from mailsink import MailSink
from test_auth import (BETA_OWNER, OWNER, PW_BETA, PW_OWNER,
                       create_tenant_with_owner, csrf_of, do_setup, login_ok,
                       me, new_server)

ROLES = ("owner", "admin", "member", "guest", "auditor")
# auth-contract.md, "Permissions and built-in roles"
CONTRACT_ROLES = {
    "owner": set(CATALOGUE),
    "admin": set(CATALOGUE) - {"tenant.export", "tenant.delete"},
    "member": {"doc.read", "doc.write", "doc.delete", "note.write"},
    "guest": {"doc.read"},
    "auditor": {"audit.read"},
}
PSEUDO = ("PUBLIC", "ops.metrics", "session", "session.partial", "principal")
SESSION_PERMS = ("session", "session.partial")

# Routes of the OpenAPI document this file does not send, with the reason.
# Keep it short: every entry is a hole in the matrix.
SKIPPED = {}

# Path parameters: values that name nothing. Accounts, sessions and API
# tokens all have ids of 32 lower-case hex characters (COMMITMENT B2).
NO_SUCH_ID = "0" * 32
NO_SUCH_ASSET = "no-such-asset.css"
# Bodies beyond `{}`: PATCH with an empty object answers 400 before the
# account is looked up; a state makes it reach the (unknown) id.
# The PATCH routes of roles, groups and spaces get a name for the same
# reason.
BODIES = {("PATCH", "/api/v1/admin/users/{id}"): {"state": "active"},
          ("PATCH", "/api/v1/admin/roles/{id}"): {"name": "Matrix"},
          ("PATCH", "/api/v1/admin/groups/{id}"): {"name": "Matrix"},
          ("PATCH", "/api/v1/spaces/{id}"): {"name": "Matrix"}}
LOGOUT = ("POST", "/api/v1/auth/logout")

ALLOW = "allow"


def fill(path):
    """PATH with each {param} replaced by a value that names nothing."""
    out = path
    out = out.replace("{id}", NO_SUCH_ID)
    out = out.replace("{path}", NO_SUCH_ASSET)
    assert "{" not in out, (
        f"{path}: no harmless value for its parameter; add one to fill()")
    return out


# ---------------------------------------------------------------- principals

class Principal:
    """Who sends: KIND is anon, cookie, foreign_cookie, token,
    foreign_token, junk_token or metrics."""

    def __init__(self, name, kind, role=None, account=None, cookie=None,
                 csrf=None, bearer=None, token_perms=(), space_perms=()):
        self.name = name
        # held through a grant in some space, not tenant-wide
        self.space_perms = set(space_perms)
        self.kind = kind
        self.role = role
        self.account = account
        self.cookie = cookie
        self.csrf = csrf
        self.bearer = bearer
        self.token_perms = set(token_perms)

    def __repr__(self):
        return f"<{self.name}>"


def expected(perm, p, roles, scope=None):
    """ALLOW, or the (status, code) of the refusal. SCOPE is the route's
    x-scope ("space": the permission may be held in a space only)."""
    if perm == "PUBLIC":
        return ALLOW
    if perm == "ops.metrics":
        return ALLOW if p.kind == "metrics" else (401, "unauthorized")
    bearer_kinds = ("token", "foreign_token", "junk_token", "metrics")
    if perm in SESSION_PERMS:
        if p.kind in bearer_kinds:
            return (403, "session_required")
        return ALLOW if p.kind == "cookie" else (401, "unauthorized")
    if p.kind not in ("cookie", "token"):
        return (401, "unauthorized")
    if perm == "principal":
        return ALLOW
    assert perm in roles["owner"], f"unknown x-permission {perm!r}"
    held = perm in roles[p.role]
    if scope == "space":
        held = held or perm in p.space_perms
    if p.kind == "token":
        held = held and perm in p.token_perms
    return ALLOW if held else (403, "forbidden")


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sink():
    s = MailSink().start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def world(sink):
    """The server, the principals, the route table and the roles."""
    root, data = new_server("[auth]\nip_ban_failures = 1000\nmfa_optional = 1\n"
                            f"[metrics]\ntoken = {METRICS_TOKEN}\n"
                            + sink.conf())
    acme = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    beta = create_tenant_with_owner(data, "beta", "Beta Corp", BETA_OWNER)
    for slug in ("acme", "beta"):
        r = run_cli("tenant", "policy", slug, "mfa=optional", "--data", data)
        assert r.returncode == 0 and "mfa: optional" in r.stdout, (
            r.returncode, r.stdout, r.stderr)
    srv = start_server(data, log_path=root / "serve.log")
    srv.made = []
    try:
        assert do_setup(srv, acme, PW_OWNER).status_code == 200
        assert do_setup(srv, beta, PW_BETA, tenant="beta").status_code == 200
        owner = Account(srv, OWNER, PW_OWNER)
        accounts = {"owner": owner}
        for role in ROLES[1:]:
            accounts[role] = join(owner, sink, f"{role}@acme.example", role)
        for role, acc in accounts.items():
            assert me(srv, acc.session).json()["user"]["role"] == role
        beta_owner = Account(srv, BETA_OWNER, PW_BETA, tenant="beta")
        r = send(srv, "GET", "/api/v1/openapi.json")
        assert r.status_code == 200, r.text
        ops = {}
        for path, item in r.json()["paths"].items():
            for method, op in item.items():
                ops[(method.upper(), path)] = op

        principals = [Principal("anonymous", "anon")]
        for role, acc in accounts.items():
            principals.append(Principal(role, "cookie", role, acc,
                                        cookie=acc.session, csrf=acc.csrf))
        principals.append(Principal("beta owner's cookie", "foreign_cookie",
                                    "owner", beta_owner,
                                    cookie=beta_owner.session,
                                    csrf=beta_owner.csrf))
        # the admin's token carries less than its role holds
        for role, perms in (("owner", CATALOGUE), ("admin", ["audit.read"]),
                            ("member", ["doc.read"]),
                            ("auditor", ["audit.read"])):
            tok = accounts[role].token(perms)["token"]
            principals.append(Principal(f"{role}'s token", "token", role,
                                        accounts[role], bearer=tok,
                                        token_perms=perms))
        principals.append(Principal(
            "beta owner's token", "foreign_token", "owner", beta_owner,
            bearer=beta_owner.token(CATALOGUE)["token"]))
        principals.append(Principal(
            "unissued token", "junk_token",
            bearer="coffre_pat_" + secrets.token_urlsafe(32)))
        principals.append(Principal("metrics token", "metrics",
                                    bearer=METRICS_TOKEN))
        if ("POST", "/api/v1/admin/grants") in ops:
            principals.append(space_keeper(srv, sink, owner))

        r = owner.send("GET", "/api/v1/permissions", csrf=False)
        assert r.status_code == 200, r.text
        # the built-in roles (the expectations of the principals above)
        roles = {x["name"]: set(x["permissions"]) for x in r.json()["roles"]
                 if x["name"] in ROLES}
        yield {"srv": srv, "accounts": accounts, "beta": beta_owner,
               "principals": principals, "ops": ops, "roles": roles}
    finally:
        if srv.alive():
            assert_clean_stop(srv)


KEEPER = "space keeper"
KEEPER_PERMS = ("doc.read", "space.manage")


def space_keeper(srv, sink, owner):
    """An auditor granted doc.read and space.manage in one space only (a
    custom role), made through the API by the owner."""
    acc = join(owner, sink, "keeper@acme.example", "auditor")
    r = owner.send("POST", "/api/v1/admin/roles",
                   body={"name": "Keepers", "permissions": list(KEEPER_PERMS)})
    assert r.status_code == 201, r.text
    role = r.json()["role"]["id"]
    r = owner.send("POST", "/api/v1/spaces", body={"name": "Kept"})
    assert r.status_code == 201, r.text
    space = r.json()["space"]["id"]
    r = owner.send("POST", "/api/v1/admin/grants",
                   body={"user": acc.id, "role": role, "space": space})
    assert r.status_code == 201, r.text
    return Principal(KEEPER, "cookie", "auditor", acc, cookie=acc.session,
                     csrf=acc.csrf, space_perms=KEEPER_PERMS)


def throwaway(p):
    """A fresh session of P's account, and its CSRF token."""
    acc = p.account
    cookie = login_ok(acc.srv, acc.email, acc.password, tenant=acc.tenant)
    return cookie, csrf_of(acc.srv, cookie, tenant=acc.tenant)


@pytest.fixture(scope="module")
def results(world):
    """Every route of the document sent by every principal:
    {(method, path): {principal name: (status, code, text)}}, plus the
    throw-away sessions used for the logout route."""
    srv = world["srv"]
    out = {}
    world["throwaway"] = {}
    for (method, path), op in sorted(world["ops"].items()):
        if (method, path) in SKIPPED:
            continue
        host = (srv.platform_host if op["x-host"] == "platform"
                else srv.tenant_host("acme"))
        body = BODIES.get((method, path),
                          {} if "requestBody" in op else None)
        row = out[(method, path)] = {}
        for p in world["principals"]:
            cookie, csrf = p.cookie, p.csrf
            if (method, path) == LOGOUT and cookie is not None:
                cookie, csrf = throwaway(p)
                world["throwaway"][p.name] = cookie
            r = send(srv, method, fill(path), host=host, cookie=cookie,
                     csrf=csrf, bearer=p.bearer, body=body)
            code = None
            if r.headers.get("Content-Type", "").startswith(
                    "application/json"):
                try:
                    err = r.json().get("error")
                    code = err.get("code") if isinstance(err, dict) else None
                except (ValueError, AttributeError):
                    code = None
            row[p.name] = (r.status_code, code, r.text[:160])
    if os.environ.get("COFFRE_MATRIX_PRINT"):
        names = [p.name for p in world["principals"]]
        print("\n" + "route | x-permission | " + " | ".join(names))
        for (method, path), row in sorted(out.items()):
            perm = world["ops"][(method, path)]["x-permission"]
            print(f"{method} {path} | {perm} | " + " | ".join(
                f"{row[n][0]} {row[n][1] or ''}".strip() for n in names))
    return out


def by_name(world, name):
    (p,) = [p for p in world["principals"] if p.name == name]
    return p


def check(world, results, principals):
    """Every mismatch between the answers and expected(), as lines."""
    bad = []
    for (method, path), row in sorted(results.items()):
        op = world["ops"][(method, path)]
        perm = op["x-permission"]
        for p in principals:
            status, code, text = row[p.name]
            want = expected(perm, p, world["roles"], op.get("x-scope"))
            if want == ALLOW:
                ok = status not in (401, 403) and status < 500
            else:
                ok = (status, code) == want
            if not ok:
                bad.append(f"{method} {path} [{perm}] as {p.name}: got "
                           f"{status} {code}, want {want} ({text!r})")
    return bad


# ---------------------------------------------------------------- the table

def test_every_route_is_covered(world, results):
    """A route added to the table without being sent here fails this."""
    published = set(world["ops"])
    assert set(SKIPPED) <= published, (
        f"stale entries in SKIPPED: {set(SKIPPED) - published}")
    assert set(results) == published - set(SKIPPED), (
        f"not covered: {published - set(SKIPPED) - set(results)}")
    assert set(results).isdisjoint(SKIPPED)
    assert len(results) >= 40, sorted(results)
    for row in results.values():
        assert set(row) == {p.name for p in world["principals"]}


def test_every_permission_is_known(world):
    known = set(PSEUDO) | set(world["roles"]["owner"])
    for key, op in world["ops"].items():
        assert op.get("x-permission") in known, (key, op.get("x-permission"))
        assert op.get("x-host") in ("platform", "tenant", "any"), (key, op)
    # the document is generated from the route table: each kind is there
    perms = {op["x-permission"] for op in world["ops"].values()}
    assert set(PSEUDO) <= perms, perms
    assert {"user.manage", "audit.read"} <= perms, perms
    for key, op in world["ops"].items():
        assert op.get("x-scope") in (None, "space"), (key, op)
        if op.get("x-scope") == "space":
            assert op["x-permission"] in world["roles"]["owner"], (key, op)


# authz-contract.md, "Routes": the routes marked "in a space"
IN_A_SPACE = {("GET", "/api/v1/spaces"): "doc.read",
              ("GET", "/api/v1/spaces/{id}"): "doc.read",
              ("PATCH", "/api/v1/spaces/{id}"): "space.manage",
              ("DELETE", "/api/v1/spaces/{id}"): "space.manage"}
# and those of the model that need their permission tenant-wide
TENANT_WIDE = {("POST", "/api/v1/spaces"): "space.manage",
               ("GET", "/api/v1/admin/roles"): "role.manage",
               ("POST", "/api/v1/admin/roles"): "role.manage",
               ("PATCH", "/api/v1/admin/roles/{id}"): "role.manage",
               ("DELETE", "/api/v1/admin/roles/{id}"): "role.manage",
               ("GET", "/api/v1/admin/groups"): "role.manage",
               ("POST", "/api/v1/admin/groups"): "role.manage",
               ("PATCH", "/api/v1/admin/groups/{id}"): "role.manage",
               ("DELETE", "/api/v1/admin/groups/{id}"): "role.manage",
               ("GET", "/api/v1/admin/grants"): "role.manage",
               ("POST", "/api/v1/admin/grants"): "role.manage",
               ("DELETE", "/api/v1/admin/grants/{id}"): "role.manage",
               ("GET", "/api/v1/admin/users/{id}/permissions"):
                   "user.manage"}


def test_model_routes_declare_their_permission_and_scope(world):
    """COMMITMENT B1, B3: each route of roles, groups, grants and spaces is
    in the document with the contract's permission; the routes "in a
    space" carry "x-scope": "space", the others none."""
    ops = world["ops"]
    for key, perm in {**IN_A_SPACE, **TENANT_WIDE}.items():
        assert key in ops, f"{key} is not in the document"
        assert ops[key]["x-permission"] == perm, (key, ops[key])
        want = "space" if key in IN_A_SPACE else None
        assert ops[key].get("x-scope") == want, (key, ops[key])
        assert ops[key]["x-host"] == "tenant", (key, ops[key])


def test_roles_are_the_contracts(world):
    """The expectations come from GET /api/v1/permissions: pin it to the
    contract's table so a role granted too much cannot hide."""
    assert world["roles"] == CONTRACT_ROLES
    for role, acc in world["accounts"].items():
        r = me(world["srv"], acc.session)
        assert set(r.json()["user"]["permissions"]) == CONTRACT_ROLES[role]


# ---------------------------------------------------------------- principals

def test_anonymous(world, results):
    bad = check(world, results, [by_name(world, "anonymous")])
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("role", ROLES)
def test_role(world, results, role):
    p = by_name(world, role)
    bad = check(world, results, [p])
    assert not bad, "\n".join(bad)
    # not vacuous: refused exactly where a route needs what it lacks
    needed = {world["ops"][k]["x-permission"] for k in results}
    refused = [k for k, row in results.items() if row[p.name][0] == 403]
    assert bool(refused) == bool(needed & (world["roles"]["owner"]
                                           - world["roles"][role])), role


@pytest.mark.parametrize("name", ["owner's token", "admin's token",
                                  "member's token", "auditor's token",
                                  "unissued token", "metrics token"])
def test_bearer_tokens(world, results, name):
    bad = check(world, results, [by_name(world, name)])
    assert not bad, "\n".join(bad)


def test_space_keeper(world, results):
    """COMMITMENT B1: doc.read and space.manage held in one space pass the
    gate of the routes "in a space" (the unknown space then answers 404)
    and no other: POST /api/v1/spaces needs space.manage tenant-wide."""
    p = by_name(world, KEEPER)
    bad = check(world, results, [p])
    assert not bad, "\n".join(bad)
    row = {key: res[p.name] for key, res in results.items()}
    assert row[("GET", "/api/v1/spaces")][0] == 200, row
    for method in ("GET", "PATCH", "DELETE"):
        assert row[(method, "/api/v1/spaces/{id}")][:2] == (
            404, "not_found"), (method, row)
    assert row[("POST", "/api/v1/spaces")][:2] == (403, "forbidden"), row
    assert row[("GET", "/api/v1/admin/roles")][:2] == (403, "forbidden")


def test_metrics_only_with_its_token(world, results):
    row = results[("GET", "/metrics")]
    assert row["metrics token"][0] == 200, row["metrics token"]
    for name, (status, code, _) in row.items():
        if name != "metrics token":
            assert (status, code) == (401, "unauthorized"), (name, status)


def test_other_tenants_cookie_is_no_cookie(world, results):
    """COMMITMENT B2: beta's cookie on acme's host is nothing: the same
    answer as no cookie on every route (401 wherever a session is
    needed), and it was still a live session of beta all along."""
    p = by_name(world, "beta owner's cookie")
    bad = check(world, results, [p])
    assert not bad, "\n".join(bad)
    for key, row in sorted(results.items()):
        assert row[p.name][:2] == row["anonymous"][:2], (key, row[p.name],
                                                          row["anonymous"])
    srv = world["srv"]
    assert me(srv, p.cookie, tenant="beta").status_code == 200
    spare = world["throwaway"][p.name]
    assert me(srv, spare, tenant="beta").status_code == 200


def test_other_tenants_token(world, results):
    """COMMITMENT B2: beta's token on acme answers exactly like a token
    nobody issued: 401 on every route that takes a token; it still works
    on beta."""
    p = by_name(world, "beta owner's token")
    bad = check(world, results, [p])
    assert not bad, "\n".join(bad)
    n401 = 0
    for key, row in sorted(results.items()):
        assert row[p.name][:2] == row["unissued token"][:2], (
            key, row[p.name], row["unissued token"])
        n401 += row[p.name][0] == 401
    assert n401 >= 10, n401
    r = send(world["srv"], "GET", "/api/v1/admin/users", tenant="beta",
             bearer=p.bearer)
    assert r.status_code == 200, r.text


def test_logout_used_throwaway_sessions(world, results):
    """POST /api/v1/auth/logout ended the throw-away session of each role
    and nothing else."""
    srv = world["srv"]
    for role, acc in world["accounts"].items():
        assert results[LOGOUT][role][0] == 200, results[LOGOUT][role]
        assert me(srv, world["throwaway"][role]).status_code == 401, role


def test_principals_still_signed_in(world, results):
    """No request of the matrix ended a session or revoked a token, so no
    refusal above comes from a dead credential."""
    srv = world["srv"]
    for role, acc in world["accounts"].items():
        assert me(srv, acc.session).status_code == 200, role
    for p in world["principals"]:
        if p.kind == "token":
            r = send(srv, "GET", "/api/v1/permissions", bearer=p.bearer)
            assert r.status_code == 200, (p.name, r.text)
