/* cli_mpi_measure.c — what every rank of a distributed `cutune tune` does: measures the
 * configurations it is sent, in order, compiling those queued behind the one measured, and
 * sends each result back as soon as it has it. Work comes through a channel: MPI from rank 0,
 * or on rank 0 itself two queues shared by its measuring thread and the driver. */
#include "cli_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long longer_wait(long ns) { return ns < 1000000 ? ns * 2 : 1000000; }

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
void measure_loop(cutune_session *s, channel *l, int rank)
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

void local_send(local_channel *ll, const work_msg *w)
{
    pthread_mutex_lock(&ll->mu);
    if (ll->nwork < QUEUE_MAX)
        ll->work[ll->nwork++] = *w;
    pthread_cond_signal(&ll->work_cv);
    pthread_mutex_unlock(&ll->mu);
}

/* A result of rank 0's thread, waiting at most wait_ns for one; 1 when there was one. */
int local_poll(local_channel *ll, result_msg *r, long wait_ns)
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

void *local_thread(void *arg)
{
    local_channel *ll = arg;
    measure_loop(ll->s, &ll->base, 0);
    return NULL;
}

channel mpi_rank_channel(unsigned per_rank, int cpus)
{
    return (channel){mpi_take, mpi_give, await_replacement(per_rank, cpus)};
}

int local_channel_open(local_channel *ll, cutune_session *s, unsigned per_rank, int cpus)
{
    *ll = (local_channel){.base = {local_take, local_give, await_replacement(per_rank, cpus)},
                          .s = s, .cap = per_rank + 1};
    if (!(ll->results = calloc(ll->cap, sizeof *ll->results)))
        return CUTUNE_ENOMEM;
    pthread_mutex_init(&ll->mu, NULL);
    pthread_cond_init(&ll->work_cv, NULL);
    pthread_cond_init(&ll->result_cv, NULL);
    return CUTUNE_OK;
}

void local_channel_close(local_channel *ll)
{
    pthread_cond_destroy(&ll->work_cv);
    pthread_cond_destroy(&ll->result_cv);
    pthread_mutex_destroy(&ll->mu);
    free(ll->results);
}
