/* The RDMA transport's state machine, data path and error paths, against fake verbs
 * (fake_verbs.c) in which the test plays the server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "fake_verbs.h"
#include "rdma_wire.h"
#include "transport.h"
#include "transport_rdma.h"

#define ONE_SECOND_NS 1000000000LL
#define SERVER_BUFFER_ADDR 0x7f0000100000u
#define SERVER_RKEY 0xabcd
#define SMALL_RX_BYTES 4096

typedef struct fixture {
    int epoll_fd;
    transport_connection *connection;
    uint8_t *rx_buffer; /* ours, as our RegisterXferMemory advertised it */
    uint32_t rx_length;
    uint32_t rx_rkey;
} fixture;

static int64_t now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static int setup(void **state)
{
    fake_verbs_reset();
    fixture *f = calloc(1, sizeof(*f));
    f->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->connection)
        transport_rdma.close(f->connection);
    close(f->epoll_fd);
    /* Whatever happened, nothing is left behind. */
    assert_int_equal(fake.event_channels + fake.cm_ids + fake.pds + fake.mrs +
                         fake.completion_channels + fake.cqs + fake.qps,
                     0);
    assert_int_equal(fake.cm_events_unacked, 0);
    transport_rdma_resources live;
    transport_rdma_live_resources(&live);
    assert_int_equal(live.connections + live.event_channels + live.cm_ids +
                         live.protection_domains + live.memory_regions + live.completion_channels +
                         live.completion_queues + live.queue_pairs,
                     0);
    free(f);
    return 0;
}

/* Delivers every ready epoll event to the transport, as the load engine will. */
static void pump(fixture *f)
{
    struct epoll_event events[8];
    int count;
    while ((count = epoll_wait(f->epoll_fd, events, 8, 0)) > 0) {
        for (int i = 0; i < count; i++) {
            transport_watch *watch = events[i].data.ptr;
            assert_ptr_equal(watch->connection, f->connection);
            assert_ptr_equal(watch->transport, &transport_rdma);
            watch->transport->handle_event(watch->connection, watch, events[i].events);
        }
    }
}

static void open_connection_sending(fixture *f, size_t rx_bytes, size_t max_write)
{
    transport_options options = {.host = "192.0.2.1",
                                 .port = 6379,
                                 .rdma_rx_bytes = rx_bytes,
                                 .rdma_max_write_bytes = max_write,
                                 .connect_timeout_ms = 5000};
    char error[320] = "";
    f->connection = transport_rdma.open(&options, f->epoll_fd, error, sizeof(error));
    assert_non_null(f->connection);
    assert_int_equal(transport_rdma.state(f->connection), TRANSPORT_CONNECTING);
}

static void open_connection(fixture *f, size_t rx_bytes)
{
    open_connection_sending(f, rx_bytes, 0);
}

static void reach_established(fixture *f)
{
    fake_cm_event(RDMA_CM_EVENT_ADDR_RESOLVED, 0);
    pump(f);
    fake_cm_event(RDMA_CM_EVENT_ROUTE_RESOLVED, 0);
    pump(f);
    fake_cm_event(RDMA_CM_EVENT_ESTABLISHED, 0);
    pump(f);
    /* Our RegisterXferMemory went out first. */
    assert_true(fake.send_count >= 1);
    rdma_wire_message message;
    assert_int_equal(rdma_wire_decode(fake.sends[0].control, fake.sends[0].length, &message),
                     RDMA_WIRE_OK);
    assert_int_equal(message.opcode, RDMA_WIRE_REGISTER_XFER_MEMORY);
    f->rx_buffer = (uint8_t *)(uintptr_t)message.body.memory.addr;
    f->rx_length = message.body.memory.length;
    f->rx_rkey = message.body.memory.rkey;
}

static void server_registers(uint32_t length)
{
    rdma_wire_message message = {.opcode = RDMA_WIRE_REGISTER_XFER_MEMORY};
    message.body.memory.addr = SERVER_BUFFER_ADDR;
    message.body.memory.length = length;
    message.body.memory.rkey = SERVER_RKEY;
    uint8_t bytes[RDMA_WIRE_MESSAGE_BYTES];
    rdma_wire_encode(&message, bytes);
    fake_receive_control(0, bytes, sizeof(bytes));
}

static void connect_fully(fixture *f, size_t rx_bytes, uint32_t server_length)
{
    open_connection(f, rx_bytes);
    reach_established(f);
    server_registers(server_length);
    pump(f);
    assert_int_equal(transport_rdma.state(f->connection), TRANSPORT_READY);
}

/* The server writes `text` into our buffer at the current offset. */
static void server_writes(fixture *f, uint32_t at, const char *text, uint32_t length)
{
    memcpy(f->rx_buffer + at, text, length);
    fake_receive_imm(1, length);
    pump(f);
}

/* The peer broke the protocol: failed, with the message, and counted as a protocol error. */
static void assert_protocol_failure(fixture *f, const char *expected);

static void assert_failed_with(fixture *f, const char *expected)
{
    assert_int_equal(transport_rdma.state(f->connection), TRANSPORT_FAILED);
    const char *error = transport_rdma.error(f->connection);
    if (strstr(error, expected) == NULL)
        fail_msg("error \"%s\" does not say \"%s\"", error, expected);
    assert_null(strchr(error, '\n'));
    assert_true(strncmp(error, "rdma 192.0.2.1:6379: ", 21) == 0);
}

static void assert_protocol_failure(fixture *f, const char *expected)
{
    assert_failed_with(f, expected);
    assert_int_equal(transport_rdma.failure(f->connection), TRANSPORT_FAILURE_PROTOCOL);
}

static void connection_walks_the_states_and_builds_the_queue_pair(void **state)
{
    fixture *f = *state;
    open_connection(f, 0);
    fake_cm_event(RDMA_CM_EVENT_ADDR_RESOLVED, 0);
    pump(f);
    assert_int_equal(fake.resolve_route_calls, 1);
    fake_cm_event(RDMA_CM_EVENT_ROUTE_RESOLVED, 0);
    pump(f);
    assert_int_equal(fake.qp_attributes.qp_type, IBV_QPT_RC);
    /* 2^k - 1 work requests: soft-RoCE rounds a queue up to the power of two above. */
    assert_int_equal(fake.qp_attributes.cap.max_send_wr, 255);
    assert_int_equal(fake.qp_attributes.cap.max_recv_wr, 511);
    assert_ptr_equal(fake.qp_attributes.send_cq, fake.qp_attributes.recv_cq);
    assert_int_equal(fake.cq_entries, 255 + 511);
    assert_int_equal(fake.receives_posted, 511);
    assert_int_equal(fake.connect_calls, 1);
    assert_int_equal(fake.connect_parameters.retry_count, 7);
    assert_int_equal(fake.connect_parameters.rnr_retry_count, 7);
    assert_int_equal(fake.connect_parameters.initiator_depth, 1);
    assert_int_equal(fake.connect_parameters.responder_resources, 1);
    /* The receive buffer is the one registered for remote writes. */
    assert_int_equal(fake.registered_length[1], TRANSPORT_DEFAULT_RDMA_RX_BYTES);
    assert_int_equal(fake.registered_access[1], IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
    /* The send buffer waits for the server's size: control slots and receive buffer only. */
    assert_int_equal(fake.registrations, 2);
    assert_int_equal(transport_rdma.state(f->connection), TRANSPORT_CONNECTING);

    fake_cm_event(RDMA_CM_EVENT_ESTABLISHED, 0);
    pump(f);
    assert_int_equal(fake.send_count, 1);
    assert_int_equal(fake.sends[0].opcode, IBV_WR_SEND);
    assert_true(fake.sends[0].signalled);
    assert_int_equal(fake.sends[0].length, 32);
    /* Established, but nothing may be written before the server's buffer is known. */
    assert_int_equal(transport_rdma.state(f->connection), TRANSPORT_CONNECTING);
    assert_int_equal(transport_rdma.write(f->connection, "x", 1), 0);

    server_registers(1 << 20);
    pump(f);
    assert_int_equal(transport_rdma.state(f->connection), TRANSPORT_READY);
    /* Now the send buffer, a mirror of the server's, local only. */
    assert_int_equal(fake.registrations, 3);
    assert_int_equal(fake.registered_length[2], 1 << 20);
    assert_int_equal(fake.registered_access[2], IBV_ACCESS_LOCAL_WRITE);
    assert_int_equal(transport_rdma.tick(f->connection, now_ns() + 3600 * ONE_SECOND_NS), 0);
}

static void our_advertisement_names_the_receive_buffer(void **state)
{
    fixture *f = *state;
    open_connection(f, SMALL_RX_BYTES);
    reach_established(f);
    assert_non_null(f->rx_buffer);
    assert_int_equal(f->rx_length, SMALL_RX_BYTES);
    transport_counters counters;
    transport_rdma.counters(f->connection, &counters);
    assert_int_equal(counters.buffer_recycles, 1);
}

static void server_buffer_seen_before_established_still_leads_to_ready(void **state)
{
    fixture *f = *state;
    open_connection(f, 0);
    fake_cm_event(RDMA_CM_EVENT_ADDR_RESOLVED, 0);
    pump(f);
    fake_cm_event(RDMA_CM_EVENT_ROUTE_RESOLVED, 0);
    pump(f);
    server_registers(1 << 20);
    pump(f);
    fake_cm_event(RDMA_CM_EVENT_ESTABLISHED, 0);
    pump(f);
    assert_int_equal(transport_rdma.state(f->connection), TRANSPORT_READY);
}

static void each_wait_before_ready_is_bounded_by_tick(void **state)
{
    fixture *f = *state;
    static const char *const expected[] = {"timed out resolving the address",
                                           "timed out resolving the route", "timed out connecting",
                                           "timed out waiting for the server's"};
    for (int phase = 0; phase < 4; phase++) {
        fake_verbs_reset();
        open_connection(f, 0);
        if (phase >= 1) {
            fake_cm_event(RDMA_CM_EVENT_ADDR_RESOLVED, 0);
            pump(f);
        }
        if (phase >= 2) {
            fake_cm_event(RDMA_CM_EVENT_ROUTE_RESOLVED, 0);
            pump(f);
        }
        if (phase >= 3) {
            fake_cm_event(RDMA_CM_EVENT_ESTABLISHED, 0);
            pump(f);
        }
        assert_int_equal(transport_rdma.tick(f->connection, now_ns()), 0);
        assert_int_equal(transport_rdma.tick(f->connection, now_ns() + 6 * ONE_SECOND_NS), -1);
        assert_failed_with(f, expected[phase]);
        transport_rdma.close(f->connection);
        f->connection = NULL;
    }
}

static void an_event_that_already_arrived_is_taken_before_a_deadline_is_judged(void **state)
{
    fixture *f = *state;
    open_connection(f, 0);
    /* Address resolution finished in time, but the caller was busy and never handled
     * the event: a tick past the phase's deadline must take it, not fail. */
    fake_cm_event(RDMA_CM_EVENT_ADDR_RESOLVED, 0);
    int64_t past_the_address_deadline = now_ns() + ONE_SECOND_NS * 21 / 10;
    assert_int_equal(transport_rdma.tick(f->connection, past_the_address_deadline), 0);
    assert_int_equal(transport_rdma.state(f->connection), TRANSPORT_CONNECTING);
    assert_int_equal(fake.resolve_route_calls, 1);
    /* Nothing arrives for the route: that one is a timeout. */
    assert_int_equal(transport_rdma.tick(f->connection, now_ns() + ONE_SECOND_NS * 21 / 10), -1);
    assert_failed_with(f, "timed out resolving the route");
}

static void rejected_connection_fails_with_one_line(void **state)
{
    fixture *f = *state;
    open_connection(f, 0);
    fake_cm_event(RDMA_CM_EVENT_ADDR_RESOLVED, 0);
    pump(f);
    fake_cm_event(RDMA_CM_EVENT_ROUTE_RESOLVED, 0);
    pump(f);
    fake_cm_event(RDMA_CM_EVENT_REJECTED, 28);
    pump(f);
    assert_failed_with(f, "connection rejected (status 28");
    /* A failed connection leaves the caller's epoll set. */
    struct epoll_event event;
    fake_cm_event(RDMA_CM_EVENT_DISCONNECTED, 0);
    assert_int_equal(epoll_wait(f->epoll_fd, &event, 1, 0), 0);
}

static void address_error_fails_with_one_line(void **state)
{
    fixture *f = *state;
    open_connection(f, 0);
    fake_cm_event(RDMA_CM_EVENT_ADDR_ERROR, -110);
    pump(f);
    assert_failed_with(f, "address resolution failed");
}

static void write_never_passes_the_server_buffer_and_resumes_on_its_next_registration(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 100);
    char payload[250];
    memset(payload, 'v', sizeof(payload));
    assert_int_equal(transport_rdma.write(f->connection, payload, 60), 60);
    assert_int_equal(transport_rdma.write(f->connection, payload, 250), 40);
    assert_int_equal(transport_rdma.write(f->connection, payload, 250), 0);
    fake_send *first = &fake.sends[1], *second = &fake.sends[2];
    assert_int_equal(first->opcode, IBV_WR_RDMA_WRITE_WITH_IMM);
    assert_int_equal(first->imm_host_order, 60);
    assert_true(first->remote_addr == SERVER_BUFFER_ADDR);
    assert_int_equal(first->rkey, SERVER_RKEY);
    assert_int_equal(second->imm_host_order, 40);
    assert_true(second->remote_addr == SERVER_BUFFER_ADDR + 60);

    server_registers(100);
    pump(f);
    assert_int_equal(transport_rdma.write(f->connection, payload, 250), 100);
    assert_true(fake.sends[3].remote_addr == SERVER_BUFFER_ADDR);
    transport_counters counters;
    transport_rdma.counters(f->connection, &counters);
    assert_int_equal(counters.bytes_out, 200);
}

static void only_every_64th_write_is_signalled_and_a_full_queue_waits(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 1 << 20);
    /* Our RegisterXferMemory (sequence 1) has completed: the queue is empty. */
    fake_completion(&(struct ibv_wc){
        .wr_id = fake.sends[0].wr_id, .status = IBV_WC_SUCCESS, .opcode = IBV_WC_SEND});
    pump(f);
    int writes = 0;
    while (transport_rdma.write(f->connection, "x", 1) == 1)
        writes++;
    /* 255 slots, 16 left for control messages. */
    assert_int_equal(writes, 255 - 16);
    int signalled = 0;
    for (int i = 1; i <= writes; i++)
        signalled += fake.sends[i].signalled;
    /* Of sequences 2..240, 64, 128 and 192 are multiples of 64. */
    assert_int_equal(signalled, 3);
    assert_true(fake.sends[63].signalled && fake.sends[63].wr_id == 64);
    assert_true(fake.sends[191].signalled && fake.sends[191].wr_id == 192);
    /* With data writes stopped, a recycle still finds a reserved slot. */
    fake_receive_imm(1, 1 << 20);
    pump(f);
    static char drained[1 << 20];
    assert_int_equal(transport_rdma.read(f->connection, drained, sizeof(drained)), 1 << 20);
    assert_int_equal(fake.send_count, 1 + writes + 1);
    assert_int_equal(fake.sends[writes + 1].opcode, IBV_WR_SEND);
    assert_int_equal(transport_rdma.state(f->connection), TRANSPORT_READY);

    fake_completion(
        &(struct ibv_wc){.wr_id = 192, .status = IBV_WC_SUCCESS, .opcode = IBV_WC_RDMA_WRITE});
    pump(f);
    assert_int_equal(transport_rdma.write(f->connection, "x", 1), 1);
}

/* A write takes all the server has free in one request, posted from the same offset of
 * our mirror of its buffer; that offset is reused once the server advertises its buffer
 * anew, with no completion awaited. */
static void a_write_fills_the_server_buffer_in_one_request_from_the_same_offset(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 1 << 20);
    uint64_t mirror = fake.registered_addr[2];
    static char value[3 << 20];
    memset(value, 'v', sizeof(value));
    assert_int_equal(transport_rdma.write(f->connection, value, 300 << 10), 300 << 10);
    assert_int_equal(transport_rdma.write(f->connection, value, sizeof(value)), 724 << 10);
    assert_int_equal(transport_rdma.write(f->connection, value, sizeof(value)), 0);
    assert_int_equal(fake.send_count, 1 + 2);
    assert_int_equal(fake.sends[2].imm_host_order, 724 << 10);
    assert_true(fake.sends[2].remote_addr == SERVER_BUFFER_ADDR + (300 << 10));
    assert_true(fake.sends[2].local_addr == mirror + (300 << 10));
    /* Neither write is signalled (sequences 2 and 3), and none has completed. */
    assert_false(fake.sends[1].signalled || fake.sends[2].signalled);
    server_registers(1 << 20);
    pump(f);
    assert_int_equal(transport_rdma.write(f->connection, value, sizeof(value)), 1 << 20);
    assert_int_equal(fake.send_count, 1 + 3);
    assert_true(fake.sends[3].remote_addr == SERVER_BUFFER_ADDR);
    assert_true(fake.sends[3].local_addr == mirror);
    assert_int_equal(fake.registrations, 3);
}

/* --max-write (client.max_write) cuts a 1 MiB value into writes of that size. */
static void a_largest_write_cuts_values_into_writes_of_that_size(void **state)
{
    fixture *f = *state;
    open_connection_sending(f, 0, 512 << 10);
    reach_established(f);
    server_registers(1 << 20);
    pump(f);
    static char value[1 << 20];
    memset(value, 'v', sizeof(value));
    assert_int_equal(transport_rdma.write(f->connection, value, sizeof(value)), 1 << 20);
    assert_int_equal(fake.send_count, 1 + 2);
    assert_int_equal(fake.sends[1].imm_host_order, 512 << 10);
    assert_int_equal(fake.sends[2].imm_host_order, 512 << 10);
    assert_true(fake.sends[2].remote_addr == SERVER_BUFFER_ADDR + (512 << 10));
}

static void a_largest_write_out_of_bounds_is_refused_with_its_size(void **state)
{
    fixture *f = *state;
    transport_options options = {.host = "192.0.2.1",
                                 .port = 6379,
                                 .rdma_max_write_bytes = 1024,
                                 .connect_timeout_ms = 5000};
    char error[320] = "";
    assert_null(transport_rdma.open(&options, f->epoll_fd, error, sizeof(error)));
    assert_string_equal(
        error, "rdma 192.0.2.1:6379: largest write of 1024 bytes is outside 4096..16777216");
}

/* A server that advertises a larger buffer gets a larger mirror; the smaller one is kept
 * while writes from it may be in flight, and released at close (the teardown checks that
 * no memory region is left). Growing twice with writes still in flight is refused. */
static void a_larger_server_buffer_grows_the_mirror(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 64 << 10);
    static char value[256 << 10];
    memset(value, 'v', sizeof(value));
    assert_int_equal(transport_rdma.write(f->connection, value, sizeof(value)), 64 << 10);
    server_registers(128 << 10);
    pump(f);
    assert_int_equal(fake.registrations, 4);
    assert_int_equal(fake.registered_length[3], 128 << 10);
    assert_int_equal(transport_rdma.write(f->connection, value, sizeof(value)), 128 << 10);
    assert_true(fake.sends[2].local_addr == fake.registered_addr[3]);
    assert_int_equal(fake.mrs, 4);
    server_registers(256 << 10);
    pump(f);
    assert_failed_with(f, "server grew its receive buffer again (262144 bytes) while writes");
    assert_int_equal(transport_rdma.failure(f->connection), TRANSPORT_FAILURE_PROTOCOL);
}

static void received_bytes_are_read_in_order_and_the_buffer_recycles_when_consumed(void **state)
{
    fixture *f = *state;
    connect_fully(f, SMALL_RX_BYTES, 1 << 20);
    char got[SMALL_RX_BYTES];
    assert_int_equal(transport_rdma.read(f->connection, got, sizeof(got)), 0);
    server_writes(f, 0, "+PONG\r\n", 7);
    assert_int_equal(transport_rdma.read(f->connection, got, 3), 3);
    assert_memory_equal(got, "+PO", 3);
    assert_int_equal(transport_rdma.read(f->connection, got, sizeof(got)), 4);
    assert_memory_equal(got, "NG\r\n", 4);
    assert_int_equal(transport_rdma.read(f->connection, got, sizeof(got)), 0);
    assert_int_equal(fake.send_count, 1);

    /* The server fills the rest exactly; consuming it re-advertises the same buffer. */
    uint32_t rest = SMALL_RX_BYTES - 7;
    memset(f->rx_buffer + 7, 'z', rest);
    fake_receive_imm(2, rest);
    pump(f);
    assert_int_equal(transport_rdma.read(f->connection, got, sizeof(got)), rest);
    assert_int_equal(fake.send_count, 2);
    rdma_wire_message message;
    assert_int_equal(rdma_wire_decode(fake.sends[1].control, 32, &message), RDMA_WIRE_OK);
    assert_int_equal(message.opcode, RDMA_WIRE_REGISTER_XFER_MEMORY);
    assert_ptr_equal((void *)(uintptr_t)message.body.memory.addr, f->rx_buffer);
    assert_int_equal(message.body.memory.length, SMALL_RX_BYTES);
    assert_int_equal(message.body.memory.rkey, f->rx_rkey);

    server_writes(f, 0, "again", 5);
    assert_int_equal(transport_rdma.read(f->connection, got, sizeof(got)), 5);
    assert_memory_equal(got, "again", 5);
    transport_counters counters;
    transport_rdma.counters(f->connection, &counters);
    assert_int_equal(counters.buffer_recycles, 2);
    assert_int_equal(counters.bytes_in, SMALL_RX_BYTES + 5);
    /* Every completed receive was posted again. */
    assert_int_equal(fake.receives_outstanding, 511);
}

static void keepalives_are_counted_and_their_receive_reposted(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 1 << 20);
    uint8_t keepalive[RDMA_WIRE_MESSAGE_BYTES];
    rdma_wire_encode(&(rdma_wire_message){.opcode = RDMA_WIRE_KEEPALIVE}, keepalive);
    for (int i = 0; i < 3; i++)
        fake_receive_control(5, keepalive, sizeof(keepalive));
    pump(f);
    transport_counters counters;
    transport_rdma.counters(f->connection, &counters);
    assert_int_equal(counters.keepalives_received, 3);
    assert_int_equal(transport_rdma.state(f->connection), TRANSPORT_READY);
    assert_int_equal(fake.receives_outstanding, 511);
}

static void completions_are_drained_and_notification_rearmed_on_each_event(void **state)
{
    fixture *f = *state;
    connect_fully(f, SMALL_RX_BYTES, 1 << 20);
    int notifies = fake.notify_calls;
    /* Two completions, one event: both must be taken in one go. */
    memcpy(f->rx_buffer, "abcdef", 6);
    fake_receive_imm(1, 3);
    fake_receive_imm(2, 3);
    pump(f);
    assert_true(fake.notify_calls > notifies);
    assert_int_equal(fake.cq_events_unacked, 0);
    char got[8];
    assert_int_equal(transport_rdma.read(f->connection, got, sizeof(got)), 6);
}

static void control_message_of_the_wrong_size_fails_the_connection(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 1 << 20);
    uint8_t bytes[RDMA_WIRE_MESSAGE_BYTES] = {0x00, 0x02};
    fake_receive_control(3, bytes, 31);
    pump(f);
    assert_protocol_failure(f, "control message is not 32 bytes (31 bytes");
    assert_int_equal(transport_rdma.write(f->connection, "x", 1), -1);
    char got[4];
    assert_int_equal(transport_rdma.read(f->connection, got, sizeof(got)), -1);
}

static void control_message_with_an_unknown_opcode_fails_the_connection(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 1 << 20);
    uint8_t bytes[RDMA_WIRE_MESSAGE_BYTES] = {0x00, 0x09};
    fake_receive_control(3, bytes, sizeof(bytes));
    pump(f);
    assert_protocol_failure(f, "unknown opcode (32 bytes, opcode 9)");
}

static void zero_length_server_buffer_fails_the_connection(void **state)
{
    fixture *f = *state;
    open_connection(f, 0);
    reach_established(f);
    server_registers(0);
    pump(f);
    assert_protocol_failure(f, "zero-length receive buffer");
}

/* Found by fuzz_rdma_peer (tests/fuzz/regressions/rdma_peer/): the send buffer was once
 * sized to the server's, so an advertised 0xe9e9e9e9 bytes was allocated and cleared. */
static void oversized_server_buffer_fails_the_connection_without_allocating_it(void **state)
{
    fixture *f = *state;
    open_connection(f, 0);
    reach_established(f);
    int registrations = fake.registrations;
    server_registers(0xe9e9e9e9u);
    pump(f);
    assert_protocol_failure(f, "server advertised a 3924421097-byte receive buffer");
    assert_int_equal(fake.registrations, registrations);
}

static void imm_past_the_end_of_our_buffer_fails_the_connection(void **state)
{
    fixture *f = *state;
    connect_fully(f, SMALL_RX_BYTES, 1 << 20);
    fake_receive_imm(1, SMALL_RX_BYTES - 10);
    fake_receive_imm(2, 11);
    pump(f);
    assert_protocol_failure(f,
                            "server wrote 11 bytes at offset 4086, past the end of our 4096-byte");
}

static void work_completion_error_fails_the_connection(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 1 << 20);
    fake_completion(&(struct ibv_wc){.wr_id = 1, .status = IBV_WC_REM_ACCESS_ERR});
    pump(f);
    assert_failed_with(f, "work completion error on a send: remote access error");
    assert_int_equal(transport_rdma.failure(f->connection), TRANSPORT_FAILURE_WIRE);
}

static void message_longer_than_a_receive_is_named_as_the_server_breaking_the_protocol(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 1 << 20);
    fake_completion(&(struct ibv_wc){.wr_id = fake.receive_wr_id[5], .status = IBV_WC_LOC_LEN_ERR});
    pump(f);
    assert_protocol_failure(f, "a message from the server did not fit a 32-byte receive: local "
                               "length error");
}

static void flushed_receive_after_a_broken_queue_pair_is_a_wire_failure(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 1 << 20);
    assert_int_equal(transport_rdma.failure(f->connection), TRANSPORT_FAILURE_NONE);
    fake_completion(
        &(struct ibv_wc){.wr_id = fake.receive_wr_id[5], .status = IBV_WC_WR_FLUSH_ERR});
    pump(f);
    assert_failed_with(f, "work completion error on a receive: Work Request Flushed Error");
    assert_int_equal(transport_rdma.failure(f->connection), TRANSPORT_FAILURE_WIRE);
}

static void disconnect_mid_run_fails_but_keeps_what_already_arrived(void **state)
{
    fixture *f = *state;
    connect_fully(f, 0, 1 << 20);
    server_writes(f, 0, "+OK\r\n", 5);
    fake_cm_event(RDMA_CM_EVENT_DISCONNECTED, 0);
    pump(f);
    assert_failed_with(f, "disconnected by the peer while ready");
    char got[8];
    assert_int_equal(transport_rdma.read(f->connection, got, sizeof(got)), 5);
    assert_memory_equal(got, "+OK\r\n", 5);
    assert_int_equal(transport_rdma.read(f->connection, got, sizeof(got)), -1);
    assert_int_equal(transport_rdma.write(f->connection, "x", 1), -1);
    transport_rdma.close(f->connection);
    f->connection = NULL;
    /* The peer already disconnected: close does not disconnect again. */
    assert_int_equal(fake.disconnect_calls, 0);
}

static void close_in_every_state_releases_everything(void **state)
{
    fixture *f = *state;
    for (int depth = 0; depth < 5; depth++) {
        fake_verbs_reset();
        open_connection(f, 0);
        if (depth >= 1) {
            fake_cm_event(RDMA_CM_EVENT_ADDR_RESOLVED, 0);
            pump(f);
        }
        if (depth >= 2) {
            fake_cm_event(RDMA_CM_EVENT_ROUTE_RESOLVED, 0);
            pump(f);
        }
        if (depth >= 3) {
            fake_cm_event(RDMA_CM_EVENT_ESTABLISHED, 0);
            pump(f);
        }
        if (depth >= 4) {
            server_registers(1 << 20);
            pump(f);
            assert_int_equal(transport_rdma.write(f->connection, "PING", 4), 4);
        }
        transport_rdma.close(f->connection);
        f->connection = NULL;
        assert_int_equal(fake.event_channels + fake.cm_ids + fake.pds + fake.mrs +
                             fake.completion_channels + fake.cqs + fake.qps,
                         0);
        assert_int_equal(fake.disconnect_calls, depth >= 3 ? 1 : 0);
    }
}

static void missing_connection_manager_is_refused_at_open(void **state)
{
    fixture *f = *state;
    fake.fail_create_event_channel = true;
    transport_options options = {.host = "192.0.2.1", .port = 6379};
    char error[320] = "";
    assert_null(transport_rdma.open(&options, f->epoll_fd, error, sizeof(error)));
    assert_string_equal(error, "rdma 192.0.2.1:6379: cannot open the RDMA connection manager: "
                               "No such device");
}

#define FIXTURE_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(connection_walks_the_states_and_builds_the_queue_pair),
        FIXTURE_TEST(our_advertisement_names_the_receive_buffer),
        FIXTURE_TEST(server_buffer_seen_before_established_still_leads_to_ready),
        FIXTURE_TEST(each_wait_before_ready_is_bounded_by_tick),
        FIXTURE_TEST(an_event_that_already_arrived_is_taken_before_a_deadline_is_judged),
        FIXTURE_TEST(rejected_connection_fails_with_one_line),
        FIXTURE_TEST(address_error_fails_with_one_line),
        FIXTURE_TEST(write_never_passes_the_server_buffer_and_resumes_on_its_next_registration),
        FIXTURE_TEST(only_every_64th_write_is_signalled_and_a_full_queue_waits),
        FIXTURE_TEST(a_write_fills_the_server_buffer_in_one_request_from_the_same_offset),
        FIXTURE_TEST(a_largest_write_cuts_values_into_writes_of_that_size),
        FIXTURE_TEST(a_largest_write_out_of_bounds_is_refused_with_its_size),
        FIXTURE_TEST(a_larger_server_buffer_grows_the_mirror),
        FIXTURE_TEST(received_bytes_are_read_in_order_and_the_buffer_recycles_when_consumed),
        FIXTURE_TEST(keepalives_are_counted_and_their_receive_reposted),
        FIXTURE_TEST(completions_are_drained_and_notification_rearmed_on_each_event),
        FIXTURE_TEST(control_message_of_the_wrong_size_fails_the_connection),
        FIXTURE_TEST(control_message_with_an_unknown_opcode_fails_the_connection),
        FIXTURE_TEST(zero_length_server_buffer_fails_the_connection),
        FIXTURE_TEST(oversized_server_buffer_fails_the_connection_without_allocating_it),
        FIXTURE_TEST(imm_past_the_end_of_our_buffer_fails_the_connection),
        FIXTURE_TEST(work_completion_error_fails_the_connection),
        FIXTURE_TEST(message_longer_than_a_receive_is_named_as_the_server_breaking_the_protocol),
        FIXTURE_TEST(flushed_receive_after_a_broken_queue_pair_is_a_wire_failure),
        FIXTURE_TEST(disconnect_mid_run_fails_but_keeps_what_already_arrived),
        FIXTURE_TEST(close_in_every_state_releases_everything),
        FIXTURE_TEST(missing_connection_manager_is_refused_at_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
