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
    if (judgement.reproduced == 0) {
        judgement.outcome = CASE_OUTCOME_UNEXPECTED;
        snprintf(judgement.message, sizeof judgement.message,
                 "known bug %s no longer reproduces (0 of %zu)", bug->id, count);
    } else {
        snprintf(judgement.message, sizeof judgement.message, "known bug %s reproduced %zu of %zu",
                 bug->id, judgement.reproduced, count);
    }
    return judgement;
}

static case_judgement judge_expectation(scenario_verdict expected, const scenario_verdict *verdicts,
                                        size_t count)
{
    case_judgement judgement = {
        .outcome = CASE_OUTCOME_AS_EXPECTED, .verdict = expected, .repetitions = count};
    size_t different = 0;
    size_t first_different = 0;
    for (size_t i = 0; i < count; i++) {
        if (verdicts[i] == expected)
            continue;
        if (different++ == 0)
            first_different = i;
    }
    if (different == 0) {
        snprintf(judgement.message, sizeof judgement.message, "%s as expected (%zu of %zu)",
                 verdict_label(expected), count, count);
        return judgement;
    }
    judgement.outcome = CASE_OUTCOME_UNEXPECTED;
    judgement.verdict = verdicts[first_different];
    snprintf(judgement.message, sizeof judgement.message,
             "expected %s, got %s in repetition %zu (%zu of %zu repetitions differ)",
             verdict_label(expected), verdict_label(verdicts[first_different]), first_different + 1,
             different, count);
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
    return judge_expectation(settings->expect, verdicts, repetition_count);
}

void known_bug_describe_expectation(const scenario_settings *settings, char *out, size_t out_size)
{
    if (!settings->known_bug.declared) {
        snprintf(out, out_size, "%s", verdict_label(settings->expect));
        return;
    }
    int used = snprintf(out, out_size, "known bug %s:", settings->known_bug.id);
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
