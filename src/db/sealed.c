/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The one registry of sealed columns (invariant 3, COMMITMENT D1). A value
 * sealed with a tenant key is bound to its place: the associated data names the
 * table, the column and the row's id, so a value copied into another row, or
 * another column, fails to open instead of reading as that row's. Each
 * entry keeps the associated data its column used before it was bound to
 * the row, and the statements the keyed migration (tenant/reseal.c) reads
 * and rewrites it with: constant SQL, never built from input.
 */
#include "core/compat.h"

#include "db/db.h"

const struct db_sealed db_sealed[DB_SEALED_COUNT] = {
    [DB_SEALED_USER_EMAIL] =
        {.table = "users",
         .column = "email",
         .legacy_ad = "users.email",
         .select_sql = "SELECT id, email_sealed FROM users WHERE email_sealed "
                       "IS NOT NULL "
                       "AND length(email_sealed) > 0",
         .update_sql = "UPDATE users SET email_sealed = ?1 WHERE id = ?2"},
    [DB_SEALED_USER_TOTP] =
        {.table = "users",
         .column = "totp",
         .legacy_ad = "users.totp",
         .select_sql =
             "SELECT id, totp_sealed FROM users WHERE totp_sealed IS NOT NULL",
         .update_sql = "UPDATE users SET totp_sealed = ?1 WHERE id = ?2"},
    [DB_SEALED_USER_TOTP_PENDING] =
        {.table = "users",
         .column = "totp",
         .legacy_ad = "users.totp",
         .select_sql = "SELECT id, totp_pending FROM users WHERE totp_pending "
                       "IS NOT NULL",
         .update_sql = "UPDATE users SET totp_pending = ?1 WHERE id = ?2"},
    [DB_SEALED_TOKEN_NAME] =
        {.table = "api_tokens",
         .column = "name",
         .legacy_ad = "api_tokens.name",
         .select_sql = "SELECT id, name_sealed FROM api_tokens",
         .update_sql = "UPDATE api_tokens SET name_sealed = ?1 WHERE id = ?2"},
    /* written in clear before migration 10: only text values are read */
    [DB_SEALED_SESSION_IP] =
        {.table = "sessions",
         .column = "client_ip",
         .legacy_ad = NULL,
         .select_sql =
             "SELECT id, client_ip FROM sessions WHERE typeof(client_ip) = "
             "'text'",
         .update_sql = "UPDATE sessions SET client_ip = ?1 WHERE id = ?2"},
    [DB_SEALED_SESSION_UA] =
        {.table = "sessions",
         .column = "user_agent",
         .legacy_ad = NULL,
         .select_sql =
             "SELECT id, user_agent FROM sessions WHERE typeof(user_agent) = "
             "'text'",
         .update_sql = "UPDATE sessions SET user_agent = ?1 WHERE id = ?2"},
    [DB_SEALED_SESSION_DEVICE] =
        {.table = "sessions",
         .column = "device",
         .legacy_ad = NULL,
         .select_sql =
             "SELECT id, device FROM sessions WHERE typeof(device) = 'text'",
         .update_sql = "UPDATE sessions SET device = ?1 WHERE id = ?2"},
    [DB_SEALED_LOG_IP] =
        {.table = "access_log",
         .column = "client_ip",
         .legacy_ad = NULL,
         .select_sql =
             "SELECT id, client_ip FROM access_log WHERE typeof(client_ip) = "
             "'text'",
         .update_sql = "UPDATE access_log SET client_ip = ?1 WHERE id = ?2"},
    [DB_SEALED_LOG_UA] =
        {.table = "access_log",
         .column = "user_agent",
         .legacy_ad = NULL,
         .select_sql =
             "SELECT id, user_agent FROM access_log WHERE typeof(user_agent) = "
             "'text'",
         .update_sql = "UPDATE access_log SET user_agent = ?1 WHERE id = ?2"},
    [DB_SEALED_LOG_DEVICE] =
        {.table = "access_log",
         .column = "device",
         .legacy_ad = NULL,
         .select_sql =
             "SELECT id, device FROM access_log WHERE typeof(device) = 'text'",
         .update_sql = "UPDATE access_log SET device = ?1 WHERE id = ?2",
         .mac_purpose = "access_log.device",
         .mac_sql = "UPDATE access_log SET device_mac = ?1 WHERE id = ?2"},
};

size_t
db_sealed_ad(enum db_sealed_col col, const char *row, char *out, size_t cap)
{
    const char *parts[5];

    if ((size_t)col >= DB_SEALED_COUNT || row == NULL || cap == 0) {
        return 0;
    }
    /* "users.email#12": no table, column or id holds '.' or '#' */
    parts[0] = db_sealed[col].table;
    parts[1] = ".";
    parts[2] = db_sealed[col].column;
    parts[3] = "#";
    parts[4] = row;
    return cf_strjoin(out, cap, parts, 5);
}

size_t
db_sealed_ad_id(enum db_sealed_col col, int64_t id, char *out, size_t cap)
{
    char row[CF_I64_DEC_LEN];

    return db_sealed_ad(col, cf_i64_dec(id, row), out, cap);
}
