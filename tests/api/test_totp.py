# SPDX-License-Identifier: AGPL-3.0-or-later
"""Two-factor authentication (COMMITMENT A7): enrolment with an otpauth URI
and an SVG QR code, activation only after a valid code, a login that then
needs the second step, a code accepted once, single-use recovery codes,
turning it off. Codes are computed here from the secret, as an
authenticator app would (RFC 6238)."""

import base64
import hashlib
import hmac
import re
import struct
import time
import urllib.parse

import pytest

from conftest import assert_clean_stop, assert_error, start_server
from test_auth import (OWNER, PW_OWNER, call, create_tenant_with_owner,
                       csrf_of, do_setup, login, login_ok, me, new_server,
                       session_token)


def totp(secret_b32, at=None, shift=0):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((at if at is not None else time.time()) // 30) + shift
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 15
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10**6
    return f"{code:06d}"


@pytest.fixture(scope="module")
def srv():
    root, data = new_server("[auth]\nip_ban_failures = 1000\n")
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    s = start_server(data, log_path=root / "serve.log")
    try:
        assert do_setup(s, link, PW_OWNER).status_code == 200
        yield s
    finally:
        if s.alive():
            assert_clean_stop(s)


def post(s, path, token, body, csrf="auto"):
    if csrf == "auto":
        csrf = csrf_of(s, token)
    return call(s, "POST", path, token=token, csrf=csrf, body=body)


def second_step(s, token, code):
    return call(s, "POST", "/api/v1/auth/totp", token=token,
                csrf=None, body={"code": code})


def test_totp_lifecycle(srv):
    tok = login_ok(srv, OWNER, PW_OWNER)
    # enrolment needs CSRF like any change
    assert_error(post(srv, "/api/v1/me/totp", tok, {}, csrf=None), 403, "csrf")
    r = post(srv, "/api/v1/me/totp", tok, {})
    assert r.status_code == 200, r.text
    body = r.json()
    uri = urllib.parse.urlparse(body["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    q = urllib.parse.parse_qs(uri.query)
    secret = q["secret"][0]
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    assert q["digits"] == ["6"] and q["period"] == ["30"]
    assert "owner@acme.example" in urllib.parse.unquote(uri.path)
    svg = body["qr_svg"]
    assert svg.startswith("<svg") and "<path" in svg
    assert "script" not in svg and "style" not in svg
    # not active until confirmed
    assert me(srv, tok).json()["user"]["totp"] is False
    # what follows relies on staying in one 30 s step: start early in one
    if time.time() % 30 > 15:
        time.sleep(30.5 - time.time() % 30)
    assert_error(post(srv, "/api/v1/me/totp/confirm", tok, {"code": "000000"}),
                 400, "invalid_code")
    r = post(srv, "/api/v1/me/totp/confirm", tok, {"code": totp(secret)})
    assert r.status_code == 200, r.text
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.match(r"^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$", c)
               for c in codes)
    assert me(srv, tok).json()["user"]["totp"] is True

    # a new login needs the second step
    r = login(srv, OWNER, PW_OWNER)
    assert r.status_code == 200 and r.json() == {"mfa_required": True}
    half = session_token(r)
    assert_error(me(srv, half), 401, "mfa_required")
    assert_error(second_step(srv, half, "123456"), 401, "invalid_code")
    assert_error(second_step(srv, half, "12345"), 401, "invalid_code")
    now = time.time()
    # the code that confirmed the enrolment is used up already
    assert_error(second_step(srv, half, totp(secret, now)), 401,
                 "invalid_code")
    # the next step's code (one step of drift is allowed) is new
    code = totp(secret, now, shift=1)
    r = second_step(srv, half, code)
    assert r.status_code == 200, r.text
    assert me(srv, half).status_code == 200

    # the same code again: refused (replay), even on another session
    r = login(srv, OWNER, PW_OWNER)
    other = session_token(r)
    assert_error(second_step(srv, other, code), 401, "invalid_code")

    # a recovery code works once
    r = login(srv, OWNER, PW_OWNER)
    third = session_token(r)
    assert second_step(srv, third, codes[0].upper()).status_code == 200
    r = login(srv, OWNER, PW_OWNER)
    fourth = session_token(r)
    assert_error(second_step(srv, fourth, codes[0]), 401, "invalid_code")
    # a half-logged-in session can still log out (no CSRF token exists for
    # it yet; a cross-site Origin is refused)
    r = call(srv, "POST", "/api/v1/auth/logout", token=fourth,
             origin="https://evil.example", body={})
    assert_error(r, 403, "csrf")
    r = call(srv, "POST", "/api/v1/auth/logout", token=fourth, body={})
    assert r.status_code == 200, r.text
    assert_error(second_step(srv, fourth, codes[1]), 401, "unauthorized")

    # turning it off
    r = call(srv, "DELETE", "/api/v1/me/totp", token=tok, csrf=csrf_of(srv, tok))
    assert r.status_code == 200, r.text
    r = login(srv, OWNER, PW_OWNER)
    assert r.json() == {"mfa_required": False}


def test_journal_records_second_factor(srv):
    tok = login_ok(srv, OWNER, PW_OWNER)
    lines = call(srv, "GET", "/api/v1/me/logins?limit=100",
                 token=tok).json()["logins"]
    outcomes = {x["outcome"] for x in lines}
    assert {"totp_success", "totp_failed", "totp_replay",
            "recovery_code"} <= outcomes, outcomes


def test_second_step_needs_a_session(srv):
    assert_error(call(srv, "POST", "/api/v1/auth/totp", body={"code": "123456"}),
                 401, "unauthorized")
