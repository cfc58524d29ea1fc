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

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    benchmark_hub();
    defaults();
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    CHECK_DONE();
}
