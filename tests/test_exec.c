/* test_exec.c — sessions measured elsewhere, without MPI: a recorded space's session is the
 * simulation exactly; a driving session with an executor whose "ranks" are other sessions in
 * this process, answering out of order; checkpoints and resume through it; bad use. */
#include "cutune.h"

#include "cache_file.h"
#include "check.h"
#include "internal.h" /* ct_now */
#include "profile.h"

#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/cutune-exec-XXXXXX";

static const char *tmp(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* 8 x 6 x 5 = 240 entries: a bowl with a failing corner */
static double bowl(const int *v, int n)
{
    (void)n;
    if (v[0] >= 7 && v[1] >= 5)
        return NAN;
    return 1 + (v[0] - 3) * (v[0] - 3) + 0.5 * (v[1] - 2) * (v[1] - 2) + 0.1 * v[2];
}

typedef struct order {
    size_t entries[300], n;
} order;

static int keep_order(const cutune_evaluation *e, void *user)
{
    order *o = user;
    if (o->n < 300)
        o->entries[o->n++] = e->entry;
    return 0;
}

/* A recorded space's session makes the same search as cutune_simulate, and sleeps. */
static void test_cache_session(const cutune_cache *c)
{
    static const char *const names[] = {"bo", "random", "genetic", "lhs"};
    for (int k = 0; k < 4; k++) {
        cutune_search_options o = {.strategy = names[k], .budget = 30, .seed = 3, .batch = 2};
        order sim = {0}, ses = {0};
        cutune_search_result r;
        CHECK_INT(cutune_simulate(c, &o, keep_order, &sim, &r), CUTUNE_OK);
        cutune_session *s;
        CHECK_INT(cutune_session_new_cache(&s, c, 0), CUTUNE_OK);
        cutune_session_result sr;
        CHECK_INT(cutune_session_run(s, &o, keep_order, &ses, &sr), CUTUNE_OK);
        CHECK(sim.n == 30 && ses.n == 30 &&
              memcmp(sim.entries, ses.entries, sizeof sim.entries) == 0);
        CHECK(sr.search.best_ms == r.best_ms && isnan(sr.default_ms));
        CHECK_INT(sr.stats.measured + sr.stats.runtime_failed, 30);
        cutune_session_free(s);
    }
    cutune_session *s;
    CHECK_INT(cutune_session_new_cache(&s, c, -1), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_new_cache(&s, NULL, 0), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_new_cache(&s, c, 20), CUTUNE_OK);
    cutune_search_options o = {.strategy = "random", .budget = 5, .seed = 1};
    cutune_session_result sr;
    double t0 = ct_now();
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &sr), CUTUNE_OK);
    CHECK(ct_now() - t0 >= 0.1 && sr.stats.run_s >= 0.1 - 1e-9);
    cutune_session_free(s);
}

/* The executor: `ranks` sessions of their own, each with a queue; wait() answers for a
 * rank drawn at random, so results come back out of order. */
#define RANKS 3
typedef struct fake {
    cutune_session *rank[RANKS];
    size_t queue[RANKS][64], nq[RANKS], next_rank;
    unsigned char measured[240];
    int twice, answered, die_after;
    cutune_rng rng;
} fake;

static int fake_submit(void *user, size_t entry, double best_ms)
{
    (void)best_ms;
    fake *f = user;
    size_t r = f->next_rank++ % RANKS;
    if (f->nq[r] == 64)
        return CUTUNE_ETOOBIG;
    f->queue[r][f->nq[r]++] = entry;
    return CUTUNE_OK;
}

static int fake_wait(void *user, cutune_measurement *out)
{
    fake *f = user;
    if (f->die_after && f->answered == f->die_after)
        return CUTUNE_EIO; /* as if the job were killed */
    size_t busy[RANKS], n = 0;
    for (size_t r = 0; r < RANKS; r++)
        if (f->nq[r])
            busy[n++] = r;
    if (!n)
        return CUTUNE_EINVAL;
    size_t r = busy[cutune_rng_below(&f->rng, n)], entry = f->queue[r][0];
    memmove(f->queue[r], f->queue[r] + 1, --f->nq[r] * sizeof **f->queue);
    f->twice += f->measured[entry]++ != 0;
    f->answered++;
    return cutune_session_measure(f->rank[r], entry, NAN, out);
}

static void fake_open(fake *f, const cutune_cache *c, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    cutune_rng_seed(&f->rng, seed);
    for (int r = 0; r < RANKS; r++)
        CHECK_INT(cutune_session_new_cache(&f->rank[r], c, 0), CUTUNE_OK);
}

static void fake_close(fake *f)
{
    for (int r = 0; r < RANKS; r++)
        cutune_session_free(f->rank[r]);
}

static void test_executor(const cutune_cache *c)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        fake f;
        fake_open(&f, c, seed);
        cutune_session *s;
        CHECK_INT(cutune_session_new_cache(&s, c, 0), CUTUNE_OK);
        cutune_executor ex = {.slots = 6, .submit = fake_submit, .wait = fake_wait, .user = &f};
        CHECK_INT(cutune_session_set_executor(s, &ex), CUTUNE_OK);
        cutune_search_options o = {.strategy = "bo", .budget = 60, .seed = seed, .batch = 3};
        cutune_session_result r;
        order seen = {0};
        CHECK_INT(cutune_session_run(s, &o, keep_order, &seen, &r), CUTUNE_OK);
        CHECK_INT(r.search.evaluations, 60);
        CHECK_INT(f.answered, 60);
        CHECK_INT(f.twice, 0);
        /* every result is the recorded one; the stats add up over the ranks */
        double best = INFINITY;
        for (size_t k = 0; k < seen.n; k++) {
            double t = cutune_cache_time(c, seen.entries[k], NULL);
            best = t < best ? t : best;
        }
        CHECK(r.search.best_ms == best);
        CHECK_INT(r.stats.measured + r.stats.runtime_failed, 60);
        CHECK(r.search.best_ms < 1.6); /* BO finds the floor of the bowl (1.1) or next to it */
        cutune_session_free(s);
        fake_close(&f);
    }
}

/* Killed after 25 results: the store has them; the resumed run measures only the other 35
 * of its budget of 60, none of them again. */
static void test_resume(const cutune_cache *c)
{
    cutune_store *store;
    CHECK_INT(cutune_store_open(&store, tmp("p.db"), 0), CUTUNE_OK);
    fake f;
    fake_open(&f, c, 5);
    f.die_after = 25;
    cutune_session *s;
    CHECK_INT(cutune_session_new_cache(&s, c, 0), CUTUNE_OK);
    cutune_executor ex = {.slots = 4, .submit = fake_submit, .wait = fake_wait, .user = &f};
    CHECK_INT(cutune_session_set_executor(s, &ex), CUTUNE_OK);
    CHECK_INT(cutune_session_set_store(s, store, NULL, 0), CUTUNE_OK);
    cutune_search_options o = {.strategy = "bo", .budget = 60, .seed = 5, .batch = 2};
    cutune_session_result r;
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_EIO);
    cutune_session_free(s);
    unsigned char before[240];
    memcpy(before, f.measured, sizeof before);
    f.die_after = 0;
    f.answered = 0;
    for (int k = 0; k < RANKS; k++)
        f.nq[k] = 0; /* what was in flight died with the job */
    CHECK_INT(cutune_session_new_cache(&s, c, 0), CUTUNE_OK);
    CHECK_INT(cutune_session_set_executor(s, &ex), CUTUNE_OK);
    CHECK_INT(cutune_session_set_store(s, store, NULL, 1), CUTUNE_OK);
    o.seed = 6; /* another seed: the strategy may go elsewhere, and still nothing twice */
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(r.stats.restored, 25);
    CHECK_INT(r.search.evaluations, 60);
    CHECK_INT(f.answered, 35);
    CHECK_INT(f.twice, 0);
    char path[300];
    snprintf(path, sizeof path, "%s", tmp("all.json"));
    CHECK_INT(cutune_session_write_kt_cache(s, path), CUTUNE_OK);
    cutune_cache *all;
    CHECK_INT(cutune_cache_load(&all, path, NULL), CUTUNE_OK);
    if (all) {
        CHECK_INT(cutune_cache_size(all), 60);
        CHECK_HAS(cutune_cache_device(all), "test device");
        cutune_cache_free(all);
    }
    cutune_session_free(s);
    fake_close(&f);
    cutune_store_free(store);
}

/* A kernel's session that drives from a process without a GPU (device -1), as rank 0 of a
 * job does when a thread of its own measures: the executor's device keys the store and
 * prunes, the default goes first through the executor, failures keep their names. */
typedef struct gpu_fake {
    size_t queue[64], n, calls, default_seen;
} gpu_fake;

static int gpu_submit(void *user, size_t entry, double best_ms)
{
    (void)best_ms;
    gpu_fake *f = user;
    if (f->n == 64)
        return CUTUNE_ETOOBIG;
    f->queue[f->n++] = entry;
    return CUTUNE_OK;
}

static int gpu_wait(void *user, cutune_measurement *out)
{
    gpu_fake *f = user;
    if (!f->n)
        return cutune_set_error(CUTUNE_EINVAL, "nothing in flight");
    size_t e = f->queue[--f->n]; /* last in, first out: out of order */
    memset(out, 0, sizeof *out);
    out->entry = e;
    f->default_seen += f->calls++ == 0;
    if (e % 7 == 3) { /* some fail to compile, as a rank would report it */
        snprintf(out->failure, sizeof out->failure, "CompilationFailedConfig");
        snprintf(out->message, sizeof out->message, "error: expected ';'");
        out->stats.compile_failed = 1;
        out->time_ms = NAN;
        return CUTUNE_OK;
    }
    out->n = 2;
    out->times_ms[0] = 1.0 + (double)(e % 101) / 100;
    out->times_ms[1] = out->times_ms[0];
    out->time_ms = out->median_ms = out->times_ms[0];
    out->regs = 32;
    out->stats.measured = 1;
    out->stats.compiled = 1;
    return CUTUNE_OK;
}

static void test_driving_kernel_session(void)
{
    cutune_session *s;
    cutune_session_options so = {.device = -1};
    CHECK_INT(cutune_session_new(&s, CUTUNE_SOURCE_DIR "/kernels/convolution.json", NULL, &so),
              CUTUNE_OK);
    if (!s)
        return;
    cutune_search_options o = {.strategy = "random", .budget = 30, .seed = 2};
    cutune_session_result r;
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_ENODEVICE);
    CHECK_HAS(cutune_last_error(), "give it an executor");
    CHECK_INT(cutune_session_set_reference(s, "output_image", "x", 1), CUTUNE_ENOTSUP);
    gpu_fake f = {0};
    cutune_executor ex = {.slots = 4, .submit = gpu_submit, .wait = gpu_wait, .user = &f};
    CHECK_INT(cutune_session_set_executor(s, &ex), CUTUNE_EINVAL); /* which device? */
    cutune_device_info dev = {.name = "Test GPU", .cc_major = 9, .cc_minor = 0,
                              .sm_count = 132, .max_threads_per_block = 1024};
    ex.device = &dev;
    CHECK_INT(cutune_session_set_executor(s, &ex), CUTUNE_OK);
    cutune_store *store;
    CHECK_INT(cutune_store_open(&store, tmp("gpu.db"), 0), CUTUNE_OK);
    CHECK_INT(cutune_session_set_store(s, store, NULL, 0), CUTUNE_OK);
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(r.search.evaluations, 30);
    CHECK_INT(f.default_seen, 1);
    CHECK(r.default_ms >= 1.0 && r.speedup >= 1.0);
    CHECK_INT(r.stats.measured + r.stats.compile_failed, f.calls);
    CHECK(r.stats.compile_failed > 0);
    CHECK_HAS(cutune_session_device(s)->name, "Test GPU");
    char hash[33] = "";
    CHECK_INT(spec_source_hash(CUTUNE_SOURCE_DIR "/kernels/convolution.json", hash), 0);
    cutune_selection sel;
    cutune_kernel_id k = {"convolution_kernel", hash, NULL};
    /* the profile is the executor's device's */
    CHECK_INT(cutune_select(store, &dev, &k, (const int64_t[]){4096, 4096, 1}, &sel),
              CUTUNE_OK);
    CHECK_INT(sel.rule, CUTUNE_SELECT_EXACT);
    cutune_session_free(s);
    cutune_store_free(store);
}

static int objective(const uint32_t *c, void *user, double *value, const char **failure)
{
    (void)c, (void)user, (void)failure;
    *value = 1;
    return 0;
}

static void test_misuse(const cutune_cache *c)
{
    cutune_session *s;
    CHECK_INT(cutune_session_new_cache(&s, c, 0), CUTUNE_OK);
    cutune_executor ex = {.slots = 0, .submit = fake_submit, .wait = fake_wait};
    CHECK_INT(cutune_session_set_executor(s, &ex), CUTUNE_EINVAL);
    ex.slots = 1025;
    CHECK_INT(cutune_session_set_executor(s, &ex), CUTUNE_EINVAL);
    ex = (cutune_executor){.slots = 2, .submit = fake_submit};
    CHECK_INT(cutune_session_set_executor(s, &ex), CUTUNE_EINVAL);
    cutune_measurement m;
    CHECK_INT(cutune_session_measure(s, 240, NAN, &m), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_measure(s, 7, NAN, &m), CUTUNE_OK);
    CHECK(m.entry == 7 && m.n == 1 && m.time_ms == cutune_cache_time(c, 7, NULL));
    CHECK_INT(m.stats.measured, 1);
    CHECK_INT(cutune_session_measure(s, 7, NAN, &m), CUTUNE_OK); /* not again */
    CHECK_INT(m.stats.measured, 0);
    CHECK_INT(cutune_session_prepare(s, (const size_t[]){1, 2}, 2), CUTUNE_OK);
    CHECK_INT(cutune_session_set_executor(s, &(cutune_executor){.slots = 2,
              .submit = fake_submit, .wait = fake_wait}), CUTUNE_OK);
    CHECK_INT(cutune_session_measure(s, 3, NAN, &m), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "has an executor");
    CHECK_INT(cutune_session_set_executor(s, NULL), CUTUNE_OK);
    cutune_session_free(s);
    cutune_space *space;
    CHECK_INT(cutune_space_new(&space), CUTUNE_OK);
    CHECK_INT(cutune_space_add_int(space, "x", (const int64_t[]){1, 2}, 2), CUTUNE_OK);
    CHECK_INT(cutune_session_new_objective(&s, space, NULL, objective, NULL), CUTUNE_OK);
    CHECK_INT(cutune_session_set_executor(s, &(cutune_executor){.slots = 2,
              .submit = fake_submit, .wait = fake_wait}), CUTUNE_ENOTSUP);
    cutune_session_free(s);
    cutune_space_free(space);
}

/* the bowl's recorded space, which the cases over a cache share (NULL if it failed) */
static cutune_cache *bowl_space;

static int setup(void)
{
    if (make_test_dir(dir))
        return 1;
    CHECK_INT(write_cache_file(tmp("bowl.json"), 3, (const int[]){8, 6, 5}, bowl), 0);
    CHECK_INT(cutune_cache_load(&bowl_space, tmp("bowl.json"), NULL), CUTUNE_OK);
    if (bowl_space)
        CHECK_INT(cutune_cache_size(bowl_space), 240);
    return 0;
}

static void teardown(void)
{
    cutune_cache_free(bowl_space);
    remove_test_dir(dir);
}

static void test_bowl_session(void)
{
    if (bowl_space)
        test_cache_session(bowl_space);
}

static void test_bowl_executor(void)
{
    if (bowl_space)
        test_executor(bowl_space);
}

static void test_bowl_resume(void)
{
    if (bowl_space)
        test_resume(bowl_space);
}

static void test_bowl_misuse(void)
{
    if (bowl_space)
        test_misuse(bowl_space);
}

TEST_LIST(TEST_CASE(test_bowl_session) TEST_CASE(test_bowl_executor) TEST_CASE(test_bowl_resume)
          TEST_CASE(test_bowl_misuse) TEST_CASE(test_driving_kernel_session));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
