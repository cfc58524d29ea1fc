/* cli_mpi.h — `cutune tune` under mpirun (in cutune-mpi), in three files: cli_mpi.c (the
 * job: the ranks meet, check that they measure the same space on the same kind of GPU, and
 * go), cli_mpi_measure.c (what every rank does: measure what it is sent, through MPI or, on
 * rank 0, through a thread's queues) and cli_mpi_drive.c (what rank 0 does besides: the
 * session's executor hands configurations to the ranks and takes their results as they
 * come). */
#ifndef CUTUNE_CLI_MPI_H
#define CUTUNE_CLI_MPI_H

#include "cli_tune.h"

#include <mpi.h>
#include <pthread.h>

enum { TAG_WORK = 1, TAG_RESULT = 2 };
#define PER_RANK_DEFAULT 2
#define QUEUE_MAX 17 /* configurations a rank holds: at most 16 per rank, and a stop */
#define WAIT_FOREVER (-1L)
/* How long a rank waits for the configuration that replaces the one it just gave back, so
 * that it compiles while the next is measured: rank 0 answers within its polling step (at
 * most 1 ms) and the strategy's choice. */
#define REPLACEMENT_WAIT_NS 3000000L

/* Rank 0 to a rank: a configuration to measure (entry < 0: no more, stop). */
typedef struct work_msg {
    int64_t entry;
    double best_ms; /* the fastest so far, for the timeout */
} work_msg;

/* A rank to rank 0: a measurement, or (status) why the rank cannot measure any more. */
typedef struct result_msg {
    int32_t rank, status;
    char error[480];
    cutune_measurement m;
} result_msg;

/* Every rank to rank 0 before the run: whether it is ready, and what it measures on. */
typedef struct hello_msg {
    int32_t exit_code, local_rank, device;
    int32_t cpus, host_cpus; /* CPUs this rank may run on (its binding), and its host's */
    char host[MPI_MAX_PROCESSOR_NAME], error[480];
    uint64_t entries, checksum; /* the space as this rank enumerated it */
    cutune_device_info info;
} hello_msg;

/* Where a measuring rank's work comes from and its results go: MPI, or (rank 0's own
 * measuring thread) the driver in the same process. take: 1 when it got one within wait_ns
 * (WAIT_FOREVER: until one comes). await_replacement: see measure_loop. */
typedef struct channel channel;
struct channel {
    int (*take)(channel *l, work_msg *w, long wait_ns);
    void (*give)(channel *l, const result_msg *r);
    int await_replacement;
};

/* Rank 0's own measuring thread and the driver share two queues. */
typedef struct local_channel {
    channel base;
    cutune_session *s;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, result_cv;
    work_msg work[QUEUE_MAX];
    size_t nwork;
    result_msg *results; /* as many as can be in flight */
    size_t nresults, cap;
} local_channel;

/* Rank 0's executor: what each rank holds, and what it did. */
typedef struct driver {
    int size;
    unsigned per_rank;
    unsigned *outstanding; /* configurations each rank holds */
    unsigned char *broken; /* ranks that cannot measure any more */
    const hello_msg *hello;
    local_channel *local;
    tune_rank_tally *tally; /* per rank */
} driver;

/* cli_mpi_measure.c. Waiting for a message without spinning a core: the next, longer wait
 * (to 1 ms at most). */
long longer_wait(long ns);
/* A rank's channel through MPI, to rank 0. */
channel mpi_rank_channel(unsigned per_rank, int cpus);
/* Measures what comes through `l`, in order, until the stop; while one is measured, those
 * queued behind it compile. */
void measure_loop(cutune_session *s, channel *l, int rank);
/* Rank 0's measuring thread (local_thread, its argument the channel) and its queues: open
 * (CUTUNE_ENOMEM, without a message, when out of memory), the driver's end of them
 * (local_send; local_poll: 1 when a result came within wait_ns) and close. */
int local_channel_open(local_channel *ll, cutune_session *s, unsigned per_rank, int cpus);
void local_channel_close(local_channel *ll);
void local_send(local_channel *ll, const work_msg *w);
int local_poll(local_channel *ll, result_msg *r, long wait_ns);
void *local_thread(void *arg);

/* cli_mpi_drive.c: rank 0 runs the session `driving` with the ranks of d measuring
 * (`measuring` on its own thread), then stops them; the exit status. */
int drive(cutune_session *driving, const cutune_cache *cache, const tune_args *args,
          driver *d, cutune_session *measuring);

#endif
