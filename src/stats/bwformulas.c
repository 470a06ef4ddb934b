/* Pure formulas of the BW, CACHE, PCIE and SCHED metrics (see bwformulas.h). */
#include "stats/bwformulas.h"

#include <math.h>
#include <stdlib.h>

double gvb_gbs(double bytes, double seconds)
{
    if (!(seconds > 0) || !isfinite(bytes) || !isfinite(seconds))
        return NAN;
    return bytes / seconds / 1e9;
}

double gvb_pct_of(double part, double whole)
{
    if (whole == 0 || !isfinite(part) || !isfinite(whole))
        return NAN;
    return part / whole * 100.0;
}

double gvb_retained_pct(double solo, double contended) { return gvb_pct_of(contended, solo); }

double gvb_drop_pct(double solo, double contended)
{
    if (solo == 0 || !isfinite(solo) || !isfinite(contended))
        return NAN;
    return (solo - contended) / solo * 100.0;
}

double gvb_increase_pct(double solo, double contended) { return -gvb_drop_pct(solo, contended); }

double gvb_pcie_lane_gts(unsigned gen)
{
    static const double gts[] = {0, 2.5, 5.0, 8.0, 16.0, 32.0, 64.0};
    return gen < sizeof gts / sizeof gts[0] ? gts[gen] : 0;
}

double gvb_pcie_encoding(unsigned gen)
{
    if (gen == 1 || gen == 2)
        return 8.0 / 10.0;
    if (gen >= 3 && gen <= 5)
        return 128.0 / 130.0;
    if (gen == 6)
        return 242.0 / 256.0;
    return 0;
}

double gvb_pcie_link_gbs(unsigned gen, unsigned width)
{
    return gvb_pcie_lane_gts(gen) * width * gvb_pcie_encoding(gen) / 8.0;
}

int gvb_saturation_point(const double *agg, size_t n, double frac)
{
    double best = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(agg[i]) && agg[i] > best)
            best = agg[i];
    if (!(best > 0))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(agg[i]) && agg[i] >= frac * best)
            return (int)i + 1;
    return 0;
}

double gvb_hit_fraction(double lat, double lat_hit, double lat_miss)
{
    if (!isfinite(lat) || !isfinite(lat_hit) || !isfinite(lat_miss) || !(lat_miss > lat_hit))
        return NAN;
    double h = (lat_miss - lat) / (lat_miss - lat_hit);
    return h < 0 ? 0 : h > 1 ? 1 : h;
}

int gvb_hit_proxy_readable(double lat_contended_median, double lat_miss)
{
    return isfinite(lat_contended_median) && isfinite(lat_miss) &&
           lat_contended_median <= lat_miss;
}

uint64_t gvb_pow2_floor(uint64_t x)
{
    if (x == 0)
        return 0;
    uint64_t p = 1;
    while (p <= x / 2)
        p *= 2;
    return p;
}

size_t gvb_busy_periods(const uint64_t *t, size_t n, uint64_t split_ns, double *starts,
                        double *ends, size_t cap)
{
    if (n == 0)
        return 0;
    size_t k = 0;
    uint64_t s = t[0];
    for (size_t i = 1; i <= n; i++) {
        if (i < n && t[i] - t[i - 1] <= split_ns)
            continue;
        if (k < cap) {
            starts[k] = (double)s;
            ends[k] = (double)t[i - 1];
        }
        k++;
        if (i < n)
            s = t[i];
    }
    return k;
}

static int by_start(const void *a, const void *b)
{
    const gvb_period *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->tenant - y->tenant;
}

#define GVB_HANDOVER_MAX_TENANTS 64

size_t gvb_handover_gaps(gvb_period *p, size_t n, int n_tenants, double *gaps, size_t cap,
                         size_t *concurrent)
{
    double last_end[GVB_HANDOVER_MAX_TENANTS], last_start[GVB_HANDOVER_MAX_TENANTS];
    int seen[GVB_HANDOVER_MAX_TENANTS] = {0};
    size_t k = 0, conc = 0;
    if (n_tenants > GVB_HANDOVER_MAX_TENANTS)
        n_tenants = GVB_HANDOVER_MAX_TENANTS;
    qsort(p, n, sizeof *p, by_start);
    for (size_t i = 0; i < n; i++) {
        const gvb_period *q = &p[i];
        int x = q->tenant;
        if (x < 0 || x >= n_tenants)
            continue;
        int y = -1; /* the other tenant that was active last */
        for (int t = 0; t < n_tenants; t++)
            if (t != x && seen[t] && (y < 0 || last_end[t] > last_end[y]))
                y = t;
        if (y >= 0) {
            if (last_end[y] > q->start)
                conc++; /* y still running when q started */
            else if (seen[x] && last_end[x] >= last_end[y])
                ; /* x itself was the last one active: a continuation */
            else if (seen[x] && last_end[x] > last_start[y])
                conc++; /* x ran beside y's last period */
            else {
                if (k < cap)
                    gaps[k] = q->start - last_end[y];
                k++;
            }
        }
        if (!seen[x] || q->end > last_end[x]) {
            last_end[x] = q->end;
            last_start[x] = q->start;
        }
        seen[x] = 1;
    }
    if (concurrent)
        *concurrent = conc;
    return k;
}

double gvb_concurrency_efficiency_pct(double serial_s, double concurrent_s, int k)
{
    if (!(serial_s > 0) || !(concurrent_s > 0) || k < 1 || !isfinite(serial_s) ||
        !isfinite(concurrent_s))
        return NAN;
    return serial_s / concurrent_s / k * 100.0;
}
