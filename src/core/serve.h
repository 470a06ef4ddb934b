/* The built-in LLM serving workload (`gpu-virt-bench serve`, docs/workload.md), its pure
 * parts: options, the seeded request stream, the continuous-batching bookkeeping (which
 * request holds which cache slot, the rows of each decode step, when a request is done), the
 * summary (tokens/s, time to first token and time per output token, p50/p99) and the
 * printout. The model and the timing are in src/metrics/llm_serve.c. Pure C. */
#ifndef GVB_SERVE_H
#define GVB_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GVB_SERVE_MAX_BATCH 1024
#define GVB_SERVE_MAX_LAYERS 64  /* the decoder stack's (LLM_DEC_MAX_LAYERS) */
#define GVB_SERVE_MAX_LEN 32768  /* decode attention keeps a sequence's scores in shared memory */

typedef struct gvb_serve_opts {
    int layers, hidden, heads, ffn; /* the model */
    int max_batch;                  /* cache slots: sequences decoded together at most */
    int max_len;                    /* cache positions per sequence: prompt + output */
    int requests;
    int prompt_min, prompt_max;     /* prompt tokens, uniform */
    int output_min, output_max;     /* output tokens, uniform */
    uint64_t seed;
    uint64_t memory_mib;            /* what the process may use; 0: the device's memory */
    int check;                      /* the reference check at start (--no-check: 0) */
} gvb_serve_opts;

void gvb_serve_defaults(gvb_serve_opts *o);
/* `serve [options]` (argv[0] the subcommand): 0, or -1 with err naming the option. */
int gvb_serve_parse(int argc, char **argv, gvb_serve_opts *o, char *err, size_t errlen);

typedef struct gvb_serve_req {
    int prompt, output; /* tokens */
    int slot;           /* its cache slot while admitted, else -1 */
    int generated;      /* output tokens so far: the prefill yields the first */
    double t_admit, t_first, t_done; /* seconds, on the caller's clock */
} gvb_serve_req;

/* n requests from o->seed: prompt and output lengths uniform in their ranges. */
void gvb_serve_requests(gvb_serve_req *r, int n, const gvb_serve_opts *o);

/* Continuous batching: requests are admitted in order into free slots (the lowest first);
 * each admitted request is prefilled (its first token), then decoded one token per step with
 * every other active sequence at its own length until it has its output; its slot is free at
 * once for the next. */
typedef struct gvb_serve_sched {
    gvb_serve_req *req;
    int n, max_batch;
    int next; /* requests admitted so far */
    int done; /* requests finished */
    int slot_req[GVB_SERVE_MAX_BATCH]; /* the request in each slot, -1 free */
} gvb_serve_sched;

/* 0, or -1 when max_batch is outside 1..GVB_SERVE_MAX_BATCH or n < 0. */
int gvb_serve_sched_init(gvb_serve_sched *s, gvb_serve_req *req, int n, int max_batch);
/* The next waiting request into the lowest free slot at time t: its index, or -1 when none
 * waits or no slot is free. */
int gvb_serve_admit(gvb_serve_sched *s, double t);
/* Request i's prefill ended at t: its first token. A request of one output token is done. */
void gvb_serve_prefilled(gvb_serve_sched *s, int i, double t);
/* The next decode step's rows, in slot order: the sequences that have their first token and
 * still want more. For row r: slot[r], len[r] (tokens in its cache once this step's token is
 * appended: prompt + generated) and req[r]. Returns the row count; *max_len the longest. */
int gvb_serve_batch(const gvb_serve_sched *s, int *slot, int *len, int *req, int *max_len);
/* A decode step over those rows ended at t: one more token each; those with their whole
 * output are done and free their slot. Returns how many finished. */
int gvb_serve_decoded(gvb_serve_sched *s, const int *req, int rows, double t);
/* Every request finished. */
int gvb_serve_all_done(const gvb_serve_sched *s);

/* What one run gives, from its requests and its wall time. */
typedef struct gvb_serve_summary {
    int requests;
    long long tokens; /* output tokens */
    double seconds;
    double tokens_per_s;
    double ttft_p50_ms, ttft_p99_ms; /* time to first token: admission to the prefill's end */
    int tpot_n;                      /* requests with a time per output token (>= 2 tokens) */
    double tpot_p50_ms, tpot_p99_ms; /* (last token - first token) / (output - 1) */
} gvb_serve_summary;

/* Percentiles as gvb_percentile_sorted (type 7). 0, or -1 when a request is unfinished or
 * its times are not finite and increasing, or seconds is not positive. */
int gvb_serve_summarize(const gvb_serve_req *r, int n, double seconds, gvb_serve_summary *out);

/* What the run was and measured, for the printout. */
typedef struct gvb_serve_result {
    int layers, max_batch;          /* as run (the memory may have asked for fewer) */
    double budget_mib, model_mib;
    char budget_from[96];           /* "--memory 16384 MiB" or "the device's 143771 MiB" */
    char adapted[200];              /* "" when the model is as asked */
    char check[400];                /* what was checked and the worst error, or why not */
    double tflops, best_tflops;     /* over the run; the fastest prefill or decode step */
    double peak_tflops;             /* bf16, 0 unknown */
    char peak_source[200];
    gvb_serve_summary sum;
} gvb_serve_result;

/* How `serve` ended (main.c turns it into the exit code). */
typedef enum {
    GVB_SERVE_OK,
    GVB_SERVE_ERROR,     /* a CUDA or cuBLAS error, or the model does not fit */
    GVB_SERVE_NO_GPU,
    GVB_SERVE_UNTRUSTED, /* the arithmetic check failed, or a rate above the device's peak */
} gvb_serve_status;

/* Builds the model, checks it (o->check), serves the request stream and fills *r; on
 * anything but GVB_SERVE_OK, err says why in one line. In src/metrics/llm_serve.c. */
gvb_serve_status gvb_serve_run(const gvb_serve_opts *o, gvb_serve_result *r, char *err,
                               size_t errlen);

/* The printout: the memory, the check, the run (requests, tokens, seconds, the model), the
 * FLOP rate, then `tokens/s: X`, `ttft_ms p50: A p99: B`, `tpot_ms p50: C p99: D` as the last
 * three lines. */
void gvb_serve_write(FILE *f, const gvb_serve_opts *o, const gvb_serve_result *r);

#endif
