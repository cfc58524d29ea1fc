/* test_metrics.c — metrics and objectives (issue 25, item 5) on the CPU: metrics added and
 * refused (a name that is taken, an unknown name, bad syntax), computed for every
 * configuration (a division by a time of 0 is NaN, not a crash), an objective with higher or
 * lower better picking the right best (the default's when nothing beats it), what the search
 * and its callback see, a spec's Metrics, and the files: Kernel Tuner cache entries with the
 * metrics as keys, T4 measurements, the profile store's entries. Sessions over a custom
 * objective and over a recorded space need no GPU. */
#include "check.h"
#include "cutune.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/cutune-metrics-XXXXXX";

static const char *at(const char *name) { return test_path(dir, name); }

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(at(name), "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* x in 1..8, y in 1..3 (default 8, 3): time 1 + 0.1 x y ms, fastest at (1, 1); x = 5 does not
 * work; (2, 2) takes no time at all (a metric dividing by it cannot be computed). */
static int cost(const uint32_t *c, void *user, double *value, const char **failure)
{
    int *calls = user;
    (*calls)++;
    double x = 1 + c[0], y = 1 + c[1];
    if (x == 5) {
        *failure = "x = 5 does not work";
        return 0;
    }
    *value = x == 2 && y == 2 ? 0 : 1 + 0.1 * x * y;
    return 0;
}

static cutune_space *make_space(void)
{
    cutune_space *sp;
    CHECK_INT(cutune_space_new(&sp), CUTUNE_OK);
    CHECK_INT(cutune_space_add_int(sp, "x", (int64_t[]){1, 2, 3, 4, 5, 6, 7, 8}, 8), CUTUNE_OK);
    CHECK_INT(cutune_space_add_int(sp, "y", (int64_t[]){1, 2, 3}, 3), CUTUNE_OK);
    CHECK_INT(cutune_space_set_default(sp, (uint32_t[]){7, 2}), CUTUNE_OK);
    return sp;
}

/* A session over the objective `cost` with the metric "rate" (NULL when it cannot be made). */
static cutune_session *rate_session(cutune_space *sp, int *calls)
{
    cutune_session *s = NULL;
    CHECK_INT(cutune_session_new_objective(&s, sp, "xy", cost, calls), CUTUNE_OK);
    if (s)
        CHECK_INT(cutune_session_add_metric(s, "rate", "x * y / time"), CUTUNE_OK);
    return s;
}

static void test_adding(void)
{
    cutune_space *sp = make_space();
    int calls = 0;
    cutune_session *s = rate_session(sp, &calls);
    if (!s) {
        cutune_space_free(sp);
        return;
    }
    CHECK_INT(cutune_session_add_metric(s, "twice", "2 * rate"), CUTUNE_OK);
    CHECK_INT(cutune_session_add_metric(s, "GFLOP/s", "x * 1e3 / (time / 1e3) / 1e9"),
              CUTUNE_OK);
    CHECK_INT(cutune_session_add_metric(s, "", "1"), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_add_metric(s, "time", "1"), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "one of Kernel Tuner's keys");
    CHECK_INT(cutune_session_add_metric(s, "compile_time", "1"), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_add_metric(s, "x", "1"), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "a parameter's");
    CHECK_INT(cutune_session_add_metric(s, "rate", "1"), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "defined twice");
    CHECK_INT(cutune_session_add_metric(s, "bad", "x * (y"), CUTUNE_EPARSE);
    CHECK_HAS(cutune_last_error(), "metric 'bad' (x * (y): column");
    CHECK_INT(cutune_session_add_metric(s, "typo", "x / tme"), CUTUNE_ENAME);
    CHECK_HAS(cutune_last_error(), "metric 'typo' (x / tme): unknown name 'tme'");
    CHECK_INT(cutune_session_add_metric(s, "later", "thrice + 1"), CUTUNE_ENAME);
    CHECK_INT(cutune_session_add_metric(s, "ctl\tname", "1"), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_add_metric(NULL, "a", "1"), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_num_metrics(s), 3);
    CHECK_HAS(cutune_session_metric_name(s, 2), "GFLOP/s");
    CHECK(cutune_session_metric_name(s, 3) == NULL);
    for (int k = 3; k < 32; k++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", k);
        CHECK_INT(cutune_session_add_metric(s, name, "time"), CUTUNE_OK);
    }
    CHECK_INT(cutune_session_add_metric(s, "m32", "time"), CUTUNE_ETOOBIG);
    /* the objective names a metric, or time */
    CHECK_INT(cutune_session_set_objective(s, "nope", 1), CUTUNE_ENOTFOUND);
    CHECK_HAS(cutune_last_error(), "no metric 'nope': the objective is time or a metric: "
                                   "rate, twice, GFLOP/s");
    int higher = -1;
    CHECK_HAS(cutune_session_objective_name(s, &higher), "time");
    CHECK_INT(higher, 0);
    CHECK_INT(cutune_session_set_objective(s, "twice", 1), CUTUNE_OK);
    CHECK_HAS(cutune_session_objective_name(s, &higher), "twice");
    CHECK_INT(higher, 1);
    CHECK_INT(cutune_session_set_objective(s, NULL, 0), CUTUNE_OK);
    CHECK_HAS(cutune_session_objective_name(s, NULL), "time");
    CHECK(cutune_session_objective_name(NULL, &higher) == NULL);
    CHECK(isnan(cutune_session_metric(s, 0, 0))); /* not measured yet */
    CHECK(isnan(cutune_session_metric(NULL, 0, 0)));
    CHECK(isnan(cutune_session_objective(s, 0)));
    /* measured: set no more */
    cutune_search_options o = {.strategy = "brute", .budget = 3};
    cutune_session_result r;
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(cutune_session_add_metric(s, "late", "time"), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "set before its first run");
    CHECK_INT(cutune_session_set_objective(s, "rate", 1), CUTUNE_EINVAL);
    cutune_session_free(s);
    cutune_space_free(sp);
}

/* What the callback saw: the objective's best so far, never worse. */
typedef struct seen {
    int n, higher, best_worse, failures_without_time, objective_failures;
    double best;
    size_t best_entry;
    const cutune_session *s;
} seen;

static int watch(const cutune_evaluation *e, void *user)
{
    seen *w = user;
    w->n++;
    if (e->failure && !isnan(e->time_ms))
        w->failures_without_time++;
    if (e->failure && strstr(e->failure, "the objective"))
        w->objective_failures++;
    if (e->best_entry != (size_t)-1) {
        if (!isnan(w->best) && (w->higher ? e->best_objective < w->best
                                          : e->best_objective > w->best))
            w->best_worse++;
        w->best = e->best_objective;
        w->best_entry = e->best_entry;
        /* best_ms is the best's time, not the fastest */
        double x = 1 + (double)(e->best_entry / 3), y = 1 + (double)(e->best_entry % 3);
        CHECK(fabs(e->best_ms - (1 + 0.1 * x * y)) < 1e-12);
    }
    return 0;
}

static void test_objective(int higher)
{
    cutune_space *sp = make_space();
    int calls = 0;
    cutune_session *s = rate_session(sp, &calls);
    if (!s) {
        cutune_space_free(sp);
        return;
    }
    CHECK_INT(cutune_session_add_metric(s, "twice", "2 * rate"), CUTUNE_OK);
    CHECK_INT(cutune_session_set_objective(s, "twice", higher), CUTUNE_OK);
    cutune_search_options o = {.strategy = "brute", .budget = 100};
    seen w = {.higher = higher, .best = NAN, .best_entry = (size_t)-1, .s = s};
    cutune_session_result r;
    CHECK_INT(cutune_session_run(s, &o, watch, &w, &r), CUTUNE_OK);
    CHECK_INT(r.search.evaluations, 24);
    CHECK_INT(w.best_worse, 0);
    CHECK_INT(w.failures_without_time, 0);
    CHECK_INT(w.objective_failures, 1); /* (2, 2): no time, no rate */
    /* the best by the objective, over every configuration that ran */
    size_t want = (size_t)-1;
    double best = NAN;
    for (size_t i = 0; i < 24; i++) {
        double x = 1 + (double)(i / 3), y = 1 + (double)(i % 3), v = cutune_session_objective(s, i);
        if (x == 5 || (x == 2 && y == 2)) {
            CHECK(isnan(v));
            CHECK(isnan(cutune_session_metric(s, i, 0)));
            continue;
        }
        double t = 1 + 0.1 * x * y;
        CHECK(fabs(cutune_session_metric(s, i, 0) - x * y / t) < 1e-12);
        CHECK(fabs(v - 2 * x * y / t) < 1e-12);
        if (isnan(best) || (higher ? v > best : v < best)) {
            best = v;
            want = i;
        }
    }
    CHECK_INT(r.search.best_entry, want);
    CHECK_INT(w.best_entry, want);
    CHECK_INT(want, higher ? 23 : 0); /* (8, 3), the default; or (1, 1), also the fastest */
    CHECK(fabs(r.search.best_ms - (higher ? 3.4 : 1.1)) < 1e-12);
    CHECK(fabs(r.default_ms - 3.4) < 1e-12);
    CHECK(fabs(r.speedup - r.default_ms / r.search.best_ms) < 1e-12); /* times' ratio */
    CHECK(fabs(cutune_session_objective(s, r.search.best_entry) - best) < 1e-12);

    /* the files: metrics as keys of each entry, the objective in the header and in T4 */
    CHECK_INT(cutune_session_write_kt_cache(s, at("kt.json")), CUTUNE_OK);
    CHECK_INT(cutune_session_write_t4(s, at("t4.json")), CUTUNE_OK);
    json_t *kt = json_load_file(at("kt.json"), 0, NULL), *t4 = json_load_file(at("t4.json"), 0,
                                                                             NULL);
    CHECK(kt && t4);
    CHECK_HAS(json_string_value(json_object_get(kt, "objective")), "twice");
    json_t *cache = json_object_get(kt, "cache");
    json_t *e = json_object_get(cache, "8,3"), *zero = json_object_get(cache, "2,2"),
           *failed = json_object_get(cache, "5,1");
    CHECK(fabs(json_number_value(json_object_get(e, "rate")) - 24 / 3.4) < 1e-12);
    CHECK(fabs(json_number_value(json_object_get(e, "twice")) - 48 / 3.4) < 1e-12);
    CHECK(json_is_null(json_object_get(zero, "rate"))); /* 4 / 0: none */
    CHECK(json_number_value(json_object_get(zero, "time")) == 0);
    CHECK(json_object_get(failed, "rate") == NULL); /* a failure has no metrics */
    size_t k;
    json_t *res;
    int measured = 0;
    json_array_foreach(json_object_get(t4, "results"), k, res) {
        CHECK_HAS(json_string_value(json_array_get(json_object_get(res, "objectives"), 0)),
                  "twice");
        size_t m;
        json_t *meas;
        json_array_foreach(json_object_get(res, "measurements"), m, meas) {
            const char *name = json_string_value(json_object_get(meas, "name"));
            const char *unit = json_string_value(json_object_get(meas, "unit"));
            if (name && strcmp(name, "rate") == 0) {
                measured++;
                CHECK_HAS(unit, "");
                CHECK(unit && !*unit);
            }
            if (name && strcmp(name, "time") == 0)
                CHECK_HAS(unit, "ms");
        }
    }
    CHECK_INT(measured, 20); /* 24, less 3 failures, less (2, 2) */
    json_decref(kt);
    json_decref(t4);
    /* and the cache loads back for simulation */
    cutune_cache *c = NULL;
    CHECK_INT(cutune_cache_load(&c, at("kt.json"), NULL), CUTUNE_OK);
    CHECK_INT(cutune_cache_size(c), 24);
    cutune_cache_free(c);
    cutune_session_free(s);
    cutune_space_free(sp);
}

/* Nothing beats the default by the objective: it stays the best, though not the fastest. */
static void test_default_stays(void)
{
    cutune_space *sp = make_space();
    cutune_session *s;
    int calls = 0;
    s = rate_session(sp, &calls);
    CHECK_INT(cutune_session_set_objective(s, "rate", 1), CUTUNE_OK);
    cutune_search_options o = {.strategy = "random", .budget = 4, .seed = 3};
    cutune_session_result r;
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(r.search.best_entry, 23);
    CHECK_INT(r.default_entry, 23);
    CHECK(r.speedup == 1.0);
    cutune_session_free(s);

    /* an objective that is never positive: every configuration fails to the strategy */
    CHECK_INT(cutune_session_new_objective(&s, sp, "xy", cost, &calls), CUTUNE_OK);
    CHECK_INT(cutune_session_add_metric(s, "minus", "-time"), CUTUNE_OK);
    CHECK_INT(cutune_session_set_objective(s, "minus", 0), CUTUNE_OK);
    seen w = {.best = NAN, .best_entry = (size_t)-1, .s = s};
    CHECK_INT(cutune_session_run(s, &o, watch, &w, &r), CUTUNE_OK);
    CHECK_INT(r.search.best_entry, (size_t)-1);
    CHECK(isnan(r.search.best_ms));
    CHECK_INT(w.objective_failures, 4);
    cutune_session_free(s);
    cutune_space_free(sp);
}

/* A recorded space: ProblemSize from its file; higher is better picks the right one. */
static void test_recorded(void)
{
    write_text("rec.json",
               "{\"device_name\": \"Fake GPU\", \"kernel_name\": \"k\", \"problem_size\": [1000],"
               " \"tune_params_keys\": [\"b\"], \"tune_params\": {\"b\": [32, 64, 128, 256]},"
               " \"objective\": \"time\", \"cache\": {"
               "\"32\": {\"b\": 32, \"time\": 1.0}, \"64\": {\"b\": 64, \"time\": 1.5},"
               "\"128\": {\"b\": 128, \"time\": 2.0}, \"256\": {\"b\": 256, \"time\": "
               "\"RuntimeFailedConfig\"}}}");
    cutune_cache *c = NULL;
    CHECK_INT(cutune_cache_load(&c, at("rec.json"), NULL), CUTUNE_OK);
    if (!c)
        return;
    cutune_session *s;
    CHECK_INT(cutune_session_new_cache(&s, c, 0), CUTUNE_OK);
    CHECK_INT(cutune_session_add_metric(s, "work", "ProblemSize[0] * b / time"), CUTUNE_OK);
    CHECK_INT(cutune_session_add_metric(s, "oops", "ProblemSize[1]"), CUTUNE_OK);
    CHECK_INT(cutune_session_set_objective(s, "work", 1), CUTUNE_OK);
    cutune_search_options o = {.strategy = "brute", .budget = 10};
    cutune_session_result r;
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_OK);
    char key[32];
    CHECK_HAS(cutune_session_key(s, r.search.best_entry, key, sizeof key), "128");
    CHECK(fabs(cutune_session_objective(s, r.search.best_entry) - 64000) < 1e-9);
    CHECK(r.search.best_ms == 2.0); /* the slowest that ran: the most work per ms */
    CHECK(isnan(cutune_session_metric(s, r.search.best_entry, 1))); /* no ProblemSize[1] */
    cutune_session_free(s);
    cutune_cache_free(c);
}

/* A spec's Metrics, top level or in the KernelSpecification, and what is wrong with them. */
static void test_spec_metrics(void)
{
    write_text("k.cu", "__global__ void k(float *o) {}\n");
    static const char *const form =
        "{\"ConfigurationSpace\": {\"TuningParameters\": [{\"Name\": \"block_size_x\", "
        "\"Values\": [32, 64], \"Default\": 32}]}, %s\"KernelSpecification\": {%s"
        "\"KernelName\": \"k\", \"KernelFile\": \"k.cu\", \"ProblemSize\": [4096], "
        "\"Arguments\": [{\"Name\": \"o\", \"Type\": \"float\", \"Size\": 4096, \"Output\": 1}]}}";
    static const struct {
        const char *top, *inner;
        int status;
        const char *why;
    } cases[] = {
        {"\"Metrics\": [{\"Name\": \"GB/s\", \"Expression\": \"ProblemSize[0] * 4 / 1e9 / "
         "(time / 1e3)\"}, {\"Name\": \"per_block\", \"Expression\": \"block_size_x\"}], ",
         "", CUTUNE_OK, NULL},
        {"", "\"Metrics\": [{\"Name\": \"GB/s\", \"Expression\": \"1 / time\"}], ", CUTUNE_OK,
         NULL},
        {"\"Metrics\": [{\"Name\": \"a\", \"Expression\": \"1\"}], ",
         "\"Metrics\": [{\"Name\": \"b\", \"Expression\": \"1\"}], ", CUTUNE_EINVAL,
         "Metrics is given twice"},
        {"\"Metrics\": {\"a\": \"1\"}, ", "", CUTUNE_EINVAL, "Metrics must be a list"},
        {"\"Metrics\": [{\"Name\": \"a\"}], ", "", CUTUNE_EINVAL,
         "Metrics[0] needs a Name and an Expression"},
        {"\"Metrics\": [{\"Name\": \"a\", \"Expression\": \"1\"}, {\"Name\": \"b\", "
         "\"Expression\": \"block_size_y / time\"}], ", "", CUTUNE_ENAME,
         "Metrics[1]: metric 'b' (block_size_y / time): unknown name 'block_size_y'"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char text[2048];
        snprintf(text, sizeof text, form, cases[c].top, cases[c].inner);
        write_text("m.json", text);
        cutune_session *s = NULL;
        cutune_session_options so = {.device = -1};
        CHECK_INT(cutune_session_new(&s, at("m.json"), NULL, &so), cases[c].status);
        if (cases[c].why)
            CHECK_HAS(cutune_last_error(), cases[c].why);
        if (!cases[c].status)
            CHECK_INT(cutune_session_num_metrics(s), c == 0 ? 2 : 1);
        if (c == 0) {
            CHECK_HAS(cutune_session_metric_name(s, 0), "GB/s");
            CHECK_INT(cutune_session_add_spec_metrics(s, at("m.json")), CUTUNE_EINVAL);
            CHECK_HAS(cutune_last_error(), "Metrics[0]: metric 'GB/s' is defined twice");
            CHECK_INT(cutune_session_add_spec_metrics(s, at("missing.json")), CUTUNE_EIO);
        }
        cutune_session_free(s);
    }
}

/* The profile store keeps each evaluation with its metrics; its profile stays the fastest. */
static void test_store(void)
{
    cutune_space *sp = make_space();
    cutune_session *s;
    cutune_store *store = NULL;
    int calls = 0;
    CHECK_INT(cutune_store_open(&store, at("p.db"), 0), CUTUNE_OK);
    s = rate_session(sp, &calls);
    CHECK_INT(cutune_session_set_objective(s, "rate", 1), CUTUNE_OK);
    CHECK_INT(cutune_session_set_store(s, store, NULL, 0), CUTUNE_OK);
    cutune_search_options o = {.strategy = "brute", .budget = 100};
    cutune_session_result r;
    CHECK_INT(cutune_session_run(s, &o, NULL, NULL, &r), CUTUNE_OK);
    CHECK_INT(r.search.best_entry, 23);
    cutune_selection sel;
    cutune_device_info dev = {.name = "custom objective"};
    cutune_kernel_id kid = {"xy", NULL, NULL};
    CHECK_INT(cutune_select(store, &dev, &kid, (const int64_t[]){1, 1, 1}, &sel), CUTUNE_OK);
    CHECK_HAS(sel.config, "2,2"); /* the fastest: 0 ms */
    char *text = NULL;
    CHECK_INT(cutune_store_export(store, sel.profile, CUTUNE_FORMAT_KERNEL_TUNER, &text),
              CUTUNE_OK);
    CHECK_HAS(text, "\"rate\":");
    free(text);
    CHECK_INT(cutune_store_export(store, sel.profile, CUTUNE_FORMAT_T4, &text), CUTUNE_OK);
    CHECK_HAS(text, "\"name\": \"rate\"");
    free(text);
    cutune_session_free(s);
    cutune_store_free(store);
    cutune_space_free(sp);
}

static int setup(void) { return make_test_dir(dir); }

static void teardown(void) { remove_test_dir(dir); }

static void test_objective_higher(void) { test_objective(1); }
static void test_objective_lower(void) { test_objective(0); }

TEST_LIST(TEST_CASE(test_adding) TEST_CASE(test_objective_higher) TEST_CASE(test_objective_lower)
          TEST_CASE(test_default_stays) TEST_CASE(test_recorded) TEST_CASE(test_spec_metrics)
          TEST_CASE(test_store));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
