/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Personal API tokens (COMMITMENT A10): what scripts and integrations use
 * instead of a password. A token is "coffre_pat_" and 256 random bits in
 * base64url, shown once; the database keeps only its keyed hash (the
 * whole string is hashed, so it can never be taken for a session token),
 * its name sealed like every personal field (invariant 3), an expiry of
 * at most a year and the permissions it carries, a subset of its
 * account's that the caller checked.
 */
#include "core/compat.h"

#include "auth/auth_int.h"
#include "authz/authz.h"

#define TOKEN_DAY_S ((int64_t)24 * 3600)
#define TOKEN_USED_EVERY_S 60 /* last_used is written at most this often */

static enum cf_rc
token_hash(const struct auth_keys *k, const char *token,
           unsigned char out[CX_MAC_BYTES])
{
    return cx_mac(k->token, token, strlen(token), out);
}

/* Is token shaped like one of ours? */
static bool
token_shape_ok(const char *token)
{
    size_t plen = sizeof(AUTH_PAT_PREFIX) - 1;
    size_t i;

    if (strlen(token) != AUTH_PAT_LEN ||
        strncmp(token, AUTH_PAT_PREFIX, plen) != 0) {
        return false;
    }
    for (i = plen; i < AUTH_PAT_LEN; i++) {
        char c = token[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

/* COMMITMENT A10: a token carries only permissions its account holds
 * somewhere (tenant-wide or in a space), through its role or its grants;
 * the account is ctx->actor (the command line, without one, is not
 * narrowed). CF_EPERM otherwise. */
static enum cf_rc
token_held(struct db *db, const struct cf_ctx *ctx, const char *permissions)
{
    struct cf_ctx self;
    authz_mask held = 0;
    enum cf_rc rc;

    if (ctx->actor == NULL) {
        return CF_OK;
    }
    self = *ctx->actor;
    self.token_perms = NULL; /* tokens are made from a session */
    rc = authz_mask_in(db, &self, AUTHZ_ANY, &held);
    if (rc == CF_OK && (authz_list_mask(permissions) & ~held) != 0) {
        rc = auth_refuse(ctx, "permission_not_held", CF_EPERM);
    }
    return rc;
}

enum cf_rc
auth_token_create(const struct cf_ctx *ctx, int64_t user_id, const char *name,
                  unsigned days, const char *permissions,
                  char token_out[AUTH_PAT_LEN + 1],
                  struct auth_token_info *info)
{
    struct auth_keys k = {0};
    struct auth_text label = AUTH_TEXT_INIT;
    struct db *db = NULL;
    struct cf_buf sealed;
    struct auth_token_info t = {0};
    char secret[CX_TOKEN_LEN + 1];
    char token[AUTH_PAT_LEN + 1];
    unsigned char hash[CX_MAC_BYTES];
    int64_t now = cf_time_unix();
    int64_t live = 0;
    enum cf_rc rc;

    cf_buf_init(&sealed, 4096);
    if (days < 1 || days > AUTH_TOKEN_DAYS_MAX || permissions[0] == '\0' ||
        strlen(permissions) >= sizeof(t.permissions)) {
        return CF_ERR(CF_EINVAL);
    }
    rc = auth_label_normalize(name, AUTH_TOKEN_NAME_MAX, &label);
    if (rc != CF_OK) {
        return rc == CF_ENOMEM
                   ? rc
                   : auth_refuse(ctx, "invalid_name", CF_ERR(CF_EINVAL));
    }
    cx_token_new(secret);
    snprintf(token, sizeof(token), AUTH_PAT_PREFIX "%s", secret);
    snprintf(t.name, sizeof(t.name), "%s", label.s);
    snprintf(t.permissions, sizeof(t.permissions), "%s", permissions);
    t.created = now;
    t.expires = now + (int64_t)days * TOKEN_DAY_S;
    rc = cf_id_hex(t.id, AUTH_TOKEN_ID_LEN / 2);
    if (rc == CF_OK) {
        rc = auth_tx_open(ctx, &k, &db);
    }
    if (rc == CF_OK) {
        rc = token_hash(&k, token, hash);
    }
    if (rc == CF_OK) {
        rc = auth_field_seal(&k, DB_SEALED_TOKEN_NAME, 0, t.id, label.s,
                             label.len, &sealed);
    }
    if (rc == CF_OK) {
        rc = token_held(db, ctx, permissions);
    }
    if (rc == CF_OK) {
        rc = auth_store_tokens_count(db, user_id, now, &live);
    }
    if (rc == CF_OK && live >= AUTH_TOKENS_MAX) {
        rc = auth_refuse(ctx, "too_many_tokens", CF_ECONFLICT);
    }
    if (rc == CF_OK) {
        rc = auth_store_token_insert(db, &t, user_id, hash, &sealed);
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, &k, ctx, NULL, "token.create", user_id, true);
    }
    rc = auth_tx_close(ctx, &k, &db, rc);
    if (rc == CF_OK) {
        memcpy(token_out, token, sizeof(token));
        *info = t;
    }
    cf_memzero(secret, sizeof(secret));
    cf_memzero(token, sizeof(token));
    auth_text_release(&label);
    cf_buf_release(&sealed);
    auth_keys_close(&k);
    return rc;
}

struct token_list {
    const struct auth_keys *k;
    auth_token_fn fn;
    void *arg;
    struct cf_buf clear;
};

static enum cf_rc
token_list_one(struct auth_token_info *t, const void *name_sealed,
               size_t name_len, void *arg)
{
    struct token_list *l = arg;
    enum cf_rc rc;

    cf_buf_reset(&l->clear);
    rc = auth_field_open(l->k, DB_SEALED_TOKEN_NAME, 0, t->id, name_sealed,
                         name_len, &l->clear);
    if (rc != CF_OK) {
        return rc;
    }
    snprintf(t->name, sizeof(t->name), "%s", cf_buf_str(&l->clear));
    return l->fn(t, l->arg);
}

enum cf_rc
auth_tokens_list(const struct cf_ctx *ctx, int64_t user_id, auth_token_fn fn,
                 void *arg)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct token_list l = {&k, fn, arg, {0}};
    enum cf_rc rc;

    cf_buf_init(&l.clear, 4096);
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = auth_store_tokens_each(db, user_id, cf_time_unix(), token_list_one,
                                    &l);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    cf_buf_release(&l.clear);
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_token_revoke(const struct cf_ctx *ctx, int64_t user_id, const char *id)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    int64_t n = 0;
    enum cf_rc rc;

    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        rc = auth_store_token_delete(db, user_id, id, &n);
    }
    if (rc == CF_OK && n == 0) {
        rc = CF_ENOTFOUND; /* not one of this account's tokens */
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, &k, ctx, NULL, "token.revoke", user_id, true);
    }
    return auth_tx_close(ctx, &k, &db, rc);
}

enum cf_rc
auth_token_get(const struct cf_ctx *ctx, const char *token,
               struct auth_session *out)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct auth_user user;
    struct auth_token_info t;
    struct auth_session s = {0};
    struct auth_tenant_policy pol;
    unsigned char hash[CX_MAC_BYTES];
    int64_t now = cf_time_unix();
    enum cf_rc rc;

    if (!token_shape_ok(token)) {
        return CF_EAUTH;
    }
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = token_hash(&k, token, hash);
    }
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = auth_store_token_find(db, hash, now, &t, &s.user_id);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, s.user_id, &user);
    }
    if (rc == CF_ENOTFOUND || (rc == CF_OK && !auth_user_enabled(&user))) {
        rc = CF_EAUTH;
    }
    if (rc == CF_OK) {
        rc = auth_tenant_policy_read(db, &pol);
        auth_tenant_policy_floor(ctx, &pol);
        s.mfa_policy = pol.mfa;
        s.admin_ip_ok = auth_ip_in_list(pol.admin_ips, ctx->client_ip);
    }
    if (rc == CF_OK && now - t.last_used >= TOKEN_USED_EVERY_S) {
        rc = auth_store_token_used(db, t.id, now);
    }
    if (rc == CF_OK) {
        snprintf(s.role, sizeof(s.role), "%s", user.role);
        memcpy(s.user_pid, user.pid, sizeof(s.user_pid));
        s.totp = user.has_totp;
        s.mfa_ok = true; /* a token stands for a completed sign-in */
        s.via_token = true;
        s.created = t.created;
        s.expires = t.expires;
        memcpy(s.token_id, t.id, sizeof(s.token_id));
        memcpy(s.permissions, t.permissions, sizeof(s.permissions));
        *out = s;
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    auth_keys_close(&k);
    return rc;
}
