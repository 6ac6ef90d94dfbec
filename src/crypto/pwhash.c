/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Password hashing with Argon2id (COMMITMENT A4). The encoded string holds
 * the algorithm, the cost and the salt, so a raised cost is detected per
 * hash and applied at the next successful login.
 */
#include "core/compat.h"

#include <sodium.h>

#include "crypto/crypto.h"

static bool
pwhash_cost_ok(const struct cx_pwhash_cost *cost)
{
    unsigned long long bytes;

    if (cost->memory_kib > SIZE_MAX / 1024) {
        return false;
    }
    bytes = (unsigned long long)cost->memory_kib * 1024u;
    return cost->passes >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
           cost->passes <= crypto_pwhash_argon2id_OPSLIMIT_MAX &&
           bytes >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
           bytes <= crypto_pwhash_argon2id_MEMLIMIT_MAX;
}

enum cf_rc
cx_pwhash(const char *password_secret, size_t len,
          const struct cx_pwhash_cost *cost, char out[CX_PWHASH_STR_MAX])
{
    char buf[crypto_pwhash_argon2id_STRBYTES];

    if (!pwhash_cost_ok(cost) || len > crypto_pwhash_argon2id_PASSWD_MAX) {
        return CF_ERR(CF_EINVAL);
    }
    if (crypto_pwhash_argon2id_str(buf, password_secret, len, cost->passes,
                                   cost->memory_kib * 1024u) != 0) {
        return CF_ERR(CF_ENOMEM); /* the only documented failure */
    }
    if (strlen(buf) >= CX_PWHASH_STR_MAX) {
        return CF_ERR(CF_EINTERNAL);
    }
    memcpy(out, buf, strlen(buf) + 1);
    return CF_OK;
}

enum cf_rc
cx_pwhash_verify(const char *hash, const char *password_secret, size_t len)
{
    if (strncmp(hash, crypto_pwhash_argon2id_STRPREFIX,
                strlen(crypto_pwhash_argon2id_STRPREFIX)) != 0 ||
        strlen(hash) >= crypto_pwhash_argon2id_STRBYTES) {
        return CF_ERR(CF_EINVAL);
    }
    if (crypto_pwhash_argon2id_str_verify(hash, password_secret, len) != 0) {
        return CF_EAUTH;
    }
    return CF_OK;
}

bool
cx_pwhash_needs_rehash(const char *hash, const struct cx_pwhash_cost *cost)
{
    if (!pwhash_cost_ok(cost) ||
        strlen(hash) >= crypto_pwhash_argon2id_STRBYTES) {
        return true;
    }
    return crypto_pwhash_argon2id_str_needs_rehash(
               hash, cost->passes, cost->memory_kib * 1024u) != 0;
}
