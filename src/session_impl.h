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
    void **user_ref;       /* outputs the user gave to check against, per argument */
    int have_user_ref;
    struct pool *pool;     /* compiling ahead, during a run */
    cutune_store *store;   /* where each evaluation goes as it completes, if set */
    char *user_key;
    int resume;
    int64_t store_session;
    size_t warm[8];        /* the best configurations of the nearest size tuned before */
    size_t nwarm;
};

/* session_write.c: the Kernel Tuner cache header (device, kernel, problem size, parameters
 * and their values) and the entry of evaluated configuration i (new references). */
json_t *ct_session_kt_header(const cutune_session *s);
json_t *ct_session_kt_entry(const cutune_session *s, size_t i);

#endif
