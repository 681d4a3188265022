#include "thread_cpu.h"
#include "monotonic_clock.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Field numbers as proc(5) counts them (1-based); the parser starts after ')', at 3. */
#define STAT_FIELD_STATE 3
#define STAT_FIELD_USER_TICKS 14
#define STAT_FIELD_SYSTEM_TICKS 15
#define STAT_FIELD_START_TIME 22
/* A stat line is about 300 bytes; a name cannot make it much longer (15 bytes max). */
#define STAT_LINE_BYTES 1024
#define PROC_PATH_BYTES 96

static int parse_unsigned(const char *text, uint64_t *out)
{
    if (!isdigit((unsigned char)text[0]))
        return -1;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || (*end != '\0' && *end != ' ' && *end != '\n'))
        return -1;
    *out = value;
    return 0;
}

int thread_cpu_parse_stat_line(const char *line, thread_stat_fields *out, char *error,
                               size_t error_size)
{
    memset(out, 0, sizeof *out);
    const char *open = strchr(line, '(');
    const char *close = strrchr(line, ')');
    if (open == NULL || close == NULL || close < open) {
        snprintf(error, error_size, "not a stat line: no \"(name)\" in \"%.60s\"", line);
        return -1;
    }
    uint64_t tid;
    char tid_text[32];
    size_t tid_length = (size_t)(open - line);
    while (tid_length > 0 && line[tid_length - 1] == ' ')
        tid_length--;
    if (tid_length == 0 || tid_length >= sizeof tid_text) {
        snprintf(error, error_size, "not a stat line: no thread id before the name");
        return -1;
    }
    memcpy(tid_text, line, tid_length);
    tid_text[tid_length] = '\0';
    if (parse_unsigned(tid_text, &tid) != 0) {
        snprintf(error, error_size, "not a stat line: thread id \"%s\" is not a number", tid_text);
        return -1;
    }
    out->tid = (pid_t)tid;
    size_t name_length = (size_t)(close - open - 1);
    if (name_length >= sizeof out->name)
        name_length = sizeof out->name - 1;
    memcpy(out->name, open + 1, name_length);
    out->name[name_length] = '\0';

    /* Fields after the name are separated by single spaces; walk them by number. */
    const char *cursor = close + 1;
    int field = STAT_FIELD_STATE - 1;
    int found = 0;
    while (*cursor != '\0' && field < STAT_FIELD_START_TIME) {
        while (*cursor == ' ')
            cursor++;
        if (*cursor == '\0' || *cursor == '\n')
            break;
        field++;
        uint64_t *target = NULL;
        if (field == STAT_FIELD_STATE) {
            out->state = *cursor;
            found++;
        } else if (field == STAT_FIELD_USER_TICKS) {
            target = &out->user_ticks;
        } else if (field == STAT_FIELD_SYSTEM_TICKS) {
            target = &out->system_ticks;
        } else if (field == STAT_FIELD_START_TIME) {
            target = &out->start_time_ticks;
        }
        if (target != NULL) {
            if (parse_unsigned(cursor, target) != 0) {
                snprintf(error, error_size, "stat line of thread %d: field %d is not a number",
                         out->tid, field);
                return -1;
            }
            found++;
        }
        while (*cursor != ' ' && *cursor != '\0' && *cursor != '\n')
            cursor++;
    }
    if (found < 4) {
        snprintf(error, error_size, "stat line of thread %d: %d fields, expected at least %d",
                 out->tid, field, STAT_FIELD_START_TIME);
        return -1;
    }
    return 0;
}

/* Reads a small /proc file whole; -1 when it is gone (the thread ended). */
static int read_small_file(const char *path, char *buffer, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = read(fd, buffer, size - 1);
    close(fd);
    if (got <= 0)
        return -1;
    buffer[got] = '\0';
    return 0;
}

int thread_cpu_sample_take(pid_t pid, thread_cpu_sample *sample, char *error, size_t error_size)
{
    memset(sample, 0, sizeof *sample);
    char path[PROC_PATH_BYTES];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *tasks = opendir(path);
    if (tasks == NULL) {
        snprintf(error, error_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    sample->ticks_per_second = sysconf(_SC_CLK_TCK);
    sample->time_ns = monotonic_ns();
    size_t capacity = 0;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        if (!isdigit((unsigned char)entry->d_name[0]))
            continue;
        char line[STAT_LINE_BYTES];
        snprintf(path, sizeof path, "/proc/%d/task/%s/stat", (int)pid, entry->d_name);
        if (read_small_file(path, line, sizeof line) != 0)
            continue; /* ended between readdir and read */
        thread_stat_fields fields;
        char parse_error[128];
        if (thread_cpu_parse_stat_line(line, &fields, parse_error, sizeof parse_error) != 0)
            continue;
        if (sample->thread_count == capacity) {
            size_t grown = capacity ? capacity * 2 : 16;
            thread_cpu_thread *more = realloc(sample->threads, grown * sizeof *more);
            if (more == NULL) {
                closedir(tasks);
                thread_cpu_sample_free(sample);
                snprintf(error, error_size, "out of memory sampling threads of %d", (int)pid);
                return -1;
            }
            sample->threads = more;
            capacity = grown;
        }
        thread_cpu_thread *thread = &sample->threads[sample->thread_count++];
        thread->tid = fields.tid;
        thread->cpu_ticks = fields.user_ticks + fields.system_ticks;
        thread->start_time_ticks = fields.start_time_ticks;
        /* The comm file is the name as the thread set it; the stat copy is the fallback. */
        char name[THREAD_CPU_NAME_BYTES];
        snprintf(path, sizeof path, "/proc/%d/task/%s/comm", (int)pid, entry->d_name);
        if (read_small_file(path, name, sizeof name) == 0) {
            name[strcspn(name, "\n")] = '\0';
            snprintf(thread->name, sizeof thread->name, "%s", name);
        } else {
            snprintf(thread->name, sizeof thread->name, "%s", fields.name);
        }
    }
    closedir(tasks);
    return 0;
}

void thread_cpu_sample_free(thread_cpu_sample *sample)
{
    free(sample->threads);
    sample->threads = NULL;
    sample->thread_count = 0;
}

static const thread_cpu_thread *find_thread(const thread_cpu_sample *sample, pid_t tid)
{
    for (size_t i = 0; i < sample->thread_count; i++)
        if (sample->threads[i].tid == tid)
            return &sample->threads[i];
    return NULL;
}

size_t thread_cpu_usage_between(const thread_cpu_sample *earlier, const thread_cpu_sample *later,
                                thread_cpu_usage *out, size_t capacity)
{
    double interval_seconds = (double)(later->time_ns - earlier->time_ns) / 1e9;
    if (interval_seconds <= 0 || later->ticks_per_second <= 0)
        return 0;
    for (size_t i = 0; i < later->thread_count && i < capacity; i++) {
        const thread_cpu_thread *now = &later->threads[i];
        const thread_cpu_thread *before = find_thread(earlier, now->tid);
        uint64_t ticks = now->cpu_ticks; /* new within the interval: all of it counts */
        if (before != NULL && before->start_time_ticks == now->start_time_ticks)
            /* The same thread; its counter never goes back, but a bad read must not
             * turn into a huge percent. */
            ticks = now->cpu_ticks >= before->cpu_ticks ? now->cpu_ticks - before->cpu_ticks : 0;
        out[i].tid = now->tid;
        snprintf(out[i].name, sizeof out[i].name, "%s", now->name);
        out[i].cpu_percent =
            100.0 * ((double)ticks / (double)later->ticks_per_second) / interval_seconds;
    }
    return later->thread_count;
}
