/*
 * value_pattern.c: the deterministic value bytes promised by value_pattern.h. Eight bytes
 * come from each mixed 64-bit word, so filling and checking 10 MB costs little next to
 * moving it over the wire.
 */
#include "value_pattern.h"

#include <string.h>

/* FNV-1a 64-bit parameters, from the published FNV specification. */
#define FNV_OFFSET_BASIS 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
/* The golden-ratio increment and finaliser of splitmix64: consecutive word indices give
 * unrelated words. */
#define SPLITMIX_INCREMENT 0x9e3779b97f4a7c15ull
#define SPLITMIX_MULTIPLIER_1 0xbf58476d1ce4e5b9ull
#define SPLITMIX_MULTIPLIER_2 0x94d049bb133111ebull
#define BYTES_PER_WORD 8

uint64_t value_pattern_seed(const char *key, size_t key_length)
{
    uint64_t hash = FNV_OFFSET_BASIS;
    for (size_t i = 0; i < key_length; i++) {
        hash ^= (uint8_t)key[i];
        hash *= FNV_PRIME;
    }
    return hash;
}

static uint64_t pattern_word(uint64_t seed, uint64_t word_index)
{
    uint64_t mixed = seed + (word_index + 1) * SPLITMIX_INCREMENT;
    mixed = (mixed ^ (mixed >> 30)) * SPLITMIX_MULTIPLIER_1;
    mixed = (mixed ^ (mixed >> 27)) * SPLITMIX_MULTIPLIER_2;
    return mixed ^ (mixed >> 31);
}

uint8_t value_pattern_byte(uint64_t seed, size_t offset)
{
    uint64_t word = pattern_word(seed, offset / BYTES_PER_WORD);
    return (uint8_t)(word >> (8 * (offset % BYTES_PER_WORD)));
}

void value_pattern_fill(uint64_t seed, char *out, size_t length)
{
    value_pattern_fill_at(seed, 0, out, length);
}

void value_pattern_fill_at(uint64_t seed, size_t start, char *out, size_t length)
{
    /* Up to the first word boundary byte by byte; from there on out[] is word-aligned
     * with the pattern, as for a fill from 0. */
    size_t lead = (BYTES_PER_WORD - start % BYTES_PER_WORD) % BYTES_PER_WORD;
    if (lead > length)
        lead = length;
    for (size_t i = 0; i < lead; i++)
        out[i] = (char)value_pattern_byte(seed, start + i);
    out += lead;
    length -= lead;
    start += lead;
    size_t offset = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* The bytes of a word, lowest first, are its little-endian layout: whole words go
     * out in one store each (the byte loop below was a sixth of a SET's CPU). */
    for (; length - offset >= BYTES_PER_WORD; offset += BYTES_PER_WORD) {
        uint64_t word = pattern_word(seed, (start + offset) / BYTES_PER_WORD);
        memcpy(out + offset, &word, BYTES_PER_WORD);
    }
#endif
    for (; offset < length; offset += BYTES_PER_WORD) {
        uint64_t word = pattern_word(seed, (start + offset) / BYTES_PER_WORD);
        size_t count = length - offset < BYTES_PER_WORD ? length - offset : BYTES_PER_WORD;
        for (size_t i = 0; i < count; i++) {
            out[offset + i] = (char)(uint8_t)(word >> (8 * i));
        }
    }
}

int64_t value_pattern_first_mismatch(uint64_t seed, const char *data, size_t length)
{
    for (size_t offset = 0; offset < length; offset += BYTES_PER_WORD) {
        uint64_t word = pattern_word(seed, offset / BYTES_PER_WORD);
        size_t count = length - offset < BYTES_PER_WORD ? length - offset : BYTES_PER_WORD;
        for (size_t i = 0; i < count; i++) {
            if ((uint8_t)data[offset + i] != (uint8_t)(word >> (8 * i))) {
                return (int64_t)(offset + i);
            }
        }
    }
    return -1;
}
