/* test_kernel_spec.c — the KernelSpecification of a T1 spec: cutune's convolution (names,
 * options, argument sizes from expressions over ProblemSize and parameter lists, launch
 * geometry per configuration) and specs that are wrong in each way a user can get wrong. */
#include "check.h"
#include "cutune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONV CUTUNE_SOURCE_DIR "/kernels/convolution.json"

static char dir[] = "/tmp/cutune-kspec-XXXXXX";

/* The space and the kernel of a spec, each checked (a macro: failures name the caller's
 * line); k may be NULL afterwards. */
#define OPEN_SPEC(path, s, k)                                                               \
    do {                                                                                    \
        CHECK_INT(cutune_space_load_t1(&(s), (path)), CUTUNE_OK);                           \
        CHECK_INT(cutune_kernel_load_t1((path), (s), &(k)), CUTUNE_OK);                     \
    } while (0)

static void convolution(void)
{
    cutune_space *s;
    cutune_kernel *k;
    OPEN_SPEC(CONV, s, k);
    if (!k) {
        cutune_space_free(s);
        return;
    }
    CHECK(strcmp(cutune_kernel_name(k), "convolution_kernel") == 0);
    CHECK_HAS(cutune_kernel_file(k), "/kernels/convolution.cu");
    CHECK_INT(cutune_kernel_num_options(k), 1);
    CHECK(strcmp(cutune_kernel_options(k)[0], "-std=c++17") == 0);
    CHECK_INT(cutune_kernel_num_args(k), 3);
    const cutune_kernel_arg *out = cutune_kernel_arg_at(k, 0), *in = cutune_kernel_arg_at(k, 1),
                            *filter = cutune_kernel_arg_at(k, 2);
    CHECK_INT(out->count, 4096 * 4096);
    CHECK(out->output && out->written && out->fill == CUTUNE_FILL_ZEROS);
    CHECK_INT(in->count, 4110 * 4110); /* max(filter_width) - 1 = 14 more each way */
    CHECK(!in->output && !in->written && in->fill == CUTUNE_FILL_RANDOM && in->value == 1.0);
    CHECK_INT(filter->count, 225);
    CHECK(filter->constant && filter->type == CUTUNE_FLOAT32);
    CHECK(cutune_kernel_arg_at(k, 3) == NULL);
    CHECK_INT(cutune_elem_size(CUTUNE_FLOAT64), 8);

    struct {
        const char *key;
        unsigned grid[3], block[3];
    } cases[] = {{"16,16,1,1,0,1,1,1,15,15", {256, 256, 1}, {16, 16, 1}},
                 {"64,4,4,4,1,0,1,1,15,15", {16, 256, 1}, {64, 4, 1}},
                 {"48,2,3,1,0,1,1,1,15,15", {29, 2048, 1}, {48, 2, 1}}}; /* 4096/144 up */
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t c[16];
        unsigned grid[3], block[3];
        size_t smem = 99;
        CHECK_INT(cutune_space_parse_key(s, cases[i].key, c), CUTUNE_OK);
        CHECK_INT(cutune_kernel_geometry(k, c, grid, block, &smem), CUTUNE_OK);
        for (int d = 0; d < 3; d++) {
            CHECK_INT(grid[d], cases[i].grid[d]);
            CHECK_INT(block[d], cases[i].block[d]);
        }
        CHECK_INT(smem, 0);
    }
    cutune_kernel_free(k);
    cutune_space_free(s);
    cutune_kernel_free(NULL);
}

/* A spec with one space (x in 1, 2, 4) and this KernelSpecification. */
static int load(const char *kernel_spec, cutune_kernel **k)
{
    char path[128];
    snprintf(path, sizeof path, "%s/spec.json", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"ConfigurationSpace\": {\"TuningParameters\": [{\"Name\": \"block_size_x\", "
               "\"Type\": \"int\", \"Values\": \"[32, 64, 2000]\", \"Default\": 32}], "
               "\"Conditions\": []}%s%s}",
            kernel_spec ? ", \"KernelSpecification\": " : "", kernel_spec ? kernel_spec : "");
    fclose(f);
    cutune_space *s;
    int st = cutune_space_load_t1(&s, path);
    if (st)
        return st;
    st = cutune_kernel_load_t1(path, s, k);
    if (!st) {
        uint32_t c[1] = {1};
        unsigned g[3], b[3];
        size_t smem;
        CHECK_INT(cutune_kernel_geometry(*k, c, g, b, &smem), CUTUNE_OK);
        c[0] = 2; /* 2000 threads */
        CHECK_INT(cutune_kernel_geometry(*k, c, g, b, &smem), CUTUNE_ERANGE);
        cutune_kernel_free(*k);
    }
    cutune_space_free(s);
    return st;
}

#define BAD(spec, status, text)                                                           \
    do {                                                                                  \
        cutune_kernel *k_ = NULL;                                                         \
        CHECK_INT(load(spec, &k_), status);                                               \
        CHECK_HAS(cutune_last_error(), text);                                             \
    } while (0)

static void bad_specs(void)
{
    cutune_kernel *k;
    CHECK_INT(load("{\"KernelName\": \"k\", \"ProblemSize\": [1000], \"SharedMemory\": "
                   "\"block_size_x * 4\", \"Arguments\": [{\"Name\": \"n\", \"Type\": \"int\", "
                   "\"MemoryType\": \"Scalar\", \"FillValue\": 1000}]}",
                   &k),
              CUTUNE_OK);
    BAD(NULL, CUTUNE_EINVAL, "no KernelSpecification");
    BAD("{\"ProblemSize\": [10]}", CUTUNE_EINVAL, "KernelName is missing");
    BAD("{\"KernelName\": \"k\", \"ProblemSize\": [0]}", CUTUNE_EINVAL, "ProblemSize[0]");
    /* (a string is an expression of the parameters, as Kernel Tuner's problem_size: test_t1) */
    BAD("{\"KernelName\": \"k\", \"ProblemSize\": \"big\"}", CUTUNE_ENAME,
        "KernelSpecification.ProblemSize: \"big\" names 'big', which is no tuning parameter");
    BAD("{\"KernelName\": \"k\", \"CompilerOptions\": \"-O3\"}", CUTUNE_EINVAL,
        "CompilerOptions must be a list");
    BAD("{\"KernelName\": \"k\", \"ProblemSizeDefines\": \"n\"}", CUTUNE_EINVAL,
        "ProblemSizeDefines must be a list");
    BAD("{\"KernelName\": \"k\", \"ProblemSizeDefines\": [\"n\", \"m\", \"k\", \"l\"]}",
        CUTUNE_EINVAL, "up to 3 macro names");
    BAD("{\"KernelName\": \"k\", \"ProblemSizeDefines\": [\"n=3 -DX\"]}", CUTUNE_EINVAL,
        "ProblemSizeDefines[0] is not a macro name");
    BAD("{\"KernelName\": \"k\", \"ProblemSizeDefines\": [\"9n\"]}", CUTUNE_EINVAL,
        "not a macro name");
    BAD("{\"KernelName\": \"k\", \"GridDivX\": \"block_size_x\"}", CUTUNE_EINVAL,
        "GridDivX must be a list");
    BAD("{\"KernelName\": \"k\", \"LocalSize\": {\"X\": \"block_size_x *\"}}", CUTUNE_EPARSE,
        "LocalSize.X");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"a\", \"Type\": \"quaternion\", "
        "\"Size\": \"10\"}]}",
        CUTUNE_EINVAL, "Type 'quaternion'");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Type\": \"float\", \"Size\": \"10\"}]}",
        CUTUNE_EINVAL, "has no Name");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\"}]}",
        CUTUNE_EINVAL, "(a) has no Size");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", "
        "\"Size\": \"10 - 20\"}]}",
        CUTUNE_ERANGE, "negative");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", "
        "\"Size\": \"2.5\"}]}",
        CUTUNE_ETYPE, "not a whole number");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", "
        "\"Size\": \"0\"}]}",
        CUTUNE_ERANGE, "0 elements");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", "
        "\"Size\": \"2**50\"}]}",
        CUTUNE_ERANGE, "elements");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", "
        "\"Size\": \"nope * 2\"}]}",
        CUTUNE_ENAME, "nope");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", "
        "\"Size\": \"10\", \"FillType\": \"Psychic\"}]}",
        CUTUNE_EINVAL, "FillType 'Psychic'");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", "
        "\"Size\": \"10\", \"FillType\": \"File\"}]}",
        CUTUNE_EINVAL, "needs a Path");
    BAD("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", "
        "\"Size\": \"10\", \"MemoryType\": \"Texture\"}]}",
        CUTUNE_EINVAL, "MemoryType 'Texture'");
    BAD("{\"KernelName\": \"k\", \"Arguments\": 7}", CUTUNE_EINVAL, "Arguments must be a list");
}

/* Another problem size than the spec's: buffers and the grid follow it, and the size
 * reaches the macros the spec names. */
static void other_sizes(void)
{
    cutune_space *s;
    cutune_kernel *k = NULL;
    CHECK_INT(cutune_space_load_t1(&s, CONV), CUTUNE_OK);
    CHECK_INT(cutune_kernel_load_t1_sized(CONV, s, (int64_t[3]){2048, 1024, 0}, &k), CUTUNE_OK);
    if (k) {
        int64_t problem[3];
        CHECK_INT(cutune_kernel_problem(k, problem), 2);
        CHECK(problem[0] == 2048 && problem[1] == 1024 && problem[2] == 1);
        CHECK_INT(cutune_kernel_arg_at(k, 0)->count, 2048 * 1024);
        CHECK_INT(cutune_kernel_arg_at(k, 1)->count, (2048 + 14) * (1024 + 14));
        CHECK(strcmp(cutune_kernel_size_define(k, 0), "image_width") == 0 &&
              strcmp(cutune_kernel_size_define(k, 1), "image_height") == 0 &&
              !cutune_kernel_size_define(k, 2) && !cutune_kernel_size_define(k, 3));
        uint32_t c[10] = {0};
        unsigned g[3], b[3];
        size_t smem;
        CHECK_INT(cutune_space_get_default(s, c), 1);
        CHECK_INT(cutune_kernel_geometry_at(k, c, (int64_t[3]){512, 256, 0}, g, b, &smem),
                  CUTUNE_OK);
        CHECK(g[0] == 32 && g[1] == 16 && g[2] == 1 && b[0] == 16 && b[1] == 16);
        CHECK_INT(cutune_kernel_geometry_at(k, c, (int64_t[3]){-5, 0, 0}, g, b, &smem),
                  CUTUNE_OK);
        CHECK(g[0] == 1 && g[1] == 1);
        cutune_kernel_free(k);
    }
    CHECK_INT(cutune_kernel_load_t1_sized(CONV, s, (int64_t[3]){64, 64, 64}, &k), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(),
              "its ProblemSize has 2 dimensions, the problem size given has 3");
    CHECK_INT(cutune_kernel_load_t1_sized(CONV, s, (int64_t[3]){-1, 64, 1}, &k), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "out of range");
    cutune_space_free(s);
}

/* cutune's SGEMM: block NDIMC x MDIMC, grid N / NWG by M / MWG, K in the defines only. */
static void sgemm(void)
{
    const char *spec = CUTUNE_SOURCE_DIR "/kernels/sgemm.json";
    cutune_space *s;
    cutune_kernel *k = NULL;
    OPEN_SPEC(spec, s, k);
    uint64_t count;
    CHECK_INT(cutune_space_count(s, &count), CUTUNE_OK);
    CHECK_INT(count, 58217);
    if (k) {
        uint32_t c[13];
        unsigned g[3], b[3];
        size_t smem;
        CHECK_INT(cutune_space_get_default(s, c), 1); /* the plain kernel, 16 x 16 */
        CHECK_INT(cutune_kernel_geometry(k, c, g, b, &smem), CUTUNE_OK);
        CHECK(g[0] == 256 && g[1] == 256 && g[2] == 1 && b[0] == 16 && b[1] == 16);
        CHECK_INT(cutune_space_parse_key(s, "1,128,128,16,8,32,4,4,0,1,1,0,1", c), CUTUNE_OK);
        CHECK_INT(cutune_space_is_valid(s, c), 1);
        CHECK_INT(cutune_kernel_geometry_at(k, c, (int64_t[3]){1001, 999, 1003}, g, b, &smem),
                  CUTUNE_OK);
        CHECK(g[0] == 8 && g[1] == 8 && g[2] == 1 && b[0] == 32 && b[1] == 8);
        CHECK(strcmp(cutune_kernel_size_define(k, 2), "SIZE_K") == 0);
        CHECK_INT(cutune_kernel_arg_at(k, 0)->count, 4096 * 4096);
        CHECK(cutune_kernel_arg_at(k, 3)->scalar && cutune_kernel_arg_at(k, 3)->value == 1.0);
        cutune_kernel_free(k);
    }
    cutune_space_free(s);
}

/* The oscillators: STEPS steps a launch from ProblemSize[1], a cooperative launch (for the
 * grid barrier) only with more than one, C's rows in shared memory with CSMEM. */
static void oscillators(void)
{
    const char *spec = CUTUNE_SOURCE_DIR "/kernels/oscillators.json";
    cutune_space *s;
    cutune_kernel *k = NULL;
    OPEN_SPEC(spec, s, k);
    if (k) {
        uint32_t c[CUTUNE_MAX_PARAMS];
        unsigned g[3], b[3];
        size_t smem;
        int coop = -1;
        CHECK_INT(cutune_space_get_default(s, c), 1);
        CHECK_INT(cutune_kernel_geometry(k, c, g, b, &smem), CUTUNE_OK);
        CHECK(g[0] == 4 && g[1] == 1 && b[0] == 1 && b[1] == 256 && smem == 0);
        CHECK_INT(cutune_kernel_cooperative_at(k, c, (int64_t[3]){1024, 1, 1}, &coop),
                  CUTUNE_OK);
        CHECK_INT(coop, 0);
        CHECK_INT(cutune_space_parse_key(s, "32,8,1,1,2048,1,4,1,0", c), CUTUNE_OK);
        CHECK_INT(cutune_kernel_geometry_at(k, c, (int64_t[3]){1024, 100, 1}, g, b, &smem),
                  CUTUNE_OK);
        CHECK(g[0] == 128 && g[1] == 1 && b[0] == 32 && b[1] == 8 && smem == 8 * 1024 * 8);
        CHECK_INT(cutune_kernel_cooperative_at(k, c, (int64_t[3]){1024, 100, 1}, &coop),
                  CUTUNE_OK);
        CHECK_INT(coop, 1);
        CHECK(strcmp(cutune_kernel_size_define(k, 1), "STEPS") == 0);
        CHECK_INT(cutune_kernel_cooperative_at(k, NULL, (int64_t[3]){1, 1, 1}, &coop),
                  CUTUNE_EINVAL);
        /* its arguments on the GPU, where there is one */
        cutune_args *args = (cutune_args *)1;
        int st = cutune_args_new(&args, k);
        if (st == CUTUNE_OK) {
            size_t bytes;
            CHECK(cutune_args_params(args)[8] == cutune_args_host(args, 8, &bytes)); /* K */
            const double *K = cutune_args_host(args, 8, NULL);
            CHECK(bytes == sizeof(double) && *K == 0.001);
            CHECK(cutune_args_host(args, 99, &bytes) == NULL);
        } else {
            CHECK(st == CUTUNE_ENOTSUP || st == CUTUNE_ECUDA || st == CUTUNE_ENODEVICE);
            CHECK(args == NULL && cutune_last_error()[0]);
        }
        cutune_args_free(args);
        CHECK_INT(cutune_args_new(&args, NULL), CUTUNE_EINVAL);
        CHECK(cutune_args_params(NULL) == NULL);
        cutune_kernel_free(k);
    }
    cutune_space_free(s);
}

/* Cooperative: true, false, an expression; anything else is an error that names it. */
static void cooperative(void)
{
    cutune_kernel *k = NULL;
    CHECK_INT(load("{\"KernelName\": \"k\", \"Cooperative\": true}", &k), CUTUNE_OK);
    CHECK_INT(load("{\"KernelName\": \"k\", \"Cooperative\": false}", &k), CUTUNE_OK);
    CHECK_INT(load("{\"KernelName\": \"k\", \"Cooperative\": \"block_size_x > 32\"}", &k),
              CUTUNE_OK);
    BAD("{\"KernelName\": \"k\", \"Cooperative\": [1]}", CUTUNE_EINVAL,
        "KernelSpecification.Cooperative must be an expression");
    BAD("{\"KernelName\": \"k\", \"Cooperative\": \"block_size_x >\"}", CUTUNE_EPARSE,
        "KernelSpecification.Cooperative");
    /* what each says, for a configuration */
    cutune_space *s;
    const char *spec = CUTUNE_SOURCE_DIR "/kernels/active_inference.json";
    OPEN_SPEC(spec, s, k);
    if (k) {
        uint32_t c[CUTUNE_MAX_PARAMS];
        int coop = -1;
        CHECK_INT(cutune_space_get_default(s, c), 1);
        CHECK_INT(cutune_kernel_cooperative_at(k, c, (int64_t[3]){900, 5, 1}, &coop),
                  CUTUNE_OK);
        CHECK_INT(coop, 0);
        CHECK_INT(cutune_kernel_cooperative_at(k, c, (int64_t[3]){900, 5, 100}, &coop),
                  CUTUNE_OK);
        CHECK_INT(coop, 1);
        unsigned g[3], b[3];
        size_t smem;
        CHECK_INT(cutune_kernel_geometry_at(k, c, (int64_t[3]){900, 5, 100}, g, b, &smem),
                  CUTUNE_OK);
        CHECK(g[0] == 8 && g[1] == 5 && g[2] == 1); /* all the sub-steps in one grid */
        cutune_kernel_free(k);
    }
    cutune_space_free(s);
}

/* The hash that keys profiles: the source's alone without defines in CompilerOptions; with
 * them (copy, scale and triad: one source, -DOP=0/1/2), one per spec. */
static void source_hashes(void)
{
    static const char text[] = "extern \"C\" __global__ void k() {}";
    char plain[33], h[3][33];
    cutune_source_hash(text, sizeof text - 1, plain);
    static const char *const names[] = {"copy", "scale", "triad"};
    for (int i = 0; i < 3; i++) {
        char spec[512];
        snprintf(spec, sizeof spec, "%s/kernels/%s.json", CUTUNE_SOURCE_DIR, names[i]);
        cutune_space *s;
        cutune_kernel *k = NULL;
        OPEN_SPEC(spec, s, k);
        CHECK_INT(cutune_kernel_source_hash(k, text, sizeof text - 1, h[i]), CUTUNE_OK);
        CHECK(strlen(h[i]) == 32 && strcmp(h[i], plain) != 0);
        CHECK_INT(cutune_kernel_source_hash(k, NULL, 1, h[i]), CUTUNE_EINVAL);
        cutune_kernel_free(k);
        cutune_space_free(s);
    }
    CHECK(strcmp(h[0], h[1]) != 0 && strcmp(h[1], h[2]) != 0 && strcmp(h[0], h[2]) != 0);
    cutune_space *s;
    cutune_kernel *k = NULL;
    OPEN_SPEC(CONV, s, k); /* -std=c++17 only */
    CHECK_INT(cutune_kernel_source_hash(k, text, sizeof text - 1, h[0]), CUTUNE_OK);
    CHECK(strcmp(h[0], plain) == 0);
    CHECK_INT(cutune_kernel_source_hash(NULL, text, 1, h[0]), CUTUNE_EINVAL);
    cutune_kernel_free(k);
    cutune_space_free(s);
}

/* The streaming and reduction specs load, with their arguments. */
static void stream_and_reduce(void)
{
    static const char *const names[] = {"copy", "scale", "triad", "sum", "max", "dot"};
    for (int i = 0; i < 6; i++) {
        char spec[512];
        snprintf(spec, sizeof spec, "%s/kernels/%s.json", CUTUNE_SOURCE_DIR, names[i]);
        cutune_space *s;
        cutune_kernel *k = NULL;
        OPEN_SPEC(spec, s, k);
        if (k) {
            uint32_t c[CUTUNE_MAX_PARAMS];
            unsigned g[3], b[3];
            size_t smem;
            CHECK_INT(cutune_space_get_default(s, c), 1); /* one-shot: N / 256 blocks */
            CHECK_INT(cutune_kernel_geometry(k, c, g, b, &smem), CUTUNE_OK);
            CHECK(g[0] == (1u << 28) / 256 && b[0] == 256);
            CHECK_INT(cutune_kernel_arg_at(k, 0)->count, 1 << 28);
            cutune_kernel_free(k);
        }
        cutune_space_free(s);
    }
}

static int setup(void) { return make_test_dir(dir); }

static void teardown(void) { remove_test_dir(dir); }

TEST_LIST(TEST_CASE(convolution) TEST_CASE(bad_specs) TEST_CASE(oscillators)
          TEST_CASE(cooperative) TEST_CASE(source_hashes) TEST_CASE(other_sizes) TEST_CASE(sgemm)
          TEST_CASE(stream_and_reduce));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
