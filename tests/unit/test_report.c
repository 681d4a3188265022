/* The report: gnuplot charts as PNG and SVG, the data beside them, and index.html with the
 * verdict table, drawn from results folders copied from tests/data/results. Needs gnuplot. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

#ifndef REPORT_TEST_DATA
#error "REPORT_TEST_DATA must name tests/data/results"
#endif

#define PNG_SIGNATURE "\x89PNG\r\n\x1a\n"
#define PNG_SIGNATURE_BYTES 8

typedef struct fixture {
    char directory[PATH_MAX]; /* a temporary copy of one results folder */
} fixture;

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    FILE *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buffer[8192];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, in)) > 0)
        assert_int_equal(fwrite(buffer, 1, got, out), got);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* A fresh temporary folder holding a copy of tests/data/results/<name> (NULL: empty). */
static int setup_copy_of(void **state, const char *name)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->directory, sizeof f->directory, "/tmp/test_report.XXXXXX");
    if (f == NULL || mkdtemp(f->directory) == NULL)
        return -1;
    if (name != NULL) {
        char source[PATH_MAX];
        snprintf(source, sizeof source, "%s/%s", REPORT_TEST_DATA, name);
        DIR *directory = opendir(source);
        if (directory == NULL)
            return -1;
        struct dirent *entry;
        while ((entry = readdir(directory)) != NULL) {
            if (entry->d_name[0] == '.')
                continue;
            char from[PATH_MAX], to[PATH_MAX];
            snprintf(from, sizeof from, "%s/%s", source, entry->d_name);
            snprintf(to, sizeof to, "%s/%s", f->directory, entry->d_name);
            copy_file(from, to);
        }
        closedir(directory);
    }
    *state = f;
    return 0;
}

static int setup_sweep(void **state)
{
    return setup_copy_of(state, "sweep");
}

static int setup_spin(void **state)
{
    return setup_copy_of(state, "spin");
}

static int setup_heavy_load(void **state)
{
    return setup_copy_of(state, "heavy-load");
}

static int setup_empty(void **state)
{
    return setup_copy_of(state, NULL);
}

static int teardown(void **state)
{
    fixture *f = *state;
    DIR *directory = opendir(f->directory);
    if (directory != NULL) {
        struct dirent *entry;
        while ((entry = readdir(directory)) != NULL) {
            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", f->directory, entry->d_name);
            unlink(path);
        }
        closedir(directory);
    }
    rmdir(f->directory);
    free(f);
    return 0;
}

/* The whole file as a string (free it), or NULL when it is not there. */
static char *read_whole(const fixture *f, const char *name, size_t *length)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", f->directory, name);
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    rewind(file);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, file), (size_t)size);
    text[size] = '\0';
    fclose(file);
    if (length)
        *length = (size_t)size;
    return text;
}

static void render_or_fail(const fixture *f)
{
    char error[REPORT_ERROR_BYTES] = "";
    int rc = report_render(f->directory, error, sizeof error);
    if (rc != 0)
        fail_msg("report_render: %s", error);
}

static void assert_chart_drawn(const fixture *f, const char *chart)
{
    char name[128];
    size_t length = 0;
    snprintf(name, sizeof name, "report-%s.png", chart);
    char *png = read_whole(f, name, &length);
    if (png == NULL)
        fail_msg("%s was not written", name);
    assert_true(length > PNG_SIGNATURE_BYTES);
    assert_memory_equal(png, PNG_SIGNATURE, PNG_SIGNATURE_BYTES);
    free(png);
    snprintf(name, sizeof name, "report-%s.svg", chart);
    char *svg = read_whole(f, name, NULL);
    if (svg == NULL)
        fail_msg("%s was not written", name);
    assert_non_null(strstr(svg, "<svg"));
    free(svg);
    static const char *const beside[] = {"dat", "gp"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "report-%s.%s", chart, beside[i]);
        char *text = read_whole(f, name, &length);
        if (text == NULL || length == 0)
            fail_msg("%s was not written beside the chart", name);
        free(text);
    }
}

static void render_draws_every_chart_as_png_and_svg(void **state)
{
    fixture *f = *state;
    render_or_fail(f);
    assert_chart_drawn(f, "throughput");
    assert_chart_drawn(f, "latency");
    for (int i = 1; i <= 8; i++) {
        char chart[32];
        snprintf(chart, sizeof chart, "cpu-%d", i);
        assert_chart_drawn(f, chart);
    }
}

static void index_has_a_row_per_case_with_html_escaped_text(void **state)
{
    fixture *f = *state;
    render_or_fail(f);
    char *html = read_whole(f, "index.html", NULL);
    assert_non_null(html);
    static const char *const sizes[] = {"1024", "65536", "1048576"};
    for (int threads = 1; threads <= 4; threads += 3)
        for (size_t s = 0; s < 3; s++) {
            char row[256];
            snprintf(row, sizeof row,
                     "<td>value-size-sweep/server.io_threads=%d,client.value_size=%s</td>"
                     "<td>pass</td><td class=\"outcome\">as expected</td>",
                     threads, sizes[s]);
            if (strstr(html, row) == NULL)
                fail_msg("no row %s", row);
        }
    assert_non_null(strstr(html, "<tr class=\"known\"><td>value-size-sweep/server.io_threads=1,"
                                 "client.value_size=16777216 &lt;&quot;big&quot;&gt;&amp;co</td>"
                                 "<td>stall</td><td class=\"outcome\">KNOWN</td>"));
    assert_non_null(strstr(html, "<td>STALL &lt;known bug #2893&gt; &amp; &quot;expected&quot; "
                                 "(1 of 1)</td>"));
    assert_null(strstr(html, "<\"big\">"));
    assert_null(strstr(html, "<known bug"));
    /* ops/s and latencies of the first case, with units. */
    assert_non_null(strstr(html, "<td class=\"number\">6000</td><td class=\"number\">400 µs</td>"
                                 "<td class=\"number\">1.72 ms</td>"));
    assert_non_null(strstr(html, "<a href=\"summary.json\">summary.json</a>"));
    assert_non_null(strstr(html, "<a href=\"junit.xml\">junit.xml</a>"));
    assert_non_null(strstr(html, "stacks.txt (none)"));
    assert_non_null(strstr(html, "<img src=\"report-throughput.png\""));
    assert_non_null(strstr(html, "<img src=\"report-cpu-8.png\""));
    free(html);
}

static void size_axis_is_log2_with_binary_unit_labels(void **state)
{
    fixture *f = *state;
    render_or_fail(f);
    char *script = read_whole(f, "report-throughput.gp", NULL);
    assert_non_null(script);
    assert_non_null(strstr(script, "set logscale x 2"));
    assert_non_null(strstr(script, "\"1KiB\" 1024"));
    assert_non_null(strstr(script, "\"64KiB\" 65536"));
    assert_non_null(strstr(script, "\"1MiB\" 1048576"));
    assert_non_null(strstr(script, "\"16MiB\" 16777216"));
    assert_non_null(strstr(script, "title \"io-threads 1\""));
    assert_non_null(strstr(script, "title \"io-threads 4\""));
    free(script);
    char *data = read_whole(f, "report-throughput.dat", NULL);
    assert_non_null(data);
    assert_non_null(strstr(data, "# io-threads 1\n1024 6000\n65536 2400\n"));
    free(data);
}

static void size_labels_use_binary_units(void **state)
{
    (void)state;
    static const struct {
        uint64_t bytes;
        const char *label;
    } cases[] = {{0, "0B"},
                 {512, "512B"},
                 {1024, "1KiB"},
                 {1536, "1.5KiB"},
                 {1048576, "1MiB"},
                 {16777216, "16MiB"},
                 {1048575, "1048575B"},
                 {1048577, "1048577B"},
                 {2359296, "2.25MiB"},
                 {(uint64_t)1 << 30, "1GiB"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char label[32];
        report_size_label(cases[i].bytes, label, sizeof label);
        assert_string_equal(label, cases[i].label);
    }
}

static void single_size_run_notes_why_there_is_no_throughput_chart(void **state)
{
    fixture *f = *state;
    render_or_fail(f);
    assert_null(read_whole(f, "report-throughput.png", NULL));
    char *html = read_whole(f, "index.html", NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "No throughput-against-value-size chart: this run has a single "
                                 "value size"));
    assert_non_null(strstr(html, "<a href=\"stacks.txt\">stacks.txt</a>"));
    assert_non_null(strstr(html, "<a href=\"server.log\">server.log</a>"));
    free(html);
    assert_chart_drawn(f, "latency");
    assert_chart_drawn(f, "cpu-1");
}

static void cpu_chart_marks_the_spin_onset_and_its_detection(void **state)
{
    fixture *f = *state;
    render_or_fail(f);
    char *script = read_whole(f, "report-cpu-1.gp", NULL);
    assert_non_null(script);
    assert_non_null(strstr(script, "set arrow 1 from 9.552, graph 0 to 9.552, graph 1"));
    assert_non_null(strstr(script, "set label 1 \"SPIN onset 9.6 s\" at 9.552"));
    assert_non_null(strstr(script, "set arrow 2 from 12.57"));
    assert_non_null(strstr(script, "\"detected 12.6 s\""));
    assert_non_null(strstr(script, "set xlabel \"time since the case started (s)\""));
    assert_non_null(strstr(script, "set ylabel \"CPU (% of one core)\""));
    free(script);
}

static void cpu_chart_leaves_idle_threads_out(void **state)
{
    fixture *f = *state;
    render_or_fail(f);
    char *data = read_whole(f, "report-cpu-1.dat", NULL);
    assert_non_null(data);
    assert_non_null(strstr(data, "# valkey-server (tid 179)\n"));
    assert_non_null(strstr(data, "# io_thd_1 (tid 185)\n"));
    assert_null(strstr(data, "bio_aof"));
    assert_null(strstr(data, "jemalloc_bg_thd"));
    free(data);
    char *script = read_whole(f, "report-cpu-1.gp", NULL);
    assert_non_null(script);
    assert_non_null(strstr(script, "4 of 13 threads; the rest idle"));
    assert_null(strstr(script, "set arrow")); /* a PASS has no onset */
    free(script);
}

/* A thread name is the server's to choose (15 bytes): one with backquotes must reach the
 * chart as text, never as a command gnuplot runs. */
static void thread_name_with_backquotes_is_drawn_not_run(void **state)
{
    fixture *f = *state;
    size_t length = 0;
    char *csv = read_whole(f, "cpu.csv", &length);
    assert_non_null(csv);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cpu.csv", f->directory);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    /* io_thd_1 becomes `touch pwned` (14 bytes, a valid thread name). */
    const char *from = ",io_thd_1,";
    for (const char *at = csv; *at != '\0';) {
        const char *hit = strstr(at, from);
        if (hit == NULL) {
            fputs(at, file);
            break;
        }
        fwrite(at, 1, (size_t)(hit - at), file);
        fputs(",`touch pwned`,", file);
        at = hit + strlen(from);
    }
    fclose(file);
    free(csv);
    render_or_fail(f);
    char *script = read_whole(f, "report-cpu-1.gp", NULL);
    assert_non_null(script);
    assert_null(strchr(script, '`'));
    assert_non_null(strstr(script, "'touch pwned'"));
    free(script);
    snprintf(path, sizeof path, "%s/pwned", f->directory);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(access("pwned", F_OK), -1);
}

static void missing_summary_is_one_line_naming_the_file(void **state)
{
    fixture *f = *state;
    char error[REPORT_ERROR_BYTES] = "";
    assert_int_equal(report_render(f->directory, error, sizeof error), -1);
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof expected, "%s/summary.json: cannot read: No such file or directory",
             f->directory);
    assert_string_equal(error, expected);
    assert_null(read_whole(f, "index.html", NULL));
}

static void broken_summary_names_the_file_and_line(void **state)
{
    fixture *f = *state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/summary.json", f->directory);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("{\"cases\": [\n", file);
    fclose(file);
    char error[REPORT_ERROR_BYTES] = "";
    assert_int_equal(report_render(f->directory, error, sizeof error), -1);
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof expected, "%s/summary.json:", f->directory);
    assert_memory_equal(error, expected, strlen(expected));
    assert_non_null(strstr(error, "not valid JSON"));
    assert_null(strchr(error, '\n'));
}

static void comparison_writes_a_block_per_case_and_side(void **state)
{
    fixture *f = *state;
    const double baseline_a[] = {100, 102, 98.5};
    const double candidate_a[] = {90, 91.25};
    const double baseline_b[] = {5000};
    report_comparison_case cases[] = {
        {"sweep/io_threads=1", baseline_a, 3, candidate_a, 2},
        {"sweep/io_threads=8", baseline_b, 1, NULL, 0},
    };
    char error[REPORT_ERROR_BYTES] = "";
    int rc = report_render_comparison(f->directory, "throughput (requests/s)", cases, 2, error,
                                      sizeof error);
    if (rc != 0)
        fail_msg("report_render_comparison: %s", error);
    char *data = read_whole(f, "report-comparison.dat", NULL);
    assert_non_null(data);
    /* Blocks 0..3 in gnuplot's index order, two blank lines between. */
    assert_non_null(strstr(data, "# sweep/io_threads=1 baseline\n100\n102\n98.5\n\n\n"
                                 "# sweep/io_threads=1 candidate\n90\n91.25\n\n\n"
                                 "# sweep/io_threads=8 baseline\n5000\n\n\n"
                                 "# sweep/io_threads=8 candidate (no samples)\nNaN\n"));
    free(data);
    assert_chart_drawn(f, "comparison");
    char *script = read_whole(f, "report-comparison.gp", NULL);
    assert_non_null(script);
    assert_non_null(strstr(script, "set ylabel \"throughput (requests/s)\""));
    assert_non_null(strstr(script, "title \"baseline\""));
    assert_non_null(strstr(script, "title \"candidate\""));
    assert_null(strstr(script, "index 3 ")); /* the empty side is not drawn */
    free(script);
}

static void comparison_without_samples_is_an_error(void **state)
{
    fixture *f = *state;
    report_comparison_case empty = {"x", NULL, 0, NULL, 0};
    char error[REPORT_ERROR_BYTES] = "";
    assert_int_equal(report_render_comparison(f->directory, "v", &empty, 1, error, sizeof error),
                     -1);
    assert_non_null(strstr(error, "report-comparison.dat: no samples to compare"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(render_draws_every_chart_as_png_and_svg, setup_sweep,
                                        teardown),
        cmocka_unit_test_setup_teardown(index_has_a_row_per_case_with_html_escaped_text,
                                        setup_sweep, teardown),
        cmocka_unit_test_setup_teardown(size_axis_is_log2_with_binary_unit_labels, setup_sweep,
                                        teardown),
        cmocka_unit_test(size_labels_use_binary_units),
        cmocka_unit_test_setup_teardown(single_size_run_notes_why_there_is_no_throughput_chart,
                                        setup_spin, teardown),
        cmocka_unit_test_setup_teardown(cpu_chart_marks_the_spin_onset_and_its_detection,
                                        setup_spin, teardown),
        cmocka_unit_test_setup_teardown(cpu_chart_leaves_idle_threads_out, setup_heavy_load,
                                        teardown),
        cmocka_unit_test_setup_teardown(thread_name_with_backquotes_is_drawn_not_run,
                                        setup_heavy_load, teardown),
        cmocka_unit_test_setup_teardown(missing_summary_is_one_line_naming_the_file, setup_empty,
                                        teardown),
        cmocka_unit_test_setup_teardown(broken_summary_names_the_file_and_line, setup_empty,
                                        teardown),
        cmocka_unit_test_setup_teardown(comparison_writes_a_block_per_case_and_side, setup_empty,
                                        teardown),
        cmocka_unit_test_setup_teardown(comparison_without_samples_is_an_error, setup_empty,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
