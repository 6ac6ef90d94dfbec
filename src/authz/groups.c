/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Groups of accounts and of other groups (COMMITMENT B1). A group inside
 * a group passes its members on, at any depth; a change that would make
 * a group contain itself is refused (400 cycle) and changes nothing.
 */
#include "core/compat.h"

#include "authz/authz_int.h"

void
authz_group_release(struct authz_group_info *g)
{
    CF_FREE_AND_NULL(g->members);
    CF_FREE_AND_NULL(g->groups);
}

/* The first column of every row of sql (one int64 argument) as a
 * space-separated string in *out (owned). */
static enum cf_rc
column_list(struct db *db, const char *sql, int64_t arg, char **out)
{
    struct cf_buf b;
    struct db_stmt *st = NULL;
    enum cf_rc rc;
    bool row = false;

    *out = NULL;
    cf_buf_init(&b, (size_t)64 * 1024);
    rc = cf_buf_adds(&b, "");
    if (rc == CF_OK) {
        rc = db_prepare(db, sql, &st);
    }
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 1, arg);
    }
    while (rc == CF_OK && (rc = db_step(st, &row)) == CF_OK && row) {
        if (b.len > 0) {
            rc = cf_buf_addch(&b, ' ');
        }
        if (rc == CF_OK) {
            rc = cf_buf_adds(&b, db_col_text(st, 0));
        }
    }
    db_stmt_done(st);
    if (rc == CF_OK) {
        rc = cf_buf_detach(&b, out, NULL);
    }
    cf_buf_release(&b);
    return rc;
}

#define SQL_GROUP "SELECT id, public_id, name, created FROM user_groups"

/* The group of public id pid with its lists; *row its row id. */
static enum cf_rc
group_read(struct db *db, const char *pid, int64_t *row,
           struct authz_group_info *out)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;

    memset(out, 0, sizeof(*out));
    if (!authz_is_pid(pid)) {
        return CF_ENOTFOUND;
    }
    rc = db_row(db, &st, SQL_GROUP " WHERE public_id = ?1", DB_TEXT, pid,
                DB_END);
    if (rc != CF_OK) {
        return rc;
    }
    *row = db_col_int64(st, 0);
    cf_strlcpy(out->id, db_col_text(st, 1), sizeof(out->id));
    cf_strlcpy(out->name, db_col_text(st, 2), sizeof(out->name));
    out->created = db_col_int64(st, 3);
    db_stmt_done(st);
    rc = column_list(db,
                     "SELECT u.public_id FROM group_users gu"
                     " JOIN users u ON u.id = gu.user_id"
                     " WHERE gu.group_id = ?1 AND u.state <> 'removed'"
                     " ORDER BY gu.seq",
                     *row, &out->members);
    if (rc == CF_OK) {
        rc = column_list(db,
                         "SELECT g.public_id FROM group_groups gg"
                         " JOIN user_groups g ON g.id = gg.member_id"
                         " WHERE gg.group_id = ?1 ORDER BY gg.seq",
                         *row, &out->groups);
    }
    if (rc != CF_OK) {
        authz_group_release(out);
    }
    return rc;
}

enum cf_rc
authz_groups_each(const struct cf_ctx *ctx, authz_group_fn fn, void *arg)
{
    struct authz_group_info g;
    struct db *db = NULL;
    char *pids = NULL;
    const char *p;
    enum cf_rc rc;
    int64_t row;

    rc = authz_db_take(ctx, &db);
    if (rc != CF_OK) {
        return rc;
    }
    rc = column_list(db,
                     "SELECT public_id FROM user_groups WHERE id > ?1"
                     " ORDER BY name_key",
                     0, &pids);
    for (p = pids; rc == CF_OK && p != NULL && *p != '\0';) {
        char pid[AUTHZ_ID_LEN + 1];
        size_t n = strcspn(p, " ");

        cf_strlcpy(pid, p, n < sizeof(pid) ? n + 1 : sizeof(pid));
        p += n;
        p += *p == ' ';
        rc = group_read(db, pid, &row, &g);
        if (rc == CF_OK) {
            rc = fn(&g, arg);
            authz_group_release(&g);
        }
    }
    cf_free(pids);
    db_pool_put(ctx->pool, db);
    return rc;
}

enum cf_rc
authz_group_get(const struct cf_ctx *ctx, const char *id,
                struct authz_group_info *out)
{
    struct db *db = NULL;
    int64_t row = 0;
    enum cf_rc rc;

    memset(out, 0, sizeof(*out));
    rc = authz_db_take(ctx, &db);
    if (rc == CF_OK) {
        rc = group_read(db, id, &row, out);
        db_pool_put(ctx->pool, db);
    }
    return rc;
}

/* Each id of ids once. */
static bool
ids_unique(const char *const *ids, size_t n)
{
    size_t i;
    size_t j;

    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            if (strcmp(ids[i], ids[j]) == 0) {
                return false;
            }
        }
    }
    return true;
}

struct reach {
    authz_mask perms;
    char space[AUTHZ_ID_LEN + 1]; /* "" tenant-wide */
};

/* Add perms in space to the scopes r[0..*n), one entry per scope. */
static void
reach_add(struct reach *r, size_t *n, authz_mask perms, const char *space)
{
    size_t i;

    space = space != NULL ? space : "";
    for (i = 0; i < *n; i++) {
        if (strcmp(r[i].space, space) == 0) {
            r[i].perms |= perms;
            return;
        }
    }
    if (*n < AUTHZ_GRANTS_MAX) {
        r[*n].perms = perms;
        cf_strlcpy(r[*n].space, space, sizeof(r[*n].space));
        (*n)++;
    }
}

/*
 * No escalation through membership: whoever joins group row (an account,
 * or a group and its members) gains the grants made to row and to every
 * group containing it, so the actor must hold each of those roles where
 * it applies; so too to take them away (as for a grant itself).
 */
static enum cf_rc
group_reach_covered(struct db *db, const struct cf_ctx *ctx, int64_t row,
                    const char **why)
{
    struct reach *r = cf_calloc(AUTHZ_GRANTS_MAX, sizeof(*r));
    struct db_stmt *st = NULL;
    enum cf_rc rc;
    bool more = false;
    size_t n = 0;
    size_t i;

    if (r == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    rc = db_prepare(db,
                    "WITH RECURSIVE outer_of(id) AS ("
                    " SELECT ?1"
                    " UNION"
                    " SELECT gg.group_id FROM group_groups gg JOIN outer_of"
                    " ON gg.member_id = outer_of.id)"
                    " SELECT g.role, r.permissions, g.space FROM grants g"
                    " LEFT JOIN roles r ON r.public_id = g.role"
                    " WHERE g.group_id IN (SELECT id FROM outer_of)",
                    &st);
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 1, row);
    }
    while (rc == CF_OK && (rc = db_step(st, &more)) == CF_OK && more) {
        reach_add(r, &n,
                  authz_grant_mask(db_col_text(st, 0), db_col_text(st, 1)),
                  db_col_text(st, 2));
    }
    db_stmt_done(st);
    for (i = 0; rc == CF_OK && i < n; i++) {
        rc = authz_actor_holds(db, ctx, r[i].space[0] ? r[i].space : NULL,
                               r[i].perms, why, "role_not_allowed");
    }
    cf_free(r);
    return rc;
}

/* Replace the member lists of group row by those of c. */
static enum cf_rc
group_set_lists(struct db *db, const struct cf_ctx *ctx, int64_t row,
                const struct authz_group_change *c, const char **why)
{
    enum cf_rc rc = CF_OK;
    int64_t id = 0;
    size_t i;

    if ((c->members != NULL && !ids_unique(c->members, c->nmembers)) ||
        (c->groups != NULL && !ids_unique(c->groups, c->ngroups))) {
        return authz_refuse(why, "duplicate_member", CF_EINVAL);
    }
    if (c->members != NULL || c->groups != NULL) {
        rc = group_reach_covered(db, ctx, row, why);
    }
    if (rc == CF_OK && c->members != NULL) {
        rc = db_run(db, "DELETE FROM group_users WHERE group_id = ?1", DB_INT,
                    row, DB_END);
    }
    for (i = 0; rc == CF_OK && c->members != NULL && i < c->nmembers; i++) {
        rc = db_int(db, &id,
                    "SELECT id FROM users WHERE public_id = ?1"
                    " AND state <> 'removed'",
                    DB_TEXT, c->members[i], DB_END);
        if (rc == CF_ENOTFOUND) {
            rc = authz_refuse(why, "unknown_user", CF_EINVAL);
        }
        if (rc == CF_OK) {
            rc = db_run(db,
                        "INSERT INTO group_users (group_id, user_id, seq)"
                        " VALUES (?1, ?2, ?3)",
                        DB_INT, row, DB_INT, id, DB_INT, (int64_t)i, DB_END);
        }
    }
    if (rc == CF_OK && c->groups != NULL) {
        rc = db_run(db, "DELETE FROM group_groups WHERE group_id = ?1", DB_INT,
                    row, DB_END);
    }
    for (i = 0; rc == CF_OK && c->groups != NULL && i < c->ngroups; i++) {
        rc = db_int(db, &id, "SELECT id FROM user_groups WHERE public_id = ?1",
                    DB_TEXT, c->groups[i], DB_END);
        if (rc == CF_ENOTFOUND) {
            rc = authz_refuse(why, "unknown_group", CF_EINVAL);
        }
        if (rc == CF_OK) {
            rc = db_run(db,
                        "INSERT INTO group_groups (group_id, member_id, seq)"
                        " VALUES (?1, ?2, ?3)",
                        DB_INT, row, DB_INT, id, DB_INT, (int64_t)i, DB_END);
        }
    }
    /* every group was free of cycles before: a new one goes through row */
    if (rc == CF_OK && c->groups != NULL) {
        rc = db_int(db, &id,
                    "WITH RECURSIVE inner_of(id) AS ("
                    " SELECT member_id FROM group_groups WHERE group_id = ?1"
                    " UNION"
                    " SELECT gg.member_id FROM group_groups gg JOIN inner_of"
                    " ON gg.group_id = inner_of.id)"
                    " SELECT count(*) FROM inner_of WHERE id = ?1",
                    DB_INT, row, DB_END);
        if (rc == CF_OK && id > 0) {
            rc = authz_refuse(why, "cycle", CF_EINVAL);
        }
    }
    return rc;
}

/* Is name free for a group other than self? */
static enum cf_rc
group_name_free(struct db *db, const char *name, int64_t self, const char **why)
{
    char key[4 * AUTHZ_LABEL_MAX + 1];
    int64_t n = 0;
    enum cf_rc rc;

    authz_name_key(name, key, sizeof(key));
    rc = db_int(db, &n,
                "SELECT count(*) FROM user_groups WHERE name_key = ?1"
                " AND id <> ?2",
                DB_TEXT, key, DB_INT, self, DB_END);
    if (rc == CF_OK && n > 0) {
        rc = authz_refuse(why, "name_taken", CF_ECONFLICT);
    }
    return rc;
}

/* {"name","members","groups"} of g into b (the lists as space-separated
 * ids). */
static enum cf_rc
group_state(struct cf_buf *b, const struct authz_group_info *g)
{
    return authz_details(b, "name", g->name, "members", g->members, "groups",
                         g->groups, NULL);
}

/* The audit event of a change: the group as it is now, and on an update
 * as it was (old and new values). */
static enum cf_rc
group_audit(struct db *db, const struct cf_ctx *ctx, const char *action,
            const struct authz_group_info *before,
            const struct authz_group_info *now)
{
    struct cf_buf details;
    enum cf_rc rc = CF_OK;

    cf_buf_init(&details, (size_t)64 * 1024);
    if (before != NULL) {
        rc = cf_buf_adds(&details, "{\"old\":");
        if (rc == CF_OK) {
            rc = group_state(&details, before);
        }
        if (rc == CF_OK) {
            rc = cf_buf_adds(&details, ",\"new\":");
        }
    }
    if (rc == CF_OK) {
        rc = group_state(&details, now);
    }
    if (rc == CF_OK && before != NULL) {
        rc = cf_buf_addch(&details, '}');
    }
    if (rc == CF_OK) {
        rc = authz_audit(db, ctx, action, "group", now->id,
                         cf_buf_str(&details));
    }
    cf_buf_release(&details);
    return rc;
}

enum cf_rc
authz_group_create(const struct cf_ctx *ctx, const struct authz_group_change *c,
                   struct authz_group_info *out, const char **why)
{
    char id[AUTHZ_ID_LEN + 1];
    char key[sizeof(out->name)];
    struct db *db = NULL;
    bool had = false;
    int64_t n = 0;
    int64_t row = 0;
    enum cf_rc rc;

    *why = NULL;
    memset(out, 0, sizeof(*out));
    if (!authz_name_ok(c->name, sizeof(out->name))) {
        return authz_refuse(why, "invalid_name", CF_EINVAL);
    }
    authz_name_key(c->name, key, sizeof(key));
    rc = authz_tx_open(ctx, &db, &had);
    if (rc == CF_OK) {
        rc = group_name_free(db, c->name, 0, why);
    }
    if (rc == CF_OK) {
        rc = db_int(db, &n, "SELECT count(*) FROM user_groups", DB_END);
    }
    if (rc == CF_OK && n >= AUTHZ_GROUPS_MAX) {
        rc = authz_refuse(why, "too_many", CF_ECONFLICT);
    }
    if (rc == CF_OK) {
        rc = cf_id_hex(id, AUTHZ_ID_LEN / 2);
    }
    if (rc == CF_OK) {
        rc = db_run(db,
                    "INSERT INTO user_groups (public_id, name, name_key,"
                    " created) VALUES (?1, ?2, ?3, ?4)",
                    DB_TEXT, id, DB_TEXT, c->name, DB_TEXT, key, DB_INT,
                    cf_time_unix(), DB_END);
    }
    if (rc == CF_OK) {
        row = db_last_insert_id(db);
        rc = group_set_lists(db, ctx, row, c, why);
    }
    if (rc == CF_OK) {
        rc = group_read(db, id, &row, out);
    }
    if (rc == CF_OK) {
        rc = group_audit(db, ctx, "group.create", NULL, out);
    }
    if (rc != CF_OK) {
        authz_group_release(out);
    }
    return authz_tx_close(ctx, db, had, rc, why);
}

enum cf_rc
authz_group_update(const struct cf_ctx *ctx, const char *id,
                   const struct authz_group_change *c,
                   struct authz_group_info *out, const char **why)
{
    char key[sizeof(out->name)];
    struct authz_group_info before = {0};
    struct db *db = NULL;
    bool had = false;
    int64_t row = 0;
    enum cf_rc rc;

    *why = NULL;
    memset(out, 0, sizeof(*out));
    if (c->name != NULL && !authz_name_ok(c->name, sizeof(out->name))) {
        return authz_refuse(why, "invalid_name", CF_EINVAL);
    }
    rc = authz_tx_open(ctx, &db, &had);
    if (rc == CF_OK) {
        rc = group_read(db, id, &row, &before);
    }
    if (rc == CF_OK && c->name != NULL) {
        rc = group_name_free(db, c->name, row, why);
        if (rc == CF_OK) {
            authz_name_key(c->name, key, sizeof(key));
            rc = db_run(db,
                        "UPDATE user_groups SET name = ?2, name_key = ?3"
                        " WHERE id = ?1",
                        DB_INT, row, DB_TEXT, c->name, DB_TEXT, key, DB_END);
        }
    }
    if (rc == CF_OK) {
        rc = group_set_lists(db, ctx, row, c, why);
    }
    if (rc == CF_OK) {
        rc = group_read(db, id, &row, out);
    }
    if (rc == CF_OK) {
        rc = group_audit(db, ctx, "group.update", &before, out);
    }
    if (rc != CF_OK) {
        authz_group_release(out);
    }
    authz_group_release(&before);
    return authz_tx_close(ctx, db, had, rc, why);
}

enum cf_rc
authz_group_delete(const struct cf_ctx *ctx, const char *id, const char **why)
{
    struct authz_group_info g;
    struct db *db = NULL;
    bool had = false;
    int64_t row = 0;
    enum cf_rc rc;

    *why = NULL;
    rc = authz_tx_open(ctx, &db, &had);
    if (rc == CF_OK) {
        rc = group_read(db, id, &row, &g);
        authz_group_release(&g);
    }
    if (rc == CF_OK) {
        rc = group_reach_covered(db, ctx, row, why);
    }
    if (rc == CF_OK) {
        rc = db_run(db, "DELETE FROM group_users WHERE group_id = ?1", DB_INT,
                    row, DB_END);
    }
    if (rc == CF_OK) {
        rc = db_run(db,
                    "DELETE FROM group_groups WHERE group_id = ?1"
                    " OR member_id = ?1",
                    DB_INT, row, DB_END);
    }
    if (rc == CF_OK) {
        rc = db_run(db, "DELETE FROM grants WHERE group_id = ?1", DB_INT, row,
                    DB_END);
    }
    if (rc == CF_OK) {
        rc = db_run(db, "DELETE FROM user_groups WHERE id = ?1", DB_INT, row,
                    DB_END);
    }
    if (rc == CF_OK) {
        rc = authz_audit(db, ctx, "group.delete", "group", id, NULL);
    }
    return authz_tx_close(ctx, db, had, rc, why);
}

enum cf_rc
authz_user_groups(const struct cf_ctx *ctx, int64_t user_id, bool nested,
                  char *out, size_t cap)
{
    struct db *db = NULL;
    char *list = NULL;
    enum cf_rc rc;

    out[0] = '\0';
    rc = authz_db_take(ctx, &db);
    if (rc != CF_OK) {
        return rc;
    }
    rc = column_list(db,
                     nested ? "WITH RECURSIVE mine(id) AS ("
                              " SELECT group_id FROM group_users"
                              " WHERE user_id = ?1"
                              " UNION"
                              " SELECT gg.group_id FROM group_groups gg"
                              " JOIN mine ON gg.member_id = mine.id)"
                              " SELECT public_id FROM user_groups"
                              " WHERE id IN (SELECT id FROM mine)"
                              " ORDER BY name_key"
                            : "SELECT g.public_id FROM group_users gu"
                              " JOIN user_groups g ON g.id = gu.group_id"
                              " WHERE gu.user_id = ?1 ORDER BY g.name_key",
                     user_id, &list);
    db_pool_put(ctx->pool, db);
    if (rc == CF_OK && strlen(list) >= cap) {
        rc = CF_ERR(CF_ETOOBIG);
    }
    if (rc == CF_OK) {
        memcpy(out, list, strlen(list) + 1);
    }
    cf_free(list);
    return rc;
}
