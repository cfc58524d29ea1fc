/* test_compile.c — NVRTC compilation and the binary cache, without a GPU: registers and
 * shared memory read from ptxas's report, a second request served from the cache with the
 * same bytes, a damaged or foreign cache file treated as a miss, compile errors with their
 * log, bad requests, a cache folder that cannot be written, and sessions compiling the same
 * kernel at once. Skipped (77) when NVRTC is not installed. */
#include "check.h"
#include "cutune.h"
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KERNEL CUTUNE_SOURCE_DIR "/kernels/convolution.cu"

static char dir[] = "/tmp/cutune-compile-XXXXXX";
static char *source;

static const char *const conv_defines[] = {
    "block_size_x=16", "block_size_y=16", "tile_size_x=1", "tile_size_y=1", "read_only=0",
    "use_padding=1",   "use_shmem=1",     "use_cmem=1",    "filter_height=15",
    "filter_width=15"};

static cutune_compile_request conv(void)
{
    return (cutune_compile_request){.source = source, .source_name = "convolution.cu",
                                    .kernel = "convolution_kernel", .arch = "sm_90",
                                    .defines = conv_defines, .num_defines = 10,
                                    .cache_dir = dir};
}

static void compile_and_cache(void)
{
    cutune_compile_request r = conv();
    cutune_binary *a, *b;
    cutune_binary_info ia, ib;
    CHECK_INT(cutune_compile(&r, &a), CUTUNE_OK);
    CHECK_INT(cutune_binary_get_info(a, &ia), CUTUNE_OK);
    CHECK_INT(ia.from_cache, 0);
    CHECK(ia.regs > 0 && ia.regs <= 255);
    /* the staged tile: (16 + 14) rows of (16 + 14 + 1 padding) floats */
    CHECK_INT(ia.static_smem, 30 * 31 * 4);
    CHECK(strcmp(ia.lowered_name, "convolution_kernel") == 0);
    CHECK_HAS(ia.log, "Used");
    CHECK(ia.cache_path != NULL);
    size_t na, nb;
    const void *ca = cutune_binary_code(a, &na);
    CHECK(na > 1000);

    CHECK_INT(cutune_compile(&r, &b), CUTUNE_OK);
    cutune_binary_get_info(b, &ib);
    CHECK_INT(ib.from_cache, 1);
    CHECK_INT(ib.regs, ia.regs);
    CHECK_INT(ib.static_smem, ia.static_smem);
    CHECK(ib.compile_s == 0);
    const void *cb = cutune_binary_code(b, &nb);
    CHECK(na == nb && memcmp(ca, cb, na) == 0);
    CHECK(strcmp(ia.cache_path, ib.cache_path) == 0);

    /* another define, another binary */
    const char *other[10];
    memcpy(other, conv_defines, sizeof other);
    other[2] = "tile_size_x=4";
    r.defines = other;
    cutune_binary *c;
    cutune_binary_info ic;
    CHECK_INT(cutune_compile(&r, &c), CUTUNE_OK);
    cutune_binary_get_info(c, &ic);
    CHECK_INT(ic.from_cache, 0);
    CHECK(strcmp(ic.cache_path, ia.cache_path) != 0);
    CHECK_INT(ic.static_smem, 30 * (16 * 4 + 14 + 1) * 4);

    /* a damaged file is a miss, and is written again */
    FILE *f = fopen(ia.cache_path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 200, SEEK_SET);
        fputs("garbage", f);
        fclose(f);
    }
    cutune_binary *d;
    cutune_binary_info id;
    r.defines = conv_defines;
    CHECK_INT(cutune_compile(&r, &d), CUTUNE_OK);
    cutune_binary_get_info(d, &id);
    CHECK_INT(id.from_cache, 0);
    cutune_binary_free(d);
    CHECK_INT(cutune_compile(&r, &d), CUTUNE_OK);
    cutune_binary_get_info(d, &id);
    CHECK_INT(id.from_cache, 1);
    cutune_binary_free(d);

    /* a truncated file, and another key's file under this name: misses too */
    size_t len;
    char *whole = ct_read_text(ia.cache_path, (size_t)1 << 30, &len);
    f = fopen(ia.cache_path, "wb");
    if (f && whole) {
        fwrite(whole, 1, len / 2, f);
        fclose(f);
    }
    CHECK_INT(cutune_compile(&r, &d), CUTUNE_OK);
    cutune_binary_get_info(d, &id);
    CHECK_INT(id.from_cache, 0);
    cutune_binary_free(d);
    char *foreign = ct_read_text(ic.cache_path, (size_t)1 << 30, &len);
    f = fopen(ia.cache_path, "wb");
    if (f && foreign) {
        fwrite(foreign, 1, len, f);
        fclose(f);
    }
    CHECK_INT(cutune_compile(&r, &d), CUTUNE_OK);
    cutune_binary_get_info(d, &id);
    CHECK_INT(id.from_cache, 0);
    CHECK_INT(id.static_smem, 30 * 31 * 4); /* its own binary, not the other one */
    cutune_binary_free(d);
    free(whole);
    free(foreign);

    cutune_binary_free(a);
    cutune_binary_free(b);
    cutune_binary_free(c);
}

static void errors(void)
{
    cutune_binary *b = (cutune_binary *)1;
    cutune_compile_request r = conv();
    r.source = "extern \"C\" __global__ void k(float *x) { x[0] = undefined_name; }";
    r.kernel = "k";
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_ECOMPILE);
    CHECK(b == NULL);
    CHECK_HAS(cutune_last_error(), "undefined_name");

    r = conv();
    r.kernel = "no_such_kernel";
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_ECOMPILE);
    CHECK_HAS(cutune_last_error(), "no_such_kernel");

    r = conv();
    r.arch = "sm_99";
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "sm_99");
    r.arch = "compute_90";
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_EINVAL);
    r = conv();
    r.kernel = NULL;
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_EINVAL);
    CHECK_INT(cutune_compile(NULL, &b), CUTUNE_EINVAL);
    r = conv();
    const char *empty[] = {""};
    r.defines = empty;
    r.num_defines = 1;
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_EINVAL);
    r = conv();
    const char *bad_option[] = {"--no-such-option"};
    r.options = bad_option;
    r.num_options = 1;
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_ECOMPILE);

    /* no cache, and a cache folder that cannot be made: the binary all the same */
    r = conv();
    r.cache_dir = "";
    cutune_binary_info info;
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_OK);
    cutune_binary_get_info(b, &info);
    CHECK(info.cache_path == NULL && info.from_cache == 0);
    cutune_binary_free(b);
    r.cache_dir = "/proc/cutune-cannot-be-here";
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_OK);
    cutune_binary_get_info(b, &info);
    CHECK(info.cache_path == NULL);
    cutune_binary_free(b);
    cutune_binary_free(NULL);
}

/* Static shared memory past 48 KiB (Kernel Tuner's matmul at 64x8 threads with 4x8 tiles:
 * 80 KiB), of which NVRTC makes no cubin: PTX instead, with ptxas's figures, served again from
 * the cache as PTX; 48 KiB exactly stays a cubin; a GPU with less shared memory is told so
 * by the figures (the session prunes it), and a real error stays an error. */
static void static_smem_past_48k(void)
{
    static const char *const src =
        "extern \"C\" __global__ void big(float *x) {\n"
        "    __shared__ float s[FLOATS];\n"
        "    for (int i = threadIdx.x; i < FLOATS; i += blockDim.x) s[i] = x[i];\n"
        "    __syncthreads();\n"
        "    x[threadIdx.x] = s[(threadIdx.x * 7) % FLOATS];\n}\n";
    const char *defs_big[] = {"FLOATS=20480"}, *defs_edge[] = {"FLOATS=12288"};
    cutune_compile_request r = {.source = src, .kernel = "big", .arch = "sm_90",
                                .defines = defs_big, .num_defines = 1, .cache_dir = dir};
    cutune_binary *b, *again;
    cutune_binary_info info;
    size_t n, n2;
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_OK);
    if (!b)
        return;
    cutune_binary_get_info(b, &info);
    const char *code = cutune_binary_code(b, &n);
    CHECK_INT(info.ptx, 1);
    CHECK(n > 100 && strstr(code, ".entry big") != NULL);
    CHECK_INT(info.static_smem, 20480 * 4);
    CHECK(info.regs > 0);
    CHECK_HAS(info.log, "81920 bytes smem");
    CHECK_INT(cutune_compile(&r, &again), CUTUNE_OK);
    cutune_binary_get_info(again, &info);
    const char *code2 = cutune_binary_code(again, &n2);
    CHECK(info.from_cache && info.ptx && info.static_smem == 20480 * 4);
    CHECK(n == n2 && memcmp(code, code2, n) == 0);
    cutune_binary_free(b);
    cutune_binary_free(again);

    r.defines = defs_edge;
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_OK);
    cutune_binary_get_info(b, &info);
    CHECK(info.ptx == 0 && info.static_smem == 12288 * 4);
    cutune_binary_free(b);

    r.defines = defs_big;
    r.arch = "sm_75"; /* 64 KiB a block at most: the figures say it cannot launch */
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_OK);
    cutune_binary_get_info(b, &info);
    cutune_arch arch;
    cutune_arch_find("sm_75", &arch);
    cutune_block_resources l = {.threads = 128, .regs = info.regs,
                                .static_smem = info.static_smem, .carveout = -1};
    cutune_occupancy occ;
    CHECK_INT(cutune_occupancy_compute(&arch, &l, &occ), CUTUNE_OK);
    CHECK_INT(occ.blocks_per_sm, 0);
    cutune_binary_free(b);

    r.arch = "sm_90";
    r.source = "extern \"C\" __global__ void big(float *x) { __shared__ float s[20480]; "
               "s[threadIdx.x] = x[0]; x[1] = s[2] + missing; }";
    r.num_defines = 0;
    CHECK_INT(cutune_compile(&r, &b), CUTUNE_ECOMPILE);
    CHECK_HAS(cutune_last_error(), "missing");
}

/* Different configurations compiled at once must each get their own registers and shared
 * memory (NVRTC can mix the ptxas reports of concurrent compilations; cutune reads the
 * cubin). Compared with the same configurations compiled one by one, without a cache. */
typedef struct variant {
    const char *tile_x, *tile_y, *shmem;
    int regs;
    size_t smem;
    int status;
} variant;

static void *compile_variant(void *arg)
{
    variant *v = arg;
    const char *defs[10];
    memcpy(defs, conv_defines, sizeof defs);
    defs[2] = v->tile_x, defs[3] = v->tile_y, defs[6] = v->shmem;
    cutune_compile_request r = conv();
    r.defines = defs;
    r.cache_dir = "";
    cutune_binary *b;
    v->status = cutune_compile(&r, &b);
    if (!v->status) {
        cutune_binary_info info;
        cutune_binary_get_info(b, &info);
        v->regs = info.regs;
        v->smem = info.static_smem;
        cutune_binary_free(b);
    }
    return NULL;
}

static void concurrent_variants(void)
{
    static const char *const tx[] = {"tile_size_x=1", "tile_size_x=2", "tile_size_x=3",
                                     "tile_size_x=4"};
    static const char *const ty[] = {"tile_size_y=1", "tile_size_y=4"};
    static const char *const sh[] = {"use_shmem=0", "use_shmem=1"};
    enum { N = 16 };
    variant alone[N], together[N];
    for (int i = 0; i < N; i++) {
        alone[i] = (variant){tx[i % 4], ty[(i / 4) % 2], sh[i / 8], 0, 0, 0};
        together[i] = alone[i];
        compile_variant(&alone[i]);
    }
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        pthread_create(&t[i], NULL, compile_variant, &together[i]);
    int distinct = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(together[i].status, CUTUNE_OK);
        CHECK_INT(together[i].regs, alone[i].regs);
        CHECK_INT(together[i].smem, alone[i].smem);
        distinct += i == 0 || alone[i].regs != alone[0].regs;
    }
    CHECK(distinct > 1); /* the variants really differ */
}

/* Sessions side by side compiling the same configuration into one cache. */
static void *compile_one(void *arg)
{
    cutune_compile_request r = conv();
    const char *defs[10];
    memcpy(defs, conv_defines, sizeof defs);
    defs[0] = "block_size_x=32";
    r.defines = defs;
    cutune_binary *b;
    *(int *)arg = cutune_compile(&r, &b);
    if (!*(int *)arg) {
        cutune_binary_info info;
        cutune_binary_get_info(b, &info);
        *(int *)arg = info.static_smem == 30 * (32 + 14 + 1) * 4 ? 0 : -1;
    }
    cutune_binary_free(b);
    return NULL;
}

static void side_by_side(void)
{
    pthread_t t[4];
    int rc[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, compile_one, &rc[i]);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(rc[i], 0);
    }
    int again;
    compile_one(&again);
    CHECK_INT(again, 0);
}

static int setup(void)
{
    int major, minor;
    if (cutune_nvrtc_version(&major, &minor) != CUTUNE_OK) {
        printf("skipped: %s\n", cutune_last_error());
        return SKIP_TEST;
    }
    printf("NVRTC %d.%d\n", major, minor);
    size_t len;
    if (!mkdtemp(dir) || !(source = ct_read_text(KERNEL, (size_t)1 << 24, &len))) {
        perror(KERNEL);
        return 1;
    }
    return 0;
}

static void teardown(void)
{
    remove_test_dir(dir);
    free(source);
}

TEST_LIST(TEST_CASE(compile_and_cache) TEST_CASE(errors) TEST_CASE(side_by_side)
          TEST_CASE(concurrent_variants) TEST_CASE(static_smem_past_48k));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
