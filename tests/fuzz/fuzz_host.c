/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for the Host header parser and the slug rules
 * (tenant_host_parse, tenant_slug_check in src/tenant/slug.c), which see
 * every HTTP request and every slug typed at the CLI. The whole input is the
 * Host header; it is parsed against several base domains and compared with
 * a small, deliberately naive reference parser written from the header's
 * contract, so a disagreement in either direction (a hostile name accepted,
 * a valid one refused, a wrong tenant label) aborts. The input is also run
 * through tenant_slug_check() and re-checked against the documented slug
 * rules, as is every tenant label the parser returns. Out-parameters must
 * stay untouched on failure (STYLE rule 8).
 */
#include "core/compat.h"

#include "tenant/tenant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Base domains the input is parsed against: the default, mixed case, and
 * a multi-label one. */
static const char *const fuzz_bases[] = {
    "localhost",
    "Coffre.Example",
    "a.b",
};

/* Copy of tenant_reserved[] in src/tenant/slug.c. A name added there and
 * not here shows up as a disagreement: update both. */
static const char *const fuzz_reserved[] = {
    "www",    "api",    "admin",  "status", "trust",    "app",
    "mail",   "static", "assets", "cdn",    "platform", "metrics",
    "health", "login",  "auth",   "root",   "support",  "security",
};

#define FUZZ_SENTINEL 0x5a

static void __attribute__((noreturn))
fuzz_fail(const char *what, const char *input, const char *base)
{
    fprintf(stderr, "fuzz_host: %s (host \"%s\", base \"%s\")\n", what, input,
            base ? base : "-");
    abort();
}

static char
ref_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool
ref_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

static bool
ref_same_nocase(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (ref_lower(a[i]) != ref_lower(b[i])) {
            return false;
        }
    }
    return true;
}

/* The header's contract, written the obvious way: "name[:port]", port
 * 1-65535 in at most 5 digits, one trailing dot allowed, RFC 1123 labels of
 * 1-63 [A-Za-z0-9-] without '-' at either end, a name of at most 253. */
static bool
ref_host_parse(const char *host, const char *base, enum tenant_host_kind *kind,
               char *label)
{
    size_t total = strlen(host);
    const char *colon = strchr(host, ':');
    size_t nlen = colon ? (size_t)(colon - host) : total;
    size_t blen = strlen(base);
    size_t start = 0;
    size_t i;

    if (total > TENANT_HOST_MAX + 6) {
        return false;
    }
    if (colon != NULL) {
        unsigned long port = 0;
        size_t digits = 0;
        const char *p;

        for (p = colon + 1; *p; p++) {
            if (*p < '0' || *p > '9' || ++digits > 5) {
                return false;
            }
            port = port * 10 + (unsigned long)(*p - '0');
        }
        if (digits == 0 || port < 1 || port > 65535) {
            return false;
        }
    }
    if (nlen > 0 && host[nlen - 1] == '.') {
        nlen--;
    }
    if (nlen == 0 || nlen > TENANT_HOST_MAX) {
        return false;
    }
    for (;;) {
        size_t end = start;

        while (end < nlen && host[end] != '.') {
            end++;
        }
        if (end == start || end - start > 63 || host[start] == '-' ||
            host[end - 1] == '-') {
            return false;
        }
        for (i = start; i < end; i++) {
            if (!ref_label_char(host[i])) {
                return false;
            }
        }
        if (end == nlen) {
            break;
        }
        start = end + 1;
    }
    label[0] = '\0';
    if (nlen == blen && ref_same_nocase(host, base, blen)) {
        *kind = TENANT_HOST_PLATFORM;
    } else if (nlen > blen + 1 && host[nlen - blen - 1] == '.' &&
               ref_same_nocase(host + nlen - blen, base, blen)) {
        size_t llen = nlen - blen - 1;

        for (i = 0; i < llen; i++) {
            label[i] = ref_lower(host[i]);
        }
        label[llen] = '\0';
        *kind = TENANT_HOST_TENANT;
    } else {
        *kind = TENANT_HOST_FOREIGN;
    }
    return true;
}

/* The documented slug rules, checked one by one. */
static bool
ref_slug_ok(const char *s)
{
    size_t len = strlen(s);
    size_t i;

    if (len < TENANT_SLUG_MIN || len > TENANT_SLUG_MAX) {
        return false;
    }
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    if (s[0] == '-' || s[len - 1] == '-') {
        return false;
    }
    for (i = 0; i < CF_ARRAY_LEN(fuzz_reserved); i++) {
        if (strcmp(s, fuzz_reserved[i]) == 0) {
            return false;
        }
    }
    return true;
}

static void
fuzz_slug(const char *slug, const char *input)
{
    const char *reason = NULL;
    enum cf_rc rc = tenant_slug_check(slug, &reason);
    bool want = ref_slug_ok(slug);

    if (rc != CF_OK && rc != CF_EINVAL) {
        fuzz_fail("tenant_slug_check returned an unexpected code", input, NULL);
    }
    if ((rc == CF_OK) != want) {
        fuzz_fail(want ? "tenant_slug_check refused a valid slug"
                       : "tenant_slug_check accepted an invalid slug",
                  slug, NULL);
    }
    if (rc != CF_OK && (reason == NULL || reason[0] == '\0')) {
        fuzz_fail("tenant_slug_check refused without a reason", slug, NULL);
    }
}

static void
fuzz_host_one(const char *host, size_t size, const char *base, char *label)
{
    enum tenant_host_kind kind = (enum tenant_host_kind)0;
    enum tenant_host_kind want_kind = (enum tenant_host_kind)0;
    char want_label[TENANT_HOST_MAX + 1];
    bool want = ref_host_parse(host, base, &want_kind, want_label);
    enum cf_rc rc;
    size_t llen;
    size_t i;

    memset(label, FUZZ_SENTINEL, TENANT_HOST_MAX + 1);
    rc = tenant_host_parse(host, base, &kind, label);
    if (rc != CF_OK) {
        if (rc != CF_EINVAL) {
            fuzz_fail("tenant_host_parse returned an unexpected code", host,
                      base);
        }
        if (want) {
            fuzz_fail("tenant_host_parse refused a valid host", host, base);
        }
        if (kind != (enum tenant_host_kind)0) {
            fuzz_fail("kind written on failure", host, base);
        }
        for (i = 0; i < TENANT_HOST_MAX + 1; i++) {
            if ((unsigned char)label[i] != FUZZ_SENTINEL) {
                fuzz_fail("label written on failure", host, base);
            }
        }
        return;
    }
    if (!want) {
        fuzz_fail("tenant_host_parse accepted an invalid host", host, base);
    }
    if (kind != want_kind) {
        fuzz_fail("tenant_host_parse gave the wrong kind", host, base);
    }
    llen = strnlen(label, TENANT_HOST_MAX + 1);
    if (llen > TENANT_HOST_MAX) {
        fuzz_fail("label is not NUL-terminated", host, base);
    }
    if (strcmp(label, want_label) != 0) {
        fuzz_fail("tenant_host_parse gave the wrong label", host, base);
    }
    switch (kind) {
    case TENANT_HOST_PLATFORM:
    case TENANT_HOST_FOREIGN:
        if (llen != 0) {
            fuzz_fail("non-tenant host with a label", host, base);
        }
        break;
    case TENANT_HOST_TENANT:
        if (llen == 0 || llen >= size || llen >= strlen(host)) {
            fuzz_fail("tenant label empty or not shorter than the host", host,
                      base);
        }
        for (i = 0; i < llen; i++) {
            char c = label[i];

            if (c == ':' || (c >= 'A' && c <= 'Z') ||
                !(ref_label_char(c) || c == '.')) {
                fuzz_fail("tenant label has a bad character", host, base);
            }
        }
        /* what the server does next with the label */
        fuzz_slug(label, host);
        break;
    default:
        fuzz_fail("kind out of range", host, base);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size buffers so that ASan sees any overrun */
    char *host = malloc(size + 1);
    char *label = malloc(TENANT_HOST_MAX + 1);
    size_t b;

    if (host == NULL || label == NULL) {
        free(host);
        free(label);
        return 0;
    }
    if (size > 0) {
        memcpy(host, data, size);
    }
    host[size] = '\0';
    for (b = 0; b < CF_ARRAY_LEN(fuzz_bases); b++) {
        fuzz_host_one(host, size, fuzz_bases[b], label);
    }
    fuzz_slug(host, host);
    free(label);
    free(host);
    return 0;
}
