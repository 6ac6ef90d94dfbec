/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What the changes of roles, groups and grants share: the transaction
 * with its audit event (invariant 1, COMMITMENT C2), the refusal codes of the
 * contract, names and ids.
 */
#include "core/compat.h"

#include <ctype.h>

#include "audit/audit.h"
#include "authz/authz_int.h"

/* ---- frame ------------------------------------------------------------ */

enum cf_rc
authz_tx_open(const struct cf_ctx *ctx, struct db **db, bool *had_owner)
{
    enum cf_rc rc = db_pool_begin(ctx->pool, ctx->tenant_id, db);

    *had_owner = false;
    if (rc == CF_OK) {
        rc = authz_owner_exists(*db, had_owner);
        if (rc != CF_OK) {
            rc = db_pool_end(ctx->pool, *db, rc);
            *db = NULL;
        }
    }
    return rc;
}

enum cf_rc
authz_tx_close(const struct cf_ctx *ctx, struct db *db, bool had_owner,
               enum cf_rc rc, const char **why)
{
    bool has = false;

    if (db == NULL) {
        return rc;
    }
    /* COMMITMENT B1: whatever the change, the tenant keeps an active
     * owner, by role or by grant */
    if (rc == CF_OK && had_owner) {
        rc = authz_owner_exists(db, &has);
        if (rc == CF_OK && !has) {
            rc = authz_refuse(why, "last_owner", CF_ECONFLICT);
        }
    }
    return db_pool_end(ctx->pool, db, rc);
}

/* A read on a pooled handle. */
enum cf_rc
authz_db_take(const struct cf_ctx *ctx, struct db **db)
{
    return db_pool_get(ctx->pool, ctx->tenant_id, 0, db);
}

/* The audit event of a change, in the open transaction; details is a
 * JSON object text or NULL. */
enum cf_rc
authz_audit(struct db *db, const struct cf_ctx *ctx, const char *action,
            const char *kind, const char *id, const char *details)
{
    char target[AUTHZ_ID_LEN + 16];
    struct audit_event ev = {0};

    snprintf(target, sizeof(target), "%s:%s", kind, id);
    ev.principal = ctx->principal != NULL ? ctx->principal : "system";
    ev.action = action;
    ev.target = target;
    ev.success = true;
    ev.client_ip = ctx->client_ip;
    ev.request_id = ctx->request_id;
    ev.details = details;
    return audit_append(db, ctx->audit_key, &ev);
}

/* {"k1":"v1",...} of NULL-terminated key/value pairs (NULL values
 * skipped) into b. */
enum cf_rc
authz_details(struct cf_buf *b, ...)
{
    enum cf_rc rc = cf_buf_addch(b, '{');
    const char *k;
    bool first = true;
    va_list ap;

    va_start(ap, b);
    while (rc == CF_OK && (k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);

        if (v == NULL) {
            continue;
        }
        rc = cf_buf_adds(b, first ? "\"" : ",\"");
        if (rc == CF_OK) {
            rc = cf_buf_adds(b, k);
        }
        if (rc == CF_OK) {
            rc = cf_buf_adds(b, "\":");
        }
        if (rc == CF_OK) {
            rc = cf_buf_add_json_str(b, v);
        }
        first = false;
    }
    va_end(ap);
    if (rc == CF_OK) {
        rc = cf_buf_addch(b, '}');
    }
    return rc;
}

enum cf_rc
authz_refuse(const char **why, const char *code, enum cf_rc rc)
{
    *why = code;
    return rc;
}

/* The uniqueness key of a name: ASCII letters folded. */
void
authz_name_key(const char *name, char *out, size_t cap)
{
    size_t i;

    for (i = 0; name[i] != '\0' && i + 1 < cap; i++) {
        out[i] = (char)tolower((unsigned char)name[i]);
    }
    out[i] = '\0';
}

bool
authz_name_ok(const char *name, size_t cap)
{
    return name != NULL && name[0] != '\0' && strlen(name) < cap;
}

bool
authz_is_pid(const char *s)
{
    size_t i;

    for (i = 0; s != NULL && i < AUTHZ_ID_LEN; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return s != NULL && s[AUTHZ_ID_LEN] == '\0';
}

/* The actor must hold every permission of perms tenant-wide. */
enum cf_rc
authz_actor_holds(struct db *db, const struct cf_ctx *ctx, const char *scope,
                  authz_mask perms, const char **why, const char *code)
{
    authz_mask held = 0;
    enum cf_rc rc = authz_mask_in(db, ctx, scope, &held);

    if (rc == CF_OK && (perms & ~held) != 0) {
        rc = authz_refuse(why, code, CF_EPERM);
    }
    return rc;
}
