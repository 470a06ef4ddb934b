/* GPU probe worker (see device.h). Speaks the worker protocol on GVB_FD_OUT. */
#include "gpu/device.h"

#include <cuda_runtime_api.h>
#include <stdio.h>

#include "core/worker.h"
#include "gpu/nvml.h"

static void format_uuid(const cudaUUID_t *u, char *buf, size_t len)
{
    const unsigned char *b = (const unsigned char *)u->bytes;
    snprintf(buf, len,
             "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

int gvb_gpu_probe_main(void)
{
    gvb_worker w = {.out_fd = GVB_FD_OUT, .go_fd = -1, .barrier_done = 1};
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess)
        return gvb_report_status(&w, GVB_FAIL, "no usable CUDA GPU: cudaGetDeviceCount: %s",
                                 cudaGetErrorString(e)),
               0;
    if (count == 0)
        return gvb_report_status(&w, GVB_FAIL, "no CUDA GPU found"), 0;
    struct cudaDeviceProp p;
    e = cudaGetDeviceProperties(&p, 0);
    if (e != cudaSuccess)
        return gvb_report_status(&w, GVB_FAIL, "cudaGetDeviceProperties: %s",
                                 cudaGetErrorString(e)),
               0;
    char uuid[64];
    format_uuid(&p.uuid, uuid, sizeof uuid);
    int drv = 0, rt = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    gvb_emit_extra(&w, "gpu_count", count);
    gvb_emit_text(&w, "name", "%s", p.name);
    gvb_emit_text(&w, "uuid", "%s", uuid);
    gvb_emit_text(&w, "pci_bus_id", "%04x:%02x:%02x.0", p.pciDomainID, p.pciBusID,
                  p.pciDeviceID);
    gvb_emit_text(&w, "compute_capability", "%d.%d", p.major, p.minor);
    gvb_emit_extra(&w, "sm_count", p.multiProcessorCount);
    gvb_emit_extra(&w, "memory_total_bytes", (double)p.totalGlobalMem);
    gvb_emit_extra(&w, "l2_bytes", p.l2CacheSize);
    gvb_emit_text(&w, "cuda_driver_version", "%d.%d", drv / 1000, (drv % 1000) / 10);
    gvb_emit_text(&w, "cuda_runtime_version", "%d.%d", rt / 1000, (rt % 1000) / 10);
    char why[256], ver[96];
    if (gvb_nvml_open(why, sizeof why) == 0 && gvb_nvml_driver_version(ver, sizeof ver) == 0) {
        gvb_emit_text(&w, "driver_version", "%s", ver);
        gvb_nvml_dev dev;
        unsigned cur, pend;
        if (gvb_nvml_device(0, &dev) == 0 && gvb_nvml_mig_mode(dev, &cur, &pend) == 0)
            gvb_emit_text(&w, "mig_mode", "%s", cur ? "enabled" : "disabled");
    } else {
        gvb_emit_text(&w, "driver_version", "unknown (%s)", why);
    }
    gvb_report_status(&w, GVB_OK, "%s", "");
    return 0;
}
