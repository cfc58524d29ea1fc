/* measure.c — the median's confidence interval and the stopping verdict (measure.h). */
#include "measure.h"
#include "cutune.h"

#include <math.h>
#include <stddef.h>

/* The largest k (1-based) with P(B < k) <= 0.025 for B ~ Binomial(n, 1/2): the interval
 * [t(k), t(n + 1 - k)] of the sorted times then holds the median with probability >= 95%.
 * 0 when no k qualifies (n < 6). */
static int lower_rank(int n)
{
    double p = ldexp(1.0, -n), cdf = 0; /* P(B = 0) */
    int k = 0;
    for (int j = 0; j <= n; j++) {
        cdf += p;          /* P(B <= j) = P(B < j + 1) */
        if (cdf > 0.025)
            break;
        k = j + 1;
        p = p * (n - j) / (j + 1);
    }
    return k;
}

void ct_median_interval(const double *times, int n, double *median, double *lo, double *hi)
{
    double s[CUTUNE_MAX_TIMED_LAUNCHES];
    if (n > CUTUNE_MAX_TIMED_LAUNCHES)
        n = CUTUNE_MAX_TIMED_LAUNCHES;
    if (n <= 0) {
        *median = *lo = *hi = NAN;
        return;
    }
    for (int i = 0; i < n; i++) { /* insertion sort: at most 64 */
        int j = i;
        for (; j > 0 && s[j - 1] > times[i]; j--)
            s[j] = s[j - 1];
        s[j] = times[i];
    }
    *median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    int k = lower_rank(n);
    *lo = k ? s[k - 1] : s[0];
    *hi = k ? s[n - k] : s[n - 1];
}

ct_measure_verdict ct_measure_decide(const double *times, int n, const ct_measure_rule *rule)
{
    if (n >= rule->max_launches)
        return CT_MEASURE_AT_CAP;
    if (rule->precision <= 0 || n < rule->min_launches)
        return CT_MEASURE_GO_ON;
    double median, lo, hi;
    ct_median_interval(times, n, &median, &lo, &hi);
    if ((hi - lo) / 2 <= rule->precision * median)
        return CT_MEASURE_PRECISE;
    /* not yet precise, but certainly slower than the best: no more launches needed */
    if (!isnan(rule->best_ms) && lo > rule->best_ms)
        return CT_MEASURE_RACED;
    return CT_MEASURE_GO_ON;
}
