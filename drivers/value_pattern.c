/*
 * value_pattern.c: the deterministic value bytes promised by value_pattern.h.
 *
 * Word i of a key's value (8 bytes, little-endian) is a fixed table's word i mod 4096
 * XORed with a 64-bit mix of the key's seed and i / 4096. The table and the mix both
 * come from splitmix64, so words next to each other are unrelated; the mix changes every
 * 32 KiB, so a range shifted or duplicated by a whole table still differs, and a range
 * from another key differs everywhere. Filling costs a load, an XOR and a store a word:
 * a splitmix64 for every word was 30% of the instructions of a 256-byte SET.
 */
#include "value_pattern.h"

#include <pthread.h>
#include <string.h>

/* FNV-1a 64-bit parameters, from the published FNV specification. */
#define FNV_OFFSET_BASIS 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
/* The golden-ratio increment and finaliser of splitmix64: consecutive inputs give
 * unrelated words. */
#define SPLITMIX_INCREMENT 0x9e3779b97f4a7c15ull
#define SPLITMIX_MULTIPLIER_1 0xbf58476d1ce4e5b9ull
#define SPLITMIX_MULTIPLIER_2 0x94d049bb133111ebull
/* Any constant will do; this one spells "valkey" in ASCII. */
#define TABLE_SEED 0x76616c6b6579ull
#define BYTES_PER_WORD 8
/* 32 KiB: small enough to stay in a core's cache while a large value is filled. */
#define TABLE_WORDS 4096

static uint64_t table[TABLE_WORDS];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static uint64_t splitmix(uint64_t base, uint64_t index)
{
    uint64_t mixed = base + (index + 1) * SPLITMIX_INCREMENT;
    mixed = (mixed ^ (mixed >> 30)) * SPLITMIX_MULTIPLIER_1;
    mixed = (mixed ^ (mixed >> 27)) * SPLITMIX_MULTIPLIER_2;
    return mixed ^ (mixed >> 31);
}

static void make_table(void)
{
    for (uint64_t i = 0; i < TABLE_WORDS; i++) {
        table[i] = splitmix(TABLE_SEED, i);
    }
}

static const uint64_t *pattern_table(void)
{
    pthread_once(&table_once, make_table);
    return table;
}

/* The word every word of one table-sized block of a key's value is XORed with. */
static uint64_t block_key(uint64_t seed, uint64_t block)
{
    return splitmix(seed, block);
}

/* The run of whole words from word_index that stays inside one table block, at most
 * whole_words long; sets *from to its table words and *key to its block's mix. */
static size_t block_run(uint64_t seed, uint64_t word_index, size_t whole_words,
                        const uint64_t **from, uint64_t *key)
{
    size_t in_block = (size_t)(word_index % TABLE_WORDS);
    *from = pattern_table() + in_block;
    *key = block_key(seed, word_index / TABLE_WORDS);
    return TABLE_WORDS - in_block < whole_words ? TABLE_WORDS - in_block : whole_words;
}

static uint64_t pattern_word(uint64_t seed, uint64_t word_index)
{
    return pattern_table()[word_index % TABLE_WORDS] ^ block_key(seed, word_index / TABLE_WORDS);
}

static void store_word(char *out, uint64_t word)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(out, &word, BYTES_PER_WORD);
#else
    for (int i = 0; i < BYTES_PER_WORD; i++) {
        out[i] = (char)(uint8_t)(word >> (8 * i));
    }
#endif
}

static uint64_t load_word(const char *in)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t word;
    memcpy(&word, in, BYTES_PER_WORD);
    return word;
#else
    uint64_t word = 0;
    for (int i = 0; i < BYTES_PER_WORD; i++) {
        word |= (uint64_t)(uint8_t)in[i] << (8 * i);
    }
    return word;
#endif
}

uint64_t value_pattern_seed(const char *key, size_t key_length)
{
    uint64_t hash = FNV_OFFSET_BASIS;
    for (size_t i = 0; i < key_length; i++) {
        hash ^= (uint8_t)key[i];
        hash *= FNV_PRIME;
    }
    return hash;
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
    uint64_t word_index = start / BYTES_PER_WORD;
    size_t whole_words = length / BYTES_PER_WORD;
    /* A block at a time: one mix, then a run of table words. */
    while (whole_words > 0) {
        const uint64_t *from;
        uint64_t key;
        size_t run = block_run(seed, word_index, whole_words, &from, &key);
        size_t i = 0;
        /* Four words a turn: the loop's own upkeep was as costly as the words. */
        for (; run - i >= 4; i += 4) {
            store_word(out + i * BYTES_PER_WORD, from[i] ^ key);
            store_word(out + (i + 1) * BYTES_PER_WORD, from[i + 1] ^ key);
            store_word(out + (i + 2) * BYTES_PER_WORD, from[i + 2] ^ key);
            store_word(out + (i + 3) * BYTES_PER_WORD, from[i + 3] ^ key);
        }
        for (; i < run; i++) {
            store_word(out + i * BYTES_PER_WORD, from[i] ^ key);
        }
        out += run * BYTES_PER_WORD;
        length -= run * BYTES_PER_WORD;
        word_index += run;
        whole_words -= run;
    }
    if (length > 0) {
        uint64_t word = pattern_word(seed, word_index);
        for (size_t i = 0; i < length; i++) {
            out[i] = (char)(uint8_t)(word >> (8 * i));
        }
    }
}

int64_t value_pattern_first_mismatch(uint64_t seed, const char *data, size_t length)
{
    /* Whole words compared a block at a time, like the fill; the first word that differs
     * and a short tail are then looked at byte by byte. */
    uint64_t word_index = 0;
    size_t whole_words = length / BYTES_PER_WORD;
    while (whole_words > 0) {
        const uint64_t *from;
        uint64_t key;
        size_t run = block_run(seed, word_index, whole_words, &from, &key);
        size_t i = 0;
        while (i < run && load_word(data + (word_index + i) * BYTES_PER_WORD) == (from[i] ^ key)) {
            i++;
        }
        word_index += i;
        whole_words -= i;
        if (i < run) {
            break;
        }
    }
    for (size_t offset = (size_t)word_index * BYTES_PER_WORD; offset < length;
         offset += BYTES_PER_WORD) {
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
