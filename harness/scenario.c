/*
 * scenario.c: loads a scenario file with libyaml's document API, checks it against a
 * table of known fields, and expands its matrix into cases.
 *
 * Every scalar field lives in one table (`fields`): its section, name, type, range and
 * whether a matrix may vary it. The same parser reads a field in its section and a value
 * in a matrix list, so both are checked alike and render to the same canonical text,
 * which names cases, finds duplicate matrix values and matches overrides.
 */
#include "scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* A scenario is a page of text; anything bigger is not one. */
#define SCENARIO_FILE_MAX_BYTES (1024 * 1024)
/* Canonical text of one value: a value_size list of 16 sizes fits. */
#define VALUE_TEXT_SIZE 256

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define SECOND_MS ((uint64_t)1000)
#define MINUTE_MS (60 * SECOND_MS)
#define HOUR_MS (60 * MINUTE_MS)

/* Defaults: see scenarios/README.md, which must say the same. */
#define DEFAULT_CONNECTIONS 4
#define DEFAULT_KEYSPACE 1000
#define DEFAULT_REQUESTS 10000
#define DEFAULT_VALUE_SIZE 256
/* Valkey's own RDMA clients advertise a 1 MiB receive buffer. */
#define DEFAULT_RX_BUFFER MIB
/* The issue asks for a sample at least every 100 ms. */
#define DEFAULT_SAMPLE_INTERVAL_MS 100
#define DEFAULT_SPIN_THRESHOLD_PERCENT 90
/* Long enough that a busy-polling IO thread between bursts is not a spin, short enough
 * that a reproduction answers within seconds on the slow emulated test bed. */
#define DEFAULT_SPIN_WINDOW_MS (3 * SECOND_MS)
#define DEFAULT_STALL_TIMEOUT_MS (10 * SECOND_MS)
#define DEFAULT_PROBE_INTERVAL_MS SECOND_MS
#define DEFAULT_PROBE_TIMEOUT_MS (2 * SECOND_MS)
#define DEFAULT_FAULT_AFTER_MS SECOND_MS
#define DEFAULT_FAULT_DURATION_MS (5 * SECOND_MS)

typedef enum field_type {
    FIELD_INTEGER,
    FIELD_BOOLEAN,
    FIELD_SIZE,     /* bytes, with unit suffixes */
    FIELD_DURATION, /* milliseconds, unit required */
    FIELD_TEXT,
    FIELD_TRANSPORT,
    FIELD_VERDICT,
    FIELD_EXPECT, /* a verdict or a non-empty list of verdicts */
    FIELD_FAULT_KIND,
    FIELD_VALUE_SIZE, /* a size, a list of sizes or {min, max} */
    FIELD_MIX,
    FIELD_COMMANDS,
    FIELD_EXTRA_CONFIG,
    FIELD_VERDICT_LIST,
} field_type;

typedef struct field {
    const char *section; /* "" for the top level */
    const char *name;
    const char *path; /* section.name, as a matrix key says it */
    field_type type;
    uint64_t min, max; /* for integers, sizes and durations */
    bool matrix;       /* may a matrix vary it */
    size_t offset;     /* into scenario_settings */
} field;

#define AT(member) offsetof(scenario_settings, member)

static const field fields[] = {
    {"", "name", "name", FIELD_TEXT, 0, 0, false, AT(name)},
    {"", "description", "description", FIELD_TEXT, 0, 0, false, AT(description)},
    {"", "expect", "expect", FIELD_EXPECT, 0, 0, false, AT(expect)},
    {"", "repetitions", "repetitions", FIELD_INTEGER, 1, 1000, true, AT(repetitions)},
    {"server", "io_threads", "server.io_threads", FIELD_INTEGER, 1, 256, true,
     AT(server.io_threads)},
    {"server", "io_threads_always_active", "server.io_threads_always_active", FIELD_BOOLEAN, 0, 0,
     true, AT(server.io_threads_always_active)},
    /* The range Valkey 8.1+ accepts for rdma-rx-size. */
    {"server", "rdma_rx_size", "server.rdma_rx_size", FIELD_SIZE, 64 * KIB, 16 * MIB, true,
     AT(server.rdma_rx_size)},
    {"server", "extra_config", "server.extra_config", FIELD_EXTRA_CONFIG, 0, 0, false, 0},
    {"server", "fresh_per_case", "server.fresh_per_case", FIELD_BOOLEAN, 0, 0, false,
     AT(server.fresh_per_case)},
    {"server", "cpu", "server.cpu", FIELD_INTEGER, 0, 1023, true, AT(server.cpu)},
    {"client", "transport", "client.transport", FIELD_TRANSPORT, 0, 0, true, AT(client.transport)},
    {"client", "connections", "client.connections", FIELD_INTEGER, 1, 10000, true,
     AT(client.connections)},
    {"client", "threads", "client.threads", FIELD_INTEGER, 1, 1024, true, AT(client.threads)},
    {"client", "pipeline", "client.pipeline", FIELD_INTEGER, 1, 100000, true, AT(client.pipeline)},
    {"client", "mix", "client.mix", FIELD_MIX, 0, 1000000, false, 0},
    {"client", "commands", "client.commands", FIELD_COMMANDS, 0, 0, false, 0},
    /* Valkey's default proto-max-bulk-len is 512 MB. */
    {"client", "value_size", "client.value_size", FIELD_VALUE_SIZE, 1, 512 * MIB, true,
     AT(client.value_size)},
    {"client", "keyspace", "client.keyspace", FIELD_INTEGER, 1, UINT64_C(1) << 40, true,
     AT(client.keyspace)},
    {"client", "requests", "client.requests", FIELD_INTEGER, 1, UINT64_C(1000000000000), true,
     AT(client.requests)},
    {"client", "duration", "client.duration", FIELD_DURATION, 1, 24 * HOUR_MS, true,
     AT(client.duration_ms)},
    {"client", "rate", "client.rate", FIELD_INTEGER, 1, 1000000000, true, AT(client.rate)},
    {"client", "verify", "client.verify", FIELD_BOOLEAN, 0, 0, true, AT(client.verify)},
    {"client", "cpu", "client.cpu", FIELD_INTEGER, 0, 1023, true, AT(client.cpu)},
    {"client", "rx_buffer", "client.rx_buffer", FIELD_SIZE, 4 * KIB, GIB, true,
     AT(client.rx_buffer)},
    {"client", "max_write", "client.max_write", FIELD_SIZE, 4 * KIB, 16 * MIB, true,
     AT(client.max_write)},
    {"client", "disconnects_expected", "client.disconnects_expected", FIELD_BOOLEAN, 0, 0, false,
     AT(client.disconnects_expected)},
    {"client", "idle_before_load", "client.idle_before_load", FIELD_DURATION, 1, HOUR_MS, true,
     AT(client.idle_before_load_ms)},
    {"watchdog", "sample_interval", "watchdog.sample_interval", FIELD_DURATION, 10, 100, true,
     AT(watchdog.sample_interval_ms)},
    {"watchdog", "spin_threshold", "watchdog.spin_threshold", FIELD_INTEGER, 1, 100, true,
     AT(watchdog.spin_threshold)},
    {"watchdog", "spin_window", "watchdog.spin_window", FIELD_DURATION, 100, 10 * MINUTE_MS, true,
     AT(watchdog.spin_window_ms)},
    {"watchdog", "stall_timeout", "watchdog.stall_timeout", FIELD_DURATION, 100, HOUR_MS, true,
     AT(watchdog.stall_timeout_ms)},
    {"watchdog", "probe_interval", "watchdog.probe_interval", FIELD_DURATION, 100, MINUTE_MS, true,
     AT(watchdog.probe_interval_ms)},
    {"watchdog", "probe_timeout", "watchdog.probe_timeout", FIELD_DURATION, 10, MINUTE_MS, true,
     AT(watchdog.probe_timeout_ms)},
    {"known_bug", "id", "known_bug.id", FIELD_TEXT, 0, 0, false, AT(known_bug.id)},
    {"known_bug", "url", "known_bug.url", FIELD_TEXT, 0, 0, false, AT(known_bug.url)},
    {"known_bug", "verdicts", "known_bug.verdicts", FIELD_VERDICT_LIST, 0, 0, false,
     AT(known_bug.verdicts)},
    {"known_bug", "intermittent", "known_bug.intermittent", FIELD_BOOLEAN, 0, 0, false,
     AT(known_bug.intermittent)},
    {"fault", "kind", "fault.kind", FIELD_FAULT_KIND, 0, 0, false, AT(fault.kind)},
    {"fault", "after", "fault.after", FIELD_DURATION, 0, HOUR_MS, false, AT(fault.after_ms)},
    {"fault", "duration", "fault.duration", FIELD_DURATION, 1, HOUR_MS, false,
     AT(fault.duration_ms)},
    /* Faster than every 10 ms a connection would spend its life reconnecting. */
    {"churn", "every", "churn.every", FIELD_DURATION, 10, HOUR_MS, false, AT(churn.every_ms)},
    {"churn", "connections", "churn.connections", FIELD_INTEGER, 1, 10000, false,
     AT(churn.connections)},
    {"client_kill", "every", "client_kill.every", FIELD_DURATION, 100, HOUR_MS, false,
     AT(client_kill.every_ms)},
};

#define FIELD_COUNT (sizeof fields / sizeof fields[0])

static const char *const verdict_names[] = {"pass", "spin", "stall", "crash", "data"};
static const char *const transport_names[] = {"rdma", "tcp", "mixed"};
static const char *const command_names[] = {"set", "get", "ping", "del"};
static const char *const fault_kind_names[] = {"none",    "lua_busy", "debug_sleep",
                                               "sigstop", "sigkill",  "link_flap"};
#define FAULT_KIND_COUNT (sizeof fault_kind_names / sizeof fault_kind_names[0])

/* Configs the harness sets itself from dedicated fields or the test bed. */
static const char *const reserved_configs[] = {
    "io-threads",
    "io-threads-always-active",
    "events-per-io-thread",
    "rdma-rx-size",
    "port",
    "bind",
    "rdma-port",
    "rdma-bind",
    "loadmodule",
};

/* One parsed value of any field type, with the text that names it in a case. */
typedef struct field_value {
    uint64_t number; /* integers, sizes, durations, enums */
    bool boolean;
    scenario_value_size value_size;
    char text[VALUE_TEXT_SIZE];
    yaml_mark_t mark;
} field_value;

typedef struct matrix_axis {
    const field *field;
    size_t field_index;
    field_value *values;
    size_t value_count;
    yaml_mark_t key_mark;
} matrix_axis;

typedef struct override_condition {
    size_t axis;
    bool *accepted; /* one per value of the axis */
} override_condition;

typedef struct override_rule {
    override_condition *conditions;
    size_t condition_count;
    bool sets_expect, sets_known_bug, sets_repetitions;
    scenario_verdict expect;
    bool expected[SCENARIO_VERDICT_COUNT];
    scenario_known_bug known_bug;
    uint64_t repetitions;
} override_rule;

/* Where each field was set explicitly, for errors about combinations of fields. */
typedef struct field_origins {
    bool set[FIELD_COUNT];
    yaml_mark_t mark[FIELD_COUNT];
} field_origins;

typedef struct loader {
    const char *path;
    char *error;
    scenario_status status;
    yaml_document_t *document;
    field_origins origins;
    matrix_axis *axes;
    size_t axis_count;
    override_rule *rules;
    size_t rule_count;
} loader;

/* ---- errors ---------------------------------------------------------------------- */

static bool fail_at(loader *l, yaml_mark_t mark, scenario_status status, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail_at(loader *l, yaml_mark_t mark, scenario_status status, const char *format, ...)
{
    if (l->status != SCENARIO_OK)
        return false; /* the first error is the one the user sees */
    l->status = status;
    int used = snprintf(l->error, SCENARIO_ERROR_SIZE, "%s:%zu:%zu: ", l->path, mark.line + 1,
                        mark.column + 1);
    if (used < 0 || used >= SCENARIO_ERROR_SIZE)
        return false;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(l->error + used, SCENARIO_ERROR_SIZE - (size_t)used, format, arguments);
    va_end(arguments);
    /* One line, whatever a YAML value held. */
    for (char *c = l->error; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return false;
}

static bool out_of_memory(loader *l, yaml_mark_t mark)
{
    return fail_at(l, mark, SCENARIO_ERROR_MEMORY, "out of memory");
}

/* ---- names and text -------------------------------------------------------------- */

const char *scenario_verdict_name(scenario_verdict verdict)
{
    return verdict < SCENARIO_VERDICT_COUNT ? verdict_names[verdict] : "?";
}

const char *scenario_transport_name(scenario_transport transport)
{
    return transport <= SCENARIO_TRANSPORT_TCP ? transport_names[transport] : "?";
}

const char *scenario_command_name(scenario_command command)
{
    return command < SCENARIO_COMMAND_COUNT ? command_names[command] : "?";
}

const char *scenario_fault_kind_name(scenario_fault_kind kind)
{
    return (size_t)kind < FAULT_KIND_COUNT ? fault_kind_names[kind] : "?";
}

static int find_name(const char *const *names, size_t count, const char *text)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], text) == 0)
            return (int)i;
    return -1;
}

/* "a, b, c" for messages. */
static void join_names(const char *const *names, size_t first, size_t count, char *out,
                       size_t out_size)
{
    out[0] = '\0';
    for (size_t i = first; i < count; i++) {
        size_t used = strlen(out);
        snprintf(out + used, out_size - used, "%s%s", i > first ? ", " : "", names[i]);
    }
}

typedef struct unit {
    const char *suffix;
    uint64_t factor;
} unit;

/* Binary units first: a size that is a whole number of KiB reads best that way. */
static const unit size_units[] = {
    {"GiB", GIB},    {"MiB", MIB}, {"KiB", KIB}, {"GB", 1000000000},
    {"MB", 1000000}, {"kB", 1000}, {"KB", 1000}, {"B", 1},
};
static const unit duration_units[] = {
    {"h", HOUR_MS},
    {"m", MINUTE_MS},
    {"s", SECOND_MS},
    {"ms", 1},
};

static void format_with_units(uint64_t number, const unit *units, size_t unit_count, char *out,
                              size_t out_size)
{
    for (size_t i = 0; i < unit_count; i++) {
        if (number != 0 && number % units[i].factor == 0 && strcmp(units[i].suffix, "KB") != 0) {
            snprintf(out, out_size, "%" PRIu64 "%s", number / units[i].factor, units[i].suffix);
            return;
        }
    }
    snprintf(out, out_size, "0%s", units[unit_count - 1].suffix);
}

static void format_size(uint64_t bytes, char *out, size_t out_size)
{
    format_with_units(bytes, size_units, sizeof size_units / sizeof size_units[0], out, out_size);
}

static void format_duration(uint64_t milliseconds, char *out, size_t out_size)
{
    format_with_units(milliseconds, duration_units,
                      sizeof duration_units / sizeof duration_units[0], out, out_size);
}

static void format_value_size(const scenario_value_size *value_size, char *out, size_t out_size)
{
    char one[32];
    out[0] = '\0';
    for (size_t i = 0; i < value_size->count; i++) {
        format_size(value_size->sizes[i], one, sizeof one);
        size_t used = strlen(out);
        const char *separator = "";
        if (i > 0)
            separator = value_size->kind == SCENARIO_VALUE_SIZE_RANGE ? ".." : "|";
        snprintf(out + used, out_size - used, "%s%s", separator, one);
    }
}

/* ---- YAML nodes ------------------------------------------------------------------ */

static yaml_node_t *node_at(loader *l, int index)
{
    return yaml_document_get_node(l->document, index);
}

static const char *scalar_text(const yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

static bool is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *text = scalar_text(node);
    return text[0] == '\0' || strcmp(text, "~") == 0 || strcmp(text, "null") == 0 ||
           strcmp(text, "Null") == 0 || strcmp(text, "NULL") == 0;
}

/* What the user wrote, described for "got ..." in a message. */
static void describe_node(const yaml_node_t *node, char *out, size_t out_size)
{
    if (node->type == YAML_MAPPING_NODE)
        snprintf(out, out_size, "a mapping");
    else if (node->type == YAML_SEQUENCE_NODE)
        snprintf(out, out_size, "a list");
    else if (is_null(node))
        snprintf(out, out_size, "no value");
    else if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        snprintf(out, out_size, "the quoted string '%.60s'", scalar_text(node));
    else
        snprintf(out, out_size, "'%.60s'", scalar_text(node));
}

static bool fail_type(loader *l, const yaml_node_t *node, const char *path, const char *wanted)
{
    char got[96];
    describe_node(node, got, sizeof got);
    return fail_at(l, node->start_mark, SCENARIO_ERROR_INVALID, "%s must be %s, got %s", path,
                   wanted, got);
}

static bool later(yaml_mark_t a, yaml_mark_t b)
{
    return a.line > b.line || (a.line == b.line && a.column > b.column);
}

/*
 * Checks that `node` is a mapping whose keys are plain, distinct scalars. `where` names
 * the mapping in messages ("server", "the scenario").
 */
static bool check_mapping(loader *l, const yaml_node_t *node, const char *where)
{
    if (node->type != YAML_MAPPING_NODE) {
        char got[96];
        describe_node(node, got, sizeof got);
        return fail_at(l, node->start_mark, SCENARIO_ERROR_INVALID, "%s must be a mapping, got %s",
                       where, got);
    }
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = node_at(l, pair->key);
        if (key->type != YAML_SCALAR_NODE || is_null(key))
            return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID, "keys in %s must be names",
                           where);
        for (yaml_node_pair_t *earlier = node->data.mapping.pairs.start; earlier < pair;
             earlier++) {
            yaml_node_t *other = node_at(l, earlier->key);
            if (other->type == YAML_SCALAR_NODE &&
                strcmp(scalar_text(other), scalar_text(key)) == 0)
                return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                               "duplicate key '%s' in %s (first at line %zu)", scalar_text(key),
                               where, other->start_mark.line + 1);
        }
    }
    return true;
}

/* ---- scalar parsers -------------------------------------------------------------- */

/* A whole decimal number, optionally signed; false when it is not one. *overflow tells a
 * number too big for 64 bits from text that is no number at all. */
static bool parse_decimal(const char *text, size_t *length, bool *negative, uint64_t *number,
                          bool *overflow)
{
    size_t i = 0;
    *negative = false;
    *overflow = false;
    if (text[i] == '-' || text[i] == '+')
        *negative = text[i++] == '-';
    if (text[i] < '0' || text[i] > '9')
        return false;
    uint64_t value = 0;
    for (; text[i] >= '0' && text[i] <= '9'; i++) {
        unsigned digit = (unsigned)(text[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            *overflow = true;
        else
            value = value * 10 + digit;
    }
    *length = i;
    *number = value;
    return true;
}

static bool check_range(loader *l, const yaml_node_t *node, const field *f, bool negative,
                        bool overflow, uint64_t number)
{
    if (!negative && !overflow && number >= f->min && number <= f->max)
        return true;
    char low[32], high[32], got[96];
    if (f->type == FIELD_SIZE || f->type == FIELD_VALUE_SIZE) {
        format_size(f->min, low, sizeof low);
        format_size(f->max, high, sizeof high);
    } else if (f->type == FIELD_DURATION) {
        format_duration(f->min, low, sizeof low);
        format_duration(f->max, high, sizeof high);
    } else {
        snprintf(low, sizeof low, "%" PRIu64, f->min);
        snprintf(high, sizeof high, "%" PRIu64, f->max);
    }
    snprintf(got, sizeof got, "%.60s", scalar_text(node));
    return fail_at(l, node->start_mark, SCENARIO_ERROR_INVALID,
                   "%s must be between %s and %s, got %s", f->path, low, high, got);
}

static bool parse_integer(loader *l, const yaml_node_t *node, const field *f, field_value *out)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        is_null(node))
        return fail_type(l, node, f->path, "a whole number");
    size_t length;
    bool negative, overflow;
    uint64_t number;
    const char *text = scalar_text(node);
    if (!parse_decimal(text, &length, &negative, &number, &overflow) || text[length] != '\0')
        return fail_type(l, node, f->path, "a whole number");
    if (!check_range(l, node, f, negative, overflow, number))
        return false;
    out->number = number;
    snprintf(out->text, sizeof out->text, "%" PRIu64, number);
    return true;
}

/* A number and a unit from `units`; a bare number is allowed only when `bare_unit`. */
static bool parse_with_unit(loader *l, const yaml_node_t *node, const field *f, const unit *units,
                            size_t unit_count, const char *bare_unit, const char *wanted,
                            uint64_t *result)
{
    if (node->type != YAML_SCALAR_NODE || is_null(node))
        return fail_type(l, node, f->path, wanted);
    const char *text = scalar_text(node);
    size_t length;
    bool negative, overflow;
    uint64_t number;
    if (!parse_decimal(text, &length, &negative, &number, &overflow))
        return fail_type(l, node, f->path, wanted);
    const char *suffix = text + length;
    while (*suffix == ' ')
        suffix++;
    uint64_t factor = 0;
    if (*suffix == '\0' && bare_unit)
        factor = 1;
    for (size_t i = 0; i < unit_count && factor == 0; i++)
        if (strcmp(suffix, units[i].suffix) == 0)
            factor = units[i].factor;
    if (factor == 0)
        return fail_type(l, node, f->path, wanted);
    if (number > UINT64_MAX / factor)
        overflow = true;
    else
        number *= factor;
    if (!check_range(l, node, f, negative, overflow, number))
        return false;
    *result = number;
    return true;
}

static bool parse_size(loader *l, const yaml_node_t *node, const field *f, field_value *out)
{
    if (!parse_with_unit(l, node, f, size_units, sizeof size_units / sizeof size_units[0], "B",
                         "a size (a whole number with an optional unit B, KiB, MiB, GiB, kB, MB, "
                         "GB)",
                         &out->number))
        return false;
    format_size(out->number, out->text, sizeof out->text);
    return true;
}

static bool parse_duration(loader *l, const yaml_node_t *node, const field *f, field_value *out)
{
    if (!parse_with_unit(l, node, f, duration_units,
                         sizeof duration_units / sizeof duration_units[0], NULL,
                         "a duration (a whole number with a unit ms, s, m or h)", &out->number))
        return false;
    format_duration(out->number, out->text, sizeof out->text);
    return true;
}

static bool parse_boolean(loader *l, const yaml_node_t *node, const field *f, field_value *out)
{
    const char *text = node->type == YAML_SCALAR_NODE ? scalar_text(node) : "";
    bool plain =
        node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (plain && strcmp(text, "true") == 0)
        out->boolean = true;
    else if (plain && strcmp(text, "false") == 0)
        out->boolean = false;
    else
        return fail_type(l, node, f->path, "true or false");
    snprintf(out->text, sizeof out->text, "%s", out->boolean ? "true" : "false");
    return true;
}

static bool parse_choice(loader *l, const yaml_node_t *node, const field *f,
                         const char *const *names, size_t first, size_t count, field_value *out)
{
    int found = node->type == YAML_SCALAR_NODE ? find_name(names, count, scalar_text(node)) : -1;
    if (found < (int)first) {
        char known[128], wanted[160];
        join_names(names, first, count, known, sizeof known);
        snprintf(wanted, sizeof wanted, "one of %s", known);
        return fail_type(l, node, f->path, wanted);
    }
    out->number = (uint64_t)found;
    snprintf(out->text, sizeof out->text, "%s", names[found]);
    return true;
}

static bool parse_text(loader *l, const yaml_node_t *node, const field *f, field_value *out)
{
    if (node->type != YAML_SCALAR_NODE || is_null(node))
        return fail_type(l, node, f->path, "a string");
    snprintf(out->text, sizeof out->text, "%s", scalar_text(node));
    return true;
}

static bool parse_value_size(loader *l, const yaml_node_t *node, const field *f, field_value *out)
{
    scenario_value_size *value_size = &out->value_size;
    field_value one;
    memset(value_size, 0, sizeof *value_size);
    if (node->type == YAML_SCALAR_NODE) {
        if (!parse_size(l, node, f, &one))
            return false;
        value_size->kind = SCENARIO_VALUE_SIZE_FIXED;
        value_size->count = 1;
        value_size->sizes[0] = one.number;
    } else if (node->type == YAML_SEQUENCE_NODE) {
        size_t count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
        if (count == 0 || count > SCENARIO_LIST_MAX)
            return fail_at(l, node->start_mark, SCENARIO_ERROR_INVALID,
                           "%s must list between 1 and %d sizes, got %zu", f->path,
                           SCENARIO_LIST_MAX, count);
        value_size->kind = SCENARIO_VALUE_SIZE_LIST;
        for (size_t i = 0; i < count; i++) {
            if (!parse_size(l, node_at(l, node->data.sequence.items.start[i]), f, &one))
                return false;
            value_size->sizes[value_size->count++] = one.number;
        }
    } else {
        char where[64];
        snprintf(where, sizeof where, "%s", f->path);
        if (!check_mapping(l, node, where))
            return false;
        const yaml_node_t *bounds[2] = {NULL, NULL};
        for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
             pair < node->data.mapping.pairs.top; pair++) {
            yaml_node_t *key = node_at(l, pair->key);
            int which = strcmp(scalar_text(key), "min") == 0   ? 0
                        : strcmp(scalar_text(key), "max") == 0 ? 1
                                                               : -1;
            if (which < 0)
                return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                               "unknown field '%s' in %s (known: min, max)", scalar_text(key),
                               f->path);
            bounds[which] = node_at(l, pair->value);
        }
        if (!bounds[0] || !bounds[1])
            return fail_at(l, node->start_mark, SCENARIO_ERROR_INVALID,
                           "%s as a range needs both min and max", f->path);
        value_size->kind = SCENARIO_VALUE_SIZE_RANGE;
        value_size->count = 2;
        for (int i = 0; i < 2; i++) {
            if (!parse_size(l, bounds[i], f, &one))
                return false;
            value_size->sizes[i] = one.number;
        }
        if (value_size->sizes[0] > value_size->sizes[1]) {
            char low[32], high[32];
            format_size(value_size->sizes[0], low, sizeof low);
            format_size(value_size->sizes[1], high, sizeof high);
            return fail_at(l, bounds[0]->start_mark, SCENARIO_ERROR_INVALID,
                           "%s: min (%s) must not exceed max (%s)", f->path, low, high);
        }
    }
    format_value_size(value_size, out->text, sizeof out->text);
    return true;
}

/* Parses any value that a matrix may hold, or a table field in its section. */
static bool parse_value(loader *l, const yaml_node_t *node, const field *f, field_value *out)
{
    memset(out, 0, sizeof *out);
    out->mark = node->start_mark;
    switch (f->type) {
    case FIELD_INTEGER:
        return parse_integer(l, node, f, out);
    case FIELD_BOOLEAN:
        return parse_boolean(l, node, f, out);
    case FIELD_SIZE:
        return parse_size(l, node, f, out);
    case FIELD_DURATION:
        return parse_duration(l, node, f, out);
    case FIELD_TEXT:
        return parse_text(l, node, f, out);
    case FIELD_TRANSPORT:
        return parse_choice(l, node, f, transport_names, 0, 3, out);
    case FIELD_VERDICT:
        return parse_choice(l, node, f, verdict_names, 0, SCENARIO_VERDICT_COUNT, out);
    case FIELD_FAULT_KIND:
        /* "none" is the absence of a fault block, not something to write. */
        return parse_choice(l, node, f, fault_kind_names, 1, FAULT_KIND_COUNT, out);
    case FIELD_VALUE_SIZE:
        return parse_value_size(l, node, f, out);
    default:
        return false; /* structured fields have their own parsers */
    }
}

/* Stores a parsed value of a table field into `settings`. Strings are duplicated. */
static bool apply_value(scenario_settings *settings, const field *f, const field_value *value)
{
    char *base = (char *)settings;
    switch (f->type) {
    case FIELD_INTEGER:
    case FIELD_SIZE:
    case FIELD_DURATION:
        memcpy(base + f->offset, &value->number, sizeof value->number);
        return true;
    case FIELD_BOOLEAN:
        memcpy(base + f->offset, &value->boolean, sizeof value->boolean);
        return true;
    case FIELD_TRANSPORT: {
        scenario_transport transport = (scenario_transport)value->number;
        memcpy(base + f->offset, &transport, sizeof transport);
        return true;
    }
    case FIELD_VERDICT: {
        scenario_verdict verdict = (scenario_verdict)value->number;
        memcpy(base + f->offset, &verdict, sizeof verdict);
        return true;
    }
    case FIELD_FAULT_KIND: {
        scenario_fault_kind kind = (scenario_fault_kind)value->number;
        memcpy(base + f->offset, &kind, sizeof kind);
        return true;
    }
    case FIELD_VALUE_SIZE:
        memcpy(base + f->offset, &value->value_size, sizeof value->value_size);
        return true;
    case FIELD_TEXT: {
        char *copy = strdup(value->text);
        if (!copy)
            return false;
        char *old;
        memcpy(&old, base + f->offset, sizeof old);
        free(old);
        memcpy(base + f->offset, &copy, sizeof copy);
        return true;
    }
    default:
        return false;
    }
}

/* ---- structured fields ----------------------------------------------------------- */

static bool parse_mix(loader *l, const yaml_node_t *node, const field *f, scenario_client *client)
{
    if (!check_mapping(l, node, f->path))
        return false;
    uint64_t total = 0;
    memset(client->mix, 0, sizeof client->mix);
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = node_at(l, pair->key);
        int command = find_name(command_names, SCENARIO_COMMAND_COUNT, scalar_text(key));
        if (command < 0) {
            char known[64];
            join_names(command_names, 0, SCENARIO_COMMAND_COUNT, known, sizeof known);
            return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                           "unknown command '%s' in client.mix (known: %s)", scalar_text(key),
                           known);
        }
        field_value weight;
        if (!parse_integer(l, node_at(l, pair->value), f, &weight))
            return false;
        client->mix[command] = weight.number;
        total += weight.number;
    }
    if (total == 0)
        return fail_at(l, node->start_mark, SCENARIO_ERROR_INVALID,
                       "client.mix needs at least one command with a weight above 0");
    return true;
}

static bool parse_commands(loader *l, const yaml_node_t *node, const field *f,
                           scenario_client *client)
{
    if (node->type != YAML_SEQUENCE_NODE)
        return fail_type(l, node, f->path, "a list of commands");
    size_t count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (count == 0 || count > SCENARIO_LIST_MAX)
        return fail_at(l, node->start_mark, SCENARIO_ERROR_INVALID,
                       "client.commands must list between 1 and %d commands, got %zu",
                       SCENARIO_LIST_MAX, count);
    char known[64];
    join_names(command_names, 0, SCENARIO_COMMAND_COUNT, known, sizeof known);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = node_at(l, node->data.sequence.items.start[i]);
        int command = item->type == YAML_SCALAR_NODE
                          ? find_name(command_names, SCENARIO_COMMAND_COUNT, scalar_text(item))
                          : -1;
        if (command < 0) {
            char wanted[96];
            snprintf(wanted, sizeof wanted, "a list of commands (%s)", known);
            return fail_type(l, item, f->path, wanted);
        }
        client->commands[i] = (scenario_command)command;
    }
    client->command_count = count;
    return true;
}

static bool valid_config_name(const char *name)
{
    if (name[0] == '\0' || name[0] == '-')
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
              *c == '.'))
            return false;
    return true;
}

static bool parse_extra_config(loader *l, const yaml_node_t *node, const field *f,
                               scenario_server *server)
{
    if (!check_mapping(l, node, f->path))
        return false;
    size_t count = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    server->extra_config = calloc(count ? count : 1, sizeof *server->extra_config);
    if (!server->extra_config)
        return out_of_memory(l, node->start_mark);
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = node_at(l, pair->key);
        yaml_node_t *value = node_at(l, pair->value);
        const char *name = scalar_text(key);
        if (!valid_config_name(name))
            return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                           "server.extra_config: '%s' is not a config name (lower-case letters, "
                           "digits, '-', '_', '.'; no leading '-')",
                           name);
        if (find_name(reserved_configs, sizeof reserved_configs / sizeof reserved_configs[0],
                      name) >= 0)
            return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                           "server.extra_config: '%s' is set by the harness; use the server "
                           "fields or the test bed for it",
                           name);
        if (value->type != YAML_SCALAR_NODE || is_null(value)) {
            char path[160];
            snprintf(path, sizeof path, "server.extra_config.%.100s", name);
            return fail_type(l, value, path, "a string (quote an empty value: \"\")");
        }
        scenario_config_entry *entry = &server->extra_config[server->extra_config_count];
        entry->name = strdup(name);
        entry->value = strdup(scalar_text(value));
        server->extra_config_count++;
        if (!entry->name || !entry->value)
            return out_of_memory(l, key->start_mark);
    }
    return true;
}

/* expect: one verdict, or a list of them when either outcome is what happens. */
static bool parse_expect(loader *l, const yaml_node_t *node, const field *f,
                         scenario_settings *settings)
{
    field_value verdict;
    if (node->type != YAML_SEQUENCE_NODE) {
        if (!parse_choice(l, node, f, verdict_names, 0, SCENARIO_VERDICT_COUNT, &verdict))
            return false;
        settings->expect = (scenario_verdict)verdict.number;
        memset(settings->expected, 0, sizeof settings->expected);
        settings->expected[verdict.number] = true;
        return true;
    }
    if (node->data.sequence.items.top == node->data.sequence.items.start)
        return fail_type(l, node, f->path,
                         "a verdict or a non-empty list of verdicts (pass, spin, stall, crash, "
                         "data)");
    bool listed[SCENARIO_VERDICT_COUNT] = {false};
    for (yaml_node_item_t *item = node->data.sequence.items.start;
         item < node->data.sequence.items.top; item++) {
        const yaml_node_t *one = node_at(l, *item);
        if (!parse_choice(l, one, f, verdict_names, 0, SCENARIO_VERDICT_COUNT, &verdict))
            return false;
        if (listed[verdict.number])
            return fail_at(l, one->start_mark, SCENARIO_ERROR_INVALID, "%s lists %s twice", f->path,
                           verdict.text);
        if (item == node->data.sequence.items.start)
            settings->expect = (scenario_verdict)verdict.number;
        listed[verdict.number] = true;
    }
    memcpy(settings->expected, listed, sizeof listed);
    return true;
}

static bool parse_verdict_list(loader *l, const yaml_node_t *node, const field *f,
                               scenario_known_bug *known_bug)
{
    if (node->type != YAML_SEQUENCE_NODE ||
        node->data.sequence.items.top == node->data.sequence.items.start)
        return fail_type(l, node, f->path,
                         "a non-empty list of verdicts (spin, stall, crash, data)");
    memset(known_bug->verdicts, 0, sizeof known_bug->verdicts);
    for (yaml_node_item_t *item = node->data.sequence.items.start;
         item < node->data.sequence.items.top; item++) {
        field_value verdict;
        /* pass is what a fixed server gives, never what a bug produces. */
        if (!parse_choice(l, node_at(l, *item), f, verdict_names, SCENARIO_VERDICT_SPIN,
                          SCENARIO_VERDICT_COUNT, &verdict))
            return false;
        known_bug->verdicts[verdict.number] = true;
    }
    return true;
}

/* ---- sections -------------------------------------------------------------------- */

static const field *find_field(const char *section, const char *name)
{
    for (size_t i = 0; i < FIELD_COUNT; i++)
        if (strcmp(fields[i].section, section) == 0 && strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

static const field *find_field_by_path(const char *path)
{
    for (size_t i = 0; i < FIELD_COUNT; i++)
        if (strcmp(fields[i].path, path) == 0)
            return &fields[i];
    return NULL;
}

static size_t field_index(const field *f)
{
    return (size_t)(f - fields);
}

static void known_names(const char *section, char *out, size_t out_size)
{
    out[0] = '\0';
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (strcmp(fields[i].section, section) != 0)
            continue;
        size_t used = strlen(out);
        snprintf(out + used, out_size - used, "%s%s", used ? ", " : "", fields[i].name);
    }
}

static bool parse_field(loader *l, scenario_settings *settings, const field *f,
                        const yaml_node_t *key, const yaml_node_t *value)
{
    l->origins.set[field_index(f)] = true;
    l->origins.mark[field_index(f)] = key->start_mark;
    switch (f->type) {
    case FIELD_MIX:
        return parse_mix(l, value, f, &settings->client);
    case FIELD_COMMANDS:
        return parse_commands(l, value, f, &settings->client);
    case FIELD_EXTRA_CONFIG:
        return parse_extra_config(l, value, f, &settings->server);
    case FIELD_VERDICT_LIST:
        return parse_verdict_list(l, value, f, &settings->known_bug);
    case FIELD_EXPECT:
        return parse_expect(l, value, f, settings);
    default: {
        field_value parsed;
        if (!parse_value(l, value, f, &parsed))
            return false;
        if (!apply_value(settings, f, &parsed))
            return out_of_memory(l, value->start_mark);
        return true;
    }
    }
}

/* Rejects two fields of one mapping that cannot go together, naming the later one. */
static bool check_exclusive(loader *l, const char *first, const char *second, const char *why)
{
    const field *a = find_field_by_path(first), *b = find_field_by_path(second);
    size_t ia = field_index(a), ib = field_index(b);
    if (!l->origins.set[ia] || !l->origins.set[ib])
        return true;
    yaml_mark_t mark =
        later(l->origins.mark[ia], l->origins.mark[ib]) ? l->origins.mark[ia] : l->origins.mark[ib];
    return fail_at(l, mark, SCENARIO_ERROR_INVALID, "conflicting options: %s and %s%s", first,
                   second, why);
}

/* A section of table fields: server, client, watchdog, known_bug, fault. */
static bool parse_section(loader *l, scenario_settings *settings, const char *section,
                          const yaml_node_t *node)
{
    if (!check_mapping(l, node, section))
        return false;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = node_at(l, pair->key);
        const field *f = find_field(section, scalar_text(key));
        if (!f) {
            char known[512];
            known_names(section, known, sizeof known);
            return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                           "unknown field '%s' in %s (known: %s)", scalar_text(key), section,
                           known);
        }
        if (!parse_field(l, settings, f, key, node_at(l, pair->value)))
            return false;
    }
    return true;
}

static bool require_fields(loader *l, const yaml_node_t *node, const char *section,
                           const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!l->origins.set[field_index(find_field(section, names[i]))])
            return fail_at(l, node->start_mark, SCENARIO_ERROR_INVALID, "%s needs a field '%s'",
                           section, names[i]);
    }
    return true;
}

static bool parse_known_bug(loader *l, scenario_settings *settings, const yaml_node_t *node)
{
    /* url is optional: a bug found here may have no upstream issue yet. */
    static const char *const required[] = {"id", "verdicts"};
    if (!parse_section(l, settings, "known_bug", node) ||
        !require_fields(l, node, "known_bug", required, 2))
        return false;
    settings->known_bug.declared = true;
    return true;
}

static bool parse_fault(loader *l, scenario_settings *settings, const yaml_node_t *node)
{
    static const char *const required[] = {"kind"};
    if (!parse_section(l, settings, "fault", node) ||
        !require_fields(l, node, "fault", required, 1))
        return false;
    size_t duration = field_index(find_field("fault", "duration"));
    if (settings->fault.kind == SCENARIO_FAULT_SIGKILL && l->origins.set[duration])
        return fail_at(l, l->origins.mark[duration], SCENARIO_ERROR_INVALID,
                       "fault.duration has no meaning for kind sigkill");
    return true;
}

static bool parse_churn(loader *l, scenario_settings *settings, const yaml_node_t *node)
{
    static const char *const required[] = {"every"};
    if (!parse_section(l, settings, "churn", node) ||
        !require_fields(l, node, "churn", required, 1))
        return false;
    settings->churn.declared = true;
    return true;
}

static bool parse_client_kill(loader *l, scenario_settings *settings, const yaml_node_t *node)
{
    static const char *const required[] = {"every"};
    if (!parse_section(l, settings, "client_kill", node) ||
        !require_fields(l, node, "client_kill", required, 1))
        return false;
    settings->client_kill.declared = true;
    return true;
}

static bool valid_scenario_name(const char *name)
{
    if (name[0] == '\0' || name[0] == '.')
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return false;
    return true;
}

/* ---- matrix and overrides -------------------------------------------------------- */

static bool parse_matrix(loader *l, const yaml_node_t *node)
{
    if (!check_mapping(l, node, "matrix"))
        return false;
    size_t count = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    l->axes = calloc(count ? count : 1, sizeof *l->axes);
    if (!l->axes)
        return out_of_memory(l, node->start_mark);
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = node_at(l, pair->key);
        yaml_node_t *list = node_at(l, pair->value);
        const field *f = find_field_by_path(scalar_text(key));
        if (!f)
            return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                           "matrix: unknown field '%s' (write section.field, e.g. "
                           "server.io_threads)",
                           scalar_text(key));
        if (!f->matrix)
            return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                           "matrix: %s cannot vary in a matrix", f->path);
        if (l->origins.set[field_index(f)])
            return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                           "%s is set both in its section (line %zu) and in the matrix; keep one",
                           f->path, l->origins.mark[field_index(f)].line + 1);
        if (list->type != YAML_SEQUENCE_NODE)
            return fail_type(l, list, f->path, "a list of values in the matrix");
        size_t value_count =
            (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
        if (value_count == 0)
            return fail_at(l, list->start_mark, SCENARIO_ERROR_INVALID,
                           "matrix: %s has an empty list of values", f->path);
        matrix_axis *axis = &l->axes[l->axis_count++];
        axis->field = f;
        axis->field_index = field_index(f);
        axis->key_mark = key->start_mark;
        axis->values = calloc(value_count, sizeof *axis->values);
        if (!axis->values)
            return out_of_memory(l, list->start_mark);
        for (size_t i = 0; i < value_count; i++) {
            field_value *value = &axis->values[i];
            if (!parse_value(l, node_at(l, list->data.sequence.items.start[i]), f, value))
                return false;
            for (size_t j = 0; j < i; j++)
                if (strcmp(axis->values[j].text, value->text) == 0)
                    return fail_at(l, value->mark, SCENARIO_ERROR_INVALID,
                                   "matrix: %s lists %s twice", f->path, value->text);
            axis->value_count++;
        }
    }
    return true;
}

static matrix_axis *find_axis(loader *l, const char *path, size_t *index)
{
    for (size_t i = 0; i < l->axis_count; i++) {
        if (strcmp(l->axes[i].field->path, path) == 0) {
            *index = i;
            return &l->axes[i];
        }
    }
    return NULL;
}

/* when: { server.io_threads: [2, 4] } -> which values of which axis the rule matches. */
static bool parse_override_condition(loader *l, const char *where, const yaml_node_t *key,
                                     const yaml_node_t *values, override_condition *condition)
{
    matrix_axis *axis = find_axis(l, scalar_text(key), &condition->axis);
    if (!axis)
        return fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID, "%s: '%s' is not a matrix key",
                       where, scalar_text(key));
    condition->accepted = calloc(axis->value_count, sizeof *condition->accepted);
    if (!condition->accepted)
        return out_of_memory(l, key->start_mark);
    /* A value_size is itself allowed to be a list, so a list there is one value. */
    bool one_value = values->type != YAML_SEQUENCE_NODE || axis->field->type == FIELD_VALUE_SIZE;
    size_t count =
        one_value ? 1
                  : (size_t)(values->data.sequence.items.top - values->data.sequence.items.start);
    if (count == 0)
        return fail_at(l, values->start_mark, SCENARIO_ERROR_INVALID,
                       "%s: %s has an empty list of values", where, axis->field->path);
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *node =
            one_value ? values : node_at(l, values->data.sequence.items.start[i]);
        field_value value;
        if (!parse_value(l, node, axis->field, &value))
            return false;
        size_t j = 0;
        while (j < axis->value_count && strcmp(axis->values[j].text, value.text) != 0)
            j++;
        if (j == axis->value_count)
            return fail_at(l, node->start_mark, SCENARIO_ERROR_INVALID,
                           "%s: %s = %s is not one of the matrix values", where, axis->field->path,
                           value.text);
        condition->accepted[j] = true;
    }
    return true;
}

static bool parse_override(loader *l, size_t number, const yaml_node_t *node, override_rule *rule)
{
    char where[48];
    snprintf(where, sizeof where, "overrides[%zu]", number);
    if (!check_mapping(l, node, where))
        return false;
    const yaml_node_t *when = NULL, *expect_key = NULL, *known_bug_key = NULL;
    /* The override's known_bug and expect are parsed into a scratch settings. */
    scenario_settings scratch;
    memset(&scratch, 0, sizeof scratch);
    field_origins saved = l->origins;
    memset(&l->origins, 0, sizeof l->origins);
    bool ok = true;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         ok && pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = node_at(l, pair->key);
        yaml_node_t *value = node_at(l, pair->value);
        const char *name = scalar_text(key);
        if (strcmp(name, "when") == 0) {
            when = value;
        } else if (strcmp(name, "expect") == 0) {
            expect_key = key;
            ok = parse_field(l, &scratch, find_field("", "expect"), key, value);
            rule->sets_expect = true;
        } else if (strcmp(name, "repetitions") == 0) {
            ok = parse_field(l, &scratch, find_field("", "repetitions"), key, value);
            rule->sets_repetitions = true;
        } else if (strcmp(name, "known_bug") == 0) {
            known_bug_key = key;
            ok = parse_known_bug(l, &scratch, value);
            rule->sets_known_bug = true;
        } else {
            ok = fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                         "unknown field '%s' in %s (known: when, expect, known_bug, repetitions)",
                         name, where);
        }
    }
    l->origins = saved;
    rule->expect = scratch.expect;
    memcpy(rule->expected, scratch.expected, sizeof rule->expected);
    rule->repetitions = scratch.repetitions;
    rule->known_bug = scratch.known_bug; /* the rule owns id and url now */
    free(scratch.name);
    free(scratch.description);
    if (!ok)
        return false;
    if (expect_key && known_bug_key)
        return fail_at(l,
                       later(expect_key->start_mark, known_bug_key->start_mark)
                           ? expect_key->start_mark
                           : known_bug_key->start_mark,
                       SCENARIO_ERROR_INVALID,
                       "conflicting options: expect and known_bug in %s (a known bug's verdicts "
                       "are its expectation)",
                       where);
    if (!when)
        return fail_at(l, node->start_mark, SCENARIO_ERROR_INVALID, "%s needs a field 'when'",
                       where);
    char when_where[64];
    snprintf(when_where, sizeof when_where, "%s.when", where);
    if (!check_mapping(l, when, when_where))
        return false;
    size_t count = (size_t)(when->data.mapping.pairs.top - when->data.mapping.pairs.start);
    rule->conditions = calloc(count ? count : 1, sizeof *rule->conditions);
    if (!rule->conditions)
        return out_of_memory(l, when->start_mark);
    for (yaml_node_pair_t *pair = when->data.mapping.pairs.start;
         pair < when->data.mapping.pairs.top; pair++) {
        override_condition *condition = &rule->conditions[rule->condition_count++];
        if (!parse_override_condition(l, when_where, node_at(l, pair->key), node_at(l, pair->value),
                                      condition))
            return false;
    }
    return true;
}

static bool parse_overrides(loader *l, const yaml_node_t *node)
{
    if (node->type != YAML_SEQUENCE_NODE)
        return fail_type(l, node, "overrides", "a list of rules");
    size_t count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    l->rules = calloc(count ? count : 1, sizeof *l->rules);
    if (!l->rules)
        return out_of_memory(l, node->start_mark);
    for (size_t i = 0; i < count; i++) {
        l->rule_count++;
        if (!parse_override(l, i, node_at(l, node->data.sequence.items.start[i]), &l->rules[i]))
            return false;
    }
    return true;
}

/* ---- settings life cycle --------------------------------------------------------- */

static void settings_defaults(scenario_settings *settings)
{
    memset(settings, 0, sizeof *settings);
    settings->server.io_threads = 1;
    settings->server.cpu = SCENARIO_CPU_ANY;
    settings->client.cpu = SCENARIO_CPU_ANY;
    settings->server.fresh_per_case = true;
    settings->client.transport = SCENARIO_TRANSPORT_RDMA;
    settings->client.connections = DEFAULT_CONNECTIONS;
    settings->client.threads = 1;
    settings->client.pipeline = 1;
    settings->client.mix[SCENARIO_COMMAND_SET] = 1;
    settings->client.mix[SCENARIO_COMMAND_GET] = 1;
    settings->client.value_size.kind = SCENARIO_VALUE_SIZE_FIXED;
    settings->client.value_size.count = 1;
    settings->client.value_size.sizes[0] = DEFAULT_VALUE_SIZE;
    settings->client.keyspace = DEFAULT_KEYSPACE;
    settings->client.verify = true;
    settings->client.rx_buffer = DEFAULT_RX_BUFFER;
    settings->watchdog.sample_interval_ms = DEFAULT_SAMPLE_INTERVAL_MS;
    settings->watchdog.spin_threshold = DEFAULT_SPIN_THRESHOLD_PERCENT;
    settings->watchdog.spin_window_ms = DEFAULT_SPIN_WINDOW_MS;
    settings->watchdog.stall_timeout_ms = DEFAULT_STALL_TIMEOUT_MS;
    settings->watchdog.probe_interval_ms = DEFAULT_PROBE_INTERVAL_MS;
    settings->watchdog.probe_timeout_ms = DEFAULT_PROBE_TIMEOUT_MS;
    settings->expect = SCENARIO_VERDICT_PASS;
    settings->expected[SCENARIO_VERDICT_PASS] = true;
    settings->repetitions = 1;
    settings->fault.kind = SCENARIO_FAULT_NONE;
    settings->fault.after_ms = DEFAULT_FAULT_AFTER_MS;
    settings->fault.duration_ms = DEFAULT_FAULT_DURATION_MS;
    settings->churn.connections = 1;
}

static void known_bug_free(scenario_known_bug *known_bug)
{
    free(known_bug->id);
    free(known_bug->url);
    known_bug->id = known_bug->url = NULL;
}

static void settings_free(scenario_settings *settings)
{
    free(settings->name);
    free(settings->description);
    for (size_t i = 0; i < settings->server.extra_config_count; i++) {
        free(settings->server.extra_config[i].name);
        free(settings->server.extra_config[i].value);
    }
    free(settings->server.extra_config);
    known_bug_free(&settings->known_bug);
    memset(settings, 0, sizeof *settings);
}

static char *copy_text(const char *text, bool *ok)
{
    if (!text)
        return NULL;
    char *copy = strdup(text);
    if (!copy)
        *ok = false;
    return copy;
}

static bool known_bug_copy(scenario_known_bug *to, const scenario_known_bug *from)
{
    bool ok = true;
    *to = *from;
    to->id = copy_text(from->id, &ok);
    to->url = copy_text(from->url, &ok);
    return ok;
}

static bool settings_copy(scenario_settings *to, const scenario_settings *from)
{
    bool ok = true;
    *to = *from;
    to->name = copy_text(from->name, &ok);
    to->description = copy_text(from->description, &ok);
    to->server.extra_config = NULL;
    to->server.extra_config_count = 0;
    to->known_bug.id = to->known_bug.url = NULL;
    size_t count = from->server.extra_config_count;
    if (count) {
        to->server.extra_config = calloc(count, sizeof *to->server.extra_config);
        if (!to->server.extra_config)
            return false;
        for (size_t i = 0; i < count; i++) {
            to->server.extra_config[i].name = copy_text(from->server.extra_config[i].name, &ok);
            to->server.extra_config[i].value = copy_text(from->server.extra_config[i].value, &ok);
            to->server.extra_config_count++;
        }
    }
    return known_bug_copy(&to->known_bug, &from->known_bug) && ok;
}

static void case_free(scenario_case *one_case)
{
    free(one_case->name);
    settings_free(&one_case->settings);
    for (size_t i = 0; i < one_case->parameter_count; i++)
        free(one_case->parameters[i].value);
    free(one_case->parameters);
    memset(one_case, 0, sizeof *one_case);
}

/* ---- cases ----------------------------------------------------------------------- */

/* Rules between fields that a case's final settings must obey. */
static bool check_case(loader *l, const scenario_settings *settings, const field_origins *origins)
{
    field_origins saved = l->origins;
    l->origins = *origins;
    bool ok = check_exclusive(l, "client.requests", "client.duration", "; choose one");
    l->origins = saved;
    if (!ok)
        return false;
    if (settings->fault.kind == SCENARIO_FAULT_LINK_FLAP &&
        settings->client.transport != SCENARIO_TRANSPORT_RDMA) {
        /* TCP runs over loopback: a flap of the test bed's netdev never reaches it, so a
         * TCP (or partly TCP) case would not test what it says. */
        size_t transport = field_index(find_field("client", "transport"));
        size_t kind = field_index(find_field("fault", "kind"));
        yaml_mark_t mark = origins->set[transport] ? origins->mark[transport] : origins->mark[kind];
        return fail_at(l, mark, SCENARIO_ERROR_INVALID,
                       "fault.kind link_flap takes the RDMA link down: it needs client.transport "
                       "rdma, not %s",
                       transport_names[settings->client.transport]);
    }
    if (settings->client.threads > settings->client.connections) {
        size_t threads = field_index(find_field("client", "threads"));
        size_t connections = field_index(find_field("client", "connections"));
        yaml_mark_t mark =
            origins->set[threads] ? origins->mark[threads] : origins->mark[connections];
        return fail_at(l, mark, SCENARIO_ERROR_INVALID,
                       "client.threads (%" PRIu64 ") must not exceed client.connections (%" PRIu64
                       ")",
                       settings->client.threads, settings->client.connections);
    }
    size_t connections = field_index(find_field("client", "connections"));
    size_t churned = field_index(find_field("churn", "connections"));
    if (settings->churn.declared && settings->churn.connections > settings->client.connections) {
        yaml_mark_t mark =
            origins->set[churned] ? origins->mark[churned] : origins->mark[connections];
        return fail_at(l, mark, SCENARIO_ERROR_INVALID,
                       "churn.connections (%" PRIu64
                       ") must not exceed client.connections (%" PRIu64 ")",
                       settings->churn.connections, settings->client.connections);
    }
    size_t kill_every = field_index(find_field("client_kill", "every"));
    if (settings->client_kill.declared && !settings->client.disconnects_expected)
        return fail_at(l, origins->mark[kill_every], SCENARIO_ERROR_INVALID,
                       "client_kill makes the server drop our connections: it needs "
                       "client.disconnects_expected: true");
    return true;
}

static bool build_case(loader *l, const scenario *loaded, const size_t *choice,
                       scenario_case *one_case)
{
    yaml_mark_t start = {0, 0, 0};
    if (!settings_copy(&one_case->settings, &loaded->settings))
        return out_of_memory(l, start);
    scenario_settings *settings = &one_case->settings;
    field_origins origins = l->origins;
    size_t name_size = strlen(settings->name) + 2;
    for (size_t a = 0; a < l->axis_count; a++)
        name_size += strlen(l->axes[a].field->name) + strlen(l->axes[a].values[choice[a]].text) + 2;
    one_case->name = malloc(name_size);
    one_case->parameters = calloc(l->axis_count ? l->axis_count : 1, sizeof *one_case->parameters);
    if (!one_case->name || !one_case->parameters)
        return out_of_memory(l, start);
    strcpy(one_case->name, settings->name);
    for (size_t a = 0; a < l->axis_count; a++) {
        const matrix_axis *axis = &l->axes[a];
        const field_value *value = &axis->values[choice[a]];
        if (!apply_value(settings, axis->field, value))
            return out_of_memory(l, start);
        origins.set[axis->field_index] = true;
        origins.mark[axis->field_index] = value->mark;
        size_t used = strlen(one_case->name);
        snprintf(one_case->name + used, name_size - used, "%s%s=%s", a == 0 ? "/" : ",",
                 axis->field->name, value->text);
        one_case->parameters[a].path = axis->field->path;
        one_case->parameters[a].value = strdup(value->text);
        one_case->parameter_count++;
        if (!one_case->parameters[a].value)
            return out_of_memory(l, start);
    }
    for (size_t r = 0; r < l->rule_count; r++) {
        const override_rule *rule = &l->rules[r];
        bool matches = true;
        for (size_t c = 0; c < rule->condition_count; c++)
            matches = matches && rule->conditions[c].accepted[choice[rule->conditions[c].axis]];
        if (!matches)
            continue;
        if (rule->sets_expect) {
            settings->expect = rule->expect;
            memcpy(settings->expected, rule->expected, sizeof settings->expected);
            known_bug_free(&settings->known_bug);
            settings->known_bug.declared = false;
        }
        if (rule->sets_known_bug) {
            known_bug_free(&settings->known_bug);
            if (!known_bug_copy(&settings->known_bug, &rule->known_bug))
                return out_of_memory(l, start);
        }
        if (rule->sets_repetitions)
            settings->repetitions = rule->repetitions;
    }
    if (!check_case(l, settings, &origins))
        return false;
    if (settings->client.requests == 0 && settings->client.duration_ms == 0)
        settings->client.requests = DEFAULT_REQUESTS;
    return true;
}

static bool expand_matrix(loader *l, scenario *loaded)
{
    yaml_mark_t start = {0, 0, 0};
    uint64_t total = 1;
    for (size_t a = 0; a < l->axis_count; a++) {
        total *= l->axes[a].value_count;
        if (total > SCENARIO_CASES_MAX)
            return fail_at(l, l->axes[a].key_mark, SCENARIO_ERROR_INVALID,
                           "matrix: more than %d cases; split the scenario", SCENARIO_CASES_MAX);
    }
    loaded->cases = calloc((size_t)total, sizeof *loaded->cases);
    size_t *choice = calloc(l->axis_count ? l->axis_count : 1, sizeof *choice);
    if (!loaded->cases || !choice) {
        free(choice);
        return out_of_memory(l, start);
    }
    bool ok = true;
    for (uint64_t index = 0; ok && index < total; index++) {
        /* Mixed radix, last axis fastest: the first matrix key is the outermost loop. */
        uint64_t rest = index;
        for (size_t a = l->axis_count; a-- > 0;) {
            choice[a] = (size_t)(rest % l->axes[a].value_count);
            rest /= l->axes[a].value_count;
        }
        loaded->case_count++;
        ok = build_case(l, loaded, choice, &loaded->cases[index]);
    }
    free(choice);
    return ok;
}

/* ---- the document ---------------------------------------------------------------- */

static bool parse_document(loader *l, scenario *loaded, const yaml_node_t *root)
{
    scenario_settings *settings = &loaded->settings;
    if (!check_mapping(l, root, "the scenario"))
        return false;
    const yaml_node_t *matrix = NULL, *overrides = NULL, *known_bug_key = NULL;
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
         pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = node_at(l, pair->key);
        yaml_node_t *value = node_at(l, pair->value);
        const char *name = scalar_text(key);
        const field *f = find_field("", name);
        bool ok;
        if (f)
            ok = parse_field(l, settings, f, key, value);
        else if (strcmp(name, "server") == 0 || strcmp(name, "client") == 0 ||
                 strcmp(name, "watchdog") == 0)
            ok = parse_section(l, settings, name, value);
        else if (strcmp(name, "known_bug") == 0)
            ok = (known_bug_key = key, parse_known_bug(l, settings, value));
        else if (strcmp(name, "fault") == 0)
            ok = parse_fault(l, settings, value);
        else if (strcmp(name, "churn") == 0)
            ok = parse_churn(l, settings, value);
        else if (strcmp(name, "client_kill") == 0)
            ok = parse_client_kill(l, settings, value);
        else if (strcmp(name, "matrix") == 0)
            ok = (matrix = value, true);
        else if (strcmp(name, "overrides") == 0)
            ok = (overrides = value, true);
        else
            ok = fail_at(l, key->start_mark, SCENARIO_ERROR_INVALID,
                         "unknown top-level field '%s' (known: name, description, server, "
                         "client, watchdog, expect, known_bug, repetitions, fault, churn, "
                         "client_kill, matrix, overrides)",
                         name);
        if (!ok)
            return false;
    }
    if (settings->name && !valid_scenario_name(settings->name))
        return fail_at(l, l->origins.mark[field_index(find_field("", "name"))],
                       SCENARIO_ERROR_INVALID,
                       "name '%s' may hold only letters, digits, '-', '_' and '.'", settings->name);
    if (known_bug_key && l->origins.set[field_index(find_field("", "expect"))]) {
        yaml_mark_t expect_mark = l->origins.mark[field_index(find_field("", "expect"))];
        return fail_at(l,
                       later(expect_mark, known_bug_key->start_mark) ? expect_mark
                                                                     : known_bug_key->start_mark,
                       SCENARIO_ERROR_INVALID,
                       "conflicting options: expect and known_bug (a known bug's verdicts are its "
                       "expectation)");
    }
    if (!check_exclusive(l, "client.mix", "client.commands", "; choose one"))
        return false;
    if (matrix && !parse_matrix(l, matrix))
        return false;
    if (overrides && !parse_overrides(l, overrides))
        return false;
    return true;
}

/* The scenario's name when the file gives none: the file name without .yaml/.yml. */
static char *name_from_path(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t length = strlen(base);
    if (length > 5 && strcmp(base + length - 5, ".yaml") == 0)
        length -= 5;
    else if (length > 4 && strcmp(base + length - 4, ".yml") == 0)
        length -= 4;
    return strndup(base, length);
}

static char *read_file(loader *l, size_t *size)
{
    FILE *file = fopen(l->path, "rb");
    if (!file) {
        snprintf(l->error, SCENARIO_ERROR_SIZE, "%s: cannot open: %s", l->path, strerror(errno));
        l->status = SCENARIO_ERROR_FILE;
        return NULL;
    }
    char *text = malloc(SCENARIO_FILE_MAX_BYTES + 1);
    size_t length = text ? fread(text, 1, SCENARIO_FILE_MAX_BYTES + 1, file) : 0;
    bool failed = text && ferror(file);
    fclose(file);
    if (!text || failed || length > SCENARIO_FILE_MAX_BYTES) {
        free(text);
        l->status = text ? SCENARIO_ERROR_FILE : SCENARIO_ERROR_MEMORY;
        snprintf(l->error, SCENARIO_ERROR_SIZE, "%s: %s", l->path,
                 !text    ? "out of memory"
                 : failed ? "cannot read"
                          : "larger than 1 MiB, which no scenario needs");
        return NULL;
    }
    *size = length;
    return text;
}

static bool syntax_error(loader *l, const yaml_parser_t *parser)
{
    yaml_mark_t mark = parser->problem_mark;
    if (parser->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset, not a mark. */
        mark.line = mark.column = 0;
        mark.index = parser->problem_offset;
        return fail_at(l, mark, SCENARIO_ERROR_SYNTAX, "YAML error: %s at byte %zu",
                       parser->problem ? parser->problem : "unreadable input",
                       parser->problem_offset);
    }
    if (parser->context)
        return fail_at(l, mark, SCENARIO_ERROR_SYNTAX, "YAML syntax error: %s (%s at line %zu)",
                       parser->problem ? parser->problem : "invalid", parser->context,
                       parser->context_mark.line + 1);
    return fail_at(l, mark, SCENARIO_ERROR_SYNTAX, "YAML syntax error: %s",
                   parser->problem ? parser->problem : "invalid");
}

static void loader_free(loader *l)
{
    for (size_t a = 0; a < l->axis_count; a++)
        free(l->axes[a].values);
    free(l->axes);
    for (size_t r = 0; r < l->rule_count; r++) {
        for (size_t c = 0; c < l->rules[r].condition_count; c++)
            free(l->rules[r].conditions[c].accepted);
        free(l->rules[r].conditions);
        known_bug_free(&l->rules[r].known_bug);
    }
    free(l->rules);
}

static void parse_text_into(loader *l, scenario *loaded, const char *text, size_t size)
{
    yaml_parser_t parser;
    yaml_document_t document, second;
    yaml_mark_t start = {0, 0, 0};
    if (!yaml_parser_initialize(&parser)) {
        out_of_memory(l, start);
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
    if (!yaml_parser_load(&parser, &document)) {
        syntax_error(l, &parser);
        yaml_parser_delete(&parser);
        return;
    }
    l->document = &document;
    yaml_node_t *root = yaml_document_get_root_node(&document);
    if (!root) {
        fail_at(l, start, SCENARIO_ERROR_SYNTAX, "empty scenario file");
    } else if (!yaml_parser_load(&parser, &second)) {
        syntax_error(l, &parser);
    } else {
        yaml_node_t *extra = yaml_document_get_root_node(&second);
        if (extra)
            fail_at(l, extra->start_mark, SCENARIO_ERROR_SYNTAX,
                    "a scenario file holds one YAML document; this is a second one");
        yaml_document_delete(&second);
        if (l->status == SCENARIO_OK && parse_document(l, loaded, root)) {
            if (!loaded->settings.name)
                loaded->settings.name = name_from_path(l->path);
            if (!loaded->settings.name)
                out_of_memory(l, start);
            else
                expand_matrix(l, loaded);
        }
    }
    yaml_document_delete(&document);
    l->document = NULL;
    yaml_parser_delete(&parser);
}

scenario_status scenario_load(const char *path, scenario *out, char error[SCENARIO_ERROR_SIZE])
{
    loader l;
    memset(&l, 0, sizeof l);
    memset(out, 0, sizeof *out);
    l.path = path;
    l.error = error;
    error[0] = '\0';
    settings_defaults(&out->settings);
    size_t size = 0;
    char *text = read_file(&l, &size);
    if (text) {
        out->path = strdup(path);
        if (!out->path)
            out_of_memory(&l, (yaml_mark_t){0, 0, 0});
        else
            parse_text_into(&l, out, text, size);
        free(text);
    }
    loader_free(&l);
    if (l.status != SCENARIO_OK)
        scenario_free(out);
    return l.status;
}

void scenario_expand(const scenario *loaded, const scenario_case **cases, size_t *count)
{
    *cases = loaded->cases;
    *count = loaded->case_count;
}

void scenario_free(scenario *loaded)
{
    for (size_t i = 0; i < loaded->case_count; i++)
        case_free(&loaded->cases[i]);
    free(loaded->cases);
    settings_free(&loaded->settings);
    free(loaded->path);
    memset(loaded, 0, sizeof *loaded);
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *value_size_to_json(const scenario_value_size *value_size)
{
    static const char *const kinds[] = {"fixed", "list", "range"};
    json_t *sizes = json_array();
    for (size_t i = 0; i < value_size->count; i++)
        json_array_append_new(sizes, json_integer((json_int_t)value_size->sizes[i]));
    return json_pack("{s:s, s:o}", "kind", kinds[value_size->kind], "bytes", sizes);
}

json_t *scenario_case_to_json(const scenario_case *one_case)
{
    const scenario_settings *s = &one_case->settings;
    json_t *matrix = json_object();
    for (size_t i = 0; i < one_case->parameter_count; i++)
        json_object_set_new(matrix, one_case->parameters[i].path,
                            json_string(one_case->parameters[i].value));
    json_t *extra_config = json_object();
    for (size_t i = 0; i < s->server.extra_config_count; i++)
        json_object_set_new(extra_config, s->server.extra_config[i].name,
                            json_string(s->server.extra_config[i].value));
    json_t *mix = json_object();
    for (int c = 0; c < SCENARIO_COMMAND_COUNT; c++)
        if (s->client.mix[c])
            json_object_set_new(mix, command_names[c], json_integer((json_int_t)s->client.mix[c]));
    json_t *commands = json_array();
    for (size_t i = 0; i < s->client.command_count; i++)
        json_array_append_new(commands, json_string(command_names[s->client.commands[i]]));
    json_t *known_bug = json_null();
    if (s->known_bug.declared) {
        json_t *verdicts = json_array();
        for (int v = 0; v < SCENARIO_VERDICT_COUNT; v++)
            if (s->known_bug.verdicts[v])
                json_array_append_new(verdicts, json_string(verdict_names[v]));
        known_bug = json_pack("{s:s, s:s?, s:o}", "id", s->known_bug.id, "url", s->known_bug.url,
                              "verdicts", verdicts);
    }
    json_t *fault = json_null();
    if (s->fault.kind != SCENARIO_FAULT_NONE)
        fault = json_pack("{s:s, s:I, s:I}", "kind", fault_kind_names[s->fault.kind], "after_ms",
                          (json_int_t)s->fault.after_ms, "duration_ms",
                          (json_int_t)s->fault.duration_ms);
    json_t *server =
        json_pack("{s:I, s:b, s:I, s:o, s:b}", "io_threads", (json_int_t)s->server.io_threads,
                  "io_threads_always_active", s->server.io_threads_always_active, "rdma_rx_size",
                  (json_int_t)s->server.rdma_rx_size, "extra_config", extra_config,
                  "fresh_per_case", s->server.fresh_per_case);
    json_t *client = json_pack(
        "{s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:b, s:I}",
        "transport", transport_names[s->client.transport], "connections",
        (json_int_t)s->client.connections, "threads", (json_int_t)s->client.threads, "pipeline",
        (json_int_t)s->client.pipeline, "mix", mix, "commands", commands, "value_size",
        value_size_to_json(&s->client.value_size), "keyspace", (json_int_t)s->client.keyspace,
        "requests", (json_int_t)s->client.requests, "duration_ms",
        (json_int_t)s->client.duration_ms, "rate", (json_int_t)s->client.rate, "verify",
        s->client.verify, "rx_buffer", (json_int_t)s->client.rx_buffer, "max_write",
        (json_int_t)s->client.max_write, "disconnects_expected", s->client.disconnects_expected,
        "idle_before_load_ms", (json_int_t)s->client.idle_before_load_ms);
    json_t *churn = json_null();
    if (s->churn.declared)
        churn = json_pack("{s:I, s:I}", "every_ms", (json_int_t)s->churn.every_ms, "connections",
                          (json_int_t)s->churn.connections);
    json_t *client_kill = json_null();
    if (s->client_kill.declared)
        client_kill = json_pack("{s:I}", "every_ms", (json_int_t)s->client_kill.every_ms);
    json_t *watchdog = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "sample_interval_ms",
                                 (json_int_t)s->watchdog.sample_interval_ms, "spin_threshold",
                                 (json_int_t)s->watchdog.spin_threshold, "spin_window_ms",
                                 (json_int_t)s->watchdog.spin_window_ms, "stall_timeout_ms",
                                 (json_int_t)s->watchdog.stall_timeout_ms, "probe_interval_ms",
                                 (json_int_t)s->watchdog.probe_interval_ms, "probe_timeout_ms",
                                 (json_int_t)s->watchdog.probe_timeout_ms);
    /* "o" steals each reference, also when json_pack fails, so nothing leaks. */
    json_t *object = json_pack("{s:s, s:s, s:s?, s:o, s:o, s:o, s:o, s:s, s:o, s:I, s:o, s:o, s:o}",
                               "name", one_case->name, "scenario", s->name, "description",
                               s->description, "matrix", matrix, "server", server, "client", client,
                               "watchdog", watchdog, "expect", verdict_names[s->expect],
                               "known_bug", known_bug, "repetitions", (json_int_t)s->repetitions,
                               "fault", fault, "churn", churn, "client_kill", client_kill);
    /* expect: [a, b] also lists every verdict that is as expected ("expect" is the first). */
    json_t *expected = json_array();
    for (int verdict = 0; verdict < SCENARIO_VERDICT_COUNT && expected; verdict++)
        if (s->expected[verdict] && verdict != (int)s->expect)
            json_array_append_new(expected, json_string(verdict_names[verdict]));
    if (object && expected && json_array_size(expected) > 0) {
        json_array_insert_new(expected, 0, json_string(verdict_names[s->expect]));
        json_object_set_new(object, "expected_verdicts", expected);
    } else {
        json_decref(expected);
    }
    return object;
}
