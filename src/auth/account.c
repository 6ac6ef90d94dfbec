/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Accounts: the owner created with a single-use setup link, and the link
 * completed with a password that passes the policy (COMMITMENT A1, A2,
 * A4). E-mail addresses are sealed with the tenant's field key and found
 * through a keyed blind index (invariant 3).
 */
#include "core/compat.h"

#include "audit/audit.h"
#include "auth/auth_int.h"
#include "authz/authz.h"

void
auth_config_from(const struct cf_config *cfg, struct auth_config *out)
{
    out->cost.memory_kib = (size_t)cfg->argon2_memory_mib * 1024;
    out->cost.passes = cfg->argon2_passes;
    out->session_idle_s = cfg->session_idle_minutes * 60;
    out->session_max_s = cfg->session_max_hours * 3600;
    out->ipban_failures = cfg->ip_ban_failures;
    out->ipban_window_s = cfg->ip_ban_window_minutes * 60;
    out->ipban_s = cfg->ip_ban_minutes * 60;
    out->mfa_optional = cfg->mfa_optional != 0;
}

enum cf_rc
auth_refuse(const struct cf_ctx *ctx, const char *why, enum cf_rc rc)
{
    if (ctx->why != NULL) {
        *ctx->why = why;
    }
    return rc;
}

/* The associated data of col in row (or id), into ad. */
static size_t
field_ad(enum db_sealed_col col, int64_t id, const char *row,
         char ad[DB_SEALED_AD_MAX])
{
    return row != NULL ? db_sealed_ad(col, row, ad, DB_SEALED_AD_MAX)
                       : db_sealed_ad_id(col, id, ad, DB_SEALED_AD_MAX);
}

/* Seal (or open) in, bound to col's row: one place for both ways. */
static enum cf_rc
field_bound(bool seal, const struct auth_keys *k, enum db_sealed_col col,
            int64_t id, const char *row, const void *in, size_t len,
            struct cf_buf *out)
{
    char ad[DB_SEALED_AD_MAX];
    size_t adlen = field_ad(col, id, row, ad);

    if (adlen == 0) {
        return CF_ERR(CF_EINVAL);
    }
    return seal ? cx_field_seal(k->field, ad, adlen, in, len, out)
                : cx_field_open(k->field, ad, adlen, in, len, out);
}

enum cf_rc
auth_field_seal(const struct auth_keys *k, enum db_sealed_col col, int64_t id,
                const char *row, const void *pt, size_t len, struct cf_buf *out)
{
    return field_bound(true, k, col, id, row, pt, len, out);
}

enum cf_rc
auth_field_open(const struct auth_keys *k, enum db_sealed_col col, int64_t id,
                const char *row, const void *ct, size_t len, struct cf_buf *out)
{
    return field_bound(false, k, col, id, row, ct, len, out);
}

enum cf_rc
auth_keys_open(const struct cf_ctx *ctx, struct auth_keys *k)
{
    enum cf_rc rc;

    memset(k, 0, sizeof(*k));
    rc = cx_keyset_sub(ctx->keys, CX_SUBKEY_FIELD, &k->field);
    if (rc == CF_OK) {
        rc = cx_keyset_sub(ctx->keys, CX_SUBKEY_BLIND_INDEX, &k->index);
    }
    if (rc == CF_OK) {
        rc = cx_keyset_sub(ctx->keys, CX_SUBKEY_TOKEN, &k->token);
    }
    if (rc == CF_OK) {
        rc = cx_keyset_sub(ctx->keys, CX_SUBKEY_CSRF, &k->csrf);
    }
    if (rc == CF_OK) {
        rc = cx_keyset_sub(ctx->keys, CX_SUBKEY_AUDIT, &k->audit);
    }
    if (rc != CF_OK) {
        auth_keys_close(k);
    }
    return rc;
}

void
auth_keys_close(struct auth_keys *k)
{
    /* borrowed from the keyset: nothing to free */
    memset(k, 0, sizeof(*k));
}

enum cf_rc
auth_tx_open(const struct cf_ctx *ctx, struct auth_keys *k, struct db **db)
{
    enum cf_rc rc;

    *db = NULL;
    rc = auth_keys_open(ctx, k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, db);
    }
    if (rc == CF_OK) {
        rc = db_begin(*db);
    }
    if (rc != CF_OK) {
        if (*db != NULL) {
            db_pool_put(ctx->pool, *db);
            *db = NULL;
        }
        auth_keys_close(k);
    }
    return rc;
}

enum cf_rc
auth_tx_close(const struct cf_ctx *ctx, struct auth_keys *k, struct db **db,
              enum cf_rc rc)
{
    if (*db == NULL) {
        return rc;
    }
    if (rc == CF_OK) {
        rc = db_commit(*db);
    }
    if (rc != CF_OK) {
        db_rollback(*db);
    }
    db_pool_put(ctx->pool, *db);
    *db = NULL;
    auth_keys_close(k);
    return rc;
}

void
auth_db_release(const struct cf_ctx *ctx, struct db **db)
{
    if (*db != NULL) {
        db_pool_put(ctx->pool, *db);
        *db = NULL;
    }
}

enum cf_rc
auth_db_reacquire(const struct cf_ctx *ctx, struct db **db)
{
    return db_pool_get(ctx->pool, ctx->tenant_id, 0, db);
}

/* Audit event of an account change, in the caller's transaction. */
enum cf_rc
auth_audit(struct db *db, const struct auth_keys *k, const struct cf_ctx *ctx,
           const char *principal, const char *action, int64_t user_id,
           bool success)
{
    char target[32];
    struct audit_event ev = {0};

    snprintf(target, sizeof(target), "user:%lld", (long long)user_id);
    /* NULL: the account acts on itself */
    ev.principal = principal != NULL ? principal : target;
    ev.action = action;
    ev.target = target;
    ev.success = success;
    ev.client_ip = ctx->client_ip;
    ev.request_id = ctx->request_id;
    return audit_append(db, k->audit, &ev);
}

enum cf_rc
auth_owner_create(const struct cf_ctx *ctx, const char *email,
                  char token_out[CX_TOKEN_LEN + 1])
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct cf_buf sealed;
    char *norm = NULL;
    char token[CX_TOKEN_LEN + 1];
    unsigned char idx[CX_MAC_BYTES];
    unsigned char thash[CX_MAC_BYTES];
    int64_t now = cf_time_unix();
    int64_t id = 0;
    bool in_tx = false;
    enum cf_rc rc;

    cf_buf_init(&sealed, 1024);
    rc = auth_email_normalize(email, &norm);
    if (rc != CF_OK) {
        goto out;
    }
    rc = auth_keys_open(ctx, &k);
    if (rc != CF_OK) {
        goto out;
    }
    rc = cx_mac(k.index, norm, strlen(norm), idx);
    if (rc != CF_OK) {
        goto out;
    }
    cx_token_new(token);
    rc = cx_mac(k.token, token, CX_TOKEN_LEN, thash);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_begin(db);
    if (rc != CF_OK) {
        goto out;
    }
    in_tx = true;
    rc = auth_store_user_insert(db, idx, authz_roles[AUTHZ_ROLE_OWNER].name,
                                now, &id);
    if (rc == CF_OK) {
        rc = auth_field_seal(&k, DB_SEALED_USER_EMAIL, id, NULL, norm,
                             strlen(norm), &sealed);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_email_set(db, id, &sealed);
    }
    if (rc == CF_OK) {
        rc = auth_store_link_insert(db, thash, id, "setup",
                                    now + AUTH_LINK_TTL_S, now);
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, &k, ctx, ctx->principal ? ctx->principal : "system",
                        "user.create", id, true);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
    }
    if (rc != CF_OK) {
        goto out;
    }
    in_tx = false;
    memcpy(token_out, token, sizeof(token));
    rc = CF_OK;
out:
    if (in_tx) {
        db_rollback(db);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    cf_memzero(token, sizeof(token));
    if (norm != NULL) {
        cf_memzero(norm, strlen(norm));
    }
    cf_free(norm);
    cf_buf_release(&sealed);
    auth_keys_close(&k);
    return rc;
}

/* The clear e-mail of user id (for the policy and /me). */
enum cf_rc
auth_user_email(struct db *db, const struct auth_keys *k, int64_t id, char *out,
                size_t cap)
{
    struct cf_buf sealed;
    struct cf_buf clear;
    enum cf_rc rc;

    cf_buf_init(&sealed, 4096);
    cf_buf_init(&clear, 4096);
    rc = auth_store_user_email(db, id, &sealed);
    if (rc == CF_OK) {
        rc = auth_field_open(k, DB_SEALED_USER_EMAIL, id, NULL, sealed.data,
                             sealed.len, &clear);
    }
    if (rc == CF_OK) {
        snprintf(out, cap, "%s", cf_buf_str(&clear));
    }
    cf_buf_release(&sealed);
    cf_buf_release(&clear);
    return rc;
}

enum cf_rc
auth_setup_complete(const struct cf_ctx *ctx, const char *token,
                    const char *password_secret, size_t len,
                    struct auth_strength *verdict)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct auth_user user;
    struct auth_tenant_policy pol;
    struct auth_pw_context pctx = {0};
    char email[AUTH_EMAIL_MAX + 1] = "";
    char hash[CX_PWHASH_STR_MAX];
    unsigned char thash[CX_MAC_BYTES];
    char purpose[16] = "";
    bool reused = false;
    int64_t now = cf_time_unix();
    int64_t user_id = 0;
    int64_t ended = 0;
    bool reset = false;
    bool in_tx = false;
    enum cf_rc rc;

    memset(verdict, 0, sizeof(*verdict));
    if (strlen(token) != CX_TOKEN_LEN) {
        return CF_ENOTFOUND;
    }
    rc = auth_keys_open(ctx, &k);
    if (rc != CF_OK) {
        goto out;
    }
    rc = cx_mac(k.token, token, CX_TOKEN_LEN, thash);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc != CF_OK) {
        goto out;
    }
    rc = auth_store_link_find(db, thash, now, &user_id, purpose);
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, user_id, &user);
    }
    if (rc == CF_OK && !auth_user_enabled(&user)) {
        rc = CF_ENOTFOUND; /* a disabled account keeps no way in (B1) */
    }
    if (rc == CF_OK) {
        rc = auth_user_email(db, &k, user_id, email, sizeof(email));
    }
    if (rc == CF_OK) {
        rc = auth_tenant_policy_read(db, &pol);
    }
    if (rc != CF_OK) {
        goto out;
    }
    pctx.email = email;
    pctx.tenant_slug = ctx->tenant_slug;
    pctx.privileged = authz_role_privileged(user.role);
    rc = auth_password_evaluate(&pol.pw, password_secret, len, &pctx, verdict);
    if (rc == CF_OK && verdict->acceptable) {
        /* a reset must not bring back a recent password (A8) */
        rc = auth_password_reused(ctx, &db, user_id, pol.history,
                                  password_secret, len, &reused);
        if (rc == CF_OK && reused) {
            auth_strength_reused(verdict);
        }
    }
    if (rc != CF_OK) {
        goto out;
    }
    if (!verdict->acceptable) {
        rc = CF_EINVAL;
        goto out;
    }
    /* slow: the caller runs this in the worker pool */
    auth_db_release(ctx, &db);
    rc = cx_pwhash(password_secret, len, &ctx->cfg->cost, hash);
    if (rc == CF_OK) {
        rc = auth_db_reacquire(ctx, &db);
    }
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_begin(db);
    if (rc != CF_OK) {
        goto out;
    }
    in_tx = true;
    /* the link may have been used meanwhile: take it inside the tx */
    rc = auth_store_link_find(db, thash, now, &user_id, purpose);
    if (rc == CF_OK) {
        rc = auth_store_link_use(db, thash);
    }
    if (rc == CF_OK) {
        rc = auth_password_store(db, user_id, hash, verdict->score, now,
                                 pol.history);
    }
    reset = strcmp(purpose, "reset") == 0;
    if (rc == CF_OK && reset) {
        /* whoever held a session may be the reason for the reset */
        rc = auth_store_sessions_delete(db, user_id, NULL, 0, &ended);
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, &k, ctx, NULL,
                        reset ? "user.password_reset" : "user.password_set",
                        user_id, true);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
    }
    if (rc != CF_OK) {
        goto out;
    }
    in_tx = false;
    if (reset) {
        auth_notify(ctx, db, &k, user_id, AUTH_NOTICE_PASSWORD_CHANGED, NULL);
    }
    rc = CF_OK;
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
