# SPDX-License-Identifier: AGPL-3.0-or-later
"""No escalation through roles, groups and grants (COMMITMENT B1;
docs/internals/authz-contract.md, "No escalation"): an actor changes a
custom role only when it holds, tenant-wide, every permission the role
holds before and after (403 permission_not_held), and creates or removes
a grant only when it holds every permission of the granted role in the
grant's scope (403 role_not_allowed); granting never gives the actor
anything; the last owner stays (409 last_owner); role.manage held in a
space only does not reach the tenant's roles; a token acts with the
intersection of its account's permissions and its own. Every refusal
changes nothing: the tests compare the whole model and the audit trail
before and after.

One server for the module, tenant acme under the 2FA policy `optional`.
"""

import secrets

import pytest

from accounts import CATALOGUE, USERS, Account, join
from conftest import assert_error
from test_auth import OWNER, PW_OWNER
from test_roles import (BUILTIN, GRANTS_URL, GROUPS_URL, ROLES_URL,
                        SPACES_URL, create_grant, create_grant_ok,
                        create_group, create_group_ok, create_role,
                        create_role_ok, create_space_ok, delete_grant,
                        delete_ok, delete_role, effective, mail_sink,
                        model_server, patch_group, patch_group_ok, patch_role,
                        role_by_id, snapshot, token_of, uniq)

ADMIN = BUILTIN["admin"]
MEMBER = BUILTIN["member"]
OWNER_ONLY = ("tenant.export", "tenant.delete")


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
def admin(srv, sink, owner):
    return join(owner, sink, "admin@acme.example", "admin")


@pytest.fixture(scope="module")
def member(srv, sink, owner):
    return join(owner, sink, "member@acme.example", "member")


@pytest.fixture(scope="module")
def exporters(owner):
    """A role an owner made, holding tenant.export."""
    return create_role_ok(owner, uniq("Exporters"), ["doc.read",
                                                     "tenant.export"])


@pytest.fixture(scope="module")
def deleters(owner):
    """A role an owner made, holding tenant.delete."""
    return create_role_ok(owner, uniq("Deleters"), ["tenant.delete"])


def fresh(owner, sink, role="member"):
    return join(owner, sink, f"{role}.{secrets.token_hex(4)}@acme.example",
                role)


def ordered_union(*lists):
    every = set().union(*map(set, lists))
    return [p for p in CATALOGUE if p in every]


def refused_403(resp, code):
    """RESP is 403 CODE."""
    assert resp.status_code == 403, (code, resp.status_code, resp.text)
    return assert_error(resp, 403, code)


# ---------------------------------------------------------------- members

def test_member_cannot_grant_itself(srv, owner, member):
    # COMMITMENT B1
    before = snapshot(owner, srv.db)
    for role in ("admin", "owner", "member", "guest", "auditor"):
        refused_403(create_grant(member, role, user=member.id), "forbidden")
    refused_403(member.send("GET", GRANTS_URL, csrf=False), "forbidden")
    assert snapshot(owner, srv.db) == before
    assert effective(owner, member.id)["permissions"] == MEMBER


def test_member_cannot_create_a_role(srv, owner, member):
    # COMMITMENT B1
    before = snapshot(owner, srv.db)
    refused_403(create_role(member, uniq("Mine"), ["doc.read"]), "forbidden")
    refused_403(create_role(member, uniq("Mine"), CATALOGUE), "forbidden")
    refused_403(create_group(member, uniq("Mine"), members=[member.id]),
                "forbidden")
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- roles

@pytest.mark.parametrize("perms", [
    ["tenant.export"], ["tenant.delete"], ["doc.read", "tenant.export"],
    ["tenant.export", "tenant.delete"], CATALOGUE,
], ids=lambda p: ",".join(p) if len(p) < 5 else "catalogue")
def test_admin_cannot_create_an_owners_role(srv, owner, admin, perms):
    """COMMITMENT B1: an admin lacks tenant.export and tenant.delete, so no
    role it makes may hold them."""
    before = snapshot(owner, srv.db)
    refused_403(create_role(admin, uniq("Escalate"), perms),
                "permission_not_held")
    assert snapshot(owner, srv.db) == before


def test_admin_makes_roles_of_what_it_holds(srv, owner, admin):
    role = create_role_ok(admin, uniq("Admin made"), ADMIN)
    assert role["permissions"] == ADMIN
    delete_ok(admin, f"{ROLES_URL}/{role['id']}")


def test_admin_cannot_patch_one_in(srv, owner, admin):
    # COMMITMENT B1
    role = create_role_ok(admin, uniq("Admin made"), ["doc.read"])
    before = snapshot(owner, srv.db)
    for perms in (["doc.read", "tenant.export"], ["tenant.delete"],
                  CATALOGUE):
        refused_403(patch_role(admin, role["id"], {"permissions": perms}),
                    "permission_not_held")
        refused_403(patch_role(admin, role["id"], {
            "name": uniq("Renamed"), "permissions": perms}),
            "permission_not_held")
    assert snapshot(owner, srv.db) == before
    assert role_by_id(owner, role["id"]) == role


def test_admin_cannot_touch_an_owners_role(srv, owner, admin, exporters):
    """COMMITMENT B1: the role holds tenant.export before the change, so an
    admin can neither rename it, nor strip it, nor delete it."""
    before = snapshot(owner, srv.db)
    for body in ({"name": uniq("Renamed")}, {"permissions": ["doc.read"]},
                 {"permissions": ["doc.read", "tenant.export"]},
                 {"name": uniq("Both"), "permissions": ["doc.read"]}):
        refused_403(patch_role(admin, exporters["id"], body),
                    "permission_not_held")
    refused_403(delete_role(admin, exporters["id"]), "permission_not_held")
    assert snapshot(owner, srv.db) == before
    # the admin's token, even carrying everything the admin holds
    tok = token_of(admin, ADMIN)
    before = snapshot(owner, srv.db)      # the token's creation is audited
    refused_403(delete_role(tok, exporters["id"]), "permission_not_held")
    refused_403(patch_role(tok, exporters["id"], {"name": uniq("Tok")}),
                "permission_not_held")
    assert snapshot(owner, srv.db) == before
    # the owner may
    r = patch_role(owner, exporters["id"], {"name": exporters["name"]})
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- grants

def test_admin_cannot_grant_owner(srv, sink, owner, admin, member,
                                  deleters):
    """COMMITMENT B1: an admin cannot grant `owner`, nor a custom role
    holding tenant.delete, to anyone, itself included, tenant-wide, in a
    space, or to a group: 403 role_not_allowed, nothing changes."""
    space = create_space_ok(owner, uniq("Vault"))
    group = create_group_ok(owner, uniq("With admin"),
                            members=[admin.id, member.id])
    before = snapshot(owner, srv.db)
    for role in ("owner", deleters["id"]):
        for kw in ({"user": member.id}, {"user": admin.id},
                   {"user": owner.id}, {"group": group["id"]},
                   {"user": admin.id, "space": space["id"]},
                   {"group": group["id"], "space": space["id"]}):
            r = create_grant(admin, role, **kw)
            assert r.status_code == 403, (role, kw, r.status_code, r.text)
            assert_error(r, 403, "role_not_allowed")
    assert snapshot(owner, srv.db) == before
    assert effective(owner, admin.id)["permissions"] == ADMIN
    assert effective(owner, member.id)["permissions"] == MEMBER


def test_admin_cannot_remove_an_owners_grant(srv, sink, owner, admin,
                                             exporters):
    # COMMITMENT B1: removing needs the same as creating
    m = fresh(owner, sink)
    g1 = create_grant_ok(owner, exporters["id"], user=m.id)
    g2 = create_grant_ok(owner, "owner", user=m.id)
    before = snapshot(owner, srv.db)
    for g in (g1, g2):
        refused_403(delete_grant(admin, g["id"]), "role_not_allowed")
    assert snapshot(owner, srv.db) == before
    for g in (g1, g2):
        delete_ok(owner, f"{GRANTS_URL}/{g['id']}")


def test_granting_gives_the_actor_nothing(srv, sink, owner, admin):
    """An admin may grant roles it holds, to itself too: its permissions
    stay those of its role."""
    m = fresh(owner, sink)
    g1 = create_grant_ok(admin, "admin", user=m.id)
    g2 = create_grant_ok(admin, "admin", user=admin.id)
    assert effective(owner, admin.id)["permissions"] == ADMIN
    assert effective(owner, m.id)["permissions"] == ADMIN
    for g in (g1, g2):
        delete_ok(admin, f"{GRANTS_URL}/{g['id']}")
    assert effective(owner, m.id)["permissions"] == MEMBER


def test_granted_role_manage_stays_bounded(srv, sink, owner):
    """A member holding role.manage through a grant may grant itself only
    what it already holds, and may not widen the role that made it a
    manager."""
    m = fresh(owner, sink)
    managers = create_role_ok(owner, uniq("Managers"), ["role.manage",
                                                        "audit.read"])
    create_grant_ok(owner, managers["id"], user=m.id)
    held = ordered_union(MEMBER, ["role.manage", "audit.read"])
    assert effective(owner, m.id)["permissions"] == held
    before = snapshot(owner, srv.db)
    for role in ("admin", "owner"):
        refused_403(create_grant(m, role, user=m.id), "role_not_allowed")
    refused_403(patch_role(m, managers["id"], {
        "permissions": ["role.manage", "audit.read", "user.manage"]}),
        "permission_not_held")
    refused_403(create_role(m, uniq("Wider"), ["user.manage"]),
                "permission_not_held")
    assert snapshot(owner, srv.db) == before
    # what it holds: allowed, and it gains nothing
    g = create_grant_ok(m, "member", user=m.id)
    g2 = create_grant_ok(m, managers["id"], user=m.id, space=create_space_ok(
        owner, uniq("Managed"))["id"])
    assert effective(owner, m.id)["permissions"] == held
    for x in (g, g2):
        delete_ok(m, f"{GRANTS_URL}/{x['id']}")


def test_group_membership_gives_the_actor_nothing(srv, sink, owner, admin,
                                                  exporters):
    """COMMITMENT B1: whoever joins a group gains the grants made to it
    and to every group containing it, so changing its members or groups,
    or deleting it, needs every permission of those grants: an admin
    cannot join a group an owner granted tenant.export, nor put a group
    of its own (or another account) in it, nor in a group inside it, nor
    delete it (403 role_not_allowed); it gains nothing."""
    vault = create_group_ok(owner, uniq("Exporting group"))
    inner = create_group_ok(owner, uniq("Inside the vault"))
    patch_group_ok(owner, vault["id"], {"groups": [inner["id"]]})
    grant = create_grant_ok(owner, exporters["id"], group=vault["id"])
    mine = create_group_ok(admin, uniq("Admins own"), members=[admin.id])
    m = fresh(owner, sink)
    before = snapshot(owner, srv.db)
    for target, body in ((vault, {"members": [admin.id]}),
                         (vault, {"members": [m.id]}),
                         (vault, {"groups": [inner["id"], mine["id"]]}),
                         (vault, {"name": uniq("Renamed"),
                                  "members": [admin.id]}),
                         (vault, {"groups": []}),
                         (inner, {"members": [admin.id]}),
                         (inner, {"groups": [mine["id"]]})):
        r = patch_group(admin, target["id"], body)
        if r.status_code != 403:
            held = effective(owner, admin.id)["permissions"]
            pytest.fail(f"an admin changed a group granted tenant.export: "
                        f"{body} -> {r.status_code} {r.text}; the admin now "
                        f"holds {held}", pytrace=False)
        assert_error(r, 403, "role_not_allowed")
    for target in (vault, inner):
        refused_403(admin.send("DELETE", f"{GROUPS_URL}/{target['id']}"),
                    "role_not_allowed")
    assert snapshot(owner, srv.db) == before
    assert effective(owner, admin.id)["permissions"] == ADMIN
    assert effective(owner, m.id)["permissions"] == MEMBER
    # a group the admin may fill: its grants are within the admin's reach
    patch_group_ok(admin, mine["id"], {"members": [admin.id, m.id]})
    delete_ok(owner, f"{GRANTS_URL}/{grant['id']}")


# ---------------------------------------------------------------- owners

def test_last_owner(srv, sink, owner, admin):
    """COMMITMENT B1, B3: the tenant keeps an active owner, counted by
    role and by grant: the last one cannot be demoted or disabled, by
    itself or anyone; an account holding `owner` through a grant counts,
    so the owner may step down while it does, and the grant that makes
    the last owner cannot be taken away."""
    before = snapshot(owner, srv.db)
    for body in ({"role": "admin"}, {"role": "member"},
                 {"state": "disabled"}):
        r = owner.send("PATCH", f"{USERS}/{owner.id}", body=body)
        assert_error(r, 409, "last_owner")
        r = admin.send("PATCH", f"{USERS}/{owner.id}", body=body)
        assert_error(r, 403, "role_not_allowed")
    assert snapshot(owner, srv.db) == before
    deputy = fresh(owner, sink, role="admin")
    g = create_grant_ok(owner, "owner", user=deputy.id)
    assert effective(owner, deputy.id)["permissions"] == CATALOGUE
    assert effective(owner, deputy.id)["role"] == "admin"
    # the deputy holds owner by grant: the owner may step down
    r = owner.send("PATCH", f"{USERS}/{owner.id}", body={"role": "admin"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "admin", (
        r.text)
    # now the deputy's grant makes the last owner: it stays
    before = snapshot(deputy, srv.db)
    assert_error(deputy.send("DELETE", f"{GRANTS_URL}/{g['id']}"), 409,
                 "last_owner")
    assert_error(deputy.send("PATCH", f"{USERS}/{deputy.id}",
                             body={"state": "disabled"}), 409, "last_owner")
    assert snapshot(deputy, srv.db) == before
    # the deputy gives the role back, then the grant can go
    r = deputy.send("PATCH", f"{USERS}/{owner.id}", body={"role": "owner"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "owner", (
        r.text)
    delete_ok(owner, f"{GRANTS_URL}/{g['id']}")
    r = owner.send("GET", "/api/v1/me", csrf=False)
    assert r.json()["user"]["role"] == "owner", r.text


# ---------------------------------------------------------------- scope

def test_role_manage_in_a_space_only(srv, sink, owner):
    """COMMITMENT B1: the roles, groups and grants routes need role.manage
    tenant-wide; held in one space it opens none of them."""
    m = fresh(owner, sink)
    managers = create_role_ok(owner, uniq("Space managers"),
                              ["role.manage", "user.manage"])
    space = create_space_ok(owner, uniq("Managed"))
    create_grant_ok(owner, managers["id"], user=m.id, space=space["id"])
    role = create_role_ok(owner, uniq("Target"), ["doc.read"])
    group = create_group_ok(owner, uniq("Target"))
    grant = create_grant_ok(owner, "guest", group=group["id"])
    before = snapshot(owner, srv.db)
    for r in (m.send("GET", ROLES_URL, csrf=False),
              create_role(m, uniq("Mine"), ["doc.read"]),
              patch_role(m, role["id"], {"name": uniq("Mine")}),
              delete_role(m, role["id"]),
              m.send("GET", GROUPS_URL, csrf=False),
              create_group(m, uniq("Mine"), members=[m.id]),
              patch_group(m, group["id"], {"members": [m.id]}),
              m.send("DELETE", f"{GROUPS_URL}/{group['id']}"),
              m.send("GET", GRANTS_URL, csrf=False),
              create_grant(m, "guest", user=m.id, space=space["id"]),
              delete_grant(m, grant["id"]),
              m.send("GET", USERS, csrf=False)):
        refused_403(r, "forbidden")
    assert snapshot(owner, srv.db) == before


def test_space_manage_in_a_space_cannot_create_spaces(srv, sink, owner):
    """POST /api/v1/spaces needs space.manage tenant-wide."""
    a = fresh(owner, sink, role="auditor")
    keepers = create_role_ok(owner, uniq("Keepers"), ["doc.read",
                                                      "space.manage"])
    space = create_space_ok(owner, uniq("Kept"))
    create_grant_ok(owner, keepers["id"], user=a.id, space=space["id"])
    before = snapshot(owner, srv.db)
    refused_403(a.send("POST", SPACES_URL, body={"name": uniq("New")}),
                "forbidden")
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- tokens

def test_token_acts_with_the_intersection(srv, sink, owner, admin):
    """COMMITMENT B1: an admin's token carrying only role.manage holds only
    role.manage: it cannot grant a role holding doc.read, nor make one,
    though the admin could."""
    m = fresh(owner, sink)
    tok = token_of(admin, ["role.manage"])
    readers = create_role_ok(owner, uniq("Readers"), ["doc.read"])
    before = snapshot(owner, srv.db)
    for role in ("guest", "member", readers["id"], "admin"):
        refused_403(create_grant(tok, role, user=m.id), "role_not_allowed")
    refused_403(create_role(tok, uniq("Token made"), ["doc.read"]),
                "permission_not_held")
    refused_403(patch_role(tok, readers["id"], {"name": uniq("Tok")}),
                "permission_not_held")
    refused_403(delete_role(tok, readers["id"]), "permission_not_held")
    assert snapshot(owner, srv.db) == before
    # what the token does hold
    own = create_role_ok(tok, uniq("Token made"), ["role.manage"])
    g = create_grant_ok(tok, own["id"], user=m.id)
    # the admin's session, holding doc.read, may remove what the token
    # could not make
    delete_ok(admin, f"{GRANTS_URL}/{g['id']}")
    g = create_grant_ok(admin, "guest", user=m.id)
    refused_403(delete_grant(tok, g["id"]), "role_not_allowed")
    delete_ok(admin, f"{GRANTS_URL}/{g['id']}")


def test_token_of_an_owner_is_bound_too(srv, sink, owner):
    """An owner's token without tenant.export cannot make or grant a role
    holding it."""
    m = fresh(owner, sink)
    tok = token_of(owner, ADMIN)
    before = snapshot(owner, srv.db)
    refused_403(create_role(tok, uniq("Exporters"), ["tenant.export"]),
                "permission_not_held")
    refused_403(create_grant(tok, "owner", user=m.id), "role_not_allowed")
    assert snapshot(owner, srv.db) == before
