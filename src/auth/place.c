/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Where a request came from: the client address, the user agent and the
 * device label made from it are personal data (invariant 3). Sessions and
 * journal lines keep them sealed with the tenant's field key, bound to
 * their row (db/sealed.c); the journal also keeps a keyed hash of the
 * device label, which the new-device check compares instead of the label.
 * COMMITMENT D1 (personal fields encrypted), COMMITMENT C1 (the journal
 * keeps device and address, readable by the account and its admins).
 */
#include "core/compat.h"

#include "auth/auth_int.h"

#define PLACE_MAX 1024 /* sealed user agent: the header, capped */
#define PLACE_UA_MAX 512

/* Seal s (may be NULL: "") for col in row id into out. */
static enum cf_rc
place_seal(const struct auth_keys *k, enum db_sealed_col col, int64_t id,
           const char *s, struct cf_buf *out)
{
    size_t len = s != NULL ? strnlen(s, PLACE_UA_MAX) : 0;

    return auth_field_seal(k, col, id, NULL, s != NULL ? s : "", len, out);
}

enum cf_rc
auth_device_mac(const struct auth_keys *k, const char *device,
                unsigned char mac[CX_MAC_BYTES])
{
    return cx_mac_for(k->index, db_sealed[DB_SEALED_LOG_DEVICE].mac_purpose,
                      device, strlen(device), mac);
}

/* Seal ctx's place into row id of the journal or of sessions. */
static enum cf_rc
place_set(struct db *db, const struct auth_keys *k, const struct cf_ctx *ctx,
          bool journal, int64_t id)
{
    struct cf_buf ip;
    struct cf_buf ua;
    struct cf_buf dev;
    char device[64];
    unsigned char mac[CX_MAC_BYTES];
    enum cf_rc rc;

    cf_buf_init(&ip, PLACE_MAX);
    cf_buf_init(&ua, PLACE_MAX);
    cf_buf_init(&dev, PLACE_MAX);
    auth_device_label(ctx->user_agent, device, sizeof(device));
    rc = place_seal(k, journal ? DB_SEALED_LOG_IP : DB_SEALED_SESSION_IP, id,
                    ctx->client_ip, &ip);
    if (rc == CF_OK) {
        rc = place_seal(k, journal ? DB_SEALED_LOG_UA : DB_SEALED_SESSION_UA,
                        id, ctx->user_agent, &ua);
    }
    if (rc == CF_OK) {
        rc = place_seal(
            k, journal ? DB_SEALED_LOG_DEVICE : DB_SEALED_SESSION_DEVICE, id,
            device, &dev);
    }
    if (rc == CF_OK) {
        rc = auth_device_mac(k, device, mac);
    }
    if (rc == CF_OK) {
        rc = auth_store_place_set(db, journal, id, &ip, &ua, &dev, mac);
    }
    cf_buf_release(&ip);
    cf_buf_release(&ua);
    cf_buf_release(&dev);
    return rc;
}

enum cf_rc
auth_journal(struct db *db, const struct auth_keys *k, int64_t user_id,
             const unsigned char *email_index, const char *outcome,
             const struct cf_ctx *ctx)
{
    int64_t id = 0;
    enum cf_rc rc;

    rc = auth_store_journal_insert(db, user_id, email_index, outcome, &id);
    if (rc == CF_OK) {
        rc = place_set(db, k, ctx, true, id);
    }
    return rc;
}

enum cf_rc
auth_session_place(struct db *db, const struct auth_keys *k,
                   const struct cf_ctx *ctx, int64_t id)
{
    return place_set(db, k, ctx, false, id);
}

enum cf_rc
auth_place_open(const struct auth_keys *k, enum db_sealed_col col, int64_t id,
                const void *v, size_t len, char *out, size_t cap)
{
    struct cf_buf clear;
    enum cf_rc rc = CF_OK;

    if (cap == 0) {
        return CF_ERR(CF_EINVAL);
    }
    out[0] = '\0';
    if (v == NULL || len == 0) {
        return CF_OK; /* none was known */
    }
    cf_buf_init(&clear, PLACE_MAX);
    rc = auth_field_open(k, col, id, NULL, v, len, &clear);
    if (rc == CF_OK) {
        cf_strlcpy(out, cf_buf_str(&clear), cap);
    }
    cf_buf_release(&clear);
    return rc;
}
