# SPDX-License-Identifier: AGPL-3.0-or-later
"""The 404 answer: a page for browsers, JSON for API clients.

A GET or HEAD outside /api/ whose Accept header prefers text/html to JSON
gets the page "not found" (web/notfound.html) in the site's layout, with
every security header; any other request gets the JSON error, byte for
byte as before. Either way an unknown tenant answers exactly like an
unknown path on the same kind of request, and a tenant host nobody holds
serves the public assets as every host does, so the page is styled and
translated there too.

COMMITMENT B2 (unknown tenants are indistinguishable from unknown paths).
"""

import json
import re

import pytest

from conftest import SECURITY_HEADERS, TENANTS, assert_error

# What Chromium sends when it navigates to a page.
BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,"
                  "image/avif,image/webp,image/apng,*/*;q=0.8,"
                  "application/signed-exchange;v=b3;q=0.7")
JSON_404 = b'{"error":{"code":"not_found","message":"no such resource"}}'

UNKNOWN_HOSTS = [
    "nosuchtenant.localhost",     # no such tenant
    "www.localhost",              # reserved name
    "x.acme.localhost",           # deeper name under the base domain
    "ab.localhost",               # not a valid slug
]

# Accept headers that do not prefer HTML: the JSON answer.
API_ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json, text/html",        # a tie: JSON
    "text/html;q=0.5, application/json",
    "text/html;q=0",
    "application/*, text/html;q=0.9",
]

# Accept headers that do.
HTML_ACCEPTS = [
    BROWSER_ACCEPT,
    "text/html",
    "TEXT/HTML",
    "text/*",
    "text/html, application/json;q=0.9",
    "application/json;q=0.5, text/html ; q=0.8",
]


def get(server, path, accept, **kw):
    headers = {} if accept is None else {"Accept": accept}
    # requests adds "Accept: */*" unless told otherwise
    headers.setdefault("Accept", None)
    return server.get(path, headers=headers, **kw)


def is_page(r):
    return (r.status_code == 404
            and r.headers.get("Content-Type") == "text/html; charset=utf-8"
            and r.content.lstrip().lower().startswith(b"<!doctype html>"))


def assert_json_404(r):
    assert r.content == JSON_404, (r.status_code, r.content[:300])
    assert r.headers.get("Content-Type") == "application/json"
    assert_error(r, 404, "not_found")


def assert_headers(r):
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, (name, r.headers.get(name))
    assert r.headers.get("Cache-Control") == "no-store"
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers.get("X-Request-Id", ""))


@pytest.mark.parametrize("accept", HTML_ACCEPTS)
def test_a_browser_gets_the_page(server, accept):
    r = get(server, "/no-such-page", accept, tenant="acme")
    assert is_page(r), (r.status_code, r.headers.get("Content-Type"), r.content[:200])
    assert_headers(r)


@pytest.mark.parametrize("accept", API_ACCEPTS)
def test_an_api_client_gets_the_json_error(server, accept):
    r = get(server, "/no-such-page", accept, tenant="acme")
    assert_json_404(r)
    assert_headers(r)


@pytest.mark.parametrize("path", ["/api/v1/no-such-route", "/api/v1/me/nothing",
                                  "/api", "/api/"])
def test_api_paths_answer_json_even_to_a_browser(server, path):
    assert_json_404(get(server, path, BROWSER_ACCEPT, tenant="acme"))


def test_only_get_and_head_get_the_page(server):
    r = server.post("/no-such-page", tenant="acme",
                    headers={"Accept": BROWSER_ACCEPT})
    assert_json_404(r)
    r = server.request("HEAD", "/no-such-page", tenant="acme",
                       headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 404
    assert r.headers.get("Content-Type") == "text/html; charset=utf-8"
    assert r.content == b""


def test_the_page(server):
    r = get(server, "/no-such-page", BROWSER_ACCEPT, tenant="acme")
    assert is_page(r)
    page = r.content.decode("utf-8")
    assert '<html lang="fr">' in page
    assert re.search(r"<title>Page introuvable · coffre</title>", page)
    assert 'href="/assets/style.css"' in page
    assert 'src="/assets/app.js"' in page
    # strict CSP: nothing inline
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", page, re.I)
    assert not re.search(r"<style[\s>]", page, re.I)
    assert not re.search(r"<[^>]*\s(on[a-z]+|style)\s*=", page, re.I)
    # every text of the page is in both dictionaries
    keys = set(re.findall(r'data-i18n="([^"]+)"', page))
    assert {"notfound.heading", "notfound.text"} <= keys
    for lang in ("fr", "en"):
        d = server.get(f"/assets/i18n/{lang}.json", tenant="acme")
        assert d.status_code == 200
        missing = keys - set(json.loads(d.content))
        assert not missing, (lang, missing)


@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, None, "application/json"])
@pytest.mark.parametrize("host_name", UNKNOWN_HOSTS)
@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page", "/setup"])
def test_unknown_tenant_answers_like_unknown_path(server, accept, host_name, path):
    unknown_tenant = get(server, path, accept, host=f"{host_name}:{server.port}")
    unknown_path = get(server, "/no-such-page", accept, tenant="acme")
    assert unknown_tenant.status_code == unknown_path.status_code == 404
    assert unknown_tenant.content == unknown_path.content
    assert (unknown_tenant.headers.get("Content-Type")
            == unknown_path.headers.get("Content-Type"))
    assert sorted(unknown_tenant.headers) == sorted(unknown_path.headers)
    assert_headers(unknown_tenant)


@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, None])
@pytest.mark.parametrize("path", ["/metrics", "/readyz"])
def test_platform_routes_on_a_tenant_answer_like_unknown_paths(server, accept, path):
    r = get(server, path, accept, tenant="acme")
    assert r.content == get(server, "/no-such-page", accept, tenant="acme").content


def test_the_page_is_the_same_everywhere(server):
    """Platform, every tenant, any unknown host: one page, naming none."""
    bodies = {get(server, "/no-such-page", BROWSER_ACCEPT).content}
    for slug in TENANTS:
        bodies.add(get(server, "/no-such-page", BROWSER_ACCEPT, tenant=slug).content)
    for host_name in UNKNOWN_HOSTS:
        bodies.add(get(server, "/x", BROWSER_ACCEPT,
                       host=f"{host_name}:{server.port}").content)
    assert len(bodies) == 1
    page = bodies.pop().decode("utf-8").lower()
    for slug, name in TENANTS.items():
        assert slug not in page and name.lower() not in page, slug
    assert "nosuchtenant" not in page and "localhost" not in page


def asset_paths(page):
    return sorted(set(re.findall(r'(?:href|src)="(/assets/[^"?#]+)', page)))


@pytest.mark.parametrize("host_name", UNKNOWN_HOSTS)
def test_an_unknown_tenant_serves_the_public_assets(server, host_name):
    page = get(server, "/no-such-page", BROWSER_ACCEPT, tenant="acme").text
    paths = asset_paths(page) + ["/assets/i18n/fr.json", "/assets/i18n/en.json"]
    host = f"{host_name}:{server.port}"
    for path in paths:
        known = server.get(path, tenant="acme")
        unknown = server.get(path, host=host)
        assert known.status_code == 200, path
        assert unknown.status_code == 200, (path, unknown.status_code)
        assert unknown.content == known.content, path
        assert unknown.headers.get("Content-Type") == known.headers.get("Content-Type")
        assert_headers(unknown)
    # an asset that does not exist is an unknown path there as anywhere
    for accept in (None, BROWSER_ACCEPT):
        assert (get(server, "/assets/no-such-file.css", accept, host=host).content
                == get(server, "/assets/no-such-file.css", accept, tenant="acme").content)


@pytest.mark.parametrize("target", [
    b"/assets/../coffre.conf",
    b"/assets/%2e%2e/%2e%2e/coffre.conf",
    b"/assets/..%2f..%2fmaster.key",
    b"/assets/../../../../etc/passwd",
    b"/assets/",
])
def test_no_traversal_from_an_unknown_tenant(server, target):
    head = (b"GET " + target + b" HTTP/1.1\r\n"
            + f"Host: nosuchtenant.localhost:{server.port}\r\n".encode()
            + b"Accept: text/html\r\nConnection: close\r\n\r\n")
    r = server.raw(head)
    assert r is not None
    assert r.status in (400, 404), r
    assert b"[metrics]" not in r.body and b"root:" not in r.body
    assert server.metrics_token.encode() not in r.body
