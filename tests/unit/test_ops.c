/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * ops/: the bounded worker pool refuses work when full and runs every job
 * it accepted (invariant 7); the metrics render in Prometheus format.
 */
#include "core/compat.h"

#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "ops/ops.h"

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static atomic_int jobs_done;
static atomic_int jobs_started;

static void
job_wait_gate(void *arg)
{
    (void)arg;
    atomic_fetch_add(&jobs_started, 1);
    pthread_mutex_lock(&gate_mu);
    while (!gate_open) {
        pthread_cond_wait(&gate_cv, &gate_mu);
    }
    pthread_mutex_unlock(&gate_mu);
    atomic_fetch_add(&jobs_done, 1);
}

static void
test_workers_bounded(void **state)
{
    struct ops_workers *w = NULL;
    int accepted = 0;
    int refused = 0;
    int i;

    (void)state;
    gate_open = false;
    atomic_store(&jobs_done, 0);
    atomic_store(&jobs_started, 0);
    assert_int_equal(ops_workers_new(2, 3, &w), CF_OK);
    /* two jobs occupy both threads */
    assert_int_equal(ops_workers_submit(w, job_wait_gate, NULL), CF_OK);
    assert_int_equal(ops_workers_submit(w, job_wait_gate, NULL), CF_OK);
    while (atomic_load(&jobs_started) < 2) {
        usleep(1000);
    }
    /* the queue holds 3 more, then refuses */
    for (i = 0; i < 10; i++) {
        if (ops_workers_submit(w, job_wait_gate, NULL) == CF_OK) {
            accepted++;
        } else {
            refused++;
        }
    }
    assert_int_equal(accepted, 3);
    assert_int_equal(refused, 7);
    assert_int_equal(ops_workers_queued(w), 3);
    pthread_mutex_lock(&gate_mu);
    gate_open = true;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    ops_workers_free(w); /* runs what was accepted, then stops */
    assert_int_equal(atomic_load(&jobs_done), 5);
}

static void
test_workers_bad_args(void **state)
{
    struct ops_workers *w = NULL;

    (void)state;
    assert_int_equal(ops_workers_new(0, 1, &w), CF_EINVAL);
    assert_int_equal(ops_workers_new(1, 0, &w), CF_EINVAL);
    ops_workers_free(NULL);
}

static void
test_metrics_render(void **state)
{
    static const char *const names[] = {"/healthz", "/api/v1/x"};
    static const char *const methods[] = {"GET", "POST"};
    struct ops_metrics *m = NULL;
    struct cf_buf b;

    (void)state;
    assert_int_equal(ops_metrics_new(2, names, methods, &m), CF_OK);
    ops_metrics_observe(m, 0, 200, 0.0002);
    ops_metrics_observe(m, 0, 200, 0.03);
    ops_metrics_observe(m, 1, 400, 2.0);
    ops_metrics_observe(m, 99, 404, 0.001); /* unmatched */
    ops_metrics_observe(m, 1, 418, 0.001);  /* counted as 4xx */
    cf_buf_init(&b, 1 << 20);
    assert_int_equal(ops_metrics_render(m, 7, &b), CF_OK);
    assert_non_null(strstr(cf_buf_str(&b),
                           "coffre_http_requests_total{method=\"GET\","
                           "route=\"/healthz\",status=\"200\"} 2\n"));
    assert_non_null(strstr(cf_buf_str(&b), "status=\"4xx\"} 1\n"));
    assert_non_null(
        strstr(cf_buf_str(&b), "route=\"unmatched\",status=\"404\"} 1\n"));
    assert_non_null(strstr(cf_buf_str(&b),
                           "coffre_http_request_duration_seconds_bucket{"
                           "method=\"GET\",route=\"/healthz\",le=\"0.0005\"} "
                           "1\n"));
    assert_non_null(
        strstr(cf_buf_str(&b), "route=\"/healthz\",le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(cf_buf_str(&b), "coffre_tenants_open 7\n"));
    cf_buf_release(&b);
    ops_metrics_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workers_bounded),
        cmocka_unit_test(test_workers_bad_args),
        cmocka_unit_test(test_metrics_render),
    };

    return cmocka_run_group_tests_name("ops", tests, NULL, NULL);
}
