/*
 * transport_rdma.h: what the RDMA transport tells beyond the shared interface: how many
 * of its resources are alive in this process, so that a test can prove that opening
 * and closing connections leaks no fd, memory region, queue pair or completion queue.
 */
#ifndef TRANSPORT_RDMA_H
#define TRANSPORT_RDMA_H

#include <stdint.h>

typedef struct transport_rdma_resources {
    int64_t connections;
    int64_t event_channels; /* each holds one fd */
    int64_t cm_ids;
    int64_t protection_domains;
    int64_t memory_regions;
    int64_t completion_channels; /* each holds one fd */
    int64_t completion_queues;
    int64_t queue_pairs;
} transport_rdma_resources;

/* A snapshot of what every open RDMA connection in the process holds right now. */
void transport_rdma_live_resources(transport_rdma_resources *out);

#endif
