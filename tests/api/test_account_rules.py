# SPDX-License-Identifier: AGPL-3.0-or-later
"""The rules an account keeps whatever path changes it (COMMITMENT A1, A5,
A10, B1): a new password, set by a change, a reset or a link, revokes
every API token and uses up every other link of the account; an
administrator's 2FA reset revokes the tokens too and says so by mail; a
wrong current password on a password change counts toward the lock like
a failed login; acting on an account needs everything it holds, its
grants included; PATCH of an account answers with that account; with no
mail transport, an invitation hands its link to the inviter.

One server and one mail sink for the module, tenant acme under the 2FA
policy `optional` (the operator allows it in coffre.conf).
"""

import re
import secrets
import time

import pytest

from accounts import (USERS, Account, count, invite, join, send,
                      strong_password)
from conftest import assert_error
from test_auth import (OWNER, PW_OWNER, create_tenant_with_owner, do_setup,
                       login, me, new_server, query, row_of)
from test_roles import GRANTS_URL, create_grant_ok, mail_sink, model_server

S_RESET = "Réinitialisation du mot de passe / Password reset"
S_CHANGED = "Mot de passe modifié / Password changed"
S_TOTP_OFF = ("Double authentification désactivée / Two-factor "
              "authentication turned off")
RESET_RE = re.compile(r"/setup#([A-Za-z0-9_-]{43})")


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


def fresh(owner, sink, role="member"):
    email = f"{role}.{secrets.token_hex(4)}@acme.example"
    acc = join(owner, sink, email, role)
    acc.pw = acc.password
    return acc


def mails(sink, to, subject):
    return [m for m in sink.messages()
            if to.lower() in sink.recipients(m) and str(m["Subject"]) == subject]


def wait_mails(sink, to, subject, n, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = mails(sink, to, subject)
        if len(got) >= n:
            return got
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} mails {subject!r} to {to}")


def reset_tokens(srv, sink, email, n):
    """Ask N resets of EMAIL; their link tokens, in order."""
    before = len(mails(sink, email, S_RESET))
    for _ in range(n):
        r = send(srv, "POST", "/api/v1/auth/reset", body={"email": email})
        assert r.status_code == 200, r.text
    got = wait_mails(sink, email, S_RESET, before + n)[before:before + n]
    return [RESET_RE.search(sink.body(m)).group(1) for m in got]


def bearer_ok(srv, tok):
    return send(srv, "GET", "/api/v1/permissions", bearer=tok["token"])


def tokens_of(srv, acc):
    return count(srv.db, "api_tokens", acc.id)


# ------------------------------------------------ a new password closes

def test_password_change_revokes_tokens_and_links(srv, sink, owner):
    """COMMITMENT A10, A1: a password change revokes every token of the
    account and uses up an outstanding reset link; the notice says the
    tokens went."""
    acc = fresh(owner, sink)
    tok = acc.token(["doc.read"])
    assert bearer_ok(srv, tok).status_code == 200
    [link] = reset_tokens(srv, sink, acc.email, 1)
    changed = len(mails(sink, acc.email, S_CHANGED))
    new = strong_password()
    r = acc.send("POST", "/api/v1/me/password",
                 body={"current": acc.password, "new": new})
    assert r.status_code == 200, r.text
    assert_error(bearer_ok(srv, tok), 401, "unauthorized")
    assert tokens_of(srv, acc) == 0
    # the reset link asked before the change no longer sets a password
    assert_error(do_setup(srv, link, strong_password()), 400,
                 "invalid_token")
    assert login(srv, acc.email, new).status_code == 200
    body = sink.body(wait_mails(sink, acc.email, S_CHANGED, changed + 1)[-1])
    assert "API tokens revoked" in body and "jetons d'API" in body, body


def test_reset_revokes_tokens_and_every_other_link(srv, sink, owner):
    """COMMITMENT A1, A10: of two reset links, the first sets the password;
    the second then answers like an unknown link, and the account's
    tokens are gone."""
    acc = fresh(owner, sink)
    tok = acc.token(["doc.read"])
    first, second = reset_tokens(srv, sink, acc.email, 2)
    new = strong_password()
    r = do_setup(srv, first, new)
    assert r.status_code == 200, r.text
    assert_error(bearer_ok(srv, tok), 401, "unauthorized")
    assert tokens_of(srv, acc) == 0
    other = strong_password()
    assert_error(do_setup(srv, second, other), 400, "invalid_token")
    assert login(srv, acc.email, other).status_code == 401
    assert login(srv, acc.email, new).status_code == 200


def test_admin_totp_reset_revokes_tokens_and_mails(srv, sink, owner):
    """COMMITMENT A10: an administrator's 2FA reset revokes the account's
    tokens in the same change, and the account is told by mail."""
    acc = fresh(owner, sink)
    acc.enrol_totp()
    tok = acc.token(["doc.read"])
    assert bearer_ok(srv, tok).status_code == 200
    owner.step_up()
    before = len(mails(sink, acc.email, S_TOTP_OFF))
    r = owner.send("POST", f"{USERS}/{acc.id}/reset-totp", body={})
    assert r.status_code == 200, r.text
    assert_error(bearer_ok(srv, tok), 401, "unauthorized")
    assert tokens_of(srv, acc) == 0
    body = sink.body(wait_mails(sink, acc.email, S_TOTP_OFF, before + 1)[-1])
    assert "API tokens revoked" in body, body


# ----------------------------------------- a wrong current password counts

def test_wrong_current_password_counts_toward_the_lock(srv, sink, owner):
    """COMMITMENT A5: five wrong current passwords on a password change
    lock the account like five failed logins."""
    acc = fresh(owner, sink)
    for _ in range(5):
        r = acc.send("POST", "/api/v1/me/password",
                     body={"current": "not-my-password-at-all",
                           "new": strong_password()})
        assert_error(r, 400, "wrong_password")
    rows = query(srv.db, "SELECT failed_count, locked_until FROM users "
                 "WHERE public_id = ?", acc.id)
    assert rows[0]["locked_until"] > time.time(), rows
    # locked: even the right password does not sign in
    assert login(srv, acc.email, acc.password).status_code == 401
    journal = query(srv.db, "SELECT outcome FROM access_log WHERE user_id = "
                    "? ORDER BY id DESC LIMIT 5", row_of(srv.db, acc.id))
    assert [j["outcome"] for j in journal].count("bad_password") >= 4, journal
    owner.send("POST", f"{USERS}/{acc.id}/unlock", body={})


# ---------------------------------------- acting on what an account holds

def test_admin_cannot_act_on_an_owner_by_grant(srv, sink, owner, admin):
    """COMMITMENT B1: an account holding `owner` through a grant is an
    owner to act upon: an admin may not disable, remove, sign out,
    unlock, reset the 2FA of or change the role of it; nothing changes."""
    target = fresh(owner, sink)
    g = create_grant_ok(owner, "owner", user=target.id)
    try:
        admin.step_up()
        before = query(srv.db, "SELECT role, state FROM users WHERE "
                       "public_id = ?", target.id)
        for method, path, body in (
                ("PATCH", f"{USERS}/{target.id}", {"state": "disabled"}),
                ("PATCH", f"{USERS}/{target.id}", {"role": "guest"}),
                ("DELETE", f"{USERS}/{target.id}", None),
                ("POST", f"{USERS}/{target.id}/logout", {}),
                ("POST", f"{USERS}/{target.id}/unlock", {}),
                ("POST", f"{USERS}/{target.id}/reset-totp", {}),
                ("GET", f"{USERS}/{target.id}/permissions", None)):
            r = admin.send(method, path, body=body)
            assert_error(r, 403, "role_not_allowed")
        assert query(srv.db, "SELECT role, state FROM users WHERE "
                     "public_id = ?", target.id) == before
        assert me(srv, target.session).status_code == 200
    finally:
        r = owner.send("DELETE", f"{GRANTS_URL}/{g['id']}")
        assert r.status_code == 200, r.text
    # without the grant the admin may act again
    r = admin.send("PATCH", f"{USERS}/{target.id}", body={"role": "guest"})
    assert r.status_code == 200, r.text


def test_admin_cannot_act_on_an_owner_in_a_space(srv, sink, owner, admin):
    """COMMITMENT B1: owner held in one space only still counts: the admin
    holds tenant.delete nowhere."""
    target = fresh(owner, sink)
    r = owner.send("POST", "/api/v1/spaces", body={"name": "Vault " +
                                                   secrets.token_hex(3)})
    assert r.status_code == 201, r.text
    space = r.json()["space"]["id"]
    create_grant_ok(owner, "owner", user=target.id, space=space)
    r = admin.send("PATCH", f"{USERS}/{target.id}", body={"state": "disabled"})
    assert_error(r, 403, "role_not_allowed")


# ------------------------------------------- PATCH answers with its account

def test_patch_answers_with_the_account_patched(srv, sink, owner):
    """PATCH /api/v1/admin/users/{id} returns that account, whatever
    other accounts the tenant has."""
    a = fresh(owner, sink)
    fresh(owner, sink)   # a later account: the old answer was the last one
    r = owner.send("PATCH", f"{USERS}/{a.id}", body={"role": "guest"})
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert user["id"] == a.id and user["email"] == a.email, user
    assert user["role"] == "guest", user


# ------------------------------------------------------------ mail is off

def test_invitation_without_mail_gives_the_link(server_factory):
    """With no mail transport, the invitation's answer says no mail left
    and carries the single-use link; the link works once."""
    srv = server_factory(conf="[auth]\nmfa_optional = 1\n")
    data = srv.data
    from conftest import run_cli
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    r = run_cli("tenant", "policy", "acme", "mfa=optional", "--data", data)
    assert r.returncode == 0, r.stderr
    assert do_setup(srv, link, PW_OWNER).status_code == 200
    owner = Account(srv, OWNER, PW_OWNER)
    email = "nomail@acme.example"
    r = invite(owner, email, "member")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["mail"] == "off", body
    m = re.fullmatch(r"https://acme\.localhost:(\d+)/setup#([A-Za-z0-9_-]{43})",
                     body["link"])
    assert m and int(m.group(1)) == srv.port, body
    pw = strong_password()
    assert do_setup(srv, m.group(2), pw).status_code == 200
    assert_error(do_setup(srv, m.group(2), pw), 400, "invalid_token")
    assert login(srv, email, pw).status_code == 200
    # the link is in no log line
    assert m.group(2) not in srv.log_text()


def test_disabled_account_cannot_use_a_link(srv, sink, owner):
    """COMMITMENT B1: a disabled account keeps no way in: disabling uses
    up its links, so a reset link asked before cannot set a password
    (which would hold once the account is enabled again)."""
    acc = fresh(owner, sink)
    [link] = reset_tokens(srv, sink, acc.email, 1)
    r = owner.send("PATCH", f"{USERS}/{acc.id}", body={"state": "disabled"})
    assert r.status_code == 200, r.text
    before = query(srv.db, "SELECT password_hash FROM users WHERE "
                   "public_id = ?", acc.id)
    assert_error(do_setup(srv, link, strong_password()), 400, "invalid_token")
    assert query(srv.db, "SELECT password_hash FROM users WHERE "
                 "public_id = ?", acc.id) == before
    r = owner.send("PATCH", f"{USERS}/{acc.id}", body={"state": "active"})
    assert r.status_code == 200, r.text
    assert_error(do_setup(srv, link, strong_password()), 400, "invalid_token")
    assert login(srv, acc.email, acc.password).status_code == 200


def swap_sealed(db, table, column, ida, idb):
    """Swap the sealed values of two rows (read both, then write both)."""
    import sqlite3
    con = sqlite3.connect(str(db), timeout=10)
    try:
        with con:
            va = con.execute(f"SELECT {column} FROM {table} WHERE id = ?",
                             (ida,)).fetchone()[0]
            vb = con.execute(f"SELECT {column} FROM {table} WHERE id = ?",
                             (idb,)).fetchone()[0]
            assert va != vb
            con.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?",
                        (vb, ida))
            con.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?",
                        (va, idb))
    finally:
        con.close()


def test_sealed_values_are_bound_to_their_row(srv, sink, owner):
    """Invariant 3, COMMITMENT D1: a sealed e-mail copied into another account's row does
    not read as that account's address: the list fails (500) instead of
    showing it; put back, it reads again. Token names likewise."""
    a = fresh(owner, sink)
    b = fresh(owner, sink)
    ra, rb = row_of(srv.db, a.id), row_of(srv.db, b.id)
    swap_sealed(srv.db, "users", "email_sealed", ra, rb)
    r = owner.send("GET", USERS, csrf=False)
    assert r.status_code == 500, r.text
    assert a.email not in r.text and b.email not in r.text
    swap_sealed(srv.db, "users", "email_sealed", ra, rb)
    r = owner.send("GET", USERS, csrf=False)
    assert r.status_code == 200, r.text
    emails = {u["id"]: u["email"] for u in r.json()["users"]}
    assert emails[a.id] == a.email and emails[b.id] == b.email
    # two tokens of one account: their names swapped do not open
    t1 = a.token(["doc.read"], name="first")
    t2 = a.token(["doc.read"], name="second")
    swap_sealed(srv.db, "api_tokens", "name_sealed", t1["id"], t2["id"])
    r = a.send("GET", "/api/v1/me/tokens", csrf=False)
    assert r.status_code == 500, r.text
    assert "first" not in r.text and "second" not in r.text
    swap_sealed(srv.db, "api_tokens", "name_sealed", t1["id"], t2["id"])
    r = a.send("GET", "/api/v1/me/tokens", csrf=False)
    assert r.status_code == 200, r.text
    assert {t["name"] for t in r.json()["tokens"]} >= {"first", "second"}


def test_invitation_of_a_disabled_account_waits(srv, sink, owner):
    """COMMITMENT B1: while an invited account is disabled its invitation
    sets no password; enabled again, the invitation works (there is no
    other way to invite the address again)."""
    from accounts import invite_ok
    email = f"paused.{secrets.token_hex(4)}@acme.example"
    user, token = invite_ok(owner, sink, email, "member")
    r = owner.send("PATCH", f"{USERS}/{user['id']}", body={"state": "disabled"})
    assert r.status_code == 200, r.text
    assert_error(do_setup(srv, token, strong_password()), 400, "invalid_token")
    r = owner.send("PATCH", f"{USERS}/{user['id']}", body={"state": "active"})
    assert r.status_code == 200, r.text
    pw = strong_password()
    assert do_setup(srv, token, pw).status_code == 200
    assert login(srv, email, pw).status_code == 200
