/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Password reset by e-mail. The answer never says whether an address has
 * an account; a link is 256 random bits, only its keyed hash is stored,
 * it works once and for 30 minutes, and completing it (account.c,
 * auth_setup_complete) ends every session of the account. At most
 * AUTH_RESET_PER_HOUR mails go to one account in an hour, so the feature
 * cannot be used to flood a mailbox.
 */
#include "core/compat.h"

#include "auth/auth_int.h"

#define RESET_LINK_MAX 512

enum cf_rc
auth_reset_request(const struct cf_ctx *ctx, const char *email)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct auth_user user;
    char *norm = NULL;
    char token[CX_TOKEN_LEN + 1] = "";
    char link[RESET_LINK_MAX] = "";
    unsigned char idx[CX_MAC_BYTES];
    unsigned char thash[CX_MAC_BYTES];
    int64_t now = cf_time_unix();
    int64_t recent = 0;
    bool found = false;
    bool send = false;
    bool in_tx = false;
    enum cf_rc rc;

    rc = auth_email_normalize(email, &norm);
    if (rc != CF_OK) {
        return rc;
    }
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = cx_mac(k.index, norm, strlen(norm), idx);
    }
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc != CF_OK) {
        goto out;
    }
    rc = auth_store_user_by_index(db, idx, &user, NULL, 0);
    if (rc != CF_OK && rc != CF_ENOTFOUND) {
        goto out;
    }
    found = rc == CF_OK && auth_user_enabled(&user);
    if (found) {
        rc = auth_store_links_since(db, user.id, "reset", now - 3600, &recent);
        if (rc != CF_OK) {
            goto out;
        }
        send = recent < AUTH_RESET_PER_HOUR;
    }
    rc = db_begin(db);
    if (rc != CF_OK) {
        goto out;
    }
    in_tx = true;
    if (send) {
        cx_token_new(token);
        rc = cx_mac(k.token, token, CX_TOKEN_LEN, thash);
        if (rc == CF_OK) {
            rc = auth_store_link_insert(db, thash, user.id, "reset",
                                        now + AUTH_RESET_TTL_S, now);
        }
        if (rc == CF_OK) {
            rc = auth_audit(db, &k, ctx, NULL, "user.reset_request", user.id,
                            true);
        }
    }
    if (rc == CF_OK) {
        /* an unknown address is journaled by its blind index only */
        rc = auth_journal(db, &k, found ? user.id : 0, found ? NULL : idx,
                          send    ? "reset_sent"
                          : found ? "reset_throttled"
                                  : "reset_unknown",
                          ctx);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
    }
    if (rc != CF_OK) {
        goto out;
    }
    in_tx = false;
    if (send) {
        snprintf(link, sizeof(link), "%s/setup#%s",
                 ctx->base_url != NULL ? ctx->base_url : "", token);
        auth_notify(ctx, db, &k, user.id, AUTH_NOTICE_RESET, link);
    }
out:
    if (in_tx) {
        db_rollback(db);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    cf_memzero(token, sizeof(token));
    cf_memzero(link, sizeof(link));
    cf_memzero(norm, strlen(norm));
    cf_free(norm);
    auth_keys_close(&k);
    return rc;
}
