/* fake_nvml.c — a stand-in for libnvidia-ml.so.1 with fixed answers, so that the monitor
 * (src/nvml.c) is tested through its real dlopen path on machines without a GPU: one GPU at
 * PCI bus id 00000000:01:00.0, busy 97% of the time at 1980 MHz drawing 350 W; with
 * FAKE_NVML_THROTTLE set, held down by a hardware slowdown. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    unsigned gpu, memory;
} util;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int device = 42;

int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
const char *nvmlErrorString(int e) { return e == 6 ? "Not Found" : "Unknown Error"; }

int nvmlDeviceGetHandleByPciBusId_v2(const char *bus, void **out)
{
    if (strcmp(bus, "00000000:01:00.0") != 0)
        return 6; /* NVML_ERROR_NOT_FOUND */
    *out = &device;
    return 0;
}

int nvmlDeviceGetUtilizationRates(void *d, util *u)
{
    (void)d;
    u->gpu = 97;
    u->memory = 40;
    return 0;
}

int nvmlDeviceGetClockInfo(void *d, int type, unsigned *mhz)
{
    (void)d;
    *mhz = type == 1 ? 1980 : 2619;
    return 0;
}

int nvmlDeviceGetPowerUsage(void *d, unsigned *mw)
{
    (void)d;
    *mw = 350000;
    return 0;
}

/* 350 W since the first call, in mJ */
int nvmlDeviceGetTotalEnergyConsumption(void *d, unsigned long long *mj)
{
    static double t0;
    (void)d;
    if (!t0)
        t0 = now();
    *mj = 1000000ULL + (unsigned long long)((now() - t0) * 350e3);
    return 0;
}

int nvmlDeviceGetCurrentClocksEventReasons(void *d, unsigned long long *why)
{
    (void)d;
    *why = getenv("FAKE_NVML_THROTTLE") ? 0x8ULL | 0x1ULL : 0x1ULL; /* idle is no slowdown */
    return 0;
}
