#include "transport.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

const transport *transport_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    if (strcmp(name, transport_tcp.name) == 0)
        return &transport_tcp;
    if (strcmp(name, transport_rdma.name) == 0)
        return &transport_rdma;
    return NULL;
}

struct addrinfo *transport_resolve_numeric(const char *wire, const transport_options *options,
                                           char *error, size_t error_size)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", options->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *address = NULL;
    int rc = getaddrinfo(options->host, port, &hints, &address);
    if (rc != 0) {
        snprintf(error, error_size, "%s %s:%d: bad address: %s", wire, options->host, options->port,
                 gai_strerror(rc));
        return NULL;
    }
    return address;
}
