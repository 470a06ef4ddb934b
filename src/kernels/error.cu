// Device code for the error-handling metrics (ERR-xxx): kernels and extern "C" launchers only.
#include <cuda_runtime.h>
#include <stdint.h>

// Writes the GPU's global timer to *flag (host-mapped memory), makes the write visible to the
// host, then stores to `target`. With an unmapped target the store faults, after the host can
// already see the flag: the host takes the flag's arrival as the instant of the fault.
__global__ void gvb_fault_kernel(volatile unsigned long long *flag, int *target)
{
    if (threadIdx.x != 0 || blockIdx.x != 0)
        return;
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    *flag = t ? t : 1ull;
    __threadfence_system();
    *(volatile int *)target = 1;
}

extern "C" int gvb_launch_flag_store(cudaStream_t stream, unsigned long long *flag, int *target)
{
    gvb_fault_kernel<<<1, 1, 0, stream>>>(flag, target);
    return (int)cudaGetLastError();
}

// An address no allocation ever gets: the first page of the address space.
extern "C" int *gvb_unmapped_device_address(void) { return (int *)(uintptr_t)0x100; }

// Does nothing; launched with configurations that may be invalid (ERR-003).
__global__ void gvb_config_kernel() {}

extern "C" int gvb_launch_config(cudaStream_t stream, unsigned grid_x, unsigned grid_y,
                                 unsigned threads, size_t shared_bytes)
{
    gvb_config_kernel<<<dim3(grid_x, grid_y), threads, shared_bytes, stream>>>();
    return (int)cudaGetLastError();
}
