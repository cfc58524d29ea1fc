/* test_store_files.c — the profile store destroys no user file (issue 24): --recover refuses
 * what is not a damaged store and never overwrites a name; damage is found before anything
 * is written; readers read a store in a folder they cannot write and leave no files behind;
 * one run at a time owns a session. Checks that need file permissions to bind run, when the
 * test runs as root, in a child without root's overrides (setpriv), or are skipped, saying so. */
#include "check.h"
#include "cutune.h"
#include "store/store_impl.h"

#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DATA CUTUNE_SOURCE_DIR "/data/spaces/"

static char dir[40];
static char self[4096]; /* this test's executable, for its children */

static const char *in_dir(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

/* A whole file (malloc'd; NULL when it cannot be read). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    *len = 0;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        rewind(f);
        data = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
        *len = data ? (size_t)n : 0;
    }
    if (f)
        fclose(f);
    return data;
}

static void spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    if (f)
        fclose(f);
}

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* Whether the file at path has exactly these bytes. */
static int holds(const char *path, const char *data, size_t len)
{
    size_t n;
    char *now = slurp(path, &n);
    int same = now && n == len && memcmp(now, data, len) == 0;
    free(now);
    return same;
}

static int entries_in(const char *folder)
{
    DIR *d = opendir(folder);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int no_sides(const char *db)
{
    char side[256];
    snprintf(side, sizeof side, "%s-wal", db);
    int none = !exists(side);
    snprintf(side, sizeof side, "%s-shm", db);
    return none && !exists(side);
}

/* A store with one Kernel Tuner cache file in it (A100: 4362 evaluations, 19.7 MB), closed. */
static void make_store(const char *path)
{
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, path, 0), CUTUNE_OK);
    CHECK_INT(cutune_store_import(s, DATA "convolution/A100.json.gz", NULL, NULL), CUTUNE_OK);
    cutune_store_free(s);
}

static void run_sql(const char *path, const char *sql)
{
    sqlite3 *h;
    CHECK_INT(sqlite3_open(path, &h), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

/* len bytes at `offset` overwritten: zeros, or a fixed pseudo-random pattern. */
static void overwrite(const char *path, long offset, size_t len, int zeros)
{
    FILE *f = fopen(path, "r+b");
    uint64_t x = 0x9E3779B97F4A7C15u;
    CHECK(f && fseek(f, offset, SEEK_SET) == 0);
    for (size_t k = 0; f && k < len; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        fputc(zeros ? 0 : (int)(x & 0xff), f);
    }
    if (f)
        fclose(f);
}

static void truncate_to(const char *path, double part)
{
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    CHECK(truncate(path, (off_t)(sb.st_size * part)) == 0);
}

/* Starts this test again as `mode ARG` (without root's file-permission overrides when
 * root): its pid, or -1. */
static pid_t spawn_child(const char *mode, const char *arg)
{
    char *args[] = {"setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", self,
                    (char *)mode, (char *)arg, NULL};
    char **argv = geteuid() == 0 ? args : args + 2;
    extern char **environ;
    pid_t pid;
    return posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) == 0 ? pid : -1;
}

static int wait_child(pid_t pid)
{
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status)
                                                                           : -1;
}

/* The same, run to its end: its exit status, or -1. */
static int child(const char *mode, const char *arg)
{
    return wait_child(spawn_child(mode, arg));
}

/* Waits (up to 30 s) for a file to appear. */
static int wait_for(const char *path)
{
    for (int k = 0; k < 3000 && !exists(path); k++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    return exists(path);
}

/* ---------------------------------------------------------- --recover refuses ---- */

static void test_recover_refuses(void)
{
    char path[128], link_path[128];
    uint64_t rows;
    char kept[512];
    /* notes, twice: the second recover found them as the first left them */
    in_dir("n.txt", path, sizeof path);
    spit(path, "notes\n", 6);
    int before = entries_in(dir);
    for (int k = 0; k < 2; k++) {
        CHECK_INT(cutune_store_recover(path, &rows, kept, sizeof kept), CUTUNE_EINVAL);
        CHECK_HAS(cutune_last_error(), "is not a profile store");
        CHECK(holds(path, "notes\n", 6));
    }
    CHECK_INT(entries_in(dir), before);
    /* a folder: not moved, and no store put in its place */
    in_dir("folder", path, sizeof path);
    CHECK(mkdir(path, 0755) == 0);
    CHECK_INT(cutune_store_recover(path, &rows, kept, sizeof kept), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "is a folder");
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && entries_in(path) == 0);
    CHECK_INT(entries_in(dir), before + 1);
    /* a symbolic link to a store is not followed */
    in_dir("healthy.db", path, sizeof path);
    make_store(path);
    CHECK(symlink(path, in_dir("link.db", link_path, sizeof link_path)) == 0);
    CHECK_INT(cutune_store_recover(link_path, &rows, kept, sizeof kept), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "symbolic link");
    /* a healthy store: said so, and nothing done */
    size_t len;
    char *orig = slurp(path, &len);
    before = entries_in(dir);
    CHECK_INT(cutune_store_recover(path, &rows, kept, sizeof kept), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "is a healthy cutune store");
    CHECK_HAS(cutune_last_error(), "nothing was done");
    CHECK(holds(path, orig, len) && no_sides(path));
    CHECK_INT(entries_in(dir), before);
    free(orig);
    /* a damaged store of a newer schema: never made an older one */
    in_dir("newer.db", path, sizeof path);
    make_store(path);
    run_sql(path, "INSERT INTO schema_version VALUES (99)");
    truncate_to(path, 0.6);
    orig = slurp(path, &len);
    CHECK_INT(cutune_store_recover(path, &rows, kept, sizeof kept), CUTUNE_ENOTSUP);
    CHECK_HAS(cutune_last_error(), "newer cutune");
    CHECK(holds(path, orig, len) && no_sides(path));
    free(orig);
    /* another program's SQLite file */
    in_dir("other.db", path, sizeof path);
    run_sql(path, "CREATE TABLE notes (text); INSERT INTO notes VALUES ('mine')");
    orig = slurp(path, &len);
    CHECK_INT(cutune_store_recover(path, &rows, kept, sizeof kept), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "not a cutune profile store");
    CHECK(holds(path, orig, len));
    free(orig);
    CHECK_INT(cutune_store_recover(in_dir("none.db", path, sizeof path), &rows, kept,
                                   sizeof kept), CUTUNE_ENOTFOUND);
}

/* ------------------------------------------------------- --recover's names ---- */

/* A damaged store with a -wal: a store, a profile written into its -wal and left there (no
 * checkpoint on close), then the file cut to `part`. */
static void make_damaged_with_wal(const char *path, double part)
{
    make_store(path);
    sqlite3 *h;
    CHECK_INT(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_db_config(h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    CHECK_INT(sqlite3_exec(h, "PRAGMA journal_mode = WAL; UPDATE profiles SET updated = 1",
                           NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    truncate_to(path, part);
}

static void test_recover_names(void)
{
    char path[128], wal[160], kept[512], kept_wal[560], first[512], mine[3][200];
    in_dir("cut.db", path, sizeof path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    make_damaged_with_wal(path, 0.6);
    CHECK(exists(wal));
    size_t len, wal_len;
    char *orig = slurp(path, &len), *orig_wal = slurp(wal, &wal_len);
    /* the user's files where recover would have put its own */
    long now = (long)time(NULL);
    snprintf(mine[0], sizeof mine[0], "%s.recovering-1", path);
    snprintf(mine[1], sizeof mine[1], "%s.damaged-%ld", path, now);
    snprintf(mine[2], sizeof mine[2], "%s.damaged-%ld", path, now + 1);
    for (int k = 0; k < 3; k++)
        spit(mine[k], "mine", 4);
    uint64_t rows = 0;
    CHECK_INT(cutune_store_recover(path, &rows, kept, sizeof kept), CUTUNE_OK);
    CHECK(rows > 100); /* (rows whose pages lie past the cut are gone) */
    for (int k = 0; k < 3; k++) {
        CHECK(strcmp(kept, mine[k]) != 0);
        CHECK(holds(mine[k], "mine", 4));
    }
    /* the damaged file and its -wal kept whole, the -wal beside it, none at the new store */
    snprintf(kept_wal, sizeof kept_wal, "%s-wal", kept);
    CHECK(holds(kept, orig, len));
    CHECK(holds(kept_wal, orig_wal, wal_len));
    CHECK(!exists(wal));
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, path, 0), CUTUNE_OK);
    cutune_store_free(s);
    /* damaged again and recovered again within the second: a name of its own */
    snprintf(first, sizeof first, "%s", kept);
    truncate_to(path, 0.5);
    CHECK_INT(cutune_store_recover(path, &rows, kept, sizeof kept), CUTUNE_OK);
    CHECK(strcmp(kept, first) != 0);
    CHECK(holds(first, orig, len));
    for (int k = 0; k < 3; k++)
        CHECK(holds(mine[k], "mine", 4));
    free(orig);
    free(orig_wal);
}

/* ------------------------------------------- damage found before writing ---- */

static int first_id(const cutune_profile *p, void *user)
{
    *(int64_t *)user = p->id;
    return 1;
}

/* A damaged store is refused for writing and, where a read meets the damage, for reading,
 * and its bytes stay as they were, with no -wal or -shm left. */
static void check_refused(const char *path, int export_fails)
{
    size_t len;
    char *orig = slurp(path, &len), *text = NULL;
    cutune_store *s = NULL;
    int st = cutune_store_open(&s, path, 0);
    CHECK_INT(st, CUTUNE_ECORRUPT);
    CHECK_HAS(cutune_last_error(), "is damaged");
    CHECK_HAS(cutune_last_error(), "--recover");
    if (st == CUTUNE_OK)
        cutune_store_free(s);
    if (cutune_store_open(&s, path, CUTUNE_STORE_READONLY) == CUTUNE_OK) {
        int64_t id = 0;
        cutune_store_list(s, first_id, &id);
        st = cutune_store_export(s, id, CUTUNE_FORMAT_KERNEL_TUNER, &text);
        if (export_fails) {
            CHECK_INT(st, CUTUNE_ECORRUPT);
            CHECK_HAS(cutune_last_error(), "--recover");
        }
        free(text);
        cutune_store_free(s);
    }
    CHECK(holds(path, orig, len));
    CHECK(no_sides(path));
    free(orig);
}

static void test_damage_at_open(void)
{
    char path[128], copy[128];
    in_dir("whole.db", path, sizeof path);
    make_store(path);
    size_t len;
    char *whole = slurp(path, &len);
    CHECK(len > 10000000);
    /* 2 KB of random bytes at 5,000,000 (across two pages), and 2 KB of zeros at the start
     * of the middle page (its header) */
    struct {
        const char *name;
        long offset;
        int zeros;
    } cases[] = {{"random.db", 5000000, 0}, {"zeros.db", (long)(len / 4096 / 2) * 4096, 1}};
    for (int k = 0; k < 2; k++) {
        in_dir(cases[k].name, copy, sizeof copy);
        spit(copy, whole, len);
        overwrite(copy, cases[k].offset, 2048, cases[k].zeros);
        check_refused(copy, 1);
        uint64_t rows;
        char kept[512];
        CHECK_INT(cutune_store_recover(copy, &rows, kept, sizeof kept), CUTUNE_OK);
        CHECK(rows > 4000);
    }
    /* an entry whose JSON no longer parses, SQLite's pages whole: found by the check of
     * every row's JSON, and by the read that meets it */
    in_dir("json.db", copy, sizeof copy);
    spit(copy, whole, len);
    run_sql(copy, "UPDATE evaluations SET entry = '{\"time\": 1.5, \"tim' WHERE (session, "
                  "config) IN (SELECT session, config FROM evaluations LIMIT 1)");
    check_refused(copy, 1);
    CHECK_HAS(cutune_last_error(), "does not parse as JSON");
    free(whole);
}

/* ----------------------------------------------------- readers, folders ---- */

static int count_one(const cutune_profile *p, void *user)
{
    (void)p;
    ++*(int *)user;
    return 0;
}

/* (a child) Reads the store at `db` in a folder it may not write. */
static int reader_child(const char *db)
{
    cutune_store *s;
    if (cutune_store_open(&s, db, CUTUNE_STORE_READONLY)) {
        fprintf(stderr, "reader: %s\n", cutune_last_error());
        return 10;
    }
    int n = 0, rc = 0;
    cutune_store_list(s, count_one, &n);
    char *text = NULL;
    if (n < 1 || cutune_store_export(s, 1, CUTUNE_FORMAT_KERNEL_TUNER, &text))
        rc = 11;
    free(text);
    cutune_profile p = {.device = "d", .kernel = "k", .params = "x", .config = "1",
                        .strategy = "bo", .time_ms = 1};
    if (cutune_store_put(s, &p) != CUTUNE_EINVAL) /* a reader never writes */
        rc = 12;
    cutune_store_free(s);
    return rc ? rc : no_sides(db) ? 0 : 13;
}

/* (a child) Opens a new store for writing in a folder it may not write. */
static int writer_child(const char *db)
{
    cutune_store *s;
    int st = cutune_store_open(&s, db, 0);
    if (st == CUTUNE_OK)
        cutune_store_free(s);
    if (st != CUTUNE_EIO || !strstr(cutune_last_error(), "is not writable by this user")) {
        fprintf(stderr, "writer: %d %s\n", st, cutune_last_error());
        return 20;
    }
    return 0;
}

/* (a child) Opens the store at `db` for writing: its file is read-only, its folder not. */
static int file_child(const char *db)
{
    cutune_store *s;
    int st = cutune_store_open(&s, db, 0);
    if (st == CUTUNE_OK)
        cutune_store_free(s);
    const char *msg = cutune_last_error();
    if (st != CUTUNE_EIO || !strstr(msg, "the file is not writable") || strstr(msg, "folder")) {
        fprintf(stderr, "file: %d %s\n", st, msg);
        return 30;
    }
    return 0;
}

/* (a child) Opens the store at `db` in a folder it may not write (immutable), says so (the
 * file "opened" two folders up), waits for "go" there, refreshes: the profile of kernel k2,
 * written meanwhile, must be seen. Then says "refreshed", waits for "replaced" and refreshes
 * again: the file put in the store's place, whose k3 has a rev of its own, must be seen. */
static int refresh_child(const char *db)
{
    char marks[4][4200];
    const char *up = strrchr(db, '/');
    int n = up ? (int)(up - db) : 0;
    while (n > 0 && db[n - 1] != '/')
        n--;
    snprintf(marks[0], sizeof marks[0], "%.*sopened", n, db);
    snprintf(marks[1], sizeof marks[1], "%.*sgo", n, db);
    snprintf(marks[2], sizeof marks[2], "%.*srefreshed", n, db);
    snprintf(marks[3], sizeof marks[3], "%.*sreplaced", n, db);
    cutune_store *s;
    if (cutune_store_open(&s, db, CUTUNE_STORE_READONLY) || !ct_store_db(s)->immutable)
        return 40;
    cutune_device_info dev = {.name = "GPU"};
    cutune_kernel_id k = {"k2", NULL, NULL};
    cutune_selection sel;
    int rc = cutune_select(s, &dev, &k, (int64_t[]){1, 1, 1}, &sel) ||
                     sel.rule != CUTUNE_SELECT_DEFAULT ? 41 : 0;
    spit(marks[0], "", 0);
    if (!rc && !wait_for(marks[1]))
        rc = 42;
    if (!rc && cutune_store_refresh(s) != CUTUNE_OK)
        rc = 43;
    if (!rc && (cutune_select(s, &dev, &k, (int64_t[]){1, 1, 1}, &sel) ||
                sel.rule != CUTUNE_SELECT_EXACT || strcmp(sel.config, "7") != 0))
        rc = 44;
    if (!rc)
        spit(marks[2], "", 0);
    if (!rc && !wait_for(marks[3]))
        rc = 46;
    if (!rc && cutune_store_refresh(s) != CUTUNE_OK)
        rc = 47;
    k.name = "k3";
    if (!rc && (cutune_select(s, &dev, &k, (int64_t[]){1, 1, 1}, &sel) ||
                sel.rule != CUTUNE_SELECT_EXACT || strcmp(sel.config, "9") != 0))
        rc = 48;
    cutune_store_free(s);
    return rc ? rc : no_sides(db) ? 0 : 45;
}

static void test_readers(void)
{
    char folder[128], db[160];
    in_dir("installed", folder, sizeof folder);
    CHECK(mkdir(folder, 0755) == 0);
    snprintf(db, sizeof db, "%s/p.db", folder);
    make_store(db);
    CHECK(no_sides(db));
    /* where the reader may write: SQLite's -wal and -shm come and go with it */
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, db, CUTUNE_STORE_READONLY), CUTUNE_OK);
    int n = 0;
    CHECK_INT(cutune_store_list(s, count_one, &n), CUTUNE_OK);
    CHECK_INT(n, 1);
    cutune_store_free(s);
    CHECK(no_sides(db));
    if (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) != 0) {
        printf("skipped: folders that cannot be written (root, and no setpriv to drop its "
               "overrides)\n");
        return;
    }
    CHECK(chmod(folder, 0555) == 0);
    CHECK_INT(child("--reader", db), 0);
    char fresh[200], marks[4][160], other[160], kept[200];
    snprintf(fresh, sizeof fresh, "%s/new.db", folder);
    CHECK_INT(child("--writer", fresh), 0);
    CHECK(!exists(fresh));
    /* a reader's immutable open (the child's) takes in a change at its refresh, and then
     * another file put in the store's place */
    in_dir("opened", marks[0], sizeof marks[0]);
    in_dir("go", marks[1], sizeof marks[1]);
    in_dir("refreshed", marks[2], sizeof marks[2]);
    in_dir("replaced", marks[3], sizeof marks[3]);
    pid_t pid = spawn_child("--refresh", db);
    CHECK(wait_for(marks[0]));
    CHECK(chmod(folder, 0755) == 0); /* (for a test that does not run as root) */
    CHECK_INT(cutune_store_open(&s, db, 0), CUTUNE_OK);
    cutune_profile p = {.device = "GPU", .kernel = "k2", .params = "x", .config = "7",
                        .strategy = "bo", .time_ms = 1};
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    cutune_store_free(s);
    CHECK(chmod(folder, 0555) == 0);
    spit(marks[1], "", 0);
    CHECK(wait_for(marks[2]));
    CHECK_INT(cutune_store_open(&s, in_dir("replacement.db", other, sizeof other), 0),
              CUTUNE_OK);
    p.kernel = "k3"; /* (rev 1: the store's first write) */
    p.config = "9";
    CHECK_INT(cutune_store_put(s, &p), CUTUNE_OK);
    cutune_store_free(s);
    snprintf(kept, sizeof kept, "%s/p.db.kept", folder);
    CHECK(chmod(folder, 0755) == 0);
    CHECK(rename(db, kept) == 0 && rename(other, db) == 0);
    CHECK(chmod(folder, 0555) == 0);
    spit(marks[3], "", 0);
    CHECK_INT(wait_child(pid), 0);
    CHECK(chmod(folder, 0755) == 0);
    CHECK(rename(kept, db) == 0);
    CHECK(chmod(folder, 0755) == 0);
    /* another user's file in a folder this one may write: read, and nothing left */
    CHECK(chmod(db, 0444) == 0);
    CHECK_INT(child("--reader", db), 0);
    CHECK_INT(child("--file", db), 0);
    CHECK(chmod(db, 0644) == 0);
    CHECK(no_sides(db));
}

/* ---------------------------------------------------- one run per session ---- */

static ct_session_row session_row(void)
{
    return (ct_session_row){.key = {.device = "GPU", .kernel = "k", .problem = {64, 1, 1},
                                    .strategy = "random", .budget = 10},
                            .space_hash = "S", .header = "{}", .origin = "test"};
}

/* The owner row of session `id` set by SQL (`set`: "pid = 1, host = 'x'"). */
static void set_owner(cutune_store *s, int64_t id, const char *set)
{
    char sql[512];
    snprintf(sql, sizeof sql, "UPDATE session_owners SET %s WHERE session = %lld", set,
             (long long)id);
    CHECK_INT(sqlite3_exec(ct_store_db(s)->h, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* A pid no process has now: a child's, once it has been reaped. */
static long dead_pid(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int status;
    waitpid(pid, &status, 0);
    return (long)pid;
}

static void test_owners(void)
{
    char path[128], set[256], pid_text[32];
    cutune_store *s;
    CHECK_INT(cutune_store_open(&s, in_dir("owners.db", path, sizeof path), 0), CUTUNE_OK);
    ct_session_row row = session_row();
    int64_t id = 0, got = -1;
    CHECK_INT(ct_store_session_begin(s, &row, &id), CUTUNE_OK);
    /* running (here): another resume is refused, saying who runs it and since when */
    snprintf(pid_text, sizeof pid_text, "process %ld on ", (long)getpid());
    CHECK_INT(ct_store_session_resume(s, &row, &got), CUTUNE_EBUSY);
    CHECK_HAS(cutune_last_error(), pid_text);
    CHECK_HAS(cutune_last_error(), " UTC");
    CHECK_INT(got, 0);
    /* the owner provably gone: its pid dead, or alive but another process (another start
     * time), or the host restarted since: taken over */
    const char *gone[] = {"pid = %ld", "start = start + 1", "boot = 'another boot'"};
    for (int k = 0; k < 3; k++) {
        snprintf(set, sizeof set, gone[k], dead_pid());
        set_owner(s, id, set);
        CHECK_INT(ct_store_session_resume(s, &row, &got), CUTUNE_OK);
        CHECK_INT(got, id);
    }
    /* of another host or pid namespace, nothing can be told: refused */
    const char *unknown[] = {"pid = %ld, host = 'elsewhere'", "pid = %ld, pidns = 'pid:[1]'"};
    for (int k = 0; k < 2; k++) {
        CHECK_INT(sqlite3_exec(ct_store_db(s)->h, "DELETE FROM session_owners", NULL, NULL,
                               NULL), SQLITE_OK);
        CHECK_INT(ct_store_session_resume(s, &row, &got), CUTUNE_OK); /* ours again */
        snprintf(set, sizeof set, unknown[k], dead_pid());
        set_owner(s, id, set);
        CHECK_INT(ct_store_session_resume(s, &row, &got), CUTUNE_EBUSY);
        CHECK_HAS(cutune_last_error(), k ? "being run by process" : "on elsewhere since");
    }
    /* released: anyone's; finished: nobody resumes it (a new session begins) */
    sqlite3_exec(ct_store_db(s)->h, "DELETE FROM session_owners", NULL, NULL, NULL);
    CHECK_INT(ct_store_session_resume(s, &row, &got), CUTUNE_OK);
    CHECK_INT(ct_store_session_release(s, id), CUTUNE_OK);
    CHECK_INT(ct_store_session_resume(s, &row, &got), CUTUNE_OK);
    CHECK_INT(got, id);
    CHECK_INT(ct_store_session_finish(s, id), CUTUNE_OK);
    CHECK_INT(ct_store_session_resume(s, &row, &got), CUTUNE_OK);
    CHECK_INT(got, 0);
    cutune_store_free(s);
}

/* For the shell tests, a store without the sqlite3 program: `--sql DB SQL` prints the rows
 * SQL gives, a line each, columns joined by '|' (read-only; the last close leaves no -wal),
 * `--sql-write DB SQL` may write. */
static int print_rows(const char *db, const char *sql, int write)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(h, write ? "" : "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", db, sqlite3_errmsg(h));
        sqlite3_close(h);
        return 1;
    }
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        for (int c = 0; c < sqlite3_column_count(q); c++)
            printf("%s%s%s", c ? "|" : "", ct_db_text(q, c),
                   c + 1 == sqlite3_column_count(q) ? "\n" : "");
    sqlite3_finalize(q);
    sqlite3_close(h);
    return rc == SQLITE_DONE ? 0 : 1;
}

static int setup(void)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    snprintf(dir, sizeof dir, "/tmp/cutune-files-XXXXXX");
    if (make_test_dir(dir))
        return 1;
    unsetenv("CUTUNE_DB");
    return 0;
}

static void teardown(void) { remove_test_dir(dir); }

TEST_LIST(TEST_CASE(test_recover_refuses) TEST_CASE(test_recover_names)
          TEST_CASE(test_damage_at_open) TEST_CASE(test_readers) TEST_CASE(test_owners));

int main(int argc, char **argv)
{
    if (argc == 4 && strncmp(argv[1], "--sql", 5) == 0)
        return print_rows(argv[2], argv[3], strcmp(argv[1], "--sql-write") == 0);
    if (argc > 2 && strcmp(argv[1], "--run") == 0) { /* `--run PROGRAM ARGS...` with Ctrl-C */
        signal(SIGINT, SIG_DFL); /* (a shell starts a job in the background without it) */
        signal(SIGQUIT, SIG_DFL);
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        return 127;
    }
    if (argc == 3) {
        static const struct {
            const char *mode;
            int (*fn)(const char *);
        } modes[] = {{"--reader", reader_child}, {"--writer", writer_child},
                     {"--file", file_child}, {"--refresh", refresh_child}};
        for (size_t k = 0; k < sizeof modes / sizeof *modes; k++)
            if (strcmp(argv[1], modes[k].mode) == 0)
                return modes[k].fn(argv[2]);
        return 2;
    }
    return TEST_RUN(argc, argv, setup, teardown);
}
