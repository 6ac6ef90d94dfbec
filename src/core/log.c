/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The operational log: one JSON object per line on stderr, written with a
 * single write(2) so lines from concurrent threads never interleave. Lines
 * are built in a fixed stack buffer (no allocation, so logging works when
 * memory is short); an over-long value is cut and marked.
 */
#include "core/compat.h"

#include <stdatomic.h>
#include <unistd.h>

#include "core/core.h"

#define LOG_LINE_MAX 4096
#define LOG_CTX_MAX 64

static _Atomic int log_level = CF_LOG_INFO;
static _Thread_local char log_ctx_request[LOG_CTX_MAX];
static _Thread_local char log_ctx_tenant[LOG_CTX_MAX];

static const char *const log_level_names[] = {"error", "warn", "info", "debug"};

struct log_line {
    char buf[LOG_LINE_MAX];
    size_t len;
    bool cut;
};

static void
line_raw(struct log_line *l, const char *s, size_t n)
{
    /* keep room for "}\n" */
    size_t room = sizeof(l->buf) - 2 - l->len;

    if (n > room) {
        n = room;
        l->cut = true;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void
line_str(struct log_line *l, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;

    line_raw(l, "\"", 1);
    for (; *p; p++) {
        char esc[6] = {'\\', 'u', '0', '0', 0, 0};

        if (*p == '"' || *p == '\\') {
            esc[1] = (char)*p;
            line_raw(l, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            line_raw(l, esc, 6);
        } else {
            line_raw(l, (const char *)p, 1);
        }
    }
    line_raw(l, "\"", 1);
}

static void
line_key(struct log_line *l, const char *key)
{
    line_raw(l, ",", 1);
    line_str(l, key);
    line_raw(l, ":", 1);
}

static void
line_begin(struct log_line *l, enum cf_log_level level, const char *msg)
{
    char now[CF_TIME_RFC3339_LEN];

    l->len = 0;
    l->cut = false;
    cf_time_rfc3339(now);
    line_raw(l, "{\"time\":", 8);
    line_str(l, now);
    line_key(l, "level");
    line_str(l, log_level_names[level]);
    line_key(l, "msg");
    line_str(l, msg);
    if (log_ctx_request[0]) {
        line_key(l, "request_id");
        line_str(l, log_ctx_request);
    }
    if (log_ctx_tenant[0]) {
        line_key(l, "tenant");
        line_str(l, log_ctx_tenant);
    }
}

static void
line_end(struct log_line *l)
{
    ssize_t w;
    size_t off = 0;

    if (l->cut) {
        /* the line was cut: close it as valid JSON */
        static const char tail[] = "\",\"cut\":true";

        if (l->len > sizeof(l->buf) - 2 - (sizeof(tail) - 1)) {
            l->len = sizeof(l->buf) - 2 - (sizeof(tail) - 1);
        }
        /* do not leave a dangling escape */
        while (l->len > 0 && l->buf[l->len - 1] == '\\') {
            l->len--;
        }
        memcpy(l->buf + l->len, tail, sizeof(tail) - 1);
        l->len += sizeof(tail) - 1;
    }
    l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
    while (off < l->len) {
        w = write(STDERR_FILENO, l->buf + off, l->len - off);
        if (w <= 0) {
            if (w < 0 && errno == EINTR) {
                continue;
            }
            return;
        }
        off += (size_t)w;
    }
}

void
cf_log_set_level(enum cf_log_level level)
{
    atomic_store(&log_level, (int)level);
}

enum cf_rc
cf_log_level_parse(const char *s, enum cf_log_level *out)
{
    size_t i;

    for (i = 0; i < CF_ARRAY_LEN(log_level_names); i++) {
        if (strcmp(s, log_level_names[i]) == 0) {
            *out = (enum cf_log_level)i;
            return CF_OK;
        }
    }
    return CF_ERR(CF_EINVAL);
}

static void
ctx_copy(char dst[LOG_CTX_MAX], const char *src)
{
    size_t n = src ? strnlen(src, LOG_CTX_MAX - 1) : 0;

    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

void
cf_log_ctx_set(const char *request_id, const char *tenant)
{
    ctx_copy(log_ctx_request, request_id);
    ctx_copy(log_ctx_tenant, tenant);
}

void
cf_log_kv(enum cf_log_level level, const char *file, int line, enum cf_rc rc,
          const char *msg, ...)
{
    struct log_line l;
    va_list ap;
    const char *key;
    char where[128];

    if ((int)level > atomic_load(&log_level)) {
        return;
    }
    line_begin(&l, level, msg);
    if (rc != CF_OK) {
        line_key(&l, "rc");
        line_str(&l, cf_rc_str(rc));
    }
    va_start(ap, msg);
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *val = va_arg(ap, const char *);

        line_key(&l, key);
        line_str(&l, val ? val : "");
    }
    va_end(ap);
    if (level <= CF_LOG_WARN || atomic_load(&log_level) == CF_LOG_DEBUG) {
        snprintf(where, sizeof(where), "%s:%d", file, line);
        line_key(&l, "at");
        line_str(&l, where);
    }
    line_end(&l);
}

void
cf_log_request(const struct cf_log_request *r)
{
    struct log_line l;
    char num[48];

    if (CF_LOG_INFO > atomic_load(&log_level)) {
        return;
    }
    line_begin(&l, CF_LOG_INFO, "request");
    if (!log_ctx_request[0] && r->request_id) {
        line_key(&l, "request_id");
        line_str(&l, r->request_id);
    }
    if (!log_ctx_tenant[0] && r->tenant) {
        line_key(&l, "tenant");
        line_str(&l, r->tenant);
    }
    line_key(&l, "method");
    line_str(&l, r->method ? r->method : "");
    line_key(&l, "route");
    line_str(&l, r->route ? r->route : "");
    snprintf(num, sizeof(num), ",\"status\":%d,\"duration_ms\":%.3f", r->status,
             r->duration_ms);
    line_raw(&l, num, strlen(num));
    if (r->client_ip) {
        line_key(&l, "client_ip");
        line_str(&l, r->client_ip);
    }
    line_end(&l);
}
