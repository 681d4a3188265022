/*
 * known_bug.h: the outcome of a case over its repetitions, measured against what its
 * scenario expects. Pure.
 *
 * Promises (strict expected failure):
 * - A case with `expect: X` is as expected only when every repetition gave X; with
 *   `expect: [X, Y]`, when every repetition gave X or Y (its verdict: the first
 *   repetition's when all agree, else the first failing one's).
 * - A case that declares a known bug with verdicts V:
 *   - is UNEXPECTED when any repetition gave a failure outside V (a CRASH during a known
 *     SPIN bug is a new problem and must not hide behind the known one);
 *   - else is KNOWN, "known bug ID reproduced k of n", when k >= 1 repetitions gave a
 *     verdict in V (the others passed: a bug that reproduces sometimes is still there);
 *   - else (k == 0) is UNEXPECTED, "known bug ID no longer reproduces (0 of n)", so a fix
 *     is noticed and the declaration removed; but a bug declared intermittent (it shows
 *     in a few repetitions of many) is then AS EXPECTED, "intermittent known bug ID not
 *     seen (0 of n)": its fix must be noticed by a case that reproduces it every time.
 * - No repetition at all is UNEXPECTED: nothing was shown.
 */
#ifndef HARNESS_KNOWN_BUG_H
#define HARNESS_KNOWN_BUG_H

#include <stddef.h>

#include "scenario.h"

#define CASE_JUDGEMENT_MESSAGE_BYTES 256

typedef enum case_outcome {
    CASE_OUTCOME_AS_EXPECTED,
    CASE_OUTCOME_UNEXPECTED,
    CASE_OUTCOME_KNOWN, /* a declared known bug reproduced; does not fail the run */
} case_outcome;

typedef struct case_judgement {
    case_outcome outcome;
    /* The case's verdict: for UNEXPECTED the first repetition that broke the rule (PASS
     * when a known bug stopped reproducing), else the first failing repetition's, else
     * PASS. */
    scenario_verdict verdict;
    size_t reproduced; /* repetitions with a verdict the known bug produces */
    size_t repetitions;
    char message[CASE_JUDGEMENT_MESSAGE_BYTES];
} case_judgement;

case_judgement known_bug_judge_case(const scenario_settings *settings,
                                    const scenario_verdict *verdicts, size_t repetition_count);

/* What the case expects, for people: "PASS", "STALL or PASS", "known bug ID: SPIN or
 * STALL", or "intermittent known bug ID: STALL". */
void known_bug_describe_expectation(const scenario_settings *settings, char *out, size_t out_size);

/* "as expected", "unexpected", "KNOWN" */
const char *case_outcome_name(case_outcome outcome);

#endif
