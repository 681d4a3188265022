/*
 * thread_cpu.h: how much CPU each thread of a process used between two moments, read
 * from /proc/PID/task/TID/stat (utime + stime) and /proc/PID/task/TID/comm.
 *
 * Promises:
 * - thread_cpu_parse_stat_line is pure: it reads the name between the first '(' and the
 *   LAST ')' and the fields after that last ')', so a thread name holding spaces or
 *   parentheses ("a) b (c") cannot shift the fields.
 * - thread_cpu_sample_take reads every thread of a process once; a thread that ends while
 *   it is read is left out, not an error. Only a process that cannot be read at all is.
 * - thread_cpu_usage_between reports every thread of the later sample: a thread that was
 *   already there gets its CPU time delta over the interval; a thread that appeared in
 *   between (or whose TID was reused: the start time differs) gets all its CPU time,
 *   since all of it was spent within the interval. Threads that ended are not reported.
 * - Percent is of one CPU: a thread busy all the time is near 100, never the sum of CPUs.
 */
#ifndef HARNESS_THREAD_CPU_H
#define HARNESS_THREAD_CPU_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The kernel limits a thread name (TASK_COMM_LEN) to 15 bytes plus the NUL; room for
 * more costs nothing and keeps a longer future limit from being cut. */
#define THREAD_CPU_NAME_BYTES 64

/* The fields of one /proc/.../stat line that this module uses. */
typedef struct thread_stat_fields {
    pid_t tid;
    char name[THREAD_CPU_NAME_BYTES];
    char state;                /* field 3: R, S, D, T, Z ... */
    uint64_t user_ticks;       /* field 14: utime, clock ticks */
    uint64_t system_ticks;     /* field 15: stime, clock ticks */
    uint64_t start_time_ticks; /* field 22: starttime, clock ticks after boot */
} thread_stat_fields;

typedef struct thread_cpu_thread {
    pid_t tid;
    char name[THREAD_CPU_NAME_BYTES];
    uint64_t cpu_ticks; /* user + system */
    uint64_t start_time_ticks;
} thread_cpu_thread;

typedef struct thread_cpu_sample {
    int64_t time_ns; /* CLOCK_MONOTONIC when the sample was taken */
    long ticks_per_second;
    thread_cpu_thread *threads; /* owned; thread_cpu_sample_free releases it */
    size_t thread_count;
} thread_cpu_sample;

typedef struct thread_cpu_usage {
    pid_t tid;
    char name[THREAD_CPU_NAME_BYTES];
    double cpu_percent; /* of one CPU over the interval */
} thread_cpu_usage;

/* Parses one stat line. 0 on success; -1 with a one-line reason in error when the line is
 * not a stat line (no parentheses, too few fields, a field that is not a number). */
int thread_cpu_parse_stat_line(const char *line, thread_stat_fields *out, char *error,
                               size_t error_size);

/* Reads every thread of pid into *sample (which needs no initialization). 0 on success;
 * -1 with one line in error when /proc/PID/task cannot be read (e.g. the process ended). */
int thread_cpu_sample_take(pid_t pid, thread_cpu_sample *sample, char *error, size_t error_size);

void thread_cpu_sample_free(thread_cpu_sample *sample);

/* Fills out with up to capacity threads of `later` (in its order) and returns how many
 * threads `later` holds. Returns 0 when the interval is not positive. */
size_t thread_cpu_usage_between(const thread_cpu_sample *earlier, const thread_cpu_sample *later,
                                thread_cpu_usage *out, size_t capacity);

#endif
