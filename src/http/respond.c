/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Errors and JSON responses. The two tables that say how a refusal
 * reads live here (domain code never sees HTTP): the reasons a domain
 * module names when it refuses (a stable code of the contract) with their
 * status and sentence, and, for a failure that names none, its cf_rc's
 * status and code.
 */
#include "core/compat.h"

#include "http/http_int.h"

/* The reasons domain modules give for a refusal (`why`, beside the
 * cf_rc): the code is the JSON error code of the contract. */
static const struct http_reason {
    const char *code;
    int status;
    const char *msg;
} http_reasons[] = {
    /* accounts (auth/) */
    {"invalid_email", 400, "this is not an e-mail address"},
    {"email_taken", 409, "this address already has an account"},
    {"unknown_role", 400, "no such role in this tenant"},
    {"role_not_allowed", 403,
     "you do not hold every permission of this role, or of this account, "
     "where it applies"},
    {"last_owner", 409, "the tenant must keep an active owner"},
    {"too_many_tokens", 409, "at most 50 live tokens per account; revoke one"},
    {"permission_not_held", 403,
     "you cannot give, change or remove a permission you do not hold"},
    {"would_lock_you_out", 409,
     "this allow-list does not hold your own address"},
    /* roles, groups, grants (authz/) */
    {"invalid_name", 400, "a name is 1 to 64 printable characters"},
    {"name_taken", 409, "this name is already used in the tenant"},
    {"too_many", 409, "the tenant has reached the limit for these"},
    {"builtin_role", 409, "built-in roles cannot be changed or deleted"},
    {"role_in_use", 409, "grants still name this role: delete them first"},
    {"unknown_user", 400, "no such account in this tenant"},
    {"unknown_group", 400, "no such group in this tenant"},
    {"duplicate_member", 400, "an id is listed twice"},
    {"cycle", 400, "a group cannot contain itself, directly or through others"},
    {"duplicate_grant", 400, "this grant exists already"},
    {"bad_request", 400, "the request is not valid"},
};

enum cf_rc
http_refuse(struct http_req *req, enum cf_rc rc, const char *why)
{
    size_t i;

    if (rc == CF_OK || why == NULL || rc == CF_ENOTFOUND) {
        return rc; /* not found reads the same whatever the reason */
    }
    for (i = 0; i < CF_ARRAY_LEN(http_reasons); i++) {
        if (strcmp(http_reasons[i].code, why) == 0) {
            return http_fail(req, http_reasons[i].status, why, "%s",
                             http_reasons[i].msg);
        }
    }
    cf_log_error("a refusal names a reason the server does not know", "why",
                 why);
    return CF_ERR(CF_EINTERNAL);
}

enum cf_rc
http_fail(struct http_req *req, int status, const char *code, const char *fmt,
          ...)
{
    va_list ap;

    req->err_status = status;
    req->err_code = code;
    va_start(ap, fmt);
    vsnprintf(req->err_msg, sizeof(req->err_msg), fmt, ap);
    va_end(ap);
    return CF_EINVAL;
}

void
http_rc_status(enum cf_rc rc, int *status, const char **code,
               const char **message)
{
    switch (rc) {
    case CF_OK:
        *status = 200;
        *code = "ok";
        *message = "ok";
        return;
    case CF_EINVAL:
        *status = 400;
        *code = "bad_request";
        *message = "the request is not valid";
        return;
    case CF_ETOOBIG:
        *status = 413;
        *code = "payload_too_large";
        *message = "the request is too large";
        return;
    case CF_ENOTFOUND:
        *status = 404;
        *code = "not_found";
        *message = "no such resource";
        return;
    case CF_ECONFLICT:
        *status = 409;
        *code = "conflict";
        *message = "the request conflicts with the current state";
        return;
    case CF_EAUTH:
        *status = 401;
        *code = "unauthorized";
        *message = "authentication required";
        return;
    case CF_EPERM:
        *status = 403;
        *code = "forbidden";
        *message = "not allowed";
        return;
    case CF_ELOCKED:
        *status = 429;
        *code = "rate_limited";
        *message = "too many requests; retry later";
        return;
    case CF_ENOMEM:
    case CF_EBUSY:
        *status = 503;
        *code = "unavailable";
        *message = "the server is busy; retry later";
        return;
    case CF_EIO:
    case CF_EDB:
    case CF_ECRYPTO:
    case CF_EINTERNAL:
    case CF_RC_COUNT:
        break;
    }
    *status = 500;
    *code = "internal";
    *message = "internal error";
}

/* json_dump_callback()'s sink: the response body. On a failure the
 * buffer is released already (cf_buf); the first failure is kept. */
struct resp_dump {
    struct cf_buf *body;
    enum cf_rc rc;
};

static int
resp_dump_cb(const char *text, size_t len, void *arg)
{
    struct resp_dump *d = arg;

    d->rc = cf_buf_add(d->body, text, len);
    return d->rc == CF_OK ? 0 : -1;
}

enum cf_rc
http_resp_json(struct http_resp *resp, int status, json_t *doc)
{
    struct resp_dump d = {&resp->body, CF_OK};

    /* straight into the body: no string of jansson's to copy and wipe */
    cf_buf_reset(&resp->body);
    if (json_dump_callback(doc, resp_dump_cb, &d, JSON_COMPACT) != 0) {
        return d.rc != CF_OK ? d.rc : CF_ERR(CF_EINTERNAL);
    }
    resp->status = status;
    resp->type = "application/json";
    return CF_OK;
}

/* ---- answers written without a tree --------------------------------- */

void
http_jw_begin(struct http_jw *w, struct http_resp *resp)
{
    w->resp = resp;
    cf_buf_reset(&resp->body);
    /* room for the usual answer at once (GET /api/v1/me, a few spaces)
     * instead of doubling from 64 bytes, each step a copy and a wipe */
    w->rc = cf_buf_grow(&resp->body, HTTP_JW_ROOM);
}

void
http_jw_raw(struct http_jw *w, const char *text)
{
    if (w->rc == CF_OK) {
        w->rc = cf_buf_adds(&w->resp->body, text);
    }
}

void
http_jw_str(struct http_jw *w, const char *s)
{
    if (w->rc != CF_OK) {
        return;
    }
    w->rc = s != NULL ? cf_buf_add_json_str(&w->resp->body, s)
                      : cf_buf_add(&w->resp->body, "null", 4);
}

void
http_jw_bool(struct http_jw *w, bool v)
{
    http_jw_raw(w, v ? "true" : "false");
}

void
http_jw_time(struct http_jw *w, int64_t t)
{
    /* quoted as is: a formatted time holds digits, '-', ':', 'T' and 'Z'
     * only, nothing JSON escapes (a list writes one per row) */
    char s[CF_TIME_RFC3339_LEN + 2];
    size_t n;

    s[0] = '"';
    cf_time_fmt(t, s + 1);
    n = strlen(s);
    s[n++] = '"';
    if (w->rc == CF_OK) {
        w->rc = cf_buf_add(&w->resp->body, s, n);
    }
}

enum cf_rc
http_jw_end(struct http_jw *w, int status)
{
    if (w->rc != CF_OK) {
        return w->rc;
    }
    w->resp->status = status;
    w->resp->type = "application/json";
    return CF_OK;
}
