#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "known_bug.h"
#include "process.h"
#include "results.h"

/* gnuplot draws one chart in well under a second; a loaded two-core machine may take a
 * few. Beyond this it is stuck (a font lookup, a broken build) and the report gives up. */
#define GNUPLOT_TIMEOUT_MS 30000
#define GNUPLOT_STOP_GRACE_MS 1000
#define GNUPLOT_LOG_NAME "report-gnuplot.log"
/* Pixels of each PNG (and the SVG's canvas): wide enough for a legend outside the plot. */
#define CHART_WIDTH 1000
#define CHART_HEIGHT 600
#define CHART_FONT "sans,11"
/* Roughly: the width of one character of CHART_FONT, and of the plot between its margins. */
#define LABEL_CHARACTER_PIXELS 8
#define PLOT_WIDTH_PIXELS 700
/* Case names on the x axis slant when there are many; they need this much more room. */
#define ROTATED_LABELS_EXTRA_HEIGHT 100
/* More power-of-two ticks than this on the size axis crowd the labels; every other one
 * (or every third...) is labelled instead. */
#define SIZE_TICKS_MAX 12
/* Case labels on a chart's x axis are cut to this many characters (the table has them
 * whole). */
#define AXIS_LABEL_MAX 40
/* Onset and detection closer than this share of the time axis get one marker, not two
 * overlapping labels. */
#define MARKERS_MERGE_FRACTION 0.03
/* A detection marker to the right of this share of the time axis has its label on its left,
 * where it cannot run off the frame into the legend. */
#define DETECTED_LABEL_LEFT_FROM 0.8
/* Room above the highest CPU sample for the onset labels (at 88% and 95% of the height). */
#define CPU_HEADROOM 1.3
#define LATENCY_PERCENTILES 5
#define NAME_BYTES 128

static const char *const percentile_keys[LATENCY_PERCENTILES] = {"p50", "p90", "p99", "p99.9",
                                                                 "max"};

typedef struct cpu_point {
    double time_s;
    double cpu_percent;
} cpu_point;

typedef struct thread_series {
    int tid;
    char name[NAME_BYTES];
    cpu_point *points;
    size_t count;
    size_t capacity;
    double total_percent; /* the sum of its samples: ranks the busiest */
} thread_series;

typedef struct report_case {
    const char *name; /* borrowed from the summary */
    const char *verdict;
    const char *outcome;
    const char *message;
    long long io_threads;
    long long connections;
    bool has_size;
    uint64_t value_size;
    double requests_per_second;
    double latency_us[LATENCY_PERCENTILES];
    bool has_onset;
    double onset_s;
    double detected_s;
    thread_series *threads;
    size_t thread_count;
    size_t thread_capacity;
    bool has_cpu_chart;
} report_case;

typedef struct report {
    char directory[PATH_MAX];
    json_t *summary;
    const char *scenario;
    report_case *cases;
    size_t case_count;
    int log_fd; /* gnuplot's stdout and stderr */
    bool has_throughput_chart;
    int latency_height;
    char throughput_note[256];
} report;

static void set_error(char *error, size_t error_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(char *error, size_t error_size, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, error_size, format, arguments);
    va_end(arguments);
}

/* ---- labels ------------------------------------------------------------------------- */

void report_size_label(uint64_t bytes, char *out, size_t out_size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t unit = 0;
    double value = (double)bytes;
    while (value >= 1024 && unit + 1 < sizeof units / sizeof units[0]) {
        value /= 1024;
        unit++;
    }
    /* Whole units and simple fractions (1.5KiB, 2.25MiB) read well; anything else, such as
     * 1048575 (one byte under 1MiB, a boundary the sweeps probe), is given in bytes rather
     * than rounded into a lie. */
    double hundredths = value * 100;
    if (value == floor(value))
        snprintf(out, out_size, "%.0f%s", value, units[unit]);
    else if (hundredths == floor(hundredths))
        snprintf(out, out_size, "%.*f%s", fmod(hundredths, 10) == 0 ? 1 : 2, value, units[unit]);
    else
        snprintf(out, out_size, "%lluB", (unsigned long long)bytes);
}

/* A latency for people: "850 µs", "1.17 ms", "12.3 s". */
static void duration_label(double microseconds, char *out, size_t out_size)
{
    if (!(microseconds > 0))
        snprintf(out, out_size, "–");
    else if (microseconds < 1000)
        snprintf(out, out_size, "%.0f µs", microseconds);
    else if (microseconds < 1e6)
        snprintf(out, out_size, "%.3g ms", microseconds / 1e3);
    else
        snprintf(out, out_size, "%.3g s", microseconds / 1e6);
}

/* The case name without its scenario prefix and without the "server." and "client."
 * of its matrix fields, cut to AXIS_LABEL_MAX characters: "io_threads=4,value_size=1024". */
static void case_axis_label(const report *r, const report_case *one, char *out, size_t out_size)
{
    const char *name = one->name;
    size_t scenario_length = r->scenario ? strlen(r->scenario) : 0;
    const char *slash = strchr(name, '/');
    if (scenario_length > 0 && strncmp(name, r->scenario, scenario_length) == 0 &&
        name[scenario_length] == '/')
        name += scenario_length + 1;
    else if (r->scenario == NULL && slash != NULL && slash[1] != '\0')
        name = slash + 1; /* no scenario known: whatever comes before the '/' */
    size_t used = 0;
    for (const char *c = name; *c != '\0' && used + 1 < out_size;) {
        if (strncmp(c, "server.", 7) == 0) {
            c += 7;
            continue;
        }
        if (strncmp(c, "client.", 7) == 0) {
            c += 7;
            continue;
        }
        out[used++] = *c++;
    }
    out[used] = '\0';
    if (used > AXIS_LABEL_MAX && out_size > AXIS_LABEL_MAX + 4)
        snprintf(out + AXIS_LABEL_MAX - 1, out_size - (AXIS_LABEL_MAX - 1), "…");
}

/* Whether case labels of at most longest characters, count of them side by side, would run
 * into each other on the x axis, and so should slant. */
static bool labels_need_rotation(size_t longest, size_t count)
{
    return count > 0 && longest * LABEL_CHARACTER_PIXELS > PLOT_WIDTH_PIXELS / count;
}

/* One character of text inside a gnuplot double-quoted string. gnuplot runs the text
 * between backquotes as a shell command even inside double quotes, and some of what we
 * draw comes from the server under test (its thread names: `prctl(PR_SET_NAME)` allows
 * 15 bytes, room for "`touch /tmp/x`"), so a backquote is written as an apostrophe. */
static void gnuplot_string_char(FILE *file, unsigned char c)
{
    if (c == '`') {
        fputc('\'', file);
        return;
    }
    if (c == '"' || c == '\\')
        fputc('\\', file);
    fputc(c < 0x20 ? ' ' : c, file);
}

/* Writes text as a gnuplot double-quoted string: backslash and quote escaped, control
 * characters (a newline in a case name) turned into spaces, no backquote. */
static void gnuplot_string(FILE *file, const char *text)
{
    fputc('"', file);
    for (const unsigned char *c = (const unsigned char *)(text ? text : ""); *c != '\0'; c++)
        gnuplot_string_char(file, *c);
    fputc('"', file);
}

/* As gnuplot_string, but a '\n' in text stays a line break of the label. */
static void gnuplot_string_with_newlines(FILE *file, const char *text)
{
    fputc('"', file);
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
        if (*c == '\n') {
            fputs("\\n", file);
            continue;
        }
        gnuplot_string_char(file, *c);
    }
    fputc('"', file);
}

/* ---- reading the results ------------------------------------------------------------- */

static double number_at(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    return json_is_number(value) ? json_number_value(value) : 0;
}

static const char *text_at(const json_t *object, const char *key)
{
    const char *value = json_string_value(json_object_get(object, key));
    return value ? value : "";
}

static int read_summary(report *r, char *error, size_t error_size)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/summary.json", r->directory);
    json_error_t json_error;
    r->summary = json_load_file(path, 0, &json_error);
    if (r->summary == NULL) {
        if (access(path, R_OK) != 0)
            set_error(error, error_size, "%s: cannot read: %s", path, strerror(errno));
        else
            set_error(error, error_size, "%s:%d:%d: not valid JSON: %s", path, json_error.line,
                      json_error.column, json_error.text);
        return -1;
    }
    json_t *cases = json_object_get(r->summary, "cases");
    if (!json_is_object(r->summary) || !json_is_array(cases)) {
        set_error(error, error_size, "%s: no \"cases\" list; is this a results folder?", path);
        return -1;
    }
    r->scenario = json_string_value(json_object_get(r->summary, "scenario"));
    r->case_count = json_array_size(cases);
    r->cases = calloc(r->case_count + 1, sizeof *r->cases);
    if (r->cases == NULL) {
        set_error(error, error_size, "%s: out of memory", path);
        return -1;
    }
    for (size_t i = 0; i < r->case_count; i++) {
        const json_t *one = json_array_get(cases, i);
        report_case *c = &r->cases[i];
        c->name = json_string_value(json_object_get(one, "name"));
        if (c->name == NULL) {
            set_error(error, error_size, "%s: case %zu has no name", path, i + 1);
            return -1;
        }
        c->verdict = text_at(one, "verdict");
        c->outcome = text_at(one, "outcome");
        c->message = text_at(one, "message");
        const json_t *parameters = json_object_get(one, "parameters");
        const json_t *server = json_object_get(parameters, "server");
        const json_t *client = json_object_get(parameters, "client");
        c->io_threads = (long long)number_at(server, "io_threads");
        c->connections = (long long)number_at(client, "connections");
        const json_t *first_size =
            json_array_get(json_object_get(json_object_get(client, "value_size"), "bytes"), 0);
        c->has_size = json_is_integer(first_size) && json_integer_value(first_size) > 0;
        if (c->has_size)
            c->value_size = (uint64_t)json_integer_value(first_size);
        c->requests_per_second =
            number_at(json_object_get(one, "throughput"), "requests_per_second");
        const json_t *latency = json_object_get(one, "latency_us");
        for (int p = 0; p < LATENCY_PERCENTILES; p++)
            c->latency_us[p] = number_at(latency, percentile_keys[p]);
        const json_t *evidence = json_object_get(one, "evidence");
        c->has_onset = json_is_number(json_object_get(evidence, "onset_s"));
        if (c->has_onset) {
            c->onset_s = number_at(evidence, "onset_s");
            c->detected_s = json_is_number(json_object_get(evidence, "detected_s"))
                                ? number_at(evidence, "detected_s")
                                : c->onset_s;
        }
    }
    return 0;
}

/* Splits one CSV line (RFC 4180, no line breaks inside fields) into at most field_max
 * fields, in place. Returns the number of fields. */
static size_t split_csv_line(char *line, char **fields, size_t field_max)
{
    size_t count = 0;
    char *in = line;
    while (count < field_max) {
        char *out = in;
        fields[count++] = out;
        if (*in == '"') {
            in++;
            for (;;) {
                if (*in == '\0')
                    break;
                if (*in == '"' && in[1] == '"') {
                    *out++ = '"';
                    in += 2;
                } else if (*in == '"') {
                    in++;
                    break;
                } else {
                    *out++ = *in++;
                }
            }
        } else {
            while (*in != '\0' && *in != ',' && *in != '\n' && *in != '\r')
                *out++ = *in++;
        }
        char separator = *in;
        *out = '\0';
        if (separator != ',')
            break;
        in++;
    }
    return count;
}

static thread_series *thread_of(report_case *c, int tid, const char *name)
{
    for (size_t i = 0; i < c->thread_count; i++)
        if (c->threads[i].tid == tid && strcmp(c->threads[i].name, name) == 0)
            return &c->threads[i];
    if (c->thread_count == c->thread_capacity) {
        size_t grown = c->thread_capacity ? c->thread_capacity * 2 : 16;
        thread_series *more = realloc(c->threads, grown * sizeof *more);
        if (more == NULL)
            return NULL;
        c->threads = more;
        c->thread_capacity = grown;
    }
    thread_series *series = &c->threads[c->thread_count++];
    memset(series, 0, sizeof *series);
    series->tid = tid;
    snprintf(series->name, sizeof series->name, "%s", name);
    return series;
}

static int add_point(thread_series *series, double time_s, double cpu_percent)
{
    if (series->count == series->capacity) {
        size_t grown = series->capacity ? series->capacity * 2 : 64;
        cpu_point *more = realloc(series->points, grown * sizeof *more);
        if (more == NULL)
            return -1;
        series->points = more;
        series->capacity = grown;
    }
    series->points[series->count++] = (cpu_point){time_s, cpu_percent};
    series->total_percent += cpu_percent;
    return 0;
}

enum { CPU_TIME, CPU_TID, CPU_THREAD, CPU_PERCENT, CPU_CASE, CPU_FIELDS };

/* cpu.csv is optional (a run that never started a server has none). */
static int read_cpu(report *r, char *error, size_t error_size)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cpu.csv", r->directory);
    FILE *file = fopen(path, "re");
    if (file == NULL)
        return errno == ENOENT
                   ? 0
                   : (set_error(error, error_size, "%s: cannot read: %s", path, strerror(errno)),
                      -1);
    char *line = NULL;
    size_t line_capacity = 0;
    size_t line_number = 0;
    size_t last_case = 0;
    int status = 0;
    while (getline(&line, &line_capacity, file) > 0) {
        line_number++;
        if (line_number == 1)
            continue; /* the header */
        char *fields[CPU_FIELDS];
        if (split_csv_line(line, fields, CPU_FIELDS) != CPU_FIELDS)
            continue; /* a row cut short by a killed run */
        report_case *c = NULL;
        for (size_t n = 0; n < r->case_count && c == NULL; n++) {
            size_t i = (last_case + n) % r->case_count;
            if (strcmp(r->cases[i].name, fields[CPU_CASE]) == 0) {
                c = &r->cases[i];
                last_case = i;
            }
        }
        if (c == NULL)
            continue; /* a case that never finished: not in the summary */
        thread_series *series = thread_of(c, atoi(fields[CPU_TID]), fields[CPU_THREAD]);
        if (series == NULL ||
            add_point(series, strtod(fields[CPU_TIME], NULL), strtod(fields[CPU_PERCENT], NULL))) {
            set_error(error, error_size, "%s:%zu: out of memory", path, line_number);
            status = -1;
            break;
        }
    }
    free(line);
    fclose(file);
    return status;
}

/* ---- writing files ------------------------------------------------------------------- */

static FILE *create_in(const report *r, const char *name, char *path, size_t path_size, char *error,
                       size_t error_size)
{
    snprintf(path, path_size, "%s/%s", r->directory, name);
    FILE *file = fopen(path, "we");
    if (file == NULL)
        set_error(error, error_size, "%s: cannot create: %s", path, strerror(errno));
    return file;
}

static int close_written(FILE *file, const char *path, char *error, size_t error_size)
{
    bool failed = ferror(file) != 0;
    if (fclose(file) != 0)
        failed = true;
    if (failed) {
        set_error(error, error_size, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

/* The start of every script: PNG first (pngcairo when this gnuplot has it), no enhanced
 * text so that '_' and '^' in names print as themselves. */
static void script_begin(FILE *script, const char *chart, int height)
{
    fprintf(script,
            "# Drawn by valkey-rdma-harness; run 'gnuplot report-%s.gp' in this folder to redraw.\n"
            "set encoding utf8\n"
            "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
            "    set terminal pngcairo size %d,%d noenhanced font \"%s\"\n"
            "} else {\n"
            "    set terminal png size %d,%d noenhanced\n"
            "}\n"
            "set output 'report-%s.png'\n"
            "set grid ytics lc rgb '#dddddd'\n",
            chart, CHART_WIDTH, height, CHART_FONT, CHART_WIDTH, height, chart);
}

/* The end: the same picture again as SVG. */
static void script_end(FILE *script, const char *chart, int height)
{
    fprintf(script,
            "set terminal svg size %d,%d noenhanced font \"%s\" background '#ffffff'\n"
            "set output 'report-%s.svg'\n"
            "replot\n"
            "unset output\n",
            CHART_WIDTH, height, CHART_FONT, chart);
}

/* The last non-empty line of gnuplot's log: its error message. */
static void last_log_line(const report *r, char *out, size_t out_size)
{
    out[0] = '\0';
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", r->directory, GNUPLOT_LOG_NAME);
    FILE *file = fopen(path, "re");
    if (file == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, file) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0')
            snprintf(out, out_size, "%s", line);
    }
    fclose(file);
}

static int run_gnuplot(const report *r, const char *chart, char *error, size_t error_size)
{
    /* gnuplot first changes to the folder, so the script names its files relatively and
     * still works when a person runs it there. Single quotes double inside '...'. */
    char change_directory[PATH_MAX * 2 + 8];
    size_t used = (size_t)snprintf(change_directory, sizeof change_directory, "cd '");
    for (const char *c = r->directory; *c != '\0' && used + 4 < sizeof change_directory; c++) {
        if (*c == '\'')
            change_directory[used++] = '\'';
        change_directory[used++] = *c;
    }
    snprintf(change_directory + used, sizeof change_directory - used, "'");
    char script[NAME_BYTES];
    snprintf(script, sizeof script, "report-%s.gp", chart);
    char *argv[] = {"gnuplot", "-e", change_directory, script, NULL};
    process_io io = {.stdin_fd = -1, .stdout_fd = r->log_fd, .stderr_fd = r->log_fd};
    process child;
    char spawn_error[256];
    if (process_spawn(&child, argv, NULL, io, spawn_error, sizeof spawn_error) != 0) {
        set_error(error, error_size, "%s/%s: %s (install gnuplot-nox)", r->directory, script,
                  spawn_error);
        return -1;
    }
    int waited = process_wait_for(&child, GNUPLOT_TIMEOUT_MS);
    if (waited != PROCESS_EXITED) {
        process_stop(&child, GNUPLOT_STOP_GRACE_MS);
        if (waited == PROCESS_TIMED_OUT)
            set_error(error, error_size, "%s/%s: gnuplot did not finish within %d s", r->directory,
                      script, GNUPLOT_TIMEOUT_MS / 1000);
        else
            set_error(error, error_size, "%s/%s: interrupted while gnuplot drew it", r->directory,
                      script);
        return -1;
    }
    int exit_code = process_exit_code(&child);
    if (exit_code != 0) {
        char reason[512];
        last_log_line(r, reason, sizeof reason);
        set_error(error, error_size, "%s/%s: gnuplot exited with %d: %s", r->directory, script,
                  exit_code, reason[0] ? reason : "no message");
        return -1;
    }
    return 0;
}

/* ---- chart 1: throughput against value size ------------------------------------------ */

typedef struct throughput_line {
    long long io_threads;
    long long connections;
} throughput_line;

typedef struct size_point {
    uint64_t size;
    double requests_per_second;
} size_point;

static int compare_size_points(const void *a, const void *b)
{
    uint64_t left = ((const size_point *)a)->size, right = ((const size_point *)b)->size;
    return left < right ? -1 : left > right;
}

static int compare_lines(const void *a, const void *b)
{
    const throughput_line *left = a, *right = b;
    if (left->io_threads != right->io_threads)
        return left->io_threads < right->io_threads ? -1 : 1;
    return (left->connections > right->connections) - (left->connections < right->connections);
}

/* The x axis: power-of-two ticks over the sizes, labelled 1KiB, 4MiB, ... */
static void write_size_axis(FILE *script, uint64_t smallest, uint64_t largest)
{
    int low = (int)floor(log2((double)smallest));
    int high = (int)ceil(log2((double)largest));
    if (high == low)
        high++;
    int step = (high - low + SIZE_TICKS_MAX - 1) / SIZE_TICKS_MAX;
    if (step < 1)
        step = 1;
    /* Half a power of two either side, so no point sits on the frame. */
    fprintf(script, "set logscale x 2\nset xrange [%.6g:%.6g]\nset xtics (",
            ldexp(1.0, low) / M_SQRT2, ldexp(1.0, high) * M_SQRT2);
    for (int power = low; power <= high; power += step) {
        char label[32];
        report_size_label((uint64_t)1 << power, label, sizeof label);
        fprintf(script, "%s\"%s\" %.0f", power == low ? "" : ", ", label, ldexp(1.0, power));
    }
    fprintf(script, ")\nset mxtics default\n");
}

static int render_throughput(report *r, char *error, size_t error_size)
{
    size_t distinct_sizes = 0;
    uint64_t smallest = UINT64_MAX, largest = 0;
    bool connections_vary = false;
    for (size_t i = 0; i < r->case_count; i++) {
        const report_case *c = &r->cases[i];
        if (!c->has_size)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = r->cases[j].has_size && r->cases[j].value_size == c->value_size;
        distinct_sizes += !seen;
        smallest = c->value_size < smallest ? c->value_size : smallest;
        largest = c->value_size > largest ? c->value_size : largest;
        connections_vary |= c->connections != r->cases[0].connections;
    }
    if (distinct_sizes < 2) {
        snprintf(r->throughput_note, sizeof r->throughput_note,
                 "No throughput-against-value-size chart: this run has %s value size (it "
                 "needs at least 2).",
                 distinct_sizes == 0 ? "no" : "a single");
        return 0;
    }

    /* One line per io-threads count, and per connection count when that varies too (two
     * lines of different connection counts mixed into one would zig-zag). */
    throughput_line *lines = calloc(r->case_count, sizeof *lines);
    size_point *points = calloc(r->case_count, sizeof *points);
    if (lines == NULL || points == NULL) {
        free(lines);
        free(points);
        set_error(error, error_size, "%s: out of memory drawing throughput", r->directory);
        return -1;
    }
    size_t line_count = 0;
    for (size_t i = 0; i < r->case_count; i++) {
        const report_case *c = &r->cases[i];
        if (!c->has_size)
            continue;
        throughput_line key = {c->io_threads, connections_vary ? c->connections : 0};
        bool seen = false;
        for (size_t j = 0; j < line_count && !seen; j++)
            seen = compare_lines(&lines[j], &key) == 0;
        if (!seen)
            lines[line_count++] = key;
    }
    qsort(lines, line_count, sizeof *lines, compare_lines);

    char data_path[PATH_MAX], script_path[PATH_MAX];
    FILE *data =
        create_in(r, "report-throughput.dat", data_path, sizeof data_path, error, error_size);
    FILE *script = data ? create_in(r, "report-throughput.gp", script_path, sizeof script_path,
                                    error, error_size)
                        : NULL;
    if (script == NULL) {
        if (data)
            fclose(data);
        free(lines);
        free(points);
        return -1;
    }
    fprintf(data, "# Throughput against value size; one block (gnuplot index) per line.\n"
                  "# value_bytes requests_per_second\n");
    for (size_t l = 0; l < line_count; l++) {
        size_t count = 0;
        for (size_t i = 0; i < r->case_count; i++) {
            const report_case *c = &r->cases[i];
            throughput_line key = {c->io_threads, connections_vary ? c->connections : 0};
            if (c->has_size && compare_lines(&key, &lines[l]) == 0)
                points[count++] = (size_point){c->value_size, c->requests_per_second};
        }
        qsort(points, count, sizeof *points, compare_size_points);
        fprintf(data, "%s# io-threads %lld", l ? "\n\n" : "", lines[l].io_threads);
        if (connections_vary)
            fprintf(data, ", %lld connections", lines[l].connections);
        fputc('\n', data);
        for (size_t p = 0; p < count; p++)
            fprintf(data, "%llu %.6g\n", (unsigned long long)points[p].size,
                    points[p].requests_per_second);
    }

    script_begin(script, "throughput", CHART_HEIGHT);
    fprintf(script, "set title ");
    gnuplot_string(script, r->scenario ? r->scenario : "");
    fprintf(script, " . \": throughput against value size\"\n"
                    "set xlabel \"value size (bytes, log2 scale)\"\n"
                    "set ylabel \"throughput (requests/s)\"\n"
                    "set yrange [0:*]\n"
                    "set key outside right top title \"server\"\n"
                    "set grid xtics lc rgb '#dddddd'\n");
    write_size_axis(script, smallest, largest);
    fprintf(script, "plot ");
    for (size_t l = 0; l < line_count; l++) {
        char title[96];
        if (connections_vary)
            snprintf(title, sizeof title, "io-threads %lld, %lld conn.", lines[l].io_threads,
                     lines[l].connections);
        else
            snprintf(title, sizeof title, "io-threads %lld", lines[l].io_threads);
        fprintf(script,
                "%s'report-throughput.dat' index %zu using 1:2 with linespoints lw 2 "
                "pt 7 ps 1.2 title ",
                l ? ", \\\n     " : "", l);
        gnuplot_string(script, title);
    }
    fputc('\n', script);
    script_end(script, "throughput", CHART_HEIGHT);
    free(lines);
    free(points);
    if (close_written(data, data_path, error, error_size) != 0) {
        fclose(script);
        return -1;
    }
    if (close_written(script, script_path, error, error_size) != 0 ||
        run_gnuplot(r, "throughput", error, error_size) != 0)
        return -1;
    r->has_throughput_chart = true;
    return 0;
}

/* ---- chart 2: latency percentiles ---------------------------------------------------- */

/* The y axis: a decade tick each, labelled in µs, ms or s. */
static void write_latency_axis(FILE *script, double smallest_us, double largest_us)
{
    int low = (int)floor(log10(smallest_us));
    int high = (int)ceil(log10(largest_us));
    if (high == low)
        high++;
    /* A hair beyond the decades: a tick exactly on the frame of a log axis can round
     * outside it and lose its label. */
    /* Bars grow from the bottom of the frame: start it at most half the smallest value
     * below, so that the shortest bar still shows. */
    double bottom = fmin(pow(10, low) * 0.98, smallest_us / 2);
    fprintf(script, "set logscale y 10\nset yrange [%.6g:%.6g]\nset ytics (", bottom,
            pow(10, high) * 1.02);
    for (int power = low; power <= high; power++) {
        char label[32];
        duration_label(pow(10, power), label, sizeof label);
        fprintf(script, "%s\"%s\" %.6g", power == low ? "" : ", ", label, pow(10, power));
    }
    fprintf(script, ")\nset mytics 10\n");
}

static int render_latency(report *r, char *error, size_t error_size)
{
    double smallest = INFINITY, largest = 0;
    for (size_t i = 0; i < r->case_count; i++)
        for (int p = 0; p < LATENCY_PERCENTILES; p++) {
            double value = r->cases[i].latency_us[p];
            if (value > 0) {
                smallest = value < smallest ? value : smallest;
                largest = value > largest ? value : largest;
            }
        }
    if (largest == 0)
        return 0; /* no case measured a latency: nothing to draw */

    char data_path[PATH_MAX], script_path[PATH_MAX];
    FILE *data = create_in(r, "report-latency.dat", data_path, sizeof data_path, error, error_size);
    FILE *script =
        data ? create_in(r, "report-latency.gp", script_path, sizeof script_path, error, error_size)
             : NULL;
    if (script == NULL) {
        if (data)
            fclose(data);
        return -1;
    }
    fprintf(data, "# Latency percentiles in microseconds, one row per case (NaN: none).\n"
                  "# case p50 p90 p99 p99.9 max\n");
    size_t longest = 0;
    for (size_t i = 0; i < r->case_count; i++) {
        const report_case *c = &r->cases[i];
        char label[AXIS_LABEL_MAX * 4];
        case_axis_label(r, c, label, sizeof label);
        longest = strlen(label) > longest ? strlen(label) : longest;
        fprintf(data, "# %zu: ", i + 1);
        for (const char *ch = c->name; *ch; ch++)
            fputc((unsigned char)*ch < 0x20 ? ' ' : *ch, data);
        fprintf(data, "\n%zu", i + 1);
        for (int p = 0; p < LATENCY_PERCENTILES; p++) {
            if (c->latency_us[p] > 0)
                fprintf(data, " %.6g", c->latency_us[p]);
            else
                fprintf(data, " NaN");
        }
        fputc('\n', data);
    }

    bool long_labels = labels_need_rotation(longest, r->case_count);
    int height = CHART_HEIGHT + (long_labels ? ROTATED_LABELS_EXTRA_HEIGHT : 0);
    r->latency_height = height;
    script_begin(script, "latency", height);
    fprintf(script, "set title ");
    gnuplot_string(script, r->scenario ? r->scenario : "");
    fprintf(script, " . \": latency percentiles per case\"\n"
                    "set ylabel \"latency (log scale)\"\n"
                    "set xlabel \"case\"\n"
                    "set style data histogram\n"
                    "set style histogram clustered gap 1\n"
                    "set style fill solid 0.85 border -1\n"
                    "set boxwidth 0.9\n"
                    "set key outside right top vertical title \"percentile\"\n");
    write_latency_axis(script, smallest, largest);
    /* Histogram rows sit at x = 0, 1, ...; each gets its case's label. */
    fprintf(script, "set xtics nomirror %s(", long_labels ? "rotate by -25 " : "");
    for (size_t i = 0; i < r->case_count; i++) {
        char label[AXIS_LABEL_MAX * 4];
        case_axis_label(r, &r->cases[i], label, sizeof label);
        fprintf(script, "%s", i ? ", " : "");
        gnuplot_string(script, label);
        fprintf(script, " %zu", i);
    }
    fprintf(script, ")\nplot ");
    for (int p = 0; p < LATENCY_PERCENTILES; p++)
        fprintf(script, "%s'report-latency.dat' using %d title \"%s\"", p ? ", \\\n     " : "",
                p + 2, percentile_keys[p]);
    fputc('\n', script);
    script_end(script, "latency", height);
    if (close_written(data, data_path, error, error_size) != 0) {
        fclose(script);
        return -1;
    }
    if (close_written(script, script_path, error, error_size) != 0)
        return -1;
    return run_gnuplot(r, "latency", error, error_size);
}

/* ---- chart 3: CPU per server thread over time ---------------------------------------- */

static int compare_busiest(const void *a, const void *b)
{
    const thread_series *left = *(thread_series *const *)a, *right = *(thread_series *const *)b;
    return (left->total_percent < right->total_percent) -
           (left->total_percent > right->total_percent);
}

static int render_cpu(report *r, size_t index, char *error, size_t error_size)
{
    report_case *c = &r->cases[index];
    if (c->thread_count == 0)
        return 0;
    thread_series **ranked = calloc(c->thread_count, sizeof *ranked);
    if (ranked == NULL) {
        set_error(error, error_size, "%s: out of memory drawing CPU", r->directory);
        return -1;
    }
    for (size_t t = 0; t < c->thread_count; t++)
        ranked[t] = &c->threads[t];
    qsort(ranked, c->thread_count, sizeof *ranked, compare_busiest);
    /* Threads idle throughout would only pile up on the time axis. */
    size_t drawn = 0, busy = 0;
    for (size_t t = 0; t < c->thread_count; t++)
        busy += ranked[t]->total_percent > 0;
    drawn = busy < REPORT_CPU_THREADS_MAX ? busy : REPORT_CPU_THREADS_MAX;
    if (drawn == 0)
        drawn = 1; /* one flat line still shows that everything was idle */

    char chart[NAME_BYTES], file_name[NAME_BYTES];
    snprintf(chart, sizeof chart, "cpu-%zu", index + 1);
    char data_path[PATH_MAX], script_path[PATH_MAX];
    snprintf(file_name, sizeof file_name, "report-%s.dat", chart);
    FILE *data = create_in(r, file_name, data_path, sizeof data_path, error, error_size);
    snprintf(file_name, sizeof file_name, "report-%s.gp", chart);
    FILE *script =
        data ? create_in(r, file_name, script_path, sizeof script_path, error, error_size) : NULL;
    if (script == NULL) {
        if (data)
            fclose(data);
        free(ranked);
        return -1;
    }
    fprintf(data, "# CPU per server thread of case %zu: ", index + 1);
    for (const char *ch = c->name; *ch; ch++)
        fputc((unsigned char)*ch < 0x20 ? ' ' : *ch, data);
    fprintf(data, "\n# One block (gnuplot index) per thread, busiest first.\n"
                  "# time_s cpu_percent\n");
    double last_time = 0, highest = 0;
    for (size_t t = 0; t < drawn; t++) {
        const thread_series *series = ranked[t];
        fprintf(data, "%s# %s (tid %d)\n", t ? "\n\n" : "", series->name, series->tid);
        for (size_t p = 0; p < series->count; p++) {
            /* Time starts again with each repetition: break the line there. */
            if (p > 0 && series->points[p].time_s < series->points[p - 1].time_s)
                fputc('\n', data);
            fprintf(data, "%.3f %.1f\n", series->points[p].time_s, series->points[p].cpu_percent);
            last_time = fmax(last_time, series->points[p].time_s);
            highest = fmax(highest, series->points[p].cpu_percent);
        }
    }
    if (c->has_onset)
        last_time = fmax(last_time, c->detected_s);
    double x_end = last_time > 0 ? last_time * 1.02 : 1;

    script_begin(script, chart, CHART_HEIGHT);
    char label[AXIS_LABEL_MAX * 4];
    case_axis_label(r, c, label, sizeof label);
    fprintf(script, "set title ");
    gnuplot_string(script, c->name);
    if (c->thread_count > drawn && drawn == busy)
        fprintf(script, " . \"\\nCPU per server thread (%zu of %zu threads; the rest idle)\"\n",
                drawn, c->thread_count);
    else if (c->thread_count > drawn)
        fprintf(script, " . \"\\nCPU per server thread (the %zu busiest of %zu threads)\"\n", drawn,
                c->thread_count);
    else
        fprintf(script, " . \"\\nCPU per server thread\"\n");
    fprintf(script,
            "set xlabel \"time since the case started (s)\"\n"
            "set ylabel \"CPU (%% of one core)\"\n"
            "set xrange [0:%.3f]\n"
            "set yrange [0:%.0f]\n"
            "set key outside right top title \"thread (tid)\"\n"
            "set grid xtics lc rgb '#dddddd'\n",
            x_end, fmax(100, highest) * CPU_HEADROOM);
    if (c->has_onset) {
        char verdict[32];
        snprintf(verdict, sizeof verdict, "%s", c->verdict);
        for (char *ch = verdict; *ch; ch++)
            *ch = (char)(*ch >= 'a' && *ch <= 'z' ? *ch - 'a' + 'A' : *ch);
        fprintf(script, "set style textbox opaque noborder\n");
        fprintf(script,
                "set object 1 rect from %.3f, graph 0 to %.3f, graph 1 behind "
                "fc rgb '#f4cccc' fs solid 0.6 noborder\n"
                "set arrow 1 from %.3f, graph 0 to %.3f, graph 1 nohead lc rgb '#cc0000' "
                "lw 2 dt 2 front\n",
                c->onset_s, c->detected_s, c->onset_s, c->onset_s);
        if (c->detected_s - c->onset_s < x_end * MARKERS_MERGE_FRACTION) {
            char text[96];
            snprintf(text, sizeof text, "%s at %.1f s", verdict, c->onset_s);
            fprintf(script, "set label 1 ");
            gnuplot_string(script, text);
            fprintf(script,
                    " at %.3f, graph 0.95 right offset -0.6,0 tc rgb '#cc0000' front boxed\n",
                    c->onset_s);
        } else {
            char text[96];
            snprintf(text, sizeof text, "%s onset %.1f s", verdict, c->onset_s);
            fprintf(script, "set label 1 ");
            gnuplot_string(script, text);
            fprintf(script,
                    " at %.3f, graph 0.95 right offset -0.6,0 tc rgb '#cc0000' front boxed\n",
                    c->onset_s);
            snprintf(text, sizeof text, "detected %.1f s", c->detected_s);
            fprintf(script,
                    "set arrow 2 from %.3f, graph 0 to %.3f, graph 1 nohead lc rgb '#880000' "
                    "lw 2 front\nset label 2 ",
                    c->detected_s, c->detected_s);
            gnuplot_string(script, text);
            /* Near the right frame the label goes left of its line, inside the plot. */
            bool near_end = c->detected_s > x_end * DETECTED_LABEL_LEFT_FROM;
            fprintf(script, " at %.3f, graph 0.88 %s offset %s0.6,0 tc rgb '#880000' front boxed\n",
                    c->detected_s, near_end ? "right" : "left", near_end ? "-" : "");
        }
    }
    fprintf(script, "plot ");
    for (size_t t = 0; t < drawn; t++) {
        char title[NAME_BYTES + 32];
        snprintf(title, sizeof title, "%s (%d)", ranked[t]->name, ranked[t]->tid);
        fprintf(script, "%s'report-%s.dat' index %zu using 1:2 with lines lw 2 title ",
                t ? ", \\\n     " : "", chart, t);
        gnuplot_string(script, title);
    }
    fputc('\n', script);
    script_end(script, chart, CHART_HEIGHT);
    free(ranked);
    if (close_written(data, data_path, error, error_size) != 0) {
        fclose(script);
        return -1;
    }
    if (close_written(script, script_path, error, error_size) != 0 ||
        run_gnuplot(r, chart, error, error_size) != 0)
        return -1;
    c->has_cpu_chart = true;
    return 0;
}

/* ---- index.html ---------------------------------------------------------------------- */

static void html_text(FILE *html, const char *text)
{
    char *escaped = results_xml_escape(text);
    fputs(escaped ? escaped : "?", html);
    free(escaped);
}

static bool file_exists(const report *r, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", r->directory, name);
    struct stat status;
    return stat(path, &status) == 0 && S_ISREG(status.st_mode);
}

static void html_figure(FILE *html, const char *chart, int height, const char *caption)
{
    fprintf(html,
            "<figure><a href=\"report-%s.svg\"><img src=\"report-%s.png\" width=\"%d\" "
            "height=\"%d\" alt=\"",
            chart, chart, CHART_WIDTH, height);
    html_text(html, caption);
    fprintf(html, "\"></a><figcaption>");
    html_text(html, caption);
    fprintf(html,
            " · <a href=\"report-%s.svg\">SVG</a> · <a href=\"report-%s.dat\">data</a> · "
            "<a href=\"report-%s.gp\">gnuplot script</a></figcaption></figure>\n",
            chart, chart, chart);
}

static const char *outcome_class(const char *outcome)
{
    if (strcmp(outcome, case_outcome_name(CASE_OUTCOME_AS_EXPECTED)) == 0)
        return "expected";
    if (strcmp(outcome, case_outcome_name(CASE_OUTCOME_KNOWN)) == 0)
        return "known";
    return "unexpected";
}

static int write_index(report *r, char *error, size_t error_size)
{
    char path[PATH_MAX], temporary[PATH_MAX];
    snprintf(path, sizeof path, "%s/index.html", r->directory);
    snprintf(temporary, sizeof temporary, "%s/.index.html.tmp", r->directory);
    FILE *html = fopen(temporary, "we");
    if (html == NULL) {
        set_error(error, error_size, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    const char *scenario = r->scenario ? r->scenario : "results";
    fprintf(html, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<title>");
    html_text(html, scenario);
    fprintf(html, " – report</title>\n<style>\n"
                  "body { font-family: sans-serif; margin: 1.5em; color: #222; }\n"
                  ".layout { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; }\n"
                  ".verdicts { flex: 1 1 40em; overflow-x: auto; }\n"
                  ".charts { flex: 1 1 600px; }\n"
                  "table { border-collapse: collapse; }\n"
                  "th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; vertical-align: top; }\n"
                  "th { background: #f0f0f0; text-align: left; }\n"
                  "td.number { text-align: right; white-space: nowrap; }\n"
                  "tr.expected td.outcome { background: #d9ead3; }\n"
                  "tr.unexpected td.outcome { background: #f4cccc; }\n"
                  "tr.known td.outcome { background: #fff2cc; }\n"
                  "figure { margin: 0 0 1.5em 0; }\n"
                  "img { max-width: 100%%; height: auto; border: 1px solid #ddd; }\n"
                  ".note { color: #666; font-style: italic; }\n"
                  "</style>\n</head>\n<body>\n<h1>");
    html_text(html, scenario);
    fprintf(html, "</h1>\n<p>");
    static const char *const facts[][2] = {
        {"started", "started"}, {"server_version", "server"}, {"testbed", "test bed"}};
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        const char *value = text_at(r->summary, facts[i][0]);
        if (value[0] == '\0')
            continue;
        fprintf(html, "%s: ", facts[i][1]);
        html_text(html, value);
        fprintf(html, "<br>\n");
    }
    fprintf(html, "Files:");
    static const char *const files[] = {"summary.json", "junit.xml", "stacks.txt",
                                        "server.log",   "cpu.csv",   "progress.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (file_exists(r, files[i]))
            fprintf(html, " <a href=\"%s\">%s</a>", files[i], files[i]);
        else
            fprintf(html, " <span class=\"note\">%s (none)</span>", files[i]);
    }
    fprintf(html, "</p>\n<div class=\"layout\">\n<section class=\"verdicts\">\n<h2>Verdicts</h2>\n"
                  "<table>\n<tr><th>case</th><th>verdict</th><th>outcome</th><th>ops/s</th>"
                  "<th>p50</th><th>p99</th><th>message</th></tr>\n");
    for (size_t i = 0; i < r->case_count; i++) {
        const report_case *c = &r->cases[i];
        char p50[32], p99[32];
        duration_label(c->latency_us[0], p50, sizeof p50);
        duration_label(c->latency_us[2], p99, sizeof p99);
        fprintf(html, "<tr class=\"%s\"><td>", outcome_class(c->outcome));
        html_text(html, c->name);
        fprintf(html, "</td><td>");
        html_text(html, c->verdict);
        fprintf(html, "</td><td class=\"outcome\">");
        html_text(html, c->outcome);
        fprintf(html,
                "</td><td class=\"number\">%.*f</td><td class=\"number\">%s</td>"
                "<td class=\"number\">%s</td><td>",
                c->requests_per_second < 100 ? 1 : 0, c->requests_per_second, p50, p99);
        html_text(html, c->message);
        fprintf(html, "</td></tr>\n");
    }
    fprintf(html, "</table>\n</section>\n<section class=\"charts\">\n<h2>Charts</h2>\n");
    if (r->has_throughput_chart)
        html_figure(html, "throughput", CHART_HEIGHT, "Throughput against value size");
    else {
        fprintf(html, "<p class=\"note\">");
        html_text(html, r->throughput_note);
        fprintf(html, "</p>\n");
    }
    if (file_exists(r, "report-latency.png"))
        html_figure(html, "latency", r->latency_height, "Latency percentiles per case");
    else
        fprintf(html, "<p class=\"note\">No latency chart: no case measured a latency.</p>\n");
    if (file_exists(r, "report-comparison.png"))
        html_figure(html, "comparison", CHART_HEIGHT, "Baseline against candidate");
    for (size_t i = 0; i < r->case_count; i++) {
        const report_case *c = &r->cases[i];
        char caption[NAME_BYTES * 4];
        snprintf(caption, sizeof caption, "CPU per server thread: %s", c->name);
        if (c->has_cpu_chart) {
            char chart[NAME_BYTES];
            snprintf(chart, sizeof chart, "cpu-%zu", i + 1);
            html_figure(html, chart, CHART_HEIGHT, caption);
        } else {
            fprintf(html, "<p class=\"note\">");
            html_text(html, caption);
            fprintf(html, ": no CPU samples in cpu.csv.</p>\n");
        }
    }
    fprintf(html, "</section>\n</div>\n</body>\n</html>\n");
    if (close_written(html, path, error, error_size) != 0) {
        unlink(temporary);
        return -1;
    }
    if (rename(temporary, path) != 0) {
        set_error(error, error_size, "%s: cannot write: %s", path, strerror(errno));
        unlink(temporary);
        return -1;
    }
    return 0;
}

/* ---- the whole report ---------------------------------------------------------------- */

static int open_log(report *r, char *error, size_t error_size)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", r->directory, GNUPLOT_LOG_NAME);
    r->log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (r->log_fd < 0) {
        set_error(error, error_size, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void report_free(report *r)
{
    for (size_t i = 0; r->cases != NULL && i < r->case_count; i++) {
        for (size_t t = 0; t < r->cases[i].thread_count; t++)
            free(r->cases[i].threads[t].points);
        free(r->cases[i].threads);
    }
    free(r->cases);
    json_decref(r->summary);
    if (r->log_fd >= 0)
        close(r->log_fd);
}

int report_render(const char *run_dir, char *error, size_t error_size)
{
    report r = {.log_fd = -1};
    snprintf(r.directory, sizeof r.directory, "%s", run_dir);
    int status = read_summary(&r, error, error_size);
    if (status == 0)
        status = read_cpu(&r, error, error_size);
    if (status == 0)
        status = open_log(&r, error, error_size);
    if (status == 0)
        status = render_throughput(&r, error, error_size);
    if (status == 0)
        status = render_latency(&r, error, error_size);
    for (size_t i = 0; status == 0 && i < r.case_count; i++)
        status = render_cpu(&r, i, error, error_size);
    if (status == 0)
        status = write_index(&r, error, error_size);
    report_free(&r);
    return status;
}

/* ---- chart 4: baseline against candidate --------------------------------------------- */

/* Where the two boxes of a case sit either side of its tick, and how wide they are. */
#define COMPARISON_OFFSET 0.2
#define COMPARISON_BOX_WIDTH 0.3
/* Points spread sideways over this width so equal samples stay visible. */
#define COMPARISON_JITTER 0.12

static int compare_doubles(const void *a, const void *b)
{
    double left = *(const double *)a, right = *(const double *)b;
    return (left > right) - (left < right);
}

/* The median of count samples; 1 when there are none (a harmless divisor). */
static double median_of(const double *samples, size_t count)
{
    if (count == 0)
        return 1;
    double *sorted = malloc(count * sizeof *sorted);
    if (sorted == NULL)
        return samples[0];
    memcpy(sorted, samples, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, compare_doubles);
    double median = count % 2 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
    free(sorted);
    return median == 0 ? 1 : median;
}

static void write_samples(FILE *data, const char *name, const char *side, const double *samples,
                          size_t count)
{
    fprintf(data, "# ");
    for (const char *ch = name; *ch; ch++)
        fputc((unsigned char)*ch < 0x20 ? ' ' : *ch, data);
    fprintf(data, " %s%s\n", side, count ? "" : " (no samples)");
    for (size_t i = 0; i < count; i++)
        fprintf(data, "%.9g\n", samples[i]);
    if (count == 0)
        fprintf(data, "NaN\n"); /* keeps the block, so gnuplot's index numbers stay aligned */
}

int report_render_comparison(const char *run_dir, const char *value_label,
                             const report_comparison_case *cases, size_t case_count, char *error,
                             size_t error_size)
{
    report r = {.log_fd = -1};
    snprintf(r.directory, sizeof r.directory, "%s", run_dir);
    size_t samples = 0;
    for (size_t i = 0; i < case_count; i++)
        samples += cases[i].baseline_count + cases[i].candidate_count;
    if (samples == 0) {
        set_error(error, error_size, "%s/report-comparison.dat: no samples to compare", run_dir);
        return -1;
    }
    char data_path[PATH_MAX], script_path[PATH_MAX];
    FILE *data =
        create_in(&r, "report-comparison.dat", data_path, sizeof data_path, error, error_size);
    FILE *script = data ? create_in(&r, "report-comparison.gp", script_path, sizeof script_path,
                                    error, error_size)
                        : NULL;
    if (script == NULL) {
        if (data)
            fclose(data);
        return -1;
    }
    fprintf(data, "# Baseline against candidate: per case a baseline block, then a candidate "
                  "block (gnuplot index 2i and 2i+1).\n");
    for (size_t i = 0; i < case_count; i++) {
        fprintf(data, "%s", i ? "\n\n" : "");
        write_samples(data, cases[i].name, "baseline", cases[i].baseline, cases[i].baseline_count);
        fprintf(data, "\n\n");
        write_samples(data, cases[i].name, "candidate", cases[i].candidate,
                      cases[i].candidate_count);
    }

    /* Cases differ by orders of magnitude (1 KiB against 16 MiB values), so each case is
     * drawn relative to its own baseline median; the data file keeps the raw samples. */
    double *reference = calloc(case_count, sizeof *reference);
    double *candidate_median = calloc(case_count, sizeof *candidate_median);
    char(*labels)[AXIS_LABEL_MAX * 4] = calloc(case_count, sizeof *labels);
    if (reference == NULL || candidate_median == NULL || labels == NULL) {
        free(reference);
        free(candidate_median);
        free(labels);
        fclose(data);
        fclose(script);
        set_error(error, error_size, "%s: out of memory", data_path);
        return -1;
    }
    size_t longest = 0;
    for (size_t i = 0; i < case_count; i++) {
        double baseline = median_of(cases[i].baseline, cases[i].baseline_count);
        candidate_median[i] = median_of(cases[i].candidate, cases[i].candidate_count);
        reference[i] = cases[i].baseline_count ? baseline : candidate_median[i];
        report_case c = {.name = cases[i].name ? cases[i].name : ""};
        case_axis_label(&r, &c, labels[i], sizeof labels[i]);
        longest = strlen(labels[i]) > longest ? strlen(labels[i]) : longest;
    }
    bool long_labels = labels_need_rotation(longest, case_count);
    int height = CHART_HEIGHT + (long_labels ? ROTATED_LABELS_EXTRA_HEIGHT : 0);
    script_begin(script, "comparison", height);
    fprintf(script, "set title \"Baseline against candidate, per case\\n"
                    "(100%% = the case's baseline median)\"\n"
                    "set ylabel ");
    gnuplot_string(script, value_label);
    fprintf(script,
            " . \", %% of the baseline median\"\n"
            /* The tick labels have two lines; gnuplot leaves room for one. */
            "set xlabel \"case (medians: baseline → candidate)\" offset 0,-1\n"
            "set xrange [0.4:%zu.6]\n"
            "set style fill solid 0.35 border -1\n"
            "set style boxplot nooutliers\n"
            "set key outside right top vertical\n"
            "set arrow from graph 0, first 100 to graph 1, first 100 nohead dt 3 "
            "lc rgb '#888888' back\n"
            "set xtics nomirror %s(",
            case_count, long_labels ? "rotate by -25 " : "");
    for (size_t i = 0; i < case_count; i++) {
        char label[AXIS_LABEL_MAX * 6];
        char baseline_text[32] = "none", candidate_text[32] = "none";
        if (cases[i].baseline_count)
            snprintf(baseline_text, sizeof baseline_text, "%.4g", reference[i]);
        if (cases[i].candidate_count)
            snprintf(candidate_text, sizeof candidate_text, "%.4g", candidate_median[i]);
        snprintf(label, sizeof label, "%s\n%s → %s", labels[i], baseline_text, candidate_text);
        fprintf(script, "%s", i ? ", " : "");
        gnuplot_string_with_newlines(script, label);
        fprintf(script, " %zu", i + 1);
    }
    fprintf(script, ")\nplot ");
    static const struct {
        const char *title;
        const char *box_color;
        const char *point_color;
        double offset;
    } sides[2] = {{"baseline", "#4477aa", "#223b55", -COMPARISON_OFFSET},
                  {"candidate", "#ee6677", "#771122", COMPARISON_OFFSET}};
    bool first_clause = true;
    for (int side = 0; side < 2; side++) {
        bool titled = false;
        for (size_t i = 0; i < case_count; i++) {
            size_t count = side == 0 ? cases[i].baseline_count : cases[i].candidate_count;
            if (count == 0)
                continue;
            double x = (double)(i + 1) + sides[side].offset;
            size_t block = 2 * i + (size_t)side;
            fprintf(script,
                    "%s'report-comparison.dat' index %zu using (%.2f):($1 * 100 / %.9g):(%.2f) "
                    "with boxplot lc rgb '%s' %s%s%s, \\\n     "
                    "'report-comparison.dat' index %zu using (%.2f + ((int($0) * 7) %% 11 / 10.0 "
                    "- 0.5) * %.2f):($1 * 100 / %.9g) with points pt 7 ps 0.6 lc rgb '%s' "
                    "notitle",
                    first_clause ? "" : ", \\\n     ", block, x, reference[i], COMPARISON_BOX_WIDTH,
                    sides[side].box_color, titled ? "notitle" : "title \"",
                    titled ? "" : sides[side].title, titled ? "" : "\"", block, x,
                    COMPARISON_JITTER, reference[i], sides[side].point_color);
            titled = true;
            first_clause = false;
        }
    }
    fputc('\n', script);
    script_end(script, "comparison", height);
    free(reference);
    free(candidate_median);
    free(labels);
    int status = close_written(data, data_path, error, error_size);
    if (status != 0)
        fclose(script);
    else
        status = close_written(script, script_path, error, error_size);
    if (status == 0)
        status = open_log(&r, error, error_size);
    if (status == 0)
        status = run_gnuplot(&r, "comparison", error, error_size);
    if (r.log_fd >= 0)
        close(r.log_fd);
    return status;
}
