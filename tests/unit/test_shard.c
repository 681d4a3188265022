/* --shard I/N: which cases a shard runs, and every refusal of the flag's value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "shard.h"

static void the_shards_together_run_every_case_exactly_once(void **state)
{
    (void)state;
    const size_t shard_count = 3, case_count = 10;
    for (size_t position = 0; position < case_count; position++) {
        size_t owners = 0;
        for (size_t index = 1; index <= shard_count; index++) {
            shard_spec shard = {index, shard_count};
            owners += shard_selects(&shard, position);
        }
        assert_int_equal(owners, 1);
    }
}

static void shard_i_of_n_takes_every_nth_case_from_the_ith(void **state)
{
    (void)state;
    shard_spec second_of_three = {2, 3};
    const bool expected[7] = {false, true, false, false, true, false, false};
    for (size_t position = 0; position < 7; position++)
        assert_int_equal(shard_selects(&second_of_three, position), expected[position]);
}

static void no_shard_selects_every_case(void **state)
{
    (void)state;
    shard_spec none = {0, 0};
    for (size_t position = 0; position < 5; position++)
        assert_true(shard_selects(&none, position));
    assert_true(shard_selects(NULL, 4));
}

static void a_shard_is_parsed_and_formatted_back(void **state)
{
    (void)state;
    shard_spec shard;
    char error[256], text[32];
    assert_int_equal(shard_parse("2/4", &shard, error, sizeof error), 0);
    assert_int_equal(shard.index, 2);
    assert_int_equal(shard.count, 4);
    shard_format(&shard, text, sizeof text);
    assert_string_equal(text, "2/4");
    shard_spec none = {0, 0};
    shard_format(&none, text, sizeof text);
    assert_string_equal(text, "");
}

static void every_malformed_shard_is_refused_with_one_message(void **state)
{
    (void)state;
    const char *const refused[] = {"0/2",  "3/2",    "1/0",  "2",    "1/2/3", "a/2", "1/b",
                                   "-1/2", "1/1001", " 1/2", "1/2x", "/2",    "1/"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        shard_spec shard;
        char error[256], expected[256];
        assert_int_equal(shard_parse(refused[i], &shard, error, sizeof error), -1);
        snprintf(expected, sizeof expected,
                 "--shard must be I/N with 1 <= I <= N <= 1000, not \"%s\"", refused[i]);
        assert_string_equal(error, expected);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_shards_together_run_every_case_exactly_once),
        cmocka_unit_test(shard_i_of_n_takes_every_nth_case_from_the_ith),
        cmocka_unit_test(no_shard_selects_every_case),
        cmocka_unit_test(a_shard_is_parsed_and_formatted_back),
        cmocka_unit_test(every_malformed_shard_is_refused_with_one_message),
    };
    return cmocka_run_group_tests_name("shard", tests, NULL, NULL);
}
