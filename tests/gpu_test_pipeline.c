/* gpu_test_pipeline.c — the copy/compute pipeline on the GPU: data of awkward sizes (1 byte,
 * not a multiple of the chunk, smaller than one chunk) through 1 to 8 slots, pinned and
 * pageable buffers, chunks handed to the computation in order and in full, the output
 * byte for byte the input (the computation copies); without pinned memory to stage
 * through, pageable data copied directly; a computation that fails, or faults, stops the
 * pipeline with its error; GPU memory given as host data is refused. Exits 77 (skipped)
 * without a GPU. */
#include "check.h"
#include "cutune.h"

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct seen {
    size_t chunk, bytes, next; /* the offset expected next */
    int bad, fail_at, calls;
} seen;

/* Copies the chunk, and checks that chunks come in order and whole. */
static int copy_chunk(void *user, void *stream, const void *in, void *out, size_t offset,
                      size_t bytes)
{
    seen *s = user;
    size_t want = s->bytes - offset < s->chunk ? s->bytes - offset : s->chunk;
    s->bad += offset != s->next || bytes != want;
    s->next = offset + bytes;
    if (s->calls++ == s->fail_at)
        return CUTUNE_ECANCELED;
    return cudaMemcpyAsync(out, in, bytes, cudaMemcpyDeviceToDevice, (cudaStream_t)stream) ==
                   cudaSuccess
               ? CUTUNE_OK
               : CUTUNE_ECUDA;
}

/* A backend that has no pinned memory to give: the pipeline copies pageable data directly. */
static int no_memory(void *user, size_t bytes, void **out)
{
    (void)user, (void)bytes, (void)out;
    return CUTUNE_ENOMEM;
}
static void no_free(void *user, void *ptr, size_t bytes) { (void)user, (void)ptr, (void)bytes; }
static int always_done(void *user, void *event) { (void)user, (void)event; return 1; }

/* A computation that faults (writes to address 16): the pipeline returns the fault, without
 * hanging. Run in a process of its own (the fault ruins its CUDA context). */
static cudaKernel_t faulty;
static int fault_chunk(void *user, void *stream, const void *in, void *out, size_t offset,
                       size_t bytes)
{
    (void)user, (void)in, (void)out, (void)offset, (void)bytes;
    int *bad = (int *)16;
    void *args[] = {&bad};
    return cudaLaunchKernel((const void *)faulty, (dim3){1, 1, 1}, (dim3){32, 1, 1}, args, 0,
                            (cudaStream_t)stream) == cudaSuccess ? CUTUNE_OK : CUTUNE_ECUDA;
}

static int fault_run(void)
{
    cutune_device_info dev;
    cutune_arch arch;
    cutune_binary *bin;
    cutune_binary_info info;
    cudaLibrary_t lib;
    static const char src[] = "extern \"C\" __global__ void bad(int *p) { p[threadIdx.x] = 1; }";
    cutune_compile_request req = {.source = src, .kernel = "bad", .arch = NULL};
    if (cutune_device_query(0, &dev) || cutune_arch_from_device(&dev, &arch))
        return 1;
    req.arch = arch.name;
    size_t size;
    if (cutune_compile(&req, &bin) || cutune_binary_get_info(bin, &info) ||
        cudaLibraryLoadData(&lib, cutune_binary_code(bin, &size), NULL, NULL, 0, NULL, NULL,
                            0) != cudaSuccess ||
        cudaLibraryGetKernel(&faulty, lib, info.lowered_name) != cudaSuccess) {
        fprintf(stderr, "fault: %s\n", cutune_last_error());
        return 1;
    }
    static char in[1 << 20], out[1 << 20];
    cutune_pipeline_options o = {.chunk_bytes = 64 << 10};
    int st = cutune_pipeline_run(in, out, sizeof in, fault_chunk, NULL, &o, NULL);
    printf("a faulting computation: %s\n", cutune_last_error());
    return st == CUTUNE_ECUDA && strstr(cutune_last_error(), "illegal") ? 0 : 1;
}

/* the cases' data: pinned and pageable, in and out */
static const size_t max = (10 << 20) + 3;
static unsigned char *pinned_in, *pinned_out, *paged_in, *paged_out;
static const char *self; /* this program, for the faulting run */

static int setup(void)
{
    int count;
    if (cutune_device_count(&count) != CUTUNE_OK) {
        printf("skipped: %s\n", cutune_last_error());
        return 77;
    }
    paged_in = malloc(max), paged_out = malloc(max);
    CHECK(cudaHostAlloc((void **)&pinned_in, max, 0) == cudaSuccess &&
          cudaHostAlloc((void **)&pinned_out, max, 0) == cudaSuccess && paged_in && paged_out);
    for (size_t i = 0; i < max; i++)
        pinned_in[i] = paged_in[i] = (unsigned char)(i * 2654435761u >> 13);
    return 0;
}

static void teardown(void)
{
    cudaFreeHost(pinned_in);
    cudaFreeHost(pinned_out);
    free(paged_in);
    free(paged_out);
}

/* every size, chunk, depth and kind of buffer */
static void sweep(void)
{
    cutune_pool *pool;
    CHECK_INT(cutune_pool_new(&pool, NULL), CUTUNE_OK);
    static const size_t sizes[] = {1, 4095, (10 << 20) + 3};
    static const size_t chunks[] = {4096, 1 << 20, 64 << 20};
    static const int depths[] = {1, 2, 3, 8};
    int runs = 0;
    for (int a = 0; a < 3; a++)
        for (int c = 0; c < 3; c++)
            for (int d = 0; d < 4; d++)
                for (int mode = 0; mode < 3; mode++) { /* pinned, pageable, mixed */
                    size_t bytes = sizes[a];
                    if (bytes / chunks[c] > 3000)
                        continue; /* 1-byte chunks of 10 MB: too slow to be useful */
                    const unsigned char *in = mode == 1 ? paged_in : pinned_in;
                    unsigned char *out = mode == 0 ? pinned_out : paged_out;
                    memset(out, 0, bytes);
                    size_t chunk = chunks[c] > bytes ? bytes : chunks[c];
                    seen s = {chunk, bytes, 0, 0, -1, 0};
                    cutune_pipeline_options o = {.chunk_bytes = chunks[c], .depth = depths[d],
                                                 .pool = mode == 2 ? pool : NULL,
                                                 .copy_threads = d % 2 ? 4 : 1};
                    cutune_pipeline_stats st;
                    int rc = cutune_pipeline_run(in, out, bytes, copy_chunk, &s, &o, &st);
                    if (rc)
                        fprintf(stderr, "%zu bytes, chunk %zu, depth %d, mode %d: %s\n", bytes,
                                chunks[c], depths[d], mode, cutune_last_error());
                    CHECK_INT(rc, CUTUNE_OK);
                    CHECK_INT(s.bad, 0);
                    CHECK_INT(st.chunks, (bytes + chunk - 1) / chunk);
                    CHECK_INT(st.staged_in, mode == 1);
                    CHECK_INT(st.staged_out, mode != 0);
                    CHECK(memcmp(in, out, bytes) == 0);
                    runs++;
                }
    printf("%d runs: every output the input, byte for byte\n", runs);
    cutune_pool_stats ps;
    cutune_pool_get_stats(pool, &ps);
    CHECK(ps.hits > 0 && ps.in_use_bytes == 0); /* the staging buffers came back, and again */
    cutune_pool_free(pool);
}

static void failures(void)
{
    /* a computation that fails stops the pipeline; what was enqueued drains */
    seen s = {1 << 20, max, 0, 0, 3, 0};
    cutune_pipeline_options o = {.chunk_bytes = 1 << 20};
    CHECK_INT(cutune_pipeline_run(pinned_in, pinned_out, max, copy_chunk, &s, &o, NULL),
              CUTUNE_ECANCELED);
    CHECK_HAS(cutune_last_error(), "the computation of chunk 3");
    CHECK_INT(s.calls, 4);
    /* GPU memory is not host data */
    void *dev;
    CHECK(cudaMalloc(&dev, 4096) == cudaSuccess);
    CHECK_INT(cutune_pipeline_run(dev, pinned_out, 4096, copy_chunk, &s, &o, NULL),
              CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "GPU memory");
    cudaFree(dev);
    /* no pinned memory to stage through: pageable data is copied directly, still right */
    cutune_pool_backend none = {no_memory, no_free, always_done, NULL, NULL, NULL};
    cutune_pool_options po = {.backend = &none};
    cutune_pool *empty;
    CHECK_INT(cutune_pool_new(&empty, &po), CUTUNE_OK);
    memset(paged_out, 0, max);
    s = (seen){1 << 20, max, 0, 0, -1, 0};
    cutune_pipeline_options eo = {.chunk_bytes = 1 << 20, .pool = empty};
    cutune_pipeline_stats est;
    CHECK_INT(cutune_pipeline_run(paged_in, paged_out, max, copy_chunk, &s, &eo, &est),
              CUTUNE_OK);
    CHECK(est.staged_in == 0 && est.staged_out == 0 && memcmp(paged_in, paged_out, max) == 0);
    cutune_pool_free(empty);
    /* a faulting computation, in a process of its own */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' --fault", self);
    CHECK_INT(system(cmd), 0);
    /* and after all that, a clean run */
    s = (seen){1 << 20, max, 0, 0, -1, 0};
    CHECK_INT(cutune_pipeline_run(pinned_in, pinned_out, max, copy_chunk, &s, &o, NULL),
              CUTUNE_OK);
    CHECK(memcmp(pinned_in, pinned_out, max) == 0);
}

TEST_LIST(TEST_CASE(sweep) TEST_CASE(failures));

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--fault") == 0)
        return fault_run();
    self = argv[0];
    return TEST_RUN(argc, argv, setup, teardown);
}
