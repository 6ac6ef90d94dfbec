# SPDX-License-Identifier: AGPL-3.0-or-later
"""The rows behind a signed-in request (the session, the account, the
tenant's policy, the grants reaching the account) are kept on the tenant's
database handle only while nothing is committed to that database
(db_data_version). A change takes effect on the very next request whoever
makes it: this server (the API), or another process writing the file (the
command line, here a plain SQLite connection). Each case warms the cache
with two identical requests first."""

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts import Account, join
from conftest import assert_clean_stop, assert_error, run_cli, start_server
from mailsink import MailSink
from test_auth import (OWNER, PW_OWNER, create_tenant_with_owner, do_setup,
                       new_server, query)

GRANTS = "/api/v1/admin/grants"
JOURNAL = "/api/v1/admin/logins"


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


def write(srv, sql, *args):
    """A commit by another process."""
    db = sqlite3.connect(srv.db, timeout=10)
    with db:
        db.execute(sql, args)
    db.close()


def warm(account, path):
    for _ in range(2):
        r = account.send("GET", path, csrf=False)
        assert r.status_code == 200, r.text


def grant_audit(owner, user, name):
    r = owner.send("POST", "/api/v1/admin/roles", body={
        "name": name, "permissions": ["audit.read"]})
    assert r.status_code == 201, r.text
    r = owner.send("POST", GRANTS, body={"user": user,
                                         "role": r.json()["role"]["id"]})
    assert r.status_code == 201, r.text
    return r.json()["grant"]["id"]


# COMMITMENT B1
def test_grant_removed_by_the_api(srv, owner, sink):
    a = join(owner, sink, "api-grant@acme.example", "guest")
    gid = grant_audit(owner, a.id, "Journal A")
    warm(a, JOURNAL)
    assert owner.send("DELETE", f"{GRANTS}/{gid}").status_code == 200
    assert_error(a.send("GET", JOURNAL, csrf=False), 403, "forbidden")


# COMMITMENT B1
def test_grant_removed_by_another_process(srv, owner, sink):
    a = join(owner, sink, "file-grant@acme.example", "guest")
    gid = grant_audit(owner, a.id, "Journal B")
    warm(a, JOURNAL)
    write(srv, "DELETE FROM grants WHERE public_id = ?", gid)
    assert_error(a.send("GET", JOURNAL, csrf=False), 403, "forbidden")


# COMMITMENT B5
def test_session_revoked_by_another_process(srv, owner, sink):
    a = join(owner, sink, "file-session@acme.example", "member")
    warm(a, "/api/v1/me")
    uid = query(srv.db, "SELECT id FROM users WHERE public_id = ?",
                a.id)[0]["id"]
    write(srv, "DELETE FROM sessions WHERE user_id = ?", uid)
    assert_error(a.send("GET", "/api/v1/me", csrf=False), 401, "unauthorized")


def test_account_disabled_by_another_process(srv, owner, sink):
    a = join(owner, sink, "file-state@acme.example", "member")
    warm(a, "/api/v1/me")
    write(srv, "UPDATE users SET state = 'disabled' WHERE public_id = ?", a.id)
    assert_error(a.send("GET", "/api/v1/me", csrf=False), 401, "unauthorized")


def test_role_changed_by_another_process(srv, owner, sink):
    """The role is read with the account: a role taken away elsewhere
    shows on the next request."""
    a = join(owner, sink, "file-role@acme.example", "admin")
    a.enrol_totp()
    warm(a, "/api/v1/admin/users")
    assert a.send("GET", "/api/v1/me", csrf=False).json()["user"]["role"] \
        == "admin"
    write(srv, "UPDATE users SET role = 'member' WHERE public_id = ?", a.id)
    assert_error(a.send("GET", "/api/v1/admin/users", csrf=False), 403,
                 "forbidden")
    assert a.send("GET", "/api/v1/me", csrf=False).json()["user"]["role"] \
        == "member"


# COMMITMENT A12
def test_every_handle_sees_the_command_line(srv, owner, sink):
    """Eight clients at once keep several handles of the tenant open in
    serve; `coffre tenant policy` (another process, which closes its
    connection when done) changes the 2FA policy back and forth, and
    every request after each change, on whichever handle, answers with
    the new value."""
    a = join(owner, sink, "cli-many@acme.example", "member")
    clients = [Account(srv, a.email, a.password) for _ in range(7)] + [a]

    def required(client):
        out = set()
        for _ in range(15):
            r = client.send("GET", "/api/v1/me", csrf=False)
            assert r.status_code == 200, r.text
            out.add(r.json()["mfa"]["required"])
        return out

    try:
        for value in ("all", "admins", "all", "admins", "all", "admins"):
            r = run_cli("tenant", "policy", "acme", f"mfa={value}", "--data",
                        srv.data)
            assert r.returncode == 0, r.stderr
            with ThreadPoolExecutor(len(clients)) as ex:
                seen = set().union(*ex.map(required, clients))
            assert seen == {value == "all"}, (value, seen)
    finally:
        run_cli("tenant", "policy", "acme", "mfa=admins", "--data", srv.data)


def space_ids(account):
    r = account.send("GET", "/api/v1/spaces", csrf=False)
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()["spaces"]]


def make_space(account, name):
    r = account.send("POST", "/api/v1/spaces", body={"name": name})
    assert r.status_code == 201, r.text
    return r.json()["space"]["id"]


# COMMITMENT B1
def test_space_removed_by_another_process(srv, owner):
    """The list's rows are kept on the handle: a space deleted by another
    process is gone from the very next list."""
    sid = make_space(owner, "Removed elsewhere")
    for _ in range(2):
        assert sid in space_ids(owner)
    write(srv, "DELETE FROM spaces WHERE public_id = ?", sid)
    assert sid not in space_ids(owner)


# COMMITMENT B1
def test_space_list_longer_than_what_is_kept(srv, owner):
    """More spaces than the handle keeps: every list is complete all the
    same, in the same order, and a new one shows at once."""
    made = [make_space(owner, f"Many {i}") for i in range(40)]
    first = space_ids(owner)
    assert [x for x in first if x in made] == made
    assert space_ids(owner) == first
    one_more = make_space(owner, "Many 40")
    assert space_ids(owner) == first + [one_more]
    for sid in made + [one_more]:
        assert owner.send("DELETE", f"/api/v1/spaces/{sid}").status_code \
            == 200
