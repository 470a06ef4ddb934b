/* LLM metric formulas (see llm_formulas.h). */
#include "stats/llm_formulas.h"

#include <math.h>
#include <string.h>

double gvb_gemm_flops(double m, double n, double k)
{
    return 2.0 * m * n * k;
}

double gvb_attention_flops(double batch, double heads, double sq, double sk, double head_dim)
{
    return 4.0 * batch * heads * sq * sk * head_dim;
}

double gvb_decoder_layer_params(double hidden, double ffn)
{
    return 4.0 * hidden * hidden + 3.0 * hidden * ffn;
}

double gvb_decoder_step_flops(double batch, double hidden, double ffn, double kv_len)
{
    return 2.0 * batch * gvb_decoder_layer_params(hidden, ffn) + 4.0 * batch * kv_len * hidden;
}

double gvb_decoder_step_bytes(double batch, double hidden, double ffn, double kv_len,
                              double elem_bytes)
{
    return elem_bytes * (gvb_decoder_layer_params(hidden, ffn) + 2.0 * batch * kv_len * hidden);
}

double gvb_prefill_layer_flops(double tokens, double hidden, double ffn)
{
    return 2.0 * tokens * gvb_decoder_layer_params(hidden, ffn) +
           gvb_attention_flops(1, 1, tokens, tokens, hidden);
}

double gvb_batch_scaling_ratio(double tps_bmax, double bmax, double tps_1)
{
    return bmax > 0 && tps_1 > 0 ? tps_bmax / (bmax * tps_1) : NAN;
}

double gvb_tp_scaling_ratio(double thr_g, double g, double thr_1)
{
    return g > 0 && thr_1 > 0 ? thr_g / (g * thr_1) : NAN;
}

double gvb_relative_change_pct(double value, double base)
{
    return base != 0 ? (value - base) / base * 100.0 : NAN;
}

double gvb_speedup_pct(double t_serial, double t_concurrent)
{
    return t_concurrent > 0 ? (t_serial / t_concurrent - 1.0) * 100.0 : NAN;
}

double gvb_cv(const double *x, size_t n)
{
    if (n < 2)
        return NAN;
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return mean != 0 ? sqrt(ss / (double)(n - 1)) / fabs(mean) : NAN;
}

double gvb_rel_l2_error(const double *out, const double *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (out[i] - ref[i]) * (out[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    if (den == 0)
        return num == 0 ? 0.0 : INFINITY;
    return sqrt(num / den);
}

void gvb_balanced_sequence(int *out, size_t n, int lo, int hi, gvb_rng *rng)
{
    size_t count = hi >= lo ? (size_t)(hi - lo) + 1 : 1;
    for (size_t i = 0; i < n; i++)
        out[i] = lo + (int)(i % count);
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)gvb_rng_below(rng, i);
        int t = out[i - 1];
        out[i - 1] = out[j];
        out[j] = t;
    }
}

void gvb_attention_row_ref(const float *q, const float *k, const float *v, size_t ld, int n_keys,
                           int head_dim, double scale, double *out)
{
    double mx = -INFINITY, sum = 0;
    for (int j = 0; j < n_keys; j++) {
        double s = 0;
        for (int d = 0; d < head_dim; d++)
            s += (double)q[d] * k[(size_t)j * ld + d];
        mx = fmax(mx, s * scale);
    }
    memset(out, 0, sizeof *out * (size_t)head_dim);
    for (int j = 0; j < n_keys; j++) {
        double s = 0;
        for (int d = 0; d < head_dim; d++)
            s += (double)q[d] * k[(size_t)j * ld + d];
        double p = exp(s * scale - mx);
        sum += p;
        for (int d = 0; d < head_dim; d++)
            out[d] += p * v[(size_t)j * ld + d];
    }
    for (int d = 0; d < head_dim; d++)
        out[d] /= sum;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float gvb_bf16_to_f32(uint16_t bits)
{
    return from_bits((uint32_t)bits << 16);
}

float gvb_f16_to_f32(uint16_t bits)
{
    int sign = bits >> 15, exp = (bits >> 10) & 0x1f, man = bits & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp(man, -24); /* subnormal: man x 2^-14 x 2^-10 */
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexp(man + 1024, exp - 25);
    return (float)(sign ? -v : v);
}

float gvb_e4m3_to_f32(uint8_t bits)
{
    int sign = bits >> 7, exp = (bits >> 3) & 0xf, man = bits & 0x7;
    double v;
    if (exp == 15 && man == 7)
        v = NAN;
    else if (exp == 0)
        v = ldexp(man, -9); /* subnormal: man x 2^-6 x 2^-3 */
    else
        v = ldexp(man + 8, exp - 10);
    return (float)(sign ? -v : v);
}
