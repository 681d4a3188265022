/*
 * load_results_json.h: the load engine's results as JSON, for results/ and for judges.
 *
 * Promise: one object with the totals, latency percentiles in nanoseconds (p50, p90,
 * p99, p99.9, min, max, mean, count), failed connections per error class, the
 * per-second throughput series and one entry per connection with its state and error
 * line. Field names are stable: judges read them.
 */
#ifndef LOAD_RESULTS_JSON_H
#define LOAD_RESULTS_JSON_H

#include <jansson.h>
#include <stdio.h>

#include "load_engine.h"

/* A new reference, or NULL when out of memory. */
json_t *load_results_to_json(const load_results *results);
/* Writes the JSON, indented, to a stream. 0, or -1 with a one-line reason in error. */
int load_results_write_json(const load_results *results, FILE *stream, char *error,
                            size_t error_size);

#endif
