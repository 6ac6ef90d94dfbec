/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The tenant registry in control.db, and tenant creation: row, wrapped data
 * key, tenant database and audit events commit together or not at all.
 */
#include "core/compat.h"

#include <pthread.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "tenant/tenant.h"

static void
tenant_from_row(struct db_stmt *st, struct tenant *t)
{
    t->id = db_col_int64(st, 0);
    cf_strlcpy(t->slug, db_col_text(st, 1), sizeof(t->slug));
    cf_strlcpy(t->name, db_col_text(st, 2), sizeof(t->name));
    cf_strlcpy(t->created, db_col_text(st, 3), sizeof(t->created));
    cf_strlcpy(t->state, db_col_text(st, 4), sizeof(t->state));
    t->key_version = 0;
}

/*
 * The tenants found by slug on the control handle, valid for one data
 * version of control.db (db_data_version): any commit to it (a tenant
 * created, renamed, suspended, a key added; by this process or another,
 * such as `coffre tenant` while serve runs) moves the version and empties
 * the cache, so the next request reads the table again. A hit costs one
 * read of the version instead of a query. Unknown slugs are never kept.
 * The handle is used under db_lock() only, so the cache needs no lock of
 * its own.
 */
#define TENANT_MEMO_SLOTS 64

struct tenant_memo {
    unsigned long stamp;
    struct {
        unsigned long stamp; /* 0: free */
        struct tenant t;
    } e[TENANT_MEMO_SLOTS];
};

static const char tenant_memo_key;

/* control's cache at its current data version, emptied if the version
 * moved; NULL when none can be used (inside a transaction, out of
 * memory): the caller reads the table. Called under db_lock(control). */
static struct tenant_memo *
tenant_memo_at(struct db *control)
{
    return db_memo_at(control, &tenant_memo_key, sizeof(struct tenant_memo));
}

static const struct tenant *
tenant_memo_find(struct tenant_memo *m, const char *slug)
{
    size_t i;

    for (i = 0; i < TENANT_MEMO_SLOTS; i++) {
        if (m->e[i].stamp != 0 && strcmp(m->e[i].t.slug, slug) == 0) {
            m->e[i].stamp = ++m->stamp;
            return &m->e[i].t;
        }
    }
    return NULL;
}

static void
tenant_memo_put(struct tenant_memo *m, const struct tenant *t)
{
    size_t victim = 0;
    size_t i;

    for (i = 0; i < TENANT_MEMO_SLOTS; i++) {
        if (m->e[i].stamp < m->e[victim].stamp) {
            victim = i;
        }
    }
    m->e[victim].t = *t;
    m->e[victim].stamp = ++m->stamp;
}

enum cf_rc
tenant_find(struct db *control, const char *slug, struct tenant *out)
{
    struct db_stmt *st = NULL;
    struct tenant_memo *m = NULL;
    const struct tenant *hit;
    enum cf_rc rc = CF_EINTERNAL;
    bool row = false;
    struct tenant t;

    db_lock(control);
    m = tenant_memo_at(control);
    hit = m != NULL ? tenant_memo_find(m, slug) : NULL;
    if (hit != NULL) {
        *out = *hit;
        rc = CF_OK;
        goto out;
    }
    rc = db_prepare(control,
                    "SELECT id, slug, name, created, state, "
                    "(SELECT max(version) FROM tenant_keys "
                    "WHERE tenant_id = tenants.id) FROM tenants "
                    "WHERE slug = ?1 AND state = 'active'",
                    &st);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_bind_text(st, 1, slug);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_step(st, &row);
    if (rc != CF_OK) {
        goto out;
    }
    if (!row) {
        rc = CF_ENOTFOUND;
        goto out;
    }
    tenant_from_row(st, &t);
    t.key_version = db_col_int64(st, 5); /* NULL (no key) reads as 0 */
    if (m != NULL) {
        tenant_memo_put(m, &t);
    }
    *out = t;
    rc = CF_OK;
out:
    if (st != NULL) {
        db_stmt_done(st);
    }
    db_unlock(control);
    return rc;
}

enum cf_rc
tenant_each(struct db *control, tenant_each_fn fn, void *arg)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc = CF_EINTERNAL;
    bool row = false;
    struct tenant t;

    db_lock(control);
    rc = db_prepare(control,
                    "SELECT id, slug, name, created, state FROM tenants "
                    "ORDER BY slug",
                    &st);
    if (rc != CF_OK) {
        goto out;
    }
    for (;;) {
        rc = db_step(st, &row);
        if (rc != CF_OK || !row) {
            break;
        }
        tenant_from_row(st, &t);
        rc = fn(&t, arg);
        if (rc != CF_OK) {
            break;
        }
    }
out:
    if (st != NULL) {
        db_stmt_done(st);
    }
    db_unlock(control);
    return rc;
}

/* Recently used keysets, so a request does not unwrap its tenant's key
 * and derive sub-keys again (see crypto/keyset.c). Keyed by tenant and
 * key version: a new version replaces the entry. */
#define KEY_CACHE_SLOTS 64

static struct {
    pthread_mutex_t mu;
    uint64_t clock;
    struct {
        int64_t tenant_id;
        int64_t version;
        uint64_t used;
        struct cx_keyset *ks;
    } slot[KEY_CACHE_SLOTS];
} key_cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* A new reference to the cached keyset of (tenant_id, version), or NULL. */
static struct cx_keyset *
key_cache_get(int64_t tenant_id, int64_t version)
{
    struct cx_keyset *ks = NULL;
    size_t i;

    pthread_mutex_lock(&key_cache.mu);
    for (i = 0; i < KEY_CACHE_SLOTS; i++) {
        if (key_cache.slot[i].ks != NULL &&
            key_cache.slot[i].tenant_id == tenant_id &&
            key_cache.slot[i].version == version) {
            key_cache.slot[i].used = ++key_cache.clock;
            ks = cx_keyset_ref(key_cache.slot[i].ks);
            break;
        }
    }
    pthread_mutex_unlock(&key_cache.mu);
    return ks;
}

/* Keep a reference to ks for (tenant_id, version), in place of the
 * tenant's older entry or else the least recently used one. */
static void
key_cache_put(int64_t tenant_id, int64_t version, struct cx_keyset *ks)
{
    struct cx_keyset *old;
    size_t victim = 0;
    size_t i;

    pthread_mutex_lock(&key_cache.mu);
    for (i = 0; i < KEY_CACHE_SLOTS; i++) {
        if (key_cache.slot[i].ks == NULL ||
            key_cache.slot[i].tenant_id == tenant_id) {
            victim = i;
            break;
        }
        if (key_cache.slot[i].used < key_cache.slot[victim].used) {
            victim = i;
        }
    }
    old = key_cache.slot[victim].ks;
    key_cache.slot[victim].tenant_id = tenant_id;
    key_cache.slot[victim].version = version;
    key_cache.slot[victim].used = ++key_cache.clock;
    key_cache.slot[victim].ks = cx_keyset_ref(ks);
    pthread_mutex_unlock(&key_cache.mu);
    cx_keyset_unref(old);
}

void
tenant_keys_forget(void)
{
    size_t i;

    pthread_mutex_lock(&key_cache.mu);
    for (i = 0; i < KEY_CACHE_SLOTS; i++) {
        cx_keyset_unref(key_cache.slot[i].ks);
        key_cache.slot[i].ks = NULL;
    }
    pthread_mutex_unlock(&key_cache.mu);
}

/* The keyset of tenant_id's key version want (0: the newest), from the
 * cache or unwrapped from control.db and cached. */
static enum cf_rc
tenant_keys_read(struct db *control, const struct cx_keyring *kr,
                 int64_t tenant_id, int64_t want, struct cx_keyset **out)
{
    struct db_stmt *st = NULL;
    struct cx_data_key *key = NULL;
    struct cx_keyset *ks = NULL;
    enum cf_rc rc = CF_EINTERNAL;
    bool row = false;
    const void *wrapped;
    size_t len = 0;
    int64_t version = 0;
    bool hit = false;

    db_lock(control);
    rc = db_prepare(control,
                    "SELECT version, wrapped FROM tenant_keys "
                    "WHERE tenant_id = ?1 AND (?2 = 0 OR version = ?2) "
                    "ORDER BY version DESC LIMIT 1",
                    &st);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_bind_int64(st, 1, tenant_id);
    if (rc == CF_OK) {
        rc = db_bind_int64(st, 2, want);
    }
    if (rc == CF_OK) {
        rc = db_step(st, &row);
    }
    if (rc != CF_OK) {
        goto out;
    }
    if (!row) {
        rc = CF_ERR(CF_ENOTFOUND);
        goto out;
    }
    version = db_col_int64(st, 0);
    if (version < 1 || version > UINT32_MAX) {
        rc = CF_ERR(CF_ECRYPTO);
        goto out;
    }
    ks = key_cache_get(tenant_id, version);
    if (ks != NULL) {
        hit = true;
        goto out;
    }
    wrapped = db_col_blob(st, 1, &len);
    rc = cx_data_key_unwrap(kr, wrapped, len, tenant_id, (uint32_t)version,
                            &key);
    if (rc == CF_OK) {
        rc = cx_keyset_new(key, &ks);
    }
out:
    if (st != NULL) {
        db_stmt_done(st);
    }
    db_unlock(control);
    if (rc == CF_OK) {
        if (!hit) {
            key_cache_put(tenant_id, version, ks);
        }
        *out = ks;
    }
    return rc;
}

enum cf_rc
tenant_keys_open(struct db *control, const struct cx_keyring *kr,
                 int64_t tenant_id, struct cx_keyset **out)
{
    return tenant_keys_read(control, kr, tenant_id, 0, out);
}

enum cf_rc
tenant_keys_get(struct db *control, const struct cx_keyring *kr,
                const struct tenant *t, struct cx_keyset **out)
{
    struct cx_keyset *ks;

    if (t->key_version > 0) {
        ks = key_cache_get(t->id, t->key_version);
        if (ks != NULL) {
            *out = ks;
            return CF_OK;
        }
    }
    return tenant_keys_read(control, kr, t->id, t->key_version, out);
}

enum cf_rc
tenant_count(struct db *control, int64_t *out)
{
    enum cf_rc rc;

    db_lock(control);
    rc = db_query_int64(control, "SELECT count(*) FROM tenants", out);
    db_unlock(control);
    return rc;
}

/* Insert the tenant row and its first wrapped key; *id_out on success. */
static enum cf_rc
tenant_insert(struct db *control, const struct cx_keyring *kr,
              const struct cx_data_key *key, const char *slug, const char *name,
              const char *created, int64_t *id_out)
{
    struct db_stmt *st = NULL;
    unsigned char wrapped[CX_WRAPPED_KEY_BYTES];
    enum cf_rc rc = CF_EINTERNAL;
    bool row = false;
    int64_t id;

    rc = db_prepare(control,
                    "INSERT INTO tenants (slug, name, created, state) "
                    "VALUES (?1, ?2, ?3, 'active')",
                    &st);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_bind_text(st, 1, slug);
    if (rc == CF_OK) {
        rc = db_bind_text(st, 2, name);
    }
    if (rc == CF_OK) {
        rc = db_bind_text(st, 3, created);
    }
    if (rc == CF_OK) {
        rc = db_step(st, &row);
    }
    db_stmt_done(st);
    st = NULL;
    if (rc != CF_OK) {
        goto out;
    }
    id = db_last_insert_id(control);

    rc = cx_data_key_wrap(kr, key, id, 1, wrapped);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_prepare(control,
                    "INSERT INTO tenant_keys (tenant_id, version, wrapped, "
                    "created) VALUES (?1, 1, ?2, ?3)",
                    &st);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_bind_int64(st, 1, id);
    if (rc == CF_OK) {
        rc = db_bind_blob(st, 2, wrapped, sizeof(wrapped));
    }
    if (rc == CF_OK) {
        rc = db_bind_text(st, 3, created);
    }
    if (rc == CF_OK) {
        rc = db_step(st, &row);
    }
    if (rc != CF_OK) {
        goto out;
    }
    *id_out = id;
    rc = CF_OK;
out:
    if (st != NULL) {
        db_stmt_done(st);
    }
    return rc;
}

/* Initialise the new tenant's own database: its identity and first event. */
static enum cf_rc
tenant_db_init(struct db_pool *pool, const struct cx_data_key *key, int64_t id,
               const char *slug, const char *principal)
{
    struct db *tdb = NULL;
    struct db_stmt *st = NULL;
    struct cx_data_key *audit_key = NULL;
    enum cf_rc rc = CF_EINTERNAL;
    bool row = false;
    bool in_tx = false;
    char target[64];
    struct audit_event ev = {0};

    rc = cx_data_key_derive(key, CX_SUBKEY_AUDIT, &audit_key);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_pool_get(pool, id, DB_POOL_CREATE, &tdb);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_begin(tdb);
    if (rc != CF_OK) {
        goto out;
    }
    in_tx = true;
    rc = db_prepare(
        tdb, "INSERT INTO meta (key, value) VALUES ('tenant_slug', ?1)", &st);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_bind_text(st, 1, slug);
    if (rc == CF_OK) {
        rc = db_step(st, &row);
    }
    if (rc != CF_OK) {
        goto out;
    }
    snprintf(target, sizeof(target), "tenant:%lld", (long long)id);
    ev.principal = principal;
    ev.action = "tenant.create";
    ev.target = target;
    ev.success = true;
    rc = audit_append(tdb, audit_key, &ev);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_commit(tdb);
    if (rc != CF_OK) {
        goto out;
    }
    in_tx = false;
    rc = CF_OK;
out:
    if (st != NULL) {
        db_stmt_done(st);
    }
    if (in_tx) {
        db_rollback(tdb);
    }
    if (tdb != NULL) {
        db_pool_put(pool, tdb);
    }
    cx_data_key_free(audit_key);
    return rc;
}

enum cf_rc
tenant_create(struct db *control, struct db_pool *pool,
              const struct cx_keyring *kr, const char *slug, const char *name,
              const char *principal, struct tenant *out)
{
    struct cx_data_key *key = NULL;
    enum cf_rc rc = CF_EINTERNAL;
    bool in_tx = false;
    const char *reason = NULL;
    char created[CF_TIME_RFC3339_LEN];
    char target[64];
    char details[128];
    int64_t id = 0;
    struct audit_event ev = {0};
    struct tenant t = {0};

    rc = tenant_slug_check(slug, &reason);
    if (rc != CF_OK) {
        return rc;
    }
    if (name == NULL || name[0] == '\0') {
        name = slug;
    }
    if (strlen(name) > TENANT_NAME_MAX) {
        return CF_ERR(CF_EINVAL);
    }
    cf_time_rfc3339(created);
    rc = cx_data_key_new(&key);
    if (rc != CF_OK) {
        return rc;
    }
    db_lock(control);
    rc = db_begin(control);
    if (rc != CF_OK) {
        goto out;
    }
    in_tx = true;
    rc = tenant_insert(control, kr, key, slug, name, created, &id);
    if (rc != CF_OK) {
        goto out;
    }
    snprintf(target, sizeof(target), "tenant:%lld", (long long)id);
    snprintf(details, sizeof(details), "{\"slug\":\"%s\",\"key_version\":1}",
             slug); /* slug is [a-z0-9-] only: no escaping needed */
    ev.principal = principal;
    ev.action = "tenant.create";
    ev.target = target;
    ev.success = true;
    ev.details = details;
    rc = audit_append(control, NULL, &ev);
    if (rc != CF_OK) {
        goto out;
    }
    rc = tenant_db_init(pool, key, id, slug, principal);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_commit(control);
    if (rc != CF_OK) {
        goto out;
    }
    in_tx = false;
    t.id = id;
    cf_strlcpy(t.slug, slug, sizeof(t.slug));
    cf_strlcpy(t.name, name, sizeof(t.name));
    cf_strlcpy(t.created, created, sizeof(t.created));
    cf_strlcpy(t.state, "active", sizeof(t.state));
    t.key_version = 1;
    *out = t;
    rc = CF_OK;
out:
    if (in_tx) {
        db_rollback(control);
        if (id > 0) {
            /* the id is reused by the next insert: leave no stale files */
            if (db_pool_forget(pool, id) != CF_OK) {
                cf_log_warn("cannot remove files of uncreated tenant", "slug",
                            slug);
            }
        }
    }
    db_unlock(control);
    cx_data_key_free(key);
    return rc;
}
