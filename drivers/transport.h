/*
 * transport.h: one client-side wire to a Valkey server, with one implementation per
 * transport (transport_tcp.c, transport_rdma.c). The load engine is written once
 * against this table and never asks which wire it holds.
 *
 * Promises:
 * - Every connection is non-blocking and driven by the caller's epoll loop. `open`
 *   registers the connection's file descriptors in the caller's epoll set with
 *   epoll_event.data.ptr pointing at a `transport_watch` owned by the connection.
 * - The caller, for every epoll event, calls `watch->transport->handle_event`, then
 *   drains `read` until it returns 0 and retries any unwritten output with `write`.
 *   (The RDMA completion channel is edge-triggered: data left unread raises no event.)
 * - `tick` is called at least every 100 ms, with `now_ns` read from CLOCK_MONOTONIC,
 *   and enforces every bounded wait (address and route resolution, connect).
 * - `write` returning 0 means "not now": the TCP socket is full, or the RDMA peer's
 *   buffer is full or not yet advertised. The event that makes room (EPOLLOUT, or the
 *   peer's RegisterXferMemory on the completion channel) reaches the caller's epoll.
 * - Errors end only the connection they happen on: the state becomes
 *   TRANSPORT_FAILED, `error` says why in one line and `failure` says whether the peer
 *   broke the wire's own protocol (a malformed control message, a write past the buffer
 *   we advertised) or the wire failed. An RDMA disconnect by the peer is
 *   TRANSPORT_FAILED (the CM cannot tell orderly from abrupt); a TCP end of stream is
 *   TRANSPORT_CLOSED. Bytes already taken in before an RDMA disconnect can still be read.
 * - A connection that has failed or closed takes its fds out of the epoll set at once.
 *   After `close`, events already returned by epoll_wait for its watches must be skipped.
 * - `close` releases everything the connection owns, in reverse order of creation,
 *   in any state.
 * - `abort` releases the same, but as a client killed mid-run would: no polite
 *   teardown, so the server sees the connection vanish with requests outstanding (TCP: a
 *   reset through SO_LINGER 0; RDMA: the QP and cm id destroyed with no DISCONNECT).
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum transport_state {
    TRANSPORT_CONNECTING,
    TRANSPORT_READY,
    TRANSPORT_CLOSED, /* the peer closed it in an orderly way */
    TRANSPORT_FAILED, /* see error() */
} transport_state;

typedef enum transport_failure {
    TRANSPORT_FAILURE_NONE,     /* not failed */
    TRANSPORT_FAILURE_WIRE,     /* it broke, timed out, was refused or the peer went away */
    TRANSPORT_FAILURE_PROTOCOL, /* the peer broke the wire protocol (RDMA: control messages,
                                   buffer accounting) */
} transport_failure;

/* Valkey's own clients advertise a 1 MiB RDMA receive buffer. */
#define TRANSPORT_DEFAULT_RDMA_RX_BYTES ((size_t)1 << 20)
#define TRANSPORT_DEFAULT_CONNECT_TIMEOUT_MS 5000
/* An RDMA write carries as much as the server's receive buffer has free (up to its
 * 1 MiB by default), as Valkey's own clients do; a smaller bound may be set, within
 * these limits, to cut values into smaller writes. */
#define TRANSPORT_MIN_RDMA_MAX_WRITE_BYTES ((size_t)4 << 10)
#define TRANSPORT_MAX_RDMA_MAX_WRITE_BYTES ((size_t)16 << 20)

typedef struct transport_options {
    const char *host; /* numeric address of the server */
    int port;
    size_t rdma_rx_bytes;        /* RDMA only: size of the receive buffer we advertise */
    size_t rdma_max_write_bytes; /* RDMA only: largest write; 0: what the server has free */
    int connect_timeout_ms;
    void *owner; /* copied into every watch, for the caller's dispatch */
} transport_options;

typedef struct transport transport;
typedef struct transport_connection transport_connection;

/* What epoll_event.data.ptr points at for every fd a connection registers. */
typedef struct transport_watch {
    const transport *transport;
    transport_connection *connection;
    void *owner;
    int fd;
} transport_watch;

typedef struct transport_counters {
    uint64_t bytes_in, bytes_out;
    uint64_t keepalives_received;
    uint64_t buffer_recycles; /* RDMA: RegisterXferMemory messages sent to the peer */
} transport_counters;

struct transport {
    const char *name; /* "tcp" or "rdma" */
    transport_connection *(*open)(const transport_options *options, int epoll_fd, char *error,
                                  size_t error_size);
    /* Returns 0, or -1 when the connection has just failed or closed. */
    int (*handle_event)(transport_connection *connection, transport_watch *watch, uint32_t events);
    int (*tick)(transport_connection *connection, int64_t now_ns);
    transport_state (*state)(const transport_connection *connection);
    /* Copies up to size received bytes; 0 when nothing is ready, -1 on failure. */
    ssize_t (*read)(transport_connection *connection, void *buffer, size_t size);
    /* Accepts as many bytes as it can send now; 0 when it cannot take any now. */
    ssize_t (*write)(transport_connection *connection, const void *buffer, size_t size);
    const char *(*error)(const transport_connection *connection);
    transport_failure (*failure)(const transport_connection *connection);
    void (*counters)(const transport_connection *connection, transport_counters *out);
    void (*close)(transport_connection *connection);
    /* NULL: the wire has no abrupt teardown and `close` is used instead. */
    void (*abort)(transport_connection *connection);
};

extern const transport transport_tcp;
extern const transport transport_rdma;

struct addrinfo;
/* The numeric address and port of options (no name lookup: a test bed has no DNS), for
 * either wire; NULL with "WIRE HOST:PORT: bad address: ..." in error. Free it with
 * freeaddrinfo. */
struct addrinfo *transport_resolve_numeric(const char *wire, const transport_options *options,
                                           char *error, size_t error_size);

/* "tcp" or "rdma" to its table; NULL for anything else. */
const transport *transport_by_name(const char *name);

#endif
