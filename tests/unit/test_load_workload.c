/*
 * test_load_workload.c: the pure decisions of the load engine: value bytes and their
 * verification, SET/GET mix, key and value-size choice, rate limiting and stall rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "load_workload.h"
#include "rate_limiter.h"
#include "stall_detector.h"
#include "value_pattern.h"

#define NANOSECONDS_PER_MILLISECOND 1000000LL
#define NANOSECONDS_PER_SECOND 1000000000LL
#define DRAW_COUNT 100000

/* ---- value pattern ---- */

static void test_pattern_is_a_function_of_the_key_alone(void **state)
{
    (void)state;
    char short_value[10];
    char long_value[1000];
    uint64_t seed = value_pattern_seed("key:42", 6);
    value_pattern_fill(seed, short_value, sizeof(short_value));
    value_pattern_fill(seed, long_value, sizeof(long_value));
    /* A shorter value is a prefix of a longer one for the same key. */
    assert_memory_equal(short_value, long_value, sizeof(short_value));
    for (size_t i = 0; i < sizeof(long_value); i++) {
        assert_int_equal((uint8_t)long_value[i], value_pattern_byte(seed, i));
    }
    /* Another key gives other bytes. */
    char other[1000];
    value_pattern_fill(value_pattern_seed("key:43", 6), other, sizeof(other));
    assert_memory_not_equal(other, long_value, sizeof(other));
}

/* Every start and length around the 8-byte words: a piece is that slice of the whole. */
static void test_a_piece_made_at_any_offset_is_that_slice_of_the_value(void **state)
{
    (void)state;
    char whole[64];
    uint64_t seed = value_pattern_seed("key:7", 5);
    value_pattern_fill(seed, whole, sizeof(whole));
    for (size_t start = 0; start < 24; start++) {
        for (size_t length = 0; start + length <= sizeof(whole); length++) {
            char piece[64];
            memset(piece, 0, sizeof(piece));
            value_pattern_fill_at(seed, start, piece, length);
            assert_memory_equal(piece, whole + start, length);
            /* Nothing past the piece is touched. */
            if (length < sizeof(piece))
                assert_int_equal(piece[length], 0);
        }
    }
}

/* The pattern is made a 32 KiB table at a time: pieces that cross a table's end, or
 * start past it, are still slices of the one value, byte for byte. */
static void test_pieces_across_the_table_boundary_are_slices_of_the_value(void **state)
{
    (void)state;
    const size_t length = 100 * 1024;
    char *whole = malloc(length);
    char *piece = malloc(length);
    assert_non_null(whole);
    assert_non_null(piece);
    uint64_t seed = value_pattern_seed("key:9", 5);
    value_pattern_fill(seed, whole, length);
    const size_t starts[] = {32760, 32761, 32768, 65535, 65536, 70001};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        size_t count = length - starts[i];
        value_pattern_fill_at(seed, starts[i], piece, count);
        assert_memory_equal(piece, whole + starts[i], count);
        assert_int_equal((uint8_t)piece[0], value_pattern_byte(seed, starts[i]));
    }
    for (size_t offset = 0; offset < length; offset += 997) {
        assert_int_equal((uint8_t)whole[offset], value_pattern_byte(seed, offset));
    }
    free(piece);
    free(whole);
}

/* A duplicated 32 KiB block (one table's worth, where a repeating pattern would be blind)
 * and a 64 KiB chunk sent twice are both caught where the copy starts. */
static void test_a_repeated_block_is_caught_where_it_starts(void **state)
{
    (void)state;
    const size_t length = 192 * 1024;
    char *value = malloc(length);
    assert_non_null(value);
    uint64_t seed = value_pattern_seed("key:3", 5);
    const size_t sizes[] = {32 * 1024, 64 * 1024};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        value_pattern_fill(seed, value, length);
        memcpy(value + sizes[i], value, sizes[i]);
        int64_t mismatch = value_pattern_first_mismatch(seed, value, length);
        assert_true(mismatch >= (int64_t)sizes[i] && mismatch < (int64_t)sizes[i] + 8);
    }
    free(value);
}

static void test_intact_value_verifies(void **state)
{
    (void)state;
    const size_t length = 100003; /* not a multiple of the 8-byte word */
    char *value = malloc(length);
    uint64_t seed = value_pattern_seed("k", 1);
    value_pattern_fill(seed, value, length);
    assert_int_equal(value_pattern_first_mismatch(seed, value, length), -1);
    assert_int_equal(value_pattern_first_mismatch(seed, value, 0), -1);
    free(value);
}

static void test_corruption_is_found_at_its_exact_offset(void **state)
{
    (void)state;
    const size_t length = 4096;
    char *value = malloc(length);
    uint64_t seed = value_pattern_seed("key:7", 5);
    const size_t offsets[] = {0, 1, 7, 8, 9, 2047, 4095};
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        value_pattern_fill(seed, value, length);
        value[offsets[i]] ^= 0x01; /* a single flipped bit */
        assert_int_equal(value_pattern_first_mismatch(seed, value, length), offsets[i]);
    }
    /* A value shifted by one byte is wrong from its first byte on, unless the pattern
     * happens to repeat a byte there: the first mismatch is then within a few bytes. */
    value_pattern_fill(seed, value, length);
    memmove(value + 1, value, length - 1);
    assert_true(value_pattern_first_mismatch(seed, value, length) < 8);
    /* A zero-filled tail is found where it starts (or just after, if a pattern byte is
     * itself zero). */
    value_pattern_fill(seed, value, length);
    memset(value + 3000, 0, length - 3000);
    int64_t mismatch = value_pattern_first_mismatch(seed, value, length);
    assert_true(mismatch >= 3000 && mismatch < 3008);
    free(value);
}

static void test_value_of_another_key_is_caught(void **state)
{
    (void)state;
    char value[64];
    value_pattern_fill(value_pattern_seed("key:1", 5), value, sizeof(value));
    assert_true(
        value_pattern_first_mismatch(value_pattern_seed("key:2", 5), value, sizeof(value)) >= 0);
}

/* ---- operation, key and value-size choice ---- */

static void test_operation_follows_the_set_fraction(void **state)
{
    (void)state;
    assert_int_equal(load_choose_operation(0.25, 0.0), LOAD_OPERATION_SET);
    assert_int_equal(load_choose_operation(0.25, 0.2499), LOAD_OPERATION_SET);
    assert_int_equal(load_choose_operation(0.25, 0.25), LOAD_OPERATION_GET);
    assert_int_equal(load_choose_operation(0.25, 0.9999), LOAD_OPERATION_GET);
    assert_int_equal(load_choose_operation(1.0, 0.9999999), LOAD_OPERATION_SET);
    assert_int_equal(load_choose_operation(0.0, 0.0), LOAD_OPERATION_GET);
}

static void test_mix_over_many_draws_matches_the_fraction(void **state)
{
    (void)state;
    load_random random;
    load_random_seed(&random, 12345);
    int sets = 0;
    for (int i = 0; i < DRAW_COUNT; i++) {
        double unit = load_random_unit(load_random_next(&random));
        assert_true(unit >= 0.0 && unit < 1.0);
        sets += load_choose_operation(0.3, unit) == LOAD_OPERATION_SET;
    }
    /* Binomial(100000, 0.3) has a standard deviation of 145: 1000 is about 7 of them. */
    assert_in_range(sets, 30000 - 1000, 30000 + 1000);
}

static void test_keys_stay_in_the_key_space_and_cover_it(void **state)
{
    (void)state;
    assert_int_equal(load_choose_key(10, 0), 0);
    assert_int_equal(load_choose_key(10, UINT64_MAX), 9);
    assert_int_equal(load_choose_key(10, (uint64_t)1 << 63), 5); /* half-way is key 5 */
    assert_int_equal(load_choose_key(1, UINT64_MAX), 0);
    load_random random;
    load_random_seed(&random, 99);
    int seen[10] = {0};
    for (int i = 0; i < DRAW_COUNT; i++) {
        uint64_t key = load_choose_key(10, load_random_next(&random));
        assert_true(key < 10);
        seen[key]++;
    }
    for (int k = 0; k < 10; k++) {
        assert_in_range(seen[k], 10000 - 600, 10000 + 600); /* sd 95 */
    }
}

static void test_key_names_join_prefix_and_index(void **state)
{
    (void)state;
    char name[32];
    assert_int_equal(load_key_name(name, sizeof(name), "key:", 42), 6);
    assert_string_equal(name, "key:42");
    assert_int_equal(load_key_name(name, sizeof(name), "", 18446744073709551615ull), 20);
    assert_string_equal(name, "18446744073709551615");
    assert_int_equal(load_key_name(name, sizeof(name), "user:", 0), 6);
    assert_string_equal(name, "user:0");
    /* Cut to the room, NUL-terminated, and the whole length told, as snprintf does. */
    char small[6];
    assert_int_equal(load_key_name(small, sizeof(small), "key:", 1234), 8);
    assert_string_equal(small, "key:1");
    assert_int_equal(load_key_name(small, 3, "", 98765), 5);
    assert_string_equal(small, "98");
    assert_int_equal(load_key_name(NULL, 0, "k", 7), 2);
}

static void test_fixed_value_size_is_always_chosen(void **state)
{
    (void)state;
    const size_t fixed[] = {100000};
    value_size_spec spec = {.sizes = fixed, .size_count = 1};
    assert_int_equal(load_choose_value_size(&spec, 0), 100000);
    assert_int_equal(load_choose_value_size(&spec, UINT64_MAX), 100000);
    assert_true(load_value_size_allowed(&spec, 100000));
    assert_false(load_value_size_allowed(&spec, 99999));
    assert_int_equal(load_value_size_largest(&spec), 100000);
}

static void test_value_size_list_picks_each_entry(void **state)
{
    (void)state;
    const size_t list[] = {10, 20000, 10000000};
    value_size_spec spec = {.sizes = list, .size_count = 3};
    assert_int_equal(load_choose_value_size(&spec, 0), 10);
    assert_int_equal(load_choose_value_size(&spec, UINT64_MAX / 2), 20000);
    assert_int_equal(load_choose_value_size(&spec, UINT64_MAX), 10000000);
    assert_true(load_value_size_allowed(&spec, 20000));
    assert_false(load_value_size_allowed(&spec, 15));
    assert_int_equal(load_value_size_largest(&spec), 10000000);
}

static void test_value_size_range_is_inclusive(void **state)
{
    (void)state;
    value_size_spec spec = {.minimum = 100, .maximum = 200};
    assert_int_equal(load_choose_value_size(&spec, 0), 100);
    assert_int_equal(load_choose_value_size(&spec, UINT64_MAX), 200);
    load_random random;
    load_random_seed(&random, 7);
    bool saw_minimum = false;
    bool saw_maximum = false;
    for (int i = 0; i < DRAW_COUNT; i++) {
        size_t size = load_choose_value_size(&spec, load_random_next(&random));
        assert_in_range(size, 100, 200);
        saw_minimum |= size == 100;
        saw_maximum |= size == 200;
    }
    assert_true(saw_minimum && saw_maximum);
    assert_true(load_value_size_allowed(&spec, 100));
    assert_true(load_value_size_allowed(&spec, 200));
    assert_false(load_value_size_allowed(&spec, 201));
    assert_false(load_value_size_allowed(&spec, 99));
}

static void test_same_seed_gives_the_same_sequence(void **state)
{
    (void)state;
    load_random first;
    load_random second;
    load_random_seed(&first, 2024);
    load_random_seed(&second, 2024);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(load_random_next(&first), load_random_next(&second));
    }
}

/* ---- rate limiter ---- */

static void test_rate_limiter_allows_the_burst_then_paces(void **state)
{
    (void)state;
    rate_limiter limiter;
    /* 1000 per second is one per millisecond; a burst of 5. */
    rate_limiter_init(&limiter, 1000.0, 5.0, 0);
    for (int i = 0; i < 5; i++) {
        assert_true(rate_limiter_take(&limiter, 0));
    }
    assert_false(rate_limiter_take(&limiter, 0));
    assert_int_equal(rate_limiter_wait_ns(&limiter, 0), NANOSECONDS_PER_MILLISECOND);
    assert_false(rate_limiter_take(&limiter, NANOSECONDS_PER_MILLISECOND / 2));
    assert_true(rate_limiter_take(&limiter, NANOSECONDS_PER_MILLISECOND));
    assert_false(rate_limiter_take(&limiter, NANOSECONDS_PER_MILLISECOND));
}

static void test_rate_limiter_holds_the_rate_over_a_second(void **state)
{
    (void)state;
    rate_limiter limiter;
    rate_limiter_init(&limiter, 1000.0, 10.0, 0);
    int taken = 0;
    /* Ask every 10 us for one second: 1000 tokens accrue plus the initial burst of 10. */
    for (int64_t now = 0; now <= NANOSECONDS_PER_SECOND; now += 10000) {
        taken += rate_limiter_take(&limiter, now);
    }
    assert_in_range(taken, 1000 + 10 - 1, 1000 + 10);
}

static void test_rate_limiter_burst_is_capped_after_idle_time(void **state)
{
    (void)state;
    rate_limiter limiter;
    rate_limiter_init(&limiter, 1000.0, 3.0, 0);
    int taken = 0;
    /* A minute idle adds 60000 tokens, but the bucket holds 3. */
    while (rate_limiter_take(&limiter, 60 * NANOSECONDS_PER_SECOND)) {
        taken++;
    }
    assert_int_equal(taken, 3);
}

static void test_rate_of_zero_is_unlimited(void **state)
{
    (void)state;
    rate_limiter limiter;
    rate_limiter_init(&limiter, 0.0, 0.0, 0);
    for (int i = 0; i < 1000; i++) {
        assert_true(rate_limiter_take(&limiter, 0));
    }
    assert_int_equal(rate_limiter_wait_ns(&limiter, 0), 0);
}

/* ---- stall rule ---- */

static void test_no_outstanding_requests_is_never_a_stall(void **state)
{
    (void)state;
    assert_false(stall_detector_is_stalled(0, 0, 0, 100 * NANOSECONDS_PER_SECOND,
                                           10 * NANOSECONDS_PER_SECOND));
}

static void test_stall_is_measured_from_the_last_reply(void **state)
{
    (void)state;
    const int64_t bound = 10 * NANOSECONDS_PER_SECOND;
    const int64_t sent = 1 * NANOSECONDS_PER_SECOND;
    const int64_t last_reply = 5 * NANOSECONDS_PER_SECOND;
    /* Oldest request sent at 1 s, last reply at 5 s: stalled from 15 s on, not 11 s. */
    assert_false(
        stall_detector_is_stalled(4, last_reply, sent, 11 * NANOSECONDS_PER_SECOND, bound));
    assert_false(
        stall_detector_is_stalled(4, last_reply, sent, 15 * NANOSECONDS_PER_SECOND - 1, bound));
    assert_true(stall_detector_is_stalled(4, last_reply, sent, 15 * NANOSECONDS_PER_SECOND, bound));
    assert_int_equal(stall_detector_waiting_ns(last_reply, sent, 15 * NANOSECONDS_PER_SECOND),
                     bound);
}

static void test_idle_time_before_a_request_is_not_a_stall(void **state)
{
    (void)state;
    const int64_t bound = 10 * NANOSECONDS_PER_SECOND;
    /* Last reply at 0 s, idle, then a request at 30 s: at 35 s it has waited 5 s only. */
    assert_false(stall_detector_is_stalled(1, 1, 30 * NANOSECONDS_PER_SECOND,
                                           35 * NANOSECONDS_PER_SECOND, bound));
    assert_true(stall_detector_is_stalled(1, 1, 30 * NANOSECONDS_PER_SECOND,
                                          40 * NANOSECONDS_PER_SECOND, bound));
}

static void test_a_connection_that_never_got_a_reply_stalls_from_its_first_request(void **state)
{
    (void)state;
    const int64_t bound = 2 * NANOSECONDS_PER_SECOND;
    assert_false(
        stall_detector_is_stalled(3, 0, NANOSECONDS_PER_SECOND, 2 * NANOSECONDS_PER_SECOND, bound));
    assert_true(
        stall_detector_is_stalled(3, 0, NANOSECONDS_PER_SECOND, 3 * NANOSECONDS_PER_SECOND, bound));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_is_a_function_of_the_key_alone),
        cmocka_unit_test(test_a_piece_made_at_any_offset_is_that_slice_of_the_value),
        cmocka_unit_test(test_pieces_across_the_table_boundary_are_slices_of_the_value),
        cmocka_unit_test(test_a_repeated_block_is_caught_where_it_starts),
        cmocka_unit_test(test_intact_value_verifies),
        cmocka_unit_test(test_corruption_is_found_at_its_exact_offset),
        cmocka_unit_test(test_value_of_another_key_is_caught),
        cmocka_unit_test(test_operation_follows_the_set_fraction),
        cmocka_unit_test(test_mix_over_many_draws_matches_the_fraction),
        cmocka_unit_test(test_keys_stay_in_the_key_space_and_cover_it),
        cmocka_unit_test(test_key_names_join_prefix_and_index),
        cmocka_unit_test(test_fixed_value_size_is_always_chosen),
        cmocka_unit_test(test_value_size_list_picks_each_entry),
        cmocka_unit_test(test_value_size_range_is_inclusive),
        cmocka_unit_test(test_same_seed_gives_the_same_sequence),
        cmocka_unit_test(test_rate_limiter_allows_the_burst_then_paces),
        cmocka_unit_test(test_rate_limiter_holds_the_rate_over_a_second),
        cmocka_unit_test(test_rate_limiter_burst_is_capped_after_idle_time),
        cmocka_unit_test(test_rate_of_zero_is_unlimited),
        cmocka_unit_test(test_no_outstanding_requests_is_never_a_stall),
        cmocka_unit_test(test_stall_is_measured_from_the_last_reply),
        cmocka_unit_test(test_idle_time_before_a_request_is_not_a_stall),
        cmocka_unit_test(test_a_connection_that_never_got_a_reply_stalls_from_its_first_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
