// saxpy.cu: y = a*x + y. Each thread handles tile_size_x elements, block_size_x apart.
// cutune (like Kernel Tuner) defines block_size_x, tile_size_x and kernel_tuner per
// configuration; the #ifndef keeps the file compilable on its own.
#ifndef kernel_tuner
#define block_size_x 256
#define tile_size_x 1
#endif

__global__ void saxpy(float *y, const float *x, float a, int n)
{
    int i = blockIdx.x * block_size_x * tile_size_x + threadIdx.x;
#pragma unroll
    for (int t = 0; t < tile_size_x; t++, i += block_size_x)
        if (i < n)
            y[i] = a * x[i] + y[i];
}
