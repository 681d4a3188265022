#include "testbed_choice.h"

#include <stdio.h>

const char *testbed_kind_name(testbed_kind kind)
{
    switch (kind) {
    case TESTBED_NATIVE_DEVICE:
        return "native-device";
    case TESTBED_NATIVE_RXE:
        return "native-rxe";
    case TESTBED_VM:
        break;
    }
    return "vm";
}

static bool choose_native(const testbed_facts *facts, testbed_choice *choice)
{
    if (facts->rdma_device_present) {
        choice->kind = TESTBED_NATIVE_DEVICE;
        snprintf(choice->reason, sizeof choice->reason,
                 "an RDMA device with an IPv4 address is already present");
        return true;
    }
    if (facts->is_root && facts->rxe_module_available) {
        choice->kind = TESTBED_NATIVE_RXE;
        snprintf(choice->reason, sizeof choice->reason,
                 "root, and the running kernel has rdma_rxe");
        return true;
    }
    return false;
}

int testbed_choose(testbed_request request, const testbed_facts *facts, testbed_choice *choice,
                   char *error, size_t error_size)
{
    switch (request) {
    case TESTBED_REQUEST_NATIVE:
        if (choose_native(facts, choice))
            return 0;
        snprintf(error, error_size, "--testbed native: no RDMA device here, and %s",
                 facts->is_root ? "the running kernel has no rdma_rxe module"
                                : "making a soft-RoCE link needs root");
        return -1;
    case TESTBED_REQUEST_VM:
        if (!facts->qemu_available) {
            snprintf(error, error_size, "--testbed vm: qemu-system-x86_64 is not installed");
            return -1;
        }
        choice->kind = TESTBED_VM;
        snprintf(choice->reason, sizeof choice->reason, "asked for with --testbed vm");
        return 0;
    case TESTBED_REQUEST_AUTO:
        break;
    }
    if (choose_native(facts, choice))
        return 0;
    if (facts->qemu_available) {
        choice->kind = TESTBED_VM;
        snprintf(choice->reason, sizeof choice->reason,
                 "no RDMA device and %s: soft-RoCE inside a micro-VM",
                 facts->is_root ? "no rdma_rxe in the running kernel" : "not root");
        return 0;
    }
    snprintf(error, error_size,
             "no test bed: no RDMA device, no usable rdma_rxe, and no qemu-system-x86_64");
    return -1;
}
