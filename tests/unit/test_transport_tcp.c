#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

/* Longest a test waits for something that happens at once on loopback. */
#define WAIT_BOUND_MS 2000
#define BIG_WRITE_BYTES (16u << 20)

typedef struct fixture {
    int epoll_fd;
    int listener;
    int port;
    int server_side; /* the accepted socket, once accepted */
    transport_connection *connection;
} fixture;

static int64_t now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->server_side = -1;
    f->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    f->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof(address);
    if (bind(f->listener, (struct sockaddr *)&address, sizeof(address)) != 0 ||
        listen(f->listener, 8) != 0 ||
        getsockname(f->listener, (struct sockaddr *)&address, &length) != 0)
        return -1;
    f->port = ntohs(address.sin_port);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->connection)
        transport_tcp.close(f->connection);
    if (f->server_side >= 0)
        close(f->server_side);
    close(f->listener);
    close(f->epoll_fd);
    free(f);
    return 0;
}

static transport_connection *open_to(fixture *f, int port)
{
    transport_options options = {.host = "127.0.0.1", .port = port, .connect_timeout_ms = 1000};
    char error[320] = "";
    transport_connection *connection =
        transport_tcp.open(&options, f->epoll_fd, error, sizeof(error));
    assert_non_null(connection);
    return connection;
}

/* Delivers epoll events for up to timeout_ms; returns how many arrived. */
static int pump(fixture *f, int timeout_ms, uint32_t *events_seen)
{
    struct epoll_event events[8];
    int count = epoll_wait(f->epoll_fd, events, 8, timeout_ms);
    for (int i = 0; i < count; i++) {
        transport_watch *watch = events[i].data.ptr;
        assert_ptr_equal(watch->connection, f->connection);
        if (events_seen)
            *events_seen |= events[i].events;
        watch->transport->handle_event(watch->connection, watch, events[i].events);
    }
    transport_tcp.tick(f->connection, now_ns());
    return count < 0 ? 0 : count;
}

static void wait_until_not_connecting(fixture *f)
{
    int64_t deadline = now_ns() + WAIT_BOUND_MS * 1000000LL;
    while (transport_tcp.state(f->connection) == TRANSPORT_CONNECTING && now_ns() < deadline)
        pump(f, 50, NULL);
}

static void connect_and_accept(fixture *f)
{
    f->connection = open_to(f, f->port);
    wait_until_not_connecting(f);
    assert_int_equal(transport_tcp.state(f->connection), TRANSPORT_READY);
    f->server_side = accept(f->listener, NULL, NULL);
    assert_true(f->server_side >= 0);
}

static void connection_becomes_ready_and_carries_bytes_both_ways(void **state)
{
    fixture *f = *state;
    connect_and_accept(f);
    assert_int_equal(transport_tcp.write(f->connection, "PING", 4), 4);
    char got[8] = "";
    assert_int_equal(recv(f->server_side, got, sizeof(got), 0), 4);
    assert_memory_equal(got, "PING", 4);

    assert_int_equal(send(f->server_side, "+PONG\r\n", 7, 0), 7);
    ssize_t read = 0;
    int64_t deadline = now_ns() + WAIT_BOUND_MS * 1000000LL;
    while (read == 0 && now_ns() < deadline) {
        pump(f, 50, NULL);
        read = transport_tcp.read(f->connection, got, sizeof(got));
    }
    assert_int_equal(read, 7);
    assert_memory_equal(got, "+PONG\r\n", 7);
    transport_counters counters;
    transport_tcp.counters(f->connection, &counters);
    assert_int_equal(counters.bytes_out, 4);
    assert_int_equal(counters.bytes_in, 7);
}

static void read_returns_zero_when_nothing_is_ready(void **state)
{
    fixture *f = *state;
    connect_and_accept(f);
    char got[8];
    assert_int_equal(transport_tcp.read(f->connection, got, sizeof(got)), 0);
    assert_int_equal(transport_tcp.state(f->connection), TRANSPORT_READY);
}

static void orderly_close_by_the_peer_ends_as_closed(void **state)
{
    fixture *f = *state;
    connect_and_accept(f);
    close(f->server_side);
    f->server_side = -1;
    pump(f, 200, NULL);
    char got[8];
    assert_int_equal(transport_tcp.read(f->connection, got, sizeof(got)), -1);
    assert_int_equal(transport_tcp.state(f->connection), TRANSPORT_CLOSED);
    assert_non_null(strstr(transport_tcp.error(f->connection), "closed by the peer"));
    assert_int_equal(transport_tcp.write(f->connection, "x", 1), -1);
    /* The dead socket no longer wakes the caller's loop. */
    assert_int_equal(pump(f, 50, NULL), 0);
}

static void refused_connection_fails_with_one_line(void **state)
{
    fixture *f = *state;
    /* A port that was just free and has no listener. */
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof(address);
    bind(probe, (struct sockaddr *)&address, sizeof(address));
    getsockname(probe, (struct sockaddr *)&address, &length);
    close(probe);

    f->connection = open_to(f, ntohs(address.sin_port));
    wait_until_not_connecting(f);
    assert_int_equal(transport_tcp.state(f->connection), TRANSPORT_FAILED);
    const char *error = transport_tcp.error(f->connection);
    assert_non_null(strstr(error, "refused"));
    assert_null(strchr(error, '\n'));
}

static void tick_enforces_the_connect_deadline(void **state)
{
    fixture *f = *state;
    f->connection = open_to(f, f->port);
    /* No event handled yet, so the connection is still CONNECTING; time passes. */
    assert_int_equal(transport_tcp.state(f->connection), TRANSPORT_CONNECTING);
    assert_int_equal(transport_tcp.tick(f->connection, now_ns() + 2000 * 1000000LL), -1);
    assert_int_equal(transport_tcp.state(f->connection), TRANSPORT_FAILED);
    assert_non_null(strstr(transport_tcp.error(f->connection), "timed out"));
}

static void short_write_arms_output_until_the_next_event(void **state)
{
    fixture *f = *state;
    connect_and_accept(f);
    char *big = calloc(1, BIG_WRITE_BYTES);
    ssize_t accepted = transport_tcp.write(f->connection, big, BIG_WRITE_BYTES);
    assert_true(accepted > 0 && (size_t)accepted < BIG_WRITE_BYTES);
    /* The socket is full: no EPOLLOUT yet. */
    uint32_t seen = 0;
    pump(f, 0, &seen);
    assert_false(seen & EPOLLOUT);
    /* The peer drains: EPOLLOUT arrives once, then the transport stops asking. */
    size_t drained = 0;
    while (drained < (size_t)accepted) {
        ssize_t got = recv(f->server_side, big, BIG_WRITE_BYTES, 0);
        assert_true(got > 0);
        drained += (size_t)got;
    }
    seen = 0;
    assert_true(pump(f, WAIT_BOUND_MS, &seen) > 0);
    assert_true(seen & EPOLLOUT);
    seen = 0;
    assert_int_equal(pump(f, 50, &seen), 0);
    free(big);
}

static void bad_address_is_refused_at_open(void **state)
{
    fixture *f = *state;
    transport_options options = {.host = "not-an-address", .port = 1};
    char error[320] = "";
    assert_null(transport_tcp.open(&options, f->epoll_fd, error, sizeof(error)));
    assert_non_null(strstr(error, "bad address"));
}

static void transports_are_found_by_name(void **state)
{
    (void)state;
    assert_ptr_equal(transport_by_name("tcp"), &transport_tcp);
    assert_ptr_equal(transport_by_name("rdma"), &transport_rdma);
    assert_null(transport_by_name("udp"));
    assert_null(transport_by_name(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(connection_becomes_ready_and_carries_bytes_both_ways, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(read_returns_zero_when_nothing_is_ready, setup, teardown),
        cmocka_unit_test_setup_teardown(orderly_close_by_the_peer_ends_as_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_connection_fails_with_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(tick_enforces_the_connect_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(short_write_arms_output_until_the_next_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_address_is_refused_at_open, setup, teardown),
        cmocka_unit_test(transports_are_found_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
