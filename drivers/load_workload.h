/*
 * load_workload.h: what the next request is: SET or GET, which key, what value size.
 *
 * Promises:
 * - Every choice is a pure function of the parameters and a random number, so tests pin
 *   down each decision; `load_random` supplies those numbers, one generator per thread,
 *   reproducible from a seed.
 * - Keys are named "<prefix><index>" with index in [0, key_space).
 * - Value sizes are one fixed size, one of a list (equally likely), or uniform in
 *   [minimum, maximum].
 */
#ifndef LOAD_WORKLOAD_H
#define LOAD_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct load_random {
    uint64_t state;
} load_random;

void load_random_seed(load_random *random, uint64_t seed);
uint64_t load_random_next(load_random *random);
/* Uniform in [0, 1). */
double load_random_unit(uint64_t random_bits);

typedef enum load_operation {
    LOAD_OPERATION_SET,
    LOAD_OPERATION_GET,
} load_operation;

/* SET when unit_random (in [0, 1)) falls below set_fraction: 1 is all SETs, 0 all GETs. */
load_operation load_choose_operation(double set_fraction, double unit_random);
/* A key index in [0, key_space), key_space > 0. */
uint64_t load_choose_key(uint64_t key_space, uint64_t random_bits);

typedef struct value_size_spec {
    const size_t *sizes; /* when size_count > 0, one of these */
    size_t size_count;
    size_t minimum; /* otherwise uniform in [minimum, maximum] */
    size_t maximum;
} value_size_spec;

size_t load_choose_value_size(const value_size_spec *spec, uint64_t random_bits);
/* Whether a SET under this spec could have written a value of this size. */
bool load_value_size_allowed(const value_size_spec *spec, size_t size);
/* The largest size the spec can choose. */
size_t load_value_size_largest(const value_size_spec *spec);

/* Writes "<prefix><index>" NUL-terminated; returns its length, like snprintf. */
size_t load_key_name(char *out, size_t capacity, const char *prefix, uint64_t key_index);

#endif
