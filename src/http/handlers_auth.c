/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Handlers of the identity routes. The expensive parts (zxcvbn, Argon2id)
 * run in the worker pool through http_defer(); the handler is called a
 * second time to answer from req->job_state. Handlers translate between
 * HTTP and auth/; they hold no key and write no SQL.
 */
#include "core/compat.h"

#include "auth/auth.h"
#include "authz/authz.h"
#include "http/http_int.h"

#define SESSION_COOKIE "__Host-coffre_session"

static const char *const pw_problem_names[] = {
    "too_short", "too_long",   "weak",          "common",   "has_email",
    "has_name",  "has_tenant", "not_printable", "bad_utf8", "reused",
};

/* The state a deferred identity job leaves for the answer. */
struct auth_job {
    enum cf_rc rc;
    struct auth_strength verdict;
    char token[CX_TOKEN_LEN + 1]; /* a new session token */
    bool mfa_required;
    unsigned retry_after;
};

/* The verdict as the JSON object of /password/strength. */
static json_t *
strength_json(const struct auth_strength *v)
{
    json_t *problems = json_array();
    json_t *fr = json_array();
    json_t *en = json_array();
    json_t *doc = NULL;
    size_t i;

    if (problems != NULL && fr != NULL && en != NULL) {
        for (i = 0; i < CF_ARRAY_LEN(pw_problem_names); i++) {
            if (v->problems & (1u << i)) {
                json_array_append_new(problems,
                                      json_string(pw_problem_names[i]));
            }
        }
        for (i = 0; i < v->nhints && i < AUTH_HINTS_MAX; i++) {
            json_array_append_new(fr, json_string(v->hints_fr[i]));
            json_array_append_new(en, json_string(v->hints_en[i]));
        }
        doc = json_pack("{s:b, s:i, s:f, s:i, s:O, s:{s:O, s:O}}", "acceptable",
                        v->acceptable, "score", v->score, "entropy_bits",
                        v->entropy_bits, "length", (int)v->length, "problems",
                        problems, "hints", "fr", fr, "en", en);
    }
    json_decref(problems);
    json_decref(fr);
    json_decref(en);
    return doc;
}

/* Defer job with a fresh struct auth_job as state. */
static enum cf_rc
auth_defer(struct http_req *req, struct http_resp *resp, http_job_fn job)
{
    enum cf_rc rc;

    req->job_state = cf_calloc(1, sizeof(struct auth_job));
    if (req->job_state == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    rc = http_defer(req, resp, job);
    if (rc != CF_OK) {
        CF_FREE_AND_NULL(req->job_state);
    }
    return rc;
}

/* Take the finished job's state; the caller frees it. */
static struct auth_job *
auth_job_take(struct http_req *req)
{
    struct auth_job *job = req->job_state;

    req->job_state = NULL;
    return job;
}

static void
auth_job_free(struct auth_job *job)
{
    if (job != NULL) {
        cf_memzero(job->token, sizeof(job->token));
        cf_free(job);
    }
}

static const char *
body_str(struct http_req *req, const char *field)
{
    return json_string_value(json_object_get(req->json, field));
}

/* Answer with doc (taken; NULL means allocation failed). */
static enum cf_rc
answer(struct http_resp *resp, int status, json_t *doc)
{
    enum cf_rc rc;

    rc = doc != NULL ? http_resp_json(resp, status, doc) : CF_ERR(CF_ENOMEM);
    json_decref(doc);
    return rc;
}

static enum cf_rc
answer_ok(struct http_resp *resp)
{
    return answer(resp, 200, json_pack("{s:b}", "ok", 1));
}

/* 400 weak_password with the policy's verdict beside the error. */
static enum cf_rc
answer_weak(struct http_resp *resp, const struct auth_strength *v)
{
    return answer(resp, 400,
                  json_pack("{s:{s:s, s:s}, s:o}", "error", "code",
                            "weak_password", "message",
                            "the password does not meet the policy", "strength",
                            strength_json(v)));
}

/* ---- POST /api/v1/password/strength --------------------------------- */

static void
strength_job(struct http_req *req)
{
    struct auth_job *job = req->job_state;
    json_t *pw = json_object_get(req->json, "password");
    json_t *priv = json_object_get(req->json, "privileged");
    struct auth_tenant_policy tpol;
    struct cf_ctx actx = {0};
    struct auth_pw_context ctx = {
        .email = body_str(req, "email"),
        .name = body_str(req, "name"),
        .tenant_slug = req->has_tenant ? req->tenant.slug : NULL,
        .privileged = priv != NULL && json_is_true(priv),
    };

    /* on a tenant's host, the meter judges by that tenant's policy */
    auth_policy_defaults(&tpol.pw);
    job->rc = CF_OK;
    if (req->has_tenant) {
        actx.pool = req->srv->app->pool;
        actx.tenant_id = req->tenant.id;
        job->rc = auth_tenant_policy_get(&actx, &tpol);
    }
    if (job->rc == CF_OK) {
        job->rc =
            auth_password_evaluate(&tpol.pw, json_string_value(pw),
                                   json_string_length(pw), &ctx, &job->verdict);
    }
}

enum cf_rc
http_h_pw_strength(struct http_req *req, struct http_resp *resp)
{
    struct auth_job *job;
    json_t *doc;
    enum cf_rc rc;

    if (!atomic_load(&req->deferred_done)) {
        return auth_defer(req, resp, strength_job);
    }
    job = auth_job_take(req);
    rc = job->rc;
    if (rc == CF_OK) {
        doc = strength_json(&job->verdict);
        rc = doc != NULL ? http_resp_json(resp, 200, doc) : CF_ERR(CF_ENOMEM);
        json_decref(doc);
    }
    auth_job_free(job);
    return rc;
}

/* ---- POST /api/v1/auth/setup ---------------------------------------- */

static void
setup_job(struct http_req *req)
{
    struct auth_job *job = req->job_state;
    const struct cf_ctx *ctx = &req->ctx;
    json_t *pw = json_object_get(req->json, "password");

    job->rc = http_ctx(req);
    if (job->rc == CF_OK) {
        job->rc = auth_setup_complete(ctx, body_str(req, "token"),
                                      json_string_value(pw),
                                      json_string_length(pw), &job->verdict);
    }
}

enum cf_rc
http_h_auth_setup(struct http_req *req, struct http_resp *resp)
{
    struct auth_job *job;
    enum cf_rc rc;

    if (!atomic_load(&req->deferred_done)) {
        return auth_defer(req, resp, setup_job);
    }
    job = auth_job_take(req);
    rc = job->rc;
    if (rc == CF_ENOTFOUND) {
        rc = http_fail(req, 400, "invalid_token",
                       "this link is unknown, used or expired");
    } else if (rc == CF_EINVAL && !job->verdict.acceptable) {
        rc = answer_weak(resp, &job->verdict);
    } else if (rc == CF_OK) {
        rc = answer_ok(resp);
    }
    auth_job_free(job);
    return rc;
}

/* ---- POST /api/v1/auth/reset ---------------------------------------- */

enum cf_rc
http_h_auth_reset(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    const char *email = json_string_value(json_object_get(req->json, "email"));
    enum cf_rc rc;

    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_reset_request(ctx, email != NULL ? email : "");
    }
    if (rc == CF_EINVAL) {
        return http_fail(req, 400, "invalid_email",
                         "this is not an e-mail address");
    }
    if (rc != CF_OK) {
        return rc;
    }
    /* the same answer whether or not the address has an account */
    return answer(resp, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- POST /api/v1/auth/login ---------------------------------------- */

static void
login_job(struct http_req *req)
{
    struct auth_job *job = req->job_state;
    const struct cf_ctx *ctx = &req->ctx;
    json_t *pw = json_object_get(req->json, "password");

    job->rc = http_ctx(req);
    if (job->rc == CF_OK) {
        job->rc = auth_login(ctx, body_str(req, "email"), json_string_value(pw),
                             json_string_length(pw), job->token,
                             &job->mfa_required, &job->retry_after);
    }
}

enum cf_rc
http_h_auth_login(struct http_req *req, struct http_resp *resp)
{
    struct auth_job *job;
    json_t *doc = NULL;
    enum cf_rc rc;

    if (!atomic_load(&req->deferred_done)) {
        return auth_defer(req, resp, login_job);
    }
    job = auth_job_take(req);
    rc = job->rc;
    if (rc == CF_EAUTH) {
        rc = http_fail(req, 401, "invalid_credentials",
                       "wrong e-mail or password");
    } else if (rc == CF_ELOCKED) {
        resp->retry_after = job->retry_after;
        rc = http_fail(req, 429, "banned",
                       "too many failed logins from this address; retry in "
                       "%u s",
                       job->retry_after);
    } else if (rc == CF_OK) {
        snprintf(resp->cookie, sizeof(resp->cookie),
                 SESSION_COOKIE "=%s; Path=/; Secure; HttpOnly; "
                                "SameSite=Strict",
                 job->token);
        doc = json_pack("{s:b}", "mfa_required", job->mfa_required);
        rc = doc != NULL ? http_resp_json(resp, 200, doc) : CF_ERR(CF_ENOMEM);
    }
    json_decref(doc);
    auth_job_free(job);
    return rc;
}

/* ---- sessions: the pipeline's authentication ------------------------- */

enum cf_rc
http_session_authenticate(struct http_req *req)
{
    const struct cf_ctx *ctx = &req->ctx;
    const char *token;
    enum cf_rc rc;

    if (!req->has_tenant) {
        return CF_EAUTH;
    }
    token =
        MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
    if (token == NULL) {
        return CF_EAUTH;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_session_get(ctx, token, &req->session);
    }
    if (rc == CF_OK) {
        req->has_session = true;
    }
    return rc;
}

enum cf_rc
http_token_authenticate(struct http_req *req, const char *token)
{
    const struct cf_ctx *ctx = &req->ctx;
    enum cf_rc rc;

    if (!req->has_tenant) {
        return CF_EAUTH;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_token_get(ctx, token, &req->session);
    }
    if (rc == CF_OK) {
        req->has_session = true;
    }
    return rc;
}

/* ---- POST /api/v1/auth/logout, GET /api/v1/me -------------------------- */

enum cf_rc
http_h_auth_logout(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    const char *token;
    enum cf_rc rc;

    token =
        MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_logout(ctx, token != NULL ? token : "");
    }
    if (rc != CF_OK) {
        return rc;
    }
    snprintf(resp->cookie, sizeof(resp->cookie),
             SESSION_COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Strict; "
                            "Max-Age=0");
    return answer_ok(resp);
}

/* Where the tenant's policy asks this account for 2FA: "everything",
 * "administration" or NULL (nowhere). */
static const char *
me_mfa_scope(const struct http_req *req, authz_mask held)
{
    authz_mask admin = 0;
    size_t i;

    for (i = 0; i < authz_perms_count; i++) {
        if (authz_perms[i].admin) {
            admin |= (authz_mask)1 << i; /* bit i is authz_perms[i] */
        }
    }
    switch (req->session.mfa_policy) {
    case AUTH_MFA_ALL:
        return "everything";
    case AUTH_MFA_ADMINS:
        return authz_role_privileged(req->session.role) || (held & admin)
                   ? "administration"
                   : NULL;
    case AUTH_MFA_OPTIONAL:
        return NULL;
    }
    return "everything"; /* an unknown policy: the strictest */
}

enum cf_rc
http_h_me(struct http_req *req, struct http_resp *resp)
{
    const struct auth_session *me = &req->session;
    char email[AUTH_EMAIL_MAX + 1];
    authz_mask held = 0;
    const char *mfa_scope;
    struct http_jw w;
    enum cf_rc rc;

    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_session_email(&req->ctx, me, email, sizeof(email));
    }
    if (rc != CF_OK) {
        return rc;
    }

    /* what the account holds tenant-wide, its role's and its grants':
     * pages offer only what the account may do (on a failure, its role's
     * alone) */
    if (authz_mask_of(http_ctx_who(req), AUTHZ_TENANT, &held) != CF_OK) {
        held = authz_role_mask(me->role);
    }
    /* COMMITMENT A12, said plainly: is 2FA on, and does the tenant's
     * policy ask it of this account (everywhere under `all`; for
     * administration under `admins`, of owners, admins and whoever holds
     * an administering permission)? */
    mfa_scope = me_mfa_scope(req, held);
    /* every page asks for this: written by hand, no tree (http_jw) */
    http_jw_begin(&w, resp);
    http_jw_raw(&w, "{\"user\":{\"id\":");
    http_jw_str(&w, me->user_pid);
    http_jw_raw(&w, ",\"email\":");
    http_jw_str(&w, email);
    cf_memzero(email, sizeof(email));
    http_jw_raw(&w, ",\"role\":");
    http_jw_str(&w, me->role);
    http_jw_raw(&w, ",\"permissions\":");
    http_jw_mask(&w, held);
    http_jw_raw(&w, ",\"totp\":");
    http_jw_bool(&w, me->totp);
    http_jw_raw(&w, ",\"password_expired\":");
    http_jw_bool(&w, me->password_expired);
    http_jw_raw(&w, "},\"csrf_token\":");
    http_jw_str(&w, me->csrf);
    http_jw_raw(&w, ",\"session\":{\"created\":");
    http_jw_time(&w, me->created);
    http_jw_raw(&w, ",\"expires\":");
    http_jw_time(&w, me->expires);
    http_jw_raw(&w, ",\"mfa_ok\":");
    http_jw_bool(&w, me->mfa_ok);
    http_jw_raw(&w, "},\"policy\":{\"mfa\":");
    http_jw_str(&w, auth_mfa_policy_name(me->mfa_policy));
    http_jw_raw(&w, "},\"mfa\":{\"enrolled\":");
    http_jw_bool(&w, me->totp);
    http_jw_raw(&w, ",\"required\":");
    http_jw_bool(&w, mfa_scope != NULL);
    http_jw_raw(&w, ",\"required_for\":");
    http_jw_str(&w, mfa_scope);
    http_jw_raw(&w, "}}");
    return http_jw_end(&w, 200);
}

/* ---- GET/DELETE /api/v1/me/sessions, GET /api/v1/me/logins ------------ */

static enum cf_rc
session_item(const struct auth_session_info *s, void *arg)
{
    char created[CF_TIME_RFC3339_LEN];
    char seen[CF_TIME_RFC3339_LEN];

    cf_time_fmt(s->created, created);
    cf_time_fmt(s->last_seen, seen);
    return json_array_append_new(
               arg, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", s->pid,
                              "created", created, "last_seen", seen,
                              "client_ip", s->client_ip, "device", s->device,
                              "current", s->current)) == 0
               ? CF_OK
               : CF_ERR(CF_ENOMEM);
}

enum cf_rc
http_h_me_sessions(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    json_t *list = json_array();
    json_t *doc = NULL;
    enum cf_rc rc;

    if (list == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_sessions_list(ctx, req->session.user_id, req->session.id,
                                session_item, list);
    }
    if (rc == CF_OK) {
        doc = json_pack("{s:O}", "sessions", list);
        rc = doc != NULL ? http_resp_json(resp, 200, doc) : CF_ERR(CF_ENOMEM);
    }
    json_decref(doc);
    json_decref(list);
    return rc;
}

/* End one session (DELETE .../sessions/{id}, pid) or all the others
 * (pid NULL). */
static enum cf_rc
me_revoke(struct http_req *req, struct http_resp *resp, const char *pid)
{
    const struct cf_ctx *ctx = &req->ctx;
    int64_t ended = 0;
    json_t *doc;
    enum cf_rc rc;

    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_sessions_revoke(ctx, req->session.user_id, pid,
                                  req->session.id, &ended);
    }
    if (rc != CF_OK) {
        return rc;
    }
    if (pid != NULL && strcmp(pid, req->session.pid) == 0) {
        snprintf(resp->cookie, sizeof(resp->cookie),
                 SESSION_COOKIE "=; Path=/; Secure; HttpOnly; "
                                "SameSite=Strict; Max-Age=0");
    }
    doc = json_pack("{s:I}", "ended", (json_int_t)ended);
    rc = doc != NULL ? http_resp_json(resp, 200, doc) : CF_ERR(CF_ENOMEM);
    json_decref(doc);
    return rc;
}

enum cf_rc
http_h_me_session_delete(struct http_req *req, struct http_resp *resp)
{
    char pid[AUTH_ID_LEN + 1];
    enum cf_rc rc;

    rc = http_param_id(req, pid);
    if (rc != CF_OK) {
        return rc;
    }
    return me_revoke(req, resp, pid);
}

enum cf_rc
http_h_me_sessions_delete(struct http_req *req, struct http_resp *resp)
{
    return me_revoke(req, resp, NULL);
}

struct logins_walk {
    json_t *list;
    int64_t last;
};

json_t *
http_login_json(const struct auth_login_info *l)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)l->id,
                     "time", l->time, "outcome", l->outcome, "client_ip",
                     l->client_ip, "device", l->device);
}

static enum cf_rc
login_item(const struct auth_login_info *l, void *arg)
{
    struct logins_walk *w = arg;

    w->last = l->id;
    return json_array_append_new(w->list, http_login_json(l)) == 0
               ? CF_OK
               : CF_ERR(CF_ENOMEM);
}

enum cf_rc
http_h_me_logins(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct logins_walk w = {.list = json_array()};
    const char *s;
    uint64_t before = 0;
    uint64_t limit = 50;
    json_t *doc = NULL;
    enum cf_rc rc;

    if (w.list == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    /* the whitelist checked both are whole numbers in range */
    s = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "before");
    if (s != NULL && cf_parse_u64(s, 0, INT64_MAX, &before) != CF_OK) {
        before = 0;
    }
    s = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "limit");
    if (s != NULL && (cf_parse_u64(s, 1, 100, &limit) != CF_OK)) {
        json_decref(w.list);
        return http_fail(req, 400, "bad_request", "limit is from 1 to 100");
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_logins_list(ctx, req->session.user_id, (int64_t)before,
                              (unsigned)limit, login_item, &w);
    }
    if (rc == CF_OK) {
        doc = json_pack("{s:O, s:o}", "logins", w.list, "next_before",
                        json_array_size(w.list) == limit ? json_integer(w.last)
                                                         : json_null());
        rc = doc != NULL ? http_resp_json(resp, 200, doc) : CF_ERR(CF_ENOMEM);
    }
    json_decref(doc);
    json_decref(w.list);
    return rc;
}

/* ---- POST /api/v1/me/password --------------------------------------- */

static void
password_job(struct http_req *req)
{
    struct auth_job *job = req->job_state;
    const struct cf_ctx *ctx = &req->ctx;
    json_t *cur = json_object_get(req->json, "current");
    json_t *pw = json_object_get(req->json, "new");

    job->rc = http_ctx(req);
    if (job->rc == CF_OK) {
        job->rc = auth_password_change(
            ctx, req->session.user_id, req->session.id, json_string_value(cur),
            json_string_length(cur), json_string_value(pw),
            json_string_length(pw), &job->verdict);
    }
}

enum cf_rc
http_h_me_password(struct http_req *req, struct http_resp *resp)
{
    struct auth_job *job;
    enum cf_rc rc;

    if (!atomic_load(&req->deferred_done)) {
        return auth_defer(req, resp, password_job);
    }
    job = auth_job_take(req);
    rc = job->rc;
    if (rc == CF_EAUTH) {
        rc = http_fail(req, 400, "wrong_password",
                       "the current password is not right");
    } else if (rc == CF_EINVAL && !job->verdict.acceptable) {
        rc = answer_weak(resp, &job->verdict);
    } else if (rc == CF_OK) {
        rc = answer_ok(resp);
    }
    auth_job_free(job);
    return rc;
}

/* ---- step-up --------------------------------------------------------- */

/* Sensitive changes need a proof of identity from the last few minutes. */
enum cf_rc
http_require_step_up(struct http_req *req)
{
    /* only a route declaring HTTP_STEP_UP asks (the table says so) */
    if (CF_NEVER(!(req->route->open & HTTP_STEP_UP))) {
        return CF_ERR(CF_EINTERNAL);
    }
    if (cf_time_unix() - req->session.auth_at <= AUTH_STEP_UP_S) {
        req->stepped_up = true;
        return CF_OK;
    }
    return http_fail(req, 403, "step_up_required",
                     "confirm your password first");
}

static void
step_up_job(struct http_req *req)
{
    struct auth_job *job = req->job_state;
    const struct cf_ctx *ctx = &req->ctx;
    const char *token;
    json_t *pw = json_object_get(req->json, "password");

    token =
        MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
    job->rc = http_ctx(req);
    if (job->rc == CF_OK) {
        job->rc = auth_step_up(ctx, token != NULL ? token : "",
                               json_string_value(pw), json_string_length(pw));
    }
}

enum cf_rc
http_h_auth_step_up(struct http_req *req, struct http_resp *resp)
{
    struct auth_job *job;
    enum cf_rc rc;

    if (!atomic_load(&req->deferred_done)) {
        return auth_defer(req, resp, step_up_job);
    }
    job = auth_job_take(req);
    rc = job->rc;
    if (rc == CF_EAUTH) {
        rc = http_fail(req, 400, "wrong_password", "the password is not right");
    } else if (rc == CF_OK) {
        rc = answer_ok(resp);
    }
    auth_job_free(job);
    return rc;
}

/* ---- 2FA: /api/v1/me/totp, /api/v1/auth/totp ------------------------ */

enum cf_rc
http_h_me_totp_begin(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct cf_buf svg;
    char uri[AUTH_OTPAUTH_MAX];
    json_t *doc = NULL;
    enum cf_rc rc;

    rc = http_require_step_up(req);
    if (rc != CF_OK) {
        return rc;
    }
    cf_buf_init(&svg, (size_t)256 * 1024);
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_totp_begin(ctx, req->session.user_id, uri, &svg);
    }
    if (rc == CF_OK) {
        doc = json_pack("{s:s, s:s}", "otpauth_uri", uri, "qr_svg",
                        cf_buf_str(&svg));
        rc = doc != NULL ? http_resp_json(resp, 200, doc) : CF_ERR(CF_ENOMEM);
    }
    cf_memzero(uri, sizeof(uri));
    json_decref(doc);
    cf_buf_release(&svg);
    return rc;
}

enum cf_rc
http_h_me_totp_confirm(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_LEN + 1];
    json_t *list = NULL;
    json_t *doc = NULL;
    enum cf_rc rc;
    size_t i;

    rc = http_require_step_up(req);
    if (rc != CF_OK) {
        return rc;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_totp_confirm(ctx, req->session.user_id, body_str(req, "code"),
                               codes);
    }
    if (rc == CF_EAUTH) {
        return http_fail(req, 400, "invalid_code",
                         "this code does not match; check the clock of "
                         "the device");
    }
    if (rc == CF_ENOTFOUND) {
        return http_fail(req, 400, "no_enrolment", "start the enrolment first");
    }
    if (rc != CF_OK) {
        return rc;
    }
    list = json_array();
    for (i = 0; list != NULL && i < AUTH_RECOVERY_CODES; i++) {
        json_array_append_new(list, json_string(codes[i]));
    }
    cf_memzero(codes, sizeof(codes));
    doc = list != NULL ? json_pack("{s:O}", "recovery_codes", list) : NULL;
    rc = doc != NULL ? http_resp_json(resp, 200, doc) : CF_ERR(CF_ENOMEM);
    json_decref(doc);
    json_decref(list);
    return rc;
}

enum cf_rc
http_h_me_totp_delete(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    enum cf_rc rc;

    rc = http_require_step_up(req);
    if (rc != CF_OK) {
        return rc;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_totp_disable(ctx, req->session.user_id);
    }
    if (rc != CF_OK) {
        return rc;
    }
    return answer_ok(resp);
}

enum cf_rc
http_h_auth_totp(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    const char *token;
    enum cf_rc rc;

    token =
        MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_totp_verify(ctx, token != NULL ? token : "",
                              body_str(req, "code"));
    }
    if (rc == CF_EAUTH) {
        return http_fail(req, 401, "invalid_code", "wrong or used code");
    }
    if (rc != CF_OK) {
        return rc;
    }
    return answer_ok(resp);
}
