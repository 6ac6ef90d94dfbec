/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Small string helpers on fixed-size arrays. Every module copying a
 * string into a capped field uses cf_strlcpy() rather than a private
 * copy of it, so truncation behaves the same everywhere.
 */
#include "core/compat.h"

#include <string.h>

#include "core/core.h"

size_t
cf_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t len = src != NULL ? strlen(src) : 0;
    size_t n = len;

    if (cap == 0) {
        return len;
    }
    if (n >= cap) {
        n = cap - 1;
    }
    if (n > 0) {
        memcpy(dst, src, n);
    }
    dst[n] = '\0';
    return len;
}

size_t
cf_strjoin(char *out, size_t cap, const char *const *parts, size_t n)
{
    size_t len = 0;
    size_t i;

    if (cap == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        size_t l = parts[i] != NULL ? strlen(parts[i]) : 0;

        if (l >= cap - len) {
            out[0] = '\0';
            return 0;
        }
        if (l > 0) {
            memcpy(out + len, parts[i], l);
        }
        len += l;
    }
    out[len] = '\0';
    return len;
}

char *
cf_i64_dec(int64_t v, char out[CF_I64_DEC_LEN])
{
    char tmp[CF_I64_DEC_LEN];
    /* the magnitude as unsigned: INT64_MIN has no positive int64_t */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0;
    size_t i = 0;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        out[i++] = '-';
    }
    while (n > 0) {
        out[i++] = tmp[--n];
    }
    out[i] = '\0';
    return out;
}
