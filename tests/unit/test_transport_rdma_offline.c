/* What the RDMA transport must do on a host with no usable RDMA device: refuse or fail
 * with one line, within its deadline, and leave nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"
#include "transport_rdma.h"

#define OPEN_CLOSE_ROUNDS 100

static int64_t now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static int open_fd_count(void)
{
    int count = 0;
    DIR *directory = opendir("/proc/self/fd");
    for (struct dirent *entry; (entry = readdir(directory)) != NULL;)
        count += entry->d_name[0] != '.';
    closedir(directory);
    return count;
}

static void assert_nothing_live(void)
{
    transport_rdma_resources live;
    transport_rdma_live_resources(&live);
    assert_int_equal(live.connections, 0);
    assert_int_equal(live.event_channels, 0);
    assert_int_equal(live.cm_ids, 0);
    assert_int_equal(live.protection_domains, 0);
    assert_int_equal(live.memory_regions, 0);
    assert_int_equal(live.completion_channels, 0);
    assert_int_equal(live.completion_queues, 0);
    assert_int_equal(live.queue_pairs, 0);
}

/* Opens to an address no RDMA device serves: open refuses it, or tick ends it. */
static void open_and_fail(int epoll_fd)
{
    transport_options options = {.host = "192.0.2.77", .port = 6379, .connect_timeout_ms = 200};
    char error[320] = "";
    transport_connection *connection =
        transport_rdma.open(&options, epoll_fd, error, sizeof(error));
    if (connection == NULL) {
        assert_true(strncmp(error, "rdma 192.0.2.77:6379: ", 22) == 0);
        assert_null(strchr(error, '\n'));
        return;
    }
    assert_int_equal(transport_rdma.tick(connection, now_ns() + 1000 * 1000000LL), -1);
    assert_int_equal(transport_rdma.state(connection), TRANSPORT_FAILED);
    assert_non_null(strstr(transport_rdma.error(connection), "timed out"));
    char byte;
    assert_int_equal(transport_rdma.read(connection, &byte, 1), -1);
    assert_int_equal(transport_rdma.write(connection, "x", 1), -1);
    transport_rdma.close(connection);
}

static void unreachable_server_fails_in_one_line_and_leaks_nothing(void **state)
{
    (void)state;
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    open_and_fail(epoll_fd); /* the first open may load provider libraries and keep fds */
    int fds_before = open_fd_count();
    for (int i = 0; i < OPEN_CLOSE_ROUNDS; i++)
        open_and_fail(epoll_fd);
    assert_int_equal(open_fd_count(), fds_before);
    assert_nothing_live();
    close(epoll_fd);
}

static void receive_buffer_size_out_of_range_is_refused(void **state)
{
    (void)state;
    transport_options options = {.host = "192.0.2.1", .port = 6379, .rdma_rx_bytes = 16};
    char error[320] = "";
    assert_null(transport_rdma.open(&options, -1, error, sizeof(error)));
    assert_non_null(strstr(error, "receive buffer of 16 bytes"));
    options.rdma_rx_bytes = (size_t)1 << 31;
    assert_null(transport_rdma.open(&options, -1, error, sizeof(error)));
    assert_nothing_live();
}

static void bad_address_is_refused_at_open(void **state)
{
    (void)state;
    transport_options options = {.host = "valkey.example", .port = 6379};
    char error[320] = "";
    assert_null(transport_rdma.open(&options, -1, error, sizeof(error)));
    assert_non_null(strstr(error, "bad address"));
    assert_nothing_live();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unreachable_server_fails_in_one_line_and_leaks_nothing),
        cmocka_unit_test(receive_buffer_size_out_of_range_is_refused),
        cmocka_unit_test(bad_address_is_refused_at_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
