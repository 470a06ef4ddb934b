/* `serve`'s pure parts (core/serve.h): its options, the seeded request stream, the
 * continuous-batching bookkeeping run to the end on a fake clock, the summary's percentiles
 * and the printout that `workload --builtin llm-serve` reads. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/serve.h"
#include "core/workload_spec.h"
#include "tests.h"

static int parse(gvb_serve_opts *o, char *err, const char *const *words)
{
    int n;
    char **argv = gvb_test_argv("serve", words, &n);
    return gvb_serve_parse(n, argv, o, err, 256);
}

static void test_parse(void **state)
{
    (void)state;
    gvb_serve_opts o;
    char err[256];
    assert_int_equal(parse(&o, err, (const char *[]){NULL}), 0);
    assert_int_equal(o.layers, 32);
    assert_int_equal(o.hidden, 4096);
    assert_int_equal(o.heads, 32);
    assert_int_equal(o.ffn, 11008);
    assert_int_equal(o.max_batch, 32);
    assert_int_equal(o.max_len, 1024);
    assert_int_equal(o.requests, 64);
    assert_int_equal(o.prompt_min, 32);
    assert_int_equal(o.prompt_max, 512);
    assert_int_equal(o.output_min, 16);
    assert_int_equal(o.output_max, 256);
    assert_int_equal(o.memory_mib, 0);
    assert_int_equal(o.check, 1);
    assert_int_equal(parse(&o, err, (const char *[]){"--layers", "4", "--hidden=1024", "--heads",
                     "8", "--ffn", "2816", "--max-batch", "8", "--max-len", "300", "--requests",
                     "10", "--prompt-len", "20:200", "--output-len", "7", "--seed", "99",
                     "--memory", "16g", "--no-check", NULL}), 0);
    assert_int_equal(o.layers, 4);
    assert_int_equal(o.hidden, 1024);
    assert_int_equal(o.heads, 8);
    assert_int_equal(o.ffn, 2816);
    assert_int_equal(o.max_batch, 8);
    assert_int_equal(o.max_len, 300);
    assert_int_equal(o.requests, 10);
    assert_int_equal(o.prompt_min, 20);
    assert_int_equal(o.prompt_max, 200);
    assert_int_equal(o.output_min, 7); /* a single number: both ends */
    assert_int_equal(o.output_max, 7);
    assert_int_equal(o.seed, 99);
    assert_int_equal(o.memory_mib, 16384);
    assert_int_equal(o.check, 0);
    assert_int_equal(parse(&o, err, (const char *[]){"--memory", "2048", NULL}), 0);
    assert_int_equal(o.memory_mib, 2048); /* a bare number is MiB */
}

static void test_parse_errors(void **state)
{
    (void)state;
    gvb_serve_opts o;
    char err[256];
    static const struct {
        const char *words[5];
        const char *says;
    } bad[] = {
        {{"--layers", "0"}, "--layers must be a whole number 1..64"},
        {{"--layers", "65"}, "1..64"},
        {{"--max-batch", "1025"}, "--max-batch"},
        {{"--requests", "x"}, "--requests"},
        {{"--hidden", "100", "--heads", "3"}, "multiple of 2 x --heads"},
        {{"--hidden", "96", "--heads", "32"}, "even head size"}, /* head size 3 */
        {{"--max-len", "700"}, "need --max-len 768"},
        {{"--prompt-len", "9:3"}, "--prompt-len is MIN:MAX"},
        {{"--output-len", "0:4"}, "--output-len"},
        {{"--prompt-len", "4:"}, "--prompt-len"},
        {{"--memory", "0"}, "--memory"},
        {{"--memory", "512k"}, "at least 1 MiB"},
        {{"--seed", "-1"}, "--seed"},
        {{"--seed"}, "needs a value"},
        {{"--bogus"}, "unknown option '--bogus'"},
        {{"extra"}, "unexpected argument 'extra'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(parse(&o, err, bad[i].words), -1);
        if (!strstr(err, bad[i].says))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].says);
    }
}

static void test_requests(void **state)
{
    (void)state;
    gvb_serve_opts o;
    gvb_serve_defaults(&o);
    enum { N = 2000 };
    static gvb_serve_req a[N], b[N], c[N];
    gvb_serve_requests(a, N, &o);
    gvb_serve_requests(b, N, &o);
    o.seed = 2;
    gvb_serve_requests(c, N, &o);
    int same = 1, differ = 0, pmin = 1 << 30, pmax = 0, omin = 1 << 30, omax = 0;
    for (int i = 0; i < N; i++) {
        same &= a[i].prompt == b[i].prompt && a[i].output == b[i].output;
        differ += a[i].prompt != c[i].prompt || a[i].output != c[i].output;
        assert_in_range(a[i].prompt, 32, 512);
        assert_in_range(a[i].output, 16, 256);
        assert_int_equal(a[i].slot, -1);
        assert_int_equal(a[i].generated, 0);
        pmin = a[i].prompt < pmin ? a[i].prompt : pmin;
        pmax = a[i].prompt > pmax ? a[i].prompt : pmax;
        omin = a[i].output < omin ? a[i].output : omin;
        omax = a[i].output > omax ? a[i].output : omax;
    }
    assert_true(same);          /* a function of the seed */
    assert_true(differ > N / 2); /* another seed, another stream */
    /* varied over the whole range: 2000 draws of 481 (241) values reach both ends */
    assert_int_equal(pmin, 32);
    assert_int_equal(pmax, 512);
    assert_int_equal(omin, 16);
    assert_int_equal(omax, 256);
}

/* Runs the scheduler as serve's loop does, on a clock that advances 1 per prefill and per
 * decode step, checking what must hold at every step. Returns the decode steps. */
static int simulate(gvb_serve_req *r, int n, int max_batch)
{
    gvb_serve_sched s;
    assert_int_equal(gvb_serve_sched_init(&s, r, n, max_batch), 0);
    int slot[GVB_SERVE_MAX_BATCH], len[GVB_SERVE_MAX_BATCH], req[GVB_SERVE_MAX_BATCH];
    int last_len[4096], last_step[4096];
    double t = 0;
    int steps = 0, admitted_total = 0;
    for (int i = 0; i < n; i++)
        last_len[i] = 0, last_step[i] = -1;
    while (!gvb_serve_all_done(&s)) {
        int first = s.next, admitted = 0, i;
        while ((i = gvb_serve_admit(&s, t)) >= 0) {
            assert_int_equal(i, first + admitted); /* in order */
            assert_int_equal(s.slot_req[r[i].slot], i);
            admitted++;
        }
        admitted_total += admitted;
        /* after admission a slot is free only when nobody waits */
        int occupied = 0;
        for (int k = 0; k < max_batch; k++)
            occupied += s.slot_req[k] >= 0;
        assert_true(occupied == max_batch || s.next == n);
        for (i = first; i < first + admitted; i++)
            gvb_serve_prefilled(&s, i, t += 1);
        int max_len, rows = gvb_serve_batch(&s, slot, len, req, &max_len);
        assert_in_range(rows, 0, max_batch);
        int longest = 0;
        for (int k = 0; k < rows; k++) {
            const gvb_serve_req *q = &r[req[k]];
            assert_int_equal(q->slot, slot[k]);
            assert_true(k == 0 || slot[k] > slot[k - 1]); /* slot order, each once */
            assert_int_equal(len[k], q->prompt + q->generated);
            assert_true(len[k] <= q->prompt + q->output - 1); /* never past its last token */
            /* continuous: one token longer than in its previous step, which was the last */
            if (last_step[req[k]] >= 0) {
                assert_int_equal(last_step[req[k]], steps - 1);
                assert_int_equal(len[k], last_len[req[k]] + 1);
            }
            last_len[req[k]] = len[k], last_step[req[k]] = steps;
            longest = len[k] > longest ? len[k] : longest;
        }
        assert_int_equal(max_len, longest);
        if (rows) {
            gvb_serve_decoded(&s, req, rows, t += 1);
            steps++;
        }
        assert_true(admitted || rows || gvb_serve_all_done(&s)); /* no stall */
    }
    assert_int_equal(admitted_total, n);
    for (int k = 0; k < max_batch; k++)
        assert_int_equal(s.slot_req[k], -1); /* every slot free at the end */
    for (int i = 0; i < n; i++) {
        assert_int_equal(r[i].generated, r[i].output); /* exactly its output */
        assert_int_equal(r[i].slot, -1);
        assert_true(r[i].t_admit < r[i].t_first && r[i].t_first <= r[i].t_done);
        assert_true(i == 0 || r[i].t_admit >= r[i - 1].t_admit); /* first come, first admitted */
    }
    return steps;
}

static void test_sched_runs_every_request_to_its_length(void **state)
{
    (void)state;
    gvb_serve_opts o;
    gvb_serve_defaults(&o);
    o.requests = 300;
    o.prompt_min = 1, o.prompt_max = 40, o.output_min = 1, o.output_max = 30, o.max_len = 70;
    static gvb_serve_req r[300];
    for (int b = 1; b <= 33; b += 8) {
        gvb_serve_requests(r, o.requests, &o);
        int steps = simulate(r, o.requests, b);
        /* the longest output needs output - 1 steps; batching shares them */
        int longest = 0, total = 0;
        for (int i = 0; i < o.requests; i++) {
            longest = r[i].output > longest ? r[i].output : longest;
            total += r[i].output - 1;
        }
        assert_true(steps >= longest - 1);
        assert_true(steps >= (total + b - 1) / b);
        if (b == 1)
            assert_int_equal(steps, total); /* one sequence at a time */
    }
}

static void test_sched_small_cases(void **state)
{
    (void)state;
    /* outputs of one token finish at their prefill and never take a decode row */
    gvb_serve_req r[3] = {{.prompt = 4, .output = 1, .slot = -1},
                          {.prompt = 4, .output = 3, .slot = -1},
                          {.prompt = 2, .output = 1, .slot = -1}};
    gvb_serve_sched s;
    assert_int_equal(gvb_serve_sched_init(&s, r, 3, 2), 0);
    assert_int_equal(gvb_serve_admit(&s, 0), 0);
    assert_int_equal(r[0].slot, 0);
    assert_int_equal(gvb_serve_admit(&s, 0), 1);
    assert_int_equal(r[1].slot, 1);
    assert_int_equal(gvb_serve_admit(&s, 0), -1); /* no slot free */
    gvb_serve_prefilled(&s, 0, 1);
    assert_int_equal(r[0].slot, -1); /* done: its slot is free at once */
    assert_int_equal(s.done, 1);
    int slot[2], len[2], req[2], max_len;
    assert_int_equal(gvb_serve_batch(&s, slot, len, req, &max_len), 0); /* 1 not prefilled yet */
    gvb_serve_prefilled(&s, 1, 2);
    assert_int_equal(gvb_serve_batch(&s, slot, len, req, &max_len), 1);
    assert_int_equal(slot[0], 1);
    assert_int_equal(len[0], 5); /* 4 prompt tokens and the first output */
    assert_int_equal(gvb_serve_admit(&s, 2), 2);
    assert_int_equal(r[2].slot, 0); /* the lowest free slot */
    assert_int_equal(gvb_serve_decoded(&s, req, 1, 3), 0);
    assert_int_equal(gvb_serve_batch(&s, slot, len, req, &max_len), 1); /* 2 not prefilled */
    assert_int_equal(len[0], 6);
    assert_int_equal(gvb_serve_decoded(&s, req, 1, 4), 1);
    assert_int_equal(r[1].generated, 3);
    assert_false(gvb_serve_all_done(&s));
    gvb_serve_prefilled(&s, 2, 5);
    assert_true(gvb_serve_all_done(&s));
    assert_int_equal(gvb_serve_sched_init(&s, r, 3, 0), -1);
    assert_int_equal(gvb_serve_sched_init(&s, r, 3, GVB_SERVE_MAX_BATCH + 1), -1);
}

static void test_summary(void **state)
{
    (void)state;
    /* ttft 10, 20, 30, 40 ms; tpot (done - first) / (output - 1): 5, 10, -, 20 ms */
    gvb_serve_req r[4] = {
        {.prompt = 1, .output = 3, .generated = 3, .t_admit = 0, .t_first = 0.010, .t_done = 0.020},
        {.prompt = 1, .output = 2, .generated = 2, .t_admit = 0, .t_first = 0.020, .t_done = 0.030},
        {.prompt = 1, .output = 1, .generated = 1, .t_admit = 1, .t_first = 1.030, .t_done = 1.030},
        {.prompt = 1, .output = 5, .generated = 5, .t_admit = 1, .t_first = 1.040, .t_done = 1.120},
    };
    gvb_serve_summary s;
    assert_int_equal(gvb_serve_summarize(r, 4, 2.0, &s), 0);
    assert_int_equal(s.requests, 4);
    assert_int_equal(s.tokens, 11);
    assert_double_equal(s.seconds, 2.0, 0);
    assert_double_equal(s.tokens_per_s, 5.5, 1e-12);
    /* type 7: p50 of 10..40 is 25; p99 is 30 + 0.97 x 10 = 39.7 */
    assert_double_equal(s.ttft_p50_ms, 25.0, 1e-9);
    assert_double_equal(s.ttft_p99_ms, 39.7, 1e-9);
    assert_int_equal(s.tpot_n, 3);
    assert_double_equal(s.tpot_p50_ms, 10.0, 1e-9);
    assert_double_equal(s.tpot_p99_ms, 10.0 + 0.98 * 10.0, 1e-9);
    r[3].generated = 4; /* unfinished */
    assert_int_equal(gvb_serve_summarize(r, 4, 2.0, &s), -1);
    r[3].generated = 5;
    r[1].t_first = -1; /* before its admission */
    assert_int_equal(gvb_serve_summarize(r, 4, 2.0, &s), -1);
    r[1].t_first = 0.020;
    assert_int_equal(gvb_serve_summarize(r, 4, 0, &s), -1);
}

/* The printout ends with the three figure lines, and the preset's regex reads tokens/s from
 * exactly one line of it. */
static void test_write(void **state)
{
    (void)state;
    gvb_serve_opts o;
    gvb_serve_defaults(&o);
    gvb_serve_result r = {.layers = 14, .max_batch = 32, .budget_mib = 14745, .model_mib = 13000,
                          .tflops = 120.5, .best_tflops = 400.25, .peak_tflops = 989.4,
                          .sum = {.requests = 64, .tokens = 8712, .seconds = 12.3456,
                                  .tokens_per_s = 705.67, .ttft_p50_ms = 35.2, .ttft_p99_ms = 80.1,
                                  .tpot_n = 64, .tpot_p50_ms = 20.3, .tpot_p99_ms = 25.7}};
    snprintf(r.budget_from, sizeof r.budget_from, "--memory 16384 MiB");
    snprintf(r.adapted, sizeof r.adapted, "layers 32 -> 14, max batch 32 -> 32 to fit the 14745 MiB budget");
    snprintf(r.check, sizeof r.check, "worst relative error 0.003");
    snprintf(r.peak_source, sizeof r.peak_source, "datasheet: H100");
    char buf[4096] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_non_null(f);
    gvb_serve_write(f, &o, &r);
    fclose(f);
    assert_non_null(strstr(buf, "adapted: layers 32 -> 14"));
    assert_non_null(strstr(buf, "serve: 64 requests, 8712 output tokens in 12.346 s; model: 14 "
                                "layers, hidden 4096, 32 heads x 128, MLP 11008"));
    assert_non_null(strstr(buf, "(12.2 % and 40.5 % of the bf16 peak"));
    const char *tail = strstr(buf, "tokens/s: ");
    assert_non_null(tail);
    assert_string_equal(tail, "tokens/s: 705.7\nttft_ms p50: 35.20 p99: 80.10\n"
                              "tpot_ms p50: 20.30 p99: 25.70\n");
    regex_t re;
    char err[256];
    double fig[4];
    assert_int_equal(gvb_workload_regex(&re, "tokens/s: ([0-9.]+)", err, sizeof err), 0);
    assert_int_equal(gvb_workload_figures(&re, buf, fig, 4), 1);
    assert_double_equal(fig[0], 705.7, 1e-9);
    regfree(&re);
    /* docs/workload.md's regex for the p99 time to first token */
    assert_int_equal(gvb_workload_regex(&re, "ttft_ms p50: [0-9.]+ p99: ([0-9.]+)", err, sizeof err), 0);
    assert_int_equal(gvb_workload_figures(&re, buf, fig, 4), 1);
    assert_double_equal(fig[0], 80.1, 1e-9);
    regfree(&re);
    /* no second token anywhere: no time per output token, said so */
    r.sum.tpot_n = 0;
    f = fmemopen(buf, sizeof buf - 1, "w");
    gvb_serve_write(f, &o, &r);
    fclose(f);
    assert_non_null(strstr(buf, "tpot_ms p50: n/a p99: n/a"));
}

int run_serve_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_sched_runs_every_request_to_its_length),
        cmocka_unit_test(test_sched_small_cases),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_write),
    };
    return cmocka_run_group_tests_name("serve", tests, NULL, NULL);
}
