/*
 * results.h: the results folder of one run, results/<UTC start>-<scenario>/, written as
 * the run goes so that a run killed halfway keeps every finished case.
 *
 * Promises:
 * - results_run_create makes the folder (and the results root if needed), starts cpu.csv
 *   and progress.csv with their header lines, and points results/latest at the run: a
 *   symbolic link made under a temporary name and renamed over the old one, so `latest`
 *   always exists whole. Two runs started in the same second get "-2", "-3" suffixes.
 * - The CSV timelines are appended row by row and flushed at once, so a reader (or a
 *   crash) sees every row written so far. Text fields are quoted as RFC 4180 says.
 * - results_add_case rewrites summary.json and junit.xml ATOMICALLY: a temporary file in
 *   the same folder, fsync, rename, fsync of the folder. A reader sees the old file or
 *   the new one, never half of one.
 * - junit.xml holds one testcase per case: an unexpected outcome is a <failure> whose
 *   message holds the evidence; a reproduced known bug is <skipped> (as pytest records an
 *   expected failure), so it neither fails CI nor disappears. Every text is XML-escaped.
 * - Every failure to write returns -1 with one line naming the file and the reason.
 */
#ifndef HARNESS_RESULTS_H
#define HARNESS_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "known_bug.h"
#include "scenario.h"
#include "verdict.h"

#define RESULTS_ERROR_BYTES 1024

typedef struct results_run_info {
    const char *scenario_name;
    const char *scenario_path;  /* may be NULL */
    const char *server_version; /* e.g. "9.1.2"; may be NULL when unknown */
    const char *testbed;        /* e.g. "native rxe" or "micro-VM"; may be NULL */
    time_t start_time;          /* wall clock; names the folder (UTC) */
    const char *shard;          /* "I/N" when the run is one shard of a suite; may be NULL */
} results_run_info;

typedef struct results_latency {
    double p50_us;
    double p90_us;
    double p99_us;
    double p999_us;
    double max_us;
} results_latency;

/* What the disruption fields of a case did, summed over its repetitions' main loads. */
typedef struct results_disruptions {
    uint64_t churn_kills;         /* connections the client killed abruptly */
    uint64_t server_disconnects;  /* connections the server dropped, as expected */
    uint64_t requests_lost;       /* outstanding on those connections: not judged */
    uint64_t client_kill_rounds;  /* CLIENT KILL commands answered */
    uint64_t clients_killed;      /* as the server counted them */
    uint64_t keepalives_received; /* RDMA keepalives, all connections */
    uint64_t verified_gets;       /* GET replies checked byte by byte, read-back included */
} results_disruptions;

typedef struct results_case {
    const scenario_case *scenario_case; /* name and every parameter */
    const case_judgement *judgement;    /* verdict, outcome, message over the repetitions */
    const verdict_evidence *evidence;   /* of the repetition that decided; NULL: none */
    const scenario_verdict *repetition_verdicts;
    size_t repetition_count;
    double duration_s;
    double requests_per_second;
    double value_bytes_per_second;
    results_latency latency;
    const char *stacks_file; /* file name inside the run folder; NULL when none taken */
    /* Throughput of each repetition's main load (repetition_count values); may be NULL. */
    const double *repetition_requests_per_second;
    /* The case's 0-based position in the expanded case list of every scenario file of the
     * run, sharded or not: what lets a merge of shards restore the unsharded order. */
    bool has_case_index;
    size_t case_index;
    /* Servers started for the case's repetitions (fewer than the repetitions when a
     * fresh_per_case: false file kept one); written when servers_recorded. */
    bool servers_recorded;
    int servers_started;
    const results_disruptions *disruptions; /* NULL: not recorded */
    /* A planted fault, in the repetition whose evidence is shown, on the same clock as
     * the evidence's onset: when it was planted, and when it was undone (SIGCONT, the
     * link back up); negative when it never was. Written as "fault_timeline". */
    bool has_fault_timeline;
    double fault_applied_s;
    double fault_cleared_s;
    /* link_flap: "ok" when a new RDMA connection worked once the link was back, else why
     * not; NULL or empty when not checked. Written as fault_timeline.reconnect. */
    const char *fault_reconnect;
} results_case;

typedef struct results_run results_run;

/* Creates the run folder under results_root. NULL with one line in error on failure. */
results_run *results_run_create(const char *results_root, const results_run_info *info, char *error,
                                size_t error_size);

/* The run folder, e.g. "results/20261126T190715Z-busy-loop". */
const char *results_run_directory(const results_run *run);

/* One row of cpu.csv: time_s,tid,thread,cpu_percent,case */
int results_append_cpu(results_run *run, double time_s, pid_t tid, const char *thread,
                       double cpu_percent, const char *case_name, char *error, size_t error_size);

/* One row of progress.csv: time_s,case,connection,outstanding,seconds_since_progress,replies */
int results_append_progress(results_run *run, double time_s, const char *case_name,
                            const char *connection, uint64_t outstanding,
                            double seconds_since_progress, uint64_t replies, char *error,
                            size_t error_size);

/* Adds a finished case and rewrites summary.json and junit.xml atomically. */
int results_add_case(results_run *run, const results_case *finished, char *error,
                     size_t error_size);

/* Adds a case already in summary.json form (the reference is taken, also on failure) and
 * rewrites summary.json and junit.xml atomically. For callers with a case shape of their
 * own (compare); the junit rules above apply to its "outcome", "verdict" and "message". */
int results_add_case_json(results_run *run, json_t *case_object, char *error, size_t error_size);

/* Sets a top-level field of summary.json (the reference is taken), written with the next
 * case. 0, or -1 when out of memory. */
int results_set_run_field(results_run *run, const char *key, json_t *value);

/* Pure: junit.xml for a whole summary.json document (as results_add_case writes it, or as
 * a merge joins it). A new string (free it), NULL when out of memory. */
char *results_junit_from_summary(const json_t *summary);

/* Writes directory/name through a temporary file and a rename, so a reader never sees
 * half of it. 0, or -1 with one line in error. */
int results_write_file_atomically(const char *directory, const char *name, const char *content,
                                  char *error, size_t error_size);

/* Closes the timelines (reporting a failed final write) and frees the run. NULL is safe. */
int results_run_close(results_run *run, char *error, size_t error_size);

/* Pure: text with &, <, >, " and ' escaped for XML, and the control characters XML 1.0
 * cannot hold replaced by '?'. A new string (free it), NULL when out of memory. */
char *results_xml_escape(const char *text);

#endif
