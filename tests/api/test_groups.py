# SPDX-License-Identifier: AGPL-3.0-or-later
"""Groups (docs/internals/authz-contract.md, COMMITMENT B1, B3): creation
with accounts and groups, lists that replace, nesting, the refusal of
any cycle, unknown and repeated members, names, ids, removal with its
memberships and grants, the `groups` of the account list, and one audit
event per change. A refused request changes nothing.

One server for the module (2FA policy `optional`), tenants acme and beta
(beta's objects are unknown to acme).
"""

import secrets

import pytest

from accounts import Account, join, listed
from conftest import assert_error
from test_auth import BETA_OWNER, OWNER, PW_BETA, PW_OWNER
from test_roles import (BAD_NAMES, GRANTS_URL, GROUPS_URL, UNKNOWN_FIELD,
                        assert_event, assert_refused, create_grant_ok,
                        create_group, create_group_ok, create_role_ok,
                        create_space_ok, delete_group, delete_ok, events,
                        grants_of, group_by_id, groups_of, ids_not_found,
                        mail_sink, model_server, patch_group, patch_group_ok,
                        role_by_id, snapshot, uniq)


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sink():
    yield from mail_sink()


@pytest.fixture(scope="module")
def srv(sink):
    yield from model_server(sink, tenants=("acme", "beta"))


@pytest.fixture(scope="module")
def owner(srv):
    return Account(srv, OWNER, PW_OWNER)


@pytest.fixture(scope="module")
def beta(srv):
    return Account(srv, BETA_OWNER, PW_BETA, tenant="beta")


@pytest.fixture(scope="module")
def people(srv, sink, owner):
    """Three members of acme, oldest first."""
    return [join(owner, sink, f"people{i}@acme.example", "member")
            for i in range(3)]


def ids(accounts):
    return [a.id for a in accounts]


# ---------------------------------------------------------------- CRUD

def test_create_group(srv, owner, people):
    # COMMITMENT B2: random public ids
    name = uniq("Finance")
    g = create_group_ok(owner, name, members=ids(people[:2]))
    assert g["members"] == ids(people[:2]), g   # oldest first
    assert g["groups"] == [], g
    assert group_by_id(owner, g["id"]) == g
    assert_event(srv.db, "group.create", f"group:{g['id']}",
                 f"user:{owner.row}")
    # members and groups are optional
    empty = create_group_ok(owner, uniq("Empty"))
    assert empty["members"] == [] and empty["groups"] == [], empty
    outer = create_group_ok(owner, uniq("Outer"), groups=[g["id"]])
    assert outer["groups"] == [g["id"]] and outer["members"] == [], outer


def test_groups_listed_by_name(srv, owner):
    tag = secrets.token_hex(3)
    names = [f"Yankee {tag}", f"Bravo {tag}", f"Lima {tag}"]
    for n in names:
        create_group_ok(owner, n)
    mine = [g["name"] for g in groups_of(owner) if g["name"].endswith(tag)]
    assert mine == sorted(names), mine


def test_patch_group(srv, owner, people):
    g = create_group_ok(owner, uniq("Sales"), members=[people[0].id])
    inner = create_group_ok(owner, uniq("Inner"))
    path_id = g["id"]
    new_name = uniq("Ventes")
    got = patch_group_ok(owner, path_id, {"name": new_name})
    assert got == dict(g, name=new_name), got
    # a list given replaces the old one; the other list stays
    got = patch_group_ok(owner, path_id, {"members": ids(people[1:])})
    assert got["members"] == ids(people[1:]), got
    assert got["name"] == new_name and got["groups"] == [], got
    got = patch_group_ok(owner, path_id, {"groups": [inner["id"]]})
    assert got["groups"] == [inner["id"]], got
    assert got["members"] == ids(people[1:]), got
    got = patch_group_ok(owner, path_id, {"members": [], "groups": []})
    assert got["members"] == [] and got["groups"] == [], got
    assert got["created"] == g["created"], got
    assert group_by_id(owner, path_id) == got
    evs = events(srv.db, "group.update", f"group:{path_id}")
    assert len(evs) == 4, evs
    assert all(e["principal"] == f"user:{owner.row}" for e in evs), evs


def test_patch_empty_body(srv, owner):
    g = create_group_ok(owner, uniq("Still"))
    before = snapshot(owner, srv.db)
    assert_error(patch_group(owner, g["id"], {}), 400, "bad_request")
    assert snapshot(owner, srv.db) == before


def test_delete_group(srv, owner, people):
    g = create_group_ok(owner, uniq("Leaving"), members=[people[0].id])
    delete_ok(owner, f"{GROUPS_URL}/{g['id']}")
    assert group_by_id(owner, g["id"]) is None
    assert_event(srv.db, "group.delete", f"group:{g['id']}",
                 f"user:{owner.row}")
    before = snapshot(owner, srv.db)
    assert_error(delete_group(owner, g["id"]), 404, "not_found")
    assert_error(patch_group(owner, g["id"], {"name": uniq("Back")}), 404,
                 "not_found")
    assert snapshot(owner, srv.db) == before
    # the name is free again
    create_group_ok(owner, g["name"])


def test_delete_takes_memberships_and_grants(srv, owner, people):
    """Deleting a group removes its memberships both ways (its members,
    and its place in other groups) and its grants."""
    # COMMITMENT B1
    m = people[0]
    inner = create_group_ok(owner, uniq("Inner"), members=[m.id])
    child = create_group_ok(owner, uniq("Child"))
    g = create_group_ok(owner, uniq("Doomed"), members=[m.id],
                        groups=[child["id"]])
    outer = create_group_ok(owner, uniq("Outer"), groups=[g["id"],
                                                          inner["id"]])
    role = create_role_ok(owner, uniq("Doomed role"), ["audit.read"])
    space = create_space_ok(owner, uniq("Doomed space"))
    grant1 = create_grant_ok(owner, role["id"], group=g["id"])
    grant2 = create_grant_ok(owner, "guest", group=g["id"],
                             space=space["id"])
    kept = create_grant_ok(owner, role["id"], group=inner["id"])
    assert g["id"] in listed(owner)[m.id]["groups"]
    assert role_by_id(owner, role["id"])["grants"] == 2

    delete_ok(owner, f"{GROUPS_URL}/{g['id']}")
    assert group_by_id(owner, outer["id"])["groups"] == [inner["id"]]
    assert group_by_id(owner, child["id"]) is not None, "only the group goes"
    assert group_by_id(owner, inner["id"])["members"] == [m.id]
    direct = listed(owner)[m.id]["groups"]
    assert g["id"] not in direct and inner["id"] in direct, direct
    grants = {x["id"] for x in grants_of(owner)}
    assert grant1["id"] not in grants and grant2["id"] not in grants
    assert kept["id"] in grants
    assert grants_of(owner, f"?group={g['id']}") == []
    assert role_by_id(owner, role["id"])["grants"] == 1
    # the removed grants are gone for good
    assert_error(owner.send("DELETE", f"{GRANTS_URL}/{grant1['id']}"), 404,
                 "not_found")


# ---------------------------------------------------------------- nesting

def test_nested_groups(srv, owner, people):
    """A group inside a group: the outer lists the inner one among its
    direct groups; the account list shows only direct groups."""
    # COMMITMENT B1
    m = people[2]
    c = create_group_ok(owner, uniq("C"), members=[m.id])
    b = create_group_ok(owner, uniq("B"), groups=[c["id"]])
    a = create_group_ok(owner, uniq("A"), groups=[b["id"]])
    assert group_by_id(owner, a["id"])["groups"] == [b["id"]]
    assert group_by_id(owner, a["id"])["members"] == []
    assert c["id"] in listed(owner)[m.id]["groups"]
    assert a["id"] not in listed(owner)[m.id]["groups"]
    assert b["id"] not in listed(owner)[m.id]["groups"]


def test_diamond_is_no_cycle(srv, owner):
    """Two paths to the same group are allowed: only a group containing
    itself is a cycle."""
    d = create_group_ok(owner, uniq("D"))
    b = create_group_ok(owner, uniq("B"), groups=[d["id"]])
    c = create_group_ok(owner, uniq("C"), groups=[d["id"]])
    a = create_group_ok(owner, uniq("A"), groups=[b["id"], c["id"]])
    got = patch_group_ok(owner, a["id"], {"groups": [b["id"], c["id"],
                                                     d["id"]]})
    assert sorted(got["groups"]) == sorted([b["id"], c["id"], d["id"]])


@pytest.mark.parametrize("length", [1, 2, 3, 5])
def test_cycle_refused(srv, owner, people, length):
    """COMMITMENT B1: a group can never contain itself, directly or through
    others: 400 cycle, and nothing changes (the other fields of the same
    request are not applied either)."""
    # COMMITMENT B1
    chain = [create_group_ok(owner, uniq(f"Ring{length}-0"),
                             members=[people[0].id])]
    for i in range(1, length):
        chain.append(create_group_ok(owner, uniq(f"Ring{length}-{i}"),
                                     groups=[chain[-1]["id"]]))
    # chain[-1] contains ... contains chain[0]; close the ring
    first, last = chain[0], chain[-1]
    before = snapshot(owner, srv.db)
    r = patch_group(owner, first["id"], {"groups": [last["id"]]})
    assert_error(r, 400, "cycle")
    r = patch_group(owner, first["id"], {"name": uniq("Renamed"),
                                         "members": [],
                                         "groups": [last["id"]]})
    assert_error(r, 400, "cycle")
    if length > 1:
        # also when the ring is one of several groups of the list
        spare = create_group_ok(owner, uniq("Spare"))
        before = snapshot(owner, srv.db)
        r = patch_group(owner, first["id"], {"groups": [spare["id"],
                                                        last["id"]]})
        assert_error(r, 400, "cycle")
    assert snapshot(owner, srv.db) == before
    assert group_by_id(owner, first["id"]) == first


def test_cycle_through_a_middle_group(srv, owner):
    """A -> B -> C; making B contain A (a ring of two inside a longer
    chain) and C contain B are refused too."""
    # COMMITMENT B1
    c = create_group_ok(owner, uniq("C"))
    b = create_group_ok(owner, uniq("B"), groups=[c["id"]])
    a = create_group_ok(owner, uniq("A"), groups=[b["id"]])
    before = snapshot(owner, srv.db)
    assert_error(patch_group(owner, b["id"], {"groups": [c["id"], a["id"]]}),
                 400, "cycle")
    assert_error(patch_group(owner, c["id"], {"groups": [b["id"]]}), 400,
                 "cycle")
    assert_error(patch_group(owner, c["id"], {"groups": [a["id"]]}), 400,
                 "cycle")
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- members

def test_unknown_user(srv, sink, owner, beta, people):
    """An id that is not an account of this tenant (another tenant's, a
    removed one, none at all, malformed) is 400 unknown_user."""
    # COMMITMENT B2: another tenant's account is no account here
    g = create_group_ok(owner, uniq("Strict"), members=[people[0].id])
    gone = join(owner, sink, f"gone.{secrets.token_hex(3)}@acme.example",
                "member")
    owner.step_up()
    delete_ok(owner, f"/api/v1/admin/users/{gone.id}")
    beta_group = create_group_ok(beta, uniq("Beta"))
    before = snapshot(owner, srv.db)
    for uid in (secrets.token_hex(16), "0" * 32, beta.id, gone.id,
                people[0].id.upper(), "abc", "1", g["id"], beta_group["id"]):
        r = create_group(owner, uniq("Bad"), members=[people[1].id, uid])
        assert r.status_code == 400, (uid, r.status_code, r.text)
        assert_error(r, 400, "unknown_user")
        assert_error(patch_group(owner, g["id"], {"members": [uid]}), 400,
                     "unknown_user")
    assert snapshot(owner, srv.db) == before


def test_unknown_group(srv, owner, beta, people):
    # COMMITMENT B2
    g = create_group_ok(owner, uniq("Strict"))
    beta_group = create_group_ok(beta, uniq("Beta"))
    before = snapshot(owner, srv.db)
    for gid in (secrets.token_hex(16), "0" * 32, beta_group["id"],
                people[0].id, g["id"].upper(), "abc", "owner"):
        r = create_group(owner, uniq("Bad"), groups=[gid])
        assert r.status_code == 400, (gid, r.status_code, r.text)
        assert_error(r, 400, "unknown_group")
        assert_error(patch_group(owner, g["id"], {"groups": [gid]}), 400,
                     "unknown_group")
    assert snapshot(owner, srv.db) == before
    # and beta's owner cannot put acme's group in its own
    beta_before = groups_of(beta)
    assert_error(patch_group(beta, beta_group["id"], {"groups": [g["id"]]}),
                 400, "unknown_group")
    assert groups_of(beta) == beta_before


def test_duplicate_member(srv, owner, people):
    # COMMITMENT B3
    g = create_group_ok(owner, uniq("Once"))
    inner = create_group_ok(owner, uniq("Inner"))
    before = snapshot(owner, srv.db)
    m = people[0].id
    for body in ({"members": [m, m]},
                 {"members": [m, people[1].id, m]},
                 {"groups": [inner["id"], inner["id"]]}):
        r = create_group(owner, uniq("Twice"), **body)
        assert r.status_code == 400, (body, r.status_code, r.text)
        assert_error(r, 400, "duplicate_member")
        assert_error(patch_group(owner, g["id"], body), 400,
                     "duplicate_member")
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- names

def test_invalid_names(srv, owner):
    # COMMITMENT B3
    g = create_group_ok(owner, uniq("Named"))
    before = snapshot(owner, srv.db)
    for name in BAD_NAMES:
        r = create_group(owner, name)
        assert r.status_code == 400, (name, r.status_code, r.text)
        assert_error(r, 400, "invalid_name")
        assert_error(patch_group(owner, g["id"], {"name": name}), 400,
                     "invalid_name")
    assert snapshot(owner, srv.db) == before
    for name in ("x" * 64, "é" * 64, "Groupe Δ 財務"):
        create_group_ok(owner, name)


def test_name_taken(srv, owner, beta):
    name = uniq("Unique")
    g = create_group_ok(owner, name)
    other = create_group_ok(owner, uniq("Other"))
    before = snapshot(owner, srv.db)
    for n in (name, name.upper(), name.lower(), name.swapcase()):
        assert_error(create_group(owner, n), 409, "name_taken")
        assert_error(patch_group(owner, other["id"], {"name": n}), 409,
                     "name_taken")
    assert snapshot(owner, srv.db) == before
    assert group_by_id(owner, g["id"]) == g
    # unique within a tenant: beta may use the name
    create_group_ok(beta, name)


def test_unknown_fields(srv, owner):
    # COMMITMENT B3, B4
    g = create_group_ok(owner, uniq("Fields"))
    before = snapshot(owner, srv.db)
    for body in ({"name": uniq("X"), "role": "owner"},
                 {"name": uniq("X"), "id": g["id"]}):
        assert_refused(owner.send("POST", GROUPS_URL, body=body), 400,
                       UNKNOWN_FIELD)
        assert_refused(patch_group(owner, g["id"], body), 400, UNKNOWN_FIELD)
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- ids

def test_unknown_and_malformed_ids(srv, owner, beta):
    # COMMITMENT B2
    g = create_group_ok(owner, uniq("Target"))
    beta_group = create_group_ok(beta, uniq("Beta target"))
    before = snapshot(owner, srv.db)
    bodies = set()
    for gid in ids_not_found(g["id"]) + [beta_group["id"]]:
        for method, body in (("PATCH", {"name": uniq("Ghost")}),
                             ("DELETE", None)):
            r = owner.send(method, f"{GROUPS_URL}/{gid}", body=body)
            assert r.status_code == 404, (method, gid, r.status_code, r.text)
            assert_error(r, 404, "not_found")
            bodies.add(r.content)
    assert len(bodies) == 1, bodies
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- accounts

def test_account_list_shows_direct_groups(srv, sink, owner):
    """GET /api/v1/admin/users gains `groups`: the account's direct
    groups."""
    m = join(owner, sink, f"grouped.{secrets.token_hex(3)}@acme.example",
             "guest")
    users = listed(owner)
    for u in users.values():
        assert isinstance(u.get("groups"), list), u
    assert users[m.id]["groups"] == []
    g1 = create_group_ok(owner, uniq("First"), members=[m.id])
    g2 = create_group_ok(owner, uniq("Second"), members=[m.id])
    create_group_ok(owner, uniq("Around"), groups=[g1["id"]])
    assert sorted(listed(owner)[m.id]["groups"]) == sorted([g1["id"],
                                                            g2["id"]])
    patch_group_ok(owner, g1["id"], {"members": []})
    assert listed(owner)[m.id]["groups"] == [g2["id"]]
    # a removed account leaves its groups
    owner.step_up()
    delete_ok(owner, f"/api/v1/admin/users/{m.id}")
    assert group_by_id(owner, g2["id"])["members"] == []


def test_member_is_refused(srv, owner, people):
    # COMMITMENT B1
    g = create_group_ok(owner, uniq("Guarded"))
    m = people[1]
    before = snapshot(owner, srv.db)
    for r in (m.send("GET", GROUPS_URL, csrf=False),
              create_group(m, uniq("Mine"), members=[m.id]),
              patch_group(m, g["id"], {"members": [m.id]}),
              delete_group(m, g["id"])):
        assert_error(r, 403, "forbidden")
    assert snapshot(owner, srv.db) == before


def test_cookie_changes_need_csrf(srv, owner, people):
    # COMMITMENT B5
    g = create_group_ok(owner, uniq("Csrf"))
    before = snapshot(owner, srv.db)
    for method, path, body in (
            ("POST", GROUPS_URL, {"name": uniq("Forged")}),
            ("PATCH", f"{GROUPS_URL}/{g['id']}",
             {"members": [people[0].id]}),
            ("DELETE", f"{GROUPS_URL}/{g['id']}", None)):
        assert_error(owner.send(method, path, body=body, csrf=False), 403,
                     "csrf")
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- limits

def test_at_most_200_groups(srv, owner):
    """409 too_many beyond 200 groups; nothing is made. Runs last: it
    removes what it made."""
    # COMMITMENT B3
    made = []
    try:
        n = len(groups_of(owner))
        tag = secrets.token_hex(2)
        for i in range(n, 200):
            made.append(create_group_ok(owner, f"Bulk {tag} {i}")["id"])
        before = snapshot(owner, srv.db)
        assert_error(create_group(owner, f"Bulk {tag} over"), 409,
                     "too_many")
        assert snapshot(owner, srv.db) == before
    finally:
        for gid in made:
            delete_group(owner, gid)
    create_group_ok(owner, uniq("Room again"))
