/* gpu.h — what the GPU kind of session (gpu.c) and its compiling (gpu_compile.c) share. */
#ifndef CUTUNE_SESSION_GPU_H
#define CUTUNE_SESSION_GPU_H

#include "session_impl.h"
#include "worker.h"

typedef struct ct_ahead ct_ahead;

/* The GPU kind's context. */
typedef struct gpu {
    ct_worker *worker; /* owns the device; NULL with device -1 */
    ct_ahead *ahead;   /* compiling ahead, while a run or cutune_session_prepare wants it */
} gpu;

/* gpu_compile.c: configuration i compiled through the binary cache, its time into
 * r->compile_ms. */
int ct_gpu_compile(cutune_session *s, size_t i, cutune_binary **bin, record *r);
/* Threads that compile, into the binary cache, the configurations expected
 * next while the worker measures. _start: NULL when none could start or there is no disk
 * cache to compile into; _upcoming replaces what was queued and not begun; _claim, before
 * compiling i itself, waits for a thread at it or takes it off the queue; _stop joins them
 * (NULL: nothing) and adds to s->stats the helpers that died. Each takes NULL as "no
 * compiling ahead". */
ct_ahead *ct_ahead_start(cutune_session *s);
void ct_ahead_upcoming(ct_ahead *a, const size_t *idx, size_t n);
int ct_ahead_claim(ct_ahead *a, size_t i);
void ct_ahead_stop(ct_ahead *a);

/* gpu_helpers.c: a process forked to run `job` (on `ctx`, as it was at the fork) for one
 * index after another, so that compilations go side by side (NULL: none could be started).
 * _run gives 0 and the job's status once it is done, -1 when the helper is gone (it died);
 * _stop ends it at once. */
typedef struct ct_helper ct_helper;
typedef int (*ct_helper_job)(void *ctx, size_t i);
ct_helper *ct_helper_start(ct_helper_job job, void *ctx);
int ct_helper_run(ct_helper *h, size_t i, int *status);
void ct_helper_stop(ct_helper *h);
/* cutune_session_precompile: every configuration, on `threads` threads. */
int ct_gpu_precompile(cutune_session *s, void *ctx, int threads, uint64_t *compiled,
                      uint64_t *failed);

#endif
