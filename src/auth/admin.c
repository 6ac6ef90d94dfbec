/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What a tenant's administrators do to accounts: read the whole access
 * journal (COMMITMENT C1), unlock a locked account (A5), and the tenant's
 * 2FA policy (A12: by default owners and admins must use 2FA). Who may
 * call these is decided by the route's permission, before they run.
 */
#include "core/compat.h"

#include "audit/audit.h"
#include "auth/auth_int.h"

#define SETTING_MFA "mfa_policy"

static const char *const mfa_names[] = {
    [AUTH_MFA_ADMINS] = "admins",
    [AUTH_MFA_OPTIONAL] = "optional",
    [AUTH_MFA_ALL] = "all",
};

const char *
auth_mfa_policy_name(enum auth_mfa_policy p)
{
    return (size_t)p < CF_ARRAY_LEN(mfa_names) ? mfa_names[p] : "admins";
}

enum cf_rc
auth_mfa_policy_parse(const char *s, enum auth_mfa_policy *out)
{
    size_t i;

    for (i = 0; s != NULL && i < CF_ARRAY_LEN(mfa_names); i++) {
        if (strcmp(s, mfa_names[i]) == 0) {
            *out = (enum auth_mfa_policy)i;
            return CF_OK;
        }
    }
    return CF_ERR(CF_EINVAL);
}

enum cf_rc
auth_mfa_policy_read(struct db *db, enum auth_mfa_policy *out)
{
    char v[16];
    enum cf_rc rc;

    rc = auth_store_setting_get(db, SETTING_MFA, v, sizeof(v));
    if (rc == CF_ENOTFOUND) {
        *out = AUTH_MFA_ADMINS;
        return CF_OK;
    }
    if (rc == CF_OK && auth_mfa_policy_parse(v, out) != CF_OK) {
        /* fail closed: an unreadable policy is the strictest one */
        cf_log_error("unknown 2FA policy in the tenant's settings");
        *out = AUTH_MFA_ALL;
    }
    return rc;
}

enum cf_rc
auth_mfa_policy_get(const struct auth_ctx *ctx, enum auth_mfa_policy *out)
{
    struct db *db = NULL;
    enum cf_rc rc;

    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc == CF_OK) {
        rc = auth_mfa_policy_read(db, out);
        db_pool_put(ctx->pool, db);
    }
    return rc;
}

enum cf_rc
auth_mfa_policy_set(const struct auth_ctx *ctx, enum auth_mfa_policy p)
{
    struct auth_keys k = {0};
    struct audit_event ev = {0};
    struct db *db = NULL;
    bool in_tx = false;
    enum cf_rc rc;

    if ((size_t)p >= CF_ARRAY_LEN(mfa_names)) {
        return CF_ERR(CF_EINVAL);
    }
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = db_begin(db);
        in_tx = rc == CF_OK;
    }
    if (rc == CF_OK) {
        rc = auth_store_setting_set(db, SETTING_MFA, mfa_names[p]);
    }
    if (rc == CF_OK) {
        ev.principal = ctx->principal != NULL ? ctx->principal : "system";
        ev.action = "settings.mfa_policy";
        ev.target = mfa_names[p];
        ev.success = true;
        ev.client_ip = ctx->client_ip;
        ev.request_id = ctx->request_id;
        rc = audit_append(db, k.audit, &ev);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
        in_tx = rc != CF_OK;
    }
    if (in_tx) {
        db_rollback(db);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    auth_keys_close(&k);
    return rc;
}

struct admin_logins {
    struct db *db;
    const struct auth_keys *k;
    auth_login_admin_fn fn;
    void *arg;
};

static enum cf_rc
admin_login_one(const struct auth_login_info *l, void *arg)
{
    struct admin_logins *a = arg;
    char email[AUTH_EMAIL_MAX + 1] = "";
    enum cf_rc rc = CF_OK;

    if (l->user_id > 0) {
        rc = auth_user_email(a->db, a->k, l->user_id, email, sizeof(email));
        if (rc == CF_ENOTFOUND) {
            rc = CF_OK; /* a removed account */
        }
    }
    if (rc == CF_OK) {
        rc = a->fn(l, email, a->arg);
    }
    cf_memzero(email, sizeof(email));
    return rc;
}

enum cf_rc
auth_admin_logins(const struct auth_ctx *ctx, int64_t user_id,
                  const char *outcome, int64_t before, unsigned limit,
                  auth_login_admin_fn fn, void *arg)
{
    struct auth_keys k = {0};
    struct admin_logins a = {NULL, &k, fn, arg};
    enum cf_rc rc;

    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &a.db);
    }
    if (rc == CF_OK) {
        rc = auth_store_logins_each(a.db, user_id > 0 ? user_id : -1, outcome,
                                    before, limit, admin_login_one, &a);
    }
    if (a.db != NULL) {
        db_pool_put(ctx->pool, a.db);
    }
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_admin_unlock(const struct auth_ctx *ctx, int64_t user_id)
{
    struct auth_keys k = {0};
    struct auth_user user;
    struct db *db = NULL;
    bool in_tx = false;
    enum cf_rc rc;

    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = db_begin(db);
        in_tx = rc == CF_OK;
    }
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, user_id, &user);
    }
    if (rc == CF_OK) {
        rc = auth_store_set_failures(db, user_id, 0, 0);
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, &k, ctx,
                        ctx->principal != NULL ? ctx->principal : "system",
                        "user.unlock", user_id, true);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
        in_tx = rc != CF_OK;
    }
    if (in_tx) {
        db_rollback(db);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    auth_keys_close(&k);
    return rc;
}
