/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for the JSON body whitelist (http_json_validate in
 * src/http/input.c, COMMITMENT B4), which sees every JSON request body
 * before a handler does. The whole input is the body (in an exact-size
 * buffer with no NUL after it); it is validated against the input of every
 * route in http_routes[] that takes a JSON body, against a local whitelist
 * with fields of each type and bound, and against an empty one. On success
 * the result must be a JSON object whose every key is whitelisted, whose
 * values have the declared type and bound (string lengths recounted in code
 * points here), with every required field present and no more keys than
 * the whitelist has. On failure nothing is handed out, the error code is
 * one of the documented ones and the message is non-empty, NUL-terminated
 * and printable ASCII (it goes back to the client and into the log).
 */
#include "core/compat.h"

#include "http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct http_field fuzz_fields[] = {
    {"name", HTTP_T_STRING, 8, true, "a short required string"},
    {"note", HTTP_T_STRING, 1, false, "a single character"},
    {"count", HTTP_T_INT, 1000, false, "a bounded number"},
    {"big", HTTP_T_INT, SIZE_MAX, false, "any non-negative number"},
    {"flag", HTTP_T_BOOL, 1, false, "a boolean"},
    {"tags", HTTP_T_STRINGS, 3, false, "at most three short strings"},
};

static const struct http_input fuzz_input_local = {
    .body = fuzz_fields,
    .nbody = CF_ARRAY_LEN(fuzz_fields),
    .json_body = true,
};

/* A route that takes an object with no field at all. */
static const struct http_input fuzz_input_empty = {
    .json_body = true,
};

static void __attribute__((noreturn))
fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_json: %s (%s)\n", what, detail ? detail : "-");
    abort();
}

/* Code points of a string, stepping over whole UTF-8 sequences (jansson
 * only hands out valid UTF-8: anything else is a failure here). */
static size_t
ref_utf8_chars(const char *s, size_t bytes)
{
    size_t n = 0;
    size_t i = 0;

    while (i < bytes) {
        unsigned char c = (unsigned char)s[i];
        size_t step;
        size_t k;

        if (c < 0x80) {
            step = 1;
        } else if ((c & 0xE0) == 0xC0) {
            step = 2;
        } else if ((c & 0xF0) == 0xE0) {
            step = 3;
        } else if ((c & 0xF8) == 0xF0) {
            step = 4;
        } else {
            fuzz_fail("string value is not UTF-8", s);
        }
        if (step > bytes - i) {
            fuzz_fail("string value ends inside a UTF-8 sequence", s);
        }
        for (k = 1; k < step; k++) {
            if (((unsigned char)s[i + k] & 0xC0) != 0x80) {
                fuzz_fail("string value is not UTF-8", s);
            }
        }
        i += step;
        n++;
    }
    return n;
}

static const struct http_field *
ref_field(const struct http_input *input, const char *key)
{
    size_t i;

    for (i = 0; i < input->nbody; i++) {
        if (strcmp(input->body[i].name, key) == 0) {
            return &input->body[i];
        }
    }
    return NULL;
}

static void
check_accepted(const struct http_input *input, json_t *doc)
{
    const char *key;
    json_t *val;
    size_t i;

    if (doc == NULL || !json_is_object(doc)) {
        fuzz_fail("accepted a body that is not an object", NULL);
    }
    if (json_object_size(doc) > input->nbody) {
        fuzz_fail("accepted more keys than the whitelist has", NULL);
    }
    json_object_foreach(doc, key, val)
    {
        const struct http_field *f = ref_field(input, key);

        if (f == NULL) {
            fuzz_fail("accepted a key that is not whitelisted", key);
        }
        switch (f->type) {
        case HTTP_T_STRING:
            if (!json_is_string(val)) {
                fuzz_fail("accepted a non-string for a string field", key);
            }
            if (ref_utf8_chars(json_string_value(val),
                               json_string_length(val)) > f->max) {
                fuzz_fail("accepted a string over its length", key);
            }
            break;
        case HTTP_T_INT:
            if (!json_is_integer(val) || json_integer_value(val) < 0 ||
                (uint64_t)json_integer_value(val) > (uint64_t)f->max) {
                fuzz_fail("accepted a bad number", key);
            }
            break;
        case HTTP_T_BOOL:
            if (!json_is_boolean(val)) {
                fuzz_fail("accepted a non-boolean for a boolean field", key);
            }
            break;
        case HTTP_T_STRINGS: {
            size_t j;
            json_t *item;

            if (!json_is_array(val) || json_array_size(val) > f->max) {
                fuzz_fail("accepted a bad list", key);
            }
            json_array_foreach(val, j, item)
            {
                if (!json_is_string(item) ||
                    ref_utf8_chars(json_string_value(item),
                                   json_string_length(item)) >
                        HTTP_STRINGS_ITEM_MAX) {
                    fuzz_fail("accepted a bad list item", key);
                }
            }
            break;
        }
        default:
            fuzz_fail("whitelist field of unknown type", key);
        }
    }
    for (i = 0; i < input->nbody; i++) {
        if (input->body[i].required &&
            json_object_get(doc, input->body[i].name) == NULL) {
            fuzz_fail("accepted a body without a required field",
                      input->body[i].name);
        }
    }
}

static void
check_refused(const char *code, const char *msg, size_t msglen, json_t *out)
{
    size_t len = strnlen(msg, msglen);
    size_t i;

    if (out != NULL) {
        fuzz_fail("a refused body was handed out", NULL);
    }
    if (code == NULL || (strcmp(code, "bad_request") != 0 &&
                         strcmp(code, "unknown_field") != 0 &&
                         strcmp(code, "missing_field") != 0)) {
        fuzz_fail("undocumented error code", code);
    }
    if (len >= msglen) {
        fuzz_fail("message is not NUL-terminated", NULL);
    }
    if (len == 0) {
        fuzz_fail("empty message", code);
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)msg[i];

        if (c < 0x20 || c > 0x7e) {
            fuzz_fail("message has a non-printable byte", msg);
        }
    }
}

static void
fuzz_validate(const struct http_input *input, const char *body, size_t size,
              char *msg)
{
    const char *code = NULL;
    json_t *out = NULL;
    enum cf_rc rc;

    memset(msg, 'x', HTTP_ERR_MSG_MAX);
    rc = http_json_validate(input, body, size, &code, msg, HTTP_ERR_MSG_MAX,
                            &out);
    if (rc == CF_OK) {
        check_accepted(input, out);
        json_decref(out);
    } else if (rc == CF_EINVAL) {
        check_refused(code, msg, HTTP_ERR_MSG_MAX, out);
    } else {
        fuzz_fail("unexpected result code", cf_rc_str(rc));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size copies, no NUL after the body: ASan sees any overread */
    char *body = malloc(size ? size : 1);
    char *msg = malloc(HTTP_ERR_MSG_MAX);
    size_t i;

    if (body == NULL || msg == NULL) {
        free(body);
        free(msg);
        return 0;
    }
    if (size > 0) {
        memcpy(body, data, size);
    }
    for (i = 0; i < http_routes_count; i++) {
        if (http_routes[i].input->json_body) {
            fuzz_validate(http_routes[i].input, body, size, msg);
        }
    }
    fuzz_validate(&fuzz_input_local, body, size, msg);
    fuzz_validate(&fuzz_input_empty, body, size, msg);
    free(msg);
    free(body);
    return 0;
}
