/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * audit: the audit trail. audit_append() writes one event row inside the
 * caller's open transaction, so a state change and its event commit or roll
 * back together (invariant 1, COMMITMENT C2).
 *
 * Row format (table audit_events, the same in control.db and every
 * tenant.db; stable, documented in docs/internals/audit.md):
 *   seq        INTEGER PRIMARY KEY   order of append
 *   time       TEXT                  UTC, RFC 3339 with milliseconds
 *   principal  TEXT                  "cli:<user>", "user:<id>", "system"...
 *   action     TEXT                  dotted verb, "tenant.create"
 *   target     TEXT                  object acted on, "tenant:42"
 *   outcome    TEXT                  "success" or "failure"
 *   client_ip  TEXT                  NULL for local commands
 *   request_id TEXT                  NULL outside HTTP
 *   details    BLOB                  JSON; sealed with the tenant's audit
 *                                    sub-key in tenant databases
 * A tamper-evident Merkle tree over these rows comes later; nothing here
 * may change meaning once written.
 */
#ifndef AUDIT_AUDIT_H
#define AUDIT_AUDIT_H

#include "core/core.h"
#include "crypto/crypto.h"
#include "db/db.h"

struct audit_event {
    const char *principal; /* required */
    const char *action;    /* required, [a-z0-9_.]+ */
    const char *target;    /* required */
    bool success;
    const char *client_ip;  /* may be NULL */
    const char *request_id; /* may be NULL */
    const char *details;    /* JSON object text or NULL */
};

/*
 * Append ev to db inside the caller's transaction (CF_EINVAL if none is
 * open, or a required field is missing). details_key: the tenant's audit
 * sub-key to seal details with, or NULL in control.db (whose details hold
 * no personal data). Borrowed arguments.
 */
CF_MUST_CHECK enum cf_rc audit_append(struct db *db,
                                      const struct cx_data_key *details_key,
                                      const struct audit_event *ev);

/* Number of events in db (for tests and the trust report). */
CF_MUST_CHECK enum cf_rc audit_count(struct db *db, int64_t *out);

#endif
