/*
 * cli.h: the command line of ./run.sh, parsed into options (no side effects).
 *
 * Promises: every mistake yields one line naming the offending word, and the caller
 * exits with EXIT_USAGE (2). Arguments after "--" are kept untouched, in order.
 */
#ifndef HARNESS_CLI_H
#define HARNESS_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "shard.h"

typedef enum cli_command {
    CLI_COMMAND_MAIN,   /* no command given: the main job */
    CLI_COMMAND_EXEC,   /* run a command inside the test bed */
    CLI_COMMAND_TEST,   /* build and run every test */
    CLI_COMMAND_RUN,    /* run scenario files */
    CLI_COMMAND_REPRO,  /* the one-line reproduction of #1385 */
    CLI_COMMAND_REPORT, /* redraw the report of a results folder */
    CLI_COMMAND_BENCH,  /* a benchmark: "driver" */
    CLI_COMMAND_FUZZ,   /* the libFuzzer targets */
    CLI_COMMAND_HELP,
    CLI_COMMAND_COMPARE, /* baseline against candidate, interleaved */
    CLI_COMMAND_MERGE,   /* join the results folders of shards */
    CLI_COMMAND_INSIDE,  /* internal: the part of a job that runs inside the test bed */
} cli_command;

typedef enum testbed_request {
    TESTBED_REQUEST_AUTO,
    TESTBED_REQUEST_NATIVE,
    TESTBED_REQUEST_VM,
} testbed_request;

#define CLI_MAX_SCENARIOS 64

typedef struct cli_options {
    cli_command command;
    testbed_request testbed;
    const char *server_path;      /* --server */
    const char *rdma_module_path; /* --rdma-module */
    const char *valkey_source;    /* --valkey-src */
    const char *cache_dir;        /* --cache, NULL: the default */
    const char *inside_job;       /* CLI_COMMAND_INSIDE: which job */
    int vm_cpus;
    int vm_memory_mib;
    bool verbose;
    const char *case_name;                         /* --case */
    const char *scenario_paths[CLI_MAX_SCENARIOS]; /* run: the scenario files */
    int scenario_count;
    const char *baseline;    /* compare --baseline SPEC */
    const char *candidate;   /* compare --candidate SPEC */
    int repetitions;         /* compare --repetitions, CLI_DEFAULT_REPETITIONS when not given */
    double threshold;        /* compare --threshold, as a fraction (5% is 0.05) */
    int candidate_cpu_limit; /* compare --candidate-cpu-limit PCT; 0 when not given */
    int candidate_pause;     /* compare --candidate-pause PCT; 0 when not given */
    shard_spec shard;        /* --shard I/N; count 0 when not given */
    const char *out_dir;     /* merge --out */
    const char *results_dir; /* --results: where run folders go; NULL: <repo>/results */
    char **command_argv;     /* after "--": NULL-terminated, points into argv */
    int command_argc;
} cli_options;

#define CLI_DEFAULT_VM_CPUS 2
#define CLI_DEFAULT_VM_MEMORY_MIB 4096
/* The issue asks for 9 by default and never fewer than 5 (see ab_statistics.h). */
#define CLI_DEFAULT_REPETITIONS 9
#define CLI_MINIMUM_REPETITIONS 5
#define CLI_MAXIMUM_REPETITIONS 1000
#define CLI_DEFAULT_THRESHOLD 0.05

int cli_parse(int argc, char **argv, cli_options *options, char *error, size_t error_size);
const char *cli_usage(void);
const char *cli_testbed_request_name(testbed_request request);

#endif
