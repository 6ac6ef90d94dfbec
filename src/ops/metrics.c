/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Request metrics: a counter per (route, status) and a latency histogram per
 * route, all relaxed atomics so the request path never takes a lock.
 * Rendered in the Prometheus text exposition format.
 */
#include "core/compat.h"

#include <stdatomic.h>

#include "ops/ops.h"

/* Statuses get their own counter; anything else counts as its class. */
static const int metrics_statuses[] = {200, 201, 204, 301, 400, 401,
                                       403, 404, 405, 409, 413, 415,
                                       421, 429, 431, 500, 503};
#define METRICS_NSTATUS (CF_ARRAY_LEN(metrics_statuses) + 5) /* + 1xx..5xx */

static const double metrics_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                         0.025,  0.05,  0.1,    0.25,  0.5,
                                         1.0,    2.5,   5.0,    10.0};
#define METRICS_NBUCKET (CF_ARRAY_LEN(metrics_buckets) + 1) /* + +Inf */

struct metrics_route {
    _Atomic uint64_t status[METRICS_NSTATUS];
    _Atomic uint64_t bucket[METRICS_NBUCKET];
    _Atomic uint64_t sum_us;
};

struct ops_metrics {
    size_t nroutes;
    const char *const *names;
    const char *const *methods;
    struct metrics_route *routes; /* nroutes + 1 */
};

enum cf_rc
ops_metrics_new(size_t nroutes, const char *const *route_names,
                const char *const *route_methods, struct ops_metrics **out)
{
    struct ops_metrics *m;
    size_t n;

    if (cf_size_add(nroutes, 1, &n) != CF_OK) {
        return CF_ERR(CF_ETOOBIG);
    }
    m = cf_calloc(1, sizeof(*m));
    if (m == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    m->routes = cf_calloc(n, sizeof(*m->routes));
    if (m->routes == NULL) {
        cf_free(m);
        return CF_ERR(CF_ENOMEM);
    }
    m->nroutes = nroutes;
    m->names = route_names;
    m->methods = route_methods;
    *out = m;
    return CF_OK;
}

void
ops_metrics_free(struct ops_metrics *m)
{
    if (m == NULL) {
        return;
    }
    cf_free(m->routes);
    cf_free(m);
}

static size_t
metrics_status_slot(int status)
{
    size_t i;

    for (i = 0; i < CF_ARRAY_LEN(metrics_statuses); i++) {
        if (metrics_statuses[i] == status) {
            return i;
        }
    }
    if (status < 100 || status > 599) {
        status = 500;
    }
    return CF_ARRAY_LEN(metrics_statuses) + (size_t)(status / 100 - 1);
}

void
ops_metrics_observe(struct ops_metrics *m, size_t route, int status,
                    double seconds)
{
    struct metrics_route *r;
    size_t b;

    if (route > m->nroutes) {
        route = m->nroutes;
    }
    r = &m->routes[route];
    atomic_fetch_add_explicit(&r->status[metrics_status_slot(status)], 1,
                              memory_order_relaxed);
    for (b = 0; b < CF_ARRAY_LEN(metrics_buckets); b++) {
        if (seconds <= metrics_buckets[b]) {
            break;
        }
    }
    atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
    if (seconds > 0) {
        atomic_fetch_add_explicit(&r->sum_us, (uint64_t)(seconds * 1e6),
                                  memory_order_relaxed);
    }
}

static void
metrics_route_label(const struct ops_metrics *m, size_t i, const char **route,
                    const char **method)
{
    if (i < m->nroutes) {
        *route = m->names[i];
        *method = m->methods[i];
    } else {
        *route = "unmatched";
        *method = "any";
    }
}

static enum cf_rc
metrics_render_counters(const struct ops_metrics *m, struct cf_buf *out)
{
    enum cf_rc rc;
    size_t i;
    size_t s;

    rc = cf_buf_adds(out, "# HELP coffre_http_requests_total HTTP requests "
                          "by route and status.\n"
                          "# TYPE coffre_http_requests_total counter\n");
    for (i = 0; rc == CF_OK && i <= m->nroutes; i++) {
        const char *route;
        const char *method;

        metrics_route_label(m, i, &route, &method);
        for (s = 0; rc == CF_OK && s < METRICS_NSTATUS; s++) {
            uint64_t v = atomic_load_explicit(&m->routes[i].status[s],
                                              memory_order_relaxed);
            char status[8];

            if (v == 0) {
                continue;
            }
            if (s < CF_ARRAY_LEN(metrics_statuses)) {
                snprintf(status, sizeof(status), "%d", metrics_statuses[s]);
            } else {
                snprintf(status, sizeof(status), "%zuxx",
                         s - CF_ARRAY_LEN(metrics_statuses) + 1);
            }
            rc = cf_buf_addf(out,
                             "coffre_http_requests_total{method=\"%s\","
                             "route=\"%s\",status=\"%s\"} %llu\n",
                             method, route, status, (unsigned long long)v);
        }
    }
    return rc;
}

static enum cf_rc
metrics_render_histograms(const struct ops_metrics *m, struct cf_buf *out)
{
    enum cf_rc rc;
    size_t i;
    size_t b;

    rc = cf_buf_adds(out,
                     "# HELP coffre_http_request_duration_seconds Time from "
                     "request start to response queued.\n"
                     "# TYPE coffre_http_request_duration_seconds "
                     "histogram\n");
    for (i = 0; rc == CF_OK && i <= m->nroutes; i++) {
        const struct metrics_route *r = &m->routes[i];
        const char *route;
        const char *method;
        uint64_t cum = 0;

        metrics_route_label(m, i, &route, &method);
        for (b = 0; b < METRICS_NBUCKET; b++) {
            cum += atomic_load_explicit(&r->bucket[b], memory_order_relaxed);
        }
        if (cum == 0) {
            continue;
        }
        cum = 0;
        for (b = 0; rc == CF_OK && b < METRICS_NBUCKET; b++) {
            char le[24];

            cum += atomic_load_explicit(&r->bucket[b], memory_order_relaxed);
            if (b < CF_ARRAY_LEN(metrics_buckets)) {
                snprintf(le, sizeof(le), "%g", metrics_buckets[b]);
            } else {
                snprintf(le, sizeof(le), "+Inf");
            }
            rc = cf_buf_addf(out,
                             "coffre_http_request_duration_seconds_bucket{"
                             "method=\"%s\",route=\"%s\",le=\"%s\"} %llu\n",
                             method, route, le, (unsigned long long)cum);
        }
        if (rc == CF_OK) {
            rc = cf_buf_addf(
                out,
                "coffre_http_request_duration_seconds_sum{method=\"%s\","
                "route=\"%s\"} %.6f\n"
                "coffre_http_request_duration_seconds_count{method=\"%s\","
                "route=\"%s\"} %llu\n",
                method, route,
                (double)atomic_load_explicit(&r->sum_us, memory_order_relaxed) /
                    1e6,
                method, route, (unsigned long long)cum);
        }
    }
    return rc;
}

enum cf_rc
ops_metrics_render(struct ops_metrics *m, unsigned open_tenants,
                   struct cf_buf *out)
{
    enum cf_rc rc;

    rc = metrics_render_counters(m, out);
    if (rc == CF_OK) {
        rc = metrics_render_histograms(m, out);
    }
    if (rc == CF_OK) {
        rc = cf_buf_addf(out,
                         "# HELP coffre_tenants_open Tenant databases open "
                         "in the pool.\n"
                         "# TYPE coffre_tenants_open gauge\n"
                         "coffre_tenants_open %u\n",
                         open_tenants);
    }
    return rc;
}
