/* The workload metrics (WL-001..003): each tenant runs the user's COMMAND once per replicate,
 * with the system's environment (the layer applies to it as to any tenant), and reports its
 * wall time, its exit and, with --metric-regex, the figures it printed. Methods and options:
 * docs/workload.md. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "core/spawn.h"
#include "core/workload_spec.h"
#include "metrics/contend.h"
#include "metrics/metric_util.h"
#include "stats/formulas.h"
#include "stats/stats.h"

extern char **environ;

#define MAX_OUTPUT (16u << 20) /* bytes of a tenant's stdout read for figures */
#define MAX_FIGURES 100000
#define MAX_RUNS 10000 /* runs of a soak per tenant and replicate */
#define TAIL 250 /* bytes of output in a FAIL reason (the reason holds 512 in all) */

/* All a memfd holds, NUL-terminated, at most cap bytes: the last ones, from a line start
 * (*cut: some were left out); NULL on error. */
static char *read_all(int fd, size_t cap, int *cut)
{
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0)
        return NULL;
    size_t n = (size_t)size > cap ? cap : (size_t)size;
    *cut = (size_t)size > cap;
    char *b = malloc(n + 1);
    if (!b || pread(fd, b, n, size - (off_t)n) != (ssize_t)n) {
        free(b);
        return NULL;
    }
    b[n] = '\0';
    for (size_t i = 0; i < n; i++) /* a NUL in the output would end the text early */
        if (b[i] == '\0')
            b[i] = ' ';
    char *nl = *cut ? strchr(b, '\n') : NULL;
    if (nl) /* not from the middle of a line, where a number would be read cut */
        memmove(b, nl + 1, strlen(nl + 1) + 1);
    return b;
}

/* How long the program may run: the tenant's deadline less a margin, so that this process,
 * not the runner, ends it and its process group (-1: no deadline was handed over). */
static double program_limit_s(const gvb_worker *w)
{
    if (!(w->deadline_s > 0))
        return -1;
    return w->deadline_s > 10 ? w->deadline_s - 2 : w->deadline_s * 0.8;
}

/* The numbers a regex found in a run's output (figures, then units): one buffer, one run at a
 * time in this tenant process. */
static double found[MAX_FIGURES];

/* The sum of every number the units regex found in text into *units; -1 when none matched. */
static int add_units(const regex_t *ure, const char *text, double *units)
{
    size_t all = gvb_workload_figures(ure, text ? text : "", found, MAX_FIGURES);
    for (size_t i = 0; i < all && i < MAX_FIGURES; i++)
        *units += found[i];
    return all ? 0 : -1;
}

/* One run of the program, started limit_s before it is killed (-1 none): its wall time as a
 * sample (!figure) or its figures as samples (figure), and the run's series (run_end_s from
 * t_start, wall_s, run_figure: the median of its figures); with ure, the units of work it
 * printed added to *units (*units_missing set when it printed none). 0, or 1 after reporting
 * FAIL. */
static int one_run(gvb_worker *w, const gvb_workload_spec *sp, const regex_t *re, int figure,
                   const regex_t *ure, double *units, int *units_missing, double t_start,
                   double limit_s)
{
    int out = memfd_create("gvb-workload-out", MFD_CLOEXEC);
    int errfd = memfd_create("gvb-workload-err", MFD_CLOEXEC);
    int rc = 0;
    char *text = NULL, *etext = NULL;
    if (out < 0 || errfd < 0) {
        rc = gvb_report_status(w, GVB_FAIL, "memfd_create: %s", strerror(errno));
        goto done;
    }
    const int fds[] = {GVB_SPAWN_NULL, out, errfd};
    gvb_cloexec_protocol_fds(); /* the tenant's pipe to the runner is not the program's */
    double t0 = gvb_now();
    /* its own process group, so what it starts goes with it */
    pid_t pid = gvb_spawn(sp->argv[0], sp->argv, environ, fds, 3,
                          GVB_SPAWN_DIE_WITH_PARENT | GVB_SPAWN_NEW_GROUP);
    if (pid < 0) {
        rc = gvb_report_status(w, GVB_FAIL, "cannot start %s: %s", sp->argv[0], strerror(errno));
        goto done;
    }
    int st = 0;
    int waited = gvb_spawn_wait(pid, limit_s, &st);
    double wall = gvb_now() - t0;
    kill(-pid, SIGKILL); /* what it left running in its group (it ended, or was killed) */
    if (waited < 0 || waited == 2) {
        rc = gvb_report_status(w, GVB_FAIL, "%s %s: %s", waited == 2 ? "could not kill" : "waiting for",
                               sp->argv[0], waited == 2 ? "it did not die of SIGKILL" : strerror(errno));
        goto done;
    }
    if (waited == 1) {
        rc = gvb_report_status(w, GVB_FAIL, "the command ran past %.3g s (the tenant's deadline, "
                               "--deadline, less a margin) and was killed with its process group",
                               limit_s);
        goto done;
    }
    int cut = 0, ecut = 0;
    text = read_all(out, MAX_OUTPUT, &cut);
    etext = read_all(errfd, 64 * 1024, &ecut);
    if (cut)
        gvb_emit_text(w, "stdout_truncated", "only its last %u MiB were read for figures",
                      MAX_OUTPUT >> 20);
    for (size_t k = etext ? strlen(etext) : 0; k > 0 && (etext[k - 1] == '\n' || etext[k - 1] == ' '); k--)
        etext[k - 1] = '\0'; /* the reason ends with the text, not a newline */
    char how[96];
    gvb_wait_words(st, how, sizeof how);
    gvb_emit_text(w, "exit", "%s", how);
    gvb_emit_extra(w, "wall_s", wall);
    gvb_emit_series(w, "wall_s", wall);
    gvb_emit_series(w, "run_end_s", t0 + wall - t_start); /* its end, not after the reading */
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        rc = gvb_report_status(w, GVB_FAIL, "the command ended with %s after %.3g s; its stderr "
                               "ends: %s", how, wall,
                               etext && *etext ? gvb_text_tail(etext, TAIL) : "(nothing)");
        goto done;
    }
    size_t n = 0;
    if (re) {
        double *fig = found;
        size_t all = gvb_workload_figures(re, text ? text : "", fig, MAX_FIGURES);
        n = all < MAX_FIGURES ? all : MAX_FIGURES;
        for (size_t i = 0; i < n; i++) {
            if (figure)
                gvb_emit_sample(w, fig[i]);
            else
                gvb_emit_series(w, "figure", fig[i]);
        }
        if (n)
            gvb_emit_series(w, "run_figure", gvb_median(fig, n));
        gvb_emit_extra(w, "figures", (double)all);
    }
    if (ure && add_units(ure, text, units) != 0)
        *units_missing = 1;
    if (figure && n == 0) {
        rc = gvb_report_status(w, GVB_FAIL, "--metric-regex '%s' matched no number in the "
                               "command's output, which ends: %s", sp->regex,
                               text && *text ? gvb_text_tail(text, TAIL) : "(nothing)");
        goto done;
    }
    if (!figure)
        gvb_emit_sample(w, wall);
done:
    free(text);
    free(etext);
    if (out >= 0)
        close(out);
    if (errfd >= 0)
        close(errfd);
    return rc;
}

/* figure: 0 the primary is the wall time (WL-001), 1 the figures (WL-002/003). Once, or with
 * --duration again and again until that much time has passed since the tenants started. */
static int wl_run(gvb_worker *w, int figure)
{
    double t_entry = gvb_now();
    if (!w->workload[0])
        return gvb_report_status(w, GVB_SKIP, "runs a program of yours: `gpu-virt-bench "
                                              "workload [options] -- COMMAND`");
    gvb_workload_spec sp;
    char err[512];
    if (gvb_workload_spec_read(w->workload, &sp, err, sizeof err) != 0)
        return gvb_report_status(w, GVB_FAIL, "%s", err);
    regex_t re;
    int have_re = sp.regex[0] != '\0';
    if (figure && !have_re) {
        gvb_workload_spec_free(&sp);
        return gvb_report_status(w, GVB_FAIL, "a figure needs --metric-regex");
    }
    if (have_re && gvb_workload_regex(&re, sp.regex, err, sizeof err) != 0) {
        gvb_workload_spec_free(&sp);
        return gvb_report_status(w, GVB_FAIL, "%s", err);
    }
    regex_t ure;
    int have_units = sp.units[0] != '\0', units_missing = 0;
    double units = 0;
    if (have_units &&
        gvb_workload_regex_for(&ure, "--metric-units", sp.units, err, sizeof err) != 0) {
        if (have_re)
            regfree(&re);
        gvb_workload_spec_free(&sp);
        return gvb_report_status(w, GVB_FAIL, "%s", err);
    }
    gvb_barrier(w); /* the tenants start their programs together */
    double t_start = gvb_now(), limit = program_limit_s(w), longest = 0;
    int rc = 0, runs = 0;
    for (;;) {
        double left = limit < 0 ? -1 : limit - (gvb_now() - t_entry), t_run = gvb_now();
        rc = one_run(w, &sp, have_re ? &re : NULL, figure, have_units ? &ure : NULL, &units,
                     &units_missing, t_start, left);
        runs++;
        longest = fmax(longest, gvb_now() - t_run);
        if (rc != 0 || !(sp.duration_s > 0) || gvb_now() - t_start >= sp.duration_s)
            break;
        /* a soak starts another run only when it can end before the deadline (the longest
         * run so far, and a quarter more), and keeps at most MAX_RUNS */
        left = limit < 0 ? -1 : limit - (gvb_now() - t_entry);
        if (runs >= MAX_RUNS || (limit >= 0 && left < longest * 1.25 + 0.5)) {
            gvb_emit_text(w, "soak_ended", "after %d runs and %.1f of %.0f s: %s", runs,
                          gvb_now() - t_start, sp.duration_s,
                          runs >= MAX_RUNS ? "the most runs kept"
                                           : "another run would not end before the deadline");
            break;
        }
    }
    gvb_emit_extra(w, "runs", runs);
    if (have_units && rc == 0) { /* every run's units, or why there is no energy per unit */
        if (units_missing)
            gvb_emit_text(w, "units_missing", "--metric-units '%s' matched no number in a "
                          "run's output", sp.units);
        else
            gvb_emit_extra(w, "units", units);
    }
    if (have_units)
        regfree(&ure);
    if (have_re)
        regfree(&re);
    gvb_workload_spec_free(&sp);
    return rc;
}

/* The trend of y over x (least squares), in % of y's mean per minute; NAN with fewer than 3
 * points, all x equal, or a mean of 0. Equal values are no trend (0), not a rounding error's. */
static double trend_pct_per_min(const gvb_series *x, const gvb_series *y)
{
    size_t n = x && y ? (x->n < y->n ? x->n : y->n) : 0;
    if (n < 3)
        return NAN;
    double my = 0;
    int flat = 1;
    for (size_t i = 0; i < n; i++) {
        my += y->v[i] / (double)n;
        flat &= y->v[i] == y->v[0];
    }
    double slope = flat ? 0 : gvb_ls_slope(x->v, y->v, n);
    return my != 0 ? 100 * slope * 60 / fabs(my) : NAN;
}

/* A soak's trend per tenant (t<i>.trend_pct_per_min with several): the figure per run
 * (run_figure) over the run ends, else the wall time; trend_pct_per_min and runs: the
 * medians over the tenants. */
static void wl_trend(gvb_result *r, int tenants)
{
    double tr[64], rn[64];
    int n = 0, nr = 0;
    for (int i = 0; i < tenants && i < 64; i++) {
        double v;
        if (tenants > 1 && gvb_tenant_extra(r, i, "runs", &v) == 0)
            rn[nr++] = v;
        const gvb_series *y = gvb_tenant_series(r, i, "run_figure", tenants);
        double t = trend_pct_per_min(gvb_tenant_series(r, i, "run_end_s", tenants),
                                     y ? y : gvb_tenant_series(r, i, "wall_s", tenants));
        if (!isfinite(t))
            continue;
        if (tenants > 1) {
            char key[48];
            snprintf(key, sizeof key, "t%d.trend_pct_per_min", i);
            gvb_kv_set_num(&r->extras, key, t);
        }
        tr[n++] = t;
    }
    if (nr)
        gvb_kv_set_num(&r->extras, "runs", gvb_median(rn, (size_t)nr));
    if (n)
        gvb_kv_set_num(&r->extras, "trend_pct_per_min", gvb_median(tr, (size_t)n));
}

/* What the monitor saw of each tenant's programs in this replicate (their processes are the
 * tenant's descendants): the peak device memory (series peak_used_mib, one per tenant),
 * the mean SM utilization over the samples in which they held memory (series sm_util_pct),
 * and, for a soak (several runs), the slope of that memory over the soak
 * (memory_trend_mib_per_min: the median over the tenants), where a leak shows. */
static void wl_gpu_use(gvb_result *r, int tenants)
{
    const gvb_series *t = gvb_series_lookup(r, "monitor.time_s");
    double peak[64], util[64], trend[64];
    int np = 0, nu = 0, nt = 0;
    double runs = gvb_kv_num(&r->extras, "runs");
    for (int i = 0; t && i < tenants && i < 64; i++) {
        const gvb_series *u = gvb_monitor_series(r, i, "used_bytes");
        const gvb_series *sm = gvb_monitor_series(r, i, "sm_util_pct");
        if (!u || u->n != t->n)
            continue;
        double top = 0, su = 0, *x = malloc(u->n * sizeof *x), *y = malloc(u->n * sizeof *y);
        size_t held = 0, ns = 0;
        for (size_t k = 0; x && y && k < u->n; k++) {
            if (!(u->v[k] > 0))
                continue;
            top = u->v[k] > top ? u->v[k] : top;
            x[held] = t->v[k];
            y[held++] = u->v[k] / (1 << 20);
            if (sm && sm->n == u->n && isfinite(sm->v[k])) {
                su += sm->v[k];
                ns++;
            }
        }
        if (held) {
            peak[np++] = top / (1 << 20);
            if (ns)
                util[nu++] = su / (double)ns;
            if (runs > 1 && held >= 3)
                trend[nt++] = 60 * gvb_ls_slope(x, y, held);
        }
        free(x);
        free(y);
    }
    /* added after the loop: a new series may move the ones read above */
    for (int k = 0; k < np; k++)
        gvb_series_push(gvb_result_series(r, "peak_used_mib"), peak[k]);
    for (int k = 0; k < nu; k++)
        gvb_series_push(gvb_result_series(r, "sm_util_pct"), util[k]);
    if (nt)
        gvb_kv_set_num(&r->extras, "memory_trend_mib_per_min", gvb_median(trend, (size_t)nt));
}

/* The GPU's energy per unit of work in this replicate: energy_j over the units every tenant's
 * programs printed (--metric-units), starts included (energy_per_unit_j, extra and series);
 * none when a tenant printed none or the energy is unknown. */
static void wl_energy_per_unit(gvb_result *r, int tenants)
{
    double e = gvb_kv_num(&r->extras, "energy_j"), total = 0;
    for (int i = 0; i < tenants; i++) {
        double u;
        if (gvb_tenant_extra(r, i, "units", &u) != 0)
            return;
        total += u;
    }
    if (!(e >= 0) || !(total > 0))
        return;
    gvb_kv_set_num(&r->extras, "units_total", total);
    gvb_kv_set_num(&r->extras, "energy_per_unit_j", e / total);
    gvb_series_push(gvb_result_series(r, "energy_per_unit_j"), e / total);
}

/* Every tenant's samples are the metric's; with two or more tenants, Jain's index over their
 * medians taken as speeds (the figure when higher is better, else its inverse). */
static void wl_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    gvb_copy_samples(r, per_tenant, tenants);
    wl_trend(r, tenants);
    wl_gpu_use(r, tenants);
    wl_energy_per_unit(r, tenants);
    if (tenants < 2)
        return;
    double *speed = calloc((size_t)tenants, sizeof *speed);
    int ok = speed != NULL;
    for (int i = 0; ok && i < tenants; i++) {
        double med = per_tenant[i].n ? gvb_median(per_tenant[i].v, per_tenant[i].n) : NAN;
        char key[32];
        snprintf(key, sizeof key, "t%d.median", i);
        gvb_kv_set_num(&r->extras, key, med);
        speed[i] = r->direction == GVB_HIGHER ? med : 1.0 / med;
        ok = isfinite(speed[i]) && speed[i] > 0;
    }
    if (ok)
        gvb_kv_set_num(&r->extras, "fairness_jain", gvb_jain_index(speed, (size_t)tenants));
    free(speed);
}

/* WL-001..003 against the same program alone on the same system (WL-004..006, measured when
 * --tenants > 1): the slowdown of co-location, in % of the alone median (positive: worse
 * together), from the medians of all replicates. */
static void wl_slowdown(gvb_result *r, const gvb_run *run)
{
    if (r->status != GVB_OK || r->tenants < 2)
        return;
    const char *alone_id = gvb_workload_alone(r->metric);
    if (!alone_id)
        return;
    const gvb_result *a = gvb_run_find(run, r->system, alone_id);
    if (!a || a->status != GVB_OK || a->samples.n == 0) {
        gvb_kv_set_text(&r->extras, "slowdown_vs_alone", "not computed: %s of this system %s",
                        alone_id, a ? "did not complete" : "was not measured");
        return;
    }
    double together = gvb_median(r->samples.v, r->samples.n);
    double alone = gvb_median(a->samples.v, a->samples.n);
    gvb_kv_set_num(&r->extras, "alone_median", alone);
    gvb_kv_set_text(&r->extras, "alone_metric", "%s", alone_id);
    if (alone != 0)
        gvb_kv_set_num(&r->extras, "slowdown_vs_alone_pct",
                       100 * (r->direction == GVB_HIGHER ? alone - together : together - alone) /
                           fabs(alone));
}

static int wl_001(gvb_worker *w) { return wl_run(w, 0); }
static int wl_figure(gvb_worker *w) { return wl_run(w, 1); }

/* monitor: the programs' memory and SM use in every replicate (wl_gpu_use); energy: the
 * GPU's energy over every replicate */
const gvb_metric_impl gvb_impl_wl_001 = {.run = wl_001, .reduce = wl_reduce,
                                         .cross_system = wl_slowdown, .monitor = 1, .energy = 1};
const gvb_metric_impl gvb_impl_wl_002 = {.run = wl_figure, .reduce = wl_reduce,
                                         .cross_system = wl_slowdown, .monitor = 1, .energy = 1};
const gvb_metric_impl gvb_impl_wl_003 = {.run = wl_figure, .reduce = wl_reduce,
                                         .cross_system = wl_slowdown, .monitor = 1, .energy = 1};
const gvb_metric_impl gvb_impl_wl_004 = {.run = wl_001, .reduce = wl_reduce, .monitor = 1,
                                         .energy = 1};
const gvb_metric_impl gvb_impl_wl_005 = {.run = wl_figure, .reduce = wl_reduce, .monitor = 1,
                                         .energy = 1};
const gvb_metric_impl gvb_impl_wl_006 = {.run = wl_figure, .reduce = wl_reduce, .monitor = 1,
                                         .energy = 1};
