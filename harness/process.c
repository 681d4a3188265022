#include "process.h"
#include "monotonic_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t interrupt_count;

/* How often a bounded wait looks again at its child and at the interrupt flag. */
#define WAIT_POLL_INTERVAL_MS 20

static void on_interrupt(int signal_number)
{
    (void)signal_number;
    interrupt_count++;
}

void process_install_interrupt_handlers(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
    /* A reader that went away (a closed pipe) must not kill the harness mid-teardown. */
    signal(SIGPIPE, SIG_IGN);
}

bool process_interrupted(void)
{
    return interrupt_count > 0;
}

void process_simulate_interrupt(bool interrupted)
{
    interrupt_count = interrupted ? 1 : 0;
}

static int spawn_with(process *child, char *const argv[], char *const envp[], process_io io,
                      const int extra_fds[2], char *error, size_t error_size)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    sigset_t default_signals;

    memset(child, 0, sizeof *child);
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    if (io.stdin_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, io.stdin_fd, STDIN_FILENO);
    else
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (io.stdout_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, io.stdout_fd, STDOUT_FILENO);
    if (io.stderr_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, io.stderr_fd, STDERR_FILENO);
    for (int i = 0; extra_fds && i < 2; i++)
        posix_spawn_file_actions_adddup2(&actions, extra_fds[i], 3 + i);
    /* Children start with default dispositions, whatever the harness installed. */
    sigemptyset(&default_signals);
    sigaddset(&default_signals, SIGINT);
    sigaddset(&default_signals, SIGTERM);
    sigaddset(&default_signals, SIGHUP);
    sigaddset(&default_signals, SIGPIPE);
    posix_spawnattr_setsigdefault(&attributes, &default_signals);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);

    int rc = posix_spawnp(&child->pid, argv[0], &actions, &attributes, argv, envp ? envp : environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
        snprintf(error, error_size, "cannot start %s: %s", argv[0], strerror(rc));
        child->pid = 0;
        child->reaped = true;
        return -1;
    }
    return 0;
}

int process_spawn(process *child, char *const argv[], char *const envp[], process_io io,
                  char *error, size_t error_size)
{
    return spawn_with(child, argv, envp, io, NULL, error, error_size);
}

/* Descriptors at or above this number cannot collide with 3 and 4 while being moved. */
#define FIRST_SAFE_DESCRIPTOR 10

int process_spawn_with_fds(process *child, char *const argv[], int fd3, int fd4, int log_fd,
                           char *error, size_t error_size)
{
    int moved[2] = {fcntl(fd3, F_DUPFD_CLOEXEC, FIRST_SAFE_DESCRIPTOR),
                    fcntl(fd4, F_DUPFD_CLOEXEC, FIRST_SAFE_DESCRIPTOR)};
    if (moved[0] < 0 || moved[1] < 0) {
        snprintf(error, error_size, "cannot duplicate descriptors: %s", strerror(errno));
        if (moved[0] >= 0)
            close(moved[0]);
        if (moved[1] >= 0)
            close(moved[1]);
        child->pid = 0;
        child->reaped = true;
        return -1;
    }
    process_io io = {.stdin_fd = -1, .stdout_fd = log_fd, .stderr_fd = log_fd};
    int rc = spawn_with(child, argv, NULL, io, moved, error, error_size);
    close(moved[0]);
    close(moved[1]);
    return rc;
}

static bool try_reap(process *child)
{
    if (child->reaped)
        return true;
    int status;
    pid_t rc = waitpid(child->pid, &status, WNOHANG);
    if (rc == child->pid) {
        child->reaped = true;
        child->wait_status = status;
        return true;
    }
    if (rc < 0 && errno == ECHILD) {
        child->reaped = true;
        child->wait_status = 0;
        return true;
    }
    return false;
}

int process_wait_for(process *child, int timeout_ms)
{
    long long deadline = monotonic_ms() + timeout_ms;
    for (;;) {
        if (try_reap(child))
            return PROCESS_EXITED;
        if (process_interrupted())
            return PROCESS_INTERRUPTED;
        if (timeout_ms >= 0 && monotonic_ms() >= deadline)
            return PROCESS_TIMED_OUT;
        poll(NULL, 0, WAIT_POLL_INTERVAL_MS);
    }
}

void process_stop(process *child, int grace_ms)
{
    if (child->pid <= 0 || try_reap(child))
        return;
    kill(-child->pid, SIGTERM);
    kill(child->pid, SIGTERM);
    long long deadline = monotonic_ms() + grace_ms;
    while (monotonic_ms() < deadline) {
        if (try_reap(child))
            return;
        poll(NULL, 0, WAIT_POLL_INTERVAL_MS);
    }
    kill(-child->pid, SIGKILL);
    kill(child->pid, SIGKILL);
    /* After SIGKILL the child is gone as soon as the kernel tears it down. */
    int status;
    if (waitpid(child->pid, &status, 0) == child->pid)
        child->wait_status = status;
    child->reaped = true;
}

int process_exit_code(const process *child)
{
    if (WIFEXITED(child->wait_status))
        return WEXITSTATUS(child->wait_status);
    if (WIFSIGNALED(child->wait_status))
        return 128 + WTERMSIG(child->wait_status);
    return -1;
}

int process_run_capture(char *const argv[], int timeout_ms, char *output, size_t output_size,
                        char *error, size_t error_size)
{
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        snprintf(error, error_size, "pipe: %s", strerror(errno));
        return -1;
    }
    process child;
    process_io io = PROCESS_IO_INHERIT;
    io.stdout_fd = pipe_fds[1];
    if (process_spawn(&child, argv, NULL, io, error, error_size) != 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return -1;
    }
    close(pipe_fds[1]);

    size_t used = 0;
    long long deadline = monotonic_ms() + timeout_ms;
    bool timed_out = false;
    for (;;) {
        long long left = deadline - monotonic_ms();
        if (left <= 0 || process_interrupted()) {
            timed_out = true;
            break;
        }
        struct pollfd readable = {.fd = pipe_fds[0], .events = POLLIN};
        int ready =
            poll(&readable, 1, left > WAIT_POLL_INTERVAL_MS ? WAIT_POLL_INTERVAL_MS : (int)left);
        if (ready <= 0)
            continue;
        char chunk[4096];
        ssize_t got = read(pipe_fds[0], chunk, sizeof chunk);
        if (got <= 0)
            break;
        size_t room = output_size > used + 1 ? output_size - used - 1 : 0;
        size_t keep = (size_t)got < room ? (size_t)got : room;
        memcpy(output + used, chunk, keep);
        used += keep;
    }
    close(pipe_fds[0]);
    if (output_size > 0)
        output[used] = '\0';
    if (timed_out) {
        process_stop(&child, 1000);
        snprintf(error, error_size, "%s did not finish within %d ms", argv[0], timeout_ms);
        return -1;
    }
    if (process_wait_for(&child, timeout_ms) != PROCESS_EXITED) {
        process_stop(&child, 1000);
        snprintf(error, error_size, "%s did not exit within %d ms", argv[0], timeout_ms);
        return -1;
    }
    return process_exit_code(&child);
}
