/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Handlers of custom roles, groups, grants and spaces (COMMITMENT B1;
 * docs/internals/authz-contract.md). The route's permission was checked
 * before any of these runs; authz/ and docs/ decide the rest (escalation,
 * object-level access) and name each refusal. Who acts and the tenant's
 * keys come from the request context (req->docs, req->actor).
 */
#include "core/compat.h"

#include "auth/auth.h"
#include "authz/authz.h"
#include "docs/docs.h"
#include "http/http_int.h"
#include "tenant/tenant.h"

static const char *
body_str(const struct http_req *req, const char *field)
{
    return json_string_value(json_object_get(req->json, field));
}

/* The normalised name of field (absent: *out = NULL when optional). */
static enum cf_rc
body_name(struct http_req *req, size_t max_cp, char *buf, size_t cap,
          const char **out)
{
    const char *in = body_str(req, "name");

    *out = NULL;
    if (in == NULL) {
        return CF_OK;
    }
    if (auth_label(in, max_cp, buf, cap) != CF_OK) {
        return http_fail(req, 400, "invalid_name",
                         "a name is 1 to %zu printable characters, without a "
                         "space at either end",
                         max_cp);
    }
    *out = buf;
    return CF_OK;
}

/* The permission list of the body as a set: each known, each once, at
 * least one. *out 0 when the field is absent. */
static enum cf_rc
body_perms(struct http_req *req, authz_mask *out)
{
    json_t *arr = json_object_get(req->json, "permissions");
    json_t *v;
    size_t i;

    *out = 0;
    if (arr == NULL) {
        return CF_OK;
    }
    if (json_array_size(arr) == 0) {
        return http_fail(req, 400, "bad_request",
                         "a role needs at least one permission");
    }
    json_array_foreach(arr, i, v)
    {
        authz_mask bit = authz_perm_bit(json_string_value(v));

        if (bit == 0) {
            return http_fail(req, 400, "unknown_permission",
                             "unknown permission '%.64s'",
                             json_string_value(v));
        }
        if (*out & bit) {
            return http_fail(req, 400, "duplicate_permission",
                             "'%s' is listed twice", json_string_value(v));
        }
        *out |= bit;
    }
    return CF_OK;
}

json_t *
http_mask_json(authz_mask m)
{
    char list[AUTHZ_PERMS_TEXT];

    authz_mask_list(m, list, sizeof(list));
    return http_words_json(list);
}

void
http_jw_mask(struct http_jw *w, authz_mask m)
{
    /* [ ] and, for each of at most 32 names, its quotes and a comma */
    char text[2 + 32 * (AUTHZ_NAME_MAX + 3)];
    size_t n = 0;
    size_t i;

    /* composed here and appended once (each space of a list has one).
     * Catalogue names need no escaping: the unit test compares this with
     * jansson's text of the whole catalogue. */
    text[n++] = '[';
    for (i = 0; i < authz_perms_count && i < 32; i++) {
        size_t len;

        if (!(m & ((authz_mask)1 << i))) {
            continue;
        }
        len = strlen(authz_perms[i].name);
        if (CF_NEVER(len > AUTHZ_NAME_MAX)) {
            w->rc = w->rc != CF_OK ? w->rc : CF_ERR(CF_EINTERNAL);
            return;
        }
        if (n > 1) {
            text[n++] = ',';
        }
        text[n++] = '"';
        memcpy(text + n, authz_perms[i].name, len);
        n += len;
        text[n++] = '"';
    }
    text[n++] = ']';
    if (w->rc == CF_OK) {
        w->rc = cf_buf_add(&w->resp->body, text, n);
    }
}

static json_t *
time_json(int64_t t)
{
    char s[CF_TIME_RFC3339_LEN];

    cf_time_fmt(t, s);
    return json_string(s);
}

static json_t *
nullable(const char *s)
{
    return s[0] != '\0' ? json_string(s) : json_null();
}

/* The id of the path, copied: 404 for anything longer than an id. */
static enum cf_rc
path_id(const struct http_req *req, char out[AUTHZ_ID_LEN + 1])
{
    if (req->param_len == 0 || req->param_len > AUTHZ_ID_LEN) {
        return CF_ENOTFOUND;
    }
    memcpy(out, req->param, req->param_len);
    out[req->param_len] = '\0';
    return CF_OK;
}

static const char *
query_str(struct http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* A GET of a list: {key: [...]} as fill makes it. */
typedef enum cf_rc (*list_fill_fn)(struct http_req *req,
                                   const struct cf_ctx *ctx, json_t *list);

static enum cf_rc
answer_list(struct http_req *req, struct http_resp *resp, const char *key,
            list_fill_fn fill)
{
    const struct cf_ctx *ctx = &req->ctx;
    json_t *list = json_array();
    enum cf_rc rc;

    if (list == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = fill(req, ctx, list);
    }
    if (rc == CF_OK) {
        rc = http_answer(resp, 200, json_pack("{s:O}", key, list));
    }
    json_decref(list);
    return rc;
}

/* ---- roles ------------------------------------------------------------ */

static json_t *
role_json(const struct authz_role_info *r)
{
    return json_pack("{s:s, s:s, s:b, s:o*, s:I}", "id", r->id, "name", r->name,
                     "builtin", r->builtin, "permissions",
                     http_mask_json(r->perms), "grants", (json_int_t)r->grants);
}

static enum cf_rc
role_item(const struct authz_role_info *r, void *arg)
{
    return json_array_append_new(arg, role_json(r)) == 0 ? CF_OK
                                                         : CF_ERR(CF_ENOMEM);
}

static enum cf_rc
roles_fill(struct http_req *req, const struct cf_ctx *ctx, json_t *list)
{
    (void)req;
    return authz_roles_each(ctx, role_item, list);
}

enum cf_rc
http_h_admin_roles(struct http_req *req, struct http_resp *resp)
{
    return answer_list(req, resp, "roles", roles_fill);
}

/* POST and PATCH of a role share their checks; id NULL creates. */
static enum cf_rc
role_write(struct http_req *req, struct http_resp *resp, const char *id)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct authz_role_info r;
    char buf[sizeof(r.name)];
    const char *name = NULL;
    const char *why = NULL;
    authz_mask perms = 0;
    enum cf_rc rc;

    rc = body_name(req, AUTHZ_LABEL_MAX, buf, sizeof(buf), &name);
    if (rc == CF_OK) {
        rc = body_perms(req, &perms);
    }
    if (rc == CF_OK && id != NULL && name == NULL && perms == 0) {
        rc = http_fail(req, 400, "bad_request", "give a name or permissions");
    }
    if (rc != CF_OK) {
        return rc;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = id == NULL ? authz_role_create(ctx, name, perms, &r, &why)
                        : authz_role_update(ctx, id, name, perms, &r, &why);
    }
    if (rc != CF_OK) {
        return http_refuse(req, rc, why);
    }
    return http_answer(resp, id == NULL ? 201 : 200,
                       json_pack("{s:o*}", "role", role_json(&r)));
}

enum cf_rc
http_h_admin_role_create(struct http_req *req, struct http_resp *resp)
{
    return role_write(req, resp, NULL);
}

enum cf_rc
http_h_admin_role_patch(struct http_req *req, struct http_resp *resp)
{
    char id[AUTHZ_ID_LEN + 1];
    enum cf_rc rc = path_id(req, id);

    return rc == CF_OK ? role_write(req, resp, id) : rc;
}

/* DELETE of a role, a group or a grant: the id of the path (a built-in
 * role's name passes path_id(), to be refused by name), then del. */
typedef enum cf_rc (*admin_delete_fn)(const struct cf_ctx *ctx, const char *id,
                                      const char **why);

static enum cf_rc
admin_delete(struct http_req *req, struct http_resp *resp, bool names,
             admin_delete_fn del)
{
    const struct cf_ctx *ctx = &req->ctx;
    char id[AUTHZ_ID_LEN + 1];
    const char *why = NULL;
    enum cf_rc rc;

    rc = names ? path_id(req, id) : http_param_id(req, id);
    if (rc == CF_OK) {
        rc = http_ctx(req);
        if (rc == CF_OK) {
            rc = del(ctx, id, &why);
        }
    }
    if (rc != CF_OK) {
        return http_refuse(req, rc, why);
    }
    return http_answer(resp, 200, json_pack("{s:i}", "removed", 1));
}

enum cf_rc
http_h_admin_role_delete(struct http_req *req, struct http_resp *resp)
{
    return admin_delete(req, resp, true, authz_role_delete);
}

/* ---- groups ----------------------------------------------------------- */

static json_t *
group_json(const struct authz_group_info *g)
{
    return json_pack("{s:s, s:s, s:o*, s:o*, s:o*}", "id", g->id, "name",
                     g->name, "members", http_words_json(g->members), "groups",
                     http_words_json(g->groups), "created",
                     time_json(g->created));
}

static enum cf_rc
group_item(const struct authz_group_info *g, void *arg)
{
    return json_array_append_new(arg, group_json(g)) == 0 ? CF_OK
                                                          : CF_ERR(CF_ENOMEM);
}

static enum cf_rc
groups_fill(struct http_req *req, const struct cf_ctx *ctx, json_t *list)
{
    (void)req;
    return authz_groups_each(ctx, group_item, list);
}

enum cf_rc
http_h_admin_groups(struct http_req *req, struct http_resp *resp)
{
    return answer_list(req, resp, "groups", groups_fill);
}

/* The strings of the array field as pointers into the body (*out NULL
 * when absent; cf_free() it). The whitelist made them strings. */
static enum cf_rc
body_ids(struct http_req *req, const char *field, const char ***out, size_t *n)
{
    json_t *arr = json_object_get(req->json, field);
    json_t *v;
    size_t i;

    *out = NULL;
    *n = 0;
    if (arr == NULL) {
        return CF_OK;
    }
    *n = json_array_size(arr);
    *out = cf_calloc(*n + 1, sizeof(**out));
    if (*out == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    json_array_foreach(arr, i, v)
    {
        (*out)[i] = json_string_value(v) != NULL ? json_string_value(v) : "";
    }
    return CF_OK;
}

static enum cf_rc
group_write(struct http_req *req, struct http_resp *resp, const char *id)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct authz_group_info g = {0};
    struct authz_group_change c = {0};
    char buf[sizeof(g.name)];
    const char **members = NULL;
    const char **groups = NULL;
    const char *why = NULL;
    enum cf_rc rc;

    rc = body_name(req, AUTHZ_LABEL_MAX, buf, sizeof(buf), &c.name);
    if (rc == CF_OK) {
        rc = body_ids(req, "members", &members, &c.nmembers);
    }
    if (rc == CF_OK) {
        rc = body_ids(req, "groups", &groups, &c.ngroups);
    }
    c.members = members;
    c.groups = groups;
    if (rc == CF_OK && id != NULL && c.name == NULL && members == NULL &&
        groups == NULL) {
        rc = http_fail(req, 400, "bad_request",
                       "give a name, members or groups");
    }
    if (rc == CF_OK) {
        rc = http_ctx(req);
        if (rc == CF_OK) {
            rc = id == NULL ? authz_group_create(ctx, &c, &g, &why)
                            : authz_group_update(ctx, id, &c, &g, &why);
        }
        rc = http_refuse(req, rc, why);
    }
    cf_free(members);
    cf_free(groups);
    if (rc == CF_OK) {
        rc = http_answer(resp, id == NULL ? 201 : 200,
                         json_pack("{s:o*}", "group", group_json(&g)));
    }
    authz_group_release(&g);
    return rc;
}

enum cf_rc
http_h_admin_group_create(struct http_req *req, struct http_resp *resp)
{
    return group_write(req, resp, NULL);
}

enum cf_rc
http_h_admin_group_patch(struct http_req *req, struct http_resp *resp)
{
    char id[AUTHZ_ID_LEN + 1];
    enum cf_rc rc = http_param_id(req, id);

    return rc == CF_OK ? group_write(req, resp, id) : rc;
}

enum cf_rc
http_h_admin_group_delete(struct http_req *req, struct http_resp *resp)
{
    return admin_delete(req, resp, false, authz_group_delete);
}

/* ---- grants ----------------------------------------------------------- */

static json_t *
grant_json(const struct authz_grant_info *g)
{
    return json_pack("{s:s, s:o*, s:o*, s:s, s:s, s:o*, s:o*}", "id", g->id,
                     "user", nullable(g->user), "group", nullable(g->group),
                     "role", g->role, "role_name", g->role_name, "space",
                     nullable(g->space), "created", time_json(g->created));
}

static enum cf_rc
grant_item(const struct authz_grant_info *g, void *arg)
{
    return json_array_append_new(arg, grant_json(g)) == 0 ? CF_OK
                                                          : CF_ERR(CF_ENOMEM);
}

static enum cf_rc
grants_fill(struct http_req *req, const struct cf_ctx *ctx, json_t *list)
{
    return authz_grants_each(ctx, query_str(req, "user"),
                             query_str(req, "group"), query_str(req, "space"),
                             grant_item, list);
}

enum cf_rc
http_h_admin_grants(struct http_req *req, struct http_resp *resp)
{
    return answer_list(req, resp, "grants", grants_fill);
}

enum cf_rc
http_h_admin_grant_create(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct authz_grant_info g;
    const char *space = body_str(req, "space");
    const char *why = NULL;
    enum cf_rc rc;

    if ((body_str(req, "user") == NULL) == (body_str(req, "group") == NULL)) {
        return http_fail(req, 400, "bad_request",
                         "give either a user or a group");
    }
    rc = http_ctx(req);
    if (rc == CF_OK && space != NULL) {
        rc = docs_space_exists(ctx, space);
        if (rc == CF_ENOTFOUND) {
            rc = http_fail(req, 400, "unknown_space", "no such space");
        }
    }
    if (rc == CF_OK) {
        rc = authz_grant_create(ctx, body_str(req, "user"),
                                body_str(req, "group"), body_str(req, "role"),
                                space, &g, &why);
        rc = http_refuse(req, rc, why);
    }
    if (rc != CF_OK) {
        return rc;
    }
    return http_answer(resp, 201, json_pack("{s:o*}", "grant", grant_json(&g)));
}

enum cf_rc
http_h_admin_grant_delete(struct http_req *req, struct http_resp *resp)
{
    return admin_delete(req, resp, false, authz_grant_delete);
}

/* ---- spaces ----------------------------------------------------------- */

/* {"id":..,"name":..,"created":..,"permissions":[..]}: a space, in the
 * list and alone. Written by hand (the list is on every page). */
static void
space_write(struct http_jw *w, const struct docs_space *s)
{
    http_jw_raw(w, "{\"id\":");
    http_jw_str(w, s->id);
    http_jw_raw(w, ",\"name\":");
    http_jw_str(w, s->name);
    http_jw_raw(w, ",\"created\":");
    http_jw_time(w, s->created);
    http_jw_raw(w, ",\"permissions\":");
    http_jw_mask(w, s->perms);
    http_jw_raw(w, "}");
}

struct spaces_walk {
    struct http_jw *w;
    size_t n;
};

static enum cf_rc
space_item(const struct docs_space *s, void *arg)
{
    struct spaces_walk *sw = arg;

    http_jw_raw(sw->w, sw->n++ > 0 ? "," : "");
    space_write(sw->w, s);
    return sw->w->rc;
}

enum cf_rc
http_h_spaces(struct http_req *req, struct http_resp *resp)
{
    struct http_jw w;
    struct spaces_walk sw = {&w, 0};
    enum cf_rc rc;

    rc = http_ctx(req);
    if (rc != CF_OK) {
        return rc;
    }
    http_jw_begin(&w, resp);
    http_jw_raw(&w, "{\"spaces\":[");
    rc = docs_spaces_each(&req->ctx, space_item, &sw);
    if (rc != CF_OK) {
        return rc;
    }
    http_jw_raw(&w, "]}");
    return http_jw_end(&w, 200);
}

/* A space's answer, or its refusal: 404 unreadable, 403 not managed,
 * 409 too many. */
static enum cf_rc
space_answer(struct http_req *req, struct http_resp *resp, enum cf_rc rc,
             int status, struct docs_space *s)
{
    struct http_jw w;

    if (rc == CF_EPERM) {
        rc = http_fail(req, 403, "forbidden",
                       "this needs the permission space.manage here");
    } else if (rc == CF_ECONFLICT) {
        rc = http_fail(req, 409, "too_many", "the tenant has %d spaces",
                       DOCS_SPACES_MAX);
    } else if (rc == CF_OK) {
        http_jw_begin(&w, resp);
        http_jw_raw(&w, "{\"space\":");
        space_write(&w, s);
        http_jw_raw(&w, "}");
        rc = http_jw_end(&w, status);
    }
    cf_memzero(s, sizeof(*s));
    return rc;
}

/* The space's new name (required). */
static enum cf_rc
space_name(struct http_req *req, char *buf, size_t cap, const char **name)
{
    enum cf_rc rc = body_name(req, DOCS_SPACE_NAME_MAX, buf, cap, name);

    if (rc == CF_OK && *name == NULL) {
        rc = http_fail(req, 400, "invalid_name", "a space needs a name");
    }
    return rc;
}

enum cf_rc
http_h_space_create(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct docs_space s = {0};
    char buf[sizeof(s.name)];
    const char *name = NULL;
    enum cf_rc rc;

    rc = space_name(req, buf, sizeof(buf), &name);
    if (rc != CF_OK) {
        return rc;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = docs_space_create(ctx, name, &s);
    }
    cf_memzero(buf, sizeof(buf));
    return space_answer(req, resp, rc, 201, &s);
}

enum cf_rc
http_h_space_get(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct docs_space s = {0};
    char id[AUTHZ_ID_LEN + 1];
    enum cf_rc rc;

    rc = http_param_id(req, id);
    if (rc != CF_OK) {
        return rc;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = docs_space_get(ctx, id, &s);
    }
    return space_answer(req, resp, rc, 200, &s);
}

enum cf_rc
http_h_space_patch(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct docs_space s = {0};
    char id[AUTHZ_ID_LEN + 1];
    char buf[sizeof(s.name)];
    const char *name = NULL;
    enum cf_rc rc;

    rc = http_param_id(req, id);
    if (rc == CF_OK) {
        rc = space_name(req, buf, sizeof(buf), &name);
    }
    if (rc != CF_OK) {
        return rc;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = docs_space_rename(ctx, id, name, &s);
    }
    cf_memzero(buf, sizeof(buf));
    return space_answer(req, resp, rc, 200, &s);
}

enum cf_rc
http_h_space_delete(struct http_req *req, struct http_resp *resp)
{
    const struct cf_ctx *ctx = &req->ctx;
    struct docs_space s = {0};
    char id[AUTHZ_ID_LEN + 1];
    enum cf_rc rc;

    rc = http_param_id(req, id);
    if (rc != CF_OK) {
        return rc;
    }
    rc = http_ctx(req);
    if (rc == CF_OK) {
        rc = docs_space_delete(ctx, id);
    }
    if (rc == CF_OK) {
        return http_answer(resp, 200, json_pack("{s:i}", "removed", 1));
    }
    return space_answer(req, resp, rc, 200, &s);
}
