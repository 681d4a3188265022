/*
 * scenario.h: a scenario file (YAML) says what to run against the server under test
 * and which verdict to expect. scenarios/README.md documents every field.
 *
 * Promises:
 * - scenario_load reads one file, checks every field (type, range, unknown names,
 *   duplicate keys, conflicting options) and either returns SCENARIO_OK with a fully
 *   defaulted scenario, or an error code with one line in `error`:
 *   `FILE:LINE:COL: message` (line and column count from 1). Nothing is half-loaded.
 * - The matrix is expanded at load time into an explicit cross product, first matrix
 *   key outermost, values in file order. Every case is fully validated then, so a run
 *   never meets a bad case halfway. Case names are stable:
 *   `<name>` without a matrix, else `<name>/<field>=<value>,<field>=<value>`.
 * - Sizes are bytes, durations are milliseconds, everywhere in these structs.
 * - A scenario owns every string and case it holds; scenario_free releases them all.
 */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for one error line: a path and a message, with margin. */
#define SCENARIO_ERROR_SIZE 1024
/* A value_size list or a commands list longer than this is almost surely a mistake. */
#define SCENARIO_LIST_MAX 16
/* A matrix that expands beyond this would run for days; refuse it instead. */
#define SCENARIO_CASES_MAX 4096

typedef enum scenario_status {
    SCENARIO_OK = 0,
    SCENARIO_ERROR_FILE,    /* the file cannot be opened or read */
    SCENARIO_ERROR_SYNTAX,  /* not valid YAML, or empty */
    SCENARIO_ERROR_INVALID, /* valid YAML that breaks the schema */
    SCENARIO_ERROR_MEMORY,
} scenario_status;

typedef enum scenario_verdict {
    SCENARIO_VERDICT_PASS,
    SCENARIO_VERDICT_SPIN,
    SCENARIO_VERDICT_STALL,
    SCENARIO_VERDICT_CRASH,
    SCENARIO_VERDICT_DATA,
    SCENARIO_VERDICT_COUNT,
} scenario_verdict;

typedef enum scenario_transport {
    SCENARIO_TRANSPORT_RDMA,
    SCENARIO_TRANSPORT_TCP,
    SCENARIO_TRANSPORT_MIXED, /* every other connection over TCP, the rest over RDMA */
} scenario_transport;

typedef enum scenario_command {
    SCENARIO_COMMAND_SET,
    SCENARIO_COMMAND_GET,
    SCENARIO_COMMAND_PING,
    SCENARIO_COMMAND_DEL,
    SCENARIO_COMMAND_COUNT,
} scenario_command;

typedef enum scenario_fault_kind {
    SCENARIO_FAULT_NONE,
    SCENARIO_FAULT_LUA_BUSY,
    SCENARIO_FAULT_DEBUG_SLEEP,
    SCENARIO_FAULT_SIGSTOP,
    SCENARIO_FAULT_SIGKILL,
    SCENARIO_FAULT_LINK_FLAP, /* the test bed's netdev down for `duration`, then up */
} scenario_fault_kind;

typedef enum scenario_value_size_kind {
    SCENARIO_VALUE_SIZE_FIXED, /* sizes[0] */
    SCENARIO_VALUE_SIZE_LIST,  /* sizes[0..count), chosen per request in turn */
    SCENARIO_VALUE_SIZE_RANGE, /* uniformly in [sizes[0], sizes[1]] */
} scenario_value_size_kind;

typedef struct scenario_value_size {
    scenario_value_size_kind kind;
    size_t count;
    uint64_t sizes[SCENARIO_LIST_MAX];
} scenario_value_size;

typedef struct scenario_config_entry {
    char *name;  /* without the leading "--" */
    char *value; /* passed as its own argv entry */
} scenario_config_entry;

/* server.cpu and client.cpu when not given: the scheduler's choice. */
#define SCENARIO_CPU_ANY UINT64_MAX

typedef struct scenario_server {
    uint64_t io_threads;
    bool io_threads_always_active;
    uint64_t rdma_rx_size; /* bytes; 0 leaves the server's default */
    scenario_config_entry *extra_config;
    size_t extra_config_count;
    bool fresh_per_case;
    uint64_t cpu; /* the one CPU every server thread runs on; SCENARIO_CPU_ANY: any */
} scenario_server;

typedef struct scenario_client {
    scenario_transport transport;
    uint64_t connections;
    uint64_t threads;
    uint64_t pipeline;
    /* Either weights (mix) or an explicit cycle (commands); command_count > 0 selects it. */
    uint64_t mix[SCENARIO_COMMAND_COUNT];
    scenario_command commands[SCENARIO_LIST_MAX];
    size_t command_count;
    scenario_value_size value_size;
    uint64_t keyspace;
    uint64_t requests;    /* total over all connections; 0 when duration is set */
    uint64_t duration_ms; /* 0 when requests is set */
    uint64_t rate;        /* requests per second over all connections; 0 = unlimited */
    bool verify;
    uint64_t rx_buffer; /* bytes: the client's RDMA receive buffer */
    uint64_t max_write; /* bytes: the client's largest RDMA write; 0: what the server has free */
    uint64_t cpu;       /* the one CPU every load thread runs on; SCENARIO_CPU_ANY: any */
    /* The server may drop our connections (CLIENT KILL): reconnect instead of failing. */
    bool disconnects_expected;
    uint64_t idle_before_load_ms; /* 0: the load starts as soon as all are connected */
} scenario_client;

/* Connections killed abruptly by the client and reopened, during the load (#3448). */
typedef struct scenario_churn {
    bool declared;
    uint64_t every_ms;
    uint64_t connections; /* killed at each churn */
} scenario_churn;

/* CLIENT KILL TYPE normal sent by the harness over TCP, during the load (#4534). */
typedef struct scenario_client_kill {
    bool declared;
    uint64_t every_ms;
} scenario_client_kill;

typedef struct scenario_watchdog {
    uint64_t sample_interval_ms;
    uint64_t spin_threshold; /* percent of one CPU */
    uint64_t spin_window_ms;
    uint64_t stall_timeout_ms;
    uint64_t probe_interval_ms;
    uint64_t probe_timeout_ms;
} scenario_watchdog;

typedef struct scenario_known_bug {
    bool declared;
    char *id;
    char *url;                             /* NULL when there is no upstream issue yet */
    bool verdicts[SCENARIO_VERDICT_COUNT]; /* the verdicts the bug produces */
    /* Shows in some repetitions only, at a rate too low for any affordable count to be
     * sure of it: a case where it never showed is as expected, not "no longer reproduces". */
    bool intermittent;
} scenario_known_bug;

typedef struct scenario_fault {
    scenario_fault_kind kind;
    uint64_t after_ms;
    uint64_t duration_ms; /* unused by sigkill; link_flap: how long the link stays down */
} scenario_fault;

/* Everything one case runs with. */
typedef struct scenario_settings {
    char *name;
    char *description;
    scenario_server server;
    scenario_client client;
    scenario_watchdog watchdog;
    scenario_verdict expect; /* not used when known_bug.declared; the first of `expected` */
    /* Every verdict that is as expected: `expect: stall` sets one, `expect: [stall, pass]`
     * several (a fault whose effect is measured to go either way). Always holds expect. */
    bool expected[SCENARIO_VERDICT_COUNT];
    scenario_known_bug known_bug;
    uint64_t repetitions;
    scenario_fault fault;
    scenario_churn churn;
    scenario_client_kill client_kill;
} scenario_settings;

/* One matrix choice of a case, e.g. path "server.io_threads", value "2". */
typedef struct scenario_parameter {
    const char *path; /* static storage */
    char *value;      /* canonical text, e.g. "1MiB"; owned by the case */
} scenario_parameter;

typedef struct scenario_case {
    char *name;
    scenario_settings settings;
    scenario_parameter *parameters; /* one per matrix key, in file order */
    size_t parameter_count;
} scenario_case;

typedef struct scenario {
    char *path;
    scenario_settings settings; /* before the matrix and overrides are applied */
    scenario_case *cases;
    size_t case_count;
} scenario;

/* Loads `path` into `*out` (which needs no initialization). On failure, `*out` holds
 * nothing to free and `error` (SCENARIO_ERROR_SIZE bytes) holds one line. */
scenario_status scenario_load(const char *path, scenario *out, char error[SCENARIO_ERROR_SIZE]);

/* The cases of a loaded scenario; they stay owned by it and valid until scenario_free. */
void scenario_expand(const scenario *loaded, const scenario_case **cases, size_t *count);

/* Releases everything `loaded` owns; safe on a zeroed scenario. */
void scenario_free(scenario *loaded);

/* A new JSON object describing a case (name, matrix parameters, every setting, sizes in
 * bytes and durations in milliseconds) for summary.json; NULL when out of memory. */
json_t *scenario_case_to_json(const scenario_case *one_case);

const char *scenario_verdict_name(scenario_verdict verdict);
const char *scenario_transport_name(scenario_transport transport);
const char *scenario_command_name(scenario_command command);
const char *scenario_fault_kind_name(scenario_fault_kind kind);

#endif
