/* test_speed.c — the speed floors issues set, on one core: constraints evaluated at least 10
 * million times a second (the convolution space's four constraints), Bayesian optimisation's
 * suggestion after 200 observations of a 10,000-configuration space (median; goal under a
 * millisecond), and at least 50 million occupancy answers a second. Skipped in sanitizer and debug builds, where the figures mean
 * nothing. */
#include "check.h"
#include "cutune.h"
#include "expr.h"
#include "search.h"

#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#define DATA CUTUNE_SOURCE_DIR "/data/spaces/"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void constraint_speed(void)
{
    cutune_space *s;
    if (cutune_space_load_t1(&s, DATA "convolution/spec.json")) {
        fprintf(stderr, "%s\n", cutune_last_error());
        check_failures++;
        return;
    }
    size_t np = cutune_space_num_params(s);
    const char *names[16];
    for (size_t p = 0; p < np; p++)
        names[p] = cutune_space_param_name(s, p);
    static const char *const constraints[] = {
        "use_padding==0 or block_size_x % 32 != 0",
        "block_size_x*block_size_y<=1024",
        "use_padding==0 or use_shmem != 0",
        ("use_shmem == 0 or (((block_size_x*tile_size_x+(filter_width-1)))*((block_size_y*"
         "tile_size_y+(filter_height-1)))) < 12*1024")};
    expr_prog *progs[4];
    char err[256];
    for (int i = 0; i < 4; i++) {
        expr *e;
        CHECK_INT(expr_parse(constraints[i], &e, err, sizeof err), 0);
        CHECK_INT(expr_compile(e, names, np, &progs[i], NULL, err, sizeof err), 0);
        expr_free(e);
    }
    /* the variable values of every raw combination, laid out once */
    uint64_t raw = cutune_space_raw_size(s);
    expr_value *vars = malloc(raw * np * sizeof *vars);
    for (uint64_t id = 0; id < raw; id++) {
        uint32_t c[16];
        cutune_space_config_from_id(s, id, c);
        for (size_t p = 0; p < np; p++) {
            char buf[32];
            cutune_space_format_value(s, p, c[p], buf, sizeof buf);
            vars[id * np + p] = (expr_value){.type = EV_INT, .u.i = strtoll(buf, NULL, 10)};
        }
    }
    uint64_t evals = 0, truthy = 0;
    double start = now(), elapsed;
    do {
        for (uint64_t id = 0; id < raw; id++)
            for (int i = 0; i < 4; i++) {
                expr_value r;
                expr_run(progs[i], vars + id * np, &r);
                truthy += (uint64_t)r.u.i;
                evals++;
            }
    } while ((elapsed = now() - start) < 1.0);
    double rate = evals / elapsed;
    printf("constraint evaluations: %.1f million per second on one core (%llu true)\n",
           rate / 1e6, (unsigned long long)truthy);
    CHECK(rate >= 10e6);
    for (int i = 0; i < 4; i++)
        expr_prog_free(progs[i]);
    free(vars);
    cutune_space_free(s);
}

/* A bumpy landscape over 4 parameters of 10 values, a few of them failing. */
static int bumpy(void *self, size_t i, double *time_ms, const char **failure)
{
    const uint32_t *c = ct_domain_config(self, i);
    if (c[0] == 9 && c[1] == 9) {
        *time_ms = NAN;
        *failure = "RuntimeFailedConfig";
        return CUTUNE_OK;
    }
    double t = 2.0;
    for (int j = 0; j < 4; j++)
        t += 0.1 * (j + 1) * (c[j] - 4.5) * (c[j] - 4.5) / 20 + 0.2 * sin(1.7 * c[j] + j);
    *time_ms = t;
    return CUTUNE_OK;
}

typedef struct suggest_times {
    double last[16]; /* the suggestion made after 200 observations, by session */
    size_t session;
} suggest_times;

static int keep_time(const cutune_evaluation *e, void *user)
{
    suggest_times *t = user;
    if (e->k == 201)
        t->last[t->session] = e->suggest_s;
    return 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

extern void openblas_set_num_threads(int);

static void bo_suggest_speed(void)
{
    static const char spec[] =
        "{\"ConfigurationSpace\": {\"TuningParameters\": ["
        "{\"Name\": \"a\", \"Values\": \"range(10)\"}, {\"Name\": \"b\", \"Values\": \"range(10)\"},"
        "{\"Name\": \"c\", \"Values\": \"range(10)\"}, {\"Name\": \"d\", \"Values\": "
        "\"range(10)\"}]}}";
    cutune_space *s;
    ct_domain d;
    CHECK_INT(cutune_space_load_t1_buffer(&s, spec, strlen(spec), "grid"), 0);
    CHECK_INT(ct_domain_from_space(&d, s, 100000), 0);
    CHECK_INT(d.n, 10000);
    openblas_set_num_threads(1);
    enum { SESSIONS = 9 };
    suggest_times t = {.session = 0};
    for (t.session = 0; t.session < SESSIONS; t.session++) {
        cutune_search_options o = {.strategy = "bo", .budget = 201, .seed = t.session + 1};
        cutune_search_result r;
        ct_backend b = {.measure = bumpy, .self = &d};
        CHECK_INT(ct_search_run(&d, &o, &b, keep_time, &t, &r), 0);
    }
    qsort(t.last, SESSIONS, sizeof *t.last, by_value);
    double median = t.last[SESSIONS / 2];
    printf("BO suggestion after 200 observations of 10,000 configurations: median %.3f ms, "
           "slowest %.3f ms (%d sessions, one core)\n",
           median * 1e3, t.last[SESSIONS - 1] * 1e3, SESSIONS);
    /* the goal is 1 ms (measured about 0.7 ms on the 2-core development machine); the check
     * leaves room for a slower or busier CI machine and still catches a regression */
    CHECK(median < 2e-3);
    ct_domain_release(&d);
    cutune_space_free(s);
}

/* Blocks per SM over launches a tuner meets (block sizes, register counts, shared memory,
 * carve-outs) on the H100's architecture, precomputed so that only the calculator is timed:
 * in bulk (one architecture, checked once: the floor of 50 million a second) and one call
 * at a time (reported). */
static void occupancy_speed(void)
{
    cutune_arch a;
    CHECK_INT(cutune_arch_find("sm_90", &a), CUTUNE_OK);
    enum { N = 4096 };
    static cutune_block_resources grid[N];
    static int blocks[N];
    cutune_rng rng;
    cutune_rng_seed(&rng, 5);
    for (int i = 0; i < N; i++)
        grid[i] = (cutune_block_resources){.threads = 32 * (1 + (int)cutune_rng_below(&rng, 32)),
                                           .regs = 16 + (int)cutune_rng_below(&rng, 112),
                                           .static_smem = 1024 * cutune_rng_below(&rng, 48),
                                           .dynamic_smem = 512 * cutune_rng_below(&rng, 128),
                                           .carveout = cutune_rng_below(&rng, 4)
                                                           ? -1
                                                           : (int)cutune_rng_below(&rng, 101)};
    double rate[2];
    uint64_t sum = 0;
    for (int one = 0; one < 2; one++) {
        uint64_t evals = 0;
        double start = now(), elapsed;
        do {
            if (one)
                for (int i = 0; i < N; i++)
                    sum += (uint64_t)cutune_occupancy_blocks(&a, &grid[i]);
            else {
                cutune_occupancy_blocks_many(&a, grid, N, blocks);
                for (int i = 0; i < N; i++)
                    sum += (uint64_t)blocks[i];
            }
            evals += N;
        } while ((elapsed = now() - start) < 1.0);
        rate[one] = evals / elapsed;
    }
    printf("occupancy: %.1f million answers per second on one core in bulk, %.1f million one "
           "call at a time (checksum %llu)\n",
           rate[0] / 1e6, rate[1] / 1e6, (unsigned long long)sum);
    CHECK(rate[0] >= 50e6);
}

static int setup(void)
{
#if defined(CUTUNE_SANITIZED) || !defined(NDEBUG)
    printf("skipped: speed is only measured in an optimised build without sanitizers\n");
    return SKIP_TEST;
#else
    return 0;
#endif
}

TEST_LIST(TEST_CASE(constraint_speed) TEST_CASE(bo_suggest_speed) TEST_CASE(occupancy_speed));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, NULL); }
