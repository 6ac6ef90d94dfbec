/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The keyed migration of a tenant database (invariant 3, COMMITMENT D1): values
 * sealed before they were bound to their row (their associated data named only
 * table and column) are opened with that old associated data and sealed
 * again bound to table, column and row id, and values a column held in
 * clear (client addresses, user agents, device labels) are sealed, with
 * the keyed hash kept beside those a query compares; once, in one
 * transaction, the first time the database is opened after the schema
 * migration that marked it (meta 'reseal'). A database with nothing to reseal
 * costs one read of meta at open. The mark is read again inside the write
 * transaction (BEGIN IMMEDIATE: one writer at a time), so a second handle,
 * or another process, opening the database while the first reseals finds
 * it gone and does nothing: sealing a value twice would lose it.
 */
#include "core/compat.h"

#include "crypto/crypto.h"
#include "tenant/tenant.h"

#define RESEAL_VALUE_MAX 4096

/* Rebind every value of one registered column. */
static enum cf_rc
reseal_column(struct db *db, const struct cx_data_key *field,
              const struct cx_data_key *index, enum db_sealed_col col,
              int64_t *count)
{
    const struct db_sealed *c = &db_sealed[col];
    struct db_stmt *st = NULL;
    struct cf_buf clear;
    struct cf_buf sealed;
    char ad[DB_SEALED_AD_MAX];
    enum cf_rc rc;
    bool row = false;

    cf_buf_init(&clear, RESEAL_VALUE_MAX);
    cf_buf_init(&sealed, RESEAL_VALUE_MAX + CX_FIELD_OVERHEAD);
    rc = db_prepare(db, c->select_sql, &st);
    while (rc == CF_OK && (rc = db_step(st, &row)) == CF_OK && row) {
        const char *id = db_col_text(st, 0);
        size_t len = 0;
        const void *v = db_col_blob(st, 1, &len);
        size_t adlen = db_sealed_ad(col, id != NULL ? id : "", ad, sizeof(ad));

        if (id == NULL || adlen == 0) {
            rc = CF_ERR(CF_EINTERNAL);
            break;
        }
        cf_buf_reset(&clear);
        cf_buf_reset(&sealed);
        if (c->legacy_ad == NULL) {
            /* written in clear (the statement reads only text) */
            rc = cf_buf_add(&clear, v, len);
            if (rc == CF_OK && c->mac_sql != NULL) {
                unsigned char mac[CX_MAC_BYTES];

                rc = cx_mac_for(index, c->mac_purpose, clear.data, clear.len,
                                mac);
                if (rc == CF_OK) {
                    rc = db_run(db, c->mac_sql, DB_BLOB, mac, sizeof(mac),
                                DB_TEXT, id, DB_END);
                }
            }
        } else if (cx_field_open(field, ad, adlen, v, len, &clear) == CF_OK) {
            continue; /* bound already */
        } else {
            rc = cx_field_open(field, c->legacy_ad, strlen(c->legacy_ad), v,
                               len, &clear);
        }
        if (rc == CF_OK) {
            rc =
                cx_field_seal(field, ad, adlen, clear.data, clear.len, &sealed);
        }
        if (rc == CF_OK) {
            rc = db_run(db, c->update_sql, DB_BLOB, sealed.data, sealed.len,
                        DB_TEXT, id, DB_END);
        }
        if (rc == CF_OK) {
            (*count)++;
        }
    }
    db_stmt_done(st);
    cf_buf_release(&clear);
    cf_buf_release(&sealed);
    return rc;
}

enum cf_rc
tenant_db_opened(struct db *db, int64_t tenant_id, void *arg)
{
    const struct tenant_keys_source *src = arg;
    struct cx_keyset *keys = NULL;
    const struct cx_data_key *field = NULL;
    const struct cx_data_key *index = NULL;
    int64_t marked = 0;
    int64_t count = 0;
    char num[24];
    enum cf_rc rc;
    size_t i;

    rc = db_int(db, &marked, "SELECT count(*) FROM meta WHERE key = 'reseal'",
                DB_END);
    if (rc != CF_OK || marked == 0) {
        return rc;
    }
    rc = tenant_keys_open(src->control, src->kr, tenant_id, &keys);
    if (rc == CF_OK) {
        rc = cx_keyset_sub(keys, CX_SUBKEY_FIELD, &field);
    }
    if (rc == CF_OK) {
        rc = cx_keyset_sub(keys, CX_SUBKEY_BLIND_INDEX, &index);
    }
    if (rc == CF_OK) {
        rc = db_begin(db);
        if (rc == CF_OK) {
            /* done meanwhile through another connection? */
            rc = db_int(db, &marked,
                        "SELECT count(*) FROM meta WHERE key = 'reseal'",
                        DB_END);
        }
        for (i = 0; rc == CF_OK && marked != 0 && i < DB_SEALED_COUNT; i++) {
            rc = reseal_column(db, field, index, (enum db_sealed_col)i, &count);
        }
        if (rc == CF_OK && marked != 0) {
            rc = db_run(db, "DELETE FROM meta WHERE key = 'reseal'", DB_END);
        }
        rc = rc == CF_OK ? db_commit(db) : rc;
        if (rc != CF_OK) {
            db_rollback(db);
        }
    }
    cx_keyset_unref(keys);
    snprintf(num, sizeof(num), "%lld", (long long)tenant_id);
    if (rc != CF_OK) {
        cf_log_error_rc(rc, "sealed values not bound to their rows",
                        "tenant_id", num);
        return rc;
    }
    if (marked == 0) {
        return CF_OK;
    }
    {
        char n[24];

        snprintf(n, sizeof(n), "%lld", (long long)count);
        cf_log_info("sealed values bound to their rows", "tenant_id", num,
                    "values", n);
    }
    return CF_OK;
}
