/*
 * load_engine.h: drives SET/GET load at a Valkey server over any transport and reports
 * what happened.
 *
 * Promises:
 * - `load_engine_start` spawns `threads` event loops (one epoll set each) and spreads the
 *   connections over them round-robin. Each loop waits at most 100 ms and ticks every
 *   connection on every pass, so no wait is unbounded.
 * - Any error ends only the connection it happened on, with one line that names the
 *   connection ("connection 3 (rdma 192.0.2.1:6380): ...") and an error class; it is
 *   counted in the results. Nothing a server sends can crash the engine.
 * - A connection with requests outstanding and no progress (no reply, and no byte of a
 *   reply received or of a request sent) for `stall_seconds` is failed
 *   as stalled. Together with the transport's connect timeout, that bounds how long any
 *   connection, and so the whole run, can take to finish after it is told to stop.
 * - Memory is bounded whatever the pipeline depth: a connection encodes requests only
 *   while less than 1 MiB of its output waits for the wire, and the connections of one
 *   event loop only while less than 32 MiB of theirs does (so a loop's output is at most
 *   32 MiB plus one request); an output buffer that grew
 *   past 2 MiB is released once drained. A reply is held whole only while it is being
 *   read (one at a time per connection).
 * - Verify mode: SET values follow value_pattern.h for the key; a GET reply for a key
 *   whose SET was acknowledged before the GET was sent is checked byte by byte and a
 *   mismatch names the key and the first differing byte. GETs of keys not (yet) written
 *   in this run are counted, not judged, so stale data cannot cause a false alarm.
 * - `load_engine_progress` may be called from any thread while the load runs; the
 *   snapshot it copies is at most 10 ms older than the event loop's own view.
 * - Disconnects: a connection the server closes is an error unless
 *   `server_disconnects_expected`; then it reconnects and goes on. Churn kills
 *   connections abruptly on purpose (the transport's `abort`) and reconnects them. In both
 *   cases the requests outstanding are lost, counted and not judged: a SET whose reply
 *   was lost leaves its key as it was in the written-key bitmap (a key is marked written
 *   only by an acknowledged SET), and every value of a key is the same pattern of that
 *   key, so a GET after such a SET returns either the older or the newer value and both
 *   verify.
 * - Idle: the load begins `idle_seconds` after every connection settled; meanwhile the
 *   loops keep servicing the wires (RDMA keepalives arrive and are counted).
 */
#ifndef LOAD_ENGINE_H
#define LOAD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "latency_histogram.h"
#include "load_workload.h"
#include "transport.h"

#define LOAD_ERROR_TEXT_BYTES 256
#define LOAD_CONNECTION_NAME_BYTES 96
#define LOAD_DEFAULT_STALL_SECONDS 10.0
#define LOAD_DEFAULT_KEY_PREFIX "key:"
/* Verify mode keeps one bit per key; this caps that at 32 MiB. */
#define LOAD_VERIFY_MAX_KEY_SPACE ((uint64_t)1 << 28)

typedef enum load_error_class {
    LOAD_ERROR_NONE,
    LOAD_ERROR_CONNECT,   /* never became ready */
    LOAD_ERROR_PROTOCOL,  /* the server's bytes were not the RESP we expected, or it broke
                             the wire's own protocol (RDMA control messages, buffer bounds) */
    LOAD_ERROR_TRANSPORT, /* the wire failed or closed after it was ready */
    LOAD_ERROR_STALL,     /* requests outstanding and no progress for stall_seconds */
    LOAD_ERROR_VERIFY,    /* a GET returned bytes that no SET wrote */
    LOAD_ERROR_CLASS_COUNT,
} load_error_class;

typedef enum load_connection_state {
    LOAD_CONNECTION_CONNECTING,
    LOAD_CONNECTION_RUNNING,
    LOAD_CONNECTION_DRAINING, /* no new requests; waiting for the outstanding replies */
    LOAD_CONNECTION_DONE,
    LOAD_CONNECTION_FAILED,
} load_connection_state;

/* transport_name "mixed": even-numbered connections use RDMA to host, odd-numbered ones
 * TCP to mixed_tcp_host, both on port. */
#define LOAD_TRANSPORT_MIXED "mixed"

typedef struct load_engine_params {
    const char *transport_name; /* "tcp", "rdma" or LOAD_TRANSPORT_MIXED */
    const transport *transport; /* when set, used instead of transport_name (tests) */
    const char *host;
    int port;
    int connections;
    int threads;
    int pipeline_depth;  /* requests in flight per connection */
    double set_fraction; /* 0..1: share of requests that are SETs */
    value_size_spec value_sizes;
    uint64_t key_space;
    const char *key_prefix;       /* NULL: LOAD_DEFAULT_KEY_PREFIX */
    uint64_t request_limit;       /* stop after this many requests in all; 0: no limit */
    double duration_seconds;      /* stop issuing after this long; 0: no limit */
    double rate_limit_per_second; /* all connections together; 0: unlimited */
    size_t rdma_rx_bytes;         /* 0: TRANSPORT_DEFAULT_RDMA_RX_BYTES */
    size_t rdma_max_write_bytes;  /* largest RDMA write; 0: what the server has free */
    int connect_timeout_ms;       /* 0: TRANSPORT_DEFAULT_CONNECT_TIMEOUT_MS */
    double stall_seconds;         /* 0: LOAD_DEFAULT_STALL_SECONDS */
    bool verify;
    /* Keys in order (request n uses key n mod key_space) instead of at random: with
     * request_limit == key_space, every key exactly once. */
    bool sequential_keys;
    /* Verify mode: every key counts as written by an earlier run with these value sizes
     * (a SET phase run before this GET phase), so every GET is judged. */
    bool keys_written_before;
    uint64_t seed;              /* for the request choices; the same seed gives the same sequence */
    const char *mixed_tcp_host; /* transport "mixed": the TCP connections' host */
    double churn_interval_seconds;    /* 0: off; else kill churn_connections this often */
    int churn_connections;            /* killed abruptly and reopened at every churn */
    bool server_disconnects_expected; /* reconnect when the server drops a connection */
    double idle_seconds;              /* hold the connections idle before the load */
    /* A connection that ends (failed or done) keeps its wire open, out of the epoll set,
     * until load_engine_destroy: a caller that takes the link down mid-run decides when
     * RDMA disconnects go out (rxe stops setting up connections after a disconnect sent
     * while its link was down). */
    bool keep_wires_until_destroy;
} load_engine_params;

/* The parameters a caller gets before setting its own: one connection, one thread,
 * pipeline 1, half SETs, 100-byte values, 1000 keys, 1000 requests. */
load_engine_params load_engine_default_params(void);

typedef struct load_connection_progress {
    int index;
    char name[LOAD_CONNECTION_NAME_BYTES];
    load_connection_state state;
    uint64_t outstanding;
    uint64_t requests_sent;
    uint64_t replies;
    /* CLOCK_MONOTONIC; 0 before the first. Progress is a whole reply, or any byte of a
     * reply received, or any byte of a request the wire accepted: a 10 MB value that
     * is still moving is not a stall, and a server that takes and gives nothing is. */
    int64_t last_progress_ns;
    /* When the oldest request still outstanding was sent; 0 when none is. A connection
     * waits since the later of the two (a reconnected or long idle connection has not
     * been waiting since its last progress). */
    int64_t oldest_sent_ns;
    load_error_class error_class;
    char error[LOAD_ERROR_TEXT_BYTES];
} load_connection_progress;

typedef struct load_connection_result {
    load_connection_progress progress; /* its final state */
    uint64_t sets;
    uint64_t gets;
    uint64_t get_hits;
    uint64_t get_misses;
    uint64_t verified_gets;
    uint64_t error_replies; /* "-ERR ..." from the server: counted, not fatal */
    char first_error_reply[LOAD_ERROR_TEXT_BYTES];
    uint64_t churn_kills;        /* times churn killed this connection */
    uint64_t server_disconnects; /* expected drops by the server */
    uint64_t requests_lost;      /* outstanding when the connection was killed or dropped */
    /* The most encoded request bytes that waited for the wire at once: at most the
     * output budget (1 MiB) plus one request, whatever the pipeline depth. */
    uint64_t peak_output_bytes;
    transport_counters counters; /* summed over every wire this connection had */
} load_connection_result;

typedef struct load_second_sample {
    uint64_t requests;    /* replies received in this second of the run */
    uint64_t value_bytes; /* SET values sent plus GET values received */
} load_second_sample;

typedef struct load_results {
    double elapsed_seconds;
    uint64_t requests_sent;
    uint64_t replies;
    uint64_t sets;
    uint64_t gets;
    uint64_t get_hits;
    uint64_t get_misses;
    uint64_t verified_gets;
    uint64_t error_replies;
    uint64_t value_bytes;
    uint64_t failed_connections;
    uint64_t errors[LOAD_ERROR_CLASS_COUNT]; /* failed connections per class */
    uint64_t churn_kills;
    uint64_t server_disconnects;
    uint64_t requests_lost;
    uint64_t keepalives_received;
    latency_histogram latency; /* every reply, all threads merged */
    load_second_sample *seconds;
    size_t second_count;
    load_connection_result *connections;
    size_t connection_count;
} load_results;

typedef struct load_engine load_engine;

/* Checks the parameters and spawns the threads. NULL with a one-line reason in error
 * when the parameters are invalid or a resource cannot be had. Connection failures
 * after this point are reported in the results, not here. */
load_engine *load_engine_start(const load_engine_params *params, char *error, size_t error_size);
/* Copies up to capacity connection snapshots into out; returns the connection count. */
size_t load_engine_progress(load_engine *engine, load_connection_progress *out, size_t capacity);
/* Asks every connection to stop issuing; outstanding replies are still awaited (within
 * the stall bound). Returns at once. */
void load_engine_stop(load_engine *engine);
/* Waits up to timeout_ms for every thread to finish. 0 when finished (the results are
 * then ready), -1 on timeout. */
int load_engine_wait(load_engine *engine, int timeout_ms);
/* NULL until load_engine_wait has returned 0. Owned by the engine. */
const load_results *load_engine_results(const load_engine *engine);
/* Stops, waits for the threads (bounded: see the promises above) and frees everything. */
void load_engine_destroy(load_engine *engine);

const char *load_error_class_name(load_error_class error_class);
const char *load_connection_state_name(load_connection_state state);

#endif
