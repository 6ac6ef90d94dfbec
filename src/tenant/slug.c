/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Slug rules and Host header parsing. Both face hostile input directly (the
 * CLI and every HTTP request), so both are small, allocation-free and
 * fuzzed (tests/fuzz/fuzz_host.c).
 */
#include "core/compat.h"

#include <strings.h>

#include "tenant/tenant.h"

/* Names that would shadow platform hosts or mislead users. */
static const char *const tenant_reserved[] = {
    "www",    "api",    "admin",  "status", "trust",    "app",
    "mail",   "static", "assets", "cdn",    "platform", "metrics",
    "health", "login",  "auth",   "root",   "support",  "security",
};

enum cf_rc
tenant_slug_check(const char *slug, const char **reason)
{
    size_t len = strnlen(slug, TENANT_SLUG_MAX + 1);
    size_t i;

    if (len < TENANT_SLUG_MIN || len > TENANT_SLUG_MAX) {
        *reason = "a slug has 3 to 40 characters";
        return CF_ERR(CF_EINVAL);
    }
    for (i = 0; i < len; i++) {
        char c = slug[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            *reason = "a slug uses only a-z, 0-9 and '-'";
            return CF_ERR(CF_EINVAL);
        }
    }
    if (slug[0] == '-' || slug[len - 1] == '-') {
        *reason = "a slug does not start or end with '-'";
        return CF_ERR(CF_EINVAL);
    }
    for (i = 0; i < CF_ARRAY_LEN(tenant_reserved); i++) {
        if (strcmp(slug, tenant_reserved[i]) == 0) {
            *reason = "this slug is reserved";
            return CF_ERR(CF_EINVAL);
        }
    }
    return CF_OK;
}

/* RFC 1123 host name: labels of 1-63 [A-Za-z0-9-], no '-' at either end. */
static bool
host_name_valid(const char *name, size_t len)
{
    size_t label = 0;
    size_t i;

    if (len == 0 || len > TENANT_HOST_MAX) {
        return false;
    }
    for (i = 0; i < len; i++) {
        char c = name[i];

        if (c == '.') {
            if (label == 0 || name[i - 1] == '-') {
                return false;
            }
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
        if (c == '-' && label == 0) {
            return false;
        }
        if (++label > 63) {
            return false;
        }
    }
    return label > 0 && name[len - 1] != '-';
}

enum cf_rc
tenant_host_parse(const char *host, const char *base_domain,
                  enum tenant_host_kind *kind, char *label)
{
    const char *colon;
    size_t len;
    size_t blen = strlen(base_domain);
    size_t i;
    uint64_t port;

    if (host == NULL) {
        return CF_ERR(CF_EINVAL);
    }
    len = strnlen(host, TENANT_HOST_MAX + 8);
    if (len > TENANT_HOST_MAX + 6) {
        return CF_ERR(CF_EINVAL);
    }
    colon = memchr(host, ':', len);
    if (colon != NULL) {
        char digits[8];
        size_t plen = len - (size_t)(colon - host) - 1;

        if (plen == 0 || plen > 5) {
            return CF_ERR(CF_EINVAL);
        }
        memcpy(digits, colon + 1, plen);
        digits[plen] = '\0';
        if (cf_parse_u64(digits, 1, 65535, &port) != CF_OK) {
            return CF_ERR(CF_EINVAL);
        }
        len = (size_t)(colon - host);
    }
    /* one trailing dot names the same host */
    if (len > 0 && host[len - 1] == '.') {
        len--;
    }
    if (!host_name_valid(host, len)) {
        return CF_ERR(CF_EINVAL);
    }
    if (len == blen && strncasecmp(host, base_domain, blen) == 0) {
        *kind = TENANT_HOST_PLATFORM;
        label[0] = '\0';
        return CF_OK;
    }
    if (len > blen + 1 && host[len - blen - 1] == '.' &&
        strncasecmp(host + len - blen, base_domain, blen) == 0) {
        size_t llen = len - blen - 1;

        for (i = 0; i < llen; i++) {
            char c = host[i];

            label[i] = c;
            if (c >= 'A' && c <= 'Z') {
                label[i] = (char)(c | 0x20);
            }
        }
        label[llen] = '\0';
        *kind = TENANT_HOST_TENANT;
        return CF_OK;
    }
    *kind = TENANT_HOST_FOREIGN;
    label[0] = '\0';
    return CF_OK;
}

void
tenant_url(const char *slug, const char *base_domain, const char *listen,
           char *out, size_t cap)
{
    const char *colon = strrchr(listen, ':');
    const char *port = colon != NULL ? colon + 1 : "8443";
    /* built on every request (links in mail): copied, not formatted */
    const char *parts[] = {"https://", slug, ".", base_domain, ":", port};

    (void)cf_strjoin(out, cap, parts, strcmp(port, "443") == 0 ? 4 : 6);
}
