/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The operational log: one JSON object per line on stderr, written with a
 * single write(2) so lines from concurrent threads never interleave. Lines
 * are built in a fixed stack buffer (no allocation, so logging works when
 * memory is short); an over-long value is cut and marked.
 */
#include "core/compat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
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
log_write_all(const char *p, size_t n)
{
    size_t off = 0;

    while (off < n) {
        ssize_t w = write(STDERR_FILENO, p + off, n - off);

        if (w <= 0) {
            if (w < 0 && errno == EINTR) {
                continue;
            }
            return;
        }
        off += (size_t)w;
    }
}

/*
 * The asynchronous writer. Under load a write(2) per request line costs as
 * much as the rest of the log; once cf_log_async_start() has run, lines are
 * copied into a shared buffer under a mutex and one thread writes the
 * buffer out every LOG_ASYNC_MS, so lines stay whole and in order and reach
 * stderr at most that late. A full buffer is written by the caller itself:
 * nothing is dropped.
 */
#define LOG_ASYNC_BYTES ((size_t)256 * 1024)
#define LOG_ASYNC_MS 20

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    char *buf;
    char *spare;
    size_t len;
    bool running;
    bool stop;
} log_async = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void
log_emit(const char *p, size_t n)
{
    pthread_mutex_lock(&log_async.mu);
    if (log_async.running && log_async.len + n <= LOG_ASYNC_BYTES) {
        memcpy(log_async.buf + log_async.len, p, n);
        log_async.len += n;
        pthread_mutex_unlock(&log_async.mu);
        return;
    }
    if (log_async.running && log_async.len > 0) {
        /* full: write what is queued first, keeping the order */
        log_write_all(log_async.buf, log_async.len);
        log_async.len = 0;
    }
    log_write_all(p, n);
    pthread_mutex_unlock(&log_async.mu);
}

static void *
log_async_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&log_async.mu);
    while (!log_async.stop || log_async.len > 0) {
        struct timespec until;
        char *full;
        size_t n;

        if (log_async.len == 0 && !log_async.stop) {
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += LOG_ASYNC_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&log_async.cv, &log_async.mu, &until);
            continue;
        }
        full = log_async.buf;
        n = log_async.len;
        log_async.buf = log_async.spare;
        log_async.spare = full;
        log_async.len = 0;
        pthread_mutex_unlock(&log_async.mu);
        log_write_all(full, n);
        pthread_mutex_lock(&log_async.mu);
    }
    pthread_mutex_unlock(&log_async.mu);
    return NULL;
}

enum cf_rc
cf_log_async_start(void)
{
    char *a = cf_malloc(LOG_ASYNC_BYTES);
    char *b = cf_malloc(LOG_ASYNC_BYTES);

    if (a == NULL || b == NULL) {
        cf_free(a);
        cf_free(b);
        return CF_ERR(CF_ENOMEM);
    }
    pthread_mutex_lock(&log_async.mu);
    if (log_async.running) {
        pthread_mutex_unlock(&log_async.mu);
        cf_free(a);
        cf_free(b);
        return CF_OK;
    }
    log_async.buf = a;
    log_async.spare = b;
    log_async.len = 0;
    log_async.stop = false;
    if (pthread_create(&log_async.thread, NULL, log_async_main, NULL) != 0) {
        log_async.buf = log_async.spare = NULL;
        pthread_mutex_unlock(&log_async.mu);
        cf_free(a);
        cf_free(b);
        return CF_ERR(CF_ENOMEM);
    }
    log_async.running = true;
    pthread_mutex_unlock(&log_async.mu);
    return CF_OK;
}

void
cf_log_async_stop(void)
{
    pthread_mutex_lock(&log_async.mu);
    if (!log_async.running) {
        pthread_mutex_unlock(&log_async.mu);
        return;
    }
    log_async.stop = true;
    pthread_cond_signal(&log_async.cv);
    pthread_mutex_unlock(&log_async.mu);
    pthread_join(log_async.thread, NULL);
    pthread_mutex_lock(&log_async.mu);
    log_async.running = false;
    CF_FREE_AND_NULL(log_async.buf);
    CF_FREE_AND_NULL(log_async.spare);
    pthread_mutex_unlock(&log_async.mu);
}

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

/* Decimal digits of v, without printf (the request line is hot). */
static void
line_uint(struct log_line *l, uint64_t v)
{
    char digits[24];
    size_t n = sizeof(digits);

    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    line_raw(l, digits + n, sizeof(digits) - n);
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
    log_emit(l->buf, l->len);
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

void
cf_log_ctx_set(const char *request_id, const char *tenant)
{
    cf_strlcpy(log_ctx_request, request_id, sizeof(log_ctx_request));
    cf_strlcpy(log_ctx_tenant, tenant, sizeof(log_ctx_tenant));
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
    uint64_t us;

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
    us = r->duration_ms > 0 ? (uint64_t)(r->duration_ms * 1000.0) : 0;
    line_raw(&l, ",\"status\":", 10);
    line_uint(&l, r->status > 0 ? (uint64_t)r->status : 0);
    line_raw(&l, ",\"duration_ms\":", 15);
    line_uint(&l, us / 1000);
    line_raw(&l, ".", 1);
    if (us % 1000 < 100) {
        line_raw(&l, "0", 1);
    }
    if (us % 1000 < 10) {
        line_raw(&l, "0", 1);
    }
    line_uint(&l, us % 1000);
    if (r->client_ip) {
        line_key(&l, "client_ip");
        line_str(&l, r->client_ip);
    }
    line_end(&l);
}
