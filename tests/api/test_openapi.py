# SPDX-License-Identifier: AGPL-3.0-or-later
"""GET /api/v1/openapi.json: an OpenAPI 3.1 document generated from the
route table, in which every operation declares its permission.

COMMITMENT B3 (a security policy for every function).
"""

import pytest

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
