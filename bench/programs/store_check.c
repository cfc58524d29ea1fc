/* store_check.c — what the check of a store before writing into it costs (issue 24): the
 * time of cutune_store_open for writing with the check (its default bound, and unbounded)
 * and without it (CUTUNE_STORE_CHECK_S=0), on a store of ROWS evaluations (default 10^6,
 * written here: 1000 sessions of 1000 configurations, each entry as a cutune session writes
 * it, 7 timed launches) and on the ~20 MB store one Kernel Tuner cache file (A100, 4362
 * evaluations) makes. The page cache is warm (each store was just written, and is opened
 * once before the timings). Prints one JSON line per store.
 * usage: store_check [DB_DIR [ROWS [keep]]] (default /tmp, 1000000; keep: leave the stores,
 * DB_DIR/store_check_rows.db and store_check_a100.db) */
#include "cutune.h"
#include "store/store_impl.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int fail(const char *what)
{
    fprintf(stderr, "store_check: %s: %s\n", what, cutune_last_error());
    return 1;
}

/* ROWS evaluations in sessions of 1000, one profile each, in one transaction. */
static int build(const char *path, long rows)
{
    remove(path);
    cutune_store *s;
    if (cutune_store_open(&s, path, 0))
        return fail(path);
    cutune_store_free(s);
    sqlite3 *h;
    sqlite3_stmt *ses, *ev, *prof;
    if (sqlite3_open(path, &h) != SQLITE_OK ||
        sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "INSERT INTO sessions (id, device, cc_major, cc_minor, sm_count, "
                           "driver, runtime, kernel, source_hash, user_key, p0, p1, p2, "
                           "strategy, budget, seed, space_hash, header, origin, started, "
                           "finished) VALUES (?1, 'NVIDIA H200', 9, 0, 132, 13000, 12040, "
                           "'conv', 'abc', '', ?1, 1, 1, 'bo', 1000, 1, 'S', '{\"device_name\""
                           ":\"NVIDIA H200\",\"kernel_name\":\"conv\",\"tune_params_keys\":"
                           "[\"block_size_x\",\"block_size_y\",\"tile\"]}', 'cutune', 0, 1)",
                           -1, &ses, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "INSERT INTO evaluations VALUES (?, ?, ?, NULL, ?, ?)", -1, &ev,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "INSERT INTO profiles (device, cc_major, cc_minor, sm_count, "
                           "driver, runtime, kernel, source_hash, user_key, p0, p1, p2, params, "
                           "config, time_ms, strategy, budget, evaluations, session, updated, "
                           "rev) VALUES ('NVIDIA H200', 9, 0, 132, 13000, 12040, 'conv', 'abc', "
                           "'', ?1, 1, 1, 'block_size_x,block_size_y,tile', '32,4,2', 0.5, "
                           "'bo', 1000, 1000, ?1, 0, ?1)", -1, &prof, NULL) != SQLITE_OK) {
        fprintf(stderr, "store_check: %s: %s\n", path, sqlite3_errmsg(h));
        return 1;
    }
    for (long r = 0; r < rows; r++) {
        long session = r / 1000 + 1, k = r % 1000;
        if (k == 0) {
            sqlite3_bind_int64(ses, 1, session);
            sqlite3_bind_int64(prof, 1, session);
            if (sqlite3_step(ses) != SQLITE_DONE || sqlite3_step(prof) != SQLITE_DONE)
                break;
            sqlite3_reset(ses);
            sqlite3_reset(prof);
        }
        char config[32], entry[600];
        double t = 0.5 + (double)((r * 7919) % 1000) / 1000;
        snprintf(config, sizeof config, "%ld,%ld,%ld", 16 + k % 16 * 16, 1 + k / 16 % 8,
                 1 + k / 128);
        snprintf(entry, sizeof entry,
                 "{\"block_size_x\":%ld,\"block_size_y\":%ld,\"tile\":%ld,\"time\":%.17g,"
                 "\"times\":[%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g],\"time_median\":%.17g,"
                 "\"time_std\":0.0012,\"compile_time\":812.25,\"verification_time\":0,"
                 "\"benchmark_time\":4.5,\"strategy_time\":0,\"framework_time\":0,"
                 "\"timestamp\":\"2026-12-04 18:00:00+00:00\"}",
                 16 + k % 16 * 16, 1 + k / 16 % 8, 1 + k / 128, t, t, t, t, t, t, t, t, t);
        sqlite3_bind_int64(ev, 1, session);
        sqlite3_bind_text(ev, 2, config, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(ev, 3, t);
        sqlite3_bind_text(ev, 4, entry, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(ev, 5, (double)r);
        if (sqlite3_step(ev) != SQLITE_DONE)
            break;
        sqlite3_reset(ev);
    }
    sqlite3_finalize(ses);
    sqlite3_finalize(ev);
    sqlite3_finalize(prof);
    int ok = sqlite3_exec(h, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) ==
             SQLITE_OK;
    if (!ok)
        fprintf(stderr, "store_check: %s: %s\n", path, sqlite3_errmsg(h));
    sqlite3_close(h);
    return !ok;
}

/* The median of `times` opens for writing with CUTUNE_STORE_CHECK_S = bound (NULL: unset),
 * and whether the check went through to its end (`whole`). */
static double open_time(const char *path, const char *bound, int *whole)
{
    double t[5];
    for (int k = 0; k < 5; k++) {
        if (bound)
            setenv("CUTUNE_STORE_CHECK_S", bound, 1);
        else
            unsetenv("CUTUNE_STORE_CHECK_S");
        cutune_store *s;
        double t0 = cutune_now();
        if (cutune_store_open(&s, path, 0)) {
            fail(path);
            return -1;
        }
        t[k] = cutune_now() - t0;
        *whole = ct_store_db(s)->checked == 1;
        cutune_store_free(s);
    }
    for (int i = 0; i < 5; i++) /* (insertion sort of five) */
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return t[2];
}

static void report(const char *name, const char *path, long rows)
{
    struct stat sb;
    int whole_default = 0, whole_full = 0, none = 0;
    open_time(path, "0", &none); /* (warms the page cache) */
    double without = open_time(path, "0", &none), with_default =
                                                      open_time(path, NULL, &whole_default),
           full = open_time(path, "1000", &whole_full);
    stat(path, &sb);
    printf("{\"store\": \"%s\", \"evaluations\": %ld, \"bytes\": %lld, \"open_without_check_s\":"
           " %.4f, \"open_with_check_s\": %.4f, \"checked_whole_within_bound\": %s, "
           "\"open_with_unbounded_check_s\": %.4f}\n", name, rows, (long long)sb.st_size,
           without, with_default, whole_default ? "true" : "false", full);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    long rows = argc > 2 ? atol(argv[2]) : 1000000;
    char big[4096], a100[4096];
    /* (a path cut short would be another file's, which build and the end remove) */
    if (snprintf(big, sizeof big, "%s/store_check_rows.db", dir) >= (int)sizeof big ||
        snprintf(a100, sizeof a100, "%s/store_check_a100.db", dir) >= (int)sizeof a100) {
        fprintf(stderr, "store_check: the folder's name %s is too long\n", dir);
        return 1;
    }
    if (build(big, rows))
        return 1;
    report("synthetic", big, rows);
    remove(a100);
    cutune_store *s;
    if (cutune_store_open(&s, a100, 0) ||
        cutune_store_import(s, CUTUNE_SOURCE_DIR "/data/spaces/convolution/A100.json.gz", NULL,
                            NULL))
        return fail(a100);
    cutune_store_free(s);
    report("A100 cache file", a100, 4362);
    if (argc <= 3 || strcmp(argv[3], "keep") != 0) {
        remove(big);
        remove(a100);
    }
    return 0;
}
