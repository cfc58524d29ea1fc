/* test_measure.c — when the worker stops timing a configuration (src/measure.c): the
 * median's distribution-free 95% interval (its ranks, and its coverage over many draws from
 * a skewed distribution) and the verdicts: the cap, too few launches, precise enough, raced
 * out by the best so far, and a fixed count when no precision is asked. */
#include "check.h"
#include "cutune.h"
#include "measure.h"

#include <math.h>
#include <stdlib.h>

static void interval_ranks(void)
{
    double m, lo, hi;
    /* 1..n shuffled: the interval is [t(k), t(n + 1 - k)] with k from Binomial(n, 1/2) */
    static const int ks[][2] = {{6, 1}, {7, 1}, {10, 2}, {16, 4}, {32, 10}, {64, 24}};
    for (size_t c = 0; c < sizeof ks / sizeof *ks; c++) {
        int n = ks[c][0], k = ks[c][1];
        double t[64];
        for (int i = 0; i < n; i++)
            t[i] = (double)((i * 37) % n + 1); /* a permutation of 1..n (37 is prime) */
        ct_median_interval(t, n, &m, &lo, &hi);
        CHECK(m == (n + 1) / 2.0);
        CHECK(lo == k && hi == n + 1 - k);
    }
    double five[] = {5, 1, 4, 2, 3}; /* too few for 95%: the whole range */
    ct_median_interval(five, 5, &m, &lo, &hi);
    CHECK(m == 3 && lo == 1 && hi == 5);
    ct_median_interval(five, 1, &m, &lo, &hi);
    CHECK(m == 5 && lo == 5 && hi == 5);
    ct_median_interval(five, 0, &m, &lo, &hi);
    CHECK(isnan(m) && isnan(lo) && isnan(hi));
}

/* Over 4000 sets of launch times drawn from a long-tailed distribution (a lognormal, as
 * launch times are), the interval holds the true median at least 95% of the time (the
 * ranks' exact coverage is 96.7 to 97.9% for these sizes). */
static void coverage(void)
{
    cutune_rng rng;
    cutune_rng_seed(&rng, 7);
    static const int sizes[] = {8, 16, 40, 64};
    for (size_t c = 0; c < sizeof sizes / sizeof *sizes; c++) {
        int n = sizes[c], held = 0, sets = 4000;
        for (int s = 0; s < sets; s++) {
            double t[64];
            for (int i = 0; i < n; i++) { /* Box-Muller: exp(normal) has median exp(0) = 1 */
                double u1 = ((double)(cutune_rng_next(&rng) >> 11) + 1) * 0x1.0p-53;
                double u2 = (double)(cutune_rng_next(&rng) >> 11) * 0x1.0p-53;
                t[i] = exp(0.3 * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
            }
            double m, lo, hi;
            ct_median_interval(t, n, &m, &lo, &hi);
            held += lo <= 1 && 1 <= hi;
        }
        printf("n %d: the interval held the median in %.1f%% of %d sets\n", n,
               100.0 * held / sets, sets);
        CHECK(held >= 0.95 * sets);
    }
}

static void verdicts(void)
{
    double same[64], slow[64], noisy[64];
    for (int i = 0; i < 64; i++) {
        same[i] = 1.0;
        slow[i] = 2.0 + 0.2 * (i % 5); /* 2.0 to 2.8: a wide interval above 1.5 */
        noisy[i] = i % 2 ? 1.0 : 3.0;
    }
    ct_measure_rule fixed = {.min_launches = 5, .max_launches = 7, .precision = 0,
                             .best_ms = 1.0};
    CHECK_INT(ct_measure_decide(slow, 6, &fixed), CT_MEASURE_GO_ON); /* no racing */
    CHECK_INT(ct_measure_decide(same, 6, &fixed), CT_MEASURE_GO_ON);
    CHECK_INT(ct_measure_decide(same, 7, &fixed), CT_MEASURE_AT_CAP);

    ct_measure_rule r = {.min_launches = 6, .max_launches = 64, .precision = 0.01,
                         .best_ms = NAN};
    CHECK_INT(ct_measure_decide(same, 5, &r), CT_MEASURE_GO_ON);   /* below the minimum */
    CHECK_INT(ct_measure_decide(same, 6, &r), CT_MEASURE_PRECISE);
    CHECK_INT(ct_measure_decide(noisy, 40, &r), CT_MEASURE_GO_ON); /* 1 and 3: not precise */
    CHECK_INT(ct_measure_decide(noisy, 64, &r), CT_MEASURE_AT_CAP);
    CHECK_INT(ct_measure_decide(slow, 6, &r), CT_MEASURE_GO_ON);   /* no best yet */
    r.best_ms = 1.5;
    CHECK_INT(ct_measure_decide(slow, 6, &r), CT_MEASURE_RACED);   /* all above the best */
    CHECK_INT(ct_measure_decide(same, 6, &r), CT_MEASURE_PRECISE); /* precise comes first */
    r.best_ms = 2.3;
    CHECK_INT(ct_measure_decide(slow, 10, &r), CT_MEASURE_GO_ON);  /* the best is inside */
    r.best_ms = 2.0;
    CHECK_INT(ct_measure_decide(noisy, 40, &r), CT_MEASURE_GO_ON); /* 1s below it: no race */
}

TEST_LIST(TEST_CASE(interval_ranks) TEST_CASE(coverage) TEST_CASE(verdicts));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
