/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The key a client address is counted under by rate limits and bans
 * (COMMITMENT A6). One
 * IPv6 subscriber usually holds a whole /64 and can pick any address in
 * it, so IPv6 clients are keyed by their /64; an IPv4 address seen
 * through an IPv6 socket (::ffff:a.b.c.d) is its IPv4 address.
 */
#include "core/compat.h"

#include <arpa/inet.h>

#include "core/core.h"

const char *
cf_client_key(const char *ip, char *out, size_t cap)
{
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];

    if (cap == 0) {
        return out;
    }
    if (ip == NULL) {
        out[0] = '\0';
        return out;
    }
    if (inet_pton(AF_INET6, ip, a) != 1) {
        cf_strlcpy(out, ip, cap); /* IPv4, or not an address */
        return out;
    }
    if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 &&
        inet_ntop(AF_INET, a + 12, text, sizeof(text)) != NULL) {
        cf_strlcpy(out, text, cap);
        return out;
    }
    memset(a + 8, 0, 8);
    if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL) {
        cf_strlcpy(out, ip, cap);
        return out;
    }
    snprintf(out, cap, "%s/64", text);
    return out;
}
