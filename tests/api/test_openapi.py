# SPDX-License-Identifier: AGPL-3.0-or-later
"""GET /api/v1/openapi.json: an OpenAPI 3.1 document generated from the
route table, in which every operation declares its permission.

COMMITMENT B3 (a security policy for every function).
"""

import pytest

from conftest import assert_clean_stop, assert_error, start_server

ROUTES = {  # path -> (method, permission is PUBLIC)
    "/healthz": ("get", True),
    "/readyz": ("get", True),
    "/metrics": ("get", False),
    "/api/v1/openapi.json": ("get", True),
    "/api/v1/slug/check": ("post", True),
}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def spec(server):
    r = server.get("/api/v1/openapi.json")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    return r.json()


def resolve(spec, node):
    """Follow local $ref pointers."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        assert seen < 20, "cyclic $ref"
    return node


def operations(spec):
    for path, item in spec["paths"].items():
        item = resolve(spec, item)
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def test_version_and_info(spec):
    assert isinstance(spec.get("openapi"), str) and spec["openapi"].startswith("3.1"), spec.get("openapi")
    assert isinstance(spec["info"].get("title"), str) and spec["info"]["title"].strip()
    assert isinstance(spec["info"].get("version"), str) and spec["info"]["version"]


@pytest.mark.parametrize("path", list(ROUTES))
def test_contract_routes_present(spec, path):
    assert path in spec["paths"], sorted(spec["paths"])
    method, _ = ROUTES[path]
    item = resolve(spec, spec["paths"][path])
    assert method in item, (path, sorted(item))


def test_every_operation_has_permission_and_responses(spec):
    ops = list(operations(spec))
    assert len(ops) >= len(ROUTES)
    for path, method, op in ops:
        perm = op.get("x-permission")
        assert isinstance(perm, str) and perm.strip(), f"{method} {path}: x-permission {perm!r}"
        responses = op.get("responses")
        assert isinstance(responses, dict) and responses, f"{method} {path}: no responses"
        for code in responses:
            assert code == "default" or (len(code) == 3 and code[0] in "12345"), code


@pytest.mark.parametrize("path", list(ROUTES))
def test_permissions_match_the_contract(spec, path):
    method, public = ROUTES[path]
    perm = resolve(spec, spec["paths"][path])[method].get("x-permission")
    if public:
        assert perm == "PUBLIC", (path, perm)
    else:
        assert perm != "PUBLIC", (path, perm)


def test_operation_ids_unique(spec):
    ids = [op["operationId"] for _, _, op in operations(spec) if "operationId" in op]
    assert len(ids) == len(set(ids)), ids


def test_slug_check_request_body(spec):
    op = resolve(spec, spec["paths"]["/api/v1/slug/check"])["post"]
    body = resolve(spec, op.get("requestBody"))
    assert body, "no requestBody"
    content = body["content"]
    assert "application/json" in content, list(content)
    schema = resolve(spec, content["application/json"]["schema"])
    assert schema.get("type") == "object", schema
    assert schema.get("additionalProperties") is False, schema
    slug = resolve(spec, schema["properties"]["slug"])
    assert slug.get("type") == "string", slug
    assert slug.get("maxLength") == 64, slug
    assert set(schema["properties"]) == {"slug"}, schema["properties"]


def test_slug_check_response_schema(spec):
    op = resolve(spec, spec["paths"]["/api/v1/slug/check"])["post"]
    assert "200" in op["responses"], list(op["responses"])


def test_openapi_on_tenant_host(server, spec):
    r = server.get("/api/v1/openapi.json", tenant="acme")
    assert r.status_code == 200
    assert r.json()["openapi"] == spec["openapi"]
    assert set(r.json()["paths"]) == set(spec["paths"])


def test_declared_parameters_are_the_whitelist(server, spec):
    """Query parameters are whitelisted per route: those the document
    declares for GET routes are the only ones allowed; an undeclared one is
    refused (checked on every parameterless GET operation)."""
    for path, method, op in operations(spec):
        if method != "get" or "{" in path or path == "/metrics":
            continue
        declared = [p for p in op.get("parameters", []) if resolve(spec, p).get("in") == "query"]
        if declared:
            continue
        r = server.get(path + "?undeclared_zz=1")
        assert r.status_code in (400, 404, 421), (path, r.status_code)
        if r.status_code == 400:
            assert r.json()["error"]["code"] == "unknown_parameter"


# ---------------------------------------------------------------- security

SCHEMES = {"sessionCookie", "csrfToken", "apiToken", "metricsToken"}
SESSION_PERMS = {"session", "session.partial"}
PSEUDO_PERMS = {"PUBLIC", "ops.metrics", "principal"} | SESSION_PERMS


def test_security_schemes(spec):
    """The cookie, the CSRF header, the API token and the metrics token,
    under the names the server reads (checked against a real sign-in in
    test_scheme_names_are_the_servers)."""
    schemes = spec["components"]["securitySchemes"]
    assert set(schemes) == SCHEMES, sorted(schemes)
    assert schemes["sessionCookie"]["type"] == "apiKey"
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert schemes["sessionCookie"]["name"] == "__Host-coffre_session"
    assert schemes["csrfToken"] == dict(schemes["csrfToken"], type="apiKey",
                                        **{"in": "header",
                                           "name": "X-CSRF-Token"})
    for name in ("apiToken", "metricsToken"):
        assert schemes[name]["type"] == "http", schemes[name]
        assert schemes[name]["scheme"] == "bearer", schemes[name]
    assert schemes["apiToken"]["bearerFormat"].startswith("coffre_pat_")
    for s in schemes.values():
        assert isinstance(s.get("description"), str) and s["description"]


def expected_security(method, perm):
    """What the route table's permission means: PUBLIC needs nothing; an
    account's own routes take only its cookie (and the CSRF header on a
    state change; a session owing its second factor has no CSRF token
    yet); every other route the cookie or an API token carrying the
    permission."""
    write = method != "get"
    cookie = {"sessionCookie": [], "csrfToken": []} if write else {
        "sessionCookie": []}
    if perm == "PUBLIC":
        return []
    if perm == "ops.metrics":
        return [{"metricsToken": []}]
    if perm == "session.partial" and write:
        return [cookie, {"sessionCookie": []}]
    if perm in SESSION_PERMS:
        return [cookie]
    return [cookie, {"apiToken": [] if perm == "principal" else [perm]}]


def test_every_operation_declares_its_security(spec):
    schemes = set(spec["components"]["securitySchemes"])
    kinds = set()
    for path, method, op in operations(spec):
        perm = op["x-permission"]
        assert "security" in op, f"{method} {path}: no security"
        assert op["security"] == expected_security(method, perm), (
            method, path, perm, op["security"])
        for alt in op["security"]:
            assert set(alt) <= schemes, (method, path, alt)
        assert op.get("x-session-only", False) is (perm in SESSION_PERMS), (
            method, path, perm)
        kinds.add(perm if perm in PSEUDO_PERMS else "catalogue")
    # every kind of permission is met at least once
    assert kinds == PSEUDO_PERMS | {"catalogue"}, kinds


def test_no_global_security(spec):
    """Each operation says who may call it; nothing is inherited."""
    assert "security" not in spec


# ---------------------------------------------------------------- a tenant

@pytest.fixture(scope="module")
def acme():
    """A tenant whose owner signs in and turns 2FA on (the administration
    routes need it)."""
    from test_auth import OWNER, PW_OWNER, create_tenant_with_owner, do_setup, new_server
    from accounts import Account

    root, data = new_server("[auth]\nip_ban_failures = 1000\n")
    link = create_tenant_with_owner(data, "acme", "Acme SAS", OWNER)
    srv = start_server(data, log_path=root / "serve.log")
    srv.data = data
    try:
        assert do_setup(srv, link, PW_OWNER).status_code == 200
        srv.owner = Account(srv, OWNER, PW_OWNER)
        srv.owner.enrol_totp()
        yield srv
    finally:
        if srv.alive():
            assert_clean_stop(srv)


def test_scheme_names_are_the_servers(acme, spec):
    """The cookie a login sets and the header a state change needs are the
    ones the document names; a token is refused where x-session-only says
    so and accepted where the document lists apiToken."""
    from accounts import send
    from test_auth import OWNER, PW_OWNER, login, set_cookies

    schemes = spec["components"]["securitySchemes"]
    r = login(acme, OWNER, PW_OWNER)
    assert r.status_code == 200, r.text
    assert set_cookies(r)[0].startswith(schemes["sessionCookie"]["name"] + "=")
    owner = acme.owner
    header = schemes["csrfToken"]["name"]
    body = {"name": "openapi", "permissions": ["audit.read"]}
    r = send(acme, "POST", "/api/v1/me/tokens", cookie=owner.session,
             body=body)
    assert_error(r, 403, "csrf")
    r = send(acme, "POST", "/api/v1/me/tokens", cookie=owner.session,
             body=body, headers={header: owner.csrf})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert token.startswith("coffre_pat_")
    paths = spec["paths"]
    assert paths["/api/v1/me"]["get"]["x-session-only"] is True
    assert_error(send(acme, "GET", "/api/v1/me", bearer=token), 403,
                 "session_required")
    assert {"apiToken": ["audit.read"]} in (
        paths["/api/v1/admin/logins"]["get"]["security"])
    assert send(acme, "GET", "/api/v1/admin/logins",
                bearer=token).status_code == 200


# ---------------------------------------------------------------- ranges

SETTINGS = "/api/v1/admin/settings/security"
# Every operation with an integer input: how to call it. BASE is a valid
# body the integer is added to; for GET the integer goes in the query.
INT_INPUTS = {
    ("post", "/api/v1/me/tokens"): {"name": "range", "permissions": ["audit.read"]},
    ("patch", SETTINGS): {},
    ("get", "/api/v1/me/logins"): None,
    ("get", "/api/v1/admin/logins"): None,
}


def int_fields(spec):
    """(method, path, name, minimum, maximum) of every integer of the
    document, in a request body or the query."""
    out = []
    for path, method, op in operations(spec):
        for p in op.get("parameters", []):
            if p["in"] == "query" and p["schema"]["type"] == "integer":
                out.append((method, path, p["name"], p["schema"]["minimum"],
                            p["schema"]["maximum"]))
        if "requestBody" in op:
            props = op["requestBody"]["content"]["application/json"][
                "schema"]["properties"]
            for name, s in props.items():
                if s["type"] == "integer":
                    out.append((method, path, name, s["minimum"],
                                s["maximum"]))
    return out


def test_every_integer_declares_a_range(spec):
    fields = int_fields(spec)
    assert fields
    for method, path, name, lo, hi in fields:
        assert isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi, (
            method, path, name, lo, hi)
        assert (method, path) in INT_INPUTS, (
            f"{method} {path} takes the integer {name}: add it to INT_INPUTS")


def send_int(srv, method, path, name, value):
    from accounts import send

    owner = srv.owner
    if method == "get":
        return send(srv, "GET", f"{path}?{name}={value}", cookie=owner.session)
    body = dict(INT_INPUTS[(method, path)], **{name: value})
    return send(srv, method.upper(), path, cookie=owner.session,
                csrf=owner.csrf, body=body)


def test_ranges_are_what_the_server_accepts(acme, spec):
    """For every integer of the document: its minimum and maximum are
    accepted, one below and one above are refused with 400 (the whitelist
    above the maximum, the handler or the domain below the minimum)."""
    from accounts import send

    owner = acme.owner
    tokens = []
    for method, path, name, lo, hi in int_fields(spec):
        for value, ok in ((lo - 1, False), (lo, True), (hi, True),
                          (hi + 1, False)):
            r = send_int(acme, method, path, name, value)
            where = f"{method} {path} {name}={value}"
            if not ok:
                assert r.status_code == 400, (where, r.status_code, r.text)
                assert r.json()["error"]["code"] in (
                    "bad_request", "invalid_setting"), (where, r.text)
                continue
            assert r.status_code in (200, 201), (where, r.status_code, r.text)
            if path == "/api/v1/me/tokens":
                tokens.append(r.json()["id"])
        # a login proves identity for 5 minutes: keep the step-up fresh
        owner.step_up()
    for tid in tokens:
        r = send(acme, "DELETE", f"/api/v1/me/tokens/{tid}",
                 cookie=owner.session, csrf=owner.csrf)
        assert r.status_code == 200, r.text


def test_token_days_range(spec):
    """COMMITMENT A10: a token lives 1 to 365 days, as the handler says."""
    op = spec["paths"]["/api/v1/me/tokens"]["post"]
    days = op["requestBody"]["content"]["application/json"]["schema"][
        "properties"]["expires_days"]
    assert (days["minimum"], days["maximum"]) == (1, 365), days


def test_settings_ranges(spec):
    """The bounds of auth_tenant_policy_update, one by one."""
    op = spec["paths"][SETTINGS]["patch"]
    props = op["requestBody"]["content"]["application/json"]["schema"][
        "properties"]
    got = {k: (v["minimum"], v["maximum"]) for k, v in props.items()
           if v["type"] == "integer"}
    assert got == {
        "password_min": (12, 128), "password_min_admin": (16, 128),
        "password_score": (3, 4), "max_age_days": (0, 365),
        "max_age_days_admin": (1, 365), "history": (5, 24),
        "session_idle_minutes": (1, 30), "session_max_hours": (1, 12),
        "lockout_failures": (3, 5)}, got


STEP_UP = {("post", "/api/v1/me/totp"), ("post", "/api/v1/me/totp/confirm"),
           ("delete", "/api/v1/me/totp"), ("post", "/api/v1/me/tokens"),
           ("patch", "/api/v1/admin/settings/security"),
           ("delete", "/api/v1/admin/users/{id}"),
           ("post", "/api/v1/admin/users/{id}/reset-totp")}


def test_route_flags(spec):
    """COMMITMENT A12: the route table declares administration (x-admin:
    the address allow-list and the 2FA gate) and the need for a recent
    proof of identity (x-step-up); the document shows both."""
    admin = {(m, p) for p, m, op in operations(spec) if op.get("x-admin")}
    assert admin == {(m, p) for p, m, _ in operations(spec)
                     if p.startswith("/api/v1/admin/")}, admin
    step = {(m, p) for p, m, op in operations(spec) if op.get("x-step-up")}
    assert step == STEP_UP, step


def test_step_up_routes_refuse_an_old_proof(acme, spec):
    """Each x-step-up route answers 403 step_up_required to a session whose
    last proof of identity is older than 5 minutes, and nothing changes."""
    from test_auth import query, tenant_db
    owner = acme.owner
    db = tenant_db(acme.data, "acme")
    bodies = {
        ("post", "/api/v1/me/totp"): {},
        ("post", "/api/v1/me/totp/confirm"): {"code": "123456"},
        ("delete", "/api/v1/me/totp"): None,
        ("post", "/api/v1/me/tokens"): {"name": "x",
                                        "permissions": ["doc.read"]},
        ("patch", "/api/v1/admin/settings/security"): {"history": 6},
        ("delete", "/api/v1/admin/users/{id}"): None,
        ("post", "/api/v1/admin/users/{id}/reset-totp"): {},
    }
    assert set(bodies) == STEP_UP
    r = owner.send("POST", "/api/v1/admin/users",
                   body={"email": "flags@acme.example", "role": "member"})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    owner.age_proof(db)
    before = query(db, "SELECT count(*) AS n FROM audit_events")[0]["n"]
    for (method, path), body in sorted(bodies.items()):
        r = owner.send(method.upper(), path.replace("{id}", uid), body=body)
        assert_error(r, 403, "step_up_required")
    assert query(db, "SELECT count(*) AS n FROM audit_events")[0]["n"] == before
