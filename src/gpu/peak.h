/* The peak of the GPU a tenant runs on (device 0 as the tenant sees it): the datasheet table of
 * stats/peak.h by device name, else the per-SM-rate bound from the device's attributes. Under
 * a spatial share (MPS active-thread percentage) the rate bound uses the SM count the tenant
 * sees; the table does not depend on it. */
#ifndef GVB_GPU_PEAK_H
#define GVB_GPU_PEAK_H

#include "stats/peak.h"

/* Fills *p. Returns 0 (even when some peaks are unknown: they are 0 and p->source says why),
 * or a cudaError_t as int when the device cannot be queried. */
int gvb_gpu_peak(gvb_peak *p);

#endif
