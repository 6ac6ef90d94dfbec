/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libFuzzer target for the User-Agent device labeller of the access
 * journal (auth_device_label): any bytes, any length. Properties: the
 * label is NUL-terminated within its buffer, printable ASCII, never empty,
 * and the same input gives the same label.
 */
#include "core/compat.h"

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *ua = malloc(size + 1);
    char a[64];
    char b[64];
    char tiny[4];
    size_t i;
    size_t n;

    if (ua == NULL) {
        return 0;
    }
    memcpy(ua, data, size);
    ua[size] = '\0';
    memset(a, 'x', sizeof(a));
    if (auth_device_label(ua, a, sizeof(a)) != a) {
        abort();
    }
    n = strnlen(a, sizeof(a));
    if (n == 0 || n == sizeof(a)) {
        abort();
    }
    for (i = 0; i < n; i++) {
        if (a[i] < 0x20 || a[i] > 0x7e) {
            abort();
        }
    }
    auth_device_label(ua, b, sizeof(b));
    if (strcmp(a, b) != 0) {
        abort();
    }
    auth_device_label(ua, tiny, sizeof(tiny));
    if (strnlen(tiny, sizeof(tiny)) == sizeof(tiny)) {
        abort();
    }
    free(ua);
    return 0;
}
