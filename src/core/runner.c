/* The runner (see runner.h). */
#include "core/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/handoff.h"
#include "core/monitor.h"
#include "core/protocol.h"
#include "core/sanitize.h"
#include "core/spawn.h"
#include "core/worker.h"

/* Where a group's worker stderr lines go: the run's hook, with --verbose only. */
#define GVB_GROUP_LOG(rn)                                                                        \
    .on_log = (rn)->opts->verbose ? (rn)->hooks.on_worker_log : NULL, .log_ctx = (rn)->hooks.ctx

/* ---- metrics ------------------------------------------------------------------------- */

typedef struct metric_ctx {
    gvb_runner *rn;
    gvb_system *sys;
    const gvb_metric_def *m;
    gvb_result *r;
    gvb_series *per_tenant;
    int tenants;
    int replicate; /* 0-based */
    double deadline_s;
    uint64_t seed;
} metric_ctx;

static int push_arg(char ***argv, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int push_arg(char ***argv, int *n, const char *fmt, ...)
{
    char **a = realloc(*argv, (size_t)(*n + 2) * sizeof *a);
    if (!a)
        return -1;
    *argv = a;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&a[*n], fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    a[++*n] = NULL;
    return 0;
}

/* A tenant's environment: the system's edit, then the user's --env entries for it. */
static int system_env(gvb_system *sys, int i, int tenants, gvb_env *env)
{
    if (sys->ops->tenant_env && sys->ops->tenant_env(sys, i, tenants, env) != 0)
        return -1;
    return gvb_system_apply_extra_env(sys, env);
}

static int build_metric_tenant(void *vctx, int i, char ***argv, gvb_env *env)
{
    metric_ctx *c = vctx;
    const gvb_options *o = c->rn->opts;
    gvb_worker w = {.metric = c->m, .tenant = i, .tenants = c->tenants,
                    .iterations = gvb_metric_iterations(o, c->m),
                    .replicates = gvb_metric_replicates(o, c->m),
                    .replicate = c->replicate, .deadline_s = c->deadline_s, .warmup = o->warmup,
                    .min_time_s = o->min_time_s, .seed = c->seed + (uint64_t)i, .quick = o->quick};
    snprintf(w.system, sizeof w.system, "%s", c->sys->name);
    snprintf(w.kind, sizeof w.kind, "%s", gvb_system_kind(c->sys));
    snprintf(w.workload, sizeof w.workload, "%s", o->workload);
    gvb_system_limits(c->sys, &w.memory_limit, &w.compute_limit);
    static const char *const prefix[] = {"gpu-virt-bench", "__worker", NULL};
    if (gvb_handoff_encode(&w, prefix, argv) != 0)
        return -1;
    return system_env(c->sys, i, c->tenants, env);
}

static void metric_msg(void *vctx, int t, const gvb_msg *m)
{
    metric_ctx *c = vctx;
    char name[160];
    if (m->name && c->tenants > 1)
        snprintf(name, sizeof name, "t%d.%s", t, m->name);
    else if (m->name)
        snprintf(name, sizeof name, "%s", m->name);
    switch (m->type) {
    case GVB_MSG_SAMPLE: gvb_series_push(&c->per_tenant[t], m->value); break;
    case GVB_MSG_SERIES: {
        gvb_series *s = gvb_result_series(c->r, name);
        if (s)
            gvb_series_push(s, m->value);
        break;
    }
    case GVB_MSG_EXTRA: gvb_kv_set_num(&c->r->extras, name, m->value); break;
    case GVB_MSG_TEXT: gvb_kv_set_text(&c->r->extras, name, "%s", m->text); break;
    case GVB_MSG_VALUE:
        c->r->value = m->value;
        c->r->has_value = 1;
        break;
    default: break;
    }
}

static void fill_identity(gvb_result *r, const gvb_metric_def *m, const gvb_system *s, int tenants)
{
    snprintf(r->metric, sizeof r->metric, "%s", m->code);
    snprintf(r->name, sizeof r->name, "%s", m->name);
    snprintf(r->unit, sizeof r->unit, "%s", m->unit);
    snprintf(r->category, sizeof r->category, "%s", gvb_category_name(m->category));
    snprintf(r->system, sizeof r->system, "%s", s->name);
    r->direction = m->direction;
    r->tenants = tenants;
}

static void set_status(gvb_result *r, gvb_status s, const char *reason)
{
    r->status = s;
    snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
}

/* How a tenant ended, as the text extra t<i>.exit (metrics that tolerate tenant deaths). */
static void record_exit(gvb_result *r, const gvb_tenant *t, int i)
{
    char key[32];
    snprintf(key, sizeof key, "t%d.exit", i);
    char how[96];
    gvb_wait_words(t->wstatus, how, sizeof how);
    if (!t->exited)
        gvb_kv_set_text(&r->extras, key, "not reaped");
    else
        gvb_kv_set_text(&r->extras, key, "%s%s", how,
                        WIFSIGNALED(t->wstatus) && t->killed ? ", sent by the runner" : "");
}

/* The memory limit a layer's tenants got (the hand-off's, gvb_system_limits), in the result
 * before reduce: the parent's own fact, so no metric sends it back. The baseline applies
 * none. */
static void record_limits(gvb_system *sys, gvb_result *r)
{
    uint64_t memory;
    int compute;
    gvb_system_limits(sys, &memory, &compute);
    if (memory > 0 && !gvb_kind_is_baseline(gvb_system_kind(sys)))
        gvb_kv_set_num(&r->extras, "limit_bytes", (double)memory);
}

/* The unhooked monitor runs in every replicate of the GPU metrics whose value reads it
 * (impl->monitor: the workloads' memory and SM use among them) and in the first replicate of
 * the other multi-tenant GPU metrics, where it is ground truth for the report only (its start
 * costs a process and NVML's init per group).
 * GVB_MONITOR=1 in the environment: during every metric and replicate (diagnostics, tests). */
static int wants_monitor(const gvb_system *sys, const gvb_metric_def *m, int tenants,
                         int replicate)
{
    const char *all = getenv("GVB_MONITOR");
    if (all && strcmp(all, "1") == 0)
        return 1;
    return sys->ops->needs_gpu && (m->requires & GVB_REQ_GPU) &&
           (m->impl->monitor || (tenants > 1 && replicate == 0));
}

/* One replicate (0-based index `replicate`): one complete run of the tenant group in fresh
 * processes (with its own monitor when monitored), into r, which holds only this replicate. */
static void measure_once(gvb_runner *rn, gvb_system *sys, const gvb_metric_def *m,
                         const gvb_run *run, int replicate, gvb_result *r)
{
    const gvb_options *o = rn->opts;
    int n = r->tenants;
    metric_ctx c = {.rn = rn, .sys = sys, .m = m, .r = r, .tenants = n, .replicate = replicate,
                    .seed = gvb_seed_mix(gvb_seed_mix(o->seed, sys->name), m->code)};
    c.per_tenant = calloc((size_t)n, sizeof *c.per_tenant);
    gvb_tenant *ts = calloc((size_t)n, sizeof *ts);
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    if (!c.per_tenant || !ts || !pids) {
        set_status(r, GVB_FAIL, "out of memory");
        free(c.per_tenant);
        free(ts);
        free(pids);
        return;
    }
    double deadline = o->deadline_s > 0 ? o->deadline_s
                      : m->impl->deadline_s > 0 ? m->impl->deadline_s
                                                : GVB_DEFAULT_DEADLINE_S;
    c.deadline_s = deadline;
    gvb_group g = {.n = n, .t = ts, .deadline_s = deadline, .on_msg = metric_msg,
               .ctx = &c, .exe = rn->self_exe, .base_env = rn->base_env, GVB_GROUP_LOG(rn), .system = sys->name, .metric = m->code};
    int monitored = wants_monitor(sys, m, n, replicate);
    gvb_monitor mon;
    /* energy (the workloads): the GPU's counter around the whole group, read by the hold */
    double e0 = NAN, e1 = NAN;
    int energy = m->impl->energy && rn->hold && gvb_monitor_energy(rn->hold, &e0) == 0;
    double t0 = gvb_now();
    if (monitored)
        gvb_monitor_start(&mon, rn->self_exe, rn->base_env, gvb_kv_text(&run->gpu, "uuid"));
    if (gvb_group_run(&g, build_metric_tenant, &c) != 0) {
        set_status(r, GVB_FAIL, ts[0].reason[0] ? ts[0].reason : "cannot start tenant processes");
    } else {
        gvb_status worst = GVB_OK;
        char reason[512] = "";
        for (int i = 0; i < n; i++) {
            char why[512];
            if (m->impl->tolerate_tenant_death)
                record_exit(r, &ts[i], i);
            gvb_status s = gvb_tenant_outcome(&g, &ts[i], i, why, sizeof why,
                                          m->impl->tolerate_tenant_death);
            if (gvb_status_severity(s) > gvb_status_severity(worst)) {
                worst = s;
                if (n > 1 && strncmp(why, "tenant ", 7) != 0)
                    snprintf(reason, sizeof reason, "tenant %d: %s", i, why);
                else
                    snprintf(reason, sizeof reason, "%s", why);
            }
        }
        set_status(r, worst, reason);
    }
    r->wall_s = gvb_now() - t0;
    if (energy && gvb_monitor_energy(rn->hold, &e1) == 0 && e1 >= e0) {
        gvb_kv_set_num(&r->extras, "energy_j", e1 - e0);
        gvb_series *es = gvb_result_series(r, "energy_j");
        if (es)
            gvb_series_push(es, e1 - e0);
    }
    for (int i = 0; i < n; i++) {
        char key[32];
        pids[i] = ts[i].pid;
        snprintf(key, sizeof key, n > 1 ? "t%d.pid" : "pid", i);
        if (ts[i].pid > 0)
            gvb_kv_set_num(&r->extras, key, ts[i].pid);
    }
    if (monitored) /* the monitor's series are there before reduce */
        gvb_monitor_finish(&mon, pids, n, t0, r);
    record_limits(sys, r);
    if (m->impl->reduce) {
        m->impl->reduce(r, c.per_tenant, n);
    } else {
        for (int i = 0; i < n; i++)
            for (size_t k = 0; k < c.per_tenant[i].n; k++)
                gvb_series_push(&r->samples, c.per_tenant[i].v[k]);
    }
    if (r->status == GVB_OK && r->samples.n == 0 && !r->has_value && !m->impl->cross_system)
        set_status(r, GVB_FAIL, "the metric produced no samples");
    if (r->status != GVB_OK)
        r->has_value = 0; /* no number for a metric that did not complete */
    for (int i = 0; i < n; i++)
        gvb_series_free(&c.per_tenant[i]);
    free(c.per_tenant);
    free(ts);
    free(pids);
}

/* ---- replicates ------------------------------------------------------------------------ */

/* A fresh result for one replicate, with r's identity. */
static void replicate_init(gvb_result *rr, const gvb_result *r)
{
    memset(rr, 0, sizeof *rr);
    snprintf(rr->metric, sizeof rr->metric, "%s", r->metric);
    snprintf(rr->name, sizeof rr->name, "%s", r->name);
    snprintf(rr->unit, sizeof rr->unit, "%s", r->unit);
    snprintf(rr->category, sizeof rr->category, "%s", r->category);
    snprintf(rr->system, sizeof rr->system, "%s", r->system);
    rr->direction = r->direction;
    rr->tenants = r->tenants;
    rr->value = NAN;
}

/* Adds replicate k (0-based) of `total` to r: its samples are appended and their count
 * recorded in replicate_sizes; its extra series are appended to r's of the same name; its
 * extras overwrite r's (so r keeps the last replicate's pids and texts); its value (the one
 * the metric set, else its samples' median) goes into `values`; its status counts when it is
 * worse than r's, a FAIL naming the replicate. */
static void replicate_merge(gvb_result *r, const gvb_result *rr, int k, int total,
                            gvb_series *values, int *metric_set_value)
{
    for (size_t i = 0; i < rr->samples.n; i++)
        gvb_series_push(&r->samples, rr->samples.v[i]);
    gvb_series_push(&r->replicate_sizes, (double)rr->samples.n);
    for (size_t i = 0; i < rr->n_series; i++) {
        gvb_series *s = gvb_result_series(r, rr->series[i].name);
        for (size_t j = 0; s && j < rr->series[i].n; j++)
            gvb_series_push(s, rr->series[i].v[j]);
    }
    for (size_t i = 0; i < rr->extras.n; i++) {
        const gvb_kv_item *it = &rr->extras.items[i];
        if (it->is_text)
            gvb_kv_set_text(&r->extras, it->key, "%s", it->text ? it->text : "");
        else
            gvb_kv_set_num(&r->extras, it->key, it->num);
    }
    r->wall_s += rr->wall_s;
    if (rr->status == GVB_OK) {
        if (rr->has_value) {
            *metric_set_value = 1;
            gvb_series_push(values, rr->value);
        } else if (rr->samples.n > 0) {
            gvb_series_push(values, gvb_median(rr->samples.v, rr->samples.n));
        }
    }
    if (gvb_status_severity(rr->status) > gvb_status_severity(r->status)) {
        if (rr->status == GVB_FAIL && total > 1 && !gvb_stop_requested) {
            char why[sizeof r->reason];
            snprintf(why, sizeof why, "replicate %d: %s", k + 1, rr->reason);
            set_status(r, rr->status, why);
        } else {
            set_status(r, rr->status, rr->reason);
        }
    }
}

/* The primary value over replicates, for metrics that set one themselves: the median of the
 * replicates' values (pass/fail metrics: the lowest, so one failing replicate fails). */
static void replicate_value(gvb_result *r, const gvb_series *values)
{
    gvb_series *rv = gvb_result_series(r, "replicate_values");
    for (size_t i = 0; rv && i < values->n; i++)
        gvb_series_push(rv, values->v[i]);
    if (values->n == 0)
        return;
    double v = gvb_median(values->v, values->n);
    if (r->direction == GVB_PASS)
        for (size_t i = 0; i < values->n; i++)
            v = i == 0 || values->v[i] < v ? values->v[i] : v;
    r->value = v;
    r->has_value = 1;
}

/* A multi-GPU metric's 1-GPU test mode is on: the metric decides itself. */
static int single_gpu_test_mode(void)
{
    static const char *const vars[] = {GVB_ENV_NCCL_ALLOW_SINGLE, GVB_ENV_LLM_TP_SAME_GPU};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && strcmp(v, "1") == 0)
            return 1;
    }
    return 0;
}

/* Why a metric cannot run on this system here, or NULL. A multi-GPU metric on a machine
 * whose probe saw fewer than 2 GPUs is decided here, without starting a tenant (a system's
 * environment can hide GPUs from its tenants, never add any). */
static const char *precheck(gvb_system *sys, const gvb_metric_def *m, const gvb_run *run,
                            char *why, size_t len)
{
    if (!gvb_metric_implemented(m))
        return "not implemented";
    const gvb_kv_item *count = gvb_kv_get(&run->gpu, "gpu_count");
    if ((m->requires & GVB_REQ_MULTI_GPU) && count && !count->is_text && count->num < 2 &&
        !single_gpu_test_mode()) {
        snprintf(why, len, "needs >= 2 GPUs; this machine has %.0f", count->num);
        return why;
    }
    if (sys->ops->supports && sys->ops->supports(sys, m, why, len) != 0)
        return why;
    return NULL;
}

/* ---- activation proof ---------------------------------------------------------------- */

/* Seconds of the proof worker's saturating compute check (after its own warm-up). */
#define PROOF_COMPUTE_S 1.0

typedef struct proof_ctx {
    gvb_runner *rn;
    gvb_system *sys; /* NULL: the native reference (layer variables stripped) */
    gvb_kv *proof;
    int gpu;
    double compute_s;
    int judged, verdict;
    char why[512];
} proof_ctx;

static int build_proof(void *vctx, int i, char ***argv, gvb_env *env)
{
    proof_ctx *c = vctx;
    int n = 0, rc = 0;
    rc |= push_arg(argv, &n, "gpu-virt-bench");
    rc |= push_arg(argv, &n, "__proof");
    rc |= push_arg(argv, &n, "--gpu=%d", c->gpu);
    rc |= push_arg(argv, &n, "--compute-check=%g", c->compute_s);
    if (rc)
        return -1;
    if (!c->sys) {
        gvb_env_strip_layers(env);
        return 0;
    }
    return system_env(c->sys, i, 1, env);
}

/* Extras and texts of a helper process (proof, probe) go into a key-value list. */
static void msg_into_kv(gvb_kv *kv, const gvb_msg *m)
{
    if (m->type == GVB_MSG_EXTRA)
        gvb_kv_set_num(kv, m->name, m->value);
    else if (m->type == GVB_MSG_TEXT)
        gvb_kv_set_text(kv, m->name, "%s", m->text);
}

static void proof_msg(void *vctx, int t, const gvb_msg *m)
{
    (void)t;
    msg_into_kv(((proof_ctx *)vctx)->proof, m);
}

/* The worker has reported and waits at its barrier: judge it while it is alive. */
static void proof_ready(void *vctx, gvb_group *g)
{
    proof_ctx *c = vctx;
    char errl[256];
    if (*gvb_tenant_last_err(&g->t[0], errl, sizeof errl))
        gvb_kv_set_text(c->proof, "worker_stderr", "%s", errl);
    if (!c->sys || !c->sys->ops->verify_active)
        return;
    if (c->rn->native_ref_state == 1)
        gvb_kv_set_num(c->proof, "native_compute_rate_kps", c->rn->native_rate_kps);
    c->judged = 1;
    c->verdict = c->sys->ops->verify_active(c->sys, c->proof, c->why, sizeof c->why);
}

/* Runs one proof worker; returns its outcome (OK when it reported and exited cleanly). */
static gvb_status run_proof_worker(proof_ctx *c, char *why, size_t len)
{
    gvb_tenant t;
    memset(&t, 0, sizeof t);
    gvb_group g = {.n = 1, .t = &t, .deadline_s = 120, .on_msg = proof_msg, .on_ready = proof_ready,
               .ctx = c, .exe = c->rn->self_exe, .base_env = c->rn->base_env, GVB_GROUP_LOG(c->rn),
               .system = c->sys ? c->sys->name : "native-reference",
               .metric = "proof"};
    if (gvb_group_run(&g, build_proof, c) != 0) {
        snprintf(why, len, "cannot start the activation proof worker");
        return GVB_FAIL;
    }
    gvb_kv_set_num(c->proof, "pid", t.pid);
    return gvb_tenant_outcome(&g, &t, 0, why, len, 0);
}

/* The unconstrained compute rate that a compute limit is compared with: one proof worker
 * without any layer, once per run. */
static void native_reference(gvb_runner *rn)
{
    if (rn->native_ref_state != 0)
        return;
    gvb_kv ref = {0};
    proof_ctx c = {.rn = rn, .proof = &ref, .gpu = 1, .compute_s = PROOF_COMPUTE_S};
    char why[512];
    const gvb_kv_item *rate = NULL;
    if (run_proof_worker(&c, why, sizeof why) == GVB_OK &&
        (rate = gvb_kv_get(&ref, "compute_rate_kps")) && !rate->is_text && rate->num > 0) {
        rn->native_rate_kps = rate->num;
        rn->native_ref_state = 1;
    } else {
        rn->native_ref_state = -1;
    }
    gvb_kv_free(&ref);
}

/* Proves the system active. Returns OK, INERT (the proof failed: why) or FAIL (the proof
 * worker itself failed: why). */
static gvb_status prove(gvb_runner *rn, gvb_system *sys, gvb_kv *proof, char *why, size_t len)
{
    uint64_t memory;
    int limit;
    gvb_system_limits(sys, &memory, &limit);
    int compute = sys->proof_gpu && limit > 0 && limit < 100;
    int is_native = gvb_kind_is_baseline(gvb_system_kind(sys));
    if (compute && !is_native)
        native_reference(rn);
    proof_ctx c = {.rn = rn, .sys = sys, .proof = proof, .gpu = sys->proof_gpu,
                   .compute_s = compute ? PROOF_COMPUTE_S : 0};
    char wwhy[512];
    gvb_status s = run_proof_worker(&c, wwhy, sizeof wwhy);
    if (compute && is_native && s == GVB_OK && rn->native_ref_state == 0) {
        const gvb_kv_item *rate = gvb_kv_get(proof, "compute_rate_kps");
        if (rate && !rate->is_text && rate->num > 0) {
            rn->native_rate_kps = rate->num;
            rn->native_ref_state = 1;
        }
    }
    if (!c.judged) {
        snprintf(why, len, "the activation proof worker failed: %s",
                 s != GVB_OK ? wwhy : "it ended before its barrier");
        return GVB_FAIL;
    }
    if (c.verdict != 0) {
        snprintf(why, len, "%s", c.why[0] ? c.why : "the activation proof failed");
        return GVB_INERT;
    }
    if (s != GVB_OK) {
        snprintf(why, len, "the activation proof worker failed after its proof: %s", wwhy);
        return GVB_FAIL;
    }
    return GVB_OK;
}

/* ---- systems --------------------------------------------------------------------------- */

static int any_gpu_metric(const gvb_metric_def *const *metrics, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (metrics[i]->requires & GVB_REQ_GPU)
            return 1;
    return 0;
}

/* A system as the run holds it: its record's index and what its set-up and proof decided
 * (every metric of a system that did not come up gets that status and reason). */
typedef struct sys_state {
    gvb_system *sys;
    size_t rec;
    gvb_status status;
    char why[512];
} sys_state;

/* Probe, set up, describe and prove one system; records it in run. Returns 0, or -1 when out
 * of memory. Teardown is the caller's (always, also after an interrupt or a failure). */
static int bring_up(gvb_runner *rn, gvb_system *sys, const gvb_metric_def *const *metrics,
                    size_t n_metrics, gvb_run *run, sys_state *st)
{
    const gvb_system_ops *ops = sys->ops;
    sys->gpu = &run->gpu;
    sys->proof_gpu = ops->needs_gpu && run->gpu.n > 0 && any_gpu_metric(metrics, n_metrics);
    gvb_system_record *rec = gvb_run_add_system(run, sys->name, gvb_system_kind(sys));
    if (!rec)
        return -1;
    st->sys = sys;
    st->rec = run->n_systems - 1;
    st->status = GVB_OK;
    st->why[0] = '\0';
    if (ops->probe && ops->probe(sys, st->why, sizeof st->why) != 0) {
        st->status = GVB_SKIP;
    } else if (ops->setup) {
        int rc = ops->setup(sys, st->why, sizeof st->why);
        if (rc != 0)
            st->status = rc == GVB_SKIP ? GVB_SKIP : GVB_FAIL;
    }
    if (ops->describe)
        ops->describe(sys, &rec->config);
    if (st->status == GVB_OK && ops->verify_active && !gvb_stop_requested) {
        st->status = prove(rn, sys, &rec->activation, st->why, sizeof st->why);
        if (st->status == GVB_INERT && rn->opts->allow_inert)
            st->status = GVB_OK;
    }
    if (ops->derive)
        gvb_kv_set_text(&rec->activation, "status", "MODEL");
    else
        gvb_kv_set_text(&rec->activation, "status", "%s",
                        st->status == GVB_OK && st->why[0] ? "INERT (allowed)"
                                                           : gvb_status_name(st->status));
    if (st->why[0])
        gvb_kv_set_text(&rec->activation, "reason", "%s", st->why);
    else if (ops->derive)
        gvb_kv_set_text(&rec->activation, "reason",
                        "a model computed from the native results of this run; not a measurement");
    return 0;
}

static void tear_down(sys_state *st, gvb_run *run)
{
    if (st->sys && st->sys->ops->teardown)
        st->sys->ops->teardown(st->sys, &run->systems[st->rec].config);
}

/* A new result for (system, metric) with its status before any measurement: SKIP or the
 * system's own status when it cannot be measured, else OK (to be measured). */
static gvb_result *open_result(gvb_runner *rn, const sys_state *st, const gvb_metric_def *m,
                               gvb_run *run)
{
    gvb_result *r = gvb_run_add_result(run);
    if (!r)
        return NULL;
    fill_identity(r, m, st->sys, gvb_metric_tenants(m, rn->opts->processes));
    if (rn->opts->metric_name[0] && !strcmp(m->unit, "figure")) /* workload --metric-name */
        snprintf(r->unit, sizeof r->unit, "%s", rn->opts->metric_name);
    char why[512];
    const char *skip = precheck(st->sys, m, run, why, sizeof why);
    if (gvb_stop_requested)
        set_status(r, GVB_FAIL, "interrupted");
    else if (st->status != GVB_OK)
        set_status(r, st->status, st->why);
    else if (skip)
        set_status(r, GVB_SKIP, skip);
    return r;
}

void gvb_round_order(int n_systems, int metric_index, int replicate, int *order)
{
    for (int p = 0; p < n_systems; p++)
        order[p] = (p + metric_index + replicate) % n_systems;
}

/* Measurement slots (one tenant group each) of the measured systems, for the progress line. */
typedef struct progress_state {
    int done; /* slots finished; the total is done + the slots left */
    double t0;
    double metric_s[GVB_METRIC_COUNT]; /* seconds of this metric's finished slots */
    int metric_n[GVB_METRIC_COUNT];    /* and how many */
    int metric_left[GVB_METRIC_COUNT]; /* slots of this metric not yet finished */
} progress_state;

double gvb_eta_estimate(const double *slot_s, const int *slot_n, const int *left, size_t n)
{
    double all_s = 0, eta = 0;
    int all_n = 0, unknown = 0;
    for (size_t i = 0; i < n; i++) {
        all_s += slot_s[i];
        all_n += slot_n[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (left[i] <= 0)
            continue;
        if (slot_n[i] > 0)
            eta += left[i] * slot_s[i] / slot_n[i];
        else if (all_n > 0)
            eta += left[i] * all_s / all_n;
        else
            unknown = 1;
    }
    return unknown ? NAN : eta;
}

static void report_progress(gvb_runner *rn, progress_state *ps, const gvb_system *sys,
                            const gvb_metric_def *m, int replicate, int replicates)
{
    if (!rn->hooks.on_progress)
        return;
    int total = ps->done;
    for (int i = 0; i < GVB_METRIC_COUNT; i++)
        total += ps->metric_left[i];
    gvb_progress p = {.done = ++ps->done, .total = total, .system = sys->name,
                      .metric = m->code, .replicate = replicate, .replicates = replicates,
                      .elapsed_s = gvb_now() - ps->t0,
                      .eta_s = gvb_eta_estimate(ps->metric_s, ps->metric_n, ps->metric_left,
                                                GVB_METRIC_COUNT)};
    rn->hooks.on_progress(rn->hooks.ctx, &p);
}

/* One measured (system, metric) while its replicates are interleaved with other systems'. */
typedef struct slot {
    sys_state *st;
    gvb_result *r;
    gvb_series values;
    int metric_set_value;
    int open; /* more replicates to run */
} slot;

/* Records where and when replicate k ran: its position in the round and its start, seconds
 * from the run's start (results.json keeps the order the claims rest on). */
static void record_order(gvb_result *r, int position, double start_s)
{
    gvb_series *s = gvb_result_series(r, "replicate_position");
    if (s) /* each looked up just before its push: adding a series moves the others */
        gvb_series_push(s, position);
    if ((s = gvb_result_series(r, "replicate_start_s")))
        gvb_series_push(s, start_s);
}

/* Measures metric m on every system: R rounds (R = its replicates), each round running every
 * system once, in gvb_round_order, each in fresh processes; each system's replicates are
 * combined (replicate_merge). A system stops at its first replicate that does not end OK: a
 * SKIP or FAIL will not change by trying again, and a hang would cost its deadline each time. */
static int measure_interleaved(gvb_runner *rn, sys_state *sts, int n_sys, size_t mi,
                               const gvb_metric_def *m, gvb_run *run, progress_state *ps)
{
    slot *sl = calloc((size_t)n_sys, sizeof *sl);
    int *order = calloc((size_t)n_sys, sizeof *order);
    if (!sl || !order) {
        free(sl);
        free(order);
        return -1;
    }
    size_t first = run->n_results;
    for (int s = 0; s < n_sys; s++)
        if (!open_result(rn, &sts[s], m, run)) {
            for (size_t i = first; i < run->n_results; i++) /* opened, never measured */
                set_status(&run->results[i], GVB_FAIL, "out of memory");
            free(sl);
            free(order);
            return -1;
        }
    int total = gvb_metric_replicates(rn->opts, m);
    int ci = (int)(m - gvb_catalog);
    for (int s = 0; s < n_sys; s++) { /* pointers are stable: no result is added below */
        sl[s].st = &sts[s];
        sl[s].r = &run->results[first + (size_t)s];
        sl[s].open = sl[s].r->status == GVB_OK;
        if (!sl[s].open) {
            ps->metric_left[ci] -= total; /* the line counts slots that will run */
        }
    }
    for (int k = 0; k < total; k++) {
        gvb_round_order(n_sys, (int)mi, k, order);
        for (int p = 0; p < n_sys; p++) {
            slot *x = &sl[order[p]];
            if (!x->open)
                continue;
            if (gvb_stop_requested) {
                set_status(x->r, GVB_FAIL, "interrupted");
                x->open = 0;
                continue;
            }
            report_progress(rn, ps, x->st->sys, m, k + 1, total);
            double start = gvb_now();
            gvb_result rr;
            replicate_init(&rr, x->r);
            measure_once(rn, x->st->sys, m, run, k, &rr);
            replicate_merge(x->r, &rr, k, total, &x->values, &x->metric_set_value);
            gvb_result_free(&rr);
            record_order(x->r, p, start - ps->t0);
            ps->metric_s[ci] += gvb_now() - start;
            ps->metric_n[ci]++;
            ps->metric_left[ci]--;
            if (x->r->status != GVB_OK) {
                x->open = 0;
                ps->metric_left[ci] -= total - k - 1;
            }
        }
    }
    for (int s = 0; s < n_sys; s++) {
        gvb_result *r = sl[s].r;
        if (r->status == GVB_OK && sl[s].metric_set_value)
            replicate_value(r, &sl[s].values);
        if (r->status != GVB_OK)
            r->has_value = 0;
        gvb_series_free(&sl[s].values);
        gvb_result_finish(r, rn->opts->seed);
    }
    free(sl);
    free(order);
    if (rn->hooks.on_result)
        rn->hooks.on_result(rn->hooks.ctx, run);
    return 0;
}

/* A model system (mig-ideal): derived from the measured results, after them. */
static int derive_all(gvb_runner *rn, gvb_system *sys, const gvb_metric_def *const *metrics,
                      size_t n_metrics, gvb_run *run)
{
    sys_state st;
    int rc = bring_up(rn, sys, metrics, n_metrics, run, &st);
    for (size_t mi = 0; rc == 0 && mi < n_metrics; mi++) {
        gvb_result *r = open_result(rn, &st, metrics[mi], run);
        if (!r) {
            rc = -1;
            break;
        }
        if (r->status == GVB_OK)
            sys->ops->derive(sys, metrics[mi], run, r);
        gvb_result_finish(r, rn->opts->seed);
    }
    if (rc == 0)
        tear_down(&st, run);
    if (rc == 0 && rn->hooks.on_result)
        rn->hooks.on_result(rn->hooks.ctx, run);
    return rc;
}

/* Metrics defined against another system of the same invocation (OH-010 vs native) get
 * their value once every system has run; then the files are rewritten. */
static void cross_system_pass(gvb_runner *rn, gvb_run *run)
{
    int any = 0;
    for (size_t i = 0; i < run->n_results; i++) {
        gvb_result *r = &run->results[i];
        const gvb_metric_def *m = gvb_metric_find(r->metric);
        if (!m || !m->impl->cross_system)
            continue;
        m->impl->cross_system(r, run);
        if (r->status != GVB_OK)
            r->has_value = 0;
        gvb_result_finish(r, rn->opts->seed);
        any = 1;
    }
    if (any && rn->hooks.on_result)
        rn->hooks.on_result(rn->hooks.ctx, run);
}

/* Every measured system is set up and proven first; then, metric by metric, their replicates
 * are interleaved (measure_interleaved), so that a change of the machine's speed over minutes
 * falls on every system alike instead of on whichever system ran then; the systems are torn
 * down at the end, also after an interrupt. Models (mig-ideal) are derived last. */
/* Every system is measured with the GPU held open by one unhooked NVML process for the whole
 * run (gvb_monitor_hold), so the driver stays loaded between the tenants' processes. It does
 * not equalize fresh contexts: on the H200 (2026-12-03) native OH-004 took 228 ms with this
 * hold, 201 ms without it, and 111 and 136 ms while an MPS server (a CUDA context) was up for
 * the run. The config says whether it held ("gpu_held_open"). */
static void hold_gpu(gvb_runner *rn, gvb_system *systems, int n_systems,
                     const gvb_metric_def *const *metrics, size_t n_metrics, gvb_run *run,
                     gvb_monitor *hold)
{
    int gpu = 0;
    for (int i = 0; i < n_systems; i++)
        gpu |= systems[i].ops->needs_gpu && !systems[i].ops->derive;
    if (!gpu || !any_gpu_metric(metrics, n_metrics))
        return;
    if (gvb_monitor_hold(hold, rn->self_exe, rn->base_env, gvb_kv_text(&run->gpu, "uuid")) == 0)
        gvb_kv_set_text(&run->config, "gpu_held_open", "yes: one unhooked NVML process for the "
                        "whole run (the driver stays loaded; fresh contexts still pay the device's initialization "
                        "unless another context, such as an MPS server's, is up)");
    else
        gvb_kv_set_text(&run->config, "gpu_held_open", "no: %s", hold->why);
}

int gvb_runner_run(gvb_runner *rn, gvb_system *systems, int n_systems,
                   const gvb_metric_def *const *metrics, size_t n_metrics, gvb_run *run)
{
    progress_state ps = {.t0 = gvb_now()};
    sys_state *sts = calloc((size_t)(n_systems > 0 ? n_systems : 1), sizeof *sts);
    if (!sts)
        return -1;
    gvb_kv_set_text(&run->config, "system_order", "%s", GVB_ORDER_INTERLEAVED);
    gvb_monitor hold = {.pid = -1, .fd = -1};
    hold_gpu(rn, systems, n_systems, metrics, n_metrics, run, &hold);
    rn->hold = hold.pid > 0 ? &hold : NULL;
    int n_meas = 0, rc = 0;
    for (int si = 0; si < n_systems && rc == 0 && !gvb_stop_requested; si++)
        if (!systems[si].ops->derive)
            rc = bring_up(rn, &systems[si], metrics, n_metrics, run, &sts[n_meas++]);
    for (size_t mi = 0; mi < n_metrics; mi++) {
        int ci = (int)(metrics[mi] - gvb_catalog);
        ps.metric_left[ci] = n_meas * gvb_metric_replicates(rn->opts, metrics[mi]);
    }
    for (size_t mi = 0; mi < n_metrics && rc == 0 && !gvb_stop_requested && n_meas > 0; mi++)
        rc = measure_interleaved(rn, sts, n_meas, mi, metrics[mi], run, &ps);
    for (int s = 0; s < n_meas; s++)
        tear_down(&sts[s], run);
    /* after an interrupt the hold got the same signal: that is not an early end */
    if (hold.fd >= 0 && !gvb_stop_requested && !gvb_monitor_alive(&hold))
        gvb_kv_set_text(&run->config, "gpu_held_open", "no: the holding NVML process ended "
                        "during the run (metrics after it ran on a GPU not held)");
    rn->hold = NULL;
    gvb_monitor_release(&hold);
    free(sts);
    for (int si = 0; si < n_systems && rc == 0 && !gvb_stop_requested; si++)
        if (systems[si].ops->derive)
            rc = derive_all(rn, &systems[si], metrics, n_metrics, run);
    if (rc != 0)
        return -1;
    cross_system_pass(rn, run);
    return gvb_stop_requested ? -1 : 0;
}

/* ---- GPU probe ----------------------------------------------------------------------- */

typedef struct probe_ctx {
    gvb_kv *gpu;
} probe_ctx;

static int build_probe(void *vctx, int i, char ***argv, gvb_env *env)
{
    (void)vctx;
    (void)i;
    int n = 0;
    gvb_env_strip_layers(env); /* the probe sees the GPU as it is */
    return push_arg(argv, &n, "gpu-virt-bench") | push_arg(argv, &n, "__probe");
}

static void probe_msg(void *vctx, int t, const gvb_msg *m)
{
    (void)t;
    msg_into_kv(((probe_ctx *)vctx)->gpu, m);
}

int gvb_runner_probe(gvb_runner *rn, gvb_kv *gpu, char *err, size_t errlen)
{
    gvb_tenant t;
    memset(&t, 0, sizeof t);
    probe_ctx c = {.gpu = gpu};
    gvb_group g = {.n = 1, .t = &t, .deadline_s = 120, .on_msg = probe_msg, .ctx = &c,
               .exe = rn->self_exe, .base_env = rn->base_env, GVB_GROUP_LOG(rn), .system = "probe", .metric = "probe"};
    if (gvb_group_run(&g, build_probe, &c) != 0) {
        snprintf(err, errlen, "cannot start the GPU probe process");
        return -1;
    }
    char why[512];
    gvb_status s = gvb_tenant_outcome(&g, &t, 0, why, sizeof why, 0);
    if (s != GVB_OK) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    return 0;
}
