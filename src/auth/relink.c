/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A fresh setup link for an owner who never chose a password: the first
 * link may have expired or been lost, and an account without a password
 * cannot ask for a reset. Every older unused link of the account stops
 * working in the same transaction, so only the newest one is live
 * (COMMITMENT A1: single-use links, only their keyed hash stored).
 */
#include "core/compat.h"

#include "auth/auth_int.h"
#include "authz/authz.h"

enum cf_rc
auth_owner_relink(const struct cf_ctx *ctx, const char *email,
                  char token_out[CX_TOKEN_LEN + 1])
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct auth_user user;
    char *norm = NULL;
    char token[CX_TOKEN_LEN + 1];
    unsigned char idx[CX_MAC_BYTES];
    unsigned char thash[CX_MAC_BYTES];
    int64_t now = cf_time_unix();
    enum cf_rc rc;

    rc = auth_email_normalize(email, &norm);
    if (rc != CF_OK) {
        goto out;
    }
    rc = auth_tx_open(ctx, &k, &db);
    if (rc != CF_OK) {
        goto out;
    }
    cx_token_new(token);
    rc = cx_mac(k.index, norm, strlen(norm), idx);
    if (rc == CF_OK) {
        rc = cx_mac(k.token, token, CX_TOKEN_LEN, thash);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_by_index(db, idx, &user, NULL, 0);
    }
    if (rc != CF_OK) {
        goto out;
    }
    /* a password set: the account is in use, a reset is the way back */
    if (user.has_password || user.password_set != 0) {
        rc = CF_ECONFLICT;
        goto out;
    }
    /* never turns another role into an owner, nor wakes a disabled one */
    if (!authz_role_is(user.role, AUTHZ_ROLE_OWNER) ||
        auth_user_state(&user) != AUTH_STATE_INVITED) {
        rc = CF_EPERM;
        goto out;
    }
    rc = auth_store_links_invalidate(db, user.id, NULL);
    if (rc == CF_OK) {
        rc = auth_store_link_insert(db, thash, user.id, "setup",
                                    now + AUTH_LINK_TTL_S, now);
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, &k, ctx, ctx->principal ? ctx->principal : "system",
                        "user.setup_link", user.id, true);
    }
    if (rc != CF_OK) {
        goto out;
    }
    rc = CF_OK;
out:
    /* commits on CF_OK, else rolls back; nothing to do without a db */
    rc = auth_tx_close(ctx, &k, &db, rc);
    if (rc == CF_OK) {
        memcpy(token_out, token, sizeof(token));
    }
    cf_memzero(token, sizeof(token));
    if (norm != NULL) {
        cf_memzero(norm, strlen(norm));
    }
    cf_free(norm);
    return rc;
}
