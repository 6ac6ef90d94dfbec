/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Sessions (COMMITMENT B5): the client holds a random token in a
 * __Host- cookie, the server only its keyed hash. A session ends after
 * session_idle_s without use or session_max_s after login, whichever comes
 * first, and at logout. The CSRF token is a keyed hash of the session
 * token: nothing more to store, and it dies with the session.
 */
#include "core/compat.h"

#include "auth/auth_int.h"

#define SESSION_TOUCH_S 30 /* last_seen is written at most this often */

static void
session_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Find the live session of token; an expired one is deleted. */
enum cf_rc
auth_session_find(const struct auth_ctx *ctx, struct db *db,
                  const struct auth_keys *k, const char *token, int64_t now,
                  struct auth_session *out, struct auth_tenant_policy *pol_out)
{
    unsigned char thash[CX_MAC_BYTES];
    unsigned char csrf[CX_MAC_BYTES];
    struct auth_tenant_policy pol;
    int64_t last_seen = 0;
    int64_t idle_end;
    int64_t idle_s;
    int64_t max_end;
    enum cf_rc rc;

    if (strlen(token) != CX_TOKEN_LEN) {
        return CF_EAUTH;
    }
    rc = cx_mac(k->token, token, CX_TOKEN_LEN, thash);
    if (rc != CF_OK) {
        return rc;
    }
    rc = auth_store_session_find(db, thash, out, &last_seen);
    if (rc == CF_ENOTFOUND) {
        return CF_EAUTH;
    }
    if (rc == CF_OK) {
        rc = auth_tenant_policy_read(db, &pol);
    }
    if (rc != CF_OK) {
        return rc;
    }
    auth_tenant_policy_floor(ctx, &pol);
    out->mfa_policy = pol.mfa;
    if (pol_out != NULL) {
        *pol_out = pol;
    }
    /* the tenant may only shorten the server's limits (B5) */
    idle_s = (int64_t)ctx->cfg->session_idle_s;
    if ((int64_t)pol.session_idle_minutes * 60 < idle_s) {
        idle_s = (int64_t)pol.session_idle_minutes * 60;
    }
    max_end = out->created + (int64_t)pol.session_max_hours * 3600;
    if (max_end < out->expires) {
        out->expires = max_end;
    }
    idle_end = last_seen + idle_s;
    if (now >= out->expires || now >= idle_end) {
        if (auth_store_session_delete(db, out->id) != CF_OK) {
            cf_log_warn("cannot delete an expired session");
        }
        return CF_EAUTH;
    }
    rc = cx_mac(k->csrf, token, CX_TOKEN_LEN, csrf);
    if (rc != CF_OK) {
        return rc;
    }
    session_hex(csrf, sizeof(csrf), out->csrf);
    if (now - last_seen >= SESSION_TOUCH_S) {
        rc = auth_store_session_touch(db, out->id, now);
        last_seen = now;
    }
    idle_end = last_seen + idle_s;
    if (idle_end < out->expires) {
        out->expires = idle_end;
    }
    return rc;
}

enum cf_rc
auth_session_get(const struct auth_ctx *ctx, const char *token,
                 struct auth_session *out)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct auth_user user;
    struct auth_session s = {0};
    struct auth_tenant_policy pol;
    enum cf_rc rc;

    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = auth_session_find(ctx, db, &k, token, cf_time_unix(), &s, &pol);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, s.user_id, &user);
        if (rc == CF_ENOTFOUND ||
            (rc == CF_OK && strcmp(user.state, "active") != 0)) {
            rc = CF_EAUTH;
        }
    }
    if (rc == CF_OK) {
        snprintf(s.role, sizeof(s.role), "%s", user.role);
        memcpy(s.user_pid, user.pid, sizeof(s.user_pid));
        s.totp = user.has_totp;
        rc = auth_user_email(db, &k, s.user_id, s.email, sizeof(s.email));
    }
    if (rc == CF_OK) {
        s.admin_ip_ok = auth_ip_in_list(pol.admin_ips, ctx->client_ip);
        s.password_expired = auth_password_too_old(
            &pol, user.role, user.password_set, cf_time_unix());
    }
    if (rc == CF_OK) {
        *out = s;
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    cf_memzero(&s, sizeof(s));
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_logout(const struct auth_ctx *ctx, const char *token)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct auth_session s = {0};
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
        rc = auth_session_find(ctx, db, &k, token, cf_time_unix(), &s, NULL);
    }
    if (rc == CF_OK) {
        rc = auth_store_session_delete(db, s.id);
    }
    if (rc == CF_OK) {
        rc = auth_store_journal(db, s.user_id, NULL, "logout", ctx);
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, &k, ctx, NULL, "session.delete", s.user_id, true);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
        in_tx = false;
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

enum cf_rc
auth_step_up(const struct auth_ctx *ctx, const char *token,
             const char *password_secret, size_t len)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct auth_session s = {0};
    struct auth_user user;
    char hash[CX_PWHASH_STR_MAX] = "";
    int64_t now = cf_time_unix();
    bool verified;
    enum cf_rc rc;

    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = auth_session_find(ctx, db, &k, token, now, &s, NULL);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, s.user_id, &user);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_hash(db, s.user_id, hash, sizeof(hash));
    }
    if (rc != CF_OK) {
        goto out;
    }
    auth_db_release(ctx, &db);
    verified = cx_pwhash_verify(hash, password_secret, len) == CF_OK;
    rc = auth_db_reacquire(ctx, &db);
    if (rc != CF_OK) {
        goto out;
    }
    if (user.locked_until > now || !verified) {
        rc = auth_login_failed(
            ctx, db, &k, &user, NULL,
            user.locked_until > now ? "locked" : "bad_password", now);
        rc = rc == CF_OK ? CF_EAUTH : rc;
        goto out;
    }
    rc = db_begin(db);
    if (rc == CF_OK) {
        /* invariant 1: the proof of identity is a change, audited */
        rc = auth_store_session_proved(db, s.id, now);
        if (rc == CF_OK) {
            rc = auth_audit(db, &k, ctx, NULL, "session.step_up", s.user_id,
                            true);
        }
        rc = rc == CF_OK ? db_commit(db) : rc;
        if (rc != CF_OK) {
            db_rollback(db);
        }
    }
out:
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    cf_memzero(hash, sizeof(hash));
    cf_memzero(&s, sizeof(s));
    auth_keys_close(&k);
    return rc;
}
