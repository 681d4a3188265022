/* The outcome of a case over its repetitions: expectations and strict known bugs. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "known_bug.h"

#define PASS SCENARIO_VERDICT_PASS
#define SPIN SCENARIO_VERDICT_SPIN
#define STALL SCENARIO_VERDICT_STALL
#define CRASH SCENARIO_VERDICT_CRASH

static scenario_settings known_spin_or_stall_bug(void)
{
    scenario_settings settings = {0};
    settings.known_bug.declared = true;
    settings.known_bug.id = "valkey-9.1.2-large-reply";
    settings.known_bug.verdicts[SCENARIO_VERDICT_SPIN] = true;
    settings.known_bug.verdicts[SCENARIO_VERDICT_STALL] = true;
    return settings;
}

static void a_known_bug_that_reproduces_sometimes_is_known_with_its_count(void **state)
{
    (void)state;
    scenario_settings settings = known_spin_or_stall_bug();
    scenario_verdict verdicts[] = {PASS, SPIN, PASS, STALL};
    case_judgement judgement = known_bug_judge_case(&settings, verdicts, 4);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_KNOWN);
    assert_int_equal(judgement.reproduced, 2);
    assert_int_equal(judgement.repetitions, 4);
    assert_int_equal(judgement.verdict, SPIN);
    assert_string_equal(judgement.message, "known bug valkey-9.1.2-large-reply reproduced 2 of 4");
}

static void a_known_bug_that_never_reproduces_fails(void **state)
{
    (void)state;
    scenario_settings settings = known_spin_or_stall_bug();
    scenario_verdict verdicts[] = {PASS, PASS, PASS};
    case_judgement judgement = known_bug_judge_case(&settings, verdicts, 3);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_UNEXPECTED);
    assert_int_equal(judgement.verdict, PASS);
    assert_int_equal(judgement.reproduced, 0);
    assert_string_equal(judgement.message,
                        "known bug valkey-9.1.2-large-reply no longer reproduces (0 of 3)");
}

static void an_intermittent_known_bug_is_known_when_seen_and_as_expected_when_not(void **state)
{
    (void)state;
    scenario_settings settings = known_spin_or_stall_bug();
    settings.known_bug.intermittent = true;
    scenario_verdict seen[] = {PASS, STALL, PASS};
    case_judgement judgement = known_bug_judge_case(&settings, seen, 3);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_KNOWN);
    assert_int_equal(judgement.verdict, STALL);
    assert_string_equal(judgement.message, "known bug valkey-9.1.2-large-reply reproduced 1 of 3");

    scenario_verdict not_seen[] = {PASS, PASS};
    judgement = known_bug_judge_case(&settings, not_seen, 2);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_AS_EXPECTED);
    assert_int_equal(judgement.verdict, PASS);
    assert_int_equal(judgement.reproduced, 0);
    assert_string_equal(judgement.message,
                        "intermittent known bug valkey-9.1.2-large-reply not seen (0 of 2)");

    /* Intermittent does not widen what the bug may produce. */
    scenario_verdict crash[] = {PASS, CRASH};
    judgement = known_bug_judge_case(&settings, crash, 2);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_UNEXPECTED);
    assert_int_equal(judgement.verdict, CRASH);

    char text[128];
    known_bug_describe_expectation(&settings, text, sizeof text);
    assert_string_equal(text, "intermittent known bug valkey-9.1.2-large-reply: SPIN or STALL");
}

static void a_failure_the_known_bug_does_not_produce_is_unexpected(void **state)
{
    (void)state;
    scenario_settings settings = known_spin_or_stall_bug();
    scenario_verdict verdicts[] = {SPIN, CRASH, SPIN};
    case_judgement judgement = known_bug_judge_case(&settings, verdicts, 3);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_UNEXPECTED);
    assert_int_equal(judgement.verdict, CRASH);
    assert_string_equal(judgement.message, "repetition 2 of 3 gave CRASH, which known bug "
                                           "valkey-9.1.2-large-reply does not produce");
}

static void an_expectation_holds_only_when_every_repetition_meets_it(void **state)
{
    (void)state;
    scenario_settings settings = {.expect = SCENARIO_VERDICT_SPIN};
    scenario_verdict all_spin[] = {SPIN, SPIN, SPIN};
    case_judgement judgement = known_bug_judge_case(&settings, all_spin, 3);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_AS_EXPECTED);
    assert_int_equal(judgement.verdict, SPIN);
    assert_string_equal(judgement.message, "SPIN as expected (3 of 3)");

    scenario_verdict one_stall[] = {SPIN, STALL, PASS};
    judgement = known_bug_judge_case(&settings, one_stall, 3);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_UNEXPECTED);
    assert_int_equal(judgement.verdict, STALL);
    assert_string_equal(judgement.message,
                        "expected SPIN, got STALL in repetition 2 (2 of 3 repetitions differ)");
}

static void a_pass_expectation_fails_on_any_failure(void **state)
{
    (void)state;
    scenario_settings settings = {.expect = SCENARIO_VERDICT_PASS};
    scenario_verdict verdicts[] = {PASS, PASS, CRASH};
    case_judgement judgement = known_bug_judge_case(&settings, verdicts, 3);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_UNEXPECTED);
    assert_int_equal(judgement.verdict, CRASH);
}

static scenario_settings expecting_stall_or_pass(void)
{
    scenario_settings settings = {0};
    settings.expect = STALL;
    settings.expected[STALL] = true;
    settings.expected[PASS] = true;
    return settings;
}

static void a_list_expectation_accepts_any_listed_verdict(void **state)
{
    (void)state;
    scenario_settings settings = expecting_stall_or_pass();
    scenario_verdict mixed[] = {PASS, STALL, PASS, STALL};
    case_judgement judgement = known_bug_judge_case(&settings, mixed, 4);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_AS_EXPECTED);
    assert_int_equal(judgement.verdict, STALL);
    assert_string_equal(judgement.message, "as expected (STALL or PASS): STALL in 2 of 4");
    scenario_verdict passes[] = {PASS, PASS};
    judgement = known_bug_judge_case(&settings, passes, 2);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_AS_EXPECTED);
    assert_int_equal(judgement.verdict, PASS);
    assert_string_equal(judgement.message, "PASS as expected (2 of 2)");
}

static void a_list_expectation_still_refuses_a_verdict_it_does_not_list(void **state)
{
    (void)state;
    scenario_settings settings = expecting_stall_or_pass();
    scenario_verdict verdicts[] = {STALL, CRASH, PASS};
    case_judgement judgement = known_bug_judge_case(&settings, verdicts, 3);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_UNEXPECTED);
    assert_int_equal(judgement.verdict, CRASH);
    assert_string_equal(judgement.message,
                        "expected STALL or PASS, got CRASH in repetition 2 (1 of 3 repetitions "
                        "differ)");
    char text[128];
    known_bug_describe_expectation(&settings, text, sizeof text);
    assert_string_equal(text, "STALL or PASS");
}

static void no_repetition_is_unexpected(void **state)
{
    (void)state;
    scenario_settings settings = {.expect = SCENARIO_VERDICT_PASS};
    case_judgement judgement = known_bug_judge_case(&settings, NULL, 0);
    assert_int_equal(judgement.outcome, CASE_OUTCOME_UNEXPECTED);
    assert_string_equal(judgement.message, "no repetition ran");
}

static void the_expectation_is_described_for_people(void **state)
{
    (void)state;
    char text[128];
    scenario_settings settings = known_spin_or_stall_bug();
    known_bug_describe_expectation(&settings, text, sizeof text);
    assert_string_equal(text, "known bug valkey-9.1.2-large-reply: SPIN or STALL");
    scenario_settings plain = {.expect = SCENARIO_VERDICT_STALL};
    known_bug_describe_expectation(&plain, text, sizeof text);
    assert_string_equal(text, "STALL");
    assert_string_equal(case_outcome_name(CASE_OUTCOME_KNOWN), "KNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_known_bug_that_reproduces_sometimes_is_known_with_its_count),
        cmocka_unit_test(a_known_bug_that_never_reproduces_fails),
        cmocka_unit_test(an_intermittent_known_bug_is_known_when_seen_and_as_expected_when_not),
        cmocka_unit_test(a_failure_the_known_bug_does_not_produce_is_unexpected),
        cmocka_unit_test(an_expectation_holds_only_when_every_repetition_meets_it),
        cmocka_unit_test(a_pass_expectation_fails_on_any_failure),
        cmocka_unit_test(a_list_expectation_accepts_any_listed_verdict),
        cmocka_unit_test(a_list_expectation_still_refuses_a_verdict_it_does_not_list),
        cmocka_unit_test(no_repetition_is_unexpected),
        cmocka_unit_test(the_expectation_is_described_for_people),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
