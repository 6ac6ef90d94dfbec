/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The one registry of sealed columns (invariant 3). A value sealed with a
 * tenant key is bound to its place: the associated data names the table,
 * the column and the row's id, so a value copied into another row, or
 * another column, fails to open instead of reading as that row's. Each
 * entry keeps the associated data its column used before it was bound to
 * the row, and the statements the keyed migration (tenant/reseal.c) reads
 * and rewrites it with: constant SQL, never built from input.
 */
#include "core/compat.h"

#include "db/db.h"

const struct db_sealed db_sealed[DB_SEALED_COUNT] = {
    [DB_SEALED_USER_EMAIL] =
        {"users", "email", "users.email",
         "SELECT id, email_sealed FROM users WHERE email_sealed IS NOT NULL "
         "AND length(email_sealed) > 0",
         "UPDATE users SET email_sealed = ?1 WHERE id = ?2"},
    [DB_SEALED_USER_TOTP] =
        {"users", "totp", "users.totp",
         "SELECT id, totp_sealed FROM users WHERE totp_sealed IS NOT NULL",
         "UPDATE users SET totp_sealed = ?1 WHERE id = ?2"},
    [DB_SEALED_USER_TOTP_PENDING] =
        {"users", "totp", "users.totp",
         "SELECT id, totp_pending FROM users WHERE totp_pending IS NOT NULL",
         "UPDATE users SET totp_pending = ?1 WHERE id = ?2"},
    [DB_SEALED_TOKEN_NAME] =
        {"api_tokens", "name", "api_tokens.name",
         "SELECT id, name_sealed FROM api_tokens",
         "UPDATE api_tokens SET name_sealed = ?1 WHERE id = ?2"},
    /* written in clear before migration 10: only text values are read */
    [DB_SEALED_SESSION_IP] =
        {"sessions", "client_ip", NULL,
         "SELECT id, client_ip FROM sessions WHERE typeof(client_ip) = "
         "'text'",
         "UPDATE sessions SET client_ip = ?1 WHERE id = ?2"},
    [DB_SEALED_SESSION_UA] =
        {"sessions", "user_agent", NULL,
         "SELECT id, user_agent FROM sessions WHERE typeof(user_agent) = "
         "'text'",
         "UPDATE sessions SET user_agent = ?1 WHERE id = ?2"},
    [DB_SEALED_SESSION_DEVICE] =
        {"sessions", "device", NULL,
         "SELECT id, device FROM sessions WHERE typeof(device) = 'text'",
         "UPDATE sessions SET device = ?1 WHERE id = ?2"},
    [DB_SEALED_LOG_IP] =
        {"access_log", "client_ip", NULL,
         "SELECT id, client_ip FROM access_log WHERE typeof(client_ip) = "
         "'text'",
         "UPDATE access_log SET client_ip = ?1 WHERE id = ?2"},
    [DB_SEALED_LOG_UA] =
        {"access_log", "user_agent", NULL,
         "SELECT id, user_agent FROM access_log WHERE typeof(user_agent) = "
         "'text'",
         "UPDATE access_log SET user_agent = ?1 WHERE id = ?2"},
    [DB_SEALED_LOG_DEVICE] =
        {"access_log", "device", NULL,
         "SELECT id, device FROM access_log WHERE typeof(device) = 'text'",
         "UPDATE access_log SET device = ?1 WHERE id = ?2", "access_log.device",
         "UPDATE access_log SET device_mac = ?1 WHERE id = ?2"},
};

size_t
db_sealed_ad(enum db_sealed_col col, const char *row, char *out, size_t cap)
{
    int n;

    if ((size_t)col >= DB_SEALED_COUNT || row == NULL || cap == 0) {
        return 0;
    }
    /* "users.email#12": no table, column or id holds '.' or '#' */
    n = snprintf(out, cap, "%s.%s#%s", db_sealed[col].table,
                 db_sealed[col].column, row);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

size_t
db_sealed_ad_id(enum db_sealed_col col, int64_t id, char *out, size_t cap)
{
    char row[24];

    snprintf(row, sizeof(row), "%lld", (long long)id);
    return db_sealed_ad(col, row, out, cap);
}
