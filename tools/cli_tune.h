/* cli_tune.h — what `cutune tune` in one process (cli_tune.c) and under mpirun (cli_mpi.c)
 * share: the parsed command line, and running a session with its report. */
#ifndef CUTUNE_CLI_TUNE_H
#define CUTUNE_CLI_TUNE_H

#include "cli.h"

typedef struct tune_args {
    const char *kernel_file, *spec; /* on the GPU */
    const char *sim;                /* or a recorded space */
    double sim_delay_ms;            /* slept per measurement in simulation */
    const char *arch_name;          /* (--sim) prune for this architecture */
    cutune_search_options search;
    cutune_session_options session;
    const char *cache_out, *t4_out;
    int json, precompile;
    const char *db, *user_key; /* the profile store (db NULL: the default place) */
    int no_store, resume;
    unsigned per_rank; /* distributed: configurations in hand per rank (0: the default) */
    char from_spec[256]; /* what the spec's Search and Budget set, for the report ("") */
} tune_args;

/* What one rank of a distributed run did: where, and where its time went. */
typedef struct tune_rank_tally {
    char host[64];
    int device;                           /* -1: replaying a recorded space */
    uint64_t evaluations, compiled, from_cache; /* compiled: NVRTC ran while it waited */
    double compile_s, run_s;              /* NVRTC while waiting, and the worker's time */
} tune_rank_tally;

/* What a distributed run adds to the report (NULL in one process). */
typedef struct tune_ranks {
    int ranks;         /* processes of the job, rank 0 included */
    unsigned in_flight;
    const tune_rank_tally *per_rank; /* ranks of them, filled as results come back */
} tune_ranks;

/* A session as the arguments ask: over the recorded space `cache` (replayed with delay_ms
 * per measurement) when there is one, else on the GPU with the options `so`. */
int tune_session_new(const tune_args *a, const cutune_cache *cache,
                     const cutune_session_options *so, double delay_ms, cutune_session **out);

/* Runs the session (a GPU one, or one over `cache`), writes the profile store as the
 * arguments say and reports; returns the exit status. The session may have an executor. */
int tune_run(cutune_session *s, const cutune_cache *cache, const tune_args *a,
             const tune_ranks *ranks);

/* The distributed `cutune tune`, for a process that mpirun (or srun) started: cli_mpi.c in
 * cutune-mpi, which links Open MPI; cli_mpi_exec.c in cutune, which hands the command to
 * cutune-mpi beside it, so that cutune itself runs where there is no Open MPI. argv: the
 * subcommand's ("tune", options...). */
int cli_mpi_tune(int argc, char **argv, const tune_args *a);

#endif
