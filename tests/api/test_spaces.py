# SPDX-License-Identifier: AGPL-3.0-or-later
"""Spaces (docs/internals/authz-contract.md, COMMITMENT B1, B3, D1):
creation, list, renaming and removal; who sees which space (doc.read,
tenant-wide or in that space), the same 404 for a space one cannot read
as for one that does not exist, 403 for one that can be read but not
managed; the principal's permissions in each space, tokens included;
names sealed at rest; the grants of a removed space go with it; one
audit event per change.

One server for the module, tenant acme under the 2FA policy `optional`.
"""

import json
import secrets
import time
import unicodedata

import pytest

from accounts import CATALOGUE, Account, join
from conftest import assert_error
from test_auth import OWNER, PW_OWNER, db_bytes
from test_roles import (BUILTIN, GRANTS_URL, SPACES_URL, assert_event,
                        check_space, create_grant_ok, create_group_ok,
                        create_role_ok, create_space, create_space_ok,
                        effective, grants_of, ids_not_found, mail_sink,
                        model_server, role_by_id, snapshot, spaces_of,
                        token_of, uniq)

MEMBER = BUILTIN["member"]
BAD_SPACE_NAMES = [
    "", " ", " Lead", "Trail ", "\tTab", "new\nline", "bell\x07", "del\x7f",
    "nel\x85", "rtl\u202eevil", "x" * 201, "é" * 201,
]


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
def keepers(owner):
    """A custom role: read and manage a space."""
    return create_role_ok(owner, uniq("Keepers"), ["doc.read",
                                                   "space.manage"])


def fresh(owner, sink, role="member"):
    return join(owner, sink, f"{role}.{secrets.token_hex(4)}@acme.example",
                role)


def space_path(space_or_id):
    sid = space_or_id if isinstance(space_or_id, str) else space_or_id["id"]
    return f"{SPACES_URL}/{sid}"


def get_space(actor, sid):
    return actor.send("GET", space_path(sid), csrf=False)


def rename(actor, sid, name):
    return actor.send("PATCH", space_path(sid), body={"name": name})


def remove(actor, sid):
    return actor.send("DELETE", space_path(sid))


def answer(r):
    return (r.status_code, r.headers.get("Content-Type"), r.content)


# ---------------------------------------------------------------- CRUD

def test_create_and_read(srv, owner):
    # COMMITMENT B2: a random public id
    name = uniq("Contrats 2026")
    s = create_space_ok(owner, name)
    assert s["permissions"] == CATALOGUE, s
    assert_event(srv.db, "space.create", f"space:{s['id']}",
                 f"user:{owner.row}")
    r = get_space(owner, s)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"space"}, r.text
    assert check_space(r.json()["space"]) == s
    assert s in spaces_of(owner)


def test_list_oldest_first(srv, owner):
    made = [create_space_ok(owner, uniq(f"Order {i}"))["id"]
            for i in range(3)]
    listed = [x["id"] for x in spaces_of(owner)]
    assert [x for x in listed if x in made] == made, listed
    created = [x["created"] for x in spaces_of(owner)]
    assert created == sorted(created), created


def test_names_need_not_be_unique(srv, owner):
    name = uniq("Twins")
    a = create_space_ok(owner, name)
    b = create_space_ok(owner, name)
    c = create_space_ok(owner, name.upper())
    assert len({a["id"], b["id"], c["id"]}) == 3


def test_rename(srv, owner):
    s = create_space_ok(owner, uniq("Old name"))
    new = uniq("New name")
    r = rename(owner, s["id"], new)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"space"}, r.text
    assert check_space(r.json()["space"]) == dict(s, name=new)
    assert get_space(owner, s["id"]).json()["space"]["name"] == new
    assert_event(srv.db, "space.rename", f"space:{s['id']}",
                 f"user:{owner.row}")
    # another space's name is fine
    r = rename(owner, s["id"], s["name"])
    assert r.status_code == 200, r.text


def test_delete_takes_its_grants(srv, sink, owner, keepers):
    # COMMITMENT B1
    m = fresh(owner, sink, role="auditor")
    g = create_group_ok(owner, uniq("Space group"), members=[m.id])
    s = create_space_ok(owner, uniq("Doomed"))
    other = create_space_ok(owner, uniq("Kept"))
    g1 = create_grant_ok(owner, keepers["id"], user=m.id, space=s["id"])
    g2 = create_grant_ok(owner, "guest", group=g["id"], space=s["id"])
    g3 = create_grant_ok(owner, "guest", user=m.id, space=other["id"])
    assert role_by_id(owner, keepers["id"])["grants"] >= 1
    n_keepers = role_by_id(owner, keepers["id"])["grants"]
    assert get_space(m, s["id"]).status_code == 200
    r = remove(owner, s["id"])
    assert r.status_code == 200, r.text
    assert r.json() == {"removed": 1}
    assert_event(srv.db, "space.delete", f"space:{s['id']}",
                 f"user:{owner.row}")
    assert_error(get_space(owner, s["id"]), 404, "not_found")
    assert s["id"] not in [x["id"] for x in spaces_of(owner)]
    left = {x["id"] for x in grants_of(owner)}
    assert g1["id"] not in left and g2["id"] not in left, left
    assert g3["id"] in left
    assert grants_of(owner, f"?space={s['id']}") == []
    assert role_by_id(owner, keepers["id"])["grants"] == n_keepers - 1
    assert [x["id"] for x in effective(owner, m.id)["spaces"]] == [
        other["id"]]
    assert [x["id"] for x in spaces_of(m)] == [other["id"]]
    before = snapshot(owner, srv.db)
    assert_error(remove(owner, s["id"]), 404, "not_found")
    assert_error(rename(owner, s["id"], uniq("Back")), 404, "not_found")
    assert snapshot(owner, srv.db) == before
    assert_error(owner.send("DELETE", f"{GRANTS_URL}/{g1['id']}"), 404,
                 "not_found")


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("name", BAD_SPACE_NAMES, ids=repr)
def test_invalid_name(srv, owner, name):
    # COMMITMENT B3
    s = create_space_ok(owner, uniq("Named"))
    before = snapshot(owner, srv.db)
    assert_error(create_space(owner, name), 400, "invalid_name")
    assert_error(rename(owner, s["id"], name), 400, "invalid_name")
    assert snapshot(owner, srv.db) == before


def test_long_names(srv, owner):
    for name in ("x" * 200, "é" * 200, "\U0001f4c1" * 200,
                 "Contrats & avenants <2026> \"signés\""):
        s = create_space_ok(owner, name)
        assert get_space(owner, s["id"]).json()["space"]["name"] == name


# names the hand-written answers must escape, or leave alone: quotes,
# backslashes, a slash, markup, an escape written out, non-ASCII text in
# several scripts and planes (NFKC-stable, no control or format character)
ODD_NAMES = [
    'Quote " and \\ back\\slash',
    '"\\"',
    "\\u0022 not an escape \\n",
    "C:\\Dossiers\\2026\\ / </script> & <b>",
    "Soci\u00e9t\u00e9 \u00dcn\u00efc\u00f8d\u00e9 \u2603 \U0001d11e "
    "\u4e2d\u6587 \U0001f4c1 \u05e2\u05d1\u05e8\u05d9\u05ea",
    "\u00ab guillemets \u00bb \u201cquotes\u201d \u2019 \u20ac 100",
]


def test_odd_names_in_answers(srv, owner):
    """The list, one space and its creation answer each name with the
    exact JSON text of the name: escaped where JSON says, UTF-8 as it is,
    parsed back to the same string."""
    for name in ODD_NAMES:
        assert unicodedata.normalize("NFKC", name) == name, name
        text = ('"name":' + json.dumps(name, ensure_ascii=False)).encode()
        r = create_space(owner, name)
        assert r.status_code == 201, (name, r.text)
        assert r.headers.get("Content-Type") == "application/json"
        assert text in r.content, (name, r.content)
        sid = r.json()["space"]["id"]
        assert r.json()["space"]["name"] == name
        r = get_space(owner, sid)
        assert r.status_code == 200 and text in r.content, (name, r.content)
        assert r.json()["space"]["name"] == name
        r = owner.send("GET", SPACES_URL, csrf=False)
        assert r.status_code == 200, r.text
        assert r.headers.get("Content-Type") == "application/json"
        assert text in r.content, (name, r.content)
        listed = [x for x in r.json()["spaces"] if x["id"] == sid]
        assert [x["name"] for x in listed] == [name], listed
        assert check_space(listed[0])["permissions"] == CATALOGUE


def test_names_are_sealed(srv, owner):
    """COMMITMENT D1: a space's name is stored sealed with the tenant's
    key: its text is in no file of the tenant's database, before or
    after a rename."""
    first = f"Dossier-{secrets.token_hex(8)}-Prud'hommes"
    second = f"Fusion-{secrets.token_hex(8)}-Société"
    s = create_space_ok(owner, first)
    assert rename(owner, s["id"], second).status_code == 200
    create_space_ok(owner, first + " bis")
    time.sleep(0.3)
    blob = db_bytes(srv.db.parent)
    # the scan does see the database: its schema is in clear
    assert b"audit_events" in blob
    for name in (first, second):
        for enc in ("utf-8", "utf-16-le", "utf-16-be"):
            assert name.encode(enc) not in blob, (name, enc)
        assert name.split("-")[1].encode() not in blob, name


# ---------------------------------------------------------------- who sees

def test_visibility_of_builtin_roles(srv, sink, owner):
    """doc.read tenant-wide sees every space; without doc.read anywhere,
    403 forbidden on the space routes."""
    # COMMITMENT B1
    s = create_space_ok(owner, uniq("Shared"))
    every = [x["id"] for x in spaces_of(owner)]
    for role, perms in (("member", MEMBER), ("guest", ["doc.read"])):
        acc = fresh(owner, sink, role)
        got = spaces_of(acc)
        assert [x["id"] for x in got] == every, (role, got)
        assert all(x["permissions"] == perms for x in got), (role, got)
        r = get_space(acc, s["id"])
        assert r.status_code == 200 and r.json()["space"]["permissions"] == (
            perms), r.text
    a = fresh(owner, sink, "auditor")
    assert_error(a.send("GET", SPACES_URL, csrf=False), 403, "forbidden")
    assert_error(get_space(a, s["id"]), 403, "forbidden")
    assert_error(get_space(a, secrets.token_hex(16)), 403, "forbidden")


def test_space_grant_shows_that_space(srv, sink, owner):
    """An auditor granted `guest` in one space (directly, or through a
    group) sees that space only; any other answers like one that does
    not exist."""
    # COMMITMENT B1
    s1 = create_space_ok(owner, uniq("Visible"))
    s2 = create_space_ok(owner, uniq("Hidden"))
    a = fresh(owner, sink, "auditor")
    b = fresh(owner, sink, "auditor")
    g = create_group_ok(owner, uniq("Viewers"), members=[b.id])
    create_grant_ok(owner, "guest", user=a.id, space=s1["id"])
    create_grant_ok(owner, "guest", group=g["id"], space=s1["id"])
    for acc in (a, b):
        got = spaces_of(acc)
        assert [x["id"] for x in got] == [s1["id"]], got
        assert got[0]["name"] == s1["name"], got
        assert got[0]["permissions"] == ["doc.read", "audit.read"], got
        assert get_space(acc, s1["id"]).status_code == 200
        hidden = get_space(acc, s2["id"])
        assert_error(hidden, 404, "not_found")
        for other in ids_not_found(s2["id"]):
            assert answer(get_space(acc, other)) == answer(hidden), other


def test_grants_in_many_spaces(srv, sink, owner):
    """An auditor granted `guest` in 20 spaces (more than the list keeps
    beside it before it asks for more memory) sees exactly those 20, with
    the grant's permissions in each, and not a space it holds nothing
    in."""
    # COMMITMENT B1
    made = [create_space_ok(owner, uniq(f"Granted {i}")) for i in range(20)]
    other = create_space_ok(owner, uniq("Not granted"))
    a = fresh(owner, sink, "auditor")
    for sp in made:
        create_grant_ok(owner, "guest", user=a.id, space=sp["id"])
    got = spaces_of(a)
    assert [x["id"] for x in got] == [sp["id"] for sp in made], got
    assert all(x["permissions"] == ["doc.read", "audit.read"] for x in got)
    assert other["id"] not in [x["id"] for x in got]
    for sp in made + [other]:
        assert remove(owner, sp["id"]).status_code == 200


def test_not_found_and_forbidden(srv, sink, owner, keepers):
    """A space the principal cannot read answers 404, the same body as no
    space; one it reads but cannot manage answers 403 forbidden."""
    # COMMITMENT B1
    s1 = create_space_ok(owner, uniq("Managed"))
    s2 = create_space_ok(owner, uniq("Not managed"))
    # an auditor managing s1 only: s2 is unreadable
    a = fresh(owner, sink, "auditor")
    create_grant_ok(owner, keepers["id"], user=a.id, space=s1["id"])
    # a member managing s1 only: s2 is readable (doc.read tenant-wide)
    m = fresh(owner, sink, "member")
    create_grant_ok(owner, keepers["id"], user=m.id, space=s1["id"])
    before = snapshot(owner, srv.db)
    nobody = secrets.token_hex(16)
    for method, body in (("GET", None), ("PATCH", {"name": uniq("Taken")}),
                         ("DELETE", None)):
        r = a.send(method, space_path(s2), body=body)
        assert_error(r, 404, "not_found")
        assert answer(r) == answer(a.send(method, space_path(nobody),
                                          body=body)), method
    for method, body in (("PATCH", {"name": uniq("Taken")}),
                         ("DELETE", None)):
        r = m.send(method, space_path(s2), body=body)
        assert_error(r, 403, "forbidden")
        r = m.send(method, space_path(nobody), body=body)
        assert_error(r, 404, "not_found")
    assert snapshot(owner, srv.db) == before
    # both manage s1
    for acc in (a, m):
        r = rename(acc, s1["id"], uniq("Renamed"))
        assert r.status_code == 200, r.text
        assert_event(srv.db, "space.rename", f"space:{s1['id']}",
                     f"user:{acc.row}", n=1 + (acc is m))
    r = remove(m, s1["id"])
    assert r.status_code == 200 and r.json() == {"removed": 1}, r.text


def test_member_cannot_manage(srv, sink, owner):
    """space.manage held nowhere: 403 forbidden at the gate, for an
    existing space and for no space alike; nothing changes."""
    # COMMITMENT B1
    s = create_space_ok(owner, uniq("Untouched"))
    m = fresh(owner, sink, "member")
    before = snapshot(owner, srv.db)
    for sid in (s["id"], secrets.token_hex(16)):
        assert_error(rename(m, sid, uniq("Mine")), 403, "forbidden")
        assert_error(remove(m, sid), 403, "forbidden")
    assert_error(create_space(m, uniq("Mine")), 403, "forbidden")
    assert snapshot(owner, srv.db) == before


def test_unknown_and_malformed_ids(srv, owner):
    # COMMITMENT B2
    s = create_space_ok(owner, uniq("Target"))
    before = snapshot(owner, srv.db)
    bodies = set()
    for sid in ids_not_found(s["id"]):
        for method, body in (("GET", None), ("PATCH", {"name": uniq("X")}),
                             ("DELETE", None)):
            r = owner.send(method, space_path(sid), body=body)
            assert r.status_code == 404, (method, sid, r.status_code, r.text)
            assert_error(r, 404, "not_found")
            bodies.add(r.content)
    assert len(bodies) == 1, bodies
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- tokens

def test_token_permissions_in_a_space(srv, owner):
    """A space's permissions are the principal's: for a token, the
    intersection with what it carries. A token without doc.read sees no
    space; one with space.manage only may still create one."""
    # COMMITMENT B1
    reader = token_of(owner, ["doc.read", "audit.read"], name="reader")
    got = spaces_of(reader)
    assert got and all(x["permissions"] == ["doc.read", "audit.read"]
                       for x in got), got
    maker = token_of(owner, ["space.manage"], name="maker")
    r = create_space(maker, uniq("By token"))
    assert r.status_code == 201, r.text
    s = r.json()["space"]
    assert s["permissions"] == ["space.manage"], s
    assert_event(srv.db, "space.create", f"space:{s['id']}",
                 maker.principal)
    assert_error(maker.send("GET", SPACES_URL), 403, "forbidden")
    assert_error(get_space(maker, s["id"]), 403, "forbidden")
    assert get_space(reader, s["id"]).status_code == 200


def test_manager_without_read_creates(srv, sink, owner):
    """POST /api/v1/spaces needs space.manage tenant-wide and nothing else:
    an auditor granted space.manage alone creates a space (201), then
    cannot read it."""
    # COMMITMENT B1
    makers = create_role_ok(owner, uniq("Makers"), ["space.manage"])
    a = fresh(owner, sink, "auditor")
    create_grant_ok(owner, makers["id"], user=a.id)
    r = create_space(a, uniq("Made blind"))
    assert r.status_code == 201, r.text
    s = check_space(r.json()["space"])
    assert s["permissions"] == ["space.manage", "audit.read"], s
    assert_event(srv.db, "space.create", f"space:{s['id']}", f"user:{a.row}")
    assert s["id"] in {x["id"] for x in spaces_of(owner)}
    assert_error(a.send("GET", SPACES_URL, csrf=False), 403, "forbidden")


def test_cookie_changes_need_csrf(srv, owner):
    # COMMITMENT B5
    s = create_space_ok(owner, uniq("Csrf"))
    before = snapshot(owner, srv.db)
    for method, path, body in (
            ("POST", SPACES_URL, {"name": uniq("Forged")}),
            ("PATCH", space_path(s), {"name": uniq("Forged")}),
            ("DELETE", space_path(s), None)):
        assert_error(owner.send(method, path, body=body, csrf=False), 403,
                     "csrf")
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- limits

def test_at_most_1000_spaces(srv, owner):
    """409 too_many beyond 1000 spaces; nothing is made. Runs last: it
    removes what it made."""
    # COMMITMENT B3
    made = []
    try:
        n = len(spaces_of(owner))
        for i in range(n, 1000):
            made.append(create_space_ok(owner, f"Bulk {i}")["id"])
        before = snapshot(owner, srv.db)
        assert_error(create_space(owner, "Bulk over"), 409, "too_many")
        assert snapshot(owner, srv.db) == before
    finally:
        for sid in made:
            remove(owner, sid)
    create_space_ok(owner, uniq("Room again"))
