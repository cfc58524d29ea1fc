/* test_search.c — search strategies and scoring: the score against a hand-computed small
 * space, determinism per seed, the stop rules (budget, time, exhaustion, a callback), and
 * Bayesian optimisation beating random search on a smooth function and steering clear of a
 * region that fails; evaluations in flight at once (out of order, as distributed tuning has
 * them); and pruning of configurations whose blocks cannot launch. */
#include "cutune.h"
#include "search.h"

#include "cache_file.h"
#include "check.h"

#include <time.h>

static char dir[] = "/tmp/cutune-search-XXXXXX";

static const char *tmp(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static int near(double a, double b) { return fabs(a - b) <= 1e-12 * (fabs(b) + 1); }

/* ---------------------------------------------------------------------------- score ---- */

/* x = 1..4 takes 3 ms, 1 ms, fails, 2 ms */
static double four_times(const int *v, int n)
{
    (void)n;
    static const double t[] = {3.0, 1.0, NAN, 2.0};
    return t[v[0] - 1];
}

/* By hand: the median of {1, 2, 3} is 2. Random search without replacement over 4 entries:
 * k = 1: (3 + 1 + median + 2) / 4 = 2; k = 2: the 6 pairs' bests 1,1,1,2,2,3 (the failure
 * pairs with 3 gives 3): 10/6; k = 3: the 4 triples' bests 1,1,1,2: 5/4; k = 4: 1. The gap
 * from the median closes 0, 1/3, 3/4, 1 of the way: the horizon is 4. */
static void test_score_by_hand(void)
{
    CHECK_INT(write_cache_file(tmp("four.json"), 1, (const int[]){4}, four_times), 0);
    cutune_cache *c;
    cutune_baseline *b;
    CHECK_INT(cutune_cache_load(&c, tmp("four.json"), NULL), CUTUNE_OK);
    CHECK_INT(cutune_baseline_new(c, &b), CUTUNE_OK);
    if (!b)
        return;
    CHECK(near(cutune_baseline_optimum(b), 1.0));
    CHECK(near(cutune_baseline_median(b), 2.0));
    const double want[] = {2.0, 2.0, 10.0 / 6.0, 1.25, 1.0};
    for (size_t k = 0; k <= 4; k++)
        CHECK(near(cutune_baseline_random(b, k), want[k]));
    CHECK(isnan(cutune_baseline_random(b, 5)));
    CHECK_INT(cutune_baseline_horizon(b), 4);

    /* P(k) = (B(k) - F(k)) / (B(k) - 1): 0, (10/6 - 1.5) / (4/6) = 1/4, (1.25 - 1) / 0.25 = 1,
     * and at k = 4, where random has reached the optimum, 1 for matching it */
    double score;
    CHECK_INT(cutune_score(b, (const double[]){2.0, 1.5, 1.0, 1.0}, 4, &score), CUTUNE_OK);
    CHECK(near(score, (0 + 0.25 + 1 + 1) / 4.0));
    CHECK_INT(cutune_score(b, want + 1, 4, &score), CUTUNE_OK);
    CHECK(near(score, 0.25)); /* as good as random, except the last step that reaches the optimum */
    CHECK_INT(cutune_score(b, (const double[]){1, 1, 1, 1}, 4, &score), CUTUNE_OK);
    CHECK(near(score, 1.0));
    CHECK_INT(cutune_score(b, (const double[]){3, 3, 3, 3}, 4, &score), CUTUNE_OK);
    CHECK(near(score, ((2 - 3) / 1.0 + (10 / 6.0 - 3) / (4 / 6.0) + (1.25 - 3) / 0.25) / 4));
    CHECK_INT(cutune_score(b, want + 1, 3, &score), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "3 values given, the horizon is 4");
    cutune_baseline_free(b);
    cutune_cache_free(c);
}

/* Times that repeat, spread over three orders of magnitude, one in seven failed. */
static double spread_times(const int *v, int n)
{
    unsigned h = 2166136261u;
    for (int p = 0; p < n; p++)
        h = (h ^ (unsigned)v[p]) * 16777619u;
    return h % 7 == 0 ? NAN : 0.01 * (1 + h % 1000) * (1 + (h >> 10) % 3);
}

/* B(k) by its definition, every term of every k: the reference for the fast sum. */
static double random_by_definition(const double *t, size_t m, size_t n, double median, size_t k)
{
    double p = (double)k / (double)n, sum = 0, none = 1;
    for (size_t i = 1; i <= m && p > 0; i++) {
        sum += t[i - 1] * p;
        p *= n - i >= k ? (double)(n - i - k + 1) / (double)(n - i) : 0.0;
    }
    for (size_t j = 0; j < k && none > 0; j++)
        none *= j < n - m ? (double)(n - m - j) / (double)(n - j) : 0.0;
    return sum + median * none;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The baseline stops each B(k)'s sum where the rest cannot change it: the same values as the
 * whole sum, and 10^5 entries in well under the 12 s the whole sums took. */
static void test_baseline_fast(void)
{
    cutune_cache *c;
    cutune_baseline *b;
    CHECK_INT(write_cache_file(tmp("spread.json"), 2, (const int[]){40, 50}, spread_times), 0);
    CHECK_INT(cutune_cache_load(&c, tmp("spread.json"), NULL), CUTUNE_OK);
    CHECK_INT(cutune_baseline_new(c, &b), CUTUNE_OK);
    size_t n = cutune_cache_size(c), m = 0;
    double *t = malloc(n * sizeof *t);
    for (size_t i = 0; t && i < n; i++)
        if (!isnan(cutune_cache_time(c, i, NULL)))
            t[m++] = cutune_cache_time(c, i, NULL);
    if (t && b) {
        qsort(t, m, sizeof *t, by_value);
        CHECK(m < n && m > n / 2);
        size_t off = 0;
        for (size_t k = 1; k <= n; k++) {
            double want = random_by_definition(t, m, n, cutune_baseline_median(b), k);
            off += !near(cutune_baseline_random(b, k), want);
        }
        CHECK_INT(off, 0);
    }
    free(t);
    cutune_baseline_free(b);
    cutune_cache_free(c);

    CHECK_INT(write_cache_file(tmp("big.json"), 2, (const int[]){400, 250}, spread_times), 0);
    CHECK_INT(cutune_cache_load(&c, tmp("big.json"), NULL), CUTUNE_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(cutune_baseline_new(c, &b), CUTUNE_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("baseline of %zu entries: %.3f s\n", cutune_cache_size(c), s);
    CHECK(s < 3.0); /* (sanitizers included; about 0.05 s in the optimised build) */
    CHECK(cutune_baseline_random(b, 100000) == cutune_baseline_optimum(b));
    cutune_baseline_free(b);
    cutune_cache_free(c);
    remove(tmp("big.json"));
}

/* -------------------------------------------------------------- sessions on a cache ---- */

/* 6 x 4 x 3: a bowl, with a failing corner */
static double bowl(const int *v, int n)
{
    (void)n;
    if (v[0] == 6 && v[1] == 4)
        return NAN;
    return 1 + (v[0] - 3) * (v[0] - 3) + 0.5 * (v[1] - 2) * (v[1] - 2) + 0.1 * v[2];
}

typedef struct recorded {
    size_t entries[200], n;
    double sleep_s;
    int stop_at;
} recorded;

static int record(const cutune_evaluation *e, void *user)
{
    recorded *r = user;
    if (r->n < 200)
        r->entries[r->n++] = e->entry;
    if (r->sleep_s > 0)
        nanosleep(&(struct timespec){0, (long)(r->sleep_s * 1e9)}, NULL);
    return r->stop_at && (int)e->k == r->stop_at ? CUTUNE_ECANCELED : 0;
}

static void test_sessions(void)
{
    CHECK_INT(write_cache_file(tmp("bowl.json"), 3, (const int[]){6, 4, 3}, bowl), 0);
    cutune_cache *c;
    CHECK_INT(cutune_cache_load(&c, tmp("bowl.json"), NULL), CUTUNE_OK);
    if (!c)
        return;
    const size_t n = cutune_cache_size(c);
    CHECK_INT(n, 72);
    for (const char *const *name = cutune_strategy_names(); *name; name++) {
        /* the same seed, the same session; the budget beyond the space ends it at exhaustion,
         * each configuration evaluated once */
        recorded a = {0}, b = {0};
        cutune_search_options o = {.strategy = *name, .budget = 1000, .seed = 7};
        cutune_search_result ra, rb;
        CHECK_INT(cutune_simulate(c, &o, record, &a, &ra), CUTUNE_OK);
        CHECK_INT(cutune_simulate(c, &o, record, &b, &rb), CUTUNE_OK);
        CHECK_INT(ra.evaluations, n);
        CHECK_INT(ra.stop, CUTUNE_STOP_EXHAUSTED);
        CHECK_INT(a.n, n);
        CHECK(a.n == b.n && memcmp(a.entries, b.entries, a.n * sizeof *a.entries) == 0);
        unsigned char seen[72] = {0};
        for (size_t i = 0; i < a.n; i++)
            CHECK(a.entries[i] < n && !seen[a.entries[i]]++);
        CHECK(near(ra.best_ms, 1.1));
        CHECK(near(cutune_cache_time(c, ra.best_entry, NULL), 1.1));

        /* another seed, another session (brute force has no randomness) */
        recorded d = {0};
        o.seed = 8;
        o.budget = 20;
        CHECK_INT(cutune_simulate(c, &o, record, &d, &rb), CUTUNE_OK);
        CHECK_INT(rb.evaluations, 20);
        CHECK_INT(rb.stop, CUTUNE_STOP_BUDGET);
        int differs = memcmp(d.entries, a.entries, 20 * sizeof *d.entries) != 0;
        if (strcmp(*name, "brute") == 0)
            CHECK(!differs);
        else if (!differs)
            fprintf(stderr, "strategy %s: seeds 7 and 8 gave the same session\n", *name),
                check_failures++;

        /* the time limit ends a session whose evaluations take 2 ms each */
        recorded slow = {.sleep_s = 0.002};
        o.budget = 1000;
        o.time_limit_s = 0.02;
        CHECK_INT(cutune_simulate(c, &o, record, &slow, &rb), CUTUNE_OK);
        CHECK_INT(rb.stop, CUTUNE_STOP_TIME);
        CHECK(rb.evaluations >= 1 && rb.evaluations < n);

        /* a callback's nonzero status stops the session with it */
        recorded stop = {.stop_at = 5};
        o.time_limit_s = 0;
        CHECK_INT(cutune_simulate(c, &o, record, &stop, &rb), CUTUNE_ECANCELED);
        CHECK_INT(stop.n, 5);
    }

    cutune_search_result r;
    cutune_search_options o = {.strategy = "bo", .budget = 0};
    CHECK_INT(cutune_simulate(c, &o, NULL, NULL, &r), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "budget is 0");
    o = (cutune_search_options){.strategy = "hillclimb", .budget = 5};
    CHECK_INT(cutune_simulate(c, &o, NULL, NULL, &r), CUTUNE_ENOTFOUND);
    CHECK_HAS(cutune_last_error(), "unknown strategy 'hillclimb'");
    o = (cutune_search_options){.budget = 5, .time_limit_s = -1};
    CHECK_INT(cutune_simulate(c, &o, NULL, NULL, &r), CUTUNE_EINVAL);
    CHECK_INT(cutune_simulate(NULL, &o, NULL, NULL, &r), CUTUNE_EINVAL);
    o = (cutune_search_options){.budget = 5}; /* no strategy named: BO */
    CHECK_INT(cutune_simulate(c, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(r.evaluations, 5);
    CHECK(cutune_strategy_summary("bo") != NULL);
    CHECK(cutune_strategy_summary("nope") == NULL);
    cutune_cache_free(c);
}

/* ---------------------------------------------------- BO on a function, over a domain ---- */

/* 4 parameters x 10 values: 10,000 configurations */
static const char *grid_spec =
    "{\"ConfigurationSpace\": {\"TuningParameters\": ["
    "{\"Name\": \"a\", \"Values\": \"range(10)\"}, {\"Name\": \"b\", \"Values\": \"range(10)\"},"
    "{\"Name\": \"c\", \"Values\": \"range(10)\"}, {\"Name\": \"d\", \"Values\": \"range(10)\"}]}}";

typedef struct objective {
    const ct_domain *d;
    int failing_region; /* configurations with a >= 6 fail */
    size_t failures;
} objective;

/* A smooth valley with its floor off the grid, near the failing region's edge. */
static int measure(void *self, size_t i, double *time_ms, const char **failure)
{
    objective *o = self;
    const uint32_t *cfg = ct_domain_config(o->d, i);
    if (o->failing_region && cfg[0] >= 6) {
        *time_ms = NAN;
        *failure = "RuntimeFailedConfig";
        o->failures++;
        return CUTUNE_OK;
    }
    static const double centre[4] = {4.6, 2.3, 7.2, 5.5}, weight[4] = {1.0, 0.6, 0.3, 0.15};
    double t = 1.0;
    for (int j = 0; j < 4; j++)
        t += weight[j] * (cfg[j] - centre[j]) * (cfg[j] - centre[j]);
    *time_ms = t;
    return CUTUNE_OK;
}

/* BO, one at a time and in batches of 4, against random search. */
static void test_bo_beats_random(void)
{
    cutune_space *space;
    CHECK_INT(cutune_space_load_t1_buffer(&space, grid_spec, strlen(grid_spec), "grid"), 0);
    ct_domain d;
    CHECK_INT(ct_domain_from_space(&d, space, 100000), CUTUNE_OK);
    CHECK_INT(d.n, 10000);
    const double optimum = 1 + 0.16 + 0.6 * 0.09 + 0.3 * 0.04 + 0.15 * 0.25;
    enum { BO, BO_BATCH, RANDOM, RUNS };
    const char *names[RUNS] = {"bo", "bo", "random"};
    const unsigned batch[RUNS] = {1, 4, 1};
    for (int failing = 0; failing <= 1; failing++) {
        double regret[RUNS] = {0};
        size_t failures[RUNS] = {0}, wins[RUNS] = {0};
        for (uint64_t seed = 1; seed <= 10; seed++) {
            double best[RUNS];
            for (int s = 0; s < RUNS; s++) {
                objective obj = {.d = &d, .failing_region = failing};
                cutune_search_options o = {.strategy = names[s], .budget = 60, .seed = seed,
                                           .batch = batch[s]};
                cutune_search_result r;
                ct_backend b = {.measure = measure, .self = &obj};
                CHECK_INT(ct_search_run(&d, &o, &b, NULL, NULL, &r),
                          CUTUNE_OK);
                CHECK_INT(r.evaluations, 60);
                best[s] = r.best_ms;
                regret[s] += r.best_ms - optimum;
                failures[s] += obj.failures;
            }
            for (int s = BO; s <= BO_BATCH; s++)
                wins[s] += best[s] < best[RANDOM];
        }
        for (int s = BO; s <= BO_BATCH; s++) {
            if (!(regret[s] < 0.25 * regret[RANDOM] && wins[s] >= 9)) {
                fprintf(stderr, "BO (batch %u)%s: regret %g against random's %g, won %zu of 10\n",
                        batch[s], failing ? " (failing region)" : "", regret[s] / 10,
                        regret[RANDOM] / 10, wins[s]);
                check_failures++;
            }
            /* 40% of the space fails: random meets about 24 failures in 60 draws. BO models
             * a failure as slow and keeps away, though the optimum lies next to the region:
             * at the time of writing it met 90 in 10 sessions against random's 266 */
            if (failing && !(failures[s] * 2 < failures[RANDOM])) {
                fprintf(stderr, "BO (batch %u) met %zu failures in 10 sessions, random %zu\n",
                        batch[s], failures[s], failures[RANDOM]);
                check_failures++;
            }
        }
    }
    ct_domain_release(&d);
    cutune_space_free(space);
}

/* ---------------------------------------------------------------- custom objective ---- */

/* A chunk size and a depth, as a pipeline would tune them: cost is smallest at 2^14 bytes
 * and depth 3; chunks under 2^10 bytes do not work. */
static int pipeline_cost(const uint32_t *c, void *user, double *value, const char **failure)
{
    int *calls = user;
    (*calls)++;
    double lg = 8 + c[0], depth = 1 + c[1];
    if (lg < 10) {
        *failure = "chunk too small";
        return 0;
    }
    *value = 1 + (lg - 14) * (lg - 14) * 0.1 + (depth - 3) * (depth - 3) * 0.05;
    return 0;
}

static int stop_after_three(const uint32_t *c, void *user, double *value, const char **failure)
{
    (void)c, (void)failure;
    *value = 1;
    return ++*(int *)user == 3 ? CUTUNE_ECANCELED : 0;
}

static void test_custom_objective(void)
{
    cutune_space *s;
    CHECK_INT(cutune_space_new(&s), CUTUNE_OK);
    int64_t chunk[12], depth[6];
    for (int i = 0; i < 12; i++)
        chunk[i] = (int64_t)1 << (8 + i);
    for (int i = 0; i < 6; i++)
        depth[i] = i + 1;
    CHECK_INT(cutune_space_add_int(s, "chunk_bytes", chunk, 12), CUTUNE_OK);
    CHECK_INT(cutune_space_add_int(s, "depth", depth, 6), CUTUNE_OK);
    static const char *const names[] = {"bo", "random", "brute"};
    for (int k = 0; k < 3; k++) {
        int calls = 0;
        cutune_search_options o = {.strategy = names[k], .budget = k == 2 ? 100 : 30, .seed = 3};
        cutune_search_result r;
        CHECK_INT(cutune_optimize(s, &o, pipeline_cost, &calls, NULL, NULL, &r), CUTUNE_OK);
        CHECK_INT(calls, (int)r.evaluations);
        if (k != 1)
            CHECK(r.best_ms == 1.0); /* bo and brute find the optimum (72 configurations) */
        else
            CHECK(r.best_ms < 1.5);
    }
    int calls = 0;
    cutune_search_options o = {.strategy = "bo", .budget = 30};
    cutune_search_result r;
    CHECK_INT(cutune_optimize(s, &o, stop_after_three, &calls, NULL, NULL, &r), CUTUNE_ECANCELED);
    CHECK_INT(calls, 3);
    CHECK_INT(cutune_optimize(NULL, &o, pipeline_cost, &calls, NULL, NULL, &r), CUTUNE_EINVAL);
    cutune_space_free(s);
}

/* -------------------------------------------------------------------------- peeking ---- */

/* What a backend sees of the strategy's plans, and what it is then asked for. */
typedef struct peeked {
    objective obj;
    size_t order[64], n;           /* configurations measured, in order */
    size_t promised[64][CT_MAX_ANNOUNCED], np[64];
} peeked;

static int measure_peeked(void *self, size_t i, double *t, const char **failure)
{
    peeked *p = self;
    if (p->n < 64)
        p->order[p->n++] = i;
    return measure(&p->obj, i, t, failure);
}

static void note_upcoming(void *self, const size_t *idx, size_t n)
{
    peeked *p = self;
    if (p->n < 64) {
        p->np[p->n] = n;
        memcpy(p->promised[p->n], idx, n * sizeof *idx);
    }
}

/* Peeking changes nothing the search does; brute force, random and LHS announce exactly what
 * they ask for next, BO at least during its initial design and the rest of each batch; none
 * announces more than the budget will measure. */
static void test_peek(void)
{
    cutune_space *space;
    CHECK_INT(cutune_space_load_t1_buffer(&space, grid_spec, strlen(grid_spec), "grid"), 0);
    ct_domain d;
    CHECK_INT(ct_domain_from_space(&d, space, 100000), CUTUNE_OK);
    static const char *const names[] = {"brute", "random", "lhs", "bo", "anneal", "genetic",
                                        "bo"};
    for (int k = 0; k < 7; k++) {
        peeked with = {.obj = {.d = &d}}, without = {.obj = {.d = &d}};
        cutune_search_options o = {.strategy = names[k], .budget = 40, .seed = 7,
                                   .batch = k == 6 ? 4 : 1};
        cutune_search_result r1, r2;
        ct_backend b1 = {.measure = measure_peeked, .self = &with, .upcoming = note_upcoming},
                   b2 = {.measure = measure_peeked, .self = &without};
        CHECK_INT(ct_search_run(&d, &o, &b1, NULL, NULL, &r1), CUTUNE_OK);
        CHECK_INT(ct_search_run(&d, &o, &b2, NULL, NULL, &r2),
                  CUTUNE_OK);
        CHECK_INT(with.n, 40);
        CHECK(memcmp(with.order, without.order, sizeof with.order) == 0);
        CHECK(r1.best_ms == r2.best_ms);
        /* promised next = measured next */
        size_t kept = 0, checked = 0;
        for (size_t j = 0; j < with.n; j++) /* never more than the budget has room for */
            CHECK(with.np[j] <= o.budget - j - 1);
        for (size_t j = 0; j + 1 < with.n; j++)
            if (with.np[j]) {
                checked++;
                kept += with.promised[j][0] == with.order[j + 1];
            }
        if (k < 3)
            CHECK(checked >= 35 && kept == checked);
        if (k == 3) /* the initial design (4 points for a budget of 40), then guesses */
            CHECK(kept >= 3);
        if (k == 4 || k == 5)
            CHECK_INT(checked, 0); /* no peek: nothing announced */
        if (k == 6) /* in batches of 4, three of every four are known a batch ahead */
            CHECK(kept >= 3 + 3 * (40 - 4) / 4 - 1);
        if (k == 3 || k == 6) { /* BO: how often the next was among what it announced */
            size_t among = 0;
            for (size_t j = 0; j + 1 < with.n; j++)
                for (size_t a = 0; a < with.np[j]; a++)
                    among += with.promised[j][a] == with.order[j + 1];
            printf("bo, batch %u: %zu of %zu measured were announced\n", o.batch, among,
                   with.n - 1);
            /* (10 and 30 before the end game's neighbourhood was announced too) */
            CHECK(among >= (k == 3 ? 13u : 29u));
        }
    }
    ct_domain_release(&d);
    cutune_space_free(space);
}

/* A warm start: the backend's first configurations come before the strategy's choices
 * (those out of range or repeated are skipped), are announced ahead, and count. */
static void test_warm_start(void)
{
    cutune_space *space;
    CHECK_INT(cutune_space_load_t1_buffer(&space, grid_spec, strlen(grid_spec), "grid"), 0);
    ct_domain d;
    CHECK_INT(ct_domain_from_space(&d, space, 100000), CUTUNE_OK);
    static const char *const names[] = {"brute", "random", "lhs", "bo", "anneal", "genetic"};
    const size_t first[] = {d.n - 1, 5, d.n - 1, d.n + 7, 3};
    for (int k = 0; k < 6; k++) {
        peeked p = {.obj = {.d = &d}};
        cutune_search_options o = {.strategy = names[k], .budget = 20, .seed = 3};
        cutune_search_result r;
        ct_backend b = {.measure = measure_peeked, .self = &p, .upcoming = note_upcoming,
                        .first = first, .nfirst = 5};
        CHECK_INT(ct_search_run(&d, &o, &b, NULL, NULL, &r), CUTUNE_OK);
        CHECK_INT(r.evaluations, 20);
        CHECK(p.n == 20 && p.order[0] == d.n - 1 && p.order[1] == 5 && p.order[2] == 3);
        CHECK(p.np[0] >= 1 && p.promised[0][0] == 5); /* announced: the next of the list */
        for (size_t j = 3; j < p.n; j++)
            CHECK(p.order[j] != d.n - 1 && p.order[j] != 5 && p.order[j] != 3);
    }
    ct_domain_release(&d);
    cutune_space_free(space);
}

/* ---------------------------------------------------------------------- in flight ---- */

/* Several evaluations in flight, returning in a scrambled order (as ranks of a distributed
 * session finish): the most ever in flight, and each configuration started once. */
typedef struct flights {
    objective obj;
    size_t queue[16], n, most, started;
    uint8_t *seen;
    int twice;
    cutune_rng rng;
} flights;

static int submit_flight(void *self, size_t i)
{
    flights *f = self;
    if (f->n == 16)
        return CUTUNE_EINVAL;
    f->twice += f->seen[i]++ != 0;
    f->queue[f->n++] = i;
    f->started++;
    f->most = f->n > f->most ? f->n : f->most;
    return CUTUNE_OK;
}

static int complete_flight(void *self, size_t *i, double *t, const char **failure)
{
    flights *f = self;
    size_t k = (size_t)cutune_rng_below(&f->rng, f->n);
    *i = f->queue[k];
    f->queue[k] = f->queue[--f->n];
    return measure(&f->obj, *i, t, failure);
}

static int count_calls(const cutune_evaluation *e, void *user)
{
    (void)e;
    return ++*(int *)user == 5 ? CUTUNE_ECANCELED : 0;
}

/* Every strategy keeps 5 in flight, never suggests one in flight or done, and spends the
 * budget exactly (or the whole space); a stop from the caller lets those in flight finish;
 * BO with 8 in flight still beats random search clearly. */
static void test_in_flight(void)
{
    cutune_space *space;
    CHECK_INT(cutune_space_load_t1_buffer(&space, grid_spec, strlen(grid_spec), "grid"), 0);
    ct_domain d;
    CHECK_INT(ct_domain_from_space(&d, space, 100000), CUTUNE_OK);
    for (const char *const *name = cutune_strategy_names(); *name; name++) {
        flights f = {.obj = {.d = &d, .failing_region = 1}, .seen = calloc(d.n, 1)};
        cutune_rng_seed(&f.rng, 11);
        cutune_search_options o = {.strategy = *name, .budget = 150, .seed = 4, .batch = 2};
        ct_backend b = {.submit = submit_flight, .complete = complete_flight, .self = &f,
                        .slots = 5};
        cutune_search_result r;
        CHECK_INT(ct_search_run(&d, &o, &b, NULL, NULL, &r), CUTUNE_OK);
        CHECK_INT(r.evaluations, 150);
        CHECK_INT(f.started, 150);
        CHECK_INT(f.twice, 0);
        CHECK_INT(f.most, 5);
        CHECK_INT(f.n, 0);
        CHECK(r.best_ms < 3.0 || strcmp(*name, "brute") == 0); /* brute: in id order */
        /* the caller stops at the 5th: the 4 others in flight still come back */
        int calls = 0;
        f.n = f.started = 0;
        memset(f.seen, 0, d.n);
        CHECK_INT(ct_search_run(&d, &o, &b, count_calls, &calls, &r), CUTUNE_ECANCELED);
        CHECK_INT(calls, 9);
        CHECK_INT(r.evaluations, 9);
        CHECK_INT(f.n, 0);
        free(f.seen);
    }
    ct_domain_release(&d);
    cutune_space_free(space);

    /* a small space runs out with evaluations in flight: each configuration once */
    CHECK_INT(write_cache_file(tmp("bowl.json"), 3, (const int[]){6, 4, 3}, bowl), 0);
    cutune_cache *c;
    CHECK_INT(cutune_cache_load(&c, tmp("bowl.json"), NULL), CUTUNE_OK);
    if (!c)
        return;
    for (const char *const *name = cutune_strategy_names(); *name; name++) {
        recorded a = {0}, one = {0}, seq = {0};
        cutune_search_options o = {.strategy = *name, .budget = 1000, .seed = 2, .in_flight = 7};
        cutune_search_result r;
        CHECK_INT(cutune_simulate(c, &o, record, &a, &r), CUTUNE_OK);
        CHECK_INT(r.evaluations, 72);
        CHECK_INT(r.stop, CUTUNE_STOP_EXHAUSTED);
        unsigned char seen[72] = {0};
        for (size_t i = 0; i < a.n; i++)
            CHECK(a.entries[i] < 72 && !seen[a.entries[i]]++);
        CHECK(near(r.best_ms, 1.1));
        /* one in flight is one at a time */
        o.budget = 30;
        o.in_flight = 1;
        CHECK_INT(cutune_simulate(c, &o, record, &one, &r), CUTUNE_OK);
        o.in_flight = 0;
        CHECK_INT(cutune_simulate(c, &o, record, &seq, &r), CUTUNE_OK);
        CHECK(one.n == 30 && memcmp(one.entries, seq.entries, sizeof one.entries) == 0);
    }
    cutune_search_options o = {.budget = 5, .in_flight = 1025};
    cutune_search_result r;
    CHECK_INT(cutune_simulate(c, &o, NULL, NULL, &r), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "at most 1024");
    cutune_cache_free(c);
}

/* BO with 8 evaluations in flight, against random search, on the smooth valley. */
static void test_bo_in_flight(void)
{
    cutune_space *space;
    CHECK_INT(cutune_space_load_t1_buffer(&space, grid_spec, strlen(grid_spec), "grid"), 0);
    ct_domain d;
    CHECK_INT(ct_domain_from_space(&d, space, 100000), CUTUNE_OK);
    const double optimum = 1 + 0.16 + 0.6 * 0.09 + 0.3 * 0.04 + 0.15 * 0.25;
    double regret[2] = {0};
    for (uint64_t seed = 1; seed <= 10; seed++)
        for (int s = 0; s < 2; s++) {
            flights f = {.obj = {.d = &d}, .seen = calloc(d.n, 1)};
            cutune_rng_seed(&f.rng, seed);
            cutune_search_options o = {.strategy = s ? "random" : "bo", .budget = 60,
                                       .seed = seed, .batch = 4};
            ct_backend b = {.submit = submit_flight, .complete = complete_flight, .self = &f,
                            .slots = 8};
            cutune_search_result r;
            CHECK_INT(ct_search_run(&d, &o, &b, NULL, NULL, &r), CUTUNE_OK);
            regret[s] += r.best_ms - optimum;
            free(f.seen);
        }
    if (!(regret[0] < 0.25 * regret[1])) {
        fprintf(stderr, "BO with 8 in flight: regret %g against random's %g\n", regret[0] / 10,
                regret[1] / 10);
        check_failures++;
    }
    ct_domain_release(&d);
    cutune_space_free(space);
}

/* ---------------------------------------------------------------------------- pruning ---- */

/* Blocks of block_size_x * block_size_y threads; those over 1024 were recorded (as a tuner
 * without limits would) with a time too good to be true, 0.01 ms, and cost 1000 + 2 ms each.
 * The rest take 1 + x*y/1024 ms and cost 100 ms. */
static void write_block_cache(const char *path)
{
    static const int xs[] = {128, 256, 512, 1024, 2048}, ys[] = {1, 2, 4};
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"device_name\": \"test\", \"kernel_name\": \"k\", \"tune_params_keys\": "
               "[\"block_size_x\", \"block_size_y\"], \"tune_params\": {\"block_size_x\": "
               "[128, 256, 512, 1024, 2048], \"block_size_y\": [1, 2, 4]}, \"cache\": {");
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 3; j++) {
            int over = xs[i] * ys[j] > 1024;
            fprintf(f, "%s\"%d,%d\": {\"block_size_x\": %d, \"block_size_y\": %d, \"time\": %g, "
                       "\"compile_time\": %d, \"benchmark_time\": 2}",
                    i || j ? ", " : "", xs[i], ys[j], xs[i], ys[j],
                    over ? 0.01 : 1 + xs[i] * ys[j] / 1024.0, over ? 1000 : 98);
        }
    fprintf(f, "}}\n");
    fclose(f);
}

typedef struct prune_log {
    int pruned, measured, bad;
} prune_log;

static int note_pruned(const cutune_evaluation *e, void *user)
{
    prune_log *log = user;
    if (e->pruned) {
        log->pruned++;
        log->bad += !e->failure || strncmp(e->failure, "pruned: ", 8) != 0 ||
                    !strstr(e->failure, "threads per block exceed the limit of 1024");
    } else
        log->measured++;
    return 0;
}

static void test_pruning(void)
{
    write_block_cache(tmp("blocks.json"));
    cutune_cache *c;
    CHECK_INT(cutune_cache_load(&c, tmp("blocks.json"), NULL), CUTUNE_OK);
    cutune_arch arch;
    CHECK_INT(cutune_arch_find("sm_90", &arch), CUTUNE_OK);
    /* 2048x1, 2048x2, 2048x4, 1024x2, 1024x4, 512x4 cannot launch: 6 of 15 */
    static const char *const strategies[] = {"brute", "random", "lhs", "anneal", "genetic", "bo"};
    for (int s = 0; s < 6; s++) {
        cutune_search_options o = {.strategy = strategies[s], .budget = 100, .seed = 3,
                                   .arch = &arch};
        cutune_search_result r;
        prune_log log = {0};
        CHECK_INT(cutune_simulate(c, &o, note_pruned, &log, &r), CUTUNE_OK);
        CHECK_INT(r.stop, CUTUNE_STOP_EXHAUSTED);
        CHECK_INT(r.pruned, 6);
        CHECK_INT(r.evaluations, 9); /* pruned ones cost no evaluation */
        CHECK_INT(log.pruned, 6);
        CHECK_INT(log.measured, 9);
        CHECK_INT(log.bad, 0);
        CHECK(near(r.pruned_cost_s, 6 * 1.002));
        CHECK(near(r.best_ms, 1 + 128 / 1024.0)); /* never the 0.01 ms that cannot launch */
        /* a budget spends only on what launches */
        o.budget = 5;
        CHECK_INT(cutune_simulate(c, &o, NULL, NULL, &r), CUTUNE_OK);
        CHECK_INT(r.evaluations, 5);
        CHECK(r.stop == CUTUNE_STOP_BUDGET);
    }
    /* without an architecture every entry is measured, the impossible one wins */
    cutune_search_options o = {.strategy = "brute", .budget = 100};
    cutune_search_result r;
    CHECK_INT(cutune_simulate(c, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(r.pruned, 0);
    CHECK_INT(r.evaluations, 15);
    CHECK(near(r.best_ms, 0.01));
    /* an architecture that makes no sense is refused, not used */
    arch.warp_size = 0;
    o.arch = &arch;
    CHECK_INT(cutune_simulate(c, &o, NULL, NULL, &r), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "power of two");
    cutune_cache_free(c);
}

static int setup(void) { return make_test_dir(dir); }

static void teardown(void) { remove_test_dir(dir); }

TEST_LIST(TEST_CASE(test_score_by_hand) TEST_CASE(test_baseline_fast) TEST_CASE(test_sessions)
          TEST_CASE(test_bo_beats_random) TEST_CASE(test_peek) TEST_CASE(test_warm_start)
          TEST_CASE(test_in_flight) TEST_CASE(test_bo_in_flight) TEST_CASE(test_custom_objective)
          TEST_CASE(test_pruning));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
