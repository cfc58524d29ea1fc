/* gp.c — the Gaussian process behind BO. Covariance sf2 * (R + g I), R Matérn 5/2 over
 * value-index coordinates with one length scale per dimension; sf2 is profiled out of the
 * likelihood. For every candidate it keeps v = L^-1 r (L: Cholesky factor of R + g I, r: its
 * correlations with the working set), so one more observation costs one matrix-vector product
 * over the candidates rather than a refactorisation. The posterior mean is linear in the
 * targets; writing them as value + fail_value * failed - mu * 1 and keeping each candidate's
 * product with L^-1 of those three vectors makes a prediction O(candidates).
 * Linear algebra: LAPACKE and CBLAS. */
#include "gp.h"

#include <cblas.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

#define FIT_MAX 96              /* points used to fit hyperparameters */
#define FIT_MIN 8               /* points the fit needs: fewer keep the prior scales */
#define PRIOR_SCALE 4.0         /* length scale before the first fit (see ct_gp_new) */
#define FIT_EVALUATIONS 120     /* likelihood evaluations of the pattern search, at most */
#define ALIGN_MIN_POINTS 20     /* points the fit needs before alignment features join */
#define IRRELEVANT 1e6          /* a length scale that makes a feature count for nothing */
#define MAX_CAND_DOUBLES (1u << 24) /* V is capped at 128 MiB: larger domains are subsampled */

struct ct_gp {
    const ct_domain *d;
    /* the input features: the domain's dimensions, then one alignment feature per integer
     * parameter that mixes powers of two with other sizes (see alignment_feature) */
    size_t nf;
    size_t *f_param, *f_size; /* parameter of each feature, and its number of values */
    const double **f_coord;   /* f_coord[f][v]: value v's position on feature f */
    double *f_own;            /* the alignment features' positions */
    cutune_rng *rng;
    size_t cap, n;
    double *ell;       /* length scale per dimension */
    double noise;      /* g: noise variance relative to sf2 */
    double *table;     /* per dimension, 5 (distance / length scale)^2 by pair of values */
    size_t *table_off;
    size_t *x;         /* working set */
    double *ys;        /* its values, 0 where failed */
    double *fl;        /* 1 where failed, else 0 */
    double *u, *w, *o; /* L^-1 ys, L^-1 fl, L^-1 1 */
    double *L;         /* cap x cap, row-major lower triangle */
    size_t nc;
    size_t *cand;      /* candidates (domain indices) */
    double *V;         /* nc x cap */
    double *sumsq;     /* |v|^2 per candidate */
    double *vu;        /* per candidate: v.u, v.w, v.o (3 each, interleaved) */
    double *vl, *rx;   /* scratch per candidate: V l, and the correlation with a new point */
    double *mean, *sd; /* per domain index (NaN where not a candidate) */
    double *work;      /* scratch: 4 * cap */
    double mu, sigma;  /* the standardisation of the last prediction */
    size_t resets;     /* times the working set was rebuilt (see ct_gp_rollback) */
};

static void build_tables(ct_gp *g)
{
    for (size_t j = 0; j < g->nf; j++) {
        size_t values = g->f_size[j];
        double *t = g->table + g->table_off[j];
        for (size_t a = 0; a < values; a++)
            for (size_t b = 0; b < values; b++) {
                double r = (g->f_coord[j][a] - g->f_coord[j][b]) / g->ell[j];
                t[a * values + b] = 5.0 * r * r; /* (sqrt(5) r)^2 */
            }
    }
}

static double matern52(double r2)
{
    double r = sqrt(r2);
    return (1.0 + r + r2 / 3.0) * exp(-r);
}

/* Matérn 5/2 correlation between configurations a and b. */
static double corr(const ct_gp *g, size_t a, size_t b)
{
    const ct_domain *d = g->d;
    const uint32_t *ca = ct_domain_config(d, a), *cb = ct_domain_config(d, b);
    double r2 = 0;
    for (size_t j = 0; j < g->nf; j++) {
        size_t p = g->f_param[j];
        r2 += g->table[g->table_off[j] + ca[p] * g->f_size[j] + cb[p]];
    }
    return matern52(r2);
}

/* Correlations of every candidate with configuration x (the hot loop of an addition: the
 * table rows of x's values are looked up once). */
static void corr_with(const ct_gp *g, size_t x, double *out)
{
    const ct_domain *d = g->d;
    const uint32_t *cx = ct_domain_config(d, x);
    const double *row[64];
    size_t param[64], nd = g->nf < 64 ? g->nf : 0;
    for (size_t j = 0; j < nd; j++) {
        param[j] = g->f_param[j];
        row[j] = g->table + g->table_off[j] + cx[param[j]] * g->f_size[j];
    }
    for (size_t c = 0; c < g->nc; c++) {
        if (!nd) { /* more dimensions than rows kept: the general path */
            out[c] = corr(g, g->cand[c], x);
            continue;
        }
        const uint32_t *cc = ct_domain_config(d, g->cand[c]);
        double r2 = 0;
        for (size_t j = 0; j < nd; j++)
            r2 += row[j][cc[param[j]]];
        out[c] = matern52(r2);
    }
}

/* Sizes that are powers of two line up with warps, wavefronts, shared-memory banks and
 * memory transactions; 48 or 80 threads do not, whatever their magnitude. So an integer
 * parameter whose values mix powers of two with other sizes gets a second feature besides
 * its magnitude: log2 of its odd part (0 for 16, 32, 64; log2 3 for 48 and 96; log2 5 for 80),
 * scaled to [0, 1]. Returns 0 when the parameter has no such mix. */
static int alignment_feature(const cutune_space *space, size_t p, double *coord)
{
    size_t values = cutune_space_param_size(space, p), powers = 0;
    if (cutune_space_param_type(space, p) != CUTUNE_INT || values < 3)
        return 0;
    double top = 0;
    for (size_t v = 0; v < values; v++) {
        char buf[32];
        cutune_space_format_value(space, p, v, buf, sizeof buf);
        long long x = strtoll(buf, NULL, 10);
        if (x <= 0)
            return 0;
        while (x % 2 == 0)
            x /= 2;
        powers += x == 1;
        coord[v] = log2((double)x);
        top = coord[v] > top ? coord[v] : top;
    }
    if (powers == 0 || powers == values)
        return 0;
    for (size_t v = 0; v < values; v++)
        coord[v] /= top;
    return 1;
}

/* The features: every dimension of the domain, then the alignment features. */
static int make_features(ct_gp *g)
{
    const ct_domain *d = g->d;
    size_t most = 2 * d->nd + 1, own = 0;
    for (size_t j = 0; j < d->nd; j++)
        own += d->dim_size[j];
    g->f_param = malloc(most * sizeof *g->f_param);
    g->f_size = malloc(most * sizeof *g->f_size);
    g->f_coord = malloc(most * sizeof *g->f_coord);
    g->f_own = malloc((own + 1) * sizeof *g->f_own);
    if (!g->f_param || !g->f_size || !g->f_coord || !g->f_own)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t j = 0; j < d->nd; j++) {
        g->f_param[j] = d->dim_param[j];
        g->f_size[j] = d->dim_size[j];
        g->f_coord[j] = d->coord[j];
    }
    g->nf = d->nd;
    double *next = g->f_own;
    for (size_t j = 0; j < d->nd; j++)
        if (alignment_feature(d->space, d->dim_param[j], next)) {
            g->f_param[g->nf] = d->dim_param[j];
            g->f_size[g->nf] = d->dim_size[j];
            g->f_coord[g->nf++] = next;
            next += d->dim_size[j];
        }
    return CUTUNE_OK;
}

int ct_gp_new(ct_gp **out, const ct_domain *d, size_t capacity, cutune_rng *rng)
{
    ct_gp *g = calloc(1, sizeof *g);
    if (!g)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    g->d = d;
    g->rng = rng;
    g->cap = capacity;
    if (make_features(g)) {
        ct_gp_free(g);
        return CUTUNE_ENOMEM;
    }
    size_t total = 0, nd = g->nf ? g->nf : 1;
    g->table_off = malloc(nd * sizeof *g->table_off);
    for (size_t j = 0; g->table_off && j < g->nf; j++) {
        g->table_off[j] = total;
        total += g->f_size[j] * g->f_size[j];
    }
    g->nc = d->n * capacity <= MAX_CAND_DOUBLES ? d->n : MAX_CAND_DOUBLES / capacity;
    g->ell = malloc(nd * sizeof *g->ell);
    g->table = malloc((total ? total : 1) * sizeof *g->table);
    g->x = malloc(capacity * sizeof *g->x);
    g->ys = malloc(5 * capacity * sizeof *g->ys); /* ys, fl, u, w, o */
    if (g->ys) {
        g->fl = g->ys + capacity;
        g->u = g->fl + capacity;
        g->w = g->u + capacity;
        g->o = g->w + capacity;
    }
    g->vu = malloc(3 * g->nc * sizeof *g->vu);
    g->vl = malloc(g->nc * sizeof *g->vl);
    g->rx = malloc(g->nc * sizeof *g->rx);
    g->L = malloc(capacity * capacity * sizeof *g->L);
    g->cand = malloc(g->nc * sizeof *g->cand);
    g->V = malloc(g->nc * capacity * sizeof *g->V);
    g->sumsq = malloc(g->nc * sizeof *g->sumsq);
    g->mean = malloc(d->n * sizeof *g->mean);
    g->sd = malloc(d->n * sizeof *g->sd);
    g->work = malloc(4 * capacity * sizeof *g->work);
    if (!g->table_off || !g->ell || !g->table || !g->x || !g->ys || !g->vu || !g->vl || !g->rx ||
        !g->L || !g->cand || !g->V || !g->sumsq || !g->mean || !g->sd || !g->work) {
        ct_gp_free(g);
        return ct_fail(CUTUNE_ENOMEM, "out of memory for a Gaussian process over %zu "
                       "configurations", d->n);
    }
    /* Until the fit, long scales: a few design points say little about each dimension on
     * its own (fitted, they give near-arbitrary scales), but their trend extrapolates, and
     * what lies far from all of them stays the most uncertain. The alignment features wait
     * for data. */
    for (size_t j = 0; j < g->nf; j++)
        g->ell[j] = j < d->nd ? PRIOR_SCALE : IRRELEVANT;
    g->noise = 1e-3;
    build_tables(g);
    *out = g;
    return CUTUNE_OK;
}

void ct_gp_free(ct_gp *g)
{
    if (!g)
        return;
    free(g->f_param);
    free(g->f_size);
    free(g->f_coord);
    free(g->f_own);
    free(g->ell);
    free(g->table);
    free(g->table_off);
    free(g->x);
    free(g->ys);
    free(g->vu);
    free(g->vl);
    free(g->rx);
    free(g->L);
    free(g->cand);
    free(g->V);
    free(g->sumsq);
    free(g->mean);
    free(g->sd);
    free(g->work);
    free(g);
}

size_t ct_gp_size(const ct_gp *g) { return g->n; }
size_t ct_gp_capacity(const ct_gp *g) { return g->cap; }

/* Cholesky of R + g I over points x[0..n) into L (leading dimension ld). 0 on success. */
static int factor(const ct_gp *g, const size_t *x, size_t n, double *L, size_t ld)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            L[i * ld + j] = corr(g, x[i], x[j]);
        L[i * ld + i] = 1.0 + g->noise;
    }
    return LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, L, (lapack_int)ld) == 0 ? 0 : -1;
}

/* Log marginal likelihood with sf2 profiled out; -inf when R + g I is not positive definite. */
static double log_likelihood(ct_gp *g, const size_t *x, const double *y, size_t n, double *L)
{
    if (factor(g, x, n, L, n))
        return -INFINITY;
    double *beta = g->work;
    memcpy(beta, y, n * sizeof *beta);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (blasint)n, L,
                (blasint)n, beta, 1);
    double quad = cblas_ddot((blasint)n, beta, 1, beta, 1), logdet = 0;
    for (size_t i = 0; i < n; i++)
        logdet += log(L[i * n + i]);
    double sf2 = quad / (double)n;
    if (!(sf2 > 0))
        return -INFINITY;
    return -0.5 * (double)n * log(sf2) - logdet;
}

/* The log marginal likelihood at the current hyperparameters. */
static double fit_objective(ct_gp *g, const size_t *x, const double *y, size_t n, double *L)
{
    build_tables(g);
    return log_likelihood(g, x, y, n, L);
}

static void standardise(const double *y, size_t n, double *out, double *mu, double *sigma)
{
    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        m += y[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++)
        v += (y[i] - m) * (y[i] - m);
    double s = n > 1 ? sqrt(v / (double)(n - 1)) : 1.0;
    if (!(s > 1e-12))
        s = 1.0;
    for (size_t i = 0; i < n; i++)
        out[i] = (y[i] - m) / s;
    *mu = m;
    *sigma = s;
}

int ct_gp_fit(ct_gp *g, const size_t *x_all, const double *y_all, size_t n_all,
              double measured_var)
{
    if (n_all < 3)
        return CUTUNE_OK; /* too little to say anything: keep the defaults */
    size_t n = n_all < FIT_MAX ? n_all : FIT_MAX;
    size_t *x = malloc(n * sizeof *x);
    double *y = malloc(n * sizeof *y), *L = malloc(n * n * sizeof *L);
    size_t *pick = malloc(n_all * sizeof *pick);
    if (!x || !y || !L || !pick) {
        free(x), free(y), free(L), free(pick);
        return ct_fail(CUTUNE_ENOMEM, "out of memory fitting the Gaussian process");
    }
    for (size_t i = 0; i < n_all; i++)
        pick[i] = i;
    if (n < n_all)
        ct_shuffle(g->rng, pick, n_all); /* a random subset keeps the fit cheap */
    double mu, sigma;
    for (size_t i = 0; i < n; i++) {
        x[i] = x_all[pick[i]];
        y[i] = y_all[pick[i]];
    }
    standardise(y, n, y, &mu, &sigma);
    /* the noise is relative to the standardised values' variance (about 1) */
    double floor = measured_var > 0 ? measured_var / (sigma * sigma) : 0;
    floor = floor > 1e-6 ? (floor < 0.5 ? floor : 0.5) : 1e-6;
    if (n_all < FIT_MIN) { /* too little to fit: the prior scales, the noise as measured */
        g->noise = g->noise > floor ? g->noise : floor;
        build_tables(g);
        free(x), free(y), free(L), free(pick);
        return CUTUNE_OK;
    }
    /* the alignment features join once there are points enough to tell them apart */
    size_t active = n >= ALIGN_MIN_POINTS ? g->nf : g->d->nd;

    /* one length scale for all dimensions, on a grid with the noise */
    static const double scales[] = {0.1, 0.17, 0.3, 0.5, 0.8, 1.3, 2.2, 4.0};
    static const double noises[] = {1e-6, 1e-4, 1e-3, 1e-2, 0.05, 0.2};
    double best = -INFINITY, best_scale = 0.5, best_noise = 1e-3;
    for (size_t a = 0; a < sizeof scales / sizeof *scales; a++)
        for (size_t b = 0; b < sizeof noises / sizeof *noises; b += 2) {
            for (size_t j = 0; j < g->nf; j++)
                g->ell[j] = j < active ? scales[a] : IRRELEVANT;
            g->noise = noises[b] > floor ? noises[b] : floor;
            double ll = fit_objective(g, x, y, n, L);
            if (ll > best) {
                best = ll;
                best_scale = scales[a];
                best_noise = g->noise;
            }
        }
    for (size_t j = 0; j < g->nf; j++)
        g->ell[j] = j < active ? best_scale : IRRELEVANT;
    g->noise = best_noise;
    /* then a pattern search on the logarithms of each length scale and of the noise: a
     * step up or down along each in turn, halving the step when none helps */
    size_t evaluations = 0;
    for (double step = 1.0; step > 0.2 && evaluations < FIT_EVALUATIONS; step /= 2) {
        int moved = 1;
        while (moved && evaluations < FIT_EVALUATIONS) {
            moved = 0;
            for (size_t j = 0; j <= active; j++) { /* j == active: the noise */
                double *h = j < active ? &g->ell[j] : &g->noise, keep = *h;
                for (int sign = -1; sign <= 1; sign += 2) {
                    *h = keep * exp(sign * step);
                    if (j == active && (*h < floor || *h > 1.0))
                        continue;
                    double ll = fit_objective(g, x, y, n, L);
                    evaluations++;
                    if (ll > best + 1e-9) {
                        best = ll;
                        keep = *h;
                        moved = 1;
                        break;
                    }
                }
                *h = keep;
            }
        }
    }
    build_tables(g);
    free(x), free(y), free(L), free(pick);
    return CUTUNE_OK;
}

int ct_gp_reset(ct_gp *g, const size_t *x, const double *y, size_t n)
{
    if (n > g->cap)
        return ct_fail(CUTUNE_ETOOBIG, "GP working set of %zu exceeds its capacity %zu", n,
                       g->cap);
    const ct_domain *d = g->d;
    g->resets++;
    memcpy(g->x, x, n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        g->fl[i] = isnan(y[i]);
        g->ys[i] = g->fl[i] ? 0.0 : y[i];
    }
    g->n = n;
    if (factor(g, g->x, n, g->L, g->cap)) { /* duplicate points: more noise fixes it */
        g->noise = g->noise < 1e-2 ? 1e-2 : g->noise * 10;
        build_tables(g);
        if (factor(g, g->x, n, g->L, g->cap))
            return ct_fail(CUTUNE_EDOMAIN, "GP covariance is not positive definite");
    }
    /* candidates: the whole domain, or a fresh random subset of it when it is huge */
    if (g->nc == d->n) {
        for (size_t i = 0; i < d->n; i++)
            g->cand[i] = i;
    } else {
        for (size_t i = 0; i < g->nc; i++)
            g->cand[i] = (size_t)cutune_rng_below(g->rng, d->n);
    }
    for (size_t c = 0; c < g->nc; c++) {
        double *v = g->V + c * g->cap;
        for (size_t i = 0; i < n; i++)
            v[i] = corr(g, g->cand[c], g->x[i]);
    }
    if (n > 0)
        cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit,
                    (blasint)g->nc, (blasint)n, 1.0, g->L, (blasint)g->cap, g->V,
                    (blasint)g->cap);
    for (size_t c = 0; c < g->nc; c++)
        g->sumsq[c] = n ? cblas_ddot((blasint)n, g->V + c * g->cap, 1, g->V + c * g->cap, 1) : 0;
    /* u, w, o as the columns of an n x 3 matrix B; vu = V B */
    double *B = g->work; /* 4 * cap doubles */
    for (size_t i = 0; i < n; i++) {
        B[3 * i] = g->ys[i];
        B[3 * i + 1] = g->fl[i];
        B[3 * i + 2] = 1.0;
    }
    if (n > 0) {
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit,
                    (blasint)n, 3, 1.0, g->L, (blasint)g->cap, B, 3);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)g->nc, 3, (blasint)n,
                    1.0, g->V, (blasint)g->cap, B, 3, 0.0, g->vu, 3);
    } else {
        memset(g->vu, 0, 3 * g->nc * sizeof *g->vu);
    }
    for (size_t i = 0; i < n; i++) {
        g->u[i] = B[3 * i];
        g->w[i] = B[3 * i + 1];
        g->o[i] = B[3 * i + 2];
    }
    return CUTUNE_OK;
}

int ct_gp_add(ct_gp *g, size_t x, double y)
{
    if (g->n == g->cap)
        return ct_fail(CUTUNE_ETOOBIG, "GP working set is full (%zu)", g->cap);
    size_t n = g->n, ld = g->cap;
    double *l = g->L + n * ld; /* the new row of L */
    for (size_t i = 0; i < n; i++)
        l[i] = corr(g, x, g->x[i]);
    if (n > 0)
        cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (blasint)n, g->L,
                    (blasint)ld, l, 1);
    double diag = 1.0 + g->noise - (n ? cblas_ddot((blasint)n, l, 1, l, 1) : 0);
    if (!(diag > 1e-12)) { /* numerically a repeat: refactorise with more noise */
        double *y_all = g->work + g->cap; /* reset reads y before it writes work */
        for (size_t i = 0; i < n; i++)
            y_all[i] = g->fl[i] ? NAN : g->ys[i];
        g->noise = g->noise < 1e-2 ? 1e-2 : g->noise * 10;
        build_tables(g);
        int st = ct_gp_reset(g, g->x, y_all, n);
        return st ? st : ct_gp_add(g, x, y);
    }
    double lnn = l[n] = sqrt(diag);
    /* forward substitution gains one step: the new elements of u, w and o */
    g->fl[n] = isnan(y);
    g->ys[n] = g->fl[n] ? 0.0 : y;
    double un = g->ys[n], wn = g->fl[n], on = 1.0;
    for (size_t i = 0; i < n; i++) {
        un -= l[i] * g->u[i];
        wn -= l[i] * g->w[i];
        on -= l[i] * g->o[i];
    }
    g->u[n] = un /= lnn;
    g->w[n] = wn /= lnn;
    g->o[n] = on /= lnn;
    /* every candidate's v gains one element: (r(c, x) - v . l) / l[n] */
    double *vl = g->vl;
    if (n > 0)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (blasint)g->nc, (blasint)n, 1.0, g->V,
                    (blasint)ld, l, 1, 0.0, vl, 1);
    double *rx = g->rx;
    corr_with(g, x, rx);
    for (size_t c = 0; c < g->nc; c++) {
        double v = (rx[c] - (n ? vl[c] : 0)) / lnn;
        g->V[c * ld + n] = v;
        g->sumsq[c] += v * v;
        g->vu[3 * c] += v * un;
        g->vu[3 * c + 1] += v * wn;
        g->vu[3 * c + 2] += v * on;
    }
    g->x[n] = x;
    g->n = n + 1;
    return CUTUNE_OK;
}

ct_gp_mark ct_gp_get_mark(const ct_gp *g)
{
    return (ct_gp_mark){g->n, g->resets};
}

/* Point j added its column of V to each candidate's |v|^2 and v.(u, w, o): take them off. */
int ct_gp_rollback(ct_gp *g, ct_gp_mark mark)
{
    if (mark.resets != g->resets || mark.n > g->n)
        return CUTUNE_EINVAL;
    for (size_t j = g->n; j-- > mark.n;)
        for (size_t c = 0; c < g->nc; c++) {
            double v = g->V[c * g->cap + j];
            g->sumsq[c] -= v * v;
            g->vu[3 * c] -= v * g->u[j];
            g->vu[3 * c + 1] -= v * g->w[j];
            g->vu[3 * c + 2] -= v * g->o[j];
        }
    g->n = mark.n;
    return CUTUNE_OK;
}

int ct_gp_predict(ct_gp *g, double fail_value, double y_best, const double **mean,
                  const double **sd, double *best)
{
    size_t n = g->n;
    if (n == 0)
        return ct_fail(CUTUNE_EINVAL, "GP has no observations");
    /* standardise the targets t = ys + fail_value * fl: t' = (t - mu) / sigma */
    double *t = g->work, mu, sigma;
    for (size_t i = 0; i < n; i++)
        t[i] = g->ys[i] + fail_value * g->fl[i];
    standardise(t, n, t, &mu, &sigma);
    g->mu = mu;
    g->sigma = sigma;
    /* L^-1 t' from u, w, o; its squared length over n is the profiled signal variance */
    double sf2 = 0;
    for (size_t i = 0; i < n; i++) {
        double beta = (g->u[i] + fail_value * g->w[i] - mu * g->o[i]) / sigma;
        sf2 += beta * beta;
    }
    sf2 /= (double)n;
    if (!(sf2 > 1e-12))
        sf2 = 1e-12;
    for (size_t i = 0; i < g->d->n; i++)
        g->mean[i] = g->sd[i] = NAN;
    for (size_t c = 0; c < g->nc; c++) {
        size_t i = g->cand[c];
        const double *a = g->vu + 3 * c;
        double var = 1.0 - g->sumsq[c];
        g->mean[i] = (a[0] + fail_value * a[1] - mu * a[2]) / sigma;
        g->sd[i] = sqrt(sf2 * (var > 1e-10 ? var : 1e-10));
    }
    *mean = g->mean;
    *sd = g->sd;
    *best = (y_best - mu) / sigma;
    return CUTUNE_OK;
}

double ct_gp_unstandardise(const ct_gp *g, double z)
{
    return g->mu + g->sigma * z;
}

int cutune_set_math_threads(int threads)
{
    if (threads < 1)
        return ct_fail(CUTUNE_EINVAL, "cutune_set_math_threads: %d threads (at least 1)",
                       threads);
    openblas_set_num_threads(threads);
    return CUTUNE_OK;
}
