/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * http/: the route table walk (every route declares method, pattern,
 * handler, permission or PUBLIC, input whitelist and rate class), the
 * route matcher, the JSON whitelist validator and the OpenAPI document.
 * COMMITMENT B3, B4.
 */
#include "core/compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include "http/http_int.h"

static void
test_route_table_complete(void **state)
{
    char err[256] = "";
    size_t i;

    (void)state;
    assert_int_equal(http_routes_check(err, sizeof(err)), CF_OK);
    assert_true(http_routes_count > 0);
    for (i = 0; i < http_routes_count; i++) {
        const struct http_route *r = &http_routes[i];

        assert_non_null(r->method);
        assert_true(r->pattern[0] == '/');
        assert_non_null(r->handler);
        assert_non_null(r->permission);
        assert_true(strlen(r->permission) > 0);
        assert_non_null(r->input);
        assert_true(r->rate >= HTTP_RATE_PROBE && r->rate <= HTTP_RATE_AUTH);
        assert_true(r->host >= HTTP_HOST_PLATFORM && r->host <= HTTP_HOST_ANY);
        /* a route that writes takes a declared JSON body */
        if (strcmp(r->method, "POST") == 0) {
            assert_true(r->input->json_body);
        }
    }
}

static void
test_route_match(void **state)
{
    const struct http_route *r;
    const char *param = NULL;
    size_t plen = 0;
    size_t idx = 99;
    bool known = false;
    char allow[64];

    (void)state;
    r = http_route_match("GET", "/healthz", HTTP_HOST_PLATFORM, &idx, &param,
                         &plen, &known, allow, sizeof(allow));
    assert_non_null(r);
    assert_string_equal(r->pattern, "/healthz");
    assert_ptr_equal(r, &http_routes[idx]);
    /* HEAD is served by the GET route */
    r = http_route_match("HEAD", "/healthz", HTTP_HOST_TENANT, &idx, &param,
                         &plen, &known, allow, sizeof(allow));
    assert_non_null(r);
    /* wrong method: no route, but the path is known and Allow says GET */
    r = http_route_match("DELETE", "/healthz", HTTP_HOST_PLATFORM, &idx, &param,
                         &plen, &known, allow, sizeof(allow));
    assert_null(r);
    assert_true(known);
    assert_string_equal(allow, "GET");
    /* platform-only route on a tenant host: unknown (404), not 405 */
    r = http_route_match("GET", "/metrics", HTTP_HOST_TENANT, &idx, &param,
                         &plen, &known, allow, sizeof(allow));
    assert_null(r);
    assert_false(known);
    /* same path, two hosts, two handlers */
    r = http_route_match("GET", "/", HTTP_HOST_TENANT, &idx, &param, &plen,
                         &known, allow, sizeof(allow));
    assert_non_null(r);
    assert_ptr_equal(r->handler, http_h_tenant_home);
    r = http_route_match("GET", "/", HTTP_HOST_PLATFORM, &idx, &param, &plen,
                         &known, allow, sizeof(allow));
    assert_ptr_equal(r->handler, http_h_platform_home);
    /* a rest parameter */
    r = http_route_match("GET", "/assets/i18n/fr.json", HTTP_HOST_TENANT, &idx,
                         &param, &plen, &known, allow, sizeof(allow));
    assert_non_null(r);
    assert_int_equal(plen, strlen("i18n/fr.json"));
    assert_memory_equal(param, "i18n/fr.json", plen);
    /* near misses */
    assert_null(http_route_match("GET", "/healthz/", HTTP_HOST_PLATFORM, &idx,
                                 &param, &plen, &known, allow, sizeof(allow)));
    assert_null(http_route_match("GET", "/assets/", HTTP_HOST_PLATFORM, &idx,
                                 &param, &plen, &known, allow, sizeof(allow)));
    assert_null(http_route_match("GET", "/HEALTHZ", HTTP_HOST_PLATFORM, &idx,
                                 &param, &plen, &known, allow, sizeof(allow)));
}

static const struct http_field test_fields[] = {
    {"name", HTTP_T_STRING, 5, true, "a name"},
    {"count", HTTP_T_INT, 10, false, "a count"},
    {"flag", HTTP_T_BOOL, 1, false, "a flag"},
};
static const struct http_input test_input = {
    .body = test_fields, .nbody = 3, .json_body = true};

static enum cf_rc
validate(const char *body, const char **code)
{
    char msg[HTTP_ERR_MSG_MAX];
    json_t *doc = NULL;
    enum cf_rc rc;

    msg[0] = '\0';
    rc = http_json_validate(&test_input, body, strlen(body), code, msg,
                            sizeof(msg), &doc);
    if (rc == CF_OK) {
        assert_true(json_is_object(doc));
    } else {
        assert_null(doc);
        assert_true(msg[0] != '\0');
    }
    json_decref(doc);
    return rc;
}

static void
test_json_whitelist(void **state)
{
    const char *code = NULL;

    (void)state;
    assert_int_equal(validate("{\"name\":\"abc\"}", &code), CF_OK);
    assert_int_equal(
        validate("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\","
                 "\"count\":10,\"flag\":true}",
                 &code),
        CF_OK); /* 5 characters, 10 bytes */
    assert_int_equal(validate("{\"name\":\"abcdef\"}", &code), CF_EINVAL);
    assert_string_equal(code, "bad_request");
    assert_int_equal(validate("{\"name\":\"a\",\"evil\":1}", &code), CF_EINVAL);
    assert_string_equal(code, "unknown_field");
    assert_int_equal(validate("{\"count\":1}", &code), CF_EINVAL);
    assert_string_equal(code, "missing_field");
    assert_int_equal(validate("{\"name\":1}", &code), CF_EINVAL);
    assert_int_equal(validate("{\"name\":\"a\",\"count\":11}", &code),
                     CF_EINVAL);
    assert_int_equal(validate("{\"name\":\"a\",\"count\":-1}", &code),
                     CF_EINVAL);
    assert_int_equal(validate("{\"name\":\"a\",\"flag\":\"true\"}", &code),
                     CF_EINVAL);
    assert_int_equal(validate("{\"name\":\"a\",\"name\":\"b\"}", &code),
                     CF_EINVAL); /* duplicate keys */
    assert_int_equal(validate("[\"name\"]", &code), CF_EINVAL);
    assert_int_equal(validate("{\"name\":\"a\"", &code), CF_EINVAL);
    assert_int_equal(validate("{\"name\":\"\xff\"}", &code), CF_EINVAL);
    assert_int_equal(validate("{\"name\":\"a\\u0000\"}", &code), CF_EINVAL);
    assert_int_equal(validate("", &code), CF_EINVAL);
}

static void
test_openapi(void **state)
{
    char *text = NULL;
    size_t len = 0;
    json_t *doc;
    json_t *paths;
    size_t i;

    (void)state;
    assert_int_equal(http_openapi_build("9.9.9", &text, &len), CF_OK);
    doc = json_loadb(text, len, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")),
                        "3.1.0");
    paths = json_object_get(doc, "paths");
    for (i = 0; i < http_routes_count; i++) {
        char path[128];
        char method[8];
        size_t k;
        json_t *op;
        char *star;

        snprintf(path, sizeof(path), "%s", http_routes[i].pattern);
        star = strstr(path, "*}");
        if (star != NULL) {
            memmove(star, star + 1, strlen(star + 1) + 1);
        }
        for (k = 0; http_routes[i].method[k]; k++) {
            method[k] = (char)(http_routes[i].method[k] | 0x20);
        }
        method[k] = '\0';
        op = json_object_get(json_object_get(paths, path), method);
        assert_non_null(op);
        assert_non_null(json_object_get(op, "x-permission"));
        assert_non_null(json_object_get(op, "responses"));
    }
    json_decref(doc);
    free(text);
}

static void
test_rate_limits(void **state)
{
    struct http_limiter *l = NULL;
    unsigned retry = 0;
    uint64_t t = 1000000000u;
    int allowed = 0;
    int i;

    struct cf_config cfg;

    (void)state;
    cf_config_defaults(&cfg);
    assert_int_equal(cfg.limit_auth_per_minute, 10);
    assert_int_equal(http_limiter_new(16, &cfg, &l), CF_OK);
    /* probes are never limited */
    for (i = 0; i < 10000; i++) {
        assert_true(
            http_limiter_allow(l, "10.0.0.1", HTTP_RATE_PROBE, t, &retry));
    }
    /* the auth class allows its burst of 10, then refuses */
    for (i = 0; i < 50; i++) {
        allowed += http_limiter_allow(l, "10.0.0.1", HTTP_RATE_AUTH, t, &retry);
    }
    assert_int_equal(allowed, 10);
    assert_true(retry >= 1 && retry <= 7);
    /* another client and another class are independent */
    assert_true(http_limiter_allow(l, "10.0.0.2", HTTP_RATE_AUTH, t, &retry));
    assert_true(http_limiter_allow(l, "10.0.0.1", HTTP_RATE_READ, t, &retry));
    /* one token is back after 6 s (10 per minute) */
    assert_false(http_limiter_allow(l, "10.0.0.1", HTTP_RATE_AUTH,
                                    t + 3000000000u, &retry));
    assert_true(http_limiter_allow(l, "10.0.0.1", HTTP_RATE_AUTH,
                                   t + 6100000000u, &retry));
    assert_false(http_limiter_allow(l, "10.0.0.1", HTTP_RATE_AUTH,
                                    t + 6100000000u, &retry));
    /* many clients: memory stays bounded and a limited client stays
     * limited while others come and go in its set */
    for (i = 0; i < 5000; i++) {
        char ip[32];

        snprintf(ip, sizeof(ip), "192.168.%d.%d", i / 256, i % 256);
        (void)http_limiter_allow(l, ip, HTTP_RATE_READ, t + 6200000000u,
                                 &retry);
    }
    http_limiter_free(l);
}

/* COMMITMENT A6: bans and limits key an IPv6 client by its /64 (one subscriber
 * picks any address there); peek takes nothing. */
static void
test_rate_limit_keys(void **state)
{
    struct http_limiter *l = NULL;
    struct cf_config cfg;
    char key[CF_CLIENT_KEY_MAX];
    unsigned retry = 0;
    uint64_t t = 1000000000u;
    int i;

    (void)state;
    assert_string_equal(cf_client_key("2001:db8:1:2:aaaa::1", key, sizeof(key)),
                        "2001:db8:1:2::/64");
    assert_string_equal(
        cf_client_key("2001:db8:1:2:ffff:ffff:ffff:ffff", key, sizeof(key)),
        "2001:db8:1:2::/64");
    assert_string_equal(cf_client_key("2001:db8:1:3::1", key, sizeof(key)),
                        "2001:db8:1:3::/64");
    assert_string_equal(cf_client_key("::ffff:192.0.2.7", key, sizeof(key)),
                        "192.0.2.7");
    assert_string_equal(cf_client_key("192.0.2.7", key, sizeof(key)),
                        "192.0.2.7");
    assert_string_equal(cf_client_key("not an address", key, sizeof(key)),
                        "not an address");
    assert_string_equal(cf_client_key(NULL, key, sizeof(key)), "");

    cf_config_defaults(&cfg);
    assert_int_equal(http_limiter_new(16, &cfg, &l), CF_OK);
    /* peeking takes nothing */
    for (i = 0; i < 100; i++) {
        assert_true(
            http_limiter_peek(l, "2001:db8::1", HTTP_RATE_AUTH, t, &retry));
    }
    /* ten addresses of one /64 share one bucket of 10 */
    for (i = 0; i < 10; i++) {
        char ip[64];

        snprintf(ip, sizeof(ip), "2001:db8:0:0:%x::1", i + 1);
        assert_true(http_limiter_allow(l, ip, HTTP_RATE_AUTH, t, &retry));
    }
    assert_false(
        http_limiter_allow(l, "2001:db8::ffff", HTTP_RATE_AUTH, t, &retry));
    assert_false(
        http_limiter_peek(l, "2001:db8::abcd", HTTP_RATE_AUTH, t, &retry));
    /* the next /64 is another client */
    assert_true(
        http_limiter_allow(l, "2001:db8:0:1::1", HTTP_RATE_AUTH, t, &retry));
    http_limiter_free(l);
}

/* The answers written without a tree (http_jw) read as jansson's would:
 * same bytes for the same document, strings escaped, a failure sticky. */
static void
jw_sample(struct http_jw *w, const char *name)
{
    http_jw_raw(w, "{\"name\":");
    http_jw_str(w, name);
    http_jw_raw(w, ",\"none\":");
    http_jw_str(w, NULL);
    http_jw_raw(w, ",\"yes\":");
    http_jw_bool(w, true);
    http_jw_raw(w, ",\"no\":");
    http_jw_bool(w, false);
    http_jw_raw(w, ",\"at\":");
    http_jw_time(w, 1798761600); /* 2027-01-01T00:00:00Z */
    http_jw_raw(w, ",\"all\":");
    http_jw_mask(w, UINT32_MAX);
    http_jw_raw(w, ",\"empty\":");
    http_jw_mask(w, 0);
    http_jw_raw(w, "}");
}

static void
test_json_writer(void **state)
{
    static const char *names[] = {
        "plain",
        "",
        "quote \" backslash \\ slash /",
        "\"\\\"\\\\",
        "tab\tline\ncr\r",
        "\x01\x1f\x7f",
        "Soci\xc3\xa9t\xc3\xa9 \xf0\x9f\x93\x81 \xe2\x80\xae \xef\xbb\xbf",
        "\xe2\x80\xa8\xe2\x80\xa9 </script>",
    };
    struct http_resp resp = {0};
    struct http_resp tree = {0};
    struct http_jw w;
    json_t *doc;
    json_t *back;
    size_t i;
    long n;
    int ok = 0;

    (void)state;
    cf_buf_init(&resp.body, 1 << 16);
    cf_buf_init(&tree.body, 1 << 16);
    for (i = 0; i < CF_ARRAY_LEN(names); i++) {
        http_jw_begin(&w, &resp);
        jw_sample(&w, names[i]);
        assert_int_equal(http_jw_end(&w, 201), CF_OK);
        assert_int_equal(resp.status, 201);
        assert_string_equal(resp.type, "application/json");
        doc = json_pack("{s:s, s:n, s:b, s:b, s:s, s:o, s:o}", "name", names[i],
                        "none", "yes", 1, "no", 0, "at", "2027-01-01T00:00:00Z",
                        "all", http_mask_json(UINT32_MAX), "empty",
                        http_mask_json(0));
        assert_non_null(doc);
        assert_int_equal(http_resp_json(&tree, 200, doc), CF_OK);
        assert_int_equal(tree.status, 200);
        assert_string_equal(tree.type, "application/json");
        /* byte for byte what jansson writes, but for control bytes
         * (jansson: \b, \f and upper-case hex; the writer: \u0008,
         * \u000c, lower case), which no stored name holds */
        if (strpbrk(names[i], "\x01\x1f") == NULL) {
            assert_int_equal(resp.body.len, tree.body.len);
            assert_string_equal(cf_buf_str(&resp.body), cf_buf_str(&tree.body));
        }
        back = json_loads(cf_buf_str(&resp.body), 0, NULL);
        assert_non_null(back);
        assert_true(json_equal(back, doc));
        json_decref(back);
        json_decref(doc);
    }
    http_jw_begin(&w, &resp);
    http_jw_str(&w, "\b\f\x1f");
    assert_int_equal(http_jw_end(&w, 200), CF_OK);
    assert_string_equal(cf_buf_str(&resp.body), "\"\\u0008\\u000c\\u001f\"");

    /* past the body's cap: the first failure sticks, no status set */
    cf_buf_release(&resp.body);
    cf_buf_init(&resp.body, 40);
    resp.status = 0;
    resp.type = NULL;
    http_jw_begin(&w, &resp);
    jw_sample(&w, "a name long enough to cross the cap");
    assert_int_equal(w.rc, CF_ETOOBIG);
    http_jw_raw(&w, "x"); /* would fit again in the released buffer */
    assert_int_equal(http_jw_end(&w, 200), CF_ETOOBIG);
    assert_int_equal(resp.status, 0);
    assert_null(resp.type);
    doc = json_pack("{s:o}", "all", http_mask_json(UINT32_MAX));
    assert_int_equal(http_resp_json(&resp, 200, doc), CF_ETOOBIG);
    assert_int_equal(resp.status, 0);
    json_decref(doc);

    /* every allocation failing in turn: a clean CF_ENOMEM or the answer */
    cf_buf_release(&resp.body);
    cf_buf_init(&resp.body, 1 << 16);
    for (n = 0; n < 64; n++) {
        enum cf_rc rc;

        http_jw_begin(&w, &resp);
        cf_mem_fail_after(n);
        jw_sample(&w, names[6]);
        rc = http_jw_end(&w, 200);
        cf_mem_fail_after(-1);
        assert_true(rc == CF_OK || rc == CF_ENOMEM);
        if (rc == CF_OK) {
            back = json_loads(cf_buf_str(&resp.body), 0, NULL);
            assert_non_null(back);
            json_decref(back);
            ok++;
        }
        cf_buf_release(&resp.body);
    }
    assert_true(ok > 0);
    cf_buf_release(&resp.body);
    cf_buf_release(&tree.body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_table_complete),
        cmocka_unit_test(test_route_match),
        cmocka_unit_test(test_json_whitelist),
        cmocka_unit_test(test_openapi),
        cmocka_unit_test(test_rate_limits),
        cmocka_unit_test(test_rate_limit_keys),
        cmocka_unit_test(test_json_writer),
    };

    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
