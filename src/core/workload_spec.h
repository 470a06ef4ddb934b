/* What `gpu-virt-bench workload` hands its tenants: the COMMAND (argv, its program resolved to
 * a path) and the --metric-regex, in one file of the run's directory whose path travels in the
 * hand-off (gvb_worker.workload). NUL-separated: "GVBWL3", the regex ("" none), the units
 * regex ("" none), the soak's duration in seconds (0 none), then argv.
 * And the reading of a program's figures from its output. Pure C. */
#ifndef GVB_WORKLOAD_SPEC_H
#define GVB_WORKLOAD_SPEC_H

#include <limits.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "core/options.h"

#define GVB_WORKLOAD_MAX_ARGS 256

typedef struct gvb_workload_spec {
    const char *regex;                        /* "" when none */
    const char *units;                        /* --metric-units, "" when none */
    double duration_s;                        /* --duration: restart until then; 0 once */
    char *argv[GVB_WORKLOAD_MAX_ARGS + 1];    /* NULL-terminated, into buf */
    int argc;
    char *buf;
} gvb_workload_spec;

/* `workload`'s command line, parsed. */
typedef struct gvb_workload_args {
    const char *metric;       /* WL-001 (wall time), WL-002 (figure, higher), WL-003 (lower) */
    const char *alone;        /* with --tenants > 1: the same alone (WL-004..006), else NULL */
    const char *regex;        /* "" none */
    const char *units;        /* --metric-units RE: units of work the program made, "" none */
    double duration_s;        /* --duration SEC (a soak), 0 none */
    char program[PATH_MAX];   /* COMMAND's program, resolved through PATH */
    char *argv[GVB_WORKLOAD_MAX_ARGS + 1]; /* COMMAND and its arguments, argv[0] = program */
    int argc;
    const char *name;         /* --metric-name: what the figure is (its unit), NULL none */
    const char *builtin;      /* --builtin NAME: this program's own workload; NULL: COMMAND */
    char builtin_values[2][32]; /* the values the preset passes (--seed, --memory) */
} gvb_workload_args;

/* The metric of the same program alone for a workload metric of N tenants (WL-002: WL-005),
 * or NULL. */
const char *gvb_workload_alone(const char *metric);

/* The built-in workloads `workload --builtin NAME` knows, "a, b" (for messages and usage). */
extern const char *const gvb_workload_builtins;

/* `workload [run options] [--tenants N] [--metric-regex RE] [--metric-better higher|lower]
 * [--metric-units RE] [--duration SEC] -- COMMAND [ARGS...]` (argv[0] is the subcommand): run's options into o
 * (its --processes from --tenants; with --duration and no --deadline, a deadline of the
 * duration + 300 s), the rest into a (a->argv[1..] point into argv). 0, or -1 with err.
 * `--builtin llm-serve` instead of `-- COMMAND`: the command is this program's own `serve`
 * (/proc/self/exe) with --seed from run's, the figure regex `tokens/s: ([0-9.]+)` and higher
 * is better unless --metric-regex / --metric-better say otherwise, and its output tokens as
 * the units unless --metric-units says otherwise. --metric-name NAME (the figure's unit,
 * e.g. tokens/s; the built-in's own when it reads its figure) into o->metric_name. */
int gvb_workload_parse(int argc, char **argv, gvb_options *o, gvb_workload_args *a, char *err,
                       size_t errlen);

/* A built-in workload's memory per tenant, once the limits are known (after --limits auto and
 * the GPU probe): `--memory MiB` from the per-tenant memory limit; without one, with several
 * tenants, an equal share of the device's memory (device_bytes; 0 unknown: nothing), so that
 * the copies fit beside each other and the model is the same alone and together. Nothing for
 * a COMMAND. Returns 0, or -1 when a->argv is full. */
int gvb_workload_builtin_memory(gvb_workload_args *a, uint64_t memory_limit, double device_bytes,
                                int tenants);

/* Writes the spec (argc >= 1) to path; 0, or -1 with err. */
int gvb_workload_spec_write(const char *path, const char *regex, const char *units,
                            double duration_s, char *const *argv, int argc, char *err,
                            size_t errlen);
/* Reads it back; 0, or -1 with err (missing, truncated, not a spec). Free with _free. */
int gvb_workload_spec_read(const char *path, gvb_workload_spec *s, char *err, size_t errlen);
void gvb_workload_spec_free(gvb_workload_spec *s);

/* Compiles an extended regex with one capture group at most; 0, or -1 with err naming it
 * (as --metric-regex; _for: as the option opt). */
int gvb_workload_regex(regex_t *re, const char *pattern, char *err, size_t errlen);
int gvb_workload_regex_for(regex_t *re, const char *opt, const char *pattern, char *err,
                           size_t errlen);

/* The figures in a program's output: for each line matching re, the number its first capture
 * group (else its whole match) starts with; a match that is no number is skipped. Up to max
 * into out; returns how many there were in all (more than max when out was too small). */
size_t gvb_workload_figures(const regex_t *re, const char *text, double *out, size_t max);

/* The last at most n bytes of text from a line start, for a FAIL reason ("" when empty). */
const char *gvb_text_tail(const char *text, size_t n);

#endif
