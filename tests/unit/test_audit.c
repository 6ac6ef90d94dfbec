/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Unit tests of audit/: an event shares the fate of its transaction
 * (COMMITMENT C2, invariant 1), is stored field for field as given, is
 * refused outside a transaction or with a missing or malformed field, and
 * in a tenant database its details are sealed with the audit sub-key
 * (invariant 3). Real SQLite files in a fresh temporary directory.
 */
#include "core/compat.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "audit/audit.h"

#define HOSTILE "'; DROP TABLE tenants; --"
#define DETAILS_CLEAR "{\"email\":\"alice@example.com\",\"name\":\"Alice\"}"

struct fixture {
    char dir[64];
    struct db *control;
    struct db *tenant;
};

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    db_close(f->control);
    db_close(f->tenant);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[128];

    if (f == NULL) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/coffre-test-audit-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    snprintf(path, sizeof(path), "%s/control.db", f->dir);
    if (db_open(path, DB_KIND_CONTROL, 1000, &f->control) != CF_OK) {
        teardown(state);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/tenant.db", f->dir);
    if (db_open(path, DB_KIND_TENANT, 1000, &f->tenant) != CF_OK) {
        teardown(state);
        return -1;
    }
    return 0;
}

static int64_t
count_events(struct db *db)
{
    int64_t n = -1;

    assert_int_equal(audit_count(db, &n), CF_OK);
    return n;
}

static const struct audit_event full_event = {
    .principal = "cli:root",
    .action = "tenant.create",
    .target = "tenant:" HOSTILE,
    .success = true,
    .client_ip = "2001:db8::7",
    .request_id = "0123456789abcdef0123456789abcdef",
    .details = "{\"slug\":\"acme\"}",
};

/* COMMITMENT C2: the event rolls back with the change it records. */
static void
test_rollback_leaves_no_event(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(db_begin(f->control), CF_OK);
    assert_int_equal(db_exec(f->control, "INSERT INTO settings (key, value)"
                                         " VALUES ('k', 'v')"),
                     CF_OK);
    assert_int_equal(audit_append(f->control, NULL, &full_event), CF_OK);
    assert_int_equal(count_events(f->control), 1); /* seen inside */
    db_rollback(f->control);
    assert_int_equal(count_events(f->control), 0);
}

static bool
is_rfc3339_ms(const char *t)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    size_t i;

    if (strlen(t) != sizeof(shape) - 1) {
        return false;
    }
    for (i = 0; i < sizeof(shape) - 1; i++) {
        bool ok =
            shape[i] == 'd' ? (t[i] >= '0' && t[i] <= '9') : t[i] == shape[i];

        if (!ok) {
            return false;
        }
    }
    return true;
}

/* COMMITMENT C2: committed with the change, exactly one row, as given. */
static void
test_commit_keeps_every_field(void **state)
{
    struct fixture *f = *state;
    struct db_stmt *st = NULL;
    bool row = false;
    char before[CF_TIME_RFC3339_LEN];
    char after[CF_TIME_RFC3339_LEN];
    const void *blob;
    size_t len = 0;

    cf_time_rfc3339(before);
    assert_int_equal(db_begin(f->control), CF_OK);
    assert_int_equal(audit_append(f->control, NULL, &full_event), CF_OK);
    assert_int_equal(db_commit(f->control), CF_OK);
    cf_time_rfc3339(after);
    assert_int_equal(count_events(f->control), 1);

    assert_int_equal(db_prepare(f->control,
                                "SELECT seq, time, principal, action, target,"
                                " outcome, client_ip, request_id, details,"
                                " typeof(details) FROM audit_events",
                                &st),
                     CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_true(row);
    assert_int_equal(db_col_int64(st, 0), 1);
    assert_true(is_rfc3339_ms(db_col_text(st, 1)));
    assert_true(strcmp(db_col_text(st, 1), before) >= 0);
    assert_true(strcmp(db_col_text(st, 1), after) <= 0);
    assert_string_equal(db_col_text(st, 2), full_event.principal);
    assert_string_equal(db_col_text(st, 3), full_event.action);
    assert_string_equal(db_col_text(st, 4), full_event.target);
    assert_string_equal(db_col_text(st, 5), "success");
    assert_string_equal(db_col_text(st, 6), full_event.client_ip);
    assert_string_equal(db_col_text(st, 7), full_event.request_id);
    /* control.db: no key, details kept as clear bytes in a blob */
    blob = db_col_blob(st, 8, &len);
    assert_int_equal(len, strlen(full_event.details));
    assert_memory_equal(blob, full_event.details, len);
    assert_string_equal(db_col_text(st, 9), "blob");
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_false(row); /* exactly one */
    db_stmt_done(st);
}

static void
test_optional_fields_and_order(void **state)
{
    struct fixture *f = *state;
    struct db_stmt *st = NULL;
    bool row = false;
    struct audit_event ev = {
        .principal = "system",
        .action = "login.fail_2",
        .target = "user:12",
        .success = false,
    };

    assert_int_equal(db_begin(f->tenant), CF_OK);
    assert_int_equal(audit_append(f->tenant, NULL, &ev), CF_OK);
    ev.action = "login.ok";
    ev.success = true;
    assert_int_equal(audit_append(f->tenant, NULL, &ev), CF_OK);
    assert_int_equal(db_commit(f->tenant), CF_OK);

    assert_int_equal(db_prepare(f->tenant,
                                "SELECT seq, action, outcome, client_ip,"
                                " request_id, details FROM audit_events"
                                " ORDER BY seq",
                                &st),
                     CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_true(row);
    assert_int_equal(db_col_int64(st, 0), 1);
    assert_string_equal(db_col_text(st, 1), "login.fail_2");
    assert_string_equal(db_col_text(st, 2), "failure");
    assert_null(db_col_text(st, 3));
    assert_null(db_col_text(st, 4));
    assert_null(db_col_text(st, 5));
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_true(row);
    assert_int_equal(db_col_int64(st, 0), 2);
    assert_string_equal(db_col_text(st, 1), "login.ok");
    assert_string_equal(db_col_text(st, 2), "success");
    db_stmt_done(st);
}

/* COMMITMENT C2: no event that could outlive or miss its change. */
static void
test_outside_transaction_refused(void **state)
{
    struct fixture *f = *state;

    assert_false(db_in_transaction(f->control));
    assert_int_equal(audit_append(f->control, NULL, &full_event), CF_EINVAL);
    assert_int_equal(count_events(f->control), 0);
}

static void
expect_refused(struct db *db, const struct audit_event *ev, enum cf_rc want)
{
    assert_int_equal(audit_append(db, NULL, ev), want);
}

static void
test_bad_fields_refused(void **state)
{
    struct fixture *f = *state;
    struct audit_event ev = full_event;
    char longtext[300];
    char *big;

    memset(longtext, 'x', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = '\0';
    big = calloc(1, 64 * 1024 + 2);
    assert_non_null(big);
    memset(big, ' ', 64 * 1024 + 1);

    assert_int_equal(db_begin(f->control), CF_OK);
    ev.action = NULL; /* missing action */
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.action = "";
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.action = "Tenant.create";
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.action = "tenant create";
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.action = "tenant-create";
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.action = "tenant.create'; --";
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.action = longtext;
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.action = "tenant.create";

    ev.principal = NULL;
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.principal = "";
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.principal = "cli:root";
    ev.target = NULL;
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.target = "tenant:1";
    ev.client_ip = longtext;
    expect_refused(f->control, &ev, CF_EINVAL);
    ev.client_ip = NULL;
    ev.details = big;
    expect_refused(f->control, &ev, CF_ETOOBIG);
    ev.details = NULL;
    expect_refused(NULL, &ev, CF_EINVAL);
    expect_refused(f->control, NULL, CF_EINVAL);

    /* nothing was written, and the transaction is still usable */
    assert_true(db_in_transaction(f->control));
    assert_int_equal(audit_append(f->control, NULL, &ev), CF_OK);
    assert_int_equal(db_commit(f->control), CF_OK);
    assert_int_equal(count_events(f->control), 1);
    assert_int_equal(audit_count(f->control, NULL), CF_EINVAL);
    free(big);
}

/* Invariant 3: audit details of a tenant are sealed with its audit
 * sub-key; ids, time and action stay queryable in clear. */
static void
test_details_sealed(void **state)
{
    struct fixture *f = *state;
    struct cx_data_key *dk = NULL;
    struct cx_data_key *sub = NULL;
    struct db_stmt *st = NULL;
    struct cf_buf pt;
    struct cf_buf other;
    bool row = false;
    const void *blob;
    size_t len = 0;
    struct audit_event ev = full_event;

    ev.details = DETAILS_CLEAR;
    cf_buf_init(&pt, 4096);
    cf_buf_init(&other, 4096);
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_derive(dk, CX_SUBKEY_AUDIT, &sub), CF_OK);

    assert_int_equal(db_begin(f->tenant), CF_OK);
    assert_int_equal(audit_append(f->tenant, sub, &ev), CF_OK);
    assert_int_equal(db_commit(f->tenant), CF_OK);

    assert_int_equal(
        db_prepare(f->tenant, "SELECT action, details FROM audit_events", &st),
        CF_OK);
    assert_int_equal(db_step(st, &row), CF_OK);
    assert_true(row);
    assert_string_equal(db_col_text(st, 0), "tenant.create");
    blob = db_col_blob(st, 1, &len);
    assert_int_equal(len, strlen(DETAILS_CLEAR) + CX_FIELD_OVERHEAD);
    assert_null(memmem(blob, len, "alice", 5));
    assert_null(memmem(blob, len, "email", 5));

    assert_int_equal(cx_field_open(sub, "audit.details", 13, blob, len, &pt),
                     CF_OK);
    assert_int_equal(pt.len, strlen(DETAILS_CLEAR));
    assert_string_equal(cf_buf_str(&pt), DETAILS_CLEAR);
    /* bound to its place and to the audit sub-key */
    assert_int_equal(cx_field_open(sub, "audit.detail", 12, blob, len, &other),
                     CF_ECRYPTO);
    assert_int_equal(cx_field_open(dk, "audit.details", 13, blob, len, &other),
                     CF_ECRYPTO);
    db_stmt_done(st);

    cf_buf_release(&pt);
    cf_buf_release(&other);
    cx_data_key_free(sub);
    cx_data_key_free(dk);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollback_leaves_no_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit_keeps_every_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_optional_fields_and_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outside_transaction_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_fields_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_details_sealed, setup, teardown),
    };

    cf_log_set_level(CF_LOG_ERROR);
    if (cx_init() != CF_OK) {
        return 1;
    }
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
