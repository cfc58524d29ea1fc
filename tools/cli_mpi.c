/* cli_mpi.c — `cutune tune` under mpirun (in cutune-mpi): rank 0 drives the session (the
 * strategy, every record, the profile store) through an executor that hands configurations to
 * the ranks; every rank, rank 0 included on a thread of its own, measures what it is sent with
 * a session of its own (its GPU, its worker, its compile threads; or the recorded space) and
 * sends each result back as soon as it has it. Only rank 0 prints. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "cli_tune.h"

#include <cblas.h>
#include <errno.h>
#include <mpi.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* Waiting for a message without spinning a core: waits growing to 1 ms. */
static long longer_wait(long ns) { return ns < 1000000 ? ns * 2 : 1000000; }

static void pause_a_little(long *ns)
{
    nanosleep(&(struct timespec){0, *ns}, NULL);
    *ns = longer_wait(*ns);
}

/* wait_ns from now, for pthread_cond_timedwait */
static struct timespec deadline(long wait_ns)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += wait_ns;
    t.tv_sec += t.tv_nsec / 1000000000;
    t.tv_nsec %= 1000000000;
    return t;
}

/* --------------------------------------------------------------------- measuring ---- */

/* Where a measuring rank's work comes from and its results go: MPI, or (rank 0's own
 * measuring thread) the driver in the same process. take: 1 when it got one within wait_ns
 * (WAIT_FOREVER: until one comes). await_replacement: see measure_loop. */
typedef struct channel channel;
struct channel {
    int (*take)(channel *l, work_msg *w, long wait_ns);
    void (*give)(channel *l, const result_msg *r);
    int await_replacement;
};

/* Whether a rank waits a moment for the configuration that replaces the one it gave back:
 * only when one is to come (two or more in hand) and the rank may run on more than one CPU.
 * Ranks bound to one core (mpirun's default at -np 1 or 2) ran 1.1-3.4x slower with the
 * wait on the 4-GPU H200 machine (one run of each; why is not measured yet). */
static int await_replacement(unsigned per_rank, int cpus) { return per_rank > 1 && cpus > 1; }

static int mpi_take(channel *l, work_msg *w, long wait_ns)
{
    (void)l;
    for (long ns = 20000, waited = 0;; waited += ns, pause_a_little(&ns)) {
        int flag = 0;
        MPI_Iprobe(0, TAG_WORK, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
        if (flag) {
            MPI_Recv(w, (int)sizeof *w, MPI_BYTE, 0, TAG_WORK, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            return 1;
        }
        if (wait_ns != WAIT_FOREVER && waited >= wait_ns)
            return 0;
    }
}

static void mpi_give(channel *l, const result_msg *r)
{
    (void)l;
    MPI_Send(r, (int)sizeof *r, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
}

/* Measures what comes, in order; while one is measured, those queued behind it compile. A
 * session that cannot measure any more says so once, then only waits for the stop. */
static void measure_loop(cutune_session *s, channel *l, int rank)
{
    work_msg q[QUEUE_MAX];
    size_t nq = 0;
    int broken = 0, gave = 0;
    for (;;) {
        if (!nq)
            nq += (size_t)l->take(l, &q[0], WAIT_FOREVER);
        while (nq < QUEUE_MAX && l->take(l, &q[nq], 0))
            nq++;
        /* The replacement for what was just given back is on its way; without it nothing
         * would compile during this measurement, and it would compile during its own. */
        if (gave && nq == 1 && q[0].entry >= 0 && l->await_replacement &&
            l->take(l, &q[1], REPLACEMENT_WAIT_NS))
            nq++;
        if (q[0].entry < 0)
            return;
        size_t ahead[QUEUE_MAX], na = 0;
        for (size_t k = 1; k < nq && q[k].entry >= 0; k++)
            ahead[na++] = (size_t)q[k].entry;
        if (!broken && na)
            cutune_session_prepare(s, ahead, na); /* a failure shows again when measured */
        result_msg r = {.rank = rank};
        if (!broken) {
            r.status = cutune_session_measure(s, (size_t)q[0].entry, q[0].best_ms, &r.m);
            if (r.status)
                snprintf(r.error, sizeof r.error, "%s", cutune_last_error());
            broken = r.status != CUTUNE_OK;
            l->give(l, &r);
            gave = 1;
        }
        memmove(q, q + 1, --nq * sizeof *q);
    }
}

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

static int local_take(channel *l, work_msg *w, long wait_ns)
{
    local_channel *ll = (local_channel *)l;
    pthread_mutex_lock(&ll->mu);
    while (wait_ns == WAIT_FOREVER && !ll->nwork)
        pthread_cond_wait(&ll->work_cv, &ll->mu);
    if (wait_ns > 0 && !ll->nwork) {
        struct timespec until = deadline(wait_ns);
        pthread_cond_timedwait(&ll->work_cv, &ll->mu, &until);
    }
    int got = ll->nwork > 0;
    if (got) {
        *w = ll->work[0];
        memmove(ll->work, ll->work + 1, --ll->nwork * sizeof *ll->work);
    }
    pthread_mutex_unlock(&ll->mu);
    return got;
}

static void local_give(channel *l, const result_msg *r)
{
    local_channel *ll = (local_channel *)l;
    pthread_mutex_lock(&ll->mu);
    if (ll->nresults < ll->cap) /* (never full: as many as were sent) */
        ll->results[ll->nresults++] = *r;
    pthread_cond_signal(&ll->result_cv);
    pthread_mutex_unlock(&ll->mu);
}

static void local_send(local_channel *ll, const work_msg *w)
{
    pthread_mutex_lock(&ll->mu);
    if (ll->nwork < QUEUE_MAX)
        ll->work[ll->nwork++] = *w;
    pthread_cond_signal(&ll->work_cv);
    pthread_mutex_unlock(&ll->mu);
}

/* A result of rank 0's thread, waiting at most wait_ns for one; 1 when there was one. */
static int local_poll(local_channel *ll, result_msg *r, long wait_ns)
{
    pthread_mutex_lock(&ll->mu);
    if (!ll->nresults && wait_ns > 0) {
        struct timespec until = deadline(wait_ns);
        pthread_cond_timedwait(&ll->result_cv, &ll->mu, &until);
    }
    int got = ll->nresults > 0;
    if (got) {
        *r = ll->results[0];
        memmove(ll->results, ll->results + 1, --ll->nresults * sizeof *r);
    }
    pthread_mutex_unlock(&ll->mu);
    return got;
}

static void *local_thread(void *arg)
{
    local_channel *ll = arg;
    measure_loop(ll->s, &ll->base, 0);
    return NULL;
}

/* ----------------------------------------------------------------------- driving ---- */

typedef struct driver {
    int size;
    unsigned per_rank;
    unsigned *outstanding; /* configurations each rank holds */
    unsigned char *broken; /* ranks that cannot measure any more */
    const hello_msg *hello;
    local_channel *local;
    tune_rank_tally *tally; /* per rank */
} driver;

/* To the rank with the least in hand, rank 0 (which shares its process with the strategy)
 * last among equals. */
static int drv_submit(void *user, size_t entry, double best_ms)
{
    driver *d = user;
    int to = -1;
    for (int k = 1; k <= d->size; k++) {
        int r = k % d->size;
        if (!d->broken[r] && d->outstanding[r] < d->per_rank &&
            (to < 0 || d->outstanding[r] < d->outstanding[to]))
            to = r;
    }
    if (to < 0)
        return cutune_set_error(CUTUNE_EINVAL, "every rank holds %u configurations already",
                                d->per_rank);
    work_msg w = {(int64_t)entry, best_ms};
    if (to == 0)
        local_send(d->local, &w);
    else
        MPI_Send(&w, (int)sizeof w, MPI_BYTE, to, TAG_WORK, MPI_COMM_WORLD);
    d->outstanding[to]++;
    return CUTUNE_OK;
}

/* The next result from any rank, as it comes. */
static int drv_receive(driver *d, result_msg *r)
{
    for (long ns = 20000;; ns = longer_wait(ns)) {
        int flag = 0;
        MPI_Status status;
        if (local_poll(d->local, r, 0))
            break;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &status);
        if (flag) {
            MPI_Recv(r, (int)sizeof *r, MPI_BYTE, status.MPI_SOURCE, TAG_RESULT,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            break;
        }
        if (local_poll(d->local, r, ns)) /* rank 0's thread wakes us; MPI is polled */
            break;
    }
    if (r->rank < 0 || r->rank >= d->size || !d->outstanding[r->rank])
        return cutune_set_error(CUTUNE_EINVAL, "a result from rank %d, which holds nothing",
                                (int)r->rank);
    d->outstanding[r->rank]--;
    if (r->status) { /* what else it held will not come back */
        d->broken[r->rank] = 1;
        d->outstanding[r->rank] = 0;
    }
    return CUTUNE_OK;
}

static unsigned in_hand(const driver *d)
{
    unsigned n = 0;
    for (int k = 0; k < d->size; k++)
        n += d->outstanding[k];
    return n;
}

static int drv_wait(void *user, cutune_measurement *out)
{
    driver *d = user;
    result_msg r;
    int st = drv_receive(d, &r);
    if (!st && r.status) {
        const hello_msg *h = &d->hello[r.rank];
        st = cutune_set_error(r.status, "rank %d (%s, local rank %d) cannot measure any more: "
                              "%s", (int)r.rank, h->host, (int)h->local_rank, r.error);
    }
    if (!st) {
        *out = r.m;
        tune_rank_tally *t = &d->tally[r.rank];
        t->evaluations++;
        t->compiled += r.m.stats.compiled;
        t->from_cache += r.m.stats.from_cache;
        t->compile_s += r.m.stats.compile_s;
        t->run_s += r.m.stats.run_s;
    }
    return st;
}

/* The run is over: each rank finishes what it holds (the results are dropped) and stops. */
static void drv_stop(driver *d)
{
    work_msg stop = {-1, 0};
    for (int r = 1; r < d->size; r++)
        MPI_Send(&stop, (int)sizeof stop, MPI_BYTE, r, TAG_WORK, MPI_COMM_WORLD);
    local_send(d->local, &stop);
    result_msg r;
    while (in_hand(d) && drv_receive(d, &r) == CUTUNE_OK)
        ;
}

/* mpirun ends the whole job when a rank dies or it is itself stopped: rank 0 says where
 * what finished is, and goes. */
static char ended_message[1024];
static void on_end(int sig)
{
    (void)sig;
    ssize_t ignored = write(STDERR_FILENO, ended_message, strlen(ended_message));
    (void)ignored;
    _exit(143);
}

/* ------------------------------------------------------------------ the ranks meet ---- */

/* FNV-1a over every configuration's key: ranks must number the same space the same way. */
static uint64_t space_checksum(const cutune_session *s, uint64_t *entries)
{
    uint64_t h = 1469598103934665603ull;
    char key[CUTUNE_KEY_MAX];
    size_t i = 0;
    for (; cutune_session_key(s, i, key, sizeof key); i++)
        for (const char *c = key;; c++) {
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
            if (!*c)
                break;
        }
    *entries = i;
    return h;
}

/* This rank's measuring session, and on rank 0 the driving one; what went wrong in hello. */
static void setup(const tune_args *a, int rank, int local_size, cutune_cache **cache,
                  cutune_session **measuring, cutune_session **driving, hello_msg *hello)
{
    int st = a->sim ? cutune_cache_load(cache, a->sim, a->spec) : CUTUNE_OK;
    cutune_session_options so = a->session;
    so.device = a->session.device + hello->local_rank;
    hello->device = a->sim ? -1 : so.device;
    if (!so.compile_threads) { /* its CPUs: those it is bound to, or its share of the host's */
        int share = hello->host_cpus / (local_size > 0 ? local_size : 1);
        int cpus = hello->cpus < share ? hello->cpus : share;
        so.compile_threads = cpus > 2 ? cpus - 1 : 1;
    }
    if (!st)
        st = tune_session_new(a, *cache, &so, a->sim_delay_ms, measuring);
    so.device = -1; /* rank 0 drives with no worker: its thread measures */
    if (!st && rank == 0)
        st = tune_session_new(a, *cache, &so, 0, driving);
    if (st) {
        hello->exit_code = st == CUTUNE_ENODEVICE ? EXIT_NO_DEVICE : EXIT_FAILED;
        snprintf(hello->error, sizeof hello->error, "%s", cutune_last_error());
        return;
    }
    hello->checksum = space_checksum(*measuring, &hello->entries);
    if (!a->sim)
        hello->info = *cutune_session_device(*measuring);
}

/* The CPUs this process may run on: mpirun binds each rank to one core by default when it
 * starts one or two. */
static int cpus_allowed(int host_cpus)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : host_cpus;
    return n > 0 ? n : 1;
}

/* Rank 0: a rank bound to a CPU or two compiles ahead on those alone, where its host has
 * many: worth a line, since NVRTC is most of a short session's time. */
static void note_bindings(const hello_msg *h, int size, int local_size)
{
    for (int r = 0; r < size; r++)
        if (!h[r].exit_code && h[r].device >= 0 && h[r].cpus < 4 &&
            h[r].host_cpus / (local_size > 0 ? local_size : 1) >= 8) {
            fprintf(stderr, "cutune tune: rank %d may run on %d of %s's %d CPUs (mpirun binds "
                    "a rank to a core by default at -np 1 or 2): it compiles ahead on those "
                    "alone; mpirun --bind-to none, or --map-by slot:PE=N, gives it more\n",
                    r, (int)h[r].cpus, h[r].host, (int)h[r].host_cpus);
            return; /* once: the others are bound alike */
        }
}

/* Rank 0: whether every rank is ready to measure the same space on the same kind of GPU;
 * the exit status, after saying what is wrong. */
static int check_ranks(const hello_msg *h, int size)
{
    int rc = EXIT_OK;
    for (int r = 0; r < size; r++) {
        const char *why = h[r].error;
        char mismatch[512] = "";
        if (!h[r].exit_code && (h[r].entries != h[0].entries ||
                                h[r].checksum != h[0].checksum))
            snprintf(mismatch, sizeof mismatch, "its space has %llu configurations and rank 0's "
                     "%llu, or they are numbered otherwise: every rank must read the same files",
                     (unsigned long long)h[r].entries, (unsigned long long)h[0].entries);
        else if (!h[r].exit_code && h[0].device >= 0 &&
                 (strcmp(h[r].info.name, h[0].info.name) || h[r].info.cc_major !=
                  h[0].info.cc_major || h[r].info.cc_minor != h[0].info.cc_minor))
            snprintf(mismatch, sizeof mismatch, "it has a %s (compute capability %d.%d) and "
                     "rank 0 a %s: one session measures on one kind of GPU", h[r].info.name,
                     h[r].info.cc_major, h[r].info.cc_minor, h[0].info.name);
        if (!h[r].exit_code && !mismatch[0])
            continue;
        if (r > 0 && h[r].exit_code && !strcmp(h[r].error, h[0].error))
            continue; /* the same as rank 0's, said once */
        char device[32] = "";
        if (h[r].device >= 0)
            snprintf(device, sizeof device, ", device %d", (int)h[r].device);
        fprintf(stderr, "cutune tune: rank %d (%s, local rank %d%s): %s%s\n", r, h[r].host,
                (int)h[r].local_rank, device,
                h[r].exit_code == EXIT_NO_DEVICE ? "no CUDA device found: " : "",
                mismatch[0] ? mismatch : why);
        if (h[r].exit_code == EXIT_NO_DEVICE && h[r].local_rank > 0)
            fprintf(stderr, "cutune tune: (local rank N measures on device --device + N: run "
                    "at most as many ranks per host as it has GPUs)\n");
        if (!rc)
            rc = h[r].exit_code ? h[r].exit_code : EXIT_FAILED;
    }
    return rc;
}

/* --------------------------------------------------------------------- the job ---- */

static int drive(cutune_session *driving, const cutune_cache *cache, const tune_args *args,
                 driver *d, cutune_session *measuring)
{
    tune_args a = *args;
    unsigned per_rank = a.per_rank ? a.per_rank : PER_RANK_DEFAULT;
    if (!a.search.batch) /* one model update per round of the ranks */
        a.search.batch = d->size < 16 ? (unsigned)d->size : 16;
    local_channel ll = {.base = {local_take, local_give,
                                 await_replacement(per_rank, d->hello[0].cpus)},
                        .s = measuring, .cap = per_rank + 1};
    d->per_rank = per_rank;
    d->local = &ll;
    cutune_executor ex = {.slots = per_rank * (unsigned)d->size, .submit = drv_submit,
                          .wait = drv_wait, .user = d,
                          .device = cache ? NULL : &d->hello[0].info};
    int st = (ll.results = calloc(ll.cap, sizeof *ll.results)) ? CUTUNE_OK : CUTUNE_ENOMEM;
    if (!st)
        st = cutune_session_set_executor(driving, &ex);
    if (st) {
        free(ll.results);
        return cli_fail("tune", st);
    }
    pthread_mutex_init(&ll.mu, NULL);
    pthread_cond_init(&ll.work_cv, NULL);
    pthread_cond_init(&ll.result_cv, NULL);
    pthread_t thread;
    int rc = EXIT_FAILED;
    if (pthread_create(&thread, NULL, local_thread, &ll) != 0) {
        fprintf(stderr, "cutune tune: cannot start rank 0's measuring thread\n");
        ll.s = NULL;
    } else {
        snprintf(ended_message, sizeof ended_message,
                 "cutune tune (rank 0): ended by a signal (mpirun ends the whole job when a "
                 "rank dies or it is stopped); %s\n",
                 a.no_store || (cache && !a.db)
                     ? "nothing was kept (no profile store)"
                     : "every finished evaluation is in the profile store: the same command "
                       "with --resume goes on from there");
        signal(SIGTERM, on_end);
        tune_ranks ranks = {.ranks = d->size, .in_flight = ex.slots, .per_rank = d->tally};
        rc = tune_run(driving, cache, &a, &ranks);
        signal(SIGTERM, SIG_DFL);
    }
    drv_stop(d);
    if (ll.s)
        pthread_join(thread, NULL);
    pthread_cond_destroy(&ll.work_cv);
    pthread_cond_destroy(&ll.result_cv);
    pthread_mutex_destroy(&ll.mu);
    free(ll.results);
    return rc;
}

int cli_mpi_tune(int argc, char **argv, const tune_args *a)
{
    int provided, rank, size, local_size;
    /* the GP's matrices are small: BLAS threads would only spin against the ranks (and, on
     * the GPU, the compile threads) for the host's cores */
    openblas_set_num_threads(1);
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm local; /* the ranks of this host: local rank N measures on device N */
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local);
    hello_msg hello = {0};
    MPI_Comm_rank(local, &hello.local_rank);
    MPI_Comm_size(local, &local_size);
    MPI_Comm_free(&local);
    int len = 0;
    char host[MPI_MAX_PROCESSOR_NAME];
    MPI_Get_processor_name(host, &len);
    snprintf(hello.host, sizeof hello.host, "%s", host);
    long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    hello.host_cpus = host_cpus > 0 ? (int32_t)host_cpus : 1;
    hello.cpus = cpus_allowed(hello.host_cpus);

    int rc = EXIT_OK;
    if ((uint64_t)size > a->search.budget) {
        if (rank == 0)
            cli_usage_error("tune", "%d ranks for a budget of %llu evaluations: some would "
                            "never measure anything (at most -np %llu)", size,
                            (unsigned long long)a->search.budget,
                            (unsigned long long)a->search.budget);
        MPI_Finalize();
        return EXIT_USAGE;
    }
    if (provided < MPI_THREAD_FUNNELED && rank == 0)
        fprintf(stderr, "cutune tune: this MPI offers no threads (level %d)\n", provided);
    cutune_cache *cache = NULL;
    cutune_session *measuring = NULL, *driving = NULL;
    setup(a, rank, local_size, &cache, &measuring, &driving, &hello);
    hello_msg *all = rank == 0 ? calloc((size_t)size, sizeof *all) : NULL;
    MPI_Gather(&hello, (int)sizeof hello, MPI_BYTE, all, (int)sizeof hello, MPI_BYTE, 0,
               MPI_COMM_WORLD);
    if (rank == 0)
        rc = all ? check_ranks(all, size) : EXIT_FAILED;
    if (rank == 0 && !rc)
        note_bindings(all, size, local_size);
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!rc && rank == 0) {
        driver d = {.size = size, .hello = all,
                    .outstanding = calloc((size_t)size, sizeof *d.outstanding),
                    .broken = calloc((size_t)size, 1),
                    .tally = calloc((size_t)size, sizeof *d.tally)};
        for (int r = 0; d.tally && r < size; r++) {
            snprintf(d.tally[r].host, sizeof d.tally[r].host, "%s", all[r].host);
            d.tally[r].device = all[r].device;
        }
        rc = d.outstanding && d.broken && d.tally ? drive(driving, cache, a, &d, measuring)
                                                  : EXIT_FAILED;
        free(d.outstanding);
        free(d.broken);
        free(d.tally);
    } else if (!rc) {
        channel l = {mpi_take, mpi_give,
                     await_replacement(a->per_rank ? a->per_rank : PER_RANK_DEFAULT,
                                       hello.cpus)};
        measure_loop(measuring, &l, rank);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD); /* every rank ends as rank 0 does */
    free(all);
    cutune_session_free(driving);
    cutune_session_free(measuring);
    cutune_cache_free(cache);
    MPI_Finalize();
    return rc;
}
