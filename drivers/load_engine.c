/*
 * load_engine.c: the event loops behind load_engine.h.
 *
 * Ownership: the engine owns its threads, connections and results. A thread owns its
 * epoll set and is the only one that touches its connections' private state; the only
 * shared state is the progress snapshots and the finish count (both under `lock`), and
 * the request counter, stop flags and written-key bitmap (atomics).
 *
 * A connection is only ever closed in the service pass, never while a batch of epoll
 * events is being dispatched, so no event in a batch can point at a closed connection.
 */
#include "load_engine.h"
#include "monotonic_clock.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "rate_limiter.h"
#include "resp.h"
#include "stall_detector.h"
#include "value_pattern.h"

#define NANOSECONDS_PER_SECOND 1000000000LL
#define NANOSECONDS_PER_MILLISECOND 1000000LL
/* The transport promises to be ticked at least every 100 ms. */
#define LOOP_WAIT_MAX_MS 100
/* When output is waiting for room or the rate limiter for a token there may be no event
 * to wake us: look again soon instead of sleeping the full pass. */
#define LOOP_WAIT_BUSY_MS 1
/* Between events a pass services only the connections an event or an unfinished read
 * named; every connection is serviced at least this often, for what no event announces:
 * stalls, deadlines, the churn's kill requests. With 25 connections a loop, servicing all
 * of them on every event cost twice valkey-benchmark's user CPU per request at pipeline
 * 1. A pass is also whole when the load begins or stops issuing, after a quiet wait,
 * while connections are still being opened, and after the rate limiter or the thread's
 * output budget held a request back. */
#define FULL_PASS_INTERVAL_NS (10 * NANOSECONDS_PER_MILLISECOND)
#define EPOLL_EVENTS_PER_WAIT 64
#define READ_CHUNK_BYTES ((size_t)256 << 10)
/* Requests are encoded for the wire only while less than this waits to be written. The
 * pipeline depth counts requests in flight, not bytes: 512 SETs of 16 MiB encoded at once
 * would be 8 GiB per connection. So a connection's output holds at most this plus one
 * request, whatever the depth; 1 MiB matches the server's default RDMA receive buffer,
 * what one RDMA write round can carry anyway. */
#define OUTPUT_BUDGET_BYTES ((size_t)1 << 20)
/* And all the connections of one event loop together encode only while less than this
 * waits: 500 connections each holding one 16 MiB SET would be 8 GiB. Small requests never
 * reach it (the server's buffer takes them as fast as they come: 250 connections with 512
 * GETs each is about 5 MiB); large ones take turns. */
#define THREAD_OUTPUT_BUDGET_BYTES ((size_t)32 << 20)
/* A SET value larger than this is not encoded whole: its header is queued, and the value
 * is made from its pattern a piece of at most this size at a time as the wire takes it,
 * so two connections SETting 10 MB hold about 2 MiB of output, not 20 MB. */
#define STREAM_VALUE_PIECE_BYTES OUTPUT_BUDGET_BYTES
/* An output buffer that grew past this for a large request is given back once drained,
 * so a connection does not keep 16 MiB for the rest of the run. */
#define OUTPUT_KEEP_BYTES ((size_t)2 << 20)
/* One connection may not hog its loop: after this many chunks the others get a turn,
 * and the loop comes back without sleeping. */
#define READ_CHUNKS_PER_PASS 64
/* A protocol error quotes this many received bytes either side of the refused one; the
 * excerpt must fit the error text with the parser's message before it. */
#define PROTOCOL_EXCERPT_CONTEXT 10
#define PROTOCOL_EXCERPT_BYTES 112
/* Connections of one event loop that may be connecting at once; the next opens when one
 * settles. valkey-benchmark and libvalkey connect one client at a time (a blocking
 * connect) per thread; 50 RDMA connection requests at once made Valkey 9.1.2 fail
 * "create qp" and then crash, so we ramp up too, a little faster than they do. Load
 * starts only once every connection has settled, so the ramp costs no throughput. */
#define CONNECTS_IN_FLIGHT_PER_LOOP 4
#define PROGRESS_PUBLISH_INTERVAL_NS (10 * NANOSECONDS_PER_MILLISECOND)
/* The transport enforces the connect timeout; the engine adds this much on top as a
 * backstop so that even a transport bug cannot leave a connection connecting forever. */
#define CONNECT_BACKSTOP_NS (1 * NANOSECONDS_PER_SECOND)
/* The rate limiter may release this much of a second's worth of requests at once. */
#define RATE_BURST_SECONDS 0.01
#define SECOND_SERIES_INITIAL_CAPACITY 64
/* The longest decimal key index, plus the NUL. */
#define KEY_INDEX_DIGITS 21
/* The bitmap of written keys packs 64 keys per word. */
#define KEYS_PER_WORD 64
#define DEFAULT_VALUE_SIZE 100
#define DEFAULT_KEY_SPACE 1000
#define DEFAULT_REQUEST_LIMIT 1000
/* With server disconnects expected, a server that drops a connection before it is ready
 * (a CLIENT KILL during the handshake) is retried; this many failures in a row mean the
 * server is not taking connections at all. */
#define RECONNECT_ATTEMPTS_MAX 5

typedef struct pending_request {
    load_operation operation;
    uint64_t key_index;
    size_t value_size;
    int64_t sent_ns;
    bool key_was_written; /* verify mode: its SET was acknowledged before this was sent */
} pending_request;

typedef struct load_thread load_thread;

typedef struct load_connection {
    load_engine *engine;
    load_thread *thread;
    const transport *wire_type;
    const char *wire_host;
    transport_connection *wire; /* NULL once closed */
    resp_reader *reader;
    resp_buffer output;
    pending_request *pending; /* a ring of pipeline_depth slots */
    size_t pending_head;
    size_t pending_count;
    int64_t opened_ns;
    bool opened; /* open was called (the ramp may not have reached it yet) */
    bool was_ready;
    bool settled;                     /* counted in connections_settled */
    bool release_deferred;            /* done: its wire is torn down when the loop ends */
    int failed_reconnects;            /* in a row, before the wire became ready */
    atomic_bool kill_requested;       /* set by the churn schedule, taken by the owner */
    transport_counters earlier_wires; /* counters of the wires it had before this one */
    bool output_budget_reached;       /* issue_requests stopped at OUTPUT_BUDGET_BYTES */
    bool service_wanted;              /* by an event or a read cut short: see FULL_PASS_... */
    /* A large SET value still to be made and written after the output (see
     * STREAM_VALUE_PIECE_BYTES); no request is queued behind it until it is all out. */
    struct {
        bool active;
        uint64_t seed;
        size_t offset, length;
    } stream;
    load_connection_result result;      /* private to the thread */
    load_connection_progress published; /* under engine->lock */
} load_connection;

struct load_thread {
    load_engine *engine;
    int index;
    pthread_t handle;
    bool started;
    int epoll_fd;
    load_connection **connections;
    size_t connection_count;
    size_t connections_opened; /* the first this many have been opened, in order */
    latency_histogram latency;
    load_random random;
    rate_limiter limiter;
    load_second_sample *seconds;
    size_t second_count;
    size_t second_capacity;
    char *read_chunk;
    char *key_name;
    size_t key_name_capacity;
    int64_t last_publish_ns;
    int64_t pending_output_bytes; /* over all its connections: see THREAD_OUTPUT_BUDGET_BYTES */
    size_t service_start;         /* the pass starts here, so that budgets go round */
    bool more_to_read;            /* a connection stopped reading early this pass */
    bool output_waiting;          /* a write could not take everything */
    bool rate_limited;            /* the limiter refused a request this pass */
    bool full_pass_wanted;        /* the next pass services every connection */
    int64_t next_full_pass_ns;
    bool saw_load_begun, saw_issuing; /* as of the last pass: a change makes a full one */
    int64_t next_churn_ns;            /* thread 0 only: when the churn schedule next kills */
};

struct load_engine {
    load_engine_params params;
    char *host;
    char *key_prefix;
    size_t *value_sizes;
    const transport *transport; /* NULL when mixed */
    char *mixed_tcp_host;
    load_connection *connections;
    load_thread *threads;
    int thread_count;
    bool destroying; /* free_engine: keep_wires_until_destroy no longer keeps them */
    int64_t start_ns;
    /* Load begins once every connection has settled (ready, or failed while connecting),
     * as valkey-benchmark connects its clients before it starts: throughput, the duration
     * and the per-second series are measured from then, not from the first connect. */
    atomic_int connections_settled;
    _Atomic int64_t load_start_ns; /* 0 until every connection settled */
    /* When the last connection ended (done or failed), before its wire was torn down:
     * the load's end, as valkey-benchmark's clock stops at the last reply and not after
     * closing (an RDMA teardown takes tens of milliseconds under emulation). */
    _Atomic int64_t load_end_ns;
    _Atomic int64_t deadline_ns; /* 0: none; set when the load begins */
    int64_t stall_bound_ns;
    int64_t connect_bound_ns;
    atomic_bool stop_requested;
    atomic_bool issuing_over;  /* the request limit or the duration is reached */
    int64_t churn_interval_ns; /* 0: no churn */
    uint64_t churn_cursor;     /* thread 0 only: the next connection churn kills */
    atomic_uint_fast64_t requests_claimed;
    _Atomic uint64_t *written_keys; /* verify mode: one bit per key */

    pthread_mutex_t lock;
    pthread_cond_t finished_signal;
    int threads_finished;
    bool joined;
    load_results results;
};

/* Marks a connection ready or failed-while-connecting; the last one starts the load. */
static void settle_connection(load_connection *connection);
static void note_connection_end(load_connection *connection);

load_engine_params load_engine_default_params(void)
{
    static const size_t default_value_size[] = {DEFAULT_VALUE_SIZE};
    load_engine_params params = {
        .transport_name = "tcp",
        .host = "127.0.0.1",
        .port = 6379,
        .connections = 1,
        .threads = 1,
        .pipeline_depth = 1,
        .set_fraction = 0.5,
        .value_sizes = {.sizes = default_value_size, .size_count = 1},
        .key_space = DEFAULT_KEY_SPACE,
        .key_prefix = LOAD_DEFAULT_KEY_PREFIX,
        .request_limit = DEFAULT_REQUEST_LIMIT,
        .stall_seconds = LOAD_DEFAULT_STALL_SECONDS,
        .seed = 1,
    };
    return params;
}

const char *load_error_class_name(load_error_class error_class)
{
    switch (error_class) {
    case LOAD_ERROR_NONE:
        return "none";
    case LOAD_ERROR_CONNECT:
        return "connect";
    case LOAD_ERROR_PROTOCOL:
        return "protocol";
    case LOAD_ERROR_TRANSPORT:
        return "transport";
    case LOAD_ERROR_STALL:
        return "stall";
    case LOAD_ERROR_VERIFY:
        return "verify";
    case LOAD_ERROR_CLASS_COUNT:
        break;
    }
    return "unknown";
}

const char *load_connection_state_name(load_connection_state state)
{
    switch (state) {
    case LOAD_CONNECTION_CONNECTING:
        return "connecting";
    case LOAD_CONNECTION_RUNNING:
        return "running";
    case LOAD_CONNECTION_DRAINING:
        return "draining";
    case LOAD_CONNECTION_DONE:
        return "done";
    case LOAD_CONNECTION_FAILED:
        return "failed";
    }
    return "unknown";
}

/* ---- the written-key bitmap (verify mode) ---- */

static bool key_was_written(const load_engine *engine, uint64_t key_index)
{
    if (engine->params.keys_written_before) {
        return true;
    }
    uint64_t word = atomic_load_explicit(&engine->written_keys[key_index / KEYS_PER_WORD],
                                         memory_order_acquire);
    return (word >> (key_index % KEYS_PER_WORD)) & 1u;
}

static void mark_key_written(load_engine *engine, uint64_t key_index)
{
    atomic_fetch_or_explicit(&engine->written_keys[key_index / KEYS_PER_WORD],
                             (uint64_t)1 << (key_index % KEYS_PER_WORD), memory_order_release);
}

/* ---- connection life cycle ---- */

static bool connection_finished(const load_connection *connection)
{
    load_connection_state state = connection->result.progress.state;
    return state == LOAD_CONNECTION_DONE || state == LOAD_CONNECTION_FAILED;
}

static void add_counters(transport_counters *sum, const transport_counters *more)
{
    sum->bytes_in += more->bytes_in;
    sum->bytes_out += more->bytes_out;
    sum->keepalives_received += more->keepalives_received;
    sum->buffer_recycles += more->buffer_recycles;
}

/* Takes the wire's counters into the results and closes it, politely or (abrupt) as a
 * killed client would. */
static void connection_close_wire(load_connection *connection, bool abrupt)
{
    if (connection->wire == NULL) {
        return;
    }
    const transport *wire_type = connection->wire_type;
    transport_counters counters = {0};
    wire_type->counters(connection->wire, &counters);
    add_counters(&connection->earlier_wires, &counters);
    connection->result.counters = connection->earlier_wires;
    if (abrupt && wire_type->abort != NULL) {
        wire_type->abort(connection->wire);
    } else {
        wire_type->close(connection->wire);
    }
    connection->wire = NULL;
}

/* Drops whatever output waits, and gives its share of the loop's budget back. */
static void connection_discard_output(load_connection *connection)
{
    if (connection->thread != NULL) {
        connection->thread->pending_output_bytes -=
            (int64_t)resp_buffer_pending(&connection->output);
    }
    resp_buffer_free(&connection->output);
    connection->stream.active = false;
}

/* Releases the wire and the buffers; the counters are kept for the results. */
static void connection_release(load_connection *connection)
{
    if (connection->wire != NULL && connection->engine->params.keep_wires_until_destroy &&
        !connection->engine->destroying) {
        /* Kept open until load_engine_destroy; its counters are final already. */
        transport_counters counters = {0};
        connection->wire_type->counters(connection->wire, &counters);
        connection->result.counters = connection->earlier_wires;
        add_counters(&connection->result.counters, &counters);
        return;
    }
    connection_close_wire(connection, false);
    resp_reader_destroy(connection->reader);
    connection->reader = NULL;
    connection_discard_output(connection);
}

__attribute__((format(printf, 3, 4))) static void
connection_fail(load_connection *connection, load_error_class error_class, const char *format, ...)
{
    if (connection_finished(connection)) {
        return;
    }
    load_connection_progress *progress = &connection->result.progress;
    int prefix = snprintf(progress->error, sizeof(progress->error), "%s: ", progress->name);
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(progress->error + prefix, sizeof(progress->error) - (size_t)prefix, format,
              arguments);
    va_end(arguments);
    progress->error_class = error_class;
    progress->state = LOAD_CONNECTION_FAILED;
    settle_connection(connection);
    note_connection_end(connection);
    connection_release(connection);
}

static void settle_connection(load_connection *connection)
{
    if (connection->settled) {
        return;
    }
    connection->settled = true;
    load_engine *engine = connection->engine;
    if (atomic_fetch_add(&engine->connections_settled, 1) + 1 == engine->params.connections) {
        /* Idle connections are held open, serviced but unused, before the load. */
        int64_t now_ns =
            monotonic_ns() + (int64_t)(engine->params.idle_seconds * NANOSECONDS_PER_SECOND);
        if (engine->params.duration_seconds > 0.0) {
            engine->deadline_ns =
                now_ns + (int64_t)(engine->params.duration_seconds * NANOSECONDS_PER_SECOND);
        }
        atomic_store(&engine->load_start_ns, now_ns);
    }
}

static void note_connection_end(load_connection *connection)
{
    int64_t now_ns = monotonic_ns();
    int64_t seen = atomic_load(&connection->engine->load_end_ns);
    while (seen < now_ns &&
           !atomic_compare_exchange_weak(&connection->engine->load_end_ns, &seen, now_ns)) {
    }
}

static bool load_has_begun(const load_engine *engine, int64_t now_ns)
{
    int64_t load_start_ns = atomic_load(&engine->load_start_ns);
    return load_start_ns != 0 && now_ns >= load_start_ns;
}

static void connection_done(load_connection *connection)
{
    connection->result.progress.state = LOAD_CONNECTION_DONE;
    note_connection_end(connection);
    /* Torn down when its thread's load is over: a slow teardown (an RDMA one takes tens
     * of milliseconds under emulation) must neither hold up the thread's other
     * connections nor count as their load time. Its events meanwhile are dropped. */
    connection->release_deferred = true;
}

static const char *wire_error(const load_connection *connection)
{
    const char *error = connection->wire_type->error(connection->wire);
    return error != NULL && error[0] != '\0' ? error : "no reason given by the transport";
}

/* How a failed wire is counted: a peer that broke the wire's own protocol is a protocol
 * error, like bad RESP; anything else is counted as `otherwise` says. */
static load_error_class wire_failure_class(const load_connection *connection,
                                           load_error_class otherwise)
{
    const transport *wire_type = connection->wire_type;
    if (wire_type->failure != NULL &&
        wire_type->failure(connection->wire) == TRANSPORT_FAILURE_PROTOCOL) {
        return LOAD_ERROR_PROTOCOL;
    }
    return otherwise;
}

static bool engine_may_issue(load_engine *engine, int64_t now_ns)
{
    if (atomic_load(&engine->stop_requested) || atomic_load(&engine->issuing_over)) {
        return false;
    }
    if (engine->deadline_ns != 0 && now_ns >= engine->deadline_ns) {
        atomic_store(&engine->issuing_over, true);
        return false;
    }
    return true;
}

/* Opens a fresh wire and RESP reader for the connection (its first, or after a reconnect). */
static void connection_open_wire(load_connection *connection)
{
    load_engine *engine = connection->engine;
    char error[LOAD_ERROR_TEXT_BYTES] = "";
    transport_options options = {
        .host = connection->wire_host,
        .port = engine->params.port,
        .rdma_rx_bytes = engine->params.rdma_rx_bytes,
        .rdma_max_write_bytes = engine->params.rdma_max_write_bytes,
        .connect_timeout_ms = engine->params.connect_timeout_ms,
        .owner = connection,
    };
    connection->opened_ns = monotonic_ns();
    connection->was_ready = false;
    /* SET and GET never answer with an array: skimming means a confused server
     * cannot make us hold a huge one before the protocol error is raised. */
    resp_reader_options reader_options = resp_reader_default_options();
    reader_options.keep_array_elements = false;
    connection->reader = resp_reader_create(&reader_options);
    if (connection->reader == NULL) {
        connection_fail(connection, LOAD_ERROR_CONNECT, "out of memory for a RESP reader");
        return;
    }
    connection->wire =
        connection->wire_type->open(&options, connection->thread->epoll_fd, error, sizeof(error));
    if (connection->wire == NULL) {
        connection_fail(connection, LOAD_ERROR_CONNECT, "%s",
                        error[0] ? error : "open failed with no reason given");
    }
}

/* The connection lost its wire on purpose (churn) or by a server disconnect the scenario
 * expects: what was outstanding is lost and counted, never judged, and a fresh wire is
 * opened unless the load is over. */
static void connection_reconnect(load_connection *connection, bool abrupt, int64_t now_ns)
{
    connection->result.requests_lost += connection->pending_count;
    connection->pending_head = 0;
    connection->pending_count = 0;
    connection_close_wire(connection, abrupt);
    resp_reader_destroy(connection->reader);
    connection->reader = NULL;
    connection_discard_output(connection);
    if (!engine_may_issue(connection->engine, now_ns)) {
        connection_done(connection);
        return;
    }
    connection->result.progress.state = LOAD_CONNECTION_CONNECTING;
    connection_open_wire(connection);
}

/* The wire failed or the server closed it: an error, unless the scenario expects the
 * server to drop connections (CLIENT KILL), in which case the connection comes back. */
static void connection_wire_lost(load_connection *connection, const char *reason, int64_t now_ns)
{
    load_error_class error_class = wire_failure_class(
        connection, connection->was_ready ? LOAD_ERROR_TRANSPORT : LOAD_ERROR_CONNECT);
    /* A peer that broke the wire protocol is no expected disconnect: never reconnect. */
    if (error_class != LOAD_ERROR_PROTOCOL &&
        connection->engine->params.server_disconnects_expected &&
        (connection->was_ready || ++connection->failed_reconnects <= RECONNECT_ATTEMPTS_MAX)) {
        connection->result.server_disconnects++;
        connection_reconnect(connection, false, now_ns);
        return;
    }
    connection_fail(connection, error_class, "%s", reason);
}

static void record_second(load_thread *thread, int64_t now_ns, uint64_t value_bytes)
{
    int64_t load_start_ns = atomic_load(&thread->engine->load_start_ns);
    int64_t elapsed = now_ns - (load_start_ns ? load_start_ns : thread->engine->start_ns);
    size_t second = elapsed > 0 ? (size_t)(elapsed / NANOSECONDS_PER_SECOND) : 0;
    if (second >= thread->second_capacity) {
        size_t capacity =
            thread->second_capacity ? thread->second_capacity : SECOND_SERIES_INITIAL_CAPACITY;
        while (capacity <= second) {
            capacity *= 2;
        }
        load_second_sample *grown = realloc(thread->seconds, capacity * sizeof(*grown));
        if (grown == NULL) {
            return; /* the series loses a sample; the totals still count it */
        }
        memset(grown + thread->second_capacity, 0,
               (capacity - thread->second_capacity) * sizeof(*grown));
        thread->seconds = grown;
        thread->second_capacity = capacity;
    }
    if (second >= thread->second_count) {
        thread->second_count = second + 1;
    }
    thread->seconds[second].requests++;
    thread->seconds[second].value_bytes += value_bytes;
}

static const char *key_name(load_thread *thread, uint64_t key_index)
{
    load_key_name(thread->key_name, thread->key_name_capacity, thread->engine->key_prefix,
                  key_index);
    return thread->key_name;
}

static int check_get_value(load_connection *connection, const pending_request *request,
                           const resp_reply *reply)
{
    load_engine *engine = connection->engine;
    const char *key = key_name(connection->thread, request->key_index);
    if (!load_value_size_allowed(&engine->params.value_sizes, reply->length)) {
        connection_fail(connection, LOAD_ERROR_VERIFY,
                        "GET %s returned %zu bytes, a size no SET of this run writes", key,
                        reply->length);
        return -1;
    }
    uint64_t seed = value_pattern_seed(key, strlen(key));
    int64_t offset = value_pattern_first_mismatch(seed, reply->string, reply->length);
    if (offset >= 0) {
        connection_fail(connection, LOAD_ERROR_VERIFY,
                        "GET %s returned %zu bytes that differ from the value SET at byte "
                        "%" PRId64 " (expected 0x%02x, got 0x%02x)",
                        key, reply->length, offset, value_pattern_byte(seed, (size_t)offset),
                        (uint8_t)reply->string[offset]);
        return -1;
    }
    connection->result.verified_gets++;
    return 0;
}

static void count_error_reply(load_connection *connection, const resp_reply *reply)
{
    if (connection->result.error_replies++ == 0) {
        snprintf(connection->result.first_error_reply, sizeof(connection->result.first_error_reply),
                 "%s", reply->string);
    }
}

static int handle_reply(load_connection *connection, const resp_reply *reply, int64_t now_ns)
{
    load_engine *engine = connection->engine;
    load_connection_result *result = &connection->result;
    if (connection->pending_count == 0) {
        connection_fail(connection, LOAD_ERROR_PROTOCOL,
                        "a %s reply arrived with no request outstanding",
                        resp_type_name(reply->type));
        return -1;
    }
    pending_request request = connection->pending[connection->pending_head];
    connection->pending_head =
        (connection->pending_head + 1) % (size_t)engine->params.pipeline_depth;
    connection->pending_count--;
    result->progress.replies++;
    result->progress.last_progress_ns = now_ns;
    int64_t latency = now_ns - request.sent_ns;
    latency_histogram_record(&connection->thread->latency, latency > 0 ? (uint64_t)latency : 0);

    if (request.operation == LOAD_OPERATION_SET) {
        record_second(connection->thread, now_ns, request.value_size);
        if (reply->type == RESP_SIMPLE_STRING && strcmp(reply->string, "OK") == 0) {
            result->sets++;
            if (engine->params.verify) {
                mark_key_written(engine, request.key_index);
            }
            return 0;
        }
        if (reply->type == RESP_ERROR) {
            count_error_reply(connection, reply);
            return 0;
        }
        /* Quote what came instead: a shifted or corrupted reply stream shows in it. */
        char quoted[PROTOCOL_EXCERPT_BYTES] = "";
        if (reply->string != NULL) {
            resp_quote_bytes(quoted, sizeof(quoted), reply->string, reply->length,
                             PROTOCOL_EXCERPT_CONTEXT * 2);
        }
        connection_fail(connection, LOAD_ERROR_PROTOCOL,
                        "SET %s answered with a %s %s (reply stream at byte %" PRIu64 "), not +OK",
                        key_name(connection->thread, request.key_index),
                        resp_type_name(reply->type), quoted,
                        resp_reader_position(connection->reader));
        return -1;
    }

    result->gets++;
    switch (reply->type) {
    case RESP_BULK_STRING:
        record_second(connection->thread, now_ns, reply->length);
        result->get_hits++;
        if (engine->params.verify && request.key_was_written) {
            return check_get_value(connection, &request, reply);
        }
        return 0;
    case RESP_NIL:
        record_second(connection->thread, now_ns, 0);
        result->get_misses++;
        if (engine->params.verify && request.key_was_written) {
            connection_fail(connection, LOAD_ERROR_VERIFY,
                            "GET %s returned nil after its SET was acknowledged",
                            key_name(connection->thread, request.key_index));
            return -1;
        }
        return 0;
    case RESP_ERROR:
        record_second(connection->thread, now_ns, 0);
        count_error_reply(connection, reply);
        return 0;
    default:
        connection_fail(
            connection, LOAD_ERROR_PROTOCOL, "GET %s answered with a %s, not a bulk string",
            key_name(connection->thread, request.key_index), resp_type_name(reply->type));
        return -1;
    }
}

static int receive(load_connection *connection, int64_t now_ns)
{
    const transport *wire_type = connection->wire_type;
    load_thread *thread = connection->thread;
    for (int chunk = 0; chunk < READ_CHUNKS_PER_PASS; chunk++) {
        ssize_t received = wire_type->read(connection->wire, thread->read_chunk, READ_CHUNK_BYTES);
        if (received < 0) {
            char reason[LOAD_ERROR_TEXT_BYTES];
            snprintf(reason, sizeof(reason), "read failed: %s", wire_error(connection));
            connection_wire_lost(connection, reason, now_ns);
            return -1;
        }
        if (received == 0) {
            return 0;
        }
        connection->result.progress.last_progress_ns = now_ns;
        uint64_t chunk_start = resp_reader_position(connection->reader);
        /* A reply at a time: each is handled and freed before the next is parsed. */
        int fed = 0;
        size_t offset = 0;
        while (fed == 0 && offset < (size_t)received) {
            size_t used = 0;
            fed = resp_reader_feed_to_reply(connection->reader, thread->read_chunk + offset,
                                            (size_t)received - offset, &used);
            offset += used;
            /* Replies that were whole before a malformed byte still count. */
            resp_reply *reply = NULL;
            while (resp_reader_next(connection->reader, &reply) == RESP_STATUS_REPLY) {
                int handled = handle_reply(connection, reply, now_ns);
                resp_reply_free(reply);
                if (handled != 0) {
                    return -1;
                }
            }
        }
        if (fed != 0) {
            /* The refused byte and its neighbours in this chunk: what a person needs to
             * tell a shifted stream from a corrupted one. */
            char excerpt[PROTOCOL_EXCERPT_BYTES];
            uint64_t at = resp_reader_position(connection->reader) - chunk_start;
            resp_describe_bytes(excerpt, sizeof(excerpt), thread->read_chunk, (size_t)received,
                                (size_t)at, PROTOCOL_EXCERPT_CONTEXT);
            connection_fail(connection, LOAD_ERROR_PROTOCOL, "%s; received %s",
                            resp_reader_error(connection->reader), excerpt);
            return -1;
        }
    }
    thread->more_to_read = true;
    connection->service_wanted = true;
    return 0;
}

static int queue_request(load_connection *connection, load_operation operation, uint64_t key_index,
                         size_t value_size, int64_t now_ns)
{
    load_engine *engine = connection->engine;
    load_thread *thread = connection->thread;
    const char *key = key_name(thread, key_index);
    size_t key_length = strlen(key);
    size_t before = connection->output.end;
    bool queued = false;
    if (operation == LOAD_OPERATION_SET && value_size > STREAM_VALUE_PIECE_BYTES) {
        queued = resp_buffer_append_array_header(&connection->output, 3) == 0 &&
                 resp_buffer_append_bulk(&connection->output, "SET", 3) == 0 &&
                 resp_buffer_append_bulk(&connection->output, key, key_length) == 0 &&
                 resp_buffer_append_bulk_header(&connection->output, value_size) == 0;
        if (queued) {
            connection->stream.active = true;
            connection->stream.seed = value_pattern_seed(key, key_length);
            connection->stream.offset = 0;
            connection->stream.length = value_size;
        }
    } else if (operation == LOAD_OPERATION_SET) {
        const char *arguments[] = {"SET", key};
        size_t lengths[] = {3, key_length};
        char *room = resp_buffer_append_command_space(&connection->output, 2, arguments, lengths,
                                                      value_size);
        queued = room != NULL;
        if (queued) {
            value_pattern_fill(value_pattern_seed(key, key_length), room, value_size);
        }
    } else {
        const char *arguments[] = {"GET", key};
        size_t lengths[] = {3, key_length};
        queued = resp_buffer_append_command(&connection->output, 2, arguments, lengths) == 0;
    }
    if (!queued) {
        connection->output.end = before; /* drop a half-encoded command */
        connection_fail(connection, LOAD_ERROR_TRANSPORT,
                        "out of memory queueing a request with a %zu-byte value", value_size);
        return -1;
    }
    size_t slot = (connection->pending_head + connection->pending_count) %
                  (size_t)engine->params.pipeline_depth;
    connection->pending[slot] = (pending_request){
        .operation = operation,
        .key_index = key_index,
        .value_size = operation == LOAD_OPERATION_SET ? value_size : 0,
        .sent_ns = now_ns,
        .key_was_written = engine->params.verify && operation == LOAD_OPERATION_GET &&
                           key_was_written(engine, key_index),
    };
    connection->pending_count++;
    connection->result.progress.requests_sent++;
    return 0;
}

static int issue_requests(load_connection *connection, int64_t now_ns)
{
    load_engine *engine = connection->engine;
    load_thread *thread = connection->thread;
    const load_engine_params *params = &engine->params;
    connection->output_budget_reached = false;
    while (connection->pending_count < (size_t)params->pipeline_depth) {
        if (connection->stream.active) {
            return 0; /* the next request goes behind the value still being made */
        }
        if (resp_buffer_pending(&connection->output) >= OUTPUT_BUDGET_BYTES) {
            connection->output_budget_reached = true;
            return 0;
        }
        if (thread->pending_output_bytes >= (int64_t)THREAD_OUTPUT_BUDGET_BYTES) {
            /* Another connection's turn first; its writes free the budget, and then
             * this one needs a pass without an event of its own. */
            thread->full_pass_wanted = true;
            return 0;
        }
        if (!engine_may_issue(engine, now_ns)) {
            return 0;
        }
        if (!rate_limiter_take(&thread->limiter, now_ns)) {
            thread->rate_limited = true;
            return 0;
        }
        uint64_t claimed = atomic_fetch_add(&engine->requests_claimed, 1);
        if (params->request_limit != 0 && claimed >= params->request_limit) {
            atomic_store(&engine->issuing_over, true);
            return 0;
        }
        load_operation operation = load_choose_operation(
            params->set_fraction, load_random_unit(load_random_next(&thread->random)));
        uint64_t key_index =
            params->sequential_keys
                ? claimed % params->key_space
                : load_choose_key(params->key_space, load_random_next(&thread->random));
        size_t value_size = 0;
        if (operation == LOAD_OPERATION_SET) {
            value_size =
                load_choose_value_size(&params->value_sizes, load_random_next(&thread->random));
        }
        size_t before = resp_buffer_pending(&connection->output);
        if (queue_request(connection, operation, key_index, value_size, now_ns) != 0) {
            return -1;
        }
        thread->pending_output_bytes +=
            (int64_t)(resp_buffer_pending(&connection->output) - before);
    }
    return 0;
}

/* The next piece of the value being streamed, and its CRLF after the last one. 0, or -1
 * when out of memory (the connection has then failed). */
static int make_stream_piece(load_connection *connection)
{
    size_t left = connection->stream.length - connection->stream.offset;
    size_t piece = left < STREAM_VALUE_PIECE_BYTES ? left : STREAM_VALUE_PIECE_BYTES;
    bool last = piece == left;
    char *room = resp_buffer_append_space(&connection->output, piece + (last ? 2 : 0));
    if (room == NULL) {
        connection_fail(connection, LOAD_ERROR_TRANSPORT,
                        "out of memory making a %zu-byte piece of a value", piece);
        return -1;
    }
    value_pattern_fill_at(connection->stream.seed, connection->stream.offset, room, piece);
    connection->stream.offset += piece;
    if (last) {
        room[piece] = '\r';
        room[piece + 1] = '\n';
        connection->stream.active = false;
    }
    connection->thread->pending_output_bytes += (int64_t)(piece + (last ? 2 : 0));
    if (resp_buffer_pending(&connection->output) > connection->result.peak_output_bytes) {
        connection->result.peak_output_bytes = resp_buffer_pending(&connection->output);
    }
    return 0;
}

static int flush_output(load_connection *connection, int64_t now_ns)
{
    const transport *wire_type = connection->wire_type;
    for (;;) {
        /* A value being streamed is topped up to more than a piece before each write, so
         * the wire can fill the server's free space in one write: waiting until the output
         * ran dry cut each server buffer's worth in two, at a piece boundary. */
        if (connection->stream.active &&
            resp_buffer_pending(&connection->output) < STREAM_VALUE_PIECE_BYTES) {
            if (make_stream_piece(connection) != 0) {
                return -1;
            }
        }
        if (resp_buffer_pending(&connection->output) == 0) {
            break;
        }
        ssize_t written =
            wire_type->write(connection->wire, resp_buffer_pending_data(&connection->output),
                             resp_buffer_pending(&connection->output));
        if (written < 0) {
            char reason[LOAD_ERROR_TEXT_BYTES];
            snprintf(reason, sizeof(reason), "write failed: %s", wire_error(connection));
            connection_wire_lost(connection, reason, now_ns);
            return -1;
        }
        if (written == 0) {
            connection->thread->output_waiting = true;
            return 0;
        }
        resp_buffer_consume(&connection->output, (size_t)written);
        connection->thread->pending_output_bytes -= written;
        connection->result.progress.last_progress_ns = now_ns;
    }
    if (connection->output.capacity > OUTPUT_KEEP_BYTES) {
        resp_buffer_free(&connection->output);
    }
    return 0;
}

static void note_output_peak(load_connection *connection)
{
    uint64_t pending = resp_buffer_pending(&connection->output);
    if (pending > connection->result.peak_output_bytes) {
        connection->result.peak_output_bytes = pending;
    }
}

/* One pass over one connection: tick, follow the wire's state, read, issue, write, and
 * judge stalls. */
static void connection_service(load_connection *connection, int64_t now_ns)
{
    load_engine *engine = connection->engine;
    const transport *wire_type = connection->wire_type;
    load_connection_progress *progress = &connection->result.progress;
    if (connection_finished(connection) || !connection->opened) {
        return;
    }
    if (atomic_exchange(&connection->kill_requested, false) && connection->was_ready) {
        connection->result.churn_kills++;
        connection_reconnect(connection, true, now_ns);
        return;
    }
    wire_type->tick(connection->wire, now_ns);
    switch (wire_type->state(connection->wire)) {
    case TRANSPORT_FAILED:
        connection_wire_lost(connection, wire_error(connection), now_ns);
        return;
    case TRANSPORT_CLOSED: {
        char reason[LOAD_ERROR_TEXT_BYTES];
        snprintf(reason, sizeof(reason),
                 "the server closed the connection with %zu requests outstanding",
                 connection->pending_count);
        connection_wire_lost(connection, reason, now_ns);
        return;
    }
    case TRANSPORT_CONNECTING:
        if (now_ns - connection->opened_ns > engine->connect_bound_ns) {
            connection_fail(connection, LOAD_ERROR_CONNECT, "not connected after %.1f s",
                            (double)(now_ns - connection->opened_ns) / NANOSECONDS_PER_SECOND);
        }
        return;
    case TRANSPORT_READY:
        break;
    }
    if (!connection->was_ready) {
        connection->was_ready = true;
        connection->failed_reconnects = 0;
        progress->state = LOAD_CONNECTION_RUNNING;
        settle_connection(connection);
    }
    if (receive(connection, now_ns) != 0) {
        return;
    }
    /* Issue and write in rounds of at most the output budget; the next round starts only
     * once the wire has taken all of the last, within this pass. */
    for (;;) {
        if (progress->state == LOAD_CONNECTION_RUNNING && load_has_begun(engine, now_ns)) {
            if (issue_requests(connection, now_ns) != 0) {
                return;
            }
            note_output_peak(connection);
            if (!engine_may_issue(engine, now_ns)) {
                progress->state = LOAD_CONNECTION_DRAINING;
            }
        }
        if (flush_output(connection, now_ns) != 0) {
            return;
        }
        if (!connection->output_budget_reached || resp_buffer_pending(&connection->output) > 0 ||
            progress->state != LOAD_CONNECTION_RUNNING) {
            break;
        }
    }
    if (progress->state == LOAD_CONNECTION_DRAINING && connection->pending_count == 0) {
        connection_done(connection);
        return;
    }
    int64_t oldest_sent_ns =
        connection->pending_count ? connection->pending[connection->pending_head].sent_ns : 0;
    if (stall_detector_is_stalled(connection->pending_count, progress->last_progress_ns,
                                  oldest_sent_ns, now_ns, engine->stall_bound_ns)) {
        int64_t waiting =
            stall_detector_waiting_ns(progress->last_progress_ns, oldest_sent_ns, now_ns);
        connection_fail(connection, LOAD_ERROR_STALL,
                        "no progress for %.1f s with %zu requests outstanding",
                        (double)waiting / NANOSECONDS_PER_SECOND, connection->pending_count);
    }
}

/* ---- the event loop ---- */

static void publish_progress(load_thread *thread, int64_t now_ns, bool force)
{
    if (!force && now_ns - thread->last_publish_ns < PROGRESS_PUBLISH_INTERVAL_NS) {
        return;
    }
    thread->last_publish_ns = now_ns;
    pthread_mutex_lock(&thread->engine->lock);
    for (size_t i = 0; i < thread->connection_count; i++) {
        load_connection *connection = thread->connections[i];
        connection->result.progress.outstanding = connection->pending_count;
        connection->result.progress.oldest_sent_ns =
            connection->pending_count ? connection->pending[connection->pending_head].sent_ns : 0;
        connection->published = connection->result.progress;
    }
    pthread_mutex_unlock(&thread->engine->lock);
}

/* Opens connections in order while fewer than CONNECTS_IN_FLIGHT_PER_LOOP are still
 * connecting for the first time (reconnects are not held back). */
static void open_connections(load_thread *thread)
{
    size_t connecting = 0;
    for (size_t i = 0; i < thread->connections_opened; i++) {
        const load_connection *connection = thread->connections[i];
        connecting += !connection->settled && !connection_finished(connection);
    }
    while (thread->connections_opened < thread->connection_count &&
           connecting < CONNECTS_IN_FLIGHT_PER_LOOP) {
        load_connection *connection = thread->connections[thread->connections_opened++];
        if (connection_finished(connection)) {
            continue; /* failed before it could be opened (no event loop) */
        }
        if (atomic_load(&thread->engine->stop_requested)) {
            /* Told to stop before its turn came: it never connects and is done. */
            connection->result.progress.state = LOAD_CONNECTION_DONE;
            settle_connection(connection);
            continue;
        }
        connection->opened = true;
        connection_open_wire(connection);
        connecting += !connection->settled && !connection_finished(connection);
    }
}

/* Thread 0 keeps the churn schedule: every interval it marks the next connections, in
 * turn, to be killed by the threads that own them. */
static void churn_schedule(load_thread *thread, int64_t now_ns)
{
    load_engine *engine = thread->engine;
    if (thread->index != 0 || engine->churn_interval_ns == 0 || !load_has_begun(engine, now_ns) ||
        !engine_may_issue(engine, now_ns)) {
        return;
    }
    if (thread->next_churn_ns == 0) {
        thread->next_churn_ns = atomic_load(&engine->load_start_ns) + engine->churn_interval_ns;
    }
    if (now_ns < thread->next_churn_ns) {
        return;
    }
    for (int i = 0; i < engine->params.churn_connections; i++) {
        size_t victim = (size_t)(engine->churn_cursor++ % (uint64_t)engine->params.connections);
        atomic_store(&engine->connections[victim].kill_requested, true);
    }
    thread->full_pass_wanted = true;
    thread->next_churn_ns += engine->churn_interval_ns;
    if (thread->next_churn_ns <= now_ns) {
        thread->next_churn_ns = now_ns + engine->churn_interval_ns; /* no bursts to catch up */
    }
}

static int loop_wait_ms(const load_thread *thread, int64_t now_ns)
{
    if (thread->more_to_read) {
        return 0;
    }
    if (thread->output_waiting) {
        return LOOP_WAIT_BUSY_MS;
    }
    if (thread->rate_limited) {
        int64_t wait_ns = rate_limiter_wait_ns(&thread->limiter, now_ns);
        int64_t wait_ms = (wait_ns + NANOSECONDS_PER_MILLISECOND - 1) / NANOSECONDS_PER_MILLISECOND;
        if (wait_ms < LOOP_WAIT_BUSY_MS) {
            wait_ms = LOOP_WAIT_BUSY_MS;
        }
        return wait_ms < LOOP_WAIT_MAX_MS ? (int)wait_ms : LOOP_WAIT_MAX_MS;
    }
    return LOOP_WAIT_MAX_MS;
}

/* The loop's wait, cut short so that the churn schedule keeps its time. */
static int next_wait_ms(const load_thread *thread, int64_t now_ns)
{
    int wait_ms = loop_wait_ms(thread, now_ns);
    if (thread->next_churn_ns > now_ns) {
        int64_t churn_ms = (thread->next_churn_ns - now_ns + NANOSECONDS_PER_MILLISECOND - 1) /
                           NANOSECONDS_PER_MILLISECOND;
        if (churn_ms < wait_ms) {
            wait_ms = (int)churn_ms;
        }
    }
    return wait_ms;
}

/* Whether this pass services every connection (FULL_PASS_INTERVAL_NS). */
static bool full_pass_due(load_thread *thread, int64_t now_ns)
{
    load_engine *engine = thread->engine;
    bool begun = load_has_begun(engine, now_ns);
    bool issuing = begun && engine_may_issue(engine, now_ns);
    bool changed = begun != thread->saw_load_begun || issuing != thread->saw_issuing;
    thread->saw_load_begun = begun;
    thread->saw_issuing = issuing;
    return changed || thread->full_pass_wanted || thread->rate_limited ||
           now_ns >= thread->next_full_pass_ns ||
           thread->connections_opened < thread->connection_count;
}

static void *thread_main(void *argument)
{
    load_thread *thread = argument;
    load_engine *engine = thread->engine;
    struct epoll_event events[EPOLL_EVENTS_PER_WAIT];

    if (thread->epoll_fd < 0) {
        for (size_t i = 0; i < thread->connection_count; i++) {
            connection_fail(thread->connections[i], LOAD_ERROR_CONNECT,
                            "its event loop has no epoll set: %s", strerror(-thread->epoll_fd));
        }
    } else {
        open_connections(thread);
    }
    int64_t now_ns = monotonic_ns();
    for (;;) {
        size_t live = 0;
        bool full_pass = full_pass_due(thread, now_ns);
        if (full_pass) {
            thread->next_full_pass_ns = now_ns + FULL_PASS_INTERVAL_NS;
        }
        thread->more_to_read = thread->output_waiting = thread->rate_limited = false;
        thread->full_pass_wanted = false;
        churn_schedule(thread, now_ns);
        for (size_t n = 0; n < thread->connection_count; n++) {
            load_connection *connection =
                thread->connections[(thread->service_start + n) % thread->connection_count];
            if (full_pass || connection->service_wanted) {
                connection->service_wanted = false;
                connection_service(connection, now_ns);
            }
        }
        thread->service_start++;
        /* The ramp goes on as soon as connections settle, before the loop sleeps. */
        if (thread->connections_opened < thread->connection_count && thread->epoll_fd >= 0) {
            open_connections(thread);
        }
        for (size_t i = 0; i < thread->connection_count; i++) {
            live += !connection_finished(thread->connections[i]);
        }
        publish_progress(thread, now_ns, false);
        if (live == 0) {
            break;
        }
        int wait_ms = next_wait_ms(thread, now_ns);
        int ready = epoll_wait(thread->epoll_fd, events, EPOLL_EVENTS_PER_WAIT, wait_ms);
        if (ready <= 0 && wait_ms > 0) {
            thread->full_pass_wanted = true; /* a quiet wait: whatever is due is a timer */
        }
        for (int i = 0; i < ready; i++) {
            transport_watch *watch = events[i].data.ptr;
            load_connection *connection = watch->owner;
            if (!connection_finished(connection)) {
                /* A failure shows in the wire's state, which the service pass reads. */
                watch->transport->handle_event(watch->connection, watch, events[i].events);
                connection->service_wanted = true;
            } else {
                /* A wire kept open after its connection ended (keep_wires_until_destroy):
                 * nobody reads its fd any more, so it must not wake this loop again. */
                epoll_ctl(thread->epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
            }
        }
        now_ns = monotonic_ns();
    }
    for (size_t i = 0; i < thread->connection_count; i++) {
        if (thread->connections[i]->release_deferred) {
            thread->connections[i]->release_deferred = false;
            connection_release(thread->connections[i]);
        }
    }
    publish_progress(thread, monotonic_ns(), true);

    pthread_mutex_lock(&engine->lock);
    engine->threads_finished++;
    pthread_cond_broadcast(&engine->finished_signal);
    pthread_mutex_unlock(&engine->lock);
    return NULL;
}

/* ---- start, progress, stop, wait, results ---- */

static int validate(const load_engine_params *params, const transport *wire_type, char *error,
                    size_t error_size)
{
    const value_size_spec *sizes = &params->value_sizes;
#define REJECT(...)                                                                                \
    do {                                                                                           \
        snprintf(error, error_size, __VA_ARGS__);                                                  \
        return -1;                                                                                 \
    } while (0)
    if (wire_type == NULL) {
        REJECT("unknown transport \"%s\" (expected tcp, rdma or mixed)",
               params->transport_name ? params->transport_name : "(none)");
    }
    if (params->host == NULL || params->host[0] == '\0') {
        REJECT("host must be given");
    }
    if (params->port < 1 || params->port > 65535) {
        REJECT("port %d is not in 1..65535", params->port);
    }
    if (params->connections < 1) {
        REJECT("connections must be at least 1, not %d", params->connections);
    }
    if (params->threads < 1) {
        REJECT("threads must be at least 1, not %d", params->threads);
    }
    if (params->pipeline_depth < 1) {
        REJECT("pipeline depth must be at least 1, not %d", params->pipeline_depth);
    }
    if (!(params->set_fraction >= 0.0 && params->set_fraction <= 1.0)) {
        REJECT("set fraction %g is not in 0..1", params->set_fraction);
    }
    if (params->key_space < 1) {
        REJECT("key space must hold at least 1 key");
    }
    if (params->verify && params->key_space > LOAD_VERIFY_MAX_KEY_SPACE) {
        REJECT("verify mode keeps one bit per key: key space %" PRIu64 " is above %" PRIu64,
               params->key_space, LOAD_VERIFY_MAX_KEY_SPACE);
    }
    if (sizes->size_count == 0 && sizes->minimum > sizes->maximum) {
        REJECT("value size range [%zu, %zu] is empty", sizes->minimum, sizes->maximum);
    }
    if (sizes->size_count > 0 && sizes->sizes == NULL) {
        REJECT("value size list has %zu entries but no array", sizes->size_count);
    }
    if (load_value_size_largest(sizes) > RESP_DEFAULT_MAX_BULK_BYTES) {
        REJECT("value size %zu is above the server's 512 MB bulk limit",
               load_value_size_largest(sizes));
    }
    if (!(params->duration_seconds >= 0.0) || !(params->rate_limit_per_second >= 0.0) ||
        !(params->stall_seconds >= 0.0) || params->connect_timeout_ms < 0) {
        REJECT("duration, rate limit, stall bound and connect timeout must not be negative");
    }
    if (!(params->idle_seconds >= 0.0) || !(params->churn_interval_seconds >= 0.0)) {
        REJECT("idle time and churn interval must not be negative");
    }
    if (params->churn_interval_seconds > 0.0 &&
        (params->churn_connections < 1 || params->churn_connections > params->connections)) {
        REJECT("churn must kill 1 to %d connections at a time, not %d", params->connections,
               params->churn_connections);
    }
#undef REJECT
    return 0;
}

static char *copy_string(const char *text)
{
    size_t length = strlen(text);
    char *copy = malloc(length + 1);
    if (copy != NULL) {
        memcpy(copy, text, length + 1);
    }
    return copy;
}

static void free_engine(load_engine *engine)
{
    engine->destroying = true;
    if (engine->connections != NULL) {
        for (int i = 0; i < engine->params.connections; i++) {
            connection_release(&engine->connections[i]);
            free(engine->connections[i].pending);
        }
    }
    if (engine->threads != NULL) {
        for (int i = 0; i < engine->thread_count; i++) {
            load_thread *thread = &engine->threads[i];
            if (thread->epoll_fd >= 0) {
                close(thread->epoll_fd);
            }
            free(thread->connections);
            free(thread->seconds);
            free(thread->read_chunk);
            free(thread->key_name);
        }
    }
    free(engine->results.seconds);
    free(engine->results.connections);
    free(engine->threads);
    free(engine->connections);
    free(engine->written_keys);
    free(engine->host);
    free(engine->mixed_tcp_host);
    free(engine->key_prefix);
    free(engine->value_sizes);
    pthread_cond_destroy(&engine->finished_signal);
    pthread_mutex_destroy(&engine->lock);
    free(engine);
}

/* Everything the threads need, allocated before any of them starts. */
static int allocate_engine(load_engine *engine, char *error, size_t error_size)
{
    const load_engine_params *params = &engine->params;
    engine->connections = calloc((size_t)params->connections, sizeof(load_connection));
    engine->threads = calloc((size_t)engine->thread_count, sizeof(load_thread));
    if (engine->connections == NULL || engine->threads == NULL) {
        snprintf(error, error_size, "out of memory for %d connections", params->connections);
        return -1;
    }
    size_t key_name_capacity = strlen(engine->key_prefix) + KEY_INDEX_DIGITS;
    double rate_per_connection = params->rate_limit_per_second / params->connections;
    for (int t = 0; t < engine->thread_count; t++) {
        load_thread *thread = &engine->threads[t];
        thread->engine = engine;
        thread->index = t;
        thread->epoll_fd = -1;
        thread->connections = calloc((size_t)params->connections, sizeof(load_connection *));
        thread->read_chunk = malloc(READ_CHUNK_BYTES);
        thread->key_name = malloc(key_name_capacity);
        thread->key_name_capacity = key_name_capacity;
        if (thread->connections == NULL || thread->read_chunk == NULL || thread->key_name == NULL) {
            snprintf(error, error_size, "out of memory for event loop %d", t);
            return -1;
        }
        latency_histogram_init(&thread->latency);
        /* Distinct, reproducible streams per thread from one seed. */
        load_random_seed(&thread->random, params->seed + (uint64_t)t * 0x9e3779b97f4a7c15ull);
    }
    for (int i = 0; i < params->connections; i++) {
        load_connection *connection = &engine->connections[i];
        load_thread *thread = &engine->threads[i % engine->thread_count];
        connection->engine = engine;
        connection->thread = thread;
        connection->wire_type = engine->transport;
        connection->wire_host = engine->host;
        if (engine->transport == NULL) { /* mixed: every other connection over TCP */
            bool over_tcp = i % 2 == 1;
            connection->wire_type = transport_by_name(over_tcp ? "tcp" : "rdma");
            connection->wire_host = over_tcp ? engine->mixed_tcp_host : engine->host;
        }
        thread->connections[thread->connection_count++] = connection;
        connection->pending = calloc((size_t)params->pipeline_depth, sizeof(pending_request));
        if (connection->pending == NULL) {
            snprintf(error, error_size, "out of memory for a pipeline of %d",
                     params->pipeline_depth);
            return -1;
        }
        resp_buffer_init(&connection->output);
        load_connection_progress *progress = &connection->result.progress;
        progress->index = i;
        progress->state = LOAD_CONNECTION_CONNECTING;
        snprintf(progress->name, sizeof(progress->name), "connection %d (%s %s:%d)", i,
                 connection->wire_type->name, connection->wire_host, params->port);
        connection->published = *progress;
    }
    for (int t = 0; t < engine->thread_count; t++) {
        load_thread *thread = &engine->threads[t];
        double share = rate_per_connection * (double)thread->connection_count;
        rate_limiter_init(&thread->limiter, share, share * RATE_BURST_SECONDS, 0);
    }
    if (params->verify) {
        size_t words = (size_t)((params->key_space + KEYS_PER_WORD - 1) / KEYS_PER_WORD);
        engine->written_keys = calloc(words, sizeof(*engine->written_keys));
        if (engine->written_keys == NULL) {
            snprintf(error, error_size, "out of memory for the written-key bitmap");
            return -1;
        }
    }
    return 0;
}

load_engine *load_engine_start(const load_engine_params *params, char *error, size_t error_size)
{
    bool mixed = params->transport == NULL && params->transport_name != NULL &&
                 strcmp(params->transport_name, LOAD_TRANSPORT_MIXED) == 0;
    const transport *wire_type =
        params->transport != NULL
            ? params->transport
            : (params->transport_name != NULL ? transport_by_name(params->transport_name) : NULL);
    if (mixed && (transport_by_name("tcp") == NULL || transport_by_name("rdma") == NULL)) {
        snprintf(error, error_size, "mixed transports need both tcp and rdma in this build");
        return NULL;
    }
    if (validate(params, mixed ? transport_by_name("rdma") : wire_type, error, error_size) != 0) {
        return NULL;
    }
    load_engine *engine = calloc(1, sizeof(*engine));
    if (engine == NULL) {
        snprintf(error, error_size, "out of memory for the load engine");
        return NULL;
    }
    pthread_mutex_init(&engine->lock, NULL);
    pthread_condattr_t condition_attributes;
    pthread_condattr_init(&condition_attributes);
    pthread_condattr_setclock(&condition_attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&engine->finished_signal, &condition_attributes);
    pthread_condattr_destroy(&condition_attributes);

    engine->params = *params;
    engine->transport = wire_type;
    engine->thread_count =
        params->threads < params->connections ? params->threads : params->connections;
    engine->host = copy_string(params->host);
    engine->mixed_tcp_host =
        copy_string(params->mixed_tcp_host != NULL ? params->mixed_tcp_host : params->host);
    engine->churn_interval_ns = (int64_t)(params->churn_interval_seconds * NANOSECONDS_PER_SECOND);
    engine->key_prefix =
        copy_string(params->key_prefix != NULL ? params->key_prefix : LOAD_DEFAULT_KEY_PREFIX);
    const value_size_spec *sizes = &params->value_sizes;
    if (sizes->size_count > 0) {
        engine->value_sizes = malloc(sizes->size_count * sizeof(size_t));
        if (engine->value_sizes != NULL) {
            memcpy(engine->value_sizes, sizes->sizes, sizes->size_count * sizeof(size_t));
        }
        engine->params.value_sizes.sizes = engine->value_sizes;
    }
    engine->params.host = engine->host;
    engine->params.mixed_tcp_host = engine->mixed_tcp_host;
    engine->params.key_prefix = engine->key_prefix;
    if (engine->params.rdma_rx_bytes == 0) {
        engine->params.rdma_rx_bytes = TRANSPORT_DEFAULT_RDMA_RX_BYTES;
    }
    if (engine->params.connect_timeout_ms == 0) {
        engine->params.connect_timeout_ms = TRANSPORT_DEFAULT_CONNECT_TIMEOUT_MS;
    }
    if (engine->params.stall_seconds == 0.0) {
        engine->params.stall_seconds = LOAD_DEFAULT_STALL_SECONDS;
    }
    if (engine->host == NULL || engine->mixed_tcp_host == NULL || engine->key_prefix == NULL ||
        (sizes->size_count > 0 && engine->value_sizes == NULL)) {
        snprintf(error, error_size, "out of memory copying the parameters");
        free_engine(engine);
        return NULL;
    }
    engine->stall_bound_ns = (int64_t)(engine->params.stall_seconds * NANOSECONDS_PER_SECOND);
    engine->connect_bound_ns =
        (int64_t)engine->params.connect_timeout_ms * NANOSECONDS_PER_MILLISECOND +
        CONNECT_BACKSTOP_NS;
    if (allocate_engine(engine, error, error_size) != 0) {
        free_engine(engine);
        return NULL;
    }

    engine->start_ns = monotonic_ns();
    for (int t = 0; t < engine->thread_count; t++) {
        load_thread *thread = &engine->threads[t];
        thread->limiter.last_refill_ns = engine->start_ns;
        thread->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (thread->epoll_fd < 0) {
            thread->epoll_fd = -errno; /* thread_main reports it per connection */
        }
        int created = pthread_create(&thread->handle, NULL, thread_main, thread);
        if (created != 0) {
            /* Its connections can never run: report them and count the loop as finished. */
            for (size_t i = 0; i < thread->connection_count; i++) {
                connection_fail(thread->connections[i], LOAD_ERROR_CONNECT,
                                "could not start its event loop: %s", strerror(created));
                thread->connections[i]->published = thread->connections[i]->result.progress;
            }
            pthread_mutex_lock(&engine->lock);
            engine->threads_finished++;
            pthread_mutex_unlock(&engine->lock);
            continue;
        }
        thread->started = true;
    }
    return engine;
}

size_t load_engine_progress(load_engine *engine, load_connection_progress *out, size_t capacity)
{
    size_t count = (size_t)engine->params.connections;
    pthread_mutex_lock(&engine->lock);
    for (size_t i = 0; i < count && i < capacity; i++) {
        out[i] = engine->connections[i].published;
    }
    pthread_mutex_unlock(&engine->lock);
    return count;
}

void load_engine_stop(load_engine *engine)
{
    atomic_store(&engine->stop_requested, true);
}

static void build_results(load_engine *engine)
{
    load_results *results = &engine->results;
    int64_t load_start_ns = atomic_load(&engine->load_start_ns);
    int64_t load_end_ns = atomic_load(&engine->load_end_ns);
    int64_t elapsed_ns = (load_end_ns ? load_end_ns : monotonic_ns()) -
                         (load_start_ns ? load_start_ns : engine->start_ns);
    /* Stopped while the connections were still held idle: no load time at all. */
    results->elapsed_seconds = elapsed_ns > 0 ? (double)elapsed_ns / NANOSECONDS_PER_SECOND : 0.0;
    latency_histogram_init(&results->latency);
    results->connection_count = (size_t)engine->params.connections;
    results->connections = calloc(results->connection_count, sizeof(load_connection_result));
    size_t second_count = 0;
    for (int t = 0; t < engine->thread_count; t++) {
        load_thread *thread = &engine->threads[t];
        latency_histogram_merge(&results->latency, &thread->latency);
        if (thread->second_count > second_count) {
            second_count = thread->second_count;
        }
    }
    results->seconds = calloc(second_count ? second_count : 1, sizeof(load_second_sample));
    if (results->seconds != NULL) {
        results->second_count = second_count;
        for (int t = 0; t < engine->thread_count; t++) {
            load_thread *thread = &engine->threads[t];
            for (size_t s = 0; s < thread->second_count; s++) {
                results->seconds[s].requests += thread->seconds[s].requests;
                results->seconds[s].value_bytes += thread->seconds[s].value_bytes;
            }
        }
    }
    for (size_t i = 0; i < results->connection_count; i++) {
        const load_connection_result *source = &engine->connections[i].result;
        if (results->connections != NULL) {
            results->connections[i] = *source;
        }
        results->requests_sent += source->progress.requests_sent;
        results->replies += source->progress.replies;
        results->sets += source->sets;
        results->gets += source->gets;
        results->get_hits += source->get_hits;
        results->get_misses += source->get_misses;
        results->verified_gets += source->verified_gets;
        results->error_replies += source->error_replies;
        results->churn_kills += source->churn_kills;
        results->server_disconnects += source->server_disconnects;
        results->requests_lost += source->requests_lost;
        results->keepalives_received += source->counters.keepalives_received;
        if (source->progress.state == LOAD_CONNECTION_FAILED) {
            results->failed_connections++;
            results->errors[source->progress.error_class]++;
        }
    }
    if (results->connections == NULL) {
        results->connection_count = 0;
    }
    for (size_t s = 0; s < results->second_count; s++) {
        results->value_bytes += results->seconds[s].value_bytes;
    }
}

int load_engine_wait(load_engine *engine, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int64_t deadline_ns = (int64_t)deadline.tv_sec * NANOSECONDS_PER_SECOND + deadline.tv_nsec +
                          (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * NANOSECONDS_PER_MILLISECOND;
    deadline.tv_sec = (time_t)(deadline_ns / NANOSECONDS_PER_SECOND);
    deadline.tv_nsec = (long)(deadline_ns % NANOSECONDS_PER_SECOND);

    pthread_mutex_lock(&engine->lock);
    while (engine->threads_finished < engine->thread_count) {
        if (pthread_cond_timedwait(&engine->finished_signal, &engine->lock, &deadline) ==
            ETIMEDOUT) {
            break;
        }
    }
    bool finished = engine->threads_finished == engine->thread_count;
    pthread_mutex_unlock(&engine->lock);
    if (!finished) {
        return -1;
    }
    if (!engine->joined) {
        for (int t = 0; t < engine->thread_count; t++) {
            if (engine->threads[t].started) {
                pthread_join(engine->threads[t].handle, NULL);
            }
        }
        engine->joined = true;
        build_results(engine);
    }
    return 0;
}

const load_results *load_engine_results(const load_engine *engine)
{
    return engine->joined ? &engine->results : NULL;
}

void load_engine_destroy(load_engine *engine)
{
    if (engine == NULL) {
        return;
    }
    load_engine_stop(engine);
    /* Each connection ends within its connect or stall bound once stopped, so this loop
     * ends; waiting in slices keeps each individual wait bounded. */
    while (load_engine_wait(engine, LOOP_WAIT_MAX_MS * 10) != 0) {
    }
    free_engine(engine);
}
