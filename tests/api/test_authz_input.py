# SPDX-License-Identifier: AGPL-3.0-or-later
"""Bad input on the routes of roles, groups, grants and spaces
(docs/internals/authz-contract.md; COMMITMENT B3, B4): the declared
limits of the OpenAPI document, lists over their maxima, list items that
are not short strings, unknown fields, wrong types, malformed JSON, odd
Unicode in names (control and format characters refused, lone
surrogates refused, letters of any plane accepted) and bodies over the
size cap. Every refusal is a 4xx and changes nothing: the tests compare
the whole model and the audit trail before and after.

One server for the module, tenant acme under the 2FA policy `optional`.
"""

import json
import secrets

import pytest

from accounts import Account, join, send
from conftest import assert_error
from test_auth import COOKIE, OWNER, PW_OWNER
from test_roles import (GRANTS_URL, GROUPS_URL, ROLES_URL, SPACES_URL,
                        UNKNOWN_FIELD, assert_refused, create_group_ok,
                        create_role_ok, create_space_ok, mail_sink,
                        model_server, send_raw, snapshot, uniq)

MAX_BODY = 1048576
# Control (Cc) and format (Cf) characters: never in a name.
REFUSED_CHARS = {
    "NUL": "\u0000", "unit separator": "\u001f", "DEL": "\u007f",
    "NEL": "\u0085", "CSI": "\u009b", "right-to-left override": "\u202e",
    "left-to-right mark": "\u200e", "zero-width space": "\u200b",
    "zero-width joiner": "\u200d", "byte order mark": "\ufeff",
    "left-to-right isolate": "\u2066", "soft hyphen": "\u00ad",
}
# Letters of several scripts and planes, already in NFKC form (the form
# the server keeps: the contract does not say whether a name is
# normalised, so only names that no normalisation changes are compared).
ACCEPTED = ["Café", "Ελληνικά", "日本語", "עברית", "العربية",
            "\U0001f512 Coffre", "\U00020000 rare"]


# ---------------------------------------------------------------- fixtures

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
def world(srv, sink, owner):
    """One object of each kind, for the PATCH routes, and an account."""
    m = join(owner, sink, "member@acme.example", "member")
    return {
        "member": m,
        "role": create_role_ok(owner, uniq("Input role"), ["doc.read"]),
        "group": create_group_ok(owner, uniq("Input group")),
        "space": create_space_ok(owner, uniq("Input space")),
    }


@pytest.fixture(scope="module")
def doc(srv):
    r = send(srv, "GET", "/api/v1/openapi.json")
    assert r.status_code == 200, r.text
    return r.json()["paths"]


def body_schema(doc, method, path):
    op = doc[path][method.lower()]
    return op["requestBody"]["content"]["application/json"]["schema"]


def query_params(doc, path):
    return {p["name"]: p["schema"] for p in doc[path]["get"]["parameters"]
            if p["in"] == "query"}


def name_writes(world):
    """Each (method, path, extra fields) that takes a name."""
    return [("POST", ROLES_URL, {"permissions": ["doc.read"]}),
            ("PATCH", f"{ROLES_URL}/{world['role']['id']}", {}),
            ("POST", GROUPS_URL, {}),
            ("PATCH", f"{GROUPS_URL}/{world['group']['id']}", {}),
            ("POST", SPACES_URL, {}),
            ("PATCH", f"{SPACES_URL}/{world['space']['id']}", {})]


def all_writes(world):
    """Each (method, path, valid body) of the model's routes."""
    m = world["member"]
    return [
        ("POST", ROLES_URL, {"name": uniq("R"), "permissions": ["doc.read"]}),
        ("PATCH", f"{ROLES_URL}/{world['role']['id']}", {"name": uniq("R")}),
        ("POST", GROUPS_URL, {"name": uniq("G"), "members": [m.id]}),
        ("PATCH", f"{GROUPS_URL}/{world['group']['id']}",
         {"members": [m.id]}),
        ("POST", GRANTS_URL, {"user": m.id, "role": "guest"}),
        ("POST", SPACES_URL, {"name": uniq("S")}),
        ("PATCH", f"{SPACES_URL}/{world['space']['id']}",
         {"name": uniq("S")}),
    ]


def raw_send(acc, method, path, body):
    """METHOD PATH with BODY over a raw connection as the Account ACC,
    stopping the upload if the server answers first: a RawResponse, or
    None if it closed the connection without answering."""
    head = (f"{method} {path} HTTP/1.1\r\n"
            f"Host: {acc.srv.tenant_host(acc.tenant)}\r\n"
            f"Cookie: {COOKIE}={acc.session}\r\n"
            f"X-CSRF-Token: {acc.csrf}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    return acc.srv.raw(head, body, method=method)


# ---------------------------------------------------------------- the document

def test_declared_limits(doc):
    """COMMITMENT B3: every body of the model is declared, closed
    (additionalProperties false), with its lists bounded; a group lists
    at most 500 accounts and 50 groups; list items are short strings."""
    # COMMITMENT B3
    for method, path in (("POST", ROLES_URL), ("PATCH", ROLES_URL + "/{id}"),
                         ("POST", GROUPS_URL),
                         ("PATCH", GROUPS_URL + "/{id}"),
                         ("POST", GRANTS_URL), ("POST", SPACES_URL),
                         ("PATCH", SPACES_URL + "/{id}")):
        schema = body_schema(doc, method, path)
        assert schema["additionalProperties"] is False, (method, path)
        for name, field in schema["properties"].items():
            if field["type"] == "array":
                assert field["maxItems"] >= 1, (path, name, field)
                assert field["items"]["type"] == "string", (path, name)
                assert field["items"]["maxLength"] <= 64, (path, name)
            elif field["type"] == "string":
                assert field["maxLength"] >= 1, (path, name, field)
    for method in ("POST", "PATCH"):
        path = GROUPS_URL if method == "POST" else GROUPS_URL + "/{id}"
        props = body_schema(doc, method, path)["properties"]
        assert props["members"]["maxItems"] == 500, props
        assert props["groups"]["maxItems"] == 50, props
    perms = body_schema(doc, "POST", ROLES_URL)["properties"]["permissions"]
    assert perms["maxItems"] >= 11, perms   # the whole catalogue fits
    assert set(body_schema(doc, "POST", GRANTS_URL)["properties"]) == {
        "user", "group", "role", "space"}
    assert set(query_params(doc, GRANTS_URL)) == {"user", "group", "space"}


# ---------------------------------------------------------------- lists

def test_lists_over_their_maxima(srv, owner, world, doc):
    """A list one item longer than declared: 400 bad_request from the
    input whitelist, before any id is looked up (at the maximum, the
    unknown ids are what is refused)."""
    # COMMITMENT B3, B4
    gid = world["group"]["id"]
    before = snapshot(owner, srv.db)
    for key, code in (("members", "unknown_user"),
                      ("groups", "unknown_group")):
        n = body_schema(doc, "POST", GROUPS_URL)["properties"][key][
            "maxItems"]
        at_max = [secrets.token_hex(16) for _ in range(n)]
        over = at_max + [secrets.token_hex(16)]
        for method, path, base in (("POST", GROUPS_URL, {"name": uniq("L")}),
                                   ("PATCH", f"{GROUPS_URL}/{gid}", {})):
            r = owner.send(method, path, body=dict(base, **{key: over}))
            assert r.status_code == 400, (key, method, r.status_code, r.text)
            assert_error(r, 400, "bad_request")
            r = owner.send(method, path, body=dict(base, **{key: at_max}))
            assert_error(r, 400, code)
    n = body_schema(doc, "POST", ROLES_URL)["properties"]["permissions"][
        "maxItems"]
    over = ["doc.read"] * (n + 1)
    assert_error(owner.send("POST", ROLES_URL, body={
        "name": uniq("L"), "permissions": over}), 400, "bad_request")
    assert_error(owner.send("PATCH", f"{ROLES_URL}/{world['role']['id']}",
                            body={"permissions": over}), 400, "bad_request")
    assert snapshot(owner, srv.db) == before


@pytest.mark.parametrize("value", [
    [1], [None], [True], [["doc.read"]], [{"a": "b"}], ["doc.read", 2],
    "doc.read", {"doc.read": True}, 5, None, True, ["x" * 65],
], ids=repr)
def test_list_items_must_be_short_strings(srv, owner, world, value):
    # COMMITMENT B4
    gid = world["group"]["id"]
    rid = world["role"]["id"]
    before = snapshot(owner, srv.db)
    for method, path, body in (
            ("POST", ROLES_URL, {"name": uniq("T"), "permissions": value}),
            ("PATCH", f"{ROLES_URL}/{rid}", {"permissions": value}),
            ("POST", GROUPS_URL, {"name": uniq("T"), "members": value}),
            ("POST", GROUPS_URL, {"name": uniq("T"), "groups": value}),
            ("PATCH", f"{GROUPS_URL}/{gid}", {"members": value}),
            ("PATCH", f"{GROUPS_URL}/{gid}", {"groups": value})):
        r = owner.send(method, path, body=body)
        assert r.status_code == 400, (method, path, body, r.status_code,
                                      r.text)
        assert_error(r, 400, "bad_request")
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- fields

def test_unknown_fields(srv, owner, world):
    # COMMITMENT B4
    before = snapshot(owner, srv.db)
    extras = ({"builtin": True}, {"id": "0" * 32}, {"grants": 0},
              {"Name": "x"}, {"permissions ": ["doc.read"]},
              {"scope": "tenant"}, {"owner": OWNER}, {"": 1})
    for method, path, body in all_writes(world):
        for extra in extras:
            if set(extra) & set(body):
                continue
            r = owner.send(method, path, body=dict(body, **extra))
            assert r.status_code == 400, (method, path, extra,
                                          r.status_code, r.text)
            assert_refused(r, 400, UNKNOWN_FIELD)
    assert snapshot(owner, srv.db) == before


@pytest.mark.parametrize("value", [5, 1.5, None, True, ["x"], {"x": "y"}],
                         ids=repr)
def test_wrong_types(srv, owner, world, value):
    # COMMITMENT B4
    m = world["member"]
    before = snapshot(owner, srv.db)
    bodies = [(method, path, {"name": value, **extra})
              for method, path, extra in name_writes(world)]
    bodies += [("POST", GRANTS_URL, {"user": value, "role": "guest"}),
               ("POST", GRANTS_URL, {"user": m.id, "role": value}),
               ("POST", GRANTS_URL, {"group": value, "role": "guest"}),
               ("POST", GRANTS_URL, {"user": m.id, "role": "guest",
                                     "space": value})]
    if value is None:   # a null space may read as none: tenant-wide
        bodies.pop()
    for method, path, body in bodies:
        r = owner.send(method, path, body=body)
        assert r.status_code == 400, (method, path, body, r.status_code,
                                      r.text)
        assert_error(r, 400, "bad_request")
    assert snapshot(owner, srv.db) == before


@pytest.mark.parametrize("raw", [
    b"", b"{", b"[]", b'"name"', b"null", b"42",
    b'{"name":"a",}', b'{"name":"a"} {"name":"b"}',
    b'{"name":"a","name":"b","permissions":["doc.read"]}',
    b"{'name':'a'}", b"[" * 10000 + b"]" * 10000,
], ids=lambda b: repr(b)[:30])
def test_malformed_json(srv, owner, world, raw):
    # COMMITMENT B4
    before = snapshot(owner, srv.db)
    for method, path, _ in all_writes(world):
        r = send_raw(owner, method, path, raw)
        assert r.status_code == 400, (method, path, raw[:40], r.status_code,
                                      r.text)
        assert_error(r, 400, "bad_request")
    assert snapshot(owner, srv.db) == before


def test_json_only(srv, owner, world):
    # COMMITMENT B4
    before = snapshot(owner, srv.db)
    for method, path, body in all_writes(world):
        r = owner.send(method, path, body=body,
                       headers={"Content-Type": "text/plain"})
        assert_error(r, 415, "unsupported_media_type")
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("what", sorted(REFUSED_CHARS))
def test_control_and_format_characters(srv, owner, world, what):
    """A control or format character anywhere in a name (NUL, the C1
    controls, bidirectional overrides, zero-width characters): 400
    invalid_name."""
    # COMMITMENT B3
    ch = REFUSED_CHARS[what]
    before = snapshot(owner, srv.db)
    for name in (f"a{ch}b", f"{ch}ab", f"ab{ch}", ch):
        for method, path, extra in name_writes(world):
            r = owner.send(method, path, body={"name": name, **extra})
            assert r.status_code == 400, (what, method, path,
                                          r.status_code, r.text)
            # the JSON layer refuses NUL before the name is read
            assert_refused(r, 400, ("invalid_name", "bad_request")
                           if ch == "\u0000" else ("invalid_name",))
    assert snapshot(owner, srv.db) == before


def test_escaped_nul_and_surrogates(srv, owner, world):
    """JSON escapes: \\u0000 is a control character (400 invalid_name, or
    bad_request from the parser); a lone surrogate is no character (400);
    a surrogate pair is one letter of another plane, accepted."""
    # COMMITMENT B3, B4
    before = snapshot(owner, srv.db)
    for method, path, extra in name_writes(world):
        rest = json.dumps(extra)[1:-1]
        rest = ("," + rest) if rest else ""
        for name in (b"a\\u0000b", b"\\u0000", b"a\\ud800b", b"a\\udfffb",
                     b"\\udc00\\ud800", b"a\\ud83d"):
            raw = b'{"name":"' + name + b'"' + rest.encode() + b"}"
            r = send_raw(owner, method, path, raw)
            assert r.status_code == 400, (method, path, raw, r.status_code,
                                          r.text)
            assert_refused(r, 400, ("invalid_name", "bad_request"))
    assert snapshot(owner, srv.db) == before
    raw = b'{"name":"lock \\ud83d\\udd12 ' + secrets.token_hex(3).encode() \
        + b'","permissions":["doc.read"]}'
    r = send_raw(owner, "POST", ROLES_URL, raw)
    assert r.status_code == 201, r.text
    assert "\U0001f512" in r.json()["role"]["name"], r.text


def test_invalid_utf8(srv, owner, world):
    # COMMITMENT B4
    before = snapshot(owner, srv.db)
    for method, path, _ in name_writes(world):
        for bad in (b"\xff", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80",
                    b"\xf4\x90\x80\x80", b"\xe2\x82"):
            raw = b'{"name":"a' + bad + b'b"}'
            r = send_raw(owner, method, path, raw)
            assert r.status_code == 400, (method, path, raw, r.status_code,
                                          r.text)
            assert_refused(r, 400, ("bad_request", "invalid_name"))
    assert snapshot(owner, srv.db) == before


def test_letters_of_any_script(srv, owner, world):
    for text in ACCEPTED:
        create_role_ok(owner, f"{text} {secrets.token_hex(2)}", ["doc.read"])
        create_group_ok(owner, f"{text} {secrets.token_hex(2)}")
        create_space_ok(owner, f"{text} {secrets.token_hex(2)}")


@pytest.mark.parametrize("size", [65, 201, 1000, 100000])
def test_oversized_names(srv, owner, world, size):
    """Names over their limit (64 for roles and groups, 200 for spaces):
    400 (invalid_name, or bad_request from the whitelist above its
    declared maximum)."""
    # COMMITMENT B3, B4
    before = snapshot(owner, srv.db)
    for method, path, extra in name_writes(world):
        if "spaces" in path and size <= 200:
            continue
        r = owner.send(method, path, body={"name": "n" * size, **extra})
        assert r.status_code == 400, (method, path, size, r.status_code,
                                      r.text)
        assert_refused(r, 400, ("invalid_name", "bad_request"))
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- sizes

def test_huge_bodies(srv, owner, world):
    """Over the body cap: 413 payload_too_large (or the connection closed
    before the end); just under it, a 400; the server lives on."""
    # COMMITMENT B4
    before = snapshot(owner, srv.db)
    for method, path, _ in all_writes(world):
        big = b'{"name":"' + b"n" * (MAX_BODY + 10) + b'"}'
        r = raw_send(owner, method, path, big)
        if r is not None:     # None: closed before an answer, also a refusal
            assert r.status == 413, (method, path, r)
            assert_error(r, 413, "payload_too_large")
        near = b'{"name":"' + b"n" * (MAX_BODY - 100) + b'"}'
        r = send_raw(owner, method, path, near)
        assert r.status_code == 400, (method, path, r.status_code, r.text)
        many = json.dumps({"members": [secrets.token_hex(16)] * 20000})
        r = send_raw(owner, method, path, many.encode())
        assert 400 <= r.status_code < 500, (method, path, r.status_code)
    assert send(srv, "GET", "/healthz", host=srv.platform_host
                ).status_code == 200
    assert snapshot(owner, srv.db) == before


# ---------------------------------------------------------------- queries

def test_grant_filters(srv, owner, doc):
    # COMMITMENT B4
    params = query_params(doc, GRANTS_URL)
    before = snapshot(owner, srv.db)
    for key, schema in params.items():
        n = schema.get("maxLength", 64)
        r = owner.send("GET", f"{GRANTS_URL}?{key}={'a' * (n + 1)}",
                       csrf=False)
        assert_error(r, 400, "bad_request")
        for value in ("", "abc", "0" * 32, "%00", "%27%20OR%201=1"):
            r = owner.send("GET", f"{GRANTS_URL}?{key}={value}", csrf=False)
            assert r.status_code in (200, 400), (key, value, r.text)
            if r.status_code == 200:
                assert r.json() == {"grants": []}, (key, value, r.text)
    for path in (GRANTS_URL, ROLES_URL, GROUPS_URL, SPACES_URL):
        err = assert_error(owner.send("GET", f"{path}?zq_extra=1",
                                      csrf=False), 400, "unknown_parameter")
        assert "zq_extra" in err["message"], err
    assert snapshot(owner, srv.db) == before
