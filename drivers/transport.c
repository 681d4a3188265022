#include "transport.h"

#include <string.h>

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
