/* A fake libcuda.so.1 for testing libgvb-calib.so without a GPU. It answers cuGetProcAddress
 * the way the real driver does (the pointer of the versioned / per-thread export the caller's
 * version and flags select), "runs" a kernel for FAKE_KERNEL_US microseconds of wall time
 * after its launch (cuStreamSynchronize waits for it), and hands out fake device memory of an
 * 80 GiB device whose context takes 500 MiB (at most 4096 live allocations). cuMemFree is
 * answered with an internal pointer, not the export. Test code only. */
#include <cuda.h>
#undef cuGetProcAddress
#undef cuMemGetInfo
#undef cuMemAlloc
#undef cuMemFree

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_TOTAL (80ull << 30)
#define FAKE_CONTEXT (500ull << 20)

static unsigned long long used, next_ptr = 1ull << 40;
static double busy_until;
/* From the first launch not yet synchronized to the synchronization that saw it complete,
 * summed: the busy time as the calibration layer counts it (launch call to completion
 * noticed), which a descheduled host thread stretches beyond FAKE_KERNEL_US. */
static double pending_since = -1, observed_busy_s;

double fake_cuda_observed_busy_s(void) { return observed_busy_s; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static CUresult launch_common(void)
{
    const char *us = getenv("FAKE_KERNEL_US");
    double t = now_s(), start = busy_until > t ? busy_until : t;
    if (pending_since < 0)
        pending_since = t;
    busy_until = start + (us ? atof(us) : 0) * 1e-6;
    return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        unsigned by, unsigned bz, unsigned shmem, CUstream s, void **params,
                        void **extra)
{
    return launch_common();
}
CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                             unsigned by, unsigned bz, unsigned shmem, CUstream s, void **params,
                             void **extra);
CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                             unsigned by, unsigned bz, unsigned shmem, CUstream s, void **params,
                             void **extra)
{
    return launch_common();
}
CUresult cuLaunchKernelEx(const CUlaunchConfig *c, CUfunction f, void **p, void **e)
{
    return launch_common();
}

CUresult cuStreamSynchronize(CUstream s)
{
    double t;
    while ((t = now_s()) < busy_until)
        ;
    if (pending_since >= 0) {
        observed_busy_s += t - pending_since;
        pending_since = -1;
    }
    return CUDA_SUCCESS;
}
CUresult cuStreamIsCapturing(CUstream s, CUstreamCaptureStatus *st)
{
    *st = CU_STREAM_CAPTURE_STATUS_NONE;
    return CUDA_SUCCESS;
}

static struct { unsigned long long ptr, size; } live[4096];

CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytes)
{
    if (bytes == 0)
        return CUDA_ERROR_INVALID_VALUE;
    if (used + FAKE_CONTEXT + bytes > FAKE_TOTAL)
        return CUDA_ERROR_OUT_OF_MEMORY;
    for (int i = 0; i < 4096; i++) {
        if (live[i].ptr)
            continue;
        live[i].ptr = next_ptr;
        live[i].size = bytes;
        used += bytes;
        *dptr = (CUdeviceptr)next_ptr;
        next_ptr += (bytes + 0xfffff) & ~0xfffffull;
        return CUDA_SUCCESS;
    }
    return CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult cuMemFree_v2(CUdeviceptr p)
{
    for (int i = 0; i < 4096; i++) {
        if (live[i].ptr == (unsigned long long)p) {
            used -= live[i].size;
            live[i].ptr = 0;
            return CUDA_SUCCESS;
        }
    }
    return CUDA_ERROR_INVALID_VALUE;
}
/* Like some drivers, cuGetProcAddress may hand out an internal entry point rather than the
 * export: the layer must still wrap it (by name, "adopted"). */
static CUresult free_internal(CUdeviceptr p) { return cuMemFree_v2(p); }

CUresult cuMemGetInfo_v2(size_t *free_b, size_t *total)
{
    *total = FAKE_TOTAL;
    *free_b = FAKE_TOTAL - FAKE_CONTEXT - used;
    return CUDA_SUCCESS;
}

CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int ver, cuuint64_t flags,
                             CUdriverProcAddressQueryResult *status);
CUresult cuGetProcAddress(const char *symbol, void **pfn, int ver, cuuint64_t flags);

static void *lookup(const char *s, int ver, cuuint64_t flags)
{
    int ptds = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0;
    if (!strcmp(s, "cuGetProcAddress"))
        return ver >= 12000 ? (void *)cuGetProcAddress_v2 : (void *)cuGetProcAddress;
    if (!strcmp(s, "cuLaunchKernel"))
        return ptds ? (void *)cuLaunchKernel_ptsz : (void *)cuLaunchKernel;
    if (!strcmp(s, "cuLaunchKernelEx"))
        return (void *)cuLaunchKernelEx;
    if (!strcmp(s, "cuMemAlloc"))
        return (void *)cuMemAlloc_v2;
    if (!strcmp(s, "cuMemFree"))
        return (void *)free_internal;
    if (!strcmp(s, "cuMemGetInfo"))
        return (void *)cuMemGetInfo_v2;
    if (!strcmp(s, "cuStreamSynchronize"))
        return (void *)cuStreamSynchronize;
    return NULL;
}

CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int ver, cuuint64_t flags,
                             CUdriverProcAddressQueryResult *status)
{
    *pfn = lookup(symbol, ver, flags);
    if (status)
        *status = *pfn ? CU_GET_PROC_ADDRESS_SUCCESS : CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    return *pfn ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
}

CUresult cuGetProcAddress(const char *symbol, void **pfn, int ver, cuuint64_t flags)
{
    return cuGetProcAddress_v2(symbol, pfn, ver, flags, NULL);
}
