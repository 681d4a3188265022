/* The verdict state machine over synthetic timelines, each with its expected verdict,
 * onset and detection time computed by hand in the comment above it. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "verdict.h"

/* Every timeline: a sample each 0.1 s for 6 s, threshold 90%, spin window 1 s, stall 3 s. */
#define SAMPLE_COUNT 60
#define SAMPLES_PER_SECOND 10.0
static const verdict_settings test_settings = {
    .spin_threshold_percent = 90.0, .spin_window_s = 1.0, .stall_timeout_s = 3.0};

enum { THREADS = 2, CONNECTIONS = 4 };

typedef struct moment {
    verdict_thread_cpu threads[THREADS];
    verdict_connection connections[CONNECTIONS];
    size_t connection_count;
    verdict_sample sample;
} moment;

/* A quiet, healthy server: two idle threads, one connection whose replies flow. */
static void healthy(moment *now, double t)
{
    memset(now, 0, sizeof *now);
    now->threads[0] = (verdict_thread_cpu){.name = "valkey-server", .tid = 100, .cpu_percent = 3};
    now->threads[1] = (verdict_thread_cpu){.name = "io_thd_1", .tid = 101, .cpu_percent = 2};
    now->connections[0] = (verdict_connection){
        .name = "connection 0", .outstanding = 4, .seconds_since_progress = 0.05};
    now->connection_count = 1;
    now->sample = (verdict_sample){.time_s = t, .server_state = VERDICT_SERVER_RUNNING};
}

static double stuck_since(double t, double since)
{
    return t > since ? t - since : 0.0;
}

/* IO thread at 100% the whole time, replies flowing: PASS. */
static void busy_but_progressing(moment *now, double t)
{
    healthy(now, t);
    now->threads[1].cpu_percent = 100;
}

/* From 1.0 s both threads spin and connection 0 gets no reply. Both runs start at 1.0;
 * at 2.0 they have lasted 1.0 s and the connection has waited 1.0 s: SPIN detected at 2.0,
 * onset max(1.0, 2.0 - 1.0) = 1.0. */
static void spin_with_wedged_connection(moment *now, double t)
{
    healthy(now, t);
    if (t >= 1.0) {
        now->threads[0].cpu_percent = 99;
        now->threads[1].cpu_percent = 98;
    }
    now->connections[0].seconds_since_progress = stuck_since(t, 1.0);
}

/* Connection 0 gets no reply from 1.0 s, no thread busy: STALL when it has waited the
 * 3 s timeout, at 4.0 and not before; onset 1.0. */
static void wedged_without_spin(moment *now, double t)
{
    healthy(now, t);
    now->connections[0].seconds_since_progress = stuck_since(t, 1.0);
}

/* Four connections; only connection 2 stops at 0.5 s while the main and an IO thread spin
 * from 0.5 s and the others keep progressing (the open 9.1.2 shape): SPIN at 1.5, onset 0.5. */
static void one_wedged_among_progressing(moment *now, double t)
{
    healthy(now, t);
    for (size_t c = 1; c < CONNECTIONS; c++)
        now->connections[c] = now->connections[0];
    now->connections[1].name = "connection 1";
    now->connections[2].name = "connection 2";
    now->connections[3].name = "connection 3";
    now->connection_count = CONNECTIONS;
    now->connections[2].outstanding = 1;
    now->connections[2].seconds_since_progress = stuck_since(t, 0.5);
    if (t >= 0.5) {
        now->threads[0].cpu_percent = 100;
        now->threads[1].cpu_percent = 100;
    }
}

/* Killed by SIGSEGV at 2.0 s: CRASH at 2.0. */
static void killed_by_signal(moment *now, double t)
{
    healthy(now, t);
    if (t >= 2.0) {
        now->sample.server_state = VERDICT_SERVER_KILLED;
        now->sample.exit_signal = SIGSEGV;
    }
}

/* An assertion in the log at 1.5 s while the process still runs: CRASH at 1.5. */
static void assertion_logged(moment *now, double t)
{
    healthy(now, t);
    if (t >= 1.5)
        now->sample.assertion_line = "=== ASSERTION FAILED === c->cmd_queue.len == 0";
}

/* Verify mismatches from 0.7 s: DATA at 0.7. */
static void verify_mismatch(moment *now, double t)
{
    healthy(now, t);
    if (t >= 0.7)
        now->sample.verify_mismatches = 1;
}

/* As spin_with_wedged_connection, but the spinning thread drops to 50% at 1.5 s for one
 * sample (the other thread stays idle). Its run restarts at 1.6 and fills at 2.6: SPIN at
 * 2.6, onset max(1.6, 2.6 - 1.0) = 1.6. (The connection has then waited 1.6 s < 3 s.) */
static void dip_restarts_the_window(moment *now, double t)
{
    healthy(now, t);
    if (t >= 1.0)
        now->threads[0].cpu_percent = (t > 1.45 && t < 1.55) ? 50 : 99;
    now->connections[0].seconds_since_progress = stuck_since(t, 1.0);
}

/* SPIN at 2.0 as above, then the server is killed at 3.0: the first declaration is SPIN
 * (stacks are taken then), the final verdict CRASH (higher priority), onset 3.0. */
static void spin_then_crash(moment *now, double t)
{
    spin_with_wedged_connection(now, t);
    if (t >= 3.0) {
        now->sample.server_state = VERDICT_SERVER_KILLED;
        now->sample.exit_signal = SIGKILL;
    }
}

/* Connection 0 stuck from 0.0; the main thread flickers to 95% on even samples, so it never
 * fills a window but holds STALL back while above the threshold. At 3.0 (sample 30, even)
 * the wait reaches 3 s but a thread is above: held; at 3.1 none is: STALL, onset 0.0. */
static void flicker_holds_stall_back(moment *now, double t)
{
    healthy(now, t);
    long index = (long)(t * SAMPLES_PER_SECOND + 0.5);
    now->threads[0].cpu_percent = index % 2 == 0 ? 95 : 10;
    now->connections[0].outstanding = 1;
    now->connections[0].seconds_since_progress = t;
}

/* The load has ended (nothing outstanding, no reply for seconds) while an IO thread still
 * polls at 100%: PASS, as seen on fixed builds. */
static void spinning_after_load_ends(moment *now, double t)
{
    healthy(now, t);
    now->threads[1].cpu_percent = 100;
    now->connections[0].outstanding = 0;
    now->connections[0].seconds_since_progress = stuck_since(t, 1.0);
}

/* Spinning thread and a slow connection whose waits reach 0.9 s but never 1 s: PASS. */
static void slow_but_under_the_window(moment *now, double t)
{
    healthy(now, t);
    now->threads[0].cpu_percent = 100;
    long index = (long)(t * SAMPLES_PER_SECOND + 0.5);
    now->connections[0].seconds_since_progress = (double)(index % 10) / SAMPLES_PER_SECOND;
}

typedef struct timeline {
    const char *name;
    void (*at)(moment *now, double t);
    scenario_verdict first_declared; /* PASS: none declared */
    double first_declared_at;
    scenario_verdict verdict;
    double onset_s;
    double detected_s;
} timeline;

static const timeline timelines[] = {
    {"busy but progressing", busy_but_progressing, SCENARIO_VERDICT_PASS, 0, SCENARIO_VERDICT_PASS,
     0, 0},
    {"spin with a wedged connection", spin_with_wedged_connection, SCENARIO_VERDICT_SPIN, 2.0,
     SCENARIO_VERDICT_SPIN, 1.0, 2.0},
    {"wedged without spin", wedged_without_spin, SCENARIO_VERDICT_STALL, 4.0,
     SCENARIO_VERDICT_STALL, 1.0, 4.0},
    {"one wedged among progressing", one_wedged_among_progressing, SCENARIO_VERDICT_SPIN, 1.5,
     SCENARIO_VERDICT_SPIN, 0.5, 1.5},
    {"killed by a signal", killed_by_signal, SCENARIO_VERDICT_CRASH, 2.0, SCENARIO_VERDICT_CRASH,
     2.0, 2.0},
    {"assertion logged", assertion_logged, SCENARIO_VERDICT_CRASH, 1.5, SCENARIO_VERDICT_CRASH, 1.5,
     1.5},
    {"verify mismatch", verify_mismatch, SCENARIO_VERDICT_DATA, 0.7, SCENARIO_VERDICT_DATA, 0.7,
     0.7},
    {"a dip restarts the window", dip_restarts_the_window, SCENARIO_VERDICT_SPIN, 2.6,
     SCENARIO_VERDICT_SPIN, 1.6, 2.6},
    {"spin then crash", spin_then_crash, SCENARIO_VERDICT_SPIN, 2.0, SCENARIO_VERDICT_CRASH, 3.0,
     3.0},
    {"a flickering thread holds STALL back", flicker_holds_stall_back, SCENARIO_VERDICT_STALL, 3.1,
     SCENARIO_VERDICT_STALL, 0.0, 3.1},
    {"spinning after the load ends", spinning_after_load_ends, SCENARIO_VERDICT_PASS, 0,
     SCENARIO_VERDICT_PASS, 0, 0},
    {"slow but under the window", slow_but_under_the_window, SCENARIO_VERDICT_PASS, 0,
     SCENARIO_VERDICT_PASS, 0, 0},
};

#define TIME_TOLERANCE_S 1e-6

static void run_timeline(const timeline *line, verdict_judge *judge)
{
    verdict_judge_init(judge, test_settings);
    scenario_verdict first = SCENARIO_VERDICT_PASS;
    double first_at = 0;
    for (int i = 0; i < SAMPLE_COUNT; i++) {
        moment now;
        line->at(&now, i / SAMPLES_PER_SECOND);
        now.sample.threads = now.threads;
        now.sample.thread_count = THREADS;
        now.sample.connections = now.connections;
        now.sample.connection_count = now.connection_count;
        int declared = verdict_judge_update(judge, &now.sample);
        assert_true(declared >= 0);
        if (declared != SCENARIO_VERDICT_PASS && first == SCENARIO_VERDICT_PASS) {
            first = (scenario_verdict)declared;
            first_at = now.sample.time_s;
        }
    }
    print_message("%-40s first %s at %.1f, final %s\n", line->name, scenario_verdict_name(first),
                  first_at, scenario_verdict_name(verdict_judge_verdict(judge)));
    assert_string_equal(scenario_verdict_name(first), scenario_verdict_name(line->first_declared));
    assert_float_equal(first_at, line->first_declared_at, TIME_TOLERANCE_S);
    assert_string_equal(scenario_verdict_name(verdict_judge_verdict(judge)),
                        scenario_verdict_name(line->verdict));
    const verdict_evidence *evidence = verdict_judge_evidence(judge);
    assert_int_equal(evidence->verdict, line->verdict);
    assert_float_equal(evidence->onset_s, line->onset_s, TIME_TOLERANCE_S);
    assert_float_equal(evidence->detected_s, line->detected_s, TIME_TOLERANCE_S);
}

static void every_timeline_gets_its_verdict_onset_and_detection_time(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof timelines / sizeof timelines[0]; i++) {
        verdict_judge judge;
        run_timeline(&timelines[i], &judge);
        verdict_judge_free(&judge);
    }
}

static void spin_evidence_names_the_threads_the_wedged_connection_and_the_probe(void **state)
{
    (void)state;
    verdict_judge judge;
    verdict_judge_init(&judge, test_settings);
    for (int i = 0; i < SAMPLE_COUNT; i++) {
        moment now;
        one_wedged_among_progressing(&now, i / SAMPLES_PER_SECOND);
        now.sample.threads = now.threads;
        now.sample.thread_count = THREADS;
        now.sample.connections = now.connections;
        now.sample.connection_count = now.connection_count;
        /* The probe answers until 1.0 s, then times out; later samples run no probe. */
        if (i <= 10)
            now.sample.probe = VERDICT_PROBE_ANSWERED;
        else if (i == 12)
            now.sample.probe = VERDICT_PROBE_UNANSWERED;
        assert_true(verdict_judge_update(&judge, &now.sample) >= 0);
    }
    const verdict_evidence *evidence = verdict_judge_evidence(&judge);
    assert_int_equal(evidence->thread_count, 2);
    assert_string_equal(evidence->threads[0].name, "valkey-server");
    assert_int_equal(evidence->threads[0].tid, 100);
    assert_float_equal(evidence->threads[0].spinning_s, 1.0, TIME_TOLERANCE_S);
    assert_int_equal(evidence->connection_count, 1);
    assert_int_equal(evidence->wedged_connections_total, 1);
    assert_string_equal(evidence->connections[0].name, "connection 2");
    assert_int_equal(evidence->probe, VERDICT_PROBE_UNANSWERED);

    char line[512];
    verdict_evidence_describe(evidence, line, sizeof line);
    assert_string_equal(line, "SPIN at 1.5 s (onset 0.5 s): spinning: valkey-server (tid 100) "
                              "100% for 1.0 s, io_thd_1 (tid 101) 100% for 1.0 s; wedged: "
                              "connection 2 (1 outstanding, 1.0 s without progress); TCP PING "
                              "probe: unanswered");

    json_t *json = verdict_evidence_to_json(evidence);
    assert_non_null(json);
    assert_string_equal(json_string_value(json_object_get(json, "verdict")), "spin");
    assert_float_equal(json_real_value(json_object_get(json, "onset_s")), 0.5, TIME_TOLERANCE_S);
    json_t *threads = json_object_get(json, "threads");
    assert_int_equal(json_array_size(threads), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(threads, 1), "name")),
                        "io_thd_1");
    json_t *connections = json_object_get(json, "connections");
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(connections, 0), "outstanding")), 1);
    assert_string_equal(json_string_value(json_object_get(json, "probe")), "unanswered");
    json_decref(json);
    verdict_judge_free(&judge);
}

static void crash_evidence_says_which_signal(void **state)
{
    (void)state;
    verdict_judge judge;
    run_timeline(&timelines[4], &judge);
    char line[256];
    verdict_evidence_describe(verdict_judge_evidence(&judge), line, sizeof line);
    assert_string_equal(line, "CRASH at 2.0 s (onset 2.0 s): server killed by signal 11");
    verdict_judge_free(&judge);
}

static void watchdog_milliseconds_become_seconds(void **state)
{
    (void)state;
    scenario_watchdog watchdog = {
        .spin_threshold = 85, .spin_window_ms = 1500, .stall_timeout_ms = 5000};
    verdict_settings settings = verdict_settings_from_watchdog(&watchdog);
    assert_float_equal(settings.spin_threshold_percent, 85.0, 1e-9);
    assert_float_equal(settings.spin_window_s, 1.5, 1e-9);
    assert_float_equal(settings.stall_timeout_s, 5.0, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_timeline_gets_its_verdict_onset_and_detection_time),
        cmocka_unit_test(spin_evidence_names_the_threads_the_wedged_connection_and_the_probe),
        cmocka_unit_test(crash_evidence_says_which_signal),
        cmocka_unit_test(watchdog_milliseconds_become_seconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
