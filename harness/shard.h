/*
 * shard.h: which cases one shard of a suite runs, so a CI matrix can split a suite over
 * runners ("--shard I/N", the way pytest-shard and Playwright's --shard split theirs).
 *
 * Promises: the cases are numbered over the expanded case list of every given scenario
 * file, in order, from 0; shard I of N (I from 1) runs the cases whose number modulo N is
 * I - 1. So the N shards together run every case exactly once, the split depends only on
 * the files and their order, and every shard gets a mix of the suite rather than one file.
 * Pure: no I/O.
 */
#ifndef HARNESS_SHARD_H
#define HARNESS_SHARD_H

#include <stdbool.h>
#include <stddef.h>

/* A CI matrix wider than this is no longer one suite split over runners. */
#define SHARD_COUNT_MAX 1000

typedef struct shard_spec {
    size_t index; /* 1-based */
    size_t count; /* 0: not sharded, every case runs */
} shard_spec;

/* Parses "I/N". 0, or -1 with one line in error. */
int shard_parse(const char *text, shard_spec *shard, char *error, size_t error_size);

/* Whether the case at this 0-based position of the expanded list belongs to the shard. */
bool shard_selects(const shard_spec *shard, size_t case_position);

/* "I/N", or "" when not sharded. */
void shard_format(const shard_spec *shard, char *out, size_t out_size);

#endif
