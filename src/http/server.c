/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The HTTPS server and the request pipeline:
 *   first call   host -> tenant -> route -> size and type limits
 *   body calls   append to the capped body buffer
 *   last call    permission -> query whitelist -> body whitelist ->
 *                handler -> response with the security headers
 * The response is queued on the last call, never the first, so
 * libmicrohttpd keeps the connection alive (see DESIGN.md notes).
 */
#include "core/compat.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "authz/authz.h"
#include "http/assets.h"
#include "http/http_int.h"

/* TLS 1.3 and 1.2 only, ECDHE with AEAD only, X25519 first
 * (COMMITMENT D2). */
#define HTTP_TLS_PRIORITIES                                                    \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:"     \
    "+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:"     \
    "+ECDHE-RSA:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"   \
    "%SERVER_PRECEDENCE"

#define HTTP_RESP_MAX ((size_t)64 * 1024 * 1024)

/* Sent on every response (COMMITMENT B5, D2). */
static const char *const http_sec_headers[][2] = {
    {"Strict-Transport-Security", "max-age=31536000; includeSubDomains"},
    {"Content-Security-Policy",
     "default-src 'self'; frame-ancestors 'none'; object-src 'none'; "
     "base-uri 'none'; form-action 'self'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
};

static void
req_client_ip(struct http_req *req)
{
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa;

    req->client_ip[0] = '\0';
    ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL) {
        return;
    }
    sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET,
                  &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                  req->client_ip, sizeof(req->client_ip));
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6,
                  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  req->client_ip, sizeof(req->client_ip));
    }
}

struct header_walk {
    size_t bytes;
    unsigned hosts;
};

static enum MHD_Result
req_header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
              const char *value)
{
    struct header_walk *w = cls;

    (void)kind;
    w->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    if (strcasecmp(key, "Host") == 0) {
        w->hosts++;
    }
    return MHD_YES;
}

/* Resolve the tenant of a tenant host; unknown answers exactly like an
 * unknown path, so nobody can probe which tenants exist. */
static void
req_resolve_tenant(struct http_req *req, const char *label)
{
    const char *reason = NULL;
    enum cf_rc rc;
    int status;
    const char *code;
    const char *msg;

    if (tenant_slug_check(label, &reason) != CF_OK) {
        (void)http_fail(req, 404, "not_found", "no such resource");
        return;
    }
    rc = tenant_find(req->srv->app->control, label, &req->tenant);
    if (rc == CF_ENOTFOUND) {
        (void)http_fail(req, 404, "not_found", "no such resource");
        return;
    }
    if (rc != CF_OK) {
        http_rc_status(rc, &status, &code, &msg);
        (void)http_fail(req, status, code, "%s", msg);
        return;
    }
    req->has_tenant = true;
    cf_log_ctx_set(req->id, req->tenant.slug);
}

static void
req_begin(struct http_req *req)
{
    const struct cf_config *cfg = req->srv->app->cfg;
    struct header_walk hw = {0};
    const char *host;
    const char *clen;
    char label[TENANT_HOST_MAX + 1];
    enum http_host_scope scope;
    bool path_known = false;
    uint64_t n;

    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, req_header_cb, &hw);
    if (hw.bytes + strlen(req->path) > cfg->max_header_bytes) {
        (void)http_fail(req, 431, "header_too_large",
                        "request headers are larger than %zu bytes",
                        cfg->max_header_bytes);
        return;
    }
    host = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Host");
    if (hw.hosts != 1 || tenant_host_parse(host, cfg->base_domain,
                                           &req->host_kind, label) != CF_OK) {
        (void)http_fail(req, 400, "bad_host", "missing or malformed Host");
        return;
    }
    if (req->host_kind == TENANT_HOST_FOREIGN) {
        (void)http_fail(req, 421, "misdirected_request",
                        "this server does not serve that host");
        return;
    }
    if (req->host_kind == TENANT_HOST_TENANT) {
        req_resolve_tenant(req, label);
        if (req->err_status) {
            return;
        }
        scope = HTTP_HOST_TENANT;
    } else {
        scope = HTTP_HOST_PLATFORM;
    }
    req->route = http_route_match(req->method, req->path, scope,
                                  &req->route_idx, &req->param, &req->param_len,
                                  &path_known, req->allow, sizeof(req->allow));
    if (req->route == NULL) {
        if (path_known) {
            (void)http_fail(req, 405, "method_not_allowed",
                            "method not allowed here; allowed: %s", req->allow);
        } else {
            (void)http_fail(req, 404, "not_found", "no such resource");
        }
        return;
    }
    clen = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                       "Content-Length");
    if (clen != NULL && req->route->input->json_body &&
        (cf_parse_u64(clen, 0, UINT64_MAX, &n) != CF_OK ||
         n > cfg->max_body_bytes)) {
        (void)http_fail(req, 413, "payload_too_large",
                        "the body is larger than %zu bytes",
                        cfg->max_body_bytes);
    }
}

static bool
req_bearer_ok(struct http_req *req, const char *token)
{
    const char *auth;
    size_t tlen = strlen(token);

    auth = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                       "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
        return false;
    }
    auth += 7;
    return strlen(auth) == tlen && cx_equal(auth, token, tlen);
}

static bool
req_changes_state(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

/* A signed-in account; a cookie-authenticated state change must carry the
 * session's CSRF token and, when the browser sends one, a same-origin
 * Origin (COMMITMENT B5). */
static enum cf_rc
req_session(struct http_req *req, bool partial_ok)
{
    const char *csrf;
    const char *origin;
    const char *host;
    char want[TENANT_HOST_MAX + 16];
    enum cf_rc rc;
    int status;
    const char *code;
    const char *msg;

    rc = http_session_authenticate(req);
    if (rc == CF_EAUTH) {
        return http_fail(req, 401, "unauthorized", "sign in first");
    }
    if (rc != CF_OK) {
        http_rc_status(rc, &status, &code, &msg);
        return http_fail(req, status, code, "%s", msg);
    }
    if (!partial_ok && !req->session.mfa_ok) {
        return http_fail(req, 401, "mfa_required",
                         "enter the code of your authenticator first");
    }
    if (!req_changes_state(req->method)) {
        return CF_OK;
    }
    /* a session still owing its second factor has not been shown its
     * CSRF token (it may only take the TOTP step or log out): the
     * SameSite=Strict cookie and the Origin check below stand for it */
    csrf =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    if (req->session.mfa_ok &&
        (csrf == NULL || strlen(csrf) != AUTH_CSRF_LEN ||
         !cx_equal(csrf, req->session.csrf, AUTH_CSRF_LEN))) {
        return http_fail(req, 403, "csrf", "missing or wrong X-CSRF-Token");
    }
    origin = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Origin");
    host = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Host");
    if (origin != NULL) {
        snprintf(want, sizeof(want), "https://%s", host ? host : "");
        if (strcasecmp(origin, want) != 0) {
            return http_fail(req, 403, "csrf", "cross-origin request refused");
        }
    }
    return CF_OK;
}

/* The personal API token of an Authorization: Bearer header, or NULL
 * when the request carries none (it then relies on the cookie). */
static const char *
req_api_token(struct http_req *req)
{
    const char *auth = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                   "Authorization");

    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
        return NULL;
    }
    return auth + 7;
}

/* What the account must do before anything else: enrol in 2FA when the
 * tenant's policy requires it (COMMITMENT A12), change a password past
 * its maximum age (A8). Routes declare which of these they stay open to. */
static enum cf_rc
req_account_gates(struct http_req *req)
{
    const struct auth_session *s = &req->session;
    unsigned open = req->route->open;
    bool admin_route = (req->route->open & HTTP_ADMIN) != 0;
    const struct authz_perm *perm = NULL;
    bool need;

    if (admin_route && !s->admin_ip_ok) {
        http_admin_refused(req, "admin.ip_refused");
        return http_fail(req, 403, "ip_not_allowed",
                         "administration is not allowed from this address");
    }

    switch (s->mfa_policy) {
    case AUTH_MFA_OPTIONAL:
        need = false;
        break;
    case AUTH_MFA_ALL:
        need = true;
        break;
    case AUTH_MFA_ADMINS:
    default:
        /* owners and admins, and whoever holds a permission that
         * administers the tenant through a grant */
        if (admin_route) {
            perm = authz_perm_find(req->route->permission);
        }
        need = admin_route && (authz_role_privileged(s->role) ||
                               (perm != NULL && perm->admin));
        break;
    }
    if (need && !s->totp && !(open & HTTP_OPEN_MFA_ENROL)) {
        return http_fail(req, 403, "mfa_enrolment_required",
                         "turn on two-factor authentication first");
    }
    if (s->password_expired && !s->via_token && !(open & HTTP_OPEN_PW_CHANGE)) {
        return http_fail(req, 403, "password_expired",
                         "your password is too old: choose a new one");
    }
    return CF_OK;
}

/* A full session, or an API token (no CSRF: it is not sent by browsers
 * on their own). */
static enum cf_rc
req_principal(struct http_req *req)
{
    const char *token = req_api_token(req);
    enum cf_rc rc;

    if (token == NULL) {
        return req_session(req, false);
    }
    rc = http_token_authenticate(req, token);
    if (rc == CF_EAUTH) {
        return http_fail(req, 401, "unauthorized",
                         "unknown, revoked or expired token");
    }
    return rc;
}

/* The route's declared permission (COMMITMENT B3): PUBLIC, the
 * operator's metrics token, the account's own session, or a permission
 * of authz/'s catalogue held by the principal through its role or its
 * grants (and carried by its token), tenant-wide or, for routes decided
 * in a space, somewhere. Deny by default and on any failure. */
static enum cf_rc
req_authorize(struct http_req *req)
{
    const char *perm = req->route->permission;
    const char *token = req->srv->app->cfg->metrics_token;
    enum cf_rc rc;

    if (strcmp(perm, HTTP_PUBLIC) == 0) {
        return CF_OK;
    }
    if (strcmp(perm, HTTP_PERM_METRICS) == 0) {
        if (token[0] == '\0') {
            return http_fail(req, 404, "not_found", "no such resource");
        }
        if (!req_bearer_ok(req, token)) {
            return http_fail(req, 401, "unauthorized",
                             "a valid bearer token is required");
        }
        return CF_OK;
    }
    if (strcmp(perm, HTTP_PERM_SESSION) == 0 ||
        strcmp(perm, HTTP_PERM_SESSION_PARTIAL) == 0) {
        /* an account's own settings, tokens included, need the person */
        if (req_api_token(req) != NULL) {
            return http_fail(req, 403, "session_required",
                             "API tokens cannot be used here; sign in");
        }
        rc = req_session(req, strcmp(perm, HTTP_PERM_SESSION_PARTIAL) == 0);
        if (rc == CF_OK && req->session.mfa_ok) {
            rc = req_account_gates(req);
        }
        return rc;
    }
    rc = req_principal(req);
    if (rc != CF_OK) {
        return rc;
    }
    if (strcmp(perm, HTTP_PERM_PRINCIPAL) != 0) {
        const struct cf_ctx *who = http_ctx_who(req);

        rc = who == NULL ? CF_EPERM
                         : authz_check(who, perm,
                                       (req->route->open & HTTP_IN_SPACE)
                                           ? AUTHZ_ANY
                                           : AUTHZ_TENANT);
        if (rc == CF_EPERM) {
            return http_fail(req, 403, "forbidden",
                             "this needs the permission %s", perm);
        }
        if (rc != CF_OK) {
            return rc; /* fail closed */
        }
    }
    return req_account_gates(req);
}

static enum cf_rc
req_rate_limit(struct http_req *req, struct http_resp *resp)
{
    if (http_limiter_allow(req->srv->limiter, req->client_ip, req->route->rate,
                           cf_time_mono_ns(), &resp->retry_after)) {
        return CF_OK;
    }
    return http_fail(req, 429, "rate_limited",
                     "too many requests; retry in %u s", resp->retry_after);
}

/* COMMITMENT A5, COMMITMENT A6: a client whose credentials failed too often is
 * refused before they are even checked: every failed authentication
 * (a wrong cookie, token or metrics token: 401) costs a token of the
 * client's credential bucket, the one logins draw from, and a route
 * needing credentials is refused with 429 while that bucket is empty. */
static enum cf_rc
req_auth_limit(struct http_req *req, struct http_resp *resp)
{
    if (strcmp(req->route->permission, HTTP_PUBLIC) == 0 ||
        http_limiter_peek(req->srv->limiter, req->client_ip, HTTP_RATE_AUTH,
                          cf_time_mono_ns(), &resp->retry_after)) {
        return CF_OK;
    }
    return http_fail(req, 429, "rate_limited",
                     "too many failed sign-ins; retry in %u s",
                     resp->retry_after);
}

static void
req_auth_failed(struct http_req *req)
{
    unsigned retry = 0;

    if (req->err_status == 401) {
        (void)http_limiter_allow(req->srv->limiter, req->client_ip,
                                 HTTP_RATE_AUTH, cf_time_mono_ns(), &retry);
    }
}

static void
req_job_run(void *arg)
{
    struct http_req *req = arg;

    cf_log_ctx_set(req->id, req->has_tenant ? req->tenant.slug : NULL);
    req->job(req);
    cf_log_ctx_set(NULL, NULL);
    atomic_store(&req->deferred_done, true);
    MHD_resume_connection(req->conn);
}

enum cf_rc
http_defer(struct http_req *req, struct http_resp *resp, http_job_fn fn)
{
    enum cf_rc rc;

    if (CF_NEVER(req->deferred)) {
        return CF_ERR(CF_EINTERNAL);
    }
    req->job = fn;
    req->deferred = true;
    /* suspend before the job can possibly resume */
    MHD_suspend_connection(req->conn);
    rc = ops_workers_submit(req->srv->app->workers, req_job_run, req);
    if (rc != CF_OK) {
        MHD_resume_connection(req->conn);
        req->deferred = false;
        resp->retry_after = 1;
        return rc; /* CF_EBUSY: 503 with Retry-After (invariant 7) */
    }
    resp->suspended = true;
    return CF_OK;
}

static const struct http_asset *
resp_asset_find(const char *path)
{
    for (size_t i = 0; i < http_assets_count; i++) {
        if (strcmp(http_assets[i].path, path) == 0) {
            return &http_assets[i];
        }
    }
    return NULL;
}

/* The rank of the media range r[0..len) for type/sub: 3 when it names
 * it, 2 for the type with any subtype, 1 for any type, 0 no match. */
static int
accept_rank(const char *r, size_t len, const char *type, const char *sub)
{
    size_t tlen = strlen(type);
    size_t slen = strlen(sub);

    while (len > 0 && (*r == ' ' || *r == '\t')) {
        r++;
        len--;
    }
    while (len > 0 && (r[len - 1] == ' ' || r[len - 1] == '\t')) {
        len--;
    }
    if (len == 3 && memcmp(r, "*/*", 3) == 0) {
        return 1;
    }
    if (len <= tlen || strncasecmp(r, type, tlen) != 0 || r[tlen] != '/') {
        return 0;
    }
    if (len == tlen + 2 && r[tlen + 1] == '*') {
        return 2;
    }
    return len == tlen + 1 + slen && strncasecmp(r + tlen + 1, sub, slen) == 0
               ? 3
               : 0;
}

/* The q parameter among the parameters p[0..len) of a range (";a=b;q=0.8"),
 * in thousandths: 1000 without one, 0 when it is malformed. */
static unsigned
accept_q(const char *p, size_t len)
{
    const char *end = p + len;
    unsigned q;
    unsigned scale = 1000;

    while (p < end) {
        p++; /* the ';' */
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            break;
        }
        while (p < end && *p != ';') {
            p++;
        }
    }
    if (p >= end) {
        return 1000;
    }
    p += 2;
    if (p >= end || (*p != '0' && *p != '1')) {
        return 0;
    }
    q = *p == '1' ? 1000 : 0;
    p++;
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9' && scale > 1; p++) {
            scale /= 10;
            q += (unsigned)(*p - '0') * scale;
        }
    }
    return q > 1000 ? 0 : q;
}

/* The quality (0..1000) an Accept header gives type/sub: the q of the
 * most specific range matching it, 0 when none does (RFC 9110 12.5.1). */
static unsigned
accept_quality(const char *accept, const char *type, const char *sub)
{
    unsigned best_q = 0;
    int best_rank = 0;

    while (*accept != '\0') {
        size_t len = strcspn(accept, ",");
        size_t range = strcspn(accept, ";,");
        int rank = accept_rank(accept, range, type, sub);

        if (rank > best_rank) {
            best_rank = rank;
            best_q = accept_q(accept + range, len - range);
        }
        accept += len + (accept[len] == ',' ? 1 : 0);
    }
    return best_q;
}

static bool
req_is_get(const struct http_req *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

/* A browser asking for a page (GET or HEAD outside /api/, Accept
 * preferring text/html to JSON) gets its errors as a page. */
static bool
req_wants_page(const struct http_req *req)
{
    const char *accept = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_ACCEPT);
    unsigned html;

    if (!req_is_get(req) || strncmp(req->path, "/api/", 5) == 0 ||
        strcmp(req->path, "/api") == 0 || accept == NULL) {
        return false;
    }
    html = accept_quality(accept, "text", "html");
    return html > 0 && html > accept_quality(accept, "application", "json");
}

/* A 404 for a browser is the page "not found", in the site's layout: the
 * same bytes whatever caused it (an unknown path or an unknown tenant),
 * so the answer still tells nothing. A tenant host nobody holds serves
 * the public assets, as every host does, so that page is styled and
 * translated there too. Returns true when resp was filled. */
static bool
resp_not_found_page(const struct http_req *req, struct http_resp *resp)
{
    const struct http_asset *a = NULL;

    if (req->err_status != 404) {
        return false;
    }
    if (req_is_get(req) && req->host_kind == TENANT_HOST_TENANT &&
        !req->has_tenant && strncmp(req->path, "/assets/", 8) == 0) {
        a = resp_asset_find(req->path);
        resp->status = 200;
    }
    if (a == NULL && req_wants_page(req)) {
        a = resp_asset_find("/notfound.html");
        resp->status = 404;
    }
    if (a == NULL) {
        return false;
    }
    resp->static_body = a->data;
    resp->static_len = a->len;
    resp->type = a->type;
    return true;
}

static enum cf_rc
resp_error_body(struct http_req *req, struct http_resp *resp)
{
    enum cf_rc rc;

    cf_buf_reset(&resp->body);
    resp->static_body = NULL;
    if (resp_not_found_page(req, resp)) {
        return CF_OK;
    }
    resp->status = req->err_status;
    resp->type = "application/json";
    rc = cf_buf_adds(&resp->body, "{\"error\":{\"code\":");
    if (rc == CF_OK) {
        rc = cf_buf_add_json_str(&resp->body, req->err_code);
    }
    if (rc == CF_OK) {
        rc = cf_buf_adds(&resp->body, ",\"message\":");
    }
    if (rc == CF_OK) {
        rc = cf_buf_add_json_str(&resp->body, req->err_msg);
    }
    if (rc == CF_OK) {
        rc = cf_buf_adds(&resp->body, "}}");
    }
    return rc;
}

static void
resp_run(struct http_req *req, struct http_resp *resp)
{
    const char *ctype;
    enum cf_rc rc = CF_OK;
    int status;
    const char *code;
    const char *msg;

    if (req->err_status == 0) {
        /* one borrow of the tenant's database from the session to the
         * answer (db_pool_hold) */
        if (req->has_tenant) {
            db_pool_hold(req->srv->app->pool, req->tenant.id);
        }
        /* a request resumed after deferred work was checked already */
        if (!req->deferred) {
            rc = req_auth_limit(req, resp);
        }
        if (rc == CF_OK && !req->deferred) {
            rc = req_authorize(req);
            req_auth_failed(req);
        }
        if (rc == CF_OK && !req->deferred) {
            rc = req_rate_limit(req, resp);
        }
        if (rc == CF_OK && !req->deferred) {
            rc = http_input_check_query(req);
        }
        if (rc == CF_OK && !req->deferred) {
            ctype = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                "Content-Type");
            rc = http_input_check_body(req, ctype);
        }
        if (rc == CF_OK) {
            rc = req->route->handler(req, resp);
        }
        /* a route declaring a step-up whose handler answered without
         * asking for it is a bug: nothing of its answer leaves */
        if (rc == CF_OK && !resp->suspended &&
            (req->route->open & HTTP_STEP_UP) && CF_NEVER(!req->stepped_up)) {
            rc = CF_ERR(CF_EINTERNAL);
        }
        if (rc != CF_OK && req->err_status == 0 && req->why != NULL) {
            /* the domain named its reason: the one table says how it
             * reads */
            rc = http_refuse(req, rc, req->why);
        }
        if (rc != CF_OK && req->err_status == 0) {
            http_rc_status(rc, &status, &code, &msg);
            if (status >= 500) {
                cf_log_error_rc(rc, "request failed", "route",
                                req->route->pattern);
            }
            (void)http_fail(req, status, code, "%s", msg);
        }
        db_pool_unhold(req->srv->app->pool);
    }
    if (req->err_status != 0 && resp_error_body(req, resp) != CF_OK) {
        /* out of memory building an error: a fixed body */
        resp->status = 503;
        resp->static_body = "{\"error\":{\"code\":\"unavailable\","
                            "\"message\":\"the server is busy\"}}";
        resp->static_len = strlen(resp->static_body);
    }
}

static void
resp_headers(struct http_req *req, struct http_resp *resp,
             struct MHD_Response *r)
{
    size_t i;
    char num[16];
    bool asset = req->route != NULL && req->err_status == 0 &&
                 req->route->handler == http_h_asset;

    for (i = 0; i < CF_ARRAY_LEN(http_sec_headers); i++) {
        MHD_add_response_header(r, http_sec_headers[i][0],
                                http_sec_headers[i][1]);
    }
    MHD_add_response_header(r, "Cache-Control",
                            asset ? "no-cache" : "no-store");
    MHD_add_response_header(r, "X-Request-Id", req->id);
    if (resp->type != NULL) {
        MHD_add_response_header(r, "Content-Type", resp->type);
    }
    if (resp->status == 405 && req->allow[0]) {
        MHD_add_response_header(r, "Allow", req->allow);
    }
    if (resp->status == 401) {
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    }
    if (resp->status == 503 || resp->status == 429) {
        snprintf(num, sizeof(num), "%u",
                 resp->retry_after ? resp->retry_after : 1);
        MHD_add_response_header(r, "Retry-After", num);
    }
    if (resp->location != NULL) {
        MHD_add_response_header(r, "Location", resp->location);
    }
    if (resp->cookie[0] != '\0') {
        MHD_add_response_header(r, "Set-Cookie", resp->cookie);
    }
}

static void
resp_free_cb(void *p)
{
    cf_free(p);
}

static enum MHD_Result
req_finish(struct http_req *req)
{
    struct http_resp resp = {.status = 200};
    struct MHD_Response *r = NULL;
    enum MHD_Result ret;
    char *data = NULL;
    size_t len = 0;
    double secs;
    struct cf_log_request lr;

    cf_buf_init(&resp.body, HTTP_RESP_MAX);
    resp_run(req, &resp);
    if (resp.suspended) {
        /* the handler's work runs in the worker pool; it resumes the
         * connection and the handler is called again to answer */
        cf_buf_release(&resp.body);
        cf_log_ctx_set(NULL, NULL);
        return MHD_YES;
    }
    if (resp.static_body != NULL) {
        r = MHD_create_response_from_buffer(resp.static_len,
                                            (void *)(uintptr_t)resp.static_body,
                                            MHD_RESPMEM_PERSISTENT);
    } else if (cf_buf_detach(&resp.body, &data, &len) == CF_OK) {
        r = MHD_create_response_from_buffer_with_free_callback(len, data,
                                                               resp_free_cb);
        if (r == NULL) {
            cf_free(data);
        }
    }
    cf_buf_release(&resp.body);
    if (r == NULL) {
        return MHD_NO; /* out of memory: drop the connection */
    }
    resp_headers(req, &resp, r);
    ret = MHD_queue_response(req->conn, (unsigned)resp.status, r);
    MHD_destroy_response(r);

    secs = (double)(cf_time_mono_ns() - req->t0) / 1e9;
    ops_metrics_observe(req->srv->metrics,
                        req->route ? req->route_idx : http_routes_count,
                        resp.status, secs);
    lr = (struct cf_log_request){
        .request_id = req->id,
        .tenant = req->has_tenant ? req->tenant.slug : NULL,
        .method = req->method,
        .route = req->route ? req->route->pattern : "unmatched",
        .status = resp.status,
        .duration_ms = secs * 1e3,
        .client_ip = req->client_ip,
    };
    cf_log_request(&lr);
    cf_log_ctx_set(NULL, NULL);
    return ret;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url,
            const char *method, const char *version, const char *upload,
            size_t *upload_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct http_req *req = *con_cls;

    (void)version;
    if (req == NULL) {
        req = cf_calloc(1, sizeof(*req));
        if (req == NULL) {
            return MHD_NO;
        }
        atomic_fetch_add(&srv->inflight, 1);
        *con_cls = req;
        req->srv = srv;
        req->conn = conn;
        req->method = method;
        req->path = url;
        req->t0 = cf_time_mono_ns();
        cf_buf_init(&req->body, srv->app->cfg->max_body_bytes);
        if (cf_id_hex(req->id, HTTP_REQUEST_ID_LEN / 2) != CF_OK) {
            return MHD_NO;
        }
        cf_log_ctx_set(req->id, NULL);
        req_client_ip(req);
        req_begin(req);
        if (req->err_status == 413) {
            return req_finish(req); /* do not read a body we refuse */
        }
        cf_log_ctx_set(NULL, NULL);
        return MHD_YES;
    }
    cf_log_ctx_set(req->id, req->has_tenant ? req->tenant.slug : NULL);
    if (*upload_size > 0) {
        if (req->err_status == 0 && req->route->input->json_body &&
            cf_buf_add(&req->body, upload, *upload_size) != CF_OK) {
            (void)http_fail(req, 413, "payload_too_large",
                            "the body is larger than %zu bytes",
                            srv->app->cfg->max_body_bytes);
        }
        *upload_size = 0;
        cf_log_ctx_set(NULL, NULL);
        return MHD_YES;
    }
    return req_finish(req);
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
               enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct http_req *req = *con_cls;

    (void)conn;
    (void)toe;
    if (req == NULL) {
        return;
    }
    cf_buf_release(&req->body);
    json_decref(req->json);
    http_ctx_release(req);
    cf_free(req->job_state);
    cf_memzero(&req->session, sizeof(req->session));
    cf_free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
    CF_PRINTF(2, 0);

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    cf_log_debug("http library", "detail", msg);
}

enum cf_rc
http_parse_listen(const char *spec, struct sockaddr_storage *addr,
                  unsigned *port_out)
{
    char host[CF_CONF_STR];
    const char *colon = strrchr(spec, ':');
    size_t hlen;
    uint64_t port;

    if (colon == NULL || colon == spec) {
        return CF_ERR(CF_EINVAL);
    }
    hlen = (size_t)(colon - spec);
    if (hlen >= sizeof(host) ||
        cf_parse_u64(colon + 1, 1, 65535, &port) != CF_OK) {
        return CF_ERR(CF_EINVAL);
    }
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    memset(addr, 0, sizeof(*addr));
    if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)addr;

        host[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) {
            return CF_ERR(CF_EINVAL);
        }
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)addr;

        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
            return CF_ERR(CF_EINVAL);
        }
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
    }
    *port_out = (unsigned)port;
    return CF_OK;
}

static enum cf_rc
http_read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "re");
    struct cf_buf b;
    char chunk[4096];
    size_t n;
    enum cf_rc rc = CF_OK;

    if (f == NULL) {
        return CF_ERR(CF_EIO);
    }
    cf_buf_init(&b, (size_t)1024 * 1024);
    while (rc == CF_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = cf_buf_add(&b, chunk, n);
    }
    cf_memzero(chunk, sizeof(chunk));
    if (rc == CF_OK && ferror(f)) {
        rc = CF_ERR(CF_EIO);
    }
    fclose(f);
    if (rc == CF_OK) {
        rc = cf_buf_detach(&b, out, NULL);
    }
    cf_buf_release(&b);
    return rc;
}

unsigned
http_daemon_flags(void)
{
    /* TURBO: no shutdown() before close, optimistic reads (measured in
     * bench/RESULTS.md); no Date header: nothing here needs it and it
     * costs a clock read and a format per response. */
    return MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
           MHD_USE_TURBO | MHD_USE_SUPPRESS_DATE_NO_CLOCK |
           MHD_ALLOW_SUSPEND_RESUME;
}

/* jansson's memory may hold request passwords: wipe every block it frees
 * (invariant 5). cf_malloc() hands out malloc's own blocks, so
 * malloc_usable_size covers the whole block; through cf_ the test hook
 * can fail jansson's allocations too. */
static void *
http_json_malloc(size_t n)
{
    return cf_malloc(n);
}

static void
http_json_free(void *p)
{
    if (p != NULL) {
        explicit_bzero(p, malloc_usable_size(p));
        cf_free(p);
    }
}

enum cf_rc
http_server_start(struct http_app *app, const char *cert_path,
                  const char *key_path, char *err, size_t errlen,
                  struct http_server **out)
{
    struct http_server *srv = NULL;
    struct sockaddr_storage addr;
    const struct cf_config *cfg = app->cfg;
    enum cf_rc rc = CF_EINTERNAL;
    size_t mem_limit;
    size_t i;

    json_set_alloc_funcs(http_json_malloc, http_json_free);
    srv = cf_calloc(1, sizeof(*srv));
    if (srv == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    srv->app = app;
    rc = http_parse_listen(cfg->listen, &addr, &srv->https_port);
    if (rc != CF_OK) {
        snprintf(err, errlen, "listen address '%s' is not HOST:PORT",
                 cfg->listen);
        goto out;
    }
    rc = http_read_file(cert_path, &srv->cert_pem);
    if (rc == CF_OK) {
        rc = http_read_file(key_path, &srv->key_pem);
    }
    if (rc != CF_OK) {
        snprintf(err, errlen, "cannot read certificate %s or key %s", cert_path,
                 key_path);
        goto out;
    }
    srv->route_names = cf_calloc(http_routes_count, sizeof(char *));
    srv->route_methods = cf_calloc(http_routes_count, sizeof(char *));
    if (srv->route_names == NULL || srv->route_methods == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    for (i = 0; i < http_routes_count; i++) {
        srv->route_names[i] = http_routes[i].pattern;
        srv->route_methods[i] = http_routes[i].method;
    }
    rc = ops_metrics_new(http_routes_count, srv->route_names,
                         srv->route_methods, &srv->metrics);
    if (rc != CF_OK) {
        goto out;
    }
    auth_config_from(cfg, &srv->auth_cfg);
    rc = auth_ipban_new(4096, &srv->ipban);
    if (rc != CF_OK) {
        goto out;
    }
    rc = http_limiter_new(4096, cfg, &srv->limiter);
    if (rc != CF_OK) {
        goto out;
    }
    rc = http_openapi_build(COFFRE_VERSION, &srv->openapi, &srv->openapi_len);
    if (rc != CF_OK) {
        goto out;
    }
    /* libmicrohttpd keeps the request line and headers in this pool and
     * zeroes it between requests of a connection, so it is kept small;
     * our own check gives the clear 431 for max_header_bytes. */
    mem_limit = cfg->max_header_bytes + 4096; /* zeroed per request */
    srv->daemon = MHD_start_daemon(
        http_daemon_flags() | MHD_USE_TLS, 0, NULL, NULL, http_access, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
        srv->key_pem, MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES,
        MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem_limit,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
        MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, srv, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        snprintf(err, errlen,
                 "cannot listen on %s (address in use, or the certificate "
                 "and key do not match)",
                 cfg->listen);
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    if (cfg->http_listen[0] != '\0') {
        rc = http_redirect_start(srv, err, errlen);
        if (rc != CF_OK) {
            goto out;
        }
    }
    *out = srv;
    srv = NULL; /* transferred */
    rc = CF_OK;
out:
    if (srv != NULL) {
        http_server_stop(srv, 0);
    }
    return rc;
}

void
http_server_stop(struct http_server *srv, unsigned wait_ms)
{
    unsigned waited = 0;

    if (srv == NULL) {
        return;
    }
    if (srv->daemon != NULL) {
        /* the listen socket is ours once quiesced, but MHD's threads may
         * still have it in their epoll set: close it only after the
         * daemon stopped (closing it first made MHD abort now and then) */
        MHD_socket s = MHD_quiesce_daemon(srv->daemon);

        while (atomic_load(&srv->inflight) > 0 && waited < wait_ms) {
            usleep(10 * 1000);
            waited += 10;
        }
        if (atomic_load(&srv->inflight) > 0) {
            cf_log_warn("stopping with requests in flight");
        }
        MHD_stop_daemon(srv->daemon);
        if (s != MHD_INVALID_SOCKET) {
            close(s);
        }
    }
    if (srv->redirect != NULL) {
        MHD_stop_daemon(srv->redirect);
    }
    ops_metrics_free(srv->metrics);
    http_limiter_free(srv->limiter);
    auth_ipban_free(srv->ipban);
    cf_free(srv->route_names);
    cf_free(srv->route_methods);
    free(srv->openapi); /* jansson's allocator */
    if (srv->key_pem != NULL) {
        cf_memzero(srv->key_pem, strlen(srv->key_pem));
    }
    cf_free(srv->key_pem);
    cf_free(srv->cert_pem);
    cf_free(srv);
}
