/*
 * server.h: the life cycle of one server under test: start it from its settings, wait
 * (bounded) until it answers, stop it politely and then by force.
 *
 * Promises: the server's stdout and stderr go to its log file; server_stop always
 * leaves the process reaped, whatever state it was in (running, stopped, gone).
 */
#ifndef HARNESS_SERVER_H
#define HARNESS_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "process.h"
#include "server_command.h"
#include "stop_cycle.h"

/* Under TCG emulation a server takes a few seconds to start; real hardware far less. */
#define SERVER_READY_TIMEOUT_MS 60000
#define SERVER_STOP_GRACE_MS 5000

typedef struct server {
    process process;
    int port;
    char log_path[512];
    char cgroup_path[1024]; /* empty: no CPU limit */
    stop_cycle pause;       /* started: stopped for a share of every period */
    double paused_share;    /* set by server_stop: the share of its life the pause held it */
} server;

int server_start(server *running, const server_settings *settings, char *error, size_t error_size);
/* Waits until the server answers PING over TCP; -1 with error when it exits or times out. */
int server_wait_ready(server *running, int timeout_ms, char *error, size_t error_size);
bool server_is_running(server *running);
void server_stop(server *running);

#endif
