/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A tenant data key and its sub-keys, shared by the threads that serve the
 * tenant. Unwrapping a data key and deriving a sub-key each cost a
 * guarded allocation (sodium_malloc: mmap, mprotect, mlock) and a few
 * microseconds of hashing; a request needing five sub-keys paid that on
 * every call. A keyset is made once per tenant and key version (the
 * cache is tenant/'s), derives each sub-key on first use, and is freed,
 * every key wiped, when its last reference goes.
 */
#include "core/compat.h"

#include <pthread.h>
#include <stdatomic.h>

#include "crypto/crypto.h"

#define KEYSET_SUBKEYS 8 /* enum cx_subkey values are 1..7 */

struct cx_keyset {
    atomic_uint refs;
    pthread_mutex_t mu; /* guards sub[] while a sub-key is derived */
    struct cx_data_key *root;
    struct cx_data_key *sub[KEYSET_SUBKEYS];
};

enum cf_rc
cx_keyset_new(struct cx_data_key *root, struct cx_keyset **out)
{
    struct cx_keyset *ks;

    if (root == NULL) {
        return CF_ERR(CF_EINVAL);
    }
    ks = cf_calloc(1, sizeof(*ks));
    if (ks == NULL) {
        cx_data_key_free(root);
        return CF_ERR(CF_ENOMEM);
    }
    atomic_init(&ks->refs, 1);
    pthread_mutex_init(&ks->mu, NULL);
    ks->root = root;
    *out = ks;
    return CF_OK;
}

struct cx_keyset *
cx_keyset_ref(struct cx_keyset *ks)
{
    if (ks != NULL) {
        atomic_fetch_add(&ks->refs, 1);
    }
    return ks;
}

void
cx_keyset_unref(struct cx_keyset *ks)
{
    size_t i;

    if (ks == NULL || atomic_fetch_sub(&ks->refs, 1) != 1) {
        return;
    }
    for (i = 0; i < KEYSET_SUBKEYS; i++) {
        cx_data_key_free(ks->sub[i]);
    }
    cx_data_key_free(ks->root);
    pthread_mutex_destroy(&ks->mu);
    cf_free(ks);
}

const struct cx_data_key *
cx_keyset_root(const struct cx_keyset *ks)
{
    return ks->root;
}

enum cf_rc
cx_keyset_sub(struct cx_keyset *ks, enum cx_subkey purpose,
              const struct cx_data_key **out)
{
    enum cf_rc rc = CF_OK;

    if (ks == NULL || (unsigned)purpose >= KEYSET_SUBKEYS) {
        return CF_ERR(CF_EINVAL);
    }
    pthread_mutex_lock(&ks->mu);
    if (ks->sub[purpose] == NULL) {
        rc = cx_data_key_derive(ks->root, purpose, &ks->sub[purpose]);
    }
    if (rc == CF_OK) {
        *out = ks->sub[purpose];
    }
    pthread_mutex_unlock(&ks->mu);
    return rc;
}
