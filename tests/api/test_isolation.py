# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tenant isolation (COMMITMENT B2): nothing of one tenant can be named,
reached or told apart from the other tenant's side.

One server, two tenants: acme (two owners, each with a session and an API
token) and beta (one owner). Both have the 2FA policy `optional`, so the
owners reach the administration routes without enrolling.

- Every route of the OpenAPI document with an `{id}` in its path is sent
  by beta's owner (beta's host, beta's cookie and CSRF token, then beta's
  API token) once with the id of an object of acme and once with a random
  id: both answers are the same 404, byte for byte, and acme's database
  is unchanged. Each such route has an explicit id kind below (ID_KINDS):
  a new `{id}` route fails the test until it gets one. The kinds are
  accounts, sessions, tokens, custom roles, groups, grants and spaces
  (docs/internals/authz-contract.md, "Names and ids"). The same requests
  made by acme's owner on acme's objects do reach them, so the 404s come
  from the tenant boundary and not from a wrong kind of id.
- acme's cookie on beta's host answers like no cookie at all, acme's API
  token like a token nobody issued, on every route that needs a principal.
- Public ids of accounts, sessions and tokens are 32 lower-case hex
  characters, all distinct, never the row number (which both tenants
  share: each has an account number 1).
"""

import secrets
from pathlib import Path

import pytest

from accounts import CATALOGUE, Account, send
from conftest import assert_clean_stop, assert_error, run_cli, start_server
from test_auth import (BETA_OWNER, OTHER, OWNER, PW_BETA, PW_NEW, PW_OWNER,
                       add_owner, assert_public_id, create_tenant_with_owner,
                       do_setup, login_ok, me, new_server, query, row_of,
                       tenant_db)

# The object each {id} route names, per (METHOD, path) of the OpenAPI
# document. A route missing here fails test_every_id_route_has_a_kind.
ID_KINDS = {
    ("DELETE", "/api/v1/me/sessions/{id}"): "session",
    ("DELETE", "/api/v1/me/tokens/{id}"): "token",
    ("PATCH", "/api/v1/admin/users/{id}"): "user",
    ("DELETE", "/api/v1/admin/users/{id}"): "user",
    ("POST", "/api/v1/admin/users/{id}/reset-totp"): "user",
    ("POST", "/api/v1/admin/users/{id}/logout"): "user",
    ("GET", "/api/v1/admin/users/{id}/permissions"): "user",
    ("POST", "/api/v1/admin/users/{id}/unlock"): "user",
    ("PATCH", "/api/v1/admin/roles/{id}"): "role",
    ("DELETE", "/api/v1/admin/roles/{id}"): "role",
    ("PATCH", "/api/v1/admin/groups/{id}"): "group",
    ("DELETE", "/api/v1/admin/groups/{id}"): "group",
    ("DELETE", "/api/v1/admin/grants/{id}"): "grant",
    ("GET", "/api/v1/spaces/{id}"): "space",
    ("PATCH", "/api/v1/spaces/{id}"): "space",
    ("DELETE", "/api/v1/spaces/{id}"): "space",
}
KINDS = ("user", "session", "token", "role", "group", "grant", "space")
# Bodies beyond `{}`: a PATCH that would change the object if it got
# through (acme has two owners, so disabling one is allowed there).
BODIES = {("PATCH", "/api/v1/admin/users/{id}"): {"state": "disabled"},
          ("PATCH", "/api/v1/admin/roles/{id}"): {
              "name": "Renamed across", "permissions": ["doc.read"]},
          ("PATCH", "/api/v1/admin/groups/{id}"): {
              "name": "Renamed across", "members": []},
          ("PATCH", "/api/v1/spaces/{id}"): {"name": "Renamed across"}}
# Path parameters that are no object id (static assets, public).
NOT_IDS = {"{path}"}
# What acme's side must keep: every table an {id} route could touch (and
# every other table of the tenant database, see snapshot()).
TABLES = ("users", "sessions", "api_tokens", "user_links", "recovery_codes",
          "password_history", "access_log", "audit_events")
# Sent in this order where one object serves several routes: reads, then
# changes, removal last.
METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}


# ---------------------------------------------------------------- fixtures

class World:
    pass


def session_id(acc):
    """The public id of ACC's session, as its own list shows it."""
    r = acc.send("GET", "/api/v1/me/sessions", csrf=False)
    assert r.status_code == 200, r.text
    (sid,) = [x["id"] for x in r.json()["sessions"] if x["current"]]
    return sid


@pytest.fixture(scope="module")
def world():
    root, data = new_server("[auth]\nip_ban_failures = 1000\nmfa_optional = 1\n")
    acme_link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    other_link = add_owner(data, "acme", OTHER)
    beta_link = create_tenant_with_owner(data, "beta", "Beta Corp",
                                         BETA_OWNER)
    for slug in ("acme", "beta"):
        r = run_cli("tenant", "policy", slug, "mfa=optional", "--data", data)
        assert r.returncode == 0 and "mfa: optional" in r.stdout, (
            r.returncode, r.stdout, r.stderr)
    srv = start_server(data, log_path=root / "serve.log")
    srv.made = []
    try:
        for link, pw, slug in ((acme_link, PW_OWNER, "acme"),
                               (other_link, PW_NEW, "acme"),
                               (beta_link, PW_BETA, "beta")):
            r = do_setup(srv, link, pw, tenant=slug)
            assert r.status_code == 200, r.text
        w = World()
        w.srv = srv
        w.data = Path(data)
        w.acme = Account(srv, OWNER, PW_OWNER)
        w.acme_other = Account(srv, OTHER, PW_NEW)
        w.beta = Account(srv, BETA_OWNER, PW_BETA, tenant="beta")
        w.acme_db = tenant_db(data, "acme")
        w.beta_db = tenant_db(data, "beta")
        assert w.acme_db != w.beta_db
        r = send(srv, "GET", "/api/v1/openapi.json")
        assert r.status_code == 200, r.text
        w.ops = {(m.upper(), path): op
                 for path, item in r.json()["paths"].items()
                 for m, op in item.items()}
        # acme's objects, by kind: what beta tries to name
        w.acme_ids = {
            "user": [w.acme.id, w.acme_other.id],
            "session": [session_id(w.acme), session_id(w.acme_other)],
            "token": [w.acme.token(["audit.read"], name="acme 1")["id"],
                      w.acme_other.token(["doc.read"], name="acme 2")["id"]],
        }
        w.acme_ids.update(model_objects(w, w.acme, w.acme_other, "acme"))
        w.acme_token = w.acme.token(CATALOGUE, name="acme all")["token"]
        w.beta_token = w.beta.token(CATALOGUE, name="beta all")["token"]
        # beta has objects of each kind too: its own ids are no key to
        # acme's
        model_objects(w, w.beta, w.beta, "beta")
        yield w
    finally:
        if srv.alive():
            assert_clean_stop(srv)


# ---------------------------------------------------------------- helpers

def model_objects(w, acc, other, tag, n=2):
    """N custom roles, groups, grants and spaces made by ACC (an owner):
    {kind: [id...]}. Each grant gives `guest` in one of the spaces to
    OTHER, an account of the same tenant. Empty while the route table
    has no such routes."""
    def made(path, body, key):
        r = acc.send("POST", path, body=body)
        assert r.status_code == 201, (path, r.status_code, r.text)
        return r.json()[key]["id"]

    out = {}
    if ("POST", "/api/v1/admin/roles") in w.ops:
        out["role"] = [made("/api/v1/admin/roles",
                            {"name": f"Role {tag} {secrets.token_hex(3)}",
                             "permissions": ["doc.read", "audit.read"]},
                            "role") for _ in range(n)]
    if ("POST", "/api/v1/admin/groups") in w.ops:
        out["group"] = [made("/api/v1/admin/groups",
                             {"name": f"Group {tag} {secrets.token_hex(3)}",
                              "members": [other.id]}, "group")
                        for _ in range(n)]
    if ("POST", "/api/v1/spaces") in w.ops:
        out["space"] = [made("/api/v1/spaces",
                             {"name": f"Space {tag} {secrets.token_hex(3)}"},
                             "space") for _ in range(n)]
    if ("POST", "/api/v1/admin/grants") in w.ops:
        out["grant"] = [made("/api/v1/admin/grants",
                             {"user": other.id, "role": "guest",
                              "space": sid}, "grant")
                        for sid in out.get("space", [])]
    return out


def id_routes(w):
    """The (method, path) of the document with an object id in the path."""
    return sorted(k for k in w.ops
                  if "{" in k[1] and not any(p in k[1] for p in NOT_IDS))


def body_of(w, key):
    return BODIES.get(key, {} if "requestBody" in w.ops[key] else None)


def snapshot(db):
    """Every row of every table of DB (the tables of roles, groups, grants
    and spaces included, whatever their names)."""
    tables = {r["name"] for r in query(
        db, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
        "name NOT LIKE 'sqlite_%'")}
    assert set(TABLES) <= tables, tables
    return {t: query(db, f'SELECT * FROM "{t}" ORDER BY rowid')
            for t in sorted(tables)}


def answer(r):
    """What a client can tell of an answer: status, type and body bytes."""
    return (r.status_code, r.headers.get("Content-Type"), r.content)


def random_id():
    return secrets.token_hex(16)


def principal_routes(w):
    """Every route of a tenant's host that needs some credential."""
    return sorted(k for k, op in w.ops.items()
                  if op["x-permission"] != "PUBLIC"
                  and op["x-host"] in ("tenant", "any"))


def fill_acme(w, key):
    """KEY's path with its {id} naming one of acme's objects."""
    method, path = key
    if "{id}" in path:
        path = path.replace("{id}", w.acme_ids[ID_KINDS[key]][0])
    assert "{" not in path, f"{key}: no value for its path parameter"
    return path


# ---------------------------------------------------------------- the map

def test_every_id_route_has_a_kind(world):
    """A route with an object id in its path must say what it names, so
    that the tests below send it the id of an object of the other
    tenant."""
    routes = set(id_routes(world))
    unmapped = routes - set(ID_KINDS)
    assert not unmapped, (
        f"routes with an id but no id kind in ID_KINDS: {sorted(unmapped)}")
    stale = set(ID_KINDS) - routes
    assert not stale, f"ID_KINDS names routes the document lacks: {stale}"
    assert set(ID_KINDS.values()) <= set(KINDS), ID_KINDS
    for key in routes:
        assert key[1].count("{id}") == 1, key
        assert world.ops[key]["x-host"] == "tenant", (key, world.ops[key])
    # every kind has objects on acme's side to aim at
    for kind in set(ID_KINDS.values()):
        assert len(world.acme_ids[kind]) >= 1, kind


# ---------------------------------------------------------------- beta -> acme

def probe_foreign_ids(w, cookie=None, csrf=None, bearer=None):
    """Each {id} route, as beta's principal, with each acme id and with
    random ids: a list of the differences (empty when isolated), and the
    answers seen."""
    bad = []
    seen = {}
    for key in id_routes(w):
        method, pattern = key
        body = body_of(w, key)
        for acme_id in w.acme_ids[ID_KINDS[key]]:
            got = {}
            for what, value in (("acme's", acme_id),
                                ("random", random_id()),
                                ("zero", "0" * 32)):
                r = send(w.srv, method, pattern.replace("{id}", value),
                         tenant="beta", cookie=cookie, csrf=csrf,
                         bearer=bearer, body=body)
                got[what] = answer(r)
            seen[key] = got["acme's"]
            if got["acme's"] != got["random"] or got["random"] != got["zero"]:
                bad.append(f"{method} {pattern} with acme's {ID_KINDS[key]} "
                           f"{acme_id}: {got}")
    return bad, seen


def test_foreign_ids_answer_like_unknown_ones(world):
    """COMMITMENT B2: beta's owner, with its cookie and CSRF token, gets
    the same 404 for acme's objects as for ids nobody has, and acme's
    side does not change."""
    w = world
    w.beta.step_up()  # a refusal for an old proof would hide the 404
    acme_before = snapshot(w.acme_db)
    beta_users = query(w.beta_db, "SELECT * FROM users ORDER BY id")
    bad, seen = probe_foreign_ids(w, cookie=w.beta.session, csrf=w.beta.csrf)
    assert not bad, "\n".join(bad)
    for key, (status, _, body) in seen.items():
        assert status == 404, (key, status, body)
    for key in seen:
        r = send(w.srv, key[0], key[1].replace("{id}", random_id()),
                 tenant="beta", cookie=w.beta.session, csrf=w.beta.csrf,
                 body=body_of(w, key))
        assert_error(r, 404, "not_found")
    assert snapshot(w.acme_db) == acme_before, "acme's data changed"
    assert query(w.beta_db, "SELECT * FROM users ORDER BY id") == beta_users
    # nobody was signed out on either side
    for acc in (w.acme, w.acme_other, w.beta):
        assert me(w.srv, acc.session, tenant=acc.tenant).status_code == 200


def test_foreign_ids_with_a_token_answer_like_unknown_ones(world):
    """The same with beta's API token (every permission): the routes of
    the account's own settings refuse any token, the others answer 404,
    in both cases the same for acme's ids and random ones."""
    w = world
    acme_before = snapshot(w.acme_db)
    bad, seen = probe_foreign_ids(w, bearer=w.beta_token)
    assert not bad, "\n".join(bad)
    for key, (status, _, body) in seen.items():
        want = 403 if w.ops[key]["x-permission"] == "session" else 404
        assert status == want, (key, status, body)
    assert snapshot(w.acme_db) == acme_before, "acme's data changed"


# ---------------------------------------------------------------- acme -> beta

def test_cookie_of_another_tenant_is_no_cookie(world):
    """COMMITMENT B2: acme's cookie and CSRF token on beta's host get,
    on every route that needs a principal, exactly the answer of a
    request without any (401), whatever acme id is in the path; acme's
    session lives on."""
    w = world
    acme_before = snapshot(w.acme_db)
    routes = principal_routes(w)
    assert len(routes) >= 20, routes
    bad = []
    for key in routes:
        path, body = fill_acme(w, key), body_of(w, key)
        foreign = send(w.srv, key[0], path, tenant="beta",
                       cookie=w.acme.session, csrf=w.acme.csrf, body=body)
        none = send(w.srv, key[0], path, tenant="beta", body=body)
        if answer(foreign) != answer(none) or foreign.status_code != 401:
            bad.append(f"{key}: acme's cookie {answer(foreign)}, "
                       f"no cookie {answer(none)}")
        else:
            assert_error(foreign, 401, "unauthorized")
    assert not bad, "\n".join(bad)
    assert snapshot(w.acme_db) == acme_before, "acme's data changed"
    assert me(w.srv, w.acme.session).status_code == 200


def test_token_of_another_tenant_is_no_token(world):
    """COMMITMENT B2: acme's API token (every permission) on beta's host
    answers exactly like a well-formed token nobody issued: 401 wherever
    a token may act, 403 session_required on the account's own routes;
    it still works on acme."""
    w = world
    unissued = "coffre_pat_" + secrets.token_urlsafe(32)
    acme_before = snapshot(w.acme_db)
    bad = []
    n401 = 0
    for key in principal_routes(w):
        path, body = fill_acme(w, key), body_of(w, key)
        foreign = send(w.srv, key[0], path, tenant="beta",
                       bearer=w.acme_token, body=body)
        junk = send(w.srv, key[0], path, tenant="beta", bearer=unissued,
                    body=body)
        want = (403 if w.ops[key]["x-permission"] in ("session",
                                                      "session.partial")
                else 401)
        if answer(foreign) != answer(junk) or foreign.status_code != want:
            bad.append(f"{key}: acme's token {answer(foreign)}, unissued "
                       f"{answer(junk)}, want {want}")
        n401 += foreign.status_code == 401
    assert not bad, "\n".join(bad)
    assert n401 >= 10, n401
    # acme's token lines in acme's tables did not move (last_used included)
    assert snapshot(w.acme_db) == acme_before, "acme's data changed"
    r = send(w.srv, "GET", "/api/v1/permissions", bearer=w.acme_token)
    assert r.status_code == 200, r.text
    r = send(w.srv, "GET", "/api/v1/permissions", tenant="beta",
             bearer=w.acme_token)
    assert_error(r, 401, "unauthorized")


# ---------------------------------------------------------------- ids

def test_ids_are_random_not_row_numbers(world):
    """COMMITMENT B2: account, session and token ids are 32 lower-case hex
    characters, all distinct, never the row number; both tenants have an
    account number 1, and their ids still differ. Sessions opened in a
    row get sequential rows but unrelated ids."""
    w = world
    acme_row = row_of(w.acme_db, w.acme.id)
    beta_row = row_of(w.beta_db, w.beta.id)
    assert acme_row == beta_row == 1, (acme_row, beta_row)
    assert w.acme.id != w.beta.id
    accounts = [(w.acme.id, w.acme_db), (w.acme_other.id, w.acme_db),
                (w.beta.id, w.beta_db)]
    for uid, db in accounts:
        assert_public_id(uid, row=row_of(db, uid))

    cookies = [login_ok(w.srv, BETA_OWNER, PW_BETA, tenant="beta")
               for _ in range(5)]
    fresh = []
    for c in cookies:
        r = send(w.srv, "GET", "/api/v1/me/sessions", tenant="beta",
                 cookie=c)
        assert r.status_code == 200, r.text
        (sid,) = [x["id"] for x in r.json()["sessions"] if x["current"]]
        fresh.append(sid)
    rows = [row_of(w.beta_db, sid, table="sessions") for sid in fresh]
    assert rows == sorted(rows) and len(set(rows)) == 5, rows
    for sid, row in zip(fresh, rows):
        assert_public_id(sid, row=row)
    sessions = fresh + w.acme_ids["session"]
    for sid in w.acme_ids["session"]:
        assert_public_id(sid, row=row_of(w.acme_db, sid, table="sessions"))
    for tid in w.acme_ids["token"]:
        assert_public_id(tid)
    every = ([uid for uid, _ in accounts] + sessions + w.acme_ids["token"])
    assert len(set(every)) == len(every), every
    for sid in fresh:
        r = w.beta.send("DELETE", f"/api/v1/me/sessions/{sid}")
        assert r.status_code == 200 and r.json() == {"ended": 1}, r.text


def test_account_objects_carry_the_public_id(world):
    """The administration routes show the same ids as GET /api/v1/me: the
    account list, and the access journal's user_id."""
    w = world
    r = w.acme.send("GET", "/api/v1/admin/users", csrf=False)
    assert r.status_code == 200, r.text
    users = r.json()["users"]
    for u in users:
        assert_public_id(u["id"])
        assert_public_id(u["id"], row=row_of(w.acme_db, u["id"]))
    assert {u["id"] for u in users} == set(w.acme_ids["user"]), users
    r = w.acme.send("GET", "/api/v1/admin/logins?limit=100", csrf=False)
    assert r.status_code == 200, r.text
    seen = {x["user_id"] for x in r.json()["logins"]}
    assert seen == set(w.acme_ids["user"]), seen
    # the journal filter takes the same id; beta's ids select nothing
    r = w.acme.send("GET", f"/api/v1/admin/logins?user={w.acme_other.id}",
                    csrf=False)
    assert r.status_code == 200, r.text
    lines = r.json()["logins"]
    assert lines and {x["user_id"] for x in lines} == {w.acme_other.id}
    r = w.acme.send("GET", f"/api/v1/admin/logins?user={w.beta.id}",
                    csrf=False)
    assert r.status_code == 200 and r.json()["logins"] == [], r.text


# ---------------------------------------------------------------- control

def fresh_objects(w):
    """New objects of acme, one per kind, for the control below."""
    email = f"target.{secrets.token_hex(4)}@acme.example"
    pw = "Target-" + secrets.token_urlsafe(18)
    link = add_owner(w.data, "acme", email)
    r = do_setup(w.srv, link, pw)
    assert r.status_code == 200, r.text
    target = Account(w.srv, email, pw)
    spare = login_ok(w.srv, OWNER, PW_OWNER)
    r = send(w.srv, "GET", "/api/v1/me/sessions", cookie=spare)
    (sid,) = [x["id"] for x in r.json()["sessions"] if x["current"]]
    objs = {"user": target.id, "session": sid,
            "token": w.acme.token(["doc.read"], name="control")["id"]}
    for kind, made in model_objects(w, w.acme, target, "control",
                                    n=1).items():
        objs[kind] = made[0]
    return objs


def test_the_same_requests_reach_own_objects(world):
    """Not vacuous: the same requests, sent by acme's owner on acme's host
    with ids of acme of the kind ID_KINDS says, reach the objects (2xx).
    So the 404s above come from the tenant boundary."""
    w = world
    objs = fresh_objects(w)
    w.acme.step_up()
    routes = sorted(id_routes(w), key=lambda k: (METHOD_ORDER[k[0]], k[1]))
    bad = []
    for key in routes:
        method, pattern = key
        path = pattern.replace("{id}", objs[ID_KINDS[key]])
        r = w.acme.send(method, path, body=body_of(w, key))
        if not 200 <= r.status_code < 300:
            bad.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
    assert not bad, "\n".join(bad)
    # and they did what they say: the account, session and token are gone
    assert not query(w.acme_db, "SELECT id FROM users WHERE public_id = ? "
                     "AND state != 'removed'", objs["user"])
    assert not query(w.acme_db, "SELECT id FROM sessions WHERE public_id = ?",
                     objs["session"])
    assert not query(w.acme_db, "SELECT id FROM api_tokens WHERE id = ?",
                     objs["token"])
    lists = {"role": ("/api/v1/admin/roles", "roles"),
             "group": ("/api/v1/admin/groups", "groups"),
             "grant": ("/api/v1/admin/grants", "grants"),
             "space": ("/api/v1/spaces", "spaces")}
    for kind, (path, key) in lists.items():
        if kind in objs:
            r = w.acme.send("GET", path, csrf=False)
            assert r.status_code == 200, r.text
            assert objs[kind] not in {x["id"] for x in r.json()[key]}, kind
