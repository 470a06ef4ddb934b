/* The comparison model (see model.h): merges results files, labels systems, tests every
 * difference with a two-stage bootstrap CI over the replicates, and applies the documented rules for "best", the summaries
 * and the recommendations. Numbers only; the writers word them. Rules: docs/report.md. */
#include "report/model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/claim.h"

/* ---- significance ------------------------------------------------------------------------ */

static void untested(gvb_effect *e, const char *why)
{
    e->verdict = GVB_EFF_UNTESTED;
    e->why = why;
}

void gvb_effect_compute(const gvb_result *a, const gvb_result *b, int paired, gvb_effect *e)
{
    memset(e, 0, sizeof *e);
    e->est = e->lo = e->hi = e->mde = NAN;
    if (!a || !b || a->status != GVB_OK || b->status != GVB_OK)
        return untested(e, "not measured by both");
    if (a->direction == GVB_PASS)
        return untested(e, "pass/fail metric: compared by outcome");
    gvb_claim c;
    switch (gvb_result_claim(a, b, paired, &c)) {
    case GVB_CLAIM_NO_VALUES:
        return untested(e, "the primary value is the metric's own and has no per-replicate "
                           "values to compare");
    case GVB_CLAIM_ONE_REPLICATE:
        /* Process-to-process variation is often far larger than a process's own spread; with
         * one process group per system it is unknown, and any difference may be nothing else */
        return untested(e, gvb_one_replicate_why(a->metric));
    case GVB_CLAIM_NO_INTERVAL:
        return untested(e, "no confidence interval could be computed");
    case GVB_CLAIM_OK:
        break;
    }
    e->n_a = c.na;
    e->n_b = c.nb;
    e->is_ratio = c.is_ratio;
    e->paired = c.paired;
    e->est = c.est;
    e->lo = c.lo;
    e->hi = c.hi;
    e->mde = c.mde;
    if (!c.differs)
        e->verdict = GVB_EFF_SAME;
    else
        e->verdict = ((c.lo > (c.is_ratio ? 1.0 : 0.0)) == (a->direction == GVB_HIGHER))
                         ? GVB_EFF_BETTER
                         : GVB_EFF_WORSE;
}

int gvb_pass_outcome(const gvb_result *r)
{
    if (!r || r->status != GVB_OK || !r->has_value || !isfinite(r->value))
        return -1;
    return r->value == 1.0 ? 1 : 0;
}

double gvb_effect_size(const gvb_effect *e, const gvb_result *b)
{
    if (e->verdict != GVB_EFF_BETTER && e->verdict != GVB_EFF_WORSE)
        return 0;
    if (e->is_ratio)
        return fabs(log(e->est));
    double bm = b ? b->stats.median : NAN, am = bm + e->est;
    double scale = fmax(fabs(am), fabs(bm));
    return scale > 0 && isfinite(scale) ? fabs(e->est) / scale : 0;
}

/* ---- helpers -------------------------------------------------------------------------------- */

int gvb_msys_claimable(const gvb_msys *s) { return !s->is_model && !s->is_inert; }

const char *gvb_category_title(const char *c)
{
    for (int i = 0; i < GVB_CAT_COUNT; i++)
        if (strcmp(gvb_categories[i].name, c) == 0)
            return gvb_categories[i].title;
    return c;
}

int gvb_model_metric(const gvb_model *m, const char *id)
{
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metrics[i].id, id) == 0)
            return (int)i;
    return -1;
}

static const gvb_result *ok_result(const gvb_mmetric *mm, int s)
{
    const gvb_result *r = mm->cells[s].r;
    return r && r->status == GVB_OK ? r : NULL;
}

int gvb_model_paired(const gvb_model *m, int a, int b)
{
    return m->systems[a].file == m->systems[b].file &&
           gvb_run_interleaved(m->inputs[m->systems[a].file].run);
}

/* A result claims may use: measured OK and not suspect. */
static const gvb_result *claim_result(const gvb_mmetric *mm, int s)
{
    return mm->cells[s].suspect ? NULL : ok_result(mm, s);
}

/* System a against system b on one metric. The bootstrap always runs in one order (lower system
 * index first, its own seed) and is inverted for the other, so "a vs b" and "b vs a" anywhere
 * in the report are the same interval seen from either side. */
static void effect_between(const gvb_model *m, const gvb_mmetric *mm, int a, int b, gvb_effect *e)
{
    int lo = a < b ? a : b, hi = a < b ? b : a;
    gvb_effect_compute(claim_result(mm, lo), claim_result(mm, hi), gvb_model_paired(m, lo, hi),
                       e);
    if ((mm->cells[a].suspect || mm->cells[b].suspect) && ok_result(mm, a) && ok_result(mm, b))
        e->why = "a result failed a plausibility check (see Validity)";
    if (lo == a || e->verdict == GVB_EFF_UNTESTED)
        return;
    double est = e->est, l = e->lo, h = e->hi;
    size_t na = e->n_a;
    e->n_a = e->n_b;
    e->n_b = na;
    if (e->is_ratio) {
        e->est = 1 / est;
        e->lo = 1 / h;
        e->hi = 1 / l;
    } else {
        e->est = -est;
        e->lo = -h;
        e->hi = -l;
    }
    if (e->verdict == GVB_EFF_BETTER)
        e->verdict = GVB_EFF_WORSE;
    else if (e->verdict == GVB_EFF_WORSE)
        e->verdict = GVB_EFF_BETTER;
}

static int add_warn(gvb_model *m, gvb_warn_kind kind, int sys, const gvb_result *r,
                    const char *key, double value)
{
    if (m->n_warns == m->cap_warns) {
        size_t cap = m->cap_warns ? m->cap_warns * 2 : 16;
        gvb_mwarn *w = realloc(m->warns, cap * sizeof *w);
        if (!w)
            return -1;
        m->warns = w;
        m->cap_warns = cap;
    }
    gvb_mwarn *w = &m->warns[m->n_warns++];
    w->kind = kind;
    w->sys = sys;
    w->r = r;
    snprintf(w->key, sizeof w->key, "%s", key ? key : "");
    w->value = value;
    return 0;
}

static const char *gpu_name(const gvb_run *r)
{
    const char *s = gvb_kv_text(&r->gpu, "name");
    return s ? s : "";
}

static uint64_t run_seed(const gvb_run *r)
{
    uint64_t seed;
    gvb_config_seed(&r->config, &seed); /* 0 when absent or not a whole number 0..2^64-1 */
    return seed;
}

/* ---- systems ------------------------------------------------------------------------------ */

static int find_sys(const gvb_model *m, int file, const char *name)
{
    for (int i = 0; i < m->n_systems; i++)
        if (m->systems[i].file == file && strcmp(m->systems[i].name, name) == 0)
            return i;
    return -1;
}

static int add_sys(gvb_model *m, int file, const char *name, const gvb_system_record *rec,
                   char *err, size_t errlen)
{
    if (find_sys(m, file, name) >= 0)
        return 0;
    if (m->n_systems >= GVB_MODEL_MAX_SYSTEMS) {
        snprintf(err, errlen, "too many systems to compare (at most %d)", GVB_MODEL_MAX_SYSTEMS);
        return -1;
    }
    gvb_msys *s = &m->systems[m->n_systems++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->kind, sizeof s->kind, "%s", rec ? rec->kind : "?");
    s->file = file;
    s->rec = rec;
    s->baseline = s->top_metric = -1;
    s->is_native = rec ? gvb_kind_is_baseline(rec->kind) : gvb_kind_is_baseline(name);
    s->is_model = (rec && strcmp(rec->kind, "model") == 0) || strcmp(name, "mig-ideal") == 0;
    const char *act = rec ? gvb_kv_text(&rec->activation, "status") : NULL;
    s->is_inert = act && strcmp(act, "INERT") == 0;
    return 0;
}

static void collect_systems(gvb_model *m, char *err, size_t errlen, int *rc)
{
    for (size_t f = 0; f < m->n_inputs && *rc == 0; f++) {
        const gvb_run *run = m->inputs[f].run;
        for (size_t i = 0; i < run->n_systems && *rc == 0; i++)
            *rc = add_sys(m, (int)f, run->systems[i].name, &run->systems[i], err, errlen);
        for (size_t i = 0; i < run->n_results && *rc == 0; i++) {
            const gvb_result *r = &run->results[i];
            *rc = add_sys(m, (int)f, r->system, NULL, err, errlen);
            int s = find_sys(m, (int)f, r->system);
            if (s >= 0 && r->status == GVB_INERT)
                m->systems[s].is_inert = 1;
        }
    }
}

/* The first native goes first (it is the table's "native" column); order otherwise as met. */
static void order_and_label(gvb_model *m)
{
    for (int i = 0; i < m->n_systems; i++) {
        if (!m->systems[i].is_native)
            continue;
        gvb_msys first = m->systems[i];
        memmove(&m->systems[1], &m->systems[0], (size_t)i * sizeof first);
        m->systems[0] = first;
        break;
    }
    for (int i = 0; i < m->n_systems; i++) {
        gvb_msys *s = &m->systems[i];
        int earlier = 0;
        for (int j = 0; j < m->n_systems; j++)
            if (j != i && strcmp(m->systems[j].name, s->name) == 0 && m->systems[j].file < s->file)
                earlier = 1;
        char base[64];
        if (earlier)
            snprintf(base, sizeof base, "%s@%d", s->name, s->file + 1);
        else
            snprintf(base, sizeof base, "%s", s->name);
        snprintf(s->label, sizeof s->label, "%s%s", base,
                 s->is_model ? " (model)" : s->is_inert ? " (INERT)" : "");
    }
    int first_native = m->n_systems > 0 && m->systems[0].is_native ? 0 : -1;
    for (int i = 0; i < m->n_systems; i++) {
        gvb_msys *s = &m->systems[i];
        if (i == first_native)
            continue;
        s->baseline = first_native;
        for (int j = 0; j < m->n_systems; j++)
            if (j != i && m->systems[j].is_native && m->systems[j].file == s->file &&
                !s->is_native) {
                s->baseline = j;
                break;
            }
    }
}

/* ---- metrics ------------------------------------------------------------------------------ */

/* Catalog order: category, then the catalog's own order; unknown IDs after, by name. */
static void metric_key(const gvb_mmetric *mm, int *cat, int *idx)
{
    gvb_category c;
    *cat = gvb_category_parse(mm->category, &c) == 0 ? (int)c : GVB_CAT_COUNT;
    const gvb_metric_def *d = gvb_metric_find(mm->id);
    *idx = d ? (int)d->id : GVB_METRIC_COUNT;
}

static int cmp_mmetric(const void *pa, const void *pb)
{
    const gvb_mmetric *a = pa, *b = pb;
    int ca, ia, cb, ib;
    metric_key(a, &ca, &ia);
    metric_key(b, &cb, &ib);
    if (ca != cb)
        return ca - cb;
    if (strcmp(a->category, b->category) != 0)
        return strcmp(a->category, b->category);
    if (ia != ib)
        return ia - ib;
    return strcmp(a->id, b->id);
}

static int collect_metrics(gvb_model *m)
{
    size_t cap = 0;
    for (size_t f = 0; f < m->n_inputs; f++)
        cap += m->inputs[f].run->n_results;
    m->metrics = calloc(cap ? cap : 1, sizeof *m->metrics);
    if (!m->metrics)
        return -1;
    for (size_t f = 0; f < m->n_inputs; f++) {
        const gvb_run *run = m->inputs[f].run;
        for (size_t i = 0; i < run->n_results; i++) {
            const gvb_result *r = &run->results[i];
            if (gvb_model_metric(m, r->metric) >= 0)
                continue;
            gvb_mmetric *mm = &m->metrics[m->n_metrics++];
            snprintf(mm->id, sizeof mm->id, "%s", r->metric);
            snprintf(mm->name, sizeof mm->name, "%s", r->name);
            snprintf(mm->unit, sizeof mm->unit, "%s", r->unit);
            snprintf(mm->category, sizeof mm->category, "%s", r->category);
            mm->direction = r->direction;
        }
    }
    qsort(m->metrics, m->n_metrics, sizeof *m->metrics, cmp_mmetric);
    for (size_t i = 0; i < m->n_metrics; i++) {
        m->metrics[i].cells = calloc((size_t)m->n_systems, sizeof *m->metrics[i].cells);
        if (!m->metrics[i].cells)
            return -1;
    }
    for (size_t f = 0; f < m->n_inputs; f++) {
        const gvb_run *run = m->inputs[f].run;
        for (size_t i = 0; i < run->n_results; i++) {
            const gvb_result *r = &run->results[i];
            int s = find_sys(m, (int)f, r->system), k = gvb_model_metric(m, r->metric);
            gvb_mcell *c = &m->metrics[k].cells[s];
            if (c->r) {
                if (add_warn(m, GVB_WARN_DUPLICATE, s, r, r->metric, NAN) != 0)
                    return -1;
                continue;
            }
            c->r = r;
            if (r->status >= GVB_OK && r->status <= GVB_INERT)
                m->status_count[r->status]++;
        }
    }
    return 0;
}

/* ---- best system ---------------------------------------------------------------------------- */

/* Is a's primary value better than b's, by the metric's direction? */
static int value_better(gvb_direction d, double a, double b)
{
    return d == GVB_HIGHER ? a > b : a < b;
}

/* The best of the claimable systems accepted by `layers_only`, by the rule of docs/report.md:
 * the leader (best median) is claimed only when its CI against every other candidate excludes
 * the null in its favour. */
static void pick_best(const gvb_model *m, const gvb_mmetric *mm, int layers_only, gvb_mpick *p)
{
    memset(p, 0, sizeof *p);
    p->best = p->runner_up = p->tied = -1;
    p->vs_runner_up.verdict = GVB_EFF_UNTESTED;
    int cand[GVB_MODEL_MAX_SYSTEMS], n = 0;
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_msys *sy = &m->systems[s];
        if (!gvb_msys_claimable(sy) || (layers_only && sy->is_native))
            continue;
        const gvb_result *r = claim_result(mm, s);
        if (r && r->has_value && isfinite(r->value))
            cand[n++] = s;
    }
    if (n < 2)
        return;
    if (mm->direction == GVB_PASS) {
        p->kind = GVB_BEST_PASS;
        return;
    }
    int lead = cand[0];
    for (int i = 1; i < n; i++)
        if (value_better(mm->direction, ok_result(mm, cand[i])->value, ok_result(mm, lead)->value))
            lead = cand[i];
    int runner = -1;
    for (int i = 0; i < n; i++)
        if (cand[i] != lead &&
            (runner < 0 || value_better(mm->direction, ok_result(mm, cand[i])->value,
                                        ok_result(mm, runner)->value)))
            runner = cand[i];
    p->best = lead;
    p->runner_up = runner;
    int all_better = 1, any_same = 0;
    for (int i = 0; i < n; i++) {
        if (cand[i] == lead)
            continue;
        gvb_effect e;
        effect_between(m, mm, lead, cand[i], &e);
        if (cand[i] == runner)
            p->vs_runner_up = e;
        if (e.verdict != GVB_EFF_BETTER)
            all_better = 0;
        if ((e.verdict == GVB_EFF_SAME || e.verdict == GVB_EFF_WORSE) &&
            (p->tied < 0 || cand[i] == runner)) {
            any_same = 1;
            p->tied = cand[i];
            p->vs_tied = e;
        }
    }
    p->kind = all_better ? GVB_BEST_CLAIMED : any_same ? GVB_BEST_SAME : GVB_BEST_UNTESTED;
    if (p->kind != GVB_BEST_CLAIMED)
        p->best = p->kind == GVB_BEST_SAME ? lead : -1;
}

static void compute_effects(gvb_model *m)
{
    for (size_t k = 0; k < m->n_metrics; k++) {
        gvb_mmetric *mm = &m->metrics[k];
        for (int s = 0; s < m->n_systems; s++) {
            gvb_msys *sy = &m->systems[s];
            gvb_mcell *c = &mm->cells[s];
            c->vs_base.verdict = GVB_EFF_UNTESTED;
            c->vs_base.est = c->vs_base.lo = c->vs_base.hi = NAN;
            c->vs_base.why = sy->baseline < 0 ? "no native baseline" : "not a measurement";
            if (sy->baseline < 0 || !gvb_msys_claimable(sy))
                continue;
            const gvb_result *a = ok_result(mm, s), *b = ok_result(mm, sy->baseline);
            effect_between(m, mm, s, sy->baseline, &c->vs_base);
            if (!a || !b)
                continue;
            switch (c->vs_base.verdict) {
            case GVB_EFF_BETTER: sy->better++; break;
            case GVB_EFF_WORSE: sy->worse++; break;
            case GVB_EFF_SAME: sy->same++; break;
            default: sy->untested++; break;
            }
            double size = gvb_effect_size(&c->vs_base, b);
            if (size > 0 &&
                (sy->top_metric < 0 ||
                 size > gvb_effect_size(&m->metrics[sy->top_metric].cells[s].vs_base,
                                        ok_result(&m->metrics[sy->top_metric], sy->baseline))))
                sy->top_metric = (int)k;
        }
        pick_best(m, mm, 0, &mm->best);
        pick_best(m, mm, 1, &mm->layer_best);
    }
}

static int compute_categories(gvb_model *m)
{
    m->cats = calloc(m->n_metrics ? m->n_metrics : 1, sizeof *m->cats);
    if (!m->cats)
        return -1;
    for (size_t k = 0; k < m->n_metrics; k++) {
        gvb_mmetric *mm = &m->metrics[k];
        if (m->n_cats == 0 || strcmp(m->cats[m->n_cats - 1].name, mm->category) != 0) {
            gvb_mcat *c = &m->cats[m->n_cats++];
            snprintf(c->name, sizeof c->name, "%s", mm->category);
            c->first = k;
            c->top_sys = c->top_metric = -1;
        }
        gvb_mcat *c = &m->cats[m->n_cats - 1];
        c->count++;
        if (mm->best.kind == GVB_BEST_CLAIMED)
            c->wins[mm->best.best]++;
        else if (mm->best.kind == GVB_BEST_SAME || mm->best.kind == GVB_BEST_UNTESTED)
            c->no_winner++;
        double top = c->top_sys >= 0 ? gvb_effect_size(
                                           &m->metrics[c->top_metric].cells[c->top_sys].vs_base,
                                           ok_result(&m->metrics[c->top_metric],
                                                     m->systems[c->top_sys].baseline))
                                     : 0;
        for (int s = 0; s < m->n_systems; s++) {
            const gvb_effect *e = &mm->cells[s].vs_base;
            if (e->verdict == GVB_EFF_UNTESTED)
                continue;
            c->compared++;
            if (e->verdict == GVB_EFF_SAME)
                continue;
            c->significant++;
            double size = gvb_effect_size(e, ok_result(mm, m->systems[s].baseline));
            if (size > top) {
                top = size;
                c->top_sys = s;
                c->top_metric = (int)k;
            }
        }
    }
    return 0;
}

/* ---- recommendations ---------------------------------------------------------------------- */

static void recommend(const gvb_model *m, const gvb_usecase *uc, gvb_mrec *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->uc = uc;
    rec->pick = -1;
    int layers = 0, only = -1;
    for (int s = 0; s < m->n_systems; s++)
        if (gvb_msys_claimable(&m->systems[s]) && !m->systems[s].is_native) {
            layers++;
            only = s;
        }
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++) {
        int k = (gvb_catalog[i].uses & uc->flag) ? gvb_model_metric(m, gvb_catalog[i].code) : -1;
        if (k < 0)
            continue;
        const gvb_mmetric *mm = &m->metrics[k];
        for (int s = 0; s < m->n_systems; s++)
            if (gvb_msys_claimable(&m->systems[s]) && !m->systems[s].is_native &&
                mm->direction == GVB_PASS && gvb_pass_outcome(mm->cells[s].r) == 0)
                rec->fails[s]++;
        if (layers == 1) {
            if (!ok_result(mm, only))
                continue;
            rec->used++;
            gvb_eff_verdict v = mm->cells[only].vs_base.verdict;
            rec->better += v == GVB_EFF_BETTER;
            rec->worse += v == GVB_EFF_WORSE;
            rec->same += v == GVB_EFF_SAME;
            continue;
        }
        if (mm->layer_best.kind == GVB_BEST_NONE)
            continue;
        rec->used++;
        if (mm->layer_best.kind == GVB_BEST_CLAIMED)
            rec->wins[mm->layer_best.best]++;
        if (mm->layer_best.kind != GVB_BEST_PASS)
            continue;
        int some_fail = 0;
        for (int s = 0; s < m->n_systems; s++)
            if (gvb_msys_claimable(&m->systems[s]) && !m->systems[s].is_native &&
                gvb_pass_outcome(mm->cells[s].r) == 0)
                some_fail = 1;
        for (int s = 0; some_fail && s < m->n_systems; s++)
            if (gvb_msys_claimable(&m->systems[s]) && !m->systems[s].is_native &&
                gvb_pass_outcome(mm->cells[s].r) == 1)
                rec->wins[s]++;
    }
    if (layers == 0) {
        rec->outcome = GVB_REC_NO_LAYER;
        return;
    }
    if (layers == 1) {
        rec->outcome = GVB_REC_ONE_LAYER;
        rec->pick = only;
        return;
    }
    if (rec->used == 0) {
        rec->outcome = GVB_REC_NO_DATA;
        return;
    }
    int winners = 0, w = -1;
    for (int s = 0; s < m->n_systems; s++)
        if (rec->wins[s] > 0) {
            winners++;
            w = s;
        }
    if (winners == 0)
        rec->outcome = GVB_REC_NONE_SIGNIFICANT;
    else if (winners == 1 && rec->fails[w] == 0) {
        rec->outcome = GVB_REC_PICK;
        rec->pick = w;
    } else
        rec->outcome = GVB_REC_SPLIT;
}

/* ---- validity ------------------------------------------------------------------------------- */

/* Plausibility checks of one result; a result above peak, with a negative time or with
 * identical samples is marked suspect and kept out of every claim. */
static int check_result(gvb_model *m, int s, gvb_mcell *c)
{
    const gvb_result *r = c->r;
    int rc = 0;
    unsigned bad = gvb_result_implausible(r, m->systems[s].is_model);
    c->suspect = bad != 0;
    for (size_t i = 0; (bad & GVB_IMPLAUSIBLE_ABOVE_PEAK) && i < r->extras.n; i++) {
        const gvb_kv_item *it = &r->extras.items[i];
        if (!it->is_text && gvb_key_names_peak(it->key) && it->num > 100)
            rc |= add_warn(m, GVB_WARN_ABOVE_PEAK, s, r, it->key, it->num);
    }
    if (bad & GVB_IMPLAUSIBLE_NEGATIVE_TIME)
        rc |= add_warn(m, GVB_WARN_NEGATIVE_TIME, s, r, "", r->stats.median);
    if (bad & GVB_IMPLAUSIBLE_IDENTICAL)
        rc |= add_warn(m, GVB_WARN_IDENTICAL, s, r, "", r->stats.min);
    if (r->status == GVB_OK && r->samples.n > 0 && r->direction != GVB_PASS && r->samples.n < 5)
        rc |= add_warn(m, GVB_WARN_FEW_SAMPLES, s, r, "", (double)r->samples.n);
    return rc;
}

static int differs(const gvb_model *m, const gvb_kv *(*pick)(const gvb_run *), const char *key)
{
    const gvb_kv_item *a = gvb_kv_get(pick(m->inputs[0].run), key);
    for (size_t f = 1; f < m->n_inputs; f++) {
        const gvb_kv_item *b = gvb_kv_get(pick(m->inputs[f].run), key);
        if (!a != !b)
            return 1;
        if (a && (a->is_text != b->is_text ||
                  (a->is_text ? strcmp(a->text, b->text) != 0 : a->num != b->num)))
            return 1;
    }
    return 0;
}

static const gvb_kv *kv_gpu(const gvb_run *r) { return &r->gpu; }
static const gvb_kv *kv_config(const gvb_run *r) { return &r->config; }

static int check_validity(gvb_model *m)
{
    int rc = 0;
    for (size_t k = 0; k < m->n_metrics; k++)
        for (int s = 0; s < m->n_systems; s++)
            if (m->metrics[k].cells[s].r)
                rc |= check_result(m, s, &m->metrics[k].cells[s]);
    static const struct { const gvb_kv *(*pick)(const gvb_run *); const char *key; } keys[] = {
        {kv_gpu, "driver_version"}, {kv_gpu, "cuda_driver_version"},
        {kv_config, "iterations"},  {kv_config, "warmup"},
        {kv_config, "memory_limit_bytes"}, {kv_config, "compute_limit_pct"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (differs(m, keys[i].pick, keys[i].key))
            rc |= add_warn(m, GVB_WARN_INPUTS_DIFFER, -1, NULL, keys[i].key, NAN);
    return rc;
}

/* ---- promised and delivered ---------------------------------------------------------------- */

int gvb_metric_is_throughput(const char *unit, gvb_direction direction)
{
    size_t n = strlen(unit);
    return direction == GVB_HIGHER &&
           (strstr(unit, "/s") != NULL || (n >= 5 && strcmp(unit + n - 5, "FLOPS") == 0));
}

/* Where a promise is read, the first one found: the metric's record of the limit it measured
 * against, then the system's configuration (calib's own mem= / duty=, which override the
 * run's; a layer's copy of the run's limit), then the run's configuration. */
typedef struct promise_src {
    int where; /* 0: the metric's extra, 1: systems[].config, 2: the run's config */
    const char *key, *from;
} promise_src;

static const promise_src memory_src[] = {
    {0, "limit_bytes", NULL}, /* NULL: "<the promise metric> <key>" */
    {1, "mem_bytes", "systems[].config mem_bytes"},
    {1, "memory_limit_bytes", "systems[].config memory_limit_bytes"},
    {1, "expected_memory_limit_bytes", "systems[].config expected_memory_limit_bytes"},
    {2, "memory_limit_bytes", "config memory_limit_bytes"},
};
static const promise_src compute_src[] = {
    {0, "target_pct", NULL},
    {1, "duty_pct", "systems[].config duty_pct"},
    {1, "sm_limit_pct", "systems[].config sm_limit_pct"},
    {1, "active_thread_pct", "systems[].config active_thread_pct"},
    {1, "compute_limit_pct", "systems[].config compute_limit_pct"},
    {1, "expected_compute_limit_pct", "systems[].config expected_compute_limit_pct"},
    {2, "compute_limit_pct", "config compute_limit_pct"},
};

/* The promise of system s: a number above 0 (and below `below`, where a share of 100 % is no
 * limit) with where it was read in from[0..len), or 0 with from "". */
static double promised(const gvb_model *m, int s, const char *metric, const promise_src *src,
                       size_t n, double below, char *from, size_t len)
{
    const gvb_msys *sy = &m->systems[s];
    int k = gvb_model_metric(m, metric);
    const gvb_result *r = k >= 0 ? m->metrics[k].cells[s].r : NULL;
    const gvb_kv *kv[3] = {r ? &r->extras : NULL, sy->rec ? &sy->rec->config : NULL,
                           &m->inputs[sy->file].run->config};
    from[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const gvb_kv_item *it = kv[src[i].where] ? gvb_kv_get(kv[src[i].where], src[i].key) : NULL;
        if (it && !it->is_text && isfinite(it->num) && it->num > 0 && it->num < below) {
            if (src[i].from)
                snprintf(from, len, "%s", src[i].from);
            else
                snprintf(from, len, "%s %s", metric, src[i].key);
            return it->num;
        }
    }
    return 0;
}

/* d->why = "<id> <text>" (the promise metric's id from the catalog) */
static void why_of(gvb_mdeliv *d, const char *id, const char *text)
{
    snprintf(d->why_text, sizeof d->why_text, "%s %s", id, text);
    d->why = d->why_text;
}

static void deliv_init(gvb_mdeliv *d, int metric, const char *why)
{
    memset(d, 0, sizeof *d);
    d->metric = metric;
    d->kept = GVB_KEPT_UNKNOWN;
    d->est = d->lo = d->hi = NAN;
    d->why = why;
}

/* More or less than `promise` (both in %): by the interval where there is one (wholly above or
 * below it), else by the value, which must be more than GVB_PROMISE_BAND_PP away: a single
 * value has no interval, and 51.5 % for 50 % promised is not evidence of "more". */
static void decide(gvb_mdeliv *d, double promise)
{
    if (!isfinite(d->est))
        d->kept = GVB_KEPT_UNKNOWN;
    else if (d->interval)
        d->kept = d->lo > promise ? GVB_KEPT_MORE : d->hi < promise ? GVB_KEPT_LESS : GVB_KEPT_AS;
    else
        d->kept = d->est > promise + GVB_PROMISE_BAND_PP   ? GVB_KEPT_MORE
                  : d->est < promise - GVB_PROMISE_BAND_PP ? GVB_KEPT_LESS
                                                           : GVB_KEPT_AS;
}

/* The claim rule's interval of r's replicate values against the constant c, each replicate
 * paired with c (a one-sample t interval with R - 1 degrees of freedom), in r's unit. */
static int against_constant(const gvb_result *r, double c, gvb_mdeliv *d)
{
    double v[GVB_CLAIM_MAX], ref[GVB_CLAIM_MAX];
    size_t n = gvb_result_replicate_values(r, v, GVB_CLAIM_MAX);
    gvb_claim cl;
    for (size_t i = 0; i < n; i++)
        ref[i] = c;
    if (n < 2 || gvb_claim_test(v, n, ref, n, 1, GVB_CLAIM_LEVEL, &cl) != 0 ||
        !isfinite(cl.lo) || !isfinite(cl.hi))
        return -1;
    d->est = cl.is_ratio ? cl.est * c : c + cl.est;
    d->lo = cl.is_ratio ? cl.lo * c : c + cl.lo;
    d->hi = cl.is_ratio ? cl.hi * c : c + cl.hi;
    d->interval = 1;
    return 0;
}

/* IS-001: usable memory as % of the promise. Its samples are % of the limit it was given
 * (limit_bytes; files from before that extra: of the run's limit, unless the file names
 * another denominator); otherwise usable_bytes against the promise, by the value. */
static void deliver_memory(const gvb_model *m, gvb_mpromise *p)
{
    gvb_mdeliv *d = &p->memory;
    const char *id = gvb_promise_metric(GVB_PROMISE_MEMORY);
    int k = gvb_model_metric(m, id);
    const gvb_result *r = k >= 0 ? claim_result(&m->metrics[k], p->sys) : NULL;
    p->usable_bytes = NAN;
    deliv_init(d, k, NULL);
    if (!(p->memory_bytes > 0))
        return;
    if (!r || !r->has_value) {
        why_of(d, id, k >= 0 && m->metrics[k].cells[p->sys].suspect
                          ? "failed a plausibility check (see Validity)"
                          : "not measured");
        return;
    }
    double limit = NAN, usable = NAN;
    const gvb_kv_item *it = gvb_kv_get(&r->extras, "limit_bytes");
    if (it && !it->is_text)
        limit = it->num;
    it = gvb_kv_get(&r->extras, "usable_bytes");
    if (it && !it->is_text)
        usable = it->num;
    int of_promise = !isnan(limit) ? limit == p->memory_bytes
                                   : !gvb_kv_get(&r->extras, "denominator");
    if (of_promise) {
        if (against_constant(r, 100, d) != 0) {
            d->est = r->value;
            d->why = gvb_one_replicate_why(r->metric);
        }
        p->usable_bytes = d->est / 100 * p->memory_bytes;
    } else if (isfinite(usable)) {
        p->usable_bytes = usable;
        d->est = 100 * usable / p->memory_bytes;
        why_of(d, id, "was measured against another denominator: usable_bytes by the value");
    } else {
        why_of(d, id, "was measured against another denominator and recorded no usable_bytes");
    }
    decide(d, 100);
}

static int shape_share_name(const char *key)
{
    size_t n = strlen(key), suf = strlen(".share_pct");
    return strncmp(key, "shape.", 6) == 0 && n > 6 + suf && strcmp(key + n - suf, ".share_pct") == 0;
}

/* IS-003: the achieved share. Per kernel shape (extras, else series, named
 * shape.<name>.share_pct) a range min-max; without them, the one share IS-003 achieved with
 * its kernel. IS-003 records no interval of the share, so the values decide. */
static void deliver_compute(const gvb_model *m, gvb_mpromise *p)
{
    gvb_mdeliv *d = &p->compute;
    const char *id = gvb_promise_metric(GVB_PROMISE_COMPUTE);
    int k = gvb_model_metric(m, id);
    const gvb_result *r = k >= 0 ? claim_result(&m->metrics[k], p->sys) : NULL;
    deliv_init(d, k, NULL);
    if (!(p->compute_pct > 0))
        return;
    if (!r) {
        why_of(d, id, "not measured");
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    int n = 0;
    for (size_t i = 0; i < r->extras.n; i++) {
        const gvb_kv_item *it = &r->extras.items[i];
        if (!it->is_text && isfinite(it->num) && shape_share_name(it->key)) {
            lo = fmin(lo, it->num);
            hi = fmax(hi, it->num);
            n++;
        }
    }
    for (size_t i = 0; n == 0 && i < r->n_series; i++)
        if (shape_share_name(r->series[i].name) && r->series[i].n) {
            double v = gvb_median(r->series[i].v, r->series[i].n);
            lo = fmin(lo, v);
            hi = fmax(hi, v);
            n++;
        }
    if (n == 0) {
        static const char *const achieved[] = {"achieved_unsync_pct", "achieved_pct",
                                               "achieved_share_unsync_pct"};
        for (size_t i = 0; i < sizeof achieved / sizeof *achieved && n == 0; i++) {
            const gvb_kv_item *it = gvb_kv_get(&r->extras, achieved[i]);
            if (it && !it->is_text && isfinite(it->num))
                lo = hi = it->num, n = 1;
        }
    }
    static const char *const names[] = {"kernel", "shape", "method"};
    for (size_t i = 0; i < sizeof names / sizeof *names && !p->compute_kernel; i++)
        p->compute_kernel = gvb_kv_text(&r->extras, names[i]);
    p->shapes = n;
    if (n == 0) {
        why_of(d, id, "recorded no achieved share (its value, an accuracy, does not say on "
                      "which side of the promise it lies)");
        return;
    }
    if (n == 1) {
        d->est = lo;
        snprintf(d->why_text, sizeof d->why_text,
                 "one kernel shape measured: no range, and %s records no interval", id);
        d->why = d->why_text;
        decide(d, p->compute_pct);
        return;
    }
    d->lo = lo;
    d->hi = hi;
    d->kept = lo > p->compute_pct   ? GVB_KEPT_MORE
              : hi < p->compute_pct ? GVB_KEPT_LESS
              : lo == hi            ? GVB_KEPT_AS
                                    : GVB_KEPT_MIXED;
}

/* Every throughput metric the system measured under its compute limit, as % of its native:
 * the effect the claim rule computed against that native (its interval), else the ratio of
 * the two values. */
static int deliver_throughput(const gvb_model *m, gvb_mpromise *p)
{
    const gvb_msys *sy = &m->systems[p->sys];
    size_t n = 0;
    for (size_t k = 0; p->compute_pct > 0 && k < m->n_metrics; k++)
        n += gvb_metric_is_throughput(m->metrics[k].unit, m->metrics[k].direction) &&
             ok_result(&m->metrics[k], p->sys);
    if (!n)
        return 0;
    p->tput = calloc(n, sizeof *p->tput);
    if (!p->tput)
        return -1;
    for (size_t k = 0; k < m->n_metrics; k++) {
        const gvb_mmetric *mm = &m->metrics[k];
        const gvb_result *a = ok_result(mm, p->sys);
        if (!gvb_metric_is_throughput(mm->unit, mm->direction) || !a)
            continue;
        gvb_mdeliv *d = &p->tput[p->n_tput++];
        const gvb_effect *e = &mm->cells[p->sys].vs_base;
        const gvb_result *b = sy->baseline >= 0 ? claim_result(mm, sy->baseline) : NULL;
        deliv_init(d, (int)k, NULL);
        if (mm->cells[p->sys].suspect) {
            d->why = "the result failed a plausibility check (see Validity)";
            continue;
        }
        if (!b || !(b->value > 0)) {
            d->why = sy->baseline < 0 ? "no native in these results" : "no native value";
            continue;
        }
        if (e->verdict != GVB_EFF_UNTESTED && e->is_ratio) {
            d->est = 100 * e->est;
            d->lo = 100 * e->lo;
            d->hi = 100 * e->hi;
            d->interval = 1;
        } else {
            d->est = 100 * a->value / b->value;
            d->why = e->why ? e->why : "no interval";
        }
        decide(d, p->compute_pct);
    }
    return 0;
}

static int compute_promises(gvb_model *m)
{
    m->promises = calloc((size_t)m->n_systems + 1, sizeof *m->promises);
    if (!m->promises)
        return -1;
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_msys *sy = &m->systems[s];
        if (sy->is_native || !gvb_msys_claimable(sy))
            continue;
        gvb_mpromise *p = &m->promises[m->n_promises];
        p->sys = s;
        p->memory_bytes = promised(m, s, gvb_promise_metric(GVB_PROMISE_MEMORY), memory_src,
                                   sizeof memory_src / sizeof *memory_src, INFINITY,
                                   p->memory_from, sizeof p->memory_from);
        p->compute_pct = promised(m, s, gvb_promise_metric(GVB_PROMISE_COMPUTE), compute_src,
                                  sizeof compute_src / sizeof *compute_src, 100,
                                  p->compute_from, sizeof p->compute_from);
        if (!(p->memory_bytes > 0) && !(p->compute_pct > 0))
            continue;
        m->n_promises++;
        const gvb_kv_item *ps = sy->rec ? gvb_kv_get(&sy->rec->activation, "compute_share_pct")
                                        : NULL;
        p->proof_share_pct = ps && !ps->is_text && isfinite(ps->num) ? ps->num : NAN;
        p->proof_not_enforced = p->compute_pct > 0 && isfinite(p->proof_share_pct) &&
                                p->proof_share_pct > p->compute_pct + GVB_PROMISE_PROOF_SLACK_PP;
        deliver_memory(m, p);
        deliver_compute(m, p);
        if (deliver_throughput(m, p) != 0)
            return -1;
    }
    return 0;
}

/* ---- baseline comparison ---------------------------------------------------------------------- */

static int compare_baseline(gvb_model *m)
{
    if (!m->baseline)
        return 0;
    m->cmps = calloc(m->n_metrics * (size_t)m->n_systems + 1, sizeof *m->cmps);
    if (!m->cmps)
        return -1;
    for (size_t k = 0; k < m->n_metrics; k++)
        for (int s = 0; s < m->n_systems; s++) {
            const gvb_result *r = m->metrics[k].cells[s].r;
            /* same system name; another system's result only when the baseline file holds a
             * single system (the older tool wrote one file per system) */
            const gvb_result *b = !r                         ? NULL
                                  : m->baseline->n_systems <= 1 ? gvb_compare_match(m->baseline, r)
                                                             : gvb_run_find(m->baseline, r->system,
                                                                            r->metric);
            if (!b)
                continue;
            gvb_mcmp *c = &m->cmps[m->n_cmps++];
            c->sys = s;
            c->metric = (int)k;
            c->base = b;
            gvb_compare_one(r, b, &c->e);
        }
    return 0;
}

/* ---- build ---------------------------------------------------------------------------------- */

int gvb_runs_same_gpu(const gvb_run *const *runs, const char *const *paths, size_t n, char *err,
                      size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "no results files given");
        return -1;
    }
    for (size_t f = 1; f < n; f++)
        if (strcmp(gpu_name(runs[f]), gpu_name(runs[0])) != 0) {
            snprintf(err, errlen,
                     "cannot combine results from different GPU models: '%s' (%s) and '%s' (%s)",
                     *gpu_name(runs[0]) ? gpu_name(runs[0]) : "no GPU", paths[0],
                     *gpu_name(runs[f]) ? gpu_name(runs[f]) : "no GPU", paths[f]);
            return -1;
        }
    return 0;
}

int gvb_model_build(gvb_model *m, const gvb_run *const *runs, const char *const *paths,
                    size_t n, const gvb_run *baseline, const char *baseline_path, char *err,
                    size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (gvb_runs_same_gpu(runs, paths, n, err, errlen) != 0)
        return -1;
    m->inputs = calloc(n, sizeof *m->inputs);
    if (!m->inputs)
        goto oom;
    m->n_inputs = n;
    for (size_t f = 0; f < n; f++) {
        m->inputs[f].run = runs[f];
        snprintf(m->inputs[f].path, sizeof m->inputs[f].path, "%s", paths[f]);
    }
    m->baseline = baseline;
    snprintf(m->baseline_path, sizeof m->baseline_path, "%s", baseline_path ? baseline_path : "");
    m->seed = run_seed(runs[0]);
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++)
        m->catalog_visible += !gvb_metric_hidden(&gvb_catalog[i]);

    int rc = 0;
    collect_systems(m, err, errlen, &rc);
    if (rc != 0) {
        gvb_model_free(m);
        return -1;
    }
    order_and_label(m);
    if (collect_metrics(m) != 0)
        goto oom;
    for (size_t k = 0; k < m->n_metrics; k++)
        for (int s = 0; s < m->n_systems; s++)
            if (ok_result(&m->metrics[k], s)) {
                m->metrics_ok++;
                break;
            }
    if (check_validity(m) != 0)
        goto oom;
    compute_effects(m);
    if (compute_categories(m) != 0)
        goto oom;
    m->recs = calloc(gvb_n_usecases, sizeof *m->recs);
    if (!m->recs)
        goto oom;
    for (size_t i = 0; i < gvb_n_usecases; i++)
        recommend(m, &gvb_usecases[i], &m->recs[i]);
    if (compare_baseline(m) != 0 || compute_promises(m) != 0)
        goto oom;
    return 0;
oom:
    snprintf(err, errlen, "out of memory building the report");
    gvb_model_free(m);
    return -1;
}

void gvb_model_free(gvb_model *m)
{
    for (size_t k = 0; m->metrics && k < m->n_metrics; k++)
        free(m->metrics[k].cells);
    free(m->metrics);
    free(m->cats);
    free(m->recs);
    free(m->warns);
    free(m->cmps);
    for (size_t i = 0; m->promises && i < m->n_promises; i++)
        free(m->promises[i].tput);
    free(m->promises);
    free(m->inputs);
    memset(m, 0, sizeof *m);
}
