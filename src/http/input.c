/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The input whitelist (COMMITMENT B4): query parameters and JSON fields a
 * route did not declare are refused with a 400 that names them; declared
 * ones are checked for type and length. The JSON validator is fuzzed
 * (tests/fuzz/fuzz_json.c).
 */
#include "core/compat.h"

#include <strings.h>

#include "http/http_int.h"

#define INPUT_NAME_SHOW 64 /* longest name echoed back in a message */

static const struct http_field *
input_find(const struct http_field *f, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(f[i].name, name) == 0) {
            return &f[i];
        }
    }
    return NULL;
}

/* Characters (code points) in a UTF-8 string known to be valid. */
static size_t
input_utf8_len(const char *s, size_t bytes)
{
    size_t n = 0;
    size_t i;

    for (i = 0; i < bytes; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

/* A name safe to echo in a message: printable ASCII, cut. */
static void
input_name_show(char *out, size_t cap, const char *name)
{
    size_t i;

    for (i = 0; name[i] && i + 1 < cap && i < INPUT_NAME_SHOW; i++) {
        char c = name[i];
        bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';

        out[i] = '?';
        if (plain) {
            out[i] = c;
        }
    }
    out[i] = '\0';
}

struct query_walk {
    struct http_req *req;
    const struct http_input *input;
    size_t seen;
    bool failed;
};

static enum MHD_Result
input_query_cb(void *cls, enum MHD_ValueKind kind, const char *key,
               const char *value)
{
    struct query_walk *w = cls;
    const struct http_field *f;
    char show[INPUT_NAME_SHOW + 1];
    uint64_t v;

    (void)kind;
    input_name_show(show, sizeof(show), key);
    f = input_find(w->input->query, w->input->nquery, key);
    if (f == NULL) {
        (void)http_fail(w->req, 400, "unknown_parameter",
                        "unknown query parameter '%s'", show);
        w->failed = true;
        return MHD_NO;
    }
    value = value ? value : "";
    switch (f->type) {
    case HTTP_T_STRING:
        if (strlen(value) > f->max * 4 ||
            input_utf8_len(value, strlen(value)) > f->max) {
            (void)http_fail(w->req, 400, "bad_request",
                            "query parameter '%s' is longer than %zu", show,
                            f->max);
            w->failed = true;
        }
        break;
    case HTTP_T_INT:
        if (cf_parse_u64(value, 0, f->max, &v) != CF_OK) {
            (void)http_fail(w->req, 400, "bad_request",
                            "query parameter '%s' must be a number from 0 to "
                            "%zu",
                            show, f->max);
            w->failed = true;
        }
        break;
    case HTTP_T_BOOL:
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
            (void)http_fail(w->req, 400, "bad_request",
                            "query parameter '%s' must be true or false", show);
            w->failed = true;
        }
        break;
    case HTTP_T_STRINGS: /* never declared for a query */
        (void)http_fail(w->req, 400, "bad_request",
                        "query parameter '%s' cannot be a list", show);
        w->failed = true;
        break;
    }
    w->seen++;
    return w->failed ? MHD_NO : MHD_YES;
}

enum cf_rc
http_input_check_query(struct http_req *req)
{
    struct query_walk w = {.req = req, .input = req->route->input};

    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, input_query_cb,
                              &w);
    if (w.failed) {
        return CF_EINVAL;
    }
    if (req->route->input->nquery > 0) {
        size_t i;

        for (i = 0; i < req->route->input->nquery; i++) {
            const struct http_field *f = &req->route->input->query[i];

            if (f->required &&
                MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
                                            f->name) == NULL) {
                return http_fail(req, 400, "missing_parameter",
                                 "query parameter '%s' is required", f->name);
            }
        }
    }
    return CF_OK;
}

/* An array of at most f->max short strings. */
static enum cf_rc
input_strings_check(const struct http_field *f, json_t *v, const char **code,
                    char *msg, size_t msglen)
{
    size_t i;
    json_t *item;

    *code = "bad_request";
    if (!json_is_array(v) || json_array_size(v) > f->max) {
        snprintf(msg, msglen,
                 "field '%s' must be a list of at most %zu strings", f->name,
                 f->max);
        return CF_EINVAL;
    }
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item) ||
            input_utf8_len(json_string_value(item), json_string_length(item)) >
                HTTP_STRINGS_ITEM_MAX) {
            snprintf(msg, msglen,
                     "field '%s' must hold strings of at most %d characters",
                     f->name, HTTP_STRINGS_ITEM_MAX);
            return CF_EINVAL;
        }
    }
    return CF_OK;
}

static enum cf_rc
input_field_check(const struct http_field *f, json_t *v, const char **code,
                  char *msg, size_t msglen)
{
    switch (f->type) {
    case HTTP_T_STRING:
        if (!json_is_string(v)) {
            break;
        }
        if (input_utf8_len(json_string_value(v), json_string_length(v)) >
            f->max) {
            *code = "bad_request";
            snprintf(msg, msglen, "field '%s' is longer than %zu characters",
                     f->name, f->max);
            return CF_EINVAL;
        }
        return CF_OK;
    case HTTP_T_INT:
        if (!json_is_integer(v)) {
            break;
        }
        if (json_integer_value(v) < 0 ||
            (uint64_t)json_integer_value(v) > (uint64_t)f->max) {
            *code = "bad_request";
            snprintf(msg, msglen, "field '%s' must be from 0 to %zu", f->name,
                     f->max);
            return CF_EINVAL;
        }
        return CF_OK;
    case HTTP_T_BOOL:
        if (json_is_boolean(v)) {
            return CF_OK;
        }
        break;
    case HTTP_T_STRINGS:
        return input_strings_check(f, v, code, msg, msglen);
    }
    *code = "bad_request";
    snprintf(msg, msglen, "field '%s' must be a %s", f->name,
             f->type == HTTP_T_STRING ? "string"
             : f->type == HTTP_T_INT  ? "whole number"
                                      : "boolean");
    return CF_EINVAL;
}

enum cf_rc
http_json_validate(const struct http_input *input, const char *data, size_t len,
                   const char **code, char *msg, size_t msglen, json_t **out)
{
    json_t *doc = NULL;
    json_error_t jerr;
    const char *key;
    json_t *val;
    size_t i;
    enum cf_rc rc = CF_EINVAL;

    *code = "bad_request";
    doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL && json_error_code(&jerr) == json_error_null_character) {
        snprintf(msg, msglen, "a string holds a NUL character (\\u0000)");
        goto out;
    }
    if (doc == NULL) {
        snprintf(msg, msglen, "malformed JSON at line %d column %d", jerr.line,
                 jerr.column);
        goto out;
    }
    if (!json_is_object(doc)) {
        snprintf(msg, msglen, "the body must be a JSON object");
        goto out;
    }
    json_object_foreach(doc, key, val)
    {
        const struct http_field *f = input_find(input->body, input->nbody, key);
        char show[INPUT_NAME_SHOW + 1];

        if (f == NULL) {
            input_name_show(show, sizeof(show), key);
            *code = "unknown_field";
            snprintf(msg, msglen, "unknown field '%s'", show);
            goto out;
        }
        if (input_field_check(f, val, code, msg, msglen) != CF_OK) {
            goto out;
        }
    }
    for (i = 0; i < input->nbody; i++) {
        if (input->body[i].required &&
            json_object_get(doc, input->body[i].name) == NULL) {
            *code = "missing_field";
            snprintf(msg, msglen, "field '%s' is required",
                     input->body[i].name);
            goto out;
        }
    }
    *out = doc;
    doc = NULL; /* transferred */
    rc = CF_OK;
out:
    json_decref(doc);
    return rc;
}

static bool
input_is_json_type(const char *ct)
{
    static const char want[] = "application/json";
    size_t n = sizeof(want) - 1;

    if (ct == NULL || strncasecmp(ct, want, n) != 0) {
        return false;
    }
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

enum cf_rc
http_input_check_body(struct http_req *req, const char *content_type)
{
    const struct http_input *input = req->route->input;
    const char *code = NULL;
    char msg[HTTP_ERR_MSG_MAX];

    if (!input->json_body) {
        return CF_OK;
    }
    if (!input_is_json_type(content_type)) {
        return http_fail(req, 415, "unsupported_media_type",
                         "send the body as application/json");
    }
    if (http_json_validate(input, cf_buf_str(&req->body), req->body.len, &code,
                           msg, sizeof(msg), &req->json) != CF_OK) {
        return http_fail(req, 400, code, "%s", msg);
    }
    return CF_OK;
}
