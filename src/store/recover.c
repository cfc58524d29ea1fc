/* recover.c — `cutune profiles --recover`: what SQLite can still read of a damaged profile
 * store, salvaged into a new store at its path; the damaged file (and its -wal) kept beside
 * it under names nothing had. Whatever is not a damaged cutune store is refused untouched.
 *
 * A damaged cutune store, precisely: a regular file that starts with SQLite's header, whose
 * list of tables SQLite can read, whose tables are cutune's (at least one of them, and no
 * other), whose schema version (if it can be read) is not newer than this cutune's, and in
 * which SQLite finds damage: its integrity_check reports a problem, or a table cannot be read
 * to its end, or an evaluation's or session's JSON does not parse. */
#define _GNU_SOURCE /* renameat2 */
#include "store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Every table a cutune store of any version up to this one has. */
static const char *const known_tables[] = {"schema_version", "sessions", "evaluations",
                                           "profiles", "session_owners"};

/* What a salvage copies, by column name (a session's header is the %s, read as itself where
 * it parses and as {} where not, so that the session keeps its evaluations), which rows
 * (`keep`: an evaluation whose entry does not parse is left out), by which key, the column
 * that holds JSON, and the columns a later version added (NULL in a copy of an older
 * store's). */
static const struct {
    const char *table, *columns, *keep, *key, *json, *newer;
} copied[] = {
    {"sessions",
     "id, device, cc_major, cc_minor, sm_count, driver, runtime, kernel, source_hash, "
     "user_key, p0, p1, p2, strategy, budget, seed, space_hash, %s, origin, started, finished",
     "1", "id", "header", NULL},
    {"evaluations", "session, config, time_ms, failure, entry, at", "json_valid(entry)",
     "session, config", "entry", NULL},
    {"profiles",
     "id, device, cc_major, cc_minor, sm_count, driver, runtime, kernel, source_hash, "
     "user_key, p0, p1, p2, params, config, time_ms, median_ms, std_ms, strategy, budget, "
     "evaluations, session, updated, rev", "1", "id", NULL, "median_lo_ms, median_hi_ms"},
};
#define NUM_COPIED (sizeof copied / sizeof *copied)

/* The one-value answer of `sql` as text into buf (""), or SQLite's result. */
static int answer(sqlite3 *h, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(h, sql, -1, &q, NULL);
    *buf = '\0';
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        snprintf(buf, size, "%s", ct_db_text(q, 0));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The store's tables: how many of cutune's, and the first other one's name (in other). */
static int list_tables(sqlite3 *h, int *ours, char *other, size_t size)
{
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                "name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", -1, &q, NULL);
    *ours = 0;
    *other = '\0';
    while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = ct_db_text(q, 0);
        int known = 0;
        for (size_t k = 0; k < sizeof known_tables / sizeof *known_tables; k++)
            known |= strcmp(name, known_tables[k]) == 0;
        *ours += known;
        if (!known && !*other)
            snprintf(other, size, "%s", name);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* What is damaged, into why (""): SQLite's integrity check, then each table read to its end
 * and its JSON parsed. */
static void find_damage(sqlite3 *h, char *why, size_t size)
{
    char got[512], sql[256];
    int rc = answer(h, "PRAGMA integrity_check(1)", got, sizeof got);
    if (rc != SQLITE_OK || strcmp(got, "ok") != 0) {
        snprintf(why, size, "SQLite's integrity check: %s", rc ? sqlite3_errmsg(h) : got);
        return;
    }
    for (size_t t = 0; t < NUM_COPIED && !*why; t++) {
        const char *json = copied[t].json;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE NOT json_valid(%s)",
                 copied[t].table, json ? json : "'{}'");
        if ((rc = answer(h, sql, got, sizeof got)) != SQLITE_OK)
            snprintf(why, size, "reading its %s: %s", copied[t].table, sqlite3_errmsg(h));
        else if (strcmp(got, "0") != 0)
            snprintf(why, size, "%s of its %s do not parse as JSON", got, copied[t].table);
    }
}

/* CUTUNE_OK when `path` is a damaged cutune store (the file comment says what that is), or
 * the refusal. `h`: the store opened to read. */
static int judge(sqlite3 *h, const char *path)
{
    char other[256], version[64], why[1024] = "";
    int ours, rc = list_tables(h, &ours, other, sizeof other);
    if (rc != SQLITE_OK)
        return ct_fail(CUTUNE_ECORRUPT, "%s is too damaged to salvage: SQLite cannot read even "
                       "its list of tables (%s); nothing was done", path, sqlite3_errmsg(h));
    if (!ours)
        return ct_fail(CUTUNE_EINVAL, "%s is an SQLite database but not a cutune profile store "
                       "(it has none of cutune's tables); nothing was done", path);
    if (*other)
        return ct_fail(CUTUNE_ENOTSUP, "%s has a table no cutune store of version %d or older "
                       "has ('%s'): it is another program's, or a newer cutune's; nothing was "
                       "done", path, CT_SCHEMA_VERSION, other);
    if (answer(h, "SELECT max(version) FROM schema_version", version, sizeof version) ==
            SQLITE_OK && atoi(version) > CT_SCHEMA_VERSION)
        return ct_fail(CUTUNE_ENOTSUP, "%s has schema version %s, written by a newer cutune: "
                       "this one (version %d) recovers no newer store; nothing was done", path,
                       version, CT_SCHEMA_VERSION);
    find_damage(h, why, sizeof why);
    if (!*why)
        return ct_fail(CUTUNE_EINVAL, "%s is a healthy cutune store (SQLite's integrity check "
                       "finds nothing wrong, and every row and its JSON reads): there is "
                       "nothing to recover, and nothing was done", path);
    return CUTUNE_OK;
}

/* Runs `sql` on `h` for each row of `keys` (bound as its parameters), giving each row it
 * returns to `ins` (bound in its order); the rows that went in. */
static uint64_t copy_rows(sqlite3_stmt *keys, sqlite3 *h, const char *sql, sqlite3_stmt *ins)
{
    sqlite3_stmt *q;
    uint64_t rows = 0;
    if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK)
        return 0;
    while (sqlite3_step(keys) == SQLITE_ROW) {
        for (int k = 0; k < sqlite3_column_count(keys); k++)
            sqlite3_bind_value(q, k + 1, sqlite3_column_value(keys, k));
        if (sqlite3_step(q) == SQLITE_ROW) { /* (a row whose pages are damaged: skipped) */
            for (int c = 0; c < sqlite3_column_count(q); c++)
                sqlite3_bind_value(ins, c + 1, sqlite3_column_value(q, c));
            if (sqlite3_step(ins) == SQLITE_DONE && sqlite3_changes(sqlite3_db_handle(ins)) > 0)
                rows++;
            sqlite3_reset(ins);
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    return rows;
}

/* Whether `table` of a store has the column `names` begins with (up to a comma). */
static int has_column(sqlite3 *h, const char *table, const char *names)
{
    sqlite3_stmt *q;
    int has = 0;
    if (sqlite3_prepare_v2(h, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", -1, &q,
                           NULL) == SQLITE_OK) {
        size_t n = strcspn(names, ",");
        sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, names, (int)n, SQLITE_STATIC);
        has = sqlite3_step(q) == SQLITE_ROW;
    }
    sqlite3_finalize(q);
    return has;
}

/* Copies what can be read of one table: first the keys SQLite can reach, from the front and
 * then from the back (a damaged page stops each pass), then each key's row alone, so that a
 * row whose own pages are damaged costs only itself. */
static uint64_t salvage_table(sqlite3 *from, sqlite3 *to, size_t t)
{
    char columns[512], select[512], sql[1400], insert[1024];
    const char *key = copied[t].key;
    snprintf(columns, sizeof columns, copied[t].columns, "header");
    snprintf(select, sizeof select, copied[t].columns, "iif(json_valid(header), header, '{}')");
    if (copied[t].newer) { /* the store's own, or NULLs where it is older than them */
        int has = has_column(from, copied[t].table, copied[t].newer);
        size_t c = strlen(columns), s = strlen(select);
        snprintf(columns + c, sizeof columns - c, ", %s", copied[t].newer);
        for (const char *n = copied[t].newer; !has && n; n = strchr(n + 1, ','))
            s += (size_t)snprintf(select + s, sizeof select - s, ", NULL");
        if (has)
            snprintf(select + s, sizeof select - s, ", %s", copied[t].newer);
    }
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS temp.keys; CREATE TEMP TABLE keys (%s, "
             "PRIMARY KEY (%s))", key, key);
    if (sqlite3_exec(to, sql, NULL, NULL, NULL) != SQLITE_OK)
        return 0;
    int cols = 1, nkey = 1;
    for (const char *c = columns; *c; c++)
        cols += *c == ',';
    for (const char *c = key; *c; c++)
        nkey += *c == ',';
    sqlite3_stmt *q, *ins;
    for (int pass = 0; pass < 2; pass++) {
        snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s%s", key, copied[t].table, key,
                 pass ? " DESC" : "");
        snprintf(insert, sizeof insert, "INSERT OR IGNORE INTO temp.keys VALUES (?%s)",
                 nkey > 1 ? ", ?" : "");
        if (sqlite3_prepare_v2(to, insert, -1, &ins, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(from, sql, -1, &q, NULL) == SQLITE_OK) {
            while (sqlite3_step(q) == SQLITE_ROW) {
                for (int k = 0; k < nkey; k++)
                    sqlite3_bind_value(ins, k + 1, sqlite3_column_value(q, k));
                sqlite3_step(ins);
                sqlite3_reset(ins);
            }
            sqlite3_finalize(q);
        }
        sqlite3_finalize(ins);
    }
    int n = snprintf(insert, sizeof insert, "INSERT OR IGNORE INTO %s (%s) VALUES (?",
                     copied[t].table, columns);
    for (int c = 1; c < cols; c++)
        n += snprintf(insert + n, sizeof insert - (size_t)n, ", ?");
    snprintf(insert + n, sizeof insert - (size_t)n, ")");
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE (%s) = (?%s) AND %s", select,
             copied[t].table, key, nkey > 1 ? ", ?" : "", copied[t].keep);
    uint64_t rows = 0;
    if (sqlite3_prepare_v2(to, insert, -1, &ins, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(to, "SELECT * FROM temp.keys", -1, &q, NULL) == SQLITE_OK) {
        rows = copy_rows(q, from, sql, ins);
        sqlite3_finalize(q);
    }
    sqlite3_finalize(ins);
    return rows;
}

/* ------------------------------------------------------------- names, moves ---- */

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* Whether `name` and the files SQLite would keep beside it are all free. */
static int free_name(const char *name)
{
    static const char *const sides[] = {"", "-wal", "-shm", "-journal"};
    char side[4500];
    for (size_t k = 0; k < sizeof sides / sizeof *sides; k++) {
        snprintf(side, sizeof side, "%s%s", name, sides[k]);
        if (exists(side))
            return 0;
    }
    return 1;
}

/* Moves `from` to `to` unless `to` exists (then EEXIST): renameat2's RENAME_NOREPLACE, or
 * where the file system has none a hard link and the old name's removal. */
static int move_noreplace(const char *from, const char *to)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
#endif
    if (link(from, to) != 0)
        return -1;
    return unlink(from); /* (the file is at `to` too) */
}

/* A new empty file named `base`-N (N = 1, 2, ...; -wal, -shm and -journal free too), made
 * with O_EXCL: nothing that was there is ever opened. Its name in out. */
static int make_unique(const char *base, mode_t mode, char *out, size_t size)
{
    for (int n = 1; n < 1000; n++) {
        if (snprintf(out, size, "%s-%d", base, n) >= (int)size)
            return ct_fail(CUTUNE_EINVAL, "the path %s is too long", base);
        if (!free_name(out))
            continue;
        int fd = open(out, O_WRONLY | O_CREAT | O_EXCL, mode);
        if (fd >= 0)
            return close(fd) == 0 ? CUTUNE_OK
                                  : ct_fail(CUTUNE_EIO, "%s: %s", out, strerror(errno));
        if (errno != EEXIST)
            return ct_fail(CUTUNE_EIO, "cannot create %s: %s", out, strerror(errno));
    }
    return ct_fail(CUTUNE_EIO, "no free name of the form %s-N", base);
}

/* The damaged file to a name of its own, PATH.damaged-<seconds>[-N], with its -wal and -shm
 * beside it (so that neither is ever applied to the salvaged store). Where it can, the file
 * gets its new name as a second link, so that PATH never goes missing; then *linked is set,
 * and the salvage replaces PATH in one rename. */
static int move_aside(const char *path, const struct stat *was, char *damaged, size_t size,
                      int *linked)
{
    char side[4500], to[4500];
    long stamp = (long)time(NULL);
    int st = CUTUNE_EIO;
    *linked = 0;
    for (int n = 1; n < 1000 && st; n++) {
        int w = n == 1 ? snprintf(damaged, size, "%s.damaged-%ld", path, stamp)
                       : snprintf(damaged, size, "%s.damaged-%ld-%d", path, stamp, n);
        if (w < 0 || (size_t)w >= size)
            return ct_fail(CUTUNE_EINVAL, "the path %s is too long", path);
        if (!free_name(damaged))
            continue;
        if (link(path, damaged) == 0) {
            *linked = 1;
            st = CUTUNE_OK;
        } else if (errno != EEXIST && move_noreplace(path, damaged) == 0)
            st = CUTUNE_OK;
        else if (errno != EEXIST)
            return ct_fail(CUTUNE_EIO, "cannot keep %s aside as %s: %s; nothing was done", path,
                           damaged, strerror(errno));
    }
    struct stat now;
    if (st || stat(damaged, &now) != 0 || now.st_ino != was->st_ino || now.st_dev != was->st_dev)
        return ct_fail(CUTUNE_EIO, "%s changed while it was recovered%s%s", path,
                       st ? "" : "; the file at that moment is kept as ", st ? "" : damaged);
    for (int k = 0; k < 2; k++) {
        snprintf(side, sizeof side, "%s-%s", path, k ? "shm" : "wal");
        snprintf(to, sizeof to, "%s-%s", damaged, k ? "shm" : "wal");
        if (exists(side) && move_noreplace(side, to) != 0)
            return ct_fail(CUTUNE_EIO, "the damaged %s is kept as %s, but its %s could not "
                           "follow it to %s (%s): the salvaged store was not put in its place",
                           path, damaged, side, to, strerror(errno));
    }
    return CUTUNE_OK;
}

/* ------------------------------------------------------------------ recover ---- */

/* The damaged store opened to read, changing nothing: immutable (no locks, no files made)
 * unless a -wal holds pages the salvage wants, which SQLite reads through a -shm. */
static int open_damaged(const char *path, sqlite3 **h)
{
    char uri[8600];
    int st = ct_db_uri(path, ct_db_wal_bytes(path) > 0 ? "mode=ro" : "immutable=1", uri,
                       sizeof uri);
    if (st)
        return st;
    int rc = sqlite3_open_v2(uri, h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    if (rc != SQLITE_OK)
        return ct_fail(CUTUNE_EIO, "cannot open %s to read it: %s; nothing was done", path,
                       sqlite3_errstr(rc));
    /* read past a schema whose tables point beyond the end of a truncated file */
    sqlite3_exec(*h, "PRAGMA writable_schema = ON", NULL, NULL, NULL);
    return CUTUNE_OK;
}

/* A refusal of what is no SQLite file at all, or CUTUNE_OK. */
static int is_sqlite_file(const char *path, struct stat *sb)
{
    if (lstat(path, sb) != 0)
        return errno == ENOENT ? ct_fail(CUTUNE_ENOTFOUND, "there is no profile database at %s",
                                         path)
                               : ct_fail(CUTUNE_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb->st_mode))
        return ct_fail(CUTUNE_EINVAL, "%s is a folder, not a profile store: nothing was done",
                       path);
    if (S_ISLNK(sb->st_mode))
        return ct_fail(CUTUNE_EINVAL, "%s is a symbolic link: give the store's own path "
                       "(nothing was done)", path);
    if (!S_ISREG(sb->st_mode))
        return ct_fail(CUTUNE_EINVAL, "%s is not a file: nothing was done", path);
    char head[16] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    if (!f)
        return ct_fail(CUTUNE_EIO, "cannot read %s: %s", path, strerror(errno));
    if (got < sizeof head || memcmp(head, "SQLite format 3", sizeof head) != 0)
        return ct_fail(CUTUNE_EINVAL, "%s is not a profile store (it does not start with "
                       "SQLite's header, so there are no tables in it to salvage): nothing was "
                       "done", path);
    return CUTUNE_OK;
}

/* A new store at fresh (made empty by make_unique) with every row of `from` that reads. */
static int salvage_into(sqlite3 *from, const char *fresh, uint64_t *rows)
{
    ct_db to;
    int st = ct_db_open(&to, fresh, 0);
    *rows = 0;
    if (!st)
        st = ct_db_exec(&to, "BEGIN");
    for (size_t t = 0; !st && t < NUM_COPIED; t++)
        *rows += salvage_table(from, to.h, t);
    if (!st)
        st = ct_db_exec(&to, "COMMIT");
    /* all in the file: the last close removes its -wal and -shm */
    if (!st)
        st = ct_db_exec(&to, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (to.h)
        ct_db_close(&to);
    return st;
}

int cutune_store_recover(const char *path, uint64_t *rows, char *kept, size_t kept_size)
{
    if (!path)
        return ct_fail(CUTUNE_EINVAL, "cutune_store_recover: no path");
    if (kept && kept_size)
        *kept = '\0';
    struct stat was, now;
    int st = is_sqlite_file(path, &was);
    sqlite3 *from = NULL;
    if (!st)
        st = open_damaged(path, &from);
    if (!st)
        st = judge(from, path);
    char base[4200], fresh[4300], damaged[4400];
    snprintf(base, sizeof base, "%s.recovering", path);
    uint64_t total = 0;
    if (st) { /* refused: nothing was made */
        sqlite3_close_v2(from);
        return st;
    }
    st = make_unique(base, was.st_mode & 0666, fresh, sizeof fresh);
    if (!st && (st = salvage_into(from, fresh, &total)))
        unlink(fresh); /* (ours: made by make_unique) */
    sqlite3_close_v2(from);
    if (st)
        return ct_wrap(st, "recovering %s (nothing was moved)", path);
    /* the salvaged store as its owner had it */
    if (chmod(fresh, was.st_mode & 07777) != 0 || (geteuid() == 0 &&
                                                   chown(fresh, was.st_uid, was.st_gid) != 0))
        st = ct_fail(CUTUNE_EIO, "%s: %s", fresh, strerror(errno));
    int linked = 0;
    if (!st)
        st = move_aside(path, &was, damaged, sizeof damaged, &linked);
    /* linked: PATH is still the damaged file, whose every byte is also at `damaged` */
    if (!st && linked && (stat(path, &now) != 0 || now.st_ino != was.st_ino))
        st = ct_fail(CUTUNE_EIO, "%s changed while it was recovered", path);
    if (!st && (linked ? rename(fresh, path) : move_noreplace(fresh, path)) != 0)
        st = ct_fail(CUTUNE_EIO, "%s", strerror(errno));
    if (st)
        return ct_wrap(st, "recovering %s: the salvaged store is %s, the damaged one %s", path,
                       fresh, linked || exists(damaged) ? damaged : path);
    if (rows)
        *rows = total;
    if (kept && kept_size)
        snprintf(kept, kept_size, "%s", damaged);
    return CUTUNE_OK;
}
