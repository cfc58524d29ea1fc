/* gpu_test_realtime.c — the demo workloads on the GPU against their CPU references
 * (bench/realtime/realtime.c): the first frame (100 oscillator steps, one active-inference
 * step) with the specs' default configurations and with tuned-looking ones from a profile
 * store, at N = 1024 and at an N no block size divides; then frames go on and the clock
 * moves.
 * Exits 77 (skipped) without a GPU. */
#define _DEFAULT_SOURCE
#include "check.h"
#include "profile.h"
#include "realtime_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/cutune-realtime-XXXXXX";

static const char *kernels_dir(void)
{
    static char path[1024];
    const char *d = getenv("CUTUNE_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/kernels", d ? d : CUTUNE_SOURCE_DIR);
    return path;
}

/* hash: the kernel's (spec_source_hash); each profile faster than the last, so that the
 * store keeps it */
static void put(cutune_store *s, const cutune_device_info *dev, const char *hash,
                const char *kernel, int64_t x, int64_t y, int64_t z, const char *params,
                const char *config)
{
    static int stored;
    cutune_profile p = test_profile(dev, kernel, hash, (const int64_t[]){x, y, z}, params,
                                    config, 1.0 / ++stored);
    p.median_ms = 1;
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
}

/* The first frame against the CPU, then ten more frames that must differ (the clock moves
 * the noise on) and stay finite. */
static void check_model(cutune_store *store, int n, const char *label, int fused)
{
    rt_model m;
    CHECK_INT(rt_model_init(&m, n, 1), CUTUNE_OK);
    char why[1024];
    rt_gpu *g;
    if (rt_gpu_new(&g, &m, store, kernels_dir(), NULL, why, sizeof why)) {
        fprintf(stderr, "rt_gpu_new: %s\n", why);
        check_failures++;
        rt_model_free(&m);
        return;
    }
    double c[5];
    CHECK_INT(rt_gpu_check(g, c), 0);
    printf("%s, N %d (osc_step %s by %s rule, %d a launch; ai_predict %s by %s rule, %d a "
           "launch): state within %.3g, sums %.3g, belief %.3g, probabilities %.3g, %s "
           "policy\n", label, n, rt_gpu_osc_config(g), rt_gpu_osc_rule(g),
           rt_gpu_osc_per_launch(g), rt_gpu_predict_config(g), rt_gpu_predict_rule(g),
           rt_gpu_predict_per_launch(g), c[0], c[1], c[2], c[3], c[4] ? "same" : "ANOTHER");
    CHECK_INT(rt_gpu_osc_per_launch(g), fused ? RT_OSC_STEPS : 1);
    CHECK_INT(rt_gpu_predict_per_launch(g), fused ? RT_SUBSTEPS : 1);
    CHECK(c[0] < 1e-9 && c[1] < 1e-8 && c[2] < 1e-10 && c[3] < 1e-9 && c[4] == 1);
    double o[RT_NO], ai[RT_AI_OUT], sums[4], first[4], ms;
    rt_observations(&m, 1, o);
    CHECK_INT(rt_gpu_frame(g, o, ai, sums, &ms), 0);
    memcpy(first, sums, sizeof first);
    for (int f = 2; f < 12; f++) {
        rt_observations(&m, (uint64_t)f, o);
        CHECK_INT(rt_gpu_frame(g, o, ai, sums, &ms), 0);
    }
    CHECK(sums[2] != first[2] && isfinite(sums[2]) && isfinite(sums[3]) && isfinite(ai[0]));
    rt_gpu_free(g);
    rt_model_free(&m);
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

/* the model with the defaults, with profiles, and fused */
static void model_against_cpu(void)
{
    CHECK(mkdtemp(dir) != NULL);
    char db[1100];
    snprintf(db, sizeof db, "%s/profiles.db", dir);
    cutune_store *store;
    cutune_device_info dev;
    CHECK_INT(cutune_device_query(0, &dev), CUTUNE_OK);
    CHECK_INT(cutune_store_open(&store, db, 0), CUTUNE_OK);
    char spec[1200], osc_hash[33] = "", ai_hash[33] = "";
    snprintf(spec, sizeof spec, "%s/oscillators.json", kernels_dir());
    CHECK_INT(spec_source_hash(spec, osc_hash), 0);
    snprintf(spec, sizeof spec, "%s/active_inference.json", kernels_dir());
    CHECK_INT(spec_source_hash(spec, ai_hash), 0);
    check_model(store, 1024, "defaults", 0);
    check_model(store, 1000, "defaults", 0);
    /* configurations of the other kind: many threads a row, staged sincos, batched policies */
    static const char osc[] = "TPR,ROWS,SMEM,SINCOS,TILE,VW,UNROLL,CSMEM,AREG",
                      ai[] = "TPR,ROWS,BATCH,SMEM,VW,UNROLL,CSMEM,RPW,AREG";
    put(store, &dev, osc_hash, "osc_step", 1024, 1, 1, osc, "32,8,1,1,512,2,4,0,0");
    put(store, &dev, osc_hash, "osc_step", 1000, 1, 1, osc, "8,16,1,0,256,2,2,0,0");
    put(store, &dev, ai_hash, "ai_predict", 900, 5, 1, ai, "16,16,5,1,2,4,0,1,0");
    check_model(store, 1024, "profiles", 0);
    check_model(store, 1000, "profiles", 0);
    /* every step in one launch (grid barriers between them), C and A held in shared memory */
    put(store, &dev, osc_hash, "osc_step", 1024, RT_OSC_STEPS, 1, osc,
        "32,8,1,1,1024,2,4,1,0");
    put(store, &dev, osc_hash, "osc_step", 1000, RT_OSC_STEPS, 1, osc,
        "8,16,1,0,256,2,2,1,0");
    put(store, &dev, ai_hash, "ai_predict", 900, 5, RT_SUBSTEPS, ai,
        "16,16,5,1,2,4,1,1,0");
    check_model(store, 1024, "fused", 1);
    check_model(store, 1000, "fused", 1);
    /* from global memory, and the policies' blocks apart */
    put(store, &dev, osc_hash, "osc_step", 1024, RT_OSC_STEPS, 1, osc,
        "4,64,0,0,1024,1,1,0,0");
    put(store, &dev, ai_hash, "ai_predict", 900, 5, RT_SUBSTEPS, ai,
        "1,128,1,0,1,1,0,1,0");
    check_model(store, 1024, "fused", 1);
    /* C's and A's rows in registers, A's two rows a warp, 7 rows a block */
    put(store, &dev, osc_hash, "osc_step", 1024, RT_OSC_STEPS, 1, osc,
        "32,8,1,1,1024,1,4,0,1");
    put(store, &dev, ai_hash, "ai_predict", 900, 5, RT_SUBSTEPS, ai,
        "32,8,5,1,1,4,0,2,1");
    check_model(store, 1024, "fused", 1);
    put(store, &dev, ai_hash, "ai_predict", 900, 5, RT_SUBSTEPS, ai,
        "32,7,5,1,2,1,0,1,1");
    check_model(store, 1024, "fused", 1);
    cutune_store_free(store);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

TEST_LIST(TEST_CASE(model_against_cpu));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, NULL); }
