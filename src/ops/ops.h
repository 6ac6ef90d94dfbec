/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * ops: what the operator watches and what keeps the server responsive:
 * request metrics in Prometheus text format, readiness checks, and the
 * bounded worker pool that runs expensive work (Argon2id, scanning,
 * exports) off the HTTP threads (invariant 7).
 */
#ifndef OPS_OPS_H
#define OPS_OPS_H

#include "core/core.h"
#include "crypto/crypto.h"
#include "db/db.h"

/* ---- metrics ------------------------------------------------------- */

struct ops_metrics;

/*
 * Metrics for nroutes routes named by route_names (borrowed, must outlive
 * the metrics: the route patterns). Route index nroutes counts requests
 * that matched no route. Caller frees with ops_metrics_free().
 */
CF_MUST_CHECK enum cf_rc ops_metrics_new(size_t nroutes,
                                         const char *const *route_names,
                                         const char *const *route_methods,
                                         struct ops_metrics **out);
void ops_metrics_free(struct ops_metrics *m);
/* Count one request: lock-free, any thread. route >= nroutes: unmatched. */
void ops_metrics_observe(struct ops_metrics *m, size_t route, int status,
                         double seconds);
/* Render every metric in Prometheus text format 0.0.4 into out, with
 * the gauge coffre_tenants_open = open_tenants. */
CF_MUST_CHECK enum cf_rc ops_metrics_render(struct ops_metrics *m,
                                            unsigned open_tenants,
                                            struct cf_buf *out);

/* ---- readiness ----------------------------------------------------- */

/* Check that the control database answers, the master key is loaded and
 * the tenants folder is writable; append a JSON object of the checks
 * ({"control_db":"ok",...}) to out. CF_OK when all pass, CF_EBUSY when
 * one fails (out still describes them). */
CF_MUST_CHECK enum cf_rc ops_ready(struct db *control,
                                   const struct cx_keyring *kr,
                                   const char *tenants_dir, struct cf_buf *out);

/* ---- worker pool --------------------------------------------------- */

struct ops_workers;
typedef void (*ops_job_fn)(void *arg);

/* nthreads threads and a queue of at most queue_max waiting jobs. */
CF_MUST_CHECK enum cf_rc ops_workers_new(unsigned nthreads, unsigned queue_max,
                                         struct ops_workers **out);
/*
 * Queue fn(arg). CF_EBUSY when the queue is full (the caller answers 503
 * with Retry-After); the job is then not run and arg stays the caller's.
 * Any thread.
 */
CF_MUST_CHECK enum cf_rc ops_workers_submit(struct ops_workers *w,
                                            ops_job_fn fn, void *arg);
/* Jobs waiting (not running). */
unsigned ops_workers_queued(struct ops_workers *w);
/* Run every queued job, stop the threads, free. NULL is a no-op. */
void ops_workers_free(struct ops_workers *w);

#endif
