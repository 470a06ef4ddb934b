/* Activation proof worker of the calib system. Under the tenants' environment it does the
 * CUDA work the layer must intercept (one cudaMalloc and cudaFree, one kernel launch, one
 * cudaMemGetInfo) and then reports the layer's own counters, read through
 * dlsym(RTLD_DEFAULT, "gvb_calib_stats"), so that the parent can tell "loaded and
 * intercepting" from "mapped but bypassed" and "not loaded". It reports facts; the parent
 * judges (gvb_calib_judge_proof). */
#include "gpu/calib_proof.h"

#include <dlfcn.h>

#include "calib/calib_stats.h"
#include "gpu/cuda_check.h"
#include "kernels/kernels.h"

static void emit_stats(gvb_worker *w, const gvb_calib_stats_t *s)
{
    gvb_emit_extra(w, "config_ok", s->config_ok);
    gvb_emit_extra(w, "getproc_calls", (double)s->getproc_calls);
    gvb_emit_extra(w, "getproc_hooked", (double)s->getproc_hooked);
    gvb_emit_extra(w, "getproc_adopted", (double)s->getproc_adopted);
    gvb_emit_extra(w, "getproc_unmatched", (double)s->getproc_unmatched);
    gvb_emit_extra(w, "dlsym_hooked", (double)s->dlsym_hooked);
    gvb_emit_extra(w, "intercepted_launches", (double)s->launches);
    gvb_emit_extra(w, "intercepted_allocs", (double)s->allocs);
    gvb_emit_extra(w, "intercepted_frees", (double)s->frees);
    gvb_emit_extra(w, "intercepted_meminfo", (double)s->meminfo);
    gvb_emit_extra(w, "context_charge_bytes", (double)s->context_charge_bytes);
    gvb_emit_text(w, "context_charge_method", "%s",
                  s->charge_method == GVB_CALIB_CHARGE_NVML_PROCESS
                      ? "NVML: this process's used memory"
                  : s->charge_method == GVB_CALIB_CHARGE_DRIVER_TOTAL_FREE
                      ? "driver: total - free (counts other processes' memory too)"
                      : "not measured");
    gvb_emit_extra(w, "cap_bytes", (double)s->cap_bytes);
    gvb_emit_extra(w, "launch_us_applied", s->launch_us);
    gvb_emit_extra(w, "alloc_us_applied", s->alloc_us);
    gvb_emit_extra(w, "duty_pct", s->duty_pct);
    gvb_emit_extra(w, "break_mode", s->broken);
}

int gvb_calib_proof_main(void)
{
    gvb_worker w = {.out_fd = GVB_FD_OUT, .go_fd = -1, .barrier_done = 1};
    typedef const gvb_calib_stats_t *(*stats_fn)(void);
    stats_fn fn = (stats_fn)dlsym(RTLD_DEFAULT, GVB_CALIB_STATS_SYMBOL);
    gvb_emit_extra(&w, "stats_found", fn != NULL);
    Dl_info info;
    if (fn && dladdr((void *)fn, &info) && info.dli_fname)
        gvb_emit_text(&w, "loaded_from", "%s", info.dli_fname);
    size_t free_b = 0, total_b = 0;
    void *p = NULL;
    GVB_CUDA_TRY(&w, cudaSetDevice(0));
    GVB_CUDA_TRY(&w, cudaFree(0));
    GVB_CUDA_TRY(&w, cudaMemGetInfo(&free_b, &total_b));
    GVB_CUDA_TRY(&w, cudaMalloc(&p, 1 << 20));
    GVB_CUDA_TRY(&w, cudaFree(p));
    GVB_CUDA_TRY(&w, (cudaError_t)gvb_launch_empty(0));
    GVB_CUDA_TRY(&w, cudaDeviceSynchronize());
    gvb_emit_extra(&w, "meminfo_total_bytes", (double)total_b);
    gvb_emit_extra(&w, "meminfo_free_bytes", (double)free_b);
    if (fn)
        emit_stats(&w, fn());
    gvb_report_status(&w, GVB_OK, "%s", "");
    return 0;
}
