/* session.c — a tuning session on the GPU: the kernel's space and specification, a worker
 * process that owns the device, and the search. Each configuration is compiled through the
 * binary cache, pruned without a launch when its registers and shared memory leave no block
 * room on an SM, run and timed by the worker, and checked against the default
 * configuration's output. Every result is kept, to report and to write (session_write.c).
 * A session over a custom objective has no kernel: the objective's value is the measure. */
#include "session_impl.h"
#include "store/store_impl.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void cutune_session_free(cutune_session *s)
{
    if (!s)
        return;
    ct_session_ahead_stop(s);
    ct_worker_stop(s->worker);
    for (size_t i = 0; s->rec && i < s->dom.n; i++) {
        free(s->rec[i].times_ms);
        free(s->rec[i].message);
    }
    if (s->have_dom)
        ct_domain_release(&s->dom);
    free(s->rec);
    free(s->warnings);
    free(s->source);
    free(s->source_name);
    free(s->name);
    free(s->user_key);
    free(s->restored);
    ct_session_verify_free(s);
    ct_session_metrics_free(s);
    cutune_kernel_free(s->kernel);
    cutune_space_free(s->own_space);
    free(s);
}

/* What both kinds of session start with: their options, then (session_enumerate) the
 * enumerated space and a record per configuration. */
static cutune_session *session_alloc(const cutune_session_options *options)
{
    cutune_session *s = calloc(1, sizeof *s);
    if (!s) {
        ct_fail(CUTUNE_ENOMEM, "out of memory");
        return NULL;
    }
    s->opt = options ? *options : (cutune_session_options){0};
    if (s->opt.iterations <= 0)
        s->opt.iterations = 7;
    if (s->opt.iterations > CUTUNE_MAX_TIMED_LAUNCHES)
        s->opt.iterations = CUTUNE_MAX_TIMED_LAUNCHES;
    if (s->opt.warmups <= 0)
        s->opt.warmups = 1;
    s->best_ms = NAN;
    s->default_index = CT_NONE;
    return s;
}

static int session_enumerate(cutune_session *s)
{
    int st = ct_domain_from_space(&s->dom, s->space, (size_t)1 << 24);
    if (st)
        return st;
    s->have_dom = 1;
    if (!(s->rec = calloc(s->dom.n, sizeof *s->rec)))
        return ct_fail(CUTUNE_ENOMEM, "out of memory for %zu configurations", s->dom.n);
    return CUTUNE_OK;
}

int cutune_session_new(cutune_session **out, const char *spec, const char *kernel_file,
                       const cutune_session_options *options)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new: out is NULL");
    *out = NULL;
    if (!spec)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new: no spec");
    cutune_session *s = session_alloc(options);
    if (!s)
        return CUTUNE_ENOMEM;
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
    if (!st && !(s->source = ct_read_text(file, (size_t)16 << 20, NULL)))
        st = ct_wrap(CUTUNE_EIO, "kernel source");
    if (!st && (!(s->source_name = ct_strdup(file)) ||
                !(s->name = ct_strdup(cutune_kernel_name(s->kernel)))))
        st = CUTUNE_ENOMEM;
    if (!st)
        st = session_enumerate(s);
    if (!st)
        st = ct_session_verify_init(s, spec);
    if (!st)
        st = cutune_session_add_spec_metrics(s, spec);
    /* the worker is forked now, before anything is compiled in this process (none when an
     * executor measures: then the executor says what the device is) */
    if (!st && s->opt.device >= 0)
        st = ct_worker_start(&s->worker, s->kernel, s->opt.device, &s->device);
    if (!st && s->opt.device >= 0)
        st = cutune_arch_from_device(&s->device, &s->arch);
    if (st) {
        cutune_session_free(s);
        return st;
    }
    *out = s;
    return CUTUNE_OK;
}

int cutune_session_new_objective(cutune_session **out, const cutune_space *space,
                                 const char *name, cutune_objective_fn objective, void *user)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new_objective: out is NULL");
    *out = NULL;
    if (!space || !objective)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new_objective: no space or objective");
    cutune_session *s = session_alloc(NULL);
    if (!s)
        return CUTUNE_ENOMEM;
    int st = CUTUNE_OK;
    s->space = space;
    s->objective = objective;
    s->objective_user = user;
    if (!(s->name = ct_strdup(name ? name : "objective")))
        st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (!st)
        st = session_enumerate(s);
    if (st) {
        cutune_session_free(s);
        return st;
    }
    *out = s;
    return CUTUNE_OK;
}

const cutune_device_info *cutune_session_device(const cutune_session *s)
{
    return s ? &s->device : NULL;
}

const cutune_space *cutune_session_space(const cutune_session *s) { return s ? s->space : NULL; }

/* --------------------------------------------------------------- one configuration ---- */

static double now_ms(void) { return ct_now() * 1e3; }

int ct_session_compile(cutune_session *s, size_t i, cutune_binary **bin, record *r)
{
    ct_kernel_source ks = {.space = s->space, .kernel = s->kernel, .source = s->source,
                           .source_name = s->source_name, .arch = s->arch.name,
                           .cache_dir = s->opt.cache_dir};
    int64_t problem[3];
    cutune_kernel_problem(s->kernel, problem);
    double t0 = now_ms();
    int st = ct_compile_config(&ks, ct_domain_config(&s->dom, i), problem, bin, NULL);
    r->compile_ms = now_ms() - t0;
    return st;
}

/* `failure`: a literal (Kernel Tuner's name). A message that cannot be kept is dropped. */
void ct_session_fail_record(record *r, const char *failure, const char *message)
{
    r->time_ms = NAN;
    r->failure = failure;
    free(r->message);
    r->message = ct_strdup(message ? message : "");
}

/* The times of a measured configuration: mean, median and standard deviation. */
int ct_session_keep_times(cutune_session *s, record *r, const double *times, int n)
{
    if (!(r->times_ms = malloc((size_t)(n > 0 ? n : 1) * sizeof *r->times_ms)))
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    double sum = 0, sq = 0, sorted[CUTUNE_MAX_TIMED_LAUNCHES];
    r->n = n > CUTUNE_MAX_TIMED_LAUNCHES ? CUTUNE_MAX_TIMED_LAUNCHES : n;
    for (int k = 0; k < r->n; k++) {
        sorted[k] = r->times_ms[k] = times[k];
        sum += times[k];
    }
    r->time_ms = r->n ? sum / r->n : NAN;
    for (int k = 0; k < r->n; k++)
        sq += (r->times_ms[k] - r->time_ms) * (r->times_ms[k] - r->time_ms);
    r->std_ms = r->n > 1 ? sqrt(sq / (r->n - 1)) : 0;
    for (int a = 1; a < r->n; a++) /* insertion sort of a few */
        for (int b = a; b > 0 && sorted[b - 1] > sorted[b]; b--) {
            double t = sorted[b];
            sorted[b] = sorted[b - 1];
            sorted[b - 1] = t;
        }
    r->median_ms = !r->n ? NAN
                   : r->n % 2 ? sorted[r->n / 2]
                              : (sorted[r->n / 2 - 1] + sorted[r->n / 2]) / 2;
    if (!(r->time_ms >= s->best_ms))
        s->best_ms = r->time_ms;
    return CUTUNE_OK;
}

/* A custom objective's value for configuration i. Its nonzero status ends the session. */
static int evaluate_objective(cutune_session *s, size_t i)
{
    record *r = &s->rec[i];
    r->done = 1;
    double value = NAN, t0 = now_ms();
    const char *why = NULL;
    int st = s->objective(ct_domain_config(&s->dom, i), s->objective_user, &value, &why);
    r->run_ms = now_ms() - t0;
    s->stats.run_s += r->run_ms / 1e3;
    if (st) {
        char key[CUTUNE_KEY_MAX];
        cutune_space_config_key(s->space, ct_domain_config(&s->dom, i), key, sizeof key);
        return ct_fail(st, "the objective failed at %s: %s", key, why ? why : cutune_strerror(st));
    }
    if (why || !(value >= 0) || isinf(value)) {
        s->stats.runtime_failed++;
        ct_session_fail_record(r, "RuntimeFailedConfig",
                               why ? why : "no value (NaN, infinite or negative)");
        return CUTUNE_OK;
    }
    s->stats.measured++;
    return ct_session_keep_times(s, r, &value, 1);
}

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

/* Compiles, prunes, runs and checks configuration i into its record. A status only when the
 * session cannot go on (out of memory, the worker cannot be started). */
int ct_session_evaluate(cutune_session *s, size_t i, int reference)
{
    if (s->exec.submit)
        return ct_session_exec_one(s, i);
    if (s->cache)
        return ct_session_evaluate_recorded(s, i);
    if (s->objective)
        return evaluate_objective(s, i);
    if (!s->worker)
        return ct_fail(CUTUNE_ENODEVICE, "this session has no device of its own (device -1): "
                       "give it an executor");
    record *r = &s->rec[i];
    r->done = 1;
    ct_run_request req = {.warmups = s->opt.warmups, .iterations = s->opt.iterations,
                          .flush_l2 = s->opt.flush_l2, .make_reference = reference,
                          .verify = !reference};
    const uint32_t *config = ct_domain_config(&s->dom, i);
    int64_t problem[3];
    cutune_kernel_problem(s->kernel, problem);
    /* the launch: its geometry (also the grid and block the source is compiled with), and
     * whether it is cooperative (an expression may fail) */
    if (cutune_kernel_geometry(s->kernel, config, req.grid, req.block, &req.dynamic_smem) ||
        cutune_kernel_cooperative_at(s->kernel, config, problem, &req.cooperative)) {
        s->stats.pruned_after_compile++;
        ct_session_fail_record(r, "InvalidConfig", cutune_last_error());
        return CUTUNE_OK;
    }
    cutune_binary *bin = NULL;
    ct_session_claim(s, i);
    int st = ct_session_compile(s, i, &bin, r);
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
    /* 10 times the best so far for each launch, at least 1 s, and time to check */
    double per_launch = isnan(s->best_ms) ? 1e4 : 10 * s->best_ms;
    req.timeout_s = (per_launch > 1e3 ? per_launch : 1e3) * (req.warmups + req.iterations) / 1e3;
    if (s->opt.timeout_s > 0)
        req.timeout_s = s->opt.timeout_s;
    req.timeout_s += 5;
    ct_run_result res;
    double t0 = now_ms();
    st = ct_worker_run(s->worker, &req, &res);
    r->run_ms = now_ms() - t0;
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
    return ct_session_keep_times(s, r, res.times_ms, res.iterations);
}

/* ------------------------------------------------------------ the profile store ---- */

int cutune_session_set_store(cutune_session *s, cutune_store *store, const char *user_key,
                             int resume)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_set_store: NULL session");
    if (store && ct_store_writable(store, "cutune_session_set_store"))
        return CUTUNE_EINVAL;
    char *key = user_key ? ct_strdup(user_key) : NULL;
    if (user_key && !key)
        return CUTUNE_ENOMEM;
    free(s->user_key);
    s->user_key = key;
    s->store = store;
    s->resume = resume;
    return CUTUNE_OK;
}

/* Evaluation i, as it completed, into the store's session. */
int ct_session_checkpoint(cutune_session *s, size_t i)
{
    if (!s->store || !s->store_session)
        return CUTUNE_OK;
    char key[CUTUNE_KEY_MAX];
    cutune_space_config_key(s->space, ct_domain_config(&s->dom, i), key, sizeof key);
    json_t *e = ct_session_kt_entry(s, i);
    char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    const record *r = &s->rec[i];
    int st = text ? ct_store_session_add(s->store, s->store_session, key, r->time_ms, r->failure,
                                         text)
                  : ct_fail(CUTUNE_ENOMEM, "out of memory");
    free(text);
    /* a new best is the profile at once: a session killed later has left it */
    if (!st && r->time_ms == s->best_ms)
        st = ct_store_session_fold(s->store, s->store_session);
    return st ? ct_wrap(st, "checkpointing %s", key) : CUTUNE_OK;
}

/* Kernel Tuner's failure names, as the literals records keep. */
const char *ct_session_failure_literal(const char *name)
{
    static const char *const names[] = {"CompilationFailedConfig", "RuntimeFailedConfig",
                                        "VerificationFailedConfig", "TimeoutConfig",
                                        "InvalidConfig"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (strcmp(name, names[k]) == 0)
            return names[k];
    return names[1];
}

/* The entry of a stored configuration key, or CT_NONE when it is not one of this space's
 * or is the default (which runs again anyway: its outputs are the reference). */
static size_t stored_entry(const cutune_session *s, const char *key)
{
    uint32_t cfg[CUTUNE_MAX_PARAMS];
    if (s->dom.np > CUTUNE_MAX_PARAMS || cutune_space_parse_key(s->space, key, cfg))
        return CT_NONE;
    size_t i = ct_domain_find(&s->dom, cfg);
    return i == s->default_index ? CT_NONE : i;
}

/* One stored evaluation back into its record. */
static int restore_entry(const char *config, const char *entry, void *user)
{
    cutune_session *s = user;
    size_t i = stored_entry(s, config);
    if (i == CT_NONE)
        return CUTUNE_OK; /* left alone */
    json_t *e = json_loads(entry, 0, NULL), *t = json_object_get(e, "time");
    if (!e) /* (the store wrote it as JSON: it has been damaged since) */
        return ct_db_damaged(ct_store_db(s->store), "reading what to resume",
                             "an evaluation's entry does not parse as JSON");
    if (!(json_is_number(t) || json_is_string(t))) {
        json_decref(e);
        return CUTUNE_OK;
    }
    record *r = &s->rec[i];
    if (!r->done) /* given to the strategy first, in the order they were measured */
        s->restored[s->nrestored++] = i;
    free(r->times_ms);
    free(r->message);
    memset(r, 0, sizeof *r);
    r->done = 1;
    r->compile_ms = json_number_value(json_object_get(e, "compile_time"));
    r->run_ms = json_number_value(json_object_get(e, "benchmark_time"));
    int st = CUTUNE_OK;
    if (json_is_string(t)) {
        ct_session_fail_record(r, ct_session_failure_literal(json_string_value(t)),
                               "measured by an earlier session");
    } else {
        double times[CUTUNE_MAX_TIMED_LAUNCHES];
        int n = 0;
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(e, "times"), k, v)
            if (n < CUTUNE_MAX_TIMED_LAUNCHES && json_is_number(v))
                times[n++] = json_number_value(v);
        if (!n)
            times[n++] = json_number_value(t);
        st = ct_session_keep_times(s, r, times, n);
    }
    s->stats.restored++;
    json_decref(e);
    return st;
}

/* This run is done with its store session: another run may take it up. */
static void release_store_session(cutune_session *s)
{
    if (s->store && s->store_session)
        ct_store_session_release(s->store, s->store_session); /* (a failure: taken over later) */
}

/* One of the warm start's configurations. */
static int add_warm(const char *config, double time_ms, void *user)
{
    (void)time_ms;
    cutune_session *s = user;
    size_t i = stored_entry(s, config);
    if (i != CT_NONE && s->nwarm < sizeof s->warm / sizeof *s->warm)
        s->warm[s->nwarm++] = i;
    return CUTUNE_OK;
}

/* The store's session for this run: the unfinished one to go on with (resume), or a new
 * one; with resume, the evaluations stored before; and the warm start. */
static int store_begin(cutune_session *s, const cutune_search_options *o)
{
    json_t *h = ct_session_kt_header(s);
    char space[33], source[33] = "", *header = h ? json_dumps(h, JSON_COMPACT) : NULL;
    ct_space_hash(json_object_get(h, "tune_params"), space);
    json_decref(h);
    if (!header)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    int hashed = s->source && s->kernel
                     ? ct_kernel_source_hash_named(s->kernel, s->source, strlen(s->source),
                                                   s->source_name, source)
                     : CUTUNE_OK;
    if (hashed) {
        free(header);
        return hashed;
    }
    /* a recorded space's: its file's device and size (its compute capability and SMs are
     * not known: 0, as an import of the file has them) */
    int64_t problem[3];
    char origin[4200];
    if (s->cache) {
        ct_cache_problem(s->cache, problem);
        snprintf(origin, sizeof origin, "recorded:%s", ct_cache_path(s->cache));
    } else {
        cutune_kernel_problem(s->kernel, problem);
        snprintf(origin, sizeof origin, "cutune");
    }
    ct_session_row row = {
        .key = {.device = ct_session_device_name(s),
                .cc_major = s->device.cc_major, .cc_minor = s->device.cc_minor,
                .sm_count = s->device.sm_count, .driver_version = s->device.driver_version,
                .runtime_version = s->device.runtime_version, .kernel = s->name,
                .source_hash = source, .user_key = s->user_key,
                .problem = {problem[0], problem[1], problem[2]},
                .strategy = o->strategy ? o->strategy : "bo", .budget = o->budget},
        .seed = o->seed, .space_hash = space, .header = header, .origin = origin};
    int st = CUTUNE_OK;
    free(s->restored);
    s->nrestored = 0;
    s->store_session = 0;
    /* room for every configuration, and the warm start after them (see cutune_session_run) */
    if (!(s->restored = malloc((s->dom.n + sizeof s->warm / sizeof *s->warm) *
                               sizeof *s->restored)))
        st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    /* the session to go on with, this run's alone from here on, or a new one */
    if (!st && s->resume)
        st = ct_store_session_resume(s->store, &row, &s->store_session);
    if (!st && !s->store_session)
        st = ct_store_session_begin(s->store, &row, &s->store_session);
    if (!st && s->resume)
        st = ct_store_session_entries(s->store, &row, restore_entry, s);
    uint64_t warm = o->budget / 10 < 5 ? o->budget / 10 : 5;
    s->nwarm = 0;
    if (!st && warm)
        st = ct_store_session_nearby(s->store, &row, (size_t)warm,
                                     s->stats.warm_start_problem, add_warm, s);
    s->stats.warm_start = s->nwarm;
    free(header);
    return st;
}

static int measure_one(void *self, size_t i, double *time_ms, const char **failure)
{
    cutune_session *s = self;
    int fresh = !s->rec[i].done;
    int st = fresh ? ct_session_evaluate(s, i, 0) : CUTUNE_OK;
    if (!st && fresh)
        st = ct_session_checkpoint(s, i);
    *time_ms = ct_session_cost(s, i, failure); /* the time, or the objective */
    return st;
}

/* With an objective other than time the search sees costs: the caller sees times and the
 * objective's values. */
typedef struct objective_report {
    const cutune_session *s;
    cutune_evaluation_fn fn;
    void *user;
} objective_report;

static int report_objective(const cutune_evaluation *e, void *user)
{
    const objective_report *w = user;
    const cutune_session *s = w->s;
    cutune_evaluation x = *e;
    int best = e->best_entry != CT_NONE;
    x.time_ms = e->failure ? NAN : s->rec[e->entry].time_ms;
    x.objective = e->failure ? NAN : cutune_session_objective(s, e->entry);
    x.best_ms = best ? s->rec[e->best_entry].time_ms : NAN;
    x.best_objective = best ? cutune_session_objective(s, e->best_entry) : NAN;
    return w->fn ? w->fn(&x, w->user) : CUTUNE_OK;
}

/* What a configuration pruned before compiling would have cost: the mean so far. */
static double cost_gpu(void *self, size_t i)
{
    (void)i;
    cutune_session *s = self;
    size_t done = s->stats.compiled + s->stats.from_cache;
    return done ? (s->stats.compile_s + s->stats.run_s) / (double)done : NAN;
}

/* The default configuration, measured first: a kernel's outputs there are the reference
 * every other configuration is held to, so a kernel's session needs one that works. */
int ct_session_measure_default(cutune_session *s)
{
    uint32_t dflt[CUTUNE_MAX_PARAMS];
    if (s->cache)
        return CUTUNE_OK; /* a recorded space has no reference to check against */
    int st = ct_session_verify_prepare(s), must = ct_session_default_must_work(s);
    if (st || s->dom.np > CUTUNE_MAX_PARAMS || cutune_space_get_default(s->space, dflt) != 1)
        return st; /* no default: nothing to take a reference from, and no speedup */
    s->default_index = ct_domain_find(&s->dom, dflt);
    if (s->default_index == CT_NONE)
        return must ? ct_fail(CUTUNE_EINVAL, "the default configuration violates the "
                              "constraints") : CUTUNE_OK;
    /* its outputs are the reference, or it is checked like any other */
    if (!s->rec[s->default_index].done)
        st = ct_session_evaluate(s, s->default_index,
                                 s->kernel && s->verify_mode == CUTUNE_VERIFY_DEFAULT);
    if (!st && s->rec[s->default_index].done)
        st = ct_session_checkpoint(s, s->default_index);
    const record *d = &s->rec[s->default_index];
    if (!st && isnan(d->time_ms) && must)
        st = s->verify_mode == CUTUNE_VERIFY_ANSWERS
                 ? ct_fail(CUTUNE_ECUDA, "the default configuration failed (%s: %s) against "
                           "the answers given: check them and their tolerance, or verify "
                           "nothing", d->failure, d->message)
                 : ct_fail(CUTUNE_ECUDA, "the default configuration failed (%s: %s): nothing "
                           "to check the others against", d->failure, d->message);
    return st;
}

int cutune_session_run(cutune_session *s, const cutune_search_options *search,
                       cutune_evaluation_fn on_evaluation, void *user,
                       cutune_session_result *result)
{
    if (!s || !search || !result)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_run: NULL argument");
    memset(result, 0, sizeof *result);
    result->default_ms = NAN;
    result->default_entry = CT_NONE;
    double t0 = ct_now();
    uint32_t dflt[CUTUNE_MAX_PARAMS]; /* the default's index first: resuming leaves it to run again */
    if (!s->cache && s->dom.np <= CUTUNE_MAX_PARAMS && cutune_space_get_default(s->space, dflt) == 1)
        s->default_index = ct_domain_find(&s->dom, dflt);
    int st = s->store ? store_begin(s, search) : CUTUNE_OK;
    if (!st)
        st = ct_session_measure_default(s);
    if (st) {
        release_store_session(s);
        return st;
    }
    if (s->default_index != CT_NONE) {
        result->default_ms = s->rec[s->default_index].time_ms;
        result->default_entry = s->default_index;
    }
    cutune_search_options o = *search;
    /* what earlier sessions measured comes first (it counts against the budget, and costs
     * nothing), then the warm start */
    const size_t *first = s->warm;
    size_t nfirst = s->nwarm;
    if (s->restored) {
        memcpy(s->restored + s->nrestored, s->warm, s->nwarm * sizeof *s->warm);
        first = s->restored;
        nfirst = s->nrestored + s->nwarm;
    }
    ct_backend b = {.measure = measure_one, .self = s, .first = first, .nfirst = nfirst};
    if (s->kernel) {
        o.arch = &s->arch; /* prune before compiling what cannot launch here */
        b.cost_s = cost_gpu;
    }
    if (s->kernel && !s->exec.submit) {
        b.upcoming = ct_session_upcoming;
        ct_session_ahead_start(s);
    }
    ct_session_exec_backend(s, &b); /* measured by an executor, or replayed */
    if (!o.batch && s->pool) /* a few at a time compile in parallel; small budgets less */
        o.batch = o.budget >= 40 ? 4 : o.budget >= 20 ? (unsigned)(o.budget / 10) : 1;
    objective_report w = {s, on_evaluation, user};
    int costs = s->objective_metric || s->higher_is_better;
    st = ct_search_run(&s->dom, &o, &b, costs ? report_objective : on_evaluation,
                       costs ? (void *)&w : user, &result->search);
    ct_session_ahead_stop(s);
    /* finished, or stopped by the caller: the best so far becomes the profile, and the
     * session nobody's (ct_store_session_finish) */
    int finished = 0;
    if (s->store && s->store_session && (!st || st == CUTUNE_ECANCELED)) {
        int fin = ct_store_session_finish(s->store, s->store_session);
        finished = !fin;
        st = st ? st : fin;
    }
    if (!finished)
        release_store_session(s); /* (failed: unfinished, for a later run to resume) */
    result->stats = s->stats;
    result->seconds = ct_now() - t0;
    /* the default stays the best if nothing beat it (by the objective); best_ms is the
     * best's time */
    const char *why;
    size_t b_at = result->search.best_entry;
    double cost = b_at != CT_NONE ? ct_session_cost(s, b_at, &why) : NAN,
           cost_default = s->default_index != CT_NONE ? ct_session_cost(s, s->default_index,
                                                                         &why)
                                                      : NAN;
    if (!isnan(cost_default) && !(cost <= cost_default))
        result->search.best_entry = b_at = s->default_index;
    result->search.best_ms = b_at != CT_NONE ? s->rec[b_at].time_ms : NAN;
    result->speedup = result->default_ms / result->search.best_ms;
    result->best_median_ms = result->best_std_ms = NAN;
    if (result->search.best_entry != CT_NONE) {
        const record *best = &s->rec[result->search.best_entry];
        result->best_regs = best->regs;
        result->best_median_ms = best->median_ms;
        result->best_std_ms = best->std_ms;
    }
    return st;
}

int cutune_optimize(const cutune_space *space, const cutune_search_options *options,
                    cutune_objective_fn objective, void *user, cutune_evaluation_fn on_evaluation,
                    void *on_evaluation_user, cutune_search_result *result)
{
    if (!space || !options || !objective || !result)
        return ct_fail(CUTUNE_EINVAL, "cutune_optimize: NULL argument");
    cutune_session *s;
    int st = cutune_session_new_objective(&s, space, NULL, objective, user);
    if (st)
        return st;
    cutune_session_result r;
    st = cutune_session_run(s, options, on_evaluation, on_evaluation_user, &r);
    *result = r.search;
    cutune_session_free(s);
    return st;
}

int cutune_session_explain(cutune_session *s, size_t entry, cutune_occupancy *occ,
                           cutune_occupancy_advice *advice)
{
    if (!s || entry >= s->dom.n || !occ)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_explain: bad argument");
    if (!s->kernel)
        return ct_fail(CUTUNE_ENOTSUP, "a session over a custom objective has no kernel to "
                       "explain");
    record scratch;
    cutune_binary *bin = NULL;
    int st = ct_session_compile(s, entry, &bin, &scratch); /* from the cache, normally */
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

const char *cutune_session_key(const cutune_session *s, size_t entry, char *buf, size_t size)
{
    if (!s || entry >= s->dom.n)
        return NULL;
    cutune_space_config_key(s->space, ct_domain_config(&s->dom, entry), buf, size);
    return buf;
}

int cutune_session_get_notes(const cutune_session *s, cutune_session_notes *out)
{
    if (!s || !out)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_get_notes: NULL argument");
    memset(out, 0, sizeof *out);
    out->warnings = s->warnings;
    out->configs_warned = s->warned;
    if (s->warnings)
        cutune_session_key(s, s->warnings_entry, out->warnings_config,
                           sizeof out->warnings_config);
    if (s->compile_error_seen) {
        out->compile_error = s->rec[s->compile_error_entry].message;
        cutune_session_key(s, s->compile_error_entry, out->compile_error_config,
                           sizeof out->compile_error_config);
    }
    return CUTUNE_OK;
}

const char *cutune_session_failure(const cutune_session *s, size_t entry)
{
    if (!s || entry >= s->dom.n || !s->rec[entry].done || !s->rec[entry].failure)
        return NULL;
    return s->rec[entry].message ? s->rec[entry].message : "";
}
