#include "tcp_probe.h"
#include "monotonic_clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
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

int tcp_probe_ping(const char *address, int port, int timeout_ms, char *error, size_t error_size)
{
    static const char ping[] = "*1\r\n$4\r\nPING\r\n";
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
    if (send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof ping - 1)) {
        snprintf(error, error_size, "send PING to %s:%d failed", address, port);
        goto done;
    }
    char reply[64];
    size_t used = 0;
    while (used < sizeof reply - 1) {
        if (wait_ready(fd, POLLIN, deadline) != 0) {
            snprintf(error, error_size, "no reply to PING from %s:%d within %d ms", address, port,
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
    if (strncmp(reply, "+PONG\r\n", 7) == 0) {
        rc = 0;
    } else {
        reply[strcspn(reply, "\r\n")] = '\0';
        snprintf(error, error_size, "PING to %s:%d answered \"%s\"", address, port, reply);
    }
done:
    close(fd);
    return rc;
}
