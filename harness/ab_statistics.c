#include "ab_statistics.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bisection halves [-QUANTILE_BOUND, QUANTILE_BOUND] this often: 2^-100 of 80 is far
 * below a double's resolution, and Phi(-40) underflows to 0 so no quantile lies beyond. */
#define QUANTILE_BOUND 40.0
#define QUANTILE_STEPS 100
/* Half a unit of U: the continuity correction of a discrete statistic under a normal. */
#define CONTINUITY_CORRECTION 0.5

ab_settings ab_settings_default(void)
{
    ab_settings settings = {
        .alpha = AB_DEFAULT_ALPHA,
        .threshold = AB_DEFAULT_THRESHOLD,
        .confidence = AB_DEFAULT_CONFIDENCE,
        .better = AB_HIGHER_IS_BETTER,
        .weak_evidence = false,
        .unit = NULL,
    };
    return settings;
}

const char *ab_verdict_label(ab_verdict verdict)
{
    switch (verdict) {
    case AB_REGRESSION:
        return "REGRESSION";
    case AB_IMPROVEMENT:
        return "IMPROVEMENT";
    case AB_NO_CHANGE:
        break;
    }
    return "NO CHANGE";
}

static int compare_doubles(const void *left, const void *right)
{
    double a = *(const double *)left;
    double b = *(const double *)right;
    return (a > b) - (a < b);
}

static double *sorted_copy(const double *values, size_t count)
{
    double *copy = malloc(count * sizeof *copy);
    if (copy == NULL)
        return NULL;
    memcpy(copy, values, count * sizeof *copy);
    qsort(copy, count, sizeof *copy, compare_doubles);
    return copy;
}

int ab_median(const double *values, size_t count, double *median)
{
    if (count == 0)
        return -1;
    double *sorted = sorted_copy(values, count);
    if (sorted == NULL)
        return -1;
    size_t middle = count / 2;
    *median = count % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0;
    free(sorted);
    return 0;
}

static double standard_normal_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* The z with Phi(z) = probability, for 0 < probability < 1. */
static double standard_normal_quantile(double probability)
{
    double low = -QUANTILE_BOUND;
    double high = QUANTILE_BOUND;
    for (int step = 0; step < QUANTILE_STEPS; step++) {
        double middle = (low + high) / 2.0;
        if (standard_normal_cdf(middle) < probability)
            low = middle;
        else
            high = middle;
    }
    return (low + high) / 2.0;
}

/*
 * Under the null hypothesis every one of the C(m+n, m) orderings of the pooled sample is
 * equally likely, and the number of them with U = u is the coefficient of q^u in the
 * Gaussian binomial coefficient [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i).
 * Multiplying in one factor at a time keeps every division exact (each partial product is
 * itself a Gaussian binomial coefficient, a polynomial with non-negative integer
 * coefficients), so the counts are exact integers. counts holds (m+1)*(n+1) entries: a
 * partial product times (1 - q^(n+i)) reaches degree i*n + i before the division.
 */
static void exact_u_counts(size_t m, size_t n, int64_t *counts, size_t count_size)
{
    memset(counts, 0, count_size * sizeof *counts);
    counts[0] = 1;
    for (size_t i = 1; i <= m; i++) {
        size_t multiply = n + i;
        for (size_t k = count_size - 1; k >= multiply; k--)
            counts[k] -= counts[k - multiply];
        for (size_t k = i; k < count_size; k++)
            counts[k] += counts[k - i];
    }
}

double ab_mann_whitney_exact_cdf(size_t baseline_count, size_t candidate_count, double u)
{
    if (baseline_count == 0 || candidate_count == 0 || baseline_count > AB_EXACT_MAX_REPETITIONS ||
        candidate_count > AB_EXACT_MAX_REPETITIONS)
        return NAN;
    if (u < 0)
        return 0.0;
    int64_t counts[(AB_EXACT_MAX_REPETITIONS + 1) * (AB_EXACT_MAX_REPETITIONS + 1)];
    size_t count_size = (baseline_count + 1) * (candidate_count + 1);
    exact_u_counts(baseline_count, candidate_count, counts, count_size);
    size_t largest_u = baseline_count * candidate_count;
    size_t through = u >= (double)largest_u ? largest_u : (size_t)floor(u);
    int64_t total = 0;
    int64_t at_or_below = 0;
    for (size_t k = 0; k <= largest_u; k++) {
        total += counts[k];
        if (k <= through)
            at_or_below += counts[k];
    }
    return (double)at_or_below / (double)total;
}

static bool sample_is_usable(const double *values, size_t count)
{
    if (count == 0 || count > AB_MAX_REPETITIONS)
        return false;
    for (size_t i = 0; i < count; i++)
        if (isnan(values[i]))
            return false;
    return true;
}

/* Sum of t^3 - t over the groups of equal values in the pooled sample (t their size). */
static int tie_sum(const double *baseline, size_t baseline_count, const double *candidate,
                   size_t candidate_count, double *sum)
{
    size_t total = baseline_count + candidate_count;
    double *pooled = malloc(total * sizeof *pooled);
    if (pooled == NULL)
        return -1;
    memcpy(pooled, baseline, baseline_count * sizeof *pooled);
    memcpy(pooled + baseline_count, candidate, candidate_count * sizeof *pooled);
    qsort(pooled, total, sizeof *pooled, compare_doubles);
    *sum = 0.0;
    for (size_t start = 0; start < total;) {
        size_t end = start + 1;
        while (end < total && pooled[end] == pooled[start])
            end++;
        double group = (double)(end - start);
        *sum += group * group * group - group;
        start = end;
    }
    free(pooled);
    return 0;
}

int ab_mann_whitney_test(const double *baseline, size_t baseline_count, const double *candidate,
                         size_t candidate_count, ab_mann_whitney *result)
{
    if (!sample_is_usable(baseline, baseline_count) ||
        !sample_is_usable(candidate, candidate_count))
        return -1;
    double u = 0.0;
    for (size_t i = 0; i < baseline_count; i++)
        for (size_t j = 0; j < candidate_count; j++)
            u += candidate[j] > baseline[i] ? 1.0 : candidate[j] == baseline[i] ? 0.5 : 0.0;
    double ties = 0.0;
    if (tie_sum(baseline, baseline_count, candidate, candidate_count, &ties) != 0)
        return -1;

    double m = (double)baseline_count;
    double n = (double)candidate_count;
    result->u_candidate = u;
    result->ties = ties > 0.0;
    if (!result->ties && baseline_count <= AB_EXACT_MAX_REPETITIONS &&
        candidate_count <= AB_EXACT_MAX_REPETITIONS) {
        result->method = AB_METHOD_EXACT;
        result->p_candidate_lower = ab_mann_whitney_exact_cdf(baseline_count, candidate_count, u);
        /* U and m*n - U have the same null distribution. */
        result->p_candidate_higher =
            ab_mann_whitney_exact_cdf(baseline_count, candidate_count, m * n - u);
        return 0;
    }

    result->method = AB_METHOD_NORMAL;
    double pooled = m + n;
    double mean = m * n / 2.0;
    double variance = m * n / 12.0 * ((pooled + 1.0) - ties / (pooled * (pooled - 1.0)));
    if (variance <= 0.0) {
        /* Every value the same: nothing tells the builds apart. */
        result->p_candidate_lower = 1.0;
        result->p_candidate_higher = 1.0;
        return 0;
    }
    double deviation = sqrt(variance);
    result->p_candidate_lower =
        fmin(1.0, standard_normal_cdf((u + CONTINUITY_CORRECTION - mean) / deviation));
    result->p_candidate_higher =
        fmin(1.0, standard_normal_cdf((mean - u + CONTINUITY_CORRECTION) / deviation));
    return 0;
}

/* k (1-based) such that the k-th smallest and k-th largest pairwise differences bound the
 * interval: k - 1 is the largest u with P(U <= u) <= (1 - confidence) / 2. 0 when even
 * P(U <= 0) is above that (no interval at this confidence). */
static size_t interval_rank(size_t m, size_t n, double confidence)
{
    double tail = (1.0 - confidence) / 2.0;
    if (m <= AB_EXACT_MAX_REPETITIONS && n <= AB_EXACT_MAX_REPETITIONS) {
        size_t rank = 0;
        while (rank < m * n && ab_mann_whitney_exact_cdf(m, n, (double)rank) <= tail)
            rank++;
        return rank;
    }
    /* P(U <= u) ~ Phi((u + 1/2 - mean) / sd) <= tail  <=>  u <= mean - z sd - 1/2. */
    double mean = (double)(m * n) / 2.0;
    double deviation = sqrt((double)(m * n) * (double)(m + n + 1) / 12.0);
    double largest_u =
        floor(mean - standard_normal_quantile(1.0 - tail) * deviation - CONTINUITY_CORRECTION);
    return largest_u < 0.0 ? 0 : (size_t)largest_u + 1;
}

static bool all_positive_finite(const double *values, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!(values[i] > 0.0) || !isfinite(values[i]))
            return false;
    return true;
}

int ab_ratio_interval(const double *baseline, size_t baseline_count, const double *candidate,
                      size_t candidate_count, double confidence, double *low, double *high)
{
    if (baseline_count == 0 || candidate_count == 0 || baseline_count > AB_MAX_REPETITIONS ||
        candidate_count > AB_MAX_REPETITIONS || !(confidence > 0.0 && confidence < 1.0) ||
        !all_positive_finite(baseline, baseline_count) ||
        !all_positive_finite(candidate, candidate_count))
        return -1;
    size_t rank = interval_rank(baseline_count, candidate_count, confidence);
    if (rank == 0)
        return -1;
    size_t pairs = baseline_count * candidate_count;
    double *differences = malloc(pairs * sizeof *differences);
    if (differences == NULL)
        return -1;
    for (size_t i = 0; i < baseline_count; i++)
        for (size_t j = 0; j < candidate_count; j++)
            differences[i * candidate_count + j] = log(candidate[j]) - log(baseline[i]);
    qsort(differences, pairs, sizeof *differences, compare_doubles);
    *low = exp(differences[rank - 1]);
    *high = exp(differences[pairs - rank]);
    free(differences);
    return 0;
}

static int fail(char *error, size_t error_size, const char *format, const char *which,
                size_t number, double value)
{
    snprintf(error, error_size, format, which, number, value);
    return -1;
}

static int check_sample(const char *which, const double *values, size_t count, char *error,
                        size_t error_size)
{
    if (count < AB_MINIMUM_REPETITIONS)
        return fail(error, error_size, "%s has %zu repetitions, at least %.0f needed", which, count,
                    (double)AB_MINIMUM_REPETITIONS);
    if (count > AB_MAX_REPETITIONS)
        return fail(error, error_size, "%s has %zu repetitions, at most %.0f supported", which,
                    count, (double)AB_MAX_REPETITIONS);
    for (size_t i = 0; i < count; i++)
        if (!(values[i] > 0.0) || !isfinite(values[i]))
            return fail(error, error_size,
                        "%s repetition %zu is %g: every value must be positive and finite", which,
                        i + 1, values[i]);
    return 0;
}

static bool settings_are_valid(const ab_settings *settings)
{
    return settings->alpha > 0.0 && settings->alpha < 1.0 && settings->threshold >= 0.0 &&
           settings->threshold < 1.0 && settings->confidence > 0.0 && settings->confidence < 1.0 &&
           (settings->better == AB_HIGHER_IS_BETTER || settings->better == AB_LOWER_IS_BETTER);
}

int ab_compare(const double *baseline, size_t baseline_count, const double *candidate,
               size_t candidate_count, const ab_settings *settings, ab_comparison *comparison,
               char *error, size_t error_size)
{
    memset(comparison, 0, sizeof *comparison);
    if (!settings_are_valid(settings)) {
        snprintf(error, error_size,
                 "comparison settings out of range: alpha %g, threshold %g, confidence %g "
                 "(each must lie in [0, 1), alpha and confidence above 0)",
                 settings->alpha, settings->threshold, settings->confidence);
        return -1;
    }
    if (check_sample("baseline", baseline, baseline_count, error, error_size) != 0 ||
        check_sample("candidate", candidate, candidate_count, error, error_size) != 0)
        return -1;

    comparison->baseline_count = baseline_count;
    comparison->candidate_count = candidate_count;
    comparison->confidence = settings->confidence;
    comparison->weak_evidence = settings->weak_evidence;
    comparison->few_repetitions =
        baseline_count < AB_RECOMMENDED_REPETITIONS || candidate_count < AB_RECOMMENDED_REPETITIONS;
    if (settings->unit != NULL)
        snprintf(comparison->unit, sizeof comparison->unit, "%s", settings->unit);
    if (ab_median(baseline, baseline_count, &comparison->baseline_median) != 0 ||
        ab_median(candidate, candidate_count, &comparison->candidate_median) != 0 ||
        ab_mann_whitney_test(baseline, baseline_count, candidate, candidate_count,
                             &comparison->test) != 0 ||
        ab_ratio_interval(baseline, baseline_count, candidate, candidate_count,
                          settings->confidence, &comparison->ratio_low,
                          &comparison->ratio_high) != 0) {
        snprintf(error, error_size, "out of memory comparing %zu against %zu repetitions",
                 baseline_count, candidate_count);
        return -1;
    }
    double ratio = comparison->candidate_median / comparison->baseline_median;
    comparison->ratio = ratio;

    bool significantly_lower =
        comparison->test.p_candidate_lower < settings->alpha && ratio < 1.0 - settings->threshold;
    bool significantly_higher =
        comparison->test.p_candidate_higher < settings->alpha && ratio > 1.0 + settings->threshold;
    bool higher_is_better = settings->better == AB_HIGHER_IS_BETTER;
    if (significantly_lower)
        comparison->verdict = higher_is_better ? AB_REGRESSION : AB_IMPROVEMENT;
    else if (significantly_higher)
        comparison->verdict = higher_is_better ? AB_IMPROVEMENT : AB_REGRESSION;
    else
        comparison->verdict = AB_NO_CHANGE;

    if (ratio < 1.0 ||
        (ratio == 1.0 && comparison->test.p_candidate_lower <= comparison->test.p_candidate_higher))
        comparison->p_direction = AB_CANDIDATE_LOWER;
    else
        comparison->p_direction = AB_CANDIDATE_HIGHER;
    comparison->p_value = comparison->p_direction == AB_CANDIDATE_LOWER
                              ? comparison->test.p_candidate_lower
                              : comparison->test.p_candidate_higher;
    return 0;
}

/* Whole numbers for the large values throughput has, three significant digits for small
 * ones (latency in ms): a tenth of an op/s is noise, a tenth of a millisecond is not. */
static void format_value(double value, char *out, size_t out_size)
{
    if (fabs(value) >= 100.0)
        snprintf(out, out_size, "%.0f", value);
    else
        snprintf(out, out_size, "%.3g", value);
}

/* Below this a p-value reads as "p<0.0001": more digits claim a precision that the
 * normal approximation's tails do not have. */
#define SMALLEST_P_SHOWN 0.0001

void ab_comparison_describe(const ab_comparison *comparison, char *out, size_t out_size)
{
    char baseline[32];
    char candidate[32];
    char p_value[32];
    format_value(comparison->baseline_median, baseline, sizeof baseline);
    format_value(comparison->candidate_median, candidate, sizeof candidate);
    if (comparison->p_value < SMALLEST_P_SHOWN)
        snprintf(p_value, sizeof p_value, "p<%.4f", SMALLEST_P_SHOWN);
    else
        snprintf(p_value, sizeof p_value, "p=%.4f", comparison->p_value);

    int written =
        snprintf(out, out_size,
                 "%s: median %s -> %s%s%s (ratio %.3f, %.0f%% CI %.2f-%.2f), %s (Mann-Whitney U, "
                 "one-sided %s, %s, n=%zu/%zu)",
                 ab_verdict_label(comparison->verdict), baseline, candidate,
                 comparison->unit[0] ? " " : "", comparison->unit, comparison->ratio,
                 comparison->confidence * 100.0, comparison->ratio_low, comparison->ratio_high,
                 p_value, comparison->p_direction == AB_CANDIDATE_LOWER ? "lower" : "higher",
                 comparison->test.method == AB_METHOD_EXACT ? "exact" : "normal approximation",
                 comparison->baseline_count, comparison->candidate_count);
    size_t used = written < 0 ? 0 : (size_t)written;
    if (comparison->weak_evidence && used < out_size)
        used += (size_t)snprintf(out + used, out_size - used,
                                 "; weak evidence: baseline stored, not interleaved");
    if (comparison->few_repetitions && used < out_size) {
        size_t fewest = comparison->baseline_count < comparison->candidate_count
                            ? comparison->baseline_count
                            : comparison->candidate_count;
        snprintf(out + used, out_size - used, "; warning: %zu repetitions, %d recommended", fewest,
                 AB_RECOMMENDED_REPETITIONS);
    }
}
