/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Allocation wrappers with a failure hook for the allocation-failure test
 * loops, checked size arithmetic and a wipe the compiler keeps.
 */
#include "core/compat.h"

#include <stdatomic.h>
#include <string.h>

#include "core/core.h"

/* Relaxed atomics: allocations come from every thread; only the tests
 * that arm the hook need the count to be exact, and they run alone. */
static _Atomic long mem_fail_at = -1; /* allocation index that starts failing */
static _Atomic long mem_count;

static bool
mem_should_fail(void)
{
    long at = atomic_load_explicit(&mem_fail_at, memory_order_relaxed);
    long n = atomic_fetch_add_explicit(&mem_count, 1, memory_order_relaxed);

    return at >= 0 && n >= at;
}

long
cf_mem_fail_after(long n)
{
    long made = atomic_exchange(&mem_count, 0);

    atomic_store(&mem_fail_at, n);
    return made;
}

void *
cf_malloc(size_t n)
{
    if (mem_should_fail()) {
        return NULL;
    }
    return malloc(n ? n : 1);
}

void *
cf_calloc(size_t count, size_t size)
{
    if (mem_should_fail()) {
        return NULL;
    }
    return calloc(count ? count : 1, size ? size : 1);
}

void *
cf_realloc(void *p, size_t n)
{
    if (mem_should_fail()) {
        return NULL;
    }
    return realloc(p, n ? n : 1);
}

char *
cf_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = cf_malloc(len + 1);

    if (d == NULL) {
        return NULL;
    }
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *
cf_strdup(const char *s)
{
    return cf_strndup(s, SIZE_MAX - 1);
}

void
cf_free(void *p)
{
    free(p);
}

void
cf_memzero(void *p, size_t n)
{
    if (p != NULL && n > 0) {
        explicit_bzero(p, n);
    }
}

enum cf_rc
cf_size_add(size_t a, size_t b, size_t *out)
{
    size_t r;

    if (__builtin_add_overflow(a, b, &r)) {
        return CF_ERR(CF_ETOOBIG);
    }
    *out = r;
    return CF_OK;
}

enum cf_rc
cf_size_mul(size_t a, size_t b, size_t *out)
{
    size_t r;

    if (__builtin_mul_overflow(a, b, &r)) {
        return CF_ERR(CF_ETOOBIG);
    }
    *out = r;
    return CF_OK;
}
