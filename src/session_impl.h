/* session_impl.h — what session.c and session_write.c share: a session and the record it
 * keeps of each configuration. */
#ifndef CUTUNE_SESSION_IMPL_H
#define CUTUNE_SESSION_IMPL_H

#include "search.h"
#include "worker.h"

#include <jansson.h>

typedef struct record {
    int done;
    int n;                 /* timed launches (1 for a custom objective's value) */
    int regs;
    double time_ms;        /* mean of the timed launches; NaN when it failed */
    double median_ms, std_ms;
    double *times_ms;      /* each of the n */
    const char *failure;   /* Kernel Tuner's name of the failure (a literal), else NULL */
    char *message;         /* and why */
    double compile_ms, run_ms;
} record;

struct cutune_session {
    const cutune_space *space;
    cutune_space *own_space;   /* loaded from the spec, freed with the session */
    cutune_kernel *kernel;     /* NULL for a custom objective */
    char *source, *source_name;
    cutune_objective_fn objective; /* instead of a kernel */
    void *objective_user;
    char *name;                /* what is tuned: the kernel's name, or the objective's */
    ct_domain dom;
    int have_dom;
    record *rec;
    size_t default_index;
    cutune_device_info device;
    cutune_arch arch;
    ct_worker *worker;
    cutune_session_options opt;
    cutune_session_stats stats;
    double best_ms;
    /* verification (session_verify.c) */
    char *spec_path;       /* the spec, for its ReferenceArguments */
    void **user_ref;       /* answers to check against, per argument (NULL: none) */
    char **ref_source;     /* where each came from ("a.npy"), NULL for set_reference's */
    uint8_t *spec_ref;     /* per argument: its answer is the spec's ReferenceArguments' */
    ct_check *check;       /* per argument: what is compared, and how */
    uint8_t *tol_set;      /* per argument: cutune_session_set_tolerance gave its test */
    int verify;            /* cutune_verify as asked */
    int verify_mode;       /* as decided for the run: DEFAULT, NONE or ANSWERS; 0 undecided */
    int verify_sent;       /* the worker has the checks and answers of verify_mode */
    char verify_note[320]; /* ReferenceArguments left unused, and why */
    /* metrics and the objective (metrics.c) */
    struct ct_metric *metrics;
    size_t nmetrics;
    int objective_metric;  /* the objective: 0 time, k + 1 metric k */
    int higher_is_better;
    char objective_why[256]; /* why the objective of the last configuration asked is none */
    struct pool *pool;     /* compiling ahead, during a run */
    cutune_store *store;   /* where each evaluation goes as it completes, if set */
    char *user_key;
    int resume;
    int64_t store_session;
    size_t warm[8];        /* the best configurations of the nearest size tuned before */
    size_t nwarm;
    size_t *restored;      /* evaluations taken from the store (resume), in their order */
    size_t nrestored;
    const cutune_cache *cache; /* a recorded space's session: measurements come from it */
    double delay_ms;       /* ... each after this long, standing in for the GPU's time */
    cutune_executor exec;  /* measurements made elsewhere (exec.submit set) */
    cutune_device_info exec_device;
    size_t ready[1024];    /* started but already known (restored): given back first */
    size_t nready;
    char *warnings;        /* NVRTC's warnings for the first configuration compiled with any */
    size_t warnings_entry;
    uint64_t warned;       /* configurations compiled with warnings */
    size_t compile_error_entry; /* the first that failed to compile (its record says why) */
    int compile_error_seen;
};

/* A session's device for files and the store: a recorded space's, the GPU's, or none. */
static inline const char *ct_session_device_name(const cutune_session *s)
{
    return s->cache ? cutune_cache_device(s->cache)
           : s->kernel ? s->device.name : "custom objective";
}

/* session.c: one configuration. ct_session_evaluate measures configuration i into its
 * record (a status only when the session cannot go on); _measure_default the default one
 * first (a kernel's outputs there are the reference); _checkpoint writes a record to the
 * store; _compile compiles i (from the binary cache when it is there); _keep_times and
 * _fail_record fill a record; _failure_literal gives Kernel Tuner's failure name as a
 * literal. */
int ct_session_evaluate(cutune_session *s, size_t i, int reference);
int ct_session_measure_default(cutune_session *s);
int ct_session_checkpoint(cutune_session *s, size_t i);
int ct_session_compile(cutune_session *s, size_t i, cutune_binary **bin, record *r);
int ct_session_keep_times(cutune_session *s, record *r, const double *times, int n);
void ct_session_fail_record(record *r, const char *failure, const char *message);
const char *ct_session_failure_literal(const char *name);

/* session_verify.c: what is compared. _init at the session's start (spec may be NULL),
 * _free at its end; _prepare decides the mode and hands the worker its checks and answers
 * (before a run or a measurement; again after any change); _default_must_work: whether a
 * failing default configuration fails the run (it is the reference, or the answers'
 * first test). */
int ct_session_verify_init(cutune_session *s, const char *spec);
void ct_session_verify_free(cutune_session *s);
int ct_session_verify_prepare(cutune_session *s);
int ct_session_default_must_work(const cutune_session *s);

/* metrics.c: each metric of evaluated configuration i into values (NaN where it cannot be
 * computed; why, the first reason, may be NULL); the value the search minimises for i (its
 * time, or its objective's value, inverted when higher is better: NaN and *failure when it
 * failed or the objective cannot be had); the metrics as keys of its Kernel Tuner entry;
 * _metrics_free at the session's end. */
void ct_session_metrics(const cutune_session *s, size_t i, double *values, char *why,
                        size_t size);
double ct_session_cost(cutune_session *s, size_t i, const char **failure);
int ct_session_metrics_json(const cutune_session *s, size_t i, json_t *entry);
void ct_session_metrics_free(cutune_session *s);

/* session_ahead.c: compiling ahead on CPU threads while the worker measures. upcoming: the
 * configurations expected next (a ct_backend's upcoming); claim: before compiling i itself. */
void ct_session_ahead_start(cutune_session *s);
void ct_session_ahead_stop(cutune_session *s);
void ct_session_upcoming(void *self, const size_t *idx, size_t n);
void ct_session_claim(cutune_session *s, size_t i);

/* session_exec.c: measurements made by an executor (distributed tuning): the search's
 * backend for a run, and one configuration alone (the default, before the search); and a
 * recorded space's measurement. */
void ct_session_exec_backend(cutune_session *s, ct_backend *b);
int ct_session_exec_one(cutune_session *s, size_t i);
int ct_session_evaluate_recorded(cutune_session *s, size_t i);

/* session_write.c: the Kernel Tuner cache header (device, kernel, problem size, parameters
 * and their values) and the entry of evaluated configuration i (new references). */
json_t *ct_session_kt_header(const cutune_session *s);
json_t *ct_session_kt_entry(const cutune_session *s, size_t i);

#endif
