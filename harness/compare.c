#include "compare.h"
#include "monotonic_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ab_statistics.h"
#include "known_bug.h"
#include "process.h"
#include "report.h"
#include "results.h"
#include "runner.h"
#include "scenario.h"
#include "server_build.h"

#define COMPARE_VALUE_LABEL "throughput (requests/s)"
#define COMPARE_UNIT "ops/s"

static bool is_file(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0 && S_ISREG(info.st_mode);
}

static bool is_folder(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0 && S_ISDIR(info.st_mode);
}

int compare_spec_parse(const char *flag, const char *text, compare_spec *spec, char *error,
                       size_t error_size)
{
    memset(spec, 0, sizeof *spec);
    if (strlen(text) >= sizeof spec->path) {
        snprintf(error, error_size, "%s: the path is too long", flag);
        return -1;
    }
    if (is_folder(text)) {
        char inside[PATH_MAX + 32];
        snprintf(spec->path, sizeof spec->path, "%s", text);
        snprintf(inside, sizeof inside, "%s/summary.json", text);
        if (is_file(inside)) {
            spec->kind = COMPARE_SPEC_STORED;
            return 0;
        }
        snprintf(inside, sizeof inside, "%s/src/server.h", text);
        if (is_file(inside)) {
            spec->kind = COMPARE_SPEC_SOURCE;
            return 0;
        }
        snprintf(error, error_size,
                 "%s %s: neither a results folder (no summary.json) nor a Valkey source tree "
                 "(no src/server.h)",
                 flag, text);
        return -1;
    }
    spec->kind = COMPARE_SPEC_SERVER;
    if (is_file(text)) {
        snprintf(spec->path, sizeof spec->path, "%s", text);
        return 0;
    }
    /* SERVER:MODULE, split at the last colon: a path may hold colons, a module name not. */
    const char *colon = strrchr(text, ':');
    if (colon != NULL && colon != text && colon[1] != '\0') {
        snprintf(spec->path, sizeof spec->path, "%.*s", (int)(colon - text), text);
        snprintf(spec->module_path, sizeof spec->module_path, "%s", colon + 1);
        if (!is_file(spec->path)) {
            snprintf(error, error_size, "%s %s: no such server %s", flag, text, spec->path);
            return -1;
        }
        if (!is_file(spec->module_path)) {
            snprintf(error, error_size, "%s %s: no such module %s", flag, text, spec->module_path);
            return -1;
        }
        return 0;
    }
    snprintf(error, error_size, "%s %s: no such file or folder", flag, text);
    return -1;
}

/* ---- stored baselines ---------------------------------------------------------------- */

int compare_stored_samples(const json_t *summary, const char *source, const char *case_name,
                           double **samples, size_t *count, char *error, size_t error_size)
{
    *samples = NULL;
    *count = 0;
    const json_t *found = NULL;
    size_t index;
    json_t *one;
    json_array_foreach(json_object_get(summary, "cases"), index, one)
    {
        const char *name = json_string_value(json_object_get(one, "name"));
        if (name != NULL && strcmp(name, case_name) == 0)
            found = one;
    }
    if (found == NULL) {
        snprintf(error, error_size, "%s: no case %s to compare with", source, case_name);
        return -1;
    }
    const json_t *values =
        json_object_get(json_object_get(found, "comparison"), "candidate_samples");
    if (!json_is_array(values))
        values = json_object_get(json_object_get(found, "repetitions"), "requests_per_second");
    if (!json_is_array(values)) {
        snprintf(error, error_size,
                 "%s: case %s has no per-repetition throughput (a run or compare recorded "
                 "before it was kept?)",
                 source, case_name);
        return -1;
    }
    size_t total = json_array_size(values);
    if (total < AB_MINIMUM_REPETITIONS) {
        snprintf(error, error_size,
                 "%s: case %s has %zu throughput sample(s); a baseline needs at least %d "
                 "(give the scenario repetitions: %d or more)",
                 source, case_name, total, AB_MINIMUM_REPETITIONS, AB_MINIMUM_REPETITIONS);
        return -1;
    }
    double *out = calloc(total, sizeof *out);
    if (out == NULL) {
        snprintf(error, error_size, "%s: out of memory", source);
        return -1;
    }
    for (size_t i = 0; i < total; i++) {
        const json_t *value = json_array_get(values, i);
        if (!json_is_number(value) || json_number_value(value) <= 0) {
            snprintf(error, error_size, "%s: case %s: sample %zu is not a positive number", source,
                     case_name, i + 1);
            free(out);
            return -1;
        }
        out[i] = json_number_value(value);
    }
    *samples = out;
    *count = total;
    return 0;
}

/* The stored baseline's summary, or NULL (error set) when the spec names a server. */
static json_t *load_stored(const compare_spec *spec, char *error, size_t error_size)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/summary.json", spec->path);
    json_error_t parse_error;
    json_t *summary = json_load_file(path, 0, &parse_error);
    if (summary == NULL)
        snprintf(error, error_size, "%s:%d:%d: %s", path, parse_error.line, parse_error.column,
                 parse_error.text);
    return summary;
}

static bool case_selected(const compare_options *options, const scenario_case *one_case,
                          size_t position)
{
    return shard_selects(&options->shard, position) &&
           (options->case_filter == NULL || strcmp(one_case->name, options->case_filter) == 0);
}

int compare_check(const compare_options *options)
{
    int rc = runner_check_scenarios(options->scenario_paths, options->scenario_count,
                                    options->case_filter);
    if (rc != 0)
        return rc;
    char error[COMPARE_ERROR_BYTES];
    compare_spec baseline;
    if (compare_spec_parse("--baseline", options->baseline, &baseline, error, sizeof error) != 0) {
        fprintf(stderr, "run.sh: %s\n", error);
        return EXIT_USAGE;
    }
    json_t *stored = NULL;
    if (baseline.kind == COMPARE_SPEC_STORED &&
        (stored = load_stored(&baseline, error, sizeof error)) == NULL) {
        fprintf(stderr, "run.sh: --baseline %s\n", error);
        return EXIT_USAGE;
    }
    size_t position = 0;
    for (size_t file = 0; file < options->scenario_count && rc == 0; file++) {
        scenario loaded;
        char load_error[SCENARIO_ERROR_SIZE];
        if (scenario_load(options->scenario_paths[file], &loaded, load_error) != SCENARIO_OK) {
            fprintf(stderr, "%s\n", load_error);
            rc = EXIT_USAGE;
            break;
        }
        for (size_t c = 0; c < loaded.case_count && rc == 0; c++) {
            const scenario_case *one_case = &loaded.cases[c];
            if (!case_selected(options, one_case, position++))
                continue;
            /* The pause would continue a server the fault stopped, within 100 ms. */
            if (options->candidate_pause_percent > 0 &&
                one_case->settings.fault.kind == SCENARIO_FAULT_SIGSTOP) {
                fprintf(stderr,
                        "run.sh: %s: case %s: fault sigstop and --candidate-pause both stop "
                        "the server; compare this case without --candidate-pause\n",
                        options->scenario_paths[file], one_case->name);
                rc = EXIT_USAGE;
                continue;
            }
            if (stored == NULL)
                continue;
            double *samples = NULL;
            size_t count = 0;
            if (compare_stored_samples(stored, baseline.path, one_case->name, &samples, &count,
                                       error, sizeof error) != 0) {
                fprintf(stderr, "run.sh: --baseline %s\n", error);
                rc = EXIT_USAGE;
            }
            free(samples);
        }
        scenario_free(&loaded);
    }
    json_decref(stored);
    return rc;
}

/* ---- running ------------------------------------------------------------------------- */

static json_t *samples_to_json(const double *samples, size_t count)
{
    json_t *array = json_array();
    for (size_t i = 0; i < count && array != NULL; i++)
        json_array_append_new(array, json_real(samples[i]));
    return array;
}

static json_t *verdicts_to_json(const scenario_verdict *verdicts, size_t count)
{
    json_t *array = json_array();
    for (size_t i = 0; i < count && array != NULL; i++)
        json_array_append_new(array, json_string(scenario_verdict_name(verdicts[i])));
    return array;
}

static const char *lower_label(ab_verdict verdict)
{
    switch (verdict) {
    case AB_REGRESSION:
        return "regression";
    case AB_IMPROVEMENT:
        return "improvement";
    case AB_NO_CHANGE:
        break;
    }
    return "no change";
}

typedef struct build_side {
    runner_options options;
    runner_case *runner;
    scenario_verdict *verdicts;
    double *samples;
    double *paused; /* the measured stopped share (--candidate-pause), each repetition */
    size_t count;
} build_side;

static void side_free(build_side *side)
{
    runner_case_close(side->runner);
    free(side->verdicts);
    free(side->samples);
    free(side->paused);
    side->runner = NULL;
    side->verdicts = NULL;
    side->samples = NULL;
    side->paused = NULL;
}

/* One repetition of one side. 0, or an exit code (environment, interrupted). */
static int side_repeat(build_side *side, const char *label, const char *case_name,
                       size_t repetition, size_t repetitions)
{
    runner_repetition outcome;
    char error[COMPARE_ERROR_BYTES];
    if (runner_case_repeat(side->runner, &outcome, error, sizeof error) != 0) {
        fprintf(stderr, "run.sh: %s (%s)\n", error, label);
        return EXIT_ENVIRONMENT;
    }
    side->verdicts[side->count] = outcome.verdict;
    side->samples[side->count] = outcome.requests_per_second;
    side->paused[side->count] = outcome.server_paused_share;
    side->count++;
    char paused[64] = "";
    if (outcome.server_paused_share > 0)
        snprintf(paused, sizeof paused, " (server stopped %.1f%% of its run)",
                 100.0 * outcome.server_paused_share);
    printf("  %s, repetition %zu of %zu, %-9s %10.0f ops/s  %s%s\n", case_name, repetition + 1,
           repetitions, label, outcome.requests_per_second, verdict_label(outcome.verdict), paused);
    fflush(stdout);
    return process_interrupted() ? EXIT_INTERRUPTED : 0;
}

static void server_spec_text(const compare_spec *spec, char *out, size_t out_size)
{
    if (spec->module_path[0])
        snprintf(out, out_size, "%s:%s", spec->path, spec->module_path);
    else
        snprintf(out, out_size, "%s", spec->path);
}

static void version_of(const compare_spec *spec, char *out, size_t out_size)
{
    snprintf(out, out_size, "unknown");
    if (spec->kind != COMPARE_SPEC_SERVER)
        return;
    server_version version;
    char error[512];
    if (server_build_read_version(spec->path, &version, error, sizeof error) == 0)
        server_version_format(version, out, out_size);
}

/* Runs and judges one case; adds it to the results. Returns an exit code for the case. */
static int compare_case(const compare_options *options, const compare_spec *baseline,
                        const json_t *stored, const scenario_case *one_case, size_t case_index,
                        const runner_options *baseline_run, const runner_options *candidate_run,
                        results_run *results)
{
    size_t repetitions = options->repetitions;
    bool interleaved = baseline->kind != COMPARE_SPEC_STORED;
    build_side sides[2] = {{.options = *baseline_run}, {.options = *candidate_run}};
    build_side *base = &sides[0], *candidate = &sides[1];
    char error[COMPARE_ERROR_BYTES];
    int rc = 0;
    double started = monotonic_seconds();
    for (size_t s = 0; s < 2 && rc == 0; s++) {
        if (s == 0 && !interleaved)
            continue;
        sides[s].runner = runner_case_open(&sides[s].options, one_case, results);
        sides[s].verdicts = calloc(repetitions, sizeof *sides[s].verdicts);
        sides[s].samples = calloc(repetitions, sizeof *sides[s].samples);
        sides[s].paused = calloc(repetitions, sizeof *sides[s].paused);
        if (!sides[s].runner || !sides[s].verdicts || !sides[s].samples || !sides[s].paused) {
            fprintf(stderr, "run.sh: out of memory comparing %s\n", one_case->name);
            rc = EXIT_ENVIRONMENT;
        }
    }
    if (rc == 0 && !interleaved &&
        compare_stored_samples(stored, baseline->path, one_case->name, &base->samples, &base->count,
                               error, sizeof error) != 0) {
        fprintf(stderr, "run.sh: --baseline %s\n", error);
        rc = EXIT_USAGE;
    }
    /* A B A B ...: drift over the run hits both builds alike. */
    for (size_t r = 0; r < repetitions && rc == 0; r++) {
        if (interleaved)
            rc = side_repeat(base, "baseline", one_case->name, r, repetitions);
        if (rc == 0)
            rc = side_repeat(candidate, "candidate", one_case->name, r, repetitions);
    }
    if (rc != 0) {
        side_free(base);
        side_free(candidate);
        return rc;
    }

    case_judgement candidate_judgement =
        runner_case_judge(candidate->runner, candidate->verdicts, candidate->count);
    case_judgement baseline_judgement = candidate_judgement;
    if (interleaved)
        baseline_judgement = runner_case_judge(base->runner, base->verdicts, base->count);
    bool unexpected_watchdog = candidate_judgement.outcome == CASE_OUTCOME_UNEXPECTED ||
                               baseline_judgement.outcome == CASE_OUTCOME_UNEXPECTED;
    bool every_pass = candidate_judgement.verdict == SCENARIO_VERDICT_PASS &&
                      baseline_judgement.verdict == SCENARIO_VERDICT_PASS;

    ab_settings settings = ab_settings_default();
    settings.threshold = options->threshold;
    settings.weak_evidence = !interleaved;
    settings.unit = COMPARE_UNIT;
    ab_comparison comparison;
    char judge_error[COMPARE_ERROR_BYTES] = "";
    bool judged = ab_compare(base->samples, base->count, candidate->samples, candidate->count,
                             &settings, &comparison, judge_error, sizeof judge_error) == 0;
    char description[AB_DESCRIPTION_BYTES + COMPARE_ERROR_BYTES];
    if (judged)
        ab_comparison_describe(&comparison, description, sizeof description);
    else
        snprintf(description, sizeof description, "not judged: %s", judge_error);
    if (unexpected_watchdog) {
        const case_judgement *shown = candidate_judgement.outcome == CASE_OUTCOME_UNEXPECTED
                                          ? &candidate_judgement
                                          : &baseline_judgement;
        size_t used = strlen(description);
        snprintf(description + used, sizeof description - used, "; %s watchdog: %s",
                 shown == &candidate_judgement ? "candidate" : "baseline", shown->message);
    }
    bool regression = judged && comparison.verdict == AB_REGRESSION;
    bool failed = regression || unexpected_watchdog || !judged;
    const char *verdict_text =
        !every_pass ? scenario_verdict_name(candidate_judgement.verdict != SCENARIO_VERDICT_PASS
                                                ? candidate_judgement.verdict
                                                : baseline_judgement.verdict)
        : judged    ? lower_label(comparison.verdict)
                    : "not judged";
    /* The description starts with the verdict: "NO CHANGE: median ...". */
    printf("%s: %s\n", one_case->name, description);
    fflush(stdout);

    json_t *comparison_json =
        json_pack("{s:s, s:o, s:o, s:b, s:b}", "verdict",
                  judged ? ab_verdict_label(comparison.verdict) : "NOT JUDGED", "baseline_samples",
                  samples_to_json(base->samples, base->count), "candidate_samples",
                  samples_to_json(candidate->samples, candidate->count), "interleaved", interleaved,
                  "weak_evidence", !interleaved);
    /* What the pause achieved, beside what was asked: the dial's real setting. */
    if (comparison_json != NULL && options->candidate_pause_percent > 0)
        json_object_set_new(comparison_json, "candidate_paused_share",
                            samples_to_json(candidate->paused, candidate->count));
    if (comparison_json != NULL && judged) {
        json_t *numbers =
            json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:s, s:s, s:f}", "baseline_median",
                      comparison.baseline_median, "candidate_median", comparison.candidate_median,
                      "ratio", comparison.ratio, "ratio_low", comparison.ratio_low, "ratio_high",
                      comparison.ratio_high, "confidence", comparison.confidence, "p_value",
                      comparison.p_value, "method",
                      comparison.test.method == AB_METHOD_EXACT ? "exact" : "normal", "test",
                      "Mann-Whitney U, one-sided", "threshold", options->threshold);
        if (numbers != NULL)
            json_object_update(comparison_json, numbers);
        json_decref(numbers);
    }
    char expected[256];
    known_bug_describe_expectation(&one_case->settings, expected, sizeof expected);
    json_t *repetitions_json =
        json_pack("{s:I, s:o, s:o}", "count", (json_int_t)candidate->count, "baseline_verdicts",
                  verdicts_to_json(base->verdicts, interleaved ? base->count : 0),
                  "candidate_verdicts", verdicts_to_json(candidate->verdicts, candidate->count));
    json_t *case_json = json_pack(
        "{s:s, s:o, s:I, s:s, s:s, s:s, s:s, s:s, s:o?, s:f, s:{s:f}, s:o?}", "name",
        one_case->name, "parameters", scenario_case_to_json(one_case), "case_index",
        (json_int_t)case_index, "verdict", verdict_text, "expected",
        "no regression, watchdog as expected", "outcome",
        case_outcome_name(failed ? CASE_OUTCOME_UNEXPECTED : CASE_OUTCOME_AS_EXPECTED), "message",
        description, "evidence_summary", expected, "repetitions", repetitions_json, "duration_s",
        monotonic_seconds() - started, "throughput", "requests_per_second",
        judged ? comparison.candidate_median : 0.0, "comparison", comparison_json);
    rc = failed ? EXIT_UNEXPECTED_VERDICT : EXIT_AS_EXPECTED;
    if (results_add_case_json(results, case_json, error, sizeof error) != 0) {
        fprintf(stderr, "run.sh: %s\n", error);
        rc = EXIT_ENVIRONMENT;
    }
    side_free(base);
    side_free(candidate);
    return rc;
}

int compare_run(const compare_options *options)
{
    int check = compare_check(options);
    if (check != 0)
        return check;
    char error[COMPARE_ERROR_BYTES];
    compare_spec baseline, candidate;
    if (compare_spec_parse("--baseline", options->baseline, &baseline, error, sizeof error) != 0 ||
        compare_spec_parse("--candidate", options->candidate, &candidate, error, sizeof error) !=
            0) {
        fprintf(stderr, "run.sh: %s\n", error);
        return EXIT_USAGE;
    }
    if (candidate.kind != COMPARE_SPEC_SERVER || baseline.kind == COMPARE_SPEC_SOURCE) {
        fprintf(stderr, "run.sh: inside compare takes built servers (the host side builds "
                        "source trees)\n");
        return EXIT_USAGE;
    }
    json_t *stored = NULL;
    if (baseline.kind == COMPARE_SPEC_STORED &&
        (stored = load_stored(&baseline, error, sizeof error)) == NULL) {
        fprintf(stderr, "run.sh: --baseline %s\n", error);
        return EXIT_USAGE;
    }
    runner_options common = {
        .results_root = options->results_root,
        .rdma_address = options->rdma_address,
        .testbed_description = options->testbed_description,
        .live_progress = options->live_progress,
    };
    runner_options baseline_run = common, candidate_run = common;
    baseline_run.server_path = baseline.path;
    baseline_run.rdma_module_path = baseline.module_path;
    candidate_run.server_path = candidate.path;
    candidate_run.rdma_module_path = candidate.module_path;
    candidate_run.server_cpu_limit_percent = options->candidate_cpu_limit_percent;
    candidate_run.server_pause_percent = options->candidate_pause_percent;
    char baseline_text[2 * PATH_MAX + 2], candidate_text[2 * PATH_MAX + 2];
    char baseline_version[32], candidate_version[32];
    server_spec_text(&baseline, baseline_text, sizeof baseline_text);
    server_spec_text(&candidate, candidate_text, sizeof candidate_text);
    version_of(&baseline, baseline_version, sizeof baseline_version);
    version_of(&candidate, candidate_version, sizeof candidate_version);
    char shard_text[32];
    shard_format(&options->shard, shard_text, sizeof shard_text);

    int exit_code = EXIT_AS_EXPECTED;
    size_t position = 0;
    for (size_t file = 0; file < options->scenario_count && !process_interrupted(); file++) {
        scenario loaded;
        char load_error[SCENARIO_ERROR_SIZE];
        if (scenario_load(options->scenario_paths[file], &loaded, load_error) != SCENARIO_OK) {
            fprintf(stderr, "%s\n", load_error);
            exit_code = EXIT_USAGE;
            break;
        }
        char name[256];
        snprintf(name, sizeof name, "compare-%s", loaded.settings.name);
        results_run_info info = {
            .scenario_name = name,
            .scenario_path = options->scenario_paths[file],
            .server_version = candidate_version,
            .testbed = options->testbed_description,
            .start_time = time(NULL),
            .shard = shard_text,
        };
        results_run *results =
            results_run_create(options->results_root, &info, error, sizeof error);
        if (results == NULL) {
            fprintf(stderr, "run.sh: %s\n", error);
            scenario_free(&loaded);
            exit_code = EXIT_ENVIRONMENT;
            break;
        }
        results_set_run_field(
            results, "comparison",
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:f, s:b, s:s, s:i, s:i}", "baseline",
                      baseline.kind == COMPARE_SPEC_STORED ? baseline.path : baseline_text,
                      "baseline_version",
                      baseline.kind == COMPARE_SPEC_STORED ? "stored" : baseline_version,
                      "candidate", candidate_text, "candidate_version", candidate_version,
                      "repetitions", (json_int_t)options->repetitions, "threshold",
                      options->threshold, "alpha", AB_DEFAULT_ALPHA, "interleaved",
                      baseline.kind != COMPARE_SPEC_STORED, "metric", "requests_per_second",
                      "candidate_cpu_limit_percent", options->candidate_cpu_limit_percent,
                      "candidate_pause_percent", options->candidate_pause_percent));
        printf("results: %s\n", results_run_directory(results));
        if (baseline.kind == COMPARE_SPEC_STORED)
            printf("baseline: stored run %s (weak evidence: not interleaved)\n", baseline.path);
        fflush(stdout);
        for (size_t c = 0; c < loaded.case_count && !process_interrupted(); c++) {
            size_t case_index = position++;
            if (!case_selected(options, &loaded.cases[c], case_index))
                continue;
            int rc = compare_case(options, &baseline, stored, &loaded.cases[c], case_index,
                                  &baseline_run, &candidate_run, results);
            if (rc == EXIT_UNEXPECTED_VERDICT && exit_code == EXIT_AS_EXPECTED)
                exit_code = rc;
            else if (rc != EXIT_AS_EXPECTED && rc != EXIT_UNEXPECTED_VERDICT) {
                exit_code = rc;
                break;
            }
        }
        if (results_run_close(results, error, sizeof error) != 0) {
            fprintf(stderr, "run.sh: %s\n", error);
            exit_code = EXIT_ENVIRONMENT;
        }
        scenario_free(&loaded);
        if (exit_code != EXIT_AS_EXPECTED && exit_code != EXIT_UNEXPECTED_VERDICT)
            break;
    }
    json_decref(stored);
    if (process_interrupted())
        return EXIT_INTERRUPTED;
    return exit_code;
}

/* ---- the report ---------------------------------------------------------------------- */

int compare_render_report(const char *run_dir, char *error, size_t error_size)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/summary.json", run_dir);
    json_t *summary = json_load_file(path, 0, NULL);
    json_t *cases = json_object_get(summary, "cases");
    size_t total = json_array_size(cases);
    report_comparison_case *drawn = calloc(total + 1, sizeof *drawn);
    double **arrays = calloc(2 * total + 1, sizeof *arrays);
    size_t drawn_count = 0;
    int status = drawn && arrays ? 0 : -1;
    if (status != 0)
        snprintf(error, error_size, "%s: out of memory", path);
    for (size_t i = 0; i < total && status == 0; i++) {
        const json_t *one = json_array_get(cases, i);
        const json_t *comparison = json_object_get(one, "comparison");
        const json_t *base = json_object_get(comparison, "baseline_samples");
        const json_t *candidate = json_object_get(comparison, "candidate_samples");
        if (!json_is_array(base) || !json_is_array(candidate))
            continue;
        double *base_values = calloc(json_array_size(base) + 1, sizeof *base_values);
        double *candidate_values = calloc(json_array_size(candidate) + 1, sizeof *candidate_values);
        arrays[2 * i] = base_values;
        arrays[2 * i + 1] = candidate_values;
        if (!base_values || !candidate_values)
            continue;
        for (size_t v = 0; v < json_array_size(base); v++)
            base_values[v] = json_number_value(json_array_get(base, v));
        for (size_t v = 0; v < json_array_size(candidate); v++)
            candidate_values[v] = json_number_value(json_array_get(candidate, v));
        drawn[drawn_count++] = (report_comparison_case){
            json_string_value(json_object_get(one, "name")), base_values, json_array_size(base),
            candidate_values, json_array_size(candidate)};
    }
    if (status == 0 && drawn_count > 0)
        status = report_render_comparison(run_dir, COMPARE_VALUE_LABEL, drawn, drawn_count, error,
                                          error_size);
    if (status == 0)
        status = report_render(run_dir, error, error_size);
    for (size_t i = 0; arrays && i < 2 * total; i++)
        free(arrays[i]);
    free(arrays);
    free(drawn);
    json_decref(summary);
    return status;
}
