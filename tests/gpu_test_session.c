/* gpu_test_session.c — a whole tuning session on the GPU, brute force over a corner of the
 * convolution space chosen to hold configurations that run, and ones whose registers leave
 * no block room on an SM (48x8 threads with 1x3 tiles: pruned after compiling, never
 * launched). Checks the counts, the speedup over the default, the Kernel Tuner cache file it
 * writes (read back by cutune), and that a second session compiles nothing. Exits 77
 * (skipped) without a GPU. */
#include "check.h"
#include "cutune.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *source_dir(void)
{
    const char *d = getenv("CUTUNE_SOURCE_DIR");
    return d ? d : CUTUNE_SOURCE_DIR;
}

static char dir[] = "/tmp/cutune-session-XXXXXX";

/* A corner of the convolution space: 8 configurations, among them 48x8 and 48x16 threads
 * with 1x3 tiles, which need about 233 registers per thread on sm_90: at least one of them
 * more than an SM gives a block. */
static int write_spec(const char *path, const char *kernel)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    static const char *const params[][3] = {
        {"block_size_x", "[16, 48]", "16"}, {"block_size_y", "[8, 16]", "16"},
        {"tile_size_x", "[1]", "1"},        {"tile_size_y", "[1, 3]", "1"},
        {"read_only", "[0]", "0"},          {"use_padding", "[0]", "0"},
        {"use_shmem", "[1]", "1"},          {"use_cmem", "[1]", "1"},
        {"filter_height", "[15]", "15"},    {"filter_width", "[15]", "15"}};
    fprintf(f, "{\"ConfigurationSpace\": {\"TuningParameters\": [");
    for (int i = 0; i < 10; i++)
        fprintf(f, "%s{\"Name\": \"%s\", \"Type\": \"int\", \"Values\": \"%s\", "
                   "\"Default\": %s}",
                i ? ", " : "", params[i][0], params[i][1], params[i][2]);
    fprintf(f, "], \"Conditions\": []}, \"KernelSpecification\": {\"KernelName\": "
               "\"convolution_kernel\", \"KernelFile\": \"%s\", \"ProblemSize\": [4096, 4096], "
               "\"GridDivX\": [\"block_size_x\", \"tile_size_x\"], \"GridDivY\": "
               "[\"block_size_y\", \"tile_size_y\"], \"Arguments\": ["
               "{\"Name\": \"out\", \"Type\": \"float\", \"AccessType\": \"WriteOnly\", "
               "\"Size\": \"ProblemSize[0] * ProblemSize[1]\", \"Output\": 1}, "
               "{\"Name\": \"in\", \"Type\": \"float\", \"FillType\": \"Random\", "
               "\"FillValue\": 1, \"Size\": \"4110 * 4110\"}, "
               "{\"Name\": \"d_filter\", \"Type\": \"float\", \"MemType\": \"Constant\", "
               "\"FillType\": \"Random\", \"FillValue\": 1, \"Size\": \"225\"}]}}\n",
            kernel);
    return fclose(f);
}

/* cutune's convolution on the CPU, over the inputs the worker makes (uniform in [0, 1) from
 * the spec's seed: argument i from seed * 1000003 + i). */
static float *cpu_convolution(void)
{
    enum { N = 4096, F = 15, W = N + F - 1 };
    float *in = malloc(sizeof(float) * W * W), *f = malloc(sizeof(float) * F * F),
          *out = malloc(sizeof(float) * N * N);
    cutune_rng rng;
    cutune_rng_seed(&rng, 1 * 1000003u + 1);
    for (long i = 0; i < (long)W * W; i++)
        in[i] = (float)((double)(cutune_rng_next(&rng) >> 11) * 0x1.0p-53);
    cutune_rng_seed(&rng, 1 * 1000003u + 2);
    for (int i = 0; i < F * F; i++)
        f[i] = (float)((double)(cutune_rng_next(&rng) >> 11) * 0x1.0p-53);
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            float sum = 0;
            for (int i = 0; i < F; i++)
                for (int j = 0; j < F; j++)
                    sum += in[(long)(y + i) * W + x + j] * f[i * F + j];
            out[(long)y * N + x] = sum;
        }
    free(in);
    free(f);
    return out;
}

/* A session checked against the CPU's answer, or against zeros (which nothing matches). */
static int run_against(const char *spec, const char *kernel, const cutune_session_options *so,
                       int zeros, cutune_session_result *r)
{
    cutune_session *s;
    int st = cutune_session_new(&s, spec, kernel, so);
    if (st)
        return st;
    size_t bytes = sizeof(float) * 4096 * 4096;
    float *ref = zeros ? calloc(1, bytes) : cpu_convolution();
    CHECK_INT(cutune_session_set_reference(s, "input_image", ref, bytes), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_set_reference(s, "nothing", ref, bytes), CUTUNE_ENOTFOUND);
    CHECK_INT(cutune_session_set_reference(s, "output_image", ref, bytes - 4), CUTUNE_EINVAL);
    st = cutune_session_set_reference(s, "output_image", ref, bytes);
    cutune_search_options o = {.strategy = "random", .budget = 10, .seed = 1};
    if (!st)
        st = cutune_session_run(s, &o, NULL, NULL, r);
    free(ref);
    cutune_session_free(s);
    return st;
}

static void against_cpu(const char *spec, const char *kernel, const cutune_session_options *so)
{
    for (int zeros = 0; zeros <= 1; zeros++) {
        pid_t pid = fork();
        if (pid == 0) {
            cutune_session_result r;
            int st = run_against(spec, kernel, so, zeros, &r);
            if (zeros)
                printf("against zeros: %s\n", cutune_last_error());
            else if (!st)
                printf("against the CPU: 10 of 10 agree (verification failures %llu), best "
                       "%.4f ms, median %.4f, sd %.4f\n",
                       (unsigned long long)r.stats.verification_failed, r.search.best_ms,
                       r.best_median_ms, r.best_std_ms);
            int ok = zeros ? st == CUTUNE_ECUDA &&
                                 strstr(cutune_last_error(), "VerificationFailedConfig")
                           : st == CUTUNE_OK && r.stats.verification_failed == 0 &&
                                 r.best_median_ms > 0;
            fflush(stdout);
            fflush(stderr);
            _exit(ok && !check_failures ? 0 : 1);
        }
        int status = 1;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

/* Issue 25, item 4: the CPU's answer as a .npy file (every configuration agrees), and the
 * same session told to compare nothing while it holds answers of zeros (none fails). */
static void against_file(const char *spec, const char *kernel, const cutune_session_options *so)
{
    for (int none = 0; none <= 1; none++) {
        pid_t pid = fork();
        if (pid == 0) {
            char path[300], test[1024];
            snprintf(path, sizeof path, "%s/answer.npy", dir);
            size_t bytes = sizeof(float) * 4096 * 4096;
            float *ref = none ? calloc(1, bytes) : cpu_convolution();
            static const char head[] = "{'descr': '<f4', 'fortran_order': False, 'shape': "
                                       "(4096, 4096), }";
            unsigned char h[128] = "\x93NUMPY\x01\x00\x76\x00";
            memset(h + 10, ' ', 118);
            memcpy(h + 10, head, sizeof head - 1);
            h[127] = '\n';
            FILE *f = fopen(path, "wb");
            int ok = f && fwrite(h, 1, 128, f) == 128 && fwrite(ref, 1, bytes, f) == bytes;
            ok = f && !fclose(f) && ok;
            cutune_session *s = NULL;
            cutune_session_result r;
            cutune_search_options o = {.strategy = "random", .budget = 5, .seed = 3};
            int st = ok ? cutune_session_new(&s, spec, kernel, so) : -1;
            if (!st)
                st = cutune_session_load_answer(s, "output_image", path);
            if (!st && none)
                st = cutune_session_set_verify(s, CUTUNE_VERIFY_NONE);
            if (!st)
                st = cutune_session_verification(s, NULL, test, sizeof test);
            if (!st)
                st = cutune_session_run(s, &o, NULL, NULL, &r);
            printf("%s: %s; status %d, verification failures %llu\n",
                   none ? "none" : "answer.npy", st ? cutune_last_error() : test, st,
                   st ? 0ULL : (unsigned long long)r.stats.verification_failed);
            ok = !st && r.stats.verification_failed == 0 && r.stats.measured >= 5 &&
                 strstr(test, none ? "comparing no outputs" : "against ") != NULL &&
                 r.default_ms > 0;
            cutune_session_free(s);
            free(ref);
            fflush(stdout);
            _exit(ok ? 0 : 1);
        }
        int status = 1;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

/* Issue 25, item 5: tuned for a metric with higher better, the best is the objective's
 * best of all that ran, and the Kernel Tuner cache has the metric in each entry. */
static void objective_case(const char *spec, const char *kernel,
                           const cutune_session_options *so)
{
    pid_t pid = fork();
    if (pid == 0) {
        char kt[300];
        snprintf(kt, sizeof kt, "%s/objective.json", dir);
        cutune_session *s = NULL;
        cutune_session_result r;
        cutune_search_options o = {.strategy = "bo", .budget = 12, .seed = 4};
        int st = cutune_session_new(&s, spec, kernel, so), ok = 0;
        if (!st)
            st = cutune_session_add_metric(s, "GB/s", "ProblemSize[0] * ProblemSize[1] * 8 / "
                                                      "1e9 / (time / 1e3)");
        if (!st)
            st = cutune_session_set_objective(s, "GB/s", 1);
        if (!st)
            st = cutune_session_run(s, &o, NULL, NULL, &r);
        if (!st)
            st = cutune_session_write_kt_cache(s, kt);
        if (!st) {
            double best = cutune_session_objective(s, r.search.best_entry), worse = 0;
            for (size_t i = 0; i < 100000; i++)
                worse += cutune_session_objective(s, i) > best;
            char *text = calloc(1, (size_t)1 << 22);
            FILE *f = fopen(kt, "r");
            if (text && f && fread(text, 1, ((size_t)1 << 22) - 1, f) == 0)
                text[0] = '\0';
            if (f)
                fclose(f);
            ok = best > 0 && worse == 0 && text && strstr(text, "\"GB/s\":") &&
                 strstr(text, "\"objective\": \"GB/s\"");
            printf("objective GB/s: the best %.1f GB/s at %.4f ms\n", best, r.search.best_ms);
            free(text);
        } else {
            printf("objective GB/s: %s\n", cutune_last_error());
        }
        cutune_session_free(s);
        fflush(stdout);
        _exit(ok ? 0 : 1);
    }
    int status = 1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Each session runs in a process of its own: a process that has compiled with NVRTC cannot
 * start another worker (the library refuses, and says so). */
typedef struct outcome {
    int status;
    cutune_session_result r;
} outcome;

static outcome in_child(const char *spec, const char *kernel, const cutune_session_options *so,
                        const cutune_search_options *o, const char *kt)
{
    outcome out = {0};
    int p[2];
    if (pipe(p) != 0) {
        out.status = -1;
        return out;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        cutune_session *s;
        out.status = cutune_session_new(&s, spec, kernel, so);
        if (!out.status)
            out.status = cutune_session_run(s, o, NULL, NULL, &out.r);
        if (!out.status && kt)
            out.status = cutune_session_write_kt_cache(s, kt);
        if (out.status)
            fprintf(stderr, "session: %s\n", cutune_last_error());
        cutune_session_free(s);
        fflush(stderr);
        ssize_t w = write(p[1], &out, sizeof out);
        _exit(w == (ssize_t)sizeof out ? 0 : 1);
    }
    close(p[1]);
    if (pid < 0 || read(p[0], &out, sizeof out) != (ssize_t)sizeof out)
        out.status = -1;
    close(p[0]);
    waitpid(pid, NULL, 0);
    return out;
}

/* what every case runs on: the shipped convolution, a cache of binaries in the test's folder */
static char spec[256], cache_dir[256], kt[256], kernel[512], corner[256];
static cutune_session_options so;

static int setup(void)
{
    if (make_test_dir(dir))
        return 1;
    snprintf(spec, sizeof spec, "%s/kernels/convolution.json", source_dir());
    snprintf(kernel, sizeof kernel, "%s/kernels/convolution.cu", source_dir());
    snprintf(cache_dir, sizeof cache_dir, "%s/binaries", dir);
    snprintf(kt, sizeof kt, "%s/session.json", dir);
    snprintf(corner, sizeof corner, "%s/corner.json", dir);
    so = (cutune_session_options){.cache_dir = cache_dir};

    /* no GPU: skip */
    cutune_session *probe;
    int st = cutune_session_new(&probe, spec, kernel, &so);
    if (st) {
        int no_gpu = st == CUTUNE_ENODEVICE;
        printf("%s: %s\n", no_gpu ? "skipped" : "failed", cutune_last_error());
        return no_gpu ? SKIP_TEST : 1;
    }
    printf("%s\n", cutune_session_device(probe)->name);
    cutune_session_free(probe);
    return 0;
}

static void teardown(void) { remove_test_dir(dir); }

/* Bayesian optimisation with a budget: the result beats the default, every evaluation is
 * measured, failed or pruned, and the Kernel Tuner cache file reads back */
static void bo_budget(void)
{
    cutune_search_options o = {.strategy = "bo", .budget = 30, .seed = 2};
    outcome a = in_child(spec, kernel, &so, &o, kt);
    CHECK_INT(a.status, CUTUNE_OK);
    const cutune_session_stats *x = &a.r.stats;
    uint64_t total = x->measured + x->pruned_after_compile + x->compile_failed +
                     x->runtime_failed + x->verification_failed + x->timeouts;
    printf("bo 30: default %.4f ms, best %.4f ms (%.2fx), measured %llu, pruned after "
           "compiling %llu, compiled %llu\n",
           a.r.default_ms, a.r.search.best_ms, a.r.speedup, (unsigned long long)x->measured,
           (unsigned long long)x->pruned_after_compile, (unsigned long long)x->compiled);
    CHECK(a.r.speedup > 1.5);
    CHECK_INT(a.r.search.evaluations, 30);
    CHECK(total == 30 || total == 31); /* the default, unless the search chose it too */
    CHECK_INT(x->verification_failed + x->runtime_failed + x->timeouts, 0);
    cutune_cache *c;
    CHECK_INT(cutune_cache_load(&c, kt, NULL), CUTUNE_OK);
    if (c) {
        CHECK(cutune_cache_size(c) == total);
        cutune_cache_free(c);
    }
}

/* a second session over the same configurations compiles nothing: random search visits the
 * same ones for the same seed, whatever the timings */
static void second_session_cached(void)
{
    cutune_search_options rnd = {.strategy = "random", .budget = 15, .seed = 5};
    outcome b1 = in_child(spec, kernel, &so, &rnd, NULL);
    outcome b2 = in_child(spec, kernel, &so, &rnd, NULL);
    CHECK_INT(b1.status, CUTUNE_OK);
    CHECK_INT(b2.status, CUTUNE_OK);
    printf("random 15 twice: compiled %llu then %llu, from the cache %llu then %llu\n",
           (unsigned long long)b1.r.stats.compiled, (unsigned long long)b2.r.stats.compiled,
           (unsigned long long)b1.r.stats.from_cache, (unsigned long long)b2.r.stats.from_cache);
    CHECK_INT(b2.r.stats.compiled, 0);
    CHECK(b2.r.stats.from_cache >= 15);
}

/* brute force over the corner: the register-heavy ones are pruned, never launched */
static void corner_pruned(void)
{
    CHECK_INT(write_spec(corner, kernel), 0);
    cutune_search_options o = {.strategy = "brute", .budget = 100};
    outcome k = in_child(corner, NULL, &so, &o, NULL);
    CHECK_INT(k.status, CUTUNE_OK);
    printf("corner: measured %llu, pruned after compiling %llu (%.3f s of runs saved)\n",
           (unsigned long long)k.r.stats.measured,
           (unsigned long long)k.r.stats.pruned_after_compile, k.r.stats.pruned_saved_s);
    CHECK_INT(k.r.search.stop, CUTUNE_STOP_EXHAUSTED);
    CHECK(k.r.stats.pruned_after_compile >= 1);
    CHECK_INT(k.r.stats.measured + k.r.stats.pruned_after_compile, 8);
    CHECK_INT(k.r.stats.runtime_failed, 0); /* nothing that could not launch was launched */
}

/* Issue 28: adaptive timing. With a precision each configuration is timed from 6 launches
 * up to the cap (64) until its median is known to 2%, and racing stops those not yet that
 * precise but clearly slower than the best so far; without one, exactly 7 launches each. */
static void adaptive_timing(void)
{
    cutune_search_options o = {.strategy = "random", .budget = 15, .seed = 9};
    cutune_session_options fixed = so, adaptive = so;
    adaptive.precision = 0.02;
    outcome f = in_child(spec, kernel, &fixed, &o, NULL);
    outcome a = in_child(spec, kernel, &adaptive, &o, NULL);
    CHECK_INT(f.status, CUTUNE_OK);
    CHECK_INT(a.status, CUTUNE_OK);
    const cutune_session_stats *x = &a.r.stats;
    printf("fixed: %llu timed launches for %llu configurations; adaptive to 2%%: %llu for "
           "%llu, racing stopped %llu short of that (at most %llu launches saved)\n",
           (unsigned long long)f.r.stats.timed_launches, (unsigned long long)f.r.stats.measured,
           (unsigned long long)x->timed_launches, (unsigned long long)x->measured,
           (unsigned long long)x->raced, (unsigned long long)x->raced_saved);
    CHECK(f.r.stats.timed_launches == 7 * f.r.stats.measured);
    CHECK(x->measured > 0 && x->timed_launches >= 6 * x->measured &&
          x->timed_launches <= 64 * x->measured);
    CHECK(x->raced == 0 || x->raced_saved >= x->raced);
    CHECK(x->raced <= x->measured);
}

/* How often `needle` occurs in a file (0 when it cannot be read). */
static int count_in_file(const char *path, const char *needle)
{
    char *text = calloc(1, (size_t)1 << 22);
    FILE *f = fopen(path, "r");
    size_t got = text && f ? fread(text, 1, ((size_t)1 << 22) - 1, f) : 0;
    if (f)
        fclose(f);
    int n = 0;
    for (const char *at = text && got ? strstr(text, needle) : NULL; at;
         at = strstr(at + 1, needle))
        n++;
    free(text);
    return n;
}

/* The winner's confirmation: the 3 fastest timed again, the winner among them with the
 * lowest median over those launches, in the Kernel Tuner cache beside the search's times;
 * with it off, nothing is timed again. */
static void confirmation(void)
{
    cutune_search_options o = {.strategy = "random", .budget = 12, .seed = 4};
    cutune_session_options on = so, off = so;
    on.confirm = 3;
    off.confirm = -1;
    outcome a = in_child(spec, kernel, &on, &o, kt);
    CHECK_INT(a.status, CUTUNE_OK);
    printf("confirmed %u: the winner's median %.4f ms in [%.4f, %.4f]; its search time "
           "%.4f ms (median %.4f in [%.4f, %.4f]); %s\n", a.r.confirmed, a.r.confirmed_ms,
           a.r.confirmed_lo_ms, a.r.confirmed_hi_ms, a.r.search.best_ms, a.r.best_median_ms,
           a.r.best_lo_ms, a.r.best_hi_ms,
           a.r.search_best_entry == a.r.search.best_entry ? "the search's fastest"
                                                          : "not the search's fastest");
    CHECK_INT(a.r.confirmed, 3);
    CHECK(a.r.confirmed_lo_ms <= a.r.confirmed_ms && a.r.confirmed_ms <= a.r.confirmed_hi_ms);
    CHECK(a.r.confirmed_ms > 0 && a.r.confirmed_hi_ms < 2 * a.r.confirmed_lo_ms);
    CHECK(a.r.best_lo_ms <= a.r.best_median_ms && a.r.best_median_ms <= a.r.best_hi_ms);
    CHECK_INT(count_in_file(kt, "\"time_confirmed\":"), 3);
    CHECK_INT(count_in_file(kt, "\"time_median_lo\":"), count_in_file(kt, "\"time_median\":"));
    outcome b = in_child(spec, kernel, &off, &o, kt);
    CHECK_INT(b.status, CUTUNE_OK);
    CHECK_INT(b.r.confirmed, 0);
    CHECK(isnan(b.r.confirmed_ms));
    CHECK(b.r.search.best_entry == b.r.search_best_entry);
    CHECK_INT(count_in_file(kt, "\"time_confirmed\":"), 0);
}

/* Compiling ahead in helper processes and on threads: both sessions measure the same
 * configurations (random search, one seed), say how often the measuring side waited for a
 * binary, and leave no process behind (the worker and the helpers are reaped). */
static void compile_helpers(void)
{
    cutune_search_options o = {.strategy = "random", .budget = 16, .seed = 11};
    for (int threads = 0; threads < 2; threads++) {
        pid_t pid = fork();
        if (pid == 0) {
            char where[300];
            snprintf(where, sizeof where, "%s/helpers%d", cache_dir, threads);
            cutune_session_options opt = so;
            opt.cache_dir = where; /* empty: everything is compiled */
            opt.compile_threads = 3;
            opt.compile_in_threads = threads;
            cutune_session *s;
            cutune_session_result r = {0};
            int st = cutune_session_new(&s, spec, kernel, &opt);
            if (!st)
                st = cutune_session_run(s, &o, NULL, NULL, &r);
            cutune_session_free(s);
            int none_left = waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
            printf("compiling ahead %s: %s; measured %llu, compiled %llu, waited for %llu "
                   "binaries (%.2f s); %s\n", threads ? "on threads" : "in helper processes",
                   st ? cutune_last_error() : "ok", (unsigned long long)r.stats.measured,
                   (unsigned long long)r.stats.compiled,
                   (unsigned long long)r.stats.compile_waits, r.stats.compile_wait_s,
                   none_left ? "no process left" : "a process is left");
            fflush(stdout);
            _exit(!st && none_left && r.stats.compile_waits <= r.stats.compiled +
                                                                 r.stats.from_cache ? 0 : 1);
        }
        int status = 1;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

/* a reference the user gives: the CPU's answer (all agree), or zeros (the default fails) */
static void reference_cpu(void) { against_cpu(spec, kernel, &so); }
static void reference_file(void) { against_file(spec, kernel, &so); }
static void objective(void) { objective_case(spec, kernel, &so); }

/* Arguments given from memory (cutune_session_set_argument) instead of the spec's zeros:
 * c = a + b over inputs only this process knows, checked against its own sum; every
 * configuration with fault 1 writes through a null pointer, so the worker is started again
 * after each, and the configurations after it still agree (a restarted worker is given the
 * inputs again). */
static int arguments_session(const char *path, const char *cu)
{
    enum { N = 1 << 20 };
    float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N),
          *c = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) {
        a[i] = (float)i * 0.5f;
        b[i] = 3.0f - (float)(i % 7);
        c[i] = a[i] + b[i];
    }
    int32_t n = N;
    cutune_session *s;
    int st = cutune_session_new(&s, path, cu, &so);
    if (st)
        return st;
    CHECK_INT(cutune_session_set_argument(s, "a", a, sizeof(float) * N - 4), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "needs 4194304");
    CHECK_INT(cutune_session_set_argument(s, "nothing", a, 4), CUTUNE_ENOTFOUND);
    CHECK_INT(cutune_session_set_argument(s, "a", a, sizeof(float) * N), CUTUNE_OK);
    CHECK_INT(cutune_session_set_argument(s, "b", b, sizeof(float) * N), CUTUNE_OK);
    CHECK_INT(cutune_session_set_argument(s, "n", &n, sizeof n), CUTUNE_OK);
    CHECK_INT(cutune_session_set_reference(s, "c", c, sizeof(float) * N), CUTUNE_OK);
    CHECK_INT(cutune_session_set_verify(s, CUTUNE_VERIFY_ANSWERS), CUTUNE_OK);
    cutune_search_options o = {.strategy = "brute", .budget = 100};
    cutune_session_result r;
    st = cutune_session_run(s, &o, NULL, NULL, &r);
    if (!st) {
        printf("arguments from memory: measured %llu, runtime failures %llu, verification "
               "failures %llu\n", (unsigned long long)r.stats.measured,
               (unsigned long long)r.stats.runtime_failed,
               (unsigned long long)r.stats.verification_failed);
        CHECK_INT(r.stats.measured, 3);
        CHECK_INT(r.stats.runtime_failed, 3);
        CHECK_INT(r.stats.verification_failed, 0);
        CHECK_INT(cutune_session_set_argument(s, "a", a, sizeof(float) * N), CUTUNE_EINVAL);
        CHECK_HAS(cutune_last_error(), "measured already");
    }
    cutune_session_free(s);
    free(a);
    free(b);
    free(c);
    return st;
}

static void arguments_from_memory(void)
{
    const char *path = test_path(dir, "add.json"), *cu = test_path(dir, "add.cu");
    FILE *f = fopen(cu, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("extern \"C\" __global__ void add(float *c, const float *a, const float *b, int n) {\n"
          "    int i = blockIdx.x * block_size_x + threadIdx.x;\n"
          "    if (fault && i == 0) *(volatile int *)0 = 1;\n"
          "    if (i < n) c[i] = a[i] + b[i];\n}\n", f);
    fclose(f);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("{\"ConfigurationSpace\": {\"TuningParameters\": ["
          "{\"Name\": \"block_size_x\", \"Type\": \"int\", \"Values\": \"[64, 128, 256]\"},"
          "{\"Name\": \"fault\", \"Type\": \"int\", \"Values\": \"[0, 1]\"}]},"
          "\"KernelSpecification\": {\"KernelName\": \"add\", \"ProblemSize\": [1048576],"
          "\"Arguments\": ["
          "{\"Name\": \"c\", \"Type\": \"float\", \"Size\": 1048576, \"Output\": 1,"
          " \"AccessType\": \"ReadWrite\", \"FillType\": \"Zeros\"},"
          "{\"Name\": \"a\", \"Type\": \"float\", \"Size\": 1048576, \"FillType\": \"Zeros\"},"
          "{\"Name\": \"b\", \"Type\": \"float\", \"Size\": 1048576, \"FillType\": \"Zeros\"},"
          "{\"Name\": \"n\", \"Type\": \"int32\", \"MemoryType\": \"Scalar\","
          " \"FillValue\": 0}]}}\n", f);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        int st = arguments_session(path, cu);
        if (st)
            printf("arguments from memory: %s\n", cutune_last_error());
        fflush(stdout);
        _exit(!st && !check_failures ? 0 : 1);
    }
    int status = 1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* in a process that has compiled: a clear refusal (last: the process has compiled) */
static void refused_after_compiling(void)
{
    cutune_compile_request req = {.source = "extern \"C\" __global__ void f() {}", .kernel = "f",
                                  .arch = "sm_90", .cache_dir = ""};
    cutune_binary *bin;
    CHECK_INT(cutune_compile(&req, &bin), CUTUNE_OK);
    cutune_binary_free(bin);
    cutune_session *probe;
    CHECK_INT(cutune_session_new(&probe, spec, kernel, &so), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "start tuning sessions before compiling");
}

TEST_LIST(TEST_CASE(bo_budget) TEST_CASE(second_session_cached) TEST_CASE(corner_pruned)
          TEST_CASE(reference_cpu) TEST_CASE(reference_file) TEST_CASE(objective)
          TEST_CASE(arguments_from_memory) TEST_CASE(adaptive_timing)
          TEST_CASE(confirmation) TEST_CASE(compile_helpers)
          TEST_CASE(refused_after_compiling));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
