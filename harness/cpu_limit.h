/*
 * cpu_limit.h: a CPU limit on one process through a cgroup v2 of its own, the way the
 * regression gate slows a build on purpose (`compare --candidate-cpu-limit PCT`).
 *
 * Promises: the limit is cpu.max = PCT% of one CPU over a 10 ms period, for every
 * thread of the process (cgroup.procs moves them all); cpu_limit_release removes the
 * cgroup once the process is gone. Every failure is one line in error; nothing is left
 * half made (a cgroup made but not filled is removed again).
 */
#ifndef HARNESS_CPU_LIMIT_H
#define HARNESS_CPU_LIMIT_H

#include <stddef.h>
#include <sys/types.h>

#define CPU_LIMIT_DEFAULT_ROOT "/sys/fs/cgroup"
#define CPU_LIMIT_PERIOD_US 10000
#define CPU_LIMIT_MAX_PERCENT 1000

/* Puts pid into a new cgroup under root (CPU_LIMIT_DEFAULT_ROOT in use; a folder in
 * tests) limited to percent (1 to CPU_LIMIT_MAX_PERCENT) of one CPU. The cgroup's path
 * goes to path (for cpu_limit_release). 0, or -1 with error set. */
int cpu_limit_apply(const char *root, pid_t pid, int percent, char *path, size_t path_size,
                    char *error, size_t error_size);

/* Removes the cgroup made by cpu_limit_apply (no-op on an empty path). */
void cpu_limit_release(char *path);

#endif
