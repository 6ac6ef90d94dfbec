# SPDX-License-Identifier: AGPL-3.0-or-later
"""Security headers on every response, X-Request-Id, no Server header,
Cache-Control: no-store on API responses and errors.

COMMITMENT B5 (CSP, frame-ancestors, nosniff), COMMITMENT D2 (HSTS).
"""

import json

import pytest

from conftest import METRICS_TOKEN, REQUEST_ID_RE, SECURITY_HEADERS

# id -> (method, path, host kind, extra request kwargs, status, no-store)
# host kind: "platform", a tenant slug, or "raw:<Host value>".
CASES = {
    "healthz-200": ("GET", "/healthz", "platform", {}, 200, True),
    "healthz-tenant-200": ("GET", "/healthz", "acme", {}, 200, True),
    "readyz-200": ("GET", "/readyz", "platform", {}, 200, True),
    "openapi-200": ("GET", "/api/v1/openapi.json", "platform", {}, 200, True),
    "slug-check-200": ("POST", "/api/v1/slug/check", "platform",
                       {"data": b'{"slug":"acme-2"}',
                        "headers": {"Content-Type": "application/json"}}, 200, True),
    "metrics-200": ("GET", "/metrics", "platform",
                    {"headers": {"Authorization": f"Bearer {METRICS_TOKEN}"}}, 200, True),
    "tenant-home-200": ("GET", "/", "acme", {}, 200, False),
    "tenant-login-200": ("GET", "/login", "acme", {}, 200, False),
    "platform-home-200": ("GET", "/", "platform", {}, 200, False),
    "unknown-path-404": ("GET", "/no-such-page", "acme", {}, 404, True),
    "unknown-tenant-404": ("GET", "/", "nosuchtenant", {}, 404, True),
    "bad-host-400": ("GET", "/healthz", "raw:a..b", {}, 400, True),
    "unknown-param-400": ("GET", "/healthz?foo=1", "platform", {}, 400, True),
    "bad-json-400": ("POST", "/api/v1/slug/check", "platform",
                     {"data": b'{"slug":', "headers": {"Content-Type": "application/json"}},
                     400, True),
    "metrics-401": ("GET", "/metrics", "platform", {}, 401, True),
    "method-405": ("DELETE", "/healthz", "platform", {}, 405, True),
    "media-type-415": ("POST", "/api/v1/slug/check", "platform",
                       {"data": b'{"slug":"abc"}', "headers": {"Content-Type": "text/plain"}},
                       415, True),
    "misdirected-421": ("GET", "/healthz", "raw:example.com", {}, 421, True),
}


def check_security_headers(headers, no_store):
    """HEADERS: case-insensitive mapping."""
    problems = []
    for name, value in SECURITY_HEADERS.items():
        got = headers.get(name)
        if got != value:
            problems.append(f"{name}: expected {value!r}, got {got!r}")
    if headers.get("Server") is not None:
        problems.append(f"Server header present: {headers.get('Server')!r}")
    rid = headers.get("X-Request-Id")
    if rid is None or not REQUEST_ID_RE.match(rid):
        problems.append(f"X-Request-Id not 32 hex chars: {rid!r}")
    if no_store:
        cc = headers.get("Cache-Control") or ""
        if "no-store" not in [t.strip().lower() for t in cc.split(",")]:
            problems.append(f"Cache-Control lacks no-store: {cc!r}")
    return problems


def do_case(server, case):
    method, path, host_kind, kw, status, no_store = case
    kw = dict(kw)
    if host_kind == "platform":
        host = server.platform_host
    elif host_kind.startswith("raw:"):
        host = host_kind[4:]
    else:
        host = server.tenant_host(host_kind)
    return server.request(method, path, host=host, **kw)


@pytest.mark.parametrize("case_id", list(CASES))
def test_security_headers(server, case_id):
    case = CASES[case_id]
    r = do_case(server, case)
    assert r.status_code == case[4], (r.status_code, r.text[:300])
    problems = check_security_headers(r.headers, case[5])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case_id", [c for c in CASES if CASES[c][4] >= 400])
def test_error_body_shape(server, case_id):
    r = do_case(server, CASES[case_id])
    assert r.headers.get("Content-Type", "").split(";")[0].strip() == "application/json"
    body = r.json()
    assert list(body) == ["error"], body
    err = body["error"]
    assert sorted(err) == ["code", "message"], err
    assert isinstance(err["code"], str) and err["code"], err
    assert isinstance(err["message"], str) and err["message"], err


def test_request_ids_are_unique(server):
    ids = {server.get("/healthz").headers["X-Request-Id"] for _ in range(20)}
    assert len(ids) == 20


def test_raw_missing_host_error_has_headers(server):
    r = server.raw(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert r is not None and r.status == 400, r
    problems = check_security_headers(r.headers, True)
    assert not problems, "\n".join(problems)


def test_payload_too_large_error_has_headers(server):
    body = b'{"slug":"' + b"a" * (2 << 20) + b'"}'
    head = (b"POST /api/v1/slug/check HTTP/1.1\r\n"
            + f"Host: {server.platform_host}\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n".encode()
            + b"Connection: close\r\n\r\n")
    r = server.raw(head, body)
    assert r is not None and r.status == 413, r
    problems = check_security_headers(r.headers, True)
    assert not problems, "\n".join(problems)


def test_healthz_body(server):
    r = server.get("/healthz")
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert json.loads(r.content) == {"status": "ok"}
