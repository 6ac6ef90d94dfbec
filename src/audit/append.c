/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Appending an audit event: the event is checked (required fields, the
 * action's character set, length caps so a hostile value cannot bloat the
 * trail), stamped with the time, its details sealed with the tenant's
 * audit sub-key when one is given, and inserted in the caller's open
 * transaction, so the state change and its event commit or roll back
 * together (invariant 1, COMMITMENT C2). The row format is stable:
 * docs/internals/audit.md.
 */
#include "core/compat.h"

#include "audit/audit_int.h"

/* Caps on stored values; docs/internals/audit.md lists them. */
#define AUDIT_ACTION_MAX 64
#define AUDIT_TEXT_MAX 256
#define AUDIT_DETAILS_MAX ((size_t)64 * 1024)

/* [a-z0-9_.]+, at most AUDIT_ACTION_MAX bytes */
static bool
action_valid(const char *a)
{
    size_t n = 0;

    if (a == NULL || *a == '\0') {
        return false;
    }
    for (; *a != '\0'; a++, n++) {
        bool ok = (*a >= 'a' && *a <= 'z') || (*a >= '0' && *a <= '9') ||
                  *a == '_' || *a == '.';

        if (!ok || n >= AUDIT_ACTION_MAX) {
            return false;
        }
    }
    return true;
}

/* A required field is non-empty; any field is at most AUDIT_TEXT_MAX. */
static bool
text_valid(const char *s, bool required)
{
    if (s == NULL) {
        return !required;
    }
    if (required && *s == '\0') {
        return false;
    }
    return strnlen(s, AUDIT_TEXT_MAX + 1) <= AUDIT_TEXT_MAX;
}

enum cf_rc
audit_append(struct db *db, const struct cx_data_key *details_key,
             const struct audit_event *ev)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct cf_buf sealed;
    struct audit_row row;
    char now[CF_TIME_RFC3339_LEN];
    size_t dlen;

    cf_buf_init(&sealed, AUDIT_DETAILS_MAX + CX_FIELD_OVERHEAD);
    if (db == NULL || ev == NULL) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (!db_in_transaction(db)) {
        /* a caller bug: the event would not share the change's fate */
        cf_log_error("audit event outside a transaction", "action",
                     action_valid(ev->action) ? ev->action : "");
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    if (!action_valid(ev->action) || !text_valid(ev->principal, true) ||
        !text_valid(ev->target, true) || !text_valid(ev->client_ip, false) ||
        !text_valid(ev->request_id, false)) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    cf_time_rfc3339(now);
    memset(&row, 0, sizeof(row));
    row.time = now;
    row.principal = ev->principal;
    row.action = ev->action;
    row.target = ev->target;
    row.outcome = ev->success ? "success" : "failure";
    row.client_ip = ev->client_ip;
    row.request_id = ev->request_id;
    if (ev->details != NULL) {
        dlen = strnlen(ev->details, AUDIT_DETAILS_MAX + 1);
        if (dlen > AUDIT_DETAILS_MAX) {
            rc = CF_ERR(CF_ETOOBIG);
            goto out;
        }
        if (details_key != NULL) {
            rc = cx_field_seal(details_key, AUDIT_DETAILS_AD,
                               sizeof(AUDIT_DETAILS_AD) - 1, ev->details, dlen,
                               &sealed);
            if (rc != CF_OK) {
                goto out;
            }
            row.details = sealed.data;
            row.details_len = sealed.len;
        } else {
            /* control.db: details hold no personal data (audit.h) */
            row.details = ev->details;
            row.details_len = dlen;
        }
    }
    rc = audit_store_insert(db, &row);
    if (rc != CF_OK) {
        goto out;
    }
    rc = CF_OK;
out:
    cf_buf_release(&sealed);
    return rc;
}

enum cf_rc
audit_count(struct db *db, int64_t *out)
{
    enum cf_rc rc = CF_EINTERNAL;
    int64_t n = 0;

    if (db == NULL || out == NULL) {
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    rc = audit_store_count(db, &n);
    if (rc != CF_OK) {
        goto out;
    }
    *out = n;
    rc = CF_OK;
out:
    return rc;
}
