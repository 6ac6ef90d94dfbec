/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Grants (COMMITMENT B1): an account or a group holds a role, tenant-wide
 * or in one space. No escalation: an actor creates or deletes a grant only
 * when it holds every permission of the role where the grant applies.
 */
#include "core/compat.h"

#include "authz/authz_int.h"

#define SQL_GRANT                                                              \
    "SELECT g.public_id, u.public_id, ug.public_id, g.role,"                   \
    " coalesce(r.name, g.role), g.space, g.created FROM grants g"              \
    " LEFT JOIN users u ON u.id = g.user_id"                                   \
    " LEFT JOIN user_groups ug ON ug.id = g.group_id"                          \
    " LEFT JOIN roles r ON r.public_id = g.role"                               \
    " WHERE (g.user_id IS NULL OR u.state <> 'removed')"

static void
grant_row(struct db_stmt *st, struct authz_grant_info *out)
{
    memset(out, 0, sizeof(*out));
    cf_strlcpy(out->id, db_col_text(st, 0), sizeof(out->id));
    cf_strlcpy(out->user, db_col_text(st, 1), sizeof(out->user));
    cf_strlcpy(out->group, db_col_text(st, 2), sizeof(out->group));
    cf_strlcpy(out->role, db_col_text(st, 3), sizeof(out->role));
    cf_strlcpy(out->role_name, db_col_text(st, 4), sizeof(out->role_name));
    cf_strlcpy(out->space, db_col_text(st, 5), sizeof(out->space));
    out->created = db_col_int64(st, 6);
}

static enum cf_rc
grant_read(struct db *db, const char *id, struct authz_grant_info *out)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    if (!authz_is_pid(id)) {
        return CF_ENOTFOUND;
    }
    rc =
        db_row(db, &st, SQL_GRANT " AND g.public_id = ?1", DB_TEXT, id, DB_END);
    if (rc == CF_OK) {
        grant_row(st, out);
        db_stmt_done(st);
    }
    return rc;
}

enum cf_rc
authz_grants_each(const struct cf_ctx *ctx, const char *user, const char *group,
                  const char *space, authz_grant_fn fn, void *arg)
{
    struct authz_grant_info g;
    struct db_stmt *st = NULL;
    struct db *db = NULL;
    enum cf_rc rc;
    bool row = false;

    rc = authz_db_take(ctx, &db);
    if (rc != CF_OK) {
        return rc;
    }
    rc = db_prepare(db,
                    SQL_GRANT " AND (?1 IS NULL OR u.public_id = ?1)"
                              " AND (?2 IS NULL OR ug.public_id = ?2)"
                              " AND (?3 IS NULL OR g.space = ?3)"
                              " ORDER BY g.id",
                    &st);
    if (rc == CF_OK) {
        rc = user != NULL ? db_bind_text(st, 1, user) : db_bind_null(st, 1);
    }
    if (rc == CF_OK) {
        rc = group != NULL ? db_bind_text(st, 2, group) : db_bind_null(st, 2);
    }
    if (rc == CF_OK) {
        rc = space != NULL ? db_bind_text(st, 3, space) : db_bind_null(st, 3);
    }
    while (rc == CF_OK && (rc = db_step(st, &row)) == CF_OK && row) {
        grant_row(st, &g);
        rc = fn(&g, arg);
    }
    db_stmt_done(st);
    db_pool_put(ctx->pool, db);
    return rc;
}

/* The permissions of role (a built-in name or a custom role's id);
 * CF_ENOTFOUND when there is no such role. */
static enum cf_rc
role_perms(struct db *db, const char *role, authz_mask *out)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    *out = authz_role_mask(role);
    if (*out != 0) {
        return CF_OK;
    }
    if (!authz_is_pid(role)) {
        return CF_ENOTFOUND;
    }
    rc = db_row(db, &st, "SELECT permissions FROM roles WHERE public_id = ?1",
                DB_TEXT, role, DB_END);
    if (rc == CF_OK) {
        *out = authz_list_mask(db_col_text(st, 0));
        db_stmt_done(st);
    }
    return rc;
}

/* The row of the account or group of public id pid; CF_EINVAL with *why
 * when there is none. */
static enum cf_rc
holder_row(struct db *db, const char *user, const char *group, int64_t *row,
           const char **why)
{
    enum cf_rc rc;

    if (user != NULL) {
        rc = db_int(db, row,
                    "SELECT id FROM users WHERE public_id = ?1"
                    " AND state <> 'removed'",
                    DB_TEXT, user, DB_END);
        return rc == CF_ENOTFOUND ? authz_refuse(why, "unknown_user", CF_EINVAL)
                                  : rc;
    }
    rc = db_int(db, row, "SELECT id FROM user_groups WHERE public_id = ?1",
                DB_TEXT, group, DB_END);
    return rc == CF_ENOTFOUND ? authz_refuse(why, "unknown_group", CF_EINVAL)
                              : rc;
}

enum cf_rc
authz_grant_create(const struct cf_ctx *ctx, const char *user,
                   const char *group, const char *role, const char *space,
                   struct authz_grant_info *out, const char **why)
{
    char id[AUTHZ_ID_LEN + 1];
    struct cf_buf details;
    struct db *db = NULL;
    bool had = false;
    authz_mask perms = 0;
    int64_t row = 0;
    int64_t n = 0;
    enum cf_rc rc;

    *why = NULL;
    memset(out, 0, sizeof(*out));
    if ((user == NULL) == (group == NULL)) {
        return authz_refuse(why, "bad_request", CF_EINVAL);
    }
    cf_buf_init(&details, 4096);
    rc = authz_tx_open(ctx, &db, &had);
    if (rc == CF_OK) {
        rc = holder_row(db, user, group, &row, why);
    }
    if (rc == CF_OK) {
        rc = role_perms(db, role, &perms);
        if (rc == CF_ENOTFOUND) {
            rc = authz_refuse(why, "unknown_role", CF_EINVAL);
        }
    }
    if (rc == CF_OK) {
        rc = authz_actor_holds(db, ctx, space, perms, why, "role_not_allowed");
    }
    if (rc == CF_OK) {
        rc =
            db_int(db, &n,
                   "SELECT count(*) FROM grants WHERE role = ?1"
                   " AND coalesce(space, '') = coalesce(?2, '')"
                   " AND (user_id = ?3 AND ?4 = 1 OR group_id = ?3 AND ?4 = 0)",
                   DB_TEXT, role, DB_TEXT, space, DB_INT, row, DB_INT,
                   (int64_t)(user != NULL), DB_END);
    }
    if (rc == CF_OK && n > 0) {
        rc = authz_refuse(why, "duplicate_grant", CF_EINVAL);
    }
    if (rc == CF_OK) {
        rc = db_int(db, &n, "SELECT count(*) FROM grants", DB_END);
    }
    if (rc == CF_OK && n >= AUTHZ_GRANTS_MAX) {
        rc = authz_refuse(why, "too_many", CF_ECONFLICT);
    }
    if (rc == CF_OK) {
        rc = cf_id_hex(id, AUTHZ_ID_LEN / 2);
    }
    if (rc == CF_OK) {
        rc = db_run(db,
                    "INSERT INTO grants (public_id, user_id, group_id, role,"
                    " space, created) VALUES (?1,"
                    " (SELECT id FROM users WHERE public_id = ?2),"
                    " (SELECT id FROM user_groups WHERE public_id = ?3),"
                    " ?4, ?5, ?6)",
                    DB_TEXT, id, DB_TEXT, user, DB_TEXT, group, DB_TEXT, role,
                    DB_TEXT, space, DB_INT, cf_time_unix(), DB_END);
    }
    if (rc == CF_OK) {
        rc = authz_details(&details, "user", user, "group", group, "role", role,
                           "space", space, NULL);
    }
    if (rc == CF_OK) {
        rc = authz_audit(db, ctx, "grant.create", "grant", id,
                         cf_buf_str(&details));
    }
    if (rc == CF_OK) {
        rc = grant_read(db, id, out);
    }
    cf_buf_release(&details);
    return authz_tx_close(ctx, db, had, rc, why);
}

enum cf_rc
authz_grant_delete(const struct cf_ctx *ctx, const char *id, const char **why)
{
    struct authz_grant_info g;
    struct db *db = NULL;
    bool had = false;
    authz_mask perms = 0;
    enum cf_rc rc;

    *why = NULL;
    rc = authz_tx_open(ctx, &db, &had);
    if (rc == CF_OK) {
        rc = grant_read(db, id, &g);
    }
    if (rc == CF_OK) {
        rc = role_perms(db, g.role, &perms);
        /* a role gone since: nothing to cover */
        rc = rc == CF_ENOTFOUND ? CF_OK : rc;
    }
    if (rc == CF_OK) {
        rc = authz_actor_holds(db, ctx, g.space[0] != '\0' ? g.space : NULL,
                               perms, why, "role_not_allowed");
    }
    if (rc == CF_OK) {
        rc = db_run(db, "DELETE FROM grants WHERE public_id = ?1", DB_TEXT, id,
                    DB_END);
    }
    if (rc == CF_OK) {
        rc = authz_audit(db, ctx, "grant.delete", "grant", id, NULL);
    }
    return authz_tx_close(ctx, db, had, rc, why);
}

enum cf_rc
authz_space_forget(struct db *db, const char *space)
{
    return db_run(db, "DELETE FROM grants WHERE space = ?1", DB_TEXT, space,
                  DB_END);
}
