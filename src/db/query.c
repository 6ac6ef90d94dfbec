/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * One-call queries for the stores of domain modules: prepare, bind a
 * DB_* argument list, step. Every value is a bound parameter (invariant
 * 4).
 */
#include "core/compat.h"

#include "db/db.h"

/* Bind the DB_* list of ap to st from index 1. */
static enum cf_rc
db_bind_args(struct db_stmt *st, va_list ap)
{
    enum cf_rc rc = CF_OK;
    int idx = 1;
    int t;

    while (rc == CF_OK && (t = va_arg(ap, int)) != DB_END) {
        if (t == DB_INT) {
            rc = db_bind_int64(st, idx, va_arg(ap, int64_t));
        } else if (t == DB_TEXT) {
            const char *s = va_arg(ap, const char *);

            rc = s != NULL ? db_bind_text(st, idx, s) : db_bind_null(st, idx);
        } else {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);

            rc = db_bind_blob(st, idx, p, n);
        }
        idx++;
    }
    return rc;
}

/* Run sql with bound arguments, expecting no result row. */
enum cf_rc
db_run(struct db *db, const char *sql, ...)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;
    bool row = false;
    va_list ap;

    rc = db_prepare(db, sql, &st);
    if (rc != CF_OK) {
        return rc;
    }
    va_start(ap, sql);
    rc = db_bind_args(st, ap);
    va_end(ap);
    if (rc == CF_OK) {
        rc = db_step(st, &row);
    }
    db_stmt_done(st);
    return rc;
}

/* db_row() with the arguments as a va_list. */
enum cf_rc
db_row_v(struct db *db, struct db_stmt **st, const char *sql, va_list ap)
{
    enum cf_rc rc;
    bool row = false;

    rc = db_prepare(db, sql, st);
    if (rc != CF_OK) {
        return rc;
    }
    rc = db_bind_args(*st, ap);
    if (rc == CF_OK) {
        rc = db_step(*st, &row);
    }
    if (rc == CF_OK && !row) {
        rc = CF_ENOTFOUND;
    }
    if (rc != CF_OK) {
        db_stmt_done(*st);
        *st = NULL;
    }
    return rc;
}

/* Prepare sql, bind, step once: *st is left on the row (CF_ENOTFOUND when
 * there is none, and *st is then released). */
enum cf_rc
db_row(struct db *db, struct db_stmt **st, const char *sql, ...)
{
    enum cf_rc rc;
    va_list ap;

    va_start(ap, sql);
    rc = db_row_v(db, st, sql, ap);
    va_end(ap);
    return rc;
}

/* The whole number in the first column of sql's one row (a count). */
enum cf_rc
db_int(struct db *db, int64_t *out, const char *sql, ...)
{
    struct db_stmt *st = NULL;
    enum cf_rc rc;
    va_list ap;

    va_start(ap, sql);
    rc = db_row_v(db, &st, sql, ap);
    va_end(ap);
    if (rc == CF_OK) {
        *out = db_col_int64(st, 0);
        db_stmt_done(st);
    }
    return rc;
}
