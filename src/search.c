/* search.c — runs a search: numbers the valid configurations (the domain), asks the strategy
 * for one configuration at a time, measures it through the backend, and stops on budget,
 * time or exhaustion. Also the helpers strategies share and the strategy registry. */
#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double ct_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------------ domain ---- */

/* Where the values of a parameter sit on [0, 1]. Sizes act multiplicatively on a kernel
 * (twice the threads, half the blocks), so positive numbers spanning at least a factor of 4
 * are placed by their logarithm; other parameters by their position in the value list. */
static void place_values(const cutune_space *space, size_t p, double *coord)
{
    size_t values = cutune_space_param_size(space, p);
    double lo = INFINITY, hi = -INFINITY;
    int numeric = cutune_space_param_type(space, p) != CUTUNE_STRING;
    for (size_t v = 0; v < values && numeric; v++) {
        char buf[64];
        cutune_space_format_value(space, p, v, buf, sizeof buf);
        char *end;
        double x = strtod(buf, &end);
        numeric = *end == '\0' && x > 0 && isfinite(x);
        coord[v] = log(x);
        lo = coord[v] < lo ? coord[v] : lo;
        hi = coord[v] > hi ? coord[v] : hi;
    }
    if (numeric && hi - lo >= log(4.0)) {
        for (size_t v = 0; v < values; v++)
            coord[v] = (coord[v] - lo) / (hi - lo);
        return;
    }
    for (size_t v = 0; v < values; v++)
        coord[v] = (double)v / (double)(values - 1);
}

static int domain_dims(ct_domain *d)
{
    d->np = cutune_space_num_params(d->space);
    size_t np = d->np ? d->np : 1, total = 0;
    for (size_t p = 0; p < d->np; p++)
        total += cutune_space_param_size(d->space, p);
    d->dim_param = malloc(np * sizeof *d->dim_param);
    d->dim_size = malloc(np * sizeof *d->dim_size);
    d->coord = malloc(np * sizeof *d->coord);
    double *coords = malloc((total ? total : 1) * sizeof *coords);
    if (!d->dim_param || !d->dim_size || !d->coord || !coords) {
        free(coords);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    d->nd = 0;
    for (size_t p = 0; p < d->np; p++) {
        size_t values = cutune_space_param_size(d->space, p);
        if (values > 1) {
            d->dim_param[d->nd] = p;
            d->dim_size[d->nd] = values;
            d->coord[d->nd] = coords;
            place_values(d->space, p, coords);
            coords += values;
            d->nd++;
        }
    }
    if (d->nd == 0)
        free(coords);
    return CUTUNE_OK;
}

int ct_domain_from_cache(ct_domain *d, const cutune_cache *cache)
{
    memset(d, 0, sizeof *d);
    d->space = cutune_cache_space(cache);
    d->n = cutune_cache_size(cache);
    int st = domain_dims(d);
    if (st)
        return st;
    d->configs = cutune_cache_config(cache, 0); /* entries are contiguous, in id order */
    d->owned_ids = malloc(d->n * sizeof *d->owned_ids);
    if (!d->owned_ids)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->n; i++)
        d->owned_ids[i] = cutune_space_config_id(d->space, ct_domain_config(d, i));
    d->ids = d->owned_ids;
    return CUTUNE_OK;
}

typedef struct collect {
    ct_domain *d;
    size_t cap, limit;
} collect;

static int collect_config(const uint32_t *config, void *user)
{
    collect *c = user;
    ct_domain *d = c->d;
    if (d->n == c->limit)
        return ct_fail(CUTUNE_ETOOBIG, "more than %zu valid configurations", c->limit);
    if (d->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        uint32_t *configs = realloc(d->owned_configs, cap * d->np * sizeof *configs);
        if (configs)
            d->owned_configs = configs;
        uint64_t *ids = configs ? realloc(d->owned_ids, cap * sizeof *ids) : NULL;
        if (!ids)
            return ct_fail(CUTUNE_ENOMEM, "out of memory listing configurations");
        d->owned_ids = ids;
        c->cap = cap;
    }
    memcpy(d->owned_configs + d->n * d->np, config, d->np * sizeof *config);
    d->owned_ids[d->n++] = cutune_space_config_id(d->space, config);
    return 0;
}

int ct_domain_from_space(ct_domain *d, const cutune_space *space, size_t limit)
{
    memset(d, 0, sizeof *d);
    d->space = space;
    int st = domain_dims(d);
    collect c = {.d = d, .limit = limit};
    if (!st)
        st = cutune_space_enumerate(space, collect_config, &c);
    if (!st && d->n == 0)
        st = ct_fail(CUTUNE_EEMPTY, "the space has no valid configuration");
    d->configs = d->owned_configs;
    d->ids = d->owned_ids;
    return st;
}

void ct_domain_release(ct_domain *d)
{
    free(d->owned_configs);
    free(d->owned_ids);
    free(d->dim_param);
    free(d->dim_size);
    if (d->coord && d->nd > 0)
        free(d->coord[0]); /* one block holds every dimension's coordinates */
    free(d->coord);
    memset(d, 0, sizeof *d);
}

size_t ct_domain_find(const ct_domain *d, const uint32_t *config)
{
    size_t i = ct_find_id(d->ids, d->n, cutune_space_config_id(d->space, config));
    return i < d->n ? i : CT_NONE;
}

/* ----------------------------------------------------------------------------- helpers ---- */

void ct_shuffle(cutune_rng *rng, size_t *items, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)cutune_rng_below(rng, i), t = items[i - 1];
        items[i - 1] = items[j];
        items[j] = t;
    }
}

size_t ct_random_unvisited(ct_search *s)
{
    size_t n = s->dom->n, left = n - s->nvisited;
    if (left == 0)
        return CT_NONE;
    if (left * 2 >= n) { /* mostly unvisited: a few draws find one */
        for (;;) {
            size_t i = (size_t)cutune_rng_below(&s->rng, n);
            if (!s->visited[i])
                return i;
        }
    }
    size_t r = (size_t)cutune_rng_below(&s->rng, left);
    for (size_t i = 0; i < n; i++)
        if (!s->visited[i] && r-- == 0)
            return i;
    return CT_NONE;
}

size_t ct_nearest_unvisited(const ct_search *s, const double *point)
{
    const ct_domain *d = s->dom;
    size_t best = CT_NONE;
    double best_d2 = INFINITY;
    for (size_t i = 0; i < d->n; i++) {
        if (s->visited[i])
            continue;
        double d2 = 0;
        for (size_t j = 0; j < d->nd && d2 < best_d2; j++) {
            double diff = ct_domain_coord(d, i, j) - point[j];
            d2 += diff * diff;
        }
        if (d2 < best_d2) {
            best_d2 = d2;
            best = i;
        }
    }
    return best;
}

size_t ct_neighbours(const ct_search *s, size_t i, int any_value, size_t *out, size_t max)
{
    const ct_domain *d = s->dom;
    uint32_t cand[256];
    size_t found = 0;
    for (size_t j = 0; j < d->nd; j++) {
        size_t p = d->dim_param[j];
        uint32_t here = ct_domain_config(d, i)[p];
        uint32_t values = (uint32_t)cutune_space_param_size(d->space, p);
        for (uint32_t v = 0; v < values && found < max; v++) {
            if (v == here || (!any_value && v + 1 != here && v != here + 1))
                continue;
            memcpy(cand, ct_domain_config(d, i), d->np * sizeof *cand);
            cand[p] = v;
            size_t k = ct_domain_find(d, cand);
            if (k != CT_NONE)
                out[found++] = k;
        }
    }
    return found;
}

/* Design point i asks, on each dimension j, for a value in stratum perm[j][i] of m equal
 * strata of the value list. The configuration chosen is an unevaluated one that misses the
 * fewest of those strata, drawn at random among the equally good: snapping to the nearest
 * point instead would favour configurations on the edge of the valid region. */
/* Whether value index v of `values` lies in stratum k of m. */
static int stratum_hit(size_t v, size_t values, size_t k, size_t m)
{
    if (m <= values) /* each stratum holds one value or more */
        return v * m / values == k;
    return v == k * values / m; /* more strata than values: each maps to one value */
}

size_t ct_lhs_design(ct_search *s, size_t m, size_t *out)
{
    const ct_domain *d = s->dom;
    size_t nd = d->nd ? d->nd : 1;
    size_t *perm = malloc(m * nd * sizeof *perm);
    size_t placed = 0;
    if (!perm)
        return 0;
    for (size_t j = 0; j < nd; j++) {
        for (size_t i = 0; i < m; i++)
            perm[j * m + i] = i;
        ct_shuffle(&s->rng, perm + j * m, m);
    }
    for (size_t i = 0; i < m; i++) {
        size_t best = CT_NONE, best_miss = (size_t)-1, ties = 0;
        for (size_t c = 0; c < d->n; c++) {
            if (s->visited[c])
                continue;
            size_t miss = 0;
            for (size_t j = 0; j < d->nd && miss <= best_miss; j++) {
                size_t values = cutune_space_param_size(d->space, d->dim_param[j]);
                size_t v = ct_domain_config(d, c)[d->dim_param[j]];
                miss += !stratum_hit(v, values, perm[j * m + i], m);
            }
            if (miss < best_miss) {
                best_miss = miss;
                best = c;
                ties = 1;
            } else if (miss == best_miss && cutune_rng_below(&s->rng, ++ties) == 0) {
                best = c; /* reservoir sampling: uniform among the ties */
            }
        }
        if (best == CT_NONE)
            break;
        s->visited[best] = 2; /* taken by this design; undone below */
        out[placed++] = best;
    }
    for (size_t i = 0; i < placed; i++)
        s->visited[out[i]] = 0;
    free(perm);
    return placed;
}

/* ---------------------------------------------------------------------------- registry ---- */

static const ct_strategy *const strategies[] = {
    &ct_strategy_bo,     &ct_strategy_random,  &ct_strategy_lhs,
    &ct_strategy_anneal, &ct_strategy_genetic, &ct_strategy_brute,
};
#define NUM_STRATEGIES (sizeof strategies / sizeof *strategies)

const ct_strategy *ct_strategy_find(const char *name)
{
    for (size_t i = 0; name && i < NUM_STRATEGIES; i++)
        if (strcmp(strategies[i]->name, name) == 0)
            return strategies[i];
    return NULL;
}

const char *const *cutune_strategy_names(void)
{
    static const char *names[NUM_STRATEGIES + 1];
    for (size_t i = 0; i < NUM_STRATEGIES; i++)
        names[i] = strategies[i]->name;
    return names;
}

const char *cutune_strategy_summary(const char *name)
{
    const ct_strategy *s = ct_strategy_find(name);
    return s ? s->summary : NULL;
}

/* ------------------------------------------------------------------------- the search ---- */

/* The block size parameters of a space (Kernel Tuner's names), CT_NONE where absent. */
static void block_params(const cutune_space *space, size_t bp[3])
{
    static const char *const names[3] = {"block_size_x", "block_size_y", "block_size_z"};
    for (int k = 0; k < 3; k++)
        if (cutune_space_find_param(space, names[k], &bp[k]))
            bp[k] = CT_NONE;
}

/* Whether configuration i can launch on `arch`; if not, why, in `why`. Only what is known
 * before compiling: the threads of a block. */
static int launchable(const ct_domain *d, const size_t bp[3], const cutune_arch *arch, size_t i,
                      char *why, size_t size)
{
    long long threads = 1;
    for (int k = 0; k < 3; k++) {
        if (bp[k] == CT_NONE)
            continue;
        char buf[32], *end;
        cutune_space_format_value(d->space, bp[k], ct_domain_config(d, i)[bp[k]], buf,
                                  sizeof buf);
        long long v = strtoll(buf, &end, 10);
        if (*end || v < 1 || v > INT32_MAX) {
            snprintf(why, size, "pruned: block size %s is not a positive integer", buf);
            return 0;
        }
        threads = threads * v > INT32_MAX ? INT32_MAX : threads * v;
    }
    cutune_block_resources l = {.threads = (int)threads, .carveout = -1};
    cutune_occupancy occ;
    int st = cutune_occupancy_compute(arch, &l, &occ);
    if (!st && occ.blocks_per_sm > 0)
        return 1;
    snprintf(why, size, "pruned: %s", st ? cutune_last_error() : occ.reason);
    return 0;
}

int ct_search_run(const ct_domain *d, const cutune_search_options *o, const ct_backend *b,
                  cutune_evaluation_fn on_evaluation, void *user, cutune_search_result *result)
{
    if (!d || !o || !b || !b->measure || !result)
        return ct_fail(CUTUNE_EINVAL, "search: NULL argument");
    const char *name = o->strategy ? o->strategy : "bo";
    const ct_strategy *strat = ct_strategy_find(name);
    if (!strat)
        return ct_fail(CUTUNE_ENOTFOUND, "unknown strategy '%s'", name);
    if (o->budget == 0)
        return ct_fail(CUTUNE_EINVAL, "the evaluation budget is 0: nothing to do");
    if (!(o->time_limit_s >= 0))
        return ct_fail(CUTUNE_EINVAL, "the time limit is negative");
    if (o->arch && cutune_occupancy_blocks(o->arch, &(cutune_block_resources){.threads = 1}) < 0)
        return ct_wrap(CUTUNE_EINVAL, "search");
    memset(result, 0, sizeof *result);
    result->best_ms = NAN;
    result->best_entry = CT_NONE;
    size_t bp[3];
    if (o->arch)
        block_params(d->space, bp);

    ct_search s = {.dom = d, .budget = o->budget, .batch = o->batch};
    s.visited = calloc(d->n, 1);
    s.value = malloc(d->n * sizeof *s.value);
    cutune_rng_seed(&s.rng, o->seed);
    void *state = NULL;
    int st = s.visited && s.value ? strat->init(&state, &s)
                                  : ct_fail(CUTUNE_ENOMEM, "out of memory");
    double start = ct_now();
    size_t next_first = 0;
    while (!st && result->evaluations < o->budget) {
        if (s.nvisited == d->n) {
            result->stop = CUTUNE_STOP_EXHAUSTED;
            break;
        }
        if (o->time_limit_s > 0 && ct_now() - start >= o->time_limit_s) {
            result->stop = CUTUNE_STOP_TIME;
            break;
        }
        size_t i;
        double t0 = ct_now();
        while (next_first < b->nfirst &&
               (b->first[next_first] >= d->n || s.visited[b->first[next_first]]))
            next_first++;
        int warm = next_first < b->nfirst;
        if (warm)
            i = b->first[next_first++];
        else
            st = strat->suggest(state, &s, &i);
        double suggest_s = ct_now() - t0;
        if (st == CUTUNE_EEMPTY) {
            st = CUTUNE_OK;
            result->stop = CUTUNE_STOP_EXHAUSTED;
            break;
        }
        if (!st && (i >= d->n || s.visited[i]))
            st = ct_fail(CUTUNE_EINVAL, "strategy %s suggested configuration %zu, which %s", name,
                         i, i >= d->n ? "does not exist" : "was already evaluated");
        if (st)
            break;
        if (b->upcoming && (warm || strat->peek)) { /* the backend may prepare what is next */
            size_t ahead[16], n = 0, m = 0;
            while (warm && n < 16 && next_first + n < b->nfirst)
                ahead[n] = b->first[next_first + n], n++;
            n = warm ? n : strat->peek(state, &s, ahead, 16);
            for (size_t k = 0; k < n; k++)
                if (ahead[k] < d->n && ahead[k] != i && !s.visited[ahead[k]])
                    ahead[m++] = ahead[k];
            if (m)
                b->upcoming(b->self, ahead, m);
        }
        double t = NAN;
        const char *failure = NULL;
        char why[192];
        int pruned = o->arch && !launchable(d, bp, o->arch, i, why, sizeof why);
        if (pruned) {
            failure = why;
            result->pruned++;
            result->pruned_cost_s += b->cost_s ? b->cost_s(b->self, i) : NAN;
        } else {
            if ((st = b->measure(b->self, i, &t, &failure)))
                break;
            if (!(t >= 0) || isinf(t)) {
                t = NAN;
                failure = failure ? failure : "no time";
            }
            result->evaluations++;
        }
        s.visited[i] = 1;
        s.value[i] = t;
        s.nvisited++;
        if (!isnan(t) && !(t >= result->best_ms)) {
            result->best_ms = t;
            result->best_entry = i;
        }
        strat->observe(state, &s, i, t); /* a pruned one is a failure to the strategy */
        if (on_evaluation) {
            cutune_evaluation e = {.k = result->evaluations, .entry = i,
                                   .config = ct_domain_config(d, i), .time_ms = t,
                                   .failure = isnan(t) ? failure : NULL,
                                   .best_ms = result->best_ms, .suggest_s = suggest_s,
                                   .pruned = pruned};
            st = on_evaluation(&e, user);
        }
    }
    result->seconds = ct_now() - start;
    if (state)
        strat->release(state);
    free(s.visited);
    free(s.value);
    return st;
}

/* ------------------------------------------------------------------------- simulation ---- */

static int measure_cached(void *self, size_t index, double *time_ms, const char **failure)
{
    *time_ms = cutune_cache_time(self, index, failure);
    return CUTUNE_OK;
}

/* What Kernel Tuner spent on the entry when it recorded it. */
static double cost_cached(void *self, size_t index)
{
    return cutune_cache_cost(self, index) / 1e3;
}

int cutune_simulate(const cutune_cache *cache, const cutune_search_options *options,
                    cutune_evaluation_fn on_evaluation, void *user,
                    cutune_search_result *result)
{
    if (!cache || !options || !result)
        return ct_fail(CUTUNE_EINVAL, "cutune_simulate: NULL argument");
    ct_domain d;
    int st = ct_domain_from_cache(&d, cache);
    if (!st)
        st = ct_search_run(&d, options,
                           &(ct_backend){.measure = measure_cached, .cost_s = cost_cached,
                                         .self = (void *)cache},
                           on_evaluation, user, result);
    ct_domain_release(&d);
    return st;
}
