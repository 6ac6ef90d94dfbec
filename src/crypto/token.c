/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Random tokens (session cookies, one-time links) and keyed BLAKE2b hashes
 * (blind indexes of e-mail addresses, stored token hashes, CSRF tokens).
 * Only hashes of tokens are ever stored.
 */
#include "core/compat.h"

#include <sodium.h>

#include "crypto/crypto.h"
#include "crypto/crypto_int.h"

void
cx_token_new(char out[CX_TOKEN_LEN + 1])
{
    unsigned char raw[32];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, CX_TOKEN_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

enum cf_rc
cx_mac_for(const struct cx_data_key *key, const char *purpose, const void *data,
           size_t len, unsigned char out[CX_MAC_BYTES])
{
    crypto_generichash_state st;
    static const unsigned char sep = 0;
    int r;

    r = crypto_generichash_init(&st, key->key, sizeof(key->key), CX_MAC_BYTES);
    if (r == 0) {
        r = crypto_generichash_update(&st, (const unsigned char *)purpose,
                                      strlen(purpose));
    }
    if (r == 0) {
        r = crypto_generichash_update(&st, &sep, 1);
    }
    if (r == 0) {
        r = crypto_generichash_update(&st, data, len);
    }
    if (r == 0) {
        r = crypto_generichash_final(&st, out, CX_MAC_BYTES);
    }
    sodium_memzero(&st, sizeof(st));
    return r == 0 ? CF_OK : CF_ERR(CF_ECRYPTO);
}

enum cf_rc
cx_mac(const struct cx_data_key *key, const void *data, size_t len,
       unsigned char out[CX_MAC_BYTES])
{
    if (crypto_generichash(out, CX_MAC_BYTES, data, len, key->key,
                           sizeof(key->key)) != 0) {
        return CF_ERR(CF_ECRYPTO);
    }
    return CF_OK;
}
