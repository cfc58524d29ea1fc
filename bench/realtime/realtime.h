/* realtime.h — the real-time workloads cutune ships as its demos: a damped, noisy Kuramoto
 * oscillator network (kernels/oscillators.cu) and an active-inference step
 * (kernels/active_inference.cu), their model (made deterministically from a seed), their CPU
 * references, and the GPU frame that runs both (realtime_gpu.c). */
#ifndef CUTUNE_REALTIME_H
#define CUTUNE_REALTIME_H

#include "cutune.h"

#include <stddef.h>
#include <stdint.h>

#define RT_NS 900      /* hidden states of the active-inference model */
#define RT_NO 100      /* observations */
#define RT_NU 6        /* controls */
#define RT_NP 5        /* policies */
#define RT_HORIZON 3   /* steps per policy */
#define RT_SUBSTEPS 100 /* transitions per horizon step */
#define RT_OSC_STEPS 100 /* oscillator steps per frame */
#define RT_AI_OUT (RT_NP + RT_NU + 1) /* policy probabilities, action, chosen policy */

typedef struct rt_model {
    /* oscillators: N of them, coupling K C, damping gamma, noise sigma, time step dt */
    int n;
    double K, gamma, sigma, dt;
    uint64_t seed;
    double *theta0, *vel0, *omega, *C;
    /* active inference: transition A (NS x NS) and B (NS x NU), observation Jacobian H
     * (NO x NS), prior mean mu_p and variance sp2, observation variance so2, preferred
     * observations, policies U[p][t][u], their B u per horizon step bu[t][i][p], gradient
     * steps of size eta, policy precision */
    double *A, *B, *H, *mu_p, *o_pref, *U, *bu;
    double sp2, so2, eta, precision;
    int grad_steps;
} rt_model;

/* The model with n oscillators (>= 1); CUTUNE_ENOMEM or CUTUNE_EINVAL with a message. */
int rt_model_init(rt_model *m, int n, uint64_t seed);
void rt_model_free(rt_model *m);

/* Philox4x32-10 on a counter, in place; and the standard normal the kernels draw for
 * oscillator i at a step. */
void rt_philox(uint32_t c[4], uint32_t k0, uint32_t k1);
double rt_noise(uint32_t i, uint64_t step, uint64_t seed);

/* `steps` Euler–Maruyama steps from step number step0, in place. */
void rt_osc_steps(const rt_model *m, double *theta, double *vel, uint64_t step0, int steps);
/* out: sum cos theta, sum sin theta, kinetic energy, potential energy (osc_observe's). */
void rt_osc_observe(const rt_model *m, const double *theta, const double *vel, double out[4]);
/* The order parameter r = |mean e^{i theta}| from osc_observe's sums. */
double rt_order(const rt_model *m, const double out[4]);

/* One active-inference step on observations o: mu (RT_NS, the belief, updated in place),
 * out: RT_AI_OUT values (ai_choose's). */
int rt_ai_step(const rt_model *m, const double *o, double *mu, double *out);
/* This frame's synthetic observations (a slow drift of the hidden state, seen through H). */
void rt_observations(const rt_model *m, uint64_t frame, double *o);

#endif
