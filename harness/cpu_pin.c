#include "cpu_pin.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* "0-1", "0,2-3": the CPUs of a mask, for people. */
static void describe_mask(const cpu_set_t *mask, char *out, size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int cpu = 0; cpu < CPU_SETSIZE && used + 16 < out_size; cpu++) {
        if (!CPU_ISSET(cpu, mask))
            continue;
        int last = cpu;
        while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, mask))
            last++;
        int n = last > cpu ? snprintf(out + used, out_size - used, "%s%d-%d", used ? "," : "",
                                      cpu, last)
                           : snprintf(out + used, out_size - used, "%s%d", used ? "," : "", cpu);
        if (n < 0)
            break;
        used += (size_t)n;
        cpu = last;
    }
}

int cpu_pin_enter(cpu_pin *pin, int cpu, char *error, size_t error_size)
{
    pin->active = false;
    if (cpu == CPU_PIN_NONE)
        return 0;
    int rc = pthread_getaffinity_np(pthread_self(), sizeof pin->saved, &pin->saved);
    if (rc != 0) {
        snprintf(error, error_size, "cannot read this thread's CPUs: %s", strerror(rc));
        return -1;
    }
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &pin->saved)) {
        char allowed[256];
        describe_mask(&pin->saved, allowed, sizeof allowed);
        snprintf(error, error_size, "CPU %d is not one this process may use (it may use %s)",
                 cpu, allowed);
        return -1;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    rc = pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    if (rc != 0) {
        snprintf(error, error_size, "cannot pin to CPU %d: %s", cpu, strerror(rc));
        return -1;
    }
    pin->active = true;
    return 0;
}

void cpu_pin_leave(cpu_pin *pin)
{
    if (!pin->active)
        return;
    /* The saved mask was this thread's own a moment ago: putting it back cannot be refused
     * for lack of permission; a CPU taken offline since is the kernel's to handle. */
    (void)pthread_setaffinity_np(pthread_self(), sizeof pin->saved, &pin->saved);
    pin->active = false;
}
