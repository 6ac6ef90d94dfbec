/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Usage errors of every subcommand: one line saying what was wrong (an
 * unknown command or option, a missing value or argument), then the
 * command's usage, on stderr, and exit code 2.
 */
#include "core/compat.h"

#include <getopt.h>
#include <stdarg.h>

#include "cli/cli.h"

int
cli_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;

    fputs("coffre: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    fputs(usage, stderr);
    return CLI_EUSAGE;
}

int
cli_getopt_error(int c, char **argv, const char *usage)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    const char *eq = strchr(arg, '=');
    int len = eq != NULL ? (int)(eq - arg) : (int)strlen(arg);
    bool is_long = arg[0] == '-' && arg[1] == '-';

    if (c == ':') {
        if (is_long) {
            return cli_usage_error(usage, "option '%.*s' needs a value", len,
                                   arg);
        }
        return cli_usage_error(usage, "option '-%c' needs a value", optopt);
    }
    if (is_long && eq != NULL && optopt != 0) {
        /* a known long option given a value it does not take */
        return cli_usage_error(usage, "option '%.*s' takes no value", len, arg);
    }
    if (is_long) {
        return cli_usage_error(usage, "unknown option '%.*s'", len, arg);
    }
    return cli_usage_error(usage, "unknown option '-%c'", optopt);
}
