/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Schema migrations. PRAGMA user_version holds the number of the last
 * migration applied; each later migration of the database's kind runs in
 * its own BEGIN IMMEDIATE transaction together with the new user_version,
 * so a crash leaves the database at a whole version. The version is read
 * again inside the transaction: `coffre serve` and a CLI command may open
 * the same file at once, and only one of them applies a step.
 *
 * A database newer than this binary is refused (CF_ECONFLICT) rather than
 * used with a schema we do not know. PRAGMA application_id marks the kind,
 * so a tenant.db opened as control.db (or the reverse) is refused too.
 */
#include "core/compat.h"

#include "db/db_int.h"

/* "cfC1" and "cfT1": kind markers in the SQLite file header. */
#define DB_APP_ID_CONTROL 0x63664331
#define DB_APP_ID_TENANT 0x63665431

static const struct db_migration *
schema_of(enum db_kind kind, size_t *len)
{
    switch (kind) {
    case DB_KIND_CONTROL:
        *len = db_schema_control_len;
        return db_schema_control;
    case DB_KIND_TENANT:
        *len = db_schema_tenant_len;
        return db_schema_tenant;
    }
    *len = 0;
    return NULL;
}

static int64_t
app_id_of(enum db_kind kind)
{
    return kind == DB_KIND_CONTROL ? DB_APP_ID_CONTROL : DB_APP_ID_TENANT;
}

int
db_schema_latest(enum db_kind kind)
{
    size_t n = 0;
    const struct db_migration *m = schema_of(kind, &n);

    return m != NULL && n > 0 ? m[n - 1].version : 0;
}

/* Apply migration m if the database is exactly one version behind it. */
static enum cf_rc
migrate_one(struct db *db, enum db_kind kind, const struct db_migration *m)
{
    enum cf_rc rc = CF_EINTERNAL;
    int64_t version = -1;
    char sql[64];
    char num[24];

    rc = db_begin(db);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_query_int64(db, "PRAGMA user_version", &version);
    if (rc != CF_OK) {
        goto out;
    }
    if (version >= m->version) {
        /* another process applied it between our read and our lock */
        rc = db_commit(db);
        goto out;
    }
    if (version != m->version - 1) {
        rc = CF_ERR(CF_EINTERNAL);
        goto out;
    }
    if (m->version == 1) {
        /* constant numbers, not input: no bound parameter is possible in
         * a PRAGMA, and none is needed (invariant 4 is about input) */
        snprintf(sql, sizeof(sql), "PRAGMA application_id = %ld",
                 (long)app_id_of(kind));
        rc = db_exec(db, sql);
        if (rc != CF_OK) {
            goto out;
        }
    }
    rc = db_exec(db, m->sql);
    if (rc != CF_OK) {
        goto out;
    }
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", m->version);
    rc = db_exec(db, sql);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_commit(db);
    if (rc != CF_OK) {
        goto out;
    }
    snprintf(num, sizeof(num), "%d", m->version);
    cf_log_info("database migrated", "db", db->path, "version", num);
    rc = CF_OK;
out:
    if (rc != CF_OK) {
        db_rollback(db);
    }
    return rc;
}

enum cf_rc
db_migrate(struct db *db, enum db_kind kind)
{
    enum cf_rc rc = CF_EINTERNAL;
    const struct db_migration *m;
    size_t n = 0;
    size_t i;
    int64_t version = -1;
    int64_t app_id = 0;
    int latest = db_schema_latest(kind);
    char have[24];
    char know[24];

    m = schema_of(kind, &n);
    if (CF_NEVER(m == NULL)) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (CF_NEVER(m[i].version != (int)i + 1)) {
            rc = CF_ERR(CF_EINTERNAL);
            goto out;
        }
    }
    rc = db_query_int64(db, "PRAGMA user_version", &version);
    if (rc != CF_OK) {
        goto out;
    }
    if (version > latest) {
        snprintf(have, sizeof(have), "%ld", (long)version);
        snprintf(know, sizeof(know), "%d", latest);
        cf_log_error("database schema newer than this binary", "db", db->path,
                     "version", have, "latest", know);
        rc = CF_ERR(CF_ECONFLICT);
        goto out;
    }
    if (version > 0) {
        rc = db_query_int64(db, "PRAGMA application_id", &app_id);
        if (rc != CF_OK) {
            goto out;
        }
        if (app_id != app_id_of(kind)) {
            cf_log_error("database is of another kind", "db", db->path);
            rc = CF_ERR(CF_ECONFLICT);
            goto out;
        }
    }
    for (i = 0; i < n; i++) {
        if (m[i].version <= version) {
            continue;
        }
        rc = migrate_one(db, kind, &m[i]);
        if (rc != CF_OK) {
            goto out;
        }
    }
    rc = CF_OK;
out:
    return rc;
}
