/* search.h — the inside of a search: the domain (the valid configurations, numbered), the
 * state strategies share (what was evaluated and how fast), helpers they all use, and the
 * strategy interface. Strategies never see the backend: simulation is exact by design. */
#ifndef CUTUNE_SEARCH_H
#define CUTUNE_SEARCH_H

#include "internal.h"

#include <math.h>

#define CT_NONE ((size_t)-1)

/* The valid configurations, sorted by id; index i is configuration i of the search. */
typedef struct ct_domain {
    const cutune_space *space;
    size_t n, np;
    const uint32_t *configs; /* n * np value indices */
    const uint64_t *ids;
    uint32_t *owned_configs; /* set when the domain made its own arrays */
    uint64_t *owned_ids;
    size_t nd;         /* dimensions: parameters with more than one value */
    size_t *dim_param; /* parameter of each dimension */
    size_t *dim_size;  /* its number of values */
    double **coord;    /* coord[j][v]: position in [0, 1] of value v of dimension j */
} ct_domain;

int ct_domain_from_cache(ct_domain *d, const cutune_cache *cache);
int ct_domain_from_space(ct_domain *d, const cutune_space *space, size_t limit);
void ct_domain_release(ct_domain *d);
/* Index of a configuration, or CT_NONE when it is not in the domain. */
size_t ct_domain_find(const ct_domain *d, const uint32_t *config);
static inline const uint32_t *ct_domain_config(const ct_domain *d, size_t i)
{
    return d->configs + i * d->np;
}
/* Coordinate of configuration i on dimension j, in [0, 1]. */
static inline double ct_domain_coord(const ct_domain *d, size_t i, size_t j)
{
    return d->coord[j][d->configs[i * d->np + d->dim_param[j]]];
}

/* visited[i] of a configuration being evaluated: suggested, its time not known yet. */
#define CT_BUSY 3
/* What suggest returns when it needs a result still in flight before it can choose (a
 * genetic algorithm between generations); never while nothing is in flight. */
#define CT_WAIT (-1)

/* What every strategy may read: evaluated configurations and their times (NaN: failed).
 * Configurations in flight count as visited (visited[i] == CT_BUSY, value[i] unknown). */
typedef struct ct_search {
    const ct_domain *dom;
    uint8_t *visited;
    double *value;
    size_t nvisited;
    uint64_t budget;
    unsigned batch; /* configurations a model-based strategy may plan per update */
    cutune_rng rng;
    const size_t *busy; /* the configurations in flight, nbusy of them */
    size_t nbusy;
    /* How uncertain each measured time is: the half-width of its median's 95% interval over
     * the median (0: exact, as a recorded space's). NULL when the backend does not say. */
    double *spread;
} ct_search;

/* A random configuration not evaluated yet, or CT_NONE. */
size_t ct_random_unvisited(ct_search *s);
/* Configurations one parameter away from i (adjacent values, or any value with `any_value`),
 * in the domain; up to max of them in out; returns how many. */
size_t ct_neighbours(const ct_search *s, size_t i, int any_value, size_t *out, size_t max);
/* A Latin hypercube of m points, each moved to its nearest unevaluated configuration;
 * returns how many distinct configurations it placed in out. */
size_t ct_lhs_design(ct_search *s, size_t m, size_t *out);
/* Fisher-Yates shuffle. */
void ct_shuffle(cutune_rng *rng, size_t *items, size_t n);
static inline double ct_uniform(cutune_rng *rng)
{
    return (cutune_rng_next(rng) >> 11) * 0x1.0p-53;
}

typedef struct ct_strategy {
    const char *name;
    const char *summary;
    int (*init)(void **state, ct_search *s);
    /* CUTUNE_OK with an unevaluated configuration in *index, CUTUNE_EEMPTY when done, or
     * CT_WAIT (only while s->nbusy > 0) */
    int (*suggest)(void *state, ct_search *s, size_t *index);
    /* time in ms, NaN for a failed configuration; s->visited/value are already updated */
    void (*observe)(void *state, ct_search *s, size_t index, double time_ms);
    void (*release)(void *state);
    /* Optional: configurations it expects to suggest soon, without changing its state or
     * the search's (a backend may compile them ahead); returns how many it put in out. */
    size_t (*peek)(void *state, const ct_search *s, size_t *out, size_t max);
} ct_strategy;

const ct_strategy *ct_strategy_find(const char *name);
extern const ct_strategy ct_strategy_brute, ct_strategy_random, ct_strategy_lhs,
    ct_strategy_anneal, ct_strategy_genetic, ct_strategy_bo;

/* What a search measures with: `measure` gives the time of configuration i (NaN + failure
 * text when it failed); `cost_s`, optional, what evaluating it would cost in seconds (for
 * the report of what pruning saved). */
typedef struct ct_backend {
    int (*measure)(void *self, size_t index, double *time_ms, const char **failure);
    double (*cost_s)(void *self, size_t index);
    void *self;
    /* Optional: the spread (ct_search.spread) of configuration i once it is measured. */
    double (*spread)(void *self, size_t index);
    /* Optional: the configurations the strategy expects to ask for after this one. */
    void (*upcoming)(void *self, const size_t *indices, size_t n);
    /* Optional: configurations to evaluate before the strategy chooses (a warm start from
     * what was fast elsewhere); they count as evaluations and the strategy observes them. */
    const size_t *first;
    size_t nfirst;
    /* Optional, for several evaluations in flight at once (distributed tuning): up to
     * `slots` configurations are submitted before one completes, and `complete` gives back
     * any one of them, as it finishes. Without them, `measure` takes one at a time. */
    unsigned slots;
    int (*submit)(void *self, size_t index);
    int (*complete)(void *self, size_t *index, double *time_ms, const char **failure);
} ct_backend;

/* Runs a search over a domain. Evaluations complete in any order; the strategy suggests
 * while others are in flight (those count against the budget). With options->arch, a configuration whose block cannot run on
 * that architecture (block_size_x * block_size_y * block_size_z threads over its limit) is
 * pruned instead of measured: the strategy sees it fail, and it costs no evaluation. */
int ct_search_run(const ct_domain *d, const cutune_search_options *o, const ct_backend *b,
                  cutune_evaluation_fn on_evaluation, void *user, cutune_search_result *result);


#endif
