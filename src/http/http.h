/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * http: the HTTPS server (libmicrohttpd + GnuTLS), the route table with a
 * mandatory policy on every route, the request pipeline, JSON handlers and
 * the embedded web assets. The only module that sees HTTP or TLS types.
 */
#ifndef HTTP_HTTP_H
#define HTTP_HTTP_H

#include <limits.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "db/db.h"
#include "ops/ops.h"

/* What a running server uses; owned by the caller, outlives the server. */
struct http_app {
    const struct cf_config *cfg;
    const char *datadir;
    const char *tenants_dir;
    struct db *control;
    struct db_pool *pool;
    const struct cx_keyring *kr;
    struct ops_workers *workers;
    const struct cf_mailer *mailer; /* account notices; NULL: none */
};

struct http_server;

/*
 * Check the route table: every entry has a method, a pattern, a handler, a
 * permission (or HTTP_PUBLIC), an input whitelist and a rate class, and no
 * two entries share method and pattern. CF_EINVAL with err naming the
 * route otherwise. serve calls it before starting; a unit test too.
 */
CF_MUST_CHECK enum cf_rc http_routes_check(char *err, size_t errlen);

/*
 * Make sure a certificate and key exist: the configured files, or
 * DATA/tls/cert.pem and key.pem, generated as a self-signed ECDSA P-256
 * certificate for base_domain and *.base_domain when missing. Writes the
 * paths used into cert_path and key_path (PATH_MAX each); *generated tells
 * whether a new certificate was made.
 */
CF_MUST_CHECK enum cf_rc http_tls_ensure(const char *datadir,
                                         const struct cf_config *cfg,
                                         char *cert_path, char *key_path,
                                         bool *generated, char *err,
                                         size_t errlen);

/*
 * Start serving app on cfg->listen (and the redirect listener on
 * cfg->http_listen when set). Threads are created here; block the
 * termination signals in the caller first so they reach it alone.
 */
CF_MUST_CHECK enum cf_rc http_server_start(struct http_app *app,
                                           const char *cert_path,
                                           const char *key_path, char *err,
                                           size_t errlen,
                                           struct http_server **out);
/*
 * Stop accepting, wait up to wait_ms for in-flight requests, then close
 * every connection and free the server. NULL is a no-op.
 */
void http_server_stop(struct http_server *srv, unsigned wait_ms);

#endif
