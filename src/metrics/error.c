/* Error-handling metrics (ERR-xxx): faults and resource exhaustion on purpose. Everything that
 * can fault, crash or hang runs in a disposable child process (src/core/child.h) that the
 * tenant forks before it has any CUDA context of its own (fork after CUDA init is unsafe): the
 * child writes one fixed-size record to a pipe and exits; the tenant reads it with a timeout,
 * reaps the child (killing it by pid past its deadline) and reports. So the tenant, the
 * harness and the other tenants survive whatever the child does. The tenant itself must never
 * call the CUDA runtime, not even cudaGetErrorName (that initialises the driver, and children
 * forked after it fail with cudaErrorInitializationError): children put the error's name in
 * their record (err_name). CLOCK_MONOTONIC is one clock
 * for every process of the machine, so times taken in different children compare directly.
 * Methods in docs/metrics/error.md. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/child.h"
#include "gpu/cuda_check.h"
#include "kernels/kernels.h"
#include "stats/frag.h"

#define READ_TIMEOUT_S 20.0 /* a child that has not reported by then is hung */
#define EXIT_TIMEOUT_S 10.0 /* a child that has not exited this long after its record is hung */
#define SAMPLE_BUDGET_S 30.0
#define NAME_LEN 48

/* In a child: e's name into a record's name field. */
static void name_error(char *dst, cudaError_t e)
{
    snprintf(dst, NAME_LEN, "%s", cudaGetErrorName(e));
}

/* Fault processes per replicate: 10 (--quick 5) per metric, split over the replicates (each
 * sample is a fresh process already) rounded down, at least 3 per replicate: 3 each at the
 * default 3 replicates (9 in all; rounded up it would be 4 each, 12 in all, and each fault
 * sample costs a context or two, 0.4-1.25 s). */
static int err_samples(const gvb_worker *w)
{
    return gvb_replicate_share_down(w, w->quick ? 5 : 10, 3);
}

/* ---- the fault child (ERR-001, ERR-002) ------------------------------------------------- */

typedef struct fault_rec {
    int stage;     /* 0: the fault ran; > 0: setup failed at this step */
    int err;       /* what the synchronize after the fault returned (or the setup error) */
    int flag_seen; /* the kernel's pre-fault store reached the host */
    double t_ready, t_launch, t_seen, t_err;
    char err_name[NAME_LEN];
} fault_rec;

typedef struct flag_poller {
    volatile unsigned long long *flag;
    volatile double deadline;
    double t_seen;
    int seen;
} flag_poller;

/* Spins on the host-mapped flag the kernel writes just before it faults. */
static void *poll_flag(void *arg)
{
    flag_poller *p = arg;
    while (gvb_now() < p->deadline) {
        if (*p->flag) {
            p->t_seen = gvb_now();
            p->seen = 1;
            break;
        }
    }
    return NULL;
}

/* Context, module loaded (one harmless run of the kernel), then: launch the kernel with an
 * unmapped target and wait for the error in cudaDeviceSynchronize, while a second thread
 * watches for the flag. */
static int fault_child(void *arg, int fd)
{
    (void)arg;
    fault_rec r = {0};
    unsigned long long *flag = NULL, *dflag = NULL;
    int *dev = NULL;
    cudaError_t e;
    if ((e = cudaSetDevice(0)) != cudaSuccess || (e = cudaFree(0)) != cudaSuccess)
        r.stage = 1;
    else if ((e = cudaHostAlloc((void **)&flag, sizeof *flag, cudaHostAllocMapped)) != cudaSuccess ||
             (e = cudaHostGetDevicePointer((void **)&dflag, flag, 0)) != cudaSuccess)
        r.stage = 2;
    else if ((e = cudaMalloc((void **)&dev, sizeof *dev)) != cudaSuccess)
        r.stage = 3;
    else if ((e = (cudaError_t)gvb_launch_flag_store(0, dflag, dev)) != cudaSuccess ||
             (e = cudaDeviceSynchronize()) != cudaSuccess)
        r.stage = 4;
    else if (!*(volatile unsigned long long *)flag)
        r.stage = 5; /* the harmless run's store never reached the host */
    if (r.stage) {
        r.err = (int)e;
        name_error(r.err_name, e);
        return gvb_write_all(fd, &r, sizeof r) ? 1 : 0;
    }
    *(volatile unsigned long long *)flag = 0;
    r.t_ready = gvb_now();
    flag_poller pl = {.flag = flag, .deadline = r.t_ready + READ_TIMEOUT_S / 2};
    pthread_t th;
    int threaded = pthread_create(&th, NULL, poll_flag, &pl) == 0;
    r.t_launch = gvb_now();
    e = (cudaError_t)gvb_launch_flag_store(0, dflag, gvb_unmapped_device_address());
    if (e == cudaSuccess)
        e = cudaDeviceSynchronize();
    r.t_err = gvb_now();
    if (threaded) {
        pl.deadline = 0; /* stop spinning if the flag never came */
        pthread_join(th, NULL);
    }
    r.err = (int)e;
    name_error(r.err_name, e);
    r.flag_seen = pl.seen;
    r.t_seen = pl.t_seen;
    return gvb_write_all(fd, &r, sizeof r) ? 1 : 0;
}

typedef enum { FAULT_OK, FAULT_SETUP, FAULT_UNREPORTED, FAULT_NO_FLAG, FAULT_CRASH, FAULT_HANG } fault_outcome;

typedef struct fault_run {
    fault_rec rec;
    fault_outcome outcome;
    double t_exit; /* when the tenant had reaped the child */
    char why[160];
} fault_run;

/* One fault child from fork to reap. */
static void run_fault_child(fault_run *f)
{
    memset(f, 0, sizeof *f);
    gvb_child c;
    if (gvb_child_start(&c, fault_child, NULL) != 0) {
        f->outcome = FAULT_CRASH;
        snprintf(f->why, sizeof f->why, "fork failed");
        return;
    }
    int got = gvb_child_read(&c, &f->rec, sizeof f->rec, READ_TIMEOUT_S);
    gvb_child_end end = gvb_child_finish(&c, got < 0 ? 0 : EXIT_TIMEOUT_S);
    f->t_exit = gvb_now();
    char d[96];
    if (got != 1) {
        f->outcome = got < 0 ? FAULT_HANG : FAULT_CRASH;
        snprintf(f->why, sizeof f->why, "fault child %s without a result", gvb_child_describe(&c, d, sizeof d));
    } else if (f->rec.stage) {
        f->outcome = FAULT_SETUP;
        snprintf(f->why, sizeof f->why, "fault child setup step %d: %s", f->rec.stage,
                 f->rec.err_name);
    } else if (f->rec.err == cudaSuccess) {
        f->outcome = FAULT_UNREPORTED;
        snprintf(f->why, sizeof f->why, "the faulting kernel's synchronize returned success");
    } else if (!f->rec.flag_seen || f->rec.t_seen > f->rec.t_err) {
        f->outcome = FAULT_NO_FLAG;
        snprintf(f->why, sizeof f->why, "the kernel's pre-fault flag did not reach the host first");
    } else if (end != GVB_CHILD_EXITED) {
        /* the error was reported, then the process crashed or hung on its way out: the
         * detection time is real, the exit is a finding of its own */
        f->outcome = FAULT_OK;
        snprintf(f->why, sizeof f->why, "after the error the child %s", gvb_child_describe(&c, d, sizeof d));
    } else {
        f->outcome = FAULT_OK;
    }
}

/* Counts of what the fault children did, as extras. */
typedef struct fault_tally {
    int n[FAULT_HANG + 1];
    int exit_problems;
    int other_errors; /* reported errors other than cudaErrorIllegalAddress */
    char first_error[64], last_why[160];
} fault_tally;

static void tally_fault(fault_tally *t, const fault_run *f)
{
    t->n[f->outcome]++;
    if (f->why[0])
        snprintf(t->last_why, sizeof t->last_why, "%s", f->why);
    if (f->outcome == FAULT_OK) {
        if (f->why[0])
            t->exit_problems++;
        if (f->rec.err != cudaErrorIllegalAddress)
            t->other_errors++;
        if (!t->first_error[0])
            snprintf(t->first_error, sizeof t->first_error, "%s", f->rec.err_name);
    }
}

static void emit_tally(gvb_worker *w, const fault_tally *t)
{
    gvb_emit_extra(w, "faults_detected", t->n[FAULT_OK]);
    gvb_emit_extra(w, "faults_not_reported", t->n[FAULT_UNREPORTED]);
    gvb_emit_extra(w, "faults_without_flag", t->n[FAULT_NO_FLAG]);
    gvb_emit_extra(w, "fault_children_crashed", t->n[FAULT_CRASH]);
    gvb_emit_extra(w, "fault_children_hung", t->n[FAULT_HANG]);
    gvb_emit_extra(w, "fault_children_exit_problems", t->exit_problems);
    gvb_emit_extra(w, "errors_other_than_illegal_address", t->other_errors);
    if (t->first_error[0])
        gvb_emit_text(w, "error", "%s", t->first_error);
    if (t->last_why[0])
        gvb_emit_text(w, "last_problem", "%s", t->last_why);
}

/* ---- ERR-001 Error Detection Latency ----------------------------------------------------- */

static int err_001(gvb_worker *w)
{
    if (gvb_barrier(w) != 0)
        return gvb_report_status(w, GVB_FAIL, "start barrier failed");
    fault_tally t = {0};
    int samples = 0, n = err_samples(w);
    double t0 = gvb_now();
    for (int i = 0; i < n && gvb_now() - t0 < SAMPLE_BUDGET_S; i++) {
        fault_run f;
        run_fault_child(&f);
        tally_fault(&t, &f);
        if (f.outcome == FAULT_SETUP)
            return gvb_report_status(w, GVB_FAIL, "%s", f.why); /* CUDA does not work here */
        if (f.outcome != FAULT_OK)
            continue;
        gvb_emit_sample(w, (f.rec.t_err - f.rec.t_seen) * 1e6);
        gvb_emit_series(w, "launch_to_error_us", (f.rec.t_err - f.rec.t_launch) * 1e6);
        gvb_emit_series(w, "exit_after_error_ms", (f.t_exit - f.rec.t_err) * 1e3);
        samples++;
    }
    emit_tally(w, &t);
    gvb_emit_extra(w, "processes", t.n[FAULT_OK] + t.n[FAULT_UNREPORTED] + t.n[FAULT_NO_FLAG] +
                                       t.n[FAULT_CRASH] + t.n[FAULT_HANG]);
    gvb_emit_text(w, "fault", "illegal-address store by one thread, after a host-mapped flag store");
    if (samples == 0)
        return gvb_report_status(w, GVB_FAIL, "no fault was detected: %s", t.last_why);
    return 0;
}
const gvb_metric_impl gvb_impl_err_001 = {.run = err_001, .deadline_s = 150};

/* ---- ERR-002 Error Recovery Time ----------------------------------------------------------- */

typedef struct repl_rec {
    int ok, err;
    double t_start, t_done;
    char err_name[NAME_LEN];
} repl_rec;

/* A fresh process's way to its first completed kernel. */
static int replacement_child(void *arg, int fd)
{
    (void)arg;
    repl_rec r = {.t_start = gvb_now()};
    cudaError_t e;
    if ((e = cudaSetDevice(0)) == cudaSuccess && (e = cudaFree(0)) == cudaSuccess &&
        (e = (cudaError_t)gvb_launch_empty(0)) == cudaSuccess)
        e = cudaDeviceSynchronize();
    r.t_done = gvb_now();
    r.ok = e == cudaSuccess;
    r.err = (int)e;
    name_error(r.err_name, e);
    return gvb_write_all(fd, &r, sizeof r) ? 1 : 0;
}

#define RECOVERY_LIMIT_S 20.0

/* Starts replacement processes until one completes a kernel (a supervisor's restart loop);
 * returns the time it did, or -1 past RECOVERY_LIMIT_S. */
static double replace_until_kernel(double since, int *attempts, char *why, size_t len)
{
    while (gvb_now() - since < RECOVERY_LIMIT_S) {
        gvb_child c;
        repl_rec r = {0};
        (*attempts)++;
        if (gvb_child_start(&c, replacement_child, NULL) != 0) {
            snprintf(why, len, "fork failed");
            return -1;
        }
        int got = gvb_child_read(&c, &r, sizeof r, READ_TIMEOUT_S);
        gvb_child_finish(&c, got < 0 ? 0 : EXIT_TIMEOUT_S);
        if (got == 1 && r.ok)
            return r.t_done;
        if (got == 1)
            snprintf(why, len, "replacement: %s", r.err_name);
        else
            snprintf(why, len, "replacement process gave no result");
        usleep(50000);
    }
    return -1;
}

static int err_002_faulter(gvb_worker *w)
{
    if (gvb_barrier(w) != 0)
        return gvb_report_status(w, GVB_FAIL, "start barrier failed");
    fault_tally t = {0};
    int samples = 0, n = err_samples(w), unrecovered = 0;
    char why[160] = "";
    double t0 = gvb_now();
    for (int i = 0; i < n && gvb_now() - t0 < SAMPLE_BUDGET_S; i++) {
        fault_run f;
        run_fault_child(&f);
        tally_fault(&t, &f);
        if (f.outcome == FAULT_SETUP) {
            gvb_sync(w); /* let the bystander stop */
            return gvb_report_status(w, GVB_FAIL, "%s", f.why);
        }
        if (f.outcome != FAULT_OK)
            continue;
        int attempts = 0;
        double done = replace_until_kernel(f.rec.t_seen, &attempts, why, sizeof why);
        if (done < 0) {
            unrecovered++;
            continue;
        }
        gvb_emit_sample(w, (done - f.rec.t_seen) * 1e3);
        gvb_emit_series(w, "detect_ms", (f.rec.t_err - f.rec.t_seen) * 1e3);
        gvb_emit_series(w, "faulted_exit_ms", (f.t_exit - f.rec.t_err) * 1e3);
        gvb_emit_series(w, "restart_to_kernel_ms", (done - f.t_exit) * 1e3);
        gvb_emit_series(w, "replacement_attempts", attempts);
        samples++;
    }
    gvb_sync(w); /* the bystander keeps running kernels until here */
    emit_tally(w, &t);
    gvb_emit_extra(w, "not_recovered_within_20s", unrecovered);
    if (why[0])
        gvb_emit_text(w, "last_replacement_problem", "%s", why);
    if (samples == 0)
        return gvb_report_status(w, GVB_FAIL, "no recovery measured: %s",
                                 t.last_why[0] ? t.last_why : why);
    return 0;
}

/* -- the bystander: tenant 1 keeps a process running kernels, restarting it if it dies -- */

enum { BY_READY = 1, BY_ERROR, BY_SUMMARY };
typedef struct by_rec {
    int type, err;
    double t;
    long long kernels;
    char err_name[NAME_LEN];
} by_rec;

typedef struct by_arg {
    int ctl_r, ctl_w; /* EOF on ctl_r tells the bystander to stop */
    int wake_r, wake_w; /* the tenant's phase pipe: a child must not hold it */
} by_arg;

static int bystander_child(void *arg, int fd)
{
    by_arg *a = arg;
    close(a->ctl_w);
    if (a->wake_r >= 0)
        close(a->wake_r);
    if (a->wake_w >= 0)
        close(a->wake_w);
    by_rec r = {.type = BY_READY};
    cudaStream_t s;
    cudaError_t e;
    if ((e = cudaSetDevice(0)) == cudaSuccess && (e = cudaFree(0)) == cudaSuccess &&
        (e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking)) == cudaSuccess &&
        (e = (cudaError_t)gvb_launch_empty(s)) == cudaSuccess)
        e = cudaStreamSynchronize(s);
    r.t = gvb_now();
    if (e != cudaSuccess) {
        r.type = BY_ERROR;
        r.err = (int)e;
        name_error(r.err_name, e);
        gvb_write_all(fd, &r, sizeof r);
        return 2;
    }
    gvb_write_all(fd, &r, sizeof r);
    long long kernels = 1;
    for (;;) {
        struct pollfd p = {.fd = a->ctl_r, .events = POLLIN};
        if (poll(&p, 1, 0) != 0)
            break; /* the tenant closed the control pipe */
        if ((e = (cudaError_t)gvb_launch_empty(s)) == cudaSuccess)
            e = cudaStreamSynchronize(s);
        if (e != cudaSuccess) {
            r = (by_rec){.type = BY_ERROR, .err = (int)e, .t = gvb_now(), .kernels = kernels};
            name_error(r.err_name, e);
            gvb_write_all(fd, &r, sizeof r);
            return 2;
        }
        kernels++;
        usleep(200);
    }
    r = (by_rec){.type = BY_SUMMARY, .t = gvb_now(), .kernels = kernels};
    gvb_write_all(fd, &r, sizeof r);
    return 0;
}

typedef struct bystander {
    gvb_child c;
    int ctl_w, running, ready;
    int wake[2]; /* -1 until the phase thread's pipe exists */
    long long kernels;
    int errors, restarts, start_failures;
    double t_down, restart_ms_max;
    char first_error[96];
} bystander;

static int bystander_start(bystander *b)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    by_arg a = {.ctl_r = p[0], .ctl_w = p[1], .wake_r = b->wake[0], .wake_w = b->wake[1]};
    int rc = gvb_child_start(&b->c, bystander_child, &a);
    close(p[0]);
    if (rc != 0) {
        close(p[1]);
        return -1;
    }
    b->ctl_w = p[1];
    b->running = 1;
    b->ready = 0;
    return 0;
}

/* Reads one record (or the end) of the running bystander and updates the tally. */
static void bystander_read(bystander *b)
{
    by_rec r;
    int got = gvb_child_read(&b->c, &r, sizeof r, READ_TIMEOUT_S);
    if (got == 1 && r.type == BY_READY) {
        if (b->t_down > 0) {
            double ms = (r.t - b->t_down) * 1e3;
            if (ms > b->restart_ms_max)
                b->restart_ms_max = ms;
            b->t_down = 0;
        }
        b->ready = 1;
        return;
    }
    if (got == 1 && r.type == BY_SUMMARY) {
        b->kernels += r.kernels;
        return; /* the end follows */
    }
    if (got == 1 && r.type == BY_ERROR) {
        b->kernels += r.kernels;
        if (b->ready) { /* an error while running, not a failed start */
            b->errors++;
            if (!b->first_error[0])
                snprintf(b->first_error, sizeof b->first_error, "%s", r.err_name);
        } else {
            b->start_failures++;
        }
        if (b->t_down == 0)
            b->t_down = r.t;
        return;
    }
    /* the end: the child exited (or crashed) */
    close(b->ctl_w);
    gvb_child_end end = gvb_child_finish(&b->c, EXIT_TIMEOUT_S);
    if (end != GVB_CHILD_EXITED) {
        b->errors++;
        char d[96];
        if (!b->first_error[0])
            snprintf(b->first_error, sizeof b->first_error, "process %s",
                     gvb_child_describe(&b->c, d, sizeof d));
        if (b->t_down == 0)
            b->t_down = gvb_now();
    }
    b->running = 0;
}

typedef struct sync_thread {
    gvb_worker *w;
    int wake_w;
} sync_thread;

/* Waits for the faulter's end of the faults and says so with a byte, not by closing the pipe:
 * a bystander restarted meanwhile is forked with a copy of the write end (fork keeps
 * O_CLOEXEC descriptors), so a close alone would never reach the tenant as EOF. (Seen under
 * MPS, where every fault kills the bystander: the tenant waited for EOF until its deadline.) */
static void *sync_main(void *arg)
{
    sync_thread *s = arg;
    gvb_sync(s->w);
    char one = 1;
    while (write(s->wake_w, &one, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static int err_002_bystander(gvb_worker *w)
{
    bystander b = {.wake = {-1, -1}};
    if (bystander_start(&b) != 0)
        return gvb_report_status(w, GVB_FAIL, "cannot fork the bystander process");
    bystander_read(&b);
    if (!b.ready) {
        if (b.running) {
            close(b.ctl_w);
            gvb_child_finish(&b.c, EXIT_TIMEOUT_S);
        }
        return gvb_report_status(w, GVB_FAIL, "the bystander process could not run a kernel");
    }
    if (gvb_barrier(w) != 0)
        return gvb_report_status(w, GVB_FAIL, "start barrier failed");
    int *wake = b.wake;
    if (pipe2(wake, O_CLOEXEC) != 0)
        return gvb_report_status(w, GVB_FAIL, "pipe failed");
    sync_thread st = {.w = w, .wake_w = wake[1]};
    pthread_t th;
    if (pthread_create(&th, NULL, sync_main, &st) != 0)
        return gvb_report_status(w, GVB_FAIL, "cannot start the phase thread");
    int stopping = 0, hung = 0;
    double stop_at = 0;
    while (b.running || !stopping) {
        if (!b.running && !stopping) { /* it died: restart it, as a supervisor would */
            b.restarts++;
            usleep(50000);
            if (bystander_start(&b) != 0)
                break;
        }
        if (stopping && gvb_now() - stop_at > EXIT_TIMEOUT_S) {
            /* told to stop, yet silent: stuck inside the driver (seen under MPS after another
             * client's fatal fault, when the server refuses clients until all have exited) */
            gvb_child_finish(&b.c, 0);
            b.running = 0;
            b.errors++;
            hung = 1;
            break;
        }
        struct pollfd p[2] = {{.fd = b.c.fd, .events = POLLIN}, {.fd = wake[0], .events = POLLIN}};
        if (poll(p, 2, 200) <= 0)
            continue;
        if (p[1].revents && !stopping) {
            stopping = 1;
            stop_at = gvb_now();
            close(b.ctl_w); /* tells the bystander to stop and report */
            b.ctl_w = -1;
        }
        if (p[0].revents)
            bystander_read(&b);
    }
    if (hung)
        gvb_emit_text(w, "hung", "the bystander process did not report within %.0f s of being told "
                      "to stop and was killed", EXIT_TIMEOUT_S);
    pthread_join(th, NULL);
    close(wake[0]);
    close(wake[1]);
    gvb_emit_extra(w, "kernels", (double)b.kernels);
    gvb_emit_extra(w, "errors_seen", b.errors);
    gvb_emit_extra(w, "restarted", b.restarts > 0);
    gvb_emit_extra(w, "restarts", b.restarts);
    gvb_emit_extra(w, "failed_starts", b.start_failures);
    if (b.restarts)
        gvb_emit_extra(w, "restart_to_kernel_ms_max", b.restart_ms_max);
    if (b.first_error[0])
        gvb_emit_text(w, "first_error", "%s", b.first_error);
    gvb_emit_text(w, "role", "bystander: runs kernels in its own process during the faults");
    return 0;
}

static int err_002(gvb_worker *w)
{
    return w->tenant == 0 ? err_002_faulter(w) : err_002_bystander(w);
}
const gvb_metric_impl gvb_impl_err_002 = {.run = err_002, .deadline_s = 180};

/* ---- ERR-003 Graceful Degradation Score ------------------------------------------------- */

typedef struct scen_rec {
    int ran;       /* the context came up and the scenario ran */
    int err;       /* what the exhausting call returned (the setup error when !ran) */
    int expect_ok; /* the call's result is what a correct system returns */
    int after_ok;  /* afterwards, an allocation, a kernel and a free still worked */
    int after_err;
    double value; /* scenario-specific: streams created, MiB reached */
    double ms;    /* from the child's start to its record */
    char err_name[NAME_LEN], after_name[NAME_LEN];
} scen_rec;

static size_t total_memory(void)
{
    size_t f = 0, t = 0;
    return cudaMemGetInfo(&f, &t) == cudaSuccess ? t : 0;
}

/* A request no GPU has memory for: four times what the tenant is told the GPU has. */
static void scen_oom(scen_rec *r)
{
    void *p = NULL;
    r->err = (int)cudaMalloc(&p, 4 * total_memory());
    r->expect_ok = r->err != cudaSuccess;
    if (r->err == cudaSuccess)
        cudaFree(p);
}

static void scen_alloc_after_oom(scen_rec *r)
{
    void *p = NULL, *q = NULL;
    cudaError_t first = cudaMalloc(&p, 4 * total_memory());
    if (first == cudaSuccess)
        cudaFree(p);
    cudaGetLastError();
    r->err = (int)cudaMalloc(&q, 64u << 20);
    if (r->err == cudaSuccess)
        r->err = (int)cudaMemset(q, 1, 64u << 20);
    if (r->err == cudaSuccess)
        r->err = (int)cudaDeviceSynchronize();
    r->expect_ok = first != cudaSuccess && r->err == cudaSuccess;
    if (q)
        cudaFree(q);
}

/* Chunks of 1/64 of the reported total until an allocation fails, then free all and
 * allocate one chunk again. */
static void scen_exhaust_recover(scen_rec *r)
{
    size_t chunk = total_memory() / 64 / (2u << 20) * (2u << 20);
    if (chunk < (2u << 20))
        chunk = 2u << 20;
    enum { CAP = 4096 };
    void **p = calloc(CAP, sizeof *p);
    int n = 0;
    cudaError_t e = cudaSuccess;
    while (p && n < CAP && (e = cudaMalloc(&p[n], chunk)) == cudaSuccess)
        n++;
    r->err = (int)e;
    r->value = (double)n * (double)chunk / (1024.0 * 1024.0);
    cudaGetLastError();
    for (int i = 0; i < n; i++)
        cudaFree(p[i]);
    void *q = NULL;
    cudaError_t again = cudaMalloc(&q, chunk);
    if (again == cudaSuccess)
        cudaFree(q);
    r->expect_ok = e != cudaSuccess && again == cudaSuccess;
    free(p);
}

typedef enum { BAD_THREADS, BAD_SHARED_MEMORY, BAD_GRID } bad_launch;

/* A launch whose configuration exceeds one of the device's limits. */
static void scen_bad_launch(scen_rec *r, bad_launch kind)
{
    struct cudaDeviceProp d;
    if ((r->err = (int)cudaGetDeviceProperties(&d, 0)) != cudaSuccess)
        return;
    unsigned grid_y = kind == BAD_GRID ? (unsigned)d.maxGridSize[1] + 1 : 1;
    unsigned threads = kind == BAD_THREADS ? (unsigned)d.maxThreadsPerBlock * 2 : 32;
    size_t shared = kind == BAD_SHARED_MEMORY ? d.sharedMemPerBlockOptin + 4096 : 0;
    r->err = gvb_launch_config(0, 1, grid_y, threads, shared);
    if (r->err == cudaSuccess)
        r->err = (int)cudaDeviceSynchronize();
    r->expect_ok = r->err != cudaSuccess;
}

static void scen_threads_per_block(scen_rec *r) { scen_bad_launch(r, BAD_THREADS); }
static void scen_shared_memory(scen_rec *r) { scen_bad_launch(r, BAD_SHARED_MEMORY); }
static void scen_grid(scen_rec *r) { scen_bad_launch(r, BAD_GRID); }

/* Streams until creation fails, at most 10000: reaching the bound is fine (no limit met). */
static void scen_streams(scen_rec *r)
{
    enum { CAP = 10000 };
    cudaStream_t *s = calloc(CAP, sizeof *s);
    int n = 0;
    cudaError_t e = cudaSuccess;
    while (s && n < CAP && (e = cudaStreamCreateWithFlags(&s[n], cudaStreamNonBlocking)) == cudaSuccess)
        n++;
    cudaGetLastError();
    r->err = (int)e;
    r->value = n;
    r->expect_ok = s != NULL;
    for (int i = 0; i < n; i++)
        cudaStreamDestroy(s[i]);
    free(s);
}

/* 1 PiB of pinned host memory: beyond any process's address space, so the request fails
 * at once and cannot start pinning pages (and wake the host's OOM killer). */
static void scen_pinned_host(scen_rec *r)
{
    void *p = NULL;
    r->err = (int)cudaMallocHost(&p, 1ull << 50);
    r->expect_ok = r->err != cudaSuccess;
    if (r->err == cudaSuccess)
        cudaFreeHost(p);
}

static void scen_invalid_free(scen_rec *r)
{
    int host_local = 0;
    r->err = (int)cudaFree(&host_local);
    r->expect_ok = r->err != cudaSuccess;
}

static void scen_double_free(scen_rec *r)
{
    void *p = NULL;
    if ((r->err = (int)cudaMalloc(&p, 1u << 20)) != cudaSuccess || (r->err = (int)cudaFree(p)) != cudaSuccess)
        return;
    r->err = (int)cudaFree(p);
    r->expect_ok = r->err != cudaSuccess;
}

typedef struct scenario {
    const char *name;
    void (*run)(scen_rec *r);
    double timeout_s;
    const char *what;
} scenario;

static const scenario scenarios[] = {
    {"oom_far_above_memory", scen_oom, 20, "cudaMalloc of 4x the reported total"},
    {"alloc_after_oom", scen_alloc_after_oom, 20, "64 MiB cudaMalloc+memset after a failed 4x-total one"},
    {"exhaust_then_recover", scen_exhaust_recover, 60, "1/64-total chunks until failure, free all, allocate again"},
    {"too_many_threads_per_block", scen_threads_per_block, 20, "launch with 2x maxThreadsPerBlock"},
    {"too_much_shared_memory", scen_shared_memory, 20, "launch with sharedMemPerBlockOptin + 4 KiB dynamic shared memory"},
    {"grid_too_large", scen_grid, 20, "launch with gridDim.y = maxGridSize[1] + 1"},
    {"too_many_streams", scen_streams, 30, "cudaStreamCreate until failure, at most 10000"},
    {"huge_pinned_host_alloc", scen_pinned_host, 20, "cudaMallocHost of 1 PiB"},
    {"free_invalid_pointer", scen_invalid_free, 20, "cudaFree of a host stack address"},
    {"double_free", scen_double_free, 20, "cudaFree of an already freed allocation"},
};

/* After the scenario: clear a non-sticky error, then allocate, run a kernel, free. */
static void check_usable(scen_rec *r)
{
    cudaGetLastError();
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, 1u << 20);
    if (e == cudaSuccess)
        e = (cudaError_t)gvb_launch_empty(0);
    if (e == cudaSuccess)
        e = cudaDeviceSynchronize();
    if (p && e == cudaSuccess)
        e = cudaFree(p);
    r->after_ok = e == cudaSuccess;
    r->after_err = (int)e;
}

static int scenario_child(void *arg, int fd)
{
    const scenario *s = arg;
    scen_rec r = {0};
    double t0 = gvb_now();
    cudaError_t e;
    if ((e = cudaSetDevice(0)) != cudaSuccess || (e = cudaFree(0)) != cudaSuccess) {
        r.err = (int)e;
        name_error(r.err_name, e);
        return gvb_write_all(fd, &r, sizeof r) ? 1 : 0;
    }
    r.ran = 1;
    s->run(&r);
    check_usable(&r);
    name_error(r.err_name, (cudaError_t)r.err);
    name_error(r.after_name, (cudaError_t)r.after_err);
    r.ms = (gvb_now() - t0) * 1e3;
    return gvb_write_all(fd, &r, sizeof r) ? 1 : 0;
}

/* Runs one scenario in its own process; returns 1 when it ended cleanly, with why. */
static int run_scenario(const scenario *s, scen_rec *r, int *setup_failed, char *why, size_t len)
{
    gvb_child c;
    memset(r, 0, sizeof *r);
    *setup_failed = 0;
    if (gvb_child_start(&c, scenario_child, (void *)s) != 0) {
        snprintf(why, len, "not run: fork failed");
        return 0;
    }
    int got = gvb_child_read(&c, r, sizeof *r, s->timeout_s);
    gvb_child_end end = gvb_child_finish(&c, got < 0 ? 0 : EXIT_TIMEOUT_S);
    char d[96];
    gvb_child_describe(&c, d, sizeof d);
    const char *name = r->err_name;
    if (got < 0 || end == GVB_CHILD_HUNG) {
        snprintf(why, len, "hang: no result within %.0f s, killed", s->timeout_s);
        return 0;
    }
    if (got == 0) {
        snprintf(why, len, "crash: process %s before reporting", d);
        return 0;
    }
    if (!r->ran) {
        *setup_failed = 1;
        snprintf(why, len, "not run: context creation failed: %s", name);
        return 0;
    }
    if (end == GVB_CHILD_SIGNALED) {
        snprintf(why, len, "crash at exit: process %s (call returned %s)", d, name);
        return 0;
    }
    if (!r->expect_ok) {
        snprintf(why, len, "wrong result: %s", name);
        return 0;
    }
    if (!r->after_ok) {
        snprintf(why, len, "unusable afterwards: returned %s, then %s", name, r->after_name);
        return 0;
    }
    snprintf(why, len, "clean: %s%s; allocation and kernel worked afterwards",
             r->err == cudaSuccess ? "succeeded, no limit met: " : "returned ", name);
    return 1;
}

static int err_003(gvb_worker *w)
{
    if (gvb_barrier(w) != 0)
        return gvb_report_status(w, GVB_FAIL, "start barrier failed");
    int n = (int)(sizeof scenarios / sizeof scenarios[0]), clean = 0, setup_failures = 0;
    char failed_setup[160] = "";
    for (int i = 0; i < n; i++) {
        const scenario *s = &scenarios[i];
        scen_rec r;
        char why[256], key[96];
        int setup_failed;
        double t0 = gvb_now();
        int ok = run_scenario(s, &r, &setup_failed, why, sizeof why);
        double ms = r.ran ? r.ms : (gvb_now() - t0) * 1e3;
        clean += ok;
        setup_failures += setup_failed;
        if (setup_failed)
            snprintf(failed_setup, sizeof failed_setup, "%s", why);
        gvb_emit_text(w, s->name, "%s [%s]", why, s->what);
        snprintf(key, sizeof key, "%s.clean", s->name);
        gvb_emit_extra(w, key, ok);
        snprintf(key, sizeof key, "%s.ms", s->name);
        gvb_emit_extra(w, key, ms);
        if (s->run == scen_streams && r.ran) {
            snprintf(key, sizeof key, "%s.created", s->name);
            gvb_emit_extra(w, key, r.value);
        }
        if (s->run == scen_exhaust_recover && r.ran) {
            snprintf(key, sizeof key, "%s.reached_MiB", s->name);
            gvb_emit_extra(w, key, r.value);
        }
        gvb_emit_series(w, "clean", ok ? 100 : 0);
    }
    if (setup_failures == n)
        return gvb_report_status(w, GVB_FAIL, "no scenario could run: %s", failed_setup);
    gvb_emit_value(w, gvb_percent(clean, n));
    gvb_emit_extra(w, "scenarios", n);
    gvb_emit_extra(w, "scenarios_clean", clean);
    return 0;
}
/* a fixed set of scenarios, each judged clean or not: process replicates add nothing */
const gvb_metric_impl gvb_impl_err_003 = {.run = err_003, .deadline_s = 240, .one_replicate = 1};
