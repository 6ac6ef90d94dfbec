/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * core: the libc-only base every module stands on. Result codes (rc.h),
 * allocation with a failure hook, checked size arithmetic, the capped
 * growable buffer, number parsing, time and random ids, JSON-line logging and
 * the configuration file.
 *
 * Thread safety: everything here is safe to call from any thread; the log
 * context is per thread; cf_mem_fail_after() is for single-threaded tests.
 */
#ifndef CF_CORE_H
#define CF_CORE_H

#include "core/compat.h"
#include "core/rc.h"

/* ---- memory -------------------------------------------------------- */

/* malloc/calloc/realloc/strdup that can be made to fail by a test. They
 * return NULL on failure (never abort); callers turn that into CF_ENOMEM.
 * The result is caller-frees with cf_free(). */
void *cf_malloc(size_t n);
void *cf_calloc(size_t count, size_t size);
void *cf_realloc(void *p, size_t n);
char *cf_strdup(const char *s);
char *cf_strndup(const char *s, size_t n);
/* Free p; NULL is a no-op. */
void cf_free(void *p);
#define CF_FREE_AND_NULL(p)                                                    \
    do {                                                                       \
        cf_free(p);                                                            \
        (p) = NULL;                                                            \
    } while (0)

/* Test hook: the n-th allocation from now (0 = the next one) and every
 * one after it fails; a negative n turns failures off. Returns the number of
 * allocations made since the previous call. Not thread safe. */
long cf_mem_fail_after(long n);

/* Wipe n bytes at p in a way the compiler cannot elide. */
void cf_memzero(void *p, size_t n);

/* ---- strings ------------------------------------------------------ */

/*
 * Copy the C string src into dst, which holds cap bytes: at most cap - 1
 * bytes are copied and dst is always NUL-terminated when cap > 0 (with
 * cap 0, dst is not touched). src NULL copies "" (a NULL column reads as
 * empty). Returns strlen(src) (0 for NULL), as BSD strlcpy does: the copy
 * was cut when the result is >= cap. src and dst are borrowed and must
 * not overlap.
 */
size_t cf_strlcpy(char *dst, const char *src, size_t cap);
/*
 * The n strings of parts (NULL reads as "") one after the other into out
 * (cap bytes), NUL-terminated. Returns the length written, or 0 with out
 * emptied when they do not fit (cap 0: out untouched). For the short
 * texts built on every request, where snprintf() costs more than the
 * copy.
 */
size_t cf_strjoin(char *out, size_t cap, const char *const *parts, size_t n);
/* v in decimal ("-9223372036854775808" at most) into out; returns out. */
#define CF_I64_DEC_LEN 21
char *cf_i64_dec(int64_t v, char out[CF_I64_DEC_LEN]);

/* ---- checked size arithmetic -------------------------------------- */

/* *out = a + b (resp. a * b); CF_ETOOBIG on overflow, *out untouched. */
CF_MUST_CHECK enum cf_rc cf_size_add(size_t a, size_t b, size_t *out);
CF_MUST_CHECK enum cf_rc cf_size_mul(size_t a, size_t b, size_t *out);

/* ---- capped growable buffer --------------------------------------- */

/*
 * A binary-safe byte buffer that is always NUL-terminated and never grows
 * past `max` bytes of content. Going past max returns CF_ETOOBIG and
 * releases the buffer (so a hostile input cannot leave half a result).
 * `data` is stale after any append. Zero-initialised storage is not valid:
 * call cf_buf_init() first.
 */
struct cf_buf {
    char *data; /* NULL until the first append; see cf_buf_str() */
    size_t len;
    size_t cap;
    size_t max;
};

/* Set up an empty buffer that may hold up to max bytes. */
void cf_buf_init(struct cf_buf *b, size_t max);
/* Wipe and free the contents; the buffer is empty and reusable. */
void cf_buf_release(struct cf_buf *b);
/* Empty the buffer, keeping its memory. */
void cf_buf_reset(struct cf_buf *b);
/* Make room for extra more bytes, so that appends up to that much do not
 * allocate; the contents are kept. Past max: CF_ETOOBIG and the buffer
 * released, as an append would. */
CF_MUST_CHECK enum cf_rc cf_buf_grow(struct cf_buf *b, size_t extra);
CF_MUST_CHECK enum cf_rc cf_buf_add(struct cf_buf *b, const void *p, size_t n);
CF_MUST_CHECK enum cf_rc cf_buf_adds(struct cf_buf *b, const char *s);
CF_MUST_CHECK enum cf_rc cf_buf_addch(struct cf_buf *b, char c);
CF_MUST_CHECK enum cf_rc cf_buf_addf(struct cf_buf *b, const char *fmt, ...)
    CF_PRINTF(2, 3);
/* Append s as a JSON string literal, quotes included. Bytes < 0x20, '"' and
 * '\\' are escaped; other bytes are copied (the caller passes UTF-8). */
CF_MUST_CHECK enum cf_rc cf_buf_add_json_str(struct cf_buf *b, const char *s);
/* Append s with &, <, >, ", ' escaped for HTML text and attributes. */
CF_MUST_CHECK enum cf_rc cf_buf_add_html(struct cf_buf *b, const char *s);
/* The contents as a C string ("" when empty); borrowed. */
const char *cf_buf_str(const struct cf_buf *b);
/* Hand the memory to the caller (caller frees with cf_free; never NULL on
 * CF_OK) and leave the buffer empty. */
CF_MUST_CHECK enum cf_rc cf_buf_detach(struct cf_buf *b, char **out,
                                       size_t *len_out);

/* ---- parsing ------------------------------------------------------ */

/* Parse a whole decimal string into [min, max]. Leading/trailing junk,
 * signs on unsigned, empty input and overflow are CF_EINVAL. */
CF_MUST_CHECK enum cf_rc cf_parse_u64(const char *s, uint64_t min, uint64_t max,
                                      uint64_t *out);
CF_MUST_CHECK enum cf_rc cf_parse_int(const char *s, int min, int max,
                                      int *out);

/* ---- time and ids ------------------------------------------------- */

#define CF_TIME_RFC3339_LEN 32
/* Now, UTC, as "2026-11-24T21:43:42.123Z" into out. */
void cf_time_rfc3339(char out[CF_TIME_RFC3339_LEN]);
/* Format a Unix time (seconds) as "2026-11-24T21:43:42Z". */
void cf_time_fmt(int64_t unix_s, char out[CF_TIME_RFC3339_LEN]);
int64_t cf_time_unix(void);
/* Monotonic clock in nanoseconds. */
uint64_t cf_time_mono_ns(void);

/* Fill out with 2*nbytes lower-case hex characters of fresh randomness
 * from the kernel, plus a NUL. out must hold 2*nbytes+1 bytes. Ids only:
 * key material comes from crypto/. */
CF_MUST_CHECK enum cf_rc cf_id_hex(char *out, size_t nbytes);

/* ---- logging ------------------------------------------------------ */

/*
 * One JSON object per line on stderr: time, level, msg, the thread's log
 * context (request_id, tenant) and the key/value pairs given. Values are
 * strings. Never pass a secret or clear personal data.
 */
enum cf_log_level { CF_LOG_ERROR, CF_LOG_WARN, CF_LOG_INFO, CF_LOG_DEBUG };

void cf_log_set_level(enum cf_log_level level);
/* Parse "error", "warn", "info", "debug". */
CF_MUST_CHECK enum cf_rc cf_log_level_parse(const char *s,
                                            enum cf_log_level *out);
/* Set (or clear, with NULLs) this thread's request id and tenant slug; the
 * strings are copied. */
void cf_log_ctx_set(const char *request_id, const char *tenant);

/*
 * Hand log lines to a writer thread that writes them out every 20 ms (one
 * write(2) per batch instead of one per line); lines stay whole and in
 * order. Call once from the main thread before starting other threads;
 * cf_log_async_stop() writes what is queued and joins the thread (call it
 * before exit). Without it every line is written at once.
 */
CF_MUST_CHECK enum cf_rc cf_log_async_start(void);
void cf_log_async_stop(void);

/* msg, then NULL-terminated pairs of key, value strings. */
void cf_log_kv(enum cf_log_level level, const char *file, int line,
               enum cf_rc rc, const char *msg, ...);

#define cf_log_error(...)                                                      \
    cf_log_kv(CF_LOG_ERROR, __FILE__, __LINE__, CF_OK, __VA_ARGS__,            \
              (const char *)NULL)
#define cf_log_warn(...)                                                       \
    cf_log_kv(CF_LOG_WARN, __FILE__, __LINE__, CF_OK, __VA_ARGS__,             \
              (const char *)NULL)
#define cf_log_info(...)                                                       \
    cf_log_kv(CF_LOG_INFO, __FILE__, __LINE__, CF_OK, __VA_ARGS__,             \
              (const char *)NULL)
#define cf_log_debug(...)                                                      \
    cf_log_kv(CF_LOG_DEBUG, __FILE__, __LINE__, CF_OK, __VA_ARGS__,            \
              (const char *)NULL)
#define cf_log_error_rc(rc, ...)                                               \
    cf_log_kv(CF_LOG_ERROR, __FILE__, __LINE__, (rc), __VA_ARGS__,             \
              (const char *)NULL)
#define cf_log_warn_rc(rc, ...)                                                \
    cf_log_kv(CF_LOG_WARN, __FILE__, __LINE__, (rc), __VA_ARGS__,              \
              (const char *)NULL)

/* The access line of one HTTP request (level info). */
struct cf_log_request {
    const char *request_id;
    const char *tenant; /* NULL on the platform host */
    const char *method;
    const char *route; /* the route pattern, never the raw path */
    int status;
    double duration_ms;
    const char *client_ip;
};
void cf_log_request(const struct cf_log_request *r);

/* ---- outgoing mail ------------------------------------------------
 * Domain modules compose messages and hand them to a cf_mailer; the
 * transport (ops/mail.c: a queue and SMTP through libcurl) delivers them.
 * The domain never learns how, and tests can read what was sent from a
 * real SMTP sink.
 */
struct cf_mail {
    const char *to;      /* one address; CR, LF and NUL refused */
    const char *subject; /* UTF-8, one line */
    const char *body;    /* UTF-8 plain text, lines end with \n */
};
struct cf_mailer {
    /* Queue a copy of m for delivery: CF_OK once queued (delivery is
     * asynchronous, retried), CF_EINVAL for a bad address or header,
     * CF_EBUSY when the queue is full. Any thread. */
    enum cf_rc (*send)(void *arg, const struct cf_mail *m);
    void *arg;
    /* no transport is configured: send() drops every message, so a
     * caller with a link to hand over gives it back to its user */
    bool off;
};

/* ---- the context of a domain call ----------------------------------
 * One struct for every domain call (auth/, authz/, docs/, tenant/): the
 * tenant and its keys, who acts, where the call comes from, and what the
 * server lends (settings, the ban list, the mailer). The request
 * pipeline builds it once per request (src/http/context.c); the command
 * line builds its own. The types are those of higher modules, declared
 * here only as names: core knows none of them.
 */
struct db_pool;
struct cx_keyset;
struct cx_data_key;
struct auth_config;
struct auth_ipban;

struct cf_ctx {
    /* the tenant */
    struct db_pool *pool;
    int64_t tenant_id;
    const char *tenant_slug;
    const char *base_url;   /* "https://SLUG.BASE:PORT", for links in mail */
    struct cx_keyset *keys; /* the tenant's data key and sub-keys */
    const struct cx_data_key *audit_key; /* seals audit details */
    /* who acts: an account (through a session or a token), the command
     * line ("cli:root") or nobody yet (a sign-in) */
    const char *principal;   /* audit: "user:12", "token:<id>", "cli:root" */
    int64_t user_id;         /* the acting account's row; 0 for none */
    const char *role;        /* its built-in role */
    const char *token_perms; /* a token's space-separated list; NULL: a
                                cookie session, no narrowing */
    /* the account acting on others (administration): this context when
     * an account acts; NULL for the command line and the system, whom no
     * rule of B1 narrows */
    const struct cf_ctx *actor;
    /* where from */
    const char *client_ip;  /* may be NULL */
    const char *user_agent; /* may be NULL */
    const char *request_id; /* may be NULL */
    /* what the server lends */
    const struct auth_config *cfg;
    struct auth_ipban *ipban;       /* NULL outside the server */
    const struct cf_mailer *mailer; /* account notices; NULL: none */
    /* where a refusal names its reason: a stable code of the contract
     * ("email_taken", "last_owner", ...) beside the cf_rc; may be NULL */
    const char **why;
};

/* ---- configuration ------------------------------------------------ */

#define CF_CONF_STR 256

/* Every key of coffre.conf, with its default. See README "Configuration". */
struct cf_config {
    char listen[CF_CONF_STR];
    char base_domain[CF_CONF_STR];
    char http_listen[CF_CONF_STR];
    unsigned threads;
    unsigned max_connections_per_ip;
    unsigned connection_timeout;
    size_t max_header_bytes;
    size_t max_body_bytes;
    char tls_cert_file[CF_CONF_STR];
    char tls_key_file[CF_CONF_STR];
    unsigned tenant_pool;
    unsigned handles_per_tenant;
    unsigned busy_timeout_ms;
    char metrics_token[CF_CONF_STR];
    unsigned limit_read_per_minute; /* 0: unlimited */
    unsigned limit_write_per_minute;
    unsigned limit_auth_per_minute;
    unsigned argon2_memory_mib;
    unsigned argon2_passes;
    unsigned session_idle_minutes;
    unsigned session_max_hours;
    unsigned ip_ban_failures;
    unsigned ip_ban_window_minutes;
    unsigned ip_ban_minutes;
    unsigned mfa_optional; /* 1: tenants may make 2FA optional */
    unsigned worker_threads;
    unsigned worker_queue;
    char mail_smtp_url[CF_CONF_STR]; /* empty: mail is off */
    char mail_from[CF_CONF_STR];
    char mail_username[CF_CONF_STR];
    char mail_password_file[CF_CONF_STR];
    char mail_ca_file[CF_CONF_STR];
    unsigned mail_queue;
    enum cf_log_level log_level;
};

/* The key rate limits and bans count the client address ip under, into
 * out (cap bytes, CF_CLIENT_KEY_MAX is enough); returns out. IPv6: its
 * /64 ("2001:db8:1:2::/64"); IPv4, also seen as ::ffff:a.b.c.d: the
 * address; anything else as given. */
#define CF_CLIENT_KEY_MAX 64
const char *cf_client_key(const char *ip, char *out, size_t cap);

/* True when s is "IPv4:PORT" or "[IPv6]:PORT" with a port of 1-65535. */
bool cf_addr_valid(const char *s);

/* Fill cfg with the defaults. */
void cf_config_defaults(struct cf_config *cfg);
/*
 * Read path into cfg (which holds defaults or earlier values). A missing
 * file is not an error (CF_OK, defaults kept). An unknown section or key, a
 * bad value or a syntax error gives CF_EINVAL with a message naming the key
 * and the line in err (always NUL-terminated).
 */
CF_MUST_CHECK enum cf_rc cf_config_load(const char *path, struct cf_config *cfg,
                                        char *err, size_t errlen);
/* Write the documented default file to path (mode 0600), failing with
 * CF_ECONFLICT if it exists. */
CF_MUST_CHECK enum cf_rc cf_config_write_default(const char *path);

#endif
