/* gpu_test_kernels.c — the shipped kernels against their CPU references: SGEMM, the streaming
 * kernels (copy, scale, triad) and the reductions (sum, max, dot), each in its default
 * configuration and in configurations drawn from its space, at sizes that are not multiples
 * of any tile (1, primes, odd shapes), launched through cutune_launch (an exact profile for
 * each configuration and size). A size of 0 must be refused. Meant to run once under
 * compute-sanitizer as well (CUTUNE_TEST_QUICK=1 draws fewer configurations and skips the
 * largest sizes). Exits 77 (skipped) without a GPU. */
#define _DEFAULT_SOURCE
#include "check.h"
#include "cutune.h"
#include "profile.h"

#include <cuda_runtime_api.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *source_dir(void)
{
    const char *d = getenv("CUTUNE_SOURCE_DIR");
    return d ? d : CUTUNE_SOURCE_DIR;
}

static char dir[] = "/tmp/cutune-kernels-XXXXXX";
static cutune_store *store;
static cutune_device_info dev;
static int quick;

static double uniform(double lo, double hi) { return lo + (hi - lo) * rand() / RAND_MAX; }

static float *host_random(size_t n, double lo, double hi)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; x && i < n; i++)
        x[i] = (float)uniform(lo, hi);
    return x;
}

static float *device_copy(const float *x, size_t n)
{
    float *d = NULL;
    if (cudaMalloc((void **)&d, sizeof(float) * (n ? n : 1)) ||
        cudaMemcpy(d, x, sizeof(float) * n, cudaMemcpyHostToDevice))
        return NULL;
    return d;
}

/* One kernel of kernels/: its launcher and space, and the configurations to try. */
typedef struct kernel_under_test {
    const char *spec_name;
    cutune_space *space;
    cutune_launcher *launcher;
    char params[512], hash[33], name[64];
    int nconfigs;
    char configs[16][256];
} kernel_under_test;

static int kernel_open(kernel_under_test *t, const char *spec_name, const char *source_name)
{
    char spec[1024], source[1024], cache[1024];
    snprintf(spec, sizeof spec, "%s/kernels/%s", source_dir(), spec_name);
    snprintf(source, sizeof source, "%s/kernels/%s", source_dir(), source_name);
    snprintf(cache, sizeof cache, "%s/binaries", dir);
    t->spec_name = spec_name;
    static char text[1 << 17];
    FILE *f = fopen(source, "rb");
    size_t len = f ? fread(text, 1, sizeof text, f) : 0;
    if (f)
        fclose(f);
    cutune_kernel *k;
    if (cutune_space_load_t1(&t->space, spec) || cutune_kernel_load_t1(spec, t->space, &k) ||
        cutune_kernel_source_hash(k, text, len, t->hash)) { /* the spec's -DOP counts */
        fprintf(stderr, "%s: %s\n", spec, cutune_last_error());
        return -1;
    }
    snprintf(t->name, sizeof t->name, "%s", cutune_kernel_name(k));
    cutune_kernel_free(k);
    size_t n = cutune_space_num_params(t->space), at = 0;
    for (size_t p = 0; p < n; p++)
        at += (size_t)snprintf(t->params + at, sizeof t->params - at, "%s%s", p ? "," : "",
                               cutune_space_param_name(t->space, p));
    /* the default, then distinct configurations drawn at random */
    uint32_t config[32];
    cutune_rng rng;
    cutune_rng_seed(&rng, 7);
    int want = quick ? 4 : 10;
    if (cutune_space_get_default(t->space, config) != 1 ||
        cutune_space_config_key(t->space, config, t->configs[0], sizeof t->configs[0]))
        return -1;
    t->nconfigs = 1;
    for (int tries = 0; tries < 200 && t->nconfigs < want; tries++) {
        char key[256];
        if (cutune_space_sample(t->space, &rng, config) ||
            cutune_space_config_key(t->space, config, key, sizeof key))
            return -1;
        int seen = 0;
        for (int i = 0; i < t->nconfigs; i++)
            seen |= strcmp(t->configs[i], key) == 0;
        if (!seen)
            snprintf(t->configs[t->nconfigs++], sizeof t->configs[0], "%s", key);
    }
    cutune_launcher_options o = {.cache_dir = cache};
    if (cutune_launcher_new(&t->launcher, store, spec, NULL, &o)) {
        fprintf(stderr, "%s: %s\n", spec, cutune_last_error());
        return -1;
    }
    return 0;
}

static void kernel_close(kernel_under_test *t)
{
    cutune_launcher_free(t->launcher);
    cutune_space_free(t->space);
}

/* Makes `config` the exact profile of this size, so the next launch at it runs that (each
 * faster than the last: the store keeps the faster of two profiles). */
static void choose(const kernel_under_test *t, const int64_t problem[3], const char *config)
{
    static double time_ms = 1e6;
    time_ms *= 0.99;
    cutune_profile p = test_profile(&dev, t->name, t->hash, problem, t->params, config, time_ms);
    CHECK_INT(cutune_store_put(store, &p), CUTUNE_OK);
}

/* Launches config at problem and synchronizes; prints what failed. */
static int launch(kernel_under_test *t, const int64_t problem[3], const char *config,
                  void **args)
{
    cutune_launch_info info;
    choose(t, problem, config);
    int st = cutune_launch(t->launcher, problem, args, NULL, &info);
    if (!st && strcmp(info.config, config) != 0) {
        fprintf(stderr, "%s: launched %s, not %s\n", t->spec_name, info.config, config);
        return -1;
    }
    cudaError_t e = st ? cudaSuccess : cudaDeviceSynchronize();
    if (st || e) {
        fprintf(stderr, "%s %s: %s\n", t->spec_name, config,
                st ? cutune_last_error() : cudaGetErrorString(e));
        return -1;
    }
    return 0;
}

static int close_enough(double got, double want, double tolerance)
{
    return fabs(got - want) <= tolerance * fmax(1.0, fabs(want));
}

/* ------------------------------------------------------------------------- SGEMM ---- */

/* C = A B (alpha 1, beta 0.5 over a C of ones), M x N from M x K and K x N, every size of
 * the spec's order (N, M, K). The CPU sums in double; FP32 sums of K products in [0, 1)
 * are good to about 1e-6 of the result, the spec's tolerance is 1e-4. */
static void test_sgemm(kernel_under_test *t, int64_t n, int64_t m, int64_t k)
{
    float *a = host_random((size_t)(m * k), 0, 1), *b = host_random((size_t)(k * n), 0, 1);
    float *got = malloc(sizeof(float) * (size_t)(m * n)), *ones = malloc(sizeof(float) * m * n);
    double *want = malloc(sizeof(double) * (size_t)(m * n));
    CHECK(a && b && got && ones && want);
    for (int64_t i = 0; i < m * n; i++)
        ones[i] = 1.0f;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t l = 0; l < k; l++)
                s += (double)a[i * k + l] * b[l * n + j];
            want[i * n + j] = s + 0.5;
        }
    float *da = device_copy(a, (size_t)(m * k)), *db = device_copy(b, (size_t)(k * n));
    float *dc = device_copy(ones, (size_t)(m * n)), alpha = 1.0f, beta = 0.5f;
    CHECK(da && db && dc);
    void *args[] = {&da, &db, &dc, &alpha, &beta};
    int64_t problem[3] = {n, m, k};
    int bad = 0;
    for (int c = 0; c < t->nconfigs; c++) {
        CHECK(cudaMemcpy(dc, ones, sizeof(float) * m * n, cudaMemcpyHostToDevice) == 0);
        CHECK_INT(launch(t, problem, t->configs[c], args), 0);
        CHECK(cudaMemcpy(got, dc, sizeof(float) * m * n, cudaMemcpyDeviceToHost) == 0);
        for (int64_t i = 0; i < m * n; i++)
            if (!close_enough(got[i], want[i], 1e-4)) {
                fprintf(stderr, "sgemm %lldx%lldx%lld %s: C[%lld] = %.7g, the CPU's %.7g\n",
                        (long long)m, (long long)n, (long long)k, t->configs[c], (long long)i,
                        got[i], want[i]);
                bad++;
                break;
            }
    }
    CHECK_INT(bad, 0);
    if (!bad)
        printf("sgemm  M %lld N %lld K %lld: %d configurations agree with the CPU\n", (long long)m,
           (long long)n, (long long)k, t->nconfigs);
    cudaFree(da), cudaFree(db), cudaFree(dc);
    free(a), free(b), free(got), free(ones), free(want);
}

/* -------------------------------------------------------------- copy, scale, triad ---- */

/* op 0 b = a, 1 b = s a, 2 a = b + s c; exact in FP32 but for triad's one rounding */
static void test_stream(kernel_under_test *t, int op, int64_t n)
{
    float *a = host_random((size_t)n, -1, 1), *b = host_random((size_t)n, -1, 1);
    float *c = host_random((size_t)n, -1, 1), *got = malloc(sizeof(float) * (n ? n : 1));
    float s = 3.0f;
    CHECK(a && b && c && got);
    float *da = device_copy(a, (size_t)n), *db = device_copy(b, (size_t)n);
    float *dc = device_copy(c, (size_t)n);
    CHECK(da && db && dc);
    void *args[] = {&da, &db, &dc, &s};
    int64_t problem[3] = {n, 1, 1};
    int bad = 0;
    for (int i = 0; i < t->nconfigs; i++) {
        CHECK(cudaMemcpy(da, a, sizeof(float) * n, cudaMemcpyHostToDevice) == 0 &&
              cudaMemcpy(db, b, sizeof(float) * n, cudaMemcpyHostToDevice) == 0);
        CHECK_INT(launch(t, problem, t->configs[i], args), 0);
        CHECK(cudaMemcpy(got, op == 2 ? da : db, sizeof(float) * n, cudaMemcpyDeviceToHost) == 0);
        for (int64_t j = 0; j < n; j++) {
            double want = op == 0 ? a[j] : op == 1 ? (double)s * a[j] : b[j] + (double)s * c[j];
            if (!close_enough(got[j], want, 1e-6)) {
                fprintf(stderr, "%s n %lld %s: [%lld] = %.7g, the CPU's %.7g\n", t->spec_name,
                        (long long)n, t->configs[i], (long long)j, got[j], want);
                bad++;
                break;
            }
        }
    }
    CHECK_INT(bad, 0);
    if (!bad)
        printf("%-6s n %lld: %d configurations agree with the CPU\n", t->name, (long long)n,
           t->nconfigs);
    cudaFree(da), cudaFree(db), cudaFree(dc);
    free(a), free(b), free(c), free(got);
}

/* --------------------------------------------------------------- sum, max, dot ---- */

/* op 0 the sum of x, 1 its maximum (x all negative when n is odd, so the sign matters),
 * 2 the dot product of x and y. The sums of n terms in [0, 1) in FP32, in any order, are
 * good to about 1e-6 relative; the spec's tolerance is 1e-4; the maximum is exact. */
static void test_reduce(kernel_under_test *t, int op, int64_t n)
{
    double lo = op == 1 && n % 2 ? -2 : op == 1 ? -1 : 0, hi = op == 1 && n % 2 ? -1 : 1;
    float *x = host_random((size_t)n, lo, hi), *y = host_random((size_t)n, 0, 1);
    CHECK(x && y);
    double want = op == 1 ? -INFINITY : 0;
    for (int64_t i = 0; i < n; i++)
        want = op == 1 ? fmax(want, x[i]) : want + (op == 2 ? (double)x[i] * y[i] : x[i]);
    float *dx = device_copy(x, (size_t)n), *dy = device_copy(y, (size_t)n), *dout, *dpartial;
    unsigned *dcount;
    CHECK(dx && dy && cudaMalloc((void **)&dout, sizeof(float)) == 0 &&
          cudaMalloc((void **)&dpartial, sizeof(float) * 65536) == 0 &&
          cudaMalloc((void **)&dcount, sizeof(unsigned)) == 0 &&
          cudaMemset(dcount, 0, sizeof(unsigned)) == 0);
    void *args[] = {&dx, &dy, &dout, &dpartial, &dcount};
    int64_t problem[3] = {n, 1, 1};
    float identity = op == 1 ? -INFINITY : 0.0f, got;
    int bad = 0;
    for (int i = 0; i < t->nconfigs; i++) {
        CHECK(cudaMemcpy(dout, &identity, sizeof identity, cudaMemcpyHostToDevice) == 0);
        CHECK_INT(launch(t, problem, t->configs[i], args), 0);
        unsigned count;
        CHECK(cudaMemcpy(&got, dout, sizeof got, cudaMemcpyDeviceToHost) == 0 &&
              cudaMemcpy(&count, dcount, sizeof count, cudaMemcpyDeviceToHost) == 0);
        if (!close_enough(got, want, op == 1 ? 0 : 1e-4) || count != 0) {
            fprintf(stderr, "%s n %lld %s: %.7g (count left %u), the CPU's %.7g\n",
                    t->spec_name, (long long)n, t->configs[i], got, count, want);
            bad++;
        }
    }
    CHECK_INT(bad, 0);
    if (!bad)
        printf("%-6s n %lld: %d configurations agree with the CPU\n", t->name, (long long)n,
           t->nconfigs);
    cudaFree(dx), cudaFree(dy), cudaFree(dout), cudaFree(dpartial), cudaFree(dcount);
    free(x), free(y);
}

static int setup(void)
{
    int count;
    if (cutune_device_count(&count) != CUTUNE_OK) {
        printf("skipped: %s\n", cutune_last_error());
        return 77;
    }
    return 0;
}

/* SGEMM, then each streaming kernel and each reduction (one stream of random draws) */
static void shipped_kernels(void)
{
    quick = getenv("CUTUNE_TEST_QUICK") != NULL;
    CHECK(mkdtemp(dir) != NULL);
    char db[1100];
    snprintf(db, sizeof db, "%s/profiles.db", dir);
    CHECK_INT(cutune_device_query(0, &dev), CUTUNE_OK);
    CHECK_INT(cutune_store_open(&store, db, 0), CUTUNE_OK);
    srand(3);

    kernel_under_test t;
    CHECK_INT(kernel_open(&t, "sgemm.json", "sgemm.cu"), 0);
    static const int64_t shapes[][3] = {{1, 1, 1}, {37, 19, 5}, {131, 67, 45}, {64, 515, 257},
                                        {259, 129, 1003}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!quick || shapes[i][2] < 1000)
            test_sgemm(&t, shapes[i][0], shapes[i][1], shapes[i][2]);
    /* an empty problem is refused, before anything is launched */
    void *none[5] = {0};
    CHECK_INT(cutune_launch(t.launcher, (int64_t[3]){0, 5, 5}, none, NULL, NULL),
              CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "problem size 1 of 3 is 0");
    kernel_close(&t);

    static const char *const streams[] = {"copy", "scale", "triad"};
    static const char *const reductions[] = {"sum", "max", "dot"};
    static const int64_t lengths[] = {1, 7, 1000003, (1 << 22) + 5};
    for (int op = 0; op < 3; op++) {
        char spec[64];
        snprintf(spec, sizeof spec, "%s.json", streams[op]);
        CHECK_INT(kernel_open(&t, spec, "stream.cu"), 0);
        for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++)
            if (!quick || lengths[i] < 2000000)
                test_stream(&t, op, lengths[i]);
        kernel_close(&t);
        snprintf(spec, sizeof spec, "%s.json", reductions[op]);
        CHECK_INT(kernel_open(&t, spec, "reduce.cu"), 0);
        for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++)
            if (!quick || lengths[i] < 2000000)
                test_reduce(&t, op, lengths[i]);
        void *args[5] = {0};
        CHECK_INT(cutune_launch(t.launcher, (int64_t[3]){0, 0, 0}, args, NULL, NULL),
                  CUTUNE_EINVAL);
        kernel_close(&t);
    }
    cutune_store_free(store);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

TEST_LIST(TEST_CASE(shipped_kernels));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, NULL); }
