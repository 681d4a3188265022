/* Thread stacks with gdb: ordering gdb's output, and one real capture of a child. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process.h"
#include "stacks.h"

static const char gdb_output[] =
    "[Thread debugging using libthread_db enabled]\n"
    "  Id   Target Id\n"
    "* 1    Thread 0x7f01 (LWP 301) \"valkey-server\" epoll_wait ()\n"
    "\n"
    "Thread 3 (Thread 0x7f03 (LWP 303) \"io_thd_2\"):\n"
    "#0  0x01 in spin_c ()\n"
    "#1  0x02 in worker ()\n"
    "\n"
    "Thread 2 (Thread 0x7f02 (LWP 302) \"io_thd_1\"):\n"
    "#0  0x03 in wait_b ()\n"
    "Backtrace stopped: previous frame inner to this frame (corrupt stack?)\n"
    "\n"
    "Thread 1 (Thread 0x7f01 (LWP 301) \"valkey-server\"):\n"
    "#0  0x04 in spin_a ()\n"
    "\n"
    "[Inferior 1 (process 301) detached]\n";

static void spinning_threads_come_first_in_the_order_given(void **state)
{
    (void)state;
    pid_t spinning[] = {301, 303};
    size_t threads = 0;
    char *ordered = stacks_order_spinning_first(gdb_output, spinning, 2, &threads);
    assert_non_null(ordered);
    assert_int_equal(threads, 3);
    assert_string_equal(ordered, "Thread 1 (Thread 0x7f01 (LWP 301) \"valkey-server\"):\n"
                                 "#0  0x04 in spin_a ()\n"
                                 "\n"
                                 "Thread 3 (Thread 0x7f03 (LWP 303) \"io_thd_2\"):\n"
                                 "#0  0x01 in spin_c ()\n"
                                 "#1  0x02 in worker ()\n"
                                 "\n"
                                 "Thread 2 (Thread 0x7f02 (LWP 302) \"io_thd_1\"):\n"
                                 "#0  0x03 in wait_b ()\n"
                                 "Backtrace stopped: previous frame inner to this frame (corrupt "
                                 "stack?)\n"
                                 "\n"
                                 "# gdb messages\n"
                                 "[Thread debugging using libthread_db enabled]\n"
                                 "  Id   Target Id\n"
                                 "* 1    Thread 0x7f01 (LWP 301) \"valkey-server\" epoll_wait ()\n"
                                 "\n"
                                 "[Inferior 1 (process 301) detached]\n");
    free(ordered);
}

static void output_without_stacks_is_all_messages(void **state)
{
    (void)state;
    size_t threads = 99;
    char *ordered =
        stacks_order_spinning_first("ptrace: Operation not permitted.\n", NULL, 0, &threads);
    assert_int_equal(threads, 0);
    assert_string_equal(ordered, "# gdb messages\nptrace: Operation not permitted.\n");
    free(ordered);
}

/* gdb's run time for `sleep` here is under a second; the bound is the module's default. */
static void the_stack_of_a_sleeping_child_is_captured(void **state)
{
    (void)state;
    char version[256], error[512];
    char *gdb_version[] = {"gdb", "--version", NULL};
    if (process_run_capture(gdb_version, 10000, version, sizeof version, error, sizeof error) !=
        0) {
        fail_msg("!!! gdb is not installed or does not run (%s): it is a project dependency "
                 "(harness/provision/packages.sh); the stacks evidence cannot be taken !!!",
                 error);
    }
    process child;
    char *sleeper[] = {"sleep", "30", NULL};
    assert_int_equal(process_spawn(&child, sleeper, NULL, PROCESS_IO_INHERIT, error, sizeof error),
                     0);
    char directory[] = "/tmp/test_stacks.XXXXXX";
    assert_non_null(mkdtemp(directory));
    char path[256];
    snprintf(path, sizeof path, "%s/stacks.txt", directory);
    pid_t spinning[] = {child.pid};
    int captured = stacks_capture(child.pid, spinning, 1, path, STACKS_DEFAULT_TIMEOUT_MS, error,
                                  sizeof error);
    process_stop(&child, 1000);
    if (captured != 0)
        fail_msg("stacks_capture: %s", error);

    FILE *file = fopen(path, "r");
    assert_non_null(file);
    char text[65536];
    size_t length = fread(text, 1, sizeof text - 1, file);
    text[length] = '\0';
    fclose(file);
    char expected_header[128];
    snprintf(expected_header, sizeof expected_header,
             "# stacks of process %d, 1 threads, by gdb -batch; spinning threads first: %d\n",
             (int)child.pid, (int)child.pid);
    assert_true(strncmp(text, expected_header, strlen(expected_header)) == 0);
    char lwp[64];
    snprintf(lwp, sizeof lwp, "(LWP %d) \"sleep\"):\n#0 ", (int)child.pid);
    assert_non_null(strstr(text, lwp));
    assert_non_null(strstr(text, "sleep"));
    unlink(path);
    rmdir(directory);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spinning_threads_come_first_in_the_order_given),
        cmocka_unit_test(output_without_stacks_is_all_messages),
        cmocka_unit_test(the_stack_of_a_sleeping_child_is_captured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
