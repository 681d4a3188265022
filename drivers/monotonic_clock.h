/*
 * monotonic_clock.h: the one clock every wait, bound and timeline in this project uses:
 * CLOCK_MONOTONIC, which no wall-clock change can move.
 */
#ifndef MONOTONIC_CLOCK_H
#define MONOTONIC_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static inline long long monotonic_ms(void)
{
    return monotonic_ns() / 1000000;
}

static inline double monotonic_seconds(void)
{
    return (double)monotonic_ns() / 1e9;
}

#endif
