/* anneal.c — simulated annealing over neighbouring configurations (one parameter one step
 * away, or any value of one parameter when those are used up). Worse moves are accepted with
 * probability exp(-relative slowdown / T), T cooling geometrically over the budget; when
 * nothing new is near, it restarts from a random configuration. */
#include "../search.h"

#include <stdlib.h>

#define T_START 0.5
#define T_END 0.005

typedef struct anneal {
    size_t current; /* CT_NONE before the first success */
    size_t *near;   /* scratch for neighbours */
    size_t near_cap;
} anneal;

static int anneal_init(void **state, ct_search *s)
{
    anneal *a = calloc(1, sizeof *a);
    size_t cap = 0;
    for (size_t j = 0; j < s->dom->nd; j++)
        cap += cutune_space_param_size(s->dom->space, s->dom->dim_param[j]);
    if (a && !(a->near = malloc((cap ? cap : 1) * sizeof *a->near))) {
        free(a);
        a = NULL;
    }
    if (!a)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    a->near_cap = cap ? cap : 1;
    a->current = CT_NONE;
    *state = a;
    return CUTUNE_OK;
}

/* Unevaluated neighbours of the current configuration, adjacent ones first. */
static size_t fresh_neighbours(anneal *a, ct_search *s)
{
    for (int any = 0; any <= 1; any++) {
        size_t n = ct_neighbours(s, a->current, any, a->near, a->near_cap), fresh = 0;
        for (size_t k = 0; k < n; k++)
            if (!s->visited[a->near[k]])
                a->near[fresh++] = a->near[k];
        if (fresh)
            return fresh;
    }
    return 0;
}

static int anneal_suggest(void *state, ct_search *s, size_t *index)
{
    anneal *a = state;
    size_t fresh = a->current == CT_NONE ? 0 : fresh_neighbours(a, s);
    *index = fresh ? a->near[cutune_rng_below(&s->rng, fresh)] : ct_random_unvisited(s);
    if (!fresh)
        a->current = CT_NONE; /* a restart: whatever comes next becomes the current point */
    return *index == CT_NONE ? CUTUNE_EEMPTY : CUTUNE_OK;
}

static void anneal_observe(void *state, ct_search *s, size_t index, double time_ms)
{
    anneal *a = state;
    if (isnan(time_ms)) /* a failed configuration is never a place to stand */
        return;
    if (a->current == CT_NONE) {
        a->current = index;
        return;
    }
    double now = s->value[a->current];
    double progress = s->budget > 1 ? (double)s->nvisited / (double)s->budget : 1.0;
    double temperature = T_START * pow(T_END / T_START, progress < 1 ? progress : 1);
    double slowdown = (time_ms - now) / now;
    if (slowdown <= 0 || ct_uniform(&s->rng) < exp(-slowdown / temperature))
        a->current = index;
}

static void anneal_release(void *state)
{
    anneal *a = state;
    free(a->near);
    free(a);
}

const ct_strategy ct_strategy_anneal = {"anneal", "simulated annealing over neighbours",
                                        anneal_init, anneal_suggest, anneal_observe,
                                        anneal_release, NULL};
