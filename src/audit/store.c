/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The SQL of the audit trail, kept apart from the checks in append.c
 * (STYLE 3: SQL only in db/ and the stores of domain modules). Constant
 * statements, every value bound (invariant 4), portable SQL.
 */
#include "core/compat.h"

#include "audit/audit_int.h"

static enum cf_rc
bind_text_or_null(struct db_stmt *st, int idx, const char *s)
{
    return s != NULL ? db_bind_text(st, idx, s) : db_bind_null(st, idx);
}

enum cf_rc
audit_store_insert(struct db *db, const struct audit_row *r)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct db_stmt *st = NULL;
    bool row = false;

    rc = db_prepare(db,
                    "INSERT INTO audit_events (time, principal, action,"
                    " target, outcome, client_ip, request_id, details)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    &st);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_bind_text(st, 1, r->time);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_bind_text(st, 2, r->principal);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_bind_text(st, 3, r->action);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_bind_text(st, 4, r->target);
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_bind_text(st, 5, r->outcome);
    if (rc != CF_OK) {
        goto out;
    }
    rc = bind_text_or_null(st, 6, r->client_ip);
    if (rc != CF_OK) {
        goto out;
    }
    rc = bind_text_or_null(st, 7, r->request_id);
    if (rc != CF_OK) {
        goto out;
    }
    if (r->details != NULL) {
        rc = db_bind_blob(st, 8, r->details, r->details_len);
    } else {
        rc = db_bind_null(st, 8);
    }
    if (rc != CF_OK) {
        goto out;
    }
    rc = db_step(st, &row);
    if (rc != CF_OK) {
        goto out;
    }
    rc = CF_OK;
out:
    db_stmt_done(st);
    return rc;
}

enum cf_rc
audit_store_count(struct db *db, int64_t *out)
{
    return db_query_int64(db, "SELECT count(*) FROM audit_events", out);
}
