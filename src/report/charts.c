/* Inline SVG charts of the HTML report, drawn from the comparison model: ratio to native per
 * category with CI whiskers, sample distributions (box + strip), value bars with CIs against a
 * 100 % line, and a time series per system. Plain SVG elements, no scripts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/doc.h"
#include "report/model.h"
#include "stats/claim.h"

#define W 980.0
#define LABEL_W 300.0
#define PLOT_X0 (LABEL_W + 20)
#define PLOT_X1 (W - 70)

static const char *const palette[] = {"#2563eb", "#dc2626", "#059669", "#d97706",
                                      "#7c3aed", "#db2777", "#0891b2", "#65a30d"};

static const char *color(const gvb_model *m, int s)
{
    if (m->systems[s].is_native && s == 0)
        return "#6b7280";
    return palette[(size_t)s % (sizeof palette / sizeof palette[0])];
}

static void text(FILE *f, double x, double y, const char *anchor, const char *extra,
                 const char *s)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y, anchor,
            extra ? extra : "");
    gvb_html_escape(f, s);
    fputs("</text>\n", f);
}

static void svg_open(FILE *f, double h, const char *title)
{
    fprintf(f, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n", W,
            h, W, h);
    fputs("<title>", f);
    gvb_html_escape(f, title);
    fputs("</title>\n", f);
}

static void caption(FILE *f, const char *s)
{
    fputs("<figcaption>", f);
    gvb_html_escape(f, s);
    fputs("</figcaption>\n", f);
}

/* Legend across the top: a swatch and the label of each system drawn. */
static void legend(FILE *f, const gvb_model *m, const int *sys, int n, double y)
{
    double x = PLOT_X0;
    for (int i = 0; i < n; i++) {
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x,
                y - 10, color(m, sys[i]));
        text(f, x + 16, y, "start", NULL, m->systems[sys[i]].label);
        x += 28 + 7.0 * (double)strlen(m->systems[sys[i]].label);
    }
}

/* "Nice" tick step for a linear range (1, 2 or 5 times a power of ten). */
static double nice_step(double range, int target)
{
    double raw = range / target, p = pow(10, floor(log10(raw))), r = raw / p;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * p;
}

static const char *fmt(double v, char *buf, size_t len) { return gvb_fmt_num(v, buf, len); }

/* ---- ratio to native per category -------------------------------------------------------- */

typedef struct scale {
    double lo, hi, x0, x1;
    int log;
} scale;

static double sx(const scale *s, double v)
{
    if (s->log)
        return s->x0 + (log(v) - log(s->lo)) / (log(s->hi) - log(s->lo)) * (s->x1 - s->x0);
    return s->x0 + (v - s->lo) / (s->hi - s->lo) * (s->x1 - s->x0);
}

static void x_axis(FILE *f, const scale *s, double top, double bottom, const char *label)
{
    double ticks[64];
    int n = 0;
    if (s->log && s->hi / s->lo >= 4) {
        /* finer steps on short ranges, 1-2-5 on long ones */
        static const double fine[] = {1, 1.5, 2, 3, 5, 7.5}, coarse[] = {1, 2, 5};
        int wide = s->hi / s->lo > 100;
        const double *mult = wide ? coarse : fine;
        int nm = wide ? 3 : 6;
        for (int e = -3; e <= 3; e++)
            for (int i = 0; i < nm && n < 64; i++) {
                double v = mult[i] * pow(10, e);
                if (v >= s->lo && v <= s->hi)
                    ticks[n++] = v;
            }
    } else {
        double step = nice_step(s->hi - s->lo, 6);
        for (double v = ceil(s->lo / step) * step; v <= s->hi + step * 1e-9 && n < 64; v += step)
            ticks[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    }
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", s->x0,
            bottom, s->x1, bottom);
    for (int i = 0; i < n; i++) {
        double x = sx(s, ticks[i]);
        char b[32];
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x,
                top, x, bottom);
        text(f, x, bottom + 14, "middle", NULL, fmt(ticks[i], b, sizeof b));
    }
    text(f, (s->x0 + s->x1) / 2, bottom + 30, "middle", NULL, label);
}

static int ratio_drawable(const gvb_model *m, const gvb_mmetric *mm, int s)
{
    const gvb_msys *sy = &m->systems[s];
    const gvb_effect *e = &mm->cells[s].vs_base;
    return sy->baseline >= 0 && gvb_msys_claimable(sy) && e->verdict != GVB_EFF_UNTESTED &&
           e->is_ratio && e->est > 0 && e->lo > 0 && e->hi > 0;
}

static int chart_category(FILE *f, const gvb_model *m, int c)
{
    const gvb_mcat *cat = &m->cats[c];
    int sys[GVB_MODEL_MAX_SYSTEMS], ns = 0;
    size_t rows[512], nr = 0;
    double lo = 1, hi = 1;
    for (int s = 0; s < m->n_systems; s++) {
        int used = 0;
        for (size_t k = cat->first; k < cat->first + cat->count; k++)
            used |= ratio_drawable(m, &m->metrics[k], s);
        if (used)
            sys[ns++] = s;
    }
    char skipped[512] = "";
    size_t off = 0;
    for (size_t k = cat->first; k < cat->first + cat->count && nr < 512; k++) {
        int any = 0;
        for (int i = 0; i < ns; i++) {
            const gvb_effect *e = &m->metrics[k].cells[sys[i]].vs_base;
            if (!ratio_drawable(m, &m->metrics[k], sys[i]))
                continue;
            any = 1;
            lo = fmin(lo, e->lo);
            hi = fmax(hi, e->hi);
        }
        if (any)
            rows[nr++] = k;
        else if (m->metrics[k].direction != GVB_PASS && off < sizeof skipped)
            off += (size_t)snprintf(skipped + off, sizeof skipped - off, "%s%s", off ? ", " : "",
                                    m->metrics[k].id);
    }
    if (!nr)
        return 1;
    lo = fmax(lo / 1.15, 1e-3);
    hi = fmin(hi * 1.15, 1e3);
    scale s = {lo, hi, PLOT_X0, PLOT_X1, 1};
    double bar = 14, gap = 12, top = 34;
    double row_h = ns * bar + gap, h = top + (double)nr * row_h + 44;
    char title[128];
    snprintf(title, sizeof title, "%s: ratio of medians to native", gvb_category_title(cat->name));
    svg_open(f, h, title);
    legend(f, m, sys, ns, 16);
    double bottom = top + (double)nr * row_h;
    char axis_text[128];
    snprintf(axis_text, sizeof axis_text, "ratio to native (log scale), whiskers: %g %% CI of the "
             "claim rule; faded: no significant difference", GVB_CLAIM_LEVEL * 100);
    x_axis(f, &s, top - 4, bottom, axis_text);
    for (size_t r = 0; r < nr; r++) {
        const gvb_mmetric *mm = &m->metrics[rows[r]];
        double y0 = top + (double)r * row_h;
        char lab[128];
        snprintf(lab, sizeof lab, "%s %s", mm->id, mm->name);
        text(f, LABEL_W, y0 + row_h / 2 - 2, "end", NULL, lab);
        text(f, LABEL_W, y0 + row_h / 2 + 11, "end", " fill=\"#6b7280\"",
             mm->direction == GVB_LOWER ? "lower is better" : "higher is better");
        for (int i = 0; i < ns; i++) {
            if (!ratio_drawable(m, mm, sys[i]))
                continue;
            const gvb_effect *e = &mm->cells[sys[i]].vs_base;
            double y = y0 + gap / 2 + i * bar, x1 = sx(&s, 1), xe = sx(&s, e->est);
            double op = e->verdict == GVB_EFF_SAME ? 0.35 : 0.9;
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                    "fill-opacity=\"%.2f\"/>\n",
                    fmin(x1, xe), y + 1, fmax(fabs(xe - x1), 1), bar - 3, color(m, sys[i]), op);
            double xl = sx(&s, e->lo), xh = sx(&s, e->hi), yc = y + (bar - 1) / 2;
            fprintf(f,
                    "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\" stroke=\"#111827\" "
                    "stroke-width=\"1\" fill=\"none\"/>\n",
                    xl, yc, xh, xl, yc - 4, yc + 4, xh, yc - 4, yc + 4);
            char v[48];
            snprintf(v, sizeof v, "%.3f", e->est);
            if (e->est >= 1)
                text(f, fmax(xh, xe) + 4, yc + 4, "start", NULL, v);
            else
                text(f, fmin(xl, xe) - 4, yc + 4, "end", NULL, v);
        }
    }
    fprintf(f, "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            sx(&s, 1), top - 4, sx(&s, 1), bottom);
    fputs("</svg>\n", f);
    char cap[1024];
    snprintf(cap, sizeof cap,
             "Each bar: a system against the native of its run by the claim rule (the mean ratio "
             "of their replicates' values; 1 = native, dashed line). Models and INERT systems are "
             "not drawn.%s%s%s",
             skipped[0] ? " Not drawn (no ratio to native: native not measured, values zero or negative, "
                           "or not testable): " : "",
             skipped, skipped[0] ? "." : "");
    caption(f, cap);
    return 0;
}

/* ---- distributions ------------------------------------------------------------------------ */

typedef struct dist {
    int s;
    double *v;
    size_t n;
    double p5, p25, p50, p75, p95, p99;
} dist;

static int chart_distribution(FILE *f, const gvb_model *m, int k)
{
    const gvb_mmetric *mm = &m->metrics[k];
    dist d[GVB_MODEL_MAX_SYSTEMS];
    int nd = 0;
    double lo = INFINITY, hi = -INFINITY, vmax = -INFINITY;
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_result *r = mm->cells[s].r;
        if (!r || r->status != GVB_OK || r->samples.n == 0)
            continue;
        dist *x = &d[nd];
        x->v = malloc(r->samples.n * sizeof *x->v);
        if (!x->v)
            break;
        memcpy(x->v, r->samples.v, r->samples.n * sizeof *x->v);
        x->n = r->samples.n;
        x->s = s;
        gvb_sort_doubles(x->v, x->n);
        x->p5 = gvb_percentile_sorted(x->v, x->n, 5);
        x->p25 = gvb_percentile_sorted(x->v, x->n, 25);
        x->p50 = gvb_percentile_sorted(x->v, x->n, 50);
        x->p75 = gvb_percentile_sorted(x->v, x->n, 75);
        x->p95 = gvb_percentile_sorted(x->v, x->n, 95);
        x->p99 = gvb_percentile_sorted(x->v, x->n, 99);
        lo = fmin(lo, x->v[0]);
        hi = fmax(hi, x->p99);
        vmax = fmax(vmax, x->v[x->n - 1]);
        nd++;
    }
    if (!nd)
        return 1;
    /* clip the axis at the largest P99 when the maximum is far beyond it */
    if (vmax <= hi * 1.5 || hi <= lo)
        hi = vmax;
    if (lo > 0 && lo < (hi - lo) * 0.5)
        lo = 0;
    if (hi <= lo)
        hi = lo + (lo != 0 ? fabs(lo) * 0.1 : 1);
    double pad = (hi - lo) * 0.05;
    scale s = {lo - (lo == 0 ? 0 : pad), hi + pad, PLOT_X0, PLOT_X1, 0};
    double row = 44, top = 12, h = top + nd * row + 44;
    char title[160], axis[160];
    snprintf(title, sizeof title, "%s %s: samples per system", mm->id, mm->name);
    svg_open(f, h, title);
    snprintf(axis, sizeof axis, "%s (%s)", mm->name, mm->unit);
    double bottom = top + nd * row;
    x_axis(f, &s, top, bottom, axis);
    size_t above_total = 0;
    for (int i = 0; i < nd; i++) {
        const dist *x = &d[i];
        const char *col = color(m, x->s);
        double yc = top + i * row + row / 2;
        text(f, LABEL_W, yc + 4, "end", NULL, m->systems[x->s].label);
        size_t step = x->n > 2000 ? x->n / 2000 : 1, above = 0;
        for (size_t j = 0; j < x->n; j += step) {
            const gvb_series *orig = &mm->cells[x->s].r->samples;
            double v = orig->v[j];
            if (v > s.hi) {
                above++;
                continue;
            }
            double jit = ((double)((j * 2654435761u) % 1000) / 1000.0 - 0.5) * row * 0.55;
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\" fill=\"%s\" fill-opacity=\"0.35\"/>\n",
                    sx(&s, v), yc + jit, col);
        }
        above_total += above;
        double b0 = sx(&s, x->p25), b1 = sx(&s, x->p75);
        fprintf(f,
                "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fH%.1f\" stroke=\"#111827\" stroke-width=\"1\"/>\n",
                sx(&s, fmin(x->p5, s.hi)), yc, b0, b1, yc, sx(&s, fmin(x->p95, s.hi)));
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                "fill-opacity=\"0.25\" stroke=\"%s\"/>\n",
                b0, yc - row * 0.3, fmax(b1 - b0, 1), row * 0.6, col, col);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#111827\" "
                "stroke-width=\"2.5\"/>\n",
                sx(&s, x->p50), yc - row * 0.3, sx(&s, x->p50), yc + row * 0.3);
        char b[32];
        text(f, PLOT_X1 + 4, yc + 4, "start", NULL, fmt(x->p50, b, sizeof b));
        if (above) {
            char n[48];
            snprintf(n, sizeof n, "+%zu >", above);
            text(f, PLOT_X1 - 2, yc - row * 0.3, "end", " fill=\"#b91c1c\"", n);
        }
    }
    fputs("</svg>\n", f);
    char cap[512];
    snprintf(cap, sizeof cap,
             "Each dot is one sample; box: 25th to 75th percentile; thick line: median (also "
             "printed at the right); whiskers: 5th to 95th percentile.%s",
             above_total ? " The axis ends near the largest 99th percentile; samples beyond it "
                           "are counted in red."
                         : "");
    caption(f, cap);
    for (int i = 0; i < nd; i++)
        free(d[i].v);
    return 0;
}

/* ---- value bars with CI (memory limit accuracy) ----------------------------------------------- */

static int chart_value_bars(FILE *f, const gvb_model *m, int k)
{
    const gvb_mmetric *mm = &m->metrics[k];
    int sys[GVB_MODEL_MAX_SYSTEMS], n = 0;
    double hi = 110, ci_lo[GVB_MODEL_MAX_SYSTEMS], ci_hi[GVB_MODEL_MAX_SYSTEMS];
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_result *r = mm->cells[s].r;
        if (!r || r->status != GVB_OK || !r->has_value || !isfinite(r->value))
            continue;
        gvb_result_value_ci(r, &ci_lo[n], &ci_hi[n]); /* NAN unless the value is the median */
        hi = fmax(hi, r->value * 1.05);
        if (isfinite(ci_hi[n]))
            hi = fmax(hi, ci_hi[n] * 1.05);
        sys[n++] = s;
    }
    if (!n)
        return 1;
    double lo = 0;
    for (int i = 0; i < n; i++)
        lo = fmin(lo, mm->cells[sys[i]].r->value * 1.05);
    scale s = {lo, hi, PLOT_X0, PLOT_X1, 0};
    double row = 26, top = 12, h = top + n * row + 44;
    char title[160], axis[160];
    snprintf(title, sizeof title, "%s %s per system", mm->id, mm->name);
    svg_open(f, h, title);
    snprintf(axis, sizeof axis, "%s (%s); whiskers: 95 %% CI of the value where it is the median",
             mm->name, mm->unit);
    double bottom = top + n * row;
    x_axis(f, &s, top, bottom, axis);
    for (int i = 0; i < n; i++) {
        const gvb_result *r = mm->cells[sys[i]].r;
        double y = top + i * row, x0 = sx(&s, 0), xv = sx(&s, r->value);
        text(f, LABEL_W, y + row / 2 + 4, "end", NULL, m->systems[sys[i]].label);
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                "fill-opacity=\"0.85\"/>\n",
                fmin(x0, xv), y + 5, fmax(fabs(xv - x0), 1), row - 10, color(m, sys[i]));
        if (isfinite(ci_lo[i]) && isfinite(ci_hi[i])) {
            double xl = sx(&s, ci_lo[i]), xh = sx(&s, ci_hi[i]), yc = y + row / 2;
            fprintf(f,
                    "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\" stroke=\"#111827\" "
                    "fill=\"none\"/>\n",
                    xl, yc, xh, xl, yc - 5, yc + 5, xh, yc - 5, yc + 5);
        }
        char b[32];
        text(f, PLOT_X1 + 4, y + row / 2 + 4, "start", NULL, fmt(r->value, b, sizeof b));
    }
    fprintf(f, "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            sx(&s, 100), top, sx(&s, 100), bottom);
    fputs("</svg>\n", f);
    caption(f, "Dashed line: 100 % (all of the configured limit usable; for native, all of the "
               "physical memory).");
    return 0;
}

/* ---- time series (SM limit response) ----------------------------------------------------------- */

static const char *pick_series(const gvb_mmetric *mm, int n_systems)
{
    static const char *const prefer[] = {"window", "share", ""};
    for (size_t p = 0; p < sizeof prefer / sizeof prefer[0]; p++)
        for (int s = 0; s < n_systems; s++) {
            const gvb_result *r = mm->cells[s].r;
            for (size_t i = 0; r && i < r->n_series; i++)
                if (strncmp(r->series[i].name, "monitor.", 8) != 0 && r->series[i].n >= 2 &&
                    strstr(r->series[i].name, prefer[p]))
                    return r->series[i].name;
        }
    return NULL;
}


static int chart_series(FILE *f, const gvb_model *m, int k)
{
    const gvb_mmetric *mm = &m->metrics[k];
    const char *name = pick_series(mm, m->n_systems);
    if (!name)
        return 1;
    int sys[GVB_MODEL_MAX_SYSTEMS], n = 0;
    double ylo = INFINITY, yhi = -INFINITY, target = NAN;
    size_t maxn = 0;
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_series *se = gvb_series_lookup(mm->cells[s].r, name);
        if (!se || se->n < 2)
            continue;
        sys[n++] = s;
        maxn = se->n > maxn ? se->n : maxn;
        for (size_t i = 0; i < se->n; i++) {
            ylo = fmin(ylo, se->v[i]);
            yhi = fmax(yhi, se->v[i]);
        }
        const gvb_kv_item *t = gvb_kv_get(&mm->cells[s].r->extras, "target_pct");
        if (t && !t->is_text && isnan(target))
            target = t->num;
    }
    if (isnan(target) && (strstr(name, "share") || strstr(name, "pct"))) {
        const gvb_kv_item *t =
            gvb_kv_get(&m->inputs[m->systems[sys[0]].file].run->config, "compute_limit_pct");
        if (t && !t->is_text && t->num > 0)
            target = t->num;
    }
    if (isfinite(target)) {
        ylo = fmin(ylo, target);
        yhi = fmax(yhi, target);
    }
    if (ylo > 0 && ylo < (yhi - ylo))
        ylo = 0;
    if (yhi <= ylo)
        yhi = ylo + 1;
    double pad = (yhi - ylo) * 0.08, top = 30, ph = 220, h = top + ph + 46;
    double y0 = ylo - (ylo == 0 ? 0 : pad), y1 = yhi + pad;
    char title[160];
    snprintf(title, sizeof title, "%s %s: series %s", mm->id, mm->name, name);
    svg_open(f, h, title);
    legend(f, m, sys, n, 16);
    double bottom = top + ph;
    scale xs = {0, (double)(maxn - 1), PLOT_X0, PLOT_X1, 0};
    x_axis(f, &xs, top, bottom, "window index (in recorded order)");
    double ystep = nice_step(y1 - y0, 5);
    for (double v = ceil(y0 / ystep) * ystep; v <= y1 + ystep * 1e-9; v += ystep) {
        double y = bottom - (v - y0) / (y1 - y0) * ph;
        char b[32];
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                PLOT_X0, y, PLOT_X1, y);
        text(f, PLOT_X0 - 6, y + 4, "end", NULL, fmt(fabs(v) < ystep * 1e-9 ? 0 : v, b, sizeof b));
    }
    char rot[64];
    snprintf(rot, sizeof rot, " transform=\"rotate(-90 %.1f %.1f)\"", PLOT_X0 - 44, top + ph / 2);
    text(f, PLOT_X0 - 44, top + ph / 2, "middle", rot, name);
    for (int i = 0; i < n; i++) {
        const gvb_series *se = gvb_series_lookup(mm->cells[sys[i]].r, name);
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" points=\"",
                color(m, sys[i]));
        for (size_t j = 0; j < se->n; j++)
            fprintf(f, "%s%.1f,%.1f", j ? " " : "", sx(&xs, (double)j),
                    bottom - (se->v[j] - y0) / (y1 - y0) * ph);
        fputs("\"/>\n", f);
    }
    if (isfinite(target)) {
        double y = bottom - (target - y0) / (y1 - y0) * ph;
        fprintf(f, "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                PLOT_X0, y, PLOT_X1, y);
        text(f, PLOT_X1 + 4, y + 4, "start", NULL, "target");
    }
    fputs("</svg>\n", f);
    char cap[256];
    snprintf(cap, sizeof cap, "Series \"%s\" of each system, one point per recorded window%s.",
             name, isfinite(target) ? "; dashed: the target share" : "");
    caption(f, cap);
    return 0;
}

int gvb_chart_svg(FILE *f, const gvb_model *m, gvb_chart_kind kind, int arg)
{
    switch (kind) {
    case GVB_CHART_CATEGORY: return chart_category(f, m, arg);
    case GVB_CHART_DISTRIBUTION: return chart_distribution(f, m, arg);
    case GVB_CHART_VALUE_BARS: return chart_value_bars(f, m, arg);
    case GVB_CHART_SERIES: return chart_series(f, m, arg);
    }
    return 1;
}
