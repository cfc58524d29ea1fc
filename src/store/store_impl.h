/* store_impl.h — the profile store's parts: the SQLite file (db.c), the lock-free map that
 * answers lookups (map.c), and what both share: a profile's canonical key. */
#ifndef CUTUNE_STORE_IMPL_H
#define CUTUNE_STORE_IMPL_H

#include "../internal.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------ keys ---- */

#define CT_KEY_MAX 1024 /* bytes of a canonical key */
#define CT_NAME_MAX 255 /* of a device, kernel or user key; a source hash has at most 64 */

/* A profile's key as bytes: kernel, source hash and user key (the kernel part, which the
 * fallback rules search by), then the device and the problem size. Returns the length
 * (and the kernel part's in *kernel_len), or 0 when a name is too long. */
size_t ct_profile_key(char *buf, const char *kernel, const char *source_hash,
                      const char *user_key, const char *device, const int dev[5],
                      const int64_t problem[3], size_t *kernel_len);

/* ----------------------------------------------------------------------- SQLite ---- */

#define CT_DB_CACHED 16

typedef struct ct_db {
    sqlite3 *h;
    char *path;
    int readonly;
    int immutable;    /* a reader's immutable open: the file as it was then (open_reader) */
    struct stat seen; /* ... which was this */
    int checked;      /* before writing: 1 checked whole, -1 as far as the bound allowed */
    struct {
        const char *sql; /* a string literal: known by its address */
        sqlite3_stmt *stmt;
    } cached[CT_DB_CACHED];
} ct_db;

#define CT_SCHEMA_VERSION 2
#define CT_SCHEMA_READABLE 1 /* the oldest a reader takes as it is (2 added session_owners) */

/* Opens or creates the database and brings its schema up to date (refusing a newer one).
 * An existing file is checked whole (SQLite's quick_check, bounded in time) before anything
 * is written into it; a damaged one is CUTUNE_ECORRUPT and left as it was. A reader
 * (`readonly`) leaves no -wal or -shm behind that were not there, and reads a store in a
 * folder it may not write. */
int ct_db_open(ct_db *db, const char *path, int readonly);
void ct_db_close(ct_db *db);
/* The "file:" URI of a path with SQLite's URI parameters `params` ("mode=ro"), for
 * sqlite3_open_v2 with SQLITE_OPEN_URI (%, ? and # escaped). */
int ct_db_uri(const char *path, const char *params, char *buf, size_t size);
/* Bytes in the -wal of `path` (0 when there is none). */
long long ct_db_wal_bytes(const char *path);
/* Whether the file of a reader's immutable open has changed since (then reopen it). */
int ct_db_changed(const ct_db *db);
/* A status for SQLite's result `rc` with a message naming the database and `what`. */
int ct_db_fail(ct_db *db, int rc, const char *what);
/* CUTUNE_ECORRUPT for damage found in `what` (`why`: what is wrong), with the --recover hint;
 * the -wal is kept out of the damaged file. */
int ct_db_damaged(ct_db *db, const char *what, const char *why);
int ct_db_exec(ct_db *db, const char *sql);
int ct_db_prepare(ct_db *db, sqlite3_stmt **stmt, const char *sql);
/* The same for statements run often (sql a literal): prepared once, kept with the
 * connection; give it back with sqlite3_reset, never finalize it. */
int ct_db_cached(ct_db *db, sqlite3_stmt **stmt, const char *sql);
/* Write transactions: BEGIN IMMEDIATE, waiting for other writers (busy timeout). */
int ct_db_begin(ct_db *db);
int ct_db_commit(ct_db *db);
void ct_db_rollback(ct_db *db);
/* sqlite3_column_text that never returns NULL. */
const char *ct_db_text(sqlite3_stmt *stmt, int col);

/* ---------------------------------------------------------------- the lock-free map ---- */

typedef struct ct_map ct_map;

/* `expected`: about how many profiles will be published (sizes the tables). */
int ct_map_new(ct_map **out, size_t expected);
/* After every reader is done with it (the caller must not use it concurrently). */
void ct_map_free(ct_map *m);
/* Copies p into an immutable profile and publishes it, replacing the one with the same
 * key; the old one is freed once no reader can hold it. Writers take the map's mutex. */
int ct_map_publish(ct_map *m, const cutune_profile *p);
/* The same for a profile whose key the map is known not to hold (loading a database, whose
 * keys are unique, into an empty map): no lookup first. */
int ct_map_publish_new(ct_map *m, const cutune_profile *p);
/* Numbers that grow with every change readers could see, so that a remembered answer is
 * known to stand: the map's, for any change, and the key's (changes to profiles whose key
 * hash shares its slot), for an exact hit. */
#define CT_KEY_GENERATIONS 4096
uint64_t ct_map_generation(ct_map *m);
uint64_t ct_map_key_generation(ct_map *m, uint64_t key_hash);
/* Removes the profile with this id, if it is there. */
void ct_map_remove(ct_map *m, int64_t id);
size_t ct_map_size(ct_map *m);
/* The lookup of cutune_select: lock-free. */
int ct_map_select(ct_map *m, const cutune_device_info *device, const cutune_kernel_id *kernel,
                  const int64_t problem[3], cutune_selection *out);
/* The same for a key already made (ct_profile_key) and hashed (ct_key_hash). */
void ct_map_select_key(ct_map *m, const cutune_device_info *device, const char *key,
                       size_t key_len, size_t kernel_len, uint64_t hash, cutune_selection *out);
/* A key's hash in two steps, so that a selector hashes only the problem size per lookup:
 * the hash of all but the size, then the whole key's from it. */
uint64_t ct_key_prefix_hash(const char *key, size_t key_len);
uint64_t ct_key_hash(const char *key, size_t key_len, uint64_t prefix_hash);

/* ----------------------------------------------------- sessions (sessions.c) ---- */

/* A session's row: its key (the profile's fields device .. problem, strategy, budget) and
 * what else identifies it. */
typedef struct ct_session_row {
    cutune_profile key;
    uint64_t seed;
    const char *space_hash; /* of the parameters and their values */
    const char *header;     /* Kernel Tuner cache header, JSON */
    const char *origin;     /* "cutune", or the file it came from */
} ct_session_row;

/* A new session, this process's to run (until it finishes or is released): its id. */
int ct_store_session_begin(cutune_store *store, const ct_session_row *row, int64_t *id);
/* The latest session with this key and space (any strategy), if it is unfinished, made this
 * process's (its id; 0: none to go on with). CUTUNE_EBUSY, saying who, when another run
 * that is not provably gone has it. In one write transaction with the check. */
int ct_store_session_resume(cutune_store *store, const ct_session_row *row, int64_t *id);
/* The session is no longer this process's to run (unfinished: another run may resume it). */
int ct_store_session_release(cutune_store *store, int64_t session);
/* The session goes, with its evaluations and its owner (an import that failed). */
int ct_store_session_discard(cutune_store *store, int64_t session);
/* One evaluation: config is its key ("64,2,1"), entry its Kernel Tuner cache entry (JSON
 * text); time_ms NaN with `failure` for a failed one. Replaces an earlier one of the same
 * configuration in this session. */
int ct_store_session_add(cutune_store *store, int64_t session, const char *config,
                         double time_ms, const char *failure, const char *entry);
/* Marks the session finished (and nobody's) and folds its best evaluation into the profile. */
int ct_store_session_finish(cutune_store *store, int64_t session);
/* The same without finishing it (a new best, as it happens). */
int ct_store_session_fold(cutune_store *store, int64_t session);
/* Each evaluation of the sessions with this key and space, oldest first (a later one of
 * the same configuration comes after). */
typedef int (*ct_entry_fn)(const char *config, const char *entry, void *user);
int ct_store_session_entries(cutune_store *store, const ct_session_row *row, ct_entry_fn fn,
                             void *user);

/* The warm start of a new session: of the sessions of the same kernel, GPU (any driver)
 * and space at other problem sizes, those of the nearest size (*problem; 0s when there are
 * none), and their `max` fastest configurations, fastest first. */
typedef int (*ct_config_fn)(const char *config, double time_ms, void *user);
int ct_store_session_nearby(cutune_store *store, const ct_session_row *row, size_t max,
                            int64_t problem[3], ct_config_fn fn, void *user);

/* ------------------------------------------------------------ exchange.c ---- */

/* T4's invalidity for a Kernel Tuner failure name (NULL: "correct"). */
const char *ct_t4_invalidity(const char *failure);
/* T4 results made from a Kernel Tuner cache file's JSON (a new reference, or NULL). */
json_t *ct_t4_from_kt(const json_t *kt);
/* A space's identity: the hash of its tune_params (names and values). */
void ct_space_hash(const json_t *tune_params, char out[33]);

/* SQL matching a profile's key (device .. p2: 12 parameters), and their binding from
 * parameter `first` on. */
#define CT_KEY_MATCH                                                                         \
    "device = ? AND cc_major = ? AND cc_minor = ? AND sm_count = ? AND driver = ? AND "      \
    "runtime = ? AND kernel = ? AND source_hash = ? AND user_key = ? AND p0 = ? AND p1 = ? " \
    "AND p2 = ?"
void ct_store_bind_key(sqlite3_stmt *q, int first, const cutune_profile *p);

/* The store's database and map, for exchange.c and sessions.c (the database under the
 * store's lock). */
ct_db *ct_store_db(cutune_store *store);
ct_map *ct_store_map(cutune_store *store);
/* CUTUNE_EINVAL unless the profile has what a row needs (names, a time, sizes >= 0). */
int ct_store_check_profile(const cutune_profile *p);
/* In a transaction: writes p unless a faster one of the same key is there; *kept receives
 * the row as it stands, its strings in *strings (the caller frees them). */
int ct_store_put_locked(cutune_store *store, const cutune_profile *p, cutune_profile *kept,
                        char **strings);
/* CUTUNE_OK, or CUTUNE_EINVAL ("WHAT: PATH was opened read-only") for a read-only store. */
int ct_store_writable(const cutune_store *store, const char *what);
void ct_store_lock(cutune_store *store);
void ct_store_unlock(cutune_store *store);

#endif
