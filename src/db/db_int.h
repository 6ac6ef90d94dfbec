/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * db: declarations shared by the files of db/ and by no other module. The
 * handle and statement structs, the open call the pool uses (which can
 * refuse to create), the migration tables and the SQLite error mapping.
 */
#ifndef DB_DB_INT_H
#define DB_DB_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "db/db.h"

/* Prepared statements kept per handle. Domain stores use a few dozen
 * constant statements; past this, the least recently used idle one is
 * finalized, and if every entry is in use a one-off statement is made. */
#define DB_STMT_CACHE 32
/* Bytes of the WAL-index header (sqlite.org/walformat.html, WalIndexHdr),
 * kept twice at the start of the -shm file. */
#define DB_WAL_HEADER 48
/* Caches of domain modules kept on one handle (db_memo_at). */
#define DB_MEMO_MAX 4

struct db_stmt {
    struct db *db;       /* owner, borrowed */
    sqlite3_stmt *stmt;  /* NULL: free cache entry */
    char *sql;           /* cache key: a copy of the SQL text */
    bool in_use;         /* handed out by db_prepare() */
    bool cached;         /* false: one-off, freed by db_stmt_done() */
    unsigned long stamp; /* last db_stmt_done(), for eviction */
};

struct db_memo {
    const void *key; /* NULL: free entry */
    void *p;
    size_t size;
    uint64_t version; /* the data version it holds */
};

struct db {
    sqlite3 *sq;
    pthread_mutex_t lock; /* db_lock()/db_unlock() */
    enum db_kind kind;
    char *path;    /* for log lines */
    int pool_slot; /* index in the pool that owns db, -1 if none */
    unsigned long stamp;
    struct db_stmt cache[DB_STMT_CACHE];
    /* db_data_version() already read during this borrow from the pool,
     * and sqlite3_total_changes64() then: a change made through this
     * handle since makes it read again (used only when the WAL index
     * cannot be looked at, see below) */
    bool version_known;
    uint64_t version;
    int64_t version_changes;
    /* The WAL index of the file as SQLite maps it (NULL until first
     * looked at), and its header when `version` was read: while the
     * header is the same, nothing was committed by anyone, and the
     * version still holds without a read transaction. */
    const volatile unsigned char *wal_index;
    bool wal_seen_ok;
    unsigned char wal_seen[DB_WAL_HEADER];
    struct db_memo memo[DB_MEMO_MAX];
};

/*
 * db_open() with a choice: when create is false a missing file is
 * CF_ENOTFOUND and nothing is created (the pool without DB_POOL_CREATE).
 */
CF_MUST_CHECK enum cf_rc db_open_mode(const char *path, enum db_kind kind,
                                      unsigned busy_timeout_ms, bool create,
                                      struct db **out);

/*
 * Turn a SQLite result code into a cf_rc, logging the failure (the SQLite
 * message only: it never holds bound values). op names the call that
 * failed. SQLITE_OK, _ROW and _DONE give CF_OK.
 */
CF_MUST_CHECK enum cf_rc db_rc_from_sqlite(struct db *db, int src,
                                           const char *op);

/* ---- migrations (migrate.c, schema.c) -------------------------------- */

/* One numbered step of a schema. Versions run 1, 2, 3... with no gap. */
struct db_migration {
    int version;
    const char *sql; /* portable SQL, one or more statements */
};

extern const struct db_migration db_schema_control[];
extern const size_t db_schema_control_len;
extern const struct db_migration db_schema_tenant[];
extern const size_t db_schema_tenant_len;

/* Bring db to the latest migration of kind; see migrate.c. */
CF_MUST_CHECK enum cf_rc db_migrate(struct db *db, enum db_kind kind);

#endif
