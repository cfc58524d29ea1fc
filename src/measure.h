/* measure.h — when to stop timing a configuration (measure.c): the median of its timed
 * launches with a confidence interval that assumes no distribution, and the verdict after
 * each launch: go on, precise enough, at the cap, or clearly slower than the best so far
 * (raced out). Pure functions of the times: the worker applies them as it times. */
#ifndef CUTUNE_MEASURE_H
#define CUTUNE_MEASURE_H

/* The median of n times (any order), and the interval [lo, hi] between the order statistics
 * that hold it with probability at least 0.95 (ranks from the binomial distribution of how
 * many fall below the median). Fewer than 6 times cannot give 95%: the interval is then
 * their whole range. n 0: NaNs. */
void ct_median_interval(const double *times, int n, double *median, double *lo, double *hi);

typedef struct ct_measure_rule {
    int min_launches;  /* timed launches before any verdict but the cap (at least 1) */
    int max_launches;  /* the cap */
    double precision;  /* stop once the interval's half-width is at most this fraction of
                          the median (0: time max_launches, as a fixed count) */
    double best_ms;    /* the fastest median so far (NaN: none): racing stops a
                          configuration whose interval lies wholly above it */
} ct_measure_rule;

typedef enum ct_measure_verdict {
    CT_MEASURE_GO_ON = 0,
    CT_MEASURE_PRECISE, /* the interval is as narrow as asked */
    CT_MEASURE_AT_CAP,  /* max_launches timed */
    CT_MEASURE_RACED    /* not yet precise, but slower than the best so far with 95%
                           confidence */
} ct_measure_verdict;

/* What to do after the n-th timed launch. Racing and precision apply from min_launches on;
 * racing only where precision is asked (a fixed count times them all). */
ct_measure_verdict ct_measure_decide(const double *times, int n, const ct_measure_rule *rule);

#endif
