/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * ops: what the operator watches and what keeps the server responsive:
 * request metrics in Prometheus text format, readiness checks, and the
 * bounded worker pool that runs expensive work (Argon2id, scanning,
 * exports) off the HTTP threads (invariant 7).
 */
#ifndef OPS_OPS_H
#define OPS_OPS_H

#include "core/core.h"
#include "crypto/crypto.h"
#include "db/db.h"

/* ---- metrics ------------------------------------------------------- */

struct ops_metrics;

/*
 * Metrics for nroutes routes named by route_names (borrowed, must outlive
 * the metrics: the route patterns). Route index nroutes counts requests
 * that matched no route. Caller frees with ops_metrics_free().
 */
CF_MUST_CHECK enum cf_rc ops_metrics_new(size_t nroutes,
                                         const char *const *route_names,
                                         const char *const *route_methods,
                                         struct ops_metrics **out);
void ops_metrics_free(struct ops_metrics *m);
/* Count one request: lock-free, any thread. route >= nroutes: unmatched. */
void ops_metrics_observe(struct ops_metrics *m, size_t route, int status,
                         double seconds);
/* Render every metric in Prometheus text format 0.0.4 into out, with
 * the gauge coffre_tenants_open = open_tenants. */
CF_MUST_CHECK enum cf_rc ops_metrics_render(struct ops_metrics *m,
                                            unsigned open_tenants,
                                            struct cf_buf *out);

/* ---- readiness ----------------------------------------------------- */

/* Check that the control database answers, the master key is loaded and
 * the tenants folder is writable; append a JSON object of the checks
 * ({"control_db":"ok",...}) to out. CF_OK when all pass, CF_EBUSY when
 * one fails (out still describes them). */
CF_MUST_CHECK enum cf_rc ops_ready(struct db *control,
                                   const struct cx_keyring *kr,
                                   const char *tenants_dir, struct cf_buf *out);

/* ---- worker pool --------------------------------------------------- */

struct ops_workers;
typedef void (*ops_job_fn)(void *arg);

/* nthreads threads and a queue of at most queue_max waiting jobs. */
CF_MUST_CHECK enum cf_rc ops_workers_new(unsigned nthreads, unsigned queue_max,
                                         struct ops_workers **out);
/*
 * Queue fn(arg). CF_EBUSY when the queue is full (the caller answers 503
 * with Retry-After); the job is then not run and arg stays the caller's.
 * Any thread.
 */
CF_MUST_CHECK enum cf_rc ops_workers_submit(struct ops_workers *w,
                                            ops_job_fn fn, void *arg);
/* Jobs waiting (not running). */
unsigned ops_workers_queued(struct ops_workers *w);
/* Run every queued job, stop the threads, free. NULL is a no-op. */
void ops_workers_free(struct ops_workers *w);

/* ---- outgoing mail ------------------------------------------------- */

/*
 * The transport behind struct cf_mailer: a bounded queue in memory and one
 * sender thread that delivers over SMTP with libcurl, STARTTLS required
 * (smtp://) or implicit TLS (smtps://), the peer certificate and host name
 * always verified. A failed attempt is retried with a doubling delay; after
 * the last attempt the message is counted failed and dropped. Queued and
 * formatted copies are wiped before they are freed: a body may hold a
 * single-use link. The log names a message by its id, never by its
 * address, subject or body. See docs/internals/mail.md.
 */
struct ops_mail;

/* Borrowed strings: they only need to live through ops_mail_new(). */
struct ops_mail_opts {
    const char *smtp_url;      /* smtp://HOST:PORT or smtps://HOST:PORT;
                                  NULL or empty: mail is off */
    const char *from;          /* sender address, local@domain */
    const char *username;      /* NULL or empty: no AUTH */
    const char *password_file; /* with username: a regular file, no group
                                  or other permission bits */
    const char *ca_file;       /* PEM bundle; NULL or empty: system CAs */
    unsigned queue_max;        /* messages waiting, in flight included */
    unsigned retry_first_ms;   /* 0: 5000; the delay doubles each retry */
    unsigned attempts;         /* 0: 6 */
    unsigned timeout_s;        /* 0: 30; connection and transfer, each */
};

/* Fill out from the [mail] section of cfg; the strings are borrowed from
 * cfg, the timings are the defaults (0). */
void ops_mail_opts_from(const struct cf_config *cfg, struct ops_mail_opts *out);

/*
 * Check the options, read the password file and start the sender thread.
 * CF_EINVAL, with the reason logged, for a URL that is not smtp:// or
 * smtps:// with a host (or that carries a user name or password), a from
 * address that is not one address (CR, LF...), a queue_max of 0, a
 * username without a password file (or the reverse), a password file that
 * cannot be read, is not a regular file, grants any access to group or
 * others, is empty or holds more than one line; CF_EINTERNAL when libcurl
 * cannot be set up; CF_ENOMEM. With mail off (NULL or empty URL) nothing
 * else is checked, no thread is started and every message is dropped (see
 * ops_mail_mailer()). The first call runs curl_global_init() (once, under
 * pthread_once). Caller frees with ops_mail_free().
 */
CF_MUST_CHECK enum cf_rc ops_mail_new(const struct ops_mail_opts *o,
                                      struct ops_mail **out);

/*
 * Fill out so that out->send(out->arg, mail) validates mail, copies it
 * into m's queue and wakes the sender (the caller's strings are not kept).
 * send() returns CF_OK once queued; CF_EINVAL when to is not one address
 * (local@domain, at most 254 bytes, no control character, space, <, >, ",",
 * ";", ":", "(", ")", quote or backslash), the subject is not one line of
 * at most 998 bytes, or any field is not valid UTF-8; CF_ETOOBIG for a
 * body over 256 KiB; CF_EBUSY when the queue is full or m is stopping;
 * CF_ENOMEM. With mail off, a valid message is counted dropped, a warning
 * mail.off is logged and send() returns CF_OK, so that a server without
 * SMTP keeps working. Any thread. m must outlive every use of out.
 */
void ops_mail_mailer(struct ops_mail *m, struct cf_mailer *out);

/* Counters since ops_mail_new(): accepted into the queue, delivered,
 * given up after the last attempt, dropped (mail off, or left at
 * ops_mail_free()); and how many wait now (in flight included). */
struct ops_mail_stats {
    uint64_t queued;
    uint64_t sent;
    uint64_t failed;
    uint64_t dropped;
    unsigned waiting;
};
/* A consistent snapshot of m's counters into out. Any thread. */
void ops_mail_stats(struct ops_mail *m, struct ops_mail_stats *out);

/*
 * Try to deliver what is queued for at most grace_ms (a message waiting for
 * its retry is tried at once), then stop the sender (a transfer still
 * running is aborted, within about a second), count what is left as
 * dropped (logged), wipe and free everything. NULL is a no-op. Call once,
 * when no other thread uses m any more.
 */
void ops_mail_free(struct ops_mail *m, unsigned grace_ms);

/*
 * The two encoders of the message format, exposed for the tests.
 * ops_mail_qp_encode() appends text[0..len) as quoted-printable (RFC 2045
 * section 6.7): lines end with CRLF (a "\n" or "\r\n" of the text is a
 * line break), no encoded line is longer than 76 characters (soft breaks
 * "=" CRLF), "=", bytes outside printable ASCII and a space or tab before a
 * line break are encoded as =XX. ops_mail_header_encode() appends the value
 * of an unstructured header: s itself when it is printable ASCII without
 * "=?" and fits on a 78-character line after a field name of name_len
 * bytes plus ": ", else RFC 2047 encoded-words =?UTF-8?B?...?= of at most
 * 72 characters, each holding whole UTF-8 characters, folded with CRLF
 * SP. Both: CF_ETOOBIG past out's max (out is then released), CF_ENOMEM.
 */
CF_MUST_CHECK enum cf_rc ops_mail_qp_encode(const char *text, size_t len,
                                            struct cf_buf *out);
CF_MUST_CHECK enum cf_rc ops_mail_header_encode(const char *s, size_t name_len,
                                                struct cf_buf *out);

/* Log whether mail is off or where it goes (serve calls it once, after
 * its "listening" line). NULL is a no-op. */
void ops_mail_log_state(const struct ops_mail *m);

#endif
