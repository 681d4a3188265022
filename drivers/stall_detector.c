/*
 * stall_detector.c: the stall rule promised by stall_detector.h.
 */
#include "stall_detector.h"

int64_t stall_detector_waiting_ns(int64_t last_progress_ns, int64_t oldest_outstanding_sent_ns,
                                  int64_t now_ns)
{
    int64_t since =
        last_progress_ns > oldest_outstanding_sent_ns ? last_progress_ns : oldest_outstanding_sent_ns;
    return now_ns - since;
}

bool stall_detector_is_stalled(uint64_t outstanding, int64_t last_progress_ns,
                               int64_t oldest_outstanding_sent_ns, int64_t now_ns,
                               int64_t stall_bound_ns)
{
    if (outstanding == 0) {
        return false;
    }
    return stall_detector_waiting_ns(last_progress_ns, oldest_outstanding_sent_ns, now_ns) >=
           stall_bound_ns;
}
