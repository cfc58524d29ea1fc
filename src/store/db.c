/* db.c — the profile store's SQLite file: opening it (WAL, a busy timeout so several
 * processes can write), its schema and migrations, write transactions, errors that name the
 * file, and salvaging a damaged one. */
#include "store_impl.h"

#include <errno.h>
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
};

const char *ct_db_text(sqlite3_stmt *stmt, int col)
{
    const unsigned char *t = sqlite3_column_text(stmt, col);
    return t ? (const char *)t : "";
}

int ct_db_fail(ct_db *db, int rc, const char *what)
{
    const char *path = db && db->path ? db->path : "the profile database";
    const char *msg = db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return ct_fail(CUTUNE_ECORRUPT, "%s is damaged (%s, %s): nothing was written to it; "
                       "`cutune profiles --recover` salvages what can still be read",
                       path, what, msg);
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        return ct_fail(CUTUNE_EIO, "%s: %s: %s (is its folder writable?)", path, what, msg);
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
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return ct_fail(CUTUNE_EIO, "cannot create the folder %s: %s", dir, strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return ct_fail(CUTUNE_EIO, "cannot create the folder %s: %s", dir, strerror(errno));
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

int ct_db_open(ct_db *db, const char *path, int readonly)
{
    memset(db, 0, sizeof *db);
    db->readonly = readonly;
    if (!(db->path = ct_strdup(path)))
        return CUTUNE_ENOMEM;
    int st = CUTUNE_OK;
    struct stat sb;
    if (readonly && stat(path, &sb) != 0)
        st = ct_fail(CUTUNE_ENOTFOUND, "there is no profile database at %s", path);
    if (!st && !readonly)
        st = make_parent(path);
    if (!st && stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        st = ct_fail(CUTUNE_EINVAL, "%s is not a file", path);
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc;
    if (!st && (rc = sqlite3_open_v2(path, &db->h, flags | SQLITE_OPEN_NOMUTEX, NULL)))
        st = ct_db_fail(db, rc, "opening");
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
    /* WAL: readers and one writer at a time, across processes; NORMAL: a commit is durable
     * against a crash of the process (not of the machine) without an fsync each */
    if (!st && !readonly)
        st = ct_db_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    if (!st && !readonly && version < CT_SCHEMA_VERSION)
        st = migrate(db, version);
    if (!st && readonly && version < CT_SCHEMA_VERSION)
        st = ct_fail(CUTUNE_ENOTSUP, "%s has schema version %d and is open read-only: open it "
                     "once for writing to bring it to version %d", path, version,
                     CT_SCHEMA_VERSION);
    if (st)
        ct_db_close(db);
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

/* ------------------------------------------------------------------------ salvage ---- */

static const char *const tables[] = {"schema_version", "sessions", "evaluations", "profiles"};

/* Copies what can be read of one table, from the front and then from the back, skipping
 * rows already copied (INSERT OR IGNORE). */
static uint64_t salvage_table(sqlite3 *from, sqlite3 *to, const char *table)
{
    uint64_t rows = 0;
    char sql[256];
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_stmt *q, *ins = NULL;
        /* evaluations has no rowid: its key orders it */
        const char *order = strcmp(table, "evaluations") == 0 ? "session, config" : "rowid";
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY %s%s", table, order,
                 pass ? " DESC" : "");
        if (sqlite3_prepare_v2(from, sql, -1, &q, NULL) != SQLITE_OK)
            continue;
        int cols = sqlite3_column_count(q);
        char insert[512] = "";
        int n = snprintf(insert, sizeof insert, "INSERT OR IGNORE INTO %s VALUES (", table);
        for (int c = 0; c < cols && n < (int)sizeof insert - 4; c++)
            n += snprintf(insert + n, sizeof insert - n, c ? ",?" : "?");
        snprintf(insert + n, sizeof insert - n, ")");
        if (sqlite3_prepare_v2(to, insert, -1, &ins, NULL) != SQLITE_OK) {
            sqlite3_finalize(q);
            continue;
        }
        while (sqlite3_step(q) == SQLITE_ROW) {
            for (int c = 0; c < cols; c++)
                sqlite3_bind_value(ins, c + 1, sqlite3_column_value(q, c));
            if (sqlite3_step(ins) == SQLITE_DONE && sqlite3_changes(to) > 0)
                rows++;
            sqlite3_reset(ins);
        }
        sqlite3_finalize(ins);
        sqlite3_finalize(q);
    }
    return rows;
}

int cutune_store_recover(const char *path, uint64_t *rows, char *kept, size_t kept_size)
{
    if (!path)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_recover: no path");
    char fresh[4200], damaged[4200];
    snprintf(fresh, sizeof fresh, "%s.recovering", path);
    snprintf(damaged, sizeof damaged, "%s.damaged-%ld", path, (long)time(NULL));
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ct_fail(CUTUNE_ENOTFOUND, "there is no profile database at %s", path);
    unlink(fresh);
    /* the new file gets the current schema, then whatever rows can be read */
    ct_db to;
    int st = ct_db_open(&to, fresh, 0);
    if (st)
        return ct_wrap(st, "recovering %s", path);
    sqlite3 *from = NULL;
    int rc = sqlite3_open_v2(path, &from, SQLITE_OPEN_READONLY, NULL);
    uint64_t total = 0;
    if (rc == SQLITE_OK) {
        /* read past a schema whose tables point beyond the end of a truncated file */
        sqlite3_exec(from, "PRAGMA writable_schema = ON", NULL, NULL, NULL);
        ct_db_exec(&to, "DELETE FROM schema_version; BEGIN");
        for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
            total += salvage_table(from, to.h, tables[t]);
        ct_db_exec(&to, "COMMIT");
    }
    sqlite3_close_v2(from);
    /* a salvaged file from a newer cutune, or one that lost its version, gets ours */
    int version = 0;
    schema_version(&to, &version);
    if (version == 0 || version > CT_SCHEMA_VERSION) {
        char sql[96];
        snprintf(sql, sizeof sql, "DELETE FROM schema_version; INSERT INTO schema_version "
                 "VALUES (%d)", CT_SCHEMA_VERSION);
        ct_db_exec(&to, sql);
    }
    st = ct_db_exec(&to, "PRAGMA wal_checkpoint(TRUNCATE)");
    ct_db_close(&to);
    /* the damaged file goes aside with its journal (never to be applied to the new one) */
    char side[4300], moved[4400];
    if (!st && rename(path, damaged) != 0)
        st = ct_fail(CUTUNE_EIO, "cannot move %s aside: %s", path, strerror(errno));
    snprintf(side, sizeof side, "%s-wal", path);
    snprintf(moved, sizeof moved, "%s-wal", damaged);
    if (!st && stat(side, &sb) == 0)
        rename(side, moved);
    snprintf(side, sizeof side, "%s-shm", path);
    if (!st)
        unlink(side);
    if (!st && rename(fresh, path) != 0)
        st = ct_fail(CUTUNE_EIO, "cannot put the recovered database at %s (it is at %s, the "
                     "damaged one at %s): %s", path, fresh, damaged, strerror(errno));
    if (rows)
        *rows = total;
    if (kept && kept_size)
        snprintf(kept, kept_size, "%s", st ? "" : damaged);
    return st;
}
