/* The claim rule (see claim.h): Student's t intervals on the replicates' values. */
#include "stats/claim.h"

#include <math.h>
#include <string.h>

/* Continued fraction of the regularized incomplete beta function (modified Lentz), valid for
 * x < (a + 1) / (a + b + 2); the caller uses the symmetry otherwise. */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    d = fabs(d) < tiny ? tiny : d;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        for (int k = 0; k < 2; k++) {
            d = 1.0 + num * d;
            d = fabs(d) < tiny ? tiny : d;
            c = 1.0 + num / c;
            c = fabs(c) < tiny ? tiny : c;
            d = 1.0 / d;
            h *= d * c;
            num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
            if (k == 1 && fabs(d * c - 1.0) < eps)
                return h;
        }
    }
    return h;
}

/* I_x(a, b), the regularized incomplete beta function. */
static double beta_reg(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lfront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lfront) * beta_cf(a, b, x) / a;
    return 1.0 - exp(lfront) * beta_cf(b, a, 1.0 - x) / b;
}

double gvb_t_cdf(double t, double df)
{
    if (!(df > 0) || isnan(t))
        return NAN;
    if (isinf(t))
        return t > 0 ? 1.0 : 0.0;
    double tail = 0.5 * beta_reg(df / 2.0, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t >= 0 ? 1.0 - tail : tail;
}

double gvb_t_quantile(double df, double level)
{
    if (!(df > 0) || !(level > 0) || !(level < 1))
        return NAN;
    double p = 0.5 + level / 2.0, lo = 0, hi = 1;
    while (gvb_t_cdf(hi, df) < p && hi < 1e12)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
        double mid = (lo + hi) / 2;
        if (gvb_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

static void mean_var(const double *x, size_t n, double *mean, double *var)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - *mean) * (x[i] - *mean);
    *var = ss / (double)(n - 1);
}

int gvb_claim_test(const double *a, size_t na, const double *b, size_t nb, int paired,
                   double level, gvb_claim *out)
{
    memset(out, 0, sizeof *out);
    out->est = out->lo = out->hi = out->mde = out->df = NAN;
    if (na < 2 || nb < 2 || na > GVB_CLAIM_MAX || nb > GVB_CLAIM_MAX || (paired && na != nb) ||
        !(level > 0 && level < 1))
        return -1;
    int positive = 1;
    for (size_t i = 0; i < na + nb; i++) {
        double v = i < na ? a[i] : b[i - na];
        if (!isfinite(v))
            return -1;
        positive &= v > 0;
    }
    double xa[GVB_CLAIM_MAX], xb[GVB_CLAIM_MAX];
    for (size_t i = 0; i < na; i++)
        xa[i] = positive ? log(a[i]) : a[i];
    for (size_t i = 0; i < nb; i++)
        xb[i] = positive ? log(b[i]) : b[i];
    double d, se;
    if (paired) {
        double diff[GVB_CLAIM_MAX], var;
        for (size_t i = 0; i < na; i++)
            diff[i] = xa[i] - xb[i];
        mean_var(diff, na, &d, &var);
        se = sqrt(var / (double)na);
        out->df = (double)na - 1;
    } else {
        double ma, va, mb, vb;
        mean_var(xa, na, &ma, &va);
        mean_var(xb, nb, &mb, &vb);
        double sa = va / (double)na, sb = vb / (double)nb, den;
        d = ma - mb;
        se = sqrt(sa + sb);
        den = sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1);
        /* Welch-Satterthwaite; with no spread on either side, the smaller side's */
        out->df = den > 0 ? (sa + sb) * (sa + sb) / den : (double)(na < nb ? na : nb) - 1;
    }
    double h = gvb_t_quantile(out->df, level) * se;
    out->paired = paired;
    out->is_ratio = positive;
    out->na = na;
    out->nb = nb;
    /* a difference below rounding is none: on the log scale differences are relative already
     * (1e-12); on the values, relative to their size */
    double scale = 0;
    for (size_t i = 0; positive == 0 && i < na; i++)
        scale = fmax(scale, fabs(xa[i]));
    for (size_t i = 0; positive == 0 && i < nb; i++)
        scale = fmax(scale, fabs(xb[i]));
    double tiny = positive ? 1e-12 : 1e-12 * fmax(scale, 1e-300);
    if (fabs(d) <= tiny && h <= tiny)
        d = h = 0;
    out->est = positive ? exp(d) : d;
    out->lo = positive ? exp(d - h) : d - h;
    out->hi = positive ? exp(d + h) : d + h;
    out->mde = positive ? expm1(h) : h;
    out->differs = d - h > 0 || d + h < 0;
    /* No spread at all has no interval of its own: with 2 replicates a metric whose values come
     * in steps (a saturation phase of 3 or 4) shows the same step twice by chance 1 time in 4,
     * so a zero-width difference is claimed only from 3 replicates (pairs) up (an A/A of such
     * steps then claims about 3 %, 1 % with 4). */
    if (out->differs && h == 0 && (paired ? na : (na < nb ? na : nb)) < 3)
        out->differs = 0;
    return 0;
}
