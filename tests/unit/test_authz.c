/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * authz/: the permission catalogue and the built-in roles (COMMITMENT
 * B1). Each role holds exactly the set of docs/internals/auth-contract.md,
 * checked against every catalogue name; deny by default for unknown roles
 * and permissions, NULL included; the catalogue's own invariants (unique,
 * bounded names, both descriptions, roles drawn from it, administrative
 * permissions only in privileged roles); and every route of the HTTP
 * table declares a permission that http_routes_check accepts (B3).
 *
 * The decision on a real tenant database: the account's role, plus grants
 * to it or to its groups (nested), tenant-wide or in one space, narrowed
 * to a token; failing closed when the grants cannot be read; cycles and
 * escalation refused by the administration functions with nothing
 * changed.
 */
#include "core/compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include "authz/authz.h"
#include "crypto/crypto.h"
#include "db/db.h"
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

/* Built-in roles are named once; code asks by enum, never by string. */
static void
test_role_ids(void **state)
{
    (void)state;
    assert_int_equal(authz_roles_count, AUTHZ_ROLE_COUNT);
    assert_string_equal(authz_roles[AUTHZ_ROLE_OWNER].name, "owner");
    assert_string_equal(authz_roles[AUTHZ_ROLE_AUDITOR].name, "auditor");
    assert_true(authz_role_is("owner", AUTHZ_ROLE_OWNER));
    assert_false(authz_role_is("admin", AUTHZ_ROLE_OWNER));
    assert_false(authz_role_is("Owner", AUTHZ_ROLE_OWNER));
    assert_false(authz_role_is(NULL, AUTHZ_ROLE_OWNER));
    assert_false(authz_role_is("owner", AUTHZ_ROLE_COUNT));
    assert_true(authz_roles[AUTHZ_ROLE_ADMIN].privileged);
    assert_false(authz_roles[AUTHZ_ROLE_MEMBER].privileged);
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

/* ---- the decision on a tenant database -------------------------------- */

struct fx {
    char dir[64];
    struct db_pool *pool;
    struct cx_keyset *keys;
    const struct cx_data_key *audit_key;
};

#define SPACE_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SPACE_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void
fx_sql(struct fx *f, const char *sql)
{
    struct db *db = NULL;

    assert_int_equal(db_pool_get(f->pool, 1, 0, &db), CF_OK);
    assert_int_equal(db_exec(db, sql), CF_OK);
    db_pool_put(f->pool, db);
}

static int64_t
fx_count(struct fx *f, const char *sql)
{
    struct db *db = NULL;
    int64_t n = -1;

    assert_int_equal(db_pool_get(f->pool, 1, 0, &db), CF_OK);
    assert_int_equal(db_query_int64(db, sql, &n), CF_OK);
    db_pool_put(f->pool, db);
    return n;
}

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct cx_data_key *root = NULL;
    struct db *db = NULL;

    assert_non_null(f);
    assert_int_equal(cx_init(), CF_OK);
    snprintf(f->dir, sizeof(f->dir), "%s/coffre-authz-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(db_pool_new(f->dir, 4, 2, 1000, &f->pool), CF_OK);
    assert_int_equal(db_pool_get(f->pool, 1, DB_POOL_CREATE, &db), CF_OK);
    db_pool_put(f->pool, db);
    assert_int_equal(cx_data_key_new(&root), CF_OK);
    assert_int_equal(cx_keyset_new(root, &f->keys), CF_OK);
    assert_int_equal(cx_keyset_sub(f->keys, CX_SUBKEY_AUDIT, &f->audit_key),
                     CF_OK);
    /* accounts 1 owner, 2 member, 3 auditor; groups 1 inside 2 inside 3;
     * account 3 in group 1 */
    fx_sql(
        f,
        "INSERT INTO users (id, email_index, email_sealed, role,"
        " created, public_id) VALUES"
        " (1, x'01', x'01', 'owner', 0, '11111111111111111111111111111111'),"
        " (2, x'02', x'02', 'member', 0, '22222222222222222222222222222222'),"
        " (3, x'03', x'03', 'auditor', 0, '33333333333333333333333333333333');"
        "INSERT INTO user_groups (id, public_id, name, name_key, created)"
        " VALUES (1, 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', 'g1', 'g1', 0),"
        " (2, 'a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2', 'g2', 'g2', 0),"
        " (3, 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3', 'g3', 'g3', 0);"
        "INSERT INTO group_groups (group_id, member_id, seq) VALUES"
        " (2, 1, 0), (3, 2, 0);"
        "INSERT INTO group_users (group_id, user_id, seq) VALUES (1, 3, 0);"
        "INSERT INTO roles (public_id, name, name_key, permissions, created)"
        " VALUES ('cccccccccccccccccccccccccccccccc', 'Managers',"
        " 'managers', 'role.manage space.manage', 0);");
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    db_pool_free(f->pool);
    cx_keyset_unref(f->keys);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct cf_ctx
fx_ctx(struct fx *f, int64_t user, const char *role, const char *token)
{
    return (struct cf_ctx){.pool = f->pool,
                           .tenant_id = 1,
                           .user_id = user,
                           .role = role,
                           .token_perms = token,
                           .principal = "cli:test",
                           .audit_key = f->audit_key};
}

/* The clear details of the newest audit event, whose action must be
 * action, into out. */
static void
fx_last_details(struct fx *f, const char *action, struct cf_buf *out)
{
    struct db_stmt *st = NULL;
    struct db *db = NULL;
    const void *blob;
    size_t len = 0;

    assert_int_equal(db_pool_get(f->pool, 1, 0, &db), CF_OK);
    assert_int_equal(db_row(db, &st,
                            "SELECT action, details FROM audit_events"
                            " ORDER BY seq DESC LIMIT 1",
                            DB_END),
                     CF_OK);
    assert_string_equal(db_col_text(st, 0), action);
    blob = db_col_blob(st, 1, &len);
    assert_int_equal(
        cx_field_open(f->audit_key, "audit.details", 13, blob, len, out),
        CF_OK);
    db_stmt_done(st);
    db_pool_put(f->pool, db);
}

static void
test_masks(void **state)
{
    char list[AUTHZ_PERMS_TEXT];
    authz_mask all = 0;
    size_t i;

    (void)state;
    for (i = 0; i < authz_perms_count; i++) {
        assert_int_equal(authz_perm_bit(authz_perms[i].name), 1u << i);
        all |= authz_perm_bit(authz_perms[i].name);
    }
    assert_int_equal(authz_role_mask("owner"), all);
    assert_int_equal(authz_perm_bit("doc.reads"), 0);
    assert_int_equal(authz_perm_bit(NULL), 0);
    assert_int_equal(authz_role_mask("Owner"), 0);
    /* order and repeats do not matter; unknown names add nothing */
    assert_int_equal(authz_list_mask("audit.read  doc.read nope doc.read"),
                     authz_perm_bit("doc.read") | authz_perm_bit("audit.read"));
    authz_mask_list(authz_list_mask("audit.read doc.read"), list, sizeof(list));
    assert_string_equal(list, "doc.read audit.read");
    authz_mask_list(all, list, sizeof(list));
    assert_int_equal(authz_list_mask(list), all);
}

static void
test_grants_reach_through_nested_groups(void **state)
{
    struct fx *f = *state;
    struct cf_ctx member = fx_ctx(f, 2, "member", NULL);
    struct cf_ctx auditor = fx_ctx(f, 3, "auditor", NULL);
    authz_mask m = 0;

    /* the role alone */
    assert_int_equal(authz_check(&member, "doc.write", AUTHZ_TENANT), CF_OK);
    assert_int_equal(authz_check(&member, "audit.read", AUTHZ_TENANT),
                     CF_EPERM);
    assert_int_equal(authz_check(&auditor, "doc.read", AUTHZ_ANY), CF_EPERM);
    assert_int_equal(authz_check(&auditor, "no.such", AUTHZ_TENANT), CF_EPERM);

    /* a custom role granted to the outermost group, tenant-wide: the
     * auditor (in the innermost group) holds it */
    fx_sql(f, "INSERT INTO grants (public_id, group_id, role, created) VALUES"
              " ('d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1', 3,"
              " 'cccccccccccccccccccccccccccccccc', 0)");
    assert_int_equal(authz_check(&auditor, "role.manage", AUTHZ_TENANT), CF_OK);
    assert_int_equal(authz_check(&auditor, "space.manage", SPACE_A), CF_OK);
    assert_int_equal(authz_check(&member, "role.manage", AUTHZ_TENANT),
                     CF_EPERM);

    /* a space grant: that space only, and "anywhere" */
    fx_sql(f,
           "INSERT INTO grants (public_id, user_id, role, space, created)"
           " VALUES ('d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2', 3, 'member', '" SPACE_A
           "', 0)");
    assert_int_equal(authz_check(&auditor, "doc.write", SPACE_A), CF_OK);
    assert_int_equal(authz_check(&auditor, "doc.write", SPACE_B), CF_EPERM);
    assert_int_equal(authz_check(&auditor, "doc.write", AUTHZ_TENANT),
                     CF_EPERM);
    assert_int_equal(authz_check(&auditor, "doc.write", AUTHZ_ANY), CF_OK);
    assert_int_equal(authz_mask_of(&auditor, SPACE_A, &m), CF_OK);
    assert_int_equal(m, authz_role_mask("member") | authz_role_mask("auditor") |
                            authz_list_mask("role.manage space.manage"));

    /* a token narrows everything, its account's role included */
    auditor.token_perms = "doc.write";
    assert_int_equal(authz_check(&auditor, "doc.write", SPACE_A), CF_OK);
    assert_int_equal(authz_check(&auditor, "audit.read", AUTHZ_TENANT),
                     CF_EPERM);
    assert_int_equal(authz_check(&auditor, "role.manage", AUTHZ_TENANT),
                     CF_EPERM);

    /* leaving the group takes the grant away at once */
    fx_sql(f, "DELETE FROM group_groups WHERE group_id = 3");
    auditor.token_perms = NULL;
    assert_int_equal(authz_check(&auditor, "role.manage", AUTHZ_TENANT),
                     CF_EPERM);
}

static void
test_fails_closed(void **state)
{
    struct fx *f = *state;
    struct cf_ctx auditor = fx_ctx(f, 3, "auditor", NULL);
    authz_mask m = 1;

    fx_sql(f, "INSERT INTO grants (public_id, user_id, role, created) VALUES"
              " ('d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3', 3, 'admin', 0)");
    assert_int_equal(authz_check(&auditor, "user.manage", AUTHZ_TENANT), CF_OK);
    /* the grants cannot be read: deny, not allow */
    fx_sql(f, "ALTER TABLE grants RENAME TO grants_gone");
    assert_int_not_equal(authz_check(&auditor, "user.manage", AUTHZ_TENANT),
                         CF_OK);
    assert_int_not_equal(authz_mask_of(&auditor, AUTHZ_TENANT, &m), CF_OK);
    assert_int_equal(m, 0);
    /* the account's own role needs no query */
    assert_int_equal(authz_check(&auditor, "audit.read", AUTHZ_TENANT), CF_OK);
    fx_sql(f, "ALTER TABLE grants_gone RENAME TO grants");
}

static void
test_cycles_and_escalation_change_nothing(void **state)
{
    struct fx *f = *state;
    struct cf_ctx owner = fx_ctx(f, 1, "owner", NULL);
    struct cf_ctx admin = fx_ctx(f, 2, "admin", NULL);
    struct authz_group_info g = {0};
    struct authz_role_info r;
    struct authz_grant_info gr;
    const char *const inner[] = {"c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"};
    const char *const self[] = {"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"};
    struct authz_group_change c = {.groups = inner, .ngroups = 1};
    const char *why = NULL;
    int64_t links = fx_count(f, "SELECT count(*) FROM group_groups");
    int64_t events = fx_count(f, "SELECT count(*) FROM audit_events");

    /* g1 inside g2 inside g3: g3 inside g1 closes a cycle */
    assert_int_equal(authz_group_update(&owner,
                                        "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", &c,
                                        &g, &why),
                     CF_EINVAL);
    assert_string_equal(why, "cycle");
    c.groups = self;
    assert_int_equal(authz_group_update(&owner,
                                        "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", &c,
                                        &g, &why),
                     CF_EINVAL);
    assert_string_equal(why, "cycle");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM group_groups"), links);

    /* an admin (its role, here) cannot make a role holding tenant.delete,
     * nor grant owner */
    assert_int_equal(
        authz_role_create(&admin, "Big", authz_role_mask("owner"), &r, &why),
        CF_EPERM);
    assert_string_equal(why, "permission_not_held");
    assert_int_equal(authz_grant_create(&admin,
                                        "22222222222222222222222222222222",
                                        NULL, "owner", NULL, &gr, &why),
                     CF_EPERM);
    assert_string_equal(why, "role_not_allowed");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit_events"), events);

    /* what it holds, it may give; each change is audited */
    assert_int_equal(authz_role_create(&admin, "Readers",
                                       authz_list_mask("doc.read"), &r, &why),
                     CF_OK);
    assert_int_equal(authz_grant_create(&admin,
                                        "33333333333333333333333333333333",
                                        NULL, r.id, SPACE_B, &gr, &why),
                     CF_OK);
    assert_int_equal(authz_grant_create(&admin,
                                        "33333333333333333333333333333333",
                                        NULL, r.id, SPACE_B, &gr, &why),
                     CF_EINVAL);
    assert_string_equal(why, "duplicate_grant");
    assert_int_equal(authz_role_delete(&admin, r.id, &why), CF_ECONFLICT);
    assert_string_equal(why, "role_in_use");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit_events"),
                     events + 2);
}

static void
test_no_escalation_through_membership(void **state)
{
    struct fx *f = *state;
    struct cf_ctx owner = fx_ctx(f, 1, "owner", NULL);
    struct cf_ctx admin = fx_ctx(f, 2, "admin", NULL);
    struct authz_group_info g = {0};
    const char *const me[] = {"22222222222222222222222222222222"};
    const char *const outer[] = {"c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"};
    struct authz_group_change join = {.members = me, .nmembers = 1};
    const char *why = NULL;
    int64_t members = fx_count(f, "SELECT count(*) FROM group_users");

    /* the owner role granted to the outermost group */
    fx_sql(f, "INSERT INTO grants (public_id, group_id, role, created) VALUES"
              " ('d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4', 3, 'owner', 0)");
    /* an admin cannot join a group inside it, nor move a group under it,
     * nor delete it */
    assert_int_equal(authz_group_update(&admin,
                                        "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
                                        &join, &g, &why),
                     CF_EPERM);
    assert_string_equal(why, "role_not_allowed");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM group_users"), members);
    join = (struct authz_group_change){.groups = outer, .ngroups = 0};
    assert_int_equal(authz_group_update(&admin,
                                        "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3",
                                        &join, &g, &why),
                     CF_EPERM);
    assert_int_equal(
        authz_group_delete(&admin, "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3", &why),
        CF_EPERM);
    assert_int_equal(authz_check(&admin, "tenant.delete", AUTHZ_TENANT),
                     CF_EPERM);
    /* the owner can */
    join = (struct authz_group_change){.members = me, .nmembers = 1};
    assert_int_equal(authz_group_update(&owner,
                                        "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
                                        &join, &g, &why),
                     CF_OK);
    authz_group_release(&g);
    assert_int_equal(authz_check(&admin, "tenant.delete", AUTHZ_TENANT), CF_OK);
    /* the change is audited with the old and the new members */
    {
        struct cf_buf d;

        cf_buf_init(&d, 65536);
        fx_last_details(f, "group.update", &d);
        assert_string_equal(
            cf_buf_str(&d),
            "{\"old\":{\"name\":\"g1\",\"members\":"
            "\"33333333333333333333333333333333\",\"groups\":\"\"},"
            "\"new\":{\"name\":\"g1\",\"members\":"
            "\"22222222222222222222222222222222\",\"groups\":\"\"}}");
        cf_buf_release(&d);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue_is_the_contracts),
        cmocka_unit_test(test_owner_holds_everything),
        cmocka_unit_test(test_builtin_roles),
        cmocka_unit_test(test_role_ids),
        cmocka_unit_test(test_privileged_roles),
        cmocka_unit_test(test_deny_by_default),
        cmocka_unit_test(test_catalogue_invariants),
        cmocka_unit_test(test_routes_use_known_permissions),
        cmocka_unit_test(test_role_covers),
        cmocka_unit_test(test_masks),
        cmocka_unit_test_setup_teardown(test_grants_reach_through_nested_groups,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_fails_closed, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_cycles_and_escalation_change_nothing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_escalation_through_membership,
                                        fx_setup, fx_teardown),
    };

    return cmocka_run_group_tests_name("authz", tests, NULL, NULL);
}
