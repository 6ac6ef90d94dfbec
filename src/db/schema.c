/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The numbered schema migrations of the control database and of tenant
 * databases. A migration is never edited once released: a change is a new
 * number at the end. The SQL is portable (it must run on PostgreSQL too):
 * plain types, no AUTOINCREMENT, no SQLite-only syntax. The PostgreSQL
 * backend maps INTEGER PRIMARY KEY to an identity column and BLOB to
 * BYTEA; nothing else changes.
 *
 * audit_events is the same in both kinds of database; its format is fixed
 * in audit/audit.h and docs/internals/audit.md.
 */
#include "core/compat.h"

#include "db/db_int.h"

#define DB_AUDIT_EVENTS_V1                                                     \
    "CREATE TABLE audit_events ("                                              \
    " seq INTEGER PRIMARY KEY,"                                                \
    " time TEXT NOT NULL,"                                                     \
    " principal TEXT NOT NULL,"                                                \
    " action TEXT NOT NULL,"                                                   \
    " target TEXT NOT NULL,"                                                   \
    " outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),"        \
    " client_ip TEXT,"                                                         \
    " request_id TEXT,"                                                        \
    " details BLOB"                                                            \
    ");"                                                                       \
    "CREATE INDEX audit_events_time ON audit_events (time);"

const struct db_migration db_schema_control[] = {
    {1, "CREATE TABLE tenants ("
        " id INTEGER PRIMARY KEY,"
        " slug TEXT NOT NULL UNIQUE,"
        " name TEXT NOT NULL,"
        " created TEXT NOT NULL,"
        " state TEXT NOT NULL DEFAULT 'active'"
        ");"
        "CREATE TABLE tenant_keys ("
        " tenant_id INTEGER NOT NULL REFERENCES tenants (id),"
        " version INTEGER NOT NULL,"
        " wrapped BLOB NOT NULL,"
        " created TEXT NOT NULL,"
        " PRIMARY KEY (tenant_id, version)"
        ");"
        "CREATE TABLE settings ("
        " key TEXT PRIMARY KEY,"
        " value TEXT NOT NULL"
        ");" DB_AUDIT_EVENTS_V1},
};
const size_t db_schema_control_len = CF_ARRAY_LEN(db_schema_control);

const struct db_migration db_schema_tenant[] = {
    {1, "CREATE TABLE meta ("
        " key TEXT PRIMARY KEY,"
        " value TEXT NOT NULL"
        ");" DB_AUDIT_EVENTS_V1},
    /* accounts, one-time links, sessions, access journal (auth/) */
    {2, "CREATE TABLE users ("
        " id INTEGER PRIMARY KEY,"
        " email_index BLOB NOT NULL UNIQUE,"
        " email_sealed BLOB NOT NULL,"
        " name_sealed BLOB,"
        " role TEXT NOT NULL,"
        " password_hash TEXT,"
        " password_score INTEGER,"
        " password_set INTEGER,"
        " state TEXT NOT NULL DEFAULT 'active',"
        " failed_count INTEGER NOT NULL DEFAULT 0,"
        " locked_until INTEGER NOT NULL DEFAULT 0,"
        " created INTEGER NOT NULL"
        ");"
        "CREATE TABLE user_links ("
        " token_hash BLOB PRIMARY KEY,"
        " user_id INTEGER NOT NULL REFERENCES users (id),"
        " purpose TEXT NOT NULL,"
        " expires INTEGER NOT NULL,"
        " used INTEGER NOT NULL DEFAULT 0,"
        " created INTEGER NOT NULL"
        ");"
        "CREATE TABLE sessions ("
        " id INTEGER PRIMARY KEY,"
        " token_hash BLOB NOT NULL UNIQUE,"
        " user_id INTEGER NOT NULL REFERENCES users (id),"
        " created INTEGER NOT NULL,"
        " last_seen INTEGER NOT NULL,"
        " expires INTEGER NOT NULL,"
        " mfa_ok INTEGER NOT NULL DEFAULT 0,"
        " client_ip TEXT,"
        " user_agent TEXT,"
        " device TEXT"
        ");"
        "CREATE INDEX sessions_user ON sessions (user_id);"
        "CREATE TABLE access_log ("
        " id INTEGER PRIMARY KEY,"
        " time TEXT NOT NULL,"
        " user_id INTEGER,"
        " email_index BLOB,"
        " outcome TEXT NOT NULL,"
        " client_ip TEXT,"
        " user_agent TEXT,"
        " device TEXT"
        ");"
        "CREATE INDEX access_log_user ON access_log (user_id, time);"},
    /* TOTP second factor and recovery codes (auth/totp.c) */
    {3, "ALTER TABLE users ADD COLUMN totp_sealed BLOB;"
        "ALTER TABLE users ADD COLUMN totp_pending BLOB;"
        "ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL "
        "DEFAULT 0;"
        "CREATE TABLE recovery_codes ("
        " user_id INTEGER NOT NULL REFERENCES users (id),"
        " code_hash BLOB NOT NULL,"
        " used INTEGER NOT NULL DEFAULT 0,"
        " PRIMARY KEY (user_id, code_hash)"
        ");"},
    /* step-up: when the session's owner last proved who they are */
    {4, "ALTER TABLE sessions ADD COLUMN auth_at INTEGER NOT NULL DEFAULT 0;"},
    /* personal API tokens; the tenant's security settings */
    {5, "CREATE TABLE api_tokens ("
        " id TEXT PRIMARY KEY,"
        " user_id INTEGER NOT NULL REFERENCES users (id),"
        " token_hash BLOB NOT NULL UNIQUE,"
        " name_sealed BLOB NOT NULL,"
        " permissions TEXT NOT NULL,"
        " created INTEGER NOT NULL,"
        " expires INTEGER NOT NULL,"
        " last_used INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX api_tokens_user ON api_tokens (user_id);"
        "CREATE TABLE settings ("
        " key TEXT PRIMARY KEY,"
        " value TEXT NOT NULL"
        ");"},
    /* earlier password hashes, so they cannot be chosen again (A8) */
    {6, "CREATE TABLE password_history ("
        " id INTEGER PRIMARY KEY,"
        " user_id INTEGER NOT NULL REFERENCES users (id),"
        " hash TEXT NOT NULL,"
        " set_at INTEGER NOT NULL"
        ");"
        "CREATE INDEX password_history_user ON password_history (user_id);"},
    /* random public ids (128 bits) for accounts and sessions: what the
     * API shows, never the row number (COMMITMENT B2) */
    {7, "ALTER TABLE users ADD COLUMN public_id TEXT;"
        "UPDATE users SET public_id = coffre_random_id();"
        "CREATE UNIQUE INDEX users_public_id ON users (public_id);"
        "ALTER TABLE sessions ADD COLUMN public_id TEXT;"
        "UPDATE sessions SET public_id = coffre_random_id();"
        "CREATE UNIQUE INDEX sessions_public_id ON sessions (public_id);"},
    /* custom roles, groups, grants (authz/) and spaces (docs/); a grant's
     * role is a built-in role's name or a custom role's public id, its
     * space a space's public id or NULL for the whole tenant */
    {8, "CREATE TABLE roles ("
        " id INTEGER PRIMARY KEY,"
        " public_id TEXT NOT NULL UNIQUE,"
        " name TEXT NOT NULL,"
        " name_key TEXT NOT NULL UNIQUE,"
        " permissions TEXT NOT NULL,"
        " created INTEGER NOT NULL"
        ");"
        "CREATE TABLE user_groups ("
        " id INTEGER PRIMARY KEY,"
        " public_id TEXT NOT NULL UNIQUE,"
        " name TEXT NOT NULL,"
        " name_key TEXT NOT NULL UNIQUE,"
        " created INTEGER NOT NULL"
        ");"
        "CREATE TABLE group_users ("
        " group_id INTEGER NOT NULL REFERENCES user_groups (id),"
        " user_id INTEGER NOT NULL REFERENCES users (id),"
        " seq INTEGER NOT NULL,"
        " PRIMARY KEY (group_id, user_id)"
        ");"
        "CREATE INDEX group_users_user ON group_users (user_id);"
        "CREATE TABLE group_groups ("
        " group_id INTEGER NOT NULL REFERENCES user_groups (id),"
        " member_id INTEGER NOT NULL REFERENCES user_groups (id),"
        " seq INTEGER NOT NULL,"
        " PRIMARY KEY (group_id, member_id)"
        ");"
        "CREATE INDEX group_groups_member ON group_groups (member_id);"
        "CREATE TABLE grants ("
        " id INTEGER PRIMARY KEY,"
        " public_id TEXT NOT NULL UNIQUE,"
        " user_id INTEGER REFERENCES users (id),"
        " group_id INTEGER REFERENCES user_groups (id),"
        " role TEXT NOT NULL,"
        " space TEXT,"
        " created INTEGER NOT NULL,"
        " CHECK ((user_id IS NULL) <> (group_id IS NULL))"
        ");"
        "CREATE UNIQUE INDEX grants_unique ON grants (coalesce(user_id, 0),"
        " coalesce(group_id, 0), role, coalesce(space, ''));"
        "CREATE INDEX grants_user ON grants (user_id);"
        "CREATE INDEX grants_group ON grants (group_id);"
        "CREATE INDEX grants_space ON grants (space);"
        "CREATE TABLE spaces ("
        " id INTEGER PRIMARY KEY,"
        " public_id TEXT NOT NULL UNIQUE,"
        " name_sealed BLOB NOT NULL,"
        " created INTEGER NOT NULL"
        ");"},
    /* sealed values are bound to their row (db/sealed.c): a database
     * holding values sealed before is marked for the keyed migration
     * (tenant/reseal.c), which needs the tenant's key */
    {9, "INSERT INTO meta (key, value) SELECT 'reseal', '1' WHERE"
        " EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM api_tokens);"},
    /* client addresses, user agents and device labels are sealed (the
     * keyed migration seals what was written in clear); the new-device
     * check compares a keyed hash of the label */
    {10, "ALTER TABLE access_log ADD COLUMN device_mac BLOB;"
         "CREATE INDEX access_log_device ON access_log (user_id, device_mac);"
         "INSERT OR IGNORE INTO meta (key, value) SELECT 'reseal', '1' WHERE"
         " EXISTS (SELECT 1 FROM sessions) OR"
         " EXISTS (SELECT 1 FROM access_log);"},
};
const size_t db_schema_tenant_len = CF_ARRAY_LEN(db_schema_tenant);
