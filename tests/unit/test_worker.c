/* The shared timing loop (gvb_measure, gvb_measure_rounds): warm-up and sample counts, the
 * round order, where each body's samples go, a body's own timing, and a failing body. The
 * worker writes protocol lines to a pipe, read back and parsed here. */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/handoff.h"
#include "core/protocol.h"
#include "core/worker.h"

typedef struct fake_body {
    int id;
    int calls;
    int fail_at;  /* call number (1-based) that fails, 0 = never */
    double own_s; /* seconds the body reports as its own timing, NAN = let the loop time */
    int *order;   /* shared log of body ids in call order */
    int *n_order;
} fake_body;

static int fake_run(void *arg, double *sample_s)
{
    fake_body *b = arg;
    b->calls++;
    b->order[(*b->n_order)++] = b->id;
    if (b->fail_at && b->calls == b->fail_at)
        return 7;
    if (!isnan(b->own_s))
        *sample_s = b->own_s;
    return 0;
}

/* A worker past its barrier, writing into a pipe. */
static gvb_worker pipe_worker(int fds[2], int iterations, int warmup)
{
    assert_int_equal(pipe(fds), 0);
    gvb_worker w = {.out_fd = fds[1], .go_fd = -1, .iterations = iterations, .warmup = warmup,
                    .barrier_done = 1, .tenants = 1, .replicates = 1};
    return w;
}

typedef struct emitted {
    int primary, series_a, host, other;
    double first_primary, first_a, min_host;
} emitted;

static emitted read_back(int fds[2])
{
    close(fds[1]);
    emitted e = {0, 0, 0, 0, NAN, NAN, INFINITY};
    FILE *f = fdopen(fds[0], "r");
    char line[GVB_PROTO_MAX_LINE];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        gvb_msg m;
        assert_int_equal(gvb_proto_parse(line, &m), 0);
        if (m.type == GVB_MSG_SAMPLE) {
            if (e.primary++ == 0)
                e.first_primary = m.value;
        } else if (m.type == GVB_MSG_SERIES && strcmp(m.name, "a_us") == 0) {
            if (e.series_a++ == 0)
                e.first_a = m.value;
        } else if (m.type == GVB_MSG_SERIES && strcmp(m.name, GVB_HOST_REF_SERIES) == 0) {
            e.host++;
            e.min_host = m.value < e.min_host ? m.value : e.min_host;
        } else {
            e.other++;
        }
    }
    fclose(f);
    return e;
}

static void test_rounds_interleave(void **state)
{
    (void)state;
    int fds[2], order[64], n_order = 0;
    gvb_worker w = pipe_worker(fds, 5, 2);
    fake_body b0 = {.id = 0, .own_s = 2e-6, .order = order, .n_order = &n_order};
    fake_body b1 = {.id = 1, .own_s = 3e-6, .order = order, .n_order = &n_order};
    gvb_round_body bodies[] = {{NULL, fake_run, &b0}, {"a_us", fake_run, &b1}};
    assert_int_equal(gvb_measure_rounds(&w, 1e6, bodies, 2, NULL), 0);
    /* 2 warm-up rounds + 5 timed rounds, each body once per round, in the given order */
    assert_int_equal(b0.calls, 7);
    assert_int_equal(b1.calls, 7);
    assert_int_equal(n_order, 14);
    for (int i = 0; i < n_order; i++)
        assert_int_equal(order[i], i % 2);
    /* only timed rounds are emitted: body 0 into the primary samples, body 1 into its series,
     * each scaled from the seconds the body reported */
    emitted e = read_back(fds);
    assert_int_equal(e.primary, 5);
    assert_int_equal(e.series_a, 5);
    assert_int_equal(e.other, 0);
    assert_double_equal(e.first_primary, 2.0, 1e-9);
    assert_double_equal(e.first_a, 3.0, 1e-9);
}

static void test_rounds_failure(void **state)
{
    (void)state;
    int fds[2], order[64], n_order = 0;
    gvb_worker w = pipe_worker(fds, 10, 0);
    fake_body b0 = {.id = 0, .own_s = 1e-6, .order = order, .n_order = &n_order};
    fake_body b1 = {.id = 1, .own_s = 1e-6, .fail_at = 3, .order = order, .n_order = &n_order};
    gvb_round_body bodies[] = {{NULL, fake_run, &b0}, {"a_us", fake_run, &b1}};
    int failed = -1;
    assert_int_equal(gvb_measure_rounds(&w, 1e6, bodies, 2, &failed), 7);
    assert_int_equal(failed, 1);
    /* the failing round emits nothing: two whole rounds were sent */
    emitted e = read_back(fds);
    assert_int_equal(e.primary, 2);
    assert_int_equal(e.series_a, 2);
    /* no bodies, or more than the loop holds, is an error, not an empty success */
    gvb_worker w2 = {.barrier_done = 1, .iterations = 1};
    assert_int_equal(gvb_measure_rounds(&w2, 1.0, bodies, 0, NULL), -1);
    assert_int_equal(gvb_measure_rounds(&w2, 1.0, bodies, GVB_MAX_ROUND_BODIES + 1, NULL), -1);
}

static void test_measure_single(void **state)
{
    (void)state;
    int fds[2], order[64], n_order = 0;
    gvb_worker w = pipe_worker(fds, 4, 1);
    /* a body that does not time itself is timed whole by the loop: a positive sample */
    fake_body b = {.id = 0, .own_s = NAN, .order = order, .n_order = &n_order};
    assert_int_equal(gvb_measure(&w, "a_us", 1e6, fake_run, &b), 0);
    assert_int_equal(b.calls, 5);
    emitted e = read_back(fds);
    assert_int_equal(e.series_a, 4);
    assert_int_equal(e.primary, 0);
    assert_true(e.first_a >= 0 && e.first_a < 1e6);
}

static void test_min_time(void **state)
{
    (void)state;
    int fds[2], order[64], n_order = 0;
    gvb_worker w = pipe_worker(fds, 1, 0);
    /* 1 us per round of two bodies, 0.5 us each: 9 rounds are short of 9.5 us, 10 reach it
     * (a threshold between rounds, so rounding in the running sum cannot move it) */
    w.min_time_s = 9.5e-6;
    fake_body b0 = {.id = 0, .own_s = 0.5e-6, .order = order, .n_order = &n_order};
    fake_body b1 = {.id = 1, .own_s = 0.5e-6, .order = order, .n_order = &n_order};
    gvb_round_body bodies[] = {{NULL, fake_run, &b0}, {"a_us", fake_run, &b1}};
    assert_int_equal(gvb_measure_rounds(&w, 1e6, bodies, 2, NULL), 0);
    assert_int_equal(b0.calls, 10);
    emitted e = read_back(fds);
    assert_int_equal(e.primary, 10);
    assert_int_equal(e.series_a, 10);
}

static void test_host_ref(void **state)
{
    (void)state;
    int fds[2], order[64], n_order = 0;
    gvb_worker w = pipe_worker(fds, 6, 3);
    static const gvb_metric_impl impl = {.host_ref = 1};
    static const gvb_metric_def def = {.code = "OH-TEST", .impl = &impl};
    w.metric = &def;
    fake_body b0 = {.id = 0, .own_s = 1e-6, .order = order, .n_order = &n_order};
    fake_body b1 = {.id = 1, .own_s = 1e-6, .order = order, .n_order = &n_order};
    gvb_round_body bodies[] = {{NULL, fake_run, &b0}, {"a_us", fake_run, &b1}};
    assert_int_equal(gvb_measure_rounds(&w, 1e6, bodies, 2, NULL), 0);
    /* one host reference sample per timed round (none for the warm-up), a real time per
     * system call: above 0 and below a millisecond */
    emitted e = read_back(fds);
    assert_int_equal(e.primary, 6);
    assert_int_equal(e.series_a, 6);
    assert_int_equal(e.host, 6);
    assert_int_equal(e.other, 0);
    assert_true(e.min_host > 0 && e.min_host < 1e6);
    /* a loop of an extra series only takes none: the reference goes with the primary */
    gvb_worker w2 = pipe_worker(fds, 4, 0);
    w2.metric = &def;
    assert_int_equal(gvb_measure(&w2, "a_us", 1e6, fake_run, &b1), 0);
    e = read_back(fds);
    assert_int_equal(e.series_a, 4);
    assert_int_equal(e.host, 0);
}

/* The hand-off: what the runner encodes, the worker decodes to the same fields; every value
 * outside its bounds or malformed is refused with the argument named. */
static void test_handoff_round_trip(void **state)
{
    (void)state;
    gvb_worker w = {.metric = gvb_metric_find("IS-003"), .tenant = 3, .tenants = 4,
                    .iterations = 34, .replicates = 3, .replicate = 2, .warmup = 10, .min_time_s = 0.25,
                    .seed = 18446744073709551615ull, .quick = 1,
                    .memory_limit = 4ull << 30, .compute_limit = 50};
    snprintf(w.system, sizeof w.system, "native@b");
    snprintf(w.kind, sizeof w.kind, "native");
    char **a;
    static const char *const prefix[] = {"__worker", NULL};
    assert_int_equal(gvb_handoff_encode(&w, prefix, &a), 0);
    int n = 0;
    while (a[n])
        n++;
    assert_string_equal(a[0], "__worker");
    gvb_worker d = {.tenants = 1, .iterations = 1, .replicates = 1};
    char err[256];
    assert_int_equal(gvb_handoff_decode(n, a, 1, &d, err, sizeof err), 0);
    assert_ptr_equal(d.metric, w.metric);
    assert_string_equal(d.system, "native@b");
    assert_string_equal(d.kind, "native");
    assert_int_equal(d.tenant, 3);
    assert_int_equal(d.tenants, 4);
    assert_int_equal(d.iterations, 34);
    assert_int_equal(d.replicates, 3);
    assert_int_equal(d.replicate, 2);
    assert_int_equal(d.warmup, 10);
    assert_true(d.min_time_s == 0.25 && d.seed == w.seed && d.quick == 1);
    assert_true(d.memory_limit == 4ull << 30 && d.compute_limit == 50);
    for (int i = 0; i < n; i++)
        free(a[i]);
    free(a);
    /* out of bounds on the way out: nothing is encoded */
    w.compute_limit = 101;
    assert_int_equal(gvb_handoff_encode(&w, prefix, &a), -1);
    /* malformed or out of range on the way in */
    static const char *const bad[] = {"--tenants=0", "--replicates=65", "--min-time=nan",
                                      "--seed=-1", "--memory-limit=4g", "--quick=2", "--replicate=64",
                                      "--compute-limit=50x", "--frob=1", "--metric=XX-999",
                                      "tenant=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *v[] = {"__worker", "--metric=OH-001", (char *)bad[i]};
        gvb_worker x = {0};
        assert_int_equal(gvb_handoff_decode(3, v, 1, &x, err, sizeof err), -1);
        assert_non_null(strstr(err, bad[i]));
    }
    char *nometric[] = {"__worker", "--tenant=1"};
    gvb_worker x = {0};
    assert_int_equal(gvb_handoff_decode(2, nometric, 1, &x, err, sizeof err), -1);
    assert_non_null(strstr(err, "--metric"));
}

int run_worker_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rounds_interleave),
        cmocka_unit_test(test_rounds_failure),
        cmocka_unit_test(test_measure_single),
        cmocka_unit_test(test_min_time),
        cmocka_unit_test(test_host_ref),
        cmocka_unit_test(test_handoff_round_trip),
    };
    return cmocka_run_group_tests_name("worker", tests, NULL, NULL);
}
