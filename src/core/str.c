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
