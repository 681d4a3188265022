/*
 * lsan_canary: leaks one block on purpose. Built with the test build's sanitizers and run
 * where the integration tests run, it shows that LeakSanitizer is really on there: LSan
 * stops the process's threads with ptrace at exit, so it reports nothing (or dies) when
 * the process is already traced or ptrace is forbidden, and a silent leak check would
 * pass every leaky program. leak_check.sh expects this one's report and its exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Recognisable in the report: "4242 byte(s) leaked in 1 allocation(s)". */
#define CANARY_BYTES 4242

/* The only pointer to the block dies with this frame. */
__attribute__((noinline)) static void leak_one_block(void)
{
    char *volatile block = malloc(CANARY_BYTES);
    if (block != NULL)
        memset(block, 0x5a, CANARY_BYTES);
    block = NULL;
}

int main(void)
{
    leak_one_block();
    printf("lsan_canary: %d bytes leaked on purpose\n", CANARY_BYTES);
    return 0;
}
