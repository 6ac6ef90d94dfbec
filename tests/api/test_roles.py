# SPDX-License-Identifier: AGPL-3.0-or-later
"""Custom roles (docs/internals/authz-contract.md, COMMITMENT B1, B3): the
list (built-in roles first, never changed), creation, renaming, changing
and removing custom roles, the name rules, permission lists, ids, the
`role_in_use` guard, CSRF on cookie changes and one audit event per
change. A refused request changes nothing: the tests compare every list
of the model and the audit trail before and after.

The first part of this file also holds the helpers of the other tests of
the model (test_groups.py, test_grants.py, test_escalation.py,
test_spaces.py, test_authz_input.py): the routes, the object shapes and
a server whose tenants use the 2FA policy `optional`, so that accounts
reach the administration routes without enrolling (the 2FA rule of the
model is tested in test_grants.py).
"""

import re
import secrets

import pytest

from accounts import CATALOGUE, Account, join, listed, send
from conftest import assert_clean_stop, assert_error, run_cli, start_server
from mailsink import MailSink
from test_auth import (BETA_OWNER, COOKIE, OWNER, PW_BETA, PW_OWNER,
                       UA_FIREFOX, assert_public_id, create_tenant_with_owner,
                       do_setup, new_server, query, tenant_db)

ROLES_URL = "/api/v1/admin/roles"
GROUPS_URL = "/api/v1/admin/groups"
GRANTS_URL = "/api/v1/admin/grants"
SPACES_URL = "/api/v1/spaces"
USERS_URL = "/api/v1/admin/users"

BUILTIN_NAMES = ("owner", "admin", "member", "guest", "auditor")
# auth-contract.md, "Permissions and built-in roles", in catalogue order
BUILTIN = {
    "owner": list(CATALOGUE),
    "admin": [p for p in CATALOGUE
              if p not in ("tenant.export", "tenant.delete")],
    "member": ["doc.read", "doc.write", "doc.delete", "note.write"],
    "guest": ["doc.read"],
    "auditor": ["audit.read"],
}
ROLE_KEYS = {"id", "name", "builtin", "permissions", "grants"}
GROUP_KEYS = {"id", "name", "members", "groups", "created"}
GRANT_KEYS = {"id", "user", "group", "role", "role_name", "space", "created"}
SPACE_KEYS = {"id", "name", "created", "permissions"}
RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
# the codes the input whitelist gives an unknown or a missing field
# (contract.md, "Errors"); authz-contract.md calls both bad_request
UNKNOWN_FIELD = ("bad_request", "unknown_field")
MISSING_FIELD = ("bad_request", "missing_field")


# ---------------------------------------------------------------- server

def model_server(sink, tenants=("acme",), mfa="optional"):
    """A generator for a module fixture: a server with tenant acme (owner
    OWNER) and, when asked, beta (owner BETA_OWNER), each under 2FA
    policy MFA (None: the default, `admins`; or a dict slug -> policy),
    mail to SINK. Yields the Server; its `data` is the data directory,
    `db` acme's database."""
    root, data = new_server("[auth]\nip_ban_failures = 1000\nmfa_optional = 1\n" + sink.conf())
    owners = {"acme": (OWNER, PW_OWNER, "Acme SAS"),
              "beta": (BETA_OWNER, PW_BETA, "Beta Corp")}
    links = {}
    for slug in tenants:
        email, _, name = owners[slug]
        links[slug] = create_tenant_with_owner(data, slug, name, email)
        policy = mfa.get(slug) if isinstance(mfa, dict) else mfa
        if policy is not None:
            r = run_cli("tenant", "policy", slug, f"mfa={policy}", "--data",
                        data)
            assert r.returncode == 0 and f"mfa: {policy}" in r.stdout, (
                r.returncode, r.stdout, r.stderr)
    srv = start_server(data, log_path=root / "serve.log")
    srv.made = []
    srv.db = tenant_db(data, "acme")
    try:
        for slug in tenants:
            r = do_setup(srv, links[slug], owners[slug][1], tenant=slug)
            assert r.status_code == 200, r.text
        yield srv
    finally:
        if srv.alive():
            assert_clean_stop(srv)


def mail_sink():
    """A generator for a module fixture: a real SMTP sink."""
    s = MailSink().start()
    try:
        yield s
    finally:
        s.stop()


class Bearer:
    """An API token acting alone (no cookie, no CSRF token), with the
    interface of accounts.Account for the helpers below."""

    def __init__(self, srv, made, tenant="acme"):
        self.srv = srv
        self.token = made["token"]
        self.id = made["id"]
        self.tenant = tenant

    @property
    def principal(self):
        return f"token:{self.id}"

    def send(self, method, path, body=None, csrf=True, **kw):
        return send(self.srv, method, path, tenant=self.tenant,
                    bearer=self.token, body=body, **kw)


def token_of(acc, permissions, name="model script"):
    """A new API token of ACC (an Account) carrying PERMISSIONS, as a
    Bearer actor; the account proves itself first (tokens need a recent
    proof)."""
    acc.step_up()
    return Bearer(acc.srv, acc.token(list(permissions), name=name),
                  tenant=acc.tenant)


def principal_of(actor):
    """The audit principal of ACTOR: user:<row> or token:<id>."""
    if isinstance(actor, Bearer):
        return actor.principal
    return f"user:{actor.row}"


def uniq(prefix):
    """A name no other test of the module uses."""
    return f"{prefix} {secrets.token_hex(3)}"


def ordered(perms):
    """PERMS in catalogue order, each once."""
    return [p for p in CATALOGUE if p in set(perms)]


# ---------------------------------------------------------------- shapes

def check_time(value):
    assert isinstance(value, str) and RFC3339_RE.match(value), value


def check_role(role):
    assert set(role) == ROLE_KEYS, role
    assert isinstance(role["name"], str) and role["name"], role
    assert isinstance(role["builtin"], bool), role
    if role["builtin"]:
        assert role["id"] in BUILTIN_NAMES and role["id"] == role["name"], role
    else:
        assert_public_id(role["id"])
    perms = role["permissions"]
    assert isinstance(perms, list) and perms, role
    assert perms == ordered(perms) and len(set(perms)) == len(perms), role
    assert isinstance(role["grants"], int) and role["grants"] >= 0, role
    return role


def check_group(group):
    assert set(group) == GROUP_KEYS, group
    assert_public_id(group["id"])
    assert isinstance(group["name"], str) and group["name"], group
    for key in ("members", "groups"):
        assert isinstance(group[key], list), group
        for x in group[key]:
            assert_public_id(x)
        assert len(set(group[key])) == len(group[key]), group
    check_time(group["created"])
    return group


def check_grant(grant):
    assert set(grant) == GRANT_KEYS, grant
    assert_public_id(grant["id"])
    assert (grant["user"] is None) != (grant["group"] is None), grant
    for key in ("user", "group", "space"):
        if grant[key] is not None:
            assert_public_id(grant[key])
    if grant["role"] in BUILTIN_NAMES:
        assert grant["role_name"] == grant["role"], grant
    else:
        assert_public_id(grant["role"])
    assert isinstance(grant["role_name"], str) and grant["role_name"], grant
    check_time(grant["created"])
    return grant


def check_space(space):
    assert set(space) == SPACE_KEYS, space
    assert_public_id(space["id"])
    assert isinstance(space["name"], str) and space["name"], space
    check_time(space["created"])
    perms = space["permissions"]
    assert isinstance(perms, list) and perms == ordered(perms), space
    return space


# ---------------------------------------------------------------- calls

def get_json(actor, path, key):
    r = actor.send("GET", path, csrf=False)
    assert r.status_code == 200, (path, r.status_code, r.text)
    body = r.json()
    assert set(body) == {key}, body
    assert isinstance(body[key], list), body
    return body[key]


def roles_of(actor):
    """GET /api/v1/admin/roles: the list, each role checked."""
    return [check_role(x) for x in get_json(actor, ROLES_URL, "roles")]


def role_named(actor, name):
    (role,) = [x for x in roles_of(actor) if x["name"] == name]
    return role


def role_by_id(actor, rid):
    got = [x for x in roles_of(actor) if x["id"] == rid]
    return got[0] if got else None


def groups_of(actor):
    return [check_group(x) for x in get_json(actor, GROUPS_URL, "groups")]


def group_by_id(actor, gid):
    got = [x for x in groups_of(actor) if x["id"] == gid]
    return got[0] if got else None


def grants_of(actor, query_string=""):
    return [check_grant(x)
            for x in get_json(actor, GRANTS_URL + query_string, "grants")]


def spaces_of(actor):
    return [check_space(x) for x in get_json(actor, SPACES_URL, "spaces")]


def create_role(actor, name, permissions):
    return actor.send("POST", ROLES_URL,
                      body={"name": name, "permissions": list(permissions)})


def create_role_ok(actor, name, permissions):
    r = create_role(actor, name, permissions)
    assert r.status_code == 201, (name, permissions, r.status_code, r.text)
    body = r.json()
    assert set(body) == {"role"}, body
    role = check_role(body["role"])
    assert role["name"] == name and role["builtin"] is False, role
    assert role["permissions"] == ordered(permissions), role
    assert role["grants"] == 0, role
    return role


def patch_role(actor, rid, body):
    return actor.send("PATCH", f"{ROLES_URL}/{rid}", body=body)


def delete_role(actor, rid):
    return actor.send("DELETE", f"{ROLES_URL}/{rid}")


def create_group(actor, name, members=None, groups=None):
    body = {"name": name}
    if members is not None:
        body["members"] = list(members)
    if groups is not None:
        body["groups"] = list(groups)
    return actor.send("POST", GROUPS_URL, body=body)


def create_group_ok(actor, name, members=(), groups=()):
    r = create_group(actor, name, members, groups)
    assert r.status_code == 201, (name, r.status_code, r.text)
    body = r.json()
    assert set(body) == {"group"}, body
    group = check_group(body["group"])
    assert group["name"] == name, group
    assert sorted(group["members"]) == sorted(members), group
    assert sorted(group["groups"]) == sorted(groups), group
    return group


def patch_group(actor, gid, body):
    return actor.send("PATCH", f"{GROUPS_URL}/{gid}", body=body)


def patch_group_ok(actor, gid, body):
    r = patch_group(actor, gid, body)
    assert r.status_code == 200, (body, r.status_code, r.text)
    assert set(r.json()) == {"group"}, r.text
    return check_group(r.json()["group"])


def delete_group(actor, gid):
    return actor.send("DELETE", f"{GROUPS_URL}/{gid}")


def create_grant(actor, role, user=None, group=None, space=None):
    body = {"role": role}
    if user is not None:
        body["user"] = user
    if group is not None:
        body["group"] = group
    if space is not None:
        body["space"] = space
    return actor.send("POST", GRANTS_URL, body=body)


def create_grant_ok(actor, role, user=None, group=None, space=None):
    r = create_grant(actor, role, user=user, group=group, space=space)
    assert r.status_code == 201, (role, user, group, space, r.status_code,
                                  r.text)
    body = r.json()
    assert set(body) == {"grant"}, body
    grant = check_grant(body["grant"])
    assert (grant["role"], grant["user"], grant["group"], grant["space"]) == (
        role, user, group, space), grant
    return grant


def delete_grant(actor, gid):
    return actor.send("DELETE", f"{GRANTS_URL}/{gid}")


def send_raw(acc, method, path, data):
    """METHOD PATH as the Account ACC (cookie and CSRF token) with DATA,
    bytes sent as they are, as application/json."""
    acc.srv.session.cookies.clear()
    try:
        return acc.srv.request(method, path, tenant=acc.tenant, data=data,
                               headers={"Content-Type": "application/json",
                                        "User-Agent": UA_FIREFOX,
                                        "Cookie": f"{COOKIE}={acc.session}",
                                        "X-CSRF-Token": acc.csrf})
    finally:
        acc.srv.session.cookies.clear()


def delete_ok(actor, path):
    r = actor.send("DELETE", path)
    assert r.status_code == 200, (path, r.status_code, r.text)
    assert r.json() == {"removed": 1}, r.text


def create_space(actor, name):
    return actor.send("POST", SPACES_URL, body={"name": name})


def create_space_ok(actor, name):
    r = create_space(actor, name)
    assert r.status_code == 201, (name, r.status_code, r.text)
    body = r.json()
    assert set(body) == {"space"}, body
    space = check_space(body["space"])
    assert space["name"] == name, space
    return space


def effective(actor, uid):
    """GET /api/v1/admin/users/{uid}/permissions."""
    r = actor.send("GET", f"{USERS_URL}/{uid}/permissions", csrf=False)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"role", "permissions", "groups", "spaces"}, body
    return body


# ---------------------------------------------------------------- state

def event_count(db):
    return query(db, "SELECT count(*) AS n FROM audit_events")[0]["n"]


def snapshot(owner, db):
    """Everything the model's routes could change, as the owner sees it:
    the four lists, the accounts (with their groups), and the number of
    audit events."""
    out = {"roles": get_json(owner, ROLES_URL, "roles"),
           "groups": get_json(owner, GROUPS_URL, "groups"),
           "grants": get_json(owner, GRANTS_URL, "grants"),
           "spaces": get_json(owner, SPACES_URL, "spaces"),
           "users": listed(owner)}
    out["events"] = event_count(db)
    return out


def events(db, action, target):
    """The audit events ACTION on TARGET (e.g. role:<id>), oldest first."""
    return query(db, "SELECT * FROM audit_events WHERE action = ? AND "
                 "target = ? ORDER BY seq", action, target)


def assert_event(db, action, target, principal, n=1):
    """Exactly N events ACTION on TARGET, the last by PRINCIPAL."""
    rows = events(db, action, target)
    assert len(rows) == n, (action, target, rows)
    ev = rows[-1]
    assert ev["principal"] == principal, ev
    assert ev["outcome"] == "success", ev
    assert ev["client_ip"] == "127.0.0.1", ev
    assert ev["request_id"], ev
    return ev


def assert_refused(resp, status, codes):
    """RESP is an error STATUS whose code is one of CODES (a string or a
    tuple)."""
    if isinstance(codes, str):
        codes = (codes,)
    assert resp.status_code == status, (
        f"expected {status} {codes}, got {resp.status_code}: {resp.text!r}")
    code = resp.json()["error"]["code"]
    return assert_error(resp, status, code if code in codes else codes[0])


def ids_not_found(real):
    """Path values that must all answer 404 not_found: malformed ids,
    unknown ones, and REAL (an id of the kind) misspelt."""
    upper = real.upper() if real.upper() != real else "A" + real[1:]
    return ["0" * 32, secrets.token_hex(16), upper, real[:-1], real + "0",
            "1", "-1", "abc", "9" * 40, real[:16] + "-" + real[17:],
            "%20" + real[1:], "Owner", "OWNER", "owner%20"]


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


@pytest.fixture(scope="module")
def member(srv, sink, owner):
    return join(owner, sink, "member@acme.example", "member")


# ---------------------------------------------------------------- the list

def test_builtin_roles_first_and_unchangeable_shape(srv, owner):
    roles = roles_of(owner)
    assert [x["id"] for x in roles[:5]] == list(BUILTIN_NAMES), roles
    for role in roles[:5]:
        assert role["builtin"] is True, role
        assert role["name"] == role["id"], role
        assert role["permissions"] == BUILTIN[role["id"]], role
    assert all(x["builtin"] is False for x in roles[5:]), roles
    # the same catalogue as GET /api/v1/permissions
    r = owner.send("GET", "/api/v1/permissions", csrf=False)
    assert r.status_code == 200, r.text
    declared = {x["name"]: x["permissions"] for x in r.json()["roles"]}
    for name in BUILTIN_NAMES:
        assert ordered(declared[name]) == BUILTIN[name], (name, declared)


def test_create_role(srv, owner):
    """COMMITMENT B1: a custom role from the catalogue, permissions kept in
    catalogue order, a random public id, one audit event."""
    # COMMITMENT B1, B2: a role of the catalogue, a random public id
    name = uniq("Reviewers")
    role = create_role_ok(owner, name, ["note.write", "doc.read",
                                        "audit.read"])
    assert role["permissions"] == ["doc.read", "note.write", "audit.read"]
    assert role_by_id(owner, role["id"]) == role
    assert_event(srv.db, "role.create", f"role:{role['id']}",
                 f"user:{owner.row}")
    # a second one: another random id
    other = create_role_ok(owner, uniq("Reviewers"), ["doc.read"])
    assert other["id"] != role["id"]
    assert int(other["id"], 16) != int(role["id"], 16) + 1


def test_custom_roles_listed_by_name(srv, owner):
    tag = secrets.token_hex(3)
    names = [f"Zulu {tag}", f"Alpha {tag}", f"Mike {tag}"]
    for n in names:
        create_role_ok(owner, n, ["doc.read"])
    roles = roles_of(owner)
    mine = [x["name"] for x in roles if x["name"].endswith(tag)]
    assert mine == sorted(names), mine
    custom = [x["name"] for x in roles[5:]]
    assert custom == sorted(custom, key=lambda s: s.lower()) or (
        custom == sorted(custom)), custom


def test_patch_role(srv, owner):
    role = create_role_ok(owner, uniq("Editors"), ["doc.read"])
    path = f"{ROLES_URL}/{role['id']}"
    new_name = uniq("Writers")
    r = owner.send("PATCH", path, body={"name": new_name})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"role"}, r.text
    got = check_role(r.json()["role"])
    assert got == dict(role, name=new_name), got
    r = owner.send("PATCH", path, body={"permissions": ["doc.write",
                                                        "doc.read"]})
    assert r.status_code == 200, r.text
    got = r.json()["role"]
    assert got["name"] == new_name, got
    assert got["permissions"] == ["doc.read", "doc.write"], got
    last = uniq("Scribes")
    r = owner.send("PATCH", path, body={"name": last,
                                        "permissions": ["note.write"]})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == dict(role, name=last,
                                    permissions=["note.write"]), r.text
    assert role_by_id(owner, role["id"]) == r.json()["role"]
    evs = events(srv.db, "role.update", f"role:{role['id']}")
    assert len(evs) == 3, evs
    for ev in evs:
        assert ev["principal"] == f"user:{owner.row}", ev
        assert ev["outcome"] == "success" and ev["details"], ev


def test_patch_empty_body(srv, owner):
    role = create_role_ok(owner, uniq("Idle"), ["doc.read"])
    before = snapshot(owner, srv.db)
    assert_error(patch_role(owner, role["id"], {}), 400, "bad_request")
    assert snapshot(owner, srv.db) == before


def test_delete_role(srv, owner):
    role = create_role_ok(owner, uniq("Temporary"), ["doc.read"])
    r = delete_role(owner, role["id"])
    assert r.status_code == 200, r.text
    assert r.json() == {"removed": 1}
    assert role_by_id(owner, role["id"]) is None
    assert_event(srv.db, "role.delete", f"role:{role['id']}",
                 f"user:{owner.row}")
    # gone: every {id} route answers 404 now
    before = snapshot(owner, srv.db)
    assert_error(delete_role(owner, role["id"]), 404, "not_found")
    assert_error(patch_role(owner, role["id"], {"name": uniq("Back")}), 404,
                 "not_found")
    assert snapshot(owner, srv.db) == before
    # the name is free again
    create_role_ok(owner, role["name"], ["doc.read"])


# ---------------------------------------------------------------- names

BAD_NAMES = [
    "", " ", " Lead", "Trail ", "  both  ", "\tTab", "Tab\t", "new\nline",
    "cr\rhere", "bell\x07", "esc\x1b[31m", "del\x7f", "nel\x85",
    "csi\x9b", "rtl\u202eevil", "x" * 65, "é" * 65,
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_invalid_name_on_create(srv, owner, name):
    """1 to 64 characters, no control character, no space at either end
    (nothing is trimmed): otherwise 400 invalid_name, nothing made."""
    # COMMITMENT B3
    before = snapshot(owner, srv.db)
    assert_error(create_role(owner, name, ["doc.read"]), 400, "invalid_name")
    assert snapshot(owner, srv.db) == before


def test_invalid_name_on_patch(srv, owner):
    # COMMITMENT B3
    role = create_role_ok(owner, uniq("Stable"), ["doc.read"])
    before = snapshot(owner, srv.db)
    for name in BAD_NAMES:
        r = patch_role(owner, role["id"], {"name": name})
        assert r.status_code == 400, (name, r.status_code, r.text)
        assert_error(r, 400, "invalid_name")
        # with a valid permission change: the whole request is refused
        r = patch_role(owner, role["id"], {"name": name,
                                           "permissions": ["doc.write"]})
        assert_error(r, 400, "invalid_name")
    assert snapshot(owner, srv.db) == before


@pytest.mark.parametrize("name", [
    "x" * 64, "é" * 64, "\U0001f512" * 64, "Équipe finance", "a", "R&D <b>",
    "Ünïcödé 名前", "quote \" and \\ back", "inner  spaces", "1234",
], ids=repr)
def test_valid_names(srv, owner, name):
    """64 characters (not bytes) is the limit; inner spaces, letters of any
    script and punctuation are names like any other."""
    tag = secrets.token_hex(2)
    full = name if len(name) == 64 else f"{name} {tag}"
    role = create_role_ok(owner, full, ["doc.read"])
    assert role_by_id(owner, role["id"])["name"] == full


def test_invalid_utf8_name(srv, owner):
    """Bytes that are no UTF-8, or a lone surrogate: refused before any
    change (the JSON parser or the name rule)."""
    # COMMITMENT B3
    before = snapshot(owner, srv.db)
    for raw in (b'{"name":"bad \xff\xfe","permissions":["doc.read"]}',
                b'{"name":"over \xc0\xaf long","permissions":["doc.read"]}',
                b'{"name":"sur \xed\xa0\x80","permissions":["doc.read"]}',
                b'{"name":"lone \\ud800","permissions":["doc.read"]}',
                b'{"name":"low \\udc00 x","permissions":["doc.read"]}'):
        r = send_raw(owner, "POST", ROLES_URL, raw)
        assert r.status_code == 400, (raw, r.status_code, r.text)
        assert_refused(r, 400, ("bad_request", "invalid_name"))
    assert snapshot(owner, srv.db) == before


def test_name_taken(srv, owner):
    """Unique ignoring ASCII case; a custom role cannot take a built-in
    role's name, in any case: 409 name_taken, nothing changes."""
    # COMMITMENT B1: no custom role passes for a built-in one
    name = uniq("Auditors")
    role = create_role_ok(owner, name, ["audit.read"])
    other = create_role_ok(owner, uniq("Others"), ["doc.read"])
    before = snapshot(owner, srv.db)
    taken = [name, name.upper(), name.lower(), name.swapcase(),
             "owner", "Owner", "OWNER", "admin", "Admin", "member",
             "MEMBER", "guest", "gUeSt", "auditor", "Auditor"]
    for n in taken:
        assert_error(create_role(owner, n, ["doc.read"]), 409, "name_taken")
        assert_error(patch_role(owner, other["id"], {"name": n}), 409,
                     "name_taken")
    # a built-in's name with a space is another name, but not a valid one
    assert_error(create_role(owner, "owner ", ["doc.read"]), 400,
                 "invalid_name")
    assert snapshot(owner, srv.db) == before
    assert role_by_id(owner, role["id"]) == role


def test_name_case_is_ascii_only(srv, owner):
    """Only ASCII case is ignored: É and é are different letters."""
    tag = secrets.token_hex(2)
    create_role_ok(owner, f"Équipe {tag}", ["doc.read"])
    create_role_ok(owner, f"équipe {tag}", ["doc.read"])
    assert_error(create_role(owner, f"éQUIPE {tag}", ["doc.read"]), 409,
                 "name_taken")


def test_rename_to_own_name(srv, owner):
    role = create_role_ok(owner, uniq("Same"), ["doc.read"])
    r = patch_role(owner, role["id"], {"name": role["name"]})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == role


# ---------------------------------------------------------------- permissions

def test_unknown_permission(srv, owner):
    # COMMITMENT B1
    role = create_role_ok(owner, uniq("Known"), ["doc.read"])
    before = snapshot(owner, srv.db)
    for perms in (["doc.nope"], ["doc.read", "doc.nope"], ["DOC.READ"],
                  ["doc.read "], [""], ["owner"], ["session"], ["PUBLIC"],
                  ["principal"], ["ops.metrics"], ["doc.*"], ["*"]):
        r = create_role(owner, uniq("Unknown"), perms)
        assert r.status_code == 400, (perms, r.status_code, r.text)
        assert_error(r, 400, "unknown_permission")
        r = patch_role(owner, role["id"], {"permissions": perms})
        assert_error(r, 400, "unknown_permission")
    assert snapshot(owner, srv.db) == before


def test_duplicate_permission(srv, owner):
    # COMMITMENT B3
    role = create_role_ok(owner, uniq("Twice"), ["doc.read"])
    before = snapshot(owner, srv.db)
    for perms in (["doc.read", "doc.read"],
                  ["audit.read", "doc.write", "audit.read"]):
        assert_error(create_role(owner, uniq("Twice"), perms), 400,
                     "duplicate_permission")
        assert_error(patch_role(owner, role["id"], {"permissions": perms}),
                     400, "duplicate_permission")
    assert snapshot(owner, srv.db) == before


def test_no_permission(srv, owner):
    """A role holds at least one permission: [] is 400 bad_request, and
    so is a missing list."""
    # COMMITMENT B3
    role = create_role_ok(owner, uniq("Some"), ["doc.read"])
    before = snapshot(owner, srv.db)
    assert_error(create_role(owner, uniq("Empty"), []), 400, "bad_request")
    assert_error(patch_role(owner, role["id"], {"permissions": []}), 400,
                 "bad_request")
    r = owner.send("POST", ROLES_URL, body={"name": uniq("Nothing")})
    assert_refused(r, 400, MISSING_FIELD)
    r = owner.send("POST", ROLES_URL, body={"permissions": ["doc.read"]})
    assert_refused(r, 400, MISSING_FIELD)
    assert snapshot(owner, srv.db) == before


def test_every_catalogue_permission(srv, owner):
    """The owner holds the whole catalogue, so a role of all of it is
    allowed; the list comes back in catalogue order."""
    role = create_role_ok(owner, uniq("Everything"),
                          list(reversed(CATALOGUE)))
    assert role["permissions"] == CATALOGUE


# ---------------------------------------------------------------- built-ins

def test_builtin_roles_never_change(srv, owner):
    # COMMITMENT B1
    before = snapshot(owner, srv.db)
    for rid in BUILTIN_NAMES:
        for body in ({"name": uniq("Renamed")},
                     {"permissions": ["doc.read"]},
                     {"name": uniq("Both"), "permissions": CATALOGUE}):
            r = patch_role(owner, rid, body)
            assert r.status_code == 409, (rid, body, r.status_code, r.text)
            assert_error(r, 409, "builtin_role")
        assert_error(delete_role(owner, rid), 409, "builtin_role")
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- in use

def test_role_in_use(srv, sink, owner, member):
    # COMMITMENT B1
    role = create_role_ok(owner, uniq("Granted"), ["audit.read"])
    g1 = create_grant_ok(owner, role["id"], user=member.id)
    group = create_group_ok(owner, uniq("Holders"), members=[member.id])
    g2 = create_grant_ok(owner, role["id"], group=group["id"])
    assert role_by_id(owner, role["id"])["grants"] == 2
    assert g1["role_name"] == role["name"] == g2["role_name"]
    before = snapshot(owner, srv.db)
    assert_error(delete_role(owner, role["id"]), 409, "role_in_use")
    assert snapshot(owner, srv.db) == before
    delete_ok(owner, f"{GRANTS_URL}/{g1['id']}")
    assert role_by_id(owner, role["id"])["grants"] == 1
    assert_error(delete_role(owner, role["id"]), 409, "role_in_use")
    delete_ok(owner, f"{GRANTS_URL}/{g2['id']}")
    assert role_by_id(owner, role["id"])["grants"] == 0
    delete_ok(owner, f"{ROLES_URL}/{role['id']}")
    # a built-in role counts its grants too
    before = role_named(owner, "guest")["grants"]
    g = create_grant_ok(owner, "guest", user=member.id)
    assert role_named(owner, "guest")["grants"] == before + 1
    delete_ok(owner, f"{GRANTS_URL}/{g['id']}")


def test_rename_shows_in_grants(srv, owner, member):
    role = create_role_ok(owner, uniq("Before"), ["doc.read"])
    grant = create_grant_ok(owner, role["id"], user=member.id)
    new = uniq("After")
    assert patch_role(owner, role["id"], {"name": new}).status_code == 200
    (got,) = [g for g in grants_of(owner) if g["id"] == grant["id"]]
    assert got["role_name"] == new and got["role"] == role["id"], got
    delete_ok(owner, f"{GRANTS_URL}/{grant['id']}")


# ---------------------------------------------------------------- ids

def test_unknown_and_malformed_ids(srv, owner):
    """404 not_found, the same body, for every id that names no custom
    role; nothing changes."""
    # COMMITMENT B2
    role = create_role_ok(owner, uniq("Target"), ["doc.read"])
    before = snapshot(owner, srv.db)
    bodies = set()
    for rid in ids_not_found(role["id"]) + [role["id"].upper()]:
        for method, body in (("PATCH", {"name": uniq("Ghost")}),
                             ("DELETE", None)):
            r = owner.send(method, f"{ROLES_URL}/{rid}", body=body)
            assert r.status_code == 404, (method, rid, r.status_code, r.text)
            assert_error(r, 404, "not_found")
            bodies.add(r.content)
    assert len(bodies) == 1, bodies
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- who may

def test_member_is_refused(srv, owner, member):
    """role.manage is needed on every route: a member gets 403 forbidden
    and nothing changes."""
    # COMMITMENT B1
    role = create_role_ok(owner, uniq("Guarded"), ["doc.read"])
    before = snapshot(owner, srv.db)
    for r in (member.send("GET", ROLES_URL, csrf=False),
              create_role(member, uniq("Mine"), ["doc.read"]),
              patch_role(member, role["id"], {"name": uniq("Taken")}),
              delete_role(member, role["id"])):
        assert_error(r, 403, "forbidden")
    assert snapshot(owner, srv.db) == before


def test_token_with_role_manage(srv, owner):
    """An owner's token carrying role.manage and the permissions of the
    role works without CSRF; the events name the token."""
    # COMMITMENT B1
    tok = token_of(owner, ["role.manage", "doc.read", "audit.read"])
    role = create_role_ok(tok, uniq("By token"), ["doc.read", "audit.read"])
    assert_event(srv.db, "role.create", f"role:{role['id']}", tok.principal)
    r = patch_role(tok, role["id"], {"permissions": ["doc.read"]})
    assert r.status_code == 200, r.text
    assert_event(srv.db, "role.update", f"role:{role['id']}", tok.principal)
    delete_ok(tok, f"{ROLES_URL}/{role['id']}")
    assert_event(srv.db, "role.delete", f"role:{role['id']}", tok.principal)


def test_cookie_changes_need_csrf(srv, owner):
    # COMMITMENT B5
    role = create_role_ok(owner, uniq("Csrf"), ["doc.read"])
    before = snapshot(owner, srv.db)
    for method, path, body in (
            ("POST", ROLES_URL, {"name": uniq("Forged"),
                                 "permissions": ["doc.read"]}),
            ("PATCH", f"{ROLES_URL}/{role['id']}", {"name": uniq("Forged")}),
            ("DELETE", f"{ROLES_URL}/{role['id']}", None)):
        assert_error(owner.send(method, path, body=body, csrf=False), 403,
                     "csrf")
        r = owner.send(method, path, body=body,
                       headers={"Origin": "https://evil.localhost"})
        assert_error(r, 403, "csrf")
    assert snapshot(owner, srv.db) == before


def test_audit_details_are_not_clear(srv, owner):
    """role.update carries the old and new name and permissions; like
    every detail of the trail they are not kept in clear."""
    name = uniq("Sealed")
    role = create_role_ok(owner, name, ["doc.read"])
    assert patch_role(owner, role["id"],
                      {"name": uniq("Resealed")}).status_code == 200
    (ev,) = events(srv.db, "role.update", f"role:{role['id']}")
    assert ev["details"], ev
    assert name.encode() not in bytes(ev["details"]), ev


# ---------------------------------------------------------------- limits

def test_at_most_100_custom_roles(srv, owner):
    """409 too_many beyond 100 custom roles; nothing is made. Runs last:
    it removes what it made."""
    # COMMITMENT B3
    made = []
    try:
        n = len(roles_of(owner)) - len(BUILTIN_NAMES)
        tag = secrets.token_hex(2)
        for i in range(n, 100):
            made.append(create_role_ok(owner, f"Bulk {tag} {i}",
                                       ["doc.read"])["id"])
        assert len(roles_of(owner)) == 100 + len(BUILTIN_NAMES)
        before = snapshot(owner, srv.db)
        assert_error(create_role(owner, f"Bulk {tag} over", ["doc.read"]),
                     409, "too_many")
        assert snapshot(owner, srv.db) == before
    finally:
        for rid in made:
            delete_role(owner, rid)
    assert create_role(owner, uniq("Room again"),
                       ["doc.read"]).status_code == 201
