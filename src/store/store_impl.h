/* store_impl.h — the profile store's parts: the SQLite file (db.c), the lock-free map that
 * answers lookups (map.c), and what both share: a profile's canonical key. */
#ifndef CUTUNE_STORE_IMPL_H
#define CUTUNE_STORE_IMPL_H

#include "../internal.h"
#include "session.h"

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

#define CT_SCHEMA_VERSION 3
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
/* sqlite3_column_double, NaN for NULL (a time not known). */
double ct_db_real(sqlite3_stmt *stmt, int col);

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

/* ------------------------------------------------------------ exchange.c ---- */

/* T4's invalidity for a Kernel Tuner failure name (NULL: "correct"). */
const char *ct_t4_invalidity(const char *failure);
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
void ct_store_lock(cutune_store *store);
void ct_store_unlock(cutune_store *store);

#endif
