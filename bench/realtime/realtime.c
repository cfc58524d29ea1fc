/* realtime.c — the demo workloads' model and CPU references (realtime.h). The model is drawn
 * from Philox, so the GPU run and these references start from the same numbers anywhere. */
#include "realtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.283185307179586

void rt_philox(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        if (r) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = (uint32_t)p1;
        c[2] = n2;
        c[3] = (uint32_t)p0;
    }
}

/* a 53-bit uniform in (0, 1) from two words */
static double unit(uint32_t hi, uint32_t lo)
{
    return ((double)((((uint64_t)hi << 32) | lo) >> 11) + 0.5) * 0x1.0p-53;
}

double rt_noise(uint32_t i, uint64_t step, uint64_t seed)
{
    uint32_t c[4] = {i, (uint32_t)step, (uint32_t)(step >> 32), 0u};
    rt_philox(c, (uint32_t)seed, (uint32_t)(seed >> 32));
    return sqrt(-2.0 * log(unit(c[0], c[1]))) * cos(TWO_PI * unit(c[2], c[3]));
}

/* The model's numbers: element `index` of array `stream`, uniform in (0, 1); a counter space
 * of its own (word 3 is 1, the noise's is 0). */
static double draw(uint64_t seed, uint32_t stream, uint64_t index)
{
    uint32_t c[4] = {(uint32_t)index, (uint32_t)(index >> 32), stream, 1u};
    rt_philox(c, (uint32_t)seed, (uint32_t)(seed >> 32));
    return unit(c[0], c[1]);
}

static double *filled(size_t n, uint64_t seed, uint32_t stream, double lo, double hi)
{
    double *x = malloc(sizeof(double) * n);
    for (size_t i = 0; x && i < n; i++)
        x[i] = lo + (hi - lo) * draw(seed, stream, i);
    return x;
}

void rt_model_free(rt_model *m)
{
    if (!m)
        return;
    double **arrays[] = {&m->theta0, &m->vel0, &m->omega, &m->C, &m->A, &m->B,
                         &m->H, &m->mu_p, &m->o_pref, &m->U, &m->bu};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) {
        free(*arrays[i]);
        *arrays[i] = NULL;
    }
}

int rt_model_init(rt_model *m, int n, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    if (n < 1 || n > 65536)
        return CUTUNE_EINVAL;
    const size_t ns = RT_NS;
    m->n = n;
    m->seed = seed;
    m->K = 2.0 / n; /* coupling of order one whatever N */
    m->gamma = 0.1;
    m->sigma = 0.05;
    m->dt = 0.01;
    m->theta0 = filled((size_t)n, seed, 1, 0, TWO_PI);
    m->vel0 = filled((size_t)n, seed, 2, 0, 0);
    m->omega = filled((size_t)n, seed, 3, -1, 1);
    m->C = filled((size_t)n * n, seed, 4, 0, 1);
    for (int i = 0; m->C && i < n; i++)
        m->C[(size_t)i * n + i] = 0; /* no self-coupling */

    /* a slowly decaying transition with a small random coupling, so 300 sub-steps stay
     * bounded; H spreads each observation over every state */
    m->A = filled(ns * ns, seed, 5, -1e-3 / sqrt((double)ns), 1e-3 / sqrt((double)ns));
    for (size_t i = 0; m->A && i < ns; i++)
        m->A[i * ns + i] += 0.999;
    m->B = filled(ns * RT_NU, seed, 6, -0.01, 0.01);
    m->H = filled((size_t)RT_NO * ns, seed, 7, -1 / sqrt((double)ns), 1 / sqrt((double)ns));
    m->mu_p = filled(ns, seed, 8, 0, 0);
    m->o_pref = filled(RT_NO, seed, 9, -0.5, 0.5);
    m->U = filled((size_t)RT_NP * RT_HORIZON * RT_NU, seed, 10, -1, 1);
    for (int k = 0; m->U && k < RT_HORIZON * RT_NU; k++)
        m->U[k] = 0; /* policy 0: do nothing */
    m->bu = calloc((size_t)RT_HORIZON * ns * RT_NP, sizeof(double));
    m->sp2 = 1.0;
    m->so2 = 0.1;
    m->eta = 0.05;
    m->precision = 1.0;
    m->grad_steps = 10;
    if (!m->theta0 || !m->vel0 || !m->omega || !m->C || !m->A || !m->B || !m->H || !m->mu_p ||
        !m->o_pref || !m->U || !m->bu) {
        rt_model_free(m);
        return CUTUNE_ENOMEM;
    }
    for (int t = 0; t < RT_HORIZON; t++)
        for (size_t i = 0; i < ns; i++)
            for (int p = 0; p < RT_NP; p++) {
                double s = 0;
                for (int u = 0; u < RT_NU; u++)
                    s += m->B[i * RT_NU + u] * m->U[(p * RT_HORIZON + t) * RT_NU + u];
                m->bu[((size_t)t * ns + i) * RT_NP + p] = s;
            }
    return CUTUNE_OK;
}

void rt_osc_steps(const rt_model *m, double *theta, double *vel, uint64_t step0, int steps)
{
    const int n = m->n;
    double *next = malloc(sizeof(double) * 2 * (size_t)n);
    if (!next)
        return;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < n; i++) {
            double acc = 0;
            for (int j = 0; j < n; j++)
                acc += m->C[(size_t)i * n + j] * sin(theta[j] - theta[i]);
            double z = rt_noise((uint32_t)i, step0 + (uint64_t)s, m->seed);
            next[i] = theta[i] + vel[i] * m->dt;
            next[n + i] = vel[i] + (m->omega[i] + m->K * acc - m->gamma * vel[i]) * m->dt +
                          m->sigma * sqrt(m->dt) * z;
        }
        memcpy(theta, next, sizeof(double) * n);
        memcpy(vel, next + n, sizeof(double) * n);
    }
    free(next);
}

void rt_osc_observe(const rt_model *m, const double *theta, const double *vel, double out[4])
{
    memset(out, 0, 4 * sizeof(double));
    for (int i = 0; i < m->n; i++) {
        double pot = 0;
        for (int j = 0; j < m->n; j++)
            pot += m->C[(size_t)i * m->n + j] * cos(theta[j] - theta[i]);
        out[0] += cos(theta[i]);
        out[1] += sin(theta[i]);
        out[2] += 0.5 * vel[i] * vel[i];
        out[3] += -0.5 * m->K * pot;
    }
}

double rt_order(const rt_model *m, const double out[4])
{
    return hypot(out[0], out[1]) / m->n;
}

void rt_observations(const rt_model *m, uint64_t frame, double *o)
{
    for (int k = 0; k < RT_NO; k++) {
        double s = 0;
        for (int j = 0; j < RT_NS; j++)
            s += m->H[(size_t)k * RT_NS + j] * sin(0.05 * (double)frame + 0.01 * j);
        o[k] = s;
    }
}

int rt_ai_step(const rt_model *m, const double *o, double *mu, double *out)
{
    const size_t ns = RT_NS;
    double *S = malloc(sizeof(double) * ns * RT_NP * 2), r[RT_NO], G[RT_NP] = {0};
    if (!S)
        return CUTUNE_ENOMEM;
    for (int g = 0; g < m->grad_steps; g++) {
        for (int k = 0; k < RT_NO; k++) {
            double v = 0;
            for (size_t j = 0; j < ns; j++)
                v += m->H[k * ns + j] * mu[j];
            r[k] = (o[k] - v) / m->so2;
        }
        for (size_t j = 0; j < ns; j++) {
            double grad = 0;
            for (int k = 0; k < RT_NO; k++)
                grad += m->H[k * ns + j] * r[k];
            mu[j] -= m->eta * ((mu[j] - m->mu_p[j]) / m->sp2 - grad);
        }
    }
    double *cur = S, *next = S + ns * RT_NP;
    for (size_t j = 0; j < ns; j++)
        for (int p = 0; p < RT_NP; p++)
            cur[j * RT_NP + p] = mu[j];
    for (int t = 0; t < RT_HORIZON; t++) {
        const double *bu = m->bu + (size_t)t * ns * RT_NP;
        for (int s = 0; s < RT_SUBSTEPS; s++) {
            for (size_t i = 0; i < ns; i++) {
                double acc[RT_NP] = {0};
                for (size_t j = 0; j < ns; j++)
                    for (int p = 0; p < RT_NP; p++)
                        acc[p] += m->A[i * ns + j] * cur[j * RT_NP + p];
                for (int p = 0; p < RT_NP; p++)
                    next[i * RT_NP + p] = acc[p] + bu[i * RT_NP + p];
            }
            double *swap = cur;
            cur = next;
            next = swap;
        }
        for (int k = 0; k < RT_NO; k++)
            for (int p = 0; p < RT_NP; p++) {
                double y = 0;
                for (size_t j = 0; j < ns; j++)
                    y += m->H[k * ns + j] * cur[j * RT_NP + p];
                G[p] += (y - m->o_pref[k]) * (y - m->o_pref[k]) / (2 * m->so2);
            }
    }
    free(S);
    int best = 0;
    for (int p = 1; p < RT_NP; p++)
        best = G[p] < G[best] ? p : best;
    double sum = 0;
    for (int p = 0; p < RT_NP; p++)
        sum += (out[p] = exp(-m->precision * (G[p] - G[best])));
    for (int p = 0; p < RT_NP; p++)
        out[p] /= sum;
    for (int u = 0; u < RT_NU; u++)
        out[RT_NP + u] = m->U[(best * RT_HORIZON + 0) * RT_NU + u];
    out[RT_NP + RT_NU] = best;
    return CUTUNE_OK;
}
