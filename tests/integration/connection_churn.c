/*
 * connection_churn: opens and closes many connections to a real server in one process,
 * each carrying one SET and one GET checked byte by byte, and proves that nothing stays
 * behind. It counts, before the churn, after every batch and at the end:
 *   - the process's open file descriptors (/proc/self/fd);
 *   - what the RDMA transport says it holds (transport_rdma_live_resources);
 *   - as an independent witness, what the kernel holds for this process
 *     (`rdma -j resource show TYPE`: cm_id, pd, mr, cq, qp, ctx).
 * The baseline is taken after one warm-up connection per wire, because the first RDMA
 * connection opens the device for good (librdmacm keeps its verbs context).
 *
 * It also proves that the counts can see a leak: while the first RDMA batch is open, every
 * transport counter and the kernel's count must equal what that many connections hold.
 * --plant-leak leaves the last RDMA connection open, for the test that shows a leak fails.
 *
 * usage: connection_churn --rdma-host ADDR --tcp-host ADDR [--port N] [--rdma N] [--tcp N]
 *                         [--at-once N] [--rx-buffer BYTES] [--deadline SECONDS]
 *                         [--plant-leak]
 * exit: 0 every connection did its round trips and nothing leaked; 1 a failed connection,
 *       a wrong reply, a leak or the deadline; 2 bad usage.
 */
#include "monotonic_clock.h"
#include "transport.h"
#include "transport_rdma.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define EXIT_CLEAN 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

#define DEFAULT_PORT 6379
#define DEFAULT_RDMA_CONNECTIONS 1000
#define DEFAULT_TCP_CONNECTIONS 200
#define DEFAULT_AT_ONCE 8
/* The whole run must end within this; a connection that hangs fails it, never stalls it. */
#define DEFAULT_DEADLINE_SECONDS 300
/* Each batch of connections gets this long for connect, SET, GET. */
#define BATCH_DEADLINE_MS 20000
/* tick must run at least every 100 ms (transport.h); wake up twice as often. */
#define POLL_INTERVAL_MS 50
#define MAX_EVENTS 64
#define VALUE_BYTES 1000
#define MAX_AT_ONCE 256
/* Progress is printed every this many connections. */
#define REPORT_EVERY 100
/* The kernel witness: the rdma tool gets this long to answer. */
#define RDMA_TOOL_TIMEOUT_MS 10000
#define RDMA_TOOL_OUTPUT_MAX ((size_t)4 << 20)
/* Memory regions per RDMA connection: control messages, receive buffer, send buffer. */
#define MRS_PER_RDMA_CONNECTION 3
/* fds per RDMA connection: the CM event channel and the completion channel. */
#define FDS_PER_RDMA_CONNECTION 2

typedef enum churn_step {
    STEP_CONNECTING,
    STEP_SET,
    STEP_GET,
    STEP_DONE,
    STEP_FAILED,
} churn_step;

typedef struct churn_connection {
    transport_connection *wire;
    churn_step step;
    char request[VALUE_BYTES + 128];
    size_t request_length, sent;
    char reply[VALUE_BYTES + 32];
    size_t reply_length, received;
    char value[VALUE_BYTES];
    char key[32];
    int64_t opened_ns, ready_ns, done_ns;
} churn_connection;

/* Kernel objects of this process, by `rdma resource show` type. */
static const char *const kernel_types[] = {"cm_id", "pd", "mr", "cq", "qp", "ctx"};
#define KERNEL_TYPE_COUNT (sizeof(kernel_types) / sizeof(kernel_types[0]))

typedef struct snapshot {
    int fds;
    transport_rdma_resources live;
    bool kernel_known;
    long kernel[KERNEL_TYPE_COUNT];
} snapshot;

typedef struct churn {
    const char *rdma_host, *tcp_host;
    int port;
    long rdma_count, tcp_count;
    int at_once;
    size_t rx_bytes;
    int64_t deadline_ns;
    bool plant_leak;
    int epoll_fd;
    long failures;
    long connections_done;
    bool peak_checked;
    bool warming_up; /* no baseline yet: nothing to compare with */
    int leaks_seen;  /* batches after which something was still held */
    /* Where the time goes, summed over the connections that did their round trips. */
    double open_ms, connect_ms, round_trips_ms, close_ms;
} churn;

static int open_fd_count(void)
{
    int count = 0;
    DIR *directory = opendir("/proc/self/fd");
    if (directory == NULL)
        return -1;
    for (struct dirent *entry; (entry = readdir(directory)) != NULL;)
        count += entry->d_name[0] != '.';
    closedir(directory);
    return count - 1; /* the directory's own fd */
}

/* Runs `rdma -j resource show TYPE` (no shell), bounded; its stdout in *out (malloc'd). */
static int run_rdma_tool(const char *type, char **out)
{
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"rdma", "-j", "resource", "show", (char *)type, NULL};
    pid_t child = -1;
    int spawned = posix_spawnp(&child, "rdma", &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    if (spawned != 0) {
        close(pipe_fds[0]);
        return -1;
    }
    size_t length = 0, capacity = 4096;
    char *text = malloc(capacity);
    int64_t deadline = monotonic_ns() + (int64_t)RDMA_TOOL_TIMEOUT_MS * 1000000;
    bool ok = text != NULL;
    while (ok) {
        int64_t left_ms = (deadline - monotonic_ns()) / 1000000;
        struct pollfd readable = {.fd = pipe_fds[0], .events = POLLIN};
        int ready = left_ms > 0 ? poll(&readable, 1, (int)left_ms) : 0;
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            ok = false; /* the tool did not answer in time */
            break;
        }
        if (length + 1 == capacity) {
            char *grown = capacity < RDMA_TOOL_OUTPUT_MAX ? realloc(text, capacity * 2) : NULL;
            if (grown == NULL) {
                ok = false;
                break;
            }
            text = grown;
            capacity *= 2;
        }
        ssize_t got = read(pipe_fds[0], text + length, capacity - 1 - length);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        length += (size_t)got;
    }
    close(pipe_fds[0]);
    if (!ok)
        kill(child, SIGKILL);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(text);
        return -1;
    }
    text[length] = '\0';
    *out = text;
    return 0;
}

/* How many objects of TYPE the kernel holds for this process; -1 when it cannot say. */
static long kernel_object_count(const char *type)
{
    char *text = NULL;
    if (run_rdma_tool(type, &text) != 0)
        return -1;
    json_error_t error;
    json_t *list = json_loads(text, 0, &error);
    free(text);
    if (!json_is_array(list)) {
        json_decref(list);
        return -1;
    }
    long count = 0;
    json_int_t self = (json_int_t)getpid();
    size_t index;
    json_t *entry;
    json_array_foreach(list, index, entry)
    {
        json_t *pid = json_object_get(entry, "pid");
        count += json_is_integer(pid) && json_integer_value(pid) == self;
    }
    json_decref(list);
    return count;
}

static void take_snapshot(snapshot *out, bool with_kernel)
{
    memset(out, 0, sizeof(*out));
    out->fds = open_fd_count();
    transport_rdma_live_resources(&out->live);
    out->kernel_known = with_kernel;
    for (size_t i = 0; with_kernel && i < KERNEL_TYPE_COUNT; i++) {
        out->kernel[i] = kernel_object_count(kernel_types[i]);
        if (out->kernel[i] < 0)
            out->kernel_known = false;
    }
}

static void print_live(const char *label, const transport_rdma_resources *live)
{
    printf("%s: connections %" PRId64 " event_channels %" PRId64 " cm_ids %" PRId64 " pds %" PRId64
           " mrs %" PRId64 " comp_channels %" PRId64 " cqs %" PRId64 " qps %" PRId64 "\n",
           label, live->connections, live->event_channels, live->cm_ids, live->protection_domains,
           live->memory_regions, live->completion_channels, live->completion_queues,
           live->queue_pairs);
}

static void print_kernel(const char *label, const snapshot *shot)
{
    if (!shot->kernel_known) {
        printf("%s: unknown (`rdma -j resource show` did not answer)\n", label);
        return;
    }
    printf("%s:", label);
    for (size_t i = 0; i < KERNEL_TYPE_COUNT; i++)
        printf(" %s %ld", kernel_types[i], shot->kernel[i]);
    printf("\n");
}

static int64_t live_total(const transport_rdma_resources *live)
{
    return live->connections + live->event_channels + live->cm_ids + live->protection_domains +
           live->memory_regions + live->completion_channels + live->completion_queues +
           live->queue_pairs;
}

static void prepare(churn_connection *connection, const char *wire_name, long number)
{
    memset(connection, 0, sizeof(*connection));
    snprintf(connection->key, sizeof(connection->key), "churn:%s:%ld", wire_name, number);
    /* A value that differs per connection: a reply meant for another shows as a mismatch. */
    for (size_t i = 0; i < VALUE_BYTES; i++)
        connection->value[i] = (char)('a' + (number + (long)i) % 26);
    connection->step = STEP_CONNECTING;
}

static void start_step(churn_connection *connection, churn_step step)
{
    size_t key_length = strlen(connection->key);
    connection->step = step;
    connection->sent = connection->received = 0;
    if (step == STEP_SET) {
        int header = snprintf(connection->request, sizeof(connection->request),
                              "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%d\r\n", key_length,
                              connection->key, VALUE_BYTES);
        memcpy(connection->request + header, connection->value, VALUE_BYTES);
        memcpy(connection->request + header + VALUE_BYTES, "\r\n", 2);
        connection->request_length = (size_t)header + VALUE_BYTES + 2;
        connection->reply_length =
            (size_t)snprintf(connection->reply, sizeof(connection->reply), "+OK\r\n");
    } else if (step == STEP_GET) {
        connection->request_length =
            (size_t)snprintf(connection->request, sizeof(connection->request),
                             "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", key_length, connection->key);
        int header = snprintf(connection->reply, sizeof(connection->reply), "$%d\r\n", VALUE_BYTES);
        memcpy(connection->reply + header, connection->value, VALUE_BYTES);
        memcpy(connection->reply + header + VALUE_BYTES, "\r\n", 2);
        connection->reply_length = (size_t)header + VALUE_BYTES + 2;
    }
}

static void fail_connection(churn *run, churn_connection *connection, const char *wire_name,
                            const char *what)
{
    fprintf(stderr, "connection_churn: %s %s: %s\n", wire_name, connection->key, what);
    connection->step = STEP_FAILED;
    run->failures++;
}

/* Moves one connection as far as its wire allows: connect, SET, GET, each reply checked. */
static void advance(churn *run, const transport *wire, churn_connection *connection)
{
    if (connection->step == STEP_DONE || connection->step == STEP_FAILED)
        return;
    wire->tick(connection->wire, monotonic_ns());
    transport_state state = wire->state(connection->wire);
    if (state == TRANSPORT_FAILED || state == TRANSPORT_CLOSED) {
        fail_connection(run, connection, wire->name, wire->error(connection->wire));
        return;
    }
    if (state == TRANSPORT_CONNECTING)
        return;
    if (connection->step == STEP_CONNECTING) {
        connection->ready_ns = monotonic_ns();
        start_step(connection, STEP_SET);
    }
    for (;;) {
        while (connection->sent < connection->request_length) {
            ssize_t accepted = wire->write(connection->wire, connection->request + connection->sent,
                                           connection->request_length - connection->sent);
            if (accepted < 0) {
                fail_connection(run, connection, wire->name, wire->error(connection->wire));
                return;
            }
            if (accepted == 0)
                break;
            connection->sent += (size_t)accepted;
        }
        char incoming[sizeof(connection->reply)];
        size_t wanted = connection->reply_length - connection->received;
        ssize_t got = wire->read(connection->wire, incoming, wanted);
        if (got < 0) {
            fail_connection(run, connection, wire->name, wire->error(connection->wire));
            return;
        }
        if (got == 0)
            return;
        if (memcmp(incoming, connection->reply + connection->received, (size_t)got) != 0) {
            fail_connection(run, connection, wire->name,
                            connection->step == STEP_SET ? "SET was not answered +OK"
                                                         : "GET returned other bytes than SET");
            return;
        }
        connection->received += (size_t)got;
        if (connection->received < connection->reply_length)
            continue;
        if (connection->step == STEP_SET) {
            start_step(connection, STEP_GET);
            continue;
        }
        connection->step = STEP_DONE;
        connection->done_ns = monotonic_ns();
        return;
    }
}

static void dispatch_events(int epoll_fd)
{
    struct epoll_event events[MAX_EVENTS];
    int count = epoll_wait(epoll_fd, events, MAX_EVENTS, POLL_INTERVAL_MS);
    for (int i = 0; i < count; i++) {
        transport_watch *watch = events[i].data.ptr;
        watch->transport->handle_event(watch->connection, watch, events[i].events);
    }
}

static bool batch_settled(const churn_connection *connections, int count, bool *all_ready,
                          const transport *wire)
{
    bool settled = true;
    *all_ready = true;
    for (int i = 0; i < count; i++) {
        churn_step step = connections[i].step;
        settled &= step == STEP_DONE || step == STEP_FAILED;
        *all_ready &=
            connections[i].wire != NULL && wire->state(connections[i].wire) == TRANSPORT_READY;
    }
    return settled;
}

/* With every connection of the first RDMA batch open, each counter must show them all:
 * a counter that never moves would otherwise pass every leak check. */
static void check_counts_while_open(churn *run, int open_count, const snapshot *baseline)
{
    snapshot shot;
    take_snapshot(&shot, true);
    int64_t n = open_count;
    transport_rdma_resources *live = &shot.live;
    printf("while %d RDMA connections were open: fds %d (baseline %d)\n", open_count, shot.fds,
           baseline->fds);
    print_live("  transport holds", live);
    print_kernel("  kernel holds for this process", &shot);
    bool counted = live->connections == n && live->event_channels == n && live->cm_ids == n &&
                   live->protection_domains == n && live->memory_regions == 3 * n &&
                   live->completion_channels == n && live->completion_queues == n &&
                   live->queue_pairs == n &&
                   shot.fds - baseline->fds == FDS_PER_RDMA_CONNECTION * open_count;
    if (shot.kernel_known && baseline->kernel_known) {
        /* cm_id mr cq qp: one each per connection, three memory regions; ctx: none new.
         * pd: one per connection, plus the one librdmacm allocates for the device while any
         * of its cm_ids is bound to it (and frees with the last). */
        long expected[KERNEL_TYPE_COUNT] = {n, n + 1, MRS_PER_RDMA_CONNECTION * n, n, n, 0};
        for (size_t i = 0; i < KERNEL_TYPE_COUNT; i++)
            counted &= shot.kernel[i] - baseline->kernel[i] == expected[i];
    }
    if (!counted) {
        fprintf(stderr,
                "connection_churn: FAIL: the counts do not show the %d open connections "
                "(expected 1 of each per connection, 3 mrs and 2 fds)\n",
                open_count);
        run->failures++;
    }
    run->peak_checked = true;
}

static bool compare_with_baseline(churn *run, const char *when, const snapshot *baseline,
                                  bool with_kernel)
{
    snapshot shot;
    take_snapshot(&shot, with_kernel);
    bool clean = shot.fds == baseline->fds && live_total(&shot.live) == 0;
    if (with_kernel && shot.kernel_known && baseline->kernel_known) {
        for (size_t i = 0; i < KERNEL_TYPE_COUNT; i++)
            clean &= shot.kernel[i] == baseline->kernel[i];
    }
    if (!clean || with_kernel) {
        printf("%s: fds %d (baseline %d, leaked %d)\n", when, shot.fds, baseline->fds,
               shot.fds - baseline->fds);
        print_live("  transport still holds", &shot.live);
        if (with_kernel) {
            print_kernel("  kernel holds for this process", &shot);
            print_kernel("  kernel baseline", baseline);
        }
    }
    if (!clean) {
        fprintf(stderr, "connection_churn: FAIL: %s: resources leaked (see above)\n", when);
        run->leaks_seen++;
    }
    return clean;
}

/* count connections of one wire, at_once at a time, each closed after its GET. */
static void churn_wire(churn *run, const transport *wire, const char *host, long count,
                       const snapshot *baseline)
{
    churn_connection *connections = calloc((size_t)run->at_once, sizeof(*connections));
    if (connections == NULL) {
        fprintf(stderr, "connection_churn: out of memory\n");
        run->failures++;
        return;
    }
    transport_options options = {.host = host,
                                 .port = run->port,
                                 .rdma_rx_bytes = run->rx_bytes,
                                 .connect_timeout_ms = TRANSPORT_DEFAULT_CONNECT_TIMEOUT_MS};
    int64_t started = monotonic_ns();
    long done_before = run->connections_done;
    run->open_ms = run->connect_ms = run->round_trips_ms = run->close_ms = 0;
    for (long first = 0; first < count; first += run->at_once) {
        int batch = count - first < run->at_once ? (int)(count - first) : run->at_once;
        for (int i = 0; i < batch; i++) {
            churn_connection *connection = &connections[i];
            prepare(connection, wire->name, first + i);
            char error[320];
            connection->opened_ns = monotonic_ns();
            connection->wire = wire->open(&options, run->epoll_fd, error, sizeof(error));
            run->open_ms += (double)(monotonic_ns() - connection->opened_ns) / 1e6;
            if (connection->wire == NULL)
                fail_connection(run, connection, wire->name, error);
        }
        int64_t batch_deadline = monotonic_ns() + (int64_t)BATCH_DEADLINE_MS * 1000000;
        bool all_ready = false;
        for (;;) {
            for (int i = 0; i < batch; i++)
                advance(run, wire, &connections[i]);
            bool settled = batch_settled(connections, batch, &all_ready, wire);
            if (wire == &transport_rdma && !run->peak_checked && all_ready)
                check_counts_while_open(run, batch, baseline);
            if (settled)
                break;
            int64_t now = monotonic_ns();
            if (now >= batch_deadline || now >= run->deadline_ns) {
                for (int i = 0; i < batch; i++) {
                    if (connections[i].step != STEP_DONE && connections[i].step != STEP_FAILED)
                        fail_connection(run, &connections[i], wire->name,
                                        "no SET and GET within the deadline");
                }
                break;
            }
            dispatch_events(run->epoll_fd);
        }
        for (int i = 0; i < batch; i++) {
            if (connections[i].step == STEP_DONE) {
                run->connections_done++;
                run->connect_ms +=
                    (double)(connections[i].ready_ns - connections[i].opened_ns) / 1e6;
                run->round_trips_ms +=
                    (double)(connections[i].done_ns - connections[i].ready_ns) / 1e6;
            }
            bool keep = run->plant_leak && wire == &transport_rdma && first + i == count - 1;
            if (keep) {
                printf("planted leak: %s %s left open\n", wire->name, connections[i].key);
                continue; /* deliberately never closed */
            }
            int64_t closing = monotonic_ns();
            if (connections[i].wire != NULL)
                wire->close(connections[i].wire);
            run->close_ms += (double)(monotonic_ns() - closing) / 1e6;
        }
        long finished = first + batch;
        char when[96];
        snprintf(when, sizeof(when), "%s after %ld of %ld connections", wire->name, finished,
                 count);
        /* After every batch: a leak is named at the batch that made it. Quietly when clean. */
        if (!run->warming_up && (!run->plant_leak || finished < count))
            compare_with_baseline(run, when, baseline, false);
        if (!run->warming_up && (finished % REPORT_EVERY == 0 || finished == count)) {
            double seconds = (double)(monotonic_ns() - started) / 1e9;
            long done_here = run->connections_done - done_before;
            double done = done_here > 0 ? (double)done_here : 1.0;
            printf("%s: %ld of %ld connections done, %.1f s, %.1f ms each (per connection: "
                   "open %.1f ms, connect %.1f ms, SET+GET %.1f ms, close %.1f ms), failed so "
                   "far %ld\n",
                   wire->name, finished, count, seconds, seconds * 1e3 / (double)finished,
                   run->open_ms / done, run->connect_ms / done, run->round_trips_ms / done,
                   run->close_ms / done, run->failures);
        }
        if (monotonic_ns() >= run->deadline_ns) {
            fprintf(stderr,
                    "connection_churn: FAIL: the overall deadline passed after %ld "
                    "%s connections\n",
                    finished, wire->name);
            run->failures++;
            break;
        }
    }
    free(connections);
}

/* One connection per wire before the baseline: libraries and the RDMA device open once. */
static void warm_up(churn *run)
{
    churn warm = *run;
    warm.plant_leak = false;
    warm.peak_checked = true;
    warm.warming_up = true;
    warm.at_once = 1;
    snapshot ignored = {0};
    if (run->rdma_count > 0)
        churn_wire(&warm, &transport_rdma, run->rdma_host, 1, &ignored);
    if (run->tcp_count > 0)
        churn_wire(&warm, &transport_tcp, run->tcp_host, 1, &ignored);
    run->failures += warm.failures;
}

static int usage(const char *message)
{
    fprintf(stderr,
            "connection_churn: %s\nusage: connection_churn --rdma-host ADDR --tcp-host ADDR "
            "[--port N] [--rdma N] [--tcp N] [--at-once N] [--rx-buffer BYTES] "
            "[--deadline SECONDS] [--plant-leak]\n",
            message);
    return EXIT_USAGE;
}

static bool parse_number(const char *text, long minimum, long maximum, long *out)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < minimum || value > maximum)
        return false;
    *out = value;
    return true;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    churn run = {.port = DEFAULT_PORT,
                 .rdma_count = DEFAULT_RDMA_CONNECTIONS,
                 .tcp_count = DEFAULT_TCP_CONNECTIONS,
                 .at_once = DEFAULT_AT_ONCE};
    long deadline_seconds = DEFAULT_DEADLINE_SECONDS, number = 0;
    enum { RDMA_HOST = 256, TCP_HOST, PORT, RDMA, TCP, AT_ONCE, RX, DEADLINE, PLANT };
    static const struct option options[] = {
        {"rdma-host", required_argument, NULL, RDMA_HOST},
        {"tcp-host", required_argument, NULL, TCP_HOST},
        {"port", required_argument, NULL, PORT},
        {"rdma", required_argument, NULL, RDMA},
        {"tcp", required_argument, NULL, TCP},
        {"at-once", required_argument, NULL, AT_ONCE},
        {"rx-buffer", required_argument, NULL, RX},
        {"deadline", required_argument, NULL, DEADLINE},
        {"plant-leak", no_argument, NULL, PLANT},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    for (int option; (option = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (option) {
        case RDMA_HOST:
            run.rdma_host = optarg;
            break;
        case TCP_HOST:
            run.tcp_host = optarg;
            break;
        case PORT:
            if (!parse_number(optarg, 1, 65535, &number))
                return usage("--port must be 1 to 65535");
            run.port = (int)number;
            break;
        case RDMA:
            if (!parse_number(optarg, 0, 1000000, &run.rdma_count))
                return usage("--rdma must be a count");
            break;
        case TCP:
            if (!parse_number(optarg, 0, 1000000, &run.tcp_count))
                return usage("--tcp must be a count");
            break;
        case AT_ONCE:
            if (!parse_number(optarg, 1, MAX_AT_ONCE, &number))
                return usage("--at-once must be 1 to 256");
            run.at_once = (int)number;
            break;
        case RX:
            if (!parse_number(optarg, 0, 1L << 30, &number))
                return usage("--rx-buffer must be bytes");
            run.rx_bytes = (size_t)number;
            break;
        case DEADLINE:
            if (!parse_number(optarg, 1, 86400, &deadline_seconds))
                return usage("--deadline must be seconds");
            break;
        case PLANT:
            run.plant_leak = true;
            break;
        default:
            return usage("unknown option or missing value");
        }
    }
    if (optind < argc || (run.rdma_count > 0 && run.rdma_host == NULL) ||
        (run.tcp_count > 0 && run.tcp_host == NULL))
        return usage("each wire with connections needs its host");

    run.deadline_ns = monotonic_ns() + (int64_t)deadline_seconds * 1000000000;
    run.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (run.epoll_fd < 0) {
        perror("connection_churn: epoll_create1");
        return EXIT_FAILED;
    }
    int64_t started = monotonic_ns();
    warm_up(&run);
    snapshot baseline;
    take_snapshot(&baseline, true);
    printf("baseline, after one warm-up connection per wire: fds %d\n", baseline.fds);
    print_live("  transport holds", &baseline.live);
    print_kernel("  kernel holds for this process", &baseline);

    long warm_failures = run.failures;
    if (run.rdma_count > 0)
        churn_wire(&run, &transport_rdma, run.rdma_host, run.rdma_count, &baseline);
    if (run.tcp_count > 0)
        churn_wire(&run, &transport_tcp, run.tcp_host, run.tcp_count, &baseline);

    bool clean = compare_with_baseline(&run, "at the end", &baseline, true);
    if (!clean && run.leaks_seen > 1)
        printf("resources were still held after %d batches\n", run.leaks_seen);
    printf("connections: %ld rdma and %ld tcp, %ld with SET and GET verified, %ld failed "
           "(warm-up: %ld); %.1f s\n",
           run.rdma_count, run.tcp_count, run.connections_done, run.failures - warm_failures,
           warm_failures, (double)(monotonic_ns() - started) / 1e9);
    if (run.rdma_count > 0 && !run.peak_checked) {
        fprintf(stderr, "connection_churn: FAIL: no RDMA batch was ever fully open, so the "
                        "counts were never shown to move\n");
        run.failures++;
    }
    close(run.epoll_fd);
    bool passed = clean && run.leaks_seen == 0 && run.failures == 0;
    printf("%s\n", passed ? "PASS: nothing leaked" : "FAIL");
    return passed ? EXIT_CLEAN : EXIT_FAILED;
}
