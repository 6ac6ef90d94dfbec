/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * coffre.conf: an INI file read with libinih. Every key is declared once in
 * conf_keys[] below (section, name, type, bounds, default), which drives
 * parsing, validation, the default file and the README table. An unknown
 * section or key is an error naming it and its line: a typo must never
 * silently fall back to a default.
 */
#include "core/compat.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ini.h>
#include <unistd.h>

#include "core/core.h"

enum conf_type { CONF_STR, CONF_ADDR, CONF_UINT, CONF_SIZE, CONF_LEVEL };

struct conf_key {
    const char *section;
    const char *name;
    enum conf_type type;
    size_t offset;
    uint64_t min;
    uint64_t max;
    const char *def; /* default, as written in the file */
    const char *doc;
};

#define CONF_OFF(field) offsetof(struct cf_config, field)

static const struct conf_key conf_keys[] = {
    {"server", "listen", CONF_ADDR, CONF_OFF(listen), 1, 0, "127.0.0.1:8443",
     "HTTPS address, HOST:PORT"},
    {"server", "base_domain", CONF_STR, CONF_OFF(base_domain), 0, 0,
     "localhost", "tenants answer at SLUG.base_domain"},
    {"server", "http_listen", CONF_ADDR, CONF_OFF(http_listen), 0, 0, "",
     "plain-HTTP address that only redirects to HTTPS; empty: off"},
    {"server", "threads", CONF_UINT, CONF_OFF(threads), 1, 64, "2",
     "HTTP worker threads"},
    {"server", "max_connections_per_ip", CONF_UINT,
     CONF_OFF(max_connections_per_ip), 1, 100000, "64",
     "concurrent connections from one client address"},
    {"server", "connection_timeout", CONF_UINT, CONF_OFF(connection_timeout), 1,
     3600, "30", "seconds of inactivity before a client is dropped"},
    {"server", "max_header_bytes", CONF_SIZE, CONF_OFF(max_header_bytes), 4096,
     1048576, "16384", "request line and headers; larger: 431"},
    {"server", "max_body_bytes", CONF_SIZE, CONF_OFF(max_body_bytes), 1024,
     1073741824, "1048576", "JSON request bodies; larger: 413"},
    {"tls", "cert_file", CONF_STR, CONF_OFF(tls_cert_file), 0, 0, "",
     "PEM certificate chain; empty: self-signed tls/cert.pem"},
    {"tls", "key_file", CONF_STR, CONF_OFF(tls_key_file), 0, 0, "",
     "PEM private key; empty: tls/key.pem"},
    {"db", "tenant_pool", CONF_UINT, CONF_OFF(tenant_pool), 4, 100000, "256",
     "tenant databases kept open (LRU)"},
    {"db", "handles_per_tenant", CONF_UINT, CONF_OFF(handles_per_tenant), 1, 16,
     "2",
     "handles on one tenant database open at once (threads serving the "
     "tenant); each counts against tenant_pool"},
    {"db", "busy_timeout_ms", CONF_UINT, CONF_OFF(busy_timeout_ms), 0, 600000,
     "5000", "wait for a locked database before failing"},
    {"metrics", "token", CONF_STR, CONF_OFF(metrics_token), 32, 0, "",
     "bearer token for /metrics, at least 32 characters (openssl rand -hex "
     "32); empty: /metrics is off"},
    {"limits", "read_per_minute", CONF_UINT, CONF_OFF(limit_read_per_minute), 0,
     1000000, "1200", "reads per client address; 0: no limit"},
    {"limits", "write_per_minute", CONF_UINT, CONF_OFF(limit_write_per_minute),
     0, 1000000, "120", "JSON writes per client address; 0: no limit"},
    {"limits", "auth_per_minute", CONF_UINT, CONF_OFF(limit_auth_per_minute), 0,
     1000000, "10", "credential checks per client address; 0: no limit"},
    {"auth", "argon2_memory_mib", CONF_UINT, CONF_OFF(argon2_memory_mib), 64,
     4096, "64", "Argon2id memory per password hash, MiB (at least 64)"},
    {"auth", "argon2_passes", CONF_UINT, CONF_OFF(argon2_passes), 2, 16, "2",
     "Argon2id passes (at least 2)"},
    {"auth", "session_idle_minutes", CONF_UINT, CONF_OFF(session_idle_minutes),
     1, 30, "30", "a session unused this long ends (at most 30)"},
    {"auth", "session_max_hours", CONF_UINT, CONF_OFF(session_max_hours), 1, 12,
     "12", "a session ends this long after login (at most 12)"},
    {"auth", "ip_ban_failures", CONF_UINT, CONF_OFF(ip_ban_failures), 1, 100000,
     "20", "failed logins from one address before a ban"},
    {"auth", "ip_ban_window_minutes", CONF_UINT,
     CONF_OFF(ip_ban_window_minutes), 1, 1440, "10",
     "window in which those failures count"},
    {"auth", "ip_ban_minutes", CONF_UINT, CONF_OFF(ip_ban_minutes), 1, 10080,
     "15", "length of a ban"},
    {"auth", "mfa_optional", CONF_UINT, CONF_OFF(mfa_optional), 0, 1, "0",
     "1: a tenant may make 2FA optional for its owners and admins; 0: "
     "they need it whatever the tenant says"},
    {"workers", "threads", CONF_UINT, CONF_OFF(worker_threads), 1, 256, "2",
     "threads for expensive work (hashing, scanning, export)"},
    {"workers", "queue", CONF_UINT, CONF_OFF(worker_queue), 1, 100000, "64",
     "queued jobs before new ones get 503"},
    {"mail", "smtp_url", CONF_STR, CONF_OFF(mail_smtp_url), 0, 0, "",
     "smtp://HOST:PORT (STARTTLS required) or smtps://HOST:PORT; empty: "
     "no mail is sent (and resets cannot be mailed)"},
    {"mail", "from", CONF_STR, CONF_OFF(mail_from), 0, 0, "coffre@localhost",
     "sender address of every message"},
    {"mail", "username", CONF_STR, CONF_OFF(mail_username), 0, 0, "",
     "SMTP login; empty: no authentication"},
    {"mail", "password_file", CONF_STR, CONF_OFF(mail_password_file), 0, 0, "",
     "file (mode 0600) holding the SMTP password"},
    {"mail", "ca_file", CONF_STR, CONF_OFF(mail_ca_file), 0, 0, "",
     "PEM CA bundle for the SMTP server's certificate; empty: system CAs"},
    {"mail", "queue", CONF_UINT, CONF_OFF(mail_queue), 1, 100000, "1000",
     "messages waiting for delivery before new ones are refused"},
    {"log", "level", CONF_LEVEL, CONF_OFF(log_level), 0, 0, "info",
     "error, warn, info or debug"},
};

/* inih reads at most INI_MAX_LINE - 1 bytes of a line and parses the rest
 * as a new line: a long comment could then set a key, a long value would be
 * cut. The whole file is read and checked first: an over-long line or a NUL
 * byte is refused with its line number (fuzz_config found this). */
#define CONF_FILE_MAX ((size_t)256 * 1024)
#define CONF_LINE_MAX (INI_MAX_LINE - 2)

static enum cf_rc
conf_read(FILE *f, const char *path, struct cf_buf *b, char *err, size_t errlen)
{
    char chunk[4096];
    size_t n;
    size_t i;
    size_t col = 0;
    int line = 1;
    enum cf_rc rc = CF_OK;

    while (rc == CF_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = cf_buf_add(b, chunk, n);
    }
    if (rc != CF_OK || ferror(f)) {
        snprintf(err, errlen, "%s: cannot read, or larger than %zu bytes", path,
                 CONF_FILE_MAX);
        return rc != CF_OK ? rc : CF_ERR(CF_EIO);
    }
    for (i = 0; i < b->len; i++) {
        if (b->data[i] == '\n') {
            line++;
            col = 0;
        } else if (b->data[i] == '\0') {
            snprintf(err, errlen, "%s line %d: NUL byte", path, line);
            return CF_ERR(CF_EINVAL);
        } else if (++col > CONF_LINE_MAX) {
            snprintf(err, errlen, "%s line %d: longer than %d bytes", path,
                     line, CONF_LINE_MAX);
            return CF_ERR(CF_EINVAL);
        }
    }
    return CF_OK;
}

struct conf_parse {
    struct cf_config *cfg;
    char err[256];
};

bool
cf_addr_valid(const char *s)
{
    const char *colon = strrchr(s, ':');
    char host[64];
    unsigned char bin[16];
    size_t hlen;
    uint64_t port;

    if (colon == NULL || colon == s ||
        cf_parse_u64(colon + 1, 1, 65535, &port) != CF_OK) {
        return false;
    }
    hlen = (size_t)(colon - s);
    if (hlen >= sizeof(host)) {
        return false;
    }
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        return inet_pton(AF_INET6, host + 1, bin) == 1;
    }
    return inet_pton(AF_INET, host, bin) == 1;
}

static enum cf_rc
conf_set(struct cf_config *cfg, const struct conf_key *k, const char *value,
         char *err, size_t errlen)
{
    char *field = (char *)cfg + k->offset;
    uint64_t v;
    enum cf_log_level level;

    switch (k->type) {
    case CONF_ADDR:
        if ((value[0] != '\0' || k->min > 0) && !cf_addr_valid(value)) {
            snprintf(err, errlen,
                     "value of [%s] %s must be IP:PORT or [IPv6]:PORT",
                     k->section, k->name);
            return CF_ERR(CF_EINVAL);
        }
        __attribute__((fallthrough)); /* stored as a string */
    case CONF_STR:
        if (strlen(value) >= CF_CONF_STR) {
            snprintf(err, errlen, "value of [%s] %s is too long", k->section,
                     k->name);
            return CF_ERR(CF_EINVAL);
        }
        /* min: the shortest non-empty value (a secret worth the name) */
        if (value[0] != '\0' && strlen(value) < k->min) {
            snprintf(err, errlen,
                     "value of [%s] %s must be empty or at least %llu "
                     "characters",
                     k->section, k->name, (unsigned long long)k->min);
            return CF_ERR(CF_EINVAL);
        }
        memcpy(field, value, strlen(value) + 1);
        return CF_OK;
    case CONF_UINT:
    case CONF_SIZE:
        if (cf_parse_u64(value, k->min, k->max, &v) != CF_OK) {
            snprintf(err, errlen,
                     "value of [%s] %s must be a whole number from %llu to "
                     "%llu",
                     k->section, k->name, (unsigned long long)k->min,
                     (unsigned long long)k->max);
            return CF_ERR(CF_EINVAL);
        }
        if (k->type == CONF_UINT) {
            *(unsigned *)(void *)field = (unsigned)v;
        } else {
            *(size_t *)(void *)field = (size_t)v;
        }
        return CF_OK;
    case CONF_LEVEL:
        if (cf_log_level_parse(value, &level) != CF_OK) {
            snprintf(err, errlen,
                     "value of [%s] %s must be error, warn, info or debug",
                     k->section, k->name);
            return CF_ERR(CF_EINVAL);
        }
        *(enum cf_log_level *)(void *)field = level;
        return CF_OK;
    }
    return CF_ERR(CF_EINTERNAL);
}

void
cf_config_defaults(struct cf_config *cfg)
{
    size_t i;
    char err[8];

    memset(cfg, 0, sizeof(*cfg));
    for (i = 0; i < CF_ARRAY_LEN(conf_keys); i++) {
        if (conf_set(cfg, &conf_keys[i], conf_keys[i].def, err, sizeof(err)) !=
            CF_OK) {
            CF_BUG("bad default in conf_keys");
        }
    }
}

static int
conf_handler(void *user, const char *section, const char *name,
             const char *value)
{
    struct conf_parse *p = user;
    size_t i;
    bool section_known = false;

    if (p->err[0]) {
        return 1; /* report only the first error */
    }
    for (i = 0; i < CF_ARRAY_LEN(conf_keys); i++) {
        if (strcmp(conf_keys[i].section, section) != 0) {
            continue;
        }
        section_known = true;
        if (strcmp(conf_keys[i].name, name) == 0) {
            return conf_set(p->cfg, &conf_keys[i], value, p->err,
                            sizeof(p->err)) == CF_OK;
        }
    }
    if (!section_known) {
        snprintf(p->err, sizeof(p->err), "unknown section [%.64s] (key %.64s)",
                 section, name);
    } else {
        snprintf(p->err, sizeof(p->err), "unknown key %.64s in [%.64s]", name,
                 section);
    }
    return 0;
}

enum cf_rc
cf_config_load(const char *path, struct cf_config *cfg, char *err,
               size_t errlen)
{
    struct conf_parse p = {.cfg = cfg, .err = ""};
    struct cf_buf text;
    enum cf_rc rc;
    struct cf_config work = *cfg;
    FILE *f;
    int line;

    err[0] = '\0';
    f = fopen(path, "re");
    if (f == NULL) {
        if (errno == ENOENT) {
            return CF_OK;
        }
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return CF_ERR(CF_EIO);
    }
    cf_buf_init(&text, CONF_FILE_MAX);
    rc = conf_read(f, path, &text, err, errlen);
    fclose(f);
    if (rc != CF_OK) {
        cf_buf_release(&text);
        return rc;
    }
    p.cfg = &work;
    line = ini_parse_string(cf_buf_str(&text), conf_handler, &p);
    cf_buf_release(&text);
    if (line != 0) {
        if (line < 0) {
            snprintf(err, errlen, "%s: cannot parse", path);
        } else if (p.err[0]) {
            snprintf(err, errlen, "%s line %d: %s", path, line, p.err);
        } else {
            snprintf(err, errlen,
                     "%s line %d: syntax error (expected "
                     "key = value or [section])",
                     path, line);
        }
        return CF_ERR(CF_EINVAL);
    }
    *cfg = work;
    return CF_OK;
}

enum cf_rc
cf_config_write_default(const char *path)
{
    struct cf_buf b;
    const char *section = "";
    size_t i;
    int fd = -1;
    enum cf_rc rc = CF_EINTERNAL;
    size_t off = 0;

    cf_buf_init(&b, (size_t)64 * 1024);
    rc = cf_buf_adds(&b, "; coffre configuration. Every key is shown with its "
                         "default; uncomment to change.\n"
                         "; An unknown section or key is an error.\n");
    for (i = 0; rc == CF_OK && i < CF_ARRAY_LEN(conf_keys); i++) {
        const struct conf_key *k = &conf_keys[i];

        if (strcmp(section, k->section) != 0) {
            section = k->section;
            rc = cf_buf_addf(&b, "\n[%s]\n", section);
            if (rc != CF_OK) {
                break;
            }
        }
        rc = cf_buf_addf(&b, "; %s\n;%s = %s\n", k->doc, k->name, k->def);
    }
    if (rc != CF_OK) {
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = errno == EEXIST ? CF_ERR(CF_ECONFLICT) : CF_ERR(CF_EIO);
        goto out;
    }
    while (off < b.len) {
        ssize_t w = write(fd, b.data + off, b.len - off);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            rc = CF_ERR(CF_EIO);
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    rc = CF_OK;
out:
    if (fd >= 0) {
        close(fd);
    }
    cf_buf_release(&b);
    return rc;
}
