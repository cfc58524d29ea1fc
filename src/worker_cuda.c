/* worker_cuda.c — the worker's end (see worker.h): it allocates the kernel's buffers once,
 * keeps pristine copies of those the kernel writes, and for each configuration loads the
 * cubin, launches it, times the launches with CUDA events, and compares the outputs with
 * the reference. */
#include "worker_wire.h"
#include "compile_impl.h"
#include "verify.h"
#include "measure.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cuda_launch.h"

/* ------------------------------------------------------------- the worker's side ---- */

typedef struct child {
    const cutune_kernel *k;
    size_t nargs;
    void **dev, **pristine, **host, **ref;
    void **readback; /* pinned host buffers for the outputs */
    ct_check *check; /* what is compared, and how (the spec's, until the session says) */
    size_t *bytes;
    void *flush;
    size_t flush_bytes;
    cudaStream_t stream;
    cudaEvent_t start, stop;
    ct_clocks *clocks; /* NULL when NVML cannot say */
    int fd;
} child;

#define CUDA_TRY(call, what)                                                            \
    do {                                                                                \
        cudaError_t e_ = (call);                                                        \
        if (e_ != cudaSuccess) {                                                        \
            snprintf(why, size, "%s: %s", what, cudaGetErrorString(e_));                \
            return -1;                                                                  \
        }                                                                               \
    } while (0)

/* Refuses arguments that cannot fit before allocating and filling any (a problem size too
 * large would otherwise spend minutes filling host memory it then cannot copy): on the GPU
 * each buffer, a pristine copy of those written; on the host each argument's initial
 * contents, the reference and a pinned read-back of each output. */
static int check_memory(child *c, char *why, size_t size)
{
    double device = 0, host = 0;
    for (size_t i = 0; i < c->nargs; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(c->k, i);
        c->bytes[i] = (size_t)a->count * cutune_elem_size(a->type);
        double b = (double)c->bytes[i];
        host += b * (1 + 2 * a->output);
        if (!a->scalar)
            device += b * (1 + a->written);
    }
    size_t free_bytes = 0, total_bytes = 0;
    CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    const double gib = 1024.0 * 1024 * 1024;
    if (device > (double)free_bytes) {
        snprintf(why, size, "the kernel's arguments at this problem size need %.1f GiB of GPU "
                 "memory; %.1f GiB of the GPU's %.1f GiB are free", device / gib,
                 (double)free_bytes / gib, (double)total_bytes / gib);
        return -1;
    }
    if (ram > 0 && host > ram) {
        snprintf(why, size, "the kernel's arguments at this problem size need %.1f GiB of host "
                 "memory (initial contents, reference, read-back); this machine has %.1f GiB",
                 host / gib, ram / gib);
        return -1;
    }
    return 0;
}

static int child_setup(child *c, int device, cutune_device_info *info, char *why, size_t size)
{
    int st = cutune_device_query(device, info);
    if (st) {
        snprintf(why, size, "%s", cutune_last_error());
        return st;
    }
    CUDA_TRY(cudaSetDevice(device), "cudaSetDevice");
    c->clocks = ct_clocks_open(info->pci_bus_id);
    CUDA_TRY(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "stream");
    CUDA_TRY(cudaEventCreate(&c->start), "event");
    CUDA_TRY(cudaEventCreate(&c->stop), "event");
    /* as much as the L2 holds: on an H100, writing half that already made a 37 MiB buffer's
     * next read as slow as after writing 3x (docs/experiments.md) */
    c->flush_bytes = (size_t)(info->l2_cache_bytes > 0 ? info->l2_cache_bytes : 1 << 24);
    CUDA_TRY(cudaMalloc(&c->flush, c->flush_bytes), "the L2 flush buffer");
    c->nargs = cutune_kernel_num_args(c->k);
    size_t n = c->nargs ? c->nargs : 1;
    c->dev = calloc(n, sizeof *c->dev);
    c->pristine = calloc(n, sizeof *c->pristine);
    c->host = calloc(n, sizeof *c->host);
    c->ref = calloc(n, sizeof *c->ref);
    c->readback = calloc(n, sizeof *c->readback);
    c->bytes = calloc(n, sizeof *c->bytes);
    c->check = calloc(n, sizeof *c->check);
    if (!c->dev || !c->pristine || !c->host || !c->ref || !c->readback || !c->bytes ||
        !c->check) {
        snprintf(why, size, "out of memory");
        return -1;
    }
    if (check_memory(c, why, size))
        return -1;
    for (size_t i = 0; i < c->nargs; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(c->k, i);
        c->check[i] = ct_check_of_arg(a);
        if (ct_fill_host(c->k, i, &c->host[i], why, size))
            return -1;
        if (a->scalar)
            continue;
        CUDA_TRY(cudaMalloc(&c->dev[i], c->bytes[i]), a->name);
        CUDA_TRY(cudaMemcpy(c->dev[i], c->host[i], c->bytes[i], cudaMemcpyHostToDevice),
                 a->name);
        if (a->output)
            CUDA_TRY(cudaMallocHost(&c->readback[i], c->bytes[i]), a->name);
        if (a->written) {
            CUDA_TRY(cudaMalloc(&c->pristine[i], c->bytes[i]), a->name);
            CUDA_TRY(cudaMemcpy(c->pristine[i], c->dev[i], c->bytes[i],
                                cudaMemcpyDeviceToDevice),
                     a->name);
        }
    }
    return 0;
}

/* A MSG_ARGUMENT: argument i's initial contents on the host, on the GPU and in its pristine
 * copy. A body that does not fit is ignored (the session checked it); -1 when the GPU
 * refuses the copy, and the worker cannot go on. */
static int set_argument(child *c, const char *body, uint64_t len)
{
    uint64_t i;
    if (len < sizeof i)
        return 0;
    memcpy(&i, body, sizeof i);
    if (i >= c->nargs || len - sizeof i != c->bytes[i])
        return 0;
    memcpy(c->host[i], body + sizeof i, c->bytes[i]);
    if (c->dev[i] && cudaMemcpy(c->dev[i], c->host[i], c->bytes[i],
                                cudaMemcpyHostToDevice) != cudaSuccess)
        return -1;
    if (c->pristine[i] && cudaMemcpy(c->pristine[i], c->dev[i], c->bytes[i],
                                     cudaMemcpyDeviceToDevice) != cudaSuccess)
        return -1;
    return 0;
}

/* Puts back what the kernel may have written, outside the timed interval. */
static int restore(child *c, char *why, size_t size)
{
    for (size_t i = 0; i < c->nargs; i++)
        if (c->pristine[i])
            CUDA_TRY(cudaMemcpyAsync(c->dev[i], c->pristine[i], c->bytes[i],
                                     cudaMemcpyDeviceToDevice, c->stream),
                     "restoring an input");
    return 0;
}

/* Compares the outputs with the reference (or makes them the reference). */
static int check_outputs(child *c, const run_wire *w, ct_run_result *res, char *why,
                         size_t size)
{
    for (size_t i = 0; i < c->nargs; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(c->k, i);
        if (!c->check[i].compare)
            continue;
        unsigned char *got = c->readback[i];
        CUDA_TRY(cudaMemcpy(got, c->dev[i], c->bytes[i], cudaMemcpyDeviceToHost),
                 "reading an output");
        if (w->make_reference) {
            if (!c->ref[i] && !(c->ref[i] = malloc(c->bytes[i]))) {
                snprintf(why, size, "out of memory");
                return -1;
            }
            memcpy(c->ref[i], got, c->bytes[i]);
            continue;
        }
        if (!w->verify || !c->ref[i])
            continue;
        double err;
        uint64_t j = ct_compare(a->type, got, c->ref[i], a->count, &c->check[i], &err);
        if (err > res->max_error)
            res->max_error = err;
        if (j < a->count) {
            size_t es = cutune_elem_size(a->type);
            char test[96];
            res->outcome = CT_VERIFICATION_FAILED;
            snprintf(res->message, sizeof res->message, "%s[%llu] is %g, the reference %g "
                     "(%s fails)", a->name, (unsigned long long)j,
                     ct_elem_value(a->type, got + j * es),
                     ct_elem_value(a->type, (unsigned char *)c->ref[i] + j * es),
                     ct_check_text(&c->check[i], test, sizeof test));
            break;
        }
    }
    return 0;
}

/* The SM clock and its slowdown reasons into slot k of the result (0s when unknown). */
static void read_clocks(const child *c, ct_run_result *res, int k)
{
    if (ct_clocks_read(c->clocks, &res->sm_mhz[k], &res->slowdown[k]))
        res->sm_mhz[k] = 0, res->slowdown[k] = 0;
}

/* The warm-up and timed launches of one configuration, with the clocks read before the
 * first timed launch and after the last; outcome CT_MEASURED once all that were due are
 * timed. 1 when a fault poisoned the context (the worker must end). */
static int time_launches(child *c, const run_wire *w, cudaKernel_t kern, void **params,
                         ct_run_result *res)
{
    char *why = res->message;
    size_t size = sizeof res->message;
    int n = w->iterations < 64 ? w->iterations : 64;
    /* adaptive: at least 6 timed launches (what a 95% interval needs), then until the
     * interval is narrow enough, the configuration is clearly slower, or the cap */
    ct_measure_rule rule = {.min_launches = n < 6 ? n : 6, .max_launches = n,
                            .precision = w->precision, .best_ms = w->best_ms};
    res->outcome = CT_RUNTIME_FAILED;
    res->iterations = res->raced = 0;
    for (int i = 0; i < w->warmups + n; i++) {
        int timed = i >= w->warmups;
        if (restore(c, why, size))
            return 0;
        if (i == w->warmups)
            read_clocks(c, res, 0);
        if (timed && w->flush_l2)
            cudaMemsetAsync(c->flush, i, c->flush_bytes, c->stream);
        if (timed)
            cudaEventRecord(c->start, c->stream);
        cudaError_t e = ct_cuda_launch((const void *)kern, w->grid, w->block, params,
                                       (size_t)w->dynamic_smem, c->stream, w->cooperative);
        if (e == cudaSuccess && timed)
            e = cudaEventRecord(c->stop, c->stream);
        if (e == cudaSuccess)
            e = cudaStreamSynchronize(c->stream);
        if (e != cudaSuccess) {
            snprintf(why, size, "%s: %s", cudaGetErrorName(e), cudaGetErrorString(e));
            /* errors of the launch itself leave the context usable; faults do not */
            cudaGetLastError();
            return cudaDeviceSynchronize() != cudaSuccess;
        }
        if (timed) {
            float ms;
            cudaEventElapsedTime(&ms, c->start, c->stop);
            res->times_ms[res->iterations++] = ms;
            ct_measure_verdict v = ct_measure_decide(res->times_ms, res->iterations, &rule);
            if (v != CT_MEASURE_GO_ON) {
                res->raced = v == CT_MEASURE_RACED;
                break;
            }
        }
    }
    read_clocks(c, res, 1);
    res->outcome = CT_MEASURED;
    why[0] = '\0';
    return 0;
}

/* One configuration. A failure of the kernel is an outcome; -1 only when the worker must
 * end (a CUDA error that poisons the context), with the outcome set. */
static int child_run(child *c, const run_wire *w, const char *symbol, const void *cubin,
                     ct_run_result *res)
{
    memset(res, 0, sizeof *res);
    char *why = res->message;
    size_t size = sizeof res->message;
    cudaLibrary_t lib = NULL;
    cudaKernel_t kern;
    res->outcome = CT_RUNTIME_FAILED;
    cudaError_t e = cudaLibraryLoadData(&lib, cubin, NULL, NULL, 0, NULL, NULL, 0);
    if (e == cudaSuccess)
        e = cudaLibraryGetKernel(&kern, lib, symbol);
    if (e != cudaSuccess) {
        snprintf(why, size, "loading the cubin: %s", cudaGetErrorString(e));
        if (lib)
            cudaLibraryUnload(lib);
        return 0;
    }
    int fatal = 0;
    void **params = calloc(c->nargs ? c->nargs : 1, sizeof *params);
    for (size_t i = 0; params && i < c->nargs; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(c->k, i);
        params[i] = a->scalar ? c->host[i] : &c->dev[i];
        void *sym;
        size_t sym_size;
        if (a->constant && cudaLibraryGetGlobal(&sym, &sym_size, lib, a->name) == cudaSuccess)
            cudaMemcpy(sym, c->host[i], sym_size < c->bytes[i] ? sym_size : c->bytes[i],
                       cudaMemcpyHostToDevice);
    }
    if (!params)
        snprintf(why, size, "out of memory");
    else if (w->dynamic_smem > 48 * 1024 &&
             (e = cudaFuncSetAttribute((const void *)kern,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       (int)w->dynamic_smem)) != cudaSuccess)
        snprintf(why, size, "%llu bytes of dynamic shared memory: %s",
                 (unsigned long long)w->dynamic_smem, cudaGetErrorString(e));
    else {
        /* a timing while power or heat held the clock down is made once more */
        for (int attempt = 0; attempt < 2; attempt++) {
            fatal = time_launches(c, w, kern, params, res);
            int held = res->slowdown[0] || res->slowdown[1];
            if (fatal || res->outcome != CT_MEASURED || !held || attempt)
                break;
            res->throttle_retried = 1;
        }
        if (!fatal && res->outcome == CT_MEASURED && check_outputs(c, w, res, why, size))
            res->outcome = CT_RUNTIME_FAILED;
    }
    free(params);
    cudaLibraryUnload(lib);
    res->restart = fatal;
    return fatal ? -1 : 0;
}

void ct_worker_child_main(int fd, const cutune_kernel *k, int device)
{
    child c = {.k = k, .fd = fd};
    cutune_device_info info;
    char why[256];
    int st = child_setup(&c, device, &info, why, sizeof why);
    if (st) {
        ct_wire_send_failure(fd, st == CUTUNE_ENODEVICE ? st : CUTUNE_ECUDA, why);
        return;
    }
    if (ct_wire_send_msg(fd, MSG_INFO, &info, sizeof info))
        return;
    for (;;) {
        msg_head h;
        if (ct_wire_recv_all(fd, &h, sizeof h) || h.kind == MSG_QUIT)
            return;
        if (h.len > ((uint64_t)1 << 36))
            return;
        char *body = malloc(h.len ? h.len : 1);
        if (!body || ct_wire_recv_all(fd, body, h.len)) {
            free(body);
            return;
        }
        if (h.kind == MSG_CHECK) { /* what to compare, and how */
            for (size_t i = 0; i < c.nargs && (i + 1) * sizeof *c.check <= h.len; i++) {
                const cutune_kernel_arg *a = cutune_kernel_arg_at(k, i);
                memcpy(&c.check[i], body + i * sizeof *c.check, sizeof *c.check);
                c.check[i].compare &= a->output && !a->scalar; /* (read back: outputs) */
                if (!c.check[i].compare) {
                    free(c.ref[i]);
                    c.ref[i] = NULL;
                }
            }
            free(body);
            continue;
        }
        if (h.kind == MSG_ARGUMENT) { /* initial contents given instead of the spec's fill */
            int lost = set_argument(&c, body, h.len);
            free(body);
            if (lost)
                return;
            continue;
        }
        if (h.kind == MSG_REFERENCE) { /* the default's outputs after a restart, or answers */
            size_t off = 0;
            for (size_t i = 0; i < c.nargs; i++) {
                if (!c.check[i].compare || off + c.bytes[i] > h.len)
                    continue;
                free(c.ref[i]);
                if ((c.ref[i] = malloc(c.bytes[i])))
                    memcpy(c.ref[i], body + off, c.bytes[i]);
                off += c.bytes[i];
            }
            free(body);
            continue;
        }
        run_wire w;
        ct_run_result res;
        memcpy(&w, body, sizeof w);
        const char *symbol = body + sizeof w;
        int fatal = child_run(&c, &w, symbol, body + sizeof w + w.symbol_len, &res);
        int sent = ct_wire_send_msg(fd, MSG_RESULT, &res, sizeof res);
        if (!sent && w.make_reference && res.outcome == CT_MEASURED) {
            size_t total = 0, off = 0;
            for (size_t i = 0; i < c.nargs; i++)
                total += c.ref[i] ? c.bytes[i] : 0;
            char *all = malloc(total ? total : 1);
            for (size_t i = 0; all && i < c.nargs; i++)
                if (c.ref[i]) {
                    memcpy(all + off, c.ref[i], c.bytes[i]);
                    off += c.bytes[i];
                }
            sent = all ? ct_wire_send_msg(fd, MSG_REFERENCE, all, total) : -1;
            free(all);
        }
        free(body);
        if (fatal || sent)
            return;
    }
}
