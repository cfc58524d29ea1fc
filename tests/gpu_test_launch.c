/* gpu_test_launch.c — tuned launches: cutune_launch runs cutune's convolution with what the
 * profile store selects (the default, an exact profile, the nearest size's, a profile that
 * is not of this spec), from several threads at once, and in online mode tunes a size it
 * has no profile for in the background and then launches the result. Every output is
 * checked against the CPU. Exits 77 (skipped) without a GPU. */
#define _DEFAULT_SOURCE
#include "check.h"
#include "cutune.h"
#include "profile.h"

#include <cuda_runtime_api.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define F 15

static const char *source_dir(void)
{
    const char *d = getenv("CUTUNE_SOURCE_DIR");
    return d ? d : CUTUNE_SOURCE_DIR;
}

static char dir[] = "/tmp/cutune-launch-XXXXXX";
static float filter[F * F], *d_filter; /* in constant memory, and in a buffer (use_cmem 0) */

/* Buffers for an n x n image and the CPU's answer. */
typedef struct image {
    int n;
    float *in, *want, *got;
    float *d_in, *d_out;
} image;

static int image_new(image *im, int n)
{
    int w = n + F - 1;
    im->n = n;
    im->in = malloc(sizeof(float) * w * w);
    im->want = malloc(sizeof(float) * n * n);
    im->got = malloc(sizeof(float) * n * n);
    if (!im->in || !im->want || !im->got)
        return -1;
    for (long i = 0; i < (long)w * w; i++)
        im->in[i] = (float)rand() / (float)RAND_MAX;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            float sum = 0;
            for (int i = 0; i < F; i++)
                for (int j = 0; j < F; j++)
                    sum += im->in[(long)(y + i) * w + x + j] * filter[i * F + j];
            im->want[(long)y * n + x] = sum;
        }
    if (cudaMalloc((void **)&im->d_in, sizeof(float) * w * w) ||
        cudaMalloc((void **)&im->d_out, sizeof(float) * n * n))
        return -1;
    return cudaMemcpy(im->d_in, im->in, sizeof(float) * w * w, cudaMemcpyHostToDevice) ? -1 : 0;
}

static void image_free(image *im)
{
    free(im->in);
    free(im->want);
    free(im->got);
    cudaFree(im->d_in);
    cudaFree(im->d_out);
}

/* Launches at the image's size and compares with the CPU. */
static int launch_checked(cutune_launcher *l, image *im, cutune_launch_info *info)
{
    int64_t problem[3] = {im->n, im->n, 0};
    void *args[] = {&im->d_out, &im->d_in, &d_filter};
    cudaMemset(im->d_out, 0, sizeof(float) * im->n * im->n);
    int st = cutune_launch(l, problem, args, NULL, info);
    if (st) {
        fprintf(stderr, "cutune_launch: %s\n", cutune_last_error());
        return st;
    }
    if (cudaMemcpy(im->got, im->d_out, sizeof(float) * im->n * im->n, cudaMemcpyDeviceToHost))
        return CUTUNE_ECUDA;
    for (long i = 0; i < (long)im->n * im->n; i++)
        if (!(fabsf(im->got[i] - im->want[i]) <= 1e-3f * fmaxf(1, fabsf(im->want[i])))) {
            fprintf(stderr, "%dx%d, %s: out[%ld] = %g, the CPU's %g\n", im->n, im->n,
                    info->config, i, im->got[i], im->want[i]);
            return CUTUNE_ECUDA;
        }
    printf("%dx%d: %s (%s%s), %s, grid %ux%u block %ux%u\n", im->n, im->n,
           cutune_select_rule_name(info->selection.rule), info->config,
           info->fell_back ? ", fell back on the default" : "",
           info->compiled ? "compiled and loaded" : "already loaded", info->grid[0],
           info->grid[1], info->block[0], info->block[1]);
    return CUTUNE_OK;
}

static const char *params(void)
{
    return "block_size_x,block_size_y,tile_size_x,tile_size_y,read_only,use_padding,use_shmem,"
           "use_cmem,filter_height,filter_width";
}

static void put(cutune_store *s, const cutune_device_info *dev, const char *hash, int n,
                const char *names, const char *config)
{
    cutune_profile p = test_profile(dev, "convolution_kernel", hash, (const int64_t[]){n, n, 1},
                                    names, config, 1);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
}

typedef struct worker_arg {
    cutune_launcher *l;
    image *im;
    int failures;
} worker_arg;

static void *launch_many(void *p)
{
    worker_arg *a = p;
    int64_t problem[3] = {a->im->n, a->im->n, 1};
    void *args[] = {&a->im->d_out, &a->im->d_in, &d_filter};
    cudaStream_t stream;
    cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
    for (int i = 0; i < 200; i++)
        a->failures += cutune_launch(a->l, problem, args, stream, NULL) != CUTUNE_OK;
    a->failures += cudaStreamSynchronize(stream) != cudaSuccess;
    cudaStreamDestroy(stream);
    return NULL;
}

static int setup(void)
{
    int count;
    if (cutune_device_count(&count) != CUTUNE_OK) {
        printf("skipped: %s\n", cutune_last_error());
        return 77;
    }
    if (make_test_dir(dir))
        return 1;
    return 0;
}

/* one launcher through its profiles and threads, then one tuning online (with the
 * profiles the first left in the store) */
static void launcher(void)
{
    char spec[1024], db[1024], cache[1024], source_hash[33];
    snprintf(spec, sizeof spec, "%s/kernels/convolution.json", source_dir());
    snprintf(db, sizeof db, "%s/profiles.db", dir);
    snprintf(cache, sizeof cache, "%s/kernels", dir);
    CHECK_INT(spec_source_hash(spec, source_hash), 0);
    for (int i = 0; i < F * F; i++)
        filter[i] = (float)rand() / (float)RAND_MAX;
    cutune_device_info dev;
    cutune_store *store;
    cutune_launcher *l;
    image big, small, huge;
    CHECK_INT(cutune_device_query(0, &dev), CUTUNE_OK);
    CHECK(cudaMalloc((void **)&d_filter, sizeof filter) == cudaSuccess &&
          cudaMemcpy(d_filter, filter, sizeof filter, cudaMemcpyHostToDevice) == cudaSuccess);
    CHECK_INT(cutune_store_open(&store, db, 0), CUTUNE_OK);
    CHECK(image_new(&big, 1024) == 0 && image_new(&small, 512) == 0 &&
          image_new(&huge, 2048) == 0);
    cutune_launcher_options o = {.cache_dir = cache};
    CHECK_INT(cutune_launcher_new(&l, store, spec, NULL, &o), CUTUNE_OK);
    CHECK_INT(cutune_launcher_set_constant(l, "d_filter", filter, sizeof filter), CUTUNE_OK);
    cutune_launch_info info;

    /* nothing known: the default, compiled once */
    CHECK_INT(launch_checked(l, &big, &info), CUTUNE_OK);
    CHECK_INT(info.selection.rule, CUTUNE_SELECT_DEFAULT);
    CHECK(info.compiled && !info.fell_back && strcmp(info.config, "16,16,1,1,0,1,1,1,15,15") == 0);
    CHECK_INT(launch_checked(l, &big, &info), CUTUNE_OK);
    CHECK(!info.compiled);

    /* an exact profile; its size's nearest neighbour; one that is not of this spec */
    put(store, &dev, source_hash, 1024, params(), "64,2,1,2,0,0,1,1,15,15");
    CHECK_INT(launch_checked(l, &big, &info), CUTUNE_OK);
    CHECK_INT(info.selection.rule, CUTUNE_SELECT_EXACT);
    CHECK(strcmp(info.config, "64,2,1,2,0,0,1,1,15,15") == 0 && info.grid[0] == 16 &&
          info.grid[1] == 256);
    CHECK_INT(launch_checked(l, &small, &info), CUTUNE_OK);
    CHECK_INT(info.selection.rule, CUTUNE_SELECT_NEAREST_SIZE);
    CHECK(strcmp(info.config, "64,2,1,2,0,0,1,1,15,15") == 0 && info.compiled);
    put(store, &dev, source_hash, 2048, "block_size_x,no_such_parameter", "32,1");
    CHECK_INT(launch_checked(l, &huge, &info), CUTUNE_OK);
    CHECK(info.selection.rule == CUTUNE_SELECT_EXACT && info.fell_back &&
          strcmp(info.config, "16,16,1,1,0,1,1,1,15,15") == 0);
    /* a constant the kernel lacks; a launch without arguments */
    CHECK_INT(cutune_launcher_set_constant(l, "no_such_symbol", filter, 4), CUTUNE_ENOTFOUND);
    CHECK_HAS(cutune_last_error(), "no __constant__ symbol 'no_such_symbol'");
    CHECK_INT(cutune_launch(l, (int64_t[3]){1024, 1024, 1}, NULL, NULL, NULL), CUTUNE_EINVAL);

    /* four threads at once, on streams of their own */
    pthread_t t[4];
    worker_arg wa[4];
    for (int i = 0; i < 4; i++) {
        wa[i] = (worker_arg){l, &big, 0};
        pthread_create(&t[i], NULL, launch_many, &wa[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(wa[i].failures, 0);
    }
    CHECK_INT(launch_checked(l, &big, &info), CUTUNE_OK);
    cutune_launcher_free(l);

    /* online: a size with no profile is tuned in the background, then launched tuned */
    image mid;
    CHECK(image_new(&mid, 768) == 0);
    char cli[1024];
    snprintf(cli, sizeof cli, "%s", getenv("CUTUNE_CLI") ? getenv("CUTUNE_CLI")
                                                          : CUTUNE_BINARY_DIR "/cutune");
    o = (cutune_launcher_options){.cache_dir = cache, .online = 1, .cutune_path = cli,
                                  .online_args = "--strategy random --budget 8 --seed 3"};
    CHECK_INT(cutune_launcher_new(&l, store, spec, NULL, &o), CUTUNE_OK);
    CHECK_INT(cutune_launcher_set_constant(l, "d_filter", filter, sizeof filter), CUTUNE_OK);
    CHECK_INT(launch_checked(l, &mid, &info), CUTUNE_OK);
    CHECK(info.selection.rule == CUTUNE_SELECT_NEAREST_SIZE && info.tuning);
    double waited = 0;
    while (info.selection.rule != CUTUNE_SELECT_EXACT && waited < 240 &&
           launch_checked(l, &mid, &info) == CUTUNE_OK) {
        usleep(250000);
        waited += 0.25;
    }
    printf("online: an exact profile for 768x768 after %.2f s: %s\n", waited, info.config);
    CHECK_INT(info.selection.rule, CUTUNE_SELECT_EXACT);
    CHECK(!info.tuning);
    cutune_launcher_free(l);

    image_free(&big);
    image_free(&small);
    image_free(&huge);
    image_free(&mid);
    cudaFree(d_filter);
    cutune_store_free(store);
    remove_test_dir(dir);
}

TEST_LIST(TEST_CASE(launcher));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, NULL); }
