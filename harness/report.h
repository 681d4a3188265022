/*
 * report.h: the pictures of one results folder, drawn by gnuplot, and an index.html that
 * shows them beside the verdict table.
 *
 * Promises:
 * - report_render reads RUN_DIR/summary.json (and cpu.csv when there) and writes into
 *   RUN_DIR, for each chart, report-NAME.png and report-NAME.svg, plus the data
 *   (report-NAME.dat) and the gnuplot script (report-NAME.gp) that drew them, so a person
 *   can run `gnuplot report-NAME.gp` in the folder and get the same pictures.
 *   Charts: throughput against value size (log2 axis, a line per io-threads count; left
 *   out with a note when the run has fewer than 2 sizes), latency percentiles per case,
 *   and CPU per server thread over time for each case, the onset of a stall, spin, crash
 *   or data error marked. index.html is written last; it also shows
 *   report-comparison.png when an earlier report_render_comparison left one there.
 * - gnuplot runs from an argument vector (never a shell), headless, with a bound on its
 *   time; it draws PNG with pngcairo when the build has it, else with png.
 * - Every text taken from the results is escaped for HTML, and quoted for gnuplot.
 * - Failure returns -1 with one line in error naming the file and what was wrong.
 */
#ifndef HARNESS_REPORT_H
#define HARNESS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#define REPORT_ERROR_BYTES 1024
/* The CPU chart of a case draws at most this many threads, the busiest. */
#define REPORT_CPU_THREADS_MAX 6

/* Draws every chart of the results folder run_dir and writes its index.html. */
int report_render(const char *run_dir, char *error, size_t error_size);

/* The samples of one case for the baseline-against-candidate chart. */
typedef struct report_comparison_case {
    const char *name;
    const double *baseline;
    size_t baseline_count;
    const double *candidate;
    size_t candidate_count;
} report_comparison_case;

/*
 * Draws report-comparison.{png,svg} into run_dir: per case, a box of the baseline samples
 * beside a box of the candidate samples, each sample also drawn as a point. value_label
 * names the y axis with its unit, e.g. "throughput (requests/s)". The data file
 * report-comparison.dat holds two blocks per case (baseline, then candidate), each
 * headed by a "# <case> baseline|candidate" line, one sample a line, blocks separated by
 * two blank lines as gnuplot's `index` expects.
 */
int report_render_comparison(const char *run_dir, const char *value_label,
                             const report_comparison_case *cases, size_t case_count, char *error,
                             size_t error_size);

/* Pure: a byte count as a short label, "512B", "1KiB", "1.5MiB", "16MiB", "1GiB"; a count
 * that is no simple fraction of a unit stays in bytes ("1048575B"). */
void report_size_label(uint64_t bytes, char *out, size_t out_size);

#endif
