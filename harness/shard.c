#include "shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_count(const char *text, char **end, size_t *out)
{
    if (*text < '0' || *text > '9')
        return -1;
    errno = 0;
    unsigned long long value = strtoull(text, end, 10);
    if (errno != 0 || value > SHARD_COUNT_MAX)
        return -1;
    *out = (size_t)value;
    return 0;
}

int shard_parse(const char *text, shard_spec *shard, char *error, size_t error_size)
{
    char *end = NULL;
    size_t index = 0, count = 0;
    if (parse_count(text, &end, &index) != 0 || *end != '/' ||
        parse_count(end + 1, &end, &count) != 0 || *end != '\0' || count < 1 || index < 1 ||
        index > count) {
        snprintf(error, error_size, "--shard must be I/N with 1 <= I <= N <= %d, not \"%s\"",
                 SHARD_COUNT_MAX, text);
        return -1;
    }
    shard->index = index;
    shard->count = count;
    return 0;
}

bool shard_selects(const shard_spec *shard, size_t case_position)
{
    if (shard == NULL || shard->count == 0)
        return true;
    return case_position % shard->count == shard->index - 1;
}

void shard_format(const shard_spec *shard, char *out, size_t out_size)
{
    if (shard == NULL || shard->count == 0)
        snprintf(out, out_size, "%s", "");
    else
        snprintf(out, out_size, "%zu/%zu", shard->index, shard->count);
}
