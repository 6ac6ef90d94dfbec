/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Field encryption (one value in a database row) with XChaCha20-Poly1305
 * and a random nonce: nonce (24) | ciphertext | tag (16). The associated
 * data names the value's place, so a ciphertext moved to another row or
 * column does not open. Also libsodium start-up, randomness and the
 * constant-time comparison the other modules use.
 *
 * Results are built in a temporary and appended to the caller's cf_buf in
 * one step: a failed open leaves the buffer as it was, and a buffer that
 * overflows its max is released by cf_buf as usual.
 */
#include "core/compat.h"

#include <sodium.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "crypto/crypto_int.h"

#define FIELD_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

_Static_assert(CX_FIELD_OVERHEAD ==
                   FIELD_NONCE_BYTES +
                       crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "field layout");

enum cf_rc
cx_init(void)
{
    /* 0: done now, 1: already done; both are fine */
    if (sodium_init() < 0) {
        return CF_ERR(CF_ECRYPTO);
    }
    return CF_OK;
}

void
cx_random_buf(void *buf, size_t n)
{
    randombytes_buf(buf, n);
}

bool
cx_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

enum cf_rc
cx_field_seal(const struct cx_data_key *key, const void *ad, size_t adlen,
              const void *pt, size_t ptlen, struct cf_buf *out)
{
    static const unsigned char empty[1];
    enum cf_rc rc = CF_EINTERNAL;
    unsigned char *tmp = NULL;
    size_t total = 0;
    unsigned long long clen = 0;

    if (key == NULL || out == NULL || (ad == NULL && adlen > 0) ||
        (pt == NULL && ptlen > 0)) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (ptlen > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX) {
        rc = CF_ERR(CF_ETOOBIG);
        goto out;
    }
    rc = cf_size_add(ptlen, CX_FIELD_OVERHEAD, &total);
    if (rc != CF_OK) {
        goto out;
    }
    tmp = cf_malloc(total);
    if (tmp == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    randombytes_buf(tmp, FIELD_NONCE_BYTES);
    /* COMMITMENT D1: personal fields are stored sealed */
    (void)crypto_aead_xchacha20poly1305_ietf_encrypt(
        tmp + FIELD_NONCE_BYTES, &clen, pt != NULL ? pt : empty, ptlen, ad,
        adlen, NULL, tmp, key->key);
    if (CF_NEVER(clen != total - FIELD_NONCE_BYTES)) {
        rc = CF_ERR(CF_EINTERNAL);
        goto out;
    }
    rc = cf_buf_add(out, tmp, total);
    if (rc != CF_OK) {
        goto out;
    }
    rc = CF_OK;
out:
    cf_free(tmp);
    return rc;
}

enum cf_rc
cx_field_open(const struct cx_data_key *key, const void *ad, size_t adlen,
              const void *ct, size_t ctlen, struct cf_buf *out)
{
    enum cf_rc rc = CF_EINTERNAL;
    const unsigned char *c = ct;
    /* the short fields (names, addresses) open on the stack: a list
     * opens one per row */
    unsigned char small[1024];
    unsigned char *tmp = NULL;
    size_t ptlen = 0;
    unsigned long long mlen = 0;

    if (key == NULL || out == NULL || (ad == NULL && adlen > 0) ||
        (ct == NULL && ctlen > 0)) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (ctlen < CX_FIELD_OVERHEAD) {
        rc = CF_ERR(CF_ECRYPTO);
        goto out;
    }
    ptlen = ctlen - CX_FIELD_OVERHEAD;
    tmp = ptlen <= sizeof(small) ? small : cf_malloc(ptlen);
    if (tmp == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            tmp, &mlen, NULL, c + FIELD_NONCE_BYTES, ctlen - FIELD_NONCE_BYTES,
            ad, adlen, c, key->key) != 0) {
        rc = CF_ERR(CF_ECRYPTO);
        goto out;
    }
    if (CF_NEVER(mlen != ptlen)) {
        rc = CF_ERR(CF_EINTERNAL);
        goto out;
    }
    rc = cf_buf_add(out, tmp, ptlen);
    if (rc != CF_OK) {
        goto out;
    }
    rc = CF_OK;
out:
    if (tmp != NULL) {
        cf_memzero(tmp, ptlen); /* clear text */
        if (tmp != small) {
            cf_free(tmp);
        }
    }
    return rc;
}
