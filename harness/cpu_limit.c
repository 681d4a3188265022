#include "cpu_limit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "write_all.h"

/* Writes text to root/name (a cgroup control file). 0, or -1 with error set. */
static int write_control(const char *folder, const char *name, const char *text, char *error,
                         size_t error_size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, error_size, "cpu limit: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = write_all(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    if (rc != 0) {
        snprintf(error, error_size, "cpu limit: writing \"%s\" to %s: %s", text, path,
                 strerror(saved));
        return -1;
    }
    return 0;
}

int cpu_limit_apply(const char *root, pid_t pid, int percent, char *path, size_t path_size,
                    char *error, size_t error_size)
{
    path[0] = '\0';
    if (percent < 1 || percent > CPU_LIMIT_MAX_PERCENT) {
        snprintf(error, error_size, "cpu limit: %d%% is not between 1 and %d", percent,
                 CPU_LIMIT_MAX_PERCENT);
        return -1;
    }
    /* The cpu controller must be on for the root's children; "+cpu" is idempotent. */
    if (write_control(root, "cgroup.subtree_control", "+cpu", error, error_size) != 0)
        return -1;
    char folder[1024];
    snprintf(folder, sizeof folder, "%s/valkey-rdma-harness-%ld", root, (long)pid);
    if (mkdir(folder, 0755) != 0 && errno != EEXIST) {
        snprintf(error, error_size, "cpu limit: cannot make %s: %s", folder, strerror(errno));
        return -1;
    }
    char quota[64];
    snprintf(quota, sizeof quota, "%ld %d", (long)percent * CPU_LIMIT_PERIOD_US / 100,
             CPU_LIMIT_PERIOD_US);
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "%ld", (long)pid);
    if (write_control(folder, "cpu.max", quota, error, error_size) != 0 ||
        write_control(folder, "cgroup.procs", pid_text, error, error_size) != 0) {
        rmdir(folder);
        return -1;
    }
    snprintf(path, path_size, "%s", folder);
    return 0;
}

void cpu_limit_release(char *path)
{
    if (path[0] == '\0')
        return;
    rmdir(path);
    path[0] = '\0';
}
