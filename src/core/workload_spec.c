/* `workload`'s hand-off file and figure reading: see workload_spec.h. */
#include "core/workload_spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "GVBWL3"
#define MAX_SPEC (1u << 20)

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "%s '%s'%s%s", what, path, errno ? ": " : "", errno ? strerror(errno) : "");
    return -1;
}

int gvb_workload_spec_write(const char *path, const char *regex, const char *units,
                            double duration_s, char *const *argv, int argc, char *err,
                            size_t errlen)
{
    errno = 0;
    if (argc < 1 || argc > GVB_WORKLOAD_MAX_ARGS)
        return snprintf(err, errlen, "a workload needs 1 to %d words of COMMAND, got %d",
                        GVB_WORKLOAD_MAX_ARGS, argc), -1;
    FILE *f = fopen(path, "wbe");
    if (!f)
        return fail(err, errlen, "cannot write the workload spec", path);
    int bad = fwrite(MAGIC, 1, sizeof MAGIC, f) != sizeof MAGIC;
    const char *re = regex ? regex : "", *un = units ? units : "";
    bad |= fwrite(re, 1, strlen(re) + 1, f) != strlen(re) + 1;
    bad |= fwrite(un, 1, strlen(un) + 1, f) != strlen(un) + 1;
    char dur[64];
    snprintf(dur, sizeof dur, "%.17g", duration_s > 0 ? duration_s : 0.0);
    bad |= fwrite(dur, 1, strlen(dur) + 1, f) != strlen(dur) + 1;
    for (int i = 0; i < argc; i++)
        bad |= fwrite(argv[i], 1, strlen(argv[i]) + 1, f) != strlen(argv[i]) + 1;
    bad |= fclose(f) != 0;
    return bad ? fail(err, errlen, "cannot write the workload spec", path) : 0;
}

int gvb_workload_spec_read(const char *path, gvb_workload_spec *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    errno = 0;
    FILE *f = fopen(path, "rbe");
    if (!f)
        return fail(err, errlen, "cannot read the workload spec", path);
    s->buf = malloc(MAX_SPEC);
    size_t n = s->buf ? fread(s->buf, 1, MAX_SPEC, f) : 0;
    fclose(f);
    errno = 0;
    if (!s->buf || n < sizeof MAGIC + 2 || n == MAX_SPEC || s->buf[n - 1] != '\0' ||
        memcmp(s->buf, MAGIC, sizeof MAGIC) != 0) {
        gvb_workload_spec_free(s);
        return fail(err, errlen, "not a workload spec (or truncated)", path);
    }
    char *p = s->buf + sizeof MAGIC, *end = s->buf + n;
    s->regex = p;
    p += strlen(p) + 1;
    s->units = p < end ? p : "";
    p += p < end ? strlen(p) + 1 : 0;
    char *e = NULL;
    s->duration_s = p < end ? strtod(p, &e) : NAN;
    if (p >= end || e == p || *e || !(s->duration_s >= 0) || !isfinite(s->duration_s)) {
        gvb_workload_spec_free(s);
        errno = 0;
        return fail(err, errlen, "a workload spec with a bad duration", path);
    }
    p += strlen(p) + 1;
    while (p < end && s->argc < GVB_WORKLOAD_MAX_ARGS) {
        s->argv[s->argc++] = p;
        p += strlen(p) + 1;
    }
    s->argv[s->argc] = NULL;
    if (s->argc == 0 || p != end) {
        gvb_workload_spec_free(s);
        return fail(err, errlen, "a workload spec without a command (or with too many words)",
                    path);
    }
    return 0;
}

void gvb_workload_spec_free(gvb_workload_spec *s)
{
    free(s->buf);
    memset(s, 0, sizeof *s);
}

int gvb_workload_regex_for(regex_t *re, const char *opt, const char *pattern, char *err,
                           size_t errlen)
{
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NEWLINE);
    if (rc != 0) {
        char why[128];
        regerror(rc, re, why, sizeof why);
        snprintf(err, errlen, "%s '%s': %s", opt, pattern, why);
        return -1;
    }
    if (re->re_nsub > 1) {
        snprintf(err, errlen, "%s '%s': %zu capture groups; give one (the number)", opt,
                 pattern, re->re_nsub);
        regfree(re);
        return -1;
    }
    return 0;
}

int gvb_workload_regex(regex_t *re, const char *pattern, char *err, size_t errlen)
{
    return gvb_workload_regex_for(re, "--metric-regex", pattern, err, errlen);
}

size_t gvb_workload_figures(const regex_t *re, const char *text, double *out, size_t max)
{
    size_t n = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *copy = strndup(line, len);
        regmatch_t m[2];
        if (copy && regexec(re, copy, 2, m, 0) == 0) {
            regmatch_t g = re->re_nsub >= 1 && m[1].rm_so >= 0 ? m[1] : m[0];
            char num[64];
            size_t gl = (size_t)(g.rm_eo - g.rm_so);
            snprintf(num, sizeof num, "%.*s", (int)(gl < sizeof num ? gl : sizeof num - 1),
                     copy + g.rm_so);
            char *e;
            errno = 0;
            double v = strtod(num, &e);
            if (e != num && errno == 0 && isfinite(v)) {
                if (n < max)
                    out[n] = v;
                n++;
            }
        }
        free(copy);
        line = nl ? nl + 1 : NULL;
    }
    return n;
}

const char *gvb_text_tail(const char *text, size_t n)
{
    size_t len = strlen(text);
    if (len <= n)
        return text;
    const char *p = text + len - n, *nl = strchr(p, '\n');
    return nl && nl[1] ? nl + 1 : p;
}

/* One option of `workload` at argv[*i] ("--name VALUE" or "--name=VALUE", before end): its
 * value, or NULL when argv[*i] is another option (*missing: it is this one, without a value). */
static const char *take(char **argv, int *i, int end, const char *name, int *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0 || (argv[*i][n] != '=' && argv[*i][n] != '\0'))
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (*i + 1 >= end) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* COMMAND's program as a path: as given when it has a '/', else the first executable regular
 * file of that name on PATH. 0, or -1. */
static int resolve_program(const char *name, char *path, size_t len)
{
    struct stat st;
    if (strchr(name, '/')) {
        snprintf(path, len, "%s", name);
        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0 ? 0 : -1;
    }
    const char *env = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", env && *env ? env : "/usr/local/bin:/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(path, len, "%s/%s", *d ? d : ".", name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0)
            return 0;
    }
    return -1;
}

const char *const gvb_workload_builtins = "llm-serve";

/* The workload metrics of N tenants (wall time, a figure higher or lower is better) and the
 * same program alone, index by index. */
static const char *const together[] = {"WL-001", "WL-002", "WL-003"};
static const char *const alone[] = {"WL-004", "WL-005", "WL-006"};

const char *gvb_workload_alone(const char *metric)
{
    for (size_t k = 0; k < sizeof together / sizeof *together; k++)
        if (!strcmp(metric, together[k]))
            return alone[k];
    return NULL;
}

/* The built-in workloads: the subcommand of this program each runs, its figure and direction. */
static const struct {
    const char *name, *subcommand, *regex, *better, *units, *figure_name;
} builtins[] = {
    {"llm-serve", "serve", "tokens/s: ([0-9.]+)", "higher", "requests, ([0-9]+) output tokens",
     "tokens/s"},
};

/* --builtin's COMMAND: this program's subcommand with --seed (run's); its figure's regex and
 * direction when not given. 0, or -1 with err. */
static int builtin_command(gvb_workload_args *a, const gvb_options *o, const char **better,
                           char *err, size_t errlen)
{
    size_t k = 0;
    while (k < sizeof builtins / sizeof *builtins && strcmp(builtins[k].name, a->builtin) != 0)
        k++;
    if (k == sizeof builtins / sizeof *builtins)
        return snprintf(err, errlen, "unknown built-in workload '%s' (known: %s)", a->builtin,
                        gvb_workload_builtins), -1;
    ssize_t n = readlink("/proc/self/exe", a->program, sizeof a->program - 1);
    if (n <= 0)
        return snprintf(err, errlen, "--builtin: cannot find this program's path: %s",
                        strerror(errno)), -1;
    a->program[n] = '\0';
    snprintf(a->builtin_values[0], sizeof a->builtin_values[0], "%llu",
             (unsigned long long)o->seed);
    char *words[] = {a->program, (char *)builtins[k].subcommand, "--seed", a->builtin_values[0]};
    a->argc = (int)(sizeof words / sizeof *words);
    memcpy(a->argv, words, sizeof words);
    a->argv[a->argc] = NULL;
    if (!a->regex) {
        a->regex = builtins[k].regex;
        if (!*better)
            *better = builtins[k].better;
        if (!a->name)
            a->name = builtins[k].figure_name;
    }
    if (!a->units)
        a->units = builtins[k].units;
    return 0;
}

int gvb_workload_builtin_memory(gvb_workload_args *a, uint64_t memory_limit, double device_bytes,
                                int tenants)
{
    uint64_t mib = memory_limit ? memory_limit >> 20
                   : tenants > 1 && device_bytes > 0 ? (uint64_t)(device_bytes / tenants) >> 20
                                                     : 0;
    if (!a->builtin || !mib)
        return 0;
    if (a->argc + 2 > GVB_WORKLOAD_MAX_ARGS)
        return -1;
    snprintf(a->builtin_values[1], sizeof a->builtin_values[1], "%llu", (unsigned long long)mib);
    a->argv[a->argc++] = "--memory";
    a->argv[a->argc++] = a->builtin_values[1];
    a->argv[a->argc] = NULL;
    return 0;
}

int gvb_workload_parse(int argc, char **argv, gvb_options *o, gvb_workload_args *a, char *err,
                       size_t errlen)
{
    memset(a, 0, sizeof *a);
    int dd = 1;
    while (dd < argc && strcmp(argv[dd], "--") != 0)
        dd++;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return snprintf(err, errlen, "out of memory"), -1;
    int nr = 0, tenants = 1, missing = 0, rc = 0;
    const char *better = NULL, *v, *opt = NULL;
    a->regex = NULL;
    rest[nr++] = argv[0];
    /* run's options that mean nothing here: a workload runs its program once per tenant and
     * replicate */
    static const char *const refused[] = {"--processes", "--iterations", "--warmup", "--min-time"};
    for (int i = 1; i < dd && rc == 0 && !missing; i++) {
        opt = argv[i];
        for (size_t k = 0; k < sizeof refused / sizeof *refused && rc == 0; k++) {
            size_t n = strlen(refused[k]);
            if (!strncmp(argv[i], refused[k], n) && (argv[i][n] == '\0' || argv[i][n] == '=')) {
                snprintf(err, errlen, "%s does not apply to a workload%s", refused[k],
                         k == 0 ? " (use --tenants N: N copies started together)"
                                : ": it runs its program once per tenant and replicate");
                rc = -1;
            }
        }
        if (rc != 0)
            break;
        if ((v = take(argv, &i, dd, "--tenants", &missing))) {
            long t = 0;
            if (gvb_parse_long(v, 1, 64, &t) != 0) {
                snprintf(err, errlen, "--tenants must be 1..64, got '%s'", v);
                rc = -1;
            }
            tenants = (int)t;
        } else if ((v = take(argv, &i, dd, "--metric-regex", &missing))) {
            a->regex = v;
        } else if ((v = take(argv, &i, dd, "--metric-units", &missing))) {
            a->units = v;
        } else if ((v = take(argv, &i, dd, "--metric-name", &missing))) {
            a->name = v;
        } else if ((v = take(argv, &i, dd, "--metric-better", &missing))) {
            better = v;
        } else if ((v = take(argv, &i, dd, "--builtin", &missing))) {
            a->builtin = v;
        } else if ((v = take(argv, &i, dd, "--duration", &missing))) {
            double x = 0;
            if (gvb_parse_seconds(v, &x) != 0 || !(x > 0) || x > 7 * 86400) {
                snprintf(err, errlen, "--duration is seconds, above 0 and at most a week, got "
                                      "'%s'", v);
                rc = -1;
            }
            a->duration_s = x;
        } else if (!missing) {
            rest[nr++] = argv[i];
        }
    }
    if (rc == 0 && missing) {
        snprintf(err, errlen, "%s has no value (write %s=VALUE for a value that starts with --)",
                 opt, opt);
        rc = -1;
    }
    if (rc == 0 && a->builtin && dd < argc) {
        snprintf(err, errlen, "--builtin %s is the program: give it or -- COMMAND, not both",
                 a->builtin);
        rc = -1;
    }
    if (rc == 0 && !a->builtin && dd >= argc - 1) {
        snprintf(err, errlen, "give your program after --: `gpu-virt-bench workload [options] "
                              "-- COMMAND [ARGS...]`, or a built-in one: --builtin %s",
                 gvb_workload_builtins);
        rc = -1;
    }
    if (rc == 0)
        rc = gvb_options_parse(nr, rest, o, err, errlen);
    free(rest);
    if (rc != 0)
        return -1;
    if (a->duration_s > 0 && o->deadline_s > 0 && o->deadline_s <= a->duration_s)
        return snprintf(err, errlen, "--deadline (%g s) must exceed --duration (%g s): the last "
                                     "run starts before the duration ends", o->deadline_s,
                        a->duration_s), -1;
    if (a->duration_s > 0 && !(o->deadline_s > 0))
        o->deadline_s = a->duration_s + 300; /* the default per tenant, after the soak */
    if (o->n_patterns || o->categories)
        return snprintf(err, errlen, "--metrics and --category choose built-in metrics; a "
                                     "workload measures your program"), -1;
    if (better && strcmp(better, "higher") && strcmp(better, "lower"))
        return snprintf(err, errlen, "--metric-better is higher or lower, got '%s'", better), -1;
    if (a->regex && !*a->regex)
        return snprintf(err, errlen, "--metric-regex is empty"), -1;
    if (a->builtin && builtin_command(a, o, &better, err, errlen) != 0)
        return -1;
    if (a->units && !*a->units)
        return snprintf(err, errlen, "--metric-units is empty"), -1;
    if (!a->regex)
        a->regex = "";
    if (!a->units)
        a->units = "";
    if (better && !*a->regex)
        return snprintf(err, errlen, "--metric-better needs --metric-regex"), -1;
    if (a->name && !*a->regex)
        return snprintf(err, errlen, "--metric-name needs --metric-regex"), -1;
    if (a->name) {
        /* printable ASCII: a unit goes into JSON, which takes no invalid UTF-8 */
        size_t n = strlen(a->name);
        int printable = n > 0;
        for (size_t i = 0; i < n; i++)
            printable &= (unsigned char)a->name[i] > ' ' && (unsigned char)a->name[i] < 0x7f;
        if (!printable || n >= sizeof o->metric_name)
            return snprintf(err, errlen, "--metric-name is 1 to %zu printable ASCII characters "
                                         "without spaces (the figure's unit, e.g. tokens/s), "
                                         "got '%s'", sizeof o->metric_name - 1, a->name), -1;
        snprintf(o->metric_name, sizeof o->metric_name, "%s", a->name);
    }
    regex_t re;
    if (*a->regex) {
        if (gvb_workload_regex(&re, a->regex, err, errlen) != 0)
            return -1;
        regfree(&re);
    }
    if (*a->units) {
        if (gvb_workload_regex_for(&re, "--metric-units", a->units, err, errlen) != 0)
            return -1;
        regfree(&re);
    }
    if (!a->builtin && resolve_program(argv[dd + 1], a->program, sizeof a->program) != 0)
        return snprintf(err, errlen, "no executable program '%s'%s", argv[dd + 1],
                        strchr(argv[dd + 1], '/') ? "" : " on PATH"), -1;
    if (!a->builtin)
        a->argc = argc - dd - 1;
    if (a->argc > GVB_WORKLOAD_MAX_ARGS)
        return snprintf(err, errlen, "COMMAND has %d words, at most %d", a->argc,
                        GVB_WORKLOAD_MAX_ARGS), -1;
    for (int i = 0; !a->builtin && i < a->argc; i++) /* a copy: the line stays as typed */
        a->argv[i] = i == 0 ? a->program : argv[dd + 1 + i];
    a->argv[a->argc] = NULL;
    int k = !*a->regex ? 0 : better && !strcmp(better, "lower") ? 2 : 1;
    a->metric = together[k];
    a->alone = tenants > 1 ? alone[k] : NULL;
    o->processes = tenants;
    return 0;
}
