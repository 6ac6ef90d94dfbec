/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * crypto: the only module that calls libsodium. Prefix cx_ (libsodium owns
 * crypto_*).
 *
 * Keys: the master key (32 random bytes in DATA/master.key, mode 0600, or
 * derived with Argon2id from a passphrase) wraps each tenant's data key with
 * XChaCha20-Poly1305; the associated data binds the wrapped key to its
 * tenant id and key version. A data key derives sub-keys with crypto_kdf for
 * fields, blobs, the e-mail blind index, backups and audit details.
 *
 * Every key lives in sodium_malloc'd memory; the master key is kept
 * PROT_NONE except while it is in use. Objects are immutable after creation
 * and safe to share between threads.
 */
#ifndef CX_CRYPTO_H
#define CX_CRYPTO_H

#include "core/core.h"

#define CX_KEY_BYTES 32
/* nonce (24) + sealed key (32) + tag (16) */
#define CX_WRAPPED_KEY_BYTES 72
/* Overhead of cx_field_seal(): nonce (24) + tag (16). */
#define CX_FIELD_OVERHEAD 40

/* Environment variable holding the passphrase in passphrase mode. */
#define CX_PASSPHRASE_ENV "COFFRE_MASTER_PASSPHRASE"
#define CX_MASTER_KEY_FILE "master.key"
#define CX_MASTER_PASS_FILE "master.pass"

struct cx_keyring;  /* the master key */
struct cx_data_key; /* one tenant data key or a sub-key of it */

/* Sub-key purposes (crypto_kdf subkey ids); never renumber. */
enum cx_subkey {
    CX_SUBKEY_FIELD = 1,
    CX_SUBKEY_BLOB = 2,
    CX_SUBKEY_BLIND_INDEX = 3,
    CX_SUBKEY_BACKUP = 4,
    CX_SUBKEY_AUDIT = 5,
    CX_SUBKEY_TOKEN = 6, /* keyed hashes of session and one-time tokens */
    CX_SUBKEY_CSRF = 7,  /* CSRF tokens derived from session tokens */
};

/* Initialise libsodium; call once at start, before threads. */
CF_MUST_CHECK enum cf_rc cx_init(void);

/*
 * Create the master key material in datadir. If the environment variable
 * CX_PASSPHRASE_ENV is set and non-empty, writes CX_MASTER_PASS_FILE (salt,
 * Argon2id parameters, a check value; no key) instead of a key file.
 * Files are created 0600 with O_EXCL: CF_ECONFLICT if either exists.
 */
CF_MUST_CHECK enum cf_rc cx_master_create(const char *datadir);

/* True if datadir holds master key material of either mode. */
bool cx_master_exists(const char *datadir);

/*
 * Load the master key of datadir. Key-file mode refuses a file readable or
 * writable by group or others (CF_EPERM) and a file of the wrong size
 * (CF_ECRYPTO). Passphrase mode needs CX_PASSPHRASE_ENV (CF_EAUTH if unset
 * or wrong). No material: CF_ENOTFOUND. On failure err receives a message
 * naming the file and the fix (always NUL-terminated). *out is caller-frees
 * with cx_keyring_free().
 */
CF_MUST_CHECK enum cf_rc cx_keyring_open(const char *datadir, char *err,
                                         size_t errlen,
                                         struct cx_keyring **out);
/* Added: both files present (cx_master_create() never makes both) gives
 * CF_ECONFLICT; an unreadable file CF_EPERM or CF_EIO; Argon2id short of
 * memory CF_ENOMEM. Reads CX_PASSPHRASE_ENV with getenv(): call it before
 * starting threads. */
void cx_keyring_free(struct cx_keyring *kr);

/* A fresh random data key. Caller frees with cx_data_key_free(). */
CF_MUST_CHECK enum cf_rc cx_data_key_new(struct cx_data_key **out);
void cx_data_key_free(struct cx_data_key *key);

/* Seal key under the master key; AD = tenant_id and version. */
CF_MUST_CHECK enum cf_rc
cx_data_key_wrap(const struct cx_keyring *kr, const struct cx_data_key *key,
                 int64_t tenant_id, uint32_t version,
                 unsigned char out[CX_WRAPPED_KEY_BYTES]);
/* Open a wrapped key. Wrong tenant, version, master key or any flipped
 * bit: CF_ECRYPTO. Caller frees *out. */
CF_MUST_CHECK enum cf_rc cx_data_key_unwrap(const struct cx_keyring *kr,
                                            const unsigned char *wrapped,
                                            size_t len, int64_t tenant_id,
                                            uint32_t version,
                                            struct cx_data_key **out);
/* Derive the sub-key for purpose from key. Caller frees *out. */
CF_MUST_CHECK enum cf_rc cx_data_key_derive(const struct cx_data_key *key,
                                            enum cx_subkey purpose,
                                            struct cx_data_key **out);

/*
 * A keyset: a tenant data key with its sub-keys derived once, on first
 * use, shared by threads (reference-counted). cx_keyset_new() takes root
 * (freed even on failure); the last cx_keyset_unref() wipes every key.
 * cx_keyset_sub() gives a sub-key that lives as long as the keyset.
 */
struct cx_keyset;
CF_MUST_CHECK enum cf_rc cx_keyset_new(struct cx_data_key *root,
                                       struct cx_keyset **out);
struct cx_keyset *cx_keyset_ref(struct cx_keyset *ks);
void cx_keyset_unref(struct cx_keyset *ks);
const struct cx_data_key *cx_keyset_root(const struct cx_keyset *ks);
CF_MUST_CHECK enum cf_rc cx_keyset_sub(struct cx_keyset *ks,
                                       enum cx_subkey purpose,
                                       const struct cx_data_key **out);

/*
 * Authenticated encryption of one field (XChaCha20-Poly1305, random nonce):
 * appends nonce || ciphertext || tag to out. ad (may be NULL when adlen is
 * 0) binds the value to its place (table, column, row id).
 */
CF_MUST_CHECK enum cf_rc cx_field_seal(const struct cx_data_key *key,
                                       const void *ad, size_t adlen,
                                       const void *pt, size_t ptlen,
                                       struct cf_buf *out);
/* Added, for cx_field_seal() and cx_field_open(): out grows by exactly
 * ptlen + CX_FIELD_OVERHEAD (resp. ctlen - CX_FIELD_OVERHEAD). A failure of
 * the final append (CF_ENOMEM, or CF_ETOOBIG over out->max) releases out,
 * as every cf_buf append does; any earlier failure leaves out unchanged. */
/* Reverse of cx_field_seal(); appends the plaintext to out. Tampering or
 * the wrong key/ad: CF_ECRYPTO and out unchanged. */
CF_MUST_CHECK enum cf_rc cx_field_open(const struct cx_data_key *key,
                                       const void *ad, size_t adlen,
                                       const void *ct, size_t ctlen,
                                       struct cf_buf *out);

/* ---- password hashing (COMMITMENT A4) ------------------------------ */

/* Longest hash string cx_pwhash() writes, NUL included. */
#define CX_PWHASH_STR_MAX 128

/* Argon2id cost: memory in KiB and passes. */
struct cx_pwhash_cost {
    size_t memory_kib;
    unsigned long long passes;
};

/*
 * Hash password_secret (len bytes) with Argon2id (crypto_pwhash_str_alg)
 * at cost into out, an encoded string carrying salt and parameters. Slow
 * by design (about 60 ms at 64 MiB, 2 passes here): call it from the
 * worker pool, never on an HTTP thread. CF_EINVAL for a cost outside
 * libsodium's limits, CF_ENOMEM when the memory cannot be had.
 */
CF_MUST_CHECK enum cf_rc cx_pwhash(const char *password_secret, size_t len,
                                   const struct cx_pwhash_cost *cost,
                                   char out[CX_PWHASH_STR_MAX]);
/*
 * Check password_secret against hash. CF_OK when it matches, CF_EAUTH
 * when not, CF_EINVAL for a string that is not an Argon2id hash. As slow
 * as cx_pwhash().
 */
CF_MUST_CHECK enum cf_rc
cx_pwhash_verify(const char *hash, const char *password_secret, size_t len);
/* True when hash was made at another cost than cost (upgrade it at the
 * next successful login) or is not a valid hash. */
bool cx_pwhash_needs_rehash(const char *hash,
                            const struct cx_pwhash_cost *cost);

/* ---- tokens and keyed hashes -------------------------------------- */

/* 32 random bytes as unpadded base64url: 43 characters + NUL. */
#define CX_TOKEN_LEN 43
#define CX_MAC_BYTES 32

/* A fresh random token for links and sessions. */
void cx_token_new(char out[CX_TOKEN_LEN + 1]);
/* Keyed BLAKE2b-256 of data under key (a sub-key): blind indexes, token
 * hashes, CSRF tokens. */
CF_MUST_CHECK enum cf_rc cx_mac(const struct cx_data_key *key, const void *data,
                                size_t len, unsigned char out[CX_MAC_BYTES]);
/* cx_mac() of data kept apart from every other use of the key by purpose
 * (a NUL-free label, e.g. "access_log.device"): MAC(purpose || 0 || data).
 * For a keyed hash a query compares instead of a value kept sealed. */
CF_MUST_CHECK enum cf_rc cx_mac_for(const struct cx_data_key *key,
                                    const char *purpose, const void *data,
                                    size_t len,
                                    unsigned char out[CX_MAC_BYTES]);

/* Fill buf with n cryptographically random bytes. */
void cx_random_buf(void *buf, size_t n);
/* Constant-time comparison; true when equal. */
bool cx_equal(const void *a, const void *b, size_t n);

#endif
