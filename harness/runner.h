/*
 * runner.h: runs scenario cases against the server under test, inside the test bed,
 * and judges them: for each case and repetition a fresh server, the load engine
 * in-process, the watchdog sampling every sample_interval (thread CPU from /proc, every
 * connection's progress, a TCP PING probe of the main thread on its own connection,
 * server exit and logged assertions), stacks at the first SPIN or STALL, and the results
 * folder written as each case ends.
 *
 * Promises: every wait is bounded by the case's own limits (duration or request count,
 * the stall timeout, fixed margins); the server is stopped and reaped at the end of
 * every repetition whatever happened; an interrupt ends the run after writing what has
 * finished. A planted fault is undone before anything is torn down: a link taken down
 * by link_flap is up again (and its RDMA port active) before the server or a connection
 * is closed, on every path: the fault's end, a verdict, an interrupt, a failed write.
 * The first write to the results folder that fails (disk full, read-only) ends the run:
 * one line naming the file, exit 125, and summary.json keeps every case finished before.
 */
#ifndef HARNESS_RUNNER_H
#define HARNESS_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "known_bug.h"
#include "results.h"
#include "scenario.h"
#include "shard.h"
#include "verdict.h"

typedef struct runner_options {
    const char *const *scenario_paths;
    size_t scenario_count;
    const char *case_filter;  /* NULL: every case; else the exact case name */
    const char *results_root; /* e.g. <repo>/results */
    const char *server_path;
    const char *rdma_module_path; /* NULL or empty: built in */
    const char *rdma_address;
    /* The test bed's own netdev and RDMA device (TESTBED_NETDEV, TESTBED_RDMA_DEVICE):
     * what a link_flap fault takes down. NULL when the test bed did not make them (an
     * RDMA device of the host's own is never taken down): such a case cannot run. */
    const char *netdev;
    const char *rdma_device;
    const char *testbed_description;
    bool repro;                   /* print REPRODUCED / PASS the way ./run.sh repro promises */
    bool live_progress;           /* the output is a terminal: keep a progress line updated */
    shard_spec shard;             /* count 0: every case */
    int server_cpu_limit_percent; /* 0: none; else the server runs under cpu_limit.h */
    int server_pause_percent;     /* 0: none; else the server is paused (stop_cycle.h) */
} runner_options;

/* Loads and checks every scenario file without running anything: 0, or EXIT_USAGE with
 * the first file:line:col message printed. */
int runner_check_scenarios(const char *const *paths, size_t count, const char *case_filter);
/* Runs them; returns the harness exit code (0 all as expected, 1 an unexpected verdict,
 * 2 bad scenario, 125 the environment could not run it, 130 interrupted). */
int runner_run(const runner_options *options);

/*
 * One case run repetition by repetition, for a caller that interleaves builds (compare):
 * each repetition is exactly what runner_run does for one (a fresh server from
 * options->server_path, the load, the watchdog, the timelines into results), and the
 * server is stopped and reaped before runner_case_repeat returns.
 */
typedef struct runner_case runner_case;

typedef struct runner_repetition {
    scenario_verdict verdict;
    verdict_evidence evidence;
    double requests_per_second; /* of the main load alone, read-back left out */
    double server_paused_share; /* measured share the server was stopped (--candidate-pause) */
} runner_repetition;

/* NULL when out of memory. options, one_case and results must outlive it. */
runner_case *runner_case_open(const runner_options *options, const scenario_case *one_case,
                              results_run *results);
/* 0, or -1 when the environment failed (the server did not come up, the load could not
 * start, a write to the results folder failed), with one line in error. */
int runner_case_repeat(runner_case *opened, runner_repetition *repetition, char *error,
                       size_t error_size);
/* The judgement over the verdicts of its repetitions, as runner_run judges a case. */
case_judgement runner_case_judge(const runner_case *opened, const scenario_verdict *verdicts,
                                 size_t count);
void runner_case_close(runner_case *opened);

#endif
