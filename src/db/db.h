/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * db: SQLite handles, numbered migrations, the control database and the
 * bounded pool of open tenant databases. Domain modules write their SQL in
 * their own store.c through these helpers; SQL text is always a constant
 * and every value is a bound parameter (invariant 4).
 *
 * Every database is opened with WAL, foreign_keys=ON, secure_delete=ON and
 * a busy timeout. A struct db is used by one thread at a time: the control
 * database is guarded by db_lock()/db_unlock(); a tenant database borrowed
 * from the pool belongs to the borrower until db_pool_put().
 *
 * Layout under the data directory:
 *   control.db                 tenants, wrapped keys, settings, platform audit
 *   tenants/<id>/tenant.db     one database per tenant
 */
#ifndef DB_DB_H
#define DB_DB_H

#include "core/core.h"

struct db;
struct db_stmt;
struct db_pool;

enum db_kind { DB_KIND_CONTROL, DB_KIND_TENANT };

/*
 * Open (creating if needed) the database at path and bring its schema to
 * the latest migration of kind, each migration in its own transaction.
 * A database newer than this binary: CF_ECONFLICT. *out caller-frees with
 * db_close().
 */
CF_MUST_CHECK enum cf_rc db_open(const char *path, enum db_kind kind,
                                 unsigned busy_timeout_ms, struct db **out);
void db_close(struct db *db);
/* Schema version (PRAGMA user_version) of db. */
int db_schema_version(struct db *db);
/* The latest migration number known for kind. */
int db_schema_latest(enum db_kind kind);

/* Serialise use of a shared handle (the control database). */
void db_lock(struct db *db);
void db_unlock(struct db *db);

/* Run constant SQL with no parameters and no result rows. */
CF_MUST_CHECK enum cf_rc db_exec(struct db *db, const char *sql);
/* Run constant sql that yields one row whose first column is an integer
 * (a count, a PRAGMA); no row: CF_EDB. */
CF_MUST_CHECK enum cf_rc db_query_int64(struct db *db, const char *sql,
                                        int64_t *out);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. db_rollback() never fails. */
CF_MUST_CHECK enum cf_rc db_begin(struct db *db);
CF_MUST_CHECK enum cf_rc db_commit(struct db *db);
void db_rollback(struct db *db);
/* Added: a failed db_commit() has already rolled back, and db_rollback()
 * with no transaction open is a no-op, so `out:` may always call it.
 * db_in_transaction() is true while a transaction is open on db (SQLite:
 * not in autocommit mode); audit_append() refuses to run outside one. */
bool db_in_transaction(struct db *db);

/* Prepare constant sql (statements are cached per handle; finalize with
 * db_stmt_done(), which resets and hands it back). */
CF_MUST_CHECK enum cf_rc db_prepare(struct db *db, const char *sql,
                                    struct db_stmt **out);
void db_stmt_done(struct db_stmt *st);
/* Bind by 1-based index. Text and blobs are copied by SQLite. */
CF_MUST_CHECK enum cf_rc db_bind_int64(struct db_stmt *st, int idx, int64_t v);
CF_MUST_CHECK enum cf_rc db_bind_text(struct db_stmt *st, int idx,
                                      const char *s);
CF_MUST_CHECK enum cf_rc db_bind_blob(struct db_stmt *st, int idx,
                                      const void *p, size_t n);
CF_MUST_CHECK enum cf_rc db_bind_null(struct db_stmt *st, int idx);
/* Step: *row is true when a row is available, false when done. A
 * constraint violation is CF_ECONFLICT; busy is CF_EBUSY. */
CF_MUST_CHECK enum cf_rc db_step(struct db_stmt *st, bool *row);
/* Column accessors (0-based) for the current row; pointers are borrowed
 * until the next step or db_stmt_done(). NULL text reads as NULL. */
int64_t db_col_int64(struct db_stmt *st, int col);
const char *db_col_text(struct db_stmt *st, int col);
const void *db_col_blob(struct db_stmt *st, int col, size_t *len);
int64_t db_last_insert_id(struct db *db);
/*
 * One-call queries (db/query.c). The variadic arguments bind parameters
 * 1, 2, ... in order, each a DB_* tag and its value, ended by DB_END:
 * DB_INT, int64_t; DB_TEXT, const char * (NULL binds NULL); DB_BLOB,
 * const void *, size_t.
 */
enum db_arg { DB_END = 0, DB_INT, DB_TEXT, DB_BLOB };
/* Run sql, expecting no result row. */
CF_MUST_CHECK enum cf_rc db_run(struct db *db, const char *sql, ...);
/* Run sql and step once: *st is left on the first row for the caller to
 * read and release with db_stmt_done(); CF_ENOTFOUND when there is none
 * (*st is then NULL). */
CF_MUST_CHECK enum cf_rc db_row(struct db *db, struct db_stmt **st,
                                const char *sql, ...);
CF_MUST_CHECK enum cf_rc db_row_v(struct db *db, struct db_stmt **st,
                                  const char *sql, va_list ap);
/* The whole number in the first column of sql's first row. */
CF_MUST_CHECK enum cf_rc db_int(struct db *db, int64_t *out, const char *sql,
                                ...);

int db_changes(struct db *db);

/*
 * The data version of db: a number that changes whenever anything is
 * committed to the database file, through this handle or by any other
 * connection or process. What was read at one version is still exactly
 * what the file holds while the version stays the same, so a cache filled
 * at version v may answer for as long as db_data_version() says v, and no
 * longer: a revoked session, a disabled account or a removed grant
 * changes the version, and the next lookup reads the tables again.
 * Inside a transaction the result would not see the transaction's own
 * uncommitted changes: CF_EBUSY, and the caller reads the tables.
 * Each call looks at the WAL-index header in SQLite's mapping (no system
 * call) and runs the read transaction (`PRAGMA data_version`) only when
 * the header moved since the last one. Without a mapping to look at, a
 * handle borrowed from the pool reads it once per borrow and again after
 * a change made through the handle; other handles on every call.
 */
CF_MUST_CHECK enum cf_rc db_data_version(struct db *db, uint64_t *out);

/*
 * Per-handle caches of domain modules. A handle is used by one thread at
 * a time (module comment), so a cache kept on it needs no lock. key is
 * the address of a static object of the module that owns the cache.
 * db_memo_at() gives the cache of key, a block of size bytes that holds
 * what was read at db's current data version: zeroed when it is first
 * made and whenever the version has moved since, wiped when the handle
 * closes. NULL when no cache can be used (inside a transaction, out of
 * memory, every entry taken): the caller reads the tables.
 */
void *db_memo_at(struct db *db, const void *key, size_t size);

/* Checkpoint the WAL with TRUNCATE (after deleting sensitive rows). */
CF_MUST_CHECK enum cf_rc db_checkpoint_truncate(struct db *db);

/* ---- tenant database pool ------------------------------------------- */

enum db_pool_flags {
    DB_POOL_CREATE = 1u << 0, /* create tenants/<id>/ and the database */
};

/* The most handles one tenant may hold at once (db.handles_per_tenant). */
#define DB_POOL_MAX_PER_TENANT 16u
/*
 * A pool of at most capacity open tenant database handles under
 * tenants_dir, at most per_tenant (1 to DB_POOL_MAX_PER_TENANT) of them
 * for one tenant, evicting the least recently used idle one when full.
 * per_tenant 1: threads serving the same tenant take turns on one handle.
 */
CF_MUST_CHECK enum cf_rc db_pool_new(const char *tenants_dir, unsigned capacity,
                                     unsigned per_tenant,
                                     unsigned busy_timeout_ms,
                                     struct db_pool **out);
void db_pool_free(struct db_pool *pool);
/*
 * Borrow a handle on tenant_id's database for the calling thread: an idle
 * handle of the tenant if there is one, else a new one opened while the
 * tenant holds fewer than per_tenant (each handle has its own statement
 * cache and db_memo_at() caches). Without DB_POOL_CREATE a missing
 * database is CF_ENOTFOUND. Blocks while every handle the tenant may have
 * is held by other threads (or one of them is being opened); CF_EBUSY when
 * every slot of the pool is borrowed and the tenant has none.
 * Give it back with db_pool_put().
 * Added: tenant_id <= 0 is CF_EINVAL. The wait lasts at most
 * busy_timeout_ms, then CF_EBUSY (so a stuck holder, or a thread asking
 * twice with per_tenant 1, cannot hang requests). A thread must not hold
 * two handles of one tenant: a write on the second would wait for the
 * first's transaction (SQLite's busy timeout). A database put back inside
 * an open transaction is rolled back.
 */
CF_MUST_CHECK enum cf_rc db_pool_get(struct db_pool *pool, int64_t tenant_id,
                                     unsigned flags, struct db **out);
void db_pool_put(struct db_pool *pool, struct db *db);
/*
 * One borrow for a whole piece of work, such as a request. After
 * db_pool_hold(pool, tenant_id), the first db_pool_get() of that tenant by
 * the calling thread borrows a handle as usual and keeps it: the next gets
 * of the thread return the same handle at once (no mutex, no wait, and the
 * data version read once), its puts keep it (rolling back a transaction
 * left open, as any put), and db_pool_unhold(pool) gives it back. Nothing
 * is borrowed if the work never asks. A hold belongs to the thread and
 * must end in the call that began it (between two calls a thread serves
 * other work); one hold at a time. Gets of other tenants are not affected.
 */
void db_pool_hold(struct db_pool *pool, int64_t tenant_id);
void db_pool_unhold(struct db_pool *pool);
/* A tenant database of the pool with a transaction open on it; end it with
 * db_pool_end(), which commits when rc is CF_OK (else rolls back), puts
 * the handle back and returns rc or the commit's failure. */
CF_MUST_CHECK enum cf_rc db_pool_begin(struct db_pool *pool, int64_t tenant_id,
                                       struct db **out);
CF_MUST_CHECK enum cf_rc db_pool_end(struct db_pool *pool, struct db *db,
                                     enum cf_rc rc);
/*
 * Close every handle of tenant_id's database if all are idle, and remove
 * its files and folder (tenants/<id>/). Used to undo a tenant creation that
 * did not commit. Any handle borrowed by someone: CF_EBUSY, nothing
 * closed, nothing removed.
 * Added: it is not a recursive delete; other files in the folder give
 * CF_ECONFLICT (database files removed, folder kept). A missing folder is
 * CF_OK. tenant_id <= 0 is CF_EINVAL.
 */
CF_MUST_CHECK enum cf_rc db_pool_forget(struct db_pool *pool,
                                        int64_t tenant_id);
/* Open handles right now, of all tenants (for metrics and tests). */
unsigned db_pool_open_count(struct db_pool *pool);
/*
 * fn runs on every tenant database handle the pool opens, after its
 * migrations and before anyone borrows it (the keyed migrations of
 * tenant/); a failure fails the open. Never twice at once for one tenant
 * (a handle waits for another of its tenant being opened), but once per
 * handle: it must be a no-op when the work is done. Set once, before the
 * pool is shared.
 */
typedef enum cf_rc (*db_pool_open_fn)(struct db *db, int64_t tenant_id,
                                      void *arg);
void db_pool_on_open(struct db_pool *pool, db_pool_open_fn fn, void *arg);

/* ---- sealed columns (sealed.c) ------------------------------------------
 * The one registry of the columns holding values sealed with a tenant
 * key (invariant 3), and the associated data that binds a value to its
 * table, column and row: "users.email#12". */
enum db_sealed_col {
    DB_SEALED_USER_EMAIL = 0,
    DB_SEALED_USER_TOTP,         /* users.totp_sealed */
    DB_SEALED_USER_TOTP_PENDING, /* users.totp_pending: same place */
    DB_SEALED_TOKEN_NAME,        /* api_tokens.name_sealed, by token id */
    /* client addresses and user agents (personal data) */
    DB_SEALED_SESSION_IP,     /* sessions.client_ip */
    DB_SEALED_SESSION_UA,     /* sessions.user_agent */
    DB_SEALED_SESSION_DEVICE, /* sessions.device: "Firefox on Linux" */
    DB_SEALED_LOG_IP,         /* access_log.client_ip */
    DB_SEALED_LOG_UA,         /* access_log.user_agent */
    DB_SEALED_LOG_DEVICE,     /* access_log.device; equality: device_mac */
    DB_SEALED_COUNT
};
struct db_sealed {
    const char *table;
    const char *column;     /* the name in the associated data */
    const char *legacy_ad;  /* before values were bound to their row;
                               NULL: the column held clear text */
    const char *select_sql; /* row id, sealed value: for the reseal */
    const char *update_sql; /* ?1 the value, ?2 the row id */
    /* a keyed hash of the clear value kept beside it for equality (or
     * NULL): its purpose (cx_mac_for, blind-index key) and statement */
    const char *mac_purpose;
    const char *mac_sql; /* ?1 the hash, ?2 the row id */
};
extern const struct db_sealed db_sealed[DB_SEALED_COUNT];
/* The associated data of col in the row whose id is row (text) or id,
 * into out (cap bytes, DB_SEALED_AD_MAX is enough); its length, 0 when
 * it does not fit. */
#define DB_SEALED_AD_MAX 96
size_t db_sealed_ad(enum db_sealed_col col, const char *row, char *out,
                    size_t cap);
size_t db_sealed_ad_id(enum db_sealed_col col, int64_t id, char *out,
                       size_t cap);

#endif
