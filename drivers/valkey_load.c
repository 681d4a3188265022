/*
 * valkey_load.c: `valkey-load`, the command-line driver. It runs one load from flags
 * against a Valkey server over RDMA or TCP and prints a summary for a person, or JSON
 * with --json. The harness uses the same engine in-process.
 *
 * Exit codes: 0 every connection finished cleanly (and verified, with --verify);
 * 1 a connection failed (connect, protocol, transport, stall, verify) or the server
 * answered with errors; 2 bad usage; 130 interrupted (results so far still printed).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "load_engine.h"
#include "load_results_json.h"

#define EXIT_LOAD_CLEAN 0
#define EXIT_LOAD_FAILED 1
#define EXIT_LOAD_USAGE 2
#define EXIT_LOAD_INTERRUPTED 130
#define MAX_VALUE_SIZES 64
/* How often the main thread looks at the interrupt flag while the engine runs. */
#define WAIT_SLICE_MS 100

static volatile sig_atomic_t interrupted;

static void on_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
}

static const char usage_text[] =
    "Usage: valkey-load [OPTIONS]\n"
    "Drives SET/GET load at a Valkey server over RDMA or TCP.\n"
    "\n"
    "  --transport rdma|tcp    wire (default rdma)\n"
    "  --host ADDR             server address (default $TESTBED_ADDRESS, else 127.0.0.1)\n"
    "  --port N                server port (default 6379)\n"
    "  --connections N         connections (default 1)\n"
    "  --threads N             event-loop threads (default 1)\n"
    "  --pipeline N            requests in flight per connection (default 1)\n"
    "  --ratio SET:GET         command mix, e.g. 1:0 (only SET), 1:10 (default 1:1)\n"
    "  --value-size SIZES      one size, a list (1KiB,1MiB) or a range (1KiB-64KiB);\n"
    "                          suffixes B, KiB, MiB, GiB (1024) and kB, MB, GB (1000)\n"
    "  --keyspace N            distinct keys (default 1000)\n"
    "  --key-prefix TEXT       key names are TEXT<index> (default key:)\n"
    "  --sequential            keys in order rather than at random\n"
    "  --requests N            stop after N requests in all (default 1000; 0: no limit)\n"
    "  --duration SECONDS      stop issuing after this long (0: no limit)\n"
    "  --rate N                requests per second in all (default: unlimited)\n"
    "  --rx-buffer SIZE        RDMA receive buffer we advertise (default 1MiB)\n"
    "  --max-write SIZE        largest RDMA write, 4KiB to 16MiB (default: as much as\n"
    "                          the server's receive buffer has free, as Valkey's\n"
    "                          own clients write)\n"
    "  --connect-timeout MS    bound on connecting (default 5000)\n"
    "  --stall SECONDS         a connection with requests outstanding and no progress\n"
    "                          (no reply, no byte in or out) for this long fails as\n"
    "                          stalled (default 10)\n"
    "  --verify                check every GET value against what SET wrote\n"
    "  --keys-written-before   with --verify: every key was SET by an earlier run\n"
    "  --seed N                seed of the request choices (default 1)\n"
    "  --json                  print the results as JSON\n"
    "  -h, --help              this text\n";

static int usage_error(const char *message, const char *value)
{
    fprintf(stderr, "valkey-load: %s%s%s%s (see --help)\n", message, value ? " \"" : "",
            value ? value : "", value ? "\"" : "");
    return EXIT_LOAD_USAGE;
}

static int parse_unsigned(const char *text, uint64_t minimum, uint64_t maximum, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (text[0] == '-')
        return -1;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || end == text || *end || value < minimum || value > maximum)
        return -1;
    *out = value;
    return 0;
}

static int parse_seconds(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno || end == text || *end || !(value >= 0) || !isfinite(value))
        return -1;
    *out = value;
    return 0;
}

/* "1024", "16KiB", "1MB": bytes. */
static int parse_size(const char *text, size_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t multiplier;
    } units[] = {{"B", 1},     {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1u << 30},
                 {"kB", 1000}, {"KB", 1000},  {"MB", 1000000},      {"GB", 1000000000}};
    char *end = NULL;
    errno = 0;
    if (text[0] == '-')
        return -1;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || end == text)
        return -1;
    uint64_t multiplier = 1;
    if (*end) {
        bool known = false;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            if (strcmp(end, units[i].suffix) == 0) {
                multiplier = units[i].multiplier;
                known = true;
            }
        }
        if (!known)
            return -1;
    }
    if (value > SIZE_MAX / multiplier)
        return -1;
    *out = (size_t)(value * multiplier);
    return 0;
}

static int parse_value_sizes(char *text, size_t *list, value_size_spec *spec)
{
    char *dash = strchr(text, '-');
    if (dash) {
        *dash = '\0';
        if (parse_size(text, &spec->minimum) || parse_size(dash + 1, &spec->maximum) ||
            spec->minimum > spec->maximum)
            return -1;
        spec->size_count = 0;
        spec->sizes = NULL;
        return 0;
    }
    size_t count = 0;
    for (char *saveptr = NULL, *item = strtok_r(text, ",", &saveptr); item;
         item = strtok_r(NULL, ",", &saveptr)) {
        if (count == MAX_VALUE_SIZES || parse_size(item, &list[count]))
            return -1;
        count++;
    }
    if (count == 0)
        return -1;
    spec->sizes = list;
    spec->size_count = count;
    return 0;
}

static void print_summary(const load_engine_params *params, const load_results *results)
{
    double seconds = results->elapsed_seconds > 0 ? results->elapsed_seconds : 1e-9;
    printf("%s %s:%d  connections %d  threads %d  pipeline %d\n", params->transport_name,
           params->host, params->port, params->connections, params->threads,
           params->pipeline_depth);
    printf("requests   %" PRIu64 " sent, %" PRIu64 " replies (%" PRIu64 " SET, %" PRIu64
           " GET: %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64 " verified)\n",
           results->requests_sent, results->replies, results->sets, results->gets,
           results->get_hits, results->get_misses, results->verified_gets);
    printf("elapsed    %.3f s\n", results->elapsed_seconds);
    printf("throughput %.1f ops/s, %.2f MB/s of values\n", (double)results->replies / seconds,
           (double)results->value_bytes / seconds / 1e6);
    const latency_histogram *latency = &results->latency;
    if (latency_histogram_count(latency) > 0)
        printf("latency    p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms\n",
               (double)latency_histogram_percentile(latency, 50.0) / 1e6,
               (double)latency_histogram_percentile(latency, 99.0) / 1e6,
               (double)latency_histogram_percentile(latency, 99.9) / 1e6,
               (double)latency_histogram_maximum(latency) / 1e6);
    if (results->error_replies)
        printf("server errors %" PRIu64 "\n", results->error_replies);
    for (size_t i = 0; i < results->connection_count; i++) {
        const load_connection_progress *progress = &results->connections[i].progress;
        if (progress->error_class != LOAD_ERROR_NONE)
            printf("FAILED     %s [%s]\n", progress->error,
                   load_error_class_name(progress->error_class));
    }
}

int main(int argc, char **argv)
{
    load_engine_params params = load_engine_default_params();
    size_t value_size_list[MAX_VALUE_SIZES];
    bool json = false;
    const char *environment_host = getenv("TESTBED_ADDRESS");
    params.transport_name = "rdma";
    params.host = environment_host && environment_host[0] ? environment_host : "127.0.0.1";
    params.port = 6379;

    enum {
        OPTION_TRANSPORT = 256,
        OPTION_HOST,
        OPTION_PORT,
        OPTION_CONNECTIONS,
        OPTION_THREADS,
        OPTION_PIPELINE,
        OPTION_RATIO,
        OPTION_VALUE_SIZE,
        OPTION_KEYSPACE,
        OPTION_KEY_PREFIX,
        OPTION_SEQUENTIAL,
        OPTION_REQUESTS,
        OPTION_DURATION,
        OPTION_RATE,
        OPTION_RX_BUFFER,
        OPTION_MAX_WRITE,
        OPTION_CONNECT_TIMEOUT,
        OPTION_STALL,
        OPTION_VERIFY,
        OPTION_WRITTEN_BEFORE,
        OPTION_SEED,
        OPTION_JSON,
    };
    static const struct option options[] = {
        {"transport", required_argument, NULL, OPTION_TRANSPORT},
        {"host", required_argument, NULL, OPTION_HOST},
        {"port", required_argument, NULL, OPTION_PORT},
        {"connections", required_argument, NULL, OPTION_CONNECTIONS},
        {"threads", required_argument, NULL, OPTION_THREADS},
        {"pipeline", required_argument, NULL, OPTION_PIPELINE},
        {"ratio", required_argument, NULL, OPTION_RATIO},
        {"value-size", required_argument, NULL, OPTION_VALUE_SIZE},
        {"keyspace", required_argument, NULL, OPTION_KEYSPACE},
        {"key-prefix", required_argument, NULL, OPTION_KEY_PREFIX},
        {"sequential", no_argument, NULL, OPTION_SEQUENTIAL},
        {"requests", required_argument, NULL, OPTION_REQUESTS},
        {"duration", required_argument, NULL, OPTION_DURATION},
        {"rate", required_argument, NULL, OPTION_RATE},
        {"rx-buffer", required_argument, NULL, OPTION_RX_BUFFER},
        {"max-write", required_argument, NULL, OPTION_MAX_WRITE},
        {"connect-timeout", required_argument, NULL, OPTION_CONNECT_TIMEOUT},
        {"stall", required_argument, NULL, OPTION_STALL},
        {"verify", no_argument, NULL, OPTION_VERIFY},
        {"keys-written-before", no_argument, NULL, OPTION_WRITTEN_BEFORE},
        {"seed", required_argument, NULL, OPTION_SEED},
        {"json", no_argument, NULL, OPTION_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int option;
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        uint64_t number = 0;
        switch (option) {
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_LOAD_CLEAN;
        case OPTION_TRANSPORT:
            if (strcmp(optarg, "rdma") && strcmp(optarg, "tcp"))
                return usage_error("--transport must be rdma or tcp, not", optarg);
            params.transport_name = optarg;
            break;
        case OPTION_HOST:
            params.host = optarg;
            break;
        case OPTION_PORT:
            if (parse_unsigned(optarg, 1, 65535, &number))
                return usage_error("--port must be from 1 to 65535, not", optarg);
            params.port = (int)number;
            break;
        case OPTION_CONNECTIONS:
            if (parse_unsigned(optarg, 1, 100000, &number))
                return usage_error("--connections must be from 1 to 100000, not", optarg);
            params.connections = (int)number;
            break;
        case OPTION_THREADS:
            if (parse_unsigned(optarg, 1, 1024, &number))
                return usage_error("--threads must be from 1 to 1024, not", optarg);
            params.threads = (int)number;
            break;
        case OPTION_PIPELINE:
            if (parse_unsigned(optarg, 1, 65536, &number))
                return usage_error("--pipeline must be from 1 to 65536, not", optarg);
            params.pipeline_depth = (int)number;
            break;
        case OPTION_RATIO: {
            unsigned long sets = 0, gets = 0;
            char tail = 0;
            if (sscanf(optarg, "%lu:%lu%c", &sets, &gets, &tail) != 2 || sets + gets == 0)
                return usage_error("--ratio must be SET:GET such as 1:10, not", optarg);
            params.set_fraction = (double)sets / (double)(sets + gets);
            break;
        }
        case OPTION_VALUE_SIZE:
            if (parse_value_sizes(optarg, value_size_list, &params.value_sizes))
                return usage_error("--value-size must be a size, a list a,b or a range a-b, "
                                   "not",
                                   optarg);
            break;
        case OPTION_KEYSPACE:
            if (parse_unsigned(optarg, 1, UINT64_MAX, &number))
                return usage_error("--keyspace must be at least 1, not", optarg);
            params.key_space = number;
            break;
        case OPTION_KEY_PREFIX:
            params.key_prefix = optarg;
            break;
        case OPTION_SEQUENTIAL:
            params.sequential_keys = true;
            break;
        case OPTION_REQUESTS:
            if (parse_unsigned(optarg, 0, UINT64_MAX, &number))
                return usage_error("--requests must be a whole number, not", optarg);
            params.request_limit = number;
            break;
        case OPTION_DURATION:
            if (parse_seconds(optarg, &params.duration_seconds))
                return usage_error("--duration must be seconds, not", optarg);
            break;
        case OPTION_RATE:
            if (parse_seconds(optarg, &params.rate_limit_per_second))
                return usage_error("--rate must be requests per second, not", optarg);
            break;
        case OPTION_RX_BUFFER:
            if (parse_size(optarg, &params.rdma_rx_bytes) || params.rdma_rx_bytes == 0)
                return usage_error("--rx-buffer must be a size such as 1MiB, not", optarg);
            break;
        case OPTION_MAX_WRITE:
            if (parse_size(optarg, &params.rdma_max_write_bytes) ||
                params.rdma_max_write_bytes < TRANSPORT_MIN_RDMA_MAX_WRITE_BYTES ||
                params.rdma_max_write_bytes > TRANSPORT_MAX_RDMA_MAX_WRITE_BYTES)
                return usage_error("--max-write must be a size from 4KiB to 16MiB, not", optarg);
            break;
        case OPTION_CONNECT_TIMEOUT:
            if (parse_unsigned(optarg, 1, 600000, &number))
                return usage_error("--connect-timeout must be from 1 to 600000 ms, not", optarg);
            params.connect_timeout_ms = (int)number;
            break;
        case OPTION_STALL:
            if (parse_seconds(optarg, &params.stall_seconds) || params.stall_seconds <= 0)
                return usage_error("--stall must be seconds above 0, not", optarg);
            break;
        case OPTION_VERIFY:
            params.verify = true;
            break;
        case OPTION_WRITTEN_BEFORE:
            params.keys_written_before = true;
            break;
        case OPTION_SEED:
            if (parse_unsigned(optarg, 0, UINT64_MAX, &params.seed))
                return usage_error("--seed must be a whole number, not", optarg);
            break;
        case OPTION_JSON:
            json = true;
            break;
        default:
            return usage_error("unknown option or missing value:", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (params.keys_written_before && !params.verify)
        return usage_error("--keys-written-before needs --verify", NULL);

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    signal(SIGPIPE, SIG_IGN);

    char error[512];
    load_engine *engine = load_engine_start(&params, error, sizeof error);
    if (!engine) {
        fprintf(stderr, "valkey-load: %s\n", error);
        return EXIT_LOAD_USAGE;
    }
    bool stop_requested = false;
    while (load_engine_wait(engine, WAIT_SLICE_MS) != 0) {
        if (interrupted && !stop_requested) {
            load_engine_stop(engine);
            stop_requested = true;
        }
    }
    const load_results *results = load_engine_results(engine);
    int exit_code = EXIT_LOAD_CLEAN;
    if (results->failed_connections > 0 || results->error_replies > 0)
        exit_code = EXIT_LOAD_FAILED;
    if (interrupted)
        exit_code = EXIT_LOAD_INTERRUPTED;
    if (json) {
        if (load_results_write_json(results, stdout, error, sizeof error) != 0) {
            fprintf(stderr, "valkey-load: %s\n", error);
            exit_code = EXIT_LOAD_FAILED;
        }
    } else {
        print_summary(&params, results);
    }
    for (size_t i = 0; i < results->connection_count; i++) {
        const load_connection_progress *progress = &results->connections[i].progress;
        if (progress->error_class != LOAD_ERROR_NONE && json)
            fprintf(stderr, "valkey-load: %s\n", progress->error);
    }
    load_engine_destroy(engine);
    return exit_code;
}
