/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tenant: the registry of tenants (in control.db) and their lifecycle, and
 * the resolution of a tenant from an HTTP Host header.
 *
 * A tenant has a numeric id (its folder tenants/<id>/ and the associated
 * data of its wrapped key), a slug (its host name label, unique) and a
 * display name. Functions take the shared control database handle and lock
 * it themselves; they are safe to call from any thread.
 */
#ifndef TENANT_TENANT_H
#define TENANT_TENANT_H

#include "core/core.h"
#include "crypto/crypto.h"
#include "db/db.h"

#define TENANT_SLUG_MIN 3
#define TENANT_SLUG_MAX 40
#define TENANT_NAME_MAX 200
#define TENANT_HOST_MAX 253

struct tenant {
    int64_t id;
    char slug[TENANT_SLUG_MAX + 1];
    char name[TENANT_NAME_MAX + 1];
    char created[CF_TIME_RFC3339_LEN];
    char state[16];
    /* the newest key version when tenant_find() read the tenant (0 when
     * not read, or the tenant has no key) */
    int64_t key_version;
};

/*
 * Check slug syntax: 3-40 characters of [a-z0-9-], not starting or ending
 * with '-', not a reserved name. CF_EINVAL with *reason (a static English
 * sentence) when refused.
 */
CF_MUST_CHECK enum cf_rc tenant_slug_check(const char *slug,
                                           const char **reason);

/*
 * Create a tenant: its row, a fresh data key wrapped by the master key,
 * its database (tenants/<id>/tenant.db) and the audit events, in control.db
 * and in the new database. Nothing is left behind on failure. An existing
 * slug: CF_ECONFLICT. name may be NULL (the slug is used); principal names
 * who acts ("cli:root"). *out receives the new tenant.
 */
CF_MUST_CHECK enum cf_rc tenant_create(struct db *control, struct db_pool *pool,
                                       const struct cx_keyring *kr,
                                       const char *slug, const char *name,
                                       const char *principal,
                                       struct tenant *out);

/* Look a tenant up by slug (CF_ENOTFOUND if none, or not active), with
 * its newest key version. The tenants found are kept on the control
 * handle for one data version of control.db: any commit to it, by this
 * process or another, empties the cache, so a tenant renamed, suspended
 * or given a new key is seen by the next call. */
CF_MUST_CHECK enum cf_rc tenant_find(struct db *control, const char *slug,
                                     struct tenant *out);

/* Call fn for each tenant in slug order; a non-OK return stops the walk
 * and is returned. */
typedef enum cf_rc (*tenant_each_fn)(const struct tenant *t, void *arg);
CF_MUST_CHECK enum cf_rc tenant_each(struct db *control, tenant_each_fn fn,
                                     void *arg);

/* The keyset (data key and sub-keys, crypto/keyset.c) of tenant_id's
 * newest key version: from a process-wide cache of recent tenants when
 * the version matches, else unwrapped with kr and cached. The caller
 * drops its reference with cx_keyset_unref(). CF_ENOTFOUND for no key,
 * CF_ECRYPTO when it does not open. */
CF_MUST_CHECK enum cf_rc tenant_keys_open(struct db *control,
                                          const struct cx_keyring *kr,
                                          int64_t tenant_id,
                                          struct cx_keyset **out);
/* The keyset of t's key version as tenant_find() read it (the newest
 * one when t->key_version is 0): from the cache without touching
 * control.db when it holds that version, else as tenant_keys_open().
 * One request thus uses the tenant and key of one state of control.db. */
CF_MUST_CHECK enum cf_rc tenant_keys_get(struct db *control,
                                         const struct cx_keyring *kr,
                                         const struct tenant *t,
                                         struct cx_keyset **out);
/* Drop every cached keyset (at shutdown, and when a key must not
 * outlive a change). */
void tenant_keys_forget(void);

/* Where a tenant's keys come from, for the keyed migrations. */
struct tenant_keys_source {
    struct db *control;
    const struct cx_keyring *kr;
};
/*
 * The keyed migrations of a tenant database, run when the pool opens it
 * (a db_pool_open_fn; arg: a struct tenant_keys_source that outlives the
 * pool): values sealed before they were bound to their row are sealed
 * again bound to it (reseal.c), once, in one transaction. A database with
 * nothing to do costs one read. Fails the open (and changes nothing) when
 * the keys do not open a value.
 */
CF_MUST_CHECK enum cf_rc tenant_db_opened(struct db *db, int64_t tenant_id,
                                          void *arg);

/* Number of tenants. */
CF_MUST_CHECK enum cf_rc tenant_count(struct db *control, int64_t *out);

/* ---- Host header --------------------------------------------------- */

enum tenant_host_kind {
    TENANT_HOST_PLATFORM = 1, /* the bare base domain */
    TENANT_HOST_TENANT,       /* a name under the base domain */
    TENANT_HOST_FOREIGN,      /* a valid name outside the base domain */
};

/*
 * Parse host (the Host header: name, optional ":port") against
 * base_domain (compared case-insensitively). Missing, empty or malformed
 * (bad characters, empty or over-long label, bad port): CF_EINVAL. For
 * TENANT_HOST_TENANT, label receives the lower-cased part before
 * ".base_domain" (which may contain dots: it is a slug only if
 * tenant_slug_check() accepts it). label must hold TENANT_HOST_MAX + 1.
 */
CF_MUST_CHECK enum cf_rc tenant_host_parse(const char *host,
                                           const char *base_domain,
                                           enum tenant_host_kind *kind,
                                           char *label);

/* The address of slug's pages: "https://SLUG.BASE_DOMAIN:PORT" (no
 * trailing slash; the port of listen, left out when it is 443); empty
 * when it does not fit in cap bytes. */
void tenant_url(const char *slug, const char *base_domain, const char *listen,
                char *out, size_t cap);

#endif
