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
    "  init                     create a data directory\n"
    "  serve                    serve HTTPS (initialises an empty or missing\n"
    "                           data directory)\n"
    "  tenant create SLUG       create a tenant (--name NAME, --owner EMAIL)\n"
    "  tenant owner SLUG EMAIL  add an owner and print a setup link (or a\n"
    "                           fresh link for an owner with no password yet)\n"
    "  tenant list              list tenants\n"
    "  tenant show SLUG         show one tenant\n"
    "  tenant policy SLUG [NAME=VALUE ...]\n"
    "                           show or tighten the security policy\n"
    "  version                  print the version\n"
    "  help [COMMAND]           print this help, or a command's\n"
    "\n"
    "Every command takes --data DIR (default ./var) and --help. Only init,\n"
    "and serve on an empty or missing directory, create a data directory.\n"
    "Exit codes: 0 ok, 1 runtime failure, 2 usage, 3 configuration,\n"
    "4 master key, 5 not found, 6 already exists, 7 invalid input.\n";

static bool
is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* coffre help [COMMAND]: the general usage, or that of one command. */
static int
main_help(int argc, char **argv)
{
    char help_opt[] = "--help";
    char *sub[3] = {NULL, help_opt, NULL};

    if (argc == 0 || (argc == 1 && is_help(argv[0]))) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (argc > 1) {
        return cli_usage_error(usage, "help takes one command, not '%s'",
                               argv[1]);
    }
    sub[0] = argv[0];
    if (strcmp(argv[0], "init") == 0) {
        return cli_cmd_init(2, sub);
    }
    if (strcmp(argv[0], "serve") == 0) {
        return cli_cmd_serve(2, sub);
    }
    if (strcmp(argv[0], "tenant") == 0) {
        return cli_cmd_tenant(2, sub);
    }
    if (strcmp(argv[0], "version") == 0 || strcmp(argv[0], "help") == 0) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    return cli_usage_error(usage, "unknown command '%s'", argv[0]);
}

int
main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2) {
        return cli_usage_error(usage, "no command given");
    }
    cmd = argv[1];
    if (strcmp(cmd, "help") == 0) {
        return main_help(argc - 2, argv + 2);
    }
    if (is_help(cmd)) {
        return main_help(0, NULL);
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2 && !is_help(argv[2])) {
            return cli_usage_error(usage, "version takes no argument, not '%s'",
                                   argv[2]);
        }
        printf("coffre %s\n", COFFRE_VERSION);
        return CLI_OK;
    }
    if (strcmp(cmd, "init") != 0 && strcmp(cmd, "serve") != 0 &&
        strcmp(cmd, "tenant") != 0) {
        return cli_usage_error(usage, "unknown %s '%s'",
                               cmd[0] == '-' ? "option" : "command", cmd);
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
    return cli_cmd_tenant(argc - 1, argv + 1);
}
