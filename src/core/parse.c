/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Strict number parsing: the whole string, decimal, within bounds.
 */
#include "core/compat.h"

#include "core/core.h"

enum cf_rc
cf_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;

    if (s == NULL || *s == '\0' || strlen(s) > 20) {
        return CF_ERR(CF_EINVAL);
    }
    for (; *p; p++) {
        unsigned d;

        if (*p < '0' || *p > '9') {
            return CF_ERR(CF_EINVAL);
        }
        d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return CF_ERR(CF_EINVAL);
        }
        v = v * 10 + d;
    }
    if (v < min || v > max) {
        return CF_ERR(CF_EINVAL);
    }
    *out = v;
    return CF_OK;
}

enum cf_rc
cf_parse_int(const char *s, int min, int max, int *out)
{
    bool neg = false;
    uint64_t mag;
    int64_t v;
    enum cf_rc rc;

    if (s != NULL && *s == '-') {
        neg = true;
        s++;
    }
    rc = cf_parse_u64(s, 0, (uint64_t)INT_MAX + 1, &mag);
    if (rc != CF_OK) {
        return rc;
    }
    v = neg ? -(int64_t)mag : (int64_t)mag;
    if (v < min || v > max) {
        return CF_ERR(CF_EINVAL);
    }
    *out = (int)v;
    return CF_OK;
}
