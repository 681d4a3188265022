/*
 * rate_limiter.c: the token bucket promised by rate_limiter.h.
 */
#include "rate_limiter.h"

#include <math.h>

#define NANOSECONDS_PER_SECOND 1e9

void rate_limiter_init(rate_limiter *limiter, double per_second, double burst, int64_t now_ns)
{
    limiter->unlimited = !(per_second > 0.0);
    limiter->tokens_per_nanosecond = limiter->unlimited ? 0.0 : per_second / NANOSECONDS_PER_SECOND;
    limiter->burst = burst < 1.0 ? 1.0 : burst;
    limiter->tokens = limiter->burst;
    limiter->last_refill_ns = now_ns;
}

static void refill(rate_limiter *limiter, int64_t now_ns)
{
    if (now_ns <= limiter->last_refill_ns) {
        return; /* a clock that stands still or steps back adds nothing */
    }
    limiter->tokens += (double)(now_ns - limiter->last_refill_ns) * limiter->tokens_per_nanosecond;
    if (limiter->tokens > limiter->burst) {
        limiter->tokens = limiter->burst;
    }
    limiter->last_refill_ns = now_ns;
}

bool rate_limiter_take(rate_limiter *limiter, int64_t now_ns)
{
    if (limiter->unlimited) {
        return true;
    }
    refill(limiter, now_ns);
    if (limiter->tokens < 1.0) {
        return false;
    }
    limiter->tokens -= 1.0;
    return true;
}

int64_t rate_limiter_wait_ns(const rate_limiter *limiter, int64_t now_ns)
{
    if (limiter->unlimited) {
        return 0;
    }
    double tokens = limiter->tokens;
    if (now_ns > limiter->last_refill_ns) {
        tokens += (double)(now_ns - limiter->last_refill_ns) * limiter->tokens_per_nanosecond;
    }
    if (tokens >= 1.0) {
        return 0;
    }
    return (int64_t)ceil((1.0 - tokens) / limiter->tokens_per_nanosecond);
}
