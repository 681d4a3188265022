#include "server_version.h"

#include <stdio.h>
#include <string.h>

#define VALKEY_VERSION_PREFIX "Valkey server v="

int server_version_parse(const char *version_output, server_version *version, char *error,
                         size_t error_size)
{
    const char *found = strstr(version_output, VALKEY_VERSION_PREFIX);
    if (found == NULL) {
        char first_line[80];
        size_t length = strcspn(version_output, "\n");
        if (length >= sizeof first_line)
            length = sizeof first_line - 1;
        memcpy(first_line, version_output, length);
        first_line[length] = '\0';
        snprintf(error, error_size, "not a Valkey server: --version printed \"%s\"", first_line);
        return -1;
    }
    int consumed = 0;
    server_version parsed = {0};
    if (sscanf(found + strlen(VALKEY_VERSION_PREFIX), "%d.%d.%d%n", &parsed.major, &parsed.minor,
               &parsed.patch, &consumed) != 3 ||
        parsed.major < 0 || parsed.minor < 0 || parsed.patch < 0) {
        snprintf(error, error_size, "cannot read the version number after \"%s\"",
                 VALKEY_VERSION_PREFIX);
        return -1;
    }
    *version = parsed;
    return 0;
}

int server_version_compare(server_version a, server_version b)
{
    if (a.major != b.major)
        return a.major < b.major ? -1 : 1;
    if (a.minor != b.minor)
        return a.minor < b.minor ? -1 : 1;
    if (a.patch != b.patch)
        return a.patch < b.patch ? -1 : 1;
    return 0;
}

server_rdma_style server_version_rdma_style(server_version version)
{
    if (server_version_compare(version, (server_version){8, 0, 0}) < 0)
        return SERVER_RDMA_UNSUPPORTED;
    if (server_version_compare(version, (server_version){8, 1, 0}) < 0)
        return SERVER_RDMA_MODULE_ARGUMENTS;
    return SERVER_RDMA_CONFIG_OPTIONS;
}

bool server_version_has_always_active_option(server_version version)
{
    return server_version_compare(version, (server_version){8, 1, 0}) >= 0;
}

void server_version_format(server_version version, char *out, size_t out_size)
{
    snprintf(out, out_size, "%d.%d.%d", version.major, version.minor, version.patch);
}
