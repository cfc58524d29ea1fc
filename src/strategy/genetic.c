/* genetic.c — a genetic algorithm: a population of configurations, tournament selection,
 * uniform crossover of parameter values, mutation to an adjacent or random value, and the
 * two best kept each generation. A child already evaluated costs nothing: its time is known. */
#include "../search.h"

#include <stdlib.h>
#include <string.h>

#define POP_MAX 20
#define ELITE 2

typedef struct genetic {
    size_t pop[POP_MAX], npop;  /* the current generation, all evaluated */
    size_t next[POP_MAX], nnext; /* the generation being built */
    size_t queue[POP_MAX], nqueue, qpos; /* its members still to evaluate */
} genetic;

static int genetic_init(void **state, ct_search *s)
{
    (void)s;
    *state = calloc(1, sizeof(genetic));
    return *state ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
}

/* lower is fitter; failed configurations are the least fit */
static double cost(const ct_search *s, size_t i)
{
    return isnan(s->value[i]) ? INFINITY : s->value[i];
}

static size_t tournament(const genetic *g, ct_search *s)
{
    size_t a = g->pop[cutune_rng_below(&s->rng, g->npop)];
    size_t b = g->pop[cutune_rng_below(&s->rng, g->npop)];
    return cost(s, a) <= cost(s, b) ? a : b;
}

static size_t make_child(const genetic *g, ct_search *s)
{
    const ct_domain *d = s->dom;
    uint32_t child[CUTUNE_MAX_PARAMS];
    for (int attempt = 0; attempt < 20; attempt++) {
        const uint32_t *ma = ct_domain_config(d, tournament(g, s));
        const uint32_t *pa = ct_domain_config(d, tournament(g, s));
        memcpy(child, ma, d->np * sizeof *child);
        for (size_t j = 0; j < d->nd; j++) {
            size_t p = d->dim_param[j];
            if (cutune_rng_next(&s->rng) & 1)
                child[p] = pa[p];
            if (ct_uniform(&s->rng) < 1.0 / (double)d->nd) { /* one mutation on average */
                uint32_t values = (uint32_t)cutune_space_param_size(d->space, p);
                if (cutune_rng_next(&s->rng) & 1)
                    child[p] = (uint32_t)cutune_rng_below(&s->rng, values);
                else if (child[p] + 1 < values && (child[p] == 0 || (cutune_rng_next(&s->rng) & 1)))
                    child[p]++;
                else if (child[p] > 0)
                    child[p]--;
            }
        }
        size_t k = ct_domain_find(d, child);
        if (k != CT_NONE)
            return k;
    }
    return ct_random_unvisited(s); /* parents too far apart in a constrained space */
}

static int in_list(const size_t *list, size_t n, size_t x)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == x)
            return 1;
    return 0;
}


/* Builds the next generation: the elite of the current one, then children. */
static void breed(genetic *g, ct_search *s)
{
    g->nnext = g->nqueue = g->qpos = 0;
    size_t order[POP_MAX];
    memcpy(order, g->pop, g->npop * sizeof *order);
    for (size_t i = 1; i < g->npop; i++) /* insertion sort by cost: tiny population */
        for (size_t j = i; j > 0 && cost(s, order[j]) < cost(s, order[j - 1]); j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t i = 0; i < ELITE && i < g->npop; i++)
        g->next[g->nnext++] = order[i];
    size_t target = g->npop, tries = 0;
    while (g->nnext < target && tries++ < 10 * POP_MAX) {
        size_t c = make_child(g, s);
        if (c == CT_NONE)
            break;
        if (in_list(g->next, g->nnext, c))
            continue;
        g->next[g->nnext++] = c;
        if (!s->visited[c])
            g->queue[g->nqueue++] = c;
    }
    if (g->nqueue == 0) { /* nothing new was bred: bring in a stranger so the search moves */
        size_t c = ct_random_unvisited(s);
        if (c != CT_NONE) {
            if (g->nnext == target)
                g->nnext--;
            g->next[g->nnext++] = c;
            g->queue[g->nqueue++] = c;
        }
    }
}

static int genetic_suggest(void *state, ct_search *s, size_t *index)
{
    genetic *g = state;
    for (;;) {
        while (g->qpos < g->nqueue) {
            size_t i = g->queue[g->qpos++];
            if (!s->visited[i]) {
                *index = i;
                return CUTUNE_OK;
            }
        }
        if (g->npop == 0 && g->nnext == 0) { /* the first generation: random */
            size_t size = s->dom->n < POP_MAX ? s->dom->n : POP_MAX;
            for (size_t k = 0; k < 4 * size && g->nnext < size; k++) {
                size_t c = ct_random_unvisited(s);
                if (c == CT_NONE)
                    break;
                if (!in_list(g->next, g->nnext, c))
                    g->next[g->nnext++] = g->queue[g->nqueue++] = c;
            }
            if (g->nqueue == 0)
                return CUTUNE_EEMPTY;
            continue;
        }
        /* the generation is complete once every member has its time: it becomes the
         * population, and breeds */
        for (size_t k = 0; k < g->nnext; k++)
            if (s->visited[g->next[k]] == CT_BUSY)
                return CT_WAIT;
        memcpy(g->pop, g->next, g->nnext * sizeof *g->pop);
        g->npop = g->nnext;
        breed(g, s);
        if (g->nqueue == 0)
            return CUTUNE_EEMPTY;
    }
}

static void genetic_observe(void *state, ct_search *s, size_t index, double time_ms)
{
    (void)state, (void)s, (void)index, (void)time_ms; /* times are read from s->value */
}

const ct_strategy ct_strategy_genetic = {"genetic", "genetic algorithm (tournament, uniform "
                                         "crossover, mutation, elitism)",
                                         genetic_init, genetic_suggest, genetic_observe, free,
                                         NULL};
