/* One group of tenant processes (and gvb_spawn under it), with /bin/sh as the tenants: the start barrier holds every
 * tenant until all are there, protocol lines reach on_msg, and outcomes tell a clean exit, a
 * crash, a status, a tenant that dies before the barrier and one over its deadline apart. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/group.h"
#include "core/spawn.h"
#include "core/worker.h"
#include "tests.h"

extern char **environ;

typedef struct seen {
    int samples[4];
    double sum[4];
    int ready_calls;
} seen;

static void on_msg(void *ctx, int t, const gvb_msg *m)
{
    seen *s = ctx;
    if (m->type == GVB_MSG_SAMPLE) {
        s->samples[t]++;
        s->sum[t] += m->value;
    }
}

static void on_ready(void *ctx, gvb_group *g)
{
    (void)g;
    ((seen *)ctx)->ready_calls++;
}

/* each tenant runs `sh -c SCRIPT sh INDEX` */
static int build(void *ctx, int i, char ***argv, gvb_env *env)
{
    (void)env;
    const char *const *scripts = ctx;
    char **a = calloc(6, sizeof *a);
    char idx[16];
    snprintf(idx, sizeof idx, "%d", i);
    if (!a)
        return -1;
    a[0] = strdup("sh");
    a[1] = strdup("-c");
    a[2] = strdup(scripts[i]);
    a[3] = strdup("sh");
    a[4] = strdup(idx);
    *argv = a;
    return a[0] && a[1] && a[2] && a[3] && a[4] ? 0 : -1;
}

static gvb_status run(const char *const *scripts, int n, double deadline, seen *s,
                      gvb_tenant *t, char reasons[][512], double *wall)
{
    memset(t, 0, sizeof *t * (size_t)n);
    gvb_group g = {.n = n, .t = t, .exe = "/bin/sh", .base_env = environ,
                   .deadline_s = deadline, .on_msg = on_msg, .on_ready = on_ready, .ctx = s,
                   .system = "test", .metric = "group"};
    double t0 = gvb_now();
    assert_int_equal(gvb_group_run(&g, build, (void *)scripts), 0);
    *wall = gvb_now() - t0;
    gvb_status worst = GVB_OK;
    for (int i = 0; i < n; i++) {
        gvb_status st = gvb_tenant_outcome(&g, &t[i], i, reasons[i], 512, 0);
        if (gvb_status_severity(st) > gvb_status_severity(worst))
            worst = st;
    }
    return worst;
}

static void test_barrier_and_messages(void **state)
{
    (void)state;
    /* tenant 1 arrives 0.3 s late; tenant 0 may only send its sample after the start, so its
     * time stamp is after tenant 1's arrival */
    static const char *const scripts[] = {
        "echo 'READY 0' >&3; cat <&4; echo \"S $(date +%s%N)\" >&3; echo 'STATUS OK' >&3",
        "sleep 0.3; echo \"S $(date +%s%N)\" >&3; echo 'READY 0' >&3; cat <&4; "
        "echo 'S 1' >&3; echo 'STATUS OK' >&3",
    };
    seen s = {0};
    gvb_tenant t[2];
    char why[2][512];
    double wall;
    assert_int_equal(run(scripts, 2, 10, &s, t, why, &wall), GVB_OK);
    assert_int_equal(s.samples[0], 1);
    assert_int_equal(s.samples[1], 2);
    assert_int_equal(s.ready_calls, 1);
    /* tenant 0's post-barrier stamp is later than tenant 1's pre-barrier one */
    assert_true(s.sum[0] > s.sum[1] - 1);
    assert_true(t[0].exited && t[1].exited);
}

static void test_outcomes(void **state)
{
    (void)state;
    seen s = {0};
    gvb_tenant t[2];
    char why[2][512];
    double wall;
    /* a crash after the barrier: FAIL naming the signal; the clean tenant is OK */
    static const char *const crash[] = {
        "echo 'READY 0' >&3; cat <&4; echo 'STATUS OK' >&3",
        "echo 'READY 0' >&3; cat <&4; echo 'last words' >&2; kill -SEGV $$",
    };
    assert_int_equal(run(crash, 2, 10, &s, t, why, &wall), GVB_FAIL);
    assert_string_equal(why[0], "");
    assert_non_null(strstr(why[1], "crashed: killed by signal 11"));
    assert_non_null(strstr(why[1], "last stderr: last words"));
    /* a tenant that reports SKIP with a reason */
    static const char *const skip[] = {
        "echo 'READY 0' >&3; cat <&4; echo 'STATUS SKIP no such thing' >&3",
    };
    assert_int_equal(run(skip, 1, 10, &s, t, why, &wall), GVB_SKIP);
    assert_string_equal(why[0], "no such thing");
    /* exit without a status, and a non-zero exit */
    static const char *const quiet[] = {
        "echo 'READY 0' >&3; cat <&4",
        "echo 'READY 0' >&3; cat <&4; echo 'STATUS OK' >&3; exit 7",
    };
    run(quiet, 2, 10, &s, t, why, &wall);
    assert_non_null(strstr(why[0], "ended without reporting a status"));
    assert_non_null(strstr(why[1], "exited with status 7"));
    /* a malformed protocol line fails the tenant */
    static const char *const bad[] = {
        "echo 'READY 0' >&3; cat <&4; echo 'S notanumber' >&3; echo 'STATUS OK' >&3",
    };
    assert_int_equal(run(bad, 1, 10, &s, t, why, &wall), GVB_FAIL);
    assert_non_null(strstr(why[0], "malformed"));
}

static void test_death_before_barrier_and_deadline(void **state)
{
    (void)state;
    seen s = {0};
    gvb_tenant t[2];
    char why[2][512];
    double wall;
    /* tenant 1 dies before the barrier: tenant 0 must not wait for it forever */
    static const char *const early[] = {
        "echo 'READY 0' >&3; cat <&4; sleep 30; echo 'STATUS OK' >&3",
        "exit 3",
    };
    assert_int_equal(run(early, 2, 60, &s, t, why, &wall), GVB_FAIL);
    assert_true(wall < 10);
    assert_non_null(strstr(why[1], "exited with status 3"));
    /* over the deadline: SIGKILLed by the group, and said so */
    static const char *const slow[] = {
        "echo 'READY 0' >&3; cat <&4; sleep 30; echo 'STATUS OK' >&3",
    };
    assert_int_equal(run(slow, 1, 0.5, &s, t, why, &wall), GVB_FAIL);
    assert_true(wall < 10);
    assert_true(t[0].killed);
    assert_non_null(strstr(why[0], "overran its 0.5 s deadline"));
    /* the stop flag interrupts a group: FAIL "interrupted" */
    gvb_stop_requested = 1;
    assert_int_equal(run(slow, 1, 60, &s, t, why, &wall), GVB_FAIL);
    gvb_stop_requested = 0;
    assert_true(wall < 10);
    assert_string_equal(why[0], "interrupted");
}

/* gvb_spawn: the child gets exactly the fds it is given, in either start path; a program
 * that cannot be executed is an error, and gvb_spawn_wait kills by pid at its deadline */
static void test_spawn(void **state)
{
    (void)state;
    for (int forked = 0; forked < 2; forked++) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        /* the pipe's write end becomes fd 3 and fd 1; fd 0 is /dev/null (read gives EOF) */
        char *argv[] = {"sh", "-c", "read x; echo \"three $?\" >&3; echo one", NULL};
        const int fds[] = {GVB_SPAWN_NULL, p[1], 2, p[1]};
        pid_t pid = gvb_spawn("/bin/sh", argv, environ, fds, 4,
                              forked ? GVB_SPAWN_DIE_WITH_PARENT : 0);
        assert_true(pid > 0);
        close(p[1]);
        char buf[64] = "";
        size_t n = 0;
        ssize_t k;
        while ((k = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
            n += (size_t)k;
        buf[n] = '\0';
        close(p[0]);
        int ws = -1;
        assert_int_equal(gvb_spawn_wait(pid, 10, &ws), 0);
        assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
        assert_string_equal(buf, "three 1\none\n");
    }
    /* not executable: posix_spawn says so; the forked path exits 127 */
    char *none[] = {"none", NULL};
    errno = 0;
    assert_int_equal(gvb_spawn("/nonexistent/gvb", none, environ, NULL, 0, 0), -1);
    assert_int_equal(errno, ENOENT);
    pid_t pid = gvb_spawn("/nonexistent/gvb", none, environ, NULL, 0, GVB_SPAWN_DIE_WITH_PARENT);
    int ws = -1;
    assert_true(pid > 0);
    assert_int_equal(gvb_spawn_wait(pid, 10, &ws), 0);
    assert_int_equal(WEXITSTATUS(ws), 127);
    /* too many fds */
    assert_int_equal(gvb_spawn("/bin/sh", none, environ, NULL, GVB_SPAWN_MAX_FDS + 1, 0), -1);
    /* the deadline: killed by its pid, and said so */
    char *slow[] = {"sh", "-c", "sleep 30", NULL};
    const int std[] = {GVB_SPAWN_NULL, 1, 2};
    pid = gvb_spawn("/bin/sh", slow, environ, std, 3, 0);
    double t0 = gvb_now();
    assert_int_equal(gvb_spawn_wait(pid, 0.2, &ws), 1);
    assert_true(gvb_now() - t0 < 5);
    assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    /* with a timeout the wait returns when the child ends, not at the next 10 ms poll (a
     * workload's wall time is read then): waiting for /bin/true (it execs and exits within a
     * few ms of its start; a poll would first sleep 10 ms), median of 5 under 6 ms */
    char *quick[] = {"true", NULL};
    double took[5];
    for (int i = 0; i < 5; i++) {
        pid = gvb_spawn("/bin/true", quick, environ, std, 3, GVB_SPAWN_DIE_WITH_PARENT);
        assert_true(pid > 0);
        t0 = gvb_now();
        assert_int_equal(gvb_spawn_wait(pid, 10, &ws), 0);
        took[i] = gvb_now() - t0;
    }
    for (int i = 1; i < 5; i++) /* sort */
        for (int k = i; k > 0 && took[k] < took[k - 1]; k--) {
            double x = took[k];
            took[k] = took[k - 1];
            took[k - 1] = x;
        }
    assert_true(took[2] < 0.006);
}

/* /proc/PID/stat: this process runs, its parent is getppid(); a child that exited and is not
 * reaped is a zombie; a reaped one is gone */
static void test_proc_stat(void **state)
{
    (void)state;
    char st = 0;
    long pp = 0;
    assert_int_equal(gvb_proc_stat(getpid(), &st, &pp), 0);
    assert_int_equal(st, 'R');
    assert_int_equal(pp, (long)getppid());
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    assert_true(c > 0);
    for (int i = 0; i < 200 && st != 'Z'; i++) {
        usleep(5000);
        assert_int_equal(gvb_proc_stat(c, &st, NULL), 0);
    }
    assert_int_equal(st, 'Z');
    assert_int_equal(gvb_proc_stat(c, NULL, &pp), 0);
    assert_int_equal(pp, (long)getpid());
    assert_int_equal(waitpid(c, NULL, 0), c);
    assert_int_equal(gvb_proc_stat(c, &st, &pp), -1);
}

static void test_severity(void **state)
{
    (void)state;
    assert_true(gvb_status_severity(GVB_FAIL) > gvb_status_severity(GVB_INERT));
    assert_true(gvb_status_severity(GVB_INERT) > gvb_status_severity(GVB_SKIP));
    assert_true(gvb_status_severity(GVB_SKIP) > gvb_status_severity(GVB_OK));
}

int run_tenant_group_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_barrier_and_messages),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_death_before_barrier_and_deadline),
        cmocka_unit_test(test_spawn),
        cmocka_unit_test(test_proc_stat),
        cmocka_unit_test(test_severity),
    };
    return cmocka_run_group_tests_name("group", tests, NULL, NULL);
}
