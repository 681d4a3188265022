/*
 * transport_ping: proves one transport against a real server. It opens a connection,
 * sends PING, SET k <N bytes> and GET k one after another, and checks every reply byte,
 * all within one overall deadline. With a repeat count it does that on fresh
 * connections and then reports what the RDMA transport still holds (it must be nothing).
 *
 * usage: transport_ping tcp|rdma HOST PORT [VALUE_BYTES [DEADLINE_MS [RX_BYTES [REPEAT
 * [IDLE_MS]]]]] IDLE_MS keeps each connection open and idle that long after its checks (to see the
 * server's keepalives arrive); a connection that ends while idle is a failure.
 * exit: 0 all replies as expected, 1 a wrong reply or a failed connection or the deadline,
 *       2 bad usage.
 */
#include "transport.h"
#include "transport_rdma.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_VALUE_BYTES 1000
#define DEFAULT_DEADLINE_MS 10000
/* tick must run at least every 100 ms (transport.h); wake up twice as often. */
#define POLL_INTERVAL_MS 50
#define MAX_EVENTS 16
#define KEY "transport_ping:k"

typedef struct buffer {
    char *bytes;
    size_t length;
} buffer;

typedef struct step {
    const char *name;
    buffer request;
    buffer reply;
} step;

static int64_t now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static buffer buffer_format(const char *prefix, const char *middle, size_t middle_length,
                            const char *suffix)
{
    size_t prefix_length = strlen(prefix), suffix_length = strlen(suffix);
    buffer out = {.length = prefix_length + middle_length + suffix_length};
    out.bytes = malloc(out.length + 1);
    if (out.bytes == NULL) {
        fprintf(stderr, "transport_ping: out of memory for %zu bytes\n", out.length);
        exit(1);
    }
    memcpy(out.bytes, prefix, prefix_length);
    if (middle_length)
        memcpy(out.bytes + prefix_length, middle, middle_length);
    memcpy(out.bytes + prefix_length + middle_length, suffix, suffix_length);
    return out;
}

/* Moves epoll events to the transport, then ticks it. False once the connection ended. */
static bool pump(int epoll_fd, const transport *wire, transport_connection *connection)
{
    struct epoll_event events[MAX_EVENTS];
    int count = epoll_wait(epoll_fd, events, MAX_EVENTS, POLL_INTERVAL_MS);
    if (count < 0 && errno != EINTR) {
        perror("transport_ping: epoll_wait");
        return false;
    }
    for (int i = 0; i < count; i++) {
        transport_watch *watch = events[i].data.ptr;
        watch->transport->handle_event(watch->connection, watch, events[i].events);
    }
    wire->tick(connection, now_ns());
    transport_state state = wire->state(connection);
    return state == TRANSPORT_CONNECTING || state == TRANSPORT_READY;
}

/* Length of the stretch compared when looking for where misplaced reply bytes went. */
#define SHIFT_PROBE_BYTES 64

static void print_escaped(const char *label, const char *bytes, size_t length)
{
    fprintf(stderr, "transport_ping:   %s \"", label);
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\"\n");
}

/* A wrong reply byte says little alone; say where it sat in the receive buffer and
 * whether the bytes that follow are the expected ones displaced by some distance. */
static void diagnose_mismatch(const step *step, const char *received, size_t received_length,
                              size_t first_bad, size_t stream_before, size_t rx_bytes)
{
    size_t stream_at = stream_before + first_bad;
    fprintf(stderr,
            "transport_ping: %s: reply byte %zu is 0x%02x, expected 0x%02x (stream byte %zu, "
            "offset %zu of a %zu-byte receive buffer)\n",
            step->name, first_bad, (unsigned char)received[first_bad],
            (unsigned char)step->reply.bytes[first_bad], stream_at, stream_at % rx_bytes, rx_bytes);
    size_t shown = received_length - first_bad < 24 ? received_length - first_bad : 24;
    print_escaped("received", received + first_bad, shown);
    print_escaped("expected", step->reply.bytes + first_bad, shown);
    size_t bad = 0;
    for (size_t i = first_bad; i < received_length; i++)
        bad += received[i] != step->reply.bytes[i];
    fprintf(stderr, "transport_ping:   %zu of the %zu bytes received from there differ\n", bad,
            received_length - first_bad);
    for (size_t shift = 1; first_bad + shift + SHIFT_PROBE_BYTES <= received_length; shift++) {
        if (memcmp(received + first_bad + shift, step->reply.bytes + first_bad,
                   SHIFT_PROBE_BYTES) == 0) {
            fprintf(stderr,
                    "transport_ping:   the expected bytes from %zu on arrive %zu bytes later, "
                    "at %zu; the %zu bytes before them are not the expected ones\n",
                    first_bad, shift, first_bad + shift, shift);
            return;
        }
    }
}

static int run_step(int epoll_fd, const transport *wire, transport_connection *connection,
                    const step *step, int64_t deadline_ns, size_t stream_before, size_t rx_bytes)
{
    size_t sent = 0, received = 0, first_bad = SIZE_MAX;
    char *reply = malloc(step->reply.length ? step->reply.length : 1);
    if (reply == NULL) {
        fprintf(stderr, "transport_ping: out of memory for a %zu-byte reply\n", step->reply.length);
        return -1;
    }
    int result = 0;
    int64_t started = now_ns();
    while (received < step->reply.length) {
        if (now_ns() >= deadline_ns) {
            fprintf(stderr,
                    "transport_ping: %s: deadline passed with %zu of %zu request bytes sent "
                    "and %zu of %zu reply bytes received\n",
                    step->name, sent, step->request.length, received, step->reply.length);
            result = -1;
            break;
        }
        while (sent < step->request.length) {
            ssize_t accepted =
                wire->write(connection, step->request.bytes + sent, step->request.length - sent);
            if (accepted <= 0)
                break;
            sent += (size_t)accepted;
        }
        for (;;) {
            ssize_t got = wire->read(connection, reply + received, step->reply.length - received);
            if (got <= 0)
                break;
            for (size_t i = received; first_bad == SIZE_MAX && i < received + (size_t)got; i++) {
                if (reply[i] != step->reply.bytes[i])
                    first_bad = i;
            }
            received += (size_t)got;
        }
        if (received == step->reply.length)
            break;
        if (!pump(epoll_fd, wire, connection)) {
            fprintf(stderr, "transport_ping: %s: %s\n", step->name, wire->error(connection));
            result = -1;
            break;
        }
    }
    /* Anything past the reply shows up as a mismatch in the next step. */
    if (first_bad != SIZE_MAX) {
        diagnose_mismatch(step, reply, received, first_bad, stream_before, rx_bytes);
        result = -1;
    }
    free(reply);
    if (result == 0)
        printf("%s: ok, %zu bytes out, %zu bytes in, %.3f ms\n", step->name, step->request.length,
               step->reply.length, (double)(now_ns() - started) / 1e6);
    return result;
}

static int run_connection(const transport *wire, const transport_options *options,
                          const step *steps, size_t step_count, int64_t deadline_ns,
                          int64_t idle_ns)
{
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) {
        perror("transport_ping: epoll_create1");
        return -1;
    }
    char error[320];
    int64_t started = now_ns();
    transport_connection *connection = wire->open(options, epoll_fd, error, sizeof(error));
    if (connection == NULL) {
        fprintf(stderr, "transport_ping: %s\n", error);
        close(epoll_fd);
        return -1;
    }
    int result = 0;
    while (wire->state(connection) == TRANSPORT_CONNECTING) {
        if (now_ns() >= deadline_ns) {
            fprintf(stderr, "transport_ping: deadline passed while connecting\n");
            result = -1;
            break;
        }
        if (!pump(epoll_fd, wire, connection))
            break;
    }
    if (result == 0 && wire->state(connection) != TRANSPORT_READY) {
        fprintf(stderr, "transport_ping: %s\n", wire->error(connection));
        result = -1;
    }
    if (result == 0)
        printf("connect: ok, %.3f ms\n", (double)(now_ns() - started) / 1e6);
    size_t stream_before = 0;
    size_t rx_bytes =
        options->rdma_rx_bytes ? options->rdma_rx_bytes : TRANSPORT_DEFAULT_RDMA_RX_BYTES;
    for (size_t i = 0; result == 0 && i < step_count; i++) {
        result =
            run_step(epoll_fd, wire, connection, &steps[i], deadline_ns, stream_before, rx_bytes);
        stream_before += steps[i].reply.length;
    }
    for (int64_t idle_end = now_ns() + idle_ns; result == 0 && now_ns() < idle_end;) {
        if (!pump(epoll_fd, wire, connection)) {
            fprintf(stderr, "transport_ping: while idle: %s\n", wire->error(connection));
            result = -1;
        }
    }

    transport_counters counters;
    wire->counters(connection, &counters);
    printf("counters: bytes_out %" PRIu64 " bytes_in %" PRIu64 " keepalives %" PRIu64
           " buffer_recycles %" PRIu64 "\n",
           counters.bytes_out, counters.bytes_in, counters.keepalives_received,
           counters.buffer_recycles);
    wire->close(connection);
    close(epoll_fd);
    return result;
}

static int open_fd_count(void)
{
    int count = 0;
    DIR *directory = opendir("/proc/self/fd");
    if (directory == NULL)
        return -1;
    for (struct dirent *entry; (entry = readdir(directory)) != NULL;)
        count += entry->d_name[0] != '.';
    closedir(directory);
    return count;
}

static bool parse_size(const char *text, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
        return false;
    *out = (size_t)value;
    return true;
}

int main(int argc, char **argv)
{
    /* Progress lines and error lines interleave in order even through a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t value_bytes = DEFAULT_VALUE_BYTES, deadline_ms = DEFAULT_DEADLINE_MS, rx_bytes = 0,
           repeat = 1, port = 0, idle_ms = 0;
    const transport *wire = argc > 1 ? transport_by_name(argv[1]) : NULL;
    if (argc < 4 || argc > 9 || wire == NULL || !parse_size(argv[3], &port) || port > 65535 ||
        (argc > 4 && !parse_size(argv[4], &value_bytes)) ||
        (argc > 5 && (!parse_size(argv[5], &deadline_ms) || deadline_ms == 0)) ||
        (argc > 6 && !parse_size(argv[6], &rx_bytes)) ||
        (argc > 7 && (!parse_size(argv[7], &repeat) || repeat == 0)) ||
        (argc > 8 && !parse_size(argv[8], &idle_ms))) {
        fprintf(stderr, "usage: transport_ping tcp|rdma HOST PORT [VALUE_BYTES [DEADLINE_MS "
                        "[RX_BYTES [REPEAT [IDLE_MS]]]]]\n");
        return 2;
    }

    char *value = malloc(value_bytes + 1);
    if (value == NULL) {
        fprintf(stderr, "transport_ping: out of memory for a %zu-byte value\n", value_bytes);
        return 1;
    }
    /* A repeating pattern, so that a shifted or stale byte shows as a mismatch. */
    for (size_t i = 0; i < value_bytes; i++)
        value[i] = (char)('a' + i % 26 + (i / 26) % 2 * ('A' - 'a'));
    char set_header[96], get_header[32];
    snprintf(set_header, sizeof(set_header), "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%zu\r\n",
             strlen(KEY), KEY, value_bytes);
    snprintf(get_header, sizeof(get_header), "$%zu\r\n", value_bytes);
    step steps[] = {
        {"PING", buffer_format("*1\r\n$4\r\nPING\r\n", NULL, 0, ""),
         buffer_format("+PONG\r\n", NULL, 0, "")},
        {"SET", buffer_format(set_header, value, value_bytes, "\r\n"),
         buffer_format("+OK\r\n", NULL, 0, "")},
        {"GET", buffer_format("*2\r\n$3\r\nGET\r\n$16\r\n" KEY "\r\n", NULL, 0, ""),
         buffer_format(get_header, value, value_bytes, "\r\n")},
    };
    size_t step_count = sizeof(steps) / sizeof(steps[0]);

    transport_options options = {.host = argv[2],
                                 .port = (int)port,
                                 .rdma_rx_bytes = rx_bytes,
                                 .connect_timeout_ms = TRANSPORT_DEFAULT_CONNECT_TIMEOUT_MS};
    int failures = 0;
    int fds_before = open_fd_count();
    for (size_t round = 0; round < repeat; round++) {
        int64_t deadline_ns = now_ns() + (int64_t)deadline_ms * 1000000LL;
        if (run_connection(wire, &options, steps, step_count, deadline_ns,
                           (int64_t)idle_ms * 1000000LL) != 0)
            failures++;
    }
    if (repeat > 1)
        printf("connections: %zu, failed %d\n", repeat, failures);
    /* The first RDMA connection opens the device for good; later ones must add nothing. */
    printf("open fds: %d before the first connection, %d after the last\n", fds_before,
           open_fd_count());
    transport_rdma_resources live;
    transport_rdma_live_resources(&live);
    printf("rdma resources still live: connections %" PRId64 " event_channels %" PRId64
           " cm_ids %" PRId64 " pds %" PRId64 " mrs %" PRId64 " comp_channels %" PRId64
           " cqs %" PRId64 " qps %" PRId64 "\n",
           live.connections, live.event_channels, live.cm_ids, live.protection_domains,
           live.memory_regions, live.completion_channels, live.completion_queues, live.queue_pairs);

    for (size_t i = 0; i < step_count; i++) {
        free(steps[i].request.bytes);
        free(steps[i].reply.bytes);
    }
    free(value);
    return failures ? 1 : 0;
}
