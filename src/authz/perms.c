/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The permission catalogue and the built-in roles (COMMITMENT B1). A new
 * permission is one line in authz_perms[] and its place in the roles
 * below; docs/internals/auth-contract.md lists them for people.
 */
#include "core/compat.h"

#include "authz/authz.h"

const struct authz_perm authz_perms[] = {
    {"doc.read", "Lire les documents et les notes", "Read documents and notes",
     false},
    {"doc.write", "Déposer et modifier des documents",
     "Upload and edit documents", false},
    {"doc.delete", "Supprimer des documents", "Delete documents", false},
    {"note.write", "Écrire des notes", "Write notes", false},
    {"space.manage", "Créer et gérer les espaces", "Create and manage spaces",
     false},
    {"user.manage", "Inviter, désactiver et débloquer des utilisateurs",
     "Invite, disable and unlock users", true},
    {"role.manage", "Gérer les rôles, les groupes et les droits",
     "Manage roles, groups and grants", true},
    {"audit.read", "Lire les journaux d'accès et d'audit",
     "Read the access and audit logs", false},
    {"settings.security", "Modifier les réglages de sécurité de l'espace",
     "Change the workspace's security settings", true},
    {"tenant.export", "Exporter toutes les données de l'espace",
     "Export all of the workspace's data", true},
    {"tenant.delete", "Supprimer l'espace et ses données",
     "Delete the workspace and its data", true},
};
const size_t authz_perms_count = CF_ARRAY_LEN(authz_perms);

static const char *const role_owner[] = {
    "doc.read",          "doc.write",     "doc.delete",    "note.write",
    "space.manage",      "user.manage",   "role.manage",   "audit.read",
    "settings.security", "tenant.export", "tenant.delete", NULL,
};
static const char *const role_admin[] = {
    "doc.read",          "doc.write",   "doc.delete",  "note.write",
    "space.manage",      "user.manage", "role.manage", "audit.read",
    "settings.security", NULL,
};
static const char *const role_member[] = {
    "doc.read", "doc.write", "doc.delete", "note.write", NULL,
};
static const char *const role_guest[] = {"doc.read", NULL};
static const char *const role_auditor[] = {"audit.read", NULL};

const struct authz_role authz_roles[AUTHZ_ROLE_COUNT] = {
    [AUTHZ_ROLE_OWNER] = {"owner", role_owner, true},
    [AUTHZ_ROLE_ADMIN] = {"admin", role_admin, true},
    [AUTHZ_ROLE_MEMBER] = {"member", role_member, false},
    [AUTHZ_ROLE_GUEST] = {"guest", role_guest, false},
    [AUTHZ_ROLE_AUDITOR] = {"auditor", role_auditor, false},
};
const size_t authz_roles_count = CF_ARRAY_LEN(authz_roles);

bool
authz_role_is(const char *role, enum authz_role_id id)
{
    return (size_t)id < authz_roles_count && authz_role_find(role) != NULL &&
           authz_role_find(role) == &authz_roles[id];
}

const struct authz_perm *
authz_perm_find(const char *name)
{
    size_t i;

    if (name == NULL) {
        return NULL;
    }
    for (i = 0; i < authz_perms_count; i++) {
        if (strcmp(authz_perms[i].name, name) == 0) {
            return &authz_perms[i];
        }
    }
    return NULL;
}

const struct authz_role *
authz_role_find(const char *name)
{
    size_t i;

    if (name == NULL) {
        return NULL;
    }
    for (i = 0; i < authz_roles_count; i++) {
        if (strcmp(authz_roles[i].name, name) == 0) {
            return &authz_roles[i];
        }
    }
    return NULL;
}

bool
authz_role_has(const char *role, const char *perm)
{
    return (authz_role_mask(role) & authz_perm_bit(perm)) != 0;
}

bool
authz_role_privileged(const char *role)
{
    const struct authz_role *r = authz_role_find(role);

    return r != NULL && r->privileged;
}

bool
authz_role_covers(const char *actor, const char *role)
{
    authz_mask need = authz_role_mask(role);

    /* an unknown role holds nothing: covered by nobody, covering nothing */
    return need != 0 && (need & ~authz_role_mask(actor)) == 0;
}
