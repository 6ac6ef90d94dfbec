# SPDX-License-Identifier: AGPL-3.0-or-later
"""Host resolution: platform, tenants, unknown tenants, malformed and
foreign hosts; tenant pages; static assets.

COMMITMENT B2 (a request touches exactly one tenant; unknown tenants are
indistinguishable from unknown paths).
"""

import html
import re

import pytest

from conftest import TENANTS, assert_error


def same_404(a, b):
    assert a.status_code == 404, (a.status_code, a.text[:200])
    assert b.status_code == 404, (b.status_code, b.text[:200])
    assert a.content == b.content, (a.content, b.content)
    assert a.headers.get("Content-Type") == b.headers.get("Content-Type")
    assert_error(a, 404, "not_found")


@pytest.mark.parametrize("host_name", [
    "nosuchtenant.localhost",     # no such tenant
    "www.localhost",              # reserved name
    "x.acme.localhost",           # deeper name under the base domain
    "ab.localhost",               # not a valid slug
])
@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page"])
def test_unknown_tenant_is_indistinguishable_from_unknown_path(server, host_name, path):
    unknown_tenant = server.get(path, host=f"{host_name}:{server.port}")
    unknown_path = server.get("/no-such-page", tenant="acme")
    same_404(unknown_tenant, unknown_path)


@pytest.mark.parametrize("path", ["/readyz", "/metrics"])
def test_platform_routes_are_unknown_paths_on_tenants(server, path):
    """Routes for the platform host only are plain 404s on a tenant host."""
    on_tenant = server.get(path, tenant="acme",
                           headers={"Authorization": f"Bearer {server.metrics_token}"})
    unknown_path = server.get("/no-such-page", tenant="acme")
    same_404(on_tenant, unknown_path)


def test_slug_check_is_unknown_on_tenants(server):
    r = server.post_json("/api/v1/slug/check", {"slug": "abcd"}, tenant="acme")
    assert_error(r, 404, "not_found")
    assert r.content == server.get("/no-such-page", tenant="acme").content


@pytest.mark.parametrize("slug", list(TENANTS))
def test_tenant_home_page(server, slug):
    r = server.get("/", tenant=slug)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].split(";")[0].strip() == "text/html"
    page = r.content.decode("utf-8")
    m = re.search(r"<title>(.*?)</title>", page, re.S | re.I)
    assert m, page[:500]
    assert html.unescape(m.group(1)).strip() == f"{TENANTS[slug]} · coffre"


def test_tenant_home_contains_name(server):
    r = server.get("/", tenant="acme")
    assert "Acme SAS" in r.text
    assert "Beta Corp" not in r.text


def test_tenant_name_is_html_escaped(server):
    """COMMITMENT B5: the display name "Evil <b>"Co"</b> & 'Sons'" is text,
    never markup."""
    page = server.get("/", tenant="evil").text
    assert "<b>" not in page
    assert "&lt;b&gt;" in page


def test_host_without_port_resolves(server):
    r = server.get("/", host="acme.localhost")
    assert r.status_code == 200
    assert "Acme SAS" in r.text
    r = server.get("/healthz", host="localhost")
    assert r.status_code == 200


def test_each_tenant_sees_its_own_page(server):
    assert "Beta Corp" in server.get("/", tenant="beta").text
    assert "Acme SAS" not in server.get("/", tenant="beta").text


def test_tenant_login_page(server):
    r = server.get("/login", tenant="acme")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0].strip() == "text/html"


def test_platform_landing_page(server):
    r = server.get("/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0].strip() == "text/html"
    # The platform page must not enumerate tenants.
    for name in TENANTS.values():
        assert html.escape(name) not in r.text and name not in r.text


# ---------------------------------------------------------------- bad hosts

@pytest.mark.parametrize("host", [
    "a..b",
    "bad_host!",
    "acme.localhost:99999",
    "acme.localhost:abc",
    "acme..localhost",
    ".localhost",
    "acme.localhost:-1",
    "acme.localhost:80:80",
    "acme/localhost",
    "acme localhost",
    "[::1",
    "a" * 64 + ".localhost",          # label longer than 63
    ("abcdefghi." * 26) + "localhost",  # name longer than 253
])
def test_malformed_host_is_bad_host(server, host):
    r = server.get("/healthz", host=host)
    assert_error(r, 400, "bad_host")


@pytest.mark.parametrize("host_line", [
    None,                                   # no Host at all
    b"Host: \r\n",                          # empty
    b"Host: acm\xc3\xa9.localhost\r\n",     # non-ASCII
    b"Host: acme\x01.localhost\r\n",        # control character
])
def test_raw_missing_or_invalid_host_is_bad_host(server, host_line):
    head = b"GET /healthz HTTP/1.1\r\n" + (host_line or b"") + b"Connection: close\r\n\r\n"
    r = server.raw(head)
    assert r is not None, "connection closed without a response"
    assert_error(r, 400, "bad_host")


def test_raw_http10_without_host_is_bad_host(server):
    r = server.raw(b"GET /healthz HTTP/1.0\r\n\r\n")
    assert r is not None, "connection closed without a response"
    assert_error(r, 400, "bad_host")


@pytest.mark.parametrize("host", [
    "example.com",
    "example.com:{port}",
    "localhost.example.com:{port}",
    "acme.localhost.example.com",
    "notlocalhost:{port}",
    "acme.notlocalhost",
])
def test_foreign_host_is_misdirected(server, host):
    r = server.get("/healthz", host=host.format(port=server.port))
    assert_error(r, 421, "misdirected_request")


def test_duplicate_host_headers_rejected(server):
    """RFC 9112 3.2: more than one Host field is a 400 (else host confusion)."""
    head = (b"GET / HTTP/1.1\r\n"
            + f"Host: acme.localhost:{server.port}\r\n".encode()
            + f"Host: beta.localhost:{server.port}\r\n".encode()
            + b"Connection: close\r\n\r\n")
    r = server.raw(head)
    assert r is not None
    assert r.status == 400, r


# ---------------------------------------------------------------- assets

def asset_paths(page):
    return sorted(set(re.findall(r'(?:href|src)="(/assets/[^"?#]+)', page)))


def test_assets_served(server):
    pages = [server.get("/").text, server.get("/", tenant="acme").text,
             server.get("/login", tenant="acme").text]
    paths = sorted({p for page in pages for p in asset_paths(page)})
    if not paths:
        pytest.skip("no page references /assets/ yet")
    for path in paths:
        for host in (server.platform_host, server.tenant_host("acme")):
            r = server.get(path, host=host)
            assert r.status_code == 200, (path, r.status_code)
            ctype = r.headers.get("Content-Type", "").split(";")[0].strip()
            assert ctype in ("text/css", "text/javascript", "application/javascript",
                             "image/svg+xml", "image/png", "image/x-icon",
                             "font/woff2", "application/json"), (path, ctype)
            assert r.content


def test_pages_have_no_inline_script_or_style(server):
    """Strict CSP: pages load scripts and styles from files only."""
    for r in (server.get("/"), server.get("/", tenant="acme"),
              server.get("/login", tenant="acme")):
        page = r.text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", page, re.I), page[:800]
        assert not re.search(r"<style[\s>]", page, re.I), page[:800]
        assert not re.search(r"<[^>]*\s(on[a-z]+|style)\s*=", page, re.I), page[:800]


@pytest.mark.parametrize("target", [
    b"/assets/../coffre.conf",
    b"/assets/../../coffre.conf",
    b"/assets/%2e%2e/%2e%2e/coffre.conf",
    b"/assets/..%2f..%2fmaster.key",
    b"/assets/%2e%2e%2f%2e%2e%2fcontrol.db",
    b"/assets/../../../../etc/passwd",
    b"/assets/",
    b"/assets/no-such-file.css",
])
def test_asset_path_traversal(server, target):
    head = (b"GET " + target + b" HTTP/1.1\r\n"
            + f"Host: {server.platform_host}\r\n".encode()
            + b"Connection: close\r\n\r\n")
    r = server.raw(head)
    assert r is not None
    assert r.status in (400, 404), r
    assert b"[metrics]" not in r.body and b"root:" not in r.body
    assert server.metrics_token.encode() not in r.body
