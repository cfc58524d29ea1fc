/* store/session.h — the profile store as a tuning session sees it: a session's row, its
 * evaluations written as they complete and read back to resume, the warm start, and the
 * Kernel Tuner and T4 forms of its results. Everything else of the store (SQLite, the map)
 * stays behind store_impl.h. */
#ifndef CUTUNE_STORE_SESSION_H
#define CUTUNE_STORE_SESSION_H

#include "internal.h"

#include <jansson.h>
#include <stdint.h>

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

/* CUTUNE_OK, or CUTUNE_EINVAL ("WHAT: PATH was opened read-only") for a read-only store. */
int ct_store_writable(const cutune_store *store, const char *what);
/* CUTUNE_ECORRUPT for damage found in `what` (`why`: what is wrong), with the --recover
 * hint (ct_db_damaged of the store's database). */
int ct_store_damaged(cutune_store *store, const char *what, const char *why);

/* T4 results made from a Kernel Tuner cache file's JSON (a new reference, or NULL). */
json_t *ct_t4_from_kt(const json_t *kt);
/* A space's identity: the hash of its tune_params (names and values). */
void ct_space_hash(const json_t *tune_params, char out[33]);

#endif
