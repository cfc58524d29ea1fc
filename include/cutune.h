/* cutune.h — the one public header of libcutune, an automatic tuner for CUDA kernels.
 * No CUDA types appear here: a program that includes it needs no CUDA headers.
 *
 * Conventions that hold for every function below, unless its own comment says otherwise:
 *
 * Status. A function that can fail returns an int status: CUTUNE_OK (0) or one of the codes
 * of CUTUNE_STATUS_TABLE, and on failure leaves a message naming what went wrong in
 * cutune_last_error() (per thread). Every such function may return CUTUNE_EINVAL (a NULL
 * handle or required pointer, a value outside what its comment allows) and CUTUNE_ENOMEM;
 * the comments list the others. After a failure the outputs hold nothing to rely on, except
 * `*out` of a constructor, which is then NULL. The library never prints, exits or aborts.
 *
 * Handles. Objects are opaque handles made by a constructor (cutune_x_new, _load, _open,
 * _start) into `*out` and released by the matching cutune_x_free, which accepts NULL and does
 * nothing then. The caller owns what a constructor gives and frees it once; a handle must
 * not be used after its free. A NULL handle is never a crash: functions returning a status
 * give CUTUNE_EINVAL; getters give 0, NULL or NaN (their result type's "nothing").
 *
 * Pointers. Strings and arrays passed in are copied before the call returns, so the caller
 * may free them at once, except where a comment says an object "must outlive" another (a
 * space under a kernel or session, a store under a launcher, selector or session). Strings
 * and arrays returned by getters belong to the object they came from and stay valid until it
 * is freed (cutune_last_error's, until the next failing call on the same thread). Memory the
 * caller must free() is said so (cutune_store_export).
 *
 * Threads. Functions without a handle are thread-safe. An object that is no longer being
 * modified (a space once built, a loaded cache, kernel or binary, a baseline) may be read
 * through const pointers from any number of threads. The profile store, its selectors, the
 * launcher and the pinned pool are thread-safe as a whole: any function on them may be
 * called from any number of threads at once, except their free, which must come after every
 * other call has returned. A session and a monitor are used from one thread at a time. A
 * random generator (cutune_rng) is the caller's and is not shared between threads.
 * (tests/test_api.c checks the NULL, read-only and many-thread behaviour.) */
#ifndef CUTUNE_H
#define CUTUNE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CUTUNE_VERSION_MAJOR 0
#define CUTUNE_VERSION_MINOR 1
#define CUTUNE_VERSION_PATCH 0
#define CUTUNE_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------------------------
 * Status codes. Every fallible call returns one of these; 0 is success. The message of the
 * last failure on the calling thread (what went wrong and where) is cutune_last_error().
 * ---------------------------------------------------------------------------------------- */
#define CUTUNE_STATUS_TABLE(X)                                                     \
    X(CUTUNE_OK, 0, "success")                                                    \
    X(CUTUNE_EINVAL, 1, "invalid argument")                                       \
    X(CUTUNE_ENOMEM, 2, "out of memory")                                          \
    X(CUTUNE_EIO, 3, "input/output error")                                        \
    X(CUTUNE_EPARSE, 4, "syntax error")                                           \
    X(CUTUNE_ENAME, 5, "unknown name")                                            \
    X(CUTUNE_ETYPE, 6, "type mismatch")                                           \
    X(CUTUNE_EDOMAIN, 7, "arithmetic domain error (division by zero, overflow)") \
    X(CUTUNE_ERANGE, 8, "value out of range")                                     \
    X(CUTUNE_ENOTFOUND, 9, "not found")                                           \
    X(CUTUNE_EEMPTY, 10, "search space has no valid configuration")              \
    X(CUTUNE_ETOOBIG, 11, "too large")                                            \
    X(CUTUNE_ENODEVICE, 12, "no CUDA device")                                     \
    X(CUTUNE_ECUDA, 13, "CUDA error")                                             \
    X(CUTUNE_ENOTSUP, 14, "not supported")                                        \
    X(CUTUNE_ECANCELED, 15, "stopped by the caller")                             \
    X(CUTUNE_ECOMPILE, 16, "kernel compilation failed")                           \
    X(CUTUNE_ECORRUPT, 17, "damaged data")                                        \
    X(CUTUNE_EBUSY, 18, "in use by another process")

enum cutune_status {
#define CUTUNE_STATUS_ENUM_(name, code, text) name = code,
    CUTUNE_STATUS_TABLE(CUTUNE_STATUS_ENUM_)
#undef CUTUNE_STATUS_ENUM_
};

/* Short text of a status code ("unknown status" for a code not in the table). Never NULL. */
const char *cutune_strerror(int status);

/* Detailed message of the most recent failing call on this thread, e.g.
 * "spec.json:12:5: '[' or '{' expected". Empty string when none failed yet. Never NULL;
 * valid until the next cutune call on the same thread. */
const char *cutune_last_error(void);
/* Sets this thread's message and returns `status`: for callbacks and executors outside the
 * library that fail, so that whoever called the run reads why in cutune_last_error(). */
int cutune_set_error(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The library's version, "MAJOR.MINOR.PATCH" (CUTUNE_VERSION_STRING of the build), for an
 * application to compare with the header it was compiled against. Never NULL. */
const char *cutune_version(void);

/* Seconds on the monotonic clock cutune measures every duration with (an arbitrary origin):
 * for timing host work the way cutune does. */
double cutune_now(void);

/* ------------------------------------------------------------------------------------------
 * Files as cutune keeps its own: read whole, and written whole or not at all (into a new file
 * beside the destination that replaces it only once flushed to disk, so that a failure or a
 * kill leaves what was there). For a program that writes its results the same way.
 * ---------------------------------------------------------------------------------------- */
/* Reads a whole file as a NUL-terminated string: *text is malloc'd (free() it), *len (may be
 * NULL) its length without the NUL. CUTUNE_EIO: it cannot be opened or read ("PATH: cannot
 * open: why"); CUTUNE_ETOOBIG: it holds more than `limit` bytes (limit rounds up to 64 KiB
 * times a power of two). */
int cutune_read_file(const char *path, size_t limit, char **text, size_t *len);
/* mkdir -p: `dir` and every folder on the way to it (mode 0777, less the umask); folders
 * that exist are fine. CUTUNE_EIO when one cannot be made, or `dir` is no folder: the
 * message is "cannot make the folder F: why", F the first folder that failed, and errno
 * says why. */
int cutune_make_dirs(const char *dir);
/* A new file beside `path`, to write `path` whole: never a file that exists or a link, in
 * `path`'s folder (the rename stays on one file system), with the mode `path` has, else
 * what the umask allows. *fd receives its descriptor, open for writing, and tmp (size at
 * least strlen(path) + 16 bytes) its name: write it, flush it to disk (fsync) and rename tmp
 * over `path`, or unlink tmp to give up. CUTUNE_EIO: it cannot be made; the message is
 * "cannot write PATH: why" and errno says why. */
int cutune_create_beside(const char *path, char *tmp, size_t size, int *fd);

/* Limits a caller sizes arrays by. */
#define CUTUNE_MAX_PARAMS 256         /* parameters of one space */
#define CUTUNE_MAX_TIMED_LAUNCHES 64  /* timed launches of one configuration kept */

/* ------------------------------------------------------------------------------------------
 * Search spaces: tunable parameters with value lists, and constraints written in the
 * Python-style subset used by T1 specs and Kernel Tuner. A configuration is an array of value
 * indices, one per parameter (uint32_t[num_params]). Its id is the mixed-radix number of
 * those indices (first parameter most significant): stable for a given parameter list,
 * whatever the constraints.
 * A space is read-only after it is built and may then be shared between threads.
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_space cutune_space;

typedef enum cutune_value_type {
    CUTUNE_INT = 0,
    CUTUNE_FLOAT = 1,
    CUTUNE_STRING = 2
} cutune_value_type;

/* An empty space, to be filled with the cutune_space_add_* calls. Building (add_*,
 * set_default) is for one thread, before the space is shared. */
int cutune_space_new(cutune_space **out);
void cutune_space_free(cutune_space *space);

/* Adds a parameter; `values` are copied. Names are identifiers, unique within a space.
 * CUTUNE_EINVAL: a name that is no identifier or is taken, n == 0; CUTUNE_ETOOBIG: too many
 * parameters or values. */
int cutune_space_add_int(cutune_space *space, const char *name, const int64_t *values, size_t n);
int cutune_space_add_float(cutune_space *space, const char *name, const double *values, size_t n);
int cutune_space_add_string(cutune_space *space, const char *name, const char *const *values,
                            size_t n);
/* Adds a constraint, e.g. "block_size_x * block_size_y <= 1024". Parsed at once: a syntax
 * error or a name that is no parameter fails here, and so does a part that reads no parameter
 * and cannot be computed (CUTUNE_EDOMAIN for 2**2**2**2**2, past 64-bit integers). A
 * configuration is valid when every constraint is true; one whose evaluation fails (division
 * by zero, an integer past 64 bits, a type mismatch) is invalid. */
int cutune_space_add_constraint(cutune_space *space, const char *expression);
/* Optional default configuration, as value indices. */
int cutune_space_set_default(cutune_space *space, const uint32_t *config);

/* Loads a T1 JSON spec (ConfigurationSpace.TuningParameters and Conditions). Errors name the
 * file and, for JSON syntax, the line and column; for expressions, the JSON path and column.
 * CUTUNE_EIO: the file cannot be read; CUTUNE_EPARSE: bad JSON or expression syntax;
 * CUTUNE_ENAME, CUTUNE_ETYPE: a constraint names no parameter or mixes types.
 *
 * Defaults, as Kernel Tuner's T1 files write them (Kernel Tuner itself reads none). A
 * parameter's `Default` is optional; a one-element list (`"Default": [0]`) is its element; a
 * string Default of a parameter that is not of Type string is read as a constant expression
 * ("2**5"). A Default is never an error: one that is not among the values, a list of several,
 * or no value at all is a warning, and that parameter counts as having none. The default
 * configuration (cutune_space_get_default) is then chosen by one rule:
 *   - no parameter has a Default: there is none (`cutune tune` then runs as Kernel Tuner
 *     does, with no default configuration);
 *   - the Defaults, when every parameter has a usable one and they satisfy every condition;
 *   - else the valid configuration nearest them: the fewest parameters with a usable Default
 *     whose value differs (parameters without one are free), then the fewest places those
 *     values moved in their lists, then the lowest configuration id (searched for in 2^20
 *     steps of enumeration in id order, which a space of very many configurations, few of
 *     them valid, may need more of), with a warning that names the conditions the Defaults
 *     break and the configuration chosen;
 *   - a space with no valid configuration (none found in those steps) has no default; a
 *     warning says so.
 * Warnings name the file, the JSON path and the value; the space keeps them (below). */
int cutune_space_load_t1(cutune_space **out, const char *path);
/* Same from memory; `name` is used in messages. */
int cutune_space_load_t1_buffer(cutune_space **out, const char *data, size_t len,
                                const char *name);
/* What the spec loader accepted but a user should hear of (a Default it could not use, the
 * default configuration it chose instead), one message each, e.g. "spec.json:
 * ConfigurationSpace.TuningParameters[7] (max_tfactor).Default: 1 is not one of the values
 * (10): ...". The library never prints them: cutune space and cutune tune print each as
 * "warning: ..." on stderr. 0 (and NULL) for a space built with the add_* calls, or an index
 * past the last. */
size_t cutune_space_num_warnings(const cutune_space *space);
const char *cutune_space_warning(const cutune_space *space, size_t i);

/* Getters: a parameter index past the last gives 0, NULL or CUTUNE_INT. */
size_t cutune_space_num_params(const cutune_space *space);
const char *cutune_space_param_name(const cutune_space *space, size_t param);
cutune_value_type cutune_space_param_type(const cutune_space *space, size_t param);
size_t cutune_space_param_size(const cutune_space *space, size_t param);
/* Formats value `index` of `param` as Python would print it (16, 0.5, 'abc' without quotes).
 * Returns the length it needed, like snprintf (truncated to `size`, always terminated when
 * size > 0), or a negative status for a NULL space or an index out of range. */
int cutune_space_format_value(const cutune_space *space, size_t param, size_t index, char *buf,
                              size_t size);
/* Index of a parameter by name; CUTUNE_ENOTFOUND when there is none. */
int cutune_space_find_param(const cutune_space *space, const char *name, size_t *param);
size_t cutune_space_num_constraints(const cutune_space *space);
/* 1 and the default's value indices in `config` when the space has a default configuration
 * (a spec's: see cutune_space_load_t1); else 0 (also for a NULL space). */
int cutune_space_get_default(const cutune_space *space, uint32_t *config);

/* Number of raw combinations (product of value-list sizes), saturating at UINT64_MAX. */
uint64_t cutune_space_raw_size(const cutune_space *space);

/* Whether a configuration satisfies every constraint (1) or not (0); negative status when
 * `config` has an index out of range. Thread-safe. */
int cutune_space_is_valid(const cutune_space *space, const uint32_t *config);

/* A configuration's id (0 for a NULL space), and back: CUTUNE_ERANGE for an id past the
 * raw size. */
uint64_t cutune_space_config_id(const cutune_space *space, const uint32_t *config);
int cutune_space_config_from_id(const cutune_space *space, uint64_t id, uint32_t *config);

/* Kernel Tuner's key of a configuration: values joined by commas ("16,1,1,1,0,0,0,1,15,15").
 * CUTUNE_ERANGE when it does not fit in `size` bytes. Parsing a key: CUTUNE_EPARSE for the
 * wrong number of values, CUTUNE_ENOTFOUND for a value not in its parameter's list. */
int cutune_space_config_key(const cutune_space *space, const uint32_t *config, char *buf,
                            size_t size);
int cutune_space_parse_key(const cutune_space *space, const char *key, uint32_t *config);

/* Visits every valid configuration in id order; the callback returns nonzero to stop (that
 * value is then returned). Values no constraint can accept are dropped first, and each part of
 * a constraint (each operand of its outermost 'and') is checked as soon as the values set so
 * far decide it, so large invalid regions are skipped whole. Thread-safe. */
typedef int (*cutune_config_visitor)(const uint32_t *config, void *user);
int cutune_space_enumerate(const cutune_space *space, cutune_config_visitor visit, void *user);
/* The number of valid configurations (enumerates them, but counts a region where nothing is
 * left to check by multiplying). */
int cutune_space_count(const cutune_space *space, uint64_t *count);
/* The configurations that only a failing evaluation makes invalid: no part of a constraint is
 * false for them, but one cannot be computed (an integer past 64 bits, where Python's have no
 * limit; a division by zero; a type mismatch). `count` receives how many; when there are some
 * and the first (in id order) is found within 2^24 search steps, `first` (may be NULL) receives
 * it and `why` (NULL when why_size is 0) which constraint fails there and how; else why is "". */
int cutune_space_count_failing(const cutune_space *space, uint64_t *count, uint32_t *first,
                               char *why, size_t why_size);

/* Valid neighbours of `config`: one parameter moved to an adjacent value in its list. Writes
 * up to `max` configurations to `out` (max * num_params values) and their number to `found`. */
int cutune_space_neighbours(const cutune_space *space, const uint32_t *config, uint32_t *out,
                            size_t max, size_t *found);

/* Uniform random sampling of valid configurations. Where random draws find valid ones readily
 * the space is never enumerated; where they do not, the valid configurations are listed (up to
 * 2^20) or drawn over the values constraint propagation leaves. A generator is deterministic
 * for a seed and is not shared between threads. */
typedef struct cutune_rng {
    uint64_t s[4];
} cutune_rng;
/* (rng must not be NULL.) */
void cutune_rng_seed(cutune_rng *rng, uint64_t seed);
uint64_t cutune_rng_next(cutune_rng *rng);
/* Uniform integer in [0, bound), bound > 0. */
uint64_t cutune_rng_below(cutune_rng *rng, uint64_t bound);
/* One valid configuration drawn uniformly. Fails with CUTUNE_EEMPTY when there is none, or when
 * the valid ones are too many to list and too few for 2^24 draws to find one. Thread-safe. */
int cutune_space_sample(const cutune_space *space, cutune_rng *rng, uint32_t *config);

/* ------------------------------------------------------------------------------------------
 * Kernel Tuner cache files: every configuration of a kernel measured on one GPU (a recorded
 * search space). Read from .json or .json.gz; entries are in configuration-id order.
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_cache cutune_cache;

/* Loads a cache file. With `spec` (a T1 spec path, may be NULL) the space is the spec's and
 * every cache entry must be one of its valid configurations, and the other way round.
 * CUTUNE_EIO: unreadable (or bad gzip); CUTUNE_EPARSE: not JSON; CUTUNE_ETYPE, CUTUNE_EINVAL:
 * JSON that is no cache file, or entries that disagree with the spec; CUTUNE_ETOOBIG: a file
 * too large. A loaded cache is read-only: share it between threads freely. */
int cutune_cache_load(cutune_cache **out, const char *path, const char *spec);
void cutune_cache_free(cutune_cache *cache);
/* The space of the cache's parameters (owned by the cache). */
const cutune_space *cutune_cache_space(const cutune_cache *cache);
size_t cutune_cache_size(const cutune_cache *cache);
const char *cutune_cache_device(const cutune_cache *cache);
const char *cutune_cache_kernel(const cutune_cache *cache);
/* Entry i: its configuration (value indices), key exactly as the file spells it, and its time
 * in ms, or NaN with the failure text ("CompilationFailedConfig", ...) for a failed one. */
const uint32_t *cutune_cache_config(const cutune_cache *cache, size_t i);
const char *cutune_cache_key(const cutune_cache *cache, size_t i);
double cutune_cache_time(const cutune_cache *cache, size_t i, const char **failure);
/* What measuring entry i cost the tuner that recorded it, in ms (Kernel Tuner's compile,
 * verification, benchmark and framework times); NaN when the file does not say. */
double cutune_cache_cost(const cutune_cache *cache, size_t i);
/* Getters: an entry index past the last gives NULL (config, key) or NaN (time, cost). */
/* Index of a configuration among the entries; CUTUNE_ENOTFOUND when it is not there. */
int cutune_cache_find(const cutune_cache *cache, const uint32_t *config, size_t *index);

/* ------------------------------------------------------------------------------------------
 * Search: a strategy suggests configurations, a backend measures them, until the evaluation
 * budget, the time budget or the space runs out. Strategies (cutune_strategy_names()):
 * brute, random, lhs, anneal, genetic, bo. Each is deterministic for a seed. Wherever a
 * strategy is named (cutune_search_options.strategy, cutune_strategy_summary, a spec's
 * Search.Name, the CLI's --strategy) Kernel Tuner's names for the same strategies are
 * accepted too: bayes_opt (bo), random_sample (random), genetic_algorithm (genetic),
 * simulated_annealing (anneal), brute_force (brute).
 * ---------------------------------------------------------------------------------------- */
struct cutune_arch;
typedef struct cutune_search_options {
    const char *strategy; /* NULL: "bo" */
    uint64_t budget;      /* evaluations, at least 1 */
    double time_limit_s;  /* wall-clock limit; 0: none */
    uint64_t seed;
    /* Prune, before compiling, configurations whose block cannot launch on this architecture
     * (threads = block_size_x * block_size_y * block_size_z, the parameters that exist): the
     * strategy is told they failed, and they cost no evaluation. NULL: no pruning. */
    const struct cutune_arch *arch;
    /* Bayesian optimisation: configurations planned per model update, 1 to 16 (0 means 1).
     * A GPU session compiles a planned batch in parallel while it measures, so a batch of a
     * few saves time per configuration at some cost in sample efficiency; other strategies
     * ignore it. */
    unsigned batch;
    /* cutune_simulate only: evaluations in flight at once, as distributed tuning keeps them
     * (ranks x configurations queued per rank), each suggestion made before the earlier ones
     * have returned; they return in the order they were started, as equally fast GPUs would
     * return them. 0 or 1: one at a time; at most 1024. */
    unsigned in_flight;
} cutune_search_options;

typedef enum cutune_stop {
    CUTUNE_STOP_BUDGET = 0,   /* the evaluation budget is spent */
    CUTUNE_STOP_TIME = 1,     /* the time limit passed */
    CUTUNE_STOP_EXHAUSTED = 2 /* every configuration was evaluated */
} cutune_stop;

typedef struct cutune_evaluation {
    uint64_t k;             /* 1 for the first evaluation */
    size_t entry;           /* the configuration (index into the cache in simulation) */
    const uint32_t *config; /* its value indices */
    double time_ms;         /* NaN when it failed */
    const char *failure;    /* why it failed, else NULL */
    double best_ms;         /* fastest so far; NaN while none succeeded */
    double suggest_s;       /* seconds the strategy took to choose it */
    int pruned;             /* 1: not compiled or run, it cannot launch (`failure` says why);
                               k is then the number of evaluations so far, unchanged */
    /* The objective (cutune_session_set_objective; time_ms by default): this configuration's
     * value (NaN when it failed, or the objective cannot be computed there: `failure` says
     * why, and time_ms is NaN too), the best value so far, and the configuration that has
     * it ((size_t)-1 while none). With an objective other than time, best_ms is that
     * configuration's time, no longer the fastest. */
    double objective;
    double best_objective;
    size_t best_entry;
} cutune_evaluation;

/* Called after each evaluation; a nonzero return stops the search with that status. */
typedef int (*cutune_evaluation_fn)(const cutune_evaluation *e, void *user);

typedef struct cutune_search_result {
    uint64_t evaluations; /* configurations measured (pruned ones not counted) */
    uint64_t pruned;      /* configurations pruned before compiling */
    double pruned_cost_s; /* what evaluating the pruned ones would have cost (in simulation:
                             what the recording tuner spent on them); NaN when unknown */
    double best_ms;    /* NaN when nothing succeeded */
    size_t best_entry;
    cutune_stop stop;
    double seconds;
} cutune_search_result;

/* NULL-terminated list of strategy names, and a one-line summary of each (NULL for a name
 * that is no strategy; Kernel Tuner's names give their strategy's). Static strings. */
const char *const *cutune_strategy_names(void);
const char *cutune_strategy_summary(const char *name);
/* cutune's name (a static string) for a strategy named by cutune's name or Kernel Tuner's
 * (bayes_opt gives "bo"). CUTUNE_ENOTFOUND for any other name (*cutune_name NULL), with a
 * message that says what is nearest: for Kernel Tuner's strategies that cutune lacks,
 * "strategy 'pso' is not in cutune; nearest: genetic (Kernel Tuner's pso is particle swarm
 * optimisation, a population-based search). cutune has ..."; for other names "unknown
 * strategy 'X'", with the nearest name when it looks misspelt. */
int cutune_strategy_lookup(const char *name, const char **cutune_name);

/* Anything with parameters, tuned by the same strategies: the objective gets a valid
 * configuration (value indices) and gives a value to minimise (a time, an energy, a cost).
 * It sets *failure to a short reason (and leaves *value NaN) when that configuration does
 * not work, which the strategy learns from; a nonzero return stops the search with that
 * status. The space is enumerated (up to 2^24 valid configurations); result->best_ms is the
 * smallest value found. The one-call form of cutune_session_new_objective and run (the
 * default configuration, when the space has one, is evaluated first and counts in best_ms
 * but not in evaluations). */
typedef int (*cutune_objective_fn)(const uint32_t *config, void *user, double *value,
                                   const char **failure);
/* Statuses: CUTUNE_ENOTFOUND an unknown strategy; CUTUNE_EEMPTY no valid configuration;
 * CUTUNE_ETOOBIG a space past 2^24 valid configurations; a callback's nonzero return. The
 * objective is called from the calling thread only. */
int cutune_optimize(const cutune_space *space, const cutune_search_options *options,
                    cutune_objective_fn objective, void *user, cutune_evaluation_fn on_evaluation,
                    void *on_evaluation_user, cutune_search_result *result);

/* One search over a recorded space: each measurement is the cache's entry. Statuses as
 * cutune_optimize's. Searches over one cache may run on several threads at once (one
 * search per thread). */
int cutune_simulate(const cutune_cache *cache, const cutune_search_options *options,
                    cutune_evaluation_fn on_evaluation, void *user,
                    cutune_search_result *result);

/* The threads of the linear algebra behind bo's model (OpenBLAS's; by default as many as
 * the CPUs): where searches already run side by side (one a thread, or MPI ranks) more only
 * spin against each other, and 1 keeps each on its caller's thread. For the whole process:
 * set it before searches start. CUTUNE_EINVAL: fewer than 1. */
int cutune_set_math_threads(int threads);

/* ------------------------------------------------------------------------------------------
 * Scoring against random search (the autotuning community's methodology). B(k) is the exact
 * expected best-so-far of random sampling without replacement after k draws (failures are
 * draws that return nothing; before any success the best counts as the median time); K, the
 * horizon, is the first k at which B(k) has closed 95% of the gap from the median to the
 * optimum. A strategy's score is the mean over k = 1..K of (B(k) - F(k)) / (B(k) - optimum),
 * F(k) being its mean best-so-far: 0 is as good as random, 1 optimal from the start.
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_baseline cutune_baseline;
/* The baseline of a cache's entries (the cache may be freed afterwards); CUTUNE_EEMPTY when
 * no entry succeeded. Getters on NULL give NaN or 0. */
int cutune_baseline_new(const cutune_cache *cache, cutune_baseline **out);
void cutune_baseline_free(cutune_baseline *b);
double cutune_baseline_optimum(const cutune_baseline *b);
double cutune_baseline_median(const cutune_baseline *b);
size_t cutune_baseline_horizon(const cutune_baseline *b);
/* B(k) for k = 0..number of entries (B(0) is the median). */
double cutune_baseline_random(const cutune_baseline *b, size_t k);
/* Score of mean best-so-far values best_mean[k-1], k = 1..n (n >= horizon; CUTUNE_EINVAL
 * when n is shorter). */
int cutune_score(const cutune_baseline *b, const double *best_mean, size_t n, double *score);

/* ------------------------------------------------------------------------------------------
 * Device description (the CUDA runtime is linked statically: on a machine with no GPU or no
 * driver cutune_device_query fails with CUTUNE_ENODEVICE and a message saying why).
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_device_info {
    char name[256];
    int ordinal;
    int cc_major, cc_minor;
    int sm_count;
    uint64_t total_memory;            /* bytes */
    int l2_cache_bytes;
    int regs_per_sm, regs_per_block;
    int smem_per_sm, smem_per_block, smem_per_block_optin, smem_reserved_per_block;
    int max_threads_per_sm, max_threads_per_block, max_blocks_per_sm, warp_size;
    int sm_clock_khz, mem_clock_khz;  /* peak clocks */
    int mem_bus_width_bits;
    double theoretical_bandwidth_gbs; /* 2 * memory clock * bus width (DDR) */
    int driver_version, runtime_version; /* e.g. 13000 for CUDA 13.0 */
    char pci_bus_id[32];
} cutune_device_info;

/* Number of CUDA devices; CUTUNE_ENODEVICE (message says why: no driver, no device, a build
 * without CUDA) when there are none. Thread-safe. */
int cutune_device_count(int *count);
/* Fills `info` for device `ordinal`: CUTUNE_ENODEVICE as above, CUTUNE_ERANGE for an ordinal
 * with no device, CUTUNE_ECUDA when the runtime fails. Thread-safe. */
int cutune_device_query(int ordinal, cutune_device_info *info);

/* ------------------------------------------------------------------------------------------
 * GPU telemetry through NVML, opened at run time (dlopen of libnvidia-ml.so.1, which comes
 * with the NVIDIA driver; without it cutune_monitor_start fails with CUTUNE_ENOTSUP and says
 * so). A monitor samples one GPU from a thread of its own until stopped.
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_monitor cutune_monitor;

typedef struct cutune_monitor_report {
    int samples;
    double seconds;                  /* from start to stop */
    double gpu_util_mean, gpu_util_min; /* % of the time a kernel ran (NVML's utilisation) */
    double mem_util_mean;            /* % of the time device memory was read or written */
    double sm_clock_mhz_mean, sm_clock_mhz_min, mem_clock_mhz_mean;
    double power_w_mean, power_w_max;
    double energy_j;                 /* the total-energy counter's difference; NaN without one */
    unsigned long long throttle_reasons; /* NVML's bits of the slowdowns seen: power cap,
                                            hardware, thermal, power brake */
    int throttled;                   /* 1 when any was seen: the run's figures are suspect */
} cutune_monitor_report;

/* Starts sampling the GPU at this PCI bus id (cutune_device_info.pci_bus_id) every
 * period_ms (1 to 60000), leaving out the first skip_s seconds (NVML's utilisation is an
 * average over its own window, up to 1 s, that still holds what ran before).
 * CUTUNE_ENOTSUP: no NVML; CUTUNE_ENODEVICE: NVML knows no GPU at that bus id. The monitor
 * is driven from one thread (start, stop, free); its sampling thread is its own. */
int cutune_monitor_start(cutune_monitor **out, const char *pci_bus_id, double period_ms,
                         double skip_s);
/* Stops sampling (once; later calls give the same report) and reports; means and minima of
 * what was never sampled are NaN. */
int cutune_monitor_stop(cutune_monitor *monitor, cutune_monitor_report *report);
void cutune_monitor_free(cutune_monitor *monitor);
/* The slowdowns in `reasons` in words ("hardware slowdown, software power cap"), in buf
 * (truncated to `size`); returns buf. */
const char *cutune_throttle_names(unsigned long long reasons, char *buf, size_t size);

/* ------------------------------------------------------------------------------------------
 * Occupancy: how many blocks of a kernel one SM holds at once, what limits that, and what
 * would lift it. The answers are those of the CUDA runtime's own calculator
 * (cudaOccupancyMaxActiveBlocksPerMultiprocessor, cuda_occupancy.h) for a kernel with one
 * block barrier and no partitioned global caching, which is how the runtime describes every
 * kernel it launches.
 * ---------------------------------------------------------------------------------------- */

/* What an SM of one architecture offers. cutune_arch_find() fills it from cutune's tables
 * (sm_50 ... sm_121); cutune_arch_from_device() from a device, its reported limits first. */
typedef struct cutune_arch {
    char name[16];                 /* "sm_90" */
    int cc_major, cc_minor;
    int sm_count;                  /* 0 when not known (an architecture, not a device) */
    int warp_size;
    int max_threads_per_block, max_threads_per_sm, max_blocks_per_sm;
    int regs_per_sm, regs_per_block, max_regs_per_thread;
    int reg_alloc_unit;            /* registers are given to warps in units of this many */
    int sub_partitions;            /* register file partitions of an SM */
    int smem_per_sm, smem_per_block, smem_per_block_optin, smem_reserved_per_block;
    int smem_alloc_unit;           /* shared memory is given to blocks in units of this size */
    /* Shared memory sizes (KiB) an SM can be configured to, ascending; the carve-out
     * preference picks one. None on architectures with a fixed split (sm_5x, sm_6x). */
    int carveout_kib[12];
    int num_carveouts;
} cutune_arch;

/* Accepts "sm_90", "sm_90a", "compute_90", "90" and "9.0". Unknown: CUTUNE_ENOTFOUND with the
 * list of known ones. The occupancy functions below are pure: thread-safe, no allocation. */
int cutune_arch_find(const char *name, cutune_arch *arch);
/* NULL-terminated list of the architectures in cutune's tables. */
const char *const *cutune_arch_names(void);
/* The table entry of the device's compute capability with the device's own reported limits
 * and SM count; CUTUNE_ENOTSUP for a compute capability cutune has no table for. */
int cutune_arch_from_device(const cutune_device_info *info, cutune_arch *arch);

/* What one block of a launch asks of an SM. */
typedef struct cutune_block_resources {
    int threads;               /* threads per block, >= 1 */
    int regs;                  /* registers per thread, as the compiler reports them */
    size_t static_smem;        /* bytes of __shared__ variables */
    size_t dynamic_smem;       /* bytes of dynamic shared memory */
    /* The kernel's cudaFuncAttributeMaxDynamicSharedMemorySize. 0: raised to dynamic_smem,
     * which is what cutune does before it launches a configuration. */
    size_t max_dynamic_smem;
    /* cudaFuncAttributePreferredSharedMemoryCarveout: -1 no preference, else 0..100 (% of
     * the largest shared memory size). Ignored on sm_5x and sm_6x. */
    int carveout;
} cutune_block_resources;

enum cutune_limiter {
    CUTUNE_LIMIT_WARPS = 1,         /* warp slots of the SM (the block size) */
    CUTUNE_LIMIT_REGISTERS = 2,
    CUTUNE_LIMIT_SHARED_MEMORY = 4,
    CUTUNE_LIMIT_BLOCKS = 8         /* the most blocks an SM holds, whatever their size */
};

typedef struct cutune_occupancy {
    int blocks_per_sm;              /* 0: the launch cannot run; `reason` says why */
    int warps_per_sm;               /* active warps */
    int max_warps_per_sm;
    double occupancy;               /* warps_per_sm / max_warps_per_sm */
    unsigned limiters;              /* the CUTUNE_LIMIT_* whose bound equals blocks_per_sm */
    /* Blocks per SM each resource alone allows; INT_MAX when it sets no bound. */
    int blocks_by_warps, blocks_by_regs, blocks_by_smem, blocks_by_blocks;
    int regs_per_block;             /* registers allocated to one block */
    size_t smem_per_block;          /* shared memory allocated to one block (reserve included) */
    size_t smem_per_sm;             /* the SM's shared memory size the carve-out comes to */
    char reason[160];               /* why no block fits, when blocks_per_sm is 0 */
} cutune_occupancy;

/* The occupancy of a launch. Invalid input (threads < 1, regs < 0, a carve-out outside
 * -1..100, a NULL) is an error; a launch over a limit (1025 threads, 300 registers, too
 * much shared memory) is a result of 0 blocks with the reason. */
int cutune_occupancy_compute(const cutune_arch *arch, const cutune_block_resources *launch,
                             cutune_occupancy *occ);
/* Only the number of blocks per SM: the same answer, for bulk use (pruning, --batch).
 * Returns it, or a negative status for invalid input. */
int cutune_occupancy_blocks(const cutune_arch *arch, const cutune_block_resources *launch);
/* The same for n launches on one architecture, checked once: blocks[i], or -CUTUNE_EINVAL
 * for a launch with invalid input. */
int cutune_occupancy_blocks_many(const cutune_arch *arch, const cutune_block_resources *launches,
                                 size_t n, int *blocks);

/* What would lift the occupancy of a launch, each change taken alone. */
typedef struct cutune_occupancy_advice {
    int more_blocks;        /* the next number of blocks that would raise occupancy; 0 if none */
    int regs_for_more;      /* most registers per thread at which more_blocks fit as far as
                               registers go; -1 when registers are not what stops them */
    long smem_for_more;     /* most shared memory per block (static + dynamic, bytes) at which
                               more_blocks fit as far as shared memory goes; -1 likewise */
    int best_threads;       /* the block size with the highest occupancy at these registers
                               and shared memory (the largest such, as the runtime's
                               cudaOccupancyMaxPotentialBlockSize picks it); 0 if none runs */
    int best_blocks;        /* blocks per SM at best_threads */
    double best_occupancy;
    char text[512];         /* all of it in words, with the limiter first */
} cutune_occupancy_advice;

/* What would lift the occupancy of this launch (as cutune_occupancy_compute checks input). */
int cutune_occupancy_advise(const cutune_arch *arch, const cutune_block_resources *launch,
                            cutune_occupancy_advice *advice);

/* The block size with the highest occupancy (the largest of equals), like the runtime's
 * cudaOccupancyMaxPotentialBlockSize: launch->threads is ignored; with `smem_for_threads`
 * the dynamic shared memory depends on the block size, else it is launch->dynamic_smem.
 * min_grid (may be NULL) is blocks per SM x sm_count (0 when the SM count is unknown). */
int cutune_occupancy_best_block(const cutune_arch *arch, const cutune_block_resources *launch,
                                size_t (*smem_for_threads)(int threads, void *user), void *user,
                                int *threads, int *blocks_per_sm, int *min_grid);

/* ------------------------------------------------------------------------------------------
 * A kernel's run, from the KernelSpecification of a T1 spec: Language (absent, "CUDA", or
 * Kernel Tuner's "CuPy" and "NVCUDA", in any case: cutune compiles CUDA only, and a kernel
 * of any other language is refused with CUTUNE_ENOTSUP when it loads; its space alone still
 * loads), KernelName, KernelFile (beside the spec), CompilerOptions, ProblemSize, the block
 * (LocalSize X/Y/Z expressions; default block_size_x/y/z, else 1), the grid (ProblemSize
 * divided by the product of GridDivX/Y/Z, rounded up, as Kernel Tuner's grid_div_x/y/z;
 * default: by the block size), SharedMemory (dynamic bytes, an expression), Seed, and the
 * Arguments: each a Name, a Type, MemoryType Vector (a device buffer of Size elements, an
 * expression in ProblemSize and the parameters, where a parameter stands for the list of its
 * values: max(filter_width)) or Scalar (FillValue, by value); FillType Constant (FillValue),
 * Zeros, Random (uniform in [0, FillValue), from Seed) or File (Path, raw binary); AccessType
 * ReadOnly, WriteOnly or ReadWrite (anything but ReadOnly: the kernel may write it, and it is
 * restored before each launch); Output true or 1 to check it against the reference (only
 * Output makes an output: a written argument without it is not compared); the pass test per
 * output, Tolerance (cutune's, default 1e-4) or Atol and Rtol (Kernel Tuner's; see
 * cutune_kernel_arg); MemType Constant to copy it also into the __constant__ symbol of that
 * name. FillValue may be a number or an expression, in the same scope as Size
 * ("ProblemSize[0]").
 * ProblemSizeDefines (a cutune extension) names up to 3 macros that receive the problem
 * size when the kernel is compiled, for kernels whose sizes are compile-time constants.
 * GlobalSize is not used (cutune_spec_ignored_fields lists what is not).
 *
 * ProblemSize: one entry or a list of 1 to 3, each a positive integer (at most 2^40) or an
 * expression (a string), as Kernel Tuner's problem_size may be ("num_blocks", "4096*2"). A
 * constant expression is evaluated when the spec loads. An entry that names tuning
 * parameters makes that dimension the configuration's: launch geometry
 * (cutune_kernel_geometry, _geometry_at, whatever size they are given for that dimension),
 * Cooperative, and ProblemSize inside LocalSize, GridDiv and SharedMemory take its value for
 * the configuration. Where one value must serve the whole spec (argument Sizes and
 * FillValues, cutune_kernel_problem, the problem size the profile store keys by) the
 * dimension is its largest value over every combination of the named parameters' values (at
 * most 2^20 combinations, evaluated within 4 s for all entries, else CUTUNE_ETOOBIG). Such a dimension cannot be replaced by a
 * problem size given (cutune_kernel_load_t1_sized, --problem: CUTUNE_EINVAL) nor have a
 * ProblemSizeDefines macro. Every value must lie in 1..2^40 (CUTUNE_ERANGE names the values
 * for which it does not); messages name the file and JSON path.
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_kernel cutune_kernel;

typedef enum cutune_elem_type {
    CUTUNE_FLOAT32 = 0, CUTUNE_FLOAT64, CUTUNE_INT32, CUTUNE_UINT32, CUTUNE_INT64,
    CUTUNE_UINT64, CUTUNE_INT8, CUTUNE_UINT8
} cutune_elem_type;
/* Bytes of one element (4 for CUTUNE_FLOAT32); 0 for a value outside the enum. */
size_t cutune_elem_size(cutune_elem_type type);

typedef enum cutune_fill {
    CUTUNE_FILL_ZEROS = 0, CUTUNE_FILL_CONSTANT, CUTUNE_FILL_RANDOM, CUTUNE_FILL_FILE
} cutune_fill;

typedef struct cutune_kernel_arg {
    const char *name;
    cutune_elem_type type;
    int scalar;       /* 1: passed by value, FillValue */
    uint64_t count;   /* elements (1 for a scalar) */
    cutune_fill fill;
    double value;     /* FillValue */
    const char *file; /* for CUTUNE_FILL_FILE */
    int written;      /* the kernel may write it (AccessType other than ReadOnly): restored
                         before each launch */
    int output;       /* Output true or 1: checked against the reference (AccessType alone
                         never makes an output) */
    double tolerance; /* cutune's test (Tolerance): |x - ref| <= tolerance * max(1, |ref|) */
    int constant;     /* also copied into the __constant__ symbol of this name */
    /* Kernel Tuner's test instead (allclose 1, when the spec gives Atol or Rtol): |x - ref|
     * <= atol + rtol * |ref|, numpy.allclose's form with Kernel Tuner's defaults for the one
     * not given (atol 1e-6, rtol 1e-5). Either test: an output equal to the reference
     * passes (equal infinities too); a NaN, or an infinity where the reference has another
     * value, fails. (numpy.allclose(answer, output), as Kernel Tuner calls it, scales rtol
     * by the output's magnitude; cutune by the reference's.) */
    int allclose;
    double atol, rtol;
} cutune_kernel_arg;

/* The space gives the parameter names and must outlive the kernel. CUTUNE_EIO: unreadable;
 * CUTUNE_EPARSE: bad JSON or expression; CUTUNE_EINVAL: a KernelSpecification that lacks
 * or misstates something (the message names it); CUTUNE_ERANGE: sizes out of range. A
 * loaded kernel is read-only: share it between threads freely. */
int cutune_kernel_load_t1(const char *path, const cutune_space *space, cutune_kernel **out);
/* The same at another problem size than the spec's (3 sizes; 0 or 1 for unused dimensions;
 * no more dimensions than the spec's ProblemSize has): buffer sizes follow it. */
int cutune_kernel_load_t1_sized(const char *path, const cutune_space *space,
                                const int64_t problem[3], cutune_kernel **out);
void cutune_kernel_free(cutune_kernel *kernel);
const char *cutune_kernel_name(const cutune_kernel *kernel);
const char *cutune_kernel_file(const cutune_kernel *kernel); /* NULL when the spec names none */
/* The spec's ProblemSize (unused dimensions 1; a dimension that names parameters, its
 * largest value); returns how many dimensions it gives. */
int cutune_kernel_problem(const cutune_kernel *k, int64_t problem[3]);
size_t cutune_kernel_num_options(const cutune_kernel *kernel);
const char *const *cutune_kernel_options(const cutune_kernel *kernel);
size_t cutune_kernel_num_args(const cutune_kernel *kernel);
const cutune_kernel_arg *cutune_kernel_arg_at(const cutune_kernel *kernel, size_t i);
uint64_t cutune_kernel_seed(const cutune_kernel *kernel);
/* ProblemSizeDefines: the macro that receives problem dimension d (0..2) when the kernel is
 * compiled ("image_width"), or NULL (a kernel that takes its sizes as arguments). */
const char *cutune_kernel_size_define(const cutune_kernel *kernel, int d);
/* Getters on NULL give 0 or NULL; an argument index past the last gives NULL. */
/* Reads an answer file for output `argument`: the argument's contents exactly, raw
 * (little-endian elements of its Type, count * element size bytes, nothing more) or NumPy's
 * .npy (format version 1, 2 or 3; the little-endian dtype of its Type, '<f4' for float;
 * C order, or Fortran order with at most one dimension above 1; a shape of count elements).
 * A file named *.npy, or starting with .npy's magic, is read as .npy. data NULL: only
 * checks the file (its header and size), reading no data; else *data is malloc'd (free()
 * it) and *bytes its size. CUTUNE_ENOTFOUND: no such argument; CUTUNE_EINVAL: an argument
 * that is no output (a scalar, or no Output), a file that does not match: the message
 * names the file, the argument, what was expected and what was found; CUTUNE_EIO:
 * unreadable. Thread-safe. */
int cutune_kernel_read_answer(const cutune_kernel *kernel, const char *argument,
                              const char *path, void **data, size_t *bytes);
/* Grid, block and dynamic shared memory of a configuration; CUTUNE_ERANGE when a size does
 * not fit its type, CUTUNE_EDOMAIN (and the like) when an expression cannot be evaluated. */
int cutune_kernel_geometry(const cutune_kernel *kernel, const uint32_t *config,
                           unsigned grid[3], unsigned block[3], size_t *dynamic_smem);
/* The same at another problem size (3 sizes, as cutune_kernel_load_t1_sized's). */
int cutune_kernel_geometry_at(const cutune_kernel *kernel, const uint32_t *config,
                              const int64_t problem[3], unsigned grid[3], unsigned block[3],
                              size_t *dynamic_smem);
/* Whether a configuration at a problem size must be launched cooperatively, every block
 * resident at once, as a kernel with a grid-wide barrier needs: KernelSpecification.
 * Cooperative (cutune's extension to T1: true, false or an expression such as
 * "ProblemSize[1] > 1"; absent means false). The launch then fails cleanly, instead of
 * hanging, when the grid cannot be resident at once. */
int cutune_kernel_cooperative_at(const cutune_kernel *kernel, const uint32_t *config,
                                 const int64_t problem[3], int *cooperative);

/* ------------------------------------------------------------------------------------------
 * What else a T1 spec says: the search it asks for, and the fields cutune does not use.
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_spec_search {
    /* Search.Name as cutune's strategy name (Kernel Tuner's names are taken: bayes_opt is
     * "bo"; a static string); NULL when the spec names none, or one cutune lacks: then `name`
     * holds it and cutune_strategy_lookup(name, ...) says what is nearest. */
    const char *strategy;
    char name[64];          /* Search.Name as written ("" when none; cut at 63 bytes) */
    /* Budget (a list of {Type, BudgetValue}; every entry applies, each Type at most once),
     * and Kernel Tuner's Search.Attributes max_fevals and time_limit, which Budget overrides.
     * A BudgetValue may be a number or a constant expression ("2 * 3600"). 0: not given. */
    uint64_t budget;        /* ConfigurationCount: evaluations, 1 to 2^53 */
    double budget_fraction; /* ConfigurationFraction: of the space's valid configurations,
                               in (0, 1]; cutune tune evaluates ceil(fraction x valid) */
    double time_limit_s;    /* TuningDuration: seconds, in (0, 1e9] (search options'
                               time_limit_s) */
} cutune_spec_search;

/* Reads a spec's Search and Budget. CUTUNE_EIO, CUTUNE_EPARSE: the file cannot be read or is
 * not JSON; CUTUNE_EINVAL: a Search, Budget or Attributes entry of the wrong shape, a Budget
 * Type other than the three (the message names it), a Type twice; CUTUNE_ERANGE: a budget
 * out of the ranges above (a negative count, a fraction above 1). An unknown Search.Name is
 * no error here (see `strategy`). cutune tune takes these as defaults that --strategy,
 * --budget and --time-limit override. */
int cutune_spec_read_search(const char *path, cutune_spec_search *out);

/* The fields of a spec that cutune does not use, by JSON path in the order of the file:
 * "General.OutputFormat", "KernelSpecification.GlobalSize", "KernelSpecification.Stream",
 * "BenchmarkConfig", "KernelSpecification.Arguments[0] (power).TypeSize",
 * "Search.Attributes[1] (popsize)" (an item of a list is named as in messages: its index,
 * and its Name when it has one). A field cutune reads is not listed whatever its value (a
 * wrong value is the loaders' error). *fields receives one malloc'd block of NUL-terminated
 * paths, one after the other, ending with an empty string (free() it); *count their number.
 * CUTUNE_EIO, CUTUNE_EPARSE as above; CUTUNE_EINVAL: JSON that is not an object. */
int cutune_spec_ignored_fields(const char *path, char **fields, size_t *count);

/* A kernel's arguments on the GPU, allocated and filled as its spec's Arguments say (the
 * contents a tuning session's worker gives them): what a benchmark, or an application
 * running a shipped kernel, launches it with. At the kernel's problem size (load it with
 * cutune_kernel_load_t1_sized for another). Needs CUDA (CUTUNE_ENOTSUP without); arguments
 * that do not fit in the GPU's free memory are refused (CUTUNE_ENOMEM, with the sizes). */
typedef struct cutune_args cutune_args;
/* CUTUNE_ECUDA: allocation or copy failed (no device: CUTUNE_ENODEVICE or CUTUNE_ECUDA);
 * CUTUNE_EIO: a FillType File argument cannot be read. The kernel may be freed afterwards.
 * Not thread-safe while being made or freed; its buffers are the caller's to launch with. */
int cutune_args_new(cutune_args **out, const cutune_kernel *kernel);
/* cutune_launch's args: a pointer to each argument (to its device pointer, or to the
 * scalar), owned by `args`. */
void **cutune_args_params(cutune_args *args);
/* Argument i's initial contents on the host and their size (e.g. for a __constant__ one:
 * cutune_launcher_set_constant); NULL past the last. */
const void *cutune_args_host(const cutune_args *args, size_t i, size_t *bytes);
void cutune_args_free(cutune_args *args);

/* ------------------------------------------------------------------------------------------
 * Compilation: one configuration of a kernel to a cubin with NVRTC (loaded when first needed:
 * without the CUDA toolkit this fails with CUTUNE_ENOTSUP and says so). No GPU is needed.
 * Binaries are kept on disk, keyed by NVRTC's version, the architecture, the kernel, the
 * source, every file it includes (found as NVRTC finds them: the source's folder for
 * "quoted" names, then -I folders; the toolkit's own headers count through NVRTC's version)
 * and every define and option: asking again compiles nothing, and an edited header compiles
 * anew. The toolkit's include folder and its cccl/ (CUB, Thrust, libcu++) are searched after
 * the request's -I folders.
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_binary cutune_binary;

typedef struct cutune_compile_request {
    const char *source;                /* CUDA C++ source */
    size_t source_len;                 /* 0: strlen(source) */
    const char *source_name;           /* the source's file ("src/conv.cu"): messages name
                                          it and "quoted" includes start from its folder;
                                          NULL: "kernel.cu" */
    const char *kernel;                /* the __global__ function: "conv", "conv<float>" */
    const char *arch;                  /* "sm_90" */
    const char *const *defines;        /* "NAME=VALUE", passed as -D */
    size_t num_defines;
    const char *const *options;        /* further NVRTC options ("-std=c++17") */
    size_t num_options;
    const char *cache_dir;             /* NULL: $XDG_CACHE_HOME/cutune/kernels (or
                                          ~/.cache/...); "": no disk cache */
    char **log;                        /* if set: NVRTC's whole log (warnings, errors,
                                          ptxas's report), malloc'd for the caller to free,
                                          also when compiling failed; NULL when there is
                                          none (a request refused before NVRTC ran) */
} cutune_compile_request;

typedef struct cutune_binary_info {
    int regs;                 /* registers per thread (read from the cubin) */
    int barriers;
    size_t static_smem;       /* bytes of __shared__ variables */
    size_t stack_bytes;       /* stack frame per thread */
    size_t spill_bytes;       /* register spill stores per thread */
    int from_cache;           /* 1: read from the disk cache, nothing compiled */
    double compile_s;         /* NVRTC's time (0 from the cache) */
    const char *lowered_name; /* the kernel's symbol in the cubin */
    const char *log;          /* NVRTC's and ptxas's messages */
    const char *cache_path;   /* NULL without a disk cache */
    /* 1: the code is PTX, which the driver compiles as it loads it: NVRTC makes no cubin of
     * a kernel with more than 48 KiB of static shared memory, which nvcc and the driver
     * take on GPUs that have more (regs and static_smem are then ptxas's report of it) */
    int ptx;
} cutune_binary_info;

/* A compile error is CUTUNE_ECOMPILE with the first lines of the log in the message;
 * CUTUNE_ENOTSUP: NVRTC cannot be loaded (no CUDA toolkit). Thread-safe: compilations may
 * run on many threads at once and share the disk cache (also with other processes). */
int cutune_compile(const cutune_compile_request *request, cutune_binary **out);
/* The cubin (or PTX: cutune_binary_info.ptx): its bytes, owned by the binary, and their
 * number in *size. */
const void *cutune_binary_code(const cutune_binary *binary, size_t *size);
/* Strings in `info` live as long as the binary. */
int cutune_binary_get_info(const cutune_binary *binary, cutune_binary_info *info);
void cutune_binary_free(cutune_binary *binary);
/* NVRTC's version; CUTUNE_ENOTSUP when it cannot be loaded. */
int cutune_nvrtc_version(int *major, int *minor);

/* One configuration of a T1 spec's kernel as a tuning session compiles it: Kernel Tuner's
 * defines go ahead of the source, under `#line 1 "cutune-defines"`: grid_size_x/y/z (those
 * the source or a header it includes uses), block_size_x/y/z, every parameter (a
 * loop_unroll_factor* as a constexpr int; at 0 it is not defined and its `#pragma unroll
 * NAME` goes), the spec's ProblemSizeDefines and kernel_tuner 1; then `#line 1
 * "SOURCE_NAME"` and the source, so that messages keep the file's own lines. NVRTC's
 * options: the spec's CompilerOptions, then the request's. */
typedef struct cutune_config_request {
    const cutune_space *space;   /* the space of `config` */
    const cutune_kernel *kernel; /* the spec's KernelSpecification (launch, name, options);
                                    NULL: none (the block from block_size_x/y/z, no
                                    grid_size_*, the name from kernel_name) */
    const uint32_t *config;      /* a valid configuration's value indices */
    const int64_t *problem;      /* 3 sizes; NULL: the kernel's (cutune_kernel_problem) */
    const char *source;          /* the kernel's CUDA source, NUL-terminated */
    const char *source_name;     /* as in cutune_compile_request */
    const char *arch;            /* "sm_90" (compiling only) */
    const char *cache_dir;       /* as in cutune_compile_request */
    const char *kernel_name;     /* the __global__ function instead of the spec's KernelName
                                    (needed to compile without a kernel) */
    const char *const *options;  /* NVRTC options after the spec's CompilerOptions */
    size_t num_options;
    char **log;                  /* as in cutune_compile_request (compiling only) */
} cutune_config_request;
/* Compiles the configuration through the binary cache, as cutune_compile. A source that
 * redefines one of the configuration's macros fails it (CUTUNE_ECOMPILE, the message naming
 * file and line, and `#ifndef kernel_tuner` as the way to give a default); a configuration
 * whose launch cannot be computed fails with the geometry's status (cutune_kernel_geometry).
 * Thread-safe, as cutune_compile. */
int cutune_compile_config(const cutune_config_request *request, cutune_binary **out);
/* The source NVRTC gets for the configuration (the defines, then the source), compiling
 * nothing: *source is malloc'd (free() it), *len its length. */
int cutune_config_source(const cutune_config_request *request, char **source, size_t *len);
/* What the compiler itself said in an NVRTC log (cutune_compile_request.log's): its errors
 * and warnings with the source lines they show, one a line, without ptxas's report or
 * NVRTC's closing remark; with warnings_only, nothing unless it warned. *lines is malloc'd
 * (free() it), or NULL when there is nothing to show (as for a NULL log). */
int cutune_compiler_messages(const char *log, int warnings_only, char **lines);

/* ------------------------------------------------------------------------------------------
 * The profile store: what tuning learnt, kept on disk (SQLite, WAL mode: several processes
 * may write at once) and in memory (a lock-free hash table: lookups never block and never
 * see a half-written profile). A profile is the best configuration known for a key: device
 * (name, compute capability, SM count, driver and runtime versions), kernel (name and source
 * hash), problem size and a user key; behind it are the sessions and every configuration
 * they evaluated.
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_store cutune_store;

/* Where the store lives when no path is given: $CUTUNE_DB, else
 * $XDG_DATA_HOME/cutune/profiles.db, else ~/.local/share/cutune/profiles.db. CUTUNE_EINVAL
 * when it does not fit in `size`; CUTUNE_ENOTFOUND when none of those (nor HOME) is set. */
int cutune_store_default_path(char *buf, size_t size);

enum {
    /* Never write (the file must exist: CUTUNE_ENOTFOUND otherwise, and nothing is
     * created). Every write on such a store (cutune_store_put, _import, _prune, _vacuum,
     * cutune_session_set_store) is refused with CUTUNE_EINVAL and "PATH was opened
     * read-only", before anything changes; every read works. What an application that only
     * asks should use. Such a store leaves no -wal or -shm file that was not there, and one
     * in a folder this user may not write (an installed store) is read as the file is at
     * the open (SQLite's immutable=1; cutune_store_refresh opens it anew once it changed). */
    CUTUNE_STORE_READONLY = 1,
};
/* Opens (creating it and its folder if need be) and loads every profile into memory. An
 * existing file opened for writing is first checked whole: SQLite's quick_check (its pages)
 * and every row's JSON, for at most $CUTUNE_STORE_CHECK_S seconds (default 2; 0: no check;
 * a store too large to check in that time is opened after the part checked). A damaged file
 * is CUTUNE_ECORRUPT and is left as it is, its -wal kept apart (and damage any later call
 * meets is CUTUNE_ECORRUPT too, saying cutune_store_recover salvages it); one written by a
 * newer cutune is refused (CUTUNE_ENOTSUP); CUTUNE_EIO when it cannot be opened or created
 * (the message says why: its folder or the file not writable by this user, ...). path NULL:
 * cutune_store_default_path().
 * Thread safety: every function on a store, and on the selectors, launchers and sessions
 * over it, may be called from any number of threads at once (lookups never block; writes
 * take a lock); cutune_store_free after every other call on it, its selectors', launchers'
 * and sessions' has returned and they are freed. Several processes may open the same file. */
int cutune_store_open(cutune_store **out, const char *path, int flags);
void cutune_store_free(cutune_store *store);
/* The database's path (owned by the store). */
const char *cutune_store_path(const cutune_store *store);
/* Takes in profiles other processes wrote since the store was opened or last refreshed
 * (a read-only store opened immutable is opened anew first when its file has changed).
 * Lookups running meanwhile see either the old or the new profile of each key; a profile
 * removed meanwhile (prune) stays in the map until the store is opened again. */
int cutune_store_refresh(cutune_store *store);

/* A kernel as the store knows it. */
typedef struct cutune_kernel_id {
    const char *name;
    const char *source_hash; /* cutune_source_hash() of its source; NULL: "" (unknown) */
    const char *user_key;    /* what else sets its profiles apart, e.g. "float"; NULL: "" */
} cutune_kernel_id;

/* 32 hex digits (XXH3-128) naming a kernel's source; buf needs 33 bytes. */
void cutune_source_hash(const char *source, size_t len, char buf[33]);
/* The hash that names a kernel's code in the profile store (cutune_kernel_id.source_hash),
 * as tuning sessions and launchers compute it: its source's, and with it the defines its
 * spec's CompilerOptions give (-DNAME[=V]), which change the code: copy, scale and triad
 * share stream.cu and differ only there. Without such defines it is cutune_source_hash's.
 * CUTUNE_EINVAL for NULLs; CUTUNE_ENOMEM. buf: 33 bytes. Thread-safe. */
int cutune_kernel_source_hash(const cutune_kernel *kernel, const char *source, size_t len,
                              char buf[33]);

typedef struct cutune_profile {
    int64_t id;
    const char *device;
    int cc_major, cc_minor, sm_count, driver_version, runtime_version;
    const char *kernel, *source_hash, *user_key;
    int64_t problem[3];   /* unused dimensions are 1 */
    const char *params;   /* parameter names, comma-separated */
    const char *config;   /* the best configuration: values in that order, comma-separated */
    double time_ms, median_ms, std_ms;
    const char *strategy;
    uint64_t budget, evaluations; /* evaluations: of the sessions behind it */
    int64_t session;      /* the session that found it */
    double updated;       /* Unix time */
    /* The 95% interval of median_ms (NaN: not known; 0s as NaNs, for a caller that leaves
     * them out). */
    double median_lo_ms, median_hi_ms;
} cutune_profile;

/* Keeps `p` unless the store holds a faster profile for the same key (then CUTUNE_OK and
 * nothing changes). p->id, evaluations and updated are set by the store; its strings are
 * copied. CUTUNE_EINVAL: a missing name, params, config or strategy, a negative problem size,
 * a time that is negative or not a number, a read-only store; CUTUNE_EIO: the database
 * could not be written (nothing is published then). Lookups see the new profile whole, or
 * the old one. */
int cutune_store_put(cutune_store *store, const cutune_profile *p);

typedef enum cutune_select_rule {
    CUTUNE_SELECT_EXACT = 0,          /* this device, kernel, size and user key */
    CUTUNE_SELECT_NEAREST_SIZE = 1,   /* this GPU (any driver), the nearest problem size */
    CUTUNE_SELECT_SIMILAR_DEVICE = 2, /* the most similar GPU, then the nearest size */
    CUTUNE_SELECT_DEFAULT = 3         /* nothing known: use the kernel's defaults */
} cutune_select_rule;

/* Bytes of a configuration's key (its values joined by commas), and of its parameters' names
 * joined by commas, the NUL included. A space whose longest key or whose names would need more
 * is refused as it is built: every key fits a cutune_selection, the store and the cache
 * files whole, so no two configurations can share a key cut short. */
#define CUTUNE_KEY_MAX 512

typedef struct cutune_selection {
    cutune_select_rule rule;
    int64_t profile;       /* 0 with CUTUNE_SELECT_DEFAULT */
    double time_ms;        /* as measured for that profile; NaN with the default */
    int64_t problem[3];    /* the profile's problem size */
    char params[CUTUNE_KEY_MAX]; /* as in cutune_profile ("" with the default) */
    char config[CUTUNE_KEY_MAX];
} cutune_selection;

/* The configuration to run kernel K at this problem size on this device: never blocks, safe
 * from any number of threads. problem: 3 sizes, 0 or 1 for unused dimensions. A store that
 * knows nothing of the kernel is no error: the rule is CUTUNE_SELECT_DEFAULT. device needs
 * only name, cc_major, cc_minor and sm_count (and the versions, for an exact match), so an
 * application may describe a GPU it is not running on. */
int cutune_select(cutune_store *store, const cutune_device_info *device,
                  const cutune_kernel_id *kernel, const int64_t problem[3],
                  cutune_selection *out);
/* "exact", "nearest size", "similar device", "default"; "?" for another value. */
const char *cutune_select_rule_name(cutune_select_rule rule);

/* cutune_select for one kernel on one device, prepared once: what an application asks on
 * every launch costs only the problem size's part of the key. The store must outlive it;
 * thread-safe. */
typedef struct cutune_selector cutune_selector;
int cutune_selector_new(cutune_selector **out, cutune_store *store,
                        const cutune_device_info *device, const cutune_kernel_id *kernel);
int cutune_selector_get(const cutune_selector *selector, const int64_t problem[3],
                        cutune_selection *out);
void cutune_selector_free(cutune_selector *selector);

/* Every profile, ordered by kernel, device and size; stops at a nonzero return (which is
 * returned). The profile's strings are valid during the callback only. The callback must
 * not call back into the same store. cutune_store_get: one profile, CUTUNE_ENOTFOUND when
 * there is no such id. */
typedef int (*cutune_profile_fn)(const cutune_profile *p, void *user);
int cutune_store_list(cutune_store *store, cutune_profile_fn fn, void *user);
int cutune_store_get(cutune_store *store, int64_t id, cutune_profile_fn fn, void *user);
/* Removes profiles (and the sessions behind them) not updated for `older_than_s` seconds
 * (0: all) whose kernel is `kernel` (NULL: any); *removed counts them. */
int cutune_store_prune(cutune_store *store, const char *kernel, double older_than_s,
                       uint64_t *removed);
/* Gives free pages back to the file system and folds the WAL into the database. (Prune and
 * vacuum write: refused on a read-only store.) */
int cutune_store_vacuum(cutune_store *store);
/* A tuning session belongs to one run at a time; one whose run is provably gone (of this
 * machine) is taken over by the next --resume. This frees session `session` of whatever run
 * holds it, for a run on another machine that is gone, which cutune cannot prove: the next
 * --resume goes on with it. `held` (may be NULL) receives who held it ("process P on HOST
 * since TIME", or "" for none). CUTUNE_ENOTFOUND when there is no such session. */
int cutune_store_release_session(cutune_store *store, int64_t session, char *held,
                                 size_t held_size);
/* Salvages what SQLite can still read of a damaged store into a new store at the same path:
 * the keys each table's b-tree reaches from the front and from the back (rows below a
 * damaged interior page are lost), then each row alone; rows whose JSON does not parse are
 * left out (a session's header becomes {}). The damaged file, its -wal and -shm are kept
 * beside it as PATH.damaged-<time>[-N] (+ -wal, -shm), a name nothing had (named in *kept,
 * may be NULL): nothing is overwritten, and every file that was there keeps its bytes
 * (under its name, or that one). *rows counts the rows saved. A
 * damaged store is a regular file starting with SQLite's header, whose tables are cutune's
 * (at least one, no other) of a schema version up to this cutune's, in which SQLite's
 * integrity_check finds a problem, a table does not read to its end, or a row's JSON does
 * not parse. Anything else is refused and left as it is: CUTUNE_ENOTFOUND (no file),
 * CUTUNE_EINVAL (a folder, a link, no SQLite file, another program's, a healthy store),
 * CUTUNE_ENOTSUP (a newer cutune's), CUTUNE_ECORRUPT (not even its list of tables reads). */
int cutune_store_recover(const char *path, uint64_t *rows, char *kept, size_t kept_size);

/* Other tools' files. Import reads a Kernel Tuner cache file (.json or .json.gz) or a T4
 * results file as one session (device and kernel from the file; the problem size from its
 * "problem_size" when it has one) and updates the profile; *session receives its id. */
int cutune_store_import(cutune_store *store, const char *path, const char *user_key,
                        int64_t *session);
typedef enum cutune_format { CUTUNE_FORMAT_KERNEL_TUNER = 0, CUTUNE_FORMAT_T4 = 1 } cutune_format;
/* Every configuration evaluated for profile `id` (by all its sessions; the latest
 * measurement of each), as the text of a Kernel Tuner cache file or of T4 results (JSON,
 * malloc'd into *text: free() it). */
int cutune_store_export(cutune_store *store, int64_t id, cutune_format format, char **text);

/* ------------------------------------------------------------------------------------------
 * The pinned host memory pool: page-locked buffers handed out and taken back without locks.
 * Buffers come in size classes (4 KiB times a power of two); those under the slab size are
 * cut from slabs, larger ones are allocated alone. A buffer given back with a CUDA event is
 * not handed out again before the event has completed (stream-ordered reuse). The memory
 * underneath comes from a backend: CUDA's (cudaHostAlloc, cudaFreeHost, cudaEventQuery,
 * cudaHostRegister) by default, or one the caller supplies (tests use malloc).
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_pool cutune_pool;

typedef struct cutune_pool_backend {
    int (*alloc)(void *user, size_t bytes, void **out); /* page-locked bytes, or a status */
    void (*free)(void *user, void *ptr, size_t bytes);
    /* 1: the event has completed; 0: not yet; negative: it failed (the work it guards is
     * over either way) */
    int (*event_done)(void *user, void *event);
    int (*register_host)(void *user, void *ptr, size_t bytes); /* may be NULL: ENOTSUP */
    void (*unregister_host)(void *user, void *ptr);
    void *user;
} cutune_pool_backend;

typedef struct cutune_pool_options {
    size_t max_pinned;  /* cap on pinned bytes, the registered ones included (0: none); when
                           growing would pass it, idle buffers are trimmed first */
    size_t slab_bytes;  /* what small buffers are cut from (0: 2 MiB; a power of two from
                           64 KiB to 1 GiB) */
    const cutune_pool_backend *backend; /* NULL: CUDA's */
} cutune_pool_options;

/* A buffer: `bytes` is its size class's, at least what was asked; `id` names it to the
 * pool. */
typedef struct cutune_buffer {
    void *ptr;
    size_t bytes;
    uint32_t id;
} cutune_buffer;

typedef struct cutune_pool_stats {
    uint64_t hits;          /* allocations served by an idle buffer */
    uint64_t misses;        /* allocations that had to pin more memory */
    uint64_t waits;         /* idle buffers passed over because their event was pending */
    size_t pinned_bytes;    /* held from the backend, and registered */
    size_t high_water;      /* the most pinned_bytes has been */
    size_t in_use_bytes;    /* handed out and not given back */
    size_t registered_bytes;
} cutune_pool_stats;

/* options NULL: the defaults. CUTUNE_EINVAL: a slab size that is no power of two in range.
 * Every pool function but cutune_pool_free is thread-safe. */
int cutune_pool_new(cutune_pool **out, const cutune_pool_options *options);
/* Gives every buffer back to the backend, handed out or not. */
void cutune_pool_free(cutune_pool *pool);
/* A buffer of at least `bytes` (1 byte to 1 TiB); thread-safe, without locks unless the
 * pool must grow. CUTUNE_ENOMEM: the backend has no more, or max_pinned would be passed. */
int cutune_pool_alloc(cutune_pool *pool, size_t bytes, cutune_buffer *out);
/* Gives a buffer back. With `event` (a cudaEvent_t recorded after the last work that uses
 * the buffer; it must stay valid until then), the buffer is not handed out before the event
 * has completed. A buffer given back twice, or not of this pool: CUTUNE_EINVAL. */
int cutune_pool_release(cutune_pool *pool, const cutune_buffer *buffer, void *event);
/* Page-locks the caller's memory (cudaHostRegister) and counts it as pinned; the memory
 * stays the caller's. CUTUNE_ENOTSUP: a backend without register_host. */
int cutune_pool_register(cutune_pool *pool, void *ptr, size_t bytes);
int cutune_pool_unregister(cutune_pool *pool, void *ptr);
/* Gives idle buffers (and slabs all of whose buffers are idle) back to the backend until at
 * most `keep_bytes` are pinned, or nothing idle is left. */
int cutune_pool_trim(cutune_pool *pool, size_t keep_bytes);
/* A snapshot of the counters (zeros for a NULL pool). */
void cutune_pool_get_stats(cutune_pool *pool, cutune_pool_stats *stats);

/* ------------------------------------------------------------------------------------------
 * The copy/compute pipeline: data goes to the GPU, through a computation and back in
 * chunks, so that copying one chunk in, computing on another and copying a third out
 * overlap. Three streams (copies in, compute, copies out) and per-slot events order each
 * chunk's stages; `depth` chunks are in flight. Host buffers may be pinned (copied directly)
 * or pageable (staged through pinned buffers of the pool).
 * ---------------------------------------------------------------------------------------- */

/* Enqueues the computation of one chunk on `stream` (a cudaStream_t): `in` and `out` are
 * device buffers of `bytes` bytes holding the chunk at `offset` of the data. Returns
 * CUTUNE_OK, or a status that stops the pipeline (it is returned). */
typedef int (*cutune_compute_fn)(void *user, void *stream, const void *in, void *out,
                                 size_t offset, size_t bytes);

typedef struct cutune_pipeline_options {
    size_t chunk_bytes;  /* 0: 8 MiB */
    int depth;           /* chunks in flight, 1 to 16 (0: 3; 1: no overlap) */
    cutune_pool *pool;   /* for staging pageable data (NULL: a pool of the pipeline's own) */
    int device;          /* the CUDA device (the calling thread's is set to it) */
    int copy_threads;    /* threads copying pageable data to and from staging, the caller's
                            included (0: 4 with more than 8 CPUs, else half of them) */
} cutune_pipeline_options;

typedef struct cutune_pipeline_stats {
    double seconds;      /* wall time of the whole run */
    size_t chunks;
    int staged_in, staged_out; /* 1: that side was pageable and went through pinned buffers;
                                  0 with pageable data: no pinned memory could be had, and it
                                  was copied directly (slower) */
} cutune_pipeline_stats;

/* Runs `bytes` of `in` through `compute` into `out` (as many bytes). `bytes` need not be a
 * multiple of the chunk; 0 bytes is nothing to do. The first failure of any stage stops the
 * pipeline: what was enqueued drains, and the failure is returned. stats may be NULL.
 * CUTUNE_ENOTSUP without CUDA, CUTUNE_ECUDA for a failed copy. Runs on the calling thread
 * (and its copy threads); several pipelines may run at once on different threads. */
int cutune_pipeline_run(const void *in, void *out, size_t bytes, cutune_compute_fn compute,
                        void *user, const cutune_pipeline_options *options,
                        cutune_pipeline_stats *stats);

/* ------------------------------------------------------------------------------------------
 * Tuned launches: an application runs a kernel of a T1 spec with the configuration the
 * profile store selects for its GPU and problem size, without knowing the kernel's
 * parameters. Each configuration is compiled once (through the binary cache) and loaded
 * with the CUDA runtime; launches go to the calling thread's current device, which must be
 * the launcher's (cudaSetDevice). A
 * selected configuration that cannot run here (its block or shared memory does not fit this
 * GPU, its parameters are not the spec's) gives way to the spec's default configuration.
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_launcher cutune_launcher;

typedef struct cutune_launcher_options {
    int device;              /* CUDA device ordinal */
    const char *user_key;    /* the profiles' user key (NULL: "") */
    const char *cache_dir;   /* the binary cache (see cutune_compile_request) */
    /* Online mode: a launch at a problem size with no exact profile starts, once per size, a
     * background `cutune tune` of it into the store (a separate process: its worker needs a
     * process of its own), and the launcher takes in the profile when it is done. */
    int online;
    const char *cutune_path; /* the cutune command (NULL: $CUTUNE_CLI, else "cutune") */
    const char *online_args; /* further arguments, e.g. "--budget 60" (NULL: none) */
} cutune_launcher_options;

/* spec: the T1 spec (with its KernelSpecification); kernel_file NULL: the spec's KernelFile.
 * The store must outlive the launcher (it may be read-only, online mode too: the tuning
 * process writes the file, the launcher reads it). options
 * NULL: device 0, no user key, the default cache. CUTUNE_ENODEVICE: no GPU (or a build
 * without CUDA): an application can still ask the store with cutune_select for a described
 * device; the spec's statuses as cutune_kernel_load_t1's; CUTUNE_EINVAL: the spec has no
 * default configuration to fall back on. Every launcher function but cutune_launcher_free
 * is thread-safe. */
int cutune_launcher_new(cutune_launcher **out, cutune_store *store, const char *spec,
                        const char *kernel_file, const cutune_launcher_options *options);
void cutune_launcher_free(cutune_launcher *launcher);

/* Copies `bytes` into the kernel's __constant__ symbol `name` in every configuration loaded,
 * now and later (a spec argument with MemType Constant); `data` is copied.
 * CUTUNE_ENOTFOUND: no such symbol; CUTUNE_ERANGE: more bytes than it holds. */
int cutune_launcher_set_constant(cutune_launcher *launcher, const char *name, const void *data,
                                 size_t bytes);

typedef struct cutune_launch_info {
    cutune_selection selection; /* what the store answered */
    int fell_back;              /* 1: that configuration cannot run here; the default ran */
    char config[512];           /* the configuration launched, in the spec's parameter order */
    unsigned grid[3], block[3];
    size_t dynamic_smem;
    int compiled;               /* 1: this launch compiled (or read from the binary cache) and
                                   loaded its configuration */
    int tuning;                 /* 1: an online tuning session for this size is running */
    int regs;                   /* its registers per thread and static shared memory (bytes): */
    size_t static_smem;         /* with grid and block, what cutune_occupancy_compute needs */
} cutune_launch_info;

/* Launches the kernel for this problem size (3 sizes, 0 or 1 for unused dimensions; a 0 in a
 * dimension the spec's ProblemSize has is CUTUNE_EINVAL: an empty problem has no grid) on
 * `stream` (a cudaStream_t; NULL: the default stream), asynchronously. args as
 * cudaLaunchKernel's: a pointer to each of the kernel's parameters. Thread-safe; info may be
 * NULL. The first launch of a configuration compiles (or reads from the binary cache) and
 * loads it: CUTUNE_ECOMPILE, CUTUNE_ENOTSUP (no NVRTC); a failed launch is CUTUNE_ECUDA. */
int cutune_launch(cutune_launcher *launcher, const int64_t problem[3], void **args,
                  void *stream, cutune_launch_info *info);
/* What cutune_launch would run at this problem size, without launching: the store's answer
 * for this GPU (CUTUNE_SELECT_DEFAULT when it knows nothing). Thread-safe. */
int cutune_launcher_select(const cutune_launcher *launcher, const int64_t problem[3],
                           cutune_selection *out);

/* ------------------------------------------------------------------------------------------
 * Tuning on the GPU. A session loads a T1 spec with its KernelSpecification and the kernel's
 * source, and forks a worker process that owns the device (create sessions before compiling
 * anything with NVRTC in the same process: after that, forked processes cannot use CUDA).
 * A run measures the default configuration first (its outputs are the reference unless
 * cutune_session_set_verify says otherwise), then lets a strategy choose; each configuration
 * is compiled through the binary cache, pruned before compiling when its block cannot launch
 * and after compiling when its registers and shared memory leave no room for a block, timed
 * by the worker with CUDA events, and checked against the reference (each output with
 * "Output": 1, by its test: see cutune_kernel_arg). A configuration that fails, faults,
 * hangs or differs costs itself only.
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_session cutune_session;

typedef struct cutune_session_options {
    int device;            /* CUDA device ordinal; -1: none, the session measures nothing
                              itself (an executor does: cutune_session_set_executor) */
    int iterations;        /* timed launches per configuration (0: 7; at most 64) */
    int warmups;           /* launches before timing (0: 1) */
    int flush_l2;          /* clear the L2 cache before each timed launch */
    double timeout_s;      /* per configuration; 0: 10x the best time so far per launch,
                              at least 1 s */
    const char *cache_dir; /* the binary cache (see cutune_compile_request) */
    int compile_threads;   /* threads compiling ahead what the strategy will ask for next
                              (0: one fewer than the CPUs this process may run on;
                              -1: none); needs the disk cache */
    int64_t problem[3];    /* the problem size, instead of the spec's ProblemSize (all 0:
                              the spec's; see cutune_kernel_load_t1_sized) */
    /* Adaptive timing (0: `iterations` timed launches, always): after 6 timed launches, a
     * configuration is timed until the 95% confidence interval of its median (from the
     * order statistics: no distribution assumed) is within +-precision of it (0.01: 1%),
     * or until `iterations` launches (0: 64). Racing: one not yet that precise whose
     * interval lies wholly above the fastest time so far stops there, measured with what
     * was timed. NaN, negative or
     * 1 and above: CUTUNE_EINVAL. */
    double precision;
    /* The winner's confirmation: after the search, this many of the fastest configurations
     * (0: 5; -1: none) are timed again in rounds, one after another within each round so
     * that a drift of the clocks touches them alike, and the winner is the one with the
     * lowest median over those launches. Only where the objective is time, and the session
     * measures itself (not through an executor). */
    int confirm;
    /* Compiling ahead runs in helper processes, one per compile thread (NVRTC compiles one
     * thing at a time in a process); 1: on the threads themselves, in this process. */
    int compile_in_threads;
} cutune_session_options;

typedef struct cutune_session_stats {
    uint64_t compiled, from_cache, compile_failed, pruned_after_compile;
    uint64_t measured, runtime_failed, verification_failed, timeouts;
    double compile_s, run_s;  /* NVRTC time, and time in the worker */
    double pruned_saved_s;    /* runs not made for the configurations pruned after compiling,
                                 at the mean time of a run */
    uint64_t restored;        /* evaluations taken from the profile store (resume) */
    uint64_t warm_start;      /* configurations measured first because they were the fastest
                                 of an earlier session at the nearest other problem size */
    int64_t warm_start_problem[3]; /* that size (0s: none) */
    uint64_t timed_launches;  /* timed launches of the configurations measured */
    uint64_t raced;           /* configurations racing stopped before their median was as
                                 precise as asked (options.precision) */
    uint64_t raced_saved;     /* what that saved at most: the cap less the launches made */
    uint64_t throttled;       /* configurations whose timing NVML saw held down by power or
                                 heat, even when timed a second time */
    uint64_t throttle_retried; /* timings made a second time because the first was */
    uint64_t compile_waits;   /* configurations whose binary was not ready when the measuring
                                 side wanted it (it waited for a compilation, or made one) */
    double compile_wait_s;    /* the time those waits took */
    uint64_t compile_helpers_lost; /* compile helper processes that died (a compiler crash):
                                      their threads compiled in this process after */
} cutune_session_stats;

typedef struct cutune_session_result {
    cutune_search_result search; /* best_ms/best_entry include the default configuration */
    double default_ms;
    size_t default_entry;
    double best_median_ms, best_std_ms; /* of the best configuration's timed launches */
    double speedup;              /* default_ms / best_ms */
    int best_regs;
    cutune_session_stats stats;
    double seconds;
    /* The confirmation (cutune_session_options.confirm): how many configurations were timed
     * again, and the winner's median over those launches with its 95% interval (NaN: none
     * confirmed). search.best_entry is the confirmed winner; search_best_entry the fastest
     * by the search's own times (the same, unless confirming changed the winner). */
    uint32_t confirmed;
    double confirmed_ms, confirmed_lo_ms, confirmed_hi_ms;
    size_t search_best_entry;
    double best_lo_ms, best_hi_ms; /* the 95% interval of best_median_ms */
} cutune_session_result;

/* kernel_file NULL: the spec's KernelFile (beside the spec); options NULL: the defaults.
 * CUTUNE_ENODEVICE without a GPU; the spec's statuses as cutune_kernel_load_t1's. A session
 * is driven from one thread at a time (its compile threads are its own). */
int cutune_session_new(cutune_session **out, const char *spec, const char *kernel_file,
                       const cutune_session_options *options);
/* A session over a custom objective (see cutune_objective_fn) instead of a kernel: anything
 * with parameters, such as a library call or a copy pipeline's chunk size, tuned by the same
 * strategies and reported the same way. It runs in this process, with no worker and nothing
 * to compile; the space must outlive the session; `name` (NULL: "objective") stands for the
 * kernel's name in the files it writes. A run measures the space's default configuration
 * first when it has one (for the speedup; a failure there is no error). The objective's
 * value is recorded as a time; set_reference, precompile and explain do not apply
 * (CUTUNE_ENOTSUP). */
int cutune_session_new_objective(cutune_session **out, const cutune_space *space,
                                 const char *name, cutune_objective_fn objective, void *user);
/* A session over a recorded space (a Kernel Tuner cache file, which must outlive it): its
 * configurations are the cache's entries and each measurement is the recorded one, after
 * `delay_ms` of sleep standing in for the GPU's time (0: none). No default configuration is
 * measured first. What cutune_simulate does, with what sessions add: the profile store
 * (checkpoints, resume) and executors; the same seed gives the same search. */
int cutune_session_new_cache(cutune_session **out, const cutune_cache *cache, double delay_ms);
/* options->arch is set by the session (the device's); a batch of 0 becomes 4 when the
 * session compiles ahead (at most a tenth of the budget). The callback sees each
 * evaluation, on the calling thread. Statuses as cutune_optimize's (a callback's nonzero
 * return stops the run with that status); CUTUNE_EIO when the store cannot be written. */
int cutune_session_run(cutune_session *session, const cutune_search_options *options,
                       cutune_evaluation_fn on_evaluation, void *user,
                       cutune_session_result *result);
/* Keeps the session in a profile store: each evaluation is written as it completes (a
 * killed session loses nothing that finished), and the best becomes the profile of this
 * device, kernel (name and source hash), problem size and user key. With `resume`, what
 * earlier sessions of the same key and space measured is taken as measured (the default
 * configuration, whose outputs are the reference, runs again), and an unfinished session
 * goes on. A run warm-starts: the fastest configurations of earlier sessions of the same
 * kernel, GPU and space at the nearest other problem size (a tenth of the budget, at most
 * 5) are measured right after the default. The store must outlive the run; a read-only
 * store is refused (CUTUNE_EINVAL). store NULL: keep nothing. A session is one run's at a
 * time (the store notes its process: pid, start time, host): cutune_session_run fails with
 * CUTUNE_EBUSY, saying who runs it and since when, when `resume` would go on with a session
 * another run has, unless that run's process is provably gone (on this host, and its pid
 * not alive or another process's; or the host restarted since). A run gives its session
 * up when it ends (finished, stopped by the caller, or failed). */
int cutune_session_set_store(cutune_session *session, cutune_store *store,
                             const char *user_key, int resume);
/* Compiles every configuration of the space into the binary cache on `threads` CPU threads,
 * before a run that will visit many of them (brute force). CUTUNE_ENOTSUP for an objective
 * session or without NVRTC. */
int cutune_session_precompile(cutune_session *session, int threads, uint64_t *compiled,
                              uint64_t *failed);
/* The session's device and space (owned by the session; NULL for a NULL session). */
const cutune_device_info *cutune_session_device(const cutune_session *session);
const cutune_space *cutune_session_space(const cutune_session *session);
/* The key of entry i (an index as in cutune_evaluation.entry), written into buf; returns
 * buf, or NULL for a NULL session or an entry out of range. */
const char *cutune_session_key(const cutune_session *session, size_t entry, char *buf,
                               size_t size);
/* Outputs to check against instead of the default configuration's: one call per output
 * argument, `bytes` its size exactly. Once every output has one, the default configuration
 * is checked like the others (see CUTUNE_VERIFY_AUTO). This and the calls below that set
 * what is compared are made before the session's first run: CUTUNE_EINVAL once it has
 * measured something. CUTUNE_ENOTSUP: a session that measures nothing itself, or of
 * another kind than a GPU one. */
int cutune_session_set_reference(cutune_session *session, const char *argument,
                                 const void *data, size_t bytes);
/* Argument `argument`'s initial contents from memory instead of its spec's FillType (the
 * spec still gives its name, type and size): `bytes` its size exactly (little-endian
 * elements of its Type; for a scalar, the one value), copied. Before the first run
 * (CUTUNE_EINVAL after, as for a size that does not match); kept for the run, and given
 * again to a worker restarted after a fault. CUTUNE_ENOTFOUND: no such argument;
 * CUTUNE_ENOTSUP: a session that runs no kernel of its own (another kind, device -1, or
 * an executor's: the sessions that measure need the contents given to them). */
int cutune_session_set_argument(cutune_session *session, const char *argument,
                                const void *data, size_t bytes);
/* What a run's report should say of compiling: NVRTC's warnings (the compiler's own lines)
 * for the first configuration compiled with any and how many were, and why the first
 * configuration that failed to compile failed. Pointers into the session, valid until it
 * changes; NULL where there is nothing to say. */
typedef struct cutune_session_notes {
    const char *warnings;
    char warnings_config[CUTUNE_KEY_MAX];
    uint64_t configs_warned;
    const char *compile_error;
    char compile_error_config[CUTUNE_KEY_MAX];
} cutune_session_notes;
int cutune_session_get_notes(const cutune_session *session, cutune_session_notes *notes);
/* Why entry i failed, in words ("an illegal memory access ..."), when it was evaluated and
 * failed; NULL otherwise. Owned by the session. */
const char *cutune_session_failure(const cutune_session *session, size_t entry);
/* What a run checks each configuration's outputs against. */
typedef enum cutune_verify {
    /* The answers given for every output (cutune_session_set_reference, _load_answer), else
     * the spec's KernelSpecification.ReferenceArguments when it has some cutune reads
     * (FillType BinaryRaw or Constant: see docs/spec.md), else as CUTUNE_VERIFY_DEFAULT. */
    CUTUNE_VERIFY_AUTO = 0,
    /* The default configuration's outputs: it runs first, and a run fails when it fails.
     * A space without a default configuration gives nothing to compare against: nothing
     * is compared, as with CUTUNE_VERIFY_NONE. */
    CUTUNE_VERIFY_DEFAULT = 1,
    /* Nothing is compared (Kernel Tuner without `answer`). The default configuration, when
     * the space has one, still runs first, for the speedup; its failure is no error. */
    CUTUNE_VERIFY_NONE = 2,
    /* The answers given (for the spec's ReferenceArguments' targets, theirs where none was
     * given): the outputs that have one are compared, the others are not. The default
     * configuration runs first for the speedup and is checked like any other. */
    CUTUNE_VERIFY_ANSWERS = 3
} cutune_verify;
/* CUTUNE_EINVAL: a value outside the enum. (_ANSWERS with no answer given and no
 * ReferenceArguments cutune reads: the run, and cutune_session_verification, fail with
 * CUTUNE_EINVAL and say so.) */
int cutune_session_set_verify(cutune_session *session, cutune_verify how);
/* Reads an answer file (cutune_kernel_read_answer) into the reference of output `argument`,
 * as cutune_session_set_reference. A session that measures nothing itself (device -1) checks
 * the file and names it (cutune_session_verification), and keeps no data: its measuring
 * sessions read it. CUTUNE_ENOTSUP: a session of another kind than a GPU one. */
int cutune_session_load_answer(cutune_session *session, const char *argument,
                               const char *path);
/* Sets the pass test of output `argument` (NULL: of every output) to Kernel Tuner's form,
 * |x - ref| <= atol + rtol * |ref|. A NaN keeps the argument's own value (its spec's Atol
 * or Rtol, else Kernel Tuner's default: atol 1e-6, rtol 1e-5). CUTUNE_EINVAL: a negative or
 * infinite value, an argument that is no output; CUTUNE_ENOTFOUND: no such argument. */
int cutune_session_set_tolerance(cutune_session *session, const char *argument, double atol,
                                 double rtol);
/* What a run will compare, in words, into buf ("verifying output_image against the default
 * configuration's output (|x - ref| <= 0.0001 * max(1, |ref|))"), and how in *mode (may be
 * NULL): CUTUNE_VERIFY_DEFAULT, _NONE or _ANSWERS, never _AUTO. Decides CUTUNE_VERIFY_AUTO
 * as a run would, reading the spec's ReferenceArguments: their failures (CUTUNE_EIO,
 * CUTUNE_EINVAL naming the file, the argument, what was expected and found) are the run's.
 * A session with no kernel describes that it compares nothing. */
int cutune_session_verification(cutune_session *session, cutune_verify *mode, char *buf,
                                size_t size);
/* The kernel of a session on the GPU, owned by the session (NULL for the other kinds). */
const cutune_kernel *cutune_session_kernel(const cutune_session *session);

/* Metrics (Kernel Tuner's `metrics`): named expressions, in the language of constraints,
 * over the parameters (a configuration's values), ProblemSize (a list, as in the spec's
 * sizes; empty for a custom objective), `time` (the configuration's mean time in ms) and the
 * metrics added before (by name, where the name is an identifier), e.g. "GFLOP/s" =
 * "2 * ProblemSize[0]**3 / 1e9 / (time / 1e3)". They are computed for every configuration
 * that ran (not for failed ones: NaN), written into Kernel Tuner cache entries (as extra
 * keys, as Kernel Tuner writes them), the profile store's and T4 results (measurements). A
 * GPU session takes its spec's "Metrics" (a list of {"Name", "Expression"}, top level or in
 * the KernelSpecification: cutune's extension to T1) when it is made. Up to 32.
 * CUTUNE_EPARSE: bad syntax; CUTUNE_ENAME: a name the expression cannot read; CUTUNE_EINVAL:
 * a name that is empty, taken (a parameter, another metric, time or another key of a Kernel
 * Tuner cache entry) or longer than 64 bytes; CUTUNE_ETOOBIG: more than 32. Made before the
 * first run (CUTUNE_EINVAL after). */
int cutune_session_add_metric(cutune_session *session, const char *name,
                              const char *expression);
/* The spec's Metrics (as cutune_session_new reads them; for a session over a recorded space
 * whose spec names them). Statuses as add_metric's, and the spec's (CUTUNE_EIO, _EPARSE). */
int cutune_session_add_spec_metrics(cutune_session *session, const char *spec);
size_t cutune_session_num_metrics(const cutune_session *session);
/* Metric k's name (NULL past the last). */
const char *cutune_session_metric_name(const cutune_session *session, size_t k);
/* Metric k of entry i: NaN when it was not measured, failed, or the metric cannot be
 * computed there (a division by a time of 0, ...). */
double cutune_session_metric(const cutune_session *session, size_t entry, size_t k);
/* What a run optimises: `name` a metric, or "time" (NULL: time, the default); higher_is_better
 * 1 to maximise it. The strategies minimise its value (its inverse when higher is better), so
 * it must be a positive number: a configuration whose objective is not one (or cannot be
 * computed) counts as failed to the strategy, and is kept with its time. The result's
 * best_entry is the objective's best (the default configuration's, if none beats it), its
 * best_ms that configuration's time, and speedup stays the ratio of times, default to best.
 * The profile store keeps ranking by time: its profile is the fastest configuration measured.
 * CUTUNE_ENOTFOUND: no metric of that name. Before the first run (CUTUNE_EINVAL after). */
int cutune_session_set_objective(cutune_session *session, const char *name,
                                 int higher_is_better);
/* The objective's name ("time" by default) and whether higher is better (may be NULL). */
const char *cutune_session_objective_name(const cutune_session *session, int *higher_is_better);
/* The objective's value for entry i (its time when the objective is time); NaN as for
 * cutune_session_metric. */
double cutune_session_objective(const cutune_session *session, size_t entry);
/* The occupancy of entry i on the session's device, what limits it and what would lift it
 * (advice may be NULL). */
int cutune_session_explain(cutune_session *session, size_t entry, cutune_occupancy *occ,
                           cutune_occupancy_advice *advice);
/* Every evaluated configuration in the T4 results format of the autotuning community
 * (schema_version 1.0.0: configuration, times, invalidity, correctness, measurements).
 * This and the cache file below: CUTUNE_EIO when the file cannot be written. */
int cutune_session_write_t4(const cutune_session *session, const char *path);
/* Every evaluated configuration as a Kernel Tuner cache file (JSON). */
int cutune_session_write_kt_cache(const cutune_session *session, const char *path);
void cutune_session_free(cutune_session *session);

/* ------------------------------------------------------------------------------------------
 * Distributed tuning: one session drives the search (strategy, records, profile store) and
 * hands configurations to an executor; sessions elsewhere (other processes, GPUs, hosts)
 * measure them with cutune_session_measure, one configuration at a time each, and the
 * results travel back as cutune_measurement, plain data. cutune tune under mpirun does this
 * over MPI (tools/cli_mpi.c).
 * ---------------------------------------------------------------------------------------- */
typedef struct cutune_measurement {
    uint64_t entry;             /* the configuration (cutune_evaluation.entry) */
    double time_ms;             /* mean of the timed launches; NaN when it failed */
    double median_ms, std_ms;
    int32_t n, regs;            /* timed launches kept in times_ms; registers per thread */
    double times_ms[CUTUNE_MAX_TIMED_LAUNCHES];
    double compile_ms, run_ms;
    char failure[32];           /* Kernel Tuner's name of the failure; "" when it ran */
    char message[256];          /* why it failed */
    cutune_session_stats stats; /* what measuring it added to the measuring session's */
} cutune_measurement;

typedef struct cutune_executor {
    unsigned slots; /* configurations in flight at once, at least 1 (at most 1024) */
    /* Starts measuring `entry` elsewhere; best_ms is the fastest time so far (NaN: none),
     * which sets the timeout. A nonzero status ends the run with it. */
    int (*submit)(void *user, size_t entry, double best_ms);
    /* Waits until any started configuration is measured and gives its result. */
    int (*wait)(void *user, cutune_measurement *out);
    void *user;
    /* What the measurements run on, for the profile store's key and for pruning before
     * compiling (NULL: the session's own device). */
    const cutune_device_info *device;
} cutune_executor;

/* Measurements of the next runs come from the executor (copied; NULL: the session's own). */
int cutune_session_set_executor(cutune_session *session, const cutune_executor *executor);
/* Measures one configuration here as a run would (before the first, the default one, whose
 * outputs are the reference) and gives the result; best_ms: the driving session's fastest
 * time so far (NaN: none), for the timeout. A configuration measured before is not measured
 * again. A status only when this session cannot measure at all. */
int cutune_session_measure(cutune_session *session, size_t entry, double best_ms,
                           cutune_measurement *out);
/* Configurations this session will be asked to measure next: compiled ahead on CPU threads
 * (cutune_session_options.compile_threads) while it measures others. */
int cutune_session_prepare(cutune_session *session, const size_t *entries, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* CUTUNE_H */
