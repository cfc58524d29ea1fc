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
 * of one state), so that one pass over a row of A serves all of them. Sizes are defines.
 *
 * ai_predict makes SUBSTEPS sub-steps in one launch (ProblemSize[2]; 1 is the plain one
 * launch a sub-step). With more, every block must be resident at once (the spec asks for a
 * cooperative launch) and the blocks meet at a grid barrier between sub-steps, the states
 * going back and forth between S_tmp and S_out. */

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
 * a policy at a time, S from global memory. Where A's rows live for all the sub-steps of a
 * launch (read from global memory once): CSMEM 1 keeps the block's rows in shared memory,
 * AREG 1 each thread's part of its rows in registers. RPW rows per group of TPR threads:
 * each value of S read serves that many rows. */
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
#ifndef SUBSTEPS
#define SUBSTEPS 1
#endif
#ifndef CSMEM
#define CSMEM 0
#endif
#ifndef AREG
#define AREG 0
#endif
#ifndef RPW
#define RPW 1
#endif
#define GROUPS (ROWS / RPW)                         /* blockDim.y */
#define THREADS (TPR * GROUPS)                      /* a block's */
#define CHUNKS ((NS + TPR * VW - 1) / (TPR * VW))   /* a row's columns, VW at a time a thread */

#define PRAGMA(x) _Pragma(#x)
#define UNROLLED(n) PRAGMA(unroll n)

/* Sum over the TPR threads of a row (consecutive lanes). */
__device__ __forceinline__ double row_sum(double v, int width)
{
    for (int d = width / 2; d > 0; d >>= 1)
        v += __shfl_down_sync(0xffffffffu, v, d, width);
    return v;
}

/* States written during this launch by other blocks are read from L2, never a stale L1. */
#if SUBSTEPS > 1
#define STATE(p) __ldcg(p)
#else
#define STATE(p) (*(p))
#endif

/* Every block of the grid waits here for the others (they are all resident: a cooperative
 * launch). One atomic a block: the first block adds 2^31 - (blocks - 1), the others 1, so the
 * word's top bit flips when the last one arrives; each waits for the flip from what it saw.
 * The release and the fence after the wait order the blocks' writes before the barrier and
 * their reads after it. */
__device__ __forceinline__ void grid_barrier(unsigned *bar)
{
    __syncthreads();
    if (threadIdx.x == 0 && threadIdx.y == 0) {
        const unsigned blocks = gridDim.x * gridDim.y * gridDim.z;
        const bool first = blockIdx.x == 0 && blockIdx.y == 0 && blockIdx.z == 0;
        const unsigned add = first ? 0x80000000u - (blocks - 1) : 1u;
        unsigned seen, now;
        asm volatile("atom.add.release.gpu.u32 %0, [%1], %2;"
                     : "=r"(seen) : "l"(bar), "r"(add) : "memory");
        do
            asm volatile("ld.relaxed.gpu.u32 %0, [%1];" : "=r"(now) : "l"(bar) : "memory");
        while (((now ^ seen) & 0x80000000u) == 0);
        asm volatile("fence.acq_rel.gpu;" ::: "memory");
    }
    __syncthreads();
}

/* One sub-step for the block's rows and BATCH policies from blockIdx.y * BATCH (the grid's y
 * covers the NP policies): S_out[:, p] = A S_in[:, p] + bu[:, p], bu (NS x NP) holding B u_t
 * of the horizon step. A group of TPR threads makes RPW rows; each thread takes VW columns
 * of every TPR * VW. rows: A, or the block's rows of it (CSMEM); areg: the thread's part of
 * its rows (AREG). */
__device__ __forceinline__ void predict_rows(const double *__restrict__ rows, const double *S_in,
                                             double *S_out, const double *__restrict__ bu,
                                             const double (&areg)[AREG ? RPW : 1]
                                                                 [AREG ? CHUNKS * VW : 1])
{
    const int first = blockIdx.y * BATCH;
#if SMEM
    __shared__ __align__(16) double s_sh[NS * BATCH];
    __syncthreads(); /* the last sub-step is done with it */
    if (BATCH == NP && (NS * NP) % 2 == 0) { /* all of S: one copy, two doubles a load */
        double2 *to = reinterpret_cast<double2 *>(s_sh);
        const double2 *from = reinterpret_cast<const double2 *>(S_in);
        for (int k = threadIdx.y * TPR + threadIdx.x; k < NS * NP / 2; k += THREADS)
            to[k] = SUBSTEPS > 1 ? __ldcg(from + k) : from[k];
    } else {
        for (int k = threadIdx.y * TPR + threadIdx.x; k < NS * BATCH; k += THREADS)
            s_sh[k] = STATE(S_in + (k / BATCH) * NP + first + k % BATCH);
    }
    __syncthreads();
#define S_AT(j, b) s_sh[(j) * BATCH + (b)]
#else
#define S_AT(j, b) STATE(S_in + (j) * NP + first + (b))
#endif
    const int lane = threadIdx.x, i0 = blockIdx.x * ROWS + threadIdx.y * RPW;
    const double *__restrict__ row[RPW];
#pragma unroll
    for (int r = 0; r < RPW; r++) /* (a row past the end reads row 0 and writes nothing) */
        row[r] = rows + (size_t)(i0 + r < NS ? (CSMEM ? threadIdx.y * RPW + r : i0 + r) : 0) * NS;
    double acc[RPW][BATCH];
#pragma unroll
    for (int r = 0; r < RPW; r++)
#pragma unroll
        for (int b = 0; b < BATCH; b++)
            acc[r][b] = 0.0;
    if (i0 < NS) {
#if AREG
#pragma unroll
#else
        UNROLLED(UNROLL)
#endif
        for (int c = 0; c < CHUNKS; c++) {
            const int j = c * TPR * VW + lane * VW;
            double a[RPW][VW];
#pragma unroll
            for (int r = 0; r < RPW; r++) {
                if (AREG) {
#pragma unroll
                    for (int q = 0; q < VW; q++)
                        a[r][q] = areg[AREG ? r : 0][AREG ? c * VW + q : 0];
                } else if (VW == 2 && j + 1 < NS && NS % 2 == 0) {
                    const double2 pair = *reinterpret_cast<const double2 *>(row[r] + j);
                    a[r][0] = pair.x;
                    a[r][VW - 1] = pair.y;
                } else {
#pragma unroll
                    for (int q = 0; q < VW; q++)
                        a[r][q] = j + q < NS ? row[r][j + q] : 0.0;
                }
            }
#pragma unroll
            for (int q = 0; q < VW; q++) {
                const int jq = j + q < NS ? j + q : 0; /* (past the end: a is 0 there) */
#pragma unroll
                for (int b = 0; b < BATCH; b++) {
                    const double s = S_AT(jq, b); /* one read of S for RPW rows */
#pragma unroll
                    for (int r = 0; r < RPW; r++)
                        acc[r][b] = fma(a[r][q], s, acc[r][b]);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < RPW; r++)
#pragma unroll
        for (int b = 0; b < BATCH; b++)
            acc[r][b] = row_sum(acc[r][b], TPR);
    if (lane == 0)
#pragma unroll
        for (int r = 0; r < RPW; r++)
            if (i0 + r < NS)
#pragma unroll
                for (int b = 0; b < BATCH; b++)
                    S_out[(i0 + r) * NP + first + b] = acc[r][b] + bu[(i0 + r) * NP + first + b];
#undef S_AT
}

/* SUBSTEPS sub-steps from S_in to S_out. With an even SUBSTEPS, S_out may be S_in: that is
 * read in the first sub-step only, S_out written from the second on. barrier: a zeroed
 * word, left ready for the next launch. */
extern "C" __global__ void __launch_bounds__(THREADS)
ai_predict(const double *__restrict__ A, const double *S_in, double *S_out,
           const double *__restrict__ bu, double *S_tmp, unsigned *barrier)
{
#if CSMEM
    extern __shared__ double a_rows[]; /* the block's ROWS rows of A */
    const size_t first = (size_t)blockIdx.x * ROWS * NS;
    for (size_t k = threadIdx.y * TPR + threadIdx.x; k < (size_t)ROWS * NS; k += THREADS)
        a_rows[k] = first + k < (size_t)NS * NS ? A[first + k] : 0.0;
    __syncthreads();
    const double *rows = a_rows;
#else
    const double *rows = A;
#endif
    double areg[AREG ? RPW : 1][AREG ? CHUNKS * VW : 1];
#if AREG /* the thread's columns of its rows, 0 past the end */
#pragma unroll
    for (int r = 0; r < RPW; r++) {
        const int i = blockIdx.x * ROWS + threadIdx.y * RPW + r;
#pragma unroll
        for (int k = 0; k < CHUNKS * VW; k++) {
            const int j = (k / VW) * TPR * VW + threadIdx.x * VW + k % VW;
            areg[r][k] = i < NS && j < NS ? A[(size_t)i * NS + j] : 0.0;
        }
    }
#endif
    const double *in = S_in;
    for (int s = 0; s < SUBSTEPS; s++) {
        /* the last sub-step writes S_out, the one before it S_tmp, ... */
        double *out = (SUBSTEPS - 1 - s) % 2 == 0 ? S_out : S_tmp;
        predict_rows(rows, in, out, bu, areg);
        if (s + 1 < SUBSTEPS)
            grid_barrier(barrier);
        in = out;
    }
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
