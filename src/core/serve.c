/* The built-in serving workload's pure parts (see serve.h). */
#include "core/serve.h"

#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "core/size.h"
#include "stats/peak.h"
#include "stats/stats.h"

void gvb_serve_defaults(gvb_serve_opts *o)
{
    /* Llama-2-7B's shape; the memory decides how many of its layers are built */
    *o = (gvb_serve_opts){.layers = 32, .hidden = 4096, .heads = 32, .ffn = 11008,
                          .max_batch = 32, .max_len = 1024, .requests = 64,
                          .prompt_min = 32, .prompt_max = 512, .output_min = 16,
                          .output_max = 256, .seed = 1, .check = 1};
}

/* ---- options ------------------------------------------------------------------------------ */

enum { OPT_LAYERS, OPT_HIDDEN, OPT_HEADS, OPT_FFN, OPT_MAX_BATCH, OPT_MAX_LEN, OPT_REQUESTS,
       OPT_PROMPT, OPT_OUTPUT, OPT_SEED, OPT_MEMORY, OPT_NO_CHECK };

/* the whole numbers: where they go and their ranges, by option */
static const struct {
    size_t off;
    long lo, hi;
} int_opts[] = {
    [OPT_LAYERS] = {offsetof(gvb_serve_opts, layers), 1, GVB_SERVE_MAX_LAYERS},
    [OPT_HIDDEN] = {offsetof(gvb_serve_opts, hidden), 64, 65536},
    [OPT_HEADS] = {offsetof(gvb_serve_opts, heads), 1, 1024},
    [OPT_FFN] = {offsetof(gvb_serve_opts, ffn), 64, 262144},
    [OPT_MAX_BATCH] = {offsetof(gvb_serve_opts, max_batch), 1, GVB_SERVE_MAX_BATCH},
    [OPT_MAX_LEN] = {offsetof(gvb_serve_opts, max_len), 2, GVB_SERVE_MAX_LEN},
    [OPT_REQUESTS] = {offsetof(gvb_serve_opts, requests), 1, 1000000},
};

/* "MIN:MAX" or "N" (both N), each 1..GVB_SERVE_MAX_LEN */
static int parse_range(const char *s, int *lo, int *hi)
{
    char buf[64];
    long a, b;
    if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf)
        return -1;
    char *colon = strchr(buf, ':');
    if (colon)
        *colon = '\0';
    if (gvb_parse_long(buf, 1, GVB_SERVE_MAX_LEN, &a) != 0 ||
        gvb_parse_long(colon ? colon + 1 : buf, 1, GVB_SERVE_MAX_LEN, &b) != 0 || a > b)
        return -1;
    *lo = (int)a, *hi = (int)b;
    return 0;
}

static int check_shape(const gvb_serve_opts *o, char *err, size_t errlen)
{
    if (o->hidden % o->heads || (o->hidden / o->heads) % 2)
        return snprintf(err, errlen, "--hidden %d must be a multiple of 2 x --heads %d (an even "
                        "head size)", o->hidden, o->heads), -1;
    if (o->prompt_max + o->output_max > o->max_len)
        return snprintf(err, errlen, "prompts up to %d and outputs up to %d tokens need --max-len "
                        "%d or more (got %d)", o->prompt_max, o->output_max,
                        o->prompt_max + o->output_max, o->max_len), -1;
    return 0;
}

int gvb_serve_parse(int argc, char **argv, gvb_serve_opts *o, char *err, size_t errlen)
{
    static const struct option opts[] = {
        {"layers", required_argument, 0, OPT_LAYERS},
        {"hidden", required_argument, 0, OPT_HIDDEN},
        {"heads", required_argument, 0, OPT_HEADS},
        {"ffn", required_argument, 0, OPT_FFN},
        {"max-batch", required_argument, 0, OPT_MAX_BATCH},
        {"max-len", required_argument, 0, OPT_MAX_LEN},
        {"requests", required_argument, 0, OPT_REQUESTS},
        {"prompt-len", required_argument, 0, OPT_PROMPT},
        {"output-len", required_argument, 0, OPT_OUTPUT},
        {"seed", required_argument, 0, OPT_SEED},
        {"memory", required_argument, 0, OPT_MEMORY},
        {"no-check", no_argument, 0, OPT_NO_CHECK},
        {0, 0, 0, 0}};
    gvb_serve_defaults(o);
    optind = 0; /* a full reset of getopt's state: the tests parse many command lines */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        long v;
        uint64_t bytes;
        const char *name = argv[optind - 1];
        if (c >= OPT_LAYERS && c <= OPT_REQUESTS) {
            if (gvb_parse_long(optarg, int_opts[c].lo, int_opts[c].hi, &v) != 0)
                return snprintf(err, errlen, "--%s must be a whole number %ld..%ld, got '%s'",
                                opts[c].name, int_opts[c].lo, int_opts[c].hi, optarg), -1;
            *(int *)((char *)o + int_opts[c].off) = (int)v;
        } else if (c == OPT_PROMPT || c == OPT_OUTPUT) {
            int *lo = c == OPT_PROMPT ? &o->prompt_min : &o->output_min;
            int *hi = c == OPT_PROMPT ? &o->prompt_max : &o->output_max;
            if (parse_range(optarg, lo, hi) != 0)
                return snprintf(err, errlen, "--%s is MIN:MAX (or N) tokens, 1 <= MIN <= MAX <= "
                                "%d, got '%s'", opts[c].name, GVB_SERVE_MAX_LEN, optarg), -1;
        } else if (c == OPT_SEED) {
            if (gvb_parse_u64(optarg, &o->seed) != 0)
                return snprintf(err, errlen, "--seed must be a whole number >= 0, got '%s'",
                                optarg), -1;
        } else if (c == OPT_MEMORY) {
            if (gvb_parse_size(optarg, &bytes) != 0 || bytes < (UINT64_C(1) << 20))
                return snprintf(err, errlen, "--memory is a size of at least 1 MiB (16384, "
                                "16g; a bare number is MiB), got '%s'", optarg), -1;
            o->memory_mib = bytes >> 20;
        } else if (c == OPT_NO_CHECK) {
            o->check = 0;
        } else if (c == ':') {
            return snprintf(err, errlen, "option '%s' needs a value", name), -1;
        } else {
            return snprintf(err, errlen, "unknown option '%s' (--layers, --hidden, --heads, "
                            "--ffn, --max-batch, --max-len, --requests, --prompt-len, "
                            "--output-len, --seed, --memory, --no-check)", name), -1;
        }
    }
    if (optind < argc)
        return snprintf(err, errlen, "unexpected argument '%s'", argv[optind]), -1;
    return check_shape(o, err, errlen);
}

/* ---- the request stream ------------------------------------------------------------------- */

void gvb_serve_requests(gvb_serve_req *r, int n, const gvb_serve_opts *o)
{
    gvb_rng rng;
    gvb_rng_seed(&rng, o->seed);
    for (int i = 0; i < n; i++) {
        int p = o->prompt_min + (int)gvb_rng_below(&rng, (uint64_t)(o->prompt_max - o->prompt_min + 1));
        int q = o->output_min + (int)gvb_rng_below(&rng, (uint64_t)(o->output_max - o->output_min + 1));
        r[i] = (gvb_serve_req){.prompt = p, .output = q, .slot = -1,
                               .t_admit = NAN, .t_first = NAN, .t_done = NAN};
    }
}

/* ---- continuous batching ------------------------------------------------------------------ */

int gvb_serve_sched_init(gvb_serve_sched *s, gvb_serve_req *req, int n, int max_batch)
{
    if (n < 0 || max_batch < 1 || max_batch > GVB_SERVE_MAX_BATCH)
        return -1;
    memset(s, 0, sizeof *s);
    s->req = req, s->n = n, s->max_batch = max_batch;
    for (int i = 0; i < GVB_SERVE_MAX_BATCH; i++)
        s->slot_req[i] = -1;
    return 0;
}

static void finish(gvb_serve_sched *s, int i, double t)
{
    gvb_serve_req *q = &s->req[i];
    q->t_done = t;
    s->slot_req[q->slot] = -1;
    q->slot = -1;
    s->done++;
}

int gvb_serve_admit(gvb_serve_sched *s, double t)
{
    if (s->next >= s->n)
        return -1;
    for (int k = 0; k < s->max_batch; k++) {
        if (s->slot_req[k] >= 0)
            continue;
        int i = s->next++;
        s->slot_req[k] = i;
        s->req[i].slot = k;
        s->req[i].t_admit = t;
        return i;
    }
    return -1;
}

void gvb_serve_prefilled(gvb_serve_sched *s, int i, double t)
{
    gvb_serve_req *q = &s->req[i];
    q->generated = 1;
    q->t_first = t;
    if (q->generated >= q->output)
        finish(s, i, t);
}

int gvb_serve_batch(const gvb_serve_sched *s, int *slot, int *len, int *req, int *max_len)
{
    int rows = 0;
    *max_len = 0;
    for (int k = 0; k < s->max_batch; k++) {
        int i = s->slot_req[k];
        if (i < 0 || s->req[i].generated < 1)
            continue;
        const gvb_serve_req *q = &s->req[i];
        slot[rows] = k;
        len[rows] = q->prompt + q->generated;
        req[rows] = i;
        if (len[rows] > *max_len)
            *max_len = len[rows];
        rows++;
    }
    return rows;
}

int gvb_serve_decoded(gvb_serve_sched *s, const int *req, int rows, double t)
{
    int finished = 0;
    for (int r = 0; r < rows; r++) {
        gvb_serve_req *q = &s->req[req[r]];
        if (++q->generated >= q->output) {
            finish(s, req[r], t);
            finished++;
        }
    }
    return finished;
}

int gvb_serve_all_done(const gvb_serve_sched *s)
{
    return s->done == s->n;
}

/* ---- the summary and the printout --------------------------------------------------------- */

int gvb_serve_summarize(const gvb_serve_req *r, int n, double seconds, gvb_serve_summary *out)
{
    memset(out, 0, sizeof *out);
    double *ttft = malloc(sizeof *ttft * (size_t)(n > 0 ? n : 1));
    double *tpot = malloc(sizeof *tpot * (size_t)(n > 0 ? n : 1));
    int rc = !ttft || !tpot || n < 1 || !(seconds > 0) ? -1 : 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const gvb_serve_req *q = &r[i];
        if (q->generated != q->output || !(q->t_admit <= q->t_first && q->t_first <= q->t_done) ||
            !isfinite(q->t_done)) {
            rc = -1;
            break;
        }
        out->tokens += q->output;
        ttft[i] = (q->t_first - q->t_admit) * 1e3;
        if (q->output >= 2)
            tpot[out->tpot_n++] = (q->t_done - q->t_first) / (q->output - 1) * 1e3;
    }
    gvb_stats st;
    if (rc == 0 && gvb_stats_describe(ttft, (size_t)n, &st) == 0) {
        out->ttft_p50_ms = st.p50, out->ttft_p99_ms = st.p99;
        out->tpot_p50_ms = out->tpot_p99_ms = NAN;
        if (out->tpot_n && gvb_stats_describe(tpot, (size_t)out->tpot_n, &st) == 0)
            out->tpot_p50_ms = st.p50, out->tpot_p99_ms = st.p99;
        out->requests = n;
        out->seconds = seconds;
        out->tokens_per_s = (double)out->tokens / seconds;
    } else {
        rc = -1;
    }
    free(ttft);
    free(tpot);
    return rc;
}

void gvb_serve_write(FILE *f, const gvb_serve_opts *o, const gvb_serve_result *r)
{
    const gvb_serve_summary *s = &r->sum;
    fprintf(f, "memory: budget %.0f MiB (90 %% of %s, at most what is free); model %.0f MiB; "
               "adapted: %s\n",
            r->budget_mib, r->budget_from, r->model_mib, r->adapted[0] ? r->adapted : "nothing");
    fprintf(f, "check: %s\n", r->check);
    fprintf(f, "serve: %d requests, %lld output tokens in %.3f s; model: %d layers, hidden %d, "
               "%d heads x %d, MLP %d (gated), bf16, max batch %d, max length %d; prompts "
               "%d..%d, outputs %d..%d tokens, seed %llu\n",
            s->requests, s->tokens, s->seconds, r->layers, o->hidden, o->heads,
            o->hidden / o->heads, o->ffn, r->max_batch, o->max_len, o->prompt_min, o->prompt_max,
            o->output_min, o->output_max, (unsigned long long)o->seed);
    if (r->peak_tflops > 0)
        fprintf(f, "tflops: %.2f over the run, %.2f in the fastest step (%.1f %% and %.1f %% of "
                   "the bf16 peak, %.0f TFLOP/s: %s)\n",
                r->tflops, r->best_tflops, gvb_pct_of_peak(r->tflops, r->peak_tflops),
                gvb_pct_of_peak(r->best_tflops, r->peak_tflops), r->peak_tflops, r->peak_source);
    else
        fprintf(f, "tflops: %.2f over the run, %.2f in the fastest step (no known peak: %s)\n",
                r->tflops, r->best_tflops, r->peak_source);
    fprintf(f, "tokens/s: %.1f\n", s->tokens_per_s);
    fprintf(f, "ttft_ms p50: %.2f p99: %.2f\n", s->ttft_p50_ms, s->ttft_p99_ms);
    if (s->tpot_n)
        fprintf(f, "tpot_ms p50: %.2f p99: %.2f\n", s->tpot_p50_ms, s->tpot_p99_ms);
    else
        fprintf(f, "tpot_ms p50: n/a p99: n/a (no request had a second output token)\n");
}
