/* NVML loaded with dlopen at run time: no nvml.h at build time, and the binary runs where
 * NVML is absent (every NVML-backed value then says so). Only the few symbols the suite
 * uses are declared, with NVML's ABI. */
#ifndef GVB_NVML_H
#define GVB_NVML_H

#include <stddef.h>

typedef struct gvb_nvml_device *gvb_nvml_dev; /* nvmlDevice_t */

typedef struct gvb_nvml_memory { unsigned long long total, free, used; } gvb_nvml_meminfo;
typedef struct gvb_nvml_util { unsigned int gpu, memory; } gvb_nvml_util;
/* nvmlProcessInfo_t (v2/v3 layout) */
typedef struct gvb_nvml_process {
    unsigned int pid;
    unsigned long long used_gpu_memory;
    unsigned int gpu_instance_id, compute_instance_id;
} gvb_nvml_process;
/* nvmlProcessUtilizationSample_t */
typedef struct gvb_nvml_proc_util {
    unsigned int pid;
    unsigned long long timestamp;
    unsigned int sm_util, mem_util, enc_util, dec_util;
} gvb_nvml_proc_util;

/* Loads and initialises NVML once. Returns 0, or -1 with why (library missing, init failed). */
int gvb_nvml_open(char *why, size_t len);
void gvb_nvml_close(void);

int gvb_nvml_driver_version(char *buf, size_t len);
int gvb_nvml_device(unsigned index, gvb_nvml_dev *dev);
int gvb_nvml_device_count(unsigned *count);
int gvb_nvml_memory(gvb_nvml_dev dev, gvb_nvml_meminfo *m);
int gvb_nvml_utilization(gvb_nvml_dev dev, gvb_nvml_util *u);
/* The device's energy counter since the driver loaded, mJ (Volta and later). */
int gvb_nvml_energy_mj(gvb_nvml_dev dev, unsigned long long *mj);
/* Compute processes on dev: fills up to *count entries, sets *count. */
int gvb_nvml_processes(gvb_nvml_dev dev, gvb_nvml_process *p, unsigned *count);
/* Per-process utilization samples newer than since_us (NVML timestamps, us). */
int gvb_nvml_process_utilization(gvb_nvml_dev dev, gvb_nvml_proc_util *s, unsigned *count,
                                 unsigned long long since_us);
int gvb_nvml_pcie_link(gvb_nvml_dev dev, unsigned *gen, unsigned *width, unsigned *max_gen,
                       unsigned *max_width);
int gvb_nvml_mig_mode(gvb_nvml_dev dev, unsigned *current, unsigned *pending);
const char *gvb_nvml_error(int rc);
/* By UUID ("GPU-..." or "MIG-..."); the device's UUID; MIG instances of a physical GPU. */
int gvb_nvml_device_by_uuid(const char *uuid, gvb_nvml_dev *dev);
int gvb_nvml_uuid(gvb_nvml_dev dev, char *buf, size_t len);
int gvb_nvml_max_mig_devices(gvb_nvml_dev dev, unsigned *count);
int gvb_nvml_mig_device(gvb_nvml_dev dev, unsigned index, gvb_nvml_dev *mig);

/* NVML return codes the callers act on */
#define GVB_NVML_ERROR_NOT_SUPPORTED 3
#define GVB_NVML_ERROR_NOT_FOUND 6
#define GVB_NVML_ERROR_INSUFFICIENT_SIZE 7

#endif
