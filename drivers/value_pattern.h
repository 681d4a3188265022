/*
 * value_pattern.h: the bytes a verifying load writes as a key's value.
 *
 * Promises:
 * - The value is a function of the key name alone, byte by byte: byte i of the value
 *   for key K is the same whatever the value's length. Values of different sizes SET
 *   to the same key by different connections are therefore all prefixes of one stream,
 *   and a GET reply can be checked without knowing which SET it saw last.
 * - Bytes come from a 64-bit mixing function, so a shifted, truncated, duplicated or
 *   zero-filled range is caught at the first wrong byte, and the offset is reported.
 */
#ifndef VALUE_PATTERN_H
#define VALUE_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* The pattern's seed for a key name. */
uint64_t value_pattern_seed(const char *key, size_t key_length);
/* Byte `offset` of the pattern for a seed. */
uint8_t value_pattern_byte(uint64_t seed, size_t offset);
/* Writes bytes [0, length) of the pattern. */
void value_pattern_fill(uint64_t seed, char *out, size_t length);
/* Writes bytes [offset, offset + length) of the pattern: a value made piece by piece. */
void value_pattern_fill_at(uint64_t seed, size_t offset, char *out, size_t length);
/* The offset of the first byte of data that differs from the pattern, or -1 when all
 * length bytes match. */
int64_t value_pattern_first_mismatch(uint64_t seed, const char *data, size_t length);

#endif
