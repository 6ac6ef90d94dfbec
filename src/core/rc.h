/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The one result code of the project. Fallible functions return a cf_rc;
 * modules add no private code sets. http/ maps each code to one HTTP status.
 */
#ifndef CF_RC_H
#define CF_RC_H

enum cf_rc {
    CF_OK = 0,
    CF_ENOMEM,    /* allocation failed */
    CF_EINVAL,    /* bad input from the caller or the client */
    CF_ETOOBIG,   /* input or buffer over its limit */
    CF_ENOTFOUND, /* no such object */
    CF_ECONFLICT, /* already exists, or state forbids it */
    CF_EAUTH,     /* authentication failed */
    CF_EPERM,     /* authenticated but not allowed */
    CF_ELOCKED,   /* locked out or rate limited */
    CF_EBUSY,     /* capacity exhausted; retry later */
    CF_EIO,       /* file system or network failure */
    CF_EDB,       /* database failure */
    CF_ECRYPTO,   /* authentication tag, key or signature failure */
    CF_EINTERNAL, /* broken invariant or unexpected state */
    CF_RC_COUNT   /* sentinel, not a code */
};

/* Short stable lower-case name of rc ("ok", "enomem", ...). Never NULL. */
const char *cf_rc_str(enum cf_rc rc);

#ifdef CF_DEBUG_ERR
void cf_err_trace(enum cf_rc rc, const char *file, int line);
#    define CF_ERR(code) (cf_err_trace((code), __FILE__, __LINE__), (code))
#else
#    define CF_ERR(code) (code)
#endif

/* Abort on a broken invariant. Never used for input-driven failures. */
#define CF_BUG(msg) cf_bug_at(__FILE__, __LINE__, (msg))
void cf_bug_at(const char *file, int line, const char *msg)
    __attribute__((noreturn));

/* Guards for "impossible" cases: abort in debug builds, fail safe in
 * release (the truth of x is returned so the caller can bail out). */
static inline int
cf_never_at(int x, const char *file, int line, const char *what)
{
#ifdef CF_DEBUG_ERR
    if (x) {
        cf_bug_at(file, line, what);
    }
#else
    (void)file;
    (void)line;
    (void)what;
#endif
    return x;
}
#define CF_NEVER(x) cf_never_at(!!(x), __FILE__, __LINE__, #x)
#define CF_ALWAYS(x) (!CF_NEVER(!(x)))

#endif
