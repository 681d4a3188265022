/*
 * stall_detector.h: when a connection counts as stalled, as a pure function of times.
 *
 * Promise: a connection is stalled when it has requests outstanding and neither its last
 * progress (a reply, or bytes moving either way) nor the oldest outstanding request is
 * younger than the bound. Measuring from the later
 * of the two means a connection that was idle for a while is not blamed for the idle
 * time: the clock starts again when it sends after the idle spell.
 */
#ifndef STALL_DETECTOR_H
#define STALL_DETECTOR_H

#include <stdbool.h>
#include <stdint.h>

/* Times in nanoseconds of one monotonic clock; last_progress_ns (a reply, or bytes of
 * one received, or bytes of a request sent) is 0 before any. */
bool stall_detector_is_stalled(uint64_t outstanding, int64_t last_progress_ns,
                               int64_t oldest_outstanding_sent_ns, int64_t now_ns,
                               int64_t stall_bound_ns);
/* How long the connection has been waiting: now minus the later of the two times. */
int64_t stall_detector_waiting_ns(int64_t last_progress_ns, int64_t oldest_outstanding_sent_ns,
                                  int64_t now_ns);

#endif
