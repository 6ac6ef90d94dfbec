# SPDX-License-Identifier: AGPL-3.0-or-later
"""Rate limits by route class: a client past its class limit gets 429 with
Retry-After, other classes and probes keep working, and the refusal changes
nothing."""

from conftest import assert_error

SEC_HEADERS = ("Strict-Transport-Security", "Content-Security-Policy",
               "X-Content-Type-Options")


def test_write_class_limited(server_factory):
    srv = server_factory(conf="[limits]\nwrite_per_minute = 3\n"
                              "read_per_minute = 5\n")
    statuses = [srv.post_json("/api/v1/slug/check", {"slug": "acme"}).status_code
                for _ in range(6)]
    assert statuses[:3] == [200, 200, 200], statuses
    assert statuses[3:] == [429, 429, 429], statuses
    r = srv.post_json("/api/v1/slug/check", {"slug": "acme"})
    assert_error(r, 429, "rate_limited")
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 20, retry
    for h in SEC_HEADERS:
        assert h in r.headers
    # probes are never limited; reads have their own bucket
    for _ in range(30):
        assert srv.get("/healthz").status_code == 200
    assert srv.get("/api/v1/openapi.json").status_code == 200


def test_read_class_limited(server_factory):
    srv = server_factory(conf="[limits]\nread_per_minute = 4\n")
    codes = [srv.get("/api/v1/openapi.json").status_code for _ in range(6)]
    assert codes == [200] * 4 + [429] * 2, codes
    assert srv.get("/readyz").status_code == 200


def test_zero_disables_limit(server_factory):
    srv = server_factory(conf="[limits]\nread_per_minute = 0\n")
    codes = {srv.get("/api/v1/openapi.json").status_code for _ in range(40)}
    assert codes == {200}


def test_failed_authentication_is_limited(server_factory):
    """COMMITMENT A5, COMMITMENT A6: wrong credentials cost from the client's
    credential bucket (auth_per_minute), before they are even checked:
    a flood of wrong metrics tokens or session cookies gets 429 after the
    burst, not 401 after 401."""
    from conftest import METRICS_TOKEN
    srv = server_factory(conf=f"[metrics]\ntoken = {METRICS_TOKEN}\n"
                              "[limits]\nauth_per_minute = 5\n"
                              "read_per_minute = 0\n")
    codes = [srv.get("/metrics", headers={
        "Authorization": f"Bearer wrong-{i:040d}"}).status_code
        for i in range(30)]
    assert codes.count(401) == 5 and codes[:5] == [401] * 5, codes
    assert set(codes[5:]) == {429}, codes
    r = srv.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert_error(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 20
    # the right token waits too while the bucket is empty; probes do not
    assert srv.get("/metrics", headers={
        "Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 429
    assert srv.get("/healthz").status_code == 200


def test_failed_session_cookies_are_limited(server_factory):
    srv = server_factory(conf="[limits]\nauth_per_minute = 3\n"
                              "read_per_minute = 0\n")
    from conftest import create_tenant
    create_tenant(srv.data, "acme")
    from test_auth import COOKIE, call
    codes = [call(srv, "GET", "/api/v1/me", token="x" * 43).status_code
             for _ in range(8)]
    assert codes == [401] * 3 + [429] * 5, codes


def test_short_metrics_token_refused_at_start(server_factory):
    """A metrics token under 32 characters is no secret: serve refuses to
    start and names the key."""
    from conftest import expect_startup_failure, init_data_dir, write_conf, make_temp_root
    data = init_data_dir(make_temp_root() / "data")
    write_conf(data, "[metrics]\ntoken = short-token-of-31-characters-xx\n")
    rc, err = expect_startup_failure(data)
    assert rc == 3 and "[metrics] token" in err and "32" in err, (rc, err)
