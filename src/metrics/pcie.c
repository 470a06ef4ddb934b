/* Host-device transfer metrics (PCIE-xxx): pinned H2D and D2H bandwidth of large transfers
 * against the link's theoretical rate (generation x width from NVML), the drop when other
 * tenants copy too, and pinned vs pageable. Methods in docs/metrics/pcie.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/cuda_check.h"
#include "gpu/nvml.h"
#include "metrics/contend.h"
#include "stats/bwformulas.h"

#define XFER_MAX (256ull << 20) /* a large transfer */
#define XFER_MIN (32ull << 20)  /* the smallest still counted as large */
#define LINK_BUSY_TRANSFERS 8   /* queued while the link generation and width are read */

typedef struct xfer {
    void *dev, *pinned, *pageable;
    size_t bytes;
    int h2d, use_pageable;
    cudaStream_t stream;
    cudaError_t err;
} xfer;

/* Device buffer sized from the budget (power of two, 32..256 MiB), a pinned host buffer
 * and, when asked, a pageable one of the same size; all touched once. */
static int xfer_init(gvb_worker *w, const gvb_dev *d, xfer *x, int share, int pageable)
{
    memset(x, 0, sizeof *x);
    x->stream = d->stream;
    x->h2d = 1;
    size_t budget = gvb_mem_budget(w, d, share);
    size_t want = (size_t)gvb_pow2_floor(budget);
    if (want > XFER_MAX)
        want = XFER_MAX;
    if (want < XFER_MIN)
        return gvb_report_status(w, GVB_SKIP, "a large transfer needs %llu MiB of device memory "
                                 "but this tenant may use %zu MiB", XFER_MIN >> 20, budget >> 20);
    cudaError_t e = gvb_alloc_upto(&x->dev, want, XFER_MIN, &x->bytes);
    if (e == cudaErrorMemoryAllocation)
        return gvb_report_status(w, GVB_SKIP, "cannot allocate a %llu MiB device buffer: out of "
                                 "memory", XFER_MIN >> 20);
    GVB_CUDA_TRY(w, e);
    GVB_CUDA_TRY(w, cudaHostAlloc(&x->pinned, x->bytes, cudaHostAllocDefault));
    memset(x->pinned, 1, x->bytes);
    if (pageable) {
        x->pageable = malloc(x->bytes);
        if (!x->pageable)
            return gvb_report_status(w, GVB_SKIP, "cannot allocate %zu MiB of pageable host "
                                     "memory", x->bytes >> 20);
        memset(x->pageable, 1, x->bytes);
    }
    GVB_CUDA_TRY(w, cudaMemsetAsync(x->dev, 2, x->bytes, x->stream));
    GVB_CUDA_TRY(w, cudaMemcpyAsync(x->dev, x->pinned, x->bytes, cudaMemcpyHostToDevice,
                                    x->stream));
    GVB_CUDA_TRY(w, cudaMemcpyAsync(x->pinned, x->dev, x->bytes, cudaMemcpyDeviceToHost,
                                    x->stream));
    GVB_CUDA_TRY(w, cudaStreamSynchronize(x->stream));
    return 0;
}

static void xfer_free(xfer *x)
{
    cudaFree(x->dev);
    cudaFreeHost(x->pinned);
    free(x->pageable);
    memset(x, 0, sizeof *x);
}

static cudaError_t xfer_start(xfer *x)
{
    void *host = x->use_pageable ? x->pageable : x->pinned;
    return x->h2d ? cudaMemcpyAsync(x->dev, host, x->bytes, cudaMemcpyHostToDevice, x->stream)
                  : cudaMemcpyAsync(host, x->dev, x->bytes, cudaMemcpyDeviceToHost, x->stream);
}

/* One transfer, timed on the host from the call to the end of the stream synchronize. */
static int xfer_body(void *arg, double *sample_s)
{
    xfer *x = arg;
    (void)sample_s;
    cudaError_t e = xfer_start(x);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(x->stream);
    x->err = e;
    return e != cudaSuccess;
}

static int xfer_failed(gvb_worker *w, const xfer *x, const char *what)
{
    return gvb_report_status(w, GVB_FAIL, "%s: %s", what,
                             x->err ? cudaGetErrorString(x->err) : "out of host memory");
}

/* Per-transfer GB/s, for as long as u says. */
static int xfer_window(gvb_worker *w, xfer *x, gvb_until u, gvb_series *gbs)
{
    gvb_series t = {0};
    int rc = gvb_run_until(u, xfer_body, x, &t);
    if (rc == 0)
        rc = gvb_series_to_gbs(&t, (double)x->bytes, gbs);
    gvb_series_free(&t);
    return rc ? xfer_failed(w, x, "transfer") : 0;
}

/* The link as NVML reports it, read while a transfer is in flight (an idle link may train
 * down to save power): extras link_gen, link_width, link_max_*, link_gbs. *link_gbs = 0 when
 * unknown (the reason goes into the text extra `link`). */
static int pcie_link(gvb_worker *w, xfer *x, double *link_gbs)
{
    *link_gbs = 0;
    char why[256];
    if (gvb_nvml_open(why, sizeof why) != 0)
        return gvb_emit_text(w, "link", "unknown: %s", why), 0;
    gvb_nvml_dev dev;
    unsigned count = 0, gen = 0, width = 0, max_gen = 0, max_width = 0;
    int rc = gvb_nvml_device(0, &dev);
    cudaError_t e = cudaSuccess;
    for (int i = 0; i < LINK_BUSY_TRANSFERS && e == cudaSuccess; i++)
        e = xfer_start(x); /* tens of ms of traffic while NVML is asked */
    if (e != cudaSuccess) {
        x->err = e;
        return xfer_failed(w, x, "transfer");
    }
    if (rc == 0)
        rc = gvb_nvml_pcie_link(dev, &gen, &width, &max_gen, &max_width);
    e = cudaStreamSynchronize(x->stream);
    if (e != cudaSuccess) {
        x->err = e;
        return xfer_failed(w, x, "transfer");
    }
    if (rc != 0)
        return gvb_emit_text(w, "link", "unknown: NVML: %s", gvb_nvml_error(rc)), 0;
    if (gvb_nvml_device_count(&count) == 0 && count > 1)
        gvb_emit_text(w, "nvml_device", "index 0 of %u (taken to be CUDA device 0)", count);
    *link_gbs = gvb_pcie_link_gbs(gen, width);
    gvb_emit_extra(w, "link_gen", gen);
    gvb_emit_extra(w, "link_width", width);
    gvb_emit_extra(w, "link_max_gen", max_gen);
    gvb_emit_extra(w, "link_max_width", max_width);
    gvb_emit_extra(w, "link_gbs", *link_gbs);
    if (*link_gbs <= 0)
        gvb_emit_text(w, "link", "unknown PCIe generation %u", gen);
    return 0;
}

/* ---- PCIE-001 / PCIE-002: pinned bandwidth of large transfers -------------------------- */

static int pcie_bandwidth(gvb_worker *w, int h2d)
{
    gvb_dev d;
    xfer x;
    if (gvb_dev_open(w, &d) || xfer_init(w, &d, &x, 1, 0))
        return 1;
    x.h2d = h2d;
    double link = 0;
    if (pcie_link(w, &x, &link))
        return 1;
    if (gvb_barrier(w))
        return gvb_report_status(w, GVB_FAIL, "start barrier: the parent is gone");
    gvb_series gbs = {0};
    if (gvb_run_warmup(w, xfer_body, &x))
        return xfer_failed(w, &x, "warm-up transfer");
    int rc = xfer_window(w, &x, gvb_until_window(gvb_window_s(w), w->iterations), &gbs);
    if (rc == 0) {
        for (size_t i = 0; i < gbs.n; i++)
            gvb_emit_sample(w, gbs.v[i]);
        double med = gvb_series_median(&gbs);
        gvb_emit_extra(w, "transfer_bytes", (double)x.bytes);
        if (link > 0) {
            gvb_emit_extra(w, "pct_of_link", gvb_pct_of(med, link));
            if (med > link)
                gvb_emit_text(w, "note", "above the PCIe link's rate: the host path is not this "
                              "PCIe link (e.g. NVLink-C2C)");
        }
    }
    gvb_series_free(&gbs);
    xfer_free(&x);
    gvb_dev_close(&d);
    return rc;
}

static int pcie_001(gvb_worker *w) { return pcie_bandwidth(w, 1); }
const gvb_metric_impl gvb_impl_pcie_001 = {.run = pcie_001, .deadline_s = 120};

static int pcie_002(gvb_worker *w) { return pcie_bandwidth(w, 0); }
const gvb_metric_impl gvb_impl_pcie_002 = {.run = pcie_002, .deadline_s = 120};

/* ---- PCIE-003 PCIe Contention Impact --------------------------------------------------- */

/* Phase 0: the victim copies H2D alone; phase 1: every tenant copies H2D, the aggressors
 * from before the victim measures until it is done; the victim's samples are the drop of
 * each contended transfer against its solo median. */
static int pcie_003(gvb_worker *w)
{
    gvb_dev d;
    xfer x;
    gvb_shared *sh = NULL;
    if (gvb_dev_open(w, &d) || xfer_init(w, &d, &x, w->tenants, 0) ||
        gvb_contend_barrier(w, &sh))
        return 1;
    gvb_series solo = {0}, cont = {0};
    gvb_until win = gvb_until_window(gvb_window_s(w), w->iterations);
    int rc = 0;
    if (w->tenant == 0)
        rc = gvb_run_warmup(w, xfer_body, &x) ? xfer_failed(w, &x, "warm-up transfer")
                                              : xfer_window(w, &x, win, &solo);
    if (rc == 0 && gvb_sync(w))
        rc = gvb_report_status(w, GVB_FAIL, "phase barrier: the parent is gone");
    if (rc == 0 && w->tenant == 0) {
        if ((rc = gvb_contend_await(w, sh, 1)) == 0)
            rc = xfer_window(w, &x, win, &cont);
        gvb_shared_stop_phase(sh, 1);
        double solo_med = gvb_series_median(&solo);
        for (size_t i = 0; rc == 0 && i < cont.n; i++)
            gvb_emit_sample(w, gvb_drop_pct(solo_med, cont.v[i]));
        if (rc == 0) {
            gvb_emit_extra(w, "solo_gbs", solo_med);
            gvb_emit_extra(w, "contended_gbs", gvb_series_median(&cont));
            gvb_emit_extra(w, "transfer_bytes", (double)x.bytes);
            gvb_emit_extra(w, "aggressors", w->tenants - 1);
        }
    } else if (rc == 0) {
        rc = xfer_window(w, &x, gvb_until_victim(w, sh, 1), &cont);
        if (rc == 0)
            gvb_emit_extra(w, "aggressor_gbs", gvb_series_median(&cont));
    }
    gvb_contend_close(sh, w);
    gvb_series_free(&solo);
    gvb_series_free(&cont);
    xfer_free(&x);
    gvb_dev_close(&d);
    return rc;
}
const gvb_metric_impl gvb_impl_pcie_003 = {.run = pcie_003, .deadline_s = 120};

/* ---- PCIE-004 Pinned Memory Performance ------------------------------------------------ */

/* Pairs of H2D transfers of the same size, pinned then pageable; one sample per pair:
 * pinned GB/s / pageable GB/s (= pageable time / pinned time). The pairs pool over the
 * replicates: the window is 1.5 x gvb_window_share_s. */
static int pcie_004(gvb_worker *w)
{
    gvb_dev d;
    xfer x;
    if (gvb_dev_open(w, &d) || xfer_init(w, &d, &x, 1, 1))
        return 1;
    if (gvb_barrier(w))
        return gvb_report_status(w, GVB_FAIL, "start barrier: the parent is gone");
    gvb_series pinned = {0}, pageable = {0};
    int rc = 0;
    double window = 1.5 * gvb_window_share_s(w), start = gvb_now();
    for (int i = -1; i < w->iterations && rc == 0; i++) { /* i = -1: one untimed pair */
        x.use_pageable = 0;
        double t0 = gvb_now();
        rc = xfer_body(&x, NULL);
        double t1 = gvb_now();
        x.use_pageable = 1;
        if (rc == 0)
            rc = xfer_body(&x, NULL);
        double t2 = gvb_now();
        if (rc)
            break;
        if (i >= 0) {
            gvb_series_push(&pinned, gvb_gbs((double)x.bytes, t1 - t0));
            gvb_series_push(&pageable, gvb_gbs((double)x.bytes, t2 - t1));
            gvb_emit_sample(w, (t2 - t1) / (t1 - t0));
        }
        if (i >= 0 && gvb_now() - start >= window)
            break;
    }
    if (rc)
        rc = xfer_failed(w, &x, x.use_pageable ? "pageable transfer" : "pinned transfer");
    else {
        gvb_emit_extra(w, "pinned_gbs", gvb_series_median(&pinned));
        gvb_emit_extra(w, "pageable_gbs", gvb_series_median(&pageable));
        gvb_emit_extra(w, "transfer_bytes", (double)x.bytes);
        gvb_emit_text(w, "direction", "host to device");
    }
    gvb_series_free(&pinned);
    gvb_series_free(&pageable);
    xfer_free(&x);
    gvb_dev_close(&d);
    return rc;
}
const gvb_metric_impl gvb_impl_pcie_004 = {.run = pcie_004, .deadline_s = 120};
