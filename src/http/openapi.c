/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The OpenAPI 3.1 document, generated from the route table at start-up:
 * paths, methods, permissions, rate classes, query parameters and JSON
 * fields with their types and limits. Served at /api/v1/openapi.json.
 */
#include "core/compat.h"

#include "http/http_int.h"

static const char *const openapi_rate_names[] = {"", "probe", "read", "write",
                                                 "auth"};
static const char *const openapi_host_names[] = {"", "platform", "tenant",
                                                 "any"};

/* The smallest value the route accepts for the integer field f. */
static size_t
openapi_min(const struct http_input *input, const struct http_field *f)
{
    size_t i;

    for (i = 0; i < input->nmins; i++) {
        if (strcmp(input->mins[i].name, f->name) == 0) {
            return input->mins[i].min;
        }
    }
    return 0;
}

static json_t *
openapi_schema(const struct http_input *input, const struct http_field *f)
{
    switch (f->type) {
    case HTTP_T_STRING:
        return json_pack("{s:s, s:I, s:s}", "type", "string", "maxLength",
                         (json_int_t)f->max, "description", f->doc);
    case HTTP_T_INT:
        return json_pack("{s:s, s:I, s:I, s:s}", "type", "integer", "minimum",
                         (json_int_t)openapi_min(input, f), "maximum",
                         (json_int_t)f->max, "description", f->doc);
    case HTTP_T_BOOL:
        return json_pack("{s:s, s:s}", "type", "boolean", "description",
                         f->doc);
    case HTTP_T_STRINGS:
        return json_pack("{s:s, s:I, s:{s:s, s:i}, s:s}", "type", "array",
                         "maxItems", (json_int_t)f->max, "items", "type",
                         "string", "maxLength", HTTP_STRINGS_ITEM_MAX,
                         "description", f->doc);
    }
    return NULL;
}

/*
 * Who may call r, as OpenAPI security requirements: a list of
 * alternatives, each a set of schemes that all apply. PUBLIC needs none;
 * /metrics the operator's token; an account's own routes (session,
 * session.partial) its cookie, with the CSRF header on a state change,
 * and refuse API tokens; every other route takes the cookie or a
 * personal API token, which must carry the route's catalogue permission
 * (listed as the token's role). NULL when out of memory.
 */
static json_t *
openapi_security(const struct http_route *r)
{
    const char *perm = r->permission;
    bool write = strcmp(r->method, "GET") != 0;
    json_t *cookie;

    if (strcmp(perm, HTTP_PUBLIC) == 0) {
        return json_array();
    }
    if (strcmp(perm, HTTP_PERM_METRICS) == 0) {
        return json_pack("[{s:[]}]", "metricsToken");
    }
    cookie = write ? json_pack("{s:[], s:[]}", "sessionCookie", "csrfToken")
                   : json_pack("{s:[]}", "sessionCookie");
    /* json_pack releases cookie (o) on failure, NULL included */
    if (strcmp(perm, HTTP_PERM_SESSION_PARTIAL) == 0 && write) {
        /* a session still owing its second factor has no CSRF token yet */
        return json_pack("[o, {s:[]}]", cookie, "sessionCookie");
    }
    if (strcmp(perm, HTTP_PERM_SESSION) == 0 ||
        strcmp(perm, HTTP_PERM_SESSION_PARTIAL) == 0) {
        return json_pack("[o]", cookie);
    }
    if (strcmp(perm, HTTP_PERM_PRINCIPAL) == 0) {
        return json_pack("[o, {s:[]}]", cookie, "apiToken");
    }
    return json_pack("[o, {s:[s]}]", cookie, "apiToken", perm);
}

/* "/assets/{path*}" is written "/assets/{path}" in OpenAPI. */
static char *
openapi_path(const char *pattern)
{
    char *p = cf_strdup(pattern);
    char *star;

    while (p != NULL && (star = strstr(p, "*}")) != NULL) {
        memmove(star, star + 1, strlen(star + 1) + 1);
    }
    return p;
}

static json_t *
openapi_operation(const struct http_route *r)
{
    json_t *op;
    json_t *params;
    json_t *props;
    json_t *required;
    const char *start;
    size_t i;

    op = json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:{s:s}, s:{s:s, s:{s:{s:{s:s}}}}}}",
        "summary", r->summary, "x-permission", r->permission, "x-rate-class",
        openapi_rate_names[r->rate], "x-host", openapi_host_names[r->host],
        "responses", "200", "description", "success", "default", "description",
        "error", "content", "application/json", "schema", "$ref",
        "#/components/schemas/Error");
    params = json_array();
    if (op == NULL || params == NULL) {
        json_decref(op);
        json_decref(params);
        return NULL;
    }
    if ((r->open & HTTP_IN_SPACE) &&
        json_object_set_new(op, "x-scope", json_string("space")) != 0) {
        json_decref(op);
        json_decref(params);
        return NULL;
    }
    start = strchr(r->pattern, '{');
    if (start != NULL) {
        size_t n = strcspn(start + 1, "*}");

        json_array_append_new(params,
                              json_pack("{s:s%, s:s, s:b, s:{s:s}}", "name",
                                        start + 1, n, "in", "path", "required",
                                        1, "schema", "type", "string"));
    }
    for (i = 0; i < r->input->nquery; i++) {
        const struct http_field *f = &r->input->query[i];

        json_array_append_new(params,
                              json_pack("{s:s, s:s, s:b, s:o}", "name", f->name,
                                        "in", "query", "required", f->required,
                                        "schema", openapi_schema(r->input, f)));
    }
    json_object_set_new(op, "parameters", params);
    if (r->input->json_body) {
        props = json_object();
        required = json_array();
        for (i = 0; i < r->input->nbody; i++) {
            const struct http_field *f = &r->input->body[i];

            json_object_set_new(props, f->name, openapi_schema(r->input, f));
            if (f->required) {
                json_array_append_new(required, json_string(f->name));
            }
        }
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:{s:{s:{s:s, s:o, s:o, s:b}}}}",
                                      "required", 1, "content",
                                      "application/json", "schema", "type",
                                      "object", "properties", props, "required",
                                      required, "additionalProperties", 0));
    }
    if (json_object_set_new(op, "security", openapi_security(r)) != 0) {
        json_decref(op);
        return NULL;
    }
    if ((strcmp(r->permission, HTTP_PERM_SESSION) == 0 ||
         strcmp(r->permission, HTTP_PERM_SESSION_PARTIAL) == 0) &&
        json_object_set_new(op, "x-session-only", json_true()) != 0) {
        json_decref(op);
        return NULL;
    }
    /* the route flags of the table: administration (the address
     * allow-list and the 2FA gate) and a recent proof of identity */
    if (((r->open & HTTP_ADMIN) &&
         json_object_set_new(op, "x-admin", json_true()) != 0) ||
        ((r->open & HTTP_STEP_UP) &&
         json_object_set_new(op, "x-step-up", json_true()) != 0)) {
        json_decref(op);
        return NULL;
    }
    return op;
}

/* The names are those server.c and handlers_auth.c read; the API tests
 * check them against a real sign-in. */
static json_t *
openapi_schemes(void)
{
    return json_pack(
        "{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s},"
        " s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s}}",
        "sessionCookie", "type", "apiKey", "in", "cookie", "name",
        "__Host-coffre_session", "description",
        "The session cookie set by POST /api/v1/auth/login (a session "
        "owing its second factor first takes POST /api/v1/auth/totp); "
        "tenant host only.",
        "csrfToken", "type", "apiKey", "in", "header", "name", "X-CSRF-Token",
        "description",
        "The session's CSRF token (csrf_token of GET /api/v1/me), required "
        "with the cookie on every state change (POST, PATCH, DELETE).",
        "apiToken", "type", "http", "scheme", "bearer", "bearerFormat",
        "coffre_pat_...", "description",
        "A personal API token (POST /api/v1/me/tokens): Authorization: "
        "Bearer coffre_pat_...; no CSRF header. Listed with the "
        "permission the token must carry.",
        "metricsToken", "type", "http", "scheme", "bearer", "description",
        "The operator's metrics token ([metrics] token in coffre.conf).");
}

enum cf_rc
http_openapi_build(const char *version, char **out, size_t *len)
{
    json_t *doc;
    json_t *paths;
    char *text;
    size_t i;
    enum cf_rc rc = CF_EINTERNAL;

    doc = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:{s:{s:{s:s, s:{s:{s:s, s:{s:{s:s}, "
        "s:{s:s}}, s:[s, s]}}, s:[s]}}, s:o}}",
        "openapi", "3.1.0", "info", "title", "coffre API", "version", version,
        "description",
        "Generated from the route table: every route declares its "
        "permission (x-permission), rate class and input whitelist; "
        "unknown parameters and fields are refused with 400. `security` "
        "lists who may call an operation; x-admin marks administration "
        "(the tenant's address allow-list and 2FA policy apply), x-step-up "
        "a route needing the password confirmed within 5 minutes "
        "(403 step_up_required); x-session-only marks an "
        "account's own routes, where API tokens are refused (403 "
        "session_required).",
        "components", "schemas", "Error", "type", "object", "properties",
        "error", "type", "object", "properties", "code", "type", "string",
        "message", "type", "string", "required", "code", "message", "required",
        "error", "securitySchemes", openapi_schemes());
    paths = json_object();
    if (doc == NULL || paths == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    for (i = 0; i < http_routes_count; i++) {
        const struct http_route *r = &http_routes[i];
        char *path = openapi_path(r->pattern);
        char method[8];
        json_t *item;
        json_t *op;
        size_t k;

        if (path == NULL) {
            rc = CF_ERR(CF_ENOMEM);
            goto out;
        }
        for (k = 0; r->method[k] && k + 1 < sizeof(method); k++) {
            method[k] = (char)(r->method[k] | 0x20);
        }
        method[k] = '\0';
        item = json_object_get(paths, path);
        if (item == NULL) {
            item = json_object();
            json_object_set_new(paths, path, item);
        }
        op = openapi_operation(r);
        cf_free(path);
        if (op == NULL) {
            rc = CF_ERR(CF_ENOMEM);
            goto out;
        }
        if (json_object_get(item, method) != NULL) {
            /* the same path on two hosts (GET / on platform and tenant) */
            json_object_set_new(
                item, method,
                json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:s}}, s:[]}", "summary",
                          "Home page (platform or tenant host).",
                          "x-permission", r->permission, "x-rate-class",
                          openapi_rate_names[r->rate], "x-host", "any",
                          "responses", "200", "description", "success",
                          "security"));
            json_decref(op);
        } else {
            json_object_set_new(item, method, op);
        }
    }
    json_object_set_new(doc, "paths", paths);
    paths = NULL; /* transferred */
    text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (text == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    *out = text;
    *len = strlen(text);
    rc = CF_OK;
out:
    json_decref(paths);
    json_decref(doc);
    return rc;
}
