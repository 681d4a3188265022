/*
 * link_control.h: takes the test bed's network interface down and brings it back up, for
 * the link_flap fault, and tells whether an RDMA port is active again.
 *
 * Promises: no shell and no child process (the interface flags go through the kernel's
 * interface ioctl on a datagram socket), so a flap can be undone from any teardown path;
 * every failure is one line naming the interface and the reason; the wait for an active
 * port is bounded.
 */
#ifndef HARNESS_LINK_CONTROL_H
#define HARNESS_LINK_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

/* 0, or -1 with error set (no such interface, a name too long, no CAP_NET_ADMIN). */
int link_control_set_up(const char *netdev, bool up, char *error, size_t error_size);
/* 0 with *up set from the interface's administrative flag, or -1 with error set. */
int link_control_is_up(const char *netdev, bool *up, char *error, size_t error_size);
/* Waits at most timeout_ms until port 1 of the RDMA device reads ACTIVE in sysfs.
 * 0 once active, -1 with error set (the state it stayed in) otherwise. */
int link_control_wait_port_active(const char *rdma_device, int timeout_ms, char *error,
                                  size_t error_size);

#endif
