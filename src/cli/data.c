/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Opening a data directory for a subcommand: recognise it (only `init`,
 * and `serve` on an empty or missing directory, create one), read the
 * configuration, load the master key, open the control database and the
 * tenant pool. Messages for the operator go to stderr, one line each.
 */
#include "core/compat.h"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tenant/tenant.h"

static bool
cli_path(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

    return n > 0 && n < PATH_MAX;
}

int
cli_exit_for(enum cf_rc rc)
{
    switch (rc) {
    case CF_OK:
        return CLI_OK;
    case CF_EINVAL:
    case CF_ETOOBIG:
        return CLI_EINPUT;
    case CF_ENOTFOUND:
        return CLI_ENOTFOUND;
    case CF_ECONFLICT:
        return CLI_ECONFLICT;
    case CF_EAUTH:
    case CF_EPERM:
    case CF_ECRYPTO:
        return CLI_EKEY;
    case CF_ENOMEM:
    case CF_ELOCKED:
    case CF_EBUSY:
    case CF_EIO:
    case CF_EDB:
    case CF_EINTERNAL:
    case CF_RC_COUNT:
        break;
    }
    return CLI_ERUNTIME;
}

void
cli_principal(char *out, size_t cap)
{
    struct passwd pw;
    struct passwd *res = NULL;
    char buf[1024];

    if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res != NULL) {
        snprintf(out, cap, "cli:%s", res->pw_name);
    } else {
        snprintf(out, cap, "cli:uid-%u", (unsigned)getuid());
    }
}

void
cli_listen_port(const char *listen, char *out, size_t cap)
{
    const char *colon = strrchr(listen, ':');

    cf_strlcpy(out, colon ? colon + 1 : "8443", cap);
}

/* Data exists but its key is gone: a new key would make every tenant
 * unreadable. Never paper over that. */
static int
cli_key_lost(const char *dir)
{
    fprintf(stderr,
            "coffre: %s holds data but its master key %s/%s is missing; "
            "restore it from a backup\n",
            dir, dir, CX_MASTER_KEY_FILE);
    return CLI_EKEY;
}

/* Is there no entry in the directory dir? */
static bool
cli_dir_empty(const char *dir)
{
    DIR *dh = opendir(dir);
    const struct dirent *e;
    bool empty = true;

    if (dh == NULL) {
        return false;
    }
    while (empty && (e = readdir(dh)) != NULL) {
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    }
    closedir(dh);
    return empty;
}

/* What the data directory dir holds. */
enum cli_data_kind {
    CLI_DATA_ABSENT,  /* nothing at that path */
    CLI_DATA_EMPTY,   /* an empty directory */
    CLI_DATA_COFFRE,  /* coffre.conf, a master key and control.db */
    CLI_DATA_KEYLESS, /* control.db without its master key */
    CLI_DATA_OTHER,   /* a directory lacking what *missing names */
};

/*
 * Look at dir without changing anything. missing receives, for
 * CLI_DATA_EMPTY and CLI_DATA_OTHER, the files a data directory needs and
 * dir lacks ("coffre.conf and control.db are missing"). Returns an exit
 * code, with its message printed, when dir cannot be looked at or is not
 * a directory.
 */
static int
cli_data_probe(const char *dir, enum cli_data_kind *kind, char *missing,
               size_t cap)
{
    const char *lack[3];
    char path[PATH_MAX];
    struct stat st;
    bool has_db;
    size_t n = 0;

    missing[0] = '\0';
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT) {
            *kind = CLI_DATA_ABSENT;
            return CLI_OK;
        }
        fprintf(stderr, "coffre: cannot read data directory %s: %s\n", dir,
                strerror(errno));
        return CLI_ECONFIG;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "coffre: data directory %s is not a directory\n", dir);
        return CLI_ECONFIG;
    }
    if (!cli_path(path, dir, "coffre.conf")) {
        fprintf(stderr, "coffre: data directory path too long\n");
        return CLI_EUSAGE;
    }
    if (access(path, F_OK) != 0) {
        lack[n++] = "coffre.conf";
    }
    if (!cx_master_exists(dir)) {
        lack[n++] = "the master key (" CX_MASTER_KEY_FILE
                    " or " CX_MASTER_PASS_FILE ")";
    }
    if (!cli_path(path, dir, "control.db")) {
        fprintf(stderr, "coffre: data directory path too long\n");
        return CLI_EUSAGE;
    }
    has_db = access(path, F_OK) == 0;
    if (!has_db) {
        lack[n++] = "control.db";
    }
    if (n == 0) {
        *kind = CLI_DATA_COFFRE;
        return CLI_OK;
    }
    if (has_db && !cx_master_exists(dir)) {
        *kind = CLI_DATA_KEYLESS;
        return CLI_OK;
    }
    *kind = cli_dir_empty(dir) ? CLI_DATA_EMPTY : CLI_DATA_OTHER;
    if (n == 1) {
        snprintf(missing, cap, "%s is missing", lack[0]);
    } else if (n == 2) {
        snprintf(missing, cap, "%s and %s are missing", lack[0], lack[1]);
    } else {
        snprintf(missing, cap, "%s, %s and %s are missing", lack[0], lack[1],
                 lack[2]);
    }
    return CLI_OK;
}

int
cli_data_init(const char *dir, bool *created)
{
    char path[PATH_MAX];
    struct db *control = NULL;
    enum cf_rc rc;
    struct stat st;

    *created = false;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "coffre: cannot create data directory %s: %s\n", dir,
                strerror(errno));
        return CLI_ERUNTIME;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "coffre: %s is not a directory\n", dir);
        return CLI_ERUNTIME;
    }
    if (!cli_path(path, dir, "control.db")) {
        return CLI_ERUNTIME;
    }
    if (!cx_master_exists(dir) && access(path, F_OK) == 0) {
        return cli_key_lost(dir);
    }
    if (!cx_master_exists(dir)) {
        rc = cx_master_create(dir);
        if (rc != CF_OK) {
            fprintf(stderr, "coffre: cannot create the master key in %s (%s)\n",
                    dir, cf_rc_str(rc));
            return CLI_EKEY;
        }
        *created = true;
    }
    if (!cli_path(path, dir, "coffre.conf")) {
        return CLI_ERUNTIME;
    }
    if (access(path, F_OK) != 0) {
        rc = cf_config_write_default(path);
        if (rc != CF_OK && rc != CF_ECONFLICT) {
            fprintf(stderr, "coffre: cannot write %s (%s)\n", path,
                    cf_rc_str(rc));
            return CLI_ERUNTIME;
        }
        *created = true;
    }
    if (!cli_path(path, dir, "tenants")) {
        return CLI_ERUNTIME;
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "coffre: cannot create %s: %s\n", path,
                strerror(errno));
        return CLI_ERUNTIME;
    }
    if (!cli_path(path, dir, "control.db")) {
        return CLI_ERUNTIME;
    }
    if (access(path, F_OK) != 0) {
        *created = true;
    }
    rc = db_open(path, DB_KIND_CONTROL, 5000, &control);
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: cannot open %s (%s)\n", path, cf_rc_str(rc));
        return CLI_ERUNTIME;
    }
    db_close(control);
    return CLI_OK;
}

/*
 * Make sure dir is a data directory a command may open: an existing one,
 * or with may_init an empty or missing one, initialised here. Anything
 * else is refused with one line naming dir and what it lacks.
 */
static int
cli_data_check(const char *dir, bool may_init)
{
    enum cli_data_kind kind = CLI_DATA_OTHER;
    char missing[160];
    bool created = false;
    int ex;

    ex = cli_data_probe(dir, &kind, missing, sizeof(missing));
    if (ex != CLI_OK) {
        return ex;
    }
    switch (kind) {
    case CLI_DATA_COFFRE:
        /* fills in what may be absent beside the three files (tenants/) */
        return cli_data_init(dir, &created);
    case CLI_DATA_KEYLESS:
        return cli_key_lost(dir);
    case CLI_DATA_ABSENT:
        if (!may_init) {
            fprintf(stderr,
                    "coffre: data directory %s does not exist (create it "
                    "with: coffre init --data %s)\n",
                    dir, dir);
            return CLI_ECONFIG;
        }
        break;
    case CLI_DATA_EMPTY:
        if (!may_init) {
            fprintf(stderr,
                    "coffre: %s is not a coffre data directory: %s (create "
                    "one with: coffre init --data %s)\n",
                    dir, missing, dir);
            return CLI_ECONFIG;
        }
        break;
    case CLI_DATA_OTHER:
        fprintf(stderr,
                may_init ? "coffre: %s is neither empty nor a coffre data "
                           "directory: %s; refusing to initialise it\n"
                         : "coffre: %s is not a coffre data directory: %s\n",
                dir, missing);
        return CLI_ECONFIG;
    }
    ex = cli_data_init(dir, &created);
    if (ex == CLI_OK && created) {
        cf_log_info("initialised data directory", "dir", dir);
    }
    return ex;
}

int
cli_data_open(struct cli_data *d, const char *dir, bool may_init)
{
    char err[512];
    char path[PATH_MAX];
    enum cf_rc rc;
    int ex;

    memset(d, 0, sizeof(*d));
    if (cf_strlcpy(d->dir, dir, sizeof(d->dir)) >= sizeof(d->dir) ||
        !cli_path(d->tenants_dir, dir, "tenants") ||
        !cli_path(d->conf_path, dir, "coffre.conf") ||
        !cli_path(path, dir, "control.db")) {
        fprintf(stderr, "coffre: data directory path too long\n");
        return CLI_EUSAGE;
    }
    ex = cli_data_check(dir, may_init);
    if (ex != CLI_OK) {
        return ex;
    }
    cf_config_defaults(&d->cfg);
    rc = cf_config_load(d->conf_path, &d->cfg, err, sizeof(err));
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: configuration error: %s\n", err);
        return CLI_ECONFIG;
    }
    cf_log_set_level(d->cfg.log_level);
    rc = cx_keyring_open(dir, err, sizeof(err), &d->kr);
    unsetenv(CX_PASSPHRASE_ENV); /* children must not inherit it */
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: %s\n", err);
        return CLI_EKEY;
    }
    rc = db_open(path, DB_KIND_CONTROL, d->cfg.busy_timeout_ms, &d->control);
    if (rc == CF_OK) {
        rc = db_pool_new(d->tenants_dir, d->cfg.tenant_pool,
                         d->cfg.handles_per_tenant, d->cfg.busy_timeout_ms,
                         &d->pool);
    }
    if (rc == CF_OK) {
        d->keysrc = (struct tenant_keys_source){d->control, d->kr};
        db_pool_on_open(d->pool, tenant_db_opened, &d->keysrc);
    }
    if (rc != CF_OK) {
        fprintf(stderr, "coffre: cannot open the databases in %s (%s)\n", dir,
                cf_rc_str(rc));
        return CLI_ERUNTIME;
    }
    return CLI_OK;
}

void
cli_data_close(struct cli_data *d)
{
    tenant_keys_forget(); /* wipe the cached tenant keys */
    db_pool_free(d->pool);
    d->pool = NULL;
    if (d->control != NULL) {
        db_close(d->control);
        d->control = NULL;
    }
    cx_keyring_free(d->kr);
    d->kr = NULL;
}
