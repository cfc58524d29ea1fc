/* clock.c — the two clocks: the monotonic one every duration is measured on, and the wall
 * clock that dates what is stored. */
#include "internal.h"

#include <time.h>

double ct_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double ct_unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double cutune_now(void) { return ct_now(); }
