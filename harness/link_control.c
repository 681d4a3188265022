#include "link_control.h"
#include "monotonic_clock.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* How often the port state is read again while waiting for it to become active. */
#define PORT_POLL_INTERVAL_MS 50
/* sysfs writes the state as "4: ACTIVE"; the number is the IB port state. */
#define PORT_STATE_ACTIVE "4: ACTIVE"

/* Opens the socket the interface ioctls go through and fills request with the name. */
static int open_request(const char *netdev, struct ifreq *request, char *error, size_t error_size)
{
    if (netdev == NULL || netdev[0] == '\0' || strlen(netdev) >= sizeof request->ifr_name) {
        snprintf(error, error_size, "\"%s\" is not a network interface name", netdev ? netdev : "");
        return -1;
    }
    memset(request, 0, sizeof *request);
    memcpy(request->ifr_name, netdev, strlen(netdev));
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        snprintf(error, error_size, "%s: cannot open a socket: %s", netdev, strerror(errno));
    return fd;
}

int link_control_is_up(const char *netdev, bool *up, char *error, size_t error_size)
{
    struct ifreq request;
    int fd = open_request(netdev, &request, error, error_size);
    if (fd < 0)
        return -1;
    int rc = ioctl(fd, SIOCGIFFLAGS, &request);
    int saved_errno = errno;
    close(fd);
    if (rc != 0) {
        snprintf(error, error_size, "%s: cannot read its flags: %s", netdev, strerror(saved_errno));
        return -1;
    }
    *up = (request.ifr_flags & IFF_UP) != 0;
    return 0;
}

int link_control_set_up(const char *netdev, bool up, char *error, size_t error_size)
{
    struct ifreq request;
    int fd = open_request(netdev, &request, error, error_size);
    if (fd < 0)
        return -1;
    int rc = ioctl(fd, SIOCGIFFLAGS, &request);
    if (rc == 0) {
        if (up)
            request.ifr_flags |= IFF_UP;
        else
            request.ifr_flags &= ~IFF_UP;
        rc = ioctl(fd, SIOCSIFFLAGS, &request);
    }
    int saved_errno = errno;
    close(fd);
    if (rc != 0) {
        snprintf(error, error_size, "%s: cannot bring it %s: %s", netdev, up ? "up" : "down",
                 strerror(saved_errno));
        return -1;
    }
    return 0;
}

int link_control_wait_port_active(const char *rdma_device, int timeout_ms, char *error,
                                  size_t error_size)
{
    char path[256], state[64] = "";
    snprintf(path, sizeof path, "/sys/class/infiniband/%s/ports/1/state", rdma_device);
    long long deadline = monotonic_ms() + timeout_ms;
    for (;;) {
        FILE *file = fopen(path, "re");
        if (file == NULL) {
            snprintf(error, error_size, "%s: cannot read the port state: %s", rdma_device,
                     strerror(errno));
            return -1;
        }
        if (!fgets(state, sizeof state, file))
            state[0] = '\0';
        fclose(file);
        state[strcspn(state, "\n")] = '\0';
        if (strcmp(state, PORT_STATE_ACTIVE) == 0)
            return 0;
        if (monotonic_ms() >= deadline)
            break;
        poll(NULL, 0, PORT_POLL_INTERVAL_MS);
    }
    snprintf(error, error_size, "%s: port 1 is still \"%s\" after %d ms", rdma_device, state,
             timeout_ms);
    return -1;
}
