/*
 * main.c: the harness's front door, called by run.sh after provisioning and building.
 * It parses the command line, finds the server under test, brings the test bed up and
 * runs each job inside it in one go (one VM boot per job), then takes the test bed down.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "compare.h"
#include "monotonic_clock.h"
#include "process.h"
#include "report.h"
#include "results_merge.h"
#include "runner.h"
#include "server.h"
#include "server_build.h"
#include "tcp_probe.h"
#include "testbed.h"

/* Bound of a whole job inside the test bed; a hang of ours must still end. */
#define INSIDE_JOB_TIMEOUT_SECONDS (4 * 60 * 60)
#define SMOKE_PORT 6379
#define SMOKE_IO_THREADS 4
#define CLI_PING_TIMEOUT_MS 30000
#define TCP_PING_TIMEOUT_MS 5000
#define BUILD_TIMEOUT_MS (30 * 60 * 1000)
/* ./run.sh test fuzzes each target this long: a smoke test of the targets and their
 * regression inputs, not a search (./run.sh fuzz is for that). */
#define FUZZ_SECONDS_IN_TEST "15"

/* The main job's suite: the reproduction, then a short value-size sweep. */
#define DEFAULT_SUITE_SIZE 2
static const char *const default_suite[DEFAULT_SUITE_SIZE] = {
    "scenarios/busy-loop.yaml",
    "scenarios/value-size-sweep.yaml",
};

static void repo_root_of(char *out, size_t out_size)
{
    const char *from_environment = getenv("VALKEY_RDMA_HARNESS_ROOT");
    if (from_environment && from_environment[0]) {
        snprintf(out, out_size, "%s", from_environment);
        return;
    }
    /* build/main/harness/valkey-rdma-harness: the root is three folders up. */
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length > 0) {
        self[length] = '\0';
        for (int i = 0; i < 4; i++) {
            char *slash = strrchr(self, '/');
            if (slash)
                *slash = '\0';
        }
        snprintf(out, out_size, "%s", self);
        return;
    }
    if (!getcwd(out, out_size))
        snprintf(out, out_size, ".");
}

static void cache_dir_of(const cli_options *options, char *out, size_t out_size)
{
    const char *from_environment = getenv("VALKEY_RDMA_HARNESS_CACHE");
    const char *home = getenv("HOME");
    if (options->cache_dir)
        snprintf(out, out_size, "%s", options->cache_dir);
    else if (from_environment && from_environment[0])
        snprintf(out, out_size, "%s", from_environment);
    else
        snprintf(out, out_size, "%s/.cache/valkey-rdma-harness", home ? home : "/tmp");
    mkdir(out, 0755);
    char resolved[PATH_MAX];
    if (realpath(out, resolved))
        snprintf(out, out_size, "%s", resolved);
}

/* Makes path and its parents (as mkdir -p). 0, or -1 with errno set. */
static int make_folders(const char *path)
{
    char partial[PATH_MAX];
    snprintf(partial, sizeof partial, "%s", path);
    for (char *slash = partial + 1; *slash != '\0'; slash++) {
        if (*slash != '/')
            continue;
        *slash = '\0';
        if (mkdir(partial, 0755) != 0 && errno != EEXIST)
            return -1;
        *slash = '/';
    }
    if (mkdir(partial, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* On the host: the folder that receives run folders, absolute (the test bed shares it at
 * the same path): --results DIR, made if missing, else <repo>/results. One line printed
 * on failure. */
static int results_root_of(const cli_options *options, const char *repo_root, char *out,
                           size_t out_size)
{
    /* 0, EXIT_ENVIRONMENT (cannot be made) or EXIT_USAGE (a path the VM cannot share). */
    if (!options->results_dir) {
        snprintf(out, out_size, "%s/results", repo_root);
        return 0;
    }
    char resolved[PATH_MAX];
    if (make_folders(options->results_dir) != 0 || !realpath(options->results_dir, resolved)) {
        fprintf(stderr, "run.sh: --results %s: cannot create the results folder: %s\n",
                options->results_dir, strerror(errno));
        return EXIT_ENVIRONMENT;
    }
    /* The VM gets its shared folders on the kernel command line, ':'-separated. */
    if (strpbrk(resolved, " :\t\n\"") != NULL) {
        fprintf(stderr,
                "run.sh: --results %s: the test bed cannot share a path holding a space, "
                "a ':' or a quote\n",
                options->results_dir);
        return EXIT_USAGE;
    }
    snprintf(out, out_size, "%s", resolved);
    return 0;
}

/* The server under test and its tools, as environment entries for the test bed. */
typedef struct build_environment {
    char entries[6][PATH_MAX + 32];
    char *list[7];
} build_environment;

static void build_environment_fill(build_environment *out, const server_build *build)
{
    snprintf(out->entries[0], sizeof out->entries[0], "VALKEY_SERVER=%s", build->server_path);
    snprintf(out->entries[1], sizeof out->entries[1], "VALKEY_RDMA_MODULE=%s",
             build->rdma_module_path);
    snprintf(out->entries[2], sizeof out->entries[2], "VALKEY_VERSION=%s", build->version_text);
    snprintf(out->entries[3], sizeof out->entries[3], "VALKEY_CLI=%s", build->cli_path);
    snprintf(out->entries[4], sizeof out->entries[4], "VALKEY_BENCHMARK=%s", build->benchmark_path);
    snprintf(out->entries[5], sizeof out->entries[5], "VALKEY_ORIGIN=%s", build->origin);
    for (int i = 0; i < 6; i++)
        out->list[i] = out->entries[i];
    out->list[6] = NULL;
}

/* Brings the test bed up, runs argv in it, takes it down. Returns an exit code. */
static int run_in_testbed(const cli_options *options, const char *repo_root, const char *cache_dir,
                          const server_build *build, char *const argv[], bool announce)
{
    char error[1024];
    testbed bed;
    if (testbed_up(&bed, options, repo_root, cache_dir, error, sizeof error) != 0) {
        fprintf(stderr, "run.sh: test bed: %s\n", error);
        testbed_down(&bed);
        return process_interrupted() ? EXIT_INTERRUPTED : EXIT_ENVIRONMENT;
    }
    char description[512];
    testbed_describe(&bed, description, sizeof description);
    if (announce || options->verbose)
        fprintf(stderr, "testbed: %s (%s)\n", description, bed.choice.reason);
    build_environment environment;
    build_environment_fill(&environment, build);
    int exit_code = EXIT_ENVIRONMENT;
    int rc = testbed_run(&bed, argv, environment.list, INSIDE_JOB_TIMEOUT_SECONDS, &exit_code,
                         error, sizeof error);
    testbed_down(&bed);
    if (rc != 0) {
        fprintf(stderr, "run.sh: test bed: %s\n", error);
        return process_interrupted() ? EXIT_INTERRUPTED : EXIT_ENVIRONMENT;
    }
    return exit_code;
}

/* Inside the test bed: start the server under test with RDMA and io-threads 4, PING it
 * over RDMA with Valkey's own valkey-cli and over TCP, and say what was found. */
static int inside_smoke(void)
{
    const char *server_path = getenv("VALKEY_SERVER");
    const char *module_path = getenv("VALKEY_RDMA_MODULE");
    const char *cli_path = getenv("VALKEY_CLI");
    const char *address = getenv("TESTBED_ADDRESS");
    const char *device = getenv("TESTBED_RDMA_DEVICE");
    const char *kind = getenv("TESTBED_KIND");
    if (!server_path || !cli_path || !address) {
        fprintf(stderr, "inside smoke: VALKEY_SERVER, VALKEY_CLI and TESTBED_ADDRESS must be "
                        "set (run through ./run.sh)\n");
        return EXIT_USAGE;
    }
    char error[512];
    server_version version;
    if (server_build_read_version(server_path, &version, error, sizeof error) != 0) {
        fprintf(stderr, "smoke: %s\n", error);
        return EXIT_ENVIRONMENT;
    }
    char version_text[32];
    server_version_format(version, version_text, sizeof version_text);

    char work_dir[] = "/tmp/valkey-smoke-XXXXXX";
    if (!mkdtemp(work_dir)) {
        fprintf(stderr, "smoke: mkdtemp: %s\n", strerror(errno));
        return EXIT_ENVIRONMENT;
    }
    char log_path[PATH_MAX];
    snprintf(log_path, sizeof log_path, "%s/server.log", work_dir);
    server_settings settings = {
        .server_path = server_path,
        .rdma_module_path = module_path && module_path[0] ? module_path : NULL,
        .version = version,
        .rdma_address = address,
        .port = SMOKE_PORT,
        .io_threads = SMOKE_IO_THREADS,
        .working_dir = work_dir,
        .log_file = log_path,
    };
    server running;
    printf("test bed:        %s\n", kind ? kind : "?");
    printf("RDMA device:     %s (%s)\n", device ? device : "?", address);
    printf("Valkey version:  %s (%s)\n", version_text, server_path);
    fflush(stdout);
    if (server_start(&running, &settings, error, sizeof error) != 0 ||
        server_wait_ready(&running, SERVER_READY_TIMEOUT_MS, error, sizeof error) != 0) {
        fprintf(stderr, "smoke: %s\n", error);
        server_stop(&running);
        return EXIT_ENVIRONMENT;
    }

    char port[16];
    snprintf(port, sizeof port, "%d", SMOKE_PORT);
    char *rdma_ping[] = {(char *)cli_path, "--rdma", "-h", (char *)address, "-p", port,
                         "PING",           NULL};
    char output[256], run_error[256];
    int rc = process_run_capture(rdma_ping, CLI_PING_TIMEOUT_MS, output, sizeof output, run_error,
                                 sizeof run_error);
    bool rdma_ok = rc == 0 && strncmp(output, "PONG", 4) == 0;
    output[strcspn(output, "\n")] = '\0';
    printf("PING over RDMA:  %s\n", rdma_ok ? "PONG (valkey-cli --rdma)" : "FAILED");
    if (!rdma_ok)
        fprintf(stderr, "smoke: valkey-cli --rdma PING: %s\n", rc < 0 ? run_error : output);
    bool tcp_ok =
        tcp_probe_ping("127.0.0.1", SMOKE_PORT, TCP_PING_TIMEOUT_MS, error, sizeof error) == 0;
    printf("PING over TCP:   %s\n", tcp_ok ? "PONG" : "FAILED");
    if (!tcp_ok)
        fprintf(stderr, "smoke: %s\n", error);
    fflush(stdout);
    server_stop(&running);
    unlink(log_path);
    char stdout_log[PATH_MAX + 16];
    snprintf(stdout_log, sizeof stdout_log, "%s.stdout", log_path);
    unlink(stdout_log);
    rmdir(work_dir);
    return rdma_ok && tcp_ok ? EXIT_AS_EXPECTED : EXIT_UNEXPECTED_VERDICT;
}

/* Inside the test bed: where results go (--results, else <repo>/results), and the test
 * bed in words, from the environment the host side set. */
static void describe_inside(const cli_options *options, const char *address, char *results_root,
                            size_t results_size, char *testbed_text, size_t testbed_size)
{
    char repo_root[PATH_MAX];
    repo_root_of(repo_root, sizeof repo_root);
    /* Absolute, as the host side makes it: the server is started with --dir, which it
     * enters before it opens the log file named under this folder. */
    char cwd[PATH_MAX];
    if (!options->results_dir)
        snprintf(results_root, results_size, "%s/results", repo_root);
    else if (options->results_dir[0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(results_root, results_size, "%s", options->results_dir);
    else
        snprintf(results_root, results_size, "%s/%s", cwd, options->results_dir);
    const char *kind = getenv("TESTBED_KIND");
    const char *device = getenv("TESTBED_RDMA_DEVICE");
    snprintf(testbed_text, testbed_size, "%s, RDMA device %s (%s)", kind ? kind : "?",
             device ? device : "?", address);
}

/* Inside the test bed: run scenario files with the server under test from the
 * environment the host side set. */
static int inside_run(const cli_options *options, bool repro)
{
    const char *server_path = getenv("VALKEY_SERVER");
    const char *address = getenv("TESTBED_ADDRESS");
    if (!server_path || !address) {
        fprintf(stderr, "inside run: VALKEY_SERVER and TESTBED_ADDRESS must be set (run "
                        "through ./run.sh)\n");
        return EXIT_USAGE;
    }
    char results_root[PATH_MAX + 16], testbed_text[256];
    describe_inside(options, address, results_root, sizeof results_root, testbed_text,
                    sizeof testbed_text);
    runner_options run = {
        .scenario_paths = options->scenario_paths,
        .scenario_count = (size_t)options->scenario_count,
        .case_filter = options->case_name,
        .results_root = results_root,
        .server_path = server_path,
        .rdma_module_path = getenv("VALKEY_RDMA_MODULE"),
        .rdma_address = address,
        .netdev = getenv("TESTBED_NETDEV"),
        .rdma_device = getenv("TESTBED_RDMA_DEVICE"),
        .testbed_description = testbed_text,
        .repro = repro,
        .live_progress = getenv("VALKEY_RDMA_HARNESS_TTY") != NULL,
        .shard = options->shard,
    };
    return runner_run(&run);
}

/* Inside the test bed, for integration scripts: start the server under test with RDMA
 * (IO threads forced active when more than one, unless the fourth argument is "lazy"),
 * say "ready pid=N", hold it until SIGTERM or SIGINT, then stop and reap it. Arguments:
 * IO_THREADS PORT DIR [active|lazy]. */
static int inside_serve(const cli_options *options)
{
    const char *server_path = getenv("VALKEY_SERVER");
    const char *module_path = getenv("VALKEY_RDMA_MODULE");
    const char *address = getenv("TESTBED_ADDRESS");
    bool lazy = options->scenario_count == 4 && strcmp(options->scenario_paths[3], "lazy") == 0;
    bool active = options->scenario_count == 4 && strcmp(options->scenario_paths[3], "active") == 0;
    if ((options->scenario_count != 3 && !lazy && !active) || !server_path || !address) {
        fprintf(stderr, "inside serve IO_THREADS PORT DIR [active|lazy], with VALKEY_SERVER "
                        "and TESTBED_ADDRESS set\n");
        return EXIT_USAGE;
    }
    int io_threads = atoi(options->scenario_paths[0]);
    int port = atoi(options->scenario_paths[1]);
    const char *dir = options->scenario_paths[2];
    char error[512];
    server_version version;
    if (io_threads < 1 || port < 1 || port > 65535 ||
        server_build_read_version(server_path, &version, error, sizeof error) != 0) {
        fprintf(stderr, "inside serve: bad arguments or server\n");
        return EXIT_USAGE;
    }
    char log_path[PATH_MAX];
    snprintf(log_path, sizeof log_path, "%s/server.log", dir);
    server_settings settings = {
        .server_path = server_path,
        .rdma_module_path = module_path && module_path[0] ? module_path : NULL,
        .version = version,
        .rdma_address = address,
        .port = port,
        .io_threads = io_threads,
        .io_threads_always_active = io_threads > 1 && !lazy,
        .working_dir = dir,
        .log_file = log_path,
    };
    server running;
    if (server_start(&running, &settings, error, sizeof error) != 0 ||
        server_wait_ready(&running, SERVER_READY_TIMEOUT_MS, error, sizeof error) != 0) {
        fprintf(stderr, "inside serve: %s\n", error);
        server_stop(&running);
        return EXIT_ENVIRONMENT;
    }
    printf("ready pid=%d\n", (int)running.process.pid);
    fflush(stdout);
    int outcome = process_wait_for(&running.process, -1);
    if (outcome == PROCESS_EXITED) {
        fprintf(stderr, "inside serve: the server exited with %d\n",
                process_exit_code(&running.process));
        return EXIT_UNEXPECTED_VERDICT;
    }
    server_stop(&running);
    return EXIT_AS_EXPECTED;
}

/* After an interrupt on the host the VM is gone with whatever the inside job was
 * writing: the temporary files of a run folder changed since `since` (a summary.json
 * being replaced, the current server log, a stacks part; all named with a leading dot)
 * are removed. What was written whole stays: summary.json is only ever renamed into place. */
static void remove_partial_files_in(const char *run_dir, time_t since)
{
    struct stat info;
    DIR *run = NULL;
    if (lstat(run_dir, &info) != 0 || !S_ISDIR(info.st_mode) || info.st_mtime < since ||
        (run = opendir(run_dir)) == NULL)
        return;
    struct dirent *file;
    while ((file = readdir(run)) != NULL) {
        if (file->d_name[0] != '.' || strcmp(file->d_name, ".") == 0 ||
            strcmp(file->d_name, "..") == 0)
            continue;
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", run_dir, file->d_name);
        if (lstat(path, &info) == 0 && S_ISREG(info.st_mode))
            unlink(path);
    }
    closedir(run);
}

/* Draws the report of one run folder if its summary.json changed since `since`. */
static void report_run_if_new(const char *run_dir, time_t since)
{
    char summary[PATH_MAX + 16];
    snprintf(summary, sizeof summary, "%s/summary.json", run_dir);
    struct stat info;
    if (stat(summary, &info) != 0 || info.st_mtime < since)
        return;
    char error[1024];
    if (compare_render_report(run_dir, error, sizeof error) != 0)
        fprintf(stderr, "report: %s\n", error);
    else
        printf("report: %s/index.html\n", run_dir);
}

/* Draws the report of every results folder whose summary.json changed since `since`;
 * after an interrupt, only tidies them (remove_partial_files_in). Hidden entries and the
 * `latest` link are not run folders. */
static void report_new_runs(const char *results_root, time_t since)
{
    bool interrupted = process_interrupted();
    DIR *folder = opendir(results_root);
    if (!folder)
        return;
    struct dirent *entry;
    while ((entry = readdir(folder)) != NULL) {
        if (entry->d_name[0] == '.' || strcmp(entry->d_name, "latest") == 0)
            continue;
        char run_dir[PATH_MAX];
        snprintf(run_dir, sizeof run_dir, "%s/%s", results_root, entry->d_name);
        if (interrupted)
            remove_partial_files_in(run_dir, since);
        else
            report_run_if_new(run_dir, since);
    }
    closedir(folder);
}

/* Inside the test bed: baseline against candidate, both named on the command line. */
static int inside_compare(const cli_options *options)
{
    const char *address = getenv("TESTBED_ADDRESS");
    if (!address || !options->baseline || !options->candidate) {
        fprintf(stderr, "inside compare: --baseline, --candidate and TESTBED_ADDRESS must be "
                        "set (run through ./run.sh compare)\n");
        return EXIT_USAGE;
    }
    char results_root[PATH_MAX + 16], testbed_text[256];
    describe_inside(options, address, results_root, sizeof results_root, testbed_text,
                    sizeof testbed_text);
    compare_options compare = {
        .scenario_paths = options->scenario_paths,
        .scenario_count = (size_t)options->scenario_count,
        .case_filter = options->case_name,
        .results_root = results_root,
        .baseline = options->baseline,
        .candidate = options->candidate,
        .repetitions = (size_t)options->repetitions,
        .threshold = options->threshold,
        .candidate_cpu_limit_percent = options->candidate_cpu_limit,
        .candidate_pause_percent = options->candidate_pause,
        .shard = options->shard,
        .rdma_address = address,
        .testbed_description = testbed_text,
        .live_progress = getenv("VALKEY_RDMA_HARNESS_TTY") != NULL,
    };
    return compare_run(&compare);
}

/* ./run.sh merge: joins results folders on the host; no test bed. */
static int command_merge(const cli_options *options, const char *repo_root)
{
    char out_dir[PATH_MAX];
    if (options->out_dir) {
        snprintf(out_dir, sizeof out_dir, "%s", options->out_dir);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        struct tm utc;
        gmtime_r(&now, &utc);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
        snprintf(out_dir, sizeof out_dir, "%s/results/%s-merged", repo_root, stamp);
    }
    char error[1024];
    if (results_merge_folders(options->scenario_paths, (size_t)options->scenario_count, out_dir,
                              error, sizeof error) != 0) {
        fprintf(stderr, "run.sh merge: %s\n", error);
        return EXIT_USAGE;
    }
    printf("merged: %s\n", out_dir);
    char summary_path[PATH_MAX + 16];
    snprintf(summary_path, sizeof summary_path, "%s/summary.json", out_dir);
    json_t *summary = json_load_file(summary_path, 0, NULL);
    bool unexpected = false;
    size_t index;
    json_t *one;
    json_array_foreach(json_object_get(summary, "cases"), index, one)
    {
        const char *outcome = json_string_value(json_object_get(one, "outcome"));
        const char *verdict = json_string_value(json_object_get(one, "verdict"));
        const char *name = json_string_value(json_object_get(one, "name"));
        printf("%-12s %-12s %s\n", outcome ? outcome : "?", verdict ? verdict : "?",
               name ? name : "?");
        unexpected |= outcome && strcmp(outcome, case_outcome_name(CASE_OUTCOME_UNEXPECTED)) == 0;
    }
    json_decref(summary);
    if (compare_render_report(out_dir, error, sizeof error) != 0)
        fprintf(stderr, "report: %s\n", error);
    else
        printf("report: %s/index.html\n", out_dir);
    return unexpected ? EXIT_UNEXPECTED_VERDICT : EXIT_AS_EXPECTED;
}

/* Resolves one SPEC of compare into a build on the host (a source tree is built into the
 * cache here), and the text the inside job takes: "SERVER[:MODULE]" or the stored folder. */
static int resolve_compare_spec(const cli_options *options, const char *flag, const char *text,
                                const char *repo_root, const char *cache_dir, server_build *build,
                                char *inside_text, size_t inside_size)
{
    char error[1024];
    compare_spec spec;
    if (compare_spec_parse(flag, text, &spec, error, sizeof error) != 0) {
        fprintf(stderr, "run.sh: %s\n", error);
        return EXIT_USAGE;
    }
    if (spec.kind == COMPARE_SPEC_STORED) {
        if (!realpath(spec.path, inside_text))
            snprintf(inside_text, inside_size, "%s", spec.path);
        return 0;
    }
    cli_options one = *options;
    one.server_path = spec.kind == COMPARE_SPEC_SERVER ? spec.path : NULL;
    one.rdma_module_path =
        spec.kind == COMPARE_SPEC_SERVER && spec.module_path[0] ? spec.module_path : NULL;
    one.valkey_source = spec.kind == COMPARE_SPEC_SOURCE ? spec.path : NULL;
    int rc = server_build_resolve(&one, repo_root, cache_dir, build, error, sizeof error);
    if (rc != 0) {
        fprintf(stderr, "run.sh: %s: %s\n", flag, error);
        return process_interrupted() ? EXIT_INTERRUPTED : rc;
    }
    fprintf(stderr, "%s: Valkey %s, %s\n", flag + 2, build->version_text, build->origin);
    if (build->rdma_module_path[0])
        snprintf(inside_text, inside_size, "%s:%s", build->server_path, build->rdma_module_path);
    else
        snprintf(inside_text, inside_size, "%s", build->server_path);
    return 0;
}

static int run_step(char *const argv[], const char *what)
{
    process child;
    char error[512];
    if (process_spawn(&child, argv, NULL, PROCESS_IO_INHERIT, error, sizeof error) != 0) {
        fprintf(stderr, "run.sh: %s: %s\n", what, error);
        return EXIT_ENVIRONMENT;
    }
    int outcome = process_wait_for(&child, BUILD_TIMEOUT_MS);
    if (outcome != PROCESS_EXITED) {
        process_stop(&child, 2000);
        fprintf(stderr, "run.sh: %s: %s\n", what,
                outcome == PROCESS_INTERRUPTED ? "interrupted" : "ran past its bound");
        return outcome == PROCESS_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_ENVIRONMENT;
    }
    return process_exit_code(&child);
}

/* Builds the test configuration (ASan and UBSan), runs the unit and host-side tests on
 * the host, then every integration test inside one test bed boot. */
static int command_test(const cli_options *options, const char *repo_root, const char *cache_dir,
                        const server_build *build)
{
    char source[PATH_MAX], build_dir[PATH_MAX];
    snprintf(source, sizeof source, "%s", repo_root);
    snprintf(build_dir, sizeof build_dir, "%s/build/test", repo_root);
    char *configure[] = {"cmake",
                         "-S",
                         source,
                         "-B",
                         build_dir,
                         "-DWITH_SANITIZERS=ON",
                         "-DCMAKE_BUILD_TYPE=Debug",
                         "--log-level=WARNING",
                         NULL};
    char *compile[] = {"cmake", "--build", build_dir, "-j", "2", NULL};
    int rc = run_step(configure, "configuring the test build");
    if (rc == 0)
        rc = run_step(compile, "building the tests");
    if (rc != 0)
        return rc == EXIT_INTERRUPTED ? rc : EXIT_UNEXPECTED_VERDICT;

    printf("== unit and host-side tests (host) ==\n");
    fflush(stdout);
    char *host_tests[] = {"ctest", "--test-dir",    build_dir, "--output-on-failure",
                          "-LE",   "^integration$", NULL};
    int host_rc = run_step(host_tests, "host tests");
    if (host_rc == EXIT_INTERRUPTED)
        return host_rc;

    /* Every fuzz target for a short, bounded time under ASan and UBSan; a crash fails. */
    printf("== fuzzing (%s s per target) ==\n", FUZZ_SECONDS_IN_TEST);
    fflush(stdout);
    char fuzz_script[PATH_MAX];
    snprintf(fuzz_script, sizeof fuzz_script, "%s/harness/fuzz.sh", repo_root);
    char *fuzz[] = {fuzz_script, "all", FUZZ_SECONDS_IN_TEST, NULL};
    int fuzz_rc = run_step(fuzz, "fuzzing");
    if (fuzz_rc == EXIT_INTERRUPTED)
        return fuzz_rc;
    if (fuzz_rc != 0)
        host_rc = EXIT_UNEXPECTED_VERDICT;

    printf("== integration tests (inside the test bed, one boot) ==\n");
    fflush(stdout);
    char *inside_tests[] = {"ctest", "--test-dir",    build_dir, "--output-on-failure",
                            "-L",    "^integration$", NULL};
    int inside_rc = run_in_testbed(options, repo_root, cache_dir, build, inside_tests, true);
    if (inside_rc == EXIT_INTERRUPTED)
        return inside_rc;
    if (host_rc == 0 && inside_rc == 0) {
        printf("all tests passed (host and test bed)\n");
        return EXIT_AS_EXPECTED;
    }
    fprintf(stderr, "run.sh test: %s%s failed\n", host_rc ? "host tests" : "",
            host_rc && inside_rc ? " and test bed tests"
            : inside_rc          ? "test bed tests"
                                 : "");
    return inside_rc == EXIT_ENVIRONMENT && host_rc == 0 ? EXIT_ENVIRONMENT
                                                         : EXIT_UNEXPECTED_VERDICT;
}

/* ./run.sh compare on the host: checks everything that needs no boot, builds what must
 * be built, then runs the comparison inside one test bed boot and draws its report. */
static int command_compare(const cli_options *options, const char *repo_root, const char *cache_dir,
                           time_t job_started, double started)
{
    compare_options check = {
        .scenario_paths = options->scenario_paths,
        .scenario_count = (size_t)options->scenario_count,
        .case_filter = options->case_name,
        .baseline = options->baseline,
        .candidate = options->candidate,
        .candidate_pause_percent = options->candidate_pause,
        .shard = options->shard,
    };
    int rc = compare_check(&check);
    if (rc != 0)
        return rc;
    char error[1024];
    compare_spec candidate_spec;
    if (compare_spec_parse("--candidate", options->candidate, &candidate_spec, error,
                           sizeof error) != 0) {
        fprintf(stderr, "run.sh: %s\n", error);
        return EXIT_USAGE;
    }
    if (candidate_spec.kind == COMPARE_SPEC_STORED) {
        fprintf(stderr,
                "run.sh: --candidate %s: a stored run cannot be the candidate; give a "
                "server or a source tree\n",
                options->candidate);
        return EXIT_USAGE;
    }
    server_build baseline_build, candidate_build;
    char baseline_text[2 * PATH_MAX + 2], candidate_text[2 * PATH_MAX + 2];
    rc = resolve_compare_spec(options, "--baseline", options->baseline, repo_root, cache_dir,
                              &baseline_build, baseline_text, sizeof baseline_text);
    if (rc == 0)
        rc = resolve_compare_spec(options, "--candidate", options->candidate, repo_root, cache_dir,
                                  &candidate_build, candidate_text, sizeof candidate_text);
    if (rc != 0)
        return rc;
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    self[length > 0 ? length : 0] = '\0';
    char repetitions[16], threshold[32], shard_text[32];
    snprintf(repetitions, sizeof repetitions, "%d", options->repetitions);
    snprintf(threshold, sizeof threshold, "%.10g", options->threshold * 100.0);
    char *inside[CLI_MAX_SCENARIOS + 24]; /* 21 words of flags, the scenarios, NULL */
    int count = 0;
    inside[count++] = self;
    inside[count++] = "inside";
    inside[count++] = "compare";
    inside[count++] = "--results";
    inside[count++] = (char *)options->results_dir;
    inside[count++] = "--baseline";
    inside[count++] = baseline_text;
    inside[count++] = "--candidate";
    inside[count++] = candidate_text;
    inside[count++] = "--repetitions";
    inside[count++] = repetitions;
    inside[count++] = "--threshold";
    inside[count++] = threshold;
    char cpu_limit[16];
    if (options->candidate_cpu_limit > 0) {
        snprintf(cpu_limit, sizeof cpu_limit, "%d", options->candidate_cpu_limit);
        inside[count++] = "--candidate-cpu-limit";
        inside[count++] = cpu_limit;
    }
    char pause[16];
    if (options->candidate_pause > 0) {
        snprintf(pause, sizeof pause, "%d", options->candidate_pause);
        inside[count++] = "--candidate-pause";
        inside[count++] = pause;
    }
    if (options->shard.count > 0) {
        shard_format(&options->shard, shard_text, sizeof shard_text);
        inside[count++] = "--shard";
        inside[count++] = shard_text;
    }
    if (options->case_name) {
        inside[count++] = "--case";
        inside[count++] = (char *)options->case_name;
    }
    for (int i = 0; i < options->scenario_count; i++)
        inside[count++] = (char *)options->scenario_paths[i];
    inside[count] = NULL;
    rc = run_in_testbed(options, repo_root, cache_dir, &candidate_build, inside, true);
    report_new_runs(options->results_dir, job_started);
    fprintf(stderr, "wall time: %.1f s\n", monotonic_seconds() - started);
    return rc;
}

int main(int argc, char **argv)
{
    double started = monotonic_seconds();
    setvbuf(stdout, NULL, _IOLBF, 0);
    cli_options options;
    char error[1024];
    if (cli_parse(argc, argv, &options, error, sizeof error) != 0) {
        fprintf(stderr, "run.sh: %s\n", error);
        return EXIT_USAGE;
    }
    if (options.command == CLI_COMMAND_HELP) {
        fputs(cli_usage(), stdout);
        return EXIT_AS_EXPECTED;
    }
    process_install_interrupt_handlers();
    /* The test bed's output reaches a terminal through us: tell the inside job so. */
    if (options.command != CLI_COMMAND_INSIDE && isatty(STDOUT_FILENO))
        setenv("VALKEY_RDMA_HARNESS_TTY", "1", 1);
    if (options.command == CLI_COMMAND_INSIDE) {
        if (strcmp(options.inside_job, "smoke") == 0)
            return inside_smoke();
        if (strcmp(options.inside_job, "serve") == 0)
            return inside_serve(&options);
        if (strcmp(options.inside_job, "run") == 0)
            return inside_run(&options, false);
        if (strcmp(options.inside_job, "repro") == 0)
            return inside_run(&options, true);
        if (strcmp(options.inside_job, "compare") == 0)
            return inside_compare(&options);
        if (strcmp(options.inside_job, "main") == 0) {
            int smoke = inside_smoke();
            if (smoke != EXIT_AS_EXPECTED)
                return smoke;
            return inside_run(&options, false);
        }
        fprintf(stderr, "run.sh: unknown inside job \"%s\"\n", options.inside_job);
        return EXIT_USAGE;
    }

    char repo_root[PATH_MAX], cache_dir[PATH_MAX];
    repo_root_of(repo_root, sizeof repo_root);
    if (options.command == CLI_COMMAND_REPORT) {
        int failed = 0;
        for (int i = 0; i < options.scenario_count; i++) {
            if (compare_render_report(options.scenario_paths[i], error, sizeof error) != 0) {
                fprintf(stderr, "run.sh report: %s\n", error);
                failed = 1;
            } else {
                printf("report: %s/index.html\n", options.scenario_paths[i]);
            }
        }
        return failed ? EXIT_USAGE : EXIT_AS_EXPECTED;
    }
    if (options.command == CLI_COMMAND_MERGE)
        return command_merge(&options, repo_root);
    if (options.command == CLI_COMMAND_FUZZ) {
        char script[PATH_MAX];
        snprintf(script, sizeof script, "%s/harness/fuzz.sh", repo_root);
        char *fuzz[5] = {script, NULL};
        for (int i = 0; i < options.scenario_count; i++)
            fuzz[i + 1] = (char *)options.scenario_paths[i];
        return run_step(fuzz, "fuzzing");
    }
    cache_dir_of(&options, cache_dir, sizeof cache_dir);
    time_t job_started = time(NULL) - 1;
    char results_root[PATH_MAX];
    int results_rc = results_root_of(&options, repo_root, results_root, sizeof results_root);
    if (results_rc != 0)
        return results_rc;
    options.results_dir = results_root;

    /* The scenario files of each job, checked before anything is provisioned or run:
     * a bad file costs no download and no boot. */
    char default_paths[DEFAULT_SUITE_SIZE][PATH_MAX];
    if (options.command == CLI_COMMAND_REPRO || options.command == CLI_COMMAND_MAIN) {
        options.scenario_count = 0;
        size_t suite = options.command == CLI_COMMAND_REPRO ? 1 : DEFAULT_SUITE_SIZE;
        for (size_t i = 0; i < suite; i++) {
            snprintf(default_paths[i], sizeof default_paths[i], "%s/%s", repo_root,
                     default_suite[i]);
            options.scenario_paths[options.scenario_count++] = default_paths[i];
        }
    }
    if (options.command == CLI_COMMAND_COMPARE)
        return command_compare(&options, repo_root, cache_dir, job_started, started);
    if (options.scenario_count > 0 && options.command != CLI_COMMAND_BENCH) {
        int check = runner_check_scenarios(options.scenario_paths, (size_t)options.scenario_count,
                                           options.case_name);
        if (check != 0)
            return check;
    }

    server_build build;
    int rc = server_build_resolve(&options, repo_root, cache_dir, &build, error, sizeof error);
    if (rc != 0) {
        fprintf(stderr, "run.sh: %s\n", error);
        return process_interrupted() ? EXIT_INTERRUPTED : rc;
    }
    if (options.verbose || options.command == CLI_COMMAND_MAIN)
        fprintf(stderr, "server: Valkey %s, %s\n", build.version_text, build.origin);

    switch (options.command) {
    case CLI_COMMAND_EXEC:
        rc = run_in_testbed(&options, repo_root, cache_dir, &build, options.command_argv,
                            options.verbose);
        break;
    case CLI_COMMAND_TEST:
        rc = command_test(&options, repo_root, cache_dir, &build);
        break;
    case CLI_COMMAND_BENCH: {
        char script[PATH_MAX], build_dir[PATH_MAX];
        /* The benchmark's name is checked by cli_parse: "driver" or "gate". */
        snprintf(script, sizeof script, "%s/harness/bench/%s.sh", repo_root,
                 options.scenario_paths[0]);
        snprintf(build_dir, sizeof build_dir, "%s/build/main", repo_root);
        char gate_scenario[PATH_MAX];
        snprintf(gate_scenario, sizeof gate_scenario, "%s/tests/integration/gate-compare.yaml",
                 repo_root);
        char *inside[] = {script, build_dir, gate_scenario, NULL};
        rc = run_in_testbed(&options, repo_root, cache_dir, &build, inside, true);
        break;
    }
    case CLI_COMMAND_MAIN:
    case CLI_COMMAND_RUN:
    case CLI_COMMAND_REPRO: {
        char self[PATH_MAX];
        ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
        self[length > 0 ? length : 0] = '\0';
        const char *job = options.command == CLI_COMMAND_MAIN    ? "main"
                          : options.command == CLI_COMMAND_REPRO ? "repro"
                                                                 : "run";
        char *inside[CLI_MAX_SCENARIOS + 8];
        int count = 0;
        inside[count++] = self;
        inside[count++] = "inside";
        inside[count++] = (char *)job;
        inside[count++] = "--results";
        inside[count++] = (char *)options.results_dir;
        char shard_text[32];
        if (options.shard.count > 0) {
            shard_format(&options.shard, shard_text, sizeof shard_text);
            inside[count++] = "--shard";
            inside[count++] = shard_text;
        }
        if (options.case_name) {
            inside[count++] = "--case";
            inside[count++] = (char *)options.case_name;
        }
        for (int i = 0; i < options.scenario_count; i++)
            inside[count++] = (char *)options.scenario_paths[i];
        inside[count] = NULL;
        rc = run_in_testbed(&options, repo_root, cache_dir, &build, inside, true);
        /* Charts are drawn on the host: gnuplot is quicker here than under emulation. */
        report_new_runs(options.results_dir, job_started);
        break;
    }
    default:
        rc = EXIT_USAGE;
        break;
    }
    if (options.command != CLI_COMMAND_EXEC || options.verbose)
        fprintf(stderr, "wall time: %.1f s\n", monotonic_seconds() - started);
    return rc;
}
