/* The comparison model (see model.h): merges results files, labels systems, tests every
 * difference by the claim rule (stats/claim.c) on the replicates, and applies the documented
 * rules for "best", the summaries and the recommendations (the promises: model_promises.c).
 * Numbers only; the writers word them. Rules: docs/report.md. */
#include "report/model.h"

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
    gvb_claim_outcome o = gvb_result_claim(a, b, paired, &c);
    if (o != GVB_CLAIM_OK)
        return untested(e, gvb_claim_why(o, a->metric));
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
    gvb_category k;
    return gvb_category_parse(c, &k) == 0 ? gvb_categories[k].title : c;
}

int gvb_model_metric(const gvb_model *m, const char *id)
{
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metrics[i].id, id) == 0)
            return (int)i;
    return -1;
}

const gvb_result *gvb_model_ok_result(const gvb_mmetric *mm, int s)
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
const gvb_result *gvb_model_claim_result(const gvb_mmetric *mm, int s)
{
    return mm->cells[s].suspect ? NULL : gvb_model_ok_result(mm, s);
}

/* System a against system b on one metric. The bootstrap always runs in one order (lower system
 * index first, its own seed) and is inverted for the other, so "a vs b" and "b vs a" anywhere
 * in the report are the same interval seen from either side. */
static void effect_between(const gvb_model *m, const gvb_mmetric *mm, int a, int b, gvb_effect *e)
{
    int lo = a < b ? a : b, hi = a < b ? b : a;
    gvb_effect_compute(gvb_model_claim_result(mm, lo), gvb_model_claim_result(mm, hi), gvb_model_paired(m, lo, hi),
                       e);
    if ((mm->cells[a].suspect || mm->cells[b].suspect) && gvb_model_ok_result(mm, a) && gvb_model_ok_result(mm, b))
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
        const gvb_result *r = gvb_model_claim_result(mm, s);
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
        if (value_better(mm->direction, gvb_model_ok_result(mm, cand[i])->value, gvb_model_ok_result(mm, lead)->value))
            lead = cand[i];
    int runner = -1;
    for (int i = 0; i < n; i++)
        if (cand[i] != lead &&
            (runner < 0 || value_better(mm->direction, gvb_model_ok_result(mm, cand[i])->value,
                                        gvb_model_ok_result(mm, runner)->value)))
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
            const gvb_result *a = gvb_model_ok_result(mm, s), *b = gvb_model_ok_result(mm, sy->baseline);
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
                                        gvb_model_ok_result(&m->metrics[sy->top_metric], sy->baseline))))
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
                                           gvb_model_ok_result(&m->metrics[c->top_metric],
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
            double size = gvb_effect_size(e, gvb_model_ok_result(mm, m->systems[s].baseline));
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
            if (!gvb_model_ok_result(mm, only))
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
 * identical samples is marked suspect and kept out of every claim; so is one whose unit is not
 * its metric's, the first file's (a workload's figure named differently by --metric-name:
 * another program's figure, no comparison). */
static int check_result(gvb_model *m, int s, const gvb_mmetric *mm, gvb_mcell *c)
{
    const gvb_result *r = c->r;
    int rc = 0;
    unsigned bad = gvb_result_implausible(r, m->systems[s].is_model);
    c->suspect = bad != 0;
    if (strcmp(r->unit, mm->unit) != 0) {
        c->suspect = 1;
        rc |= add_warn(m, GVB_WARN_UNIT_DIFFERS, s, r, mm->unit, NAN);
    }
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
                rc |= check_result(m, s, &m->metrics[k], &m->metrics[k].cells[s]);
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
            if (gvb_model_ok_result(&m->metrics[k], s)) {
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
    if (compare_baseline(m) != 0 || gvb_model_promises(m) != 0)
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
