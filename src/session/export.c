/* export.c — a session's results as other tools read them: Kernel Tuner cache entries
 * (what the profile store keeps of each evaluation, and a cache file that Kernel Tuner's
 * simulation mode and cutune sim take) and T4 results, made from those entries. */
#include "session_impl.h"
#include "store/session.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

json_t *ct_session_kt_header(const cutune_session *s)
{
    size_t np = cutune_space_num_params(s->space);
    json_t *keys = json_array(), *params = json_object(), *ps = json_array();
    int bad = !keys || !params || !ps;
    for (size_t p = 0; !bad && p < np; p++) {
        json_t *vals = json_array();
        for (size_t v = 0; vals && v < cutune_space_param_size(s->space, p); v++)
            json_array_append_new(vals, param_json(s->space, p, v));
        bad |= json_array_append_new(keys, json_string(cutune_space_param_name(s->space, p)));
        bad |= json_object_set_new(params, cutune_space_param_name(s->space, p), vals);
    }
    int dims = s->problem_dims;
    for (int d = 0; !bad && d < dims; d++)
        bad |= json_array_append_new(ps, json_integer(s->problem[d]));
    json_t *h = bad ? NULL
                    : json_pack("{s:s, s:s, s:o, s:o, s:s}", "device_name",
                                s->device_name,
                                "kernel_name", s->name, "tune_params_keys", keys, "tune_params",
                                params, "objective", cutune_session_objective_name(s, NULL));
    if (!h) {
        json_decref(keys);
        json_decref(params);
    }
    if (h && dims)
        json_object_set(h, "problem_size", ps);
    json_decref(ps);
    return h;
}

json_t *ct_session_kt_entry(const cutune_session *s, size_t i)
{
    const record *r = &s->rec[i];
    const uint32_t *config = ct_domain_config(&s->dom, i);
    char stamp[64];
    time_t t = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S+00:00", gmtime(&t));
    json_t *e = json_object(), *times = json_array();
    for (size_t p = 0; e && p < cutune_space_num_params(s->space); p++)
        json_object_set_new(e, cutune_space_param_name(s->space, p),
                            param_json(s->space, p, config[p]));
    for (int k = 0; times && k < r->n; k++)
        json_array_append_new(times, json_real(r->times_ms[k]));
    if (!e || !times) {
        json_decref(e);
        json_decref(times);
        return NULL;
    }
    json_object_set_new(e, "time", isnan(r->time_ms) ? json_string(r->failure)
                                                     : json_real(r->time_ms));
    json_object_set_new(e, "times", times);
    if (!isnan(r->time_ms)) {
        json_object_set_new(e, "time_median", json_real(r->median_ms));
        json_object_set_new(e, "time_std", json_real(r->std_ms));
        /* the median's 95% interval (the launches' order statistics) */
        json_object_set_new(e, "time_median_lo", json_real(r->lo_ms));
        json_object_set_new(e, "time_median_hi", json_real(r->hi_ms));
    }
    if (r->sm_mhz[0] || r->sm_mhz[1]) { /* the clocks around the timing, as NVML saw them */
        json_object_set_new(e, "sm_clock_mhz_before", json_integer(r->sm_mhz[0]));
        json_object_set_new(e, "sm_clock_mhz_after", json_integer(r->sm_mhz[1]));
    }
    if (r->slowdown) {
        char names[160];
        json_object_set_new(e, "throttled", json_string(cutune_throttle_names(r->slowdown,
                                                                               names,
                                                                               sizeof names)));
    }
    if (r->confirmed_n > 0) { /* timed again at the end: the median the winner is chosen on */
        json_object_set_new(e, "time_confirmed", json_real(r->confirmed_ms));
        json_object_set_new(e, "time_confirmed_lo", json_real(r->confirmed_lo_ms));
        json_object_set_new(e, "time_confirmed_hi", json_real(r->confirmed_hi_ms));
    } else if (r->confirmed_n < 0) {
        json_object_set_new(e, "confirm_failure", json_string(r->message ? r->message : ""));
    }
    if (ct_session_metrics_json(s, i, e)) { /* extra keys, as Kernel Tuner writes metrics */
        json_decref(e);
        return NULL;
    }
    json_object_set_new(e, "compile_time", json_real(r->compile_ms));
    json_object_set_new(e, "verification_time", json_integer(0));
    json_object_set_new(e, "benchmark_time", json_real(r->run_ms));
    json_object_set_new(e, "strategy_time", json_integer(0));
    json_object_set_new(e, "framework_time", json_integer(0));
    json_object_set_new(e, "timestamp", json_string(stamp));
    return e;
}

/* Every evaluated configuration as a Kernel Tuner cache file's JSON. */
static json_t *kt_json(const cutune_session *s)
{
    json_t *root = ct_session_kt_header(s), *cache = json_object();
    int bad = !root || !cache;
    for (size_t i = 0; !bad && i < s->dom.n; i++) {
        if (!s->rec[i].done)
            continue;
        char key[CUTUNE_KEY_MAX];
        cutune_space_config_key(s->space, ct_domain_config(&s->dom, i), key, sizeof key);
        json_t *e = ct_session_kt_entry(s, i);
        bad = !e || json_object_set_new(cache, key, e);
    }
    if (!bad && !json_object_set_new(root, "cache", cache))
        return root;
    json_decref(cache);
    json_decref(root);
    return NULL;
}

/* A .gz name is written gzip'd, as Kernel Tuner reads it. */
static int write_json(json_t *root, const char *path)
{
    char *text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
    int st = !text ? ct_fail(CUTUNE_ENOMEM, "out of memory writing %s", path)
                   : ct_write_gz(path, text, strlen(text));
    free(text);
    json_decref(root);
    return st;
}

int cutune_session_write_kt_cache(const cutune_session *s, const char *path)
{
    if (!s || !path)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_write_kt_cache: NULL argument");
    return write_json(kt_json(s), path);
}

int cutune_session_write_t4(const cutune_session *s, const char *path)
{
    if (!s || !path)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_write_t4: NULL argument");
    json_t *kt = kt_json(s), *t4 = kt ? ct_t4_from_kt(kt) : NULL;
    json_decref(kt);
    return write_json(t4, path);
}
