/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * authz: what a principal may do (COMMITMENT B1). The permissions are a
 * fixed catalogue of verbs, each defined once here with its description
 * in French and English; built-in roles are named sets of them. Deny by
 * default: an unknown role or permission holds nothing.
 *
 * Custom roles, groups, spaces and grants build on this catalogue.
 * Thread safety: everything here is read-only data and pure functions.
 */
#ifndef AUTHZ_AUTHZ_H
#define AUTHZ_AUTHZ_H

#include "core/core.h"

#define AUTHZ_NAME_MAX 32 /* longest permission or role name, NUL excluded */

struct authz_perm {
    const char *name; /* "doc.read" */
    const char *fr;
    const char *en;
    bool admin; /* administers the tenant (A12: admins need 2FA) */
};

struct authz_role {
    const char *name;               /* "owner" */
    const char *const *permissions; /* NULL-terminated */
    bool privileged; /* longer passwords, 2FA required by default */
};

extern const struct authz_perm authz_perms[];
extern const size_t authz_perms_count;
extern const struct authz_role authz_roles[];
extern const size_t authz_roles_count;

/* The catalogue entry of name, or NULL. */
const struct authz_perm *authz_perm_find(const char *name);
/* The built-in role name, or NULL. */
const struct authz_role *authz_role_find(const char *name);
/* Does role hold perm? False for an unknown role or permission. */
bool authz_role_has(const char *role, const char *perm);
/* Does actor hold every permission of role? What an administrator may
 * hand out or act upon (no escalation). False when either is unknown. */
bool authz_role_covers(const char *actor, const char *role);
/* Is role an owner or admin role? False when unknown. */
bool authz_role_privileged(const char *role);

#endif
