/* stop_cycle.c against a real child process: it is stopped while the cycle runs, it is
 * running again once the cycle ends (also when ended in the middle of a pause), a cycle
 * whose group has gone ends by itself, a group that is gone is refused, and shares
 * outside 1-90% are refused. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "process.h"
#include "stop_cycle.h"

#define STATE_WAIT_MS 5000

/* The state letter of /proc/PID/stat ('R', 'S', 'T' stopped, ...); '?' when unreadable. */
static char process_state(pid_t pid)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return '?';
    size_t length = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[length] = '\0';
    const char *after_name = strrchr(text, ')'); /* the name may hold spaces */
    return after_name && after_name[1] == ' ' ? after_name[2] : '?';
}

/* Polls (bounded) until the state is (or is not) 'T'; true when it got there. */
static bool wait_for_stopped(pid_t pid, bool stopped)
{
    for (int waited = 0; waited < STATE_WAIT_MS; waited += 2) {
        if ((process_state(pid) == 'T') == stopped)
            return true;
        poll(NULL, 0, 2);
    }
    return false;
}

static void spawn_sleeper(process *child)
{
    char *const argv[] = {"sleep", "30", NULL};
    char error[256];
    assert_int_equal(process_spawn(child, argv, NULL, PROCESS_IO_INHERIT, error, sizeof error), 0);
}

static void stopped_while_the_cycle_runs_and_running_after_it(void **state)
{
    (void)state;
    process child;
    spawn_sleeper(&child);
    stop_cycle cycle;
    char error[256];
    assert_int_equal(stop_cycle_begin(&cycle, child.pid, 50, 20, error, sizeof error), 0);
    assert_true(wait_for_stopped(child.pid, true));
    assert_true(wait_for_stopped(child.pid, false)); /* and continued within the period */
    poll(NULL, 0, 200);
    double share = stop_cycle_end(&cycle);
    assert_true(atomic_load(&cycle.cycles) >= 2);
    assert_true(share > 0.0 && share <= 1.0);
    assert_true(wait_for_stopped(child.pid, false));
    process_stop(&child, 1000);
}

static void ending_in_the_middle_of_a_pause_leaves_the_process_running(void **state)
{
    (void)state;
    process child;
    spawn_sleeper(&child);
    stop_cycle cycle;
    char error[256];
    /* 90% of 2 s: the first pause lasts 1.8 s, and the end comes inside it. */
    assert_int_equal(stop_cycle_begin(&cycle, child.pid, 90, 2000, error, sizeof error), 0);
    assert_true(wait_for_stopped(child.pid, true));
    stop_cycle_end(&cycle);
    assert_true(wait_for_stopped(child.pid, false));
    process_stop(&child, 1000);
}

static void a_cycle_whose_process_has_gone_ends_by_itself(void **state)
{
    (void)state;
    process child;
    spawn_sleeper(&child);
    stop_cycle cycle;
    char error[256];
    assert_int_equal(stop_cycle_begin(&cycle, child.pid, 10, 10, error, sizeof error), 0);
    process_stop(&child, 1000);
    poll(NULL, 0, 50);
    stop_cycle_end(&cycle); /* joins a thread that has already left its loop */
    assert_false(cycle.started);
    /* And a group that has gone is refused up front, not paused silently never. */
    assert_int_equal(stop_cycle_begin(&cycle, child.pid, 10, 10, error, sizeof error), -1);
    assert_non_null(strstr(error, "no process group"));
}

static void shares_outside_the_range_are_refused(void **state)
{
    (void)state;
    stop_cycle cycle;
    char error[256] = "";
    assert_int_equal(stop_cycle_begin(&cycle, 1, 0, 100, error, sizeof error), -1);
    assert_non_null(strstr(error, "0%"));
    assert_int_equal(
        stop_cycle_begin(&cycle, 1, STOP_CYCLE_MAX_PERCENT + 1, 100, error, sizeof error), -1);
    assert_int_equal(stop_cycle_begin(&cycle, 1, 10, 0, error, sizeof error), -1);
    assert_false(cycle.started);
    assert_true(stop_cycle_end(&cycle) == 0.0); /* ending what never began is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stopped_while_the_cycle_runs_and_running_after_it),
        cmocka_unit_test(ending_in_the_middle_of_a_pause_leaves_the_process_running),
        cmocka_unit_test(a_cycle_whose_process_has_gone_ends_by_itself),
        cmocka_unit_test(shares_outside_the_range_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
