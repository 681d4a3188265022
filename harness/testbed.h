/*
 * testbed.h: bringing the chosen test bed up, running commands in it, taking it down.
 *
 * Promises:
 * - Inside the test bed an RDMA device is up on an address that belongs to the test bed
 *   alone (TEST-NET-1, never routable), memlock is unlimited, and the environment
 *   carries TESTBED_KIND, TESTBED_ADDRESS and TESTBED_RDMA_DEVICE.
 * - testbed_run returns the command's exit status, or fails with one line saying why the
 *   test bed could not run it; its wait is bounded by the given time-out.
 * - testbed_down removes everything testbed_up made (the rxe link, the dummy netdev),
 *   whatever happened in between; a VM leaves nothing behind once its qemu is reaped,
 *   and its request folder under the cache's runs/ is removed unless the VM failed in a
 *   way whose console log the error message points at.
 */
#ifndef HARNESS_TESTBED_H
#define HARNESS_TESTBED_H

#include <limits.h>
#include <stdbool.h>

#include "cli.h"
#include "testbed_choice.h"

/* TEST-NET-1 (RFC 5737): reserved for documentation, routed nowhere. */
#define TESTBED_ADDRESS "192.0.2.1"
#define TESTBED_PREFIX_LENGTH 24
/* The test bed netdev's MTU: rxe then runs at its largest path MTU, 4096 bytes. */
#define TESTBED_NETDEV_MTU "9000"

typedef struct testbed {
    testbed_choice choice;
    char rdma_device[64];
    char netdev[32];
    char address[64];
    char repo_root[PATH_MAX];
    char cache_dir[PATH_MAX];
    char results_dir[PATH_MAX]; /* shared writable with a VM: <repo>/results or --results */
    /* VM only */
    char kernel_dir[PATH_MAX];
    bool use_kvm;
    int vm_cpus;
    int vm_memory_mib;
    /* native rxe only: what to remove at the end */
    bool made_netdev;
    bool made_rdma_link;
    bool verbose;
} testbed;

int testbed_gather_facts(testbed_facts *facts);
int testbed_up(testbed *bed, const cli_options *options, const char *repo_root,
               const char *cache_dir, char *error, size_t error_size);
/* Runs argv in the test bed with the extra NAME=value entries added to the environment. */
int testbed_run(testbed *bed, char *const argv[], char *const extra_environment[],
                int timeout_seconds, int *exit_code, char *error, size_t error_size);
void testbed_down(testbed *bed);
/* One line: kind, device, address, and for a VM the accelerator. */
void testbed_describe(const testbed *bed, char *out, size_t out_size);

#endif
