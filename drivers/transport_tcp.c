/*
 * transport_tcp.c: the transport interface over one non-blocking TCP socket. The connect
 * deadline is enforced in tick; EPOLLOUT is armed only while connecting or while a write
 * came up short, so an idle connection raises no events.
 */
#include "monotonic_clock.h"
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS 1000000LL

struct transport_connection {
    transport_watch watch;
    int epoll_fd;
    int fd;
    transport_state state;
    bool watched;      /* the fd is in the caller's epoll set */
    bool output_armed; /* EPOLLOUT is in the registered event mask */
    int64_t connect_deadline_ns;
    char peer[64];   /* "host:port", for error messages */
    char error[320]; /* prefix, peer and reason always fit */
    transport_counters counters;
};

static void tcp_fail(transport_connection *connection, transport_state state, const char *format,
                     ...)
{
    if (connection->state == TRANSPORT_FAILED || connection->state == TRANSPORT_CLOSED)
        return;
    char reason[192];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof(reason), format, args);
    va_end(args);
    snprintf(connection->error, sizeof(connection->error), "tcp %s: %s", connection->peer, reason);
    connection->state = state;
    /* A dead socket stays readable forever: keep it from spinning the caller's loop. */
    if (connection->watched) {
        epoll_ctl(connection->epoll_fd, EPOLL_CTL_DEL, connection->fd, NULL);
        connection->watched = false;
    }
}

static int tcp_update_interest(transport_connection *connection, bool want_output)
{
    if (!connection->watched || connection->output_armed == want_output)
        return 0;
    struct epoll_event event = {.events = EPOLLIN | (want_output ? EPOLLOUT : 0),
                                .data.ptr = &connection->watch};
    if (epoll_ctl(connection->epoll_fd, EPOLL_CTL_MOD, connection->fd, &event) != 0) {
        tcp_fail(connection, TRANSPORT_FAILED, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    connection->output_armed = want_output;
    return 0;
}

static transport_connection *tcp_open(const transport_options *options, int epoll_fd, char *error,
                                      size_t error_size)
{
    struct addrinfo *address = transport_resolve_numeric("tcp", options, error, error_size);
    if (address == NULL) {
        return NULL;
    }

    transport_connection *connection = calloc(1, sizeof(*connection));
    if (connection == NULL) {
        freeaddrinfo(address);
        snprintf(error, error_size, "tcp %s:%d: out of memory", options->host, options->port);
        return NULL;
    }
    connection->fd = -1;
    connection->epoll_fd = epoll_fd;
    connection->state = TRANSPORT_CONNECTING;
    snprintf(connection->peer, sizeof(connection->peer), "%s:%d", options->host, options->port);
    int timeout_ms = options->connect_timeout_ms > 0 ? options->connect_timeout_ms
                                                     : TRANSPORT_DEFAULT_CONNECT_TIMEOUT_MS;
    connection->connect_deadline_ns = monotonic_ns() + timeout_ms * NS_PER_MS;

    connection->fd =
        socket(address->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (connection->fd < 0) {
        snprintf(error, error_size, "tcp %s: socket: %s", connection->peer, strerror(errno));
        goto fail;
    }
    /* Requests are small and latency is what we measure. */
    int one = 1;
    setsockopt(connection->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(connection->fd, address->ai_addr, address->ai_addrlen) != 0 &&
        errno != EINPROGRESS) {
        snprintf(error, error_size, "tcp %s: connect: %s", connection->peer, strerror(errno));
        goto fail;
    }

    connection->watch = (transport_watch){.transport = &transport_tcp,
                                          .connection = connection,
                                          .owner = options->owner,
                                          .fd = connection->fd};
    /* EPOLLOUT tells when the connect finished, either way. */
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.ptr = &connection->watch};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, connection->fd, &event) != 0) {
        snprintf(error, error_size, "tcp %s: epoll_ctl: %s", connection->peer, strerror(errno));
        goto fail;
    }
    connection->watched = true;
    connection->output_armed = true;
    freeaddrinfo(address);
    return connection;

fail:
    if (connection->fd >= 0)
        close(connection->fd);
    free(connection);
    freeaddrinfo(address);
    return NULL;
}

static int tcp_finish_connect(transport_connection *connection)
{
    int socket_error = 0;
    socklen_t length = sizeof(socket_error);
    if (getsockopt(connection->fd, SOL_SOCKET, SO_ERROR, &socket_error, &length) != 0)
        socket_error = errno;
    if (socket_error != 0) {
        tcp_fail(connection, TRANSPORT_FAILED, "connect: %s", strerror(socket_error));
        return -1;
    }
    connection->state = TRANSPORT_READY;
    return tcp_update_interest(connection, false);
}

static int tcp_handle_event(transport_connection *connection, transport_watch *watch,
                            uint32_t events)
{
    (void)watch;
    if (connection->state == TRANSPORT_CONNECTING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            return tcp_finish_connect(connection);
        return 0;
    }
    if (connection->state != TRANSPORT_READY)
        return -1;
    /* The caller retries its output after this call; stop asking until it comes up short. */
    if ((events & EPOLLOUT) && tcp_update_interest(connection, false) != 0)
        return -1;
    /* EPOLLIN, EPOLLHUP and EPOLLERR are all discovered by the caller's next read. */
    return 0;
}

static int tcp_tick(transport_connection *connection, int64_t now_ns)
{
    if (connection->state == TRANSPORT_CONNECTING && now_ns >= connection->connect_deadline_ns) {
        tcp_fail(connection, TRANSPORT_FAILED, "connect timed out");
        return -1;
    }
    return connection->state == TRANSPORT_FAILED || connection->state == TRANSPORT_CLOSED ? -1 : 0;
}

static transport_state tcp_state(const transport_connection *connection)
{
    return connection->state;
}

static ssize_t tcp_read(transport_connection *connection, void *buffer, size_t size)
{
    if (connection->state == TRANSPORT_CONNECTING)
        return 0;
    if (connection->state != TRANSPORT_READY)
        return -1;
    if (size == 0)
        return 0;
    for (;;) {
        ssize_t got = recv(connection->fd, buffer, size, 0);
        if (got > 0) {
            connection->counters.bytes_in += (uint64_t)got;
            return got;
        }
        if (got == 0) {
            tcp_fail(connection, TRANSPORT_CLOSED, "closed by the peer");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        tcp_fail(connection, TRANSPORT_FAILED, "recv: %s", strerror(errno));
        return -1;
    }
}

static ssize_t tcp_write(transport_connection *connection, const void *buffer, size_t size)
{
    if (connection->state == TRANSPORT_CONNECTING)
        return 0;
    if (connection->state != TRANSPORT_READY)
        return -1;
    if (size == 0)
        return 0;
    for (;;) {
        ssize_t sent = send(connection->fd, buffer, size, MSG_NOSIGNAL);
        if (sent >= 0) {
            connection->counters.bytes_out += (uint64_t)sent;
            if ((size_t)sent < size && tcp_update_interest(connection, true) != 0)
                return -1;
            return sent;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return tcp_update_interest(connection, true) == 0 ? 0 : -1;
        tcp_fail(connection, TRANSPORT_FAILED, "send: %s", strerror(errno));
        return -1;
    }
}

static const char *tcp_error(const transport_connection *connection)
{
    return connection->error;
}

/* TCP carries RESP directly: it has no protocol of its own for a peer to break. */
static transport_failure tcp_failure(const transport_connection *connection)
{
    return connection->state == TRANSPORT_FAILED ? TRANSPORT_FAILURE_WIRE : TRANSPORT_FAILURE_NONE;
}

static void tcp_counters(const transport_connection *connection, transport_counters *out)
{
    *out = connection->counters;
}

static void tcp_close(transport_connection *connection)
{
    if (connection == NULL)
        return;
    if (connection->watched)
        epoll_ctl(connection->epoll_fd, EPOLL_CTL_DEL, connection->fd, NULL);
    close(connection->fd);
    free(connection);
}

/* A linger time of zero makes close() send a reset at once instead of a FIN after the
 * unsent data: the server sees the connection die mid-request, as when a client is
 * killed. */
static void tcp_abort(transport_connection *connection)
{
    if (connection == NULL)
        return;
    struct linger reset_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(connection->fd, SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof(reset_on_close));
    tcp_close(connection);
}

const transport transport_tcp = {
    .name = "tcp",
    .open = tcp_open,
    .handle_event = tcp_handle_event,
    .tick = tcp_tick,
    .state = tcp_state,
    .read = tcp_read,
    .write = tcp_write,
    .error = tcp_error,
    .failure = tcp_failure,
    .counters = tcp_counters,
    .close = tcp_close,
    .abort = tcp_abort,
};
