/* exchange.c — the store and other tools' files: Kernel Tuner cache files and T4 results in
 * (each file one session) and out (every evaluation behind a profile). The store keeps each
 * evaluation as its Kernel Tuner cache entry, so a cache file goes in and comes out the same;
 * T4 is made from those entries. */
#include "store_impl.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Kernel Tuner's failure names and T4's invalidity for them. */
static const char *const failure_names[][2] = {{"CompilationFailedConfig", "compile"},
                                               {"RuntimeFailedConfig", "runtime"},
                                               {"TimeoutConfig", "timeout"},
                                               {"VerificationFailedConfig", "correctness"},
                                               {"InvalidConfig", "constraints"}};
#define NUM_FAILURES (sizeof failure_names / sizeof *failure_names)

const char *ct_t4_invalidity(const char *failure)
{
    if (!failure)
        return "correct";
    for (size_t k = 0; k < NUM_FAILURES; k++)
        if (strcmp(failure, failure_names[k][0]) == 0)
            return failure_names[k][1];
    return "runtime";
}

static const char *kt_failure(const char *invalidity)
{
    for (size_t k = 0; k < NUM_FAILURES; k++)
        if (strcmp(invalidity, failure_names[k][1]) == 0)
            return failure_names[k][0];
    return "RuntimeFailedConfig";
}

void ct_space_hash(const json_t *tune_params, char out[33])
{
    char *text = tune_params ? json_dumps(tune_params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    cutune_source_hash(text ? text : "", text ? strlen(text) : 0, out);
    free(text);
}

/* ----------------------------------------------------------------- KT -> T4 ---- */

/* (Kernel Tuner's unit: ms for what starts with "time", else none; MHz for the clocks) */
static json_t *measurement(const char *name, json_t *value)
{
    return json_pack("{s:s, s:O, s:s}", "name", name, "value", value, "unit",
                     strncmp(name, "time", 4) == 0       ? "ms"
                     : strncmp(name, "sm_clock_mhz", 12) == 0 ? "MHz"
                                                          : "");
}

/* The keys of a cache entry that are no measurement (besides the parameters): a metric is
 * any other key with a number, as Kernel Tuner writes T4. */
static int is_metric(const json_t *keys, const char *key, const json_t *value)
{
    static const char *const known[] = {"time", "times", "time_median", "time_std",
                                        "time_median_lo", "time_median_hi", "time_confirmed",
                                        "time_confirmed_lo", "time_confirmed_hi",
                                        "compile_time", "verification_time", "benchmark_time",
                                        "strategy_time", "framework_time", "timestamp"};
    size_t k;
    json_t *name;
    if (!json_is_number(value))
        return 0;
    for (k = 0; k < sizeof known / sizeof *known; k++)
        if (strcmp(key, known[k]) == 0)
            return 0;
    json_array_foreach(keys, k, name)
        if (strcmp(key, json_string_value(name)) == 0)
            return 0;
    return 1;
}

json_t *ct_t4_from_kt(const json_t *kt)
{
    const json_t *keys = json_object_get(kt, "tune_params_keys");
    const json_t *cache = json_object_get(kt, "cache");
    json_t *results = json_array();
    const char *key;
    json_t *e;
    int bad = !results || !json_is_array(keys) || !json_is_object(cache);
    json_object_foreach((json_t *)cache, key, e) {
        if (bad)
            break;
        json_t *config = json_object(), *time = json_object_get(e, "time");
        size_t k;
        json_t *name;
        json_array_foreach(keys, k, name) {
            json_t *v = json_object_get(e, json_string_value(name));
            if (config && v)
                json_object_set(config, json_string_value(name), v);
        }
        const char *failure = json_is_string(time) ? json_string_value(time) : NULL;
        json_t *measurements = json_array();
        if (json_is_number(time) && measurements) {
            json_array_append_new(measurements, measurement("time", time));
            const char *extra[] = {"time_median", "time_std", "time_median_lo",
                                   "time_median_hi", "time_confirmed", "time_confirmed_lo",
                                   "time_confirmed_hi"};
            for (size_t x = 0; x < sizeof extra / sizeof *extra; x++)
                if (json_is_number(json_object_get(e, extra[x])))
                    json_array_append_new(measurements,
                                          measurement(extra[x], json_object_get(e, extra[x])));
            const char *mk;
            json_t *mv;
            json_object_foreach(e, mk, mv)
                if (is_metric(keys, mk, mv))
                    json_array_append_new(measurements, measurement(mk, mv));
        }
        json_t *times = json_object();
        const char *timing[][2] = {{"compilation_time", "compile_time"},
                                   {"framework", "benchmark_time"},
                                   {"search_algorithm", "strategy_time"},
                                   {"validation", "verification_time"}};
        for (int x = 0; times && x < 4; x++) {
            json_t *v = json_object_get(e, timing[x][1]);
            json_object_set_new(times, timing[x][0], json_real(json_is_number(v)
                                                                   ? json_number_value(v) : 0));
        }
        json_t *runs = json_object_get(e, "times");
        if (times)
            json_object_set_new(times, "runtimes", json_is_array(runs) ? json_copy(runs)
                                                                        : json_array());
        json_t *objective = json_object_get(kt, "objective");
        json_t *r = json_pack("{s:o, s:[s], s:o, s:s, s:b, s:o}", "configuration", config,
                              "objectives", json_is_string(objective)
                                                ? json_string_value(objective) : "time",
                              "times", times, "invalidity",
                              ct_t4_invalidity(failure), "correctness",
                              !failure || strcmp(failure, "VerificationFailedConfig") != 0,
                              "measurements", measurements);
        bad = !r || json_array_append_new(results, r);
    }
    json_t *device = json_object_get(kt, "device_name"), *kernel = json_object_get(kt,
                                                                                   "kernel_name");
    json_t *meta = bad ? NULL
                       : json_pack("{s:s, s:s, s:s}", "timeunit", "milliseconds", "device",
                                   json_is_string(device) ? json_string_value(device) : "",
                                   "kernel", json_is_string(kernel) ? json_string_value(kernel)
                                                                    : "");
    json_t *ps = json_object_get(kt, "problem_size");
    if (meta && ps)
        json_object_set(meta, "problem_size", ps);
    json_t *root = meta ? json_pack("{s:s, s:o, s:o}", "schema_version", "1.0.0", "metadata",
                                    meta, "results", results)
                        : NULL;
    if (!root)
        json_decref(results);
    return root;
}

/* ----------------------------------------------------------------- T4 -> KT ---- */

/* Kernel Tuner's key of a configuration: its values, joined by commas. */
static int append_value(char *key, size_t size, size_t *n, const json_t *v)
{
    char buf[64];
    if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        ct_format_double(json_real_value(v), buf, sizeof buf);
    else if (json_is_string(v))
        snprintf(buf, sizeof buf, "%s", json_string_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "True" : "False");
    else
        return -1;
    int w = snprintf(key + *n, size - *n, "%s%s", *n ? "," : "", buf);
    if (w < 0 || (size_t)w >= size - *n)
        return -1;
    *n += (size_t)w;
    return 0;
}

static json_t *kt_from_t4(const json_t *t4, const char *path, char *why, size_t why_size)
{
    const json_t *results = json_object_get(t4, "results"), *meta = json_object_get(t4,
                                                                                    "metadata");
    if (!json_is_array(results) || !json_array_size(results)) {
        snprintf(why, why_size, "its \"results\" are empty");
        return NULL;
    }
    json_t *first = json_object_get(json_array_get(results, 0), "configuration");
    if (!json_is_object(first) || !json_object_size(first)) {
        snprintf(why, why_size, "result 0 has no \"configuration\"");
        return NULL;
    }
    json_t *keys = json_array(), *params = json_object(), *cache = json_object();
    const char *name;
    json_t *v;
    json_object_foreach(first, name, v) {
        json_array_append_new(keys, json_string(name));
        json_object_set_new(params, name, json_array());
    }
    size_t i;
    json_t *r;
    int bad = 0;
    json_array_foreach(results, i, r) {
        json_t *config = json_object_get(r, "configuration"), *e = json_object();
        char key[CUTUNE_KEY_MAX];
        size_t n = 0, k;
        json_t *pn;
        json_array_foreach(keys, k, pn) {
            json_t *pv = json_object_get(config, json_string_value(pn));
            if (!pv || append_value(key, sizeof key, &n, pv)) {
                snprintf(why, why_size, "result %zu lacks parameter '%s' or has a value that "
                         "is not a number, string or boolean", i, json_string_value(pn));
                bad = 1;
                break;
            }
            json_object_set(e, json_string_value(pn), pv);
            json_t *values = json_object_get(params, json_string_value(pn));
            size_t a;
            json_t *seen;
            int have = 0;
            json_array_foreach(values, a, seen) have |= json_equal(seen, pv);
            if (!have)
                json_array_append(values, pv);
        }
        if (bad) {
            json_decref(e);
            break;
        }
        const char *invalid = json_string_value(json_object_get(r, "invalidity"));
        double time = NAN;
        size_t m;
        json_t *meas;
        json_array_foreach(json_object_get(r, "measurements"), m, meas) {
            const char *what = json_string_value(json_object_get(meas, "name"));
            json_t *value = json_object_get(meas, "value");
            if (what && strcmp(what, "time") == 0)
                time = json_number_value(value);
            else if (what && !json_object_get(e, what) &&
                     (is_metric(keys, what, value) ||
                      (json_is_number(value) && strncmp(what, "time_", 5) == 0)))
                json_object_set(e, what, value); /* a metric or the median, back to its key */
        }
        json_t *times = json_object_get(r, "times");
        if (invalid && strcmp(invalid, "correct") != 0)
            json_object_set_new(e, "time", json_string(kt_failure(invalid)));
        else if (!isnan(time))
            json_object_set_new(e, "time", json_real(time));
        else {
            snprintf(why, why_size, "result %zu is correct but has no time measurement", i);
            json_decref(e);
            bad = 1;
            break;
        }
        json_t *runs = json_object_get(times, "runtimes");
        if (json_array_size(runs)) /* (Kernel Tuner writes none for a failure) */
            json_object_set_new(e, "times", json_copy(runs));
        json_t *ct = json_object_get(times, "compilation_time");
        json_object_set_new(e, "compile_time", json_real(json_is_number(ct)
                                                             ? json_number_value(ct) : 0));
        json_object_set_new(cache, key, e);
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    json_t *device = json_object_get(meta, "device"), *kernel = json_object_get(meta, "kernel");
    json_t *kt = bad ? NULL
                     : json_pack("{s:s, s:s, s:O, s:O, s:s, s:O}", "device_name",
                                 json_is_string(device) ? json_string_value(device) : "unknown",
                                 "kernel_name",
                                 json_is_string(kernel) && *json_string_value(kernel)
                                     ? json_string_value(kernel) : base,
                                 "tune_params_keys", keys, "tune_params", params, "objective",
                                 "time", "cache", cache);
    json_t *ps = json_object_get(meta, "problem_size");
    if (kt && ps)
        json_object_set(kt, "problem_size", ps);
    json_decref(keys);
    json_decref(params);
    json_decref(cache);
    return kt;
}

/* -------------------------------------------------------------------- import ---- */

int cutune_store_import(cutune_store *s, const char *path, const char *user_key,
                        int64_t *session)
{
    if (!s || !path)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_import: NULL argument");
    int st = ct_store_writable(s, "cutune_store_import");
    if (st)
        return st;
    json_t *root;
    st = ct_load_json(path, &root);
    if (st)
        return st;
    char why[256] = "";
    json_t *kt = NULL;
    if (json_is_object(json_object_get(root, "cache")))
        kt = json_incref(root);
    else if (json_is_array(json_object_get(root, "results")))
        kt = kt_from_t4(root, path, why, sizeof why);
    else
        snprintf(why, sizeof why, "it is neither a Kernel Tuner cache file (no \"cache\") nor "
                 "T4 results (no \"results\")");
    json_decref(root);
    const json_t *keys = json_object_get(kt, "tune_params_keys");
    const char *device = json_string_value(json_object_get(kt, "device_name"));
    const char *kernel = json_string_value(json_object_get(kt, "kernel_name"));
    int64_t problem[3];
    if (kt && !why[0] && (!json_is_array(keys) || !json_array_size(keys)))
        snprintf(why, sizeof why, "it has no \"tune_params_keys\"");
    if (kt && !why[0] && (!device || !kernel))
        snprintf(why, sizeof why, "it does not name its device and kernel");
    if (kt && !why[0] && ct_kt_problem_size(json_object_get(kt, "problem_size"), problem) < 0)
        snprintf(why, sizeof why, "its \"problem_size\" is not up to three positive integers");
    if (why[0]) {
        json_decref(kt);
        return ct_fail(CUTUNE_EPARSE, "%s: %s", path, why);
    }
    /* the entries, checked before anything is written, as `tune --sim` checks a recorded
     * space: every key a configuration of the file's own tune_params, once, with a time */
    cutune_cache *checked = NULL;
    st = ct_cache_from_json(&checked, kt, path, NULL);
    cutune_cache_free(checked);
    if (st) {
        json_decref(kt);
        return st;
    }
    json_t *cache = json_object_get(kt, "cache");
    const char *key;
    json_t *e;
    json_t *header = json_deep_copy(kt);
    json_object_del(header, "cache");
    char *header_text = json_dumps(header, JSON_COMPACT);
    char space[33];
    ct_space_hash(json_object_get(kt, "tune_params"), space);
    ct_session_row row = {.key = {.device = device, .kernel = kernel, .user_key = user_key,
                                  .source_hash = "", .strategy = "imported",
                                  .budget = json_object_size(cache),
                                  .problem = {problem[0], problem[1], problem[2]}},
                          .space_hash = space, .header = header_text, .origin = path};
    int64_t id = 0;
    st = header_text ? ct_store_session_begin(s, &row, &id)
                     : ct_fail(CUTUNE_ENOMEM, "out of memory");
    /* every entry in one transaction */
    ct_db *db = ct_store_db(s);
    ct_store_lock(s);
    sqlite3_stmt *q = NULL;
    if (!st)
        st = ct_db_begin(db);
    if (!st)
        st = ct_db_prepare(db, &q, "INSERT OR REPLACE INTO evaluations (session, config, "
                           "time_ms, failure, entry, at) VALUES (?, ?, ?, ?, ?, ?)");
    size_t n = 0;
    json_object_foreach(cache, key, e) {
        if (st)
            break;
        json_t *t = json_object_get(e, "time");
        char *text = json_dumps(e, JSON_COMPACT);
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_text(q, 2, key, -1, SQLITE_TRANSIENT);
        if (json_is_number(t)) {
            sqlite3_bind_double(q, 3, json_number_value(t));
            sqlite3_bind_null(q, 4);
        } else {
            sqlite3_bind_null(q, 3);
            sqlite3_bind_text(q, 4, json_string_value(t), -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_text(q, 5, text ? text : "{}", -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(q, 6, (double)n++); /* file order, as "at" */
        int rc = text ? sqlite3_step(q) : SQLITE_NOMEM;
        free(text);
        if (rc != SQLITE_DONE)
            st = ct_db_fail(db, rc, "importing");
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    if (!st)
        st = ct_db_commit(db);
    else if (id)
        ct_db_rollback(db);
    ct_store_unlock(s);
    if (!st)
        st = ct_store_session_finish(s, id);
    else if (id) /* nothing of a failed import stays: not its session, nor the session's owner */
        ct_store_session_discard(s, id);
    free(header_text);
    json_decref(header);
    json_decref(kt);
    if (!st && session)
        *session = id;
    return st ? ct_wrap(st, "importing %s", path) : CUTUNE_OK;
}

/* -------------------------------------------------------------------- export ---- */

typedef struct gather {
    json_t *cache;
    int bad;
} gather;

static int gather_entry(const char *config, const char *entry, void *user)
{
    gather *g = user;
    json_t *e = json_loads(entry, 0, NULL);
    if (!e || json_object_set_new(g->cache, config, e))
        g->bad = 1;
    return 0;
}

typedef struct key_copy {
    ct_session_row row;
    char strings[4][CT_NAME_MAX + 1];
    int found;
} key_copy;

static int copy_key(const cutune_profile *p, void *user)
{
    key_copy *k = user;
    k->row.key = *p;
    const char *from[] = {p->device, p->kernel, p->source_hash, p->user_key};
    for (int i = 0; i < 4; i++)
        snprintf(k->strings[i], sizeof k->strings[i], "%s", from[i]);
    k->row.key.device = k->strings[0];
    k->row.key.kernel = k->strings[1];
    k->row.key.source_hash = k->strings[2];
    k->row.key.user_key = k->strings[3];
    k->found = 1;
    return 1;
}

/* The header of the profile's latest session, as JSON (NULL: none); damage is a status. */
static int latest_header(cutune_store *s, const cutune_profile *key, json_t **header)
{
    ct_db *db = ct_store_db(s);
    sqlite3_stmt *q;
    *header = NULL;
    ct_store_lock(s);
    int st = ct_db_prepare(db, &q, "SELECT header FROM sessions WHERE " CT_KEY_MATCH
                           " ORDER BY id DESC LIMIT 1");
    if (!st) {
        ct_store_bind_key(q, 1, key);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW && !(*header = json_loads(ct_db_text(q, 0), 0, NULL)))
            st = ct_db_damaged(db, "reading a session", "its header does not parse as JSON");
        else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            st = ct_db_fail(db, rc, "reading a session");
        sqlite3_finalize(q);
    }
    ct_store_unlock(s);
    return st;
}

int cutune_store_export(cutune_store *s, int64_t id, cutune_format format, char **text)
{
    if (!s || !text || (format != CUTUNE_FORMAT_KERNEL_TUNER && format != CUTUNE_FORMAT_T4))
        return ct_fail(CUTUNE_EINVAL, "cutune_store_export: bad argument");
    *text = NULL;
    key_copy k = {0};
    int st = cutune_store_get(s, id, copy_key, &k);
    if (st)
        return st;
    json_t *kt;
    if ((st = latest_header(s, &k.row.key, &kt)))
        return st;
    if (!kt)
        return ct_fail(CUTUNE_ENOTFOUND, "profile %lld has no session to export",
                       (long long)id);
    /* every session of the key, whatever its space: entries by configuration, latest last */
    gather g = {json_object(), 0};
    ct_db *db = ct_store_db(s);
    sqlite3_stmt *q;
    ct_store_lock(s);
    /* (the key's columns are the sessions' alone) */
    st = ct_db_prepare(db, &q, "SELECT e.config, e.entry FROM evaluations e JOIN sessions s ON "
                       "s.id = e.session WHERE " CT_KEY_MATCH " ORDER BY s.id, e.at");
    if (!st) {
        ct_store_bind_key(q, 1, &k.row.key);
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
            gather_entry(ct_db_text(q, 0), ct_db_text(q, 1), &g);
        if (rc != SQLITE_DONE)
            st = ct_db_fail(db, rc, "reading evaluations");
        sqlite3_finalize(q);
    }
    ct_store_unlock(s);
    if (!st && !g.cache)
        st = ct_fail(CUTUNE_ENOMEM, "out of memory exporting profile %lld", (long long)id);
    if (!st && g.bad)
        st = ct_db_damaged(db, "exporting its evaluations", "one does not parse as JSON");
    if (!st)
        json_object_set(kt, "cache", g.cache);
    json_t *out = st ? NULL : format == CUTUNE_FORMAT_T4 ? ct_t4_from_kt(kt) : json_incref(kt);
    if (!st && !(*text = out ? json_dumps(out, JSON_INDENT(1)) : NULL))
        st = ct_fail(CUTUNE_ENOMEM, "out of memory exporting profile %lld", (long long)id);
    json_decref(out);
    json_decref(g.cache);
    json_decref(kt);
    return st;
}
