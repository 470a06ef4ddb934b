/* The contention metrics' victim/aggressor hand-over (no GPU): the phase stop flag and ready
 * count on the tenants' shared page, an aggressor's run that ends when the victim is done,
 * and the measurement window split over the replicates. */
#include "tests.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/catalog.h"
#include "metrics/contend.h"

static void test_window_share(void **state)
{
    (void)state;
    gvb_worker w = {.replicates = 1};
    assert_double_equal(gvb_window_share_s(&w), 0.4, 1e-12); /* one replicate: the whole 0.4 s */
    w.replicates = 2;
    assert_double_equal(gvb_window_share_s(&w), 0.2, 1e-12);
    w.replicates = 3;
    assert_double_equal(gvb_window_share_s(&w), 0.2, 1e-12); /* 0.13 s: the --quick floor */
    w.min_time_s = 1.0;
    assert_double_equal(gvb_window_share_s(&w), 1.0, 1e-12); /* --min-time holds per group */
    w = (gvb_worker){.replicates = 1, .quick = 1};
    assert_double_equal(gvb_window_share_s(&w), 0.2, 1e-12);
}

/* A body that counts its calls and, at call stop_at, raises the victim's stop of phase. */
typedef struct counting_body {
    int calls, stop_at, stop_phase, fail;
    gvb_shared *sh;
} counting_body;

static int counting_run(void *arg, double *sample_s)
{
    counting_body *b = arg;
    (void)sample_s;
    b->calls++;
    if (b->calls == b->stop_at)
        gvb_shared_stop_phase(b->sh, b->stop_phase);
    return b->fail;
}

static void test_phase_stop_and_ready(void **state)
{
    (void)state;
    gvb_worker victim = {.metric = gvb_metric_find("CACHE-003"), .tenant = 0, .tenants = 2,
                         .replicates = 1, .out_fd = -1};
    char name[64];
    snprintf(name, sizeof name, "/gvb-%d-CACHE-003", (int)getppid());
    shm_unlink(name);
    gvb_shared *sh = gvb_shared_open(&victim);
    assert_non_null(sh);
    assert_false(gvb_shared_phase_stopped(sh, 1));

    /* phase 1: the aggressor runs until the victim stops phase 1 (at its 3rd call), and counts
     * itself ready once */
    counting_body b = {.stop_at = 3, .stop_phase = 1, .sh = sh};
    gvb_series t = {0};
    assert_int_equal(gvb_run_until(gvb_until_victim(&victim, sh, 1), counting_run, &b, &t), 0);
    assert_int_equal(b.calls, 3);
    assert_int_equal((int)t.n, 3);
    assert_int_equal(gvb_shared_ready(sh), 1);
    assert_int_equal(gvb_contend_await(&victim, sh, 1), 0); /* 1 aggressor of 2 tenants */

    /* phase 2 is not stopped by phase 1's flag: it runs until its own */
    assert_false(gvb_shared_phase_stopped(sh, 2));
    b = (counting_body){.stop_at = 5, .stop_phase = 2, .sh = sh};
    assert_int_equal(gvb_run_until(gvb_until_victim(&victim, sh, 2), counting_run, &b, NULL), 0);
    assert_int_equal(b.calls, 5);
    assert_int_equal(gvb_shared_ready(sh), 2);
    assert_int_equal(gvb_contend_await(&victim, sh, 2), 0);

    /* a lower phase never lowers the flag; an aggressor of a phase already stopped makes one
     * call (and still counts itself ready) */
    gvb_shared_stop_phase(sh, 1);
    assert_true(gvb_shared_phase_stopped(sh, 2));
    b = (counting_body){.sh = sh};
    assert_int_equal(gvb_run_until(gvb_until_victim(&victim, sh, 2), counting_run, &b, NULL), 0);
    assert_int_equal(b.calls, 1);

    /* a failing first call still counts the aggressor ready, so no victim waits for it */
    b = (counting_body){.fail = 7, .sh = sh};
    assert_int_equal(gvb_run_until(gvb_until_victim(&victim, sh, 3), counting_run, &b, NULL), 7);
    assert_int_equal(gvb_shared_ready(sh), 4);

    /* the victim's close stops every phase (isolation's single flag reads it too) */
    assert_false(gvb_shared_phase_stopped(sh, 3));
    gvb_shared_set_stop(sh);
    assert_true(gvb_shared_phase_stopped(sh, 1000));
    assert_true(gvb_shared_stopped(sh));
    gvb_series_free(&t);
    gvb_contend_close(sh, &victim);
    char path[96];
    snprintf(path, sizeof path, "/dev/shm%s", name);
    assert_int_not_equal(access(path, F_OK), 0); /* the victim unlinked it */
}

/* Without a shared page the loop is the plain window: max_calls ends it, no flag is read. */
static void test_until_window(void **state)
{
    (void)state;
    counting_body b = {0};
    assert_int_equal(gvb_run_until(gvb_until_window(1e9, 4), counting_run, &b, NULL), 0);
    assert_int_equal(b.calls, 4);
    b = (counting_body){0};
    assert_int_equal(gvb_run_window(0, 0, counting_run, &b, NULL), 0); /* at least once */
    assert_int_equal(b.calls, 1);
}

int run_contend_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_share),
        cmocka_unit_test(test_phase_stop_and_ready),
        cmocka_unit_test(test_until_window),
    };
    return cmocka_run_group_tests_name("contend", tests, NULL, NULL);
}
