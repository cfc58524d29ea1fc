/* launch.c — tuned launches for applications: the store selects a configuration for this GPU
 * and problem size, the launcher compiles it once (through the binary cache), loads it into
 * the caller's CUDA context and launches it. Loaded configurations are kept in a list that
 * only grows and is published with release stores, so a launch that finds its configuration
 * loaded takes no lock. Online mode tunes a size with no exact profile in a separate
 * `cutune tune` process and takes in its profile when it appears. */
#define _GNU_SOURCE
#include "launch_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ------------------------------------------------------------------- the launcher ---- */

static void free_entry(loaded *e)
{
    if (e) {
        free(e->params);
        free(e->config);
        free(e);
    }
}

void cutune_launcher_free(cutune_launcher *l)
{
    if (!l)
        return;
    /* online sessions still running go on by themselves, into the store */
    for (job *j = l->jobs, *next; j; j = next) {
        next = j->next;
        if (j->running)
            waitpid(j->pid, NULL, WNOHANG);
        free(j);
    }
    for (loaded *e = atomic_load(&l->loaded), *next; e; e = next) {
        next = e->next;
        ct_launch_unload(e);
        free_entry(e);
    }
    for (constant *c = l->constants, *next; c; c = next) {
        next = c->next;
        free(c->name);
        free(c->data);
        free(c);
    }
    pthread_mutex_destroy(&l->lock);
    cutune_selector_free(l->selector);
    cutune_kernel_free(l->kernel);
    cutune_space_free(l->space);
    free(l->spec);
    free(l->source);
    free(l->source_name);
    free(l->user_key);
    free(l->cache_dir);
    free(l->cutune_path);
    free(l->online_args);
    free(l);
}

static char *dup_or_null(const char *s, int *st)
{
    if (!s || *st)
        return NULL;
    char *d = ct_strdup(s);
    if (!d)
        *st = CUTUNE_ENOMEM;
    return d;
}

int cutune_launcher_new(cutune_launcher **out, cutune_store *store, const char *spec,
                        const char *kernel_file, const cutune_launcher_options *options)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_launcher_new: out is NULL");
    *out = NULL;
    if (!store || !spec)
        return ct_fail(CUTUNE_EINVAL, "cutune_launcher_new: no store or spec");
    cutune_launcher_options o = options ? *options : (cutune_launcher_options){0};
    cutune_launcher *l = calloc(1, sizeof *l);
    if (!l)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    pthread_mutex_init(&l->lock, NULL);
    l->store = store;
    l->online = o.online;
    int st = cutune_space_load_t1(&l->space, spec);
    if (!st)
        st = cutune_kernel_load_t1(spec, l->space, &l->kernel);
    if (!st && cutune_space_num_params(l->space) > CUTUNE_MAX_PARAMS)
        st = ct_fail(CUTUNE_ERANGE, "%s: more than %d parameters", spec, CUTUNE_MAX_PARAMS);
    if (!st && cutune_space_get_default(l->space, l->dflt) != 1)
        st = ct_fail(CUTUNE_EINVAL, "%s has no default configuration to fall back on", spec);
    if (!st && !cutune_space_is_valid(l->space, l->dflt))
        st = ct_fail(CUTUNE_EINVAL, "%s: the default configuration violates the constraints",
                     spec);
    const char *file = kernel_file ? kernel_file : cutune_kernel_file(l->kernel);
    if (!st && !file)
        st = ct_fail(CUTUNE_EINVAL, "%s names no KernelFile: give the kernel's source", spec);
    if (!st && !(l->source = ct_read_text(file, CT_MAX_SOURCE_BYTES, NULL)))
        st = ct_wrap(CUTUNE_EIO, "kernel source");
    l->spec = dup_or_null(spec, &st);
    l->source_name = dup_or_null(file, &st);
    l->user_key = dup_or_null(o.user_key ? o.user_key : "", &st);
    l->cache_dir = dup_or_null(o.cache_dir, &st);
    l->online_args = dup_or_null(o.online_args, &st);
    const char *cli = o.cutune_path ? o.cutune_path : getenv("CUTUNE_CLI");
    l->cutune_path = dup_or_null(cli && *cli ? cli : "cutune", &st);
    if (!st)
        st = ct_kernel_source_hash_named(l->kernel, l->source, strlen(l->source),
                                         l->source_name, l->source_hash);
    if (!st) {
        ct_kernel_source ks = {.space = l->space, .kernel = l->kernel, .source = l->source,
                               .source_name = l->source_name};
        st = ct_config_sized(&ks, &l->sized);
    }
    if (!st) {
        l->id = (cutune_kernel_id){cutune_kernel_name(l->kernel), l->source_hash, l->user_key};
        st = cutune_device_query(o.device, &l->device);
    }
    if (!st)
        st = cutune_arch_from_device(&l->device, &l->arch);
    if (!st)
        st = cutune_selector_new(&l->selector, store, &l->device, &l->id);
    if (st) {
        cutune_launcher_free(l);
        return st;
    }
    *out = l;
    return CUTUNE_OK;
}

/* ---------------------------------------------------------------- configurations ---- */

/* The selection in the spec's terms: the values of its parameters, by name, valid there. */
static int resolve(const cutune_launcher *l, const cutune_selection *sel, uint32_t *cfg)
{
    if (sel->rule == CUTUNE_SELECT_DEFAULT)
        return -1;
    size_t np = cutune_space_num_params(l->space);
    const char *value[CUTUNE_MAX_PARAMS] = {0};
    char names[sizeof sel->params], values[sizeof sel->config];
    memcpy(names, sel->params, sizeof names);
    memcpy(values, sel->config, sizeof values);
    char *ns, *vs, *n = strtok_r(names, ",", &ns), *v = strtok_r(values, ",", &vs);
    for (; n && v; n = strtok_r(NULL, ",", &ns), v = strtok_r(NULL, ",", &vs)) {
        size_t p;
        if (cutune_space_find_param(l->space, n, &p) == CUTUNE_OK)
            value[p] = v;
    }
    if (n || v)
        return -1; /* as many names as values, or it is not a profile of this kernel */
    char key[CUTUNE_KEY_MAX];
    size_t at = 0;
    for (size_t p = 0; p < np; p++) {
        if (!value[p])
            return -1;
        int w = snprintf(key + at, sizeof key - at, "%s%s", p ? "," : "", value[p]);
        if (w < 0 || (size_t)w >= sizeof key - at)
            return -1;
        at += (size_t)w;
    }
    if (cutune_space_parse_key(l->space, key, cfg) != CUTUNE_OK)
        return -1;
    return cutune_space_is_valid(l->space, cfg) ? 0 : -1;
}

static loaded *find_loaded(cutune_launcher *l, const char *params, const char *config,
                           const int64_t size[3])
{
    for (loaded *e = atomic_load_explicit(&l->loaded, memory_order_acquire); e; e = e->next)
        if (strcmp(e->config, config) == 0 && strcmp(e->params, params) == 0 &&
            memcmp(e->size, size, sizeof e->size) == 0)
            return e;
    return NULL;
}


/* The loaded configuration answering `sel`: found, or compiled and loaded now (falling back
 * on the default configuration when the selected one cannot run here). */
static int get_loaded(cutune_launcher *l, const cutune_selection *sel,
                      const int64_t problem[3], loaded **out, int *compiled)
{
    const char *params = sel->rule == CUTUNE_SELECT_DEFAULT ? "" : sel->params;
    const char *config = sel->rule == CUTUNE_SELECT_DEFAULT ? "" : sel->config;
    int64_t size[3] = {0, 0, 0}; /* a binary serves every size, unless the size is compiled in */
    for (int d = 0; d < 3 && l->sized; d++)
        size[d] = problem[d] > 0 ? problem[d] : 1;
    if ((*out = find_loaded(l, params, config, size)))
        return CUTUNE_OK;
    pthread_mutex_lock(&l->lock);
    int st = CUTUNE_OK;
    loaded *e = find_loaded(l, params, config, size); /* another thread may have been first */
    if (!e) {
        *compiled = 1;
        e = calloc(1, sizeof *e);
        if (!e || !(e->params = ct_strdup(params)) || !(e->config = ct_strdup(config)))
            st = ct_fail(CUTUNE_ENOMEM, "out of memory");
        if (!st)
            memcpy(e->size, size, sizeof size);
        if (!st && sel->rule != CUTUNE_SELECT_DEFAULT && resolve(l, sel, e->cfg) != 0)
            e->fell_back = 1; /* not a configuration of this spec */
        if (!st && (sel->rule == CUTUNE_SELECT_DEFAULT || e->fell_back))
            memcpy(e->cfg, l->dflt, sizeof l->dflt);
        if (!st)
            cutune_space_config_key(l->space, e->cfg, e->key, sizeof e->key);
        int unfit = st ? 0 : ct_launch_load(l, e, problem);
        if (unfit == 1 && !e->fell_back && sel->rule != CUTUNE_SELECT_DEFAULT) {
            /* the selected configuration cannot run on this GPU: the default instead */
            e->fell_back = 1;
            memcpy(e->cfg, l->dflt, sizeof l->dflt);
            cutune_space_config_key(l->space, e->cfg, e->key, sizeof e->key);
            unfit = ct_launch_load(l, e, problem);
        }
        if (unfit == 1)
            unfit = ct_fail(CUTUNE_ERANGE, "configuration %s: a block does not fit an SM of "
                            "this %s", e->key, l->device.name);
        st = st ? st : unfit;
        if (st) {
            free_entry(e);
            e = NULL;
        } else {
            e->next = atomic_load_explicit(&l->loaded, memory_order_relaxed);
            atomic_store_explicit(&l->loaded, e, memory_order_release);
        }
    }
    pthread_mutex_unlock(&l->lock);
    *out = e;
    return st;
}

int cutune_launcher_set_constant(cutune_launcher *l, const char *name, const void *data,
                                 size_t bytes)
{
    if (!l || !name || (!data && bytes))
        return ct_fail(CUTUNE_EINVAL, "cutune_launcher_set_constant: NULL argument");
    constant *c = calloc(1, sizeof *c);
    if (!c || !(c->name = ct_strdup(name)) || !(c->data = malloc(bytes ? bytes : 1))) {
        if (c)
            free(c->name);
        free(c);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    memcpy(c->data, data, bytes);
    c->bytes = bytes;
    pthread_mutex_lock(&l->lock);
    int st = CUTUNE_OK;
    for (loaded *e = atomic_load(&l->loaded); e && !st; e = e->next)
        st = ct_launch_copy_constant(e, c);
    constant **at = &l->constants; /* a new value replaces the old one */
    while (*at && strcmp((*at)->name, name) != 0)
        at = &(*at)->next;
    if (st) {
        free(c->name);
        free(c->data);
        free(c);
    } else if (*at) {
        c->next = (*at)->next;
        free((*at)->name);
        free((*at)->data);
        free(*at);
        *at = c;
    } else {
        *at = c;
    }
    pthread_mutex_unlock(&l->lock);
    return st;
}

/* --------------------------------------------------------------------- online mode ---- */

/* `cutune tune --spec SPEC --problem X,Y,Z --device N --db DB [--user-key K] ARGS -- SOURCE`,
 * in the background, its output to /dev/null. */
static int spawn_tune(const cutune_launcher *l, const int64_t problem[3], pid_t *pid)
{
    char size[80], device[16], args[1024];
    snprintf(size, sizeof size, "%lld,%lld,%lld", (long long)problem[0],
             (long long)problem[1], (long long)problem[2]);
    snprintf(device, sizeof device, "%d", l->device.ordinal);
    const char *argv[64] = {l->cutune_path, "tune", "--spec", l->spec, "--problem", size,
                            "--device", device, "--db", cutune_store_path(l->store)};
    int argc = 10;
    if (*l->user_key) {
        argv[argc++] = "--user-key";
        argv[argc++] = l->user_key;
    }
    snprintf(args, sizeof args, "%s", l->online_args ? l->online_args : "");
    char *save;
    for (char *a = strtok_r(args, " \t", &save); a && argc < 61; a = strtok_r(NULL, " \t", &save))
        argv[argc++] = a;
    /* the source last, after "--": a file name that begins with '-' is not an option */
    argv[argc++] = "--";
    argv[argc++] = l->source_name;
    argv[argc] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int err = posix_spawnp(pid, l->cutune_path, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return err ? ct_fail(CUTUNE_EIO, "online tuning: cannot start '%s': %s", l->cutune_path,
                         strerror(err))
               : CUTUNE_OK;
}

/* A miss at this size: start its tuning session unless one ran or runs. Returns whether one
 * runs now. */
static int tune_online(cutune_launcher *l, const int64_t problem[3])
{
    int64_t want[3];
    for (int d = 0; d < 3; d++)
        want[d] = problem[d] > 0 ? problem[d] : 1;
    pthread_mutex_lock(&l->lock);
    job *j = l->jobs;
    while (j && memcmp(j->problem, want, sizeof want) != 0)
        j = j->next;
    if (!j && (j = calloc(1, sizeof *j))) {
        memcpy(j->problem, want, sizeof want);
        j->next = l->jobs;
        l->jobs = j;
        /* a session that cannot start is not tried again (the failure stays recorded) */
        if (spawn_tune(l, want, &j->pid) == CUTUNE_OK) {
            j->running = 1;
            atomic_fetch_add(&l->running_jobs, 1);
            atomic_store(&l->next_refresh, ct_now() + 1);
        }
    }
    int running = j && j->running;
    pthread_mutex_unlock(&l->lock);
    return running;
}

/* While sessions run: once a second, and when one ends, the store takes in new profiles. */
static void poll_online(cutune_launcher *l)
{
    if (!atomic_load_explicit(&l->running_jobs, memory_order_relaxed) ||
        ct_now() < atomic_load_explicit(&l->next_refresh, memory_order_relaxed) ||
        pthread_mutex_trylock(&l->lock))
        return;
    for (job *j = l->jobs; j; j = j->next)
        if (j->running && waitpid(j->pid, NULL, WNOHANG) != 0) { /* ended (or not ours) */
            j->running = 0;
            atomic_fetch_sub(&l->running_jobs, 1);
        }
    atomic_store(&l->next_refresh, ct_now() + 1);
    pthread_mutex_unlock(&l->lock);
    cutune_store_refresh(l->store);
}

/* --------------------------------------------------------------------- launching ---- */

int cutune_launcher_select(const cutune_launcher *l, const int64_t problem[3],
                           cutune_selection *out)
{
    if (!l || !problem || !out)
        return ct_fail(CUTUNE_EINVAL, "cutune_launcher_select: NULL argument");
    int st = ct_launch_check_device(l);
    return st ? st : cutune_selector_get(l->selector, problem, out);
}

int cutune_launch(cutune_launcher *l, const int64_t problem[3], void **args, void *stream,
                  cutune_launch_info *info)
{
    if (!l || !problem || (!args && cutune_kernel_num_args(l->kernel)))
        return ct_fail(CUTUNE_EINVAL, "cutune_launch: NULL argument");
    int64_t spec_size[3];
    int dims = cutune_kernel_problem(l->kernel, spec_size);
    for (int d = 0; d < 3; d++) {
        if (problem[d] < 0 || problem[d] > ((int64_t)1 << 40))
            return ct_fail(CUTUNE_EINVAL, "cutune_launch: problem size %lld is out of range",
                           (long long)problem[d]);
        /* an empty problem has no grid; the kernel would be compiled for size 1 */
        if (d < dims && problem[d] == 0)
            return ct_fail(CUTUNE_EINVAL, "cutune_launch: problem size %d of %d is 0: %s has "
                           "nothing to compute", d + 1, dims, cutune_kernel_name(l->kernel));
    }
    if (l->online)
        poll_online(l);
    cutune_selection sel;
    int st = cutune_launcher_select(l, problem, &sel);
    if (st)
        return st;
    loaded *e;
    int compiled = 0;
    st = get_loaded(l, &sel, problem, &e, &compiled);
    if (!st)
        st = ct_launch_loaded(e, l->kernel, problem, args, stream, info);
    int tuning = !st && l->online && sel.rule != CUTUNE_SELECT_EXACT
                     ? tune_online(l, problem) : 0;
    if (info && !st) {
        info->selection = sel;
        info->fell_back = e->fell_back;
        snprintf(info->config, sizeof info->config, "%s", e->key);
        info->compiled = compiled;
        info->tuning = tuning;
        info->regs = e->regs;
        info->static_smem = e->static_smem;
    }
    return st;
}
