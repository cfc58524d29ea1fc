/* ktcache.c — Kernel Tuner cache files (.json or .json.gz): a recorded search space, every
 * configuration with its measured time or the reason it failed. Read once, checked, and kept
 * as arrays sorted by configuration id. Also the reading and writing of gzip'd files. */
#include "space_impl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>


struct cutune_cache {
    char *device, *kernel;
    char *path;         /* the file it was loaded from */
    int64_t problem[3]; /* its problem_size (1s where it has none) */
    int problem_dims;   /* ... of how many dimensions (0: none, or not 1 to 3 positive sizes) */
    cutune_space *space;
    size_t n, np;
    uint32_t *configs; /* n * np value indices */
    uint64_t *ids;
    double *times;   /* NaN for a failed entry */
    double *costs;   /* ms the recording tuner spent on an entry; NaN when not recorded */
    char **failures; /* NULL for a measured entry */
    char **keys;
};

void cutune_cache_free(cutune_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->failures[i]);
        free(c->keys[i]);
    }
    free(c->failures);
    free(c->keys);
    free(c->times);
    free(c->costs);
    free(c->ids);
    free(c->configs);
    free(c->device);
    free(c->kernel);
    free(c->path);
    cutune_space_free(c->space);
    free(c);
}

/* The space of tune_params, in tune_params_keys order. */
static int space_from_params(const char *path, json_t *keys, json_t *params, cutune_space **out)
{
    int st = cutune_space_new(out);
    for (size_t i = 0; !st && i < json_array_size(keys); i++) {
        const char *name = json_string_value(json_array_get(keys, i));
        json_t *vals = json_object_get(params, name ? name : "");
        size_t n = json_array_size(vals);
        if (!name || !json_is_array(vals) || n == 0) {
            st = ct_fail(CUTUNE_EINVAL, "%s: tune_params has no value list for '%s'", path,
                         name ? name : "(not a string)");
            break;
        }
        int all_int = 1, all_num = 1, all_str = 1;
        for (size_t k = 0; k < n; k++) {
            json_t *v = json_array_get(vals, k);
            all_int &= json_is_integer(v) || json_is_boolean(v);
            all_num &= json_is_number(v) || json_is_boolean(v);
            all_str &= json_is_string(v);
        }
        int64_t *ints = malloc(n * sizeof *ints);
        double *reals = malloc(n * sizeof *reals);
        const char **strs = malloc(n * sizeof *strs);
        if (!ints || !reals || !strs)
            st = ct_fail(CUTUNE_ENOMEM, "%s: out of memory", path);
        for (size_t k = 0; !st && k < n; k++) {
            json_t *v = json_array_get(vals, k);
            ints[k] = json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
            reals[k] = json_is_boolean(v) ? json_is_true(v) : json_number_value(v);
            strs[k] = json_string_value(v);
        }
        if (!st)
            st = all_int   ? cutune_space_add_int(*out, name, ints, n)
                 : all_num ? cutune_space_add_float(*out, name, reals, n)
                 : all_str ? cutune_space_add_string(*out, name, strs, n)
                           : ct_fail(CUTUNE_ETYPE, "%s: tune_params '%s' mixes numbers and "
                                     "strings", path, name);
        if (st && st != CUTUNE_ETYPE && st != CUTUNE_ENOMEM)
            st = ct_wrap(st, "%s: tune_params", path);
        free(ints);
        free(reals);
        free(strs);
    }
    return st;
}

/* With a spec: its parameters must be the file's, in the same order. */
static int check_spec_params(const char *path, const char *spec, json_t *keys,
                             const cutune_space *s)
{
    size_t np = cutune_space_num_params(s);
    int same = json_array_size(keys) == np;
    for (size_t i = 0; same && i < np; i++) {
        const char *k = json_string_value(json_array_get(keys, i));
        same = k && strcmp(k, cutune_space_param_name(s, i)) == 0;
    }
    if (same)
        return CUTUNE_OK;
    char have[512] = "", want[512] = "";
    for (size_t i = 0; i < json_array_size(keys); i++)
        snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", i ? "," : "",
                 json_string_value(json_array_get(keys, i)));
    for (size_t i = 0; i < np; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? "," : "",
                 cutune_space_param_name(s, i));
    return ct_fail(CUTUNE_EINVAL, "%s: tune_params_keys (%s) are not the parameters of %s (%s)",
                   path, have, spec, want);
}

typedef struct sort_item {
    uint64_t id;
    size_t entry;
} sort_item;

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const sort_item *)a)->id, y = ((const sort_item *)b)->id;
    return (x > y) - (x < y);
}

/* What the recording tuner spent on an entry, in ms: Kernel Tuner's compile, verification,
 * benchmark and framework times; NaN when the entry records none of them. */
static double entry_cost(json_t *rec)
{
    static const char *const parts[] = {"compile_time", "verification_time", "benchmark_time",
                                        "framework_time"};
    double total = 0;
    int found = 0;
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
        json_t *v = json_object_get(rec, parts[k]);
        double ms = json_is_number(v) ? json_number_value(v) : NAN;
        if (ms >= 0 && !isinf(ms)) {
            total += ms;
            found = 1;
        }
    }
    return found ? total : NAN;
}

/* Each parameter's values by their text, sorted, so that a key's parts are found by binary
 * search: parsing 10^6 keys value by value was the slowest part of loading a large cache.
 * A value whose text does not fit is left out (cut short, it would match a part that is only
 * its beginning): its parts go to cutune_space_parse_key. */
typedef struct value_text {
    char text[64];
    uint32_t index;
} value_text;

typedef struct key_index {
    value_text *all;    /* every parameter's values, parameter after parameter */
    size_t *start;      /* parameter p's are all[start[p] .. start[p + 1]) */
} key_index;

static int by_text(const void *a, const void *b)
{
    return strcmp(((const value_text *)a)->text, ((const value_text *)b)->text);
}

static void key_index_free(key_index *x)
{
    free(x->all);
    free(x->start);
}

static int key_index_new(key_index *x, const cutune_space *s)
{
    size_t np = cutune_space_num_params(s), total = 0;
    for (size_t p = 0; p < np; p++)
        total += cutune_space_param_size(s, p);
    x->all = malloc((total ? total : 1) * sizeof *x->all);
    x->start = malloc((np + 1) * sizeof *x->start);
    if (!x->all || !x->start) {
        key_index_free(x);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t p = 0; p < np; p++) {
        x->start[p] = k;
        for (size_t v = 0; v < cutune_space_param_size(s, p); v++) {
            int len = cutune_space_format_value(s, p, v, x->all[k].text, sizeof x->all[k].text);
            if (len >= 0 && (size_t)len < sizeof x->all[k].text)
                x->all[k++].index = (uint32_t)v;
        }
        qsort(x->all + x->start[p], k - x->start[p], sizeof *x->all, by_text);
    }
    x->start[np] = k;
    return CUTUNE_OK;
}

/* The configuration of `key` when each of its comma-separated parts is exactly the text of a
 * value; otherwise (another spelling such as "1.0" for 1, a value with a comma, a bad key)
 * cutune_space_parse_key decides, and says what is wrong. */
static int parse_key_fast(const key_index *x, const cutune_space *s, const char *key,
                          uint32_t *config)
{
    size_t np = cutune_space_num_params(s);
    const char *part = key;
    for (size_t p = 0; p < np; p++) {
        const char *end = p + 1 < np ? strchr(part, ',') : part + strlen(part);
        value_text want;
        size_t len = end ? (size_t)(end - part) : sizeof want.text;
        if (len >= sizeof want.text || (p + 1 == np && strchr(part, ',')))
            return cutune_space_parse_key(s, key, config);
        memcpy(want.text, part, len);
        want.text[len] = '\0';
        const value_text *hit = bsearch(&want, x->all + x->start[p], x->start[p + 1] - x->start[p],
                                        sizeof want, by_text);
        if (!hit)
            return cutune_space_parse_key(s, key, config);
        config[p] = hit->index;
        part = end + 1;
    }
    return CUTUNE_OK;
}

/* "0.53", " 1e-3", "nan", "inf": text that reads as a number (strtod takes all of it) */
static int is_number_text(const char *text)
{
    char *end;
    strtod(text, &end);
    while (end != text && isspace((unsigned char)*end))
        end++;
    return end != text && *end == '\0';
}

static int load_entries(cutune_cache *c, const char *path, json_t *cache, int check_valid)
{
    c->n = json_object_size(cache);
    c->np = cutune_space_num_params(c->space);
    if (c->n == 0)
        return ct_fail(CUTUNE_EEMPTY, "%s: the cache has no entries", path);
    uint32_t *configs = malloc(c->n * c->np * sizeof *configs);
    sort_item *order = malloc(c->n * sizeof *order);
    c->configs = malloc(c->n * c->np * sizeof *c->configs);
    c->ids = malloc(c->n * sizeof *c->ids);
    c->times = malloc(c->n * sizeof *c->times);
    c->costs = malloc(c->n * sizeof *c->costs);
    c->failures = calloc(c->n, sizeof *c->failures);
    c->keys = calloc(c->n, sizeof *c->keys);
    json_t **records = malloc(c->n * sizeof *records);
    json_t **entries = malloc(c->n * sizeof *entries);
    const char **keys = malloc(c->n * sizeof *keys);
    int st = configs && order && c->configs && c->ids && c->times && c->costs && c->failures &&
                     c->keys && records && entries && keys
                 ? CUTUNE_OK
                 : ct_fail(CUTUNE_ENOMEM, "%s: out of memory for %zu entries", path, c->n);
    key_index index = {0};
    if (!st)
        st = key_index_new(&index, c->space);
    size_t i = 0;
    const char *key;
    json_t *rec;
    json_object_foreach(cache, key, rec)
    {
        if (st)
            break;
        uint32_t *cfg = configs + i * c->np;
        if ((st = parse_key_fast(&index, c->space, key, cfg))) {
            st = ct_wrap(st, "%s: cache entry does not match tune_params_keys", path);
            break;
        }
        if (check_valid && cutune_space_is_valid(c->space, cfg) != 1) {
            st = ct_fail(CUTUNE_EINVAL, "%s: cache entry \"%s\" violates the spec's constraints",
                         path, key);
            break;
        }
        json_t *t = json_is_object(rec) ? json_object_get(rec, "time") : NULL;
        if (!json_is_number(t) && !json_is_string(t)) {
            st = ct_fail(CUTUNE_EINVAL, "%s: cache entry \"%s\" has no time (a number, or a "
                         "string saying why it failed)", path, key);
            break;
        }
        records[i] = t;
        entries[i] = rec;
        keys[i] = key;
        order[i] = (sort_item){.id = cutune_space_config_id(c->space, cfg), .entry = i};
        i++;
    }
    if (!st)
        qsort(order, c->n, sizeof *order, by_id);
    for (i = 0; !st && i < c->n; i++) {
        size_t e = order[i].entry;
        if (i > 0 && order[i].id == order[i - 1].id) {
            st = ct_fail(CUTUNE_EINVAL, "%s: entries \"%s\" and \"%s\" are the same "
                         "configuration", path, keys[order[i - 1].entry], keys[e]);
            break;
        }
        memcpy(c->configs + i * c->np, configs + e * c->np, c->np * sizeof *configs);
        c->ids[i] = order[i].id;
        c->keys[i] = ct_strdup(keys[e]);
        if (json_is_number(records[e])) {
            c->times[i] = json_number_value(records[e]);
            if (!(c->times[i] >= 0) || isinf(c->times[i]))
                st = ct_fail(CUTUNE_EINVAL, "%s: cache entry \"%s\" has time %g", path, keys[e],
                             c->times[i]);
        } else if (is_number_text(json_string_value(records[e]))) {
            st = ct_fail(CUTUNE_EINVAL, "%s: cache entry \"%s\" has its time as a string "
                         "(\"%s\"): a time is a number, a string names why the configuration "
                         "failed", path, keys[e], json_string_value(records[e]));
        } else {
            c->times[i] = NAN;
            c->failures[i] = ct_strdup(json_string_value(records[e]));
            if (!c->failures[i])
                st = CUTUNE_ENOMEM;
        }
        c->costs[i] = entry_cost(entries[e]);
        if (!c->keys[i])
            st = CUTUNE_ENOMEM;
    }
    key_index_free(&index);
    free(configs);
    free(order);
    free(records);
    free(entries);
    free(keys);
    return st;
}

int ct_kt_problem_size(const void *json, int64_t problem[3])
{
    const json_t *ps = json;
    problem[0] = problem[1] = problem[2] = 1;
    if (!ps)
        return 0;
    int integer = json_is_integer(ps);
    size_t dims = integer ? 1 : json_array_size(ps);
    if (!(integer || json_is_array(ps)) || dims > 3)
        return -1;
    for (size_t d = 0; d < dims; d++) {
        const json_t *v = integer ? ps : json_array_get(ps, d);
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            problem[0] = problem[1] = problem[2] = 1;
            return -1;
        }
        problem[d] = json_integer_value(v);
    }
    return (int)dims;
}

int ct_cache_from_json(cutune_cache **out, const void *json, const char *path, const char *spec)
{
    const json_t *root = json;
    *out = NULL;
    int st = CUTUNE_OK;
    cutune_cache *c = calloc(1, sizeof *c);
    json_t *keys = json_object_get(root, "tune_params_keys");
    json_t *params = json_object_get(root, "tune_params");
    json_t *cache = json_object_get(root, "cache");
    if (!c)
        st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    else if (!json_is_object(root) || !json_is_object(cache))
        st = ct_fail(CUTUNE_EINVAL, "%s: not a Kernel Tuner cache file (no \"cache\" object)",
                     path);
    else if (!json_is_array(keys) || json_array_size(keys) == 0)
        st = ct_fail(CUTUNE_EINVAL, "%s: tune_params_keys missing or empty", path);
    else if (!spec && !json_is_object(params))
        st = ct_fail(CUTUNE_EINVAL, "%s: tune_params missing", path);
    if (!st && spec) {
        st = cutune_space_load_t1(&c->space, spec);
        if (!st)
            st = check_spec_params(path, spec, keys, c->space);
    } else if (!st) {
        st = space_from_params(path, keys, params, &c->space);
    }
    int dims = c ? ct_kt_problem_size(json_object_get(root, "problem_size"), c->problem) : 0;
    if (c)
        c->problem_dims = dims > 0 ? dims : 0;
    const char *device = json_string_value(json_object_get(root, "device_name"));
    const char *kernel = json_string_value(json_object_get(root, "kernel_name"));
    if (!st) {
        c->device = ct_strdup(device ? device : "unknown device");
        c->kernel = ct_strdup(kernel ? kernel : "unknown kernel");
        c->path = ct_strdup(path);
        st = c->device && c->kernel && c->path ? load_entries(c, path, cache, spec != NULL)
                                               : CUTUNE_ENOMEM;
    }
    uint64_t valid = 0;
    if (!st && spec && !(st = cutune_space_count(c->space, &valid)) && valid != c->n)
        st = ct_fail(CUTUNE_EINVAL, "%s has %llu valid configurations, %s has %zu entries",
                     spec, (unsigned long long)valid, path, c->n);
    if (st) {
        cutune_cache_free(c);
        return st;
    }
    *out = c;
    return CUTUNE_OK;
}

int cutune_cache_load(cutune_cache **out, const char *path, const char *spec)
{
    if (!out || !path)
        return ct_fail(CUTUNE_EINVAL, "cutune_cache_load: NULL argument");
    *out = NULL;
    json_t *root;
    int st = ct_load_json(path, &root);
    if (st)
        return st;
    st = ct_cache_from_json(out, root, path, spec);
    json_decref(root);
    return st;
}

const cutune_space *cutune_cache_space(const cutune_cache *c) { return c ? c->space : NULL; }
size_t cutune_cache_size(const cutune_cache *c) { return c ? c->n : 0; }
const char *cutune_cache_device(const cutune_cache *c) { return c ? c->device : NULL; }
const char *cutune_cache_kernel(const cutune_cache *c) { return c ? c->kernel : NULL; }
const char *ct_cache_path(const cutune_cache *c) { return c ? c->path : NULL; }
int ct_cache_problem(const cutune_cache *c, int64_t problem[3])
{
    for (int d = 0; d < 3; d++)
        problem[d] = c ? c->problem[d] : 1;
    return c ? c->problem_dims : 0;
}

const uint32_t *cutune_cache_config(const cutune_cache *c, size_t i)
{
    return c && i < c->n ? c->configs + i * c->np : NULL;
}

const char *cutune_cache_key(const cutune_cache *c, size_t i)
{
    return c && i < c->n ? c->keys[i] : NULL;
}

double cutune_cache_cost(const cutune_cache *c, size_t i)
{
    return c && i < c->n ? c->costs[i] : NAN;
}

double cutune_cache_time(const cutune_cache *c, size_t i, const char **failure)
{
    if (failure)
        *failure = c && i < c->n ? c->failures[i] : "no such entry";
    return c && i < c->n ? c->times[i] : NAN;
}

int cutune_cache_find(const cutune_cache *c, const uint32_t *config, size_t *index)
{
    if (!c || !config)
        return ct_fail(CUTUNE_EINVAL, "cutune_cache_find: NULL argument");
    size_t i = ct_find_id(c->ids, c->n, cutune_space_config_id(c->space, config));
    if (i < c->n) {
        if (index)
            *index = i;
        return CUTUNE_OK;
    }
    return ct_fail(CUTUNE_ENOTFOUND, "configuration not in the cache");
}
