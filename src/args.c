/* args.c — a kernel's arguments as its spec's Arguments describe them: their initial
 * contents on the host (shared with the tuning worker) and, for launches outside tuning,
 * buffers on the GPU filled with them (cutune_args). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An argument's initial contents, malloc'd into *out; on failure why says what. */
int ct_fill_host(const cutune_kernel *k, size_t index, void **out, char *why, size_t size)
{
    const cutune_kernel_arg *a = cutune_kernel_arg_at(k, index);
    size_t es = cutune_elem_size(a->type), bytes = (size_t)a->count * es;
    unsigned char *buf = calloc(1, bytes ? bytes : 1);
    if (!buf) {
        snprintf(why, size, "%s: cannot allocate %zu bytes", a->name, bytes);
        return -1;
    }
    cutune_rng rng;
    cutune_rng_seed(&rng, cutune_kernel_seed(k) * 1000003u + index);
    if (a->fill == CUTUNE_FILL_FILE) {
        FILE *f = fopen(a->file, "rb");
        size_t got = f ? fread(buf, 1, bytes, f) : 0;
        int extra = f && fgetc(f) != EOF;
        if (f)
            fclose(f);
        if (got != bytes || extra) {
            snprintf(why, size, "%s: %s %s (need exactly %zu bytes)", a->name, a->file,
                     f ? "has another size" : "cannot be read", bytes);
            free(buf);
            return -1;
        }
    } else if (a->fill != CUTUNE_FILL_ZEROS) {
        for (uint64_t i = 0; i < a->count; i++) {
            double v = a->fill == CUTUNE_FILL_CONSTANT
                           ? a->value
                           : (double)(cutune_rng_next(&rng) >> 11) * 0x1.0p-53 * a->value;
            unsigned char *p = buf + i * es;
            switch (a->type) {
            case CUTUNE_FLOAT32: *(float *)p = (float)v; break;
            case CUTUNE_FLOAT64: *(double *)p = v; break;
            case CUTUNE_INT32: *(int32_t *)p = (int32_t)v; break;
            case CUTUNE_UINT32: *(uint32_t *)p = (uint32_t)v; break;
            case CUTUNE_INT64: *(int64_t *)p = (int64_t)v; break;
            case CUTUNE_UINT64: *(uint64_t *)p = (uint64_t)v; break;
            case CUTUNE_INT8: *(int8_t *)p = (int8_t)v; break;
            case CUTUNE_UINT8: *(uint8_t *)p = (uint8_t)v; break;
            }
        }
    }
    *out = buf;
    return 0;
}

struct cutune_args {
    size_t n;
    void **params; /* what cutune_launch takes: &dev[i], or the scalar's host copy */
    void **dev, **host;
    size_t *bytes;
};

void cutune_args_free(cutune_args *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        if (a->dev)
            ct_cuda_free(a->dev[i]);
        if (a->host)
            free(a->host[i]);
    }
    free(a->params);
    free(a->dev);
    free(a->host);
    free(a->bytes);
    free(a);
}

int cutune_args_new(cutune_args **out, const cutune_kernel *k)
{
    if (!out || !k)
        return ct_fail(CUTUNE_EINVAL, "cutune_args_new: NULL argument");
    *out = NULL;
    cutune_args *a = calloc(1, sizeof *a);
    size_t n = cutune_kernel_num_args(k), slots = n ? n : 1;
    if (!a || !(a->params = calloc(slots, sizeof *a->params)) ||
        !(a->dev = calloc(slots, sizeof *a->dev)) ||
        !(a->host = calloc(slots, sizeof *a->host)) ||
        !(a->bytes = calloc(slots, sizeof *a->bytes))) {
        cutune_args_free(a);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    a->n = n;
    double device_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const cutune_kernel_arg *arg = cutune_kernel_arg_at(k, i);
        a->bytes[i] = (size_t)arg->count * cutune_elem_size(arg->type);
        device_bytes += arg->scalar ? 0 : (double)a->bytes[i];
    }
    size_t free_bytes = 0;
    int st = ct_cuda_free_memory(&free_bytes);
    if (!st && device_bytes > (double)free_bytes)
        st = ct_fail(CUTUNE_ENOMEM,
                     "%s's arguments need %.1f GiB of GPU memory; %.1f GiB are "
                     "free",
                     cutune_kernel_name(k), device_bytes / (1 << 30),
                     (double)free_bytes / (1 << 30));
    char why[512];
    for (size_t i = 0; !st && i < n; i++) {
        const cutune_kernel_arg *arg = cutune_kernel_arg_at(k, i);
        if (ct_fill_host(k, i, &a->host[i], why, sizeof why))
            st = ct_fail(CUTUNE_EIO, "%s: %s", cutune_kernel_name(k), why);
        else if (arg->scalar)
            a->params[i] = a->host[i];
        else if (!(st = ct_cuda_upload(&a->dev[i], a->host[i], a->bytes[i])))
            a->params[i] = &a->dev[i];
        else
            ct_wrap(st, "%s, argument %s", cutune_kernel_name(k), arg->name);
    }
    if (st) {
        cutune_args_free(a);
        return st;
    }
    *out = a;
    return CUTUNE_OK;
}

void **cutune_args_params(cutune_args *a) { return a ? a->params : NULL; }

const void *cutune_args_host(const cutune_args *a, size_t i, size_t *bytes)
{
    if (!a || i >= a->n)
        return NULL;
    if (bytes)
        *bytes = a->bytes[i];
    return a->host[i];
}

/* ------------------------------------------------------------------------- CUDA ---- */

#ifdef CUTUNE_HAVE_CUDA
#include <cuda_runtime_api.h>

int ct_cuda_free_memory(size_t *free_bytes)
{
    size_t total;
    cudaError_t e = cudaMemGetInfo(free_bytes, &total);
    return e == cudaSuccess
               ? CUTUNE_OK
               : ct_fail(CUTUNE_ECUDA, "cudaMemGetInfo: %s", cudaGetErrorString(e));
}

int ct_cuda_upload(void **dev, const void *host, size_t bytes)
{
    cudaError_t e = cudaMalloc(dev, bytes ? bytes : 1);
    if (e == cudaSuccess)
        e = cudaMemcpy(*dev, host, bytes, cudaMemcpyHostToDevice);
    return e == cudaSuccess ? CUTUNE_OK
                            : ct_fail(CUTUNE_ECUDA, "%zu bytes on the GPU: %s", bytes,
                                      cudaGetErrorString(e));
}

void ct_cuda_free(void *dev)
{
    if (dev)
        cudaFree(dev);
}

#else

int ct_cuda_free_memory(size_t *free_bytes)
{
    (void)free_bytes;
    return ct_fail(CUTUNE_ENOTSUP, "cutune was built without CUDA");
}

int ct_cuda_upload(void **dev, const void *host, size_t bytes)
{
    (void)dev, (void)host, (void)bytes;
    return ct_fail(CUTUNE_ENOTSUP, "cutune was built without CUDA");
}

void ct_cuda_free(void *dev) { (void)dev; }

#endif
