#include "stop_cycle.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NS_PER_SECOND 1000000000LL

static long long now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * NS_PER_SECOND + now.tv_nsec;
}

static void sleep_until(long long deadline_ns)
{
    struct timespec until = {.tv_sec = deadline_ns / NS_PER_SECOND,
                             .tv_nsec = deadline_ns % NS_PER_SECOND};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
        ;
}

static void *cycle_main(void *argument)
{
    stop_cycle *cycle = argument;
    /* A late SIGCONT lengthens a pause: ask to be woken before the loads it slows. */
    struct sched_param priority = {.sched_priority = 1};
    (void)pthread_setschedparam(pthread_self(), SCHED_FIFO, &priority);
    long long cycle_start = now_ns();
    while (!atomic_load(&cycle->quit)) {
        long long stopped_at = now_ns();
        if (kill(-cycle->group, SIGSTOP) != 0)
            break; /* the group is gone */
        sleep_until(cycle_start + cycle->stopped_ns_wanted);
        kill(-cycle->group, SIGCONT);
        atomic_fetch_add(&cycle->stopped_ns, now_ns() - stopped_at);
        atomic_fetch_add(&cycle->cycles, 1);
        cycle_start += cycle->period_ns;
        long long now = now_ns();
        if (cycle_start < now) /* woken a whole period late: skip, do not make up */
            cycle_start = now;
        sleep_until(cycle_start);
    }
    return NULL;
}

int stop_cycle_begin(stop_cycle *cycle, pid_t group, int percent, int period_ms, char *error,
                     size_t error_size)
{
    memset(cycle, 0, sizeof *cycle);
    if (percent < 1 || percent > STOP_CYCLE_MAX_PERCENT || period_ms < 1) {
        snprintf(error, error_size,
                 "stop cycle: %d%% of %d ms is not 1 to %d%% of a positive period", percent,
                 period_ms, STOP_CYCLE_MAX_PERCENT);
        return -1;
    }
    /* 1 or less would make kill(-group) reach every process this one may signal. */
    if (group <= 1) {
        snprintf(error, error_size, "stop cycle: %ld is not a child's process group", (long)group);
        return -1;
    }
    /* The thread ends at the first signal that finds no group: check before, or a
     * wrong pid would slow nothing, silently. */
    if (kill(-group, 0) != 0) {
        snprintf(error, error_size, "stop cycle: no process group %ld: %s", (long)group,
                 strerror(errno));
        return -1;
    }
    cycle->group = group;
    cycle->period_ns = (long long)period_ms * 1000000LL;
    cycle->stopped_ns_wanted = cycle->period_ns * percent / 100;
    atomic_init(&cycle->quit, false);
    atomic_init(&cycle->stopped_ns, 0);
    atomic_init(&cycle->cycles, 0);
    cycle->began_ns = now_ns();
    /* The thread inherits this mask: every signal stays with the harness's own threads. */
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    int rc = pthread_create(&cycle->thread, NULL, cycle_main, cycle);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (rc != 0) {
        snprintf(error, error_size, "stop cycle: cannot start its thread: %s", strerror(rc));
        return -1;
    }
    cycle->started = true;
    return 0;
}

double stop_cycle_end(stop_cycle *cycle)
{
    if (!cycle->started)
        return 0.0;
    atomic_store(&cycle->quit, true);
    pthread_join(cycle->thread, NULL);
    cycle->started = false;
    kill(-cycle->group, SIGCONT);
    long long wall = now_ns() - cycle->began_ns;
    return wall > 0 ? (double)atomic_load(&cycle->stopped_ns) / (double)wall : 0.0;
}
