/* The server and the load on CPUs of their own: what is created while pinned inherits
 * the CPU, the creator's mask comes back, and a CPU this process may not use is refused. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "cpu_pin.h"
#include "process.h"

static int first_allowed_cpu(void)
{
    cpu_set_t mask;
    assert_int_equal(sched_getaffinity(0, sizeof mask, &mask), 0);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &mask))
            return cpu;
    fail_msg("this process may run on no CPU");
    return -1;
}

static void assert_only_cpu(const cpu_set_t *mask, int cpu)
{
    assert_int_equal(CPU_COUNT(mask), 1);
    assert_true(CPU_ISSET(cpu, mask));
}

static void *report_own_mask(void *argument)
{
    cpu_set_t *mask = argument;
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof *mask, mask), 0);
    return NULL;
}

static void a_child_and_a_thread_made_while_pinned_run_on_that_cpu_only(void **state)
{
    (void)state;
    int cpu = first_allowed_cpu();
    cpu_set_t before;
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);

    cpu_pin pin;
    char error[256] = "";
    assert_int_equal(cpu_pin_enter(&pin, cpu, error, sizeof error), 0);
    char *argv[] = {"sleep", "30", NULL};
    process child;
    assert_int_equal(process_spawn(&child, argv, NULL, PROCESS_IO_INHERIT, error, sizeof error), 0);
    pthread_t thread;
    cpu_set_t thread_mask;
    CPU_ZERO(&thread_mask);
    assert_int_equal(pthread_create(&thread, NULL, report_own_mask, &thread_mask), 0);
    cpu_pin_leave(&pin);
    assert_int_equal(pthread_join(thread, NULL), 0);

    cpu_set_t child_mask;
    assert_int_equal(sched_getaffinity(child.pid, sizeof child_mask, &child_mask), 0);
    process_stop(&child, 1000);
    assert_only_cpu(&child_mask, cpu);
    assert_only_cpu(&thread_mask, cpu);

    cpu_set_t after;
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
    assert_true(CPU_EQUAL(&before, &after));
}

static void no_cpu_named_changes_nothing(void **state)
{
    (void)state;
    cpu_set_t before, after;
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);
    cpu_pin pin;
    char error[256] = "";
    assert_int_equal(cpu_pin_enter(&pin, CPU_PIN_NONE, error, sizeof error), 0);
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
    assert_true(CPU_EQUAL(&before, &after));
    cpu_pin_leave(&pin);
    assert_string_equal(error, "");
}

static void a_cpu_this_process_may_not_use_is_refused_by_name(void **state)
{
    (void)state;
    cpu_set_t before, after;
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);
    /* The CPU after the last one allowed; past the set's end on a machine with them all. */
    int absent = CPU_SETSIZE;
    while (absent > 0 && !CPU_ISSET(absent - 1, &before))
        absent--;
    if (absent == 0)
        fail_msg("this thread may run on no CPU");
    cpu_pin pin;
    char error[256] = "";
    assert_int_equal(cpu_pin_enter(&pin, absent, error, sizeof error), -1);
    char expected[64];
    snprintf(expected, sizeof expected, "CPU %d is not one this process may use (it may use ",
             absent);
    if (strncmp(error, expected, strlen(expected)) != 0)
        fail_msg("unexpected error: %s", error);
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
    assert_true(CPU_EQUAL(&before, &after));
    cpu_pin_leave(&pin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_child_and_a_thread_made_while_pinned_run_on_that_cpu_only),
        cmocka_unit_test(no_cpu_named_changes_nothing),
        cmocka_unit_test(a_cpu_this_process_may_not_use_is_refused_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
