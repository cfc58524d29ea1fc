/* launch_cuda.c — the launcher's CUDA half: a configuration's cubin loaded as a CUDA
 * library, its __constant__ values copied in, its launch (cooperative where the spec says)
 * with the dynamic shared memory it needs. */
#include "launch_impl.h"
#include "cuda_launch.h"

#include <stdatomic.h>
#include <string.h>

static int cuda_fail(cudaError_t e, const char *what, const char *config)
{
    return ct_fail(CUTUNE_ECUDA, "configuration %s: %s: %s", config, what,
                   cudaGetErrorString(e));
}

int ct_launch_copy_constant(loaded *e, const constant *c)
{
    void *sym;
    size_t size;
    cudaError_t err = cudaLibraryGetGlobal(&sym, &size, (cudaLibrary_t)e->lib, c->name);
    if (err != cudaSuccess) {
        cudaGetLastError();
        return ct_fail(CUTUNE_ENOTFOUND, "configuration %s has no __constant__ symbol '%s'",
                       e->key, c->name);
    }
    if (c->bytes > size)
        return ct_fail(CUTUNE_ERANGE, "'%s' holds %zu bytes, not %zu", c->name, size,
                       c->bytes);
    err = cudaMemcpy(sym, c->data, c->bytes, cudaMemcpyHostToDevice);
    return err == cudaSuccess ? CUTUNE_OK : cuda_fail(err, c->name, e->key);
}

/* Compiles and loads e->cfg into the current context; 1 when its block fits no SM here.
 * Anything but 0 leaves nothing loaded. */
int ct_launch_load(cutune_launcher *l, loaded *e, const int64_t problem[3])
{
    ct_kernel_source ks = {.space = l->space, .kernel = l->kernel, .source = l->source,
                           .source_name = l->source_name, .arch = l->arch.name,
                           .cache_dir = l->cache_dir};
    cutune_binary *bin = NULL;
    cutune_binary_info info;
    int st = ct_compile_config(&ks, e->cfg, problem, &bin, NULL);
    if (st)
        return ct_wrap(st, "configuration %s", e->key);
    cutune_binary_get_info(bin, &info);
    e->regs = info.regs;
    e->static_smem = info.static_smem;
    size_t code_size;
    const void *code = cutune_binary_code(bin, &code_size);
    cudaLibrary_t lib = NULL;
    cudaKernel_t kern = NULL;
    cudaError_t err = cudaLibraryLoadData(&lib, code, NULL, NULL, 0, NULL, NULL, 0);
    if (err == cudaSuccess && (err = cudaLibraryGetKernel(&kern, lib, info.lowered_name)))
        cudaLibraryUnload(lib);
    e->lib = lib;
    e->kern = kern;
    cutune_binary_free(bin);
    if (err != cudaSuccess)
        return cuda_fail(err, "loading its cubin", e->key);
    for (const constant *c = l->constants; c && !st; c = c->next)
        st = ct_launch_copy_constant(e, c);
    /* does a block fit an SM of this GPU? */
    unsigned grid[3], block[3];
    size_t smem;
    int blocks = 0;
    if (!st)
        st = cutune_kernel_geometry_at(l->kernel, e->cfg, problem, grid, block, &smem);
    if (!st && smem > 48 * 1024 &&
        cudaFuncSetAttribute((const void *)e->kern, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             (int)smem) == cudaSuccess)
        atomic_store(&e->smem_limit, smem);
    else if (!st)
        atomic_store(&e->smem_limit, 48 * 1024);
    if (!st && block[0] * block[1] * block[2] <= (unsigned)l->device.max_threads_per_block &&
        smem <= atomic_load(&e->smem_limit))
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, (const void *)e->kern,
                                                      (int)(block[0] * block[1] * block[2]),
                                                      smem);
    cudaGetLastError();
    if (st || blocks < 1)
        cudaLibraryUnload(lib);
    return st ? st : blocks < 1;
}

/* The launcher's device must be the calling thread's. */
int ct_launch_check_device(const cutune_launcher *l)
{
    int current = -1;
    cudaError_t err = cudaGetDevice(&current);
    if (err != cudaSuccess)
        return ct_fail(CUTUNE_ECUDA, "cudaGetDevice: %s", cudaGetErrorString(err));
    if (current != l->device.ordinal)
        return ct_fail(CUTUNE_EINVAL, "the launcher is for device %d, this thread's device is "
                       "%d (cudaSetDevice first)", l->device.ordinal, current);
    return CUTUNE_OK;
}

int ct_launch_loaded(loaded *e, const cutune_kernel *k, const int64_t problem[3],
                     void **args, void *stream, cutune_launch_info *info)
{
    unsigned grid[3], block[3];
    size_t smem;
    int cooperative;
    int st = cutune_kernel_geometry_at(k, e->cfg, problem, grid, block, &smem);
    if (!st)
        st = cutune_kernel_cooperative_at(k, e->cfg, problem, &cooperative);
    if (st)
        return ct_wrap(st, "configuration %s", e->key);
    cudaError_t err = cudaSuccess;
    if (smem > atomic_load(&e->smem_limit) &&
        (err = cudaFuncSetAttribute((const void *)e->kern,
                                    cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem)) ==
            cudaSuccess)
        atomic_store(&e->smem_limit, smem);
    if (err == cudaSuccess)
        err = ct_cuda_launch((const void *)e->kern, grid, block, args, smem,
                             (cudaStream_t)stream, cooperative);
    if (err != cudaSuccess) {
        cudaGetLastError();
        return cuda_fail(err, cooperative ? "cooperative launch" : "cudaLaunchKernel", e->key);
    }
    if (info) {
        memcpy(info->grid, grid, sizeof grid);
        memcpy(info->block, block, sizeof block);
        info->dynamic_smem = smem;
    }
    return CUTUNE_OK;
}


void ct_launch_unload(loaded *e)
{
    cudaLibraryUnload((cudaLibrary_t)e->lib);
}
