/* test_monitor.c — the NVML monitor (src/nvml.c) against tests/fake_nvml.c, loaded through
 * the same dlopen as the driver's library: averages, minima, energy from the counter, the
 * throttle flag, and bad input. The case absent (run alone, without the fake on the library
 * path) checks the message when NVML is missing; where an NVML library loads (a real one, or
 * the fake after the other cases) that case cannot be made, and it is skipped. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "cutune.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUS "00000000:01:00.0"

static void run_for(double seconds)
{
    struct timespec t = {0, (long)(seconds * 1e9)};
    nanosleep(&t, NULL);
}

static void sampled(int throttle)
{
    if (throttle)
        setenv("FAKE_NVML_THROTTLE", "1", 1);
    else
        unsetenv("FAKE_NVML_THROTTLE");
    cutune_monitor *m;
    CHECK_INT(cutune_monitor_start(&m, BUS, 10, 0.05), CUTUNE_OK);
    if (!m)
        return;
    run_for(0.4);
    cutune_monitor_report r, again;
    CHECK_INT(cutune_monitor_stop(m, &r), CUTUNE_OK);
    CHECK(r.samples >= 10 && r.samples <= 40);
    CHECK(r.seconds >= 0.4 && r.seconds < 2);
    CHECK(r.gpu_util_mean == 97 && r.gpu_util_min == 97 && r.mem_util_mean == 40);
    CHECK(r.sm_clock_mhz_mean == 1980 && r.sm_clock_mhz_min == 1980 &&
          r.mem_clock_mhz_mean == 2619);
    CHECK(r.power_w_mean == 350 && r.power_w_max == 350);
    CHECK(r.energy_j > 0.35 * 350 * 0.9 && r.energy_j < 2 * 350); /* 350 W for ~0.4 s */
    CHECK_INT(r.throttled, throttle);
    CHECK(r.throttle_reasons == (throttle ? 0x8ULL : 0));
    char names[128];
    CHECK(strcmp(cutune_throttle_names(r.throttle_reasons, names, sizeof names),
                 throttle ? "hardware slowdown" : "") == 0);
    CHECK_INT(cutune_monitor_stop(m, &again), CUTUNE_OK); /* the same report again */
    CHECK(again.samples == r.samples && again.energy_j == r.energy_j);
    cutune_monitor_free(m);
}

static void bad_input(void)
{
    cutune_monitor *m = (cutune_monitor *)1;
    CHECK_INT(cutune_monitor_start(&m, "00000000:99:00.0", 10, 0), CUTUNE_ENODEVICE);
    CHECK_HAS(cutune_last_error(), "no GPU at PCI bus id 00000000:99:00.0");
    CHECK(m == NULL);
    CHECK_INT(cutune_monitor_start(&m, BUS, 0, 0), CUTUNE_EINVAL);
    CHECK_INT(cutune_monitor_start(&m, BUS, NAN, 0), CUTUNE_EINVAL);
    CHECK_INT(cutune_monitor_start(&m, BUS, 10, -1), CUTUNE_EINVAL);
    CHECK_INT(cutune_monitor_start(NULL, BUS, 10, 0), CUTUNE_EINVAL);
    CHECK_INT(cutune_monitor_start(&m, NULL, 10, 0), CUTUNE_EINVAL);
    CHECK_INT(cutune_monitor_stop(NULL, NULL), CUTUNE_EINVAL);
    cutune_monitor_free(NULL);
    char names[8];
    cutune_throttle_names(0x4 | 0x8 | 0x40, names, sizeof names); /* cut short, terminated */
    CHECK(strlen(names) < sizeof names);
    /* the sampling stops when freed without stopping */
    CHECK_INT(cutune_monitor_start(&m, BUS, 5, 0), CUTUNE_OK);
    cutune_monitor_free(m);
}

static void absent(void)
{
    void *real = dlopen("libnvidia-ml.so.1", RTLD_NOW);
    if (real) {
        dlclose(real);
        SKIP_CASE("an NVML library is installed here");
    }
    cutune_monitor *m;
    CHECK_INT(cutune_monitor_start(&m, BUS, 10, 0), CUTUNE_ENOTSUP);
    CHECK_HAS(cutune_last_error(), "libnvidia-ml.so.1");
}

static void test_sampled(void) { sampled(0); }
static void test_throttled(void) { sampled(1); }

/* absent last: the others load the fake */
TEST_LIST(TEST_CASE(test_sampled) TEST_CASE(test_throttled) TEST_CASE(bad_input)
          TEST_CASE(absent));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
