/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Unit tests of crypto/: known-answer vectors for the stored formats, the
 * wrap/unwrap and field round trips, tamper tests that expect CF_ECRYPTO,
 * the master key files (modes, sizes, passphrase mode), the protection of
 * the master key memory, concurrent use, and an allocation-failure loop.
 * Every test works in its own mkdtemp directory under /tmp.
 */
#include "core/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "crypto/crypto_int.h"

#define TEST_ERR_LEN 512
#define TEST_TENANT 42
#define TEST_VERSION 7
/* Small Argon2id limits for passphrase tests (libsodium minimum ops). */
#define TEST_PW_OPS 1ULL
#define TEST_PW_MEM ((size_t)1 << 20)

/*
 * Known-answer vectors, computed with an implementation independent of
 * libsodium: Python's hashlib.blake2b (key, salt = sub-key id as LE64 and 8
 * zero bytes, person = "coffredk" and 8 zero bytes) for crypto_kdf, and
 * HChaCha20 written by hand plus the ChaCha20-Poly1305 of the
 * "cryptography" package for XChaCha20-Poly1305. Inputs: master key
 * 00..1f, data key 20..3f, tenant 42, version 7, wrap nonce 40..57, field
 * nonce 60..77, plaintext "alice@example.com", AD "users.email.1".
 */
static const unsigned char kat_wrapped[CX_WRAPPED_KEY_BYTES] =
    "\x40\x41\x42\x43\x44\x45\x46\x47\x48\x49\x4a\x4b"
    "\x4c\x4d\x4e\x4f\x50\x51\x52\x53\x54\x55\x56\x57"
    "\xf4\x18\x27\x53\xf4\xc5\x5f\x31\xa7\xdd\xad\x95"
    "\x83\xb1\x4b\xbd\xa2\x8b\x9f\xf7\x27\x6c\x65\xad"
    "\x52\x08\xc7\x7e\x35\x39\x1d\xaf\xb0\x5e\x71\xf3"
    "\x53\xd0\x72\x85\x70\x79\x75\x13\x1f\x26\xc0\x01";
static const unsigned char kat_field_key[CX_KEY_BYTES] =
    "\x9d\x0b\x2b\x7a\x7f\x04\xf7\x1f\xa4\xe5\xeb\x4b"
    "\x04\x6d\xbd\xe0\x3b\x9d\x99\xaa\xca\x37\xbb\xdf"
    "\xea\xb2\xc2\x22\x4b\x95\x58\x14";
static const unsigned char kat_blob_key[CX_KEY_BYTES] =
    "\x93\xea\x72\xb3\x07\x3e\xc6\xef\xc2\xef\x5e\x76"
    "\xf2\x81\xd3\x71\x42\x6a\x4f\x10\xcf\xbf\x87\xd9"
    "\xd7\x12\x8e\xe8\x66\xf0\x3d\xb9";
static const unsigned char kat_field_ct[57] =
    "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b"
    "\x6c\x6d\x6e\x6f\x70\x71\x72\x73\x74\x75\x76\x77"
    "\x15\x4d\x68\xf6\x56\x4c\x52\x36\x4d\x8b\x29\x1a"
    "\x32\xaf\x96\xda\xc3\x1e\x29\xd3\xd9\x20\xc6\x65"
    "\x77\xdc\x89\xfe\xe0\xfd\x24\x64\x44";
static const char kat_pt[] = "alice@example.com";
static const char kat_ad[] = "users.email.1";

/* ---- helpers ------------------------------------------------------ */

#define TDIR_LEN 64
#define TDIR_MAX 64

struct tdir {
    char path[TDIR_LEN];
};

/* Directories not yet removed, for the group teardown after a failure. */
static char tdir_left[TDIR_MAX][TDIR_LEN];

static void
tdir_make(struct tdir *d)
{
    int n = snprintf(d->path, sizeof(d->path), "/tmp/cx-test-XXXXXX");
    size_t i;

    assert_true(n > 0 && (size_t)n < sizeof(d->path));
    assert_non_null(mkdtemp(d->path));
    i = 0;
    while (i < TDIR_MAX && tdir_left[i][0] != '\0') {
        i++;
    }
    assert_true(i < TDIR_MAX);
    memcpy(tdir_left[i], d->path, sizeof(d->path));
}

static void
tdir_file(const struct tdir *d, const char *name, char path[PATH_MAX])
{
    int n = snprintf(path, PATH_MAX, "%s/%s", d->path, name);

    assert_true(n > 0 && n < PATH_MAX);
}

/* Remove the files a test may leave, then the directory itself. */
static void
tdir_remove(struct tdir *d)
{
    static const char *const names[] = {CX_MASTER_KEY_FILE,
                                        CX_MASTER_PASS_FILE};
    char path[PATH_MAX];
    size_t i;

    for (i = 0; i < CF_ARRAY_LEN(names); i++) {
        tdir_file(d, names[i], path);
        (void)unlink(path);
    }
    assert_int_equal(rmdir(d->path), 0);
    for (i = 0; i < TDIR_MAX; i++) {
        if (strcmp(tdir_left[i], d->path) == 0) {
            tdir_left[i][0] = '\0';
        }
    }
}

static int
tdir_rm_entry(const char *path, const struct stat *st, int flag,
              struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    (void)remove(path);
    return 0;
}

static void
write_file(const struct tdir *d, const char *name, const void *p, size_t n,
           mode_t mode)
{
    char path[PATH_MAX];
    int fd;

    tdir_file(d, name, path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
}

static size_t
read_file(const struct tdir *d, const char *name, void *p, size_t cap)
{
    char path[PATH_MAX];
    ssize_t r;
    int fd;

    tdir_file(d, name, path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    r = read(fd, p, cap);
    assert_true(r >= 0);
    assert_int_equal(close(fd), 0);
    return (size_t)r;
}

static mode_t
file_mode(const struct tdir *d, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    tdir_file(d, name, path);
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static bool
file_exists(const struct tdir *d, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    tdir_file(d, name, path);
    return lstat(path, &st) == 0;
}

/* The protection of the page holding p, from /proc/self/maps ("rw-p"). */
static void
page_perms(const void *p, char perms[5])
{
    uintptr_t a = (uintptr_t)p;
    char line[512];
    bool found = false;
    FILE *f;

    f = fopen("/proc/self/maps", "re");
    assert_non_null(f);
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        /* "lo-hi perms ..." in hex */
        char *end = NULL;
        unsigned long long lo = strtoull(line, &end, 16);
        unsigned long long hi;

        assert_true(end != NULL && *end == '-');
        hi = strtoull(end + 1, &end, 16);
        assert_true(end != NULL && *end == ' ' && strlen(end) > 5);
        if (a >= lo && a < hi) {
            memcpy(perms, end + 1, 4);
            perms[4] = '\0';
            found = true;
        }
    }
    (void)fclose(f);
    assert_true(found);
}

static void
master_create_key_mode(const struct tdir *d)
{
    assert_int_equal(unsetenv(CX_PASSPHRASE_ENV), 0);
    assert_int_equal(cx_master_create(d->path), CF_OK);
}

static struct cx_keyring *
keyring_open_ok(const struct tdir *d)
{
    struct cx_keyring *kr = NULL;
    char err[TEST_ERR_LEN];
    enum cf_rc rc;

    rc = cx_keyring_open(d->path, err, sizeof(err), &kr);
    if (rc != CF_OK) {
        fail_msg("cx_keyring_open: %s: %s", cf_rc_str(rc), err);
    }
    assert_non_null(kr);
    return kr;
}

/* A keyring over a fresh key-file master key; the directory in d. */
static struct cx_keyring *
keyring_fresh(struct tdir *d)
{
    tdir_make(d);
    master_create_key_mode(d);
    return keyring_open_ok(d);
}

static void
seal_ok(const struct cx_data_key *key, const char *ad, const char *pt,
        struct cf_buf *out)
{
    assert_int_equal(cx_field_seal(key, ad, strlen(ad), pt, strlen(pt), out),
                     CF_OK);
}

/* True if the two keys hold the same bytes (crypto_int.h layout). */
static bool
keys_equal(const struct cx_data_key *a, const struct cx_data_key *b)
{
    return cx_equal(a->key, b->key, CX_KEY_BYTES);
}

/* ---- known answers ------------------------------------------------ */

/* COMMITMENT D1: the wrapped-key, sub-key and field formats match an
 * independent implementation, byte for byte. */
static void
test_kat(void **state)
{
    struct tdir d;
    unsigned char mk[CX_KEY_BYTES];
    unsigned char dk_bytes[CX_KEY_BYTES];
    struct cx_keyring *kr = NULL;
    struct cx_data_key *dk = NULL;
    struct cx_data_key *field = NULL;
    struct cx_data_key *blob = NULL;
    struct cf_buf out;
    size_t i;

    (void)state;
    for (i = 0; i < CX_KEY_BYTES; i++) {
        mk[i] = (unsigned char)i;
        dk_bytes[i] = (unsigned char)(0x20 + i);
    }
    tdir_make(&d);
    write_file(&d, CX_MASTER_KEY_FILE, mk, sizeof(mk), 0600);
    kr = keyring_open_ok(&d);
    assert_int_equal(cx_data_key_unwrap(kr, kat_wrapped, sizeof(kat_wrapped),
                                        TEST_TENANT, TEST_VERSION, &dk),
                     CF_OK);
    assert_true(cx_equal(dk->key, dk_bytes, CX_KEY_BYTES));
    assert_int_equal(cx_data_key_derive(dk, CX_SUBKEY_FIELD, &field), CF_OK);
    assert_true(cx_equal(field->key, kat_field_key, CX_KEY_BYTES));
    assert_int_equal(cx_data_key_derive(dk, CX_SUBKEY_BLOB, &blob), CF_OK);
    assert_true(cx_equal(blob->key, kat_blob_key, CX_KEY_BYTES));

    cf_buf_init(&out, 1024);
    assert_int_equal(cx_field_open(field, kat_ad, strlen(kat_ad), kat_field_ct,
                                   sizeof(kat_field_ct), &out),
                     CF_OK);
    assert_int_equal(out.len, strlen(kat_pt));
    assert_memory_equal(out.data, kat_pt, out.len);
    cf_buf_release(&out);

    cx_data_key_free(blob);
    cx_data_key_free(field);
    cx_data_key_free(dk);
    cx_keyring_free(kr);
    tdir_remove(&d);
}

/* ---- wrap / unwrap ------------------------------------------------ */

/* COMMITMENT D1: a tenant data key is stored only wrapped by the master
 * key, and comes back intact. */
static void
test_wrap_roundtrip(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = keyring_fresh(&d);
    struct cx_data_key *dk = NULL;
    struct cx_data_key *back = NULL;
    unsigned char w[CX_WRAPPED_KEY_BYTES];
    char perms[5];

    (void)state;
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_wrap(kr, dk, TEST_TENANT, TEST_VERSION, w),
                     CF_OK);
    assert_false(cx_equal(w + 24, dk->key, CX_KEY_BYTES));
    assert_int_equal(
        cx_data_key_unwrap(kr, w, sizeof(w), TEST_TENANT, TEST_VERSION, &back),
        CF_OK);
    assert_true(keys_equal(dk, back));
    /* keys are immutable: their pages are read-only */
    page_perms(back->key, perms);
    assert_string_equal(perms, "r--p");
    /* extreme ids and versions are plain data */
    assert_int_equal(cx_data_key_wrap(kr, dk, INT64_MIN, UINT32_MAX, w), CF_OK);
    cx_data_key_free(back);
    back = NULL;
    assert_int_equal(
        cx_data_key_unwrap(kr, w, sizeof(w), INT64_MIN, UINT32_MAX, &back),
        CF_OK);
    assert_true(keys_equal(dk, back));
    cx_data_key_free(back);
    cx_data_key_free(dk);
    cx_keyring_free(kr);
    tdir_remove(&d);
}

/* COMMITMENT D1: the wrapped key is bound to its tenant. */
static void
test_wrap_wrong_tenant(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = keyring_fresh(&d);
    struct cx_data_key *dk = NULL;
    struct cx_data_key *back = NULL;
    unsigned char w[CX_WRAPPED_KEY_BYTES];

    (void)state;
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_wrap(kr, dk, TEST_TENANT, TEST_VERSION, w),
                     CF_OK);
    assert_int_equal(cx_data_key_unwrap(kr, w, sizeof(w), TEST_TENANT + 1,
                                        TEST_VERSION, &back),
                     CF_ECRYPTO);
    assert_int_equal(
        cx_data_key_unwrap(kr, w, sizeof(w), -TEST_TENANT, TEST_VERSION, &back),
        CF_ECRYPTO);
    assert_int_equal(cx_data_key_unwrap(kr, w, sizeof(w),
                                        (int64_t)TEST_TENANT << 32,
                                        TEST_VERSION, &back),
                     CF_ECRYPTO);
    assert_null(back);
    cx_data_key_free(dk);
    cx_keyring_free(kr);
    tdir_remove(&d);
}

/* COMMITMENT D1: the wrapped key is bound to its version. */
static void
test_wrap_wrong_version(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = keyring_fresh(&d);
    struct cx_data_key *dk = NULL;
    struct cx_data_key *back = NULL;
    unsigned char w[CX_WRAPPED_KEY_BYTES];

    (void)state;
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_wrap(kr, dk, TEST_TENANT, TEST_VERSION, w),
                     CF_OK);
    assert_int_equal(cx_data_key_unwrap(kr, w, sizeof(w), TEST_TENANT,
                                        TEST_VERSION + 1, &back),
                     CF_ECRYPTO);
    assert_int_equal(
        cx_data_key_unwrap(kr, w, sizeof(w), TEST_TENANT, 0, &back),
        CF_ECRYPTO);
    assert_null(back);
    cx_data_key_free(dk);
    cx_keyring_free(kr);
    tdir_remove(&d);
}

/* COMMITMENT D1: any single flipped bit, or a wrong length, is refused. */
static void
test_wrap_bitflips(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = keyring_fresh(&d);
    struct cx_data_key *dk = NULL;
    struct cx_data_key *back = NULL;
    unsigned char w[CX_WRAPPED_KEY_BYTES];
    unsigned char t[CX_WRAPPED_KEY_BYTES + 1];
    size_t bit;

    (void)state;
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_wrap(kr, dk, TEST_TENANT, TEST_VERSION, w),
                     CF_OK);
    for (bit = 0; bit < (size_t)CX_WRAPPED_KEY_BYTES * 8; bit++) {
        memcpy(t, w, sizeof(w));
        t[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_int_equal(cx_data_key_unwrap(kr, t, sizeof(w), TEST_TENANT,
                                            TEST_VERSION, &back),
                         CF_ECRYPTO);
        assert_null(back);
    }
    memcpy(t, w, sizeof(w));
    t[sizeof(w)] = 0;
    assert_int_equal(cx_data_key_unwrap(kr, t, sizeof(w) - 1, TEST_TENANT,
                                        TEST_VERSION, &back),
                     CF_ECRYPTO);
    assert_int_equal(cx_data_key_unwrap(kr, t, sizeof(w) + 1, TEST_TENANT,
                                        TEST_VERSION, &back),
                     CF_ECRYPTO);
    assert_int_equal(
        cx_data_key_unwrap(kr, t, 0, TEST_TENANT, TEST_VERSION, &back),
        CF_ECRYPTO);
    assert_null(back);
    /* the untouched copy still opens */
    assert_int_equal(
        cx_data_key_unwrap(kr, w, sizeof(w), TEST_TENANT, TEST_VERSION, &back),
        CF_OK);
    cx_data_key_free(back);
    cx_data_key_free(dk);
    cx_keyring_free(kr);
    tdir_remove(&d);
}

/* Each wrap draws a fresh nonce. */
static void
test_wrap_nonce_fresh(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = keyring_fresh(&d);
    struct cx_data_key *dk = NULL;
    unsigned char w1[CX_WRAPPED_KEY_BYTES];
    unsigned char w2[CX_WRAPPED_KEY_BYTES];

    (void)state;
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_wrap(kr, dk, TEST_TENANT, TEST_VERSION, w1),
                     CF_OK);
    assert_int_equal(cx_data_key_wrap(kr, dk, TEST_TENANT, TEST_VERSION, w2),
                     CF_OK);
    assert_memory_not_equal(w1, w2, 24);
    assert_memory_not_equal(w1 + 24, w2 + 24, sizeof(w1) - 24);
    cx_data_key_free(dk);
    cx_keyring_free(kr);
    tdir_remove(&d);
}

/* COMMITMENT D1: the data key of one data directory's master key cannot be
 * opened with another master key. */
static void
test_other_datadir_cannot_unwrap(void **state)
{
    struct tdir d1;
    struct tdir d2;
    struct cx_keyring *kr1 = keyring_fresh(&d1);
    struct cx_keyring *kr2 = keyring_fresh(&d2);
    struct cx_data_key *dk = NULL;
    struct cx_data_key *back = NULL;
    unsigned char w[CX_WRAPPED_KEY_BYTES];

    (void)state;
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_wrap(kr1, dk, TEST_TENANT, TEST_VERSION, w),
                     CF_OK);
    assert_int_equal(
        cx_data_key_unwrap(kr2, w, sizeof(w), TEST_TENANT, TEST_VERSION, &back),
        CF_ECRYPTO);
    assert_null(back);
    cx_data_key_free(dk);
    cx_keyring_free(kr2);
    cx_keyring_free(kr1);
    tdir_remove(&d2);
    tdir_remove(&d1);
}

/* ---- fields ------------------------------------------------------- */

/* COMMITMENT D1: fields are sealed with a fresh nonce and come back. */
static void
test_field_roundtrip(void **state)
{
    struct cx_data_key *key = NULL;
    struct cf_buf c1;
    struct cf_buf c2;
    struct cf_buf pt;

    (void)state;
    assert_int_equal(cx_data_key_new(&key), CF_OK);
    cf_buf_init(&c1, 4096);
    cf_buf_init(&c2, 4096);
    cf_buf_init(&pt, 4096);
    seal_ok(key, kat_ad, kat_pt, &c1);
    seal_ok(key, kat_ad, kat_pt, &c2);
    assert_int_equal(c1.len, strlen(kat_pt) + CX_FIELD_OVERHEAD);
    assert_int_equal(c2.len, c1.len);
    assert_memory_not_equal(c1.data, c2.data, c1.len);
    assert_null(memmem(c1.data, c1.len, kat_pt, strlen(kat_pt)));
    assert_int_equal(
        cx_field_open(key, kat_ad, strlen(kat_ad), c1.data, c1.len, &pt),
        CF_OK);
    assert_int_equal(pt.len, strlen(kat_pt));
    assert_string_equal(cf_buf_str(&pt), kat_pt);
    /* open appends */
    assert_int_equal(
        cx_field_open(key, kat_ad, strlen(kat_ad), c2.data, c2.len, &pt),
        CF_OK);
    assert_int_equal(pt.len, 2 * strlen(kat_pt));

    /* empty value, no associated data */
    cf_buf_reset(&c1);
    cf_buf_reset(&pt);
    assert_int_equal(cx_field_seal(key, NULL, 0, NULL, 0, &c1), CF_OK);
    assert_int_equal(c1.len, CX_FIELD_OVERHEAD);
    assert_int_equal(cx_field_open(key, NULL, 0, c1.data, c1.len, &pt), CF_OK);
    assert_int_equal(pt.len, 0);
    assert_int_equal(cx_field_open(key, "x", 1, c1.data, c1.len, &pt),
                     CF_ECRYPTO);

    /* NULL with a length is a caller bug */
    assert_int_equal(cx_field_seal(key, NULL, 3, "abc", 3, &c1), CF_EINVAL);
    assert_int_equal(cx_field_seal(key, "a", 1, NULL, 3, &c1), CF_EINVAL);
    assert_int_equal(cx_field_open(key, "a", 1, NULL, 50, &pt), CF_EINVAL);

    cf_buf_release(&pt);
    cf_buf_release(&c2);
    cf_buf_release(&c1);
    cx_data_key_free(key);
}

/* COMMITMENT D1: a value moved to another place (AD) or tampered with does
 * not open, and the output buffer is left as it was. */
static void
test_field_wrong_ad(void **state)
{
    static const char other_ad[] = "users.email.2";
    struct cx_data_key *key = NULL;
    struct cf_buf ct;
    struct cf_buf pt;
    size_t bit;

    (void)state;
    assert_int_equal(cx_data_key_new(&key), CF_OK);
    cf_buf_init(&ct, 4096);
    cf_buf_init(&pt, 4096);
    seal_ok(key, kat_ad, kat_pt, &ct);
    assert_int_equal(cf_buf_adds(&pt, "keep"), CF_OK);
    assert_int_equal(
        cx_field_open(key, other_ad, strlen(other_ad), ct.data, ct.len, &pt),
        CF_ECRYPTO);
    assert_int_equal(cx_field_open(key, NULL, 0, ct.data, ct.len, &pt),
                     CF_ECRYPTO);
    assert_int_equal(
        cx_field_open(key, kat_ad, strlen(kat_ad) - 1, ct.data, ct.len, &pt),
        CF_ECRYPTO);
    for (bit = 0; bit < ct.len * 8; bit++) {
        unsigned char *c = (unsigned char *)ct.data;

        c[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_int_equal(
            cx_field_open(key, kat_ad, strlen(kat_ad), ct.data, ct.len, &pt),
            CF_ECRYPTO);
        c[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    assert_int_equal(pt.len, 4);
    assert_string_equal(cf_buf_str(&pt), "keep");
    cf_buf_release(&pt);
    cf_buf_release(&ct);
    cx_data_key_free(key);
}

/* COMMITMENT D1: a truncated (or extended) ciphertext does not open. */
static void
test_field_truncated(void **state)
{
    struct cx_data_key *key = NULL;
    struct cf_buf ct;
    struct cf_buf pt;
    size_t len;

    (void)state;
    assert_int_equal(cx_data_key_new(&key), CF_OK);
    cf_buf_init(&ct, 4096);
    cf_buf_init(&pt, 4096);
    seal_ok(key, kat_ad, kat_pt, &ct);
    for (len = 0; len < ct.len; len++) {
        assert_int_equal(
            cx_field_open(key, kat_ad, strlen(kat_ad), ct.data, len, &pt),
            CF_ECRYPTO);
    }
    /* the buffer keeps its NUL, so one byte more is readable */
    assert_int_equal(
        cx_field_open(key, kat_ad, strlen(kat_ad), ct.data, ct.len + 1, &pt),
        CF_ECRYPTO);
    assert_int_equal(pt.len, 0);
    cf_buf_release(&pt);
    cf_buf_release(&ct);
    cx_data_key_free(key);
}

/* An append over the buffer's max is CF_ETOOBIG and releases it. */
static void
test_field_too_big(void **state)
{
    struct cx_data_key *key = NULL;
    struct cf_buf ct;

    (void)state;
    assert_int_equal(cx_data_key_new(&key), CF_OK);
    cf_buf_init(&ct, strlen(kat_pt) + CX_FIELD_OVERHEAD - 1);
    assert_int_equal(
        cx_field_seal(key, kat_ad, strlen(kat_ad), kat_pt, strlen(kat_pt), &ct),
        CF_ETOOBIG);
    assert_null(ct.data);
    assert_int_equal(ct.len, 0);
    cf_buf_release(&ct);
    cx_data_key_free(key);
}

/* ---- sub-keys ----------------------------------------------------- */

/* COMMITMENT D1: one sub-key per purpose; the same purpose gives the same
 * key; a value sealed for one purpose does not open under another. */
static void
test_derive(void **state)
{
    static const enum cx_subkey purposes[] = {
        CX_SUBKEY_FIELD,  CX_SUBKEY_BLOB,  CX_SUBKEY_BLIND_INDEX,
        CX_SUBKEY_BACKUP, CX_SUBKEY_AUDIT, CX_SUBKEY_TOKEN,
        CX_SUBKEY_CSRF};
    struct cx_data_key *dk = NULL;
    struct cx_data_key *other = NULL;
    struct cx_data_key *sub[CF_ARRAY_LEN(purposes)] = {NULL};
    struct cx_data_key *again = NULL;
    struct cx_data_key *bad = NULL;
    struct cf_buf ct;
    struct cf_buf pt;
    size_t i;
    size_t j;

    (void)state;
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_new(&other), CF_OK);
    for (i = 0; i < CF_ARRAY_LEN(purposes); i++) {
        assert_int_equal(cx_data_key_derive(dk, purposes[i], &sub[i]), CF_OK);
        assert_false(keys_equal(sub[i], dk));
    }
    for (i = 0; i < CF_ARRAY_LEN(purposes); i++) {
        for (j = i + 1; j < CF_ARRAY_LEN(purposes); j++) {
            assert_false(keys_equal(sub[i], sub[j]));
        }
    }
    assert_int_equal(cx_data_key_derive(dk, CX_SUBKEY_FIELD, &again), CF_OK);
    assert_true(keys_equal(again, sub[0]));
    cx_data_key_free(again);
    again = NULL;
    /* another data key gives other sub-keys */
    assert_int_equal(cx_data_key_derive(other, CX_SUBKEY_FIELD, &again), CF_OK);
    assert_false(keys_equal(again, sub[0]));

    cf_buf_init(&ct, 4096);
    cf_buf_init(&pt, 4096);
    seal_ok(sub[0], kat_ad, kat_pt, &ct);
    assert_int_equal(
        cx_field_open(sub[1], kat_ad, strlen(kat_ad), ct.data, ct.len, &pt),
        CF_ECRYPTO);
    assert_int_equal(
        cx_field_open(dk, kat_ad, strlen(kat_ad), ct.data, ct.len, &pt),
        CF_ECRYPTO);
    assert_int_equal(
        cx_field_open(again, kat_ad, strlen(kat_ad), ct.data, ct.len, &pt),
        CF_ECRYPTO);
    assert_int_equal(
        cx_field_open(sub[0], kat_ad, strlen(kat_ad), ct.data, ct.len, &pt),
        CF_OK);
    assert_string_equal(cf_buf_str(&pt), kat_pt);

    /* purposes outside the enum are refused */
    assert_int_equal(cx_data_key_derive(dk, (enum cx_subkey)0, &bad),
                     CF_EINVAL);
    assert_int_equal(cx_data_key_derive(dk, (enum cx_subkey)99, &bad),
                     CF_EINVAL);
    assert_null(bad);

    cf_buf_release(&pt);
    cf_buf_release(&ct);
    cx_data_key_free(again);
    for (i = 0; i < CF_ARRAY_LEN(purposes); i++) {
        cx_data_key_free(sub[i]);
    }
    cx_data_key_free(other);
    cx_data_key_free(dk);
}

/* ---- master key files --------------------------------------------- */

/* COMMITMENT D3: the key file is created 0600 whatever the umask, is
 * 32 bytes, and opens. */
static void
test_master_create_open(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = NULL;
    struct cx_keyring *kr2 = NULL;
    struct cx_data_key *dk = NULL;
    struct cx_data_key *back = NULL;
    unsigned char w[CX_WRAPPED_KEY_BYTES];
    unsigned char buf[64];
    mode_t old;

    (void)state;
    tdir_make(&d);
    assert_false(cx_master_exists(d.path));
    assert_int_equal(unsetenv(CX_PASSPHRASE_ENV), 0);
    old = umask(0);
    assert_int_equal(cx_master_create(d.path), CF_OK);
    (void)umask(old);
    assert_true(cx_master_exists(d.path));
    assert_int_equal(file_mode(&d, CX_MASTER_KEY_FILE), 0600);
    assert_false(file_exists(&d, CX_MASTER_PASS_FILE));
    assert_int_equal(read_file(&d, CX_MASTER_KEY_FILE, buf, sizeof(buf)),
                     CX_KEY_BYTES);

    kr = keyring_open_ok(&d);
    kr2 = keyring_open_ok(&d);
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_wrap(kr, dk, TEST_TENANT, TEST_VERSION, w),
                     CF_OK);
    /* a second opening of the same file is the same key */
    assert_int_equal(
        cx_data_key_unwrap(kr2, w, sizeof(w), TEST_TENANT, TEST_VERSION, &back),
        CF_OK);
    assert_true(keys_equal(dk, back));
    cx_data_key_free(back);
    cx_data_key_free(dk);
    cx_keyring_free(kr2);
    cx_keyring_free(kr);
    cx_keyring_free(NULL);

    /* a trailing slash on the directory is fine */
    {
        char dir[PATH_MAX];
        char err[TEST_ERR_LEN];
        int n = snprintf(dir, sizeof(dir), "%s/", d.path);

        assert_true(n > 0 && n < (int)sizeof(dir));
        assert_int_equal(cx_keyring_open(dir, err, sizeof(err), &kr), CF_OK);
        cx_keyring_free(kr);
    }
    tdir_remove(&d);
}

/* COMMITMENT D3: a key file that group or others can reach is refused,
 * and the message names the file and the fix. */
static void
test_master_mode_refused(void **state)
{
    static const mode_t modes[] = {0640, 0604, 0620, 0602, 0610, 0660, 0644};
    struct tdir d;
    struct cx_keyring *kr = NULL;
    char err[TEST_ERR_LEN];
    char path[PATH_MAX];
    char fix[PATH_MAX + 16];
    size_t i;

    (void)state;
    tdir_make(&d);
    master_create_key_mode(&d);
    tdir_file(&d, CX_MASTER_KEY_FILE, path);
    assert_true(snprintf(fix, sizeof(fix), "chmod 600 %s", path) > 0);
    for (i = 0; i < CF_ARRAY_LEN(modes); i++) {
        assert_int_equal(chmod(path, modes[i]), 0);
        err[0] = '\0';
        assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr),
                         CF_EPERM);
        assert_null(kr);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, fix));
        assert_non_null(strstr(err, "group or others"));
    }
    /* owner-only modes are fine */
    assert_int_equal(chmod(path, 0400), 0);
    kr = keyring_open_ok(&d);
    cx_keyring_free(kr);
    kr = NULL;
    /* a NULL or empty message buffer is allowed */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(cx_keyring_open(d.path, NULL, 0, &kr), CF_EPERM);
    assert_int_equal(cx_keyring_open(d.path, err, 1, &kr), CF_EPERM);
    assert_string_equal(err, "");
    tdir_remove(&d);
}

/* COMMITMENT D3: an existing master key is never replaced. */
static void
test_master_create_twice(void **state)
{
    struct tdir d;
    unsigned char before[CX_KEY_BYTES];
    unsigned char after[CX_KEY_BYTES];

    (void)state;
    tdir_make(&d);
    master_create_key_mode(&d);
    assert_int_equal(read_file(&d, CX_MASTER_KEY_FILE, before, sizeof(before)),
                     sizeof(before));
    assert_int_equal(cx_master_create(d.path), CF_ECONFLICT);
    /* nor by a passphrase file */
    assert_int_equal(setenv(CX_PASSPHRASE_ENV, "correct horse", 1), 0);
    assert_int_equal(cx_master_create(d.path), CF_ECONFLICT);
    assert_int_equal(unsetenv(CX_PASSPHRASE_ENV), 0);
    assert_false(file_exists(&d, CX_MASTER_PASS_FILE));
    assert_int_equal(read_file(&d, CX_MASTER_KEY_FILE, after, sizeof(after)),
                     sizeof(after));
    assert_memory_equal(before, after, sizeof(before));
    tdir_remove(&d);
}

static void
test_master_wrong_size(void **state)
{
    static const size_t sizes[] = {0, 1, CX_KEY_BYTES - 1, CX_KEY_BYTES + 1,
                                   64};
    unsigned char junk[64] = {0};
    struct tdir d;
    struct cx_keyring *kr = NULL;
    char err[TEST_ERR_LEN];
    char path[PATH_MAX];
    size_t i;

    (void)state;
    tdir_make(&d);
    tdir_file(&d, CX_MASTER_KEY_FILE, path);
    for (i = 0; i < CF_ARRAY_LEN(sizes); i++) {
        write_file(&d, CX_MASTER_KEY_FILE, junk, sizes[i], 0600);
        assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr),
                         CF_ECRYPTO);
        assert_null(kr);
        assert_non_null(strstr(err, path));
    }
    /* a directory in its place is not a key either */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr),
                     CF_ECRYPTO);
    assert_int_equal(rmdir(path), 0);
    tdir_remove(&d);
}

static void
test_master_missing(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = NULL;
    char err[TEST_ERR_LEN];
    char gone[PATH_MAX];
    char big[PATH_MAX + 16];

    (void)state;
    tdir_make(&d);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr),
                     CF_ENOTFOUND);
    assert_null(kr);
    assert_non_null(strstr(err, d.path));
    assert_false(cx_master_exists(d.path));

    tdir_file(&d, "nope", gone);
    assert_int_equal(cx_keyring_open(gone, err, sizeof(err), &kr),
                     CF_ENOTFOUND);
    assert_false(cx_master_exists(gone));
    assert_int_equal(unsetenv(CX_PASSPHRASE_ENV), 0);
    assert_int_equal(cx_master_create(gone), CF_EIO);

    /* over-long and empty paths */
    memset(big, 'a', sizeof(big) - 1);
    big[0] = '/';
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(cx_keyring_open(big, err, sizeof(err), &kr), CF_EINVAL);
    assert_int_equal(cx_master_create(big), CF_EINVAL);
    assert_false(cx_master_exists(big));
    assert_int_equal(cx_keyring_open("", err, sizeof(err), &kr), CF_EINVAL);
    assert_int_equal(cx_master_create(""), CF_EINVAL);
    tdir_remove(&d);
}

/* Both files present: refuse to guess which one is the key. */
static void
test_master_both_files(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = NULL;
    unsigned char junk[76] = {0};
    char err[TEST_ERR_LEN];

    (void)state;
    tdir_make(&d);
    master_create_key_mode(&d);
    write_file(&d, CX_MASTER_PASS_FILE, junk, sizeof(junk), 0600);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr),
                     CF_ECONFLICT);
    assert_null(kr);
    tdir_remove(&d);
}

/* COMMITMENT D3: passphrase mode stores no key; the right passphrase
 * opens the same key every time; a wrong or missing one is CF_EAUTH. */
static void
test_master_passphrase(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = NULL;
    struct cx_keyring *kr2 = NULL;
    struct cx_data_key *dk = NULL;
    struct cx_data_key *back = NULL;
    unsigned char w[CX_WRAPPED_KEY_BYTES];
    unsigned char rec[128];
    unsigned char bad[128];
    char err[TEST_ERR_LEN];
    char path[PATH_MAX];
    size_t n;

    (void)state;
    tdir_make(&d);
    tdir_file(&d, CX_MASTER_PASS_FILE, path);
    cx_master_limits_set(TEST_PW_OPS, TEST_PW_MEM);
    assert_int_equal(setenv(CX_PASSPHRASE_ENV, "correct horse battery", 1), 0);
    assert_int_equal(cx_master_create(d.path), CF_OK);
    assert_true(cx_master_exists(d.path));
    assert_false(file_exists(&d, CX_MASTER_KEY_FILE));
    assert_int_equal(file_mode(&d, CX_MASTER_PASS_FILE), 0600);
    n = read_file(&d, CX_MASTER_PASS_FILE, rec, sizeof(rec));
    assert_int_equal(n, 76);
    assert_memory_equal(rec, "CXMPASS1", 8);
    /* the stored limits: big-endian opslimit at 12, memlimit at 20 */
    assert_int_equal(cx_get_be64(rec + 12), TEST_PW_OPS);
    assert_int_equal(cx_get_be64(rec + 20), TEST_PW_MEM);
    assert_int_equal(cx_master_create(d.path), CF_ECONFLICT);

    kr = keyring_open_ok(&d);
    kr2 = keyring_open_ok(&d);
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_wrap(kr, dk, TEST_TENANT, TEST_VERSION, w),
                     CF_OK);
    assert_int_equal(
        cx_data_key_unwrap(kr2, w, sizeof(w), TEST_TENANT, TEST_VERSION, &back),
        CF_OK);
    assert_true(keys_equal(dk, back));
    cx_data_key_free(back);
    cx_keyring_free(kr2);
    kr2 = NULL;

    assert_int_equal(setenv(CX_PASSPHRASE_ENV, "correct horse battery!", 1), 0);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr2), CF_EAUTH);
    assert_null(kr2);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, CX_PASSPHRASE_ENV));
    assert_int_equal(unsetenv(CX_PASSPHRASE_ENV), 0);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr2), CF_EAUTH);
    assert_non_null(strstr(err, CX_PASSPHRASE_ENV));
    assert_int_equal(setenv(CX_PASSPHRASE_ENV, "", 1), 0);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr2), CF_EAUTH);
    assert_null(kr2);

    assert_int_equal(setenv(CX_PASSPHRASE_ENV, "correct horse battery", 1), 0);
    /* the passphrase file is private too */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr2), CF_EPERM);
    assert_non_null(strstr(err, path));
    /* a changed salt derives another key: caught by the check value */
    memcpy(bad, rec, n);
    bad[28] ^= 1;
    write_file(&d, CX_MASTER_PASS_FILE, bad, n, 0600);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr2), CF_EAUTH);
    /* damaged header, unknown algorithm, absurd limits, wrong size */
    memcpy(bad, rec, n);
    bad[0] ^= 1;
    write_file(&d, CX_MASTER_PASS_FILE, bad, n, 0600);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr2),
                     CF_ECRYPTO);
    memcpy(bad, rec, n);
    bad[11] = 1;
    write_file(&d, CX_MASTER_PASS_FILE, bad, n, 0600);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr2),
                     CF_ECRYPTO);
    memcpy(bad, rec, n);
    bad[12] = 0x80;
    write_file(&d, CX_MASTER_PASS_FILE, bad, n, 0600);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr2),
                     CF_ECRYPTO);
    memcpy(bad, rec, n);
    bad[20] = 0x80;
    write_file(&d, CX_MASTER_PASS_FILE, bad, n, 0600);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr2),
                     CF_ECRYPTO);
    write_file(&d, CX_MASTER_PASS_FILE, rec, n - 1, 0600);
    assert_int_equal(cx_keyring_open(d.path, err, sizeof(err), &kr2),
                     CF_ECRYPTO);
    assert_null(kr2);
    /* restored, it opens again */
    write_file(&d, CX_MASTER_PASS_FILE, rec, n, 0600);
    kr2 = keyring_open_ok(&d);
    cx_keyring_free(kr2);

    assert_int_equal(unsetenv(CX_PASSPHRASE_ENV), 0);
    cx_master_limits_set(0, 0);
    cx_data_key_free(dk);
    cx_keyring_free(kr);
    tdir_remove(&d);
}

/* ---- memory protection and threads -------------------------------- */

/* COMMITMENT D3: the master key pages are PROT_NONE except while a wrap
 * or unwrap borrows them. */
static void
test_master_key_noaccess(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = keyring_fresh(&d);
    struct cx_data_key *dk = NULL;
    const unsigned char *mk = NULL;
    const unsigned char *mk2 = NULL;
    unsigned char w[CX_WRAPPED_KEY_BYTES];
    char perms[5];

    (void)state;
    assert_int_equal(cx_keyring_key_get(kr, &mk), CF_OK);
    page_perms(mk, perms);
    assert_string_equal(perms, "r--p");
    /* nested borrows keep it readable until the last one ends */
    assert_int_equal(cx_keyring_key_get(kr, &mk2), CF_OK);
    assert_ptr_equal(mk, mk2);
    cx_keyring_key_put(kr);
    page_perms(mk, perms);
    assert_string_equal(perms, "r--p");
    cx_keyring_key_put(kr);
    page_perms(mk, perms);
    assert_string_equal(perms, "---p");

    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    assert_int_equal(cx_data_key_wrap(kr, dk, TEST_TENANT, TEST_VERSION, w),
                     CF_OK);
    page_perms(mk, perms);
    assert_string_equal(perms, "---p");
    cx_data_key_free(dk);
    cx_keyring_free(kr);
    tdir_remove(&d);
}

#define THREADS 8
#define THREAD_ROUNDS 200

struct thread_arg {
    const struct cx_keyring *kr;
    const struct cx_data_key *dk;
    int64_t tenant;
    int failures;
};

static void *
thread_main(void *p)
{
    struct thread_arg *a = p;
    unsigned char w[CX_WRAPPED_KEY_BYTES];
    struct cx_data_key *back = NULL;
    int i;

    for (i = 0; i < THREAD_ROUNDS; i++) {
        if (cx_data_key_wrap(a->kr, a->dk, a->tenant, (uint32_t)i, w) !=
            CF_OK) {
            a->failures++;
            continue;
        }
        if (cx_data_key_unwrap(a->kr, w, sizeof(w), a->tenant, (uint32_t)i,
                               &back) != CF_OK ||
            !keys_equal(a->dk, back)) {
            a->failures++;
        }
        cx_data_key_free(back);
        back = NULL;
    }
    return NULL;
}

/* One keyring shared by threads that wrap and unwrap at once. */
static void
test_threads(void **state)
{
    struct tdir d;
    struct cx_keyring *kr = keyring_fresh(&d);
    struct cx_data_key *dk = NULL;
    struct thread_arg args[THREADS];
    pthread_t tids[THREADS];
    const unsigned char *mk = NULL;
    char perms[5];
    int i;

    (void)state;
    assert_int_equal(cx_data_key_new(&dk), CF_OK);
    for (i = 0; i < THREADS; i++) {
        args[i].kr = kr;
        args[i].dk = dk;
        args[i].tenant = i + 1;
        args[i].failures = 0;
        assert_int_equal(pthread_create(&tids[i], NULL, thread_main, &args[i]),
                         0);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(tids[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
    assert_int_equal(cx_keyring_key_get(kr, &mk), CF_OK);
    cx_keyring_key_put(kr);
    page_perms(mk, perms);
    assert_string_equal(perms, "---p");
    cx_data_key_free(dk);
    cx_keyring_free(kr);
    tdir_remove(&d);
}

/* ---- allocation failures ------------------------------------------ */

/* Fail the n-th allocation for every n: a clean CF_ENOMEM, nothing leaked
 * (LeakSanitizer checks at exit), and the buffer either as it was or
 * released. */
static void
test_alloc_fail(void **state)
{
    struct tdir d;
    struct cx_data_key *key = NULL;
    struct cx_keyring *kr = NULL;
    struct cf_buf ct;
    struct cf_buf b;
    char err[TEST_ERR_LEN];
    char big[200];
    char huge[1500];
    enum cf_rc rc;
    long n;

    (void)state;
    assert_int_equal(cx_data_key_new(&key), CF_OK);
    cf_buf_init(&ct, 4096);
    seal_ok(key, kat_ad, kat_pt, &ct);

    /* a value long enough that the buffer must grow */
    memset(big, 'v', sizeof(big));
    for (n = 0;; n++) {
        cf_buf_init(&b, 4096);
        assert_int_equal(cf_buf_adds(&b, "keep"), CF_OK);
        cf_mem_fail_after(n);
        rc = cx_field_seal(key, kat_ad, strlen(kat_ad), big, sizeof(big), &b);
        cf_mem_fail_after(-1);
        assert_true(rc == CF_OK || rc == CF_ENOMEM);
        if (rc == CF_ENOMEM) {
            assert_true(b.len == 0 || strcmp(cf_buf_str(&b), "keep") == 0);
        } else {
            assert_int_equal(b.len, 4 + sizeof(big) + CX_FIELD_OVERHEAD);
        }
        cf_buf_release(&b);
        if (rc == CF_OK) {
            break;
        }
    }
    assert_true(n >= 2); /* the temporary and the buffer's growth */

    /* a field over 1 KiB opens through a temporary on the heap (shorter
     * ones on the stack), then the buffer grows */
    cf_buf_reset(&ct);
    memset(huge, 'h', sizeof(huge));
    assert_int_equal(
        cx_field_seal(key, kat_ad, strlen(kat_ad), huge, sizeof(huge), &ct),
        CF_OK);
    for (n = 0;; n++) {
        cf_buf_init(&b, 4096);
        assert_int_equal(cf_buf_adds(&b, "keep"), CF_OK);
        cf_mem_fail_after(n);
        rc = cx_field_open(key, kat_ad, strlen(kat_ad), ct.data, ct.len, &b);
        cf_mem_fail_after(-1);
        assert_true(rc == CF_OK || rc == CF_ENOMEM);
        if (rc == CF_ENOMEM) {
            assert_true(b.len == 0 || strcmp(cf_buf_str(&b), "keep") == 0);
        } else {
            assert_int_equal(b.len, 4 + sizeof(huge));
        }
        cf_buf_release(&b);
        if (rc == CF_OK) {
            break;
        }
    }
    assert_true(n >= 2); /* the temporary and the buffer's growth */

    tdir_make(&d);
    master_create_key_mode(&d);
    for (n = 0;; n++) {
        cf_mem_fail_after(n);
        rc = cx_keyring_open(d.path, err, sizeof(err), &kr);
        cf_mem_fail_after(-1);
        assert_true(rc == CF_OK || rc == CF_ENOMEM);
        if (rc == CF_OK) {
            break;
        }
        assert_null(kr);
    }
    cx_keyring_free(kr);
    tdir_remove(&d);

    cf_buf_release(&ct);
    cx_data_key_free(key);
}

/* ---- helpers of the module ---------------------------------------- */

static void
test_equal_random(void **state)
{
    unsigned char a[64];
    unsigned char b[64];

    (void)state;
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_true(cx_equal(a, b, sizeof(a)));
    assert_true(cx_equal(a, b, 0));
    cx_random_buf(a, sizeof(a));
    cx_random_buf(b, sizeof(b));
    assert_false(cx_equal(a, b, sizeof(a)));
    memcpy(b, a, sizeof(a));
    b[63] ^= 0x80;
    assert_false(cx_equal(a, b, sizeof(a)));
    assert_true(cx_equal(a, b, 63));
    cx_random_buf(a, 0);
    assert_int_equal(cx_init(), CF_OK); /* a second call is fine */
}

static int
group_setup(void **state)
{
    (void)state;
    cf_log_set_level(CF_LOG_ERROR);
    return cx_init() == CF_OK ? 0 : -1;
}

/* Remove what a failed test left under /tmp. */
static int
group_teardown(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < TDIR_MAX; i++) {
        if (tdir_left[i][0] != '\0') {
            (void)nftw(tdir_left[i], tdir_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
            tdir_left[i][0] = '\0';
        }
    }
    return 0;
}

/* Argon2id: round trip, wrong password, tampered hash, rehash on a raised
 * cost (COMMITMENT A4). Small costs keep the test fast; the real cost is
 * measured by bench/pwhash.sh. */
static void
test_pwhash(void **state)
{
    const struct cx_pwhash_cost low = {.memory_kib = 8 * 1024, .passes = 1};
    const struct cx_pwhash_cost raised = {.memory_kib = 8 * 1024, .passes = 2};
    const struct cx_pwhash_cost bad = {.memory_kib = 1, .passes = 1};
    char h1[CX_PWHASH_STR_MAX];
    char h2[CX_PWHASH_STR_MAX];
    const char pw[] = "correct horse battery staple";

    (void)state;
    assert_int_equal(cx_pwhash(pw, strlen(pw), &low, h1), CF_OK);
    assert_int_equal(cx_pwhash(pw, strlen(pw), &low, h2), CF_OK);
    assert_true(strncmp(h1, "$argon2id$", 10) == 0);
    assert_string_not_equal(h1, h2); /* salted */
    assert_int_equal(cx_pwhash_verify(h1, pw, strlen(pw)), CF_OK);
    assert_int_equal(cx_pwhash_verify(h1, pw, strlen(pw) - 1), CF_EAUTH);
    assert_int_equal(
        cx_pwhash_verify(h1, "Correct horse battery staple", strlen(pw)),
        CF_EAUTH);
    /* a password with a NUL inside is hashed whole, never truncated */
    assert_int_equal(
        cx_pwhash_verify(h1, "correct horse battery staple\0x", strlen(pw) + 2),
        CF_EAUTH);
    h1[strlen(h1) - 2] ^= 1;
    assert_int_equal(cx_pwhash_verify(h1, pw, strlen(pw)), CF_EAUTH);
    assert_int_equal(cx_pwhash_verify("$2y$10$abcdefgh", pw, strlen(pw)),
                     CF_EINVAL);
    assert_false(cx_pwhash_needs_rehash(h2, &low));
    assert_true(cx_pwhash_needs_rehash(h2, &raised));
    assert_true(cx_pwhash_needs_rehash("garbage", &low));
    assert_int_equal(cx_pwhash(pw, strlen(pw), &bad, h1), CF_EINVAL);
}

/* Tokens are 43 base64url characters and never repeat; keyed hashes
 * depend on key and data and match a known answer for BLAKE2b-256. */
static void
test_tokens_and_mac(void **state)
{
    char a[CX_TOKEN_LEN + 1];
    char b[CX_TOKEN_LEN + 1];
    struct cx_data_key *k = NULL;
    struct cx_data_key *t1 = NULL;
    struct cx_data_key *t2 = NULL;
    unsigned char m1[CX_MAC_BYTES];
    unsigned char m2[CX_MAC_BYTES];
    unsigned char m3[CX_MAC_BYTES];

    (void)state;
    cx_token_new(a);
    cx_token_new(b);
    assert_int_equal(strlen(a), CX_TOKEN_LEN);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                               "vwxyz0123456789-_"),
                     CX_TOKEN_LEN);
    assert_string_not_equal(a, b);
    assert_int_equal(cx_data_key_new(&k), CF_OK);
    assert_int_equal(cx_data_key_derive(k, CX_SUBKEY_TOKEN, &t1), CF_OK);
    assert_int_equal(cx_data_key_derive(k, CX_SUBKEY_CSRF, &t2), CF_OK);
    assert_int_equal(cx_mac(t1, a, strlen(a), m1), CF_OK);
    assert_int_equal(cx_mac(t1, a, strlen(a), m2), CF_OK);
    assert_memory_equal(m1, m2, CX_MAC_BYTES);
    assert_int_equal(cx_mac(t2, a, strlen(a), m3), CF_OK);
    assert_memory_not_equal(m1, m3, CX_MAC_BYTES);
    assert_int_equal(cx_mac(t1, b, strlen(b), m3), CF_OK);
    assert_memory_not_equal(m1, m3, CX_MAC_BYTES);
    cx_data_key_free(t1);
    cx_data_key_free(t2);
    cx_data_key_free(k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pwhash),
        cmocka_unit_test(test_tokens_and_mac),
        cmocka_unit_test(test_kat),
        cmocka_unit_test(test_wrap_roundtrip),
        cmocka_unit_test(test_wrap_wrong_tenant),
        cmocka_unit_test(test_wrap_wrong_version),
        cmocka_unit_test(test_wrap_bitflips),
        cmocka_unit_test(test_wrap_nonce_fresh),
        cmocka_unit_test(test_other_datadir_cannot_unwrap),
        cmocka_unit_test(test_field_roundtrip),
        cmocka_unit_test(test_field_wrong_ad),
        cmocka_unit_test(test_field_truncated),
        cmocka_unit_test(test_field_too_big),
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_master_create_open),
        cmocka_unit_test(test_master_mode_refused),
        cmocka_unit_test(test_master_create_twice),
        cmocka_unit_test(test_master_wrong_size),
        cmocka_unit_test(test_master_missing),
        cmocka_unit_test(test_master_both_files),
        cmocka_unit_test(test_master_passphrase),
        cmocka_unit_test(test_master_key_noaccess),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_alloc_fail),
        cmocka_unit_test(test_equal_random),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
