/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for a tenant's upload-type list (COMMITMENT B7)
 * (auth_upload_types_canon: the settings API, the command line and the
 * stored value all go through it). Any bytes, cut at the first NUL.
 * Properties, when accepted: the result fits its buffer, holds only names
 * of AUTH_UPLOAD_TYPES separated by single commas, each once, in the
 * catalogue's order, and reading it again gives the same bytes.
 */
#include "core/compat.h"

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The position of the n bytes at s in the catalogue, or -1. */
static int
type_index(const char *s, size_t n)
{
    static const char known[] = AUTH_UPLOAD_TYPES;
    const char *k = known;
    int i = 0;

    while (*k != '\0') {
        size_t len = strcspn(k, " ");

        if (len == n && strncmp(k, s, n) == 0) {
            return i;
        }
        k += len;
        k += *k == ' ';
        i++;
    }
    return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    char out[AUTH_UPLOAD_TYPES_MAX];
    char again[AUTH_UPLOAD_TYPES_MAX];
    const char *p;
    int last = -1;

    if (in == NULL) {
        return 0;
    }
    memcpy(in, data, size);
    in[size] = '\0';
    if (auth_upload_types_canon(in, out, sizeof(out)) == CF_OK) {
        if (strnlen(out, sizeof(out)) == sizeof(out)) {
            abort();
        }
        for (p = out; *p != '\0';) {
            size_t n = strcspn(p, ",");
            int i = type_index(p, n);

            if (n == 0 || i <= last) {
                abort(); /* unknown, empty, repeated or out of order */
            }
            last = i;
            p += n;
            if (*p == ',' && *++p == '\0') {
                abort(); /* a trailing comma */
            }
        }
        if (auth_upload_types_canon(out, again, sizeof(again)) != CF_OK ||
            strcmp(out, again) != 0) {
            abort();
        }
    }
    free(in);
    return 0;
}
