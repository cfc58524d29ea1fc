/* db.c — the profile store's SQLite file: opening it (WAL, a busy timeout so several
 * processes can write; for writing only once it is checked whole; for reading without
 * leaving files behind, also in a folder the reader cannot write), its schema and
 * migrations, write transactions, and errors that name the file and say what is wrong. */
#include "store_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_S 30.0

/* Another process holds the write lock: try again soon. SQLite's own handler sleeps up to
 * 100 ms between tries, far longer than a profile's write takes. */
static int busy_retry(void *arg, int tries)
{
    (void)arg;
    static const unsigned waits_us[] = {20, 50, 100, 200, 500, 1000, 2000};
    unsigned us = waits_us[tries < 7 ? tries : 6];
    double waited = 0;
    for (int k = 0; k < tries; k++)
        waited += waits_us[k < 7 ? k : 6] / 1e6;
    if (waited > BUSY_TIMEOUT_S)
        return 0; /* give up: SQLITE_BUSY */
    struct timespec ts = {0, (long)us * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

/* Migration k takes the schema from version k to k + 1 (version 0: an empty file). Each
 * runs in the transaction that also records the new version. */
static const char *const migrations[CT_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY,"
    "  device TEXT NOT NULL, cc_major INT NOT NULL, cc_minor INT NOT NULL,"
    "  sm_count INT NOT NULL, driver INT NOT NULL, runtime INT NOT NULL,"
    "  kernel TEXT NOT NULL, source_hash TEXT NOT NULL, user_key TEXT NOT NULL,"
    "  p0 INT NOT NULL, p1 INT NOT NULL, p2 INT NOT NULL,"
    "  strategy TEXT NOT NULL, budget INT NOT NULL, seed INT NOT NULL,"
    "  space_hash TEXT NOT NULL," /* resume only into the same space */
    "  header TEXT NOT NULL,"     /* Kernel Tuner cache header: params, values, names */
    "  origin TEXT NOT NULL,"     /* 'cutune' or the file it was imported from */
    "  started REAL NOT NULL, finished REAL);"
    "CREATE INDEX sessions_kernel ON sessions (kernel, source_hash, user_key);"
    "CREATE TABLE evaluations ("
    "  session INTEGER NOT NULL, config TEXT NOT NULL,"
    "  time_ms REAL, failure TEXT,"
    "  entry TEXT NOT NULL," /* the Kernel Tuner cache entry, JSON */
    "  at REAL NOT NULL,"
    "  PRIMARY KEY (session, config)) WITHOUT ROWID;"
    "CREATE TABLE profiles ("
    "  id INTEGER PRIMARY KEY,"
    "  device TEXT NOT NULL, cc_major INT NOT NULL, cc_minor INT NOT NULL,"
    "  sm_count INT NOT NULL, driver INT NOT NULL, runtime INT NOT NULL,"
    "  kernel TEXT NOT NULL, source_hash TEXT NOT NULL, user_key TEXT NOT NULL,"
    "  p0 INT NOT NULL, p1 INT NOT NULL, p2 INT NOT NULL,"
    "  params TEXT NOT NULL, config TEXT NOT NULL,"
    "  time_ms REAL NOT NULL, median_ms REAL, std_ms REAL,"
    "  strategy TEXT NOT NULL, budget INT NOT NULL, evaluations INT NOT NULL,"
    "  session INT, updated REAL NOT NULL,"
    "  rev INT NOT NULL," /* grows with every write: what a refresh takes in */
    "  UNIQUE (kernel, source_hash, user_key, device, cc_major, cc_minor, sm_count, driver,"
    "          runtime, p0, p1, p2));"
    "CREATE INDEX profiles_rev ON profiles (rev);",
    /* 1 -> 2: who runs each unfinished session (one run at a time; sessions.c) */
    "CREATE TABLE session_owners ("
    "  session INTEGER PRIMARY KEY," /* sessions.id */
    "  pid INT NOT NULL, host TEXT NOT NULL,"
    "  boot TEXT NOT NULL,"  /* the host's boot id: after a reboot its processes are gone */
    "  pidns TEXT NOT NULL," /* the pid namespace the pid is of */
    "  start INT NOT NULL,"  /* the process's start, clock ticks after boot: not a reused pid */
    "  since REAL NOT NULL);",
    /* 2 -> 3: the 95% interval of each profile's median */
    "ALTER TABLE profiles ADD COLUMN median_lo_ms REAL;"
    "ALTER TABLE profiles ADD COLUMN median_hi_ms REAL;",
};

const char *ct_db_text(sqlite3_stmt *stmt, int col)
{
    const unsigned char *t = sqlite3_column_text(stmt, col);
    return t ? (const char *)t : "";
}

double ct_db_real(sqlite3_stmt *stmt, int col)
{
    return sqlite3_column_type(stmt, col) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt, col);
}

long long ct_db_wal_bytes(const char *path)
{
    char wal[4200];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* Whether the last close may checkpoint: not when that would copy pages of the -wal into a
 * damaged file (with an empty -wal the close copies nothing, and removes the -wal and -shm). */
static void keep_wal_apart(ct_db *db, int keep)
{
    if (db && db->h)
        sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, keep, (int *)NULL);
}

int ct_db_damaged(ct_db *db, const char *what, const char *why)
{
    const char *path = db && db->path ? db->path : "the profile database";
    if (db && db->path)
        keep_wal_apart(db, ct_db_wal_bytes(db->path) > 0);
    return ct_fail(CUTUNE_ECORRUPT, "%s is damaged (%s: %s) and is left as it is; `cutune "
                   "profiles --recover --db %s` keeps it aside and salvages what can still be "
                   "read", path, what, why, path);
}

/* The folder of `path` ("." for a bare name), in buf. */
static const char *folder_of(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ".";
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), path);
    return buf;
}

/* Why SQLite may not open or write `path` and its -wal and -shm, as far as the file system
 * says; "" when it sees no cause (then SQLite's message stands alone). */
static void why_unwritable(const char *path, char *why, size_t size)
{
    char dir[4096], side[4200];
    const char *d = folder_of(path, dir, sizeof dir);
    struct stat sb;
    *why = '\0';
    if (stat(d, &sb) != 0)
        snprintf(why, size, " (its folder %s does not exist)", d);
    else if (access(d, W_OK | X_OK) != 0)
        snprintf(why, size, " (its folder %s is not writable by this user, and SQLite keeps "
                 "the database's -wal and -shm files there)", d);
    else if (access(path, F_OK) == 0 && access(path, W_OK) != 0)
        snprintf(why, size, " (the file is not writable by this user)");
    for (int k = 0; !*why && k < 2; k++) {
        snprintf(side, sizeof side, "%s-%s", path, k ? "shm" : "wal");
        if (access(side, F_OK) == 0 && access(side, R_OK | W_OK) != 0)
            snprintf(why, size, " (%s is not writable by this user)", side);
    }
}

int ct_db_fail(ct_db *db, int rc, const char *what)
{
    const char *path = db && db->path ? db->path : "the profile database";
    const char *msg = db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
    char why[4400];
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
        return ct_db_damaged(db, what, msg);
    case SQLITE_NOTADB: /* no SQLite header: nothing there that --recover could read */
        return ct_fail(CUTUNE_ECORRUPT, "%s is not an SQLite database (%s: %s), so not a "
                       "profile store, and is left as it is (were it a store whose first page "
                       "was overwritten, nothing of it could be salvaged)", path, what, msg);
    case SQLITE_ERROR: /* SQLite's JSON functions on an entry this store did not write */
        if (strstr(msg, "malformed JSON"))
            return ct_db_damaged(db, what, msg);
        return ct_fail(CUTUNE_EIO, "%s: %s: %s", path, what, msg);
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        why_unwritable(path, why, sizeof why);
        return ct_fail(CUTUNE_EIO, "%s: %s: %s%s", path, what, msg, why);
    case SQLITE_NOMEM:
        return ct_fail(CUTUNE_ENOMEM, "%s: %s: out of memory", path, what);
    case SQLITE_FULL:
        return ct_fail(CUTUNE_EIO, "%s: %s: the disk is full", path, what);
    default:
        return ct_fail(CUTUNE_EIO, "%s: %s: %s", path, what, msg);
    }
}

int ct_db_exec(ct_db *db, const char *sql)
{
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? CUTUNE_OK : ct_db_fail(db, rc, "writing");
}

int ct_db_prepare(ct_db *db, sqlite3_stmt **stmt, const char *sql)
{
    int rc = sqlite3_prepare_v2(db->h, sql, -1, stmt, NULL);
    return rc == SQLITE_OK ? CUTUNE_OK : ct_db_fail(db, rc, "reading");
}

int ct_db_cached(ct_db *db, sqlite3_stmt **stmt, const char *sql)
{
    int free_slot = -1;
    for (int k = 0; k < CT_DB_CACHED; k++) {
        if (db->cached[k].sql == sql) {
            *stmt = db->cached[k].stmt;
            sqlite3_reset(*stmt);
            sqlite3_clear_bindings(*stmt);
            return CUTUNE_OK;
        }
        if (!db->cached[k].sql && free_slot < 0)
            free_slot = k;
    }
    if (free_slot < 0) /* (not expected: the store has fewer) */
        return ct_fail(CUTUNE_EINVAL, "%s: too many cached statements", db->path);
    int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
    if (rc != SQLITE_OK)
        return ct_db_fail(db, rc, "reading");
    db->cached[free_slot].sql = sql;
    db->cached[free_slot].stmt = *stmt;
    return CUTUNE_OK;
}

/* Runs one cached statement that returns no rows. */
static int run_cached(ct_db *db, const char *sql, const char *what)
{
    sqlite3_stmt *q;
    int st = ct_db_cached(db, &q, sql);
    if (st)
        return st;
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? CUTUNE_OK : ct_db_fail(db, rc, what);
}

static const char begin_sql[] = "BEGIN IMMEDIATE", commit_sql[] = "COMMIT";

int ct_db_begin(ct_db *db)
{
    if (db->readonly)
        return ct_fail(CUTUNE_EINVAL, "%s was opened read-only", db->path);
    return run_cached(db, begin_sql, "starting to write");
}

int ct_db_commit(ct_db *db)
{
    int st = run_cached(db, commit_sql, "writing");
    if (st)
        ct_db_rollback(db);
    return st;
}

void ct_db_rollback(ct_db *db)
{
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

/* mkdir -p of the folder that will hold `path`. */
static int make_parent(const char *path)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return ct_fail(CUTUNE_EINVAL, "the path %s is too long", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return CUTUNE_OK;
    *slash = '\0';
    char failed[4096];
    if (ct_make_dirs(dir, 0755, failed, sizeof failed) != 0)
        return ct_fail(CUTUNE_EIO, "cannot create the folder %s: %s", failed, strerror(errno));
    return CUTUNE_OK;
}

/* The schema's version: 0 for a new file. Reading it is also the first read of the file,
 * where a damaged one shows. */
static int schema_version(ct_db *db, int *version)
{
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(db->h, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                "AND name = 'schema_version'", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return ct_db_fail(db, rc, "reading its schema");
    rc = sqlite3_step(q);
    int exists = rc == SQLITE_ROW && sqlite3_column_int(q, 0) > 0;
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW)
        return ct_db_fail(db, rc, "reading its schema");
    *version = 0;
    if (!exists)
        return CUTUNE_OK;
    rc = sqlite3_prepare_v2(db->h, "SELECT max(version) FROM schema_version", -1, &q, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        *version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CUTUNE_OK
                                                 : ct_db_fail(db, rc, "reading its version");
}

static int migrate(ct_db *db, int from)
{
    int st = ct_db_begin(db);
    int now = from;
    if (!st) /* another process may have migrated while this one waited */
        st = schema_version(db, &now);
    if (!st && now == 0)
        st = ct_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version "
                            "(version INTEGER NOT NULL)");
    for (int v = now; !st && v < CT_SCHEMA_VERSION; v++) {
        char sql[96];
        st = ct_db_exec(db, migrations[v]);
        snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d)", v + 1);
        if (!st)
            st = ct_db_exec(db, sql);
    }
    if (st) {
        ct_db_rollback(db);
        return ct_wrap(st, "bringing the schema of %s from version %d to %d", db->path, now,
                       CT_SCHEMA_VERSION);
    }
    return ct_db_commit(db);
}

/* How long the check of a store before writing into it may take: CUTUNE_STORE_CHECK_S, or
 * CT_CHECK_S seconds. */
#define CT_CHECK_S 2.0

static double check_bound_s(void)
{
    const char *env = getenv("CUTUNE_STORE_CHECK_S");
    char *end;
    double s = env && *env ? strtod(env, &end) : CT_CHECK_S;
    return env && *env && (*end || !(s >= 0)) ? CT_CHECK_S : s;
}

static int past_deadline(void *deadline)
{
    return ct_now() > *(const double *)deadline;
}

/* The checks of a store before writing into it, in turn, each answering one text: "ok" or
 * what is wrong. (JSON: the store writes only JSON there; SQLite's pages may be whole while
 * the bytes of a row are not.) */
static const struct {
    const char *what, *sql;
} checks[] = {
    {"SQLite's quick_check", "PRAGMA quick_check(1)"},
    {"its evaluations' JSON", "SELECT iif(count(*), count(*) || ' of them do not parse', 'ok') "
                              "FROM evaluations WHERE NOT json_valid(entry)"},
    {"its sessions' JSON", "SELECT iif(count(*), count(*) || ' of them do not parse', 'ok') "
                           "FROM sessions WHERE NOT json_valid(header)"},
};

/* Whether the store is whole: SQLite's quick_check (every b-tree page, cell and overflow
 * chain), then every row's JSON, all stopped at the bound: a store too large to check in
 * that time is taken as checked as far as the checks got (damage met later is still
 * reported as damage, and nothing is written after it). `version` 0: nothing to check. */
static int check_whole(ct_db *db, int version)
{
    double bound = check_bound_s(), deadline = ct_now() + bound;
    if (bound == 0 || version == 0)
        return CUTUNE_OK;
    sqlite3_progress_handler(db->h, 1000, past_deadline, &deadline);
    int st = CUTUNE_OK;
    db->checked = 1;
    for (size_t k = 0; !st && db->checked == 1 && k < sizeof checks / sizeof *checks; k++) {
        sqlite3_stmt *q;
        int rc = sqlite3_prepare_v2(db->h, checks[k].sql, -1, &q, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            char verdict[512];
            snprintf(verdict, sizeof verdict, "%s", ct_db_text(q, 0));
            for (char *c = verdict; *c; c++) /* one line */
                *c = *c == '\n' ? ' ' : *c;
            static const char main_db[] = "*** in database main *** ";
            size_t skip = strncmp(verdict, main_db, sizeof main_db - 1) ? 0 : sizeof main_db - 1;
            if (strcmp(verdict, "ok") != 0)
                st = ct_db_damaged(db, checks[k].what, verdict + skip);
        } else if ((rc & 0xff) == SQLITE_INTERRUPT) {
            db->checked = -1;
        } else {
            st = ct_db_fail(db, rc, checks[k].what);
        }
        sqlite3_finalize(q);
    }
    sqlite3_progress_handler(db->h, 0, NULL, NULL);
    return st;
}

int ct_db_uri(const char *path, const char *params, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "file:%s", path[0] == '/' ? "//localhost" : "");
    for (const char *c = path; *c && n + 4 < size; c++)
        n += (size_t)(strchr("%?#", *c) ? snprintf(buf + n, size - n, "%%%02x", *c)
                                         : snprintf(buf + n, size - n, "%c", *c));
    int w = snprintf(buf + n, size > n ? size - n : 0, "?%s", params);
    return w < 0 || n + (size_t)w >= size ? ct_fail(CUTUNE_EINVAL, "the path %s is too long", path)
                                          : CUTUNE_OK;
}

/* A reader's connection that leaves no -wal or -shm behind that were not there before:
 * read-write (never used to write: query_only) where this user may write the file and its
 * folder, so that the last connection's close checkpoints and removes them as SQLite does;
 * read-only where a -shm is there to share; otherwise (a folder this user cannot write, or
 * another user's file) immutable: the file as it is now, with no locks and no files made. */
static int open_reader(ct_db *db)
{
    char dir[4096], side[4200], uri[8600];
    const char *path = db->path;
    struct stat shm;
    int has_wal = ct_db_wal_bytes(path) > 0;
    snprintf(side, sizeof side, "%s-shm", path);
    int has_shm = stat(side, &shm) == 0;
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, rc, st;
    db->immutable = 0;
    if (access(path, W_OK) == 0 && access(folder_of(path, dir, sizeof dir), W_OK | X_OK) == 0) {
        flags |= SQLITE_OPEN_READWRITE;
        st = ct_db_uri(path, "mode=rw", uri, sizeof uri);
    } else if (has_shm) {
        flags |= SQLITE_OPEN_READONLY;
        st = ct_db_uri(path, "mode=ro", uri, sizeof uri);
    } else if (has_wal) {
        return ct_fail(CUTUNE_EIO, "%s-wal holds writes not yet copied into %s, and SQLite "
                       "cannot read them without %s-shm, which this user may not create: "
                       "open the store once as a user who may write its folder", path, path,
                       path);
    } else {
        flags |= SQLITE_OPEN_READONLY;
        db->immutable = 1;
        if (stat(path, &db->seen) != 0)
            return ct_fail(CUTUNE_EIO, "%s: %s", path, strerror(errno));
        st = ct_db_uri(path, "immutable=1", uri, sizeof uri);
    }
    if (!st && (rc = sqlite3_open_v2(uri, &db->h, flags, NULL)) != SQLITE_OK)
        st = ct_db_fail(db, rc, "opening it to read");
    if (!st)
        st = ct_db_exec(db, "PRAGMA query_only = 1");
    return st;
}

int ct_db_changed(const ct_db *db)
{
    struct stat now;
    if (!db->immutable)
        return 0;
    if (stat(db->path, &now) != 0)
        return 1;
    const struct stat *was = &db->seen;
    return now.st_dev != was->st_dev || now.st_ino != was->st_ino ||
           now.st_size != was->st_size || now.st_mtim.tv_sec != was->st_mtim.tv_sec ||
           now.st_mtim.tv_nsec != was->st_mtim.tv_nsec;
}

int ct_db_open(ct_db *db, const char *path, int readonly)
{
    memset(db, 0, sizeof *db);
    db->readonly = readonly;
    if (!(db->path = ct_strdup(path)))
        return CUTUNE_ENOMEM;
    int st = CUTUNE_OK;
    struct stat sb;
    int existed = stat(path, &sb) == 0;
    long long wal_before = ct_db_wal_bytes(path);
    if (readonly && !existed)
        st = ct_fail(CUTUNE_ENOTFOUND, "there is no profile database at %s", path);
    if (!st && !readonly)
        st = make_parent(path);
    if (!st && existed && !S_ISREG(sb.st_mode))
        st = ct_fail(CUTUNE_EINVAL, "%s is not a file", path);
    int rc;
    if (!st && readonly)
        st = open_reader(db);
    else if (!st && (rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
                                          SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)))
        st = ct_db_fail(db, rc, "opening");
    else if (!st && sqlite3_db_readonly(db->h, "main") == 1) /* (SQLite's fallback) */
        st = ct_db_fail(db, SQLITE_READONLY, "opening it to write");
    if (!st) {
        sqlite3_busy_handler(db->h, busy_retry, NULL);
        sqlite3_extended_result_codes(db->h, 1);
    }
    int version = 0;
    if (!st)
        st = schema_version(db, &version);
    if (!st && version > CT_SCHEMA_VERSION)
        st = ct_fail(CUTUNE_ENOTSUP, "%s has schema version %d, written by a newer cutune; this "
                     "one knows up to version %d and leaves it as it is", path, version,
                     CT_SCHEMA_VERSION);
    /* whole before anything is written into it */
    if (!st && !readonly && existed && sb.st_size > 0)
        st = check_whole(db, version);
    /* WAL: readers and one writer at a time, across processes; NORMAL: a commit is durable
     * against a crash of the process (not of the machine) without an fsync each */
    if (!st && !readonly)
        st = ct_db_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    if (!st && !readonly && version < CT_SCHEMA_VERSION)
        st = migrate(db, version);
    if (!st && readonly && version < CT_SCHEMA_READABLE)
        st = ct_fail(CUTUNE_ENOTSUP, "%s has schema version %d and is open read-only: open it "
                     "once for writing to bring it to version %d", path, version,
                     CT_SCHEMA_VERSION);
    if (st) { /* a store refused is left as it was found: its -wal is not copied into it */
        keep_wal_apart(db, wal_before > 0);
        ct_db_close(db);
    }
    return st;
}

void ct_db_close(ct_db *db)
{
    for (int k = 0; k < CT_DB_CACHED; k++)
        sqlite3_finalize(db->cached[k].stmt);
    if (db->h)
        sqlite3_close_v2(db->h);
    free(db->path);
    memset(db, 0, sizeof *db);
}
