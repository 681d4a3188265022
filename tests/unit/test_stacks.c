/* Thread stacks with gdb: ordering gdb's output, and one real capture of a child; the
 * kernel's view of a thread blocked in a read. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <sys/syscall.h>
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

typedef struct blocked_reader {
    int fd;
    pid_t tid;
    _Atomic int started;
} blocked_reader;

static void *read_until_written(void *argument)
{
    blocked_reader *reader = argument;
    reader->tid = (pid_t)syscall(SYS_gettid);
    pthread_setname_np(pthread_self(), "blocked reader");
    reader->started = 1;
    char byte;
    ssize_t got = read(reader->fd, &byte, 1);
    return (void *)(intptr_t)got;
}

/* One thread of this process sits in read() on a pipe: the view names it, its state S, the
 * call by name and what the descriptor is. */
static void the_kernel_view_shows_a_thread_blocked_in_read(void **state)
{
    (void)state;
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    blocked_reader reader = {.fd = pipe_fds[0]};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, read_until_written, &reader), 0);
    /* Wait (bounded) until the thread is inside read(). */
    char expected_call[128], expected_line[256];
    snprintf(expected_call, sizeof expected_call, "read on fd %d (pipe:", pipe_fds[0]);
    char *text = NULL;
    for (int attempt = 0; attempt < 200; attempt++) {
        free(text);
        text = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&text, &size);
        assert_non_null(out);
        char error[256];
        int rc = stacks_kernel_view(getpid(), out, error, sizeof error);
        fclose(out);
        assert_int_equal(rc, 0);
        /* Until then it may still be on its way in, or just preempted there (state R). */
        snprintf(expected_line, sizeof expected_line, "thread %d \"blocked reader\" state S, ",
                 (int)reader.tid);
        if (reader.started && strstr(text, expected_line) != NULL &&
            strstr(text, expected_call) != NULL)
            break;
        usleep(10 * 1000);
    }
    if (strstr(text, expected_line) == NULL || strstr(text, expected_call) == NULL)
        fail_msg("no line for the blocked thread in:\n%s", text);
    char header[96];
    snprintf(header, sizeof header, "# kernel view of process %d ", (int)getpid());
    assert_true(strncmp(text, header, strlen(header)) == 0);
    free(text);
    assert_int_equal(write(pipe_fds[1], "x", 1), 1);
    void *result;
    assert_int_equal(pthread_join(thread, &result), 0);
    assert_int_equal((intptr_t)result, 1);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static void the_kernel_view_of_a_missing_process_is_an_error(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    char error[256] = "";
    /* Above the largest pid the kernel hands out (2^22). */
    assert_int_equal(stacks_kernel_view(5000000, out, error, sizeof error), -1);
    fclose(out);
    assert_non_null(strstr(error, "/proc/5000000/task: cannot read"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spinning_threads_come_first_in_the_order_given),
        cmocka_unit_test(output_without_stacks_is_all_messages),
        cmocka_unit_test(the_stack_of_a_sleeping_child_is_captured),
        cmocka_unit_test(the_kernel_view_shows_a_thread_blocked_in_read),
        cmocka_unit_test(the_kernel_view_of_a_missing_process_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
