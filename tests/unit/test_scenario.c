/*
 * test_scenario.c: scenario files load with the right values and defaults, matrices
 * expand to exactly the expected cases, and every malformed file is refused with its
 * exact one-line message. Data files live in tests/data/scenarios (SCENARIO_TEST_DATA)
 * and the shipped examples in scenarios/ (SCENARIO_EXAMPLES).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)

typedef struct loaded_fixture {
    scenario loaded;
    const scenario_case *cases;
    size_t case_count;
} loaded_fixture;

static void load_or_fail(const char *path, loaded_fixture *fixture)
{
    char error[SCENARIO_ERROR_SIZE];
    scenario_status status = scenario_load(path, &fixture->loaded, error);
    if (status != SCENARIO_OK)
        fail_msg("%s did not load: %s", path, error);
    scenario_expand(&fixture->loaded, &fixture->cases, &fixture->case_count);
}

static int fixture_new(void **state)
{
    loaded_fixture *fixture = calloc(1, sizeof *fixture);
    *state = fixture;
    return fixture ? 0 : -1;
}

static int fixture_free(void **state)
{
    loaded_fixture *fixture = *state;
    scenario_free(&fixture->loaded);
    free(fixture);
    return 0;
}

/* ---- valid files ----------------------------------------------------------------- */

static void a_minimal_file_gets_every_default(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/minimal.yaml", fixture);
    const scenario_settings *s = &fixture->loaded.settings;

    assert_string_equal(s->name, "minimal");
    assert_null(s->description);
    assert_int_equal(s->server.io_threads, 1);
    assert_false(s->server.io_threads_always_active);
    assert_int_equal(s->server.rdma_rx_size, 0);
    assert_int_equal(s->server.extra_config_count, 0);
    assert_true(s->server.fresh_per_case);
    assert_true(s->server.cpu == SCENARIO_CPU_ANY);
    assert_true(s->client.cpu == SCENARIO_CPU_ANY);
    assert_int_equal(s->client.transport, SCENARIO_TRANSPORT_RDMA);
    assert_int_equal(s->client.connections, 4);
    assert_int_equal(s->client.threads, 1);
    assert_int_equal(s->client.pipeline, 1);
    assert_int_equal(s->client.mix[SCENARIO_COMMAND_SET], 1);
    assert_int_equal(s->client.mix[SCENARIO_COMMAND_GET], 1);
    assert_int_equal(s->client.mix[SCENARIO_COMMAND_PING], 0);
    assert_int_equal(s->client.command_count, 0);
    assert_int_equal(s->client.value_size.kind, SCENARIO_VALUE_SIZE_FIXED);
    assert_int_equal(s->client.value_size.sizes[0], 256);
    assert_int_equal(s->client.keyspace, 1000);
    assert_int_equal(s->client.rate, 0);
    assert_true(s->client.verify);
    assert_int_equal(s->client.rx_buffer, 1048576);
    assert_int_equal(s->client.max_write, 0);
    assert_int_equal(s->watchdog.sample_interval_ms, 100);
    assert_int_equal(s->watchdog.spin_threshold, 90);
    assert_int_equal(s->watchdog.spin_window_ms, 3000);
    assert_int_equal(s->watchdog.stall_timeout_ms, 10000);
    assert_int_equal(s->watchdog.probe_interval_ms, 1000);
    assert_int_equal(s->watchdog.probe_timeout_ms, 2000);
    assert_int_equal(s->expect, SCENARIO_VERDICT_PASS);
    assert_false(s->known_bug.declared);
    assert_int_equal(s->repetitions, 1);
    assert_int_equal(s->fault.kind, SCENARIO_FAULT_NONE);

    assert_int_equal(fixture->case_count, 1);
    assert_string_equal(fixture->cases[0].name, "minimal");
    assert_int_equal(fixture->cases[0].parameter_count, 0);
    /* Neither requests nor duration given: a bounded default count. */
    assert_int_equal(fixture->cases[0].settings.client.requests, 10000);
    assert_int_equal(fixture->cases[0].settings.client.duration_ms, 0);
}

static void a_file_without_a_name_is_named_after_the_file(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/unnamed-scenario.yaml", fixture);
    assert_string_equal(fixture->loaded.settings.name, "unnamed-scenario");
    assert_string_equal(fixture->cases[0].name, "unnamed-scenario");
}

static void every_field_is_read_with_its_unit(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/full.yaml", fixture);
    const scenario_settings *s = &fixture->cases[0].settings;

    assert_string_equal(s->name, "full");
    assert_string_equal(s->description, "every field set");
    assert_int_equal(s->server.io_threads, 8);
    assert_true(s->server.io_threads_always_active);
    assert_int_equal(s->server.rdma_rx_size, 64 * KIB);
    assert_int_equal(s->server.extra_config_count, 2);
    assert_string_equal(s->server.extra_config[0].name, "save");
    assert_string_equal(s->server.extra_config[0].value, "");
    assert_string_equal(s->server.extra_config[1].name, "busy-reply-threshold");
    assert_string_equal(s->server.extra_config[1].value, "60000");
    assert_false(s->server.fresh_per_case);
    assert_int_equal(s->server.cpu, 0);
    assert_int_equal(s->client.cpu, 1);
    assert_int_equal(s->client.transport, SCENARIO_TRANSPORT_TCP);
    assert_int_equal(s->client.connections, 16);
    assert_int_equal(s->client.threads, 4);
    assert_int_equal(s->client.pipeline, 32);
    assert_int_equal(s->client.mix[SCENARIO_COMMAND_SET], 3);
    assert_int_equal(s->client.mix[SCENARIO_COMMAND_GET], 1);
    assert_int_equal(s->client.mix[SCENARIO_COMMAND_PING], 0);
    assert_int_equal(s->client.mix[SCENARIO_COMMAND_DEL], 0);
    assert_int_equal(s->client.value_size.kind, SCENARIO_VALUE_SIZE_RANGE);
    assert_int_equal(s->client.value_size.count, 2);
    assert_int_equal(s->client.value_size.sizes[0], 20000);    /* 20kB */
    assert_int_equal(s->client.value_size.sizes[1], 10000000); /* 10MB */
    assert_int_equal(s->client.keyspace, 50);
    assert_int_equal(s->client.requests, 0);
    assert_int_equal(s->client.duration_ms, 90000); /* 90s */
    assert_int_equal(s->client.rate, 500);
    assert_false(s->client.verify);
    assert_int_equal(s->client.rx_buffer, 2 * MIB);
    assert_int_equal(s->client.max_write, 64 * KIB);
    assert_int_equal(s->watchdog.sample_interval_ms, 50);
    assert_int_equal(s->watchdog.spin_threshold, 80);
    assert_int_equal(s->watchdog.spin_window_ms, 2 * 60000); /* 2m */
    assert_int_equal(s->watchdog.stall_timeout_ms, 3600000); /* 1h */
    assert_int_equal(s->watchdog.probe_interval_ms, 500);
    assert_int_equal(s->watchdog.probe_timeout_ms, 250);
    assert_int_equal(s->expect, SCENARIO_VERDICT_SPIN);
    assert_int_equal(s->repetitions, 5);
    assert_int_equal(s->fault.kind, SCENARIO_FAULT_LUA_BUSY);
    assert_int_equal(s->fault.after_ms, 1500);
    assert_int_equal(s->fault.duration_ms, 4000);
}

static void a_command_list_and_a_value_size_list_are_kept_in_order(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/commands.yaml", fixture);
    const scenario_client *c = &fixture->cases[0].settings.client;

    assert_int_equal(c->command_count, 3);
    assert_int_equal(c->commands[0], SCENARIO_COMMAND_SET);
    assert_int_equal(c->commands[1], SCENARIO_COMMAND_SET);
    assert_int_equal(c->commands[2], SCENARIO_COMMAND_GET);
    assert_int_equal(c->value_size.kind, SCENARIO_VALUE_SIZE_LIST);
    assert_int_equal(c->value_size.count, 3);
    assert_int_equal(c->value_size.sizes[0], 100000);  /* 100KB */
    assert_int_equal(c->value_size.sizes[1], 1048576); /* 1MiB */
    assert_int_equal(c->value_size.sizes[2], 4096);    /* plain 4096 is bytes */
    assert_int_equal(c->requests, 7);
    assert_true(fixture->cases[0].settings.known_bug.declared);
    assert_string_equal(fixture->cases[0].settings.known_bug.id, "1385");
    assert_string_equal(fixture->cases[0].settings.known_bug.url,
                        "https://github.com/valkey-io/valkey/issues/1385");
    assert_true(fixture->cases[0].settings.known_bug.verdicts[SCENARIO_VERDICT_SPIN]);
    assert_true(fixture->cases[0].settings.known_bug.verdicts[SCENARIO_VERDICT_STALL]);
    assert_false(fixture->cases[0].settings.known_bug.verdicts[SCENARIO_VERDICT_CRASH]);
    assert_false(fixture->cases[0].settings.known_bug.verdicts[SCENARIO_VERDICT_PASS]);
}

static void disconnects_churn_idle_and_mixed_wires_are_read(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/disruptions.yaml", fixture);
    const scenario_settings *s = &fixture->cases[0].settings;
    assert_int_equal(s->client.transport, SCENARIO_TRANSPORT_MIXED);
    assert_true(s->client.disconnects_expected);
    assert_int_equal(s->client.idle_before_load_ms, 10000);
    assert_true(s->churn.declared);
    assert_int_equal(s->churn.every_ms, 200);
    assert_int_equal(s->churn.connections, 2);
    assert_true(s->client_kill.declared);
    assert_int_equal(s->client_kill.every_ms, 1000);
}

static void without_those_fields_nothing_is_disrupted(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/minimal.yaml", fixture);
    const scenario_settings *s = &fixture->cases[0].settings;
    assert_false(s->client.disconnects_expected);
    assert_int_equal(s->client.idle_before_load_ms, 0);
    assert_false(s->churn.declared);
    assert_false(s->client_kill.declared);
}

/* Every file of a scenarios/ folder loads, and every case either verifies data or
 * plants a fault whose verdict is the point. Returns how many files it read. */
static size_t check_folder_loads_and_verifies(const char *name)
{
    char folder_path[1024];
    snprintf(folder_path, sizeof folder_path, "%s/%s", SCENARIO_EXAMPLES, name);
    DIR *folder = opendir(folder_path);
    assert_non_null(folder);
    size_t files = 0;
    for (struct dirent *entry; (entry = readdir(folder)) != NULL;) {
        size_t length = strlen(entry->d_name);
        if (length < 5 || strcmp(entry->d_name + length - 5, ".yaml") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", folder_path, entry->d_name);
        loaded_fixture fixture = {0};
        load_or_fail(path, &fixture);
        for (size_t c = 0; c < fixture.case_count; c++) {
            const scenario_settings *s = &fixture.cases[c].settings;
            if (s->fault.kind == SCENARIO_FAULT_NONE && !s->client.verify)
                fail_msg("%s: case %s does not verify data", path, fixture.cases[c].name);
        }
        scenario_free(&fixture.loaded);
        files++;
    }
    closedir(folder);
    return files;
}

/* The CI gate (scenarios/ci/) and the cases waiting to join it (scenarios/ci-pending/). */
static void every_ci_gate_case_loads_and_verifies_data(void **state)
{
    (void)state;
    assert_true(check_folder_loads_and_verifies("ci") >= 13);
    assert_true(check_folder_loads_and_verifies("ci-pending") >= 1);
    /* The faults mid-run that integration tests of their own run (link flap, SIGCONT). */
    assert_true(check_folder_loads_and_verifies("faults") >= 3);
}

static void an_expectation_may_list_several_verdicts(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/expect-list.yaml", fixture);
    assert_int_equal(fixture->case_count, 2);
    const scenario_settings *first = &fixture->cases[0].settings;
    assert_int_equal(first->expect, SCENARIO_VERDICT_STALL);
    assert_true(first->expected[SCENARIO_VERDICT_STALL]);
    assert_true(first->expected[SCENARIO_VERDICT_PASS]);
    assert_false(first->expected[SCENARIO_VERDICT_CRASH]);
    json_t *rendered = scenario_case_to_json(&fixture->cases[0]);
    json_t *listed = json_object_get(rendered, "expected_verdicts");
    assert_int_equal(json_array_size(listed), 2);
    assert_string_equal(json_string_value(json_array_get(listed, 0)), "stall");
    assert_string_equal(json_string_value(json_array_get(listed, 1)), "pass");
    json_decref(rendered);
    /* An override's list replaces the whole expectation. */
    const scenario_settings *second = &fixture->cases[1].settings;
    assert_int_equal(second->expect, SCENARIO_VERDICT_CRASH);
    assert_true(second->expected[SCENARIO_VERDICT_CRASH]);
    assert_false(second->expected[SCENARIO_VERDICT_STALL]);
    assert_false(second->expected[SCENARIO_VERDICT_PASS]);
    /* A single verdict keeps the JSON it always had. */
    rendered = scenario_case_to_json(&fixture->cases[1]);
    assert_null(json_object_get(rendered, "expected_verdicts"));
    json_decref(rendered);
}

static void a_link_flap_fault_keeps_its_timing(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/link-flap.yaml", fixture);
    const scenario_settings *s = &fixture->cases[0].settings;
    assert_int_equal(s->fault.kind, SCENARIO_FAULT_LINK_FLAP);
    assert_string_equal(scenario_fault_kind_name(s->fault.kind), "link_flap");
    assert_int_equal(s->fault.after_ms, 2000);
    assert_int_equal(s->fault.duration_ms, 3000);
    assert_int_equal(s->client.transport, SCENARIO_TRANSPORT_RDMA);
    assert_int_equal(s->expect, SCENARIO_VERDICT_STALL);
}

static void the_matrix_expands_to_the_cross_product_in_file_order(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/matrix.yaml", fixture);
    static const char *const expected[] = {
        "sweep/io_threads=1,value_size=1kB,transport=rdma",
        "sweep/io_threads=1,value_size=1kB,transport=tcp",
        "sweep/io_threads=1,value_size=1MiB,transport=rdma",
        "sweep/io_threads=1,value_size=1MiB,transport=tcp",
        "sweep/io_threads=1,value_size=10MB,transport=rdma",
        "sweep/io_threads=1,value_size=10MB,transport=tcp",
        "sweep/io_threads=4,value_size=1kB,transport=rdma",
        "sweep/io_threads=4,value_size=1kB,transport=tcp",
        "sweep/io_threads=4,value_size=1MiB,transport=rdma",
        "sweep/io_threads=4,value_size=1MiB,transport=tcp",
        "sweep/io_threads=4,value_size=10MB,transport=rdma",
        "sweep/io_threads=4,value_size=10MB,transport=tcp",
    };
    assert_int_equal(fixture->case_count, 12);
    for (size_t i = 0; i < 12; i++)
        assert_string_equal(fixture->cases[i].name, expected[i]);

    const scenario_case *last = &fixture->cases[11];
    assert_int_equal(last->settings.server.io_threads, 4);
    assert_int_equal(last->settings.client.value_size.sizes[0], 10000000);
    assert_int_equal(last->settings.client.transport, SCENARIO_TRANSPORT_TCP);
    /* Fields outside the matrix keep the scenario's value in every case. */
    assert_int_equal(last->settings.client.connections, 3);
    assert_int_equal(last->parameter_count, 3);
    assert_string_equal(last->parameters[0].path, "server.io_threads");
    assert_string_equal(last->parameters[0].value, "4");
    assert_string_equal(last->parameters[1].path, "client.value_size");
    assert_string_equal(last->parameters[1].value, "10MB");
    /* The base settings are untouched by the expansion. */
    assert_int_equal(fixture->loaded.settings.server.io_threads, 1);
}

static void overrides_give_matching_cases_their_own_expectation(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/overrides.yaml", fixture);
    assert_int_equal(fixture->case_count, 4);
    assert_string_equal(fixture->cases[0].name, "known/io_threads=1,value_size=2MiB|10MB");
    assert_string_equal(fixture->cases[3].name, "known/io_threads=4,value_size=2MiB|10MB");
    assert_int_equal(fixture->cases[0].settings.expect, SCENARIO_VERDICT_PASS);
    assert_false(fixture->cases[0].settings.known_bug.declared);
    for (size_t i = 1; i < 4; i++) {
        const scenario_settings *s = &fixture->cases[i].settings;
        assert_true(s->known_bug.declared);
        assert_string_equal(s->known_bug.id, "large-reply");
        assert_null(s->known_bug.url);
        assert_true(s->known_bug.verdicts[SCENARIO_VERDICT_STALL]);
    }
    assert_false(fixture->cases[1].settings.known_bug.intermittent);
    assert_true(fixture->cases[2].settings.known_bug.intermittent);
    assert_false(fixture->cases[3].settings.known_bug.intermittent);
    /* The second rule matches only io_threads=4 and comes later, so it wins there. */
    assert_int_equal(fixture->cases[1].settings.repetitions, 1);
    assert_int_equal(fixture->cases[3].settings.repetitions, 6);
}

static void the_busy_loop_example_is_the_1385_shape(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_EXAMPLES "/busy-loop.yaml", fixture);
    assert_int_equal(fixture->case_count, 1);
    const scenario_settings *s = &fixture->cases[0].settings;
    assert_string_equal(fixture->cases[0].name, "busy-loop");
    assert_int_equal(s->server.io_threads, 8);
    assert_true(s->server.io_threads_always_active);
    assert_int_equal(s->client.transport, SCENARIO_TRANSPORT_RDMA);
    assert_true(s->client.verify);
    assert_int_equal(s->client.mix[SCENARIO_COMMAND_GET], 0);
    /* Every value is well above the ~20 KB trigger, the largest 10 MB. */
    for (size_t i = 0; i < s->client.value_size.count; i++)
        assert_true(s->client.value_size.sizes[i] > 20 * 1024);
    assert_int_equal(s->client.value_size.sizes[s->client.value_size.count - 1], 10000000);
    assert_int_equal(s->expect, SCENARIO_VERDICT_PASS);
    assert_false(s->known_bug.declared);
}

static void the_large_reply_example_expects_pass_only_with_one_io_thread(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_EXAMPLES "/large-reply.yaml", fixture);
    assert_int_equal(fixture->case_count, 3);
    assert_string_equal(fixture->cases[0].name, "large-reply/io_threads=1");
    assert_string_equal(fixture->cases[1].name, "large-reply/io_threads=2");
    assert_string_equal(fixture->cases[2].name, "large-reply/io_threads=4");
    assert_false(fixture->cases[0].settings.known_bug.declared);
    assert_int_equal(fixture->cases[0].settings.expect, SCENARIO_VERDICT_PASS);
    for (size_t i = 1; i < 3; i++) {
        const scenario_settings *s = &fixture->cases[i].settings;
        assert_true(s->known_bug.declared);
        assert_true(s->known_bug.verdicts[SCENARIO_VERDICT_SPIN]);
        assert_true(s->known_bug.verdicts[SCENARIO_VERDICT_STALL]);
        /* Every value's reply exceeds the client's receive buffer. */
        for (size_t v = 0; v < s->client.value_size.count; v++)
            assert_true(s->client.value_size.sizes[v] > s->client.rx_buffer);
    }
}

static void a_case_renders_as_json(void **state)
{
    loaded_fixture *fixture = *state;
    load_or_fail(SCENARIO_TEST_DATA "/good/matrix.yaml", fixture);
    json_t *rendered = scenario_case_to_json(&fixture->cases[3]);
    assert_non_null(rendered);
    char *text = json_dumps(rendered, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(rendered);
    assert_non_null(text);
    /* Spot checks of the exact compact text, sorted keys. */
    assert_non_null(strstr(text, "\"name\":\"sweep/io_threads=1,value_size=1MiB,transport=tcp\""));
    assert_non_null(strstr(text, "\"matrix\":{\"client.transport\":\"tcp\","
                                 "\"client.value_size\":\"1MiB\",\"server.io_threads\":\"1\"}"));
    assert_non_null(strstr(text, "\"value_size\":{\"bytes\":[1048576],\"kind\":\"fixed\"}"));
    assert_non_null(strstr(text, "\"expect\":\"pass\""));
    assert_non_null(strstr(text, "\"known_bug\":null"));
    assert_non_null(strstr(text, "\"sample_interval_ms\":100"));
    assert_non_null(strstr(text, "\"requests\":10000"));
    free(text);
}

static void a_missing_file_is_a_file_error(void **state)
{
    (void)state;
    scenario loaded;
    char error[SCENARIO_ERROR_SIZE];
    assert_int_equal(scenario_load(SCENARIO_TEST_DATA "/no-such-file.yaml", &loaded, error),
                     SCENARIO_ERROR_FILE);
    assert_string_equal(error, SCENARIO_TEST_DATA
                        "/no-such-file.yaml: cannot open: No such file or directory");
}

/* ---- malformed files ------------------------------------------------------------- */

typedef struct bad_file {
    const char *file;
    scenario_status status;
    const char *message; /* after "PATH:" */
} bad_file;

static const bad_file bad_files[] = {
    {"unknown-server-field.yaml", SCENARIO_ERROR_INVALID,
     "3:3: unknown field 'io_thread' in server (known: io_threads, io_threads_always_active, "
     "rdma_rx_size, extra_config, fresh_per_case, cpu)"},
    {"unknown-top-level-field.yaml", SCENARIO_ERROR_INVALID,
     "2:1: unknown top-level field 'clients' (known: name, description, server, client, "
     "watchdog, expect, known_bug, repetitions, fault, churn, client_kill, matrix, overrides)"},
    {"integer-wrong-type.yaml", SCENARIO_ERROR_INVALID,
     "2:16: client.connections must be a whole number, got 'four'"},
    {"integer-quoted.yaml", SCENARIO_ERROR_INVALID,
     "2:15: server.io_threads must be a whole number, got the quoted string '2'"},
    {"client-cpu-too-large.yaml", SCENARIO_ERROR_INVALID,
     "2:8: client.cpu must be between 0 and 1023, got 1024"},
    {"io-threads-zero.yaml", SCENARIO_ERROR_INVALID,
     "2:15: server.io_threads must be between 1 and 256, got 0"},
    {"rdma-rx-size-too-small.yaml", SCENARIO_ERROR_INVALID,
     "2:17: server.rdma_rx_size must be between 64KiB and 16MiB, got 32KiB"},
    {"sample-interval-too-long.yaml", SCENARIO_ERROR_INVALID,
     "2:20: watchdog.sample_interval must be between 10ms and 100ms, got 200ms"},
    {"duplicate-key.yaml", SCENARIO_ERROR_INVALID,
     "4:3: duplicate key 'connections' in client (first at line 2)"},
    {"syntax-tab.yaml", SCENARIO_ERROR_SYNTAX,
     "2:1: YAML syntax error: found character that cannot start any token (while scanning for "
     "the next token at line 2)"},
    {"empty.yaml", SCENARIO_ERROR_SYNTAX, "1:1: empty scenario file"},
    {"comments-only.yaml", SCENARIO_ERROR_SYNTAX, "1:1: empty scenario file"},
    {"matrix-unknown-field.yaml", SCENARIO_ERROR_INVALID,
     "3:3: matrix: unknown field 'server.io_thread' (write section.field, e.g. "
     "server.io_threads)"},
    {"matrix-empty-list.yaml", SCENARIO_ERROR_INVALID,
     "2:22: matrix: server.io_threads has an empty list of values"},
    {"requests-and-duration.yaml", SCENARIO_ERROR_INVALID,
     "3:3: conflicting options: client.requests and client.duration; choose one"},
    {"boolean-yes.yaml", SCENARIO_ERROR_INVALID,
     "2:29: server.io_threads_always_active must be true or false, got 'yes'"},
    {"transport-unknown.yaml", SCENARIO_ERROR_INVALID,
     "2:14: client.transport must be one of rdma, tcp, mixed, got 'ib'"},
    {"duration-without-unit.yaml", SCENARIO_ERROR_INVALID,
     "2:13: client.duration must be a duration (a whole number with a unit ms, s, m or h), "
     "got '10'"},
    {"size-unknown-unit.yaml", SCENARIO_ERROR_INVALID,
     "2:15: client.value_size must be a size (a whole number with an optional unit B, KiB, "
     "MiB, GiB, kB, MB, GB), got '10 XB'"},
    {"value-size-range-inverted.yaml", SCENARIO_ERROR_INVALID,
     "2:21: client.value_size: min (2MiB) must not exceed max (1MiB)"},
    {"matrix-field-cannot-vary.yaml", SCENARIO_ERROR_INVALID,
     "2:3: matrix: client.mix cannot vary in a matrix"},
    {"matrix-and-section.yaml", SCENARIO_ERROR_INVALID,
     "4:3: server.io_threads is set both in its section (line 2) and in the matrix; keep one"},
    {"threads-exceed-connections.yaml", SCENARIO_ERROR_INVALID,
     "2:3: client.threads (4) must not exceed client.connections (2)"},
    {"mix-unknown-command.yaml", SCENARIO_ERROR_INVALID,
     "2:17: unknown command 'hset' in client.mix (known: set, get, ping, del)"},
    {"expect-and-known-bug.yaml", SCENARIO_ERROR_INVALID,
     "2:1: conflicting options: expect and known_bug (a known bug's verdicts are its "
     "expectation)"},
    {"fault-sigkill-duration.yaml", SCENARIO_ERROR_INVALID,
     "3:3: fault.duration has no meaning for kind sigkill"},
    {"expect-list-empty.yaml", SCENARIO_ERROR_INVALID,
     "1:9: expect must be a verdict or a non-empty list of verdicts (pass, spin, stall, "
     "crash, data), got a list"},
    {"expect-list-twice.yaml", SCENARIO_ERROR_INVALID, "1:23: expect lists stall twice"},
    {"expect-list-unknown.yaml", SCENARIO_ERROR_INVALID,
     "1:17: expect must be one of pass, spin, stall, crash, data, got 'hang'"},
    {"fault-unknown-kind.yaml", SCENARIO_ERROR_INVALID,
     "2:9: fault.kind must be one of lua_busy, debug_sleep, sigstop, sigkill, link_flap, got "
     "'link_down'"},
    {"fault-link-flap-tcp.yaml", SCENARIO_ERROR_INVALID,
     "2:3: fault.kind link_flap takes the RDMA link down: it needs client.transport rdma, not "
     "tcp"},
    {"fault-link-flap-matrix-tcp.yaml", SCENARIO_ERROR_INVALID,
     "3:28: fault.kind link_flap takes the RDMA link down: it needs client.transport rdma, not "
     "tcp"},
    {"fault-link-flap-duration-zero.yaml", SCENARIO_ERROR_INVALID,
     "3:13: fault.duration must be between 1ms and 1h, got 0ms"},
    {"override-value-not-in-matrix.yaml", SCENARIO_ERROR_INVALID,
     "4:31: overrides[0].when: server.io_threads = 3 is not one of the matrix values"},
    {"extra-config-reserved.yaml", SCENARIO_ERROR_INVALID,
     "3:5: server.extra_config: 'io-threads' is set by the harness; use the server fields or "
     "the test bed for it"},
    {"two-documents.yaml", SCENARIO_ERROR_SYNTAX,
     "3:1: a scenario file holds one YAML document; this is a second one"},
    {"root-is-a-list.yaml", SCENARIO_ERROR_INVALID,
     "1:1: the scenario must be a mapping, got a list"},
    {"expect-unknown-verdict.yaml", SCENARIO_ERROR_INVALID,
     "1:9: expect must be one of pass, spin, stall, crash, data, got 'hang'"},
    {"known-bug-verdict-pass.yaml", SCENARIO_ERROR_INVALID,
     "3:20: known_bug.verdicts must be one of spin, stall, crash, data, got 'pass'"},
    {"matrix-duplicate-value.yaml", SCENARIO_ERROR_INVALID,
     "2:29: matrix: client.value_size lists 1MiB twice"},
    {"known-bug-without-id.yaml", SCENARIO_ERROR_INVALID, "2:3: known_bug needs a field 'id'"},
    {"name-with-slash.yaml", SCENARIO_ERROR_INVALID,
     "1:1: name 'a/b' may hold only letters, digits, '-', '_' and '.'"},
    {"churn-exceeds-connections.yaml", SCENARIO_ERROR_INVALID,
     "5:3: churn.connections (3) must not exceed client.connections (2)"},
    {"churn-without-every.yaml", SCENARIO_ERROR_INVALID, "2:3: churn needs a field 'every'"},
    {"churn-every-too-short.yaml", SCENARIO_ERROR_INVALID,
     "2:10: churn.every must be between 10ms and 1h, got 5ms"},
    {"client-kill-without-expected-disconnects.yaml", SCENARIO_ERROR_INVALID,
     "4:3: client_kill makes the server drop our connections: it needs "
     "client.disconnects_expected: true"},
    {"client-kill-unknown-field.yaml", SCENARIO_ERROR_INVALID,
     "3:3: unknown field 'type' in client_kill (known: every)"},
    {"idle-without-unit.yaml", SCENARIO_ERROR_INVALID,
     "2:21: client.idle_before_load must be a duration (a whole number with a unit ms, s, m "
     "or h), got '10'"},
    {"disconnects-expected-yes.yaml", SCENARIO_ERROR_INVALID,
     "2:25: client.disconnects_expected must be true or false, got 'yes'"},
};

#define BAD_FILE_COUNT (sizeof bad_files / sizeof bad_files[0])

static void a_malformed_file_is_refused_with_its_message(void **state)
{
    const bad_file *bad = *state;
    char path[512], expected[SCENARIO_ERROR_SIZE], error[SCENARIO_ERROR_SIZE];
    snprintf(path, sizeof path, "%s/bad/%s", SCENARIO_TEST_DATA, bad->file);
    snprintf(expected, sizeof expected, "%s:%s", path, bad->message);
    scenario loaded;
    scenario_status status = scenario_load(path, &loaded, error);
    assert_string_equal(error, expected);
    assert_int_equal(status, bad->status);
    assert_null(strchr(error, '\n'));
    /* A refused scenario holds nothing; freeing it again is harmless. */
    assert_int_equal(loaded.case_count, 0);
    assert_null(loaded.cases);
    scenario_free(&loaded);
}

int main(void)
{
    static const struct CMUnitTest valid[] = {
        cmocka_unit_test_setup_teardown(a_minimal_file_gets_every_default, fixture_new,
                                        fixture_free),
        cmocka_unit_test_setup_teardown(a_file_without_a_name_is_named_after_the_file, fixture_new,
                                        fixture_free),
        cmocka_unit_test_setup_teardown(every_field_is_read_with_its_unit, fixture_new,
                                        fixture_free),
        cmocka_unit_test_setup_teardown(a_command_list_and_a_value_size_list_are_kept_in_order,
                                        fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(disconnects_churn_idle_and_mixed_wires_are_read,
                                        fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(without_those_fields_nothing_is_disrupted, fixture_new,
                                        fixture_free),
        cmocka_unit_test(every_ci_gate_case_loads_and_verifies_data),
        cmocka_unit_test_setup_teardown(an_expectation_may_list_several_verdicts, fixture_new,
                                        fixture_free),
        cmocka_unit_test_setup_teardown(a_link_flap_fault_keeps_its_timing, fixture_new,
                                        fixture_free),
        cmocka_unit_test_setup_teardown(the_matrix_expands_to_the_cross_product_in_file_order,
                                        fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(overrides_give_matching_cases_their_own_expectation,
                                        fixture_new, fixture_free),
        cmocka_unit_test_setup_teardown(the_busy_loop_example_is_the_1385_shape, fixture_new,
                                        fixture_free),
        cmocka_unit_test_setup_teardown(
            the_large_reply_example_expects_pass_only_with_one_io_thread, fixture_new,
            fixture_free),
        cmocka_unit_test_setup_teardown(a_case_renders_as_json, fixture_new, fixture_free),
        cmocka_unit_test(a_missing_file_is_a_file_error),
    };
    struct CMUnitTest malformed[BAD_FILE_COUNT];
    for (size_t i = 0; i < BAD_FILE_COUNT; i++) {
        malformed[i] = (struct CMUnitTest)cmocka_unit_test_prestate(
            a_malformed_file_is_refused_with_its_message, (void *)&bad_files[i]);
        malformed[i].name = bad_files[i].file;
    }
    int failures = cmocka_run_group_tests_name("valid scenarios", valid, NULL, NULL);
    failures +=
        _cmocka_run_group_tests("malformed scenarios", malformed, BAD_FILE_COUNT, NULL, NULL);
    return failures ? 1 : 0;
}
