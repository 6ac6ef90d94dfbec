/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for the names people give to things (auth_label_
 * normalize: API token names today). Any bytes, cut at the first NUL as
 * the JSON layer would. Properties, when a name is accepted: 1 to 64 code
 * points, no space at either end, no C0 or C1 control character or DEL,
 * valid UTF-8 (it goes into the database sealed and back to pages), and
 * normalising the result again gives the same bytes (NFKC is idempotent).
 * A refusal leaves nothing allocated. auth_label(), which names roles,
 * groups and spaces, accepts exactly what the normaliser accepts when its
 * output fits, and gives the same bytes.
 */
#include "core/compat.h"

#include "auth/auth_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL_MAX 64

static void
check_utf8_no_controls(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;

        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xc2) || c > 0xf4 ||
            i + n > len) {
            abort();
        }
        /* C1 controls U+0080..U+009F are C2 80..C2 9F */
        if (c == 0xc2 && s[i + 1] < 0xa0) {
            abort();
        }
        i += n;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    struct auth_text out = AUTH_TEXT_INIT;
    struct auth_text again = AUTH_TEXT_INIT;
    char label[4 * LABEL_MAX + 1];
    enum cf_rc rc;

    if (in == NULL) {
        return 0;
    }
    memcpy(in, data, size);
    in[size] = '\0';
    rc = auth_label(in, LABEL_MAX, label, sizeof(label));
    if (auth_label_normalize(in, LABEL_MAX, &out) == CF_OK) {
        if (out.len < sizeof(label) ? rc != CF_OK || strcmp(label, out.s) != 0
                                    : rc != CF_ETOOBIG) {
            abort();
        }
        if (out.ncp < 1 || out.ncp > LABEL_MAX || out.s[0] == ' ' ||
            out.s[out.len - 1] == ' ' || strlen(out.s) != out.len) {
            abort();
        }
        check_utf8_no_controls((const unsigned char *)out.s, out.len);
        if (auth_label_normalize(out.s, LABEL_MAX, &again) != CF_OK ||
            again.len != out.len || memcmp(again.s, out.s, out.len) != 0) {
            abort();
        }
    } else if (out.s != NULL || rc == CF_OK) {
        abort();
    }
    auth_text_release(&out);
    auth_text_release(&again);
    free(in);
    return 0;
}
