# SPDX-License-Identifier: AGPL-3.0-or-later
"""Mail that reaches a real SMTP server (tests/api/mailsink.py, STARTTLS
required): the password reset by e-mail (COMMITMENT A1) and the notices an
account receives about itself: password changed, first lock (A5), sign-in
from a new device (C1), a replayed 2FA code (A7). See
docs/internals/auth-contract.md, "Password reset by e-mail"."""

import re
import sqlite3
import time
import urllib.parse

import pytest

from conftest import assert_clean_stop, assert_error, run_cli, start_server
from mailsink import MailSink
from test_auth import (NO_LIMITS, OWNER, PW_OWNER, call,
                       create_tenant_with_owner, csrf_of, do_setup, login,
                       login_ok, me, new_server, query)
from test_totp import second_step, totp

PW_RESET = "Lanterne-Bisou-orage-1291-pelican"
PW_AGAIN = "Girafe-tonnerre-cuivre-4071-prune"
MEMBER = "alice@acme.example"
PW_MEMBER = "Cormoran-quatorze-Figuier-83-ardoise"
UA_CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                 "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
LINK_RE = re.compile(r"https://acme\.localhost:(\d+)/setup#([A-Za-z0-9_-]{43})")

S_RESET = "Réinitialisation du mot de passe / Password reset"
S_CHANGED = "Mot de passe modifié / Password changed"
S_LOCKED = "Compte verrouillé / Account locked"
S_DEVICE = "Nouvelle connexion / New sign-in"
S_REPLAY = "Code de double authentification réutilisé / 2FA code reused"


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
    link2 = run_cli("tenant", "owner", "acme", MEMBER, "--data", str(data))
    assert link2.returncode == 0, link2.stderr
    tok2 = re.search(r"/setup#(\S+)", link2.stdout).group(1)
    s = start_server(data, log_path=root / "serve.log")
    s.db_path = data / "tenants" / "1" / "tenant.db"
    s.pw = PW_OWNER
    try:
        assert do_setup(s, link, PW_OWNER).status_code == 200
        assert do_setup(s, tok2, PW_MEMBER).status_code == 200
        yield s
    finally:
        if s.alive():
            assert_clean_stop(s)


def mails(sink, to, subject):
    return [m for m in sink.messages()
            if to in str(m["To"]) and str(m["Subject"]) == subject]


def no_more_mail(sink, to, subject, count, wait=1.5):
    time.sleep(wait)
    got = mails(sink, to, subject)
    assert len(got) == count, [str(m["Subject"]) for m in got]


def reset(srv, email):
    return call(srv, "POST", "/api/v1/auth/reset", body={"email": email})


def reset_link(sink, srv, before):
    """The link of the first reset mail to OWNER after `before` mails."""
    deadline = time.time() + 10
    while time.time() < deadline:
        got = mails(sink, OWNER, S_RESET)
        if len(got) > before:
            m = LINK_RE.search(sink.body(got[before]))
            assert m, sink.body(got[before])
            assert int(m.group(1)) == srv.port
            return m.group(2)
        time.sleep(0.1)
    raise AssertionError(f"no reset mail: {[str(m['Subject']) for m in sink.messages()]}")


def test_reset_by_mail(srv, sink):
    old = login_ok(srv, OWNER, srv.pw)
    n = len(mails(sink, OWNER, S_RESET))
    r = reset(srv, OWNER.upper())          # addresses are case-insensitive
    assert r.status_code == 200 and r.json() == {"ok": True}, r.text
    token = reset_link(sink, srv, n)
    msg = mails(sink, OWNER, S_RESET)[n]
    body = sink.body(msg)
    assert "30 minutes" in body and "acme" in body
    assert msg.get_content_type() == "text/plain"
    assert str(msg["From"]) == "coffre@localhost"
    # the link works once, and not with a recent password (history)
    r = do_setup(srv, token, srv.pw)
    assert r.status_code == 400 and "reused" in r.json()["strength"]["problems"]
    changed = len(mails(sink, OWNER, S_CHANGED))
    r = do_setup(srv, token, PW_RESET)
    assert r.status_code == 200, r.text
    srv.pw = PW_RESET
    assert_error(do_setup(srv, token, PW_AGAIN), 400, "invalid_token")
    # every session ended; the new password works; a notice went out
    assert me(srv, old).status_code == 401
    login_ok(srv, OWNER, PW_RESET)
    sink.wait_for(OWNER, pred=lambda m: str(m["Subject"]) == S_CHANGED)
    assert len(mails(sink, OWNER, S_CHANGED)) == changed + 1
    # neither the link's token nor the password is at rest or in the log
    raw = b"".join(p.read_bytes() for p in srv.db_path.parent.iterdir())
    assert token.encode() not in raw and PW_RESET.encode() not in raw
    assert token not in srv.log_text()
    ev = query(srv.db_path, "SELECT action FROM audit_events WHERE action IN "
               "('user.reset_request', 'user.password_reset')")
    assert sorted(e["action"] for e in ev) == ["user.password_reset",
                                               "user.reset_request"]


def test_unknown_address_same_answer(srv, sink):
    known = reset(srv, MEMBER)
    unknown = reset(srv, "nobody@acme.example")
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    no_more_mail(sink, "nobody@acme.example", S_RESET, 0)
    rows = query(srv.db_path, "SELECT user_id, outcome FROM access_log WHERE "
                 "outcome LIKE 'reset_%' ORDER BY id DESC LIMIT 2")
    assert {r["outcome"] for r in rows} == {"reset_sent", "reset_unknown"}
    assert [r["user_id"] for r in rows if r["outcome"] == "reset_unknown"] == [0]


@pytest.mark.parametrize("email", ["not-an-address", "a@", "@b", "a b@c.d",
                                   "x" * 251 + "@a.b"])
def test_reset_bad_address(srv, email):
    r = reset(srv, email)
    if len(email) > 254:
        assert_error(r, 400, "bad_request")
    else:
        assert_error(r, 400, "invalid_email")


def test_reset_bad_input(srv):
    assert_error(call(srv, "POST", "/api/v1/auth/reset", body={}), 400,
                 "missing_field")
    assert_error(call(srv, "POST", "/api/v1/auth/reset",
                      body={"email": OWNER, "admin": True}), 400,
                 "unknown_field")


def test_reset_mails_are_throttled(srv, sink):
    before = len(mails(sink, MEMBER, S_RESET))
    recent = query(srv.db_path, "SELECT count(*) AS n FROM user_links WHERE "
                   "purpose = 'reset' AND user_id = (SELECT user_id FROM "
                   "access_log WHERE outcome = 'reset_sent' ORDER BY id "
                   "DESC LIMIT 1)")[0]["n"]
    for _ in range(4):
        assert reset(srv, MEMBER).status_code == 200
    # at most 3 an hour, counting the one of the test above
    no_more_mail(sink, MEMBER, S_RESET, before + max(0, 3 - recent))
    rows = query(srv.db_path, "SELECT outcome FROM access_log WHERE outcome "
                 "= 'reset_throttled'")
    assert len(rows) >= 1


def test_expired_link_refused(srv, sink):
    n = len(mails(sink, OWNER, S_RESET))
    assert reset(srv, OWNER).status_code == 200
    token = reset_link(sink, srv, n)
    db = sqlite3.connect(srv.db_path, timeout=10)
    with db:
        db.execute("UPDATE user_links SET expires = ? WHERE purpose = "
                   "'reset' AND used = 0", (int(time.time()) - 1,))
    db.close()
    assert_error(do_setup(srv, token, PW_AGAIN), 400, "invalid_token")
    login_ok(srv, OWNER, srv.pw)             # nothing changed


def test_password_change_notice(srv, sink):
    tok = login_ok(srv, MEMBER, PW_MEMBER)
    n = len(mails(sink, MEMBER, S_CHANGED))
    r = call(srv, "POST", "/api/v1/me/password", token=tok,
             csrf=csrf_of(srv, tok),
             body={"current": PW_MEMBER, "new": PW_AGAIN})
    assert r.status_code == 200, r.text
    sink.wait_for(MEMBER, pred=lambda m: str(m["Subject"]) == S_CHANGED)
    assert len(mails(sink, MEMBER, S_CHANGED)) == n + 1
    r = call(srv, "POST", "/api/v1/me/password", token=tok,
             csrf=csrf_of(srv, tok),
             body={"current": PW_AGAIN, "new": PW_MEMBER})
    assert r.status_code == 400                 # history: used before
    assert "reused" in r.json()["strength"]["problems"]


def test_first_lock_notice(srv, sink):
    n = len(mails(sink, OWNER, S_LOCKED))
    for _ in range(7):
        assert login(srv, OWNER, "wrong-password-again!").status_code == 401
    sink.wait_for(OWNER, pred=lambda m: str(m["Subject"]) == S_LOCKED)
    no_more_mail(sink, OWNER, S_LOCKED, n + 1)   # once, at the first lock
    db = sqlite3.connect(srv.db_path, timeout=10)
    with db:
        db.execute("UPDATE users SET failed_count = 0, locked_until = 0")
    db.close()


def test_new_device_notice(srv, sink):
    n = len(mails(sink, OWNER, S_DEVICE))
    login_ok(srv, OWNER, srv.pw)                 # Firefox on Linux: seen
    no_more_mail(sink, OWNER, S_DEVICE, n, wait=0.5)
    r = login(srv, OWNER, srv.pw, ua=UA_CHROME_WIN)
    assert r.status_code == 200, r.text
    msg = sink.wait_for(OWNER, pred=lambda m: str(m["Subject"]) == S_DEVICE)
    assert "Chrome on Windows" in sink.body(msg)
    assert "127.0.0.1" in sink.body(msg)
    assert login(srv, OWNER, srv.pw, ua=UA_CHROME_WIN).status_code == 200
    no_more_mail(sink, OWNER, S_DEVICE, n + 1)


def test_first_login_is_no_news(sink, srv):
    """A brand-new account's first sign-in sends nothing."""
    email = "fresh@acme.example"
    r = run_cli("tenant", "owner", "acme", email, "--data",
                str(srv.db_path.parents[2]))
    tok = re.search(r"/setup#(\S+)", r.stdout).group(1)
    assert do_setup(srv, tok, PW_AGAIN).status_code == 200
    assert login(srv, email, PW_AGAIN, ua=UA_CHROME_WIN).status_code == 200
    no_more_mail(sink, email, S_DEVICE, 0)


def test_replayed_code_notice(srv, sink):
    tok = login_ok(srv, MEMBER, PW_AGAIN)
    csrf = csrf_of(srv, tok)
    r = call(srv, "POST", "/api/v1/me/totp", token=tok, csrf=csrf, body={})
    secret = urllib.parse.parse_qs(
        urllib.parse.urlparse(r.json()["otpauth_uri"]).query)["secret"][0]
    code = totp(secret)
    r = call(srv, "POST", "/api/v1/me/totp/confirm", token=tok, csrf=csrf,
             body={"code": code})
    assert r.status_code == 200, r.text
    n = len(mails(sink, MEMBER, S_REPLAY))
    r = login(srv, MEMBER, PW_AGAIN)
    half = r.cookies.get("__Host-coffre_session") or \
        re.search(r"__Host-coffre_session=([^;]+)",
                  r.headers["Set-Cookie"]).group(1)
    # the code used at enrolment cannot be used again
    assert_error(second_step(srv, half, code), 401, "invalid_code")
    msg = sink.wait_for(MEMBER, pred=lambda m: str(m["Subject"]) == S_REPLAY)
    assert "refus" in sink.body(msg)
    assert len(mails(sink, MEMBER, S_REPLAY)) == n + 1


def test_mail_body_is_bilingual_and_clean(srv, sink):
    msg = mails(sink, OWNER, S_RESET)[0]
    body = sink.body(msg)
    assert body.startswith("Bonjour,") and "\n-- \nHello," in body
    assert msg["Message-ID"] and msg["Date"]
    assert msg["Auto-Submitted"] == "auto-generated"
    # nothing of a mail in the server log
    log = srv.log_text()
    assert OWNER not in log and "Réinitialisation" not in log


def test_without_smtp_nothing_is_sent(server_factory):
    srv = server_factory(conf=NO_LIMITS)
    data = srv.data
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    assert do_setup(srv, link, PW_OWNER).status_code == 200
    r = reset(srv, OWNER)
    assert r.status_code == 200 and r.json() == {"ok": True}
    line = srv.wait_log(lambda l: l.get("msg") == "mail.off")
    assert line is not None, srv.log_tail()
    assert OWNER not in srv.log_text()
