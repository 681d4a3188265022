/* The results folder: summary.json, junit.xml, the CSV timelines, the latest link, and
 * write errors that name their file. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results.h"

/* 2026-11-26T19:07:15Z (date -u -d 2026-11-26T19:07:15Z +%s). */
#define RUN_START ((time_t)1795720035)
#define RUN_FOLDER "20261126T190715Z-busy-loop"

typedef struct fixture {
    char root[PATH_MAX];
    scenario_parameter parameters[1];
    scenario_case passing;
    scenario_case spinning;
    results_run_info info;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/test_results.XXXXXX");
    if (mkdtemp(f->root) == NULL)
        return -1;
    strcat(f->root, "/results"); /* not there yet: the module must create it */
    f->parameters[0] = (scenario_parameter){.path = "server.io_threads", .value = "8"};
    f->passing.name = "busy-loop/server.io_threads=1";
    f->passing.settings.name = "busy-loop";
    f->passing.settings.expect = SCENARIO_VERDICT_PASS;
    f->passing.settings.repetitions = 1;
    f->spinning = f->passing;
    f->spinning.name = "busy-loop/server.io_threads=8";
    f->spinning.parameters = f->parameters;
    f->spinning.parameter_count = 1;
    f->info = (results_run_info){.scenario_name = "busy-loop",
                                 .scenario_path = "scenarios/busy-loop.yaml",
                                 .server_version = "8.0.1",
                                 .testbed = "micro-VM",
                                 .start_time = RUN_START};
    *state = f;
    return 0;
}

/* Removes the temporary tree (two levels of folders below the mkdtemp one are enough). */
static void remove_tree(const char *path)
{
    DIR *directory = opendir(path);
    if (directory != NULL) {
        struct dirent *entry;
        while ((entry = readdir(directory)) != NULL) {
            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
                continue;
            char child[PATH_MAX];
            snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
            struct stat status;
            if (lstat(child, &status) == 0 && S_ISDIR(status.st_mode))
                remove_tree(child);
            else
                unlink(child);
        }
        closedir(directory);
    }
    rmdir(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    char top[PATH_MAX];
    snprintf(top, sizeof top, "%s", f->root);
    *strrchr(top, '/') = '\0';
    remove_tree(top);
    free(f);
    return 0;
}

static char *read_text(const char *path)
{
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return NULL;
    static char text[1 << 16];
    size_t length = fread(text, 1, sizeof text - 1, file);
    text[length] = '\0';
    fclose(file);
    return text;
}

/* A SPIN where PASS was expected, with names that need escaping in XML. */
static verdict_evidence spin_evidence(void)
{
    verdict_evidence evidence = {.verdict = SCENARIO_VERDICT_SPIN,
                                 .onset_s = 1.0,
                                 .detected_s = 2.0,
                                 .thread_count = 1,
                                 .connection_count = 1,
                                 .wedged_connections_total = 1,
                                 .probe = VERDICT_PROBE_UNANSWERED};
    evidence.threads[0] = (verdict_evidence_thread){
        .tid = 12, .name = "io<&\"thd", .cpu_percent = 99, .spinning_s = 1.0};
    evidence.connections[0] = (verdict_evidence_connection){
        .name = "connection 0", .outstanding = 1, .seconds_since_progress = 1.0};
    return evidence;
}

static int add_two_cases(fixture *f, results_run *run, char *error, size_t error_size)
{
    scenario_verdict pass[] = {SCENARIO_VERDICT_PASS};
    case_judgement passed = known_bug_judge_case(&f->passing.settings, pass, 1);
    results_case first = {.scenario_case = &f->passing,
                          .judgement = &passed,
                          .repetition_verdicts = pass,
                          .repetition_count = 1,
                          .duration_s = 10.5,
                          .requests_per_second = 1234.5,
                          .value_bytes_per_second = 1e8,
                          .latency = {100, 200, 300, 400, 500}};
    if (results_add_case(run, &first, error, error_size) != 0)
        return -1;
    scenario_verdict spin[] = {SCENARIO_VERDICT_SPIN};
    case_judgement spun = known_bug_judge_case(&f->spinning.settings, spin, 1);
    verdict_evidence evidence = spin_evidence();
    results_case second = {.scenario_case = &f->spinning,
                           .judgement = &spun,
                           .evidence = &evidence,
                           .repetition_verdicts = spin,
                           .repetition_count = 1,
                           .duration_s = 2.25,
                           .stacks_file = "stacks.txt"};
    return results_add_case(run, &second, error, error_size);
}

static void a_run_of_two_cases_reads_back_from_summary_json(void **state)
{
    fixture *f = *state;
    char error[RESULTS_ERROR_BYTES];
    results_run *run = results_run_create(f->root, &f->info, error, sizeof error);
    if (run == NULL)
        fail_msg("%s", error);
    char expected_folder[PATH_MAX];
    snprintf(expected_folder, sizeof expected_folder, "%s/" RUN_FOLDER, f->root);
    assert_string_equal(results_run_directory(run), expected_folder);
    assert_int_equal(add_two_cases(f, run, error, sizeof error), 0);
    assert_int_equal(results_run_close(run, error, sizeof error), 0);

    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/summary.json", expected_folder);
    json_error_t json_error;
    json_t *summary = json_load_file(path, 0, &json_error);
    if (summary == NULL)
        fail_msg("%s: %s", path, json_error.text);
    assert_string_equal(json_string_value(json_object_get(summary, "scenario")), "busy-loop");
    assert_string_equal(json_string_value(json_object_get(summary, "server_version")), "8.0.1");
    assert_string_equal(json_string_value(json_object_get(summary, "testbed")), "micro-VM");
    assert_string_equal(json_string_value(json_object_get(summary, "started")),
                        "2026-11-26T19:07:15Z");
    json_t *cases = json_object_get(summary, "cases");
    assert_int_equal(json_array_size(cases), 2);

    json_t *first = json_array_get(cases, 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")),
                        "busy-loop/server.io_threads=1");
    assert_string_equal(json_string_value(json_object_get(first, "verdict")), "pass");
    assert_string_equal(json_string_value(json_object_get(first, "outcome")), "as expected");
    assert_float_equal(json_real_value(json_object_get(json_object_get(first, "throughput"),
                                                       "requests_per_second")),
                       1234.5, 1e-9);
    assert_float_equal(
        json_real_value(json_object_get(json_object_get(first, "latency_us"), "p99")), 300, 1e-9);
    assert_true(json_is_null(json_object_get(first, "evidence")));

    json_t *second = json_array_get(cases, 1);
    assert_string_equal(json_string_value(json_object_get(second, "verdict")), "spin");
    assert_string_equal(json_string_value(json_object_get(second, "expected")), "PASS");
    assert_string_equal(json_string_value(json_object_get(second, "outcome")), "unexpected");
    assert_string_equal(json_string_value(json_object_get(second, "stacks")), "stacks.txt");
    json_t *parameters = json_object_get(second, "parameters");
    assert_string_equal(json_string_value(json_object_get(json_object_get(parameters, "matrix"),
                                                          "server.io_threads")),
                        "8");
    json_t *evidence = json_object_get(second, "evidence");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(evidence, "threads"), 0), "name")),
                        "io<&\"thd");
    json_t *repetitions = json_object_get(second, "repetitions");
    assert_int_equal(json_integer_value(json_object_get(repetitions, "count")), 1);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(repetitions, "verdicts"), 0)), "spin");
    json_decref(summary);
}

static size_t cases_in_summary(const char *directory)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/summary.json", directory);
    json_t *summary = json_load_file(path, 0, NULL);
    size_t count = json_array_size(json_object_get(summary, "cases"));
    json_decref(summary);
    return count;
}

static void summary_json_is_rewritten_as_each_case_ends(void **state)
{
    fixture *f = *state;
    char error[RESULTS_ERROR_BYTES];
    results_run *run = results_run_create(f->root, &f->info, error, sizeof error);
    assert_non_null(run);
    scenario_verdict pass[] = {SCENARIO_VERDICT_PASS};
    case_judgement passed = known_bug_judge_case(&f->passing.settings, pass, 1);
    results_case finished = {.scenario_case = &f->passing,
                             .judgement = &passed,
                             .repetition_verdicts = pass,
                             .repetition_count = 1};
    assert_int_equal(results_add_case(run, &finished, error, sizeof error), 0);
    assert_int_equal(cases_in_summary(results_run_directory(run)), 1);
    assert_int_equal(results_add_case(run, &finished, error, sizeof error), 0);
    assert_int_equal(cases_in_summary(results_run_directory(run)), 2);
    results_run_close(run, NULL, 0);
}

static void junit_has_a_testcase_per_case_and_an_escaped_failure(void **state)
{
    fixture *f = *state;
    char error[RESULTS_ERROR_BYTES];
    results_run *run = results_run_create(f->root, &f->info, error, sizeof error);
    assert_non_null(run);
    assert_int_equal(add_two_cases(f, run, error, sizeof error), 0);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/junit.xml", results_run_directory(run));
    results_run_close(run, NULL, 0);
    const char *xml = read_text(path);
    assert_non_null(xml);
    assert_non_null(strstr(xml, "<testsuite name=\"busy-loop\" tests=\"2\" failures=\"1\" "
                                "errors=\"0\" skipped=\"0\" time=\"12.750\""));
    assert_non_null(strstr(xml, "<testcase name=\"busy-loop/server.io_threads=1\" "
                                "classname=\"busy-loop\" time=\"10.500\">\n"
                                "      <system-out>PASS as expected (1 of 1)</system-out>\n"
                                "    </testcase>\n"));
    assert_non_null(strstr(
        xml, "<testcase name=\"busy-loop/server.io_threads=8\" classname=\"busy-loop\" "
             "time=\"2.250\">\n      <failure type=\"spin\" message=\"expected PASS, got SPIN "
             "in repetition 1 (1 of 1 repetitions differ): SPIN at 2.0 s (onset 1.0 s): "
             "spinning: io&lt;&amp;&quot;thd (tid 12) 99% for 1.0 s; wedged: connection 0 (1 "
             "outstanding, 1.0 s without progress); TCP PING probe: unanswered\">"));
    assert_null(strstr(xml, "io<&"));
}

static void xml_escaping_covers_markup_quotes_and_control_characters(void **state)
{
    (void)state;
    char *escaped = results_xml_escape("a<b & \"c\" 'd'>\x01\te");
    assert_string_equal(escaped, "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;?\te");
    free(escaped);
}

static void timelines_are_csv_with_quoted_names(void **state)
{
    fixture *f = *state;
    char error[RESULTS_ERROR_BYTES];
    results_run *run = results_run_create(f->root, &f->info, error, sizeof error);
    assert_non_null(run);
    assert_int_equal(
        results_append_cpu(run, 0.1, 42, "io_thd_1", 99.5, "busy-loop/x=1", error, sizeof error),
        0);
    assert_int_equal(
        results_append_cpu(run, 0.2, 43, "odd,\"name\"", 0, "busy-loop/x=1", error, sizeof error),
        0);
    assert_int_equal(results_append_progress(run, 0.2, "busy-loop/x=1",
                                             "connection 0 (rdma 192.0.2.1:6380)", 3, 1.25, 17,
                                             error, sizeof error),
                     0);
    char cpu_path[PATH_MAX], progress_path[PATH_MAX];
    snprintf(cpu_path, sizeof cpu_path, "%s/cpu.csv", results_run_directory(run));
    snprintf(progress_path, sizeof progress_path, "%s/progress.csv", results_run_directory(run));
    /* Written already, before the run is closed: a killed run keeps them. */
    assert_string_equal(read_text(cpu_path), "time_s,tid,thread,cpu_percent,case\n"
                                             "0.100,42,io_thd_1,99.5,busy-loop/x=1\n"
                                             "0.200,43,\"odd,\"\"name\"\"\",0.0,busy-loop/x=1\n");
    assert_string_equal(read_text(progress_path),
                        "time_s,case,connection,outstanding,seconds_since_progress,replies\n"
                        "0.200,busy-loop/x=1,connection 0 (rdma 192.0.2.1:6380),3,1.250,17\n");
    assert_int_equal(results_run_close(run, error, sizeof error), 0);
}

static void latest_points_at_the_newest_run(void **state)
{
    fixture *f = *state;
    char error[RESULTS_ERROR_BYTES];
    results_run *first = results_run_create(f->root, &f->info, error, sizeof error);
    assert_non_null(first);
    char latest[PATH_MAX], target[PATH_MAX];
    snprintf(latest, sizeof latest, "%s/latest", f->root);
    ssize_t length = readlink(latest, target, sizeof target - 1);
    assert_true(length > 0);
    target[length] = '\0';
    assert_string_equal(target, RUN_FOLDER);
    /* A second run in the same second gets its own folder, and latest follows it. */
    results_run *second = results_run_create(f->root, &f->info, error, sizeof error);
    assert_non_null(second);
    length = readlink(latest, target, sizeof target - 1);
    assert_true(length > 0);
    target[length] = '\0';
    assert_string_equal(target, RUN_FOLDER "-2");
    results_run_close(first, NULL, 0);
    results_run_close(second, NULL, 0);
}

static void a_results_root_that_cannot_be_made_names_itself(void **state)
{
    fixture *f = *state;
    /* A regular file where a folder should be: even root cannot create below it. */
    char file_path[PATH_MAX], root[PATH_MAX];
    snprintf(file_path, sizeof file_path, "%s", f->root);
    *strrchr(file_path, '/') = '\0';
    strcat(file_path, "/a-file");
    FILE *file = fopen(file_path, "w");
    assert_non_null(file);
    fclose(file);
    snprintf(root, sizeof root, "%s/results", file_path);
    char error[RESULTS_ERROR_BYTES];
    assert_null(results_run_create(root, &f->info, error, sizeof error));
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof expected, "%s: cannot create the results folder: Not a directory",
             root);
    assert_string_equal(error, expected);
}

/* A full disk, simulated: RLIMIT_FSIZE makes every write past the limit fail with EFBIG
 * (SIGXFSZ ignored), which works for root too, unlike a read-only folder. */
#define SIMULATED_DISK_BYTES 64

static void a_write_error_names_the_file(void **state)
{
    fixture *f = *state;
    char error[RESULTS_ERROR_BYTES];
    results_run *run = results_run_create(f->root, &f->info, error, sizeof error);
    assert_non_null(run);
    struct rlimit saved;
    getrlimit(RLIMIT_FSIZE, &saved);
    struct rlimit full = {.rlim_cur = SIMULATED_DISK_BYTES, .rlim_max = saved.rlim_max};
    void (*previous)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &full), 0);
    int added = add_two_cases(f, run, error, sizeof error);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, previous);
    assert_int_equal(added, -1);
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof expected, "%s/summary.json: cannot write: File too large",
             results_run_directory(run));
    assert_string_equal(error, expected);
    /* No temporary file is left behind, and no half summary.json appeared. */
    DIR *directory = opendir(results_run_directory(run));
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL)
        assert_true(strncmp(entry->d_name, ".summary", 8) != 0 &&
                    strcmp(entry->d_name, "summary.json") != 0);
    closedir(directory);
    results_run_close(run, NULL, 0);
}

static char *read_whole(const char *path)
{
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return NULL;
    char *text = calloc(1, 1 << 20);
    size_t got = fread(text, 1, (1 << 20) - 1, file);
    text[got] = '\0';
    fclose(file);
    return text;
}

static void a_failed_rewrite_leaves_the_good_summary_whole(void **state)
{
    fixture *f = *state;
    char error[RESULTS_ERROR_BYTES];
    results_run *run = results_run_create(f->root, &f->info, error, sizeof error);
    assert_non_null(run);
    scenario_verdict pass[] = {SCENARIO_VERDICT_PASS};
    case_judgement passed = known_bug_judge_case(&f->passing.settings, pass, 1);
    results_case finished = {.scenario_case = &f->passing,
                             .judgement = &passed,
                             .repetition_verdicts = pass,
                             .repetition_count = 1};
    assert_int_equal(results_add_case(run, &finished, error, sizeof error), 0);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/summary.json", results_run_directory(run));
    char *before = read_whole(path);
    assert_non_null(before);
    /* The disk fills up: the rewrite with two cases no longer fits, one case did. */
    struct rlimit saved;
    getrlimit(RLIMIT_FSIZE, &saved);
    struct rlimit full = {.rlim_cur = strlen(before) + 16, .rlim_max = saved.rlim_max};
    void (*previous)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &full), 0);
    int added = results_add_case(run, &finished, error, sizeof error);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, previous);
    assert_int_equal(added, -1);
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof expected, "%s: cannot write: File too large", path);
    assert_string_equal(error, expected);
    char *after = read_whole(path);
    assert_non_null(after);
    assert_string_equal(after, before);
    assert_int_equal(cases_in_summary(results_run_directory(run)), 1);
    DIR *directory = opendir(results_run_directory(run));
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL)
        assert_true(strncmp(entry->d_name, ".summary", 8) != 0);
    closedir(directory);
    free(before);
    free(after);
    results_run_close(run, NULL, 0);
}

static void a_planted_fault_keeps_its_timeline(void **state)
{
    fixture *f = *state;
    char error[RESULTS_ERROR_BYTES];
    results_run *run = results_run_create(f->root, &f->info, error, sizeof error);
    assert_non_null(run);
    scenario_verdict stall[] = {SCENARIO_VERDICT_STALL};
    case_judgement judged = known_bug_judge_case(&f->passing.settings, stall, 1);
    results_case finished = {.scenario_case = &f->passing,
                             .judgement = &judged,
                             .repetition_verdicts = stall,
                             .repetition_count = 1,
                             .has_fault_timeline = true,
                             .fault_applied_s = 2.5,
                             .fault_cleared_s = -1,
                             .fault_reconnect = "ok"};
    assert_int_equal(results_add_case(run, &finished, error, sizeof error), 0);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/summary.json", results_run_directory(run));
    json_t *summary = json_load_file(path, 0, NULL);
    json_t *timeline =
        json_object_get(json_array_get(json_object_get(summary, "cases"), 0), "fault_timeline");
    assert_float_equal(json_real_value(json_object_get(timeline, "applied_s")), 2.5, 1e-9);
    assert_true(json_is_null(json_object_get(timeline, "cleared_s")));
    assert_string_equal(json_string_value(json_object_get(timeline, "reconnect")), "ok");
    json_decref(summary);
    results_run_close(run, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_run_of_two_cases_reads_back_from_summary_json, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(summary_json_is_rewritten_as_each_case_ends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(junit_has_a_testcase_per_case_and_an_escaped_failure, setup,
                                        teardown),
        cmocka_unit_test(xml_escaping_covers_markup_quotes_and_control_characters),
        cmocka_unit_test_setup_teardown(timelines_are_csv_with_quoted_names, setup, teardown),
        cmocka_unit_test_setup_teardown(latest_points_at_the_newest_run, setup, teardown),
        cmocka_unit_test_setup_teardown(a_results_root_that_cannot_be_made_names_itself, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_write_error_names_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_rewrite_leaves_the_good_summary_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_planted_fault_keeps_its_timeline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
