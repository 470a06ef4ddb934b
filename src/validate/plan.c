/* validate: options, the plan of validation runs, their evaluation into checks, and the
 * child runs (see validate.h; the checks are in checks.c). */
#include "validate/validate.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/env.h"
#include "core/spawn.h"
#include "stats/claim.h"
#include "stats/stats.h"

/* ---- options ------------------------------------------------------------------------------ */

int gvb_validate_parse(int argc, char **argv, gvb_validate_opts *o, char *err, size_t errlen)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"seed", required_argument, 0, 's'},
        {"aa-metrics", required_argument, 0, 'm'},
        {"cases", required_argument, 0, 'c'},  {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    snprintf(o->output, sizeof o->output, "%s", GVB_VALIDATE_DEFAULT_OUTPUT);
    o->seed = GVB_DEFAULT_SEED;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o':
            if (!*optarg || strlen(optarg) >= sizeof o->output)
                return snprintf(err, errlen, "validate: bad --output '%s'", optarg), -1;
            snprintf(o->output, sizeof o->output, "%s", optarg);
            break;
        case 's':
            errno = 0;
            o->seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                return snprintf(err, errlen, "validate: --seed must be a whole number >= 0, got '%s'",
                                optarg), -1;
            break;
        case 'm':
            if (!*optarg || strlen(optarg) >= sizeof o->aa_metrics)
                return snprintf(err, errlen, "validate: bad --aa-metrics '%s'", optarg), -1;
            if (gvb_check_metric_list(optarg, err, errlen) != 0) {
                char why[512];
                snprintf(why, sizeof why, "%s", err);
                return snprintf(err, errlen, "validate: --aa-metrics: %s", why), -1;
            }
            snprintf(o->aa_metrics, sizeof o->aa_metrics, "%s", optarg);
            break;
        case 'c':
            if (!*optarg || strlen(optarg) >= sizeof o->cases)
                return snprintf(err, errlen, "validate: bad --cases '%s'", optarg), -1;
            snprintf(o->cases, sizeof o->cases, "%s", optarg);
            break;
        case ':':
            return snprintf(err, errlen, "validate: option '%s' needs a value", argv[optind - 1]), -1;
        default:
            return snprintf(err, errlen,
                            "validate: unknown option '%s' (--output DIR, --seed N, "
                            "--aa-metrics LIST, --cases LIST)",
                            argv[optind - 1]), -1;
        }
    }
    if (optind < argc)
        return snprintf(err, errlen, "validate: unexpected argument '%s'", argv[optind]), -1;
    return 0;
}

/* ---- plan --------------------------------------------------------------------------------- */

/* Known effects, each recovered at two settings (a bias proportional to the setting and a
 * constant one cannot both hide). Allocation delays are larger than launch delays because
 * OH-002 moves by ~10 us from process to process (docs/validation.md): a 50 us delay's 5 us
 * tolerance is below what 6 processes per side can resolve. */
static const struct {
    double launch_us, alloc_us;
} delay_settings[] = {{20, 200}, {100, 500}};
/* Caps and duty cycles: each effect at two settings too. */
static const struct {
    uint64_t bytes;
    const char *spec;
} mem_settings[] = {{3ull << 30, "3g"}, {6ull << 30, "6g"}};
static const int duty_settings[] = {50, 25};

static void add_arg(gvb_validate_case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_arg(gvb_validate_case *c, const char *fmt, ...)
{
    if (c->n_args >= GVB_VALIDATE_MAX_ARGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->args[c->n_args++], sizeof c->args[0], fmt, ap);
    va_end(ap);
}

static gvb_validate_case *new_case(gvb_validate_case *cases, int *n, int max, gvb_case_kind kind,
                                   const char *name, uint64_t seed)
{
    if (*n >= max)
        return NULL;
    gvb_validate_case *c = &cases[(*n)++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    snprintf(c->name, sizeof c->name, "%s", name);
    add_arg(c, "--seed=%llu", (unsigned long long)seed);
    add_arg(c, "--json-only");
    /* validate replicates processes itself (SYSTEM@k, interleaved), each of those systems one
     * process group; the A/A case alone runs as a user would (default replicates) */
    if (kind != GVB_CASE_AA)
        add_arg(c, "--replicates=1");
    return c;
}

/* --systems=A1,B1,A2,B2,...: r replicates of two systems, interleaved so that a drift over
 * the run touches both alike. fmt_a / fmt_b take the replicate number. */
static void add_replicates(gvb_validate_case *c, const char *fmt_a, const char *fmt_b, int r)
{
    char list[sizeof c->args[0]] = "--systems=", name[48];
    size_t off = strlen(list);
    for (int k = 1; k <= r && off < sizeof list; k++) {
        for (int side = 0; side < 2; side++) {
            snprintf(name, sizeof name, side ? fmt_b : fmt_a, k);
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                                    k == 1 && side == 0 ? "" : ",", name);
        }
    }
    add_arg(c, "%s", list);
}

static void skip_unless_implemented(gvb_validate_case *c, const char *metric)
{
    const gvb_metric_def *m = gvb_metric_find(metric);
    if (!m || !gvb_metric_implemented(m)) {
        c->skip = 1;
        snprintf(c->skip_reason, sizeof c->skip_reason, "%s not implemented", metric);
    }
}

/* --cases: every named case must exist; the others are skipped. */
static int select_cases(const char *list, gvb_validate_case *cases, int n, char *err,
                        size_t errlen)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    int chosen[GVB_VALIDATE_MAX_CASES] = {0};
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int hit = 0;
        for (int i = 0; i < n && i < GVB_VALIDATE_MAX_CASES; i++)
            if (strcmp(cases[i].name, tok) == 0)
                chosen[i] = hit = 1;
        if (!hit) {
            size_t off = (size_t)snprintf(err, errlen, "validate: unknown case '%s' (cases:", tok);
            for (int i = 0; i < n && off < errlen; i++)
                off += (size_t)snprintf(err + off, errlen - off, " %s", cases[i].name);
            if (off < errlen)
                snprintf(err + off, errlen - off, ")");
            return -1;
        }
    }
    for (int i = 0; i < n && i < GVB_VALIDATE_MAX_CASES; i++) {
        if (!chosen[i] && !cases[i].skip) {
            cases[i].skip = 1;
            snprintf(cases[i].skip_reason, sizeof cases[i].skip_reason, "not selected (--cases)");
        }
    }
    return 0;
}

int gvb_validate_plan(const gvb_validate_opts *o, gvb_validate_case *cases, int max, char *err,
                      size_t errlen)
{
    int n = 0;
    gvb_validate_case *c;
    for (size_t i = 0; i < sizeof delay_settings / sizeof delay_settings[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "delay-l%g-a%g", delay_settings[i].launch_us,
                 delay_settings[i].alloc_us);
        if (!(c = new_case(cases, &n, max, GVB_CASE_DELAY, name, o->seed)))
            return n;
        c->launch_us = delay_settings[i].launch_us;
        c->alloc_us = delay_settings[i].alloc_us;
        add_replicates(c, "native@%d", "calib@%d", GVB_VALIDATE_REPLICATES);
        add_arg(c, "--calib=launch_us=%g,alloc_us=%g", c->launch_us, c->alloc_us);
        add_arg(c, "--metrics=OH-001,OH-002");
        /* 100 samples per process (OH-001/002 take 10 x --iterations): the effect is read
         * from 12 processes' medians, and 1000 each would cost minutes */
        add_arg(c, "--iterations=%d", GVB_VALIDATE_DELAY_ITERATIONS);
    }
    for (size_t i = 0; i < sizeof mem_settings / sizeof mem_settings[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "mem-%s", mem_settings[i].spec);
        if (!(c = new_case(cases, &n, max, GVB_CASE_MEM, name, o->seed)))
            return n;
        c->mem = mem_settings[i].bytes;
        add_arg(c, "--systems=calib");
        add_arg(c, "--calib=mem=%s", mem_settings[i].spec);
        add_arg(c, "--memory-limit=%s", mem_settings[i].spec);
        add_arg(c, "--metrics=IS-001");
        skip_unless_implemented(c, "IS-001");
    }
    for (size_t i = 0; i < sizeof duty_settings / sizeof duty_settings[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "duty-%d", duty_settings[i]);
        if (!(c = new_case(cases, &n, max, GVB_CASE_DUTY, name, o->seed)))
            return n;
        c->duty = duty_settings[i];
        add_arg(c, "--systems=calib");
        add_arg(c, "--calib=duty=%d", c->duty);
        add_arg(c, "--compute-limit=%d", c->duty);
        add_arg(c, "--metrics=IS-003");
        skip_unless_implemented(c, "IS-003");
    }
    if ((c = new_case(cases, &n, max, GVB_CASE_AA, "aa", o->seed))) {
        /* what a user runs: default replicates and iterations, every category (--aa-metrics
         * narrows it) */
        add_arg(c, "--systems=native@a,native@b");
        if (o->aa_metrics[0])
            add_arg(c, "--metrics=%s", o->aa_metrics);
    }
    /* throughput metrics that report a % of the device's peak, for the PEAK row (the other
     * cases run none) */
    if ((c = new_case(cases, &n, max, GVB_CASE_PEAK, "peak", o->seed))) {
        add_arg(c, "--systems=native");
        add_arg(c, "--metrics=" GVB_VALIDATE_PEAK_METRICS);
        skip_unless_implemented(c, "LLM-001");
    }
    static const struct {
        const char *name, *brk, *how;
        int bad_lib;
    } inert[] = {
        {"inert-missing", "", "library path wrong", 1},
        {"inert-bypass", "bypass", "library loaded, hooks bypassed", 0},
    };
    for (size_t i = 0; i < sizeof inert / sizeof inert[0]; i++) {
        if (!(c = new_case(cases, &n, max, GVB_CASE_INERT, inert[i].name, o->seed)))
            return n;
        c->bad_lib = inert[i].bad_lib;
        snprintf(c->calib_break, sizeof c->calib_break, "%s", inert[i].brk);
        add_arg(c, "--systems=calib");
        add_arg(c, "--calib=launch_us=20");
        add_arg(c, "--metrics=OH-001");
    }
    if (o->cases[0] && select_cases(o->cases, cases, n, err, errlen) != 0)
        return -1;
    return n;
}

/* ---- evaluation --------------------------------------------------------------------------- */

static gvb_check *next(gvb_check *checks, int *n, int max)
{
    return *n < max ? &checks[(*n)++] : NULL;
}

/* A case whose run left no readable results: its check FAILs with why. */
static int no_run(gvb_check *c, const gvb_case_outcome *o)
{
    if (o->run)
        return 0;
    gvb_check_verdict(c, GVB_CHECK_FAIL, "no results: the run exited %d%s%s", o->exit_code,
            o->why[0] ? ": " : "", o->why);
    return 1;
}

static void eval_delay(const gvb_validate_case *vc, const gvb_case_outcome *o, gvb_check *checks,
                       int *n, int max)
{
    static const struct {
        const char *metric, *series, *label;
        int alloc;
    } what[] = {
        {"OH-001", NULL, "launch+sync median difference", 0},
        {"OH-001", "enqueue_us", "enqueue-only median difference", 0},
        {"OH-002", NULL, "cudaMalloc 64 MiB median difference", 1},
    };
    for (size_t i = 0; i < sizeof what / sizeof what[0]; i++) {
        gvb_check *c = next(checks, n, max);
        if (!c)
            return;
        double inj = what[i].alloc ? vc->alloc_us : vc->launch_us;
        char id[48], desc[128];
        snprintf(id, sizeof id, "%s%s %s=%g", what[i].metric, what[i].series ? " enq" : "",
                 what[i].alloc ? "alloc_us" : "launch_us", inj);
        snprintf(desc, sizeof desc, "%s, calib - native = injected", what[i].label);
        gvb_check_init(c, id, desc, "us", "~");
        if (vc->skip)
            gvb_check_verdict(c, GVB_CHECK_SKIP, "%s", vc->skip_reason);
        else if (!no_run(c, o))
            gvb_check_delay(o->run, "native", "calib", what[i].metric, what[i].series, inj, c);
    }
}

/* The A/A a user would run (native against itself, default settings, every category unless
 * --aa-metrics): the share of testable metrics the claim rule calls different. */
static void eval_aa(const gvb_validate_case *vc, const gvb_case_outcome *o, gvb_check *checks,
                    int *n, int max)
{
    gvb_check *c = next(checks, n, max);
    if (!c)
        return;
    gvb_check_init(c, "A/A default run",
               "% of testable metrics claimed different, native@b vs native@a (the report's "
               "rule, default settings)",
               "%", "<=");
    if (vc->skip)
        gvb_check_verdict(c, GVB_CHECK_SKIP, "%s", vc->skip_reason);
    else if (!no_run(c, o))
        gvb_check_aa(o->run, "native@a", "native@b", c);
}

/* The default settings' precision, from the A/A's native processes (each one process group
 * at the default iterations): the median's 95 % CI half-width of every per-call latency. */
static void eval_ci(const gvb_validate_case *vc, const gvb_case_outcome *o, gvb_check *checks,
                    int *n, int max)
{
    static const char *const metrics[] = GVB_VALIDATE_CI_METRICS;
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++) {
        gvb_check *c = next(checks, n, max);
        if (!c)
            return;
        char id[48];
        snprintf(id, sizeof id, "CI %s", metrics[i]);
        gvb_check_init(c, id, "95 % CI half-width of the median, % of the median (default settings)",
                   "%", "<=");
        if (vc->skip)
            gvb_check_verdict(c, GVB_CHECK_SKIP, "%s", vc->skip_reason);
        else if (!no_run(c, o))
            gvb_check_ci_width(o->run, "native@a", "native@b", metrics[i], c);
    }
}

int gvb_validate_evaluate(const gvb_validate_case *cases, const gvb_case_outcome *out, int n,
                          gvb_check *checks, int max)
{
    int k = 0;
    const gvb_run *runs[GVB_VALIDATE_MAX_CASES];
    size_t n_runs = 0;
    for (int i = 0; i < n; i++) {
        const gvb_validate_case *vc = &cases[i];
        const gvb_case_outcome *o = &out[i];
        if (!vc->skip && o->run && n_runs < GVB_VALIDATE_MAX_CASES)
            runs[n_runs++] = o->run;
        if (vc->kind == GVB_CASE_DELAY) {
            eval_delay(vc, o, checks, &k, max);
            continue;
        }
        if (vc->kind == GVB_CASE_AA) {
            eval_aa(vc, o, checks, &k, max);
            eval_ci(vc, o, checks, &k, max);
            continue;
        }
        if (vc->kind == GVB_CASE_PEAK) /* its runs feed the PEAK row below */
            continue;
        gvb_check *c = next(checks, &k, max);
        if (!c)
            break;
        char id[48];
        switch (vc->kind) {
        case GVB_CASE_MEM:
            snprintf(id, sizeof id, "IS-001 mem=%.0fMiB", (double)vc->mem / 1048576.0);
            gvb_check_init(c, id, "usable memory under the cap = cap - context charge", "MiB", "~");
            break;
        case GVB_CASE_DUTY:
            snprintf(id, sizeof id, "IS-003 duty=%d", vc->duty);
            gvb_check_init(c, id, "achieved compute share = duty", "%", "~");
            break;

        case GVB_CASE_INERT:
            snprintf(id, sizeof id, "INERT %s", vc->name + strlen("inert-"));
            gvb_check_init(c, id, "calib that cannot be active is INERT, run exits 5", "exit", "=");
            break;
        default: break;
        }
        if (vc->skip) {
            gvb_check_verdict(c, GVB_CHECK_SKIP, "%s", vc->skip_reason);
            continue;
        }
        if (vc->kind == GVB_CASE_INERT) {
            gvb_check_inert(o->run, o->exit_code, "calib",
                            vc->bad_lib ? "library path wrong" : "hooks bypassed", c);
            continue;
        }
        if (no_run(c, o))
            continue;
        if (vc->kind == GVB_CASE_MEM)
            gvb_check_mem(o->run, "calib", vc->mem, c);
        else if (vc->kind == GVB_CASE_DUTY)
            gvb_check_duty(o->run, "calib", vc->duty, c);
    }
    gvb_check *c = next(checks, &k, max);
    if (c) {
        gvb_check_init(c, "PEAK", "highest *pct_of_peak* extra of all runs", "%", "<=");
        gvb_check_peak(runs, n_runs, c);
    }
    return k;
}

int gvb_validate_failures(const gvb_check *checks, int n)
{
    int f = 0;
    for (int i = 0; i < n; i++)
        f += checks[i].status == GVB_CHECK_FAIL;
    return f;
}

/* ---- running a case ----------------------------------------------------------------------- */


int gvb_validate_spawn(const char *self, const gvb_validate_case *c, const char *dir,
                       const char *log_path, char *const *base_env)
{
    gvb_env env;
    char *argv[GVB_VALIDATE_MAX_ARGS + 6];
    int a = 0, rc = -1;
    if (gvb_env_init(&env, base_env) != 0)
        return -1;
    char bad[1200];
    snprintf(bad, sizeof bad, "%s/no-such-dir/libgvb-calib.so", dir);
    if ((c->bad_lib && gvb_env_set(&env, "GVB_CALIB_LIB", bad) != 0) ||
        (c->calib_break[0] && gvb_env_set(&env, "GVB_CALIB_BREAK", c->calib_break) != 0))
        goto out;
    argv[a++] = (char *)"gpu-virt-bench";
    argv[a++] = (char *)"run";
    for (int i = 0; i < c->n_args; i++)
        argv[a++] = (char *)c->args[i];
    argv[a++] = (char *)"--output";
    argv[a++] = (char *)dir;
    argv[a] = NULL;
    int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log < 0)
        goto out;
    const int fds[] = {GVB_SPAWN_NULL, log, log};
    pid_t pid = gvb_spawn(self, argv, env.vars, fds, 3, 0);
    close(log);
    int ws;
    if (pid < 0 || gvb_spawn_wait(pid, -1, &ws) != 0)
        goto out;
    rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
out:
    gvb_env_free(&env);
    return rc;
}
