/*
 * load_results_json.c: the JSON layout promised by load_results_json.h.
 */
#include "load_results_json.h"

#include <string.h>

#define RESULTS_JSON_INDENT_SPACES 2

static json_t *latency_to_json(const latency_histogram *latency)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "count",
                     (json_int_t)latency_histogram_count(latency), "min_ns",
                     (json_int_t)latency_histogram_minimum(latency), "p50_ns",
                     (json_int_t)latency_histogram_percentile(latency, 50.0), "p90_ns",
                     (json_int_t)latency_histogram_percentile(latency, 90.0), "p99_ns",
                     (json_int_t)latency_histogram_percentile(latency, 99.0), "p99_9_ns",
                     (json_int_t)latency_histogram_percentile(latency, 99.9), "max_ns",
                     (json_int_t)latency_histogram_maximum(latency), "mean_ns",
                     latency_histogram_mean(latency));
}

static json_t *connection_to_json(const load_connection_result *connection)
{
    const load_connection_progress *progress = &connection->progress;
    return json_pack(
        "{s:i, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s,"
        " s:I, s:I, s:I, s:I}",
        "index", progress->index, "name", progress->name, "state",
        load_connection_state_name(progress->state), "requests_sent",
        (json_int_t)progress->requests_sent, "replies", (json_int_t)progress->replies, "sets",
        (json_int_t)connection->sets, "gets", (json_int_t)connection->gets, "get_hits",
        (json_int_t)connection->get_hits, "get_misses", (json_int_t)connection->get_misses,
        "verified_gets", (json_int_t)connection->verified_gets, "error_replies",
        (json_int_t)connection->error_replies, "first_error_reply", connection->first_error_reply,
        "error_class", load_error_class_name(progress->error_class), "error", progress->error,
        "bytes_in", (json_int_t)connection->counters.bytes_in, "bytes_out",
        (json_int_t)connection->counters.bytes_out, "buffer_recycles",
        (json_int_t)connection->counters.buffer_recycles, "peak_output_bytes",
        (json_int_t)connection->peak_output_bytes);
}

json_t *load_results_to_json(const load_results *results)
{
    json_t *errors = json_object();
    json_t *seconds = json_array();
    json_t *connections = json_array();
    if (errors == NULL || seconds == NULL || connections == NULL) {
        json_decref(errors);
        json_decref(seconds);
        json_decref(connections);
        return NULL;
    }
    for (int error_class = LOAD_ERROR_CONNECT; error_class < LOAD_ERROR_CLASS_COUNT;
         error_class++) {
        json_object_set_new(errors, load_error_class_name((load_error_class)error_class),
                            json_integer((json_int_t)results->errors[error_class]));
    }
    for (size_t s = 0; s < results->second_count; s++) {
        json_array_append_new(seconds,
                              json_pack("{s:I, s:I, s:I}", "second", (json_int_t)s, "requests",
                                        (json_int_t)results->seconds[s].requests, "value_bytes",
                                        (json_int_t)results->seconds[s].value_bytes));
    }
    for (size_t i = 0; i < results->connection_count; i++) {
        json_array_append_new(connections, connection_to_json(&results->connections[i]));
    }
    double rate =
        results->elapsed_seconds > 0.0 ? (double)results->replies / results->elapsed_seconds : 0.0;
    /* "o" steals the references, also when json_pack fails. */
    return json_pack(
        "{s:f, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o,"
        " s:o, s:o}",
        "elapsed_seconds", results->elapsed_seconds, "requests_sent",
        (json_int_t)results->requests_sent, "replies", (json_int_t)results->replies,
        "replies_per_second", rate, "sets", (json_int_t)results->sets, "gets",
        (json_int_t)results->gets, "get_hits", (json_int_t)results->get_hits, "get_misses",
        (json_int_t)results->get_misses, "verified_gets", (json_int_t)results->verified_gets,
        "error_replies", (json_int_t)results->error_replies, "value_bytes",
        (json_int_t)results->value_bytes, "failed_connections",
        (json_int_t)results->failed_connections, "errors", errors, "latency",
        latency_to_json(&results->latency), "per_second", seconds, "connections", connections);
}

int load_results_write_json(const load_results *results, FILE *stream, char *error,
                            size_t error_size)
{
    json_t *document = load_results_to_json(results);
    if (document == NULL) {
        snprintf(error, error_size, "out of memory building the results JSON");
        return -1;
    }
    int dumped =
        json_dumpf(document, stream, JSON_INDENT(RESULTS_JSON_INDENT_SPACES) | JSON_PRESERVE_ORDER);
    json_decref(document);
    if (dumped != 0 || fputc('\n', stream) == EOF) {
        snprintf(error, error_size, "could not write the results JSON");
        return -1;
    }
    return 0;
}
