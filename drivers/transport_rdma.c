/*
 * transport_rdma.c: the client side of Valkey over RDMA (librdmacm + libibverbs),
 * non-blocking and driven by the caller's epoll loop.
 *
 * A connection walks RESOLVING_ADDRESS -> RESOLVING_ROUTE -> CONNECTING ->
 * AWAITING_PEER_BUFFER -> READY, and ends in DISCONNECTED or FAILED. Two fds are
 * registered with the caller: the CM event channel (connection life cycle) and the
 * completion channel (data and control messages). Every wait before READY has a
 * deadline that tick enforces. Every error ends only this connection, with one line in
 * error(). close() tears down whatever exists, in reverse order of creation.
 *
 * The wire rules (message layout, buffer accounting) live in rdma_wire.c.
 */
#include "transport_rdma.h"
#include "monotonic_clock.h"
#include "rdma_wire.h"
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <netdb.h>
#include <rdma/rdma_cma.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS 1000000LL

/* Work requests of each queue. Valkey's own client and server ask for 1024 of each and
 * a CQ of 2048, but soft-RoCE (rdma_rxe) rounds every queue up to a power of two above
 * the requested count and maps it into the process: 1024 send requests take 2048 slots
 * of 256 bytes, and the whole queue pair about 0.9 MiB per connection. A 2^k - 1 count
 * fills its power of two exactly. A send of ours carries a whole batch of pipelined
 * requests, so 255 is far more than the writes a connection has in flight; the server
 * uses one posted receive per write it makes to us, and 511 leaves room for a deep
 * pipeline answered reply by reply (and running out only makes the server retry: the
 * connection asks for infinite receiver-not-ready retries). */
#define RDMA_SEND_QUEUE_DEPTH 255
#define RDMA_RECEIVE_QUEUE_DEPTH 511
/* One completion queue serves both directions and must hold a completion of each. */
#define RDMA_CQ_ENTRIES (RDMA_SEND_QUEUE_DEPTH + RDMA_RECEIVE_QUEUE_DEPTH)
/* One posted receive per receive work request; each can hold a control message. */
#define RDMA_RECEIVE_SLOTS RDMA_RECEIVE_QUEUE_DEPTH
/* Control messages we may have in flight at once. We send only RegisterXferMemory, at
 * most one per buffer crossing, so a handful is plenty; the send queue keeps as many
 * slots free of data writes for them. */
#define RDMA_CONTROL_SEND_SLOTS 16
/* Signal every Nth data write: fewer completions to poll, and still four signalled
 * writes per full send queue so that slots come back long before it fills. */
#define RDMA_SIGNAL_EVERY 64
/* Address and route resolution each get this long. The reference client uses 100 ms;
 * soft-RoCE in an emulated VM needs more, and ARP on a cold cache can take a second. */
#define RDMA_RESOLVE_TIMEOUT_MS 2000
/* Completions taken from the CQ per ibv_poll_cq call. */
#define RDMA_POLL_BATCH 32
/* Limits on the advertised receive buffer: below a few control messages' worth it is
 * pointless, and the wire carries its length in 32 bits. */
#define RDMA_MIN_RX_BYTES 64
#define RDMA_MAX_RX_BYTES ((size_t)1 << 30)
#define RDMA_BUFFER_ALIGNMENT 4096
/* Receive work requests carry this bit in their wr_id, the slot in the low bits: a failed
 * completion has no valid opcode, and this still tells a receive from one of our sends. */
#define RDMA_RECEIVE_WR_TAG ((uint64_t)1 << 63)

typedef enum rdma_phase {
    RDMA_RESOLVING_ADDRESS,
    RDMA_RESOLVING_ROUTE,
    RDMA_CONNECTING,
    RDMA_AWAITING_PEER_BUFFER, /* established; the peer has not advertised its buffer yet */
    RDMA_READY,
    RDMA_DISCONNECTED,
    RDMA_FAILED,
} rdma_phase;

static const char *const phase_names[] = {
    [RDMA_RESOLVING_ADDRESS] = "resolving the address",
    [RDMA_RESOLVING_ROUTE] = "resolving the route",
    [RDMA_CONNECTING] = "connecting",
    [RDMA_AWAITING_PEER_BUFFER] = "waiting for the server's RegisterXferMemory",
    [RDMA_READY] = "ready",
    [RDMA_DISCONNECTED] = "disconnected",
    [RDMA_FAILED] = "failed",
};

struct transport_connection {
    transport_watch cm_watch;
    transport_watch cq_watch;
    int epoll_fd;
    bool cm_fd_watched, cq_fd_watched;

    rdma_phase phase;
    int64_t phase_deadline_ns;
    int64_t connect_deadline_ns;
    bool established; /* rdma_connect completed: close must disconnect */

    /* Owned resources, in order of creation. */
    struct rdma_event_channel *event_channel;
    struct rdma_cm_id *cm_id;
    struct ibv_pd *pd;
    uint8_t *control_buffer; /* receive slots, then control send slots */
    struct ibv_mr *control_mr;
    uint8_t *rx_buffer;
    struct ibv_mr *rx_mr;
    struct ibv_comp_channel *completion_channel;
    struct ibv_cq *cq;
    bool qp_created;
    /* Mirrors the server's receive buffer (see ensure_send_buffer); made when the server
     * first advertises it. A smaller one it replaced waits here until close. */
    uint8_t *tx_buffer;
    struct ibv_mr *tx_mr;
    uint8_t *replaced_tx_buffer;
    struct ibv_mr *replaced_tx_mr;
    uint32_t max_write; /* 0: as much as the server's buffer has free */

    rdma_rx_window rx;
    rdma_tx_window tx;
    rdma_send_queue send_queue;
    uint64_t control_slot_sequence[RDMA_CONTROL_SEND_SLOTS]; /* 0 when free */

    char peer[64];
    char error[320]; /* prefix, peer and reason always fit */
    bool peer_broke_protocol;
    transport_counters counters;
};

/* Live resources in the process, for leak checks (transport_rdma.h). */
static atomic_int_fast64_t live_connections, live_event_channels, live_cm_ids, live_pds, live_mrs,
    live_completion_channels, live_cqs, live_qps;

void transport_rdma_live_resources(transport_rdma_resources *out)
{
    out->connections = atomic_load(&live_connections);
    out->event_channels = atomic_load(&live_event_channels);
    out->cm_ids = atomic_load(&live_cm_ids);
    out->protection_domains = atomic_load(&live_pds);
    out->memory_regions = atomic_load(&live_mrs);
    out->completion_channels = atomic_load(&live_completion_channels);
    out->completion_queues = atomic_load(&live_cqs);
    out->queue_pairs = atomic_load(&live_qps);
}

static bool is_terminal(const transport_connection *connection)
{
    return connection->phase == RDMA_FAILED || connection->phase == RDMA_DISCONNECTED;
}

static void unwatch_fds(transport_connection *connection)
{
    /* A dead connection must not keep the caller's epoll loop busy. */
    if (connection->cq_fd_watched) {
        epoll_ctl(connection->epoll_fd, EPOLL_CTL_DEL, connection->completion_channel->fd, NULL);
        connection->cq_fd_watched = false;
    }
    if (connection->cm_fd_watched) {
        epoll_ctl(connection->epoll_fd, EPOLL_CTL_DEL, connection->event_channel->fd, NULL);
        connection->cm_fd_watched = false;
    }
}

static void end_connection(transport_connection *connection, rdma_phase phase, const char *format,
                           ...)
{
    if (is_terminal(connection))
        return;
    char reason[192];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof(reason), format, args);
    va_end(args);
    snprintf(connection->error, sizeof(connection->error), "rdma %s: %s", connection->peer, reason);
    connection->phase = phase;
    unwatch_fds(connection);
}

#define FAIL(connection, ...) end_connection((connection), RDMA_FAILED, __VA_ARGS__)

/* The peer sent what the protocol forbids: the same end, told apart for the caller. */
#define PROTOCOL_FAIL(connection, ...)                                                             \
    do {                                                                                           \
        if (!is_terminal(connection))                                                              \
            (connection)->peer_broke_protocol = true;                                              \
        FAIL((connection), __VA_ARGS__);                                                           \
    } while (0)

static void enter_phase(transport_connection *connection, rdma_phase phase, int bound_ms)
{
    connection->phase = phase;
    int64_t deadline = connection->connect_deadline_ns;
    if (bound_ms > 0) {
        int64_t bounded = monotonic_ns() + bound_ms * NS_PER_MS;
        if (bounded < deadline)
            deadline = bounded;
    }
    connection->phase_deadline_ns = deadline;
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int watch_fd(transport_connection *connection, transport_watch *watch)
{
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = watch};
    return epoll_ctl(connection->epoll_fd, EPOLL_CTL_ADD, watch->fd, &event);
}

static void *aligned_buffer(size_t size)
{
    void *buffer = NULL;
    if (posix_memalign(&buffer, RDMA_BUFFER_ALIGNMENT, size) != 0)
        return NULL;
    memset(buffer, 0, size);
    return buffer;
}

static struct ibv_mr *register_memory(transport_connection *connection, void *buffer, size_t size,
                                      int access)
{
    /* verbs.h turns ibv_reg_mr into an inline wrapper that, unoptimised, calls
     * ibv_reg_mr_iova2 instead; the parentheses call the library's own ibv_reg_mr in
     * every build, which is also what the unit tests' fake verbs stand in for. */
    struct ibv_mr *mr = (ibv_reg_mr)(connection->pd, buffer, size, access);
    if (mr != NULL)
        atomic_fetch_add(&live_mrs, 1);
    return mr;
}

static void deregister_memory(struct ibv_mr **mr)
{
    if (*mr == NULL)
        return;
    ibv_dereg_mr(*mr);
    atomic_fetch_sub(&live_mrs, 1);
    *mr = NULL;
}

static uint8_t *receive_slot(transport_connection *connection, uint64_t index)
{
    return connection->control_buffer + index * RDMA_WIRE_MESSAGE_BYTES;
}

static int post_receive(transport_connection *connection, uint64_t slot)
{
    struct ibv_sge sge = {.addr = (uintptr_t)receive_slot(connection, slot),
                          .length = RDMA_WIRE_MESSAGE_BYTES,
                          .lkey = connection->control_mr->lkey};
    struct ibv_recv_wr request = {
        .wr_id = RDMA_RECEIVE_WR_TAG | slot, .sg_list = &sge, .num_sge = 1};
    struct ibv_recv_wr *bad = NULL;
    int rc = ibv_post_recv(connection->cm_id->qp, &request, &bad);
    if (rc != 0) {
        FAIL(connection, "ibv_post_recv: %s", strerror(rc));
        return -1;
    }
    return 0;
}

static void release_control_slots(transport_connection *connection)
{
    for (int i = 0; i < RDMA_CONTROL_SEND_SLOTS; i++) {
        uint64_t sequence = connection->control_slot_sequence[i];
        if (sequence != 0 && sequence <= connection->send_queue.retired)
            connection->control_slot_sequence[i] = 0;
    }
}

static int send_control(transport_connection *connection, const rdma_wire_message *message)
{
    int slot = -1;
    for (int i = 0; i < RDMA_CONTROL_SEND_SLOTS && slot < 0; i++) {
        if (connection->control_slot_sequence[i] == 0)
            slot = i;
    }
    if (slot < 0 || !rdma_send_queue_can_post(&connection->send_queue, true)) {
        FAIL(connection, "no room to send a control message (%u sends in flight)",
             rdma_send_queue_in_flight(&connection->send_queue));
        return -1;
    }
    uint8_t *bytes = receive_slot(connection, RDMA_RECEIVE_SLOTS + (uint64_t)slot);
    rdma_wire_encode(message, bytes);

    bool signalled;
    uint64_t sequence = rdma_send_queue_post(&connection->send_queue, true, &signalled);
    struct ibv_sge sge = {.addr = (uintptr_t)bytes,
                          .length = RDMA_WIRE_MESSAGE_BYTES,
                          .lkey = connection->control_mr->lkey};
    struct ibv_send_wr request = {.wr_id = sequence,
                                  .sg_list = &sge,
                                  .num_sge = 1,
                                  .opcode = IBV_WR_SEND,
                                  .send_flags = IBV_SEND_SIGNALED};
    struct ibv_send_wr *bad = NULL;
    int rc = ibv_post_send(connection->cm_id->qp, &request, &bad);
    if (rc != 0) {
        FAIL(connection, "ibv_post_send (control message): %s", strerror(rc));
        return -1;
    }
    connection->control_slot_sequence[slot] = sequence;
    return 0;
}

/* Tells the peer where it may write: the start of our (now empty) receive buffer. */
static int advertise_receive_buffer(transport_connection *connection)
{
    rdma_wire_message message = {.opcode = RDMA_WIRE_REGISTER_XFER_MEMORY};
    message.body.memory.addr = (uintptr_t)connection->rx_buffer;
    message.body.memory.length = connection->rx.length;
    message.body.memory.rkey = connection->rx_mr->rkey;
    if (send_control(connection, &message) != 0)
        return -1;
    connection->counters.buffer_recycles++;
    return 0;
}

/* Creates everything the data path needs, once the route is known. */
static int build_queue_pair(transport_connection *connection)
{
    struct ibv_context *device = connection->cm_id->verbs;

    connection->pd = ibv_alloc_pd(device);
    if (connection->pd == NULL) {
        FAIL(connection, "ibv_alloc_pd: %s", strerror(errno));
        return -1;
    }
    atomic_fetch_add(&live_pds, 1);

    size_t control_bytes =
        (size_t)(RDMA_RECEIVE_SLOTS + RDMA_CONTROL_SEND_SLOTS) * RDMA_WIRE_MESSAGE_BYTES;
    connection->control_buffer = aligned_buffer(control_bytes);
    connection->rx_buffer = aligned_buffer(connection->rx.length);
    if (connection->control_buffer == NULL || connection->rx_buffer == NULL) {
        FAIL(connection, "out of memory for the %u-byte receive buffer", connection->rx.length);
        return -1;
    }
    connection->control_mr = register_memory(connection, connection->control_buffer, control_bytes,
                                             IBV_ACCESS_LOCAL_WRITE);
    if (connection->control_mr == NULL) {
        FAIL(connection, "ibv_reg_mr (control messages): %s (is memlock limited?)",
             strerror(errno));
        return -1;
    }
    connection->rx_mr = register_memory(connection, connection->rx_buffer, connection->rx.length,
                                        IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
    if (connection->rx_mr == NULL) {
        FAIL(connection, "ibv_reg_mr (%u-byte receive buffer): %s (is memlock limited?)",
             connection->rx.length, strerror(errno));
        return -1;
    }
    connection->completion_channel = ibv_create_comp_channel(device);
    if (connection->completion_channel == NULL) {
        FAIL(connection, "ibv_create_comp_channel: %s", strerror(errno));
        return -1;
    }
    atomic_fetch_add(&live_completion_channels, 1);
    connection->cq_watch.fd = connection->completion_channel->fd;
    if (set_nonblocking(connection->completion_channel->fd) != 0 ||
        watch_fd(connection, &connection->cq_watch) != 0) {
        FAIL(connection, "watching the completion channel: %s", strerror(errno));
        return -1;
    }
    connection->cq_fd_watched = true;

    connection->cq =
        ibv_create_cq(device, RDMA_CQ_ENTRIES, connection, connection->completion_channel, 0);
    if (connection->cq == NULL) {
        FAIL(connection, "ibv_create_cq: %s", strerror(errno));
        return -1;
    }
    atomic_fetch_add(&live_cqs, 1);
    int rc = ibv_req_notify_cq(connection->cq, 0);
    if (rc != 0) {
        FAIL(connection, "ibv_req_notify_cq: %s", strerror(rc));
        return -1;
    }

    struct ibv_qp_init_attr attributes = {
        .send_cq = connection->cq,
        .recv_cq = connection->cq,
        .qp_type = IBV_QPT_RC,
        .cap = {.max_send_wr = RDMA_SEND_QUEUE_DEPTH,
                .max_recv_wr = RDMA_RECEIVE_QUEUE_DEPTH,
                .max_send_sge = 1,
                .max_recv_sge = 1},
    };
    if (rdma_create_qp(connection->cm_id, connection->pd, &attributes) != 0) {
        FAIL(connection, "rdma_create_qp: %s", strerror(errno));
        return -1;
    }
    connection->qp_created = true;
    atomic_fetch_add(&live_qps, 1);

    for (uint64_t slot = 0; slot < RDMA_RECEIVE_SLOTS; slot++) {
        if (post_receive(connection, slot) != 0)
            return -1;
    }
    return 0;
}

static int start_connect(transport_connection *connection)
{
    if (build_queue_pair(connection) != 0)
        return -1;
    struct rdma_conn_param parameters = {
        .responder_resources = 1,
        .initiator_depth = 1,
        .retry_count = 7,     /* the most the field allows */
        .rnr_retry_count = 7, /* 7 means retry forever on receiver-not-ready */
    };
    if (rdma_connect(connection->cm_id, &parameters) != 0) {
        FAIL(connection, "rdma_connect: %s", strerror(errno));
        return -1;
    }
    enter_phase(connection, RDMA_CONNECTING, 0);
    return 0;
}

static void on_established(transport_connection *connection)
{
    connection->established = true;
    if (advertise_receive_buffer(connection) != 0)
        return;
    /* The server's RegisterXferMemory may have been polled before this CM event. */
    if (connection->tx.length != 0)
        connection->phase = RDMA_READY;
    else
        enter_phase(connection, RDMA_AWAITING_PEER_BUFFER, 0);
}

static void on_cm_event(transport_connection *connection, enum rdma_cm_event_type type, int status)
{
    switch (type) {
    case RDMA_CM_EVENT_ADDR_RESOLVED:
        if (connection->phase != RDMA_RESOLVING_ADDRESS)
            break;
        if (rdma_resolve_route(connection->cm_id, RDMA_RESOLVE_TIMEOUT_MS) != 0) {
            FAIL(connection, "rdma_resolve_route: %s", strerror(errno));
            break;
        }
        enter_phase(connection, RDMA_RESOLVING_ROUTE, RDMA_RESOLVE_TIMEOUT_MS);
        break;
    case RDMA_CM_EVENT_ROUTE_RESOLVED:
        if (connection->phase == RDMA_RESOLVING_ROUTE)
            start_connect(connection);
        break;
    case RDMA_CM_EVENT_ESTABLISHED:
        if (connection->phase == RDMA_CONNECTING)
            on_established(connection);
        break;
    case RDMA_CM_EVENT_ADDR_ERROR:
        FAIL(connection, "address resolution failed (%s)", strerror(-status));
        break;
    case RDMA_CM_EVENT_ROUTE_ERROR:
        FAIL(connection, "route resolution failed (%s)", strerror(-status));
        break;
    case RDMA_CM_EVENT_UNREACHABLE:
        FAIL(connection, "server unreachable (status %d)", status);
        break;
    case RDMA_CM_EVENT_CONNECT_ERROR:
        FAIL(connection, "connect error (status %d)", status);
        break;
    case RDMA_CM_EVENT_REJECTED:
        FAIL(connection, "connection rejected (status %d: is a server listening on RDMA?)", status);
        break;
    case RDMA_CM_EVENT_DISCONNECTED:
        end_connection(connection, RDMA_DISCONNECTED, "disconnected by the peer while %s",
                       phase_names[connection->phase]);
        break;
    case RDMA_CM_EVENT_DEVICE_REMOVAL:
        FAIL(connection, "RDMA device removed");
        break;
    case RDMA_CM_EVENT_ADDR_CHANGE:
        FAIL(connection, "local address changed");
        break;
    default:
        break; /* TIMEWAIT_EXIT and the server-only events */
    }
}

static int drain_cm_events(transport_connection *connection)
{
    for (;;) {
        struct rdma_cm_event *event = NULL;
        if (rdma_get_cm_event(connection->event_channel, &event) != 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            FAIL(connection, "rdma_get_cm_event: %s", strerror(errno));
            return -1;
        }
        enum rdma_cm_event_type type = event->event;
        int status = event->status;
        /* Acknowledge at once: rdma_destroy_id waits for every event to be acked. */
        rdma_ack_cm_event(event);
        if (!is_terminal(connection))
            on_cm_event(connection, type, status);
        if (is_terminal(connection))
            return 0;
    }
}

/* Our send buffer mirrors the server's receive buffer, as Valkey's own clients do: the
 * bytes of a write are copied to the offset where they will land in the server's buffer
 * and posted from there. That offset is written again only after the server has consumed
 * its whole buffer and advertised it anew, which it cannot do before every write into it
 * has arrived; so no completion need be awaited before reuse, and a write may be as large
 * as the server's free space. The buffer grows if the server advertises a larger one. */
static int ensure_send_buffer(transport_connection *connection, uint32_t length)
{
    if (connection->tx_mr != NULL && length <= connection->tx_mr->length)
        return 0;
    if (connection->tx_mr != NULL) {
        /* Writes from the old buffer may not have completed here yet: it is kept until
         * the queue is empty or the connection closes. */
        if (connection->replaced_tx_mr != NULL) {
            if (rdma_send_queue_in_flight(&connection->send_queue) != 0) {
                PROTOCOL_FAIL(connection,
                              "server grew its receive buffer again (%u bytes) while writes "
                              "to the one before were in flight",
                              length);
                return -1;
            }
            deregister_memory(&connection->replaced_tx_mr);
            free(connection->replaced_tx_buffer);
        }
        connection->replaced_tx_mr = connection->tx_mr;
        connection->replaced_tx_buffer = connection->tx_buffer;
        connection->tx_mr = NULL;
        connection->tx_buffer = NULL;
    }
    connection->tx_buffer = aligned_buffer(length);
    if (connection->tx_buffer == NULL) {
        FAIL(connection, "out of memory for the %u-byte send buffer", length);
        return -1;
    }
    connection->tx_mr =
        register_memory(connection, connection->tx_buffer, length, IBV_ACCESS_LOCAL_WRITE);
    if (connection->tx_mr == NULL) {
        FAIL(connection, "ibv_reg_mr (%u-byte send buffer): %s (is memlock limited?)", length,
             strerror(errno));
        return -1;
    }
    return 0;
}

static int on_control_message(transport_connection *connection, uint64_t slot, uint32_t length)
{
    rdma_wire_message message;
    rdma_wire_result result = rdma_wire_decode(receive_slot(connection, slot), length, &message);
    if (result != RDMA_WIRE_OK) {
        uint16_t opcode = 0;
        if (length >= 2)
            opcode = (uint16_t)(receive_slot(connection, slot)[0] << 8 |
                                receive_slot(connection, slot)[1]);
        PROTOCOL_FAIL(connection, "%s (%u bytes, opcode %u)", rdma_wire_result_text(result), length,
                      opcode);
        return -1;
    }
    switch (message.opcode) {
    case RDMA_WIRE_REGISTER_XFER_MEMORY:
        if (!rdma_tx_window_on_register(&connection->tx, message.body.memory.addr,
                                        message.body.memory.length, message.body.memory.rkey)) {
            if (message.body.memory.length == 0)
                PROTOCOL_FAIL(connection, "server advertised a zero-length receive buffer");
            else
                PROTOCOL_FAIL(
                    connection,
                    "server advertised a %u-byte receive buffer, more than the %u bytes a "
                    "Valkey server offers",
                    message.body.memory.length, RDMA_WIRE_MAX_PEER_BUFFER_BYTES);
            return -1;
        }
        if (ensure_send_buffer(connection, message.body.memory.length) != 0)
            return -1;
        if (connection->phase == RDMA_AWAITING_PEER_BUFFER)
            connection->phase = RDMA_READY;
        break;
    case RDMA_WIRE_KEEPALIVE:
        connection->counters.keepalives_received++;
        break;
    case RDMA_WIRE_GET_SERVER_FEATURE:
    case RDMA_WIRE_SET_CLIENT_FEATURE:
        break; /* never asked for; harmless */
    }
    return post_receive(connection, slot);
}

static int on_completion(transport_connection *connection, const struct ibv_wc *completion)
{
    bool is_receive = (completion->wr_id & RDMA_RECEIVE_WR_TAG) != 0;
    uint64_t slot = completion->wr_id & ~RDMA_RECEIVE_WR_TAG;
    if (completion->status != IBV_WC_SUCCESS) {
        /* A receive fails with a local length error (or, on rxe, a local QP operation
         * error) when the peer sent more than the receive holds: a control message is 32. */
        if (is_receive && (completion->status == IBV_WC_LOC_LEN_ERR ||
                           completion->status == IBV_WC_LOC_QP_OP_ERR))
            PROTOCOL_FAIL(connection,
                          "a message from the server did not fit a %d-byte receive: %s "
                          "(vendor error 0x%x)",
                          RDMA_WIRE_MESSAGE_BYTES, ibv_wc_status_str(completion->status),
                          completion->vendor_err);
        else
            FAIL(connection, "work completion error on %s: %s (vendor error 0x%x)",
                 is_receive ? "a receive" : "a send", ibv_wc_status_str(completion->status),
                 completion->vendor_err);
        return -1;
    }
    switch (completion->opcode) {
    case IBV_WC_RECV:
        return on_control_message(connection, slot, completion->byte_len);
    case IBV_WC_RECV_RDMA_WITH_IMM: {
        uint32_t bytes = ntohl(completion->imm_data);
        if (!rdma_rx_window_on_imm(&connection->rx, bytes)) {
            PROTOCOL_FAIL(connection,
                          "server wrote %u bytes at offset %u, past the end of our %u-byte "
                          "buffer",
                          bytes, connection->rx.offset, connection->rx.length);
            return -1;
        }
        return post_receive(connection, slot);
    }
    case IBV_WC_SEND:
    case IBV_WC_RDMA_WRITE:
        rdma_send_queue_on_completion(&connection->send_queue, completion->wr_id);
        release_control_slots(connection);
        return 0;
    default:
        FAIL(connection, "unexpected work completion opcode %d", (int)completion->opcode);
        return -1;
    }
}

/* Edge-triggered: get and ack the event, re-arm, then poll until the CQ is empty, so
 * that nothing completed before the re-arm is left behind without an event. One event
 * per call: a CQ armed once raises at most one, and should another be queued the
 * channel stays readable and epoll calls again; reading until EAGAIN would cost a
 * second read(2) on every event. */
static int drain_completions(transport_connection *connection)
{
    struct ibv_cq *cq = NULL;
    void *context = NULL;
    if (ibv_get_cq_event(connection->completion_channel, &cq, &context) == 0) {
        ibv_ack_cq_events(connection->cq, 1);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        FAIL(connection, "ibv_get_cq_event: %s", strerror(errno));
        return -1;
    }
    int rc = ibv_req_notify_cq(connection->cq, 0);
    if (rc != 0) {
        FAIL(connection, "ibv_req_notify_cq: %s", strerror(rc));
        return -1;
    }
    for (;;) {
        struct ibv_wc completions[RDMA_POLL_BATCH];
        int count = ibv_poll_cq(connection->cq, RDMA_POLL_BATCH, completions);
        if (count < 0) {
            FAIL(connection, "ibv_poll_cq failed");
            return -1;
        }
        for (int i = 0; i < count; i++) {
            if (on_completion(connection, &completions[i]) != 0)
                return -1;
        }
        if (count < RDMA_POLL_BATCH)
            return 0;
    }
}

static transport_connection *rdma_open(const transport_options *options, int epoll_fd, char *error,
                                       size_t error_size)
{
    size_t rx_bytes =
        options->rdma_rx_bytes ? options->rdma_rx_bytes : TRANSPORT_DEFAULT_RDMA_RX_BYTES;
    if (rx_bytes < RDMA_MIN_RX_BYTES || rx_bytes > RDMA_MAX_RX_BYTES) {
        snprintf(error, error_size, "rdma %s:%d: receive buffer of %zu bytes is outside %d..%zu",
                 options->host, options->port, rx_bytes, RDMA_MIN_RX_BYTES, RDMA_MAX_RX_BYTES);
        return NULL;
    }
    size_t max_write = options->rdma_max_write_bytes;
    if (max_write != 0 && (max_write < TRANSPORT_MIN_RDMA_MAX_WRITE_BYTES ||
                           max_write > TRANSPORT_MAX_RDMA_MAX_WRITE_BYTES)) {
        snprintf(error, error_size, "rdma %s:%d: largest write of %zu bytes is outside %zu..%zu",
                 options->host, options->port, max_write, TRANSPORT_MIN_RDMA_MAX_WRITE_BYTES,
                 TRANSPORT_MAX_RDMA_MAX_WRITE_BYTES);
        return NULL;
    }
    struct addrinfo *address = transport_resolve_numeric("rdma", options, error, error_size);
    if (address == NULL) {
        return NULL;
    }

    transport_connection *connection = calloc(1, sizeof(*connection));
    if (connection == NULL) {
        freeaddrinfo(address);
        snprintf(error, error_size, "rdma %s:%d: out of memory", options->host, options->port);
        return NULL;
    }
    atomic_fetch_add(&live_connections, 1);
    connection->epoll_fd = epoll_fd;
    snprintf(connection->peer, sizeof(connection->peer), "%s:%d", options->host, options->port);
    rdma_rx_window_init(&connection->rx, (uint32_t)rx_bytes);
    rdma_tx_window_init(&connection->tx);
    rdma_send_queue_init(&connection->send_queue, RDMA_SEND_QUEUE_DEPTH, RDMA_CONTROL_SEND_SLOTS,
                         RDMA_SIGNAL_EVERY);
    connection->max_write = (uint32_t)max_write;
    connection->cm_watch = (transport_watch){
        .transport = &transport_rdma, .connection = connection, .owner = options->owner, .fd = -1};
    connection->cq_watch = connection->cm_watch;
    int timeout_ms = options->connect_timeout_ms > 0 ? options->connect_timeout_ms
                                                     : TRANSPORT_DEFAULT_CONNECT_TIMEOUT_MS;
    connection->connect_deadline_ns = monotonic_ns() + timeout_ms * NS_PER_MS;
    connection->phase = RDMA_RESOLVING_ADDRESS;

    connection->event_channel = rdma_create_event_channel();
    if (connection->event_channel == NULL) {
        snprintf(error, error_size, "rdma %s: cannot open the RDMA connection manager: %s",
                 connection->peer, strerror(errno));
        goto fail;
    }
    atomic_fetch_add(&live_event_channels, 1);
    connection->cm_watch.fd = connection->event_channel->fd;
    if (set_nonblocking(connection->event_channel->fd) != 0) {
        snprintf(error, error_size, "rdma %s: fcntl: %s", connection->peer, strerror(errno));
        goto fail;
    }
    if (rdma_create_id(connection->event_channel, &connection->cm_id, connection, RDMA_PS_TCP) !=
        0) {
        snprintf(error, error_size, "rdma %s: rdma_create_id: %s", connection->peer,
                 strerror(errno));
        goto fail;
    }
    atomic_fetch_add(&live_cm_ids, 1);
    if (watch_fd(connection, &connection->cm_watch) != 0) {
        snprintf(error, error_size, "rdma %s: epoll_ctl: %s", connection->peer, strerror(errno));
        goto fail;
    }
    connection->cm_fd_watched = true;
    if (rdma_resolve_addr(connection->cm_id, NULL, address->ai_addr, RDMA_RESOLVE_TIMEOUT_MS) !=
        0) {
        snprintf(error, error_size, "rdma %s: rdma_resolve_addr: %s (no RDMA device for it?)",
                 connection->peer, strerror(errno));
        goto fail;
    }
    enter_phase(connection, RDMA_RESOLVING_ADDRESS, RDMA_RESOLVE_TIMEOUT_MS);
    freeaddrinfo(address);
    return connection;

fail:
    freeaddrinfo(address);
    transport_rdma.close(connection);
    return NULL;
}

static int rdma_handle_event(transport_connection *connection, transport_watch *watch,
                             uint32_t events)
{
    (void)events;
    if (is_terminal(connection))
        return -1;
    if (watch == &connection->cm_watch)
        drain_cm_events(connection);
    else if (watch == &connection->cq_watch && connection->cq != NULL)
        drain_completions(connection);
    return is_terminal(connection) ? -1 : 0;
}

static int rdma_tick(transport_connection *connection, int64_t now_ns)
{
    if (is_terminal(connection))
        return -1;
    if (connection->phase != RDMA_READY && now_ns >= connection->phase_deadline_ns) {
        /* A busy caller (hundreds of connections setting up in one loop) may not have
         * looked at this connection's channels for a while: take what already arrived
         * before calling it a timeout. A phase that moved on has a fresh deadline. */
        rdma_phase before = connection->phase;
        drain_cm_events(connection);
        if (!is_terminal(connection) && connection->cq != NULL)
            drain_completions(connection);
        if (is_terminal(connection))
            return -1;
        if (connection->phase == before && connection->phase != RDMA_READY) {
            FAIL(connection, "timed out %s", phase_names[connection->phase]);
            return -1;
        }
    }
    return 0;
}

static transport_state rdma_state(const transport_connection *connection)
{
    switch (connection->phase) {
    case RDMA_READY:
        return TRANSPORT_READY;
    case RDMA_FAILED:
    case RDMA_DISCONNECTED:
        return TRANSPORT_FAILED;
    default:
        return TRANSPORT_CONNECTING;
    }
}

static ssize_t rdma_read(transport_connection *connection, void *buffer, size_t size)
{
    if (connection->phase == RDMA_FAILED)
        return -1;
    uint32_t readable = rdma_rx_window_readable(&connection->rx);
    if (readable == 0)
        return connection->phase == RDMA_DISCONNECTED ? -1 : 0;
    uint32_t count = size < readable ? (uint32_t)size : readable;
    memcpy(buffer, connection->rx_buffer + connection->rx.pos, count);
    connection->counters.bytes_in += count;
    /* If the re-advertisement fails, the connection is FAILED and the next call says so;
     * the bytes copied now are still the caller's. */
    if (rdma_rx_window_consume(&connection->rx, count) && !is_terminal(connection))
        advertise_receive_buffer(connection);
    return count;
}

static int post_write(transport_connection *connection, const uint8_t *data, uint32_t count)
{
    uint32_t offset = connection->tx.offset;
    uint8_t *staged = connection->tx_buffer + offset;
    memcpy(staged, data, count);
    bool signalled;
    uint64_t sequence = rdma_send_queue_post(&connection->send_queue, false, &signalled);
    struct ibv_sge sge = {
        .addr = (uintptr_t)staged, .length = count, .lkey = connection->tx_mr->lkey};
    struct ibv_send_wr request = {
        .wr_id = sequence,
        .sg_list = &sge,
        .num_sge = 1,
        .opcode = IBV_WR_RDMA_WRITE_WITH_IMM,
        .send_flags = signalled ? IBV_SEND_SIGNALED : 0,
        .imm_data = htonl(count),
        .wr.rdma = {.remote_addr = connection->tx.peer_addr + offset, .rkey = connection->tx.rkey},
    };
    struct ibv_send_wr *bad = NULL;
    int rc = ibv_post_send(connection->cm_id->qp, &request, &bad);
    if (rc != 0) {
        FAIL(connection, "ibv_post_send (write of %u bytes): %s", count, strerror(rc));
        return -1;
    }
    rdma_tx_window_commit(&connection->tx, count);
    connection->counters.bytes_out += count;
    return 0;
}

static ssize_t rdma_write(transport_connection *connection, const void *buffer, size_t size)
{
    if (is_terminal(connection))
        return -1;
    if (connection->phase != RDMA_READY)
        return 0;
    const uint8_t *data = buffer;
    size_t written = 0;
    while (written < size) {
        uint32_t count = rdma_tx_window_writable(&connection->tx, size - written);
        if (connection->max_write != 0 && count > connection->max_write)
            count = connection->max_write;
        if (count == 0 || !rdma_send_queue_can_post(&connection->send_queue, false))
            break;
        if (post_write(connection, data + written, count) != 0)
            return written ? (ssize_t)written : -1;
        written += count;
    }
    return (ssize_t)written;
}

static const char *rdma_error(const transport_connection *connection)
{
    return connection->error;
}

static transport_failure rdma_failure(const transport_connection *connection)
{
    if (!is_terminal(connection))
        return TRANSPORT_FAILURE_NONE;
    return connection->peer_broke_protocol ? TRANSPORT_FAILURE_PROTOCOL : TRANSPORT_FAILURE_WIRE;
}

static void rdma_counters(const transport_connection *connection, transport_counters *out)
{
    *out = connection->counters;
}

/* Reverse order of creation; each step is skipped when its resource does not exist.
 * The send buffer is released after the queue pair, so that no write can still be
 * reading it. */
static void release_connection(transport_connection *connection, bool polite)
{
    unwatch_fds(connection);
    if (polite && connection->established && connection->phase != RDMA_DISCONNECTED)
        rdma_disconnect(connection->cm_id);
    if (connection->qp_created) {
        rdma_destroy_qp(connection->cm_id);
        atomic_fetch_sub(&live_qps, 1);
    }
    deregister_memory(&connection->tx_mr);
    free(connection->tx_buffer);
    deregister_memory(&connection->replaced_tx_mr);
    free(connection->replaced_tx_buffer);
    if (connection->cq != NULL) {
        ibv_destroy_cq(connection->cq);
        atomic_fetch_sub(&live_cqs, 1);
    }
    if (connection->completion_channel != NULL) {
        ibv_destroy_comp_channel(connection->completion_channel);
        atomic_fetch_sub(&live_completion_channels, 1);
    }
    deregister_memory(&connection->rx_mr);
    free(connection->rx_buffer);
    deregister_memory(&connection->control_mr);
    free(connection->control_buffer);
    if (connection->pd != NULL) {
        ibv_dealloc_pd(connection->pd);
        atomic_fetch_sub(&live_pds, 1);
    }
    if (connection->cm_id != NULL) {
        rdma_destroy_id(connection->cm_id);
        atomic_fetch_sub(&live_cm_ids, 1);
    }
    if (connection->event_channel != NULL) {
        rdma_destroy_event_channel(connection->event_channel);
        atomic_fetch_sub(&live_event_channels, 1);
    }
    free(connection);
    atomic_fetch_sub(&live_connections, 1);
}

static void rdma_close(transport_connection *connection)
{
    if (connection == NULL)
        return;
    release_connection(connection, true);
}

/* What a killed client leaves behind: no rdma_disconnect and no wait for the peer. The
 * queue pair goes with its posted work; destroying the cm id is all the peer learns, as
 * when the kernel cleans up after a process that died. */
static void rdma_abort(transport_connection *connection)
{
    if (connection == NULL)
        return;
    release_connection(connection, false);
}

const transport transport_rdma = {
    .name = "rdma",
    .open = rdma_open,
    .handle_event = rdma_handle_event,
    .tick = rdma_tick,
    .state = rdma_state,
    .read = rdma_read,
    .write = rdma_write,
    .error = rdma_error,
    .failure = rdma_failure,
    .counters = rdma_counters,
    .close = rdma_close,
    .abort = rdma_abort,
};
