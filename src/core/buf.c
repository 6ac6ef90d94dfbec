/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The capped growable buffer (struct cf_buf). Growth doubles, is checked for
 * overflow, and stops at the buffer's max: an append that would cross it
 * releases the buffer and returns CF_ETOOBIG.
 */
#include "core/compat.h"

#include "core/core.h"

void
cf_buf_init(struct cf_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
cf_buf_release(struct cf_buf *b)
{
    if (b->data != NULL) {
        cf_memzero(b->data, b->cap);
        cf_free(b->data);
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
cf_buf_reset(struct cf_buf *b)
{
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

static enum cf_rc
buf_grow(struct cf_buf *b, size_t extra)
{
    size_t need;
    size_t cap;
    char *p;

    if (cf_size_add(b->len, extra, &need) != CF_OK || need > b->max) {
        cf_buf_release(b);
        return CF_ERR(CF_ETOOBIG);
    }
    if (need < b->cap) { /* room for the NUL too */
        return CF_OK;
    }
    cap = b->cap ? b->cap : 64;
    while (cap <= need) {
        if (cf_size_mul(cap, 2, &cap) != CF_OK) {
            cf_buf_release(b);
            return CF_ERR(CF_ETOOBIG);
        }
    }
    if (cap > b->max + 1 && b->max < SIZE_MAX) {
        cap = b->max + 1;
    }
    /* Never realloc: the old block may hold secrets and must be wiped. */
    p = cf_malloc(cap);
    if (p == NULL) {
        cf_buf_release(b);
        return CF_ERR(CF_ENOMEM);
    }
    if (b->data != NULL) {
        memcpy(p, b->data, b->len + 1);
        cf_memzero(b->data, b->cap);
        cf_free(b->data);
    } else {
        p[0] = '\0';
    }
    b->data = p;
    b->cap = cap;
    return CF_OK;
}

enum cf_rc
cf_buf_add(struct cf_buf *b, const void *p, size_t n)
{
    enum cf_rc rc;

    rc = buf_grow(b, n);
    if (rc != CF_OK) {
        return rc;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return CF_OK;
}

enum cf_rc
cf_buf_adds(struct cf_buf *b, const char *s)
{
    return cf_buf_add(b, s, strlen(s));
}

enum cf_rc
cf_buf_addch(struct cf_buf *b, char c)
{
    return cf_buf_add(b, &c, 1);
}

enum cf_rc
cf_buf_addf(struct cf_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    enum cf_rc rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        cf_buf_release(b);
        return CF_ERR(CF_EINVAL);
    }
    rc = buf_grow(b, (size_t)n);
    if (rc != CF_OK) {
        return rc;
    }
    va_start(ap, fmt);
    (void)vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CF_OK;
}

enum cf_rc
cf_buf_grow(struct cf_buf *b, size_t extra)
{
    return buf_grow(b, extra);
}

/* The bytes JSON wants escaped: controls as \u00hh but for the three
 * short forms, the quote and the backslash. */
static size_t
json_esc_len(unsigned char c)
{
    if (c >= 0x20) {
        return c == '"' || c == '\\' ? 2 : 1;
    }
    return c == '\n' || c == '\r' || c == '\t' ? 2 : 6;
}

enum cf_rc
cf_buf_add_json_str(struct cf_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p;
    size_t n = 2; /* the quotes */
    size_t len;
    size_t extra = 0; /* bytes the escapes add */
    char *o;
    enum cf_rc rc;

    /* measured first, grown once, written in place: the signed-in
     * pages write a few dozen strings per answer, most with nothing to
     * escape, which are then copied whole */
    for (p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == '"' || *p == '\\') {
            extra += json_esc_len(*p) - 1;
        }
    }
    len = (size_t)(p - (const unsigned char *)s);
    n += len + extra;
    /* at most 6 bytes out per byte in: no wrap below this length */
    if (len > (SIZE_MAX - 2) / 6) {
        cf_buf_release(b);
        return CF_ERR(CF_ETOOBIG);
    }
    rc = buf_grow(b, n);
    if (rc != CF_OK) {
        return rc;
    }
    o = b->data + b->len;
    *o++ = '"';
    if (extra == 0) {
        memcpy(o, s, len);
        o += len;
    }
    for (p = (const unsigned char *)s; extra > 0 && *p; p++) {
        if (json_esc_len(*p) == 1) {
            *o++ = (char)*p;
            continue;
        }
        *o++ = '\\';
        switch (*p) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
            break;
        }
    }
    *o++ = '"';
    b->len += n;
    b->data[b->len] = '\0';
    return CF_OK;
}

enum cf_rc
cf_buf_add_html(struct cf_buf *b, const char *s)
{
    enum cf_rc rc = CF_OK;

    for (; rc == CF_OK && *s; s++) {
        switch (*s) {
        case '&':
            rc = cf_buf_adds(b, "&amp;");
            break;
        case '<':
            rc = cf_buf_adds(b, "&lt;");
            break;
        case '>':
            rc = cf_buf_adds(b, "&gt;");
            break;
        case '"':
            rc = cf_buf_adds(b, "&quot;");
            break;
        case '\'':
            rc = cf_buf_adds(b, "&#39;");
            break;
        default:
            rc = cf_buf_addch(b, *s);
            break;
        }
    }
    return rc;
}

const char *
cf_buf_str(const struct cf_buf *b)
{
    return b->data != NULL ? b->data : "";
}

enum cf_rc
cf_buf_detach(struct cf_buf *b, char **out, size_t *len_out)
{
    enum cf_rc rc;

    if (b->data == NULL) {
        rc = buf_grow(b, 0);
        if (rc != CF_OK) {
            return rc;
        }
    }
    *out = b->data;
    if (len_out != NULL) {
        *len_out = b->len;
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return CF_OK;
}
