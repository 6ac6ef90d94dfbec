/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for the e-mail normaliser (auth_email_normalize), the
 * key of every account and the address mail goes to. Any bytes, cut at
 * the first NUL. Properties of an accepted address: at most 254 bytes,
 * exactly one '@' with something on each side, no ASCII upper case, no
 * space, control character or any of "(),:;<>[\] (they would break a
 * mail header), and normalising it again gives the same bytes.
 */
#include "core/compat.h"

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    char *out = NULL;
    char *again = NULL;
    const char *at;
    size_t len;
    size_t i;

    if (in == NULL) {
        return 0;
    }
    memcpy(in, data, size);
    in[size] = '\0';
    if (auth_email_normalize(in, &out) == CF_OK) {
        len = strlen(out);
        at = strchr(out, '@');
        if (len == 0 || len > AUTH_EMAIL_MAX || at == NULL || at == out ||
            at[1] == '\0' || strchr(at + 1, '@') != NULL) {
            abort();
        }
        for (i = 0; i < len; i++) {
            unsigned char c = (unsigned char)out[i];

            if (c <= ' ' || c == 0x7f || (c >= 'A' && c <= 'Z') ||
                strchr("\"(),:;<>[\\]", c) != NULL) {
                abort();
            }
        }
        if (auth_email_normalize(out, &again) != CF_OK ||
            strcmp(out, again) != 0) {
            abort();
        }
    }
    cf_free(out);
    cf_free(again);
    free(in);
    return 0;
}
