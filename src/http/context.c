/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The request context: what every domain call of a request needs, built
 * once by the pipeline and kept in the request: the tenant and its
 * keyset, the server's settings, the client address, the request id, the
 * mailer, and who acts (the account behind the session or the token,
 * with what its token narrows it to). Handlers pass &req->ctx and never
 * open keys themselves.
 */
#include "core/compat.h"

#include "http/http_int.h"

/* Who acts, once the principal is known. */
static void
ctx_who(struct http_req *req)
{
    const struct auth_session *s = &req->session;

    char row[CF_I64_DEC_LEN];
    const char *parts[2];

    parts[0] = s->via_token ? "token:" : "user:";
    parts[1] = s->via_token ? s->token_id : cf_i64_dec(s->user_id, row);
    (void)cf_strjoin(req->principal, sizeof(req->principal), parts, 2);
    req->ctx.user_id = s->user_id;
    req->ctx.role = s->role;
    req->ctx.token_perms = s->via_token ? s->permissions : NULL;
    req->ctx.principal = req->principal;
    req->ctx.actor = &req->ctx;
    req->ctx.principal = req->principal;
    req->ctx_actor = true;
}

/* Everything but the keys. */
static void
ctx_base(struct http_req *req)
{
    struct http_server *srv = req->srv;

    if (req->ctx_ready) {
        return;
    }
    tenant_url(req->tenant.slug, srv->app->cfg->base_domain,
               srv->app->cfg->listen, req->tenant_url, sizeof(req->tenant_url));
    req->ctx = (struct cf_ctx){
        .pool = srv->app->pool,
        .tenant_id = req->tenant.id,
        .tenant_slug = req->tenant.slug,
        .cfg = &srv->auth_cfg,
        .ipban = srv->ipban,
        .client_ip = req->client_ip,
        .user_agent = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                  "User-Agent"),
        .request_id = req->id,
        .mailer = srv->app->mailer,
        .base_url = req->tenant_url,
        .why = &req->why,
    };
    req->ctx_ready = true;
}

const struct cf_ctx *
http_ctx_who(struct http_req *req)
{
    if (!req->has_tenant) {
        return NULL;
    }
    ctx_base(req);
    if (req->has_session && !req->ctx_actor) {
        ctx_who(req);
    }
    return &req->ctx;
}

enum cf_rc
http_ctx(struct http_req *req)
{
    struct http_server *srv = req->srv;
    const struct cx_data_key *audit_key = NULL;
    enum cf_rc rc;

    if (CF_NEVER(!req->has_tenant)) {
        return CF_ERR(CF_EINTERNAL);
    }
    ctx_base(req);
    if (req->keys == NULL) {
        rc = tenant_keys_get(srv->app->control, srv->app->kr, &req->tenant,
                             &req->keys);
        if (rc == CF_OK) {
            rc = cx_keyset_sub(req->keys, CX_SUBKEY_AUDIT, &audit_key);
        }
        if (rc != CF_OK) {
            cx_keyset_unref(req->keys);
            req->keys = NULL;
            return rc;
        }
        req->ctx.keys = req->keys;
        req->ctx.audit_key = audit_key;
    }
    (void)http_ctx_who(req);
    return CF_OK;
}

void
http_ctx_release(struct http_req *req)
{
    cx_keyset_unref(req->keys);
    req->keys = NULL;
}
