/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Spaces (COMMITMENT B1): created with space.manage tenant-wide; seen
 * with doc.read there; renamed and deleted with space.manage there. The
 * name is sealed, bound to the space's id (invariant 3). A space the
 * principal cannot read answers exactly like one that does not exist.
 */
#include "core/compat.h"

#include "audit/audit.h"
#include "crypto/crypto.h"
#include "db/db.h"
#include "docs/docs.h"

#define SPACE_AD_MAX 64

/* "spaces.name:<id>", or 0 when it does not fit (the seal then fails).
 * Copied, not formatted: it is built for every space of a list. */
static size_t
space_ad(const char *id, char out[SPACE_AD_MAX])
{
    static const char prefix[] = "spaces.name:";
    size_t plen = sizeof(prefix) - 1;
    size_t ilen = strlen(id);

    if (ilen >= SPACE_AD_MAX - plen) {
        return 0;
    }
    memcpy(out, prefix, plen);
    memcpy(out + plen, id, ilen + 1);
    return plen + ilen;
}

static enum cf_rc
field_key(const struct cf_ctx *ctx, const struct cx_data_key **out)
{
    return cx_keyset_sub(ctx->keys, CX_SUBKEY_FIELD, out);
}

/* The clear name of a sealed one into out. */
static enum cf_rc
space_open(const struct cf_ctx *ctx, const char *id, const void *sealed,
           size_t len, char *out, size_t cap)
{
    const struct cx_data_key *k = NULL;
    char ad[SPACE_AD_MAX];
    struct cf_buf clear;
    enum cf_rc rc;

    cf_buf_init(&clear, cap);
    rc = field_key(ctx, &k);
    if (rc == CF_OK) {
        rc = cx_field_open(k, ad, space_ad(id, ad), sealed, len, &clear);
    }
    if (rc == CF_OK) {
        cf_strlcpy(out, cf_buf_str(&clear), cap);
    }
    cf_buf_release(&clear);
    return rc;
}

/* ---- what the principal holds in each space --------------------------- */

/* The spaces where a grant reaches the principal: most principals have a
 * few, kept in the struct; past HELD_INLINE, a heap array that holds
 * every space a tenant may have. */
#define HELD_INLINE 16

struct held_space {
    char id[AUTHZ_ID_LEN + 1];
    authz_mask mask;
};

struct held {
    authz_mask tenant;
    authz_mask narrow; /* a token's permissions, or all */
    size_t n;
    struct held_space *space; /* inline, or on the heap past HELD_INLINE */
    struct held_space inline_space[HELD_INLINE];
};

static enum cf_rc
held_add(const char *space, authz_mask perms, void *arg)
{
    struct held *h = arg;

    if (h->n >= DOCS_SPACES_MAX) {
        return CF_OK;
    }
    if (h->n == HELD_INLINE && h->space == h->inline_space) {
        struct held_space *big = cf_malloc(DOCS_SPACES_MAX * sizeof(*h->space));

        if (big == NULL) {
            return CF_ERR(CF_ENOMEM);
        }
        memcpy(big, h->inline_space, sizeof(h->inline_space));
        h->space = big;
    }
    cf_strlcpy(h->space[h->n].id, space, sizeof(h->space[h->n].id));
    h->space[h->n].mask = perms;
    h->n++;
    return CF_OK;
}

static void
held_release(struct held *h)
{
    if (h->space != h->inline_space) {
        cf_free(h->space);
    }
    h->space = h->inline_space;
}

static enum cf_rc
held_load(const struct cf_ctx *ctx, struct held *h)
{
    /* not zeroed: entries are written before they are read (h->n) */
    h->tenant = 0;
    h->n = 0;
    h->space = h->inline_space;
    h->narrow = ctx->token_perms != NULL ? authz_list_mask(ctx->token_perms)
                                         : ~(authz_mask)0;
    return authz_effective(ctx, ctx->user_id, ctx->role, &h->tenant, held_add,
                           h);
}

static authz_mask
held_in(const struct held *h, const char *id)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        if (strcmp(h->space[i].id, id) == 0) {
            return h->space[i].mask & h->narrow;
        }
    }
    return h->tenant & h->narrow;
}

/* ---- reads ------------------------------------------------------------ */

#define SQL_SPACE "SELECT public_id, name_sealed, created FROM spaces"

static enum cf_rc
space_row(const struct cf_ctx *ctx, const char *id, const void *sealed,
          size_t len, int64_t created, authz_mask perms, struct docs_space *out)
{
    memset(out, 0, sizeof(*out));
    cf_strlcpy(out->id, id, sizeof(out->id));
    out->created = created;
    out->perms = perms;
    return space_open(ctx, out->id, sealed, len, out->name, sizeof(out->name));
}

/*
 * The rows of the list kept on a tenant's handle for one data version of
 * its database (db_memo_at), as the sessions are: any commit to it (a
 * space created, renamed or deleted, by this process or another) empties
 * it, and the next list reads the table again. Only what the table
 * holds: ids, creation times and sealed names, opened again on every
 * list (never kept clear); what the principal holds in each space is
 * decided again each time. A tenant with more spaces than fit reads the
 * table every time.
 */
#define SPACES_MEMO_ROWS 32
#define SPACE_SEALED_MAX (4 * DOCS_SPACE_NAME_MAX + CX_FIELD_OVERHEAD)

struct spaces_memo {
    bool read; /* the whole table was read at this version... */
    bool fits; /* ...and fitted */
    size_t n;
    struct {
        char id[AUTHZ_ID_LEN + 1];
        int64_t created;
        size_t len;
        unsigned char sealed[SPACE_SEALED_MAX];
    } e[SPACES_MEMO_ROWS];
};

static const char spaces_memo_key;

/* Keep one row read from the table; a row that does not fit spoils the
 * memo for this version. */
static void
spaces_memo_add(struct spaces_memo *m, const char *id, const void *sealed,
                size_t len, int64_t created)
{
    if (m->n >= SPACES_MEMO_ROWS || len > sizeof(m->e[0].sealed) ||
        strlen(id) >= sizeof(m->e[0].id)) {
        m->fits = false;
        return;
    }
    cf_strlcpy(m->e[m->n].id, id, sizeof(m->e[m->n].id));
    m->e[m->n].created = created;
    m->e[m->n].len = len;
    memcpy(m->e[m->n].sealed, sealed, len);
    m->n++;
}

/* Each space of the tenant, oldest first, from the memo when it holds the
 * table at the database's version, else from the table (filling the
 * memo). */
typedef enum cf_rc (*space_raw_fn)(const char *id, const void *sealed,
                                   size_t len, int64_t created, void *arg);

static enum cf_rc
spaces_rows(struct db *db, space_raw_fn fn, void *arg)
{
    struct spaces_memo *m =
        db_memo_at(db, &spaces_memo_key, sizeof(struct spaces_memo));
    struct db_stmt *st = NULL;
    enum cf_rc rc;
    bool row = false;
    size_t i;

    if (m != NULL && m->read && m->fits) {
        rc = CF_OK;
        for (i = 0; rc == CF_OK && i < m->n; i++) {
            rc = fn(m->e[i].id, m->e[i].sealed, m->e[i].len, m->e[i].created,
                    arg);
        }
        return rc;
    }
    if (m != NULL) {
        m->read = false;
        m->fits = true;
        m->n = 0;
    }
    rc = db_prepare(db, SQL_SPACE " ORDER BY id", &st);
    while (rc == CF_OK && (rc = db_step(st, &row)) == CF_OK && row) {
        const char *id = db_col_text(st, 0);
        size_t len = 0;
        const void *sealed = db_col_blob(st, 1, &len);
        int64_t created = db_col_int64(st, 2);

        if (m != NULL) {
            spaces_memo_add(m, id, sealed, len, created);
        }
        rc = fn(id, sealed, len, created, arg);
    }
    db_stmt_done(st);
    if (m != NULL) {
        m->read = rc == CF_OK;
    }
    return rc;
}

struct spaces_walk {
    const struct cf_ctx *ctx;
    const struct held *held;
    authz_mask read; /* doc.read, looked up once per list */
    docs_space_fn fn;
    void *arg;
};

static enum cf_rc
spaces_walk_one(const char *id, const void *sealed, size_t len, int64_t created,
                void *arg)
{
    struct spaces_walk *w = arg;
    authz_mask m = held_in(w->held, id);
    struct docs_space s;
    enum cf_rc rc;

    if ((m & w->read) == 0) {
        return CF_OK;
    }
    rc = space_row(w->ctx, id, sealed, len, created, m, &s);
    if (rc == CF_OK) {
        rc = w->fn(&s, w->arg);
    }
    cf_memzero(&s, sizeof(s));
    return rc;
}

enum cf_rc
docs_spaces_each(const struct cf_ctx *ctx, docs_space_fn fn, void *arg)
{
    struct held h;
    struct db *db = NULL;
    struct spaces_walk w = {ctx, &h, authz_perm_bit("doc.read"), fn, arg};
    enum cf_rc rc;

    rc = held_load(ctx, &h);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = spaces_rows(db, spaces_walk_one, &w);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    held_release(&h);
    return rc;
}

static enum cf_rc
space_read(const struct cf_ctx *ctx, struct db *db, const char *id,
           bool need_read, struct docs_space *out)
{
    struct db_stmt *st = NULL;
    authz_mask m = 0;
    enum cf_rc rc;

    if (!authz_is_pid(id)) {
        return CF_ENOTFOUND;
    }
    rc = authz_mask_in(db, ctx, id, &m);
    if (rc == CF_OK && need_read && !(m & authz_perm_bit("doc.read"))) {
        rc = CF_ENOTFOUND;
    }
    if (rc == CF_OK) {
        rc = db_row(db, &st, SQL_SPACE " WHERE public_id = ?1", DB_TEXT, id,
                    DB_END);
    }
    if (rc == CF_OK) {
        size_t len = 0;
        const void *sealed = db_col_blob(st, 1, &len);

        rc = space_row(ctx, db_col_text(st, 0), sealed, len,
                       db_col_int64(st, 2), m, out);
        db_stmt_done(st);
    }
    return rc;
}

enum cf_rc
docs_space_get(const struct cf_ctx *ctx, const char *id, struct docs_space *out)
{
    struct db *db = NULL;
    enum cf_rc rc;

    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc == CF_OK) {
        rc = space_read(ctx, db, id, true, out);
        db_pool_put(ctx->pool, db);
    }
    return rc;
}

enum cf_rc
docs_space_exists(const struct cf_ctx *ctx, const char *id)
{
    struct db *db = NULL;
    int64_t n = 0;
    enum cf_rc rc;

    if (!authz_is_pid(id)) {
        return CF_ENOTFOUND;
    }
    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc == CF_OK) {
        rc = db_int(db, &n, "SELECT count(*) FROM spaces WHERE public_id = ?1",
                    DB_TEXT, id, DB_END);
        db_pool_put(ctx->pool, db);
    }
    return rc == CF_OK && n == 0 ? CF_ENOTFOUND : rc;
}

/* ---- changes ---------------------------------------------------------- */

static enum cf_rc
space_audit(const struct cf_ctx *ctx, struct db *db, const char *action,
            const char *id, const char *name)
{
    const struct cx_data_key *k = NULL;
    char target[AUTHZ_ID_LEN + 8];
    struct audit_event ev = {0};
    struct cf_buf details;
    enum cf_rc rc;

    snprintf(target, sizeof(target), "space:%s", id);
    cf_buf_init(&details, 4096);
    rc = cx_keyset_sub(ctx->keys, CX_SUBKEY_AUDIT, &k);
    if (rc == CF_OK && name != NULL) {
        rc = cf_buf_adds(&details, "{\"name\":");
        if (rc == CF_OK) {
            rc = cf_buf_add_json_str(&details, name);
        }
        if (rc == CF_OK) {
            rc = cf_buf_addch(&details, '}');
        }
    }
    if (rc == CF_OK) {
        ev.principal = ctx->principal != NULL ? ctx->principal : "system";
        ev.action = action;
        ev.target = target;
        ev.success = true;
        ev.client_ip = ctx->client_ip;
        ev.request_id = ctx->request_id;
        ev.details = name != NULL ? cf_buf_str(&details) : NULL;
        rc = audit_append(db, k, &ev);
    }
    cf_buf_release(&details);
    return rc;
}

/* Seal name for space id into sealed. */
static enum cf_rc
space_seal(const struct cf_ctx *ctx, const char *id, const char *name,
           struct cf_buf *sealed)
{
    const struct cx_data_key *k = NULL;
    char ad[SPACE_AD_MAX];
    enum cf_rc rc;

    if (name == NULL || name[0] == '\0' ||
        strlen(name) >= sizeof(((struct docs_space *)0)->name)) {
        return CF_ERR(CF_EINVAL);
    }
    rc = field_key(ctx, &k);
    if (rc == CF_OK) {
        rc = cx_field_seal(k, ad, space_ad(id, ad), name, strlen(name), sealed);
    }
    return rc;
}

enum cf_rc
docs_space_create(const struct cf_ctx *ctx, const char *name,
                  struct docs_space *out)
{
    char id[AUTHZ_ID_LEN + 1];
    struct cf_buf sealed;
    struct db *db = NULL;
    int64_t n = 0;
    enum cf_rc rc;

    memset(out, 0, sizeof(*out));
    rc = authz_check(ctx, "space.manage", AUTHZ_TENANT);
    if (rc != CF_OK) {
        return rc;
    }
    cf_buf_init(&sealed, 4096);
    rc = cf_id_hex(id, AUTHZ_ID_LEN / 2);
    if (rc == CF_OK) {
        rc = space_seal(ctx, id, name, &sealed);
    }
    if (rc == CF_OK) {
        rc = db_pool_begin(ctx->pool, ctx->tenant_id, &db);
    }
    if (rc == CF_OK) {
        rc = db_int(db, &n, "SELECT count(*) FROM spaces", DB_END);
    }
    if (rc == CF_OK && n >= DOCS_SPACES_MAX) {
        rc = CF_ERR(CF_ECONFLICT);
    }
    if (rc == CF_OK) {
        rc = db_run(db,
                    "INSERT INTO spaces (public_id, name_sealed, created)"
                    " VALUES (?1, ?2, ?3)",
                    DB_TEXT, id, DB_BLOB, sealed.data, sealed.len, DB_INT,
                    cf_time_unix(), DB_END);
    }
    if (rc == CF_OK) {
        rc = space_audit(ctx, db, "space.create", id, name);
    }
    /* its maker may hold space.manage without doc.read */
    if (rc == CF_OK) {
        rc = space_read(ctx, db, id, false, out);
    }
    cf_buf_release(&sealed);
    return db_pool_end(ctx->pool, db, rc);
}

/* The space id, readable by the principal (else CF_ENOTFOUND), where it
 * holds space.manage (else CF_EPERM). */
static enum cf_rc
space_managed(const struct cf_ctx *ctx, struct db *db, const char *id,
              struct docs_space *out)
{
    enum cf_rc rc = space_read(ctx, db, id, true, out);

    if (rc == CF_OK && !(out->perms & authz_perm_bit("space.manage"))) {
        rc = CF_EPERM;
    }
    return rc;
}

enum cf_rc
docs_space_rename(const struct cf_ctx *ctx, const char *id, const char *name,
                  struct docs_space *out)
{
    struct cf_buf sealed;
    struct db *db = NULL;
    enum cf_rc rc;

    memset(out, 0, sizeof(*out));
    cf_buf_init(&sealed, 4096);
    rc = db_pool_begin(ctx->pool, ctx->tenant_id, &db);
    if (rc == CF_OK) {
        rc = space_managed(ctx, db, id, out);
    }
    if (rc == CF_OK) {
        rc = space_seal(ctx, id, name, &sealed);
    }
    if (rc == CF_OK) {
        rc = db_run(db,
                    "UPDATE spaces SET name_sealed = ?2 WHERE public_id = ?1",
                    DB_TEXT, id, DB_BLOB, sealed.data, sealed.len, DB_END);
    }
    if (rc == CF_OK) {
        rc = space_audit(ctx, db, "space.rename", id, name);
    }
    if (rc == CF_OK) {
        rc = space_read(ctx, db, id, true, out);
    }
    cf_buf_release(&sealed);
    return db_pool_end(ctx->pool, db, rc);
}

enum cf_rc
docs_space_delete(const struct cf_ctx *ctx, const char *id)
{
    struct docs_space s;
    struct db *db = NULL;
    enum cf_rc rc;

    rc = db_pool_begin(ctx->pool, ctx->tenant_id, &db);
    if (rc == CF_OK) {
        rc = space_managed(ctx, db, id, &s);
    }
    if (rc == CF_OK) {
        rc = authz_space_forget(db, id);
    }
    if (rc == CF_OK) {
        rc = db_run(db, "DELETE FROM spaces WHERE public_id = ?1", DB_TEXT, id,
                    DB_END);
    }
    if (rc == CF_OK) {
        rc = space_audit(ctx, db, "space.delete", id, NULL);
    }
    cf_memzero(&s, sizeof(s));
    return db_pool_end(ctx->pool, db, rc);
}
