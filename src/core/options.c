/* Option parsing and metric selection (see options.h). */
#include "core/options.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "calib/calib_account.h"

void gvb_options_defaults(gvb_options *o)
{
    memset(o, 0, sizeof *o);
    o->iterations = GVB_DEFAULT_ITERATIONS;
    o->warmup = GVB_DEFAULT_WARMUP;
    o->processes = GVB_DEFAULT_PROCESSES;
    o->replicates = GVB_DEFAULT_REPLICATES;
    o->seed = GVB_DEFAULT_SEED;
    snprintf(o->output, sizeof o->output, "%s", GVB_DEFAULT_OUTPUT);
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

int gvb_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int gvb_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

int gvb_parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* Splits a comma list, calling add(item) for each non-empty item. The whole list is split
 * (a copy of any length: a fixed buffer cut long --metrics lists silently). */
static int each_item(const char *list, int (*add)(gvb_options *, const char *, char *, size_t),
                     gvb_options *o, char *err, size_t errlen)
{
    char *buf = strdup(list);
    if (!buf)
        return fail(err, errlen, "out of memory");
    char *save = NULL;
    int any = 0, rc = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok)
            continue;
        any = 1;
        rc = add(o, tok, err, errlen);
    }
    free(buf);
    if (rc != 0)
        return -1;
    return any ? 0 : fail(err, errlen, "empty list '%s'", list);
}

static int add_system(gvb_options *o, const char *name, char *err, size_t errlen)
{
    for (int i = 0; i < o->n_systems; i++)
        if (strcmp(o->systems[i], name) == 0)
            return 0;
    if (o->n_systems >= GVB_MAX_SYSTEMS)
        return fail(err, errlen, "too many systems (at most %d)", GVB_MAX_SYSTEMS);
    if (strlen(name) >= sizeof o->systems[0])
        return fail(err, errlen, "system name too long: '%s'", name);
    snprintf(o->systems[o->n_systems++], sizeof o->systems[0], "%s", name);
    return 0;
}

static int add_pattern(gvb_options *o, const char *p, char *err, size_t errlen)
{
    if (o->n_patterns >= GVB_MAX_PATTERNS)
        return fail(err, errlen, "too many --metrics entries");
    if (strlen(p) >= sizeof o->patterns[0])
        return fail(err, errlen, "unknown metric '%s'", p);
    snprintf(o->patterns[o->n_patterns++], sizeof o->patterns[0], "%s", p);
    return 0;
}

static int add_category(gvb_options *o, const char *name, char *err, size_t errlen)
{
    gvb_category c;
    if (gvb_category_parse(name, &c) != 0) {
        char known[256] = ""; /* the visible categories, from the catalog */
        size_t off = 0;
        for (int i = 0; i < GVB_CAT_COUNT && off < sizeof known; i++)
            if (i != GVB_CAT_SELFTEST && i != GVB_CAT_WORKLOAD)
                off += (size_t)snprintf(known + off, sizeof known - off, "%s%s", off ? ", " : "",
                                        gvb_categories[i].name);
        return fail(err, errlen, "unknown category '%s' (%s)", name, known);
    }
    if (c == GVB_CAT_WORKLOAD)
        return fail(err, errlen, "category 'workload' runs your own program: use `gpu-virt-bench "
                                 "workload [options] -- COMMAND`");
    o->categories |= 1u << c;
    return 0;
}

static int add_preload(gvb_options *o, const char *spec, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return fail(err, errlen, "--preload wants NAME=PATH, got '%s'", spec);
    if (o->n_preloads >= GVB_MAX_PRELOADS)
        return fail(err, errlen, "too many --preload systems (at most %d)", GVB_MAX_PRELOADS);
    gvb_preload_spec *p = &o->preloads[o->n_preloads];
    if ((size_t)(eq - spec) >= sizeof p->name || strlen(eq + 1) >= sizeof p->path)
        return fail(err, errlen, "--preload '%s' is too long", spec);
    snprintf(p->name, sizeof p->name, "%.*s", (int)(eq - spec), spec);
    snprintf(p->path, sizeof p->path, "%s", eq + 1);
    o->n_preloads++;
    return 0;
}

static int add_env(gvb_options *o, const char *spec, char *err, size_t errlen)
{
    const char *colon = strchr(spec, ':');
    const char *eq = colon ? strchr(colon, '=') : NULL;
    if (!colon || colon == spec || !eq || eq == colon + 1)
        return fail(err, errlen, "--env wants SYSTEM:KEY=VALUE, got '%s'", spec);
    if (o->n_extra_env >= GVB_MAX_EXTRA_ENV)
        return fail(err, errlen, "too many --env entries (at most %d)", GVB_MAX_EXTRA_ENV);
    gvb_env_spec *e = &o->extra_env[o->n_extra_env];
    if ((size_t)(colon - spec) >= sizeof e->system || strlen(colon + 1) >= sizeof e->assignment)
        return fail(err, errlen, "--env '%s' is too long", spec);
    snprintf(e->system, sizeof e->system, "%.*s", (int)(colon - spec), spec);
    snprintf(e->assignment, sizeof e->assignment, "%s", colon + 1);
    o->n_extra_env++;
    return 0;
}

/* --calib SPEC: checked here so that a bad spec is a usage error, not an inert layer */
static int set_calib(gvb_options *o, const char *spec, char *err, size_t errlen)
{
    gvb_calib_spec parsed;
    char why[256];
    if (!spec[strspn(spec, ", ")]) /* "" and ",,," alike: no effect named */
        return fail(err, errlen, "--calib: empty spec (e.g. launch_us=20,alloc_us=50,mem=3g,duty=50)");
    if (strlen(spec) >= sizeof o->calib)
        return fail(err, errlen, "--calib: spec too long");
    if (gvb_calib_spec_parse(spec, &parsed, why, sizeof why) != 0)
        return fail(err, errlen, "--calib: %s", why);
    snprintf(o->calib, sizeof o->calib, "%s", spec);
    return 0;
}

/* Is a system of this kind selected (by its name or as an instance "kind@label")? */
static int has_system(const gvb_options *o, const char *kind)
{
    size_t n = strlen(kind);
    for (int i = 0; i < o->n_systems; i++)
        if (strncmp(o->systems[i], kind, n) == 0 &&
            (o->systems[i][n] == '\0' || o->systems[i][n] == '@'))
            return 1;
    return 0;
}

/* A variable name a shell would accept: a letter or '_', then letters, digits, '_'. */
static int env_name_ok(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

/* --env entries must name a selected system and a valid variable: either mistake used to
 * be ignored without a word, and the layer ran without the setting. */
static int check_env(const gvb_options *o, char *err, size_t errlen)
{
    for (int i = 0; i < o->n_extra_env; i++) {
        const gvb_env_spec *e = &o->extra_env[i];
        if (!has_system(o, e->system))
            return fail(err, errlen, "--env %s:%s: system '%s' is not selected (--systems)",
                        e->system, e->assignment, e->system);
        size_t key = strcspn(e->assignment, "=");
        if (!env_name_ok(e->assignment, key))
            return fail(err, errlen, "--env %s:%s: '%.*s' is not a variable name (letters, "
                        "digits, '_'; not starting with a digit)",
                        e->system, e->assignment, (int)key, e->assignment);
    }
    return 0;
}

enum {
    OPT_SYSTEMS = 256, OPT_SYSTEM, OPT_METRICS, OPT_CATEGORY, OPT_ITER, OPT_WARMUP, OPT_PROCS,
    OPT_MEM, OPT_COMPUTE, OPT_OUTPUT, OPT_SEED, OPT_QUICK, OPT_VERBOSE, OPT_JSON_ONLY,
    OPT_COMPARE, OPT_DEADLINE, OPT_MIN_TIME, OPT_ALLOW_INERT, OPT_HAMI_LIB, OPT_PRELOAD,
    OPT_ENV, OPT_MIG_PROFILE, OPT_CALIB, OPT_REPLICATES, OPT_LIMITS,
};

int gvb_options_parse(int argc, char **argv, gvb_options *o, char *err, size_t errlen)
{
    static const struct option opts[] = {
        {"systems", required_argument, 0, OPT_SYSTEMS},
        {"system", required_argument, 0, OPT_SYSTEM},
        {"metrics", required_argument, 0, OPT_METRICS},
        {"category", required_argument, 0, OPT_CATEGORY},
        {"iterations", required_argument, 0, OPT_ITER},
        {"warmup", required_argument, 0, OPT_WARMUP},
        {"processes", required_argument, 0, OPT_PROCS},
        {"memory-limit", required_argument, 0, OPT_MEM},
        {"compute-limit", required_argument, 0, OPT_COMPUTE},
        {"output", required_argument, 0, OPT_OUTPUT},
        {"seed", required_argument, 0, OPT_SEED},
        {"quick", no_argument, 0, OPT_QUICK},
        {"verbose", no_argument, 0, OPT_VERBOSE},
        {"json-only", no_argument, 0, OPT_JSON_ONLY},
        {"compare", required_argument, 0, OPT_COMPARE},
        {"deadline", required_argument, 0, OPT_DEADLINE},
        {"min-time", required_argument, 0, OPT_MIN_TIME},
        {"allow-inert", no_argument, 0, OPT_ALLOW_INERT},
        {"hami-lib", required_argument, 0, OPT_HAMI_LIB},
        {"preload", required_argument, 0, OPT_PRELOAD},
        {"env", required_argument, 0, OPT_ENV},
        {"mig-profile", required_argument, 0, OPT_MIG_PROFILE},
        {"calib", required_argument, 0, OPT_CALIB},
        {"replicates", required_argument, 0, OPT_REPLICATES},
        {"limits", required_argument, 0, OPT_LIMITS},
        {0, 0, 0, 0},
    };
    long v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":v", opts, NULL)) != -1) {
        switch (c) {
        case OPT_SYSTEMS:
        case OPT_SYSTEM:
            if (each_item(optarg, add_system, o, err, errlen))
                return -1;
            break;
        case OPT_METRICS:
            if (each_item(optarg, add_pattern, o, err, errlen))
                return -1;
            break;
        case OPT_CATEGORY:
            if (each_item(optarg, add_category, o, err, errlen))
                return -1;
            break;
        case OPT_ITER:
            if (gvb_parse_long(optarg, 1, 10000000, &v))
                return fail(err, errlen, "--iterations must be a whole number >= 1, got '%s'",
                            optarg);
            o->iterations = (int)v;
            o->iterations_set = 1;
            break;
        case OPT_WARMUP:
            if (gvb_parse_long(optarg, 0, 10000000, &v))
                return fail(err, errlen, "--warmup must be a whole number >= 0, got '%s'", optarg);
            o->warmup = (int)v;
            o->warmup_set = 1;
            break;
        case OPT_PROCS:
            if (gvb_parse_long(optarg, 1, 64, &v))
                return fail(err, errlen, "--processes must be 1..64, got '%s'", optarg);
            o->processes = (int)v;
            break;
        case OPT_REPLICATES:
            if (gvb_parse_long(optarg, 1, GVB_MAX_REPLICATES, &v))
                return fail(err, errlen, "--replicates must be 1..%d, got '%s'",
                            GVB_MAX_REPLICATES, optarg);
            o->replicates = (int)v;
            o->replicates_set = 1;
            break;
        case OPT_MEM:
            if (gvb_parse_size(optarg, &o->memory_limit))
                return fail(err, errlen,
                            "--memory-limit: malformed size '%s' (examples: 4g, 4096m, 4096 = MiB)",
                            optarg);
            break;
        case OPT_COMPUTE:
            if (gvb_parse_long(optarg, 1, 100, &v))
                return fail(err, errlen, "--compute-limit must be a percentage 1..100, got '%s'",
                            optarg);
            o->compute_limit = (int)v;
            break;
        case OPT_OUTPUT:
            if (!*optarg || strlen(optarg) >= sizeof o->output)
                return fail(err, errlen, "--output: bad directory '%s'", optarg);
            snprintf(o->output, sizeof o->output, "%s", optarg);
            break;
        case OPT_SEED:
            if (gvb_parse_u64(optarg, &o->seed) != 0)
                return fail(err, errlen, "--seed must be a whole number >= 0, got '%s'", optarg);
            break;
        case OPT_QUICK: o->quick = 1; break;
        case 'v':
        case OPT_VERBOSE: o->verbose = 1; break;
        case OPT_JSON_ONLY: o->json_only = 1; break;
        case OPT_COMPARE:
            if (!*optarg || strlen(optarg) >= sizeof o->compare)
                return fail(err, errlen, "--compare: bad file '%s'", optarg);
            snprintf(o->compare, sizeof o->compare, "%s", optarg);
            break;
        case OPT_DEADLINE:
            if (gvb_parse_seconds(optarg, &o->deadline_s) || o->deadline_s <= 0)
                return fail(err, errlen, "--deadline must be seconds > 0, got '%s'", optarg);
            break;
        case OPT_MIN_TIME:
            if (gvb_parse_seconds(optarg, &o->min_time_s))
                return fail(err, errlen, "--min-time must be seconds >= 0, got '%s'", optarg);
            break;
        case OPT_LIMITS:
            if (strcmp(optarg, "auto") != 0)
                return fail(err, errlen,
                            "--limits: only 'auto' is known (from the GPU: 1/%d of its memory, "
                            "%d %% compute), got '%s'",
                            GVB_AUTO_MEMORY_SHARE, GVB_AUTO_COMPUTE_PCT, optarg);
            o->auto_limits = 1;
            break;
        case OPT_ALLOW_INERT: o->allow_inert = 1; break;
        case OPT_HAMI_LIB:
            if (!*optarg || strlen(optarg) >= sizeof o->hami_lib)
                return fail(err, errlen, "--hami-lib: bad path '%s'", optarg);
            snprintf(o->hami_lib, sizeof o->hami_lib, "%s", optarg);
            break;
        case OPT_PRELOAD:
            if (add_preload(o, optarg, err, errlen))
                return -1;
            break;
        case OPT_ENV:
            if (add_env(o, optarg, err, errlen))
                return -1;
            break;
        case OPT_MIG_PROFILE:
            if (!*optarg || strlen(optarg) >= sizeof o->mig_profile)
                return fail(err, errlen, "--mig-profile: bad profile '%s'", optarg);
            snprintf(o->mig_profile, sizeof o->mig_profile, "%s", optarg);
            break;
        case OPT_CALIB:
            if (set_calib(o, optarg, err, errlen))
                return -1;
            break;
        case ':': return fail(err, errlen, "option '%s' needs a value", argv[optind - 1]);
        default: return fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
    if (o->quick) {
        if (!o->iterations_set)
            o->iterations = GVB_QUICK_ITERATIONS;
        if (!o->warmup_set)
            o->warmup = GVB_QUICK_WARMUP;
        if (!o->replicates_set)
            o->replicates = GVB_QUICK_REPLICATES;
    }
    if (o->n_systems == 0)
        add_system(o, "native", err, errlen);
    if (o->calib[0] && !has_system(o, "calib"))
        return fail(err, errlen, "--calib configures the calib system: add --systems calib");
    return check_env(o, err, errlen);
}

int gvb_check_metric_list(const char *list, char *err, size_t errlen)
{
    const gvb_metric_def *out[GVB_METRIC_COUNT];
    gvb_options *o = calloc(1, sizeof *o); /* large; not on the stack */
    if (!o)
        return fail(err, errlen, "out of memory");
    int rc = each_item(list, add_pattern, o, err, errlen);
    if (rc == 0 && gvb_select_metrics(o, out, GVB_METRIC_COUNT, err, errlen) < 0)
        rc = -1;
    free(o);
    return rc;
}

/* A library the loader is given by path must be there; errno names why not. */
static int check_library(const char *what, const char *path, char *err, size_t errlen)
{
    if (!strchr(path, '/') || access(path, R_OK) == 0)
        return 0;
    return fail(err, errlen, "%s: cannot read '%s': %s", what, path, strerror(errno));
}

int gvb_options_check_files(const gvb_options *o, char *err, size_t errlen)
{
    if (o->hami_lib[0] && check_library("--hami-lib", o->hami_lib, err, errlen) != 0)
        return -1;
    for (int i = 0; i < o->n_preloads; i++) {
        char what[sizeof o->preloads[i].name + 16];
        snprintf(what, sizeof what, "--preload %s", o->preloads[i].name);
        if (check_library(what, o->preloads[i].path, err, errlen) != 0)
            return -1;
    }
    return 0;
}

void gvb_options_auto_limits(gvb_options *o, double gpu_memory_bytes, char *line, size_t len)
{
    const double gib = 1024.0 * 1024.0 * 1024.0;
    char mem[160];
    if (o->memory_limit)
        snprintf(mem, sizeof mem, "%.1f GiB memory (--memory-limit)", (double)o->memory_limit / gib);
    else if (gpu_memory_bytes >= 1 << 20) {
        uint64_t share = (uint64_t)(gpu_memory_bytes / GVB_AUTO_MEMORY_SHARE);
        o->memory_limit = share & ~((UINT64_C(1) << 20) - 1);
        snprintf(mem, sizeof mem, "%.1f GiB memory (1/%d of the GPU's %.1f GiB)",
                 (double)o->memory_limit / gib, GVB_AUTO_MEMORY_SHARE, gpu_memory_bytes / gib);
    } else
        snprintf(mem, sizeof mem, "no memory limit (the GPU's memory is unknown)");
    const char *compute_why = o->compute_limit ? "--compute-limit" : "auto";
    if (!o->compute_limit)
        o->compute_limit = GVB_AUTO_COMPUTE_PCT;
    snprintf(line, len, "limits per tenant (--limits auto): %s, %d %% compute (%s)", mem,
             o->compute_limit, compute_why);
}

int gvb_replicate_iterations(const gvb_options *o)
{
    int r = o->replicates > 0 ? o->replicates : 1;
    return (o->iterations + r - 1) / r;
}

int gvb_metric_replicates(const gvb_options *o, const gvb_metric_def *m)
{
    if (m && m->impl && m->impl->one_replicate)
        return 1;
    return o->replicates > 0 ? o->replicates : 1;
}

int gvb_metric_iterations(const gvb_options *o, const gvb_metric_def *m)
{
    long long scale = m && m->impl && m->impl->iterations_scale > 1 ? m->impl->iterations_scale : 1;
    long long total = (long long)o->iterations * scale, r = gvb_metric_replicates(o, m);
    long long per = (total + r - 1) / r;
    return per > 100000000 ? 100000000 : (int)per; /* the worker's bound */
}

int gvb_select_metrics(const gvb_options *o, const gvb_metric_def **out, size_t max, char *err,
                       size_t errlen)
{
    int chosen[GVB_METRIC_COUNT] = {0};
    for (int p = 0; p < o->n_patterns; p++) {
        int hit = 0;
        for (size_t i = 0; i < GVB_METRIC_COUNT; i++) {
            if (fnmatch(o->patterns[p], gvb_catalog[i].code, FNM_CASEFOLD) == 0) {
                /* a glob reaches hidden self-tests only when it names them, and the workload
                 * metrics only through `workload` (they need its COMMAND) */
                if (gvb_metric_hidden(&gvb_catalog[i]) &&
                    (strncasecmp(o->patterns[p], "SELF", 4) ||
                     gvb_catalog[i].category == GVB_CAT_WORKLOAD))
                    continue;
                chosen[i] = hit = 1;
            }
        }
        if (!hit)
            return fail(err, errlen, "unknown metric '%s' (see `gpu-virt-bench list`)",
                        o->patterns[p]);
    }
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++)
        if (o->categories & (1u << gvb_catalog[i].category))
            chosen[i] = 1;
    int none = o->n_patterns == 0 && o->categories == 0;
    size_t n = 0;
    for (size_t i = 0; i < GVB_METRIC_COUNT && n < max; i++)
        if (chosen[i] || (none && !gvb_metric_hidden(&gvb_catalog[i])))
            out[n++] = &gvb_catalog[i];
    return (int)n;
}
