/* store.c — a session and the profile store: the store's session a run writes into (a new
 * one, or the unfinished one it resumes, with what that measured), the warm start from the
 * nearest problem size tuned before, each evaluation checkpointed as it completes, and the
 * run's end, when the best becomes the profile. */
#include "session_impl.h"
#include "store/session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cutune_session_set_store(cutune_session *s, cutune_store *store, const char *user_key,
                             int resume)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_set_store: NULL session");
    if (store && ct_store_writable(store, "cutune_session_set_store"))
        return CUTUNE_EINVAL;
    char *key = user_key ? ct_strdup(user_key) : NULL;
    if (user_key && !key)
        return CUTUNE_ENOMEM;
    free(s->user_key);
    s->user_key = key;
    s->store = store;
    s->resume = resume;
    return CUTUNE_OK;
}

/* Evaluation i, as it completed, into the store's session. */
int ct_session_checkpoint(cutune_session *s, size_t i)
{
    if (!s->store || !s->store_session)
        return CUTUNE_OK;
    char key[CUTUNE_KEY_MAX];
    cutune_space_config_key(s->space, ct_domain_config(&s->dom, i), key, sizeof key);
    json_t *e = ct_session_kt_entry(s, i);
    char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    const record *r = &s->rec[i];
    int st = text ? ct_store_session_add(s->store, s->store_session, key, r->time_ms, r->failure,
                                         text)
                  : ct_fail(CUTUNE_ENOMEM, "out of memory");
    free(text);
    /* a new best is the profile at once: a session killed later has left it */
    if (!st && r->time_ms == s->best_ms)
        st = ct_store_session_fold(s->store, s->store_session);
    return st ? ct_wrap(st, "checkpointing %s", key) : CUTUNE_OK;
}

/* The entry of a stored configuration key, or CT_NONE when it is not one of this space's
 * or is the default (which runs again anyway: its outputs are the reference). */
static size_t stored_entry(const cutune_session *s, const char *key)
{
    uint32_t cfg[CUTUNE_MAX_PARAMS];
    if (s->dom.np > CUTUNE_MAX_PARAMS || cutune_space_parse_key(s->space, key, cfg))
        return CT_NONE;
    size_t i = ct_domain_find(&s->dom, cfg);
    return i == s->default_index ? CT_NONE : i;
}

/* One stored evaluation back into its record. */
static int restore_entry(const char *config, const char *entry, void *user)
{
    cutune_session *s = user;
    size_t i = stored_entry(s, config);
    if (i == CT_NONE)
        return CUTUNE_OK; /* left alone */
    json_t *e = json_loads(entry, 0, NULL), *t = json_object_get(e, "time");
    if (!e) /* (the store wrote it as JSON: it has been damaged since) */
            return ct_store_damaged(s->store, "reading what to resume",
                                "an evaluation's entry does not parse as JSON");
    if (!(json_is_number(t) || json_is_string(t))) {
        json_decref(e);
        return CUTUNE_OK;
    }
    record *r = &s->rec[i];
    if (!r->done) /* given to the strategy first, in the order they were measured */
        s->restored[s->nrestored++] = i;
    free(r->times_ms);
    free(r->message);
    memset(r, 0, sizeof *r);
    r->done = 1;
    r->compile_ms = json_number_value(json_object_get(e, "compile_time"));
    r->run_ms = json_number_value(json_object_get(e, "benchmark_time"));
    int st = CUTUNE_OK;
    if (json_is_string(t)) {
        ct_session_fail_record(r, ct_session_failure_literal(json_string_value(t)),
                               "measured by an earlier session");
    } else {
        double times[CUTUNE_MAX_TIMED_LAUNCHES];
        int n = 0;
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(e, "times"), k, v)
            if (n < CUTUNE_MAX_TIMED_LAUNCHES && json_is_number(v))
                times[n++] = json_number_value(v);
        if (!n)
            times[n++] = json_number_value(t);
        st = ct_session_keep_times(s, r, times, n);
    }
    s->stats.restored++;
    json_decref(e);
    return st;
}

/* This run is done with its store session: another run may take it up. */
void ct_session_store_release(cutune_session *s)
{
    if (s->store && s->store_session)
        ct_store_session_release(s->store, s->store_session); /* (a failure: taken over later) */
}

/* One of the warm start's configurations. */
static int add_warm(const char *config, double time_ms, void *user)
{
    (void)time_ms;
    cutune_session *s = user;
    size_t i = stored_entry(s, config);
    if (i != CT_NONE && s->nwarm < sizeof s->warm / sizeof *s->warm)
        s->warm[s->nwarm++] = i;
    return CUTUNE_OK;
}

/* The store's session for this run: the unfinished one to go on with (resume), or a new
 * one; with resume, the evaluations stored before; and the warm start. */
int ct_session_store_begin(cutune_session *s, const cutune_search_options *o)
{
    json_t *h = ct_session_kt_header(s);
    char space[33], source[33] = "", *header = h ? json_dumps(h, JSON_COMPACT) : NULL;
    ct_space_hash(json_object_get(h, "tune_params"), space);
    json_decref(h);
    if (!header)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    int hashed = s->source && s->kernel
                     ? ct_kernel_source_hash_named(s->kernel, s->source, strlen(s->source),
                                                   s->source_name, source)
                     : CUTUNE_OK;
    if (hashed) {
        free(header);
        return hashed;
    }
    ct_session_row row = {
        .key = {.device = s->device_name,
                .cc_major = s->device.cc_major, .cc_minor = s->device.cc_minor,
                .sm_count = s->device.sm_count, .driver_version = s->device.driver_version,
                .runtime_version = s->device.runtime_version, .kernel = s->name,
                .source_hash = source, .user_key = s->user_key,
                .problem = {s->problem[0], s->problem[1], s->problem[2]},
                .strategy = o->strategy ? o->strategy : "bo", .budget = o->budget},
        .seed = o->seed, .space_hash = space, .header = header,
        .origin = s->origin ? s->origin : "cutune"};
    int st = CUTUNE_OK;
    free(s->restored);
    s->nrestored = 0;
    s->store_session = 0;
    /* room for every configuration, and the warm start after them (see cutune_session_run) */
    if (!(s->restored = malloc((s->dom.n + sizeof s->warm / sizeof *s->warm) *
                               sizeof *s->restored)))
        st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    /* the session to go on with, this run's alone from here on, or a new one */
    if (!st && s->resume)
        st = ct_store_session_resume(s->store, &row, &s->store_session);
    if (!st && !s->store_session)
        st = ct_store_session_begin(s->store, &row, &s->store_session);
    if (!st && s->resume)
        st = ct_store_session_entries(s->store, &row, restore_entry, s);
    uint64_t warm = o->budget / 10 < 5 ? o->budget / 10 : 5;
    s->nwarm = 0;
    if (!st && warm)
        st = ct_store_session_nearby(s->store, &row, (size_t)warm,
                                     s->stats.warm_start_problem, add_warm, s);
    s->stats.warm_start = s->nwarm;
    free(header);
    return st;
}

int ct_session_store_end(cutune_session *s, int status)
{
    /* finished, or stopped by the caller: the best so far becomes the profile, and the
     * session nobody's (ct_store_session_finish) */
    int finished = 0;
    if (s->store && s->store_session && (!status || status == CUTUNE_ECANCELED)) {
        int fin = ct_store_session_finish(s->store, s->store_session);
        finished = !fin;
        status = status ? status : fin;
    }
    if (!finished)
        ct_session_store_release(s); /* (failed: unfinished, for a later run to resume) */
    return status;
}
