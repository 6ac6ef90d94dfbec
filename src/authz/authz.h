/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * authz: what a principal may do (COMMITMENT B1). The permissions are a
 * fixed catalogue of verbs, each defined once here with its description
 * in French and English; built-in roles are named sets of them. Deny by
 * default: an unknown role or permission holds nothing.
 *
 * Custom roles, groups and grants build on this catalogue
 * (docs/internals/authz-contract.md): an account holds its own built-in
 * role tenant-wide, plus the roles of the grants made to it or to a
 * group it is in (nested groups too), tenant-wide or in one space.
 * authz_check() is the one decision; it fails closed.
 *
 * Thread safety: the catalogue is read-only data; the functions taking
 * a struct cf_ctx use a database handle of the pool for the call.
 */
#ifndef AUTHZ_AUTHZ_H
#define AUTHZ_AUTHZ_H

#include "core/core.h"

struct db;
struct db_pool;
struct cx_data_key;

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

/* The built-in roles, the index of each in authz_roles[]. */
enum authz_role_id {
    AUTHZ_ROLE_OWNER = 0,
    AUTHZ_ROLE_ADMIN,
    AUTHZ_ROLE_MEMBER,
    AUTHZ_ROLE_GUEST,
    AUTHZ_ROLE_AUDITOR,
    AUTHZ_ROLE_COUNT
};

extern const struct authz_perm authz_perms[];
extern const size_t authz_perms_count;
extern const struct authz_role authz_roles[AUTHZ_ROLE_COUNT];
extern const size_t authz_roles_count;
/* Is role (a stored name) the built-in role id? False when unknown. */
bool authz_role_is(const char *role, enum authz_role_id id);

/* The catalogue entry of name, or NULL. */
const struct authz_perm *authz_perm_find(const char *name);
/* The built-in role name, or NULL. */
const struct authz_role *authz_role_find(const char *name);
/* Does role hold perm? False for an unknown role or permission. */
bool authz_role_has(const char *role, const char *perm);
/* Does actor hold every permission of role? What an administrator may
 * hand out or act upon (no escalation). False when either is unknown. */
bool authz_role_covers(const char *actor, const char *role);
/* Is role privileged (its catalogue entry's `privileged`: owner and
 * admin)? The one definition of the notion: auth/ asks here for the
 * longer password minimum and the admins' maximum password age, http/
 * for the 2FA gate. False when unknown or NULL. */
bool authz_role_privileged(const char *role);

/* ---- permission sets -------------------------------------------------- */

/* A set of permissions: bit i is authz_perms[i]. */
typedef uint32_t authz_mask;

/* The bit of perm, 0 when it is not in the catalogue. */
authz_mask authz_perm_bit(const char *perm);
/* The permissions of a built-in role, 0 when unknown. */
authz_mask authz_role_mask(const char *role);
/* The set named by a space-separated list; unknown names add nothing. */
authz_mask authz_list_mask(const char *list);
/* The names of mask, space-separated in catalogue order. */
void authz_mask_list(authz_mask mask, char *out, size_t cap);

/* ---- decisions --------------------------------------------------------- */

#define AUTHZ_ID_LEN 32      /* public ids: hex of 128 random bits */
#define AUTHZ_LABEL_MAX 64   /* characters of a role or group name */
#define AUTHZ_PERMS_TEXT 512 /* the whole catalogue, space-separated */

/* Is s a public id: 32 lower-case hex characters (COMMITMENT B2)? */
bool authz_is_pid(const char *s);

/* Scopes: the whole tenant, or one space by its public id; AUTHZ_ANY
 * asks for the permission tenant-wide or in at least one space (the gate
 * of routes whose handler decides for a space). */
#define AUTHZ_TENANT NULL
extern const char authz_anywhere[];
#define AUTHZ_ANY authz_anywhere

/* The permissions the principal holds in scope. CF_EDB and the like on
 * failure, with *out 0 (fail closed). */
CF_MUST_CHECK enum cf_rc authz_mask_of(const struct cf_ctx *ctx,
                                       const char *scope, authz_mask *out);
/* authz_mask_of() on a tenant database handle the caller holds (inside
 * its transaction, say): the pool lends one handle per tenant at a time. */
CF_MUST_CHECK enum cf_rc authz_mask_in(struct db *db, const struct cf_ctx *ctx,
                                       const char *scope, authz_mask *out);
/* CF_OK when the principal holds perm in scope, CF_EPERM when not; any
 * other code is a failure and denies too. */
CF_MUST_CHECK enum cf_rc authz_check(const struct cf_ctx *ctx, const char *perm,
                                     const char *scope);

/* ---- the administration of roles, groups and grants ------------------ */

/*
 * Every change below is one transaction with its audit event. A refusal
 * changes nothing and sets *why to a stable code of the contract
 * ("invalid_name", "cycle", ...), with the result code telling its kind:
 * CF_EINVAL (bad request), CF_ECONFLICT, CF_EPERM, CF_ENOTFOUND. The
 * sentence for people is the interface's business (http/'s table of
 * reasons).
 */

#define AUTHZ_ROLES_MAX 100
#define AUTHZ_GROUPS_MAX 200
#define AUTHZ_GRANTS_MAX 2000
#define AUTHZ_GROUP_USERS_MAX 500
#define AUTHZ_GROUP_GROUPS_MAX 50

struct authz_role_info {
    char id[AUTHZ_ID_LEN + 1]; /* a built-in role's name, or a public id */
    char name[4 * AUTHZ_LABEL_MAX + 1];
    bool builtin;
    authz_mask perms;
    int64_t grants; /* grants naming the role */
};

typedef enum cf_rc (*authz_role_fn)(const struct authz_role_info *r, void *arg);

/* Built-in roles, then custom ones by name. */
CF_MUST_CHECK enum cf_rc authz_roles_each(const struct cf_ctx *ctx,
                                          authz_role_fn fn, void *arg);
/* The role of id (a built-in name or a public id); CF_ENOTFOUND. */
CF_MUST_CHECK enum cf_rc authz_role_get(const struct cf_ctx *ctx,
                                        const char *id,
                                        struct authz_role_info *out);
/* name: already normalised (auth_label()). */
CF_MUST_CHECK enum cf_rc authz_role_create(const struct cf_ctx *ctx,
                                           const char *name, authz_mask perms,
                                           struct authz_role_info *out,
                                           const char **why);
/* name NULL or perms 0: kept. */
CF_MUST_CHECK enum cf_rc authz_role_update(const struct cf_ctx *ctx,
                                           const char *id, const char *name,
                                           authz_mask perms,
                                           struct authz_role_info *out,
                                           const char **why);
CF_MUST_CHECK enum cf_rc authz_role_delete(const struct cf_ctx *ctx,
                                           const char *id, const char **why);

/* A group; members and groups are space-separated public ids, oldest
 * membership first. */
struct authz_group_info {
    char id[AUTHZ_ID_LEN + 1];
    char name[4 * AUTHZ_LABEL_MAX + 1];
    int64_t created;
    char *members; /* owned: authz_group_release() */
    char *groups;
};
void authz_group_release(struct authz_group_info *g);

typedef enum cf_rc (*authz_group_fn)(const struct authz_group_info *g,
                                     void *arg);

/* Groups by name. */
CF_MUST_CHECK enum cf_rc authz_groups_each(const struct cf_ctx *ctx,
                                           authz_group_fn fn, void *arg);
CF_MUST_CHECK enum cf_rc authz_group_get(const struct cf_ctx *ctx,
                                         const char *id,
                                         struct authz_group_info *out);
/* Changing who is in a group, or deleting it, needs every permission of
 * the grants reaching the group (its own and its outer groups') where
 * they apply: 403 role_not_allowed otherwise. */
/* A change of a group: name NULL keeps it; members or groups NULL keep
 * the list, else an array of n public ids replaces it. */
struct authz_group_change {
    const char *name;
    const char *const *members;
    size_t nmembers;
    const char *const *groups;
    size_t ngroups;
};
CF_MUST_CHECK enum cf_rc authz_group_create(const struct cf_ctx *ctx,
                                            const struct authz_group_change *c,
                                            struct authz_group_info *out,
                                            const char **why);
CF_MUST_CHECK enum cf_rc authz_group_update(const struct cf_ctx *ctx,
                                            const char *id,
                                            const struct authz_group_change *c,
                                            struct authz_group_info *out,
                                            const char **why);
CF_MUST_CHECK enum cf_rc authz_group_delete(const struct cf_ctx *ctx,
                                            const char *id, const char **why);

/* An account's groups as space-separated public ids: its direct ones
 * (for the account list) or, nested, every one it is in. */
CF_MUST_CHECK enum cf_rc authz_user_groups(const struct cf_ctx *ctx,
                                           int64_t user_id, bool nested,
                                           char *out, size_t cap);

struct authz_grant_info {
    char id[AUTHZ_ID_LEN + 1];
    char user[AUTHZ_ID_LEN + 1];  /* "" when to a group */
    char group[AUTHZ_ID_LEN + 1]; /* "" when to an account */
    char role[AUTHZ_ID_LEN + 1];
    char role_name[4 * AUTHZ_LABEL_MAX + 1];
    char space[AUTHZ_ID_LEN + 1]; /* "" tenant-wide */
    int64_t created;
};

typedef enum cf_rc (*authz_grant_fn)(const struct authz_grant_info *g,
                                     void *arg);

/* Grants oldest first, filtered by the non-NULL public ids. */
CF_MUST_CHECK enum cf_rc authz_grants_each(const struct cf_ctx *ctx,
                                           const char *user, const char *group,
                                           const char *space, authz_grant_fn fn,
                                           void *arg);
/* One of user and group is NULL; space NULL for tenant-wide. The space
 * must exist (the caller checks: spaces belong to docs/). */
CF_MUST_CHECK enum cf_rc authz_grant_create(const struct cf_ctx *ctx,
                                            const char *user, const char *group,
                                            const char *role, const char *space,
                                            struct authz_grant_info *out,
                                            const char **why);
CF_MUST_CHECK enum cf_rc authz_grant_delete(const struct cf_ctx *ctx,
                                            const char *id, const char **why);

/* In the caller's transaction on db: drop the grants on space (the
 * space is being deleted). */
CF_MUST_CHECK enum cf_rc authz_space_forget(struct db *db, const char *space);

/* The effective permissions of the account user_id (role: its built-in
 * role): tenant-wide in *tenant, and fn for each space where grants give
 * it more. */
typedef enum cf_rc (*authz_space_fn)(const char *space, authz_mask perms,
                                     void *arg);
CF_MUST_CHECK enum cf_rc authz_effective(const struct cf_ctx *ctx,
                                         int64_t user_id, const char *role,
                                         authz_mask *tenant, authz_space_fn fn,
                                         void *arg);

/* ---- rules on accounts, in the caller's transaction -------------------- */

/*
 * May actor act on the account target (its built-in role target_role):
 * disable, remove, reset its 2FA, sign it out, unlock it, change its
 * role? Only when the actor's account holds, where the target holds
 * anything, everything the target holds there: its role and every grant
 * reaching it, tenant-wide and in each space (COMMITMENT B1). CF_OK,
 * CF_EPERM when not; any other code is a failure and denies too. Reads
 * through db, the caller's handle (inside its transaction).
 */
CF_MUST_CHECK enum cf_rc authz_account_covered(struct db *db,
                                               const struct cf_ctx *actor,
                                               int64_t target,
                                               const char *target_role);
/*
 * *out: does the tenant have an active owner, that is an active account
 * with a password holding every permission of the owner role tenant-wide
 * through its role or its grants? Changes that could take the last one
 * away ask before and after, in their transaction.
 */
CF_MUST_CHECK enum cf_rc authz_owner_exists(struct db *db, bool *out);

#endif
