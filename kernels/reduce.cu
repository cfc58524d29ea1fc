/* reduce.cu — reductions of N floats to one, bound by memory bandwidth: the sum of x (OP 0),
 * its maximum (OP 1) and the dot product of x and y (OP 2); the specs kernels/sum.json,
 * max.json and dot.json set OP. N is a define (ProblemSizeDefines).
 *
 * Each thread folds VW-wide vectors, IPT in flight per step, over a one-shot grid (GRID 0)
 * or a grid-stride loop over about GRID blocks; each block folds its threads' values (warp
 * shuffles, then shared memory) and then either adds its result to *out atomically
 * (ATOMIC 1) or writes it to partial[block], the last block to finish folding the partials
 * into *out (ATOMIC 0: two passes in one launch, the order fixed). *count must be 0 on
 * entry and is left 0. The default: BLOCK 256, VW 1, IPT 1, one-shot, atomic. */

#ifndef N
#define N (1 << 28)
#endif
#ifndef OP
#define OP 0
#endif
#ifndef BLOCK
#define BLOCK 256
#endif
#ifndef VW
#define VW 1
#endif
#ifndef IPT
#define IPT 1
#endif
#ifndef GRID
#define GRID 0
#endif
#ifndef ATOMIC
#define ATOMIC 1
#endif

#if OP == 1
#define IDENTITY (-__int_as_float(0x7f800000)) /* -infinity */
__device__ __forceinline__ float fold(float a, float b) { return fmaxf(a, b); }
#else
#define IDENTITY 0.0f
__device__ __forceinline__ float fold(float a, float b) { return a + b; }
#endif

/* element i's contribution */
__device__ __forceinline__ float term(const float *__restrict__ x, const float *__restrict__ y,
                                      long long i)
{
#if OP == 2
    return x[i] * y[i];
#else
    (void)y;
    return x[i];
#endif
}

__device__ __forceinline__ float term4(const float *__restrict__ x, const float *__restrict__ y,
                                       long long v)
{
#if VW == 4
    float4 a = reinterpret_cast<const float4 *>(x)[v];
#if OP == 2
    float4 b = reinterpret_cast<const float4 *>(y)[v];
    return fold(fold(a.x * b.x, a.y * b.y), fold(a.z * b.z, a.w * b.w));
#else
    return fold(fold(a.x, a.y), fold(a.z, a.w));
#endif
#elif VW == 2
    float2 a = reinterpret_cast<const float2 *>(x)[v];
#if OP == 2
    float2 b = reinterpret_cast<const float2 *>(y)[v];
    return fold(a.x * b.x, a.y * b.y);
#else
    return fold(a.x, a.y);
#endif
#else
    return term(x, y, v);
#endif
}

/* atomically *out = fold(*out, v) */
__device__ __forceinline__ void fold_into(float *out, float v)
{
#if OP == 1
    /* floats order as their bits do among non-negatives, reversed among negatives */
    if (v >= 0.0f)
        atomicMax(reinterpret_cast<int *>(out), __float_as_int(v));
    else
        atomicMin(reinterpret_cast<unsigned *>(out), __float_as_uint(v));
#else
    atomicAdd(out, v);
#endif
}

/* the block's value, in thread 0 */
__device__ __forceinline__ float block_fold(float v)
{
    __shared__ float warps[BLOCK / 32];
    for (int d = 16; d > 0; d >>= 1)
        v = fold(v, __shfl_down_sync(0xffffffffu, v, d));
    if (threadIdx.x % 32 == 0)
        warps[threadIdx.x / 32] = v;
    __syncthreads();
    v = threadIdx.x < BLOCK / 32 ? warps[threadIdx.x] : IDENTITY;
    if (threadIdx.x < 32)
        for (int d = 16; d > 0; d >>= 1)
            v = fold(v, __shfl_down_sync(0xffffffffu, v, d));
    return v;
}

extern "C" __global__ void __launch_bounds__(BLOCK)
reduce(const float *__restrict__ x, const float *__restrict__ y, float *__restrict__ out,
       float *__restrict__ partial, unsigned *__restrict__ count)
{
    const long long vectors = N / VW, per_step = (long long)BLOCK * IPT;
    const long long stride = (long long)gridDim.x * per_step;
    float acc = IDENTITY;
    for (long long base = blockIdx.x * per_step + threadIdx.x; base < vectors; base += stride) {
#pragma unroll
        for (int u = 0; u < IPT; u++) {
            const long long v = base + (long long)u * BLOCK;
            if (v < vectors)
                acc = fold(acc, term4(x, y, v));
        }
        if (!GRID)
            break;
    }
    if (VW > 1 && blockIdx.x == 0 && threadIdx.x < N % VW)
        acc = fold(acc, term(x, y, vectors * VW + threadIdx.x));
    acc = block_fold(acc);
#if ATOMIC
    if (threadIdx.x == 0)
        fold_into(out, acc);
#else
    __shared__ bool last;
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = acc;
        __threadfence(); /* the partial is visible before the count says so */
        last = atomicAdd(count, 1u) == gridDim.x - 1;
    }
    __syncthreads();
    if (last) { /* every other block's partial is in: fold them, in a fixed order */
        __threadfence();
        float v = IDENTITY;
        for (unsigned b = threadIdx.x; b < gridDim.x; b += BLOCK)
            v = fold(v, ((volatile float *)partial)[b]);
        v = block_fold(v);
        if (threadIdx.x == 0) {
            *out = v;
            *count = 0;
        }
    }
#endif
}
