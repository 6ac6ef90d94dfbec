/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * coffre tenant create|owner|list|show|policy. Safe while `serve` runs on the
 * same data directory: SQLite locking orders the writers, and the server looks
 * tenants up in control.db on every request, so it sees a new one at once.
 */
#include "core/compat.h"

#include <getopt.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "tenant/tenant.h"

static const char tenant_usage[] =
    "usage: coffre tenant create SLUG [--name NAME] [--owner EMAIL] "
    "[--data DIR]\n"
    "       coffre tenant owner SLUG EMAIL [--data DIR]\n"
    "       coffre tenant list [--data DIR]\n"
    "       coffre tenant show SLUG [--data DIR]\n"
    "       coffre tenant policy SLUG [NAME=VALUE ...] [--mfa POLICY] "
    "[--data DIR]\n"
    "\n"
    "A slug has 3 to 40 characters of a-z, 0-9 and '-', does not start or\n"
    "end with '-', and is not reserved (www, api, admin, ...). The tenant\n"
    "answers at https://SLUG.<base_domain>:<port>/.\n"
    "--owner (or `tenant owner`) creates an owner account and prints a\n"
    "single-use setup link, valid 24 hours, to choose its password.\n"
    "`tenant owner` for an owner who has not chosen a password yet prints a\n"
    "fresh link (earlier ones stop working); an account with a password\n"
    "is refused: its \"Forgot your password?\" link is the way back.\n"
    "policy prints the tenant's security policy after setting each\n"
    "NAME=VALUE given; a tenant can only be stricter than the defaults:\n"
    "  mfa=admins|all|optional  who must use 2FA (admins: owners and admins)\n"
    "  password_min=12-128      characters for ordinary accounts (12)\n"
    "  password_min_admin=16-128  for owners and admins (16)\n"
    "  password_score=3-4       lowest zxcvbn score (3)\n"
    "  max_age_days=0-365       password age before a change is due (0: off)\n"
    "  max_age_days_admin=1-365 the same for owners and admins (365)\n"
    "  history=0-24             earlier passwords that cannot be reused (5)\n"
    "  session_idle_minutes=1-30  idle time before a session ends (30)\n"
    "  session_max_hours=1-12   a session's longest life (12)\n"
    "  lockout_failures=3-5     failed logins before a lock (5)\n"
    "  admin_ips=CIDR,...       addresses allowed to administer (empty: any)\n"
    "  upload_types=pdf,png,... file types accepted for upload\n"
    "--data DIR (default ./var) must be a data directory made by `coffre\n"
    "init` or `coffre serve`.\n";

static enum cf_rc
tenant_print_line(const struct tenant *t, void *arg)
{
    (void)arg;
    printf("%s\t%s\t%s\n", t->slug, t->name, t->created);
    return CF_OK;
}

/* Create an owner account for t, or renew the link of one without a
 * password, and print its setup link. */
static int
tenant_add_owner(struct cli_data *d, const struct tenant *t, const char *email)
{
    struct cx_keyset *key = NULL;
    struct auth_config acfg;
    struct cf_ctx ctx;
    char principal[128];
    char token[CX_TOKEN_LEN + 1];
    char url[512];
    bool existing;
    enum cf_rc rc;

    auth_config_from(&d->cfg, &acfg);
    cli_principal(principal, sizeof(principal));
    rc = tenant_keys_open(d->control, d->kr, t->id, &key);
    if (rc == CF_OK) {
        ctx = (struct cf_ctx){.pool = d->pool,
                              .tenant_id = t->id,
                              .tenant_slug = t->slug,
                              .keys = key,
                              .cfg = &acfg,
                              .principal = principal};
        rc = auth_owner_create(&ctx, email, token);
    }
    existing = rc == CF_ECONFLICT;
    if (existing) {
        /* an owner who never used their link gets a fresh one */
        rc = auth_owner_relink(&ctx, email, token);
    }
    cx_keyset_unref(key);
    if (rc == CF_EINVAL) {
        fprintf(stderr, "coffre: '%s' is not an e-mail address\n", email);
        return CLI_EINPUT;
    }
    if (existing && rc == CF_ECONFLICT) {
        fprintf(stderr,
                "coffre: %s already has an account in '%s' with a password; "
                "to choose a new one, use the \"Forgot your password?\" "
                "link on the sign-in page\n",
                email, t->slug);
        return CLI_ECONFLICT;
    }
    if (existing && (rc == CF_EPERM || rc == CF_ENOTFOUND)) {
        fprintf(stderr,
                "coffre: %s already has an account in '%s' that is not an "
                "active owner\n",
                email, t->slug);
        return CLI_ECONFLICT;
    }
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: cannot create the owner (%s)\n",
                cf_rc_str(rc));
        return cli_exit_for(rc);
    }
    tenant_url(t->slug, d->cfg.base_domain, d->cfg.listen, url, sizeof(url));
    printf("owner: %s\nsetup: %s/setup#%s\n"
           "(single use, valid 24 hours; shown only now)\n",
           email, url, token);
    cf_memzero(token, sizeof(token));
    return CLI_OK;
}

/* Print (and with settings, first change) the tenant's security policy. */
static int
tenant_do_policy(struct cli_data *d, const char *slug, char **set, int nset)
{
    struct cx_keyset *key = NULL;
    struct auth_config acfg;
    struct cf_ctx ctx;
    struct auth_tenant_policy p;
    struct tenant t;
    char principal[128];
    enum cf_rc rc;
    int i;

    rc = tenant_find(d->control, slug, &t);
    if (rc == CF_ENOTFOUND) {
        fprintf(stderr, "coffre: no tenant '%s'\n", slug);
        return CLI_ENOTFOUND;
    }
    auth_config_from(&d->cfg, &acfg);
    cli_principal(principal, sizeof(principal));
    if (rc == CF_OK) {
        rc = tenant_keys_open(d->control, d->kr, t.id, &key);
    }
    ctx = (struct cf_ctx){.pool = d->pool,
                          .tenant_id = t.id,
                          .tenant_slug = t.slug,
                          .keys = key,
                          .cfg = &acfg,
                          .principal = principal};
    /* NAME=VALUE each; the first bad one stops, earlier ones stay set */
    for (i = 0; rc == CF_OK && i < nset; i++) {
        char name[32] = "";
        const char *eq = strchr(set[i], '=');

        if (eq == NULL || (size_t)(eq - set[i]) >= sizeof(name)) {
            rc = CF_EINVAL;
        } else {
            memcpy(name, set[i], (size_t)(eq - set[i]));
            name[eq - set[i]] = '\0';
            rc = auth_tenant_policy_set(&ctx, name, eq + 1);
        }
        if (rc == CF_EINVAL && name[0] != '\0') {
            char range[160];

            auth_tenant_policy_range(&ctx, name, range, sizeof(range));
            if (range[0] != '\0') {
                fprintf(stderr, "coffre: %s: %s is %s\n", set[i], name, range);
            } else {
                fprintf(stderr,
                        "coffre: %s: unknown setting '%s' (see coffre "
                        "tenant --help)\n",
                        set[i], name);
            }
            cx_keyset_unref(key);
            return CLI_EINPUT;
        }
        if (rc == CF_EINVAL) {
            fprintf(stderr,
                    "coffre: '%s' is not NAME=VALUE (see coffre tenant "
                    "--help)\n",
                    set[i]);
            cx_keyset_unref(key);
            return CLI_EINPUT;
        }
    }
    if (rc == CF_OK) {
        rc = auth_tenant_policy_get(&ctx, &p);
    }
    cx_keyset_unref(key);
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: cannot read or set the policy (%s)\n",
                cf_rc_str(rc));
        return cli_exit_for(rc);
    }
    auth_tenant_policy_print(&p, stdout);
    return CLI_OK;
}

static int
tenant_do_owner(struct cli_data *d, const char *slug, const char *email)
{
    struct tenant t;
    enum cf_rc rc;

    rc = tenant_find(d->control, slug, &t);
    if (rc == CF_ENOTFOUND) {
        fprintf(stderr, "coffre: no tenant '%s'\n", slug);
        return CLI_ENOTFOUND;
    }
    if (rc != CF_OK) {
        return cli_exit_for(rc);
    }
    return tenant_add_owner(d, &t, email);
}

static int
tenant_do_create(struct cli_data *d, const char *slug, const char *name,
                 const char *owner)
{
    struct tenant t;
    const char *reason = NULL;
    char principal[128];
    char url[512];
    enum cf_rc rc;

    if (tenant_slug_check(slug, &reason) != CF_OK) {
        fprintf(stderr, "coffre: invalid slug '%s': %s\n", slug, reason);
        return CLI_EINPUT;
    }
    if (name != NULL && strlen(name) > TENANT_NAME_MAX) {
        fprintf(stderr, "coffre: the name has more than %d bytes\n",
                TENANT_NAME_MAX);
        return CLI_EINPUT;
    }
    cli_principal(principal, sizeof(principal));
    rc = tenant_create(d->control, d->pool, d->kr, slug, name, principal, &t);
    if (rc == CF_ECONFLICT) {
        fprintf(stderr, "coffre: tenant '%s' already exists\n", slug);
        return CLI_ECONFLICT;
    }
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: cannot create tenant '%s' (%s)\n", slug,
                cf_rc_str(rc));
        return cli_exit_for(rc);
    }
    tenant_url(t.slug, d->cfg.base_domain, d->cfg.listen, url, sizeof(url));
    printf("created tenant %s (%s)\nurl: %s/\n", t.slug, t.name, url);
    if (owner != NULL) {
        return tenant_add_owner(d, &t, owner);
    }
    return CLI_OK;
}

static int
tenant_do_show(struct cli_data *d, const char *slug)
{
    struct tenant t;
    char url[512];
    enum cf_rc rc;

    rc = tenant_find(d->control, slug, &t);
    if (rc == CF_ENOTFOUND) {
        fprintf(stderr, "coffre: no tenant '%s'\n", slug);
        return CLI_ENOTFOUND;
    }
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: cannot read tenant '%s' (%s)\n", slug,
                cf_rc_str(rc));
        return cli_exit_for(rc);
    }
    tenant_url(t.slug, d->cfg.base_domain, d->cfg.listen, url, sizeof(url));
    printf("id: %lld\nslug: %s\nname: %s\ncreated: %s\nstate: %s\n"
           "url: %s/\n",
           (long long)t.id, t.slug, t.name, t.created, t.state, url);
    return CLI_OK;
}

/*
 * A usage error unless sub is a tenant command given its nargs arguments
 * (args) and only its own options. Returns an exit code.
 */
static int
tenant_args_check(const char *sub, char **args, int nargs, bool name_or_owner,
                  bool mfa)
{
    static const struct {
        const char *sub;
        int min;
        int max;
        const char *args;
    } cmds[] = {
        {"create", 1, 1, "SLUG"},
        {"owner", 2, 2, "SLUG EMAIL"},
        {"list", 0, 0, "no argument"},
        {"show", 1, 1, "SLUG"},
        {"policy", 1, INT_MAX, "SLUG [NAME=VALUE ...]"},
    };
    size_t i;

    for (i = 0; i < CF_ARRAY_LEN(cmds); i++) {
        if (strcmp(sub, cmds[i].sub) == 0) {
            break;
        }
    }
    if (i == CF_ARRAY_LEN(cmds)) {
        return cli_usage_error(tenant_usage, "unknown tenant command '%s'",
                               sub);
    }
    if (nargs < cmds[i].min) {
        return cli_usage_error(tenant_usage, "tenant %s needs %s", sub,
                               cmds[i].args);
    }
    if (nargs > cmds[i].max) {
        return cli_usage_error(tenant_usage,
                               "unexpected argument '%s' (tenant %s takes %s)",
                               args[cmds[i].max], sub, cmds[i].args);
    }
    if (name_or_owner && strcmp(sub, "create") != 0) {
        return cli_usage_error(tenant_usage,
                               "--name and --owner are options of tenant "
                               "create, not of tenant %s",
                               sub);
    }
    if (mfa && strcmp(sub, "policy") != 0) {
        return cli_usage_error(tenant_usage,
                               "--mfa is an option of tenant policy, not of "
                               "tenant %s",
                               sub);
    }
    return CLI_OK;
}

int
cli_cmd_tenant(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},
        {"owner", required_argument, NULL, 'o'},
        {"mfa", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = CLI_DEFAULT_DATA;
    const char *name = NULL;
    const char *owner = NULL;
    char mfa[64] = "";
    const char *sub;
    struct cli_data d;
    enum cf_rc rc;
    int c;
    int ex;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:n:o:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'o':
            owner = optarg;
            break;
        case 'm': /* the same as the argument mfa=VALUE */
            snprintf(mfa, sizeof(mfa), "mfa=%s", optarg);
            break;
        case 'h':
            fputs(tenant_usage, stdout);
            return CLI_OK;
        default:
            return cli_getopt_error(c, argv, tenant_usage);
        }
    }
    if (optind >= argc) {
        return cli_usage_error(tenant_usage,
                               "tenant needs a command: create, owner, list, "
                               "show or policy");
    }
    sub = argv[optind];
    ex = tenant_args_check(sub, argv + optind + 1, argc - optind - 1,
                           name != NULL || owner != NULL, mfa[0] != '\0');
    if (ex != CLI_OK) {
        return ex;
    }
    ex = cli_data_open(&d, dir, false);
    if (ex != CLI_OK) {
        cli_data_close(&d);
        return ex;
    }
    if (strcmp(sub, "create") == 0) {
        ex = tenant_do_create(&d, argv[optind + 1], name, owner);
    } else if (strcmp(sub, "owner") == 0) {
        ex = tenant_do_owner(&d, argv[optind + 1], argv[optind + 2]);
    } else if (strcmp(sub, "show") == 0) {
        ex = tenant_do_show(&d, argv[optind + 1]);
    } else if (strcmp(sub, "policy") == 0) {
        char *one[1] = {mfa};

        ex = mfa[0] != '\0' ? tenant_do_policy(&d, argv[optind + 1], one, 1)
                            : CLI_OK;
        if (ex == CLI_OK) {
            ex = tenant_do_policy(&d, argv[optind + 1], argv + optind + 2,
                                  argc - optind - 2);
        }
    } else {
        rc = tenant_each(d.control, tenant_print_line, NULL);
        ex = cli_exit_for(rc);
    }
    cli_data_close(&d);
    return ex;
}
