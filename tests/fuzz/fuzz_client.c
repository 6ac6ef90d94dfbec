/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for the key rate limits and bans count a client under
 * (cf_client_key, COMMITMENT A6: the client address as MHD gives it, or
 * any bytes).
 * Properties: the key always fits and is NUL-terminated, whatever the cap;
 * an IPv6 address is keyed by its /64 (two addresses sharing the first 64
 * bits share the key, one differing there does not); an IPv4 address, as
 * such or mapped into IPv6, is itself.
 */
#include "core/compat.h"

#include <arpa/inet.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[128];
    char key[CF_CLIENT_KEY_MAX];
    char other[CF_CLIENT_KEY_MAX];
    char small[8];
    char text[INET6_ADDRSTRLEN];
    unsigned char a[16];
    size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;

    memcpy(in, data, n);
    in[n] = '\0';
    cf_client_key(in, key, sizeof(key));
    if (strnlen(key, sizeof(key)) == sizeof(key)) {
        abort();
    }
    cf_client_key(in, small, sizeof(small));
    if (strnlen(small, sizeof(small)) == sizeof(small)) {
        abort();
    }
    if (inet_pton(AF_INET6, in, a) == 1 &&
        memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0) {
        size_t len = strlen(key);

        if (len < 4 || strcmp(key + len - 3, "/64") != 0) {
            abort();
        }
        /* the other half of the /64 does not matter */
        a[15] ^= 0x5a;
        a[8] ^= 0xff;
        if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL) {
            abort();
        }
        cf_client_key(text, other, sizeof(other));
        if (strcmp(key, other) != 0) {
            abort();
        }
        /* the first half does */
        a[7] ^= 0x01;
        if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL) {
            abort();
        }
        cf_client_key(text, other, sizeof(other));
        if (strcmp(key, other) == 0) {
            abort();
        }
    } else if (inet_pton(AF_INET, in, a) == 1 && strcmp(key, in) != 0) {
        abort();
    }
    return 0;
}
