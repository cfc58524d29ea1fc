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
    k = kernel_of("{\"KernelName\": \"k\", \"Language\": \"HIP\"}", &s, &st);
    CHECK_INT(st, CUTUNE_ENOTSUP);
    CHECK_HAS(cutune_last_error(), "KernelSpecification.Language is \"HIP\"");
    cutune_space_free(s);
    k = kernel_of("{\"KernelName\": \"k\", \"Language\": 3}", &s, &st);
    CHECK_INT(st, CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "KernelSpecification.Language must be a string");
    cutune_space_free(s);
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
    k = kernel_of("{\"KernelName\": \"k\", \"ProblemSize\": [\"num_blocks\"], "
                  "\"ProblemSizeDefines\": [\"n\"]}", &s, &st);
    CHECK_INT(st, CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "ProblemSizeDefines[0] (n): ProblemSize[0] names tuning "
                                   "parameters");
    cutune_space_free(s);
    /* FillValue expressions */
    k = kernel_of("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"n\", \"Type\": \"int\", "
                  "\"MemoryType\": \"Scalar\", \"FillValue\": \"nope\"}]}", &s, &st);
    CHECK_INT(st, CUTUNE_ENAME);
    CHECK_HAS(cutune_last_error(), "KernelSpecification.Arguments[0] (n): FillValue: column 1: "
                                   "unknown name 'nope'");
    cutune_space_free(s);
    k = kernel_of("{\"KernelName\": \"k\", \"Arguments\": [{\"Name\": \"n\", \"Type\": \"int\", "
                  "\"MemoryType\": \"Scalar\", \"FillValue\": \"'text'\"}]}", &s, &st);
    CHECK_INT(st, CUTUNE_ETYPE);
    CHECK_HAS(cutune_last_error(), "(n): FillValue is not a number");
    cutune_space_free(s);

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
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    benchmark_hub();
    defaults();
    language();
    problem_sizes();
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    CHECK_DONE();
}
