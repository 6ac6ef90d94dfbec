/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Private to http/: the route table types, the request and response of
 * the pipeline, and the helpers the handlers share. No other module
 * includes this file.
 */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <jansson.h>
#include <stdatomic.h>
#include <microhttpd.h>

#include "auth/auth.h"
#include "authz/authz.h"
#include "docs/docs.h"
#include "http/http.h"
#include "tenant/tenant.h"

/* The explicit permission of routes anyone may call. */
#define HTTP_PUBLIC "PUBLIC"
/* The operator's metrics token (bearer token from coffre.conf). */
#define HTTP_PERM_METRICS "ops.metrics"
/* Any signed-in account of the tenant (session cookie; CSRF checked on
 * state-changing methods). Roles and permissions refine this later. */
#define HTTP_PERM_SESSION "session"
/* A session that may still owe its second factor: only the TOTP step and
 * logout accept it. */
#define HTTP_PERM_SESSION_PARTIAL "session.partial"
/* A full session or a personal API token (Authorization: Bearer
 * coffre_pat_...). Every other permission is a name of authz/'s
 * catalogue: the principal's role must hold it, and a token carry it. */
#define HTTP_PERM_PRINCIPAL "principal"

#define HTTP_REQUEST_ID_LEN 32
#define HTTP_ERR_MSG_MAX 200

enum http_host_scope {
    HTTP_HOST_PLATFORM = 1, /* bare base domain only */
    HTTP_HOST_TENANT,       /* a tenant host only */
    HTTP_HOST_ANY,
};

enum http_type {
    HTTP_T_STRING = 1,
    HTTP_T_INT,
    HTTP_T_BOOL,
    HTTP_T_STRINGS, /* JSON bodies only: an array of at most max strings,
                       each of at most HTTP_STRINGS_ITEM_MAX characters */
};
#define HTTP_STRINGS_ITEM_MAX 64

/* One allowed query parameter or JSON field. */
struct http_field {
    const char *name;
    enum http_type type;
    size_t max; /* strings: characters; ints: largest value */
    bool required;
    const char *doc;
};

/*
 * The smallest value of an integer field when it is above 0. The whitelist
 * checks 0 to max only; below min the handler or the domain refuses with
 * a code of its own (invalid_setting, bad_request). Declared here so the
 * OpenAPI document publishes the range the server accepts.
 */
struct http_min {
    const char *name; /* an HTTP_T_INT field of the same input */
    size_t min;
};

/* The input whitelist of a route: anything not listed is refused. */
struct http_input {
    const struct http_field *query;
    size_t nquery;
    const struct http_field *body; /* JSON object fields */
    size_t nbody;
    bool json_body; /* the route takes an application/json object */
    const struct http_min *mins; /* query or body integers above 0 */
    size_t nmins;
};

/* The statically empty whitelist: no query parameter, no body. */
extern const struct http_input http_input_none;

enum http_rate {
    HTTP_RATE_PROBE = 1, /* health probes, never limited */
    HTTP_RATE_READ,
    HTTP_RATE_WRITE,
    HTTP_RATE_AUTH,
};

struct http_req;
struct http_resp;
typedef enum cf_rc (*http_handler_fn)(struct http_req *req,
                                      struct http_resp *resp);

/* Route flags: still open to an account with something to do first;
 * a permission decided in a space. */
enum http_open {
    HTTP_OPEN_MFA_ENROL = 1u << 0, /* 2FA required, not enrolled (A12) */
    HTTP_OPEN_PW_CHANGE = 1u << 1, /* password past its maximum age (A8) */
    HTTP_OPEN_ALL = HTTP_OPEN_MFA_ENROL | HTTP_OPEN_PW_CHANGE,
    /* the gate wants the permission tenant-wide or in some space; the
     * handler decides for the space of the path (authz_check) */
    HTTP_IN_SPACE = 1u << 2,
    /* administration (COMMITMENT A12): the tenant's address allow-list
     * and the 2FA gate apply; every /api/v1/admin/ route and only those
     * (http_routes_check) */
    HTTP_ADMIN = 1u << 3,
    /* needs a proof of identity within AUTH_STEP_UP_S: the handler asks
     * http_require_step_up() once the request is well formed, and only
     * a route declaring it may (the pipeline checks both ways) */
    HTTP_STEP_UP = 1u << 4,
};

struct http_route {
    const char *method;
    const char *pattern; /* "/a/b", "/a/{id}", "/assets/{path*}" */
    enum http_host_scope host;
    http_handler_fn handler;
    const char *permission; /* HTTP_PUBLIC or a permission name */
    const struct http_input *input;
    enum http_rate rate;
    const char *summary; /* one line for the OpenAPI document */
    /* enum http_open bits: still open to an account that must first
     * enrol in 2FA or change an expired password; HTTP_IN_SPACE */
    unsigned open;
};

extern const struct http_route http_routes[];
extern const size_t http_routes_count;

/* Match method and path among routes open to scope. On a match *idx is
 * set and *param points into path at the {x}/{x*} value (or NULL).
 * Returns NULL when none matches; *path_known is then true if the path
 * matched with another method (405), and allow lists those methods. */
const struct http_route *http_route_match(const char *method, const char *path,
                                          enum http_host_scope scope,
                                          size_t *idx, const char **param,
                                          size_t *param_len, bool *path_known,
                                          char *allow, size_t allowlen);

/* Per-client token buckets by rate class (ratelimit.c). */
struct http_limiter;
/* Limits per class from cfg's [limits] (read once). */
CF_MUST_CHECK enum cf_rc http_limiter_new(size_t nsets,
                                          const struct cf_config *cfg,
                                          struct http_limiter **out);
void http_limiter_free(struct http_limiter *l);
/* Take one token for client in class rate at now_ns; false when limited,
 * with *retry_after the seconds until a token is back. Any thread. */
bool http_limiter_allow(struct http_limiter *l, const char *client,
                        enum http_rate rate, uint64_t now_ns,
                        unsigned *retry_after);
/* Would http_limiter_allow() allow one now? Takes nothing. */
bool http_limiter_peek(struct http_limiter *l, const char *client,
                       enum http_rate rate, uint64_t now_ns,
                       unsigned *retry_after);

struct http_server {
    struct http_app *app;
    struct MHD_Daemon *daemon;
    struct MHD_Daemon *redirect;
    struct ops_metrics *metrics;
    struct http_limiter *limiter;
    const char **route_names; /* borrowed by metrics */
    const char **route_methods;
    char *openapi; /* generated once at start */
    size_t openapi_len;
    unsigned https_port;
    char *cert_pem;
    char *key_pem;
    _Atomic unsigned inflight; /* requests begun and not completed */
    struct auth_config auth_cfg;
    struct auth_ipban *ipban;
};

struct http_req {
    struct http_server *srv;
    struct MHD_Connection *conn;
    char id[HTTP_REQUEST_ID_LEN + 1];
    uint64_t t0;
    const char *method; /* borrowed from MHD for the request's life */
    const char *path;
    const struct http_route *route;
    size_t route_idx;
    const char *param; /* into path */
    size_t param_len;
    enum tenant_host_kind host_kind;
    bool has_tenant;
    struct tenant tenant;
    char tenant_url[400]; /* https://SLUG.BASE:PORT, for links in mail */
    struct cf_buf body;
    json_t *json;
    /* an error found before the handler runs */
    int err_status;
    const char *err_code;
    char err_msg[HTTP_ERR_MSG_MAX];
    char allow[64];
    char client_ip[64];
    bool has_session;
    struct auth_session session; /* when has_session */
    bool stepped_up;             /* http_require_step_up() passed */
    /* the reason a domain call gave for refusing (req->ctx.why points
     * here); the pipeline answers with it (http_refuse) */
    const char *why;
    /* The request context (http_ctx(), context.c): built once, on first
     * use, and handed to every domain call; who acts is added once the
     * principal is known. The keyset is released when the request ends. */
    bool ctx_ready; /* all but the keys and who acts */
    bool ctx_actor; /* who acts filled */
    struct cx_keyset *keys;
    struct cf_ctx ctx;
    char principal[48]; /* "user:<row>" or "token:<id>" */
    /* deferred work (http_defer) */
    bool deferred;
    _Atomic bool deferred_done;
    void (*job)(struct http_req *req);
    void *job_state; /* the handler's, freed by it */
};

struct http_resp {
    int status;
    const char *type;
    struct cf_buf body;
    /* a body that outlives the request (embedded assets, openapi) */
    const void *static_body;
    size_t static_len;
    const char *location;
    unsigned retry_after;
    bool suspended;   /* set by http_defer(): no response yet */
    char cookie[160]; /* a Set-Cookie value, or empty */
};

/*
 * Run fn(req) on a worker thread (invariant 7: Argon2id, zxcvbn, scans,
 * exports never run on an HTTP thread). The connection is suspended until
 * fn returns; then the route's handler is called again with
 * req->deferred_done set and answers from req->job_state. A full pool:
 * CF_EBUSY (503 with Retry-After), nothing queued. Call once per request.
 */
typedef void (*http_job_fn)(struct http_req *req);
CF_MUST_CHECK enum cf_rc http_defer(struct http_req *req,
                                    struct http_resp *resp, http_job_fn fn);

/* Set an error response: status, code, printf message (no user secrets;
 * names of fields and parameters only). Returns the rc to hand back from
 * a handler so the pipeline stops. */
enum cf_rc http_fail(struct http_req *req, int status, const char *code,
                     const char *fmt, ...) CF_PRINTF(4, 5);
/* Map a domain result to status and code. */
void http_rc_status(enum cf_rc rc, int *status, const char **code,
                    const char **message);
/* Answer the refusal rc of a domain call by its reason why (a code of the
 * contract) through the one table of reasons: its status, code and
 * sentence. rc itself when rc is CF_OK, CF_ENOTFOUND (not found reads the
 * same whatever the reason) or why is NULL; CF_EINTERNAL, logged, for a
 * reason the table lacks. */
CF_MUST_CHECK enum cf_rc http_refuse(struct http_req *req, enum cf_rc rc,
                                     const char *why);

/* Response helpers for handlers. */
CF_MUST_CHECK enum cf_rc http_resp_json(struct http_resp *resp, int status,
                                        json_t *doc);

/* http_resp_json() of doc, which it releases; NULL: out of memory. */
CF_MUST_CHECK enum cf_rc http_answer(struct http_resp *resp, int status,
                                     json_t *doc);

/*
 * A JSON answer written straight into resp->body, without a jansson tree
 * (the signed-in pages every client polls: GET /api/v1/me, the spaces).
 * The caller writes the punctuation and keys itself with http_jw_raw()
 * and the values with the others; strings are escaped by
 * cf_buf_add_json_str() (the caller passes UTF-8). Once a call fails
 * (out of memory, past HTTP_RESP_MAX) the others do nothing and
 * http_jw_end() returns that failure, which the pipeline answers with an
 * error body in place of the half-written one. Otherwise http_jw_end()
 * sets the status and the Content-Type, as http_resp_json() does.
 */
#define HTTP_JW_ROOM 2000 /* bytes made room for by http_jw_begin() */

struct http_jw {
    struct http_resp *resp; /* borrowed */
    enum cf_rc rc;          /* the first failure */
};

/* Start an answer in resp (borrowed until http_jw_end), emptying its
 * body. */
void http_jw_begin(struct http_jw *w, struct http_resp *resp);
/* Append text as it is: punctuation and keys, e.g. ",\"email\":". */
void http_jw_raw(struct http_jw *w, const char *text);
/* Append s as a JSON string, escaped; NULL appends null. */
void http_jw_str(struct http_jw *w, const char *s);
void http_jw_bool(struct http_jw *w, bool v);
/* Append the time t (Unix seconds) as an RFC 3339 string. */
void http_jw_time(struct http_jw *w, int64_t t);
/* Append the names of a permission set (authz_mask) as a JSON array, in
 * catalogue order: what http_mask_json() makes, without the tree. */
void http_jw_mask(struct http_jw *w, uint32_t mask);
/* CF_OK with resp's status and type set, or the first failure. */
CF_MUST_CHECK enum cf_rc http_jw_end(struct http_jw *w, int status);

/* Input checks: query parameters, Content-Type and the JSON body. */
CF_MUST_CHECK enum cf_rc http_input_check_query(struct http_req *req);
CF_MUST_CHECK enum cf_rc http_input_check_body(struct http_req *req,
                                               const char *content_type);
/* The JSON whitelist validator alone (fuzzed): parse data and check it
 * against input; on failure fill code and msg. *out is caller-owned. */
CF_MUST_CHECK enum cf_rc http_json_validate(const struct http_input *input,
                                            const char *data, size_t len,
                                            const char **code, char *msg,
                                            size_t msglen, json_t **out);

/* The OpenAPI 3.1 document of the route table (caller frees). */
CF_MUST_CHECK enum cf_rc http_openapi_build(const char *version, char **out,
                                            size_t *len);

/* The plain-HTTP listener on cfg->http_listen: 301 to https only. */
CF_MUST_CHECK enum cf_rc http_redirect_start(struct http_server *srv, char *err,
                                             size_t errlen);
/* Parse "HOST:PORT" (IPv4 or [IPv6]) into addr and port. */
struct sockaddr_storage;
CF_MUST_CHECK enum cf_rc http_parse_listen(const char *spec,
                                           struct sockaddr_storage *addr,
                                           unsigned *port_out);
unsigned http_daemon_flags(void);

/* Handlers. */
enum cf_rc http_h_healthz(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_readyz(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_metrics(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_openapi(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_slug_check(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_tenant_home(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_login_page(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_platform_home(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_asset(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_pw_strength(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_auth_setup(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_auth_login(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_auth_logout(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_auth_reset(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_permissions(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_me_tokens(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_me_token_create(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_me_token_delete(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_admin_logins(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_admin_unlock(struct http_req *req, struct http_resp *resp);
/* handlers_authz.c: roles, groups, grants, spaces (COMMITMENT B1) */
enum cf_rc http_h_admin_roles(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_admin_role_create(struct http_req *req,
                                    struct http_resp *resp);
enum cf_rc http_h_admin_role_patch(struct http_req *req,
                                   struct http_resp *resp);
enum cf_rc http_h_admin_role_delete(struct http_req *req,
                                    struct http_resp *resp);
enum cf_rc http_h_admin_groups(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_admin_group_create(struct http_req *req,
                                     struct http_resp *resp);
enum cf_rc http_h_admin_group_patch(struct http_req *req,
                                    struct http_resp *resp);
enum cf_rc http_h_admin_group_delete(struct http_req *req,
                                     struct http_resp *resp);
enum cf_rc http_h_admin_grants(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_admin_grant_create(struct http_req *req,
                                     struct http_resp *resp);
enum cf_rc http_h_admin_grant_delete(struct http_req *req,
                                     struct http_resp *resp);
enum cf_rc http_h_spaces(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_space_create(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_space_get(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_space_patch(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_space_delete(struct http_req *req, struct http_resp *resp);
/* The words of a space-separated list (ids, permission names) as a JSON
 * array; NULL when out of memory. */
json_t *http_words_json(const char *list);
/* The names of a permission set (authz_mask), in catalogue order. */
json_t *http_mask_json(uint32_t mask);
enum cf_rc http_h_admin_users(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_admin_settings(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_admin_settings_patch(struct http_req *req,
                                       struct http_resp *resp);
enum cf_rc http_h_admin_invite(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_admin_user_patch(struct http_req *req,
                                   struct http_resp *resp);
enum cf_rc http_h_admin_user_delete(struct http_req *req,
                                    struct http_resp *resp);
enum cf_rc http_h_admin_user_totp(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_admin_user_logout(struct http_req *req,
                                    struct http_resp *resp);
enum cf_rc http_h_admin_user_perms(struct http_req *req,
                                   struct http_resp *resp);
enum cf_rc http_h_me(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_me_sessions(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_me_session_delete(struct http_req *req,
                                    struct http_resp *resp);
enum cf_rc http_h_me_sessions_delete(struct http_req *req,
                                     struct http_resp *resp);
enum cf_rc http_h_me_logins(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_me_password(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_me_totp_begin(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_me_totp_confirm(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_me_totp_delete(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_auth_totp(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_auth_step_up(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_setup_page(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_account_page(struct http_req *req, struct http_resp *resp);
enum cf_rc http_h_admin_page(struct http_req *req, struct http_resp *resp);
/* Find the session of the request's cookie (req->session); CF_EAUTH when
 * there is none or it is not valid. */
CF_MUST_CHECK enum cf_rc http_session_authenticate(struct http_req *req);
/* The API token of the Authorization header (token is what follows
 * "Bearer "): fills req->session like a session. CF_EAUTH when it is not
 * a live token of the request's tenant. */
/*
 * The request context of req (context.c): the tenant, its keyset (opened
 * once, released by http_ctx_release() when the request ends), the
 * server's settings, the client address, the request id and the mailer
 * in req->ctx; once a principal is signed in (req->has_session), who
 * acts too (req->ctx.principal, user_id, role, token_perms, and
 * req->ctx.actor pointing at req->ctx).
 * CF_EINTERNAL without a tenant. Cheap after the first call.
 */
CF_MUST_CHECK enum cf_rc http_ctx(struct http_req *req);
/* Who acts in req, for decisions only (no keys: no changes; NULL without
 * a tenant). */
const struct cf_ctx *http_ctx_who(struct http_req *req);
void http_ctx_release(struct http_req *req);
/* 403 step_up_required unless the session proved its owner within
 * AUTH_STEP_UP_S (a login, a code or POST /api/v1/auth/step-up). */
CF_MUST_CHECK enum cf_rc http_require_step_up(struct http_req *req);
/* Record in the tenant's audit trail that req's principal was refused
 * (COMMITMENT A12); failures are logged, never answered. */
void http_admin_refused(struct http_req *req, const char *action);
/* The {id} path parameter as a public id (32 lower-case hex characters);
 * CF_ENOTFOUND otherwise: a malformed id is a missing object (404). */
CF_MUST_CHECK enum cf_rc http_param_id(const struct http_req *req,
                                       char out[AUTH_ID_LEN + 1]);
/* One access-journal line as JSON {id, time, outcome, client_ip, device}. */
json_t *http_login_json(const struct auth_login_info *l);
CF_MUST_CHECK enum cf_rc http_token_authenticate(struct http_req *req,
                                                 const char *token);

#endif
