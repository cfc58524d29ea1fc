/* app.c — cutune inside an application: it launches one of cutune's shipped kernels (SGEMM
 * by default) at three problem sizes with what the profile store selects, and says why.
 *
 * For each size it prints the rule that chose the configuration (exact, nearest size,
 * similar device, or default when the store knows nothing), the configuration, and its time
 * against the spec's default configuration. Run it before `cutune tune` (every size runs the
 * default, and it says so) and after (the tuned configurations run).
 *
 * Without a GPU (or a libcutune built without CUDA) nothing can be launched: it says so and
 * shows what cutune_select() would choose for a described GPU (--describe), then exits 3.
 * Exit status: 0 launched, 1 failed, 2 usage error, 3 no CUDA device.
 *
 * Built against an installed cutune (README "Embedding cutune"): CMake with
 * find_package(cutune), or pkg-config; CUTUNE_APP_CUDA=1 when the CUDA runtime is there. */
#define _POSIX_C_SOURCE 200809L
#include <cutune.h>

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef CUTUNE_APP_CUDA
#include <cuda_runtime.h>
#endif

#ifndef CUTUNE_APP_KERNELS_DIR /* the installed kernels (set by the build) */
#define CUTUNE_APP_KERNELS_DIR "/usr/local/share/cutune/kernels"
#endif

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_NO_DEVICE = 3 };

static const char usage[] =
    "usage: cutune_app [--spec SPEC.json] [--db DB] [--device N] [--user-key K] [--runs N]\n"
    "                  [--describe NAME --cc M.m --sms N]\n"
    "Launches the spec's kernel (default: sgemm.json of the installed kernels) at a quarter,\n"
    "half and all of its ProblemSize with what the profile store selects, and times it\n"
    "against the default configuration. Without a GPU it shows what would be selected for\n"
    "the described GPU (default: NVIDIA H100 80GB HBM3, 9.0, 132 SMs) and exits 3.\n";

typedef struct app {
    const char *spec, *db, *user_key;
    int device, runs;
    cutune_device_info described; /* the GPU to select for when there is none */
    cutune_space *space;
    cutune_kernel *kernel;        /* at the spec's size */
    int64_t sizes[3][3];
} app;

static int fail(const char *what, int status)
{
    fprintf(stderr, "cutune_app: %s: %s (%s)\n", what, cutune_last_error(),
            cutune_strerror(status));
    return EXIT_FAILED;
}

static void format_size(const int64_t p[3], char *buf, size_t size)
{
    if (p[2] > 1)
        snprintf(buf, size, "%lldx%lldx%lld", (long long)p[0], (long long)p[1], (long long)p[2]);
    else if (p[1] > 1)
        snprintf(buf, size, "%lldx%lld", (long long)p[0], (long long)p[1]);
    else
        snprintf(buf, size, "%lld", (long long)p[0]);
}

/* "NAME=v NAME=v ..." from comma-separated values in the spec's parameter order */
static void format_config(const cutune_space *space, const char *values, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < cutune_space_num_params(space) && *values && used < size; i++) {
        size_t len = strcspn(values, ",");
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%.*s", i ? " " : "",
                                 cutune_space_param_name(space, i), (int)len, values);
        values += len + (values[len] == ',');
    }
}

/* The spec's default configuration as comma-separated values */
static void default_values(const cutune_space *space, char *buf, size_t size)
{
    uint32_t config[64];
    buf[0] = 0;
    if (cutune_space_num_params(space) > 64 || cutune_space_get_default(space, config) != 1)
        return;
    size_t used = 0;
    for (size_t i = 0; i < cutune_space_num_params(space) && used < size; i++) {
        used += (size_t)snprintf(buf + used, size - used, i ? "," : "");
        if (used < size)
            used += (size_t)cutune_space_format_value(space, i, config[i], buf + used,
                                                      size - used);
    }
}

/* No GPU: what cutune_select() answers for the described GPU, through a selector (the
 * question prepared once, as an application that asks on every launch does); returns
 * `done` unless something fails. */
static int select_described(app *a, cutune_store *store, int done)
{
    char *source = NULL, hash[33];
    const char *file = cutune_kernel_file(a->kernel);
    FILE *f = file ? fopen(file, "rb") : NULL;
    size_t len = 0;
    if (f && (source = malloc((size_t)16 << 20)))
        len = fread(source, 1, ((size_t)16 << 20) - 1, f);
    if (f)
        fclose(f);
    if (!source) {
        fprintf(stderr, "cutune_app: cannot read the kernel's source %s\n", file ? file : "");
        return EXIT_FAILED;
    }
    /* the kernel as `cutune tune` stored it: its source and its spec's -D defines */
    int st = cutune_kernel_source_hash(a->kernel, source, len, hash);
    free(source);
    if (st)
        return fail("cutune_kernel_source_hash", st);
    cutune_kernel_id id = {cutune_kernel_name(a->kernel), hash, a->user_key};
    cutune_selector *selector;
    st = cutune_selector_new(&selector, store, &a->described, &id);
    if (st)
        return fail("cutune_selector_new", st);
    printf("selecting for %s (compute capability %d.%d, %d SMs); nothing is launched\n",
           a->described.name, a->described.cc_major, a->described.cc_minor,
           a->described.sm_count);
    for (int i = 0; i < 3 && !st; i++) {
        cutune_selection sel;
        char size[64], from[64], values[512], config[1024];
        if ((st = cutune_selector_get(selector, a->sizes[i], &sel)))
            break;
        format_size(a->sizes[i], size, sizeof size);
        if (sel.rule == CUTUNE_SELECT_DEFAULT) {
            default_values(a->space, values, sizeof values);
            format_config(a->space, values, config, sizeof config);
            printf("  %-16s default: no profile for it, the default configuration %s\n", size,
                   config);
        } else {
            format_size(sel.problem, from, sizeof from);
            format_config(a->space, sel.config, config, sizeof config);
            printf("  %-16s %s: profile %lld (tuned at %s, %.4f ms) %s\n", size,
                   cutune_select_rule_name(sel.rule), (long long)sel.profile, from,
                   sel.time_ms, config);
        }
    }
    cutune_selector_free(selector);
    return st ? fail("cutune_selector_get", st) : done;
}

#ifdef CUTUNE_APP_CUDA
/* The application's own CUDA calls: say which failed, as cutune_last_error() would not. */
static int cuda_failed(const char *what, cudaError_t err)
{
    fprintf(stderr, "cutune_app: %s: %s\n", what, cudaGetErrorString(err));
    return CUTUNE_ECUDA;
}

/* Milliseconds per launch: one launch first (it compiles or loads the configuration), then
 * `runs` between CUDA events, on the default stream. */
static int time_launches(cutune_launcher *l, const int64_t problem[3], void **params, int runs,
                         cutune_launch_info *info, double *ms)
{
    cudaEvent_t start, stop;
    cudaError_t err;
    int st = cutune_launch(l, problem, params, NULL, info);
    if (st)
        return fail("cutune_launch", st);
    if ((err = cudaDeviceSynchronize()) != cudaSuccess)
        return cuda_failed("the first launch", err);
    if ((err = cudaEventCreate(&start)) != cudaSuccess)
        return cuda_failed("cudaEventCreate", err);
    if ((err = cudaEventCreate(&stop)) != cudaSuccess) {
        cudaEventDestroy(start);
        return cuda_failed("cudaEventCreate", err);
    }
    cudaEventRecord(start, NULL);
    for (int r = 0; r < runs && !st; r++)
        if ((st = cutune_launch(l, problem, params, NULL, NULL)))
            fail("cutune_launch", st);
    cudaEventRecord(stop, NULL);
    float elapsed = 0;
    if ((err = cudaEventSynchronize(stop)) != cudaSuccess ||
        (err = cudaEventElapsedTime(&elapsed, start, stop)) != cudaSuccess)
        st = st ? st : cuda_failed("timing the launches", err);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    *ms = elapsed / runs;
    return st;
}

/* A GPU: launch at each size with the store's choice, and with the default for comparison
 * (a launcher over an empty store selects nothing, so it runs the spec's default). */
static int launch_all(app *a, cutune_launcher *tuned, cutune_launcher *plain)
{
    /* the launchers launch on this thread's current device: make it theirs */
    if (cudaSetDevice(a->device) != cudaSuccess) {
        fprintf(stderr, "cutune_app: cudaSetDevice(%d) failed\n", a->device);
        return EXIT_FAILED;
    }
    /* arguments for the largest size serve the smaller ones too */
    cutune_kernel *big = NULL;
    cutune_args *args = NULL;
    int st = cutune_kernel_load_t1_sized(a->spec, a->space, a->sizes[2], &big);
    if (!st)
        st = cutune_args_new(&args, big);
    for (size_t i = 0; !st && i < cutune_kernel_num_args(big); i++) {
        const cutune_kernel_arg *arg = cutune_kernel_arg_at(big, i);
        size_t bytes;
        const void *host = cutune_args_host(args, i, &bytes);
        if (arg->constant && !(st = cutune_launcher_set_constant(tuned, arg->name, host, bytes)))
            st = cutune_launcher_set_constant(plain, arg->name, host, bytes);
    }
    if (st) {
        cutune_args_free(args);
        cutune_kernel_free(big);
        return fail("the kernel's arguments", st);
    }
    void **params = cutune_args_params(args);
    for (int i = 0; i < 3 && !st; i++) {
        cutune_launch_info info, dflt;
        double ms = NAN, default_ms = NAN;
        char size[64], from[64], config[1024];
        if ((st = time_launches(tuned, a->sizes[i], params, a->runs, &info, &ms)))
            break;
        const cutune_selection *sel = &info.selection;
        format_size(a->sizes[i], size, sizeof size);
        format_config(a->space, info.config, config, sizeof config);
        if (sel->rule == CUTUNE_SELECT_DEFAULT) {
            printf("  %-16s default: no profile for it, ran the default configuration: "
                   "%.4f ms\n      %s\n", size, ms, config);
            continue;
        }
        if ((st = time_launches(plain, a->sizes[i], params, a->runs, &dflt, &default_ms)))
            break;
        format_size(sel->problem, from, sizeof from);
        printf("  %-16s %s: profile %lld (tuned at %s)%s: %.4f ms, default configuration "
               "%.4f ms, %.2fx\n      %s\n", size, cutune_select_rule_name(sel->rule),
               (long long)sel->profile, from,
               info.fell_back ? ", cannot run here so the default ran" : "", ms, default_ms,
               default_ms / ms, config);
    }
    cutune_args_free(args);
    cutune_kernel_free(big);
    return st ? EXIT_FAILED : EXIT_OK; /* (time_launches said what failed) */
}
#endif

/* Launches when there is a GPU, else selects for the described one. */
static int run(app *a, cutune_store *store, cutune_store *empty)
{
    cutune_launcher_options options = {.device = a->device, .user_key = a->user_key};
    cutune_launcher *tuned = NULL, *plain = NULL;
    int st = cutune_launcher_new(&tuned, store, a->spec, NULL, &options);
    if (st == CUTUNE_ENODEVICE) {
        printf("no CUDA device: %s\n", cutune_last_error());
        return select_described(a, store, EXIT_NO_DEVICE);
    }
    if (st)
        return fail("cutune_launcher_new", st);
    printf("%s on %s:\n", cutune_kernel_name(a->kernel), a->spec);
#ifdef CUTUNE_APP_CUDA
    st = cutune_launcher_new(&plain, empty, a->spec, NULL, &options);
    int rc = st ? fail("cutune_launcher_new", st) : launch_all(a, tuned, plain);
#else
    (void)empty;
    printf("this application was built without the CUDA runtime: nothing is launched\n");
    int rc = (st = cutune_device_query(a->device, &a->described))
                 ? fail("cutune_device_query", st) : select_described(a, store, EXIT_OK);
#endif
    cutune_launcher_free(plain);
    cutune_launcher_free(tuned);
    return rc;
}

static int parse_args(app *a, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spec", required_argument, 0, 's'},     {"db", required_argument, 0, 'd'},
        {"device", required_argument, 0, 'D'},   {"user-key", required_argument, 0, 'u'},
        {"runs", required_argument, 0, 'r'},     {"describe", required_argument, 0, 'n'},
        {"cc", required_argument, 0, 'c'},       {"sms", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': a->spec = optarg; break;
        case 'd': a->db = optarg; break;
        case 'D': a->device = atoi(optarg); break;
        case 'u': a->user_key = optarg; break;
        case 'r': a->runs = atoi(optarg); break;
        case 'n': snprintf(a->described.name, sizeof a->described.name, "%s", optarg); break;
        case 'c':
            if (sscanf(optarg, "%d.%d", &a->described.cc_major, &a->described.cc_minor) != 2)
                return -1;
            break;
        case 'm': a->described.sm_count = atoi(optarg); break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    return optind == argc && a->runs > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    app a = {.spec = CUTUNE_APP_KERNELS_DIR "/sgemm.json", .user_key = "", .runs = 20,
             .described = {.name = "NVIDIA H100 80GB HBM3", .cc_major = 9, .sm_count = 132}};
    if (parse_args(&a, argc, argv)) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    int st = cutune_space_load_t1(&a.space, a.spec);
    if (st || (st = cutune_kernel_load_t1(a.spec, a.space, &a.kernel))) {
        cutune_space_free(a.space);
        return fail(a.spec, st);
    }
    /* a quarter, half and all of the spec's size in each of its dimensions */
    int64_t full[3];
    int dims = cutune_kernel_problem(a.kernel, full);
    for (int i = 0; i < 3; i++)
        for (int d = 0; d < 3; d++)
            a.sizes[i][d] = d < dims ? (full[d] >> (2 - i) > 0 ? full[d] >> (2 - i) : 1) : 1;

    /* the profile store, read-only (the application only asks), and an empty one for the
     * default configuration's times */
    char path[4096], dir[] = "/tmp/cutune_app.XXXXXX", empty_path[sizeof dir + 16];
    if (!a.db && !cutune_store_default_path(path, sizeof path))
        a.db = path;
    cutune_store *store = NULL, *empty = NULL;
    if (!mkdtemp(dir)) {
        perror("cutune_app: mkdtemp");
        return EXIT_FAILED;
    }
    snprintf(empty_path, sizeof empty_path, "%s/empty.db", dir);
    st = cutune_store_open(&empty, empty_path, 0);
    int rc = st ? fail(empty_path, st) : EXIT_OK;
    if (!rc && a.db && access(a.db, F_OK) != 0) {
        printf("no profile store at %s (cutune tune writes one): every size runs its "
               "default configuration\n", a.db);
        a.db = NULL;
    } else if (!rc && (st = cutune_store_open(&store, a.db, CUTUNE_STORE_READONLY))) {
        rc = fail(a.db, st);
    }
    if (!rc) {
        if (a.db)
            printf("profile store %s\n", a.db);
        rc = run(&a, store ? store : empty, empty);
    }
    cutune_store_free(store);
    cutune_store_free(empty);
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        char file[sizeof empty_path + 16];
        snprintf(file, sizeof file, "%s%s", empty_path, suffix[i]);
        unlink(file);
    }
    rmdir(dir);
    cutune_kernel_free(a.kernel);
    cutune_space_free(a.space);
    return rc;
}
