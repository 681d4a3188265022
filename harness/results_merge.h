/*
 * results_merge.h: joins the results folders of a suite's shards (or of any runs) into
 * one folder: one summary.json, one junit.xml, the CSV timelines one after the other.
 *
 * Promises:
 * - Cases keep every field. They are put in the unsharded order when every case carries
 *   a "case_index" (runs since sharding record one) and no index repeats; else by name.
 * - The same case twice (same name and same index, or same name and no index) is refused:
 *   it means one shard was given twice.
 * - Top-level fields come from the first summary; "scenario" and "scenario_file" say
 *   "merged" when the inputs differ; "started" is the earliest; "merged_from" lists the
 *   inputs and "shards" their shard labels; "shard" itself is dropped.
 * - cpu.csv and progress.csv: the header once (headers must agree), then every input's
 *   rows in input order; time_s restarts with each input. server.log and stacks.txt are
 *   joined the same way. Nothing is written when a summary cannot be read or merged;
 *   summary.json is written last, so a folder without one holds no finished merge.
 * - Errors are one line naming the file and what was wrong.
 */
#ifndef HARNESS_RESULTS_MERGE_H
#define HARNESS_RESULTS_MERGE_H

#include <jansson.h>
#include <stddef.h>

/* Pure: the merged summary (a new reference), or NULL with one line in error. sources
 * names each summary for messages and "merged_from". */
json_t *results_merge_summaries(json_t *const *summaries, const char *const *sources, size_t count,
                                char *error, size_t error_size);

/* Merges the folders into out_dir (created; it must not hold a summary.json yet). 0, or
 * -1 with one line in error. */
int results_merge_folders(const char *const *folders, size_t count, const char *out_dir,
                          char *error, size_t error_size);

#endif
