#include "results.h"
#include "write_all.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Runs started within the same second get a suffix; this many is far beyond any use. */
#define SAME_SECOND_RUNS_MAX 100
/* A scenario name longer than this is cut in the folder name (it stays whole inside). */
#define FOLDER_SCENARIO_NAME_MAX 80
#define TIMESTAMP_BYTES 32
#define LATEST_LINK_NAME "latest"

struct results_run {
    char root[PATH_MAX];
    char directory[PATH_MAX];
    char cpu_path[PATH_MAX];
    char progress_path[PATH_MAX];
    FILE *cpu;
    FILE *progress;
    char *scenario_name;
    json_t *summary; /* the whole summary.json; "cases" grows with each case */
};

static void set_error(char *error, size_t error_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(char *error, size_t error_size, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, error_size, format, arguments);
    va_end(arguments);
}

/* ---- folders and files ------------------------------------------------------------ */

static int make_directories(const char *path, char *error, size_t error_size)
{
    char partial[PATH_MAX];
    snprintf(partial, sizeof partial, "%s", path);
    for (char *slash = partial + 1; *slash != '\0'; slash++) {
        if (*slash != '/')
            continue;
        *slash = '\0';
        if (mkdir(partial, 0755) != 0 && errno != EEXIST) {
            set_error(error, error_size, "%s: cannot create the results folder: %s", partial,
                      strerror(errno));
            return -1;
        }
        *slash = '/';
    }
    if (mkdir(partial, 0755) != 0 && errno != EEXIST) {
        set_error(error, error_size, "%s: cannot create the results folder: %s", partial,
                  strerror(errno));
        return -1;
    }
    struct stat status;
    if (stat(partial, &status) != 0 || !S_ISDIR(status.st_mode)) {
        set_error(error, error_size, "%s: cannot create the results folder: %s", partial,
                  strerror(errno ? errno : ENOTDIR));
        return -1;
    }
    return 0;
}

/* Writes directory/name through a temporary file in the same folder (so rename is atomic),
 * with fsync of the file before and of the folder after the rename. */
int results_write_file_atomically(const char *directory, const char *name, const char *content,
                                  char *error, size_t error_size)
{
    char final_path[PATH_MAX];
    char temporary_path[PATH_MAX];
    snprintf(final_path, sizeof final_path, "%s/%s", directory, name);
    snprintf(temporary_path, sizeof temporary_path, "%s/.%s.XXXXXX", directory, name);
    int fd = mkstemp(temporary_path);
    if (fd < 0) {
        set_error(error, error_size, "%s: cannot write: %s", final_path, strerror(errno));
        return -1;
    }
    int failed =
        write_all(fd, content, strlen(content)) != 0 || fsync(fd) != 0 || fchmod(fd, 0644) != 0;
    int saved_errno = errno;
    if (close(fd) != 0 && !failed) {
        failed = 1;
        saved_errno = errno;
    }
    if (!failed && rename(temporary_path, final_path) != 0) {
        failed = 1;
        saved_errno = errno;
    }
    if (failed) {
        unlink(temporary_path);
        set_error(error, error_size, "%s: cannot write: %s", final_path, strerror(saved_errno));
        return -1;
    }
    int directory_fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd >= 0) {
        fsync(directory_fd); /* makes the rename itself durable; best effort */
        close(directory_fd);
    }
    return 0;
}

static int point_latest_at(const char *root, const char *run_folder_name, char *error,
                           size_t error_size)
{
    char temporary_link[PATH_MAX];
    char latest[PATH_MAX];
    snprintf(temporary_link, sizeof temporary_link, "%s/.%s.%d", root, LATEST_LINK_NAME,
             (int)getpid());
    snprintf(latest, sizeof latest, "%s/%s", root, LATEST_LINK_NAME);
    unlink(temporary_link); /* left over by a harness killed at this very step */
    /* Relative, so the results folder can be moved or copied whole. */
    if (symlink(run_folder_name, temporary_link) != 0) {
        set_error(error, error_size, "%s: cannot create the link: %s", temporary_link,
                  strerror(errno));
        return -1;
    }
    if (rename(temporary_link, latest) != 0) {
        int saved_errno = errno;
        unlink(temporary_link);
        set_error(error, error_size, "%s: cannot point it at %s: %s", latest, run_folder_name,
                  strerror(saved_errno));
        return -1;
    }
    return 0;
}

/* ---- CSV ---------------------------------------------------------------------------- */

/* RFC 4180: a field holding a comma, a quote or a line break is quoted, quotes doubled. */
static void write_csv_field(FILE *file, const char *text)
{
    if (text == NULL)
        text = "";
    if (strpbrk(text, ",\"\r\n") == NULL) {
        fputs(text, file);
        return;
    }
    fputc('"', file);
    for (const char *c = text; *c != '\0'; c++) {
        if (*c == '"')
            fputc('"', file);
        fputc(*c, file);
    }
    fputc('"', file);
}

static int finish_row(FILE *file, const char *path, char *error, size_t error_size)
{
    if (fputc('\n', file) == EOF || fflush(file) != 0 || ferror(file)) {
        set_error(error, error_size, "%s: cannot write: %s", path, strerror(errno));
        clearerr(file);
        return -1;
    }
    return 0;
}

int results_append_cpu(results_run *run, double time_s, pid_t tid, const char *thread,
                       double cpu_percent, const char *case_name, char *error, size_t error_size)
{
    fprintf(run->cpu, "%.3f,%d,", time_s, (int)tid);
    write_csv_field(run->cpu, thread);
    fprintf(run->cpu, ",%.1f,", cpu_percent);
    write_csv_field(run->cpu, case_name);
    return finish_row(run->cpu, run->cpu_path, error, error_size);
}

int results_append_progress(results_run *run, double time_s, const char *case_name,
                            const char *connection, uint64_t outstanding,
                            double seconds_since_progress, uint64_t replies, char *error,
                            size_t error_size)
{
    fprintf(run->progress, "%.3f,", time_s);
    write_csv_field(run->progress, case_name);
    fputc(',', run->progress);
    write_csv_field(run->progress, connection);
    fprintf(run->progress, ",%llu,%.3f,%llu", (unsigned long long)outstanding,
            seconds_since_progress, (unsigned long long)replies);
    return finish_row(run->progress, run->progress_path, error, error_size);
}

static FILE *start_timeline(const char *path, const char *header, char *error, size_t error_size)
{
    FILE *file = fopen(path, "we");
    if (file == NULL) {
        set_error(error, error_size, "%s: cannot create: %s", path, strerror(errno));
        return NULL;
    }
    if (fputs(header, file) == EOF || fflush(file) != 0) {
        set_error(error, error_size, "%s: cannot write: %s", path, strerror(errno));
        fclose(file);
        return NULL;
    }
    return file;
}

/* ---- the run -------------------------------------------------------------------------- */

static void format_utc(time_t when, const char *format, char out[TIMESTAMP_BYTES])
{
    struct tm utc;
    gmtime_r(&when, &utc);
    strftime(out, TIMESTAMP_BYTES, format, &utc);
}

/* Letters, digits, '.', '_' and '-' pass; anything else (a '/', a space) becomes '_'. */
static void folder_safe(const char *name, char *out, size_t out_size)
{
    size_t used = 0;
    for (const char *c = name; *c != '\0' && used + 1 < out_size; c++) {
        bool safe = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
        out[used++] = safe ? *c : '_';
    }
    out[used] = '\0';
}

results_run *results_run_create(const char *results_root, const results_run_info *info, char *error,
                                size_t error_size)
{
    if (make_directories(results_root, error, error_size) != 0)
        return NULL;
    results_run *run = calloc(1, sizeof *run);
    if (run == NULL) {
        set_error(error, error_size, "out of memory creating the results of %s",
                  info->scenario_name);
        return NULL;
    }
    snprintf(run->root, sizeof run->root, "%s", results_root);
    char stamp[TIMESTAMP_BYTES];
    format_utc(info->start_time, "%Y%m%dT%H%M%SZ", stamp);
    char safe_name[FOLDER_SCENARIO_NAME_MAX + 1];
    folder_safe(info->scenario_name, safe_name, sizeof safe_name);

    char folder_name[TIMESTAMP_BYTES + FOLDER_SCENARIO_NAME_MAX + 16];
    int attempt;
    for (attempt = 1; attempt <= SAME_SECOND_RUNS_MAX; attempt++) {
        if (attempt == 1)
            snprintf(folder_name, sizeof folder_name, "%s-%s", stamp, safe_name);
        else
            snprintf(folder_name, sizeof folder_name, "%s-%s-%d", stamp, safe_name, attempt);
        snprintf(run->directory, sizeof run->directory, "%s/%s", results_root, folder_name);
        if (mkdir(run->directory, 0755) == 0)
            break;
        if (errno != EEXIST) {
            set_error(error, error_size, "%s: cannot create the run folder: %s", run->directory,
                      strerror(errno));
            free(run);
            return NULL;
        }
    }
    if (attempt > SAME_SECOND_RUNS_MAX) {
        set_error(error, error_size, "%s: %d runs of this scenario in the same second already",
                  run->directory, SAME_SECOND_RUNS_MAX);
        free(run);
        return NULL;
    }

    snprintf(run->cpu_path, sizeof run->cpu_path, "%s/cpu.csv", run->directory);
    snprintf(run->progress_path, sizeof run->progress_path, "%s/progress.csv", run->directory);
    char started[TIMESTAMP_BYTES];
    format_utc(info->start_time, "%Y-%m-%dT%H:%M:%SZ", started);
    run->scenario_name = strdup(info->scenario_name);
    run->summary =
        json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s, s:[]}", "scenario", info->scenario_name,
                  "scenario_file", info->scenario_path, "server_version", info->server_version,
                  "testbed", info->testbed, "started", started, "folder", folder_name, "cases");
    if (run->summary != NULL && info->shard != NULL && info->shard[0] != '\0')
        json_object_set_new(run->summary, "shard", json_string(info->shard));
    if (run->scenario_name == NULL || run->summary == NULL) {
        set_error(error, error_size, "out of memory creating the results of %s",
                  info->scenario_name);
        results_run_close(run, NULL, 0);
        return NULL;
    }
    run->cpu =
        start_timeline(run->cpu_path, "time_s,tid,thread,cpu_percent,case\n", error, error_size);
    if (run->cpu != NULL)
        run->progress =
            start_timeline(run->progress_path,
                           "time_s,case,connection,outstanding,seconds_since_progress,replies\n",
                           error, error_size);
    if (run->progress == NULL ||
        point_latest_at(results_root, folder_name, error, error_size) != 0) {
        results_run_close(run, NULL, 0);
        return NULL;
    }
    return run;
}

const char *results_run_directory(const results_run *run)
{
    return run->directory;
}

int results_run_close(results_run *run, char *error, size_t error_size)
{
    if (run == NULL)
        return 0;
    int failed = 0;
    const char *failed_path = NULL;
    int saved_errno = 0;
    if (run->cpu != NULL && fclose(run->cpu) != 0) {
        failed = 1;
        failed_path = run->cpu_path;
        saved_errno = errno;
    }
    if (run->progress != NULL && fclose(run->progress) != 0 && !failed) {
        failed = 1;
        failed_path = run->progress_path;
        saved_errno = errno;
    }
    if (failed && error != NULL)
        set_error(error, error_size, "%s: cannot write: %s", failed_path, strerror(saved_errno));
    json_decref(run->summary);
    free(run->scenario_name);
    free(run);
    return failed ? -1 : 0;
}

/* ---- summary.json ------------------------------------------------------------------- */

static json_t *case_to_json(const results_case *finished)
{
    const case_judgement *judgement = finished->judgement;
    char expected[256];
    known_bug_describe_expectation(&finished->scenario_case->settings, expected, sizeof expected);
    char evidence_line[1024] = "";
    json_t *evidence = json_null();
    if (finished->evidence != NULL) {
        verdict_evidence_describe(finished->evidence, evidence_line, sizeof evidence_line);
        evidence = verdict_evidence_to_json(finished->evidence);
    }
    json_t *verdicts = json_array();
    for (size_t i = 0; i < finished->repetition_count && verdicts != NULL; i++)
        json_array_append_new(verdicts,
                              json_string(scenario_verdict_name(finished->repetition_verdicts[i])));
    const results_latency *latency = &finished->latency;
    json_t *throughputs = NULL;
    if (finished->repetition_requests_per_second != NULL) {
        throughputs = json_array();
        for (size_t i = 0; i < finished->repetition_count && throughputs != NULL; i++)
            json_array_append_new(throughputs,
                                  json_real(finished->repetition_requests_per_second[i]));
    }
    /* "o" steals each reference even when json_pack fails, so nothing leaks. */
    json_t *object = json_pack(
        "{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:o?, s:{s:I, s:I, s:o?}, s:f, "
        "s:{s:f, s:f}, s:{s:f, s:f, s:f, s:f, s:f}, s:s?}",
        "name", finished->scenario_case->name, "parameters",
        scenario_case_to_json(finished->scenario_case), "verdict",
        scenario_verdict_name(judgement->verdict), "expected", expected, "outcome",
        case_outcome_name(judgement->outcome), "message", judgement->message, "evidence_summary",
        evidence_line, "evidence", evidence, "repetitions", "count",
        (json_int_t)judgement->repetitions, "reproduced", (json_int_t)judgement->reproduced,
        "verdicts", verdicts, "duration_s", finished->duration_s, "throughput",
        "requests_per_second", finished->requests_per_second, "value_bytes_per_second",
        finished->value_bytes_per_second, "latency_us", "p50", latency->p50_us, "p90",
        latency->p90_us, "p99", latency->p99_us, "p99.9", latency->p999_us, "max", latency->max_us,
        "stacks", finished->stacks_file);
    if (object == NULL) {
        json_decref(throughputs);
        return NULL;
    }
    if (throughputs != NULL)
        json_object_set_new(json_object_get(object, "repetitions"), "requests_per_second",
                            throughputs);
    if (finished->servers_recorded)
        json_object_set_new(json_object_get(object, "repetitions"), "servers_started",
                            json_integer(finished->servers_started));
    if (finished->has_case_index)
        json_object_set_new(object, "case_index", json_integer((json_int_t)finished->case_index));
    const results_disruptions *seen = finished->disruptions;
    if (seen != NULL)
        json_object_set_new(object, "connections",
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "churn_kills",
                                      (json_int_t)seen->churn_kills, "server_disconnects",
                                      (json_int_t)seen->server_disconnects, "requests_lost",
                                      (json_int_t)seen->requests_lost, "client_kill_rounds",
                                      (json_int_t)seen->client_kill_rounds, "clients_killed",
                                      (json_int_t)seen->clients_killed, "keepalives_received",
                                      (json_int_t)seen->keepalives_received, "verified_gets",
                                      (json_int_t)seen->verified_gets));
    if (finished->has_fault_timeline) {
        json_t *timeline = json_pack(
            "{s:o, s:o}", "applied_s",
            finished->fault_applied_s >= 0 ? json_real(finished->fault_applied_s) : json_null(),
            "cleared_s",
            finished->fault_cleared_s >= 0 ? json_real(finished->fault_cleared_s) : json_null());
        if (timeline != NULL && finished->fault_reconnect && finished->fault_reconnect[0])
            json_object_set_new(timeline, "reconnect", json_string(finished->fault_reconnect));
        json_object_set_new(object, "fault_timeline", timeline);
    }
    return object;
}

/* ---- junit.xml ---------------------------------------------------------------------- */

char *results_xml_escape(const char *text)
{
    if (text == NULL)
        text = "";
    /* The longest replacement, "&quot;", is six bytes for one. */
    char *escaped = malloc(strlen(text) * 6 + 1);
    if (escaped == NULL)
        return NULL;
    char *out = escaped;
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
        const char *replacement = NULL;
        switch (*c) {
        case '&':
            replacement = "&amp;";
            break;
        case '<':
            replacement = "&lt;";
            break;
        case '>':
            replacement = "&gt;";
            break;
        case '"':
            replacement = "&quot;";
            break;
        case '\'':
            replacement = "&apos;";
            break;
        default:
            break;
        }
        if (replacement != NULL) {
            size_t length = strlen(replacement);
            memcpy(out, replacement, length);
            out += length;
        } else if (*c < 0x20 && *c != '\t' && *c != '\n' && *c != '\r') {
            *out++ = '?'; /* XML 1.0 cannot hold it even escaped */
        } else {
            *out++ = (char)*c;
        }
    }
    *out = '\0';
    return escaped;
}

/* A growing text buffer; `failed` latches on the first allocation failure. */
typedef struct text_buffer {
    char *text;
    size_t length;
    size_t capacity;
    bool failed;
} text_buffer;

static void text_append(text_buffer *buffer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void text_append(text_buffer *buffer, const char *format, ...)
{
    if (buffer->failed)
        return;
    for (;;) {
        va_list arguments;
        va_start(arguments, format);
        size_t room = buffer->capacity - buffer->length;
        int needed =
            vsnprintf(buffer->text ? buffer->text + buffer->length : NULL, room, format, arguments);
        va_end(arguments);
        if (needed < 0) {
            buffer->failed = true;
            return;
        }
        if ((size_t)needed < room) {
            buffer->length += (size_t)needed;
            return;
        }
        size_t grown = buffer->capacity * 2 + (size_t)needed + 1;
        char *more = realloc(buffer->text, grown);
        if (more == NULL) {
            buffer->failed = true;
            return;
        }
        buffer->text = more;
        buffer->capacity = grown;
    }
}

/* Appends escaped text; the escaped copy is freed at once. */
static void text_append_escaped(text_buffer *buffer, const char *text)
{
    char *escaped = results_xml_escape(text);
    if (escaped == NULL) {
        buffer->failed = true;
        return;
    }
    text_append(buffer, "%s", escaped);
    free(escaped);
}

static const char *string_field(const json_t *object, const char *key)
{
    const char *value = json_string_value(json_object_get(object, key));
    return value ? value : "";
}

char *results_junit_from_summary(const json_t *summary)
{
    json_t *cases = json_object_get(summary, "cases");
    const char *scenario_name = string_field(summary, "scenario");
    size_t failures = 0, skipped = 0;
    double total_s = 0;
    size_t index;
    json_t *one;
    json_array_foreach(cases, index, one)
    {
        const char *outcome = string_field(one, "outcome");
        if (strcmp(outcome, case_outcome_name(CASE_OUTCOME_UNEXPECTED)) == 0)
            failures++;
        else if (strcmp(outcome, case_outcome_name(CASE_OUTCOME_KNOWN)) == 0)
            skipped++;
        total_s += json_real_value(json_object_get(one, "duration_s"));
    }
    text_buffer xml = {0};
    text_append(&xml,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"%zu\" "
                "failures=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n  <testsuite name=\"",
                json_array_size(cases), failures, skipped, total_s);
    text_append_escaped(&xml, scenario_name);
    text_append(&xml,
                "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" "
                "time=\"%.3f\" timestamp=\"",
                json_array_size(cases), failures, skipped, total_s);
    text_append_escaped(&xml, string_field(summary, "started"));
    text_append(&xml, "\">\n    <properties>\n");
    static const char *const properties[] = {"server_version", "testbed", "scenario_file"};
    for (size_t i = 0; i < sizeof properties / sizeof properties[0]; i++) {
        text_append(&xml, "      <property name=\"%s\" value=\"", properties[i]);
        text_append_escaped(&xml, string_field(summary, properties[i]));
        text_append(&xml, "\"/>\n");
    }
    text_append(&xml, "    </properties>\n");
    json_array_foreach(cases, index, one)
    {
        const char *outcome = string_field(one, "outcome");
        const char *message = string_field(one, "message");
        const char *evidence = string_field(one, "evidence_summary");
        text_append(&xml, "    <testcase name=\"");
        text_append_escaped(&xml, string_field(one, "name"));
        text_append(&xml, "\" classname=\"");
        text_append_escaped(&xml, scenario_name);
        text_append(&xml, "\" time=\"%.3f\">\n",
                    json_real_value(json_object_get(one, "duration_s")));
        bool unexpected = strcmp(outcome, case_outcome_name(CASE_OUTCOME_UNEXPECTED)) == 0;
        bool known = strcmp(outcome, case_outcome_name(CASE_OUTCOME_KNOWN)) == 0;
        if (unexpected || known) {
            /* message="<judgement>: <evidence>", so a CI page shows the evidence. */
            text_buffer line = {0};
            text_append(&line, "%s%s%s", message, evidence[0] ? ": " : "", evidence);
            if (line.failed) {
                free(line.text);
                free(xml.text);
                return NULL;
            }
            if (unexpected) {
                text_append(&xml, "      <failure type=\"");
                text_append_escaped(&xml, string_field(one, "verdict"));
                text_append(&xml, "\" message=\"");
                text_append_escaped(&xml, line.text);
                text_append(&xml, "\">");
                text_append_escaped(&xml, line.text);
                text_append(&xml, "\nexpected: ");
                text_append_escaped(&xml, string_field(one, "expected"));
                text_append(&xml, "</failure>\n");
            } else {
                text_append(&xml, "      <skipped message=\"");
                text_append_escaped(&xml, line.text);
                text_append(&xml, "\"/>\n");
            }
            free(line.text);
        }
        text_append(&xml, "      <system-out>");
        text_append_escaped(&xml, message);
        text_append(&xml, "</system-out>\n    </testcase>\n");
    }
    text_append(&xml, "  </testsuite>\n</testsuites>\n");
    if (xml.failed) {
        free(xml.text);
        return NULL;
    }
    return xml.text;
}

int results_set_run_field(results_run *run, const char *key, json_t *value)
{
    return json_object_set_new(run->summary, key, value) == 0 ? 0 : -1;
}

int results_add_case(results_run *run, const results_case *finished, char *error, size_t error_size)
{
    json_t *one = case_to_json(finished);
    if (one == NULL) {
        set_error(error, error_size, "out of memory recording case %s",
                  finished->scenario_case->name);
        return -1;
    }
    return results_add_case_json(run, one, error, error_size);
}

int results_add_case_json(results_run *run, json_t *case_object, char *error, size_t error_size)
{
    if (case_object == NULL ||
        json_array_append_new(json_object_get(run->summary, "cases"), case_object) != 0) {
        set_error(error, error_size, "out of memory recording a case of %s", run->scenario_name);
        return -1;
    }
    char *summary = json_dumps(run->summary, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    char *junit = results_junit_from_summary(run->summary);
    int status = 0;
    if (summary == NULL || junit == NULL) {
        set_error(error, error_size, "out of memory rendering the results of %s",
                  run->scenario_name);
        status = -1;
    }
    if (status == 0) {
        size_t length = strlen(summary);
        /* json_dumps leaves out the final line break that text files end with. */
        char *with_newline = realloc(summary, length + 2);
        if (with_newline != NULL) {
            summary = with_newline;
            summary[length] = '\n';
            summary[length + 1] = '\0';
        }
        status = results_write_file_atomically(run->directory, "summary.json", summary, error,
                                               error_size);
    }
    if (status == 0)
        status =
            results_write_file_atomically(run->directory, "junit.xml", junit, error, error_size);
    free(summary);
    free(junit);
    return status;
}
