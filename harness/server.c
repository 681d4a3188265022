#include "server.h"
#include "cpu_limit.h"
#include "cpu_pin.h"
#include "monotonic_clock.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcp_probe.h"

#define READY_PROBE_TIMEOUT_MS 1000
#define READY_PROBE_INTERVAL_MS 100

int server_start(server *running, const server_settings *settings, char *error, size_t error_size)
{
    memset(running, 0, sizeof *running);
    running->port = settings->port;
    snprintf(running->log_path, sizeof running->log_path, "%s",
             settings->log_file ? settings->log_file : "/dev/null");
    server_command command;
    if (server_command_build(settings, &command, error, error_size) != 0)
        return -1;
    /* With --logfile the server writes its log itself; what it prints before that
     * (a bad option, a module that will not load) still needs a home. */
    char early_output[600];
    snprintf(early_output, sizeof early_output, "%s.stdout", running->log_path);
    int output_fd = open(strcmp(running->log_path, "/dev/null") ? early_output : "/dev/null",
                         O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    process_io io = PROCESS_IO_INHERIT;
    io.stdout_fd = output_fd;
    io.stderr_fd = output_fd;
    /* Pinned from its first instruction: the server inherits the mask of this thread. */
    cpu_pin pin;
    char pin_error[256];
    if (cpu_pin_enter(&pin, settings->pinned ? settings->cpu : CPU_PIN_NONE, pin_error,
                      sizeof pin_error) != 0) {
        snprintf(error, error_size, "server.cpu: %s", pin_error);
        if (output_fd >= 0)
            close(output_fd);
        return -1;
    }
    int rc = process_spawn(&running->process, command.argv, NULL, io, error, error_size);
    cpu_pin_leave(&pin);
    if (output_fd >= 0)
        close(output_fd);
    if (rc == 0 && settings->cpu_limit_percent > 0 &&
        cpu_limit_apply(CPU_LIMIT_DEFAULT_ROOT, running->process.pid, settings->cpu_limit_percent,
                        running->cgroup_path, sizeof running->cgroup_path, error,
                        error_size) != 0) {
        server_stop(running);
        return -1;
    }
    if (rc == 0 && settings->pause_percent > 0 &&
        stop_cycle_begin(&running->pause, running->process.pid, settings->pause_percent,
                         STOP_CYCLE_PERIOD_MS, error, error_size) != 0) {
        server_stop(running);
        return -1;
    }
    return rc;
}

bool server_is_running(server *running)
{
    return process_wait_for(&running->process, 0) != PROCESS_EXITED;
}

int server_wait_ready(server *running, int timeout_ms, char *error, size_t error_size)
{
    long long deadline = monotonic_ms() + timeout_ms;
    char probe_error[256] = "";
    while (monotonic_ms() < deadline) {
        if (!server_is_running(running)) {
            snprintf(error, error_size, "the server exited with %d before answering (see %s)",
                     process_exit_code(&running->process), running->log_path);
            return -1;
        }
        if (process_interrupted()) {
            snprintf(error, error_size, "interrupted");
            return -1;
        }
        if (tcp_probe_ping("127.0.0.1", running->port, READY_PROBE_TIMEOUT_MS, probe_error,
                           sizeof probe_error) == 0)
            return 0;
        poll(NULL, 0, READY_PROBE_INTERVAL_MS);
    }
    snprintf(error, error_size, "the server did not answer within %d ms: %s", timeout_ms,
             probe_error);
    return -1;
}

void server_stop(server *running)
{
    if (running->process.pid <= 0)
        return;
    running->paused_share = stop_cycle_end(&running->pause);
    /* A stopped server cannot act on SIGTERM until it runs again. */
    kill(running->process.pid, SIGCONT);
    process_stop(&running->process, SERVER_STOP_GRACE_MS);
    cpu_limit_release(running->cgroup_path);
}
