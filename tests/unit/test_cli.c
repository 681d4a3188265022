/* The command line of ./run.sh: what each word turns into, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#include "cli.h"

#define ARGC(list) ((int)(sizeof(list) / sizeof(list[0])) - 1)

static void no_command_means_the_main_job_with_defaults(void **state)
{
    (void)state;
    char *argv[] = {"run.sh", NULL};
    cli_options options;
    char error[256];
    assert_int_equal(cli_parse(ARGC(argv), argv, &options, error, sizeof error), 0);
    assert_int_equal(options.command, CLI_COMMAND_MAIN);
    assert_int_equal(options.testbed, TESTBED_REQUEST_AUTO);
    assert_null(options.server_path);
    assert_int_equal(options.vm_cpus, CLI_DEFAULT_VM_CPUS);
    assert_int_equal(options.vm_memory_mib, CLI_DEFAULT_VM_MEMORY_MIB);
}

static void exec_keeps_everything_after_the_double_dash_untouched(void **state)
{
    (void)state;
    char *argv[] = {"run.sh", "exec", "--testbed", "vm",     "--",
                    "sh",     "-c",   "exit 7",    "--help", NULL};
    cli_options options;
    char error[256];
    assert_int_equal(cli_parse(ARGC(argv), argv, &options, error, sizeof error), 0);
    assert_int_equal(options.command, CLI_COMMAND_EXEC);
    assert_int_equal(options.testbed, TESTBED_REQUEST_VM);
    assert_int_equal(options.command_argc, 4);
    assert_string_equal(options.command_argv[0], "sh");
    assert_string_equal(options.command_argv[2], "exit 7");
    assert_string_equal(options.command_argv[3], "--help");
    assert_null(options.command_argv[4]);
}

static void server_flags_are_taken_on_any_command(void **state)
{
    (void)state;
    char *argv[] = {"run.sh",
                    "test",
                    "--server",
                    "/x/valkey-server",
                    "--rdma-module",
                    "/x/valkey-rdma.so",
                    "--vm-cpus",
                    "4",
                    "--vm-memory",
                    "2048",
                    NULL};
    cli_options options;
    char error[256];
    assert_int_equal(cli_parse(ARGC(argv), argv, &options, error, sizeof error), 0);
    assert_int_equal(options.command, CLI_COMMAND_TEST);
    assert_string_equal(options.server_path, "/x/valkey-server");
    assert_string_equal(options.rdma_module_path, "/x/valkey-rdma.so");
    assert_int_equal(options.vm_cpus, 4);
    assert_int_equal(options.vm_memory_mib, 2048);
}

static void help_wins_over_everything_else(void **state)
{
    (void)state;
    char *argv[] = {"run.sh", "exec", "--help", NULL};
    cli_options options;
    char error[256];
    assert_int_equal(cli_parse(ARGC(argv), argv, &options, error, sizeof error), 0);
    assert_int_equal(options.command, CLI_COMMAND_HELP);
    assert_non_null(strstr(cli_usage(), "--testbed native|vm|auto"));
    assert_non_null(strstr(cli_usage(), "--valkey-src DIR"));
    assert_non_null(strstr(cli_usage(), "compare --baseline SPEC --candidate SPEC"));
    assert_non_null(strstr(cli_usage(), "--shard I/N"));
    assert_non_null(strstr(cli_usage(), "merge RESULTS_DIR... [--out DIR]"));
}

static void compare_takes_both_builds_its_repetitions_threshold_and_shard(void **state)
{
    (void)state;
    char *argv[] = {"run.sh",
                    "compare",
                    "--baseline",
                    "/a/valkey-server:/a/rdma.so",
                    "--candidate",
                    "/b/src",
                    "--repetitions",
                    "7",
                    "--threshold",
                    "2.5%",
                    "--shard",
                    "2/3",
                    "--candidate-cpu-limit",
                    "80",
                    "--candidate-pause",
                    "10",
                    "one.yaml",
                    "two.yaml",
                    NULL};
    cli_options options;
    char error[256];
    assert_int_equal(cli_parse(ARGC(argv), argv, &options, error, sizeof error), 0);
    assert_int_equal(options.command, CLI_COMMAND_COMPARE);
    assert_string_equal(options.baseline, "/a/valkey-server:/a/rdma.so");
    assert_string_equal(options.candidate, "/b/src");
    assert_int_equal(options.repetitions, 7);
    assert_true(options.threshold > 0.0249 && options.threshold < 0.0251);
    assert_int_equal(options.shard.index, 2);
    assert_int_equal(options.shard.count, 3);
    assert_int_equal(options.candidate_cpu_limit, 80);
    assert_int_equal(options.candidate_pause, 10);
    assert_int_equal(options.scenario_count, 2);
    assert_string_equal(options.scenario_paths[1], "two.yaml");
}

static void compare_defaults_to_nine_repetitions_and_five_percent(void **state)
{
    (void)state;
    char *argv[] = {"run.sh",      "compare",   "--baseline", "results/x",
                    "--candidate", "/b/server", "one.yaml",   NULL};
    cli_options options;
    char error[256];
    assert_int_equal(cli_parse(ARGC(argv), argv, &options, error, sizeof error), 0);
    assert_int_equal(options.repetitions, 9);
    assert_true(options.threshold > 0.0499 && options.threshold < 0.0501);
    assert_int_equal(options.shard.count, 0);
    assert_int_equal(options.candidate_cpu_limit, 0);
    assert_int_equal(options.candidate_pause, 0);
}

static void run_takes_a_shard_and_merge_takes_folders_and_out(void **state)
{
    (void)state;
    char *run[] = {"run.sh", "run", "--shard", "1/2", "a.yaml", NULL};
    cli_options options;
    char error[256];
    assert_int_equal(cli_parse(ARGC(run), run, &options, error, sizeof error), 0);
    assert_int_equal(options.command, CLI_COMMAND_RUN);
    assert_int_equal(options.shard.index, 1);
    assert_int_equal(options.shard.count, 2);
    char *merge[] = {"run.sh", "merge", "results/s1", "results/s2", "--out", "results/all", NULL};
    assert_int_equal(cli_parse(ARGC(merge), merge, &options, error, sizeof error), 0);
    assert_int_equal(options.command, CLI_COMMAND_MERGE);
    assert_int_equal(options.scenario_count, 2);
    assert_string_equal(options.scenario_paths[0], "results/s1");
    assert_string_equal(options.out_dir, "results/all");
}

static void run_and_the_main_job_take_a_results_folder(void **state)
{
    (void)state;
    cli_options options;
    char error[256];
    char *run[] = {"run.sh", "run", "--results", "/tmp/r", "a.yaml", NULL};
    assert_int_equal(cli_parse(ARGC(run), run, &options, error, sizeof error), 0);
    assert_string_equal(options.results_dir, "/tmp/r");
    assert_string_equal(options.scenario_paths[0], "a.yaml");
    char *main_job[] = {"run.sh", "--results", "elsewhere", NULL};
    assert_int_equal(cli_parse(ARGC(main_job), main_job, &options, error, sizeof error), 0);
    assert_int_equal(options.command, CLI_COMMAND_MAIN);
    assert_string_equal(options.results_dir, "elsewhere");
    char *inside[] = {"run.sh", "inside", "run", "--results", "/mnt/small", "a.yaml", NULL};
    assert_int_equal(cli_parse(ARGC(inside), inside, &options, error, sizeof error), 0);
    assert_string_equal(options.results_dir, "/mnt/small");
    char *none[] = {"run.sh", "run", "a.yaml", NULL};
    assert_int_equal(cli_parse(ARGC(none), none, &options, error, sizeof error), 0);
    assert_null(options.results_dir);
    assert_non_null(strstr(cli_usage(), "--results DIR"));
}

typedef struct refusal {
    char *argv[10];
    const char *message;
} refusal;

static void every_mistake_is_refused_with_its_own_message(void **state)
{
    (void)state;
    const refusal refusals[] = {
        {{"run.sh", "frobnicate", NULL}, "unknown command \"frobnicate\" (see ./run.sh --help)"},
        {{"run.sh", "--frob", NULL}, "unknown option \"--frob\" (see ./run.sh --help)"},
        {{"run.sh", "--testbed", "cloud", NULL},
         "--testbed must be native, vm or auto, not \"cloud\""},
        {{"run.sh", "--server", NULL}, "--server needs a value"},
        {{"run.sh", "--server", "", NULL}, "--server needs a value"},
        {{"run.sh", "--rdma-module", "/m.so", NULL}, "--rdma-module needs --server"},
        {{"run.sh", "--server", "/a", "--valkey-src", "/b", NULL},
         "--server and --valkey-src name two servers: give one"},
        {{"run.sh", "exec", NULL}, "exec needs a command after \"--\""},
        {{"run.sh", "exec", "--", NULL}, "exec needs a command after \"--\""},
        {{"run.sh", "test", "--", "ls", NULL}, "only exec takes a command after \"--\""},
        {{"run.sh", "--vm-cpus", "0", NULL}, "--vm-cpus must be a whole number from 1 to 64"},
        {{"run.sh", "--vm-cpus", "2x", NULL}, "--vm-cpus must be a whole number from 1 to 64"},
        {{"run.sh", "--vm-memory", "100", NULL},
         "--vm-memory must be a whole number of MiB from 512 to 65536"},
        {{"run.sh", "inside", NULL}, "inside needs a job name"},
        {{"run.sh", "compare", "a.yaml", NULL},
         "compare needs --baseline SPEC and --candidate SPEC"},
        {{"run.sh", "compare", "--baseline", "/a", "a.yaml", NULL},
         "compare needs --baseline SPEC and --candidate SPEC"},
        {{"run.sh", "compare", "--baseline", "/a", "--candidate", "/b", NULL},
         "compare needs at least one scenario file"},
        {{"run.sh", "compare", "--baseline", NULL}, "--baseline needs a value"},
        {{"run.sh", "compare", "--baseline", "/a", "--candidate", "/b", "--server", "/c", "a.yaml",
          NULL},
         "compare takes its builds from --baseline and --candidate, not --server, "
         "--rdma-module or --valkey-src"},
        {{"run.sh", "compare", "--baseline", "/a", "--candidate", "/b", "--valkey-src", "/c",
          "a.yaml", NULL},
         "compare takes its builds from --baseline and --candidate, not --server, "
         "--rdma-module or --valkey-src"},
        {{"run.sh", "compare", "--repetitions", "4", NULL},
         "--repetitions must be a whole number from 5 to 1000"},
        {{"run.sh", "compare", "--repetitions", "1001", NULL},
         "--repetitions must be a whole number from 5 to 1000"},
        {{"run.sh", "compare", "--repetitions", "nine", NULL},
         "--repetitions must be a whole number from 5 to 1000"},
        {{"run.sh", "compare", "--threshold", "0", NULL},
         "--threshold must be a percentage above 0 and below 100, not \"0\""},
        {{"run.sh", "compare", "--threshold", "100", NULL},
         "--threshold must be a percentage above 0 and below 100, not \"100\""},
        {{"run.sh", "compare", "--threshold", "5x", NULL},
         "--threshold must be a percentage above 0 and below 100, not \"5x\""},
        {{"run.sh", "compare", "--threshold", "nan", NULL},
         "--threshold must be a percentage above 0 and below 100, not \"nan\""},
        {{"run.sh", "run", "--baseline", "/a", "a.yaml", NULL},
         "--baseline applies to compare only"},
        {{"run.sh", "run", "--candidate", "/a", "a.yaml", NULL},
         "--candidate applies to compare only"},
        {{"run.sh", "run", "--repetitions", "9", "a.yaml", NULL},
         "--repetitions applies to compare only"},
        {{"run.sh", "run", "--threshold", "5", "a.yaml", NULL},
         "--threshold applies to compare only"},
        {{"run.sh", "run", "--candidate-cpu-limit", "80", "a.yaml", NULL},
         "--candidate-cpu-limit applies to compare only"},
        {{"run.sh", "compare", "--candidate-cpu-limit", "0", NULL},
         "--candidate-cpu-limit must be a whole percent of one CPU from 1 to 1000"},
        {{"run.sh", "compare", "--candidate-cpu-limit", "80%", NULL},
         "--candidate-cpu-limit must be a whole percent of one CPU from 1 to 1000"},
        {{"run.sh", "repro", "--candidate-pause", "10", NULL},
         "--candidate-pause applies to compare only"},
        {{"run.sh", "compare", "--candidate-pause", "91", NULL},
         "--candidate-pause must be a whole percent from 1 to 90"},
        {{"run.sh", "compare", "--candidate-pause", "0", NULL},
         "--candidate-pause must be a whole percent from 1 to 90"},
        {{"run.sh", "run", "--shard", "0/2", "a.yaml", NULL},
         "--shard must be I/N with 1 <= I <= N <= 1000, not \"0/2\""},
        {{"run.sh", "run", "--shard", "3/2", "a.yaml", NULL},
         "--shard must be I/N with 1 <= I <= N <= 1000, not \"3/2\""},
        {{"run.sh", "repro", "--shard", "1/2", NULL}, "--shard applies to run and compare only"},
        {{"run.sh", "merge", NULL}, "merge needs at least one results folder"},
        {{"run.sh", "merge", "--out", "x", NULL}, "merge needs at least one results folder"},
        {{"run.sh", "run", "--out", "x", "a.yaml", NULL}, "--out applies to merge only"},
        {{"run.sh", "run", "--results", NULL}, "--results needs a value"},
        {{"run.sh", "run", "--results", "", "a.yaml", NULL}, "--results needs a value"},
        {{"run.sh", "exec", "--results", "x", "--", "true", NULL},
         "--results applies to run, repro, compare and the main job only"},
        {{"run.sh", "merge", "--results", "x", "results/a", NULL},
         "--results applies to run, repro, compare and the main job only"},
        {{"run.sh", "report", "--case", "x", "results/r", NULL},
         "--case applies to run, repro and compare only"},
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        int argc = 0;
        while (refusals[i].argv[argc])
            argc++;
        cli_options options;
        char error[256] = "";
        assert_int_equal(cli_parse(argc, (char **)refusals[i].argv, &options, error, sizeof error),
                         -1);
        assert_string_equal(error, refusals[i].message);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_command_means_the_main_job_with_defaults),
        cmocka_unit_test(run_and_the_main_job_take_a_results_folder),
        cmocka_unit_test(exec_keeps_everything_after_the_double_dash_untouched),
        cmocka_unit_test(server_flags_are_taken_on_any_command),
        cmocka_unit_test(help_wins_over_everything_else),
        cmocka_unit_test(compare_takes_both_builds_its_repetitions_threshold_and_shard),
        cmocka_unit_test(compare_defaults_to_nine_repetitions_and_five_percent),
        cmocka_unit_test(run_takes_a_shard_and_merge_takes_folders_and_out),
        cmocka_unit_test(every_mistake_is_refused_with_its_own_message),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
