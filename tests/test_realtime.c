/* test_realtime.c — the demo workloads' CPU side (bench/realtime/realtime.c): Philox against
 * Random123's known answers, the noise's moments, the oscillator step against its closed
 * form when coupling, damping and noise are off, the belief update converging to the
 * posterior mean, and the policy choice's invariants. */
#include "check.h"
#include "realtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_philox(void)
{
    /* Random123's tests/kat_vectors, the three philox4x32 10 lines: counter, key, result */
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int v = 0; v < 3; v++) {
        uint32_t c[4] = {kat[v][0], kat[v][1], kat[v][2], kat[v][3]};
        rt_philox(c, kat[v][4], kat[v][5]);
        for (int k = 0; k < 4; k++)
            CHECK_INT(c[k], kat[v][6 + k]);
    }
    /* 200,000 draws: mean 0, variance 1 (standard errors 0.0022 and 0.0032) */
    double sum = 0, sq = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double z = rt_noise((uint32_t)(i % 1000), (uint64_t)(i / 1000), 42);
        sum += z;
        sq += z * z;
    }
    CHECK(fabs(sum / n) < 0.012);
    CHECK(fabs(sq / n - 1) < 0.016);
    CHECK(rt_noise(3, 7, 1) == rt_noise(3, 7, 1) && rt_noise(3, 7, 1) != rt_noise(3, 8, 1));
}

static void test_oscillators(void)
{
    rt_model m;
    CHECK_INT(rt_model_init(&m, 0, 5), CUTUNE_EINVAL);
    CHECK_INT(rt_model_init(&m, 65537, 5), CUTUNE_EINVAL);
    CHECK_INT(rt_model_init(&m, 64, 5), CUTUNE_OK);
    /* free rotation: theta_s = theta_0 + s v_0 dt + omega dt^2 s (s - 1) / 2 */
    m.K = m.gamma = m.sigma = 0;
    double theta[64], vel[64];
    for (int i = 0; i < 64; i++) {
        theta[i] = m.theta0[i];
        vel[i] = 0.5;
    }
    const int s = 37;
    rt_osc_steps(&m, theta, vel, 0, s);
    for (int i = 0; i < 64; i++) {
        double want = m.theta0[i] + s * 0.5 * m.dt + m.omega[i] * m.dt * m.dt * s * (s - 1) / 2;
        CHECK(fabs(theta[i] - want) < 1e-12);
        CHECK(fabs(vel[i] - (0.5 + s * m.omega[i] * m.dt)) < 1e-12);
    }
    /* all in phase: r = 1; the potential is -(K/2) sum C */
    for (int i = 0; i < 64; i++)
        theta[i] = 1.25;
    double out[4], csum = 0;
    m.K = 0.5;
    rt_osc_observe(&m, theta, vel, out);
    for (int i = 0; i < 64 * 64; i++)
        csum += m.C[i];
    CHECK(fabs(rt_order(&m, out) - 1) < 1e-12);
    CHECK(fabs(out[3] + 0.25 * csum) < 1e-9);
    rt_model_free(&m);
}

static void test_active_inference(void)
{
    rt_model m;
    CHECK_INT(rt_model_init(&m, 16, 9), CUTUNE_OK);
    double o[RT_NO], out[RT_AI_OUT], *mu = calloc(RT_NS, sizeof(double));
    rt_observations(&m, 3, o);
    /* many gradient steps: the posterior mean, where the free energy's gradient vanishes */
    m.grad_steps = 400;
    CHECK_INT(rt_ai_step(&m, o, mu, out), CUTUNE_OK);
    double r[RT_NO], gmax = 0;
    for (int k = 0; k < RT_NO; k++) {
        double v = 0;
        for (int j = 0; j < RT_NS; j++)
            v += m.H[k * RT_NS + j] * mu[j];
        r[k] = (o[k] - v) / m.so2;
    }
    for (int j = 0; j < RT_NS; j++) {
        double g = (mu[j] - m.mu_p[j]) / m.sp2;
        for (int k = 0; k < RT_NO; k++)
            g -= m.H[k * RT_NS + j] * r[k];
        gmax = fmax(gmax, fabs(g));
    }
    CHECK(gmax < 1e-8);
    /* probabilities sum to one; the chosen policy is the likeliest, its first control acted */
    double total = 0;
    int best = (int)out[RT_NP + RT_NU];
    for (int p = 0; p < RT_NP; p++) {
        total += out[p];
        CHECK(out[p] <= out[best]);
    }
    CHECK(fabs(total - 1) < 1e-12 && best >= 0 && best < RT_NP);
    for (int u = 0; u < RT_NU; u++)
        CHECK(out[RT_NP + u] == m.U[(best * RT_HORIZON) * RT_NU + u]);
    free(mu);
    rt_model_free(&m);
}

TEST_LIST(TEST_CASE(test_philox) TEST_CASE(test_oscillators) TEST_CASE(test_active_inference));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
