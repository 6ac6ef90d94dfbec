/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Wall clock in UTC, the monotonic clock, and random ids from the kernel.
 */
#include "core/compat.h"

#include <sys/random.h>
#include <time.h>

#include "core/core.h"

void
cf_time_fmt(int64_t unix_s, char out[CF_TIME_RFC3339_LEN])
{
    struct tm tm;
    time_t t = (time_t)unix_s;

    if (gmtime_r(&t, &tm) == NULL) {
        memcpy(out, "1970-01-01T00:00:00Z", 21);
        return;
    }
    strftime(out, CF_TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
cf_time_rfc3339(char out[CF_TIME_RFC3339_LEN])
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (gmtime_r(&ts.tv_sec, &tm) == NULL) {
        memcpy(out, "1970-01-01T00:00:00.000Z", 25);
        return;
    }
    n = strftime(out, CF_TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, CF_TIME_RFC3339_LEN - n, ".%03uZ",
             (unsigned)(ts.tv_nsec / 1000000L) % 1000u);
}

int64_t
cf_time_unix(void)
{
    return (int64_t)time(NULL);
}

uint64_t
cf_time_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum cf_rc
cf_id_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    size_t i;

    if (nbytes == 0 || nbytes > sizeof(raw)) {
        return CF_ERR(CF_EINVAL);
    }
    if (getrandom(raw, nbytes, 0) != (ssize_t)nbytes) {
        return CF_ERR(CF_EIO);
    }
    for (i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return CF_OK;
}
