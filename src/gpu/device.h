/* The GPU probe: a worker process (never the parent) that reports the device as it is
 * (name, UUID, SMs, memory, L2, versions) without any sharing layer. */
#ifndef GVB_DEVICE_H
#define GVB_DEVICE_H

int gvb_gpu_probe_main(void);

#endif
