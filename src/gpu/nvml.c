/* NVML through dlopen (see nvml.h). */
#include "gpu/nvml.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef int (*fn_void)(void);
typedef int (*fn_str)(char *, unsigned);
typedef int (*fn_count)(unsigned *);
typedef int (*fn_handle)(unsigned, gvb_nvml_dev *);
typedef int (*fn_mem)(gvb_nvml_dev, gvb_nvml_meminfo *);
typedef int (*fn_util)(gvb_nvml_dev, gvb_nvml_util *);
typedef int (*fn_procs)(gvb_nvml_dev, unsigned *, gvb_nvml_process *);
typedef int (*fn_putil)(gvb_nvml_dev, gvb_nvml_proc_util *, unsigned *, unsigned long long);
typedef int (*fn_uint)(gvb_nvml_dev, unsigned *);
typedef int (*fn_uint2)(gvb_nvml_dev, unsigned *, unsigned *);
typedef const char *(*fn_errstr)(int);
typedef int (*fn_by_uuid)(const char *, gvb_nvml_dev *);
typedef int (*fn_uuid)(gvb_nvml_dev, char *, unsigned);
typedef int (*fn_mig_handle)(gvb_nvml_dev, unsigned, gvb_nvml_dev *);
typedef int (*fn_ull)(gvb_nvml_dev, unsigned long long *);

static struct {
    void *lib;
    int ready;
    fn_void init, shutdown;
    fn_str driver_version;
    fn_count count;
    fn_handle handle;
    fn_mem memory;
    fn_util util;
    fn_procs procs;
    fn_putil putil;
    fn_uint link_gen, link_width, max_gen, max_width;
    fn_uint2 mig_mode;
    fn_errstr errstr;
    fn_by_uuid by_uuid;
    fn_uuid uuid;
    fn_uint max_mig;
    fn_mig_handle mig_handle;
    fn_ull energy;
} nv;

#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_FUNCTION_NOT_FOUND 13

static void *sym(const char *name) { return dlsym(nv.lib, name); }

int gvb_nvml_open(char *why, size_t len)
{
    if (nv.ready)
        return 0;
    nv.lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!nv.lib) {
        snprintf(why, len, "NVML not available: %s", dlerror());
        return -1;
    }
    nv.init = (fn_void)sym("nvmlInit_v2");
    nv.shutdown = (fn_void)sym("nvmlShutdown");
    nv.driver_version = (fn_str)sym("nvmlSystemGetDriverVersion");
    nv.count = (fn_count)sym("nvmlDeviceGetCount_v2");
    nv.handle = (fn_handle)sym("nvmlDeviceGetHandleByIndex_v2");
    nv.memory = (fn_mem)sym("nvmlDeviceGetMemoryInfo");
    nv.util = (fn_util)sym("nvmlDeviceGetUtilizationRates");
    nv.procs = (fn_procs)sym("nvmlDeviceGetComputeRunningProcesses_v3");
    nv.putil = (fn_putil)sym("nvmlDeviceGetProcessUtilization");
    nv.link_gen = (fn_uint)sym("nvmlDeviceGetCurrPcieLinkGeneration");
    nv.link_width = (fn_uint)sym("nvmlDeviceGetCurrPcieLinkWidth");
    nv.max_gen = (fn_uint)sym("nvmlDeviceGetMaxPcieLinkGeneration");
    nv.max_width = (fn_uint)sym("nvmlDeviceGetMaxPcieLinkWidth");
    nv.mig_mode = (fn_uint2)sym("nvmlDeviceGetMigMode");
    nv.errstr = (fn_errstr)sym("nvmlErrorString");
    nv.by_uuid = (fn_by_uuid)sym("nvmlDeviceGetHandleByUUID");
    nv.uuid = (fn_uuid)sym("nvmlDeviceGetUUID");
    nv.max_mig = (fn_uint)sym("nvmlDeviceGetMaxMigDeviceCount");
    nv.mig_handle = (fn_mig_handle)sym("nvmlDeviceGetMigDeviceHandleByIndex");
    nv.energy = (fn_ull)sym("nvmlDeviceGetTotalEnergyConsumption");
    int rc = nv.init ? nv.init() : NVML_ERROR_FUNCTION_NOT_FOUND;
    if (rc != 0) {
        snprintf(why, len, "nvmlInit failed: %s", gvb_nvml_error(rc));
        dlclose(nv.lib);
        memset(&nv, 0, sizeof nv);
        return -1;
    }
    nv.ready = 1;
    return 0;
}

void gvb_nvml_close(void)
{
    if (nv.ready && nv.shutdown)
        nv.shutdown();
    if (nv.lib)
        dlclose(nv.lib);
    memset(&nv, 0, sizeof nv);
}

const char *gvb_nvml_error(int rc)
{
    if (nv.errstr)
        return nv.errstr(rc);
    return rc == NVML_ERROR_FUNCTION_NOT_FOUND ? "function not found" : "NVML error";
}

#define CALL(fn, ...) (!nv.ready ? NVML_ERROR_UNINITIALIZED : !(fn) ? NVML_ERROR_FUNCTION_NOT_FOUND : (fn)(__VA_ARGS__))

int gvb_nvml_driver_version(char *buf, size_t len) { return CALL(nv.driver_version, buf, (unsigned)len); }
int gvb_nvml_device(unsigned index, gvb_nvml_dev *dev) { return CALL(nv.handle, index, dev); }
int gvb_nvml_device_count(unsigned *count) { return CALL(nv.count, count); }
int gvb_nvml_memory(gvb_nvml_dev dev, gvb_nvml_meminfo *m) { return CALL(nv.memory, dev, m); }
int gvb_nvml_utilization(gvb_nvml_dev dev, gvb_nvml_util *u) { return CALL(nv.util, dev, u); }
int gvb_nvml_energy_mj(gvb_nvml_dev dev, unsigned long long *mj) { return CALL(nv.energy, dev, mj); }
int gvb_nvml_processes(gvb_nvml_dev dev, gvb_nvml_process *p, unsigned *count)
{
    return CALL(nv.procs, dev, count, p);
}
int gvb_nvml_process_utilization(gvb_nvml_dev dev, gvb_nvml_proc_util *s, unsigned *count,
                                 unsigned long long since_us)
{
    return CALL(nv.putil, dev, s, count, since_us);
}
int gvb_nvml_pcie_link(gvb_nvml_dev dev, unsigned *gen, unsigned *width, unsigned *max_gen,
                       unsigned *max_width)
{
    int rc = CALL(nv.link_gen, dev, gen);
    if (rc == 0)
        rc = CALL(nv.link_width, dev, width);
    if (rc == 0)
        rc = CALL(nv.max_gen, dev, max_gen);
    if (rc == 0)
        rc = CALL(nv.max_width, dev, max_width);
    return rc;
}
int gvb_nvml_mig_mode(gvb_nvml_dev dev, unsigned *current, unsigned *pending)
{
    return CALL(nv.mig_mode, dev, current, pending);
}
int gvb_nvml_device_by_uuid(const char *uuid, gvb_nvml_dev *dev) { return CALL(nv.by_uuid, uuid, dev); }
int gvb_nvml_uuid(gvb_nvml_dev dev, char *buf, size_t len) { return CALL(nv.uuid, dev, buf, (unsigned)len); }
int gvb_nvml_max_mig_devices(gvb_nvml_dev dev, unsigned *count) { return CALL(nv.max_mig, dev, count); }
int gvb_nvml_mig_device(gvb_nvml_dev dev, unsigned index, gvb_nvml_dev *mig)
{
    return CALL(nv.mig_handle, dev, index, mig);
}
