/* pipeline_cuda.c — the copy/compute pipeline's CUDA half. Chunk k uses slot k % depth: a
 * device buffer in, a device buffer out, and (for pageable host data) pinned staging
 * buffers. Three streams
 * carry the copies in, the computations and the copies out; three events per slot say when
 * a slot's copy in, computation and copy out are done, and each stage waits on the events
 * it depends on: the copy in of chunk k waits for the computation of chunk k - depth (which
 * read the slot's input buffer), the computation for the copy in and for the copy out of
 * chunk k - depth (which read its output buffer), the copy out for the computation. */
#include "internal.h"

#include <cuda_runtime_api.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

enum { IN, COMPUTE, OUT, STAGES };

typedef struct slot {
    void *dev_in, *dev_out;
    cutune_buffer stage_in, stage_out; /* pinned, for pageable host data */
    cudaEvent_t done[STAGES];
} slot;

/* Threads that copy pageable data to and from the staging buffers, each a slice: one
 * thread's memcpy falls far short of the link. The caller's thread takes the first slice. */
typedef struct copiers copiers;
typedef struct copier_arg {
    copiers *c;
    int index;
} copier_arg;

struct copiers {
    int n;       /* threads besides the caller's */
    int running; /* they were started (and the barriers made) */
    pthread_t thread[CT_MAX_COPIERS];
    copier_arg arg[CT_MAX_COPIERS];
    pthread_barrier_t start, done;
    char *dst;
    const char *src;
    size_t bytes;
    int quit;
};

static void slice(copiers *c, int index)
{
    size_t parts = (size_t)c->n + 1, per = ((c->bytes + parts - 1) / parts + 63) & ~(size_t)63;
    size_t from = per * (size_t)index, to = from + per < c->bytes ? from + per : c->bytes;
    if (from < to)
        memcpy(c->dst + from, c->src + from, to - from);
}

static void *copier(void *arg)
{
    copier_arg *a = arg;
    for (;;) {
        pthread_barrier_wait(&a->c->start);
        if (a->c->quit)
            return NULL;
        slice(a->c, a->index);
        pthread_barrier_wait(&a->c->done);
    }
}

static void copy(copiers *c, void *dst, const void *src, size_t bytes)
{
    if (!c->running || bytes < ((size_t)1 << 20)) {
        memcpy(dst, src, bytes);
        return;
    }
    c->dst = dst;
    c->src = src;
    c->bytes = bytes;
    pthread_barrier_wait(&c->start);
    slice(c, 0);
    pthread_barrier_wait(&c->done);
}

typedef struct run {
    const char *in;
    char *out;
    size_t bytes, chunk;
    int depth, stage_in, stage_out;
    cudaStream_t stream[STAGES];
    slot slot[CT_MAX_PIPELINE_DEPTH];
    cutune_pool *pool;
    copiers copy;
} run;

static int cuda_fail(cudaError_t e, const char *what)
{
    cudaGetLastError();
    return ct_fail(e == cudaErrorMemoryAllocation ? CUTUNE_ENOMEM : CUTUNE_ECUDA,
                   "pipeline: %s: %s", what, cudaGetErrorString(e));
}

/* Whether host memory is page-locked; device memory is refused. */
static int host_side(const void *p, const char *name, int *pinned)
{
    struct cudaPointerAttributes a;
    cudaError_t e = cudaPointerGetAttributes(&a, p);
    if (e != cudaSuccess)
        return cuda_fail(e, name);
    if (a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged)
        return ct_fail(CUTUNE_EINVAL, "pipeline: %s is GPU memory; the pipeline moves host "
                       "data", name);
    *pinned = a.type == cudaMemoryTypeHost;
    return CUTUNE_OK;
}

static int setup(run *r)
{
    for (int k = 0; k < STAGES; k++) {
        cudaError_t e = cudaStreamCreateWithFlags(&r->stream[k], cudaStreamNonBlocking);
        if (e != cudaSuccess)
            return cuda_fail(e, "creating its streams");
    }
    if ((r->stage_in || r->stage_out) && r->copy.n) {
        pthread_barrier_init(&r->copy.start, NULL, (unsigned)r->copy.n + 1);
        pthread_barrier_init(&r->copy.done, NULL, (unsigned)r->copy.n + 1);
        int started = 0;
        for (; started < r->copy.n; started++) {
            r->copy.arg[started] = (copier_arg){&r->copy, started + 1};
            if (pthread_create(&r->copy.thread[started], NULL, copier, &r->copy.arg[started]))
                break;
        }
        r->copy.running = started == r->copy.n;
        if (started < r->copy.n) { /* fewer threads: the barriers must match */
            r->copy.quit = 1;
            pthread_barrier_wait(&r->copy.start);
            for (int k = 0; k < started; k++)
                pthread_join(r->copy.thread[k], NULL);
            pthread_barrier_destroy(&r->copy.start);
            pthread_barrier_destroy(&r->copy.done);
            r->copy.n = 0;
            r->copy.quit = 0;
        }
    } else {
        r->copy.n = 0;
    }
    for (int s = 0; s < r->depth; s++) {
        slot *sl = &r->slot[s];
        cudaError_t e = cudaMalloc(&sl->dev_in, r->chunk);
        if (e == cudaSuccess)
            e = cudaMalloc(&sl->dev_out, r->chunk);
        for (int k = 0; k < STAGES && e == cudaSuccess; k++)
            e = cudaEventCreateWithFlags(&sl->done[k], cudaEventDisableTiming);
        if (e != cudaSuccess)
            return cuda_fail(e, "allocating a slot's device buffers");
        /* pinned staging; without it (no pinned memory to be had), pageable copies */
        if (r->stage_in && cutune_pool_alloc(r->pool, r->chunk, &sl->stage_in))
            r->stage_in = 0;
        if (r->stage_out && cutune_pool_alloc(r->pool, r->chunk, &sl->stage_out))
            r->stage_out = 0;
    }
    return CUTUNE_OK;
}

static void teardown(run *r)
{
    if (r->copy.running) {
        r->copy.quit = 1;
        pthread_barrier_wait(&r->copy.start);
        for (int k = 0; k < r->copy.n; k++)
            pthread_join(r->copy.thread[k], NULL);
        pthread_barrier_destroy(&r->copy.start);
        pthread_barrier_destroy(&r->copy.done);
    }
    for (int k = 0; k < STAGES; k++)
        if (r->stream[k])
            cudaStreamSynchronize(r->stream[k]);
    for (int s = 0; s < r->depth; s++) {
        slot *sl = &r->slot[s];
        cudaFree(sl->dev_in);
        cudaFree(sl->dev_out);
        for (int k = 0; k < STAGES; k++)
            if (sl->done[k])
                cudaEventDestroy(sl->done[k]);
        if (sl->stage_in.ptr)
            cutune_pool_release(r->pool, &sl->stage_in, NULL);
        if (sl->stage_out.ptr)
            cutune_pool_release(r->pool, &sl->stage_out, NULL);
    }
    for (int k = 0; k < STAGES; k++)
        if (r->stream[k])
            cudaStreamDestroy(r->stream[k]);
    cudaGetLastError();
}

/* Chunk k's output, once its copy out is done, from staging to the caller's buffer. */
static int finish(run *r, size_t k)
{
    if (!r->stage_out)
        return CUTUNE_OK;
    slot *sl = &r->slot[k % (size_t)r->depth];
    cudaError_t e = cudaEventSynchronize(sl->done[OUT]);
    if (e != cudaSuccess)
        return cuda_fail(e, "copying a chunk out");
    size_t off = k * r->chunk, n = r->bytes - off < r->chunk ? r->bytes - off : r->chunk;
    copy(&r->copy, r->out + off, sl->stage_out.ptr, n);
    return CUTUNE_OK;
}

/* Enqueues chunk k's three stages. */
static int enqueue(run *r, size_t k, cutune_compute_fn compute, void *user)
{
    slot *sl = &r->slot[k % (size_t)r->depth];
    size_t off = k * r->chunk, n = r->bytes - off < r->chunk ? r->bytes - off : r->chunk;
    cudaError_t e = cudaSuccess;
    const void *src = r->in + off;
    if (r->stage_in) { /* the staging buffer's last copy in must be over */
        if ((e = cudaEventSynchronize(sl->done[IN])) != cudaSuccess)
            return cuda_fail(e, "copying a chunk in");
        copy(&r->copy, sl->stage_in.ptr, src, n);
        src = sl->stage_in.ptr;
    }
    if ((e = cudaStreamWaitEvent(r->stream[IN], sl->done[COMPUTE], 0)) == cudaSuccess &&
        (e = cudaMemcpyAsync(sl->dev_in, src, n, cudaMemcpyHostToDevice, r->stream[IN])) ==
            cudaSuccess)
        e = cudaEventRecord(sl->done[IN], r->stream[IN]);
    if (e != cudaSuccess)
        return cuda_fail(e, "copying a chunk in");
    if ((e = cudaStreamWaitEvent(r->stream[COMPUTE], sl->done[IN], 0)) == cudaSuccess)
        e = cudaStreamWaitEvent(r->stream[COMPUTE], sl->done[OUT], 0);
    if (e != cudaSuccess)
        return cuda_fail(e, "ordering a computation");
    int st = compute(user, r->stream[COMPUTE], sl->dev_in, sl->dev_out, off, n);
    if (st)
        return ct_wrap(st, "pipeline: the computation of chunk %zu (bytes %zu to %zu)", k, off,
                       off + n);
    void *dst = r->stage_out ? sl->stage_out.ptr : r->out + off;
    if ((e = cudaEventRecord(sl->done[COMPUTE], r->stream[COMPUTE])) == cudaSuccess &&
        (e = cudaStreamWaitEvent(r->stream[OUT], sl->done[COMPUTE], 0)) == cudaSuccess &&
        (e = cudaMemcpyAsync(dst, sl->dev_out, n, cudaMemcpyDeviceToHost, r->stream[OUT])) ==
            cudaSuccess)
        e = cudaEventRecord(sl->done[OUT], r->stream[OUT]);
    return e == cudaSuccess ? CUTUNE_OK : cuda_fail(e, "copying a chunk out");
}

static int pipeline(run *r, cutune_compute_fn compute, void *user, cutune_pipeline_stats *stats)
{
    size_t chunks = (r->bytes + r->chunk - 1) / r->chunk;
    double t0 = ct_now();
    int st = CUTUNE_OK;
    size_t k = 0, finished = 0;
    for (; k < chunks && !st; k++) {
        if (k >= (size_t)r->depth) /* the slot's last chunk leaves it */
            st = finish(r, finished++);
        if (!st)
            st = enqueue(r, k, compute, user);
    }
    while (!st && finished < chunks)
        st = finish(r, finished++);
    /* drain what was enqueued; a fault in a stage shows here */
    for (int s = 0; s < STAGES; s++) {
        cudaError_t e = cudaStreamSynchronize(r->stream[s]);
        if (e != cudaSuccess && !st)
            st = cuda_fail(e, s == COMPUTE ? "the computation" : "a copy");
    }
    stats->seconds = ct_now() - t0;
    stats->chunks = chunks;
    stats->staged_in = r->stage_in;
    stats->staged_out = r->stage_out;
    return st;
}

int ct_pipeline_cuda(const void *in, void *out, size_t bytes, cutune_compute_fn compute,
                     void *user, const cutune_pipeline_options *options,
                     cutune_pipeline_stats *stats)
{
    cutune_pipeline_options o = *options;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int helpers = o.copy_threads ? o.copy_threads - 1 : (int)(cpus > 8 ? 3 : cpus / 2 - 1);
    run r = {.in = in, .out = out, .bytes = bytes,
             .chunk = o.chunk_bytes ? o.chunk_bytes : (size_t)8 << 20,
             .depth = o.depth ? o.depth : 3, .pool = o.pool,
             .copy.n = helpers < 0 ? 0 : helpers > CT_MAX_COPIERS ? CT_MAX_COPIERS : helpers};
    if (r.chunk > bytes)
        r.chunk = bytes; /* a chunk larger than the data: one chunk */
    int count, pinned_in = 0, pinned_out = 0;
    int st = cutune_device_count(&count);
    cudaError_t e;
    if (!st && (e = cudaSetDevice(o.device)) != cudaSuccess)
        st = cuda_fail(e, "selecting the device");
    if (!st)
        st = host_side(in, "the input", &pinned_in);
    if (!st)
        st = host_side(out, "the output", &pinned_out);
    r.stage_in = !pinned_in;
    r.stage_out = !pinned_out;
    cutune_pool *own = NULL;
    if (!st && (r.stage_in || r.stage_out) && !r.pool) {
        if (cutune_pool_new(&own, NULL) == CUTUNE_OK)
            r.pool = own;
        else
            r.stage_in = r.stage_out = 0; /* pageable copies, then */
    }
    if (!st)
        st = setup(&r);
    if (!st)
        st = pipeline(&r, compute, user, stats);
    teardown(&r);
    cutune_pool_free(own);
    return st;
}
