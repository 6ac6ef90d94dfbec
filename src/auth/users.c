/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Accounts as a tenant's administrators manage them (COMMITMENT B1, A5):
 * invitations by a mailed single-use link, role and state changes,
 * removal, a forced sign-out, turning off a lost second factor. The
 * rules no interface may skip are decided here, inside the change's
 * transaction, so the API and the command line share them: the acting
 * account (ctx->actor) holds everything the target account holds, its
 * grants included, and every permission of a role it hands out
 * (COMMITMENT B1); the tenant always keeps an active owner, counted by
 * role and by grant; a disabled account keeps no session and no token;
 * every change is audited. The account states (enum auth_state) and
 * their names are defined here too.
 */
#include "core/compat.h"

#include "audit/audit.h"
#include "auth/auth_int.h"
#include "authz/authz.h"

#define INVITE_LINK_MAX 512

static const enum auth_state states[] = {
    AUTH_STATE_ACTIVE,
    AUTH_STATE_INVITED,
    AUTH_STATE_DISABLED,
    AUTH_STATE_REMOVED,
};

const char *
auth_state_name(enum auth_state s)
{
    switch (s) {
    case AUTH_STATE_ACTIVE:
        return "active";
    case AUTH_STATE_INVITED:
        return "invited";
    case AUTH_STATE_DISABLED:
        return "disabled";
    case AUTH_STATE_REMOVED:
        return "removed";
    }
    return "disabled"; /* not a state: never shown as a usable one */
}

enum cf_rc
auth_state_parse(const char *s, enum auth_state *out)
{
    size_t i;

    for (i = 0; s != NULL && i < CF_ARRAY_LEN(states); i++) {
        if (strcmp(s, auth_state_name(states[i])) == 0) {
            *out = states[i];
            return CF_OK;
        }
    }
    return CF_ERR(CF_EINVAL);
}

enum auth_state
auth_user_state(const struct auth_user *u)
{
    enum auth_state s = AUTH_STATE_DISABLED;

    if (auth_state_parse(u->state, &s) != CF_OK) {
        cf_log_error("unreadable account state: the account reads as disabled");
        return AUTH_STATE_DISABLED;
    }
    if (s == AUTH_STATE_ACTIVE && !u->has_password) {
        return AUTH_STATE_INVITED;
    }
    return s;
}

bool
auth_user_enabled(const struct auth_user *u)
{
    enum auth_state s = auth_user_state(u);

    return s == AUTH_STATE_ACTIVE || s == AUTH_STATE_INVITED;
}

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
    rc = auth_field_open(w->k, DB_SEALED_USER_EMAIL, a->id, NULL, sealed, len,
                         &w->clear);
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
accounts_walk(const struct cf_ctx *ctx, struct db *db,
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
auth_accounts_list(const struct cf_ctx *ctx, auth_account_fn fn, void *arg)
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
auth_account_get(const struct cf_ctx *ctx, const char *pid,
                 struct auth_account *out)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    char want[AUTH_ID_LEN + 1];
    enum cf_rc rc;

    if (pid == NULL || strlen(pid) != AUTH_ID_LEN) {
        return CF_ENOTFOUND;
    }
    /* pid may be out->pid, which the walk clears before it reads */
    memcpy(want, pid, sizeof(want));
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = accounts_walk(ctx, db, &k, want, NULL, NULL, out);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_account_covered(const struct cf_ctx *ctx, int64_t id, const char *role)
{
    struct db *db = NULL;
    enum cf_rc rc;

    if (ctx->actor == NULL) {
        return CF_OK;
    }
    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc == CF_OK) {
        rc = authz_account_covered(db, ctx->actor, id, role);
        db_pool_put(ctx->pool, db);
    }
    return rc == CF_EPERM ? auth_refuse(ctx, "role_not_allowed", rc) : rc;
}

/* The audit event of an administrator's change to account id. */
static enum cf_rc
account_audit(struct db *db, const struct auth_keys *k,
              const struct cf_ctx *ctx, const char *action, int64_t id,
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

/* COMMITMENT B1: may ctx's actor act on account u (everything u holds,
 * grants included)? The command line (no actor) may. */
static enum cf_rc
account_covered(struct db *db, const struct cf_ctx *ctx,
                const struct auth_user *u)
{
    enum cf_rc rc;

    if (ctx->actor == NULL) {
        return CF_OK;
    }
    rc = authz_account_covered(db, ctx->actor, u->id, u->role);
    return rc == CF_EPERM ? auth_refuse(ctx, "role_not_allowed", rc) : rc;
}

/* May ctx's actor hand out the built-in role? Its account's permissions
 * narrowed to its token's: a token gives only what it carries. */
static enum cf_rc
role_given(struct db *db, const struct cf_ctx *ctx, const char *role)
{
    authz_mask want = authz_role_mask(role);
    authz_mask held = 0;
    enum cf_rc rc;

    if (want == 0) {
        return auth_refuse(ctx, "unknown_role", CF_ERR(CF_EINVAL));
    }
    if (ctx->actor == NULL) {
        return CF_OK;
    }
    rc = authz_mask_in(db, ctx->actor, AUTHZ_TENANT, &held);
    if (rc == CF_OK && (want & ~held) != 0) {
        rc = auth_refuse(ctx, "role_not_allowed", CF_EPERM);
    }
    return rc;
}

/* The last-owner rule, around a change: had is what authz_owner_exists()
 * said before it; CF_ECONFLICT when the change took the last one away. */
static enum cf_rc
owner_kept(struct db *db, const struct cf_ctx *ctx, bool had)
{
    bool has = false;
    enum cf_rc rc;

    if (!had) {
        return CF_OK;
    }
    rc = authz_owner_exists(db, &has);
    if (rc == CF_OK && !has) {
        rc = auth_refuse(ctx, "last_owner", CF_ECONFLICT);
    }
    return rc;
}

enum cf_rc
auth_account_invite(const struct cf_ctx *ctx, const char *email,
                    const char *role, struct auth_account *out, char *link_out,
                    size_t link_cap)
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

    if (link_cap > 0) {
        link_out[0] = '\0';
    }
    cf_buf_init(&sealed, 1024);
    rc = auth_email_normalize(email, &norm);
    if (rc != CF_OK) {
        return rc == CF_EINVAL ? auth_refuse(ctx, "invalid_email", rc) : rc;
    }
    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        rc = role_given(db, ctx, role);
    }
    if (rc == CF_OK) {
        rc = cx_mac(k.index, norm, strlen(norm), idx);
    }
    if (rc == CF_OK) {
        cx_token_new(token);
        rc = cx_mac(k.token, token, CX_TOKEN_LEN, thash);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_insert(db, idx, role, now, &id);
        if (rc == CF_ECONFLICT) {
            rc = auth_refuse(ctx, "email_taken", rc);
        }
    }
    if (rc == CF_OK) {
        rc = auth_field_seal(&k, DB_SEALED_USER_EMAIL, id, NULL, norm,
                             strlen(norm), &sealed);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_email_set(db, id, &sealed);
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
        if (ctx->mailer == NULL || ctx->mailer->off) {
            /* no mail leaves: the inviter hands the link over */
            cf_strlcpy(link_out, link, link_cap);
        } else {
            auth_notify(ctx, db, &k, id, AUTH_NOTICE_INVITE, link);
        }
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
auth_account_update(const struct cf_ctx *ctx, int64_t id, const char *role,
                    int state)
{
    struct auth_keys k = {0};
    struct auth_user u;
    struct db *db = NULL;
    char details[96];
    int64_t ended = 0;
    bool had_owner = false;
    enum cf_rc rc;

    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, id, &u);
    }
    if (rc == CF_OK) {
        rc = account_covered(db, ctx, &u);
    }
    if (rc == CF_OK && role != NULL) {
        rc = role_given(db, ctx, role);
    }
    if (rc == CF_OK) {
        rc = authz_owner_exists(db, &had_owner);
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

        rc = auth_store_user_set(
            db, id, "state",
            auth_state_name(active ? AUTH_STATE_ACTIVE : AUTH_STATE_DISABLED));
        if (rc == CF_OK && !active) {
            /* COMMITMENT B1: a disabled account keeps no way in: no
             * session, no token, no reset link (an invitation stays, for
             * when it is enabled again; no link works while it is
             * disabled: auth_setup_complete) */
            rc = auth_store_sessions_delete(db, id, NULL, 0, &ended);
            if (rc == CF_OK) {
                rc = auth_store_tokens_delete_all(db, id);
            }
            if (rc == CF_OK) {
                rc = auth_store_links_invalidate(db, id, "reset");
            }
        }
        if (rc == CF_OK) {
            rc = account_audit(
                db, &k, ctx, active ? "user.enable" : "user.disable", id, NULL);
        }
    }
    if (rc == CF_OK) {
        rc = owner_kept(db, ctx, had_owner);
    }
    return auth_tx_close(ctx, &k, &db, rc);
}

/* One change to account id: what op does, in a transaction with the
 * audit event action, if ctx's actor covers the account and the tenant
 * keeps an owner; then notice mailed (AUTH_NOTICE_NONE: none); *count
 * receives what op counted (may be NULL). */
typedef enum cf_rc (*account_op_fn)(struct db *db, const struct auth_user *u,
                                    int64_t *count);

static enum cf_rc
account_change(const struct cf_ctx *ctx, int64_t id, account_op_fn op,
               const char *action, enum auth_notice notice, int64_t *count)
{
    struct auth_keys k = {0};
    struct auth_user u;
    struct db *db = NULL;
    int64_t n = 0;
    bool had_owner = false;
    enum cf_rc rc;

    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, id, &u);
    }
    if (rc == CF_OK) {
        rc = account_covered(db, ctx, &u);
    }
    if (rc == CF_OK) {
        rc = authz_owner_exists(db, &had_owner);
    }
    if (rc == CF_OK) {
        rc = op(db, &u, &n);
    }
    if (rc == CF_OK) {
        rc = account_audit(db, &k, ctx, action, id, NULL);
    }
    if (rc == CF_OK) {
        rc = owner_kept(db, ctx, had_owner);
    }
    /* the keys stay open for the mail: auth_tx_close would close them */
    if (db != NULL) {
        rc = rc == CF_OK ? db_commit(db) : rc;
        if (rc != CF_OK) {
            db_rollback(db);
        }
    }
    if (rc == CF_OK && notice != AUTH_NOTICE_NONE) {
        auth_notify(ctx, db, &k, id, notice, NULL);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    auth_keys_close(&k);
    if (count != NULL) {
        *count = rc == CF_OK ? n : 0;
    }
    return rc;
}

static enum cf_rc
op_remove(struct db *db, const struct auth_user *u, int64_t *count)
{
    (void)count;
    return auth_store_user_delete(db, u->id);
}

static enum cf_rc
op_totp_reset(struct db *db, const struct auth_user *u, int64_t *count)
{
    enum cf_rc rc = auth_store_totp_clear(db, u->id);

    (void)count;
    /* whoever took the second factor may hold the password: what it
     * opened closes with it (COMMITMENT A10) */
    if (rc == CF_OK) {
        rc = auth_store_tokens_delete_all(db, u->id);
    }
    return rc;
}

static enum cf_rc
op_logout(struct db *db, const struct auth_user *u, int64_t *count)
{
    return auth_store_sessions_delete(db, u->id, NULL, 0, count);
}

static enum cf_rc
op_unlock(struct db *db, const struct auth_user *u, int64_t *count)
{
    (void)count;
    return auth_store_set_failures(db, u->id, 0, 0);
}

enum cf_rc
auth_admin_unlock(const struct cf_ctx *ctx, int64_t user_id)
{
    return account_change(ctx, user_id, op_unlock, "user.unlock",
                          AUTH_NOTICE_NONE, NULL);
}

enum cf_rc
auth_account_remove(const struct cf_ctx *ctx, int64_t id)
{
    return account_change(ctx, id, op_remove, "user.remove", AUTH_NOTICE_NONE,
                          NULL);
}

enum cf_rc
auth_account_totp_reset(const struct cf_ctx *ctx, int64_t id)
{
    return account_change(ctx, id, op_totp_reset, "user.totp_reset",
                          AUTH_NOTICE_TOTP_RESET, NULL);
}

enum cf_rc
auth_account_logout(const struct cf_ctx *ctx, int64_t id, int64_t *ended)
{
    return account_change(ctx, id, op_logout, "user.logout", AUTH_NOTICE_NONE,
                          ended);
}
