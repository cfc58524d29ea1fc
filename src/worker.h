/* worker.h — the process that owns the CUDA context. A tuning session forks it before it
 * touches CUDA itself and sends it one configuration at a time over a pipe; a kernel that
 * faults, hangs or kills the process costs that configuration, not the session: the worker
 * is started again with the same buffers and reference. */
#ifndef CUTUNE_WORKER_H
#define CUTUNE_WORKER_H

#include "internal.h"
#include "verify.h"

typedef struct ct_worker ct_worker;

/* What became of one configuration; the names are Kernel Tuner's. */
typedef enum ct_outcome {
    CT_MEASURED = 0,
    CT_RUNTIME_FAILED,      /* "RuntimeFailedConfig": a launch or the kernel failed */
    CT_VERIFICATION_FAILED, /* "VerificationFailedConfig": outputs differ from the reference */
    CT_TIMEOUT              /* "TimeoutConfig": no answer within the timeout */
} ct_outcome;

const char *ct_outcome_name(ct_outcome o);

typedef struct ct_run_request {
    const void *cubin;
    size_t cubin_size;
    const char *symbol;        /* the kernel's lowered name */
    unsigned grid[3], block[3];
    size_t dynamic_smem;
    int cooperative;           /* every block resident at once (a grid-wide barrier) */
    int warmups, iterations;   /* launches before timing, and timed ones (with precision:
                                  at most) */
    double precision;          /* > 0: time until the median's 95% interval is within this
                                  fraction of it (measure.h), racing against best_ms */
    double best_ms;            /* the fastest time so far (NaN: none) */
    int flush_l2;              /* clear the L2 cache before each timed launch */
    int make_reference;        /* keep this run's outputs as the reference */
    int verify;                /* compare the outputs with the reference */
    double timeout_s;
} ct_run_request;

typedef struct ct_run_result {
    ct_outcome outcome;
    char message[256];         /* why it failed */
    int iterations;
    int raced;                 /* timing stopped early: clearly slower than best_ms */
    double times_ms[CUTUNE_MAX_TIMED_LAUNCHES];       /* each timed launch */
    double max_error;          /* largest |x - ref| / max(1, |ref|) of what was compared */
    int restart;               /* the fault poisoned the CUDA context: the worker ends */
    /* The SM clock in MHz before the first timed launch and after the last (0: NVML could
     * not say), and NVML's reasons for holding it down then (power or heat: see
     * cutune_throttle_names). A timing held down either time is made once more:
     * `throttle_retried` says so, and the reasons are the second timing's. */
    unsigned sm_mhz[2];
    unsigned long long slowdown[2];
    int throttle_retried;
} ct_run_result;

/* Starts a worker on a device for a kernel's arguments; it allocates and fills them and
 * reports the device (the session must not initialise CUDA itself). */
int ct_worker_start(ct_worker **out, const cutune_kernel *kernel, int device,
                    cutune_device_info *info);
/* Runs one configuration. CUTUNE_OK whatever the kernel did (the outcome says); a status
 * only when the worker cannot be run at all. */
int ct_worker_run(ct_worker *w, const ct_run_request *req, ct_run_result *res);
/* What is compared and how: a ct_check per argument (n of them; until this is called, each
 * output's spec test). Kept, and given again to a restarted worker. */
int ct_worker_set_check(ct_worker *w, const ct_check *checks, size_t n);
/* The outputs to check against: each compared output's bytes, in argument order. */
int ct_worker_set_reference(ct_worker *w, const void *data, size_t len);
/* Argument i's initial contents (len its size exactly, checked by the caller), instead of
 * its spec's fill. Kept, and given again to a restarted worker. */
int ct_worker_set_argument(ct_worker *w, size_t i, const void *data, size_t len);
void ct_worker_stop(ct_worker *w);

#endif
