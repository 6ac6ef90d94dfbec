/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The bounded worker pool: fixed threads, a fixed-size ring of jobs. A full
 * ring refuses new work at once instead of letting latency grow without
 * bound (invariant 7).
 */
#include "core/compat.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ops/ops.h"

struct ops_job {
    ops_job_fn fn;
    void *arg;
};

struct ops_workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ops_job *ring;
    unsigned cap;
    unsigned head;
    unsigned count;
    bool stopping;
    unsigned nthreads;
    pthread_t *threads;
};

/* Expensive jobs yield the processor to the threads that answer
 * requests: a flood of Argon2id hashes must not slow /healthz or a page
 * (invariant 7). On Linux the nice value is per thread. */
#define WORKERS_NICE 10

static void *
workers_main(void *arg)
{
    struct ops_workers *w = arg;

    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKERS_NICE) !=
        0) {
        cf_log_warn("cannot lower the priority of a worker thread");
    }
    for (;;) {
        struct ops_job job;

        pthread_mutex_lock(&w->mu);
        while (w->count == 0 && !w->stopping) {
            pthread_cond_wait(&w->cv, &w->mu);
        }
        if (w->count == 0) { /* stopping and drained */
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        job = w->ring[w->head];
        w->head = (w->head + 1) % w->cap;
        w->count--;
        pthread_mutex_unlock(&w->mu);
        job.fn(job.arg);
    }
}

enum cf_rc
ops_workers_new(unsigned nthreads, unsigned queue_max, struct ops_workers **out)
{
    struct ops_workers *w = NULL;
    enum cf_rc rc = CF_EINTERNAL;
    unsigned i;

    if (nthreads == 0 || queue_max == 0) {
        return CF_ERR(CF_EINVAL);
    }
    w = cf_calloc(1, sizeof(*w));
    if (w == NULL) {
        return CF_ERR(CF_ENOMEM);
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->cap = queue_max;
    w->ring = cf_calloc(queue_max, sizeof(*w->ring));
    w->threads = cf_calloc(nthreads, sizeof(*w->threads));
    if (w->ring == NULL || w->threads == NULL) {
        rc = CF_ERR(CF_ENOMEM);
        goto out;
    }
    for (i = 0; i < nthreads; i++) {
        if (pthread_create(&w->threads[i], NULL, workers_main, w) != 0) {
            rc = CF_ERR(CF_ENOMEM);
            goto out;
        }
        w->nthreads++;
    }
    *out = w;
    w = NULL; /* transferred */
    rc = CF_OK;
out:
    ops_workers_free(w);
    return rc;
}

enum cf_rc
ops_workers_submit(struct ops_workers *w, ops_job_fn fn, void *arg)
{
    enum cf_rc rc = CF_OK;

    pthread_mutex_lock(&w->mu);
    if (w->stopping || w->count == w->cap) {
        rc = CF_EBUSY;
    } else {
        w->ring[(w->head + w->count) % w->cap] =
            (struct ops_job){.fn = fn, .arg = arg};
        w->count++;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

unsigned
ops_workers_queued(struct ops_workers *w)
{
    unsigned n;

    pthread_mutex_lock(&w->mu);
    n = w->count;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void
ops_workers_free(struct ops_workers *w)
{
    unsigned i;

    if (w == NULL) {
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (i = 0; i < w->nthreads; i++) {
        pthread_join(w->threads[i], NULL);
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    cf_free(w->threads);
    cf_free(w->ring);
    cf_free(w);
}
