/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * coffre init: create a data directory (master key, coffre.conf,
 * control.db, tenants/). Leaves an initialised directory alone.
 */
#include "core/compat.h"

#include <getopt.h>

#include "cli/cli.h"

static const char init_usage[] =
    "usage: coffre init [--data DIR]\n"
    "\n"
    "Create DIR (default ./var) with a new master key (master.key, mode\n"
    "0600; or master.pass when COFFRE_MASTER_PASSPHRASE is set), the\n"
    "configuration file coffre.conf, control.db and tenants/.\n";

int
cli_cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = CLI_DEFAULT_DATA;
    bool created = false;
    int c;
    int ex;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'h':
            fputs(init_usage, stdout);
            return CLI_OK;
        default:
            return cli_getopt_error(c, argv, init_usage);
        }
    }
    if (optind != argc) {
        return cli_usage_error(init_usage, "init takes no argument, not '%s'",
                               argv[optind]);
    }
    ex = cli_data_init(dir, &created);
    if (ex == CLI_OK) {
        printf(created ? "initialised %s\n" : "%s is already initialised\n",
               dir);
    }
    return ex;
}
