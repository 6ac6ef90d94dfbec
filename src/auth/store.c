/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The SQL of accounts, one-time links, sessions and the access journal,
 * in the tenant's database. Every value is a bound parameter (invariant
 * 4); sealed fields arrive sealed. Callers hold the transaction.
 */
#include "core/compat.h"

#include "auth/auth_int.h"

static void
store_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

static void
store_user_row(struct db_stmt *st, struct auth_user *u)
{
    u->id = db_col_int64(st, 0);
    store_copy(u->role, sizeof(u->role), db_col_text(st, 1));
    store_copy(u->state, sizeof(u->state), db_col_text(st, 2));
    u->has_password = db_col_text(st, 3) != NULL;
    u->failed_count = (unsigned)db_col_int64(st, 4);
    u->locked_until = db_col_int64(st, 5);
    u->has_totp = db_col_int64(st, 6) != 0;
    u->password_set = db_col_int64(st, 7);
    store_copy(u->pid, sizeof(u->pid), db_col_text(st, 8));
}

enum cf_rc
auth_store_user_by_index(struct db *db, const unsigned char *idx,
                         struct auth_user *out, char *hash, size_t hashcap)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    rc = db_row(db, &st,
                "SELECT id, role, state, password_hash, failed_count, "
                "locked_until, totp_sealed IS NOT NULL, "
                "coalesce(password_set, 0), public_id FROM users "
                "WHERE email_index = ?1",
                DB_BLOB, idx, (size_t)CX_MAC_BYTES, DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    store_user_row(st, out);
    if (hash != NULL) {
        store_copy(hash, hashcap, db_col_text(st, 3));
    }
    db_stmt_done(st);
    return CF_OK;
}

enum cf_rc
auth_store_user_by_id(struct db *db, int64_t id, struct auth_user *out)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    rc = db_row(db, &st,
                "SELECT id, role, state, password_hash, failed_count, "
                "locked_until, totp_sealed IS NOT NULL, "
                "coalesce(password_set, 0), public_id FROM users "
                "WHERE id = ?1",
                DB_INT, id, DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    store_user_row(st, out);
    db_stmt_done(st);
    return CF_OK;
}

enum cf_rc
auth_store_user_insert(struct db *db, const unsigned char *idx,
                       const char *role, int64_t now, int64_t *id)
{
    char pid[AUTH_ID_LEN + 1];
    enum cf_rc rc;

    rc = cf_id_hex(pid, AUTH_ID_LEN / 2);
    if (rc != CF_OK) {
        return rc;
    }
    /* the sealed address is bound to the row id, known only now: an
     * empty value until auth_store_user_email_set(), in the same
     * transaction */
    rc = db_run(db,
                "INSERT INTO users (email_index, email_sealed, role, "
                "created, public_id) VALUES (?1, x'', ?2, ?3, ?4)",
                DB_BLOB, idx, (size_t)CX_MAC_BYTES, DB_TEXT, role, DB_INT, now,
                DB_TEXT, pid, DB_END);
    if (rc == CF_OK) {
        *id = db_last_insert_id(db);
    }
    return rc;
}

enum cf_rc
auth_store_user_email_set(struct db *db, int64_t id,
                          const struct cf_buf *sealed)
{
    return db_run(db, "UPDATE users SET email_sealed = ?1 WHERE id = ?2",
                  DB_BLOB, sealed->data, sealed->len, DB_INT, id, DB_END);
}

enum cf_rc
auth_store_user_email(struct db *db, int64_t id, struct cf_buf *sealed)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;
    const void *p;
    size_t n = 0;

    rc = db_row(db, &st,
                "SELECT email_sealed FROM users WHERE id = ?1 AND "
                "state != 'removed'",
                DB_INT, id, DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    p = db_col_blob(st, 0, &n);
    rc = cf_buf_add(sealed, p, n);
    db_stmt_done(st);
    return rc;
}

/* score < 0 keeps the recorded score (a rehash of the same password). */
enum cf_rc
auth_store_set_password(struct db *db, int64_t id, const char *hash, int score,
                        int64_t now)
{
    return db_run(db,
                  "UPDATE users SET password_hash = ?1, password_score = "
                  "CASE WHEN ?2 < 0 THEN password_score ELSE ?2 END, "
                  "password_set = ?3, failed_count = 0, "
                  "locked_until = 0 WHERE id = ?4",
                  DB_TEXT, hash, DB_INT, (int64_t)score, DB_INT, now, DB_INT,
                  id, DB_END);
}

enum cf_rc
auth_store_set_failures(struct db *db, int64_t id, unsigned count,
                        int64_t locked_until)
{
    return db_run(db,
                  "UPDATE users SET failed_count = ?1, locked_until = ?2 "
                  "WHERE id = ?3",
                  DB_INT, (int64_t)count, DB_INT, locked_until, DB_INT, id,
                  DB_END);
}

enum cf_rc
auth_store_link_insert(struct db *db, const unsigned char *hash,
                       int64_t user_id, const char *purpose, int64_t expires,
                       int64_t now)
{
    return db_run(db,
                  "INSERT INTO user_links (token_hash, user_id, purpose, "
                  "expires, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                  DB_BLOB, hash, (size_t)CX_MAC_BYTES, DB_INT, user_id, DB_TEXT,
                  purpose, DB_INT, expires, DB_INT, now, DB_END);
}

enum cf_rc
auth_store_link_find(struct db *db, const unsigned char *hash, int64_t now,
                     int64_t *user_id, char purpose[16])
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    rc = db_row(db, &st,
                "SELECT user_id, purpose FROM user_links WHERE "
                "token_hash = ?1 AND used = 0 AND expires > ?2",
                DB_BLOB, hash, (size_t)CX_MAC_BYTES, DB_INT, now, DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    *user_id = db_col_int64(st, 0);
    store_copy(purpose, 16, db_col_text(st, 1));
    db_stmt_done(st);
    return CF_OK;
}

enum cf_rc
auth_store_links_since(struct db *db, int64_t user_id, const char *purpose,
                       int64_t since, int64_t *count)
{
    return db_int(db, count,
                  "SELECT count(*) FROM user_links WHERE user_id = ?1 AND "
                  "purpose = ?2 AND created >= ?3",
                  DB_INT, user_id, DB_TEXT, purpose, DB_INT, since, DB_END);
}

enum cf_rc
auth_store_device_seen(struct db *db, int64_t user_id,
                       const unsigned char mac[CX_MAC_BYTES], bool *any,
                       bool *seen)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    /* the label is sealed: its keyed hash is what compares */
    rc = db_row(db, &st,
                "SELECT count(*), coalesce(sum(device_mac = ?2), 0) FROM "
                "(SELECT device_mac FROM access_log WHERE user_id = ?1 AND "
                "outcome = 'success' ORDER BY id DESC LIMIT 1000)",
                DB_INT, user_id, DB_BLOB, mac, (size_t)CX_MAC_BYTES, DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    *any = db_col_int64(st, 0) > 0;
    *seen = db_col_int64(st, 1) > 0;
    db_stmt_done(st);
    return CF_OK;
}

enum cf_rc
auth_store_link_use(struct db *db, const unsigned char *hash)
{
    return db_run(db, "UPDATE user_links SET used = 1 WHERE token_hash = ?1",
                  DB_BLOB, hash, (size_t)CX_MAC_BYTES, DB_END);
}

enum cf_rc
auth_store_session_insert(struct db *db, const unsigned char *hash,
                          int64_t user_id, int64_t now, int64_t expires,
                          bool mfa_ok, int64_t *id)
{
    char pid[AUTH_ID_LEN + 1];
    enum cf_rc rc;

    rc = cf_id_hex(pid, AUTH_ID_LEN / 2);
    if (rc != CF_OK) {
        return rc;
    }
    /* where it came from is sealed with the row id: auth_session_place()
     * in the same transaction */
    rc = db_run(db,
                "INSERT INTO sessions (token_hash, user_id, created, "
                "last_seen, expires, mfa_ok, auth_at, public_id) VALUES "
                "(?1, ?2, ?3, ?3, ?4, ?5, ?3, ?6)",
                DB_BLOB, hash, (size_t)CX_MAC_BYTES, DB_INT, user_id, DB_INT,
                now, DB_INT, expires, DB_INT, (int64_t)mfa_ok, DB_TEXT, pid,
                DB_END);
    if (rc == CF_OK) {
        *id = db_last_insert_id(db);
    }
    return rc;
}

enum cf_rc
auth_store_place_set(struct db *db, bool journal, int64_t id,
                     const struct cf_buf *ip, const struct cf_buf *ua,
                     const struct cf_buf *device,
                     const unsigned char *device_mac)
{
    if (journal) {
        return db_run(db,
                      "UPDATE access_log SET client_ip = ?1, user_agent = ?2, "
                      "device = ?3, device_mac = ?4 WHERE id = ?5",
                      DB_BLOB, ip->data, ip->len, DB_BLOB, ua->data, ua->len,
                      DB_BLOB, device->data, device->len, DB_BLOB, device_mac,
                      (size_t)CX_MAC_BYTES, DB_INT, id, DB_END);
    }
    return db_run(db,
                  "UPDATE sessions SET client_ip = ?1, user_agent = ?2, "
                  "device = ?3 WHERE id = ?4",
                  DB_BLOB, ip->data, ip->len, DB_BLOB, ua->data, ua->len,
                  DB_BLOB, device->data, device->len, DB_INT, id, DB_END);
}

enum cf_rc
auth_store_session_find(struct db *db, const unsigned char *hash,
                        struct auth_session *out, int64_t *last_seen)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    rc = db_row(db, &st,
                "SELECT id, user_id, created, last_seen, expires, mfa_ok, "
                "public_id, auth_at FROM sessions WHERE token_hash = ?1",
                DB_BLOB, hash, (size_t)CX_MAC_BYTES, DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    out->id = db_col_int64(st, 0);
    out->user_id = db_col_int64(st, 1);
    out->created = db_col_int64(st, 2);
    *last_seen = db_col_int64(st, 3);
    out->expires = db_col_int64(st, 4);
    out->mfa_ok = db_col_int64(st, 5) != 0;
    store_copy(out->pid, sizeof(out->pid), db_col_text(st, 6));
    out->auth_at = db_col_int64(st, 7);
    db_stmt_done(st);
    return CF_OK;
}

enum cf_rc
auth_store_session_touch(struct db *db, int64_t id, int64_t now)
{
    return db_run(db, "UPDATE sessions SET last_seen = ?1 WHERE id = ?2",
                  DB_INT, now, DB_INT, id, DB_END);
}

enum cf_rc
auth_store_session_delete(struct db *db, int64_t id)
{
    return db_run(db, "DELETE FROM sessions WHERE id = ?1", DB_INT, id, DB_END);
}

/* user_id 0: no account matched (the blind index says which address was
 * tried, without storing it). */
enum cf_rc
auth_store_journal_insert(struct db *db, int64_t user_id,
                          const unsigned char *email_index, const char *outcome,
                          int64_t *id)
{
    char now[CF_TIME_RFC3339_LEN];
    enum cf_rc rc;

    cf_time_rfc3339(now);
    rc = db_run(
        db,
        "INSERT INTO access_log (time, user_id, email_index, outcome) "
        "VALUES (?1, ?2, ?3, ?4)",
        DB_TEXT, now, DB_INT, user_id > 0 ? user_id : (int64_t)0, DB_BLOB,
        email_index != NULL ? (const void *)email_index : (const void *)"",
        email_index != NULL ? (size_t)CX_MAC_BYTES : (size_t)0, DB_TEXT,
        outcome, DB_END);
    if (rc == CF_OK) {
        *id = db_last_insert_id(db);
    }
    return rc;
}

enum cf_rc
auth_store_user_hash(struct db *db, int64_t id, char *hash, size_t cap)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    rc = db_row(db, &st, "SELECT password_hash FROM users WHERE id = ?1",
                DB_INT, id, DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    store_copy(hash, cap, db_col_text(st, 0));
    db_stmt_done(st);
    return CF_OK;
}

enum cf_rc
auth_store_sessions_each(struct db *db, int64_t user_id, int64_t idle_since,
                         int64_t now, int64_t current_id,
                         auth_store_session_row_fn fn, void *arg)
{
    struct db_stmt *st = NULL;
    struct auth_session_info s;
    const void *ip;
    const void *dev;
    size_t iplen = 0;
    size_t devlen = 0;
    enum cf_rc rc;
    bool row = false;

    rc = db_prepare(db,
                    "SELECT id, created, last_seen, client_ip, device, "
                    "public_id FROM sessions WHERE user_id = ?1 AND "
                    "last_seen > ?2 AND "
                    "expires > ?3 ORDER BY id DESC",
                    &st);
    if (rc != CF_OK) {
        return rc;
    }
    rc = db_bind_int64(st, 1, user_id);
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 2, idle_since);
    }
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 3, now);
    }
    while (rc == CF_OK) {
        rc = db_step(st, &row);
        if (rc != CF_OK || !row) {
            break;
        }
        memset(&s, 0, sizeof(s));
        s.id = db_col_int64(st, 0);
        s.created = db_col_int64(st, 1);
        s.last_seen = db_col_int64(st, 2);
        store_copy(s.pid, sizeof(s.pid), db_col_text(st, 5));
        s.current = s.id == current_id;
        ip = db_col_blob(st, 3, &iplen);
        dev = db_col_blob(st, 4, &devlen);
        rc = fn(&s, ip, iplen, dev, devlen, arg);
    }
    db_stmt_done(st);
    return rc;
}

enum cf_rc
auth_store_logins_each(struct db *db, int64_t user_id, const char *user_pid,
                       const char *outcome, int64_t before, unsigned limit,
                       auth_store_login_row_fn fn, void *arg)
{
    struct db_stmt *st = NULL;
    struct auth_login_info l;
    const void *ip;
    const void *dev;
    size_t iplen = 0;
    size_t devlen = 0;
    enum cf_rc rc;
    bool row = false;

    rc = db_prepare(db,
                    "SELECT a.id, a.time, a.outcome, a.client_ip, a.device, "
                    "a.user_id, u.public_id FROM access_log a LEFT JOIN "
                    "users u ON u.id = a.user_id WHERE (?1 < 0 OR "
                    "a.user_id = ?1) AND (?5 IS NULL OR u.public_id = ?5) "
                    "AND a.id < ?2 AND (?4 IS NULL OR a.outcome = ?4) "
                    "ORDER BY a.id DESC LIMIT ?3",
                    &st);
    if (rc != CF_OK) {
        return rc;
    }
    rc = db_bind_int64(st, 1, user_id);
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
    }
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 3, (int64_t)limit);
    }
    if (rc == CF_OK) {
        rc = outcome != NULL ? db_bind_text(st, 4, outcome)
                             : db_bind_null(st, 4);
    }
    if (rc == CF_OK) {
        rc = user_pid != NULL ? db_bind_text(st, 5, user_pid)
                              : db_bind_null(st, 5);
    }
    while (rc == CF_OK) {
        rc = db_step(st, &row);
        if (rc != CF_OK || !row) {
            break;
        }
        memset(&l, 0, sizeof(l));
        l.id = db_col_int64(st, 0);
        store_copy(l.time, sizeof(l.time), db_col_text(st, 1));
        store_copy(l.outcome, sizeof(l.outcome), db_col_text(st, 2));
        l.user_id = db_col_int64(st, 5);
        store_copy(l.user_pid, sizeof(l.user_pid), db_col_text(st, 6));
        ip = db_col_blob(st, 3, &iplen);
        dev = db_col_blob(st, 4, &devlen);
        rc = fn(&l, ip, iplen, dev, devlen, arg);
    }
    db_stmt_done(st);
    return rc;
}

enum cf_rc
auth_store_sessions_delete(struct db *db, int64_t user_id, const char *pid,
                           int64_t keep_id, int64_t *count)
{
    enum cf_rc rc;

    if (pid != NULL) {
        rc = db_run(db,
                    "DELETE FROM sessions WHERE public_id = ?1 AND "
                    "user_id = ?2",
                    DB_TEXT, pid, DB_INT, user_id, DB_END);
    } else {
        rc = db_run(db, "DELETE FROM sessions WHERE user_id = ?1 AND id != ?2",
                    DB_INT, user_id, DB_INT, keep_id, DB_END);
    }
    if (rc == CF_OK) {
        *count = db_changes(db);
    }
    return rc;
}

/* ---- TOTP ------------------------------------------------------------ */

static enum cf_rc
store_blob_col(struct db_stmt *st, int col, struct cf_buf *out)
{
    const void *p;
    size_t n = 0;

    p = db_col_blob(st, col, &n);
    return p != NULL && n > 0 ? cf_buf_add(out, p, n) : CF_OK;
}

enum cf_rc
auth_store_totp_get(struct db *db, int64_t id, struct cf_buf *active,
                    struct cf_buf *pending, int64_t *last_step)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    rc = db_row(db, &st,
                "SELECT totp_sealed, totp_pending, totp_last_step FROM "
                "users WHERE id = ?1",
                DB_INT, id, DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    rc = active != NULL ? store_blob_col(st, 0, active) : CF_OK;
    if (rc == CF_OK && pending != NULL) {
        rc = store_blob_col(st, 1, pending);
    }
    *last_step = db_col_int64(st, 2);
    db_stmt_done(st);
    return rc;
}

enum cf_rc
auth_store_totp_pending(struct db *db, int64_t id, const struct cf_buf *sealed)
{
    return db_run(db, "UPDATE users SET totp_pending = ?1 WHERE id = ?2",
                  DB_BLOB, sealed->data, sealed->len, DB_INT, id, DB_END);
}

enum cf_rc
auth_store_totp_activate(struct db *db, int64_t id, int64_t step)
{
    return db_run(db,
                  "UPDATE users SET totp_sealed = totp_pending, "
                  "totp_pending = NULL, totp_last_step = ?1 WHERE id = ?2",
                  DB_INT, step, DB_INT, id, DB_END);
}

enum cf_rc
auth_store_totp_clear(struct db *db, int64_t id)
{
    enum cf_rc rc;

    rc = db_run(db,
                "UPDATE users SET totp_sealed = NULL, totp_pending = NULL, "
                "totp_last_step = 0 WHERE id = ?1",
                DB_INT, id, DB_END);
    if (rc == CF_OK) {
        rc = db_run(db, "DELETE FROM recovery_codes WHERE user_id = ?1", DB_INT,
                    id, DB_END);
    }
    return rc;
}

enum cf_rc
auth_store_totp_step(struct db *db, int64_t id, int64_t step)
{
    return db_run(db, "UPDATE users SET totp_last_step = ?1 WHERE id = ?2",
                  DB_INT, step, DB_INT, id, DB_END);
}

enum cf_rc
auth_store_recovery_add(struct db *db, int64_t id, const unsigned char *hash)
{
    return db_run(db,
                  "INSERT INTO recovery_codes (user_id, code_hash) VALUES "
                  "(?1, ?2)",
                  DB_INT, id, DB_BLOB, hash, (size_t)CX_MAC_BYTES, DB_END);
}

enum cf_rc
auth_store_recovery_clear(struct db *db, int64_t id)
{
    return db_run(db, "DELETE FROM recovery_codes WHERE user_id = ?1", DB_INT,
                  id, DB_END);
}

enum cf_rc
auth_store_recovery_use(struct db *db, int64_t id, const unsigned char *hash)
{
    enum cf_rc rc;

    rc = db_run(db,
                "UPDATE recovery_codes SET used = 1 WHERE user_id = ?1 AND "
                "code_hash = ?2 AND used = 0",
                DB_INT, id, DB_BLOB, hash, (size_t)CX_MAC_BYTES, DB_END);
    if (rc == CF_OK && db_changes(db) != 1) {
        rc = CF_ENOTFOUND;
    }
    return rc;
}

enum cf_rc
auth_store_session_mfa(struct db *db, int64_t session_id)
{
    return db_run(db, "UPDATE sessions SET mfa_ok = 1 WHERE id = ?1", DB_INT,
                  session_id, DB_END);
}

enum cf_rc
auth_store_session_proved(struct db *db, int64_t id, int64_t now)
{
    return db_run(db, "UPDATE sessions SET auth_at = ?1 WHERE id = ?2", DB_INT,
                  now, DB_INT, id, DB_END);
}

/* ---- API tokens ---------------------------------------------------- */

enum cf_rc
auth_store_token_insert(struct db *db, const struct auth_token_info *t,
                        int64_t user_id, const unsigned char *hash,
                        const struct cf_buf *name_sealed)
{
    return db_run(db,
                  "INSERT INTO api_tokens (id, user_id, token_hash, "
                  "name_sealed, permissions, created, expires) VALUES "
                  "(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                  DB_TEXT, t->id, DB_INT, user_id, DB_BLOB, hash,
                  (size_t)CX_MAC_BYTES, DB_BLOB, name_sealed->data,
                  name_sealed->len, DB_TEXT, t->permissions, DB_INT, t->created,
                  DB_INT, t->expires, DB_END);
}

enum cf_rc
auth_store_tokens_count(struct db *db, int64_t user_id, int64_t now,
                        int64_t *count)
{
    return db_int(db, count,
                  "SELECT count(*) FROM api_tokens WHERE user_id = ?1 AND "
                  "expires > ?2",
                  DB_INT, user_id, DB_INT, now, DB_END);
}

enum cf_rc
auth_store_tokens_each(struct db *db, int64_t user_id, int64_t now,
                       auth_store_token_fn fn, void *arg)
{
    struct db_stmt *st = NULL;
    struct auth_token_info t;
    const void *p;
    size_t n = 0;
    enum cf_rc rc;
    bool row = false;

    rc = db_prepare(db,
                    "SELECT id, name_sealed, permissions, created, expires, "
                    "last_used FROM api_tokens WHERE user_id = ?1 AND "
                    "expires > ?2 ORDER BY created DESC, id",
                    &st);
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 1, user_id);
    }
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 2, now);
    }
    while (rc == CF_OK) {
        rc = db_step(st, &row);
        if (rc != CF_OK || !row) {
            break;
        }
        memset(&t, 0, sizeof(t));
        store_copy(t.id, sizeof(t.id), db_col_text(st, 0));
        p = db_col_blob(st, 1, &n);
        store_copy(t.permissions, sizeof(t.permissions), db_col_text(st, 2));
        t.created = db_col_int64(st, 3);
        t.expires = db_col_int64(st, 4);
        t.last_used = db_col_int64(st, 5);
        rc = fn(&t, p, n, arg);
    }
    db_stmt_done(st);
    return rc;
}

enum cf_rc
auth_store_token_delete(struct db *db, int64_t user_id, const char *id,
                        int64_t *count)
{
    enum cf_rc rc;

    rc = db_run(db, "DELETE FROM api_tokens WHERE id = ?1 AND user_id = ?2",
                DB_TEXT, id, DB_INT, user_id, DB_END);
    if (rc == CF_OK) {
        *count = db_changes(db);
    }
    return rc;
}

enum cf_rc
auth_store_token_find(struct db *db, const unsigned char *hash, int64_t now,
                      struct auth_token_info *t, int64_t *user_id)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    rc = db_row(db, &st,
                "SELECT id, user_id, permissions, created, expires, "
                "last_used FROM api_tokens WHERE token_hash = ?1 AND "
                "expires > ?2",
                DB_BLOB, hash, (size_t)CX_MAC_BYTES, DB_INT, now, DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    memset(t, 0, sizeof(*t));
    store_copy(t->id, sizeof(t->id), db_col_text(st, 0));
    *user_id = db_col_int64(st, 1);
    store_copy(t->permissions, sizeof(t->permissions), db_col_text(st, 2));
    t->created = db_col_int64(st, 3);
    t->expires = db_col_int64(st, 4);
    t->last_used = db_col_int64(st, 5);
    db_stmt_done(st);
    return CF_OK;
}

enum cf_rc
auth_store_token_used(struct db *db, const char *id, int64_t now)
{
    return db_run(db, "UPDATE api_tokens SET last_used = ?1 WHERE id = ?2",
                  DB_INT, now, DB_TEXT, id, DB_END);
}

/* ---- settings ------------------------------------------------------ */

enum cf_rc
auth_store_setting_get(struct db *db, const char *key, char *out, size_t cap)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    rc = db_row(db, &st, "SELECT value FROM settings WHERE key = ?1", DB_TEXT,
                key, DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    store_copy(out, cap, db_col_text(st, 0));
    db_stmt_done(st);
    return CF_OK;
}

enum cf_rc
auth_store_setting_set(struct db *db, const char *key, const char *value)
{
    return db_run(db,
                  "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                  DB_TEXT, key, DB_TEXT, value, DB_END);
}

enum cf_rc
auth_store_settings_each(struct db *db, auth_setting_fn fn, void *arg)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;
    bool row = false;

    rc = db_prepare(db, "SELECT key, value FROM settings", &st);
    while (rc == CF_OK) {
        rc = db_step(st, &row);
        if (rc != CF_OK || !row) {
            break;
        }
        rc = fn(db_col_text(st, 0), db_col_text(st, 1), arg);
    }
    db_stmt_done(st);
    return rc;
}

/* ---- password history (COMMITMENT A8) -------------------------------- */

enum cf_rc
auth_store_history_add(struct db *db, int64_t user_id, const char *hash,
                       int64_t now, unsigned keep)
{
    enum cf_rc rc;

    rc = db_run(db,
                "INSERT INTO password_history (user_id, hash, set_at) "
                "VALUES (?1, ?2, ?3)",
                DB_INT, user_id, DB_TEXT, hash, DB_INT, now, DB_END);
    if (rc == CF_OK) {
        rc = db_run(db,
                    "DELETE FROM password_history WHERE user_id = ?1 AND "
                    "id NOT IN (SELECT id FROM password_history WHERE "
                    "user_id = ?1 ORDER BY id DESC LIMIT ?2)",
                    DB_INT, user_id, DB_INT, (int64_t)keep, DB_END);
    }
    return rc;
}

enum cf_rc
auth_store_history_each(struct db *db, int64_t user_id, unsigned limit,
                        auth_hash_fn fn, void *arg)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;
    bool row = false;

    rc = db_prepare(db,
                    "SELECT hash FROM password_history WHERE user_id = ?1 "
                    "ORDER BY id DESC LIMIT ?2",
                    &st);
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 1, user_id);
    }
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 2, (int64_t)limit);
    }
    while (rc == CF_OK) {
        rc = db_step(st, &row);
        if (rc != CF_OK || !row) {
            break;
        }
        rc = fn(db_col_text(st, 0), arg);
    }
    db_stmt_done(st);
    return rc;
}

/* ---- administration of accounts ------------------------------------- */

static void
store_account_row(struct db_stmt *st, struct auth_account *a,
                  const void **sealed, size_t *sealed_len)
{
    int64_t locked_until;

    memset(a, 0, sizeof(*a));
    a->id = db_col_int64(st, 0);
    store_copy(a->role, sizeof(a->role), db_col_text(st, 1));
    store_copy(a->state, sizeof(a->state), db_col_text(st, 2));
    if (strcmp(a->state, "active") == 0 && db_col_int64(st, 3) == 0) {
        store_copy(a->state, sizeof(a->state), "invited");
    }
    a->totp = db_col_int64(st, 4) != 0;
    locked_until = db_col_int64(st, 5);
    a->locked_until = locked_until;
    a->created = db_col_int64(st, 6);
    store_copy(a->last_login, sizeof(a->last_login), db_col_text(st, 7));
    *sealed = db_col_blob(st, 8, sealed_len);
    store_copy(a->pid, sizeof(a->pid), db_col_text(st, 9));
}

#define STORE_ACCOUNT_COLS                                                     \
    "SELECT u.id, u.role, u.state, u.password_hash IS NOT NULL, "              \
    "u.totp_sealed IS NOT NULL, u.locked_until, u.created, "                   \
    "(SELECT max(time) FROM access_log a WHERE a.user_id = u.id AND "          \
    "a.outcome = 'success'), u.email_sealed, u.public_id FROM users u "

enum cf_rc
auth_store_accounts_each(struct db *db, const char *pid,
                         auth_store_account_fn fn, void *arg)
{
    struct db_stmt *st = NULL;
    struct auth_account a;
    const void *sealed;
    size_t n = 0;
    enum cf_rc rc;
    bool row = false;

    rc =
        db_prepare(db,
                   STORE_ACCOUNT_COLS "WHERE (?1 = '' OR u.public_id = ?1) AND "
                                      "u.state != 'removed' ORDER BY u.id",
                   &st);
    if (rc == CF_OK) {
        rc = db_bind_text(st, 1, pid != NULL ? pid : "");
    }
    while (rc == CF_OK) {
        rc = db_step(st, &row);
        if (rc != CF_OK || !row) {
            break;
        }
        store_account_row(st, &a, &sealed, &n);
        rc = fn(&a, sealed, n, arg);
    }
    db_stmt_done(st);
    return rc;
}

enum cf_rc
auth_store_owners_active(struct db *db, int64_t *count)
{
    return db_int(db, count,
                  "SELECT count(*) FROM users WHERE role = 'owner' AND "
                  "state = 'active' AND password_hash IS NOT NULL",
                  DB_END);
}

enum cf_rc
auth_store_user_set(struct db *db, int64_t id, const char *field,
                    const char *value)
{
    /* field is one of two constants of users.c, never input */
    if (strcmp(field, "role") == 0) {
        return db_run(db, "UPDATE users SET role = ?1 WHERE id = ?2", DB_TEXT,
                      value, DB_INT, id, DB_END);
    }
    if (strcmp(field, "state") == 0) {
        return db_run(db, "UPDATE users SET state = ?1 WHERE id = ?2", DB_TEXT,
                      value, DB_INT, id, DB_END);
    }
    return CF_ERR(CF_EINVAL);
}

enum cf_rc
auth_store_tokens_delete_all(struct db *db, int64_t user_id)
{
    return db_run(db, "DELETE FROM api_tokens WHERE user_id = ?1", DB_INT,
                  user_id, DB_END);
}

enum cf_rc
auth_store_user_delete(struct db *db, int64_t id)
{
    static const char *const sql[] = {
        "DELETE FROM api_tokens WHERE user_id = ?1",
        "DELETE FROM sessions WHERE user_id = ?1",
        "DELETE FROM user_links WHERE user_id = ?1",
        "DELETE FROM recovery_codes WHERE user_id = ?1",
        "DELETE FROM password_history WHERE user_id = ?1",
    };
    unsigned char tomb[CX_MAC_BYTES];
    enum cf_rc rc = CF_OK;
    size_t i;

    for (i = 0; rc == CF_OK && i < CF_ARRAY_LEN(sql); i++) {
        rc = db_run(db, sql[i], DB_INT, id, DB_END);
    }
    /* The row stays as a tombstone with nothing personal in it, so that
     * its id is never given to another account (the journal and the audit
     * trail name user:<id>); a random blind index frees the address. */
    cx_random_buf(tomb, sizeof(tomb));
    if (rc == CF_OK) {
        rc = db_run(db,
                    "UPDATE users SET state = 'removed', email_index = ?1, "
                    "email_sealed = ?2, name_sealed = NULL, "
                    "password_hash = NULL, password_score = NULL, "
                    "totp_sealed = NULL, totp_pending = NULL WHERE id = ?3",
                    DB_BLOB, tomb, sizeof(tomb), DB_BLOB, "", (size_t)0, DB_INT,
                    id, DB_END);
    }
    return rc;
}

/* ---- one-time links of an account ----------------------------------- */

enum cf_rc
auth_store_links_invalidate(struct db *db, int64_t user_id, const char *purpose)
{
    return db_run(db,
                  "UPDATE user_links SET used = 1 WHERE user_id = ?1 AND "
                  "used = 0 AND (?2 IS NULL OR purpose = ?2)",
                  DB_INT, user_id, DB_TEXT, purpose, DB_END);
}
