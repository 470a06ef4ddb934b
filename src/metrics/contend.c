/* Shared host side of the contention metrics (see contend.h). */
#include "metrics/contend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu/cuda_check.h"
#include "kernels/kernels.h"
#include "stats/bwformulas.h"
#include "stats/stats.h"

#define GVB_MiB (1024.0 * 1024.0)
#define GVB_GiB (1ull << 30)
/* Bytes one call of the copy load moves (read + write): a few ms on a current GPU, so that a
 * sample spans several scheduler time slices' worth of work rather than one kernel. */
#define GVB_COPY_CALL_BYTES (8ull << 30)

int gvb_dev_open(gvb_worker *w, gvb_dev *d)
{
    memset(d, 0, sizeof *d);
    struct cudaDeviceProp p;
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, cudaFree(0));
    GVB_CUDA_TRY(w, cudaGetDeviceProperties(&p, 0));
    GVB_CUDA_TRY(w, cudaMemGetInfo(&d->free_b, &d->total_b));
    GVB_CUDA_TRY(w, cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking));
    d->sms = p.multiProcessorCount;
    d->l2_bytes = (size_t)p.l2CacheSize;
    d->smem_per_sm = p.sharedMemPerMultiprocessor;
    d->smem_per_block_optin = p.sharedMemPerBlockOptin;
    if (d->l2_bytes == 0)
        return gvb_report_status(w, GVB_FAIL, "the device reports no L2 cache size");
    return 0;
}

void gvb_dev_close(gvb_dev *d)
{
    if (d->stream)
        cudaStreamDestroy(d->stream);
    d->stream = NULL;
}

size_t gvb_mem_budget(const gvb_worker *w, const gvb_dev *d, int share)
{
    double avail = (double)d->free_b;
    if (w->memory_limit > 0 && (double)w->memory_limit < avail)
        avail = (double)w->memory_limit;
    return (size_t)(0.8 * avail / (share > 0 ? share : 1));
}

cudaError_t gvb_alloc_upto(void **p, size_t want, size_t min, size_t *got)
{
    *p = NULL;
    *got = 0;
    cudaError_t e = cudaErrorMemoryAllocation;
    for (size_t sz = want; sz >= min && sz > 0; sz /= 2) {
        e = cudaMalloc(p, sz);
        if (e == cudaSuccess) {
            *got = sz;
            return e;
        }
        cudaGetLastError(); /* an out-of-memory is not sticky: clear it and try smaller */
        if (e != cudaErrorMemoryAllocation)
            return e;
    }
    return e;
}

double gvb_window_s(const gvb_worker *w)
{
    double s = w->quick ? 0.2 : 0.4;
    return w->min_time_s > s ? w->min_time_s : s;
}

double gvb_window_share_s(const gvb_worker *w)
{
    double s = w->quick ? 0.2 : gvb_replicate_window_s(w, 0.4, 0.2);
    return w->min_time_s > s ? w->min_time_s : s;
}

double gvb_series_median(const gvb_series *s) { return gvb_median(s->v, s->n); }

double gvb_series_sum(const gvb_series *s)
{
    double t = 0;
    for (size_t i = 0; i < s->n; i++)
        t += s->v[i];
    return t;
}

/* ---- victim and aggressors ---------------------------------------------------------------- */

int gvb_contend_barrier(gvb_worker *w, gvb_shared **sh)
{
    *sh = NULL;
    if (w->tenant == 0 && !(*sh = gvb_shared_open(w)))
        return gvb_report_status(w, GVB_FAIL, "cannot create the tenants' shared page");
    if (gvb_barrier(w)) {
        gvb_shared_close(*sh, w); /* tenant 0 unlinks the page it made */
        *sh = NULL;
        return gvb_report_status(w, GVB_FAIL, "start barrier: the parent is gone");
    }
    if (w->tenant != 0 && !(*sh = gvb_shared_open(w)))
        return gvb_report_status(w, GVB_FAIL, "cannot open the tenants' shared page");
    return 0;
}

int gvb_contend_await(gvb_worker *w, gvb_shared *sh, int phase)
{
    int aggressors = w->tenants - 1, before = (phase - 1) * aggressors;
    double start = gvb_now();
    const struct timespec poll = {0, 200000}; /* 0.2 ms: small next to an aggressor's call */
    while (gvb_shared_ready(sh) < before + aggressors) {
        if (gvb_now() - start > GVB_AGGRESSOR_START_S)
            return gvb_report_status(w, GVB_FAIL, "phase %d: %d of %d aggressors running after "
                                     "%.0f s", phase, gvb_shared_ready(sh) - before, aggressors,
                                     GVB_AGGRESSOR_START_S);
        nanosleep(&poll, NULL);
    }
    return 0;
}

void gvb_contend_close(gvb_shared *sh, const gvb_worker *w)
{
    if (!sh)
        return; /* never opened: tenant 0 must not unlink a name it did not create */
    if (w->tenant == 0)
        gvb_shared_set_stop(sh);
    gvb_shared_close(sh, w);
}

gvb_until gvb_until_window(double window_s, int max_calls)
{
    return (gvb_until){.window_s = window_s, .max_calls = max_calls};
}

gvb_until gvb_until_victim(const gvb_worker *w, gvb_shared *sh, int phase)
{
    return (gvb_until){.window_s = GVB_AGGRESSOR_START_S + 4 * gvb_window_s(w) + 5.0,
                       .sh = sh, .phase = phase};
}

int gvb_run_until(gvb_until u, gvb_body_fn body, void *arg, gvb_series *out)
{
    double start = gvb_now();
    for (int i = 0; u.max_calls <= 0 || i < u.max_calls; i++) {
        double own = NAN, t0 = gvb_now();
        int rc = body(arg, &own);
        double t = gvb_now() - t0;
        if (u.sh && i == 0)
            gvb_shared_add_ready(u.sh); /* even after a failed call: no victim waits for it */
        if (rc)
            return rc;
        if (out && gvb_series_push(out, isnan(own) ? t : own))
            return -1;
        if (gvb_now() - start >= u.window_s || gvb_shared_phase_stopped(u.sh, u.phase))
            break;
    }
    return 0;
}

int gvb_run_window(double window_s, int max_calls, gvb_body_fn body, void *arg, gvb_series *out)
{
    return gvb_run_until(gvb_until_window(window_s, max_calls), body, arg, out);
}

int gvb_run_warmup(const gvb_worker *w, gvb_body_fn body, void *arg)
{
    if (w->warmup <= 0)
        return 0;
    return gvb_run_window(gvb_window_s(w) / 4, w->warmup, body, arg, NULL);
}

int gvb_copy_load_init(gvb_worker *w, const gvb_dev *d, gvb_copy_load *c, int share)
{
    memset(c, 0, sizeof *c);
    c->stream = d->stream;
    size_t budget = gvb_mem_budget(w, d, share);
    size_t min_each = 4 * d->l2_bytes;
    size_t want = (size_t)gvb_pow2_floor(budget / 2);
    if (want > GVB_GiB)
        want = GVB_GiB;
    if (want < min_each)
        return gvb_report_status(w, GVB_SKIP,
                                 "the streaming buffers need 2 x %.0f MiB (4 x L2 each) but this "
                                 "tenant may use %.0f MiB (free %.0f MiB, %d tenants)",
                                 min_each / GVB_MiB, budget / GVB_MiB, d->free_b / GVB_MiB, share);
    void *p = NULL;
    size_t got = 0;
    cudaError_t e = gvb_alloc_upto(&p, 2 * want, 2 * min_each, &got);
    if (e == cudaErrorMemoryAllocation)
        return gvb_report_status(w, GVB_SKIP,
                                 "cannot allocate 2 x %.0f MiB streaming buffers (4 x L2 each): "
                                 "out of memory", min_each / GVB_MiB);
    GVB_CUDA_TRY(w, e);
    c->bytes = got / 2 / 16 * 16;
    c->a = p;
    c->b = (char *)p + c->bytes;
    GVB_CUDA_RC(w, gvb_copy16_grid(d->sms, &c->blocks), "copy kernel occupancy");
    c->reps = (int)((GVB_COPY_CALL_BYTES + 2 * c->bytes - 1) / (2 * c->bytes));
    GVB_CUDA_TRY(w, cudaMemsetAsync(c->a, 1, 2 * c->bytes, c->stream));
    /* the first launch loads the module and maps the pages: not part of any sample */
    GVB_CUDA_RC(w, gvb_launch_copy16(c->b, c->a, c->bytes, c->blocks, c->stream), "copy kernel");
    GVB_CUDA_TRY(w, cudaStreamSynchronize(c->stream));
    return 0;
}

void gvb_copy_load_free(gvb_copy_load *c)
{
    if (c->a)
        cudaFree(c->a);
    c->a = c->b = NULL;
}

double gvb_copy_load_bytes(const gvb_copy_load *c) { return 2.0 * (double)c->bytes * c->reps; }

int gvb_copy_body(void *arg, double *sample_s)
{
    gvb_copy_load *c = arg;
    (void)sample_s;
    cudaError_t e = cudaSuccess;
    for (int i = 0; i < c->reps && e == cudaSuccess; i++)
        e = c->use_memcpy
                ? cudaMemcpyAsync(c->b, c->a, c->bytes, cudaMemcpyDeviceToDevice, c->stream)
                : (cudaError_t)gvb_launch_copy16(c->b, c->a, c->bytes, c->blocks, c->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(c->stream);
    c->err = e;
    return e != cudaSuccess;
}

int gvb_series_to_gbs(const gvb_series *s, double bytes_per_call, gvb_series *out)
{
    for (size_t i = 0; i < s->n; i++)
        if (gvb_series_push(out, gvb_gbs(bytes_per_call, s->v[i])))
            return -1;
    return 0;
}

#define GVB_CEILING_CALLS 5

int gvb_d2d_ceiling(gvb_copy_load *c, double *gbs)
{
    gvb_series t = {0};
    c->use_memcpy = 1;
    int rc = gvb_copy_body(c, NULL); /* warm */
    if (rc == 0)
        rc = gvb_run_window(1e9, GVB_CEILING_CALLS, gvb_copy_body, c, &t);
    c->use_memcpy = 0;
    double best = 0;
    for (size_t i = 0; i < t.n; i++)
        best = fmax(best, gvb_gbs(gvb_copy_load_bytes(c), t.v[i]));
    gvb_series_free(&t);
    *gbs = best;
    return rc ? (int)c->err : 0;
}

int gvb_stream_solo(gvb_worker *w, gvb_copy_load *c, gvb_series *gbs)
{
    double ceiling = 0;
    GVB_CUDA_RC(w, gvb_d2d_ceiling(c, &ceiling), "cudaMemcpyAsync D2D ceiling");
    gvb_series t = {0};
    int rc = gvb_run_warmup(w, gvb_copy_body, c);
    if (rc == 0)
        rc = gvb_run_window(gvb_window_s(w), w->iterations, gvb_copy_body, c, &t);
    if (rc == 0)
        rc = gvb_series_to_gbs(&t, gvb_copy_load_bytes(c), gbs);
    gvb_series_free(&t);
    GVB_CUDA_RC(w, rc ? (c->err ? (int)c->err : (int)cudaErrorMemoryAllocation) : 0,
                "solo streaming copy");
    double solo = gvb_series_median(gbs);
    gvb_emit_extra(w, "d2d_ceiling_gbs", ceiling);
    gvb_emit_extra(w, "solo_gbs", solo);
    gvb_emit_extra(w, "solo_pct_of_d2d", gvb_pct_of(solo, ceiling));
    gvb_emit_extra(w, "buffer_bytes", (double)c->bytes);
    gvb_emit_extra(w, "copies_per_sample", c->reps);
    gvb_emit_extra(w, "blocks", c->blocks);
    return 0;
}

int gvb_tenant_extra(const gvb_result *r, int tenant, const char *name, double *v)
{
    char key[160];
    if (r->tenants > 1)
        snprintf(key, sizeof key, "t%d.%s", tenant, name);
    else
        snprintf(key, sizeof key, "%s", name);
    const gvb_kv_item *it = gvb_kv_get(&r->extras, key);
    if (!it || it->is_text)
        return -1;
    *v = it->num;
    return 0;
}
