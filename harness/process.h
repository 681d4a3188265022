/*
 * process.h: child processes started from an argument vector (never through a shell),
 * with every wait bounded and every child reaped.
 *
 * Promises:
 * - process_spawn puts the child in a process group of its own, so that stopping it
 *   stops everything it started too.
 * - process_wait_for returns within the given bound; on time-out the caller decides
 *   whether to stop the child, and process_stop always ends with the child reaped.
 * - A SIGINT or SIGTERM to the harness (see process_install_interrupt_handlers) makes
 *   every bounded wait return early with PROCESS_INTERRUPTED, so callers unwind and
 *   tear down; a second signal changes nothing about that teardown.
 */
#ifndef HARNESS_PROCESS_H
#define HARNESS_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct process {
    pid_t pid;
    bool reaped;
    int wait_status; /* as from waitpid, valid once reaped */
} process;

typedef struct process_io {
    int stdin_fd;  /* -1: /dev/null */
    int stdout_fd; /* -1: inherit */
    int stderr_fd; /* -1: inherit */
} process_io;

#define PROCESS_IO_INHERIT ((process_io){.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1})

enum {
    PROCESS_EXITED = 0,
    PROCESS_TIMED_OUT = 1,
    PROCESS_INTERRUPTED = 2,
};

/* Exit codes of the harness, documented in the README. */
enum {
    EXIT_AS_EXPECTED = 0,
    EXIT_UNEXPECTED_VERDICT = 1,
    EXIT_USAGE = 2,
    EXIT_ENVIRONMENT = 125,
    EXIT_INTERRUPTED = 130,
};

void process_install_interrupt_handlers(void);
bool process_interrupted(void);
/* Marks the harness as interrupted, as a signal would (for tests). */
void process_simulate_interrupt(bool interrupted);

/* Starts argv[0] (looked up in PATH) with argv; envp NULL keeps the environment. */
int process_spawn(process *child, char *const argv[], char *const envp[], process_io io,
                  char *error, size_t error_size);
/* As process_spawn with stdin from /dev/null and the two descriptors given as the
 * child's fd 3 and fd 4 (for programs told to write to /dev/fd/3 and /dev/fd/4), and
 * the child's own stdout and stderr on log_fd. */
int process_spawn_with_fds(process *child, char *const argv[], int fd3, int fd4, int log_fd,
                           char *error, size_t error_size);
/* Waits at most timeout_ms (negative: no bound other than an interrupt). */
int process_wait_for(process *child, int timeout_ms);
/* SIGTERM to the child's group, up to grace_ms, then SIGKILL; always reaps. */
void process_stop(process *child, int grace_ms);
/* The exit code a shell would report: the status, or 128 + the signal. */
int process_exit_code(const process *child);

/* Runs argv to completion within timeout_ms, its stdout captured (NUL-terminated, at
 * most output_size - 1 bytes kept). Returns the exit code, or -1 when it could not run
 * or ran out of time (error says which). */
int process_run_capture(char *const argv[], int timeout_ms, char *output, size_t output_size,
                        char *error, size_t error_size);

#endif
