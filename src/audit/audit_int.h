/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * audit: declarations shared by the files of audit/ and by no other
 * module. append.c checks and seals an event; store.c holds the SQL.
 */
#ifndef AUDIT_AUDIT_INT_H
#define AUDIT_AUDIT_INT_H

#include "audit/audit.h"

/* Associated data of sealed details (docs/internals/audit.md). */
#define AUDIT_DETAILS_AD "audit.details"

/* One row of audit_events as stored; every pointer borrowed. */
struct audit_row {
    const char *time;
    const char *principal;
    const char *action;
    const char *target;
    const char *outcome;    /* "success" or "failure" */
    const char *client_ip;  /* NULL: SQL NULL */
    const char *request_id; /* NULL: SQL NULL */
    const void *details;    /* NULL: SQL NULL; else details_len bytes */
    size_t details_len;
};

/* INSERT row into audit_events of db (inside the caller's transaction). */
CF_MUST_CHECK enum cf_rc audit_store_insert(struct db *db,
                                            const struct audit_row *row);
/* SELECT count(*) FROM audit_events. */
CF_MUST_CHECK enum cf_rc audit_store_count(struct db *db, int64_t *out);

#endif
