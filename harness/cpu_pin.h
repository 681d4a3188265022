/*
 * cpu_pin.h: the server under test and the load on CPUs of their own.
 *
 * On the 2-vCPU test bed, where the scheduler happens to put the server's threads and
 * the load's decides a one-second run: one build measured against itself fell into two
 * clusters, about 11,000 and 23,000 ops/s. Pinning each to its own CPU takes that
 * choice away from the scheduler.
 *
 * Promises: the calling thread is pinned while it creates what must be pinned (a child
 * process with posix_spawn or fork, threads with pthread_create); those inherit the mask
 * from their first instruction, so no thread of theirs ever runs elsewhere, however early
 * it starts. The thread's own mask is put back by cpu_pin_leave. A CPU that this process
 * may not use is refused with one line naming it and the CPUs it may use.
 */
#ifndef HARNESS_CPU_PIN_H
#define HARNESS_CPU_PIN_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

/* A scenario's "no CPU named". */
#define CPU_PIN_NONE (-1)

typedef struct cpu_pin {
    cpu_set_t saved;
    bool active;
} cpu_pin;

/* Pins the calling thread to cpu (CPU_PIN_NONE: does nothing and succeeds). 0, or -1 with
 * error set and nothing changed. */
int cpu_pin_enter(cpu_pin *pin, int cpu, char *error, size_t error_size);

/* Restores the calling thread's mask from before cpu_pin_enter (no-op when it did nothing). */
void cpu_pin_leave(cpu_pin *pin);

#endif
