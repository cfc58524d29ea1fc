/* gpu_test_worker.c — the worker process on a real GPU: cutune's convolution measured and
 * checked against the default configuration's output; then kernels that fault (illegal
 * address), hang (past the timeout), compute the wrong answer, cannot launch, or are not a
 * cubin at all. Each costs its own configuration only: the next good one is measured by a
 * fresh worker that got the reference back. Then what the session says is compared (none,
 * a loose or an exact test, answers), kept across a restart. Exits 77 (skipped) without a
 * GPU. */
#include "check.h"
#include "cutune.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *source_dir(void)
{
    const char *d = getenv("CUTUNE_SOURCE_DIR");
    return d ? d : CUTUNE_SOURCE_DIR;
}

static cutune_binary *build(const char *source, const char *arch, const char *const *defines,
                            size_t n)
{
    cutune_compile_request r = {.source = source, .kernel = "convolution_kernel", .arch = arch,
                                .defines = defines, .num_defines = n, .cache_dir = ""};
    cutune_binary *b = NULL;
    if (cutune_compile(&r, &b))
        fprintf(stderr, "%s\n", cutune_last_error());
    return b;
}

static ct_run_result run(ct_worker *w, cutune_binary *b, const cutune_kernel *k,
                         const cutune_space *s, const char *key, int reference, double timeout)
{
    ct_run_result res;
    memset(&res, 0, sizeof res);
    uint32_t c[16];
    ct_run_request req = {.warmups = 1, .iterations = 7, .make_reference = reference,
                          .verify = !reference, .timeout_s = timeout};
    cutune_binary_info info;
    if (!b || cutune_space_parse_key(s, key, c) ||
        cutune_kernel_geometry(k, c, req.grid, req.block, &req.dynamic_smem)) {
        CHECK(0);
        res.outcome = CT_RUNTIME_FAILED;
        return res;
    }
    cutune_binary_get_info(b, &info);
    req.cubin = cutune_binary_code(b, &req.cubin_size);
    req.symbol = info.lowered_name;
    double t0 = (double)clock() / CLOCKS_PER_SEC;
    if (ct_worker_run(w, &req, &res) != CUTUNE_OK) {
        fprintf(stderr, "ct_worker_run: %s\n", cutune_last_error());
        CHECK(0);
    }
    printf("  %-28s %-24s %s%s (%.2f s of CPU)\n", key, ct_outcome_name(res.outcome),
           res.message, res.restart ? " [worker restarts]" : "",
           (double)clock() / CLOCKS_PER_SEC - t0);
    return res;
}

static const char *const defaults[] = {"block_size_x=16", "block_size_y=16", "tile_size_x=1",
                                       "tile_size_y=1",   "read_only=0",     "use_padding=1",
                                       "use_shmem=1",     "use_cmem=1",      "filter_height=15",
                                       "filter_width=15"};

/* the convolution's space and kernel, and a worker for it (skipped without a GPU) */
static cutune_space *s;
static cutune_kernel *k;
static char *conv;
static ct_worker *w;
static char arch[16];

static int setup(void)
{
    char spec[512], kpath[512];
    snprintf(spec, sizeof spec, "%s/kernels/convolution.json", source_dir());
    snprintf(kpath, sizeof kpath, "%s/kernels/convolution.cu", source_dir());
    conv = ct_read_text(kpath, (size_t)1 << 24, NULL);
    if (!conv || cutune_space_load_t1(&s, spec) || cutune_kernel_load_t1(spec, s, &k)) {
        fprintf(stderr, "%s: %s\n", spec, cutune_last_error());
        return 1;
    }
    /* the session must not touch CUDA before the fork: the device comes from the worker */
    cutune_device_info info;
    int st = ct_worker_start(&w, k, 0, &info);
    if (st) {
        int no_gpu = st == CUTUNE_ENODEVICE;
        printf("%s: %s\n", no_gpu ? "skipped" : "failed", cutune_last_error());
        cutune_kernel_free(k);
        cutune_space_free(s);
        free(conv);
        return no_gpu ? SKIP_TEST : 1;
    }
    snprintf(arch, sizeof arch, "sm_%d%d", info.cc_major, info.cc_minor);
    printf("%s (%s), driver %d\n", info.name, arch, info.driver_version);
    return 0;
}

static void teardown(void)
{
    ct_worker_stop(w);
    cutune_kernel_free(k);
    cutune_space_free(s);
    free(conv);
}

/* the default and a tiled configuration; each broken kernel, then the good one again; blocks
 * the device cannot run; what is compared (one worker through it all, restarts included) */
static void one_worker(void)
{
    cutune_binary *def = build(conv, arch, defaults, 10);
    ct_run_result r = run(w, def, k, s, "16,16,1,1,0,1,1,1,15,15", 1, 60);
    CHECK_INT(r.outcome, CT_MEASURED);
    CHECK_INT(r.iterations, 7);
    double best_default = 1e9;
    for (int i = 0; i < r.iterations; i++) {
        CHECK(r.times_ms[i] > 0);
        best_default = r.times_ms[i] < best_default ? r.times_ms[i] : best_default;
    }
    const char *tiled[10];
    memcpy(tiled, defaults, sizeof tiled);
    tiled[0] = "block_size_x=64", tiled[1] = "block_size_y=4", tiled[2] = "tile_size_x=4",
    tiled[3] = "tile_size_y=4", tiled[4] = "read_only=1", tiled[5] = "use_padding=0";
    cutune_binary *good = build(conv, arch, tiled, 10);
    r = run(w, good, k, s, "64,4,4,4,1,0,1,1,15,15", 0, 60);
    CHECK_INT(r.outcome, CT_MEASURED);
    CHECK(r.max_error < 1e-4);
    printf("  default %.3f ms, tiled %.3f ms (first timed launch)\n", best_default,
           r.times_ms[0]);

    /* each broken kernel, then the good one again */
    static const char *const broken[] = {
        "extern \"C\" __global__ void convolution_kernel(float *o, const float *i, const float "
        "*f) { o[(1ll << 40) + threadIdx.x] = 1.0f; }",
        "extern \"C\" __global__ void convolution_kernel(float *o, const float *i, const float "
        "*f) { while (clock64() >= 0) {} }",
        "extern \"C\" __global__ void convolution_kernel(float *o, const float *i, const float "
        "*f) { o[blockIdx.x * blockDim.x + threadIdx.x] = 42.0f; }"};
    static const ct_outcome expect[] = {CT_RUNTIME_FAILED, CT_TIMEOUT, CT_VERIFICATION_FAILED};
    for (int b = 0; b < 3; b++) {
        cutune_binary *bad = build(broken[b], arch, defaults, 10);
        r = run(w, bad, k, s, "16,16,1,1,0,1,1,1,15,15", 0, 2);
        CHECK_INT(r.outcome, expect[b]);
        cutune_binary_free(bad);
        r = run(w, good, k, s, "64,4,4,4,1,0,1,1,15,15", 0, 60);
        CHECK_INT(r.outcome, CT_MEASURED);
        CHECK(r.max_error < 1e-4);
    }
    /* a block the device cannot run: the launch fails, the context lives on */
    ct_run_request req = {.cubin = cutune_binary_code(good, &req.cubin_size),
                          .grid = {1, 1, 1}, .block = {2048, 1, 1}, .warmups = 1,
                          .iterations = 3, .timeout_s = 10};
    cutune_binary_info gi;
    cutune_binary_get_info(good, &gi);
    req.symbol = gi.lowered_name;
    CHECK_INT(ct_worker_run(w, &req, &r), CUTUNE_OK);
    CHECK_INT(r.outcome, CT_RUNTIME_FAILED);
    CHECK_INT(r.restart, 0);
    printf("  2048-thread block           %-24s %s\n", ct_outcome_name(r.outcome), r.message);
    /* not a cubin */
    req.cubin = "definitely not a cubin";
    req.cubin_size = 22;
    req.block[0] = 32;
    CHECK_INT(ct_worker_run(w, &req, &r), CUTUNE_OK);
    CHECK_INT(r.outcome, CT_RUNTIME_FAILED);
    CHECK_HAS(r.message, "loading the cubin");
    r = run(w, good, k, s, "64,4,4,4,1,0,1,1,15,15", 0, 60);
    CHECK_INT(r.outcome, CT_MEASURED);

    /* what is compared is the session's to say (issue 25, item 4), and outlives a restart */
    size_t nargs = cutune_kernel_num_args(k);
    ct_check checks[8];
    for (size_t i = 0; i < nargs && i < 8; i++)
        checks[i] = ct_check_of_arg(cutune_kernel_arg_at(k, i));
    cutune_binary *wrong = build(broken[2], arch, defaults, 10),
                  *fault = build(broken[0], arch, defaults, 10);
    for (size_t i = 0; i < nargs && i < 8; i++)
        checks[i].compare = 0; /* --verify none */
    CHECK_INT(ct_worker_set_check(w, checks, nargs), CUTUNE_OK);
    r = run(w, wrong, k, s, "16,16,1,1,0,1,1,1,15,15", 0, 60);
    CHECK_INT(r.outcome, CT_MEASURED);
    r = run(w, fault, k, s, "16,16,1,1,0,1,1,1,15,15", 0, 10); /* the worker starts again */
    CHECK_INT(r.outcome, CT_RUNTIME_FAILED);
    r = run(w, wrong, k, s, "16,16,1,1,0,1,1,1,15,15", 0, 60);
    CHECK_INT(r.outcome, CT_MEASURED);
    checks[0] = ct_check_of_arg(cutune_kernel_arg_at(k, 0)); /* compared, a loose atol */
    checks[0].allclose = 1;
    checks[0].atol = 1e9;
    checks[0].rtol = 0;
    CHECK_INT(ct_worker_set_check(w, checks, nargs), CUTUNE_OK);
    r = run(w, def, k, s, "16,16,1,1,0,1,1,1,15,15", 1, 60); /* the reference again */
    CHECK_INT(r.outcome, CT_MEASURED);
    r = run(w, wrong, k, s, "16,16,1,1,0,1,1,1,15,15", 0, 60);
    CHECK_INT(r.outcome, CT_MEASURED);
    checks[0].atol = 0; /* exact */
    CHECK_INT(ct_worker_set_check(w, checks, nargs), CUTUNE_OK);
    r = run(w, wrong, k, s, "16,16,1,1,0,1,1,1,15,15", 0, 60);
    CHECK_INT(r.outcome, CT_VERIFICATION_FAILED);
    CHECK_HAS(r.message, "(|x - ref| <= 0 fails)");
    /* answers instead of the default's outputs: zeros, which the good kernel does not give */
    const cutune_kernel_arg *o = cutune_kernel_arg_at(k, 0);
    size_t bytes = (size_t)o->count * cutune_elem_size(o->type);
    void *zeros = calloc(1, bytes);
    checks[0] = ct_check_of_arg(o);
    CHECK_INT(ct_worker_set_check(w, checks, nargs), CUTUNE_OK);
    CHECK_INT(ct_worker_set_reference(w, zeros, bytes), CUTUNE_OK);
    r = run(w, good, k, s, "64,4,4,4,1,0,1,1,15,15", 0, 60);
    CHECK_INT(r.outcome, CT_VERIFICATION_FAILED);
    CHECK_HAS(r.message, "the reference 0");
    free(zeros);
    cutune_binary_free(wrong);
    cutune_binary_free(fault);
    cutune_binary_free(def);
    cutune_binary_free(good);
}

TEST_LIST(TEST_CASE(one_worker));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
