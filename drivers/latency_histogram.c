/*
 * latency_histogram.c: the log-linear bucketing promised by latency_histogram.h, in the
 * spirit of HdrHistogram (which Debian does not package for C).
 */
#include "latency_histogram.h"

#include <math.h>
#include <string.h>

void latency_histogram_init(latency_histogram *histogram)
{
    memset(histogram, 0, sizeof(*histogram));
    histogram->minimum = UINT64_MAX;
}

unsigned latency_histogram_bucket_of(uint64_t nanoseconds)
{
    if (nanoseconds < LATENCY_HISTOGRAM_SUB_BUCKET_COUNT) {
        return (unsigned)nanoseconds;
    }
    if (nanoseconds >= (uint64_t)1 << LATENCY_HISTOGRAM_HIGHEST_BIT) {
        return LATENCY_HISTOGRAM_BUCKET_COUNT - 1;
    }
    unsigned top_bit = 63u - (unsigned)__builtin_clzll(nanoseconds);
    unsigned shift = top_bit - LATENCY_HISTOGRAM_SUB_BUCKET_BITS;
    unsigned sub_bucket = (unsigned)(nanoseconds >> shift) - LATENCY_HISTOGRAM_SUB_BUCKET_COUNT;
    return LATENCY_HISTOGRAM_SUB_BUCKET_COUNT * (shift + 1) + sub_bucket;
}

void latency_histogram_bucket_range(unsigned bucket, uint64_t *low, uint64_t *high)
{
    if (bucket < LATENCY_HISTOGRAM_SUB_BUCKET_COUNT) {
        *low = bucket;
        *high = (uint64_t)bucket + 1;
        return;
    }
    unsigned shift = bucket / LATENCY_HISTOGRAM_SUB_BUCKET_COUNT - 1;
    uint64_t sub_bucket = bucket % LATENCY_HISTOGRAM_SUB_BUCKET_COUNT;
    *low = (LATENCY_HISTOGRAM_SUB_BUCKET_COUNT + sub_bucket) << shift;
    *high = (LATENCY_HISTOGRAM_SUB_BUCKET_COUNT + sub_bucket + 1) << shift;
}

void latency_histogram_record(latency_histogram *histogram, uint64_t nanoseconds)
{
    histogram->buckets[latency_histogram_bucket_of(nanoseconds)]++;
    if (nanoseconds >= (uint64_t)1 << LATENCY_HISTOGRAM_HIGHEST_BIT) {
        histogram->overflow++;
    }
    histogram->count++;
    histogram->sum += (long double)nanoseconds;
    if (nanoseconds < histogram->minimum) {
        histogram->minimum = nanoseconds;
    }
    if (nanoseconds > histogram->maximum) {
        histogram->maximum = nanoseconds;
    }
}

void latency_histogram_merge(latency_histogram *destination, const latency_histogram *source)
{
    for (unsigned i = 0; i < LATENCY_HISTOGRAM_BUCKET_COUNT; i++) {
        destination->buckets[i] += source->buckets[i];
    }
    destination->count += source->count;
    destination->overflow += source->overflow;
    destination->sum += source->sum;
    if (source->minimum < destination->minimum) {
        destination->minimum = source->minimum;
    }
    if (source->maximum > destination->maximum) {
        destination->maximum = source->maximum;
    }
}

uint64_t latency_histogram_count(const latency_histogram *histogram)
{
    return histogram->count;
}

uint64_t latency_histogram_minimum(const latency_histogram *histogram)
{
    return histogram->count ? histogram->minimum : 0;
}

uint64_t latency_histogram_maximum(const latency_histogram *histogram)
{
    return histogram->maximum;
}

double latency_histogram_mean(const latency_histogram *histogram)
{
    return histogram->count ? (double)(histogram->sum / histogram->count) : 0.0;
}

uint64_t latency_histogram_percentile(const latency_histogram *histogram, double percent)
{
    if (histogram->count == 0) {
        return 0;
    }
    if (percent <= 0.0) {
        return histogram->minimum;
    }
    if (percent >= 100.0) {
        return histogram->maximum;
    }
    /* The rank of the sample asked for, 1-based: p50 of 1..100 is the 50th sample. */
    uint64_t rank = (uint64_t)ceil(percent / 100.0 * (double)histogram->count);
    if (rank == 0) {
        rank = 1;
    }
    uint64_t seen = 0;
    unsigned bucket = 0;
    for (; bucket < LATENCY_HISTOGRAM_BUCKET_COUNT; bucket++) {
        seen += histogram->buckets[bucket];
        if (seen >= rank) {
            break;
        }
    }
    if (bucket >= LATENCY_HISTOGRAM_BUCKET_COUNT - 1) {
        return histogram->maximum; /* the top bucket also holds overflow: no midpoint */
    }
    uint64_t low = 0;
    uint64_t high = 0;
    latency_histogram_bucket_range(bucket, &low, &high);
    uint64_t middle = low + (high - 1 - low) / 2;
    if (middle < histogram->minimum) {
        return histogram->minimum;
    }
    if (middle > histogram->maximum) {
        return histogram->maximum;
    }
    return middle;
}
