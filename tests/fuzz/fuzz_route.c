/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for the route matcher (http_route_match in
 * src/http/routes.c), which sees the method and path of every request.
 * Input: the first byte picks the host scope (byte % 3: platform, tenant,
 * any) and the size of a second, tight Allow buffer; the rest is
 * "METHOD PATH" (split at the first space; without one the method is GET
 * and the whole rest is the path). The result is checked against the route
 * table with a plain reference matcher ("{x}" is one path segment, "{x*}"
 * the non-empty rest): the first route in table order whose scope, path and
 * method (HEAD also matching GET) fit must be returned, the {param} span must
 * lie inside the path and rebuild it with the pattern, out-parameters stay
 * untouched on a miss, and the Allow list (405) must name exactly the
 * methods of the other routes on that path, NUL-terminated within its
 * buffer whatever its size.
 */
#include "core/compat.h"

#include "http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ALLOW_SERVER 64 /* sizeof(((struct http_req *)0)->allow) */

enum ref_match { REF_NO, REF_YES, REF_UNKNOWN };

static void __attribute__((noreturn))
fuzz_fail(const char *what, const char *method, const char *path)
{
    fprintf(stderr, "fuzz_route: %s (method \"%s\", path \"%s\")\n", what,
            method, path);
    abort();
}

static bool
ref_method_ok(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static bool
ref_scope_ok(enum http_host_scope route, enum http_host_scope scope)
{
    return route == HTTP_HOST_ANY || route == scope;
}

/* Match one pattern with at most one {param}; more is REF_UNKNOWN. */
static enum ref_match
ref_path_match(const char *pattern, const char *path, size_t *poff,
               size_t *plen)
{
    const char *open = strchr(pattern, '{');
    const char *close;
    size_t pre;
    size_t n;
    bool rest;

    *poff = 0;
    *plen = 0;
    if (open == NULL) {
        return strcmp(pattern, path) == 0 ? REF_YES : REF_NO;
    }
    close = strchr(open, '}');
    if (close == NULL || strchr(close, '{') != NULL) {
        return REF_UNKNOWN;
    }
    pre = (size_t)(open - pattern);
    if (strncmp(pattern, path, pre) != 0) {
        return REF_NO;
    }
    rest = close > open + 1 && close[-1] == '*';
    n = 0;
    while (path[pre + n] != '\0' && (rest || path[pre + n] != '/')) {
        n++;
    }
    if (n == 0 || strcmp(path + pre + n, close + 1) != 0) {
        return REF_NO;
    }
    *poff = pre;
    *plen = n;
    return REF_YES;
}

/* Is method named in the comma-separated list? */
static bool
allow_has(const char *allow, const char *method)
{
    size_t mlen = strlen(method);
    const char *p = allow;

    while (*p) {
        size_t n = strcspn(p, ",");

        if (n == mlen && strncmp(p, method, n) == 0) {
            return true;
        }
        p += n;
        if (*p == ',') {
            p++;
            if (*p == ' ') {
                p++;
            }
        }
    }
    return false;
}

/* Every entry of allow is the method of a route on this path (allow
 * built by the matcher), with no repeats. */
static void
check_allow_entries(const char *allow, size_t allowlen, const char *method,
                    const char *path, enum http_host_scope scope)
{
    const char *p = allow;

    if (strnlen(allow, allowlen) >= allowlen) {
        fuzz_fail("allow is not NUL-terminated in its buffer", method, path);
    }
    while (*p) {
        size_t n = strcspn(p, ",");
        bool found = false;
        size_t i;

        for (i = 0; i < http_routes_count; i++) {
            const struct http_route *r = &http_routes[i];
            size_t off;
            size_t len;

            if (strlen(r->method) == n && strncmp(r->method, p, n) == 0 &&
                ref_scope_ok(r->host, scope) &&
                ref_path_match(r->pattern, path, &off, &len) != REF_NO) {
                found = true;
            }
        }
        if (!found) {
            fuzz_fail("allow names a method with no route on this path", method,
                      path);
        }
        p += n;
        if (*p == ',') {
            if (p[1] != ' ' || p[2] == '\0' || p[2] == ',') {
                fuzz_fail("allow is not a \", \" separated list", method, path);
            }
            p += 2;
        }
    }
}

static void
fuzz_route(const char *method, const char *path, enum http_host_scope scope,
           size_t small)
{
    char *allow = malloc(FUZZ_ALLOW_SERVER);
    char *allow2 = malloc(small);
    size_t idx = (size_t)-1;
    size_t idx2 = (size_t)-1;
    const char *param = (const char *)&idx; /* sentinels */
    const char *param2 = (const char *)&idx2;
    size_t plen = (size_t)-1;
    size_t plen2 = (size_t)-1;
    bool known = true;
    bool known2 = true;
    const struct http_route *r;
    const struct http_route *r2;
    const struct http_route *want = NULL;
    bool unknown = false;
    bool want_known = false;
    size_t want_off = 0;
    size_t want_len = 0;
    size_t plen_path = strlen(path);
    size_t i;

    if (allow == NULL || allow2 == NULL) {
        free(allow);
        free(allow2);
        return;
    }
    r = http_route_match(method, path, scope, &idx, &param, &plen, &known,
                         allow, FUZZ_ALLOW_SERVER);
    r2 = http_route_match(method, path, scope, &idx2, &param2, &plen2, &known2,
                          allow2, small);
    if (r != r2 || known != known2 ||
        (r && (idx != idx2 || param != param2 || plen != plen2))) {
        fuzz_fail("result depends on the Allow buffer size", method, path);
    }
    check_allow_entries(allow, FUZZ_ALLOW_SERVER, method, path, scope);
    check_allow_entries(allow2, small, method, path, scope);

    /* the reference: first fitting route in table order */
    for (i = 0; i < http_routes_count && want == NULL && !unknown; i++) {
        const struct http_route *t = &http_routes[i];
        size_t off;
        size_t len;
        enum ref_match m;

        if (!ref_scope_ok(t->host, scope)) {
            continue;
        }
        m = ref_path_match(t->pattern, path, &off, &len);
        if (m == REF_UNKNOWN) {
            unknown = true;
        } else if (m == REF_YES && ref_method_ok(t->method, method)) {
            want = t;
            want_off = off;
            want_len = len;
        } else if (m == REF_YES) {
            want_known = true;
        }
    }

    if (r != NULL) {
        size_t pre;
        const char *open;

        if (idx >= http_routes_count || r != &http_routes[idx]) {
            fuzz_fail("returned route is not http_routes[idx]", method, path);
        }
        if (!ref_method_ok(r->method, method)) {
            fuzz_fail("returned route has another method", method, path);
        }
        if (!ref_scope_ok(r->host, scope)) {
            fuzz_fail("returned route is not open to this host", method, path);
        }
        open = strchr(r->pattern, '{');
        if (open == NULL) {
            if (param != NULL || plen != 0 || strcmp(r->pattern, path) != 0) {
                fuzz_fail("literal route with a param or another path", method,
                          path);
            }
        } else {
            if (param == NULL || param < path || plen == 0 ||
                plen > plen_path || (size_t)(param - path) > plen_path - plen) {
                fuzz_fail("param does not lie within the path", method, path);
            }
            pre = (size_t)(open - r->pattern);
            if ((size_t)(param - path) != pre ||
                strncmp(r->pattern, path, pre) != 0) {
                fuzz_fail("param does not follow the pattern prefix", method,
                          path);
            }
            if (strchr(open, '*') == NULL && memchr(param, '/', plen)) {
                fuzz_fail("a one-segment param spans a '/'", method, path);
            }
        }
        if (!unknown &&
            (r != want || (param ? (size_t)(param - path) : 0) != want_off ||
             plen != want_len)) {
            fuzz_fail("matcher and reference disagree", method, path);
        }
    } else {
        if (idx != (size_t)-1 || param != (const char *)&idx ||
            plen != (size_t)-1) {
            fuzz_fail("out-parameters written on a miss", method, path);
        }
        if (!unknown && want != NULL) {
            fuzz_fail("a fitting route was not found", method, path);
        }
        if (!unknown && known != want_known) {
            fuzz_fail("path_known disagrees with the reference", method, path);
        }
        if (known != (allow[0] != '\0')) {
            fuzz_fail("path_known without Allow, or Allow without it", method,
                      path);
        }
        /* with the server's buffer every other method must be listed */
        for (i = 0; i < http_routes_count && known; i++) {
            const struct http_route *t = &http_routes[i];
            size_t off;
            size_t len;

            if (ref_scope_ok(t->host, scope) &&
                ref_path_match(t->pattern, path, &off, &len) == REF_YES &&
                !allow_has(allow, t->method)) {
                fuzz_fail("Allow misses a method of this path", method, path);
            }
        }
    }
    free(allow2);
    free(allow);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum http_host_scope scopes[] = {
        HTTP_HOST_PLATFORM,
        HTTP_HOST_TENANT,
        HTTP_HOST_ANY,
    };
    enum http_host_scope scope;
    size_t small;
    char *buf;
    char *sp;
    const char *method = "GET";
    const char *path;

    if (size < 1) {
        return 0;
    }
    scope = scopes[data[0] % 3];
    small = (size_t)(data[0] >> 2) % 24 + 1;
    buf = malloc(size); /* size - 1 bytes and a NUL */
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    path = buf;
    sp = strchr(buf, ' ');
    if (sp != NULL) {
        *sp = '\0';
        method = buf;
        path = sp + 1;
    }
    fuzz_route(method, path, scope, small);
    free(buf);
    return 0;
}
