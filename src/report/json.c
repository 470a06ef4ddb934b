/* JSON results: writer and reader (jansson). Schema: docs/results-format.md. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sanitize.h"
#include "report/json_util.h"
#include "report/report.h"

int gvb_write_file_atomic(const char *path, int (*write_fn)(FILE *f, const void *ctx),
                          const void *ctx)
{
    /* The temporary file gets a fresh name from mkstemp (O_CREAT | O_EXCL): a file or symlink
     * planted at a predictable PATH.tmp is never opened, so never followed and overwritten. It
     * then takes the mode a plain fopen would have given (0666 less the umask). rename
     * replaces a symlink at PATH itself, never its target. */
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    mode_t mask = umask(0);
    umask(mask);
    FILE *f = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    int rc = write_fn(f, ctx);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

typedef struct run_writer {
    int (*fn)(FILE *f, const gvb_run *run);
    const gvb_run *run;
} run_writer;

static int write_run(FILE *f, const void *ctx)
{
    const run_writer *w = ctx;
    return w->fn(f, w->run);
}

int gvb_write_atomic(const char *path, int (*write_fn)(FILE *f, const gvb_run *run),
                     const gvb_run *run)
{
    run_writer w = {write_fn, run};
    return gvb_write_file_atomic(path, write_run, &w);
}

json_t *gvb_json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

int gvb_json_dump(FILE *f, json_t *root)
{
    if (!root)
        return -1;
    int rc = json_dumpf(root, f, JSON_INDENT(1) | JSON_REAL_PRECISION(10) | JSON_PRESERVE_ORDER);
    fputc('\n', f);
    json_decref(root);
    return rc || ferror(f) ? -1 : 0;
}

/* Integral values (counts, bytes) are written as JSON integers. */
static json_t *kv_num(double v)
{
    if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0)
        return json_integer((json_int_t)v);
    return gvb_json_num(v);
}

static json_t *kv_to_json(const gvb_kv *kv)
{
    json_t *o = json_object();
    for (size_t i = 0; i < kv->n; i++)
        json_object_set_new(o, kv->items[i].key,
                            kv->items[i].is_text ? json_string(kv->items[i].text)
                                                 : kv_num(kv->items[i].num));
    return o;
}

static json_t *samples_to_json(const gvb_series *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, gvb_json_num(s->v[i]));
    return a;
}

static json_t *stats_to_json(const gvb_stats *st)
{
    if (st->n == 0)
        return json_null();
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:[o, o]}", "n",
                     (json_int_t)st->n, "mean", gvb_json_num(st->mean), "median", gvb_json_num(st->median), "stdev",
                     gvb_json_num(st->stdev), "cv", gvb_json_num(st->cv), "min", gvb_json_num(st->min), "max", gvb_json_num(st->max),
                     "p50", gvb_json_num(st->p50), "p95", gvb_json_num(st->p95), "p99", gvb_json_num(st->p99),
                     "ci95_median", gvb_json_num(st->ci_lo), gvb_json_num(st->ci_hi));
}

static json_t *result_to_json(const gvb_result *r)
{
    json_t *series = json_object();
    for (size_t i = 0; i < r->n_series; i++) {
        gvb_stats st = r->series[i].stats;
        if (r->series[i].stats_n != r->series[i].n || r->series[i].n == 0)
            gvb_stats_compute(r->series[i].v, r->series[i].n, 1, &st);
        json_object_set_new(series, r->series[i].name,
                            json_pack("{s:o, s:o}", "stats", stats_to_json(&st), "samples",
                                      samples_to_json(&r->series[i])));
    }
    gvb_stats st = r->stats;
    gvb_result_ci(r, &st.ci_lo, &st.ci_hi);
    json_t *reps = json_array();
    for (size_t i = 0; i < r->replicate_sizes.n; i++)
        json_array_append_new(reps, kv_num(r->replicate_sizes.v[i]));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:o, s:o, s:o, s:o, s:o, "
                     "s:o, s:o}",
                     "system", r->system, "metric", r->metric, "name", r->name, "category",
                     r->category, "unit", r->unit, "direction", gvb_direction_name(r->direction),
                     "tenants", r->tenants, "status", gvb_status_name(r->status), "reason",
                     r->reason, "value", r->has_value ? gvb_json_num(r->value) : json_null(), "stats",
                     stats_to_json(&st), "samples", samples_to_json(&r->samples),
                     "replicates", reps, "extras",
                     kv_to_json(&r->extras), "series", series, "wall_s", gvb_json_num(r->wall_s));
}

int gvb_json_write(FILE *f, const gvb_run *run)
{
    json_t *argv = json_array();
    for (int i = 0; i < run->argc; i++)
        json_array_append_new(argv, json_string(run->argv[i]));
    json_t *systems = json_array();
    for (size_t i = 0; i < run->n_systems; i++)
        json_array_append_new(systems,
                              json_pack("{s:s, s:s, s:o, s:o}", "name", run->systems[i].name,
                                        "kind", run->systems[i].kind, "config",
                                        kv_to_json(&run->systems[i].config), "activation",
                                        kv_to_json(&run->systems[i].activation)));
    json_t *results = json_array();
    for (size_t i = 0; i < run->n_results; i++)
        json_array_append_new(results, result_to_json(&run->results[i]));
    json_t *root = json_pack(
        "{s:i, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "schema_version",
        run->schema_version, "tool", "gpu-virt-bench", "tool_version", run->tool_version,
        "started_at", run->started_at, "finished_at", run->finished_at, "duration_s",
        gvb_json_num(run->duration_s), "argv", argv, "host", kv_to_json(&run->host), "gpu",
        kv_to_json(&run->gpu), "config", kv_to_json(&run->config), "systems", systems, "results",
        results);
    return gvb_json_dump(f, root);
}

/* ---- reader ----------------------------------------------------------------------------- */

/* Every string read from a file is cleaned of control characters and broken UTF-8 on the
 * way in (core/sanitize.h), so that no writer prints a terminal escape from a file. */

static double jnum(const json_t *v) { return json_is_number(v) ? json_number_value(v) : NAN; }

static char *clean_dup(const char *s)
{
    char *d = strdup(s ? s : "");
    return d ? gvb_sanitize_text(d) : NULL;
}

static void json_to_kv(const json_t *o, gvb_kv *kv)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        char *k = clean_dup(key), *text = json_is_string(v) ? clean_dup(json_string_value(v)) : NULL;
        if (k && text)
            gvb_kv_set_text(kv, k, "%s", text);
        else if (k && !json_is_string(v))
            gvb_kv_set_num(kv, k, jnum(v));
        free(k);
        free(text);
    }
}

static void json_to_series(const json_t *a, gvb_series *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) gvb_series_push(s, jnum(v));
}

static void copy_str(char *dst, size_t len, const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(dst, len, "%s", s ? s : "");
    gvb_sanitize_text(dst); /* after the copy: a character it cut in two goes too */
}

static int read_result(const json_t *jr, gvb_run *run, unsigned long long seed)
{
    gvb_result *r = gvb_run_add_result(run);
    if (!r)
        return -1;
    copy_str(r->system, sizeof r->system, jr, "system");
    copy_str(r->metric, sizeof r->metric, jr, "metric");
    copy_str(r->name, sizeof r->name, jr, "name");
    copy_str(r->category, sizeof r->category, jr, "category");
    copy_str(r->unit, sizeof r->unit, jr, "unit");
    copy_str(r->reason, sizeof r->reason, jr, "reason");
    const char *dir = json_string_value(json_object_get(jr, "direction"));
    const char *st = json_string_value(json_object_get(jr, "status"));
    if (!r->system[0] || !r->metric[0] || !dir || !st ||
        gvb_direction_parse(dir, &r->direction) != 0 || gvb_status_parse(st, &r->status) != 0)
        return -1;
    json_t *tenants = json_object_get(jr, "tenants");
    json_int_t nt = json_integer_value(tenants);
    if (tenants && (!json_is_integer(tenants) || nt < 0 || nt > INT_MAX))
        return -1;
    r->tenants = (int)nt;
    json_t *v = json_object_get(jr, "value");
    r->has_value = json_is_number(v);
    r->value = jnum(v);
    json_to_series(json_object_get(jr, "samples"), &r->samples);
    /* absent (files from before replicates): one group of all samples */
    json_to_series(json_object_get(jr, "replicates"), &r->replicate_sizes);
    json_to_kv(json_object_get(jr, "extras"), &r->extras);
    const char *key;
    json_t *js;
    json_object_foreach(json_object_get(jr, "series"), key, js)
    {
        char *name = clean_dup(key);
        gvb_series *s = name ? gvb_result_series(r, name) : NULL;
        free(name);
        if (s)
            json_to_series(json_object_get(js, "samples"), s);
    }
    r->wall_s = jnum(json_object_get(jr, "wall_s"));
    /* statistics are recomputed from the raw samples: the file's numbers are not trusted;
     * the bootstraps wait until something prints their interval (gvb_result_ci) */
    int had = r->has_value;
    gvb_result_describe(r, seed);
    r->has_value = had;
    if (!had)
        r->value = NAN;
    return 0;
}

int gvb_json_read(const char *path, gvb_run *run, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    memset(run, 0, sizeof *run);
    if (!root) {
        snprintf(err, errlen, "%s: not a results file: %s (line %d)", path, je.text, je.line);
        return -1;
    }
    int rc = -1;
    const char *tool = json_string_value(json_object_get(root, "tool"));
    json_t *results = json_object_get(root, "results");
    if (!tool || strcmp(tool, "gpu-virt-bench") != 0 || !json_is_array(results)) {
        snprintf(err, errlen, "%s: not a gpu-virt-bench results file", path);
        goto out;
    }
    /* checked as the file's integer: 4294967297 cast to int was 1 */
    json_t *schema = json_object_get(root, "schema_version");
    json_int_t version = json_integer_value(schema);
    if (!json_is_integer(schema) || version < 1 || version > GVB_SCHEMA_VERSION) {
        char shown[64] = "missing";
        if (json_is_number(schema))
            snprintf(shown, sizeof shown, "%.17g", json_number_value(schema));
        snprintf(err, errlen, "%s: schema version %s is not supported (this tool reads 1..%d)",
                 path, shown, GVB_SCHEMA_VERSION);
        goto out;
    }
    run->schema_version = (int)version;
    copy_str(run->tool_version, sizeof run->tool_version, root, "tool_version");
    copy_str(run->started_at, sizeof run->started_at, root, "started_at");
    copy_str(run->finished_at, sizeof run->finished_at, root, "finished_at");
    run->duration_s = jnum(json_object_get(root, "duration_s"));
    json_t *argv = json_object_get(root, "argv");
    run->argc = (int)json_array_size(argv);
    run->argv = calloc((size_t)run->argc + 1, sizeof *run->argv);
    for (int i = 0; run->argv && i < run->argc; i++) {
        run->argv[i] = clean_dup(json_string_value(json_array_get(argv, (size_t)i)));
    }
    json_to_kv(json_object_get(root, "host"), &run->host);
    json_to_kv(json_object_get(root, "gpu"), &run->gpu);
    json_to_kv(json_object_get(root, "config"), &run->config);
    size_t i;
    json_t *js;
    json_array_foreach(json_object_get(root, "systems"), i, js)
    {
        const char *name = json_string_value(json_object_get(js, "name"));
        const char *kind = json_string_value(json_object_get(js, "kind"));
        gvb_system_record *s = gvb_run_add_system(run, name ? name : "?", kind ? kind : "?");
        if (!s)
            goto out;
        gvb_sanitize_text(s->name);
        gvb_sanitize_text(s->kind);
        json_to_kv(json_object_get(js, "config"), &s->config);
        json_to_kv(json_object_get(js, "activation"), &s->activation);
    }
    uint64_t sd;
    if (gvb_config_seed(&run->config, &sd) != 0) {
        snprintf(err, errlen, "%s: config.seed is not a whole number 0..2^64-1", path);
        goto out;
    }
    json_array_foreach(results, i, js)
    {
        if (read_result(js, run, sd) != 0) {
            snprintf(err, errlen, "%s: result %zu is malformed", path, i);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        gvb_run_free(run);
    return rc;
}
