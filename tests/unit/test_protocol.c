/* The worker line protocol: every message, and malformed lines. */
#include <string.h>

#include "core/protocol.h"
#include "tests.h"

static void test_parse_messages(void **state)
{
    (void)state;
    gvb_msg m;
    char l1[] = "READY";
    assert_int_equal(gvb_proto_parse(l1, &m), 0);
    assert_int_equal(m.type, GVB_MSG_READY);
    char l1b[] = "READY 3";
    assert_int_equal(gvb_proto_parse(l1b, &m), 0);
    assert_double_equal(m.value, 3, 0);
    char l2[] = "S 12.5";
    assert_int_equal(gvb_proto_parse(l2, &m), 0);
    assert_int_equal(m.type, GVB_MSG_SAMPLE);
    assert_double_equal(m.value, 12.5, 0);
    char l3[] = "XS enqueue_us 3e-1";
    assert_int_equal(gvb_proto_parse(l3, &m), 0);
    assert_int_equal(m.type, GVB_MSG_SERIES);
    assert_string_equal(m.name, "enqueue_us");
    assert_double_equal(m.value, 0.3, 1e-15);
    char l4[] = "X t1.bytes -4";
    assert_int_equal(gvb_proto_parse(l4, &m), 0);
    assert_int_equal(m.type, GVB_MSG_EXTRA);
    assert_double_equal(m.value, -4, 0);
    char l5[] = "XT method latency proxy, 2 passes";
    assert_int_equal(gvb_proto_parse(l5, &m), 0);
    assert_int_equal(m.type, GVB_MSG_TEXT);
    assert_string_equal(m.text, "latency proxy, 2 passes");
    char l6[] = "STATUS SKIP needs 2 GPUs";
    assert_int_equal(gvb_proto_parse(l6, &m), 0);
    assert_int_equal(m.type, GVB_MSG_STATUS);
    assert_string_equal(m.name, "SKIP");
    assert_string_equal(m.text, "needs 2 GPUs");
    char l7[] = "V 0.97";
    assert_int_equal(gvb_proto_parse(l7, &m), 0);
    assert_int_equal(m.type, GVB_MSG_VALUE);
}

static void test_malformed(void **state)
{
    (void)state;
    const char *bad[] = {"", "   ", "HELLO", "S", "S abc", "S 1 2", "S nan", "X name",
                         "X bad|name 1", "XS 1", "READY now", "READY 1.5", "READY -1", "READY 1 2",
                         "STATUS", "V 1x", NULL};
    for (int i = 0; bad[i]; i++) {
        char buf[64];
        strcpy(buf, bad[i]);
        gvb_msg m;
        assert_int_equal(gvb_proto_parse(buf, &m), -1);
    }
}

static void test_format_round_trip(void **state)
{
    (void)state;
    char buf[256];
    gvb_msg out = {.type = GVB_MSG_SERIES, .name = "alloc_4KiB_us", .value = 1.0 / 3.0};
    int n = gvb_proto_format(buf, sizeof buf, &out);
    assert_true(n > 0 && buf[n - 1] == '\n');
    buf[n - 1] = '\0';
    gvb_msg in;
    assert_int_equal(gvb_proto_parse(buf, &in), 0);
    assert_double_equal(in.value, 1.0 / 3.0, 0); /* %.17g round-trips exactly */
    gvb_msg t = {.type = GVB_MSG_TEXT, .name = "why", .text = "two\nlines"};
    n = gvb_proto_format(buf, sizeof buf, &t);
    assert_true(n > 0);
    assert_null(strchr(buf, '\n') != buf + n - 1 ? buf : NULL); /* only the final newline */
    gvb_msg badname = {.type = GVB_MSG_EXTRA, .name = "has space", .value = 1};
    assert_int_equal(gvb_proto_format(buf, sizeof buf, &badname), -1);
    char tiny[4];
    gvb_msg s = {.type = GVB_MSG_SAMPLE, .value = 123456};
    assert_int_equal(gvb_proto_format(tiny, sizeof tiny, &s), -1);
}

int run_protocol_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_messages),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_format_round_trip),
    };
    return cmocka_run_group_tests_name("protocol", tests, NULL, NULL);
}
