/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The decision (COMMITMENT B1, B3): what a principal holds in a scope is
 * its own built-in role, plus the roles of the grants made to it or to a
 * group it is in, directly or through nested groups, tenant-wide or on
 * the space asked for; narrowed to a token's permissions. Deny by
 * default, and on any failure.
 */
#include "core/compat.h"

#include "authz/authz_int.h"

const char authz_anywhere[] = "*";

authz_mask
authz_perm_bit(const char *perm)
{
    size_t i;

    for (i = 0; perm != NULL && i < authz_perms_count; i++) {
        if (strcmp(authz_perms[i].name, perm) == 0) {
            return (authz_mask)1 << i;
        }
    }
    return 0;
}

authz_mask
authz_role_mask(const char *role)
{
    const struct authz_role *r = authz_role_find(role);
    authz_mask m = 0;
    size_t i;

    for (i = 0; r != NULL && r->permissions[i] != NULL; i++) {
        m |= authz_perm_bit(r->permissions[i]);
    }
    return m;
}

authz_mask
authz_list_mask(const char *list)
{
    char name[AUTHZ_NAME_MAX + 1];
    authz_mask m = 0;
    const char *p = list != NULL ? list : "";

    while (*p != '\0') {
        size_t n = strcspn(p, " ");

        if (n > 0 && n <= AUTHZ_NAME_MAX) {
            memcpy(name, p, n);
            name[n] = '\0';
            m |= authz_perm_bit(name);
        }
        p += n;
        p += *p == ' ';
    }
    return m;
}

void
authz_mask_list(authz_mask mask, char *out, size_t cap)
{
    size_t n = 0;
    size_t i;

    if (cap == 0) {
        return;
    }
    out[0] = '\0';
    /* on every signed-in page (GET /api/v1/me, each space of a list):
     * copied, not formatted */
    for (i = 0; i < authz_perms_count; i++) {
        if (mask & ((authz_mask)1 << i)) {
            size_t len = strlen(authz_perms[i].name);
            size_t sep = n > 0 ? 1 : 0;

            if (sep + len >= cap - n) {
                return; /* cut: callers size for the whole catalogue */
            }
            if (sep) {
                out[n] = ' ';
            }
            memcpy(out + n + sep, authz_perms[i].name, len);
            n += sep + len;
            out[n] = '\0';
        }
    }
}

authz_mask
authz_grant_mask(const char *role, const char *custom_list)
{
    authz_mask m = authz_role_mask(role);

    return m != 0 ? m : authz_list_mask(custom_list);
}

/*
 * The grants reaching user_id: theirs and their groups', nested groups
 * included (UNION ends the walk even if a cycle slipped in); each half
 * reads its own index of grants. Columns: role, the custom role's
 * permissions, space.
 */
#define SQL_GRANTS_OF                                                          \
    "WITH RECURSIVE mine(id) AS ("                                             \
    " SELECT group_id FROM group_users WHERE user_id = ?1"                     \
    " UNION"                                                                   \
    " SELECT gg.group_id FROM group_groups gg JOIN mine"                       \
    " ON gg.member_id = mine.id)"                                              \
    " SELECT g.role, r.permissions, g.space FROM grants g"                     \
    " LEFT JOIN roles r ON r.public_id = g.role WHERE g.user_id = ?1"          \
    " UNION ALL"                                                               \
    " SELECT g.role, r.permissions, g.space FROM mine"                         \
    " JOIN grants g ON g.group_id = mine.id"                                   \
    " LEFT JOIN roles r ON r.public_id = g.role"

/*
 * The grants reaching the last accounts asked about, kept on a tenant's
 * handle for one data version of its database (db_data_version): a grant
 * given or removed, a group joined or left, a role changed, anything
 * committed to the database by this process or another, moves the
 * version and empties the cache, so the decision of the very next
 * request reads the tables again (COMMITMENT B1). Only the rows are
 * kept; each decision is made again from them. An account reached by
 * more than GRANTS_MEMO_ROWS grants is read each time.
 */
#define GRANTS_MEMO_USERS 32
#define GRANTS_MEMO_ROWS 16

struct grant_row {
    authz_mask perms;
    bool tenant_wide;
    char space[AUTHZ_ID_LEN + 1];
};

struct grants_memo {
    unsigned long stamp;
    struct {
        int64_t user_id;
        unsigned long stamp; /* 0: free */
        size_t n;
        struct grant_row row[GRANTS_MEMO_ROWS];
    } e[GRANTS_MEMO_USERS];
};

static const char grants_memo_key;

/* db's cache at its current data version, emptied if the version moved;
 * NULL when none can be used (inside a transaction, out of memory). */
static struct grants_memo *
grants_memo_at(struct db *db)
{
    return db_memo_at(db, &grants_memo_key, sizeof(struct grants_memo));
}

static void
grants_memo_put(struct grants_memo *m, int64_t user_id,
                const struct grant_row *rows, size_t n)
{
    size_t victim = 0;
    size_t i;

    for (i = 0; i < GRANTS_MEMO_USERS; i++) {
        if (m->e[i].stamp < m->e[victim].stamp) {
            victim = i;
        }
    }
    m->e[victim].user_id = user_id;
    m->e[victim].n = n;
    memcpy(m->e[victim].row, rows, n * sizeof(*rows));
    m->e[victim].stamp = ++m->stamp;
}

static enum cf_rc
grants_walk_sql(struct db *db, int64_t user_id, authz_grant_row_fn fn,
                void *arg, struct grant_row *rows, size_t *n)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;
    bool row = false;

    *n = 0;
    rc = db_prepare(db, SQL_GRANTS_OF, &st);
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 1, user_id);
    }
    while (rc == CF_OK && (rc = db_step(st, &row)) == CF_OK && row) {
        authz_mask perms =
            authz_grant_mask(db_col_text(st, 0), db_col_text(st, 1));
        const char *space = db_col_text(st, 2);

        if (*n <= GRANTS_MEMO_ROWS) {
            if (*n < GRANTS_MEMO_ROWS &&
                (space == NULL || strlen(space) <= AUTHZ_ID_LEN)) {
                rows[*n].perms = perms;
                rows[*n].tenant_wide = space == NULL;
                cf_strlcpy(rows[*n].space, space, sizeof(rows[*n].space));
                ++*n;
            } else {
                *n = GRANTS_MEMO_ROWS + 1; /* not kept */
            }
        }
        rc = fn(perms, space, arg);
    }
    db_stmt_done(st);
    return rc;
}

enum cf_rc
authz_grants_walk(struct db *db, int64_t user_id, authz_grant_row_fn fn,
                  void *arg)
{
    struct grants_memo *m = grants_memo_at(db);
    struct grant_row rows[GRANTS_MEMO_ROWS];
    enum cf_rc rc = CF_OK;
    size_t n = 0;
    size_t i;
    size_t j;

    for (i = 0; m != NULL && i < GRANTS_MEMO_USERS; i++) {
        if (m->e[i].stamp != 0 && m->e[i].user_id == user_id) {
            m->e[i].stamp = ++m->stamp;
            for (j = 0; rc == CF_OK && j < m->e[i].n; j++) {
                const struct grant_row *g = &m->e[i].row[j];

                rc = fn(g->perms, g->tenant_wide ? NULL : g->space, arg);
            }
            return rc;
        }
    }
    rc = grants_walk_sql(db, user_id, fn, arg, rows, &n);
    if (rc == CF_OK && m != NULL && n <= GRANTS_MEMO_ROWS) {
        grants_memo_put(m, user_id, rows, n);
    }
    return rc;
}

struct scope_walk {
    const char *scope;
    authz_mask mask;
};

static enum cf_rc
scope_add(authz_mask perms, const char *space, void *arg)
{
    struct scope_walk *w = arg;

    if (space == NULL || w->scope == AUTHZ_ANY ||
        (w->scope != NULL && strcmp(space, w->scope) == 0)) {
        w->mask |= perms;
    }
    return CF_OK;
}

enum cf_rc
authz_mask_in(struct db *db, const struct cf_ctx *ctx, const char *scope,
              authz_mask *out)
{
    struct scope_walk w = {scope, authz_role_mask(ctx->role)};
    enum cf_rc rc = CF_OK;

    *out = 0;
    if (ctx->user_id > 0) {
        rc = authz_grants_walk(db, ctx->user_id, scope_add, &w);
    }
    if (rc != CF_OK) {
        return rc;
    }
    if (ctx->token_perms != NULL) {
        w.mask &= authz_list_mask(ctx->token_perms);
    }
    *out = w.mask;
    return CF_OK;
}

enum cf_rc
authz_mask_of(const struct cf_ctx *ctx, const char *scope, authz_mask *out)
{
    struct db *db = NULL;
    enum cf_rc rc;

    *out = 0;
    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc != CF_OK) {
        return rc;
    }
    rc = authz_mask_in(db, ctx, scope, out);
    db_pool_put(ctx->pool, db);
    return rc;
}

enum cf_rc
authz_check(const struct cf_ctx *ctx, const char *perm, const char *scope)
{
    authz_mask bit = authz_perm_bit(perm);
    authz_mask own = authz_role_mask(ctx->role);
    authz_mask held = 0;
    enum cf_rc rc;

    if (bit == 0) {
        return CF_EPERM;
    }
    if (ctx->token_perms != NULL) {
        own &= authz_list_mask(ctx->token_perms);
    }
    if (own & bit) {
        return CF_OK; /* the account's own role: no query */
    }
    rc = authz_mask_of(ctx, scope, &held);
    if (rc != CF_OK) {
        return rc;
    }
    return (held & bit) ? CF_OK : CF_EPERM;
}

/* ---- effective permissions of an account (the administrators' preview) */

#define SPACES_SEEN_MAX 1000 /* the most spaces a tenant has */

struct effective_walk {
    authz_mask tenant;
    struct {
        char id[AUTHZ_ID_LEN + 1];
        authz_mask mask;
    } space[SPACES_SEEN_MAX];
    size_t n;
};

static enum cf_rc
effective_add(authz_mask perms, const char *space, void *arg)
{
    struct effective_walk *w = arg;
    size_t i;

    if (space == NULL) {
        w->tenant |= perms;
        return CF_OK;
    }
    for (i = 0; i < w->n; i++) {
        if (strcmp(w->space[i].id, space) == 0) {
            w->space[i].mask |= perms;
            return CF_OK;
        }
    }
    if (w->n < SPACES_SEEN_MAX) {
        cf_strlcpy(w->space[w->n].id, space, sizeof(w->space[w->n].id));
        w->space[w->n].mask = perms;
        w->n++;
    }
    return CF_OK;
}

/* What the account user_id of built-in role holds: tenant-wide in
 * (*out)->tenant, per space in (*out)->space; cf_free() *out. Not zeroed:
 * 48 KiB, of which a request uses a few entries. */
static enum cf_rc
effective_read(struct db *db, int64_t user_id, const char *role,
               struct effective_walk **out)
{
    struct effective_walk *w = cf_malloc(sizeof(*w));
    enum cf_rc rc;

    *out = NULL;
    if (w == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    w->n = 0;
    w->tenant = authz_role_mask(role);
    rc = authz_grants_walk(db, user_id, effective_add, w);
    if (rc != CF_OK) {
        cf_free(w);
        return rc;
    }
    *out = w;
    return CF_OK;
}

enum cf_rc
authz_effective(const struct cf_ctx *ctx, int64_t user_id, const char *role,
                authz_mask *tenant, authz_space_fn fn, void *arg)
{
    struct effective_walk *w = NULL;
    struct db *db = NULL;
    enum cf_rc rc;
    size_t i;

    *tenant = 0;
    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc == CF_OK) {
        rc = effective_read(db, user_id, role, &w);
        db_pool_put(ctx->pool, db);
    }
    if (rc == CF_OK) {
        *tenant = w->tenant;
    }
    for (i = 0; rc == CF_OK && i < w->n; i++) {
        if ((w->space[i].mask | w->tenant) != w->tenant) {
            rc = fn(w->space[i].id, w->space[i].mask | w->tenant, arg);
        }
    }
    cf_free(w);
    return rc;
}

/* ---- acting on an account (COMMITMENT B1) ------------------------------ */

enum cf_rc
authz_account_covered(struct db *db, const struct cf_ctx *actor, int64_t target,
                      const char *target_role)
{
    struct effective_walk *w = NULL;
    struct cf_ctx self = *actor;
    authz_mask held = 0;
    enum cf_rc rc;
    size_t i;

    /* acting on an account is judged on what the actor's account holds,
     * whatever its token carries (the token gates the route itself) */
    self.token_perms = NULL;
    rc = effective_read(db, target, target_role, &w);
    if (rc == CF_OK) {
        rc = authz_mask_in(db, &self, AUTHZ_TENANT, &held);
    }
    if (rc == CF_OK && (w->tenant & ~held) != 0) {
        rc = CF_EPERM;
    }
    for (i = 0; rc == CF_OK && w != NULL && i < w->n; i++) {
        authz_mask there = 0;

        if ((w->space[i].mask & ~held) == 0) {
            continue; /* held tenant-wide: no query */
        }
        rc = authz_mask_in(db, &self, w->space[i].id, &there);
        if (rc == CF_OK && (w->space[i].mask & ~(held | there)) != 0) {
            rc = CF_EPERM;
        }
    }
    cf_free(w);
    return rc;
}

/* Does the account user_id with built-in role hold every permission of
 * the owner role tenant-wide, through its role or its grants? */
static enum cf_rc
holds_owner(struct db *db, int64_t user_id, const char *role, bool *out)
{
    struct scope_walk w = {AUTHZ_TENANT, authz_role_mask(role)};
    authz_mask owner = authz_role_mask(authz_roles[AUTHZ_ROLE_OWNER].name);
    enum cf_rc rc = CF_OK;

    if ((w.mask & owner) != owner) {
        rc = authz_grants_walk(db, user_id, scope_add, &w);
    }
    *out = rc == CF_OK && (w.mask & owner) == owner;
    return rc;
}

enum cf_rc
authz_owner_exists(struct db *db, bool *out)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;
    bool row = false;
    bool found = false;

    *out = false;
    /* owners by role first: most often the first row answers */
    rc = db_prepare(db,
                    "SELECT id, role FROM users WHERE state = 'active' AND "
                    "password_hash IS NOT NULL ORDER BY role <> ?1, id",
                    &st);
    if (rc == CF_OK) {
        rc = db_bind_text(st, 1, authz_roles[AUTHZ_ROLE_OWNER].name);
    }
    while (rc == CF_OK && !found && (rc = db_step(st, &row)) == CF_OK && row) {
        rc = holds_owner(db, db_col_int64(st, 0), db_col_text(st, 1), &found);
    }
    db_stmt_done(st);
    if (rc == CF_OK) {
        *out = found;
    }
    return rc;
}
