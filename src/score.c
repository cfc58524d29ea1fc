/* score.c — how a strategy compares with random search on a recorded space: the exact
 * expected best-so-far of random sampling without replacement (order statistics over every
 * entry, failures included), the horizon where it closes 95% of the gap from the median to
 * the optimum, and the score of a strategy's mean best-so-far curve. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

struct cutune_baseline {
    size_t n, valid, horizon;
    double optimum, median;
    double *random; /* B(k), k = 0..n */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cutune_baseline_new(const cutune_cache *cache, cutune_baseline **out)
{
    if (!cache || !out)
        return ct_fail(CUTUNE_EINVAL, "cutune_baseline_new: NULL argument");
    *out = NULL;
    size_t n = cutune_cache_size(cache), m = 0;
    double *t = malloc((n ? n : 1) * sizeof *t);
    cutune_baseline *b = calloc(1, sizeof *b);
    if (b)
        b->random = malloc((n + 1) * sizeof *b->random);
    if (!t || !b || !b->random) {
        free(t);
        cutune_baseline_free(b);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        double v = cutune_cache_time(cache, i, NULL);
        if (!isnan(v))
            t[m++] = v;
    }
    if (m == 0) {
        free(t);
        cutune_baseline_free(b);
        return ct_fail(CUTUNE_EEMPTY, "every configuration of the space failed: there is no "
                       "time to score against");
    }
    qsort(t, m, sizeof *t, cmp_double);
    b->n = n;
    b->valid = m;
    b->optimum = t[0];
    b->median = m % 2 ? t[m / 2] : 0.5 * (t[m / 2 - 1] + t[m / 2]);
    b->random[0] = b->median;
    size_t failed = n - m;
    b->horizon = 0;
    double none = 1.0; /* P(no success among k draws) = C(failed, k) / C(n, k) */
    for (size_t k = 1; k <= n; k++) {
        none *= k - 1 < failed ? (double)(failed - k + 1) / (double)(n - k + 1) : 0.0;
        /* P(best = t_i) = C(n-i, k-1) / C(n, k), i = 1..m, each from the previous. The terms
         * fall geometrically (about (1 - k/n)^i): once what all later ones can add, at most
         * P(none of the first i drawn) times the slowest time, is below the last bit of the
         * sum, they change nothing, and the sum stops there. So B(k) costs about
         * min(m, 42 n / k) steps, and all of B(1..n) O(n log n). */
        double p = (double)k / (double)n, sum = 0, rest = 1.0, slowest = t[m - 1];
        for (size_t i = 1; i <= m && p > 0; i++) {
            sum += t[i - 1] * p;
            rest *= n - i + 1 > k ? (double)(n - i + 1 - k) / (double)(n - i + 1) : 0.0;
            if (rest * slowest <= 0x1p-60 * sum)
                break;
            p *= n - i >= k ? (double)(n - i - k + 1) / (double)(n - i) : 0.0;
        }
        b->random[k] = sum + b->median * none;
        if (!b->horizon && b->median - b->random[k] >= 0.95 * (b->median - b->optimum))
            b->horizon = k;
    }
    if (!b->horizon)
        b->horizon = n;
    free(t);
    *out = b;
    return CUTUNE_OK;
}

void cutune_baseline_free(cutune_baseline *b)
{
    if (!b)
        return;
    free(b->random);
    free(b);
}

double cutune_baseline_optimum(const cutune_baseline *b) { return b ? b->optimum : NAN; }
double cutune_baseline_median(const cutune_baseline *b) { return b ? b->median : NAN; }
size_t cutune_baseline_horizon(const cutune_baseline *b) { return b ? b->horizon : 0; }

double cutune_baseline_random(const cutune_baseline *b, size_t k)
{
    return b && k <= b->n ? b->random[k] : NAN;
}

int cutune_score(const cutune_baseline *b, const double *best_mean, size_t n, double *score)
{
    if (!b || !best_mean || !score)
        return ct_fail(CUTUNE_EINVAL, "cutune_score: NULL argument");
    if (n < b->horizon)
        return ct_fail(CUTUNE_EINVAL, "cutune_score: %zu values given, the horizon is %zu", n,
                       b->horizon);
    double total = 0;
    for (size_t k = 1; k <= b->horizon; k++) {
        double gap = b->random[k] - b->optimum, f = best_mean[k - 1];
        if (gap > 1e-12 * fabs(b->optimum) && gap > 0)
            total += (b->random[k] - f) / gap;
        else /* random is already at the optimum: only matching it counts */
            total += f <= b->optimum * (1 + 1e-12) ? 1.0 : 0.0;
    }
    *score = total / (double)b->horizon;
    return CUTUNE_OK;
}
