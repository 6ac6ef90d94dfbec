/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What policy.c and email.c share: Unicode NFKC normalisation with
 * utf8proc into one owned buffer that is wiped on release, and the lookup
 * in the common-password list compiled in from data/common-passwords.txt
 * (COMMITMENT A2).
 *
 * utf8proc_map() would be shorter, but it allocates with malloc behind our
 * back and shrinks its buffer with realloc, which can leave a copy of the
 * code points of a password in freed memory. Here the three steps it is
 * made of (decompose, then compose and re-encode in place) run on a buffer
 * we allocate through cf_malloc (so allocation failure is testable) and
 * wipe ourselves.
 */
#include "core/compat.h"

#include <utf8proc.h>

#include "auth/auth_int.h"

/* UTF-8 can take at most 4 bytes per code point and the UTF-32 buffer
 * has 4 per code point, so re-encoding in place always fits. The input
 * bound keeps utf8proc's ssize_t arithmetic far from overflow. */
#define AUTH_TEXT_INPUT_LIMIT ((size_t)1 << 30)

static enum cf_rc
text_rc(utf8proc_ssize_t err)
{
    switch (err) {
    case UTF8PROC_ERROR_INVALIDUTF8:
        return CF_ERR(CF_EINVAL);
    case UTF8PROC_ERROR_NOMEM:
        return CF_ERR(CF_ENOMEM);
    case UTF8PROC_ERROR_OVERFLOW:
        return CF_ERR(CF_ETOOBIG);
    default:
        return CF_ERR(CF_EINTERNAL);
    }
}

enum cf_rc
auth_text_normalize(const char *in, size_t len, unsigned flags,
                    struct auth_text *out)
{
    utf8proc_option_t opts =
        UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    const utf8proc_uint8_t *src = (const utf8proc_uint8_t *)(in ? in : "");
    struct auth_text t = AUTH_TEXT_INIT;
    utf8proc_int32_t *buf = NULL;
    utf8proc_ssize_t n;
    utf8proc_ssize_t m;
    size_t count;
    size_t i;
    enum cf_rc rc = CF_EINTERNAL;

    if (in == NULL && len != 0) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (len > AUTH_TEXT_INPUT_LIMIT) {
        rc = CF_ERR(CF_ETOOBIG);
        goto out;
    }
    if (flags & AUTH_TEXT_FOLD) {
        opts |= UTF8PROC_CASEFOLD;
    }
    /* First pass: validate and count, storing nothing. */
    n = utf8proc_decompose(src, (utf8proc_ssize_t)len, NULL, 0, opts);
    if (n < 0) {
        rc = text_rc(n);
        goto out;
    }
    /* one spare unit: utf8proc_reencode() writes a NUL after the text */
    rc = cf_size_add((size_t)n, 1, &count);
    if (rc != CF_OK) {
        goto out;
    }
    rc = cf_size_mul(count, sizeof(*buf), &t.cap);
    if (rc != CF_OK) {
        goto out;
    }
    buf = cf_malloc(t.cap);
    if (buf == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    t.s = (char *)buf;
    m = utf8proc_decompose(src, (utf8proc_ssize_t)len, buf, n, opts);
    if (CF_NEVER(m != n)) {
        rc = CF_ERR(CF_EINTERNAL);
        goto out;
    }
    if (flags & AUTH_TEXT_LOWER) {
        /* Compose first so that lower-casing sees whole characters;
         * utf8proc_reencode() composes again after the mapping. */
        m = utf8proc_normalize_utf32(buf, n, opts);
        if (m < 0) {
            rc = text_rc(m);
            goto out;
        }
        for (i = 0; i < (size_t)m; i++) {
            buf[i] = utf8proc_tolower(buf[i]);
        }
        n = m;
    }
    m = utf8proc_reencode(buf, n, opts);
    if (m < 0) {
        rc = text_rc(m);
        goto out;
    }
    t.len = (size_t)m;
    for (i = 0; i < t.len; i++) {
        if (((unsigned char)t.s[i] & 0xc0) != 0x80) {
            t.ncp++;
        }
    }
    *out = t;
    t.s = NULL; /* transferred */
    rc = CF_OK;
out:
    auth_text_release(&t);
    return rc;
}

void
auth_text_release(struct auth_text *t)
{
    if (t == NULL) {
        return;
    }
    if (t->s != NULL) {
        cf_memzero(t->s, t->cap);
        cf_free(t->s);
    }
    t->s = NULL;
    t->len = 0;
    t->ncp = 0;
    t->cap = 0;
}

/* ---- common-password list ------------------------------------------- */

struct common_key {
    const char *s;
    size_t len;
};

/* Bytewise order with the shorter prefix first: the order in which
 * tools/wordlist sorts (strcmp), extended to keys with inner NULs. */
static int
common_cmp(const void *k, const void *e)
{
    const struct common_key *key = k;
    const char *entry = *(const char *const *)e;
    size_t elen = strlen(entry);
    int c = memcmp(key->s, entry, key->len < elen ? key->len : elen);

    if (c != 0) {
        return c;
    }
    return (key->len > elen) - (key->len < elen);
}

bool
auth_common_contains(const char *s, size_t len)
{
    struct common_key key = {s, len};

    if (s == NULL || len == 0 || auth_common_passwords_count == 0) {
        return false;
    }
    return bsearch(&key, auth_common_passwords, auth_common_passwords_count,
                   sizeof(auth_common_passwords[0]), common_cmp) != NULL;
}
