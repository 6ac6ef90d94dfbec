/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Wall clock in UTC, the monotonic clock, and random ids from the kernel.
 */
#include "core/compat.h"

#include <sys/random.h>
#include <time.h>

#include "core/core.h"

/* v (0 to 10^width - 1) as width decimal digits. */
static void
time_digits(char *out, int v, int width)
{
    while (width-- > 0) {
        out[width] = (char)('0' + v % 10);
        v /= 10;
    }
}

/*
 * The civil date of a day count from 1970-01-01 (proleptic Gregorian, in
 * eras of 400 years, after Howard Hinnant's days_from_civil inverse):
 * pure arithmetic, where gmtime_r() takes the time-zone lock on every
 * call, and a list answer formats one time per row.
 */
static void
time_civil(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097; /* 0-146096 */
    int64_t yoe =
        (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0-399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);     /* 0-365 */
    int64_t mp = (5 * doy + 2) / 153;                          /* 0-11 */

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void
cf_time_fmt(int64_t unix_s, char out[CF_TIME_RFC3339_LEN])
{
    int64_t days = unix_s / 86400;
    int64_t secs = unix_s % 86400;
    int64_t year;
    int mon;
    int mday;

    if (secs < 0) {
        secs += 86400;
        days--;
    }
    time_civil(days, &year, &mon, &mday);
    if (year < 1000 || year > 9999) {
        /* outside four digits: as strftime() writes it (it does not pad a
         * year below 1000), or the epoch when gmtime_r() cannot */
        struct tm tm;
        time_t t = (time_t)unix_s;

        if (gmtime_r(&t, &tm) == NULL) {
            memcpy(out, "1970-01-01T00:00:00Z", 21);
            return;
        }
        strftime(out, CF_TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return;
    }
    time_digits(out, (int)year, 4);
    out[4] = '-';
    time_digits(out + 5, mon, 2);
    out[7] = '-';
    time_digits(out + 8, mday, 2);
    out[10] = 'T';
    time_digits(out + 11, (int)(secs / 3600), 2);
    out[13] = ':';
    time_digits(out + 14, (int)(secs / 60 % 60), 2);
    out[16] = ':';
    time_digits(out + 17, (int)(secs % 60), 2);
    out[19] = 'Z';
    out[20] = '\0';
}

/* The formatted second is cached per thread: the log writes a time on
 * every request, and formatting a date is the costly part. */
static _Thread_local time_t rfc_last_sec = -1;
static _Thread_local char rfc_last[CF_TIME_RFC3339_LEN];
static _Thread_local size_t rfc_last_len;

void
cf_time_rfc3339(char out[CF_TIME_RFC3339_LEN])
{
    struct timespec ts;
    struct tm tm;
    unsigned ms;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != rfc_last_sec) {
        if (gmtime_r(&ts.tv_sec, &tm) == NULL) {
            memcpy(out, "1970-01-01T00:00:00.000Z", 25);
            return;
        }
        rfc_last_len =
            strftime(rfc_last, sizeof(rfc_last), "%Y-%m-%dT%H:%M:%S", &tm);
        rfc_last_sec = ts.tv_sec;
    }
    memcpy(out, rfc_last, rfc_last_len);
    ms = (unsigned)(ts.tv_nsec / 1000000L) % 1000u;
    out[rfc_last_len] = '.';
    out[rfc_last_len + 1] = (char)('0' + ms / 100);
    out[rfc_last_len + 2] = (char)('0' + ms / 10 % 10);
    out[rfc_last_len + 3] = (char)('0' + ms % 10);
    out[rfc_last_len + 4] = 'Z';
    out[rfc_last_len + 5] = '\0';
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

/* Ids draw from a per-thread pool refilled 4 KiB at a time: one
 * getrandom(2) per 256 request ids instead of one each. */
#define ID_POOL 4096
static _Thread_local unsigned char id_pool[ID_POOL];
static _Thread_local size_t id_pool_left;

enum cf_rc
cf_id_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *raw;
    size_t i;

    if (nbytes == 0 || nbytes > 64) {
        return CF_ERR(CF_EINVAL);
    }
    if (id_pool_left < nbytes) {
        if (getrandom(id_pool, sizeof(id_pool), 0) !=
            (ssize_t)sizeof(id_pool)) {
            return CF_ERR(CF_EIO);
        }
        id_pool_left = sizeof(id_pool);
    }
    raw = id_pool + sizeof(id_pool) - id_pool_left;
    for (i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    cf_memzero((void *)(uintptr_t)raw, nbytes); /* never hand out twice */
    id_pool_left -= nbytes;
    return CF_OK;
}
