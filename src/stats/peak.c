/* Device peaks and the above-peak rule (see peak.h). The table holds NVIDIA datasheet numbers
 * for dense math (the datasheets' "with sparsity" figures halved); it is deliberately short:
 * a device not in it gets the per-SM-rate bound, which is never below the real peak. */
#include "stats/peak.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *gvb_precision_name(gvb_precision p)
{
    static const char *const names[GVB_PREC_COUNT] = {"fp32", "tf32", "fp16", "bf16", "fp8"};
    return (unsigned)p < GVB_PREC_COUNT ? names[p] : "?";
}

/* First entry whose pattern is a substring of the device name wins, so more specific names
 * come first. TFLOP/s: fp32 (CUDA cores), tf32, fp16, bf16, fp8 (tensor cores, dense). */
static const struct {
    const char *pattern, *datasheet;
    double tflops[GVB_PREC_COUNT];
    double mem_gbps;
} peak_table[] = {
    {"H100 NVL", "NVIDIA H100 NVL datasheet", {60.0, 417.5, 835.5, 835.5, 1670.5}, 3900},
    {"H100 PCIe", "NVIDIA H100 PCIe datasheet", {51.2, 378.0, 756.5, 756.5, 1513.0}, 2000},
    {"H100", "NVIDIA H100 SXM5 datasheet", {66.9, 494.7, 989.4, 989.4, 1978.9}, 3350},
    {"H200 NVL", "NVIDIA H200 NVL datasheet", {60.0, 417.5, 835.5, 835.5, 1670.5}, 4800},
    {"H200", "NVIDIA H200 SXM datasheet", {66.9, 494.7, 989.4, 989.4, 1978.9}, 4800},
    {"A100 80GB PCIe", "NVIDIA A100 80GB PCIe datasheet", {19.5, 156.0, 312.0, 312.0, 0}, 1935},
    {"A100-SXM4-80GB", "NVIDIA A100 80GB SXM datasheet", {19.5, 156.0, 312.0, 312.0, 0}, 2039},
    {"A100-SXM4-40GB", "NVIDIA A100 40GB SXM datasheet", {19.5, 156.0, 312.0, 312.0, 0}, 1555},
    {"A100-PCIE-40GB", "NVIDIA A100 40GB PCIe datasheet", {19.5, 156.0, 312.0, 312.0, 0}, 1555},
};

int gvb_peak_from_table(const char *device_name, gvb_peak *out)
{
    memset(out, 0, sizeof *out);
    if (!device_name)
        return -1;
    for (size_t i = 0; i < sizeof peak_table / sizeof peak_table[0]; i++) {
        if (!strstr(device_name, peak_table[i].pattern))
            continue;
        memcpy(out->tflops, peak_table[i].tflops, sizeof out->tflops);
        out->mem_gbps = peak_table[i].mem_gbps;
        snprintf(out->source, sizeof out->source, "table: %s (dense), matched '%s'",
                 peak_table[i].datasheet, peak_table[i].pattern);
        return 0;
    }
    return -1;
}

/* Dense flops per clock per SM (an FMA counts 2): fp32 on CUDA cores; tf32, fp16 and bf16
 * with fp32 accumulation and fp8 on tensor cores. From the architecture whitepapers (V100,
 * A100, GA10x, Ada, H100); 0 = the architecture has no such path. */
static const struct {
    int major, minor;
    double per_sm[GVB_PREC_COUNT];
} rate_table[] = {
    {7, 0, {128, 0, 1024, 0, 0}},
    {8, 0, {128, 1024, 2048, 2048, 0}},
    {8, 6, {256, 512, 1024, 1024, 0}},
    {8, 9, {256, 512, 1024, 1024, 2048}},
    {9, 0, {256, 2048, 4096, 4096, 8192}},
};

int gvb_peak_from_rates(int cc_major, int cc_minor, int sm_count, double clock_khz,
                        double mem_clock_khz, int bus_width_bits, gvb_peak *out)
{
    memset(out, 0, sizeof *out);
    if (mem_clock_khz > 0 && bus_width_bits > 0)
        out->mem_gbps = mem_clock_khz * 1e3 * 2.0 * (bus_width_bits / 8.0) / 1e9;
    for (size_t i = 0; i < sizeof rate_table / sizeof rate_table[0]; i++) {
        if (rate_table[i].major != cc_major || rate_table[i].minor != cc_minor)
            continue;
        if (sm_count <= 0 || clock_khz <= 0)
            break;
        for (int p = 0; p < GVB_PREC_COUNT; p++)
            out->tflops[p] = rate_table[i].per_sm[p] * sm_count * clock_khz * 1e3 / 1e12;
        snprintf(out->source, sizeof out->source,
                 "computed bound: per-SM rate of cc %d.%d x %d SMs x %.0f MHz max clock; "
                 "memory clock x 2 x %d-bit bus",
                 cc_major, cc_minor, sm_count, clock_khz / 1e3, bus_width_bits);
        return 0;
    }
    snprintf(out->source, sizeof out->source,
             "unknown: cc %d.%d is not in the per-SM rate table; memory clock x 2 x %d-bit bus",
             cc_major, cc_minor, bus_width_bits);
    return -1;
}

double gvb_pct_of_peak(double value, double peak)
{
    return peak > 0 ? value / peak * 100.0 : NAN;
}

int gvb_above_peak(double value, double peak)
{
    return peak > 0 && value > peak;
}
