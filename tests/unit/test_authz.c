/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * authz/: the permission catalogue and the built-in roles (COMMITMENT
 * B1). Each role holds exactly the set of docs/internals/auth-contract.md,
 * checked against every catalogue name; deny by default for unknown roles
 * and permissions, NULL included; the catalogue's own invariants (unique,
 * bounded names, both descriptions, roles drawn from it, administrative
 * permissions only in privileged roles); and every route of the HTTP
 * table declares a permission that http_routes_check accepts (B3).
 */
#include "core/compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include "authz/authz.h"
#include "http/http_int.h"

/* The catalogue of the contract, in its order. */
static const char *const catalogue[] = {
    "doc.read",          "doc.write",     "doc.delete",    "note.write",
    "space.manage",      "user.manage",   "role.manage",   "audit.read",
    "settings.security", "tenant.export", "tenant.delete",
};

/* Names that are no permission: near misses, other spellings, the
 * route pseudo-permissions, wildcards. */
static const char *const not_perms[] = {
    "",          "doc",         "doc.",
    "doc.read ", " doc.read",   "Doc.Read",
    "DOC.READ",  "doc.reads",   "doc.rea",
    "doc_read",  "doc.read\n",  "*",
    "all",       "PUBLIC",      "session",
    "principal", "ops.metrics", "admin",
    "owner",     "tenant.*",    "audit.read,doc.read",
};

/* Names that are no role. */
static const char *const not_roles[] = {
    "",        "Owner", "OWNER",  "owner ",   " owner", "root",   "superuser",
    "admin\n", "own",   "ownerx", "doc.read", "*",      "system", "PUBLIC",
};

/* Does the NULL-terminated list hold name? */
static bool
list_has(const char *const *list, const char *name)
{
    size_t i;

    for (i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* role holds exactly the permissions of want (NULL-terminated), checked
 * through authz_role_has for every catalogue name, and its table lists
 * them once each. */
static void
check_role_exactly(const char *role, const char *const *want)
{
    const struct authz_role *r = authz_role_find(role);
    size_t i;
    size_t j;
    size_t n = 0;

    assert_non_null(r);
    assert_string_equal(r->name, role);
    for (i = 0; i < CF_ARRAY_LEN(catalogue); i++) {
        bool expect = list_has(want, catalogue[i]);

        if (authz_role_has(role, catalogue[i]) != expect) {
            fail_msg("role %s: %s should be %s", role, catalogue[i],
                     expect ? "held" : "refused");
        }
    }
    for (i = 0; want[i] != NULL; i++) {
        n++;
    }
    for (i = 0; r->permissions[i] != NULL; i++) {
        for (j = 0; j < i; j++) {
            if (strcmp(r->permissions[i], r->permissions[j]) == 0) {
                fail_msg("role %s lists %s twice", role, r->permissions[i]);
            }
        }
    }
    assert_int_equal(i, n);
}

static void
test_catalogue_is_the_contracts(void **state)
{
    size_t i;

    (void)state;
    assert_int_equal(authz_perms_count, CF_ARRAY_LEN(catalogue));
    for (i = 0; i < CF_ARRAY_LEN(catalogue); i++) {
        const struct authz_perm *p = authz_perm_find(catalogue[i]);

        assert_string_equal(authz_perms[i].name, catalogue[i]);
        assert_ptr_equal(p, &authz_perms[i]);
    }
}

static void
test_owner_holds_everything(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < authz_perms_count; i++) {
        if (!authz_role_has("owner", authz_perms[i].name)) {
            fail_msg("owner lacks %s", authz_perms[i].name);
        }
    }
    for (i = 0; i < CF_ARRAY_LEN(catalogue); i++) {
        assert_true(authz_role_has("owner", catalogue[i]));
    }
    assert_null(authz_role_find("owner")->permissions[authz_perms_count]);
}

static void
test_builtin_roles(void **state)
{
    static const char *const admin[] = {
        "doc.read",          "doc.write",   "doc.delete",  "note.write",
        "space.manage",      "user.manage", "role.manage", "audit.read",
        "settings.security", NULL,
    };
    static const char *const member[] = {"doc.read", "doc.write", "doc.delete",
                                         "note.write", NULL};
    static const char *const guest[] = {"doc.read", NULL};
    static const char *const auditor[] = {"audit.read", NULL};
    const char *owner[CF_ARRAY_LEN(catalogue) + 1];
    size_t i;

    (void)state;
    for (i = 0; i < CF_ARRAY_LEN(catalogue); i++) {
        owner[i] = catalogue[i];
    }
    owner[i] = NULL;
    check_role_exactly("owner", owner);
    check_role_exactly("admin", admin);
    check_role_exactly("member", member);
    check_role_exactly("guest", guest);
    check_role_exactly("auditor", auditor);
    assert_false(authz_role_has("admin", "tenant.export"));
    assert_false(authz_role_has("admin", "tenant.delete"));
    assert_int_equal(authz_roles_count, 5);
}

static void
test_privileged_roles(void **state)
{
    size_t i;

    (void)state;
    assert_true(authz_role_privileged("owner"));
    assert_true(authz_role_privileged("admin"));
    assert_false(authz_role_privileged("member"));
    assert_false(authz_role_privileged("guest"));
    assert_false(authz_role_privileged("auditor"));
    assert_false(authz_role_privileged(NULL));
    for (i = 0; i < CF_ARRAY_LEN(not_roles); i++) {
        assert_false(authz_role_privileged(not_roles[i]));
    }
}

static void
test_deny_by_default(void **state)
{
    size_t i;
    size_t j;

    (void)state;
    assert_null(authz_perm_find(NULL));
    assert_null(authz_role_find(NULL));
    assert_false(authz_role_has(NULL, NULL));
    assert_false(authz_role_has(NULL, "doc.read"));
    assert_false(authz_role_has("owner", NULL));
    for (i = 0; i < CF_ARRAY_LEN(not_roles); i++) {
        assert_null(authz_role_find(not_roles[i]));
        assert_false(authz_role_has(not_roles[i], NULL));
        for (j = 0; j < CF_ARRAY_LEN(catalogue); j++) {
            if (authz_role_has(not_roles[i], catalogue[j])) {
                fail_msg("unknown role '%s' holds %s", not_roles[i],
                         catalogue[j]);
            }
        }
    }
    for (i = 0; i < CF_ARRAY_LEN(not_perms); i++) {
        assert_null(authz_perm_find(not_perms[i]));
        for (j = 0; j < authz_roles_count; j++) {
            if (authz_role_has(authz_roles[j].name, not_perms[i])) {
                fail_msg("role %s holds unknown permission '%s'",
                         authz_roles[j].name, not_perms[i]);
            }
        }
    }
}

static void
test_catalogue_invariants(void **state)
{
    size_t i;
    size_t j;

    (void)state;
    for (i = 0; i < authz_perms_count; i++) {
        const struct authz_perm *p = &authz_perms[i];

        assert_non_null(p->name);
        assert_true(strlen(p->name) > 0);
        assert_true(strlen(p->name) <= AUTHZ_NAME_MAX);
        /* a name is what tokens store space-separated: no blank in it */
        assert_null(strpbrk(p->name, " \t\r\n,"));
        assert_non_null(p->fr);
        assert_non_null(p->en);
        assert_true(strlen(p->fr) > 0 && strlen(p->en) > 0);
        assert_true(strcmp(p->fr, p->en) != 0);
        for (j = 0; j < i; j++) {
            if (strcmp(authz_perms[j].name, p->name) == 0) {
                fail_msg("permission %s is declared twice", p->name);
            }
        }
    }
    for (i = 0; i < authz_roles_count; i++) {
        const struct authz_role *r = &authz_roles[i];

        assert_non_null(r->name);
        assert_true(strlen(r->name) > 0);
        assert_true(strlen(r->name) <= AUTHZ_NAME_MAX);
        assert_ptr_equal(authz_role_find(r->name), r);
        /* a role name is never a permission name */
        assert_null(authz_perm_find(r->name));
        for (j = 0; j < i; j++) {
            if (strcmp(authz_roles[j].name, r->name) == 0) {
                fail_msg("role %s is declared twice", r->name);
            }
        }
        assert_non_null(r->permissions);
        for (j = 0; r->permissions[j] != NULL; j++) {
            const struct authz_perm *p = authz_perm_find(r->permissions[j]);

            if (p == NULL) {
                fail_msg("role %s lists %s, not in the catalogue", r->name,
                         r->permissions[j]);
            }
            /* COMMITMENT A12 relies on this: only owners and admins can
             * administer, so only they are bound by the `admins` policy */
            if (p->admin && !r->privileged) {
                fail_msg("role %s is not privileged but holds %s", r->name,
                         p->name);
            }
            assert_true(authz_role_has(r->name, r->permissions[j]));
        }
    }
}

/* COMMITMENT B3: every route declares PUBLIC, a pseudo-permission or a
 * catalogue name, and the table check agrees. */
static void
test_routes_use_known_permissions(void **state)
{
    static const char *const pseudo[] = {
        HTTP_PUBLIC,         HTTP_PERM_METRICS,
        HTTP_PERM_SESSION,   HTTP_PERM_SESSION_PARTIAL,
        HTTP_PERM_PRINCIPAL,
    };
    char err[256] = "";
    size_t i;
    size_t j;
    size_t catalogue_routes = 0;

    (void)state;
    assert_int_equal(http_routes_check(err, sizeof(err)), CF_OK);
    assert_string_equal(err, "");
    for (i = 0; i < http_routes_count; i++) {
        const struct http_route *r = &http_routes[i];
        bool known = authz_perm_find(r->permission) != NULL;

        assert_non_null(r->permission);
        for (j = 0; !known && j < CF_ARRAY_LEN(pseudo); j++) {
            known = strcmp(r->permission, pseudo[j]) == 0;
        }
        if (!known) {
            fail_msg("route %s %s: unknown permission '%s'", r->method,
                     r->pattern, r->permission);
        }
        if (authz_perm_find(r->permission) != NULL) {
            catalogue_routes++;
            /* roles exist only inside a tenant */
            assert_int_equal(r->host, HTTP_HOST_TENANT);
        }
        /* administration always names a real permission */
        if (strncmp(r->pattern, "/api/v1/admin/", 14) == 0 &&
            authz_perm_find(r->permission) == NULL) {
            fail_msg("admin route %s %s has no catalogue permission", r->method,
                     r->pattern);
        }
    }
    assert_true(catalogue_routes >= 2);
}

/* No escalation: what a role may hand out or act upon. */
static void
test_role_covers(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < authz_roles_count; i++) {
        /* every role covers itself; the owner covers every role */
        assert_true(
            authz_role_covers(authz_roles[i].name, authz_roles[i].name));
        assert_true(authz_role_covers("owner", authz_roles[i].name));
    }
    assert_false(authz_role_covers("admin", "owner"));
    assert_true(authz_role_covers("admin", "member"));
    assert_true(authz_role_covers("admin", "auditor"));
    assert_false(authz_role_covers("member", "admin"));
    assert_false(authz_role_covers("member", "auditor"));
    assert_false(authz_role_covers("auditor", "guest"));
    assert_true(authz_role_covers("member", "guest"));
    assert_false(authz_role_covers("guest", "member"));
    assert_false(authz_role_covers("nobody", "guest"));
    assert_false(authz_role_covers("owner", "nobody"));
    assert_false(authz_role_covers(NULL, "guest"));
    assert_false(authz_role_covers("owner", NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue_is_the_contracts),
        cmocka_unit_test(test_owner_holds_everything),
        cmocka_unit_test(test_builtin_roles),
        cmocka_unit_test(test_privileged_roles),
        cmocka_unit_test(test_deny_by_default),
        cmocka_unit_test(test_catalogue_invariants),
        cmocka_unit_test(test_routes_use_known_permissions),
        cmocka_unit_test(test_role_covers),
    };

    return cmocka_run_group_tests_name("authz", tests, NULL, NULL);
}
