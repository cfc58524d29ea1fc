/* nvml.c — GPU telemetry through NVML, opened at run time (dlopen of libnvidia-ml.so.1, so
 * nothing links against it): a thread samples utilisation, clocks, power and throttle reasons
 * while a benchmark runs; the total-energy counter is read at the start and at the end. The
 * worker reads the SM clock and the throttle reasons around each measurement (ct_clocks). */
#include "internal.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* NVML's C interface, as much of it as is used: every call returns 0 on success. */
typedef int nvml_ret;
typedef struct nvml_util {
    unsigned gpu, memory;
} nvml_util;
enum { NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2 };

typedef struct nvml_api {
    void *lib;
    nvml_ret (*init)(void);
    nvml_ret (*shutdown)(void);
    const char *(*error_string)(nvml_ret);
    nvml_ret (*by_bus_id)(const char *, void **);
    nvml_ret (*utilization)(void *, nvml_util *);
    nvml_ret (*clock)(void *, int, unsigned *);
    nvml_ret (*power_mw)(void *, unsigned *);
    nvml_ret (*energy_mj)(void *, unsigned long long *);
    nvml_ret (*throttle)(void *, unsigned long long *);
} nvml_api;

struct cutune_monitor {
    nvml_api api;
    void *device;
    pthread_t thread;
    int running;
    atomic_int stop;
    double period_s, skip_s, t0, t1;
    unsigned long long energy0;
    int has_energy;
    cutune_monitor_report r; /* sums while sampling; means when stopped */
    double util_sum, mem_sum, sm_sum, memclk_sum, power_sum;
    int clock_samples, power_samples;
};

/* The reasons that mean the clocks were held down by power or heat (NVML's bits). */
static const struct {
    unsigned long long bit;
    const char *name;
} slowdowns[] = {{0x4ULL, "software power cap"},
                 {0x8ULL, "hardware slowdown"},
                 {0x20ULL, "software thermal slowdown"},
                 {0x40ULL, "hardware thermal slowdown"},
                 {0x80ULL, "hardware power brake"}};

static int load_api(nvml_api *a)
{
    memset(a, 0, sizeof *a);
    if (!(a->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)))
        return ct_fail(CUTUNE_ENOTSUP,
                       "NVML (libnvidia-ml.so.1, part of the NVIDIA driver) "
                       "cannot be opened: %s",
                       dlerror());
    static const struct {
        size_t offset;
        const char *names[2]; /* the newer name first */
        int optional;
    } syms[] = {
        {offsetof(nvml_api, init), {"nvmlInit_v2", "nvmlInit"}, 0},
        {offsetof(nvml_api, shutdown), {"nvmlShutdown", NULL}, 0},
        {offsetof(nvml_api, error_string), {"nvmlErrorString", NULL}, 0},
        {offsetof(nvml_api, by_bus_id),
         {"nvmlDeviceGetHandleByPciBusId_v2", "nvmlDeviceGetHandleByPciBusId"},
         0},
        {offsetof(nvml_api, utilization), {"nvmlDeviceGetUtilizationRates", NULL}, 0},
        {offsetof(nvml_api, clock), {"nvmlDeviceGetClockInfo", NULL}, 1},
        {offsetof(nvml_api, power_mw), {"nvmlDeviceGetPowerUsage", NULL}, 1},
        {offsetof(nvml_api, energy_mj), {"nvmlDeviceGetTotalEnergyConsumption", NULL}, 1},
        {offsetof(nvml_api, throttle),
         {"nvmlDeviceGetCurrentClocksEventReasons",
          "nvmlDeviceGetCurrentClocksThrottleReasons"},
         1}};
    for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
        void *f = NULL;
        for (int n = 0; n < 2 && !f && syms[i].names[n]; n++)
            f = dlsym(a->lib, syms[i].names[n]);
        if (!f && !syms[i].optional) {
            dlclose(a->lib);
            return ct_fail(CUTUNE_ENOTSUP, "NVML has no %s", syms[i].names[0]);
        }
        memcpy((char *)a + syms[i].offset, &f, sizeof f);
    }
    return CUTUNE_OK;
}

static void *sample_loop(void *arg)
{
    cutune_monitor *m = arg;
    const nvml_api *a = &m->api;
    struct timespec pause = {(time_t)m->period_s,
                             (long)((m->period_s - floor(m->period_s)) * 1e9)};
    while (!atomic_load(&m->stop)) {
        nvml_util u;
        if (ct_now() - m->t0 >= m->skip_s && a->utilization(m->device, &u) == 0) {
            cutune_monitor_report *r = &m->r;
            r->samples++;
            m->util_sum += u.gpu;
            m->mem_sum += u.memory;
            r->gpu_util_min = fmin(r->gpu_util_min, u.gpu);
            unsigned sm, mem, mw;
            if (a->clock && a->clock(m->device, NVML_CLOCK_SM, &sm) == 0 &&
                a->clock(m->device, NVML_CLOCK_MEM, &mem) == 0) {
                m->clock_samples++;
                m->sm_sum += sm;
                m->memclk_sum += mem;
                r->sm_clock_mhz_min = fmin(r->sm_clock_mhz_min, sm);
            }
            if (a->power_mw && a->power_mw(m->device, &mw) == 0) {
                m->power_samples++;
                m->power_sum += mw / 1e3;
                r->power_w_max = fmax(r->power_w_max, mw / 1e3);
            }
            unsigned long long why;
            if (a->throttle && a->throttle(m->device, &why) == 0)
                for (size_t i = 0; i < sizeof slowdowns / sizeof *slowdowns; i++)
                    r->throttle_reasons |= why & slowdowns[i].bit;
        }
        nanosleep(&pause, NULL);
    }
    return NULL;
}

int cutune_monitor_start(cutune_monitor **out, const char *pci_bus_id, double period_ms,
                         double skip_s)
{
    if (!out || !pci_bus_id)
        return ct_fail(CUTUNE_EINVAL, "cutune_monitor_start: NULL argument");
    *out = NULL;
    if (!(period_ms >= 1 && period_ms <= 60000) || !(skip_s >= 0 && skip_s <= 3600))
        return ct_fail(CUTUNE_EINVAL,
                       "cutune_monitor_start: a period of 1 ms to 60 s and a "
                       "lead-in of 0 to 3600 s, not %g ms and %g s",
                       period_ms, skip_s);
    cutune_monitor *m = calloc(1, sizeof *m);
    if (!m)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    int st = load_api(&m->api);
    if (st) {
        free(m);
        return st;
    }
    nvml_ret e = m->api.init();
    if (e) {
        st = ct_fail(CUTUNE_ENOTSUP, "NVML: nvmlInit: %s", m->api.error_string(e));
        dlclose(m->api.lib);
        free(m);
        return st;
    }
    if ((e = m->api.by_bus_id(pci_bus_id, &m->device))) {
        st = ct_fail(CUTUNE_ENODEVICE, "NVML knows no GPU at PCI bus id %s: %s", pci_bus_id,
                     m->api.error_string(e));
        cutune_monitor_free(m);
        return st;
    }
    m->period_s = period_ms / 1e3;
    m->skip_s = skip_s;
    m->r.gpu_util_min = m->r.sm_clock_mhz_min = INFINITY;
    m->has_energy = m->api.energy_mj && m->api.energy_mj(m->device, &m->energy0) == 0;
    m->t0 = ct_now();
    if (pthread_create(&m->thread, NULL, sample_loop, m)) {
        cutune_monitor_free(m);
        return ct_fail(CUTUNE_ENOMEM, "cutune_monitor_start: cannot start a thread");
    }
    m->running = 1;
    *out = m;
    return CUTUNE_OK;
}

int cutune_monitor_stop(cutune_monitor *m, cutune_monitor_report *report)
{
    if (!m || !report)
        return ct_fail(CUTUNE_EINVAL, "cutune_monitor_stop: NULL argument");
    if (m->running) {
        atomic_store(&m->stop, 1);
        pthread_join(m->thread, NULL);
        m->running = 0;
        m->t1 = ct_now();
        cutune_monitor_report *r = &m->r;
        unsigned long long energy1;
        r->energy_j =
            m->has_energy && m->api.energy_mj(m->device, &energy1) == 0 && energy1 >= m->energy0
                ? (double)(energy1 - m->energy0) / 1e3
                : NAN;
        r->seconds = m->t1 - m->t0;
        int n = r->samples;
        r->gpu_util_mean = n ? m->util_sum / n : NAN;
        r->mem_util_mean = n ? m->mem_sum / n : NAN;
        r->gpu_util_min = n ? r->gpu_util_min : NAN;
        r->sm_clock_mhz_mean = m->clock_samples ? m->sm_sum / m->clock_samples : NAN;
        r->mem_clock_mhz_mean = m->clock_samples ? m->memclk_sum / m->clock_samples : NAN;
        r->sm_clock_mhz_min = m->clock_samples ? r->sm_clock_mhz_min : NAN;
        r->power_w_mean = m->power_samples ? m->power_sum / m->power_samples : NAN;
        r->power_w_max = m->power_samples ? r->power_w_max : NAN;
        r->throttled = r->throttle_reasons != 0;
    }
    *report = m->r;
    return CUTUNE_OK;
}

void cutune_monitor_free(cutune_monitor *m)
{
    if (!m)
        return;
    if (m->running) {
        atomic_store(&m->stop, 1);
        pthread_join(m->thread, NULL);
    }
    m->api.shutdown();
    dlclose(m->api.lib);
    free(m);
}

const char *cutune_throttle_names(unsigned long long reasons, char *buf, size_t size)
{
    if (!buf || !size)
        return "";
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof slowdowns / sizeof *slowdowns; i++)
        if (reasons & slowdowns[i].bit) {
            int w = snprintf(buf + at, size - at, "%s%s", at ? ", " : "", slowdowns[i].name);
            if (w < 0 || (size_t)w >= size - at)
                break;
            at += (size_t)w;
        }
    return buf;
}

/* ------------------------------------------------------------ around a measurement ---- */

struct ct_clocks {
    nvml_api api;
    void *device;
};

ct_clocks *ct_clocks_open(const char *pci_bus_id)
{
    ct_clocks *c = calloc(1, sizeof *c);
    if (!c || load_api(&c->api)) {
        free(c);
        return NULL;
    }
    if (!c->api.clock || !c->api.throttle || c->api.init()) {
        dlclose(c->api.lib);
        free(c);
        return NULL;
    }
    if (c->api.by_bus_id(pci_bus_id, &c->device)) {
        ct_clocks_close(c);
        return NULL;
    }
    return c;
}

int ct_clocks_read(ct_clocks *c, unsigned *sm_mhz, unsigned long long *slowdown)
{
    unsigned long long why;
    if (!c || c->api.clock(c->device, NVML_CLOCK_SM, sm_mhz) || c->api.throttle(c->device, &why))
        return -1;
    *slowdown = 0;
    for (size_t i = 0; i < sizeof slowdowns / sizeof *slowdowns; i++)
        *slowdown |= why & slowdowns[i].bit;
    return 0;
}

void ct_clocks_close(ct_clocks *c)
{
    if (!c)
        return;
    c->api.shutdown();
    dlclose(c->api.lib);
    free(c);
}
