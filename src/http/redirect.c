/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The optional plain-HTTP listener: it serves nothing, it only sends every
 * client to the HTTPS address of the same host (COMMITMENT D2).
 */
#include "core/compat.h"

#include <sys/socket.h>

#include "http/http_int.h"

static enum MHD_Result
redirect_access(void *cls, struct MHD_Connection *conn, const char *url,
                const char *method, const char *version, const char *upload,
                size_t *upload_size, void **con_cls)
{
    struct http_server *srv = cls;
    const char *host;
    enum tenant_host_kind kind;
    char label[TENANT_HOST_MAX + 1];
    struct cf_buf loc;
    struct MHD_Response *r;
    enum MHD_Result ret;
    unsigned status = 301;
    size_t hlen;

    (void)method;
    (void)version;
    (void)upload;
    if (*con_cls == NULL) {
        *con_cls = srv; /* answer on the second call: keep-alive */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    cf_buf_init(&loc, 4096);
    host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    if (tenant_host_parse(host, srv->app->cfg->base_domain, &kind, label) !=
            CF_OK ||
        kind == TENANT_HOST_FOREIGN) {
        status = 400;
    } else {
        hlen = strcspn(host, ":");
        if (cf_buf_adds(&loc, "https://") != CF_OK ||
            cf_buf_add(&loc, host, hlen) != CF_OK ||
            (srv->https_port != 443 &&
             cf_buf_addf(&loc, ":%u", srv->https_port) != CF_OK) ||
            cf_buf_adds(&loc, url) != CF_OK) {
            status = 400;
        }
    }
    r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        cf_buf_release(&loc);
        return MHD_NO;
    }
    if (status == 301) {
        MHD_add_response_header(r, "Location", cf_buf_str(&loc));
    }
    MHD_add_response_header(r, "Cache-Control", "no-store");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    cf_buf_release(&loc);
    return ret;
}

enum cf_rc
http_redirect_start(struct http_server *srv, char *err, size_t errlen)
{
    const struct cf_config *cfg = srv->app->cfg;
    struct sockaddr_storage addr;
    unsigned port;

    if (http_parse_listen(cfg->http_listen, &addr, &port) != CF_OK) {
        snprintf(err, errlen, "http_listen address '%s' is not HOST:PORT",
                 cfg->http_listen);
        return CF_ERR(CF_EINVAL);
    }
    srv->redirect = MHD_start_daemon(
        http_daemon_flags(), 0, NULL, NULL, redirect_access, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout, MHD_OPTION_END);
    if (srv->redirect == NULL) {
        snprintf(err, errlen, "cannot listen on %s", cfg->http_listen);
        return CF_ERR(CF_EIO);
    }
    return CF_OK;
}
