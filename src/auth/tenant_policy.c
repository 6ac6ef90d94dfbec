/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A tenant's security policy (COMMITMENT A2, A8, A12): each field is
 * declared once in policy_fields[] with its bounds, which are set so a
 * tenant can only be stricter than the server's defaults. Values live in
 * the tenant's settings table; an unreadable value fails closed to the
 * strictest setting.
 */
#include "core/compat.h"

#include "audit/audit.h"
#include "auth/auth_int.h"

static const char *const mfa_names[] = {
    [AUTH_MFA_ADMINS] = "admins",
    [AUTH_MFA_OPTIONAL] = "optional",
    [AUTH_MFA_ALL] = "all",
};

const char *
auth_mfa_policy_name(enum auth_mfa_policy p)
{
    return (size_t)p < CF_ARRAY_LEN(mfa_names) ? mfa_names[p] : "admins";
}

enum cf_rc
auth_mfa_policy_parse(const char *s, enum auth_mfa_policy *out)
{
    size_t i;

    for (i = 0; s != NULL && i < CF_ARRAY_LEN(mfa_names); i++) {
        if (strcmp(s, mfa_names[i]) == 0) {
            *out = (enum auth_mfa_policy)i;
            return CF_OK;
        }
    }
    return CF_ERR(CF_EINVAL);
}

/* One numeric field: its settings key, bounds, and the strictest value
 * (used when what is stored cannot be read). */
struct policy_field {
    const char *name;
    size_t offset;
    unsigned min;
    unsigned max;
    unsigned strictest;
};

#define POLICY_OFF(f) offsetof(struct auth_tenant_policy, f)

static const struct policy_field policy_fields[] = {
    {"password_min", POLICY_OFF(pw.min_len), AUTH_PW_MIN, AUTH_PW_MAX,
     AUTH_PW_MAX},
    {"password_min_admin", POLICY_OFF(pw.min_len_admin), AUTH_PW_MIN_ADMIN,
     AUTH_PW_MAX, AUTH_PW_MAX},
    {"password_score", POLICY_OFF(pw.min_score), AUTH_PW_MIN_SCORE, 4, 4},
    {"max_age_days", POLICY_OFF(max_age_days), 0, AUTH_MAX_AGE_ADMIN_DAYS, 1},
    {"max_age_days_admin", POLICY_OFF(max_age_days_admin), 1,
     AUTH_MAX_AGE_ADMIN_DAYS, 1},
    {"history", POLICY_OFF(history), 0, AUTH_HISTORY_MAX, AUTH_HISTORY_MAX},
    {"session_idle_minutes", POLICY_OFF(session_idle_minutes), 1, 30, 1},
    {"session_max_hours", POLICY_OFF(session_max_hours), 1, 12, 1},
};

static const struct policy_field *
policy_field_find(const char *name)
{
    size_t i;

    for (i = 0; i < CF_ARRAY_LEN(policy_fields); i++) {
        if (strcmp(policy_fields[i].name, name) == 0) {
            return &policy_fields[i];
        }
    }
    return NULL;
}

static void *
policy_slot(struct auth_tenant_policy *p, const struct policy_field *f)
{
    return (char *)p + f->offset;
}

static void
policy_defaults(struct auth_tenant_policy *p)
{
    memset(p, 0, sizeof(*p));
    auth_policy_defaults(&p->pw);
    p->mfa = AUTH_MFA_ADMINS;
    p->max_age_days = 0;
    p->max_age_days_admin = AUTH_MAX_AGE_ADMIN_DAYS;
    p->history = AUTH_HISTORY_DEFAULT;
    p->session_idle_minutes = 30;
    p->session_max_hours = 12;
}

/* Parse value for f; CF_EINVAL when out of f's bounds. */
static enum cf_rc
policy_parse(const struct policy_field *f, const char *value, unsigned *out)
{
    uint64_t v;

    if (cf_parse_u64(value, f->min, f->max, &v) != CF_OK) {
        return CF_ERR(CF_EINVAL);
    }
    *out = (unsigned)v;
    return CF_OK;
}

static enum cf_rc
policy_read_one(const char *key, const char *value, void *arg)
{
    struct auth_tenant_policy *p = arg;
    const struct policy_field *f;
    unsigned v;

    if (key == NULL || value == NULL) {
        return CF_OK;
    }
    if (strcmp(key, "mfa") == 0) {
        if (auth_mfa_policy_parse(value, &p->mfa) != CF_OK) {
            cf_log_error("unreadable 2FA policy: the strictest applies");
            p->mfa = AUTH_MFA_ALL;
        }
        return CF_OK;
    }
    f = policy_field_find(key);
    if (f == NULL) {
        return CF_OK; /* a setting of another module */
    }
    if (policy_parse(f, value, &v) != CF_OK) {
        cf_log_error("unreadable policy setting: the strictest applies",
                     "setting", key);
        v = f->strictest;
    }
    memcpy(policy_slot(p, f), &v, sizeof(v));
    return CF_OK;
}

enum cf_rc
auth_tenant_policy_read(struct db *db, struct auth_tenant_policy *out)
{
    struct auth_tenant_policy p;
    struct auth_policy base;
    enum cf_rc rc;

    policy_defaults(&p);
    rc = auth_store_settings_each(db, policy_read_one, &p);
    if (rc != CF_OK) {
        return rc;
    }
    /* never weaker than the defaults, whatever the table says */
    auth_policy_defaults(&base);
    auth_policy_merge(&base, &p.pw);
    p.pw = base;
    *out = p;
    return CF_OK;
}

enum cf_rc
auth_tenant_policy_get(const struct auth_ctx *ctx,
                       struct auth_tenant_policy *out)
{
    struct db *db = NULL;
    enum cf_rc rc;

    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc == CF_OK) {
        rc = auth_tenant_policy_read(db, out);
        db_pool_put(ctx->pool, db);
    }
    return rc;
}

/* The current value of name in p, as text. */
static void
policy_value(const struct auth_tenant_policy *p, const char *name, char *out,
             size_t cap)
{
    const struct policy_field *f = policy_field_find(name);
    unsigned v;

    if (f == NULL) {
        snprintf(out, cap, "%s", auth_mfa_policy_name(p->mfa));
        return;
    }
    memcpy(&v, (const char *)p + f->offset, sizeof(v));
    snprintf(out, cap, "%u", v);
}

enum cf_rc
auth_tenant_policy_set(const struct auth_ctx *ctx, const char *name,
                       const char *value)
{
    struct auth_keys k = {0};
    struct auth_tenant_policy p;
    struct audit_event ev = {0};
    struct db *db = NULL;
    const struct policy_field *f = policy_field_find(name);
    enum auth_mfa_policy mfa = AUTH_MFA_ALL;
    char action[64];
    char details[160];
    char old[16];
    char canon[16];
    unsigned v = 0;
    enum cf_rc rc;

    if (f != NULL) {
        rc = policy_parse(f, value, &v);
        snprintf(canon, sizeof(canon), "%u", v);
    } else if (strcmp(name, "mfa") == 0) {
        rc = auth_mfa_policy_parse(value, &mfa);
        snprintf(canon, sizeof(canon), "%s", auth_mfa_policy_name(mfa));
    } else {
        rc = CF_ERR(CF_EINVAL);
    }
    if (rc != CF_OK) {
        return rc;
    }
    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        rc = auth_tenant_policy_read(db, &p);
    }
    if (rc == CF_OK) {
        policy_value(&p, name, old, sizeof(old));
        rc = auth_store_setting_set(db, name, canon);
    }
    if (rc == CF_OK) {
        snprintf(action, sizeof(action), "settings.%s", name);
        snprintf(details, sizeof(details), "{\"old\":\"%s\",\"new\":\"%s\"}",
                 old, canon);
        ev.principal = ctx->principal != NULL ? ctx->principal : "system";
        ev.action = action;
        ev.target = "tenant";
        ev.success = true;
        ev.client_ip = ctx->client_ip;
        ev.request_id = ctx->request_id;
        ev.details = details;
        rc = audit_append(db, k.audit, &ev);
    }
    return auth_tx_close(ctx, &k, &db, rc);
}

void
auth_tenant_policy_print(const struct auth_tenant_policy *p, FILE *f)
{
    char v[16];
    size_t i;

    fprintf(f, "mfa: %s\n", auth_mfa_policy_name(p->mfa));
    for (i = 0; i < CF_ARRAY_LEN(policy_fields); i++) {
        policy_value(p, policy_fields[i].name, v, sizeof(v));
        fprintf(f, "%s: %s\n", policy_fields[i].name, v);
    }
}

bool
auth_password_too_old(const struct auth_tenant_policy *p, const char *role,
                      int64_t set_at, int64_t now)
{
    bool admin = strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0;
    unsigned days = admin ? p->max_age_days_admin : p->max_age_days;

    if (days == 0 || set_at <= 0) {
        return false;
    }
    return now - set_at > (int64_t)days * 24 * 3600;
}

struct reuse_walk {
    const char *pw;
    size_t len;
    bool reused;
};

static enum cf_rc
reuse_check_one(const char *hash, void *arg)
{
    struct reuse_walk *w = arg;

    if (!w->reused && hash != NULL &&
        cx_pwhash_verify(hash, w->pw, w->len) == CF_OK) {
        w->reused = true;
    }
    return CF_OK;
}

/* Copy each hash so the database can be given back during the checks. */
static enum cf_rc
reuse_collect(const char *hash, void *arg)
{
    struct cf_buf *b = arg;

    return hash != NULL ? cf_buf_add(b, hash, strlen(hash) + 1) : CF_OK;
}

enum cf_rc
auth_password_reused(const struct auth_ctx *ctx, struct db **db,
                     int64_t user_id, unsigned history, const char *new_secret,
                     size_t new_len, bool *reused)
{
    struct reuse_walk w = {new_secret, new_len, false};
    struct cf_buf hashes;
    char current[CX_PWHASH_STR_MAX] = "";
    size_t off;
    enum cf_rc rc;

    *reused = false;
    if (history == 0) {
        return CF_OK;
    }
    cf_buf_init(&hashes, (size_t)(AUTH_HISTORY_MAX + 1) * CX_PWHASH_STR_MAX);
    rc = auth_store_user_hash(*db, user_id, current, sizeof(current));
    if (rc == CF_OK && current[0] != '\0') {
        rc = cf_buf_add(&hashes, current, strlen(current) + 1);
    }
    if (rc == CF_ENOTFOUND) {
        rc = CF_OK;
    }
    if (rc == CF_OK) {
        /* the current password counts as one of the history */
        rc = auth_store_history_each(*db, user_id, history - 1, reuse_collect,
                                     &hashes);
    }
    if (rc != CF_OK) {
        goto out;
    }
    auth_db_release(ctx, db);
    for (off = 0; off < hashes.len; off += strlen(hashes.data + off) + 1) {
        (void)reuse_check_one(hashes.data + off, &w);
    }
    rc = auth_db_reacquire(ctx, db);
    *reused = w.reused;
out:
    cf_buf_release(&hashes);
    cf_memzero(current, sizeof(current));
    return rc;
}

enum cf_rc
auth_password_store(struct db *db, int64_t user_id, const char *hash, int score,
                    int64_t now, unsigned history)
{
    char old[CX_PWHASH_STR_MAX] = "";
    enum cf_rc rc;

    rc = auth_store_user_hash(db, user_id, old, sizeof(old));
    if (rc == CF_ENOTFOUND) {
        rc = CF_OK;
    }
    /* the current password is one of the history; the table keeps the
     * history - 1 before it */
    if (rc == CF_OK && old[0] != '\0' && history > 1) {
        rc = auth_store_history_add(db, user_id, old, now, history - 1);
    }
    if (rc == CF_OK) {
        rc = auth_store_set_password(db, user_id, hash, score, now);
    }
    cf_memzero(old, sizeof(old));
    return rc;
}
