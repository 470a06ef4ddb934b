/* Worker side of the runner: argument parsing, emitters, barrier and timing loop. */
#include "core/worker.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/handoff.h"
#include "core/options.h"
#include "core/protocol.h"

static int send_msg(gvb_worker *w, const gvb_msg *m)
{
    char buf[GVB_PROTO_MAX_LINE];
    int n = gvb_proto_format(buf, sizeof buf, m);
    if (n < 0)
        return -1;
    for (int off = 0; off < n;) {
        ssize_t k = write(w->out_fd, buf + off, (size_t)(n - off));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        off += (int)k;
    }
    return 0;
}

int gvb_emit_sample(gvb_worker *w, double v)
{
    gvb_msg m = {.type = GVB_MSG_SAMPLE, .value = v};
    return send_msg(w, &m);
}

int gvb_emit_series(gvb_worker *w, const char *series, double v)
{
    gvb_msg m = {.type = GVB_MSG_SERIES, .name = series, .value = v};
    return send_msg(w, &m);
}

int gvb_emit_extra(gvb_worker *w, const char *name, double v)
{
    gvb_msg m = {.type = GVB_MSG_EXTRA, .name = name, .value = v};
    return send_msg(w, &m);
}

int gvb_emit_text(gvb_worker *w, const char *name, const char *fmt, ...)
{
    char text[GVB_PROTO_MAX_LINE - 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    gvb_msg m = {.type = GVB_MSG_TEXT, .name = name, .text = text};
    return send_msg(w, &m);
}

int gvb_emit_value(gvb_worker *w, double v)
{
    gvb_msg m = {.type = GVB_MSG_VALUE, .value = v};
    return send_msg(w, &m);
}

int gvb_report_status(gvb_worker *w, gvb_status s, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    gvb_msg m = {.type = GVB_MSG_STATUS, .name = gvb_status_name(s), .text = text};
    send_msg(w, &m);
    w->status_sent = 1;
    return 1;
}

/* Announces phase k and waits for its barrier fd to reach EOF. */
static int wait_phase(gvb_worker *w, int k)
{
    gvb_msg m = {.type = GVB_MSG_READY, .value = k};
    if (send_msg(w, &m) != 0)
        return -1;
    char c;
    for (;;) {
        ssize_t n = read(w->go_fd + k, &c, 1);
        if (n == 0)
            return 0; /* EOF: the parent released every tenant at once */
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

int gvb_barrier(gvb_worker *w)
{
    if (w->barrier_done)
        return 0;
    w->barrier_done = 1;
    w->phase = 0;
    return wait_phase(w, 0);
}

int gvb_sync(gvb_worker *w)
{
    if (gvb_barrier(w) != 0 || w->phase + 1 >= GVB_MAX_PHASES)
        return -1;
    w->phase++;
    return wait_phase(w, w->phase);
}

double gvb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The process groups this metric runs in (a worker started without --replicates: one). */
static int replicates_of(const gvb_worker *w) { return w->replicates > 0 ? w->replicates : 1; }

int gvb_replicate_share(const gvb_worker *w, int total)
{
    int r = replicates_of(w);
    return (total + r - 1) / r;
}

int gvb_replicate_share_min(const gvb_worker *w, int total, int at_least)
{
    int n = gvb_replicate_share(w, total);
    return n < at_least ? at_least : n;
}

int gvb_replicate_share_down(const gvb_worker *w, int total, int at_least)
{
    int n = total / replicates_of(w);
    return n < at_least ? at_least : n;
}

double gvb_replicate_window_s(const gvb_worker *w, double total_s, double at_least_s)
{
    double s = total_s / replicates_of(w);
    return s < at_least_s ? at_least_s : s;
}

int gvb_replicate_owns(const gvb_worker *w, int item)
{
    int r = replicates_of(w);
    return item >= 0 && item % r == w->replicate % r;
}

/* Hard cap on samples per loop, so a min-time on a very fast body stays bounded. */
#define GVB_MAX_SAMPLES 1000000

int gvb_measure(gvb_worker *w, const char *series, double scale, gvb_body_fn body, void *arg)
{
    gvb_round_body one = {.series = series, .body = body, .arg = arg};
    return gvb_measure_rounds(w, scale, &one, 1, NULL);
}

/* Calls every body once, in order; returns the first non-zero code and where it came from. */
static int run_round(gvb_round_body *bodies, int n, double *samples, int *failed)
{
    for (int k = 0; k < n; k++) {
        double own = NAN;
        double t0 = gvb_now();
        int rc = bodies[k].body(bodies[k].arg, &own);
        double t = gvb_now() - t0;
        if (rc) {
            if (failed)
                *failed = k;
            return rc;
        }
        samples[k] = isnan(own) ? t : own;
    }
    return 0;
}

/* ns per call of GVB_HOST_REF_CALLS raw getppid system calls: kernel entry and exit with
 * nothing from the GPU stack in between (syscall(), so no libc cache and no interposer). */
static double host_ref_ns(void)
{
    double t0 = gvb_now();
    for (int i = 0; i < GVB_HOST_REF_CALLS; i++)
        syscall(SYS_getppid);
    return (gvb_now() - t0) * 1e9 / GVB_HOST_REF_CALLS;
}

int gvb_measure_rounds(gvb_worker *w, double scale, gvb_round_body *bodies, int n, int *failed)
{
    double samples[GVB_MAX_ROUND_BODIES];
    if (n < 1 || n > GVB_MAX_ROUND_BODIES)
        return -1;
    /* the host reference goes with the primary samples, one per round, so the two can be
     * compared block by block (validate); loops of extra series only take none */
    int host_ref = w->metric && w->metric->impl && w->metric->impl->host_ref;
    int has_primary = 0;
    for (int k = 0; k < n; k++)
        has_primary |= bodies[k].series == NULL;
    host_ref &= has_primary;
    if (gvb_barrier(w) != 0)
        return -1;
    for (int i = 0; i < w->warmup; i++) {
        int rc = run_round(bodies, n, samples, failed);
        if (rc)
            return rc;
    }
    double measured = 0;
    for (int i = 0; i < GVB_MAX_SAMPLES && (i < w->iterations || measured < w->min_time_s); i++) {
        int rc = run_round(bodies, n, samples, failed);
        if (rc)
            return rc;
        for (int k = 0; k < n; k++) {
            measured += samples[k];
            double v = samples[k] * scale;
            if (bodies[k].series ? gvb_emit_series(w, bodies[k].series, v)
                                 : gvb_emit_sample(w, v))
                return -1;
        }
        if (host_ref && gvb_emit_series(w, GVB_HOST_REF_SERIES, host_ref_ns()))
            return -1;
    }
    return 0;
}

int gvb_worker_parse(int argc, char **argv, gvb_worker *out)
{
    gvb_worker w = {.out_fd = GVB_FD_OUT, .go_fd = GVB_FD_GO, .tenants = 1, .iterations = 1,
                    .replicates = 1};
    char err[256];
    if (gvb_handoff_decode(argc, argv, 1, &w, err, sizeof err) != 0) {
        fprintf(stderr, "gpu-virt-bench worker: %s\n", err);
        return -1;
    }
    *out = w;
    return 0;
}

int gvb_worker_main(int argc, char **argv)
{
    gvb_worker w;
    if (gvb_worker_parse(argc, argv, &w) != 0)
        return 2;
    int rc = w.metric->impl->run(&w);
    if (!w.status_sent)
        rc ? gvb_report_status(&w, GVB_FAIL, "metric returned %d without a reason", rc)
           : gvb_report_status(&w, GVB_OK, "%s", "");
    /* A metric that never reached the barrier must not hold the other tenants. */
    if (!w.barrier_done) {
        gvb_msg m = {.type = GVB_MSG_READY, .value = 0};
        send_msg(&w, &m);
    }
    return 0;
}
