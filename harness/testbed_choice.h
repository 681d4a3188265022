/*
 * testbed_choice.h: which test bed to use, decided from facts about the host alone
 * (gathering the facts is testbed.c's job), so that the decision can be tested.
 *
 * Best first: an RDMA device that already exists (a real RNIC, a configured rxe link)
 * used natively; else, as root on a kernel with rdma_rxe, a soft-RoCE link made
 * natively on a dummy netdev; else a micro-VM with Debian's kernel.
 */
#ifndef HARNESS_TESTBED_CHOICE_H
#define HARNESS_TESTBED_CHOICE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

typedef enum testbed_kind {
    TESTBED_NATIVE_DEVICE, /* an RDMA device that was already there */
    TESTBED_NATIVE_RXE,    /* rdma_rxe on a dummy netdev, made and removed by us */
    TESTBED_VM,            /* a micro-VM with soft-RoCE inside */
} testbed_kind;

typedef struct testbed_facts {
    bool rdma_device_present; /* an RDMA device with an IPv4 address on its netdev */
    bool is_root;
    bool rxe_module_available; /* modprobe finds rdma_rxe for the running kernel */
    bool qemu_available;
} testbed_facts;

typedef struct testbed_choice {
    testbed_kind kind;
    char reason[200]; /* why, in words, printed and recorded */
} testbed_choice;

int testbed_choose(testbed_request request, const testbed_facts *facts, testbed_choice *choice,
                   char *error, size_t error_size);
const char *testbed_kind_name(testbed_kind kind);

#endif
