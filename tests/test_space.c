/* test_space.c — search spaces: the shipped T1 specs enumerate exactly the configurations of
 * their recorded Kernel Tuner cache files; ids, keys and neighbours are consistent; sampling
 * is uniform (chi-square), also on a space of 10^9 raw combinations; bad specs get errors
 * that name the file, line and column. */
#include "check.h"
#include "cutune.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>

#define DATA CUTUNE_SOURCE_DIR "/data/spaces/"

/* ------------------------------------------------------------------ recorded spaces ---- */

static json_t *load_gz_json(const char *path)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    int got;
    while (buf && (got = gzread(f, buf + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    gzclose(f);
    json_error_t err;
    json_t *j = buf ? json_loadb(buf, n, 0, &err) : NULL;
    free(buf);
    return j;
}

typedef struct key_check {
    const cutune_space *space;
    json_t *cache;
    size_t seen, missing;
    uint64_t last_id;
    int first;
} key_check;

static int check_key(const uint32_t *config, void *user)
{
    key_check *k = user;
    char key[512];
    CHECK_INT(cutune_space_config_key(k->space, config, key, sizeof key), 0);
    if (!json_object_get(k->cache, key)) {
        if (k->missing++ < 5)
            fprintf(stderr, "enumerated %s is not in the cache file\n", key);
    }
    /* ids ascend in enumeration order and round-trip */
    uint64_t id = cutune_space_config_id(k->space, config);
    CHECK(k->first || id > k->last_id);
    k->first = 0;
    k->last_id = id;
    uint32_t back[16];
    CHECK_INT(cutune_space_config_from_id(k->space, id, back), 0);
    CHECK(memcmp(back, config, cutune_space_num_params(k->space) * sizeof *back) == 0);
    uint32_t parsed[16];
    CHECK_INT(cutune_space_parse_key(k->space, key, parsed), 0);
    CHECK(memcmp(parsed, config, cutune_space_num_params(k->space) * sizeof *parsed) == 0);
    k->seen++;
    return 0;
}

static void test_recorded(const char *spec, const char *cache_file, uint64_t want)
{
    cutune_space *s;
    int st = cutune_space_load_t1(&s, spec);
    if (st) {
        fprintf(stderr, "%s\n", cutune_last_error());
        check_failures++;
        return;
    }
    json_t *root = load_gz_json(cache_file);
    CHECK(root != NULL);
    json_t *cache = json_object_get(root, "cache");
    /* parameter order of the spec is the cache file's key order */
    json_t *keys = json_object_get(root, "tune_params_keys");
    CHECK_INT(json_array_size(keys), cutune_space_num_params(s));
    for (size_t i = 0; i < json_array_size(keys); i++)
        CHECK(strcmp(json_string_value(json_array_get(keys, i)), cutune_space_param_name(s, i)) == 0);
    uint64_t count;
    CHECK_INT(cutune_space_count(s, &count), 0);
    CHECK_INT(count, want);
    CHECK_INT(json_object_size(cache), want);
    key_check k = {.space = s, .cache = cache, .first = 1};
    CHECK_INT(cutune_space_enumerate(s, check_key, &k), 0);
    CHECK_INT(k.seen, want);
    CHECK_INT(k.missing, 0);
    json_decref(root);
    cutune_space_free(s);
}

/* ---------------------------------------------------------------- ids and neighbours ---- */

static void test_convolution_details(void)
{
    cutune_space *s;
    CHECK_INT(cutune_space_load_t1(&s, DATA "convolution/spec.json"), 0);
    CHECK_INT(cutune_space_num_params(s), 10);
    CHECK_INT(cutune_space_num_constraints(s), 4);
    CHECK_INT(cutune_space_raw_size(s), 16 * 5 * 4 * 4 * 2 * 2 * 2);
    uint32_t dflt[10];
    char key[256];
    CHECK_INT(cutune_space_get_default(s, dflt), 1);
    CHECK_INT(cutune_space_config_key(s, dflt, key, sizeof key), 0);
    CHECK(strcmp(key, "16,16,1,1,0,1,1,1,15,15") == 0);
    CHECK_INT(cutune_space_is_valid(s, dflt), 1);

    /* use_padding=1 with block_size_x=32 breaks "use_padding==0 or block_size_x % 32 != 0" */
    uint32_t bad[10];
    CHECK_INT(cutune_space_parse_key(s, "32,16,1,1,0,1,1,1,15,15", bad), 0);
    CHECK_INT(cutune_space_is_valid(s, bad), 0);

    /* neighbours: valid, one parameter one step away; the set matches a brute-force search */
    uint32_t out[40 * 10];
    size_t found;
    CHECK_INT(cutune_space_neighbours(s, dflt, out, 40, &found), 0);
    size_t brute = 0;
    for (size_t p = 0; p < 10; p++)
        for (int d = -1; d <= 1; d += 2) {
            uint32_t c[10];
            memcpy(c, dflt, sizeof c);
            if ((d < 0 && c[p] == 0) || (d > 0 && c[p] + 1 >= cutune_space_param_size(s, p)))
                continue;
            c[p] += (uint32_t)d;
            brute += cutune_space_is_valid(s, c) == 1;
        }
    CHECK_INT(found, brute);
    CHECK(found >= 4);
    for (size_t i = 0; i < found; i++) {
        int differ = 0;
        for (size_t p = 0; p < 10; p++) {
            long diff = (long)out[i * 10 + p] - (long)dflt[p];
            differ += diff != 0;
            CHECK(labs(diff) <= 1);
        }
        CHECK_INT(differ, 1);
        CHECK_INT(cutune_space_is_valid(s, out + i * 10), 1);
    }

    /* bad keys and ids */
    CHECK_INT(cutune_space_parse_key(s, "16,16,1", bad), CUTUNE_EPARSE);
    CHECK_HAS(cutune_last_error(), "has 3 values, the space has 10 parameters");
    CHECK_INT(cutune_space_parse_key(s, "17,16,1,1,0,1,1,1,15,15", bad), CUTUNE_ENOTFOUND);
    CHECK_HAS(cutune_last_error(), "'17' is not a value of 'block_size_x'");
    CHECK_INT(cutune_space_parse_key(s, "16,16,1,1,0,1,1,1,15,15,3", bad), CUTUNE_EPARSE);
    CHECK_INT(cutune_space_config_from_id(s, 10240, bad), CUTUNE_ERANGE);
    bad[0] = 99;
    CHECK_INT(cutune_space_is_valid(s, bad), -CUTUNE_ERANGE);
    cutune_space_free(s);
}

/* ---------------------------------------------------------------------- uniformity ---- */

typedef struct index_map {
    const cutune_space *space;
    uint64_t *ids;
    size_t n;
} index_map;

static int collect_id(const uint32_t *config, void *user)
{
    index_map *m = user;
    m->ids[m->n++] = cutune_space_config_id(m->space, config);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_uniform_convolution(void)
{
    cutune_space *s;
    CHECK_INT(cutune_space_load_t1(&s, DATA "convolution/spec.json"), 0);
    index_map m = {.space = s, .ids = malloc(4362 * sizeof(uint64_t))};
    CHECK_INT(cutune_space_enumerate(s, collect_id, &m), 0);
    CHECK_INT(m.n, 4362);
    size_t *hits = calloc(m.n, sizeof *hits);
    cutune_rng rng;
    cutune_rng_seed(&rng, 12345);
    const size_t per_cell = 50, draws = per_cell * 4362;
    uint32_t config[10];
    for (size_t i = 0; i < draws; i++) {
        CHECK_INT(cutune_space_sample(s, &rng, config), 0);
        uint64_t id = cutune_space_config_id(s, config);
        uint64_t *at = bsearch(&id, m.ids, m.n, sizeof id, cmp_u64);
        CHECK(at != NULL); /* every sample is a valid configuration */
        if (at)
            hits[at - m.ids]++;
    }
    CHECK(fabs(chi2_uniform_z(hits, m.n, per_cell, "convolution sampling")) < 4.0);
    free(hits);
    free(m.ids);
    cutune_space_free(s);
}

/* 10 parameters of 8 values: 8^10 = 1.07e9 raw combinations, never enumerated. Under
 * "p0 + p1 <= 9" the marginal of p0 = k is (9 - k) / 36; p9 stays uniform. */
static void test_uniform_huge(void)
{
    cutune_space *s;
    CHECK_INT(cutune_space_new(&s), 0);
    int64_t vals[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int p = 0; p < 10; p++) {
        char name[8];
        snprintf(name, sizeof name, "p%d", p);
        CHECK_INT(cutune_space_add_int(s, name, vals, 8), 0);
    }
    CHECK_INT(cutune_space_add_constraint(s, "p0 + p1 <= 9"), 0);
    CHECK(cutune_space_raw_size(s) >= 1000000000ull);
    cutune_rng rng;
    cutune_rng_seed(&rng, 7);
    const int draws = 200000;
    double p0[8] = {0}, p9[8] = {0};
    uint32_t c[10];
    for (int i = 0; i < draws; i++) {
        CHECK_INT(cutune_space_sample(s, &rng, c), 0);
        CHECK(vals[c[0]] + vals[c[1]] <= 9);
        p0[c[0]]++;
        p9[c[9]]++;
    }
    double chi0 = 0, chi9 = 0;
    for (int k = 0; k < 8; k++) {
        double e0 = draws * (8.0 - k) / 36.0, e9 = draws / 8.0;
        chi0 += (p0[k] - e0) * (p0[k] - e0) / e0;
        chi9 += (p9[k] - e9) * (p9[k] - e9) / e9;
    }
    printf("huge space: marginal chi2 %.2f (p0) and %.2f (p9), 7 degrees of freedom\n", chi0,
           chi9);
    CHECK(chi0 < 29.9); /* 99.99th percentile of chi-square with 7 degrees of freedom */
    CHECK(chi9 < 29.9);

    /* a space with no valid configuration fails cleanly instead of looping */
    CHECK_INT(cutune_space_add_constraint(s, "p2 > 100"), 0);
    CHECK_INT(cutune_space_sample(s, &rng, c), CUTUNE_EEMPTY);
    CHECK_HAS(cutune_last_error(), "no valid configuration");
    cutune_space_free(s);
}

/* ---------------------------------------------------------------------- bad specs ---- */

#define PARAMS(body) "{\"ConfigurationSpace\": {\"TuningParameters\": [" body "]}}"
#define P_INT(name, vals) "{\"Name\": \"" name "\", \"Type\": \"int\", \"Values\": " vals "}"

static void expect_spec_error(const char *json, int status, const char *text, int line)
{
    cutune_space *s = (cutune_space *)1;
    int st = cutune_space_load_t1_buffer(&s, json, strlen(json), "bad.json");
    if (st != status || !strstr(cutune_last_error(), text) || s != NULL) {
        fprintf(stderr, "line %d: got status %d \"%s\", expected %d with \"%s\"\n", line, st,
                cutune_last_error(), status, text);
        check_failures++;
    }
    if (!st)
        cutune_space_free(s);
}
#define BAD(json, st, text) expect_spec_error(json, st, text, __LINE__)

static void test_bad_specs(void)
{
    BAD("", CUTUNE_EPARSE, "bad.json:1:");
    BAD("{\"ConfigurationSpace\": {\n  \"TuningParameters\": [\n    {\"Name\": \"x\",}]}}",
        CUTUNE_EPARSE, "bad.json:3:");
    BAD("{\"a\": 1, \"a\": 2}", CUTUNE_EPARSE, "duplicate object key");
    BAD("[]", CUTUNE_EINVAL, "ConfigurationSpace: missing");
    BAD("{\"ConfigurationSpace\": {\"TuningParameters\": []}}", CUTUNE_EINVAL, "empty");
    BAD(PARAMS("{\"Values\": [1]}"), CUTUNE_EINVAL, "TuningParameters[0]: Name missing");
    BAD(PARAMS("{\"Name\": \"x\"}"), CUTUNE_EINVAL, "(x).Values: missing");
    BAD(PARAMS(P_INT("x", "[]")), CUTUNE_EINVAL, "parameter 'x' has no values");
    BAD(PARAMS(P_INT("x", "[1, 2, 1]")), CUTUNE_EINVAL, "lists the value 1 twice");
    BAD(PARAMS(P_INT("x", "[1, \"a\"]")), CUTUNE_ETYPE, "value 2 (a) of 'x' is not of type int");
    BAD(PARAMS(P_INT("x", "[1, null]")), CUTUNE_ETYPE, "value 2 is not a number or string");
    BAD(PARAMS(P_INT("block size", "[1]")), CUTUNE_EINVAL, "'block size' is not an identifier");
    BAD(PARAMS(P_INT("x", "[1]") "," P_INT("x", "[2]")), CUTUNE_EINVAL, "defined twice");
    BAD(PARAMS("{\"Name\": \"x\", \"Type\": \"complex\", \"Values\": [1]}"), CUTUNE_EINVAL,
        "Type \"complex\" is not one of");
    BAD(PARAMS(P_INT("x", "\"[1, 2\"")), CUTUNE_EPARSE, "']' expected");
    BAD(PARAMS(P_INT("x", "\"range(10**12)\"")), CUTUNE_ETOOBIG, "exceeds the limit");
    BAD(PARAMS(P_INT("x", "\"7\"")), CUTUNE_ETYPE, "gives a single value, not a list");
    /* (a Default that is not among the values is a warning: test_t1.c) */
    /* 32 parameters of 4 values: 2^64 raw combinations */
    char big[8192] = "{\"ConfigurationSpace\": {\"TuningParameters\": [";
    for (int i = 0; i < 33; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big),
                 "%s{\"Name\": \"p%d\", \"Values\": [1, 2, 3, 4]}", i ? "," : "", i);
    strcat(big, "]}}");
    BAD(big, CUTUNE_ETOOBIG, "past 2^64 raw combinations");

    /* constraint errors point at the file position of the offending name */
    const char *unknown_name =
        "{\"ConfigurationSpace\": {\n"
        "  \"TuningParameters\": [{\"Name\": \"block_size_x\", \"Values\": [32, 64]}],\n"
        "  \"Conditions\": [\n"
        "    {\"Expression\": \"block_size_x * blok_size_y <= 1024\"}]}}";
    BAD(unknown_name, CUTUNE_ENAME, "bad.json:4:36: ConfigurationSpace.Conditions[0].Expression: "
                                    "unknown name 'blok_size_y'");
    /* a long constraint: the reason comes first, the expression is cut around the error */
    char long_expr[4096] = "{\"ConfigurationSpace\": {\"TuningParameters\": ["
                           "{\"Name\": \"block_size_x\", \"Values\": [32, 64]}],"
                           " \"Conditions\": [{\"Expression\": \"";
    for (int i = 0; i < 150; i++)
        strcat(long_expr, "block_size_x + ");
    strcat(long_expr, "blok_size_y <= 1024\"}]}}");
    BAD(long_expr, CUTUNE_ENAME, "bad.json:1:2374: ConfigurationSpace.Conditions[0].Expression: "
                                 "unknown name 'blok_size_y' (in \"...");
    CHECK_HAS(cutune_last_error(), "block_size_x + blok_size_y <= 1024\")");
    CHECK(strlen(cutune_last_error()) < 300);
    char long_values[4096] = "{\"ConfigurationSpace\": {\"TuningParameters\": ["
                             "{\"Name\": \"x\", \"Values\": \"[";
    for (int i = 0; i < 400; i++)
        strcat(long_values, "1, ");
    strcat(long_values, "1 // 0]\"}]}}");
    BAD(long_values, CUTUNE_EDOMAIN, "bad.json:1:1274: ConfigurationSpace.TuningParameters[0] "
                                     "(x).Values: '//' divides by zero");
    CHECK_HAS(cutune_last_error(), "(in \"...");
    CHECK(strlen(cutune_last_error()) < 300);
    /* the same through the API */
    cutune_space *api;
    CHECK_INT(cutune_space_new(&api), 0);
    static const int64_t two[] = {1, 2};
    CHECK_INT(cutune_space_add_int(api, "a_rather_long_parameter_name", two, 2), 0);
    char text[2400] = "";
    for (int i = 0; i < 70; i++)
        strcat(text, "a_rather_long_parameter_name + ");
    strcat(text, "a_rather_long_parameter_nam > 0");
    CHECK_INT(cutune_space_add_constraint(api, text), CUTUNE_ENAME);
    CHECK_HAS(cutune_last_error(), "constraint 1: column 2171: unknown name "
                                   "'a_rather_long_parameter_nam' (in \"...");
    CHECK_HAS(cutune_last_error(), "+ a_rather_long_parameter_nam > 0\")");
    CHECK(strlen(cutune_last_error()) < 300);
    cutune_space_free(api);
    /* a constant part that overflows 64-bit integers is refused when the spec loads */
    const char *huge = "{\"ConfigurationSpace\": {\"TuningParameters\": [" P_INT("x", "[1]")
                       "], \"Conditions\": [{\"Expression\": \"x < 2**2**2**2**2\"}]}}";
    BAD(huge, CUTUNE_EDOMAIN, "bad.json:1:128: ConfigurationSpace.Conditions[0].Expression: "
                              "'**' overflows 64-bit integers");
    BAD(PARAMS(P_INT("x", "[1]")) ",", CUTUNE_EPARSE, "end of file expected");
    const char *syntax = "{\"ConfigurationSpace\": {\"TuningParameters\": [" P_INT("x", "[1]")
                         "], \"Conditions\": [{\"Expression\": \"x <\"}]}}";
    BAD(syntax, CUTUNE_EPARSE, "operand expected at end of expression");
    const char *params = "{\"ConfigurationSpace\": {\"TuningParameters\": [" P_INT("x", "[1]")
                         "], \"Conditions\": [{\"Expression\": \"x > 0\", \"Parameters\": "
                         "[\"x\", \"y\"]}]}}";
    BAD(params, CUTUNE_ENAME, "Parameters[1] 'y' is not a tuning parameter");

    cutune_space *s;
    CHECK_INT(cutune_space_load_t1(&s, "/nonexistent/spec.json"), CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "/nonexistent/spec.json: cannot open");
    CHECK(s == NULL);
}

/* A constraint that divides by zero or mixes types makes those configurations invalid. */
static void test_runtime_errors_invalidate(void)
{
    const char *json =
        "{\"ConfigurationSpace\": {\"TuningParameters\": ["
        "{\"Name\": \"a\", \"Values\": [1, 2, 3]},"
        "{\"Name\": \"s\", \"Type\": \"string\", \"Values\": [\"x\", \"yy\"]}],"
        "\"Conditions\": [{\"Expression\": \"6 // (a - 2) != 0\"}]}}";
    cutune_space *s;
    CHECK_INT(cutune_space_load_t1_buffer(&s, json, strlen(json), "ok.json"), 0);
    uint64_t n;
    CHECK_INT(cutune_space_count(s, &n), 0);
    CHECK_INT(n, 4); /* a = 2 divides by zero: 2 of 6 gone */
    CHECK_INT(cutune_space_add_constraint(s, "s + 1 > 0"), 0);
    CHECK_INT(cutune_space_count(s, &n), 0);
    CHECK_INT(n, 0); /* str + int fails for every configuration */
    cutune_space_free(s);
}

/* String values written as a Python expression, as benchmark_hub's specs write them: their
 * strings live in the expression, which the loader must keep until the space has copied them
 * (it freed it first: empty or repeated values, a use after free under ASan). */
static void test_string_values_expression(void)
{
    const char *json = PARAMS("{\"Name\": \"layout\", \"Type\": \"string\", \"Values\": "
                              "\"['row', 'col'] + [c for c in ['tile', 'strip']]\"}");
    cutune_space *s;
    CHECK_INT(cutune_space_load_t1_buffer(&s, json, strlen(json), "ok.json"), 0);
    if (!s)
        return;
    static const char *const want[] = {"row", "col", "tile", "strip"};
    CHECK_INT(cutune_space_param_size(s, 0), 4);
    for (size_t k = 0; k < 4 && k < cutune_space_param_size(s, 0); k++) {
        char buf[16];
        cutune_space_format_value(s, 0, k, buf, sizeof buf);
        CHECK_HAS(buf, want[k]);
        CHECK_INT(strlen(buf), strlen(want[k]));
    }
    cutune_space_free(s);
}

/* A parameter with a million values: the duplicate check sorts (the fuzzer found a list of
 * 969,631 values that took minutes when every pair was compared). */
static void test_long_value_list(void)
{
    enum { N = 1000000 };
    int64_t *v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++)
        v[i] = 32 * (int64_t)(N - i);
    cutune_space *s;
    CHECK_INT(cutune_space_new(&s), CUTUNE_OK);
    clock_t t0 = clock();
    CHECK_INT(cutune_space_add_int(s, "block_size_x", v, N), CUTUNE_OK);
    v[N - 1] = v[N / 2];
    CHECK_INT(cutune_space_add_int(s, "again", v, N), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "lists the value 16000000 twice");
    double seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(seconds < 5);
    static const double f[] = {0.5, -1.0, 2.0, -0.0, 0.0};
    CHECK_INT(cutune_space_add_float(s, "f", f, 5), CUTUNE_EINVAL); /* -0.0 == 0.0 */
    static const char *const names[] = {"a", "b", "c", "b"};
    CHECK_INT(cutune_space_add_string(s, "str", names, 4), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "lists the value");
    cutune_space_free(s);
    free(v);
}

/* ------------------------------------------------------------------------- keys ---- */

/* Keys are values joined by commas: no two configurations may print the same key. */
static void test_keys_unambiguous(void)
{
    cutune_space *s;
    CHECK_INT(cutune_space_new(&s), 0);
    /* {"1,2", "1"} x {"3", "2,3"} would print "1,2,3" twice */
    static const char *const a[] = {"1,2", "1"}, *const b[] = {"3", "2,3"};
    CHECK_INT(cutune_space_add_string(s, "a", a, 2), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "parameter 'a': the value \"1,2\" contains a comma");
    CHECK_INT(cutune_space_num_params(s), 0);
    static const char *const ok[] = {"1", "2"};
    CHECK_INT(cutune_space_add_string(s, "a", ok, 2), 0);
    CHECK_INT(cutune_space_add_string(s, "b", b, 2), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "parameter 'b': the value \"2,3\"");
    static const char *const b_ok[] = {"3", "4"};
    CHECK_INT(cutune_space_add_string(s, "b", b_ok, 2), 0);

    /* long strings that share a long prefix get different keys, which parse back */
    char long1[300], long2[300];
    memset(long1, 'x', 250);
    memcpy(long2, long1, 250);
    strcpy(long1 + 250, "_one");
    strcpy(long2 + 250, "_two");
    const char *longs[] = {long1, long2};
    CHECK_INT(cutune_space_add_string(s, "c", longs, 2), 0);
    /* floats one ulp apart print apart (shortest round-trip form) */
    double f[] = {0.1, nextafter(0.1, 1.0), 1.0};
    CHECK_INT(cutune_space_add_float(s, "f", f, 3), 0);
    char seen[12][600];
    size_t n = 0;
    for (uint32_t i = 0; i < 2; i++)
        for (uint32_t j = 0; j < 2; j++)
            for (uint32_t k = 0; k < 3; k++, n++) {
                uint32_t config[4] = {0, i, j, k}, back[4];
                CHECK_INT(cutune_space_config_key(s, config, seen[n], sizeof seen[n]), 0);
                for (size_t m = 0; m < n; m++)
                    CHECK(strcmp(seen[m], seen[n]) != 0);
                CHECK_INT(cutune_space_parse_key(s, seen[n], back), 0);
                CHECK(memcmp(back, config, sizeof back) == 0);
            }
    CHECK_HAS(seen[0], "1,3,xxxx");
    CHECK_HAS(seen[1], "_one,0.10000000000000002");
    /* a buffer too small for the whole key is an error, not a shorter key */
    uint32_t config[4] = {0, 0, 0, 0};
    char small[100];
    CHECK_INT(cutune_space_config_key(s, config, small, sizeof small), CUTUNE_ERANGE);
    /* a key longer than CUTUNE_KEY_MAX (what a selection, the store and a cache file hold
     * whole) is refused with the parameter that makes it so, and the space stays as it was */
    char huge[300];
    memset(huge, 'y', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    const char *hv[] = {huge};
    CHECK_INT(cutune_space_add_string(s, "d", hv, 1), CUTUNE_ETOOBIG);
    CHECK_HAS(cutune_last_error(), "parameter 'd' makes a configuration's key up to");
    CHECK_HAS(cutune_last_error(), "cutune keeps at most 511");
    CHECK_INT(cutune_space_num_params(s), 4);
    char longest[CUTUNE_KEY_MAX];
    config[1] = 1;
    config[3] = 1;
    CHECK_INT(cutune_space_config_key(s, config, longest, sizeof longest), 0);
    cutune_space_free(s);
    /* the names joined by commas have the same bound */
    CHECK_INT(cutune_space_new(&s), 0);
    char name[40];
    int st = 0, p = 0;
    for (; p < 40 && !st; p++) {
        snprintf(name, sizeof name, "a_rather_long_parameter_name_%02d", p);
        st = cutune_space_add_int(s, name, (const int64_t[]){1}, 1);
    }
    CHECK_INT(st, CUTUNE_ETOOBIG);
    CHECK_HAS(cutune_last_error(), "makes the parameters' names up to");
    CHECK_INT(cutune_space_num_params(s), (size_t)p - 1);
    cutune_space_free(s);

    /* the loaders: a T1 string value with a comma, and values of one parameter that would
     * print alike (1 and 1.0, or 1 and "1") */
    BAD(PARAMS("{\"Name\": \"s\", \"Values\": [\"a\", \"b,c\"]}"), CUTUNE_EINVAL,
        "bad.json: ConfigurationSpace.TuningParameters[0] (s).Values: parameter 's': the value "
        "\"b,c\" contains a comma");
    BAD(PARAMS("{\"Name\": \"x\", \"Values\": [1, 1.0]}"), CUTUNE_EINVAL,
        "lists the value 1.0 twice");
    BAD(PARAMS("{\"Name\": \"x\", \"Values\": [true, 1]}"), CUTUNE_EINVAL,
        "lists the value 1 twice");
    BAD(PARAMS("{\"Name\": \"x\", \"Values\": [1, \"1\"]}"), CUTUNE_ETYPE,
        "value 1 (1) of 'x' is not of type string");
    BAD(PARAMS("{\"Name\": \"x\", \"Type\": \"float\", \"Values\": [-0.0, 0]}"),
        CUTUNE_EINVAL, "lists the value 0.0 twice");
}

static void test_recorded_convolution(void)
{
    test_recorded(DATA "convolution/spec.json", DATA "convolution/A100.json.gz", 4362);
}

static void test_recorded_pnpoly(void)
{
    test_recorded(DATA "pnpoly/spec.json", DATA "pnpoly/RTX_3090.json.gz", 4092);
}

TEST_LIST(TEST_CASE(test_long_value_list) TEST_CASE(test_string_values_expression)
          TEST_CASE(test_recorded_convolution) TEST_CASE(test_recorded_pnpoly)
          TEST_CASE(test_convolution_details) TEST_CASE(test_uniform_convolution)
          TEST_CASE(test_uniform_huge) TEST_CASE(test_bad_specs)
          TEST_CASE(test_runtime_errors_invalidate) TEST_CASE(test_keys_unambiguous));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
