/* sgemm.cu — C = alpha A B + beta C in FP32, row-major: A is M x K, B is K x N, C is M x N.
 * Every parameter is a -D define (kernels/sgemm.json lists their values and constraints);
 * the sizes are defines too (SIZE_M, SIZE_N, SIZE_K, from the spec's ProblemSizeDefines), so
 * the compiler knows which tiles are whole.
 *
 * TILED 0 is the plain kernel a user writes first: one thread per element of C, A and B read
 * from global memory. TILED 1: a block of MDIMC x NDIMC threads computes an MWG x NWG tile of
 * C, stepping through K by KWG: the tiles of A and B go through shared memory (A transposed,
 * each row padded by PADA floats, B by PADB), loaded with vectors of VWM (along K, from A)
 * and VWN (along N, from B) floats where the sizes allow; each thread accumulates MWI x NWI
 * elements in registers, its rows strided by MDIMC (STRM 1) or contiguous (STRM 0), its
 * columns likewise (STRN). DBUF 1 loads the next tiles into registers while the current ones
 * are multiplied. Edges (sizes that are not multiples of the tiles) are handled: what lies
 * outside is read as zero and never written. */

#ifndef SIZE_M
#define SIZE_M 4096
#endif
#ifndef SIZE_N
#define SIZE_N 4096
#endif
#ifndef SIZE_K
#define SIZE_K 4096
#endif
#ifndef TILED
#define TILED 0
#endif
#ifndef MWG
#define MWG 64
#endif
#ifndef NWG
#define NWG 64
#endif
#ifndef KWG
#define KWG 16
#endif
#ifndef MDIMC
#define MDIMC 16
#endif
#ifndef NDIMC
#define NDIMC 16
#endif
#ifndef VWM
#define VWM 1
#endif
#ifndef VWN
#define VWN 1
#endif
#ifndef STRM
#define STRM 1
#endif
#ifndef STRN
#define STRN 1
#endif
#ifndef PADA
#define PADA 1
#endif
#ifndef PADB
#define PADB 0
#endif
#ifndef DBUF
#define DBUF 0
#endif

#define MWI (MWG / MDIMC)
#define NWI (NWG / NDIMC)
#define THREADS (MDIMC * NDIMC)
/* vectors in a tile, and per thread */
#define A_VECS (MWG * KWG / VWM)
#define B_VECS (KWG * NWG / VWN)
#define A_PER (A_VECS / THREADS)
#define B_PER (B_VECS / THREADS)
/* vector loads need aligned rows: K a multiple of VWM, N of VWN */
#define A_VECTOR (VWM > 1 && SIZE_K % VWM == 0)
#define B_VECTOR (VWN > 1 && SIZE_N % VWN == 0)

#if TILED == 0

extern "C" __global__ void sgemm(const float *__restrict__ A, const float *__restrict__ B,
                                 float *__restrict__ C, float alpha, float beta)
{
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    const int m = blockIdx.y * blockDim.y + threadIdx.y;
    if (m >= SIZE_M || n >= SIZE_N)
        return;
    float acc = 0.0f;
    for (int k = 0; k < SIZE_K; k++)
        acc += A[(size_t)m * SIZE_K + k] * B[(size_t)k * SIZE_N + n];
    C[(size_t)m * SIZE_N + n] = alpha * acc + beta * C[(size_t)m * SIZE_N + n];
}

#else

template <int W> struct vec;
template <> struct vec<1> { typedef float t; };
template <> struct vec<2> { typedef float2 t; };
template <> struct vec<4> { typedef float4 t; };

template <int W> __device__ __forceinline__ float lane(const typename vec<W>::t &v, int q);
template <> __device__ __forceinline__ float lane<1>(const float &v, int q) { return v; }
template <> __device__ __forceinline__ float lane<2>(const float2 &v, int q)
{
    return q == 0 ? v.x : v.y;
}
template <> __device__ __forceinline__ float lane<4>(const float4 &v, int q)
{
    return q == 0 ? v.x : q == 1 ? v.y : q == 2 ? v.z : v.w;
}

/* The registers a thread loads a tile pair into. */
struct staged {
    float a[A_PER][VWM];
    float b[B_PER][VWN];
};

/* This thread's share of the tiles of A (rows m0.., columns k0..) and B (rows k0..,
 * columns n0..), zero outside the matrices. */
__device__ __forceinline__ void load(const float *__restrict__ A, const float *__restrict__ B,
                                     int m0, int n0, int k0, int tid, staged &r)
{
    const bool whole = m0 + MWG <= SIZE_M && n0 + NWG <= SIZE_N && k0 + KWG <= SIZE_K;
#pragma unroll
    for (int l = 0; l < A_PER; l++) {
        const int v = tid + l * THREADS, row = v / (KWG / VWM), col = v % (KWG / VWM) * VWM;
        const int m = m0 + row, k = k0 + col;
        if (A_VECTOR && whole) {
            typename vec<VWM>::t x =
                *reinterpret_cast<const typename vec<VWM>::t *>(&A[(size_t)m * SIZE_K + k]);
#pragma unroll
            for (int q = 0; q < VWM; q++)
                r.a[l][q] = lane<VWM>(x, q);
        } else {
#pragma unroll
            for (int q = 0; q < VWM; q++)
                r.a[l][q] = m < SIZE_M && k + q < SIZE_K ? A[(size_t)m * SIZE_K + k + q] : 0.0f;
        }
    }
#pragma unroll
    for (int l = 0; l < B_PER; l++) {
        const int v = tid + l * THREADS, row = v / (NWG / VWN), col = v % (NWG / VWN) * VWN;
        const int k = k0 + row, n = n0 + col;
        if (B_VECTOR && whole) {
            typename vec<VWN>::t x =
                *reinterpret_cast<const typename vec<VWN>::t *>(&B[(size_t)k * SIZE_N + n]);
#pragma unroll
            for (int q = 0; q < VWN; q++)
                r.b[l][q] = lane<VWN>(x, q);
        } else {
#pragma unroll
            for (int q = 0; q < VWN; q++)
                r.b[l][q] = k < SIZE_K && n + q < SIZE_N ? B[(size_t)k * SIZE_N + n + q] : 0.0f;
        }
    }
}

/* The registers into shared memory: A transposed (As[k][m]), B as it is (Bs[k][n]). */
__device__ __forceinline__ void store(float (*As)[MWG + PADA], float (*Bs)[NWG + PADB],
                                      int tid, const staged &r)
{
#pragma unroll
    for (int l = 0; l < A_PER; l++) {
        const int v = tid + l * THREADS, row = v / (KWG / VWM), col = v % (KWG / VWM) * VWM;
#pragma unroll
        for (int q = 0; q < VWM; q++)
            As[col + q][row] = r.a[l][q];
    }
#pragma unroll
    for (int l = 0; l < B_PER; l++) {
        const int v = tid + l * THREADS, row = v / (NWG / VWN), col = v % (NWG / VWN) * VWN;
#pragma unroll
        for (int q = 0; q < VWN; q++)
            Bs[row][col + q] = r.b[l][q];
    }
}

/* Row i and column j of this thread's sub-tile, within the block's tile. */
__device__ __forceinline__ int row_of(int ty, int i) { return STRM ? ty + i * MDIMC : ty * MWI + i; }
__device__ __forceinline__ int col_of(int tx, int j) { return STRN ? tx + j * NDIMC : tx * NWI + j; }

extern "C" __global__ void __launch_bounds__(THREADS)
sgemm(const float *__restrict__ A, const float *__restrict__ B, float *__restrict__ C,
      float alpha, float beta)
{
    __shared__ float As[DBUF + 1][KWG][MWG + PADA];
    __shared__ float Bs[DBUF + 1][KWG][NWG + PADB];
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * NDIMC + tx;
    const int m0 = blockIdx.y * MWG, n0 = blockIdx.x * NWG;
    float acc[MWI][NWI];
#pragma unroll
    for (int i = 0; i < MWI; i++)
#pragma unroll
        for (int j = 0; j < NWI; j++)
            acc[i][j] = 0.0f;

    staged r;
    load(A, B, m0, n0, 0, tid, r);
    store(As[0], Bs[0], tid, r);
    __syncthreads();
    const int tiles = (SIZE_K + KWG - 1) / KWG;
    for (int t = 0; t < tiles; t++) {
        const int cur = DBUF ? t & 1 : 0;
        /* with DBUF, the next tiles travel from global memory while these are multiplied */
        if (DBUF && t + 1 < tiles)
            load(A, B, m0, n0, (t + 1) * KWG, tid, r);
#pragma unroll
        for (int k = 0; k < KWG; k++) {
            float a[MWI], b[NWI];
#pragma unroll
            for (int i = 0; i < MWI; i++)
                a[i] = As[cur][k][row_of(ty, i)];
#pragma unroll
            for (int j = 0; j < NWI; j++)
                b[j] = Bs[cur][k][col_of(tx, j)];
#pragma unroll
            for (int i = 0; i < MWI; i++)
#pragma unroll
                for (int j = 0; j < NWI; j++)
                    acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        if (t + 1 < tiles) {
            if (DBUF) {
                store(As[cur ^ 1], Bs[cur ^ 1], tid, r);
            } else {
                __syncthreads(); /* everyone is done with the tiles before they change */
                load(A, B, m0, n0, (t + 1) * KWG, tid, r);
                store(As[0], Bs[0], tid, r);
            }
            __syncthreads();
        }
    }
#pragma unroll
    for (int i = 0; i < MWI; i++) {
        const int m = m0 + row_of(ty, i);
#pragma unroll
        for (int j = 0; j < NWI; j++) {
            const int n = n0 + col_of(tx, j);
            if (m < SIZE_M && n < SIZE_N) {
                const size_t at = (size_t)m * SIZE_N + n;
                C[at] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * C[at];
            }
        }
    }
}

#endif
