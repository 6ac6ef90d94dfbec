/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Handlers of the platform and tenant pages and the operator endpoints.
 * Handlers translate between HTTP and domain calls; they never write SQL
 * and never touch keys.
 */
#include "core/compat.h"

#include "http/assets.h"
#include "http/http_int.h"

static const struct http_asset *
asset_find(const char *path, size_t len)
{
    size_t i;

    for (i = 0; i < http_assets_count; i++) {
        if (strlen(http_assets[i].path) == len &&
            memcmp(http_assets[i].path, path, len) == 0) {
            return &http_assets[i];
        }
    }
    return NULL;
}

static enum cf_rc
resp_static(struct http_resp *resp, const char *body, const char *type)
{
    resp->static_body = body;
    resp->static_len = strlen(body);
    resp->type = type;
    return CF_OK;
}

enum cf_rc
http_h_healthz(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    return resp_static(resp, "{\"status\":\"ok\"}", "application/json");
}

enum cf_rc
http_h_readyz(struct http_req *req, struct http_resp *resp)
{
    struct http_app *app = req->srv->app;
    struct cf_buf checks;
    enum cf_rc rc;
    enum cf_rc ready;

    cf_buf_init(&checks, 4096);
    ready = ops_ready(app->control, app->kr, app->tenants_dir, &checks);
    if (ready != CF_OK && ready != CF_EBUSY) {
        cf_buf_release(&checks);
        return ready;
    }
    resp->status = ready == CF_OK ? 200 : 503;
    resp->type = "application/json";
    rc = cf_buf_addf(&resp->body, "{\"status\":\"%s\",\"checks\":%s}",
                     ready == CF_OK ? "ready" : "not_ready",
                     cf_buf_str(&checks));
    cf_buf_release(&checks);
    return rc;
}

enum cf_rc
http_h_metrics(struct http_req *req, struct http_resp *resp)
{
    resp->type = "text/plain; version=0.0.4; charset=utf-8";
    return ops_metrics_render(req->srv->metrics,
                              db_pool_open_count(req->srv->app->pool),
                              &resp->body);
}

enum cf_rc
http_h_openapi(struct http_req *req, struct http_resp *resp)
{
    resp->static_body = req->srv->openapi;
    resp->static_len = req->srv->openapi_len;
    resp->type = "application/json";
    return CF_OK;
}

enum cf_rc
http_h_slug_check(struct http_req *req, struct http_resp *resp)
{
    const char *slug = json_string_value(json_object_get(req->json, "slug"));
    const char *reason = "";
    bool valid;
    json_t *doc;
    enum cf_rc rc;

    valid = tenant_slug_check(slug, &reason) == CF_OK;
    doc =
        json_pack("{s:b, s:s}", "valid", valid, "reason", valid ? "" : reason);
    if (doc == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    rc = http_resp_json(resp, 200, doc);
    json_decref(doc);
    return rc;
}

/* Render the template asset name, replacing {{tenant_name}} with the
 * HTML-escaped tenant name. */
static enum cf_rc
page_render(struct http_req *req, struct http_resp *resp, const char *name)
{
    static const char mark[] = "{{tenant_name}}";
    const struct http_asset *a = asset_find(name, strlen(name));
    const char *p;
    const char *hit;
    enum cf_rc rc = CF_OK;

    if (a == NULL) {
        return CF_ERR(CF_EINTERNAL);
    }
    p = (const char *)a->data;
    while (rc == CF_OK && (hit = strstr(p, mark)) != NULL) {
        rc = cf_buf_add(&resp->body, p, (size_t)(hit - p));
        if (rc == CF_OK) {
            rc = cf_buf_add_html(&resp->body,
                                 req->has_tenant ? req->tenant.name : "");
        }
        p = hit + sizeof(mark) - 1;
    }
    if (rc == CF_OK) {
        rc = cf_buf_adds(&resp->body, p);
    }
    resp->type = a->type;
    return rc;
}

enum cf_rc
http_h_tenant_home(struct http_req *req, struct http_resp *resp)
{
    return page_render(req, resp, "/tenant.html");
}

enum cf_rc
http_h_login_page(struct http_req *req, struct http_resp *resp)
{
    return page_render(req, resp, "/login.html");
}

enum cf_rc
http_h_setup_page(struct http_req *req, struct http_resp *resp)
{
    return page_render(req, resp, "/setup.html");
}

enum cf_rc
http_h_account_page(struct http_req *req, struct http_resp *resp)
{
    return page_render(req, resp, "/account.html");
}

enum cf_rc
http_h_admin_page(struct http_req *req, struct http_resp *resp)
{
    return page_render(req, resp, "/admin.html");
}

enum cf_rc
http_h_platform_home(struct http_req *req, struct http_resp *resp)
{
    return page_render(req, resp, "/platform.html");
}

enum cf_rc
http_h_asset(struct http_req *req, struct http_resp *resp)
{
    const struct http_asset *a;

    /* req->param is the part after "/assets/"; look the whole path up */
    a = asset_find(req->path, strlen(req->path));
    if (a == NULL || strncmp(req->path, "/assets/", 8) != 0) {
        return CF_ENOTFOUND;
    }
    resp->static_body = a->data;
    resp->static_len = a->len;
    resp->type = a->type;
    return CF_OK;
}
