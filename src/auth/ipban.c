/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Per-IP login failure windows across every account and tenant of the
 * server (COMMITMENT A6): more than N failures within the window ban the
 * address for a while. A fixed table (4-way sets, the stalest entry
 * evicted), so memory stays bounded whatever the number of addresses.
 */
#include "core/compat.h"

#include <pthread.h>

#include "auth/auth.h"
#include "auth/auth_int.h"

#define IPBAN_WAYS 4
#define IPBAN_KEY 48

struct ipban_slot {
    char ip[IPBAN_KEY];
    int64_t window_start;
    unsigned failures;
    int64_t banned_until;
};

struct auth_ipban {
    pthread_mutex_t mu;
    size_t nsets;
    struct ipban_slot *slots;
};

enum cf_rc
auth_ipban_new(size_t nsets, struct auth_ipban **out)
{
    struct auth_ipban *b;
    size_t n;

    if (nsets == 0 || cf_size_mul(nsets, IPBAN_WAYS, &n) != CF_OK) {
        return CF_ERR(CF_EINVAL);
    }
    b = cf_calloc(1, sizeof(*b));
    if (b == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    b->slots = cf_calloc(n, sizeof(*b->slots));
    if (b->slots == NULL) {
        cf_free(b);
        return CF_ERR(CF_ENOMEM);
    }
    pthread_mutex_init(&b->mu, NULL);
    b->nsets = nsets;
    *out = b;
    return CF_OK;
}

void
auth_ipban_free(struct auth_ipban *b)
{
    if (b == NULL) {
        return;
    }
    pthread_mutex_destroy(&b->mu);
    cf_free(b->slots);
    cf_free(b);
}

static uint64_t
ipban_hash(const char *ip)
{
    uint64_t h = 1469598103934665603u;

    for (; *ip; ip++) {
        h = (h ^ (unsigned char)*ip) * 1099511628211u;
    }
    return h;
}

/* The slot of ip, or a fresh one in its set. Lock held. */
static struct ipban_slot *
ipban_slot(struct auth_ipban *b, const char *ip, bool create)
{
    struct ipban_slot *set =
        &b->slots[(ipban_hash(ip) % b->nsets) * IPBAN_WAYS];
    struct ipban_slot *victim = &set[0];
    size_t i;

    for (i = 0; i < IPBAN_WAYS; i++) {
        if (set[i].ip[0] && strncmp(set[i].ip, ip, IPBAN_KEY) == 0) {
            return &set[i];
        }
        if (set[i].banned_until < victim->banned_until ||
            (set[i].banned_until == victim->banned_until &&
             set[i].window_start < victim->window_start)) {
            victim = &set[i];
        }
    }
    if (!create) {
        return NULL;
    }
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->ip, sizeof(victim->ip), "%s", ip);
    return victim;
}

bool
auth_ipban_banned(struct auth_ipban *b, const char *ip, int64_t now,
                  unsigned *retry_after)
{
    struct ipban_slot *s;
    char key[CF_CLIENT_KEY_MAX];
    bool banned = false;

    if (b == NULL || ip == NULL || ip[0] == '\0') {
        return false;
    }
    cf_client_key(ip, key, sizeof(key)); /* IPv6: the /64 */
    pthread_mutex_lock(&b->mu);
    s = ipban_slot(b, key, false);
    if (s != NULL && s->banned_until > now) {
        banned = true;
        *retry_after = (unsigned)(s->banned_until - now);
    }
    pthread_mutex_unlock(&b->mu);
    return banned;
}

void
auth_ipban_failed(struct auth_ipban *b, const struct auth_config *cfg,
                  const char *ip, int64_t now)
{
    struct ipban_slot *s;
    char key[CF_CLIENT_KEY_MAX];

    if (b == NULL || ip == NULL || ip[0] == '\0') {
        return;
    }
    cf_client_key(ip, key, sizeof(key)); /* IPv6: the /64 */
    pthread_mutex_lock(&b->mu);
    s = ipban_slot(b, key, true);
    if (now - s->window_start >= (int64_t)cfg->ipban_window_s) {
        s->window_start = now;
        s->failures = 0;
    }
    s->failures++;
    if (s->failures > cfg->ipban_failures) {
        s->banned_until = now + (int64_t)cfg->ipban_s;
        cf_log_warn("client address banned after repeated login failures",
                    "client_ip", ip);
    }
    pthread_mutex_unlock(&b->mu);
}
