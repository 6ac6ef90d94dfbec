/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The master key: created once in the data directory, either as 32 random
 * bytes in master.key or as a passphrase file master.pass from which
 * Argon2id derives the key; loaded into sodium_malloc'd memory that stays
 * PROT_NONE except while a wrap or unwrap uses it (OpenSSH key shielding is
 * the model). Key files must be private to their owner: a file that group or
 * others can reach is refused with the chmod that fixes it.
 *
 * master.pass holds no key, only what is needed to re-derive and recognise
 * it (76 bytes, integers big-endian):
 *   magic "CXMPASS1" (8) | alg (4) | opslimit (8) | memlimit (8) |
 *   salt (16) | check (32)
 * where check = crypto_kdf_derive_from_key(32, 1, "coffremc", master key).
 * The check value tells a wrong passphrase (CF_EAUTH) from damaged data
 * without revealing the key. New files use Argon2id with the MODERATE limits
 * (0.5 s and 256 MiB here, once per start): the passphrase is typed by
 * people and guarded by nothing else. The limits are stored, so they can
 * be raised later without breaking old files.
 */
#include "core/compat.h"

#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "crypto/crypto_int.h"

#define KR_PASS_MAGIC_BYTES 8
#define KR_PASS_OFF_ALG 8
#define KR_PASS_OFF_OPS 12
#define KR_PASS_OFF_MEM 20
#define KR_PASS_OFF_SALT 28
#define KR_PASS_OFF_CHECK (KR_PASS_OFF_SALT + crypto_pwhash_SALTBYTES)
#define KR_CHECK_BYTES 32
#define KR_PASS_BYTES (KR_PASS_OFF_CHECK + KR_CHECK_BYTES)
#define KR_CHECK_CONTEXT "coffremc"
#define KR_CHECK_ID 1

/* Stored limits outside these bounds mean a damaged or hostile file; the
 * upper bounds keep such a file from stalling a start for minutes. */
#define KR_OPS_MAX (4ULL * crypto_pwhash_OPSLIMIT_SENSITIVE)
#define KR_MEM_MAX (4ULL * crypto_pwhash_MEMLIMIT_SENSITIVE)

_Static_assert(KR_PASS_OFF_SALT == KR_PASS_OFF_MEM + 8, "pass layout");
_Static_assert(KR_PASS_BYTES == 76, "pass layout");
_Static_assert(CX_KEY_BYTES == crypto_kdf_KEYBYTES, "key size");

/* Not a string: no NUL is stored. */
static const unsigned char kr_pass_magic[KR_PASS_MAGIC_BYTES] = {
    'C', 'X', 'M', 'P', 'A', 'S', 'S', '1'};

struct cx_keyring {
    unsigned char *key; /* sodium_malloc'd; PROT_NONE while users == 0 */
    pthread_mutex_t lock;
    bool lock_ready;
    unsigned long users; /* borrows in progress; guarded by lock */
};

/* Limits for new passphrase files; 0 means the MODERATE defaults. */
static unsigned long long kr_new_opslimit;
static size_t kr_new_memlimit;

void
cx_master_limits_set(unsigned long long opslimit, size_t memlimit)
{
    kr_new_opslimit = opslimit;
    kr_new_memlimit = memlimit;
}

static void kr_msg(char *err, size_t errlen, const char *fmt, ...)
    CF_PRINTF(3, 4);

static void
kr_msg(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Thread-safe description of errno value e; never NULL. */
static const char *
kr_errstr(int e)
{
    const char *s = strerrordesc_np(e);

    return s != NULL ? s : "unknown error";
}

/* path = datadir "/" name, without the trailing slashes of datadir. */
static enum cf_rc
kr_path(const char *datadir, const char *name, char path[PATH_MAX])
{
    size_t dlen;
    int n;

    if (datadir == NULL || datadir[0] == '\0') {
        return CF_ERR(CF_EINVAL);
    }
    dlen = strlen(datadir);
    while (dlen > 1 && datadir[dlen - 1] == '/') {
        dlen--;
    }
    if (dlen > INT_MAX) {
        return CF_ERR(CF_EINVAL);
    }
    if (dlen == 1 && datadir[0] == '/') {
        dlen = 0;
    }
    n = snprintf(path, PATH_MAX, "%.*s/%s", (int)dlen, datadir, name);
    if (n < 0 || n >= PATH_MAX) {
        return CF_ERR(CF_EINVAL);
    }
    return CF_OK;
}

/* *out = whether a directory entry exists at path (a dangling symlink
 * counts: it is not ours to replace). */
static enum cf_rc
kr_exists(const char *path, bool *out)
{
    struct stat st;
    enum cf_rc rc;
    int e;

    if (lstat(path, &st) == 0) {
        *out = true;
        return CF_OK;
    }
    e = errno;
    if (e == ENOENT || e == ENOTDIR) {
        *out = false;
        return CF_OK;
    }
    rc = CF_ERR(CF_EIO);
    errno = e; /* for the caller's message */
    return rc;
}

/* Make the entries of datadir durable; errno tells why on failure. */
static enum cf_rc
kr_fsync_dir(const char *datadir)
{
    enum cf_rc rc = CF_EINTERNAL;
    int fd = -1;
    int e = 0;

    fd = open(datadir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    if (fsync(fd) != 0) {
        e = errno;
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    rc = CF_OK;
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    errno = e;
    return rc;
}

/*
 * Create path (which must not exist) with mode 0600 whatever the umask,
 * write p, and make the file and its directory entry durable. On failure
 * the half-written file is removed so that a retry starts clean.
 */
static enum cf_rc
kr_write_new(const char *datadir, const char *path, const void *p, size_t n)
{
    enum cf_rc rc = CF_EINTERNAL;
    int fd = -1;
    int e = 0;
    bool created = false;
    size_t off = 0;
    ssize_t w;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              S_IRUSR | S_IWUSR);
    if (fd < 0) {
        e = errno;
        rc = e == EEXIST ? CF_ERR(CF_ECONFLICT) : CF_ERR(CF_EIO);
        goto out;
    }
    created = true;
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
        e = errno;
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    while (off < n) {
        w = write(fd, (const unsigned char *)p + off, n - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            e = w == 0 ? EIO : errno;
            rc = CF_ERR(CF_EIO);
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        e = errno;
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    w = close(fd);
    fd = -1;
    if (w != 0) {
        e = errno;
        rc = CF_ERR(CF_EIO);
        goto out;
    }
    rc = kr_fsync_dir(datadir);
    if (rc != CF_OK) {
        e = errno;
        goto out;
    }
    rc = CF_OK;
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    if (rc != CF_OK) {
        cf_log_error_rc(rc, "cannot create master key file", "path", path,
                        "error", kr_errstr(e));
    }
    if (rc != CF_OK && created) {
        (void)unlink(path);
    }
    return rc;
}

/*
 * Read exactly len bytes from the private file path into buf. `what` names
 * the file in messages. Refuses a file that group or others can reach
 * (CF_EPERM), that is not a regular file or has the wrong size
 * (CF_ECRYPTO).
 */
static enum cf_rc
kr_read_private(const char *path, const char *what, unsigned char *buf,
                size_t len, char *err, size_t errlen)
{
    enum cf_rc rc = CF_EINTERNAL;
    int fd = -1;
    int e = 0;
    struct stat st;
    size_t off = 0;
    ssize_t r;
    unsigned char extra;

    /* O_NONBLOCK: a FIFO in the key's place must not hang the start */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        e = errno;
        if (e == ENOENT) {
            rc = CF_ERR(CF_ENOTFOUND);
        } else if (e == EACCES) {
            rc = CF_ERR(CF_EPERM);
        } else {
            rc = CF_ERR(CF_EIO);
        }
        kr_msg(err, errlen, "cannot open %s %s: %s", what, path, kr_errstr(e));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        e = errno;
        rc = CF_ERR(CF_EIO);
        kr_msg(err, errlen, "cannot stat %s %s: %s", what, path, kr_errstr(e));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = CF_ERR(CF_ECRYPTO);
        kr_msg(err, errlen, "%s %s is not a regular file", what, path);
        goto out;
    }
    /* COMMITMENT D3: the key file is private to its owner. */
    if ((st.st_mode & 077) != 0) {
        rc = CF_ERR(CF_EPERM);
        kr_msg(err, errlen,
               "%s %s is readable or writable by group or others "
               "(mode %04o); run chmod 600 %s",
               what, path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size != len) {
        rc = CF_ERR(CF_ECRYPTO);
        kr_msg(err, errlen,
               "%s %s has %lld bytes instead of %zu: it is damaged or not a "
               "coffre master key file",
               what, path, (long long)st.st_size, len);
        goto out;
    }
    while (off < len) {
        r = read(fd, buf + off, len - off);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            e = errno;
            rc = CF_ERR(CF_EIO);
            kr_msg(err, errlen, "cannot read %s %s: %s", what, path,
                   kr_errstr(e));
            goto out;
        }
        if (r == 0) {
            break;
        }
        off += (size_t)r;
    }
    do {
        r = read(fd, &extra, 1);
    } while (r < 0 && errno == EINTR);
    if (off != len || r != 0) {
        rc = CF_ERR(CF_ECRYPTO);
        kr_msg(err, errlen, "%s %s changed size while being read", what, path);
        goto out;
    }
    rc = CF_OK;
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    return rc;
}

/* The check value stored in master.pass for the master key mk. */
static enum cf_rc
kr_check_value(const unsigned char *mk, unsigned char check[KR_CHECK_BYTES])
{
    if (crypto_kdf_derive_from_key(check, KR_CHECK_BYTES, KR_CHECK_ID,
                                   KR_CHECK_CONTEXT, mk) != 0) {
        return CF_ERR(CF_ECRYPTO);
    }
    return CF_OK;
}

/* The passphrase from the environment, or NULL if unset or empty. */
static const char *
kr_passphrase(void)
{
    const char *pass = getenv(CX_PASSPHRASE_ENV);

    return pass != NULL && pass[0] != '\0' ? pass : NULL;
}

static enum cf_rc
kr_pwhash(unsigned char *mk, const char *pass, const unsigned char *salt,
          unsigned long long ops, size_t mem)
{
    if (crypto_pwhash(mk, CX_KEY_BYTES, pass, strlen(pass), salt, ops, mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        /* the limits are in range: only memory can be missing */
        return CF_ERR(CF_ENOMEM);
    }
    return CF_OK;
}

/* Build the master.pass record for pass into rec. */
static enum cf_rc
kr_pass_new(const char *pass, unsigned char rec[KR_PASS_BYTES])
{
    enum cf_rc rc = CF_EINTERNAL;
    unsigned char *mk = NULL;
    unsigned long long ops = crypto_pwhash_OPSLIMIT_MODERATE;
    size_t mem = crypto_pwhash_MEMLIMIT_MODERATE;

    if (kr_new_opslimit != 0) {
        ops = kr_new_opslimit;
    }
    if (kr_new_memlimit != 0) {
        mem = kr_new_memlimit;
    }
    mk = sodium_malloc(CX_KEY_BYTES);
    if (mk == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    memcpy(rec, kr_pass_magic, KR_PASS_MAGIC_BYTES);
    cx_put_be32(rec + KR_PASS_OFF_ALG, crypto_pwhash_ALG_ARGON2ID13);
    cx_put_be64(rec + KR_PASS_OFF_OPS, ops);
    cx_put_be64(rec + KR_PASS_OFF_MEM, mem);
    randombytes_buf(rec + KR_PASS_OFF_SALT, crypto_pwhash_SALTBYTES);
    rc = kr_pwhash(mk, pass, rec + KR_PASS_OFF_SALT, ops, mem);
    if (rc != CF_OK) {
        cf_log_error_rc(rc, "cannot derive the master key from the passphrase",
                        "hint", "argon2id needs 256 MiB of memory");
        goto out;
    }
    rc = kr_check_value(mk, rec + KR_PASS_OFF_CHECK);
    if (rc != CF_OK) {
        goto out;
    }
    rc = CF_OK;
out:
    sodium_free(mk);
    return rc;
}

enum cf_rc
cx_master_create(const char *datadir)
{
    enum cf_rc rc = CF_EINTERNAL;
    char kpath[PATH_MAX];
    char ppath[PATH_MAX];
    const char *pass = kr_passphrase();
    const char *path = NULL;
    unsigned char *mk = NULL;
    unsigned char rec[KR_PASS_BYTES];
    bool kexists = false;
    bool pexists = false;

    rc = kr_path(datadir, CX_MASTER_KEY_FILE, kpath);
    if (rc != CF_OK) {
        goto out;
    }
    rc = kr_path(datadir, CX_MASTER_PASS_FILE, ppath);
    if (rc != CF_OK) {
        goto out;
    }
    rc = kr_exists(kpath, &kexists);
    if (rc != CF_OK) {
        goto out;
    }
    rc = kr_exists(ppath, &pexists);
    if (rc != CF_OK) {
        goto out;
    }
    if (kexists || pexists) {
        rc = CF_ERR(CF_ECONFLICT);
        cf_log_error_rc(rc, "refusing to replace the master key", "path",
                        kexists ? kpath : ppath);
        goto out;
    }
    if (pass != NULL) {
        path = ppath;
        rc = kr_pass_new(pass, rec);
        if (rc != CF_OK) {
            goto out;
        }
        rc = kr_write_new(datadir, ppath, rec, sizeof(rec));
        if (rc != CF_OK) {
            goto out;
        }
    } else {
        path = kpath;
        mk = sodium_malloc(CX_KEY_BYTES);
        if (mk == NULL) {
            rc = CF_ERR(CF_ENOMEM);
            goto out;
        }
        randombytes_buf(mk, CX_KEY_BYTES);
        rc = kr_write_new(datadir, kpath, mk, CX_KEY_BYTES);
        if (rc != CF_OK) {
            goto out;
        }
    }
    cf_log_info("master key created", "path", path, "mode",
                pass != NULL ? "passphrase" : "key file");
    rc = CF_OK;
out:
    sodium_free(mk);
    return rc;
}

bool
cx_master_exists(const char *datadir)
{
    char path[PATH_MAX];
    bool exists = false;

    if (kr_path(datadir, CX_MASTER_KEY_FILE, path) == CF_OK &&
        kr_exists(path, &exists) == CF_OK && exists) {
        return true;
    }
    if (kr_path(datadir, CX_MASTER_PASS_FILE, path) == CF_OK &&
        kr_exists(path, &exists) == CF_OK && exists) {
        return true;
    }
    return false;
}

/* Derive the master key into mk from the passphrase file ppath. */
static enum cf_rc
kr_pass_open(const char *ppath, unsigned char *mk, char *err, size_t errlen)
{
    enum cf_rc rc = CF_EINTERNAL;
    unsigned char rec[KR_PASS_BYTES];
    unsigned char check[KR_CHECK_BYTES];
    const char *pass = NULL;
    unsigned long long ops;
    unsigned long long mem;

    rc = kr_read_private(ppath, "master key passphrase file", rec, sizeof(rec),
                         err, errlen);
    if (rc != CF_OK) {
        goto out;
    }
    ops = cx_get_be64(rec + KR_PASS_OFF_OPS);
    mem = cx_get_be64(rec + KR_PASS_OFF_MEM);
    if (memcmp(rec, kr_pass_magic, KR_PASS_MAGIC_BYTES) != 0 ||
        cx_get_be32(rec + KR_PASS_OFF_ALG) != crypto_pwhash_ALG_ARGON2ID13 ||
        ops < crypto_pwhash_OPSLIMIT_MIN || ops > KR_OPS_MAX ||
        mem < crypto_pwhash_MEMLIMIT_MIN || mem > KR_MEM_MAX ||
        mem > SIZE_MAX) {
        rc = CF_ERR(CF_ECRYPTO);
        kr_msg(err, errlen,
               "master key passphrase file %s is damaged or of an unknown "
               "version",
               ppath);
        goto out;
    }
    pass = kr_passphrase();
    if (pass == NULL) {
        rc = CF_ERR(CF_EAUTH);
        kr_msg(err, errlen,
               "master key %s is protected by a passphrase; set %s", ppath,
               CX_PASSPHRASE_ENV);
        goto out;
    }
    rc = kr_pwhash(mk, pass, rec + KR_PASS_OFF_SALT, ops, (size_t)mem);
    if (rc != CF_OK) {
        kr_msg(err, errlen,
               "cannot derive the master key of %s: out of memory (Argon2id "
               "needs %llu MiB)",
               ppath, mem >> 20);
        goto out;
    }
    rc = kr_check_value(mk, check);
    if (rc != CF_OK) {
        goto out;
    }
    /* COMMITMENT D3: a wrong passphrase is told apart, never used. */
    if (sodium_memcmp(check, rec + KR_PASS_OFF_CHECK, KR_CHECK_BYTES) != 0) {
        rc = CF_ERR(CF_EAUTH);
        kr_msg(err, errlen, "wrong passphrase for master key %s (%s)", ppath,
               CX_PASSPHRASE_ENV);
        goto out;
    }
    rc = CF_OK;
out:
    sodium_memzero(check, sizeof(check));
    return rc;
}

enum cf_rc
cx_keyring_open(const char *datadir, char *err, size_t errlen,
                struct cx_keyring **out)
{
    enum cf_rc rc = CF_EINTERNAL;
    struct cx_keyring *kr = NULL;
    char kpath[PATH_MAX];
    char ppath[PATH_MAX];
    bool kexists = false;
    bool pexists = false;
    int e = 0;

    kr_msg(err, errlen, "%s", "");
    rc = kr_path(datadir, CX_MASTER_KEY_FILE, kpath);
    if (rc == CF_OK) {
        rc = kr_path(datadir, CX_MASTER_PASS_FILE, ppath);
    }
    if (rc != CF_OK) {
        kr_msg(err, errlen, "data directory path is empty or too long");
        goto out;
    }
    rc = kr_exists(kpath, &kexists);
    if (rc == CF_OK) {
        rc = kr_exists(ppath, &pexists);
    }
    if (rc != CF_OK) {
        e = errno; /* kept by kr_exists() */
        kr_msg(err, errlen, "cannot look for the master key in %s: %s", datadir,
               kr_errstr(e));
        goto out;
    }
    if (!kexists && !pexists) {
        rc = CF_ERR(CF_ENOTFOUND);
        kr_msg(err, errlen, "no master key in %s (neither %s nor %s)", datadir,
               CX_MASTER_KEY_FILE, CX_MASTER_PASS_FILE);
        goto out;
    }
    if (kexists && pexists) {
        rc = CF_ERR(CF_ECONFLICT);
        kr_msg(err, errlen,
               "both %s and %s exist; coffre never creates both: remove the "
               "one that is not the master key",
               kpath, ppath);
        goto out;
    }
    kr = cf_calloc(1, sizeof(*kr));
    if (kr == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        kr_msg(err, errlen, "out of memory");
        goto out;
    }
    if (pthread_mutex_init(&kr->lock, NULL) != 0) {
        rc = CF_ERR(CF_ENOMEM);
        kr_msg(err, errlen, "out of memory");
        goto out;
    }
    kr->lock_ready = true;
    /* COMMITMENT D3: guard pages, mlock, wiped by sodium_free */
    kr->key = sodium_malloc(CX_KEY_BYTES);
    if (kr->key == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        kr_msg(err, errlen, "out of memory");
        goto out;
    }
    if (kexists) {
        rc = kr_read_private(kpath, "master key", kr->key, CX_KEY_BYTES, err,
                             errlen);
    } else {
        rc = kr_pass_open(ppath, kr->key, err, errlen);
    }
    if (rc != CF_OK) {
        goto out;
    }
    /* COMMITMENT D3: unreadable except while a wrap or unwrap uses it */
    if (sodium_mprotect_noaccess(kr->key) != 0) {
        e = errno;
        rc = CF_ERR(CF_EINTERNAL);
        kr_msg(err, errlen, "cannot protect the master key memory: %s",
               kr_errstr(e));
        goto out;
    }
    *out = kr;
    kr = NULL; /* transferred */
    rc = CF_OK;
out:
    cx_keyring_free(kr);
    return rc;
}

void
cx_keyring_free(struct cx_keyring *kr)
{
    if (kr == NULL) {
        return;
    }
    (void)CF_NEVER(kr->users != 0); /* a borrow outlived the keyring */
    sodium_free(kr->key);           /* wipes, whatever the protection */
    if (kr->lock_ready) {
        (void)pthread_mutex_destroy(&kr->lock);
    }
    cf_free(kr);
}

static void
kr_lock(struct cx_keyring *kr)
{
    if (pthread_mutex_lock(&kr->lock) != 0) {
        CF_BUG("master key lock failed");
    }
}

static void
kr_unlock(struct cx_keyring *kr)
{
    if (pthread_mutex_unlock(&kr->lock) != 0) {
        CF_BUG("master key unlock failed");
    }
}

enum cf_rc
cx_keyring_key_get(const struct cx_keyring *kr, const unsigned char **out)
{
    /* The lock and the use counter are the only state that changes; the
     * keyring is always a heap object, so dropping const is defined. */
    struct cx_keyring *k = (struct cx_keyring *)kr;
    enum cf_rc rc = CF_EINTERNAL;

    kr_lock(k);
    if (k->users == 0 && sodium_mprotect_readonly(k->key) != 0) {
        int e = errno;

        rc = CF_ERR(CF_EINTERNAL);
        cf_log_error_rc(rc, "cannot unprotect the master key memory", "error",
                        kr_errstr(e));
        goto out;
    }
    k->users++;
    *out = k->key;
    rc = CF_OK;
out:
    kr_unlock(k);
    return rc;
}

void
cx_keyring_key_put(const struct cx_keyring *kr)
{
    struct cx_keyring *k = (struct cx_keyring *)kr; /* see _get */

    kr_lock(k);
    if (CF_ALWAYS(k->users > 0)) {
        k->users--;
        if (k->users == 0 && sodium_mprotect_noaccess(k->key) != 0) {
            /* fail safe is impossible here: the key stays readable */
            cf_log_error("cannot protect the master key memory", "error",
                         kr_errstr(errno));
        }
    }
    kr_unlock(k);
}
