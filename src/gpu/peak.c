/* Device peak lookup (see peak.h). */
#include "gpu/peak.h"

#include <cuda_runtime_api.h>
#include <stdio.h>

int gvb_gpu_peak(gvb_peak *p)
{
    struct cudaDeviceProp prop;
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e == cudaSuccess)
        e = cudaGetDeviceProperties(&prop, dev);
    if (e != cudaSuccess)
        return (int)e;
    if (gvb_peak_from_table(prop.name, p) == 0)
        return 0;
    int sms = 0, clock_khz = 0, mem_khz = 0, bus = 0;
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, dev);
    cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, dev);
    cudaDeviceGetAttribute(&bus, cudaDevAttrGlobalMemoryBusWidth, dev);
    gvb_peak_from_rates(prop.major, prop.minor, sms, clock_khz, mem_khz, bus, p);
    char src[sizeof p->source];
    snprintf(src, sizeof src, "%s (device '%s' not in the datasheet table)", p->source, prop.name);
    snprintf(p->source, sizeof p->source, "%s", src);
    return 0;
}
