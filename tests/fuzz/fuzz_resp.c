/*
 * fuzz_resp: the RESP reader (drivers/resp.h) on arbitrary bytes.
 *
 * The input is one control byte, one split seed byte, then the stream. The stream is
 * parsed twice: in one piece, and in pieces whose sizes come from the seed (from single
 * bytes to the whole rest), half the time a reply at a time. Both must give the same
 * replies and the same error, since the reader promises to survive any split. Then the
 * writer round trip: the stream cut into arguments is encoded as a command, read back, and must
 * give those arguments. And a reader destroyed with replies still queued must free them all.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

/* Small limits make the reader's limit paths reachable from short inputs and keep a
 * bulk header from asking for hundreds of megabytes on every run. */
#define FUZZ_MAX_BULK_BYTES ((size_t)1 << 20)
#define FUZZ_MAX_LINE_BYTES 256
#define FUZZ_MAX_DEPTH 8
#define FUZZ_MAX_ARRAY_ELEMENTS 100000
/* A command of up to this many arguments in the writer round trip. */
#define FUZZ_MAX_ARGUMENTS 16

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        if (!(condition))                                                                          \
            abort();                                                                               \
    } while (0)

/* xorshift32: a split pattern that a one-byte seed changes completely. */
static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* A canonical form of a reply, so two parses can be compared byte for byte. */
static void describe(resp_buffer *out, const resp_reply *reply)
{
    char type = (char)('0' + (int)reply->type);
    CHECK(resp_buffer_append(out, &type, 1) == 0);
    switch (reply->type) {
    case RESP_SIMPLE_STRING:
    case RESP_ERROR:
    case RESP_BULK_STRING:
        CHECK(reply->string != NULL);
        CHECK(reply->string[reply->length] == '\0');
        CHECK(resp_buffer_append_bulk(out, reply->string, reply->length) == 0);
        break;
    case RESP_INTEGER:
        CHECK(resp_buffer_append(out, &reply->integer, sizeof(reply->integer)) == 0);
        break;
    case RESP_NIL:
    case RESP_NIL_ARRAY:
        break;
    case RESP_ARRAY:
        CHECK(resp_buffer_append_array_header(out, reply->element_count) == 0);
        if (reply->elements != NULL) {
            for (size_t i = 0; i < reply->element_count; i++)
                describe(out, reply->elements[i]);
        }
        break;
    }
}

/* Hands out every queued reply into `out`; returns the final status. */
static resp_status drain(resp_reader *reader, resp_buffer *out)
{
    resp_reply *reply;
    resp_status status;
    while ((status = resp_reader_next(reader, &reply)) == RESP_STATUS_REPLY) {
        describe(out, reply);
        resp_reply_free(reply);
    }
    CHECK(reply == NULL);
    return status;
}

typedef struct parse_result {
    resp_buffer replies;
    resp_status status;
    char error[RESP_ERROR_TEXT_BYTES];
    uint64_t position;
} parse_result;

static void parse(const resp_reader_options *options, const uint8_t *data, size_t size,
                  uint32_t seed, parse_result *result)
{
    resp_reader *reader = resp_reader_create(options);
    CHECK(reader != NULL);
    resp_buffer_init(&result->replies);
    size_t at = 0;
    /* Half the split parses take a reply at a time (resp_reader_feed_to_reply), draining
     * after each. */
    bool to_reply = (seed & 2) != 0;
    while (at < size) {
        size_t piece = size - at;
        if (seed != 0) {
            uint32_t choice = next_random(&seed);
            /* Mostly tiny pieces (splits inside "\r\n" and lengths), sometimes large. */
            piece = (choice & 3) == 0 ? choice % (size - at) + 1 : (choice >> 2) % 4 + 1;
            if (piece > size - at)
                piece = size - at;
        }
        int fed = 0;
        if (to_reply) {
            size_t offset = 0;
            while (fed == 0 && offset < piece) {
                size_t used = 0;
                fed = resp_reader_feed_to_reply(reader, data + at + offset, piece - offset, &used);
                CHECK(used <= piece - offset);
                CHECK(fed != 0 || used > 0);
                offset += used;
                drain(reader, &result->replies);
            }
        } else {
            fed = resp_reader_feed(reader, data + at, piece);
        }
        CHECK(fed == 0 || resp_reader_error(reader) != NULL);
        at += piece;
        /* Draining between pieces must not change what comes out. */
        if (seed & 1)
            drain(reader, &result->replies);
    }
    result->status = drain(reader, &result->replies);
    const char *error = resp_reader_error(reader);
    CHECK((result->status == RESP_STATUS_FAILED) == (error != NULL));
    result->error[0] = '\0';
    if (error != NULL) {
        CHECK(strchr(error, '\n') == NULL);
        strncpy(result->error, error, sizeof(result->error) - 1);
        result->error[sizeof(result->error) - 1] = '\0';
        /* The stream is refused from now on. */
        CHECK(resp_reader_feed(reader, "+OK\r\n", 5) == -1);
    } else {
        CHECK(resp_reader_position(reader) == size);
    }
    result->position = resp_reader_position(reader);
    resp_reader_destroy(reader);
}

static void compare_whole_and_split(const resp_reader_options *options, const uint8_t *data,
                                    size_t size, uint32_t seed)
{
    parse_result whole, split;
    parse(options, data, size, 0, &whole);
    parse(options, data, size, seed, &split);
    CHECK(whole.status == split.status);
    CHECK(strcmp(whole.error, split.error) == 0);
    size_t length = resp_buffer_pending(&whole.replies);
    const char *whole_data = resp_buffer_pending_data(&whole.replies);
    const char *split_data = resp_buffer_pending_data(&split.replies);
    CHECK(resp_buffer_pending(&split.replies) == length);
    /* memcmp must not see a NULL pointer, even for 0 bytes. */
    CHECK(length == 0 || memcmp(whole_data, split_data, length) == 0);
    resp_buffer_free(&whole.replies);
    resp_buffer_free(&split.replies);
}

/* Cuts the stream into arguments, encodes them both ways, and reads the command back. */
static void writer_round_trip(const uint8_t *data, size_t size, uint32_t seed)
{
    const char *arguments[FUZZ_MAX_ARGUMENTS];
    size_t lengths[FUZZ_MAX_ARGUMENTS];
    size_t count = next_random(&seed) % FUZZ_MAX_ARGUMENTS;
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        size_t length = size - at ? next_random(&seed) % (size - at + 1) : 0;
        arguments[i] = (const char *)data + at;
        lengths[i] = length;
        at += length;
    }

    size_t needed = resp_command_size(count, arguments, lengths);
    char *encoded = malloc(needed);
    CHECK(encoded != NULL);
    CHECK(resp_command_encode(encoded, needed - 1, count, arguments, lengths) == needed);
    CHECK(resp_command_encode(encoded, needed, count, arguments, lengths) == needed);

    resp_buffer buffer;
    resp_buffer_init(&buffer);
    /* Something already consumed at the front exercises the compaction path. */
    CHECK(resp_buffer_append(&buffer, "+x\r\n", 4) == 0);
    CHECK(resp_buffer_append_command(&buffer, count, arguments, lengths) == 0);
    resp_buffer_consume(&buffer, 4);
    CHECK(resp_buffer_pending(&buffer) == needed);
    CHECK(memcmp(resp_buffer_pending_data(&buffer), encoded, needed) == 0);

    resp_reader *reader = resp_reader_create(NULL);
    CHECK(reader != NULL);
    CHECK(resp_reader_feed(reader, encoded, needed) == 0);
    resp_reply *reply;
    CHECK(resp_reader_next(reader, &reply) == RESP_STATUS_REPLY);
    if (count == 0) {
        CHECK(reply->type == RESP_ARRAY && reply->element_count == 0);
    } else {
        CHECK(reply->type == RESP_ARRAY && reply->element_count == count);
        for (size_t i = 0; i < count; i++) {
            const resp_reply *element = reply->elements[i];
            CHECK(element->type == RESP_BULK_STRING);
            CHECK(element->length == lengths[i]);
            CHECK(memcmp(element->string, arguments[i], lengths[i]) == 0);
        }
    }
    resp_reply_free(reply);
    CHECK(resp_reader_next(reader, &reply) == RESP_STATUS_NEED_MORE);
    resp_reader_destroy(reader);
    resp_buffer_free(&buffer);
    free(encoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t control = data[0];
    uint32_t seed = (uint32_t)data[1] * 2654435761u + 1; /* never 0: 0 means "whole" */
    data += 2;
    size -= 2;

    resp_reader_options options = resp_reader_default_options();
    options.keep_array_elements = control & 1;
    if (control & 2) {
        options.max_bulk_bytes = FUZZ_MAX_BULK_BYTES;
        options.max_line_bytes = FUZZ_MAX_LINE_BYTES;
        options.max_depth = FUZZ_MAX_DEPTH;
        options.max_array_elements = FUZZ_MAX_ARRAY_ELEMENTS;
    } else {
        /* The defaults, except a bulk ceiling that keeps each run cheap. */
        options.max_bulk_bytes = FUZZ_MAX_BULK_BYTES;
    }
    compare_whole_and_split(&options, data, size, seed);
    if (control & 8) {
        /* Destroyed with replies still queued and one half read: the leak check sees
         * whether destroy frees them all. */
        resp_reader *reader = resp_reader_create(&options);
        CHECK(reader != NULL);
        resp_reader_feed(reader, data, size);
        resp_reader_destroy(reader);
    }
    if (control & 4)
        writer_round_trip(data, size, seed);
    return 0;
}
