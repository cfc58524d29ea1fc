/* cli_mpi_drive.c — rank 0 of a distributed `cutune tune` drives the session: its executor
 * hands each configuration to the rank with the least in hand (rank 0's own thread last among
 * equals) and takes results from any rank as they come; at the end every rank finishes what
 * it holds and stops. */
#include "cli_mpi.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

int drive(cutune_session *driving, const cutune_cache *cache, const tune_args *args,
          driver *d, cutune_session *measuring)
{
    tune_args a = *args;
    unsigned per_rank = a.per_rank ? a.per_rank : PER_RANK_DEFAULT;
    if (!a.search.batch) /* one model update per round of the ranks */
        a.search.batch = d->size < 16 ? (unsigned)d->size : 16;
    local_channel ll;
    int st = local_channel_open(&ll, measuring, per_rank, d->hello[0].cpus);
    d->per_rank = per_rank;
    d->local = &ll;
    cutune_executor ex = {.slots = per_rank * (unsigned)d->size, .submit = drv_submit,
                          .wait = drv_wait, .user = d,
                          .device = cache ? NULL : &d->hello[0].info};
    if (!st && (st = cutune_session_set_executor(driving, &ex)))
        local_channel_close(&ll);
    if (st)
        return cli_fail("tune", st);
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
    local_channel_close(&ll);
    return rc;
}

