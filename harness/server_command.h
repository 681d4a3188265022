/*
 * server_command.h: the argument vector that starts a valkey-server of a given version
 * with RDMA, IO threads and the test's settings, the way that version wants them.
 *
 * Promises: no process is started (the one thing read is the working folder); settings a
 * version cannot honour are refused with a one-line reason instead of being dropped. The
 * server enters --dir while it reads its configuration and only then opens its log file
 * and loads modules, so relative paths in the settings are made absolute here, against
 * the caller's working folder, where the caller meant them.
 */
#ifndef HARNESS_SERVER_COMMAND_H
#define HARNESS_SERVER_COMMAND_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "server_version.h"

#define SERVER_COMMAND_MAX_EXTRA 32
#define SERVER_COMMAND_MAX_ARGS 96

typedef struct server_settings {
    const char *server_path;
    const char *rdma_module_path; /* NULL: RDMA built in */
    server_version version;
    const char *rdma_address; /* the test bed's own address */
    int port;                 /* TCP on loopback and RDMA share it (RDMA_PS_TCP) */
    int io_threads;
    bool io_threads_always_active;
    long long rdma_rx_size; /* 0: the server's default */
    const char *working_dir;
    const char *log_file;
    /* Extra configuration, name and value pairs, each passed as its own argument. */
    const char *extra_names[SERVER_COMMAND_MAX_EXTRA];
    const char *extra_values[SERVER_COMMAND_MAX_EXTRA];
    int extra_count;
    /* Not part of the command: a CPU limit in percent of one CPU (cpu_limit.h); 0: none. */
    int cpu_limit_percent;
    /* Not part of the command: the server's process group stopped for this percent of
     * every STOP_CYCLE_PERIOD_MS (stop_cycle.h); 0: never. */
    int pause_percent;
    /* Not part of the command: the one CPU every thread of the server runs on (cpu_pin.h). */
    bool pinned;
    int cpu;
} server_settings;

typedef struct server_command {
    char *argv[SERVER_COMMAND_MAX_ARGS + 1];
    int argc;
    char storage[SERVER_COMMAND_MAX_EXTRA + 8][256]; /* formatted words argv points into */
    int storage_used;
    char paths[3][PATH_MAX]; /* working folder, log file, module: made absolute */
} server_command;

int server_command_build(const server_settings *settings, server_command *command, char *error,
                         size_t error_size);

#endif
