/*
 * fuzz_rdma_peer: a peer that sends anything, against drivers/transport_rdma.c.
 *
 * The transport runs on the fake verbs of the unit tests (tests/unit/fake_verbs.c,
 * linked with -Wl,--wrap), so no RDMA device is needed. The input is a program: the
 * receive buffer size we advertise, then operations that play the server (CM events,
 * control messages of any content and size up to the 32 bytes a receive holds, writes
 * of any announced length, failed completions, completions of our own sends) and the
 * application (reads, writes, clock ticks). Checked all along:
 * - every write we post lands inside the buffer the peer last advertised, contiguously;
 * - every byte read is the byte the peer wrote there, in order;
 * - a peer that writes past our buffer fails the connection, with one error line;
 * - after close, every fake resource and every live counter is back at zero.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "fake_verbs.h"
#include "rdma_wire.h"
#include "transport.h"
#include "transport_rdma.h"

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        if (!(condition))                                                                          \
            abort();                                                                               \
    } while (0)

/* The transport posts this many receives (RDMA_RECEIVE_SLOTS); the hardware consumes
 * them in the order they were posted, and each is reposted to the same slot. */
#define RECEIVE_SLOTS 511
/* The smallest receive buffer the transport accepts; the program adds up to 64 KiB. */
#define MIN_RX_BYTES 64
/* An application read or write moves at most this much per call. */
#define APPLICATION_BUFFER_BYTES 65536
/* Rounds of epoll delivery after one operation before we call it a busy loop. */
#define MAX_PUMP_ROUNDS 1000
#define NS_PER_MS 1000000LL
#define PEER_HOST "192.0.2.1"
#define PEER_PORT 6379
#define CONNECT_TIMEOUT_MS 5000

typedef struct program {
    const uint8_t *data;
    size_t size;
    size_t at;
} program;

static uint8_t take_u8(program *p)
{
    return p->at < p->size ? p->data[p->at++] : 0;
}

static uint16_t take_u16(program *p)
{
    uint16_t high = take_u8(p);
    return (uint16_t)(high << 8 | take_u8(p));
}

static uint32_t take_u32(program *p)
{
    uint32_t high = take_u16(p);
    return high << 16 | take_u16(p);
}

/* What the fuzzer, as the peer, knows and expects. */
typedef struct peer {
    int epoll_fd;
    transport_connection *connection;
    uint32_t rx_length;
    uint8_t *our_buffer;    /* from our last RegisterXferMemory; NULL before it */
    uint32_t our_offset;    /* where the peer's next write lands in it */
    uint64_t written_total; /* bytes the peer has written, for the pattern */
    uint64_t read_total;    /* bytes the application has read */
    uint64_t peer_addr;     /* the buffer the peer advertised last */
    uint32_t peer_length;   /* 0 before its first valid advertisement */
    uint32_t peer_used;     /* bytes our writes have filled of it */
    uint32_t peer_largest;  /* the largest buffer the peer advertised: our send buffer */
    bool send_buffer_grew;  /* it grew once already: an older one may still be kept */
    int sends_seen;         /* fake.sends already checked */
    int sends_completed;    /* fake.sends whose completion the peer reported */
    uint64_t next_receive;  /* the slot the hardware consumes next */
} peer;

static uint8_t pattern_byte(uint64_t index)
{
    return (uint8_t)(index * 131 + 7);
}

static bool terminal(const peer *q)
{
    return transport_rdma.state(q->connection) == TRANSPORT_FAILED;
}

static void pump(peer *q)
{
    struct epoll_event events[8];
    int count;
    int rounds = 0;
    while ((count = epoll_wait(q->epoll_fd, events, 8, 0)) > 0) {
        CHECK(++rounds < MAX_PUMP_ROUNDS);
        for (int i = 0; i < count; i++) {
            transport_watch *watch = events[i].data.ptr;
            CHECK(watch->connection == q->connection);
            watch->transport->handle_event(watch->connection, watch, events[i].events);
        }
    }
}

/* Checks every request the transport posted since the last call. */
static void check_new_sends(peer *q)
{
    for (; q->sends_seen < fake.send_count; q->sends_seen++) {
        const fake_send *send = &fake.sends[q->sends_seen];
        if (send->opcode == IBV_WR_SEND) {
            rdma_wire_message message;
            CHECK(rdma_wire_decode(send->control, send->length, &message) == RDMA_WIRE_OK);
            CHECK(message.opcode == RDMA_WIRE_REGISTER_XFER_MEMORY);
            CHECK(message.body.memory.length == q->rx_length);
            /* We advertise only an empty buffer: all the peer wrote has been read. */
            CHECK(q->read_total == q->written_total);
            q->our_buffer = (uint8_t *)(uintptr_t)message.body.memory.addr;
            q->our_offset = 0;
            continue;
        }
        CHECK(send->opcode == IBV_WR_RDMA_WRITE_WITH_IMM);
        CHECK(q->peer_length != 0);
        CHECK(send->length > 0 && send->imm_host_order == send->length);
        CHECK(send->remote_addr == q->peer_addr + q->peer_used);
        CHECK(send->length <= q->peer_length - q->peer_used);
        q->peer_used += send->length;
    }
}

static void deliver_control(peer *q, program *p)
{
    uint8_t length = take_u8(p) % (RDMA_WIRE_MESSAGE_BYTES + 1);
    uint8_t bytes[RDMA_WIRE_MESSAGE_BYTES] = {0};
    for (int i = 0; i < RDMA_WIRE_MESSAGE_BYTES; i++)
        bytes[i] = take_u8(p);
    bool was_terminal = terminal(q);
    fake_receive_control(q->next_receive++ % RECEIVE_SLOTS, bytes, length);
    pump(q);
    if (was_terminal)
        return;
    rdma_wire_message message;
    if (rdma_wire_decode(bytes, length, &message) != RDMA_WIRE_OK) {
        CHECK(terminal(q));
        return;
    }
    if (message.opcode == RDMA_WIRE_REGISTER_XFER_MEMORY) {
        uint32_t length = message.body.memory.length;
        bool acceptable = length != 0 && length <= RDMA_WIRE_MAX_PEER_BUFFER_BYTES;
        /* Growing the send buffer a second time is refused while writes from the one
         * before may be in flight (transport_rdma.c, ensure_send_buffer): that ending
         * is allowed, not required, since this model does not track those writes. */
        bool grows = q->peer_largest != 0 && length > q->peer_largest;
        bool may_end = acceptable && grows && q->send_buffer_grew;
        if (!may_end)
            CHECK(terminal(q) == !acceptable);
        if (acceptable && grows)
            q->send_buffer_grew = true;
        if (acceptable && length > q->peer_largest)
            q->peer_largest = length;
        if (!acceptable || terminal(q))
            return;
        q->peer_addr = message.body.memory.addr;
        q->peer_length = message.body.memory.length;
        q->peer_used = 0;
        return;
    }
    /* Keepalives and feature messages are harmless. */
    CHECK(!terminal(q));
}

static void deliver_write(peer *q, program *p)
{
    uint8_t form = take_u8(p);
    uint32_t bytes = form & 1 ? take_u32(p) : take_u16(p) % (q->rx_length + 1);
    if (terminal(q) || q->our_buffer == NULL)
        return;
    bool fits = bytes <= q->rx_length - q->our_offset;
    if (fits) {
        for (uint32_t i = 0; i < bytes; i++)
            q->our_buffer[q->our_offset + i] = pattern_byte(q->written_total + i);
        q->our_offset += bytes;
        q->written_total += bytes;
    }
    fake_receive_imm(q->next_receive++ % RECEIVE_SLOTS, bytes);
    pump(q);
    CHECK(terminal(q) == !fits);
}

static void complete_our_send(peer *q)
{
    for (; q->sends_completed < fake.send_count; q->sends_completed++) {
        const fake_send *send = &fake.sends[q->sends_completed];
        if (!send->signalled)
            continue;
        enum ibv_wc_opcode opcode = send->opcode == IBV_WR_SEND ? IBV_WC_SEND : IBV_WC_RDMA_WRITE;
        fake_completion(
            &(struct ibv_wc){.wr_id = send->wr_id, .status = IBV_WC_SUCCESS, .opcode = opcode});
        q->sends_completed++;
        pump(q);
        return;
    }
}

static void application_read(peer *q, program *p)
{
    static uint8_t buffer[APPLICATION_BUFFER_BYTES];
    size_t wanted = take_u16(p);
    ssize_t count = transport_rdma.read(q->connection, buffer, wanted);
    CHECK(count >= -1 && count <= (ssize_t)wanted);
    for (ssize_t i = 0; i < count; i++)
        CHECK(buffer[i] == pattern_byte(q->read_total + (uint64_t)i));
    if (count > 0)
        q->read_total += (uint64_t)count;
    CHECK(q->read_total <= q->written_total);
    pump(q);
}

static void application_write(peer *q, program *p)
{
    static uint8_t buffer[APPLICATION_BUFFER_BYTES];
    size_t wanted = take_u16(p);
    ssize_t count = transport_rdma.write(q->connection, buffer, wanted);
    CHECK(count >= -1 && count <= (ssize_t)wanted);
    pump(q);
}

static const enum rdma_cm_event_type cm_events[] = {
    RDMA_CM_EVENT_ADDR_RESOLVED,   RDMA_CM_EVENT_ADDR_ERROR,    RDMA_CM_EVENT_ROUTE_RESOLVED,
    RDMA_CM_EVENT_ROUTE_ERROR,     RDMA_CM_EVENT_CONNECT_ERROR, RDMA_CM_EVENT_UNREACHABLE,
    RDMA_CM_EVENT_REJECTED,        RDMA_CM_EVENT_ESTABLISHED,   RDMA_CM_EVENT_DISCONNECTED,
    RDMA_CM_EVENT_DEVICE_REMOVAL,  RDMA_CM_EVENT_ADDR_CHANGE,   RDMA_CM_EVENT_TIMEWAIT_EXIT,
    RDMA_CM_EVENT_CONNECT_REQUEST,
};

enum operation {
    OP_CM_EVENT,
    OP_CONTROL_MESSAGE,
    OP_WRITE_WITH_IMM,
    OP_FAILED_COMPLETION,
    OP_COMPLETE_OUR_SEND,
    OP_UNEXPECTED_COMPLETION,
    OP_APPLICATION_READ,
    OP_APPLICATION_WRITE,
    OP_TICK,
    OP_COUNT,
};

static int64_t monotonic_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    program p = {.data = data, .size = size};
    peer q = {0};
    fake_verbs_reset();
    q.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    CHECK(q.epoll_fd >= 0);
    uint8_t flags = take_u8(&p);
    q.rx_length = MIN_RX_BYTES + take_u16(&p);
    transport_options options = {.host = PEER_HOST,
                                 .port = PEER_PORT,
                                 .rdma_rx_bytes = q.rx_length,
                                 .connect_timeout_ms = CONNECT_TIMEOUT_MS};
    char error[320] = "";
    q.connection = transport_rdma.open(&options, q.epoll_fd, error, sizeof(error));
    CHECK(q.connection != NULL);

    /* Mostly start from an established connection; sometimes fuzz the way there too. */
    if (!(flags & 1)) {
        fake_cm_event(RDMA_CM_EVENT_ADDR_RESOLVED, 0);
        pump(&q);
        fake_cm_event(RDMA_CM_EVENT_ROUTE_RESOLVED, 0);
        pump(&q);
        fake_cm_event(RDMA_CM_EVENT_ESTABLISHED, 0);
        pump(&q);
        CHECK(fake.send_count == 1);
    }
    check_new_sends(&q);

    while (p.at < p.size) {
        uint8_t opcode = take_u8(&p);
        /* Completions need the completion channel and posted receives, which exist from
         * route resolution on: before that no peer can reach us. */
        bool queue_pair_exists = fake.completion_channels > 0 && fake.receives_posted > 0;
        switch (opcode % OP_COUNT) {
        case OP_CM_EVENT: {
            uint8_t which = take_u8(&p);
            int8_t status = (int8_t)take_u8(&p);
            fake_cm_event(cm_events[which % (sizeof(cm_events) / sizeof(cm_events[0]))], status);
            pump(&q);
            break;
        }
        case OP_CONTROL_MESSAGE:
            if (queue_pair_exists)
                deliver_control(&q, &p);
            break;
        case OP_WRITE_WITH_IMM:
            if (queue_pair_exists)
                deliver_write(&q, &p);
            break;
        case OP_FAILED_COMPLETION: {
            uint8_t status = take_u8(&p);
            if (!queue_pair_exists)
                break;
            bool was_terminal = terminal(&q);
            fake_completion(&(struct ibv_wc){
                .wr_id = fake.receive_wr_id[q.next_receive++ % RECEIVE_SLOTS],
                .status = (enum ibv_wc_status)(1 + status % IBV_WC_TM_RNDV_INCOMPLETE),
                .opcode = IBV_WC_RECV});
            pump(&q);
            CHECK(was_terminal || terminal(&q));
            break;
        }
        case OP_COMPLETE_OUR_SEND:
            if (queue_pair_exists)
                complete_our_send(&q);
            break;
        case OP_UNEXPECTED_COMPLETION: {
            uint8_t opcode_value = take_u8(&p);
            if (!queue_pair_exists)
                break;
            fake_completion(&(struct ibv_wc){.wr_id = 0,
                                             .status = IBV_WC_SUCCESS,
                                             .opcode = (enum ibv_wc_opcode)(opcode_value % 4 + 2)});
            pump(&q);
            break;
        }
        case OP_APPLICATION_READ:
            application_read(&q, &p);
            break;
        case OP_APPLICATION_WRITE:
            application_write(&q, &p);
            break;
        case OP_TICK:
            transport_rdma.tick(q.connection, monotonic_now_ns() + take_u16(&p) * NS_PER_MS);
            break;
        }
        check_new_sends(&q);
        if (terminal(&q)) {
            const char *message = transport_rdma.error(q.connection);
            CHECK(message[0] != '\0' && strchr(message, '\n') == NULL);
        }
    }

    transport_rdma.close(q.connection);
    close(q.epoll_fd);
    CHECK(fake.event_channels + fake.cm_ids + fake.pds + fake.mrs + fake.completion_channels +
              fake.cqs + fake.qps ==
          0);
    CHECK(fake.cm_events_unacked == 0);
    transport_rdma_resources live;
    transport_rdma_live_resources(&live);
    CHECK(live.connections + live.event_channels + live.cm_ids + live.protection_domains +
              live.memory_regions + live.completion_channels + live.completion_queues +
              live.queue_pairs ==
          0);
    return 0;
}
