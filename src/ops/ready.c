/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Readiness: the checks behind GET /readyz. Liveness (/healthz) needs no
 * check: answering at all is the proof.
 */
#include "core/compat.h"

#include <unistd.h>

#include "ops/ops.h"

static enum cf_rc
ready_control_db(struct db *control)
{
    int64_t one = 0;
    enum cf_rc rc;

    db_lock(control);
    rc = db_query_int64(control, "SELECT 1", &one);
    db_unlock(control);
    return rc == CF_OK && one != 1 ? CF_ERR(CF_EDB) : rc;
}

enum cf_rc
ops_ready(struct db *control, const struct cx_keyring *kr,
          const char *tenants_dir, struct cf_buf *out)
{
    bool db_ok = control != NULL && ready_control_db(control) == CF_OK;
    bool key_ok = kr != NULL;
    bool dir_ok = access(tenants_dir, W_OK | X_OK) == 0;
    enum cf_rc rc;

    rc = cf_buf_addf(out,
                     "{\"control_db\":\"%s\",\"master_key\":\"%s\","
                     "\"tenants_dir\":\"%s\"}",
                     db_ok ? "ok" : "failed", key_ok ? "ok" : "failed",
                     dir_ok ? "ok" : "failed");
    if (rc != CF_OK) {
        return rc;
    }
    return db_ok && key_ok && dir_ok ? CF_OK : CF_EBUSY;
}
