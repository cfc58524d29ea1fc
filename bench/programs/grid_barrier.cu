/* grid_barrier.cu — what a step costs that is not arithmetic, for the real-time stages'
 * roofline (docs/realtime.md): the grid barrier that the fused kernels (oscillators.cu,
 * active_inference.cu) place between steps, against cooperative groups' grid.sync(), at
 * several grid sizes (all blocks resident: cooperative launches); and a kernel node in a CUDA
 * graph. Each figure is the median of 21 timings of a launch making 1000 barriers, less one
 * making none, over 1000. build/grid_barrier on a GPU machine. */
#include <algorithm>
#include <cooperative_groups.h>
#include <cstdio>
#include <vector>

#include "../../kernels/active_inference.cu" /* its grid_barrier(), the one measured */

__global__ void ours(unsigned *bar, int n)
{
    for (int k = 0; k < n; k++)
        grid_barrier(bar);
}

__global__ void theirs(int n)
{
    cooperative_groups::grid_group g = cooperative_groups::this_grid();
    for (int k = 0; k < n; k++)
        g.sync();
}

__global__ void empty() {}

/* The median of 21 timings (after a warm-up) of what `enqueue` puts on stream s, in ms. */
template <typename F> static float median_ms(cudaStream_t s, F enqueue)
{
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    std::vector<float> t;
    for (int r = 0; r < 22; r++) { /* the first is a warm-up */
        cudaEventRecord(e0, s);
        enqueue();
        cudaEventRecord(e1, s);
        cudaEventSynchronize(e1);
        float ms;
        cudaEventElapsedTime(&ms, e0, e1);
        if (r)
            t.push_back(ms);
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

static float time_launch(void *fn, int blocks, void **args)
{
    return median_ms(0, [&] { cudaLaunchCooperativeKernel(fn, blocks, 256, args, 0, 0); });
}

int main()
{
    cudaDeviceProp p;
    cudaGetDeviceProperties(&p, 0);
    int driver = 0;
    cudaDriverGetVersion(&driver);
    printf("%s (%d SMs), CUDA driver %d\n", p.name, p.multiProcessorCount, driver);
    unsigned *bar;
    cudaMalloc(&bar, sizeof *bar);
    cudaMemset(bar, 0, sizeof *bar);
    const int sms = p.multiProcessorCount;
    const int grids[] = {8, 32, 57, 113, sms, 2 * sms};
    for (int blocks : grids) {
        float us[2];
        for (int which = 0; which < 2; which++) {
            int none = 0, many = 1000;
            void *a0[] = {&bar, &none}, *a1[] = {&bar, &many};
            void *b0[] = {&none}, *b1[] = {&many};
            void *fn = which ? (void *)theirs : (void *)ours;
            float t0 = time_launch(fn, blocks, which ? b0 : a0);
            float t1 = time_launch(fn, blocks, which ? b1 : a1);
            us[which] = (t1 - t0) * 1e3f / many;
        }
        cudaError_t e = cudaGetLastError();
        printf("%4d blocks of 256: grid_barrier %.2f us, grid.sync() %.2f us%s%s\n", blocks,
               us[0], us[1], e ? "  error: " : "", e ? cudaGetErrorString(e) : "");
    }
    /* a kernel node in a graph: 1000 empty kernels captured, replayed */
    cudaStream_t s;
    cudaStreamCreate(&s);
    cudaGraph_t g;
    cudaGraphExec_t x;
    cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal);
    for (int k = 0; k < 1000; k++)
        empty<<<1, 32, 0, s>>>();
    cudaStreamEndCapture(s, &g);
    cudaGraphInstantiate(&x, g, 0);
    float ms = median_ms(s, [&] { cudaGraphLaunch(x, s); });
    printf("an empty kernel in a graph: %.2f us a node\n", ms * 1e3f / 1000);
    return 0;
}
