#include "server_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process.h"

/* A Debian source download and a two-minute build; half an hour covers a slow host. */
#define PROVISION_TIMEOUT_MS (30 * 60 * 1000)
#define VERSION_TIMEOUT_MS 10000

static int absolute_path(const char *path, char *out, size_t out_size)
{
    char resolved[PATH_MAX];
    if (!realpath(path, resolved))
        return -1;
    snprintf(out, out_size, "%s", resolved);
    return 0;
}

int server_build_read_version(const char *server_path, server_version *version, char *error,
                              size_t error_size)
{
    struct stat info;
    if (stat(server_path, &info) != 0) {
        snprintf(error, error_size, "--server %s: no such file", server_path);
        return EXIT_USAGE;
    }
    if (!S_ISREG(info.st_mode) || access(server_path, X_OK) != 0) {
        snprintf(error, error_size, "--server %s: not an executable file", server_path);
        return EXIT_USAGE;
    }
    char *argv[] = {(char *)server_path, "--version", NULL};
    char output[512], run_error[256];
    int rc = process_run_capture(argv, VERSION_TIMEOUT_MS, output, sizeof output, run_error,
                                 sizeof run_error);
    if (rc != 0) {
        snprintf(error, error_size, "%s --version failed: %s", server_path,
                 rc < 0 ? run_error : "non-zero exit");
        return EXIT_USAGE;
    }
    char parse_error[256];
    if (server_version_parse(output, version, parse_error, sizeof parse_error) != 0) {
        snprintf(error, error_size, "%s: %s", server_path, parse_error);
        return EXIT_USAGE;
    }
    return 0;
}

/* Runs harness/provision/valkey.sh; its last line is the ready folder. */
static int provision(const char *repo_root, char *const arguments[], char *folder,
                     size_t folder_size, char *error, size_t error_size)
{
    char script[PATH_MAX];
    snprintf(script, sizeof script, "%s/harness/provision/valkey.sh", repo_root);
    char *argv[8] = {script};
    for (int i = 0; arguments[i] && i < 6; i++)
        argv[i + 1] = arguments[i];
    char output[PATH_MAX * 2], run_error[256];
    int rc = process_run_capture(argv, PROVISION_TIMEOUT_MS, output, sizeof output, run_error,
                                 sizeof run_error);
    if (rc != 0) {
        if (process_interrupted())
            snprintf(error, error_size, "interrupted while provisioning Valkey");
        else if (rc < 0)
            snprintf(error, error_size, "provisioning Valkey: %s", run_error);
        else
            snprintf(error, error_size, "provisioning Valkey failed (see the lines above)");
        return rc == EXIT_USAGE ? EXIT_USAGE : EXIT_ENVIRONMENT;
    }
    size_t length = strlen(output);
    while (length > 0 && output[length - 1] == '\n')
        output[--length] = '\0';
    char *last_line = strrchr(output, '\n');
    snprintf(folder, folder_size, "%s", last_line ? last_line + 1 : output);
    return 0;
}

static void fill_from_folder(server_build *build, const char *folder, bool server_too)
{
    snprintf(build->cli_path, sizeof build->cli_path, "%s/valkey-cli", folder);
    snprintf(build->benchmark_path, sizeof build->benchmark_path, "%s/valkey-benchmark", folder);
    if (server_too) {
        snprintf(build->server_path, sizeof build->server_path, "%s/valkey-server", folder);
        snprintf(build->rdma_module_path, sizeof build->rdma_module_path, "%s/valkey-rdma.so",
                 folder);
    }
}

int server_build_resolve(const cli_options *options, const char *repo_root, const char *cache_dir,
                         server_build *build, char *error, size_t error_size)
{
    memset(build, 0, sizeof *build);
    /* Validate the user's files first: a typo should not cost a download. */
    if (options->server_path) {
        server_version version;
        int rc = server_build_read_version(options->server_path, &version, error, error_size);
        if (rc != 0)
            return rc;
        if (options->rdma_module_path && access(options->rdma_module_path, R_OK) != 0) {
            snprintf(error, error_size, "--rdma-module %s: no such file",
                     options->rdma_module_path);
            return EXIT_USAGE;
        }
    }

    if (options->valkey_source) {
        char marker[PATH_MAX];
        snprintf(marker, sizeof marker, "%s/src/server.h", options->valkey_source);
        struct stat info;
        if (stat(options->valkey_source, &info) != 0 || !S_ISDIR(info.st_mode)) {
            snprintf(error, error_size, "--valkey-src %s: no such folder", options->valkey_source);
            return EXIT_USAGE;
        }
        if (access(marker, R_OK) != 0) {
            snprintf(error, error_size,
                     "--valkey-src %s is not a Valkey source tree (no src/server.h)",
                     options->valkey_source);
            return EXIT_USAGE;
        }
    }

    char default_folder[PATH_MAX];
    char *default_arguments[] = {"default", (char *)cache_dir, SERVER_BUILD_PINNED_VERSION, NULL};
    int rc = provision(repo_root, default_arguments, default_folder, sizeof default_folder, error,
                       error_size);
    if (rc != 0)
        return rc;
    fill_from_folder(build, default_folder, true);
    snprintf(build->origin, sizeof build->origin, "Debian source package, built with RDMA (%s)",
             default_folder);

    if (options->valkey_source) {
        char source_folder[PATH_MAX];
        char *source_arguments[] = {"source", (char *)cache_dir, (char *)options->valkey_source,
                                    NULL};
        rc = provision(repo_root, source_arguments, source_folder, sizeof source_folder, error,
                       error_size);
        if (rc != 0)
            return rc;
        snprintf(build->server_path, sizeof build->server_path, "%s/valkey-server", source_folder);
        snprintf(build->rdma_module_path, sizeof build->rdma_module_path, "%s/valkey-rdma.so",
                 source_folder);
        snprintf(build->origin, sizeof build->origin, "--valkey-src %s", options->valkey_source);
    } else if (options->server_path) {
        absolute_path(options->server_path, build->server_path, sizeof build->server_path);
        build->rdma_module_path[0] = '\0';
        if (options->rdma_module_path)
            absolute_path(options->rdma_module_path, build->rdma_module_path,
                          sizeof build->rdma_module_path);
        snprintf(build->origin, sizeof build->origin, "--server %s", options->server_path);
    }
    rc = server_build_read_version(build->server_path, &build->version, error, error_size);
    if (rc != 0)
        return options->server_path ? rc : EXIT_ENVIRONMENT;
    server_version_format(build->version, build->version_text, sizeof build->version_text);
    return 0;
}
