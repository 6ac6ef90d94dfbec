/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Accounts as a tenant's administrators manage them (COMMITMENT B1, A5):
 * invitations by a mailed single-use link, role and state changes,
 * removal, a forced sign-out, turning off a lost second factor. Which
 * roles the acting principal may hand out or touch is decided by the
 * caller (authz/ is above this module); what is decided here is what no
 * caller may break: the tenant always keeps an active owner, a disabled
 * account keeps no session and no token, and every change is audited in
 * its own transaction.
 */
#include "core/compat.h"

#include "audit/audit.h"
#include "auth/auth_int.h"

#define INVITE_LINK_MAX 512

struct account_walk {
    const struct auth_keys *k;
    struct cf_buf clear;
    auth_account_fn fn;
    void *arg;
    struct auth_account *one; /* set: copy the account here instead */
};

static enum cf_rc
account_open_one(struct auth_account *a, const void *sealed, size_t len,
                 void *arg)
{
    struct account_walk *w = arg;
    enum cf_rc rc;

    cf_buf_reset(&w->clear);
    rc = cx_field_open(w->k->field, "users.email", 11, sealed, len, &w->clear);
    if (rc != CF_OK) {
        return rc;
    }
    snprintf(a->email, sizeof(a->email), "%s", cf_buf_str(&w->clear));
    if (w->one != NULL) {
        *w->one = *a;
        rc = CF_OK;
    } else {
        rc = w->fn(a, w->arg);
    }
    cf_memzero(a->email, sizeof(a->email));
    return rc;
}

/* fn for each account, or (pid not NULL) the one account into *one. */
static enum cf_rc
accounts_walk(const struct auth_ctx *ctx, struct db *db,
              const struct auth_keys *k, const char *pid, auth_account_fn fn,
              void *arg, struct auth_account *one)
{
    struct account_walk w = {k, {0}, fn, arg, one};
    enum cf_rc rc;

    (void)ctx;
    cf_buf_init(&w.clear, 4096);
    if (one != NULL) {
        one->id = 0;
        one->pid[0] = '\0';
    }
    rc = auth_store_accounts_each(db, pid, account_open_one, &w);
    cf_buf_release(&w.clear);
    if (rc == CF_OK && one != NULL && one->id == 0) {
        rc = CF_ENOTFOUND;
    }
    return rc;
}

enum cf_rc
auth_accounts_list(const struct auth_ctx *ctx, auth_account_fn fn, void *arg)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    enum cf_rc rc;

    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = accounts_walk(ctx, db, &k, NULL, fn, arg, NULL);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_account_get(const struct auth_ctx *ctx, const char *pid,
                 struct auth_account *out)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    enum cf_rc rc;

    if (pid == NULL || strlen(pid) != AUTH_ID_LEN) {
        return CF_ENOTFOUND;
    }
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = accounts_walk(ctx, db, &k, pid, NULL, NULL, out);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    auth_keys_close(&k);
    return rc;
}

/* The audit event of an administrator's change to account id. */
static enum cf_rc
account_audit(struct db *db, const struct auth_keys *k,
              const struct auth_ctx *ctx, const char *action, int64_t id,
              const char *details)
{
    char target[32];
    struct audit_event ev = {0};

    snprintf(target, sizeof(target), "user:%lld", (long long)id);
    ev.principal = ctx->principal != NULL ? ctx->principal : "system";
    ev.action = action;
    ev.target = target;
    ev.success = true;
    ev.client_ip = ctx->client_ip;
    ev.request_id = ctx->request_id;
    ev.details = details;
    return audit_append(db, k->audit, &ev);
}

/* Would taking account u out of the active owners leave none? */
static enum cf_rc
account_last_owner(struct db *db, const struct auth_user *u)
{
    int64_t owners = 0;
    enum cf_rc rc;

    if (strcmp(u->role, "owner") != 0 || strcmp(u->state, "active") != 0 ||
        !u->has_password) {
        return CF_OK;
    }
    rc = auth_store_owners_active(db, &owners);
    if (rc == CF_OK && owners <= 1) {
        rc = CF_ECONFLICT;
    }
    return rc;
}

enum cf_rc
auth_account_invite(const struct auth_ctx *ctx, const char *email,
                    const char *role, struct auth_account *out)
{
    struct auth_keys k = {0};
    struct auth_user u = {0};
    struct db *db = NULL;
    struct cf_buf sealed;
    char *norm = NULL;
    char token[CX_TOKEN_LEN + 1] = "";
    char link[INVITE_LINK_MAX] = "";
    unsigned char idx[CX_MAC_BYTES];
    unsigned char thash[CX_MAC_BYTES];
    int64_t now = cf_time_unix();
    int64_t id = 0;
    enum cf_rc rc;

    cf_buf_init(&sealed, 1024);
    rc = auth_email_normalize(email, &norm);
    if (rc != CF_OK) {
        return rc;
    }
    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        rc = cx_mac(k.index, norm, strlen(norm), idx);
    }
    if (rc == CF_OK) {
        rc = cx_field_seal(k.field, "users.email", 11, norm, strlen(norm),
                           &sealed);
    }
    if (rc == CF_OK) {
        cx_token_new(token);
        rc = cx_mac(k.token, token, CX_TOKEN_LEN, thash);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_insert(db, idx, &sealed, role, now, &id);
    }
    if (rc == CF_OK) {
        rc = auth_store_link_insert(db, thash, id, "invite",
                                    now + AUTH_INVITE_TTL_S, now);
    }
    if (rc == CF_OK) {
        rc = account_audit(db, &k, ctx, "user.invite", id, NULL);
    }
    /* the keys stay open for the mail: auth_tx_close would close them */
    if (db != NULL) {
        rc = rc == CF_OK ? db_commit(db) : rc;
        if (rc != CF_OK) {
            db_rollback(db);
        }
    }
    if (rc == CF_OK) {
        snprintf(link, sizeof(link), "%s/setup#%s",
                 ctx->base_url != NULL ? ctx->base_url : "", token);
        auth_notify(ctx, db, &k, id, AUTH_NOTICE_INVITE, link);
        rc = auth_store_user_by_id(db, id, &u);
    }
    if (rc == CF_OK) {
        rc = accounts_walk(ctx, db, &k, u.pid, NULL, NULL, out);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    cf_memzero(token, sizeof(token));
    cf_memzero(link, sizeof(link));
    cf_memzero(norm, strlen(norm));
    cf_free(norm);
    cf_buf_release(&sealed);
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_account_update(const struct auth_ctx *ctx, int64_t id, const char *role,
                    int state)
{
    struct auth_keys k = {0};
    struct auth_user u;
    struct db *db = NULL;
    char details[96];
    int64_t ended = 0;
    bool leaves_owners = false;
    enum cf_rc rc;

    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, id, &u);
    }
    if (rc == CF_OK) {
        leaves_owners = (role != NULL && strcmp(role, "owner") != 0) ||
                        state == AUTH_ACCOUNT_DISABLE;
        if (leaves_owners) {
            rc = account_last_owner(db, &u);
        }
    }
    if (rc == CF_OK && role != NULL && strcmp(u.role, role) != 0) {
        rc = auth_store_user_set(db, id, "role", role);
        if (rc == CF_OK) {
            snprintf(details, sizeof(details),
                     "{\"old\":\"%s\",\"new\":\"%s\"}", u.role, role);
            rc = account_audit(db, &k, ctx, "user.role", id, details);
        }
    }
    if (rc == CF_OK && state != AUTH_ACCOUNT_KEEP) {
        bool active = state == AUTH_ACCOUNT_ENABLE;

        rc = auth_store_user_set(db, id, "state",
                                 active ? "active" : "disabled");
        if (rc == CF_OK && !active) {
            /* COMMITMENT B1: a disabled account keeps no way in */
            rc = auth_store_sessions_delete(db, id, NULL, 0, &ended);
            if (rc == CF_OK) {
                rc = auth_store_tokens_delete_all(db, id);
            }
        }
        if (rc == CF_OK) {
            rc = account_audit(
                db, &k, ctx, active ? "user.enable" : "user.disable", id, NULL);
        }
    }
    return auth_tx_close(ctx, &k, &db, rc);
}

/* One change to account id: what op does, in a transaction with the
 * audit event action; *count receives what op counted (may be NULL). */
typedef enum cf_rc (*account_op_fn)(struct db *db, const struct auth_user *u,
                                    int64_t *count);

static enum cf_rc
account_change(const struct auth_ctx *ctx, int64_t id, account_op_fn op,
               const char *action, int64_t *count)
{
    struct auth_keys k = {0};
    struct auth_user u;
    struct db *db = NULL;
    int64_t n = 0;
    enum cf_rc rc;

    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, id, &u);
    }
    if (rc == CF_OK) {
        rc = op(db, &u, &n);
    }
    if (rc == CF_OK) {
        rc = account_audit(db, &k, ctx, action, id, NULL);
    }
    rc = auth_tx_close(ctx, &k, &db, rc);
    if (count != NULL) {
        *count = rc == CF_OK ? n : 0;
    }
    return rc;
}

static enum cf_rc
op_remove(struct db *db, const struct auth_user *u, int64_t *count)
{
    enum cf_rc rc = account_last_owner(db, u);

    (void)count;
    return rc == CF_OK ? auth_store_user_delete(db, u->id) : rc;
}

static enum cf_rc
op_totp_reset(struct db *db, const struct auth_user *u, int64_t *count)
{
    (void)count;
    return auth_store_totp_clear(db, u->id);
}

static enum cf_rc
op_logout(struct db *db, const struct auth_user *u, int64_t *count)
{
    return auth_store_sessions_delete(db, u->id, NULL, 0, count);
}

enum cf_rc
auth_account_remove(const struct auth_ctx *ctx, int64_t id)
{
    return account_change(ctx, id, op_remove, "user.remove", NULL);
}

enum cf_rc
auth_account_totp_reset(const struct auth_ctx *ctx, int64_t id)
{
    return account_change(ctx, id, op_totp_reset, "user.totp_reset", NULL);
}

enum cf_rc
auth_account_logout(const struct auth_ctx *ctx, int64_t id, int64_t *ended)
{
    return account_change(ctx, id, op_logout, "user.logout", ended);
}
