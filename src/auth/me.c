/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What a signed-in person does with their own account: see and end their
 * sessions (COMMITMENT B5), read their access journal (COMMITMENT C1),
 * change their password (COMMITMENT A2, A4): the current one is checked,
 * the new one judged by the policy, every other session ended.
 */
#include "core/compat.h"

#include "auth/auth_int.h"
#include "authz/authz.h"

static enum cf_rc
session_row(struct auth_session_info *s, const void *ip, size_t iplen,
            const void *dev, size_t devlen, void *arg)
{
    struct auth_place_walk *w = arg;
    enum cf_rc rc;

    rc = auth_place_open(w->k, DB_SEALED_SESSION_IP, s->id, ip, iplen,
                         s->client_ip, sizeof(s->client_ip));
    if (rc == CF_OK) {
        rc = auth_place_open(w->k, DB_SEALED_SESSION_DEVICE, s->id, dev, devlen,
                             s->device, sizeof(s->device));
    }
    return rc == CF_OK ? w->sfn(s, w->arg) : rc;
}

enum cf_rc
auth_login_row(struct auth_login_info *l, const void *ip, size_t iplen,
               const void *dev, size_t devlen, void *arg)
{
    struct auth_place_walk *w = arg;
    enum cf_rc rc;

    rc = auth_place_open(w->k, DB_SEALED_LOG_IP, l->id, ip, iplen, l->client_ip,
                         sizeof(l->client_ip));
    if (rc == CF_OK) {
        rc = auth_place_open(w->k, DB_SEALED_LOG_DEVICE, l->id, dev, devlen,
                             l->device, sizeof(l->device));
    }
    return rc == CF_OK ? w->lfn(l, w->arg) : rc;
}

enum cf_rc
auth_sessions_list(const struct cf_ctx *ctx, int64_t user_id,
                   int64_t current_id, auth_session_fn fn, void *arg)
{
    struct auth_keys k = {0};
    struct auth_place_walk w = {&k, fn, NULL, arg};
    struct db *db = NULL;
    int64_t now = cf_time_unix();
    enum cf_rc rc;

    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = auth_store_sessions_each(db, user_id,
                                      now - (int64_t)ctx->cfg->session_idle_s,
                                      now, current_id, session_row, &w);
        db_pool_put(ctx->pool, db);
    }
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_sessions_revoke(const struct cf_ctx *ctx, int64_t user_id, const char *pid,
                     int64_t keep_id, int64_t *count)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    int64_t n = 0;
    enum cf_rc rc;

    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        rc = auth_store_sessions_delete(db, user_id, pid, keep_id, &n);
    }
    if (rc == CF_OK && pid != NULL && n == 0) {
        rc = CF_ENOTFOUND; /* not one of this account's sessions */
    }
    if (rc == CF_OK && n > 0) {
        rc = auth_audit(db, &k, ctx, NULL, "session.revoke", user_id, true);
    }
    rc = auth_tx_close(ctx, &k, &db, rc);
    if (rc == CF_OK) {
        *count = n;
    }
    return rc;
}

enum cf_rc
auth_logins_list(const struct cf_ctx *ctx, int64_t user_id, int64_t before,
                 unsigned limit, auth_login_fn fn, void *arg)
{
    struct auth_keys k = {0};
    struct auth_place_walk w = {&k, NULL, fn, arg};
    struct db *db = NULL;
    enum cf_rc rc;

    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = auth_store_logins_each(db, user_id, NULL, NULL, before, limit,
                                    auth_login_row, &w);
        db_pool_put(ctx->pool, db);
    }
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_session_email(const struct cf_ctx *ctx, const struct auth_session *s,
                   char *out, size_t cap)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct cf_buf clear;
    enum cf_rc rc;

    cf_buf_init(&clear, 4096);
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK && s->email_len > 0) {
        rc = auth_field_open(&k, DB_SEALED_USER_EMAIL, s->user_id, NULL,
                             s->email_sealed, s->email_len, &clear);
        if (rc == CF_OK) {
            cf_strlcpy(out, cf_buf_str(&clear), cap);
        }
    } else if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
        if (rc == CF_OK) {
            rc = auth_user_email(db, &k, s->user_id, out, cap);
            db_pool_put(ctx->pool, db);
        }
    }
    cf_buf_release(&clear);
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_password_change(const struct cf_ctx *ctx, int64_t user_id, int64_t keep_id,
                     const char *current_secret, size_t current_len,
                     const char *new_secret, size_t new_len,
                     struct auth_strength *verdict)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct auth_user user;
    struct auth_tenant_policy pol;
    struct auth_pw_context pctx = {0};
    char email[AUTH_EMAIL_MAX + 1] = "";
    char hash[CX_PWHASH_STR_MAX] = "";
    int64_t now = cf_time_unix();
    int64_t ended = 0;
    bool verified;
    bool reused = false;
    bool in_tx = false;
    enum cf_rc rc;

    memset(verdict, 0, sizeof(*verdict));
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, user_id, &user);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_hash(db, user_id, hash, sizeof(hash));
    }
    if (rc != CF_OK) {
        goto out;
    }
    auth_db_release(ctx, &db);
    verified = cx_pwhash_verify(hash, current_secret, current_len) == CF_OK;
    rc = auth_db_reacquire(ctx, &db);
    if (rc != CF_OK) {
        goto out;
    }
    if (user.locked_until > now || !verified) {
        /* COMMITMENT A5: a wrong current password counts like a failed
         * login (journal, lockout, address ban), and a locked account
         * proves nothing */
        rc = auth_login_failed(
            ctx, db, &k, &user, NULL,
            user.locked_until > now ? "locked" : "bad_password", now);
        rc = rc == CF_OK ? CF_EAUTH : rc;
        goto out;
    }
    rc = auth_user_email(db, &k, user_id, email, sizeof(email));
    if (rc == CF_OK) {
        rc = auth_tenant_policy_read(db, &pol);
    }
    if (rc != CF_OK) {
        goto out;
    }
    pctx.email = email;
    pctx.tenant_slug = ctx->tenant_slug;
    pctx.privileged = authz_role_privileged(user.role);
    rc = auth_password_evaluate(&pol.pw, new_secret, new_len, &pctx, verdict);
    if (rc == CF_OK && verdict->acceptable) {
        /* COMMITMENT A8: not one of the recent passwords */
        rc = auth_password_reused(ctx, &db, user_id, pol.history, new_secret,
                                  new_len, &reused);
        if (rc == CF_OK && reused) {
            auth_strength_reused(verdict);
        }
    }
    if (rc == CF_OK && !verdict->acceptable) {
        rc = CF_EINVAL;
    }
    if (rc == CF_OK) {
        auth_db_release(ctx, &db);
        rc = cx_pwhash(new_secret, new_len, &ctx->cfg->cost, hash);
        if (rc == CF_OK) {
            rc = auth_db_reacquire(ctx, &db);
        }
    }
    if (rc == CF_OK) {
        rc = db_begin(db);
        in_tx = rc == CF_OK;
    }
    if (rc == CF_OK) {
        rc = auth_password_store(db, user_id, hash, verdict->score, now,
                                 pol.history);
    }
    if (rc == CF_OK) {
        rc = auth_store_sessions_delete(db, user_id, NULL, keep_id, &ended);
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, &k, ctx, NULL, "user.password_change", user_id,
                        true);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
        in_tx = false;
    }
    if (rc == CF_OK) {
        auth_notify(ctx, db, &k, user_id, AUTH_NOTICE_PASSWORD_CHANGED, NULL);
    }
out:
    if (in_tx) {
        db_rollback(db);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    cf_memzero(hash, sizeof(hash));
    cf_memzero(email, sizeof(email));
    auth_keys_close(&k);
    return rc;
}
