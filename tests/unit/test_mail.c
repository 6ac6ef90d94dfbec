/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * ops/mail.c: the outgoing-mail transport against a real SMTP server,
 * tests/tools/smtp_sink.py (aiosmtpd) run with /usr/bin/python3 and a
 * throw-away CA made with openssl in a directory under $TMPDIR. No mocks:
 * what arrives is what libcurl sent over STARTTLS. The encoders have their
 * own tables; a delivered message is decoded twice, by the C code here and
 * by Python's email package, and must give back the exact subject and body.
 * Run from the repository root (make unit does).
 */
#include "core/compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops/ops.h"

extern char **environ;

#define PY "/usr/bin/python3"
#define SINK_SCRIPT "tests/tools/smtp_sink.py"
#define WAIT_MS 10000

/* ---- helpers: files, processes, time --------------------------------- */

static char tmp_root[256];
static char ca_pem[PATH_MAX];
static char cert_pem[PATH_MAX];
static char key_pem[PATH_MAX];
static char other_cert_pem[PATH_MAX]; /* same CA, only other.test */
static char other_key_pem[PATH_MAX];

static uint64_t
now_ms(void)
{
    return cf_time_mono_ns() / 1000000u;
}

static void
sleep_ms(unsigned ms)
{
    usleep(ms * 1000u);
}

static void
tmp_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmp_root, name);
}

/* The whole file at path, NUL-terminated (caller frees); NULL if absent. */
static char *
file_read(const char *path, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;
    size_t len = 0;

    if (fd < 0) {
        return NULL;
    }
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    if (len_out != NULL) {
        *len_out = len;
    }
    return buf;
}

static void
file_write(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* Start argv (argv[0] looked up in PATH) with stdout to out_path (NULL:
 * /dev/null) and stderr to /dev/null. */
static pid_t
spawn(const char *const argv[], const char *out_path)
{
    posix_spawn_file_actions_t fa;
    pid_t pid = -1;
    int err;

    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
                                                      "/dev/null", O_RDONLY, 0),
                     0);
    assert_int_equal(posix_spawn_file_actions_addopen(
                         &fa, STDOUT_FILENO,
                         out_path != NULL ? out_path : "/dev/null",
                         O_WRONLY | O_CREAT | O_TRUNC, 0600),
                     0);
    if (getenv("MAIL_TEST_VERBOSE") == NULL) {
        assert_int_equal(posix_spawn_file_actions_addopen(
                             &fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0),
                         0);
    }
    err = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(err, 0);
    return pid;
}

/* Run argv to its end; its exit status (-1: killed). */
static int
run(const char *const argv[])
{
    pid_t pid = spawn(argv, NULL);
    int status = 0;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A TCP port nothing listens on (bound, read back, released). */
static int
free_port(void)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int port;

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* A port that completes TCP handshakes (the kernel's backlog) and never
 * answers: an SMTP server that hangs. Returns the listening fd. */
static int
black_hole(int *port)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* ---- the SMTP sink ---------------------------------------------------- */

struct sink {
    pid_t pid;
    int port;
    char dir[512];
    char log[520];
};

enum sink_flags {
    SINK_TLS = 1u << 0,        /* STARTTLS offered and required */
    SINK_OTHER_CERT = 1u << 1, /* a certificate for other.test only */
    SINK_AUTH = 1u << 2,       /* AUTH as "coffre" with sink-password */
};

/* Start a sink named name on port (0: any) and wait until it answers. */
static void
sink_start(struct sink *s, const char *name, int port, unsigned flags)
{
    const char *argv[16];
    char port_s[16];
    char pwfile[PATH_MAX];
    size_t n = 0;
    uint64_t deadline;

    memset(s, 0, sizeof(*s));
    tmp_path(s->dir, sizeof(s->dir), name);
    snprintf(s->log, sizeof(s->log), "%s.log", s->dir);
    (void)mkdir(s->dir, 0700);
    snprintf(port_s, sizeof(port_s), "%d", port);
    argv[n++] = PY;
    argv[n++] = SINK_SCRIPT;
    argv[n++] = "--port";
    argv[n++] = port_s;
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    if (flags & SINK_TLS) {
        argv[n++] = "--tls-cert";
        argv[n++] = (flags & SINK_OTHER_CERT) ? other_cert_pem : cert_pem;
        argv[n++] = "--tls-key";
        argv[n++] = (flags & SINK_OTHER_CERT) ? other_key_pem : key_pem;
    }
    if (flags & SINK_AUTH) {
        tmp_path(pwfile, sizeof(pwfile), "sink-password");
        file_write(pwfile, "sink-pass-7f3a\n", 0600);
        argv[n++] = "--auth-user";
        argv[n++] = "coffre";
        argv[n++] = "--auth-password-file";
        argv[n++] = pwfile;
    }
    argv[n] = NULL;
    s->pid = spawn(argv, s->log);
    deadline = now_ms() + WAIT_MS;
    for (;;) {
        char *log = file_read(s->log, NULL);
        const char *at = log != NULL ? strstr(log, "{\"listening\": ") : NULL;
        int status;

        if (at != NULL) {
            s->port = (int)strtol(at + strlen("{\"listening\": "), NULL, 10);
            free(log);
            break;
        }
        free(log);
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            fail_msg("smtp_sink.py exited before listening (status %d); "
                     "run from the repository root, with python3-aiosmtpd",
                     status);
        }
        if (now_ms() > deadline) {
            fail_msg("smtp_sink.py not listening after %d ms", WAIT_MS);
        }
        sleep_ms(20);
    }
    assert_true(s->port > 0);
    assert_true(port == 0 || s->port == port);
}

/* SIGTERM, and a clean exit within 5 s. */
static void
sink_stop(struct sink *s)
{
    uint64_t deadline = now_ms() + 5000;
    int status = 0;

    if (s->pid <= 0) {
        return;
    }
    assert_int_equal(kill(s->pid, SIGTERM), 0);
    while (waitpid(s->pid, &status, WNOHANG) != s->pid) {
        if (now_ms() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            s->pid = -1;
            fail_msg("smtp_sink.py did not stop on SIGTERM");
        }
        sleep_ms(20);
    }
    s->pid = -1;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Messages received: the sink numbers them 1.eml, 2.eml... */
static int
sink_count(const struct sink *s)
{
    char path[PATH_MAX];
    int n = 0;

    for (;;) {
        snprintf(path, sizeof(path), "%s/%d.eml", s->dir, n + 1);
        if (access(path, F_OK) != 0) {
            return n;
        }
        n++;
    }
}

static bool
sink_wait_count(const struct sink *s, int want, unsigned ms)
{
    uint64_t deadline = now_ms() + ms;

    while (sink_count(s) < want) {
        if (now_ms() > deadline) {
            return false;
        }
        sleep_ms(20);
    }
    return true;
}

/* ---- the transport ---------------------------------------------------- */

struct mail_setup {
    char url[64];
    struct ops_mail_opts o;
};

static void
setup_for(struct mail_setup *ms, int port)
{
    memset(ms, 0, sizeof(*ms));
    snprintf(ms->url, sizeof(ms->url), "smtp://127.0.0.1:%d", port);
    ms->o.smtp_url = ms->url;
    ms->o.from = "coffre@localhost";
    ms->o.ca_file = ca_pem;
    ms->o.queue_max = 16;
    ms->o.retry_first_ms = 50;
    ms->o.attempts = 3;
    ms->o.timeout_s = 10;
}

static enum cf_rc
send_mail(struct ops_mail *m, const char *to, const char *subject,
          const char *body)
{
    struct cf_mailer mailer;
    struct cf_mail mail = {.to = to, .subject = subject, .body = body};

    ops_mail_mailer(m, &mailer);
    return mailer.send(mailer.arg, &mail);
}

/* Wait until sent + failed reaches n; the stats then. */
static struct ops_mail_stats
wait_done(struct ops_mail *m, uint64_t n, unsigned ms)
{
    struct ops_mail_stats st;
    uint64_t deadline = now_ms() + ms;

    for (;;) {
        ops_mail_stats(m, &st);
        if (st.sent + st.failed >= n || now_ms() > deadline) {
            return st;
        }
        sleep_ms(10);
    }
}

/* ---- stderr capture, for the log checks ------------------------------ */

struct capture {
    int saved;
    char path[PATH_MAX];
};

static void
capture_start(struct capture *c, const char *name)
{
    int fd;

    tmp_path(c->path, sizeof(c->path), name);
    fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
}

/* Restore stderr; the captured text (caller frees), echoed. */
static char *
capture_stop(struct capture *c)
{
    char *text;

    assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
    close(c->saved);
    text = file_read(c->path, NULL);
    assert_non_null(text);
    fputs(text, stderr);
    return text;
}

/* ---- decoding, independent of the encoders under test ----------------- */

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Quoted-printable to text with \n line ends; NULL on a malformed input
 * (lower-case hex, a bare '=', a line over 76, a bare CR or LF). */
static char *
qp_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;
    size_t i = 0;
    size_t col = 0;

    assert_non_null(out);
    while (i < n) {
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            out[o++] = '\n';
            i += 2;
            col = 0;
        } else if (s[i] == '\r' || s[i] == '\n') {
            break;
        } else if (s[i] != '=') {
            out[o++] = s[i++];
            col++;
        } else if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 3; /* soft break */
            col = 0;
            continue;
        } else if (i + 2 < n && hexval(s[i + 1]) >= 0 &&
                   hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 3;
            col += 3;
        } else {
            break;
        }
        if (col > 76) {
            break;
        }
    }
    if (i < n) {
        free(out);
        return NULL;
    }
    out[o] = '\0';
    return out;
}

static int
b64val(char c)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c != '\0' ? strchr(tab, c) : NULL;

    return p != NULL ? (int)(p - tab) : -1;
}

/* Append the base64 s[0..n) decoded to out; false if malformed. */
static bool
b64_decode(const char *s, size_t n, struct cf_buf *out)
{
    size_t i;

    if (n % 4 != 0) {
        return false;
    }
    for (i = 0; i < n; i += 4) {
        int a = b64val(s[i]);
        int b = b64val(s[i + 1]);
        int c = s[i + 2] == '=' ? 0 : b64val(s[i + 2]);
        int d = s[i + 3] == '=' ? 0 : b64val(s[i + 3]);
        unsigned v;

        if (a < 0 || b < 0 || c < 0 || d < 0) {
            return false;
        }
        v = (unsigned)(a << 18 | b << 12 | c << 6 | d);
        assert_int_equal(cf_buf_addch(out, (char)(v >> 16)), CF_OK);
        if (s[i + 2] != '=') {
            assert_int_equal(cf_buf_addch(out, (char)(v >> 8)), CF_OK);
        }
        if (s[i + 3] != '=') {
            assert_int_equal(cf_buf_addch(out, (char)v), CF_OK);
        }
    }
    return true;
}

static bool
utf8_complete(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

        if (i + k > n) {
            return false;
        }
        i += k;
    }
    return true;
}

/*
 * Decode an unstructured header value made of encoded-words (or plain
 * text) into out, checking the shape: lines of at most 76 characters
 * counting first_col for the first, each word =?UTF-8?B?...?= of at most
 * 75 characters holding whole UTF-8 characters, folds CRLF SP.
 */
static void
header_decode(const char *v, size_t first_col, struct cf_buf *out)
{
    const char *p = v;
    size_t col = first_col;

    if (strncmp(v, "=?", 2) != 0) {
        assert_int_equal(cf_buf_adds(out, v), CF_OK);
        return;
    }
    while (*p) {
        const char *end;
        size_t before = out->len;

        if (strncmp(p, "\r\n ", 3) == 0) {
            p += 3;
            col = 1;
            continue;
        }
        assert_memory_equal(p, "=?UTF-8?B?", 10);
        end = strstr(p + 10, "?=");
        assert_non_null(end);
        assert_true((size_t)(end + 2 - p) <= 75);
        col += (size_t)(end + 2 - p);
        assert_true(col <= 76);
        assert_true(b64_decode(p + 10, (size_t)(end - p - 10), out));
        assert_true(utf8_complete(cf_buf_str(out) + before, out->len - before));
        p = end + 2;
    }
}

/* ---- the encoders: tables -------------------------------------------- */

static char long_a[200];

static const char *
a_times(size_t n, const char *tail)
{
    static char buf[256];

    assert_true(n < 200);
    memset(long_a, 'a', n);
    long_a[n] = '\0';
    snprintf(buf, sizeof(buf), "%s%s", long_a, tail);
    return buf;
}

static void
check_qp(const char *in, size_t len, const char *want)
{
    struct cf_buf b;
    char *back;

    cf_buf_init(&b, 1 << 20);
    assert_int_equal(ops_mail_qp_encode(in, len, &b), CF_OK);
    assert_string_equal(cf_buf_str(&b), want);
    back = qp_decode(cf_buf_str(&b), b.len);
    assert_non_null(back);
    cf_buf_release(&b);
    free(back);
}

static void
test_qp_table(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"", ""},
        {"abc", "abc"},
        {"a=b", "a=3Db"},
        {"caf\xc3\xa9", "caf=C3=A9"},
        {"a b\tc", "a b\tc"},
        {"end \n", "end=20\r\n"},
        {"tab\t\n", "tab=09\r\n"},
        {"last ", "last=20"},
        {"l1\nl2\n", "l1\r\nl2\r\n"},
        {"l1\r\nl2 \r\n", "l1\r\nl2=20\r\n"},
        {"lone\rcr", "lone=0Dcr"},
        {"\n\n", "\r\n\r\n"},
        {".dot\n.\n", ".dot\r\n.\r\n"},
        {"From here\n", "From here\r\n"},
        {"\x01\x7f", "=01=7F"},
    };
    char want[512];
    size_t i;

    (void)state;
    for (i = 0; i < CF_ARRAY_LEN(cases); i++) {
        check_qp(cases[i].in, strlen(cases[i].in), cases[i].want);
    }
    /* exactly 76 fits; 77 takes a soft break after 75 */
    check_qp(a_times(76, ""), 76, a_times(76, ""));
    snprintf(want, sizeof(want), "%s=\r\naa", a_times(75, ""));
    check_qp(a_times(77, ""), 77, want);
    /* an escape is never cut: 75 a then é */
    snprintf(want, sizeof(want), "%s=\r\n=C3=A9", a_times(75, ""));
    check_qp(a_times(75, "\xc3\xa9"), 77, want);
    /* a last escape may end on column 76, not past it */
    snprintf(want, sizeof(want), "%s=3D", a_times(73, ""));
    check_qp(a_times(73, "="), 74, want);
    snprintf(want, sizeof(want), "%s=\r\n=3D", a_times(74, ""));
    check_qp(a_times(74, "="), 75, want);
    /* the soft break resets the column on each line */
    snprintf(want, sizeof(want), "%s=\r\n%s=\r\naaaaaaaaaa\r\nb",
             a_times(75, ""), a_times(75, ""));
    check_qp(a_times(160, "\nb"), 162, want);
    /* spaces: literal inside, encoded at the end of the line */
    memset(long_a, ' ', 80);
    long_a[80] = '\0';
    snprintf(want, sizeof(want), "%.75s=\r\n    =20", long_a);
    check_qp(long_a, 80, want);
}

static void
check_header(const char *in, size_t name_len, const char *want)
{
    struct cf_buf b;
    struct cf_buf back;

    cf_buf_init(&b, 1 << 20);
    cf_buf_init(&back, 1 << 20);
    assert_int_equal(ops_mail_header_encode(in, name_len, &b), CF_OK);
    if (want != NULL) {
        assert_string_equal(cf_buf_str(&b), want);
    }
    header_decode(cf_buf_str(&b), name_len + 2, &back);
    assert_string_equal(cf_buf_str(&back), in);
    cf_buf_release(&b);
    cf_buf_release(&back);
}

static void
test_header_table(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"", ""},
        {"Hello", "Hello"},
        {"Reset your password", "Reset your password"},
        {"caf\xc3\xa9", "=?UTF-8?B?Y2Fmw6k=?="},
        /* would read as an encoded-word */
        {"a =?x?= b", "=?UTF-8?B?YSA9P3g/PSBi?="},
        /* a control character */
        {"Tab\there", "=?UTF-8?B?VGFiCWhlcmU=?="},
    };
    char in[1024];
    size_t i;

    (void)state;
    for (i = 0; i < CF_ARRAY_LEN(cases); i++) {
        check_header(cases[i].in, strlen("Subject"), cases[i].want);
    }
    /* plain ASCII that fits 78 stays; one more byte and it is encoded */
    check_header(a_times(69, ""), strlen("Subject"), a_times(69, ""));
    check_header(a_times(70, ""), strlen("Subject"),
                 "=?UTF-8?B?"
                 "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh?=\r\n"
                 " =?UTF-8?B?"
                 "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==?=");
    /* 30 x é: 19 fit the first line (52 characters of base64) */
    in[0] = '\0';
    for (i = 0; i < 30; i++) {
        assert_true(strlen(in) + 3 < sizeof(in));
        memcpy(in + strlen(in), "\xc3\xa9", 3);
    }
    check_header(in, strlen("Subject"), NULL);
    /* long mixed subjects: shape and round trip checked by the decoder
     * (whole characters per word, lines of at most 76) */
    in[0] = '\0';
    for (i = 0; strlen(in) + 12 < 990; i++) {
        size_t l = strlen(in);

        snprintf(in + l, sizeof(in) - l, "%s",
                 i % 4 == 0   ? "R\xc3\xa9init "
                 : i % 4 == 1 ? "\xe2\x9c\x93 "
                 : i % 4 == 2 ? "\xf0\x9f\x98\x80"
                              : "mot de passe ");
    }
    check_header(in, strlen("Subject"), NULL);
    check_header(in + 1, strlen("Subject"), NULL);
    check_header(in + 2, strlen("X-Long-Field-Name"), NULL);
}

/* ---- fixtures ---------------------------------------------------------- */

static struct sink tls_sink; /* shared: STARTTLS, the good certificate */

static void
make_cert(const char *cn, const char *san, const char *cert, const char *key)
{
    char subj[128];
    char ext[160];
    const char *argv[] = {"openssl",
                          "req",
                          "-x509",
                          "-newkey",
                          "ec",
                          "-pkeyopt",
                          "ec_paramgen_curve:P-256",
                          "-nodes",
                          "-days",
                          "2",
                          "-subj",
                          subj,
                          "-CA",
                          ca_pem,
                          "-CAkey",
                          NULL, /* 15 */
                          "-keyout",
                          key,
                          "-out",
                          cert,
                          "-addext",
                          ext,
                          "-addext",
                          "basicConstraints=critical,CA:FALSE",
                          "-addext",
                          "extendedKeyUsage=serverAuth",
                          NULL};
    char ca_key[PATH_MAX];

    tmp_path(ca_key, sizeof(ca_key), "ca.key");
    argv[15] = ca_key;
    snprintf(subj, sizeof(subj), "/CN=%s", cn);
    snprintf(ext, sizeof(ext), "subjectAltName=%s", san);
    assert_int_equal(run(argv), 0);
}

static int
group_setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    char ca_key[PATH_MAX];
    const char *ca_argv[] = {"openssl",
                             "req",
                             "-x509",
                             "-newkey",
                             "ec",
                             "-pkeyopt",
                             "ec_paramgen_curve:P-256",
                             "-nodes",
                             "-days",
                             "2",
                             "-subj",
                             "/CN=coffre mail test CA",
                             "-addext",
                             "basicConstraints=critical,CA:TRUE",
                             "-addext",
                             "keyUsage=critical,keyCertSign,cRLSign",
                             "-keyout",
                             ca_key,
                             "-out",
                             ca_pem,
                             NULL};

    (void)state;
    snprintf(tmp_root, sizeof(tmp_root), "%s/coffre-mail-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(tmp_root) == NULL) {
        return -1;
    }
    if (access(SINK_SCRIPT, R_OK) != 0 || access(PY, X_OK) != 0) {
        fprintf(stderr,
                "test_mail: needs %s and %s (run from the "
                "repository root)\n",
                SINK_SCRIPT, PY);
        return -1;
    }
    tmp_path(ca_key, sizeof(ca_key), "ca.key");
    tmp_path(ca_pem, sizeof(ca_pem), "ca.pem");
    tmp_path(cert_pem, sizeof(cert_pem), "cert.pem");
    tmp_path(key_pem, sizeof(key_pem), "key.pem");
    tmp_path(other_cert_pem, sizeof(other_cert_pem), "other-cert.pem");
    tmp_path(other_key_pem, sizeof(other_key_pem), "other-key.pem");
    if (run(ca_argv) != 0) {
        return -1;
    }
    make_cert("localhost", "IP:127.0.0.1,DNS:localhost", cert_pem, key_pem);
    make_cert("other.test", "DNS:other.test", other_cert_pem, other_key_pem);
    sink_start(&tls_sink, "tls-sink", 0, SINK_TLS);
    cf_log_set_level(CF_LOG_INFO);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    sink_stop(&tls_sink);
    if (tmp_root[0] != '\0' && getenv("MAIL_TEST_KEEP") == NULL) {
        (void)nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    return 0;
}

/* ---- delivery ---------------------------------------------------------- */

static const char *const utf8_subject =
    "R\xc3\xa9initialisation du mot de passe \xe2\x80\x94 caf\xc3\xa9 "
    "\xe2\x9c\x93 \xf0\x9f\x98\x80 pour \xc3\x89lodie, long enough to fold";

static const char *const utf8_body =
    "Bonjour \xc3\x89lodie,\n"
    "\n"
    "Voici le lien \xc3\xa0 usage unique (valable 30 minutes) : "
    "https://acme.localhost/reset#token=CANARY-5ecret-7b1e9f0c2d4a6e8b1c3d5f"
    "7a9b0c2d4e\n"
    ".a line that starts with a dot\n"
    ".\n"
    "a trailing space \n"
    "a = sign, tabs\tinside, \xe2\x82\xac and \xe4\xb8\xad\xe6\x96\x87\n"
    "-- \n"
    "coffre\n";

/* The decoded subject and body of the .eml at path, by Python's email
 * package, into files; the structural checks there too. */
static void
python_decode(const char *eml, const char *subj_out, const char *body_out)
{
    static const char script[] =
        "import email, email.policy, re, sys\n"
        "eml, subj_out, body_out = sys.argv[1:4]\n"
        "with open(eml, 'rb') as f:\n"
        "    msg = email.message_from_binary_file(f, "
        "policy=email.policy.default)\n"
        "assert not msg.defects, msg.defects\n"
        "for k in msg.keys():\n"
        "    assert not msg[k].defects, (k, msg[k].defects)\n"
        "d = msg['Date'].datetime\n"
        "assert d is not None and d.utcoffset().total_seconds() == 0, d\n"
        "assert msg.get_content_type() == 'text/plain'\n"
        "assert msg.get_content_charset() == 'utf-8'\n"
        "assert msg['Content-Transfer-Encoding'] == 'quoted-printable'\n"
        "assert msg['MIME-Version'] == '1.0'\n"
        "assert msg['Auto-Submitted'] == 'auto-generated'\n"
        "assert msg['From'] == 'coffre@localhost'\n"
        "assert re.fullmatch(r'<[0-9a-f]{32}@localhost>', "
        "msg['Message-ID']), msg['Message-ID']\n"
        "open(subj_out, 'w', encoding='utf-8', newline='')"
        ".write(str(msg['Subject']))\n"
        "open(body_out, 'w', encoding='utf-8', newline='')"
        ".write(msg.get_content())\n";
    const char *argv[] = {PY, "-c", script, eml, subj_out, body_out, NULL};

    assert_int_equal(run(argv), 0);
}

/* The value of header name in the head of a message (folded lines kept,
 * CRLF SP), caller frees; NULL if absent. */
static char *
header_get(const char *head, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = head;

    while (*p) {
        const char *eol = strstr(p, "\r\n");

        assert_non_null(eol);
        if (strncmp(p, name, nlen) == 0 && p[nlen] == ':' &&
            p[nlen + 1] == ' ') {
            const char *v = p + nlen + 2;
            const char *end = eol;

            while (end[2] == ' ' || end[2] == '\t') {
                end = strstr(end + 2, "\r\n");
                assert_non_null(end);
            }
            return strndup(v, (size_t)(end - v));
        }
        p = eol + 2;
    }
    return NULL;
}

static void
test_deliver_utf8(void **state)
{
    struct mail_setup ms;
    struct ops_mail *m = NULL;
    struct ops_mail_stats st;
    struct capture cap;
    struct cf_buf subj;
    char eml[PATH_MAX];
    char subj_py[PATH_MAX];
    char body_py[PATH_MAX];
    char *raw;
    char *logs;
    char *body;
    char *v;
    char *text;
    const char *sep;
    const char *line;
    size_t len;
    int before = sink_count(&tls_sink);

    (void)state;
    setup_for(&ms, tls_sink.port);
    capture_start(&cap, "deliver.log");
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    assert_int_equal(
        send_mail(m, "elodie.martin@example.test", utf8_subject, utf8_body),
        CF_OK);
    st = wait_done(m, 1, WAIT_MS);
    ops_mail_free(m, 1000);
    logs = capture_stop(&cap);
    assert_int_equal(st.queued, 1);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.waiting, 0);
    assert_true(sink_wait_count(&tls_sink, before + 1, WAIT_MS));

    /* the log names the message, never its address, subject or body */
    assert_non_null(strstr(logs, "\"msg\":\"mail.sent\""));
    assert_non_null(strstr(logs, "\"mail_id\":\""));
    assert_null(strstr(logs, "CANARY"));
    assert_null(strstr(logs, "elodie"));
    assert_null(strstr(logs, "initialisation"));
    free(logs);

    snprintf(eml, sizeof(eml), "%s/%d.eml", tls_sink.dir, before + 1);
    raw = file_read(eml, &len);
    assert_non_null(raw);
    assert_int_equal(strlen(raw), len); /* no NUL */
    sep = strstr(raw, "\r\n\r\n");
    assert_non_null(sep);
    /* every line ends with CRLF and stays within 76 (78 for headers) */
    for (line = raw; *line;) {
        const char *eol = strstr(line, "\r\n");

        assert_non_null(eol);
        assert_null(memchr(line, '\n', (size_t)(eol - line)));
        assert_null(memchr(line, '\r', (size_t)(eol - line)));
        assert_true(eol - line <= (line < sep ? 78 : 76));
        line = eol + 2;
    }
    {
        char *head = strndup(raw, (size_t)(sep - raw) + 2);
        static const struct {
            const char *name;
            const char *value; /* NULL: only present */
        } want[] = {
            {"Date", NULL},
            {"From", "coffre@localhost"},
            {"To", "elodie.martin@example.test"},
            {"Message-ID", NULL},
            {"MIME-Version", "1.0"},
            {"Content-Type", "text/plain; charset=utf-8"},
            {"Content-Transfer-Encoding", "quoted-printable"},
            {"Auto-Submitted", "auto-generated"},
        };
        size_t i;

        assert_non_null(head);
        for (i = 0; i < CF_ARRAY_LEN(want); i++) {
            v = header_get(head, want[i].name);
            if (v == NULL) {
                fail_msg("header %s missing", want[i].name);
            }
            if (want[i].value != NULL) {
                assert_string_equal(v, want[i].value);
            }
            free(v);
        }
        v = header_get(head, "Date");
        /* "Tue, 24 Nov 2026 21:43:42 +0000" */
        assert_int_equal(strlen(v), 31);
        assert_int_equal(v[3], ',');
        assert_string_equal(v + 25, " +0000");
        free(v);
        v = header_get(head, "Subject");
        assert_non_null(v);
        assert_memory_equal(v, "=?UTF-8?B?", 10);
        assert_non_null(strstr(v, "\r\n ")); /* folded: more than one word */
        cf_buf_init(&subj, 4096);
        header_decode(v, strlen("Subject: "), &subj);
        assert_string_equal(cf_buf_str(&subj), utf8_subject);
        cf_buf_release(&subj);
        free(v);
        free(head);
    }
    /* the body: our decoder, then Python's */
    body = qp_decode(sep + 4, len - (size_t)(sep + 4 - raw));
    assert_non_null(body);
    assert_string_equal(body, utf8_body);
    free(body);
    assert_non_null(strstr(sep, "\r\n.a line that starts with a dot\r\n"));
    assert_non_null(strstr(sep, "\r\n.\r\n"));
    assert_non_null(strstr(sep, "a trailing space=20\r\n"));
    free(raw);

    tmp_path(subj_py, sizeof(subj_py), "subject.txt");
    tmp_path(body_py, sizeof(body_py), "body.txt");
    python_decode(eml, subj_py, body_py);
    text = file_read(subj_py, NULL);
    assert_string_equal(text, utf8_subject);
    free(text);
    text = file_read(body_py, NULL);
    assert_string_equal(text, utf8_body);
    free(text);
}

static void
test_injection_refused(void **state)
{
    char to255[300];
    char long_subject[1000];
    char *big_body;
    struct mail_setup ms;
    struct ops_mail *m = NULL;
    struct ops_mail_stats st;
    struct cf_mailer mailer;
    static const struct {
        const char *to;
        const char *subject;
        const char *body;
    } bad[] = {
        {"", "s", "b"},
        {"alice", "s", "b"},
        {"@example.test", "s", "b"},
        {"alice@", "s", "b"},
        {"alice@example.test\r\nBcc: eve@evil.test", "s", "b"},
        {"alice@example.test\nBcc: eve@evil.test", "s", "b"},
        {"alice@example.test\r", "s", "b"},
        {"alice@example.test, eve@evil.test", "s", "b"},
        {"alice@example.test,eve@evil.test", "s", "b"},
        {"alice@example.test eve@evil.test", "s", "b"},
        {"alice@example.test;eve@evil.test", "s", "b"},
        {"alice@b@evil.test", "s", "b"},
        {"<alice@example.test>", "s", "b"},
        {"Alice <alice@example.test>", "s", "b"},
        {"alice@example.test (x)", "s", "b"},
        {"\"a b\"@example.test", "s", "b"},
        {"group:alice@example.test;", "s", "b"},
        {"alice\t@example.test", "s", "b"},
        {"al\xc3@example.test", "s", "b"},     /* cut UTF-8 */
        {"al\xc0\xa0@example.test", "s", "b"}, /* overlong */
        {"alice@example.test", "Hi\r\nBcc: eve@evil.test", "b"},
        {"alice@example.test", "Hi\nBcc: eve@evil.test", "b"},
        {"alice@example.test", "Hi\r", "b"},
        {"alice@example.test", "caf\xe9", "b"},      /* Latin-1 */
        {"alice@example.test", "\xed\xa0\x80", "b"}, /* a surrogate */
        {"alice@example.test", "s", "caf\xe9\n"},
        {"alice@example.test", "s", "\xf4\x90\x80\x80"}, /* past U+10FFFF */
        {NULL, "s", "b"},
        {"alice@example.test", NULL, "b"},
        {"alice@example.test", "s", NULL},
    };
    size_t i;
    int before = sink_count(&tls_sink);

    (void)state;
    setup_for(&ms, tls_sink.port);
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    ops_mail_mailer(m, &mailer);
    for (i = 0; i < CF_ARRAY_LEN(bad); i++) {
        struct cf_mail mail = {bad[i].to, bad[i].subject, bad[i].body};

        if (mailer.send(mailer.arg, &mail) != CF_EINVAL) {
            fail_msg("case %zu was not refused", i);
        }
    }
    assert_int_equal(mailer.send(mailer.arg, NULL), CF_EINVAL);
    /* the limits: 254 bytes of address, 998 of subject, 256 KiB of body */
    memset(to255, 'a', sizeof(to255));
    snprintf(to255 + 242, sizeof(to255) - 242, "@example.test");
    assert_int_equal(strlen(to255), 255);
    assert_int_equal(send_mail(m, to255, "s", "b"), CF_EINVAL);
    memset(long_subject, 's', sizeof(long_subject));
    long_subject[999] = '\0';
    assert_int_equal(send_mail(m, to255 + 1, long_subject, "b"), CF_EINVAL);
    long_subject[998] = '\0';
    big_body = malloc(256 * 1024 + 2);
    assert_non_null(big_body);
    memset(big_body, 'b', 256 * 1024 + 1);
    big_body[256 * 1024 + 1] = '\0';
    assert_int_equal(send_mail(m, to255 + 1, long_subject, big_body),
                     CF_ETOOBIG);
    ops_mail_stats(m, &st);
    assert_int_equal(st.queued, 0);

    /* at the limits it goes, and it is the only message sent */
    big_body[256 * 1024 - 1] = '\n';
    big_body[256 * 1024] = '\0';
    assert_int_equal(send_mail(m, to255 + 1, long_subject, big_body), CF_OK);
    st = wait_done(m, 1, WAIT_MS);
    assert_int_equal(st.sent, 1);
    ops_mail_free(m, 1000);
    free(big_body);
    assert_true(sink_wait_count(&tls_sink, before + 1, WAIT_MS));
    sleep_ms(200);
    assert_int_equal(sink_count(&tls_sink), before + 1);
}

/* ---- queueing, retries, refusals --------------------------------------- */

static void
test_queue_full(void **state)
{
    struct mail_setup ms;
    struct ops_mail *m = NULL;
    struct ops_mail_stats st;
    uint64_t t0;

    (void)state;
    setup_for(&ms, free_port()); /* nobody there */
    ms.o.queue_max = 2;
    ms.o.retry_first_ms = 60000;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    assert_int_equal(send_mail(m, "a@example.test", "one", "1\n"), CF_OK);
    assert_int_equal(send_mail(m, "b@example.test", "two", "2\n"), CF_OK);
    assert_int_equal(send_mail(m, "c@example.test", "three", "3\n"), CF_EBUSY);
    ops_mail_stats(m, &st);
    assert_int_equal(st.queued, 2);
    assert_int_equal(st.waiting, 2);
    assert_int_equal(st.sent, 0);
    t0 = now_ms();
    ops_mail_free(m, 0);
    assert_true(now_ms() - t0 < 1500);
}

static void
test_retry_until_sink_starts(void **state)
{
    struct mail_setup ms;
    struct ops_mail *m = NULL;
    struct ops_mail_stats st;
    struct sink late;
    int port = free_port();

    (void)state;
    setup_for(&ms, port);
    ms.o.retry_first_ms = 200;
    ms.o.attempts = 6; /* 200, 400, 800, 1600, 3200 ms */
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    assert_int_equal(send_mail(m, "late@example.test", "retry", "later\n"),
                     CF_OK);
    sleep_ms(300); /* two attempts refused by then */
    ops_mail_stats(m, &st);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.waiting, 1);
    sink_start(&late, "late-sink", port, SINK_TLS);
    st = wait_done(m, 1, WAIT_MS);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.failed, 0);
    assert_true(sink_wait_count(&late, 1, WAIT_MS));
    ops_mail_free(m, 0);
    sink_stop(&late);
}

/* A message that must never arrive: sent to s with opts, counted failed
 * after the attempts; the log says why. */
static void
expect_failure(const struct sink *s, struct mail_setup *ms,
               const char *log_name, const char *why)
{
    struct ops_mail *m = NULL;
    struct ops_mail_stats st;
    struct capture cap;
    char *logs;
    int before = sink_count(s);

    capture_start(&cap, log_name);
    assert_int_equal(ops_mail_new(&ms->o, &m), CF_OK);
    assert_int_equal(send_mail(m, "victim@example.test", "CANARY subject",
                               "CANARY-body-secret\n"),
                     CF_OK);
    st = wait_done(m, 1, WAIT_MS);
    ops_mail_free(m, 0);
    logs = capture_stop(&cap);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(sink_count(s), before);
    assert_non_null(strstr(logs, "\"msg\":\"mail.retry\""));
    assert_non_null(strstr(logs, "\"msg\":\"mail.failed\""));
    assert_non_null(strstr(logs, "\"attempts\":\"3\""));
    if (why != NULL && strstr(logs, why) == NULL) {
        fail_msg("the log does not say \"%s\"", why);
    }
    assert_null(strstr(logs, "CANARY"));
    assert_null(strstr(logs, "victim"));
    free(logs);
}

static void
test_starttls_required(void **state)
{
    struct mail_setup ms;
    struct sink plain;
    char *out;

    (void)state;
    sink_start(&plain, "plain-sink", 0, 0);
    setup_for(&ms, plain.port);
    expect_failure(&plain, &ms, "plain.log", "SSL");
    out = file_read(plain.log, NULL);
    assert_null(strstr(out, "\"n\":"));
    free(out);
    sink_stop(&plain);
}

static void
test_untrusted_certificate(void **state)
{
    struct mail_setup ms;

    (void)state;
    setup_for(&ms, tls_sink.port);
    ms.o.ca_file = NULL; /* the system CAs do not know the test CA */
    expect_failure(&tls_sink, &ms, "untrusted.log", "certificate");
}

static void
test_wrong_host_name(void **state)
{
    struct mail_setup ms;
    struct sink other;

    (void)state;
    sink_start(&other, "other-sink", 0, SINK_TLS | SINK_OTHER_CERT);
    setup_for(&ms, other.port); /* trusted CA, but not 127.0.0.1 */
    expect_failure(&other, &ms, "other.log", NULL);
    sink_stop(&other);
}

static void
test_auth(void **state)
{
    struct mail_setup ms;
    struct ops_mail *m = NULL;
    struct ops_mail_stats st;
    struct sink auth;
    char pw[PATH_MAX];

    (void)state;
    sink_start(&auth, "auth-sink", 0, SINK_TLS | SINK_AUTH);
    tmp_path(pw, sizeof(pw), "client-password");
    file_write(pw, "sink-pass-7f3a\n", 0600);
    setup_for(&ms, auth.port);
    ms.o.username = "coffre";
    ms.o.password_file = pw;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    assert_int_equal(send_mail(m, "a@example.test", "auth", "ok\n"), CF_OK);
    st = wait_done(m, 1, WAIT_MS);
    ops_mail_free(m, 0);
    assert_int_equal(st.sent, 1);
    assert_true(sink_wait_count(&auth, 1, WAIT_MS));

    /* without AUTH, or with the wrong password: refused */
    setup_for(&ms, auth.port);
    expect_failure(&auth, &ms, "noauth.log", NULL);
    file_write(pw, "wrong\n", 0600);
    ms.o.username = "coffre";
    ms.o.password_file = pw;
    expect_failure(&auth, &ms, "badauth.log", NULL);
    sink_stop(&auth);
}

static void
test_bad_config(void **state)
{
    static const char *const bad_urls[] = {
        "http://127.0.0.1:25",
        "ftp://127.0.0.1",
        "file:///etc/passwd",
        "smtp:/127.0.0.1",
        "smtp://",
        "SMTP://127.0.0.1",
        "smtp://u:p@127.0.0.1",
        "smtp://u@127.0.0.1",
        "smtp://a b:25",
        "smtp://127.0.0.1\r\n:25",
        "127.0.0.1:25",
    };
    static const char *const bad_from[] = {
        "coffre@localhost\r\nBcc: eve@evil.test",
        "coffre@localhost\n",
        "coffre",
        "",
        "<coffre@localhost>",
        "a@b, c@d",
    };
    struct mail_setup ms;
    struct ops_mail *m = NULL;
    char pw[PATH_MAX];
    char dir[PATH_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < CF_ARRAY_LEN(bad_urls); i++) {
        setup_for(&ms, 25);
        ms.o.smtp_url = bad_urls[i];
        if (ops_mail_new(&ms.o, &m) != CF_EINVAL) {
            fail_msg("URL %zu accepted", i);
        }
    }
    for (i = 0; i < CF_ARRAY_LEN(bad_from); i++) {
        setup_for(&ms, 25);
        ms.o.from = bad_from[i];
        if (ops_mail_new(&ms.o, &m) != CF_EINVAL) {
            fail_msg("from %zu accepted", i);
        }
    }
    setup_for(&ms, 25);
    ms.o.from = NULL;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_EINVAL);
    setup_for(&ms, 25);
    ms.o.queue_max = 0;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_EINVAL);

    /* the password file */
    tmp_path(pw, sizeof(pw), "password");
    tmp_path(dir, sizeof(dir), "password-dir");
    assert_int_equal(mkdir(dir, 0700), 0);
    setup_for(&ms, 25);
    ms.o.username = "coffre";
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_EINVAL); /* no file */
    ms.o.username = NULL;
    ms.o.password_file = pw;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_EINVAL); /* no user */
    ms.o.username = "coffre";
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_EINVAL); /* missing */
    file_write(pw, "s3cret\n", 0644);
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_EINVAL); /* too open */
    file_write(pw, "s3cret\n", 0640);
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_EINVAL);
    file_write(pw, "\n", 0600);
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_EINVAL); /* empty */
    file_write(pw, "two\nlines\n", 0600);
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_EINVAL);
    ms.o.password_file = dir;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_EINVAL); /* not a file */
    ms.o.password_file = pw;
    file_write(pw, "s3cret\r\n", 0600);
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    ops_mail_free(m, 0);
    m = NULL;
    file_write(pw, "s3cret", 0400);
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    ops_mail_free(m, 0);
    /* smtps:// and an EHLO name in the path are fine */
    setup_for(&ms, 25);
    ms.o.smtp_url = "smtps://127.0.0.1:465/coffre.example";
    m = NULL;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    ops_mail_free(m, 0);
    ops_mail_free(NULL, 0);
}

static void
test_mail_off(void **state)
{
    struct ops_mail_opts o;
    struct ops_mail *m = NULL;
    struct ops_mail_stats st;
    struct cf_config cfg;
    struct capture cap;
    char *logs;

    (void)state;
    cf_config_defaults(&cfg);
    ops_mail_opts_from(&cfg, &o);
    assert_string_equal(o.smtp_url, "");
    assert_string_equal(o.from, "coffre@localhost");
    assert_int_equal(o.queue_max, 1000);
    assert_int_equal(o.attempts, 0);
    capture_start(&cap, "off.log");
    assert_int_equal(ops_mail_new(&o, &m), CF_OK);
    assert_int_equal(
        send_mail(m, "someone@example.test", "CANARY subject", "CANARY body\n"),
        CF_OK);
    assert_int_equal(send_mail(m, "a@b\r\nBcc: c@d", "s", "b"), CF_EINVAL);
    ops_mail_stats(m, &st);
    ops_mail_free(m, 1000);
    logs = capture_stop(&cap);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.waiting, 0);
    assert_non_null(strstr(logs, "\"msg\":\"mail.off\""));
    assert_null(strstr(logs, "CANARY"));
    assert_null(strstr(logs, "someone"));
    free(logs);
    o.smtp_url = NULL;
    m = NULL;
    assert_int_equal(ops_mail_new(&o, &m), CF_OK);
    ops_mail_free(m, 0);
}

static void
test_free_is_prompt(void **state)
{
    struct mail_setup ms;
    struct ops_mail *m = NULL;
    struct ops_mail_stats st;
    uint64_t t0;
    uint64_t took;
    int port;
    int hole = black_hole(&port);

    (void)state;
    /* a server that accepts and never answers: the transfer is aborted */
    setup_for(&ms, port);
    ms.o.timeout_s = 30;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    assert_int_equal(send_mail(m, "a@example.test", "hang", "x\n"), CF_OK);
    sleep_ms(200);
    ops_mail_stats(m, &st);
    assert_int_equal(st.waiting, 1);
    t0 = now_ms();
    ops_mail_free(m, 300);
    took = now_ms() - t0;
    print_message("free with a hung transfer: %llu ms (grace 300)\n",
                  (unsigned long long)took);
    assert_true(took >= 300);
    assert_true(took < 300 + 1500);
    close(hole);

    /* refused, waiting a minute for its retry: tried once more, then
     * dropped when the grace is over */
    setup_for(&ms, free_port());
    ms.o.retry_first_ms = 60000;
    m = NULL;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    assert_int_equal(send_mail(m, "a@example.test", "refused", "x\n"), CF_OK);
    sleep_ms(100);
    t0 = now_ms();
    ops_mail_free(m, 200);
    took = now_ms() - t0;
    assert_true(took < 200 + 1000);

    /* delivered within the grace: free waits for it, not longer */
    setup_for(&ms, tls_sink.port);
    m = NULL;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    assert_int_equal(send_mail(m, "a@example.test", "quick", "x\n"), CF_OK);
    t0 = now_ms();
    ops_mail_free(m, 5000);
    took = now_ms() - t0;
    assert_true(took < 5000);
}

/* Many threads send at once; every message is delivered exactly once. */
struct burst {
    struct ops_mail *m;
    int idx;
};

static void *
burst_main(void *arg)
{
    struct burst *b = arg;
    char to[64];
    int i;

    for (i = 0; i < 5; i++) {
        snprintf(to, sizeof(to), "t%d-%d@example.test", b->idx, i);
        assert_int_equal(send_mail(b->m, to, "burst", "x\n"), CF_OK);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    struct mail_setup ms;
    struct ops_mail *m = NULL;
    struct ops_mail_stats st;
    struct burst b[4];
    pthread_t th[4];
    int i;
    int before = sink_count(&tls_sink);

    (void)state;
    setup_for(&ms, tls_sink.port);
    ms.o.queue_max = 64;
    assert_int_equal(ops_mail_new(&ms.o, &m), CF_OK);
    for (i = 0; i < 4; i++) {
        b[i] = (struct burst){.m = m, .idx = i};
        assert_int_equal(pthread_create(&th[i], NULL, burst_main, &b[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    st = wait_done(m, 20, WAIT_MS);
    ops_mail_free(m, 1000);
    assert_int_equal(st.queued, 20);
    assert_int_equal(st.sent, 20);
    assert_true(sink_wait_count(&tls_sink, before + 20, WAIT_MS));
    sleep_ms(100);
    assert_int_equal(sink_count(&tls_sink), before + 20);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qp_table),
        cmocka_unit_test(test_header_table),
        cmocka_unit_test(test_deliver_utf8),
        cmocka_unit_test(test_injection_refused),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_retry_until_sink_starts),
        cmocka_unit_test(test_starttls_required),
        cmocka_unit_test(test_untrusted_certificate),
        cmocka_unit_test(test_wrong_host_name),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_mail_off),
        cmocka_unit_test(test_free_is_prompt),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests_name("mail", tests, group_setup,
                                       group_teardown);
}
