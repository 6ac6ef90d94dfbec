/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * coffre: entry point. Dispatches to a subcommand; see `coffre help`.
 */
#include "core/compat.h"

#include "cli/cli.h"

static const char usage[] =
    "usage: coffre <command> [options]\n"
    "\n"
    "commands:\n"
    "  init                 create a data directory\n"
    "  serve                serve HTTPS (initialises an empty data directory)\n"
    "  tenant create SLUG   create a tenant\n"
    "  tenant list          list tenants\n"
    "  tenant show SLUG     show one tenant\n"
    "  version              print the version\n"
    "  help                 print this help\n"
    "\n"
    "Every command takes --data DIR (default ./var) and --help.\n"
    "Exit codes: 0 ok, 1 runtime failure, 2 usage, 3 configuration,\n"
    "4 master key, 5 not found, 6 already exists, 7 invalid input.\n";

int
main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "help";

    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("coffre %s\n", COFFRE_VERSION);
        return CLI_OK;
    }
    if (cx_init() != CF_OK) {
        fprintf(stderr, "coffre: cannot initialise the crypto library\n");
        return CLI_ERUNTIME;
    }
    if (strcmp(cmd, "init") == 0) {
        return cli_cmd_init(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "serve") == 0) {
        return cli_cmd_serve(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "tenant") == 0) {
        return cli_cmd_tenant(argc - 1, argv + 1);
    }
    fprintf(stderr, "coffre: unknown command '%s'\n\n%s", cmd, usage);
    return CLI_EUSAGE;
}
