/* gp.h — a Gaussian process over a domain's configurations for Bayesian optimisation:
 * Matérn 5/2 with one length scale per dimension, hyperparameters by maximum marginal
 * likelihood, and every candidate's posterior kept up to date as observations arrive. */
#ifndef CUTUNE_GP_H
#define CUTUNE_GP_H

#include "../search.h"

typedef struct ct_gp ct_gp;

/* `capacity`: most observations in the working set. */
int ct_gp_new(ct_gp **out, const ct_domain *d, size_t capacity, cutune_rng *rng);
void ct_gp_free(ct_gp *g);

/* Chooses length scales and noise that maximise the marginal likelihood of (x, y), n points
 * (a subset of at most 96 is used when there are more; with fewer than 8, the scales stay
 * those of the prior: long, see gp.c); `measured_var`: the variance the
 * measurements themselves are known to have, in units of y squared, below which the noise is
 * not taken (0: no such floor). Call ct_gp_reset afterwards. */
int ct_gp_fit(ct_gp *g, const size_t *x, const double *y, size_t n, double measured_var);

/* The working set holds observations: a configuration and its value, or NaN for one that
 * failed. A failed point's value is decided only when predicting (BO counts it as slow as
 * the slowest success, which changes as successes arrive), so keeping the posterior mean of
 * every candidate up to date costs O(candidates) per added point, not a pass over V. */

/* Makes (x, y)[0..n) the working set: O(n^2 * candidates). */
int ct_gp_reset(ct_gp *g, const size_t *x, const double *y, size_t n);
/* Adds one point to the working set: O(n * candidates). Fails when it is full. */
int ct_gp_add(ct_gp *g, size_t x, double y);
/* Points added after a mark can be taken back in O(candidates) each (a batch's guesses):
 * rollback fails (CUTUNE_EINVAL) when the working set was rebuilt since the mark. */
typedef struct ct_gp_mark {
    size_t n, resets;
} ct_gp_mark;
ct_gp_mark ct_gp_get_mark(const ct_gp *g);
int ct_gp_rollback(ct_gp *g, ct_gp_mark mark);
size_t ct_gp_size(const ct_gp *g);
size_t ct_gp_capacity(const ct_gp *g);
/* Posterior of every configuration (NaN where not a candidate), failed points taking the
 * value `fail_value`. The values are standardised inside: mean and sd are in units of their
 * standard deviation around their mean, and `best` receives the standardised `y_best`. */
int ct_gp_predict(ct_gp *g, double fail_value, double y_best, const double **mean,
                  const double **sd, double *best);
/* A value in the units of the last prediction back in the units of y. */
double ct_gp_unstandardise(const ct_gp *g, double z);

#endif
