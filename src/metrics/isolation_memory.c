/* Isolation metrics of memory and faults (IS-001, IS-002, IS-005, IS-010): does the layer
 * keep a tenant's memory limit, its memory private, and its neighbours alive when one tenant
 * faults or is killed? Methods in docs/metrics/isolation.md; the compute isolation metrics are
 * in isolation.c. */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "gpu/cuda_check.h"
#include "kernels/kernels.h"
#include "metrics/metric_util.h"
#include "stats/formulas.h"
#include "stats/stats.h"

/* ---- IS-001 Memory Limit Accuracy ---------------------------------------------------------- */

#define SEARCH_MAX_CHUNK (1ull << 30)
#define SEARCH_RESOLUTION (2ull << 20)

static int is_001(gvb_worker *w)
{
    size_t free0, total0;
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, cudaFree(0));
    GVB_CUDA_TRY(w, cudaMemGetInfo(&free0, &total0));
    int limited = w->memory_limit > 0 && !gvb_is_native(w);
    double denom = limited ? (double)w->memory_limit : (double)total0;
    gvb_barrier(w);
    /* 5 whole-memory searches per metric, split over its replicates (2 at least each) */
    int trials = w->quick ? 2 : gvb_replicate_share_min(w, 5, 2);
    double usable = 0;
    for (int t = 0; t < trials; t++) {
        gvb_alloc_set set = {0};
        if (gvb_alloc_fill(&set, SEARCH_MAX_CHUNK, SEARCH_RESOLUTION) != 0)
            return gvb_report_status(w, GVB_FAIL, "allocation search: %s",
                                     cudaGetErrorString(set.last_err));
        usable = (double)set.bytes;
        gvb_emit_sample(w, 100.0 * usable / denom);
        size_t f, tot;
        if (t == 0 && cudaMemGetInfo(&f, &tot) == cudaSuccess)
            gvb_emit_extra(w, "reported_free_when_full_bytes", (double)f);
        gvb_sleep_s(0.12); /* hold the peak for two samples of the 50 ms NVML monitor */
        gvb_emit_extra(w, "chunks", (double)set.n);
        gvb_alloc_release(&set);
    }
    gvb_emit_extra(w, "usable_bytes", usable);
    gvb_emit_text(w, "deterministic", "a search to 2 MiB resolution: trials agree exactly unless "
                  "the layer's accounting changes between them");
    gvb_emit_extra(w, "reported_total_bytes", (double)total0);
    gvb_emit_extra(w, "reported_free_bytes", (double)free0);
    /* what the tenant is charged before its first allocation: the context, as the layer
     * reports it, against the limit where one applies (MPS reports the physical total but
     * the free memory under its limit; native: everything used on the device) */
    double budget = limited ? fmin((double)w->memory_limit, (double)total0) : (double)total0;
    gvb_emit_extra(w, "context_charge_bytes", fmax(0, budget - (double)free0));
    if (limited) {
        gvb_emit_extra(w, "overshoot_bytes", fmax(0, usable - (double)w->memory_limit));
        gvb_emit_text(w, "denominator", "the configured limit (--memory-limit)");
    } else {
        gvb_emit_text(w, "denominator", "%s", gvb_is_native(w)
                      ? "the physical total (native applies no limit)"
                      : "the reported total (no --memory-limit configured)");
    }
    gvb_emit_extra(w, "resolution_bytes", (double)SEARCH_RESOLUTION);
    return 0;
}


static double series_max(const gvb_series *s)
{
    double m = NAN;
    for (size_t i = 0; s && i < s->n; i++)
        if (isnan(m) || s->v[i] > m)
            m = s->v[i];
    return m;
}

static void is_001_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    gvb_copy_samples(r, per_tenant, tenants);
    const gvb_series *used = gvb_monitor_series(r, 0, "used_bytes");
    double peak = series_max(used);
    if (!used || isnan(peak)) {
        gvb_monitor_unavailable(r);
        return;
    }
    gvb_kv_set_num(&r->extras, "physical_peak_bytes", peak);
    double usable = gvb_extra_num(r, "usable_bytes"), limit = gvb_extra_num(r, "limit_bytes");
    if (isfinite(usable))
        gvb_kv_set_num(&r->extras, "physical_minus_usable_bytes", peak - usable);
    if (isfinite(limit))
        gvb_kv_set_num(&r->extras, "physical_overshoot_bytes", fmax(0, peak - limit));
    gvb_kv_set_text(&r->extras, "monitor_cross_check",
                    "NVML per-process used memory of the tenant (peak over the run)");
}
const gvb_metric_impl gvb_impl_is_001 = {.run = is_001, .reduce = is_001_reduce, .monitor = 1,
                                         .deadline_s = 180};

/* ---- IS-002 Memory Limit Enforcement -------------------------------------------------------- */

#define ENFORCE_CHUNK (256ull << 20)

static int is_002(gvb_worker *w)
{
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, cudaFree(0));
    gvb_barrier(w);
    /* 10 fills per metric, split over its replicates (3 at least each) */
    int trials = w->quick ? 3 : gvb_replicate_share_min(w, 10, 3);
    int in_limit_ok = 1;
    cudaError_t fail_err = cudaSuccess;
    double at_bytes = 0;
    size_t cap = 1024;
    void **p = malloc(cap * sizeof *p);
    if (!p)
        return gvb_report_status(w, GVB_FAIL, "out of host memory");
    for (int t = 0; t < trials; t++) {
        size_t n = 0;
        double dt = 0;
        cudaError_t e;
        for (;;) { /* fill until the first allocation that fails */
            if (n == cap) {
                void **np = realloc(p, (cap *= 2) * sizeof *p);
                if (!np)
                    return gvb_report_status(w, GVB_FAIL, "out of host memory");
                p = np;
            }
            double t0 = gvb_now();
            e = cudaMalloc(&p[n], ENFORCE_CHUNK);
            dt = gvb_now() - t0;
            if (e != cudaSuccess)
                break;
            n++;
        }
        cudaGetLastError();
        if (e != cudaErrorMemoryAllocation)
            return gvb_report_status(w, GVB_FAIL, "over-limit cudaMalloc failed with %s, not out-of-memory",
                                     cudaGetErrorName(e));
        fail_err = e;
        at_bytes = (double)n * ENFORCE_CHUNK;
        gvb_emit_sample(w, dt * 1e6);
        /* a later in-limit allocation: free one chunk, take it again */
        if (n > 0) {
            cudaFree(p[--n]);
            void *q = NULL;
            if (cudaMalloc(&q, ENFORCE_CHUNK) == cudaSuccess)
                cudaFree(q);
            else
                in_limit_ok = 0, cudaGetLastError();
        } else {
            in_limit_ok = 0;
        }
        for (size_t i = 0; i < n; i++)
            cudaFree(p[i]);
    }
    free(p);
    gvb_emit_extra(w, "error_code", (double)fail_err);
    gvb_emit_text(w, "error", "%s", cudaGetErrorName(fail_err));
    gvb_emit_extra(w, "in_limit_alloc_after_failure_ok", in_limit_ok);
    gvb_emit_extra(w, "allocated_before_failure_bytes", at_bytes);
    gvb_emit_extra(w, "chunk_bytes", (double)ENFORCE_CHUNK);
    if (w->memory_limit == 0 || gvb_is_native(w)) /* else the runner records limit_bytes */
        gvb_emit_text(w, "limit", "none applied: the over-limit allocation is the one beyond "
                                  "physical memory");
    return 0;
}
const gvb_metric_impl gvb_impl_is_002 = {.run = is_002, .deadline_s = 180};

/* ---- IS-005 Cross-Tenant Memory Isolation ---------------------------------------------------- */

#define IS005_MAGIC 0x67766249533035ull /* "gvbIS05" */

static int emit_check(gvb_worker *w, const char *name, int pass, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int emit_check(gvb_worker *w, const char *name, int pass, const char *fmt, ...)
{
    char key[96], text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(key, sizeof key, "check.%s", name);
    gvb_emit_extra(w, key, pass);
    snprintf(key, sizeof key, "evidence.%s", name);
    gvb_emit_text(w, key, "%s", text);
    return pass;
}

/* How much this tenant can allocate right now (2 MiB resolution), released again. */
static double usable_now(cudaError_t *err)
{
    gvb_alloc_set s = {0};
    int rc = gvb_alloc_fill(&s, SEARCH_MAX_CHUNK, SEARCH_RESOLUTION);
    double b = (double)s.bytes;
    gvb_alloc_release(&s);
    *err = rc ? s.last_err : cudaSuccess;
    return rc ? NAN : b;
}

/* Counts the neighbour's magic words in everything this tenant can allocate. */
static cudaError_t scan_for_magic(double *scanned, unsigned long long *found)
{
    gvb_alloc_set s = {0};
    unsigned long long *d_count = NULL;
    cudaError_t e = cudaMalloc((void **)&d_count, sizeof *d_count);
    if (!e)
        e = cudaMemset(d_count, 0, sizeof *d_count);
    if (!e && gvb_alloc_fill(&s, SEARCH_MAX_CHUNK, SEARCH_RESOLUTION) != 0)
        e = s.last_err;
    for (size_t i = 0; i < s.n && !e; i++)
        e = (cudaError_t)gvb_launch_count_u64(0, (const uint64_t *)s.p[i], s.size[i] / 8,
                                              IS005_MAGIC, d_count);
    if (!e)
        e = cudaMemcpy(found, d_count, sizeof *found, cudaMemcpyDeviceToHost);
    *scanned = (double)s.bytes;
    gvb_alloc_release(&s);
    cudaFree(d_count);
    return e;
}

static int is_005(gvb_worker *w)
{
    int observer = w->tenant == 1, neighbour = w->tenant == 0;
    gvb_shared *sh = NULL;
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, cudaFree(0));
    if (w->tenant == 0 && !(sh = gvb_shared_open(w)))
        return gvb_report_status(w, GVB_FAIL, "cannot create the tenants' shared page");
    gvb_barrier(w);
    if (w->tenant != 0 && !(sh = gvb_shared_open(w)))
        return gvb_report_status(w, GVB_FAIL, "cannot open the tenants' shared page");
    cudaError_t e = cudaSuccess;
    double before = NAN, during = NAN;
    gvb_alloc_set held = {0};
    /* A: the observer's quota alone */
    if (observer)
        before = usable_now(&e);
    if (gvb_sync(w))
        return gvb_report_status(w, GVB_FAIL, "phase barrier lost");
    /* B: the neighbour takes all it can and writes a marker into every byte */
    if (neighbour) {
        if (gvb_alloc_fill(&held, SEARCH_MAX_CHUNK, SEARCH_RESOLUTION) != 0)
            return gvb_report_status(w, GVB_FAIL, "neighbour allocation: %s",
                                     cudaGetErrorString(held.last_err));
        for (size_t i = 0; i < held.n; i++)
            GVB_CUDA_TRY(w, (cudaError_t)gvb_launch_fill_u64(0, (uint64_t *)held.p[i],
                                                             held.size[i] / 8, IS005_MAGIC));
        GVB_CUDA_TRY(w, cudaDeviceSynchronize());
        sh->value[0] = held.n ? (unsigned long long)(uintptr_t)held.p[0] : 0;
        sh->value[1] = held.bytes;
        gvb_emit_extra(w, "neighbour_bytes", (double)held.bytes);
    }
    if (gvb_sync(w))
        return gvb_report_status(w, GVB_FAIL, "phase barrier lost");
    /* C: the observer's quota with the neighbour full; the neighbour's pointer here */
    int ptr_pass = 1;
    char ptr_ev[512] = "";
    if (observer) {
        cudaError_t e2;
        during = usable_now(&e2);
        void *foreign = (void *)(uintptr_t)sh->value[0];
        struct cudaPointerAttributes pa;
        cudaError_t pe = cudaPointerGetAttributes(&pa, foreign);
        if (!foreign) {
            snprintf(ptr_ev, sizeof ptr_ev, "the neighbour could allocate nothing: not tested");
            ptr_pass = 0;
        } else if (pe != cudaSuccess) {
            cudaGetLastError();
            snprintf(ptr_ev, sizeof ptr_ev, "%p: cudaPointerGetAttributes: %s", foreign,
                     cudaGetErrorName(pe));
        } else if (pa.type != cudaMemoryTypeDevice && pa.type != cudaMemoryTypeManaged) {
            snprintf(ptr_ev, sizeof ptr_ev, "%p is not a device pointer in this tenant (type %d)",
                     foreign, (int)pa.type);
        } else {
            uint64_t v = 0;
            cudaError_t ce = cudaMemcpy(&v, foreign, sizeof v, cudaMemcpyDeviceToHost);
            ptr_pass = ce != cudaSuccess || v != IS005_MAGIC;
            snprintf(ptr_ev, sizeof ptr_ev, "%p maps to this tenant's own memory: read %s",
                     foreign, ptr_pass ? "no data of the neighbour" : "the neighbour's marker");
        }
    }
    if (gvb_sync(w))
        return gvb_report_status(w, GVB_FAIL, "phase barrier lost");
    /* D: the neighbour frees everything */
    if (neighbour) {
        gvb_alloc_release(&held);
        GVB_CUDA_TRY(w, cudaDeviceSynchronize());
    }
    if (gvb_sync(w))
        return gvb_report_status(w, GVB_FAIL, "phase barrier lost");
    /* E: the observer takes all it can and looks for the marker */
    if (observer) {
        double scanned = 0;
        unsigned long long found = 0;
        cudaError_t se = scan_for_magic(&scanned, &found);
        if (se != cudaSuccess)
            return gvb_report_status(w, GVB_FAIL, "scan: %s", cudaGetErrorString(se));
        double nb = (double)sh->value[1];
        int a = emit_check(w, "freed_data_not_readable", found == 0,
                           "%llu marker words found in %.0f MiB newly allocated after the "
                           "neighbour freed %.0f MiB it had filled", found, scanned / 1048576,
                           nb / 1048576);
        double tol = fmax(64.0 * 1048576, 0.01 * before);
        int b = emit_check(w, "quota_unaffected_by_neighbour",
                           isfinite(before) && isfinite(during) && during >= before - tol,
                           "usable alone %.0f MiB, with the neighbour holding %.0f MiB: %.0f MiB "
                           "(tolerance %.0f MiB)", before / 1048576, nb / 1048576,
                           during / 1048576, tol / 1048576);
        int c = emit_check(w, "foreign_pointer_invalid", ptr_pass, "%s", ptr_ev);
        gvb_emit_value(w, a && b && c);
    }
    gvb_shared_close(sh, w);
    return 0;
}
/* One process group whatever --replicates says: the checks follow each other through phase
 * barriers, with no timing in them, so a layer passes or fails them the same way every time
 * (and native fills the whole GPU four times per group) */
const gvb_metric_impl gvb_impl_is_005 = {.run = is_005, .deadline_s = 180, .one_replicate = 1};

/* ---- IS-010 Fault Isolation ----------------------------------------------------------------- */

#define VERIFY_N (1u << 20)
#define FAULT_AT_S 0.3
#define KILL_AT_S 0.5
#define AFTER_EVENTS_S 0.6
#define KILLED_BYTES (1ull << 30)

enum { ROLE_VICTIM, ROLE_FAULTER, ROLE_KILLED };

static int role_of(int tenant) { return tenant == 1 ? ROLE_FAULTER : tenant == 2 ? ROLE_KILLED : ROLE_VICTIM; }

typedef struct verify {
    cudaStream_t s;
    uint32_t *d_in, *d_out, *h_out;
} verify;

static cudaError_t verify_init(verify *v)
{
    memset(v, 0, sizeof *v);
    cudaError_t e = cudaStreamCreateWithFlags(&v->s, cudaStreamNonBlocking);
    uint32_t *h_in = malloc(VERIFY_N * sizeof *h_in);
    v->h_out = malloc(VERIFY_N * sizeof *v->h_out);
    if (!h_in || !v->h_out)
        e = cudaErrorMemoryAllocation;
    for (uint32_t i = 0; h_in && i < VERIFY_N; i++)
        h_in[i] = i;
    if (!e)
        e = cudaMalloc((void **)&v->d_in, VERIFY_N * sizeof(uint32_t));
    if (!e)
        e = cudaMalloc((void **)&v->d_out, VERIFY_N * sizeof(uint32_t));
    if (!e)
        e = cudaMemcpy(v->d_in, h_in, VERIFY_N * sizeof(uint32_t), cudaMemcpyHostToDevice);
    free(h_in);
    return e;
}

/* One verified iteration: out = in * mul + add on the GPU, every element checked on the host.
 * Returns the CUDA error; *correct says whether every element was right. */
static cudaError_t verify_once(verify *v, uint32_t i, int *correct)
{
    uint32_t mul = (2654435761u ^ i) | 1u, add = i;
    *correct = 0;
    cudaError_t e = (cudaError_t)gvb_launch_affine_u32(v->s, v->d_in, v->d_out, VERIFY_N, mul, add);
    if (!e)
        e = cudaMemcpyAsync(v->h_out, v->d_out, VERIFY_N * sizeof(uint32_t), cudaMemcpyDeviceToHost, v->s);
    if (!e)
        e = cudaStreamSynchronize(v->s);
    if (e)
        return e;
    for (uint32_t j = 0; j < VERIFY_N; j++)
        if (v->h_out[j] != j * mul + add)
            return cudaSuccess;
    *correct = 1;
    return cudaSuccess;
}

/* What tenant 0 can allocate now, as an extra (the error's name when it cannot tell). */
static void emit_usable(gvb_worker *w, const char *name)
{
    cudaError_t e;
    double u = usable_now(&e);
    gvb_emit_finite(w, name, u, cudaGetErrorName(e));
}

static int sync_or_fail(gvb_worker *w)
{
    return gvb_sync(w) ? gvb_report_status(w, GVB_FAIL, "phase barrier lost") : 0;
}

static int is_010(gvb_worker *w)
{
    if (w->tenants < 3)
        return gvb_report_status(w, GVB_SKIP, "needs >= 3 tenants (--processes 3 or more): one "
                                              "faults, one is killed, the others are victims");
    int role = role_of(w->tenant);
    static const char *const role_names[] = {"victim", "faulter", "killed"};
    gvb_emit_text(w, "role", "%s", role_names[role]);
    verify v;
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, verify_init(&v));
    gvb_barrier(w);
    cudaError_t e;
    /* A: tenant 0's quota before the killed tenant holds memory */
    if (w->tenant == 0)
        emit_usable(w, "usable_before_bytes");
    if (sync_or_fail(w))
        return 1;
    /* B: the tenant to be killed takes and touches memory */
    void *killed_mem = NULL;
    if (role == ROLE_KILLED) {
        GVB_CUDA_TRY(w, cudaMalloc(&killed_mem, KILLED_BYTES));
        GVB_CUDA_TRY(w, cudaMemset(killed_mem, 1, KILLED_BYTES));
        GVB_CUDA_TRY(w, cudaDeviceSynchronize());
        gvb_emit_extra(w, "held_bytes", (double)KILLED_BYTES);
    }
    if (sync_or_fail(w))
        return 1;
    /* C: tenant 0's quota while it is held */
    if (w->tenant == 0)
        emit_usable(w, "usable_neighbour_alive_bytes");
    if (sync_or_fail(w))
        return 1;
    /* D: the events, while the victims keep computing, 0.4 s of it after AFTER_EVENTS_S
     * (a fault reaches its own process in ~0.12 s on the H200: ERR-001) */
    double t0 = gvb_now(), run_s = w->quick ? 0.9 : 1.0;
    if (role == ROLE_FAULTER) {
        gvb_sleep_s(FAULT_AT_S);
        e = (cudaError_t)gvb_launch_fault(v.s);
        if (!e)
            e = cudaStreamSynchronize(v.s);
        gvb_emit_extra(w, "fault_detected", e != cudaSuccess);
        gvb_emit_text(w, "fault_error", "%s", e ? cudaGetErrorName(e) : "none: the kernel did not fault");
        void *p = NULL;
        cudaError_t after = cudaMalloc(&p, 1 << 20);
        gvb_emit_text(w, "after_fault", "%s", after ? cudaGetErrorName(after) : "cudaSuccess");
    } else if (role == ROLE_KILLED) {
        for (uint32_t i = 0; gvb_now() - t0 < KILL_AT_S; i++) {
            uint32_t mul = i | 1u;
            gvb_launch_affine_u32(v.s, v.d_in, v.d_out, VERIFY_N, mul, i);
            cudaStreamSynchronize(v.s);
        }
        gvb_launch_affine_u32(v.s, v.d_in, v.d_out, VERIFY_N, 3, 1); /* in flight when killed */
        raise(SIGKILL);
    } else {
        long ok = 0, wrong = 0, ok_after = 0;
        cudaError_t first = cudaSuccess;
        for (uint32_t i = 0; gvb_now() - t0 < run_s; i++) {
            int correct;
            double at = gvb_now() - t0;
            e = verify_once(&v, i, &correct);
            if (e) {
                first = e;
                break;
            }
            ok += correct;
            wrong += !correct;
            ok_after += correct && at >= AFTER_EVENTS_S;
        }
        gvb_emit_extra(w, "ok_iters", (double)ok);
        gvb_emit_extra(w, "wrong_iters", (double)wrong);
        gvb_emit_extra(w, "ok_iters_after_events", (double)ok_after);
        gvb_emit_text(w, "error", "%s", first ? cudaGetErrorName(first) : "none");
    }
    if (sync_or_fail(w))
        return 1;
    /* E: after the kill settles: tenant 0's quota again, one more verified iteration */
    if (role == ROLE_VICTIM) {
        gvb_sleep_s(w->quick ? 0.2 : 0.5); /* the driver (and a layer) clean up after the kill */
        int correct = 0;
        e = verify_once(&v, 12345, &correct);
        gvb_emit_extra(w, "final_ok", !e && correct);
        if (w->tenant == 0)
            emit_usable(w, "usable_after_kill_bytes");
    }
    return 0;
}

/* Reads tenant t's numeric extra (t<i>.<name>), NAN when absent. */
static double textra(const gvb_result *r, int t, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "t%d.%s", t, name);
    return gvb_extra_num(r, key);
}

static const char *ttext(const gvb_result *r, int t, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "t%d.%s", t, name);
    const char *s = gvb_kv_text(&r->extras, key);
    return s ? s : "?";
}

static void set_check(gvb_result *r, const char *name, int pass, const char *evidence)
{
    char key[96];
    snprintf(key, sizeof key, "check.%s", name);
    gvb_kv_set_num(&r->extras, key, pass);
    snprintf(key, sizeof key, "evidence.%s", name);
    gvb_kv_set_text(&r->extras, key, "%s", evidence);
}

static void is_010_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    (void)per_tenant;
    if (r->status != GVB_OK || tenants < 3)
        return;
    /* preconditions: the events really happened */
    if (textra(r, 1, "fault_detected") != 1) {
        r->status = GVB_FAIL;
        snprintf(r->reason, sizeof r->reason, "the faulting tenant's kernel did not fault (%s)",
                 ttext(r, 1, "fault_error"));
        return;
    }
    if (strncmp(ttext(r, 2, "exit"), "signal 9", 8) != 0) {
        r->status = GVB_FAIL;
        snprintf(r->reason, sizeof r->reason, "the tenant to be killed did not die of SIGKILL (%s)",
                 ttext(r, 2, "exit"));
        return;
    }
    char ev[1024] = "", alive[256] = "", gpu_ok[256] = "";
    size_t off = 0;
    int correct = 1, survived = 1;
    for (int t = 0; t < tenants; t++) {
        int is_victim = role_of(t) == ROLE_VICTIM;
        const char *ex = ttext(r, t, "exit");
        int exited_ok = strcmp(ex, "exit 0") == 0;
        if (exited_ok)
            snprintf(alive + strlen(alive), sizeof alive - strlen(alive), "%st%d", alive[0] ? "," : "", t);
        if (!is_victim)
            continue;
        survived &= exited_ok;
        double ok = textra(r, t, "ok_iters"), wrong = textra(r, t, "wrong_iters");
        double after = textra(r, t, "ok_iters_after_events"), fin = textra(r, t, "final_ok");
        int good = wrong == 0 && after >= 1 && fin == 1 && strcmp(ttext(r, t, "error"), "none") == 0;
        correct &= good;
        if (good)
            snprintf(gpu_ok + strlen(gpu_ok), sizeof gpu_ok - strlen(gpu_ok), "%st%d", gpu_ok[0] ? "," : "", t);
        off += (size_t)snprintf(ev + off, off < sizeof ev ? sizeof ev - off : 0,
                                "%st%d: %.0f correct, %.0f wrong, %.0f correct after the events, "
                                "final %s, error %s", off ? "; " : "", t, ok, wrong, after,
                                fin == 1 ? "correct" : "not correct", ttext(r, t, "error"));
    }
    set_check(r, "victims_kept_correct_results", correct, ev);
    char sv[256];
    snprintf(sv, sizeof sv, "processes that exited normally: %s (victims are t0 and t3..)", alive);
    set_check(r, "victims_processes_survived", survived, sv);
    double u0 = textra(r, 0, "usable_before_bytes"), u1 = textra(r, 0, "usable_neighbour_alive_bytes");
    double u2 = textra(r, 0, "usable_after_kill_bytes");
    double tol = fmax(64.0 * 1048576, 0.01 * u0);
    int released = isfinite(u0) && isfinite(u2) && u2 >= u0 - tol;
    char mem[512], after[160];
    if (isfinite(u2))
        snprintf(after, sizeof after, "%.0f MiB", u2 / 1048576);
    else
        snprintf(after, sizeof after, "not measurable (%s)", ttext(r, 0, "usable_after_kill_bytes"));
    snprintf(mem, sizeof mem, "tenant 0 could allocate %.0f MiB before, %.0f MiB while the killed "
             "tenant held %.0f MiB, after the kill %s (tolerance %.0f MiB)", u0 / 1048576,
             u1 / 1048576, textra(r, 2, "held_bytes") / 1048576, after, tol / 1048576);
    set_check(r, "killed_tenant_memory_released", released, mem);
    const gvb_series *mon = gvb_monitor_series(r, 2, "used_bytes");
    if (mon && mon->n > 0)
        gvb_kv_set_num(&r->extras, "monitor_killed_tenant_last_used_bytes", mon->v[mon->n - 1]);
    else
        gvb_monitor_unavailable(r);
    gvb_kv_set_text(&r->extras, "survivors", "processes alive to the end: %s; victims whose GPU "
                    "work stayed correct: %s", alive, gpu_ok[0] ? gpu_ok : "none");
    r->value = correct && survived && released;
    r->has_value = 1;
}
/* monitor: its reduce reads the killed tenant's monitored memory in every replicate */
const gvb_metric_impl gvb_impl_is_010 = {.run = is_010, .reduce = is_010_reduce, .monitor = 1,
                                         .tolerate_tenant_death = 1, .deadline_s = 120};
