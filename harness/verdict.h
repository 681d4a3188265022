/*
 * verdict.h: the judgement of one case, as an incremental state machine fed one watchdog
 * sample at a time. Pure: no clock, no I/O; the caller supplies time and observations.
 *
 * Promises:
 * - SPIN: a thread at or above the spin threshold in every sample for at least the spin
 *   window (its run starts at the first sample at or above it; one sample below restarts
 *   it), WHILE at least one connection with requests outstanding has made no progress for
 *   at least the spin window. A busy thread while every connection progresses is not a
 *   failure: Valkey IO threads poll.
 * - STALL: a connection with requests outstanding and no progress for at least the stall
 *   timeout, while no thread is at or above the threshold at all. (A thread above it that
 *   has not yet filled the window holds STALL back: it either becomes SPIN or drops.)
 * - CRASH: the server exited, was killed by a signal, or logged an assertion.
 * - DATA: at least one verify mismatch.
 * - Progress is judged per connection, so one wedged connection among progressing ones
 *   counts. Each failure kind is latched with the evidence of its first sample; the case's
 *   verdict is the highest-priority kind seen: CRASH > DATA > SPIN > STALL > PASS.
 * - Onset: SPIN, the later of the spin's start and the wedged connection's last progress
 *   (the moment both held); STALL, the last progress of the wedged connection; CRASH and
 *   DATA, the sample that showed them. `detected_s` is the sample that declared it.
 */
#ifndef HARNESS_VERDICT_H
#define HARNESS_VERDICT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scenario.h"

/* Evidence keeps at most this many threads and connections: enough to name every IO
 * thread of a large server (Valkey allows 128 IO threads, but a spin involves a few). */
#define VERDICT_EVIDENCE_THREADS 16
#define VERDICT_EVIDENCE_CONNECTIONS 16
#define VERDICT_NAME_BYTES 96
#define VERDICT_TEXT_BYTES 256
/* The default spin threshold of the scenario's watchdog block, percent of one CPU. */
#define VERDICT_DEFAULT_SPIN_THRESHOLD_PERCENT 90.0

typedef struct verdict_settings {
    double spin_threshold_percent;
    double spin_window_s;
    double stall_timeout_s;
} verdict_settings;

typedef struct verdict_thread_cpu {
    const char *name;
    pid_t tid;
    double cpu_percent; /* of one CPU, over the interval ending at this sample */
} verdict_thread_cpu;

typedef struct verdict_connection {
    const char *name;
    uint64_t outstanding;
    /* Since the last reply; before the first reply, since the first request was sent. */
    double seconds_since_progress;
} verdict_connection;

typedef enum verdict_server_state {
    VERDICT_SERVER_RUNNING,
    VERDICT_SERVER_EXITED, /* exit_status holds the code */
    VERDICT_SERVER_KILLED, /* exit_signal holds the signal */
} verdict_server_state;

typedef enum verdict_probe {
    VERDICT_PROBE_NOT_RUN, /* no probe finished in this sample: keep the last known */
    VERDICT_PROBE_ANSWERED,
    VERDICT_PROBE_UNANSWERED, /* no PONG within the deadline */
} verdict_probe;

typedef struct verdict_sample {
    double time_s; /* since the case started */
    const verdict_thread_cpu *threads;
    size_t thread_count;
    const verdict_connection *connections;
    size_t connection_count;
    verdict_server_state server_state;
    int exit_status;
    int exit_signal;
    const char *assertion_line; /* NULL when no assertion was logged */
    uint64_t verify_mismatches; /* cumulative */
    verdict_probe probe;
} verdict_sample;

typedef struct verdict_evidence_thread {
    pid_t tid;
    char name[VERDICT_NAME_BYTES];
    double cpu_percent;
    double spinning_s; /* how long it had been at or above the threshold */
} verdict_evidence_thread;

typedef struct verdict_evidence_connection {
    char name[VERDICT_NAME_BYTES];
    uint64_t outstanding;
    double seconds_since_progress;
} verdict_evidence_connection;

typedef struct verdict_evidence {
    scenario_verdict verdict;
    double onset_s;
    double detected_s;
    verdict_evidence_thread threads[VERDICT_EVIDENCE_THREADS]; /* SPIN: the spinning ones */
    size_t thread_count;
    verdict_evidence_connection connections[VERDICT_EVIDENCE_CONNECTIONS]; /* wedged ones */
    size_t connection_count;
    size_t wedged_connections_total; /* may exceed connection_count */
    verdict_probe probe;             /* the last probe outcome known at detection */
    verdict_server_state server_state;
    int exit_status;
    int exit_signal;
    char assertion_line[VERDICT_TEXT_BYTES];
    uint64_t verify_mismatches;
} verdict_evidence;

typedef struct verdict_thread_run {
    pid_t tid;
    double spinning_since_s;
    bool seen; /* in the latest sample */
} verdict_thread_run;

typedef struct verdict_judge {
    verdict_settings settings;
    verdict_thread_run *runs; /* threads at or above the threshold right now */
    size_t run_count;
    size_t run_capacity;
    verdict_probe last_probe;
    bool found[SCENARIO_VERDICT_COUNT];
    verdict_evidence evidence[SCENARIO_VERDICT_COUNT]; /* valid where found */
} verdict_judge;

/* Settings from a scenario's watchdog block (milliseconds to seconds). */
verdict_settings verdict_settings_from_watchdog(const scenario_watchdog *watchdog);

void verdict_judge_init(verdict_judge *judge, verdict_settings settings);
void verdict_judge_free(verdict_judge *judge);

/* Feeds one sample, in time order. Returns the failure kind this sample declared for the
 * first time (the highest-priority one if several), or SCENARIO_VERDICT_PASS when none:
 * the runner captures stacks at the first SPIN or STALL. -1 when out of memory. */
int verdict_judge_update(verdict_judge *judge, const verdict_sample *sample);

/* The verdict so far: the highest-priority kind found, PASS when none. */
scenario_verdict verdict_judge_verdict(const verdict_judge *judge);
/* The evidence of the verdict so far (for PASS: a zeroed record with verdict PASS). */
const verdict_evidence *verdict_judge_evidence(const verdict_judge *judge);

/* One line for a person: "SPIN at 3.2 s (onset 2.0 s): io_thd_1 (tid 12) 99% for 1.2 s;
 * wedged: conn 0 (2 outstanding, 1.5 s); probe: no answer". */
void verdict_evidence_describe(const verdict_evidence *evidence, char *out, size_t out_size);
/* A new JSON object for summary.json; NULL when out of memory. */
json_t *verdict_evidence_to_json(const verdict_evidence *evidence);
const char *verdict_probe_name(verdict_probe probe);
/* The verdict as people read it in reports: "PASS", "SPIN", "STALL", "CRASH", "DATA".
 * (JSON keeps scenario_verdict_name, the scenario files' lower-case words.) */
const char *verdict_label(scenario_verdict verdict);

#endif
