/* oscillators.cu — one Euler–Maruyama step of a damped, noisy, second-order Kuramoto network
 * in FP64: for each oscillator i
 *
 *     theta_i' = theta_i + v_i dt
 *     v_i'     = v_i + (omega_i + K sum_j C_ij sin(theta_j - theta_i) - gamma v_i) dt
 *                    + sigma sqrt(dt) z_i
 *
 * with C dense (N x N, row-major) and z_i a standard normal drawn from Philox4x32-10 (counter
 * {i, step, step >> 32, 0}, key {seed, seed >> 32}, Box–Muller), so that a run is the same
 * on every GPU and the CPU reference (tools/realtime.c) draws the same noise. The step number
 * is *clock + offset: a CUDA graph of K launches (offsets 0..K-1) serves every frame while
 * osc_observe moves the clock on. N is a define (ProblemSizeDefines).
 *
 * Parameters (kernels/oscillators.json): a block of TPR x ROWS threads computes ROWS rows,
 * TPR threads a row (their partial sums meet through warp shuffles); theta is read from
 * global memory for every pair (SMEM 0) or staged in shared memory TILE columns at a time
 * (SMEM 1); SINCOS 1 stages sin theta_j and cos theta_j instead and uses
 * sin(theta_j - theta_i) = sin theta_j cos theta_i - cos theta_j sin theta_i, N sincos calls
 * per block instead of one sin per pair; VW 2 reads C two doubles at a time; UNROLL unrolls
 * the loop over j. The default is the plain port: one thread per oscillator, 256 a block, a
 * sin per pair from global memory. */

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

extern "C" __global__ void __launch_bounds__(THREADS)
osc_step(const double *__restrict__ theta, const double *__restrict__ vel,
         double *__restrict__ theta_out, double *__restrict__ vel_out,
         const double *__restrict__ omega, const double *__restrict__ C,
         const unsigned long long *__restrict__ clock, int offset, double K, double gamma,
         double sigma, double dt, unsigned long long seed)
{
#if SMEM && SINCOS
    __shared__ double sin_t[TILE], cos_t[TILE];
#elif SMEM
    __shared__ double theta_t[TILE];
#endif
    const int lane = threadIdx.x, tid = threadIdx.y * TPR + threadIdx.x;
    const int i = blockIdx.x * ROWS + threadIdx.y;
    const bool live = i < N;
    const double theta_i = live ? theta[i] : 0.0;
    const double *__restrict__ row = C + (size_t)(live ? i : 0) * N;
    double s_i, c_i;
    sincos(theta_i, &s_i, &c_i);
    double acc = 0.0, acc_c = 0.0; /* SINCOS: sum C_ij sin theta_j, sum C_ij cos theta_j */
    for (int t0 = 0; t0 < N; t0 += TILE) {
        const int width = N - t0 < TILE ? N - t0 : TILE;
#if SMEM
        __syncthreads(); /* the last tile is used up */
        for (int j = tid; j < width; j += THREADS) {
#if SINCOS
            sincos(theta[t0 + j], &sin_t[j], &cos_t[j]);
#else
            theta_t[j] = theta[t0 + j];
#endif
        }
        __syncthreads();
#endif
        if (!live)
            continue;
        const double *__restrict__ r = row + t0;
        UNROLLED(UNROLL)
        for (int j = lane * VW; j < width; j += TPR * VW) {
            double cij[VW];
            if (VW == 2 && j + 1 < width && N % 2 == 0) {
                const double2 pair = *reinterpret_cast<const double2 *>(r + j);
                cij[0] = pair.x;
                cij[VW - 1] = pair.y;
            } else {
#pragma unroll
                for (int q = 0; q < VW; q++)
                    cij[q] = j + q < width ? r[j + q] : 0.0;
            }
#pragma unroll
            for (int q = 0; q < VW; q++) {
                const int jq = j + q < width ? j + q : j; /* a zero weight past the end */
#if SMEM && SINCOS
                acc = fma(cij[q], sin_t[jq], acc);
                acc_c = fma(cij[q], cos_t[jq], acc_c);
#elif SMEM
                acc = fma(cij[q], sin(theta_t[jq] - theta_i), acc);
#else
                acc = fma(cij[q], sin(theta[t0 + jq] - theta_i), acc);
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
    if (!live || lane)
        return;
    const double v = vel[i];
    const double z = noise((unsigned)i, *clock + (unsigned long long)offset, seed);
    theta_out[i] = theta_i + v * dt;
    vel_out[i] = v + (omega[i] + K * acc - gamma * v) * dt + sigma * sqrt(dt) * z;
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
