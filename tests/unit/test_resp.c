/*
 * test_resp.c: the RESP reader survives any split of its input, rejects malformed input
 * with a precise sticky error, and the writer produces the exact bytes of the protocol.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp.h"

#define RENDER_BYTES 4096
#define TEN_MEGABYTES 10000000
#define FOUR_KIBIBYTES 4096

/* A transcript of replies a Valkey server really sends, one after another. */
static const char recorded_stream[] = "+OK\r\n"
                                      "-ERR unknown command 'FOO'\r\n"
                                      ":-12345\r\n"
                                      "$5\r\nhello\r\n"
                                      "$-1\r\n"
                                      "$0\r\n\r\n"
                                      "*3\r\n$3\r\nfoo\r\n$-1\r\n*2\r\n:1\r\n+bar\r\n"
                                      "*-1\r\n"
                                      "*0\r\n"
                                      "$4\r\na\r\nb\r\n";

/* The same replies as render_reply writes them, by hand. */
static const char *const recorded_expectation[] = {
    "simple(OK)",
    "error(ERR unknown command 'FOO')",
    "integer(-12345)",
    "bulk(hello)",
    "nil",
    "bulk()",
    "array[bulk(foo),nil,array[integer(1),simple(bar)]]",
    "nil-array",
    "array[]",
    "bulk(a\r\nb)",
};
#define RECORDED_REPLY_COUNT (sizeof(recorded_expectation) / sizeof(recorded_expectation[0]))

static size_t render_reply(const resp_reply *reply, char *out, size_t size)
{
    size_t used = 0;
    switch (reply->type) {
    case RESP_SIMPLE_STRING:
        return (size_t)snprintf(out, size, "simple(%s)", reply->string);
    case RESP_ERROR:
        return (size_t)snprintf(out, size, "error(%s)", reply->string);
    case RESP_INTEGER:
        return (size_t)snprintf(out, size, "integer(%lld)", (long long)reply->integer);
    case RESP_BULK_STRING:
        return (size_t)snprintf(out, size, "bulk(%.*s)", (int)reply->length, reply->string);
    case RESP_NIL:
        return (size_t)snprintf(out, size, "nil");
    case RESP_NIL_ARRAY:
        return (size_t)snprintf(out, size, "nil-array");
    case RESP_ARRAY:
        used += (size_t)snprintf(out, size, "array[");
        for (size_t i = 0; i < reply->element_count; i++) {
            if (i > 0) {
                used += (size_t)snprintf(out + used, size - used, ",");
            }
            used += render_reply(reply->elements[i], out + used, size - used);
        }
        used += (size_t)snprintf(out + used, size - used, "]");
        return used;
    }
    return 0;
}

/* Pops every queued reply and checks it against the next expectation. */
static void expect_queued_replies(resp_reader *reader, size_t *next_expected)
{
    resp_reply *reply = NULL;
    char rendered[RENDER_BYTES];
    while (resp_reader_next(reader, &reply) == RESP_STATUS_REPLY) {
        assert_true(*next_expected < RECORDED_REPLY_COUNT);
        render_reply(reply, rendered, sizeof(rendered));
        assert_string_equal(rendered, recorded_expectation[*next_expected]);
        (*next_expected)++;
        resp_reply_free(reply);
    }
    assert_null(resp_reader_error(reader));
}

static void test_recorded_stream_fed_whole_gives_every_reply(void **state)
{
    (void)state;
    resp_reader *reader = resp_reader_create(NULL);
    size_t next_expected = 0;
    assert_int_equal(resp_reader_feed(reader, recorded_stream, sizeof(recorded_stream) - 1), 0);
    expect_queued_replies(reader, &next_expected);
    assert_int_equal(next_expected, RECORDED_REPLY_COUNT);
    assert_int_equal(resp_reader_position(reader), sizeof(recorded_stream) - 1);
    resp_reader_destroy(reader);
}

static void test_recorded_stream_fed_byte_by_byte_gives_every_reply(void **state)
{
    (void)state;
    resp_reader *reader = resp_reader_create(NULL);
    size_t next_expected = 0;
    for (size_t i = 0; i < sizeof(recorded_stream) - 1; i++) {
        assert_int_equal(resp_reader_feed(reader, recorded_stream + i, 1), 0);
        expect_queued_replies(reader, &next_expected);
    }
    assert_int_equal(next_expected, RECORDED_REPLY_COUNT);
    resp_reader_destroy(reader);
}

static void test_recorded_stream_split_in_two_anywhere_gives_every_reply(void **state)
{
    (void)state;
    size_t total = sizeof(recorded_stream) - 1;
    for (size_t split = 0; split <= total; split++) {
        resp_reader *reader = resp_reader_create(NULL);
        size_t next_expected = 0;
        /* Copies, so the sanitizer sees any read past either piece. */
        char *first = malloc(split + 1);
        char *second = malloc(total - split + 1);
        memcpy(first, recorded_stream, split);
        memcpy(second, recorded_stream + split, total - split);
        assert_int_equal(resp_reader_feed(reader, first, split), 0);
        expect_queued_replies(reader, &next_expected);
        assert_int_equal(resp_reader_feed(reader, second, total - split), 0);
        expect_queued_replies(reader, &next_expected);
        assert_int_equal(next_expected, RECORDED_REPLY_COUNT);
        free(first);
        free(second);
        resp_reader_destroy(reader);
    }
}

/* Fed to each reply in turn, the stream split in two anywhere: every reply comes out
 * alone, the bytes taken add up to the stream, and nothing is taken while a reply waits. */
static void test_feeding_to_each_reply_hands_them_out_one_at_a_time(void **state)
{
    (void)state;
    size_t total = sizeof(recorded_stream) - 1;
    for (size_t split = 0; split <= total; split++) {
        resp_reader *reader = resp_reader_create(NULL);
        size_t next_expected = 0;
        size_t taken = 0;
        const size_t bounds[][2] = {{0, split}, {split, total}};
        for (size_t p = 0; p < 2; p++) {
            size_t length = bounds[p][1] - bounds[p][0];
            char *piece = malloc(length + 1); /* a copy: the sanitizer sees overreads */
            memcpy(piece, recorded_stream + bounds[p][0], length);
            size_t offset = 0;
            while (offset < length) {
                size_t used = 0;
                assert_int_equal(
                    resp_reader_feed_to_reply(reader, piece + offset, length - offset, &used), 0);
                assert_true(used > 0);
                offset += used;
                if (offset < length) {
                    /* It stopped early: a whole reply is waiting, and is taken first. */
                    size_t none = 1;
                    assert_int_equal(
                        resp_reader_feed_to_reply(reader, piece + offset, length - offset, &none),
                        0);
                    assert_int_equal(none, 0);
                }
                size_t before = next_expected;
                expect_queued_replies(reader, &next_expected);
                assert_true(next_expected - before <= 1);
                assert_true(offset == length || next_expected == before + 1);
            }
            taken += offset;
            free(piece);
        }
        assert_int_equal(next_expected, RECORDED_REPLY_COUNT);
        assert_int_equal(taken, total);
        assert_int_equal(resp_reader_position(reader), total);
        resp_reader_destroy(reader);
    }
}

static void test_partial_reply_is_not_handed_out(void **state)
{
    (void)state;
    resp_reader *reader = resp_reader_create(NULL);
    resp_reply *reply = NULL;
    assert_int_equal(resp_reader_feed(reader, "*2\r\n:1\r\n", 8), 0);
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_NEED_MORE);
    assert_null(reply);
    assert_int_equal(resp_reader_feed(reader, ":2\r", 3), 0);
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_NEED_MORE);
    assert_int_equal(resp_reader_feed(reader, "\n", 1), 0);
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_REPLY);
    assert_int_equal(reply->type, RESP_ARRAY);
    assert_int_equal(reply->element_count, 2);
    assert_int_equal(reply->elements[1]->integer, 2);
    resp_reply_free(reply);
    resp_reader_destroy(reader);
}

static void test_ten_megabyte_bulk_in_four_kibibyte_pieces_arrives_intact(void **state)
{
    (void)state;
    static const char header[] = "$10000000\r\n";
    size_t header_length = sizeof(header) - 1;
    size_t total = header_length + TEN_MEGABYTES + 2;
    char *stream = malloc(total);
    memcpy(stream, header, header_length);
    for (size_t i = 0; i < TEN_MEGABYTES; i++) {
        stream[header_length + i] = (char)((i * 31 + 7) & 0xff);
    }
    memcpy(stream + header_length + TEN_MEGABYTES, "\r\n", 2);

    resp_reader *reader = resp_reader_create(NULL);
    resp_reply *reply = NULL;
    for (size_t offset = 0; offset < total; offset += FOUR_KIBIBYTES) {
        size_t piece = total - offset < FOUR_KIBIBYTES ? total - offset : FOUR_KIBIBYTES;
        if (offset + piece < total) {
            assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_NEED_MORE);
        }
        assert_int_equal(resp_reader_feed(reader, stream + offset, piece), 0);
    }
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_REPLY);
    assert_int_equal(reply->type, RESP_BULK_STRING);
    assert_int_equal(reply->length, TEN_MEGABYTES);
    assert_memory_equal(reply->string, stream + header_length, TEN_MEGABYTES);
    resp_reply_free(reply);
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_NEED_MORE);
    resp_reader_destroy(reader);
    free(stream);
}

static void test_skimming_reader_keeps_array_counts_but_not_elements(void **state)
{
    (void)state;
    resp_reader_options options = resp_reader_default_options();
    options.keep_array_elements = false;
    resp_reader *reader = resp_reader_create(&options);
    resp_reply *reply = NULL;
    static const char input[] = "*3\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n$-1\r\n$2\r\nhi\r\n";
    assert_int_equal(resp_reader_feed(reader, input, sizeof(input) - 1), 0);
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_REPLY);
    assert_int_equal(reply->type, RESP_ARRAY);
    assert_int_equal(reply->element_count, 3);
    assert_null(reply->elements);
    resp_reply_free(reply);
    /* Top-level bulk strings still carry their payload. */
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_REPLY);
    assert_int_equal(reply->type, RESP_BULK_STRING);
    assert_string_equal(reply->string, "hi");
    resp_reply_free(reply);
    resp_reader_destroy(reader);
}

typedef struct malformed_case {
    const char *input;
    size_t max_bulk_bytes; /* 0: the default */
    size_t max_depth;      /* 0: the default */
    size_t max_line_bytes; /* 0: the default */
    const char *expected_error;
} malformed_case;

static const malformed_case malformed_cases[] = {
    {"?x\r\n", 0, 0, 0, "RESP byte 0: unknown reply type byte 0x3f"},
    {"+OK\r\n!", 0, 0, 0, "RESP byte 5: unknown reply type byte 0x21"},
    {"$abc\r\n", 0, 0, 0, "RESP byte 0: bad bulk length \"abc\""},
    {"$\r\n", 0, 0, 0, "RESP byte 0: bad bulk length \"\""},
    {"$-2\r\n", 0, 0, 0, "RESP byte 0: negative bulk length -2"},
    {"$ 5\r\n", 0, 0, 0, "RESP byte 0: bad bulk length \" 5\""},
    {"$5\r\nhelloXY", 0, 0, 0, "RESP byte 9: bulk string of 5 bytes not followed by CRLF"},
    {"$5\r\nhello\rX", 0, 0, 0, "RESP byte 10: bulk string of 5 bytes not followed by CRLF"},
    {"+OK\rX", 0, 0, 0, "RESP byte 4: CR not followed by LF"},
    {"+OK\n", 0, 0, 0, "RESP byte 3: line ended by LF without CR"},
    {":12a\r\n", 0, 0, 0, "RESP byte 0: bad integer \"12a\""},
    {":-\r\n", 0, 0, 0, "RESP byte 0: bad integer \"-\""},
    {":9223372036854775808\r\n", 0, 0, 0, "RESP byte 0: bad integer \"9223372036854775808\""},
    {"*-5\r\n", 0, 0, 0, "RESP byte 0: negative array length -5"},
    {"*x\r\n", 0, 0, 0, "RESP byte 0: bad array length \"x\""},
    {"$11\r\n", 10, 0, 0, "RESP byte 0: bulk length 11 exceeds the maximum of 10"},
    {"*1\r\n*1\r\n*1\r\n:1\r\n", 0, 2, 0, "RESP byte 8: arrays nested more than 2 deep"},
    {"+hello\r\n", 0, 0, 4, "RESP byte 5: line longer than 4 bytes"},
};

static void test_malformed_input_gives_its_error(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(malformed_cases) / sizeof(malformed_cases[0]); i++) {
        const malformed_case *c = &malformed_cases[i];
        resp_reader_options options = resp_reader_default_options();
        if (c->max_bulk_bytes) {
            options.max_bulk_bytes = c->max_bulk_bytes;
        }
        if (c->max_depth) {
            options.max_depth = c->max_depth;
        }
        if (c->max_line_bytes) {
            options.max_line_bytes = c->max_line_bytes;
        }
        /* Byte by byte, whole, and a reply at a time: the error must not depend on the
         * split. */
        for (int mode = 0; mode <= 2; mode++) {
            resp_reader *reader = resp_reader_create(&options);
            int result = 0;
            size_t length = strlen(c->input);
            if (mode == 1) {
                for (size_t j = 0; j < length && result == 0; j++) {
                    result = resp_reader_feed(reader, c->input + j, 1);
                }
            } else if (mode == 2) {
                size_t offset = 0;
                while (offset < length && result == 0) {
                    size_t used = 0;
                    result = resp_reader_feed_to_reply(reader, c->input + offset, length - offset,
                                                       &used);
                    offset += used;
                    resp_reply *reply = NULL;
                    while (resp_reader_next(reader, &reply) == RESP_STATUS_REPLY) {
                        resp_reply_free(reply);
                    }
                }
            } else {
                result = resp_reader_feed(reader, c->input, length);
            }
            assert_int_equal(result, -1);
            assert_non_null(resp_reader_error(reader));
            assert_string_equal(resp_reader_error(reader), c->expected_error);
            resp_reader_destroy(reader);
        }
    }
}

static void test_error_is_sticky_and_earlier_replies_still_come_out(void **state)
{
    (void)state;
    resp_reader *reader = resp_reader_create(NULL);
    resp_reply *reply = NULL;
    assert_int_equal(resp_reader_feed(reader, "+OK\r\n$1\r\nab", 11), -1);
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_REPLY);
    assert_string_equal(reply->string, "OK");
    resp_reply_free(reply);
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_FAILED);
    /* Good input after the error is refused too. */
    assert_int_equal(resp_reader_feed(reader, "+OK\r\n", 5), -1);
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_FAILED);
    assert_string_equal(resp_reader_error(reader),
                        "RESP byte 10: bulk string of 1 bytes not followed by CRLF");
    resp_reader_destroy(reader);
}

/* Found by fuzz_resp (tests/fuzz/regressions/resp/): an empty line as the very first
 * reply copied from a line buffer never allocated (memcpy from NULL, which UBSan
 * rejects even for 0 bytes). */
static void test_empty_simple_string_and_error_as_first_reply(void **state)
{
    (void)state;
    static const char *const inputs[] = {"+\r\n", "-\r\n"};
    static const resp_type types[] = {RESP_SIMPLE_STRING, RESP_ERROR};
    for (size_t i = 0; i < 2; i++) {
        resp_reader *reader = resp_reader_create(NULL);
        resp_reply *reply = NULL;
        assert_int_equal(resp_reader_feed(reader, inputs[i], 3), 0);
        assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_REPLY);
        assert_int_equal(reply->type, types[i]);
        assert_int_equal(reply->length, 0);
        assert_string_equal(reply->string, "");
        resp_reply_free(reply);
        resp_reader_destroy(reader);
    }
}

static void test_destroying_a_reader_mid_reply_frees_everything(void **state)
{
    (void)state;
    /* An open array holding a finished element and a half-filled bulk string: the
     * leak checker fails this test if either is left behind. */
    resp_reader *reader = resp_reader_create(NULL);
    assert_int_equal(resp_reader_feed(reader, "*3\r\n:1\r\n*2\r\n$10\r\nabc", 20), 0);
    resp_reader_destroy(reader);
}

static void test_command_encodes_to_the_protocol_bytes(void **state)
{
    (void)state;
    const char *arguments[] = {"SET", "key:1", "value"};
    size_t lengths[] = {3, 5, 5};
    static const char expected[] = "*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$5\r\nvalue\r\n";
    char buffer[64];
    assert_int_equal(resp_command_size(3, arguments, lengths), sizeof(expected) - 1);
    assert_int_equal(resp_command_encode(buffer, sizeof(buffer), 3, arguments, lengths),
                     sizeof(expected) - 1);
    assert_memory_equal(buffer, expected, sizeof(expected) - 1);
}

static void test_command_too_large_for_the_buffer_writes_nothing(void **state)
{
    (void)state;
    const char *arguments[] = {"GET", "k"};
    size_t lengths[] = {3, 1};
    char buffer[8];
    memset(buffer, 'z', sizeof(buffer));
    /* "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" is 4 + 4 + 5 + 4 + 3 = 20 bytes. */
    assert_int_equal(resp_command_encode(buffer, sizeof(buffer), 2, arguments, lengths), 20);
    for (size_t i = 0; i < sizeof(buffer); i++) {
        assert_int_equal(buffer[i], 'z');
    }
}

static void test_binary_and_empty_arguments_are_length_prefixed(void **state)
{
    (void)state;
    const char *arguments[] = {"a\0\r\nb", "", "0123456789"};
    size_t lengths[] = {5, 0, 10};
    static const char expected[] = "*3\r\n$5\r\na\0\r\nb\r\n$0\r\n\r\n$10\r\n0123456789\r\n";
    char buffer[64];
    assert_int_equal(resp_command_encode(buffer, sizeof(buffer), 3, arguments, lengths),
                     sizeof(expected) - 1);
    assert_memory_equal(buffer, expected, sizeof(expected) - 1);
}

static void test_output_buffer_appends_and_drains_from_the_front(void **state)
{
    (void)state;
    resp_buffer buffer;
    resp_buffer_init(&buffer);
    const char *get[] = {"GET", "k"};
    size_t get_lengths[] = {3, 1};
    assert_int_equal(resp_buffer_append_command(&buffer, 2, get, get_lengths), 0);
    assert_int_equal(resp_buffer_append_array_header(&buffer, 3), 0);
    assert_int_equal(resp_buffer_append_bulk(&buffer, "SET", 3), 0);
    assert_int_equal(resp_buffer_append_bulk(&buffer, "k", 1), 0);
    char *room = resp_buffer_append_bulk_space(&buffer, 12);
    assert_non_null(room);
    memcpy(room, "hello world!", 12);
    static const char expected[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
                                   "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$12\r\nhello world!\r\n";
    assert_int_equal(resp_buffer_pending(&buffer), sizeof(expected) - 1);
    assert_memory_equal(resp_buffer_pending_data(&buffer), expected, sizeof(expected) - 1);
    resp_buffer_consume(&buffer, 22);
    assert_int_equal(resp_buffer_pending(&buffer), sizeof(expected) - 1 - 22);
    assert_memory_equal(resp_buffer_pending_data(&buffer), expected + 22,
                        sizeof(expected) - 1 - 22);
    resp_buffer_consume(&buffer, resp_buffer_pending(&buffer));
    assert_int_equal(resp_buffer_pending(&buffer), 0);
    resp_buffer_free(&buffer);
}

/* Found by fuzz_resp (tests/fuzz/regressions/resp/): asking a never-used buffer for its
 * pending data computed NULL + 0, which UBSan rejects. */
static void test_unused_buffer_has_nothing_pending_and_no_data(void **state)
{
    (void)state;
    resp_buffer buffer;
    resp_buffer_init(&buffer);
    assert_int_equal(resp_buffer_pending(&buffer), 0);
    assert_null(resp_buffer_pending_data(&buffer));
    resp_buffer_free(&buffer);
}

static void test_raw_bytes_are_appended_verbatim(void **state)
{
    (void)state;
    resp_buffer buffer;
    resp_buffer_init(&buffer);
    assert_int_equal(resp_buffer_append(&buffer, "+OK\r\n", 5), 0);
    assert_int_equal(resp_buffer_append(&buffer, "$-1\r\n", 5), 0);
    assert_int_equal(resp_buffer_pending(&buffer), 10);
    assert_memory_equal(resp_buffer_pending_data(&buffer), "+OK\r\n$-1\r\n", 10);
    resp_buffer_free(&buffer);
}

/* A command whose last argument the caller fills in place is byte for byte the command
 * encoded whole, after bytes already pending, and at every value length around the
 * header's digit counts. */
static void test_command_with_room_for_its_value_matches_the_whole_encoding(void **state)
{
    (void)state;
    const size_t value_lengths[] = {0, 1, 9, 10, 99, 100, 65536};
    for (size_t i = 0; i < sizeof(value_lengths) / sizeof(value_lengths[0]); i++) {
        size_t length = value_lengths[i];
        char *value = malloc(length + 1);
        memset(value, 'v', length);
        resp_buffer whole;
        resp_buffer in_place;
        resp_buffer_init(&whole);
        resp_buffer_init(&in_place);
        assert_int_equal(resp_buffer_append(&whole, "+x\r\n", 5), 0);
        assert_int_equal(resp_buffer_append(&in_place, "+x\r\n", 5), 0);
        const char *arguments[] = {"SET", "key:1", value};
        size_t lengths[] = {3, 5, length};
        assert_int_equal(resp_buffer_append_command(&whole, 3, arguments, lengths), 0);
        char *room = resp_buffer_append_command_space(&in_place, 2, arguments, lengths, length);
        assert_non_null(room);
        memset(room, 'v', length);
        assert_int_equal(resp_buffer_pending(&in_place), resp_buffer_pending(&whole));
        assert_memory_equal(resp_buffer_pending_data(&in_place), resp_buffer_pending_data(&whole),
                            resp_buffer_pending(&whole));
        resp_buffer_free(&whole);
        resp_buffer_free(&in_place);
        free(value);
    }
}

static void test_written_command_reads_back_as_the_same_arguments(void **state)
{
    (void)state;
    resp_buffer buffer;
    resp_buffer_init(&buffer);
    const char *arguments[] = {"SET", "key", "v\r\nv"};
    size_t lengths[] = {3, 3, 4};
    assert_int_equal(resp_buffer_append_command(&buffer, 3, arguments, lengths), 0);
    resp_reader *reader = resp_reader_create(NULL);
    assert_int_equal(
        resp_reader_feed(reader, resp_buffer_pending_data(&buffer), resp_buffer_pending(&buffer)),
        0);
    resp_reply *reply = NULL;
    assert_int_equal(resp_reader_next(reader, &reply), RESP_STATUS_REPLY);
    assert_int_equal(reply->element_count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(reply->elements[i]->type, RESP_BULK_STRING);
        assert_int_equal(reply->elements[i]->length, lengths[i]);
        assert_memory_equal(reply->elements[i]->string, arguments[i], lengths[i]);
    }
    resp_reply_free(reply);
    resp_reader_destroy(reader);
    resp_buffer_free(&buffer);
}

static void test_byte_excerpt_marks_the_refused_byte_and_escapes(void **state)
{
    (void)state;
    const char data[] = "0123456789$256\r\nAB\x01\"\\CDEFGHIJKLMNOP";
    char out[128];
    resp_describe_bytes(out, sizeof(out), data, sizeof(data) - 1, 16, 4);
    assert_string_equal(out, "...\"56\\r\\n\" [A] \"B\\x01\\\"\\\\\"...");
}

static void test_byte_excerpt_at_the_edges_and_in_a_small_buffer(void **state)
{
    (void)state;
    char out[64];
    resp_describe_bytes(out, sizeof(out), "xy", 2, 0, 8);
    assert_string_equal(out, "[x] \"y\"");
    resp_describe_bytes(out, sizeof(out), "xy", 2, 2, 8);
    assert_string_equal(out, "\"xy\" [end]");
    resp_describe_bytes(out, sizeof(out), "xy", 2, 1, 8);
    assert_string_equal(out, "\"x\" [y]");
    /* Too small for the whole excerpt: cut at a whole piece, still terminated. */
    char tiny[6];
    resp_describe_bytes(tiny, sizeof(tiny), "abcdef", 6, 3, 8);
    assert_string_equal(tiny, "\"abc");
    resp_describe_bytes(tiny, 0, "abcdef", 6, 3, 8);
    resp_quote_bytes(out, sizeof(out), "O\rK", 3, 8);
    assert_string_equal(out, "\"O\\rK\"");
    resp_quote_bytes(out, sizeof(out), "abcdef", 6, 4);
    assert_string_equal(out, "\"abcd\"...");
    resp_quote_bytes(out, sizeof(out), "", 0, 4);
    assert_string_equal(out, "\"\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_stream_fed_whole_gives_every_reply),
        cmocka_unit_test(test_recorded_stream_fed_byte_by_byte_gives_every_reply),
        cmocka_unit_test(test_recorded_stream_split_in_two_anywhere_gives_every_reply),
        cmocka_unit_test(test_feeding_to_each_reply_hands_them_out_one_at_a_time),
        cmocka_unit_test(test_partial_reply_is_not_handed_out),
        cmocka_unit_test(test_ten_megabyte_bulk_in_four_kibibyte_pieces_arrives_intact),
        cmocka_unit_test(test_skimming_reader_keeps_array_counts_but_not_elements),
        cmocka_unit_test(test_malformed_input_gives_its_error),
        cmocka_unit_test(test_error_is_sticky_and_earlier_replies_still_come_out),
        cmocka_unit_test(test_empty_simple_string_and_error_as_first_reply),
        cmocka_unit_test(test_destroying_a_reader_mid_reply_frees_everything),
        cmocka_unit_test(test_command_encodes_to_the_protocol_bytes),
        cmocka_unit_test(test_command_too_large_for_the_buffer_writes_nothing),
        cmocka_unit_test(test_byte_excerpt_marks_the_refused_byte_and_escapes),
        cmocka_unit_test(test_byte_excerpt_at_the_edges_and_in_a_small_buffer),
        cmocka_unit_test(test_binary_and_empty_arguments_are_length_prefixed),
        cmocka_unit_test(test_output_buffer_appends_and_drains_from_the_front),
        cmocka_unit_test(test_unused_buffer_has_nothing_pending_and_no_data),
        cmocka_unit_test(test_raw_bytes_are_appended_verbatim),
        cmocka_unit_test(test_written_command_reads_back_as_the_same_arguments),
        cmocka_unit_test(test_command_with_room_for_its_value_matches_the_whole_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
