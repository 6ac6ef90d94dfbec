/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The server certificate: the configured files, or a self-signed ECDSA
 * P-256 certificate for the base domain and its wildcard, generated with
 * GnuTLS at first start and kept in DATA/tls/.
 */
#include "core/compat.h"

#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/http_int.h"

#define TLS_VALID_DAYS 397

static enum cf_rc
tls_write_file(const char *path, const gnutls_datum_t *d, mode_t mode)
{
    char tmp[PATH_MAX];
    int fd;
    size_t off = 0;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        return CF_ERR(CF_EINVAL);
    }
    /* COMMITMENT D3: a new file, never one planted there: O_EXCL refuses an
     * existing name and O_NOFOLLOW a symbolic link; a leftover of a crash (or a
     * link someone planted) is removed, not followed, and tried once more */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0) {
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  mode);
    }
    if (fd < 0) {
        return CF_ERR(CF_EIO);
    }
    while (off < d->size) {
        ssize_t w = write(fd, d->data + off, d->size - off);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return CF_ERR(CF_EIO);
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return CF_ERR(CF_EIO);
    }
    return CF_OK;
}

static enum cf_rc
tls_generate(const char *base_domain, const char *cert_path,
             const char *key_path)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t kpem = {NULL, 0};
    gnutls_datum_t cpem = {NULL, 0};
    unsigned char serial[16];
    char wildcard[CF_CONF_STR + 2];
    time_t now = time(NULL);
    enum cf_rc rc = CF_ERR(CF_ECRYPTO);

    if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0) {
        return rc;
    }
    serial[0] &= 0x7f; /* a positive serial number */
    snprintf(wildcard, sizeof(wildcard), "*.%s", base_domain);
    if (gnutls_x509_privkey_init(&key) < 0 ||
        gnutls_x509_privkey_generate(
            key, GNUTLS_PK_ECDSA,
            GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
        gnutls_x509_crt_init(&crt) < 0 ||
        gnutls_x509_crt_set_version(crt, 3) < 0 ||
        gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
        gnutls_x509_crt_set_activation_time(crt, now - 3600) < 0 ||
        gnutls_x509_crt_set_expiration_time(crt, now + (time_t)TLS_VALID_DAYS *
                                                           86400) < 0 ||
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                      base_domain,
                                      (unsigned)strlen(base_domain)) < 0 ||
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
                                      "coffre self-signed", 18) < 0 ||
        gnutls_x509_crt_set_subject_alt_name(
            crt, GNUTLS_SAN_DNSNAME, base_domain, (unsigned)strlen(base_domain),
            GNUTLS_FSAN_APPEND) < 0 ||
        gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, wildcard,
                                             (unsigned)strlen(wildcard),
                                             GNUTLS_FSAN_APPEND) < 0 ||
        gnutls_x509_crt_set_key(crt, key) < 0 ||
        gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
        gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
        gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) <
            0 ||
        gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0 ||
        gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem) < 0 ||
        gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem) < 0) {
        goto out;
    }
    rc = tls_write_file(key_path, &kpem, 0600);
    if (rc == CF_OK) {
        rc = tls_write_file(cert_path, &cpem, 0644);
    }
out:
    if (kpem.data != NULL) {
        cf_memzero(kpem.data, kpem.size);
        gnutls_free(kpem.data);
    }
    gnutls_free(cpem.data);
    if (crt != NULL) {
        gnutls_x509_crt_deinit(crt);
    }
    if (key != NULL) {
        gnutls_x509_privkey_deinit(key);
    }
    return rc;
}

static enum cf_rc
tls_path(char *out, const char *datadir, const char *conf, const char *def)
{
    int n;

    if (conf[0] == '/') {
        n = snprintf(out, PATH_MAX, "%s", conf);
    } else if (conf[0] != '\0') {
        n = snprintf(out, PATH_MAX, "%s/%s", datadir, conf);
    } else {
        n = snprintf(out, PATH_MAX, "%s/tls/%s", datadir, def);
    }
    return n > 0 && n < PATH_MAX ? CF_OK : CF_ERR(CF_EINVAL);
}

enum cf_rc
http_tls_ensure(const char *datadir, const struct cf_config *cfg,
                char *cert_path, char *key_path, bool *generated, char *err,
                size_t errlen)
{
    char dir[PATH_MAX];
    bool configured = cfg->tls_cert_file[0] || cfg->tls_key_file[0];
    enum cf_rc rc;

    *generated = false;
    if (configured && !(cfg->tls_cert_file[0] && cfg->tls_key_file[0])) {
        snprintf(err, errlen, "set both [tls] cert_file and key_file");
        return CF_ERR(CF_EINVAL);
    }
    if (tls_path(cert_path, datadir, cfg->tls_cert_file, "cert.pem") != CF_OK ||
        tls_path(key_path, datadir, cfg->tls_key_file, "key.pem") != CF_OK) {
        snprintf(err, errlen, "certificate path too long");
        return CF_ERR(CF_EINVAL);
    }
    if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0) {
        return CF_OK;
    }
    if (configured) {
        snprintf(err, errlen, "cannot read certificate %s or key %s", cert_path,
                 key_path);
        return CF_ERR(CF_EIO);
    }
    snprintf(dir, sizeof(dir), "%s/tls", datadir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return CF_ERR(CF_EIO);
    }
    rc = tls_generate(cfg->base_domain, cert_path, key_path);
    if (rc != CF_OK) {
        snprintf(err, errlen, "cannot generate a self-signed certificate in %s",
                 dir);
        return rc;
    }
    *generated = true;
    return CF_OK;
}
