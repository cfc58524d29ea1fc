/* recorded.c — the kind of session that replays a recorded space (a Kernel Tuner cache
 * file): each configuration's measurement is the one recorded, after an optional delay that
 * stands in for the GPU's time. Simulation with what sessions have: the profile store,
 * resuming, executors. */
#include "session_impl.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct recorded {
    const cutune_cache *cache;
    double delay_ms; /* per measurement */
} recorded;

/* Which counter a recorded failure adds to, by Kernel Tuner's name (else runtime). */
static const struct {
    const char *name;
    size_t counter;
} failure_counters[] = {
    {"CompilationFailedConfig", offsetof(cutune_session_stats, compile_failed)},
    {"VerificationFailedConfig", offsetof(cutune_session_stats, verification_failed)},
    {"TimeoutConfig", offsetof(cutune_session_stats, timeouts)},
    {"InvalidConfig", offsetof(cutune_session_stats, pruned_after_compile)},
};

static void sleep_ms(double ms)
{
    struct timespec left = {(time_t)(ms / 1e3), (long)((ms - 1e3 * (double)(time_t)(ms / 1e3)) *
                                                       1e6)};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

static int recorded_evaluate(cutune_session *s, void *ctx, size_t i, int reference)
{
    (void)reference;
    const recorded *rc = ctx;
    record *r = &s->rec[i];
    r->done = 1;
    if (rc->delay_ms > 0)
        sleep_ms(rc->delay_ms);
    r->run_ms = rc->delay_ms;
    s->stats.run_s += rc->delay_ms / 1e3;
    const char *failure = NULL;
    double t = cutune_cache_time(rc->cache, i, &failure);
    if (!isnan(t)) {
        s->stats.measured++;
        return ct_session_keep_times(s, r, &t, 1);
    }
    size_t counter = offsetof(cutune_session_stats, runtime_failed);
    for (size_t k = 0; k < sizeof failure_counters / sizeof *failure_counters; k++)
        if (failure && strcmp(failure, failure_counters[k].name) == 0)
            counter = failure_counters[k].counter;
    (*(uint64_t *)((char *)&s->stats + counter))++;
    /* the cache outlives the session: its text is a literal to the record */
    ct_session_fail_record(r, failure ? failure : "RuntimeFailedConfig", "recorded so");
    return CUTUNE_OK;
}

/* What a recorded configuration cost the tuner that recorded it, in seconds. */
static double recorded_cost_s(cutune_session *s, void *ctx, size_t i)
{
    (void)s;
    return cutune_cache_cost(((const recorded *)ctx)->cache, i) / 1e3;
}

static const ct_session_ops recorded_ops = {
    .evaluate = recorded_evaluate,
    .cost_s = recorded_cost_s,
    .free = free,
};

int cutune_session_new_cache(cutune_session **out, const cutune_cache *cache, double delay_ms)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new_cache: out is NULL");
    *out = NULL;
    if (!cache)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new_cache: no cache");
    if (!(delay_ms >= 0 && delay_ms <= 3.6e6))
        return ct_fail(CUTUNE_EINVAL, "the delay per measurement is 0 to 3600000 ms, not %g",
                       delay_ms);
    recorded *rc = calloc(1, sizeof *rc);
    cutune_session_options o = {.device = -1};
    cutune_session *s = rc ? ct_session_alloc(&o, &recorded_ops, rc) : NULL;
    if (!s) {
        free(rc);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    *rc = (recorded){cache, delay_ms};
    s->space = cutune_cache_space(cache);
    s->problem_dims = ct_cache_problem(cache, s->problem);
    s->device_name = cutune_cache_device(cache);
    s->no_outputs_why = "a recorded space's failures are those it recorded";
    int st = ct_domain_from_cache(&s->dom, cache); /* the same numbering as cutune_simulate */
    s->have_dom = !st;
    if (!st)
        st = ct_session_records(s);
    if (!st && !(s->name = ct_strdup(cutune_cache_kernel(cache))))
        st = CUTUNE_ENOMEM;
    /* for the store: its file's device and size (its compute capability and SMs are not
     * known: 0, as an import of the file has them) */
    size_t n = strlen(ct_cache_path(cache)) + 16;
    if (!st && !(s->origin = malloc(n)))
        st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (!st)
        snprintf(s->origin, n, "recorded:%s", ct_cache_path(cache));
    if (st) {
        cutune_session_free(s);
        return st;
    }
    *out = s;
    return CUTUNE_OK;
}
