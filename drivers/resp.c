/*
 * resp.c: the RESP2 push parser and command writer promised by resp.h.
 *
 * The reader is a byte-driven state machine rather than a "buffer everything, then try to
 * parse" loop: a partly received reply never has to be re-scanned, and a bulk payload goes
 * straight from the caller's bytes into its final allocation.
 */
#include "resp.h"
#include "decimal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation for an array's element pointers; grown by doubling after that,
 * so an announced count alone never decides how much memory is taken. */
#define ARRAY_INITIAL_ELEMENT_CAPACITY 4
#define QUEUE_INITIAL_CAPACITY 16
/* An initial line buffer large enough for every header and "+OK". */
#define LINE_INITIAL_CAPACITY 64
/* The longest decimal int64, with sign: "-9223372036854775808". */

typedef enum parse_state {
    PARSE_TYPE,         /* the next byte is a reply type byte */
    PARSE_LINE,         /* collecting a line up to CR */
    PARSE_LINE_LF,      /* saw the CR that ends a line; LF must follow */
    PARSE_BULK_PAYLOAD, /* copying the announced bulk bytes */
    PARSE_BULK_CR,      /* the CR after a bulk payload */
    PARSE_BULK_LF,      /* the LF after a bulk payload */
} parse_state;

/* One array still waiting for elements. */
typedef struct open_array {
    resp_reply *array;
    size_t filled;
    size_t element_capacity;
} open_array;

struct resp_reader {
    resp_reader_options options;
    parse_state state;
    char line_type;               /* the type byte of the line being collected */
    uint64_t line_start_position; /* stream offset of that type byte, for messages */
    char *line;
    size_t line_length;
    size_t line_capacity;

    resp_reply *bulk; /* the bulk string being filled */
    size_t bulk_filled;

    open_array *open_arrays; /* a stack, innermost last */
    size_t open_array_count;

    resp_reply **queue; /* whole replies not yet handed out */
    size_t queue_head;
    size_t queue_end;
    size_t queue_capacity;

    uint64_t position;
    bool failed;
    char error[RESP_ERROR_TEXT_BYTES];
};

resp_reader_options resp_reader_default_options(void)
{
    resp_reader_options options = {
        .max_bulk_bytes = RESP_DEFAULT_MAX_BULK_BYTES,
        .max_depth = RESP_DEFAULT_MAX_DEPTH,
        .max_line_bytes = RESP_DEFAULT_MAX_LINE_BYTES,
        .max_array_elements = RESP_DEFAULT_MAX_ARRAY_ELEMENTS,
        .keep_array_elements = true,
    };
    return options;
}

resp_reader *resp_reader_create(const resp_reader_options *options)
{
    resp_reader *reader = calloc(1, sizeof(*reader));
    if (reader == NULL) {
        return NULL;
    }
    reader->options = options != NULL ? *options : resp_reader_default_options();
    reader->state = PARSE_TYPE;
    return reader;
}

/* Appends text while it fits whole; returns false once it does not. */
static bool append_fitting(char *out, size_t out_size, size_t *length, const char *text)
{
    size_t add = strlen(text);
    if (*length + add + 1 > out_size) {
        return false;
    }
    memcpy(out + *length, text, add + 1);
    *length += add;
    return true;
}

static void escape_byte(unsigned char byte, char text[8])
{
    switch (byte) {
    case '\r':
        strcpy(text, "\\r");
        return;
    case '\n':
        strcpy(text, "\\n");
        return;
    case '"':
        strcpy(text, "\\\"");
        return;
    case '\\':
        strcpy(text, "\\\\");
        return;
    default:
        if (byte >= 0x20 && byte < 0x7f) {
            text[0] = (char)byte;
            text[1] = '\0';
        } else {
            snprintf(text, 8, "\\x%02x", byte);
        }
    }
}

/* Appends open, then count bytes escaped, then close, each piece only while it fits
 * whole; returns false once one does not. */
static bool append_quoted(char *out, size_t out_size, size_t *length, const char *open,
                          const unsigned char *bytes, size_t count, const char *close)
{
    char text[8];
    if (!append_fitting(out, out_size, length, open)) {
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        escape_byte(bytes[i], text);
        if (!append_fitting(out, out_size, length, text)) {
            return false;
        }
    }
    return append_fitting(out, out_size, length, close);
}

void resp_quote_bytes(char *out, size_t out_size, const void *data, size_t size, size_t limit)
{
    if (out_size == 0) {
        return;
    }
    out[0] = '\0';
    size_t length = 0;
    size_t shown = size < limit ? size : limit;
    append_quoted(out, out_size, &length, "\"", data, shown, shown < size ? "\"..." : "\"");
}

void resp_describe_bytes(char *out, size_t out_size, const void *data, size_t size, size_t at,
                         size_t context)
{
    if (out_size == 0) {
        return;
    }
    out[0] = '\0';
    const unsigned char *bytes = data;
    if (at > size) {
        at = size;
    }
    size_t start = at > context ? at - context : 0;
    size_t end = size - at > context + 1 ? at + context + 1 : size;
    size_t length = 0;
    if (start < at && !append_quoted(out, out_size, &length, start > 0 ? "...\"" : "\"",
                                     bytes + start, at - start, "\" ")) {
        return;
    }
    if (at == size) {
        append_fitting(out, out_size, &length, "[end]");
        return;
    }
    char text[8];
    escape_byte(bytes[at], text);
    if (!append_fitting(out, out_size, &length, "[") ||
        !append_fitting(out, out_size, &length, text) ||
        !append_fitting(out, out_size, &length, "]")) {
        return;
    }
    if (at + 1 < end) {
        append_quoted(out, out_size, &length, " \"", bytes + at + 1, end - at - 1,
                      end < size ? "\"..." : "\"");
    }
}

void resp_reply_free(resp_reply *reply)
{
    if (reply == NULL) {
        return;
    }
    if (reply->elements != NULL) {
        for (size_t i = 0; i < reply->element_count; i++) {
            resp_reply_free(reply->elements[i]);
        }
        free(reply->elements);
    }
    free(reply); /* its text, if any, is in the same allocation (new_text_reply) */
}

/* Frees an array that is only partly filled: slots past `filled` are unset. */
static void free_open_array(open_array *open)
{
    if (open->array->elements != NULL) {
        for (size_t i = 0; i < open->filled; i++) {
            resp_reply_free(open->array->elements[i]);
        }
        free(open->array->elements);
        open->array->elements = NULL;
    }
    free(open->array);
}

void resp_reader_destroy(resp_reader *reader)
{
    if (reader == NULL) {
        return;
    }
    for (size_t i = reader->queue_head; i < reader->queue_end; i++) {
        resp_reply_free(reader->queue[i]);
    }
    free(reader->queue);
    for (size_t i = 0; i < reader->open_array_count; i++) {
        free_open_array(&reader->open_arrays[i]);
    }
    free(reader->open_arrays);
    resp_reply_free(reader->bulk);
    free(reader->line);
    free(reader);
}

const char *resp_reader_error(const resp_reader *reader)
{
    return reader->failed ? reader->error : NULL;
}

uint64_t resp_reader_position(const resp_reader *reader)
{
    return reader->position;
}

const char *resp_type_name(resp_type type)
{
    switch (type) {
    case RESP_SIMPLE_STRING:
        return "simple string";
    case RESP_ERROR:
        return "error";
    case RESP_INTEGER:
        return "integer";
    case RESP_BULK_STRING:
        return "bulk string";
    case RESP_NIL:
        return "nil bulk string";
    case RESP_ARRAY:
        return "array";
    case RESP_NIL_ARRAY:
        return "nil array";
    }
    return "unknown";
}

__attribute__((format(printf, 3, 4))) static int fail(resp_reader *reader, uint64_t position,
                                                      const char *format, ...)
{
    int prefix =
        snprintf(reader->error, sizeof(reader->error), "RESP byte %" PRIu64 ": ", position);
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(reader->error + prefix, sizeof(reader->error) - (size_t)prefix, format, arguments);
    va_end(arguments);
    reader->failed = true;
    return -1;
}

static resp_reply *new_reply(resp_type type)
{
    resp_reply *reply = calloc(1, sizeof(*reply));
    if (reply != NULL) {
        reply->type = type;
    }
    return reply;
}

/* A reply with room for `length` bytes of text and a NUL in the same allocation: one
 * malloc and one free per reply, not two (they were a fifth of a GET's instructions). */
static resp_reply *new_text_reply(resp_type type, size_t length)
{
    if (length > SIZE_MAX - sizeof(resp_reply) - 1) {
        return NULL;
    }
    resp_reply *reply = malloc(sizeof(*reply) + length + 1);
    if (reply != NULL) {
        *reply = (resp_reply){.type = type, .string = (char *)(reply + 1), .length = length};
        reply->string[length] = '\0';
    }
    return reply;
}

static int enqueue(resp_reader *reader, resp_reply *reply)
{
    if (reader->queue_head == reader->queue_end) {
        reader->queue_head = reader->queue_end = 0;
    }
    if (reader->queue_end == reader->queue_capacity) {
        size_t capacity =
            reader->queue_capacity ? reader->queue_capacity * 2 : QUEUE_INITIAL_CAPACITY;
        resp_reply **grown = realloc(reader->queue, capacity * sizeof(*grown));
        if (grown == NULL) {
            resp_reply_free(reply);
            return fail(reader, reader->position, "out of memory queueing a reply");
        }
        reader->queue = grown;
        reader->queue_capacity = capacity;
    }
    reader->queue[reader->queue_end++] = reply;
    return 0;
}

/* Hands a finished reply to the innermost open array, or to the queue when it is a whole
 * top-level reply; closes every array this completes. Takes ownership of reply. */
static int reply_done(resp_reader *reader, resp_reply *reply)
{
    while (reader->open_array_count > 0) {
        open_array *open = &reader->open_arrays[reader->open_array_count - 1];
        if (reader->options.keep_array_elements) {
            if (open->filled == open->element_capacity) {
                size_t capacity = open->element_capacity ? open->element_capacity * 2
                                                         : ARRAY_INITIAL_ELEMENT_CAPACITY;
                if (capacity > open->array->element_count) {
                    capacity = open->array->element_count;
                }
                resp_reply **grown = realloc(open->array->elements, capacity * sizeof(*grown));
                if (grown == NULL) {
                    resp_reply_free(reply);
                    return fail(reader, reader->position, "out of memory growing an array");
                }
                open->array->elements = grown;
                open->element_capacity = capacity;
            }
            open->array->elements[open->filled] = reply;
        } else {
            resp_reply_free(reply);
        }
        open->filled++;
        if (open->filled < open->array->element_count) {
            return 0;
        }
        reply = open->array;
        reader->open_array_count--;
    }
    return enqueue(reader, reply);
}

/* Strict decimal: optional '-', at least one digit, nothing else, no overflow. */
static bool parse_int64(const char *text, size_t length, int64_t *out)
{
    size_t i = 0;
    bool negative = false;
    if (length > 0 && text[0] == '-') {
        negative = true;
        i = 1;
    }
    if (i == length || length > DECIMAL_MAX_DIGITS) {
        return false;
    }
    uint64_t magnitude = 0;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < length; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        uint64_t digit = (uint64_t)(text[i] - '0');
        if (magnitude > (limit - digit) / 10) {
            return false;
        }
        magnitude = magnitude * 10 + digit;
    }
    *out = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    return true;
}

static int text_reply(resp_reader *reader, resp_type type)
{
    resp_reply *reply = new_text_reply(type, reader->line_length);
    if (reply == NULL) {
        return fail(reader, reader->line_start_position, "out of memory");
    }
    /* An empty first line ("+\r\n") leaves line unallocated, and memcpy must not see
     * a NULL pointer even for 0 bytes. */
    if (reader->line_length > 0)
        memcpy(reply->string, reader->line, reader->line_length);
    return reply_done(reader, reply);
}

static int bulk_header(resp_reader *reader, int64_t length)
{
    if (length == -1) {
        resp_reply *nil = new_reply(RESP_NIL);
        if (nil == NULL) {
            return fail(reader, reader->line_start_position, "out of memory");
        }
        reader->state = PARSE_TYPE;
        return reply_done(reader, nil);
    }
    if (length < 0) {
        return fail(reader, reader->line_start_position, "negative bulk length %" PRId64, length);
    }
    if ((uint64_t)length > reader->options.max_bulk_bytes) {
        return fail(reader, reader->line_start_position,
                    "bulk length %" PRId64 " exceeds the maximum of %zu", length,
                    reader->options.max_bulk_bytes);
    }
    resp_reply *bulk = new_text_reply(RESP_BULK_STRING, (size_t)length);
    if (bulk == NULL) {
        return fail(reader, reader->line_start_position,
                    "out of memory for a %" PRId64 "-byte bulk string", length);
    }
    reader->bulk = bulk;
    reader->bulk_filled = 0;
    reader->state = length > 0 ? PARSE_BULK_PAYLOAD : PARSE_BULK_CR;
    return 0;
}

static int array_header(resp_reader *reader, int64_t count)
{
    reader->state = PARSE_TYPE;
    if (count == -1) {
        resp_reply *nil = new_reply(RESP_NIL_ARRAY);
        if (nil == NULL) {
            return fail(reader, reader->line_start_position, "out of memory");
        }
        return reply_done(reader, nil);
    }
    if (count < 0) {
        return fail(reader, reader->line_start_position, "negative array length %" PRId64, count);
    }
    if (count > reader->options.max_array_elements) {
        return fail(reader, reader->line_start_position,
                    "array length %" PRId64 " exceeds the maximum of %" PRId64, count,
                    reader->options.max_array_elements);
    }
    resp_reply *array = new_reply(RESP_ARRAY);
    if (array == NULL) {
        return fail(reader, reader->line_start_position, "out of memory");
    }
    array->element_count = (size_t)count;
    if (count == 0) {
        return reply_done(reader, array);
    }
    if (reader->open_array_count == reader->options.max_depth) {
        free(array);
        return fail(reader, reader->line_start_position, "arrays nested more than %zu deep",
                    reader->options.max_depth);
    }
    if (reader->open_arrays == NULL) {
        /* max_depth bounds the stack, so it is allocated once at its full size. */
        reader->open_arrays = calloc(reader->options.max_depth, sizeof(open_array));
        if (reader->open_arrays == NULL) {
            free(array);
            return fail(reader, reader->line_start_position, "out of memory");
        }
    }
    reader->open_arrays[reader->open_array_count++] =
        (open_array){.array = array, .filled = 0, .element_capacity = 0};
    return 0;
}

static int line_done(resp_reader *reader)
{
    int64_t number = 0;
    reader->state = PARSE_TYPE;
    switch (reader->line_type) {
    case '+':
        return text_reply(reader, RESP_SIMPLE_STRING);
    case '-':
        return text_reply(reader, RESP_ERROR);
    default:
        break;
    }
    if (!parse_int64(reader->line, reader->line_length, &number)) {
        const char *what = reader->line_type == ':'   ? "integer"
                           : reader->line_type == '$' ? "bulk length"
                                                      : "array length";
        return fail(reader, reader->line_start_position, "bad %s \"%.*s\"", what,
                    (int)(reader->line_length > 40 ? 40 : reader->line_length), reader->line);
    }
    if (reader->line_type == ':') {
        resp_reply *reply = new_reply(RESP_INTEGER);
        if (reply == NULL) {
            return fail(reader, reader->line_start_position, "out of memory");
        }
        reply->integer = number;
        return reply_done(reader, reply);
    }
    if (reader->line_type == '$') {
        return bulk_header(reader, number);
    }
    return array_header(reader, number);
}

/* Appends a run of line bytes (none of them CR or LF), failing at the first byte past
 * max_line_bytes; the caller's position is that of run[0]. */
static int line_append(resp_reader *reader, const char *run, size_t count)
{
    size_t room = reader->options.max_line_bytes - reader->line_length;
    if (count > room) {
        return fail(reader, reader->position + room, "line longer than %zu bytes",
                    reader->options.max_line_bytes);
    }
    if (reader->line_length + count > reader->line_capacity) {
        size_t capacity = reader->line_capacity ? reader->line_capacity : LINE_INITIAL_CAPACITY;
        while (capacity < reader->line_length + count) {
            capacity *= 2;
        }
        if (capacity > reader->options.max_line_bytes) {
            capacity = reader->options.max_line_bytes;
        }
        char *grown = realloc(reader->line, capacity);
        if (grown == NULL) {
            return fail(reader, reader->position, "out of memory growing a line");
        }
        reader->line = grown;
        reader->line_capacity = capacity;
    }
    memcpy(reader->line + reader->line_length, run, count);
    reader->line_length += count;
    return 0;
}

static bool is_type_byte(char byte)
{
    return byte == '+' || byte == '-' || byte == ':' || byte == '$' || byte == '*';
}

/* Consumes data until it ends, or with stop_at_reply until a whole top-level reply is
 * queued; *used says how far it got. */
static int feed(resp_reader *reader, const char *bytes, size_t size, bool stop_at_reply,
                size_t *used)
{
    size_t index = 0;
    *used = 0;
    if (reader->failed) {
        return -1;
    }
    while (index < size) {
        if (stop_at_reply && reader->queue_head < reader->queue_end) {
            break;
        }
        char byte = bytes[index];
        switch (reader->state) {
        case PARSE_TYPE:
            if (!is_type_byte(byte)) {
                return fail(reader, reader->position, "unknown reply type byte 0x%02x",
                            (unsigned char)byte);
            }
            reader->line_type = byte;
            reader->line_start_position = reader->position;
            reader->line_length = 0;
            reader->state = PARSE_LINE;
            break;
        case PARSE_LINE: {
            /* The run of bytes up to a CR or LF goes into the line at once. */
            size_t end = index;
            while (end < size && bytes[end] != '\r' && bytes[end] != '\n') {
                end++;
            }
            if (end > index && line_append(reader, bytes + index, end - index) != 0) {
                return -1;
            }
            reader->position += end - index;
            index = end;
            if (index == size) {
                continue;
            }
            if (bytes[index] == '\n') {
                return fail(reader, reader->position, "line ended by LF without CR");
            }
            reader->state = PARSE_LINE_LF;
            break;
        }
        case PARSE_LINE_LF:
            if (byte != '\n') {
                return fail(reader, reader->position, "CR not followed by LF");
            }
            reader->position++;
            index++;
            if (line_done(reader) != 0) {
                return -1;
            }
            continue; /* position and index already advanced */
        case PARSE_BULK_PAYLOAD: {
            size_t wanted = reader->bulk->length - reader->bulk_filled;
            size_t available = size - index;
            size_t count = wanted < available ? wanted : available;
            memcpy(reader->bulk->string + reader->bulk_filled, bytes + index, count);
            reader->bulk_filled += count;
            reader->position += count;
            index += count;
            if (reader->bulk_filled == reader->bulk->length) {
                reader->state = PARSE_BULK_CR;
            }
            continue;
        }
        case PARSE_BULK_CR:
            if (byte != '\r') {
                return fail(reader, reader->position,
                            "bulk string of %zu bytes not followed by CRLF", reader->bulk->length);
            }
            reader->state = PARSE_BULK_LF;
            break;
        case PARSE_BULK_LF: {
            if (byte != '\n') {
                return fail(reader, reader->position,
                            "bulk string of %zu bytes not followed by CRLF", reader->bulk->length);
            }
            reader->position++;
            index++;
            resp_reply *bulk = reader->bulk;
            reader->bulk = NULL;
            reader->state = PARSE_TYPE;
            if (reply_done(reader, bulk) != 0) {
                return -1;
            }
            continue;
        }
        }
        reader->position++;
        index++;
    }
    *used = index;
    return 0;
}

int resp_reader_feed(resp_reader *reader, const void *data, size_t size)
{
    size_t used = 0;
    return feed(reader, data, size, false, &used);
}

int resp_reader_feed_to_reply(resp_reader *reader, const void *data, size_t size, size_t *used)
{
    return feed(reader, data, size, true, used);
}

resp_status resp_reader_next(resp_reader *reader, resp_reply **out)
{
    *out = NULL;
    if (reader->queue_head < reader->queue_end) {
        *out = reader->queue[reader->queue_head++];
        return RESP_STATUS_REPLY;
    }
    return reader->failed ? RESP_STATUS_FAILED : RESP_STATUS_NEED_MORE;
}

/* ---- writer ---- */

/* "<type><decimal>\r\n" */
static size_t header_size(size_t value)
{
    return 1 + decimal_length(value) + 2;
}

static size_t write_header(char *out, char type, size_t value)
{
    size_t length = 0;
    out[length++] = type;
    length += decimal_format(out + length, value);
    out[length++] = '\r';
    out[length++] = '\n';
    return length;
}

/* The array header of a command of total arguments, then the first count of them as bulk
 * strings; returns the bytes written. */
static size_t write_arguments(char *out, size_t total, size_t count, const char *const *arguments,
                              const size_t *argument_lengths)
{
    size_t offset = write_header(out, '*', total);
    for (size_t i = 0; i < count; i++) {
        offset += write_header(out + offset, '$', argument_lengths[i]);
        memcpy(out + offset, arguments[i], argument_lengths[i]);
        offset += argument_lengths[i];
        out[offset++] = '\r';
        out[offset++] = '\n';
    }
    return offset;
}

/* The bytes of count bulk-string arguments, headers and CRLFs included. */
static size_t arguments_size(size_t count, const size_t *argument_lengths)
{
    size_t size = 0;
    for (size_t i = 0; i < count; i++) {
        size += header_size(argument_lengths[i]) + argument_lengths[i] + 2;
    }
    return size;
}

size_t resp_command_size(size_t argument_count, const char *const *arguments,
                         const size_t *argument_lengths)
{
    (void)arguments;
    return header_size(argument_count) + arguments_size(argument_count, argument_lengths);
}

size_t resp_command_encode(char *buffer, size_t capacity, size_t argument_count,
                           const char *const *arguments, const size_t *argument_lengths)
{
    size_t size = resp_command_size(argument_count, arguments, argument_lengths);
    if (size > capacity) {
        return size;
    }
    return write_arguments(buffer, argument_count, argument_count, arguments, argument_lengths);
}

void resp_buffer_init(resp_buffer *buffer)
{
    memset(buffer, 0, sizeof(*buffer));
}

void resp_buffer_free(resp_buffer *buffer)
{
    free(buffer->data);
    resp_buffer_init(buffer);
}

void resp_buffer_consume(resp_buffer *buffer, size_t count)
{
    buffer->start += count;
    if (buffer->start >= buffer->end) {
        buffer->start = buffer->end = 0;
    }
}

/* Makes room for extra more bytes at the end. Pending bytes are moved to the front only
 * when at least as many have been consumed, so each byte is moved at most once per time
 * it is written: total copying stays linear. */
static int reserve(resp_buffer *buffer, size_t extra)
{
    if (buffer->capacity - buffer->end >= extra) {
        return 0;
    }
    size_t pending = buffer->end - buffer->start;
    if (buffer->start > 0 && buffer->start >= pending) {
        memmove(buffer->data, buffer->data + buffer->start, pending);
        buffer->start = 0;
        buffer->end = pending;
        if (buffer->capacity - buffer->end >= extra) {
            return 0;
        }
    }
    size_t capacity = buffer->capacity * 2;
    if (capacity < buffer->end + extra) {
        capacity = buffer->end + extra;
    }
    char *grown = realloc(buffer->data, capacity);
    if (grown == NULL) {
        return -1;
    }
    buffer->data = grown;
    buffer->capacity = capacity;
    return 0;
}

int resp_buffer_append_command(resp_buffer *buffer, size_t argument_count,
                               const char *const *arguments, const size_t *argument_lengths)
{
    size_t size = resp_command_size(argument_count, arguments, argument_lengths);
    if (reserve(buffer, size) != 0) {
        return -1;
    }
    buffer->end += resp_command_encode(buffer->data + buffer->end, size, argument_count, arguments,
                                       argument_lengths);
    return 0;
}

char *resp_buffer_append_command_space(resp_buffer *buffer, size_t argument_count,
                                       const char *const *arguments, const size_t *argument_lengths,
                                       size_t last_length)
{
    size_t size = header_size(argument_count + 1) +
                  arguments_size(argument_count, argument_lengths) + header_size(last_length) +
                  last_length + 2;
    if (reserve(buffer, size) != 0) {
        return NULL;
    }
    char *out = buffer->data + buffer->end;
    size_t offset =
        write_arguments(out, argument_count + 1, argument_count, arguments, argument_lengths);
    offset += write_header(out + offset, '$', last_length);
    char *room = out + offset;
    offset += last_length;
    out[offset++] = '\r';
    out[offset++] = '\n';
    buffer->end += offset;
    return room;
}

int resp_buffer_append(resp_buffer *buffer, const void *data, size_t length)
{
    if (reserve(buffer, length) != 0) {
        return -1;
    }
    memcpy(buffer->data + buffer->end, data, length);
    buffer->end += length;
    return 0;
}

int resp_buffer_append_array_header(resp_buffer *buffer, size_t element_count)
{
    if (reserve(buffer, header_size(element_count)) != 0) {
        return -1;
    }
    buffer->end += write_header(buffer->data + buffer->end, '*', element_count);
    return 0;
}

char *resp_buffer_append_bulk_space(resp_buffer *buffer, size_t length)
{
    if (reserve(buffer, header_size(length) + length + 2) != 0) {
        return NULL;
    }
    buffer->end += write_header(buffer->data + buffer->end, '$', length);
    char *room = buffer->data + buffer->end;
    buffer->end += length;
    buffer->data[buffer->end++] = '\r';
    buffer->data[buffer->end++] = '\n';
    return room;
}

int resp_buffer_append_bulk_header(resp_buffer *buffer, size_t length)
{
    if (reserve(buffer, header_size(length)) != 0) {
        return -1;
    }
    buffer->end += write_header(buffer->data + buffer->end, '$', length);
    return 0;
}

char *resp_buffer_append_space(resp_buffer *buffer, size_t length)
{
    if (reserve(buffer, length) != 0) {
        return NULL;
    }
    char *room = buffer->data + buffer->end;
    buffer->end += length;
    return room;
}

int resp_buffer_append_bulk(resp_buffer *buffer, const void *data, size_t length)
{
    char *room = resp_buffer_append_bulk_space(buffer, length);
    if (room == NULL) {
        return -1;
    }
    memcpy(room, data, length);
    return 0;
}
