/* store.c — the profile store: the database and the in-memory map kept in step. Every write
 * goes to SQLite in a transaction first and is then published to the map; lookups
 * (cutune_select) read only the map. Sessions (sessions.c) write each evaluation as it
 * completes, so a killed session loses nothing that finished. */
#include "store_impl.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct cutune_store {
    ct_db db;
    ct_map *map;
    int64_t rev_seen;     /* the highest profiles.rev taken into the map */
    pthread_mutex_t lock; /* one user of the SQLite connection at a time */
};

ct_db *ct_store_db(cutune_store *store) { return &store->db; }
int ct_store_damaged(cutune_store *store, const char *what, const char *why)
{
    return ct_db_damaged(&store->db, what, why);
}
ct_map *ct_store_map(cutune_store *store) { return store->map; }
int ct_store_writable(const cutune_store *store, const char *what)
{
    return store->db.readonly
               ? ct_fail(CUTUNE_EINVAL, "%s: %s was opened read-only", what, store->db.path)
               : CUTUNE_OK;
}
void ct_store_lock(cutune_store *store) { pthread_mutex_lock(&store->lock); }
void ct_store_unlock(cutune_store *store) { pthread_mutex_unlock(&store->lock); }
const char *cutune_store_path(const cutune_store *store) { return store ? store->db.path : NULL; }

void cutune_source_hash(const char *source, size_t len, char buf[33])
{
    XXH128_hash_t h = XXH3_128bits(source ? source : "", source ? len : 0);
    snprintf(buf, 33, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}

int cutune_store_default_path(char *buf, size_t size)
{
    if (!buf || !size)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_default_path: no buffer");
    const char *db = getenv("CUTUNE_DB"), *data = getenv("XDG_DATA_HOME"),
               *home = getenv("HOME");
    int n;
    if (db && *db)
        n = snprintf(buf, size, "%s", db);
    else if (data && *data)
        n = snprintf(buf, size, "%s/cutune/profiles.db", data);
    else if (home && *home)
        n = snprintf(buf, size, "%s/.local/share/cutune/profiles.db", home);
    else
        return ct_fail(CUTUNE_ENOTFOUND, "no place for the profile database: set CUTUNE_DB, "
                       "XDG_DATA_HOME or HOME");
    return n > 0 && (size_t)n < size ? CUTUNE_OK
                                     : ct_fail(CUTUNE_EINVAL, "the database path is too long");
}

/* ----------------------------------------------------------------- profile rows ---- */

#define PROFILE_COLUMNS                                                                    \
    "id, device, cc_major, cc_minor, sm_count, driver, runtime, kernel, source_hash, "     \
    "user_key, p0, p1, p2, params, config, time_ms, median_ms, std_ms, strategy, budget, " \
    "evaluations, session, updated, rev, median_lo_ms, median_hi_ms"

/* A profile viewing a row of PROFILE_COLUMNS (valid until the statement moves). */
static cutune_profile profile_of_row(sqlite3_stmt *q)
{
    cutune_profile p = {
        .id = sqlite3_column_int64(q, 0), .device = ct_db_text(q, 1),
        .cc_major = sqlite3_column_int(q, 2), .cc_minor = sqlite3_column_int(q, 3),
        .sm_count = sqlite3_column_int(q, 4), .driver_version = sqlite3_column_int(q, 5),
        .runtime_version = sqlite3_column_int(q, 6), .kernel = ct_db_text(q, 7),
        .source_hash = ct_db_text(q, 8), .user_key = ct_db_text(q, 9),
        .problem = {sqlite3_column_int64(q, 10), sqlite3_column_int64(q, 11),
                    sqlite3_column_int64(q, 12)},
        .params = ct_db_text(q, 13), .config = ct_db_text(q, 14),
        .time_ms = sqlite3_column_double(q, 15),
        .median_ms = ct_db_real(q, 16),
        .std_ms = ct_db_real(q, 17),
        .strategy = ct_db_text(q, 18), .budget = (uint64_t)sqlite3_column_int64(q, 19),
        .evaluations = (uint64_t)sqlite3_column_int64(q, 20),
        .session = sqlite3_column_int64(q, 21), .updated = sqlite3_column_double(q, 22),
        .median_lo_ms = ct_db_real(q, 24),
        .median_hi_ms = ct_db_real(q, 25)};
    return p;
}

/* Takes profiles with rev > store->rev_seen into the map. The first time (`first`: the map
 * is new and empty), the whole table in its own order: a scan, with no index to follow and
 * no key that could already be in the map. */
static int load_profiles(cutune_store *s, int first)
{
    sqlite3_stmt *q;
    int st = ct_db_prepare(&s->db, &q, first ? "SELECT " PROFILE_COLUMNS " FROM profiles"
                                             : "SELECT " PROFILE_COLUMNS " FROM profiles "
                                               "WHERE rev > ?");
    if (st)
        return st;
    if (!first)
        sqlite3_bind_int64(q, 1, s->rev_seen);
    int rc;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        cutune_profile p = profile_of_row(q);
        int64_t rev = sqlite3_column_int64(q, 23);
        st = first ? ct_map_publish_new(s->map, &p) : ct_map_publish(s->map, &p);
        s->rev_seen = rev > s->rev_seen ? rev : s->rev_seen;
    }
    if (!st && rc != SQLITE_DONE)
        st = ct_db_fail(&s->db, rc, "reading its profiles");
    sqlite3_finalize(q);
    return st;
}

int cutune_store_open(cutune_store **out, const char *path, int flags)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_open: out is NULL");
    *out = NULL;
    char where[4096];
    if (!path) {
        int st = cutune_store_default_path(where, sizeof where);
        if (st)
            return st;
        path = where;
    }
    cutune_store *s = calloc(1, sizeof *s);
    if (!s)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    int st = ct_db_open(&s->db, path, flags & CUTUNE_STORE_READONLY);
    size_t count = 0;
    sqlite3_stmt *q;
    if (!st && !(st = ct_db_prepare(&s->db, &q, "SELECT count(*) FROM profiles"))) {
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            count = (size_t)sqlite3_column_int64(q, 0);
        else
            st = ct_db_fail(&s->db, rc, "counting its profiles");
        sqlite3_finalize(q);
    }
    if (!st)
        st = ct_map_new(&s->map, count);
    if (!st)
        st = load_profiles(s, 1);
    if (st) {
        cutune_store_free(s);
        return st;
    }
    *out = s;
    return CUTUNE_OK;
}

void cutune_store_free(cutune_store *s)
{
    if (!s)
        return;
    ct_map_free(s->map);
    if (s->db.h)
        ct_db_close(&s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int cutune_store_refresh(cutune_store *s)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_refresh: NULL store");
    pthread_mutex_lock(&s->lock);
    int st = CUTUNE_OK;
    ct_db fresh;
    /* an immutable open (a reader in a folder it cannot write) sees no change: the file is
     * opened anew when it has changed, and all of it taken in (it may be another file, put
     * in the store's place, whose revs are its own) */
    if (ct_db_changed(&s->db) && !(st = ct_db_open(&fresh, s->db.path, 1))) {
        ct_db_close(&s->db);
        s->db = fresh;
        s->rev_seen = 0;
    }
    if (!st)
        st = load_profiles(s, 0);
    pthread_mutex_unlock(&s->lock);
    return st;
}

void ct_store_bind_key(sqlite3_stmt *q, int first, const cutune_profile *p)
{
    sqlite3_bind_text(q, first, p->device ? p->device : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, first + 1, p->cc_major);
    sqlite3_bind_int(q, first + 2, p->cc_minor);
    sqlite3_bind_int(q, first + 3, p->sm_count);
    sqlite3_bind_int(q, first + 4, p->driver_version);
    sqlite3_bind_int(q, first + 5, p->runtime_version);
    sqlite3_bind_text(q, first + 6, p->kernel ? p->kernel : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, first + 7, p->source_hash ? p->source_hash : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, first + 8, p->user_key ? p->user_key : "", -1, SQLITE_TRANSIENT);
    for (int d = 0; d < 3; d++)
        sqlite3_bind_int64(q, first + 9 + d, p->problem[d] <= 0 ? 1 : p->problem[d]);
}


int ct_store_check_profile(const cutune_profile *p)
{
    if (!p->kernel || !*p->kernel || !p->device || !p->params || !p->config || !p->strategy)
        return ct_fail(CUTUNE_EINVAL, "a profile needs a device, kernel, params, config and "
                       "strategy");
    if (!(p->time_ms >= 0) || isinf(p->time_ms))
        return ct_fail(CUTUNE_EINVAL, "a profile's time must be a number >= 0");
    const char *names[] = {p->device, p->kernel, p->user_key ? p->user_key : ""};
    for (int k = 0; k < 3; k++)
        if (strlen(names[k]) > CT_NAME_MAX)
            return ct_fail(CUTUNE_EINVAL, "'%.40s...' is over %d bytes", names[k], CT_NAME_MAX);
    if (p->source_hash && strlen(p->source_hash) > 64)
        return ct_fail(CUTUNE_EINVAL, "a source hash is at most 64 characters");
    for (int d = 0; d < 3; d++)
        if (p->problem[d] < 0)
            return ct_fail(CUTUNE_EINVAL, "a problem size is negative");
    return CUTUNE_OK;
}

static const char count_sql[] = "SELECT count(*) FROM evaluations JOIN sessions ON "
                                "sessions.id = evaluations.session WHERE " CT_KEY_MATCH;

/* A new profile, or the faster of the old and the new (the count of evaluations behind it
 * and the time of update change either way); rev grows with every write. */
static const char upsert_sql[] =
    "INSERT INTO profiles (device, cc_major, cc_minor, sm_count, driver, runtime, "
    "kernel, source_hash, user_key, p0, p1, p2, params, config, time_ms, median_ms, "
    "std_ms, strategy, budget, evaluations, session, updated, rev, median_lo_ms, "
    "median_hi_ms) VALUES (?, ?, ?, ?, "
    "?, ?, ?, ?, ?, ?, ?, ?, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
    "(SELECT coalesce(max(rev), 0) + 1 FROM profiles), ?23, ?24) "
    "ON CONFLICT DO UPDATE SET evaluations = ?20, updated = ?22, rev = excluded.rev, "
    "params = iif(?15 < time_ms, ?13, params), config = iif(?15 < time_ms, ?14, config), "
    "median_ms = iif(?15 < time_ms, ?16, median_ms), "
    "std_ms = iif(?15 < time_ms, ?17, std_ms), "
    "median_lo_ms = iif(?15 < time_ms, ?23, median_lo_ms), "
    "median_hi_ms = iif(?15 < time_ms, ?24, median_hi_ms), "
    "strategy = iif(?15 < time_ms, ?18, strategy), "
    "budget = iif(?15 < time_ms, ?19, budget), "
    "session = iif(?15 < time_ms, ?21, session), "
    "time_ms = min(?15, time_ms) "
    "RETURNING " PROFILE_COLUMNS;

int ct_store_put_locked(cutune_store *s, const cutune_profile *p, cutune_profile *kept,
                        char **strings)
{
    sqlite3_stmt *q;
    uint64_t evaluations = 0;
    int st = ct_db_cached(&s->db, &q, count_sql);
    if (!st) {
        ct_store_bind_key(q, 1, p);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            evaluations = (uint64_t)sqlite3_column_int64(q, 0);
        else
            st = ct_db_fail(&s->db, rc, "counting evaluations");
        sqlite3_reset(q);
    }
    if (!st)
        st = ct_db_cached(&s->db, &q, upsert_sql);
    if (st)
        return st;
    ct_store_bind_key(q, 1, p);
    sqlite3_bind_text(q, 13, p->params, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 14, p->config, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(q, 15, p->time_ms);
    if (!isnan(p->median_ms))
        sqlite3_bind_double(q, 16, p->median_ms);
    if (!isnan(p->std_ms))
        sqlite3_bind_double(q, 17, p->std_ms);
    if (p->median_lo_ms > 0 && p->median_hi_ms >= p->median_lo_ms) { /* else unknown */
        sqlite3_bind_double(q, 23, p->median_lo_ms);
        sqlite3_bind_double(q, 24, p->median_hi_ms);
    }
    sqlite3_bind_text(q, 18, p->strategy, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 19, (int64_t)p->budget);
    sqlite3_bind_int64(q, 20, (int64_t)evaluations);
    if (p->session)
        sqlite3_bind_int64(q, 21, p->session);
    sqlite3_bind_double(q, 22, ct_unix_now());
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        cutune_profile v = profile_of_row(q);
        /* the strings outlive the statement: one copy, kept by the caller */
        const char *from[] = {v.device, v.kernel, v.source_hash, v.user_key,
                              v.params, v.config, v.strategy};
        const char **to[] = {&v.device, &v.kernel, &v.source_hash, &v.user_key,
                             &v.params, &v.config, &v.strategy};
        size_t bytes = 0;
        for (int k = 0; k < 7; k++)
            bytes += strlen(from[k]) + 1;
        char *at = *strings = malloc(bytes);
        if (!at) {
            st = ct_fail(CUTUNE_ENOMEM, "out of memory");
        } else {
            for (int k = 0; k < 7; k++) {
                size_t n = strlen(from[k]) + 1;
                memcpy(at, from[k], n);
                *to[k] = at;
                at += n;
            }
            *kept = v;
        }
        rc = sqlite3_step(q);
    }
    if (!st && rc != SQLITE_DONE)
        st = ct_db_fail(&s->db, rc, "writing a profile");
    sqlite3_reset(q);
    return st;
}

/* The write of a profile, then its publication (after the commit, so the map never holds
 * what the file does not). */
static int put_and_publish(cutune_store *s, const cutune_profile *p)
{
    cutune_profile kept;
    char *strings = NULL;
    int st = ct_db_begin(&s->db);
    if (!st)
        st = ct_store_put_locked(s, p, &kept, &strings);
    if (!st)
        st = ct_db_commit(&s->db);
    else
        ct_db_rollback(&s->db);
    if (!st)
        st = ct_map_publish(s->map, &kept);
    free(strings);
    return st;
}

int cutune_store_put(cutune_store *s, const cutune_profile *p)
{
    if (!s || !p)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_put: NULL argument");
    int st = ct_store_check_profile(p);
    if (st)
        return st;
    pthread_mutex_lock(&s->lock);
    st = put_and_publish(s, p);
    pthread_mutex_unlock(&s->lock);
    return st;
}

int cutune_select(cutune_store *store, const cutune_device_info *device,
                  const cutune_kernel_id *kernel, const int64_t problem[3],
                  cutune_selection *out)
{
    if (!store || !device || !kernel || !kernel->name || !problem || !out)
        return ct_fail(CUTUNE_EINVAL, "cutune_select: NULL argument");
    return ct_map_select(store->map, device, kernel, problem, out);
}

/* A kernel on a device, its key made and hashed but for the problem size. */
struct cutune_selector {
    uint64_t id;  /* unique in the process: a memo never outlives its selector's identity */
    cutune_store *store;
    cutune_device_info device;
    char key[CT_KEY_MAX];
    size_t key_len, kernel_len;
    uint64_t prefix_hash;
};

int cutune_selector_new(cutune_selector **out, cutune_store *store,
                        const cutune_device_info *device, const cutune_kernel_id *kernel)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_selector_new: out is NULL");
    *out = NULL;
    if (!store || !device || !kernel || !kernel->name)
        return ct_fail(CUTUNE_EINVAL, "cutune_selector_new: NULL argument");
    cutune_selector *sel = malloc(sizeof *sel);
    if (!sel)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    int dev[5] = {device->cc_major, device->cc_minor, device->sm_count, device->driver_version,
                  device->runtime_version};
    sel->store = store;
    sel->device = *device;
    sel->key_len = ct_profile_key(sel->key, kernel->name, kernel->source_hash, kernel->user_key,
                                  device->name, dev, (int64_t[3]){1, 1, 1}, &sel->kernel_len);
    if (!sel->key_len) {
        free(sel);
        return ct_fail(CUTUNE_EINVAL, "cutune_selector_new: a name is over %d bytes",
                       CT_NAME_MAX);
    }
    sel->prefix_hash = ct_key_prefix_hash(sel->key, sel->key_len);
    static _Atomic uint64_t ids;
    sel->id = atomic_fetch_add(&ids, 1) + 1;
    *out = sel;
    return CUTUNE_OK;
}

/* Each thread remembers its last answers, so that asking again (what an application does
 * on every launch) costs no trip through the map while the answer stands: no hashing, no
 * table walk, no RCU read section (whose barriers are full fences where the kernel offers
 * no membarrier). */
#define MEMO_SETS 16
#define MEMO_WAYS 4 /* a few answers that hash alike do not push each other out */
#define MEMO_TEXT 176
typedef struct memo {
    uint64_t selector;             /* 0: empty */
    uint64_t generation;           /* the map's, or for an exact hit the key's */
    uint64_t key_hash;
    int64_t problem[3];
    cutune_select_rule rule;
    int64_t profile;
    double time_ms;
    int64_t at[3];                 /* the profile's problem size */
    uint16_t params_len, config_len;
    char text[MEMO_TEXT];          /* params, NUL, config, NUL */
} memo;
static _Thread_local memo memos[MEMO_SETS][MEMO_WAYS];
static _Thread_local uint8_t memo_victim[MEMO_SETS]; /* the way a new answer replaces next */

/* The memo of this question, or NULL and in *slot where to keep its answer. A question has
 * two sets it may sit in (two choices: a handful of questions rarely crowd both). */
static memo *memo_find(uint64_t selector, const int64_t problem[3], memo **slot)
{
    uint64_t h = selector * 0x9E3779B97F4A7C15u;
    for (int d = 0; d < 3; d++)
        h = (h ^ (uint64_t)problem[d]) * 0xC2B2AE3D27D4EB4Fu;
    unsigned which[2] = {(unsigned)(h >> 60), (unsigned)(h >> 56) % MEMO_SETS};
    *slot = NULL;
    for (int c = 0; c < 2; c++) {
        memo *set = memos[which[c]];
        for (int w = 0; w < MEMO_WAYS; w++) {
            if (set[w].selector == selector && memcmp(set[w].problem, problem, 24) == 0)
                return *slot = &set[w];
            if (!set[w].selector && !*slot)
                *slot = &set[w];
        }
    }
    if (!*slot) { /* both full: take turns evicting from the first */
        *slot = &memos[which[0]][memo_victim[which[0]]++ % MEMO_WAYS];
    }
    return NULL;
}

static void memo_answer(const memo *m, cutune_selection *out)
{
    out->rule = m->rule;
    out->profile = m->profile;
    out->time_ms = m->time_ms;
    memcpy(out->problem, m->at, sizeof out->problem);
    memcpy(out->params, m->text, m->params_len + 1u);
    memcpy(out->config, m->text + m->params_len + 1, m->config_len + 1u);
}

/* Whether the remembered answer still stands: an exact hit changes only with its key; the
 * other rules' answers with anything the map holds. */
static int memo_stands(const memo *m, ct_map *map)
{
    return m->generation == (m->rule == CUTUNE_SELECT_EXACT
                                 ? ct_map_key_generation(map, m->key_hash)
                                 : ct_map_generation(map));
}

static void memo_keep(memo *m, uint64_t selector, uint64_t generation, uint64_t key_generation,
                      uint64_t key_hash, const int64_t problem[3], const cutune_selection *sel)
{
    size_t np = strlen(sel->params), nc = strlen(sel->config);
    if (np + nc + 2 > MEMO_TEXT) {
        m->selector = 0; /* too long to remember: asked of the map each time */
        return;
    }
    m->selector = selector;
    m->generation = sel->rule == CUTUNE_SELECT_EXACT ? key_generation : generation;
    m->key_hash = key_hash;
    memcpy(m->problem, problem, sizeof m->problem);
    m->rule = sel->rule;
    m->profile = sel->profile;
    m->time_ms = sel->time_ms;
    memcpy(m->at, sel->problem, sizeof m->at);
    m->params_len = (uint16_t)np;
    m->config_len = (uint16_t)nc;
    memcpy(m->text, sel->params, np + 1);
    memcpy(m->text + np + 1, sel->config, nc + 1);
}

void cutune_selector_free(cutune_selector *sel)
{
    free(sel);
}

int cutune_selector_get(const cutune_selector *sel, const int64_t problem[3],
                        cutune_selection *out)
{
    if (!sel || !problem || !out)
        return ct_fail(CUTUNE_EINVAL, "cutune_selector_get: NULL argument");
    int64_t want[3];
    for (int d = 0; d < 3; d++)
        want[d] = problem[d] <= 0 ? 1 : problem[d];
    ct_map *map = sel->store->map;
    memo *m, *found = memo_find(sel->id, want, &m);
    if (found && memo_stands(found, map)) {
        memo_answer(found, out);
        return CUTUNE_OK;
    }
    char key[CT_KEY_MAX];
    size_t head = sel->key_len - sizeof want;
    memcpy(key, sel->key, head);
    memcpy(key + head, want, sizeof want);
    uint64_t hash = ct_key_hash(key, sel->key_len, sel->prefix_hash);
    /* the generations before the lookup: a change during it makes the memo stale at once */
    uint64_t generation = ct_map_generation(map), key_generation =
                                                      ct_map_key_generation(map, hash);
    ct_map_select_key(map, &sel->device, key, sel->key_len, sel->kernel_len, hash, out);
    memo_keep(m, sel->id, generation, key_generation, hash, want, out);
    return CUTUNE_OK;
}

const char *cutune_select_rule_name(cutune_select_rule rule)
{
    static const char *const names[] = {"exact", "nearest size", "similar device", "default"};
    return (unsigned)rule < 4 ? names[rule] : "?";
}

/* ------------------------------------------------------------- listing, pruning ---- */

static int each_row(cutune_store *s, const char *sql, int64_t id, cutune_profile_fn fn,
                    void *user)
{
    sqlite3_stmt *q;
    pthread_mutex_lock(&s->lock);
    int st = ct_db_prepare(&s->db, &q, sql), rc = SQLITE_DONE;
    if (!st && id)
        sqlite3_bind_int64(q, 1, id);
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        cutune_profile p = profile_of_row(q);
        if (fn(&p, user))
            break;
    }
    if (!st && rc != SQLITE_DONE && rc != SQLITE_ROW)
        st = ct_db_fail(&s->db, rc, "reading its profiles");
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->lock);
    return st;
}

int cutune_store_list(cutune_store *s, cutune_profile_fn fn, void *user)
{
    if (!s || !fn)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_list: NULL argument");
    return each_row(s, "SELECT " PROFILE_COLUMNS " FROM profiles ORDER BY kernel, device, "
                    "user_key, p0, p1, p2", 0, fn, user);
}

typedef struct forward {
    cutune_profile_fn fn;
    void *user;
    int seen;
} forward;

static int forward_one(const cutune_profile *p, void *user)
{
    forward *f = user;
    f->seen = 1;
    return f->fn(p, f->user);
}

int cutune_store_get(cutune_store *s, int64_t id, cutune_profile_fn fn, void *user)
{
    if (!s || !fn)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_get: NULL argument");
    forward f = {fn, user, 0};
    int st = each_row(s, "SELECT " PROFILE_COLUMNS " FROM profiles WHERE id = ?", id,
                      forward_one, &f);
    if (!st && !f.seen)
        st = ct_fail(CUTUNE_ENOTFOUND, "%s has no profile %lld", s->db.path, (long long)id);
    return st;
}

int cutune_store_prune(cutune_store *s, const char *kernel, double older_than_s,
                       uint64_t *removed)
{
    if (!s || !(older_than_s >= 0))
        return ct_fail(CUTUNE_EINVAL, "cutune_store_prune: bad argument");
    pthread_mutex_lock(&s->lock);
    double before = older_than_s > 0 ? ct_unix_now() - older_than_s : INFINITY;
    int st = ct_db_begin(&s->db);
    sqlite3_stmt *q = NULL;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    if (!st)
        st = ct_db_prepare(&s->db, &q, "DELETE FROM profiles WHERE updated < ?1 AND "
                           "(?2 IS NULL OR kernel = ?2) RETURNING id");
    if (!st) {
        sqlite3_bind_double(q, 1, before);
        if (kernel)
            sqlite3_bind_text(q, 2, kernel, -1, SQLITE_TRANSIENT);
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW && !st) {
            if (n == cap) {
                int64_t *grown = realloc(ids, (cap = cap ? 2 * cap : 64) * sizeof *ids);
                if (!grown) {
                    st = ct_fail(CUTUNE_ENOMEM, "out of memory");
                    break;
                }
                ids = grown;
            }
            ids[n++] = sqlite3_column_int64(q, 0);
        }
        if (!st && rc != SQLITE_DONE)
            st = ct_db_fail(&s->db, rc, "pruning");
        sqlite3_finalize(q);
    }
    /* the sessions whose key no profile has any more go with their evaluations */
    if (!st)
        st = ct_db_exec(&s->db,
                        "DELETE FROM evaluations WHERE session IN (SELECT s.id FROM sessions s "
                        "WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.device = s.device "
                        "AND p.cc_major = s.cc_major AND p.cc_minor = s.cc_minor AND p.sm_count "
                        "= s.sm_count AND p.driver = s.driver AND p.runtime = s.runtime AND "
                        "p.kernel = s.kernel AND p.source_hash = s.source_hash AND p.user_key = "
                        "s.user_key AND p.p0 = s.p0 AND p.p1 = s.p1 AND p.p2 = s.p2) AND "
                        "s.finished IS NOT NULL);"
                        "DELETE FROM sessions WHERE finished IS NOT NULL AND id NOT IN (SELECT "
                        "DISTINCT session FROM evaluations)");
    if (!st)
        st = ct_db_commit(&s->db);
    else
        ct_db_rollback(&s->db);
    for (size_t k = 0; !st && k < n; k++)
        ct_map_remove(s->map, ids[k]);
    if (removed)
        *removed = st ? 0 : n;
    free(ids);
    pthread_mutex_unlock(&s->lock);
    return st;
}

int cutune_store_vacuum(cutune_store *s)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_vacuum: NULL store");
    pthread_mutex_lock(&s->lock);
    int st = ct_store_writable(s, "cutune_store_vacuum");
    if (!st)
        st = ct_db_exec(&s->db, "VACUUM; PRAGMA wal_checkpoint(TRUNCATE)");
    pthread_mutex_unlock(&s->lock);
    return st;
}
