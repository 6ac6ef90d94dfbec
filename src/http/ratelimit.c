/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Per-client rate limits by route rate class: a token bucket per (client
 * address, class) in a fixed table, so memory stays bounded whatever the
 * number of clients. The table is 4-way set associative; a new client
 * evicts the fullest bucket of its set (the one least likely to be
 * limiting anybody). A class allows N requests a minute with a burst of N.
 * Probes are never limited. Clients are keyed by cf_client_key(): an
 * IPv6 client by its /64.
 */
#include "core/compat.h"

#include <pthread.h>

#include "http/http_int.h"

#define LIMIT_WAYS 4
#define LIMIT_KEY_MAX CF_CLIENT_KEY_MAX

struct limit_class {
    double burst;   /* bucket size */
    double per_sec; /* refill rate */
};

#define LIMIT_NCLASS (HTTP_RATE_AUTH + 1)

struct limit_bucket {
    char key[LIMIT_KEY_MAX];
    int rate;
    double tokens;
    uint64_t last_ns;
};

struct http_limiter {
    pthread_mutex_t mu;
    /* indexed by enum http_rate; burst 0: not limited (probes) */
    struct limit_class classes[LIMIT_NCLASS];
    size_t nsets;
    struct limit_bucket *b; /* nsets * LIMIT_WAYS */
};

static struct limit_class
limit_per_minute(unsigned n)
{
    return (struct limit_class){.burst = n, .per_sec = n / 60.0};
}

enum cf_rc
http_limiter_new(size_t nsets, const struct cf_config *cfg,
                 struct http_limiter **out)
{
    struct http_limiter *l;
    size_t n;

    if (nsets == 0 || cf_size_mul(nsets, LIMIT_WAYS, &n) != CF_OK) {
        return CF_ERR(CF_EINVAL);
    }
    l = cf_calloc(1, sizeof(*l));
    if (l == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    l->b = cf_calloc(n, sizeof(*l->b));
    if (l->b == NULL) {
        cf_free(l);
        return CF_ERR(CF_ENOMEM);
    }
    pthread_mutex_init(&l->mu, NULL);
    l->nsets = nsets;
    l->classes[HTTP_RATE_READ] = limit_per_minute(cfg->limit_read_per_minute);
    l->classes[HTTP_RATE_WRITE] = limit_per_minute(cfg->limit_write_per_minute);
    l->classes[HTTP_RATE_AUTH] = limit_per_minute(cfg->limit_auth_per_minute);
    *out = l;
    return CF_OK;
}

void
http_limiter_free(struct http_limiter *l)
{
    if (l == NULL) {
        return;
    }
    pthread_mutex_destroy(&l->mu);
    cf_free(l->b);
    cf_free(l);
}

/* FNV-1a over the key and the class. */
static uint64_t
limit_hash(const char *key, int rate)
{
    uint64_t h = 1469598103934665603u;

    for (; *key; key++) {
        h = (h ^ (unsigned char)*key) * 1099511628211u;
    }
    return (h ^ (uint64_t)rate) * 1099511628211u;
}

static void
limit_refill(struct limit_bucket *b, const struct limit_class *c,
             uint64_t now_ns)
{
    double secs =
        now_ns > b->last_ns ? (double)(now_ns - b->last_ns) / 1e9 : 0.0;

    b->tokens += secs * c->per_sec;
    if (b->tokens > c->burst) {
        b->tokens = c->burst;
    }
    b->last_ns = now_ns;
}

/* Take one token of client's bucket for rate (or, peek, only look):
 * true when there was one; else *retry_after. */
static bool
limit_take(struct http_limiter *l, const char *client, enum http_rate rate,
           uint64_t now_ns, unsigned *retry_after, bool peek)
{
    const struct limit_class *c;
    struct limit_bucket *set;
    struct limit_bucket *b = NULL;
    struct limit_bucket *victim = NULL;
    char key[CF_CLIENT_KEY_MAX];
    bool allowed;
    size_t i;

    if ((size_t)rate >= LIMIT_NCLASS || l->classes[rate].burst <= 0) {
        return true;
    }
    c = &l->classes[rate];
    cf_client_key(client, key, sizeof(key));
    pthread_mutex_lock(&l->mu);
    set = &l->b[(limit_hash(key, (int)rate) % l->nsets) * LIMIT_WAYS];
    for (i = 0; i < LIMIT_WAYS; i++) {
        if (set[i].rate == (int)rate &&
            strncmp(set[i].key, key, LIMIT_KEY_MAX) == 0) {
            b = &set[i];
            break;
        }
        if (set[i].rate != 0) {
            limit_refill(&set[i], &l->classes[set[i].rate], now_ns);
        }
        if (victim == NULL || set[i].rate == 0 ||
            (victim->rate != 0 && set[i].tokens > victim->tokens)) {
            victim = &set[i];
        }
    }
    if (b == NULL && peek) {
        pthread_mutex_unlock(&l->mu);
        return true; /* a full bucket */
    }
    if (b == NULL) {
        b = victim;
        cf_strlcpy(b->key, key, sizeof(b->key));
        b->rate = (int)rate;
        b->tokens = c->burst;
        b->last_ns = now_ns;
    }
    limit_refill(b, c, now_ns);
    allowed = b->tokens >= 1.0;
    if (allowed && !peek) {
        b->tokens -= 1.0;
    } else if (!allowed) {
        *retry_after = (unsigned)((1.0 - b->tokens) / c->per_sec) + 1;
    }
    pthread_mutex_unlock(&l->mu);
    return allowed;
}

bool
http_limiter_allow(struct http_limiter *l, const char *client,
                   enum http_rate rate, uint64_t now_ns, unsigned *retry_after)
{
    return limit_take(l, client, rate, now_ns, retry_after, false);
}

bool
http_limiter_peek(struct http_limiter *l, const char *client,
                  enum http_rate rate, uint64_t now_ns, unsigned *retry_after)
{
    return limit_take(l, client, rate, now_ns, retry_after, true);
}
