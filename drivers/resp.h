/*
 * resp.h: the RESP2 protocol, both directions.
 *
 * Promises:
 * - The reader is a push parser: `resp_reader_feed` takes bytes in whatever pieces the
 *   wire delivered them (a split inside a length, inside "\r\n", or a 10 MB bulk string in
 *   4 KiB pieces) and queues every reply that became whole; `resp_reader_next` hands them
 *   out in order. Nothing fed is ever copied twice: a bulk payload is allocated once at
 *   its announced length (bounded by `max_bulk_bytes`) and filled in place.
 * - Malformed input ends the stream: the reader keeps a one-line error that says what
 *   was wrong and at which byte of the stream, and refuses all further input.
 * - With `keep_array_elements` false an array reply carries only its element count, so a
 *   caller that only needs "how many" never holds a huge array in memory.
 * - The writer encodes a command (an array of bulk strings) either into a caller buffer
 *   or into a growable output buffer that the caller drains from the front.
 */
#ifndef RESP_H
#define RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The server's own ceiling for a bulk string (proto-max-bulk-len default). */
#define RESP_DEFAULT_MAX_BULK_BYTES ((size_t)512 << 20)
/* Replies this harness provokes are at most two levels deep; 32 leaves room for any
 * server reply while still stopping a runaway nesting attack. */
#define RESP_DEFAULT_MAX_DEPTH 32
/* Simple strings, errors and headers are short; 64 KiB is far above any real one. */
#define RESP_DEFAULT_MAX_LINE_BYTES ((size_t)64 << 10)
/* Bounds the element count an array header may announce. */
#define RESP_DEFAULT_MAX_ARRAY_ELEMENTS ((int64_t)1 << 32)
#define RESP_ERROR_TEXT_BYTES 256

typedef enum resp_type {
    RESP_SIMPLE_STRING, /* +OK */
    RESP_ERROR,         /* -ERR ... */
    RESP_INTEGER,       /* :42 */
    RESP_BULK_STRING,   /* $3 foo */
    RESP_NIL,           /* $-1 */
    RESP_ARRAY,         /* *2 ... */
    RESP_NIL_ARRAY,     /* *-1 */
} resp_type;

typedef struct resp_reply resp_reply;
struct resp_reply {
    resp_type type;
    int64_t integer; /* RESP_INTEGER */
    /* Simple strings, errors and bulk strings: the payload, in the reply's own
     * allocation and always followed by a NUL that is not counted in length, so text
     * replies can be printed directly. */
    char *string;
    size_t length;
    /* Arrays: the announced count; elements is NULL when the reader skims arrays. */
    size_t element_count;
    resp_reply **elements;
};

typedef struct resp_reader_options {
    size_t max_bulk_bytes;
    size_t max_depth;
    size_t max_line_bytes;
    int64_t max_array_elements;
    bool keep_array_elements;
} resp_reader_options;

typedef enum resp_status {
    RESP_STATUS_REPLY,     /* *out holds a whole reply, now owned by the caller */
    RESP_STATUS_NEED_MORE, /* no whole reply queued yet */
    RESP_STATUS_FAILED,    /* the stream is malformed; see resp_reader_error */
} resp_status;

typedef struct resp_reader resp_reader;

/* The defaults above, keeping array elements. */
resp_reader_options resp_reader_default_options(void);
/* NULL options means the defaults. Returns NULL only when out of memory. */
resp_reader *resp_reader_create(const resp_reader_options *options);
void resp_reader_destroy(resp_reader *reader);

/* Consumes all of data. Returns 0, or -1 when the stream is (or already was) malformed. */
int resp_reader_feed(resp_reader *reader, const void *data, size_t size);
/* Consumes data up to the end of the first whole top-level reply it completes (or all of
 * it) and sets *used to the bytes taken. A caller that takes each reply before feeding
 * the rest holds one reply at a time, so the allocator reuses one block instead of
 * queueing a pipeline's worth. Nothing is consumed while a reply is still queued.
 * Returns as resp_reader_feed. */
int resp_reader_feed_to_reply(resp_reader *reader, const void *data, size_t size, size_t *used);
/* Pops the oldest whole reply. Replies queued before an error are still handed out;
 * RESP_STATUS_FAILED comes once the queue is empty. */
resp_status resp_reader_next(resp_reader *reader, resp_reply **out);
/* The sticky error line, or NULL while the stream is well formed. */
const char *resp_reader_error(const resp_reader *reader);
/* Bytes consumed from the stream so far, for callers that report positions. After a
 * failure it is the offset of the byte that was refused. */
uint64_t resp_reader_position(const resp_reader *reader);
/* Writes into out a short printable excerpt of data around data[at]: up to `context`
 * bytes either side, the byte at `at` between brackets, CR/LF/quote/backslash escaped and
 * other non-printable bytes as \xNN, e.g. `"abc\r" [\n] "$3"`. Stops before it would
 * overflow out, which is always NUL-terminated. at == size marks the end of data. */
/* Writes into out the first `limit` bytes of data, escaped as above, between quotes,
 * with "..." after the closing quote when data is longer. */
void resp_quote_bytes(char *out, size_t out_size, const void *data, size_t size, size_t limit);
void resp_describe_bytes(char *out, size_t out_size, const void *data, size_t size, size_t at,
                         size_t context);

void resp_reply_free(resp_reply *reply);
/* "simple string", "bulk string", ... for messages. */
const char *resp_type_name(resp_type type);

/* ---- writer ---- */

/* Bytes needed to encode the command; argument_lengths give each argument's size. */
size_t resp_command_size(size_t argument_count, const char *const *arguments,
                         const size_t *argument_lengths);
/* Encodes the command into buffer when it fits. Returns the encoded size either way,
 * like snprintf, so a return above capacity means nothing was written. */
size_t resp_command_encode(char *buffer, size_t capacity, size_t argument_count,
                           const char *const *arguments, const size_t *argument_lengths);

/* Output waiting for the wire: bytes [start, end) of data are still to be written. */
typedef struct resp_buffer {
    char *data;
    size_t start;
    size_t end;
    size_t capacity;
} resp_buffer;

void resp_buffer_init(resp_buffer *buffer);
void resp_buffer_free(resp_buffer *buffer);
static inline size_t resp_buffer_pending(const resp_buffer *buffer)
{
    return buffer->end - buffer->start;
}
/* NULL while the buffer has never held anything. */
static inline const char *resp_buffer_pending_data(const resp_buffer *buffer)
{
    /* Not NULL + 0: pointer arithmetic on a null pointer is undefined, even adding 0. */
    return buffer->data != NULL ? buffer->data + buffer->start : NULL;
}
/* Marks count bytes from the front as written. */
void resp_buffer_consume(resp_buffer *buffer, size_t count);
/* Each returns 0, or -1 when out of memory (the buffer is then unchanged). */
int resp_buffer_append_command(resp_buffer *buffer, size_t argument_count,
                               const char *const *arguments, const size_t *argument_lengths);
/* Raw bytes, already encoded (a caller replaying recorded traffic, a fake server). */
int resp_buffer_append(resp_buffer *buffer, const void *data, size_t length);
int resp_buffer_append_array_header(resp_buffer *buffer, size_t element_count);
int resp_buffer_append_bulk(resp_buffer *buffer, const void *data, size_t length);
/* Appends a bulk string header and trailer around length bytes of room, and returns
 * that room for the caller to fill in place (no intermediate copy of a large value).
 * NULL when out of memory. */
char *resp_buffer_append_bulk_space(resp_buffer *buffer, size_t length);
/* A command of argument_count arguments and one more of last_length bytes, encoded in
 * one go; returns the room for that last argument, for the caller to fill in place (a
 * SET's value). NULL when out of memory. */
char *resp_buffer_append_command_space(resp_buffer *buffer, size_t argument_count,
                                       const char *const *arguments, const size_t *argument_lengths,
                                       size_t last_length);
/* Only the header of a bulk string of length bytes ("$length\r\n"): the caller appends
 * the bytes and the trailing CRLF later, in pieces (a value streamed as it is made). */
int resp_buffer_append_bulk_header(resp_buffer *buffer, size_t length);
/* length bytes of room at the end, for the caller to fill in place. NULL when out of
 * memory. */
char *resp_buffer_append_space(resp_buffer *buffer, size_t length);

#endif
