# SPDX-License-Identifier: AGPL-3.0-or-later
"""Step-up: turning 2FA on or off needs a proof of identity from the last
5 minutes (a login, a second-step code, or POST /api/v1/auth/step-up with
the password). An older session is made here by moving its proof back in
the tenant database, as five minutes passing would."""

import sqlite3

import pytest

from conftest import assert_clean_stop, assert_error, start_server
from test_auth import (OWNER, PW_OWNER, call, create_tenant_with_owner,
                       csrf_of, do_setup, login_ok, new_server)


@pytest.fixture(scope="module")
def srv():
    root, data = new_server("[auth]\nip_ban_failures = 1000\n")
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    s = start_server(data, log_path=root / "serve.log")
    s.db_path = data / "tenants" / "1" / "tenant.db"
    try:
        assert do_setup(s, link, PW_OWNER).status_code == 200
        yield s
    finally:
        if s.alive():
            assert_clean_stop(s)


def age_proofs(srv, seconds):
    db = sqlite3.connect(srv.db_path, timeout=10)
    with db:
        db.execute("UPDATE sessions SET auth_at = auth_at - ?", (seconds,))
    db.close()


def test_recent_login_is_enough(srv):
    tok = login_ok(srv, OWNER, PW_OWNER)
    r = call(srv, "POST", "/api/v1/me/totp", token=tok,
             csrf=csrf_of(srv, tok), body={})
    assert r.status_code == 200, r.text


def test_old_session_must_step_up(srv):
    tok = login_ok(srv, OWNER, PW_OWNER)
    age_proofs(srv, 600)
    csrf = csrf_of(srv, tok)
    assert_error(call(srv, "POST", "/api/v1/me/totp", token=tok, csrf=csrf,
                      body={}), 403, "step_up_required")
    assert_error(call(srv, "DELETE", "/api/v1/me/totp", token=tok, csrf=csrf),
                 403, "step_up_required")
    # a wrong password does not count
    assert_error(call(srv, "POST", "/api/v1/auth/step-up", token=tok,
                      csrf=csrf, body={"password": "not-the-password"}),
                 400, "wrong_password")
    assert_error(call(srv, "POST", "/api/v1/me/totp", token=tok, csrf=csrf,
                      body={}), 403, "step_up_required")
    # step-up needs CSRF like any change
    assert_error(call(srv, "POST", "/api/v1/auth/step-up", token=tok,
                      body={"password": PW_OWNER}), 403, "csrf")
    r = call(srv, "POST", "/api/v1/auth/step-up", token=tok, csrf=csrf,
             body={"password": PW_OWNER})
    assert r.status_code == 200, r.text
    r = call(srv, "POST", "/api/v1/me/totp", token=tok, csrf=csrf, body={})
    assert r.status_code == 200, r.text
