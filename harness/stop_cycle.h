/*
 * stop_cycle.h: a process group stopped (SIGSTOP) for a set share of every period and
 * continued (SIGCONT) for the rest: the regression gate's linear slow-down
 * (`compare --candidate-pause PCT`).
 *
 * Why not only a CPU limit (cpu_limit.h): a cgroup's cpu.max bites only in the bursts
 * where the server wants more than its quota, so throughput against the limit is a
 * step, not a line, and each wanted slow-down has to be found by measuring. A server
 * stopped for PCT% of the wall time answers nothing for PCT% of it: a closed-loop load
 * (a fixed number of requests outstanding) loses about PCT% of its throughput, with no
 * calibration.
 *
 * Promises: the schedule is kept on absolute deadlines (a late wake-up does not shift
 * the cycles after it, and a cycle missed is skipped, not made up); the thread asks for
 * real-time priority and goes on without it when refused; stop_cycle_end returns within
 * one period and always leaves the group continued. No signal is delivered to the
 * cycle's thread (all are blocked in it). The thread holds the struct's address: a
 * started cycle stays where it is (servers are passed by pointer, never copied).
 */
#ifndef HARNESS_STOP_CYCLE_H
#define HARNESS_STOP_CYCLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define STOP_CYCLE_PERIOD_MS 100
#define STOP_CYCLE_MAX_PERCENT 90

typedef struct stop_cycle {
    pid_t group; /* the process group stopped and continued */
    long long period_ns;
    long long stopped_ns_wanted;
    pthread_t thread;
    bool started;
    atomic_bool quit;
    atomic_llong stopped_ns; /* measured: from each SIGSTOP sent to its SIGCONT */
    atomic_long cycles;
    long long began_ns;
} stop_cycle;

/* Starts stopping group (a process group's id: a child of process_spawn's pid) for
 * percent (1 to STOP_CYCLE_MAX_PERCENT) of every period_ms. 0, or -1 with one line in
 * error (nothing started), also when no such group can be signalled. */
int stop_cycle_begin(stop_cycle *cycle, pid_t group, int percent, int period_ms, char *error,
                     size_t error_size);

/* Ends the cycle (no-op when not started): joins the thread and continues the group.
 * Returns the share of the wall time since stop_cycle_begin the group was stopped. */
double stop_cycle_end(stop_cycle *cycle);

#endif
