/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tenant/: slug rules, Host header resolution, and creation: the row, the
 * wrapped key, the tenant database and the audit events commit together,
 * and a refused creation leaves nothing (COMMITMENT B2, C2).
 */
#include "core/compat.h"

#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "tenant/tenant.h"

static void
test_slugs(void **state)
{
    static const char *const good[] = {
        "acme", "a-b", "abc", "x9-2z",
        "0123456789012345678901234567890123456789"};
    static const char *const bad[] = {
        "ab",
        "-abc",
        "abc-",
        "ABC",
        "a_b",
        "a.b",
        "a b",
        "",
        "www",
        "admin",
        "api",
        "trust",
        "status",
        "acm\xc3\xa9",
        "01234567890123456789012345678901234567890"};
    const char *reason = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < CF_ARRAY_LEN(good); i++) {
        assert_int_equal(tenant_slug_check(good[i], &reason), CF_OK);
    }
    for (i = 0; i < CF_ARRAY_LEN(bad); i++) {
        reason = NULL;
        assert_int_equal(tenant_slug_check(bad[i], &reason), CF_EINVAL);
        assert_non_null(reason);
    }
}

static void
test_hosts(void **state)
{
    static const struct {
        const char *host;
        enum cf_rc rc;
        enum tenant_host_kind kind;
        const char *label;
    } cases[] = {
        {"localhost", CF_OK, TENANT_HOST_PLATFORM, ""},
        {"LOCALHOST:8443", CF_OK, TENANT_HOST_PLATFORM, ""},
        {"localhost.", CF_OK, TENANT_HOST_PLATFORM, ""},
        {"acme.localhost:8443", CF_OK, TENANT_HOST_TENANT, "acme"},
        {"AcMe.LocalHost", CF_OK, TENANT_HOST_TENANT, "acme"},
        {"x.y.localhost", CF_OK, TENANT_HOST_TENANT, "x.y"},
        {"example.com", CF_OK, TENANT_HOST_FOREIGN, ""},
        {"evillocalhost", CF_OK, TENANT_HOST_FOREIGN, ""},
        {"", CF_EINVAL, 0, NULL},
        {"a..localhost", CF_EINVAL, 0, NULL},
        {".localhost", CF_EINVAL, 0, NULL},
        {"bad_host!", CF_EINVAL, 0, NULL},
        {"acme.localhost:99999", CF_EINVAL, 0, NULL},
        {"acme.localhost:0", CF_EINVAL, 0, NULL},
        {"acme.localhost:abc", CF_EINVAL, 0, NULL},
        {"acme.localhost:", CF_EINVAL, 0, NULL},
        {"-acme.localhost", CF_EINVAL, 0, NULL},
        {"acme-.localhost", CF_EINVAL, 0, NULL},
        {"acme.localhost\r\nX: y", CF_EINVAL, 0, NULL},
        {"user@acme.localhost", CF_EINVAL, 0, NULL},
        {"[::1]:8443", CF_EINVAL, 0, NULL},
    };
    char label[TENANT_HOST_MAX + 1];
    size_t i;

    (void)state;
    assert_int_equal(tenant_host_parse(NULL, "localhost",
                                       &(enum tenant_host_kind){0}, label),
                     CF_EINVAL);
    for (i = 0; i < CF_ARRAY_LEN(cases); i++) {
        enum tenant_host_kind kind = 0;
        enum cf_rc rc =
            tenant_host_parse(cases[i].host, "localhost", &kind, label);

        assert_int_equal(rc, cases[i].rc);
        if (rc == CF_OK) {
            assert_int_equal(kind, cases[i].kind);
            assert_string_equal(label, cases[i].label);
        }
    }
}

struct fixture {
    char dir[64];
    char tenants[96];
    struct cx_keyring *kr;
    struct db *control;
    struct db_pool *pool;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[128];
    char err[256];

    snprintf(f->dir, sizeof(f->dir), "/tmp/coffre-tenant-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->tenants, sizeof(f->tenants), "%s/tenants", f->dir);
    assert_int_equal(mkdir(f->tenants, 0700), 0);
    assert_int_equal(cx_init(), CF_OK);
    assert_int_equal(cx_master_create(f->dir), CF_OK);
    assert_int_equal(cx_keyring_open(f->dir, err, sizeof(err), &f->kr), CF_OK);
    snprintf(path, sizeof(path), "%s/control.db", f->dir);
    assert_int_equal(db_open(path, DB_KIND_CONTROL, 1000, &f->control), CF_OK);
    assert_int_equal(db_pool_new(f->tenants, 8, 2, 1000, &f->pool), CF_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    db_pool_free(f->pool);
    db_close(f->control);
    cx_keyring_free(f->kr);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static enum cf_rc
count_cb(const struct tenant *t, void *arg)
{
    (void)t;
    (*(int *)arg)++;
    return CF_OK;
}

static void
test_create(void **state)
{
    struct fixture *f = *state;
    struct tenant t;
    struct tenant found;
    struct db *tdb = NULL;
    int64_t events = -1;
    int64_t n = 0;
    int seen = 0;
    char path[160];

    assert_int_equal(tenant_create(f->control, f->pool, f->kr, "acme",
                                   "Acme SAS", "cli:test", &t),
                     CF_OK);
    assert_true(t.id > 0);
    assert_string_equal(t.name, "Acme SAS");
    snprintf(path, sizeof(path), "%s/%lld/tenant.db", f->tenants,
             (long long)t.id);
    assert_int_equal(access(path, F_OK), 0);
    /* its own database got its first audit event (COMMITMENT C2) */
    assert_int_equal(db_pool_get(f->pool, t.id, 0, &tdb), CF_OK);
    assert_int_equal(audit_count(tdb, &events), CF_OK);
    assert_int_equal(events, 1);
    db_pool_put(f->pool, tdb);
    db_lock(f->control);
    assert_int_equal(audit_count(f->control, &events), CF_OK);
    db_unlock(f->control);
    assert_int_equal(events, 1);

    assert_int_equal(tenant_find(f->control, "acme", &found), CF_OK);
    assert_int_equal(found.id, t.id);
    assert_string_equal(found.name, "Acme SAS");
    assert_int_equal(tenant_find(f->control, "nope", &found), CF_ENOTFOUND);

    /* duplicate: refused, nothing written, no event */
    assert_int_equal(
        tenant_create(f->control, f->pool, f->kr, "acme", NULL, "cli:test", &t),
        CF_ECONFLICT);
    db_lock(f->control);
    assert_int_equal(audit_count(f->control, &events), CF_OK);
    db_unlock(f->control);
    assert_int_equal(events, 1);
    assert_int_equal(
        tenant_create(f->control, f->pool, f->kr, "Bad!", NULL, "cli:test", &t),
        CF_EINVAL);

    /* a second tenant: name defaults to the slug */
    assert_int_equal(
        tenant_create(f->control, f->pool, f->kr, "beta", NULL, "cli:test", &t),
        CF_OK);
    assert_string_equal(t.name, "beta");
    assert_int_equal(tenant_count(f->control, &n), CF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(tenant_each(f->control, count_cb, &seen), CF_OK);
    assert_int_equal(seen, 2);
}

/* The keyset cache: one unwrap per tenant and key version, shared. */
static void
test_keys_cached(void **state)
{
    struct fixture *f = *state;
    struct tenant a;
    struct tenant b;
    struct cx_keyset *k1 = NULL;
    struct cx_keyset *k2 = NULL;
    struct cx_keyset *k3 = NULL;
    struct cx_keyset *kb = NULL;
    const struct cx_data_key *s1 = NULL;
    const struct cx_data_key *s2 = NULL;
    unsigned char m1[CX_MAC_BYTES];
    unsigned char m3[CX_MAC_BYTES];

    assert_int_equal(
        tenant_create(f->control, f->pool, f->kr, "acme", NULL, "cli:test", &a),
        CF_OK);
    assert_int_equal(
        tenant_create(f->control, f->pool, f->kr, "beta", NULL, "cli:test", &b),
        CF_OK);
    assert_int_equal(tenant_keys_open(f->control, f->kr, a.id, &k1), CF_OK);
    assert_int_equal(tenant_keys_open(f->control, f->kr, a.id, &k2), CF_OK);
    assert_ptr_equal(k1, k2); /* the same keyset, not a second unwrap */
    assert_int_equal(tenant_keys_open(f->control, f->kr, b.id, &kb), CF_OK);
    assert_ptr_not_equal(k1, kb);
    /* sub-keys are derived once and differ between tenants */
    assert_int_equal(cx_keyset_sub(k1, CX_SUBKEY_TOKEN, &s1), CF_OK);
    assert_int_equal(cx_keyset_sub(k2, CX_SUBKEY_TOKEN, &s2), CF_OK);
    assert_ptr_equal(s1, s2);
    assert_int_equal(cx_mac(s1, "x", 1, m1), CF_OK);
    assert_int_equal(cx_keyset_sub(kb, CX_SUBKEY_TOKEN, &s2), CF_OK);
    assert_int_equal(cx_mac(s2, "x", 1, m3), CF_OK);
    assert_memory_not_equal(m1, m3, sizeof(m1));
    cx_keyset_unref(kb);
    kb = NULL;
    assert_int_equal(cx_keyset_sub(k1, (enum cx_subkey)99, &s2), CF_EINVAL);
    /* forgetting the cache leaves held references valid; the next open
     * unwraps again into an equal key */
    tenant_keys_forget();
    assert_int_equal(cx_mac(s1, "x", 1, m3), CF_OK);
    assert_memory_equal(m1, m3, sizeof(m1));
    assert_int_equal(tenant_keys_open(f->control, f->kr, a.id, &k3), CF_OK);
    assert_ptr_not_equal(k3, k1);
    assert_int_equal(cx_keyset_sub(k3, CX_SUBKEY_TOKEN, &s2), CF_OK);
    assert_int_equal(cx_mac(s2, "x", 1, m3), CF_OK);
    assert_memory_equal(m1, m3, sizeof(m1));
    assert_int_equal(tenant_keys_open(f->control, f->kr, 999, &kb),
                     CF_ENOTFOUND);
    cx_keyset_unref(k1);
    cx_keyset_unref(k2);
    cx_keyset_unref(k3);
    tenant_keys_forget();
}

/* Tenants found by slug are cached for one data version of control.db:
 * a commit through another handle (another process) or through this one
 * is seen by the next lookup. */
static void
test_find_cached(void **state)
{
    struct fixture *f = *state;
    struct tenant t;
    struct tenant found;
    struct db *other = NULL;
    struct cx_keyset *k1 = NULL;
    struct cx_keyset *k2 = NULL;
    char path[128];

    assert_int_equal(tenant_create(f->control, f->pool, f->kr, "acme",
                                   "Acme SAS", "cli:test", &t),
                     CF_OK);
    assert_int_equal(t.key_version, 1);
    assert_int_equal(tenant_find(f->control, "acme", &found), CF_OK);
    assert_int_equal(tenant_find(f->control, "acme", &found), CF_OK);
    assert_int_equal(found.id, t.id);
    assert_int_equal(found.key_version, 1);
    assert_string_equal(found.name, "Acme SAS");
    /* the keyset of the version found, the same as the newest one */
    assert_int_equal(tenant_keys_get(f->control, f->kr, &found, &k1), CF_OK);
    assert_int_equal(tenant_keys_open(f->control, f->kr, t.id, &k2), CF_OK);
    assert_ptr_equal(k1, k2);
    cx_keyset_unref(k2);
    k2 = NULL;
    tenant_keys_forget();
    assert_int_equal(tenant_keys_get(f->control, f->kr, &found, &k2), CF_OK);
    assert_ptr_not_equal(k1, k2);
    cx_keyset_unref(k1);
    cx_keyset_unref(k2);
    tenant_keys_forget();

    snprintf(path, sizeof(path), "%s/control.db", f->dir);
    assert_int_equal(db_open(path, DB_KIND_CONTROL, 1000, &other), CF_OK);
    assert_int_equal(db_exec(other, "UPDATE tenants SET name = 'Renamed' "
                                    "WHERE slug = 'acme'"),
                     CF_OK);
    assert_int_equal(tenant_find(f->control, "acme", &found), CF_OK);
    assert_string_equal(found.name, "Renamed");
    assert_int_equal(db_exec(other, "UPDATE tenants SET slug = 'acme2' "
                                    "WHERE slug = 'acme'"),
                     CF_OK);
    assert_int_equal(tenant_find(f->control, "acme", &found), CF_ENOTFOUND);
    assert_int_equal(tenant_find(f->control, "acme2", &found), CF_OK);
    db_close(other);
    /* a commit through the cached handle itself */
    db_lock(f->control);
    assert_int_equal(db_exec(f->control, "UPDATE tenants SET state = "
                                         "'suspended' WHERE slug = 'acme2'"),
                     CF_OK);
    db_unlock(f->control);
    assert_int_equal(tenant_find(f->control, "acme2", &found), CF_ENOTFOUND);
}

/* Seal v for col's row id the way the code did before values were bound
 * to their row (legacy associated data), or bound (legacy false). */
static void
seal_value(const struct cx_data_key *field, enum db_sealed_col col,
           const char *row, const char *v, bool legacy, struct cf_buf *out)
{
    char ad[DB_SEALED_AD_MAX];
    const char *a = db_sealed[col].legacy_ad;
    size_t alen = strlen(a);

    if (!legacy) {
        alen = db_sealed_ad(col, row, ad, sizeof(ad));
        a = ad;
    }
    cf_buf_reset(out);
    assert_int_equal(cx_field_seal(field, a, alen, v, strlen(v), out), CF_OK);
}

/* Does the sealed value of sql's first row open, bound to col's row? */
static enum cf_rc
open_value(struct db *db, const struct cx_data_key *field,
           enum db_sealed_col col, const char *row, const char *sql,
           struct cf_buf *clear)
{
    struct db_stmt *st = NULL;
    char ad[DB_SEALED_AD_MAX];
    size_t adlen = db_sealed_ad(col, row, ad, sizeof(ad));
    size_t len = 0;
    const void *v;
    enum cf_rc rc;

    assert_int_equal(db_row(db, &st, sql, DB_END), CF_OK);
    v = db_col_blob(st, 0, &len);
    cf_buf_reset(clear);
    rc = cx_field_open(field, ad, adlen, v, len, clear);
    db_stmt_done(st);
    return rc;
}

/*
 * Invariant 3, COMMITMENT D1: sealed values are bound to table, column and row.
 * A database holding values sealed before (associated data naming table and
 * column only) is sealed again by the keyed migration when the pool opens it,
 * once; afterwards a value copied into another row no longer opens there. A
 * value that does not open fails the open and changes nothing.
 */
static void
test_reseal(void **state)
{
    struct fixture *f = *state;
    struct tenant t;
    struct tenant_keys_source src = {f->control, f->kr};
    struct cx_keyset *ks = NULL;
    const struct cx_data_key *field = NULL;
    struct db *db = NULL;
    struct cf_buf v;
    struct cf_buf w;
    struct cf_buf clear;
    int64_t n = -1;

    cf_buf_init(&v, 1024);
    cf_buf_init(&w, 1024);
    cf_buf_init(&clear, 1024);
    assert_int_equal(
        tenant_create(f->control, f->pool, f->kr, "acme", NULL, "cli:test", &t),
        CF_OK);
    assert_int_equal(tenant_keys_open(f->control, f->kr, t.id, &ks), CF_OK);
    assert_int_equal(cx_keyset_sub(ks, CX_SUBKEY_FIELD, &field), CF_OK);

    /* a fresh database has nothing to reseal */
    assert_int_equal(db_pool_get(f->pool, t.id, 0, &db), CF_OK);
    assert_int_equal(db_int(db, &n,
                            "SELECT count(*) FROM meta WHERE key = 'reseal'",
                            DB_END),
                     CF_OK);
    assert_int_equal(n, 0);

    /* what an older server wrote: two accounts, a TOTP secret, a token */
    seal_value(field, DB_SEALED_USER_EMAIL, "1", "ann@acme.example", true, &v);
    seal_value(field, DB_SEALED_USER_TOTP, "1", "0123456789abcdefghij", true,
               &w);
    assert_int_equal(
        db_run(db,
               "INSERT INTO users (id, email_index, email_sealed, role, "
               "created, public_id, totp_sealed) VALUES (1, x'01', ?1, "
               "'owner', 1, 'p1', ?2)",
               DB_BLOB, v.data, v.len, DB_BLOB, w.data, w.len, DB_END),
        CF_OK);
    seal_value(field, DB_SEALED_USER_EMAIL, "2", "bob@acme.example", true, &v);
    assert_int_equal(
        db_run(db,
               "INSERT INTO users (id, email_index, email_sealed, role, "
               "created, public_id) VALUES (2, x'02', ?1, 'member', 1, 'p2')",
               DB_BLOB, v.data, v.len, DB_END),
        CF_OK);
    seal_value(field, DB_SEALED_TOKEN_NAME, "tok1", "ci script", true, &v);
    assert_int_equal(
        db_run(db,
               "INSERT INTO api_tokens (id, user_id, token_hash, name_sealed, "
               "permissions, created, expires) VALUES ('tok1', 1, x'aa', ?1, "
               "'doc.read', 1, 2)",
               DB_BLOB, v.data, v.len, DB_END),
        CF_OK);
    /* a session and a journal line written in clear */
    assert_int_equal(
        db_run(db,
               "INSERT INTO sessions (id, token_hash, user_id, created, "
               "last_seen, expires, client_ip, user_agent, device) VALUES "
               "(7, x'bb', 1, 1, 1, 2, '192.0.2.7', 'Mozilla/5.0 (X11)', "
               "'Firefox on Linux')",
               DB_END),
        CF_OK);
    assert_int_equal(
        db_run(db,
               "INSERT INTO access_log (id, time, user_id, outcome, client_ip, "
               "user_agent, device) VALUES (9, 't', 1, 'success', "
               "'192.0.2.7', 'Mozilla/5.0 (X11)', 'Firefox on Linux')",
               DB_END),
        CF_OK);
    assert_int_equal(
        db_run(db, "INSERT INTO meta (key, value) VALUES ('reseal', '1')",
               DB_END),
        CF_OK);
    db_pool_put(f->pool, db);
    db = NULL;

    /* a value that does not open stops the migration: the open fails and
     * nothing changes */
    db_pool_free(f->pool);
    assert_int_equal(db_pool_new(f->tenants, 8, 2, 1000, &f->pool), CF_OK);
    assert_int_equal(db_pool_get(f->pool, t.id, 0, &db), CF_OK);
    assert_int_equal(db_run(db,
                            "UPDATE users SET totp_pending = x'00112233445566"
                            "778899aabbccddeeff00112233445566778899aabbccddee"
                            "ff' WHERE id = 2",
                            DB_END),
                     CF_OK);
    db_pool_put(f->pool, db);
    db_pool_free(f->pool);
    assert_int_equal(db_pool_new(f->tenants, 8, 2, 1000, &f->pool), CF_OK);
    db_pool_on_open(f->pool, tenant_db_opened, &src);
    db = NULL;
    assert_int_equal(db_pool_get(f->pool, t.id, 0, &db), CF_ECRYPTO);
    assert_null(db);
    db_pool_free(f->pool);
    assert_int_equal(db_pool_new(f->tenants, 8, 2, 1000, &f->pool), CF_OK);
    assert_int_equal(db_pool_get(f->pool, t.id, 0, &db), CF_OK);
    assert_int_equal(open_value(db, field, DB_SEALED_USER_EMAIL, "1",
                                "SELECT email_sealed FROM users WHERE id = 1",
                                &clear),
                     CF_ECRYPTO); /* still the old binding */
    assert_int_equal(
        db_run(db, "UPDATE users SET totp_pending = NULL WHERE id = 2", DB_END),
        CF_OK);
    db_pool_put(f->pool, db);
    db_pool_free(f->pool);

    /* the pool opens it: every value is bound to its row, once */
    assert_int_equal(db_pool_new(f->tenants, 8, 2, 1000, &f->pool), CF_OK);
    db_pool_on_open(f->pool, tenant_db_opened, &src);
    assert_int_equal(db_pool_get(f->pool, t.id, 0, &db), CF_OK);
    assert_int_equal(db_int(db, &n,
                            "SELECT count(*) FROM meta WHERE key = 'reseal'",
                            DB_END),
                     CF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(open_value(db, field, DB_SEALED_USER_EMAIL, "1",
                                "SELECT email_sealed FROM users WHERE id = 1",
                                &clear),
                     CF_OK);
    assert_string_equal(cf_buf_str(&clear), "ann@acme.example");
    assert_int_equal(open_value(db, field, DB_SEALED_USER_EMAIL, "2",
                                "SELECT email_sealed FROM users WHERE id = 2",
                                &clear),
                     CF_OK);
    assert_string_equal(cf_buf_str(&clear), "bob@acme.example");
    assert_int_equal(open_value(db, field, DB_SEALED_USER_TOTP, "1",
                                "SELECT totp_sealed FROM users WHERE id = 1",
                                &clear),
                     CF_OK);
    assert_int_equal(
        open_value(db, field, DB_SEALED_TOKEN_NAME, "tok1",
                   "SELECT name_sealed FROM api_tokens WHERE id = 'tok1'",
                   &clear),
        CF_OK);
    assert_string_equal(cf_buf_str(&clear), "ci script");

    /* what was clear is sealed, bound to its row; the label's keyed hash
     * is kept beside it */
    assert_int_equal(open_value(db, field, DB_SEALED_SESSION_IP, "7",
                                "SELECT client_ip FROM sessions WHERE id = 7",
                                &clear),
                     CF_OK);
    assert_string_equal(cf_buf_str(&clear), "192.0.2.7");
    assert_int_equal(open_value(db, field, DB_SEALED_SESSION_UA, "7",
                                "SELECT user_agent FROM sessions WHERE id = 7",
                                &clear),
                     CF_OK);
    assert_string_equal(cf_buf_str(&clear), "Mozilla/5.0 (X11)");
    assert_int_equal(open_value(db, field, DB_SEALED_LOG_DEVICE, "9",
                                "SELECT device FROM access_log WHERE id = 9",
                                &clear),
                     CF_OK);
    assert_string_equal(cf_buf_str(&clear), "Firefox on Linux");
    assert_int_equal(open_value(db, field, DB_SEALED_LOG_IP, "9",
                                "SELECT client_ip FROM access_log WHERE id = 9",
                                &clear),
                     CF_OK);
    assert_string_equal(cf_buf_str(&clear), "192.0.2.7");
    {
        const struct cx_data_key *index = NULL;
        unsigned char want[CX_MAC_BYTES];
        struct db_stmt *st = NULL;
        size_t len = 0;
        const void *mac;

        assert_int_equal(cx_keyset_sub(ks, CX_SUBKEY_BLIND_INDEX, &index),
                         CF_OK);
        assert_int_equal(cx_mac_for(index, "access_log.device",
                                    "Firefox on Linux", 16, want),
                         CF_OK);
        assert_int_equal(db_row(db, &st,
                                "SELECT device_mac, typeof(client_ip) FROM "
                                "access_log WHERE id = 9",
                                DB_END),
                         CF_OK);
        mac = db_col_blob(st, 0, &len);
        assert_int_equal(len, CX_MAC_BYTES);
        assert_memory_equal(mac, want, CX_MAC_BYTES);
        assert_string_equal(db_col_text(st, 1), "blob");
        db_stmt_done(st);
    }

    /* a value moved to another row, or another column, does not open */
    assert_int_equal(
        db_run(db,
               "UPDATE users SET email_sealed = (SELECT "
               "email_sealed FROM users WHERE id = 2) WHERE id = 1",
               DB_END),
        CF_OK);
    assert_int_equal(open_value(db, field, DB_SEALED_USER_EMAIL, "1",
                                "SELECT email_sealed FROM users WHERE id = 1",
                                &clear),
                     CF_ECRYPTO);
    assert_int_equal(open_value(db, field, DB_SEALED_USER_TOTP, "2",
                                "SELECT email_sealed FROM users WHERE id = 2",
                                &clear),
                     CF_ECRYPTO);
    db_pool_put(f->pool, db);
    cx_keyset_unref(ks);
    tenant_keys_forget();
    cf_buf_release(&v);
    cf_buf_release(&w);
    cf_buf_release(&clear);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slugs),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reseal, setup, teardown),
    };

    return cmocka_run_group_tests_name("tenant", tests, NULL, NULL);
}
