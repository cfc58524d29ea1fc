/* gpu_compile.c — compiling a GPU session's configurations: one, when it is measured or
 * explained; the whole space before a brute-force run (cutune_session_precompile); and,
 * during a run, the configurations expected next, by CPU threads that each hand the work
 * to a helper process (gpu_helpers.c). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "gpu.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ one ---- */

int ct_gpu_compile(cutune_session *s, size_t i, cutune_binary **bin, record *r)
{
    ct_kernel_source ks = {.space = s->space, .kernel = s->kernel, .source = s->source,
                           .source_name = s->source_name, .arch = s->arch.name,
                           .cache_dir = s->opt.cache_dir};
    int64_t problem[3];
    cutune_kernel_problem(s->kernel, problem);
    double t0 = ct_now() * 1e3;
    int st = ct_compile_config(&ks, ct_domain_config(&s->dom, i), problem, bin, NULL);
    r->compile_ms = ct_now() * 1e3 - t0;
    return st;
}

/* Configuration i into the binary cache (ahead of its measurement, or a helper's job). */
static int compile_into_cache(cutune_session *s, size_t i)
{
    record scratch;
    cutune_binary *bin = NULL;
    int st = ct_gpu_compile(s, i, &bin, &scratch);
    cutune_binary_free(bin);
    return st;
}

/* The same, as a helper process's job (the index checked: it came over a socket). */
static int helper_job(void *session, size_t i)
{
    cutune_session *s = session;
    return i < s->dom.n ? compile_into_cache(s, i) : CUTUNE_EINVAL;
}

/* ------------------------------------------------------------------ compiling ahead ---- */

typedef struct sweep {
    cutune_session *s;
    size_t next; /* taken with an atomic add */
    uint64_t compiled, failed;
    int status;
} sweep;

static void *compile_ahead(void *arg)
{
    sweep *a = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&a->next, 1, __ATOMIC_RELAXED);
        if (i >= a->s->dom.n || __atomic_load_n(&a->status, __ATOMIC_RELAXED))
            return NULL;
        int st = compile_into_cache(a->s, i);
        if (st == CUTUNE_ECOMPILE)
            __atomic_fetch_add(&a->failed, 1, __ATOMIC_RELAXED);
        else if (st)
            __atomic_store_n(&a->status, st, __ATOMIC_RELAXED);
        else
            __atomic_fetch_add(&a->compiled, 1, __ATOMIC_RELAXED);
    }
}

int ct_gpu_precompile(cutune_session *s, void *ctx, int threads, uint64_t *compiled,
                      uint64_t *failed)
{
    (void)ctx;
    if (threads < 1)
        threads = 1;
    if (threads > CT_MAX_AHEAD_THREADS)
        threads = CT_MAX_AHEAD_THREADS;
    sweep a = {.s = s};
    pthread_t t[CT_MAX_AHEAD_THREADS];
    int started = 0;
    for (; started < threads; started++)
        if (pthread_create(&t[started], NULL, compile_ahead, &a) != 0)
            break;
    if (!started)
        compile_ahead(&a);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    if (compiled)
        *compiled = a.compiled;
    if (failed)
        *failed = a.failed;
    return a.status ? ct_fail(a.status, "compiling ahead failed") : CUTUNE_OK;
}

/* -------------------------------------------------- compiling ahead during a search ---- */

/* While the worker measures one configuration, CPU threads compile the ones the strategy
 * expects to ask for next into the binary cache. */
enum { AHEAD_IDLE = 0, AHEAD_QUEUED, AHEAD_BUSY, AHEAD_DONE };
#define AHEAD_MAX_THREADS 16

struct ct_ahead {
    cutune_session *s;
    pthread_t threads[AHEAD_MAX_THREADS];
    int nthreads, stop;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    size_t queue[CT_MAX_ANNOUNCED], nq;
    uint8_t *state; /* per configuration */
    ct_helper *helpers[AHEAD_MAX_THREADS]; /* a process per thread (NULL: in-process) */
    int next_helper;                      /* the next thread's */
    uint64_t helpers_lost;                /* helpers that died: their threads went on here */
};

static void *ahead_thread(void *arg)
{
    ct_ahead *p = arg;
    pthread_mutex_lock(&p->mu);
    ct_helper **helper = &p->helpers[p->next_helper++];
    for (;;) {
        while (!p->nq && !p->stop)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        size_t i = p->queue[0];
        memmove(p->queue, p->queue + 1, --p->nq * sizeof *p->queue);
        p->state[i] = AHEAD_BUSY;
        pthread_mutex_unlock(&p->mu);
        int st, lost = 0;
        if (*helper && ct_helper_run(*helper, i, &st)) { /* it died: compile here */
            ct_helper_stop(*helper);
            *helper = NULL;
            lost = 1;
        }
        if (!*helper)
            compile_into_cache(p->s, i); /* a failure shows again when it is asked */
        pthread_mutex_lock(&p->mu);
        p->helpers_lost += (uint64_t)lost;
        p->state[i] = AHEAD_DONE;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

void ct_ahead_upcoming(ct_ahead *p, const size_t *idx, size_t n)
{
    if (!p)
        return;
    const cutune_session *s = p->s;
    pthread_mutex_lock(&p->mu);
    for (size_t k = 0; k < p->nq; k++) /* plans change: what was not started goes */
        p->state[p->queue[k]] = AHEAD_IDLE;
    p->nq = 0;
    for (size_t k = 0; k < n && p->nq < CT_MAX_ANNOUNCED; k++)
        if (p->state[idx[k]] == AHEAD_IDLE && !s->rec[idx[k]].done) {
            p->state[idx[k]] = AHEAD_QUEUED;
            p->queue[p->nq++] = idx[k];
        }
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
}

/* Before compiling i itself: wait if a thread is at it, take it off the queue if not yet.
 * 1 when it waited. */
int ct_ahead_claim(ct_ahead *p, size_t i)
{
    if (!p)
        return 0;
    pthread_mutex_lock(&p->mu);
    int waited = p->state[i] == AHEAD_BUSY;
    while (p->state[i] == AHEAD_BUSY)
        pthread_cond_wait(&p->done, &p->mu);
    if (p->state[i] == AHEAD_QUEUED) {
        for (size_t k = 0; k < p->nq; k++)
            if (p->queue[k] == i) {
                memmove(p->queue + k, p->queue + k + 1, (p->nq - k - 1) * sizeof *p->queue);
                p->nq--;
                break;
            }
        p->state[i] = AHEAD_IDLE;
    }
    pthread_mutex_unlock(&p->mu);
    return waited;
}

void ct_ahead_stop(ct_ahead *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int t = 0; t < p->nthreads; t++)
        pthread_join(p->threads[t], NULL);
    for (int t = 0; t < AHEAD_MAX_THREADS; t++)
        ct_helper_stop(p->helpers[t]);
    p->s->stats.compile_helpers_lost += p->helpers_lost;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p->state);
    free(p);
}

/* The session's compile_threads, else one fewer than the CPUs this process may run on (its
 * affinity: taskset, or mpirun's binding), which measuring needs one of. */
static int ahead_threads(const cutune_session *s)
{
    if (s->opt.compile_threads)
        return s->opt.compile_threads;
    cpu_set_t set;
    long cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                           : sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 2 ? (int)cpus - 1 : 1;
}

ct_ahead *ct_ahead_start(cutune_session *s)
{
    int threads = ahead_threads(s);
    if (threads <= 0 || (s->opt.cache_dir && !s->opt.cache_dir[0]))
        return NULL; /* without the disk cache there is nowhere to compile ahead to */
    ct_ahead *p = calloc(1, sizeof *p);
    if (!p || !(p->state = calloc(s->dom.n, 1))) {
        free(p);
        return NULL;
    }
    p->s = s;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    /* helpers first, forked while this process has no compile threads of its own; with one
     * thread a process is no faster than compiling here */
    for (int t = 0; threads > 1 && !s->opt.compile_in_threads && t < threads &&
                    t < AHEAD_MAX_THREADS; t++)
        p->helpers[t] = ct_helper_start(helper_job, s);
    for (int t = 0; t < threads && t < AHEAD_MAX_THREADS; t++)
        if (pthread_create(&p->threads[p->nthreads], NULL, ahead_thread, p) == 0)
            p->nthreads++;
    if (!p->nthreads) {
        ct_ahead_stop(p);
        return NULL;
    }
    return p;
}
