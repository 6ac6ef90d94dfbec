/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Unit tests of db/: file mode and pragmas, migrations, error mapping,
 * transactions, bound parameters (invariant 4), the statement cache,
 * allocation failures, and the tenant pool: 2,000 tenants through a pool of
 * 64 with the open file descriptors counted, reopen after eviction, a
 * missing tenant, two threads on one tenant, and a pool with every slot
 * borrowed; the data version (every commit moves it, whoever makes it)
 * and the per-handle caches. Real SQLite files in a fresh temporary directory
 * per test.
 */
#include "core/compat.h"

#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "db/db.h"

#define HOSTILE "'; DROP TABLE tenants; --"

struct fixture {
    char dir[112];
    char path[160];
};

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    if (f == NULL) {
        return -1;
    }
    if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 80) {
        tmp = "/tmp";
    }
    snprintf(f->dir, sizeof(f->dir), "%s/coffre-test-db-XXXXXX", tmp);
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/control.db", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static int64_t
query_int(struct db *db, const char *sql)
{
    struct db_stmt *st = NULL;
    bool row = false;
    int64_t v;

    assert_int_equal(db_prepare(db, sql, &st), CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_true(row);
    v = db_col_int64(st, 0);
    db_stmt_done(st);
    return v;
}

/* Copy of the text of the first column of the first row of sql. */
static char *
query_text(struct db *db, const char *sql)
{
    struct db_stmt *st = NULL;
    bool row = false;
    char *v;

    assert_int_equal(db_prepare(db, sql, &st), CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_true(row);
    v = strdup(db_col_text(st, 0));
    db_stmt_done(st);
    return v;
}

static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static mode_t
file_mode(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* ---- handle ------------------------------------------------------------ */

static void
test_open_mode_and_pragmas(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    char *mode;
    char side[200];
    mode_t old;

    /* 0600 does not depend on the umask */
    old = umask(0);
    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    umask(old);
    assert_non_null(db);
    assert_int_equal(file_mode(f->path), 0600);

    mode = query_text(db, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    free(mode);
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(db, "PRAGMA secure_delete"), 1);
    assert_int_equal(query_int(db, "PRAGMA synchronous"), 1); /* NORMAL */
    assert_int_equal(query_int(db, "PRAGMA trusted_schema"), 0);

    /* the WAL side files get the database's mode */
    assert_int_equal(db_exec(db, "INSERT INTO settings (key, value) "
                                 "VALUES ('k', 'v')"),
                     CF_OK);
    snprintf(side, sizeof(side), "%s-wal", f->path);
    assert_int_equal(file_mode(side), 0600);
    snprintf(side, sizeof(side), "%s-shm", f->path);
    assert_int_equal(file_mode(side), 0600);
    db_close(db);
}

static void
test_open_tightens_loose_file(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    FILE *fp = fopen(f->path, "w");

    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    assert_int_equal(file_mode(f->path), 0600);
    db_close(db);
}

static void
test_migrations_latest_and_reopen(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    char tpath[200];
    char *v;

    assert_true(db_schema_latest(DB_KIND_CONTROL) >= 1);
    assert_true(db_schema_latest(DB_KIND_TENANT) >= 1);

    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    assert_int_equal(db_schema_version(db), db_schema_latest(DB_KIND_CONTROL));
    assert_int_equal(db_exec(db, "INSERT INTO settings (key, value) "
                                 "VALUES ('marker', 'kept')"),
                     CF_OK);
    db_close(db);
    db = NULL;

    /* reopen: nothing to apply, data untouched */
    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    assert_int_equal(db_schema_version(db), db_schema_latest(DB_KIND_CONTROL));
    v = query_text(db, "SELECT value FROM settings WHERE key = 'marker'");
    assert_string_equal(v, "kept");
    free(v);
    assert_int_equal(query_int(db, "SELECT count(*) FROM settings"), 1);
    db_close(db);
    db = NULL;

    snprintf(tpath, sizeof(tpath), "%s/tenant.db", f->dir);
    assert_int_equal(db_open(tpath, DB_KIND_TENANT, 1000, &db), CF_OK);
    assert_int_equal(db_schema_version(db), db_schema_latest(DB_KIND_TENANT));
    assert_int_equal(query_int(db, "SELECT count(*) FROM meta"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM audit_events"), 0);
    db_close(db);
}

/* coffre_random_id(): the public ids of rows (COMMITMENT B2). */
static void
test_random_id_function(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    char tpath[200];
    char *a;
    char *b;

    snprintf(tpath, sizeof(tpath), "%s/tenant.db", f->dir);
    assert_int_equal(db_open(tpath, DB_KIND_TENANT, 1000, &db), CF_OK);
    a = query_text(db, "SELECT coffre_random_id()");
    b = query_text(db, "SELECT coffre_random_id()");
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
    /* the public ids are unique by index */
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE "
                                   "name IN ('users_public_id', "
                                   "'sessions_public_id')"),
                     2);
    /* a schema object cannot call it (SQLITE_DIRECTONLY): a view may
     * name it, reading the view fails */
    assert_int_equal(db_exec(db, "CREATE VIEW v AS SELECT "
                                 "coffre_random_id() AS x"),
                     CF_OK);
    assert_int_not_equal(db_exec(db, "SELECT x FROM v"), CF_OK);
    assert_int_equal(db_exec(db, "DROP VIEW v"), CF_OK);
    free(a);
    free(b);
    db_close(db);
}

static void
test_future_version_conflict(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;

    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    assert_int_equal(db_exec(db, "PRAGMA user_version = 999"), CF_OK);
    db_close(db);
    db = NULL;
    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db),
                     CF_ECONFLICT);
    assert_null(db); /* out written only on success */
}

static void
test_wrong_kind_conflict(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;

    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    db_close(db);
    db = NULL;
    assert_int_equal(db_open(f->path, DB_KIND_TENANT, 1000, &db), CF_ECONFLICT);
    assert_null(db);
}

static void
test_constraints_conflict(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct db_stmt *st = NULL;
    bool row = true;
    static const char ins[] =
        "INSERT INTO tenants (slug, name, created) VALUES (?1, ?2, ?3)";

    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    assert_int_equal(db_prepare(db, ins, &st), CF_OK);
    assert_int_equal(db_bind_text(st, 1, "acme"), CF_OK);
    assert_int_equal(db_bind_text(st, 2, "Acme"), CF_OK);
    assert_int_equal(db_bind_text(st, 3, "2026-01-01T00:00:00Z"), CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_false(row);
    assert_int_equal(db_changes(db), 1);
    assert_int_equal(db_last_insert_id(db), 1);
    db_stmt_done(st);

    /* UNIQUE slug */
    assert_int_equal(db_prepare(db, ins, &st), CF_OK);
    assert_int_equal(db_bind_text(st, 1, "acme"), CF_OK);
    assert_int_equal(db_bind_text(st, 2, "Other"), CF_OK);
    assert_int_equal(db_bind_text(st, 3, "2026-01-01T00:00:00Z"), CF_OK);
    assert_int_equal(db_step(st, &row), CF_ECONFLICT);
    db_stmt_done(st);

    /* NOT NULL */
    assert_int_equal(db_prepare(db, ins, &st), CF_OK);
    assert_int_equal(db_bind_text(st, 1, "beta"), CF_OK);
    assert_int_equal(db_bind_null(st, 2), CF_OK);
    assert_int_equal(db_bind_text(st, 3, "2026-01-01T00:00:00Z"), CF_OK);
    assert_int_equal(db_step(st, &row), CF_ECONFLICT);
    db_stmt_done(st);

    /* foreign_keys=ON: a key for a tenant that does not exist */
    assert_int_equal(db_prepare(db,
                                "INSERT INTO tenant_keys (tenant_id, version,"
                                " wrapped, created) VALUES (?1, 1, ?2, 'now')",
                                &st),
                     CF_OK);
    assert_int_equal(db_bind_int64(st, 1, 4242), CF_OK);
    assert_int_equal(db_bind_blob(st, 2, "k", 1), CF_OK);
    assert_int_equal(db_step(st, &row), CF_ECONFLICT);
    db_stmt_done(st);

    assert_int_equal(query_int(db, "SELECT count(*) FROM tenants"), 1);
    db_close(db);
}

static void
test_rollback_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct db *other = NULL;

    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    assert_false(db_in_transaction(db));
    db_rollback(db); /* no transaction: a no-op */

    assert_int_equal(db_begin(db), CF_OK);
    assert_true(db_in_transaction(db));
    assert_int_equal(db_exec(db, "INSERT INTO settings (key, value) "
                                 "VALUES ('a', '1')"),
                     CF_OK);
    assert_int_equal(query_int(db, "SELECT count(*) FROM settings"), 1);
    db_rollback(db);
    assert_false(db_in_transaction(db));
    assert_int_equal(query_int(db, "SELECT count(*) FROM settings"), 0);

    /* commit is visible to another connection */
    assert_int_equal(db_begin(db), CF_OK);
    assert_int_equal(db_exec(db, "INSERT INTO settings (key, value) "
                                 "VALUES ('b', '2')"),
                     CF_OK);
    assert_int_equal(db_commit(db), CF_OK);
    assert_false(db_in_transaction(db));
    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 50, &other), CF_OK);
    assert_int_equal(query_int(other, "SELECT count(*) FROM settings"), 1);

    /* BEGIN IMMEDIATE: a second writer is refused while one is open */
    assert_int_equal(db_begin(db), CF_OK);
    assert_int_equal(db_begin(other), CF_EBUSY);
    assert_false(db_in_transaction(other));
    db_rollback(db);
    db_close(other);
    db_close(db);
}

/* COMMITMENT C2 relies on this too: events carry client text verbatim. */
static void
test_hostile_text_bound_verbatim(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct db_stmt *st = NULL;
    bool row = false;
    static const char name[] =
        "Robert'); DROP TABLE tenants;--\n\"x\" \xc3\xa9";
    static const unsigned char blob[] = {0x00, '\'', 0xff, 0x00, ';'};
    const void *got;
    size_t len = 0;

    /* invariant 4: values are bound, never spliced into SQL text */
    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    assert_int_equal(db_prepare(db,
                                "INSERT INTO tenants (slug, name, created)"
                                " VALUES (?1, ?2, 'now')",
                                &st),
                     CF_OK);
    assert_int_equal(db_bind_text(st, 1, HOSTILE), CF_OK);
    assert_int_equal(db_bind_text(st, 2, name), CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    db_stmt_done(st);

    assert_int_equal(db_prepare(db,
                                "INSERT INTO tenant_keys (tenant_id, version,"
                                " wrapped, created) VALUES (?1, ?2, ?3, ?4)",
                                &st),
                     CF_OK);
    assert_int_equal(db_bind_int64(st, 1, db_last_insert_id(db)), CF_OK);
    assert_int_equal(db_bind_int64(st, 2, 1), CF_OK);
    assert_int_equal(db_bind_blob(st, 3, blob, sizeof(blob)), CF_OK);
    assert_int_equal(db_bind_text(st, 4, HOSTILE), CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    db_stmt_done(st);

    assert_int_equal(
        db_prepare(db, "SELECT slug, name FROM tenants WHERE slug = ?1", &st),
        CF_OK);
    assert_int_equal(db_bind_text(st, 1, HOSTILE), CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_true(row);
    assert_string_equal(db_col_text(st, 0), HOSTILE);
    assert_string_equal(db_col_text(st, 1), name);
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_false(row);
    db_stmt_done(st);

    assert_int_equal(db_prepare(db,
                                "SELECT wrapped, created, typeof(wrapped)"
                                " FROM tenant_keys",
                                &st),
                     CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_true(row);
    got = db_col_blob(st, 0, &len);
    assert_int_equal(len, sizeof(blob));
    assert_memory_equal(got, blob, sizeof(blob));
    assert_string_equal(db_col_text(st, 1), HOSTILE);
    assert_string_equal(db_col_text(st, 2), "blob");
    db_stmt_done(st);

    /* an empty blob is a blob, not NULL; NULL text reads as NULL */
    assert_int_equal(db_prepare(db, "SELECT typeof(?1), ?2", &st), CF_OK);
    assert_int_equal(db_bind_blob(st, 1, NULL, 0), CF_OK);
    assert_int_equal(db_bind_null(st, 2), CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_string_equal(db_col_text(st, 0), "blob");
    assert_null(db_col_text(st, 1));
    db_stmt_done(st);

    assert_int_equal(query_int(db, "SELECT count(*) FROM tenants"), 1);
    db_close(db);
}

static void
test_stmt_cache(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct db_stmt *a = NULL;
    struct db_stmt *b = NULL;
    struct db_stmt *many[40];
    char sql[40][32];
    bool row = false;
    size_t i;

    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);

    /* handed back, then handed out again: the same statement, reset */
    assert_int_equal(db_prepare(db, "SELECT ?1", &a), CF_OK);
    assert_int_equal(db_bind_int64(a, 1, 7), CF_OK);
    assert_int_equal(db_step(a, &row), CF_OK);
    db_stmt_done(a);
    assert_int_equal(db_prepare(db, "SELECT ?1", &b), CF_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(db_step(b, &row), CF_OK);
    assert_true(row);
    assert_null(db_col_text(b, 0)); /* bindings were cleared */

    /* in use: another statement for the same text */
    assert_int_equal(db_prepare(db, "SELECT ?1", &a), CF_OK);
    assert_ptr_not_equal(a, b);
    db_stmt_done(a);
    db_stmt_done(b);

    /* more statements in use at once than the cache holds */
    for (i = 0; i < CF_ARRAY_LEN(many); i++) {
        snprintf(sql[i], sizeof(sql[i]), "SELECT %zu", i);
        assert_int_equal(db_prepare(db, sql[i], &many[i]), CF_OK);
    }
    for (i = 0; i < CF_ARRAY_LEN(many); i++) {
        assert_int_equal(db_step(many[i], &row), CF_OK);
        assert_true(row);
        assert_int_equal(db_col_int64(many[i], 0), (int64_t)i);
        db_stmt_done(many[i]);
    }

    /* exactly one statement, and valid SQL */
    assert_int_equal(db_prepare(db, "SELECT 1; SELECT 2", &a), CF_EINVAL);
    assert_int_equal(db_prepare(db, "  ", &a), CF_EINVAL);
    assert_int_equal(db_prepare(db, "SELEC 1", &a), CF_EDB);
    assert_int_equal(db_prepare(db, "SELECT 1;", &a), CF_OK);
    db_stmt_done(a);
    db_stmt_done(NULL);
    db_close(db);
}

static void
test_checkpoint_truncate(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    char wal[200];
    struct stat st;

    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    assert_int_equal(db_exec(db, "INSERT INTO settings (key, value) "
                                 "VALUES ('secret-ish', 'gone')"),
                     CF_OK);
    assert_int_equal(db_exec(db, "DELETE FROM settings"), CF_OK);
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    assert_int_equal(stat(wal, &st), 0);
    assert_true(st.st_size > 0);
    assert_int_equal(db_checkpoint_truncate(db), CF_OK);
    assert_int_equal(stat(wal, &st), 0);
    assert_int_equal(st.st_size, 0);
    db_close(db);
}

static void
test_open_alloc_failures(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct db_pool *pool = NULL;
    enum cf_rc rc;
    long n;

    for (n = 0; n < 1000; n++) {
        cf_mem_fail_after(n);
        rc = db_open(f->path, DB_KIND_CONTROL, 1000, &db);
        cf_mem_fail_after(-1);
        if (rc == CF_OK) {
            break;
        }
        assert_int_equal(rc, CF_ENOMEM);
        assert_null(db);
    }
    assert_int_equal(rc, CF_OK);
    assert_int_equal(db_schema_version(db), db_schema_latest(DB_KIND_CONTROL));
    db_close(db);
    db = NULL;

    for (n = 0; n < 1000; n++) {
        cf_mem_fail_after(n);
        rc = db_pool_new(f->dir, 2, 1, 1000, &pool);
        if (rc == CF_OK) {
            rc = db_pool_get(pool, 3, DB_POOL_CREATE, &db);
        }
        cf_mem_fail_after(-1);
        if (rc == CF_OK) {
            break;
        }
        assert_int_equal(rc, CF_ENOMEM);
        if (pool != NULL) {
            assert_int_equal(db_pool_open_count(pool), 0);
        }
        db_pool_free(pool);
        pool = NULL;
    }
    assert_int_equal(rc, CF_OK);
    db_pool_put(pool, db);
    db_pool_free(pool);
}

/* ---- pool ------------------------------------------------------------- */

#define POOL_TENANTS 2000
#define POOL_CAP 64

/* The spec's pool test: many more tenants than slots, fds stay bounded. */
static void
test_pool_2000_tenants(void **state)
{
    struct fixture *f = *state;
    struct db_pool *pool = NULL;
    struct db *db = NULL;
    struct db_stmt *st = NULL;
    bool row = false;
    char want[32];
    int fd0;
    int fd_max = 0;
    int fd_end;
    int bound;
    int64_t id;
    int pass;
    uint64_t t0 = cf_time_mono_ns();

    fd0 = count_fds();
    /* WAL: database, -wal and -shm per open handle; 4 leaves headroom */
    bound = fd0 + POOL_CAP * 4 + 16;
    assert_int_equal(db_pool_new(f->dir, POOL_CAP, 1, 5000, &pool), CF_OK);
    for (pass = 0; pass < 2; pass++) {
        for (id = 1; id <= POOL_TENANTS; id++) {
            snprintf(want, sizeof(want), "tenant-%lld", (long long)id);
            assert_int_equal(
                db_pool_get(pool, id, pass == 0 ? DB_POOL_CREATE : 0, &db),
                CF_OK);
            if (pass == 0) {
                assert_int_equal(db_prepare(db,
                                            "INSERT INTO meta (key, value)"
                                            " VALUES ('touch', ?1)",
                                            &st),
                                 CF_OK);
                assert_int_equal(db_bind_text(st, 1, want), CF_OK);
                assert_int_equal(db_step(st, &row), CF_OK);
            } else {
                /* reopened after eviction: the row is there */
                assert_int_equal(db_prepare(db,
                                            "SELECT value FROM meta"
                                            " WHERE key = 'touch'",
                                            &st),
                                 CF_OK);
                assert_int_equal(db_step(st, &row), CF_OK);
                assert_true(row);
                assert_string_equal(db_col_text(st, 0), want);
            }
            db_stmt_done(st);
            st = NULL;
            db_pool_put(pool, db);
            assert_true(db_pool_open_count(pool) <= POOL_CAP);
            if (id % 100 == 0) {
                int n = count_fds();

                if (n > fd_max) {
                    fd_max = n;
                }
                assert_true(n < bound);
            }
        }
        assert_int_equal(db_pool_open_count(pool), POOL_CAP);
    }
    fd_end = count_fds();
    db_pool_free(pool);
    print_message("pool: %d tenants x 2 passes, capacity %d: fds initial %d,"
                  " max %d, with pool full %d, after free %d, bound %d;"
                  " %.1f s\n",
                  POOL_TENANTS, POOL_CAP, fd0, fd_max, fd_end, count_fds(),
                  bound, (double)(cf_time_mono_ns() - t0) / 1e9);
    assert_int_equal(count_fds(), fd0);
}

static void
test_pool_missing_and_invalid(void **state)
{
    struct fixture *f = *state;
    struct db_pool *pool = NULL;
    struct db *db = NULL;
    char p[200];
    struct stat st;

    assert_int_equal(db_pool_new(f->dir, 4, 1, 1000, &pool), CF_OK);
    assert_int_equal(db_pool_get(pool, 77, 0, &db), CF_ENOTFOUND);
    assert_null(db);
    snprintf(p, sizeof(p), "%s/77", f->dir);
    assert_int_not_equal(stat(p, &st), 0); /* nothing was created */
    assert_int_equal(db_pool_open_count(pool), 0);

    assert_int_equal(db_pool_get(pool, 0, DB_POOL_CREATE, &db), CF_EINVAL);
    assert_int_equal(db_pool_get(pool, -5, DB_POOL_CREATE, &db), CF_EINVAL);
    assert_int_equal(db_pool_get(pool, 1, 1u << 7, &db), CF_EINVAL);
    assert_null(db);

    /* created: directory 0700, file 0600 */
    assert_int_equal(db_pool_get(pool, 77, DB_POOL_CREATE, &db), CF_OK);
    assert_int_equal(file_mode(p), 0700);
    snprintf(p, sizeof(p), "%s/77/tenant.db", f->dir);
    assert_int_equal(file_mode(p), 0600);
    db_pool_put(pool, db);
    db_pool_free(pool);

    assert_int_equal(db_pool_new(f->dir, 0, 1, 1000, &pool), CF_EINVAL);
    assert_int_equal(db_pool_new(f->dir, 4, 0, 1000, &pool), CF_EINVAL);
    assert_int_equal(
        db_pool_new(f->dir, 4, DB_POOL_MAX_PER_TENANT + 1, 1000, &pool),
        CF_EINVAL);
}

struct borrower {
    struct db_pool *pool;
    atomic_bool got;
    enum cf_rc rc;
    struct db *db;
};

static void *
borrower_run(void *arg)
{
    struct borrower *b = arg;
    struct db *db = NULL;

    b->rc = db_pool_get(b->pool, 7, 0, &db);
    b->db = db;
    atomic_store(&b->got, true);
    if (b->rc == CF_OK) {
        db_pool_put(b->pool, db);
    }
    return NULL;
}

static void
test_pool_same_tenant_serialises(void **state)
{
    struct fixture *f = *state;
    struct borrower b;
    struct db *db = NULL;
    pthread_t th;

    memset(&b, 0, sizeof(b));
    atomic_init(&b.got, false);
    assert_int_equal(db_pool_new(f->dir, 4, 1, 5000, &b.pool), CF_OK);
    assert_int_equal(db_pool_get(b.pool, 7, DB_POOL_CREATE, &db), CF_OK);
    assert_int_equal(pthread_create(&th, NULL, borrower_run, &b), 0);
    sleep_ms(200);
    assert_false(atomic_load(&b.got)); /* blocked while we hold it */
    db_pool_put(b.pool, db);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(atomic_load(&b.got));
    assert_int_equal(b.rc, CF_OK);
    assert_ptr_equal(b.db, db); /* the same handle, not a second open */
    assert_int_equal(db_pool_open_count(b.pool), 1);
    db_pool_free(b.pool);
}

static bool path_exists(const char *path);

struct holder {
    struct db_pool *pool;
    atomic_bool got;
    atomic_bool release;
    enum cf_rc rc;
    struct db *db;
};

static void *
holder_run(void *arg)
{
    struct holder *h = arg;
    struct db *db = NULL;

    h->rc = db_pool_get(h->pool, 7, 0, &db);
    h->db = db;
    atomic_store(&h->got, true);
    while (!atomic_load(&h->release)) {
        sleep_ms(5);
    }
    if (h->rc == CF_OK) {
        db_pool_put(h->pool, db);
    }
    return NULL;
}

/*
 * A hold: the thread's first get of the tenant borrows a handle and keeps
 * it; its next gets return the same handle and its puts keep it (a
 * transaction left open is rolled back all the same), so another thread
 * (one handle per tenant) waits until db_pool_unhold(). Other tenants are
 * borrowed and given back as usual; a hold that never asked borrows
 * nothing.
 */
static void
test_pool_hold(void **state)
{
    struct fixture *f = *state;
    struct db_pool *pool = NULL;
    struct holder h;
    struct db *a = NULL;
    struct db *b = NULL;
    struct db *other = NULL;
    pthread_t th;

    memset(&h, 0, sizeof(h));
    assert_int_equal(db_pool_new(f->dir, 4, 1, 300, &pool), CF_OK);
    assert_int_equal(db_pool_get(pool, 7, DB_POOL_CREATE, &a), CF_OK);
    db_pool_put(pool, a);
    assert_int_equal(db_pool_get(pool, 8, DB_POOL_CREATE, &a), CF_OK);
    db_pool_put(pool, a);

    /* nothing asked: nothing borrowed */
    db_pool_hold(pool, 7);
    db_pool_unhold(pool);
    h.pool = pool;
    atomic_init(&h.got, false);
    atomic_init(&h.release, true);
    holder_run(&h);
    assert_int_equal(h.rc, CF_OK);

    db_pool_hold(pool, 7);
    assert_int_equal(db_pool_get(pool, 7, 0, &a), CF_OK);
    assert_int_equal(db_pool_get(pool, 7, 0, &b), CF_OK); /* no wait */
    assert_ptr_equal(a, b);
    db_pool_put(pool, b);
    assert_int_equal(db_begin(a), CF_OK);
    assert_int_equal(db_exec(a, "INSERT INTO meta (key, value) "
                                "VALUES ('left', 'open')"),
                     CF_OK);
    db_pool_put(pool, a); /* rolled back, kept */
    assert_int_equal(db_pool_get(pool, 7, 0, &b), CF_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(query_int(b, "SELECT count(*) FROM meta "
                                  "WHERE key = 'left'"),
                     0);
    db_pool_put(pool, b);

    /* another tenant: an ordinary borrow */
    assert_int_equal(db_pool_get(pool, 8, 0, &other), CF_OK);
    assert_ptr_not_equal(other, a);
    db_pool_put(pool, other);

    /* another thread waits for the held handle, and times out */
    atomic_store(&h.got, false);
    assert_int_equal(pthread_create(&th, NULL, holder_run, &h), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(h.rc, CF_EBUSY);

    db_pool_unhold(pool);
    atomic_store(&h.got, false);
    assert_int_equal(pthread_create(&th, NULL, holder_run, &h), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(h.rc, CF_OK);
    assert_ptr_equal(h.db, a);
    db_pool_free(pool);
}

/* Two handles per tenant: two threads hold the tenant at once, a third
 * waits for one of them; forget closes both; descriptors come back. */
static void
test_pool_two_handles(void **state)
{
    struct fixture *f = *state;
    struct db_pool *pool = NULL;
    struct holder h[2];
    struct db *db = NULL;
    pthread_t th[2];
    char p[200];
    int fd0;
    int i;

    fd0 = count_fds();
    memset(h, 0, sizeof(h));
    assert_int_equal(db_pool_new(f->dir, 4, 2, 5000, &pool), CF_OK);
    assert_int_equal(db_pool_get(pool, 7, DB_POOL_CREATE, &db), CF_OK);
    assert_int_equal(db_exec(db, "INSERT INTO meta (key, value) "
                                 "VALUES ('k', 'v')"),
                     CF_OK);
    for (i = 0; i < 2; i++) {
        h[i].pool = pool;
        atomic_init(&h[i].got, false);
        atomic_init(&h[i].release, false);
    }
    /* the second thread gets its own handle at once */
    assert_int_equal(pthread_create(&th[0], NULL, holder_run, &h[0]), 0);
    for (i = 0; i < 400 && !atomic_load(&h[0].got); i++) {
        sleep_ms(5);
    }
    assert_true(atomic_load(&h[0].got));
    assert_int_equal(h[0].rc, CF_OK);
    assert_ptr_not_equal(h[0].db, db);
    assert_int_equal(db_pool_open_count(pool), 2);
    assert_int_equal(query_int(h[0].db, "SELECT count(*) FROM meta"), 1);
    assert_true(count_fds() <= fd0 + 2 * 4);

    /* a third waits: the tenant has its two handles */
    assert_int_equal(pthread_create(&th[1], NULL, holder_run, &h[1]), 0);
    sleep_ms(200);
    assert_false(atomic_load(&h[1].got));
    assert_int_equal(db_pool_open_count(pool), 2);
    assert_int_equal(db_pool_forget(pool, 7), CF_EBUSY);
    db_pool_put(pool, db);
    for (i = 0; i < 400 && !atomic_load(&h[1].got); i++) {
        sleep_ms(5);
    }
    assert_true(atomic_load(&h[1].got));
    assert_int_equal(h[1].rc, CF_OK);
    assert_ptr_equal(h[1].db, db); /* the handle put back, no third */
    assert_int_equal(db_pool_open_count(pool), 2);

    /* forget: refused while either is borrowed, then closes both */
    atomic_store(&h[1].release, true);
    assert_int_equal(pthread_join(th[1], NULL), 0);
    assert_int_equal(db_pool_forget(pool, 7), CF_EBUSY);
    atomic_store(&h[0].release, true);
    assert_int_equal(pthread_join(th[0], NULL), 0);
    assert_int_equal(db_pool_forget(pool, 7), CF_OK);
    assert_int_equal(db_pool_open_count(pool), 0);
    assert_int_equal(count_fds(), fd0);
    snprintf(p, sizeof(p), "%s/7", f->dir);
    assert_false(path_exists(p));
    assert_int_equal(db_pool_get(pool, 7, 0, &db), CF_ENOTFOUND);
    db_pool_free(pool);
}

#define STRESS_THREADS 8
#define STRESS_ROUNDS 150
#define STRESS_TENANTS 24

struct stress {
    struct db_pool *pool;
    int per_tenant;
    atomic_int holders[STRESS_TENANTS + 1];
    atomic_int violations;
    atomic_int failures;
    atomic_int inserted;
    unsigned seed;
};

static void *
stress_run(void *arg)
{
    struct stress *s = arg;
    unsigned seed =
        (unsigned)__atomic_add_fetch(&s->seed, 7919u, __ATOMIC_RELAXED);
    int i;

    for (i = 0; i < STRESS_ROUNDS; i++) {
        int64_t id = 1 + (int64_t)(rand_r(&seed) % STRESS_TENANTS);
        struct db *db = NULL;
        struct db_stmt *st = NULL;
        bool row = false;
        char key[48];

        if (db_pool_get(s->pool, id, DB_POOL_CREATE, &db) != CF_OK) {
            atomic_fetch_add(&s->failures, 1);
            continue;
        }
        if (atomic_fetch_add(&s->holders[id], 1) >= s->per_tenant) {
            atomic_fetch_add(&s->violations, 1);
        }
        snprintf(key, sizeof(key), "k-%u-%d", seed, i);
        if (db_prepare(db, "INSERT INTO meta (key, value) VALUES (?1, 'x')",
                       &st) == CF_OK &&
            db_bind_text(st, 1, key) == CF_OK && db_step(st, &row) == CF_OK) {
            atomic_fetch_add(&s->inserted, 1);
        } else {
            atomic_fetch_add(&s->failures, 1);
        }
        db_stmt_done(st);
        atomic_fetch_sub(&s->holders[id], 1);
        db_pool_put(s->pool, db);
    }
    return NULL;
}

/* Many threads, few slots: a tenant is never held by more threads than
 * it may have handles, nothing lost. */
static void
pool_threads_stress(struct fixture *f, int per_tenant)
{
    struct stress *s = calloc(1, sizeof(*s));
    pthread_t th[STRESS_THREADS];
    int64_t total = 0;
    int64_t id;
    int i;

    assert_non_null(s);
    s->seed = 12345u;
    s->per_tenant = per_tenant;
    assert_int_equal(db_pool_new(f->dir, STRESS_THREADS, (unsigned)per_tenant,
                                 5000, &s->pool),
                     CF_OK);
    for (i = 0; i < STRESS_THREADS; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, stress_run, s), 0);
    }
    for (i = 0; i < STRESS_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
    }
    assert_int_equal(atomic_load(&s->violations), 0);
    assert_int_equal(atomic_load(&s->failures), 0);
    assert_int_equal(atomic_load(&s->inserted), STRESS_THREADS * STRESS_ROUNDS);
    assert_true(db_pool_open_count(s->pool) <= STRESS_THREADS);
    for (id = 1; id <= STRESS_TENANTS; id++) {
        struct db *db = NULL;

        if (db_pool_get(s->pool, id, 0, &db) == CF_ENOTFOUND) {
            continue;
        }
        total += query_int(db, "SELECT count(*) FROM meta");
        db_pool_put(s->pool, db);
    }
    assert_int_equal(total, STRESS_THREADS * STRESS_ROUNDS);
    db_pool_free(s->pool);
    free(s);
}

static void
test_pool_threads_stress(void **state)
{
    pool_threads_stress(*state, 1);
}

static void
test_pool_threads_stress_two(void **state)
{
    pool_threads_stress(*state, 2);
}

static void
test_pool_wait_times_out(void **state)
{
    struct fixture *f = *state;
    struct db_pool *pool = NULL;
    struct db *db = NULL;
    struct db *again = NULL;
    uint64_t t0;

    /* asking twice from one thread must not hang forever */
    assert_int_equal(db_pool_new(f->dir, 4, 1, 100, &pool), CF_OK);
    assert_int_equal(db_pool_get(pool, 9, DB_POOL_CREATE, &db), CF_OK);
    t0 = cf_time_mono_ns();
    assert_int_equal(db_pool_get(pool, 9, 0, &again), CF_EBUSY);
    assert_true(cf_time_mono_ns() - t0 >= 90u * 1000000u);
    assert_null(again);
    db_pool_put(pool, db);
    db_pool_free(pool);
}

static void
test_pool_all_borrowed_ebusy(void **state)
{
    struct fixture *f = *state;
    struct db_pool *pool = NULL;
    struct db *dbs[4] = {NULL};
    struct db *fifth = NULL;
    char p[200];
    struct stat st;
    int i;

    assert_int_equal(db_pool_new(f->dir, 4, 1, 1000, &pool), CF_OK);
    for (i = 0; i < 4; i++) {
        assert_int_equal(db_pool_get(pool, i + 1, DB_POOL_CREATE, &dbs[i]),
                         CF_OK);
    }
    assert_int_equal(db_pool_open_count(pool), 4);
    assert_int_equal(db_pool_get(pool, 5, DB_POOL_CREATE, &fifth), CF_EBUSY);
    assert_null(fifth);
    snprintf(p, sizeof(p), "%s/5", f->dir);
    assert_int_not_equal(stat(p, &st), 0);

    /* one back: the fifth evicts it */
    db_pool_put(pool, dbs[1]);
    assert_int_equal(db_pool_get(pool, 5, DB_POOL_CREATE, &fifth), CF_OK);
    assert_int_equal(db_pool_open_count(pool), 4);
    db_pool_put(pool, fifth);
    db_pool_put(pool, dbs[0]);
    db_pool_put(pool, dbs[2]);
    db_pool_put(pool, dbs[3]);

    /* tenant 2 was evicted; it opens again, evicting the LRU (5) */
    assert_int_equal(db_pool_get(pool, 2, 0, &dbs[1]), CF_OK);
    assert_int_equal(db_pool_open_count(pool), 4);
    db_pool_put(pool, dbs[1]);
    db_pool_free(pool);
}

static void
test_pool_put_rolls_back(void **state)
{
    struct fixture *f = *state;
    struct db_pool *pool = NULL;
    struct db *db = NULL;

    assert_int_equal(db_pool_new(f->dir, 2, 1, 1000, &pool), CF_OK);
    assert_int_equal(db_pool_get(pool, 1, DB_POOL_CREATE, &db), CF_OK);
    assert_int_equal(db_begin(db), CF_OK);
    assert_int_equal(db_exec(db, "INSERT INTO meta (key, value) "
                                 "VALUES ('half', 'way')"),
                     CF_OK);
    db_pool_put(pool, db); /* a caller bug: rolled back, logged */
    assert_int_equal(db_pool_get(pool, 1, 0, &db), CF_OK);
    assert_false(db_in_transaction(db));
    assert_int_equal(query_int(db, "SELECT count(*) FROM meta"), 0);
    db_pool_put(pool, db);
    db_pool_free(pool);
}

static bool
path_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* Undo of a tenant creation that did not commit: files and folder go. */
static void
test_pool_forget(void **state)
{
    struct fixture *f = *state;
    struct db_pool *pool = NULL;
    struct db *db = NULL;
    char p[200];
    FILE *fp;

    assert_int_equal(db_pool_new(f->dir, 4, 1, 100, &pool), CF_OK);
    assert_int_equal(db_pool_get(pool, 3, DB_POOL_CREATE, &db), CF_OK);
    assert_int_equal(db_exec(db, "INSERT INTO meta (key, value) "
                                 "VALUES ('k', 'v')"),
                     CF_OK);

    /* borrowed: refused, nothing removed */
    assert_int_equal(db_pool_forget(pool, 3), CF_EBUSY);
    snprintf(p, sizeof(p), "%s/3/tenant.db", f->dir);
    assert_true(path_exists(p));
    db_pool_put(pool, db);

    /* idle and open: closed, files and folder removed */
    assert_int_equal(db_pool_open_count(pool), 1);
    assert_int_equal(db_pool_forget(pool, 3), CF_OK);
    assert_int_equal(db_pool_open_count(pool), 0);
    assert_false(path_exists(p));
    snprintf(p, sizeof(p), "%s/3", f->dir);
    assert_false(path_exists(p));
    assert_int_equal(db_pool_get(pool, 3, 0, &db), CF_ENOTFOUND);

    /* never created, or already gone: nothing to do */
    assert_int_equal(db_pool_forget(pool, 3), CF_OK);
    assert_int_equal(db_pool_forget(pool, 0), CF_EINVAL);

    /* evicted (not open) tenants are removed too */
    assert_int_equal(db_pool_get(pool, 4, DB_POOL_CREATE, &db), CF_OK);
    db_pool_put(pool, db);
    for (int64_t id = 10; id < 14; id++) {
        assert_int_equal(db_pool_get(pool, id, DB_POOL_CREATE, &db), CF_OK);
        db_pool_put(pool, db);
    }
    assert_int_equal(db_pool_forget(pool, 4), CF_OK);
    snprintf(p, sizeof(p), "%s/4", f->dir);
    assert_false(path_exists(p));

    /* a folder holding something else is left alone */
    assert_int_equal(db_pool_get(pool, 5, DB_POOL_CREATE, &db), CF_OK);
    db_pool_put(pool, db);
    snprintf(p, sizeof(p), "%s/5/blobs", f->dir);
    fp = fopen(p, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(db_pool_forget(pool, 5), CF_ECONFLICT);
    assert_true(path_exists(p));
    assert_int_equal(db_pool_open_count(pool), 3); /* closed all the same */
    assert_int_equal(db_pool_get(pool, 5, 0, &db), CF_ENOTFOUND);
    db_pool_free(pool);
}

/*
 * Opening a database file a second time in this process must not drop the
 * locks SQLite holds for the first handle: POSIX record locks belong to
 * the process and go with the close of any descriptor of the file. Without
 * its shared lock, another process closing its connection finds no reader
 * left, deletes the WAL and the shared memory, and this process goes on
 * reading its stale copy of the index for good (commits of the command
 * line unseen by serve). The child checks, with F_GETLK on SQLite's shared
 * lock range (sqlite.org/lockingv3.html), that this process still holds a
 * read lock there, then commits.
 */
#define SQLITE_SHARED_FIRST (0x40000000 + 2)
#define SQLITE_SHARED_SIZE 510

static void
commit_in_child(const char *path, int n)
{
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct flock fl = {.l_type = F_WRLCK,
                           .l_whence = SEEK_SET,
                           .l_start = SQLITE_SHARED_FIRST,
                           .l_len = SQLITE_SHARED_SIZE};
        struct db *c = NULL;
        char sql[100];
        int fd = open(path, O_RDWR | O_CLOEXEC);
        bool ok;

        if (fd < 0 || fcntl(fd, F_GETLK, &fl) != 0) {
            _exit(3);
        }
        if (fl.l_type != F_RDLCK || fl.l_pid != getppid()) {
            _exit(2); /* the parent holds no read lock */
        }
        snprintf(sql, sizeof(sql),
                 "INSERT OR REPLACE INTO meta (key, value) "
                 "VALUES ('x', '%d')",
                 n);
        ok = db_open(path, DB_KIND_TENANT, 1000, &c) == CF_OK &&
             db_exec(c, sql) == CF_OK;
        db_close(c);
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_second_open_keeps_locks(void **state)
{
    struct fixture *f = *state;
    struct db_pool *pool = NULL;
    struct db *a = NULL;
    struct db *b = NULL;
    char p[200];
    int i;

    assert_int_equal(db_pool_new(f->dir, 2, 1, 1000, &pool), CF_OK);
    assert_int_equal(db_pool_get(pool, 1, DB_POOL_CREATE, &a), CF_OK);
    db_pool_put(pool, a);
    db_pool_free(pool);
    snprintf(p, sizeof(p), "%s/1/tenant.db", f->dir);
    assert_int_equal(db_open(p, DB_KIND_TENANT, 1000, &a), CF_OK);
    assert_int_equal(db_open(p, DB_KIND_TENANT, 1000, &b), CF_OK);
    for (i = 1; i <= 3; i++) {
        commit_in_child(p, i);
        assert_int_equal(query_int(a, "SELECT CAST(value AS INTEGER) FROM meta "
                                      "WHERE key = 'x'"),
                         i);
        assert_int_equal(query_int(b, "SELECT CAST(value AS INTEGER) FROM meta "
                                      "WHERE key = 'x'"),
                         i);
    }
    db_close(b);
    db_close(a);
}

/* ---- data version and per-handle caches -------------------------------- */

static uint64_t
version_of(struct db *db)
{
    uint64_t v = 0;

    assert_int_equal(db_data_version(db, &v), CF_OK);
    return v;
}

/* The version moves with every commit, of this handle, of another
 * connection or of another process, at once (the WAL-index header shows
 * it without a read transaction), and with nothing else: neither reads
 * nor a rolled-back transaction. */
static void
test_data_version(void **state)
{
    struct fixture *f = *state;
    struct db_pool *pool = NULL;
    struct db *db = NULL;
    struct db *other = NULL;
    char p[200];
    uint64_t v0;
    uint64_t v1;
    uint64_t v;

    assert_int_equal(db_pool_new(f->dir, 2, 1, 1000, &pool), CF_OK);
    assert_int_equal(db_pool_get(pool, 1, DB_POOL_CREATE, &db), CF_OK);
    snprintf(p, sizeof(p), "%s/1/tenant.db", f->dir);
    assert_int_equal(db_open(p, DB_KIND_TENANT, 1000, &other), CF_OK);

    v0 = version_of(db);
    assert_int_equal(query_int(db, "SELECT count(*) FROM meta"), 0);
    assert_true(version_of(db) == v0); /* reads change nothing */

    /* its own commit */
    assert_int_equal(db_exec(db, "INSERT INTO meta (key, value) "
                                 "VALUES ('a', '1')"),
                     CF_OK);
    v1 = version_of(db);
    assert_true(v1 != v0);

    /* inside a transaction: no version (its own changes are not
     * committed yet) */
    assert_int_equal(db_begin(db), CF_OK);
    assert_int_equal(db_data_version(db, &v), CF_EBUSY);
    db_rollback(db);
    assert_true(version_of(db) == v1);

    /* another connection's commit: seen at once, in the same borrow */
    assert_int_equal(db_exec(other, "INSERT INTO meta (key, value) "
                                    "VALUES ('b', '2')"),
                     CF_OK);
    assert_true(version_of(db) != v1);
    v1 = version_of(db);
    assert_true(version_of(db) == v1);
    db_pool_put(pool, db);
    assert_int_equal(db_pool_get(pool, 1, 0, &db), CF_OK);
    assert_true(version_of(db) == v1); /* nothing committed meanwhile */

    /* another process's commit, then its close */
    commit_in_child(p, 7);
    assert_true(version_of(db) != v1);
    v1 = version_of(db);

    /* a handle outside the pool reads it on every call */
    v = version_of(other);
    assert_int_equal(db_exec(db, "DELETE FROM meta WHERE key = 'a'"), CF_OK);
    assert_true(version_of(other) != v);
    assert_true(version_of(db) != v1);

    db_close(other);
    db_pool_put(pool, db);
    db_pool_free(pool);
}

/* A cache holds what was read at one data version: the same block while
 * the version stays, zeroed when any commit (another connection's or
 * this handle's) moves it, none inside a transaction, a fixed number of
 * them per handle, wiped and freed with the handle (LeakSanitizer). */
static void
test_memo(void **state)
{
    struct fixture *f = *state;
    static const char key_a = 'a';
    static const char key_b = 'b';
    static const char keys[8] = {0};
    struct db *db = NULL;
    struct db *other = NULL;
    int *a;
    int *b;
    size_t i;
    size_t made = 0;

    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &db), CF_OK);
    assert_int_equal(db_open(f->path, DB_KIND_CONTROL, 1000, &other), CF_OK);
    a = db_memo_at(db, &key_a, sizeof(*a) * 4);
    assert_non_null(a);
    assert_int_equal(a[0] | a[1] | a[2] | a[3], 0);
    a[0] = 42;
    assert_ptr_equal(db_memo_at(db, &key_a, sizeof(*a) * 4), a);
    assert_int_equal(a[0], 42); /* same version: kept */
    b = db_memo_at(db, &key_b, sizeof(*b));
    assert_non_null(b);
    assert_ptr_not_equal(b, a);
    /* another connection commits: emptied */
    assert_int_equal(
        db_run(other, "INSERT INTO settings (key, value) VALUES ('m', '1')",
               DB_END),
        CF_OK);
    a = db_memo_at(db, &key_a, sizeof(*a) * 4);
    assert_non_null(a);
    assert_int_equal(a[0], 0);
    a[0] = 7;
    /* this handle commits: emptied too */
    assert_int_equal(
        db_run(db, "UPDATE settings SET value = '2' WHERE key = 'm'", DB_END),
        CF_OK);
    a = db_memo_at(db, &key_a, sizeof(*a) * 4);
    assert_non_null(a);
    assert_int_equal(a[0], 0);
    /* inside a transaction: none */
    assert_int_equal(db_begin(db), CF_OK);
    assert_null(db_memo_at(db, &key_a, sizeof(*a) * 4));
    db_rollback(db);
    /* a handle holds a few: past them, none */
    for (i = 0; i < sizeof(keys); i++) {
        made += db_memo_at(db, &keys[i], 16) != NULL;
    }
    assert_true(made >= 1 && made < sizeof(keys));
    db_close(other);
    db_close(db); /* wipes and frees what it holds */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_mode_and_pragmas, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_tightens_loose_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migrations_latest_and_reopen,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_id_function, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_future_version_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wrong_kind_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_constraints_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hostile_text_bound_verbatim, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stmt_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_truncate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_alloc_failures, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pool_2000_tenants, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pool_missing_and_invalid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pool_same_tenant_serialises, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pool_hold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_two_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_threads_stress, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pool_threads_stress_two, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pool_wait_times_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pool_all_borrowed_ebusy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pool_put_rolls_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pool_forget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_open_keeps_locks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_data_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo, setup, teardown),
    };

    /* expected failures log at error level; keep info lines out */
    cf_log_set_level(CF_LOG_ERROR);
    return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
