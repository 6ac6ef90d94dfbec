# SPDX-License-Identifier: AGPL-3.0-or-later
"""Permissions held through grants at the gates (COMMITMENT A12, B1;
docs/internals/authz-contract.md): with the default 2FA policy an account
that administers the tenant through a grant must enrol like an admin;
a permission that does not administer (audit.read) needs no 2FA; a token
may carry a permission its account holds only through a grant; and an
admin cannot reach an owner's grant by joining its group."""

import pytest

from accounts import Account, join
from conftest import assert_clean_stop, assert_error, start_server
from mailsink import MailSink
from test_tokens import bearer
from test_auth import (OWNER, PW_OWNER, create_tenant_with_owner, do_setup,
                       new_server, query)

ROLES = "/api/v1/admin/roles"
GROUPS = "/api/v1/admin/groups"
GRANTS = "/api/v1/admin/grants"


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
    a = Account(srv, OWNER, PW_OWNER)
    a.enrol_totp()
    return a


def created(r, kind):
    assert r.status_code == 201, r.text
    return r.json()[kind]["id"]


def grant_to(owner, user, permissions, name):
    role = created(owner.send("POST", ROLES, body={
        "name": name, "permissions": permissions}), "role")
    return created(owner.send("POST", GRANTS, body={
        "user": user, "role": role}), "grant")


# COMMITMENT A12, B1
def test_administering_through_a_grant_needs_2fa(srv, owner, sink):
    m = join(owner, sink, "manager@acme.example", "member")
    assert_error(m.send("GET", ROLES, csrf=False), 403, "forbidden")
    grant_to(owner, m.id, ["role.manage"], "Managers")
    # the default policy: whoever administers the tenant enrols first
    assert_error(m.send("GET", ROLES, csrf=False), 403,
                 "mfa_enrolment_required")
    m.enrol_totp()
    r = m.send("GET", ROLES, csrf=False)
    assert r.status_code == 200, r.text
    # its own routes stay open
    assert m.send("GET", "/api/v1/me", csrf=False).status_code == 200


# COMMITMENT B1
def test_reading_the_journal_through_a_grant_needs_no_2fa(srv, owner, sink):
    a = join(owner, sink, "reader@acme.example", "guest")
    assert_error(a.send("GET", "/api/v1/admin/logins", csrf=False), 403,
                 "forbidden")
    gid = grant_to(owner, a.id, ["audit.read"], "Journal")
    r = a.send("GET", "/api/v1/admin/logins", csrf=False)
    assert r.status_code == 200, r.text
    # a token may carry what the account holds only through the grant
    a.step_up()
    pat = a.token(["audit.read"])["token"]
    r = bearer(srv, "GET", "/api/v1/admin/logins", pat)
    assert r.status_code == 200, r.text
    # the grant revoked: the next request is refused, token included
    assert owner.send("DELETE", f"{GRANTS}/{gid}").status_code == 200
    assert_error(a.send("GET", "/api/v1/admin/logins", csrf=False), 403,
                 "forbidden")
    assert_error(bearer(srv, "GET", "/api/v1/admin/logins", pat), 403,
                 "forbidden")


# COMMITMENT B1
def test_admin_cannot_join_an_owners_group(srv, owner, sink):
    adm = join(owner, sink, "admin2@acme.example", "admin")
    adm.enrol_totp()
    inner = created(owner.send("POST", GROUPS, body={"name": "Inner"}),
                    "group")
    outer = created(owner.send("POST", GROUPS, body={
        "name": "Board", "groups": [inner]}), "group")
    created(owner.send("POST", GRANTS, body={"group": outer,
                                              "role": "owner"}), "grant")
    before = query(srv.db, "SELECT group_id, user_id FROM group_users")
    for gid in (inner, outer):
        r = adm.send("PATCH", f"{GROUPS}/{gid}", body={"members": [adm.id]})
        assert_error(r, 403, "role_not_allowed")
    assert_error(adm.send("DELETE", f"{GROUPS}/{outer}"), 403,
                 "role_not_allowed")
    mine = created(adm.send("POST", GROUPS, body={"name": "Mine",
                                                   "members": [adm.id]}),
                   "group")
    assert_error(adm.send("PATCH", f"{GROUPS}/{inner}",
                          body={"groups": [mine]}), 403, "role_not_allowed")
    assert query(srv.db, "SELECT group_id, user_id FROM group_users "
                 "WHERE group_id IN (SELECT id FROM user_groups WHERE "
                 "name <> 'Mine')") == before
    r = adm.send("GET", f"/api/v1/admin/users/{adm.id}/permissions",
                 csrf=False)
    assert "tenant.delete" not in r.json()["permissions"], r.text
    # the owner may
    r = owner.send("PATCH", f"{GROUPS}/{inner}", body={"members": [adm.id]})
    assert r.status_code == 200, r.text
    r = adm.send("GET", f"/api/v1/admin/users/{adm.id}/permissions",
                 csrf=False)
    assert "tenant.delete" in r.json()["permissions"], r.text
    # every group it is in, nested ones too, by name
    assert r.json()["groups"] == [outer, inner, mine], r.text


# COMMITMENT B1
def test_me_lists_what_grants_give(srv, owner, sink):
    """GET /api/v1/me: the permissions held tenant-wide, the role's and the
    grants' (pages offer what the account may do); a grant in one space
    adds nothing there."""
    g = join(owner, sink, "guest2@acme.example", "guest")
    mine = g.send("GET", "/api/v1/me", csrf=False).json()["user"]
    assert mine["permissions"] == ["doc.read"], mine
    space = created(owner.send("POST", "/api/v1/spaces",
                               body={"name": "Projets"}), "space")
    created(owner.send("POST", GRANTS, body={
        "user": g.id, "role": "member", "space": space}), "grant")
    mine = g.send("GET", "/api/v1/me", csrf=False).json()["user"]
    assert mine["permissions"] == ["doc.read"], mine
    gid = grant_to(owner, g.id, ["audit.read", "note.write"], "Notes")
    mine = g.send("GET", "/api/v1/me", csrf=False).json()["user"]
    assert mine["permissions"] == ["doc.read", "note.write", "audit.read"]
    assert mine["role"] == "guest"
    assert owner.send("DELETE", f"{GRANTS}/{gid}").status_code == 200
    mine = g.send("GET", "/api/v1/me", csrf=False).json()["user"]
    assert mine["permissions"] == ["doc.read"], mine
