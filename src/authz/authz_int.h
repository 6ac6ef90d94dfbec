/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* authz/ inside: shared by check.c and admin.c. */
#ifndef AUTHZ_AUTHZ_INT_H
#define AUTHZ_AUTHZ_INT_H

#include "authz/authz.h"
#include "db/db.h"

/* One grant reaching an account: its role's permissions, its space (NULL
 * tenant-wide). */
typedef enum cf_rc (*authz_grant_row_fn)(authz_mask perms, const char *space,
                                         void *arg);

/* The permissions of a grant's role: a built-in name, or the custom
 * role's list read with the grant (NULL when it is gone: nothing). */
authz_mask authz_grant_mask(const char *role, const char *custom_list);
/* Every grant reaching user_id, through groups too. */
CF_MUST_CHECK enum cf_rc authz_grants_walk(struct db *db, int64_t user_id,
                                           authz_grant_row_fn fn, void *arg);

/* ---- frame.c: what the changes share ---------------------------------- */

/* A pooled handle in a transaction, and whether the tenant has an
 * active owner as it begins (*had_owner). authz_tx_close() commits when
 * rc is CF_OK and the tenant keeps an owner it had (else CF_ECONFLICT
 * with *why "last_owner"), else rolls back; it gives the handle back and
 * returns rc or the commit's failure. */
CF_MUST_CHECK enum cf_rc authz_tx_open(const struct cf_ctx *ctx, struct db **db,
                                       bool *had_owner);
CF_MUST_CHECK enum cf_rc authz_tx_close(const struct cf_ctx *ctx, struct db *db,
                                        bool had_owner, enum cf_rc rc,
                                        const char **why);
/* A pooled handle for reads; db_pool_put() it. */
CF_MUST_CHECK enum cf_rc authz_db_take(const struct cf_ctx *ctx,
                                       struct db **db);
/* The audit event of a change on "kind:id", in the open transaction. */
CF_MUST_CHECK enum cf_rc authz_audit(struct db *db, const struct cf_ctx *ctx,
                                     const char *action, const char *kind,
                                     const char *id, const char *details);
/* A JSON object of NULL-terminated key, value pairs (NULL values left
 * out) appended to b. */
CF_MUST_CHECK enum cf_rc authz_details(struct cf_buf *b, ...);
/* *why = code; returns rc. */
enum cf_rc authz_refuse(const char **why, const char *code, enum cf_rc rc);
/* The uniqueness key of a name: ASCII letters folded. */
void authz_name_key(const char *name, char *out, size_t cap);
bool authz_name_ok(const char *name, size_t cap);
/* CF_EPERM with *why = code unless the actor holds all of perms in
 * scope: through its role and grants and, for a token, carried by the
 * token too (a leaked token never gives or takes more than it carries). */
CF_MUST_CHECK enum cf_rc authz_actor_holds(struct db *db,
                                           const struct cf_ctx *ctx,
                                           const char *scope, authz_mask perms,
                                           const char **why, const char *code);

#endif
