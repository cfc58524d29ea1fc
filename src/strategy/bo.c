/* bo.c — Bayesian optimisation: a Latin hypercube to start, then a Gaussian process on
 * log-times and a portfolio of acquisitions (expected improvement, probability of improvement,
 * lower confidence bound) chosen by GP-Hedge: each proposes a configuration, one is picked
 * with probability growing with how good its past proposals turned out. Only valid,
 * unevaluated configurations are candidates. A failed configuration enters the model as slow
 * as the slowest success, so the search steers away from where configurations fail.
 *
 * With a batch of q > 1, each model update proposes q configurations at once ("kriging
 * believer": after each pick the model takes its own prediction there as if measured, so the
 * next pick looks elsewhere). A backend that knows the whole batch ahead can prepare it in
 * parallel, e.g. compile it on CPU threads while the GPU measures. Configurations still in
 * flight elsewhere (distributed tuning) enter each model update the same way, as the model
 * predicts them, so that a suggestion made while others run looks elsewhere too.
 *
 * The end game: from LOCAL_FROM of the budget on, a growing share of the picks (by the end,
 * all of them) is made among the neighbours of the best configuration found (one parameter
 * changed, to any of its values). Left alone, the acquisitions keep paying for regions the
 * model is unsure of, which a budget of a few percent of the space seldom lets them exploit;
 * the best's neighbours are often nearly as fast and sometimes faster. */
#include "gp.h"

#include <stdlib.h>
#include <string.h>

#define CAPACITY 96    /* working-set size of the GP */
#define REFILL 64      /* after a rebuild: room left for 32 cheap additions */
#define MAX_INIT 20
#define XI 0.01        /* EI and PI: the least improvement that counts */
#define KAPPA 2.0      /* LCB: how many standard deviations of optimism */
#define HEDGE_ETA 1.0
#define MAX_BATCH 16
#define LOCAL_FROM 0.3 /* the end game's start, as a share of the budget */

#define PEEK_TOP 12         /* each acquisition's favourites kept for peek() */
#define TAU_LO (-10.0)     /* the table of EI's tau(z), see acquire() */
#define TAU_HI 10.0
#define TAU_STEPS 4096
#define PDF_AT_0 0.39894228040143267794 /* 1 / sqrt(2 pi) */

enum { ACQ_EI, ACQ_PI, ACQ_LCB, NUM_ACQ };
enum { NEAR_NOT, NEAR_NEIGHBOUR, NEAR_CENTRE };

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
    size_t batch[MAX_BATCH], nbatch, next_batch; /* this model update's picks */
    uint8_t *planned;     /* per configuration: in the batch */
    uint8_t *near;        /* per configuration: NEAR_* (the end game's neighbourhood) */
    size_t *nbr;          /* neighbours of one configuration: after mark_neighbourhood,
                             the centre's (nnbr of them), for peek() */
    size_t nnbr;
    int fantasies;        /* the GP holds its own predictions since `believed`: take them
                             back (or rebuild it) before the next update */
    ct_gp_mark believed;
    int fitted;           /* the hyperparameters have been fitted once */
    size_t proposal[MAX_BATCH][NUM_ACQ]; /* each acquisition's choice, per batch slot */
    size_t nproposed;
    size_t runners_up[NUM_ACQ][PEEK_TOP]; /* each acquisition's next favourites, best first,
                                             for a backend to prepare */
    size_t nrunners[NUM_ACQ];
    double tau[TAU_STEPS + 1]; /* EI's tau(z) on a grid */
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
    free(b->planned);
    free(b->near);
    free(b->nbr);
    free(b);
}

/* EI = sd * tau(z), z = gap / sd, tau(z) = z cdf(z) + pdf(z): smooth, increasing, convex.
 * Evaluating erfc and exp for every candidate would cost more than the rest of a suggestion,
 * so tau comes from a table over [TAU_LO, TAU_HI] with linear interpolation (relative error
 * below 1e-4 there; as tau is convex it errs upward, never hiding the best). Beyond the table
 * tau(z) = z + tau(-z) ~ z above, and below it falls like pdf(z) / z^2: there the rational
 * bound pdf(0) / ((1 + q + q^2/2 + q^3/6 + q^4/24)(1 + z^2)), q = z^2 / 2, keeps the
 * ranking without an exp. */

static double tau_exact(double z)
{
    return z * 0.5 * erfc(-z * 0.70710678118654752440) + exp(-0.5 * z * z) * PDF_AT_0;
}

static void tau_table_fill(double *table)
{
    for (int k = 0; k <= TAU_STEPS; k++)
        table[k] = tau_exact(TAU_LO + (TAU_HI - TAU_LO) * k / TAU_STEPS);
}

static double tau(const double *table, double z)
{
    if (z >= TAU_HI)
        return z;
    if (z < TAU_LO) {
        double q = 0.5 * z * z, taylor = 1 + q * (1 + q * (0.5 + q * (1.0 / 6 + q / 24)));
        return PDF_AT_0 / (taylor * (1 + z * z));
    }
    double u = (z - TAU_LO) * (TAU_STEPS / (TAU_HI - TAU_LO));
    int k = (int)u;
    k = k < TAU_STEPS ? k : TAU_STEPS - 1;
    return table[k] + (u - k) * (table[k + 1] - table[k]);
}

static int bo_init(void **state, ct_search *s)
{
    bo *b = calloc(1, sizeof *b);
    size_t n = s->dom->n;
    int st = b ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (!st && (!(b->obs = malloc(n * sizeof *b->obs)) ||
                !(b->pending = malloc(n * sizeof *b->pending)) ||
                !(b->y = malloc(n * sizeof *b->y)) || !(b->order = malloc(n * sizeof *b->order)) ||
                !(b->planned = calloc(n, 1)) || !(b->near = calloc(n, 1)) ||
                !(b->nbr = malloc(n * sizeof *b->nbr))))
        st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (!st)
        st = ct_gp_new(&b->gp, s->dom, CAPACITY, &s->rng);
    if (st) {
        bo_release(b);
        return st;
    }
    /* about a tenth of the budget, enough to span the dimensions, never all of it */
    size_t init = (size_t)(s->budget / 10), most = s->dom->nd + 1;
    most = most < MAX_INIT ? most : MAX_INIT;
    init = init < 1 ? 1 : init > most ? most : init;
    b->ndesign = ct_lhs_design(s, init, b->design);
    tau_table_fill(b->tau);
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

/* The mean variance of the measured log-times (from their medians' 95% intervals: a
 * half-width h over the median is about 1.96 standard deviations of the log); 0 when the
 * search is exact. The model's noise is not taken below it. */
static double measured_variance(const bo *b, const ct_search *s)
{
    double sum = 0;
    size_t n = 0;
    for (size_t k = 0; s->spread && k < b->nobs; k++)
        if (!isnan(s->value[b->obs[k]])) {
            double sd = log1p(s->spread[b->obs[k]]) / 1.96;
            sum += sd * sd;
            n++;
        }
    return n ? sum / (double)n : 0;
}

/* Brings the GP up to date with every evaluation, with room for `room` more points: refits
 * now and then, else adds. */
static int sync_model(bo *b, ct_search *s, double worst, size_t room)
{
    int st = CUTUNE_OK;
    /* (with evaluations in flight, the model may be needed before the design is all in) */
    int refit = b->nobs >= b->next_fit || !b->fitted;
    if (refit) {
        for (size_t i = 0; i < b->nobs; i++)
            b->y[i] = target(s, b->obs[i], worst);
        if ((st = ct_gp_fit(b->gp, b->obs, b->y, b->nobs, measured_variance(b, s))))
            return st;
        b->next_fit = b->nobs * 3 / 2 > b->nobs + 8 ? b->nobs * 3 / 2 : b->nobs + 8;
        b->next_fit = b->next_fit > b->ndesign ? b->next_fit : b->ndesign;
        b->fitted = 1;
    }
    if (b->fantasies && !refit && ct_gp_rollback(b->gp, b->believed) == CUTUNE_OK)
        b->fantasies = 0; /* cheaper than a rebuild */
    if (refit || b->fantasies ||
        ct_gp_size(b->gp) + b->npending + room > ct_gp_capacity(b->gp)) {
        b->fantasies = 0;
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

/* The unevaluated configuration each acquisition prefers. PI = cdf(z) peaks where z does, so
 * it needs no cdf. */
static void acquire(bo *b, const ct_search *s, const double *mean, const double *sd,
                    double y_best, size_t pick[NUM_ACQ], int local)
{
    double best[NUM_ACQ], top[NUM_ACQ][PEEK_TOP];
    for (int a = 0; a < NUM_ACQ; a++) {
        best[a] = -INFINITY;
        pick[a] = CT_NONE;
        b->nrunners[a] = 0;
    }
    for (size_t i = 0; i < s->dom->n; i++) {
        if (s->visited[i] || b->planned[i] || isnan(mean[i]) ||
            (local && b->near[i] != NEAR_NEIGHBOUR))
            continue;
        double z = (y_best - mean[i] - XI) / sd[i];
        double value[NUM_ACQ] = {sd[i] * tau(b->tau, z), z, KAPPA * sd[i] - mean[i]};
        for (int a = 0; a < NUM_ACQ; a++) {
            if (value[a] > best[a]) {
                best[a] = value[a];
                pick[a] = i;
            }
            /* its best few, in order (the usual candidate fails the first comparison) */
            size_t *n = &b->nrunners[a];
            if (*n == PEEK_TOP && !(value[a] > top[a][PEEK_TOP - 1]))
                continue;
            size_t k = *n < PEEK_TOP ? (*n)++ : PEEK_TOP - 1;
            for (; k > 0 && top[a][k - 1] < value[a]; k--) {
                top[a][k] = top[a][k - 1];
                b->runners_up[a][k] = b->runners_up[a][k - 1];
            }
            top[a][k] = value[a];
            b->runners_up[a][k] = i;
        }
    }
}

/* GP-Hedge's draw among the acquisitions, by their gains. */
static int hedge(const bo *b, ct_search *s)
{
    double top = b->gains[0], weight[NUM_ACQ], total = 0;
    for (int a = 1; a < NUM_ACQ; a++)
        top = b->gains[a] > top ? b->gains[a] : top;
    for (int a = 0; a < NUM_ACQ; a++)
        total += weight[a] = exp(HEDGE_ETA * (b->gains[a] - top));
    double u = ct_uniform(&s->rng) * total;
    int chosen = 0;
    while (chosen < NUM_ACQ - 1 && (u -= weight[chosen]) > 0)
        chosen++;
    return chosen;
}

/* The model is about to take a guess as if measured: mark where the guesses start. */
static void believe(bo *b)
{
    if (!b->fantasies)
        b->believed = ct_gp_get_mark(b->gp);
    b->fantasies = 1;
}

/* Kriging believer for the configurations in flight: each enters the model at its predicted
 * value (as many as the working set has room for, leaving `keep` places). */
static int believe_in_flight(bo *b, const ct_search *s, double worst, double *best, size_t keep)
{
    size_t room = ct_gp_capacity(b->gp) - ct_gp_size(b->gp);
    room = room > keep ? room - keep : 0;
    if (!s->nbusy || !room)
        return CUTUNE_OK;
    const double *mean, *sd;
    double y_best;
    int st = ct_gp_predict(b->gp, worst, *best, &mean, &sd, &y_best);
    for (size_t k = 0; !st && k < s->nbusy && room; k++) {
        size_t i = s->busy[k];
        if (isnan(mean[i]))
            continue; /* not a candidate of the model */
        double guess = ct_gp_unstandardise(b->gp, mean[i]);
        *best = guess < *best ? guess : *best;
        believe(b);
        room--;
        st = ct_gp_add(b->gp, i, guess); /* the mean stays where it was, the sd shrinks */
    }
    return st;
}

/* The evaluation the end game begins at: LOCAL_FROM of the budget. */
static size_t end_game_start(const ct_search *s)
{
    return (size_t)((double)s->budget * LOCAL_FROM);
}

/* Whether the end game has begun. (Configurations pruned before measurement count as spent
 * here: the end game starts a little early then.) */
static int end_game_begun(const ct_search *s)
{
    size_t start = end_game_start(s);
    return s->nvisited >= start && s->budget > start;
}

/* Whether this pick belongs to the end game: never before it begins, then with a probability
 * growing linearly to 1 at the budget's end. */
static int end_game(ct_search *s)
{
    if (!end_game_begun(s))
        return 0;
    size_t start = end_game_start(s);
    double p = (double)(s->nvisited - start + 1) / (double)(s->budget - start);
    return ct_uniform(&s->rng) < p;
}

/* Marks in b->near the unevaluated neighbours of the best configuration, or of the next
 * best when those are all taken, and so on; returns 0 when there are none at all. */
static int mark_neighbourhood(bo *b, const ct_search *s)
{
    size_t n = s->dom->n;
    memset(b->near, NEAR_NOT, n);
    b->nnbr = 0;
    for (;;) {
        size_t centre = CT_NONE; /* the best not yet a centre (a scan: obs are few) */
        for (size_t k = 0; k < b->nobs; k++) {
            size_t i = b->obs[k];
            if (!isnan(s->value[i]) && b->near[i] != NEAR_CENTRE &&
                (centre == CT_NONE || s->value[i] < s->value[centre]))
                centre = i;
        }
        if (centre == CT_NONE)
            return 0;
        b->near[centre] = NEAR_CENTRE;
        int marked = 0;
        size_t m = ct_neighbours(s, centre, 1, b->nbr, n);
        for (size_t k = 0; k < m; k++) {
            size_t i = b->nbr[k];
            if (!s->visited[i] && !b->planned[i] && b->near[i] == NEAR_NOT) {
                b->near[i] = NEAR_NEIGHBOUR;
                marked = 1;
            }
        }
        if (marked) {
            b->nnbr = m;
            return 1;
        }
    }
}

/* Whether the model predicts i faster than j (one it has no prediction for is slowest). */
static int faster(const double *mean, size_t i, size_t j)
{
    return !isnan(mean[i]) && (isnan(mean[j]) || mean[i] < mean[j]);
}

/* The next model update: up to q picks into b->batch. `best` and `worst`: log-times. */
static int plan_batch(bo *b, ct_search *s, size_t q, double best, double worst)
{
    for (size_t k = 0; k < b->nbatch; k++)
        b->planned[b->batch[k]] = 0;
    b->nbatch = b->next_batch = 0;
    int st = sync_model(b, s, worst, q - 1 + s->nbusy);
    if (!st)
        st = believe_in_flight(b, s, worst, &best, q - 1);
    for (size_t k = 0; !st && k < q; k++) {
        const double *mean, *sd;
        double y_best;
        if ((st = ct_gp_predict(b->gp, worst, best, &mean, &sd, &y_best)))
            break;
        /* reward each acquisition by the model's view of its last proposals */
        for (size_t j = 0; k == 0 && j < b->nproposed; j++)
            for (int a = 0; a < NUM_ACQ; a++)
                if (!isnan(mean[b->proposal[j][a]]))
                    b->gains[a] -= mean[b->proposal[j][a]] / (double)b->nproposed;
        size_t pick[NUM_ACQ];
        /* (the neighbourhood marked whenever the end game has begun: peek() announces it,
         * the fastest by the model first) */
        int local = end_game(s);
        local = end_game_begun(s) && mark_neighbourhood(b, s) && local;
        for (size_t j = 1; j < b->nnbr; j++) { /* (an insertion sort: they are few) */
            size_t i = b->nbr[j], m = j;
            for (; m > 0 && faster(mean, i, b->nbr[m - 1]); m--)
                b->nbr[m] = b->nbr[m - 1];
            b->nbr[m] = i;
        }
        acquire(b, s, mean, sd, y_best, pick, local);
        if (local && pick[0] == CT_NONE) /* (neighbours the model does not cover) */
            acquire(b, s, mean, sd, y_best, pick, 0);
        if (pick[0] == CT_NONE)
            break;
        size_t i = pick[hedge(b, s)];
        memcpy(b->proposal[k], pick, sizeof pick);
        b->batch[b->nbatch++] = i;
        b->planned[i] = 1;
        if (k + 1 < q) { /* believe the model there, for the rest of the batch */
            double guess = ct_gp_unstandardise(b->gp, mean[i]);
            best = guess < best ? guess : best;
            believe(b);
            st = ct_gp_add(b->gp, i, guess);
        }
    }
    if (b->nbatch)
        b->nproposed = b->nbatch;
    return st;
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
    while (b->next_batch < b->nbatch) {
        size_t i = b->batch[b->next_batch++];
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
    size_t q = s->batch < 1 ? 1 : s->batch > MAX_BATCH ? MAX_BATCH : s->batch;
    int st = plan_batch(b, s, q, best, worst);
    if (st)
        return st;
    if (!b->nbatch) {
        *index = ct_random_unvisited(s);
        return *index == CT_NONE ? CUTUNE_EEMPTY : CUTUNE_OK;
    }
    *index = b->batch[b->next_batch++];
    return CUTUNE_OK;
}

static void bo_observe(void *state, ct_search *s, size_t index, double time_ms)
{
    (void)s, (void)time_ms;
    bo *b = state;
    b->obs[b->nobs++] = index;
    b->pending[b->npending++] = index;
}

/* The rest of the initial design and of the batch, then the acquisitions' other
 * favourites at the last pick and, once the end game has begun, the best's neighbours. */
static size_t bo_peek(void *state, const ct_search *s, size_t *out, size_t max)
{
    const bo *b = state;
    size_t n = 0;
    for (size_t k = b->next_design; k < b->ndesign && n < max; k++)
        if (!s->visited[b->design[k]])
            out[n++] = b->design[k];
    for (size_t k = b->next_batch; k < b->nbatch && n < max; k++)
        if (!s->visited[b->batch[k]])
            out[n++] = b->batch[k];
    const size_t *last = b->nproposed ? b->proposal[b->nproposed - 1] : NULL;
    for (int a = 0; last && a < NUM_ACQ && n < max; a++)
        if (last[a] != CT_NONE && !s->visited[last[a]] && !b->planned[last[a]])
            out[n++] = last[a];
    /* then, round after round, a neighbour and each acquisition's next favourite: the end
     * game's next pick is likely among the best's neighbours, and whichever acquisition
     * the hedge draws next, its choice among its favourites */
    size_t rounds = PEEK_TOP > b->nnbr ? PEEK_TOP : b->nnbr;
    for (size_t k = 0; k < rounds && n < max; k++)
        for (int a = -1; a < NUM_ACQ && n < max; a++) {
            size_t i = a < 0 ? (k < b->nnbr ? b->nbr[k] : CT_NONE)
                             : k < b->nrunners[a] ? b->runners_up[a][k] : CT_NONE;
            int have = i == CT_NONE || s->visited[i] || b->planned[i];
            for (size_t j = 0; !have && j < n; j++)
                have = out[j] == i;
            if (!have)
                out[n++] = i;
        }
    return n;
}

const ct_strategy ct_strategy_bo = {"bo", "Bayesian optimisation: Gaussian process (Matérn 5/2), "
                                    "EI/PI/LCB portfolio by GP-Hedge",
                                    bo_init, bo_suggest, bo_observe, bo_release, bo_peek};
