/* oscillators.cu — Euler–Maruyama steps of a damped, noisy, second-order Kuramoto network in
 * FP64: for each oscillator i
 *
 *     theta_i' = theta_i + v_i dt
 *     v_i'     = v_i + (omega_i + K sum_j C_ij sin(theta_j - theta_i) - gamma v_i) dt
 *                    + sigma sqrt(dt) z_i
 *
 * with C dense (N x N, row-major) and z_i a standard normal drawn from Philox4x32-10 (counter
 * {i, step, step >> 32, 0}, key {seed, seed >> 32}, Box–Muller), so that a run is the same
 * on every GPU and the CPU reference (bench/realtime/realtime.c) draws the same noise. The
 * first step is number *clock + offset: a CUDA graph of launches serves every frame while
 * osc_observe moves the clock on. N and STEPS are defines (ProblemSizeDefines).
 *
 * osc_step makes STEPS steps in one launch (ProblemSize[1]; 1 is the plain one launch a
 * step). With more, every block must be resident at once (the spec asks for a cooperative
 * launch) and the blocks meet at a grid barrier between steps; the state goes back and forth
 * between the *_tmp buffers and the outputs, ending in the outputs. Launch overhead, which
 * dominates a step of 1024 oscillators, is paid once per STEPS steps.
 *
 * Parameters (kernels/oscillators.json): a block of TPR x ROWS threads computes ROWS rows,
 * TPR threads a row (their partial sums meet through warp shuffles); theta is read from
 * global memory for every pair (SMEM 0) or staged in shared memory TILE columns at a time
 * (SMEM 1); SINCOS 1 stages sin theta_j and cos theta_j instead and uses
 * sin(theta_j - theta_i) = sin theta_j cos theta_i - cos theta_j sin theta_i, N sincos calls
 * per block instead of one sin per pair; VW 2 reads C two doubles at a time; UNROLL unrolls
 * the loop over j; CSMEM 1 keeps the block's rows of C in shared memory for all its steps
 * (read from global memory once a launch), AREG 1 each thread's columns of its row in
 * registers (TILE then covers all N). The default is the plain port: one thread per
 * oscillator, 256 a block, a sin per pair from global memory. */

#ifndef N
#define N 1024
#endif
#ifndef TPR
#define TPR 1
#endif
#ifndef ROWS
#define ROWS 256
#endif
#ifndef SMEM
#define SMEM 0
#endif
#ifndef SINCOS
#define SINCOS 0
#endif
#ifndef TILE
#define TILE 1024
#endif
#ifndef VW
#define VW 1
#endif
#ifndef UNROLL
#define UNROLL 1
#endif
#ifndef STEPS
#define STEPS 1
#endif
#ifndef CSMEM
#define CSMEM 0
#endif
#ifndef AREG
#define AREG 0
#endif
#define CHUNKS ((N + TPR * VW - 1) / (TPR * VW)) /* a row's columns, VW at a time a thread */
#define TILE_W (AREG ? N : TILE)                     /* columns staged at a time */

#define THREADS (TPR * ROWS)
#define PRAGMA(x) _Pragma(#x)
#define UNROLLED(n) PRAGMA(unroll n)
#define TWO_PI 6.283185307179586

/* Philox4x32-10 (Salmon et al., SC'11): ten rounds of two 32x32->64 multiplications. */
__device__ __forceinline__ void philox(unsigned c[4], unsigned k0, unsigned k1)
{
#pragma unroll
    for (int r = 0; r < 10; r++) {
        if (r) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const unsigned lo0 = 0xD2511F53u * c[0], hi0 = __umulhi(0xD2511F53u, c[0]);
        const unsigned lo1 = 0xCD9E8D57u * c[2], hi1 = __umulhi(0xCD9E8D57u, c[2]);
        const unsigned n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
    }
}

/* The standard normal of oscillator i at a step: Box–Muller on two 53-bit uniforms in (0, 1). */
__device__ __forceinline__ double noise(unsigned i, unsigned long long step,
                                        unsigned long long seed)
{
    unsigned c[4] = {i, (unsigned)step, (unsigned)(step >> 32), 0u};
    philox(c, (unsigned)seed, (unsigned)(seed >> 32));
    const double u1 = ((double)((((unsigned long long)c[0] << 32) | c[1]) >> 11) + 0.5) * 0x1.0p-53;
    const double u2 = ((double)((((unsigned long long)c[2] << 32) | c[3]) >> 11) + 0.5) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2);
}

/* State written during this launch by other blocks is read from L2, never from a stale L1. */
#if STEPS > 1
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

/* One step for the block's rows: from (th, ve) to (th_out, ve_out), z the row's noise. With
 * SINCOS, trig_in (when not NULL) holds sin and cos of every th (N each), as the last step's
 * owners of each row left them, and trig_out receives those of th_out: N sincos calls a step
 * over the grid instead of N a block. What does not wait on the sum (the new phase, its sine
 * and cosine) is worked out before it, off the step's critical path. */
__device__ __forceinline__ void step_rows(const double *th, const double *ve, double *th_out,
                                          double *ve_out, const double *__restrict__ omega,
                                          const double *__restrict__ rows,
                                          double z, double K, double gamma, double sigma,
                                          double dt, const double *trig_in, double *trig_out,
                                          const double (&areg)[AREG ? CHUNKS * VW : 1])
{
#if SMEM && SINCOS
    __shared__ double sin_t[TILE_W], cos_t[TILE_W];
#elif SMEM
    __shared__ double theta_t[TILE_W];
#endif
    const int lane = threadIdx.x, tid = threadIdx.y * TPR + threadIdx.x;
    const int i = blockIdx.x * ROWS + threadIdx.y;
    const bool live = i < N;
    const double theta_i = live ? STATE(th + i) : 0.0;
#if !AREG
    const double *__restrict__ row = rows + (size_t)(live ? (CSMEM ? threadIdx.y : i) : 0) * N;
#else
    (void)rows; /* its columns are in areg */
#endif
    const double v = live ? STATE(ve + i) : 0.0, theta_new = theta_i + v * dt;
    double s_new = 0.0, c_new = 0.0;
    if (SINCOS && trig_out)
        sincos(theta_new, &s_new, &c_new);
    double s_i, c_i;
    if (SINCOS && trig_in && live) {
        s_i = STATE(trig_in + i);
        c_i = STATE(trig_in + N + i);
    } else {
        sincos(theta_i, &s_i, &c_i);
    }
    double acc = 0.0; /* SINCOS: sum C_ij sin theta_j, and acc_c sum C_ij cos theta_j */
#if SINCOS
    double acc_c = 0.0;
#endif
    (void)tid; /* unused without SMEM */
    for (int t0 = 0; t0 < N; t0 += TILE_W) {
        const int width = N - t0 < TILE_W ? N - t0 : TILE_W;
#if SMEM
        __syncthreads(); /* the last tile is used up */
        for (int j = tid; j < width; j += THREADS) {
#if SINCOS
            if (trig_in) {
                sin_t[j] = STATE(trig_in + t0 + j);
                cos_t[j] = STATE(trig_in + N + t0 + j);
            } else {
                sincos(STATE(th + t0 + j), &sin_t[j], &cos_t[j]);
            }
#else
            theta_t[j] = STATE(th + t0 + j);
#endif
        }
        __syncthreads();
#endif
        if (!live)
            continue;
#if AREG /* (one tile of all N columns) */
#pragma unroll
        for (int c = 0; c < CHUNKS; c++) {
            const int j = c * TPR * VW + lane * VW;
#else
        const double *__restrict__ r = row + t0;
        UNROLLED(UNROLL)
        for (int j = lane * VW; j < width; j += TPR * VW) {
#endif
            double cij[VW];
#if AREG
#pragma unroll
            for (int q = 0; q < VW; q++)
                cij[q] = areg[c * VW + q]; /* 0 past the end */
#else
            if (VW == 2 && j + 1 < width && N % 2 == 0) {
                const double2 pair = *reinterpret_cast<const double2 *>(r + j);
                cij[0] = pair.x;
                cij[VW - 1] = pair.y;
            } else {
#pragma unroll
                for (int q = 0; q < VW; q++)
                    cij[q] = j + q < width ? r[j + q] : 0.0;
            }
#endif
#pragma unroll
            for (int q = 0; q < VW; q++) {
                const int jq = j + q < width ? j + q : 0; /* a zero weight past the end */
#if SMEM && SINCOS
                acc = fma(cij[q], sin_t[jq], acc);
                acc_c = fma(cij[q], cos_t[jq], acc_c);
#elif SMEM
                acc = fma(cij[q], sin(theta_t[jq] - theta_i), acc);
#else
                acc = fma(cij[q], sin(STATE(th + t0 + jq) - theta_i), acc);
#endif
            }
        }
    }
#if SINCOS
    acc = c_i * acc - s_i * acc_c;
#endif
#pragma unroll
    for (int d = TPR / 2; d > 0; d >>= 1)
        acc += __shfl_down_sync(0xffffffffu, acc, d, TPR);
    if (live && !lane) {
        th_out[i] = theta_new;
        ve_out[i] = v + (omega[i] + K * acc - gamma * v) * dt + sigma * sqrt(dt) * z;
        if (SINCOS && trig_out) {
            trig_out[i] = s_new;
            trig_out[N + i] = c_new;
        }
    }
}

/* STEPS steps from (theta, vel) to (theta_out, vel_out). With an even STEPS the outputs may
 * be the inputs: those are read in the first step only, the outputs written from the second
 * on. barrier: a zeroed word, left ready for the next launch; trig (4 N): sin and cos of
 * the state between steps, two copies used in turn. */
extern "C" __global__ void __launch_bounds__(THREADS)
osc_step(const double *theta, const double *vel, double *theta_out, double *vel_out,
         const double *__restrict__ omega, const double *__restrict__ C,
         const unsigned long long *__restrict__ clock, int offset, double K, double gamma,
         double sigma, double dt, unsigned long long seed, double *theta_tmp, double *vel_tmp,
         unsigned *barrier, double *trig)
{
#if CSMEM
    extern __shared__ double c_rows[]; /* the block's ROWS rows of C */
    const size_t first = (size_t)blockIdx.x * ROWS * N;
    for (size_t k = threadIdx.y * TPR + threadIdx.x; k < (size_t)ROWS * N; k += THREADS)
        c_rows[k] = first + k < (size_t)N * N ? C[first + k] : 0.0;
    __syncthreads();
    const double *rows = c_rows;
#else
    const double *rows = C;
#endif
    double areg[AREG ? CHUNKS * VW : 1];
#if AREG /* the thread's columns of its row, 0 past the end */
    {
        const int row_i = blockIdx.x * ROWS + threadIdx.y;
#pragma unroll
        for (int k = 0; k < CHUNKS * VW; k++) {
            const int j = (k / VW) * TPR * VW + threadIdx.x * VW + k % VW;
            areg[k] = row_i < N && j < N ? C[(size_t)row_i * N + j] : 0.0;
        }
    }
#endif
    const unsigned long long step0 = *clock + (unsigned long long)offset;
    const double *th = theta, *ve = vel;
    const int lane = threadIdx.x, i = blockIdx.x * ROWS + threadIdx.y;
    double z_ahead = 0.0; /* lane q: the row's noise of step s + q, s a multiple of TPR */
    for (int s = 0; s < STEPS; s++) {
        if (s % TPR == 0) /* the TPR threads of a row draw the next TPR steps' noise at once */
            z_ahead = i < N && s + lane < STEPS
                          ? noise((unsigned)i, step0 + s + lane, seed) : 0.0;
        const double z = TPR > 1 ? __shfl_sync(0xffffffffu, z_ahead, s % TPR, TPR) : z_ahead;
        /* the last step writes the outputs, the one before it the *_tmp buffers, ... */
        const bool to_out = (STEPS - 1 - s) % 2 == 0;
        double *th_out = to_out ? theta_out : theta_tmp, *ve_out = to_out ? vel_out : vel_tmp;
        /* sin and cos of this step's state, as the last step left them; of the next one's */
        const double *trig_in = s ? trig + (size_t)((s - 1) % 2) * 2 * N : nullptr;
        double *trig_out = s + 1 < STEPS ? trig + (size_t)(s % 2) * 2 * N : nullptr;
        step_rows(th, ve, th_out, ve_out, omega, rows, z, K, gamma, sigma, dt, trig_in,
                  trig_out, areg);
        if (s + 1 < STEPS)
            grid_barrier(barrier);
        th = th_out;
        ve = ve_out;
    }
}

/* What a frame reports: out[0] += sum cos theta_i, out[1] += sum sin theta_i (so r is their
 * modulus over N), out[2] += sum v_i^2 / 2, out[3] += -(K/2) sum_ij C_ij cos(theta_j -
 * theta_i) (kinetic plus potential is the energy); out must be zero on entry. A warp a row,
 * 256 threads a block; the first thread then moves the clock on by `steps`. */
extern "C" __global__ void __launch_bounds__(256)
osc_observe(const double *__restrict__ theta, const double *__restrict__ vel,
            const double *__restrict__ C, double K, double *__restrict__ out,
            unsigned long long *__restrict__ clock, int steps)
{
    const int lane = threadIdx.x % 32, i = blockIdx.x * 8 + threadIdx.x / 32;
    double pot = 0.0;
    if (i < N) {
        const double theta_i = theta[i];
        for (int j = lane; j < N; j += 32)
            pot = fma(C[(size_t)i * N + j], cos(theta[j] - theta_i), pot);
    }
#pragma unroll
    for (int d = 16; d > 0; d >>= 1)
        pot += __shfl_down_sync(0xffffffffu, pot, d);
    if (i < N && lane == 0) {
        double s, c;
        sincos(theta[i], &s, &c);
        atomicAdd(&out[0], c);
        atomicAdd(&out[1], s);
        atomicAdd(&out[2], 0.5 * vel[i] * vel[i]);
        atomicAdd(&out[3], -0.5 * K * pot);
    }
    if (blockIdx.x == 0 && threadIdx.x == 0)
        *clock += (unsigned long long)steps; /* read by no other block of this launch */
}
