#include "results_merge.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "results.h"

#define MERGED_LABEL "merged"
#define CSV_HEADER_BYTES 512

typedef struct merged_case {
    json_t *object;  /* borrowed from its summary */
    size_t source;   /* which input, for messages and a stable order */
    size_t position; /* within its input */
} merged_case;

static bool has_index(const merged_case *one)
{
    return json_is_integer(json_object_get(one->object, "case_index"));
}

static json_int_t index_of(const merged_case *one)
{
    return json_integer_value(json_object_get(one->object, "case_index"));
}

static const char *name_of(const merged_case *one)
{
    const char *name = json_string_value(json_object_get(one->object, "name"));
    return name ? name : "";
}

static int by_input_order(const merged_case *a, const merged_case *b)
{
    if (a->source != b->source)
        return a->source < b->source ? -1 : 1;
    return a->position < b->position ? -1 : a->position > b->position;
}

static int by_case_index(const void *left, const void *right)
{
    const merged_case *a = left, *b = right;
    if (index_of(a) != index_of(b))
        return index_of(a) < index_of(b) ? -1 : 1;
    return by_input_order(a, b);
}

static int by_name(const void *left, const void *right)
{
    const merged_case *a = left, *b = right;
    int order = strcmp(name_of(a), name_of(b));
    return order != 0 ? order : by_input_order(a, b);
}

static bool same_case(const merged_case *a, const merged_case *b)
{
    if (strcmp(name_of(a), name_of(b)) != 0 || has_index(a) != has_index(b))
        return false;
    return !has_index(a) || index_of(a) == index_of(b);
}

/* The field's value when every summary holding it agrees, else MERGED_LABEL. */
static const char *common_text(json_t *const *summaries, size_t count, const char *key)
{
    const char *common = NULL;
    for (size_t i = 0; i < count; i++) {
        const char *value = json_string_value(json_object_get(summaries[i], key));
        if (value == NULL)
            continue;
        if (common == NULL)
            common = value;
        else if (strcmp(common, value) != 0)
            return MERGED_LABEL;
    }
    return common;
}

json_t *results_merge_summaries(json_t *const *summaries, const char *const *sources, size_t count,
                                char *error, size_t error_size)
{
    if (count == 0) {
        snprintf(error, error_size, "nothing to merge");
        return NULL;
    }
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if (!json_is_object(summaries[i]) ||
            !json_is_array(json_object_get(summaries[i], "cases"))) {
            snprintf(error, error_size, "%s: not a results summary (no \"cases\" list)",
                     sources[i]);
            return NULL;
        }
        total += json_array_size(json_object_get(summaries[i], "cases"));
    }
    merged_case *cases = calloc(total + 1, sizeof *cases);
    if (cases == NULL) {
        snprintf(error, error_size, "out of memory merging %zu summaries", count);
        return NULL;
    }
    size_t used = 0;
    bool every_case_indexed = true;
    for (size_t i = 0; i < count; i++) {
        size_t position;
        json_t *one;
        json_array_foreach(json_object_get(summaries[i], "cases"), position, one)
        {
            cases[used] = (merged_case){one, i, position};
            every_case_indexed &= has_index(&cases[used]);
            used++;
        }
    }
    for (size_t a = 0; a < used; a++) {
        for (size_t b = a + 1; b < used; b++) {
            if (same_case(&cases[a], &cases[b])) {
                snprintf(error, error_size,
                         "%s and %s both hold case %s (the same shard given twice?)",
                         sources[cases[a].source], sources[cases[b].source], name_of(&cases[a]));
                free(cases);
                return NULL;
            }
        }
    }
    bool indexes_unique = every_case_indexed;
    for (size_t a = 0; a < used && indexes_unique; a++)
        for (size_t b = a + 1; b < used && indexes_unique; b++)
            indexes_unique = index_of(&cases[a]) != index_of(&cases[b]);
    qsort(cases, used, sizeof *cases, indexes_unique ? by_case_index : by_name);

    json_t *merged = json_deep_copy(summaries[0]);
    json_t *case_list = json_array();
    json_t *merged_from = json_array();
    json_t *shards = json_array();
    bool failed = merged == NULL || case_list == NULL || merged_from == NULL || shards == NULL;
    for (size_t i = 0; i < used && !failed; i++)
        failed = json_array_append(case_list, cases[i].object) != 0;
    const char *earliest = NULL;
    for (size_t i = 0; i < count && !failed; i++) {
        failed = json_array_append_new(merged_from, json_string(sources[i])) != 0;
        const char *shard = json_string_value(json_object_get(summaries[i], "shard"));
        if (shard != NULL && !failed)
            failed = json_array_append_new(shards, json_string(shard)) != 0;
        const char *started = json_string_value(json_object_get(summaries[i], "started"));
        if (started != NULL && (earliest == NULL || strcmp(started, earliest) < 0))
            earliest = started; /* ISO 8601 UTC text sorts as time does */
    }
    free(cases);
    if (!failed) {
        const char *scenario = common_text(summaries, count, "scenario");
        const char *scenario_file = common_text(summaries, count, "scenario_file");
        json_object_del(merged, "shard");
        if (scenario != NULL)
            json_object_set_new(merged, "scenario", json_string(scenario));
        if (scenario_file != NULL)
            json_object_set_new(merged, "scenario_file", json_string(scenario_file));
        if (earliest != NULL)
            json_object_set_new(merged, "started", json_string(earliest));
        failed = json_object_set(merged, "cases", case_list) != 0 ||
                 json_object_set(merged, "merged_from", merged_from) != 0 ||
                 json_object_set(merged, "shards", shards) != 0;
    }
    json_decref(case_list);
    json_decref(merged_from);
    json_decref(shards);
    if (failed) {
        json_decref(merged);
        snprintf(error, error_size, "out of memory merging %zu summaries", count);
        return NULL;
    }
    return merged;
}

/* ---- files ------------------------------------------------------------------------- */

/* Appends every input's copy of name to out_dir/name; for a CSV the first line is a
 * header that must be the same in every input and is written once. Inputs without the
 * file are passed over. */
static int join_files(const char *const *folders, size_t count, const char *out_dir,
                      const char *name, bool has_header, char *error, size_t error_size)
{
    char out_path[PATH_MAX];
    snprintf(out_path, sizeof out_path, "%s/%s", out_dir, name);
    FILE *out = NULL;
    char header[CSV_HEADER_BYTES] = "";
    char header_source[PATH_MAX] = "";
    int status = 0;
    for (size_t i = 0; i < count && status == 0; i++) {
        char in_path[PATH_MAX];
        snprintf(in_path, sizeof in_path, "%s/%s", folders[i], name);
        FILE *in = fopen(in_path, "re");
        if (in == NULL)
            continue;
        if (out == NULL && (out = fopen(out_path, "we")) == NULL) {
            snprintf(error, error_size, "%s: cannot create: %s", out_path, strerror(errno));
            fclose(in);
            return -1;
        }
        if (has_header) {
            char line[CSV_HEADER_BYTES];
            if (fgets(line, sizeof line, in) == NULL)
                line[0] = '\0';
            if (header_source[0] == '\0') {
                snprintf(header, sizeof header, "%s", line);
                snprintf(header_source, sizeof header_source, "%s", in_path);
                fputs(header, out);
            } else if (strcmp(header, line) != 0) {
                snprintf(error, error_size, "%s: its header differs from that of %s", in_path,
                         header_source);
                status = -1;
            }
        }
        char buffer[8192];
        size_t got;
        while (status == 0 && (got = fread(buffer, 1, sizeof buffer, in)) > 0) {
            if (fwrite(buffer, 1, got, out) != got) {
                snprintf(error, error_size, "%s: cannot write: %s", out_path, strerror(errno));
                status = -1;
            }
        }
        fclose(in);
    }
    if (out != NULL && fclose(out) != 0 && status == 0) {
        snprintf(error, error_size, "%s: cannot write: %s", out_path, strerror(errno));
        status = -1;
    }
    return status;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

int results_merge_folders(const char *const *folders, size_t count, const char *out_dir,
                          char *error, size_t error_size)
{
    json_t **summaries = calloc(count + 1, sizeof *summaries);
    if (summaries == NULL) {
        snprintf(error, error_size, "out of memory merging %zu folders", count);
        return -1;
    }
    int status = 0;
    for (size_t i = 0; i < count && status == 0; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/summary.json", folders[i]);
        json_error_t parse_error;
        summaries[i] = json_load_file(path, 0, &parse_error);
        if (summaries[i] == NULL) {
            if (parse_error.line < 0)
                snprintf(error, error_size, "%s: %s", path, parse_error.text);
            else
                snprintf(error, error_size, "%s:%d:%d: %s", path, parse_error.line,
                         parse_error.column, parse_error.text);
            status = -1;
        }
    }
    json_t *merged = NULL;
    if (status == 0) {
        merged = results_merge_summaries(summaries, folders, count, error, error_size);
        status = merged ? 0 : -1;
    }
    char existing[PATH_MAX];
    snprintf(existing, sizeof existing, "%s/summary.json", out_dir);
    struct stat info;
    if (status == 0 && stat(existing, &info) == 0) {
        snprintf(error, error_size, "%s: already holds a summary.json; give --out a new folder",
                 out_dir);
        status = -1;
    }
    if (status == 0 && mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        snprintf(error, error_size, "%s: cannot create the folder: %s", out_dir, strerror(errno));
        status = -1;
    }
    char *summary_text = NULL, *junit = NULL;
    if (status == 0) {
        json_object_set_new(merged, "folder", json_string(base_name(out_dir)));
        summary_text = json_dumps(merged, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        junit = results_junit_from_summary(merged);
        if (summary_text == NULL || junit == NULL) {
            snprintf(error, error_size, "out of memory merging into %s", out_dir);
            status = -1;
        }
    }
    if (status == 0) {
        size_t length = strlen(summary_text);
        char *with_newline = realloc(summary_text, length + 2);
        if (with_newline != NULL) {
            summary_text = with_newline;
            summary_text[length] = '\n';
            summary_text[length + 1] = '\0';
        }
    }
    if (status == 0)
        status = join_files(folders, count, out_dir, "cpu.csv", true, error, error_size);
    if (status == 0)
        status = join_files(folders, count, out_dir, "progress.csv", true, error, error_size);
    if (status == 0)
        status = join_files(folders, count, out_dir, "server.log", false, error, error_size);
    if (status == 0)
        status = join_files(folders, count, out_dir, "stacks.txt", false, error, error_size);
    /* The summary last: a folder with one is a finished merge. */
    if (status == 0)
        status = results_write_file_atomically(out_dir, "junit.xml", junit, error, error_size);
    if (status == 0)
        status =
            results_write_file_atomically(out_dir, "summary.json", summary_text, error, error_size);
    free(summary_text);
    free(junit);
    json_decref(merged);
    for (size_t i = 0; i < count; i++)
        json_decref(summaries[i]);
    free(summaries);
    return status;
}
