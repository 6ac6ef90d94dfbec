/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Logging in (COMMITMENT A4, A5, A6, C1). Every failure looks the same to
 * the client and costs the same Argon2id hash, so nobody can tell an
 * unknown address from a wrong password or a locked account. Five
 * consecutive failures lock the account for a minute, doubling up to an
 * hour; the client address is banned past the server-wide limit. Every
 * attempt is journaled.
 */
#include "core/compat.h"

#include <pthread.h>

#include "auth/auth_int.h"

/* A hash to verify against when there is no account, made once at the
 * configured cost so the timing matches a real account's. */
static pthread_mutex_t dummy_mu = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[CX_PWHASH_STR_MAX];

static enum cf_rc
login_dummy_hash(const struct cx_pwhash_cost *cost, char out[CX_PWHASH_STR_MAX])
{
    enum cf_rc rc = CF_OK;
    char seed[CX_TOKEN_LEN + 1];

    pthread_mutex_lock(&dummy_mu);
    if (dummy_hash[0] == '\0' || cx_pwhash_needs_rehash(dummy_hash, cost)) {
        cx_token_new(seed);
        rc = cx_pwhash(seed, CX_TOKEN_LEN, cost, dummy_hash);
        cf_memzero(seed, sizeof(seed));
    }
    memcpy(out, dummy_hash, CX_PWHASH_STR_MAX);
    pthread_mutex_unlock(&dummy_mu);
    return rc;
}

static int64_t
login_lock_seconds(unsigned failures, unsigned after)
{
    int64_t s = AUTH_LOCK_FIRST_S;
    unsigned i;

    for (i = after; i < failures && s < AUTH_LOCK_MAX_S; i++) {
        s *= 2;
    }
    return s < AUTH_LOCK_MAX_S ? s : AUTH_LOCK_MAX_S;
}

/* Record a failure: the account's counter (when there is one), the
 * journal, the lock's audit event, the address's window. */
enum cf_rc
auth_login_failed(const struct cf_ctx *ctx, struct db *db,
                  const struct auth_keys *k, const struct auth_user *user,
                  const unsigned char *idx, const char *outcome, int64_t now)
{
    struct auth_tenant_policy pol;
    enum cf_rc rc;
    unsigned failures = 0;
    unsigned after;
    int64_t locked_until = 0;

    /* the tenant may lock sooner than AUTH_LOCK_AFTER, never later */
    rc = auth_tenant_policy_read(db, &pol);
    if (rc != CF_OK) {
        return rc;
    }
    after = pol.lockout_failures;
    rc = db_begin(db);
    if (rc != CF_OK) {
        return rc;
    }
    if (user != NULL && strcmp(outcome, "locked") != 0 &&
        strcmp(outcome, "unknown_user") != 0) {
        failures = user->failed_count + 1;
        locked_until = user->locked_until;
        if (failures >= after) {
            locked_until = now + login_lock_seconds(failures, after);
        }
        rc = auth_store_set_failures(db, user->id, failures, locked_until);
        if (rc == CF_OK && failures == after) {
            rc = auth_audit(db, k, ctx, "system", "user.lock", user->id, true);
        }
    }
    if (rc == CF_OK) {
        rc = auth_journal(db, k, user != NULL ? user->id : 0,
                          user != NULL ? NULL : idx, outcome, ctx);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
    } else {
        db_rollback(db);
    }
    if (rc == CF_OK && user != NULL && failures == after) {
        auth_notify(ctx, db, k, user->id, AUTH_NOTICE_LOCKED, NULL);
    }
    auth_ipban_failed(ctx->ipban, ctx->cfg, ctx->client_ip, now);
    return rc;
}

static enum cf_rc
login_succeeded(const struct cf_ctx *ctx, struct db *db,
                const struct auth_keys *k, const struct auth_user *user,
                const char *password_secret, size_t len, const char *old_hash,
                char token_out[CX_TOKEN_LEN + 1], int64_t now)
{
    char token[CX_TOKEN_LEN + 1];
    char hash[CX_PWHASH_STR_MAX];
    char device[64];
    char detail[160];
    unsigned char thash[CX_MAC_BYTES];
    unsigned char mac[CX_MAC_BYTES];
    bool rehash = cx_pwhash_needs_rehash(old_hash, &ctx->cfg->cost);
    bool signed_in_before = false;
    bool device_seen = false;
    int64_t sid = 0;
    enum cf_rc rc = CF_OK;

    /* parameters were raised since this hash was made: upgrade it */
    if (rehash) {
        rc = cx_pwhash(password_secret, len, &ctx->cfg->cost, hash);
        if (rc != CF_OK) {
            return rc;
        }
    }
    cx_token_new(token);
    rc = cx_mac(k->token, token, CX_TOKEN_LEN, thash);
    if (rc == CF_OK) {
        rc = db_begin(db);
    }
    if (rc != CF_OK) {
        goto out;
    }
    rc = auth_store_set_failures(db, user->id, 0, 0);
    if (rc == CF_OK && rehash) {
        rc = auth_store_set_password(db, user->id, hash, -1, now);
    }
    auth_device_label(ctx->user_agent, device, sizeof(device));
    if (rc == CF_OK) {
        rc = auth_device_mac(k, device, mac);
    }
    if (rc == CF_OK) {
        rc = auth_store_device_seen(db, user->id, mac, &signed_in_before,
                                    &device_seen);
    }
    if (rc == CF_OK) {
        /* with 2FA on, the session can only take the second step */
        rc = auth_store_session_insert(db, thash, user->id, now,
                                       now + (int64_t)ctx->cfg->session_max_s,
                                       !user->has_totp, &sid);
    }
    if (rc == CF_OK) {
        rc = auth_session_place(db, k, ctx, sid);
    }
    if (rc == CF_OK) {
        rc = auth_journal(db, k, user->id, NULL, "success", ctx);
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, k, ctx, NULL, "session.create", user->id, true);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
    } else {
        db_rollback(db);
    }
    if (rc == CF_OK) {
        memcpy(token_out, token, sizeof(token));
        /* the first sign-in ever is no news; another device is */
        if (signed_in_before && !device_seen) {
            snprintf(detail, sizeof(detail), "%s, %s", device,
                     ctx->client_ip != NULL ? ctx->client_ip : "?");
            auth_notify(ctx, db, k, user->id, AUTH_NOTICE_NEW_DEVICE, detail);
        }
    }
out:
    cf_memzero(token, sizeof(token));
    cf_memzero(hash, sizeof(hash));
    return rc;
}

enum cf_rc
auth_login(const struct cf_ctx *ctx, const char *email,
           const char *password_secret, size_t len,
           char token_out[CX_TOKEN_LEN + 1], bool *mfa_required,
           unsigned *retry_after)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct auth_user user;
    char *norm = NULL;
    char hash[CX_PWHASH_STR_MAX] = "";
    unsigned char idx[CX_MAC_BYTES] = {0};
    int64_t now = cf_time_unix();
    const char *outcome = NULL;
    bool found = false;
    enum cf_rc verify;
    enum cf_rc rc;

    rc = auth_keys_open(ctx, &k);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc != CF_OK) {
        goto out;
    }
    if (auth_email_normalize(email, &norm) == CF_OK) {
        rc = cx_mac(k.index, norm, strlen(norm), idx);
        if (rc != CF_OK) {
            goto out;
        }
        rc = auth_store_user_by_index(db, idx, &user, hash, sizeof(hash));
        if (rc != CF_OK && rc != CF_ENOTFOUND) {
            goto out;
        }
        found = rc == CF_OK;
    }
    if (auth_ipban_banned(ctx->ipban, ctx->client_ip, now, retry_after)) {
        rc = auth_journal(db, &k, found ? user.id : 0, found ? NULL : idx,
                          "banned", ctx);
        rc = rc == CF_OK ? CF_ELOCKED : rc;
        goto out;
    }
    /* invited (no password yet), disabled: answered like an unknown one */
    if (!found || auth_user_state(&user) != AUTH_STATE_ACTIVE) {
        outcome = "unknown_user";
        rc = login_dummy_hash(&ctx->cfg->cost, hash);
        if (rc != CF_OK) {
            goto out;
        }
    } else if (user.locked_until > now) {
        outcome = "locked";
    }
    /* The hash takes ~100 ms: give the tenant database back meanwhile, so
     * other requests of the tenant (and other logins) are not held behind
     * it; re-read the account afterwards, as it may have changed. */
    auth_db_release(ctx, &db);
    verify = cx_pwhash_verify(hash, password_secret, len);
    rc = auth_db_reacquire(ctx, &db);
    if (rc != CF_OK) {
        goto out;
    }
    if (found) {
        rc = auth_store_user_by_id(db, user.id, &user);
        if (rc != CF_OK) {
            goto out;
        }
        if (outcome == NULL && user.locked_until > now) {
            outcome = "locked"; /* locked by a concurrent failure */
        }
    }
    if (outcome == NULL && verify != CF_OK) {
        outcome = "bad_password";
    }
    if (outcome != NULL) {
        rc = auth_login_failed(ctx, db, &k, found ? &user : NULL, idx, outcome,
                               now);
        rc = rc == CF_OK ? CF_EAUTH : rc;
        goto out;
    }
    rc = login_succeeded(ctx, db, &k, &user, password_secret, len, hash,
                         token_out, now);
    if (rc == CF_OK) {
        *mfa_required = user.has_totp;
    }
out:
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    if (norm != NULL) {
        cf_memzero(norm, strlen(norm));
    }
    cf_free(norm);
    cf_memzero(hash, sizeof(hash));
    auth_keys_close(&k);
    return rc;
}
