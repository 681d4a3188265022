#include "stacks.h"
#include "write_all.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process.h"
#include "thread_cpu.h"

/* gdb output beyond this is cut: a thousand threads of deep stacks stay far below it. */
#define GDB_OUTPUT_MAX_BYTES (64 * 1024 * 1024)
/* gdb, once told to stop, detaches; give it this long before SIGKILL. */
#define GDB_STOP_GRACE_MS 2000

typedef struct stack_block {
    const char *start;
    size_t length;
    pid_t tid;
    bool written;
} stack_block;

/* A block header as gdb prints it: `Thread 3 (Thread 0x7f.. (LWP 1234) "io_thd_1"):` or,
 * without libthread_db, `Thread 1 (process 1234):`. */
static bool is_block_header(const char *line, pid_t *tid)
{
    if (strncmp(line, "Thread ", 7) != 0)
        return false;
    const char *end = strchr(line, '\n');
    size_t length = end ? (size_t)(end - line) : strlen(line);
    if (length < 2 || line[length - 1] != ':')
        return false;
    const char *marks[] = {"(LWP ", "(process "};
    for (size_t i = 0; i < 2; i++) {
        const char *found = strstr(line, marks[i]);
        if (found != NULL && found < line + length) {
            *tid = (pid_t)strtol(found + strlen(marks[i]), NULL, 10);
            return true;
        }
    }
    return false;
}

static const char *next_line(const char *line)
{
    const char *end = strchr(line, '\n');
    return end ? end + 1 : line + strlen(line);
}

char *stacks_order_spinning_first(const char *gdb_output, const pid_t *first_tids,
                                  size_t first_count, size_t *thread_count)
{
    size_t output_length = strlen(gdb_output);
    size_t capacity = 16, count = 0;
    stack_block *blocks = malloc(capacity * sizeof *blocks);
    /* Room for the whole output plus the section titles. */
    char *ordered = malloc(output_length + 256);
    if (blocks == NULL || ordered == NULL) {
        free(blocks);
        free(ordered);
        return NULL;
    }
    /* Everything that is not a stack block is gdb's own talk, kept for the end. */
    char *messages = malloc(output_length + 1);
    if (messages == NULL) {
        free(blocks);
        free(ordered);
        return NULL;
    }
    size_t messages_length = 0;
    stack_block *current = NULL;
    for (const char *line = gdb_output; *line != '\0'; line = next_line(line)) {
        pid_t tid;
        const char *after = next_line(line);
        if (is_block_header(line, &tid)) {
            if (count == capacity) {
                stack_block *more = realloc(blocks, 2 * capacity * sizeof *more);
                if (more == NULL) {
                    free(blocks);
                    free(ordered);
                    free(messages);
                    return NULL;
                }
                blocks = more;
                capacity *= 2;
            }
            current = &blocks[count++];
            *current = (stack_block){.start = line, .length = 0, .tid = tid};
        } else if (current != NULL && line[0] == '\n') {
            /* the blank line gdb prints after each thread ends its block */
            current->length = (size_t)(after - current->start);
            current = NULL;
            continue;
        } else if (current != NULL && strncmp(line, "[Inferior", 9) != 0) {
            /* a frame, or a note such as "Backtrace stopped: ..." */
        } else {
            current = NULL;
            memcpy(messages + messages_length, line, (size_t)(after - line));
            messages_length += (size_t)(after - line);
            continue;
        }
        current->length = (size_t)(after - current->start);
    }

    size_t used = 0;
    for (size_t f = 0; f < first_count; f++) {
        for (size_t b = 0; b < count; b++) {
            if (blocks[b].written || blocks[b].tid != first_tids[f])
                continue;
            memcpy(ordered + used, blocks[b].start, blocks[b].length);
            used += blocks[b].length;
            blocks[b].written = true;
        }
    }
    for (size_t b = 0; b < count; b++) {
        if (blocks[b].written)
            continue;
        memcpy(ordered + used, blocks[b].start, blocks[b].length);
        used += blocks[b].length;
    }
    if (messages_length > 0) {
        static const char title[] = "# gdb messages\n";
        memcpy(ordered + used, title, sizeof title - 1);
        used += sizeof title - 1;
        memcpy(ordered + used, messages, messages_length);
        used += messages_length;
    }
    ordered[used] = '\0';
    free(messages);
    free(blocks);
    if (thread_count != NULL)
        *thread_count = count;
    return ordered;
}

/* Reads the whole descriptor from its start, at most GDB_OUTPUT_MAX_BYTES. */
static char *read_all(int fd)
{
    struct stat status;
    if (fstat(fd, &status) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        return NULL;
    size_t size = (size_t)status.st_size;
    if (size > GDB_OUTPUT_MAX_BYTES)
        size = GDB_OUTPUT_MAX_BYTES;
    char *text = malloc(size + 1);
    if (text == NULL)
        return NULL;
    size_t used = 0;
    while (used < size) {
        ssize_t got = read(fd, text + used, size - used);
        if (got <= 0)
            break;
        used += (size_t)got;
    }
    text[used] = '\0';
    return text;
}

int stacks_capture(pid_t pid, const pid_t *spinning_tids, size_t spinning_count,
                   const char *output_path, int timeout_ms, char *error, size_t error_size)
{
    char raw_path[4096];
    snprintf(raw_path, sizeof raw_path, "%s.gdb.XXXXXX", output_path);
    int raw_fd = mkstemp(raw_path);
    if (raw_fd < 0) {
        snprintf(error, error_size, "%s: cannot create a temporary file: %s", raw_path,
                 strerror(errno));
        return -1;
    }
    unlink(raw_path); /* only this descriptor needs it */

    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "%d", (int)pid);
    /* -nx: no user gdbinit can change what runs; debuginfod off: no network download
     * may stretch the time the server is stopped. */
    char *argv[] = {"gdb",
                    "-batch",
                    "-nx",
                    "-iex",
                    "set debuginfod enabled off",
                    "-p",
                    pid_text,
                    "-ex",
                    "set pagination off",
                    "-ex",
                    "info threads",
                    "-ex",
                    "thread apply all bt",
                    NULL};
    process gdb;
    process_io io = {.stdin_fd = -1, .stdout_fd = raw_fd, .stderr_fd = raw_fd};
    char spawn_error[256];
    if (process_spawn(&gdb, argv, NULL, io, spawn_error, sizeof spawn_error) != 0) {
        close(raw_fd);
        snprintf(error, error_size, "cannot run gdb for the stacks of %d: %s", (int)pid,
                 spawn_error);
        return -1;
    }
    bool timed_out = process_wait_for(&gdb, timeout_ms) != PROCESS_EXITED;
    if (timed_out)
        process_stop(&gdb, GDB_STOP_GRACE_MS);

    char *raw = read_all(raw_fd);
    close(raw_fd);
    if (raw == NULL) {
        snprintf(error, error_size, "cannot read gdb's output for the stacks of %d", (int)pid);
        return -1;
    }
    size_t thread_count = 0;
    char *ordered = stacks_order_spinning_first(raw, spinning_tids, spinning_count, &thread_count);
    free(raw);
    if (ordered == NULL) {
        snprintf(error, error_size, "out of memory ordering the stacks of %d", (int)pid);
        return -1;
    }

    int out_fd = open(output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0) {
        snprintf(error, error_size, "%s: cannot write: %s", output_path, strerror(errno));
        free(ordered);
        return -1;
    }
    char header[512];
    int header_length = snprintf(header, sizeof header,
                                 "# stacks of process %d, %zu threads, by gdb -batch; "
                                 "spinning threads first:",
                                 (int)pid, thread_count);
    for (size_t i = 0; i < spinning_count && header_length < (int)sizeof header - 16; i++)
        header_length += snprintf(header + header_length, sizeof header - (size_t)header_length,
                                  " %d", (int)spinning_tids[i]);
    if (spinning_count == 0)
        header_length +=
            snprintf(header + header_length, sizeof header - (size_t)header_length, " none");
    header[header_length++] = '\n';
    int write_failed = write_all(out_fd, header, (size_t)header_length) != 0 ||
                       write_all(out_fd, ordered, strlen(ordered)) != 0;
    int saved_errno = errno;
    free(ordered);
    if (close(out_fd) != 0 && !write_failed) {
        write_failed = 1;
        saved_errno = errno;
    }
    if (write_failed) {
        snprintf(error, error_size, "%s: cannot write: %s", output_path, strerror(saved_errno));
        return -1;
    }
    if (timed_out) {
        snprintf(error, error_size, "gdb did not finish within %d ms; partial stacks in %s",
                 timeout_ms, output_path);
        return -1;
    }
    if (thread_count == 0) {
        snprintf(error, error_size, "gdb printed no stack for process %d (its messages are in %s)",
                 (int)pid, output_path);
        return -1;
    }
    return 0;
}

/* Reads a small /proc file into buffer (NUL-terminated, trailing newline dropped); false
 * when it cannot be read. */
static bool read_small(const char *path, char *buffer, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t used = 0;
    while (used + 1 < size) {
        ssize_t got = read(fd, buffer + used, size - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        used += (size_t)got;
    }
    close(fd);
    buffer[used] = '\0';
    while (used > 0 && buffer[used - 1] == '\n')
        buffer[--used] = '\0';
    return true;
}

typedef struct syscall_name {
    long number;
    const char *name;
    bool on_descriptor; /* the first argument is a file descriptor */
} syscall_name;

/* The calls a server waits in; the numbers are this architecture's. */
static const syscall_name SYSCALL_NAMES[] = {
    {SYS_read, "read", true},
    {SYS_write, "write", true},
    {SYS_ioctl, "ioctl", true},
    {SYS_futex, "futex", false},
    {SYS_epoll_pwait, "epoll_pwait", true},
#ifdef SYS_epoll_wait
    {SYS_epoll_wait, "epoll_wait", true},
#endif
#ifdef SYS_poll
    {SYS_poll, "poll", false},
#endif
    {SYS_ppoll, "ppoll", false},
    {SYS_nanosleep, "nanosleep", false},
    {SYS_clock_nanosleep, "clock_nanosleep", false},
    {SYS_accept4, "accept4", true},
    {SYS_recvfrom, "recvfrom", true},
    {SYS_sendto, "sendto", true},
    {SYS_close, "close", true},
    {SYS_wait4, "wait4", false},
};

/* "202 0x7f.. 0x80 ..." (in a call), "running", or "-1 sp pc" (not in a call). */
static void describe_syscall(pid_t pid, const char *line, char *out, size_t out_size)
{
    char *end;
    long number = strtol(line, &end, 10);
    if (end == line) {
        snprintf(out, out_size, "%s", line);
        return;
    }
    if (number < 0) {
        snprintf(out, out_size, "not in a system call");
        return;
    }
    unsigned long long first = strtoull(end, NULL, 16);
    const syscall_name *known = NULL;
    for (size_t i = 0; i < sizeof SYSCALL_NAMES / sizeof SYSCALL_NAMES[0]; i++)
        if (SYSCALL_NAMES[i].number == number)
            known = &SYSCALL_NAMES[i];
    if (known == NULL) {
        snprintf(out, out_size, "system call %ld (first argument %#llx)", number, first);
        return;
    }
    if (!known->on_descriptor) {
        snprintf(out, out_size, "%s (first argument %#llx)", known->name, first);
        return;
    }
    char link_path[96], target[512];
    snprintf(link_path, sizeof link_path, "/proc/%d/fd/%llu", (int)pid, first);
    ssize_t length = readlink(link_path, target, sizeof target - 1);
    if (length < 0)
        snprintf(target, sizeof target, "?");
    else
        target[length] = '\0';
    snprintf(out, out_size, "%s on fd %llu (%s)", known->name, first, target);
}

int stacks_kernel_view(pid_t pid, FILE *out, char *error, size_t error_size)
{
    char task_path[64];
    snprintf(task_path, sizeof task_path, "/proc/%d/task", (int)pid);
    DIR *tasks = opendir(task_path);
    if (tasks == NULL) {
        snprintf(error, error_size, "%s: cannot read: %s", task_path, strerror(errno));
        return -1;
    }
    fprintf(out, "# kernel view of process %d (from /proc, taken before gdb attaches)\n", (int)pid);
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        char path[128], stat_text[1024], wchan[128], syscall_text[256], call[768];
        thread_stat_fields stat = {.name = "?", .state = '?'};
        snprintf(path, sizeof path, "%s/%s/stat", task_path, entry->d_name);
        char stat_error[128];
        if (read_small(path, stat_text, sizeof stat_text) &&
            thread_cpu_parse_stat_line(stat_text, &stat, stat_error, sizeof stat_error) != 0)
            stat = (thread_stat_fields){.name = "?", .state = '?'};
        snprintf(path, sizeof path, "%s/%s/wchan", task_path, entry->d_name);
        if (!read_small(path, wchan, sizeof wchan) || wchan[0] == '\0')
            snprintf(wchan, sizeof wchan, "-");
        snprintf(path, sizeof path, "%s/%s/syscall", task_path, entry->d_name);
        if (read_small(path, syscall_text, sizeof syscall_text))
            describe_syscall(pid, syscall_text, call, sizeof call);
        else
            snprintf(call, sizeof call, "unknown (%s)", strerror(errno));
        fprintf(out, "thread %s \"%s\" state %c, waiting in %s, %s\n", entry->d_name, stat.name,
                stat.state, strcmp(wchan, "0") == 0 ? "-" : wchan, call);
        char stack[4096];
        snprintf(path, sizeof path, "%s/%s/stack", task_path, entry->d_name);
        if (read_small(path, stack, sizeof stack) && stack[0] != '\0') {
            for (char *line = stack; line != NULL && *line != '\0';) {
                char *newline = strchr(line, '\n');
                if (newline != NULL)
                    *newline = '\0';
                fprintf(out, "    %s\n", line);
                line = newline ? newline + 1 : NULL;
            }
        }
    }
    closedir(tasks);
    fputc('\n', out);
    return 0;
}
