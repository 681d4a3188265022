/*
 * server_version.h: what a valkey-server binary is, from its `--version` line, and how
 * that version wants RDMA and forced-active IO threads asked for.
 *
 * Promises: parsing accepts only a Valkey server's own line ("Valkey server v=X.Y.Z
 * ..."); anything else (a Redis server, a shell script, an empty output) is refused with
 * a message that says what was seen.
 */
#ifndef HARNESS_SERVER_VERSION_H
#define HARNESS_SERVER_VERSION_H

#include <stdbool.h>
#include <stddef.h>

typedef struct server_version {
    int major, minor, patch;
} server_version;

typedef enum server_rdma_style {
    /* 8.0.x: RDMA only as a module, configured by module arguments bind= and port=. */
    SERVER_RDMA_MODULE_ARGUMENTS,
    /* 8.1 and later: --rdma-bind and --rdma-port, module or built in. */
    SERVER_RDMA_CONFIG_OPTIONS,
    /* Before 8.0 there is no RDMA in Valkey. */
    SERVER_RDMA_UNSUPPORTED,
} server_rdma_style;

int server_version_parse(const char *version_output, server_version *version, char *error,
                         size_t error_size);
server_rdma_style server_version_rdma_style(server_version version);
/* "--events-per-io-thread 0" on 8.0.x, "--io-threads-always-active yes" later. */
bool server_version_has_always_active_option(server_version version);
int server_version_compare(server_version a, server_version b);
void server_version_format(server_version version, char *out, size_t out_size);

#endif
