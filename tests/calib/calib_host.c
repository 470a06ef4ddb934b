/* A stand-in for the CUDA runtime, to test libgvb-calib.so without a GPU: it reaches the
 * driver the way cudart does (dlopen libcuda.so.1, dlsym "cuGetProcAddress_v2" on that
 * handle, then every entry point through cuGetProcAddress), and prints what it measured as
 * "key value" lines for tests/cli/test_calib.sh. Test code only.
 *   calib_host launch N        median host time of N launches (us)
 *   calib_host launch-v1 N     the same through cuGetProcAddress v1 and the per-thread variant
 *   calib_host alloc N         median time of N 1 MiB allocations (each freed, untimed)
 *   calib_host fill SIZE_MIB   allocate SIZE_MIB chunks until refused; total, error, meminfo
 *   calib_host duty SECONDS    launch+sync loop of FAKE_KERNEL_US kernels: busy / wall,
 *                              busy as the layer counts it (launch to completion noticed,
 *                              from the fake driver) and nominal (launches x kernel time)
 *   calib_host stats           the layer's counters (or "stats none") */
#include <cuda.h>
#undef cuGetProcAddress
#undef cuMemGetInfo
#undef cuMemAlloc
#undef cuMemFree

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calib/calib_stats.h"

typedef CUresult (*getproc_v2_fn)(const char *, void **, int, cuuint64_t,
                                  CUdriverProcAddressQueryResult *);
typedef CUresult (*getproc_v1_fn)(const char *, void **, int, cuuint64_t);
typedef CUresult (*launch_fn)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                              unsigned, unsigned, CUstream, void **, void **);
typedef CUresult (*alloc_fn)(CUdeviceptr *, size_t);
typedef CUresult (*free_fn)(CUdeviceptr);
typedef CUresult (*meminfo_fn)(size_t *, size_t *);
typedef CUresult (*sync_fn)(CUstream);

static getproc_v2_fn getproc;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *entry(const char *name, cuuint64_t flags)
{
    void *p = NULL;
    CUdriverProcAddressQueryResult st;
    if (getproc(name, &p, 13000, flags, &st) != CUDA_SUCCESS || !p) {
        fprintf(stderr, "calib_host: no entry point %s\n", name);
        exit(1);
    }
    return p;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *cmd = argv[1];
    long n = argc > 2 ? atol(argv[2]) : 0;
    if (!strcmp(cmd, "stats")) {
        const gvb_calib_stats_t *(*fn)(void) =
            (const gvb_calib_stats_t *(*)(void))dlsym(RTLD_DEFAULT, GVB_CALIB_STATS_SYMBOL);
        if (!fn) {
            puts("stats none");
            return 0;
        }
        const gvb_calib_stats_t *s = fn();
        printf("config_ok %u\ngetproc_hooked %llu\ndlsym_hooked %llu\n", s->config_ok,
               (unsigned long long)s->getproc_hooked, (unsigned long long)s->dlsym_hooked);
        return 0;
    }
    void *h = dlopen("libcuda.so.1", RTLD_NOW);
    if (!h) {
        fprintf(stderr, "calib_host: %s\n", dlerror());
        return 1;
    }
    getproc = (getproc_v2_fn)dlsym(h, "cuGetProcAddress_v2");
    if (!getproc)
        return 1;
    /* the runtime asks the driver for cuGetProcAddress itself and uses that from then on */
    getproc = (getproc_v2_fn)entry("cuGetProcAddress", 0);
    double *t = calloc((size_t)(n > 0 ? n : 1), sizeof *t);
    if (!strcmp(cmd, "launch") || !strcmp(cmd, "launch-v1")) {
        launch_fn launch;
        if (!strcmp(cmd, "launch-v1")) {
            getproc_v1_fn v1 = (getproc_v1_fn)dlsym(h, "cuGetProcAddress");
            void *p = NULL;
            if (!v1 || v1("cuLaunchKernel", &p, 12000,
                          CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != CUDA_SUCCESS)
                return 1;
            launch = (launch_fn)p;
        } else {
            launch = (launch_fn)entry("cuLaunchKernel", 0);
        }
        for (long i = 0; i < n; i++) {
            double t0 = now_s();
            if (launch(NULL, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL) != CUDA_SUCCESS)
                return 1;
            t[i] = (now_s() - t0) * 1e6;
        }
        printf("launch_us %.3f\n", median(t, (int)n));
    } else if (!strcmp(cmd, "alloc")) {
        alloc_fn alloc = (alloc_fn)entry("cuMemAlloc", 0);
        free_fn fr = (free_fn)entry("cuMemFree", 0);
        for (long i = 0; i < n; i++) {
            CUdeviceptr p;
            double t0 = now_s();
            if (alloc(&p, 1 << 20) != CUDA_SUCCESS)
                return 1;
            t[i] = (now_s() - t0) * 1e6;
            fr(p);
        }
        printf("alloc_us %.3f\n", median(t, (int)n));
    } else if (!strcmp(cmd, "fill")) {
        alloc_fn alloc = (alloc_fn)entry("cuMemAlloc", 0);
        free_fn fr = (free_fn)entry("cuMemFree", 0);
        meminfo_fn info = (meminfo_fn)entry("cuMemGetInfo", 0);
        size_t f0, t0, f1, t1, f2, t2;
        info(&f0, &t0);
        size_t chunk = (size_t)n << 20, total = 0;
        CUdeviceptr ptrs[4096];
        int k = 0;
        CUresult r = CUDA_SUCCESS;
        while (k < 4096 && (r = alloc(&ptrs[k], chunk)) == CUDA_SUCCESS) {
            total += chunk;
            k++;
        }
        info(&f1, &t1);
        for (int i = 0; i < k; i++)
            fr(ptrs[i]);
        info(&f2, &t2);
        printf("total_before %zu\nfree_before %zu\nallocated %zu\nerror %d\nfree_full %zu\n"
               "free_after %zu\n",
               t0, f0, total, (int)r, f1, f2);
    } else if (!strcmp(cmd, "duty")) {
        launch_fn launch = (launch_fn)entry("cuLaunchKernel", 0);
        sync_fn sync = (sync_fn)entry("cuStreamSynchronize", 0);
        double kernel_s = atof(getenv("FAKE_KERNEL_US") ? getenv("FAKE_KERNEL_US") : "0") * 1e-6;
        double t0 = now_s(), end = t0 + atof(argv[2]);
        long launches = 0;
        while (now_s() < end) {
            launch(NULL, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL);
            sync(NULL);
            launches++;
        }
        double wall = now_s() - t0;
        double (*observed)(void) = (double (*)(void))dlsym(h, "fake_cuda_observed_busy_s");
        printf("busy_fraction %.4f\nnominal_fraction %.4f\n", observed ? observed() / wall : -1,
               launches * kernel_s / wall);
    } else {
        return 2;
    }
    free(t);
    return 0;
}
