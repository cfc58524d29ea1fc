/* convolution.cu — a 2-D convolution: output[y][x] = sum over i < filter_height,
 * j < filter_width of input[y + i][x + j] * filter[i][j], for an image_height x image_width
 * output; the input carries the filter's border (filter_width - 1 more columns, filter_height
 * - 1 more rows). The tunable parameters are the ones of the convolution space recorded on six
 * GPUs (data/spaces/convolution/spec.json), each a -D define:
 *   block_size_x, block_size_y   threads of a block
 *   tile_size_x, tile_size_y     outputs per thread in x and y (more work per loaded value)
 *   use_shmem                    stage the block's input tile in shared memory first
 *   use_padding                  one float more per shared-memory row (bank mapping)
 *   read_only                    load the input through the read-only path (__ldg)
 *   use_cmem                     the filter in constant memory (d_filter) rather than global
 * Why it can be fast: with tiles and shared memory each input value is read from DRAM once
 * per block and then reused filter_width x filter_height times from on-chip memory. */
#ifndef image_width
#define image_width 4096
#endif
#ifndef image_height
#define image_height 4096
#endif
#ifndef filter_width
#define filter_width 15
#endif
#ifndef filter_height
#define filter_height 15
#endif
#ifndef block_size_x
#define block_size_x 16
#endif
#ifndef block_size_y
#define block_size_y 16
#endif
#ifndef tile_size_x
#define tile_size_x 1
#endif
#ifndef tile_size_y
#define tile_size_y 1
#endif
#ifndef use_shmem
#define use_shmem 1
#endif
#ifndef use_padding
#define use_padding 1
#endif
#ifndef read_only
#define read_only 0
#endif
#ifndef use_cmem
#define use_cmem 1
#endif

#define input_width (image_width + filter_width - 1)
#define input_height (image_height + filter_height - 1)

#if read_only
#define LOAD(p) __ldg(p)
#else
#define LOAD(p) (*(p))
#endif

__constant__ float d_filter[filter_height * filter_width];

extern "C" __global__ void convolution_kernel(float *output, const float *__restrict__ input,
                                              const float *__restrict__ filter)
{
#if use_cmem
    const float *f = d_filter;
    (void)filter;
#else
    const float *f = filter;
#endif
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int x0 = blockIdx.x * block_size_x * tile_size_x; /* the block's first output */
    const int y0 = blockIdx.y * block_size_y * tile_size_y;

#if use_shmem
#define SH_W (block_size_x * tile_size_x + filter_width - 1)
#define SH_H (block_size_y * tile_size_y + filter_height - 1)
    __shared__ float tile[SH_H][SH_W + use_padding];
    for (int i = ty; i < SH_H; i += block_size_y)
        for (int j = tx; j < SH_W; j += block_size_x) {
            const int y = y0 + i, x = x0 + j;
            tile[i][j] = y < input_height && x < input_width ? LOAD(&input[y * input_width + x])
                                                             : 0.0f;
        }
    __syncthreads();
#endif

    float sum[tile_size_y][tile_size_x];
#pragma unroll
    for (int a = 0; a < tile_size_y; a++)
#pragma unroll
        for (int b = 0; b < tile_size_x; b++)
            sum[a][b] = 0.0f;

    for (int i = 0; i < filter_height; i++)
        for (int j = 0; j < filter_width; j++) {
            const float w = f[i * filter_width + j];
#pragma unroll
            for (int a = 0; a < tile_size_y; a++)
#pragma unroll
                for (int b = 0; b < tile_size_x; b++) {
                    const int ly = ty + a * block_size_y + i, lx = tx + b * block_size_x + j;
#if use_shmem
                    sum[a][b] += tile[ly][lx] * w;
#else
                    const int y = y0 + ly, x = x0 + lx;
                    if (y < input_height && x < input_width)
                        sum[a][b] += LOAD(&input[y * input_width + x]) * w;
#endif
                }
        }

#pragma unroll
    for (int a = 0; a < tile_size_y; a++)
#pragma unroll
        for (int b = 0; b < tile_size_x; b++) {
            const int y = y0 + ty + a * block_size_y, x = x0 + tx + b * block_size_x;
            if (y < image_height && x < image_width)
                output[y * image_width + x] = sum[a][b];
        }
}
