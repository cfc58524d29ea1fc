/* active_inference.cu — one active-inference step of a continuous Gaussian model in FP64:
 * a hidden state s of NS values (900: window phases), NO observations o = H s + noise
 * (H: NO x NS), a transition s' = A s + B u (A: NS x NS, B: NS x 6) and NP candidate policies
 * of a control for each of 3 horizon steps, each step 100 sub-steps of the transition.
 *
 *   belief:  gradient steps on the variational free energy of q(s) = N(mu, .) under the prior
 *            N(mu_p, sp2 I) and the likelihood N(H s, so2 I):
 *            dF/dmu = (mu - mu_p) / sp2 - H^T (o - H mu) / so2
 *            (ai_residual then ai_descend, once per gradient step)
 *   predict: for every policy, S <- A S + B u_t, 100 sub-steps per horizon step (ai_predict,
 *            the kernel tuned: kernels/active_inference.json)
 *   score:   after each horizon step the risk of each policy's predicted observations,
 *            G_p += |H s_p - o_pref|^2 / (2 so2) (ai_risk); then a softmax over -G picks the
 *            policy and its first control is the action (ai_choose).
 *
 * The policies' states are a matrix S (NS x NP, row-major: a row holds every policy's value
 * of one state), so that one pass over a row of A serves all of them. Sizes are defines. */

#ifndef NS
#define NS 900
#endif
#ifndef NO
#define NO 100
#endif
#ifndef NP
#define NP 5
#endif
#ifndef NU
#define NU 6
#endif
/* ai_predict's parameters: TPR threads per row of A, ROWS rows per block, BATCH policies per
 * block (1: each policy's product in blocks of its own, A read once per policy; NP: every
 * policy from one pass over A), SMEM 1 stages S in shared memory, VW doubles per load of A,
 * UNROLL the loop over columns. The default is the plain port: a thread a row, 128 a block,
 * a policy at a time, S from global memory. */
#ifndef TPR
#define TPR 1
#endif
#ifndef ROWS
#define ROWS 128
#endif
#ifndef BATCH
#define BATCH 1
#endif
#ifndef SMEM
#define SMEM 0
#endif
#ifndef VW
#define VW 1
#endif
#ifndef UNROLL
#define UNROLL 1
#endif

#define PRAGMA(x) _Pragma(#x)
#define UNROLLED(n) PRAGMA(unroll n)

/* Sum over the TPR threads of a row (consecutive lanes). */
__device__ __forceinline__ double row_sum(double v, int width)
{
    for (int d = width / 2; d > 0; d >>= 1)
        v += __shfl_down_sync(0xffffffffu, v, d, width);
    return v;
}

/* S_out[:, p] = A S_in[:, p] + bu[:, p] for the BATCH policies from blockIdx.y * BATCH (the
 * grid's y covers the NP policies); bu (NS x NP) holds B u_t of the horizon step. */
extern "C" __global__ void __launch_bounds__(TPR * ROWS)
ai_predict(const double *__restrict__ A, const double *__restrict__ S_in,
           double *__restrict__ S_out, const double *__restrict__ bu)
{
    const int first = blockIdx.y * BATCH;
#if SMEM
    __shared__ double s_sh[NS * BATCH];
    for (int k = threadIdx.y * TPR + threadIdx.x; k < NS * BATCH; k += TPR * ROWS)
        s_sh[k] = S_in[(k / BATCH) * NP + first + k % BATCH];
    __syncthreads();
#define S_AT(j, b) s_sh[(j) * BATCH + (b)]
#else
#define S_AT(j, b) S_in[(j) * NP + first + (b)]
#endif
    const int lane = threadIdx.x, i = blockIdx.x * ROWS + threadIdx.y;
    const double *__restrict__ row = A + (size_t)(i < NS ? i : 0) * NS;
    double acc[BATCH];
#pragma unroll
    for (int b = 0; b < BATCH; b++)
        acc[b] = 0.0;
    if (i < NS) {
        UNROLLED(UNROLL)
        for (int j = lane * VW; j < NS; j += TPR * VW) {
            double a[VW];
            if (VW == 2 && j + 1 < NS && NS % 2 == 0) {
                const double2 pair = *reinterpret_cast<const double2 *>(row + j);
                a[0] = pair.x;
                a[VW - 1] = pair.y;
            } else {
#pragma unroll
                for (int q = 0; q < VW; q++)
                    a[q] = j + q < NS ? row[j + q] : 0.0;
            }
#pragma unroll
            for (int q = 0; q < VW; q++) {
                const int jq = j + q < NS ? j + q : j;
#pragma unroll
                for (int b = 0; b < BATCH; b++)
                    acc[b] = fma(a[q], S_AT(jq, b), acc[b]);
            }
        }
    }
#pragma unroll
    for (int b = 0; b < BATCH; b++)
        acc[b] = row_sum(acc[b], TPR);
    if (i < NS && lane == 0)
#pragma unroll
        for (int b = 0; b < BATCH; b++)
            S_out[i * NP + first + b] = acc[b] + bu[i * NP + first + b];
#undef S_AT
}

/* The belief's residual r = (o - H mu) / so2: a warp a row of H, 8 rows a block. */
extern "C" __global__ void __launch_bounds__(256)
ai_residual(const double *__restrict__ H, const double *__restrict__ mu,
            const double *__restrict__ o, double so2, double *__restrict__ r)
{
    const int lane = threadIdx.x % 32, k = blockIdx.x * 8 + threadIdx.x / 32;
    double v = 0.0;
    if (k < NO)
        for (int j = lane; j < NS; j += 32)
            v = fma(H[(size_t)k * NS + j], mu[j], v);
    v = row_sum(v, 32);
    if (k < NO && lane == 0)
        r[k] = (o[k] - v) / so2;
}

/* One gradient step: mu -= eta ((mu - mu_p) / sp2 - H^T r), a thread a state; and, with the
 * last step (copy_to_S), the policies' starting states S[:, p] = mu. */
extern "C" __global__ void __launch_bounds__(128)
ai_descend(const double *__restrict__ H, const double *__restrict__ r,
           const double *__restrict__ mu_p, double sp2, double eta, double *__restrict__ mu,
           double *__restrict__ S, int copy_to_S)
{
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= NS)
        return;
    double g = 0.0;
    for (int k = 0; k < NO; k++)
        g = fma(H[(size_t)k * NS + j], r[k], g); /* neighbouring threads read along a row */
    const double m = mu[j] - eta * ((mu[j] - mu_p[j]) / sp2 - g);
    mu[j] = m;
    if (copy_to_S)
        for (int p = 0; p < NP; p++)
            S[j * NP + p] = m;
}

/* G[p] += |H S[:, p] - o_pref|^2 / (2 so2): a warp an observation, 8 a block. G must be zero
 * before the first horizon step. */
extern "C" __global__ void __launch_bounds__(256)
ai_risk(const double *__restrict__ H, const double *__restrict__ S,
        const double *__restrict__ o_pref, double so2, double *__restrict__ G)
{
    const int lane = threadIdx.x % 32, k = blockIdx.x * 8 + threadIdx.x / 32;
    double y[NP];
#pragma unroll
    for (int p = 0; p < NP; p++)
        y[p] = 0.0;
    if (k < NO)
        for (int j = lane; j < NS; j += 32) {
            const double h = H[(size_t)k * NS + j];
#pragma unroll
            for (int p = 0; p < NP; p++)
                y[p] = fma(h, S[j * NP + p], y[p]);
        }
#pragma unroll
    for (int p = 0; p < NP; p++)
        y[p] = row_sum(y[p], 32);
    if (k < NO && lane == 0)
#pragma unroll
        for (int p = 0; p < NP; p++) {
            const double e = y[p] - o_pref[k];
            atomicAdd(&G[p], e * e / (2.0 * so2));
        }
}

/* q = softmax(-gamma G) over the policies, the best one's first control as the action
 * (out: NP probabilities, then NU controls, then the chosen policy's index); G is zeroed for
 * the next step. One thread. */
extern "C" __global__ void ai_choose(double *__restrict__ G, const double *__restrict__ U,
                                     double gamma, double *__restrict__ out)
{
    if (threadIdx.x || blockIdx.x)
        return;
    double lo = G[0];
    int best = 0;
    for (int p = 1; p < NP; p++)
        if (G[p] < lo) {
            lo = G[p];
            best = p;
        }
    double sum = 0.0, q[NP];
    for (int p = 0; p < NP; p++)
        sum += (q[p] = exp(-gamma * (G[p] - lo)));
    for (int p = 0; p < NP; p++) {
        out[p] = q[p] / sum;
        G[p] = 0.0;
    }
    for (int u = 0; u < NU; u++)
        out[NP + u] = U[(best * 3 + 0) * NU + u]; /* U[p][t][u] */
    out[NP + NU] = best;
}
