/* session_impl.h — the inside of a tuning session. A session is a core (the space, a record
 * per configuration, the run loop, checkpoints to the profile store, verification and
 * metrics) and a kind that measures: a GPU kernel through a worker process (gpu.c, with
 * compile-ahead in gpu_compile.c), a C objective (objective.c), a recorded space
 * (recorded.c), or an executor elsewhere (executor.c). Each kind fills in a
 * ct_session_ops table and a context; the core reaches the kind only through the table. */
#ifndef CUTUNE_SESSION_IMPL_H
#define CUTUNE_SESSION_IMPL_H

#include "search.h"
#include "verify.h"

#include <jansson.h>

typedef struct record {
    int done;
    int n;                 /* timed launches (1 for a custom objective's value) */
    int regs;
    double time_ms;        /* mean of the timed launches; NaN when it failed */
    double median_ms, std_ms;
    double lo_ms, hi_ms;   /* the median's 95% confidence interval (measure.h) */
    double *times_ms;      /* each of the n */
    const char *failure;   /* Kernel Tuner's name of the failure (a literal), else NULL */
    char *message;         /* and why */
    double compile_ms, run_ms;
    /* the SM clock (MHz) before and after the timing (0: unknown), and what held it down
     * (NVML's reasons; 0: nothing) */
    unsigned sm_mhz[2];
    unsigned long long slowdown;
    /* the confirmation's times (confirm.c): how many (-1: it failed then, and message
     * says why), their median and its 95% interval */
    int confirmed_n;
    double confirmed_ms, confirmed_lo_ms, confirmed_hi_ms;
} record;

/* One configuration timed again for the winner's confirmation (ct_session_ops.retime). */
typedef struct ct_retimed {
    double times_ms[CUTUNE_MAX_TIMED_LAUNCHES];
    int n;             /* launches timed (0: it failed, and message says why) */
    char message[256];
} ct_retimed;

/* What a kind of session does. `ctx` is the kind's own state (ct_session.ctx, or the inner
 * kind's when an executor wraps one). Entries marked optional may be NULL. */
typedef struct ct_session_ops {
    /* Measures configuration i into s->rec[i]; reference: its outputs become what the others
     * are checked against. A status only when the session cannot go on. */
    int (*evaluate)(cutune_session *s, void *ctx, size_t i, int reference);
    /* optional: what configuration i cost without being measured, in seconds (a search
     * skips a configuration it knows cannot launch; this says what that saved) */
    double (*cost_s)(cutune_session *s, void *ctx, size_t i);
    /* optional: at a run's start, what this kind adds to the search's backend (compiling
     * ahead, measurements in flight elsewhere) and may change in its options (a batch) */
    void (*run_begin)(cutune_session *s, void *ctx, ct_backend *b, cutune_search_options *o);
    /* optional: after the run's search (stops what run_begin started) */
    void (*run_end)(cutune_session *s, void *ctx);
    /* optional: compile these configurations ahead (cutune_session_prepare) */
    int (*prepare)(cutune_session *s, void *ctx, const size_t *entries, size_t n);
    /* optional: compile every configuration now (cutune_session_precompile) */
    int (*precompile)(cutune_session *s, void *ctx, int threads, uint64_t *compiled,
                      uint64_t *failed);
    /* optional: occupancy of configuration `entry` (cutune_session_explain) */
    int (*explain)(cutune_session *s, void *ctx, size_t entry, cutune_occupancy *occ,
                   cutune_occupancy_advice *advice);
    /* optional: hands the process that runs the kernel what each output is checked with,
     * and the answers (bytes of every output in order; NULL: the default's outputs) */
    int (*send_checks)(cutune_session *s, void *ctx, const ct_check *checks, size_t n,
                       const void *answers, size_t bytes);
    /* optional: argument i's initial contents instead of its spec's fill (bytes its size,
     * checked), for the process that runs the kernel (cutune_session_set_argument) */
    int (*set_argument)(cutune_session *s, void *ctx, size_t i, const void *data,
                        size_t bytes);
    /* optional: times configurations again (each measured before): `rounds` rounds of
     * `launches` timed launches, the configurations one after another in each round, their
     * outputs not checked; out[k] for entries[k]. A status only when the session cannot go
     * on. */
    int (*retime)(cutune_session *s, void *ctx, const size_t *entries, size_t n, int rounds,
                  int launches, ct_retimed *out);
    /* optional: frees ctx */
    void (*free)(void *ctx);
} ct_session_ops;

struct cutune_session {
    const ct_session_ops *ops;
    void *ctx;
    /* what is tuned */
    const cutune_space *space;
    cutune_space *own_space;   /* loaded from the spec, freed with the session */
    cutune_kernel *kernel;     /* the spec's kernel: its arguments and size; NULL for an
                                  objective or a recorded space */
    char *source, *source_name;
    char *name;                /* the kernel's name, the objective's or the recording's */
    int64_t problem[3];        /* the problem size (1s past its dimensions) ... */
    int problem_dims;          /* ... of this many dimensions (0: none) */
    const char *device_name;   /* for files and the store */
    char *origin;              /* where the measurements come from, for the store */
    cutune_device_info device;
    cutune_arch arch;
    int has_arch;              /* arch describes the GPU measured on: prune with it */
    int has_device;            /* a GPU of its own measures here (answers are needed here) */
    int local_only;            /* measured in this process alone (no executor) */
    int measured_elsewhere;    /* an executor measures (not cutune_session_measure) */
    int messages_as_failures;  /* the search is told a failure's message, not its name */
    const char *no_outputs_why; /* without a kernel: why no outputs are compared */
    /* the records */
    ct_domain dom;
    int have_dom;
    record *rec;
    size_t default_index;
    cutune_session_options opt;
    cutune_session_stats stats;
    double best_ms;
    /* verification (verify.c) */
    char *spec_path;       /* the spec, for its ReferenceArguments */
    void **user_ref;       /* answers to check against, per argument (NULL: none) */
    char **ref_source;     /* where each came from ("a.npy"), NULL for set_reference's */
    uint8_t *spec_ref;     /* per argument: its answer is the spec's ReferenceArguments' */
    ct_check *check;       /* per argument: what is compared, and how */
    uint8_t *tol_set;      /* per argument: cutune_session_set_tolerance gave its test */
    int verify;            /* cutune_verify as asked */
    int verify_mode;       /* as decided for the run: DEFAULT, NONE or ANSWERS; 0 undecided */
    int verify_sent;       /* the measuring side has the checks and answers of verify_mode */
    char verify_note[320]; /* ReferenceArguments left unused, and why */
    /* metrics and the objective (metrics.c) */
    struct ct_metric *metrics;
    size_t nmetrics;
    int objective_metric;  /* the objective: 0 time, k + 1 metric k */
    int higher_is_better;
    char objective_why[256]; /* why the objective of the last configuration asked is none */
    /* the profile store (store.c) */
    cutune_store *store;   /* where each evaluation goes as it completes, if set */
    char *user_key;
    int resume;
    int64_t store_session;
    size_t warm[8];        /* the best configurations of the nearest size tuned before */
    size_t nwarm;
    size_t *restored;      /* evaluations taken from the store (resume), in their order */
    size_t nrestored;
    /* what the compiler said, for the report (cutune_session_get_notes) */
    char *warnings;        /* NVRTC's warnings for the first configuration compiled with any */
    size_t warnings_entry;
    uint64_t warned;       /* configurations compiled with warnings */
    size_t compile_error_entry; /* the first that failed to compile (its record says why) */
    int compile_error_seen;
};

/* core.c: a new session of a kind (options may be NULL), its records once space is set
 * (and dom, where the kind numbers the configurations itself), one configuration
 * measured (reference: see ct_session_ops.evaluate), the default first, and a record's
 * results: _keep_times fills a measured one (mean, median, spread), _fail_record a failed
 * one (failure: a literal), _failure_literal is Kernel Tuner's failure name as a literal. */
cutune_session *ct_session_alloc(const cutune_session_options *options,
                                 const ct_session_ops *ops, void *ctx);
int ct_session_records(cutune_session *s);
int ct_session_evaluate(cutune_session *s, size_t i, int reference);
int ct_session_measure_default(cutune_session *s);
int ct_session_keep_times(cutune_session *s, record *r, const double *times, int n);
void ct_session_fail_record(record *r, const char *failure, const char *message);
const char *ct_session_failure_literal(const char *name);
/* record.c: CUTUNE_OK while nothing is measured; else CUTUNE_EINVAL from `call`, saying that
 * `what` ("what it compares is set") comes before the first run. */
int ct_session_not_started(const cutune_session *s, const char *call, const char *what);
/* Adds (sign 1) or takes away (-1) one session's counts from another's. */
void ct_session_add_stats(cutune_session_stats *to, const cutune_session_stats *d, int sign);

/* confirm.c: after a run's search, the fastest configurations timed again (options.confirm)
 * and the winner chosen on those times: its entry, or CT_NONE when nothing was confirmed
 * (the kind cannot time again, the objective is not time, or fewer than two ran). The
 * confirmed records are checkpointed again. */
int ct_session_confirm(cutune_session *s, size_t *winner);

/* store.c: the store's session for a run (resume, warm start), each evaluation into it as
 * it completes, and the run's end with its status (finished or stopped by the caller:
 * folded into the profile; failed: released unfinished, as _release does, for a later run
 * to resume). */
int ct_session_store_begin(cutune_session *s, const cutune_search_options *o);
int ct_session_checkpoint(cutune_session *s, size_t i);
int ct_session_store_end(cutune_session *s, int status);
void ct_session_store_release(cutune_session *s);

/* verify.c: what is compared. _init at the session's start (spec may be NULL), _free at
 * its end; _prepare decides the mode and hands the measuring side its checks and answers
 * (before a run or a measurement; again after any change); _default_must_work: whether a
 * failing default configuration fails the run (it is the reference, or the answers' first
 * test). */
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

/* export.c: the Kernel Tuner cache header (device, kernel, problem size, parameters and
 * their values) and the entry of evaluated configuration i (new references). */
json_t *ct_session_kt_header(const cutune_session *s);
json_t *ct_session_kt_entry(const cutune_session *s, size_t i);

#endif
