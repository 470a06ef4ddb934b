/* The device's peak throughput, and the rule that a measured throughput above it is a bug.
 * Peaks come from a documented datasheet table (dense, no sparsity) keyed by device name, or,
 * for a device not in the table, from per-SM per-clock rates by compute capability times the
 * SM count and the maximum clock (an upper bound). Pure C: the CUDA side (src/gpu/peak.c)
 * only reads the device's name and attributes. */
#ifndef GVB_PEAK_H
#define GVB_PEAK_H

#include <stddef.h>

typedef enum {
    GVB_PREC_FP32, /* CUDA cores, fp32 in and out */
    GVB_PREC_TF32, /* tensor cores, fp32 in and out, tf32 multiplies */
    GVB_PREC_FP16, /* tensor cores, fp16 in and out, fp32 accumulate */
    GVB_PREC_BF16, /* tensor cores, bf16 in and out, fp32 accumulate */
    GVB_PREC_FP8,  /* tensor cores, e4m3 in, bf16 out, fp32 accumulate */
    GVB_PREC_COUNT
} gvb_precision;

typedef struct gvb_peak {
    double tflops[GVB_PREC_COUNT]; /* dense TFLOP/s; 0: not supported or unknown */
    double mem_gbps;               /* DRAM bandwidth, GB/s (1e9 bytes/s); 0: unknown */
    char source[200];              /* where the numbers come from, for the extras */
} gvb_peak;

const char *gvb_precision_name(gvb_precision p);

/* Datasheet peaks for a device whose name (cudaDeviceProp.name) matches a table entry.
 * Returns 0 and fills *out, or -1 when the device is not in the table. */
int gvb_peak_from_table(const char *device_name, gvb_peak *out);

/* Upper bound from per-SM per-clock dense rates of the architecture: rate x SMs x clock;
 * bandwidth = memory clock x 2 (double data rate) x bus width / 8. Returns 0, or -1 when the
 * compute capability is not known (then *out says so and holds zeros). */
int gvb_peak_from_rates(int cc_major, int cc_minor, int sm_count, double clock_khz,
                        double mem_clock_khz, int bus_width_bits, gvb_peak *out);

/* value / peak x 100; NAN when the peak is unknown (<= 0). */
double gvb_pct_of_peak(double value, double peak);

/* The plausibility rule: 1 when a known peak (> 0) is exceeded, else 0. */
int gvb_above_peak(double value, double peak);

#endif
