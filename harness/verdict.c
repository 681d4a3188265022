#include "verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sample times are sums of decimal intervals (0.1 s is not exact in binary): a window of
 * 1.0 s filled by ten 0.1 s steps must count as filled. A nanosecond is far below any
 * sampling interval, so it changes no real decision. */
#define TIME_EPSILON_S 1e-9

/* Priority when several kinds hold: the first listed wins. */
static const scenario_verdict failure_priority[] = {
    SCENARIO_VERDICT_CRASH,
    SCENARIO_VERDICT_DATA,
    SCENARIO_VERDICT_SPIN,
    SCENARIO_VERDICT_STALL,
};
#define FAILURE_KIND_COUNT (sizeof failure_priority / sizeof failure_priority[0])

verdict_settings verdict_settings_from_watchdog(const scenario_watchdog *watchdog)
{
    verdict_settings settings = {
        .spin_threshold_percent = watchdog->spin_threshold > 0
                                      ? (double)watchdog->spin_threshold
                                      : VERDICT_DEFAULT_SPIN_THRESHOLD_PERCENT,
        .spin_window_s = (double)watchdog->spin_window_ms / 1000.0,
        .stall_timeout_s = (double)watchdog->stall_timeout_ms / 1000.0,
    };
    return settings;
}

void verdict_judge_init(verdict_judge *judge, verdict_settings settings)
{
    memset(judge, 0, sizeof *judge);
    judge->settings = settings;
    judge->last_probe = VERDICT_PROBE_NOT_RUN;
}

void verdict_judge_free(verdict_judge *judge)
{
    free(judge->runs);
    judge->runs = NULL;
    judge->run_count = 0;
    judge->run_capacity = 0;
}

static bool at_least(double elapsed, double bound)
{
    return elapsed + TIME_EPSILON_S >= bound;
}

/* Keeps a run for every thread at or above the threshold in this sample; a thread below
 * it, or absent, loses its run (a dip of one sample restarts the window). */
static int update_thread_runs(verdict_judge *judge, const verdict_sample *sample)
{
    for (size_t i = 0; i < judge->run_count; i++)
        judge->runs[i].seen = false;
    for (size_t t = 0; t < sample->thread_count; t++) {
        const verdict_thread_cpu *thread = &sample->threads[t];
        if (thread->cpu_percent < judge->settings.spin_threshold_percent)
            continue;
        verdict_thread_run *run = NULL;
        for (size_t i = 0; i < judge->run_count; i++)
            if (judge->runs[i].tid == thread->tid)
                run = &judge->runs[i];
        if (run == NULL) {
            if (judge->run_count == judge->run_capacity) {
                size_t grown = judge->run_capacity ? judge->run_capacity * 2 : 8;
                verdict_thread_run *more = realloc(judge->runs, grown * sizeof *more);
                if (more == NULL)
                    return -1;
                judge->runs = more;
                judge->run_capacity = grown;
            }
            run = &judge->runs[judge->run_count++];
            run->tid = thread->tid;
            run->spinning_since_s = sample->time_s;
        }
        run->seen = true;
    }
    size_t kept = 0;
    for (size_t i = 0; i < judge->run_count; i++)
        if (judge->runs[i].seen)
            judge->runs[kept++] = judge->runs[i];
    judge->run_count = kept;
    return 0;
}

static const verdict_thread_run *run_of(const verdict_judge *judge, pid_t tid)
{
    for (size_t i = 0; i < judge->run_count; i++)
        if (judge->runs[i].tid == tid)
            return &judge->runs[i];
    return NULL;
}

static void start_evidence(const verdict_judge *judge, const verdict_sample *sample,
                           scenario_verdict verdict, verdict_evidence *evidence)
{
    memset(evidence, 0, sizeof *evidence);
    evidence->verdict = verdict;
    evidence->onset_s = sample->time_s;
    evidence->detected_s = sample->time_s;
    evidence->probe = judge->last_probe;
    evidence->server_state = sample->server_state;
    evidence->exit_status = sample->exit_status;
    evidence->exit_signal = sample->exit_signal;
    if (sample->assertion_line != NULL)
        snprintf(evidence->assertion_line, sizeof evidence->assertion_line, "%s",
                 sample->assertion_line);
    evidence->verify_mismatches = sample->verify_mismatches;
}

/* Adds every connection wedged for at least `bound`; returns the earliest last progress,
 * or a value above time_s when none is wedged. */
static double add_wedged_connections(const verdict_sample *sample, double bound,
                                     verdict_evidence *evidence)
{
    double earliest_progress = sample->time_s + 1.0;
    for (size_t c = 0; c < sample->connection_count; c++) {
        const verdict_connection *connection = &sample->connections[c];
        if (connection->outstanding == 0 || !at_least(connection->seconds_since_progress, bound))
            continue;
        evidence->wedged_connections_total++;
        double last_progress = sample->time_s - connection->seconds_since_progress;
        if (last_progress < earliest_progress)
            earliest_progress = last_progress;
        if (evidence->connection_count < VERDICT_EVIDENCE_CONNECTIONS) {
            verdict_evidence_connection *kept =
                &evidence->connections[evidence->connection_count++];
            snprintf(kept->name, sizeof kept->name, "%s",
                     connection->name ? connection->name : "?");
            kept->outstanding = connection->outstanding;
            kept->seconds_since_progress = connection->seconds_since_progress;
        }
    }
    return earliest_progress;
}

static bool spin_holds(const verdict_judge *judge, const verdict_sample *sample,
                       verdict_evidence *evidence)
{
    start_evidence(judge, sample, SCENARIO_VERDICT_SPIN, evidence);
    double window = judge->settings.spin_window_s;
    double earliest_spin = sample->time_s + 1.0;
    size_t spinning = 0;
    for (size_t t = 0; t < sample->thread_count; t++) {
        const verdict_thread_cpu *thread = &sample->threads[t];
        const verdict_thread_run *run = run_of(judge, thread->tid);
        if (run == NULL || !at_least(sample->time_s - run->spinning_since_s, window))
            continue;
        spinning++;
        if (run->spinning_since_s < earliest_spin)
            earliest_spin = run->spinning_since_s;
        if (evidence->thread_count < VERDICT_EVIDENCE_THREADS) {
            verdict_evidence_thread *kept = &evidence->threads[evidence->thread_count++];
            kept->tid = thread->tid;
            snprintf(kept->name, sizeof kept->name, "%s", thread->name ? thread->name : "?");
            kept->cpu_percent = thread->cpu_percent;
            kept->spinning_s = sample->time_s - run->spinning_since_s;
        }
    }
    if (spinning == 0)
        return false;
    double earliest_progress = add_wedged_connections(sample, window, evidence);
    if (evidence->wedged_connections_total == 0)
        return false;
    evidence->onset_s = earliest_spin > earliest_progress ? earliest_spin : earliest_progress;
    return true;
}

static bool stall_holds(const verdict_judge *judge, const verdict_sample *sample,
                        verdict_evidence *evidence)
{
    start_evidence(judge, sample, SCENARIO_VERDICT_STALL, evidence);
    if (judge->run_count > 0)
        return false; /* a thread above the threshold: SPIN or nothing, not yet STALL */
    double earliest_progress =
        add_wedged_connections(sample, judge->settings.stall_timeout_s, evidence);
    if (evidence->wedged_connections_total == 0)
        return false;
    evidence->onset_s = earliest_progress;
    return true;
}

int verdict_judge_update(verdict_judge *judge, const verdict_sample *sample)
{
    if (sample->probe != VERDICT_PROBE_NOT_RUN)
        judge->last_probe = sample->probe;
    if (update_thread_runs(judge, sample) != 0)
        return -1;

    verdict_evidence candidate;
    bool holds[SCENARIO_VERDICT_COUNT] = {false};
    verdict_evidence found[SCENARIO_VERDICT_COUNT];

    start_evidence(judge, sample, SCENARIO_VERDICT_CRASH, &found[SCENARIO_VERDICT_CRASH]);
    holds[SCENARIO_VERDICT_CRASH] =
        sample->server_state != VERDICT_SERVER_RUNNING || sample->assertion_line != NULL;
    start_evidence(judge, sample, SCENARIO_VERDICT_DATA, &found[SCENARIO_VERDICT_DATA]);
    holds[SCENARIO_VERDICT_DATA] = sample->verify_mismatches > 0;
    if (spin_holds(judge, sample, &candidate)) {
        holds[SCENARIO_VERDICT_SPIN] = true;
        found[SCENARIO_VERDICT_SPIN] = candidate;
    }
    if (stall_holds(judge, sample, &candidate)) {
        holds[SCENARIO_VERDICT_STALL] = true;
        found[SCENARIO_VERDICT_STALL] = candidate;
    }

    int declared = SCENARIO_VERDICT_PASS;
    for (size_t i = FAILURE_KIND_COUNT; i-- > 0;) {
        scenario_verdict kind = failure_priority[i];
        if (!holds[kind] || judge->found[kind])
            continue;
        judge->found[kind] = true;
        judge->evidence[kind] = found[kind];
        declared = kind; /* walking from low to high priority: the last one set wins */
    }
    return declared;
}

scenario_verdict verdict_judge_verdict(const verdict_judge *judge)
{
    for (size_t i = 0; i < FAILURE_KIND_COUNT; i++)
        if (judge->found[failure_priority[i]])
            return failure_priority[i];
    return SCENARIO_VERDICT_PASS;
}

const verdict_evidence *verdict_judge_evidence(const verdict_judge *judge)
{
    static const verdict_evidence pass = {.verdict = SCENARIO_VERDICT_PASS};
    scenario_verdict verdict = verdict_judge_verdict(judge);
    return verdict == SCENARIO_VERDICT_PASS ? &pass : &judge->evidence[verdict];
}

const char *verdict_label(scenario_verdict verdict)
{
    switch (verdict) {
    case SCENARIO_VERDICT_PASS:
        return "PASS";
    case SCENARIO_VERDICT_SPIN:
        return "SPIN";
    case SCENARIO_VERDICT_STALL:
        return "STALL";
    case SCENARIO_VERDICT_CRASH:
        return "CRASH";
    case SCENARIO_VERDICT_DATA:
        return "DATA";
    case SCENARIO_VERDICT_COUNT:
        break;
    }
    return "?";
}

const char *verdict_probe_name(verdict_probe probe)
{
    switch (probe) {
    case VERDICT_PROBE_NOT_RUN:
        return "not run";
    case VERDICT_PROBE_ANSWERED:
        return "answered";
    case VERDICT_PROBE_UNANSWERED:
        return "unanswered";
    }
    return "?";
}

/* Appends to a fixed buffer; stops quietly (keeping the NUL) when it is full. */
static void append(char *out, size_t out_size, size_t *used, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *out, size_t out_size, size_t *used, const char *format, ...)
{
    if (*used >= out_size)
        return;
    va_list arguments;
    va_start(arguments, format);
    int written = vsnprintf(out + *used, out_size - *used, format, arguments);
    va_end(arguments);
    if (written > 0)
        *used += (size_t)written < out_size - *used ? (size_t)written : out_size - *used - 1;
}

void verdict_evidence_describe(const verdict_evidence *evidence, char *out, size_t out_size)
{
    size_t used = 0;
    if (out_size == 0)
        return;
    out[0] = '\0';
    const char *name = verdict_label(evidence->verdict);
    if (evidence->verdict == SCENARIO_VERDICT_PASS) {
        append(out, out_size, &used, "%s", name);
        return;
    }
    append(out, out_size, &used, "%s at %.1f s (onset %.1f s)", name, evidence->detected_s,
           evidence->onset_s);
    if (evidence->verdict == SCENARIO_VERDICT_CRASH) {
        if (evidence->server_state == VERDICT_SERVER_KILLED)
            append(out, out_size, &used, ": server killed by signal %d", evidence->exit_signal);
        else if (evidence->server_state == VERDICT_SERVER_EXITED)
            append(out, out_size, &used, ": server exited with status %d", evidence->exit_status);
        if (evidence->assertion_line[0] != '\0')
            append(out, out_size, &used, "; assertion: %s", evidence->assertion_line);
    } else if (evidence->verdict == SCENARIO_VERDICT_DATA) {
        append(out, out_size, &used, ": %llu verify mismatches",
               (unsigned long long)evidence->verify_mismatches);
    }
    for (size_t i = 0; i < evidence->thread_count; i++) {
        const verdict_evidence_thread *thread = &evidence->threads[i];
        append(out, out_size, &used, "%s%s (tid %d) %.0f%% for %.1f s",
               i == 0 ? ": spinning: " : ", ", thread->name, (int)thread->tid, thread->cpu_percent,
               thread->spinning_s);
    }
    for (size_t i = 0; i < evidence->connection_count; i++) {
        const verdict_evidence_connection *connection = &evidence->connections[i];
        append(out, out_size, &used, "%s%s (%llu outstanding, %.1f s without progress)",
               i == 0 ? "; wedged: " : ", ", connection->name,
               (unsigned long long)connection->outstanding, connection->seconds_since_progress);
    }
    if (evidence->wedged_connections_total > evidence->connection_count)
        append(out, out_size, &used, " and %zu more",
               evidence->wedged_connections_total - evidence->connection_count);
    if (evidence->verdict == SCENARIO_VERDICT_SPIN || evidence->verdict == SCENARIO_VERDICT_STALL)
        append(out, out_size, &used, "; TCP PING probe: %s", verdict_probe_name(evidence->probe));
}

static const char *server_state_name(verdict_server_state state)
{
    switch (state) {
    case VERDICT_SERVER_RUNNING:
        return "running";
    case VERDICT_SERVER_EXITED:
        return "exited";
    case VERDICT_SERVER_KILLED:
        return "killed";
    }
    return "?";
}

json_t *verdict_evidence_to_json(const verdict_evidence *evidence)
{
    json_t *object = json_object();
    if (object == NULL)
        return NULL;
    int failed = json_object_set_new(object, "verdict",
                                     json_string(scenario_verdict_name(evidence->verdict)));
    if (evidence->verdict == SCENARIO_VERDICT_PASS)
        return failed ? (json_decref(object), NULL) : object;
    json_t *threads = json_array();
    json_t *connections = json_array();
    failed |= json_object_set_new(object, "onset_s", json_real(evidence->onset_s));
    failed |= json_object_set_new(object, "detected_s", json_real(evidence->detected_s));
    failed |= json_object_set_new(object, "threads", threads);
    failed |= json_object_set_new(object, "connections", connections);
    failed |= json_object_set_new(object, "wedged_connections",
                                  json_integer((json_int_t)evidence->wedged_connections_total));
    failed |=
        json_object_set_new(object, "probe", json_string(verdict_probe_name(evidence->probe)));
    failed |= json_object_set_new(object, "server",
                                  json_string(server_state_name(evidence->server_state)));
    if (evidence->server_state == VERDICT_SERVER_EXITED)
        failed |= json_object_set_new(object, "exit_status", json_integer(evidence->exit_status));
    if (evidence->server_state == VERDICT_SERVER_KILLED)
        failed |= json_object_set_new(object, "signal", json_integer(evidence->exit_signal));
    if (evidence->assertion_line[0] != '\0')
        failed |= json_object_set_new(object, "assertion", json_string(evidence->assertion_line));
    failed |= json_object_set_new(object, "verify_mismatches",
                                  json_integer((json_int_t)evidence->verify_mismatches));
    for (size_t i = 0; i < evidence->thread_count && threads != NULL; i++) {
        const verdict_evidence_thread *thread = &evidence->threads[i];
        json_t *item =
            json_pack("{s:i, s:s, s:f, s:f}", "tid", (int)thread->tid, "name", thread->name,
                      "cpu_percent", thread->cpu_percent, "spinning_s", thread->spinning_s);
        failed |= json_array_append_new(threads, item);
    }
    for (size_t i = 0; i < evidence->connection_count && connections != NULL; i++) {
        const verdict_evidence_connection *connection = &evidence->connections[i];
        json_t *item = json_pack("{s:s, s:I, s:f}", "name", connection->name, "outstanding",
                                 (json_int_t)connection->outstanding, "seconds_since_progress",
                                 connection->seconds_since_progress);
        failed |= json_array_append_new(connections, item);
    }
    if (failed || threads == NULL || connections == NULL) {
        json_decref(object);
        return NULL;
    }
    return object;
}
