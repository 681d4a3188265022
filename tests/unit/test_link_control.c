/*
 * test_link_control.c: the link_flap fault's interface control refuses bad names and
 * missing interfaces with one line naming them, reads the loopback interface as up, and
 * bounds its wait for an RDMA port. (Taking an interface down needs CAP_NET_ADMIN and a
 * netdev of our own: the link_flap integration test does that inside the test bed.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "link_control.h"
#include "monotonic_clock.h"

static void the_loopback_interface_reads_as_up(void **state)
{
    (void)state;
    bool up = false;
    char error[256] = "";
    assert_int_equal(link_control_is_up("lo", &up, error, sizeof error), 0);
    assert_true(up);
}

static void a_missing_interface_is_named_in_the_error(void **state)
{
    (void)state;
    bool up = true;
    char error[256] = "";
    assert_int_equal(link_control_is_up("nosuchif0", &up, error, sizeof error), -1);
    assert_string_equal(error, "nosuchif0: cannot read its flags: No such device");
    assert_int_equal(link_control_set_up("nosuchif0", true, error, sizeof error), -1);
    assert_string_equal(error, "nosuchif0: cannot bring it up: No such device");
    assert_null(strchr(error, '\n'));
}

static void a_name_too_long_or_empty_is_refused(void **state)
{
    (void)state;
    char error[256] = "";
    bool up;
    assert_int_equal(
        link_control_set_up("an-interface-name-far-too-long", false, error, sizeof error), -1);
    assert_string_equal(error,
                        "\"an-interface-name-far-too-long\" is not a network interface name");
    assert_int_equal(link_control_is_up("", &up, error, sizeof error), -1);
    assert_string_equal(error, "\"\" is not a network interface name");
    assert_int_equal(link_control_set_up(NULL, true, error, sizeof error), -1);
}

static void the_wait_for_a_missing_port_ends_at_once_with_its_reason(void **state)
{
    (void)state;
    char error[256] = "";
    long long started = monotonic_ms();
    assert_int_equal(link_control_wait_port_active("nosuchrxe0", 5000, error, sizeof error), -1);
    assert_true(monotonic_ms() - started < 1000);
    assert_string_equal(error, "nosuchrxe0: cannot read the port state: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_loopback_interface_reads_as_up),
        cmocka_unit_test(a_missing_interface_is_named_in_the_error),
        cmocka_unit_test(a_name_too_long_or_empty_is_refused),
        cmocka_unit_test(the_wait_for_a_missing_port_ends_at_once_with_its_reason),
    };
    return cmocka_run_group_tests_name("link control", tests, NULL, NULL);
}
