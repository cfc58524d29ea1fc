/* realtime_gpu.c — the demo workloads' frame on the GPU (realtime_gpu.h). Three CUDA graphs
 * are captured once: the oscillator steps alone, the active-inference step alone, and the
 * whole frame; each launch of one replays every kernel with no host work between them. */
#define _POSIX_C_SOURCE 200809L
#include "realtime_gpu.h"

#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rt_gpu {
    const rt_model *m;
    cudaStream_t stream;
    cutune_launcher *osc, *predict;
    cutune_launch_info osc_info, predict_info;
    int osc_per_launch, predict_per_launch; /* steps a launch: 1, or all of them (fused) */
    cutune_binary *osc_bin, *ai_bin;
    cudaLibrary_t osc_lib, ai_lib;
    cudaKernel_t observe, residual, descend, risk, choose;
    /* oscillators: two copies of the state (steps alternate), the step clock, the sums */
    double *theta[2], *vel[2], *omega, *C, *sums, *trig; /* trig: fused steps' scratch */
    unsigned long long *clock;
    unsigned *barrier; /* the fused launches' grid barriers: [0] osc_step's, [2] ai_predict's */
    /* active inference */
    double *A, *H, *mu, *mu_p, *o, *r, *S[2], *bu, *o_pref, *G, *U, *ai_out;
    /* pinned host buffers: observations in, results out (RT_AI_OUT + 4) */
    cutune_pool *pool;
    cutune_buffer in, out;
    cudaGraphExec_t osc_graph, ai_graph, frame_graph;
    char *why;
    size_t why_size;
};

static int fail(rt_gpu *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->why, g->why_size, fmt, ap);
    va_end(ap);
    return -1;
}

#define CUDA(call)                                                                       \
    do {                                                                                 \
        cudaError_t e_ = (call);                                                         \
        if (e_ != cudaSuccess)                                                           \
            return fail(g, "%s:%d: %s: %s", __FILE__, __LINE__, #call,                   \
                        cudaGetErrorString(e_));                                         \
    } while (0)

static double now_ms(void) { return 1e3 * cutune_now(); }

/* ------------------------------------------------------------------ set-up ---- */

/* The fixed kernels of a source, compiled for this GPU and loaded. */
static int load_module(rt_gpu *g, const char *dir, const char *file, const char *kernel,
                       const char *const *defines, size_t ndefines, const char *cache_dir,
                       cutune_binary **bin, cudaLibrary_t *lib)
{
    int dev;
    struct cudaDeviceProp prop;
    CUDA(cudaGetDevice(&dev));
    CUDA(cudaGetDeviceProperties(&prop, dev));
    char arch[16], path[4096];
    snprintf(arch, sizeof arch, "sm_%d%d", prop.major, prop.minor);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t len;
    char *text;
    if (cutune_read_file(path, (size_t)16 << 20, &text, &len))
        return fail(g, "%s", cutune_last_error());
    const char *options[] = {"-std=c++17"};
    cutune_compile_request req = {.source = text, .source_len = len, .source_name = file,
                                  .kernel = kernel, .arch = arch, .defines = defines,
                                  .num_defines = ndefines, .options = options,
                                  .num_options = 1, .cache_dir = cache_dir};
    int st = cutune_compile(&req, bin);
    free(text);
    if (st)
        return fail(g, "%s: %s", path, cutune_last_error());
    size_t size;
    const void *code = cutune_binary_code(*bin, &size);
    CUDA(cudaLibraryLoadData(lib, code, NULL, NULL, 0, NULL, NULL, 0));
    return 0;
}

static int upload(rt_gpu *g, double **d, const double *h, size_t n)
{
    CUDA(cudaMalloc((void **)d, sizeof(double) * (n ? n : 1)));
    if (h)
        CUDA(cudaMemcpy(*d, h, sizeof(double) * n, cudaMemcpyHostToDevice));
    else
        CUDA(cudaMemset(*d, 0, sizeof(double) * (n ? n : 1)));
    return 0;
}

int rt_gpu_reset(rt_gpu *g)
{
    const rt_model *m = g->m;
    size_t n = (size_t)m->n;
    CUDA(cudaMemcpy(g->theta[0], m->theta0, sizeof(double) * n, cudaMemcpyHostToDevice));
    CUDA(cudaMemcpy(g->vel[0], m->vel0, sizeof(double) * n, cudaMemcpyHostToDevice));
    CUDA(cudaMemset(g->clock, 0, sizeof *g->clock));
    CUDA(cudaMemset(g->barrier, 0, 4 * sizeof *g->barrier));
    CUDA(cudaMemcpy(g->mu, m->mu_p, sizeof(double) * RT_NS, cudaMemcpyHostToDevice));
    CUDA(cudaMemset(g->G, 0, sizeof(double) * RT_NP));
    CUDA(cudaMemset(g->sums, 0, sizeof(double) * 4));
    return 0;
}

/* ------------------------------------------------------------ the launches ---- */

static int launch_fixed(rt_gpu *g, cudaKernel_t k, unsigned grid, unsigned block, void **args)
{
    CUDA(cudaLaunchKernel((const void *)k, (dim3){grid, 1, 1}, (dim3){block, 1, 1}, args, 0, g->stream));
    return 0;
}

/* RT_OSC_STEPS steps, ending in copy 0: one launch a step, the state going from copy 0 to
 * copy 1 and back, or all the steps in one launch (copy 1 its scratch). */
static int enqueue_osc(rt_gpu *g)
{
    const rt_model *m = g->m;
    const int per = g->osc_per_launch;
    int64_t problem[3] = {m->n, per, 1};
    for (int k = 0; k < RT_OSC_STEPS; k += per) {
        int a = per > 1 ? 0 : k % 2, b = per > 1 ? 0 : 1 - a, tmp = 1 - b;
        void *args[] = {&g->theta[a], &g->vel[a], &g->theta[b], &g->vel[b], &g->omega, &g->C,
                        &g->clock, &k, (void *)&m->K, (void *)&m->gamma, (void *)&m->sigma,
                        (void *)&m->dt, (void *)&m->seed, &g->theta[tmp], &g->vel[tmp],
                        &g->barrier, &g->trig};
        if (cutune_launch(g->osc, problem, args, g->stream, &g->osc_info))
            return fail(g, "osc_step: %s", cutune_last_error());
    }
    return 0;
}

static int enqueue_observe(rt_gpu *g)
{
    int steps = RT_OSC_STEPS;
    CUDA(cudaMemsetAsync(g->sums, 0, sizeof(double) * 4, g->stream));
    void *args[] = {&g->theta[0], &g->vel[0], &g->C, (void *)&g->m->K, &g->sums, &g->clock,
                    &steps};
    return launch_fixed(g, g->observe, (unsigned)(g->m->n + 7) / 8, 256, args);
}

static int enqueue_ai(rt_gpu *g)
{
    const rt_model *m = g->m;
    for (int s = 0; s < m->grad_steps; s++) {
        int last = s == m->grad_steps - 1;
        void *res[] = {&g->H, &g->mu, &g->o, (void *)&m->so2, &g->r};
        void *desc[] = {&g->H, &g->r, &g->mu_p, (void *)&m->sp2, (void *)&m->eta, &g->mu,
                        &g->S[0], &last};
        if (launch_fixed(g, g->residual, (RT_NO + 7) / 8, 256, res) ||
            launch_fixed(g, g->descend, (RT_NS + 127) / 128, 128, desc))
            return -1;
    }
    const int per = g->predict_per_launch;
    int64_t problem[3] = {RT_NS, RT_NP, per};
    unsigned *barrier = g->barrier + 2;
    for (int t = 0; t < RT_HORIZON; t++) {
        double *bu = g->bu + (size_t)t * RT_NS * RT_NP;
        for (int s = 0; s < RT_SUBSTEPS; s += per) { /* as the oscillators' steps */
            int a = per > 1 ? 0 : s % 2, b = per > 1 ? 0 : 1 - a, tmp = 1 - b;
            void *args[] = {&g->A, &g->S[a], &g->S[b], &bu, &g->S[tmp], &barrier};
            if (cutune_launch(g->predict, problem, args, g->stream, &g->predict_info))
                return fail(g, "ai_predict: %s", cutune_last_error());
        }
        void *risk[] = {&g->H, &g->S[0], &g->o_pref, (void *)&m->so2, &g->G};
        if (launch_fixed(g, g->risk, (RT_NO + 7) / 8, 256, risk))
            return -1;
    }
    void *choose[] = {&g->G, &g->U, (void *)&m->precision, &g->ai_out};
    return launch_fixed(g, g->choose, 1, 32, choose);
}

static int enqueue_frame(rt_gpu *g)
{
    double *in = g->in.ptr, *out = g->out.ptr;
    CUDA(cudaMemcpyAsync(g->o, in, sizeof(double) * RT_NO, cudaMemcpyHostToDevice, g->stream));
    if (enqueue_osc(g) || enqueue_observe(g) || enqueue_ai(g))
        return -1;
    CUDA(cudaMemcpyAsync(out, g->ai_out, sizeof(double) * RT_AI_OUT, cudaMemcpyDeviceToHost,
                         g->stream));
    CUDA(cudaMemcpyAsync(out + RT_AI_OUT, g->sums, sizeof(double) * 4, cudaMemcpyDeviceToHost,
                         g->stream));
    return 0;
}

/* Steps a launch of a tuned kernel: all `steps` at once when the store holds a profile tuned
 * for fused launches (problem dimension `dim` above 1), else one, as the baseline. */
static int steps_per_launch(const cutune_launcher *l, const int64_t fused[3], int dim,
                            int steps)
{
    cutune_selection sel;
    return cutune_launcher_select(l, fused, &sel) == CUTUNE_OK &&
                   sel.rule != CUTUNE_SELECT_DEFAULT && sel.problem[dim] > 1
               ? steps
               : 1;
}

/* Every configuration compiled and loaded, and the first frame run, before capturing
 * (capture cannot load). A fused launch this GPU refuses (a cooperative grid too large to be
 * resident) falls back to one launch a step. */
static int warm_up(rt_gpu *g)
{
    if (rt_gpu_reset(g) || enqueue_frame(g) || cudaStreamSynchronize(g->stream) != cudaSuccess) {
        cudaGetLastError();
        if (g->osc_per_launch == 1 && g->predict_per_launch == 1)
            return fail(g, "the first frame failed: %s", g->why[0] ? g->why :
                        cudaGetErrorString(cudaGetLastError()));
        g->osc_per_launch = g->predict_per_launch = 1;
        cudaStreamSynchronize(g->stream);
        return warm_up(g);
    }
    return 0;
}

static int capture(rt_gpu *g, int (*enqueue)(rt_gpu *), cudaGraphExec_t *exec)
{
    cudaGraph_t graph;
    CUDA(cudaStreamBeginCapture(g->stream, cudaStreamCaptureModeThreadLocal));
    int bad = enqueue(g);
    cudaError_t e = cudaStreamEndCapture(g->stream, &graph);
    if (bad)
        return -1;
    if (e != cudaSuccess)
        return fail(g, "capturing a graph: %s", cudaGetErrorString(e));
    e = cudaGraphInstantiate(exec, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess)
        return fail(g, "instantiating a graph: %s", cudaGetErrorString(e));
    return 0;
}

/* ------------------------------------------------------------------ public ---- */

int rt_gpu_new(rt_gpu **out, const rt_model *m, cutune_store *store, const char *kernels_dir,
               const char *cache_dir, char *why, size_t why_size)
{
    rt_gpu *g = calloc(1, sizeof *g);
    *out = NULL;
    if (!g) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    g->m = m;
    g->why = why;
    g->why_size = why_size;
    char osc_spec[4096], ai_spec[4096], n_define[32];
    snprintf(osc_spec, sizeof osc_spec, "%s/oscillators.json", kernels_dir);
    snprintf(ai_spec, sizeof ai_spec, "%s/active_inference.json", kernels_dir);
    snprintf(n_define, sizeof n_define, "N=%d", m->n);
    const char *osc_defines[] = {n_define};
    const char *ai_defines[] = {"NS=900", "NO=100", "NP=5", "NU=6"};
    cutune_launcher_options lo = {.cache_dir = cache_dir};
    const size_t n = (size_t)m->n, ns = RT_NS;
    int bad = cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking) != cudaSuccess;
    if (bad)
        fail(g, "cannot create a stream");
    if (!bad && (cutune_launcher_new(&g->osc, store, osc_spec, NULL, &lo) ||
                 cutune_launcher_new(&g->predict, store, ai_spec, NULL, &lo)))
        bad = fail(g, "%s", cutune_last_error());
    bad = bad || load_module(g, kernels_dir, "oscillators.cu", "osc_observe", osc_defines, 1,
                             cache_dir, &g->osc_bin, &g->osc_lib);
    bad = bad || load_module(g, kernels_dir, "active_inference.cu", "ai_choose", ai_defines, 4,
                             cache_dir, &g->ai_bin, &g->ai_lib);
    struct {
        cudaKernel_t *k;
        cudaLibrary_t *lib;
        const char *name;
    } kernels[] = {{&g->observe, &g->osc_lib, "osc_observe"},
                   {&g->residual, &g->ai_lib, "ai_residual"},
                   {&g->descend, &g->ai_lib, "ai_descend"},
                   {&g->risk, &g->ai_lib, "ai_risk"},
                   {&g->choose, &g->ai_lib, "ai_choose"}};
    for (size_t i = 0; !bad && i < sizeof kernels / sizeof *kernels; i++)
        if (cudaLibraryGetKernel(kernels[i].k, *kernels[i].lib, kernels[i].name))
            bad = fail(g, "no kernel %s", kernels[i].name);
    bad = bad || upload(g, &g->trig, NULL, 4 * n) || upload(g, &g->theta[0], NULL, n) || upload(g, &g->theta[1], NULL, n) ||
          upload(g, &g->vel[0], NULL, n) || upload(g, &g->vel[1], NULL, n) ||
          upload(g, &g->omega, m->omega, n) || upload(g, &g->C, m->C, n * n) ||
          upload(g, &g->sums, NULL, 4) || upload(g, &g->A, m->A, ns * ns) ||
          upload(g, &g->H, m->H, (size_t)RT_NO * ns) || upload(g, &g->mu, NULL, ns) ||
          upload(g, &g->mu_p, m->mu_p, ns) || upload(g, &g->o, NULL, RT_NO) ||
          upload(g, &g->r, NULL, RT_NO) || upload(g, &g->S[0], NULL, ns * RT_NP) ||
          upload(g, &g->S[1], NULL, ns * RT_NP) ||
          upload(g, &g->bu, m->bu, (size_t)RT_HORIZON * ns * RT_NP) ||
          upload(g, &g->o_pref, m->o_pref, RT_NO) || upload(g, &g->G, NULL, RT_NP) ||
          upload(g, &g->U, m->U, (size_t)RT_NP * RT_HORIZON * RT_NU) ||
          upload(g, &g->ai_out, NULL, RT_AI_OUT);
    if (!bad && (cudaMalloc((void **)&g->clock, sizeof *g->clock) != cudaSuccess ||
                 cudaMalloc((void **)&g->barrier, 4 * sizeof *g->barrier) != cudaSuccess ||
                 cudaMemset(g->barrier, 0, 4 * sizeof *g->barrier) != cudaSuccess))
        bad = fail(g, "cudaMalloc failed");
    if (!bad && (cutune_pool_new(&g->pool, NULL) ||
                 cutune_pool_alloc(g->pool, sizeof(double) * RT_NO, &g->in) ||
                 cutune_pool_alloc(g->pool, sizeof(double) * (RT_AI_OUT + 4), &g->out)))
        bad = fail(g, "pinned buffers: %s", cutune_last_error());
    if (!bad)
        memset(g->in.ptr, 0, sizeof(double) * RT_NO);
    if (!bad) {
        const int64_t osc_fused[3] = {m->n, RT_OSC_STEPS, 1},
                      ai_fused[3] = {RT_NS, RT_NP, RT_SUBSTEPS};
        g->osc_per_launch = steps_per_launch(g->osc, osc_fused, 1, RT_OSC_STEPS);
        g->predict_per_launch = steps_per_launch(g->predict, ai_fused, 2, RT_SUBSTEPS);
    }
    bad = bad || warm_up(g);
    bad = bad || capture(g, enqueue_osc, &g->osc_graph) ||
          capture(g, enqueue_ai, &g->ai_graph) || capture(g, enqueue_frame, &g->frame_graph);
    bad = bad || rt_gpu_reset(g);
    if (bad) {
        rt_gpu_free(g);
        return -1;
    }
    *out = g;
    return 0;
}

void rt_gpu_free(rt_gpu *g)
{
    if (!g)
        return;
    if (g->stream)
        cudaStreamSynchronize(g->stream);
    cudaGraphExec_t graphs[] = {g->osc_graph, g->ai_graph, g->frame_graph};
    for (int i = 0; i < 3; i++)
        if (graphs[i])
            cudaGraphExecDestroy(graphs[i]);
    void *buffers[] = {g->theta[0], g->theta[1], g->vel[0], g->vel[1], g->omega, g->C,
                       g->sums, g->trig, g->clock, g->barrier, g->A, g->H, g->mu, g->mu_p, g->o,
                       g->r, g->S[0], g->S[1], g->bu, g->o_pref, g->G, g->U, g->ai_out};
    for (size_t i = 0; i < sizeof buffers / sizeof *buffers; i++)
        cudaFree(buffers[i]);
    if (g->pool)
        cutune_pool_free(g->pool);
    if (g->osc_lib)
        cudaLibraryUnload(g->osc_lib);
    if (g->ai_lib)
        cudaLibraryUnload(g->ai_lib);
    cutune_binary_free(g->osc_bin);
    cutune_binary_free(g->ai_bin);
    cutune_launcher_free(g->osc);
    cutune_launcher_free(g->predict);
    if (g->stream)
        cudaStreamDestroy(g->stream);
    free(g);
}

const char *rt_gpu_osc_config(const rt_gpu *g) { return g->osc_info.config; }
const char *rt_gpu_predict_config(const rt_gpu *g) { return g->predict_info.config; }
int rt_gpu_osc_per_launch(const rt_gpu *g) { return g->osc_per_launch; }
int rt_gpu_predict_per_launch(const rt_gpu *g) { return g->predict_per_launch; }
const char *rt_gpu_osc_rule(const rt_gpu *g)
{
    return cutune_select_rule_name(g->osc_info.selection.rule);
}
const char *rt_gpu_predict_rule(const rt_gpu *g)
{
    return cutune_select_rule_name(g->predict_info.selection.rule);
}

static int timed(rt_gpu *g, cudaGraphExec_t exec, int runs, double *ms)
{
    for (int i = 0; i < runs; i++) {
        double t0 = now_ms();
        CUDA(cudaGraphLaunch(exec, g->stream));
        CUDA(cudaStreamSynchronize(g->stream));
        ms[i] = now_ms() - t0;
    }
    return 0;
}

int rt_gpu_time_osc(rt_gpu *g, int runs, double *ms) { return timed(g, g->osc_graph, runs, ms); }
int rt_gpu_time_ai(rt_gpu *g, int runs, double *ms) { return timed(g, g->ai_graph, runs, ms); }

int rt_gpu_frame(rt_gpu *g, const double *o, double *ai_out, double *osc_out, double *ms)
{
    double t0 = now_ms();
    memcpy(g->in.ptr, o, sizeof(double) * RT_NO);
    CUDA(cudaGraphLaunch(g->frame_graph, g->stream));
    CUDA(cudaStreamSynchronize(g->stream));
    const double *out = g->out.ptr;
    memcpy(ai_out, out, sizeof(double) * RT_AI_OUT);
    memcpy(osc_out, out + RT_AI_OUT, sizeof(double) * 4);
    *ms = now_ms() - t0;
    return 0;
}

int rt_gpu_read(rt_gpu *g, double *theta, double *vel, double *mu)
{
    size_t n = (size_t)g->m->n;
    CUDA(cudaStreamSynchronize(g->stream));
    if (theta)
        CUDA(cudaMemcpy(theta, g->theta[0], sizeof(double) * n, cudaMemcpyDeviceToHost));
    if (vel)
        CUDA(cudaMemcpy(vel, g->vel[0], sizeof(double) * n, cudaMemcpyDeviceToHost));
    if (mu)
        CUDA(cudaMemcpy(mu, g->mu, sizeof(double) * RT_NS, cudaMemcpyDeviceToHost));
    return 0;
}

static double max_abs_diff(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

int rt_gpu_check(rt_gpu *g, double check[5])
{
    const rt_model *m = g->m;
    size_t n = (size_t)m->n;
    double o[RT_NO], ai[RT_AI_OUT], sums[4], ms, want_ai[RT_AI_OUT], want_sums[4];
    double *theta = malloc(sizeof(double) * n * 4), *mu = malloc(sizeof(double) * RT_NS * 2);
    if (!theta || !mu) {
        free(theta);
        free(mu);
        return -1;
    }
    double *vel = theta + n, *want_theta = theta + 2 * n, *want_vel = theta + 3 * n;
    double *want_mu = mu + RT_NS;
    rt_observations(m, 0, o);
    int bad = rt_gpu_reset(g) || rt_gpu_frame(g, o, ai, sums, &ms) ||
              rt_gpu_read(g, theta, vel, mu);
    if (!bad) {
        memcpy(want_theta, m->theta0, sizeof(double) * n);
        memcpy(want_vel, m->vel0, sizeof(double) * n);
        rt_osc_steps(m, want_theta, want_vel, 0, RT_OSC_STEPS);
        rt_osc_observe(m, want_theta, want_vel, want_sums);
        memcpy(want_mu, m->mu_p, sizeof(double) * RT_NS);
        bad = rt_ai_step(m, o, want_mu, want_ai) != CUTUNE_OK;
    }
    if (!bad) {
        check[0] = fmax(max_abs_diff(theta, want_theta, n), max_abs_diff(vel, want_vel, n));
        check[1] = max_abs_diff(sums, want_sums, 4);
        check[2] = max_abs_diff(mu, want_mu, RT_NS);
        check[3] = max_abs_diff(ai, want_ai, RT_NP);
        check[4] = ai[RT_NP + RT_NU] == want_ai[RT_NP + RT_NU]; /* the same policy chosen */
    }
    free(theta);
    free(mu);
    return bad ? -1 : 0;
}
