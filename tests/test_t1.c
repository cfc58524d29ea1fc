/* test_t1.c — T1 files as the community writes them (issue 25, item 3): benchmark_hub's four
 * specs with Kernel Tuner's counts, Defaults that are warnings and the rule that picks the
 * default configuration, ProblemSize expressions, Language, Search and Budget, strategy names
 * of Kernel Tuner, and the fields cutune ignores. */
#include "check.h"
#include "cutune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HUB CUTUNE_SOURCE_DIR "/tests/data/benchmark_hub/"

static char dir[] = "/tmp/cutune-t1-XXXXXX";

/* Writes `text` to DIR/name and returns the path (static buffer, one of 4 in turn). */
static const char *write_spec(const char *name, const char *text)
{
    static char paths[4][256];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, 256, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) == EOF) {
        fprintf(stderr, "cannot write %s\n", path);
        check_failures++;
    }
    if (f)
        fclose(f);
    return path;
}

/* The space of a spec in memory, or NULL (the failure counted). */
static cutune_space *space_of(const char *json)
{
    cutune_space *s = NULL;
    int st = cutune_space_load_t1_buffer(&s, json, strlen(json), "t1.json");
    if (st) {
        fprintf(stderr, "t1.json: %s\n", cutune_last_error());
        check_failures++;
    }
    return s;
}

/* The default configuration's key, or "none". */
static const char *default_key(const cutune_space *s, char *buf, size_t size)
{
    uint32_t c[256];
    if (cutune_space_get_default(s, c) != 1)
        snprintf(buf, size, "none");
    else if (cutune_space_config_key(s, c, buf, size))
        snprintf(buf, size, "?");
    return buf;
}

/* Every warning joined by " | " (for CHECK_HAS). */
static const char *warnings(const cutune_space *s)
{
    static char all[8192];
    all[0] = '\0';
    for (size_t i = 0; i < cutune_space_num_warnings(s); i++)
        snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? " | " : "",
                 cutune_space_warning(s, i));
    return all;
}

/* ------------------------------------------------------------- benchmark_hub's specs ---- */

static void benchmark_hub(void)
{
    static const struct {
        const char *spec;
        uint64_t valid;
        const char *dflt;
        size_t warnings;
        const char *warning;
    } hub[] = {
        {"convolution_milo.json", 4362, "16,16,1,1,0,1,1,1,15,15", 0, ""},
        /* its Defaults have tile strides of 1 where tiles of 1 allow only 0 */
        {"dedispersion_milo.json", 11130, "16,32,1,1,1,0,0,0", 1,
         "dedispersion_milo.json: the Defaults (16,32,1,1,1,1,1,0) break "
         "ConfigurationSpace.Conditions[1] (\"tile_size_x > 1 or tile_stride_x == 0\" with "
         "tile_size_x=1, tile_stride_x=1); ConfigurationSpace.Conditions[2]"},
        /* "Default": [0] is 0 */
        {"gemm_milo.json", 116928, "0,64,64,32,32,32,32,32,2,2,2,1,1,1,1,1,32", 0, ""},
        /* max_tfactor's Default 1 is not among [10]; temporal_tiling_factor 1 with
         * loop_unroll_factor_t 2 breaks a condition: the nearest valid one unrolls by 1 */
        {"hotspot_milo.json", 82984, "4096,4096,256,1,1,1,1,10,1,1", 2,
         "hotspot_milo.json: ConfigurationSpace.TuningParameters[7] (max_tfactor).Default: 1 "
         "is not one of the values (10)"},
    };
    for (size_t i = 0; i < sizeof hub / sizeof *hub; i++) {
        char path[512], key[512];
        snprintf(path, sizeof path, HUB "%s", hub[i].spec);
        cutune_space *s = NULL;
        CHECK_INT(cutune_space_load_t1(&s, path), CUTUNE_OK);
        if (!s) {
            fprintf(stderr, "%s: %s\n", hub[i].spec, cutune_last_error());
            continue;
        }
        uint64_t n = 0;
        CHECK_INT(cutune_space_count(s, &n), CUTUNE_OK);
        CHECK_INT(n, hub[i].valid);
        CHECK_HAS(default_key(s, key, sizeof key), hub[i].dflt);
        CHECK_INT(strlen(key), strlen(hub[i].dflt));
        CHECK_INT(cutune_space_num_warnings(s), hub[i].warnings);
        CHECK_HAS(warnings(s), hub[i].warning);
        uint32_t c[256];
        if (cutune_space_get_default(s, c) == 1)
            CHECK_INT(cutune_space_is_valid(s, c), 1);
        cutune_space_free(s);
    }
    /* hotspot's second warning: which condition, with which values, and what was chosen */
    cutune_space *s = NULL;
    CHECK_INT(cutune_space_load_t1(&s, HUB "hotspot_milo.json"), CUTUNE_OK);
    CHECK_HAS(cutune_space_warning(s, 1),
              "hotspot_milo.json: the Defaults (4096,4096,256,1,1,1,1,10,2,1; the nearest's "
              "value for max_tfactor) break ConfigurationSpace.Conditions[1] "
              "(\"temporal_tiling_factor % loop_unroll_factor_t == 0\" with "
              "temporal_tiling_factor=1, loop_unroll_factor_t=2): the default configuration is "
              "the nearest valid one, 4096,4096,256,1,1,1,1,10,1,1 (loop_unroll_factor_t 1 "
              "instead of 2)");
    CHECK(cutune_space_warning(s, 2) == NULL);
    cutune_space_free(s);
    CHECK_INT(cutune_space_num_warnings(NULL), 0);
    CHECK(cutune_space_warning(NULL, 0) == NULL);
}

/* ------------------------------------------------------------------------ defaults ---- */

#define SPACE(params, conds)                                                                \
    "{\"ConfigurationSpace\": {\"TuningParameters\": [" params "], \"Conditions\": [" conds \
    "]}}"
#define P(name, vals, dflt) "{\"Name\": \"" name "\", \"Type\": \"int\", \"Values\": " vals dflt "}"

static void defaults(void)
{
    char key[512];
    cutune_space *s;
    /* no Default at all: no default configuration, and nothing to warn of */
    s = space_of(SPACE(P("a", "[1, 2]", "") "," P("b", "[3, 4]", ""), ""));
    CHECK_HAS(default_key(s, key, sizeof key), "none");
    CHECK_INT(cutune_space_num_warnings(s), 0);
    cutune_space_free(s);
    /* every Default given and valid: those, quietly */
    s = space_of(SPACE(P("a", "[1, 2]", ", \"Default\": 2") "," P("b", "[3, 4]", ", \"Default\": 3"),
                       ""));
    CHECK_HAS(default_key(s, key, sizeof key), "2,3");
    CHECK_INT(cutune_space_num_warnings(s), 0);
    cutune_space_free(s);
    /* a one-element list is its element; a string Default of an int parameter, an expression */
    s = space_of(SPACE(P("a", "[1, 2]", ", \"Default\": [2]") "," P("b", "[3, 32]", ", \"Default\": \"2**5\""),
                       ""));
    CHECK_HAS(default_key(s, key, sizeof key), "2,32");
    CHECK_INT(cutune_space_num_warnings(s), 0);
    cutune_space_free(s);
    /* a list of 2 values: a warning, and that parameter is free (lowest id among the nearest) */
    s = space_of(SPACE(P("a", "[1, 2]", ", \"Default\": [1, 2]") "," P("b", "[3, 4]", ", \"Default\": 4"),
                       ""));
    CHECK_HAS(default_key(s, key, sizeof key), "1,4");
    CHECK_HAS(warnings(s), "t1.json: ConfigurationSpace.TuningParameters[0] (a).Default: [1, 2] "
                           "is a list of 2 values, not one value: ignored");
    CHECK_HAS(warnings(s), "the default configuration is 1,4, the first valid one with every "
                           "usable Default");
    cutune_space_free(s);
    /* a Default that is not a value: the warning names file, path and value */
    s = space_of(SPACE(P("a", "[1, 2]", ", \"Default\": 3") "," P("b", "[3, 4]", ", \"Default\": 4"),
                       ""));
    CHECK_HAS(default_key(s, key, sizeof key), "1,4");
    CHECK_HAS(warnings(s), "t1.json: ConfigurationSpace.TuningParameters[0] (a).Default: 3 is "
                           "not one of the values (1, 2)");
    cutune_space_free(s);
    /* not a value at all, and a string expression that does not parse: warnings too */
    s = space_of(SPACE(P("a", "[1, 2]", ", \"Default\": {\"x\": 1}") "," P("b", "[3, 4]", ", \"Default\": \"4 +\""),
                       ""));
    CHECK_HAS(warnings(s), "(a).Default: {\"x\": 1} is not a value of 'a': ignored");
    CHECK_HAS(warnings(s), "(b).Default: \"4 +\" is not a value of 'b': ignored");
    CHECK_HAS(default_key(s, key, sizeof key), "1,3");
    cutune_space_free(s);
    /* Defaults that break a condition: the nearest valid configuration, fewest changes, ties
     * to the lowest id; the warning names the condition and the values */
    s = space_of(SPACE(P("a", "[1, 2, 4]", ", \"Default\": 4") "," P("b", "[1, 2, 4]", ", \"Default\": 4"),
                       "{\"Expression\": \"a * b <= 8\"}"));
    CHECK_HAS(default_key(s, key, sizeof key), "2,4"); /* 2,4 and 4,2 differ in one: lower id */
    CHECK_HAS(warnings(s), "t1.json: the Defaults (4,4) break ConfigurationSpace.Conditions[0] "
                           "(\"a * b <= 8\" with a=4, b=4): the default configuration is the "
                           "nearest valid one, 2,4 (a 2 instead of 4)");
    cutune_space_free(s);
    /* some parameters without a Default: those are free, and a warning names them */
    s = space_of(SPACE(P("a", "[1, 2, 4]", "") "," P("b", "[1, 2, 4]", ", \"Default\": 4"),
                       "{\"Expression\": \"a < b\"}"));
    CHECK_HAS(default_key(s, key, sizeof key), "1,4");
    CHECK_HAS(warnings(s), "1 of 2 parameters have no Default (a)");
    cutune_space_free(s);
    /* no valid configuration: no default, said */
    s = space_of(SPACE(P("a", "[1, 2]", ", \"Default\": 1"), "{\"Expression\": \"a > 5\"}"));
    CHECK_HAS(default_key(s, key, sizeof key), "none");
    CHECK_HAS(warnings(s), "no configuration satisfies every condition: there is no default "
                           "configuration");
    cutune_space_free(s);
    /* a hostile space, 3^30 configurations and (almost) none valid, that propagation cannot
     * prune: the search for the nearest is bounded, and says so */
    char hostile[8192] = "{\"ConfigurationSpace\": {\"TuningParameters\": [";
    for (int i = 0; i < 30; i++)
        snprintf(hostile + strlen(hostile), sizeof hostile - strlen(hostile),
                 "%s{\"Name\": \"p%d\", \"Values\": [1, 2, 3], \"Default\": 1}", i ? "," : "", i);
    strcat(hostile, "], \"Conditions\": [{\"Expression\": \"(p0");
    for (int i = 1; i < 30; i++)
        snprintf(hostile + strlen(hostile), sizeof hostile - strlen(hostile), " * p%d", i);
    strcat(hostile, ") % 10007 == 10006\"}]}}");
    s = space_of(hostile);
    CHECK_HAS(default_key(s, key, sizeof key), "none");
    CHECK_HAS(warnings(s), "t1.json: ConfigurationSpace: no valid configuration was found within "
                           "1048576 steps of enumeration: there is no default configuration");
    cutune_space_free(s);
    /* a Default of null is no Default */
    s = space_of(SPACE(P("a", "[1, 2]", ", \"Default\": null"), ""));
    CHECK_HAS(default_key(s, key, sizeof key), "none");
    CHECK_INT(cutune_space_num_warnings(s), 0);
    cutune_space_free(s);
    /* a space built by hand has no warnings */
    CHECK_INT(cutune_space_new(&s), CUTUNE_OK);
    CHECK_INT(cutune_space_num_warnings(s), 0);
    CHECK(cutune_space_warning(s, 0) == NULL);
    cutune_space_free(s);
}

/* ------------------------------------------------------------------------ Language ---- */

/* A space (block_size_x 32 or 64, num_blocks 64, 128 or 256) with this KernelSpecification;
 * the kernel, or NULL with the status in *st. The space goes to *space. */
static cutune_kernel *kernel_of(const char *kernel_spec, cutune_space **space, int *st)
{
    char text[8192];
    snprintf(text, sizeof text,
             "{\"ConfigurationSpace\": {\"TuningParameters\": ["
             "{\"Name\": \"block_size_x\", \"Type\": \"int\", \"Values\": \"[32, 64]\"},"
             "{\"Name\": \"num_blocks\", \"Type\": \"int\", \"Values\": \"[64, 128, 256]\"}]},"
             " \"KernelSpecification\": %s}",
             kernel_spec);
    const char *path = write_spec("kernel.json", text);
    cutune_kernel *k = NULL;
    *space = NULL;
    *st = cutune_space_load_t1(space, path);
    if (!*st)
        *st = cutune_kernel_load_t1(path, *space, &k);
    return k;
}

/* A KernelSpecification (JSON text) that must be refused with `status`, saying `text`. */
#define CHECK_REFUSED(kernel_spec, status, text)                                       \
    do {                                                                                \
        cutune_space *s_;                                                               \
        int st_;                                                                        \
        cutune_kernel_free(kernel_of(kernel_spec, &s_, &st_));                         \
        CHECK_INT(st_, status);                                                         \
        CHECK_HAS(cutune_last_error(), text);                                           \
        cutune_space_free(s_);                                                          \
    } while (0)

static void language(void)
{
    /* gemm_milo is OpenCL: its space loads, its kernel is refused, saying why */
    cutune_space *s = NULL;
    cutune_kernel *k = (cutune_kernel *)1;
    CHECK_INT(cutune_space_load_t1(&s, HUB "gemm_milo.json"), CUTUNE_OK);
    CHECK_INT(cutune_kernel_load_t1(HUB "gemm_milo.json", s, &k), CUTUNE_ENOTSUP);
    CHECK(k == NULL);
    CHECK_HAS(cutune_last_error(), "gemm_milo.json: KernelSpecification.Language is \"OpenCL\": "
                                   "cutune compiles CUDA only");
    cutune_space_free(s);
    /* the three CUDA ones load as they are */
    static const char *const cuda[] = {"convolution_milo.json", "dedispersion_milo.json",
                                       "hotspot_milo.json"};
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, HUB "%s", cuda[i]);
        s = NULL;
        k = NULL;
        CHECK_INT(cutune_space_load_t1(&s, path), CUTUNE_OK);
        CHECK_INT(cutune_kernel_load_t1(path, s, &k), CUTUNE_OK);
        if (!k)
            fprintf(stderr, "%s: %s\n", cuda[i], cutune_last_error());
        cutune_kernel_free(k);
        cutune_space_free(s);
    }
    int st;
    k = kernel_of("{\"KernelName\": \"k\", \"Language\": \"cuda\", \"ProblemSize\": [64]}", &s, &st);
    CHECK_INT(st, CUTUNE_OK); /* case does not matter; absent is CUDA too */
    cutune_kernel_free(k);
    cutune_space_free(s);
    CHECK_REFUSED("{\"KernelName\": \"k\", \"Language\": \"HIP\"}", CUTUNE_ENOTSUP,
                  "KernelSpecification.Language is \"HIP\"");
    CHECK_REFUSED("{\"KernelName\": \"k\", \"Language\": 3}", CUTUNE_EINVAL,
                  "KernelSpecification.Language must be a string");
}

/* -------------------------------------------------------------------- ProblemSize ---- */

/* configuration (block_size_x, num_blocks) by value index */
#define CFG(b, n) ((uint32_t[]){(b), (n)})

static void problem_sizes(void)
{
    cutune_space *s;
    int st;
    unsigned g[3], b[3];
    size_t smem;
    int64_t problem[3];
    /* Kernel Tuner's reduction: problem_size = "num_blocks", grid_div_x = [] (the grid is the
     * number of blocks); buffers are sized by the largest value */
    cutune_kernel *k = kernel_of(
        "{\"KernelName\": \"k\", \"ProblemSize\": \"num_blocks\", \"GridDivX\": [],"
        " \"SharedMemory\": \"ProblemSize[0] * 4\", \"Cooperative\": \"ProblemSize[0] > 100\","
        " \"Arguments\": [{\"Name\": \"partial\", \"Type\": \"float\", \"Size\": \"ProblemSize[0]\"},"
        " {\"Name\": \"n\", \"Type\": \"int\", \"MemoryType\": \"Scalar\", \"FillValue\": \"ProblemSize[0] // 2\"},"
        " {\"Name\": \"x\", \"Type\": \"float\", \"MemoryType\": \"Scalar\", \"FillValue\": \"1 / 4\"}]}",
        &s, &st);
    CHECK_INT(st, CUTUNE_OK);
    if (k) {
        CHECK_INT(cutune_kernel_problem(k, problem), 1);
        CHECK_INT(problem[0], 256);
        CHECK_INT(cutune_kernel_arg_at(k, 0)->count, 256);
        CHECK(cutune_kernel_arg_at(k, 1)->value == 128);
        CHECK(cutune_kernel_arg_at(k, 2)->value == 0.25);
        static const struct { uint32_t b, n; unsigned grid; size_t smem; int coop; } cases[] = {
            {0, 0, 64, 256, 0}, {1, 1, 128, 512, 1}, {0, 2, 256, 1024, 1}};
        for (size_t i = 0; i < 3; i++) {
            CHECK_INT(cutune_kernel_geometry(k, CFG(cases[i].b, cases[i].n), g, b, &smem),
                      CUTUNE_OK);
            CHECK_INT(g[0], cases[i].grid);
            CHECK_INT(b[0], cases[i].b ? 64 : 32);
            CHECK_INT(smem, cases[i].smem);
            /* a size given for that dimension does not replace the configuration's */
            CHECK_INT(cutune_kernel_geometry_at(k, CFG(cases[i].b, cases[i].n),
                                                (int64_t[3]){9999, 1, 1}, g, b, &smem),
                      CUTUNE_OK);
            CHECK_INT(g[0], cases[i].grid);
            int coop = -1;
            CHECK_INT(cutune_kernel_cooperative_at(k, CFG(cases[i].b, cases[i].n), problem,
                                                   &coop),
                      CUTUNE_OK);
            CHECK_INT(coop, cases[i].coop);
        }
        cutune_kernel_free(k);
    }
    cutune_space_free(s);
    /* default grid divisor (the block) over a per-configuration size, beside a constant
     * expression */
    k = kernel_of("{\"KernelName\": \"k\", \"ProblemSize\": [\"num_blocks * 32\", \"4096*2\"],"
                  " \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\","
                  " \"Size\": \"ProblemSize[0] * ProblemSize[1]\"}]}", &s, &st);
    CHECK_INT(st, CUTUNE_OK);
    if (k) {
        CHECK_INT(cutune_kernel_problem(k, problem), 2);
        CHECK(problem[0] == 256 * 32 && problem[1] == 8192);
        CHECK_INT(cutune_kernel_arg_at(k, 0)->count, 256 * 32 * 8192);
        CHECK_INT(cutune_kernel_geometry(k, CFG(1, 0), g, b, &smem), CUTUNE_OK);
        CHECK(g[0] == 64 * 32 / 64 && g[1] == 8192);
        cutune_kernel_free(k);
    }
    /* the constant dimension may be replaced; the per-configuration one may not */
    const char *path = write_spec("sized.json",
        "{\"ConfigurationSpace\": {\"TuningParameters\": [{\"Name\": \"num_blocks\", "
        "\"Values\": [64, 128]}]}, \"KernelSpecification\": {\"KernelName\": \"k\", "
        "\"ProblemSize\": [\"num_blocks\", 100]}}");
    cutune_space_free(s);
    s = NULL;
    CHECK_INT(cutune_space_load_t1(&s, path), CUTUNE_OK);
    k = NULL;
    CHECK_INT(cutune_kernel_load_t1_sized(path, s, (int64_t[3]){0, 50, 0}, &k), CUTUNE_OK);
    if (k) {
        CHECK_INT(cutune_kernel_problem(k, problem), 2);
        CHECK(problem[0] == 128 && problem[1] == 50);
        cutune_kernel_free(k);
    }
    CHECK_INT(cutune_kernel_load_t1_sized(path, s, (int64_t[3]){4096, 50, 0}, &k),
              CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "sized.json: KernelSpecification.ProblemSize[0] names tuning "
                                   "parameters (each configuration has its own): the problem "
                                   "size given (4096) cannot replace it");
    cutune_space_free(s);

    /* what is wrong says where */
    static const struct {
        const char *spec;
        int status;
        const char *text;
    } bad[] = {
        {"\"4096 *\"", CUTUNE_EPARSE, "kernel.json: KernelSpecification.ProblemSize: column 7"},
        {"[\"(num_blocks\"]", CUTUNE_EPARSE, "KernelSpecification.ProblemSize[0]: column"},
        {"[\"nope + 1\"]", CUTUNE_ENAME,
         "KernelSpecification.ProblemSize[0]: \"nope + 1\" names 'nope', which is no tuning "
         "parameter"},
        {"[\"ProblemSize[0]\"]", CUTUNE_ENAME, "(a ProblemSize cannot name itself)"},
        {"[\"num_blocks - 64\"]", CUTUNE_ERANGE,
         "KernelSpecification.ProblemSize[0] is 0 for num_blocks=64 (1 to 2^40, please)"},
        {"[\"32 - num_blocks\"]", CUTUNE_ERANGE, "ProblemSize[0] is negative (-32)"},
        {"[\"2**50\"]", CUTUNE_ERANGE, "ProblemSize[0] is 1125899906842624 (1 to 2^40"},
        {"[\"num_blocks / 3\"]", CUTUNE_ETYPE, "ProblemSize[0] is not a whole number"},
        {"[\"[num_blocks]\"]", CUTUNE_ETYPE, "ProblemSize[0] is not a whole number"},
        {"[\"1 // 0\"]", CUTUNE_EDOMAIN, "ProblemSize[0]: column"},
        {"[-5]", CUTUNE_EINVAL, "KernelSpecification.ProblemSize[0] must be a positive integer "
                                "(1 to 2^40), not -5"},
        {"[2.5]", CUTUNE_EINVAL, "ProblemSize[0] must be a positive integer or an expression"},
        {"[true]", CUTUNE_EINVAL, "ProblemSize[0] must be a positive integer or an expression"},
        {"[1, 2, 3, 4]", CUTUNE_EINVAL, "ProblemSize must be 1 to 3"},
        {"{\"X\": 4}", CUTUNE_EINVAL, "ProblemSize must be 1 to 3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char spec[512];
        snprintf(spec, sizeof spec, "{\"KernelName\": \"k\", \"ProblemSize\": %s}", bad[i].spec);
        k = kernel_of(spec, &s, &st);
        if (st != bad[i].status || !strstr(cutune_last_error(), bad[i].text)) {
            fprintf(stderr, "ProblemSize %s: status %d \"%s\", expected %d with \"%s\"\n",
                    bad[i].spec, st, cutune_last_error(), bad[i].status, bad[i].text);
            check_failures++;
        }
        CHECK(k == NULL);
        cutune_kernel_free(k);
        cutune_space_free(s);
    }
    /* a macro for a per-configuration size would be the parameter's define again */
    CHECK_REFUSED("{\"KernelName\": \"k\", \"ProblemSize\": [\"num_blocks\"], "
                  "\"ProblemSizeDefines\": [\"n\"]}",
                  CUTUNE_EINVAL, "ProblemSizeDefines[0] (n): ProblemSize[0] names tuning "
                                 "parameters");
    /* FillValue expressions */
    CHECK_REFUSED("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"n\", \"Type\": \"int\", "
                  "\"MemoryType\": \"Scalar\", \"FillValue\": \"nope\"}]}",
                  CUTUNE_ENAME, "KernelSpecification.Arguments[0] (n): FillValue: column 1: "
                                "unknown name 'nope'");
    CHECK_REFUSED("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"n\", \"Type\": \"int\", "
                  "\"MemoryType\": \"Scalar\", \"FillValue\": \"'text'\"}]}",
                  CUTUNE_ETYPE, "(n): FillValue is not a number");

    /* parameters with more than 2^20 combinations of values: refused, quickly */
    char big[4096] = "{\"ConfigurationSpace\": {\"TuningParameters\": [";
    for (int i = 0; i < 21; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big),
                 "%s{\"Name\": \"p%d\", \"Values\": [1, 2]}", i ? "," : "", i);
    strcat(big, "]}, \"KernelSpecification\": {\"KernelName\": \"k\", \"ProblemSize\": \"p0");
    for (int i = 1; i < 21; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), " + p%d", i);
    strcat(big, "\"}}");
    path = write_spec("big.json", big);
    s = NULL;
    k = NULL;
    CHECK_INT(cutune_space_load_t1(&s, path), CUTUNE_OK);
    CHECK_INT(cutune_kernel_load_t1(path, s, &k), CUTUNE_ETOOBIG);
    CHECK_HAS(cutune_last_error(), "big.json: KernelSpecification.ProblemSize: \"p0 + p1 + p2");
    CHECK_HAS(cutune_last_error(), "names parameters with more than 2^20 combinations");
    cutune_space_free(s);
    /* fewer combinations, each slow to evaluate: refused after a few seconds, not hours */
    path = write_spec("slow.json",
        "{\"ConfigurationSpace\": {\"TuningParameters\": [{\"Name\": \"a\", \"Values\": "
        "\"list(range(1, 1025))\"}, {\"Name\": \"b\", \"Values\": \"list(range(1, 1025))\"}]},"
        " \"KernelSpecification\": {\"KernelName\": \"k\", \"ProblemSize\": "
        "\"len([x for x in range(a * 100)]) + b\"}}");
    s = NULL;
    k = NULL;
    CHECK_INT(cutune_space_load_t1(&s, path), CUTUNE_OK);
    CHECK_INT(cutune_kernel_load_t1(path, s, &k), CUTUNE_ETOOBIG);
    CHECK_HAS(cutune_last_error(), "slow.json: KernelSpecification.ProblemSize: \"len([x for x "
                                   "in range(a * 100)]) + b\" takes more than 4 s to evaluate "
                                   "over the 1048576 combinations");
    cutune_space_free(s);
}

/* ---------------------------------------------------------------------- strategies ---- */

static int bowl(const uint32_t *config, void *user, double *value, const char **failure)
{
    (void)user;
    (void)failure;
    *value = 1.0 + (double)config[0] * config[0];
    return 0;
}

static void strategies(void)
{
    static const char *const same[][2] = {{"bayes_opt", "bo"}, {"random_sample", "random"},
                                          {"genetic_algorithm", "genetic"},
                                          {"simulated_annealing", "anneal"},
                                          {"brute_force", "brute"}, {"lhs", "lhs"}, {"bo", "bo"}};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        const char *name = NULL;
        CHECK_INT(cutune_strategy_lookup(same[i][0], &name), CUTUNE_OK);
        CHECK(name && strcmp(name, same[i][1]) == 0);
        CHECK(cutune_strategy_summary(same[i][0]) != NULL);
    }
    /* Kernel Tuner's others: not in cutune, with the nearest */
    static const char *const other[][2] = {
        {"pso", "strategy 'pso' is not in cutune; nearest: genetic"},
        {"diff_evo", "'diff_evo' is not in cutune; nearest: genetic"},
        {"firefly_algorithm", "'firefly_algorithm' is not in cutune; nearest: genetic"},
        {"dual_annealing", "'dual_annealing' is not in cutune; nearest: anneal"},
        {"mls", "'mls' is not in cutune; nearest: anneal"},
        {"ordered_greedy_mls", "'ordered_greedy_mls' is not in cutune; nearest: anneal"},
        {"greedy_ils", "'greedy_ils' is not in cutune; nearest: anneal"},
        {"greedy_mls", "'greedy_mls' is not in cutune; nearest: anneal"},
        {"basinhopping", "'basinhopping' is not in cutune; nearest: anneal"},
        {"minimize", "'minimize' is not in cutune; nearest: anneal"},
        {"skopt", "'skopt' is not in cutune; nearest: bo"},
        {"bayes_opt_BOTorch", "'bayes_opt_BOTorch' is not in cutune; nearest: bo"},
        {"random_smaple", "unknown strategy 'random_smaple'; nearest: random_sample (cutune's "
                          "random)"},
        {"anneall", "unknown strategy 'anneall'; nearest: anneal. cutune has bo, random, lhs, "
                    "anneal, genetic, brute"},
        {"hillclimb", "unknown strategy 'hillclimb'. cutune has"},
        {"", "unknown strategy ''"},
    };
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        const char *name = "x";
        CHECK_INT(cutune_strategy_lookup(other[i][0], &name), CUTUNE_ENOTFOUND);
        CHECK(name == NULL);
        CHECK_HAS(cutune_last_error(), other[i][1]);
        CHECK(cutune_strategy_summary(other[i][0]) == NULL);
    }
    /* the C API's searches take the aliases, and say what is nearest for the others */
    cutune_space *s;
    CHECK_INT(cutune_space_new(&s), CUTUNE_OK);
    CHECK_INT(cutune_space_add_int(s, "x", (int64_t[]){0, 1, 2, 3, 4, 5, 6, 7}, 8), CUTUNE_OK);
    cutune_search_result r;
    cutune_search_options o = {.strategy = "brute_force", .budget = 8, .seed = 1};
    if (cutune_optimize(s, &o, bowl, NULL, NULL, NULL, &r) != CUTUNE_OK) {
        fprintf(stderr, "brute_force: %s\n", cutune_last_error());
        check_failures++;
    }
    CHECK(r.best_ms == 1.0);
    o.strategy = "pso";
    CHECK_INT(cutune_optimize(s, &o, bowl, NULL, NULL, NULL, &r), CUTUNE_ENOTFOUND);
    CHECK_HAS(cutune_last_error(), "'pso' is not in cutune; nearest: genetic");
    cutune_space_free(s);
    CHECK_INT(cutune_strategy_lookup(NULL, &o.strategy), CUTUNE_EINVAL);
    CHECK_INT(cutune_strategy_lookup("bo", NULL), CUTUNE_EINVAL);
}

/* --------------------------------------------------------------- Search and Budget ---- */

/* A spec's Search and Budget (with a space so that it is a spec): its status. */
static int search_of(const char *fields, cutune_spec_search *out)
{
    char text[4096];
    snprintf(text, sizeof text, "{\"ConfigurationSpace\": {\"TuningParameters\": "
             "[{\"Name\": \"x\", \"Values\": [1, 2]}]}%s%s}", *fields ? ", " : "", fields);
    return cutune_spec_read_search(write_spec("search.json", text), out);
}

static void search_and_budget(void)
{
    cutune_spec_search ss;
    CHECK_INT(search_of("", &ss), CUTUNE_OK);
    CHECK(ss.strategy == NULL && ss.name[0] == '\0' && ss.budget == 0 &&
          ss.budget_fraction == 0 && ss.time_limit_s == 0);
    CHECK_INT(search_of("\"Search\": {\"Name\": \"bayes_opt\"}, \"Budget\": [{\"Type\": "
                        "\"ConfigurationCount\", \"BudgetValue\": 250}]", &ss), CUTUNE_OK);
    CHECK(ss.strategy && strcmp(ss.strategy, "bo") == 0);
    CHECK(strcmp(ss.name, "bayes_opt") == 0);
    CHECK_INT(ss.budget, 250);
    /* every entry applies; a value may be a constant expression */
    CHECK_INT(search_of("\"Budget\": [{\"Type\": \"TuningDuration\", \"BudgetValue\": \"2 * 60\"},"
                        " {\"Type\": \"ConfigurationFraction\", \"BudgetValue\": 0.25}]", &ss),
              CUTUNE_OK);
    CHECK(ss.time_limit_s == 120 && ss.budget_fraction == 0.25 && ss.budget == 0);
    /* Kernel Tuner's max_fevals and time_limit options are budgets too; Budget overrides */
    CHECK_INT(search_of("\"Search\": {\"Name\": \"pso\", \"Attributes\": [{\"Name\": \"popsize\","
                        " \"Value\": 20}, {\"Name\": \"max_fevals\", \"Value\": 300}, {\"Name\": "
                        "\"time_limit\", \"Value\": 60}]}, \"Budget\": [{\"Type\": "
                        "\"ConfigurationCount\", \"BudgetValue\": 40}]", &ss), CUTUNE_OK);
    CHECK(ss.strategy == NULL && strcmp(ss.name, "pso") == 0); /* the caller says why */
    CHECK(ss.budget == 40 && ss.time_limit_s == 60);
    static const struct {
        const char *fields;
        int status;
        const char *text;
    } bad[] = {
        {"\"Budget\": [{\"Type\": \"Evaluations\", \"BudgetValue\": 5}]", CUTUNE_EINVAL,
         "search.json: Budget[0].Type 'Evaluations' is not ConfigurationCount, TuningDuration "
         "or ConfigurationFraction"},
        {"\"Budget\": [{\"BudgetValue\": 5}]", CUTUNE_EINVAL, "Budget[0].Type (missing) is not"},
        {"\"Budget\": [{\"Type\": \"ConfigurationCount\"}]", CUTUNE_EINVAL,
         "Budget[0] has no BudgetValue"},
        {"\"Budget\": [{\"Type\": \"ConfigurationCount\", \"BudgetValue\": -5}]", CUTUNE_ERANGE,
         "Budget[0].BudgetValue: a ConfigurationCount of -5: a whole number of evaluations from "
         "1 to 2^53"},
        {"\"Budget\": [{\"Type\": \"ConfigurationCount\", \"BudgetValue\": 0}]", CUTUNE_ERANGE,
         "ConfigurationCount of 0"},
        {"\"Budget\": [{\"Type\": \"ConfigurationCount\", \"BudgetValue\": 2.5}]", CUTUNE_ERANGE,
         "ConfigurationCount of 2.5"},
        {"\"Budget\": [{\"Type\": \"ConfigurationCount\", \"BudgetValue\": 1e300}]",
         CUTUNE_ERANGE, "ConfigurationCount of 1e+300"},
        {"\"Budget\": [{\"Type\": \"ConfigurationCount\", \"BudgetValue\": \"10**30\"}]",
         CUTUNE_EDOMAIN, "Budget[0].BudgetValue: column"},
        {"\"Budget\": [{\"Type\": \"TuningDuration\", \"BudgetValue\": 0}]", CUTUNE_ERANGE,
         "a TuningDuration of 0 s"},
        {"\"Budget\": [{\"Type\": \"TuningDuration\", \"BudgetValue\": 1e12}]", CUTUNE_ERANGE,
         "a TuningDuration of 1e+12 s"},
        {"\"Budget\": [{\"Type\": \"ConfigurationFraction\", \"BudgetValue\": 1.5}]",
         CUTUNE_ERANGE, "a ConfigurationFraction of 1.5: more than 0 and at most 1"},
        {"\"Budget\": [{\"Type\": \"ConfigurationFraction\", \"BudgetValue\": \"1 / 0\"}]",
         CUTUNE_EDOMAIN, "Budget[0].BudgetValue"},
        {"\"Budget\": [{\"Type\": \"ConfigurationCount\", \"BudgetValue\": \"lots\"}]",
         CUTUNE_ENAME, "Budget[0].BudgetValue: column 1: unknown name 'lots'"},
        {"\"Budget\": [{\"Type\": \"ConfigurationCount\", \"BudgetValue\": [5]}]", CUTUNE_EINVAL,
         "Budget[0].BudgetValue must be a number"},
        {"\"Budget\": [{\"Type\": \"ConfigurationCount\", \"BudgetValue\": 5}, {\"Type\": "
         "\"ConfigurationCount\", \"BudgetValue\": 6}]", CUTUNE_EINVAL,
         "Budget[1]: a second ConfigurationCount"},
        {"\"Budget\": {\"Type\": \"ConfigurationCount\"}", CUTUNE_EINVAL,
         "Budget must be a list"},
        {"\"Budget\": [7]", CUTUNE_EINVAL, "Budget[0] must be an object"},
        {"\"Search\": \"bo\"", CUTUNE_EINVAL, "Search must be an object with a Name"},
        {"\"Search\": {\"Name\": 7}", CUTUNE_EINVAL, "Search.Name must be a string"},
        {"\"Search\": {\"Name\": \"bo\", \"Attributes\": 3}", CUTUNE_EINVAL,
         "Search.Attributes must be a list"},
        {"\"Search\": {\"Name\": \"bo\", \"Attributes\": [{\"Value\": 3}]}", CUTUNE_EINVAL,
         "Search.Attributes[0] must be an object with a Name and a Value"},
        {"\"Search\": {\"Attributes\": [{\"Name\": \"max_fevals\", \"Value\": -1}]}",
         CUTUNE_ERANGE, "Search.Attributes[0].Value: a ConfigurationCount of -1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&ss, 0x55, sizeof ss);
        int st = search_of(bad[i].fields, &ss);
        if (st != bad[i].status || !strstr(cutune_last_error(), bad[i].text)) {
            fprintf(stderr, "%s: status %d \"%s\", expected %d with \"%s\"\n", bad[i].fields, st,
                    cutune_last_error(), bad[i].status, bad[i].text);
            check_failures++;
        }
        CHECK(ss.strategy == NULL && ss.budget == 0); /* nothing to rely on: zeros */
    }
    CHECK_INT(cutune_spec_read_search(HUB "no-such.json", &ss), CUTUNE_EPARSE);
    CHECK_HAS(cutune_last_error(), "no-such.json");
    CHECK_INT(cutune_spec_read_search(write_spec("list.json", "[1, 2]"), &ss), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "list.json: a T1 spec is a JSON object");
    CHECK_INT(cutune_spec_read_search(NULL, &ss), CUTUNE_EINVAL);
}

/* ------------------------------------------------------------------ ignored fields ---- */

/* The list as one string, "a | b | c". */
static const char *joined(const char *fields, size_t count)
{
    static char all[4096];
    all[0] = '\0';
    const char *f = fields;
    for (size_t i = 0; i < count; i++, f += strlen(f) + 1)
        snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? " | " : "", f);
    CHECK(*f == '\0'); /* the list ends with an empty string */
    return all;
}

static void ignored_fields(void)
{
    char *fields = NULL;
    size_t n = 99;
    CHECK_INT(cutune_spec_ignored_fields(HUB "hotspot_milo.json", &fields, &n), CUTUNE_OK);
    CHECK_HAS(joined(fields, n),
              "General.BenchmarkName | General.OutputFormat | BenchmarkConfig | "
              "KernelSpecification.BenchmarkName | KernelSpecification.GlobalSizeType | "
              "KernelSpecification.GlobalSize | KernelSpecification.Stream | "
              "KernelSpecification.Misc");
    CHECK_INT(n, 8);
    free(fields);
    /* per item of a list, named; Search.Attributes that are no budget; unknown sections */
    const char *path = write_spec(
        "fields.json",
        "{\"ConfigurationSpace\": {\"TuningParameters\": [{\"Name\": \"x\", \"Type\": \"int\", "
        "\"Values\": [1], \"Default\": 1, \"Description\": \"?\"}], \"Conditions\": "
        "[{\"Expression\": \"x > 0\", \"Parameters\": [\"x\"], \"Weight\": 2}, \"x < 5\"], "
        "\"Seed\": 1},"
        " \"Search\": {\"Name\": \"pso\", \"Attributes\": [{\"Name\": \"popsize\", \"Value\": 5},"
        " {\"Name\": \"max_fevals\", \"Value\": 9}]},"
        " \"Budget\": [{\"Type\": \"ConfigurationCount\", \"BudgetValue\": 3, \"Unit\": \"n\"}],"
        " \"KernelSpecification\": {\"KernelName\": \"k\", \"Device\": {\"Name\": \"A100\"},"
        " \"LocalSize\": {\"X\": \"32\", \"W\": 1}, \"GlobalSize\": {\"X\": \"4096\"},"
        " \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", \"Size\": 4, \"TypeSize\": 4,"
        " \"RandomSeed\": 3}, {\"Type\": \"float\", \"DataSource\": \"f.bin\"}],"
        " \"ReferenceArguments\": []},"
        " \"General\": {\"FormatVersion\": 1, \"LoggingLevel\": {\"deep\": 1}}, \"Extra\": null}");
    CHECK_INT(cutune_spec_ignored_fields(path, &fields, &n), CUTUNE_OK);
    CHECK_HAS(joined(fields, n),
              "ConfigurationSpace.TuningParameters[0] (x).Description | "
              "ConfigurationSpace.Conditions[0].Weight | ConfigurationSpace.Seed | "
              "Search.Attributes[0] (popsize) | Budget[0].Unit | KernelSpecification.Device | "
              "KernelSpecification.LocalSize.W | KernelSpecification.GlobalSize | "
              "KernelSpecification.Arguments[0] (a).TypeSize | "
              "KernelSpecification.Arguments[0] (a).RandomSeed | "
              "KernelSpecification.Arguments[1].DataSource | "
              "General.FormatVersion | General.LoggingLevel | Extra");
    CHECK_INT(n, 14);
    free(fields);
    /* what verification and metrics read is not listed: the answers, Atol and Rtol, Metrics
     * at the top and in the KernelSpecification */
    path = write_spec(
        "verify.json",
        "{\"ConfigurationSpace\": {\"TuningParameters\": [{\"Name\": \"x\", \"Values\": [1]}]},"
        " \"Metrics\": [{\"Name\": \"GB/s\", \"Expression\": \"1/time\", \"Unit\": \"GB/s\"}],"
        " \"KernelSpecification\": {\"KernelName\": \"k\", \"Metrics\": [{\"Name\": \"f\","
        " \"Expression\": \"2/time\"}], \"ReferenceArguments\": [{\"Name\": \"r\", "
        "\"TargetName\": \"a\", \"FillType\": \"BinaryRaw\", \"DataSource\": \"r.bin\", "
        "\"ValidationMethod\": \"AbsoluteDifference\", \"ValidationThreshold\": 0.1, "
        "\"RandomSeed\": 2}], \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", "
        "\"Size\": 4, \"Output\": 1, \"Atol\": 0.1, \"Rtol\": 0}]}}");
    CHECK_INT(cutune_spec_ignored_fields(path, &fields, &n), CUTUNE_OK);
    CHECK_HAS(joined(fields, n), "Metrics[0] (GB/s).Unit | "
                                 "KernelSpecification.ReferenceArguments[0] (r).RandomSeed");
    CHECK_INT(n, 2);
    free(fields);
    /* nothing ignored: an empty list, still a block to free */
    path = write_spec("plain.json", "{\"ConfigurationSpace\": {\"TuningParameters\": "
                                    "[{\"Name\": \"x\", \"Values\": [1]}]}}");
    CHECK_INT(cutune_spec_ignored_fields(path, &fields, &n), CUTUNE_OK);
    CHECK(n == 0 && fields && fields[0] == '\0');
    free(fields);
    fields = (char *)1;
    CHECK_INT(cutune_spec_ignored_fields(write_spec("bad.json", "{\"a\": "), &fields, &n),
              CUTUNE_EPARSE);
    CHECK_HAS(cutune_last_error(), "bad.json:1:");
    CHECK(fields == NULL && n == 0);
    CHECK_INT(cutune_spec_ignored_fields(write_spec("list.json", "[]"), &fields, &n),
              CUTUNE_EINVAL);
    CHECK_INT(cutune_spec_ignored_fields(NULL, &fields, &n), CUTUNE_EINVAL);
    CHECK_INT(cutune_spec_ignored_fields(path, NULL, &n), CUTUNE_EINVAL);
}

static int setup(void) { return make_test_dir(dir); }

static void teardown(void) { remove_test_dir(dir); }

TEST_LIST(TEST_CASE(benchmark_hub) TEST_CASE(defaults) TEST_CASE(language)
          TEST_CASE(problem_sizes) TEST_CASE(strategies) TEST_CASE(search_and_budget)
          TEST_CASE(ignored_fields));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
