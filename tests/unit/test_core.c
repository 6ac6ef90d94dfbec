/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * core/: the capped buffer (with an allocation-failure loop), string
 * copies, number parsing, the configuration file and the JSON-line log.
 */
#include "core/compat.h"

#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <unistd.h>

#include "core/core.h"

static void
test_buf_cap(void **state)
{
    struct cf_buf b;

    (void)state;
    cf_buf_init(&b, 8);
    assert_int_equal(cf_buf_adds(&b, "12345678"), CF_OK);
    assert_int_equal(b.len, 8);
    assert_string_equal(cf_buf_str(&b), "12345678");
    /* one byte past max: refused and the buffer released */
    assert_int_equal(cf_buf_addch(&b, 'x'), CF_ETOOBIG);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(cf_buf_str(&b), "");
    cf_buf_release(&b);
}

static void
test_buf_binary_and_detach(void **state)
{
    struct cf_buf b;
    char *out = NULL;
    size_t len = 0;

    (void)state;
    cf_buf_init(&b, 1024);
    assert_int_equal(cf_buf_add(&b, "a\0b", 3), CF_OK);
    assert_int_equal(cf_buf_addf(&b, "%d-%s", 42, "x"), CF_OK);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.data, "a\0b42-x", 8); /* NUL-terminated */
    assert_int_equal(cf_buf_detach(&b, &out, &len), CF_OK);
    assert_int_equal(len, 7);
    assert_null(b.data);
    cf_free(out);
    /* detach of an empty buffer gives an empty string, not NULL */
    assert_int_equal(cf_buf_detach(&b, &out, &len), CF_OK);
    assert_non_null(out);
    assert_string_equal(out, "");
    cf_free(out);
}

static void
test_buf_escapes(void **state)
{
    struct cf_buf b;
    json_t *v;

    (void)state;
    cf_buf_init(&b, 1024);
    assert_int_equal(cf_buf_add_json_str(&b, "a\"b\\c\n\x01\xc3\xa9"), CF_OK);
    v = json_loads(cf_buf_str(&b), JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    assert_string_equal(json_string_value(v), "a\"b\\c\n\x01\xc3\xa9");
    json_decref(v);
    /* every ASCII byte, after other text: parsed back the same */
    {
        char all[128];
        size_t before;
        int c;

        for (c = 1; c < 128; c++) {
            all[c - 1] = (char)c;
        }
        all[127] = '\0';
        cf_buf_reset(&b);
        assert_int_equal(cf_buf_adds(&b, "["), CF_OK);
        before = b.len;
        assert_int_equal(cf_buf_add_json_str(&b, all), CF_OK);
        /* 28 controls as \u00XX; \n \r \t " and \ as two bytes */
        assert_int_equal(b.len - before, 2 + 127 + 28 * 5 + 5);
        assert_int_equal(cf_buf_adds(&b, ","), CF_OK);
        assert_int_equal(cf_buf_add_json_str(&b, ""), CF_OK);
        assert_int_equal(cf_buf_adds(&b, "]"), CF_OK);
        assert_int_equal(strlen(cf_buf_str(&b)), b.len);
        v = json_loads(cf_buf_str(&b), 0, NULL);
        assert_non_null(v);
        assert_string_equal(json_string_value(json_array_get(v, 0)), all);
        assert_string_equal(json_string_value(json_array_get(v, 1)), "");
        json_decref(v);
    }
    /* past max: released, as an append */
    cf_buf_release(&b);
    cf_buf_init(&b, 8);
    assert_int_equal(cf_buf_adds(&b, "ab"), CF_OK);
    assert_int_equal(cf_buf_add_json_str(&b, "\x01"), CF_ETOOBIG);
    assert_null(b.data);
    cf_buf_release(&b);
    cf_buf_init(&b, 1024);
    cf_buf_reset(&b);
    assert_int_equal(cf_buf_add_html(&b, "<a href=\"x\">'&'</a>"), CF_OK);
    assert_string_equal(
        cf_buf_str(&b),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    cf_buf_release(&b);
}

/* cf_time_fmt() writes what strftime() writes, at the edges too and at
 * 37,000 times between years 1000 and 9999 (its own arithmetic there). */
static void
test_time_fmt(void **state)
{
    /* the epoch, a leap day, year ends, the last second of 9999, before
     * the epoch, years 1, 1000 and 10000 (strftime's own) */
    static const int64_t times[] = {
        0,
        1,
        59,
        86399,
        951782400,
        951868799,
        1798761599,
        1798761600,
        4102444800,
        253402300799,
        -1,
        -62135596800,
        -30610224000,
        -30610224001,
        253402300800,
    };
    char got[CF_TIME_RFC3339_LEN];
    char want[CF_TIME_RFC3339_LEN];
    size_t i;

    (void)state;
    for (i = 0; i < CF_ARRAY_LEN(times); i++) {
        time_t t = (time_t)times[i];
        struct tm tm;

        assert_non_null(gmtime_r(&t, &tm));
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
        cf_time_fmt(times[i], got);
        assert_string_equal(got, want);
    }
    /* every 7,654,321 s (a little under 89 days, so every day of the
     * month and time of day comes round) from year 1000 to 9999 */
    for (int64_t t = -30610224000; t <= 253402300799; t += 7654321) {
        time_t tt = (time_t)t;
        struct tm tm;

        assert_non_null(gmtime_r(&tt, &tm));
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
        cf_time_fmt(t, got);
        assert_string_equal(got, want);
    }
    cf_time_fmt(1798761600, got);
    assert_string_equal(got, "2027-01-01T00:00:00Z");
}

/* cf_strjoin(): the parts one after the other, or nothing when they do
 * not fit; cf_i64_dec(): what "%lld" writes, at the edges too. */
static void
test_strjoin_i64(void **state)
{
    static const int64_t vals[] = {
        0, 1, -1, 9, 10, -10, 123456789, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    const char *parts[] = {"users", ".", NULL, "email", "#", "12"};
    char out[16];
    char want[32];
    char dec[CF_I64_DEC_LEN];
    size_t i;

    (void)state;
    assert_int_equal(cf_strjoin(out, sizeof(out), parts, 6), 14);
    assert_string_equal(out, "users.email#12");
    assert_int_equal(cf_strjoin(out, 15, parts, 6), 14);
    assert_int_equal(cf_strjoin(out, 14, parts, 6), 0); /* no room for NUL */
    assert_string_equal(out, "");
    assert_int_equal(cf_strjoin(out, sizeof(out), parts, 0), 0);
    assert_string_equal(out, "");
    out[0] = 'x';
    assert_int_equal(cf_strjoin(out, 0, parts, 6), 0);
    assert_int_equal(out[0], 'x'); /* cap 0: untouched */
    for (i = 0; i < CF_ARRAY_LEN(vals); i++) {
        snprintf(want, sizeof(want), "%lld", (long long)vals[i]);
        assert_string_equal(cf_i64_dec(vals[i], dec), want);
    }
}

static void
test_buf_grow(void **state)
{
    struct cf_buf b;
    char *data;

    (void)state;
    cf_buf_init(&b, 100);
    assert_int_equal(cf_buf_grow(&b, 0), CF_OK);
    assert_non_null(b.data);
    assert_string_equal(cf_buf_str(&b), "");
    assert_int_equal(cf_buf_adds(&b, "abc"), CF_OK);
    assert_int_equal(cf_buf_grow(&b, 90), CF_OK);
    assert_true(b.cap > b.len + 90);
    assert_true(b.cap <= b.max + 1);
    assert_string_equal(cf_buf_str(&b), "abc"); /* contents kept */
    data = b.data;
    assert_int_equal(cf_buf_add(&b, "0123456789", 10), CF_OK);
    assert_ptr_equal(b.data, data); /* no allocation: room was made */
    assert_int_equal(cf_buf_grow(&b, 88), CF_ETOOBIG); /* 13 + 88 > 100 */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    cf_buf_release(&b);
}

/* Fail allocation n for every n: each attempt ends in a clean error or
 * success, never a crash or a leak (LeakSanitizer checks). */
static void
test_buf_alloc_failures(void **state)
{
    long n;
    int ok = 0;

    (void)state;
    for (n = 0; n < 64; n++) {
        struct cf_buf b;
        enum cf_rc rc = CF_OK;
        int i;

        cf_buf_init(&b, 1 << 20);
        cf_mem_fail_after(n);
        for (i = 0; i < 200 && rc == CF_OK; i++) {
            rc = cf_buf_addf(&b, "line %d of a growing buffer\n", i);
        }
        cf_mem_fail_after(-1);
        assert_true(rc == CF_OK || rc == CF_ENOMEM);
        if (rc == CF_ENOMEM) {
            assert_null(b.data); /* released on failure */
        } else {
            ok++;
        }
        cf_buf_release(&b);
    }
    assert_true(ok > 0);
}

static void
test_size_math(void **state)
{
    size_t r = 7;

    (void)state;
    assert_int_equal(cf_size_add(SIZE_MAX, 1, &r), CF_ETOOBIG);
    assert_int_equal(r, 7); /* untouched on failure */
    assert_int_equal(cf_size_mul(SIZE_MAX / 2, 3, &r), CF_ETOOBIG);
    assert_int_equal(cf_size_mul(6, 7, &r), CF_OK);
    assert_int_equal(r, 42);
}

static void
test_mem_realloc(void **state)
{
    char *p = cf_malloc(4);
    char *q;

    (void)state;
    assert_non_null(p);
    memcpy(p, "abc", 4);
    q = cf_realloc(p, 4096);
    assert_non_null(q);
    assert_string_equal(q, "abc"); /* contents kept */
    p = q;
    /* the hook fails it: NULL, and the old block is still the caller's */
    cf_mem_fail_after(0);
    q = cf_realloc(p, 8192);
    cf_mem_fail_after(-1);
    assert_null(q);
    assert_string_equal(p, "abc");
    /* size 0 still gives a block to free, never NULL-as-success */
    q = cf_realloc(p, 0);
    assert_non_null(q);
    cf_free(q);
    /* NULL behaves as cf_malloc */
    q = cf_realloc(NULL, 16);
    assert_non_null(q);
    cf_free(q);
}

static void
test_strlcpy(void **state)
{
    char dst[8];

    (void)state;
    /* fits with room to spare */
    memset(dst, 'x', sizeof(dst));
    assert_int_equal(cf_strlcpy(dst, "abc", sizeof(dst)), 3);
    assert_string_equal(dst, "abc");
    /* exact fit: 7 characters and the NUL */
    memset(dst, 'x', sizeof(dst));
    assert_int_equal(cf_strlcpy(dst, "1234567", sizeof(dst)), 7);
    assert_string_equal(dst, "1234567");
    /* one too many: cut, NUL-terminated, the result says so */
    memset(dst, 'x', sizeof(dst));
    assert_int_equal(cf_strlcpy(dst, "12345678", sizeof(dst)), 8);
    assert_string_equal(dst, "1234567");
    /* much longer: the result is the whole length of src */
    assert_int_equal(cf_strlcpy(dst, "abcdefghijklmnopqrstuvwxyz", 5), 26);
    assert_string_equal(dst, "abcd");
    assert_int_equal(dst[5], '6'); /* nothing written past cap */
    /* cap 0: nothing written at all */
    memset(dst, 'x', sizeof(dst));
    assert_int_equal(cf_strlcpy(dst, "abc", 0), 3);
    assert_int_equal(dst[0], 'x');
    /* cap 1: always the empty string */
    assert_int_equal(cf_strlcpy(dst, "abc", 1), 3);
    assert_string_equal(dst, "");
    /* empty and NULL sources */
    memset(dst, 'x', sizeof(dst));
    assert_int_equal(cf_strlcpy(dst, "", sizeof(dst)), 0);
    assert_string_equal(dst, "");
    memset(dst, 'x', sizeof(dst));
    assert_int_equal(cf_strlcpy(dst, NULL, sizeof(dst)), 0);
    assert_string_equal(dst, "");
}

static void
test_parse(void **state)
{
    uint64_t v = 0;
    int i = 0;

    (void)state;
    assert_int_equal(cf_parse_u64("8443", 1, 65535, &v), CF_OK);
    assert_int_equal(v, 8443);
    assert_int_equal(cf_parse_u64("65536", 1, 65535, &v), CF_EINVAL);
    assert_int_equal(cf_parse_u64("", 0, 10, &v), CF_EINVAL);
    assert_int_equal(cf_parse_u64("12a", 0, 100, &v), CF_EINVAL);
    assert_int_equal(cf_parse_u64("-1", 0, 100, &v), CF_EINVAL);
    assert_int_equal(cf_parse_u64(" 1", 0, 100, &v), CF_EINVAL);
    assert_int_equal(cf_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v),
                     CF_EINVAL);
    assert_int_equal(cf_parse_u64("18446744073709551615", 0, UINT64_MAX, &v),
                     CF_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(cf_parse_int("-5", -10, 10, &i), CF_OK);
    assert_int_equal(i, -5);
    assert_int_equal(cf_parse_int("11", -10, 10, &i), CF_EINVAL);
}

static void
write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
test_config(void **state)
{
    char dir[] = "/tmp/coffre-core-XXXXXX";
    char path[256];
    char err[512];
    struct cf_config cfg;
    struct cf_config def;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/coffre.conf", dir);
    cf_config_defaults(&def);
    assert_string_equal(def.listen, "127.0.0.1:8443");
    assert_string_equal(def.base_domain, "localhost");
    assert_int_equal(def.max_body_bytes, 1048576);
    assert_int_equal(def.tenant_pool, 256);
    assert_int_equal(def.handles_per_tenant, 2);

    /* a missing file keeps the defaults */
    cfg = def;
    assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)), CF_OK);
    assert_memory_equal(&cfg, &def, sizeof(cfg));

    /* the default file loads back to the defaults */
    assert_int_equal(cf_config_write_default(path), CF_OK);
    assert_int_equal(cf_config_write_default(path), CF_ECONFLICT);
    assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)), CF_OK);
    assert_memory_equal(&cfg, &def, sizeof(cfg));

    write_text(path, "[server]\nlisten = 0.0.0.0:443 ; comment\n"
                     "threads = 4\n[metrics]\n"
                     "token = abcdefghijklmnopqrstuvwxyz012345\n");
    assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)), CF_OK);
    assert_string_equal(cfg.listen, "0.0.0.0:443");
    assert_int_equal(cfg.threads, 4);
    assert_string_equal(cfg.metrics_token, "abcdefghijklmnopqrstuvwxyz012345");

    /* a metrics token under 32 characters is refused, naming the key */
    cfg = def;
    write_text(path, "[metrics]\ntoken = abcdefghijklmnopqrstuvwxyz01234\n");
    assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)), CF_EINVAL);
    assert_non_null(strstr(err, "[metrics] token"));
    assert_non_null(strstr(err, "at least 32"));
    assert_memory_equal(&cfg, &def, sizeof(cfg));

    /* unknown key: error names the key and the line; cfg untouched */
    cfg = def;
    write_text(path, "[server]\nthreads = 3\n\nlisten_adress = x\n");
    assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)), CF_EINVAL);
    assert_non_null(strstr(err, "listen_adress"));
    assert_non_null(strstr(err, "line 4"));
    assert_memory_equal(&cfg, &def, sizeof(cfg));

    write_text(path, "[nope]\nkey = 1\n");
    assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)), CF_EINVAL);
    assert_non_null(strstr(err, "nope"));

    write_text(path, "[server]\nthreads = 0\n");
    assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)), CF_EINVAL);
    assert_non_null(strstr(err, "threads"));

    write_text(path, "[log]\nlevel = loud\n");
    assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)), CF_EINVAL);

    write_text(path, "[server]\nthis is not ini\n");
    assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)), CF_EINVAL);
    assert_non_null(strstr(err, "line 2"));

    /* a line past inih's limit is refused, never split: a long comment
     * must not set a key, a long value must not be cut */
    {
        char text[600];

        snprintf(text, sizeof(text), "[server]\n; %0197d threads = 64\n", 0);
        write_text(path, text);
        cfg = def;
        assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)),
                         CF_EINVAL);
        assert_non_null(strstr(err, "line 2"));
        assert_int_equal(cfg.threads, def.threads);
        snprintf(text, sizeof(text), "[metrics]\ntoken = %0191d B\n", 0);
        write_text(path, text);
        assert_int_equal(cf_config_load(path, &cfg, err, sizeof(err)),
                         CF_EINVAL);
    }

    unlink(path);
    rmdir(dir);
}

/* Capture what the log writes to stderr while fn runs. */
static void
log_capture(void (*fn)(void), char *out, size_t cap)
{
    char path[] = "/tmp/coffre-log-XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);
    ssize_t n;

    assert_true(fd >= 0);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    n = read(fd, out, cap - 1);
    assert_true(n >= 0);
    out[n] = '\0';
    close(fd);
    unlink(path);
}

static void
log_some(void)
{
    struct cf_log_request r = {.request_id = "r1",
                               .method = "GET",
                               .route = "/healthz",
                               .status = 200,
                               .duration_ms = 1.5,
                               .client_ip = "127.0.0.1"};

    cf_log_set_level(CF_LOG_INFO);
    cf_log_ctx_set("abc123", "acme");
    cf_log_info("hello \"world\"", "key", "va\nl");
    cf_log_debug("hidden at info level");
    cf_log_ctx_set(NULL, NULL);
    cf_log_request(&r);
    cf_log_error_rc(CF_EDB, "failed");
}

static void
test_log_json_lines(void **state)
{
    char out[8192];
    char *line;
    char *save = NULL;
    int lines = 0;

    (void)state;
    log_capture(log_some, out, sizeof(out));
    assert_null(strstr(out, "hidden"));
    for (line = strtok_r(out, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *v = json_loads(line, 0, NULL);

        assert_non_null(v);
        assert_non_null(json_object_get(v, "time"));
        assert_non_null(json_object_get(v, "level"));
        assert_non_null(json_object_get(v, "msg"));
        if (lines == 0) {
            assert_string_equal(json_string_value(json_object_get(v, "msg")),
                                "hello \"world\"");
            assert_string_equal(
                json_string_value(json_object_get(v, "request_id")), "abc123");
            assert_string_equal(json_string_value(json_object_get(v, "tenant")),
                                "acme");
            assert_string_equal(json_string_value(json_object_get(v, "key")),
                                "va\nl");
        } else if (lines == 1) {
            assert_int_equal(json_integer_value(json_object_get(v, "status")),
                             200);
            assert_null(json_object_get(v, "tenant"));
            assert_true(json_real_value(json_object_get(v, "duration_ms")) ==
                        1.5);
        } else {
            assert_string_equal(json_string_value(json_object_get(v, "rc")),
                                "edb");
        }
        json_decref(v);
        lines++;
    }
    assert_int_equal(lines, 3);
}

static void *
log_thread(void *arg)
{
    int t = *(int *)arg;
    char key[16];
    char val[32];
    int i;

    snprintf(key, sizeof(key), "t%d", t);
    for (i = 0; i < 2000; i++) {
        snprintf(val, sizeof(val), "%d", i);
        cf_log_info("async", key, val);
    }
    return NULL;
}

static void
log_async_many(void)
{
    pthread_t th[4];
    int ids[4] = {0, 1, 2, 3};
    int i;

    cf_log_set_level(CF_LOG_INFO);
    assert_int_equal(cf_log_async_start(), CF_OK);
    for (i = 0; i < 4; i++) {
        pthread_create(&th[i], NULL, log_thread, &ids[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    cf_log_async_stop();
}

/* 8,000 lines from 4 threads through the writer thread: every line whole,
 * valid JSON, none lost, each thread's lines in order. */
static void
test_log_async(void **state)
{
    size_t cap = 4 * 1024 * 1024;
    char *out = malloc(cap);
    char *line;
    char *save = NULL;
    int next[4] = {0, 0, 0, 0};
    int lines = 0;

    (void)state;
    assert_non_null(out);
    log_capture(log_async_many, out, cap);
    for (line = strtok_r(out, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *v = json_loads(line, 0, NULL);
        int t;

        assert_non_null(v);
        for (t = 0; t < 4; t++) {
            char key[16];
            json_t *val;

            snprintf(key, sizeof(key), "t%d", t);
            val = json_object_get(v, key);
            if (val != NULL) {
                assert_int_equal(strtol(json_string_value(val), NULL, 10),
                                 next[t]);
                next[t]++;
            }
        }
        json_decref(v);
        lines++;
    }
    assert_int_equal(lines, 8000);
    free(out);
}

static void
test_rc_names(void **state)
{
    int rc;

    (void)state;
    for (rc = CF_OK; rc < CF_RC_COUNT; rc++) {
        assert_string_not_equal(cf_rc_str((enum cf_rc)rc), "unknown");
    }
    assert_string_equal(cf_rc_str(CF_EINVAL), "einval");
}

static void
test_ids(void **state)
{
    char a[33];
    char b[33];

    (void)state;
    assert_int_equal(cf_id_hex(a, 16), CF_OK);
    assert_int_equal(cf_id_hex(b, 16), CF_OK);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_buf_binary_and_detach),
        cmocka_unit_test(test_buf_escapes),
        cmocka_unit_test(test_buf_grow),
        cmocka_unit_test(test_time_fmt),
        cmocka_unit_test(test_strjoin_i64),
        cmocka_unit_test(test_buf_alloc_failures),
        cmocka_unit_test(test_size_math),
        cmocka_unit_test(test_mem_realloc),
        cmocka_unit_test(test_strlcpy),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_log_json_lines),
        cmocka_unit_test(test_log_async),
        cmocka_unit_test(test_rc_names),
        cmocka_unit_test(test_ids),
    };

    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
