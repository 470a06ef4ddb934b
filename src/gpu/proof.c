/* The activation proof worker (`gpu-virt-bench __proof`), run by the runner under a
 * system's tenant environment before any metric of that system. It reports what a
 * skeptic would look at, as protocol extras the runner collects into systems[].activation:
 *   pid; preload.<k> (every library named by LD_PRELOAD or /etc/ld.so.preload),
 *   preload.<k>.resolved / .source / .mapped (found in /proc/self/maps), preload.count;
 *   env.<VAR> for the layer variables and CUDA_VISIBLE_DEVICES;
 *   with --gpu=1: device_name, sm_count (multiProcessorCount), mem_total_bytes and
 *   mem_free_bytes (cudaMemGetInfo);
 *   with --compute-check=S: compute_rate_kps, the rate of a fixed-work many-wave kernel in
 *   an unsynchronized launch loop over S seconds (after a warm-up), and compute_kernel_ms.
 * Then it waits at its barrier, so the parent can judge it while it is alive (the MPS
 * daemon's client list), and exits. */
#include "gpu/proof.h"

#include <cuda_runtime_api.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/worker.h"
#include "gpu/cuda_check.h"
#include "kernels/kernels.h"
#include "systems/system.h"

#define LD_SO_PRELOAD "/etc/ld.so.preload"
#define MAX_LIBS 32

/* Compute check: a fixed amount of arithmetic per thread (never a clock), many waves. */
#define WORK_BLOCKS (132 * 16)
#define WORK_ITERS 32768
#define WORK_BATCH 8
#define WORK_WARMUP_S 0.25

typedef struct lib {
    char path[PATH_MAX];
    char resolved[PATH_MAX];
    const char *source;
    int mapped;
} lib;

static int add_libs(lib *libs, int n, const char *list, const char *source)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, " :\t\n", &save); t && n < MAX_LIBS;
         t = strtok_r(NULL, " :\t\n", &save)) {
        if (*t == '#')
            break;
        lib *l = &libs[n++];
        memset(l, 0, sizeof *l);
        snprintf(l->path, sizeof l->path, "%s", t);
        if (!realpath(t, l->resolved))
            l->resolved[0] = '\0';
        l->source = source;
    }
    return n;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Marks the libraries that /proc/self/maps shows. A path given without '/' (found by the
 * loader's search) is matched by file name. */
static void mark_mapped(lib *libs, int n)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[PATH_MAX + 128];
    while (f && fgets(line, sizeof line, f)) {
        char *path = strchr(line, '/');
        if (!path)
            continue;
        path[strcspn(path, "\n")] = '\0';
        for (int k = 0; k < n; k++) {
            if ((libs[k].resolved[0] && strcmp(path, libs[k].resolved) == 0) ||
                strcmp(path, libs[k].path) == 0 ||
                (!strchr(libs[k].path, '/') && strcmp(base_name(path), libs[k].path) == 0))
                libs[k].mapped = 1;
        }
    }
    if (f)
        fclose(f);
}

static void report_libs(gvb_worker *w)
{
    static lib libs[MAX_LIBS];
    int n = 0;
    const char *pre = getenv("LD_PRELOAD");
    if (pre && *pre)
        n = add_libs(libs, n, pre, "LD_PRELOAD");
    FILE *f = fopen(LD_SO_PRELOAD, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f))
        n = add_libs(libs, n, line, LD_SO_PRELOAD);
    if (f)
        fclose(f);
    mark_mapped(libs, n);
    for (int k = 0; k < n; k++) {
        char key[64];
        snprintf(key, sizeof key, "preload.%d", k);
        gvb_emit_text(w, key, "%s", libs[k].path);
        snprintf(key, sizeof key, "preload.%d.resolved", k);
        gvb_emit_text(w, key, "%s", libs[k].resolved[0] ? libs[k].resolved : "(does not exist)");
        snprintf(key, sizeof key, "preload.%d.source", k);
        gvb_emit_text(w, key, "%s", libs[k].source);
        snprintf(key, sizeof key, "preload.%d.mapped", k);
        gvb_emit_extra(w, key, libs[k].mapped);
    }
    gvb_emit_extra(w, "preload.count", n);
}

static void report_env(gvb_worker *w)
{
    char key[96];
    for (size_t i = 0; gvb_layer_env_vars[i]; i++) {
        const char *v = getenv(gvb_layer_env_vars[i]);
        if (!v)
            continue;
        snprintf(key, sizeof key, "env.%s", gvb_layer_env_vars[i]);
        gvb_emit_text(w, key, "%s", v);
    }
    const char *vis = getenv("CUDA_VISIBLE_DEVICES");
    if (vis)
        gvb_emit_text(w, "env.CUDA_VISIBLE_DEVICES", "%s", vis);
}

/* Kernels completed per second in an unsynchronized launch loop (batches of WORK_BATCH
 * launches, one sync per batch, so the queue stays full). */
static int compute_check(gvb_worker *w, double seconds)
{
    cudaStream_t s;
    float *out;
    GVB_CUDA_TRY(w, cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    GVB_CUDA_TRY(w, cudaMalloc((void **)&out, WORK_BLOCKS * sizeof(float)));
    /* one timed kernel alone, for the record */
    double t0 = gvb_now();
    GVB_CUDA_TRY(w, (cudaError_t)gvb_launch_proof_work(s, WORK_BLOCKS, WORK_ITERS, out));
    GVB_CUDA_TRY(w, cudaStreamSynchronize(s));
    gvb_emit_extra(w, "compute_first_kernel_ms", (gvb_now() - t0) * 1e3);
    double start = gvb_now(), measured_from = start + WORK_WARMUP_S, end = measured_from + seconds;
    long counted = 0;
    double counted_from = 0;
    for (double now = start; now < end; now = gvb_now()) {
        for (int k = 0; k < WORK_BATCH; k++)
            GVB_CUDA_TRY(w, (cudaError_t)gvb_launch_proof_work(s, WORK_BLOCKS, WORK_ITERS, out));
        GVB_CUDA_TRY(w, cudaStreamSynchronize(s));
        double after = gvb_now();
        if (after < measured_from)
            continue;
        if (counted_from == 0)
            counted_from = after; /* count whole batches completed after this point */
        else
            counted += WORK_BATCH;
    }
    double elapsed = gvb_now() - counted_from;
    if (counted == 0 || elapsed <= 0)
        return gvb_report_status(w, GVB_FAIL, "compute check: no batch completed in %.2f s",
                                 seconds);
    gvb_emit_extra(w, "compute_rate_kps", (double)counted / elapsed);
    gvb_emit_extra(w, "compute_kernel_ms", elapsed * 1e3 / (double)counted);
    gvb_emit_text(w, "compute_method",
                  "%d blocks x 256 threads x %d dependent FMA x4 per kernel, batches of %d "
                  "launches, %.2f s after %.2f s warm-up",
                  WORK_BLOCKS, WORK_ITERS, WORK_BATCH, seconds, WORK_WARMUP_S);
    cudaFree(out);
    cudaStreamDestroy(s);
    return 0;
}

static int report_gpu(gvb_worker *w, double compute_s)
{
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, cudaFree(0));
    size_t free_b = 0, total_b = 0;
    GVB_CUDA_TRY(w, cudaMemGetInfo(&free_b, &total_b));
    struct cudaDeviceProp p;
    GVB_CUDA_TRY(w, cudaGetDeviceProperties(&p, 0));
    gvb_emit_text(w, "device_name", "%s", p.name);
    gvb_emit_extra(w, "sm_count", p.multiProcessorCount);
    gvb_emit_extra(w, "mem_total_bytes", (double)total_b);
    gvb_emit_extra(w, "mem_free_bytes", (double)free_b);
    if (compute_s > 0)
        return compute_check(w, compute_s);
    return 0;
}

int gvb_proof_main(int argc, char **argv)
{
    gvb_worker w = {.out_fd = GVB_FD_OUT, .go_fd = GVB_FD_GO, .tenants = 1};
    int gpu = 0;
    double compute_s = 0;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--gpu=", 6))
            gpu = atoi(argv[i] + 6);
        else if (!strncmp(argv[i], "--compute-check=", 16))
            compute_s = atof(argv[i] + 16);
    }
    gvb_emit_extra(&w, "pid", (double)getpid());
    report_libs(&w);
    report_env(&w);
    if (gpu && report_gpu(&w, compute_s) != 0)
        return 0; /* reported FAIL; never reaches the barrier, so it is not judged */
    if (gvb_barrier(&w) != 0)
        return gvb_report_status(&w, GVB_FAIL, "the parent went away"), 0;
    gvb_report_status(&w, GVB_OK, "%s", "");
    return 0;
}
