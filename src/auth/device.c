/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A short device label for the access journal (COMMITMENT C1) from the
 * User-Agent header: browser family and operating system family only, so
 * the label says what a person recognises ("Firefox on Linux") and keeps
 * no fingerprint. Hostile input: bounded, allocation-free, fuzzed.
 */
#include "core/compat.h"

#include "auth/auth.h"

#define UA_SCAN_MAX 512

struct ua_rule {
    const char *needle;
    const char *label;
};

/* First match wins: order matters (Edge and Opera also say Chrome). */
static const struct ua_rule ua_browsers[] = {
    {"Edg/", "Edge"},        {"OPR/", "Opera"},
    {"Firefox/", "Firefox"}, {"Chromium/", "Chromium"},
    {"Chrome/", "Chrome"},   {"Safari/", "Safari"},
    {"curl/", "curl"},       {"python-requests/", "Python"},
    {"Wget/", "Wget"},       {"hydra", "Hydra"},
};

static const struct ua_rule ua_systems[] = {
    {"Android", "Android"}, {"iPhone", "iOS"},     {"iPad", "iPadOS"},
    {"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"},
    {"Linux", "Linux"},
};

static const char *
ua_find(const char *ua, size_t len, const struct ua_rule *rules, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (memmem(ua, len, rules[i].needle, strlen(rules[i].needle)) != NULL) {
            return rules[i].label;
        }
    }
    return NULL;
}

const char *
auth_device_label(const char *user_agent, char *out, size_t cap)
{
    const char *browser = NULL;
    const char *os = NULL;
    size_t len;

    if (cap == 0) {
        return out;
    }
    if (user_agent != NULL) {
        len = strnlen(user_agent, UA_SCAN_MAX);
        browser =
            ua_find(user_agent, len, ua_browsers, CF_ARRAY_LEN(ua_browsers));
        os = ua_find(user_agent, len, ua_systems, CF_ARRAY_LEN(ua_systems));
    }
    if (browser != NULL && os != NULL) {
        snprintf(out, cap, "%s on %s", browser, os);
    } else if (browser != NULL || os != NULL) {
        snprintf(out, cap, "%s", browser != NULL ? browser : os);
    } else {
        snprintf(out, cap, "unknown device");
    }
    return out;
}
