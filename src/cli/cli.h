/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cli: the `coffre` command. main.c dispatches to one file per
 * subcommand; this header holds what they share: exit codes and opening
 * a data directory.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <limits.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "db/db.h"
#include "tenant/tenant.h"

/* Exit codes, documented in the README. */
enum cli_exit {
    CLI_OK = 0,
    CLI_ERUNTIME = 1,
    CLI_EUSAGE = 2,
    CLI_ECONFIG = 3,
    CLI_EKEY = 4,
    CLI_ENOTFOUND = 5,
    CLI_ECONFLICT = 6,
    CLI_EINPUT = 7,
};

#define CLI_DEFAULT_DATA "./var"

/* An open data directory. */
struct cli_data {
    char dir[PATH_MAX];
    char tenants_dir[PATH_MAX];
    char conf_path[PATH_MAX];
    struct cf_config cfg;
    struct cx_keyring *kr;
    struct db *control;
    struct db_pool *pool;
    struct tenant_keys_source keysrc; /* the pool's keyed migrations */
};

/*
 * Initialise dir if it holds no data yet (master key, coffre.conf,
 * control.db, tenants/); *created tells whether it did. Returns an exit
 * code and prints the reason of a failure.
 */
int cli_data_init(const char *dir, bool *created);
/*
 * Open the data directory dir: read coffre.conf, load the master key and
 * open the control database and the tenant pool. dir must be a data
 * directory (coffre.conf, master.key or master.pass, control.db); with
 * may_init (serve) an empty or missing one is initialised first. Anything
 * else is refused with CLI_ECONFIG and one line naming dir and what it
 * lacks; control.db without its master key gives CLI_EKEY. Returns an
 * exit code, the reason of a failure printed; cli_data_close() d in every
 * case.
 */
int cli_data_open(struct cli_data *d, const char *dir, bool may_init);
void cli_data_close(struct cli_data *d);

/* Exit code for a domain result. */
int cli_exit_for(enum cf_rc rc);
/* "cli:<login name>" for audit events. */
void cli_principal(char *out, size_t cap);
/* The port of a HOST:PORT listen address, or "8443". */
void cli_listen_port(const char *listen, char *out, size_t cap);

/*
 * A usage error: "coffre: <reason>" on one line, then usage, on stderr.
 * Returns CLI_EUSAGE.
 */
int cli_usage_error(const char *usage, const char *fmt, ...) CF_PRINTF(2, 3);
/*
 * The usage error of a getopt_long() failure: c is what it returned ('?'
 * for an unknown option or a value given to an option taking none, ':'
 * for a missing value; the option string starts with ':'), argv what it
 * parsed. Returns CLI_EUSAGE.
 */
int cli_getopt_error(int c, char **argv, const char *usage);

int cli_cmd_init(int argc, char **argv);
int cli_cmd_serve(int argc, char **argv);
int cli_cmd_tenant(int argc, char **argv);

#endif
