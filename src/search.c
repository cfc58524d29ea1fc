/* search.c — runs a search: numbers the valid configurations (the domain), asks the strategy
 * for one configuration at a time, measures it through the backend, and stops on budget,
 * time or exhaustion. Also the helpers strategies share and the strategy registry. */
#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Kernel Tuner's strategy names (kernel_tuner/interface.py's strategy_map): the first five are
 * cutune's strategies under another name; for the others, the strategy of cutune nearest in
 * kind, and what theirs is. */
typedef struct kt_strategy {
    const char *name, *cutune;
    const char *what; /* NULL: the same strategy */
} kt_strategy;
static const kt_strategy kt_strategies[] = {
    {"bayes_opt", "bo", NULL},
    {"random_sample", "random", NULL},
    {"genetic_algorithm", "genetic", NULL},
    {"simulated_annealing", "anneal", NULL},
    {"brute_force", "brute", NULL},
    {"diff_evo", "genetic", "differential evolution, a population-based search"},
    {"pso", "genetic", "particle swarm optimisation, a population-based search"},
    {"firefly_algorithm", "genetic", "the firefly algorithm, a population-based search"},
    {"adaptive_tabu_greywolf", "genetic", "a grey wolf optimiser, a population-based search"},
    {"nsga2", "genetic", "NSGA-II, a multi-objective genetic algorithm"},
    {"nsga3", "genetic", "NSGA-III, a multi-objective genetic algorithm"},
    {"dual_annealing", "anneal", "dual annealing, simulated annealing with local search"},
    {"basinhopping", "anneal", "basin hopping, local minimisation with random jumps"},
    {"minimize", "anneal", "a local minimiser (scipy.optimize.minimize)"},
    {"mls", "anneal", "multi-start local search"},
    {"greedy_mls", "anneal", "greedy multi-start local search"},
    {"ordered_greedy_mls", "anneal", "ordered greedy multi-start local search"},
    {"greedy_ils", "anneal", "greedy iterated local search"},
    {"hybrid_vndx", "anneal", "variable neighbourhood descent, a local search"},
    {"skopt", "bo", "Bayesian optimisation through scikit-optimize"},
    {"pyatf_strategies", "random", "pyATF's search techniques"},
};
#define NUM_KT (sizeof kt_strategies / sizeof *kt_strategies)

static const ct_strategy *find_own(const char *name)
{
    for (size_t i = 0; name && i < NUM_STRATEGIES; i++)
        if (strcmp(strategies[i]->name, name) == 0)
            return strategies[i];
    return NULL;
}

const ct_strategy *ct_strategy_find(const char *name)
{
    const ct_strategy *own = find_own(name);
    for (size_t i = 0; name && !own && i < NUM_KT; i++)
        if (!kt_strategies[i].what && strcmp(kt_strategies[i].name, name) == 0)
            own = find_own(kt_strategies[i].cutune);
    return own;
}

/* Levenshtein distance of two short names (longer ones count as far apart). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b), row[64];
    if (na >= 63 || nb >= 63)
        return 64;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            best = up + 1 < best ? up + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

int cutune_strategy_lookup(const char *name, const char **cutune_name)
{
    if (!name || !cutune_name)
        return ct_fail(CUTUNE_EINVAL, "cutune_strategy_lookup: NULL argument");
    *cutune_name = NULL;
    const ct_strategy *s = ct_strategy_find(name);
    if (s) {
        *cutune_name = s->name;
        return CUTUNE_OK;
    }
    char own[128] = "";
    for (size_t i = 0; i < NUM_STRATEGIES; i++)
        snprintf(own + strlen(own), sizeof own - strlen(own), "%s%s", i ? ", " : "",
                 strategies[i]->name);
    for (size_t i = 0; i < NUM_KT; i++)
        if (kt_strategies[i].what && strcmp(kt_strategies[i].name, name) == 0)
            return ct_fail(CUTUNE_ENOTFOUND, "strategy '%s' is not in cutune; nearest: %s "
                           "(Kernel Tuner's %s is %s). cutune has %s", name,
                           kt_strategies[i].cutune, name, kt_strategies[i].what, own);
    if (strncmp(name, "bayes_opt", 9) == 0)
        return ct_fail(CUTUNE_ENOTFOUND, "strategy '%s' is not in cutune; nearest: bo (Kernel "
                       "Tuner's %s is a variant of its Bayesian optimisation, bayes_opt, which "
                       "cutune calls bo). cutune has %s", name, name, own);
    /* a misspelling: the nearest name of either tool, when it is near */
    const char *near = NULL;
    size_t best = (size_t)-1;
    for (size_t i = 0; i < NUM_STRATEGIES + NUM_KT; i++) {
        const char *cand = i < NUM_STRATEGIES ? strategies[i]->name
                                              : kt_strategies[i - NUM_STRATEGIES].name;
        size_t d = edit_distance(name, cand);
        if (d < best) {
            best = d;
            near = cand;
        }
    }
    char hint[160] = "";
    size_t len = strlen(name), near_enough = len / 4 > 2 ? len / 4 : 2;
    if (near && best <= near_enough && best < len) {
        const ct_strategy *to = ct_strategy_find(near);
        snprintf(hint, sizeof hint, "; nearest: %s%s%s%s", near, to && strcmp(to->name, near)
                 ? " (cutune's " : "", to && strcmp(to->name, near) ? to->name : "",
                 to && strcmp(to->name, near) ? ")" : "");
    }
    return ct_fail(CUTUNE_ENOTFOUND, "unknown strategy '%s'%s. cutune has %s, and takes Kernel "
                   "Tuner's names for them (bayes_opt, random_sample, genetic_algorithm, "
                   "simulated_annealing, brute_force)", name, hint, own);
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

/* A search under way: the strategy's view, and what is in flight. */
typedef struct run {
    const ct_domain *d;
    const cutune_search_options *o;
    const ct_backend *b;
    const ct_strategy *strat;
    const char *name;
    void *state;
    ct_search s;
    size_t bp[3], next_first;
    size_t *busy;       /* the configurations in flight (s.busy) */
    double *suggest_s;  /* and what choosing each took */
    size_t slots;
    cutune_evaluation_fn on_evaluation;
    void *user;
    cutune_search_result *result;
} run;

/* The next configuration: the backend's first ones, then the strategy's. */
static int choose(run *r, size_t *i, int *warm)
{
    const ct_backend *b = r->b;
    while (r->next_first < b->nfirst &&
           (b->first[r->next_first] >= r->d->n || r->s.visited[b->first[r->next_first]]))
        r->next_first++;
    *warm = r->next_first < b->nfirst;
    if (*warm) {
        *i = b->first[r->next_first++];
        return CUTUNE_OK;
    }
    int st = r->strat->suggest(r->state, &r->s, i);
    if (st == CT_WAIT && r->s.nbusy == 0)
        return ct_fail(CUTUNE_EINVAL, "strategy %s waits with nothing in flight", r->name);
    if (!st && (*i >= r->d->n || r->s.visited[*i]))
        return ct_fail(CUTUNE_EINVAL, "strategy %s suggested configuration %zu, which %s",
                       r->name, *i, *i >= r->d->n ? "does not exist" : "was already evaluated");
    return st;
}

/* Tells the backend what the strategy expects to ask for after i, to prepare it: no more
 * than the budget has room for, since a compilation begun for nothing delays the end. */
static void announce(run *r, size_t i, int warm)
{
    const ct_backend *b = r->b;
    if (!b->upcoming || !(warm || r->strat->peek))
        return;
    size_t ahead[CT_MAX_ANNOUNCED], n = 0, m = 0;
    while (warm && n < CT_MAX_ANNOUNCED && r->next_first + n < b->nfirst)
        ahead[n] = b->first[r->next_first + n], n++;
    n = warm ? n : r->strat->peek(r->state, &r->s, ahead, CT_MAX_ANNOUNCED);
    uint64_t taken = r->result->evaluations + r->s.nbusy + 1; /* i is about to start */
    size_t room = r->o->budget > taken ? (size_t)(r->o->budget - taken) : 0;
    for (size_t k = 0; k < n && m < room; k++)
        if (ahead[k] < r->d->n && ahead[k] != i && !r->s.visited[ahead[k]])
            ahead[m++] = ahead[k];
    if (m || n) /* an empty list withdraws what was announced before */
        b->upcoming(b->self, ahead, m);
}

/* Configuration i is done (measured, failed or pruned): the strategy and the caller hear of
 * it. Returns the caller's status. */
static int finish(run *r, size_t i, double t, const char *failure, double suggest_s,
                  int pruned)
{
    cutune_search_result *res = r->result;
    if (!pruned) {
        if (!(t >= 0) || isinf(t)) {
            t = NAN;
            failure = failure ? failure : "no time";
        }
        res->evaluations++;
    }
    r->s.visited[i] = 1;
    r->s.value[i] = t;
    if (r->s.spread)
        r->s.spread[i] = isnan(t) || pruned ? 0 : r->b->spread(r->b->self, i);
    if (!isnan(t) && !(t >= res->best_ms)) {
        res->best_ms = t;
        res->best_entry = i;
    }
    r->strat->observe(r->state, &r->s, i, t); /* a pruned one is a failure to the strategy */
    if (!r->on_evaluation)
        return CUTUNE_OK;
    cutune_evaluation e = {.k = res->evaluations, .entry = i,
                           .config = ct_domain_config(r->d, i), .time_ms = t,
                           .failure = isnan(t) ? failure : NULL, .best_ms = res->best_ms,
                           .suggest_s = suggest_s, .pruned = pruned, .objective = t,
                           .best_objective = res->best_ms, .best_entry = res->best_entry};
    return r->on_evaluation(&e, r->user);
}

/* Starts configuration i, or prunes it (done at once). *caller: the caller's status. */
static int start(run *r, size_t i, double suggest_s, int *caller)
{
    char why[192];
    if (r->o->arch && !launchable(r->d, r->bp, r->o->arch, i, why, sizeof why)) {
        r->result->pruned++;
        r->result->pruned_cost_s += r->b->cost_s ? r->b->cost_s(r->b->self, i) : NAN;
        r->s.nvisited++;
        *caller = finish(r, i, NAN, why, suggest_s, 1);
        return CUTUNE_OK;
    }
    r->s.visited[i] = CT_BUSY;
    r->s.value[i] = NAN; /* not known yet */
    r->s.nvisited++;
    r->busy[r->s.nbusy] = i;
    r->suggest_s[r->s.nbusy++] = suggest_s;
    return r->b->submit ? r->b->submit(r->b->self, i) : CUTUNE_OK;
}

/* Waits for one configuration in flight to complete. *caller: the caller's status. */
static int complete(run *r, int *caller)
{
    const ct_backend *b = r->b;
    size_t i = r->busy[0], k = 0;
    double t = NAN;
    const char *failure = NULL;
    int st = b->complete ? b->complete(b->self, &i, &t, &failure)
                         : b->measure(b->self, i, &t, &failure);
    while (!st && k < r->s.nbusy && r->busy[k] != i)
        k++;
    if (!st && k == r->s.nbusy)
        st = ct_fail(CUTUNE_EINVAL, "search: configuration %zu completed but was not in flight",
                     i);
    if (st)
        return st;
    double suggest_s = r->suggest_s[k];
    r->s.nbusy--; /* the last in flight takes its place */
    r->busy[k] = r->busy[r->s.nbusy];
    r->suggest_s[k] = r->suggest_s[r->s.nbusy];
    *caller = finish(r, i, t, failure, suggest_s, 0);
    return CUTUNE_OK;
}

int ct_search_run(const ct_domain *d, const cutune_search_options *o, const ct_backend *b,
                  cutune_evaluation_fn on_evaluation, void *user, cutune_search_result *result)
{
    if (!d || !o || !b || !result || !(b->submit ? b->complete != NULL : b->measure != NULL))
        return ct_fail(CUTUNE_EINVAL, "search: NULL argument");
    const char *name = o->strategy ? o->strategy : "bo";
    const ct_strategy *strat = ct_strategy_find(name);
    if (!strat)
        return cutune_strategy_lookup(name, &name); /* (fails, saying what is nearest) */
    if (o->budget == 0)
        return ct_fail(CUTUNE_EINVAL, "the evaluation budget is 0: nothing to do");
    if (!(o->time_limit_s >= 0))
        return ct_fail(CUTUNE_EINVAL, "the time limit is negative");
    if (o->arch && cutune_occupancy_blocks(o->arch, &(cutune_block_resources){.threads = 1}) < 0)
        return ct_wrap(CUTUNE_EINVAL, "search");
    memset(result, 0, sizeof *result);
    result->best_ms = NAN;
    result->best_entry = CT_NONE;
    run r = {.d = d, .o = o, .b = b, .strat = strat, .name = name,
             .slots = b->submit && b->slots > 1 ? b->slots : 1, .on_evaluation = on_evaluation,
             .user = user, .result = result,
             .s = {.dom = d, .budget = o->budget, .batch = o->batch}};
    if (o->arch)
        block_params(d->space, r.bp);
    r.s.visited = calloc(d->n, 1);
    r.s.value = malloc(d->n * sizeof *r.s.value);
    if (b->spread)
        r.s.spread = calloc(d->n, sizeof *r.s.spread);
    r.busy = malloc(r.slots * sizeof *r.busy);
    r.suggest_s = malloc(r.slots * sizeof *r.suggest_s);
    r.s.busy = r.busy;
    cutune_rng_seed(&r.s.rng, o->seed);
    int st = r.s.visited && r.s.value && r.busy && r.suggest_s && (r.s.spread || !b->spread)
                 ? strat->init(&r.state, &r.s)
                 : ct_fail(CUTUNE_ENOMEM, "out of memory");
    double began = ct_now();
    int caller = CUTUNE_OK; /* the callback's first nonzero status: no more starts */
    int stopping = 0;       /* no more starts: the rest in flight still completes */
    while (!st) {
        while (!st && !stopping && r.s.nbusy < r.slots &&
               result->evaluations + r.s.nbusy < o->budget) {
            if (r.s.nvisited == d->n) {
                result->stop = CUTUNE_STOP_EXHAUSTED;
                stopping = 1;
                break;
            }
            if (o->time_limit_s > 0 && ct_now() - began >= o->time_limit_s) {
                result->stop = CUTUNE_STOP_TIME;
                stopping = 1;
                break;
            }
            size_t i;
            int warm;
            double t0 = ct_now();
            int chosen = choose(&r, &i, &warm);
            if (chosen == CT_WAIT)
                break;
            if (chosen == CUTUNE_EEMPTY) {
                result->stop = CUTUNE_STOP_EXHAUSTED;
                stopping = 1;
                break;
            }
            if ((st = chosen))
                break;
            double suggest_s = ct_now() - t0;
            announce(&r, i, warm);
            st = start(&r, i, suggest_s, &caller);
            stopping |= caller != CUTUNE_OK;
        }
        if (st || r.s.nbusy == 0)
            break;
        int status = CUTUNE_OK;
        st = complete(&r, &status);
        if (status && !caller)
            caller = status;
        stopping |= caller != CUTUNE_OK;
    }
    if (!st)
        st = caller;
    result->seconds = ct_now() - began;
    if (r.state)
        strat->release(r.state);
    free(r.s.visited);
    free(r.s.value);
    free(r.s.spread);
    free(r.busy);
    free(r.suggest_s);
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


/* Several evaluations in flight: they come back first in, first out. */
typedef struct replay {
    const cutune_cache *cache;
    size_t queue[CT_MAX_IN_FLIGHT], head, count;
} replay;

static int submit_replay(void *self, size_t index)
{
    replay *r = self;
    r->queue[(r->head + r->count++) % CT_MAX_IN_FLIGHT] = index;
    return CUTUNE_OK;
}

static int complete_replay(void *self, size_t *index, double *time_ms, const char **failure)
{
    replay *r = self;
    *index = r->queue[r->head];
    r->head = (r->head + 1) % CT_MAX_IN_FLIGHT;
    r->count--;
    return measure_cached((void *)r->cache, *index, time_ms, failure);
}

static double cost_replay(void *self, size_t index)
{
    return cost_cached((void *)((replay *)self)->cache, index);
}

int cutune_simulate(const cutune_cache *cache, const cutune_search_options *options,
                    cutune_evaluation_fn on_evaluation, void *user,
                    cutune_search_result *result)
{
    if (!cache || !options || !result)
        return ct_fail(CUTUNE_EINVAL, "cutune_simulate: NULL argument");
    if (options->in_flight > CT_MAX_IN_FLIGHT)
        return ct_fail(CUTUNE_EINVAL, "at most %d evaluations in flight, not %u", CT_MAX_IN_FLIGHT,
                       options->in_flight);
    ct_domain d;
    int st = ct_domain_from_cache(&d, cache);
    replay *r = NULL;
    ct_backend b = {.measure = measure_cached, .cost_s = cost_cached, .self = (void *)cache};
    if (!st && options->in_flight > 1) {
        if (!(r = calloc(1, sizeof *r)))
            st = ct_fail(CUTUNE_ENOMEM, "out of memory");
        else
            b = (ct_backend){.submit = submit_replay, .complete = complete_replay,
                             .cost_s = cost_replay, .self = r, .slots = options->in_flight};
        if (r)
            r->cache = cache;
    }
    if (!st)
        st = ct_search_run(&d, options, &b, on_evaluation, user, result);
    free(r);
    ct_domain_release(&d);
    return st;
}
