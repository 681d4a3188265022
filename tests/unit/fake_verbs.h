/*
 * fake_verbs.h: a stand-in for librdmacm and libibverbs, linked in with -Wl,--wrap, so
 * that the RDMA transport's state machine and error paths run on a host with no RDMA
 * device. The test plays the server: it queues CM events and work completions, and
 * reads back every request the transport posted.
 *
 * Link-time substitution leaves one fake per process; fake_verbs_reset() starts afresh.
 */
#ifndef FAKE_VERBS_H
#define FAKE_VERBS_H

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
#include <stdbool.h>
#include <stdint.h>

#define FAKE_MAX_SENDS 4096

typedef struct fake_send {
    uint64_t wr_id;
    enum ibv_wr_opcode opcode;
    bool signalled;
    uint32_t imm_host_order;
    uint64_t remote_addr;
    uint32_t rkey;
    uint32_t length;
    uint64_t local_addr; /* where the payload was posted from */
    uint8_t control[32]; /* the first 32 bytes of the payload */
} fake_send;

typedef struct fake_verbs {
    /* Live objects, by kind; all must be 0 after every close. */
    int event_channels, cm_ids, pds, mrs, completion_channels, cqs, qps;
    int cm_events_unacked;
    unsigned cq_events_unacked;
    /* What the transport asked for. */
    int resolve_route_calls, connect_calls, disconnect_calls, notify_calls;
    struct rdma_conn_param connect_parameters;
    struct ibv_qp_init_attr qp_attributes;
    int cq_entries;
    int receives_posted;      /* in total */
    int receives_outstanding; /* posted and not yet completed */
    /* Each receive slot's buffer and the wr_id it was last posted with. The transport
     * keeps the slot in the low 10 bits of a receive's wr_id (the rest is its own tag);
     * a completion hands the posted wr_id back, as hardware does. */
    uint64_t receive_slot_addr[1024];
    uint64_t receive_wr_id[1024];
    /* Every memory registration, in order: what it covered and with which access. */
    int registrations;
    size_t registered_length[16];
    uint64_t registered_addr[16];
    int registered_access[16];
    fake_send sends[FAKE_MAX_SENDS];
    int send_count;
    /* Failure injection. */
    bool fail_create_event_channel;
} fake_verbs;

extern fake_verbs fake;

void fake_verbs_reset(void);
/* Queues a CM event and makes the event channel fd readable. */
void fake_cm_event(enum rdma_cm_event_type type, int status);
/* Queues a work completion and raises a completion event. */
void fake_completion(const struct ibv_wc *completion);
/* Puts a control message in receive slot `slot` and completes that receive. */
void fake_receive_control(uint64_t slot, const void *bytes, uint32_t length);
/* Completes a receive as a WRITE_WITH_IMM of `bytes`. */
void fake_receive_imm(uint64_t slot, uint32_t bytes);

#endif
