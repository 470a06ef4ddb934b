/* gpu-virt-bench: subcommands and their options only. The work happens in core/ (runner),
 * systems/, metrics/ and report/. Exit codes: see README.md. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "build_commit.h" /* generated: GVB_BUILD_SUFFIX, "+g<commit>[-dirty]" or "" */
#include "core/options.h"
#include "core/runner.h"
#include "core/serve.h"
#include "core/workload_spec.h"
#include "validate/validate.h"
#include "core/worker.h"
#include "gpu/calib_proof.h"
#include "gpu/device.h"
#include "report/model.h"
#include "gpu/proof.h"
#include "report/report.h"
#include "systems/system.h"

extern char **environ;

#define GVB_MAX_REPORT_FILES 64

enum {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,  /* could not write results, out of memory */
    EXIT_USAGE = 2,     /* bad command line or input file */
    EXIT_NO_GPU = 3,    /* no usable GPU (or driver) */
    EXIT_FAILED = 4,    /* at least one metric FAIL */
    EXIT_INERT = 5,     /* a sharing layer was not active: its numbers would describe native */
    EXIT_INTERRUPTED = 130,
};

static int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gpu-virt-bench: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

static void usage(FILE *f)
{
    fputs("usage: gpu-virt-bench <command> [options]\n"
          "\n"
          "commands:\n"
          "  list [--format text|json] [--all]   the metric catalog\n"
          "  run [options]                       measure systems, write results\n"
          "  workload [options] -- COMMAND [ARGS...]\n"
          "                                      your program under each system: run's options\n"
          "                                      and --tenants N (copies started together,\n"
          "                                      default 1), --metric-regex RE (the first\n"
          "                                      capture of each matching stdout line is a\n"
          "                                      sample), --metric-better higher|lower,\n"
          "                                      --metric-name UNIT (what it is: tokens/s),\n"
          "                                      --metric-units RE (units of work it printed:\n"
          "                                      the GPU's energy per unit),\n"
          "                                      --duration SEC (restart until then: a soak)\n"
          "                                      (docs/workload.md)\n"
          "  workload [options] --builtin llm-serve\n"
          "                                      the same with the built-in LLM serving\n"
          "                                      workload (`serve`) as the program, its\n"
          "                                      tokens/s as the figure, its output tokens\n"
          "                                      as the units\n"
          "  serve [--layers N] [--hidden N] [--heads N] [--ffn N] [--max-batch N]\n"
          "        [--max-len N] [--requests N] [--prompt-len MIN:MAX] [--output-len MIN:MAX]\n"
          "        [--seed N] [--memory SIZE] [--no-check]\n"
          "                                      a built-in LLM serving workload on this GPU:\n"
          "                                      a Llama-shaped bf16 decoder (default 32\n"
          "                                      layers, hidden 4096, 32 heads, MLP 11008,\n"
          "                                      fewer layers if --memory, default the\n"
          "                                      device's, demands), 64 seeded requests\n"
          "                                      (prompts 32:512, outputs 16:256 tokens),\n"
          "                                      continuous batching (max batch 32, max length\n"
          "                                      1024, seed 1); prints tokens/s and ttft_ms,\n"
          "                                      tpot_ms p50/p99 (docs/workload.md)\n"
          "  report FILE... [--format md|html|txt|json|csv] [--output FILE] [--compare BASE]\n"
          "                                      the comparison report of results files\n"
          "  validate [--output DIR] [--aa-metrics LIST] [--cases LIST]\n"
          "                                      check on this GPU that the suite recovers\n"
          "                                      known effects (docs/validation.md)\n"
          "  help | --version\n"
          "\n"
          "run options:\n"
          "  --systems LIST        systems to measure, e.g. native,hami,mps (default native)\n"
          "                        KIND@LABEL measures a system again under its own name\n"
          "  --system NAME         same (older tool's flag)\n"
          "  --metrics LIST        metric IDs, globs allowed: OH-001,IS-*\n"
          "  --category LIST       overhead,isolation,llm,bandwidth,cache,pcie,nccl,\n"
          "                        scheduling,fragmentation,error (union with --metrics)\n"
          "  --iterations N        timed iterations per metric, all replicates together\n"
          "                        (default 100; --quick 30)\n"
          "  --replicates R        measure each metric R times, each in fresh processes\n"
          "                        (1..64, default 3; --quick 1); a difference between\n"
          "                        systems is claimed only with >= 2 on both sides\n"
          "  --warmup N            untimed warm-up iterations per replicate (default 10;\n"
          "                        --quick 3)\n"
          "  --min-time SEC        keep sampling until this much time was measured\n"
          "  --processes N         tenants for multi-tenant metrics (default 4)\n"
          "  --memory-limit SIZE   per-tenant memory limit: 4g, 4096m; a bare number is MiB\n"
          "  --compute-limit PCT   per-tenant compute limit, 1..100\n"
          "  --limits auto         the limits not given, from the GPU: a quarter of its\n"
          "                        memory and 50 % compute per tenant (printed)\n"
          "  --output DIR          results go to DIR/<timestamp>/ (default results)\n"
          "  --seed N              seed for bootstrap and random patterns\n"
          "  --quick               fewer iterations\n"
          "  --deadline SEC        kill a tenant process after SEC (default: per metric)\n"
          "  --compare FILE        label each metric against an earlier results.json\n"
          "  --json-only           write only results.json\n"
          "  --allow-inert         measure a system even if its activation proof fails\n"
          "  --calib SPEC          the calib system's effects: launch_us=20,alloc_us=50,\n"
          "                        mem=3g,duty=50 (any subset)\n"
          "  --hami-lib PATH       HAMi-core libvgpu.so (default $GVB_HAMI_LIB, else\n"
          "                        /usr/local/vgpu/libvgpu.so)\n"
          "  --preload NAME=PATH   a system NAME that LD_PRELOADs PATH (use NAME in --systems)\n"
          "  --env NAME:KEY=VALUE  extra tenant environment for system NAME\n"
          "  --mig-profile P       profile of the mig-ideal model (default: by tenant count)\n"
          "\n"
          "systems: native, hami, mps, mig, mig-ideal (a model, not a measurement), external\n"
          "(a layer the environment applies), and --preload names. See docs/systems.md.\n"
          "  --verbose, -v         forward worker stderr; one progress line per metric with its start time\n",
          f);
}

/* ---- run ------------------------------------------------------------------------------- */

enum { PROGRESS_NONE, PROGRESS_TTY, PROGRESS_LINES };

typedef struct run_out {
    char dir[PATH_MAX];
    int json_only;
    int write_failed;
    int progress;
} run_out;

static void write_files(void *vctx, const gvb_run *run)
{
    run_out *o = vctx;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/results.json", o->dir);
    int rc = gvb_write_atomic(path, gvb_json_write, run);
    if (!o->json_only) {
        snprintf(path, sizeof path, "%s/results.csv", o->dir);
        rc |= gvb_write_atomic(path, gvb_csv_write, run);
        snprintf(path, sizeof path, "%s/summary.txt", o->dir);
        rc |= gvb_write_atomic(path, gvb_text_write, run);
    }
    if (rc && !o->write_failed) {
        o->write_failed = 1;
        fprintf(stderr, "gpu-virt-bench: error: cannot write results in %s: %s\n", o->dir,
                strerror(errno));
    }
}

/* m:ss or h:mm:ss, "?" for NAN (fio's ETA line is the model) */
static const char *fmt_duration(double s, char *buf, size_t len)
{
    if (!isfinite(s) || s < 0)
        return snprintf(buf, len, "?"), buf;
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
    return buf;
}

static void progress(void *vctx, const gvb_progress *p)
{
    run_out *o = vctx;
    char el[32], eta[32];
    fmt_duration(p->elapsed_s, el, sizeof el);
    fmt_duration(p->eta_s, eta, sizeof eta);
    if (o->progress == PROGRESS_LINES) /* --verbose: one line each, so a log shows the times */
        fprintf(stderr, "[%d/%d] %s %s replicate %d/%d  start %.1f s, eta %s\n", p->done,
                p->total, p->metric, p->system, p->replicate, p->replicates, p->elapsed_s, eta);
    else if (o->progress == PROGRESS_TTY)
        fprintf(stderr, "\r\033[K[%d/%d] %s %s %d/%d  elapsed %s  eta %s", p->done, p->total,
                p->metric, p->system, p->replicate, p->replicates, el, eta);
}

static void worker_log(void *vctx, const char *system, const char *metric, int tenant,
                       const char *line)
{
    (void)vctx;
    fprintf(stderr, "[%s %s t%d] %s\n", system, metric, tenant, line);
}

static void on_signal(int sig)
{
    (void)sig;
    gvb_stop_requested = 1;
}

/* SIGINT and SIGTERM from here on stop the work in order (gvb_stop_requested). */
static void catch_stop_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The end of the work: from here on a signal ends the process the default way, so none can
 * fall between this check and the exit. Returns whether a stop was requested at any point,
 * the writing of the files after the last measurement included (such a signal used to be
 * ignored: exit 0). */
static int stop_catching_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    return gvb_stop_requested;
}

static void iso_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(tmp, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* The output directory must take files, before anything is measured, and without creating
 * anything yet (a run that stops at the GPU probe leaves no directories behind): the deepest
 * part of dir that exists must be a directory in which a file can be created. The probe file
 * gets a fresh name from mkstemp (O_EXCL): a file or symlink planted at a predictable name is
 * never opened, followed or truncated. */
static int check_writable(const char *dir)
{
    char probe[PATH_MAX];
    if (snprintf(probe, sizeof probe, "%s", dir) >= (int)sizeof probe - 32) {
        errno = ENAMETOOLONG;
        return -1;
    }
    struct stat st;
    while (stat(probe, &st) != 0) {
        char *slash = strrchr(probe, '/');
        if (errno != ENOENT || strcmp(probe, ".") == 0)
            return -1;
        if (!slash)
            snprintf(probe, sizeof probe, ".");
        else
            slash[slash == probe] = '\0'; /* "/x" -> "/" */
    }
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    strcat(probe, "/.gvb-write-test-XXXXXX");
    int fd = mkstemp(probe);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(probe);
    return 0;
}

/* A new directory per run, never an earlier run's. */
static int make_run_dir(const char *base, char *out, size_t len)
{
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int i = 1; i < 1000; i++) {
        if (i == 1)
            snprintf(out, len, "%s/%s", base, stamp);
        else
            snprintf(out, len, "%s/%s-%d", base, stamp, i);
        if (mkdir(out, 0755) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

static void fill_host(gvb_kv *host)
{
    char name[256] = "?";
    gethostname(name, sizeof name - 1);
    gvb_kv_set_text(host, "hostname", "%s", name);
    struct utsname u;
    if (uname(&u) == 0)
        gvb_kv_set_text(host, "kernel", "%s %s %s", u.sysname, u.release, u.machine);
    gvb_kv_set_num(host, "cpus_online", (double)sysconf(_SC_NPROCESSORS_ONLN));
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c[strcspn(c, "\n")] = '\0';
                gvb_kv_set_text(host, "cpu", "%s", c + 2);
            }
            break;
        }
    }
    if (f)
        fclose(f);
}

static void fill_config(gvb_kv *c, const gvb_options *o)
{
    gvb_kv_set_num(c, "iterations", o->iterations);
    gvb_kv_set_num(c, "warmup", o->warmup);
    gvb_kv_set_num(c, "min_time_s", o->min_time_s);
    gvb_kv_set_num(c, "processes", o->processes);
    gvb_kv_set_num(c, "replicates", o->replicates);
    gvb_kv_set_num(c, "iterations_per_replicate", gvb_replicate_iterations(o));
    gvb_kv_set_num(c, "memory_limit_bytes", (double)o->memory_limit);
    gvb_kv_set_num(c, "compute_limit_pct", o->compute_limit);
    gvb_kv_set_text(c, "seed", "%llu", (unsigned long long)o->seed);
    gvb_kv_set_num(c, "quick", o->quick);
    gvb_kv_set_num(c, "deadline_s", o->deadline_s);
}

static int needs_gpu(const gvb_system *systems, int n_systems, const gvb_metric_def *const *m,
                     size_t n_metrics)
{
    for (int s = 0; s < n_systems; s++)
        for (size_t i = 0; i < n_metrics; i++)
            if (systems[s].ops->needs_gpu && (m[i]->requires & GVB_REQ_GPU))
                return 1;
    return 0;
}

/* --limits auto: the GPU's memory is known only after the probe. One line says what each
 * tenant gets. */
static void apply_auto_limits(gvb_options *o, const gvb_kv *gpu)
{
    const gvb_kv_item *mem = gvb_kv_get(gpu, "memory_total_bytes");
    char line[384];
    gvb_options_auto_limits(o, mem && !mem->is_text ? mem->num : 0, line, sizeof line);
    printf("%s\n", line);
    fflush(stdout);
}

/* The measuring of `run`, and of `workload` when wl is given (its spec is written into the
 * run's directory before the runner starts). */
static int run_measure(gvb_options *o, int full_argc, char **full_argv,
                       gvb_workload_args *wl);

static int cmd_run(int argc, char **argv, int full_argc, char **full_argv)
{
    static gvb_options o; /* large; not on the stack */
    char err[1024];
    gvb_options_defaults(&o);
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return EXIT_OK;
    }
    if (gvb_options_parse(argc, argv, &o, err, sizeof err) != 0)
        return die(EXIT_USAGE, "%s", err);
    return run_measure(&o, full_argc, full_argv, NULL);
}

/* `workload [run options] [--tenants N] [--metric-regex RE] [--metric-better higher|lower]
 *  [--metric-units RE] [--duration SEC] -- COMMAND [ARGS...]` or `--builtin NAME`: the user's
 *  (or the built-in) program under each system (docs/workload.md). */
static int cmd_workload(int argc, char **argv, int full_argc, char **full_argv)
{
    static gvb_options o;
    static gvb_workload_args a;
    char err[1024];
    gvb_options_defaults(&o);
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return EXIT_OK;
    }
    if (gvb_workload_parse(argc, argv, &o, &a, err, sizeof err) != 0)
        return die(EXIT_USAGE, "workload: %s", err);
    return run_measure(&o, full_argc, full_argv, &a);
}

static int run_measure(gvb_options *o, int full_argc, char **full_argv,
                       gvb_workload_args *wl)
{
    char err[1024];
    gvb_system systems[GVB_MAX_SYSTEMS];
    for (int i = 0; i < o->n_systems; i++)
        if (gvb_system_resolve(o->systems[i], o, &systems[i], err, sizeof err) != 0)
            return die(EXIT_USAGE, "%s", err);
    if (gvb_options_check_files(o, err, sizeof err) != 0)
        return die(EXIT_USAGE, "%s", err);
    const gvb_metric_def *metrics[GVB_METRIC_COUNT];
    int n_metrics = 0;
    if (wl) {
        if (wl->alone) /* measured first */
            metrics[n_metrics++] = gvb_metric_find(wl->alone);
        metrics[n_metrics++] = gvb_metric_find(wl->metric);
    } else if ((n_metrics = gvb_select_metrics(o, metrics, GVB_METRIC_COUNT, err, sizeof err)) < 0)
        return die(EXIT_USAGE, "%s", err);
    if (n_metrics == 0)
        return die(EXIT_USAGE, "no metrics selected");

    gvb_run baseline = {0};
    if (o->compare[0] && gvb_json_read(o->compare, &baseline, err, sizeof err) != 0)
        return die(EXIT_USAGE, "--compare: %s", err);
    if (check_writable(o->output) != 0)
        return die(EXIT_USAGE, "cannot write to output directory '%s': %s", o->output,
                   strerror(errno));

    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return die(EXIT_INTERNAL, "cannot find this program's path: %s", strerror(errno));
    self[n] = '\0';

    run_out out = {.json_only = o->json_only, .progress = o->verbose ? PROGRESS_LINES
                                                       : isatty(2) ? PROGRESS_TTY : PROGRESS_NONE};
    gvb_runner rn = {.opts = o, .self_exe = self, .base_env = environ,
                     .hooks = {.ctx = &out, .on_result = write_files, .on_progress = progress,
                               .on_worker_log = worker_log}};
    static gvb_run run;
    run.schema_version = GVB_SCHEMA_VERSION;
    snprintf(run.tool_version, sizeof run.tool_version, "%s", GVB_VERSION GVB_BUILD_SUFFIX);
    if (needs_gpu(systems, o->n_systems, metrics, (size_t)n_metrics) &&
        gvb_runner_probe(&rn, &run.gpu, err, sizeof err) != 0)
        return die(EXIT_NO_GPU, "%s", err);
    if (o->auto_limits)
        apply_auto_limits(o, &run.gpu);
    const gvb_kv_item *total = gvb_kv_get(&run.gpu, "memory_total_bytes");
    if (wl && gvb_workload_builtin_memory(wl, o->memory_limit, total && !total->is_text ? total->num : 0,
                                          o->processes) != 0)
        return die(EXIT_INTERNAL, "--builtin: no room for --memory in the command");
    if (mkdir_p(o->output) != 0 || make_run_dir(o->output, out.dir, sizeof out.dir) != 0)
        return die(EXIT_USAGE, "cannot create a run directory in '%s': %s", o->output,
                   strerror(errno));
    if (wl) { /* the tenants read the program from here (core/workload_spec.h) */
        char spec[PATH_MAX];
        snprintf(spec, sizeof spec, "%s/workload.spec", out.dir);
        if (gvb_workload_spec_write(spec, wl->regex, wl->units, wl->duration_s, wl->argv,
                                    wl->argc, err, sizeof err) != 0)
            return die(EXIT_INTERNAL, "%s", err);
        if (!realpath(spec, o->workload)) /* PATH_MAX, as realpath wants */
            return die(EXIT_INTERNAL, "the workload spec %s: %s", spec, strerror(errno));
        gvb_kv_set_text(&run.config, "workload_regex", "%s", wl->regex);
        if (*wl->units)
            gvb_kv_set_text(&run.config, "workload_units_regex", "%s", wl->units);
        if (wl->builtin) { /* the report names it: the command line has no -- COMMAND */
            char words[512] = "";
            for (int i = 1, w = 0; i < wl->argc && w < (int)sizeof words; i++)
                w += snprintf(words + w, sizeof words - (size_t)w, " %s", wl->argv[i]);
            gvb_kv_set_text(&run.config, "workload_builtin", "%s (gpu-virt-bench%s)", wl->builtin,
                            words);
        }
        gvb_kv_set_num(&run.config, "workload_tenants", o->processes);
        gvb_kv_set_num(&run.config, "workload_duration_s", wl->duration_s);
    }

    iso_now(run.started_at, sizeof run.started_at);
    run.argc = full_argc;
    run.argv = calloc((size_t)full_argc + 1, sizeof *run.argv);
    for (int i = 0; run.argv && i < full_argc; i++)
        run.argv[i] = strdup(full_argv[i]);
    fill_host(&run.host);
    fill_config(&run.config, o);

    catch_stop_signals();

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = gvb_runner_run(&rn, systems, o->n_systems, metrics, (size_t)n_metrics, &run);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (out.progress == PROGRESS_TTY)
        fputc('\n', stderr);
    else if (out.progress == PROGRESS_LINES)
        fprintf(stderr, "[done] %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) +
                                             (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    iso_now(run.finished_at, sizeof run.finished_at);
    run.duration_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    write_files(&out, &run);

    if (!o->json_only)
        gvb_text_write(stdout, &run);
    if (o->compare[0]) {
        printf("\ncompared with %s:\n", o->compare);
        gvb_compare_write(stdout, &run, &baseline);
    }
    printf("\nresults: %s/results.json%s\n", out.dir,
           o->json_only ? "" : " (+ results.csv, summary.txt)");
    /* two or more systems: the comparison report beside the results (docs/report.md) */
    if (!o->json_only && run.n_systems >= 2) {
        if (gvb_report_write_run_files(out.dir, &run, o->compare[0] ? &baseline : NULL, o->compare,
                                       err, sizeof err) == 0)
            printf("report: %s/report.html (+ report.md)\n", out.dir);
        else {
            fprintf(stderr, "gpu-virt-bench: error: report: %s\n", err);
            out.write_failed = 1;
        }
    }
    gvb_run_free(&baseline);

    int stopped = stop_catching_signals();
    int code = EXIT_OK;
    for (size_t i = 0; i < run.n_results; i++) {
        if (run.results[i].status == GVB_FAIL && code < EXIT_FAILED)
            code = EXIT_FAILED;
        if (run.results[i].status == GVB_INERT)
            code = EXIT_INERT;
    }
    if (out.write_failed)
        code = EXIT_INTERNAL;
    if (rc != 0 || stopped)
        code = EXIT_INTERRUPTED;
    gvb_run_free(&run);
    return code;
}

/* ---- serve ----------------------------------------------------------------------------- */

/* `serve [options]`: the built-in LLM serving workload (core/serve.h, docs/workload.md). */
static int cmd_serve(int argc, char **argv)
{
    static gvb_serve_opts so;
    static gvb_serve_result res;
    char err[1024];
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return EXIT_OK;
    }
    if (gvb_serve_parse(argc, argv, &so, err, sizeof err) != 0)
        return die(EXIT_USAGE, "serve: %s", err);
    switch (gvb_serve_run(&so, &res, err, sizeof err)) {
    case GVB_SERVE_OK:
        gvb_serve_write(stdout, &so, &res);
        return fflush(stdout) == 0 ? EXIT_OK : die(EXIT_INTERNAL, "serve: stdout: %s", strerror(errno));
    case GVB_SERVE_NO_GPU: return die(EXIT_NO_GPU, "serve: %s", err);
    case GVB_SERVE_UNTRUSTED: return die(EXIT_FAILED, "serve: %s", err);
    default: return die(EXIT_INTERNAL, "serve: %s", err);
    }
}

/* ---- validate -------------------------------------------------------------------------- */

/* gvb_write_atomic writes through a (FILE *, const gvb_run *) callback; validate.json is not
 * a run, so the adapter takes its report from here. */
static const gvb_validate_report *validate_json_report;
static int write_validate_json(FILE *f, const gvb_run *unused)
{
    (void)unused;
    return gvb_validate_write_json(f, validate_json_report);
}

/* The results.json a child run wrote into dir/<timestamp>/. */
static int find_results(const char *dir, char *out, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = -1;
    while (d && rc != 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(out, len, "%s/%s/results.json", dir, e->d_name);
        rc = access(out, R_OK);
    }
    if (d)
        closedir(d);
    return rc;
}

static int cmd_validate(int argc, char **argv)
{
    static gvb_validate_opts vo;
    static gvb_options o;
    static gvb_validate_case cases[GVB_VALIDATE_MAX_CASES];
    static gvb_run runs[GVB_VALIDATE_MAX_CASES];
    static gvb_check checks[64];
    static char results[GVB_VALIDATE_MAX_CASES][PATH_MAX + 64];
    gvb_case_outcome outs[GVB_VALIDATE_MAX_CASES] = {0};
    int exit_codes[GVB_VALIDATE_MAX_CASES] = {0};
    const char *result_paths[GVB_VALIDATE_MAX_CASES] = {0};
    char err[1024], self[PATH_MAX], dir[PATH_MAX];
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return EXIT_OK;
    }
    if (gvb_validate_parse(argc, argv, &vo, err, sizeof err) != 0)
        return die(EXIT_USAGE, "%s", err);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return die(EXIT_INTERNAL, "cannot find this program's path: %s", strerror(errno));
    self[n] = '\0';
    int n_cases = gvb_validate_plan(&vo, cases, GVB_VALIDATE_MAX_CASES, err, sizeof err);
    if (n_cases < 0)
        return die(EXIT_USAGE, "%s", err);
    /* the parent never creates a CUDA context: the probe and every run are child processes */
    gvb_options_defaults(&o);
    gvb_runner rn = {.opts = &o, .self_exe = self, .base_env = environ};
    gvb_kv gpu = {0};
    if (check_writable(vo.output) != 0)
        return die(EXIT_USAGE, "cannot write to output directory '%s': %s", vo.output,
                   strerror(errno));
    if (gvb_runner_probe(&rn, &gpu, err, sizeof err) != 0)
        return die(EXIT_NO_GPU, "validate needs a CUDA GPU: %s", err);
    if (mkdir_p(vo.output) != 0 || make_run_dir(vo.output, dir, sizeof dir) != 0)
        return die(EXIT_USAGE, "cannot create a run directory in '%s': %s", vo.output,
                   strerror(errno));
    catch_stop_signals();

    char started[40];
    iso_now(started, sizeof started);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n_cases && !gvb_stop_requested; i++) {
        if (cases[i].skip) {
            fprintf(stderr, "validate: %-16s skipped: %s\n", cases[i].name, cases[i].skip_reason);
            continue;
        }
        char case_dir[PATH_MAX + 64], log[PATH_MAX + 64];
        snprintf(case_dir, sizeof case_dir, "%s/%s", dir, cases[i].name);
        snprintf(log, sizeof log, "%s/%s.log", dir, cases[i].name);
        if (mkdir_p(case_dir) != 0)
            return die(EXIT_INTERNAL, "cannot create %s: %s", case_dir, strerror(errno));
        struct timespec c0, c1;
        clock_gettime(CLOCK_MONOTONIC, &c0);
        exit_codes[i] = outs[i].exit_code = gvb_validate_spawn(self, &cases[i], case_dir, log, environ);
        clock_gettime(CLOCK_MONOTONIC, &c1);
        fprintf(stderr, "validate: %-16s exit %d  %.1f s\n", cases[i].name, exit_codes[i],
                (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9);
        if (find_results(case_dir, results[i], sizeof results[i]) != 0)
            snprintf(outs[i].why, sizeof outs[i].why, "no results.json (log: %s)", log);
        else if (gvb_json_read(results[i], &runs[i], err, sizeof err) != 0)
            snprintf(outs[i].why, sizeof outs[i].why, "%s", err);
        else
            outs[i].run = &runs[i], result_paths[i] = results[i];
    }
    if (gvb_stop_requested)
        return die(EXIT_INTERRUPTED, "validate interrupted; partial runs in %s", dir);
    int n_checks = gvb_validate_evaluate(cases, outs, n_cases, checks,
                                         (int)(sizeof checks / sizeof checks[0]));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    gvb_validate_report rep = {
        .checks = checks, .n_checks = n_checks, .cases = cases, .exit_codes = exit_codes,
        .results = result_paths, .n_cases = n_cases, .gpu = &gpu, .dir = dir,
        .started_at = started,
        .wall_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9};
    gvb_validate_write_text(stdout, &rep);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/validate.json", dir);
    validate_json_report = &rep;
    int wrc = gvb_write_atomic(path, write_validate_json, NULL);
    printf("checks: %s\n", path);
    for (int i = 0; i < n_cases; i++)
        if (outs[i].run)
            gvb_run_free(&runs[i]);
    gvb_kv_free(&gpu);
    if (wrc != 0)
        return die(EXIT_INTERNAL, "cannot write %s: %s", path, strerror(errno));
    if (stop_catching_signals())
        return die(EXIT_INTERRUPTED, "validate interrupted while writing %s", path);
    return gvb_validate_failures(checks, n_checks) ? EXIT_FAILED : EXIT_OK;
}

/* ---- list, report -------------------------------------------------------------------- */

static int cmd_list(int argc, char **argv)
{
    int json = 0, all = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--all"))
            all = 1;
        else if (!strcmp(argv[i], "--format") && i + 1 < argc && !strcmp(argv[i + 1], "json"))
            json = 1, i++;
        else if (!strcmp(argv[i], "--format") && i + 1 < argc && !strcmp(argv[i + 1], "text"))
            json = 0, i++;
        else if (!strcmp(argv[i], "--format=json"))
            json = 1;
        else
            return die(EXIT_USAGE, "list: unknown argument '%s' (--format text|json, --all)",
                       argv[i]);
    }
    return (json ? gvb_catalog_write_json(stdout, all) : gvb_catalog_write_text(stdout, all))
               ? EXIT_INTERNAL
               : EXIT_OK;
}

typedef struct report_out {
    const gvb_model *model; /* NULL: the results as CSV */
    gvb_report_format fmt;
    const gvb_run *runs;
    int n;
} report_out;

static int write_report(FILE *f, const void *ctx)
{
    const report_out *o = ctx;
    int rc = 0;
    for (int i = 0; !o->model && i < o->n; i++)
        rc |= gvb_csv_write(f, &o->runs[i]);
    return o->model ? gvb_report_write(f, o->model, o->fmt) : rc;
}

/* `report FILE...`: the comparison report of one or more results files (docs/report.md);
 * --format csv keeps the per-file CSV of the results. */
static int cmd_report(int argc, char **argv)
{
    const char *format = NULL, *output = NULL, *compare = NULL;
    const char *files[GVB_MAX_REPORT_FILES];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = !strcmp(a, "--format") ? &format : !strcmp(a, "--output") ? &output
                           : !strcmp(a, "--compare") ? &compare : NULL;
        if (dst) {
            if (i + 1 >= argc)
                return die(EXIT_USAGE, "report: %s needs a value", a);
            *dst = argv[++i];
        } else if (a[0] == '-') {
            return die(EXIT_USAGE, "report: unknown option '%s' (--format, --output, --compare)", a);
        } else if (n == GVB_MAX_REPORT_FILES) {
            return die(EXIT_USAGE, "report: too many files (at most %d)", GVB_MAX_REPORT_FILES);
        } else {
            files[n++] = a;
        }
    }
    if (!n)
        return die(EXIT_USAGE, "report: no results files given");
    gvb_report_format fmt = GVB_REPORT_TXT;
    const char *slash = output ? strrchr(output, '/') : NULL;
    const char *name = slash ? slash + 1 : output;
    const char *ext = name ? strrchr(name, '.') : NULL;
    if (ext == name)
        ext = NULL; /* a dot file: no extension */
    int csv = format ? !strcmp(format, "csv") : ext && !strcmp(ext, ".csv");
    if (format && !csv && gvb_report_format_parse(format, &fmt) != 0)
        return die(EXIT_USAGE, "report: unknown format '%s' (md, html, txt, json, csv)", format);
    /* the format from the extension; an unknown one is refused (x.pdf got text), none is txt */
    if (!format && ext && !csv && gvb_report_format_from_path(output, &fmt) != 0)
        return die(EXIT_USAGE, "report: cannot tell the format of '%s' from its extension "
                   "(.md, .html, .htm, .txt, .json, .csv): give --format", output);

    static gvb_run runs[GVB_MAX_REPORT_FILES], base;
    const gvb_run *ptrs[GVB_MAX_REPORT_FILES];
    char err[1024];
    int loaded = 0, code = EXIT_OK;
    gvb_model model;
    int have_model = 0;
    for (; loaded < n; loaded++) {
        if (gvb_json_read(files[loaded], &runs[loaded], err, sizeof err) != 0) {
            code = die(EXIT_USAGE, "%s", err);
            goto out;
        }
        ptrs[loaded] = &runs[loaded];
    }
    if (compare && gvb_json_read(compare, &base, err, sizeof err) != 0) {
        compare = NULL;
        code = die(EXIT_USAGE, "--compare: %s", err);
        goto out;
    }
    if (csv && gvb_runs_same_gpu(ptrs, files, (size_t)n, err, sizeof err) != 0) {
        code = die(EXIT_USAGE, "report: %s", err);
        goto out;
    }
    if (!csv && gvb_model_build(&model, ptrs, files, (size_t)n, compare ? &base : NULL, compare,
                                err, sizeof err) != 0) {
        code = die(EXIT_USAGE, "report: %s", err);
        goto out;
    }
    have_model = !csv;
    report_out ro = {csv ? NULL : &model, fmt, runs, n};
    if (output ? gvb_write_file_atomic(output, write_report, &ro) != 0
               : write_report(stdout, &ro) != 0)
        code = die(output ? EXIT_USAGE : EXIT_INTERNAL, "report: cannot write %s: %s",
                   output ? output : "stdout", strerror(errno));
out:
    if (have_model)
        gvb_model_free(&model);
    for (int i = 0; i < loaded; i++)
        gvb_run_free(&runs[i]);
    if (compare)
        gvb_run_free(&base);
    return code;
}

int main(int argc, char **argv)
{
    /* stamped before anything else runs: OH-004 times its fresh process from here */
    double t_main = gvb_now();
    if (argc < 2) /* one line, as every other usage error; the usage itself is `help` */
        return die(EXIT_USAGE, "no command given (list, run, workload, serve, report, validate, help)");
    const char *cmd = argv[1];
    /* a metric's own child processes: the hidden subcommands the catalog names */
    const gvb_metric_def *child = gvb_metric_child_find(cmd);
    if (child)
        return child->impl->child_main(argc - 1, argv + 1, t_main);
    if (!strcmp(cmd, "__worker"))
        return gvb_worker_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "__probe"))
        return gvb_gpu_probe_main();
    if (!strcmp(cmd, "__calib-proof"))
        return gvb_calib_proof_main();
    if (!strcmp(cmd, "__proof"))
        return gvb_proof_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "__monitor"))
        return gvb_monitor_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("gpu-virt-bench %s\n", GVB_VERSION GVB_BUILD_SUFFIX);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "list"))
        return cmd_list(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1, argc, argv);
    if (!strcmp(cmd, "workload"))
        return cmd_workload(argc - 1, argv + 1, argc, argv);
    if (!strcmp(cmd, "validate"))
        return cmd_validate(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return cmd_report(argc - 1, argv + 1);
    if (cmd[0] == '-') /* the older tool had no subcommand: `gpu-virt-bench --system hami` */
        return cmd_run(argc, argv, argc, argv);
    return die(EXIT_USAGE, "unknown command '%s' (list, run, workload, serve, report, validate, help)",
               cmd);
}
