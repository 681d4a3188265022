/*
 * decimal.h: unsigned integers in decimal without printf, for the per-request paths
 * (RESP headers, key names); snprintf there was a quarter of the driver's instructions.
 */
#ifndef DECIMAL_H
#define DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/* The most digits an unsigned 64-bit integer has (18446744073709551615). */
#define DECIMAL_MAX_DIGITS 20

/* How many digits value has. */
static inline size_t decimal_length(uint64_t value)
{
    size_t digits = 1;
    while (value >= 10) {
        value /= 10;
        digits++;
    }
    return digits;
}

/* Writes the digits of value, most significant first and with no NUL, to out; returns
 * how many (at least 1, at most DECIMAL_MAX_DIGITS). */
static inline size_t decimal_format(char *out, uint64_t value)
{
    size_t count = decimal_length(value);
    size_t at = count;
    do {
        out[--at] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    return count;
}

#endif
