/* pipeline_tune.c — `cutune pipeline --tune`: chunk size and depth tuned with cutune's own
 * engine (bo, 15 evaluations) over the pipeline's measured time, the default (8 MiB, 3)
 * measured first and again beside the best. */
#include "pipeline_gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct tune_ctx {
    pipe_bench *b;
    const cutune_space *space;
    uint32_t best[2];
    double best_ms;
} tune_ctx;

static int tune_objective(const uint32_t *config, void *user, double *value,
                          const char **failure)
{
    tune_ctx *t = user;
    char chunk[32], depth[32];
    cutune_space_format_value(t->space, 0, config[0], chunk, sizeof chunk);
    cutune_space_format_value(t->space, 1, config[1], depth, sizeof depth);
    double ms;
    int st = pipe_run_ms(t->b, (size_t)atoi(chunk) << 20, atoi(depth), 2, &ms);
    if (st) {
        *value = NAN;
        *failure = cutune_last_error();
        return CUTUNE_OK;
    }
    *value = ms;
    return CUTUNE_OK;
}

static int note_best(const cutune_evaluation *e, void *user)
{
    tune_ctx *t = user;
    if (e->time_ms < t->best_ms) {
        t->best_ms = e->time_ms;
        memcpy(t->best, e->config, sizeof t->best);
    }
    return 0;
}

int pipe_tune(pipe_bench *b, size_t *chunk, int *depth, double *default_ms, double *best_ms)
{
    cutune_space *s;
    int st = cutune_space_new(&s);
    static const int64_t chunks[] = {1, 2, 4, 8, 16, 32, 64}, depths[] = {2, 3, 4, 6, 8};
    if (!st)
        st = cutune_space_add_int(s, "chunk_mb", chunks, 7);
    if (!st)
        st = cutune_space_add_int(s, "depth", depths, 5);
    uint32_t dflt[2] = {3, 1}; /* 8 MiB, 3 */
    if (!st)
        st = cutune_space_set_default(s, dflt);
    tune_ctx t = {b, s, {3, 1}, INFINITY};
    cutune_search_options o = {.strategy = "bo", .budget = 15, .seed = 1};
    cutune_search_result r;
    if (!st)
        st = cutune_optimize(s, &o, tune_objective, &t, note_best, &t, &r);
    if (!st) {
        if (!(t.best_ms <= r.best_ms)) { /* the default, measured first, stayed the best */
            memcpy(t.best, dflt, sizeof dflt);
            t.best_ms = r.best_ms;
        }
        char buf[32];
        cutune_space_format_value(s, 0, t.best[0], buf, sizeof buf);
        *chunk = (size_t)atoi(buf) << 20;
        cutune_space_format_value(s, 1, t.best[1], buf, sizeof buf);
        *depth = atoi(buf);
        *best_ms = t.best_ms;
        double v;
        const char *why;
        tune_objective(dflt, &t, &v, &why); /* the default again, beside the best */
        *default_ms = v;
    }
    cutune_space_free(s);
    return st;
}
