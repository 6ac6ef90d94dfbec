# SPDX-License-Identifier: AGPL-3.0-or-later
"""Grants and effective permissions (docs/internals/authz-contract.md,
COMMITMENT B1, B3): creating, listing, filtering and removing grants,
their refusals, and what they do: a tenant-wide grant of a custom role
gives its permissions on the routes at the next request, directly,
through a group or through nested groups, and removing the grant, the
membership, the group or the permission from the role takes them away
at the next request; a space grant gives access in that space only; an
API token holds the intersection of the account's permissions and its
own; the preview of an account's permissions; the 2FA rule for anyone
on an administration route that administers the tenant.

One server for the module: tenant acme under the 2FA policy `optional`,
tenant beta under the default policy `admins`.
"""

import secrets

import pytest

from accounts import CATALOGUE, Account, join, listed
from conftest import assert_error
from test_auth import BETA_OWNER, OWNER, PW_BETA, PW_OWNER
from test_roles import (BUILTIN, GRANTS_URL, MISSING_FIELD, ROLES_URL,
                        SPACES_URL, USERS_URL, Bearer, assert_event,
                        assert_refused, create_grant, create_grant_ok,
                        create_group_ok, create_role, create_role_ok,
                        create_space_ok, delete_grant, delete_ok, effective,
                        grants_of, ids_not_found, mail_sink, model_server,
                        ordered, patch_group_ok, patch_role, snapshot,
                        spaces_of, token_of, uniq)

LOGINS = "/api/v1/admin/logins?limit=1"
MEMBER = BUILTIN["member"]


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sink():
    yield from mail_sink()


@pytest.fixture(scope="module")
def srv(sink):
    yield from model_server(sink, tenants=("acme", "beta"),
                            mfa={"acme": "optional", "beta": None})


@pytest.fixture(scope="module")
def owner(srv):
    return Account(srv, OWNER, PW_OWNER)


@pytest.fixture(scope="module")
def beta_owner(srv):
    """beta's owner, 2FA on (beta keeps the default policy)."""
    a = Account(srv, BETA_OWNER, PW_BETA, tenant="beta")
    a.enrol_totp()
    return a


@pytest.fixture(scope="module")
def auditor_role(owner):
    """A custom role holding audit.read only."""
    return create_role_ok(owner, uniq("Log readers"), ["audit.read"])


def fresh(owner, sink, role="member"):
    """A new account of ROLE, signed in."""
    return join(owner, sink, f"{role}.{secrets.token_hex(4)}@acme.example",
                role)


def logins(actor):
    """The status of GET /api/v1/admin/logins (audit.read) for ACTOR; a
    refusal must be 403 forbidden."""
    r = actor.send("GET", LOGINS, csrf=False)
    if r.status_code != 200:
        assert_error(r, 403, "forbidden")
    return r.status_code


# ---------------------------------------------------------------- CRUD

def test_grant_shape_and_audit(srv, sink, owner, auditor_role):
    # COMMITMENT B1
    m = fresh(owner, sink)
    grant = create_grant_ok(owner, "guest", user=m.id)
    assert grant["role_name"] == "guest" and grant["group"] is None, grant
    assert grant["space"] is None, grant
    assert grant in grants_of(owner)
    assert_event(srv.db, "grant.create", f"grant:{grant['id']}",
                 f"user:{owner.row}")
    custom = create_grant_ok(owner, auditor_role["id"], user=m.id)
    assert custom["role_name"] == auditor_role["name"], custom
    for g in (grant, custom):
        delete_ok(owner, f"{GRANTS_URL}/{g['id']}")
        assert_event(srv.db, "grant.delete", f"grant:{g['id']}",
                     f"user:{owner.row}")
    ids = {g["id"] for g in grants_of(owner)}
    assert grant["id"] not in ids and custom["id"] not in ids
    before = snapshot(owner, srv.db)
    assert_error(delete_grant(owner, grant["id"]), 404, "not_found")
    assert snapshot(owner, srv.db) == before


def test_list_oldest_first_and_filters(srv, sink, owner, auditor_role):
    a = fresh(owner, sink)
    g = create_group_ok(owner, uniq("Filtered"))
    s = create_space_ok(owner, uniq("Filtered space"))
    g1 = create_grant_ok(owner, "guest", user=a.id)
    g2 = create_grant_ok(owner, "auditor", group=g["id"])
    g3 = create_grant_ok(owner, auditor_role["id"], user=a.id, space=s["id"])
    g4 = create_grant_ok(owner, "guest", group=g["id"], space=s["id"])
    every = [x["id"] for x in grants_of(owner)]
    mine = [x for x in every if x in {g1["id"], g2["id"], g3["id"],
                                      g4["id"]}]
    assert mine == [g1["id"], g2["id"], g3["id"], g4["id"]], every
    created = [x["created"] for x in grants_of(owner)]
    assert created == sorted(created), created

    def listed_ids(qs):
        return [x["id"] for x in grants_of(owner, qs)]

    assert listed_ids(f"?user={a.id}") == [g1["id"], g3["id"]]
    assert listed_ids(f"?group={g['id']}") == [g2["id"], g4["id"]]
    assert listed_ids(f"?space={s['id']}") == [g3["id"], g4["id"]]
    for qs in (f"?user={secrets.token_hex(16)}",
               f"?group={secrets.token_hex(16)}",
               f"?space={secrets.token_hex(16)}", "?user=abc",
               f"?user={g['id']}", f"?group={a.id}", f"?space={g['id']}"):
        assert grants_of(owner, qs) == [], qs
    err = assert_error(owner.send("GET", f"{GRANTS_URL}?role=guest",
                                  csrf=False), 400, "unknown_parameter")
    assert "role" in err["message"], err


def test_duplicate_grant(srv, sink, owner, auditor_role):
    # COMMITMENT B3
    a = fresh(owner, sink)
    g = create_group_ok(owner, uniq("Dup"))
    s1 = create_space_ok(owner, uniq("Dup one"))
    s2 = create_space_ok(owner, uniq("Dup two"))
    create_grant_ok(owner, "guest", user=a.id)
    create_grant_ok(owner, "guest", group=g["id"])
    create_grant_ok(owner, auditor_role["id"], user=a.id, space=s1["id"])
    before = snapshot(owner, srv.db)
    for kw in ({"user": a.id}, {"group": g["id"]}):
        assert_error(create_grant(owner, "guest", **kw), 400,
                     "duplicate_grant")
    assert_error(create_grant(owner, auditor_role["id"], user=a.id,
                              space=s1["id"]), 400, "duplicate_grant")
    assert snapshot(owner, srv.db) == before
    # another scope, another role or another principal is another grant
    create_grant_ok(owner, "guest", user=a.id, space=s1["id"])
    create_grant_ok(owner, auditor_role["id"], user=a.id, space=s2["id"])
    create_grant_ok(owner, auditor_role["id"], user=a.id)
    create_grant_ok(owner, "auditor", user=a.id)


def test_user_or_group(srv, sink, owner):
    # COMMITMENT B3
    a = fresh(owner, sink)
    g = create_group_ok(owner, uniq("Either"))
    before = snapshot(owner, srv.db)
    assert_error(owner.send("POST", GRANTS_URL, body={"role": "guest"}),
                 400, "bad_request")
    assert_error(owner.send("POST", GRANTS_URL,
                            body={"role": "guest", "space": None}),
                 400, "bad_request")
    assert_error(create_grant(owner, "guest", user=a.id, group=g["id"]),
                 400, "bad_request")
    r = owner.send("POST", GRANTS_URL, body={"user": a.id})
    assert_refused(r, 400, MISSING_FIELD)
    assert snapshot(owner, srv.db) == before


def test_unknown_references(srv, sink, owner, beta_owner):
    """unknown_user, unknown_group, unknown_role, unknown_space: ids that
    name nothing of this tenant (other tenants' included); nothing is
    made."""
    # COMMITMENT B2: other tenants' objects are unknown here
    beta = beta_owner
    beta_role = create_role_ok(beta, uniq("Beta role"), ["doc.read"])
    beta_group = create_group_ok(beta, uniq("Beta group"))
    beta_space = create_space_ok(beta, uniq("Beta space"))
    a = fresh(owner, sink)
    gone = fresh(owner, sink)
    owner.step_up()
    delete_ok(owner, f"{USERS_URL}/{gone.id}")
    dead_role = create_role_ok(owner, uniq("Dead"), ["doc.read"])
    delete_ok(owner, f"{ROLES_URL}/{dead_role['id']}")
    g = create_group_ok(owner, uniq("Real"))
    s = create_space_ok(owner, uniq("Real space"))
    before = snapshot(owner, srv.db)
    for uid in (secrets.token_hex(16), beta.id, gone.id, g["id"], "abc"):
        assert_error(create_grant(owner, "guest", user=uid), 400,
                     "unknown_user")
    for gid in (secrets.token_hex(16), beta_group["id"], a.id, "abc"):
        assert_error(create_grant(owner, "guest", group=gid), 400,
                     "unknown_group")
    for role in ("superuser", "Owner", "GUEST", "", secrets.token_hex(16),
                 beta_role["id"], dead_role["id"], "doc.read"):
        r = create_grant(owner, role, user=a.id)
        assert r.status_code == 400, (role, r.status_code, r.text)
        assert_error(r, 400, "unknown_role")
    for sid in (secrets.token_hex(16), beta_space["id"], g["id"], "abc"):
        assert_error(create_grant(owner, "guest", user=a.id, space=sid),
                     400, "unknown_space")
    assert snapshot(owner, srv.db) == before
    create_grant_ok(owner, "guest", user=a.id, space=s["id"])


def test_unknown_and_malformed_ids(srv, sink, owner):
    # COMMITMENT B2
    a = fresh(owner, sink)
    grant = create_grant_ok(owner, "guest", user=a.id)
    before = snapshot(owner, srv.db)
    bodies = set()
    for gid in ids_not_found(grant["id"]):
        r = delete_grant(owner, gid)
        assert r.status_code == 404, (gid, r.status_code, r.text)
        assert_error(r, 404, "not_found")
        bodies.add(r.content)
    assert len(bodies) == 1, bodies
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- effect

def test_tenant_grant_gives_the_permission(srv, sink, owner, auditor_role):
    """COMMITMENT B1: a member granted a role holding audit.read reads the
    access journal at its next request, and no longer once the grant is
    removed."""
    m = fresh(owner, sink)
    assert logins(m) == 403
    grant = create_grant_ok(owner, auditor_role["id"], user=m.id)
    assert logins(m) == 200
    assert effective(owner, m.id)["permissions"] == ordered(
        MEMBER + ["audit.read"])
    delete_ok(owner, f"{GRANTS_URL}/{grant['id']}")
    assert logins(m) == 403
    assert effective(owner, m.id)["permissions"] == MEMBER


def test_granted_role_manage(srv, sink, owner):
    """A member granted role.manage reaches the roles routes, and is bound
    by what it holds: it may make a role of its own permissions, not of
    others."""
    # COMMITMENT B1
    m = fresh(owner, sink)
    managers = create_role_ok(owner, uniq("Role managers"), ["role.manage"])
    assert_error(m.send("GET", ROLES_URL, csrf=False), 403, "forbidden")
    grant = create_grant_ok(owner, managers["id"], user=m.id)
    r = m.send("GET", ROLES_URL, csrf=False)
    assert r.status_code == 200, r.text
    mine = create_role_ok(m, uniq("Members made"), ["doc.read", "note.write"])
    assert_event(srv.db, "role.create", f"role:{mine['id']}", f"user:{m.row}")
    before = snapshot(owner, srv.db)
    assert_error(create_role(m, uniq("Too much"), ["doc.read", "audit.read"]),
                 403, "permission_not_held")
    assert snapshot(owner, srv.db) == before
    delete_ok(owner, f"{GRANTS_URL}/{grant['id']}")
    assert_error(m.send("GET", ROLES_URL, csrf=False), 403, "forbidden")


def test_role_change_applies_to_its_grants(srv, sink, owner):
    # COMMITMENT B1
    m = fresh(owner, sink)
    role = create_role_ok(owner, uniq("Shifting"), ["audit.read"])
    create_grant_ok(owner, role["id"], user=m.id)
    assert logins(m) == 200
    r = patch_role(owner, role["id"], {"permissions": ["doc.read"]})
    assert r.status_code == 200, r.text
    assert logins(m) == 403
    r = patch_role(owner, role["id"], {"permissions": ["doc.read",
                                                       "audit.read"]})
    assert r.status_code == 200, r.text
    assert logins(m) == 200


def test_through_a_group(srv, sink, owner, auditor_role):
    # COMMITMENT B1
    m = fresh(owner, sink)
    g = create_group_ok(owner, uniq("Readers"), members=[m.id])
    assert logins(m) == 403
    grant = create_grant_ok(owner, auditor_role["id"], group=g["id"])
    assert logins(m) == 200
    assert g["id"] in effective(owner, m.id)["groups"]
    # out of the group: gone at the next request
    patch_group_ok(owner, g["id"], {"members": []})
    assert logins(m) == 403
    patch_group_ok(owner, g["id"], {"members": [m.id]})
    assert logins(m) == 200
    # the grant removed
    delete_ok(owner, f"{GRANTS_URL}/{grant['id']}")
    assert logins(m) == 403
    create_grant_ok(owner, auditor_role["id"], group=g["id"])
    assert logins(m) == 200
    # the group removed
    delete_ok(owner, f"/api/v1/admin/groups/{g['id']}")
    assert logins(m) == 403
    assert g["id"] not in effective(owner, m.id)["groups"]


def test_through_nested_groups(srv, sink, owner, auditor_role):
    """The members of an inner group are members of the outer one, at any
    depth; cutting any link of the chain takes the permission away."""
    # COMMITMENT B1
    m = fresh(owner, sink)
    inner = create_group_ok(owner, uniq("Inner"), members=[m.id])
    mid = create_group_ok(owner, uniq("Mid"), groups=[inner["id"]])
    outer = create_group_ok(owner, uniq("Outer"), groups=[mid["id"]])
    create_grant_ok(owner, auditor_role["id"], group=outer["id"])
    assert logins(m) == 200
    view = effective(owner, m.id)
    assert sorted(view["groups"]) == sorted([inner["id"], mid["id"],
                                             outer["id"]]), view
    assert view["permissions"] == ordered(MEMBER + ["audit.read"]), view
    # the account list still shows the direct group only
    assert listed(owner)[m.id]["groups"] == [inner["id"]]

    patch_group_ok(owner, mid["id"], {"groups": []})
    assert logins(m) == 403
    assert sorted(effective(owner, m.id)["groups"]) == [inner["id"]]
    patch_group_ok(owner, mid["id"], {"groups": [inner["id"]]})
    assert logins(m) == 200
    patch_group_ok(owner, outer["id"], {"groups": []})
    assert logins(m) == 403
    patch_group_ok(owner, outer["id"], {"groups": [mid["id"]]})
    assert logins(m) == 200
    delete_ok(owner, f"/api/v1/admin/groups/{inner['id']}")
    assert logins(m) == 403
    assert effective(owner, m.id)["groups"] == []


def test_space_grant_is_for_that_space_only(srv, sink, owner, auditor_role):
    """A space grant gives nothing tenant-wide, and in that space only."""
    # COMMITMENT B1
    m = fresh(owner, sink)
    s1 = create_space_ok(owner, uniq("Granted"))
    s2 = create_space_ok(owner, uniq("Other"))
    create_grant_ok(owner, auditor_role["id"], user=m.id, space=s1["id"])
    assert logins(m) == 403
    assert effective(owner, m.id)["permissions"] == MEMBER

    a = fresh(owner, sink, role="auditor")
    assert_error(a.send("GET", SPACES_URL, csrf=False), 403, "forbidden")
    create_grant_ok(owner, "guest", user=a.id, space=s1["id"])
    got = spaces_of(a)
    assert [x["id"] for x in got] == [s1["id"]], got
    assert got[0]["permissions"] == ["doc.read", "audit.read"], got
    r = a.send("GET", f"{SPACES_URL}/{s1['id']}", csrf=False)
    assert r.status_code == 200, r.text
    assert r.json()["space"]["permissions"] == ["doc.read", "audit.read"]
    hidden = a.send("GET", f"{SPACES_URL}/{s2['id']}", csrf=False)
    nothing = a.send("GET", f"{SPACES_URL}/{secrets.token_hex(16)}",
                     csrf=False)
    assert_error(hidden, 404, "not_found")
    assert (hidden.status_code, hidden.content) == (nothing.status_code,
                                                    nothing.content)
    view = effective(owner, a.id)
    assert view["permissions"] == ["audit.read"], view
    assert view["spaces"] == [{"id": s1["id"], "name": s1["name"],
                               "permissions": ["doc.read",
                                               "audit.read"]}], view


def test_preview(srv, sink, owner):
    """GET /api/v1/admin/users/{id}/permissions: the role, the tenant-wide
    permissions, every group (nested ones too) and each space where a
    grant gives more than tenant-wide."""
    # COMMITMENT B1
    m = fresh(owner, sink)
    view = effective(owner, m.id)
    assert view == {"role": "member", "permissions": MEMBER, "groups": [],
                    "spaces": []}, view
    keepers = create_role_ok(owner, uniq("Keepers"), ["space.manage"])
    writers = create_role_ok(owner, uniq("Writers"), ["doc.write"])
    s1 = create_space_ok(owner, uniq("Kept"))
    s2 = create_space_ok(owner, uniq("Nothing more"))
    inner = create_group_ok(owner, uniq("Inner"), members=[m.id])
    outer = create_group_ok(owner, uniq("Outer"), groups=[inner["id"]])
    create_grant_ok(owner, keepers["id"], group=outer["id"], space=s1["id"])
    # doc.write: the member holds it tenant-wide already
    create_grant_ok(owner, writers["id"], user=m.id, space=s2["id"])
    create_grant_ok(owner, "guest", user=m.id, space=s2["id"])
    view = effective(owner, m.id)
    assert view["role"] == "member" and view["permissions"] == MEMBER, view
    assert sorted(view["groups"]) == sorted([inner["id"], outer["id"]]), view
    assert view["spaces"] == [{"id": s1["id"], "name": s1["name"],
                               "permissions": ordered(MEMBER + [
                                   "space.manage"])}], view
    # the space's own view agrees
    r = m.send("GET", f"{SPACES_URL}/{s1['id']}", csrf=False)
    assert r.status_code == 200, r.text
    assert r.json()["space"]["permissions"] == view["spaces"][0][
        "permissions"]
    r = m.send("GET", f"{SPACES_URL}/{s2['id']}", csrf=False)
    assert r.json()["space"]["permissions"] == MEMBER, r.text
    # an owner holds everything everywhere
    view = effective(owner, owner.id)
    assert view["permissions"] == CATALOGUE and view["spaces"] == [], view


# ---------------------------------------------------------------- tokens

def test_token_holds_the_intersection(srv, sink, owner, auditor_role):
    """COMMITMENT B1: a token holds what both the account and the token
    carry. A token without audit.read gains nothing from a grant; one
    with it loses it with the grant."""
    m = fresh(owner, sink)
    plain = token_of(m, ["doc.read"], name="plain")
    grant = create_grant_ok(owner, auditor_role["id"], user=m.id)
    assert logins(m) == 200
    assert logins(plain) == 403
    m.step_up()
    r = m.create(name="granted", permissions=["doc.read", "audit.read"])
    assert r.status_code == 201, (
        f"a token of a permission the account holds through a grant: "
        f"{r.status_code} {r.text}")
    srv.made.append(r.json()["token"])
    granted = Bearer(srv, r.json())
    assert logins(granted) == 200
    delete_ok(owner, f"{GRANTS_URL}/{grant['id']}")
    assert logins(granted) == 403
    assert logins(m) == 403
    create_grant_ok(owner, auditor_role["id"], user=m.id)
    assert logins(granted) == 200


def test_token_without_a_granted_permission_is_refused(srv, sink, owner):
    """Creating a token of a permission the account holds nowhere stays
    403 permission_not_held."""
    # COMMITMENT B1
    m = fresh(owner, sink)
    m.step_up()
    r = m.create(name="greedy", permissions=["audit.read"])
    assert_error(r, 403, "permission_not_held")


# ---------------------------------------------------------------- 2FA

def test_2fa_for_whoever_administers(srv, sink, beta_owner):
    """Under the default policy `admins`, the 2FA requirement applies to
    anyone on an administration route whose permission administers the
    tenant (user.manage, role.manage, settings.security, tenant.export,
    tenant.delete), whatever their own role; not to audit.read."""
    # COMMITMENT A12, B1
    boss = beta_owner
    m = join(boss, sink, f"b.{secrets.token_hex(3)}@beta.example", "member")
    managers = create_role_ok(boss, uniq("Managers"),
                              ["role.manage", "user.manage", "audit.read"])
    create_grant_ok(boss, managers["id"], user=m.id)
    for path in (ROLES_URL, "/api/v1/admin/groups", GRANTS_URL,
                 "/api/v1/admin/users"):
        r = m.send("GET", path, csrf=False)
        assert r.status_code == 403, (path, r.status_code, r.text)
        assert_error(r, 403, "mfa_enrolment_required")
    assert m.send("GET", LOGINS, csrf=False).status_code == 200
    m.enrol_totp()
    for path in (ROLES_URL, "/api/v1/admin/groups", GRANTS_URL,
                 "/api/v1/admin/users"):
        r = m.send("GET", path, csrf=False)
        assert r.status_code == 200, (path, r.status_code, r.text)


# ---------------------------------------------------------------- who may

def test_member_is_refused(srv, sink, owner):
    # COMMITMENT B1
    m = fresh(owner, sink)
    other = fresh(owner, sink)
    grant = create_grant_ok(owner, "guest", user=other.id)
    before = snapshot(owner, srv.db)
    for r in (m.send("GET", GRANTS_URL, csrf=False),
              create_grant(m, "guest", user=other.id, space=None),
              delete_grant(m, grant["id"])):
        assert_error(r, 403, "forbidden")
    assert snapshot(owner, srv.db) == before


def test_cookie_changes_need_csrf(srv, sink, owner):
    # COMMITMENT B5
    m = fresh(owner, sink)
    grant = create_grant_ok(owner, "guest", user=m.id)
    before = snapshot(owner, srv.db)
    for method, path, body in (
            ("POST", GRANTS_URL, {"user": m.id, "role": "auditor"}),
            ("DELETE", f"{GRANTS_URL}/{grant['id']}", None)):
        assert_error(owner.send(method, path, body=body, csrf=False), 403,
                     "csrf")
    assert snapshot(owner, srv.db) == before


def test_token_with_role_manage(srv, sink, owner):
    """An owner's token with role.manage and doc.read grants guest; the
    events name the token."""
    # COMMITMENT B1
    m = fresh(owner, sink)
    tok = token_of(owner, ["role.manage", "doc.read"])
    grant = create_grant_ok(tok, "guest", user=m.id)
    assert_event(srv.db, "grant.create", f"grant:{grant['id']}",
                 tok.principal)
    delete_ok(tok, f"{GRANTS_URL}/{grant['id']}")
    assert_event(srv.db, "grant.delete", f"grant:{grant['id']}",
                 tok.principal)
