/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tenant data keys: creation, wrapping under the master key and the
 * sub-keys derived for each purpose. A wrapped key is
 *   nonce (24) | XChaCha20-Poly1305(data key) (32) | tag (16)
 * with associated data "coffre-dk\0" | tenant id (int64, big-endian) |
 * key version (uint32, big-endian), so a wrapped key copied to another
 * tenant row or version does not open. Sub-keys come from
 * crypto_kdf_derive_from_key with context "coffredk" and the enum
 * cx_subkey value as the sub-key id.
 */
#include "core/compat.h"

#include <sodium.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "crypto/crypto_int.h"

#define DK_AD_TAG "coffre-dk" /* stored with its NUL */
#define DK_AD_TAG_BYTES sizeof(DK_AD_TAG)
#define DK_AD_BYTES (DK_AD_TAG_BYTES + 8 + 4)
#define DK_KDF_CONTEXT "coffredk"
#define DK_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

_Static_assert(CX_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
               "key size");
_Static_assert(CX_KEY_BYTES == crypto_kdf_KEYBYTES, "key size");
_Static_assert(CX_KEY_BYTES >= crypto_kdf_BYTES_MIN &&
                   CX_KEY_BYTES <= crypto_kdf_BYTES_MAX,
               "sub-key size");
_Static_assert(sizeof(DK_KDF_CONTEXT) - 1 == crypto_kdf_CONTEXTBYTES,
               "kdf context");
_Static_assert(CX_WRAPPED_KEY_BYTES ==
                   DK_NONCE_BYTES + CX_KEY_BYTES +
                       crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "wrapped key layout");

static void
dk_ad(int64_t tenant_id, uint32_t version, unsigned char ad[DK_AD_BYTES])
{
    memcpy(ad, DK_AD_TAG, DK_AD_TAG_BYTES);
    cx_put_be64(ad + DK_AD_TAG_BYTES, (uint64_t)tenant_id);
    cx_put_be32(ad + DK_AD_TAG_BYTES + 8, version);
}

enum cf_rc
cx_data_key_alloc(struct cx_data_key **out)
{
    struct cx_data_key *key;

    /* COMMITMENT D3: keys live in guarded, locked memory */
    key = sodium_malloc(sizeof(*key));
    if (key == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    *out = key;
    return CF_OK;
}

enum cf_rc
cx_data_key_seal(struct cx_data_key *key)
{
    if (sodium_mprotect_readonly(key) != 0) {
        return CF_ERR(CF_EINTERNAL);
    }
    return CF_OK;
}

void
cx_data_key_free(struct cx_data_key *key)
{
    sodium_free(key); /* NULL is a no-op; wipes read-only memory too */
}

enum cf_rc
cx_data_key_new(struct cx_data_key **out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct cx_data_key *key = NULL;

    rc = cx_data_key_alloc(&key);
    if (rc != CF_OK) {
        goto out;
    }
    crypto_aead_xchacha20poly1305_ietf_keygen(key->key);
    rc = cx_data_key_seal(key);
    if (rc != CF_OK) {
        goto out;
    }
    *out = key;
    key = NULL; /* transferred */
    rc = CF_OK;
out:
    cx_data_key_free(key);
    return rc;
}

enum cf_rc
cx_data_key_wrap(const struct cx_keyring *kr, const struct cx_data_key *key,
                 int64_t tenant_id, uint32_t version,
                 unsigned char out[CX_WRAPPED_KEY_BYTES])
{
    enum cf_rc rc = CF_EINTERNAL;
    const unsigned char *mk = NULL;
    unsigned char ad[DK_AD_BYTES];
    unsigned char wrapped[CX_WRAPPED_KEY_BYTES];
    unsigned long long clen = 0;

    if (kr == NULL || key == NULL) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    dk_ad(tenant_id, version, ad);
    randombytes_buf(wrapped, DK_NONCE_BYTES);
    rc = cx_keyring_key_get(kr, &mk);
    if (rc != CF_OK) {
        goto out;
    }
    /* COMMITMENT D1: the data key is stored only sealed by the master key,
     * bound to its tenant and version. */
    (void)crypto_aead_xchacha20poly1305_ietf_encrypt(
        wrapped + DK_NONCE_BYTES, &clen, key->key, CX_KEY_BYTES, ad, sizeof(ad),
        NULL, wrapped, mk);
    cx_keyring_key_put(kr);
    if (CF_NEVER(clen != CX_WRAPPED_KEY_BYTES - DK_NONCE_BYTES)) {
        rc = CF_ERR(CF_EINTERNAL);
        goto out;
    }
    memcpy(out, wrapped, sizeof(wrapped));
    rc = CF_OK;
out:
    return rc;
}

enum cf_rc
cx_data_key_unwrap(const struct cx_keyring *kr, const unsigned char *wrapped,
                   size_t len, int64_t tenant_id, uint32_t version,
                   struct cx_data_key **out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct cx_data_key *key = NULL;
    const unsigned char *mk = NULL;
    unsigned char ad[DK_AD_BYTES];
    unsigned long long mlen = 0;
    int bad;

    if (kr == NULL || wrapped == NULL) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (len != CX_WRAPPED_KEY_BYTES) {
        rc = CF_ERR(CF_ECRYPTO);
        goto out;
    }
    dk_ad(tenant_id, version, ad);
    rc = cx_data_key_alloc(&key);
    if (rc != CF_OK) {
        goto out;
    }
    rc = cx_keyring_key_get(kr, &mk);
    if (rc != CF_OK) {
        goto out;
    }
    bad = crypto_aead_xchacha20poly1305_ietf_decrypt(
        key->key, &mlen, NULL, wrapped + DK_NONCE_BYTES,
        CX_WRAPPED_KEY_BYTES - DK_NONCE_BYTES, ad, sizeof(ad), wrapped, mk);
    cx_keyring_key_put(kr);
    if (bad != 0 || mlen != CX_KEY_BYTES) {
        rc = CF_ERR(CF_ECRYPTO);
        goto out;
    }
    rc = cx_data_key_seal(key);
    if (rc != CF_OK) {
        goto out;
    }
    *out = key;
    key = NULL; /* transferred */
    rc = CF_OK;
out:
    cx_data_key_free(key);
    return rc;
}

enum cf_rc
cx_data_key_derive(const struct cx_data_key *key, enum cx_subkey purpose,
                   struct cx_data_key **out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct cx_data_key *sub = NULL;
    bool known = false;

    switch (purpose) {
    case CX_SUBKEY_FIELD:
    case CX_SUBKEY_BLOB:
    case CX_SUBKEY_BLIND_INDEX:
    case CX_SUBKEY_BACKUP:
    case CX_SUBKEY_AUDIT:
    case CX_SUBKEY_TOKEN:
    case CX_SUBKEY_CSRF:
        known = true;
        break;
    }
    if (key == NULL || !known) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    rc = cx_data_key_alloc(&sub);
    if (rc != CF_OK) {
        goto out;
    }
    if (crypto_kdf_derive_from_key(sub->key, CX_KEY_BYTES, (uint64_t)purpose,
                                   DK_KDF_CONTEXT, key->key) != 0) {
        rc = CF_ERR(CF_ECRYPTO);
        goto out;
    }
    rc = cx_data_key_seal(sub);
    if (rc != CF_OK) {
        goto out;
    }
    *out = sub;
    sub = NULL; /* transferred */
    rc = CF_OK;
out:
    cx_data_key_free(sub);
    return rc;
}
