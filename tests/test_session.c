/* test_session.c — what a GPU session says before it needs the GPU: a spec without a
 * kernel, a kernel file that is not there, a missing spec; and, on a machine without a GPU,
 * that there is none. The GPU path itself is gpu_test_worker and the H100 runs. Sessions
 * over a custom objective need no GPU and are tested whole here. */
#include "check.h"
#include "cutune.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SRC CUTUNE_SOURCE_DIR

/* A copy pipeline's chunk size and depth: cheapest at 2^14 bytes and depth 3; chunks under
 * 2^10 bytes do not work; `stop_at` calls in, the objective gives up. */
typedef struct pipeline {
    int calls, stop_at;
} pipeline;

static int pipeline_cost(const uint32_t *c, void *user, double *value, const char **failure)
{
    pipeline *p = user;
    if (++p->calls == p->stop_at) {
        *failure = "the copy engine went away";
        return CUTUNE_ECUDA;
    }
    double lg = 8 + c[0], depth = 1 + c[1];
    if (lg < 10) {
        *failure = "chunk too small";
        return 0;
    }
    *value = 1 + (lg - 14) * (lg - 14) * 0.1 + (depth - 3) * (depth - 3) * 0.05;
    return 0;
}

/* Chunks of 2^8 .. 2^19 bytes, depths 1 .. 6; by default 4 KiB and 1. */
static cutune_space *pipeline_space(int with_default)
{
    cutune_space *space;
    CHECK_INT(cutune_space_new(&space), CUTUNE_OK);
    int64_t chunk[12], depth[6];
    for (int i = 0; i < 12; i++)
        chunk[i] = (int64_t)1 << (8 + i);
    for (int i = 0; i < 6; i++)
        depth[i] = i + 1;
    CHECK_INT(cutune_space_add_int(space, "chunk_bytes", chunk, 12), CUTUNE_OK);
    CHECK_INT(cutune_space_add_int(space, "depth", depth, 6), CUTUNE_OK);
    if (with_default)
        CHECK_INT(cutune_space_set_default(space, (uint32_t[]){4, 0}), CUTUNE_OK);
    return space;
}

static void test_objective_session(void)
{
    cutune_space *space = pipeline_space(1);

    cutune_session *s = (cutune_session *)1;
    CHECK_INT(cutune_session_new_objective(&s, NULL, "x", pipeline_cost, NULL), CUTUNE_EINVAL);
    CHECK(s == NULL);
    CHECK_INT(cutune_session_new_objective(&s, space, "x", NULL, NULL), CUTUNE_EINVAL);

    pipeline p = {0};
    CHECK_INT(cutune_session_new_objective(&s, space, "copy pipeline", pipeline_cost, &p),
              CUTUNE_OK);
    cutune_search_options o = {.strategy = "bo", .budget = 40, .seed = 5};
    cutune_session_result r;
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(r.search.evaluations, 40);
    /* the default first; if the strategy picks it again, it is not run again */
    CHECK(p.calls == 40 || p.calls == 41);
    const double dflt = 1 + 2 * 2 * 0.1 + 2 * 2 * 0.05;
    CHECK(fabs(r.default_ms - dflt) < 1e-12);
    CHECK(r.search.best_ms == 1.0); /* the optimum, within 40 of 72 */
    char key[64];
    CHECK_HAS(cutune_session_key(s, r.search.best_entry, key, sizeof key), "16384,3");
    CHECK(fabs(r.speedup - dflt) < 1e-12);
    CHECK_INT(r.stats.measured + r.stats.runtime_failed, p.calls);
    CHECK(r.stats.runtime_failed >= 1); /* BO tries small chunks too, once or twice */
    CHECK_INT(r.stats.compiled, 0);

    /* what does not apply says so */
    cutune_occupancy occ;
    CHECK_INT(cutune_session_explain(s, r.search.best_entry, &occ, NULL), CUTUNE_ENOTSUP);
    CHECK_HAS(cutune_last_error(), "custom objective");
    CHECK_INT(cutune_session_precompile(s, 2, NULL, NULL), CUTUNE_ENOTSUP);
    CHECK_INT(cutune_session_set_reference(s, "out", "x", 1), CUTUNE_ENOTSUP);
    CHECK_INT(cutune_session_set_argument(s, "out", "x", 1), CUTUNE_ENOTSUP);
    CHECK_HAS(cutune_last_error(), "runs no kernel of its own to give 'out' to");
    CHECK_INT(cutune_session_set_argument(s, NULL, "x", 1), CUTUNE_EINVAL);

    /* the files: a Kernel Tuner cache that loads back, and T4 with every evaluation */
    char cache_path[] = "/tmp/cutune-objective-XXXXXX", t4_path[] = "/tmp/cutune-t4-XXXXXX";
    int fd1 = mkstemp(cache_path), fd2 = mkstemp(t4_path);
    CHECK(fd1 >= 0 && fd2 >= 0);
    close(fd1);
    close(fd2);
    CHECK_INT(cutune_session_write_kt_cache(s, cache_path), CUTUNE_OK);
    CHECK_INT(cutune_session_write_t4(s, t4_path), CUTUNE_OK);
    cutune_cache *cache;
    CHECK_INT(cutune_cache_load(&cache, cache_path, NULL), CUTUNE_OK);
    if (cache) {
        CHECK_INT(cutune_cache_size(cache), p.calls);
        CHECK_HAS(cutune_cache_kernel(cache), "copy pipeline");
        size_t failed = 0;
        double best = INFINITY;
        for (size_t i = 0; i < cutune_cache_size(cache); i++) {
            const char *why = NULL;
            double t = cutune_cache_time(cache, i, &why);
            failed += isnan(t);
            best = t < best ? t : best;
        }
        CHECK_INT(failed, r.stats.runtime_failed);
        CHECK(best == 1.0);
        cutune_cache_free(cache);
    }
    /* a .gz name is written gzip'd (Kernel Tuner's reader needs it so) and loads back */
    char gz_path[64];
    snprintf(gz_path, sizeof gz_path, "%s.json.gz", cache_path);
    CHECK_INT(cutune_session_write_kt_cache(s, gz_path), CUTUNE_OK);
    unsigned char magic[2] = {0};
    FILE *gz = fopen(gz_path, "rb");
    CHECK(gz && fread(magic, 1, 2, gz) == 2 && magic[0] == 0x1f && magic[1] == 0x8b);
    if (gz)
        fclose(gz);
    CHECK_INT(cutune_cache_load(&cache, gz_path, NULL), CUTUNE_OK);
    if (cache) {
        CHECK_INT(cutune_cache_size(cache), p.calls);
        cutune_cache_free(cache);
    }
    unlink(gz_path);
    CHECK_INT(cutune_session_write_kt_cache(s, "/nonexistent-dir/cache.json"), CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "cannot write /nonexistent-dir/cache.json");
    json_t *t4 = json_load_file(t4_path, 0, NULL);
    CHECK(t4 && json_array_size(json_object_get(t4, "results")) == (size_t)p.calls);
    json_decref(t4);
    unlink(cache_path);
    unlink(t4_path);
    cutune_session_free(s);

    /* the objective gives up: the session stops with its status, and says where */
    p = (pipeline){.stop_at = 10};
    CHECK_INT(cutune_session_new_objective(&s, space, NULL, pipeline_cost, &p), CUTUNE_OK);
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_ECUDA);
    CHECK_HAS(cutune_last_error(), "the copy engine went away");
    CHECK_HAS(cutune_last_error(), "the objective failed at ");
    CHECK_INT(p.calls, 10);
    cutune_session_free(s);

    /* without a default: no speedup to speak of, the rest the same */
    cutune_space *bare = pipeline_space(0);
    p = (pipeline){0};
    CHECK_INT(cutune_session_new_objective(&s, bare, NULL, pipeline_cost, &p), CUTUNE_OK);
    o.strategy = "brute";
    o.budget = 1000;
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(p.calls, 72);
    CHECK(isnan(r.default_ms) && isnan(r.speedup));
    CHECK(r.search.best_ms == 1.0);
    CHECK_INT(r.search.stop, CUTUNE_STOP_EXHAUSTED);
    cutune_session_free(s);
    cutune_space_free(bare);
    cutune_space_free(space); /* the sessions borrowed it */
}

/* Evaluations go to the store as they complete; a session that dies is resumed without
 * running again anything that finished, and the best becomes the profile. */
typedef struct seen {
    int calls, die_at;
    uint8_t ran[72];
    int twice;
} seen;

static int counted_cost(const uint32_t *c, void *user, double *value, const char **failure)
{
    seen *w = user;
    if (++w->calls == w->die_at)
        return CUTUNE_EIO; /* as if killed: the session ends without finishing */
    size_t i = c[0] * 6 + c[1];
    w->twice += w->ran[i] && i != 4 * 6; /* the default (4 KiB, depth 1) runs each time */
    w->ran[i] = 1;
    return pipeline_cost(c, &(pipeline){0}, value, failure);
}

static void test_checkpoint_and_resume(void)
{
    cutune_space *space = pipeline_space(1);
    char dir[] = "/tmp/cutune-resume-XXXXXX", db[128];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/p.db", dir);
    cutune_store *store;
    CHECK_INT(cutune_store_open(&store, db, 0), CUTUNE_OK);

    /* the first session dies at its 15th call */
    seen w = {.die_at = 15};
    cutune_session *s;
    cutune_session_result r;
    cutune_search_options o = {.strategy = "random", .budget = 40, .seed = 9};
    CHECK_INT(cutune_session_new_objective(&s, space, "pipeline", counted_cost, &w), CUTUNE_OK);
    CHECK_INT(cutune_session_set_store(s, store, "bytes", 0), CUTUNE_OK);
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_EIO);
    cutune_session_free(s);
    /* each new best became the profile as it came: the dead session left one */
    cutune_selection sel;
    cutune_device_info none = {0};
    snprintf(none.name, sizeof none.name, "custom objective");
    cutune_kernel_id k = {"pipeline", "", "bytes"};
    CHECK_INT(cutune_select(store, &none, &k, (int64_t[]){1, 1, 1}, &sel), CUTUNE_OK);
    CHECK_INT(sel.rule, CUTUNE_SELECT_EXACT);
    /* the second resumes: the 14 that finished are not run again */
    w.die_at = 0;
    int before = w.calls;
    CHECK_INT(cutune_session_new_objective(&s, space, "pipeline", counted_cost, &w), CUTUNE_OK);
    CHECK_INT(cutune_session_set_store(s, store, "bytes", 1), CUTUNE_OK);
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(r.stats.restored, 13); /* 14 finished, less the default */
    CHECK_INT(w.twice, 0);
    CHECK_INT(w.calls - before, 40 - 13 + 1); /* the rest of the budget, and the default */
    cutune_session_free(s);

    /* the profile: the best of everything, under the objective's name and user key */
    CHECK_INT(cutune_select(store, &none, &k, (int64_t[]){1, 1, 1}, &sel), CUTUNE_OK);
    CHECK_INT(sel.rule, CUTUNE_SELECT_EXACT);
    CHECK(sel.time_ms == r.search.best_ms);
    CHECK(strcmp(sel.params, "chunk_bytes,depth") == 0);
    char *text = NULL;
    CHECK_INT(cutune_store_export(store, sel.profile, CUTUNE_FORMAT_KERNEL_TUNER, &text),
              CUTUNE_OK);
    json_t *kt = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    /* every configuration ever evaluated, each once */
    int distinct = 0;
    for (int i = 0; i < 72; i++)
        distinct += w.ran[i];
    CHECK_INT(json_object_size(json_object_get(kt, "cache")), distinct);
    json_decref(kt);
    cutune_store_free(store);
    cutune_space_free(space);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
}

/* a kernel's session: bad input, and with everything right, a start or "no GPU" */
static void test_kernel_session(void)
{
    cutune_session *s = (cutune_session *)1;
    CHECK_INT(cutune_session_new(&s, NULL, NULL, NULL), CUTUNE_EINVAL);
    CHECK(s == NULL);
    CHECK_INT(cutune_session_new(NULL, "x.json", NULL, NULL), CUTUNE_EINVAL);
    CHECK(cutune_session_new(&s, SRC "/tests/data/no-such-spec.json", NULL, NULL) != CUTUNE_OK);
    CHECK_HAS(cutune_last_error(), "no-such-spec.json");
    /* the recorded space's spec has a kernel section naming a file cutune does not ship */
    CHECK_INT(cutune_session_new(&s, SRC "/data/spaces/convolution/spec.json", NULL, NULL),
              CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "convolution_milo.cu");
    CHECK_INT(cutune_session_new(&s, SRC "/kernels/convolution.json",
                                 SRC "/kernels/not-there.cu", NULL),
              CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "not-there.cu");
    /* a precision that is no fraction is refused before anything starts */
    static const double bad[] = {-0.01, 1, 2};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        cutune_session_options o = {.precision = bad[k]};
        CHECK_INT(cutune_session_new(&s, SRC "/kernels/convolution.json", NULL, &o),
                  CUTUNE_EINVAL);
        CHECK_HAS(cutune_last_error(), "is not a fraction in [0, 1)");
    }
    cutune_session_options nan_precision = {.precision = NAN};
    CHECK_INT(cutune_session_new(&s, SRC "/kernels/convolution.json", NULL, &nan_precision),
              CUTUNE_EINVAL);
    /* everything right: it starts, or says there is no GPU */
    int st = cutune_session_new(&s, SRC "/kernels/convolution.json", NULL, NULL);
    if (st == CUTUNE_OK) {
        CHECK(cutune_session_device(s)->sm_count > 0);
        cutune_session_free(s);
    } else {
        CHECK_INT(st, CUTUNE_ENODEVICE);
        CHECK_HAS(cutune_last_error(), "worker: ");
    }
    cutune_session_free(NULL);
}

TEST_LIST(TEST_CASE(test_objective_session) TEST_CASE(test_checkpoint_and_resume)
          TEST_CASE(test_kernel_session));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
