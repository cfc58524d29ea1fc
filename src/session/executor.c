/* executor.c — the driving side of distributed tuning: an executor measures elsewhere
 * (other processes, GPUs, hosts) while this session keeps the search, the records and the
 * store. It wraps the kind the session had (whose kernel, costs and compiling still serve)
 * and takes over measuring: configurations go out through submit, come back through wait,
 * several in flight at once. */
#include "session_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct executor {
    cutune_executor exec;
    const ct_session_ops *inner; /* the kind it wraps, and its context */
    void *inner_ctx;
    size_t ready[CT_MAX_IN_FLIGHT]; /* started but already known (restored): given back
                                       first */
    size_t nready;
} executor;

static int executor_evaluate(cutune_session *s, void *ctx, size_t i, int reference);
static void executor_run_begin(cutune_session *s, void *ctx, ct_backend *b,
                               cutune_search_options *o);

/* What the wrapped kind still does, with its own context. */
static double executor_cost_s(cutune_session *s, void *ctx, size_t i)
{
    executor *e = ctx;
    return e->inner->cost_s ? e->inner->cost_s(s, e->inner_ctx, i) : NAN;
}

static int executor_prepare(cutune_session *s, void *ctx, const size_t *entries, size_t n)
{
    executor *e = ctx;
    return e->inner->prepare ? e->inner->prepare(s, e->inner_ctx, entries, n) : CUTUNE_OK;
}

static int executor_precompile(cutune_session *s, void *ctx, int threads, uint64_t *compiled,
                               uint64_t *failed)
{
    executor *e = ctx;
    if (!e->inner->precompile)
        return ct_fail(CUTUNE_ENOTSUP, "a session over a custom objective compiles nothing");
    return e->inner->precompile(s, e->inner_ctx, threads, compiled, failed);
}

static int executor_explain(cutune_session *s, void *ctx, size_t entry, cutune_occupancy *occ,
                            cutune_occupancy_advice *advice)
{
    executor *e = ctx;
    if (!e->inner->explain)
        return ct_fail(CUTUNE_ENOTSUP, "a session over a custom objective has no kernel to "
                       "explain");
    return e->inner->explain(s, e->inner_ctx, entry, occ, advice);
}

static int executor_send_checks(cutune_session *s, void *ctx, const ct_check *checks, size_t n,
                                const void *answers, size_t bytes)
{
    executor *e = ctx;
    return e->inner->send_checks ? e->inner->send_checks(s, e->inner_ctx, checks, n, answers,
                                                         bytes)
                                 : CUTUNE_OK;
}

static void executor_free(void *ctx)
{
    executor *e = ctx;
    if (e->inner->free)
        e->inner->free(e->inner_ctx);
    free(e);
}

static const ct_session_ops executor_ops = {
    .evaluate = executor_evaluate,
    .cost_s = executor_cost_s,
    .run_begin = executor_run_begin,
    .prepare = executor_prepare,
    .precompile = executor_precompile,
    .explain = executor_explain,
    .send_checks = executor_send_checks,
    .free = executor_free,
};

int cutune_session_set_executor(cutune_session *s, const cutune_executor *x)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_set_executor: NULL session");
    if (x && (!x->submit || !x->wait || x->slots < 1 || x->slots > CT_MAX_IN_FLIGHT))
        return ct_fail(CUTUNE_EINVAL, "an executor needs submit, wait and 1 to %d slots",
                       CT_MAX_IN_FLIGHT);
    if (x && s->local_only)
        return ct_fail(CUTUNE_ENOTSUP, "a custom objective is measured in this process");
    executor *e = s->ops == &executor_ops ? s->ctx : NULL;
    if (!x) { /* measured by its own kind again */
        if (e) {
            s->ops = e->inner;
            s->ctx = e->inner_ctx;
            s->measured_elsewhere = 0;
            free(e);
        }
        return CUTUNE_OK;
    }
    if (x->device && s->kernel) {
        int st = cutune_arch_from_device(x->device, &s->arch);
        if (st)
            return st;
        s->device = *x->device; /* the profile store's key */
    }
    if (s->kernel && !s->has_device && !x->device)
        return ct_fail(CUTUNE_EINVAL, "a session without a device of its own needs to be told "
                       "the executor's");
    if (!e) {
        if (!(e = calloc(1, sizeof *e)))
            return ct_fail(CUTUNE_ENOMEM, "out of memory");
        e->inner = s->ops;
        e->inner_ctx = s->ctx;
        s->ops = &executor_ops;
        s->ctx = e;
    }
    e->exec = *x;
    s->measured_elsewhere = 1;
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
    ct_session_add_stats(&s->stats, &m->stats, 1);
    if (isnan(m->time_ms) || !m->n) {
        char failure[sizeof m->failure + 1], message[sizeof m->message + 1];
        snprintf(failure, sizeof failure, "%.*s", (int)sizeof m->failure, m->failure);
        snprintf(message, sizeof message, "%.*s", (int)sizeof m->message, m->message);
        ct_session_fail_record(r, ct_session_failure_literal(failure), message);
        return CUTUNE_OK;
    }
    int st = ct_session_keep_times(s, r, m->times_ms, m->n);
    r->time_ms = m->time_ms; /* as measured there (the same mean, to the last bit) */
    r->median_ms = m->median_ms;
    r->std_ms = m->std_ms;
    return st;
}

/* b->self is the session, whose context is the executor's. */
static int exec_submit(void *self, size_t i)
{
    cutune_session *s = self;
    executor *e = s->ctx;
    if (s->rec[i].done) { /* measured before (resume): back at once */
        if (e->nready == sizeof e->ready / sizeof *e->ready)
            return ct_fail(CUTUNE_ETOOBIG, "more than %zu known configurations in flight",
                           e->nready);
        e->ready[e->nready++] = i;
        return CUTUNE_OK;
    }
    return e->exec.submit(e->exec.user, i, s->best_ms);
}

static int exec_complete(void *self, size_t *i, double *time_ms, const char **failure)
{
    cutune_session *s = self;
    executor *e = s->ctx;
    if (e->nready) {
        *i = e->ready[0];
        memmove(e->ready, e->ready + 1, --e->nready * sizeof *e->ready);
    } else {
        cutune_measurement m;
        int st = e->exec.wait(e->exec.user, &m);
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

static void executor_run_begin(cutune_session *s, void *ctx, ct_backend *b,
                               cutune_search_options *o)
{
    (void)s, (void)o;
    executor *e = ctx;
    e->nready = 0;
    b->slots = e->exec.slots;
    b->submit = exec_submit;
    b->complete = exec_complete;
}

/* One configuration alone (the default, before the search). */
static int executor_evaluate(cutune_session *s, void *ctx, size_t i, int reference)
{
    (void)reference; /* the measuring sessions take their own */
    executor *e = ctx;
    e->nready = 0;
    int st = e->exec.submit(e->exec.user, i, s->best_ms);
    cutune_measurement m;
    if (!st)
        st = e->exec.wait(e->exec.user, &m);
    if (!st && m.entry != i)
        st = ct_fail(CUTUNE_EINVAL, "the executor measured entry %llu where %zu was asked",
                     (unsigned long long)m.entry, i);
    return st ? st : take(s, &m);
}
