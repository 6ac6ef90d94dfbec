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
