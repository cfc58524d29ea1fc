/* test_store.c — the profile store: the selection rules, what a put keeps, persistence and
 * refresh, Kernel Tuner and T4 files in and out, damaged, newer and unreadable databases,
 * readers against a writer (run under TSan too), and two processes writing at once. */
#include "check.h"
#include "cutune.h"
#include "store/store_impl.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DATA CUTUNE_SOURCE_DIR "/data/spaces/"

static char dir[40];

static const char *path_in(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

static cutune_device_info device(const char *name, int major, int minor, int sms, int driver)
{
    cutune_device_info d = {.cc_major = major, .cc_minor = minor, .sm_count = sms,
                            .driver_version = driver, .runtime_version = 12040};
    snprintf(d.name, sizeof d.name, "%s", name);
    return d;
}

static cutune_profile profile(const cutune_device_info *d, const char *kernel, int64_t x,
                              int64_t y, const char *config, double ms)
{
    return (cutune_profile){.device = d->name, .cc_major = d->cc_major, .cc_minor = d->cc_minor,
                            .sm_count = d->sm_count, .driver_version = d->driver_version,
                            .runtime_version = d->runtime_version, .kernel = kernel,
                            .source_hash = "abc", .user_key = "float", .problem = {x, y, 1},
                            .params = "block_size_x,tile", .config = config, .time_ms = ms,
                            .median_ms = ms, .std_ms = 0.01, .strategy = "bo", .budget = 100};
}

static cutune_selection pick(cutune_store *s, const cutune_device_info *d, const char *kernel,
                             int64_t x, int64_t y)
{
    cutune_selection sel, prepared;
    cutune_kernel_id k = {kernel, "abc", "float"};
    CHECK_INT(cutune_select(s, d, &k, (int64_t[]){x, y, 0}, &sel), CUTUNE_OK);
    /* a selector prepared for the kernel and device answers the same */
    cutune_selector *sr;
    CHECK_INT(cutune_selector_new(&sr, s, d, &k), CUTUNE_OK);
    CHECK_INT(cutune_selector_get(sr, (int64_t[]){x, y, 1}, &prepared), CUTUNE_OK);
    CHECK(prepared.rule == sel.rule && prepared.profile == sel.profile &&
          strcmp(prepared.config, sel.config) == 0 &&
          memcmp(prepared.problem, sel.problem, sizeof sel.problem) == 0);
    cutune_selector_free(sr);
    return sel;
}

static void test_rules(void)
{
    char db[128];
    path_in("nested/folder/rules.db", db, sizeof db); /* the folders are made */
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK);
    cutune_device_info h100 = device("NVIDIA H100 80GB HBM3", 9, 0, 132, 13000),
                       h100_new_driver = device("NVIDIA H100 80GB HBM3", 9, 0, 132, 13010),
                       h200 = device("NVIDIA H200", 9, 0, 132, 13000),
                       a100 = device("NVIDIA A100", 8, 0, 108, 13000),
                       l4 = device("NVIDIA L4", 8, 9, 58, 13000);
    cutune_profile p = profile(&h100, "conv", 4096, 4096, "64,2", 0.35);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    p = profile(&h100, "conv", 1024, 1024, "32,4", 0.05);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    p = profile(&a100, "conv", 4096, 4096, "32,2", 0.55);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);

    cutune_selection sel = pick(s, &h100, "conv", 4096, 4096);
    CHECK_INT(sel.rule, CUTUNE_SELECT_EXACT);
    CHECK(strcmp(sel.config, "64,2") == 0 && strcmp(sel.params, "block_size_x,tile") == 0);
    CHECK(sel.time_ms == 0.35 && sel.profile > 0);
    sel = pick(s, &h100, "conv", 1500, 1500);
    CHECK_INT(sel.rule, CUTUNE_SELECT_NEAREST_SIZE);
    CHECK(strcmp(sel.config, "32,4") == 0 && sel.problem[0] == 1024);
    sel = pick(s, &h100_new_driver, "conv", 4096, 4096); /* same GPU, another driver */
    CHECK_INT(sel.rule, CUTUNE_SELECT_NEAREST_SIZE);
    CHECK(strcmp(sel.config, "64,2") == 0);
    sel = pick(s, &h200, "conv", 4096, 4096); /* another GPU of the same architecture */
    CHECK_INT(sel.rule, CUTUNE_SELECT_SIMILAR_DEVICE);
    CHECK(strcmp(sel.config, "64,2") == 0); /* sm_90 and 132 SMs: the H100's */
    sel = pick(s, &l4, "conv", 4096, 4096);
    CHECK_INT(sel.rule, CUTUNE_SELECT_SIMILAR_DEVICE);
    CHECK(strcmp(sel.config, "32,2") == 0); /* sm_8x: the A100's */
    sel = pick(s, &h100, "gemm", 4096, 4096);
    CHECK_INT(sel.rule, CUTUNE_SELECT_DEFAULT);
    CHECK(sel.profile == 0 && isnan(sel.time_ms) && sel.config[0] == '\0');
    /* another user key or source is another kernel */
    cutune_kernel_id other = {"conv", "abc", "double"};
    CHECK_INT(cutune_select(s, &h100, &other, (int64_t[]){4096, 4096, 1}, &sel), CUTUNE_OK);
    CHECK_INT(sel.rule, CUTUNE_SELECT_DEFAULT);

    /* a selector asked again answers from its thread's memo until the map changes */
    cutune_selector *kept;
    cutune_kernel_id conv = {"conv", "abc", "float"};
    CHECK_INT(cutune_selector_new(&kept, s, &h100, &conv), CUTUNE_OK);
    for (int k = 0; k < 3; k++) {
        CHECK_INT(cutune_selector_get(kept, (int64_t[]){4096, 4096, 0}, &sel), CUTUNE_OK);
        CHECK(sel.rule == CUTUNE_SELECT_EXACT && strcmp(sel.config, "64,2") == 0);
    }
    p = profile(&h100, "conv", 4096, 4096, "8,8", 0.01);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    CHECK_INT(cutune_selector_get(kept, (int64_t[]){4096, 4096, 1}, &sel), CUTUNE_OK);
    CHECK(strcmp(sel.config, "8,8") == 0 && sel.time_ms == 0.01);
    CHECK_INT(cutune_selector_get(kept, (int64_t[]){2000, 2000, 1}, &sel), CUTUNE_OK);
    CHECK(sel.rule == CUTUNE_SELECT_NEAREST_SIZE && sel.problem[0] == 1024);
    p = profile(&h100, "conv", 2000, 2000, "4,4", 0.02);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    CHECK_INT(cutune_selector_get(kept, (int64_t[]){2000, 2000, 1}, &sel), CUTUNE_OK);
    CHECK(sel.rule == CUTUNE_SELECT_EXACT && strcmp(sel.config, "4,4") == 0);
    cutune_selector_free(kept);
    cutune_store_prune(s, NULL, 0, NULL); /* back to nothing, then as before */
    p = profile(&h100, "conv", 4096, 4096, "64,2", 0.35);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    p = profile(&h100, "conv", 1024, 1024, "32,4", 0.05);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    p = profile(&a100, "conv", 4096, 4096, "32,2", 0.55);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);

    /* a slower result leaves the profile; a faster one replaces it */
    p = profile(&h100, "conv", 4096, 4096, "16,16", 0.90);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    CHECK(strcmp(pick(s, &h100, "conv", 4096, 4096).config, "64,2") == 0);
    p = profile(&h100, "conv", 4096, 4096, "128,2", 0.30);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    sel = pick(s, &h100, "conv", 4096, 4096);
    CHECK(strcmp(sel.config, "128,2") == 0 && sel.time_ms == 0.30);

    /* bad input */
    p = profile(&h100, "conv", 4096, 4096, "1,1", NAN);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_EINVAL);
    p = profile(&h100, "conv", -5, 4096, "1,1", 1);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_EINVAL);
    char longname[400];
    memset(longname, 'k', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    p = profile(&h100, longname, 1, 1, "1,1", 1);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_EINVAL);
    cutune_kernel_id lk = {longname, NULL, NULL};
    CHECK_INT(cutune_select(s, &h100, &lk, (int64_t[]){1, 1, 1}, &sel), CUTUNE_EINVAL);
    CHECK_INT(cutune_select(NULL, &h100, &lk, (int64_t[]){1, 1, 1}, &sel), CUTUNE_EINVAL);
    cutune_selector *sr = (cutune_selector *)1;
    CHECK_INT(cutune_selector_new(&sr, s, &h100, &lk), CUTUNE_EINVAL);
    CHECK(sr == NULL);
    CHECK_INT(cutune_selector_new(&sr, NULL, &h100, &other), CUTUNE_EINVAL);
    CHECK_INT(cutune_selector_get(NULL, (int64_t[]){1, 1, 1}, &sel), CUTUNE_EINVAL);
    cutune_store_free(s);

    /* reopened: the same answers from the file */
    CHECK_INT(cutune_store_open(&s, db, CUTUNE_STORE_READONLY), CUTUNE_OK);
    sel = pick(s, &h100, "conv", 4096, 4096);
    CHECK(sel.rule == CUTUNE_SELECT_EXACT && strcmp(sel.config, "128,2") == 0);
    p = profile(&h100, "conv", 8, 8, "1,1", 1);
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_EINVAL); /* read-only */
    CHECK_HAS(cutune_last_error(), "read-only");

    /* another handle writes; a refresh takes it in */
    cutune_store *w;
    CHECK_INT(cutune_store_open(&w, db, 0), CUTUNE_OK);
    p = profile(&l4, "conv", 4096, 4096, "8,8", 1.5);
    CHECK_INT(cutune_store_put(w, &p), CUTUNE_OK);
    CHECK_INT(pick(s, &l4, "conv", 4096, 4096).rule, CUTUNE_SELECT_SIMILAR_DEVICE);
    CHECK_INT(cutune_store_refresh(s), CUTUNE_OK);
    CHECK_INT(pick(s, &l4, "conv", 4096, 4096).rule, CUTUNE_SELECT_EXACT);
    uint64_t removed;
    CHECK_INT(cutune_store_prune(w, "conv", 0, &removed), CUTUNE_OK);
    CHECK_INT(removed, 4);
    CHECK_INT(pick(w, &h100, "conv", 4096, 4096).rule, CUTUNE_SELECT_DEFAULT);
    CHECK_INT(cutune_store_vacuum(w), CUTUNE_OK);
    cutune_store_free(w);
    cutune_store_free(s);
}

/* ------------------------------------------------------------------ files ---- */

static json_t *load_any(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
    FILE *f = popen(cmd, "r");
    json_t *j = f ? json_loadf(f, 0, NULL) : NULL;
    if (f)
        pclose(f);
    return j;
}

/* json_equal, where two missing values are equal too */
static int same(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && json_equal(a, b));
}

static int first_id(const cutune_profile *p, void *user)
{
    *(int64_t *)user = p->id;
    return 1;
}

static void test_files(void)
{
    char db[128], out[128];
    path_in("files.db", db, sizeof db);
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK);
    int64_t session = 0, id = 0;
    CHECK_INT(cutune_store_import(s, DATA "convolution/A100.json.gz", NULL, &session),
              CUTUNE_OK);
    CHECK_INT(session, 1);
    CHECK_INT(cutune_store_list(s, first_id, &id), CUTUNE_OK);
    CHECK_INT(id, 1);
    /* out again as a cache file: the same header and the same entries, failures included */
    char *text = NULL;
    CHECK_INT(cutune_store_export(s, id, CUTUNE_FORMAT_KERNEL_TUNER, &text), CUTUNE_OK);
    json_t *back = text ? json_loads(text, 0, NULL) : NULL, *orig = load_any(DATA
                                                                             "convolution/A100.json.gz");
    free(text);
    CHECK(back && orig && json_equal(back, orig));
    size_t failures = 0;
    const char *key;
    json_t *e;
    json_object_foreach(json_object_get(orig, "cache"), key, e)
        failures += json_is_string(json_object_get(e, "time"));
    CHECK(failures > 0); /* the test means something */
    /* T4 out, and in again as another session of the same profile */
    CHECK_INT(cutune_store_export(s, id, CUTUNE_FORMAT_T4, &text), CUTUNE_OK);
    json_t *t4 = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(t4 && json_array_size(json_object_get(t4, "results")) ==
                    json_object_size(json_object_get(orig, "cache")));
    FILE *f = fopen(path_in("a100.t4.json", out, sizeof out), "w");
    if (f) {
        fputs(text ? text : "", f);
        fclose(f);
    }
    free(text);
    CHECK_INT(cutune_store_import(s, out, NULL, &session), CUTUNE_OK);
    CHECK_INT(session, 2);
    CHECK_INT(cutune_store_export(s, id, CUTUNE_FORMAT_KERNEL_TUNER, &text), CUTUNE_OK);
    json_t *again = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    /* every configuration with the same time (or failure) and times */
    json_object_foreach(json_object_get(orig, "cache"), key, e) {
        json_t *a = json_object_get(json_object_get(again, "cache"), key);
        if (!a || !same(json_object_get(a, "time"), json_object_get(e, "time")) ||
            !same(json_object_get(a, "times"), json_object_get(e, "times"))) {
            fprintf(stderr, "T4 round trip changed %s\n", key);
            check_failures++;
            break;
        }
    }
    json_decref(again);
    json_decref(t4);
    json_decref(back);
    json_decref(orig);

    /* bad files: a clear error, nothing written */
    static const char *const bad[][2] = {
        {"not json at all", "line 1"},
        {"{\"a\": 1}", "neither a Kernel Tuner cache file"},
        {"{\"cache\": {}, \"device_name\": \"d\", \"kernel_name\": \"k\"}", "tune_params_keys"},
        {"{\"cache\": {\"1\": {\"time\": -3}}, \"device_name\": \"d\", \"kernel_name\": \"k\", "
         "\"tune_params_keys\": [\"x\"], \"tune_params\": {\"x\": [1]}}", "has time -3"},
        {"{\"cache\": {\"1\": {\"time\": [1]}}, \"device_name\": \"d\", \"kernel_name\": \"k\", "
         "\"tune_params_keys\": [\"x\"], \"tune_params\": {\"x\": [1]}}", "has no time"},
        /* what `tune --sim` refuses, import refuses: a key that is no configuration of the
         * file's tune_params, two keys of one configuration, a time written as a string, no
         * tune_params at all */
        {"{\"cache\": {\"999\": {\"time\": 1}}, \"device_name\": \"d\", \"kernel_name\": "
         "\"k\", \"tune_params_keys\": [\"x\"], \"tune_params\": {\"x\": [1, 2]}}",
         "'999' is not a value of 'x'"},
        {"{\"cache\": {\"1\": {\"time\": 1}, \"1.0\": {\"time\": 2}}, \"device_name\": \"d\", "
         "\"kernel_name\": \"k\", \"tune_params_keys\": [\"x\"], \"tune_params\": {\"x\": [1]}}",
         "are the same configuration"},
        {"{\"cache\": {\"1\": {\"time\": \"0.5\"}}, \"device_name\": \"d\", \"kernel_name\": "
         "\"k\", \"tune_params_keys\": [\"x\"], \"tune_params\": {\"x\": [1]}}",
         "has its time as a string"},
        {"{\"cache\": {\"1\": {\"time\": 1}}, \"device_name\": \"d\", \"kernel_name\": \"k\", "
         "\"tune_params_keys\": [\"x\"]}", "tune_params missing"},
        {"{\"cache\": {}, \"kernel_name\": \"k\", \"tune_params_keys\": [\"x\"]}",
         "does not name its device"},
        {"{\"cache\": {}, \"device_name\": \"d\", \"kernel_name\": \"k\", \"tune_params_keys\": "
         "[\"x\"], \"problem_size\": [1, -2]}", "problem_size"},
        {"{\"results\": [], \"metadata\": {}}", "results\" are empty"},
        {"{\"results\": [{\"configuration\": {\"x\": 1}, \"invalidity\": \"correct\"}]}",
         "no time measurement"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        f = fopen(path_in("bad.json", out, sizeof out), "w");
        if (f) {
            fputs(bad[k][0], f);
            fclose(f);
        }
        CHECK_INT(cutune_store_import(s, out, NULL, &session) != CUTUNE_OK, 1);
        CHECK_HAS(cutune_last_error(), bad[k][1]);
    }
    /* a truncated gzip file */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "head -c 5000 %s > %s", DATA "convolution/A100.json.gz",
             path_in("cut.json.gz", out, sizeof out));
    CHECK_INT(system(cmd), 0);
    CHECK_INT(cutune_store_import(s, out, NULL, &session), CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "truncated");
    CHECK_INT(cutune_store_export(s, 999, CUTUNE_FORMAT_T4, &text), CUTUNE_ENOTFOUND);
    /* nothing of the bad files went in */
    int64_t last = 0;
    CHECK_INT(cutune_store_list(s, first_id, &last), CUTUNE_OK);
    CHECK_INT(last, 1);
    cutune_store_free(s);
}

/* ------------------------------------------------------ damaged, newer, unreadable ---- */

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static int same_file(const char *a, const char *b)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static void test_faults(void)
{
    char db[128], copy[160], cmd[600];
    /* a database with content, checkpointed into its main file */
    path_in("full.db", db, sizeof db);
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK);
    CHECK_INT(cutune_store_import(s, DATA "convolution/A100.json.gz", NULL, NULL), CUTUNE_OK);
    CHECK_INT(cutune_store_vacuum(s), CUTUNE_OK);
    cutune_store_free(s);

    /* garbage where the database should be */
    path_in("garbage.db", db, sizeof db);
    FILE *f = fopen(db, "w");
    for (int i = 0; f && i < 4096; i++)
        fputc((i * 7919) & 0xff, f);
    if (f)
        fclose(f);
    snprintf(copy, sizeof copy, "%s.orig", db);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", db, copy);
    CHECK_INT(system(cmd), 0);
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_ECORRUPT);
    CHECK_HAS(cutune_last_error(), "is not an SQLite database");
    CHECK_HAS(cutune_last_error(), "left as it is");
    CHECK(same_file(db, copy));

    /* a truncated database: refused, untouched; the salvage keeps what can be read */
    char full[128];
    path_in("full.db", full, sizeof full);
    path_in("cut.db", db, sizeof db);
    snprintf(cmd, sizeof cmd, "head -c %ld '%s' > '%s' && cp '%s' '%s.orig'",
             file_size(full) * 2 / 3, full, db, db, db);
    CHECK_INT(system(cmd), 0);
    int st = cutune_store_open(&s, db, 0);
    CHECK_INT(st, CUTUNE_ECORRUPT);
    if (!st)
        cutune_store_free(s);
    snprintf(copy, sizeof copy, "%s.orig", db);
    CHECK(same_file(db, copy));
    uint64_t rows = 0;
    char kept[256];
    CHECK_INT(cutune_store_recover(db, &rows, kept, sizeof kept), CUTUNE_OK);
    /* the salvage reads through SQLite's b-trees: here, about two thirds of the 4362
     * evaluations lie in pages before the cut and are reachable */
    if (!(rows > 2000)) {
        fprintf(stderr, "salvaged %llu rows of %s\n", (unsigned long long)rows, db);
        check_failures++;
    }
    CHECK(same_file(kept, copy));
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK);
    if (s)
        cutune_store_free(s);

    /* a newer schema: refused, untouched */
    path_in("newer.db", db, sizeof db);
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK);
    cutune_store_free(s);
    sqlite3 *h;
    CHECK_INT(sqlite3_open(db, &h), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h, "INSERT INTO schema_version VALUES (99)", NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(h);
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_ENOTSUP);
    CHECK_HAS(cutune_last_error(), "newer cutune");

    /* no database, read-only; a folder where the file should be */
    CHECK_INT(cutune_store_open(&s, path_in("none.db", db, sizeof db), CUTUNE_STORE_READONLY),
              CUTUNE_ENOTFOUND);
    CHECK_INT(cutune_store_open(&s, dir, 0), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "is not a file");
    /* a folder nobody may write (root may: then there is nothing to see) */
    if (geteuid() != 0) {
        char ro[64];
        path_in("readonly", ro, sizeof ro);
        mkdir(ro, 0555);
        snprintf(db, sizeof db, "%s/p.db", ro);
        CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_EIO);
        CHECK_HAS(cutune_last_error(), "writable");
    }
    /* the default path follows CUTUNE_DB, then XDG_DATA_HOME */
    char where[256];
    setenv("CUTUNE_DB", "/x/y.db", 1);
    CHECK_INT(cutune_store_default_path(where, sizeof where), CUTUNE_OK);
    CHECK(strcmp(where, "/x/y.db") == 0);
    unsetenv("CUTUNE_DB");
    setenv("XDG_DATA_HOME", "/data", 1);
    CHECK_INT(cutune_store_default_path(where, sizeof where), CUTUNE_OK);
    CHECK(strcmp(where, "/data/cutune/profiles.db") == 0);
}

/* ------------------------------------------------------------- concurrency ---- */

/* A writer republishes profiles whose config says which version they are and whose time is
 * that version, faster each time: a reader that ever sees the two disagree saw a torn
 * profile, and one that sees a time go up saw an answer older than one it had seen. Readers
 * ask through cutune_select and through selectors (with their memos). */
#define KERNELS 16
#define VERSIONS 200

typedef struct race {
    cutune_store *s;
    cutune_device_info dev;
    int stop;
    unsigned long lookups, torn, misses, went_back;
} race;

typedef struct racer {
    race *r;
    int prepared; /* asks through selectors */
} racer;

static void *reader(void *arg)
{
    racer *me = arg;
    race *r = me->r;
    unsigned long lookups = 0, torn = 0, misses = 0, went_back = 0;
    char kernel[KERNELS][32];
    cutune_selector *sel[KERNELS] = {0};
    double last[KERNELS];
    for (int k = 0; k < KERNELS; k++) {
        snprintf(kernel[k], sizeof kernel[k], "k%d", k);
        cutune_kernel_id id = {kernel[k], "abc", "float"};
        if (me->prepared && cutune_selector_new(&sel[k], r->s, &r->dev, &id))
            torn++;
        last[k] = INFINITY;
    }
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        int k = (int)(lookups % KERNELS);
        cutune_selection got;
        cutune_kernel_id id = {kernel[k], "abc", "float"};
        if (me->prepared)
            cutune_selector_get(sel[k], (int64_t[]){1024, 1024, 1}, &got);
        else
            cutune_select(r->s, &r->dev, &id, (int64_t[]){1024, 1024, 1}, &got);
        if (got.rule == CUTUNE_SELECT_EXACT) {
            char want[64];
            snprintf(want, sizeof want, "%d,%d", (int)got.time_ms, (int)got.time_ms);
            torn += strcmp(want, got.config) != 0;
            went_back += got.time_ms > last[k];
            last[k] = got.time_ms;
        } else {
            misses++;
        }
        lookups++;
    }
    for (int k = 0; k < KERNELS; k++)
        cutune_selector_free(sel[k]);
    __atomic_fetch_add(&r->lookups, lookups, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->torn, torn, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->misses, misses, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->went_back, went_back, __ATOMIC_RELAXED);
    return NULL;
}

static void test_readers_and_writer(void)
{
    char db[128];
    race r = {.dev = device("GPU", 9, 0, 132, 13000)};
    CHECK_INT(cutune_store_open(&r.s, path_in("race.db", db, sizeof db), 0), CUTUNE_OK);
    pthread_t t[3];
    racer who[3] = {{&r, 0}, {&r, 1}, {&r, 1}};
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, reader, &who[i]);
    char kernel[32], config[64];
    for (int v = VERSIONS; v >= 1; v--) /* faster each time, so every put replaces */
        for (int k = 0; k < KERNELS; k++) {
            snprintf(kernel, sizeof kernel, "k%d", k);
            snprintf(config, sizeof config, "%d,%d", v, v);
            cutune_profile p = profile(&r.dev, kernel, 1024, 1024, config, v);
            if (cutune_store_put(r.s, &p)) {
                fprintf(stderr, "put: %s\n", cutune_last_error());
                check_failures++;
            }
        }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(r.torn, 0);
    CHECK_INT(r.went_back, 0);
    CHECK(r.lookups > 1000);
    cutune_selection sel = pick(r.s, &r.dev, "k3", 1024, 1024);
    CHECK(strcmp(sel.config, "1,1") == 0);
    cutune_store_free(r.s);
}

/* One of the two processes: 10,000 profiles on its own GPU. */
static int child_writer(int which, const char *db)
{
    cutune_store *mine;
    if (cutune_store_open(&mine, db, 0)) {
        fprintf(stderr, "child %d: %s\n", which, cutune_last_error());
        return 10;
    }
    cutune_device_info d = device(which ? "GPU B" : "GPU A", 9, 0, 132, 13000);
    for (int i = 0; i < 10000; i++) {
        cutune_profile p = profile(&d, "k", i + 1, 1, "1,1", 1.0);
        if (cutune_store_put(mine, &p)) {
            fprintf(stderr, "child %d, put %d: %s\n", which, i, cutune_last_error());
            return 11;
        }
    }
    cutune_store_free(mine);
    return 0;
}

/* Two processes (this test run again), 10,000 profiles each, one database. */
static void test_two_processes(void)
{
    char db[128];
    path_in("shared.db", db, sizeof db);
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK); /* created once, before the race */
    cutune_store_free(s);
    pid_t kids[2];
    extern char **environ;
    for (int c = 0; c < 2; c++) { /* (spawned: fork handlers and TSan stay out of it) */
        char *args[] = {"test_store", "--child", c ? "1" : "0", db, NULL};
        CHECK_INT(posix_spawn(&kids[c], "/proc/self/exe", NULL, NULL, args, environ), 0);
    }
    for (int c = 0; c < 2; c++) {
        int status = -1;
        waitpid(kids[c], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INT(cutune_store_open(&s, db, CUTUNE_STORE_READONLY), CUTUNE_OK);
    int64_t count = 0;
    CHECK_INT(cutune_store_list(s, NULL, NULL), CUTUNE_EINVAL);
    sqlite3 *h;
    sqlite3_stmt *q;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT count(*) FROM profiles", -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            count = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(h);
    CHECK_INT(count, 20000);
    cutune_device_info b = device("GPU B", 9, 0, 132, 13000);
    CHECK_INT(pick(s, &b, "k", 9999, 1).rule, CUTUNE_SELECT_EXACT);
    cutune_store_free(s);
}

/* What a new session warm-starts from: the fastest configurations of the nearest other size
 * of the same kernel, GPU and space. */
typedef struct warm {
    char config[8][32];
    double time[8];
    int n;
} warm;

static int note_warm(const char *config, double time_ms, void *user)
{
    warm *w = user;
    if (w->n < 8) {
        snprintf(w->config[w->n], sizeof w->config[0], "%s", config);
        w->time[w->n++] = time_ms;
    }
    return CUTUNE_OK;
}

static void test_warm_start(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/warm.db", dir);
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, path, 0), CUTUNE_OK);
    /* sizes 1000 and 4096 of the space "A"; 2000 of space "B"; 2048 on another GPU */
    struct { int64_t n; const char *space, *device; } sessions[] = {
        {1000, "A", "GPU"}, {4096, "A", "GPU"}, {2000, "B", "GPU"}, {2048, "A", "Other"}};
    for (int k = 0; k < 4; k++) {
        ct_session_row row = {.key = {.device = sessions[k].device, .kernel = "k",
                                      .problem = {sessions[k].n, 1, 1}, .strategy = "bo",
                                      .params = "x"},
                              .space_hash = sessions[k].space, .header = "{}",
                              .origin = "test"};
        int64_t id;
        CHECK_INT(ct_store_session_begin(s, &row, &id), CUTUNE_OK);
        for (int c = 0; c < 6; c++) {
            char config[16];
            snprintf(config, sizeof config, "%d", c + 10 * k);
            double t = c == 0 ? NAN : 10.0 - c;
            CHECK_INT(ct_store_session_add(s, id, config, t, c == 0 ? "RuntimeFailedConfig"
                                                                   : NULL, "{}"),
                      CUTUNE_OK);
        }
    }
    ct_session_row want = {.key = {.device = "GPU", .kernel = "k", .problem = {2048, 1, 1}},
                           .space_hash = "A"};
    warm w = {0};
    int64_t from[3];
    CHECK_INT(ct_store_session_nearby(s, &want, 3, from, note_warm, &w), CUTUNE_OK);
    CHECK(from[0] == 4096 && from[1] == 1 && from[2] == 1); /* log 2 away; 1000 is farther */
    CHECK_INT(w.n, 3);
    CHECK(strcmp(w.config[0], "15") == 0 && strcmp(w.config[1], "14") == 0 &&
          strcmp(w.config[2], "13") == 0 && w.time[0] == 5.0);
    /* nothing at other sizes: another kernel, or the only size there is */
    want.key.kernel = "other";
    w.n = 0;
    CHECK_INT(ct_store_session_nearby(s, &want, 3, from, note_warm, &w), CUTUNE_OK);
    CHECK(w.n == 0 && from[0] == 0);
    want.key = (cutune_profile){.device = "GPU", .kernel = "k", .problem = {2000, 1, 1}};
    want.space_hash = "B";
    CHECK_INT(ct_store_session_nearby(s, &want, 3, from, note_warm, &w), CUTUNE_OK);
    CHECK(w.n == 0 && from[0] == 0);
    cutune_store_free(s);
}

/* The launcher's checks that need no GPU; without one it says so. */
static void test_launcher_without_gpu(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/launch.db", dir);
    cutune_store *s;
    cutune_launcher *l = (cutune_launcher *)1;
    CHECK_INT(cutune_store_open(&s, path, 0), CUTUNE_OK);
    CHECK_INT(cutune_launcher_new(&l, NULL, CUTUNE_SOURCE_DIR "/kernels/convolution.json", NULL,
                                  NULL),
              CUTUNE_EINVAL);
    CHECK(l == NULL);
    CHECK_INT(cutune_launcher_new(&l, s, "/nonexistent/spec.json", NULL, NULL), CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "/nonexistent/spec.json");
    int count, st = cutune_launcher_new(&l, s, CUTUNE_SOURCE_DIR "/kernels/convolution.json",
                                        "/nonexistent/kernel.cu", NULL);
    CHECK_INT(st, CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "/nonexistent/kernel.cu");
    st = cutune_launcher_new(&l, s, CUTUNE_SOURCE_DIR "/kernels/convolution.json", NULL, NULL);
    if (cutune_device_count(&count) != CUTUNE_OK)
        CHECK_INT(st, CUTUNE_ENODEVICE);
    else
        CHECK_INT(st, CUTUNE_OK);
    cutune_launcher_free(l);
    cutune_launcher_free(NULL);
    cutune_store_free(s);
}

static int setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/cutune-store-XXXXXX");
    if (make_test_dir(dir))
        return 1;
    unsetenv("CUTUNE_DB");
    return 0;
}

static void teardown(void) { remove_test_dir(dir); }

/* What a measurement says beyond its time (the median's interval, the confirmation, the
 * clocks) goes out to T4 as measurements with their units and comes back to the cache. */
static void test_measurement_keys(void)
{
    char db[128], kt[128], t4[128];
    path_in("keys.db", db, sizeof db);
    FILE *f = fopen(path_in("keys.json", kt, sizeof kt), "w");
    if (f) {
        fputs("{\"device_name\": \"test device\", \"kernel_name\": \"k\", "
              "\"tune_params_keys\": [\"p\"], \"tune_params\": {\"p\": [1, 2]}, "
              "\"objective\": \"time\", \"cache\": {"
              "\"1\": {\"p\": 1, \"time\": 2.0, \"times\": [2.0, 2.0], \"time_median\": 2.0, "
              "\"time_median_lo\": 1.9, \"time_median_hi\": 2.1, \"time_confirmed\": 2.05, "
              "\"sm_clock_mhz_before\": 1980, \"compile_time\": 1.0}, "
              "\"2\": {\"p\": 2, \"time\": \"RuntimeFailedConfig\", \"compile_time\": 1.0}}}",
              f);
        fclose(f);
    }
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK);
    int64_t session = 0, id = 0;
    CHECK_INT(cutune_store_import(s, kt, NULL, &session), CUTUNE_OK);
    CHECK_INT(cutune_store_list(s, first_id, &id), CUTUNE_OK);
    char *text = NULL;
    CHECK_INT(cutune_store_export(s, id, CUTUNE_FORMAT_T4, &text), CUTUNE_OK);
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL, *m;
    size_t k;
    int found = 0;
    json_array_foreach(json_object_get(json_array_get(json_object_get(doc, "results"), 0),
                                       "measurements"), k, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *unit = json_string_value(json_object_get(m, "unit"));
        double v = json_number_value(json_object_get(m, "value"));
        if (!name || !unit)
            continue;
        found += strcmp(name, "time_median_lo") == 0 && v == 1.9 && strcmp(unit, "ms") == 0;
        found += strcmp(name, "time_confirmed") == 0 && v == 2.05 && strcmp(unit, "ms") == 0;
        found += strcmp(name, "sm_clock_mhz_before") == 0 && v == 1980 &&
                 strcmp(unit, "MHz") == 0;
    }
    CHECK_INT(found, 3);
    json_decref(doc);
    f = fopen(path_in("keys.t4.json", t4, sizeof t4), "w");
    if (f) {
        fputs(text ? text : "", f);
        fclose(f);
    }
    free(text);
    cutune_store_free(s);
    path_in("keys2.db", db, sizeof db);
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK);
    CHECK_INT(cutune_store_import(s, t4, NULL, &session), CUTUNE_OK);
    id = 0;
    CHECK_INT(cutune_store_list(s, first_id, &id), CUTUNE_OK);
    CHECK_INT(cutune_store_export(s, id, CUTUNE_FORMAT_KERNEL_TUNER, &text), CUTUNE_OK);
    json_t *back = text ? json_loads(text, 0, NULL) : NULL;
    json_t *e = json_object_get(json_object_get(back, "cache"), "1");
    CHECK(json_number_value(json_object_get(e, "time_median_hi")) == 2.1);
    CHECK(json_number_value(json_object_get(e, "time_confirmed")) == 2.05);
    CHECK(json_number_value(json_object_get(e, "sm_clock_mhz_before")) == 1980);
    json_decref(back);
    free(text);
    cutune_store_free(s);
}

static int copy_profile(const cutune_profile *p, void *user)
{
    *(cutune_profile *)user = *p; /* (only its numbers are read) */
    return 1;
}

/* A store of schema version 2 (before the medians' intervals) with an entry that does not
 * parse: salvaged (the profile too), then opened and migrated, its profile kept with no
 * interval; a faster profile brings its own. */
static void test_older_store(void)
{
    char db[128], kept[4200];
    path_in("older.db", db, sizeof db);
    cutune_device_info h100 = device("NVIDIA H100 80GB HBM3", 9, 0, 132, 13000);
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK);
    cutune_profile p = profile(&h100, "conv", 4096, 4096, "64,2", 0.35), got = {0};
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    cutune_store_free(s);
    sqlite3 *h;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK &&
          sqlite3_exec(h, "ALTER TABLE profiles DROP COLUMN median_lo_ms; ALTER TABLE profiles "
                          "DROP COLUMN median_hi_ms; DELETE FROM schema_version WHERE version "
                          "= 3; INSERT INTO evaluations VALUES (1, 'x', 1.0, NULL, '{bad', 0)",
                          NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(h);
    uint64_t rows = 0;
    CHECK_INT(cutune_store_recover(db, &rows, kept, sizeof kept), CUTUNE_OK);
    CHECK(rows >= 1);
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK);
    CHECK_INT(cutune_store_list(s, copy_profile, &got), CUTUNE_OK);
    CHECK(got.time_ms == 0.35 && isnan(got.median_lo_ms) && isnan(got.median_hi_ms));
    p = profile(&h100, "conv", 4096, 4096, "32,2", 0.30);
    p.median_lo_ms = 0.29, p.median_hi_ms = 0.31;
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    CHECK_INT(cutune_store_list(s, copy_profile, &got), CUTUNE_OK);
    CHECK(got.time_ms == 0.30 && got.median_lo_ms == 0.29 && got.median_hi_ms == 0.31);
    cutune_store_free(s);
}

TEST_LIST(TEST_CASE(test_rules) TEST_CASE(test_files) TEST_CASE(test_measurement_keys)
          TEST_CASE(test_older_store) TEST_CASE(test_faults)
          TEST_CASE(test_readers_and_writer) TEST_CASE(test_two_processes)
          TEST_CASE(test_warm_start) TEST_CASE(test_launcher_without_gpu));

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return child_writer(atoi(argv[2]), argv[3]);
    return TEST_RUN(argc, argv, setup, teardown);
}
