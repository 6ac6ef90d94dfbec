/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The pool of open tenant databases (COMMITMENT B2: one database file per
 * tenant, opened by tenant id only): at most `capacity` handles open at
 * once (each costs three file descriptors with WAL: the database, -wal and
 * -shm), kept in least-recently-used order. A slot (one handle) is borrowed
 * by one thread at a time. A tenant may have up to `per_tenant` slots, so
 * that threads serving the same tenant do not wait on each other: a thread
 * takes an idle handle of the tenant if there is one, else opens another
 * while the tenant has fewer than `per_tenant`, else waits on the condition
 * variable until one is put back. When the pool is full, the least
 * recently used idle slot is closed and reused; when every slot is
 * borrowed, the caller gets CF_EBUSY (503) instead of an unbounded number
 * of open files (or waits, when the tenant already has a handle that will
 * come back).
 *
 * Opening and closing (file I/O, migrations, the WAL checkpoint at close)
 * happen outside the pool mutex. While a database is being opened its slot
 * is already reserved and marked borrowed, so nobody evicts it, and other
 * threads wanting that tenant wait rather than open another handle beside
 * it: the migrations and the open hook of one tenant never run twice at
 * once in this process.
 */
#include "core/compat.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/db_int.h"

/* Far more than any sane tenant_pool setting; bounds the slot array. */
#define DB_POOL_MAX_CAPACITY 65536u
/* Longest path we build: tenants_dir + "/<id>/tenant.db". */
#define DB_POOL_PATH_MAX 4096

struct pool_slot {
    int64_t tenant_id; /* 0: free slot */
    struct db *db;     /* NULL while being opened */
    bool borrowed;
    unsigned long stamp; /* last get or put, for LRU */
};

struct db_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a slot was put back or released */
    char *dir;
    unsigned capacity;
    unsigned per_tenant; /* handles one tenant may hold */
    unsigned busy_timeout_ms;
    unsigned long stamp;
    struct pool_slot *slots;
    db_pool_open_fn on_open; /* keyed migrations (tenant/) */
    void *on_open_arg;
};

/*
 * The handle a thread keeps for one piece of work (db_pool_hold()): the
 * first get of the tenant borrows it, the next gets and puts of the same
 * thread use it without the mutex, db_pool_unhold() puts it back. Per
 * thread, so it needs no lock.
 */
struct pool_hold {
    const struct db_pool *pool; /* NULL: nothing held */
    int64_t tenant_id;
    struct db *db;  /* NULL until the first get */
    unsigned depth; /* gets not yet put */
};

static _Thread_local struct pool_hold pool_held;

static void
pool_lock(struct db_pool *pool)
{
    if (pthread_mutex_lock(&pool->mu) != 0) {
        CF_BUG("db pool: pthread_mutex_lock failed");
    }
}

static void
pool_unlock(struct db_pool *pool)
{
    if (pthread_mutex_unlock(&pool->mu) != 0) {
        CF_BUG("db pool: pthread_mutex_unlock failed");
    }
}

enum cf_rc
db_pool_new(const char *tenants_dir, unsigned capacity, unsigned per_tenant,
            unsigned busy_timeout_ms, struct db_pool **out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct db_pool *pool = NULL;
    pthread_condattr_t ca;
    bool ca_ok = false;
    bool mu_ok = false;
    bool cv_ok = false;

    if (tenants_dir == NULL || *tenants_dir == '\0' || out == NULL ||
        capacity == 0 || capacity > DB_POOL_MAX_CAPACITY || per_tenant == 0 ||
        per_tenant > DB_POOL_MAX_PER_TENANT || busy_timeout_ms > INT_MAX) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (sqlite3_threadsafe() == 0) {
        /* handles move between threads; a single-thread build cannot */
        cf_log_error("sqlite built without thread support");
        rc = CF_ERR(CF_EINTERNAL);
        goto out;
    }
    pool = cf_calloc(1, sizeof(*pool));
    if (pool == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    pool->capacity = capacity;
    pool->per_tenant = per_tenant;
    pool->busy_timeout_ms = busy_timeout_ms;
    pool->dir = cf_strdup(tenants_dir);
    pool->slots = cf_calloc(capacity, sizeof(*pool->slots));
    if (pool->dir == NULL || pool->slots == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    if (pthread_mutex_init(&pool->mu, NULL) != 0) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    mu_ok = true;
    /* waits are timed on the monotonic clock: a wall-clock jump must not
     * cut them short or make them last for hours */
    if (pthread_condattr_init(&ca) != 0) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    ca_ok = true;
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&pool->cv, &ca) != 0) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    cv_ok = true;
    *out = pool;
    pool = NULL; /* transferred */
    rc = CF_OK;
out:
    if (ca_ok) {
        pthread_condattr_destroy(&ca);
    }
    if (pool != NULL) {
        if (cv_ok) {
            pthread_cond_destroy(&pool->cv);
        }
        if (mu_ok) {
            pthread_mutex_destroy(&pool->mu);
        }
        cf_free(pool->slots);
        cf_free(pool->dir);
        cf_free(pool);
    }
    return rc;
}

void
db_pool_on_open(struct db_pool *pool, db_pool_open_fn fn, void *arg)
{
    pool->on_open = fn;
    pool->on_open_arg = arg;
}

void
db_pool_free(struct db_pool *pool)
{
    unsigned i;

    if (pool == NULL) {
        return;
    }
    for (i = 0; i < pool->capacity; i++) {
        struct pool_slot *s = &pool->slots[i];

        if (CF_NEVER(s->borrowed)) {
            /* a borrower still runs: leak its handle rather than close
             * it under its feet */
            cf_log_error("tenant pool freed with a database borrowed");
            continue;
        }
        db_close(s->db);
    }
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->mu);
    cf_free(pool->slots);
    cf_free(pool->dir);
    cf_free(pool);
}

/* What the pool holds of one tenant right now. */
struct pool_tenant {
    struct pool_slot *idle; /* the most recently used idle slot, or NULL */
    unsigned slots;         /* slots of the tenant, borrowed or not */
    bool opening;           /* one is being opened (or closed by forget) */
};

static void
pool_find(struct db_pool *pool, int64_t tenant_id, struct pool_tenant *t)
{
    unsigned i;

    memset(t, 0, sizeof(*t));
    for (i = 0; i < pool->capacity; i++) {
        struct pool_slot *s = &pool->slots[i];

        if (s->tenant_id != tenant_id) {
            continue;
        }
        t->slots++;
        if (s->db == NULL) {
            t->opening = true;
        } else if (!s->borrowed &&
                   (t->idle == NULL || s->stamp > t->idle->stamp)) {
            t->idle = s;
        }
    }
}

/*
 * A free slot, else the least recently used idle one, emptied; its handle
 * goes to *evicted for the caller to close outside the mutex. NULL when
 * every slot is borrowed.
 */
static struct pool_slot *
pool_take_slot(struct db_pool *pool, struct db **evicted)
{
    struct pool_slot *lru = NULL;
    unsigned i;

    *evicted = NULL;
    for (i = 0; i < pool->capacity; i++) {
        struct pool_slot *s = &pool->slots[i];

        if (s->tenant_id == 0) {
            return s;
        }
        if (!s->borrowed && (lru == NULL || s->stamp < lru->stamp)) {
            lru = s;
        }
    }
    if (lru != NULL) {
        *evicted = lru->db;
        lru->db = NULL;
        lru->tenant_id = 0;
    }
    return lru;
}

/* Deadline busy_timeout_ms from now on the monotonic clock. */
static void
pool_deadline(const struct db_pool *pool, struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(pool->busy_timeout_ms / 1000u);
    ts->tv_nsec += (long)(pool->busy_timeout_ms % 1000u) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Open (or with DB_POOL_CREATE create) tenants_dir/<id>/tenant.db. */
static enum cf_rc
pool_open_tenant(struct db_pool *pool, int64_t tenant_id, unsigned flags,
                 struct db **out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct cf_buf path;
    bool create = (flags & DB_POOL_CREATE) != 0;

    cf_buf_init(&path, DB_POOL_PATH_MAX);
    rc = cf_buf_addf(&path, "%s/%lld", pool->dir, (long long)tenant_id);
    if (rc != CF_OK) {
        goto out;
    }
    if (create && mkdir(cf_buf_str(&path), 0700) != 0 && errno != EEXIST) {
        cf_log_error("cannot create tenant directory", "dir", cf_buf_str(&path),
                     "errno", strerror(errno));
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    rc = cf_buf_adds(&path, "/tenant.db");
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_open_mode(cf_buf_str(&path), DB_KIND_TENANT, pool->busy_timeout_ms,
                      create, out);
    if (rc != CF_OK) {
        goto out;
    }
    if (pool->on_open != NULL) {
        rc = pool->on_open(*out, tenant_id, pool->on_open_arg);
        if (rc != CF_OK) {
            db_close(*out);
            *out = NULL;
            goto out;
        }
    }
    rc = CF_OK;
out:
    cf_buf_release(&path);
    return rc;
}

/* The id is formatted only when there is something to say: a borrow
 * that succeeds formats nothing. */
static void
pool_warn(const char *msg, int64_t tenant_id)
{
    char id[24];

    snprintf(id, sizeof(id), "%lld", (long long)tenant_id);
    cf_log_warn(msg, "tenant_id", id);
}

enum cf_rc
db_pool_get(struct db_pool *pool, int64_t tenant_id, unsigned flags,
            struct db **out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct pool_slot *slot = NULL;
    struct db *db = NULL;
    struct db *evicted = NULL;
    struct timespec deadline;
    bool locked = false;
    int err;

    if (pool == NULL || out == NULL || tenant_id <= 0 ||
        (flags & ~(unsigned)DB_POOL_CREATE) != 0) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (pool_held.pool == pool && pool_held.tenant_id == tenant_id &&
        pool_held.db != NULL) {
        pool_held.depth++;
        *out = pool_held.db;
        return CF_OK;
    }
    pool_deadline(pool, &deadline);
    pool_lock(pool);
    locked = true;
    for (;;) {
        struct pool_tenant t;

        pool_find(pool, tenant_id, &t);
        if (t.idle != NULL) {
            slot = t.idle;
            slot->borrowed = true;
            slot->stamp = ++pool->stamp;
            slot->db->version_known = false; /* read again once a borrow */
            *out = slot->db;
            rc = CF_OK;
            goto out;
        }
        if (t.slots < pool->per_tenant && !t.opening) {
            slot = pool_take_slot(pool, &evicted);
            if (slot != NULL) {
                break;
            }
            if (t.slots == 0) {
                pool_warn("tenant pool exhausted: every slot is borrowed",
                          tenant_id);
                rc = CF_ERR(CF_EBUSY);
                goto out;
            }
            /* the pool is full, but the tenant's own handles come back */
        }
        /* every handle of the tenant held by other threads (or one being
         * opened): wait for a put; the slots may be gone when we wake, so
         * look again */
        err = pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline);
        if (err == ETIMEDOUT) {
            pool_warn("tenant database held too long", tenant_id);
            rc = CF_ERR(CF_EBUSY);
            goto out;
        }
    }
    slot->tenant_id = tenant_id;
    slot->db = NULL;
    slot->borrowed = true;
    slot->stamp = ++pool->stamp;
    pool_unlock(pool); /* no goto until it is taken again below */

    db_close(evicted);
    evicted = NULL;
    rc = pool_open_tenant(pool, tenant_id, flags, &db);

    pool_lock(pool);
    locked = true;
    if (rc != CF_OK) {
        /* release the reservation and wake threads waiting for it */
        slot->tenant_id = 0;
        slot->borrowed = false;
        pthread_cond_broadcast(&pool->cv);
        goto out;
    }
    db->pool_slot = (int)(slot - pool->slots);
    slot->db = db;
    if (pool->per_tenant > 1) {
        /* threads waiting for this open may now open another handle */
        pthread_cond_broadcast(&pool->cv);
    }
    *out = db;
    db = NULL; /* transferred */
    rc = CF_OK;
out:
    if (locked) {
        pool_unlock(pool);
    }
    db_close(evicted);
    if (rc == CF_OK && pool_held.pool == pool &&
        pool_held.tenant_id == tenant_id && pool_held.db == NULL) {
        pool_held.db = *out; /* kept until db_pool_unhold() */
        pool_held.depth = 1;
    }
    return rc;
}

/* Give db back to the pool (the mutex not held). */
static void
pool_give_back(struct db_pool *pool, struct db *db)
{
    struct pool_slot *s;

    pool_lock(pool);
    if (CF_NEVER(db->pool_slot < 0 ||
                 (unsigned)db->pool_slot >= pool->capacity)) {
        pool_unlock(pool);
        return;
    }
    s = &pool->slots[db->pool_slot];
    if (CF_NEVER(s->db != db || !s->borrowed)) {
        pool_unlock(pool);
        return;
    }
    s->borrowed = false;
    s->stamp = ++pool->stamp;
    db->version_known = false;
    pthread_cond_broadcast(&pool->cv);
    pool_unlock(pool);
}

void
db_pool_put(struct db_pool *pool, struct db *db)
{
    if (pool == NULL || db == NULL) {
        return;
    }
    if (db_in_transaction(db)) {
        /* a caller bug; never hand an open transaction to the next one */
        cf_log_error("tenant database put back inside a transaction", "db",
                     db->path);
        db_rollback(db);
    }
    if (pool_held.pool == pool && pool_held.db == db) {
        if (CF_NEVER(pool_held.depth == 0)) {
            return;
        }
        pool_held.depth--; /* kept until db_pool_unhold() */
        return;
    }
    pool_give_back(pool, db);
}

void
db_pool_hold(struct db_pool *pool, int64_t tenant_id)
{
    if (pool == NULL || tenant_id <= 0 || CF_NEVER(pool_held.pool != NULL)) {
        return;
    }
    pool_held = (struct pool_hold){.pool = pool, .tenant_id = tenant_id};
}

void
db_pool_unhold(struct db_pool *pool)
{
    struct db *db = pool_held.db;

    if (pool == NULL || pool_held.pool != pool) {
        return;
    }
    if (db != NULL && CF_NEVER(pool_held.depth != 0)) {
        /* a get without its put: what it left open is rolled back */
        cf_log_error("tenant database still in use at the end of its hold",
                     "db", db->path);
    }
    pool_held = (struct pool_hold){0};
    if (db != NULL) {
        if (db_in_transaction(db)) {
            db_rollback(db);
        }
        pool_give_back(pool, db);
    }
}

/*
 * Remove tenants/<id>/: the database files SQLite may have made, then the
 * (now empty) folder. Called with the pool mutex held, so no thread can
 * reserve the tenant and open it half-way through. Unlinks do not sync, so
 * this is quick. Anything else left in the folder: CF_ECONFLICT, the
 * folder stays (this undoes a creation; it is not a recursive delete).
 */
static enum cf_rc
pool_remove_files(struct db_pool *pool, int64_t tenant_id, const char *id)
{
    static const char *const files[] = {"tenant.db", "tenant.db-wal",
                                        "tenant.db-shm", "tenant.db-journal"};
    enum cf_rc rc = CF_EINTERNAL;
    struct cf_buf path;
    size_t i;

    cf_buf_init(&path, DB_POOL_PATH_MAX);
    for (i = 0; i < CF_ARRAY_LEN(files); i++) {
        cf_buf_reset(&path);
        rc = cf_buf_addf(&path, "%s/%lld/%s", pool->dir, (long long)tenant_id,
                         files[i]);
        if (rc != CF_OK) {
            goto out;
        }
        if (unlink(cf_buf_str(&path)) != 0 && errno != ENOENT) {
            cf_log_error("cannot remove tenant database file", "tenant_id", id,
                         "file", files[i], "errno", strerror(errno));
            rc = CF_ERR(CF_EIO);
            goto out;
        }
    }
    cf_buf_reset(&path);
    rc = cf_buf_addf(&path, "%s/%lld", pool->dir, (long long)tenant_id);
    if (rc != CF_OK) {
        goto out;
    }
    if (rmdir(cf_buf_str(&path)) != 0 && errno != ENOENT) {
        if (errno == ENOTEMPTY || errno == EEXIST) {
            cf_log_warn("tenant directory not empty, left in place",
                        "tenant_id", id);
            rc = CF_ERR(CF_ECONFLICT);
            goto out;
        }
        cf_log_error("cannot remove tenant directory", "tenant_id", id, "errno",
                     strerror(errno));
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    rc = CF_OK;
out:
    cf_buf_release(&path);
    return rc;
}

enum cf_rc
db_pool_forget(struct db_pool *pool, int64_t tenant_id)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct pool_slot *held[DB_POOL_MAX_PER_TENANT];
    struct db *dbs[DB_POOL_MAX_PER_TENANT];
    unsigned n = 0;
    unsigned i;
    bool locked = false;
    char id[24];

    if (pool == NULL || tenant_id <= 0) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    snprintf(id, sizeof(id), "%lld", (long long)tenant_id);
    pool_lock(pool);
    locked = true;
    for (i = 0; i < pool->capacity; i++) {
        struct pool_slot *s = &pool->slots[i];

        if (s->tenant_id != tenant_id) {
            continue;
        }
        if (s->borrowed) {
            rc = CF_ERR(CF_EBUSY);
            goto out;
        }
        if (CF_NEVER(n == DB_POOL_MAX_PER_TENANT)) {
            rc = CF_ERR(CF_EINTERNAL);
            goto out;
        }
        held[n++] = s;
    }
    if (n > 0) {
        /* keep the slots reserved while the handles close (a WAL
         * checkpoint: slow, so outside the mutex); a thread asking for
         * this tenant meanwhile waits, then finds it gone */
        for (i = 0; i < n; i++) {
            dbs[i] = held[i]->db;
            held[i]->db = NULL;
            held[i]->borrowed = true;
        }
        pool_unlock(pool); /* no goto until it is taken again below */
        for (i = 0; i < n; i++) {
            db_close(dbs[i]);
            dbs[i] = NULL;
        }
        pool_lock(pool);
        locked = true;
    }
    rc = pool_remove_files(pool, tenant_id, id);
    for (i = 0; i < n; i++) {
        held[i]->tenant_id = 0;
        held[i]->borrowed = false;
    }
    if (n > 0) {
        pthread_cond_broadcast(&pool->cv);
    }
    if (rc != CF_OK) {
        goto out;
    }
    rc = CF_OK;
out:
    if (locked) {
        pool_unlock(pool);
    }
    return rc;
}

unsigned
db_pool_open_count(struct db_pool *pool)
{
    unsigned i;
    unsigned n = 0;

    pool_lock(pool);
    for (i = 0; i < pool->capacity; i++) {
        if (pool->slots[i].tenant_id != 0) {
            n++;
        }
    }
    pool_unlock(pool);
    return n;
}

enum cf_rc
db_pool_begin(struct db_pool *pool, int64_t tenant_id, struct db **out)
{
    enum cf_rc rc;

    *out = NULL;
    rc = db_pool_get(pool, tenant_id, 0, out);
    if (rc == CF_OK) {
        rc = db_begin(*out);
        if (rc != CF_OK) {
            db_pool_put(pool, *out);
            *out = NULL;
        }
    }
    return rc;
}

enum cf_rc
db_pool_end(struct db_pool *pool, struct db *db, enum cf_rc rc)
{
    if (db == NULL) {
        return rc;
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
    }
    if (rc != CF_OK) {
        db_rollback(db);
    }
    db_pool_put(pool, db);
    return rc;
}
