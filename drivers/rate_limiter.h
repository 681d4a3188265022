/*
 * rate_limiter.h: a token bucket that paces requests to a target rate.
 *
 * Promises:
 * - Tokens accrue at `per_second` and are capped at `burst`, so after any idle time at
 *   most `burst` requests go out at once; over any long interval the count stays within
 *   burst of rate x time.
 * - Pure: every call takes the current time, so tests drive it with made-up clocks.
 * - A rate of 0 or less means unlimited: every take succeeds.
 */
#ifndef RATE_LIMITER_H
#define RATE_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rate_limiter {
    double tokens_per_nanosecond;
    double burst;
    double tokens;
    int64_t last_refill_ns;
    bool unlimited;
} rate_limiter;

/* The bucket starts full. A burst below 1 is raised to 1 so the rate can be reached. */
void rate_limiter_init(rate_limiter *limiter, double per_second, double burst, int64_t now_ns);
/* Takes one token when there is one. */
bool rate_limiter_take(rate_limiter *limiter, int64_t now_ns);
/* Nanoseconds from now until a token is available; 0 when one is available now. */
int64_t rate_limiter_wait_ns(const rate_limiter *limiter, int64_t now_ns);

#endif
