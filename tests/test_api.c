/* test_api.c — the public API under bad input, as cutune.h documents it: NULL handles on
 * every entry point that takes one, a store opened read-only, and many threads at once.
 *
 * NULL handles: each call runs in a child process of its own, so that one run names every
 * entry point that crashes instead of stopping at the first. A call that returns a status
 * must return CUTUNE_EINVAL and leave a message naming the function; a getter returns 0,
 * NULL or NaN; *_free(NULL) does nothing. */
#include <cutune.h>

#include "check.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ NULL handles ---- */

static int status_ok(int st)
{
    if (st == CUTUNE_EINVAL && cutune_last_error()[0])
        return 1;
    fprintf(stderr, "  status %d (want %d), message '%s'\n", st, CUTUNE_EINVAL,
            cutune_last_error());
    return 0;
}
static int zero_ok(uint64_t v) { return v == 0; }
static int null_ok(const void *p) { return p == NULL; }
static int nan_ok(double v) { return isnan(v); }
static int negative_ok(long long v) { return v < 0; }

/* runs `call` in a child; kind_ok(call) decides whether it answered as documented */
#define NULL_CASE(kind, call)                                                           \
    do {                                                                                \
        fflush(NULL);                                                                   \
        pid_t pid_ = fork();                                                            \
        if (pid_ == 0)                                                                  \
            _exit(kind##_ok(call) ? 0 : 1);                                             \
        report_child(#call, pid_);                                                      \
    } while (0)
#define NULL_VOID(call) NULL_CASE(void, ((call), 1))
static int void_ok(int v) { return v; }

static int cases;

static void report_child(const char *call, pid_t pid)
{
    int status = 0;
    cases++;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        fprintf(stderr, "%s: cannot run a child process\n", call);
        check_failures++;
    } else if (WIFSIGNALED(status)) {
        fprintf(stderr, "%s: crashed (signal %d)\n", call, WTERMSIG(status));
        check_failures++;
    } else if (WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: not the documented answer for a NULL handle\n", call);
        check_failures++;
    }
}

static int visit_nothing(const uint32_t *config, void *user)
{
    (void)config, (void)user;
    return 0;
}
static int profile_nothing(const cutune_profile *p, void *user)
{
    (void)p, (void)user;
    return 0;
}
static int objective_nothing(const uint32_t *config, void *user, double *value,
                             const char **failure)
{
    (void)config, (void)user, (void)failure;
    *value = 1;
    return 0;
}

static void null_handles(void)
{
    uint32_t config[4] = {0};
    size_t n = 0, index = 0;
    uint64_t u64 = 0;
    char buf[64];
    int64_t problem[3] = {16, 1, 1}, id = 0;
    int i = 0;
    cutune_space *space = NULL;
    cutune_cache *cache = NULL;
    cutune_baseline *baseline = NULL;
    cutune_search_options so = {.budget = 1};
    cutune_search_result sr;
    cutune_device_info dev = {.name = "GPU", .cc_major = 9};
    cutune_kernel_id kid = {"k", "", ""};
    cutune_selection sel;
    cutune_arch arch;
    cutune_block_resources br = {.threads = 128};
    cutune_occupancy occ;
    cutune_occupancy_advice advice;
    unsigned grid[3], block[3];
    double d = 0;
    char *text = NULL;
    const char *failure = NULL;

    /* spaces */
    NULL_CASE(status, cutune_space_new(NULL));
    NULL_VOID(cutune_space_free(NULL));
    NULL_CASE(status, cutune_space_add_int(NULL, "x", (int64_t[]){1}, 1));
    NULL_CASE(status, cutune_space_add_float(NULL, "x", (double[]){1}, 1));
    NULL_CASE(status, cutune_space_add_string(NULL, "x", (const char *[]){"a"}, 1));
    NULL_CASE(status, cutune_space_add_constraint(NULL, "x > 1"));
    NULL_CASE(status, cutune_space_set_default(NULL, config));
    NULL_CASE(status, cutune_space_load_t1(NULL, "spec.json"));
    NULL_CASE(status, cutune_space_load_t1(&space, NULL));
    NULL_CASE(status, cutune_space_load_t1_buffer(NULL, "{}", 2, "x"));
    NULL_CASE(status, cutune_space_load_t1_buffer(&space, NULL, 2, "x"));
    NULL_CASE(zero, cutune_space_num_params(NULL));
    NULL_CASE(null, cutune_space_param_name(NULL, 0));
    NULL_CASE(zero, cutune_space_param_size(NULL, 0));
    NULL_CASE(negative, cutune_space_format_value(NULL, 0, 0, buf, sizeof buf));
    NULL_CASE(status, cutune_space_find_param(NULL, "x", &n));
    NULL_CASE(zero, cutune_space_num_constraints(NULL));
    NULL_CASE(zero, cutune_space_get_default(NULL, config));
    NULL_CASE(zero, cutune_space_raw_size(NULL));
    NULL_CASE(negative, cutune_space_is_valid(NULL, config));
    NULL_CASE(zero, cutune_space_config_id(NULL, config));
    NULL_CASE(status, cutune_space_config_from_id(NULL, 0, config));
    NULL_CASE(status, cutune_space_config_key(NULL, config, buf, sizeof buf));
    NULL_CASE(status, cutune_space_parse_key(NULL, "1", config));
    NULL_CASE(status, cutune_space_enumerate(NULL, visit_nothing, NULL));
    NULL_CASE(status, cutune_space_count(NULL, &u64));
    NULL_CASE(status, cutune_space_count_failing(NULL, &u64, config, buf, sizeof buf));
    NULL_CASE(status, cutune_space_neighbours(NULL, config, config, 1, &n));
    NULL_CASE(status, cutune_space_sample(NULL, &(cutune_rng){{1, 2, 3, 4}}, config));
    NULL_CASE(zero, cutune_space_num_warnings(NULL));
    NULL_CASE(null, cutune_space_warning(NULL, 0));

    /* cache files, scoring, search */
    NULL_CASE(status, cutune_cache_load(NULL, "x.json", NULL));
    NULL_CASE(status, cutune_cache_load(&cache, NULL, NULL));
    NULL_VOID(cutune_cache_free(NULL));
    NULL_CASE(null, cutune_cache_space(NULL));
    NULL_CASE(zero, cutune_cache_size(NULL));
    NULL_CASE(null, cutune_cache_device(NULL));
    NULL_CASE(null, cutune_cache_kernel(NULL));
    NULL_CASE(null, cutune_cache_config(NULL, 0));
    NULL_CASE(null, cutune_cache_key(NULL, 0));
    NULL_CASE(nan, cutune_cache_time(NULL, 0, &failure));
    NULL_CASE(nan, cutune_cache_cost(NULL, 0));
    NULL_CASE(status, cutune_cache_find(NULL, config, &index));
    NULL_CASE(status, cutune_baseline_new(NULL, &baseline));
    NULL_VOID(cutune_baseline_free(NULL));
    NULL_CASE(nan, cutune_baseline_optimum(NULL));
    NULL_CASE(nan, cutune_baseline_median(NULL));
    NULL_CASE(zero, cutune_baseline_horizon(NULL));
    NULL_CASE(nan, cutune_baseline_random(NULL, 0));
    NULL_CASE(status, cutune_score(NULL, &d, 1, &d));
    NULL_CASE(status, cutune_simulate(NULL, &so, NULL, NULL, &sr));
    NULL_CASE(status, cutune_optimize(NULL, &so, objective_nothing, NULL, NULL, NULL, &sr));
    NULL_CASE(null, cutune_strategy_summary(NULL));
    NULL_CASE(status, cutune_strategy_lookup(NULL, &failure));

    /* devices, telemetry, occupancy */
    NULL_CASE(status, cutune_device_count(NULL));
    NULL_CASE(status, cutune_device_query(0, NULL));
    NULL_CASE(status, cutune_monitor_start(NULL, "0000:00:00.0", 10, 0));
    NULL_CASE(status, cutune_monitor_stop(NULL, &(cutune_monitor_report){0}));
    NULL_VOID(cutune_monitor_free(NULL));
    NULL_CASE(status, cutune_arch_find(NULL, &arch));
    NULL_CASE(status, cutune_arch_find("sm_90", NULL));
    NULL_CASE(status, cutune_arch_from_device(NULL, &arch));
    NULL_CASE(status, cutune_occupancy_compute(NULL, &br, &occ));
    NULL_CASE(negative, cutune_occupancy_blocks(NULL, &br));
    NULL_CASE(status, cutune_occupancy_blocks_many(NULL, &br, 1, &i));
    NULL_CASE(status, cutune_occupancy_advise(NULL, &br, &advice));
    NULL_CASE(status, cutune_occupancy_best_block(NULL, &br, NULL, NULL, &i, &i, &i));

    /* kernels, arguments, compilation */
    NULL_CASE(status, cutune_kernel_load_t1(NULL, NULL, NULL));
    NULL_CASE(status, cutune_kernel_load_t1_sized(NULL, NULL, problem, NULL));
    NULL_VOID(cutune_kernel_free(NULL));
    NULL_CASE(status, cutune_kernel_read_answer(NULL, "out", "a.npy", NULL, NULL));
    NULL_CASE(null, cutune_kernel_name(NULL));
    NULL_CASE(null, cutune_kernel_file(NULL));
    NULL_CASE(zero, cutune_kernel_problem(NULL, problem));
    NULL_CASE(zero, cutune_kernel_num_options(NULL));
    NULL_CASE(null, cutune_kernel_options(NULL));
    NULL_CASE(zero, cutune_kernel_num_args(NULL));
    NULL_CASE(null, cutune_kernel_arg_at(NULL, 0));
    NULL_CASE(zero, cutune_kernel_seed(NULL));
    NULL_CASE(null, cutune_kernel_size_define(NULL, 0));
    NULL_CASE(status, cutune_kernel_geometry(NULL, config, grid, block, &n));
    NULL_CASE(status, cutune_kernel_geometry_at(NULL, config, problem, grid, block, &n));
    NULL_CASE(status, cutune_kernel_cooperative_at(NULL, config, problem, &i));
    NULL_CASE(status, cutune_spec_read_search(NULL, &(cutune_spec_search){0}));
    NULL_CASE(status, cutune_spec_read_search("spec.json", NULL));
    NULL_CASE(status, cutune_spec_ignored_fields(NULL, &text, &n));
    NULL_CASE(status, cutune_spec_ignored_fields("spec.json", NULL, &n));
    NULL_CASE(status, cutune_args_new(NULL, NULL));
    NULL_CASE(null, cutune_args_params(NULL));
    NULL_CASE(null, cutune_args_host(NULL, 0, &n));
    NULL_VOID(cutune_args_free(NULL));
    NULL_CASE(status, cutune_compile(NULL, NULL));
    NULL_CASE(null, cutune_binary_code(NULL, &n));
    NULL_CASE(status, cutune_binary_get_info(NULL, &(cutune_binary_info){0}));
    NULL_VOID(cutune_binary_free(NULL));

    /* the profile store and selection */
    NULL_CASE(status, cutune_store_default_path(NULL, 10));
    NULL_CASE(status, cutune_store_open(NULL, "x.db", 0));
    NULL_VOID(cutune_store_free(NULL));
    NULL_CASE(null, cutune_store_path(NULL));
    NULL_CASE(status, cutune_store_refresh(NULL));
    NULL_CASE(status, cutune_store_put(NULL, &(cutune_profile){0}));
    NULL_CASE(status, cutune_select(NULL, &dev, &kid, problem, &sel));
    NULL_CASE(status, cutune_selector_new(NULL, NULL, &dev, &kid));
    NULL_CASE(status, cutune_selector_get(NULL, problem, &sel));
    NULL_VOID(cutune_selector_free(NULL));
    NULL_CASE(status, cutune_store_list(NULL, profile_nothing, NULL));
    NULL_CASE(status, cutune_store_get(NULL, 1, profile_nothing, NULL));
    NULL_CASE(status, cutune_store_prune(NULL, NULL, 0, &u64));
    NULL_CASE(status, cutune_store_vacuum(NULL));
    NULL_CASE(status, cutune_store_recover(NULL, &u64, NULL, 0));
    NULL_CASE(status, cutune_store_import(NULL, "x.json", NULL, &id));
    NULL_CASE(status, cutune_store_export(NULL, 1, CUTUNE_FORMAT_T4, &text));

    /* the pool and the pipeline */
    NULL_CASE(status, cutune_pool_new(NULL, NULL));
    NULL_VOID(cutune_pool_free(NULL));
    NULL_CASE(status, cutune_pool_alloc(NULL, 64, &(cutune_buffer){0}));
    NULL_CASE(status, cutune_pool_release(NULL, &(cutune_buffer){0}, NULL));
    NULL_CASE(status, cutune_pool_register(NULL, buf, sizeof buf));
    NULL_CASE(status, cutune_pool_unregister(NULL, buf));
    NULL_CASE(status, cutune_pool_trim(NULL, 0));
    NULL_VOID(cutune_pool_get_stats(NULL, &(cutune_pool_stats){0}));
    NULL_CASE(status, cutune_pipeline_run(NULL, buf, sizeof buf, NULL, NULL, NULL, NULL));

    /* tuned launches and sessions */
    NULL_CASE(status, cutune_launcher_new(NULL, NULL, "spec.json", NULL, NULL));
    NULL_VOID(cutune_launcher_free(NULL));
    NULL_CASE(status, cutune_launcher_set_constant(NULL, "c", buf, 4));
    NULL_CASE(status, cutune_launch(NULL, problem, NULL, NULL, NULL));
    NULL_CASE(status, cutune_launcher_select(NULL, problem, &sel));
    NULL_CASE(status, cutune_session_new(NULL, "spec.json", NULL, NULL));
    NULL_CASE(status, cutune_session_new_objective(NULL, NULL, NULL, objective_nothing, NULL));
    NULL_CASE(status, cutune_session_run(NULL, &so, NULL, NULL, NULL));
    NULL_CASE(status, cutune_session_set_store(NULL, NULL, NULL, 0));
    NULL_CASE(status, cutune_session_precompile(NULL, 1, &u64, &u64));
    NULL_CASE(null, cutune_session_device(NULL));
    NULL_CASE(null, cutune_session_space(NULL));
    NULL_CASE(null, cutune_session_key(NULL, 0, buf, sizeof buf));
    NULL_CASE(status, cutune_session_set_reference(NULL, "out", buf, 4));
    NULL_CASE(status, cutune_session_set_verify(NULL, CUTUNE_VERIFY_NONE));
    NULL_CASE(status, cutune_session_load_answer(NULL, "out", "a.npy"));
    NULL_CASE(status, cutune_session_set_tolerance(NULL, NULL, 1e-6, 1e-5));
    NULL_CASE(status, cutune_session_verification(NULL, NULL, buf, sizeof buf));
    NULL_CASE(null, cutune_session_kernel(NULL));
    NULL_CASE(status, cutune_session_add_metric(NULL, "m", "time"));
    NULL_CASE(status, cutune_session_add_spec_metrics(NULL, "spec.json"));
    NULL_CASE(zero, cutune_session_num_metrics(NULL));
    NULL_CASE(null, cutune_session_metric_name(NULL, 0));
    NULL_CASE(nan, cutune_session_metric(NULL, 0, 0));
    NULL_CASE(status, cutune_session_set_objective(NULL, "time", 0));
    NULL_CASE(null, cutune_session_objective_name(NULL, NULL));
    NULL_CASE(nan, cutune_session_objective(NULL, 0));
    NULL_CASE(status, cutune_session_explain(NULL, 0, &occ, NULL));
    NULL_CASE(status, cutune_session_write_t4(NULL, "x.json"));
    NULL_CASE(status, cutune_session_write_kt_cache(NULL, "x.json"));
    NULL_VOID(cutune_session_free(NULL));

    /* what needs no handle still answers something for nonsense */
    CHECK(cutune_strerror(-5) != NULL);
    CHECK(cutune_select_rule_name((cutune_select_rule)42) != NULL);
    CHECK(cutune_last_error() != NULL);
    CHECK(cutune_version() != NULL);
    printf("NULL handles: %d entry points checked\n", cases);
}

/* ------------------------------------------------------------- a read-only store ---- */

static const int64_t SIZES[4][3] = {{1024, 1, 1}, {2048, 1, 1}, {4096, 1, 1}, {8192, 1, 1}};

/* A profile whose configuration "k,k" tells its time, 10000 - k ms: a reader that sees a
 * configuration with another time saw a half-written profile. */
static cutune_profile profile_k(int size, int k, char *config, size_t config_size)
{
    snprintf(config, config_size, "%d,%d", k, k);
    return (cutune_profile){.device = "Test GPU", .cc_major = 9, .sm_count = 132,
                            .kernel = "k", .source_hash = "", .user_key = "",
                            .problem = {SIZES[size][0], SIZES[size][1], SIZES[size][2]},
                            .params = "a,b", .config = config, .time_ms = 10000.0 - k,
                            .median_ms = 10000.0 - k, .strategy = "test", .budget = 1};
}

static const cutune_device_info TEST_GPU = {.name = "Test GPU", .cc_major = 9, .sm_count = 132};
static const cutune_kernel_id TEST_KERNEL = {"k", "", ""};

static int count_profile(const cutune_profile *p, void *user)
{
    (void)p;
    ++*(int *)user;
    return 0;
}

static void read_only_store(const char *dir)
{
    char path[512], config[32], missing[512];
    snprintf(path, sizeof path, "%s/ro.db", dir);
    cutune_store *s = NULL;
    CHECK_INT(cutune_store_open(&s, path, 0), CUTUNE_OK);
    cutune_profile p = profile_k(0, 1, config, sizeof config); /* 9999 ms */
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    cutune_store_free(s);

    CHECK_INT(cutune_store_open(&s, path, CUTUNE_STORE_READONLY), CUTUNE_OK);
    if (!s)
        return;
    cutune_selection sel;
    CHECK_INT(cutune_select(s, &TEST_GPU, &TEST_KERNEL, SIZES[0], &sel), CUTUNE_OK);
    CHECK_INT(sel.rule, CUTUNE_SELECT_EXACT);
    /* every write is refused, before anything changes in memory or on disk */
    p = profile_k(0, 2, config, sizeof config); /* faster: it would replace the first */
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "read-only");
    CHECK_INT(cutune_select(s, &TEST_GPU, &TEST_KERNEL, SIZES[0], &sel), CUTUNE_OK);
    CHECK_HAS(sel.config, "1,1");
    uint64_t removed = 99;
    CHECK_INT(cutune_store_prune(s, NULL, 0, &removed), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "read-only");
    CHECK_INT(cutune_store_vacuum(s), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "read-only");
    int64_t session = 0;
    CHECK_INT(cutune_store_import(s, CUTUNE_SOURCE_DIR "/data/spaces/convolution/A100.json.gz",
                                  NULL, &session), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "read-only");
    /* a session cannot keep its evaluations there */
    cutune_space *space = NULL;
    CHECK_INT(cutune_space_new(&space), CUTUNE_OK);
    CHECK_INT(cutune_space_add_int(space, "x", (int64_t[]){1, 2}, 2), CUTUNE_OK);
    cutune_session *session_h = NULL;
    CHECK_INT(cutune_session_new_objective(&session_h, space, "obj", objective_nothing, NULL),
              CUTUNE_OK);
    CHECK_INT(cutune_session_set_store(session_h, s, NULL, 0), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "read-only");
    cutune_session_free(session_h);
    cutune_space_free(space);
    /* reads work */
    int profiles = 0;
    CHECK_INT(cutune_store_list(s, count_profile, &profiles), CUTUNE_OK);
    CHECK_INT(profiles, 1);
    CHECK_INT(cutune_store_refresh(s), CUTUNE_OK);
    profiles = 0;
    CHECK_INT(cutune_store_get(s, sel.profile, count_profile, &profiles), CUTUNE_OK);
    CHECK_INT(profiles, 1);
    cutune_store_free(s);

    /* read-only where there is nothing: not found, and nothing is created */
    snprintf(missing, sizeof missing, "%s/none/missing.db", dir);
    s = (cutune_store *)1;
    CHECK_INT(cutune_store_open(&s, missing, CUTUNE_STORE_READONLY), CUTUNE_ENOTFOUND);
    CHECK(s == NULL);
    CHECK(access(missing, F_OK) != 0);
}

/* ------------------------------------------------------------------ many threads ---- */

enum { READERS = 8, WRITERS = 2, PUTS = 150 };

typedef struct shared {
    cutune_store *store;
    cutune_selector *selector;
    atomic_int writers_left;
    atomic_long answers, torn, failed, stale;
} shared;

typedef struct worker {
    shared *sh;
    int index;
} worker;

/* The answer must be one whole profile: its configuration "k,k" and its time 10000 - k. */
static void check_answer(shared *sh, int st, const cutune_selection *sel)
{
    int k1 = -1, k2 = -2;
    if (st) {
        atomic_fetch_add(&sh->failed, 1);
        return;
    }
    atomic_fetch_add(&sh->answers, 1);
    if (sel->rule == CUTUNE_SELECT_DEFAULT)
        return;
    if (sscanf(sel->config, "%d,%d", &k1, &k2) != 2 || k1 != k2 ||
        sel->time_ms != 10000.0 - k1 || strcmp(sel->params, "a,b") != 0)
        atomic_fetch_add(&sh->torn, 1);
}

/* Writer w puts ever faster profiles for sizes w and w + 2. */
static void *writer_main(void *arg)
{
    worker *w = arg;
    char config[32];
    for (int k = 1; k <= PUTS; k++) {
        int size = w->index + 2 * (k % 2);
        cutune_profile p = profile_k(size, k, config, sizeof config);
        if (cutune_store_put(w->sh->store, &p))
            atomic_fetch_add(&w->sh->failed, 1);
    }
    atomic_fetch_sub(&w->sh->writers_left, 1);
    return NULL;
}

static void *reader_main(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    char name[32], json[] = "{ not json";
    cutune_space *space = NULL;
    /* this thread's own failure, whose message no other thread's may replace */
    snprintf(name, sizeof name, "reader-%d.json", w->index);
    int own = cutune_space_load_t1_buffer(&space, json, sizeof json - 1, name);
    long rounds = 0;
    do {
        for (int s = 0; s < 4; s++) {
            cutune_selection sel;
            int st = (rounds + s) % 2 ? cutune_selector_get(sh->selector, SIZES[s], &sel)
                                      : cutune_select(sh->store, &TEST_GPU, &TEST_KERNEL,
                                                      SIZES[s], &sel);
            check_answer(sh, st, &sel);
        }
        rounds++;
    } while (atomic_load(&sh->writers_left) > 0 || rounds < 10);
    if (own == CUTUNE_OK || !strstr(cutune_last_error(), name)) {
        fprintf(stderr, "%s: this thread's message is '%s'\n", name, cutune_last_error());
        atomic_fetch_add(&sh->torn, 1);
    }
    /* the writers are done: every answer is now the last profile of its size, remembered
     * answers included (writer w's last put to size w is k = PUTS, to size w + 2 PUTS - 1) */
    for (int s = 0; s < 4; s++) {
        cutune_selection a, b;
        char want[32];
        snprintf(want, sizeof want, "%d,%d", PUTS - s / 2, PUTS - s / 2);
        if (cutune_selector_get(sh->selector, SIZES[s], &a) ||
            cutune_select(sh->store, &TEST_GPU, &TEST_KERNEL, SIZES[s], &b) ||
            a.rule != CUTUNE_SELECT_EXACT || strcmp(a.config, want) || strcmp(b.config, want)) {
            fprintf(stderr, "%s: size %d after the writers: '%s' and '%s', want '%s'\n", name,
                    s, a.config, b.config, want);
            atomic_fetch_add(&sh->stale, 1);
        }
    }
    return NULL;
}

/* READERS threads select (both ways) while WRITERS threads put: no failure, no answer that
 * mixes two profiles, each thread's last error its own, and nothing stale once they stop. */
static void many_threads(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/threads.db", dir);
    shared sh = {.writers_left = WRITERS};
    CHECK_INT(cutune_store_open(&sh.store, path, 0), CUTUNE_OK);
    if (!sh.store)
        return;
    CHECK_INT(cutune_selector_new(&sh.selector, sh.store, &TEST_GPU, &TEST_KERNEL), CUTUNE_OK);
    pthread_t threads[READERS + WRITERS];
    worker workers[READERS + WRITERS];
    int started = 0;
    for (int i = 0; i < READERS + WRITERS; i++) {
        workers[i] = (worker){&sh, i < WRITERS ? i : i - WRITERS};
        if (pthread_create(&threads[i], NULL, i < WRITERS ? writer_main : reader_main,
                           &workers[i]) == 0)
            started++;
        else
            break;
    }
    CHECK_INT(started, READERS + WRITERS);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    CHECK_INT(atomic_load(&sh.failed), 0);
    CHECK_INT(atomic_load(&sh.torn), 0);
    CHECK_INT(atomic_load(&sh.stale), 0);
    CHECK(atomic_load(&sh.answers) >= READERS * 40);
    printf("threads: %d readers, %d writers, %ld answers, none torn or stale\n", READERS,
           WRITERS, (long)atomic_load(&sh.answers));
    cutune_selector_free(sh.selector);
    cutune_store_free(sh.store);
}

static char api_dir[] = "/tmp/test_api.XXXXXX";

static int setup(void) { return make_test_dir(api_dir); }

static void teardown(void) { remove_test_dir(api_dir); }

static void test_read_only_store(void) { read_only_store(api_dir); }
static void test_many_threads(void) { many_threads(api_dir); }

/* null_handles first: it forks, and a process with threads had better not */
TEST_LIST(TEST_CASE(null_handles) TEST_CASE(test_read_only_store) TEST_CASE(test_many_threads));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
