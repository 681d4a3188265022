/*
 * latency_histogram.h: a log-linear histogram of latencies in nanoseconds.
 *
 * Promises:
 * - Values below 128 ns are counted exactly; above that, every power of two is split
 *   into 128 equal sub-buckets, so a bucket is never wider than 1/128 of its lower
 *   bound. Percentiles report a bucket's midpoint, clamped to the exact minimum and
 *   maximum: the relative error is at most 1/256 (0.4 %), well inside 1 %.
 * - Values up to 2^40 ns (about 18 minutes) are tracked; larger ones land in the top
 *   bucket and are counted in `overflow`, while `maximum` stays exact.
 * - Fixed size, no allocation: a histogram can live inside any struct, and merging two
 *   is a plain element-wise sum. Not thread-safe: one histogram per thread, merged later.
 */
#ifndef LATENCY_HISTOGRAM_H
#define LATENCY_HISTOGRAM_H

#include <stdint.h>

/* 2^7 = 128 sub-buckets per power of two gives the 1/128 bucket width above. */
#define LATENCY_HISTOGRAM_SUB_BUCKET_BITS 7
#define LATENCY_HISTOGRAM_SUB_BUCKET_COUNT (1u << LATENCY_HISTOGRAM_SUB_BUCKET_BITS)
/* 2^40 ns is about 1100 s: ten times the 100 s a stall bound could ever be set to. */
#define LATENCY_HISTOGRAM_HIGHEST_BIT 40
#define LATENCY_HISTOGRAM_BUCKET_COUNT                                                             \
    (LATENCY_HISTOGRAM_SUB_BUCKET_COUNT *                                                          \
     (LATENCY_HISTOGRAM_HIGHEST_BIT - LATENCY_HISTOGRAM_SUB_BUCKET_BITS + 1))

typedef struct latency_histogram {
    uint64_t count;
    uint64_t overflow;
    uint64_t minimum; /* UINT64_MAX while empty */
    uint64_t maximum;
    /* A long double sum keeps the mean exact enough even for billions of samples. */
    long double sum;
    uint64_t buckets[LATENCY_HISTOGRAM_BUCKET_COUNT];
} latency_histogram;

void latency_histogram_init(latency_histogram *histogram);
void latency_histogram_record(latency_histogram *histogram, uint64_t nanoseconds);
/* Adds every sample of source into destination. */
void latency_histogram_merge(latency_histogram *destination, const latency_histogram *source);
/* The value at or below which `percent` (0..100) of the samples fall; 0 when empty.
 * 0 gives the minimum and 100 the maximum, both exact. */
uint64_t latency_histogram_percentile(const latency_histogram *histogram, double percent);
uint64_t latency_histogram_count(const latency_histogram *histogram);
uint64_t latency_histogram_minimum(const latency_histogram *histogram); /* 0 when empty */
uint64_t latency_histogram_maximum(const latency_histogram *histogram);
double latency_histogram_mean(const latency_histogram *histogram); /* 0 when empty */

/* Exposed for tests: the bucket a value falls in and that bucket's range [low, high). */
unsigned latency_histogram_bucket_of(uint64_t nanoseconds);
void latency_histogram_bucket_range(unsigned bucket, uint64_t *low, uint64_t *high);

#endif
