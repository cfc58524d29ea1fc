/* session_exec.c — sessions whose measurements come from elsewhere: an executor's (the
 * driving side of distributed tuning), cutune_session_measure (the measuring side), and a
 * recorded space's (simulation with what sessions have: the profile store and executors). */
#include "session_impl.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ recorded spaces ---- */

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
    cutune_session *s = calloc(1, sizeof *s);
    if (!s)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    s->best_ms = NAN;
    s->default_index = CT_NONE;
    s->opt.device = -1;
    s->cache = cache;
    s->delay_ms = delay_ms;
    s->space = cutune_cache_space(cache);
    int st = ct_domain_from_cache(&s->dom, cache); /* the same numbering as cutune_simulate */
    s->have_dom = !st;
    if (!st && !(s->rec = calloc(s->dom.n ? s->dom.n : 1, sizeof *s->rec)))
        st = ct_fail(CUTUNE_ENOMEM, "out of memory for %zu configurations", s->dom.n);
    if (!st && !(s->name = ct_strdup(cutune_cache_kernel(cache))))
        st = CUTUNE_ENOMEM;
    if (st) {
        cutune_session_free(s);
        return st;
    }
    *out = s;
    return CUTUNE_OK;
}

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

int ct_session_evaluate_recorded(cutune_session *s, size_t i)
{
    record *r = &s->rec[i];
    r->done = 1;
    if (s->delay_ms > 0)
        sleep_ms(s->delay_ms);
    r->run_ms = s->delay_ms;
    s->stats.run_s += s->delay_ms / 1e3;
    const char *failure = NULL;
    double t = cutune_cache_time(s->cache, i, &failure);
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

/* ------------------------------------------------------------- the measuring side ---- */

static void add_stats(cutune_session_stats *to, const cutune_session_stats *d, int sign)
{
    to->compiled += (uint64_t)sign * d->compiled;
    to->from_cache += (uint64_t)sign * d->from_cache;
    to->compile_failed += (uint64_t)sign * d->compile_failed;
    to->pruned_after_compile += (uint64_t)sign * d->pruned_after_compile;
    to->measured += (uint64_t)sign * d->measured;
    to->runtime_failed += (uint64_t)sign * d->runtime_failed;
    to->verification_failed += (uint64_t)sign * d->verification_failed;
    to->timeouts += (uint64_t)sign * d->timeouts;
    to->compile_s += sign * d->compile_s;
    to->run_s += sign * d->run_s;
    to->pruned_saved_s += sign * d->pruned_saved_s;
}

static void copy_text(char *to, size_t size, const char *from)
{
    snprintf(to, size, "%s", from ? from : "");
}

int cutune_session_measure(cutune_session *s, size_t entry, double best_ms,
                           cutune_measurement *out)
{
    if (!s || !out || entry >= s->dom.n)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_measure: bad argument");
    if (s->exec.submit)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_measure: this session has an executor");
    memset(out, 0, sizeof *out);
    /* the default first, once: a kernel's outputs there are what the others must match */
    if (s->default_index == CT_NONE && !s->cache && !s->objective) {
        int st = ct_session_measure_default(s);
        if (st)
            return st;
    }
    cutune_session_stats before = s->stats;
    if (!(best_ms >= s->best_ms))
        s->best_ms = best_ms; /* the timeout follows the whole search's best */
    if (!s->rec[entry].done) {
        int st = ct_session_evaluate(s, entry, 0);
        if (st)
            return st;
    }
    const record *r = &s->rec[entry];
    out->entry = entry;
    out->time_ms = r->time_ms;
    out->median_ms = r->median_ms;
    out->std_ms = r->std_ms;
    out->n = r->n;
    out->regs = r->regs;
    if (r->n > 0)
        memcpy(out->times_ms, r->times_ms, (size_t)r->n * sizeof *r->times_ms);
    out->compile_ms = r->compile_ms;
    out->run_ms = r->run_ms;
    if (isnan(r->time_ms)) {
        copy_text(out->failure, sizeof out->failure, r->failure ? r->failure
                                                                : "RuntimeFailedConfig");
        copy_text(out->message, sizeof out->message, r->message);
    }
    out->stats = s->stats;
    add_stats(&out->stats, &before, -1);
    out->stats.restored = out->stats.warm_start = 0;
    memset(out->stats.warm_start_problem, 0, sizeof out->stats.warm_start_problem);
    return CUTUNE_OK;
}

int cutune_session_prepare(cutune_session *s, const size_t *entries, size_t n)
{
    if (!s || (n && !entries))
        return ct_fail(CUTUNE_EINVAL, "cutune_session_prepare: bad argument");
    if (!s->kernel || !s->worker)
        return CUTUNE_OK; /* nothing to compile */
    for (size_t k = 0; k < n; k++)
        if (entries[k] >= s->dom.n)
            return ct_fail(CUTUNE_EINVAL, "cutune_session_prepare: no entry %zu", entries[k]);
    if (!s->pool)
        ct_session_ahead_start(s);
    ct_session_upcoming(s, entries, n);
    return CUTUNE_OK;
}

/* -------------------------------------------------------------- the driving side ---- */

int cutune_session_set_executor(cutune_session *s, const cutune_executor *executor)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_set_executor: NULL session");
    if (executor && (!executor->submit || !executor->wait || executor->slots < 1 ||
                     executor->slots > 1024))
        return ct_fail(CUTUNE_EINVAL, "an executor needs submit, wait and 1 to 1024 slots");
    if (executor && s->objective)
        return ct_fail(CUTUNE_ENOTSUP, "a custom objective is measured in this process");
    memset(&s->exec, 0, sizeof s->exec);
    if (!executor)
        return CUTUNE_OK;
    s->exec = *executor;
    if (executor->device && s->kernel) {
        s->exec_device = *executor->device;
        int st = cutune_arch_from_device(&s->exec_device, &s->arch);
        if (st)
            return st;
        s->device = s->exec_device; /* the profile store's key */
    }
    if (s->kernel && !s->worker && !executor->device)
        return ct_fail(CUTUNE_EINVAL, "a session without a device of its own needs to be told "
                       "the executor's");
    return CUTUNE_OK;
}

/* A measurement from elsewhere into the record of its configuration. */
static int take(cutune_session *s, const cutune_measurement *m)
{
    if (m->entry >= s->dom.n || m->n < 0 || m->n > CUTUNE_MAX_TIMED_LAUNCHES)
        return ct_fail(CUTUNE_EINVAL, "a measurement of entry %llu with %d times: not one of "
                       "this session's", (unsigned long long)m->entry, (int)m->n);
    record *r = &s->rec[m->entry];
    free(r->times_ms);
    free(r->message);
    memset(r, 0, sizeof *r);
    r->done = 1;
    r->regs = m->regs;
    r->compile_ms = m->compile_ms;
    r->run_ms = m->run_ms;
    add_stats(&s->stats, &m->stats, 1);
    if (isnan(m->time_ms) || !m->n) {
        char failure[sizeof m->failure + 1];
        copy_text(failure, sizeof failure, m->failure); /* terminated, whatever came */
        char message[sizeof m->message + 1];
        copy_text(message, sizeof message, m->message);
        ct_session_fail_record(r, ct_session_failure_literal(failure), message);
        return CUTUNE_OK;
    }
    int st = ct_session_keep_times(s, r, m->times_ms, m->n);
    r->time_ms = m->time_ms; /* as measured there (the same mean, to the last bit) */
    r->median_ms = m->median_ms;
    r->std_ms = m->std_ms;
    return st;
}

static int exec_submit(void *self, size_t i)
{
    cutune_session *s = self;
    if (s->rec[i].done) { /* measured before (resume): back at once */
        if (s->nready == sizeof s->ready / sizeof *s->ready)
            return ct_fail(CUTUNE_ETOOBIG, "more than %zu known configurations in flight",
                           s->nready);
        s->ready[s->nready++] = i;
        return CUTUNE_OK;
    }
    return s->exec.submit(s->exec.user, i, s->best_ms);
}

static int exec_complete(void *self, size_t *i, double *time_ms, const char **failure)
{
    cutune_session *s = self;
    if (s->nready) {
        *i = s->ready[0];
        memmove(s->ready, s->ready + 1, --s->nready * sizeof *s->ready);
    } else {
        cutune_measurement m;
        int st = s->exec.wait(s->exec.user, &m);
        if (!st)
            st = take(s, &m);
        if (!st)
            st = ct_session_checkpoint(s, (size_t)m.entry);
        if (st)
            return st;
        *i = (size_t)m.entry;
    }
    *time_ms = ct_session_cost(s, *i, failure); /* the time, or the objective */
    return CUTUNE_OK;
}

/* What a recorded configuration cost the tuner that recorded it, in seconds. */
static double cost_recorded(void *self, size_t i)
{
    return cutune_cache_cost(((cutune_session *)self)->cache, i) / 1e3;
}

void ct_session_exec_backend(cutune_session *s, ct_backend *b)
{
    if (s->cache)
        b->cost_s = cost_recorded;
    if (!s->exec.submit)
        return;
    s->nready = 0;
    b->slots = s->exec.slots;
    b->submit = exec_submit;
    b->complete = exec_complete;
}

int ct_session_exec_one(cutune_session *s, size_t i)
{
    s->nready = 0;
    int st = s->exec.submit(s->exec.user, i, s->best_ms);
    cutune_measurement m;
    if (!st)
        st = s->exec.wait(s->exec.user, &m);
    if (!st && m.entry != i)
        st = ct_fail(CUTUNE_EINVAL, "the executor measured entry %llu where %zu was asked",
                     (unsigned long long)m.entry, i);
    return st ? st : take(s, &m);
}
