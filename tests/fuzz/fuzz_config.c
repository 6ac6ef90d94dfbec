/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for the configuration file parser (cf_config_load in
 * src/core/config.c, on top of libinih). The whole input is coffre.conf; it
 * is written to a memfd and loaded through its /proc/self/fd/N path over
 * the defaults. On success every number must lie within the bounds
 * documented in conf_keys[] (threads 1..64 and so on), the listen
 * addresses must be IP:PORT or [IPv6]:PORT (http_listen may be empty),
 * every string must be NUL-terminated in its field and err must be empty; on
 * failure cfg must be left untouched and err must be a non-empty,
 * NUL-terminated message, also when err is tiny. Differential check: full-line
 * comments (';' or '#' after optional blanks) must not change the outcome, so
 * the input is loaded a second time with them removed and both results must
 * agree (skipped when either version starts with a BOM, which libinih strips on
 * the first line only).
 */
#include "core/compat.h"

#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ini.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ERRLEN 512 /* the size cli/data.c passes */
#define FUZZ_ERRLEN_TINY 8

static int fuzz_fd = -1;
static char fuzz_path[64];

static void __attribute__((noreturn))
fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_config: %s (%s)\n", what, detail ? detail : "-");
    abort();
}

static void
fuzz_file_set(const uint8_t *p, size_t n)
{
    size_t off = 0;

    if (fuzz_fd < 0) {
        fuzz_fd = memfd_create("fuzz_config", MFD_CLOEXEC);
        if (fuzz_fd < 0) {
            fuzz_fail("memfd_create failed", strerror(errno));
        }
        snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
    }
    if (ftruncate(fuzz_fd, 0) != 0) {
        fuzz_fail("ftruncate failed", strerror(errno));
    }
    while (off < n) {
        ssize_t w = pwrite(fuzz_fd, p + off, n - off, (off_t)off);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            fuzz_fail("pwrite failed", strerror(errno));
        }
        off += (size_t)w;
    }
}

static void
check_str(const char *field, const char *name)
{
    if (memchr(field, '\0', CF_CONF_STR) == NULL) {
        fuzz_fail("string value is not NUL-terminated", name);
    }
}

static void
check_range(uint64_t v, uint64_t min, uint64_t max, const char *name)
{
    if (v < min || v > max) {
        fuzz_fail("value out of its documented bounds", name);
    }
}

/* "IPv4:PORT" or "[IPv6]:PORT", port 1-65535, written out again here. */
static bool
ref_addr_ok(const char *s)
{
    char host[CF_CONF_STR];
    unsigned char bin[16];
    const char *port;
    uint64_t v = 0;
    size_t hlen;
    size_t n;
    int af = AF_INET;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (close == NULL || close[1] != ':') {
            return false;
        }
        hlen = (size_t)(close - s - 1);
        memcpy(host, s + 1, hlen);
        port = close + 2;
        af = AF_INET6;
    } else {
        const char *colon = strchr(s, ':');

        if (colon == NULL) {
            return false;
        }
        hlen = (size_t)(colon - s);
        memcpy(host, s, hlen);
        port = colon + 1;
    }
    host[hlen] = '\0';
    n = strlen(port);
    if (n == 0 || n > 20 || strspn(port, "0123456789") != n) {
        return false;
    }
    for (; *port; port++) {
        v = v * 10 + (uint64_t)(*port - '0');
        if (v > 65535) {
            return false;
        }
    }
    return v >= 1 && inet_pton(af, host, bin) == 1;
}

/* Bounds of conf_keys[] in src/core/config.c (README "Configuration"). */
static void
check_bounds(const struct cf_config *c)
{
    check_str(c->listen, "listen");
    check_str(c->base_domain, "base_domain");
    check_str(c->http_listen, "http_listen");
    if (!ref_addr_ok(c->listen)) {
        fuzz_fail("accepted a bad listen address", c->listen);
    }
    if (c->http_listen[0] != '\0' && !ref_addr_ok(c->http_listen)) {
        fuzz_fail("accepted a bad http_listen address", c->http_listen);
    }
    check_str(c->tls_cert_file, "cert_file");
    check_str(c->tls_key_file, "key_file");
    check_str(c->metrics_token, "token");
    check_range(c->threads, 1, 64, "server threads");
    check_range(c->max_connections_per_ip, 1, 100000, "max_connections_per_ip");
    check_range(c->connection_timeout, 1, 3600, "connection_timeout");
    check_range(c->max_header_bytes, 4096, 1048576, "max_header_bytes");
    check_range(c->max_body_bytes, 1024, 1073741824, "max_body_bytes");
    check_range(c->tenant_pool, 4, 100000, "tenant_pool");
    check_range(c->handles_per_tenant, 1, 16, "handles_per_tenant");
    check_range(c->busy_timeout_ms, 0, 600000, "busy_timeout_ms");
    check_range(c->limit_read_per_minute, 0, 1000000, "read_per_minute");
    check_range(c->limit_write_per_minute, 0, 1000000, "write_per_minute");
    check_range(c->limit_auth_per_minute, 0, 1000000, "auth_per_minute");
    check_range(c->worker_threads, 1, 256, "workers threads");
    check_range(c->worker_queue, 1, 100000, "workers queue");
    if (c->log_level != CF_LOG_ERROR && c->log_level != CF_LOG_WARN &&
        c->log_level != CF_LOG_INFO && c->log_level != CF_LOG_DEBUG) {
        fuzz_fail("log level out of range", NULL);
    }
}

/* Field by field: struct padding may differ after an assignment. */
static bool
cfg_equal(const struct cf_config *a, const struct cf_config *b)
{
    return strcmp(a->listen, b->listen) == 0 &&
           strcmp(a->base_domain, b->base_domain) == 0 &&
           strcmp(a->http_listen, b->http_listen) == 0 &&
           a->threads == b->threads &&
           a->max_connections_per_ip == b->max_connections_per_ip &&
           a->connection_timeout == b->connection_timeout &&
           a->max_header_bytes == b->max_header_bytes &&
           a->max_body_bytes == b->max_body_bytes &&
           strcmp(a->tls_cert_file, b->tls_cert_file) == 0 &&
           strcmp(a->tls_key_file, b->tls_key_file) == 0 &&
           a->tenant_pool == b->tenant_pool &&
           a->handles_per_tenant == b->handles_per_tenant &&
           a->busy_timeout_ms == b->busy_timeout_ms &&
           strcmp(a->metrics_token, b->metrics_token) == 0 &&
           a->limit_read_per_minute == b->limit_read_per_minute &&
           a->limit_write_per_minute == b->limit_write_per_minute &&
           a->limit_auth_per_minute == b->limit_auth_per_minute &&
           a->worker_threads == b->worker_threads &&
           a->worker_queue == b->worker_queue && a->log_level == b->log_level;
}

/* Load the current file over the defaults and check the result. */
static enum cf_rc
fuzz_load(struct cf_config *cfg, char *err)
{
    struct cf_config before;
    char *tiny = malloc(FUZZ_ERRLEN_TINY);
    enum cf_rc rc;
    enum cf_rc rc2;
    size_t len;

    if (tiny == NULL) {
        fuzz_fail("out of memory", NULL);
    }
    cf_config_defaults(cfg);
    before = *cfg;
    memset(err, 'x', FUZZ_ERRLEN);
    rc = cf_config_load(fuzz_path, cfg, err, FUZZ_ERRLEN);
    len = strnlen(err, FUZZ_ERRLEN);
    if (len >= FUZZ_ERRLEN) {
        fuzz_fail("err is not NUL-terminated", NULL);
    }
    if (rc == CF_OK) {
        if (len != 0) {
            fuzz_fail("success with an error message", err);
        }
        check_bounds(cfg);
        free(tiny);
        return rc;
    }
    if (rc != CF_EINVAL) {
        fuzz_fail("unexpected result code", cf_rc_str(rc));
    }
    if (len == 0) {
        fuzz_fail("failure without an error message", NULL);
    }
    if (!cfg_equal(cfg, &before)) {
        fuzz_fail("cfg changed by a failed load", err);
    }
    /* the same failure into a tiny buffer: truncated, still terminated */
    memset(tiny, 'x', FUZZ_ERRLEN_TINY);
    rc2 = cf_config_load(fuzz_path, cfg, tiny, FUZZ_ERRLEN_TINY);
    if (rc2 != rc || strnlen(tiny, FUZZ_ERRLEN_TINY) >= FUZZ_ERRLEN_TINY ||
        strncmp(tiny, err, FUZZ_ERRLEN_TINY - 1) != 0) {
        fuzz_fail("tiny err buffer: different result or not terminated", err);
    }
    free(tiny);
    return rc;
}

/* Copy of data without its full-line comments. */
static uint8_t *
strip_comments(const uint8_t *data, size_t size, size_t *out_len)
{
    uint8_t *out = malloc(size ? size : 1);
    size_t i = 0;
    size_t n = 0;

    if (out == NULL) {
        fuzz_fail("out of memory", NULL);
    }
    while (i < size) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - data) + 1 : size;
        size_t j = i;

        while (j < end &&
               (data[j] == ' ' || data[j] == '\t' || data[j] == '\v' ||
                data[j] == '\f' || data[j] == '\r')) {
            j++;
        }
        if (!(j < end && (data[j] == ';' || data[j] == '#'))) {
            memcpy(out + n, data + i, end - i);
            n += end - i;
        }
        i = end;
    }
    *out_len = n;
    return out;
}

/* Length of the longest line, its newline excluded. */
static size_t
longest_line(const uint8_t *data, size_t size)
{
    size_t best = 0;
    size_t cur = 0;
    size_t i;

    for (i = 0; i < size; i++) {
        if (data[i] == '\n') {
            cur = 0;
            continue;
        }
        if (++cur > best) {
            best = cur;
        }
    }
    return best;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cf_config cfg;
    struct cf_config cfg2;
    char *err = malloc(FUZZ_ERRLEN);
    char *err2 = malloc(FUZZ_ERRLEN);
    uint8_t *stripped;
    size_t slen;
    enum cf_rc rc;
    enum cf_rc rc2;

    if (err == NULL || err2 == NULL) {
        free(err);
        free(err2);
        return 0;
    }
    fuzz_file_set(data, size);
    rc = fuzz_load(&cfg, err);

    if (size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) {
        free(err2);
        free(err);
        return 0;
    }
    /* a line past inih's limit or a NUL byte anywhere is refused
     * whole, comment or not */
    if (longest_line(data, size) > INI_MAX_LINE - 2 ||
        memchr(data, 0, size) != NULL) {
        if (rc != CF_EINVAL) {
            fuzz_fail("an over-long line was accepted", NULL);
        }
        free(err2);
        free(err);
        return 0;
    }
    stripped = strip_comments(data, size, &slen);
    /* a BOM moved up to the first line would be skipped there */
    if (slen != size && !(slen >= 3 && stripped[0] == 0xEF &&
                          stripped[1] == 0xBB && stripped[2] == 0xBF)) {
        fuzz_file_set(stripped, slen);
        rc2 = fuzz_load(&cfg2, err2);
        if (rc2 != rc) {
            fprintf(stderr, "fuzz_config: with comments: %s\n",
                    rc == CF_OK ? "ok" : err);
            fprintf(stderr, "fuzz_config: without: %s\n",
                    rc2 == CF_OK ? "ok" : err2);
            fuzz_fail("removing full-line comments changed the result", NULL);
        }
        if (rc == CF_OK && !cfg_equal(&cfg, &cfg2)) {
            fuzz_fail("a comment line changed the configuration", NULL);
        }
    }
    free(stripped);
    free(err2);
    free(err);
    return 0;
}
