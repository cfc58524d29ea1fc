/* bo.c — Bayesian optimisation: a Latin hypercube to start, then a Gaussian process on
 * log-times and a portfolio of acquisitions (expected improvement, probability of improvement,
 * lower confidence bound) chosen by GP-Hedge: each proposes a configuration, one is picked
 * with probability growing with how good its past proposals turned out. Only valid,
 * unevaluated configurations are candidates. A failed configuration enters the model as slow
 * as the slowest success, so the search steers away from where configurations fail. */
#include "gp.h"

#include <stdlib.h>
#include <string.h>

#define CAPACITY 96    /* working-set size of the GP */
#define REFILL 64      /* after a rebuild: room left for 32 cheap additions */
#define MAX_INIT 20
#define XI (getenv("XI")?atof(getenv("XI")):0.01)        /* EI and PI: the least improvement that counts */
#define KAPPA (getenv("KAPPA")?atof(getenv("KAPPA")):2.0)      /* LCB: how many standard deviations of optimism */
#define HEDGE_ETA (getenv("ETA")?atof(getenv("ETA")):1.0)

enum { ACQ_EI, ACQ_PI, ACQ_LCB, NUM_ACQ };

typedef struct bo {
    ct_gp *gp;
    size_t design[MAX_INIT], ndesign, next_design;
    size_t *obs, nobs;    /* evaluated configurations, in order */
    size_t *pending;      /* evaluated but not yet in the GP */
    size_t npending;
    size_t next_fit;      /* refit hyperparameters when nobs reaches it */
    double *y;            /* scratch: targets of the working set */
    size_t *order;        /* scratch */
    double gains[NUM_ACQ];
    size_t proposal[NUM_ACQ];
    int proposed;
} bo;

static void bo_release(void *state)
{
    bo *b = state;
    if (!b)
        return;
    ct_gp_free(b->gp);
    free(b->obs);
    free(b->pending);
    free(b->y);
    free(b->order);
    free(b);
}

static int bo_init(void **state, ct_search *s)
{
    bo *b = calloc(1, sizeof *b);
    size_t n = s->dom->n;
    int st = b ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (!st && (!(b->obs = malloc(n * sizeof *b->obs)) ||
                !(b->pending = malloc(n * sizeof *b->pending)) ||
                !(b->y = malloc(n * sizeof *b->y)) || !(b->order = malloc(n * sizeof *b->order))))
        st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (!st)
        st = ct_gp_new(&b->gp, s->dom, CAPACITY, &s->rng);
    if (st) {
        bo_release(b);
        return st;
    }
    /* about a tenth of the budget, enough to span the dimensions, never all of it */
    size_t init = (size_t)(s->budget / (getenv("INITDIV")?atof(getenv("INITDIV")):10)), most = s->dom->nd + 1;
    most = most < MAX_INIT ? most : MAX_INIT;
    init = init < 1 ? 1 : init > most ? most : init;
    b->ndesign = ct_lhs_design(s, init, b->design);
    b->next_fit = b->ndesign;
    *state = b;
    return CUTUNE_OK;
}

/* Model target of configuration i: its log-time; a failure counts as the slowest success. */
static double target(const ct_search *s, size_t i, double worst)
{
    return isnan(s->value[i]) ? worst : log(s->value[i]);
}

/* A working set of REFILL points when there are more: the best half, then the most recent. */
static size_t working_set(bo *b, const ct_search *s, double worst, size_t *out)
{
    if (b->nobs <= REFILL) {
        memcpy(out, b->obs, b->nobs * sizeof *out);
        return b->nobs;
    }
    for (size_t i = 0; i < b->nobs; i++) { /* insertion by target: obs are few hundred */
        size_t k = i;
        double yi = target(s, b->obs[i], worst);
        while (k > 0 && target(s, out[k - 1], worst) > yi) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = b->obs[i];
    }
    size_t count = REFILL / 2;
    for (size_t r = b->nobs; r-- > 0 && count < REFILL;) {
        size_t x = b->obs[r];
        int have = 0;
        for (size_t k = 0; k < REFILL / 2 && !have; k++)
            have = out[k] == x;
        if (!have)
            out[count++] = x;
    }
    return count;
}

/* Brings the GP up to date with every evaluation: refits now and then, else adds. */
static int sync_model(bo *b, ct_search *s, double worst)
{
    int st = CUTUNE_OK;
    int refit = b->nobs >= b->next_fit;
    if (refit) {
        for (size_t i = 0; i < b->nobs; i++)
            b->y[i] = target(s, b->obs[i], worst);
        if ((st = ct_gp_fit(b->gp, b->obs, b->y, b->nobs)))
            return st;
        b->next_fit = b->nobs * 3 / 2 > b->nobs + 8 ? b->nobs * 3 / 2 : b->nobs + 8;
    }
    if (refit || ct_gp_size(b->gp) + b->npending > ct_gp_capacity(b->gp)) {
        size_t n = working_set(b, s, worst, b->order);
        b->npending = 0;
        for (size_t k = 0; k < n; k++)
            b->y[k] = log(s->value[b->order[k]]); /* NaN stays NaN: failed */
        return ct_gp_reset(b->gp, b->order, b->y, n);
    }
    for (size_t i = 0; !st && i < b->npending; i++)
        st = ct_gp_add(b->gp, b->pending[i], log(s->value[b->pending[i]]));
    b->npending = 0;
    return st;
}

static double normal_cdf(double z) { return 0.5 * erfc(-z * 0.70710678118654752440); }
#define PDF_AT_0 0.39894228040143267794 /* 1 / sqrt(2 pi) */
static double normal_pdf(double z) { return exp(-0.5 * z * z) * PDF_AT_0; }

static double expected_improvement(double gap, double sd)
{
    double z = gap / sd;
    return gap * normal_cdf(z) + sd * normal_pdf(z);
}

/* An upper bound of EI / sd = z cdf(z) + pdf(z) that needs no exp or erfc. For x >= 0,
 * 1 - cdf(x) >= pdf(x) x / (1 + x^2) (a Mills-ratio bound) gives EI(-x) / sd <= pdf(x) /
 * (1 + x^2), and EI(z) / sd = z + EI(-z) / sd; pdf(x) = pdf(0) e^-q, q = x^2 / 2, and
 * e^q >= 1 + q + q^2/2 + q^3/6 + q^4/24. */
static double ei_bound(double z)
{
    double q = 0.5 * z * z, taylor = 1 + q * (1 + q * (0.5 + q * (1.0 / 6 + q / 24)));
    return (z > 0 ? z : 0) + PDF_AT_0 / (taylor * (1 + z * z));
}

/* The unevaluated configuration each acquisition prefers. PI = cdf(z) peaks where z does, so
 * it needs no cdf. EI is costly, so a first pass bounds it; the second computes it only where
 * the bound beats the EI of the candidate with the best bound, a small fraction of them. */
static void acquire(bo *b, const ct_search *s, const double *mean, const double *sd,
                    double y_best, size_t pick[NUM_ACQ])
{
    double best[NUM_ACQ], *bound = b->y; /* b->y: one double per configuration */
    for (int a = 0; a < NUM_ACQ; a++) {
        best[a] = -INFINITY;
        pick[a] = CT_NONE;
    }
    for (size_t i = 0; i < s->dom->n; i++) {
        bound[i] = -INFINITY;
        if (s->visited[i] || isnan(mean[i]))
            continue;
        double gap = y_best - mean[i] - XI, z = gap / sd[i];
        double value[NUM_ACQ] = {sd[i] * ei_bound(z), z, KAPPA * sd[i] - mean[i]};
        bound[i] = value[ACQ_EI];
        for (int a = 0; a < NUM_ACQ; a++)
            if (value[a] > best[a]) {
                best[a] = value[a];
                pick[a] = i;
            }
    }
    if (pick[ACQ_EI] == CT_NONE)
        return;
    size_t top = pick[ACQ_EI];
    best[ACQ_EI] = expected_improvement(y_best - mean[top] - XI, sd[top]);
    for (size_t i = 0; i < s->dom->n; i++) {
        if (bound[i] <= best[ACQ_EI] || i == top)
            continue;
        double ei = expected_improvement(y_best - mean[i] - XI, sd[i]);
        if (ei > best[ACQ_EI]) {
            best[ACQ_EI] = ei;
            pick[ACQ_EI] = i;
        }
    }
}

static int bo_suggest(void *state, ct_search *s, size_t *index)
{
    bo *b = state;
    while (b->next_design < b->ndesign) {
        size_t i = b->design[b->next_design++];
        if (!s->visited[i]) {
            *index = i;
            return CUTUNE_OK;
        }
    }
    double best = INFINITY, worst = -INFINITY;
    for (size_t i = 0; i < b->nobs; i++)
        if (!isnan(s->value[b->obs[i]])) {
            double y = log(s->value[b->obs[i]]);
            best = y < best ? y : best;
            worst = y > worst ? y : worst;
        }
    if (b->nobs == 0 || isinf(best)) { /* nothing has run yet: no model to speak of */
        *index = ct_random_unvisited(s);
        return *index == CT_NONE ? CUTUNE_EEMPTY : CUTUNE_OK;
    }
    int st = sync_model(b, s, worst);
    const double *mean, *sd;
    double y_best;
    if (!st)
        st = ct_gp_predict(b->gp, worst, best, &mean, &sd, &y_best);
    if (st)
        return st;
    /* GP-Hedge: reward each acquisition by the model's view of its last proposal */
    if (b->proposed)
        for (int a = 0; a < NUM_ACQ; a++)
            if (!isnan(mean[b->proposal[a]]))
                b->gains[a] -= mean[b->proposal[a]];
    size_t pick[NUM_ACQ];
    acquire(b, s, mean, sd, y_best, pick);
    if (pick[0] == CT_NONE) {
        *index = ct_random_unvisited(s);
        return *index == CT_NONE ? CUTUNE_EEMPTY : CUTUNE_OK;
    }
    double top = b->gains[0], weight[NUM_ACQ], total = 0;
    for (int a = 1; a < NUM_ACQ; a++)
        top = b->gains[a] > top ? b->gains[a] : top;
    for (int a = 0; a < NUM_ACQ; a++)
        total += weight[a] = exp(HEDGE_ETA * (b->gains[a] - top));
    double u = ct_uniform(&s->rng) * total;
    int chosen = 0;
    while (chosen < NUM_ACQ - 1 && (u -= weight[chosen]) > 0)
        chosen++;
    memcpy(b->proposal, pick, sizeof pick);
    b->proposed = 1;
    *index = pick[chosen];
    return CUTUNE_OK;
}

static void bo_observe(void *state, ct_search *s, size_t index, double time_ms)
{
    (void)s, (void)time_ms;
    bo *b = state;
    b->obs[b->nobs++] = index;
    b->pending[b->npending++] = index;
}

const ct_strategy ct_strategy_bo = {"bo", "Bayesian optimisation: Gaussian process (Matérn 5/2), "
                                    "EI/PI/LCB portfolio by GP-Hedge",
                                    bo_init, bo_suggest, bo_observe, bo_release};
