/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * docs: spaces, the containers of documents and notes (COMMITMENT B1).
 * A space's name is customer content: sealed with the tenant's field key
 * (invariant 3). Who may see or change a space is authz/'s decision:
 * doc.read there to see it (otherwise it does not exist for the
 * principal: CF_ENOTFOUND), space.manage there to rename or delete it
 * (CF_EPERM).
 *
 * Thread safety: every call takes its own database handle of the pool.
 */
#ifndef DOCS_DOCS_H
#define DOCS_DOCS_H

#include "authz/authz.h"
#include "core/core.h"

struct cx_keyset;

#define DOCS_SPACE_NAME_MAX 200 /* characters */
#define DOCS_SPACES_MAX 1000    /* per tenant */

struct docs_space {
    char id[AUTHZ_ID_LEN + 1];
    char name[4 * DOCS_SPACE_NAME_MAX + 1];
    int64_t created;
    authz_mask perms; /* the acting principal's, there */
};

typedef enum cf_rc (*docs_space_fn)(const struct docs_space *s, void *arg);

/* The spaces where the principal holds doc.read, oldest first. */
CF_MUST_CHECK enum cf_rc docs_spaces_each(const struct cf_ctx *ctx,
                                          docs_space_fn fn, void *arg);
/* CF_ENOTFOUND for a malformed, unknown or unreadable id. */
CF_MUST_CHECK enum cf_rc docs_space_get(const struct cf_ctx *ctx,
                                        const char *id, struct docs_space *out);
/* Does space id exist (whoever may see it)? CF_OK or CF_ENOTFOUND. */
CF_MUST_CHECK enum cf_rc docs_space_exists(const struct cf_ctx *ctx,
                                           const char *id);
/* name: already normalised (auth_label()). CF_EPERM without space.manage
 * tenant-wide; CF_ECONFLICT at DOCS_SPACES_MAX. */
CF_MUST_CHECK enum cf_rc docs_space_create(const struct cf_ctx *ctx,
                                           const char *name,
                                           struct docs_space *out);
CF_MUST_CHECK enum cf_rc docs_space_rename(const struct cf_ctx *ctx,
                                           const char *id, const char *name,
                                           struct docs_space *out);
/* Deletes the space and the grants on it. */
CF_MUST_CHECK enum cf_rc docs_space_delete(const struct cf_ctx *ctx,
                                           const char *id);

#endif
