/* The test bed is chosen best first from facts about the host, and refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#include "testbed_choice.h"

static testbed_kind chosen(testbed_request request, testbed_facts facts)
{
    testbed_choice choice;
    char error[256];
    assert_int_equal(testbed_choose(request, &facts, &choice, error, sizeof error), 0);
    return choice.kind;
}

static void an_existing_device_is_used_first(void **state)
{
    (void)state;
    testbed_facts everything = {true, true, true, true};
    assert_int_equal(chosen(TESTBED_REQUEST_AUTO, everything), TESTBED_NATIVE_DEVICE);
    testbed_facts device_only = {.rdma_device_present = true};
    assert_int_equal(chosen(TESTBED_REQUEST_AUTO, device_only), TESTBED_NATIVE_DEVICE);
}

static void root_with_rdma_rxe_makes_a_native_link(void **state)
{
    (void)state;
    testbed_facts facts = {.is_root = true, .rxe_module_available = true, .qemu_available = true};
    assert_int_equal(chosen(TESTBED_REQUEST_AUTO, facts), TESTBED_NATIVE_RXE);
    assert_int_equal(chosen(TESTBED_REQUEST_NATIVE, facts), TESTBED_NATIVE_RXE);
}

static void a_kernel_without_rdma_falls_back_to_the_vm(void **state)
{
    (void)state;
    /* This project's own CI host: root, no rdma_rxe, qemu installed. */
    testbed_facts facts = {.is_root = true, .qemu_available = true};
    testbed_choice choice;
    char error[256];
    assert_int_equal(testbed_choose(TESTBED_REQUEST_AUTO, &facts, &choice, error, sizeof error), 0);
    assert_int_equal(choice.kind, TESTBED_VM);
    assert_string_equal(choice.reason,
                        "no RDMA device and no rdma_rxe in the running kernel: soft-RoCE "
                        "inside a micro-VM");
    testbed_facts not_root = {.rxe_module_available = true, .qemu_available = true};
    assert_int_equal(chosen(TESTBED_REQUEST_AUTO, not_root), TESTBED_VM);
}

static void the_vm_can_be_forced_even_where_native_works(void **state)
{
    (void)state;
    testbed_facts facts = {true, true, true, true};
    assert_int_equal(chosen(TESTBED_REQUEST_VM, facts), TESTBED_VM);
}

static void impossible_requests_are_refused_with_the_reason(void **state)
{
    (void)state;
    testbed_choice choice;
    char error[256];
    testbed_facts no_rxe = {.is_root = true, .qemu_available = true};
    assert_int_equal(testbed_choose(TESTBED_REQUEST_NATIVE, &no_rxe, &choice, error, sizeof error),
                     -1);
    assert_string_equal(error,
                        "--testbed native: no RDMA device here, and the running kernel has no "
                        "rdma_rxe module");
    testbed_facts not_root = {.rxe_module_available = true};
    assert_int_equal(
        testbed_choose(TESTBED_REQUEST_NATIVE, &not_root, &choice, error, sizeof error), -1);
    assert_string_equal(error, "--testbed native: no RDMA device here, and making a soft-RoCE link "
                               "needs root");
    testbed_facts no_qemu = {.is_root = true};
    assert_int_equal(testbed_choose(TESTBED_REQUEST_VM, &no_qemu, &choice, error, sizeof error),
                     -1);
    assert_string_equal(error, "--testbed vm: qemu-system-x86_64 is not installed");
    assert_int_equal(testbed_choose(TESTBED_REQUEST_AUTO, &no_qemu, &choice, error, sizeof error),
                     -1);
    assert_string_equal(error, "no test bed: no RDMA device, no usable rdma_rxe, and no "
                               "qemu-system-x86_64");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_existing_device_is_used_first),
        cmocka_unit_test(root_with_rdma_rxe_makes_a_native_link),
        cmocka_unit_test(a_kernel_without_rdma_falls_back_to_the_vm),
        cmocka_unit_test(the_vm_can_be_forced_even_where_native_works),
        cmocka_unit_test(impossible_requests_are_refused_with_the_reason),
    };
    return cmocka_run_group_tests_name("testbed_choice", tests, NULL, NULL);
}
