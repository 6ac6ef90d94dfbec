/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for the second-step code parser (auth_code_parse): any
 * bytes. Properties: the canonical form is NUL-terminated within its
 * buffer; a TOTP code is exactly 6 digits; a recovery code exactly 12
 * characters of the recovery alphabet, lower case; an invalid input leaves
 * an empty form; parsing the canonical form again gives the same kind and
 * form (idempotent).
 */
#include "core/compat.h"

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    char norm[AUTH_CODE_NORM_MAX + 1];
    char again[AUTH_CODE_NORM_MAX + 1];
    enum auth_code_kind kind;
    size_t n;

    if (in == NULL) {
        return 0;
    }
    memcpy(in, data, size);
    in[size] = '\0';
    memset(norm, 'x', sizeof(norm));
    kind = auth_code_parse(in, norm);
    n = strnlen(norm, sizeof(norm));
    if (n == sizeof(norm)) {
        abort();
    }
    switch (kind) {
    case AUTH_CODE_TOTP:
        if (n != 6 || strspn(norm, "0123456789") != 6) {
            abort();
        }
        break;
    case AUTH_CODE_RECOVERY:
        if (n != 12 || strspn(norm, "abcdefghjkmnpqrstuvwxyz23456789") != 12) {
            abort();
        }
        break;
    case AUTH_CODE_INVALID:
        if (n != 0) {
            abort();
        }
        break;
    }
    if (kind != AUTH_CODE_INVALID &&
        (auth_code_parse(norm, again) != kind || strcmp(norm, again) != 0)) {
        abort();
    }
    free(in);
    return 0;
}
