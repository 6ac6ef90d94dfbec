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

/* The rows a lookup reads: the session, the tenant's policy (as stored,
 * before the server's floor), the account and its sealed e-mail. */
struct session_rows {
    unsigned char thash[CX_MAC_BYTES];
    struct auth_session s; /* id, user, created, expires, mfa_ok, pid... */
    int64_t last_seen;
    struct auth_tenant_policy pol;
    bool user_found;
    struct auth_user user;
    size_t email_len; /* 0: not read (the account is not active) */
    unsigned char email_sealed[AUTH_EMAIL_MAX + CX_FIELD_OVERHEAD];
};

/*
 * The rows of the last sessions looked up on a tenant's handle, valid for
 * one data version of its database (db_data_version): any commit to it
 * (a session revoked or touched, an account disabled, a policy changed,
 * by this process or another) moves the version and empties the cache,
 * so the next lookup reads the tables again. Only rows are kept; every
 * decision (expiry, idle time, the account's state, 2FA policy) is taken
 * again on each request. Unknown tokens are never kept.
 */
#define SESSION_MEMO_SLOTS 32

struct session_memo {
    unsigned long stamp;
    bool pol_ok;
    struct auth_tenant_policy pol;
    struct {
        unsigned long stamp; /* 0: free */
        struct session_rows r;
    } e[SESSION_MEMO_SLOTS];
};

static const char session_memo_key;

/* db's cache at its current data version, emptied if the version moved;
 * NULL when none can be used (inside a transaction, out of memory). */
static struct session_memo *
session_memo_at(struct db *db)
{
    return db_memo_at(db, &session_memo_key, sizeof(struct session_memo));
}

static void
session_memo_put(struct session_memo *m, const struct session_rows *r)
{
    size_t victim = 0;
    size_t i;

    for (i = 0; i < SESSION_MEMO_SLOTS; i++) {
        if (m->e[i].stamp < m->e[victim].stamp) {
            victim = i;
        }
    }
    m->e[victim].r = *r;
    m->e[victim].stamp = ++m->stamp;
}

static const struct session_rows *
session_memo_find(struct session_memo *m, const unsigned char *thash)
{
    size_t i;

    for (i = 0; i < SESSION_MEMO_SLOTS; i++) {
        if (m->e[i].stamp != 0 &&
            cx_equal(m->e[i].r.thash, thash, CX_MAC_BYTES)) {
            m->e[i].stamp = ++m->stamp;
            return &m->e[i].r;
        }
    }
    return NULL;
}

/* The rows of the session of token hash thash (CF_EAUTH: none), from db's
 * cache when it holds them at the database's current version. */
static enum cf_rc
session_rows_read(struct db *db, const unsigned char *thash,
                  struct session_rows *out)
{
    struct session_memo *m = session_memo_at(db);
    const struct session_rows *hit;
    struct cf_buf sealed;
    enum cf_rc rc;

    hit = m != NULL ? session_memo_find(m, thash) : NULL;
    if (hit != NULL) {
        *out = *hit;
        return CF_OK;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->thash, thash, CX_MAC_BYTES);
    rc = auth_store_session_find(db, thash, &out->s, &out->last_seen);
    if (rc == CF_ENOTFOUND) {
        return CF_EAUTH;
    }
    if (rc == CF_OK) {
        if (m != NULL && m->pol_ok) {
            out->pol = m->pol;
        } else {
            rc = auth_tenant_policy_read(db, &out->pol);
        }
    }
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, out->s.user_id, &out->user);
        out->user_found = rc == CF_OK;
        rc = rc == CF_ENOTFOUND ? CF_OK : rc;
    }
    if (rc == CF_OK && out->user_found && auth_user_enabled(&out->user)) {
        cf_buf_init(&sealed, sizeof(out->email_sealed));
        rc = auth_store_user_email(db, out->s.user_id, &sealed);
        if (rc == CF_OK && sealed.len == 0) {
            rc = CF_ERR(CF_ECRYPTO); /* an empty field is no sealed field */
        }
        if (rc == CF_OK) {
            memcpy(out->email_sealed, sealed.data, sealed.len);
            out->email_len = sealed.len;
        }
        cf_buf_release(&sealed);
    }
    if (rc == CF_OK && m != NULL) {
        m->pol = out->pol;
        m->pol_ok = true;
        session_memo_put(m, out);
    }
    return rc;
}

/* Judge the session *out (its rows read, last used at last_seen) by the
 * server's limits and the tenant's shorter ones in *pol: an expired one
 * is deleted (CF_EAUTH); a live one gets its CSRF token, its last use
 * written at most every SESSION_TOUCH_S, and its expiry. */
static enum cf_rc
session_judge(const struct cf_ctx *ctx, struct db *db,
              const struct auth_keys *k, const char *token, int64_t now,
              struct auth_tenant_policy *pol, struct auth_session *out,
              int64_t last_seen)
{
    unsigned char csrf[CX_MAC_BYTES];
    int64_t idle_end;
    int64_t idle_s;
    int64_t max_end;
    enum cf_rc rc = CF_OK;

    auth_tenant_policy_floor(ctx, pol);
    out->mfa_policy = pol->mfa;
    /* the tenant may only shorten the server's limits (B5) */
    idle_s = (int64_t)ctx->cfg->session_idle_s;
    if ((int64_t)pol->session_idle_minutes * 60 < idle_s) {
        idle_s = (int64_t)pol->session_idle_minutes * 60;
    }
    max_end = out->created + (int64_t)pol->session_max_hours * 3600;
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

/* Find the live session of token; an expired one is deleted. Reads the
 * tables (callers may hold a transaction). */
enum cf_rc
auth_session_find(const struct cf_ctx *ctx, struct db *db,
                  const struct auth_keys *k, const char *token, int64_t now,
                  struct auth_session *out, struct auth_tenant_policy *pol_out)
{
    unsigned char thash[CX_MAC_BYTES];
    struct auth_tenant_policy pol;
    int64_t last_seen = 0;
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
    rc = session_judge(ctx, db, k, token, now, &pol, out, last_seen);
    if (rc == CF_OK && pol_out != NULL) {
        *pol_out = pol;
    }
    return rc;
}

/* The signed-in account of a request: every request of a signed-in
 * browser comes here, so the rows come from the handle's cache while
 * the database is unchanged (session_rows_read), and only what changes
 * with time is judged again. */
enum cf_rc
auth_session_get(const struct cf_ctx *ctx, const char *token,
                 struct auth_session *out)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct session_rows *r = NULL;
    unsigned char thash[CX_MAC_BYTES];
    int64_t now = cf_time_unix();
    enum cf_rc rc;

    if (strlen(token) != CX_TOKEN_LEN) {
        return CF_EAUTH;
    }
    r = cf_malloc(sizeof(*r));
    if (r == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = cx_mac(k.token, token, CX_TOKEN_LEN, thash);
    }
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = session_rows_read(db, thash, r);
    }
    if (rc == CF_OK) {
        rc = session_judge(ctx, db, &k, token, now, &r->pol, &r->s,
                           r->last_seen);
    }
    if (rc == CF_OK && (!r->user_found || !auth_user_enabled(&r->user))) {
        rc = CF_EAUTH;
    }
    if (rc == CF_OK) {
        cf_strlcpy(r->s.role, r->user.role, sizeof(r->s.role));
        memcpy(r->s.user_pid, r->user.pid, sizeof(r->s.user_pid));
        r->s.totp = r->user.has_totp;
        /* COMMITMENT D1: personal data stays sealed in memory too,
         * opened only by the pages that show it */
        memcpy(r->s.email_sealed, r->email_sealed, r->email_len);
        r->s.email_len = r->email_len;
        r->s.admin_ip_ok = auth_ip_in_list(r->pol.admin_ips, ctx->client_ip);
        r->s.password_expired = auth_password_too_old(
            &r->pol, r->user.role, r->user.password_set, now);
        *out = r->s;
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    cf_memzero(r, sizeof(*r));
    cf_free(r);
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_logout(const struct cf_ctx *ctx, const char *token)
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
        rc = auth_journal(db, &k, s.user_id, NULL, "logout", ctx);
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
auth_step_up(const struct cf_ctx *ctx, const char *token,
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
