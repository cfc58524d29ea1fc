/* cli_tune.h — what `cutune tune` in one process and under mpirun (cli_mpi.c) share: the
 * parsed command line (cli_tune.c, with cli_tune_opts.c), running a session
 * (cli_tune_run.c) and its report (cli_tune_report.c). */
#ifndef CUTUNE_CLI_TUNE_H
#define CUTUNE_CLI_TUNE_H

#include "cli.h"

#include <stdio.h>

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
    /* what is compared (cli_tune_opts.c) */
    int verify;              /* cutune_verify: --verify default|none|FILE (0: not given) */
    const char *answers[64]; /* --verify FILE or NAME=FILE, in the order given */
    int nanswers;
    double atol, rtol;       /* --atol, --rtol (NaN: not given) */
    /* metrics and the objective (cli_tune_opts.c) */
    const char *metrics[32]; /* --metric NAME=EXPR */
    int nmetrics;
    const char *objective;   /* --objective NAME (NULL: time) */
    int higher;              /* --higher-is-better 1, --lower-is-better 0; -1: not given */
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

/* What a run gathers as results come (cli_tune_run.c), for its report (cli_tune_report.c). */
typedef struct tune_ctx {
    const cutune_cache *cache;     /* --sim */
    const cutune_session *session; /* on the GPU */
    cutune_verify verify;          /* what it compares (on the GPU), and in words: */
    char verification[1024];
    int json;
    json_t *history;
    double best;       /* the best's time */
    size_t best_entry; /* the best configuration so far ((size_t)-1: none) */
    int objective;     /* 1: the objective is not time: history entries give its value */
    uint64_t failed; /* measured and failed (pruned ones apart) */
    size_t first_failed; /* the first that ran and failed, ((size_t)-1: none) */
    uint64_t budget;
    FILE *progress;  /* where a progress line goes (a terminal), or NULL */
    double start, drawn;
} tune_ctx;

/* A session as the arguments ask: over the recorded space `cache` (replayed with delay_ms
 * per measurement) when there is one, else on the GPU with the options `so`. */
int tune_session_new(const tune_args *a, const cutune_cache *cache,
                     const cutune_session_options *so, double delay_ms, cutune_session **out);

/* Runs the session (a GPU one, or one over `cache`), writes the profile store as the
 * arguments say and reports; returns the exit status. The session may have an executor. */
int tune_run(cutune_session *s, const cutune_cache *cache, const tune_args *a,
             const tune_ranks *ranks);

/* cli_tune_report.c: the result of a session on the GPU, or over the recorded space
 * `cache`, as lines or JSON (with a->json), each rank's share in a distributed run as JSON;
 * the exit status. stopped: by Ctrl-C; store: the profile store kept (NULL: none); extra:
 * keys that the JSON report takes as they are. */
int tune_report_gpu(cutune_session *s, const tune_args *a, const tune_ctx *t,
                    const cutune_session_result *r, int stopped, const cutune_store *store,
                    json_t *extra);
int tune_report_sim(const cutune_cache *cache, const tune_args *a, const tune_ctx *t,
                    const cutune_session_result *sr, int stopped, const cutune_store *store,
                    json_t *extra);
json_t *tune_per_rank_json(const tune_ranks *ranks);

/* cli_tune_opts.c: the options of what is compared, of metrics and of the objective.
 * tune_parse_opt takes one (its long name without the dashes, and its value, NULL for a
 * flag) and gives 0 or a usage error's exit status;
 * tune_check_opts what only the whole command line decides; tune_check_answers checks
 * --verify's files against the spec before a session starts (a wrong file is said at once,
 * with or without a GPU); tune_apply_opts gives a new session what the options ask (a
 * cutune status); tune_verify_note: when most configurations that ran failed verification,
 * that in words, naming what to do (NULL otherwise; mode -1 for a recorded space). */
int tune_parse_opt(tune_args *a, const char *name, const char *value);
int tune_check_opts(const tune_args *a);
int tune_check_answers(const tune_args *a);
int tune_apply_opts(cutune_session *s, const tune_args *a);
const char *tune_verify_note(const cutune_session_stats *x, int mode, char *buf, size_t size);
/* Entry i's metrics: as "  NAME VALUE" after a line's text (tune_print_metrics), or as a JSON
 * object (NULL when the session has none, or i is none). tune_report_objective: the lines of
 * the objective and of the best's and the default's metrics (out NULL), or the same as keys
 * of the JSON report. */
void tune_print_metrics(const cutune_session *s, size_t i);
json_t *tune_metrics_json(const cutune_session *s, size_t i);
void tune_report_objective(const cutune_session *s, const cutune_session_result *r,
                           json_t *out);
/* What failed first, to compile (with why) and to run (first_failed, (size_t)-1: none), and
 * NVRTC's warnings for the first configuration compiled with any: as lines (out NULL) or as
 * keys of the JSON report. */
void tune_report_failures(const cutune_session *s, size_t first_failed, json_t *out);

/* The distributed `cutune tune`, for a process that mpirun (or srun) started: cli_mpi.c in
 * cutune-mpi, which links Open MPI; cli_mpi_exec.c in cutune, which hands the command to
 * cutune-mpi beside it, so that cutune itself runs where there is no Open MPI. argv: the
 * subcommand's ("tune", options...). */
int cli_mpi_tune(int argc, char **argv, const tune_args *a);

#endif
