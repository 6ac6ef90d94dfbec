# SPDX-License-Identifier: AGPL-3.0-or-later
"""Input whitelist and JSON handling: unknown parameters and fields, bad
JSON, types, sizes, media types, methods, header size; the slug check.

COMMITMENT B3 (every route declares its input), COMMITMENT B4 (whitelist
request filtering).
"""

import json

import pytest

from conftest import assert_error

CHECK = "/api/v1/slug/check"
MAX_BODY = 1048576
RESERVED = ("www api admin status trust app mail static assets cdn platform "
            "metrics health login auth").split()


def check(server, body, **kw):
    return server.post_json(CHECK, body, **kw)


def check_ok(server, slug):
    r = check(server, {"slug": slug})
    assert r.status_code == 200, (slug, r.status_code, r.text[:300])
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    body = r.json()
    assert isinstance(body.get("valid"), bool), body
    assert set(body) <= {"valid", "reason"}, body
    if "reason" in body:
        assert isinstance(body["reason"], str), body
    return body


# ------------------------------------------------------ unknown parameters

@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/api/v1/openapi.json"])
@pytest.mark.parametrize("param", ["foo", "debug", "zq_extra"])
def test_unknown_query_parameter(server, path, param):
    r = server.get(f"{path}?{param}=1")
    err = assert_error(r, 400, "unknown_parameter")
    assert param in err["message"], err


def test_unknown_query_parameter_on_post(server):
    r = check(server, {"slug": "abcd"}, params={"verbose": "1"})
    err = assert_error(r, 400, "unknown_parameter")
    assert "verbose" in err["message"]


def test_unknown_query_parameter_without_value(server):
    r = server.get("/healthz?flagonly")
    err = assert_error(r, 400, "unknown_parameter")
    assert "flagonly" in err["message"]


def test_unknown_query_parameter_on_tenant_page(server):
    r = server.get("/?utm_x=1", tenant="acme")
    err = assert_error(r, 400, "unknown_parameter")
    assert "utm_x" in err["message"]


# ------------------------------------------------------ JSON body

@pytest.mark.parametrize("field", ["extra", "isAdmin", "slug2"])
def test_unknown_field(server, field):
    r = check(server, {"slug": "abcd", field: 1})
    err = assert_error(r, 400, "unknown_field")
    assert field in err["message"], err


@pytest.mark.parametrize("raw", [
    b'{"slug":',
    b'{slug:"abcd"}',
    b'{"slug":"abcd",}',
    b'{"slug":"abcd"} x',
    b'{"slug":"abcd"}{"slug":"abcd"}',
    b"",
    b"nul",
    b"{'slug':'abcd'}",
], ids=lambda b: repr(b)[:30])
def test_malformed_json(server, raw):
    assert_error(check(server, raw), 400, "bad_request")


@pytest.mark.parametrize("body", [
    {"slug": 5}, {"slug": None}, {"slug": True}, {"slug": ["abcd"]},
    {"slug": {"a": "b"}}, {"slug": 1.5}, ["abcd"], "abcd", 42, None,
], ids=repr)
def test_wrong_type(server, body):
    assert_error(check(server, json.dumps(body)), 400, "bad_request")


def test_missing_field(server):
    """The contract has no code for a missing field; bad_request is the
    generic one, missing_field is tolerated. The message must name it."""
    r = check(server, {})
    assert r.status_code == 400, r.text
    err = assert_error(r, 400, r.json()["error"]["code"])
    assert err["code"] in ("bad_request", "missing_field"), err
    assert "slug" in err["message"], err


def test_slug_longer_than_64_is_bad_request(server):
    assert_error(check(server, {"slug": "a" * 65}), 400, "bad_request")
    assert_error(check(server, {"slug": "a" * 5000}), 400, "bad_request")


def test_slug_of_64_is_checked(server):
    body = check_ok(server, "a" * 64)
    assert body["valid"] is False
    assert body.get("reason")


def test_invalid_utf8(server):
    for raw in (b'{"slug":"\xff\xfe"}', b'{"slug":"ab\xc0\xafcd"}',
                b'{"slug":"\xed\xa0\x80abc"}', b'{"slug":"abc\\ud800"}'):
        assert_error(check(server, raw), 400, "bad_request")


def test_duplicate_keys(server):
    assert_error(check(server, b'{"slug":"abcd","slug":"admin"}'), 400, "bad_request")


def test_nul_in_string_is_not_accepted(server):
    """An escaped NUL is valid JSON but no text: 400, saying so."""
    r = check(server, b'{"slug":"abc\\u0000def"}')
    err = assert_error(r, 400, "bad_request")
    assert "NUL" in err["message"], err


def test_deep_nesting(server):
    r = check(server, b"[" * 200000 + b"]" * 200000)
    assert_error(r, 400, "bad_request")
    assert server.get("/healthz").status_code == 200


# ------------------------------------------------------ sizes

def post_raw(server, body, chunked=False, ctype=b"application/json"):
    head = (b"POST " + CHECK.encode() + b" HTTP/1.1\r\n"
            + f"Host: {server.platform_host}\r\n".encode()
            + b"Content-Type: " + ctype + b"\r\n"
            + b"Connection: close\r\n")
    if chunked:
        step = 65536
        chunks = b"".join(b"%x\r\n" % len(body[i:i + step]) + body[i:i + step] + b"\r\n"
                          for i in range(0, len(body), step))
        return server.raw(head + b"Transfer-Encoding: chunked\r\n\r\n",
                          chunks + b"0\r\n\r\n")
    return server.raw(head + f"Content-Length: {len(body)}\r\n\r\n".encode(), body)


def padded(size):
    body = b'{"slug":"acme-2"}'
    return body + b" " * (size - len(body))


def test_body_at_limit_accepted(server):
    r = post_raw(server, padded(MAX_BODY))
    assert r is not None and r.status == 200, r
    assert r.json()["valid"] is True


def test_body_over_limit_is_413(server):
    r = post_raw(server, padded(MAX_BODY + 1))
    assert r is not None, "connection closed without a response"
    assert_error(r, 413, "payload_too_large")


def test_large_body_is_413(server):
    r = post_raw(server, b'{"slug":"' + b"a" * (4 << 20) + b'"}')
    assert r is not None, "connection closed without a response"
    assert_error(r, 413, "payload_too_large")


def test_chunked_body_over_limit_is_413(server):
    r = post_raw(server, padded(MAX_BODY + 65536), chunked=True)
    assert r is not None, "connection closed without a response"
    assert_error(r, 413, "payload_too_large")


def test_chunked_small_body_accepted(server):
    r = post_raw(server, b'{"slug":"acme-2"}', chunked=True)
    assert r is not None and r.status == 200, r
    assert r.json()["valid"] is True


def test_header_over_16k_is_431(server):
    """431 is produced by the HTTP library. A server that closes the
    connection without answering is accepted too (the contract's limit is
    kept either way); what must not happen is a normal answer."""
    head = (b"GET /healthz HTTP/1.1\r\n"
            + f"Host: {server.platform_host}\r\n".encode()
            + b"X-Big: " + b"a" * 20000 + b"\r\nConnection: close\r\n\r\n")
    r = server.raw(head)
    assert r is None or r.status == 431, r
    assert server.get("/healthz").status_code == 200


def test_many_headers_over_16k_is_431(server):
    head = (b"GET /healthz HTTP/1.1\r\n"
            + f"Host: {server.platform_host}\r\n".encode()
            + b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(200))
            + b"Connection: close\r\n\r\n")
    r = server.raw(head)
    assert r is None or r.status == 431, r


def test_moderate_header_accepted(server):
    r = server.get("/healthz", headers={"X-Padding": "p" * 4000})
    assert r.status_code == 200


# ------------------------------------------------------ media type, method

@pytest.mark.parametrize("ctype", [
    "text/plain", None, "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/jsonx", "text/json",
])
def test_unsupported_media_type(server, ctype):
    r = check(server, {"slug": "abcd"}, content_type=ctype)
    assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8",
                                   "Application/JSON"])
def test_json_media_type_variants_accepted(server, ctype):
    r = check(server, {"slug": "acme-2"}, content_type=ctype)
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/healthz", "GET"),
    ("POST", "/healthz", "GET"),
    ("PUT", "/api/v1/openapi.json", "GET"),
    ("GET", CHECK, "POST"),
    ("DELETE", "/readyz", "GET"),
])
def test_wrong_method_is_405_with_allow(server, method, path, allowed):
    r = server.request(method, path)
    assert_error(r, 405, "method_not_allowed")
    allow = [m.strip().upper() for m in r.headers.get("Allow", "").split(",")]
    assert allowed in allow, r.headers.get("Allow")


def test_unknown_method(server):
    r = server.request("FROB", "/healthz")
    assert r.status_code in (400, 405, 501), r.status_code


# ------------------------------------------------------ slug check results

@pytest.mark.parametrize("slug", ["acme-2", "abc", "a1b2c3", "x" * 40, "new-tenant-9"])
def test_valid_slugs(server, slug):
    assert check_ok(server, slug)["valid"] is True


@pytest.mark.parametrize("slug", [
    "-bad", "bad-", "ab", "admin", "Acme", "a_b", "a.b", "a b", "x" * 41,
    "", "été", "ab\u0301c", "a/b", "--",
])
def test_invalid_slugs_have_a_reason(server, slug):
    body = check_ok(server, slug)
    assert body["valid"] is False, (slug, body)
    assert body.get("reason"), body


@pytest.mark.parametrize("slug", RESERVED)
def test_reserved_slugs(server, slug):
    body = check_ok(server, slug)
    assert body["valid"] is False and body.get("reason"), body


def test_slug_check_does_not_reveal_tenants(server):
    """acme exists, acmf does not: the answers must be identical."""
    existing = check(server, {"slug": "acme"})
    missing = check(server, {"slug": "acmf"})
    assert existing.status_code == missing.status_code == 200
    assert existing.json() == missing.json()
    assert existing.json()["valid"] is True
