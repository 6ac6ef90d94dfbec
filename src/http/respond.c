/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Errors and JSON responses. The one table that maps a cf_rc to an HTTP
 * status and error code lives here (domain code never sees HTTP).
 */
#include "core/compat.h"

#include "http/http_int.h"

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

enum cf_rc
http_resp_json(struct http_resp *resp, int status, json_t *doc)
{
    char *text;
    enum cf_rc rc;

    text = json_dumps(doc, JSON_COMPACT);
    if (text == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    cf_buf_reset(&resp->body);
    rc = cf_buf_adds(&resp->body, text);
    free(text); /* jansson's allocator */
    if (rc != CF_OK) {
        return rc;
    }
    resp->status = status;
    resp->type = "application/json";
    return CF_OK;
}
