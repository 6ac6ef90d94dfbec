/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The SQLite handle: open with the project's pragmas, run constant SQL,
 * transactions, a small per-handle cache of prepared statements, binding,
 * stepping and column access, and the one place where SQLite result codes
 * become cf_rc. Values only ever reach SQLite as bound parameters
 * (invariant 4), and error logs carry sqlite3_errmsg(), never a value.
 *
 * NEEDSWORK: STYLE rule 2 wants backends behind a struct of function
 * pointers (db_sqlite.c, db_pg.c). With one backend the vtable would be
 * noise; it comes with the PostgreSQL backend, and db.h does not change.
 */
#include "core/compat.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db_int.h"

/* SQLite >= 3.37 returns extended codes from sqlite3_open_v2() itself
 * with this flag; older versions get sqlite3_extended_result_codes(). */
#ifdef SQLITE_OPEN_EXRESCODE
#    define DB_OPEN_EXRESCODE SQLITE_OPEN_EXRESCODE
#else
#    define DB_OPEN_EXRESCODE 0
#endif

enum cf_rc
db_rc_from_sqlite(struct db *db, int src, const char *op)
{
    const char *msg;
    const char *path;

    if (src == SQLITE_OK || src == SQLITE_ROW || src == SQLITE_DONE) {
        return CF_OK;
    }
    /* read now: the message belongs to the last call on this handle */
    msg = db != NULL && db->sq != NULL ? sqlite3_errmsg(db->sq)
                                       : sqlite3_errstr(src);
    path = db != NULL && db->path != NULL ? db->path : "";
    switch (src & 0xff) {
    case SQLITE_CONSTRAINT:
        /* an expected outcome (duplicate slug...): the caller decides */
        return CF_ERR(CF_ECONFLICT);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        cf_log_warn("database busy", "op", op, "db", path, "sqlite", msg);
        return CF_ERR(CF_EBUSY);
    case SQLITE_NOMEM:
        cf_log_error("database out of memory", "op", op, "db", path);
        return CF_ERR(CF_ENOMEM);
    case SQLITE_TOOBIG:
        return CF_ERR(CF_ETOOBIG);
    default:
        cf_log_error("database call failed", "op", op, "db", path, "sqlite",
                     msg, "code", sqlite3_errstr(src));
        return CF_ERR(CF_EDB);
    }
}

/*
 * Make sure the file exists with mode 0600 before SQLite opens it: SQLite
 * would create it with 0644 & ~umask, and changing the umask is process-wide
 * (not thread safe). SQLite gives the -wal and -shm files the mode of the
 * database file, so they are 0600 too. A file left readable by others is
 * tightened, with a warning.
 *
 * An existing file is looked at through an O_PATH descriptor only. POSIX
 * record locks belong to the process, and closing any ordinary descriptor
 * of a file drops every lock the process holds on it: a second handle on a
 * database this process already has open (the pool opens several per
 * tenant) would take away the first one's shared lock, and another process
 * closing its connection would then delete the WAL and the shared memory
 * under our feet. Closing an O_PATH descriptor drops no lock. A new file
 * is made with O_EXCL: nobody else can have it open yet.
 */
static enum cf_rc
db_file_prepare(const char *path, bool create)
{
    enum cf_rc rc = CF_EINTERNAL;
    int fd = -1;
    struct stat st;
    char proc[40];

    if (create) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            return CF_OK;
        }
        if (errno != EEXIST) {
            cf_log_error("cannot create database file", "db", path, "errno",
                         strerror(errno));
            return CF_ERR(CF_EIO);
        }
    }
    fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            rc = CF_ERR(CF_ENOTFOUND);
            goto out;
        }
        cf_log_error("cannot open database file", "db", path, "errno",
                     strerror(errno));
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        cf_log_error("cannot stat database file", "db", path, "errno",
                     strerror(errno));
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        cf_log_error("database path is not a regular file", "db", path);
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        cf_log_warn("database file readable by others, setting mode 0600", "db",
                    path);
        /* fchmod() refuses an O_PATH descriptor; its /proc link names
         * exactly the file looked at */
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (chmod(proc, 0600) != 0) {
            cf_log_error("cannot set database file mode", "db", path, "errno",
                         strerror(errno));
            rc = CF_ERR(CF_EIO);
            goto out;
        }
    }
    rc = CF_OK;
out:
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

/* coffre_random_id(): 32 lower-case hex characters of fresh randomness,
 * the public id of a row. Migrations use it to give existing rows their
 * ids; the PostgreSQL backend defines a function of the same name. */
static void
db_fn_random_id(sqlite3_context *c, int argc, sqlite3_value **argv)
{
    char id[33];

    (void)argc;
    (void)argv;
    if (cf_id_hex(id, 16) != CF_OK) {
        sqlite3_result_error(c, "no randomness", -1);
        return;
    }
    sqlite3_result_text(c, id, 32, SQLITE_TRANSIENT);
}

/* Connection-level hardening that is not a PRAGMA. */
static enum cf_rc
db_config(struct db *db)
{
    int src = SQLITE_OK;

    /* only in statements of ours, never from a schema object */
    src = sqlite3_create_function_v2(db->sq, "coffre_random_id", 0,
                                     SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
                                     db_fn_random_id, NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        return db_rc_from_sqlite(db, src, "create_function");
    }

    /* Defensive mode: no writable_schema or other ways to corrupt the
     * file from SQL. */
#ifdef SQLITE_DBCONFIG_DEFENSIVE
    src = sqlite3_db_config(db->sq, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    if (src != SQLITE_OK) {
        return db_rc_from_sqlite(db, src, "dbconfig defensive");
    }
#endif
    /* Double-quoted strings are identifiers only, as in PostgreSQL: a
     * typo cannot silently turn a column name into a string literal. */
#ifdef SQLITE_DBCONFIG_DQS_DML
    src = sqlite3_db_config(db->sq, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
    if (src == SQLITE_OK) {
        src = sqlite3_db_config(db->sq, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
    }
    if (src != SQLITE_OK) {
        return db_rc_from_sqlite(db, src, "dbconfig dqs");
    }
#endif
    return db_rc_from_sqlite(db, src, "dbconfig");
}

/*
 * The pragmas every database runs with:
 * - journal_mode=WAL: readers never block the writer, so the control
 *   database serves requests while `coffre tenant create` writes. The
 *   mode is persistent and is checked, since SQLite answers with the mode
 *   it actually set.
 * - synchronous=NORMAL: with WAL, a commit is durable across a crash of
 *   the process (the WAL is in the OS page cache and is replayed on the
 *   next open); only a power loss or kernel crash can lose the last
 *   commits, and never corrupts the file. FULL would fsync every commit.
 * - foreign_keys=ON: REFERENCES clauses are enforced (SQLite's default is
 *   off, PostgreSQL's is on).
 * - secure_delete=ON: deleted content is overwritten with zeros, so erased
 *   personal data does not linger in free pages (STYLE 20).
 * - trusted_schema=OFF: no SQL functions with side effects run from the
 *   schema (views, triggers) of a file someone else may have written.
 */
static enum cf_rc
db_pragmas(struct db *db)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct db_stmt *st = NULL;
    bool row = false;
    const char *mode;

    rc = db_prepare(db, "PRAGMA journal_mode=WAL", &st);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_step(st, &row);
    if (rc != CF_OK) {
        goto out;
    }
    mode = row ? db_col_text(st, 0) : NULL;
    if (mode == NULL || strcmp(mode, "wal") != 0) {
        cf_log_error("cannot switch database to WAL", "db", db->path, "mode",
                     mode != NULL ? mode : "");
        rc = CF_ERR(CF_EDB);
        goto out;
    }
    rc = db_exec(db, "PRAGMA synchronous=NORMAL");
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_exec(db, "PRAGMA foreign_keys=ON");
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_exec(db, "PRAGMA secure_delete=ON");
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_exec(db, "PRAGMA trusted_schema=OFF");
    if (rc != CF_OK) {
        goto out;
    }
    rc = CF_OK;
out:
    db_stmt_done(st);
    return rc;
}

enum cf_rc
db_open_mode(const char *path, enum db_kind kind, unsigned busy_timeout_ms,
             bool create, struct db **out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct db *db = NULL;
    bool mutex_ok = false;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | DB_OPEN_EXRESCODE;
    int src;

    if (path == NULL || *path == '\0' || out == NULL ||
        busy_timeout_ms > INT_MAX) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (create) {
        flags |= SQLITE_OPEN_CREATE;
    }
    rc = db_file_prepare(path, create);
    if (rc != CF_OK) {
        goto out;
    }
    db = cf_calloc(1, sizeof(*db));
    if (db == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    db->kind = kind;
    db->pool_slot = -1;
    db->path = cf_strdup(path);
    if (db->path == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    if (pthread_mutex_init(&db->lock, NULL) != 0) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    mutex_ok = true;
    src = sqlite3_open_v2(path, &db->sq, flags, NULL);
    if (src != SQLITE_OK) {
        rc = db_rc_from_sqlite(db, src, "open");
        goto out;
    }
    if (DB_OPEN_EXRESCODE == 0) {
        (void)sqlite3_extended_result_codes(db->sq, 1);
    }
    src = sqlite3_busy_timeout(db->sq, (int)busy_timeout_ms);
    if (src != SQLITE_OK) {
        rc = db_rc_from_sqlite(db, src, "busy_timeout");
        goto out;
    }
    rc = db_config(db);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_pragmas(db);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_migrate(db, kind);
    if (rc != CF_OK) {
        goto out;
    }
    *out = db;
    db = NULL; /* transferred */
    rc = CF_OK;
out:
    if (db != NULL && !mutex_ok) {
        /* db_close() destroys the mutex; do it only once it exists */
        cf_free(db->path);
        cf_free(db);
        db = NULL;
    }
    db_close(db);
    return rc;
}

enum cf_rc
db_open(const char *path, enum db_kind kind, unsigned busy_timeout_ms,
        struct db **out)
{
    return db_open_mode(path, kind, busy_timeout_ms, true, out);
}

/* Wipe and free what a memo entry holds. */
static void
memo_release(struct db_memo *e)
{
    if (e->key != NULL && e->p != NULL) {
        cf_memzero(e->p, e->size);
        cf_free(e->p);
    }
    *e = (struct db_memo){0};
}

void
db_close(struct db *db)
{
    size_t i;

    if (db == NULL) {
        return;
    }
    for (i = 0; i < DB_STMT_CACHE; i++) {
        struct db_stmt *e = &db->cache[i];

        if (CF_NEVER(e->in_use)) {
            cf_log_error("statement still in use at close", "db", db->path);
        }
        sqlite3_finalize(e->stmt); /* NULL is a no-op */
        cf_free(e->sql);
    }
    for (i = 0; i < DB_MEMO_MAX; i++) {
        memo_release(&db->memo[i]);
    }
    if (db->sq != NULL && sqlite3_close(db->sq) != SQLITE_OK) {
        /* only a statement leaked by a caller keeps it open */
        cf_log_error("cannot close database", "db", db->path, "sqlite",
                     sqlite3_errmsg(db->sq));
        (void)sqlite3_close_v2(db->sq);
    }
    pthread_mutex_destroy(&db->lock);
    cf_free(db->path);
    cf_free(db);
}

enum cf_rc
db_query_int64(struct db *db, const char *sql, int64_t *out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct db_stmt *st = NULL;
    bool row = false;

    rc = db_prepare(db, sql, &st);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_step(st, &row);
    if (rc != CF_OK) {
        goto out;
    }
    if (!row) {
        rc = CF_ERR(CF_EDB);
        goto out;
    }
    *out = db_col_int64(st, 0);
    rc = CF_OK;
out:
    db_stmt_done(st);
    return rc;
}

int
db_schema_version(struct db *db)
{
    int64_t v = -1;

    if (db_query_int64(db, "PRAGMA user_version", &v) != CF_OK) {
        return -1;
    }
    return (int)v;
}

void
db_lock(struct db *db)
{
    if (pthread_mutex_lock(&db->lock) != 0) {
        CF_BUG("db_lock: pthread_mutex_lock failed");
    }
}

void
db_unlock(struct db *db)
{
    if (pthread_mutex_unlock(&db->lock) != 0) {
        CF_BUG("db_unlock: pthread_mutex_unlock failed");
    }
}

enum cf_rc
db_exec(struct db *db, const char *sql)
{
    int src;

    src = sqlite3_exec(db->sq, sql, NULL, NULL, NULL);
    return db_rc_from_sqlite(db, src, "exec");
}

enum cf_rc
db_begin(struct db *db)
{
    /* IMMEDIATE takes the write lock now, so a transaction that will
     * write never fails half-way with SQLITE_BUSY on its first write (the
     * busy timeout applies here, where nothing has been done yet). */
    return db_exec(db, "BEGIN IMMEDIATE");
}

bool
db_in_transaction(struct db *db)
{
    return sqlite3_get_autocommit(db->sq) == 0;
}

enum cf_rc
db_commit(struct db *db)
{
    enum cf_rc rc;

    rc = db_exec(db, "COMMIT");
    if (rc != CF_OK) {
        /* COMMIT can fail and leave the transaction open (SQLITE_BUSY);
         * never leave it for the next user of the handle. */
        db_rollback(db);
    }
    return rc;
}

void
db_rollback(struct db *db)
{
    int src;

    if (db == NULL || sqlite3_get_autocommit(db->sq) != 0) {
        return;
    }
    src = sqlite3_exec(db->sq, "ROLLBACK", NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        /* SQLite then rolls back by itself when the handle is next used */
        cf_log_error("database call failed", "op", "rollback", "db", db->path,
                     "sqlite", sqlite3_errmsg(db->sq));
    }
}

/* A free entry, else the least recently used idle one (finalized), else
 * NULL when every entry is in use. */
static struct db_stmt *
stmt_cache_slot(struct db *db)
{
    struct db_stmt *lru = NULL;
    size_t i;

    for (i = 0; i < DB_STMT_CACHE; i++) {
        struct db_stmt *e = &db->cache[i];

        if (e->stmt == NULL) {
            return e;
        }
        if (!e->in_use && (lru == NULL || e->stamp < lru->stamp)) {
            lru = e;
        }
    }
    if (lru != NULL) {
        sqlite3_finalize(lru->stmt);
        lru->stmt = NULL;
        CF_FREE_AND_NULL(lru->sql);
    }
    return lru;
}

static bool
sql_tail_empty(const char *tail)
{
    for (; tail != NULL && *tail != '\0'; tail++) {
        if (*tail != ' ' && *tail != '\t' && *tail != '\n' && *tail != '\r' &&
            *tail != ';') {
            return false;
        }
    }
    return true;
}

enum cf_rc
db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct db_stmt *e = NULL;
    struct db_stmt *oneoff = NULL;
    sqlite3_stmt *stmt = NULL;
    char *key = NULL;
    const char *tail = NULL;
    size_t i;
    int src;

    for (i = 0; i < DB_STMT_CACHE; i++) {
        e = &db->cache[i];
        if (e->stmt != NULL && !e->in_use && strcmp(e->sql, sql) == 0) {
            e->in_use = true;
            *out = e;
            return CF_OK;
        }
    }
    key = cf_strdup(sql);
    if (key == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    e = stmt_cache_slot(db);
    if (e == NULL) {
        oneoff = cf_calloc(1, sizeof(*oneoff));
        if (oneoff == NULL) {
            rc = CF_ERR(CF_ENOMEM);
            goto out;
        }
    }
    src = sqlite3_prepare_v3(db->sq, sql, -1,
                             e != NULL ? SQLITE_PREPARE_PERSISTENT : 0, &stmt,
                             &tail);
    if (src != SQLITE_OK) {
        rc = db_rc_from_sqlite(db, src, "prepare");
        goto out;
    }
    if (stmt == NULL || !sql_tail_empty(tail)) {
        /* empty SQL, or a second statement: a programming error */
        cf_log_error("cannot prepare: not exactly one statement", "db",
                     db->path);
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (e == NULL) {
        e = oneoff;
        oneoff = NULL; /* transferred */
    } else {
        e->cached = true;
    }
    e->db = db;
    e->stmt = stmt;
    stmt = NULL; /* transferred */
    e->sql = key;
    key = NULL; /* transferred */
    e->in_use = true;
    *out = e;
    rc = CF_OK;
out:
    sqlite3_finalize(stmt);
    cf_free(oneoff);
    cf_free(key);
    return rc;
}

void
db_stmt_done(struct db_stmt *st)
{
    if (st == NULL) {
        return;
    }
    /* reset repeats the last step's error, already reported by db_step */
    (void)sqlite3_reset(st->stmt);
    (void)sqlite3_clear_bindings(st->stmt);
    if (!st->cached) {
        sqlite3_finalize(st->stmt);
        cf_free(st->sql);
        cf_free(st);
        return;
    }
    st->in_use = false;
    st->stamp = ++st->db->stamp;
}

enum cf_rc
db_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
    return db_rc_from_sqlite(st->db, sqlite3_bind_int64(st->stmt, idx, v),
                             "bind");
}

enum cf_rc
db_bind_text(struct db_stmt *st, int idx, const char *s)
{
    /* SQLITE_TRANSIENT: SQLite copies now, the caller keeps s */
    return db_rc_from_sqlite(
        st->db, sqlite3_bind_text(st->stmt, idx, s, -1, SQLITE_TRANSIENT),
        "bind");
}

enum cf_rc
db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t n)
{
    /* SQLite binds NULL for a NULL pointer; an empty blob is still a blob */
    static const char empty[1];

    if (p == NULL && n > 0) {
        return CF_ERR(CF_EINVAL);
    }
    return db_rc_from_sqlite(
        st->db,
        sqlite3_bind_blob64(st->stmt, idx, n > 0 ? p : empty, (sqlite3_uint64)n,
                            SQLITE_TRANSIENT),
        "bind");
}

enum cf_rc
db_bind_null(struct db_stmt *st, int idx)
{
    return db_rc_from_sqlite(st->db, sqlite3_bind_null(st->stmt, idx), "bind");
}

enum cf_rc
db_step(struct db_stmt *st, bool *row)
{
    int src;

    src = sqlite3_step(st->stmt);
    if (src == SQLITE_ROW) {
        *row = true;
        return CF_OK;
    }
    if (src == SQLITE_DONE) {
        *row = false;
        return CF_OK;
    }
    return db_rc_from_sqlite(st->db, src, "step");
}

int64_t
db_col_int64(struct db_stmt *st, int col)
{
    return sqlite3_column_int64(st->stmt, col);
}

const char *
db_col_text(struct db_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st->stmt, col);
}

const void *
db_col_blob(struct db_stmt *st, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(st->stmt, col);
    int n = sqlite3_column_bytes(st->stmt, col); /* after _blob() */

    *len = n > 0 ? (size_t)n : 0;
    return p;
}

int64_t
db_last_insert_id(struct db *db)
{
    return sqlite3_last_insert_rowid(db->sq);
}

int
db_changes(struct db *db)
{
    return sqlite3_changes(db->sq);
}

enum cf_rc
db_checkpoint_truncate(struct db *db)
{
    int src;

    src = sqlite3_wal_checkpoint_v2(db->sq, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                    NULL, NULL);
    return db_rc_from_sqlite(db, src, "checkpoint");
}

/*
 * The header of db's WAL index, read as SQLite's own readers do
 * (walformat.html, "The WAL-Index Header"): two copies of a 48-byte
 * header at the start of the shared memory, which a writer updates second
 * copy first and a reader reads first copy first. Every commit, of any
 * connection or process, changes it (iChange, mxFrame, the checksums). The
 * mapping is SQLite's own (the VFS's xShmMap, region 0, never extended):
 * opening the -shm file ourselves would put the process's locks on it at
 * the mercy of our close (see db_file_prepare). false, and the caller
 * reads the version the slow way, when there is no mapping to look at or
 * a write is half-way (the copies differ, or the index is not
 * initialised yet).
 */
static bool
db_wal_header(struct db *db, unsigned char out[DB_WAL_HEADER])
{
    unsigned char second[DB_WAL_HEADER];
    sqlite3_file *f = NULL;
    volatile void *p = NULL;
    size_t i;

    if (db->wal_index == NULL) {
        if (sqlite3_file_control(db->sq, "main", SQLITE_FCNTL_FILE_POINTER,
                                 &f) != SQLITE_OK ||
            f == NULL || f->pMethods == NULL || f->pMethods->iVersion < 2 ||
            f->pMethods->xShmMap == NULL ||
            f->pMethods->xShmMap(f, 0, 32768, 0, &p) != SQLITE_OK ||
            p == NULL) {
            return false;
        }
        db->wal_index = p;
    }
    for (i = 0; i < DB_WAL_HEADER; i++) {
        out[i] = db->wal_index[i];
    }
    atomic_thread_fence(memory_order_acquire);
    for (i = 0; i < DB_WAL_HEADER; i++) {
        second[i] = db->wal_index[DB_WAL_HEADER + i];
    }
    /* isInit, byte 12 of WalIndexHdr */
    return memcmp(out, second, DB_WAL_HEADER) == 0 && out[12] != 0;
}

enum cf_rc
db_data_version(struct db *db, uint64_t *out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct db_stmt *st = NULL;
    unsigned char hdr[DB_WAL_HEADER];
    unsigned int v = 0;
    int64_t changes;
    bool row = false;
    bool hdr_ok;
    int src;

    if (db_in_transaction(db)) {
        return CF_EBUSY;
    }
    /* the header is read before the version: a commit landing in
     * between leaves an older header beside the newer version, and the
     * next call reads again */
    hdr_ok = db_wal_header(db, hdr);
    if (hdr_ok && db->wal_seen_ok &&
        memcmp(hdr, db->wal_seen, DB_WAL_HEADER) == 0) {
        *out = db->version;
        return CF_OK;
    }
    changes = (int64_t)sqlite3_total_changes64(db->sq);
    if (!hdr_ok && db->version_known && db->pool_slot >= 0 &&
        changes == db->version_changes) {
        *out = db->version;
        return CF_OK;
    }
    /* The pragma runs a read transaction, which brings the pager's
     * counter up to date with the file; the file control then reads that
     * counter, which, unlike the pragma's value, also moves with the
     * commits of this handle. Neither alone sees both. */
    rc = db_prepare(db, "PRAGMA data_version", &st);
    if (rc == CF_OK) {
        rc = db_step(st, &row);
    }
    db_stmt_done(st);
    if (rc != CF_OK) {
        return rc;
    }
    src = sqlite3_file_control(db->sq, "main", SQLITE_FCNTL_DATA_VERSION, &v);
    if (src != SQLITE_OK) {
        return db_rc_from_sqlite(db, src, "data_version");
    }
    db->version = v;
    db->version_changes = changes;
    db->version_known = true;
    /* the first call maps the index only after its read transaction */
    db->wal_seen_ok = hdr_ok;
    if (hdr_ok) {
        memcpy(db->wal_seen, hdr, DB_WAL_HEADER);
    }
    *out = v;
    return CF_OK;
}

void *
db_memo_at(struct db *db, const void *key, size_t size)
{
    struct db_memo *free_e = NULL;
    uint64_t version = 0;
    size_t i;

    if (size == 0 || db_data_version(db, &version) != CF_OK) {
        return NULL;
    }
    for (i = 0; i < DB_MEMO_MAX; i++) {
        struct db_memo *e = &db->memo[i];

        if (e->key == key) {
            if (CF_NEVER(e->size != size)) {
                return NULL;
            }
            if (e->version != version) {
                cf_memzero(e->p, size); /* another version: empty */
                e->version = version;
            }
            return e->p;
        }
        if (e->key == NULL && free_e == NULL) {
            free_e = e;
        }
    }
    if (free_e == NULL) {
        return NULL;
    }
    free_e->p = cf_calloc(1, size);
    if (free_e->p == NULL) {
        return NULL;
    }
    free_e->key = key;
    free_e->size = size;
    free_e->version = version;
    return free_e->p;
}
