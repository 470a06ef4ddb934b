/* CPU-only self-test metrics with known answers. They exercise the harness end to end
 * without a GPU (the fake system runs only these): known samples, the start barrier, a
 * crashing tenant, a hanging tenant, a SKIP, and the shared timing loop against a busy-wait
 * of known length (after nvbench's noisy_bench). */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/worker.h"

/* SELF-001: sample k is k+1 (us), k = 0..iterations-1: statistics have closed forms. */
static int self_001(gvb_worker *w)
{
    gvb_barrier(w);
    for (int k = 0; k < w->iterations; k++)
        if (gvb_emit_sample(w, (double)(k + 1)))
            return -1;
    gvb_emit_extra(w, "tenant_index", w->tenant);
    return 0;
}
const gvb_metric_impl gvb_impl_self_001 = {.run = self_001};

/* SELF-002: tenants become ready 100 ms apart; the barrier must release them together.
 * Each tenant reports the monotonic time it was released (system-wide clock). */
static int self_002(gvb_worker *w)
{
    struct timespec d = {.tv_sec = 0, .tv_nsec = 100000000L * (w->tenant % 10)};
    nanosleep(&d, NULL);
    if (gvb_barrier(w))
        return -1;
    return gvb_emit_sample(w, gvb_now() * 1e3);
}

/* Primary: the spread (ms) between the first and last release; samples: each tenant's
 * release offset from the first. */
static void self_002_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    double first = INFINITY, last = -INFINITY;
    for (int i = 0; i < tenants; i++) {
        if (per_tenant[i].n != 1)
            return; /* a tenant failed: no value */
        first = fmin(first, per_tenant[i].v[0]);
        last = fmax(last, per_tenant[i].v[0]);
    }
    for (int i = 0; i < tenants; i++)
        gvb_series_push(&r->samples, per_tenant[i].v[0] - first);
    r->value = last - first;
    r->has_value = 1;
}
const gvb_metric_impl gvb_impl_self_002 = {.run = self_002, .reduce = self_002_reduce};

/* SELF-003: tenant 1 crashes with SIGSEGV after the barrier; tenant 0 works normally. */
static int self_003(gvb_worker *w)
{
    gvb_barrier(w);
    if (w->tenant == 1)
        raise(SIGSEGV);
    for (int k = 0; k < 10; k++)
        gvb_emit_sample(w, 1.0);
    return 0;
}
const gvb_metric_impl gvb_impl_self_003 = {.run = self_003};

/* SELF-004: never finishes; the runner must kill it at its deadline. */
static int self_004(gvb_worker *w)
{
    gvb_barrier(w);
    gvb_emit_sample(w, 1.0);
    for (;;)
        pause();
    return 0;
}
const gvb_metric_impl gvb_impl_self_004 = {.run = self_004, .deadline_s = 2.0};

/* SELF-005: reports SKIP with a reason. */
static int self_005(gvb_worker *w)
{
    return gvb_report_status(w, GVB_SKIP, "self-test: skipped on purpose");
}
const gvb_metric_impl gvb_impl_self_005 = {.run = self_005};

/* SELF-006: the shared timing loop over a 200 us busy-wait; the median must come back as
 * 200 us (plus the loop's own few hundred ns). */
#define SELF_006_SPIN_S 200e-6
static int spin_body(void *arg, double *sample_s)
{
    (void)arg;
    (void)sample_s;
    double end = gvb_now() + SELF_006_SPIN_S;
    while (gvb_now() < end)
        ;
    return 0;
}
static int self_006(gvb_worker *w)
{
    gvb_emit_extra(w, "expected_us", SELF_006_SPIN_S * 1e6);
    return gvb_measure(w, NULL, 1e6, spin_body, NULL);
}
const gvb_metric_impl gvb_impl_self_006 = {.run = self_006};

/* SELF-007: after the start barrier, tenants reach phase 1 50 ms apart; phase 1 must
 * release them together. The last tenant then exits without reaching phase 2: the others
 * must still be released from phase 2 rather than wait for it forever. */
static int self_007(gvb_worker *w)
{
    gvb_barrier(w);
    struct timespec d = {.tv_sec = 0, .tv_nsec = 50000000L * (w->tenant % 10)};
    nanosleep(&d, NULL);
    if (gvb_sync(w))
        return -1;
    gvb_emit_sample(w, gvb_now() * 1e3);
    if (w->tenant == w->tenants - 1)
        return 0;
    if (gvb_sync(w))
        return -1;
    return gvb_emit_extra(w, "phase2_released", 1);
}
const gvb_metric_impl gvb_impl_self_007 = {.run = self_007, .reduce = self_002_reduce,
                                           .deadline_s = 10};

/* Metrics whose issue has not landed: SKIP "not implemented", never a number. The runner
 * does not even start a process for them; this is the worker-side fallback. */
static int unimplemented(gvb_worker *w)
{
    return gvb_report_status(w, GVB_SKIP, "not implemented");
}
const gvb_metric_impl gvb_impl_unimplemented = {.run = unimplemented};
