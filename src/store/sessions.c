/* sessions.c — tuning sessions in the profile store: a session's row and the run that owns
 * it (one at a time), each evaluation as it completes, folding the best into the profile,
 * and what a resumed or warm-started session reads back (its earlier evaluations, the best of
 * the nearest other size). */
#include "store_impl.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SESSION_MATCH CT_KEY_MATCH " AND space_hash = ?"

/* ------------------------------------------------------------ who runs a session ---- */

/* A process as the store names it: on which host (and boot of it, and pid namespace), its pid
 * and its start time (so that a pid used again by another process is not taken for it). */
typedef struct owner {
    long long pid, start;
    char host[256], boot[64], pidns[64];
} owner;

/* The first line of a small file, without its newline ("" when it cannot be read). */
static void read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    *buf = '\0';
    if (f && fgets(buf, (int)size, f))
        buf[strcspn(buf, "\n")] = '\0';
    if (f)
        fclose(f);
}

/* When process `pid` started, in clock ticks after boot (field 22 of /proc/PID/stat, after
 * the name in parentheses, which may hold anything); -1 when it cannot be read, -2 when the
 * process has ended and waits to be reaped (a zombie: state Z or X, field 3). */
static long long start_of(long long pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", pid);
    read_line(path, line, sizeof line);
    const char *at = strrchr(line, ')');
    if (at && (at[1] == ' ' && (at[2] == 'Z' || at[2] == 'X')))
        return -2;
    for (int field = 2; at && field < 22; field++)
        at = strchr(at + 1, ' ');
    return at ? strtoll(at + 1, NULL, 10) : -1;
}

static void owner_self(owner *o)
{
    memset(o, 0, sizeof *o);
    o->pid = (long long)getpid();
    o->start = start_of(o->pid);
    if (gethostname(o->host, sizeof o->host - 1) != 0)
        snprintf(o->host, sizeof o->host, "unknown");
    read_line("/proc/sys/kernel/random/boot_id", o->boot, sizeof o->boot);
    ssize_t n = readlink("/proc/self/ns/pid", o->pidns, sizeof o->pidns - 1);
    o->pidns[n > 0 ? n : 0] = '\0';
}

/* Whether the process `o` is provably gone: of this host and pid namespace, and its pid is
 * not alive (or a zombie) or is another process's (another start time); or the host has
 * restarted since.
 * Of another host (or namespace), nothing can be told: it is taken to be running. */
static int owner_gone(const owner *o)
{
    owner me;
    owner_self(&me);
    if (strcmp(o->host, me.host) != 0)
        return 0;
    if (*o->boot && *me.boot && strcmp(o->boot, me.boot) != 0)
        return 1;
    if (strcmp(o->pidns, me.pidns) != 0 || o->pid <= 0)
        return 0;
    if (kill((pid_t)o->pid, 0) != 0 && errno == ESRCH)
        return 1;
    long long start = start_of(o->pid);
    return start == -2 || (start >= 0 && o->start >= 0 && start != o->start);
}

/* In a write transaction: makes this process the owner of `session`. */
static int own(ct_db *db, int64_t session)
{
    owner me;
    owner_self(&me);
    sqlite3_stmt *q;
    int st = ct_db_prepare(db, &q, "INSERT OR REPLACE INTO session_owners (session, pid, "
                           "host, boot, pidns, start, since) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (st)
        return st;
    sqlite3_bind_int64(q, 1, session);
    sqlite3_bind_int64(q, 2, me.pid);
    sqlite3_bind_text(q, 3, me.host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 4, me.boot, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 5, me.pidns, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 6, me.start);
    sqlite3_bind_double(q, 7, ct_unix_now());
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? CUTUNE_OK : ct_db_fail(db, rc, "taking a session");
}

/* A moment in UNIX seconds as "YYYY-MM-DD HH:MM:SS UTC" ("?" when it is none). */
static void format_utc(double t, char when[64])
{
    time_t at = (time_t)t;
    struct tm utc;
    snprintf(when, 64, "?");
    if (gmtime_r(&at, &utc))
        strftime(when, 64, "%Y-%m-%d %H:%M:%S UTC", &utc);
}

/* Runs `sql`, which writes and returns no rows, with `session` as its one parameter. */
static int exec_on_session(ct_db *db, const char *sql, int64_t session, const char *what)
{
    sqlite3_stmt *q;
    int st = ct_db_prepare(db, &q, sql);
    if (st)
        return st;
    sqlite3_bind_int64(q, 1, session);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? CUTUNE_OK : ct_db_fail(db, rc, what);
}

/* In a write transaction: CUTUNE_OK when `session` has no owner or its owner is gone, else
 * CUTUNE_EBUSY saying who runs it. */
static int check_owner(ct_db *db, int64_t session, const cutune_profile *key)
{
    sqlite3_stmt *q;
    int st = ct_db_prepare(db, &q, "SELECT pid, host, boot, pidns, start, since FROM "
                           "session_owners WHERE session = ?");
    if (st)
        return st;
    sqlite3_bind_int64(q, 1, session);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        owner o = {.pid = sqlite3_column_int64(q, 0), .start = sqlite3_column_int64(q, 4)};
        snprintf(o.host, sizeof o.host, "%s", ct_db_text(q, 1));
        snprintf(o.boot, sizeof o.boot, "%s", ct_db_text(q, 2));
        snprintf(o.pidns, sizeof o.pidns, "%s", ct_db_text(q, 3));
        char when[64];
        format_utc(sqlite3_column_double(q, 5), when);
        if (!owner_gone(&o))
            st = ct_fail(CUTUNE_EBUSY, "session %lld of %s on %s is being run by process %lld "
                         "on %s since %s: one run at a time goes on with a session; wait for "
                         "that one to end or stop it (a session whose process is gone is taken "
                         "over; `cutune profiles release %lld --db %s` frees one whose machine "
                         "is gone)", (long long)session, key->kernel, key->device, o.pid, o.host,
                         when, (long long)session, db->path);
    } else if (rc != SQLITE_DONE) {
        st = ct_db_fail(db, rc, "reading who runs a session");
    }
    sqlite3_finalize(q);
    return st;
}

static int check_row(const ct_session_row *row)
{
    const cutune_profile *k = &row->key;
    return ct_store_check_profile(&(cutune_profile){
        .device = k->device, .kernel = k->kernel, .user_key = k->user_key,
        .source_hash = k->source_hash, .params = "", .config = "", .strategy = "",
        .problem = {k->problem[0], k->problem[1], k->problem[2]}});
}

/* ---------------------------------------------------------------------- sessions ---- */

int ct_store_session_begin(cutune_store *s, const ct_session_row *row, int64_t *id)
{
    ct_db *db = ct_store_db(s);
    int st = check_row(row);
    if (st)
        return st;
    ct_store_lock(s);
    sqlite3_stmt *q = NULL;
    if (!(st = ct_db_begin(db)))
        st = ct_db_prepare(db, &q,
                           "INSERT INTO sessions (device, cc_major, cc_minor, sm_count, driver, "
                           "runtime, kernel, source_hash, user_key, p0, p1, p2, strategy, "
                           "budget, seed, space_hash, header, origin, started) VALUES (?, ?, ?, "
                           "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) {
        ct_store_bind_key(q, 1, &row->key);
        sqlite3_bind_text(q, 13, row->key.strategy ? row->key.strategy : "", -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 14, (int64_t)row->key.budget);
        sqlite3_bind_int64(q, 15, (int64_t)row->seed);
        sqlite3_bind_text(q, 16, row->space_hash ? row->space_hash : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 17, row->header ? row->header : "{}", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 18, row->origin ? row->origin : "cutune", -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(q, 19, ct_unix_now());
        int rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
            st = ct_db_fail(db, rc, "starting a session");
        else
            *id = sqlite3_last_insert_rowid(db->h);
    }
    sqlite3_finalize(q);
    if (!st) /* the session and its owner in one transaction: nobody resumes it meanwhile */
        st = own(db, *id);
    if (!st)
        st = ct_db_commit(db);
    else
        ct_db_rollback(db);
    ct_store_unlock(s);
    return st;
}

int ct_store_session_add(cutune_store *s, int64_t session, const char *config, double time_ms,
                         const char *failure, const char *entry)
{
    ct_db *db = ct_store_db(s);
    ct_store_lock(s);
    sqlite3_stmt *q;
    int st = ct_db_prepare(db, &q, "INSERT OR REPLACE INTO evaluations (session, config, "
                           "time_ms, failure, entry, at) VALUES (?, ?, ?, ?, ?, ?)");
    if (!st) {
        sqlite3_bind_int64(q, 1, session);
        sqlite3_bind_text(q, 2, config, -1, SQLITE_TRANSIENT);
        if (!isnan(time_ms))
            sqlite3_bind_double(q, 3, time_ms);
        else
            sqlite3_bind_text(q, 4, failure ? failure : "failed", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 5, entry ? entry : "{}", -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(q, 6, ct_unix_now());
        int rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
            st = ct_db_fail(db, rc, "recording an evaluation");
        sqlite3_finalize(q);
    }
    ct_store_unlock(s);
    return st;
}

static int fold_best(cutune_store *s, int64_t session, int finish);

int ct_store_session_finish(cutune_store *s, int64_t session)
{
    return fold_best(s, session, 1);
}

int ct_store_session_fold(cutune_store *s, int64_t session)
{
    return fold_best(s, session, 0);
}

/* The session's best evaluation into the profile; `finish`: and the session is done. */
static int fold_best(cutune_store *s, int64_t session, int finish)
{
    ct_db *db = ct_store_db(s);
    ct_store_lock(s);
    sqlite3_stmt *q;
    char *strings = NULL;
    int st = ct_db_begin(db), rc = SQLITE_DONE;
    if (!st)
        st = ct_db_prepare(db, &q,
                           "SELECT s.device, s.cc_major, s.cc_minor, s.sm_count, s.driver, "
                           "s.runtime, s.kernel, s.source_hash, s.user_key, s.p0, s.p1, s.p2, "
                           "json_extract(s.header, '$.tune_params_keys'), e.config, e.time_ms, "
                           "json_extract(e.entry, '$.time_median'), "
                           "json_extract(e.entry, '$.time_std'), s.strategy, s.budget, "
                           "json_extract(e.entry, '$.time_median_lo'), "
                           "json_extract(e.entry, '$.time_median_hi') "
                           "FROM sessions s JOIN evaluations e ON e.session = s.id "
                           "WHERE s.id = ? AND e.time_ms IS NOT NULL "
                           /* a winner confirmed at the session's end comes first */
                           "ORDER BY json_extract(e.entry, '$.time_confirmed') IS NULL, "
                           "json_extract(e.entry, '$.time_confirmed'), e.time_ms LIMIT 1");
    cutune_profile best = {0}, kept;
    int have = 0;
    char params[4096] = "";
    if (!st) {
        sqlite3_bind_int64(q, 1, session);
        if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            /* the parameter names come as a JSON array: a comma list, as Kernel Tuner's keys */
            const char *keys = ct_db_text(q, 12);
            size_t n = 0;
            for (const char *c = keys; *c && n + 1 < sizeof params; c++)
                if (*c != '[' && *c != ']' && *c != '"' && *c != ' ')
                    params[n++] = *c;
            params[n] = '\0';
            best = (cutune_profile){
                .device = ct_db_text(q, 0), .cc_major = sqlite3_column_int(q, 1),
                .cc_minor = sqlite3_column_int(q, 2), .sm_count = sqlite3_column_int(q, 3),
                .driver_version = sqlite3_column_int(q, 4),
                .runtime_version = sqlite3_column_int(q, 5), .kernel = ct_db_text(q, 6),
                .source_hash = ct_db_text(q, 7), .user_key = ct_db_text(q, 8),
                .problem = {sqlite3_column_int64(q, 9), sqlite3_column_int64(q, 10),
                            sqlite3_column_int64(q, 11)},
                .params = params, .config = ct_db_text(q, 13),
                .time_ms = sqlite3_column_double(q, 14),
                .median_ms = ct_db_real(q, 15),
                .std_ms = ct_db_real(q, 16),
                .strategy = ct_db_text(q, 17), .budget = (uint64_t)sqlite3_column_int64(q, 18),
                .session = session,
                .median_lo_ms = ct_db_real(q, 19),
                .median_hi_ms = ct_db_real(q, 20)};
            have = 1;
            st = ct_store_put_locked(s, &best, &kept, &strings);
        } else if (rc != SQLITE_DONE) {
            st = ct_db_fail(db, rc, "reading a session");
        }
        sqlite3_finalize(q);
    }
    if (!st && finish) { /* done, and nobody's any more */
        char sql[160];
        snprintf(sql, sizeof sql, "UPDATE sessions SET finished = %.6f WHERE id = %lld; "
                 "DELETE FROM session_owners WHERE session = %lld", ct_unix_now(),
                 (long long)session, (long long)session);
        st = ct_db_exec(db, sql);
    }
    if (!st)
        st = ct_db_commit(db);
    else
        ct_db_rollback(db);
    if (!st && have)
        st = ct_map_publish(ct_store_map(s), &kept);
    free(strings);
    ct_store_unlock(s);
    return st;
}

int ct_store_session_resume(cutune_store *s, const ct_session_row *row, int64_t *id)
{
    ct_db *db = ct_store_db(s);
    *id = 0;
    ct_store_lock(s);
    sqlite3_stmt *q = NULL;
    int st = ct_db_begin(db), rc = SQLITE_DONE;
    if (!st)
        st = ct_db_prepare(db, &q, "SELECT id, finished IS NOT NULL FROM sessions WHERE "
                           SESSION_MATCH " ORDER BY id DESC LIMIT 1");
    int64_t latest = 0;
    if (!st) {
        ct_store_bind_key(q, 1, &row->key);
        sqlite3_bind_text(q, 13, row->space_hash ? row->space_hash : "", -1, SQLITE_TRANSIENT);
        if ((rc = sqlite3_step(q)) == SQLITE_ROW && !sqlite3_column_int(q, 1))
            latest = sqlite3_column_int64(q, 0);
        else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            st = ct_db_fail(db, rc, "looking for a session");
    }
    sqlite3_finalize(q);
    /* (in the transaction: of two runs resuming at once, the second sees the first's claim) */
    if (!st && latest && !(st = check_owner(db, latest, &row->key)))
        st = own(db, latest);
    if (!st && !(st = ct_db_commit(db)))
        *id = latest;
    else if (st)
        ct_db_rollback(db);
    ct_store_unlock(s);
    return st;
}

int ct_store_session_release(cutune_store *s, int64_t session)
{
    owner me;
    owner_self(&me);
    ct_db *db = ct_store_db(s);
    ct_store_lock(s);
    sqlite3_stmt *q;
    int st = ct_db_prepare(db, &q, "DELETE FROM session_owners WHERE session = ? AND pid = ? "
                           "AND host = ? AND start = ?");
    if (!st) {
        sqlite3_bind_int64(q, 1, session);
        sqlite3_bind_int64(q, 2, me.pid);
        sqlite3_bind_text(q, 3, me.host, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 4, me.start);
        int rc = sqlite3_step(q); /* one statement: its own transaction */
        if (rc != SQLITE_DONE)
            st = ct_db_fail(db, rc, "releasing a session");
        sqlite3_finalize(q);
    }
    ct_store_unlock(s);
    return st;
}

int cutune_store_release_session(cutune_store *s, int64_t session, char *held,
                                 size_t held_size)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_release_session: no store");
    if (held && held_size)
        *held = '\0';
    int st = ct_store_writable(s, "cutune_store_release_session");
    if (st)
        return st;
    ct_db *db = ct_store_db(s);
    ct_store_lock(s);
    sqlite3_stmt *q = NULL;
    if (!(st = ct_db_begin(db)))
        st = ct_db_prepare(db, &q, "SELECT (SELECT count(*) FROM sessions WHERE id = ?1), pid, "
                           "host, since FROM (SELECT 1) LEFT JOIN session_owners ON "
                           "session = ?1");
    if (!st) {
        sqlite3_bind_int64(q, 1, session);
        int rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
            st = ct_db_fail(db, rc, "reading who runs a session");
        else if (sqlite3_column_int(q, 0) == 0)
            st = ct_fail(CUTUNE_ENOTFOUND, "%s has no session %lld", db->path,
                         (long long)session);
        else if (sqlite3_column_type(q, 1) != SQLITE_NULL && held && held_size) {
            char when[64];
            format_utc(sqlite3_column_double(q, 3), when);
            snprintf(held, held_size, "process %lld on %s since %s",
                     (long long)sqlite3_column_int64(q, 1), ct_db_text(q, 2), when);
        }
        sqlite3_finalize(q);
    }
    if (!st)
        st = exec_on_session(db, "DELETE FROM session_owners WHERE session = ?", session,
                             "freeing a session");
    if (!st)
        st = ct_db_commit(db);
    else
        ct_db_rollback(db);
    ct_store_unlock(s);
    return st;
}

int ct_store_session_discard(cutune_store *s, int64_t session)
{
    static const char *const sql[] = {"DELETE FROM evaluations WHERE session = ?",
                                      "DELETE FROM session_owners WHERE session = ?",
                                      "DELETE FROM sessions WHERE id = ?"};
    ct_db *db = ct_store_db(s);
    ct_store_lock(s);
    int st = ct_db_begin(db);
    for (size_t k = 0; !st && k < sizeof sql / sizeof *sql; k++)
        st = exec_on_session(db, sql[k], session, "removing a failed session");
    if (!st)
        st = ct_db_commit(db);
    else
        ct_db_rollback(db);
    ct_store_unlock(s);
    return st;
}

int ct_store_session_entries(cutune_store *s, const ct_session_row *row, ct_entry_fn fn,
                             void *user)
{
    ct_db *db = ct_store_db(s);
    ct_store_lock(s);
    sqlite3_stmt *q;
    int st = ct_db_prepare(db, &q, "SELECT e.config, e.entry FROM evaluations e JOIN "
                           "sessions ON sessions.id = e.session WHERE " SESSION_MATCH
                           " ORDER BY e.at");
    if (!st) {
        ct_store_bind_key(q, 1, &row->key);
        sqlite3_bind_text(q, 13, row->space_hash ? row->space_hash : "", -1, SQLITE_TRANSIENT);
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
            if ((st = fn(ct_db_text(q, 0), ct_db_text(q, 1), user)))
                break;
        if (!st && rc != SQLITE_DONE)
            st = ct_db_fail(db, rc, "reading a session's evaluations");
        sqlite3_finalize(q);
    }
    ct_store_unlock(s);
    return st;
}

/* Sessions of the same kernel and space on the same GPU (any driver) at other sizes. */
#define NEARBY_MATCH                                                                        \
    "device = ?1 AND cc_major = ?2 AND cc_minor = ?3 AND sm_count = ?4 AND kernel = ?5 AND " \
    "source_hash = ?6 AND user_key = ?7 AND space_hash = ?8"

static void bind_nearby(sqlite3_stmt *q, const ct_session_row *row)
{
    const cutune_profile *k = &row->key;
    sqlite3_bind_text(q, 1, k->device ? k->device : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, 2, k->cc_major);
    sqlite3_bind_int(q, 3, k->cc_minor);
    sqlite3_bind_int(q, 4, k->sm_count);
    sqlite3_bind_text(q, 5, k->kernel ? k->kernel : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 6, k->source_hash ? k->source_hash : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 7, k->user_key ? k->user_key : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 8, row->space_hash ? row->space_hash : "", -1, SQLITE_TRANSIENT);
}

int ct_store_session_nearby(cutune_store *s, const ct_session_row *row, size_t max,
                            int64_t problem[3], ct_config_fn fn, void *user)
{
    ct_db *db = ct_store_db(s);
    const cutune_profile *k = &row->key;
    int64_t want[3];
    for (int d = 0; d < 3; d++)
        want[d] = problem[d] = k->problem[d] <= 0 ? 1 : k->problem[d];
    ct_store_lock(s);
    sqlite3_stmt *q;
    int st = ct_db_cached(db, &q, "SELECT DISTINCT p0, p1, p2 FROM sessions WHERE "
                          NEARBY_MATCH " AND NOT (p0 = ?9 AND p1 = ?10 AND p2 = ?11)");
    double nearest = INFINITY;
    int rc = SQLITE_DONE;
    if (!st) {
        bind_nearby(q, row);
        for (int d = 0; d < 3; d++)
            sqlite3_bind_int64(q, 9 + d, want[d]);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            int64_t p[3];
            double far = 0;
            for (int d = 0; d < 3; d++) {
                p[d] = sqlite3_column_int64(q, d);
                far += p[d] > 0 ? fabs(log((double)p[d] / (double)want[d])) : INFINITY;
            }
            if (far < nearest) {
                nearest = far;
                memcpy(problem, p, sizeof p);
            }
        }
        if (rc != SQLITE_DONE)
            st = ct_db_fail(db, rc, "looking for sessions at nearby sizes");
        sqlite3_reset(q);
    }
    if (!st && isfinite(nearest))
        st = ct_db_cached(db, &q, "SELECT e.config, MIN(e.time_ms) AS t FROM evaluations e "
                          "JOIN sessions ON sessions.id = e.session WHERE " NEARBY_MATCH
                          " AND p0 = ?9 AND p1 = ?10 AND p2 = ?11 AND e.time_ms IS NOT NULL "
                          "GROUP BY e.config ORDER BY t LIMIT ?12");
    if (!st && isfinite(nearest)) {
        bind_nearby(q, row);
        for (int d = 0; d < 3; d++)
            sqlite3_bind_int64(q, 9 + d, problem[d]);
        sqlite3_bind_int64(q, 12, (sqlite3_int64)max);
        while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW)
            st = fn(ct_db_text(q, 0), sqlite3_column_double(q, 1), user);
        if (!st && rc != SQLITE_DONE && rc != SQLITE_ROW)
            st = ct_db_fail(db, rc, "reading the best of a nearby size");
        sqlite3_reset(q);
    }
    if (!st && !isfinite(nearest))
        memset(problem, 0, 3 * sizeof *problem);
    ct_store_unlock(s);
    return st;
}
