/* session_write.c — a session's results as files other tools read: a Kernel Tuner cache file
 * (Kernel Tuner's simulation mode and cutune sim take it) and T4 results. */
#include "session_impl.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* -------------------------------------------------------------- Kernel Tuner cache ---- */

static json_t *param_json(const cutune_space *space, size_t p, size_t v)
{
    char buf[256];
    cutune_space_format_value(space, p, v, buf, sizeof buf);
    switch (cutune_space_param_type(space, p)) {
    case CUTUNE_INT: return json_integer(strtoll(buf, NULL, 10));
    case CUTUNE_FLOAT: return json_real(strtod(buf, NULL));
    default: return json_string(buf);
    }
}

/* The configuration of entry i as a JSON object, parameter by parameter. */
static json_t *config_json(const cutune_session *s, size_t i)
{
    const uint32_t *config = ct_domain_config(&s->dom, i);
    json_t *o = json_object();
    for (size_t p = 0; o && p < cutune_space_num_params(s->space); p++)
        json_object_set_new(o, cutune_space_param_name(s->space, p),
                            param_json(s->space, p, config[p]));
    return o;
}

/* A custom objective's session runs on no device of its own. */
static const char *device_name(const cutune_session *s)
{
    return s->kernel ? s->device.name : "custom objective";
}

/* T4's name for what became of a configuration. */
static const char *t4_invalidity(const record *r)
{
    static const char *const map[][2] = {{"CompilationFailedConfig", "compile"},
                                         {"RuntimeFailedConfig", "runtime"},
                                         {"TimeoutConfig", "timeout"},
                                         {"VerificationFailedConfig", "correctness"},
                                         {"InvalidConfig", "constraints"}};
    if (!isnan(r->time_ms))
        return "correct";
    for (size_t k = 0; r->failure && k < sizeof map / sizeof *map; k++)
        if (strcmp(r->failure, map[k][0]) == 0)
            return map[k][1];
    return "runtime";
}

int cutune_session_write_t4(const cutune_session *s, const char *path)
{
    if (!s || !path)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_write_t4: NULL argument");
    json_t *results = json_array();
    int bad = !results;
    for (size_t i = 0; !bad && i < s->dom.n; i++) {
        const record *r = &s->rec[i];
        if (!r->done)
            continue;
        json_t *runtimes = json_array();
        for (int k = 0; runtimes && k < r->n; k++)
            json_array_append_new(runtimes, json_real(r->times_ms[k]));
        json_t *measurements =
            isnan(r->time_ms)
                ? json_array()
                : json_pack("[{s:s, s:f, s:s}, {s:s, s:f, s:s}, {s:s, s:f, s:s}]", "name",
                            "time", "value", r->time_ms, "unit", "ms", "name", "time_median",
                            "value", r->median_ms, "unit", "ms", "name", "time_std", "value",
                            r->std_ms, "unit", "ms");
        json_t *e = json_pack(
            "{s:o, s:[s], s:{s:f, s:o, s:f, s:f, s:f}, s:s, s:i, s:o}", "configuration",
            config_json(s, i), "objectives", "time", "times", "compilation_time", r->compile_ms,
            "runtimes", runtimes ? runtimes : json_array(), "framework", r->run_ms,
            "search_algorithm", 0.0, "validation", 0.0, "invalidity", t4_invalidity(r),
            "correctness", !r->failure || strcmp(r->failure, "VerificationFailedConfig") != 0, "measurements",
            measurements ? measurements : json_array());
        bad = !e || json_array_append_new(results, e);
    }
    json_t *root = bad ? NULL
                       : json_pack("{s:s, s:{s:s, s:s}, s:o}", "schema_version", "1.0.0",
                                   "metadata", "timeunit", "milliseconds", "device",
                                   device_name(s), "results", results);
    if (!root)
        json_decref(results);
    int st = !root ? ct_fail(CUTUNE_ENOMEM, "out of memory writing %s", path)
             : json_dump_file(root, path, JSON_INDENT(1)) == 0
                 ? CUTUNE_OK
                 : ct_fail(CUTUNE_EIO, "cannot write %s", path);
    json_decref(root);
    return st;
}

int cutune_session_write_kt_cache(const cutune_session *s, const char *path)
{
    if (!s || !path)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_write_kt_cache: NULL argument");
    size_t np = cutune_space_num_params(s->space);
    json_t *root = json_object(), *keys = json_array(), *params = json_object(),
           *cache = json_object(), *ps = json_array();
    int bad = !root || !keys || !params || !cache || !ps;
    for (size_t p = 0; !bad && p < np; p++) {
        json_t *vals = json_array();
        for (size_t v = 0; vals && v < cutune_space_param_size(s->space, p); v++)
            json_array_append_new(vals, param_json(s->space, p, v));
        bad |= json_array_append_new(keys, json_string(cutune_space_param_name(s->space, p)));
        bad |= json_object_set_new(params, cutune_space_param_name(s->space, p), vals);
    }
    char stamp[64];
    time_t t = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S+00:00", gmtime(&t));
    for (size_t i = 0; !bad && i < s->dom.n; i++) {
        const record *r = &s->rec[i];
        if (!r->done)
            continue;
        const uint32_t *config = ct_domain_config(&s->dom, i);
        char key[1024];
        cutune_space_config_key(s->space, config, key, sizeof key);
        json_t *e = json_object(), *times = json_array();
        for (size_t p = 0; e && p < np; p++)
            json_object_set_new(e, cutune_space_param_name(s->space, p),
                                param_json(s->space, p, config[p]));
        for (int k = 0; times && k < r->n; k++)
            json_array_append_new(times, json_real(r->times_ms[k]));
        json_object_set_new(e, "time", isnan(r->time_ms) ? json_string(r->failure)
                                                         : json_real(r->time_ms));
        json_object_set_new(e, "times", times);
        if (!isnan(r->time_ms)) {
            json_object_set_new(e, "time_median", json_real(r->median_ms));
            json_object_set_new(e, "time_std", json_real(r->std_ms));
        }
        json_object_set_new(e, "compile_time", json_real(r->compile_ms));
        json_object_set_new(e, "verification_time", json_integer(0));
        json_object_set_new(e, "benchmark_time", json_real(r->run_ms));
        json_object_set_new(e, "strategy_time", json_integer(0));
        json_object_set_new(e, "framework_time", json_integer(0));
        json_object_set_new(e, "timestamp", json_string(stamp));
        bad |= !e || json_object_set_new(cache, key, e);
    }
    json_decref(ps);
    if (!bad) {
        json_object_set_new(root, "device_name", json_string(device_name(s)));
        json_object_set_new(root, "kernel_name", json_string(s->name));
        json_object_set_new(root, "tune_params_keys", keys);
        json_object_set_new(root, "tune_params", params);
        json_object_set_new(root, "objective", json_string("time"));
        json_object_set_new(root, "cache", cache);
        keys = params = cache = NULL;
    }
    json_decref(keys);
    json_decref(params);
    json_decref(cache);
    int st = bad ? ct_fail(CUTUNE_ENOMEM, "out of memory writing %s", path)
                 : json_dump_file(root, path, JSON_INDENT(1)) == 0
                       ? CUTUNE_OK
                       : ct_fail(CUTUNE_EIO, "cannot write %s", path);
    json_decref(root);
    return st;
}
