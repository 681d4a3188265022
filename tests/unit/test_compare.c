/* compare: what a SPEC names, and the samples a stored baseline gives. */
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
#include <unistd.h>

#include "compare.h"
#include "process.h"

static void a_compare_run_gives_its_candidate_samples(void **state)
{
    (void)state;
    json_t *summary = json_pack("{s:[{s:s, s:{s:[f,f,f,f,f], s:[f,f,f,f,f]}}]}", "cases", "name",
                                "small", "comparison", "baseline_samples", 1.0, 1.0, 1.0, 1.0, 1.0,
                                "candidate_samples", 10.0, 11.0, 12.0, 13.0, 14.0);
    double *samples = NULL;
    size_t count = 0;
    char error[256];
    assert_int_equal(compare_stored_samples(summary, "results/x", "small", &samples, &count, error,
                                            sizeof error),
                     0);
    assert_int_equal(count, 5);
    assert_true(samples[0] == 10.0 && samples[4] == 14.0);
    free(samples);
    json_decref(summary);
}

static void a_run_gives_the_throughput_of_each_repetition(void **state)
{
    (void)state;
    json_t *summary =
        json_pack("{s:[{s:s, s:{s:I, s:[f,f,f,f,f,f]}}]}", "cases", "name", "small", "repetitions",
                  "count", (json_int_t)6, "requests_per_second", 5.0, 6.0, 7.0, 8.0, 9.0, 10.0);
    double *samples = NULL;
    size_t count = 0;
    char error[256];
    assert_int_equal(compare_stored_samples(summary, "results/x", "small", &samples, &count, error,
                                            sizeof error),
                     0);
    assert_int_equal(count, 6);
    assert_true(samples[5] == 10.0);
    free(samples);
    json_decref(summary);
}

static void a_stored_baseline_without_enough_samples_is_refused(void **state)
{
    (void)state;
    json_t *summary =
        json_pack("{s:[{s:s, s:{s:[f]}}, {s:s, s:{s:I}}]}", "cases", "name", "once", "repetitions",
                  "requests_per_second", 5.0, "name", "old", "repetitions", "count", (json_int_t)1);
    double *samples = NULL;
    size_t count = 0;
    char error[256];
    assert_int_equal(
        compare_stored_samples(summary, "results/x", "once", &samples, &count, error, sizeof error),
        -1);
    assert_string_equal(error, "results/x: case once has 1 throughput sample(s); a baseline "
                               "needs at least 5 (give the scenario repetitions: 5 or more)");
    assert_int_equal(
        compare_stored_samples(summary, "results/x", "old", &samples, &count, error, sizeof error),
        -1);
    assert_string_equal(error, "results/x: case old has no per-repetition throughput (a run or "
                               "compare recorded before it was kept?)");
    assert_int_equal(compare_stored_samples(summary, "results/x", "absent", &samples, &count, error,
                                            sizeof error),
                     -1);
    assert_string_equal(error, "results/x: no case absent to compare with");
    assert_null(samples);
    json_decref(summary);
}

static void write_file(const char *path)
{
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("x\n", file);
    fclose(file);
}

static void a_spec_is_classified_by_what_is_on_disk(void **state)
{
    (void)state;
    char root[] = "/tmp/test-compare-XXXXXX";
    assert_non_null(mkdtemp(root));
    char server[PATH_MAX], module[PATH_MAX], results[PATH_MAX], source[PATH_MAX];
    char inner[PATH_MAX + 32], text[2 * PATH_MAX + 2], empty[PATH_MAX];
    snprintf(server, sizeof server, "%s/valkey-server", root);
    snprintf(module, sizeof module, "%s/valkey-rdma.so", root);
    snprintf(results, sizeof results, "%s/results", root);
    snprintf(source, sizeof source, "%s/valkey", root);
    snprintf(empty, sizeof empty, "%s/empty", root);
    write_file(server);
    write_file(module);
    mkdir(results, 0755);
    mkdir(source, 0755);
    mkdir(empty, 0755);
    snprintf(inner, sizeof inner, "%s/summary.json", results);
    write_file(inner);
    snprintf(inner, sizeof inner, "%s/src", source);
    mkdir(inner, 0755);
    snprintf(inner, sizeof inner, "%s/src/server.h", source);
    write_file(inner);

    compare_spec spec;
    char error[1024], expected[1024];
    assert_int_equal(compare_spec_parse("--baseline", server, &spec, error, sizeof error), 0);
    assert_int_equal(spec.kind, COMPARE_SPEC_SERVER);
    assert_string_equal(spec.module_path, "");
    snprintf(text, sizeof text, "%s:%s", server, module);
    assert_int_equal(compare_spec_parse("--baseline", text, &spec, error, sizeof error), 0);
    assert_int_equal(spec.kind, COMPARE_SPEC_SERVER);
    assert_string_equal(spec.path, server);
    assert_string_equal(spec.module_path, module);
    assert_int_equal(compare_spec_parse("--baseline", results, &spec, error, sizeof error), 0);
    assert_int_equal(spec.kind, COMPARE_SPEC_STORED);
    assert_int_equal(compare_spec_parse("--candidate", source, &spec, error, sizeof error), 0);
    assert_int_equal(spec.kind, COMPARE_SPEC_SOURCE);

    assert_int_equal(compare_spec_parse("--baseline", empty, &spec, error, sizeof error), -1);
    snprintf(expected, sizeof expected,
             "--baseline %s: neither a results folder (no summary.json) nor a Valkey source "
             "tree (no src/server.h)",
             empty);
    assert_string_equal(error, expected);
    snprintf(text, sizeof text, "%s:%s/none.so", server, root);
    assert_int_equal(compare_spec_parse("--candidate", text, &spec, error, sizeof error), -1);
    snprintf(expected, sizeof expected, "--candidate %s: no such module %s/none.so", text, root);
    assert_string_equal(error, expected);
    assert_int_equal(compare_spec_parse("--candidate", "/no/such", &spec, error, sizeof error), -1);
    assert_string_equal(error, "--candidate /no/such: no such file or folder");

    unlink(server);
    unlink(module);
    snprintf(inner, sizeof inner, "%s/summary.json", results);
    unlink(inner);
    snprintf(inner, sizeof inner, "%s/src/server.h", source);
    unlink(inner);
    snprintf(inner, sizeof inner, "%s/src", source);
    rmdir(inner);
    rmdir(source);
    rmdir(results);
    rmdir(empty);
    rmdir(root);
}

static void a_sigstop_fault_is_refused_under_a_candidate_pause(void **state)
{
    (void)state;
    char root[] = "/tmp/test-compare-XXXXXX";
    assert_non_null(mkdtemp(root));
    char server[PATH_MAX];
    snprintf(server, sizeof server, "%s/valkey-server", root);
    write_file(server);
    const char *paths[] = {SCENARIO_EXAMPLES "/faults/sigstop-resume-pass.yaml"};
    compare_options options = {
        .scenario_paths = paths,
        .scenario_count = 1,
        .baseline = server,
        .candidate = server,
        .repetitions = 9,
        .threshold = 0.05,
    };
    assert_int_equal(compare_check(&options), 0);
    options.candidate_pause_percent = 10;
    assert_int_equal(compare_check(&options), EXIT_USAGE);
    options.candidate_pause_percent = 0;
    options.candidate_cpu_limit_percent = 50; /* a CPU limit does not continue the server */
    assert_int_equal(compare_check(&options), 0);
    unlink(server);
    rmdir(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_compare_run_gives_its_candidate_samples),
        cmocka_unit_test(a_run_gives_the_throughput_of_each_repetition),
        cmocka_unit_test(a_stored_baseline_without_enough_samples_is_refused),
        cmocka_unit_test(a_spec_is_classified_by_what_is_on_disk),
        cmocka_unit_test(a_sigstop_fault_is_refused_under_a_candidate_pause),
    };
    return cmocka_run_group_tests_name("compare", tests, NULL, NULL);
}
