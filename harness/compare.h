/*
 * compare.h: baseline against candidate, `./run.sh compare`. Each case of the scenario
 * files runs on both builds interleaved (baseline, candidate, baseline, candidate, ...),
 * so drift over time hits both alike; each repetition is one runner repetition (fresh
 * server, load, watchdog). Per case the requests per second of the repetitions are judged
 * by ab_compare (one-sided Mann-Whitney U and the median change against the threshold).
 *
 * Promises:
 * - A SPEC is a valkey-server path, "SERVER:MODULE" for a server with its valkey-rdma.so,
 *   a Valkey source tree (a folder holding src/server.h), or a results folder (holding
 *   summary.json). A results folder is a stored baseline: its samples are the candidate
 *   samples of a compare run, or the per-repetition throughput of a run; it is not
 *   interleaved, so every verdict against it is labelled weak evidence.
 * - The results folder holds summary.json (both sample arrays and the comparison per
 *   case), junit.xml (a REGRESSION, or an unexpected watchdog verdict in any repetition of
 *   either build, is a failure), cpu.csv and progress.csv of every repetition.
 * - compare_run returns 0 when no case regressed and every repetition's watchdog verdict
 *   was as expected, 1 otherwise, 2 for a bad scenario or stored baseline, 125 when the
 *   environment could not run it, 130 when interrupted.
 */
#ifndef HARNESS_COMPARE_H
#define HARNESS_COMPARE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "shard.h"

#define COMPARE_DEFAULT_REPETITIONS 9
#define COMPARE_ERROR_BYTES 1024

typedef enum compare_spec_kind {
    COMPARE_SPEC_SERVER, /* a valkey-server, with its module or RDMA built in */
    COMPARE_SPEC_SOURCE, /* a source tree, built with RDMA into the cache */
    COMPARE_SPEC_STORED, /* the results folder of an earlier run */
} compare_spec_kind;

typedef struct compare_spec {
    compare_spec_kind kind;
    char path[PATH_MAX];        /* the server, the source tree or the results folder */
    char module_path[PATH_MAX]; /* COMPARE_SPEC_SERVER: empty when RDMA is built in */
} compare_spec;

/* Classifies a SPEC by what is on disk. flag names it in the error ("--baseline").
 * 0, or -1 with one line in error. */
int compare_spec_parse(const char *flag, const char *text, compare_spec *spec, char *error,
                       size_t error_size);

typedef struct compare_options {
    const char *const *scenario_paths;
    size_t scenario_count;
    const char *case_filter; /* NULL: every case */
    const char *results_root;
    const char *baseline;  /* SPEC, a server (as "SERVER[:MODULE]") or a stored results folder */
    const char *candidate; /* SPEC, a server */
    size_t repetitions;
    double threshold; /* a fraction: 0.05 is 5% */
    /* 0: none; else the candidate's server runs limited to this percent of one CPU (a
     * build slowed on purpose, to prove the gate: cpu_limit.h). */
    int candidate_cpu_limit_percent;
    /* 0: none; else the candidate's server is stopped for this percent of every 100 ms
     * (stop_cycle.h): a closed-loop load loses about that share of its throughput. */
    int candidate_pause_percent;
    shard_spec shard;
    const char *rdma_address;
    const char *testbed_description;
    bool live_progress;
} compare_options;

/* Checks the scenarios and, for a stored baseline, that it holds enough samples of every
 * selected case; nothing runs. 0, or EXIT_USAGE with one line printed. */
int compare_check(const compare_options *options);

/* Runs the comparison (inside the test bed). Returns the exit code above. */
int compare_run(const compare_options *options);

/* Pure: the stored samples of case_name in a summary.json document: the candidate
 * samples of a compare run, else the per-repetition throughput of a run. A new array in
 * *samples (free it), or -1 with one line in error (no such case, no per-repetition
 * samples, fewer than AB_MINIMUM_REPETITIONS). source names the folder in messages. */
int compare_stored_samples(const json_t *summary, const char *source, const char *case_name,
                           double **samples, size_t *count, char *error, size_t error_size);

/* Draws a results folder's report: for a compare folder the baseline-against-candidate
 * chart first, then report_render. 0, or -1 with one line in error. */
int compare_render_report(const char *run_dir, char *error, size_t error_size);

#endif
