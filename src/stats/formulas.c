/* Derived numbers of the overhead and isolation metrics (see formulas.h). */
#include "stats/formulas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"

double gvb_share_accuracy(double achieved_pct, double target_pct)
{
    if (!(target_pct > 0) || !isfinite(achieved_pct) || !isfinite(target_pct))
        return NAN;
    double a = 100.0 * (1.0 - fabs(achieved_pct - target_pct) / target_pct);
    return a < 0 ? 0 : a;
}

double gvb_achieved_share(double units, double ref_s, double elapsed_s)
{
    if (!(elapsed_s > 0))
        return NAN;
    return 100.0 * units * ref_s / elapsed_s;
}

double gvb_pct_change(double before, double after)
{
    if (before == 0 || !isfinite(before) || !isfinite(after))
        return NAN;
    return (after - before) / before * 100.0;
}

double gvb_degradation_pct(double native, double system)
{
    if (!(native > 0) || !isfinite(system))
        return NAN;
    return (native - system) / native * 100.0;
}

double gvb_ls_slope(const double *x, const double *y, size_t n)
{
    double sxx, syy, sxy;
    if (gvb_centred_sums(x, y, n, &sxx, &syy, &sxy) != 0)
        return NAN;
    return sxx > 0 ? sxy / sxx : NAN;
}

double gvb_cpu_pct(double cpu_s, double wall_s)
{
    if (!(wall_s > 0))
        return NAN;
    return 100.0 * cpu_s / wall_s;
}

double gvb_fp32_peak_tflops(int sm_count, int cc_major, int cc_minor, double clock_khz)
{
    if (cc_major < 6 || sm_count <= 0 || !(clock_khz > 0))
        return NAN;
    int lanes = 128;
    if ((cc_major == 6 && cc_minor == 0) || cc_major == 7 || (cc_major == 8 && cc_minor == 0))
        lanes = 64;
    return (double)sm_count * lanes * 2.0 * clock_khz * 1e3 / 1e12;
}

void gvb_window_shares(const double *start, const double *end, size_t n, double ref_s,
                       double win_s, double *share, size_t n_win)
{
    memset(share, 0, n_win * sizeof *share);
    if (!(win_s > 0))
        return;
    for (size_t i = 0; i < n; i++) {
        double s = start[i], e = end[i];
        if (!(e > s)) { /* instantaneous: all its work at its end */
            double kf = floor(e / win_s);
            if (kf >= 0 && kf < (double)n_win)
                share[(size_t)kf] += ref_s;
            continue;
        }
        double rate = ref_s / (e - s); /* work per second of the kernel's interval */
        double k0 = floor(s / win_s), k1 = floor(e / win_s);
        if (k0 < 0)
            k0 = 0;
        for (double kf = k0; kf <= k1 && kf < (double)n_win; kf++) {
            double lo = fmax(s, kf * win_s), hi = fmin(e, (kf + 1) * win_s);
            if (hi > lo)
                share[(size_t)kf] += rate * (hi - lo);
        }
    }
    for (size_t k = 0; k < n_win; k++)
        share[k] = 100.0 * share[k] / win_s;
}

static int in_band(double v, double target, double tol)
{
    return v >= target * (1.0 - tol) && v <= target * (1.0 + tol);
}

size_t gvb_settle_index(const double *share, size_t n, double target, double tol)
{
    size_t k = n;
    while (k > 0 && in_band(share[k - 1], target, tol))
        k--;
    return k;
}

double gvb_overshoot_pp(const double *share, size_t n, double target)
{
    double m = 0;
    for (size_t k = 0; k < n; k++)
        if (share[k] - target > m)
            m = share[k] - target;
    return m;
}

double gvb_oscillation_pp(const double *share, size_t n)
{
    if (n == 0)
        return NAN;
    double *s = malloc(n * sizeof *s);
    if (!s)
        return NAN;
    memcpy(s, share, n * sizeof *s);
    gvb_sort_doubles(s, n);
    double r = (gvb_percentile_sorted(s, n, 95) - gvb_percentile_sorted(s, n, 5)) / 2.0;
    free(s);
    return r;
}
