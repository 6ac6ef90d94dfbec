/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The second factor (COMMITMENT A7): TOTP as RFC 6238 (liboath;
 * SHA-1, 6 digits, 30 s, one step of drift either way), enrolment through
 * an otpauth:// URI and its QR code (libqrencode, drawn as SVG), activation
 * only after a valid code, a code accepted once, ten single-use recovery
 * codes kept as keyed hashes. The secret is sealed with the tenant's field
 * key (invariant 3).
 */
#include "core/compat.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <qrencode.h>

#include "auth/auth_int.h"

#define TOTP_SECRET_BYTES 20 /* 160 bits */
#define TOTP_STEP 30
#define TOTP_DIGITS 6

/* Recovery codes: no 0/o, 1/l/i to misread. */
static const char totp_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

static pthread_once_t totp_once = PTHREAD_ONCE_INIT;

static void
totp_init(void)
{
    if (oath_init() != OATH_OK) {
        cf_log_error("cannot initialise liboath");
    }
}

/* QR code of text as an SVG document (dark modules as one path; a quiet
 * zone of 4 modules). No script, no style: safe under the CSP. */
static enum cf_rc
totp_qr_svg(const char *text, struct cf_buf *out)
{
    QRcode *qr;
    enum cf_rc rc;
    int x;
    int y;

    qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (qr == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    rc = cf_buf_addf(out,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
                     "%d %d\" width=\"%d\" height=\"%d\" "
                     "shape-rendering=\"crispEdges\"><rect width=\"100%%\" "
                     "height=\"100%%\" fill=\"#fff\"/><path fill=\"#000\" "
                     "d=\"",
                     qr->width + 8, qr->width + 8, (qr->width + 8) * 4,
                     (qr->width + 8) * 4);
    for (y = 0; rc == CF_OK && y < qr->width; y++) {
        for (x = 0; rc == CF_OK && x < qr->width; x++) {
            if (qr->data[y * qr->width + x] & 1) {
                rc = cf_buf_addf(out, "M%d %dh1v1h-1z", x + 4, y + 4);
            }
        }
    }
    if (rc == CF_OK) {
        rc = cf_buf_adds(out, "\"/></svg>");
    }
    QRcode_free(qr);
    return rc;
}

/* Percent-encode s for an otpauth label or parameter. */
static enum cf_rc
totp_uri_escape(struct cf_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    enum cf_rc rc = CF_OK;

    for (; rc == CF_OK && *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '@') {
            rc = cf_buf_addch(out, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};

            rc = cf_buf_add(out, esc, 3);
        }
    }
    return rc;
}

enum cf_rc
auth_totp_begin(const struct cf_ctx *ctx, int64_t user_id,
                char uri[AUTH_OTPAUTH_MAX], struct cf_buf *svg)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct cf_buf sealed;
    struct cf_buf u;
    unsigned char secret[TOTP_SECRET_BYTES];
    char email[AUTH_EMAIL_MAX + 1] = "";
    char *b32 = NULL;
    size_t b32len = 0;
    enum cf_rc rc;

    pthread_once(&totp_once, totp_init);
    cf_buf_init(&sealed, 1024);
    cf_buf_init(&u, AUTH_OTPAUTH_MAX - 1);
    cx_random_buf(secret, sizeof(secret));
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = auth_field_seal(&k, DB_SEALED_USER_TOTP_PENDING, user_id, NULL,
                             secret, sizeof(secret), &sealed);
    }
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = auth_user_email(db, &k, user_id, email, sizeof(email));
    }
    if (rc == CF_OK) {
        rc = db_begin(db);
        if (rc == CF_OK) {
            /* invariant 1: a pending secret is a change, audited */
            rc = auth_store_totp_pending(db, user_id, &sealed);
            if (rc == CF_OK) {
                rc = auth_audit(db, &k, ctx, NULL, "user.totp_begin", user_id,
                                true);
            }
            rc = rc == CF_OK ? db_commit(db) : rc;
            if (rc != CF_OK) {
                db_rollback(db);
            }
        }
    }
    if (rc == CF_OK && oath_base32_encode((const char *)secret, sizeof(secret),
                                          &b32, &b32len) != OATH_OK) {
        rc = CF_ERR(CF_ENOMEM);
    }
    if (rc == CF_OK) {
        rc = cf_buf_adds(&u, "otpauth://totp/coffre%20");
    }
    if (rc == CF_OK) {
        rc = totp_uri_escape(&u, ctx->tenant_slug);
    }
    if (rc == CF_OK) {
        rc = cf_buf_adds(&u, ":");
    }
    if (rc == CF_OK) {
        rc = totp_uri_escape(&u, email);
    }
    if (rc == CF_OK) {
        rc = cf_buf_addf(&u,
                         "?secret=%.*s&issuer=coffre&algorithm=SHA1&digits=6&"
                         "period=30",
                         (int)strcspn(b32, "="), b32);
    }
    if (rc == CF_OK) {
        rc = totp_qr_svg(cf_buf_str(&u), svg);
    }
    if (rc == CF_OK) {
        memcpy(uri, cf_buf_str(&u), u.len + 1);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    if (b32 != NULL) {
        cf_memzero(b32, b32len);
        free(b32); /* liboath's allocator */
    }
    cf_memzero(secret, sizeof(secret));
    cf_memzero(email, sizeof(email));
    cf_buf_release(&u);
    cf_buf_release(&sealed);
    auth_keys_close(&k);
    return rc;
}

/* Check a 6-digit code against the sealed secret; *step gets the step it
 * belongs to. CF_EAUTH when it matches no step in the window. */
static enum cf_rc
totp_check(const struct auth_keys *k, int64_t user_id,
           const struct cf_buf *sealed, const char *code, int64_t now,
           int64_t *step)
{
    struct cf_buf secret;
    int pos = 0;
    int r;
    enum cf_rc rc;

    char norm[AUTH_CODE_NORM_MAX + 1];

    if (auth_code_parse(code, norm) != AUTH_CODE_TOTP || sealed->len == 0) {
        return CF_EAUTH;
    }
    code = norm;
    cf_buf_init(&secret, 256);
    rc = auth_field_open(k, DB_SEALED_USER_TOTP, user_id, NULL, sealed->data,
                         sealed->len, &secret);
    if (rc == CF_OK) {
        r = oath_totp_validate2(secret.data, secret.len, (time_t)now, TOTP_STEP,
                                0, 1, &pos, code);
        if (r < 0) {
            rc = CF_EAUTH;
        } else {
            *step = now / TOTP_STEP + pos;
        }
    }
    cf_buf_release(&secret);
    return rc;
}

/* A new recovery code: 12 characters of an unambiguous alphabet. */
static void
totp_recovery_new(char out[AUTH_RECOVERY_LEN + 1])
{
    unsigned char raw[12];
    size_t i;
    size_t o = 0;

    cx_random_buf(raw, sizeof(raw));
    for (i = 0; i < sizeof(raw); i++) {
        if (i > 0 && i % 4 == 0) {
            out[o++] = '-';
        }
        /* 31 symbols: the bias of raw % 31 is under 1 %, and 12 symbols
         * give about 59 bits */
        out[o++] = totp_alphabet[raw[i] % (sizeof(totp_alphabet) - 1)];
    }
    out[o] = '\0';
    cf_memzero(raw, sizeof(raw));
}

enum auth_code_kind
auth_code_parse(const char *in, char norm[AUTH_CODE_NORM_MAX + 1])
{
    size_t n = 0;
    size_t digits = 0;
    bool dash = false;

    norm[0] = '\0';
    for (; *in; in++) {
        char c = *in;

        if (c == ' ') {
            continue;
        }
        if (c == '-') {
            dash = true;
            continue;
        }
        if (n == AUTH_CODE_NORM_MAX) {
            norm[0] = '\0';
            return AUTH_CODE_INVALID;
        }
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c | 0x20);
        }
        if (c >= '0' && c <= '9') {
            digits++;
        }
        if (strchr(totp_alphabet, c) == NULL && !(c >= '0' && c <= '9')) {
            norm[0] = '\0';
            return AUTH_CODE_INVALID;
        }
        norm[n++] = c;
    }
    norm[n] = '\0';
    if (n == TOTP_DIGITS && digits == n && !dash) {
        return AUTH_CODE_TOTP;
    }
    if (n == AUTH_CODE_NORM_MAX && strspn(norm, totp_alphabet) == n) {
        return AUTH_CODE_RECOVERY;
    }
    norm[0] = '\0';
    return AUTH_CODE_INVALID;
}

/* The keyed hash of a recovery code; CF_EINVAL when it cannot be one. */
static enum cf_rc
totp_recovery_hash(const struct auth_keys *k, const char *code,
                   unsigned char out[CX_MAC_BYTES])
{
    char norm[AUTH_CODE_NORM_MAX + 1];
    enum cf_rc rc;

    if (auth_code_parse(code, norm) != AUTH_CODE_RECOVERY) {
        return CF_EINVAL;
    }
    rc = cx_mac(k->token, norm, strlen(norm), out);
    cf_memzero(norm, sizeof(norm));
    return rc;
}

enum cf_rc
auth_totp_confirm(const struct cf_ctx *ctx, int64_t user_id, const char *code,
                  char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_LEN + 1])
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct cf_buf pending;
    char fresh[AUTH_RECOVERY_CODES][AUTH_RECOVERY_LEN + 1];
    unsigned char hash[CX_MAC_BYTES];
    int64_t last = 0;
    int64_t step = 0;
    bool in_tx = false;
    enum cf_rc rc;
    size_t i;

    pthread_once(&totp_once, totp_init);
    cf_buf_init(&pending, 1024);
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = auth_store_totp_get(db, user_id, NULL, &pending, &last);
    }
    if (rc == CF_OK && pending.len == 0) {
        rc = CF_ENOTFOUND;
    }
    if (rc == CF_OK) {
        rc = totp_check(&k, user_id, &pending, code, cf_time_unix(), &step);
    }
    if (rc == CF_OK) {
        rc = db_begin(db);
        in_tx = rc == CF_OK;
    }
    if (rc == CF_OK) {
        rc = auth_store_totp_activate(db, user_id, step);
    }
    if (rc == CF_OK) {
        rc = auth_store_recovery_clear(db, user_id);
    }
    for (i = 0; rc == CF_OK && i < AUTH_RECOVERY_CODES; i++) {
        totp_recovery_new(fresh[i]);
        rc = totp_recovery_hash(&k, fresh[i], hash);
        if (rc == CF_OK) {
            rc = auth_store_recovery_add(db, user_id, hash);
        }
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, &k, ctx, NULL, "user.totp_enable", user_id, true);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
        in_tx = false;
    }
    if (in_tx) {
        db_rollback(db);
    }
    if (rc == CF_OK) {
        memcpy(codes, fresh, sizeof(fresh));
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    cf_memzero(fresh, sizeof(fresh));
    cf_buf_release(&pending);
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_totp_disable(const struct cf_ctx *ctx, int64_t user_id)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    bool in_tx = false;
    enum cf_rc rc;

    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = db_begin(db);
        in_tx = rc == CF_OK;
    }
    if (rc == CF_OK) {
        rc = auth_store_totp_clear(db, user_id);
    }
    if (rc == CF_OK) {
        rc = auth_audit(db, &k, ctx, NULL, "user.totp_disable", user_id, true);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
        in_tx = false;
    }
    if (in_tx) {
        db_rollback(db);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    auth_keys_close(&k);
    return rc;
}

enum cf_rc
auth_totp_enabled(const struct cf_ctx *ctx, int64_t user_id, bool *on)
{
    struct db *db = NULL;
    struct auth_user user;
    enum cf_rc rc;

    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, user_id, &user);
        db_pool_put(ctx->pool, db);
    }
    if (rc == CF_OK) {
        *on = user.has_totp;
    }
    return rc;
}

enum cf_rc
auth_totp_verify(const struct cf_ctx *ctx, const char *token, const char *code)
{
    struct auth_keys k = {0};
    struct db *db = NULL;
    struct auth_session s = {0};
    struct auth_user user;
    struct cf_buf active;
    unsigned char hash[CX_MAC_BYTES];
    int64_t now = cf_time_unix();
    int64_t last = 0;
    int64_t step = 0;
    const char *outcome = "totp_failed";
    bool ok = false;
    bool in_tx = false;
    enum cf_rc rc;

    pthread_once(&totp_once, totp_init);
    cf_buf_init(&active, 1024);
    rc = auth_keys_open(ctx, &k);
    if (rc == CF_OK) {
        rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    }
    if (rc == CF_OK) {
        rc = auth_session_find(ctx, db, &k, token, now, &s, NULL);
    }
    if (rc == CF_OK) {
        rc = auth_store_user_by_id(db, s.user_id, &user);
    }
    if (rc == CF_OK) {
        rc = auth_store_totp_get(db, s.user_id, &active, NULL, &last);
    }
    if (rc != CF_OK) {
        rc = rc == CF_ENOTFOUND ? CF_EAUTH : rc;
        goto out;
    }
    if (user.locked_until > now) {
        outcome = "locked";
    } else if (totp_check(&k, s.user_id, &active, code, now, &step) == CF_OK) {
        if (step > last) {
            ok = true;
        } else {
            outcome = "totp_replay"; /* a code is good once */
            cf_log_warn("replayed TOTP code refused", "user",
                        s.user_id > 0 ? "known" : "");
        }
    } else if (totp_recovery_hash(&k, code, hash) == CF_OK) {
        rc = db_begin(db);
        if (rc == CF_OK) {
            in_tx = true;
            ok = auth_store_recovery_use(db, s.user_id, hash) == CF_OK;
            step = 0;
            outcome = ok ? "recovery_code" : outcome;
        }
    }
    if (!ok) {
        if (in_tx) {
            db_rollback(db);
            in_tx = false;
        }
        rc = auth_login_failed(ctx, db, &k, &user, NULL, outcome, now);
        if (rc == CF_OK && strcmp(outcome, "totp_replay") == 0) {
            auth_notify(ctx, db, &k, s.user_id, AUTH_NOTICE_CODE_REPLAY, NULL);
        }
        rc = rc == CF_OK ? CF_EAUTH : rc;
        goto out;
    }
    if (!in_tx) {
        rc = db_begin(db);
        in_tx = rc == CF_OK;
    }
    if (rc == CF_OK && step > 0) {
        rc = auth_store_totp_step(db, s.user_id, step);
    }
    if (rc == CF_OK) {
        rc = auth_store_session_mfa(db, s.id);
    }
    if (rc == CF_OK) {
        rc = auth_store_session_proved(db, s.id, now);
    }
    if (rc == CF_OK) {
        rc = auth_store_set_failures(db, s.user_id, 0, 0);
    }
    if (rc == CF_OK) {
        rc = auth_journal(db, &k, s.user_id, NULL,
                          step > 0 ? "totp_success" : "recovery_code", ctx);
    }
    if (rc == CF_OK) {
        /* invariant 1: the session passed its second factor (a recovery
         * code was used up) */
        rc = auth_audit(db, &k, ctx, NULL,
                        step > 0 ? "session.mfa_totp" : "session.mfa_recovery",
                        s.user_id, true);
    }
    if (rc == CF_OK) {
        rc = db_commit(db);
        in_tx = false;
    }
out:
    if (in_tx) {
        db_rollback(db);
    }
    if (db != NULL) {
        db_pool_put(ctx->pool, db);
    }
    cf_memzero(&s, sizeof(s));
    cf_buf_release(&active);
    auth_keys_close(&k);
    return rc;
}
