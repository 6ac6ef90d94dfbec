/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * coffre serve: open the data directory (initialising it when empty),
 * check the route table, make sure a certificate exists, serve HTTPS, and
 * on SIGTERM or SIGINT stop gracefully: no new connections, in-flight
 * requests finish (bounded wait), databases closed, exit 0.
 */
#include "core/compat.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>

#include "cli/cli.h"
#include "http/http.h"

#define SERVE_MAIL_GRACE_MS 5000
#define SERVE_DRAIN_MS 10000

static const char serve_usage[] =
    "usage: coffre serve [--data DIR] [--listen HOST:PORT]\n"
    "                    [--base-domain NAME] [--http-listen HOST:PORT]\n"
    "\n"
    "Serve HTTPS on HOST:PORT (default 127.0.0.1:8443). Tenants answer at\n"
    "SLUG.NAME (default localhost), the platform at NAME. --http-listen\n"
    "adds a plain-HTTP listener that only redirects to HTTPS. Options\n"
    "override coffre.conf. SIGTERM or SIGINT stops gracefully.\n"
    "DIR (default ./var) is initialised when it is empty or missing; a\n"
    "non-empty directory that is not a coffre data directory is refused.\n";

/* A usage error unless src fits a setting (and is IP:PORT for addr). */
static int
serve_check(const char *src, const char *what, bool addr)
{
    if (strlen(src) >= CF_CONF_STR) {
        return cli_usage_error(serve_usage, "%s is too long", what);
    }
    if (addr && !cf_addr_valid(src)) {
        return cli_usage_error(serve_usage,
                               "%s must be IP:PORT or [IPv6]:PORT, not '%s'",
                               what, src);
    }
    return CLI_OK;
}

/* Override a setting of coffre.conf with src (NULL: keep), checked. */
static void
serve_set(char *dst, const char *src)
{
    if (src != NULL) {
        memcpy(dst, src, strlen(src) + 1);
    }
}

static int
serve_run(struct cli_data *d)
{
    struct http_app app = {0};
    struct http_server *srv = NULL;
    struct ops_workers *workers = NULL;
    struct ops_mail *mail = NULL;
    struct ops_mail_opts mail_opts;
    struct cf_mailer mailer;
    char cert[PATH_MAX];
    char key[PATH_MAX];
    char err[512];
    char url[CF_CONF_STR + 64];
    char port[16];
    bool generated = false;
    sigset_t set;
    int sig = 0;
    enum cf_rc rc;
    int ex = CLI_ERUNTIME;

    rc = http_routes_check(err, sizeof(err));
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: refusing to start: %s\n", err);
        return CLI_ERUNTIME;
    }
    rc = http_tls_ensure(d->dir, &d->cfg, cert, key, &generated, err,
                         sizeof(err));
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: %s\n", err);
        return CLI_ECONFIG;
    }
    /* Threads started from here on inherit the mask: the signals reach
     * sigwait() below and nowhere else. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    ops_mail_opts_from(&d->cfg, &mail_opts);
    rc = ops_mail_new(&mail_opts, &mail);
    if (rc != CF_OK) {
        fprintf(stderr,
                "coffre: the [mail] settings are not usable (%s); the log "
                "says why\n",
                cf_rc_str(rc));
        return CLI_ECONFIG;
    }
    ops_mail_mailer(mail, &mailer);
    rc = ops_workers_new(d->cfg.worker_threads, d->cfg.worker_queue, &workers);
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: cannot start workers (%s)\n", cf_rc_str(rc));
        ops_mail_free(mail, 0);
        return CLI_ERUNTIME;
    }
    if (cf_log_async_start() != CF_OK) {
        cf_log_warn("writing the log synchronously: no memory for a buffer");
    }

    app.cfg = &d->cfg;
    app.datadir = d->dir;
    app.tenants_dir = d->tenants_dir;
    app.control = d->control;
    app.pool = d->pool;
    app.kr = d->kr;
    app.workers = workers;
    app.mailer = &mailer;
    rc = http_server_start(&app, cert, key, err, sizeof(err), &srv);
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: %s\n", err);
        goto out;
    }
    cli_listen_port(d->cfg.listen, port, sizeof(port));
    snprintf(url, sizeof(url), "https://%s:%s/", d->cfg.base_domain, port);
    /* the first line of a start: operators and scripts wait for it */
    cf_log_info("listening", "url", url, "listen", d->cfg.listen, "certificate",
                cert, "certificate_origin",
                generated ? "self-signed, generated at this start"
                : d->cfg.tls_cert_file[0] ? "configured"
                                          : "self-signed");
    ops_mail_log_state(mail);
    if (sigwait(&set, &sig) != 0) {
        sig = SIGTERM;
    }
    cf_log_info("stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_server_stop(srv, SERVE_DRAIN_MS);
    srv = NULL;
    cf_log_info("stopped");
    ex = CLI_OK;
out:
    http_server_stop(srv, 0);
    ops_workers_free(workers);
    /* what is queued has a few seconds to go out */
    ops_mail_free(mail, SERVE_MAIL_GRACE_MS);
    cf_log_async_stop();
    return ex;
}

int
cli_cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"base-domain", required_argument, NULL, 'b'},
        {"http-listen", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = CLI_DEFAULT_DATA;
    const char *listen = NULL;
    const char *base = NULL;
    const char *http_listen = NULL;
    struct cli_data d;
    int c;
    int ex;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:l:b:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'b':
            base = optarg;
            break;
        case 'r':
            http_listen = optarg;
            break;
        case 'h':
            fputs(serve_usage, stdout);
            return CLI_OK;
        default:
            return cli_getopt_error(c, argv, serve_usage);
        }
    }
    if (optind != argc) {
        return cli_usage_error(serve_usage, "serve takes no argument, not '%s'",
                               argv[optind]);
    }
    ex = listen != NULL ? serve_check(listen, "--listen", true) : CLI_OK;
    if (ex == CLI_OK && base != NULL) {
        ex = serve_check(base, "--base-domain", false);
    }
    if (ex == CLI_OK && http_listen != NULL) {
        ex = serve_check(http_listen, "--http-listen", true);
    }
    if (ex != CLI_OK) {
        return ex;
    }
    ex = cli_data_open(&d, dir, true);
    if (ex == CLI_OK) {
        serve_set(d.cfg.listen, listen);
        serve_set(d.cfg.base_domain, base);
        serve_set(d.cfg.http_listen, http_listen);
        ex = serve_run(&d);
    }
    cli_data_close(&d);
    return ex;
}
