/* The command line of ./run.sh: what each word turns into, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    char *argv[] = {"run.sh", "exec", "--testbed", "vm", "--", "sh", "-c", "exit 7", "--help",
                    NULL};
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
    char *argv[] = {"run.sh", "test", "--server", "/x/valkey-server", "--rdma-module",
                    "/x/valkey-rdma.so", "--vm-cpus", "4", "--vm-memory", "2048", NULL};
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
}

typedef struct refusal {
    char *argv[8];
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
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        int argc = 0;
        while (refusals[i].argv[argc])
            argc++;
        cli_options options;
        char error[256] = "";
        assert_int_equal(cli_parse(argc, (char **)refusals[i].argv, &options, error,
                                   sizeof error),
                         -1);
        assert_string_equal(error, refusals[i].message);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_command_means_the_main_job_with_defaults),
        cmocka_unit_test(exec_keeps_everything_after_the_double_dash_untouched),
        cmocka_unit_test(server_flags_are_taken_on_any_command),
        cmocka_unit_test(help_wins_over_everything_else),
        cmocka_unit_test(every_mistake_is_refused_with_its_own_message),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
