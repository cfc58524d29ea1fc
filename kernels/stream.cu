/* stream.cu — the streaming kernels, bound by memory bandwidth: copy (b = a), scale
 * (b = s a) and triad (a = b + s c), chosen by OP (0, 1, 2: the specs kernels/copy.json,
 * scale.json and triad.json set it). N elements, a define (ProblemSizeDefines).
 *
 * Parameters: BLOCK threads per block; VW floats per access (1, 2 or 4, as float, float2,
 * float4; the rest of N that is not a multiple of VW is done one by one); IPT accesses per
 * thread per step; GRID 0: one-shot, enough blocks to cover N once; GRID G > 0: about G
 * blocks striding over N (grid-stride loop; the spec sets the grid). The default: BLOCK 256,
 * VW 1, IPT 1, one-shot. */

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

template <int W> struct vec;
template <> struct vec<1> { typedef float t; };
template <> struct vec<2> { typedef float2 t; };
template <> struct vec<4> { typedef float4 t; };

__device__ __forceinline__ float mul(float s, float x) { return s * x; }
__device__ __forceinline__ float2 mul(float s, float2 x) { return make_float2(s * x.x, s * x.y); }
__device__ __forceinline__ float4 mul(float s, float4 x)
{
    return make_float4(s * x.x, s * x.y, s * x.z, s * x.w);
}
__device__ __forceinline__ float add(float x, float y) { return x + y; }
__device__ __forceinline__ float2 add(float2 x, float2 y) { return make_float2(x.x + y.x, x.y + y.y); }
__device__ __forceinline__ float4 add(float4 x, float4 y)
{
    return make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
}

/* element (vector) i of the operation */
template <typename T>
__device__ __forceinline__ void step(T *__restrict__ a, T *__restrict__ b,
                                     const T *__restrict__ c, float s, long long i)
{
#if OP == 0
    b[i] = a[i];
#elif OP == 1
    b[i] = mul(s, a[i]);
#else
    a[i] = add(b[i], mul(s, c[i]));
#endif
}

extern "C" __global__ void __launch_bounds__(BLOCK)
stream(float *__restrict__ a, float *__restrict__ b, const float *__restrict__ c, float s)
{
    typedef typename vec<VW>::t T;
    const long long vectors = N / VW;
    const long long per_step = (long long)BLOCK * IPT;
    const long long stride = (long long)gridDim.x * per_step;
    for (long long base = blockIdx.x * per_step + threadIdx.x; base < vectors; base += stride) {
        /* IPT independent accesses in flight, BLOCK apart (coalesced) */
#pragma unroll
        for (int u = 0; u < IPT; u++) {
            const long long i = base + (long long)u * BLOCK;
            if (i < vectors)
                step<T>((T *)a, (T *)b, (const T *)c, s, i);
        }
        if (!GRID)
            break; /* one-shot: the grid covers N once */
    }
    /* the tail that is not a whole vector */
    if (VW > 1 && blockIdx.x == 0 && threadIdx.x < N % VW)
        step<float>(a, b, c, s, vectors * VW + threadIdx.x);
}
