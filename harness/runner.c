#include "runner.h"

#include "monotonic_clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu_pin.h"
#include "known_bug.h"
#include "link_control.h"
#include "load_engine.h"
#include "process.h"
#include "results.h"
#include "scenario.h"
#include "server.h"
#include "server_build.h"
#include "shard.h"
#include "stacks.h"
#include "stall_detector.h"
#include "tcp_probe.h"
#include "thread_cpu.h"
#include "verdict.h"

/* The server under test listens on this port for TCP (loopback) and RDMA alike. */
#define RUNNER_PORT 6379
#define MAX_THREADS_SAMPLED 256
/* /proc counts CPU time in 10 ms ticks, so over one 100 ms sample a fully busy thread
 * reads anywhere from about 85% to 115%, and a single low reading would restart the spin
 * window. The judge therefore sees each thread's CPU over the last half second (about
 * +-2% of tick error); cpu.csv keeps the raw per-sample figures. */
#define CPU_SMOOTHING_SAMPLES 5
#define MAX_CONNECTIONS_WATCHED 1024
/* The driver's own stall bound sits above the watchdog's, so the watchdog judges first
 * and the driver only ends what the watchdog already saw. */
#define DRIVER_STALL_MARGIN_S 5.0
/* After the load is told to stop: replies in flight still arrive, bounded by the
 * driver's stall bound; this is the extra slack for its threads to wind down. */
#define ENGINE_FINISH_SLACK_MS 10000
/* Read-back after the load: how many keys of each fitting size are written and read. */
#define READBACK_KEYS 8
/* ...but no more than this many bytes of one size (at least one key): 8 x 16 MiB take
 * minutes each way on the emulated test bed when the machine is busy. */
#define READBACK_BYTES_MAX ((size_t)2 << 20)
/* How often the live progress line is redrawn on a terminal. */
#define LIVE_PROGRESS_INTERVAL_S 1.0
/* FLUSHALL SYNC of a kept server between cases: emptying a few GiB takes a while. */
#define KEPT_SERVER_FLUSH_TIMEOUT_MS 30000
/* Connection set-up under the watchdog. The driver's own 5 s default is for a quiet
 * machine; under TCG emulation on a busy host dozens of RDMA handshakes at once were
 * measured to take longer, and a handshake that never completes is still reported. */
#define RUNNER_CONNECT_TIMEOUT_MS 20000
/* After connections failed: how long a dying server may take to become reapable. */
#define SERVER_EXIT_SETTLE_MS 3000

typedef struct kept_server kept_server;
#define ASSERTION_MARKERS_COUNT 3
/* Valkey's RDMA transport sends each client a keepalive this often (src/rdma.c). */
#define SERVER_KEEPALIVE_PERIOD_MS 3000
/* How long one CLIENT KILL of a storm may take, connect to reply. Kept short so that the
 * storm keeps its pace when the server is slow to answer: the command is executed all the
 * same (our connections drop), and rounds without a reply are counted apart. With 5 s
 * the storm on the busy test bed managed one round in 8 s and the CLIENT KILL hang of
 * 9.1.2 did not show (0 of 1); with 1 s it showed 4 of 4. */
#define CLIENT_KILL_TIMEOUT_MS 1000
/* CLIENT LIST at a SPIN or STALL verdict: the main thread may be the one stuck. */
#define CLIENT_LIST_TIMEOUT_MS 2000
/* After a link_flap the rxe port reads ACTIVE again within a few hundred ms under
 * emulation; a port still down after this long is a broken test bed. */
#define LINK_PORT_ACTIVE_TIMEOUT_MS 10000
/* After a link_flap: one new RDMA connection and this many requests show whether the
 * server (and the rxe device) accept connections again. Connect and reply bounds are
 * the transport's default; the wait adds slack for the threads to end. */
#define RECONNECT_CHECK_REQUESTS 4
#define RECONNECT_CHECK_STALL_S 5.0
#define RECONNECT_CHECK_WAIT_MS 20000

static const char *const assertion_markers[ASSERTION_MARKERS_COUNT] = {
    "ASSERTION FAILED", "VALKEY BUG REPORT", "crashed by signal"};

/* ---- the TCP probe of the main thread, on a thread of its own ---- */

typedef struct probe_thread {
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_int latest; /* verdict_probe of the newest finished probe, taken by the sampler */
    int port;
    int interval_ms;
    int timeout_ms;
} probe_thread;

static void *probe_main(void *argument)
{
    probe_thread *probe = argument;
    while (!atomic_load(&probe->stop)) {
        char error[256];
        int rc = tcp_probe_ping("127.0.0.1", probe->port, probe->timeout_ms, error, sizeof error);
        atomic_store(&probe->latest, rc == 0 ? VERDICT_PROBE_ANSWERED : VERDICT_PROBE_UNANSWERED);
        for (int waited = 0; waited < probe->interval_ms && !atomic_load(&probe->stop);
             waited += 20)
            poll(NULL, 0, 20);
    }
    return NULL;
}

static void probe_start(probe_thread *probe, const scenario_watchdog *watchdog)
{
    memset(probe, 0, sizeof *probe);
    probe->port = RUNNER_PORT;
    probe->interval_ms = (int)watchdog->probe_interval_ms;
    probe->timeout_ms = (int)watchdog->probe_timeout_ms;
    atomic_store(&probe->latest, VERDICT_PROBE_NOT_RUN);
    probe->started = pthread_create(&probe->thread, NULL, probe_main, probe) == 0;
}

static void probe_finish(probe_thread *probe)
{
    if (!probe->started)
        return;
    atomic_store(&probe->stop, true);
    pthread_join(probe->thread, NULL);
    probe->started = false;
}

/* ---- CLIENT KILL storms (#4534): the harness drops every normal client at an interval ---- */

typedef struct kill_storm {
    pthread_t thread;
    bool started;
    atomic_bool stop;
    int interval_ms;
    atomic_uint_fast64_t rounds; /* CLIENT KILL commands the server answered */
    atomic_uint_fast64_t killed; /* clients it said it killed, over all rounds */
    atomic_uint_fast64_t unanswered;
} kill_storm;

static void *kill_storm_main(void *argument)
{
    /* SKIPME is yes by default: the command's own connection survives to read the count. */
    static const char command[] = "*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$4\r\nTYPE\r\n"
                                  "$6\r\nnormal\r\n";
    kill_storm *storm = argument;
    for (;;) {
        for (int waited = 0; waited < storm->interval_ms && !atomic_load(&storm->stop);
             waited += 10) {
            struct timespec slice = {.tv_nsec = 10 * 1000000L};
            nanosleep(&slice, NULL);
        }
        if (atomic_load(&storm->stop))
            break;
        char reply[64], error[256];
        if (tcp_request_line("127.0.0.1", RUNNER_PORT, CLIENT_KILL_TIMEOUT_MS, command, reply,
                             sizeof reply, error, sizeof error) == 0 &&
            reply[0] == ':') {
            atomic_fetch_add(&storm->rounds, 1);
            atomic_fetch_add(&storm->killed, strtoull(reply + 1, NULL, 10));
        } else {
            atomic_fetch_add(&storm->unanswered, 1);
        }
    }
    return NULL;
}

static void kill_storm_start(kill_storm *storm, const scenario_client_kill *settings)
{
    memset(storm, 0, sizeof *storm);
    if (!settings->declared)
        return;
    storm->interval_ms = (int)settings->every_ms;
    storm->started = pthread_create(&storm->thread, NULL, kill_storm_main, storm) == 0;
}

static void kill_storm_finish(kill_storm *storm)
{
    if (!storm->started)
        return;
    atomic_store(&storm->stop, true);
    pthread_join(storm->thread, NULL);
    storm->started = false;
}

/* ---- planted faults (detector tests) ---- */

static int send_command_without_waiting(const char *const *words, size_t count)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons(RUNNER_PORT)};
    inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    struct timeval bound = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
    if (connect(fd, (struct sockaddr *)&server, sizeof server) != 0) {
        close(fd);
        return -1;
    }
    char buffer[2048];
    int used = snprintf(buffer, sizeof buffer, "*%zu\r\n", count);
    for (size_t i = 0; i < count && used < (int)sizeof buffer; i++)
        used += snprintf(buffer + used, sizeof buffer - (size_t)used, "$%zu\r\n%s\r\n",
                         strlen(words[i]), words[i]);
    if (send(fd, buffer, (size_t)used, MSG_NOSIGNAL) != used) {
        close(fd);
        return -1;
    }
    /* Kept open by the caller until the case ends: closing early could cancel nothing,
     * but keeping it avoids a reply racing into a closed socket. */
    return fd;
}

typedef struct fault_state {
    bool applied;
    bool resumed;
    int connection_fd;
    bool link_down; /* link_flap: the netdev is down and must come back up */
    bool failed;    /* the fault could not be planted or undone: an environment failure */
    char error[256];
    /* On the case's clock (as the verdict's onset): when it was planted and when undone
     * (SIGCONT, link up); negative until then. */
    double applied_s;
    double cleared_s;
    /* link_flap: whether a new RDMA connection worked once the link was back ("ok"), or
     * why not; empty when not checked. */
    char reconnect[LOAD_ERROR_TEXT_BYTES + 32];
} fault_state;

/* Where a link_flap acts: the test bed's netdev and the RDMA device on it. */
typedef struct fault_target {
    server *running;
    const char *netdev;
    const char *rdma_device;
} fault_target;

static void fault_fail(fault_state *state, const char *format, const char *detail)
{
    if (!state->failed)
        snprintf(state->error, sizeof state->error, format, detail);
    state->failed = true;
}

/* Brings a flapped link back up and waits (bounded) until its RDMA port is active again.
 * Safe to call on every path, whether or not the link is down. */
static void fault_restore_link(fault_state *state, const fault_target *target, double elapsed_s,
                               FILE *log)
{
    if (!state->link_down)
        return;
    char error[256];
    if (link_control_set_up(target->netdev, true, error, sizeof error) != 0) {
        fault_fail(state, "link_flap: %s", error);
        return;
    }
    state->link_down = false;
    state->cleared_s = elapsed_s;
    double started = monotonic_seconds();
    if (link_control_wait_port_active(target->rdma_device, LINK_PORT_ACTIVE_TIMEOUT_MS, error,
                                      sizeof error) != 0)
        fault_fail(state, "link_flap: %s", error);
    fprintf(log, "fault: link_flap: %s up again at %.2f s, %s port active after %.0f ms\n",
            target->netdev, elapsed_s, target->rdma_device,
            (monotonic_seconds() - started) * 1000.0);
}

/* Plants the fault `after` into the load (load_s: since every connection was set up) and
 * undoes it `duration` later; elapsed_s is the case's clock, for the log and the record. */
static void fault_apply(const scenario_fault *fault, const fault_target *target, fault_state *state,
                        double elapsed_s, double load_s, FILE *log)
{
    if (fault->kind == SCENARIO_FAULT_NONE)
        return;
    double after_s = (double)fault->after_ms / 1000.0;
    double duration_s = (double)fault->duration_ms / 1000.0;
    if (!state->applied && load_s >= after_s) {
        state->applied = true;
        state->applied_s = elapsed_s;
        char microseconds[32], seconds[32], error[256];
        snprintf(microseconds, sizeof microseconds, "%" PRIu64, fault->duration_ms * 1000);
        snprintf(seconds, sizeof seconds, "%.3f", duration_s);
        switch (fault->kind) {
        case SCENARIO_FAULT_LUA_BUSY: {
            /* Busy-loops the main thread inside one script for a bounded time. */
            static const char script[] =
                "local s = redis.call('TIME') "
                "local deadline = s[1] * 1000000 + s[2] + tonumber(ARGV[1]) "
                "while true do local n = redis.call('TIME') "
                "if n[1] * 1000000 + n[2] >= deadline then break end end return 1";
            const char *words[] = {"EVAL", script, "0", microseconds};
            state->connection_fd = send_command_without_waiting(words, 4);
            break;
        }
        case SCENARIO_FAULT_DEBUG_SLEEP: {
            const char *words[] = {"DEBUG", "SLEEP", seconds};
            state->connection_fd = send_command_without_waiting(words, 3);
            break;
        }
        case SCENARIO_FAULT_SIGSTOP:
            kill(target->running->process.pid, SIGSTOP);
            break;
        case SCENARIO_FAULT_SIGKILL:
            kill(target->running->process.pid, SIGKILL);
            break;
        case SCENARIO_FAULT_LINK_FLAP:
            if (link_control_set_up(target->netdev, false, error, sizeof error) != 0)
                fault_fail(state, "link_flap: %s", error);
            else
                state->link_down = true;
            break;
        case SCENARIO_FAULT_NONE:
            break;
        }
        fprintf(log, "fault: %s at %.2f s (%.2f s into the load)\n",
                scenario_fault_kind_name(fault->kind), elapsed_s, load_s);
    }
    if (state->applied && !state->resumed && load_s >= after_s + duration_s) {
        if (fault->kind == SCENARIO_FAULT_SIGSTOP) {
            kill(target->running->process.pid, SIGCONT);
            state->cleared_s = elapsed_s;
            fprintf(log, "fault: sigstop: SIGCONT at %.2f s\n", elapsed_s);
            state->resumed = true;
        } else if (fault->kind == SCENARIO_FAULT_LINK_FLAP) {
            fault_restore_link(state, target, elapsed_s, log);
            state->resumed = true;
        }
    }
}

/* ---- the server log: assertions ---- */

typedef struct log_watch {
    long offset;
    char assertion[VERDICT_TEXT_BYTES];
} log_watch;

static void log_watch_scan(log_watch *watch, const char *path)
{
    if (watch->assertion[0])
        return;
    FILE *file = fopen(path, "r");
    if (!file)
        return;
    fseek(file, watch->offset, SEEK_SET);
    char line[1024];
    while (fgets(line, sizeof line, file)) {
        for (int i = 0; i < ASSERTION_MARKERS_COUNT; i++) {
            if (strstr(line, assertion_markers[i]) && !watch->assertion[0]) {
                line[strcspn(line, "\n")] = '\0';
                snprintf(watch->assertion, sizeof watch->assertion, "%s", line);
            }
        }
    }
    watch->offset = ftell(file);
    fclose(file);
}

/* ---- one case repetition ---- */

typedef struct case_context {
    const runner_options *options;
    const scenario_case *one_case;
    results_run *results;
    const char *run_dir;
    int repetition;
    server *running; /* own_server, or the kept server of a fresh_per_case: false file */
    server own_server;
    struct kept_server *kept; /* NULL: a fresh server for every repetition */
    int servers_started;
    char log_path[PATH_MAX];
    verdict_judge judge;
    probe_thread probe;
    log_watch log;
    fault_state fault;
    /* The last samples, oldest first, for the smoothed CPU the judge sees. */
    /* Read from `valkey-server --version` at the first repetition, not at every one. */
    server_version server_version;
    bool server_version_known;
    thread_cpu_sample history[CPU_SMOOTHING_SAMPLES];
    size_t history_count;
    double started_s;
    double phase_started_s;  /* when the current load phase began */
    bool stopped_by_harness; /* our own stop is no crash */
    bool stacks_taken;
    bool stacks_written;
    /* gdb's stacks are taken at the first repetition of a case that needs them: under
     * TCG one attach costs 10 to 30 s, and a later repetition of the same case seldom
     * shows more. The kernel's view is taken every time. 0: not yet. */
    int gdb_stacks_repetition;
    double load_seconds;
    uint64_t replies;
    /* Of the main load of the latest repetition alone (no read-back): what compare ranks. */
    double repetition_requests_per_second;
    double repetition_paused_share; /* of a fresh server with a pause, when it stopped */
    uint64_t value_bytes;
    latency_histogram latency;
    uint64_t failed_connections;
    char connection_failure[LOAD_ERROR_TEXT_BYTES + 64];
    char data_failure[LOAD_ERROR_TEXT_BYTES + 64]; /* the first verify or protocol error */
    /* Disruptions over every repetition's main load: proof that they happened. */
    results_disruptions disruptions;
    bool in_main_load;
    /* Idle cases over RDMA: keepalives each connection must have had, and the first
     * connection that had fewer. */
    uint64_t keepalives_expected;
    char idle_failure[LOAD_ERROR_TEXT_BYTES + 128];
    kill_storm storm;
    /* link_flap: connections that failed on the wire once the link was taken down. They
     * are what the fault does (README: "Faults mid-run"), named but not held against the
     * server. */
    uint64_t lost_to_flap;
    char flap_loss[LOAD_ERROR_TEXT_BYTES + 64];
    double load_started_s; /* when every connection of the main load was set up; -1 before */
    bool environment_failure;
    char environment_error[512];
    /* A link_flap left RDMA unable to set up new connections: why; no later RDMA
     * repetition can run (see check_reconnect). Empty when RDMA is fine. */
    char rdma_unusable[768];
    /* The first write to the results folder that failed: it ends the run. */
    bool results_failed;
    char results_error[RESULTS_ERROR_BYTES];
    FILE *log_stream;
} case_context;

static fault_target fault_target_of(case_context *context)
{
    return (fault_target){context->running, context->options->netdev,
                          context->options->rdma_device};
}

/* Undoes what the planted fault left in place (a link still down) before anything is
 * torn down: connections closed while the link is down leave rxe unable to set up new
 * ones (see README, "Faults mid-run"). */
static void undo_fault(case_context *context)
{
    fault_target target = fault_target_of(context);
    fault_restore_link(&context->fault, &target, monotonic_seconds() - context->started_s,
                       context->log_stream);
}

/* Keeps the first failed write to the results folder; later ones add nothing. */
static void note_results_failure(case_context *context, const char *error)
{
    if (context->results_failed || error == NULL || error[0] == '\0')
        return;
    context->results_failed = true;
    snprintf(context->results_error, sizeof context->results_error, "%s", error);
}

static int engine_params_from_case(const scenario_case *one_case, const runner_options *options,
                                   load_engine_params *params, size_t *size_storage, char *error,
                                   size_t error_size)
{
    const scenario_client *client = &one_case->settings.client;
    *params = load_engine_default_params();
    params->transport_name = client->transport == SCENARIO_TRANSPORT_MIXED
                                 ? LOAD_TRANSPORT_MIXED
                                 : scenario_transport_name(client->transport);
    params->host =
        client->transport == SCENARIO_TRANSPORT_TCP ? "127.0.0.1" : options->rdma_address;
    params->mixed_tcp_host = "127.0.0.1";
    const scenario_churn *churn = &one_case->settings.churn;
    if (churn->declared) {
        params->churn_interval_seconds = (double)churn->every_ms / 1000.0;
        params->churn_connections = (int)churn->connections;
    }
    params->server_disconnects_expected = client->disconnects_expected;
    params->idle_seconds = (double)client->idle_before_load_ms / 1000.0;
    params->port = RUNNER_PORT;
    params->connections = (int)client->connections;
    params->threads = (int)client->threads;
    params->pipeline_depth = (int)client->pipeline;
    uint64_t sets = 0, gets = 0;
    if (client->command_count > 0) {
        for (size_t i = 0; i < client->command_count; i++) {
            sets += client->commands[i] == SCENARIO_COMMAND_SET;
            gets += client->commands[i] == SCENARIO_COMMAND_GET;
        }
    } else {
        sets = client->mix[SCENARIO_COMMAND_SET];
        gets = client->mix[SCENARIO_COMMAND_GET];
    }
    uint64_t others = client->mix[SCENARIO_COMMAND_PING] + client->mix[SCENARIO_COMMAND_DEL];
    for (size_t i = 0; i < client->command_count; i++)
        others += client->commands[i] == SCENARIO_COMMAND_PING ||
                  client->commands[i] == SCENARIO_COMMAND_DEL;
    if (others > 0 || sets + gets == 0) {
        snprintf(error, error_size, "%s: the driver runs SET and GET only (no ping or del yet)",
                 one_case->name);
        return -1;
    }
    params->set_fraction = (double)sets / (double)(sets + gets);
    const scenario_value_size *size = &client->value_size;
    if (size->kind == SCENARIO_VALUE_SIZE_RANGE) {
        params->value_sizes.minimum = size->sizes[0];
        params->value_sizes.maximum = size->sizes[1];
    } else {
        for (size_t i = 0; i < size->count; i++)
            size_storage[i] = (size_t)size->sizes[i];
        params->value_sizes.sizes = size_storage;
        params->value_sizes.size_count = size->count;
    }
    params->key_space = client->keyspace;
    params->request_limit = client->requests;
    params->duration_seconds = (double)client->duration_ms / 1000.0;
    params->rate_limit_per_second = (double)client->rate;
    params->rdma_rx_bytes = (size_t)client->rx_buffer;
    params->rdma_max_write_bytes = (size_t)client->max_write;
    params->verify = client->verify;
    params->stall_seconds = (double)(one_case->settings.watchdog.stall_timeout_ms +
                                     one_case->settings.watchdog.spin_window_ms) /
                                1000.0 +
                            DRIVER_STALL_MARGIN_S;
    params->seed = 1;
    params->connect_timeout_ms = RUNNER_CONNECT_TIMEOUT_MS;
    /* A link_flap takes the link down under live connections: none may be torn down
     * before the harness has brought it back up (see check_reconnect). */
    params->keep_wires_until_destroy = one_case->settings.fault.kind == SCENARIO_FAULT_LINK_FLAP;
    return 0;
}

/* One watchdog sample: judge it and write the timelines. Returns the verdict this sample
 * declared first (PASS when none). */
static int watchdog_sample(case_context *context, load_engine *engine,
                           load_connection_progress *progress, size_t progress_capacity)
{
    double now_s = monotonic_seconds();
    double elapsed_s = now_s - context->started_s;
    int64_t now_ns = monotonic_ns();
    verdict_thread_cpu threads[MAX_THREADS_SAMPLED];
    thread_cpu_usage usage[MAX_THREADS_SAMPLED];
    size_t thread_count = 0;
    thread_cpu_sample sample;
    char error[256];
    pid_t pid = context->running->process.pid;
    thread_cpu_usage smoothed[MAX_THREADS_SAMPLED];
    size_t smoothed_count = 0;
    if (!context->running->process.reaped &&
        thread_cpu_sample_take(pid, &sample, error, sizeof error) == 0) {
        /* The newest sample of the history gives this interval's raw figure for cpu.csv;
         * the oldest gives the half-second figure the judge sees. */
        if (context->history_count > 0) {
            size_t total = thread_cpu_usage_between(&context->history[context->history_count - 1],
                                                    &sample, usage, MAX_THREADS_SAMPLED);
            thread_count = total < MAX_THREADS_SAMPLED ? total : MAX_THREADS_SAMPLED;
            total = thread_cpu_usage_between(&context->history[0], &sample, smoothed,
                                             MAX_THREADS_SAMPLED);
            smoothed_count = total < MAX_THREADS_SAMPLED ? total : MAX_THREADS_SAMPLED;
        }
        if (context->history_count == CPU_SMOOTHING_SAMPLES) {
            thread_cpu_sample_free(&context->history[0]);
            memmove(&context->history[0], &context->history[1],
                    (CPU_SMOOTHING_SAMPLES - 1) * sizeof context->history[0]);
            context->history_count--;
        }
        context->history[context->history_count++] = sample;
    }
    for (size_t i = 0; i < thread_count && !context->results_failed; i++)
        if (results_append_cpu(context->results, elapsed_s, usage[i].tid, usage[i].name,
                               usage[i].cpu_percent, context->one_case->name, error,
                               sizeof error) != 0)
            note_results_failure(context, error);
    for (size_t i = 0; i < smoothed_count; i++)
        threads[i] =
            (verdict_thread_cpu){smoothed[i].name, smoothed[i].tid, smoothed[i].cpu_percent};
    thread_count = smoothed_count;

    size_t connection_total =
        engine ? load_engine_progress(engine, progress, progress_capacity) : 0;
    size_t connection_count =
        connection_total < progress_capacity ? connection_total : progress_capacity;
    verdict_connection connections[MAX_CONNECTIONS_WATCHED];
    uint64_t verify_failures = 0;
    for (size_t i = 0; i < connection_count; i++) {
        load_connection_progress *one = &progress[i];
        /* The driver's own stall rule (stall_detector.h): a connection waits since its
         * last progress or since it sent the oldest request it still waits for,
         * whichever is later; one reopened after a kill, or held idle, was not waiting
         * meanwhile. With neither, from the start of its phase (the load, or one
         * read-back step). */
        bool ever_waited = one->last_progress_ns != 0 || one->oldest_sent_ns != 0;
        double since = ever_waited ? (double)stall_detector_waiting_ns(
                                         one->last_progress_ns, one->oldest_sent_ns, now_ns) /
                                         1e9
                                   : now_s - context->phase_started_s;
        /* Only connections still waiting can be wedged; ended ones are judged by how
         * they ended (below and in the results). */
        bool waiting =
            one->state == LOAD_CONNECTION_RUNNING || one->state == LOAD_CONNECTION_DRAINING;
        connections[i] = (verdict_connection){one->name, waiting ? one->outstanding : 0, since};
        if (one->error_class == LOAD_ERROR_VERIFY || one->error_class == LOAD_ERROR_PROTOCOL) {
            verify_failures++;
            if (!context->data_failure[0])
                snprintf(context->data_failure, sizeof context->data_failure, "%s [%s]", one->error,
                         load_error_class_name(one->error_class));
        }
        if (!context->results_failed &&
            results_append_progress(context->results, elapsed_s, context->one_case->name, one->name,
                                    one->outstanding, since, one->replies, error,
                                    sizeof error) != 0)
            note_results_failure(context, error);
    }

    verdict_sample input = {
        .time_s = elapsed_s,
        .threads = threads,
        .thread_count = thread_count,
        .connections = connections,
        .connection_count = connection_count,
        .server_state = VERDICT_SERVER_RUNNING,
        .verify_mismatches = verify_failures,
        .probe = (verdict_probe)atomic_exchange(&context->probe.latest, VERDICT_PROBE_NOT_RUN),
    };
    if (process_wait_for(&context->running->process, 0) == PROCESS_EXITED) {
        int status = context->running->process.wait_status;
        if (WIFSIGNALED(status)) {
            input.server_state = VERDICT_SERVER_KILLED;
            input.exit_signal = WTERMSIG(status);
        } else {
            input.server_state = VERDICT_SERVER_EXITED;
            input.exit_status = WEXITSTATUS(status);
        }
    }
    log_watch_scan(&context->log, context->log_path);
    input.assertion_line = context->log.assertion[0] ? context->log.assertion : NULL;
    /* Faults act while a load runs, timed from the moment every connection is set up (a
     * link taken down during connection setup would test the setup, not the load); the
     * last look after the load (engine NULL) plants none. */
    bool connecting = false;
    for (size_t i = 0; i < connection_count; i++)
        connecting |= progress[i].state == LOAD_CONNECTION_CONNECTING;
    if (engine != NULL && !connecting && connection_count > 0 && context->load_started_s < 0)
        context->load_started_s = now_s;
    fault_target target = fault_target_of(context);
    if (engine != NULL && context->load_started_s >= 0)
        fault_apply(&context->one_case->settings.fault, &target, &context->fault, elapsed_s,
                    now_s - context->load_started_s, context->log_stream);
    return verdict_judge_update(&context->judge, &input);
}

/* Appends from[offset..] to to; returns the offset reached. A failed write shows in
 * ferror(to), which finish_appending reports. */
static long append_file(const char *from, long offset, FILE *to)
{
    FILE *in = fopen(from, "re");
    if (!in)
        return offset;
    if (fseek(in, offset, SEEK_SET) != 0) {
        fclose(in);
        return offset;
    }
    char buffer[8192];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, in)) > 0 && !ferror(to)) {
        fwrite(buffer, 1, got, to);
        offset += (long)got;
    }
    fclose(in);
    return offset;
}

/* A server's output may end mid-line; the next section header starts on a line of its own. */
static void end_with_newline(FILE *file)
{
    fflush(file);
    if (fseek(file, -1, SEEK_END) == 0 && fgetc(file) != '\n') {
        fseek(file, 0, SEEK_END);
        fputc('\n', file);
    }
    fseek(file, 0, SEEK_END);
}

/* Closes a file written with stdio; 0, or -1 with one line naming it when any write
 * into it (or the close itself, which flushes) failed. */
static int finish_appending(FILE *file, const char *path, char *error, size_t error_size)
{
    int failed = fflush(file) != 0 || ferror(file);
    int saved_errno = errno;
    if (fclose(file) != 0 && !failed) {
        failed = 1;
        saved_errno = errno;
    }
    if (failed)
        snprintf(error, error_size, "%s: cannot write: %s", path,
                 strerror(saved_errno ? saved_errno : EIO));
    return failed ? -1 : 0;
}

/* Appends the server's log from offset (and what it printed before its log opened) to
 * the run's server.log under header; returns the offset reached in log_path. A failed
 * write puts one line in write_error (RESULTS_ERROR_BYTES), unless one is there already. */
static long copy_log_tail(const char *log_path, long offset, const char *run_dir,
                          const char *header, char *write_error)
{
    char whole_log[PATH_MAX], error[RESULTS_ERROR_BYTES];
    snprintf(whole_log, sizeof whole_log, "%s/server.log", run_dir);
    FILE *log = fopen(whole_log, "a+e");
    if (!log) {
        if (!write_error[0])
            snprintf(write_error, RESULTS_ERROR_BYTES, "%s: cannot write: %s", whole_log,
                     strerror(errno));
        return offset;
    }
    end_with_newline(log);
    fputs(header, log);
    offset = append_file(log_path, offset, log);
    char early[PATH_MAX + 16];
    snprintf(early, sizeof early, "%s.stdout", log_path);
    end_with_newline(log);
    append_file(early, 0, log);
    unlink(early);
    end_with_newline(log);
    if (finish_appending(log, whole_log, error, sizeof error) != 0 && !write_error[0])
        snprintf(write_error, RESULTS_ERROR_BYTES, "%s", error);
    return offset;
}

/* The server's own view of its clients at the verdict (CLIENT LIST over TCP): which of
 * our connections it still has, their query and output buffers, what they last ran. */
static void capture_client_list(case_context *context)
{
    static const char command[] = "*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n";
    enum { CLIENT_LIST_BYTES = 64 * 1024 };
    char *list = malloc(CLIENT_LIST_BYTES);
    char path[PATH_MAX], error[RESULTS_ERROR_BYTES];
    snprintf(path, sizeof path, "%s/clients.txt", context->run_dir);
    FILE *out = fopen(path, "ae");
    if (!out) {
        snprintf(error, sizeof error, "%s: cannot write: %s", path, strerror(errno));
        note_results_failure(context, error);
    }
    if (list && out) {
        fprintf(out, "=== %s, repetition %d ===\n", context->one_case->name,
                context->repetition + 1);
        if (tcp_request_bulk("127.0.0.1", RUNNER_PORT, CLIENT_LIST_TIMEOUT_MS, command, list,
                             CLIENT_LIST_BYTES, error, sizeof error) == 0)
            fprintf(out, "%s\n", list);
        else
            fprintf(out, "(no CLIENT LIST: %s)\n", error);
    }
    if (out && finish_appending(out, path, error, sizeof error) != 0)
        note_results_failure(context, error);
    free(list);
}

static void capture_stacks(case_context *context)
{
    if (context->stacks_taken || context->running->process.reaped)
        return;
    context->stacks_taken = true;
    /* The kernel's view first: it disturbs nothing, and the moment matters most. */
    char *kernel_view = NULL;
    size_t kernel_view_size = 0;
    FILE *view = open_memstream(&kernel_view, &kernel_view_size);
    char view_error[256] = "";
    if (view != NULL) {
        if (stacks_kernel_view(context->running->process.pid, view, view_error,
                               sizeof view_error) != 0)
            fprintf(view, "(no kernel view: %s)\n", view_error);
        fclose(view);
    }
    capture_client_list(context);
    const verdict_evidence *evidence = verdict_judge_evidence(&context->judge);
    pid_t spinning[VERDICT_EVIDENCE_THREADS];
    for (size_t i = 0; i < evidence->thread_count; i++)
        spinning[i] = evidence->threads[i].tid;
    char part[PATH_MAX], whole[PATH_MAX], error[512];
    snprintf(part, sizeof part, "%s/.stacks-part", context->run_dir);
    snprintf(whole, sizeof whole, "%s/stacks.txt", context->run_dir);
    int rc = 0;
    bool gdb_again = context->gdb_stacks_repetition != 0;
    if (!gdb_again) {
        rc = stacks_capture(context->running->process.pid, spinning, evidence->thread_count, part,
                            STACKS_DEFAULT_TIMEOUT_MS, error, sizeof error);
        context->gdb_stacks_repetition = context->repetition + 1;
    }
    FILE *out = fopen(whole, "ae");
    if (!out) {
        free(kernel_view);
        unlink(part);
        snprintf(error, sizeof error, "%s: cannot write: %s", whole, strerror(errno));
        note_results_failure(context, error);
        return;
    }
    fprintf(out, "=== %s, repetition %d: %s at %.1f s ===\n", context->one_case->name,
            context->repetition + 1, verdict_label(evidence->verdict), evidence->detected_s);
    if (kernel_view != NULL)
        fputs(kernel_view, out);
    free(kernel_view);
    if (gdb_again)
        fprintf(out, "(gdb's stacks of this case are those of repetition %d, above)\n",
                context->gdb_stacks_repetition);
    else if (rc != 0)
        fprintf(out, "(no stacks: %s)\n", error);
    if (!gdb_again) {
        append_file(part, 0, out);
        unlink(part);
    }
    if (finish_appending(out, whole, error, sizeof error) != 0) {
        note_results_failure(context, error);
        return;
    }
    context->stacks_written = true;
}

/* After a link_flap, with the link back: can a new RDMA connection be set up and
 * answered? A failure is kept in context->fault.reconnect and makes every later RDMA
 * repetition of the run impossible (context->rdma_unusable): measured on rxe (Linux 6.1),
 * a connection set up or torn down while the link was down leaves the device unable to
 * set up any new connection until it is re-created, which no process holding it can do. */
static void check_reconnect(case_context *context, const load_engine_params *load)
{
    fault_state *fault = &context->fault;
    if (context->one_case->settings.fault.kind != SCENARIO_FAULT_LINK_FLAP || !fault->applied ||
        fault->failed || fault->link_down || fault->reconnect[0] || process_interrupted() ||
        context->results_failed || !server_is_running(context->running))
        return;
    load_engine_params check = *load;
    check.connections = 1;
    check.threads = 1;
    check.pipeline_depth = 1;
    check.request_limit = RECONNECT_CHECK_REQUESTS;
    check.duration_seconds = 0;
    check.rate_limit_per_second = 0;
    check.key_prefix = "reconnect:";
    check.key_space = RECONNECT_CHECK_REQUESTS;
    check.sequential_keys = true;
    check.set_fraction = 1.0;
    check.verify = false;
    check.keys_written_before = false;
    check.stall_seconds = RECONNECT_CHECK_STALL_S;
    char error[256];
    load_engine *engine = load_engine_start(&check, error, sizeof error);
    if (engine == NULL) {
        snprintf(fault->reconnect, sizeof fault->reconnect, "not checked: %s", error);
        return;
    }
    if (load_engine_wait(engine, RECONNECT_CHECK_WAIT_MS) != 0) {
        snprintf(fault->reconnect, sizeof fault->reconnect, "no answer within %d ms",
                 RECONNECT_CHECK_WAIT_MS);
    } else {
        const load_results *results = load_engine_results(engine);
        if (results->replies == RECONNECT_CHECK_REQUESTS)
            snprintf(fault->reconnect, sizeof fault->reconnect, "ok");
        else if (results->connection_count > 0 && results->connections[0].progress.error[0])
            snprintf(fault->reconnect, sizeof fault->reconnect, "%s",
                     results->connections[0].progress.error);
        else
            snprintf(fault->reconnect, sizeof fault->reconnect, "%" PRIu64 " of %d replies",
                     results->replies, RECONNECT_CHECK_REQUESTS);
    }
    load_engine_destroy(engine);
    bool ok = strcmp(fault->reconnect, "ok") == 0;
    fprintf(context->log_stream, "fault: link_flap: a new RDMA connection after the flap: %s\n",
            fault->reconnect);
    if (!ok)
        snprintf(context->rdma_unusable, sizeof context->rdma_unusable,
                 "after the link flap of %s a new RDMA connection fails (%s); on rxe that "
                 "follows any RDMA connection set up or torn down while the link was down, "
                 "until the rxe device is re-created",
                 context->one_case->name, fault->reconnect);
}

/* Runs one load under the watchdog until it finishes or a verdict other than PASS is
 * reached. Returns 0, or -1 when the load could not start (error set). */
static int run_watched(case_context *context, const load_engine_params *params)
{
    char error[512];
    /* The load's threads inherit this thread's mask while they are created. */
    uint64_t client_cpu = context->one_case->settings.client.cpu;
    cpu_pin pin;
    if (cpu_pin_enter(&pin, client_cpu == SCENARIO_CPU_ANY ? CPU_PIN_NONE : (int)client_cpu, error,
                      sizeof error) != 0) {
        snprintf(context->environment_error, sizeof context->environment_error,
                 "%s: client.cpu: %s", context->one_case->name, error);
        context->environment_failure = true;
        return -1;
    }
    load_engine *engine = load_engine_start(params, error, sizeof error);
    cpu_pin_leave(&pin);
    if (!engine) {
        snprintf(context->environment_error, sizeof context->environment_error,
                 "%s: cannot start the load: %s", context->one_case->name, error);
        context->environment_failure = true;
        return -1;
    }
    size_t capacity = (size_t)params->connections < MAX_CONNECTIONS_WATCHED
                          ? (size_t)params->connections
                          : MAX_CONNECTIONS_WATCHED;
    load_connection_progress *progress = calloc(capacity, sizeof *progress);
    /* Which connections had already failed before the fault was planted: only the
     * others can be lost to a link flap. */
    bool *failed_before_fault = calloc(capacity ? capacity : 1, sizeof *failed_before_fault);
    context->phase_started_s = monotonic_seconds();
    int interval_ms = (int)context->one_case->settings.watchdog.sample_interval_ms;
    bool stop_sent = false;
    double stop_deadline = 0;
    double next_progress_line = 0;
    for (;;) {
        int wait_rc = load_engine_wait(engine, interval_ms);
        if (wait_rc == 0)
            break;
        if (stop_sent) {
            /* The verdict is in and the harness stopped the server itself: what follows
             * is our own doing, not the server's behaviour, so it is not judged. */
            if (monotonic_seconds() > stop_deadline)
                break;
            continue;
        }
        int declared = watchdog_sample(context, engine, progress, capacity);
        for (size_t i = 0; i < capacity && failed_before_fault && !context->fault.applied; i++)
            failed_before_fault[i] |= progress[i].state == LOAD_CONNECTION_FAILED;
        if (context->options->live_progress && monotonic_seconds() >= next_progress_line) {
            next_progress_line = monotonic_seconds() + LIVE_PROGRESS_INTERVAL_S;
            uint64_t replies = 0, outstanding = 0;
            size_t shown =
                (size_t)params->connections < capacity ? (size_t)params->connections : capacity;
            for (size_t i = 0; i < shown; i++) {
                replies += progress[i].replies;
                outstanding += progress[i].outstanding;
            }
            printf("\r\033[K  %s, repetition %d: %.1f s, %" PRIu64 " replies, %" PRIu64
                   " outstanding, so far %s",
                   context->one_case->name, context->repetition + 1,
                   monotonic_seconds() - context->started_s, replies, outstanding,
                   verdict_label(verdict_judge_verdict(&context->judge)));
            fflush(stdout);
        }
        if (declared == SCENARIO_VERDICT_SPIN || declared == SCENARIO_VERDICT_STALL)
            capture_stacks(context);
        scenario_verdict verdict = verdict_judge_verdict(&context->judge);
        if (!stop_sent && (verdict != SCENARIO_VERDICT_PASS || process_interrupted() ||
                           context->results_failed || context->fault.failed)) {
            /* A verdict is in: the evidence is taken, so end the load. Stopping the
             * server ends connections that would otherwise wait for their stall bound.
             * The same when the run cannot go on (interrupt, a failed write). A flapped
             * link comes back first, and a new connection is tried before the stop. */
            undo_fault(context);
            check_reconnect(context, params);
            context->stopped_by_harness = true;
            server_stop(context->running);
            load_engine_stop(engine);
            stop_sent = true;
            stop_deadline =
                monotonic_seconds() + params->stall_seconds + ENGINE_FINISH_SLACK_MS / 1000.0;
        }
    }
    /* The engine closes its wires when destroyed: the link must be up by then. */
    undo_fault(context);
    if (load_engine_wait(engine, ENGINE_FINISH_SLACK_MS) == 0) {
        const load_results *results = load_engine_results(engine);
        context->load_seconds += results->elapsed_seconds;
        context->replies += results->replies;
        context->value_bytes += results->value_bytes;
        latency_histogram_merge(&context->latency, &results->latency);
        results_disruptions *seen = &context->disruptions;
        seen->verified_gets += results->verified_gets;
        if (context->in_main_load) {
            seen->churn_kills += results->churn_kills;
            seen->server_disconnects += results->server_disconnects;
            seen->requests_lost += results->requests_lost;
            seen->keepalives_received += results->keepalives_received;
        }
        for (size_t i = 0; i < results->connection_count; i++) {
            const load_connection_progress *one = &results->connections[i].progress;
            uint64_t keepalives = results->connections[i].counters.keepalives_received;
            if (context->in_main_load && context->keepalives_expected > 0 &&
                strstr(one->name, "(rdma ") != NULL && keepalives < context->keepalives_expected &&
                !context->idle_failure[0])
                snprintf(context->idle_failure, sizeof context->idle_failure,
                         "%s received %" PRIu64 " keepalives while held idle for %.1f s (at "
                         "least %" PRIu64 " expected)",
                         one->name, keepalives, params->idle_seconds, context->keepalives_expected);
            if ((one->error_class == LOAD_ERROR_VERIFY ||
                 one->error_class == LOAD_ERROR_PROTOCOL) &&
                !context->data_failure[0])
                snprintf(context->data_failure, sizeof context->data_failure, "%s [%s]", one->error,
                         load_error_class_name(one->error_class));
            bool flapped = context->one_case->settings.fault.kind == SCENARIO_FAULT_LINK_FLAP &&
                           context->fault.applied && one->error_class == LOAD_ERROR_TRANSPORT &&
                           !(i < capacity && failed_before_fault && failed_before_fault[i]);
            if (flapped) {
                if (context->lost_to_flap++ == 0)
                    snprintf(context->flap_loss, sizeof context->flap_loss, "%s [%s]", one->error,
                             load_error_class_name(one->error_class));
            } else if (one->error_class == LOAD_ERROR_CONNECT ||
                       one->error_class == LOAD_ERROR_TRANSPORT) {
                context->failed_connections++;
                if (!context->connection_failure[0])
                    snprintf(context->connection_failure, sizeof context->connection_failure,
                             "%s [%s]", one->error, load_error_class_name(one->error_class));
            }
        }
    }
    load_engine_destroy(engine);
    free(progress);
    free(failed_before_fault);
    return 0;
}

/* After a clean load with verify on: write and read back values of every size whose
 * reply fits the client's receive buffer (all sizes with one IO thread), so the open
 * reply-direction bug of 9.1.2 cannot muddle a request-direction scenario. */
static void read_back(case_context *context, const load_engine_params *load)
{
    const scenario_settings *settings = &context->one_case->settings;
    size_t sizes[SCENARIO_LIST_MAX + 2];
    size_t count = 0;
    if (load->value_sizes.size_count > 0) {
        for (size_t i = 0; i < load->value_sizes.size_count; i++)
            sizes[count++] = load->value_sizes.sizes[i];
    } else {
        sizes[count++] = load->value_sizes.minimum;
        sizes[count++] = load->value_sizes.maximum;
    }
    for (size_t i = 0; i < count; i++) {
        bool fits = sizes[i] + 64 <= settings->client.rx_buffer;
        if (!fits && settings->server.io_threads > 1)
            continue;
        if (verdict_judge_verdict(&context->judge) != SCENARIO_VERDICT_PASS)
            return;
        size_t keys = READBACK_BYTES_MAX / (sizes[i] ? sizes[i] : 1);
        keys = keys < 1 ? 1 : keys > READBACK_KEYS ? READBACK_KEYS : keys;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "readback:%zu:", sizes[i]);
        load_engine_params phase = *load;
        phase.value_sizes = (value_size_spec){.sizes = &sizes[i], .size_count = 1};
        phase.key_prefix = prefix;
        phase.key_space = keys;
        phase.request_limit = keys;
        phase.duration_seconds = 0;
        phase.rate_limit_per_second = 0;
        phase.sequential_keys = true;
        /* The read-back is strict: no churn, no idle wait, and a dropped connection is an
         * error again (the CLIENT KILL storm is over by now). */
        phase.churn_interval_seconds = 0;
        phase.idle_seconds = 0;
        phase.server_disconnects_expected = false;
        phase.set_fraction = 1.0;
        phase.verify = true;
        phase.keys_written_before = false;
        /* One connection for a handful of keys: opening as many as the load did, right
         * after the load's were closed, makes 9.1.2's accept fail on the emulated test
         * bed, and a failed accept crashes it (rdma-accept-failure.yaml). */
        phase.connections = 1;
        phase.threads = 1;
        phase.pipeline_depth = 1;
        if (run_watched(context, &phase) != 0)
            return;
        phase.set_fraction = 0.0;
        phase.keys_written_before = true;
        if (settings->server.io_threads > 1) {
            /* A receive buffer that holds every read-back reply without recycling: no
             * reply ever crosses the end of the buffer, which is where the open 9.1.2
             * reply-direction bug strikes (large-reply.yaml). */
            phase.rdma_rx_bytes = keys * (sizes[i] + 64) + 4096;
        }
        if (run_watched(context, &phase) != 0)
            return;
    }
}

/* ---- a server kept across the cases of a file (server.fresh_per_case: false) ---- */

struct kept_server {
    server running;
    bool up;
    const scenario_server *started_with; /* the settings it was started with */
    long log_copied;                     /* bytes of its log already in server.log */
    char log_path[PATH_MAX];
};

static bool same_server_settings(const scenario_server *a, const scenario_server *b)
{
    if (a->io_threads != b->io_threads ||
        a->io_threads_always_active != b->io_threads_always_active ||
        a->rdma_rx_size != b->rdma_rx_size || a->cpu != b->cpu ||
        a->extra_config_count != b->extra_config_count)
        return false;
    for (size_t i = 0; i < a->extra_config_count; i++) {
        if (strcmp(a->extra_config[i].name, b->extra_config[i].name) != 0 ||
            strcmp(a->extra_config[i].value, b->extra_config[i].value) != 0)
            return false;
    }
    return true;
}

/* Whether the kept server can serve a case with these settings: 0 yes (still running,
 * and emptied with FLUSHALL so the case starts from no keys); 1 no, other settings; -1 no,
 * the server is gone or did not empty itself (why in error). */
static int kept_server_reusable(kept_server *kept, const scenario_server *wanted, char *error,
                                size_t error_size)
{
    if (!same_server_settings(kept->started_with, wanted))
        return 1;
    if (!server_is_running(&kept->running)) {
        snprintf(error, error_size, "the kept server is gone");
        return -1;
    }
    const char *const flush[] = {"FLUSHALL", "SYNC"};
    char why[256];
    if (tcp_probe_command("127.0.0.1", RUNNER_PORT, KEPT_SERVER_FLUSH_TIMEOUT_MS, flush, 2, "+OK",
                          why, sizeof why) != 0) {
        snprintf(error, error_size, "the kept server did not empty itself: %s", why);
        return -1;
    }
    return 0;
}

static void kept_server_stop(kept_server *kept, const char *run_dir, const char *header,
                             char *write_error)
{
    if (!kept->up)
        return;
    server_stop(&kept->running);
    kept->log_copied =
        copy_log_tail(kept->log_path, kept->log_copied, run_dir, header, write_error);
    unlink(kept->log_path);
    kept->up = false;
}

/* One repetition of one case. Fills the verdict and evidence. */
static scenario_verdict run_repetition(case_context *context, verdict_evidence *evidence_out)
{
    const scenario_settings *settings = &context->one_case->settings;
    char error[512];
    context->repetition_requests_per_second = 0;
    context->repetition_paused_share = 0;
    snprintf(context->log_path, sizeof context->log_path, "%s/.server-current.log",
             context->run_dir);
    unlink(context->log_path);
    if (!context->server_version_known) {
        if (server_build_read_version(context->options->server_path, &context->server_version,
                                      error, sizeof error) != 0) {
            snprintf(context->environment_error, sizeof context->environment_error, "%s", error);
            context->environment_failure = true;
            return SCENARIO_VERDICT_PASS;
        }
        context->server_version_known = true;
    }
    server_settings server_config = {
        .server_path = context->options->server_path,
        .rdma_module_path =
            context->options->rdma_module_path && context->options->rdma_module_path[0]
                ? context->options->rdma_module_path
                : NULL,
        .version = context->server_version,
        .rdma_address = context->options->rdma_address,
        .port = RUNNER_PORT,
        .io_threads = (int)settings->server.io_threads,
        .io_threads_always_active = settings->server.io_threads_always_active,
        .rdma_rx_size = (long long)settings->server.rdma_rx_size,
        .working_dir = "/tmp",
        .log_file = context->log_path,
        .cpu_limit_percent = context->options->server_cpu_limit_percent,
        .pause_percent = context->options->server_pause_percent,
        .pinned = settings->server.cpu != SCENARIO_CPU_ANY,
        .cpu = settings->server.cpu != SCENARIO_CPU_ANY ? (int)settings->server.cpu : 0,
    };
    for (size_t i = 0; i < settings->server.extra_config_count && i < SERVER_COMMAND_MAX_EXTRA;
         i++) {
        server_config.extra_names[i] = settings->server.extra_config[i].name;
        server_config.extra_values[i] = settings->server.extra_config[i].value;
        server_config.extra_count++;
    }
    memset(&context->log, 0, sizeof context->log);
    memset(&context->fault, 0, sizeof context->fault);
    context->fault.connection_fd = -1;
    context->fault.applied_s = -1;
    context->fault.cleared_s = -1;
    context->load_started_s = -1;
    if (settings->fault.kind == SCENARIO_FAULT_LINK_FLAP &&
        (!context->options->netdev || !context->options->netdev[0] ||
         !context->options->rdma_device || !context->options->rdma_device[0])) {
        snprintf(context->environment_error, sizeof context->environment_error,
                 "%s: fault link_flap needs a test bed whose netdev the harness made "
                 "(TESTBED_NETDEV and TESTBED_RDMA_DEVICE); an RDMA device of the host's own "
                 "is never taken down",
                 context->one_case->name);
        context->environment_failure = true;
        return SCENARIO_VERDICT_PASS;
    }
    char write_error[RESULTS_ERROR_BYTES] = "";
    kept_server *kept = context->kept;
    if (kept) {
        context->running = &kept->running;
        snprintf(context->log_path, sizeof context->log_path, "%s", kept->log_path);
        server_config.log_file = context->log_path;
        int reusable =
            kept->up ? kept_server_reusable(kept, &settings->server, error, sizeof error) : 1;
        if (reusable < 0)
            fprintf(context->log_stream, "  %s: a fresh server: %s\n", context->one_case->name,
                    error);
        if (reusable != 0)
            kept_server_stop(kept, context->run_dir, "=== the kept server, stopped ===\n",
                             write_error);
        context->log.offset = kept->log_copied;
    }
    if (!kept || !kept->up) {
        if (kept)
            unlink(context->log_path);
        context->servers_started++;
        if (server_start(context->running, &server_config, error, sizeof error) != 0 ||
            server_wait_ready(context->running, SERVER_READY_TIMEOUT_MS, error, sizeof error) !=
                0) {
            snprintf(context->environment_error, sizeof context->environment_error,
                     "%s: the server under test did not come up: %s", context->one_case->name,
                     error);
            context->environment_failure = true;
            server_stop(context->running);
            if (!kept) {
                /* Nothing of this server is left behind but its lines in server.log. */
                char header[512];
                snprintf(header, sizeof header, "=== %s, repetition %d (did not come up) ===\n",
                         context->one_case->name, context->repetition + 1);
                copy_log_tail(context->log_path, 0, context->run_dir, header, write_error);
                unlink(context->log_path);
            }
            note_results_failure(context, write_error);
            return SCENARIO_VERDICT_PASS;
        }
        if (kept) {
            kept->up = true;
            kept->started_with = &settings->server;
            kept->log_copied = 0;
        }
    }

    verdict_judge_init(&context->judge, verdict_settings_from_watchdog(&settings->watchdog));
    probe_start(&context->probe, &settings->watchdog);
    context->started_s = monotonic_seconds();
    context->stacks_taken = false;
    context->stopped_by_harness = false;

    uint64_t failed_before = context->failed_connections;
    load_engine_params params;
    size_t size_storage[SCENARIO_LIST_MAX];
    if (engine_params_from_case(context->one_case, context->options, &params, size_storage, error,
                                sizeof error) != 0) {
        snprintf(context->environment_error, sizeof context->environment_error, "%s", error);
        context->environment_failure = true;
    } else {
        uint64_t replies_before = context->replies;
        double seconds_before = context->load_seconds;
        /* Every full keepalive period held idle should bring one; one is allowed to fall
         * on either side of the idle window. */
        uint64_t periods = settings->client.idle_before_load_ms / SERVER_KEEPALIVE_PERIOD_MS;
        context->keepalives_expected = periods > 1 ? periods - 1 : 0;
        kill_storm_start(&context->storm, &settings->client_kill);
        context->in_main_load = true;
        int load_rc = run_watched(context, &params);
        context->in_main_load = false;
        kill_storm_finish(&context->storm);
        context->disruptions.client_kill_rounds += atomic_load(&context->storm.rounds);
        context->disruptions.clients_killed += atomic_load(&context->storm.killed);
        double load_seconds = context->load_seconds - seconds_before;
        context->repetition_requests_per_second =
            load_seconds > 0 ? (double)(context->replies - replies_before) / load_seconds : 0;
        if (load_rc == 0 && settings->client.verify && settings->fault.kind == SCENARIO_FAULT_NONE)
            read_back(context, &params);
        undo_fault(context);
        check_reconnect(context, &params);
    }

    probe_finish(&context->probe);
    /* A last look: a crash at the very end still counts. Connections that failed may be
     * the first sign of a server on its way out: a killed server can take a moment to
     * become reapable (its RDMA queues are torn down first), so then wait for it, bounded. */
    if (verdict_judge_verdict(&context->judge) == SCENARIO_VERDICT_PASS &&
        !context->stopped_by_harness) {
        bool fault_was_applied = context->fault.applied;
        load_connection_progress none;
        watchdog_sample(context, NULL, &none, 0);
        bool dying = context->failed_connections > failed_before ||
                     (!fault_was_applied && context->fault.applied);
        if (dying && verdict_judge_verdict(&context->judge) == SCENARIO_VERDICT_PASS) {
            process_wait_for(&context->running->process, SERVER_EXIT_SETTLE_MS);
            watchdog_sample(context, NULL, &none, 0);
        }
    }
    scenario_verdict verdict = verdict_judge_verdict(&context->judge);
    *evidence_out = *verdict_judge_evidence(&context->judge);
    verdict_judge_free(&context->judge);
    for (size_t i = 0; i < context->history_count; i++)
        thread_cpu_sample_free(&context->history[i]);
    context->history_count = 0;
    /* A kept server serves the next repetition only after a clean one: a server that
     * spun, stalled, crashed or had a fault planted in it is not the same server any more. */
    bool keep = kept && verdict == SCENARIO_VERDICT_PASS && !context->stopped_by_harness &&
                settings->fault.kind == SCENARIO_FAULT_NONE && server_is_running(context->running);
    undo_fault(context);
    if (context->fault.connection_fd >= 0)
        close(context->fault.connection_fd);
    if (context->fault.failed && !context->environment_failure) {
        snprintf(context->environment_error, sizeof context->environment_error, "%s: fault %s",
                 context->one_case->name, context->fault.error);
        context->environment_failure = true;
    }
    if (kept) {
        char header[512];
        snprintf(header, sizeof header, "=== %s, repetition %d (kept server%s) ===\n",
                 context->one_case->name, context->repetition + 1,
                 keep ? "" : ", stopped after it");
        if (keep)
            kept->log_copied = copy_log_tail(context->log_path, kept->log_copied, context->run_dir,
                                             header, write_error);
        else
            kept_server_stop(kept, context->run_dir, header, write_error);
        note_results_failure(context, write_error);
        return verdict;
    }
    server_stop(context->running);
    context->repetition_paused_share = context->running->paused_share;
    char header[512];
    snprintf(header, sizeof header, "=== %s, repetition %d ===\n", context->one_case->name,
             context->repetition + 1);
    copy_log_tail(context->log_path, 0, context->run_dir, header, write_error);
    unlink(context->log_path);
    note_results_failure(context, write_error);
    return verdict;
}

static const char *outcome_word(const case_judgement *judgement)
{
    switch (judgement->outcome) {
    case CASE_OUTCOME_AS_EXPECTED:
        return "ok";
    case CASE_OUTCOME_KNOWN:
        return "KNOWN";
    case CASE_OUTCOME_UNEXPECTED:
        break;
    }
    return "UNEXPECTED";
}

typedef struct finished_case {
    char name[256];
    char verdict[16];
    char outcome[16];
    double ops;
    char note[300];
} finished_case;

static void print_evidence_for_repro(const verdict_evidence *evidence, const char *run_dir)
{
    printf("REPRODUCED: %s\n", verdict_label(evidence->verdict));
    for (size_t i = 0; i < evidence->thread_count; i++)
        printf("  spinning thread %s (tid %d): %.0f%% of a CPU for %.1f s\n",
               evidence->threads[i].name, (int)evidence->threads[i].tid,
               evidence->threads[i].cpu_percent, evidence->threads[i].spinning_s);
    for (size_t i = 0; i < evidence->connection_count; i++)
        printf("  wedged %s: %" PRIu64 " outstanding, no progress for %.1f s\n",
               evidence->connections[i].name, evidence->connections[i].outstanding,
               evidence->connections[i].seconds_since_progress);
    printf("  TCP PING probe: %s\n", verdict_probe_name(evidence->probe));
    char stacks[PATH_MAX];
    snprintf(stacks, sizeof stacks, "%s/stacks.txt", run_dir);
    FILE *file = fopen(stacks, "r");
    if (file) {
        printf("  stacks (%s), first lines:\n", stacks);
        char line[512];
        for (int shown = 0; shown < 40 && fgets(line, sizeof line, file); shown++)
            printf("    %s", line);
        fclose(file);
    }
}

/* The case's judgement over its repetitions: the known-bug rules, then what the load saw
 * that the watchdog did not judge (lost connections) and the first data error. */
static case_judgement judge_case(const case_context *context, const scenario_verdict *verdicts,
                                 size_t ran)
{
    case_judgement judgement = known_bug_judge_case(&context->one_case->settings, verdicts, ran);
    if (context->failed_connections > 0 && judgement.outcome != CASE_OUTCOME_UNEXPECTED &&
        judgement.verdict == SCENARIO_VERDICT_PASS) {
        /* The server lost connections without a verdict of its own: not a pass. */
        judgement.outcome = CASE_OUTCOME_UNEXPECTED;
        snprintf(judgement.message, sizeof judgement.message,
                 "%" PRIu64 " connection(s) failed while the server ran: %s",
                 context->failed_connections, context->connection_failure);
    }
    /* A disruption that never happened proves nothing: a case that asks for one must
     * show it, or it is not a pass. */
    const scenario_settings *settings = &context->one_case->settings;
    const results_disruptions *seen = &context->disruptions;
    const char *missing = NULL;
    if (settings->churn.declared && seen->churn_kills == 0)
        missing = "churn never killed a connection";
    else if (settings->client_kill.declared && seen->server_disconnects == 0)
        missing = "no CLIENT KILL ever dropped one of our connections";
    else if (context->idle_failure[0])
        missing = context->idle_failure;
    if (missing && judgement.outcome != CASE_OUTCOME_UNEXPECTED &&
        judgement.verdict == SCENARIO_VERDICT_PASS) {
        judgement.outcome = CASE_OUTCOME_UNEXPECTED;
        snprintf(judgement.message, sizeof judgement.message, "%s", missing);
    }
    if (context->failed_connections > 0 && judgement.verdict != SCENARIO_VERDICT_PASS &&
        judgement.verdict != SCENARIO_VERDICT_CRASH) {
        /* Beside a SPIN or STALL, connections that ended in an error are evidence too. A
         * crash fails every connection, which says nothing more. */
        size_t used = strlen(judgement.message);
        snprintf(judgement.message + used, sizeof judgement.message - used,
                 "%s%" PRIu64 " connection(s) failed: %s", used ? "; " : "",
                 context->failed_connections, context->connection_failure);
    }
    if (context->lost_to_flap > 0) {
        size_t used = strlen(judgement.message);
        snprintf(judgement.message + used, sizeof judgement.message - used,
                 "%s%" PRIu64 " connection(s) lost to the link flap: %s", used ? "; " : "",
                 context->lost_to_flap, context->flap_loss);
    }
    if (judgement.verdict == SCENARIO_VERDICT_DATA && context->data_failure[0]) {
        size_t used = strlen(judgement.message);
        snprintf(judgement.message + used, sizeof judgement.message - used,
                 "; first data error: %s", context->data_failure);
    }
    return judgement;
}

/* ---- one case, repetition by repetition, for callers that interleave builds ---- */

struct runner_case {
    case_context context;
};

runner_case *runner_case_open(const runner_options *options, const scenario_case *one_case,
                              results_run *results)
{
    runner_case *opened = calloc(1, sizeof *opened);
    if (opened == NULL)
        return NULL;
    opened->context.options = options;
    opened->context.one_case = one_case;
    opened->context.results = results;
    opened->context.run_dir = results_run_directory(results);
    opened->context.log_stream = stdout;
    opened->context.running = &opened->context.own_server;
    latency_histogram_init(&opened->context.latency);
    return opened;
}

int runner_case_repeat(runner_case *opened, runner_repetition *repetition, char *error,
                       size_t error_size)
{
    case_context *context = &opened->context;
    memset(repetition, 0, sizeof *repetition);
    repetition->verdict = run_repetition(context, &repetition->evidence);
    repetition->requests_per_second = context->repetition_requests_per_second;
    repetition->server_paused_share = context->repetition_paused_share;
    context->repetition++;
    if (context->results_failed) {
        snprintf(error, error_size, "%s", context->results_error);
        return -1;
    }
    if (context->environment_failure) {
        snprintf(error, error_size, "%s", context->environment_error);
        return -1;
    }
    return 0;
}

case_judgement runner_case_judge(const runner_case *opened, const scenario_verdict *verdicts,
                                 size_t count)
{
    return judge_case(&opened->context, verdicts, count);
}

void runner_case_close(runner_case *opened)
{
    free(opened);
}

int runner_check_scenarios(const char *const *paths, size_t count, const char *case_filter)
{
    bool filter_matched = case_filter == NULL;
    for (size_t i = 0; i < count; i++) {
        scenario loaded;
        char error[SCENARIO_ERROR_SIZE];
        if (scenario_load(paths[i], &loaded, error) != SCENARIO_OK) {
            fprintf(stderr, "%s\n", error);
            return EXIT_USAGE;
        }
        for (size_t c = 0; c < loaded.case_count; c++) {
            if (case_filter && strcmp(loaded.cases[c].name, case_filter) == 0)
                filter_matched = true;
            load_engine_params params;
            size_t storage[SCENARIO_LIST_MAX];
            runner_options probe_options = {.rdma_address = "192.0.2.1"};
            if (engine_params_from_case(&loaded.cases[c], &probe_options, &params, storage, error,
                                        sizeof error) != 0) {
                fprintf(stderr, "%s: %s\n", paths[i], error);
                scenario_free(&loaded);
                return EXIT_USAGE;
            }
        }
        scenario_free(&loaded);
    }
    if (!filter_matched) {
        fprintf(stderr, "run.sh: --case %s: no such case in the given scenarios\n", case_filter);
        return EXIT_USAGE;
    }
    return 0;
}

int runner_run(const runner_options *options)
{
    int exit_code = EXIT_AS_EXPECTED;
    bool results_failed = false;
    char rdma_unusable[768] = ""; /* why RDMA cannot be used any more in this run */
    char write_error[RESULTS_ERROR_BYTES] = "";
    finished_case *table = NULL;
    size_t table_count = 0;
    bool reproduced_any = false;
    size_t case_position = 0; /* over every file's cases, for the shard */
    for (size_t file = 0; file < options->scenario_count && !process_interrupted(); file++) {
        scenario loaded;
        char error[SCENARIO_ERROR_SIZE];
        if (scenario_load(options->scenario_paths[file], &loaded, error) != SCENARIO_OK) {
            fprintf(stderr, "%s\n", error);
            free(table);
            return EXIT_USAGE;
        }
        char version_text[32] = "unknown";
        server_version version;
        if (server_build_read_version(options->server_path, &version, error, sizeof error) == 0)
            server_version_format(version, version_text, sizeof version_text);
        char shard_text[32];
        shard_format(&options->shard, shard_text, sizeof shard_text);
        results_run_info info = {
            .scenario_name = loaded.settings.name,
            .scenario_path = options->scenario_paths[file],
            .server_version = version_text,
            .testbed = options->testbed_description,
            .start_time = time(NULL),
            .shard = shard_text,
        };
        results_run *results =
            results_run_create(options->results_root, &info, error, sizeof error);
        if (!results) {
            fprintf(stderr, "run.sh: %s\n", error);
            scenario_free(&loaded);
            free(table);
            return EXIT_ENVIRONMENT;
        }
        const char *run_dir = results_run_directory(results);
        printf("results: %s\n", run_dir);
        /* fresh_per_case: false keeps one server for the file's cases while their server
         * settings match and every repetition before was clean. */
        kept_server *kept = NULL;
        if (!loaded.settings.server.fresh_per_case) {
            kept = calloc(1, sizeof *kept);
            if (kept)
                snprintf(kept->log_path, sizeof kept->log_path, "%s/.server-kept.log", run_dir);
        }
        for (size_t c = 0; c < loaded.case_count && !process_interrupted(); c++) {
            const scenario_case *one_case = &loaded.cases[c];
            size_t case_index = case_position++;
            if (!shard_selects(&options->shard, case_index))
                continue;
            if (options->case_filter && strcmp(one_case->name, options->case_filter) != 0)
                continue;
            if (rdma_unusable[0] && one_case->settings.client.transport != SCENARIO_TRANSPORT_TCP) {
                fprintf(stderr, "run.sh: %s cannot run: %s\n", one_case->name, rdma_unusable);
                exit_code = EXIT_ENVIRONMENT;
                break;
            }
            size_t repetitions = one_case->settings.repetitions;
            scenario_verdict *verdicts = calloc(repetitions, sizeof *verdicts);
            verdict_evidence *evidences = calloc(repetitions, sizeof *evidences);
            double *throughputs = calloc(repetitions, sizeof *throughputs);
            fault_state *faults = calloc(repetitions, sizeof *faults);
            case_context *context = calloc(1, sizeof *context);
            context->options = options;
            context->one_case = one_case;
            context->results = results;
            context->run_dir = run_dir;
            context->log_stream = stdout;
            context->running = &context->own_server;
            context->kept = kept;
            latency_histogram_init(&context->latency);
            double case_started = monotonic_seconds();
            size_t ran = 0;
            for (size_t r = 0; r < repetitions && !process_interrupted(); r++) {
                context->repetition = (int)r;
                verdicts[r] = run_repetition(context, &evidences[r]);
                throughputs[r] = context->repetition_requests_per_second;
                faults[r] = context->fault;
                /* A repetition cut short (an interrupt, a failed write, a broken
                 * environment) proves nothing: it is not counted, and a case that did not
                 * run all its repetitions is not recorded as finished. */
                if (process_interrupted() || context->results_failed ||
                    context->environment_failure)
                    break;
                ran++;
                if (context->rdma_unusable[0] && ran < repetitions) {
                    snprintf(context->environment_error, sizeof context->environment_error,
                             "%s: repetition %zu cannot run: %s", one_case->name, ran + 1,
                             context->rdma_unusable);
                    context->environment_failure = true;
                    break;
                }
            }
            if (context->rdma_unusable[0])
                snprintf(rdma_unusable, sizeof rdma_unusable, "%s", context->rdma_unusable);
            if (ran < repetitions) {
                if (context->results_failed) {
                    fprintf(stderr, "run.sh: %s\n", context->results_error);
                    results_failed = true;
                    exit_code = EXIT_ENVIRONMENT;
                } else if (process_interrupted()) {
                    fprintf(stderr, "run.sh: interrupted during %s; that case is not recorded\n",
                            one_case->name);
                    exit_code = EXIT_INTERRUPTED;
                } else {
                    fprintf(stderr, "run.sh: %s\n", context->environment_error);
                    exit_code = EXIT_ENVIRONMENT;
                }
                free(verdicts);
                free(evidences);
                free(throughputs);
                free(faults);
                free(context);
                break;
            }
            case_judgement judgement = judge_case(context, verdicts, ran);
            /* The evidence shown is that of the first repetition with the case's verdict. */
            size_t shown_index = 0;
            for (size_t r = 0; r < ran; r++) {
                if (verdicts[r] == judgement.verdict) {
                    shown_index = r;
                    break;
                }
            }
            const verdict_evidence *shown = &evidences[shown_index];
            double seconds = context->load_seconds > 0 ? context->load_seconds : 1e-9;
            const latency_histogram *latency = &context->latency;
            results_case finished = {
                .scenario_case = one_case,
                .judgement = &judgement,
                .evidence = shown,
                .repetition_verdicts = verdicts,
                .repetition_count = ran,
                .duration_s = monotonic_seconds() - case_started,
                .requests_per_second = (double)context->replies / seconds,
                .value_bytes_per_second = (double)context->value_bytes / seconds,
                .latency = {(double)latency_histogram_percentile(latency, 50) / 1e3,
                            (double)latency_histogram_percentile(latency, 90) / 1e3,
                            (double)latency_histogram_percentile(latency, 99) / 1e3,
                            (double)latency_histogram_percentile(latency, 99.9) / 1e3,
                            (double)latency_histogram_maximum(latency) / 1e3},
                .stacks_file = context->stacks_written ? "stacks.txt" : NULL,
                .repetition_requests_per_second = throughputs,
                .has_case_index = true,
                .case_index = case_index,
                .servers_recorded = true,
                .servers_started = context->servers_started,
                .disruptions = &context->disruptions,
                .has_fault_timeline = one_case->settings.fault.kind != SCENARIO_FAULT_NONE,
                .fault_applied_s = faults[shown_index].applied_s,
                .fault_cleared_s = faults[shown_index].cleared_s,
                .fault_reconnect = faults[shown_index].reconnect,
            };
            if (results_add_case(results, &finished, error, sizeof error) != 0) {
                /* summary.json still holds every case before this one (written through a
                 * temporary file and a rename); the run cannot record more, so it ends. */
                fprintf(stderr, "run.sh: %s\n", error);
                results_failed = true;
                exit_code = EXIT_ENVIRONMENT;
            }
            char description[1024];
            verdict_evidence_describe(shown, description, sizeof description);
            if (options->live_progress)
                printf("\r\033[K");
            printf("%-10s %-5s %-60s %8.0f ops/s  %s\n", outcome_word(&judgement),
                   verdict_label(judgement.verdict), one_case->name, finished.requests_per_second,
                   judgement.message);
            if (judgement.verdict != SCENARIO_VERDICT_PASS)
                printf("           evidence: %s\n", description);
            if (judgement.verdict == SCENARIO_VERDICT_DATA && context->data_failure[0])
                printf("           first data error: %s\n", context->data_failure);
            if (options->repro && (judgement.verdict == SCENARIO_VERDICT_SPIN ||
                                   judgement.verdict == SCENARIO_VERDICT_STALL)) {
                print_evidence_for_repro(shown, run_dir);
                reproduced_any = true;
            }
            fflush(stdout);
            finished_case *grown = realloc(table, (table_count + 1) * sizeof *table);
            if (grown) {
                table = grown;
                finished_case *row = &table[table_count++];
                snprintf(row->name, sizeof row->name, "%s", one_case->name);
                snprintf(row->verdict, sizeof row->verdict, "%s", verdict_label(judgement.verdict));
                snprintf(row->outcome, sizeof row->outcome, "%s", outcome_word(&judgement));
                row->ops = finished.requests_per_second;
                snprintf(row->note, sizeof row->note, "%s", judgement.message);
            }
            if (judgement.outcome == CASE_OUTCOME_UNEXPECTED && exit_code == EXIT_AS_EXPECTED)
                exit_code = EXIT_UNEXPECTED_VERDICT;
            free(verdicts);
            free(evidences);
            free(throughputs);
            free(faults);
            free(context);
            if (results_failed)
                break;
        }
        if (kept) {
            kept_server_stop(kept, run_dir, "=== the kept server, stopped ===\n", write_error);
            free(kept);
        }
        if (write_error[0] && !results_failed) {
            fprintf(stderr, "run.sh: %s\n", write_error);
            results_failed = true;
            exit_code = EXIT_ENVIRONMENT;
        }
        /* After a failed write the first failure is the one line said; the close would
         * only repeat it about another file of the same full or read-only folder. */
        if (results_run_close(results, error, sizeof error) != 0 && !results_failed) {
            fprintf(stderr, "run.sh: %s\n", error);
            results_failed = true;
            exit_code = EXIT_ENVIRONMENT;
        }
        scenario_free(&loaded);
        if (exit_code == EXIT_ENVIRONMENT || exit_code == EXIT_INTERRUPTED)
            break;
    }
    if (table_count > 0) {
        printf("\n%-60s %-7s %-10s %10s\n", "case", "verdict", "outcome", "ops/s");
        for (size_t i = 0; i < table_count; i++)
            printf("%-60s %-7s %-10s %10.0f\n", table[i].name, table[i].verdict, table[i].outcome,
                   table[i].ops);
    }
    free(table);
    if (results_failed)
        return EXIT_ENVIRONMENT;
    if (process_interrupted())
        return EXIT_INTERRUPTED;
    if (options->repro && exit_code != EXIT_ENVIRONMENT && exit_code != EXIT_USAGE) {
        if (reproduced_any) {
            return EXIT_UNEXPECTED_VERDICT;
        }
        if (exit_code == EXIT_AS_EXPECTED)
            printf("PASS: the #1385 shape did not reproduce on this build\n");
    }
    return exit_code;
}
