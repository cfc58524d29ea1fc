/* gpu.c — the GPU kind of session: a kernel from a T1 spec, measured by a worker process
 * that owns the device. Each configuration is compiled through the binary cache (other
 * threads may have compiled it ahead: gpu_compile.c), pruned without a launch when its
 * registers and shared memory leave no block room on an SM, run and timed by the worker,
 * and checked there against the reference outputs. */
#include "gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NVRTC's warnings, kept for the report: the first configuration's that has any. */
static void note_warnings(cutune_session *s, size_t i, const char *log)
{
    char *lines = ct_log_compiler_lines(log, 1);
    if (!lines)
        return;
    s->warned++;
    if (!s->warnings)
        s->warnings = lines, s->warnings_entry = i;
    else
        free(lines);
}

/* The launch of configuration i: its geometry (also the grid and block the source is
 * compiled with), and whether it is cooperative. Nonzero when an expression fails
 * (cutune_last_error says why). */
static int launch_shape(cutune_session *s, size_t i, ct_run_request *req)
{
    const uint32_t *config = ct_domain_config(&s->dom, i);
    return cutune_kernel_geometry(s->kernel, config, req->grid, req->block,
                                  &req->dynamic_smem) ||
           cutune_kernel_cooperative_at(s->kernel, config, s->problem, &req->cooperative);
}

/* 10 times the best so far for each launch, at least 1 s, and time to check (or the
 * session's own timeout). */
static void set_timeout(const cutune_session *s, ct_run_request *req)
{
    double per_launch = isnan(s->best_ms) ? 1e4 : 10 * s->best_ms;
    req->timeout_s = (per_launch > 1e3 ? per_launch : 1e3) * (req->warmups + req->iterations) /
                     1e3;
    if (s->opt.timeout_s > 0)
        req->timeout_s = s->opt.timeout_s;
    req->timeout_s += 5;
}

/* Compiles, prunes, runs and checks configuration i into its record. A status only when the
 * session cannot go on (out of memory, the worker cannot be started). */
static int gpu_evaluate(cutune_session *s, void *ctx, size_t i, int reference)
{
    gpu *g = ctx;
    if (!g->worker)
        return ct_fail(CUTUNE_ENODEVICE, "this session has no device of its own (device -1): "
                       "give it an executor");
    record *r = &s->rec[i];
    r->done = 1;
    ct_run_request req = {.warmups = s->opt.warmups, .iterations = s->opt.iterations,
                          .flush_l2 = s->opt.flush_l2, .make_reference = reference,
                          .verify = !reference, .precision = s->opt.precision,
                          .best_ms = s->best_ms};
    if (launch_shape(s, i, &req)) {
        s->stats.pruned_after_compile++;
        ct_session_fail_record(r, "InvalidConfig", cutune_last_error());
        return CUTUNE_OK;
    }
    cutune_binary *bin = NULL;
    double asked = ct_now();
    int waited = ct_ahead_claim(g->ahead, i);
    int st = ct_gpu_compile(s, i, &bin, r);
    if (st == CUTUNE_ECOMPILE) {
        s->stats.compile_failed++;
        ct_session_fail_record(r, "CompilationFailedConfig", cutune_last_error());
        if (!s->compile_error_seen)
            s->compile_error_seen = 1, s->compile_error_entry = i;
        return CUTUNE_OK;
    }
    if (st)
        return st;
    cutune_binary_info info;
    cutune_binary_get_info(bin, &info);
    if (waited || !info.from_cache) { /* compiling ahead did not have it ready */
        s->stats.compile_waits++;
        s->stats.compile_wait_s += ct_now() - asked;
    }
    note_warnings(s, i, info.log);
    s->stats.compiled += !info.from_cache;
    s->stats.from_cache += info.from_cache;
    s->stats.compile_s += info.compile_s;
    r->regs = info.regs;
    /* registers and shared memory are known now: a launch with no block per SM is not made */
    cutune_block_resources l = {
        .threads = (int)(req.block[0] * req.block[1] * req.block[2]), .regs = info.regs,
        .static_smem = info.static_smem, .dynamic_smem = req.dynamic_smem, .carveout = -1};
    cutune_occupancy occ;
    int occ_ok = cutune_occupancy_compute(&s->arch, &l, &occ) == CUTUNE_OK;
    uint64_t blocks = (uint64_t)req.grid[0] * req.grid[1] * req.grid[2];
    if (occ_ok && req.cooperative && occ.blocks_per_sm && s->arch.sm_count &&
        blocks > (uint64_t)occ.blocks_per_sm * (uint64_t)s->arch.sm_count) {
        snprintf(occ.reason, sizeof occ.reason, "a cooperative grid of %llu blocks, where at "
                 "most %d (%d per SM) can be resident at once", (unsigned long long)blocks,
                 occ.blocks_per_sm * s->arch.sm_count, occ.blocks_per_sm);
        occ.blocks_per_sm = 0; /* the launch would be refused */
    }
    if (occ_ok && occ.blocks_per_sm == 0) {
        s->stats.pruned_after_compile++;
        /* what its run would have cost: the mean of the runs so far */
        uint64_t runs = s->stats.measured + s->stats.runtime_failed +
                        s->stats.verification_failed + s->stats.timeouts;
        if (runs)
            s->stats.pruned_saved_s += s->stats.run_s / (double)runs;
        char why[256];
        snprintf(why, sizeof why, "pruned after compiling: %s", occ.reason);
        ct_session_fail_record(r, "InvalidConfig", why);
        cutune_binary_free(bin);
        return CUTUNE_OK;
    }
    req.cubin = cutune_binary_code(bin, &req.cubin_size);
    req.symbol = info.lowered_name;
    set_timeout(s, &req);
    ct_run_result res;
    double t0 = ct_now() * 1e3;
    st = ct_worker_run(g->worker, &req, &res);
    r->run_ms = ct_now() * 1e3 - t0;
    s->stats.run_s += r->run_ms / 1e3;
    cutune_binary_free(bin);
    if (st)
        return st;
    if (res.outcome != CT_MEASURED) {
        s->stats.runtime_failed += res.outcome == CT_RUNTIME_FAILED;
        s->stats.verification_failed += res.outcome == CT_VERIFICATION_FAILED;
        s->stats.timeouts += res.outcome == CT_TIMEOUT;
        ct_session_fail_record(r, ct_outcome_name(res.outcome), res.message);
        return CUTUNE_OK;
    }
    s->stats.measured++;
    s->stats.timed_launches += (uint64_t)res.iterations;
    r->sm_mhz[0] = res.sm_mhz[0];
    r->sm_mhz[1] = res.sm_mhz[1];
    r->slowdown = res.slowdown[0] | res.slowdown[1];
    s->stats.throttled += r->slowdown != 0;
    s->stats.throttle_retried += (uint64_t)res.throttle_retried;
    if (res.raced) {
        s->stats.raced++;
        s->stats.raced_saved += (uint64_t)(req.iterations - res.iterations);
    }
    return ct_session_keep_times(s, r, res.times_ms, res.iterations);
}

/* The winner's confirmation: each configuration compiled once (from the cache, normally),
 * then timed round after round; one that fails in a round is out. */
static int gpu_retime(cutune_session *s, void *ctx, const size_t *entries, size_t n,
                      int rounds, int launches, ct_retimed *out)
{
    gpu *g = ctx;
    cutune_binary **bins = calloc(n, sizeof *bins);
    ct_run_request *reqs = calloc(n, sizeof *reqs);
    ct_run_result *res = malloc(sizeof *res);
    int st = bins && reqs && res ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t k = 0; !st && k < n; k++) {
        ct_run_request *q = &reqs[k];
        record scratch = {0};
        cutune_binary_info info;
        *q = (ct_run_request){.warmups = s->opt.warmups, .iterations = launches,
                              .flush_l2 = s->opt.flush_l2, .best_ms = NAN};
        int failed = launch_shape(s, entries[k], q) ||
                     ct_gpu_compile(s, entries[k], &bins[k], &scratch);
        if (failed) {
            snprintf(out[k].message, sizeof out[k].message, "%s", cutune_last_error());
            continue;
        }
        cutune_binary_get_info(bins[k], &info);
        q->cubin = cutune_binary_code(bins[k], &q->cubin_size);
        q->symbol = info.lowered_name;
        set_timeout(s, q);
    }
    for (int round = 0; !st && round < rounds; round++)
        for (size_t k = 0; !st && k < n; k++) {
            if (!bins[k])
                continue;
            double t0 = ct_now();
            st = ct_worker_run(g->worker, &reqs[k], res);
            s->stats.run_s += ct_now() - t0;
            if (!st && res->outcome != CT_MEASURED) {
                out[k].n = 0;
                snprintf(out[k].message, sizeof out[k].message, "timed again: %s: %.200s",
                         ct_outcome_name(res->outcome), res->message);
                cutune_binary_free(bins[k]);
                bins[k] = NULL;
            }
            for (int j = 0; !st && bins[k] && j < res->iterations &&
                            out[k].n < CUTUNE_MAX_TIMED_LAUNCHES; j++)
                out[k].times_ms[out[k].n++] = res->times_ms[j];
        }
    for (size_t k = 0; bins && k < n; k++)
        cutune_binary_free(bins[k]);
    free(bins);
    free(reqs);
    free(res);
    return st;
}

static int gpu_explain(cutune_session *s, void *ctx, size_t entry, cutune_occupancy *occ,
                       cutune_occupancy_advice *advice)
{
    (void)ctx;
    record scratch;
    cutune_binary *bin = NULL;
    int st = ct_gpu_compile(s, entry, &bin, &scratch); /* from the cache, normally */
    cutune_binary_info info;
    ct_run_request req;
    if (!st) {
        cutune_binary_get_info(bin, &info);
        st = cutune_kernel_geometry(s->kernel, ct_domain_config(&s->dom, entry), req.grid,
                                    req.block, &req.dynamic_smem);
    }
    if (!st) {
        cutune_block_resources l = {
            .threads = (int)(req.block[0] * req.block[1] * req.block[2]), .regs = info.regs,
            .static_smem = info.static_smem, .dynamic_smem = req.dynamic_smem, .carveout = -1};
        st = cutune_occupancy_compute(&s->arch, &l, occ);
        if (!st && advice)
            st = cutune_occupancy_advise(&s->arch, &l, advice);
    }
    cutune_binary_free(bin);
    return st;
}

/* What a configuration pruned before compiling would have cost: the mean so far. */
static double gpu_cost_s(cutune_session *s, void *ctx, size_t i)
{
    (void)ctx, (void)i;
    size_t done = s->stats.compiled + s->stats.from_cache;
    return done ? (s->stats.compile_s + s->stats.run_s) / (double)done : NAN;
}

/* b->self is the session, whose context is this kind's (run_begin is not reached through
 * an executor). */
static void gpu_upcoming(void *self, const size_t *idx, size_t n)
{
    gpu *g = ((cutune_session *)self)->ctx;
    ct_ahead_upcoming(g->ahead, idx, n);
}

/* During a run, CPU threads compile what the strategy will ask for next. */
static void gpu_run_begin(cutune_session *s, void *ctx, ct_backend *b, cutune_search_options *o)
{
    gpu *g = ctx;
    b->upcoming = gpu_upcoming;
    if (!g->ahead)
        g->ahead = ct_ahead_start(s);
    if (!o->batch && g->ahead) /* a few at a time compile in parallel; small budgets less */
        o->batch = o->budget >= 40 ? 4 : o->budget >= 20 ? (unsigned)(o->budget / 10) : 1;
}

static void gpu_run_end(cutune_session *s, void *ctx)
{
    (void)s;
    gpu *g = ctx;
    ct_ahead_stop(g->ahead);
    g->ahead = NULL;
}

static int gpu_prepare(cutune_session *s, void *ctx, const size_t *entries, size_t n)
{
    gpu *g = ctx;
    if (!g->worker)
        return CUTUNE_OK; /* nothing to compile for */
    for (size_t k = 0; k < n; k++)
        if (entries[k] >= s->dom.n)
            return ct_fail(CUTUNE_EINVAL, "cutune_session_prepare: no entry %zu", entries[k]);
    if (!g->ahead)
        g->ahead = ct_ahead_start(s);
    ct_ahead_upcoming(g->ahead, entries, n);
    return CUTUNE_OK;
}

static int gpu_send_checks(cutune_session *s, void *ctx, const ct_check *checks, size_t n,
                           const void *answers, size_t bytes)
{
    (void)s;
    gpu *g = ctx;
    int st = ct_worker_set_check(g->worker, checks, n);
    return !st && answers ? ct_worker_set_reference(g->worker, answers, bytes) : st;
}

static int gpu_set_argument(cutune_session *s, void *ctx, size_t i, const void *data,
                            size_t bytes)
{
    (void)s;
    gpu *g = ctx;
    return ct_worker_set_argument(g->worker, i, data, bytes);
}

static void gpu_free(void *ctx)
{
    gpu *g = ctx;
    if (!g)
        return;
    ct_ahead_stop(g->ahead);
    ct_worker_stop(g->worker);
    free(g);
}

static const ct_session_ops gpu_ops = {
    .evaluate = gpu_evaluate,
    .cost_s = gpu_cost_s,
    .run_begin = gpu_run_begin,
    .run_end = gpu_run_end,
    .prepare = gpu_prepare,
    .precompile = ct_gpu_precompile,
    .explain = gpu_explain,
    .send_checks = gpu_send_checks,
    .set_argument = gpu_set_argument,
    .retime = gpu_retime,
    .free = gpu_free,
};

int cutune_session_new(cutune_session **out, const char *spec, const char *kernel_file,
                       const cutune_session_options *options)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new: out is NULL");
    *out = NULL;
    if (!spec)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new: no spec");
    if (options && !(options->precision >= 0 && options->precision < 1))
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new: precision %g is not a fraction in "
                       "[0, 1) (0.01: the median within 1%%)", options->precision);
    gpu *g = calloc(1, sizeof *g);
    cutune_session *s = g ? ct_session_alloc(options, &gpu_ops, g) : NULL;
    if (!s) {
        free(g);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    int st = cutune_space_load_t1(&s->own_space, spec);
    s->space = s->own_space;
    if (!st)
        st = cutune_kernel_load_t1_sized(spec, s->space,
                                         s->opt.problem[0] || s->opt.problem[1] ||
                                                 s->opt.problem[2] ? s->opt.problem : NULL,
                                         &s->kernel);
    const char *file = kernel_file ? kernel_file : cutune_kernel_file(s->kernel);
    if (!st && !file)
        st = ct_fail(CUTUNE_EINVAL, "%s names no KernelFile: give the kernel's source", spec);
    if (!st && !(s->source = ct_read_text(file, CT_MAX_SOURCE_BYTES, NULL)))
        st = ct_wrap(CUTUNE_EIO, "kernel source");
    if (!st && (!(s->source_name = ct_strdup(file)) ||
                !(s->name = ct_strdup(cutune_kernel_name(s->kernel)))))
        st = CUTUNE_ENOMEM;
    if (!st) {
        s->problem_dims = cutune_kernel_problem(s->kernel, s->problem);
        s->device_name = s->device.name;
        s->has_arch = 1;
        st = ct_session_records(s);
    }
    if (!st)
        st = ct_session_verify_init(s, spec);
    if (!st)
        st = cutune_session_add_spec_metrics(s, spec);
    /* the worker is forked now, before anything is compiled in this process (none when an
     * executor measures: then the executor says what the device is) */
    if (!st && s->opt.device >= 0) {
        st = ct_worker_start(&g->worker, s->kernel, s->opt.device, &s->device);
        s->has_device = !st;
    }
    if (!st && s->opt.device >= 0)
        st = cutune_arch_from_device(&s->device, &s->arch);
    if (st) {
        cutune_session_free(s);
        return st;
    }
    *out = s;
    return CUTUNE_OK;
}
