#include "server_command.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The loopback address: the TCP side of a test server is never reachable from outside. */
#define TCP_BIND_ADDRESS "127.0.0.1"

static int add(server_command *command, const char *word)
{
    if (word == NULL || command->argc >= SERVER_COMMAND_MAX_ARGS)
        return -1;
    command->argv[command->argc++] = (char *)word;
    command->argv[command->argc] = NULL;
    return 0;
}

static const char *format(server_command *command, const char *pattern, ...)
{
    if (command->storage_used >= (int)(sizeof command->storage / sizeof command->storage[0]))
        return NULL;
    char *slot = command->storage[command->storage_used++];
    va_list arguments;
    va_start(arguments, pattern);
    vsnprintf(slot, sizeof command->storage[0], pattern, arguments);
    va_end(arguments);
    return slot;
}

/* PATH as the caller means it, absolute: the server reads it only after entering --dir.
 * NULL and absolute paths stay as they are; a relative one is joined to the working folder
 * in SLOT (PATH_MAX bytes). Returns -1 with a reason when the working folder cannot be
 * read or the joined path does not fit. */
static int absolute_path(char *slot, const char *what, const char **path, char *error,
                         size_t error_size)
{
    if (*path == NULL || (*path)[0] == '/')
        return 0;
    if (getcwd(slot, (size_t)PATH_MAX) == NULL) {
        snprintf(
            error, error_size,
            "the working folder is unreadable (%s), so the relative %s %s cannot be made absolute",
            strerror(errno), what, *path);
        return -1;
    }
    size_t used = strlen(slot);
    int n = snprintf(slot + used, (size_t)PATH_MAX - used, "/%s", *path);
    if (n < 0 || (size_t)n >= (size_t)PATH_MAX - used) {
        snprintf(error, error_size,
                 "the %s is too long once made absolute (%zu + %zu bytes, at most %zu): %s", what,
                 used, strlen(*path) + 1, (size_t)PATH_MAX - 1, *path);
        return -1;
    }
    *path = slot;
    return 0;
}

int server_command_build(const server_settings *settings, server_command *command, char *error,
                         size_t error_size)
{
    memset(command, 0, sizeof *command);
    server_rdma_style style = server_version_rdma_style(settings->version);
    char version[32];
    server_version_format(settings->version, version, sizeof version);
    if (style == SERVER_RDMA_UNSUPPORTED) {
        snprintf(error, error_size, "Valkey %s has no RDMA (it came in 8.0)", version);
        return -1;
    }
    if (style == SERVER_RDMA_MODULE_ARGUMENTS && settings->rdma_module_path == NULL) {
        snprintf(error, error_size, "Valkey %s has RDMA only as a module: give --rdma-module",
                 version);
        return -1;
    }
    if (style == SERVER_RDMA_MODULE_ARGUMENTS && settings->rdma_rx_size > 0) {
        snprintf(error, error_size, "Valkey %s has no rdma-rx-size setting (it came in 8.1)",
                 version);
        return -1;
    }
    if (settings->io_threads < 1) {
        snprintf(error, error_size, "io_threads must be at least 1");
        return -1;
    }
    const char *working_dir = settings->working_dir, *log_file = settings->log_file;
    const char *module = settings->rdma_module_path;
    if (absolute_path(command->paths[0], "working folder", &working_dir, error, error_size) != 0 ||
        absolute_path(command->paths[1], "log file", &log_file, error, error_size) != 0 ||
        absolute_path(command->paths[2], "RDMA module", &module, error, error_size) != 0)
        return -1;
    const char *port = format(command, "%d", settings->port);
    const char *io_threads = format(command, "%d", settings->io_threads);

    int rc = 0;
    rc |= add(command, settings->server_path);
    rc |= add(command, "--port");
    rc |= add(command, port);
    rc |= add(command, "--bind");
    rc |= add(command, TCP_BIND_ADDRESS);
    /* Clients reach the RDMA side from the test bed's own address, which protected mode
     * would refuse; both listeners are bound to addresses private to the test bed. */
    rc |= add(command, "--protected-mode");
    rc |= add(command, "no");
    rc |= add(command, "--save");
    rc |= add(command, "");
    rc |= add(command, "--appendonly");
    rc |= add(command, "no");
    rc |= add(command, "--daemonize");
    rc |= add(command, "no");
    if (working_dir) {
        rc |= add(command, "--dir");
        rc |= add(command, working_dir);
    }
    if (log_file) {
        rc |= add(command, "--logfile");
        rc |= add(command, log_file);
    }
    rc |= add(command, "--io-threads");
    rc |= add(command, io_threads);
    if (settings->io_threads_always_active) {
        if (server_version_has_always_active_option(settings->version)) {
            rc |= add(command, "--io-threads-always-active");
            rc |= add(command, "yes");
        } else {
            /* 8.0.x: zero events per IO thread hands every event to the IO threads. */
            rc |= add(command, "--events-per-io-thread");
            rc |= add(command, "0");
        }
    }
    if (style == SERVER_RDMA_MODULE_ARGUMENTS) {
        rc |= add(command, "--loadmodule");
        rc |= add(command, module);
        rc |= add(command, format(command, "bind=%s", settings->rdma_address));
        rc |= add(command, format(command, "port=%d", settings->port));
    } else {
        if (module) {
            rc |= add(command, "--loadmodule");
            rc |= add(command, module);
        }
        rc |= add(command, "--rdma-bind");
        rc |= add(command, settings->rdma_address);
        rc |= add(command, "--rdma-port");
        rc |= add(command, port);
        if (settings->rdma_rx_size > 0) {
            rc |= add(command, "--rdma-rx-size");
            rc |= add(command, format(command, "%lld", settings->rdma_rx_size));
        }
    }
    for (int i = 0; i < settings->extra_count; i++) {
        const char *name = format(command, "--%s", settings->extra_names[i]);
        rc |= add(command, name);
        rc |= add(command, settings->extra_values[i]);
    }
    if (rc != 0) {
        snprintf(error, error_size, "too many server arguments");
        return -1;
    }
    return 0;
}
