/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * crypto: declarations shared by the files of crypto/ and its unit test,
 * never included by another module. The layout of a data key, the borrowed
 * access to the master key bytes, and a test hook for the Argon2id cost.
 */
#ifndef CX_CRYPTO_INT_H
#define CX_CRYPTO_INT_H

#include "crypto/crypto.h"

/*
 * One data key or sub-key. The whole struct is a sodium_malloc'd block
 * (guard pages, mlock'd where the limit allows) that is made read-only
 * once the key bytes are in place: keys are immutable after creation.
 */
struct cx_data_key {
    unsigned char key[CX_KEY_BYTES];
};

/*
 * Allocate a writable data key (contents undefined). The caller fills
 * key->key, then calls cx_data_key_seal() before handing the key out; on
 * failure in between, cx_data_key_free() wipes and releases it.
 * CF_ENOMEM if sodium_malloc fails.
 */
CF_MUST_CHECK enum cf_rc cx_data_key_alloc(struct cx_data_key **out);
/* Make a filled key read-only. CF_EINTERNAL if mprotect fails. */
CF_MUST_CHECK enum cf_rc cx_data_key_seal(struct cx_data_key *key);

/*
 * Borrow the master key bytes for one operation. The key memory is
 * readable from a successful _get until the matching _put, and PROT_NONE
 * whenever no thread holds it (a mutex and a use counter make this safe
 * from any number of threads). *out is borrowed, CX_KEY_BYTES long, and
 * must not be kept past _put. CF_EINTERNAL if mprotect fails.
 */
CF_MUST_CHECK enum cf_rc cx_keyring_key_get(const struct cx_keyring *kr,
                                            const unsigned char **out);
/* Release a borrow taken with cx_keyring_key_get(). */
void cx_keyring_key_put(const struct cx_keyring *kr);

/*
 * Test hook: the Argon2id opslimit and memlimit that cx_master_create()
 * stores for new passphrase files (0, 0 restores the defaults). Unit tests
 * use small limits to stay fast; cx_keyring_open() always uses the limits
 * stored in the file. Not thread safe.
 */
void cx_master_limits_set(unsigned long long opslimit, size_t memlimit);

/* Big-endian encoding of the integers in associated data and files. */
static inline void
cx_put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline void
cx_put_be64(unsigned char *p, uint64_t v)
{
    cx_put_be32(p, (uint32_t)(v >> 32));
    cx_put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t
cx_get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static inline uint64_t
cx_get_be64(const unsigned char *p)
{
    return (uint64_t)cx_get_be32(p) << 32 | cx_get_be32(p + 4);
}

#endif
