#include "tcp_probe.h"
#include "monotonic_clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int wait_ready(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - monotonic_ms();
        if (left <= 0)
            return -1;
        struct pollfd watched = {.fd = fd, .events = events};
        int rc = poll(&watched, 1, (int)left);
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

int tcp_probe_command(const char *address, int port, int timeout_ms, const char *const *words,
                      size_t word_count, const char *expected, char *error, size_t error_size)
{
    char request[1024];
    int request_length = snprintf(request, sizeof request, "*%zu\r\n", word_count);
    for (size_t i = 0; i < word_count && request_length < (int)sizeof request; i++)
        request_length +=
            snprintf(request + request_length, sizeof request - (size_t)request_length,
                     "$%zu\r\n%s\r\n", strlen(words[i]), words[i]);
    if (request_length >= (int)sizeof request) {
        snprintf(error, error_size, "command too long for a probe");
        return -1;
    }
    const char *name = word_count > 0 ? words[0] : "";
    long long deadline = monotonic_ms() + timeout_ms;
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, address, &server.sin_addr) != 1) {
        snprintf(error, error_size, "not an IPv4 address: %s", address);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(error, error_size, "socket: %s", strerror(errno));
        return -1;
    }
    int rc = -1;
    if (connect(fd, (struct sockaddr *)&server, sizeof server) != 0 && errno != EINPROGRESS) {
        snprintf(error, error_size, "connect to %s:%d: %s", address, port, strerror(errno));
        goto done;
    }
    if (wait_ready(fd, POLLOUT, deadline) != 0) {
        snprintf(error, error_size, "connect to %s:%d: no answer within %d ms", address, port,
                 timeout_ms);
        goto done;
    }
    int socket_error = 0;
    socklen_t length = sizeof socket_error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &length);
    if (socket_error != 0) {
        snprintf(error, error_size, "connect to %s:%d: %s", address, port, strerror(socket_error));
        goto done;
    }
    if (send(fd, request, (size_t)request_length, MSG_NOSIGNAL) != (ssize_t)request_length) {
        snprintf(error, error_size, "send %s to %s:%d failed", name, address, port);
        goto done;
    }
    char reply[64];
    size_t used = 0;
    while (used < sizeof reply - 1) {
        if (wait_ready(fd, POLLIN, deadline) != 0) {
            snprintf(error, error_size, "no reply to %s from %s:%d within %d ms", name, address,
                     port, timeout_ms);
            goto done;
        }
        ssize_t got = recv(fd, reply + used, sizeof reply - 1 - used, 0);
        if (got <= 0) {
            snprintf(error, error_size, "%s:%d closed the connection before replying", address,
                     port);
            goto done;
        }
        used += (size_t)got;
        reply[used] = '\0';
        if (strstr(reply, "\r\n"))
            break;
    }
    size_t expected_length = strlen(expected);
    if (strncmp(reply, expected, expected_length) == 0 &&
        strncmp(reply + expected_length, "\r\n", 2) == 0) {
        rc = 0;
    } else {
        reply[strcspn(reply, "\r\n")] = '\0';
        snprintf(error, error_size, "%s to %s:%d answered \"%s\"", name, address, port, reply);
    }
done:
    close(fd);
    return rc;
}

int tcp_probe_ping(const char *address, int port, int timeout_ms, char *error, size_t error_size)
{
    const char *const ping[] = {"PING"};
    return tcp_probe_command(address, port, timeout_ms, ping, 1, "+PONG", error, error_size);
}

/* A fresh non-blocking connection with request sent, or -1 with error set. */
static int connect_and_send(const char *address, int port, const char *request, long long deadline,
                            char *error, size_t error_size)
{
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, address, &server.sin_addr) != 1) {
        snprintf(error, error_size, "not an IPv4 address: %s", address);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(error, error_size, "socket: %s", strerror(errno));
        return -1;
    }
    int socket_error = 0;
    socklen_t length = sizeof socket_error;
    size_t request_length = strlen(request);
    if ((connect(fd, (struct sockaddr *)&server, sizeof server) != 0 && errno != EINPROGRESS) ||
        wait_ready(fd, POLLOUT, deadline) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &length) != 0 || socket_error != 0 ||
        send(fd, request, request_length, MSG_NOSIGNAL) != (ssize_t)request_length) {
        snprintf(error, error_size, "could not send a command to %s:%d", address, port);
        close(fd);
        return -1;
    }
    return fd;
}

int tcp_request_line(const char *address, int port, int timeout_ms, const char *request,
                     char *reply_line, size_t reply_size, char *error, size_t error_size)
{
    long long deadline = monotonic_ms() + timeout_ms;
    int fd = connect_and_send(address, port, request, deadline, error, error_size);
    if (fd < 0)
        return -1;
    char reply[256];
    size_t used = 0;
    int rc = -1;
    while (used < sizeof reply - 1) {
        if (wait_ready(fd, POLLIN, deadline) != 0) {
            snprintf(error, error_size, "no reply from %s:%d within %d ms", address, port,
                     timeout_ms);
            goto done;
        }
        ssize_t got = recv(fd, reply + used, sizeof reply - 1 - used, 0);
        if (got <= 0) {
            snprintf(error, error_size, "%s:%d closed the connection before replying", address,
                     port);
            goto done;
        }
        used += (size_t)got;
        reply[used] = '\0';
        if (strstr(reply, "\r\n"))
            break;
    }
    if (!strstr(reply, "\r\n")) {
        snprintf(error, error_size, "the reply from %s:%d has no line end in %zu bytes", address,
                 port, used);
        goto done;
    }
    reply[strcspn(reply, "\r\n")] = '\0';
    snprintf(reply_line, reply_size, "%s", reply);
    rc = 0;
done:
    close(fd);
    return rc;
}

int tcp_request_bulk(const char *address, int port, int timeout_ms, const char *request,
                     char *reply, size_t reply_size, char *error, size_t error_size)
{
    long long deadline = monotonic_ms() + timeout_ms;
    int fd = connect_and_send(address, port, request, deadline, error, error_size);
    if (fd < 0)
        return -1;
    int rc = -1;
    size_t used = 0;
    long long expected = -1; /* whole reply length, once the header is in */
    while (expected < 0 || (long long)used < expected) {
        if (used + 1 >= reply_size)
            break; /* cut: what fits is kept */
        if (wait_ready(fd, POLLIN, deadline) != 0) {
            snprintf(error, error_size, "no whole reply from %s:%d within %d ms", address, port,
                     timeout_ms);
            goto done;
        }
        ssize_t got = recv(fd, reply + used, reply_size - 1 - used, 0);
        if (got <= 0) {
            snprintf(error, error_size, "%s:%d closed the connection before replying", address,
                     port);
            goto done;
        }
        used += (size_t)got;
        reply[used] = '\0';
        char *line_end = strstr(reply, "\r\n");
        if (expected < 0 && line_end != NULL) {
            if (reply[0] != '$') {
                *line_end = '\0';
                snprintf(error, error_size, "%s:%d answered \"%s\"", address, port, reply);
                goto done;
            }
            expected = (line_end - reply) + 2 + atoll(reply + 1) + 2;
        }
    }
    rc = 0;
done:
    close(fd);
    return rc;
}
