/* Disposable children: records come back, crashes and hangs are told apart, and a child
 * never holds the protocol fd open. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "core/protocol.h"
#include "core/spawn.h"
#include "tests.h"

static int writes_record(void *arg, int fd)
{
    int v = *(int *)arg;
    return gvb_write_all(fd, &v, sizeof v) == 0 ? 3 : 1;
}

static int crashes(void *arg, int fd)
{
    (void)arg;
    (void)fd;
    kill(getpid(), SIGSEGV);
    return 0;
}

static int hangs(void *arg, int fd)
{
    (void)arg;
    (void)fd;
    for (;;)
        pause();
    return 0;
}

static int sleeps(void *arg, int fd)
{
    (void)arg;
    (void)fd;
    usleep(500000);
    return 0;
}

static void test_record_and_exit(void **state)
{
    (void)state;
    gvb_child c;
    int v = 1234, got = 0;
    assert_int_equal(gvb_child_start(&c, writes_record, &v), 0);
    assert_int_equal(gvb_child_read(&c, &got, sizeof got, 5), 1);
    assert_int_equal(got, 1234);
    assert_int_equal(gvb_child_finish(&c, 5), GVB_CHILD_EXITED);
    assert_int_equal(WEXITSTATUS(c.wstatus), 3);
    char buf[64];
    assert_string_equal(gvb_child_describe(&c, buf, sizeof buf), "exited with status 3");
    assert_int_equal(gvb_child_finish(&c, 0), GVB_CHILD_EXITED); /* idempotent */
}

static void test_crash(void **state)
{
    (void)state;
    gvb_child c;
    int got;
    assert_int_equal(gvb_child_start(&c, crashes, NULL), 0);
    assert_int_equal(gvb_child_read(&c, &got, sizeof got, 5), 0); /* EOF, no record */
    assert_int_equal(gvb_child_finish(&c, 5), GVB_CHILD_SIGNALED);
    char buf[64];
    assert_non_null(strstr(gvb_child_describe(&c, buf, sizeof buf), "signal 11"));
}

static void test_hang(void **state)
{
    (void)state;
    gvb_child c;
    int got;
    assert_int_equal(gvb_child_start(&c, hangs, NULL), 0);
    assert_int_equal(gvb_child_read(&c, &got, sizeof got, 0.1), -1); /* timeout */
    assert_int_equal(gvb_child_finish(&c, 0.1), GVB_CHILD_HUNG);
    assert_true(c.reaped);
}

/* With a pipe standing in for the protocol fd, the child must not keep it open. */
static void test_protocol_fd_closed_in_child(void **state)
{
    (void)state;
    int saved = dup(GVB_FD_OUT); /* -1 if fd 3 was not open */
    int raw[2], p[2];
    assert_int_equal(pipe(raw), 0);
    p[0] = fcntl(raw[0], F_DUPFD, 20); /* clear of fd 3 .. 11 */
    p[1] = fcntl(raw[1], F_DUPFD, 20);
    close(raw[0]);
    close(raw[1]);
    assert_true(dup2(p[1], GVB_FD_OUT) == GVB_FD_OUT);
    close(p[1]);
    gvb_child c;
    assert_int_equal(gvb_child_start(&c, sleeps, NULL), 0);
    close(GVB_FD_OUT); /* our copy: only the child's could keep the pipe open now */
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 200), 1);
    char ch;
    assert_int_equal(read(p[0], &ch, 1), 0); /* EOF while the child still runs */
    assert_int_equal(gvb_child_finish(&c, 5), GVB_CHILD_EXITED);
    close(p[0]);
    if (saved >= 0) {
        dup2(saved, GVB_FD_OUT);
        close(saved);
    }
}

static int returns_arg(void *arg) { return *(int *)arg; }

/* a plain forked function: its return value is the exit status, reaped by gvb_spawn_wait */
static void test_fork_fn(void **state)
{
    (void)state;
    int v = 7, ws = -1;
    pid_t pid = gvb_child_fork(returns_arg, &v);
    assert_true(pid > 0);
    assert_int_equal(gvb_spawn_wait(pid, 10, &ws), 0);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 7);
}

int run_child_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_and_exit),
        cmocka_unit_test(test_crash),
        cmocka_unit_test(test_hang),
        cmocka_unit_test(test_protocol_fd_closed_in_child),
        cmocka_unit_test(test_fork_fn),
    };
    return cmocka_run_group_tests_name("child", tests, NULL, NULL);
}
