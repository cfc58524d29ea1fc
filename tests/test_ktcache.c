/* test_ktcache.c — Kernel Tuner cache files: what a good one gives, and a clear error for
 * every way a file can be broken (truncated, not gzip, not a cache, keys that do not match). */
#include "cutune.h"

#include "cache_file.h"
#include "check.h"

#include <zlib.h>

#define DATA CUTUNE_SOURCE_DIR "/data/spaces/"

static char dir[] = "/tmp/cutune-ktcache-XXXXXX";

static const char *tmp(const char *name) { return test_path(dir, name); }

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(text, 1, len, f) == len);
        fclose(f);
    }
}

/* 4 x 3 grid; p0 = 4 fails; the rest take p0 + p1 / 10 ms */
static double grid_time(const int *v, int n)
{
    (void)n;
    return v[0] == 4 ? NAN : v[0] + v[1] / 10.0;
}

static double all_fail(const int *v, int n)
{
    (void)v, (void)n;
    return NAN;
}

static void test_good_file(void)
{
    const char *path = tmp("good.json");
    CHECK_INT(write_cache_file(path, 2, (const int[]){4, 3}, grid_time), 0);
    cutune_cache *c;
    CHECK_INT(cutune_cache_load(&c, path, NULL), CUTUNE_OK);
    if (!c)
        return;
    CHECK_INT(cutune_cache_size(c), 12);
    CHECK_HAS(cutune_cache_device(c), "test device");
    CHECK_HAS(cutune_cache_kernel(c), "test_kernel");
    CHECK_INT(cutune_space_num_params(cutune_cache_space(c)), 2);
    int failed = 0;
    for (size_t i = 0; i < 12; i++) {
        const char *why;
        double t = cutune_cache_time(c, i, &why);
        const uint32_t *cfg = cutune_cache_config(c, i);
        size_t back = 99;
        CHECK_INT(cutune_cache_find(c, cfg, &back), CUTUNE_OK);
        CHECK_INT(back, i);
        char key[16];
        snprintf(key, sizeof key, "%u,%u", cfg[0] + 1, cfg[1] + 1); /* values are 1..size */
        CHECK(strcmp(cutune_cache_key(c, i), key) == 0);
        if (isnan(t)) {
            failed++;
            CHECK(why && strcmp(why, "RuntimeFailedConfig") == 0);
            CHECK_INT(cfg[0], 3);
        } else {
            CHECK(why == NULL);
            CHECK(fabs(t - ((cfg[0] + 1) + (cfg[1] + 1) / 10.0)) < 1e-12);
        }
    }
    CHECK_INT(failed, 3);
    CHECK(cutune_cache_config(c, 12) == NULL);
    CHECK(isnan(cutune_cache_time(c, 12, NULL)));
    cutune_cache_free(c);
}

/* The same file gzip'd loads the same; cut short, it fails with a clear error. */
static void test_gzip(void)
{
    const char *plain = tmp("good.json"), *gz = tmp("good.json.gz"), *cut = tmp("cut.json.gz");
    write_cache_file(plain, 2, (const int[]){4, 3}, grid_time); /* as above (checked there) */
    FILE *in = fopen(plain, "rb");
    gzFile out = gzopen(gz, "wb");
    CHECK(in && out);
    if (!in || !out)
        return;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        CHECK(gzwrite(out, buf, (unsigned)n) == (int)n);
    fclose(in);
    CHECK_INT(gzclose(out), Z_OK);

    cutune_cache *c;
    CHECK_INT(cutune_cache_load(&c, gz, NULL), CUTUNE_OK);
    CHECK_INT(cutune_cache_size(c), 12);
    cutune_cache_free(c);

    FILE *f = fopen(gz, "rb");
    n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 40);
    write_text(cut, buf, n / 2);
    CHECK_INT(cutune_cache_load(&c, cut, NULL), CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "cut.json.gz: truncated or corrupt gzip data");
    CHECK(c == NULL);

    /* a gzip header followed by garbage */
    buf[n / 3] ^= 0x55;
    buf[n / 3 + 1] ^= 0x55;
    write_text(cut, buf, n);
    CHECK_INT(cutune_cache_load(&c, cut, NULL), CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "truncated or corrupt gzip data");
}

static void expect_error(const char *text, int status, const char *message, int line)
{
    const char *path = tmp("bad.json");
    write_text(path, text, strlen(text));
    cutune_cache *c = (cutune_cache *)1;
    int st = cutune_cache_load(&c, path, NULL);
    if (st != status || !strstr(cutune_last_error(), message) || c != NULL) {
        fprintf(stderr, "line %d: got status %d \"%s\", expected %d with \"%s\"\n", line, st,
                cutune_last_error(), status, message);
        check_failures++;
    }
}
#define BAD(text, status, message) expect_error(text, status, message, __LINE__)

#define HEAD "{\"tune_params_keys\": [\"x\", \"y\"], \"tune_params\": {\"x\": [1, 2], \"y\": [8]}, "

static void test_bad_files(void)
{
    BAD("\x01\x02\x03 binary, not gzip, not JSON", CUTUNE_EPARSE, "bad.json: line 1");
    BAD("", CUTUNE_EPARSE, "bad.json");
    BAD("{\"tune_params_keys\": [\"x\"], \"tune_params\": {\"x\": [1]}}", CUTUNE_EINVAL,
        "not a Kernel Tuner cache file (no \"cache\" object)");
    BAD("[1, 2, 3]", CUTUNE_EINVAL, "no \"cache\" object");
    BAD("{\"cache\": {}}", CUTUNE_EINVAL, "tune_params_keys missing or empty");
    BAD("{\"tune_params_keys\": [\"x\"], \"cache\": {}}", CUTUNE_EINVAL, "tune_params missing");
    BAD(HEAD "\"cache\": {}}", CUTUNE_EEMPTY, "the cache has no entries");
    BAD(HEAD "\"cache\": {\"1,8,3\": {\"time\": 1.0}}}", CUTUNE_EPARSE,
        "cache entry does not match tune_params_keys: key \"1,8,3\" has more values");
    BAD(HEAD "\"cache\": {\"1\": {\"time\": 1.0}}}", CUTUNE_EPARSE,
        "key \"1\" has 1 values, the space has 2 parameters");
    BAD(HEAD "\"cache\": {\"3,8\": {\"time\": 1.0}}}", CUTUNE_ENOTFOUND,
        "key \"3,8\": '3' is not a value of 'x'");
    BAD(HEAD "\"cache\": {\"1,8\": {\"times\": [1.0]}}}", CUTUNE_EINVAL,
        "cache entry \"1,8\" has no time");
    BAD(HEAD "\"cache\": {\"1,8\": 3}}", CUTUNE_EINVAL, "has no time");
    BAD(HEAD "\"cache\": {\"1,8\": {\"time\": -1.0}}}", CUTUNE_EINVAL,
        "cache entry \"1,8\" has time -1");
    BAD(HEAD "\"cache\": {\"1,8\": {\"time\": 1.0}, \"2,8\": {\"time\": [1]}}}", CUTUNE_EINVAL,
        "\"2,8\" has no time");
    BAD("{\"tune_params_keys\": [\"x\", \"y\"], \"tune_params\": {\"x\": [1, 2]}, \"cache\": "
        "{\"1,8\": {\"time\": 1.0}}}",
        CUTUNE_EINVAL, "y");
    BAD(HEAD "\"cache\": {\"1,8\": {\"time\": 1.0}, \"1,8\": {\"time\": 2.0}}", CUTUNE_EPARSE,
        "bad.json");
    /* keys join values with commas: a string value with one, or values of one parameter that
     * would print alike, cannot be told apart in keys */
    BAD("{\"tune_params_keys\": [\"a\", \"b\"], \"tune_params\": {\"a\": [\"1,2\", \"1\"], "
        "\"b\": [\"3\", \"2,3\"]}, \"cache\": {\"1,2,3\": {\"time\": 1.0}}}",
        CUTUNE_EINVAL, "tune_params: parameter 'a': the value \"1,2\" contains a comma");
    BAD("{\"tune_params_keys\": [\"x\"], \"tune_params\": {\"x\": [1, \"1\"]}, \"cache\": "
        "{\"1\": {\"time\": 1.0}}}", CUTUNE_ETYPE, "tune_params 'x' mixes numbers and strings");
    BAD("{\"tune_params_keys\": [\"x\"], \"tune_params\": {\"x\": [1, 1.0]}, \"cache\": "
        "{\"1\": {\"time\": 1.0}}}", CUTUNE_EINVAL, "lists the value 1.0 twice");

    cutune_cache *c = (cutune_cache *)1;
    CHECK_INT(cutune_cache_load(&c, tmp("missing.json"), NULL), CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "missing.json: cannot open");
    CHECK(c == NULL);
    CHECK_INT(cutune_cache_load(NULL, "x", NULL), CUTUNE_EINVAL);
}

/* A value's text of 64 bytes or more, in the index keys are looked up in: a key part equal to
 * its first 63 bytes is not that value (nor, when both are values, the other one). */
static void test_long_values(void)
{
    char long_value[71], short_value[64], text[600];
    memset(long_value, 'a', 70);
    long_value[70] = '\0';
    memset(short_value, 'a', 63);
    short_value[63] = '\0';
    snprintf(text, sizeof text, "{\"tune_params_keys\": [\"s\"], \"tune_params\": {\"s\": "
             "[\"%s\"]}, \"cache\": {\"%s\": {\"time\": 1.0}}}", long_value, short_value);
    BAD(text, CUTUNE_ENOTFOUND, "is not a value of 's'");
    snprintf(text, sizeof text, "{\"tune_params_keys\": [\"s\"], \"tune_params\": {\"s\": "
             "[\"%s\", \"%s\"]}, \"cache\": {\"%s\": {\"time\": 1.0}, \"%s\": {\"time\": "
             "2.0}}}", long_value, short_value, short_value, long_value);
    const char *path = tmp("long.json");
    write_text(path, text, strlen(text));
    cutune_cache *c = NULL;
    CHECK_INT(cutune_cache_load(&c, path, NULL), CUTUNE_OK);
    for (size_t i = 0; c && i < 2; i++) {
        const uint32_t *cfg = cutune_cache_config(c, i);
        double t = cutune_cache_time(c, i, NULL);
        /* value 0 is the long one, timed 2.0; value 1 the short one, timed 1.0 */
        CHECK(cfg && fabs(t - (cfg[0] == 0 ? 2.0 : 1.0)) < 1e-12);
    }
    cutune_cache_free(c);
}

/* Every entry failed: the file loads, but there is nothing to score against. */
static void test_all_failed(void)
{
    const char *path = tmp("failed.json");
    CHECK_INT(write_cache_file(path, 2, (const int[]){2, 2}, all_fail), 0);
    cutune_cache *c;
    CHECK_INT(cutune_cache_load(&c, path, NULL), CUTUNE_OK);
    cutune_baseline *b = (cutune_baseline *)1;
    CHECK_INT(cutune_baseline_new(c, &b), CUTUNE_EEMPTY);
    CHECK_HAS(cutune_last_error(), "every configuration of the space failed");
    CHECK(b == NULL);
    /* a search on it runs to exhaustion and finds nothing */
    cutune_search_options o = {.strategy = "bo", .budget = 10, .seed = 1};
    cutune_search_result r;
    CHECK_INT(cutune_simulate(c, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(r.evaluations, 4);
    CHECK_INT(r.stop, CUTUNE_STOP_EXHAUSTED);
    CHECK(isnan(r.best_ms));
    cutune_cache_free(c);
}

/* With a T1 spec, the cache must hold exactly the spec's valid configurations. */
static void test_spec_check(void)
{
    cutune_cache *c;
    CHECK_INT(cutune_cache_load(&c, DATA "convolution/A100.json.gz",
                                DATA "convolution/spec.json"), CUTUNE_OK);
    CHECK_INT(cutune_cache_size(c), 4362);
    cutune_cache_free(c);
    CHECK(cutune_cache_load(&c, DATA "pnpoly/RTX_3090.json.gz", DATA "convolution/spec.json") !=
          CUTUNE_OK);
    CHECK_HAS(cutune_last_error(), "RTX_3090.json.gz");
    CHECK(c == NULL);
}

static int setup(void) { return make_test_dir(dir); }

static void teardown(void) { remove_test_dir(dir); }

TEST_LIST(TEST_CASE(test_good_file) TEST_CASE(test_gzip) TEST_CASE(test_bad_files)
          TEST_CASE(test_long_values) TEST_CASE(test_all_failed) TEST_CASE(test_spec_check));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
