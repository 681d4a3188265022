/*
 * load_workload.c: the request choices promised by load_workload.h.
 */
#include "load_workload.h"
#include "decimal.h"

#include <string.h>

/* splitmix64 (Steele, Lea, Flood): fast, passes BigCrush, and any seed is good. */
#define SPLITMIX_INCREMENT 0x9e3779b97f4a7c15ull
#define SPLITMIX_MULTIPLIER_1 0xbf58476d1ce4e5b9ull
#define SPLITMIX_MULTIPLIER_2 0x94d049bb133111ebull
/* A double has 53 significant bits: the top 53 random bits map exactly onto [0, 1). */
#define DOUBLE_MANTISSA_BITS 53

void load_random_seed(load_random *random, uint64_t seed)
{
    random->state = seed;
}

uint64_t load_random_next(load_random *random)
{
    uint64_t mixed = (random->state += SPLITMIX_INCREMENT);
    mixed = (mixed ^ (mixed >> 30)) * SPLITMIX_MULTIPLIER_1;
    mixed = (mixed ^ (mixed >> 27)) * SPLITMIX_MULTIPLIER_2;
    return mixed ^ (mixed >> 31);
}

double load_random_unit(uint64_t random_bits)
{
    return (double)(random_bits >> (64 - DOUBLE_MANTISSA_BITS)) /
           (double)((uint64_t)1 << DOUBLE_MANTISSA_BITS);
}

load_operation load_choose_operation(double set_fraction, double unit_random)
{
    return unit_random < set_fraction ? LOAD_OPERATION_SET : LOAD_OPERATION_GET;
}

/* Multiply-and-take-the-high-half (Lemire) maps 64 random bits onto [0, bound) without
 * the bias of a plain modulo towards small indices. */
static uint64_t below(uint64_t bound, uint64_t random_bits)
{
    return (uint64_t)(((unsigned __int128)random_bits * bound) >> 64);
}

uint64_t load_choose_key(uint64_t key_space, uint64_t random_bits)
{
    return below(key_space, random_bits);
}

size_t load_choose_value_size(const value_size_spec *spec, uint64_t random_bits)
{
    if (spec->size_count > 0) {
        return spec->sizes[below(spec->size_count, random_bits)];
    }
    uint64_t span = (uint64_t)(spec->maximum - spec->minimum) + 1;
    if (span == 0) { /* the full range of size_t: every value is allowed */
        return (size_t)random_bits;
    }
    return spec->minimum + (size_t)below(span, random_bits);
}

bool load_value_size_allowed(const value_size_spec *spec, size_t size)
{
    if (spec->size_count > 0) {
        for (size_t i = 0; i < spec->size_count; i++) {
            if (spec->sizes[i] == size) {
                return true;
            }
        }
        return false;
    }
    return size >= spec->minimum && size <= spec->maximum;
}

size_t load_value_size_largest(const value_size_spec *spec)
{
    if (spec->size_count == 0) {
        return spec->maximum;
    }
    size_t largest = 0;
    for (size_t i = 0; i < spec->size_count; i++) {
        if (spec->sizes[i] > largest) {
            largest = spec->sizes[i];
        }
    }
    return largest;
}

size_t load_key_name(char *out, size_t capacity, const char *prefix, uint64_t key_index)
{
    char digits[DECIMAL_MAX_DIGITS];
    size_t digit_count = decimal_format(digits, key_index);
    size_t prefix_length = strlen(prefix);
    size_t length = prefix_length + digit_count;
    if (capacity == 0) {
        return length;
    }
    /* Cut to fit, as snprintf would: the prefix first, then the digits. */
    size_t room = capacity - 1;
    size_t prefix_kept = prefix_length < room ? prefix_length : room;
    size_t digits_kept = digit_count < room - prefix_kept ? digit_count : room - prefix_kept;
    memcpy(out, prefix, prefix_kept);
    memcpy(out + prefix_kept, digits, digits_kept);
    out[prefix_kept + digits_kept] = '\0';
    return length;
}
