/* libgvb-calib.so: the project's own LD_PRELOAD interposer with known, configurable effects,
 * so that `gpu-virt-bench validate` can check the suite recovers them (after nvbench testing
 * its timing with a kernel of known duration). Configured by GVB_CALIB (calib_account.h):
 *   launch_us  busy-wait per kernel launch (cuLaunchKernel, cuLaunchKernelEx, _ptsz variants)
 *   alloc_us   busy-wait per device allocation (cuMemAlloc_v2, cuMemAllocPitch_v2,
 *              cuMemAllocAsync, cuMemAllocFromPoolAsync, _ptsz variants)
 *   mem        a hard cap: usage = context charge + live allocations; cuMemGetInfo reports
 *              total = cap, free = cap - usage; over-cap allocations fail with out of memory
 *   duty       kernels may keep the GPU busy only duty % of wall time (sync-and-sleep token
 *              bucket at launch; method and limits in docs/validation.md)
 *
 * How it is reached: the CUDA runtime (linked statically into our binary) dlopens libcuda and
 * asks it for every entry point through cuGetProcAddress(_v2), which it looks up with dlsym on
 * the libcuda handle. Exporting cu* symbols alone is therefore bypassed. This library exports
 * dlsym (the real one comes from dlvsym), answers lookups of cuGetProcAddress(_v2) and of the
 * hooked functions with its wrappers, and its cuGetProcAddress wrappers swap any driver
 * pointer that equals a hooked function's real address for the wrapper. It counts what it
 * intercepted (calib_stats.h) so that the activation proof shows calls really went through it.
 *
 * Built without the CUDA runtime and without linking libcuda: cuda.h is used for types only;
 * real functions come from the libcuda that the process loads.
 *
 * Test-only knob GVB_CALIB_BREAK: "half" applies half the configured delays, "bypass" stops
 * answering lookups with wrappers (the layer is loaded but inert). `validate` must fail or
 * report INERT under either; docs/validation.md records what it printed. */
#include <cuda.h>
/* cuda.h renames these to their current versions; this file names every version itself */
#undef cuGetProcAddress
#undef cuMemGetInfo
#undef cuMemAlloc
#undef cuMemAllocPitch
#undef cuMemFree

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calib/calib_account.h"
#include "calib/calib_stats.h"
#include "gpu/nvml.h"

#define EXPORT __attribute__((visibility("default")))

enum { BREAK_NONE, BREAK_HALF, BREAK_BYPASS };

static gvb_calib_stats_t st = {.version = GVB_CALIB_STATS_VERSION};
static gvb_calib_spec spec;
static gvb_calib_acct account;
static gvb_calib_duty duty;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double launch_s, alloc_s; /* delays as applied */
static int break_mode, debug;

#define COUNT(field) __atomic_fetch_add(&st.field, 1, __ATOMIC_RELAXED)

/* ---- the functions we interpose ----------------------------------------------------------- */

typedef CUresult (*getproc_v1_fn)(const char *, void **, int, cuuint64_t);
typedef CUresult (*getproc_v2_fn)(const char *, void **, int, cuuint64_t,
                                  CUdriverProcAddressQueryResult *);
typedef CUresult (*launch_fn)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                              unsigned, unsigned, CUstream, void **, void **);
typedef CUresult (*launch_ex_fn)(const CUlaunchConfig *, CUfunction, void **, void **);
typedef CUresult (*alloc_fn)(CUdeviceptr *, size_t);
typedef CUresult (*alloc_pitch_fn)(CUdeviceptr *, size_t *, size_t, size_t, unsigned);
typedef CUresult (*alloc_async_fn)(CUdeviceptr *, size_t, CUstream);
typedef CUresult (*alloc_pool_fn)(CUdeviceptr *, size_t, CUmemoryPool, CUstream);
typedef CUresult (*free_fn)(CUdeviceptr);
typedef CUresult (*free_async_fn)(CUdeviceptr, CUstream);
typedef CUresult (*meminfo_fn)(size_t *, size_t *);
typedef CUresult (*sync_fn)(CUstream);
typedef CUresult (*capturing_fn)(CUstream, CUstreamCaptureStatus *);

CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags);
CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                             unsigned by, unsigned bz, unsigned shmem, CUstream s, void **params,
                             void **extra);
CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f, void **params,
                               void **extra);
CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytes, CUstream s);
CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytes, CUmemoryPool pool,
                                      CUstream s);
CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream s);
const gvb_calib_stats_t *gvb_calib_stats(void);

enum {
    H_GETPROC, H_GETPROC_V2,
    H_LAUNCH, H_LAUNCH_PTSZ, H_LAUNCH_EX, H_LAUNCH_EX_PTSZ,
    H_ALLOC, H_ALLOC_PITCH, H_ALLOC_ASYNC, H_ALLOC_ASYNC_PTSZ, H_ALLOC_POOL, H_ALLOC_POOL_PTSZ,
    H_FREE, H_FREE_ASYNC, H_FREE_ASYNC_PTSZ,
    H_MEMINFO,
    H_COUNT
};

/* name: the driver's export; base: the name cuGetProcAddress is asked for */
static struct hook {
    const char *name, *base;
    void *wrapper;
    void *real;
} hooks[H_COUNT] = {
    [H_GETPROC] = {"cuGetProcAddress", "cuGetProcAddress", (void *)cuGetProcAddress, NULL},
    [H_GETPROC_V2] = {"cuGetProcAddress_v2", "cuGetProcAddress", (void *)cuGetProcAddress_v2, NULL},
    [H_LAUNCH] = {"cuLaunchKernel", "cuLaunchKernel", (void *)cuLaunchKernel, NULL},
    [H_LAUNCH_PTSZ] = {"cuLaunchKernel_ptsz", "cuLaunchKernel", (void *)cuLaunchKernel_ptsz, NULL},
    [H_LAUNCH_EX] = {"cuLaunchKernelEx", "cuLaunchKernelEx", (void *)cuLaunchKernelEx, NULL},
    [H_LAUNCH_EX_PTSZ] = {"cuLaunchKernelEx_ptsz", "cuLaunchKernelEx",
                          (void *)cuLaunchKernelEx_ptsz, NULL},
    [H_ALLOC] = {"cuMemAlloc_v2", "cuMemAlloc", (void *)cuMemAlloc_v2, NULL},
    [H_ALLOC_PITCH] = {"cuMemAllocPitch_v2", "cuMemAllocPitch", (void *)cuMemAllocPitch_v2, NULL},
    [H_ALLOC_ASYNC] = {"cuMemAllocAsync", "cuMemAllocAsync", (void *)cuMemAllocAsync, NULL},
    [H_ALLOC_ASYNC_PTSZ] = {"cuMemAllocAsync_ptsz", "cuMemAllocAsync",
                            (void *)cuMemAllocAsync_ptsz, NULL},
    [H_ALLOC_POOL] = {"cuMemAllocFromPoolAsync", "cuMemAllocFromPoolAsync",
                      (void *)cuMemAllocFromPoolAsync, NULL},
    [H_ALLOC_POOL_PTSZ] = {"cuMemAllocFromPoolAsync_ptsz", "cuMemAllocFromPoolAsync",
                           (void *)cuMemAllocFromPoolAsync_ptsz, NULL},
    [H_FREE] = {"cuMemFree_v2", "cuMemFree", (void *)cuMemFree_v2, NULL},
    [H_FREE_ASYNC] = {"cuMemFreeAsync", "cuMemFreeAsync", (void *)cuMemFreeAsync, NULL},
    [H_FREE_ASYNC_PTSZ] = {"cuMemFreeAsync_ptsz", "cuMemFreeAsync", (void *)cuMemFreeAsync_ptsz,
                           NULL},
    [H_MEMINFO] = {"cuMemGetInfo_v2", "cuMemGetInfo", (void *)cuMemGetInfo_v2, NULL},
};

/* driver functions the layer calls itself (legacy / per-thread stream variants) */
static sync_fn real_sync[2];
static capturing_fn real_capturing[2];

/* ---- initialisation ------------------------------------------------------------------------ */

typedef void *(*dlsym_fn)(void *, const char *);
static dlsym_fn real_dlsym;
static pthread_once_t dlsym_once = PTHREAD_ONCE_INIT, cuda_once = PTHREAD_ONCE_INIT;

static void init_dlsym(void)
{
    /* glibc >= 2.34 has dlsym@GLIBC_2.34 in libc; older ones GLIBC_2.2.5 (x86-64) or 2.17 */
    static const char *const versions[] = {"GLIBC_2.34", "GLIBC_2.2.5", "GLIBC_2.17", NULL};
    for (int i = 0; versions[i] && !real_dlsym; i++)
        real_dlsym = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", versions[i]);
    if (!real_dlsym)
        fputs("libgvb-calib: cannot find the real dlsym; the layer stays inert\n", stderr);
}

static void init_cuda(void)
{
    pthread_once(&dlsym_once, init_dlsym);
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!h)
        h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (!h || !real_dlsym) {
        if (debug)
            fprintf(stderr, "libgvb-calib: cannot open libcuda.so.1: %s\n", dlerror());
        return;
    }
    for (int i = 0; i < H_COUNT; i++)
        hooks[i].real = real_dlsym(h, hooks[i].name);
    real_sync[0] = (sync_fn)real_dlsym(h, "cuStreamSynchronize");
    real_sync[1] = (sync_fn)real_dlsym(h, "cuStreamSynchronize_ptsz");
    real_capturing[0] = (capturing_fn)real_dlsym(h, "cuStreamIsCapturing");
    real_capturing[1] = (capturing_fn)real_dlsym(h, "cuStreamIsCapturing_ptsz");
}

static void *real_of(int h)
{
    pthread_once(&cuda_once, init_cuda);
    return __atomic_load_n(&hooks[h].real, __ATOMIC_ACQUIRE);
}

__attribute__((constructor)) static void calib_init(void)
{
    char err[256];
    const char *cfg = getenv("GVB_CALIB");
    if (gvb_calib_spec_parse(cfg, &spec, err, sizeof err) == 0) {
        st.config_ok = 1;
    } else {
        fprintf(stderr, "libgvb-calib: GVB_CALIB: %s; no effect applied\n", err);
        memset(&spec, 0, sizeof spec);
    }
    const char *b = getenv("GVB_CALIB_BREAK");
    if (b && !strcmp(b, "half"))
        break_mode = BREAK_HALF;
    else if (b && !strcmp(b, "bypass"))
        break_mode = BREAK_BYPASS;
    else if (b && *b)
        fprintf(stderr, "libgvb-calib: GVB_CALIB_BREAK=%s ignored (half, bypass)\n", b);
    debug = getenv("GVB_CALIB_DEBUG") ? atoi(getenv("GVB_CALIB_DEBUG")) : 0;
    double scale = break_mode == BREAK_HALF ? 0.5 : 1.0;
    launch_s = spec.launch_us * 1e-6 * scale;
    alloc_s = spec.alloc_us * 1e-6 * scale;
    gvb_calib_acct_init(&account, spec.mem);
    gvb_calib_duty_init(&duty, spec.duty, GVB_CALIB_DUTY_WINDOW_S);
    st.launch_us = launch_s * 1e6;
    st.alloc_us = alloc_s * 1e6;
    st.cap_bytes = spec.mem;
    st.duty_pct = (uint32_t)spec.duty;
    st.broken = (uint32_t)break_mode;
}

EXPORT const gvb_calib_stats_t *gvb_calib_stats(void) { return &st; }

/* ---- lookups: dlsym and cuGetProcAddress --------------------------------------------------- */

static int hook_by_name(const char *symbol)
{
    for (int i = 0; i < H_COUNT; i++)
        if (strcmp(symbol, hooks[i].name) == 0)
            return i;
    return -1;
}

EXPORT void *dlsym(void *handle, const char *symbol)
{
    pthread_once(&dlsym_once, init_dlsym);
    if (!real_dlsym)
        return NULL;
    /* RTLD_NEXT is resolved relative to the caller; through us it cannot be: pass it on */
    if (handle != RTLD_NEXT && symbol[0] == 'c' && symbol[1] == 'u' &&
        break_mode != BREAK_BYPASS) {
        int i = hook_by_name(symbol);
        if (i >= 0 && real_of(i)) {
            COUNT(dlsym_hooked);
            if (debug)
                fprintf(stderr, "libgvb-calib: dlsym(%s) -> wrapper\n", symbol);
            return hooks[i].wrapper;
        }
    }
    return real_dlsym(handle, symbol);
}

/* The hook for a cuGetProcAddress request by name: the version the caller's cudaVersion
 * selects (the _v2 functions since CUDA 3.2, cuGetProcAddress_v2 since 12.0) and the
 * per-thread variant if the flags ask for it; -1 if none (e.g. the 32-bit cuMemAlloc). */
static int hook_by_request(const char *symbol, int ver, cuuint64_t flags)
{
    static const struct {
        const char *base;
        int legacy, ptsz, min_ver;
    } req[] = {
        {"cuLaunchKernel", H_LAUNCH, H_LAUNCH_PTSZ, 0},
        {"cuLaunchKernelEx", H_LAUNCH_EX, H_LAUNCH_EX_PTSZ, 0},
        {"cuMemAlloc", H_ALLOC, H_ALLOC, 3020},
        {"cuMemAllocPitch", H_ALLOC_PITCH, H_ALLOC_PITCH, 3020},
        {"cuMemAllocAsync", H_ALLOC_ASYNC, H_ALLOC_ASYNC_PTSZ, 0},
        {"cuMemAllocFromPoolAsync", H_ALLOC_POOL, H_ALLOC_POOL_PTSZ, 0},
        {"cuMemFree", H_FREE, H_FREE, 3020},
        {"cuMemFreeAsync", H_FREE_ASYNC, H_FREE_ASYNC_PTSZ, 0},
        {"cuMemGetInfo", H_MEMINFO, H_MEMINFO, 3020},
    };
    if (strcmp(symbol, "cuGetProcAddress") == 0)
        return ver >= 12000 ? H_GETPROC_V2 : H_GETPROC;
    int ptds = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0;
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (strcmp(symbol, req[i].base) == 0)
            return ver >= req[i].min_ver ? (ptds ? req[i].ptsz : req[i].legacy) : -1;
    return -1;
}

/* After the real lookup: a pointer equal to a hooked function's real address becomes its
 * wrapper (matching addresses, not names, keeps the version and stream variant the driver
 * chose for the caller's cudaVersion and flags). */
static void swap_in_wrapper(const char *symbol, void **pfn, int ver, cuuint64_t flags)
{
    COUNT(getproc_calls);
    if (!pfn || !*pfn)
        return;
    for (int i = 0; i < H_COUNT; i++) {
        /* a driver that takes its exports' addresses through its GOT hands out ours */
        if (*pfn == hooks[i].wrapper) {
            if (break_mode == BREAK_BYPASS)
                *pfn = hooks[i].real;
            else
                COUNT(getproc_hooked);
            return;
        }
    }
    for (int i = 0; i < H_COUNT; i++) {
        if (hooks[i].real && *pfn == hooks[i].real) {
            if (break_mode == BREAK_BYPASS)
                return;
            *pfn = hooks[i].wrapper;
            COUNT(getproc_hooked);
            if (debug)
                fprintf(stderr, "libgvb-calib: cuGetProcAddress(%s, %d, %#llx) -> wrapper %s\n",
                        symbol, ver, (unsigned long long)flags, hooks[i].name);
            return;
        }
    }
    /* Not the export we know: the driver's pointer for this request is still the function
     * the caller asked for, so the wrapper of that version and stream variant adopts it. */
    int h = symbol ? hook_by_request(symbol, ver, flags) : -1;
    if (h >= 0 && break_mode != BREAK_BYPASS) {
        __atomic_store_n(&hooks[h].real, *pfn, __ATOMIC_RELEASE);
        *pfn = hooks[h].wrapper;
        COUNT(getproc_hooked);
        COUNT(getproc_adopted);
        if (debug)
            fprintf(stderr, "libgvb-calib: cuGetProcAddress(%s, %d, %#llx): adopted %p for %s\n",
                    symbol, ver, (unsigned long long)flags, hooks[h].real, hooks[h].name);
        return;
    }
    for (int i = 0; symbol && h < 0 && i < H_COUNT; i++) {
        if (strcmp(symbol, hooks[i].base) == 0) {
            COUNT(getproc_unmatched);
            if (debug)
                fprintf(stderr, "libgvb-calib: cuGetProcAddress(%s, %d, %#llx) = %p: not hooked\n",
                        symbol, ver, (unsigned long long)flags, *pfn);
            return;
        }
    }
    if (debug > 1)
        fprintf(stderr, "libgvb-calib: cuGetProcAddress(%s) passed through\n", symbol);
}

EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion,
                                    cuuint64_t flags, CUdriverProcAddressQueryResult *status)
{
    getproc_v2_fn real = (getproc_v2_fn)real_of(H_GETPROC_V2);
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult r = real(symbol, pfn, cudaVersion, flags, status);
    if (r == CUDA_SUCCESS)
        swap_in_wrapper(symbol, pfn, cudaVersion, flags);
    return r;
}

EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion,
                                 cuuint64_t flags)
{
    getproc_v1_fn real = (getproc_v1_fn)real_of(H_GETPROC);
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult r = real(symbol, pfn, cudaVersion, flags);
    if (r == CUDA_SUCCESS)
        swap_in_wrapper(symbol, pfn, cudaVersion, flags);
    return r;
}

/* ---- effects ------------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Busy-wait, not sleep: a sleep overshoots by tens of microseconds; a spin on the vDSO
 * clock ends within a few hundred nanoseconds of the target. */
static void spin(double seconds)
{
    if (seconds <= 0)
        return;
    double end = now_s() + seconds;
    while (now_s() < end)
        ;
}

static void sleep_s(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static double launch_begin(void)
{
    COUNT(launches);
    spin(launch_s);
    return now_s();
}

/* Duty cycle: wait for the launched work, count the time from the launch call to its
 * completion as busy, and sleep what the token bucket says. Captured launches (graphs) are
 * not executed here and are left alone. */
static CUresult launch_end(CUresult r, CUstream stream, int ptsz, double t0)
{
    if (r != CUDA_SUCCESS || spec.duty <= 0 || spec.duty >= 100)
        return r;
    CUstreamCaptureStatus cap = CU_STREAM_CAPTURE_STATUS_NONE;
    if (real_capturing[ptsz] && real_capturing[ptsz](stream, &cap) == CUDA_SUCCESS &&
        cap != CU_STREAM_CAPTURE_STATUS_NONE)
        return r;
    if (!real_sync[ptsz] || real_sync[ptsz](stream) != CUDA_SUCCESS)
        return r; /* the error stays for the application's own synchronization */
    double t1 = now_s();
    pthread_mutex_lock(&lock);
    double nap = gvb_calib_duty_spend(&duty, t1, t1 - t0);
    st.duty_busy_s += t1 - t0;
    pthread_mutex_unlock(&lock);
    if (nap > 0) {
        sleep_s(nap);
        pthread_mutex_lock(&lock);
        st.duty_sleeps++;
        st.duty_sleep_s += nap;
        pthread_mutex_unlock(&lock);
    }
    return r;
}

/* This process's device memory as NVML reports it, summed over the devices that list it
 * (a process with one context appears on one). Returns 0, or -1 if NVML is missing or does
 * not list the process (e.g. a PID namespace NVML does not translate). */
static int nvml_own_bytes(uint64_t *bytes)
{
    char why[128];
    if (gvb_nvml_open(why, sizeof why) != 0)
        return -1;
    unsigned devices = 0;
    int found = 0;
    uint64_t sum = 0;
    unsigned pid = (unsigned)getpid();
    if (gvb_nvml_device_count(&devices) == 0) {
        for (unsigned d = 0; d < devices; d++) {
            gvb_nvml_dev dev;
            gvb_nvml_process procs[256];
            unsigned n = sizeof procs / sizeof procs[0];
            if (gvb_nvml_device(d, &dev) != 0 || gvb_nvml_processes(dev, procs, &n) != 0)
                continue;
            for (unsigned i = 0; i < n; i++) {
                if (procs[i].pid == pid && procs[i].used_gpu_memory != ~0ull) {
                    sum += procs[i].used_gpu_memory;
                    found = 1;
                }
            }
        }
    }
    gvb_nvml_close();
    *bytes = sum;
    return found ? 0 : -1;
}

/* The context charge, taken when the process first asks about or allocates memory (its
 * context exists by then). With a cap it is this process's own use as NVML reports it: the
 * driver's total - free would also count every other process on the GPU (other tenants, the
 * runner's own probes), which is not this tenant's context. Without NVML, or without a cap
 * (where it is only reported), total - free: the caller's if it has them (from its own
 * cuMemGetInfo), else the driver's now. */
static void ensure_charge_locked(const size_t *total_in, const size_t *free_in)
{
    if (account.charge_known)
        return;
    uint64_t own = 0;
    if (spec.mem && nvml_own_bytes(&own) == 0) {
        gvb_calib_acct_set_charge(&account, own, 0);
        st.charge_method = GVB_CALIB_CHARGE_NVML_PROCESS;
        st.context_charge_bytes = account.charge;
        return;
    }
    meminfo_fn real = (meminfo_fn)hooks[H_MEMINFO].real;
    size_t f = free_in ? *free_in : 0, t = total_in ? *total_in : 0;
    if ((total_in && free_in) || (real && real(&f, &t) == CUDA_SUCCESS)) {
        gvb_calib_acct_set_charge(&account, t, f);
        st.charge_method = GVB_CALIB_CHARGE_DRIVER_TOTAL_FREE;
        st.context_charge_bytes = account.charge;
    }
}

/* The allocation delay is spent after the driver's call (alloc_end), not before it: the
 * driver's own allocation cost depends on how long ago the previous call was (H200, 3
 * processes: cudaMalloc of 64 MiB, median 43-54 us right after the previous free, 67-96 us
 * after a 200 us pause),
 * so a delay in front of the driver would add more than itself and could not be recovered
 * exactly. A refused allocation spends it too. */
static CUresult alloc_begin(uint64_t bytes)
{
    COUNT(allocs);
    pthread_mutex_lock(&lock);
    ensure_charge_locked(NULL, NULL);
    int rc = gvb_calib_acct_reserve(&account, bytes);
    pthread_mutex_unlock(&lock);
    if (rc != 0) {
        COUNT(oom_refusals);
        spin(alloc_s);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    return CUDA_SUCCESS;
}

static void alloc_end(CUresult r, const CUdeviceptr *dptr, uint64_t bytes)
{
    pthread_mutex_lock(&lock);
    if (r == CUDA_SUCCESS && dptr)
        gvb_calib_acct_track(&account, (uint64_t)*dptr, bytes);
    else
        gvb_calib_acct_unreserve(&account, bytes);
    st.live_bytes = account.live;
    pthread_mutex_unlock(&lock);
    spin(alloc_s);
}

static void freed(CUresult r, CUdeviceptr p)
{
    COUNT(frees);
    if (r != CUDA_SUCCESS)
        return;
    pthread_mutex_lock(&lock);
    gvb_calib_acct_release(&account, (uint64_t)p);
    st.live_bytes = account.live;
    pthread_mutex_unlock(&lock);
}

/* ---- wrappers ------------------------------------------------------------------------------ */

static CUresult launch(int h, int ptsz, CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                       unsigned bx, unsigned by, unsigned bz, unsigned shmem, CUstream s,
                       void **params, void **extra)
{
    launch_fn real = (launch_fn)real_of(h);
    if (!real)
        return CUDA_ERROR_NOT_INITIALIZED;
    double t0 = launch_begin();
    return launch_end(real(f, gx, gy, gz, bx, by, bz, shmem, s, params, extra), s, ptsz, t0);
}

EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                               unsigned by, unsigned bz, unsigned shmem, CUstream s,
                               void **params, void **extra)
{
    return launch(H_LAUNCH, 0, f, gx, gy, gz, bx, by, bz, shmem, s, params, extra);
}

EXPORT CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                                    unsigned bx, unsigned by, unsigned bz, unsigned shmem,
                                    CUstream s, void **params, void **extra)
{
    return launch(H_LAUNCH_PTSZ, 1, f, gx, gy, gz, bx, by, bz, shmem, s, params, extra);
}

static CUresult launch_ex(int h, int ptsz, const CUlaunchConfig *config, CUfunction f,
                          void **params, void **extra)
{
    launch_ex_fn real = (launch_ex_fn)real_of(h);
    if (!real)
        return CUDA_ERROR_NOT_INITIALIZED;
    double t0 = launch_begin();
    return launch_end(real(config, f, params, extra), config ? config->hStream : NULL, ptsz, t0);
}

EXPORT CUresult cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f, void **params,
                                 void **extra)
{
    return launch_ex(H_LAUNCH_EX, 0, config, f, params, extra);
}

EXPORT CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f, void **params,
                                      void **extra)
{
    return launch_ex(H_LAUNCH_EX_PTSZ, 1, config, f, params, extra);
}

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytes)
{
    alloc_fn real = (alloc_fn)real_of(H_ALLOC);
    if (!real)
        return CUDA_ERROR_NOT_INITIALIZED;
    CUresult r = alloc_begin(bytes);
    if (r != CUDA_SUCCESS)
        return r;
    r = real(dptr, bytes);
    alloc_end(r, dptr, bytes);
    return r;
}

/* The pitch is known only afterwards: reserve width x height, then charge the padding too,
 * and give the allocation back if the padding crosses the cap. */
EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width, size_t height,
                                   unsigned elem)
{
    alloc_pitch_fn real = (alloc_pitch_fn)real_of(H_ALLOC_PITCH);
    if (!real)
        return CUDA_ERROR_NOT_INITIALIZED;
    uint64_t want = (uint64_t)width * height;
    CUresult r = alloc_begin(want);
    if (r != CUDA_SUCCESS)
        return r;
    r = real(dptr, pitch, width, height, elem);
    uint64_t got = r == CUDA_SUCCESS && pitch ? (uint64_t)*pitch * height : want;
    if (r == CUDA_SUCCESS && got > want) {
        pthread_mutex_lock(&lock);
        int over = gvb_calib_acct_reserve(&account, got - want);
        pthread_mutex_unlock(&lock);
        if (over) {
            free_fn rf = (free_fn)real_of(H_FREE);
            if (rf)
                rf(*dptr);
            alloc_end(CUDA_ERROR_OUT_OF_MEMORY, NULL, want);
            COUNT(oom_refusals);
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
    }
    alloc_end(r, dptr, r == CUDA_SUCCESS ? got : want);
    return r;
}

static CUresult alloc_async(int h, CUdeviceptr *dptr, size_t bytes, CUstream s)
{
    alloc_async_fn real = (alloc_async_fn)real_of(h);
    if (!real)
        return CUDA_ERROR_NOT_INITIALIZED;
    CUresult r = alloc_begin(bytes);
    if (r != CUDA_SUCCESS)
        return r;
    r = real(dptr, bytes, s);
    alloc_end(r, dptr, bytes);
    return r;
}

EXPORT CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t bytes, CUstream s)
{
    return alloc_async(H_ALLOC_ASYNC, dptr, bytes, s);
}

EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytes, CUstream s)
{
    return alloc_async(H_ALLOC_ASYNC_PTSZ, dptr, bytes, s);
}

static CUresult alloc_pool(int h, CUdeviceptr *dptr, size_t bytes, CUmemoryPool pool, CUstream s)
{
    alloc_pool_fn real = (alloc_pool_fn)real_of(h);
    if (!real)
        return CUDA_ERROR_NOT_INITIALIZED;
    CUresult r = alloc_begin(bytes);
    if (r != CUDA_SUCCESS)
        return r;
    r = real(dptr, bytes, pool, s);
    alloc_end(r, dptr, bytes);
    return r;
}

EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t bytes, CUmemoryPool pool,
                                        CUstream s)
{
    return alloc_pool(H_ALLOC_POOL, dptr, bytes, pool, s);
}

EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytes, CUmemoryPool pool,
                                             CUstream s)
{
    return alloc_pool(H_ALLOC_POOL_PTSZ, dptr, bytes, pool, s);
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr p)
{
    free_fn real = (free_fn)real_of(H_FREE);
    if (!real)
        return CUDA_ERROR_NOT_INITIALIZED;
    CUresult r = real(p);
    freed(r, p);
    return r;
}

static CUresult free_async(int h, CUdeviceptr p, CUstream s)
{
    free_async_fn real = (free_async_fn)real_of(h);
    if (!real)
        return CUDA_ERROR_NOT_INITIALIZED;
    CUresult r = real(p, s);
    freed(r, p);
    return r;
}

EXPORT CUresult cuMemFreeAsync(CUdeviceptr p, CUstream s) { return free_async(H_FREE_ASYNC, p, s); }

EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr p, CUstream s)
{
    return free_async(H_FREE_ASYNC_PTSZ, p, s);
}

EXPORT CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total)
{
    meminfo_fn real = (meminfo_fn)real_of(H_MEMINFO);
    if (!real)
        return CUDA_ERROR_NOT_INITIALIZED;
    COUNT(meminfo);
    CUresult r = real(free_bytes, total);
    if (r != CUDA_SUCCESS || !free_bytes || !total)
        return r;
    pthread_mutex_lock(&lock);
    ensure_charge_locked(total, free_bytes); /* the first memory call may be this one */
    if (account.cap) {
        uint64_t f, t;
        gvb_calib_acct_meminfo(&account, &f, &t);
        *free_bytes = (size_t)f;
        *total = (size_t)t;
    }
    pthread_mutex_unlock(&lock);
    return r;
}
