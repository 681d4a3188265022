/* Joining the results folders of shards: case order, refusals, and the files written. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "results_merge.h"

static json_t *indexed_case(const char *name, int index, const char *outcome)
{
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:f}", "name", name, "case_index", index, "verdict",
                     "pass", "outcome", outcome, "message", "PASS as expected", "duration_s", 1.0);
}

static json_t *summary_of(const char *scenario, const char *shard, const char *started,
                          json_t *cases)
{
    json_t *summary = json_pack("{s:s, s:s, s:s, s:o}", "scenario", scenario, "started", started,
                                "server_version", "9.1.2", "cases", cases);
    if (shard)
        json_object_set_new(summary, "shard", json_string(shard));
    return summary;
}

static const char *case_name_at(const json_t *summary, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(summary, "cases"), i), "name"));
}

static void shards_are_merged_back_into_the_unsharded_order(void **state)
{
    (void)state;
    json_t *first = summary_of("tiny", "1/2", "2026-11-26T20:00:05Z",
                               json_pack("[o, o]", indexed_case("d", 0, "as expected"),
                                         indexed_case("b", 2, "as expected")));
    json_t *second = summary_of("tiny", "2/2", "2026-11-26T20:00:01Z",
                                json_pack("[o, o]", indexed_case("c", 1, "as expected"),
                                          indexed_case("a", 3, "as expected")));
    json_t *summaries[] = {first, second};
    const char *sources[] = {"results/one", "results/two"};
    char error[256];
    json_t *merged = results_merge_summaries(summaries, sources, 2, error, sizeof error);
    assert_non_null(merged);
    assert_int_equal(json_array_size(json_object_get(merged, "cases")), 4);
    assert_string_equal(case_name_at(merged, 0), "d");
    assert_string_equal(case_name_at(merged, 1), "c");
    assert_string_equal(case_name_at(merged, 2), "b");
    assert_string_equal(case_name_at(merged, 3), "a");
    assert_string_equal(json_string_value(json_object_get(merged, "scenario")), "tiny");
    assert_string_equal(json_string_value(json_object_get(merged, "started")),
                        "2026-11-26T20:00:01Z");
    assert_null(json_object_get(merged, "shard"));
    assert_int_equal(json_array_size(json_object_get(merged, "shards")), 2);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(merged, "merged_from"), 1)),
        "results/two");
    json_decref(merged);
    json_decref(first);
    json_decref(second);
}

static void cases_without_an_index_are_merged_by_name(void **state)
{
    (void)state;
    json_t *first = summary_of("one", NULL, "2026-11-26T20:00:00Z",
                               json_pack("[{s:s}, {s:s}]", "name", "zeta", "name", "alpha"));
    json_t *second =
        summary_of("two", NULL, "2026-11-26T20:00:00Z", json_pack("[{s:s}]", "name", "mid"));
    json_t *summaries[] = {first, second};
    const char *sources[] = {"one", "two"};
    char error[256];
    json_t *merged = results_merge_summaries(summaries, sources, 2, error, sizeof error);
    assert_non_null(merged);
    assert_string_equal(case_name_at(merged, 0), "alpha");
    assert_string_equal(case_name_at(merged, 1), "mid");
    assert_string_equal(case_name_at(merged, 2), "zeta");
    assert_string_equal(json_string_value(json_object_get(merged, "scenario")), "merged");
    json_decref(merged);
    json_decref(first);
    json_decref(second);
}

static void the_same_shard_given_twice_is_refused(void **state)
{
    (void)state;
    json_t *first = summary_of("tiny", "1/2", "2026-11-26T20:00:00Z",
                               json_pack("[o]", indexed_case("a", 0, "as expected")));
    json_t *summaries[] = {first, first};
    const char *sources[] = {"results/one", "results/again"};
    char error[256];
    assert_null(results_merge_summaries(summaries, sources, 2, error, sizeof error));
    assert_string_equal(error,
                        "results/one and results/again both hold case a (the same shard given "
                        "twice?)");
    json_decref(first);
}

static void a_document_without_cases_is_refused(void **state)
{
    (void)state;
    json_t *odd = json_pack("{s:s}", "scenario", "x");
    json_t *summaries[] = {odd};
    const char *sources[] = {"results/odd"};
    char error[256];
    assert_null(results_merge_summaries(summaries, sources, 1, error, sizeof error));
    assert_string_equal(error, "results/odd: not a results summary (no \"cases\" list)");
    json_decref(odd);
}

/* ---- folders ---- */

typedef struct merge_fixture {
    char root[64];
    char folders[2][PATH_MAX];
    char out[PATH_MAX];
} merge_fixture;

static void write_text(const char *folder, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static char *read_text(const char *folder, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *file = fopen(path, "r");
    if (!file)
        return NULL;
    static char buffer[65536];
    size_t got = fread(buffer, 1, sizeof buffer - 1, file);
    buffer[got] = '\0';
    fclose(file);
    return buffer;
}

static int fixture_setup(void **state)
{
    merge_fixture *fixture = calloc(1, sizeof *fixture);
    snprintf(fixture->root, sizeof fixture->root, "/tmp/test-merge-XXXXXX");
    if (!mkdtemp(fixture->root))
        return -1;
    for (int i = 0; i < 2; i++) {
        snprintf(fixture->folders[i], sizeof fixture->folders[i], "%s/shard%d", fixture->root,
                 i + 1);
        mkdir(fixture->folders[i], 0755);
    }
    snprintf(fixture->out, sizeof fixture->out, "%s/merged", fixture->root);
    write_text(fixture->folders[0], "summary.json",
               "{\"scenario\": \"tiny\", \"shard\": \"1/2\", \"cases\": [{\"name\": \"a\", "
               "\"case_index\": 0, \"verdict\": \"pass\", \"outcome\": \"as expected\"}]}\n");
    write_text(fixture->folders[1], "summary.json",
               "{\"scenario\": \"tiny\", \"shard\": \"2/2\", \"cases\": [{\"name\": \"b\", "
               "\"case_index\": 1, \"verdict\": \"stall\", \"outcome\": \"unexpected\", "
               "\"message\": \"STALL, expected PASS\"}]}\n");
    write_text(fixture->folders[0], "cpu.csv",
               "time_s,tid,thread,cpu_percent,case\n0.1,7,main,50.0,a\n");
    write_text(fixture->folders[1], "cpu.csv",
               "time_s,tid,thread,cpu_percent,case\n0.1,8,main,90.0,b\n");
    *state = fixture;
    return 0;
}

static int fixture_teardown(void **state)
{
    merge_fixture *fixture = *state;
    char *argv[] = {"rm", "-rf", fixture->root, NULL};
    pid_t child = fork();
    if (child == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    waitpid(child, &status, 0);
    free(fixture);
    return 0;
}

static void merged_folders_give_one_summary_one_junit_and_joined_timelines(void **state)
{
    merge_fixture *fixture = *state;
    const char *folders[] = {fixture->folders[1], fixture->folders[0]};
    char error[1024];
    assert_int_equal(results_merge_folders(folders, 2, fixture->out, error, sizeof error), 0);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/summary.json", fixture->out);
    json_t *merged = json_load_file(path, 0, NULL);
    assert_non_null(merged);
    assert_string_equal(case_name_at(merged, 0), "a");
    assert_string_equal(case_name_at(merged, 1), "b");
    assert_string_equal(json_string_value(json_object_get(merged, "folder")), "merged");
    json_decref(merged);
    const char *junit = read_text(fixture->out, "junit.xml");
    assert_non_null(junit);
    assert_non_null(strstr(junit, "tests=\"2\" failures=\"1\""));
    assert_non_null(strstr(junit, "<failure type=\"stall\""));
    assert_string_equal(read_text(fixture->out, "cpu.csv"),
                        "time_s,tid,thread,cpu_percent,case\n0.1,8,main,90.0,b\n"
                        "0.1,7,main,50.0,a\n");
}

static void a_folder_that_holds_a_summary_is_not_merged_into(void **state)
{
    merge_fixture *fixture = *state;
    const char *folders[] = {fixture->folders[0]};
    char error[1024], expected[PATH_MAX + 128];
    assert_int_equal(results_merge_folders(folders, 1, fixture->folders[1], error, sizeof error),
                     -1);
    snprintf(expected, sizeof expected, "%s: already holds a summary.json; give --out a new folder",
             fixture->folders[1]);
    assert_string_equal(error, expected);
}

static void a_timeline_with_another_header_is_refused(void **state)
{
    merge_fixture *fixture = *state;
    write_text(fixture->folders[1], "cpu.csv", "time_s,thread\n0.1,main\n");
    const char *folders[] = {fixture->folders[0], fixture->folders[1]};
    char error[1024], expected[PATH_MAX * 3];
    assert_int_equal(results_merge_folders(folders, 2, fixture->out, error, sizeof error), -1);
    snprintf(expected, sizeof expected, "%s/cpu.csv: its header differs from that of %s/cpu.csv",
             fixture->folders[1], fixture->folders[0]);
    assert_string_equal(error, expected);
    assert_null(read_text(fixture->out, "summary.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shards_are_merged_back_into_the_unsharded_order),
        cmocka_unit_test(cases_without_an_index_are_merged_by_name),
        cmocka_unit_test(the_same_shard_given_twice_is_refused),
        cmocka_unit_test(a_document_without_cases_is_refused),
        cmocka_unit_test_setup_teardown(
            merged_folders_give_one_summary_one_junit_and_joined_timelines, fixture_setup,
            fixture_teardown),
        cmocka_unit_test_setup_teardown(a_folder_that_holds_a_summary_is_not_merged_into,
                                        fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(a_timeline_with_another_header_is_refused, fixture_setup,
                                        fixture_teardown),
    };
    return cmocka_run_group_tests_name("results_merge", tests, NULL, NULL);
}
