/* The comparison report's sections, worded from the comparison model into one document that
 * every format renders. All prose is generated from the model's numbers by the rules of
 * docs/report.md; nothing here decides anything the model did not. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/doc.h"
#include "report/model.h"
#include "report/sections.h"
#include "stats/claim.h"

const char *gvb_sec_num(double v, char *buf) { return gvb_fmt_num(v, buf, sizeof(gvb_nbuf)); }

const char *gvb_sec_kv_text_or(const gvb_kv *kv, const char *key, const char *dflt)
{
    const char *s = gvb_kv_text(kv, key);
    return s ? s : dflt;
}

void gvb_sec_kv_join(const gvb_kv *kv, const char *skip, const char *skip2, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < kv->n && off < len; i++) {
        const gvb_kv_item *it = &kv->items[i];
        if ((skip && strcmp(it->key, skip) == 0) || (skip2 && strcmp(it->key, skip2) == 0))
            continue;
        if (it->is_text)
            off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", off ? ", " : "", it->key,
                                    it->text);
        else
            off += (size_t)snprintf(buf + off, len - off, "%s%s=%.10g", off ? ", " : "", it->key,
                                    it->num);
    }
}

static const char *dir_words(gvb_direction d)
{
    return d == GVB_LOWER ? "lower is better" : d == GVB_HIGHER ? "higher is better" : "pass/fail";
}

static const char *verdict_words(gvb_eff_verdict v)
{
    return v == GVB_EFF_BETTER  ? "better"
           : v == GVB_EFF_WORSE ? "worse"
           : v == GVB_EFF_SAME  ? "no significant difference"
                                : "not testable";
}

/* ---- how a difference is written ------------------------------------------------------------- */

/* Ratios far from 1 read better as "2.40x"; the three numbers of one effect share a style. */
static int as_times(const gvb_effect *e)
{
    return e->is_ratio && (e->hi >= 2 || e->est >= 2);
}

static const char *change(const gvb_effect *e, double v, const char *unit, char *buf)
{
    gvb_nbuf n;
    if (!isfinite(v))
        snprintf(buf, sizeof(gvb_nbuf), "-");
    else if (e->is_ratio && as_times(e))
        snprintf(buf, sizeof(gvb_nbuf), "%.2fx", v);
    else if (e->is_ratio)
        snprintf(buf, sizeof(gvb_nbuf), "%+.1f %%", fabs(v - 1) < 0.0005 ? 0.0 : (v - 1) * 100);
    else
        snprintf(buf, sizeof(gvb_nbuf), "%s%s %s", v < 0 ? "-" : "+", gvb_sec_num(fabs(v), n),
                 strcmp(unit, "%") == 0 ? "pp" : unit);
    return buf;
}

/* "+18.6 % (97.5 % CI +15.0 to +21.0 %)" */
static const char *change_ci(const gvb_effect *e, const char *unit, char *buf, size_t len)
{
    gvb_nbuf a, b, c;
    snprintf(buf, len, "%s (%g %% CI %s to %s)", change(e, e->est, unit, a), GVB_CLAIM_LEVEL * 100,
             change(e, e->lo, unit, b), change(e, e->hi, unit, c));
    return buf;
}

/* The smallest difference the comparison could have claimed: "±4.1 %", "±0.3 pp". */
static const char *detectable(const gvb_effect *e, const char *unit, char *buf, size_t len)
{
    gvb_nbuf n;
    if (!isfinite(e->mde))
        snprintf(buf, len, "-");
    else if (e->is_ratio)
        snprintf(buf, len, "±%.3g %%", e->mde * 100);
    else
        snprintf(buf, len, "±%s %s", gvb_sec_num(e->mde, n), strcmp(unit, "%") == 0 ? "pp" : unit);
    return buf;
}

/* "OH-001 Kernel Launch Latency" */
static const char *metric_title(const gvb_mmetric *mm, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s", mm->id, mm->name);
    return buf;
}

/* "OH-001 Kernel Launch Latency (us, lower is better)"; "IS-005 ... (pass/fail)" */
static const char *metric_label(const gvb_mmetric *mm, char *buf, size_t len)
{
    if (mm->direction == GVB_PASS)
        snprintf(buf, len, "%s %s (pass/fail)", mm->id, mm->name);
    else
        snprintf(buf, len, "%s %s (%s, %s)", mm->id, mm->name, mm->unit, dir_words(mm->direction));
    return buf;
}

static const gvb_result *ok_res(const gvb_mmetric *mm, int s)
{
    if (s < 0)
        return NULL;
    const gvb_result *r = mm->cells[s].r;
    return r && r->status == GVB_OK ? r : NULL;
}

/* "hami, OH-001 Kernel Launch Latency: 12.1 us vs 10.2 us on native, +18.6 % (95 % CI ...): worse" */
static void effect_sentence(const gvb_model *m, int k, int s, char *buf, size_t len)
{
    const gvb_mmetric *mm = &m->metrics[k];
    const gvb_msys *sy = &m->systems[s];
    const gvb_effect *e = &mm->cells[s].vs_base;
    char t[128], ch[160];
    gvb_nbuf a, b;
    snprintf(buf, len, "%s, %s: %s %s vs %s %s on %s, %s: %s", sy->label,
             metric_title(mm, t, sizeof t), gvb_sec_num(ok_res(mm, s)->value, a), mm->unit,
             gvb_sec_num(ok_res(mm, sy->baseline)->value, b), mm->unit, m->systems[sy->baseline].label,
             change_ci(e, mm->unit, ch, sizeof ch), verdict_words(e->verdict));
}

/* ---- header ---------------------------------------------------------------------------------- */

static void header(gvb_doc *d, const gvb_model *m)
{
    const gvb_run *r0 = m->inputs[0].run;
    gvb_doc_heading(d, 1, "top", "GPU sharing comparison report");
    gvb_doc_para(d,
                 "Generated by gpu-virt-bench from %zu results file%s. Every number is computed "
                 "from the recorded samples. The evidence for a difference is the replicate (one "
                 "run of the metric's processes, fresh each time): a system is called better or "
                 "worse only when both were measured in at least 2 replicates and the %g %% "
                 "Student t confidence interval of the ratio of their replicates' values (or of "
                 "the difference, where values can be zero or negative), paired round by round "
                 "when the systems were interleaved in one run, excludes no change; otherwise "
                 "the report says \"no significant difference\" (with the smallest difference the "
                 "run could have detected, \"±X\") or \"not testable\". Rules: docs/report.md.",
                 m->n_inputs, m->n_inputs == 1 ? "" : "s", GVB_CLAIM_LEVEL * 100);
    char first[40] = "", last[40] = "";
    for (size_t f = 0; f < m->n_inputs; f++) {
        const gvb_run *r = m->inputs[f].run;
        if (!first[0] || (r->started_at[0] && strcmp(r->started_at, first) < 0))
            snprintf(first, sizeof first, "%s", r->started_at);
        if (strcmp(r->finished_at, last) > 0)
            snprintf(last, sizeof last, "%s", r->finished_at);
    }
    gvb_doc_bullet(d, "Date: %.10s (runs from %s to %s)", first, first, last[0] ? last : "?");
    const gvb_kv *g = &r0->gpu;
    if (g->n) {
        gvb_nbuf mem = "?", sms = "?";
        double bytes = gvb_kv_num(g, "memory_total_bytes"), sm = gvb_kv_num(g, "sm_count");
        if (isfinite(bytes))
            snprintf(mem, sizeof mem, "%.0f", bytes / 1048576.0);
        if (isfinite(sm))
            snprintf(sms, sizeof sms, "%.0f", sm);
        gvb_doc_bullet(d, "GPU: %s (compute capability %s, %s SMs, %s MiB)",
                       gvb_sec_kv_text_or(g, "name", "?"), gvb_sec_kv_text_or(g, "compute_capability", "?"), sms,
                       mem);
        gvb_doc_bullet(d, "Driver: %s; CUDA driver %s, runtime %s",
                       gvb_sec_kv_text_or(g, "driver_version", "?"),
                       gvb_sec_kv_text_or(g, "cuda_driver_version", "?"),
                       gvb_sec_kv_text_or(g, "cuda_runtime_version", "?"));
    } else {
        gvb_doc_bullet(d, "GPU: none used (CPU-only self-test metrics)");
    }
    char sys[1024] = "";
    size_t off = 0;
    for (int s = 0; s < m->n_systems && off < sizeof sys; s++)
        off += (size_t)snprintf(sys + off, sizeof sys - off, "%s%s", s ? ", " : "",
                                m->systems[s].label);
    gvb_doc_bullet(d, "Systems: %s (configuration below)", m->n_systems ? sys : "none");
    size_t in_results = m->n_metrics;
    gvb_doc_bullet(d, "Metrics: %d measured OK of %zu in these results (%d in the catalog)",
                   m->metrics_ok, in_results, m->catalog_visible);
    gvb_doc_bullet(d, "Results: %d OK, %d SKIP, %d FAIL, %d INERT", m->status_count[GVB_OK],
                   m->status_count[GVB_SKIP], m->status_count[GVB_FAIL],
                   m->status_count[GVB_INERT]);
    double it = gvb_kv_num(&r0->config, "iterations"), wu = gvb_kv_num(&r0->config, "warmup");
    int same = 1;
    for (size_t f = 1; f < m->n_inputs; f++)
        if (gvb_kv_num(&m->inputs[f].run->config, "iterations") != it ||
            gvb_kv_num(&m->inputs[f].run->config, "warmup") != wu)
            same = 0;
    double wl_tenants = gvb_kv_num(&r0->config, "workload_tenants");
    if (isfinite(wl_tenants) && m->n_inputs == 1) {
        /* a workload's program: the words after "--" of the command line */
        char cmd[512] = "";
        size_t co = 0;
        int after = 0;
        for (int i = 0; r0->argv && i < r0->argc && co < sizeof cmd; i++) {
            if (after) /* a word with a space in quotes, as a shell would want it */
                co += (size_t)snprintf(cmd + co, sizeof cmd - co,
                                       strpbrk(r0->argv[i], " \t") ? "%s'%s'" : "%s%s",
                                       co ? " " : "", r0->argv[i]);
            after |= !strcmp(r0->argv[i], "--");
        }
        const char *builtin = gvb_kv_text(&r0->config, "workload_builtin");
        gvb_doc_bullet(d, "Workload: %s%s; %.0f tenant%s started together in each replicate "
                          "(docs/workload.md)", builtin ? "built-in " : "",
                       builtin ? builtin : cmd[0] ? cmd : "?", wl_tenants, wl_tenants == 1 ? "" : "s");
    } else if (same && isfinite(it))
        gvb_doc_bullet(d, "Iterations: %.0f per metric, after %.0f warm-up iterations", it, wu);
    else
        gvb_doc_bullet(d, "Iterations: differ between the files (see Methodology)");
    gvb_doc_bullet(d, "Tool: gpu-virt-bench %s", r0->tool_version[0] ? r0->tool_version : "?");

    gvb_doc_heading(d, 2, "systems", "Systems");
    gvb_doc_table(d, 5);
    gvb_doc_cell(d, 0, "System");
    gvb_doc_cell(d, 0, "Kind");
    gvb_doc_cell(d, 0, "File");
    gvb_doc_cell(d, 0, "Configuration");
    gvb_doc_cell(d, 0, "Activation");
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_msys *sy = &m->systems[s];
        char cfg[1024] = "", act[1024] = "";
        if (sy->rec) {
            gvb_sec_kv_join(&sy->rec->config, NULL, NULL, cfg, sizeof cfg);
            const char *st = gvb_sec_kv_text_or(&sy->rec->activation, "status", "?");
            const char *why = gvb_kv_text(&sy->rec->activation, "reason");
            snprintf(act, sizeof act, "%s%s%s", st, why && *why ? ": " : "", why && *why ? why : "");
        }
        gvb_doc_cell(d, 0, "%s", sy->label);
        gvb_doc_cell(d, 0, "%s", sy->kind);
        gvb_doc_cell(d, 0, "%d", sy->file + 1);
        gvb_doc_cell(d, 0, "%s", cfg[0] ? cfg : "-");
        gvb_doc_cell(d, 0, "%s", act[0] ? act : "not recorded");
    }
    if (m->n_inputs > 1)
        gvb_doc_para(d,
                     "File numbers follow the order of the files on the command line (Methodology "
                     "lists them). A system name met in more than one file is suffixed @N (its "
                     "file number) after its first file; each system is compared with the native "
                     "of its own file when that file has one, otherwise with the first native.");
}

/* ---- executive summary -------------------------------------------------------------------- */

static void summary(gvb_doc *d, const gvb_model *m)
{
    gvb_doc_heading(d, 2, "summary", "Executive summary");
    int has_native = m->n_systems > 0 && m->systems[0].is_native;
    int any = 0;
    char line[1024];
    for (size_t c = 0; c < m->n_cats; c++) {
        const gvb_mcat *cat = &m->cats[c];
        /* " Best system per metric: hami on 2, mps on 1; no significant winner on 3." */
        char best[700] = "";
        size_t off = 0;
        for (int s = 0; s < m->n_systems && off < sizeof best; s++)
            if (cat->wins[s])
                off += (size_t)snprintf(best + off, sizeof best - off, "%s%s on %d",
                                        off ? ", " : " Best system per metric: ",
                                        m->systems[s].label, cat->wins[s]);
        if (cat->no_winner && off < sizeof best)
            off += (size_t)snprintf(best + off, sizeof best - off, "%sno significant winner on %d",
                                    off ? "; " : " Best system per metric: ", cat->no_winner);
        if (off && off < sizeof best)
            snprintf(best + off, sizeof best - off, ".");
        if (cat->top_sys >= 0) {
            any = 1;
            effect_sentence(m, cat->top_metric, cat->top_sys, line, sizeof line);
            gvb_doc_bullet(d, "%s: %d of %d comparisons with native are significant; the largest: %s.%s",
                           gvb_category_title(cat->name), cat->significant, cat->compared, line,
                           best);
        } else if (cat->compared) {
            gvb_doc_bullet(d, "%s: no significant difference from native in %d comparison%s.%s",
                           gvb_category_title(cat->name), cat->compared,
                           cat->compared == 1 ? "" : "s", best);
        } else {
            gvb_doc_bullet(d, "%s: nothing could be compared with native.%s",
                           gvb_category_title(cat->name), best);
        }
    }
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_msys *sy = &m->systems[s];
        if (sy->baseline < 0 || !gvb_msys_claimable(sy))
            continue;
        int n = sy->better + sy->worse + sy->same + sy->untested;
        if (n == 0) {
            gvb_doc_bullet(d, "%s: no metric measured by both it and %s.", sy->label,
                           m->systems[sy->baseline].label);
            continue;
        }
        char top[1024] = "";
        if (sy->top_metric >= 0) {
            effect_sentence(m, sy->top_metric, s, line, sizeof line);
            snprintf(top, sizeof top, " Largest: %s.", line);
        }
        gvb_doc_bullet(d,
                       "%s against %s: better on %d, worse on %d, no significant difference on %d, "
                       "not testable on %d (of %d metrics measured by both).%s",
                       sy->label, m->systems[sy->baseline].label, sy->better, sy->worse, sy->same,
                       sy->untested, n, top);
    }
    if (!has_native)
        gvb_doc_bullet(d, "No native run in these results: differences against native cannot be "
                          "given; systems are only ranked against each other.");
    else if (!any)
        gvb_doc_bullet(d, "No significant difference from native was found in any category.");
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_msys *sy = &m->systems[s];
        if (sy->is_model)
            gvb_doc_bullet(d, "%s is a model computed from native measurements, not a measurement: "
                              "it is shown for reference and never ranked.",
                           sy->label);
        else if (sy->is_inert)
            gvb_doc_bullet(d, "%s was INERT (its sharing layer was not active), so its numbers "
                              "describe native: shown for reference, never ranked.",
                           sy->label);
    }
    int sf = m->status_count[GVB_SKIP] + m->status_count[GVB_FAIL];
    if (sf || m->n_warns)
        gvb_doc_bullet(d, "%d SKIP, %d FAIL and %zu plausibility warning%s: see Validity.",
                       m->status_count[GVB_SKIP], m->status_count[GVB_FAIL], m->n_warns,
                       m->n_warns == 1 ? "" : "s");
}

/* ---- promised and delivered ------------------------------------------------------------------ */

/* A share or percentage: "66", "87.5", "279". */
static const char *pct(double v, char *buf)
{
    snprintf(buf, sizeof(gvb_nbuf), fabs(v) >= 100 ? "%.0f" : "%.3g", v);
    return buf;
}

static const char *kept_words(const gvb_mdeliv *dl)
{
    switch (dl->kept) {
    case GVB_KEPT_MORE: return "more than promised";
    case GVB_KEPT_LESS: return "less than promised";
    case GVB_KEPT_AS: return dl->interval ? "as promised (within the interval)" : "as promised";
    case GVB_KEPT_MIXED: return "depends on kernel shape";
    default: return "not known";
    }
}

/* " (97.5 % CI 64 to 68 % of native)" or " (by the value: why)" */
static const char *evidence(const gvb_mdeliv *dl, const char *of, char *buf, size_t len)
{
    gvb_nbuf a, b;
    if (dl->interval)
        snprintf(buf, len, " (%g %% CI %s to %s %%%s)", GVB_CLAIM_LEVEL * 100, pct(dl->lo, a),
                 pct(dl->hi, b), of);
    else
        snprintf(buf, len, " (by the value: %s)", dl->why ? dl->why : "no interval");
    return buf;
}

static void memory_cell(gvb_doc *d, const gvb_mpromise *p)
{
    const gvb_mdeliv *dl = &p->memory;
    char ev[256];
    gvb_nbuf a;
    if (!(p->memory_bytes > 0))
        gvb_doc_cell(d, 0, "no limit");
    else if (dl->kept == GVB_KEPT_UNKNOWN)
        gvb_doc_cell(d, 0, "%.0f MiB promised; %s", p->memory_bytes / 1048576.0,
                     dl->why ? dl->why : "not known");
    else
        gvb_doc_cell(d, 0, "%.0f MiB promised, %.0f MiB usable: %s %% of the promise%s: %s",
                     p->memory_bytes / 1048576.0, p->usable_bytes / 1048576.0, pct(dl->est, a),
                     evidence(dl, "", ev, sizeof ev), kept_words(dl));
}

/* "; activation proof: 100 % of native for its kernel: compute limit not enforced for that
 * kernel" (the proof's saturating kernel, a shape of its own), or "" without a proof share */
static const char *proof_words(const gvb_mpromise *p, char *buf, size_t len)
{
    gvb_nbuf a;
    if (!isfinite(p->proof_share_pct))
        snprintf(buf, len, "%s", "");
    else
        snprintf(buf, len, "; activation proof: %s %% of native for its kernel%s",
                 pct(p->proof_share_pct, a),
                 p->proof_not_enforced ? ": compute limit not enforced for that kernel" : "");
    return buf;
}

/* The verdict over kernel shapes (GVB_PROMISE_BAND_PP around the promise). */
static const char *shape_words(const gvb_mdeliv *dl, char *buf, size_t len)
{
    switch (dl->kept) {
    case GVB_KEPT_AS:
        snprintf(buf, len, "holds within %g pp for every shape", GVB_PROMISE_BAND_PP);
        return buf;
    case GVB_KEPT_MORE: return "more than promised for every shape";
    case GVB_KEPT_LESS: return "less than promised for every shape";
    default: return kept_words(dl);
    }
}

static void compute_cell(gvb_doc *d, const gvb_mpromise *p)
{
    const gvb_mdeliv *dl = &p->compute;
    gvb_nbuf a, b, c, e;
    char pr[160], sw[64], ne[320] = "";
    proof_words(p, pr, sizeof pr);
    if (p->shapes >= 2 && p->unenforced[0])
        snprintf(ne, sizeof ne, "; compute limit not enforced for %s (more than %g pp above)",
                 p->unenforced, GVB_PROOF_COMPUTE_SLACK_PP);
    if (!(p->compute_pct > 0))
        gvb_doc_cell(d, 0, "no limit");
    else if (dl->kept == GVB_KEPT_UNKNOWN)
        gvb_doc_cell(d, 0, "%s %% promised; %s%s", pct(p->compute_pct, a),
                     dl->why ? dl->why : "not known", pr);
    else if (p->shapes >= 2)
        gvb_doc_cell(d, 0, "%s to %s %% delivered for %s %% promised (%s, over %d kernel "
                           "shapes): %s (farthest: %s, %s pp)%s%s",
                     pct(dl->lo, a), pct(dl->hi, b), pct(p->compute_pct, c),
                     gvb_promise_metric(GVB_PROMISE_COMPUTE), p->shapes, shape_words(dl, sw, sizeof sw),
                     p->worst_shape, pct(p->worst_pp, e), ne, pr);
    else
        gvb_doc_cell(d, 0, "%s %% delivered for %s %% promised (%s, one kernel shape "
                           "measured%s%s; by the value, no interval): %s%s",
                     pct(dl->est, a), pct(p->compute_pct, b),
                     gvb_promise_metric(GVB_PROMISE_COMPUTE),
                     p->compute_kernel ? ": " : "", p->compute_kernel ? p->compute_kernel : "",
                     kept_words(dl), pr);
}

static void throughput_cell(gvb_doc *d, const gvb_model *m, const gvb_mpromise *p)
{
    char buf[2048], ev[256];
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->n_tput && off < sizeof buf; i++) {
        const gvb_mdeliv *dl = &p->tput[i];
        const gvb_mmetric *mm = &m->metrics[dl->metric];
        gvb_nbuf a, b;
        if (dl->kept == GVB_KEPT_UNKNOWN)
            off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s: %s", off ? "; " : "",
                                    mm->id, dl->why ? dl->why : "not known");
        else
            off += (size_t)snprintf(buf + off, sizeof buf - off,
                                    "%s%s: %s %% delivered for %s %% promised%s: %s",
                                    off ? "; " : "", mm->id, pct(dl->est, a),
                                    pct(p->compute_pct, b),
                                    evidence(dl, " of native", ev, sizeof ev), kept_words(dl));
    }
    if (!(p->compute_pct > 0))
        gvb_doc_cell(d, 0, "no compute limit");
    else
        gvb_doc_cell(d, 0, "%s", off ? buf : "no throughput metric measured");
}

static void promises(gvb_doc *d, const gvb_model *m)
{
    if (!m->n_promises)
        return;
    gvb_doc_heading(d, 2, "promises", "Promised and delivered");
    gvb_doc_para(d,
                 "What a tenant was promised and what it got, for every measured system with a "
                 "memory or compute limit (native applies none and is the reference; models and "
                 "INERT layers are not measurements). Memory: the limit against the memory %s "
                 "could allocate. Compute: the share of the GPU against the share %s "
                 "achieved, a range when it measured several kernel shapes. Throughput: every "
                 "throughput metric (higher is better, in FLOPS or per second) one tenant measured under the "
                 "compute limit, as %% of its native, next to the promised share. More or less "
                 "than promised is said only when the %g %% interval of the claim rule lies wholly "
                 "above or below the promise; otherwise \"as promised (within the interval)\". "
                 "Where there is no interval the value decides, and the cell says so.",
                 gvb_promise_metric(GVB_PROMISE_MEMORY), gvb_promise_metric(GVB_PROMISE_COMPUTE),
                 GVB_CLAIM_LEVEL * 100);
    gvb_doc_table(d, 4);
    gvb_doc_cell(d, 0, "System");
    gvb_doc_cell(d, 0, "Memory: promised, usable (%s)", gvb_promise_metric(GVB_PROMISE_MEMORY));
    gvb_doc_cell(d, 0, "Compute: promised, delivered (%s)",
                 gvb_promise_metric(GVB_PROMISE_COMPUTE));
    gvb_doc_cell(d, 0, "Throughput under the compute limit, %% of native");
    for (size_t i = 0; i < m->n_promises; i++) {
        const gvb_mpromise *p = &m->promises[i];
        gvb_doc_cell(d, 0, "%s", m->systems[p->sys].label);
        memory_cell(d, p);
        compute_cell(d, p);
        throughput_cell(d, m, p);
    }
}

/* ---- per-category tables -------------------------------------------------------------------- */

static void value_cell(gvb_doc *d, const gvb_model *m, const gvb_mmetric *mm, int s)
{
    const gvb_result *r = mm->cells[s].r;
    const gvb_msys *sy = &m->systems[s];
    gvb_nbuf v, ch;
    if (!r) {
        gvb_doc_cell(d, GVB_CELL_NUM, "-");
        return;
    }
    if (r->status != GVB_OK) {
        gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_status_name(r->status));
        return;
    }
    if (mm->direction == GVB_PASS) {
        int o = gvb_pass_outcome(r);
        gvb_doc_cell(d, GVB_CELL_NUM, "%s", o == 1 ? "PASS" : o == 0 ? "fails" : "-");
        return;
    }
    const gvb_effect *e = &mm->cells[s].vs_base;
    gvb_sec_num(r->has_value ? r->value : NAN, v);
    if (mm->cells[s].suspect)
        gvb_doc_cell(d, GVB_CELL_NUM, "%s (suspect)", v);
    else if (!gvb_msys_claimable(sy) || sy->baseline < 0 || e->verdict == GVB_EFF_UNTESTED)
        gvb_doc_cell(d, GVB_CELL_NUM, "%s", v);
    else if (e->verdict == GVB_EFF_SAME)
        gvb_doc_cell(d, GVB_CELL_NUM, "%s (n.s. %s)", v,
                     detectable(e, mm->unit, ch, sizeof ch));
    else
        gvb_doc_cell(d, GVB_CELL_NUM, "%s (%s, %s)", v, change(e, e->est, mm->unit, ch),
                     verdict_words(e->verdict));
}

static void best_cells(gvb_doc *d, const gvb_model *m, const gvb_mmetric *mm)
{
    const gvb_mpick *p = &mm->best;
    char buf[512];
    switch (p->kind) {
    case GVB_BEST_NONE:
        gvb_doc_cell(d, 0, "-");
        gvb_doc_cell(d, 0, "fewer than two comparable results");
        return;
    case GVB_BEST_PASS: {
        int pass = 0, fail = 0;
        size_t off = 0;
        buf[0] = '\0';
        for (int s = 0; s < m->n_systems; s++) {
            if (!gvb_msys_claimable(&m->systems[s]))
                continue;
            int o = gvb_pass_outcome(mm->cells[s].r);
            pass += o == 1;
            fail += o == 0;
            if (o == 1 && off < sizeof buf)
                off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", off ? ", " : "",
                                        m->systems[s].label);
        }
        if (!fail)
            gvb_doc_cell(d, 0, "all measured pass");
        else if (!pass)
            gvb_doc_cell(d, 0, "none pass");
        else
            gvb_doc_cell(d, GVB_CELL_STRONG, "%s", buf);
        gvb_doc_cell(d, 0, "%s", fail && pass ? "the others fail a check" : "-");
        return;
    }
    case GVB_BEST_CLAIMED:
        gvb_doc_cell(d, GVB_CELL_STRONG, "%s", m->systems[p->best].label);
        gvb_doc_cell(d, 0, "%s vs %s",
                     change_ci(&p->vs_runner_up, mm->unit, buf, sizeof buf),
                     m->systems[p->runner_up].label);
        return;
    case GVB_BEST_SAME:
        gvb_doc_cell(d, 0, "no significant difference");
        gvb_doc_cell(d, 0, "%s vs %s: %s", m->systems[p->best].label, m->systems[p->tied].label,
                     change_ci(&p->vs_tied, mm->unit, buf, sizeof buf));
        return;
    case GVB_BEST_UNTESTED:
        gvb_doc_cell(d, 0, "not testable");
        gvb_doc_cell(d, 0, "%s", p->vs_runner_up.why ? p->vs_runner_up.why : "-");
        return;
    }
}

static void category_tables(gvb_doc *d, const gvb_model *m)
{
    gvb_doc_heading(d, 2, "results", "Results by category");
    gvb_doc_para(d,
                 "Cells hold the primary value (the median of the samples unless the metric "
                 "defines it otherwise). For a system other than native, the parentheses give its "
                 "difference from the native of its run when the %g %% CI excludes no change "
                 "(ratio of the replicates' values as a percentage, or as a factor such as 2.40x; a "
                 "difference in the metric's unit where values can be zero or negative; pp = "
                 "percentage points); n.s. ±X = no significant difference, and none larger than X "
                 "could have been detected by this run; suspect = failed a plausibility check (see "
                 "Validity) and is left out of every claim. Best: the leader, only when it is "
                 "significantly better than every other measured system; Difference: its change "
                 "against the runner-up. Models and INERT systems are labelled and never ranked.",
                 GVB_CLAIM_LEVEL * 100);
    for (size_t c = 0; c < m->n_cats; c++) {
        const gvb_mcat *cat = &m->cats[c];
        char anchor[48];
        snprintf(anchor, sizeof anchor, "cat-%s", cat->name);
        gvb_doc_heading(d, 3, anchor, "%s", gvb_category_title(cat->name));
        gvb_doc_table(d, (size_t)m->n_systems + 3);
        gvb_doc_cell(d, 0, "Metric");
        for (int s = 0; s < m->n_systems; s++)
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", m->systems[s].label);
        gvb_doc_cell(d, 0, "Best");
        gvb_doc_cell(d, 0, "Difference");
        for (size_t k = cat->first; k < cat->first + cat->count; k++) {
            const gvb_mmetric *mm = &m->metrics[k];
            char t[128];
            gvb_doc_cell(d, 0, "%s", metric_label(mm, t, sizeof t));
            for (int s = 0; s < m->n_systems; s++)
                value_cell(d, m, mm, s);
            best_cells(d, m, mm);
        }
        gvb_doc_chart(d, GVB_CHART_CATEGORY, (int)c);
    }
}

/* ---- consistency and tails ---------------------------------------------------------------- */

static void consistency(gvb_doc *d, const gvb_model *m)
{
    gvb_doc_heading(d, 2, "consistency", "Consistency");
    gvb_doc_para(d, "Standard deviation of the samples and, in parentheses, the coefficient of "
                    "variation (stdev / mean, given only where every sample is positive). Descriptive only: no test of dispersion is made, so "
                    "the report claims no system to be more consistent.");
    gvb_doc_table(d, (size_t)m->n_systems + 1);
    gvb_doc_cell(d, 0, "Metric");
    for (int s = 0; s < m->n_systems; s++)
        gvb_doc_cell(d, GVB_CELL_NUM, "%s", m->systems[s].label);
    for (size_t k = 0; k < m->n_metrics; k++) {
        const gvb_mmetric *mm = &m->metrics[k];
        int rows = 0;
        for (int s = 0; s < m->n_systems; s++) {
            const gvb_result *r = ok_res(mm, s);
            rows += r && r->samples.n >= 2 && mm->direction != GVB_PASS;
        }
        if (!rows)
            continue;
        char t[128];
        gvb_doc_cell(d, 0, "%s (%s)", metric_title(mm, t, sizeof t), mm->unit);
        for (int s = 0; s < m->n_systems; s++) {
            const gvb_result *r = ok_res(mm, s);
            gvb_nbuf a;
            if (!r || r->samples.n < 2)
                gvb_doc_cell(d, GVB_CELL_NUM, "-");
            else if (isfinite(r->stats.cv) && r->stats.min > 0)
                gvb_doc_cell(d, GVB_CELL_NUM, "%s (%.1f %%)", gvb_sec_num(r->stats.stdev, a),
                             r->stats.cv * 100);
            else
                gvb_doc_cell(d, GVB_CELL_NUM, "%s (-)", gvb_sec_num(r->stats.stdev, a));
        }
    }
}

static void tails(gvb_doc *d, const gvb_model *m)
{
    gvb_doc_heading(d, 2, "tails", "Tail latency");
    int rows = 0;
    for (size_t k = 0; k < m->n_metrics; k++)
        for (int s = 0; s < m->n_systems; s++) {
            const gvb_result *r = ok_res(&m->metrics[k], s);
            rows += r && gvb_unit_is_time(m->metrics[k].unit) && r->samples.n >= 2;
        }
    if (!rows) {
        gvb_doc_para(d, "No time metric with samples in these results.");
        return;
    }
    gvb_doc_para(d, "Percentiles of the samples of every time metric (linear interpolation; a P99 "
                    "from fewer than 100 samples is close to the maximum).");
    gvb_doc_table(d, 7);
    gvb_doc_cell(d, 0, "Metric");
    gvb_doc_cell(d, 0, "System");
    gvb_doc_cell(d, GVB_CELL_NUM, "n");
    gvb_doc_cell(d, GVB_CELL_NUM, "P50");
    gvb_doc_cell(d, GVB_CELL_NUM, "P95");
    gvb_doc_cell(d, GVB_CELL_NUM, "P99");
    gvb_doc_cell(d, GVB_CELL_NUM, "P95/P50");
    for (size_t k = 0; k < m->n_metrics; k++) {
        const gvb_mmetric *mm = &m->metrics[k];
        if (!gvb_unit_is_time(mm->unit))
            continue;
        for (int s = 0; s < m->n_systems; s++) {
            const gvb_result *r = ok_res(mm, s);
            if (!r || r->samples.n < 2)
                continue;
            gvb_nbuf a, b, c;
            char t[128];
            gvb_doc_cell(d, 0, "%s (%s)", metric_title(mm, t, sizeof t), mm->unit);
            gvb_doc_cell(d, 0, "%s", m->systems[s].label);
            gvb_doc_cell(d, GVB_CELL_NUM, "%zu", r->samples.n);
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_sec_num(r->stats.p50, a));
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_sec_num(r->stats.p95, b));
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_sec_num(r->stats.p99, c));
            if (r->stats.p50 > 0)
                gvb_doc_cell(d, GVB_CELL_NUM, "%.2fx", r->stats.p95 / r->stats.p50);
            else
                gvb_doc_cell(d, GVB_CELL_NUM, "-");
        }
    }
}

/* ---- against native ------------------------------------------------------------------------- */

static void overhead(gvb_doc *d, const gvb_model *m)
{
    gvb_doc_heading(d, 2, "vs-native", "Overhead against native");
    int shown = 0;
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_msys *sy = &m->systems[s];
        if (sy->baseline < 0)
            continue;
        if (!gvb_msys_claimable(sy)) {
            gvb_doc_para(d, "%s: not compared (%s).", sy->label,
                         sy->is_model ? "a model, not a measurement" : "INERT: the layer was not active");
            continue;
        }
        int n = sy->better + sy->worse + sy->same + sy->untested;
        if (!n)
            continue;
        shown++;
        const gvb_msys *b = &m->systems[sy->baseline];
        gvb_doc_heading(d, 3, NULL, "%s against %s", sy->label, b->label);
        gvb_doc_table(d, 6);
        gvb_doc_cell(d, 0, "Metric");
        gvb_doc_cell(d, GVB_CELL_NUM, "%s", b->label);
        gvb_doc_cell(d, GVB_CELL_NUM, "%s", sy->label);
        gvb_doc_cell(d, 0, "Change (%g %% CI)", GVB_CLAIM_LEVEL * 100);
        gvb_doc_cell(d, 0, "Detectable");
        gvb_doc_cell(d, 0, "Verdict");
        for (size_t k = 0; k < m->n_metrics; k++) {
            const gvb_mmetric *mm = &m->metrics[k];
            const gvb_result *a = ok_res(mm, s), *r = ok_res(mm, sy->baseline);
            if (!a || !r)
                continue;
            const gvb_effect *e = &mm->cells[s].vs_base;
            char t[128], ch[160];
            gvb_nbuf x, y;
            gvb_doc_cell(d, 0, "%s", metric_label(mm, t, sizeof t));
            if (mm->direction == GVB_PASS) {
                int o1 = gvb_pass_outcome(r), o2 = gvb_pass_outcome(a);
                gvb_doc_cell(d, GVB_CELL_NUM, "%s", o1 == 1 ? "PASS" : "fails");
                gvb_doc_cell(d, GVB_CELL_NUM, "%s", o2 == 1 ? "PASS" : "fails");
                gvb_doc_cell(d, 0, "-");
                gvb_doc_cell(d, 0, "-");
                gvb_doc_cell(d, 0, "%s", o1 == o2 ? "same outcome" : o2 == 1 ? "passes where native fails" : "fails where native passes");
                continue;
            }
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_sec_num(r->value, x));
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_sec_num(a->value, y));
            if (e->verdict == GVB_EFF_UNTESTED) {
                gvb_doc_cell(d, 0, "-");
                gvb_doc_cell(d, 0, "-");
                gvb_doc_cell(d, 0, "not testable: %s", e->why);
            } else {
                gvb_doc_cell(d, 0, "%s", change_ci(e, mm->unit, ch, sizeof ch));
                gvb_doc_cell(d, 0, "%s", detectable(e, mm->unit, t, sizeof t));
                gvb_doc_cell(d, e->verdict == GVB_EFF_SAME ? 0 : GVB_CELL_STRONG, "%s",
                             verdict_words(e->verdict));
            }
        }
        gvb_doc_para(d,
                     "%s against %s: better on %d, worse on %d, no significant difference on %d, "
                     "not testable on %d.",
                     sy->label, b->label, sy->better, sy->worse, sy->same, sy->untested);
    }
    if (!shown)
        gvb_doc_para(d, "No measured system could be compared with a native run of these results.");
}

/* ---- recommendations ------------------------------------------------------------------------ */

/* IDs of the use case's metrics that system s won (layer_best), or that were used at all (s<0). */
static void uc_metrics(const gvb_model *m, const gvb_usecase *uc, int s, int fails, char *buf,
                       size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < GVB_METRIC_COUNT && off < len; i++) {
        int k = (gvb_catalog[i].uses & uc->flag) ? gvb_model_metric(m, gvb_catalog[i].code) : -1;
        if (k < 0)
            continue;
        const gvb_mmetric *mm = &m->metrics[k];
        int hit;
        if (fails)
            hit = mm->direction == GVB_PASS && gvb_pass_outcome(mm->cells[s].r) == 0;
        else if (s < 0)
            hit = mm->layer_best.kind != GVB_BEST_NONE;
        else if (mm->layer_best.kind == GVB_BEST_PASS)
            hit = gvb_pass_outcome(mm->cells[s].r) == 1;
        else
            hit = mm->layer_best.kind == GVB_BEST_CLAIMED && mm->layer_best.best == s;
        if (hit)
            off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", mm->id);
    }
}

static void recommendations(gvb_doc *d, const gvb_model *m)
{
    gvb_doc_heading(d, 2, "recommendations", "Recommendations by use case");
    if (m->n_cats == 0 || !m->recs) {
        gvb_doc_para(d, "Nothing was measured.");
        return;
    }
    if (m->recs[0].outcome == GVB_REC_NO_LAYER) {
        gvb_doc_para(d, "No measured sharing layer in these results (only native, models or INERT "
                        "systems): there is nothing to choose between.");
        return;
    }
    gvb_doc_para(d, "Each use case is decided from its metrics by the rule in docs/report.md: a "
                    "layer wins a metric when it is significantly better than every other measured "
                    "layer (or passes a check another fails); a layer is recommended only when it "
                    "wins at least one metric, no other layer wins any, and it fails none of the "
                    "use case's checks. Native and models are not candidates.");
    for (size_t i = 0; i < gvb_n_usecases; i++) {
        const gvb_mrec *rc = &m->recs[i];
        const gvb_usecase *uc = rc->uc;
        char ids[256], all[256], list[1024];
        size_t off = 0;
        all[0] = '\0';
        for (size_t j = 0; j < GVB_METRIC_COUNT && off < sizeof all; j++)
            if (gvb_catalog[j].uses & uc->flag)
                off += (size_t)snprintf(all + off, sizeof all - off, "%s%s", off ? ", " : "",
                                        gvb_catalog[j].code);
        switch (rc->outcome) {
        case GVB_REC_NO_LAYER:
            break;
        case GVB_REC_ONE_LAYER:
            if (!rc->used)
                gvb_doc_bullet(d, "%s: not measured (decided by %s).", uc->title, all);
            else
                gvb_doc_bullet(d,
                               "%s: only one layer measured (%s), so no choice is made; against "
                               "native it is better on %d, worse on %d, no significant difference "
                               "on %d of the %d metrics measured%s.",
                               uc->title, m->systems[rc->pick].label, rc->better, rc->worse,
                               rc->same, rc->used,
                               rc->fails[rc->pick] ? ", and it fails a check" : "");
            break;
        case GVB_REC_NO_DATA:
            gvb_doc_bullet(d, "%s: not measured by two layers (decided by %s).", uc->title, all);
            break;
        case GVB_REC_NONE_SIGNIFICANT:
            uc_metrics(m, uc, -1, 0, ids, sizeof ids);
            gvb_doc_bullet(d, "%s: no recommendation: no layer is significantly better than the "
                              "others on the %d metric%s measured (%s).",
                           uc->title, rc->used, rc->used == 1 ? "" : "s", ids);
            break;
        case GVB_REC_PICK:
            uc_metrics(m, uc, rc->pick, 0, ids, sizeof ids);
            if (rc->used == 1)
                gvb_doc_bullet(d, "%s: %s: it wins the one metric measured by two or more layers "
                                  "(%s).",
                               uc->title, m->systems[rc->pick].label, ids);
            else
                gvb_doc_bullet(d, "%s: %s: it wins %d of the %d metrics measured by two or more "
                                  "layers (%s) and no other layer wins any.",
                               uc->title, m->systems[rc->pick].label, rc->wins[rc->pick],
                               rc->used, ids);
            break;
        case GVB_REC_SPLIT:
            off = 0;
            list[0] = '\0';
            for (int s = 0; s < m->n_systems && off < sizeof list; s++) {
                if (rc->wins[s]) {
                    uc_metrics(m, uc, s, 0, ids, sizeof ids);
                    off += (size_t)snprintf(list + off, sizeof list - off, "%s%s wins %s",
                                            off ? "; " : "", m->systems[s].label, ids);
                }
                if (rc->fails[s] && off < sizeof list) {
                    uc_metrics(m, uc, s, 1, ids, sizeof ids);
                    off += (size_t)snprintf(list + off, sizeof list - off, "%s%s fails %s",
                                            off ? "; " : "", m->systems[s].label, ids);
                }
            }
            gvb_doc_bullet(d, "%s: no single choice: %s.", uc->title, list);
            break;
        }
    }
}

int gvb_report_doc(gvb_doc *d, const gvb_model *m)
{
    memset(d, 0, sizeof *d);
    header(d, m);
    summary(d, m);
    promises(d, m);
    gvb_sec_workload(d, m);
    category_tables(d, m);
    consistency(d, m);
    tails(d, m);
    overhead(d, m);
    recommendations(d, m);
    gvb_sec_baseline(d, m);
    gvb_sec_validity(d, m);
    gvb_sec_charts(d, m);
    gvb_sec_methodology(d, m);
    return d->oom ? -1 : 0;
}
