/* cli_mpi.c — `cutune tune` under mpirun (in cutune-mpi): rank 0 drives the session (the
 * strategy, every record, the profile store) through an executor that hands configurations to
 * the ranks; every rank, rank 0 included on a thread of its own, measures what it is sent with
 * a session of its own (its GPU, its worker, its compile threads; or the recorded space) and
 * sends each result back as soon as it has it. Only rank 0 prints. Here: the ranks meet,
 * check each other, and each goes to its part (cli_mpi_measure.c, cli_mpi_drive.c). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "cli_mpi.h"

#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int cli_mpi_tune(int argc, char **argv, const tune_args *a)
{
    int provided, rank, size, local_size;
    /* the GP's matrices are small: BLAS threads would only spin against the ranks (and, on
     * the GPU, the compile threads) for the host's cores */
    cutune_set_math_threads(1);
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
        channel l = mpi_rank_channel(a->per_rank ? a->per_rank : PER_RANK_DEFAULT,
                                     hello.cpus);
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

