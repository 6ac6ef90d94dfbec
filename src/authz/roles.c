/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Custom roles (COMMITMENT B1): named sets of the catalogue's
 * permissions. No escalation: an actor creates, changes or deletes a role
 * only when it holds, tenant-wide, every permission the role holds before
 * and after. Built-in roles never change.
 */
#include "core/compat.h"

#include "authz/authz_int.h"

/* ---- roles ------------------------------------------------------------ */

static enum cf_rc
role_builtin(struct db *db, const struct authz_role *r,
             struct authz_role_info *out)
{
    memset(out, 0, sizeof(*out));
    cf_strlcpy(out->id, r->name, sizeof(out->id));
    cf_strlcpy(out->name, r->name, sizeof(out->name));
    out->builtin = true;
    out->perms = authz_role_mask(r->name);
    return db_int(db, &out->grants,
                  "SELECT count(*) FROM grants WHERE role = ?1", DB_TEXT,
                  r->name, DB_END);
}

#define SQL_ROLE                                                               \
    "SELECT r.public_id, r.name, r.permissions,"                               \
    " (SELECT count(*) FROM grants g WHERE g.role = r.public_id)"              \
    " FROM roles r"

static void
role_row(struct db_stmt *st, struct authz_role_info *out)
{
    memset(out, 0, sizeof(*out));
    cf_strlcpy(out->id, db_col_text(st, 0), sizeof(out->id));
    cf_strlcpy(out->name, db_col_text(st, 1), sizeof(out->name));
    out->perms = authz_list_mask(db_col_text(st, 2));
    out->grants = db_col_int64(st, 3);
}

static enum cf_rc
role_read(struct db *db, const char *id, struct authz_role_info *out)
{
    const struct authz_role *b = authz_role_find(id);
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    if (b != NULL) {
        return role_builtin(db, b, out);
    }
    if (!authz_is_pid(id)) {
        return CF_ENOTFOUND;
    }
    rc = db_row(db, &st, SQL_ROLE " WHERE r.public_id = ?1", DB_TEXT, id,
                DB_END);
    if (rc == CF_OK) {
        role_row(st, out);
        db_stmt_done(st);
    }
    return rc;
}

enum cf_rc
authz_roles_each(const struct cf_ctx *ctx, authz_role_fn fn, void *arg)
{
    struct authz_role_info r;
    struct db_stmt *st = NULL;
    struct db *db = NULL;
    enum cf_rc rc;
    bool row = false;
    size_t i;

    rc = authz_db_take(ctx, &db);
    for (i = 0; rc == CF_OK && i < authz_roles_count; i++) {
        rc = role_builtin(db, &authz_roles[i], &r);
        if (rc == CF_OK) {
            rc = fn(&r, arg);
        }
    }
    if (rc == CF_OK) {
        rc = db_prepare(db, SQL_ROLE " ORDER BY r.name_key", &st);
    }
    while (rc == CF_OK && (rc = db_step(st, &row)) == CF_OK && row) {
        role_row(st, &r);
        rc = fn(&r, arg);
    }
    db_stmt_done(st);
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    return rc;
}

enum cf_rc
authz_role_get(const struct cf_ctx *ctx, const char *id,
               struct authz_role_info *out)
{
    struct db *db = NULL;
    enum cf_rc rc;

    rc = authz_db_take(ctx, &db);
    if (rc == CF_OK) {
        rc = role_read(db, id, out);
        db_pool_put(ctx->pool, db);
    }
    return rc;
}

/* Is name free for a role (not a built-in's, not another role's)? */
static enum cf_rc
role_name_free(struct db *db, const char *name, const char *self,
               const char **why)
{
    char key[sizeof(((struct authz_role_info *)0)->name)];
    int64_t n = 0;
    size_t i;
    enum cf_rc rc;

    authz_name_key(name, key, sizeof(key));
    for (i = 0; i < authz_roles_count; i++) {
        if (strcmp(authz_roles[i].name, key) == 0) {
            return authz_refuse(why, "name_taken", CF_ECONFLICT);
        }
    }
    rc = db_int(db, &n,
                "SELECT count(*) FROM roles WHERE name_key = ?1"
                " AND public_id <> ?2",
                DB_TEXT, key, DB_TEXT, self != NULL ? self : "", DB_END);
    if (rc == CF_OK && n > 0) {
        rc = authz_refuse(why, "name_taken", CF_ECONFLICT);
    }
    return rc;
}

static enum cf_rc
role_details(struct cf_buf *b, const char *name, authz_mask perms)
{
    char list[AUTHZ_PERMS_TEXT];

    authz_mask_list(perms, list, sizeof(list));
    return authz_details(b, "name", name, "permissions", list, NULL);
}

enum cf_rc
authz_role_create(const struct cf_ctx *ctx, const char *name, authz_mask perms,
                  struct authz_role_info *out, const char **why)
{
    char id[AUTHZ_ID_LEN + 1];
    char key[sizeof(out->name)];
    char list[AUTHZ_PERMS_TEXT];
    struct cf_buf details;
    struct db *db = NULL;
    bool had = false;
    int64_t n = 0;
    enum cf_rc rc;

    *why = NULL;
    if (!authz_name_ok(name, sizeof(out->name))) {
        return authz_refuse(why, "invalid_name", CF_EINVAL);
    }
    cf_buf_init(&details, 4096);
    authz_mask_list(perms, list, sizeof(list));
    authz_name_key(name, key, sizeof(key));
    rc = authz_tx_open(ctx, &db, &had);
    if (rc == CF_OK) {
        rc = authz_actor_holds(db, ctx, AUTHZ_TENANT, perms, why,
                               "permission_not_held");
    }
    if (rc == CF_OK) {
        rc = role_name_free(db, name, NULL, why);
    }
    if (rc == CF_OK) {
        rc = db_int(db, &n, "SELECT count(*) FROM roles", DB_END);
    }
    if (rc == CF_OK && n >= AUTHZ_ROLES_MAX) {
        rc = authz_refuse(why, "too_many", CF_ECONFLICT);
    }
    if (rc == CF_OK) {
        rc = cf_id_hex(id, AUTHZ_ID_LEN / 2);
    }
    if (rc == CF_OK) {
        rc = db_run(db,
                    "INSERT INTO roles (public_id, name, name_key,"
                    " permissions, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                    DB_TEXT, id, DB_TEXT, name, DB_TEXT, key, DB_TEXT, list,
                    DB_INT, cf_time_unix(), DB_END);
    }
    if (rc == CF_OK) {
        rc = role_details(&details, name, perms);
    }
    if (rc == CF_OK) {
        rc = authz_audit(db, ctx, "role.create", "role", id,
                         cf_buf_str(&details));
    }
    if (rc == CF_OK) {
        rc = role_read(db, id, out);
    }
    cf_buf_release(&details);
    return authz_tx_close(ctx, db, had, rc, why);
}

enum cf_rc
authz_role_update(const struct cf_ctx *ctx, const char *id, const char *name,
                  authz_mask perms, struct authz_role_info *out,
                  const char **why)
{
    struct authz_role_info old;
    char key[sizeof(out->name)];
    char list[AUTHZ_PERMS_TEXT];
    struct cf_buf a;
    struct cf_buf b;
    struct db *db = NULL;
    bool had = false;
    enum cf_rc rc;

    *why = NULL;
    if (authz_role_find(id) != NULL) {
        return authz_refuse(why, "builtin_role", CF_ECONFLICT);
    }
    if (name != NULL && !authz_name_ok(name, sizeof(out->name))) {
        return authz_refuse(why, "invalid_name", CF_EINVAL);
    }
    cf_buf_init(&a, 4096);
    cf_buf_init(&b, 8192);
    rc = authz_tx_open(ctx, &db, &had);
    if (rc == CF_OK) {
        rc = role_read(db, id, &old);
    }
    if (rc == CF_OK) {
        name = name != NULL ? name : old.name;
        perms = perms != 0 ? perms : old.perms;
        rc = authz_actor_holds(db, ctx, AUTHZ_TENANT, old.perms | perms, why,
                               "permission_not_held");
    }
    if (rc == CF_OK) {
        rc = role_name_free(db, name, id, why);
    }
    if (rc == CF_OK) {
        authz_name_key(name, key, sizeof(key));
        authz_mask_list(perms, list, sizeof(list));
        rc = db_run(db,
                    "UPDATE roles SET name = ?2, name_key = ?3,"
                    " permissions = ?4 WHERE public_id = ?1",
                    DB_TEXT, id, DB_TEXT, name, DB_TEXT, key, DB_TEXT, list,
                    DB_END);
    }
    /* {"old":{...},"new":{...}} */
    if (rc == CF_OK) {
        rc = role_details(&a, old.name, old.perms);
    }
    if (rc == CF_OK) {
        rc = cf_buf_adds(&b, "{\"old\":");
    }
    if (rc == CF_OK) {
        rc = cf_buf_adds(&b, cf_buf_str(&a));
    }
    if (rc == CF_OK) {
        cf_buf_reset(&a);
        rc = role_details(&a, name, perms);
    }
    if (rc == CF_OK) {
        rc = cf_buf_addf(&b, ",\"new\":%s}", cf_buf_str(&a));
    }
    if (rc == CF_OK) {
        rc = authz_audit(db, ctx, "role.update", "role", id, cf_buf_str(&b));
    }
    if (rc == CF_OK) {
        rc = role_read(db, id, out);
    }
    cf_buf_release(&a);
    cf_buf_release(&b);
    return authz_tx_close(ctx, db, had, rc, why);
}

enum cf_rc
authz_role_delete(const struct cf_ctx *ctx, const char *id, const char **why)
{
    struct authz_role_info old;
    struct db *db = NULL;
    bool had = false;
    enum cf_rc rc;

    *why = NULL;
    if (authz_role_find(id) != NULL) {
        return authz_refuse(why, "builtin_role", CF_ECONFLICT);
    }
    rc = authz_tx_open(ctx, &db, &had);
    if (rc == CF_OK) {
        rc = role_read(db, id, &old);
    }
    if (rc == CF_OK) {
        rc = authz_actor_holds(db, ctx, AUTHZ_TENANT, old.perms, why,
                               "permission_not_held");
    }
    if (rc == CF_OK && old.grants > 0) {
        rc = authz_refuse(why, "role_in_use", CF_ECONFLICT);
    }
    if (rc == CF_OK) {
        rc = db_run(db, "DELETE FROM roles WHERE public_id = ?1", DB_TEXT, id,
                    DB_END);
    }
    if (rc == CF_OK) {
        rc = authz_audit(db, ctx, "role.delete", "role", id, NULL);
    }
    return authz_tx_close(ctx, db, had, rc, why);
}
