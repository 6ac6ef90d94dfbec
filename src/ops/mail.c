/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Outgoing mail: the cf_mailer behind account notices and password resets.
 * send() checks the message, formats it (RFC 5322 headers, MIME text/plain
 * in quoted-printable, an RFC 2047 subject) in the caller's thread and
 * queues it; one sender thread delivers it over SMTP with libcurl, TLS
 * required and verified, and retries a failure with a doubling delay. A
 * body may hold a single-use link, so every copy is wiped before it is
 * freed and the log names a message by a random id only. This is the only
 * file that uses libcurl.
 */
#include "core/compat.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ops/ops.h"

#define MAIL_ADDR_MAX 254    /* RFC 5321 path, in bytes */
#define MAIL_SUBJECT_MAX 998 /* RFC 5322 line */
#define MAIL_BODY_MAX ((size_t)256 * 1024)
/* Quoted-printable at most triples a byte and adds a soft break per 75
 * characters; the headers fit in the rest. */
#define MAIL_MSG_MAX (4 * MAIL_BODY_MAX + 16384)
#define MAIL_PASSWORD_MAX 1024
#define MAIL_RETRY_FIRST_MS 5000u
#define MAIL_RETRY_MAX_MS ((uint64_t)3600 * 1000)
#define MAIL_ATTEMPTS 6u
#define MAIL_TIMEOUT_S 30u
#define MAIL_ID_BYTES 16
#define MAIL_ID_LEN (2 * MAIL_ID_BYTES)
#define MAIL_QP_LINE 76     /* RFC 2045 6.7 (5) */
#define MAIL_HEADER_LINE 78 /* RFC 5322 2.1.1 */
#define MAIL_EW_LINE 76     /* RFC 2047 2: a line holding encoded-words */
#define MAIL_EW_OVERHEAD 12 /* "=?UTF-8?B?" and "?=" */
#define MAIL_NS_PER_MS 1000000u

/* One queued message: the recipient and the formatted message (a second
 * allocation), both wiped before they are freed. The subject and body are
 * not kept apart from the formatted message. */
struct mail_item {
    struct mail_item *next;
    char *msg; /* the whole message, CRLF line ends */
    size_t msg_len;
    size_t msg_cap; /* bytes allocated at msg, all wiped */
    size_t msg_off; /* read position of the current attempt */
    unsigned attempts;
    uint64_t due_ns; /* monotonic time of the next attempt */
    char to[MAIL_ADDR_MAX + 1];
    char id[MAIL_ID_LEN + 1]; /* the Message-ID's left part; logged */
};

struct ops_mail {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    bool sync_ready;
    pthread_t thread;
    bool started;
    bool off; /* no URL: every message is dropped */

    /* under mu */
    struct mail_item *head;
    struct mail_item *tail;
    unsigned count;    /* in the list */
    unsigned inflight; /* taken by the sender */
    bool stopping;
    uint64_t stop_at_ns;
    uint64_t queued;
    uint64_t sent;
    uint64_t failed;
    uint64_t dropped;

    /* read by the progress callback during a transfer */
    _Atomic uint64_t abort_at_ns;

    /* set by ops_mail_new(), read-only after */
    unsigned queue_max;
    unsigned retry_first_ms;
    unsigned attempts;
    unsigned timeout_s;
    char *url;
    char *from;
    const char *from_domain; /* inside from */
    char *mail_from;         /* "<from>" for MAIL FROM */
    char *username;
    char *password_secret;
    size_t password_cap;
    char *ca_file;

    /* the sender thread's own */
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- checks --------------------------------------------------------- */

/* Length of the UTF-8 character at s[0..n), 0 when it is not one (a
 * stray continuation byte, an overlong form, a surrogate, past U+10FFFF or
 * cut short). */
static size_t
mail_utf8_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    size_t i;
    uint32_t cp;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

static bool
mail_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        size_t k = mail_utf8_char(p + i, n - i);

        if (k == 0) {
            return false;
        }
        i += k;
    }
    return true;
}

/*
 * One address, local@domain, that cannot be read as anything else in a
 * header or an SMTP command: no control character, space or DEL (so no
 * CR or LF), none of < > , ; : ( ) " \ (which would start a second
 * address, a group, a comment or a quoted string), exactly one '@' with
 * something on both sides, valid UTF-8, at most 254 bytes.
 */
static bool
mail_addr_valid(const char *s)
{
    size_t len;
    const char *at;
    size_t i;

    if (s == NULL) {
        return false;
    }
    len = strnlen(s, MAIL_ADDR_MAX + 1);
    if (len == 0 || len > MAIL_ADDR_MAX) {
        return false;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c == 0x7f || strchr("<>,;:()\"\\", c) != NULL) {
            return false;
        }
    }
    at = memchr(s, '@', len);
    if (at == NULL || at == s || at == s + len - 1 ||
        memchr(at + 1, '@', len - (size_t)(at - s) - 1) != NULL) {
        return false;
    }
    return mail_utf8_valid(s, len);
}

static enum cf_rc
mail_check(const struct cf_mail *mail)
{
    size_t len;

    if (mail == NULL || !mail_addr_valid(mail->to) || mail->subject == NULL ||
        mail->body == NULL) {
        return CF_ERR(CF_EINVAL);
    }
    len = strnlen(mail->subject, MAIL_SUBJECT_MAX + 1);
    if (len > MAIL_SUBJECT_MAX || memchr(mail->subject, '\r', len) != NULL ||
        memchr(mail->subject, '\n', len) != NULL ||
        !mail_utf8_valid(mail->subject, len)) {
        return CF_ERR(CF_EINVAL);
    }
    len = strnlen(mail->body, MAIL_BODY_MAX + 1);
    if (len > MAIL_BODY_MAX) {
        return CF_ERR(CF_ETOOBIG);
    }
    if (!mail_utf8_valid(mail->body, len)) {
        return CF_ERR(CF_EINVAL);
    }
    return CF_OK;
}

/* ---- format --------------------------------------------------------- */

enum cf_rc
ops_mail_qp_encode(const char *text, size_t len, struct cf_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    size_t col = 0;
    enum cf_rc rc = CF_OK;

    while (i < len && rc == CF_OK) {
        unsigned char c = p[i];
        char tok[3];
        size_t tlen = 1;
        bool eol;

        if (c == '\n' || (c == '\r' && i + 1 < len && p[i + 1] == '\n')) {
            rc = cf_buf_add(out, "\r\n", 2);
            col = 0;
            i += c == '\r' ? 2 : 1;
            continue;
        }
        /* last character before a line break or the end */
        eol = i + 1 == len || p[i + 1] == '\n' ||
              (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n');
        if ((c >= 33 && c <= 126 && c != '=') ||
            ((c == ' ' || c == '\t') && !eol)) {
            tok[0] = (char)c;
        } else {
            tok[0] = '=';
            tok[1] = hex[c >> 4];
            tok[2] = hex[c & 15];
            tlen = 3;
        }
        /* Keep room for the "=" of a soft break, unless this ends the
         * line. A space before a soft break is safe: "=" follows it. */
        if (col + tlen > (eol ? MAIL_QP_LINE : MAIL_QP_LINE - 1)) {
            rc = cf_buf_add(out, "=\r\n", 3);
            col = 0;
            if (rc != CF_OK) {
                break;
            }
        }
        rc = cf_buf_add(out, tok, tlen);
        col += tlen;
        i++;
    }
    return rc;
}

static enum cf_rc
mail_base64(const unsigned char *p, size_t n, struct cf_buf *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    enum cf_rc rc = CF_OK;
    size_t i;

    for (i = 0; i < n && rc == CF_OK; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        char q[4];

        if (i + 1 < n) {
            v |= (uint32_t)p[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= p[i + 2];
        }
        q[0] = tab[(v >> 18) & 63];
        q[1] = tab[(v >> 12) & 63];
        q[2] = tab[(v >> 6) & 63];
        q[3] = tab[v & 63];
        if (i + 1 >= n) {
            q[2] = '=';
        }
        if (i + 2 >= n) {
            q[3] = '=';
        }
        rc = cf_buf_add(out, q, 4);
    }
    return rc;
}

enum cf_rc
ops_mail_header_encode(const char *s, size_t name_len, struct cf_buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    size_t used = name_len + 2; /* "Name: " */
    size_t room;
    size_t i;
    bool plain = used + len <= MAIL_HEADER_LINE && strstr(s, "=?") == NULL;
    enum cf_rc rc = CF_OK;

    for (i = 0; plain && i < len; i++) {
        plain = p[i] >= 0x20 && p[i] <= 0x7e;
    }
    if (plain) {
        return cf_buf_add(out, s, len);
    }
    /* base64 characters the first line holds; then " " + a word a line */
    room = used + MAIL_EW_OVERHEAD < MAIL_EW_LINE
               ? MAIL_EW_LINE - used - MAIL_EW_OVERHEAD
               : 0;
    i = 0;
    while (i < len && rc == CF_OK) {
        size_t n = 0;

        /* whole characters only (RFC 2047 section 5), at least one */
        while (i + n < len) {
            size_t k = mail_utf8_char(p + i + n, len - i - n);

            if (k == 0) {
                k = 1;
            }
            if (n > 0 && 4 * ((n + k + 2) / 3) > room) {
                break;
            }
            n += k;
        }
        if (i > 0) {
            rc = cf_buf_add(out, "\r\n ", 3);
        }
        if (rc == CF_OK) {
            rc = cf_buf_adds(out, "=?UTF-8?B?");
        }
        if (rc == CF_OK) {
            rc = mail_base64(p + i, n, out);
        }
        if (rc == CF_OK) {
            rc = cf_buf_adds(out, "?=");
        }
        i += n;
        room = MAIL_EW_LINE - 1 - MAIL_EW_OVERHEAD;
    }
    return rc;
}

/* "Tue, 24 Nov 2026 21:43:42 +0000" (RFC 5322 3.3), in English whatever
 * the locale. */
static void
mail_date(char out[48])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
                                       "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
                                         "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec"};
    time_t t = time(NULL);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL) {
        memset(&tm, 0, sizeof(tm));
        tm.tm_mday = 1;
        tm.tm_year = 70;
        tm.tm_wday = 4;
    }
    snprintf(out, 48, "%s, %02d %s %04d %02d:%02d:%02d +0000",
             days[(unsigned)tm.tm_wday % 7], tm.tm_mday,
             months[(unsigned)tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
}

static enum cf_rc
mail_format(const struct ops_mail *m, const struct cf_mail *mail,
            const char *id, struct cf_buf *b)
{
    char date[48];
    size_t body_len = strlen(mail->body);
    enum cf_rc rc;

    mail_date(date);
    rc = cf_buf_addf(b, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: ", date,
                     m->from, mail->to);
    if (rc == CF_OK) {
        rc = ops_mail_header_encode(mail->subject, strlen("Subject"), b);
    }
    if (rc == CF_OK) {
        rc = cf_buf_addf(b,
                         "\r\nMessage-ID: <%s@%s>\r\n"
                         "MIME-Version: 1.0\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: quoted-printable\r\n"
                         "Auto-Submitted: auto-generated\r\n"
                         "\r\n",
                         id, m->from_domain);
    }
    if (rc == CF_OK) {
        rc = ops_mail_qp_encode(mail->body, body_len, b);
    }
    if (rc == CF_OK && (body_len == 0 || mail->body[body_len - 1] != '\n')) {
        rc = cf_buf_add(b, "\r\n", 2);
    }
    return rc;
}

/* ---- queue ---------------------------------------------------------- */

static void
mail_item_free(struct mail_item *it)
{
    if (it == NULL) {
        return;
    }
    if (it->msg != NULL) {
        cf_memzero(it->msg, it->msg_cap);
        cf_free(it->msg);
    }
    cf_memzero(it, sizeof(*it));
    cf_free(it);
}

static enum cf_rc
mail_item_new(const struct ops_mail *m, const struct cf_mail *mail,
              struct mail_item **out)
{
    struct mail_item *it = NULL;
    struct cf_buf b;
    size_t cap;
    enum cf_rc rc = CF_EINTERNAL;

    cf_buf_init(&b, MAIL_MSG_MAX);
    it = cf_calloc(1, sizeof(*it));
    if (it == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    rc = cf_id_hex(it->id, MAIL_ID_BYTES);
    if (rc != CF_OK) {
        goto out;
    }
    memcpy(it->to, mail->to, strlen(mail->to) + 1); /* checked: fits */
    rc = mail_format(m, mail, it->id, &b);
    if (rc != CF_OK) {
        goto out;
    }
    cap = b.cap;
    rc = cf_buf_detach(&b, &it->msg, &it->msg_len);
    if (rc != CF_OK) {
        goto out;
    }
    it->msg_cap = cap;
    *out = it;
    it = NULL; /* transferred */
    rc = CF_OK;
out:
    cf_buf_release(&b);
    mail_item_free(it);
    return rc;
}

static void
mail_append(struct ops_mail *m, struct mail_item *it)
{
    it->next = NULL;
    if (m->tail != NULL) {
        m->tail->next = it;
    } else {
        m->head = it;
    }
    m->tail = it;
    m->count++;
}

/* Unlink the first item due at now; NULL when none is, with *next_due the
 * earliest due time (UINT64_MAX: the queue is empty). */
static struct mail_item *
mail_take_due(struct ops_mail *m, uint64_t now, uint64_t *next_due)
{
    struct mail_item *prev = NULL;
    struct mail_item *it;

    *next_due = UINT64_MAX;
    for (it = m->head; it != NULL; prev = it, it = it->next) {
        if (it->due_ns <= now) {
            if (prev != NULL) {
                prev->next = it->next;
            } else {
                m->head = it->next;
            }
            if (m->tail == it) {
                m->tail = prev;
            }
            it->next = NULL;
            m->count--;
            return it;
        }
        if (it->due_ns < *next_due) {
            *next_due = it->due_ns;
        }
    }
    return NULL;
}

/* Wait on cv until woken or the monotonic time until_ns. */
static void
mail_wait(struct ops_mail *m, uint64_t until_ns)
{
    struct timespec ts;

    if (until_ns == UINT64_MAX) {
        pthread_cond_wait(&m->cv, &m->mu);
        return;
    }
    ts.tv_sec = (time_t)(until_ns / 1000000000u);
    ts.tv_nsec = (long)(until_ns % 1000000000u);
    pthread_cond_timedwait(&m->cv, &m->mu, &ts);
}

/* ---- transfer ------------------------------------------------------- */

static size_t
mail_read(char *buf, size_t size, size_t nitems, void *arg)
{
    struct mail_item *it = arg;
    size_t room = size * nitems;
    size_t n = it->msg_len - it->msg_off;

    if (n > room) {
        n = room;
    }
    memcpy(buf, it->msg + it->msg_off, n);
    it->msg_off += n;
    return n;
}

/* Abort a transfer once ops_mail_free()'s grace is over. libcurl calls
 * this about once a second, also while connecting. */
static int
mail_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
              curl_off_t ultotal, curl_off_t ulnow)
{
    struct ops_mail *m = arg;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return cf_time_mono_ns() >= atomic_load(&m->abort_at_ns) ? 1 : 0;
}

static CURLcode
mail_curl_opts(struct ops_mail *m, CURL *c)
{
    CURLcode cc = curl_easy_setopt(c, CURLOPT_URL, m->url);

    /* never http:// or file:// whatever the URL says, and no proxy from
     * the environment */
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_PROXY, "");
    }
    /* smtp://: STARTTLS or no mail; never in clear */
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_SSLVERSION,
                              (long)CURL_SSLVERSION_TLSv1_2);
    }
    /* the defaults, stated: the peer and its name are checked */
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (cc == CURLE_OK && m->ca_file != NULL) {
        cc = curl_easy_setopt(c, CURLOPT_CAINFO, m->ca_file);
    }
    if (cc == CURLE_OK && m->username != NULL) {
        cc = curl_easy_setopt(c, CURLOPT_USERNAME, m->username);
    }
    if (cc == CURLE_OK && m->password_secret != NULL) {
        cc = curl_easy_setopt(c, CURLOPT_PASSWORD, m->password_secret);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_MAIL_FROM, m->mail_from);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_READFUNCTION, mail_read);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)m->timeout_s);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)m->timeout_s);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, mail_progress);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_XFERINFODATA, m);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, m->errbuf);
    }
    return cc;
}

/* One delivery attempt of it; the error text is left in m->errbuf. libcurl
 * does the SMTP dot-stuffing of the message itself. */
static CURLcode
mail_attempt(struct ops_mail *m, struct mail_item *it)
{
    char rcpt_addr[MAIL_ADDR_MAX + 3];
    struct curl_slist *rcpt;
    CURLcode cc;

    snprintf(rcpt_addr, sizeof(rcpt_addr), "<%s>", it->to);
    rcpt = curl_slist_append(NULL, rcpt_addr);
    if (rcpt == NULL) {
        return CURLE_OUT_OF_MEMORY;
    }
    it->msg_off = 0;
    m->errbuf[0] = '\0';
    cc = curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, rcpt);
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(m->curl, CURLOPT_READDATA, it);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(m->curl, CURLOPT_INFILESIZE_LARGE,
                              (curl_off_t)it->msg_len);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_perform(m->curl);
    }
    (void)curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, NULL);
    (void)curl_easy_setopt(m->curl, CURLOPT_READDATA, NULL);
    curl_slist_free_all(rcpt);
    return cc;
}

static uint64_t
mail_backoff_ms(const struct ops_mail *m, unsigned attempts)
{
    uint64_t ms = m->retry_first_ms;
    unsigned i;

    for (i = 1; i < attempts && ms < MAIL_RETRY_MAX_MS; i++) {
        ms *= 2;
    }
    return ms < MAIL_RETRY_MAX_MS ? ms : MAIL_RETRY_MAX_MS;
}

/* Log the outcome of an attempt of it; no address, subject or body. */
static void
mail_log_outcome(const struct ops_mail *m, const struct mail_item *it,
                 CURLcode cc, uint64_t retry_ms)
{
    char attempt[16];
    char retry[24];
    const char *detail = m->errbuf[0] ? m->errbuf : curl_easy_strerror(cc);

    snprintf(attempt, sizeof(attempt), "%u", it->attempts);
    if (cc == CURLE_OK) {
        cf_log_info("mail.sent", "mail_id", it->id, "attempt", attempt);
    } else if (it->attempts < m->attempts) {
        snprintf(retry, sizeof(retry), "%llu", (unsigned long long)retry_ms);
        cf_log_warn("mail.retry", "mail_id", it->id, "attempt", attempt,
                    "retry_in_ms", retry, "error", curl_easy_strerror(cc),
                    "detail", detail);
    } else {
        cf_log_error("mail.failed", "mail_id", it->id, "attempts", attempt,
                     "error", curl_easy_strerror(cc), "detail", detail);
    }
}

static void *
mail_main(void *arg)
{
    struct ops_mail *m = arg;

    pthread_mutex_lock(&m->mu);
    for (;;) {
        uint64_t now = cf_time_mono_ns();
        uint64_t next_due;
        uint64_t retry_ms = 0;
        struct mail_item *it;
        CURLcode cc;

        if (m->stopping && (m->count == 0 || now >= m->stop_at_ns)) {
            break;
        }
        it = mail_take_due(m, now, &next_due);
        if (it == NULL) {
            if (m->stopping && next_due > m->stop_at_ns) {
                next_due = m->stop_at_ns;
            }
            mail_wait(m, next_due);
            continue;
        }
        m->inflight = 1;
        pthread_mutex_unlock(&m->mu);

        it->attempts++;
        cc = mail_attempt(m, it);
        if (cc == CURLE_ABORTED_BY_CALLBACK) {
            /* stopped by ops_mail_free(): left for it to count */
            it->attempts--;
        } else {
            if (cc != CURLE_OK) {
                retry_ms = mail_backoff_ms(m, it->attempts);
            }
            mail_log_outcome(m, it, cc, retry_ms);
        }

        pthread_mutex_lock(&m->mu);
        m->inflight = 0;
        if (cc == CURLE_OK) {
            m->sent++;
            mail_item_free(it);
        } else if (cc != CURLE_ABORTED_BY_CALLBACK &&
                   it->attempts >= m->attempts) {
            m->failed++;
            mail_item_free(it);
        } else {
            it->due_ns = cf_time_mono_ns() + retry_ms * MAIL_NS_PER_MS;
            mail_append(m, it);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- the mailer ----------------------------------------------------- */

static enum cf_rc
mail_send(void *arg, const struct cf_mail *mail)
{
    struct ops_mail *m = arg;
    struct mail_item *it = NULL;
    enum cf_rc rc = CF_EINTERNAL;

    rc = mail_check(mail);
    if (rc != CF_OK) {
        goto out;
    }
    if (m->off) {
        pthread_mutex_lock(&m->mu);
        m->dropped++;
        pthread_mutex_unlock(&m->mu);
        cf_log_warn("mail.off", "reason",
                    "no [mail] smtp_url: message dropped");
        rc = CF_OK;
        goto out;
    }
    rc = mail_item_new(m, mail, &it);
    if (rc != CF_OK) {
        goto out;
    }
    pthread_mutex_lock(&m->mu);
    if (m->stopping || m->count + m->inflight >= m->queue_max) {
        rc = CF_ERR(CF_EBUSY);
    } else {
        it->due_ns = 0;
        mail_append(m, it);
        m->queued++;
        pthread_cond_signal(&m->cv);
        cf_log_debug("mail.queued", "mail_id", it->id);
        it = NULL; /* transferred */
        rc = CF_OK;
    }
    pthread_mutex_unlock(&m->mu);
    if (rc == CF_EBUSY) {
        cf_log_warn("mail.busy", "mail_id", it->id, "reason",
                    "queue full or stopping");
    }
out:
    mail_item_free(it);
    return rc;
}

void
ops_mail_mailer(struct ops_mail *m, struct cf_mailer *out)
{
    out->send = mail_send;
    out->arg = m;
    out->off = m->off;
}

void
ops_mail_stats(struct ops_mail *m, struct ops_mail_stats *out)
{
    pthread_mutex_lock(&m->mu);
    out->queued = m->queued;
    out->sent = m->sent;
    out->failed = m->failed;
    out->dropped = m->dropped;
    out->waiting = m->count + m->inflight;
    pthread_mutex_unlock(&m->mu);
}

/* ---- set up and tear down ------------------------------------------- */

void
ops_mail_opts_from(const struct cf_config *cfg, struct ops_mail_opts *out)
{
    memset(out, 0, sizeof(*out));
    out->smtp_url = cfg->mail_smtp_url;
    out->from = cfg->mail_from;
    out->username = cfg->mail_username;
    out->password_file = cfg->mail_password_file;
    out->ca_file = cfg->mail_ca_file;
    out->queue_max = cfg->mail_queue;
}

static pthread_once_t mail_curl_once = PTHREAD_ONCE_INIT;
static CURLcode mail_curl_init_rc = CURLE_FAILED_INIT;

static void
mail_curl_init(void)
{
    mail_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool
mail_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* smtp:// or smtps:// with a host, and no user name or password in it
 * (they would reach the log: they come from their own keys). */
static enum cf_rc
mail_url_check(const char *url)
{
    CURLU *u = NULL;
    char *scheme = NULL;
    char *host = NULL;
    char *user = NULL;
    const char *why = NULL;
    enum cf_rc rc = CF_EINTERNAL;

    u = curl_url();
    if (u == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    if (strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0) {
        why = "the URL must start with smtp:// or smtps://";
    } else if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
               curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
               curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
               host[0] == '\0') {
        why = "the URL does not parse or has no host";
    } else if (curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER) {
        why = "credentials go in username and password_file, not the URL";
    }
    if (why != NULL) {
        cf_log_error("invalid mail smtp_url", "reason", why);
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    rc = CF_OK;
out:
    curl_free(user);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* Read the SMTP password from path: a regular file with no permission for
 * group or others; one trailing newline is not part of it. */
static enum cf_rc
mail_password_read(struct ops_mail *m, const char *path)
{
    int fd = -1;
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    const char *why = NULL;
    enum cf_rc rc = CF_EINTERNAL;

    buf = cf_malloc(MAIL_PASSWORD_MAX + 2);
    if (buf == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        why = "cannot open the file";
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        why = "not a regular file";
    } else if ((st.st_mode & 077) != 0) {
        why = "group or others have access: chmod 600";
    }
    while (why == NULL && len <= MAIL_PASSWORD_MAX) {
        ssize_t n = read(fd, buf + len, MAIL_PASSWORD_MAX + 1 - len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            why = "cannot read the file";
        } else if (n == 0) {
            break;
        }
        len += n > 0 ? (size_t)n : 0;
    }
    if (why == NULL && len > MAIL_PASSWORD_MAX) {
        why = "longer than 1024 bytes";
    }
    if (why == NULL && len > 0 && buf[len - 1] == '\n') {
        len--;
        if (len > 0 && buf[len - 1] == '\r') {
            len--;
        }
    }
    if (why == NULL &&
        (len == 0 || memchr(buf, '\0', len) != NULL ||
         memchr(buf, '\n', len) != NULL || memchr(buf, '\r', len) != NULL)) {
        why = "empty, or more than one line";
    }
    if (why != NULL) {
        cf_log_error("invalid mail password_file", "path", path, "reason", why);
        rc = CF_ERR(CF_EINVAL);
        goto out;
    }
    buf[len] = '\0';
    m->password_secret = buf;
    m->password_cap = MAIL_PASSWORD_MAX + 2;
    buf = NULL; /* transferred */
    rc = CF_OK;
out:
    if (buf != NULL) {
        cf_memzero(buf, MAIL_PASSWORD_MAX + 2);
        cf_free(buf);
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

static enum cf_rc
mail_opts_take(struct ops_mail *m, const struct ops_mail_opts *o)
{
    const char *why = NULL;
    enum cf_rc rc;

    if (!mail_addr_valid(o->from)) {
        why = "from is not one address (local@domain)";
    } else if (o->queue_max == 0) {
        why = "queue must be at least 1";
    } else if (mail_empty(o->username) != mail_empty(o->password_file)) {
        why = "username and password_file go together";
    }
    if (why != NULL) {
        cf_log_error("invalid mail configuration", "reason", why);
        return CF_ERR(CF_EINVAL);
    }
    rc = mail_url_check(o->smtp_url);
    if (rc != CF_OK) {
        return rc;
    }
    m->queue_max = o->queue_max;
    m->retry_first_ms =
        o->retry_first_ms ? o->retry_first_ms : MAIL_RETRY_FIRST_MS;
    m->attempts = o->attempts ? o->attempts : MAIL_ATTEMPTS;
    m->timeout_s = o->timeout_s ? o->timeout_s : MAIL_TIMEOUT_S;
    m->url = cf_strdup(o->smtp_url);
    m->from = cf_strdup(o->from);
    m->mail_from = cf_malloc(strlen(o->from) + 3);
    m->username = mail_empty(o->username) ? NULL : cf_strdup(o->username);
    m->ca_file = mail_empty(o->ca_file) ? NULL : cf_strdup(o->ca_file);
    if (m->url == NULL || m->from == NULL || m->mail_from == NULL ||
        (!mail_empty(o->username) && m->username == NULL) ||
        (!mail_empty(o->ca_file) && m->ca_file == NULL)) {
        return CF_ERR(CF_ENOMEM);
    }
    snprintf(m->mail_from, strlen(o->from) + 3, "<%s>", o->from);
    m->from_domain = strchr(m->from, '@') + 1;
    if (!mail_empty(o->password_file)) {
        return mail_password_read(m, o->password_file);
    }
    return CF_OK;
}

static enum cf_rc
mail_sync_init(struct ops_mail *m)
{
    pthread_condattr_t attr;
    int err;

    if (pthread_condattr_init(&attr) != 0) {
        return CF_ERR(CF_ENOMEM);
    }
    err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (err == 0) {
        err = pthread_cond_init(&m->cv, &attr);
    }
    pthread_condattr_destroy(&attr);
    if (err != 0) {
        return CF_ERR(CF_ENOMEM);
    }
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        pthread_cond_destroy(&m->cv);
        return CF_ERR(CF_ENOMEM);
    }
    m->sync_ready = true;
    return CF_OK;
}

enum cf_rc
ops_mail_new(const struct ops_mail_opts *o, struct ops_mail **out)
{
    struct ops_mail *m = NULL;
    CURLcode cc;
    enum cf_rc rc = CF_EINTERNAL;

    m = cf_calloc(1, sizeof(*m));
    if (m == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    atomic_init(&m->abort_at_ns, UINT64_MAX);
    rc = mail_sync_init(m);
    if (rc != CF_OK) {
        goto out;
    }
    if (mail_empty(o->smtp_url)) {
        m->off = true;
        *out = m;
        m = NULL; /* transferred */
        rc = CF_OK;
        goto out;
    }
    pthread_once(&mail_curl_once, mail_curl_init);
    if (mail_curl_init_rc != CURLE_OK) {
        cf_log_error("cannot initialise libcurl", "error",
                     curl_easy_strerror(mail_curl_init_rc));
        rc = CF_ERR(CF_EINTERNAL);
        goto out;
    }
    rc = mail_opts_take(m, o);
    if (rc != CF_OK) {
        goto out;
    }
    m->curl = curl_easy_init();
    if (m->curl == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    cc = mail_curl_opts(m, m->curl);
    if (cc != CURLE_OK) {
        cf_log_error("cannot configure libcurl", "error",
                     curl_easy_strerror(cc));
        rc = CF_ERR(CF_EINTERNAL);
        goto out;
    }
    if (pthread_create(&m->thread, NULL, mail_main, m) != 0) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    m->started = true;
    *out = m;
    m = NULL; /* transferred */
    rc = CF_OK;
out:
    ops_mail_free(m, 0);
    return rc;
}

void
ops_mail_free(struct ops_mail *m, unsigned grace_ms)
{
    struct mail_item *it;
    uint64_t left = 0;
    char n[24];

    if (m == NULL) {
        return;
    }
    if (m->started) {
        pthread_mutex_lock(&m->mu);
        m->stopping = true;
        m->stop_at_ns = cf_time_mono_ns() + (uint64_t)grace_ms * MAIL_NS_PER_MS;
        for (it = m->head; it != NULL; it = it->next) {
            it->due_ns = 0; /* no waiting for a retry now */
        }
        atomic_store(&m->abort_at_ns, m->stop_at_ns);
        pthread_cond_broadcast(&m->cv);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->thread, NULL);
    }
    while ((it = m->head) != NULL) {
        m->head = it->next;
        mail_item_free(it);
        left++;
    }
    if (left > 0) {
        snprintf(n, sizeof(n), "%llu", (unsigned long long)left);
        cf_log_warn("mail.dropped", "count", n, "reason",
                    "undelivered when the transport stopped");
    }
    if (m->curl != NULL) {
        curl_easy_cleanup(m->curl);
    }
    if (m->password_secret != NULL) {
        cf_memzero(m->password_secret, m->password_cap);
        cf_free(m->password_secret);
    }
    cf_free(m->url);
    cf_free(m->from);
    cf_free(m->mail_from);
    cf_free(m->username);
    cf_free(m->ca_file);
    if (m->sync_ready) {
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
    }
    cf_memzero(m, sizeof(*m));
    cf_free(m);
}

void
ops_mail_log_state(const struct ops_mail *m)
{
    if (m == NULL) {
        return;
    }
    if (m->off) {
        cf_log_warn("mail is off: no [mail] smtp_url, messages are dropped");
        return;
    }
    cf_log_info("mail transport started", "url", m->url, "auth",
                m->username != NULL ? "yes" : "no");
}
