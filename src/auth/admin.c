/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What a tenant's administrators do to accounts: read the whole access
 * journal (COMMITMENT C1), unlock a locked account (A5). Who may call
 * these is decided by the route's permission, before they run.
 */
#include "core/compat.h"

#include "audit/audit.h"
#include "auth/auth_int.h"

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
auth_admin_logins(const struct cf_ctx *ctx, const char *user_pid,
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
        struct auth_place_walk w = {&k, NULL, admin_login_one, &a};

        rc = auth_store_logins_each(a.db, -1, user_pid, outcome, before, limit,
                                    auth_login_row, &w);
    }
    if (a.db != NULL) {
        db_pool_put(ctx->pool, a.db);
    }
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_admin_refused(const struct cf_ctx *ctx, int64_t user_id,
                   const char *action)
{
    struct auth_keys k = {0};
    struct audit_event ev = {0};
    struct db *db = NULL;
    char principal[32];
    enum cf_rc rc;

    snprintf(principal, sizeof(principal), "user:%lld", (long long)user_id);
    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        ev.principal = ctx->principal != NULL ? ctx->principal : principal;
        ev.action = action;
        ev.target = "tenant";
        ev.success = false;
        ev.client_ip = ctx->client_ip;
        ev.request_id = ctx->request_id;
        rc = audit_append(db, k.audit, &ev);
    }
    return auth_tx_close(ctx, &k, &db, rc);
}
