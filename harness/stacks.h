/*
 * stacks.h: every thread's stack of a running process, taken with gdb in batch mode
 * (attach, "thread apply all bt", detach), written to a file for the results folder.
 *
 * Promises:
 * - One attach, so every stack is from the same moment; gdb stops the process only while
 *   it prints. gdb runs from an argument vector (no shell) with a bound on its time; on
 *   time-out it is stopped (SIGTERM, then SIGKILL) and reaped, and whatever it printed is
 *   still written.
 * - The spinning threads come first, in the order given, then the others in gdb's order,
 *   then gdb's own messages. Ordering the one output afterwards, rather than attaching
 *   twice, keeps the snapshot consistent and the process stopped for half as long.
 * - The file is written even when gdb fails (it then holds gdb's messages), and the error
 *   says so in one line naming the file.
 */
#ifndef HARNESS_STACKS_H
#define HARNESS_STACKS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* gdb reads symbols for every shared library first: a few seconds for valkey-server on a
 * slow emulated machine, well under this. */
#define STACKS_DEFAULT_TIMEOUT_MS 30000

/* Captures the stacks of pid into output_path (created or truncated). 0 on success; -1
 * with one line in error when gdb cannot run, runs out of time, or prints no stack. */
int stacks_capture(pid_t pid, const pid_t *spinning_tids, size_t spinning_count,
                   const char *output_path, int timeout_ms, char *error, size_t error_size);

/* Pure: reorders the output of gdb's "thread apply all bt" so the threads whose LWP is in
 * first_tids come first (in that order), then the other threads, then everything else
 * gdb printed. A new string (free it), or NULL when out of memory. *thread_count gets
 * the number of thread stacks found. */
char *stacks_order_spinning_first(const char *gdb_output, const pid_t *first_tids,
                                  size_t first_count, size_t *thread_count);

/* The kernel's view of every thread of pid, for when gdb is too slow or the process is
 * stuck inside the kernel: one block per thread with its name, scheduler state, wait
 * channel, the system call it is in (by name where known, its first argument, and for a
 * call on a descriptor what that descriptor is) and its kernel stack where /proc lets us
 * read it. Reads /proc only: no attach, the process is not disturbed, a few milliseconds.
 * Appended to out; 0 on success, -1 with one line in error when the process cannot be
 * read at all. */
int stacks_kernel_view(pid_t pid, FILE *out, char *error, size_t error_size);

#endif
