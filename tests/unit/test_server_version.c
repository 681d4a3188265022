/* Reading a server's version, and starting each version the way it wants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server_command.h"
#include "server_version.h"

static void a_valkey_version_line_is_read(void **state)
{
    (void)state;
    server_version version;
    char error[256];
    assert_int_equal(server_version_parse("Valkey server v=9.1.2 sha=00000000:1 "
                                          "malloc=jemalloc-5.3.0 bits=64 build=a7bd2a14\n",
                                          &version, error, sizeof error),
                     0);
    assert_int_equal(version.major, 9);
    assert_int_equal(version.minor, 1);
    assert_int_equal(version.patch, 2);
}

static void a_redis_server_or_garbage_is_refused(void **state)
{
    (void)state;
    server_version version;
    char error[256];
    assert_int_equal(server_version_parse("Redis server v=7.2.4 sha=0 malloc=libc\n", &version,
                                          error, sizeof error),
                     -1);
    assert_string_equal(error,
                        "not a Valkey server: --version printed \"Redis server v=7.2.4 sha=0 "
                        "malloc=libc\"");
    assert_int_equal(server_version_parse("", &version, error, sizeof error), -1);
    assert_string_equal(error, "not a Valkey server: --version printed \"\"");
    assert_int_equal(server_version_parse("Valkey server v=nine", &version, error, sizeof error),
                     -1);
    assert_string_equal(error, "cannot read the version number after \"Valkey server v=\"");
}

static void each_version_gets_its_rdma_style(void **state)
{
    (void)state;
    assert_int_equal(server_version_rdma_style((server_version){7, 2, 11}),
                     SERVER_RDMA_UNSUPPORTED);
    assert_int_equal(server_version_rdma_style((server_version){8, 0, 0}),
                     SERVER_RDMA_MODULE_ARGUMENTS);
    assert_int_equal(server_version_rdma_style((server_version){8, 0, 11}),
                     SERVER_RDMA_MODULE_ARGUMENTS);
    assert_int_equal(server_version_rdma_style((server_version){8, 1, 0}),
                     SERVER_RDMA_CONFIG_OPTIONS);
    assert_int_equal(server_version_rdma_style((server_version){10, 0, 0}),
                     SERVER_RDMA_CONFIG_OPTIONS);
    assert_false(server_version_has_always_active_option((server_version){8, 0, 5}));
    assert_true(server_version_has_always_active_option((server_version){8, 1, 1}));
}

static char *joined(const server_command *command, char *out, size_t out_size)
{
    out[0] = '\0';
    for (int i = 0; i < command->argc; i++) {
        strncat(out, command->argv[i][0] ? command->argv[i] : "''", out_size - strlen(out) - 1);
        if (i + 1 < command->argc)
            strncat(out, " ", out_size - strlen(out) - 1);
    }
    return out;
}

static void version_8_1_and_later_take_rdma_bind_and_always_active(void **state)
{
    (void)state;
    server_settings settings = {
        .server_path = "/v/valkey-server",
        .rdma_module_path = "/v/valkey-rdma.so",
        .version = {9, 1, 2},
        .rdma_address = "192.0.2.1",
        .port = 6380,
        .io_threads = 8,
        .io_threads_always_active = true,
        .rdma_rx_size = 65536,
        .extra_names = {"busy-reply-threshold"},
        .extra_values = {"10000"},
        .extra_count = 1,
    };
    server_command command;
    char error[256], line[2048];
    assert_int_equal(server_command_build(&settings, &command, error, sizeof error), 0);
    assert_string_equal(joined(&command, line, sizeof line),
                        "/v/valkey-server --port 6380 --bind 127.0.0.1 --protected-mode no "
                        "--save '' --appendonly no --daemonize no --io-threads 8 "
                        "--io-threads-always-active yes --loadmodule /v/valkey-rdma.so "
                        "--rdma-bind 192.0.2.1 --rdma-port 6380 --rdma-rx-size 65536 "
                        "--busy-reply-threshold 10000");
}

static void version_8_0_takes_module_arguments_and_events_per_io_thread(void **state)
{
    (void)state;
    server_settings settings = {
        .server_path = "valkey-server",
        .rdma_module_path = "/m/valkey-rdma.so",
        .version = {8, 0, 1},
        .rdma_address = "192.0.2.1",
        .port = 6379,
        .io_threads = 4,
        .io_threads_always_active = true,
    };
    server_command command;
    char error[256], line[2048];
    assert_int_equal(server_command_build(&settings, &command, error, sizeof error), 0);
    assert_string_equal(joined(&command, line, sizeof line),
                        "valkey-server --port 6379 --bind 127.0.0.1 --protected-mode no "
                        "--save '' --appendonly no --daemonize no --io-threads 4 "
                        "--events-per-io-thread 0 --loadmodule /m/valkey-rdma.so "
                        "bind=192.0.2.1 port=6379");
}

static void built_in_rdma_needs_no_module(void **state)
{
    (void)state;
    server_settings settings = {.server_path = "s",
                                .version = {8, 1, 0},
                                .rdma_address = "192.0.2.1",
                                .port = 1,
                                .io_threads = 1};
    server_command command;
    char error[256], line[2048];
    assert_int_equal(server_command_build(&settings, &command, error, sizeof error), 0);
    assert_null(strstr(joined(&command, line, sizeof line), "--loadmodule"));
    assert_non_null(strstr(line, "--rdma-bind 192.0.2.1 --rdma-port 1"));
}

/* The server enters --dir before it opens its log file or loads a module, so a relative
 * path there would be read from inside --dir: each is made absolute against the caller's
 * working folder; absolute ones pass as they are. */
static void relative_paths_are_made_absolute_before_the_server_enters_its_dir(void **state)
{
    (void)state;
    char cwd[PATH_MAX], expected[3 * PATH_MAX + 512], line[4 * PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    server_settings settings = {.server_path = "s",
                                .rdma_module_path = "lib/valkey-rdma.so",
                                .version = {9, 1, 2},
                                .rdma_address = "192.0.2.1",
                                .port = 1,
                                .io_threads = 1,
                                .working_dir = "results/case",
                                .log_file = "results/case/server.log"};
    server_command command;
    char error[256];
    assert_int_equal(server_command_build(&settings, &command, error, sizeof error), 0);
    snprintf(expected, sizeof expected,
             "s --port 1 --bind 127.0.0.1 --protected-mode no --save '' --appendonly no "
             "--daemonize no --dir %s/results/case --logfile %s/results/case/server.log "
             "--io-threads 1 --loadmodule %s/lib/valkey-rdma.so --rdma-bind 192.0.2.1 "
             "--rdma-port 1",
             cwd, cwd, cwd);
    assert_string_equal(joined(&command, line, sizeof line), expected);

    settings.working_dir = "/abs/case";
    settings.log_file = "/abs/case/server.log";
    settings.rdma_module_path = "/abs/valkey-rdma.so";
    assert_int_equal(server_command_build(&settings, &command, error, sizeof error), 0);
    assert_non_null(strstr(joined(&command, line, sizeof line),
                           "--dir /abs/case --logfile /abs/case/server.log --io-threads 1 "
                           "--loadmodule /abs/valkey-rdma.so "));

    /* A relative path that no longer fits once joined is refused, not cut short. */
    static char long_name[PATH_MAX];
    memset(long_name, 'x', sizeof long_name - 1);
    settings.log_file = long_name;
    assert_int_equal(server_command_build(&settings, &command, error, sizeof error), -1);
    assert_non_null(strstr(error, "log file"));
    assert_non_null(strstr(error, "too long once made absolute"));
}

static void settings_a_version_cannot_honour_are_refused(void **state)
{
    (void)state;
    server_command command;
    char error[256];
    server_settings old = {
        .server_path = "s", .version = {7, 2, 4}, .rdma_address = "a", .port = 1, .io_threads = 1};
    assert_int_equal(server_command_build(&old, &command, error, sizeof error), -1);
    assert_string_equal(error, "Valkey 7.2.4 has no RDMA (it came in 8.0)");
    server_settings no_module = {
        .server_path = "s", .version = {8, 0, 2}, .rdma_address = "a", .port = 1, .io_threads = 1};
    assert_int_equal(server_command_build(&no_module, &command, error, sizeof error), -1);
    assert_string_equal(error, "Valkey 8.0.2 has RDMA only as a module: give --rdma-module");
    server_settings rx_size = no_module;
    rx_size.rdma_module_path = "m.so";
    rx_size.rdma_rx_size = 65536;
    assert_int_equal(server_command_build(&rx_size, &command, error, sizeof error), -1);
    assert_string_equal(error, "Valkey 8.0.2 has no rdma-rx-size setting (it came in 8.1)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_valkey_version_line_is_read),
        cmocka_unit_test(a_redis_server_or_garbage_is_refused),
        cmocka_unit_test(each_version_gets_its_rdma_style),
        cmocka_unit_test(version_8_1_and_later_take_rdma_bind_and_always_active),
        cmocka_unit_test(version_8_0_takes_module_arguments_and_events_per_io_thread),
        cmocka_unit_test(built_in_rdma_needs_no_module),
        cmocka_unit_test(relative_paths_are_made_absolute_before_the_server_enters_its_dir),
        cmocka_unit_test(settings_a_version_cannot_honour_are_refused),
    };
    return cmocka_run_group_tests_name("server_version", tests, NULL, NULL);
}
