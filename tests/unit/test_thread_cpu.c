/* Per-thread CPU from /proc: the stat line parser, the percent arithmetic, and one real
 * measurement of this test process against the kernel. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "thread_cpu.h"

static void a_plain_stat_line_gives_name_state_and_ticks(void **state)
{
    (void)state;
    /* Fields 14, 15 and 22 hold 1234, 567 and 98765. */
    const char *line = "4242 (io_thd_1) R 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 "
                       "20 0 9 0 98765 1000000 200 18446744073709551615\n";
    thread_stat_fields fields;
    char error[128];
    assert_int_equal(thread_cpu_parse_stat_line(line, &fields, error, sizeof error), 0);
    assert_int_equal(fields.tid, 4242);
    assert_string_equal(fields.name, "io_thd_1");
    assert_int_equal(fields.state, 'R');
    assert_int_equal(fields.user_ticks, 1234);
    assert_int_equal(fields.system_ticks, 567);
    assert_int_equal(fields.start_time_ticks, 98765);
}

static void a_name_with_spaces_and_parentheses_does_not_shift_the_fields(void **state)
{
    (void)state;
    const char *line = "77 (a) b (c) S 1 77 77 0 -1 0 0 0 0 0 11 22 0 0 20 0 1 0 33 0 0\n";
    thread_stat_fields fields;
    char error[128];
    assert_int_equal(thread_cpu_parse_stat_line(line, &fields, error, sizeof error), 0);
    assert_string_equal(fields.name, "a) b (c");
    assert_int_equal(fields.state, 'S');
    assert_int_equal(fields.user_ticks, 11);
    assert_int_equal(fields.system_ticks, 22);
    assert_int_equal(fields.start_time_ticks, 33);
}

static void lines_that_are_not_stat_lines_are_refused(void **state)
{
    (void)state;
    thread_stat_fields fields;
    char error[128];
    assert_int_equal(
        thread_cpu_parse_stat_line("no parentheses here", &fields, error, sizeof error), -1);
    assert_non_null(strstr(error, "not a stat line"));
    assert_int_equal(
        thread_cpu_parse_stat_line("5 (short) R 1 2 3\n", &fields, error, sizeof error), -1);
    assert_non_null(strstr(error, "expected at least 22"));
    assert_int_equal(thread_cpu_parse_stat_line("5 (x) R 1 5 5 0 -1 0 0 0 0 0 zz 1 0 0 20 0 "
                                                "1 0 3 0 0\n",
                                                &fields, error, sizeof error),
                     -1);
    assert_non_null(strstr(error, "field 14 is not a number"));
}

static void percent_is_ticks_over_the_interval_and_new_threads_count_whole(void **state)
{
    (void)state;
    /* 100 ticks per second, 2 s apart. Thread 1: 300 -> 500 ticks = 2 s of CPU in 2 s =
     * 100%. Thread 2: 10 -> 20 = 0.1 s in 2 s = 5%. Thread 3 is new with 50 ticks = 0.5 s
     * = 25%. Thread 4 has the TID of an ended thread (other start time): new, 40 ticks =
     * 20%. Thread 9 ended and is not reported. */
    thread_cpu_thread before[] = {
        {.tid = 1, .name = "main", .cpu_ticks = 300, .start_time_ticks = 7},
        {.tid = 2, .name = "io_thd_1", .cpu_ticks = 10, .start_time_ticks = 7},
        {.tid = 4, .name = "old", .cpu_ticks = 900, .start_time_ticks = 7},
        {.tid = 9, .name = "gone", .cpu_ticks = 5, .start_time_ticks = 7},
    };
    thread_cpu_thread after[] = {
        {.tid = 1, .name = "main", .cpu_ticks = 500, .start_time_ticks = 7},
        {.tid = 2, .name = "io_thd_1", .cpu_ticks = 20, .start_time_ticks = 7},
        {.tid = 3, .name = "bio_close", .cpu_ticks = 50, .start_time_ticks = 150},
        {.tid = 4, .name = "reused", .cpu_ticks = 40, .start_time_ticks = 160},
    };
    thread_cpu_sample earlier = {
        .time_ns = 1000000000, .ticks_per_second = 100, .threads = before, .thread_count = 4};
    thread_cpu_sample later = {
        .time_ns = 3000000000, .ticks_per_second = 100, .threads = after, .thread_count = 4};
    thread_cpu_usage usage[4];
    assert_int_equal(thread_cpu_usage_between(&earlier, &later, usage, 4), 4);
    assert_int_equal(usage[0].tid, 1);
    assert_float_equal(usage[0].cpu_percent, 100.0, 1e-9);
    assert_float_equal(usage[1].cpu_percent, 5.0, 1e-9);
    assert_string_equal(usage[2].name, "bio_close");
    assert_float_equal(usage[2].cpu_percent, 25.0, 1e-9);
    assert_string_equal(usage[3].name, "reused");
    assert_float_equal(usage[3].cpu_percent, 20.0, 1e-9);
    /* A counter that went back (a bad read) gives 0, not a huge percent. */
    after[1].cpu_ticks = 5;
    assert_int_equal(thread_cpu_usage_between(&earlier, &later, usage, 4), 4);
    assert_float_equal(usage[1].cpu_percent, 0.0, 1e-9);
    /* A zero interval measures nothing. */
    assert_int_equal(thread_cpu_usage_between(&later, &later, usage, 4), 0);
}

/* The measurement below: how long the busy thread runs, and the margins. A fixed "busy is
 * above 50%" cannot hold on a shared machine: with two other CPU hogs on these two CPUs the
 * busy thread got 23% to 33% of a CPU. So the figure from /proc is checked against the
 * thread's own CPU clock, which the kernel keeps exactly, read just before and just after
 * each /proc sample: the /proc figure must lie between those readings whatever the
 * scheduler does, less the rounding down to whole ticks (one at each end). The absolute
 * floors only tell busy from idle: 10% is three ticks over 300 ms, which the idle thread
 * (asleep but for microseconds every 5 ms) never reaches. */
#define MEASURE_MILLISECONDS 300
#define TICKS_LOST_PER_END 1.0
#define BUSY_AT_LEAST_PERCENT 10.0
#define IDLE_AT_MOST_PERCENT 10.0

typedef struct worker {
    const char *name;
    bool busy;
    atomic_bool stop;
    atomic_int tid;
} worker;

static void *work(void *argument)
{
    worker *self = argument;
    prctl(PR_SET_NAME, self->name);
    atomic_store(&self->tid, (int)gettid());
    volatile uint64_t counter = 0;
    while (!atomic_load(&self->stop)) {
        if (self->busy) {
            counter++;
        } else {
            struct timespec nap = {.tv_sec = 0, .tv_nsec = 5000000};
            nanosleep(&nap, NULL);
        }
    }
    return NULL;
}

static double seconds_between(const struct timespec *from, const struct timespec *to)
{
    return (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

static const thread_cpu_usage *usage_of(const thread_cpu_usage *usage, size_t count, int tid)
{
    for (size_t i = 0; i < count; i++)
        if (usage[i].tid == tid)
            return &usage[i];
    return NULL;
}

static void a_busy_thread_measures_busy_and_an_idle_thread_idle(void **state)
{
    (void)state;
    worker busy = {.name = "busy worker", .busy = true};
    worker idle = {.name = "idle (worker)", .busy = false};
    pthread_t busy_thread, idle_thread;
    assert_int_equal(pthread_create(&busy_thread, NULL, work, &busy), 0);
    assert_int_equal(pthread_create(&idle_thread, NULL, work, &idle), 0);
    while (atomic_load(&busy.tid) == 0 || atomic_load(&idle.tid) == 0)
        usleep(1000);

    clockid_t busy_clock;
    assert_int_equal(pthread_getcpuclockid(busy_thread, &busy_clock), 0);
    thread_cpu_sample earlier, later;
    char error[256];
    struct timespec cpu_before_earlier, cpu_after_earlier, cpu_before_later, cpu_after_later;
    clock_gettime(busy_clock, &cpu_before_earlier);
    assert_int_equal(thread_cpu_sample_take(getpid(), &earlier, error, sizeof error), 0);
    clock_gettime(busy_clock, &cpu_after_earlier);
    usleep(MEASURE_MILLISECONDS * 1000);
    clock_gettime(busy_clock, &cpu_before_later);
    assert_int_equal(thread_cpu_sample_take(getpid(), &later, error, sizeof error), 0);
    clock_gettime(busy_clock, &cpu_after_later);
    atomic_store(&busy.stop, true);
    atomic_store(&idle.stop, true);
    pthread_join(busy_thread, NULL);
    pthread_join(idle_thread, NULL);

    thread_cpu_usage usage[64];
    size_t count = thread_cpu_usage_between(&earlier, &later, usage, 64);
    assert_true(count >= 3);
    const thread_cpu_usage *busy_usage = usage_of(usage, count, atomic_load(&busy.tid));
    const thread_cpu_usage *idle_usage = usage_of(usage, count, atomic_load(&idle.tid));
    assert_non_null(busy_usage);
    assert_non_null(idle_usage);
    assert_string_equal(busy_usage->name, "busy worker");
    assert_string_equal(idle_usage->name, "idle (worker)");
    double interval_seconds = (double)(later.time_ns - earlier.time_ns) / 1e9;
    double tick_seconds = 1.0 / (double)later.ticks_per_second;
    double at_least_seconds = seconds_between(&cpu_after_earlier, &cpu_before_later) -
                              2 * TICKS_LOST_PER_END * tick_seconds;
    double at_most_seconds = seconds_between(&cpu_before_earlier, &cpu_after_later) +
                             2 * TICKS_LOST_PER_END * tick_seconds;
    double busy_percent = busy_usage->cpu_percent;
    double idle_percent = idle_usage->cpu_percent;
    double proc_seconds = busy_percent / 100.0 * interval_seconds;
    thread_cpu_sample_free(&earlier);
    thread_cpu_sample_free(&later);
    print_message("busy %.1f%% = %.3f s of CPU (its own clock: %.3f to %.3f s), idle %.1f%% "
                  "over %.0f ms\n",
                  busy_percent, proc_seconds, at_least_seconds, at_most_seconds, idle_percent,
                  interval_seconds * 1000);
    assert_true(proc_seconds >= at_least_seconds);
    assert_true(proc_seconds <= at_most_seconds);
    assert_true(busy_percent > BUSY_AT_LEAST_PERCENT);
    assert_true(idle_percent < IDLE_AT_MOST_PERCENT);
}

static void a_process_that_does_not_exist_is_an_error(void **state)
{
    (void)state;
    thread_cpu_sample sample;
    char error[256];
    /* PID_MAX_LIMIT is 2^22, so this PID cannot exist. */
    assert_int_equal(thread_cpu_sample_take(1 << 23, &sample, error, sizeof error), -1);
    assert_string_equal(error, "/proc/8388608/task: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_plain_stat_line_gives_name_state_and_ticks),
        cmocka_unit_test(a_name_with_spaces_and_parentheses_does_not_shift_the_fields),
        cmocka_unit_test(lines_that_are_not_stat_lines_are_refused),
        cmocka_unit_test(percent_is_ticks_over_the_interval_and_new_threads_count_whole),
        cmocka_unit_test(a_busy_thread_measures_busy_and_an_idle_thread_idle),
        cmocka_unit_test(a_process_that_does_not_exist_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
