/*
 * tcp_probe.h: one PING to a server over TCP, with a deadline on every step (connect,
 * send, reply). Used to tell whether a server answers, and later by the watchdog to
 * probe the main thread on a connection of its own.
 */
#ifndef HARNESS_TCP_PROBE_H
#define HARNESS_TCP_PROBE_H

#include <stddef.h>

/* Sends request (RESP bytes) on a fresh connection and copies the first line of the
 * reply, without its CRLF, into reply_line. 0 when a line came within timeout_ms; -1 with
 * error set otherwise. */
int tcp_request_line(const char *address, int port, int timeout_ms, const char *request,
                     char *reply_line, size_t reply_size, char *error, size_t error_size);

/* Sends request (RESP bytes) on a fresh connection and copies the whole reply, when it
 * is a bulk string (e.g. CLIENT LIST), into reply (NUL-terminated, cut at reply_size - 1).
 * 0 when the reply came whole within timeout_ms; -1 with error set otherwise. */
int tcp_request_bulk(const char *address, int port, int timeout_ms, const char *request,
                     char *reply, size_t reply_size, char *error, size_t error_size);

/* 0 when the server answered +PONG within timeout_ms; -1 with error set otherwise. */
int tcp_probe_ping(const char *address, int port, int timeout_ms, char *error, size_t error_size);

/* Sends one command (words, no shell, no quoting needed) and waits for a one-line reply
 * equal to expected (e.g. "+OK"). 0 on that reply; -1 with error set otherwise. */
int tcp_probe_command(const char *address, int port, int timeout_ms, const char *const *words,
                      size_t word_count, const char *expected, char *error, size_t error_size);

#endif
