/*
 * server_build.h: which Valkey is under test, and the Valkey tools beside it.
 *
 * Promises:
 * - The default is Valkey built with RDMA from Debian's source package, pinned to
 *   SERVER_BUILD_PINNED_VERSION and cached; --valkey-src builds a user's tree into the
 *   cache; --server (with --rdma-module unless RDMA is built in) takes a user's build.
 * - The version is always read from `valkey-server --version`, never assumed.
 * - The tools (valkey-cli and valkey-benchmark with --rdma) always come from the default
 *   build, so an 8.0 server under test still gets an RDMA-capable valkey-cli.
 * - Errors: bad paths or files that are not Valkey are usage errors (EXIT_USAGE); a
 *   build or a download that fails is an environment error (EXIT_ENVIRONMENT).
 */
#ifndef HARNESS_SERVER_BUILD_H
#define HARNESS_SERVER_BUILD_H

#include <limits.h>

#include "cli.h"
#include "server_version.h"

#define SERVER_BUILD_PINNED_VERSION "9.1.2"

typedef struct server_build {
    char server_path[PATH_MAX];
    char rdma_module_path[PATH_MAX]; /* empty: RDMA built in */
    char cli_path[PATH_MAX];
    char benchmark_path[PATH_MAX];
    server_version version;
    char version_text[32];
    char origin[PATH_MAX + 32]; /* where it came from, in words */
} server_build;

/* Returns 0, or an exit code (EXIT_USAGE or EXIT_ENVIRONMENT) with error set. */
int server_build_resolve(const cli_options *options, const char *repo_root, const char *cache_dir,
                         server_build *build, char *error, size_t error_size);
/* Reads a server's version; 0, or EXIT_USAGE with error set. */
int server_build_read_version(const char *server_path, server_version *version, char *error,
                              size_t error_size);

#endif
