/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Names of result codes, and the invariant-failure exit.
 */
#include "core/compat.h"

#include "core/core.h"

const char *
cf_rc_str(enum cf_rc rc)
{
    switch (rc) {
    case CF_OK:
        return "ok";
    case CF_ENOMEM:
        return "enomem";
    case CF_EINVAL:
        return "einval";
    case CF_ETOOBIG:
        return "etoobig";
    case CF_ENOTFOUND:
        return "enotfound";
    case CF_ECONFLICT:
        return "econflict";
    case CF_EAUTH:
        return "eauth";
    case CF_EPERM:
        return "eperm";
    case CF_ELOCKED:
        return "elocked";
    case CF_EBUSY:
        return "ebusy";
    case CF_EIO:
        return "eio";
    case CF_EDB:
        return "edb";
    case CF_ECRYPTO:
        return "ecrypto";
    case CF_EINTERNAL:
        return "einternal";
    case CF_RC_COUNT:
        break;
    }
    return "unknown";
}

#ifdef CF_DEBUG_ERR
void
cf_err_trace(enum cf_rc rc, const char *file, int line)
{
    char where[160];

    snprintf(where, sizeof(where), "%s:%d", file, line);
    cf_log_debug("error born", "rc", cf_rc_str(rc), "where", where);
}
#endif

void
cf_bug_at(const char *file, int line, const char *msg)
{
    fprintf(stderr,
            "{\"level\":\"fatal\",\"msg\":\"broken invariant\","
            "\"at\":\"%s:%d\",\"what\":\"%s\"}\n",
            file, line, msg);
    abort();
}
