/* The comparison model as JSON (`report --format json`), for tools and dashboards: the same
 * decisions the Markdown and HTML reports word, as data. Described in docs/report.md. */
#include <jansson.h>

#include "report/json_util.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/model.h"
#include "stats/claim.h"


static json_t *sys_ref(const gvb_model *m, int s)
{
    return s >= 0 ? json_string(m->systems[s].label) : json_null();
}

static json_t *kv_json(const gvb_kv *kv)
{
    json_t *o = json_object();
    for (size_t i = 0; kv && i < kv->n; i++)
        json_object_set_new(o, kv->items[i].key,
                            kv->items[i].is_text ? json_string(kv->items[i].text)
                                                 : gvb_json_num(kv->items[i].num));
    return o;
}

static json_t *effect_json(const gvb_effect *e)
{
    static const char *const v[] = {"untested", "same", "better", "worse"};
    if (e->verdict == GVB_EFF_UNTESTED)
        return json_pack("{s:s, s:s}", "verdict", v[0], "why", e->why ? e->why : "");
    return json_pack("{s:s, s:s, s:b, s:I, s:I, s:o, s:[o, o], s:f, s:o}", "verdict",
                     v[e->verdict], "method", e->is_ratio ? "ratio" : "difference", "paired",
                     e->paired, "replicates_a", (json_int_t)e->n_a, "replicates_b",
                     (json_int_t)e->n_b, "estimate", gvb_json_num(e->est), "ci",
                     gvb_json_num(e->lo), gvb_json_num(e->hi), "ci_level", GVB_CLAIM_LEVEL,
                     "detectable", gvb_json_num(e->mde));
}

static json_t *pick_json(const gvb_model *m, const gvb_mpick *p)
{
    static const char *const k[] = {"none", "claimed", "no_significant_difference", "untested",
                                    "pass_fail"};
    json_t *o = json_pack("{s:s}", "kind", k[p->kind]);
    if (p->kind == GVB_BEST_CLAIMED) {
        json_object_set_new(o, "system", sys_ref(m, p->best));
        json_object_set_new(o, "runner_up", sys_ref(m, p->runner_up));
        json_object_set_new(o, "vs_runner_up", effect_json(&p->vs_runner_up));
    } else if (p->kind == GVB_BEST_SAME) {
        json_object_set_new(o, "leader", sys_ref(m, p->best));
        json_object_set_new(o, "tied_with", sys_ref(m, p->tied));
        json_object_set_new(o, "leader_vs_tied", effect_json(&p->vs_tied));
    }
    return o;
}

static json_t *counts_json(const gvb_model *m, const int *c)
{
    json_t *o = json_object();
    for (int s = 0; s < m->n_systems; s++)
        if (c[s])
            json_object_set_new(o, m->systems[s].label, json_integer(c[s]));
    return o;
}

static json_t *systems_json(const gvb_model *m)
{
    json_t *a = json_array();
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_msys *sy = &m->systems[s];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:i, s:b, s:b, s:b, s:o, s:o, s:o, s:{s:i, s:i, s:i, "
                         "s:i}}",
                         "label", sy->label, "name", sy->name, "kind", sy->kind, "file",
                         sy->file + 1, "native", sy->is_native, "model", sy->is_model, "inert",
                         sy->is_inert, "baseline", sys_ref(m, sy->baseline), "config",
                         kv_json(sy->rec ? &sy->rec->config : NULL), "activation",
                         kv_json(sy->rec ? &sy->rec->activation : NULL), "vs_baseline",
                         "better", sy->better, "worse", sy->worse, "same", sy->same, "untested",
                         sy->untested));
    }
    return a;
}

static json_t *metrics_json(const gvb_model *m)
{
    json_t *a = json_array();
    for (size_t k = 0; k < m->n_metrics; k++) {
        const gvb_mmetric *mm = &m->metrics[k];
        json_t *cells = json_array();
        for (int s = 0; s < m->n_systems; s++) {
            const gvb_result *r = mm->cells[s].r;
            if (!r)
                continue;
            double lo, hi;
            gvb_result_ci(r, &lo, &hi);
            json_array_append_new(
                cells, json_pack("{s:s, s:s, s:s, s:o, s:I, s:[o, o], s:o}", "system",
                                 m->systems[s].label, "status", gvb_status_name(r->status),
                                 "reason", r->reason, "value",
                                 r->has_value ? gvb_json_num(r->value) : json_null(), "n",
                                 (json_int_t)r->samples.n, "ci95_median", gvb_json_num(lo),
                                 gvb_json_num(hi), "vs_baseline",
                                 effect_json(&mm->cells[s].vs_base)));
        }
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", mm->id, "name",
                         mm->name, "category", mm->category, "unit", mm->unit, "direction",
                         gvb_direction_name(mm->direction), "cells", cells, "best",
                         pick_json(m, &mm->best), "best_layer", pick_json(m, &mm->layer_best)));
    }
    return a;
}

static json_t *categories_json(const gvb_model *m)
{
    json_t *a = json_array();
    for (size_t c = 0; c < m->n_cats; c++) {
        const gvb_mcat *cat = &m->cats[c];
        json_t *largest = cat->top_sys < 0
                              ? json_null()
                              : json_pack("{s:o, s:s}", "system", sys_ref(m, cat->top_sys),
                                          "metric", m->metrics[cat->top_metric].id);
        json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:o, s:o, s:i}", "name", cat->name,
                                           "compared", cat->compared, "significant",
                                           cat->significant, "largest", largest, "wins",
                                           counts_json(m, cat->wins), "no_winner",
                                           cat->no_winner));
    }
    return a;
}

static json_t *recs_json(const gvb_model *m)
{
    static const char *const o[] = {"no_layer", "one_layer", "no_data", "pick", "split",
                                    "none_significant"};
    json_t *a = json_array();
    for (size_t i = 0; m->recs && i < gvb_n_usecases; i++) {
        const gvb_mrec *r = &m->recs[i];
        json_t *ids = json_array();
        for (size_t j = 0; j < GVB_METRIC_COUNT; j++)
            if (gvb_catalog[j].uses & r->uc->flag)
                json_array_append_new(ids, json_string(gvb_catalog[j].code));
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:o, s:s, s:o, s:i, s:o, s:o}", "use_case", r->uc->id,
                         "title", r->uc->title, "metrics", ids, "outcome", o[r->outcome],
                         "system", sys_ref(m, r->pick), "metrics_used", r->used, "wins",
                         counts_json(m, r->wins), "fails", counts_json(m, r->fails)));
    }
    return a;
}

static json_t *warns_json(const gvb_model *m)
{
    static const char *const k[] = {"above_peak",   "negative_time", "identical_samples",
                                    "few_samples",  "duplicate",     "inputs_differ"};
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_warns; i++) {
        const gvb_mwarn *w = &m->warns[i];
        json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:s, s:o}", "kind", k[w->kind],
                                           "system", sys_ref(m, w->sys), "metric",
                                           w->r ? json_string(w->r->metric) : json_null(), "key",
                                           w->key, "value", gvb_json_num(w->value)));
    }
    return a;
}

static json_t *compare_json(const gvb_model *m)
{
    if (!m->baseline)
        return json_null();
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_cmps; i++) {
        const gvb_mcmp *c = &m->cmps[i];
        json_array_append_new(
            a, json_pack("{s:s, s:o, s:s, s:s, s:o, s:[o, o], s:f, s:o, s:s}", "metric",
                         m->metrics[c->metric].id, "system", sys_ref(m, c->sys),
                         "baseline_system", c->base->system, "method",
                         c->e.is_ratio ? "ratio" : "difference", "estimate",
                         gvb_json_num(c->e.ratio), "ci", gvb_json_num(c->e.lo),
                         gvb_json_num(c->e.hi), "ci_level", GVB_CLAIM_LEVEL, "detectable",
                         gvb_json_num(c->e.mde), "label", gvb_cmp_label_name(c->e.label)));
    }
    return json_pack("{s:s, s:o}", "file", m->baseline_path, "metrics", a);
}

static json_t *deliv_json(const gvb_model *m, const gvb_mdeliv *d, int range)
{
    static const char *const kept[] = {"unknown", "less", "as_promised", "more", "mixed"};
    json_t *o = json_pack("{s:o, s:s, s:o}", "metric",
                          d->metric >= 0 ? json_string(m->metrics[d->metric].id) : json_null(),
                          "kept", kept[d->kept], "why", d->why ? json_string(d->why) : json_null());
    json_object_set_new(o, range ? "range_pct" : "delivered_pct",
                        range ? json_pack("[o, o]", gvb_json_num(d->lo), gvb_json_num(d->hi))
                              : gvb_json_num(d->est));
    json_object_set_new(o, "ci", d->interval ? json_pack("[o, o]", gvb_json_num(d->lo),
                                                         gvb_json_num(d->hi))
                                             : json_null());
    return o;
}

/* "Promised and delivered": per system with a limit, the promises and what was delivered. */
static json_t *promises_json(const gvb_model *m)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_promises; i++) {
        const gvb_mpromise *p = &m->promises[i];
        json_t *mem = json_null(), *cpu = json_null(), *tput = json_array();
        if (p->memory_bytes > 0) {
            mem = deliv_json(m, &p->memory, 0);
            json_object_set_new(mem, "promised_bytes", gvb_json_num(p->memory_bytes));
            json_object_set_new(mem, "promised_from", json_string(p->memory_from));
            json_object_set_new(mem, "usable_bytes", gvb_json_num(p->usable_bytes));
        }
        if (p->compute_pct > 0) {
            cpu = deliv_json(m, &p->compute, p->shapes >= 2);
            json_object_set_new(cpu, "promised_pct", gvb_json_num(p->compute_pct));
            json_object_set_new(cpu, "promised_from", json_string(p->compute_from));
            json_object_set_new(cpu, "shapes", json_integer(p->shapes));
            if (p->shapes >= 2) {
                json_object_set_new(cpu, "farthest_shape", json_string(p->worst_shape));
                json_object_set_new(cpu, "farthest_pp", gvb_json_num(p->worst_pp));
                json_t *ne = json_array(); /* shapes more than 10 pp above the promise */
                for (const char *s = p->unenforced; *s;) {
                    size_t n = strcspn(s, ",");
                    json_array_append_new(ne, json_stringn(s, n));
                    s += n;
                    s += strspn(s, ", ");
                }
                json_object_set_new(cpu, "not_enforced_shapes", ne);
            }
            json_object_set_new(cpu, "kernel", p->compute_kernel ? json_string(p->compute_kernel)
                                                                 : json_null());
            json_object_set_new(cpu, "proof_share_pct", gvb_json_num(p->proof_share_pct));
            json_object_set_new(cpu, "proof_not_enforced", json_boolean(p->proof_not_enforced));
        }
        for (size_t t = 0; t < p->n_tput; t++) {
            json_t *o = deliv_json(m, &p->tput[t], 0);
            json_object_set_new(o, "promised_pct", gvb_json_num(p->compute_pct));
            json_array_append_new(tput, o);
        }
        json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o}", "system", sys_ref(m, p->sys),
                                           "memory", mem, "compute", cpu,
                                           "throughput_of_native", tput));
    }
    return a;
}

int gvb_report_write_json(FILE *f, const gvb_model *m)
{
    json_t *inputs = json_array();
    for (size_t i = 0; i < m->n_inputs; i++) {
        const gvb_run *r = m->inputs[i].run;
        json_array_append_new(inputs, json_pack("{s:s, s:s, s:s, s:s}", "path",
                                                m->inputs[i].path, "started_at", r->started_at,
                                                "finished_at", r->finished_at, "tool_version",
                                                r->tool_version));
    }
    json_t *root = json_pack(
        "{s:s, s:i, s:o, s:o, s:{s:i, s:i, s:i, s:i}, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o}",
        "tool", "gpu-virt-bench", "report_version", 1, "inputs", inputs, "gpu",
        kv_json(m->n_inputs ? &m->inputs[0].run->gpu : NULL), "status_count", "OK",
        m->status_count[GVB_OK], "SKIP", m->status_count[GVB_SKIP], "FAIL",
        m->status_count[GVB_FAIL], "INERT", m->status_count[GVB_INERT], "metrics_ok",
        m->metrics_ok, "catalog_metrics", m->catalog_visible, "systems", systems_json(m),
        "metrics", metrics_json(m), "categories", categories_json(m), "recommendations",
        recs_json(m), "warnings", warns_json(m), "compare", compare_json(m), "promises", promises_json(m));
    return gvb_json_dump(f, root);
}
