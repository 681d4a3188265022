/*
 * test_load_engine.c: the load engine against the in-process fake server: it runs to its
 * request limit or duration with the counts adding up, verifies values, and turns every
 * kind of misbehaviour into one failed connection with a message that names it, within
 * its bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fake_transport.h"
#include "monotonic_clock.h"
#include "load_engine.h"
#include "load_results_json.h"

/* Every run here should end in well under a second; the slack is for sanitizers. */
#define FINISH_WITHIN_MS 20000
#define ERROR_BYTES 256

typedef struct engine_fixture {
    load_engine_params params;
    load_engine *engine;
    char error[ERROR_BYTES];
} engine_fixture;

static int create_fixture(void **state)
{
    engine_fixture *fixture = calloc(1, sizeof(*fixture));
    fixture->params = load_engine_default_params();
    fixture->params.transport = &fake_transport;
    fixture->params.host = "127.0.0.1";
    fixture->params.port = 6379;
    fake_server_behaviour behaviour = fake_server_well_behaved();
    fake_server_reset(&behaviour);
    *state = fixture;
    return 0;
}

static int destroy_fixture(void **state)
{
    engine_fixture *fixture = *state;
    load_engine_destroy(fixture->engine);
    free(fixture);
    return 0;
}

static void misbehave(const fake_server_behaviour *behaviour)
{
    fake_server_reset(behaviour);
}

static const load_results *run_to_the_end(engine_fixture *fixture)
{
    fixture->engine = load_engine_start(&fixture->params, fixture->error, sizeof(fixture->error));
    if (fixture->engine == NULL) {
        fail_msg("load_engine_start refused: %s", fixture->error);
    }
    assert_int_equal(load_engine_wait(fixture->engine, FINISH_WITHIN_MS), 0);
    const load_results *results = load_engine_results(fixture->engine);
    assert_non_null(results);
    return results;
}

/* run_to_the_end, for a run that must end with every connection sound and this many
 * replies. */
static const load_results *run_cleanly(engine_fixture *fixture, uint64_t replies)
{
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->failed_connections, 0);
    assert_int_equal(results->replies, replies);
    return results;
}

/* run_to_the_end, with the wall time it took in *seconds. */
static const load_results *run_to_the_end_timed(engine_fixture *fixture, double *seconds)
{
    double started = monotonic_seconds();
    const load_results *results = run_to_the_end(fixture);
    *seconds = monotonic_seconds() - started;
    return results;
}

static uint64_t sum_of_seconds(const load_results *results)
{
    uint64_t requests = 0;
    for (size_t s = 0; s < results->second_count; s++) {
        requests += results->seconds[s].requests;
    }
    return requests;
}

static void assert_starts_with(const char *text, const char *prefix)
{
    if (strncmp(text, prefix, strlen(prefix)) != 0) {
        fail_msg("\"%s\" does not start with \"%s\"", text, prefix);
    }
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL) {
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
    }
}

static void test_request_limit_is_met_exactly_and_the_counts_add_up(void **state)
{
    engine_fixture *fixture = *state;
    fixture->params.connections = 4;
    fixture->params.threads = 2;
    fixture->params.pipeline_depth = 8;
    fixture->params.request_limit = 2000;
    fixture->params.key_space = 50;
    fixture->params.verify = true;
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->failed_connections, 0);
    assert_int_equal(results->requests_sent, 2000);
    assert_int_equal(results->replies, 2000);
    assert_int_equal(results->sets + results->gets, 2000);
    assert_int_equal(results->get_hits + results->get_misses, results->gets);
    assert_int_equal(fake_server_commands_seen(), 2000);
    assert_int_equal(latency_histogram_count(&results->latency), 2000);
    assert_int_equal(sum_of_seconds(results), 2000);
    /* With 50 keys and ~1000 SETs, most GETs come after their key's SET was acked. */
    assert_true(results->verified_gets > results->gets / 2);
    assert_int_equal(results->connection_count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(results->connections[i].progress.state, LOAD_CONNECTION_DONE);
        assert_int_equal(results->connections[i].progress.outstanding, 0);
    }
}

static void test_a_server_disconnect_is_an_error_unless_expected(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.close_after = 10;
    misbehave(&behaviour);
    fixture->params.connections = 2;
    fixture->params.request_limit = 100;
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->failed_connections, 2);
    assert_int_equal(results->errors[LOAD_ERROR_TRANSPORT], 2);
    assert_int_equal(results->server_disconnects, 0);
    assert_contains(results->connections[0].progress.error, "the server closed the connection");
}

static void test_expected_server_disconnects_reconnect_and_verify_stays_right(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.close_after = 25;
    misbehave(&behaviour);
    fixture->params.connections = 3;
    fixture->params.threads = 2;
    fixture->params.pipeline_depth = 4;
    fixture->params.request_limit = 600;
    fixture->params.key_space = 20;
    fixture->params.verify = true;
    fixture->params.server_disconnects_expected = true;
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->failed_connections, 0);
    /* Every connection is closed after 25 replies, so 600 requests need many wires. */
    assert_true(results->server_disconnects >= 600 / 25 - 3);
    /* Requests cut off by a close are lost, not answered, and never judged. */
    assert_int_equal(results->replies + results->requests_lost, results->requests_sent);
    assert_true(results->requests_lost > 0);
    assert_true(results->verified_gets > 0);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(results->connections[i].progress.state, LOAD_CONNECTION_DONE);
    }
}

static void test_churn_kills_and_reopens_connections_during_the_load(void **state)
{
    engine_fixture *fixture = *state;
    fixture->params.connections = 4;
    fixture->params.threads = 2;
    fixture->params.pipeline_depth = 8;
    fixture->params.request_limit = 0;
    fixture->params.duration_seconds = 0.5;
    fixture->params.key_space = 30;
    fixture->params.verify = true;
    fixture->params.churn_interval_seconds = 0.02;
    fixture->params.churn_connections = 2;
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->failed_connections, 0);
    /* About 25 churns of 2 in 0.5 s; a loaded machine may manage fewer. */
    assert_true(results->churn_kills >= 10);
    assert_int_equal(results->server_disconnects, 0);
    assert_int_equal(results->replies + results->requests_lost, results->requests_sent);
    assert_true(results->verified_gets > 0);
    uint64_t kills = 0;
    for (size_t i = 0; i < 4; i++) {
        kills += results->connections[i].churn_kills;
        /* Round-robin: every connection gets its turn. */
        assert_true(results->connections[i].churn_kills > 0);
    }
    assert_int_equal(kills, results->churn_kills);
}

static void test_idle_connections_wait_before_the_load(void **state)
{
    engine_fixture *fixture = *state;
    fixture->params.connections = 2;
    fixture->params.request_limit = 50;
    fixture->params.idle_seconds = 0.3;
    double wall = 0;
    const load_results *results = run_to_the_end_timed(fixture, &wall);
    assert_int_equal(results->failed_connections, 0);
    assert_int_equal(results->replies, 50);
    assert_true(wall >= 0.3);
    /* The load's own time starts after the idle wait. */
    assert_true(results->elapsed_seconds < wall - 0.25);
}

/* The load ends with its last reply, as valkey-benchmark's clock does: closing the
 * connections after it (an RDMA teardown takes tens of milliseconds under emulation)
 * is not load time. */
static void test_closing_the_connections_is_not_load_time(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour slow_close = fake_server_well_behaved();
    slow_close.close_delay_ms = 300;
    misbehave(&slow_close);
    fixture->params.connections = 2;
    fixture->params.request_limit = 50;
    double wall = 0;
    const load_results *results = run_to_the_end_timed(fixture, &wall);
    assert_int_equal(results->failed_connections, 0);
    assert_int_equal(results->replies, 50);
    assert_true(wall >= 0.6);
    assert_true(results->elapsed_seconds < 0.3);
}

static void test_connections_are_opened_a_few_at_a_time_and_all_take_part(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour slow_to_connect = fake_server_well_behaved();
    slow_to_connect.connecting_ticks = 1;
    misbehave(&slow_to_connect);
    fixture->params.connections = 12;
    fixture->params.request_limit = 1200;
    const load_results *results = run_cleanly(fixture, 1200);
    /* One event loop: never more than 4 connecting at once, as valkey-benchmark, which
     * connects one client at a time, never floods the server with requests either. */
    assert_int_equal(fake_server_connecting_peak(), 4);
    for (size_t i = 0; i < 12; i++)
        assert_true(results->connections[i].progress.requests_sent > 0);
}

static void test_value_sizes_from_a_list_survive_tiny_reads_and_writes(void **state)
{
    engine_fixture *fixture = *state;
    static const size_t sizes[] = {1, 5000, 100000};
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.largest_read = 7; /* splits every header, CRLF and payload */
    behaviour.largest_write = 1000;
    misbehave(&behaviour);
    fixture->params.value_sizes = (value_size_spec){.sizes = sizes, .size_count = 3};
    fixture->params.connections = 2;
    fixture->params.pipeline_depth = 4;
    fixture->params.request_limit = 200;
    fixture->params.key_space = 5;
    fixture->params.verify = true;
    const load_results *results = run_cleanly(fixture, 200);
    assert_true(results->verified_gets > 0);
}

static void test_a_deep_pipeline_of_large_values_holds_at_most_a_megabyte_of_output(void **state)
{
    engine_fixture *fixture = *state;
    static const size_t sizes[] = {256 * 1024};
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.largest_write = 64 * 1024; /* the wire takes a little at a time */
    misbehave(&behaviour);
    fixture->params.value_sizes = (value_size_spec){.sizes = sizes, .size_count = 1};
    fixture->params.pipeline_depth = 64; /* 16 MiB of SETs if all were encoded at once */
    fixture->params.request_limit = 200;
    fixture->params.set_fraction = 1.0;
    const load_results *results = run_cleanly(fixture, 200);
    uint64_t peak = results->connections[0].peak_output_bytes;
    /* The 1 MiB budget, plus one SET (its value and a header of a few dozen bytes). */
    assert_in_range(peak, 256 * 1024, (1 << 20) + 256 * 1024 + 64);
}

/* Values above a megabyte are made piece by piece as the wire takes them: the fake server
 * stores what arrived, the GETs verify every byte against the pattern, and the output
 * never held more than two pieces (not the whole 5 MB value). */
static void test_a_large_value_is_streamed_and_still_verifies(void **state)
{
    engine_fixture *fixture = *state;
    static const size_t sizes[] = {5 * 1000 * 1000 + 3, 3 * 1024 * 1024};
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.largest_write = 300 * 1000; /* pieces and wire writes do not line up */
    misbehave(&behaviour);
    fixture->params.value_sizes = (value_size_spec){.sizes = sizes, .size_count = 2};
    fixture->params.connections = 2;
    fixture->params.pipeline_depth = 4;
    fixture->params.request_limit = 40;
    fixture->params.key_space = 3;
    fixture->params.verify = true;
    const load_results *results = run_cleanly(fixture, 40);
    assert_true(results->verified_gets > 0);
    for (size_t i = 0; i < results->connection_count; i++) {
        uint64_t peak = results->connections[i].peak_output_bytes;
        /* Less than a piece (1 MiB) topped up with the next and its CRLF: never a whole
         * value. */
        assert_in_range(peak, 1, (2 << 20) + 2);
    }
}

/* A wire that takes a megabyte per write, as an RDMA write into the server's 1 MiB buffer,
 * is offered at least that much until a value's tail: one write per server buffer, not
 * two cut at each piece boundary (before, the header went alone, and the bytes of each
 * piece left over after a write went alone too). */
static void test_a_streamed_value_is_offered_in_whole_writes(void **state)
{
    engine_fixture *fixture = *state;
    static const size_t sizes[] = {3 * 1024 * 1024 + 5};
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.largest_write = 1 << 20;
    misbehave(&behaviour);
    fixture->params.value_sizes = (value_size_spec){.sizes = sizes, .size_count = 1};
    fixture->params.request_limit = 6;
    fixture->params.set_fraction = 1.0;
    run_cleanly(fixture, 6);
    /* One short write per SET: the last bytes of its value. */
    assert_int_equal(fake_server_short_writes(), 6);
}

static void test_corrupted_value_fails_the_connection_naming_key_and_offset(void **state)
{
    engine_fixture *fixture = *state;
    static const size_t size[] = {1000};
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.corrupt_get_at_offset = 17;
    misbehave(&behaviour);
    fixture->params.value_sizes = (value_size_spec){.sizes = size, .size_count = 1};
    fixture->params.key_space = 1; /* every GET after the first SET reads a written key */
    fixture->params.request_limit = 100;
    fixture->params.verify = true;
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->failed_connections, 1);
    assert_int_equal(results->errors[LOAD_ERROR_VERIFY], 1);
    const load_connection_progress *failed = &results->connections[0].progress;
    assert_int_equal(failed->state, LOAD_CONNECTION_FAILED);
    assert_int_equal(failed->error_class, LOAD_ERROR_VERIFY);
    assert_starts_with(failed->error, "connection 0 (fake 127.0.0.1:6379): GET key:0 returned "
                                      "1000 bytes that differ from the value SET at byte 17 ");
}

static void test_nil_for_an_acknowledged_key_is_a_verify_error(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.forget_sets = 1;
    misbehave(&behaviour);
    fixture->params.key_space = 1;
    fixture->params.request_limit = 100;
    fixture->params.verify = true;
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->errors[LOAD_ERROR_VERIFY], 1);
    assert_string_equal(results->connections[0].progress.error,
                        "connection 0 (fake 127.0.0.1:6379): GET key:0 returned nil after its "
                        "SET was acknowledged");
}

static void test_error_replies_are_counted_without_ending_the_connection(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.refuse_sets = 1;
    misbehave(&behaviour);
    fixture->params.set_fraction = 1.0;
    fixture->params.request_limit = 40;
    const load_results *results = run_cleanly(fixture, 40);
    assert_int_equal(results->error_replies, 40);
    assert_int_equal(results->sets, 0);
    assert_string_equal(results->connections[0].first_error_reply,
                        "OOM command not allowed when used memory > 'maxmemory'.");
}

static void test_silent_server_is_reported_as_a_stall_by_name(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.stop_replying_after = 10;
    misbehave(&behaviour);
    fixture->params.connections = 2;
    fixture->params.pipeline_depth = 3;
    fixture->params.request_limit = 0;
    fixture->params.stall_seconds = 0.3;
    double took = 0;
    const load_results *results = run_to_the_end_timed(fixture, &took);
    assert_true(took >= 0.3 && took < 5.0);
    assert_int_equal(results->errors[LOAD_ERROR_STALL], 2);
    assert_int_equal(results->replies, 20);
    assert_starts_with(results->connections[1].progress.error,
                       "connection 1 (fake 127.0.0.1:6379): no progress for 0.");
    assert_contains(results->connections[1].progress.error, " s with 3 requests outstanding");
    assert_int_equal(results->connections[1].progress.outstanding, 3);
    assert_int_equal(results->connections[1].progress.replies, 10);
}

/* A reply that takes longer than the stall bound but keeps moving (a 10 MB value over a
 * slow link) is progress, not a stall: the clock restarts with every byte received. */
static void test_a_slow_but_moving_reply_is_not_a_stall(void **state)
{
    engine_fixture *fixture = *state;
    static const size_t sizes[] = {24 * 1024};
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.largest_read = 1024;
    behaviour.trickle_interval_ms = 20; /* a 24 KiB GET reply takes about 0.5 s */
    misbehave(&behaviour);
    fixture->params.value_sizes = (value_size_spec){.sizes = sizes, .size_count = 1};
    fixture->params.key_space = 1;
    fixture->params.request_limit = 8;
    fixture->params.stall_seconds = 0.25;
    fixture->params.verify = true;
    double took = 0;
    const load_results *results = run_to_the_end_timed(fixture, &took);
    assert_int_equal(results->errors[LOAD_ERROR_STALL], 0);
    assert_int_equal(results->failed_connections, 0);
    assert_int_equal(results->replies, 8);
    /* At least one whole value came back, and it took longer than the stall bound. */
    assert_true(results->verified_gets >= 1);
    assert_true(took > 0.4);
}

static void test_garbage_from_the_server_is_a_protocol_error(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.garbage_after = 5;
    misbehave(&behaviour);
    fixture->params.request_limit = 100;
    fixture->params.set_fraction = 1.0; /* five "+OK\r\n" replies: the garbage is byte 25 */
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->errors[LOAD_ERROR_PROTOCOL], 1);
    assert_int_equal(results->replies, 5);
    assert_string_equal(results->connections[0].progress.error,
                        "connection 0 (fake 127.0.0.1:6379): RESP byte 25: unknown reply type "
                        "byte 0x21; received [!] \"garbage\\r\\n\"");
}

static void test_a_peer_breaking_the_wire_protocol_ends_only_its_connection(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.break_wire_protocol_on_connection = 2;
    misbehave(&behaviour);
    fixture->params.connections = 3;
    fixture->params.pipeline_depth = 4;
    fixture->params.request_limit = 300;
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->failed_connections, 1);
    assert_int_equal(results->errors[LOAD_ERROR_PROTOCOL], 1);
    assert_int_equal(results->errors[LOAD_ERROR_TRANSPORT], 0);
    size_t done = 0;
    uint64_t replies_of_the_others = 0;
    for (size_t i = 0; i < results->connection_count; i++) {
        const load_connection_progress *progress = &results->connections[i].progress;
        if (progress->state == LOAD_CONNECTION_FAILED) {
            assert_int_equal(progress->error_class, LOAD_ERROR_PROTOCOL);
            assert_int_equal(progress->replies, 0);
            assert_contains(progress->error, "unknown opcode");
            continue;
        }
        assert_int_equal(progress->state, LOAD_CONNECTION_DONE);
        assert_int_equal(progress->replies, progress->requests_sent);
        replies_of_the_others += progress->replies;
        done++;
    }
    assert_int_equal(done, 2);
    /* The others carried on to the end: every request the bad one did not take. */
    assert_int_equal(results->replies, replies_of_the_others);
    assert_int_equal(results->replies + results->connections[1].progress.requests_sent, 300);
}

static void test_refused_connection_is_a_connect_error_and_others_are_unaffected(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.refuse_connections = 1;
    misbehave(&behaviour);
    fixture->params.connections = 3;
    fixture->params.threads = 3;
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->errors[LOAD_ERROR_CONNECT], 3);
    assert_int_equal(results->replies, 0);
    assert_string_equal(results->connections[2].progress.error,
                        "connection 2 (fake 127.0.0.1:6379): connect to 127.0.0.1:6379: "
                        "connection refused (fake)");
}

static void test_progress_is_readable_while_running_and_stop_ends_the_run(void **state)
{
    engine_fixture *fixture = *state;
    fixture->params.connections = 3;
    fixture->params.threads = 2;
    fixture->params.request_limit = 0; /* until stopped */
    fixture->engine = load_engine_start(&fixture->params, fixture->error, sizeof(fixture->error));
    assert_non_null(fixture->engine);
    load_connection_progress progress[3];
    uint64_t replies = 0;
    struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
    for (int attempt = 0; attempt < 500 && replies < 100; attempt++) {
        nanosleep(&pause, NULL);
        assert_int_equal(load_engine_progress(fixture->engine, progress, 3), 3);
        replies = progress[0].replies;
    }
    assert_true(replies >= 100);
    assert_int_equal(progress[0].state, LOAD_CONNECTION_RUNNING);
    assert_true(progress[0].last_progress_ns > 0);
    assert_string_equal(progress[2].name, "connection 2 (fake 127.0.0.1:6379)");
    assert_int_equal(load_engine_wait(fixture->engine, 50), -1); /* still running */
    assert_null(load_engine_results(fixture->engine));
    load_engine_stop(fixture->engine);
    assert_int_equal(load_engine_wait(fixture->engine, FINISH_WITHIN_MS), 0);
    const load_results *results = load_engine_results(fixture->engine);
    assert_int_equal(results->failed_connections, 0);
    assert_int_equal(results->replies, results->requests_sent);
}

static void test_duration_ends_the_run_and_rate_limit_paces_it(void **state)
{
    engine_fixture *fixture = *state;
    fixture->params.request_limit = 0;
    fixture->params.duration_seconds = 0.5;
    fixture->params.rate_limit_per_second = 200.0;
    fixture->params.connections = 2;
    const load_results *results = run_to_the_end(fixture);
    assert_int_equal(results->failed_connections, 0);
    /* 200/s for 0.5 s is 100, plus a burst of one per connection: slack for slow CI. */
    assert_in_range(results->replies, 60, 104);
    assert_true(results->elapsed_seconds >= 0.5 && results->elapsed_seconds < 3.0);
}

static void test_invalid_parameters_are_refused_with_a_reason(void **state)
{
    engine_fixture *fixture = *state;
    fixture->params.port = 0;
    assert_null(load_engine_start(&fixture->params, fixture->error, sizeof(fixture->error)));
    assert_string_equal(fixture->error, "port 0 is not in 1..65535");
    fixture->params.port = 6379;
    fixture->params.transport = NULL;
    fixture->params.transport_name = "carrier-pigeon";
    assert_null(load_engine_start(&fixture->params, fixture->error, sizeof(fixture->error)));
    assert_string_equal(fixture->error,
                        "unknown transport \"carrier-pigeon\" (expected tcp, rdma or mixed)");
    fixture->params.transport = &fake_transport;
    fixture->params.value_sizes = (value_size_spec){.minimum = 10, .maximum = 5};
    assert_null(load_engine_start(&fixture->params, fixture->error, sizeof(fixture->error)));
    assert_string_equal(fixture->error, "value size range [10, 5] is empty");
    fixture->params.value_sizes = load_engine_default_params().value_sizes;
    fixture->params.churn_interval_seconds = 0.1;
    fixture->params.churn_connections = 2; /* of the one connection */
    assert_null(load_engine_start(&fixture->params, fixture->error, sizeof(fixture->error)));
    assert_string_equal(fixture->error, "churn must kill 1 to 1 connections at a time, not 2");
}

static void test_results_json_carries_totals_errors_and_connections(void **state)
{
    engine_fixture *fixture = *state;
    fake_server_behaviour behaviour = fake_server_well_behaved();
    behaviour.garbage_after = 3;
    misbehave(&behaviour);
    fixture->params.connections = 2;
    fixture->params.request_limit = 50;
    const load_results *results = run_to_the_end(fixture);
    json_t *document = load_results_to_json(results);
    assert_non_null(document);
    assert_int_equal(json_integer_value(json_object_get(document, "replies")), 6);
    json_t *errors = json_object_get(document, "errors");
    assert_int_equal(json_integer_value(json_object_get(errors, "protocol")), 2);
    assert_int_equal(json_integer_value(json_object_get(errors, "stall")), 0);
    json_t *latency = json_object_get(document, "latency");
    assert_int_equal(json_integer_value(json_object_get(latency, "count")), 6);
    json_t *connections = json_object_get(document, "connections");
    assert_int_equal(json_array_size(connections), 2);
    json_t *first = json_array_get(connections, 0);
    assert_string_equal(json_string_value(json_object_get(first, "state")), "failed");
    assert_string_equal(json_string_value(json_object_get(first, "error_class")), "protocol");
    assert_int_equal(json_array_size(json_object_get(document, "per_second")),
                     results->second_count);
    json_decref(document);

    /* The written form parses back to the same totals. */
    char *text = NULL;
    size_t text_length = 0;
    FILE *stream = open_memstream(&text, &text_length);
    assert_int_equal(
        load_results_write_json(results, stream, fixture->error, sizeof(fixture->error)), 0);
    fclose(stream);
    json_t *parsed = json_loads(text, 0, NULL);
    assert_non_null(parsed);
    assert_int_equal(json_integer_value(json_object_get(parsed, "failed_connections")), 2);
    json_decref(parsed);
    free(text);
}

int main(void)
{
#define ENGINE_TEST(name) cmocka_unit_test_setup_teardown(name, create_fixture, destroy_fixture)
    const struct CMUnitTest tests[] = {
        ENGINE_TEST(test_request_limit_is_met_exactly_and_the_counts_add_up),
        ENGINE_TEST(test_connections_are_opened_a_few_at_a_time_and_all_take_part),
        ENGINE_TEST(test_value_sizes_from_a_list_survive_tiny_reads_and_writes),
        ENGINE_TEST(test_a_deep_pipeline_of_large_values_holds_at_most_a_megabyte_of_output),
        ENGINE_TEST(test_a_large_value_is_streamed_and_still_verifies),
        ENGINE_TEST(test_a_streamed_value_is_offered_in_whole_writes),
        ENGINE_TEST(test_corrupted_value_fails_the_connection_naming_key_and_offset),
        ENGINE_TEST(test_nil_for_an_acknowledged_key_is_a_verify_error),
        ENGINE_TEST(test_error_replies_are_counted_without_ending_the_connection),
        ENGINE_TEST(test_silent_server_is_reported_as_a_stall_by_name),
        ENGINE_TEST(test_a_slow_but_moving_reply_is_not_a_stall),
        ENGINE_TEST(test_garbage_from_the_server_is_a_protocol_error),
        ENGINE_TEST(test_a_peer_breaking_the_wire_protocol_ends_only_its_connection),
        ENGINE_TEST(test_refused_connection_is_a_connect_error_and_others_are_unaffected),
        ENGINE_TEST(test_progress_is_readable_while_running_and_stop_ends_the_run),
        ENGINE_TEST(test_duration_ends_the_run_and_rate_limit_paces_it),
        ENGINE_TEST(test_a_server_disconnect_is_an_error_unless_expected),
        ENGINE_TEST(test_expected_server_disconnects_reconnect_and_verify_stays_right),
        ENGINE_TEST(test_churn_kills_and_reopens_connections_during_the_load),
        ENGINE_TEST(test_idle_connections_wait_before_the_load),
        ENGINE_TEST(test_closing_the_connections_is_not_load_time),
        ENGINE_TEST(test_invalid_parameters_are_refused_with_a_reason),
        ENGINE_TEST(test_results_json_carries_totals_errors_and_connections),
    };
#undef ENGINE_TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
