#include "known_bug.h"

#include <stdio.h>
#include <string.h>

#include "verdict.h"

static case_judgement judge_known_bug(const scenario_known_bug *bug,
                                      const scenario_verdict *verdicts, size_t count)
{
    case_judgement judgement = {
        .outcome = CASE_OUTCOME_KNOWN, .verdict = SCENARIO_VERDICT_PASS, .repetitions = count};
    bool first_reproduction = true;
    for (size_t i = 0; i < count; i++) {
        scenario_verdict verdict = verdicts[i];
        if (verdict == SCENARIO_VERDICT_PASS)
            continue;
        if (!bug->verdicts[verdict]) {
            judgement.outcome = CASE_OUTCOME_UNEXPECTED;
            judgement.verdict = verdict;
            snprintf(judgement.message, sizeof judgement.message,
                     "repetition %zu of %zu gave %s, which known bug %s does not produce", i + 1,
                     count, verdict_label(verdict), bug->id);
            return judgement;
        }
        judgement.reproduced++;
        if (first_reproduction) {
            judgement.verdict = verdict;
            first_reproduction = false;
        }
    }
    if (judgement.reproduced == 0 && bug->intermittent) {
        judgement.outcome = CASE_OUTCOME_AS_EXPECTED;
        snprintf(judgement.message, sizeof judgement.message,
                 "intermittent known bug %s not seen (0 of %zu)", bug->id, count);
    } else if (judgement.reproduced == 0) {
        judgement.outcome = CASE_OUTCOME_UNEXPECTED;
        snprintf(judgement.message, sizeof judgement.message,
                 "known bug %s no longer reproduces (0 of %zu)", bug->id, count);
    } else {
        snprintf(judgement.message, sizeof judgement.message, "known bug %s reproduced %zu of %zu",
                 bug->id, judgement.reproduced, count);
    }
    return judgement;
}

/* "STALL" or "STALL or PASS": the verdicts a case expects, its first one first. */
static void describe_expected(const scenario_settings *settings, char *out, size_t out_size)
{
    int used = snprintf(out, out_size, "%s", verdict_label(settings->expect));
    for (int verdict = 0; verdict < SCENARIO_VERDICT_COUNT; verdict++) {
        if (!settings->expected[verdict] || verdict == (int)settings->expect)
            continue;
        if (used < 0 || (size_t)used >= out_size)
            return;
        used += snprintf(out + used, out_size - (size_t)used, " or %s",
                         verdict_label((scenario_verdict)verdict));
    }
}

static case_judgement judge_expectation(const scenario_settings *settings,
                                        const scenario_verdict *verdicts, size_t count)
{
    /* A setting without its set (built by hand, as tests do) expects `expect` alone. */
    bool expected[SCENARIO_VERDICT_COUNT] = {false};
    bool any = false;
    for (int verdict = 0; verdict < SCENARIO_VERDICT_COUNT; verdict++)
        any |= settings->expected[verdict];
    if (any)
        memcpy(expected, settings->expected, sizeof expected);
    expected[settings->expect] = true;
    char wanted[128];
    describe_expected(settings, wanted, sizeof wanted);

    case_judgement judgement = {.outcome = CASE_OUTCOME_AS_EXPECTED,
                                .verdict = SCENARIO_VERDICT_PASS,
                                .repetitions = count};
    size_t different = 0, first_different = 0, failing = 0;
    scenario_verdict first_failing = SCENARIO_VERDICT_PASS;
    for (size_t i = 0; i < count; i++) {
        if (verdicts[i] != SCENARIO_VERDICT_PASS && failing++ == 0)
            first_failing = verdicts[i];
        if (expected[verdicts[i]])
            continue;
        if (different++ == 0)
            first_different = i;
    }
    if (different == 0) {
        bool one_verdict = true;
        for (size_t i = 1; i < count; i++)
            one_verdict &= verdicts[i] == verdicts[0];
        judgement.verdict = verdicts[0];
        if (one_verdict) {
            snprintf(judgement.message, sizeof judgement.message, "%s as expected (%zu of %zu)",
                     verdict_label(verdicts[0]), count, count);
        } else {
            /* Several verdicts, each one expected: the case shows the first failing one. */
            judgement.verdict = first_failing;
            size_t shown = 0;
            for (size_t i = 0; i < count; i++)
                shown += verdicts[i] == judgement.verdict;
            snprintf(judgement.message, sizeof judgement.message,
                     "as expected (%s): %s in %zu of %zu", wanted, verdict_label(judgement.verdict),
                     shown, count);
        }
        return judgement;
    }
    judgement.outcome = CASE_OUTCOME_UNEXPECTED;
    judgement.verdict = verdicts[first_different];
    snprintf(judgement.message, sizeof judgement.message,
             "expected %s, got %s in repetition %zu (%zu of %zu repetitions differ)", wanted,
             verdict_label(verdicts[first_different]), first_different + 1, different, count);
    return judgement;
}

case_judgement known_bug_judge_case(const scenario_settings *settings,
                                    const scenario_verdict *verdicts, size_t repetition_count)
{
    if (repetition_count == 0) {
        case_judgement nothing = {.outcome = CASE_OUTCOME_UNEXPECTED,
                                  .verdict = SCENARIO_VERDICT_PASS};
        snprintf(nothing.message, sizeof nothing.message, "no repetition ran");
        return nothing;
    }
    if (settings->known_bug.declared)
        return judge_known_bug(&settings->known_bug, verdicts, repetition_count);
    return judge_expectation(settings, verdicts, repetition_count);
}

void known_bug_describe_expectation(const scenario_settings *settings, char *out, size_t out_size)
{
    if (!settings->known_bug.declared) {
        describe_expected(settings, out, out_size);
        return;
    }
    int used = snprintf(out, out_size, "%sknown bug %s:",
                        settings->known_bug.intermittent ? "intermittent " : "",
                        settings->known_bug.id);
    bool first = true;
    for (int verdict = 0; verdict < SCENARIO_VERDICT_COUNT; verdict++) {
        if (!settings->known_bug.verdicts[verdict])
            continue;
        if (used < 0 || (size_t)used >= out_size)
            return;
        used += snprintf(out + used, out_size - (size_t)used, "%s%s", first ? " " : " or ",
                         verdict_label((scenario_verdict)verdict));
        first = false;
    }
}

const char *case_outcome_name(case_outcome outcome)
{
    switch (outcome) {
    case CASE_OUTCOME_AS_EXPECTED:
        return "as expected";
    case CASE_OUTCOME_UNEXPECTED:
        return "unexpected";
    case CASE_OUTCOME_KNOWN:
        return "KNOWN";
    }
    return "?";
}
