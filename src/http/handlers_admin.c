/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Handlers of the permission catalogue, personal API tokens (COMMITMENT
 * A10) and the first administration routes (A5, C1). The route's
 * permission was checked before any of these runs; what they check is
 * what only they know: that a token asks for permissions its account
 * holds, and that an id is well formed.
 */
#include "core/compat.h"

#include "auth/auth.h"
#include "authz/authz.h"
#include "docs/docs.h"
#include "http/http_int.h"

enum cf_rc
http_answer(struct http_resp *resp, int status, json_t *doc)
{
    enum cf_rc rc;

    rc = doc != NULL ? http_resp_json(resp, status, doc) : CF_ERR(CF_ENOMEM);
    json_decref(doc);
    return rc;
}

json_t *
http_words_json(const char *list)
{
    json_t *a = json_array();
    const char *p = list;

    while (a != NULL && *p != '\0') {
        size_t n = strcspn(p, " ");

        if (n > 0 && json_array_append_new(a, json_stringn(p, n)) != 0) {
            json_decref(a);
            return NULL;
        }
        p += n;
        p += *p == ' ';
    }
    return a;
}

enum cf_rc
http_param_id(const struct http_req *req, char out[AUTH_ID_LEN + 1])
{
    size_t i;

    if (req->param_len != AUTH_ID_LEN) {
        return CF_ENOTFOUND;
    }
    for (i = 0; i < AUTH_ID_LEN; i++) {
        char c = req->param[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return CF_ENOTFOUND;
        }
        out[i] = c;
    }
    out[AUTH_ID_LEN] = '\0';
    return CF_OK;
}

/* ---- GET /api/v1/permissions ------------------------------------------ */

enum cf_rc
http_h_permissions(struct http_req *req, struct http_resp *resp)
{
    json_t *perms = json_array();
    json_t *roles = json_array();
    size_t i;
    size_t j;

    (void)req;
    for (i = 0; perms != NULL && i < authz_perms_count; i++) {
        json_array_append_new(
            perms, json_pack("{s:s, s:s, s:s}", "name", authz_perms[i].name,
                             "fr", authz_perms[i].fr, "en", authz_perms[i].en));
    }
    for (i = 0; roles != NULL && i < authz_roles_count; i++) {
        json_t *held = json_array();

        for (j = 0; held != NULL && authz_roles[i].permissions[j] != NULL;
             j++) {
            json_array_append_new(held,
                                  json_string(authz_roles[i].permissions[j]));
        }
        json_array_append_new(roles, json_pack("{s:s, s:o*}", "name",
                                               authz_roles[i].name,
                                               "permissions", held));
    }
    return http_answer(
        resp, 200,
        json_pack("{s:o*, s:o*}", "permissions", perms, "roles", roles));
}

/* ---- /api/v1/me/tokens -------------------------------------------------- */

static json_t *
token_json(const struct auth_token_info *t)
{
    char created[CF_TIME_RFC3339_LEN];
    char expires[CF_TIME_RFC3339_LEN];
    char used[CF_TIME_RFC3339_LEN];

    cf_time_fmt(t->created, created);
    cf_time_fmt(t->expires, expires);
    if (t->last_used > 0) {
        cf_time_fmt(t->last_used, used);
    }
    return json_pack("{s:s, s:s, s:o*, s:s, s:s, s:o*}", "id", t->id, "name",
                     t->name, "permissions", http_words_json(t->permissions),
                     "created", created, "expires", expires, "last_used",
                     t->last_used > 0 ? json_string(used) : json_null());
}

static enum cf_rc
token_item(const struct auth_token_info *t, void *arg)
{
    return json_array_append_new(arg, token_json(t)) == 0 ? CF_OK
                                                          : CF_ERR(CF_ENOMEM);
}

enum cf_rc
http_h_me_tokens(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    json_t *list = json_array();
    enum cf_rc rc;

    if (list == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_tokens_list(ctx, req->session.user_id, token_item, list);
    }
    if (rc == CF_OK) {
        rc = http_answer(resp, 200, json_pack("{s:O}", "tokens", list));
    }
    json_decref(list);
    return rc;
}

/*
 * The requested permissions as a sorted, duplicate-free, space-separated
 * list in out, each known to the catalogue (whether the account holds
 * them is the domain's call). Answers 400 unknown_permission itself.
 */
static enum cf_rc
token_perms(struct http_req *req, json_t *arr, char *out, size_t cap)
{
    size_t i;
    size_t n = 0;
    json_t *v;

    out[0] = '\0';
    if (json_array_size(arr) == 0) {
        return http_fail(req, 400, "bad_request",
                         "a token needs at least one permission");
    }
    json_array_foreach(arr, i, v)
    {
        if (authz_perm_find(json_string_value(v)) == NULL) {
            return http_fail(req, 400, "unknown_permission",
                             "unknown permission '%.64s'",
                             json_string_value(v));
        }
    }
    /* the catalogue's order, each once */
    for (i = 0; i < authz_perms_count; i++) {
        size_t j;
        bool asked = false;

        json_array_foreach(arr, j, v)
        {
            asked =
                asked || strcmp(json_string_value(v), authz_perms[i].name) == 0;
        }
        if (asked) {
            int w = snprintf(out + n, cap - n, "%s%s", n > 0 ? " " : "",
                             authz_perms[i].name);

            if (w < 0 || (size_t)w >= cap - n) {
                return CF_ERR(CF_ETOOBIG);
            }
            n += (size_t)w;
        }
    }
    return CF_OK;
}

enum cf_rc
http_h_me_token_create(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct auth_token_info info;
    char perms[AUTH_PERMS_MAX];
    char token[AUTH_PAT_LEN + 1] = "";
    json_t *days = json_object_get(req->json, "expires_days");
    json_t *doc;
    const char *name = json_string_value(json_object_get(req->json, "name"));
    unsigned d = AUTH_TOKEN_DAYS_DEFAULT;
    enum cf_rc rc;

    if (days != NULL) {
        if (json_integer_value(days) < 1 ||
            json_integer_value(days) > AUTH_TOKEN_DAYS_MAX) {
            return http_fail(req, 400, "bad_request",
                             "field 'expires_days' must be from 1 to %d",
                             AUTH_TOKEN_DAYS_MAX);
        }
        d = (unsigned)json_integer_value(days);
    }
    rc = token_perms(req, json_object_get(req->json, "permissions"), perms,
                     sizeof(perms));
    if (rc != CF_OK) {
        return rc;
    }
    /* the request is well formed: now the proof of identity */
    rc = http_require_step_up(req);
    if (rc != CF_OK) {
        return rc;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc =
            auth_token_create(ctx, req->session.user_id,
                              name != NULL ? name : "", d, perms, token, &info);
    }
    if (rc != CF_OK) {
        return rc;
    }
    doc = token_json(&info);
    if (doc != NULL && json_object_set_new(doc, "token", json_string(token))) {
        json_decref(doc);
        doc = NULL;
    }
    cf_memzero(token, sizeof(token));
    rc = http_answer(resp, 201, doc);
    return rc;
}

enum cf_rc
http_h_me_token_delete(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    char id[AUTH_TOKEN_ID_LEN + 1];
    enum cf_rc rc;

    rc = http_param_id(req, id);
    if (rc == CF_OK) {
        rc = http_ctx(req);
    }
    if (rc == CF_OK) {
        rc = auth_token_revoke(ctx, req->session.user_id, id);
    }
    if (rc != CF_OK) {
        return rc;
    }
    return http_answer(resp, 200, json_pack("{s:i}", "revoked", 1));
}

/* ---- GET /api/v1/admin/logins ---------------------------------------- */

struct admin_walk {
    json_t *list;
    int64_t last;
};

static enum cf_rc
admin_login_item(const struct auth_login_info *l, const char *email, void *arg)
{
    struct admin_walk *w = arg;
    json_t *o = http_login_json(l);

    w->last = l->id;
    if (o == NULL ||
        json_object_set_new(o, "user_id",
                            l->user_pid[0] ? json_string(l->user_pid)
                                           : json_null()) != 0 ||
        json_object_set_new(o, "email",
                            email[0] ? json_string(email) : json_null()) != 0) {
        json_decref(o);
        return CF_ERR(CF_ENOMEM);
    }
    return json_array_append_new(w->list, o) == 0 ? CF_OK : CF_ERR(CF_ENOMEM);
}

/* An optional whole-number query parameter (the whitelist checked it). */
static uint64_t
query_u64(struct http_req *req, const char *name, uint64_t dflt)
{
    const char *s =
        MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
    uint64_t v;

    return s != NULL && cf_parse_u64(s, 0, INT64_MAX, &v) == CF_OK ? v : dflt;
}

enum cf_rc
http_h_admin_logins(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct admin_walk w = {.list = json_array()};
    const char *outcome;
    uint64_t limit = query_u64(req, "limit", 50);
    enum cf_rc rc;

    if (w.list == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    if (limit < 1 || limit > 100) {
        json_decref(w.list);
        return http_fail(req, 400, "bad_request", "limit is from 1 to 100");
    }
    outcome = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
                                          "outcome");
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_admin_logins(ctx,
                               MHD_lookup_connection_value(
                                   req->conn, MHD_GET_ARGUMENT_KIND, "user"),
                               outcome, (int64_t)query_u64(req, "before", 0),
                               (unsigned)limit, admin_login_item, &w);
    }
    if (rc == CF_OK) {
        rc = http_answer(
            resp, 200,
            json_pack("{s:O, s:o}", "logins", w.list, "next_before",
                      json_array_size(w.list) == limit ? json_integer(w.last)
                                                       : json_null()));
    }
    json_decref(w.list);
    return rc;
}

/* ---- /api/v1/admin/users ------------------------------------------------ */

static json_t *
account_json(const struct auth_account *a)
{
    char created[CF_TIME_RFC3339_LEN];

    cf_time_fmt(a->created, created);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:b, s:o*, s:s}", "id", a->pid, "email",
        a->email, "role", a->role, "state", a->state, "totp", a->totp, "locked",
        a->locked_until > cf_time_unix(), "last_login",
        a->last_login[0] ? json_string(a->last_login) : json_null(), "created",
        created);
}

struct users_walk {
    json_t *list;
    int64_t *rows; /* the accounts' row ids, in list order */
    size_t n;
    size_t cap;
};

static enum cf_rc
account_item(const struct auth_account *a, void *arg)
{
    struct users_walk *w = arg;

    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        size_t bytes = 0;
        int64_t *rows = NULL;

        if (cf_size_mul(cap, sizeof(*rows), &bytes) == CF_OK) {
            rows = cf_realloc(w->rows, bytes);
        }
        if (rows == NULL) {
            return CF_ERR(CF_ENOMEM);
        }
        w->rows = rows;
        w->cap = cap;
    }
    w->rows[w->n++] = a->id;
    return json_array_append_new(w->list, account_json(a)) == 0
               ? CF_OK
               : CF_ERR(CF_ENOMEM);
}

/* Each account of the list with its direct groups (once the list is
 * read: one database handle at a time). */
static enum cf_rc
accounts_groups(struct http_req *req, struct users_walk *w)
{
    char groups[AUTHZ_GROUPS_MAX * (AUTHZ_ID_LEN + 1) + 1];
    enum cf_rc rc = CF_OK;
    size_t i;

    for (i = 0; rc == CF_OK && i < w->n; i++) {
        rc = authz_user_groups(&req->ctx, w->rows[i], false, groups,
                               sizeof(groups));
        if (rc == CF_OK &&
            json_object_set_new(json_array_get(w->list, i), "groups",
                                http_words_json(groups)) != 0) {
            rc = CF_ERR(CF_ENOMEM);
        }
    }
    return rc;
}

enum cf_rc
http_h_admin_users(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct users_walk w = {.list = json_array()};
    enum cf_rc rc;

    if (w.list == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_accounts_list(ctx, account_item, &w);
    }
    if (rc == CF_OK) {
        rc = accounts_groups(req, &w);
    }
    cf_free(w.rows);
    if (rc == CF_OK) {
        rc = http_answer(resp, 200, json_pack("{s:O}", "users", w.list));
    }
    json_decref(w.list);
    return rc;
}

enum cf_rc
http_h_admin_invite(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct auth_account a = {0};
    char link[512] = "";
    const char *email = json_string_value(json_object_get(req->json, "email"));
    const char *role = json_string_value(json_object_get(req->json, "role"));
    json_t *doc;
    enum cf_rc rc;

    if (authz_role_find(role) == NULL) {
        return http_fail(req, 400, "unknown_role", "unknown role '%.32s'",
                         role != NULL ? role : "");
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_account_invite(ctx, email != NULL ? email : "", role, &a,
                                 link, sizeof(link));
    }
    if (rc != CF_OK) {
        return rc; /* its reason (req->why) says how it reads */
    }
    /* with no mail transport, the inviter hands the link over */
    doc = link[0] != '\0'
              ? json_pack("{s:o*, s:s, s:s}", "user", account_json(&a), "mail",
                          "off", "link", link)
              : json_pack("{s:o*, s:s}", "user", account_json(&a), "mail",
                          "queued");
    rc = http_answer(resp, 201, doc);
    cf_memzero(link, sizeof(link));
    cf_memzero(&a, sizeof(a));
    return rc;
}

/* The {id} of an /api/v1/admin/users/{id}... route, and that account.
 * CF_ENOTFOUND (404) for a malformed or unknown id. Whether the actor may
 * act on it is the domain's call, in the change's transaction. */
static enum cf_rc
admin_target(struct http_req *req, const struct cf_ctx *ctx,
             struct auth_account *a)
{
    char pid[AUTH_ID_LEN + 1];
    enum cf_rc rc;

    rc = http_param_id(req, pid);
    if (rc == CF_OK) {
        rc = auth_account_get(ctx, pid, a);
    }
    return rc;
}

enum cf_rc
http_h_admin_user_patch(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct auth_account a = {0};
    const char *role = json_string_value(json_object_get(req->json, "role"));
    const char *state = json_string_value(json_object_get(req->json, "state"));
    enum auth_state want = AUTH_STATE_ACTIVE;
    enum cf_rc rc;

    if (role == NULL && state == NULL) {
        return http_fail(req, 400, "bad_request", "give a role or a state");
    }
    if (state != NULL &&
        (auth_state_parse(state, &want) != CF_OK ||
         (want != AUTH_STATE_ACTIVE && want != AUTH_STATE_DISABLED))) {
        return http_fail(req, 400, "bad_request",
                         "field 'state' is active or disabled");
    }
    if (role != NULL && authz_role_find(role) == NULL) {
        return http_fail(req, 400, "unknown_role", "unknown role '%.32s'",
                         role);
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = admin_target(req, ctx, &a);
    }
    if (rc == CF_OK) {
        rc = auth_account_update(ctx, a.id, role,
                                 state == NULL ? AUTH_ACCOUNT_KEEP
                                 : want == AUTH_STATE_ACTIVE
                                     ? AUTH_ACCOUNT_ENABLE
                                     : AUTH_ACCOUNT_DISABLE);
    }
    if (rc == CF_OK) {
        rc = auth_account_get(ctx, a.pid, &a);
    }
    if (rc != CF_OK) {
        cf_memzero(&a, sizeof(a));
        return rc;
    }
    rc = http_answer(resp, 200, json_pack("{s:o*}", "user", account_json(&a)));
    cf_memzero(&a, sizeof(a));
    return rc;
}

/* An administrator's action on the account of the {id} path parameter:
 * the account found and covered by the acting role (admin_target), a
 * step-up when the route declares one (HTTP_STEP_UP), then act, whose
 * answer is *doc. */
typedef enum cf_rc (*admin_act_fn)(struct http_req *req,
                                   const struct cf_ctx *ctx,
                                   const struct auth_account *a, json_t **doc);

static enum cf_rc
admin_account_action(struct http_req *req, struct http_resp *resp,
                     admin_act_fn act)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct auth_account a = {0};
    json_t *doc = NULL;
    enum cf_rc rc;

    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = admin_target(req, ctx, &a);
    }
    if (rc == CF_OK && (req->route->open & HTTP_STEP_UP)) {
        /* a step-up is asked only of who may act on the account */
        rc = auth_account_covered(ctx, a.id, a.role);
        if (rc == CF_OK) {
            rc = http_require_step_up(req);
        }
    }
    if (rc == CF_OK) {
        rc = act(req, ctx, &a, &doc);
    }
    cf_memzero(&a, sizeof(a));
    if (rc != CF_OK) {
        json_decref(doc);
        return rc;
    }
    return http_answer(resp, 200, doc);
}

static enum cf_rc
act_remove(struct http_req *req, const struct cf_ctx *ctx,
           const struct auth_account *a, json_t **doc)
{
    enum cf_rc rc = auth_account_remove(ctx, a->id);

    (void)req;
    *doc = rc == CF_OK ? json_pack("{s:i}", "removed", 1) : NULL;
    return rc;
}

static enum cf_rc
act_totp_reset(struct http_req *req, const struct cf_ctx *ctx,
               const struct auth_account *a, json_t **doc)
{
    enum cf_rc rc = auth_account_totp_reset(ctx, a->id);

    (void)req;
    *doc = rc == CF_OK ? json_pack("{s:b}", "ok", 1) : NULL;
    return rc;
}

static enum cf_rc
act_logout(struct http_req *req, const struct cf_ctx *ctx,
           const struct auth_account *a, json_t **doc)
{
    int64_t ended = 0;
    enum cf_rc rc = auth_account_logout(ctx, a->id, &ended);

    (void)req;
    *doc = rc == CF_OK ? json_pack("{s:I}", "ended", (json_int_t)ended) : NULL;
    return rc;
}

static enum cf_rc
act_unlock(struct http_req *req, const struct cf_ctx *ctx,
           const struct auth_account *a, json_t **doc)
{
    enum cf_rc rc = auth_admin_unlock(ctx, a->id);

    (void)req;
    *doc = rc == CF_OK ? json_pack("{s:b}", "ok", 1) : NULL;
    return rc;
}

/* The preview of an account's effective permissions: tenant-wide, its
 * groups (nested ones too), and each space where grants give it more. */
struct perms_walk {
    json_t *spaces;
    const struct cf_ctx *docs;
};

static enum cf_rc
perms_space(const char *space, authz_mask perms, void *arg)
{
    struct perms_walk *w = arg;
    struct docs_space s = {0};
    enum cf_rc rc;

    /* the name, when the administrator may read the space */
    rc = docs_space_get(w->docs, space, &s);
    if (rc != CF_OK && rc != CF_ENOTFOUND) {
        return rc;
    }
    rc = json_array_append_new(
             w->spaces, json_pack("{s:s, s:o*, s:o*}", "id", space, "name",
                                  s.name[0] ? json_string(s.name) : json_null(),
                                  "permissions", http_mask_json(perms))) == 0
             ? CF_OK
             : CF_ERR(CF_ENOMEM);
    cf_memzero(&s, sizeof(s));
    return rc;
}

static enum cf_rc
act_permissions(struct http_req *req, const struct cf_ctx *ctx,
                const struct auth_account *a, json_t **doc)
{
    struct perms_walk w = {json_array(), &req->ctx};
    char groups[AUTHZ_GROUPS_MAX * (AUTHZ_ID_LEN + 1) + 1];
    authz_mask tenant = 0;
    enum cf_rc rc;

    if (w.spaces == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    rc = auth_account_covered(ctx, a->id, a->role);
    if (rc != CF_OK) {
        json_decref(w.spaces);
        return rc;
    }
    rc = authz_effective(&req->ctx, a->id, a->role, &tenant, perms_space, &w);
    if (rc == CF_OK) {
        rc = authz_user_groups(&req->ctx, a->id, true, groups, sizeof(groups));
    }
    if (rc != CF_OK) {
        json_decref(w.spaces);
        return rc;
    }
    *doc = json_pack("{s:s, s:o*, s:o*, s:o}", "role", a->role, "permissions",
                     http_mask_json(tenant), "groups", http_words_json(groups),
                     "spaces", w.spaces);
    return *doc != NULL ? CF_OK : CF_ERR(CF_ENOMEM);
}

enum cf_rc
http_h_admin_user_delete(struct http_req *req, struct http_resp *resp)
{
    return admin_account_action(req, resp, act_remove);
}

enum cf_rc
http_h_admin_user_totp(struct http_req *req, struct http_resp *resp)
{
    return admin_account_action(req, resp, act_totp_reset);
}

enum cf_rc
http_h_admin_user_logout(struct http_req *req, struct http_resp *resp)
{
    return admin_account_action(req, resp, act_logout);
}

enum cf_rc
http_h_admin_user_perms(struct http_req *req, struct http_resp *resp)
{
    return admin_account_action(req, resp, act_permissions);
}

enum cf_rc
http_h_admin_unlock(struct http_req *req, struct http_resp *resp)
{
    return admin_account_action(req, resp, act_unlock);
}

void
http_admin_refused(struct http_req *req, const char *action)
{
    const struct cf_ctx *ctx = &req->ctx;
    enum cf_rc rc;

    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_admin_refused(ctx, req->session.user_id, action);
    }
    if (rc != CF_OK) {
        cf_log_warn_rc(rc, "cannot record a refused administration", "action",
                       action);
    }
}

/* ---- /api/v1/admin/settings/security ---------------------------------- */

/* A comma-separated list as a JSON array. */
static json_t *
commas_json(const char *s)
{
    json_t *a = json_array();

    while (a != NULL && *s != '\0') {
        size_t n = strcspn(s, ",");

        json_array_append_new(a, json_stringn(s, n));
        s += n;
        s += *s == ',';
    }
    return a;
}

static json_t *
policy_json(const struct auth_tenant_policy *p)
{
    return json_pack(
        "{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o*, s:o*}", "mfa",
        auth_mfa_policy_name(p->mfa), "password_min", (int)p->pw.min_len,
        "password_min_admin", (int)p->pw.min_len_admin, "password_score",
        p->pw.min_score, "max_age_days", (int)p->max_age_days,
        "max_age_days_admin", (int)p->max_age_days_admin, "history",
        (int)p->history, "session_idle_minutes", (int)p->session_idle_minutes,
        "session_max_hours", (int)p->session_max_hours, "lockout_failures",
        (int)p->lockout_failures, "admin_ips", commas_json(p->admin_ips),
        "upload_types", commas_json(p->upload_types));
}

enum cf_rc
http_h_admin_settings(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct auth_tenant_policy p;
    enum cf_rc rc;

    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_tenant_policy_get(ctx, &p);
    }
    if (rc != CF_OK) {
        return rc;
    }
    return http_answer(resp, 200, policy_json(&p));
}

#define SETTINGS_MAX 16

enum cf_rc
http_h_admin_settings_patch(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct auth_tenant_policy p;
    const char *names[SETTINGS_MAX];
    const char *values[SETTINGS_MAX];
    char numbers[SETTINGS_MAX][24];
    /* the list fields (admin_ips, upload_types), each its own text */
    char lists[2][AUTH_ADMIN_IPS_MAX * 2];
    size_t nlists = 0;
    const char *name;
    json_t *v;
    size_t n = 0;
    size_t bad = 0;
    enum cf_rc rc;

    json_object_foreach(req->json, name, v)
    {
        if (n >= SETTINGS_MAX) {
            break;
        }
        names[n] = name;
        if (json_is_integer(v)) {
            snprintf(numbers[n], sizeof(numbers[n]), "%lld",
                     (long long)json_integer_value(v));
            values[n] = numbers[n];
        } else if (json_is_array(v)) {
            char *text = lists[nlists];
            size_t i;
            size_t len = 0;
            json_t *item;

            if (nlists == CF_ARRAY_LEN(lists)) {
                return CF_ERR(CF_EINTERNAL); /* a new list field: add room */
            }
            nlists++;
            text[0] = '\0';
            json_array_foreach(v, i, item)
            {
                int w = snprintf(text + len, sizeof(lists[0]) - len, "%s%s",
                                 i > 0 ? "," : "", json_string_value(item));

                len += w > 0 ? (size_t)w : 0;
                if (len >= sizeof(lists[0])) {
                    return http_fail(req, 400, "invalid_setting",
                                     "%s is too long", name);
                }
            }
            values[n] = text;
        } else {
            values[n] = json_string_value(v);
        }
        n++;
    }
    if (n == 0) {
        return http_fail(req, 400, "bad_request", "nothing to change");
    }
    rc = http_require_step_up(req);
    if (rc != CF_OK) {
        return rc;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = auth_tenant_policy_update(ctx, names, values, n, req->client_ip,
                                       &bad);
    }
    if (rc == CF_OK) {
        rc = auth_tenant_policy_get(ctx, &p);
    }
    if (rc == CF_EINVAL) {
        char range[160];

        auth_tenant_policy_range(ctx, names[bad], range, sizeof(range));
        return http_fail(req, 400, "invalid_setting", "'%s' is %s", names[bad],
                         range[0] ? range : "not a setting");
    }
    if (rc != CF_OK) {
        return rc;
    }
    return http_answer(resp, 200, policy_json(&p));
}
