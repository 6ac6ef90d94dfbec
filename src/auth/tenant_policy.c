/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A tenant's security policy (COMMITMENT A2, A8, A12): each field is
 * declared once in policy_fields[] with its bounds, which are set so a
 * tenant can only be stricter than the server's defaults. Values live in
 * the tenant's settings table; an unreadable value fails closed to the
 * strictest setting.
 */
#include "core/compat.h"

#include <arpa/inet.h>

#include "audit/audit.h"
#include "auth/auth_int.h"
#include "authz/authz.h"

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
 * (used when what is stored cannot be read). The bound on the weaker side
 * is the server's own value: a tenant may only be stricter. */
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
    {"history", POLICY_OFF(history), AUTH_HISTORY_DEFAULT, AUTH_HISTORY_MAX,
     AUTH_HISTORY_MAX},
    {"session_idle_minutes", POLICY_OFF(session_idle_minutes), 1, 30, 1},
    {"session_max_hours", POLICY_OFF(session_max_hours), 1, 12, 1},
    {"lockout_failures", POLICY_OFF(lockout_failures), 3, AUTH_LOCK_AFTER, 3},
};

#define ADMIN_IPS_NOBODY "-" /* an unreadable allow-list lets nobody in */

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

/* ---- the file types a tenant accepts (COMMITMENT B7) --------------------- */

enum cf_rc
auth_upload_types_canon(const char *in, char *out, size_t cap)
{
    static const char known[] = AUTH_UPLOAD_TYPES;
    bool want[32] = {false};
    const char *p = in;
    const char *k;
    size_t n = 0;
    unsigned i;

    while (*p != '\0') {
        size_t len;

        p += strspn(p, " ,");
        len = strcspn(p, " ,");
        if (len == 0) {
            break;
        }
        for (i = 0, k = known; *k != '\0'; i++) {
            size_t klen = strcspn(k, " ");

            if (klen == len && strncmp(k, p, len) == 0) {
                break;
            }
            k += klen;
            k += *k == ' ';
        }
        if (*k == '\0' || i >= CF_ARRAY_LEN(want) || want[i]) {
            return CF_ERR(CF_EINVAL);
        }
        want[i] = true;
        p += len;
    }
    out[0] = '\0';
    for (i = 0, k = known; *k != '\0'; i++) {
        size_t klen = strcspn(k, " ");

        if (want[i]) {
            int w = snprintf(out + n, cap - n, "%s%.*s", n > 0 ? "," : "",
                             (int)klen, k);

            if (w < 0 || (size_t)w >= cap - n) {
                return CF_ERR(CF_ETOOBIG);
            }
            n += (size_t)w;
        }
        k += klen;
        k += *k == ' ';
    }
    return CF_OK;
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
    p->lockout_failures = AUTH_LOCK_AFTER;
    p->admin_ips[0] = '\0';
    if (auth_upload_types_canon(AUTH_UPLOAD_TYPES, p->upload_types,
                                sizeof(p->upload_types)) != CF_OK) {
        p->upload_types[0] = '\0';
    }
}

/* ---- the admin allow-list (COMMITMENT A12) ---------------------------- */

struct cidr {
    int family;
    unsigned char addr[16];
    unsigned prefix;
};

/* One address or CIDR (no spaces) into *c, the host bits cleared. */
static enum cf_rc
cidr_parse(const char *s, size_t len, struct cidr *c)
{
    char buf[64];
    char *slash;
    uint64_t prefix;
    unsigned max;
    unsigned i;

    if (len == 0 || len >= sizeof(buf)) {
        return CF_ERR(CF_EINVAL);
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(c, 0, sizeof(*c));
    slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    if (inet_pton(AF_INET, buf, c->addr) == 1) {
        c->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
        c->family = AF_INET6;
        max = 128;
    } else {
        return CF_ERR(CF_EINVAL);
    }
    c->prefix = max;
    if (slash != NULL) {
        if (cf_parse_u64(slash + 1, 0, max, &prefix) != CF_OK) {
            return CF_ERR(CF_EINVAL);
        }
        c->prefix = (unsigned)prefix;
    }
    for (i = c->prefix; i < max; i++) {
        c->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
    }
    return CF_OK;
}

static bool
cidr_holds(const struct cidr *c, int family, const unsigned char *addr)
{
    unsigned i;

    if (c->family != family) {
        return false;
    }
    for (i = 0; i < c->prefix; i++) {
        unsigned bit = 0x80u >> (i % 8);

        if ((c->addr[i / 8] & bit) != (addr[i / 8] & bit)) {
            return false;
        }
    }
    return true;
}

/* Check and rewrite in (items separated by "," and spaces) as canonical
 * CIDRs into out. CF_EINVAL for a bad item or more than
 * AUTH_ADMIN_IPS_COUNT. */
static enum cf_rc
admin_ips_canon(const char *in, char *out, size_t cap)
{
    const char *p = in;
    size_t n = 0;
    unsigned count = 0;

    out[0] = '\0';
    while (*p != '\0') {
        struct cidr c;
        char text[INET6_ADDRSTRLEN];
        size_t len;
        int w;

        p += strspn(p, " ,");
        len = strcspn(p, " ,");
        if (len == 0) {
            break;
        }
        if (++count > AUTH_ADMIN_IPS_COUNT || cidr_parse(p, len, &c) != CF_OK ||
            inet_ntop(c.family, c.addr, text, sizeof(text)) == NULL) {
            return CF_ERR(CF_EINVAL);
        }
        w = snprintf(out + n, cap - n, "%s%s/%u", n > 0 ? "," : "", text,
                     c.prefix);
        if (w < 0 || (size_t)w >= cap - n) {
            return CF_ERR(CF_EINVAL);
        }
        n += (size_t)w;
        p += len;
    }
    return CF_OK;
}

bool
auth_ip_in_list(const char *list, const char *ip)
{
    unsigned char addr[16];
    int family;
    const char *p = list;

    if (list == NULL || list[0] == '\0') {
        return true;
    }
    if (ip == NULL) {
        return false;
    }
    if (inet_pton(AF_INET, ip, addr) == 1) {
        family = AF_INET;
    } else if (inet_pton(AF_INET6, ip, addr) == 1) {
        family = AF_INET6;
        /* an IPv4 client seen through an IPv6 socket */
        if (memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
            memmove(addr, addr + 12, 4);
            family = AF_INET;
        }
    } else {
        return false;
    }
    while (*p != '\0') {
        struct cidr c;
        size_t len = strcspn(p, ",");

        if (cidr_parse(p, len, &c) == CF_OK && cidr_holds(&c, family, addr)) {
            return true;
        }
        p += len;
        p += *p == ',';
    }
    return false;
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
    if (strcmp(key, "admin_ips") == 0) {
        if (admin_ips_canon(value, p->admin_ips, sizeof(p->admin_ips)) !=
            CF_OK) {
            cf_log_error("unreadable admin allow-list: nobody is let in");
            snprintf(p->admin_ips, sizeof(p->admin_ips), ADMIN_IPS_NOBODY);
        }
        return CF_OK;
    }
    if (strcmp(key, "upload_types") == 0) {
        if (auth_upload_types_canon(value, p->upload_types,
                                    sizeof(p->upload_types)) != CF_OK) {
            cf_log_error("unreadable upload types: none is accepted");
            p->upload_types[0] = '\0';
        }
        return CF_OK;
    }
    f = policy_field_find(key);
    if (f == NULL) {
        return CF_OK; /* a setting of another module */
    }
    if (policy_parse(f, value, &v) != CF_OK) {
        uint64_t low;

        /* stored before the floor was raised: the floor applies */
        if (cf_parse_u64(value, 0, f->max, &low) == CF_OK && low < f->min &&
            f->min <= f->max) {
            v = f->min;
        } else {
            cf_log_error("unreadable policy setting: the strictest applies",
                         "setting", key);
            v = f->strictest;
        }
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
auth_tenant_policy_get(const struct cf_ctx *ctx, struct auth_tenant_policy *out)
{
    struct db *db = NULL;
    enum cf_rc rc;

    rc = db_pool_get(ctx->pool, ctx->tenant_id, 0, &db);
    if (rc == CF_OK) {
        rc = auth_tenant_policy_read(db, out);
        db_pool_put(ctx->pool, db);
    }
    if (rc == CF_OK) {
        auth_tenant_policy_floor(ctx, out);
    }
    return rc;
}

void
auth_tenant_policy_floor(const struct cf_ctx *ctx, struct auth_tenant_policy *p)
{
    /* optional 2FA stored while the operator allowed it, who no longer
     * does: the default applies */
    if (p->mfa == AUTH_MFA_OPTIONAL &&
        (ctx->cfg == NULL || !ctx->cfg->mfa_optional)) {
        p->mfa = AUTH_MFA_ADMINS;
    }
}

/* The current value of name in p, as text. */
static void
policy_value(const struct auth_tenant_policy *p, const char *name, char *out,
             size_t cap)
{
    const struct policy_field *f = policy_field_find(name);
    unsigned v;

    if (f == NULL && strcmp(name, "admin_ips") == 0) {
        snprintf(out, cap, "%s", p->admin_ips);
        return;
    }
    if (f == NULL && strcmp(name, "upload_types") == 0) {
        snprintf(out, cap, "%s", p->upload_types);
        return;
    }
    if (f == NULL) {
        snprintf(out, cap, "%s", auth_mfa_policy_name(p->mfa));
        return;
    }
    memcpy(&v, (const char *)p + f->offset, sizeof(v));
    snprintf(out, cap, "%u", v);
}

/* The canonical text of value for the field name, or CF_EINVAL. */
static enum cf_rc
policy_canon(const struct cf_ctx *ctx, const char *name, const char *value,
             char *out, size_t cap)
{
    const struct policy_field *f = policy_field_find(name);
    enum auth_mfa_policy mfa = AUTH_MFA_ALL;
    unsigned v = 0;
    enum cf_rc rc;

    if (value == NULL) {
        return CF_ERR(CF_EINVAL);
    }
    if (f != NULL) {
        rc = policy_parse(f, value, &v);
        snprintf(out, cap, "%u", v);
    } else if (strcmp(name, "mfa") == 0) {
        rc = auth_mfa_policy_parse(value, &mfa);
        if (rc == CF_OK && mfa == AUTH_MFA_OPTIONAL &&
            (ctx->cfg == NULL || !ctx->cfg->mfa_optional)) {
            rc = CF_ERR(CF_EINVAL); /* weaker than the server allows */
        }
        snprintf(out, cap, "%s", auth_mfa_policy_name(mfa));
    } else if (strcmp(name, "admin_ips") == 0) {
        rc = admin_ips_canon(value, out, cap);
    } else if (strcmp(name, "upload_types") == 0) {
        rc = auth_upload_types_canon(value, out, cap);
    } else {
        rc = CF_ERR(CF_EINVAL);
    }
    return rc;
}

/* One setting changed, with its audit event (old and new values). */
static enum cf_rc
policy_apply(struct db *db, const struct auth_keys *k, const struct cf_ctx *ctx,
             const struct auth_tenant_policy *p, const char *name,
             const char *canon)
{
    struct audit_event ev = {0};
    struct cf_buf details;
    char action[64];
    char old[AUTH_ADMIN_IPS_MAX];
    enum cf_rc rc;

    policy_value(p, name, old, sizeof(old));
    if (strcmp(old, canon) == 0) {
        return CF_OK; /* no change, no event */
    }
    rc = auth_store_setting_set(db, name, canon);
    if (rc != CF_OK) {
        return rc;
    }
    cf_buf_init(&details, (size_t)4 * AUTH_ADMIN_IPS_MAX);
    rc = cf_buf_adds(&details, "{\"old\":");
    if (rc == CF_OK) {
        rc = cf_buf_add_json_str(&details, old);
    }
    if (rc == CF_OK) {
        rc = cf_buf_adds(&details, ",\"new\":");
    }
    if (rc == CF_OK) {
        rc = cf_buf_add_json_str(&details, canon);
    }
    if (rc == CF_OK) {
        rc = cf_buf_adds(&details, "}");
    }
    if (rc == CF_OK) {
        snprintf(action, sizeof(action), "settings.%s", name);
        ev.principal = ctx->principal != NULL ? ctx->principal : "system";
        ev.action = action;
        ev.target = "tenant";
        ev.success = true;
        ev.client_ip = ctx->client_ip;
        ev.request_id = ctx->request_id;
        ev.details = cf_buf_str(&details);
        rc = audit_append(db, k->audit, &ev);
    }
    cf_buf_release(&details);
    return rc;
}

enum cf_rc
auth_tenant_policy_update(const struct cf_ctx *ctx, const char *const *names,
                          const char *const *values, size_t n,
                          const char *keep_ip, size_t *bad)
{
    struct auth_keys k = {0};
    struct auth_tenant_policy p;
    struct db *db = NULL;
    char canon[AUTH_ADMIN_IPS_MAX];
    size_t i;
    enum cf_rc rc;

    /* every value is checked before anything is written */
    for (i = 0; i < n; i++) {
        if (policy_canon(ctx, names[i], values[i], canon, sizeof(canon)) !=
            CF_OK) {
            *bad = i;
            return CF_ERR(CF_EINVAL);
        }
        if (keep_ip != NULL && strcmp(names[i], "admin_ips") == 0 &&
            !auth_ip_in_list(canon, keep_ip)) {
            *bad = i;
            return auth_refuse(ctx, "would_lock_you_out", CF_ECONFLICT);
        }
    }
    rc = auth_tx_open(ctx, &k, &db);
    if (rc == CF_OK) {
        rc = auth_tenant_policy_read(db, &p);
    }
    for (i = 0; rc == CF_OK && i < n; i++) {
        rc = policy_canon(ctx, names[i], values[i], canon, sizeof(canon));
        if (rc == CF_OK) {
            rc = policy_apply(db, &k, ctx, &p, names[i], canon);
        }
    }
    return auth_tx_close(ctx, &k, &db, rc);
}

void
auth_tenant_policy_range(const struct cf_ctx *ctx, const char *name, char *out,
                         size_t cap)
{
    const struct policy_field *f = policy_field_find(name);

    if (f != NULL) {
        snprintf(out, cap, "from %u to %u (the server's floor is %u)", f->min,
                 f->max, f->min);
    } else if (strcmp(name, "mfa") == 0) {
        cf_strlcpy(out,
                   ctx->cfg != NULL && ctx->cfg->mfa_optional
                       ? "optional, admins or all"
                       : "admins or all (this server does not let 2FA be "
                         "optional)",
                   cap);
    } else if (strcmp(name, "admin_ips") == 0) {
        snprintf(out, cap, "up to %d addresses or CIDRs, comma-separated",
                 AUTH_ADMIN_IPS_COUNT);
    } else if (strcmp(name, "upload_types") == 0) {
        snprintf(out, cap, "among %s", AUTH_UPLOAD_TYPES);
    } else {
        cf_strlcpy(out, "", cap);
    }
}

enum cf_rc
auth_tenant_policy_set(const struct cf_ctx *ctx, const char *name,
                       const char *value)
{
    size_t bad = 0;

    return auth_tenant_policy_update(ctx, &name, &value, 1, NULL, &bad);
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
    fprintf(f, "admin_ips: %s\n", p->admin_ips[0] ? p->admin_ips : "any");
    fprintf(f, "upload_types: %s\n",
            p->upload_types[0] ? p->upload_types : "none");
}

bool
auth_password_too_old(const struct auth_tenant_policy *p, const char *role,
                      int64_t set_at, int64_t now)
{
    unsigned days =
        authz_role_privileged(role) ? p->max_age_days_admin : p->max_age_days;

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
auth_password_reused(const struct cf_ctx *ctx, struct db **db, int64_t user_id,
                     unsigned history, const char *new_secret, size_t new_len,
                     bool *reused)
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
    /* a new password closes what the old one opened: every API token
     * (COMMITMENT A10) and every outstanding setup, reset or invitation
     * link (A1; used up rather than deleted: the reset-mail limit counts
     * them) */
    if (rc == CF_OK) {
        rc = auth_store_tokens_delete_all(db, user_id);
    }
    if (rc == CF_OK) {
        rc = auth_store_links_invalidate(db, user_id, NULL);
    }
    cf_memzero(old, sizeof(old));
    return rc;
}
