/* gpu_helpers.c — compile helpers: processes forked to compile configurations into the
 * binary cache while the worker measures. NVRTC compiles one thing at a time in a process
 * (threads queue behind each other: docs/experiments.md), so each compile-ahead thread hands
 * its work to a process of its own, and the compilations go side by side. A helper that dies
 * (a compiler crash on a hostile source) costs only itself: the caller learns it is gone and
 * compiles in its own process from then on.
 *
 * A helper speaks over one end of a socket pair, in whole messages (worker_wire.c): a
 * request is a configuration's index, a reply the job's status. */
#define _GNU_SOURCE /* close_range */
#include "gpu.h"
#include "worker_wire.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct ct_helper {
    pid_t pid;
    int fd; /* the session's end of the socket pair */
};

/* The helper's life: run the job on what is asked until the session closes its end (or
 * dies). It keeps no descriptor but its own end: a session's worker must see its socket
 * close when the session ends, and another helper's socket when that helper is stopped. */
static void helper_main(ct_helper_job job, void *ctx, int fd, pid_t parent)
{
    if (fd > 3)
        close_range(3, (unsigned)fd - 1, 0);
    close_range((unsigned)fd + 1, ~0U, 0);
    signal(SIGINT, SIG_IGN); /* Ctrl-C is the session's to handle: it stops the helpers */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0); /* the session died before the line above */
    size_t i;
    while (ct_wire_recv_all(fd, &i, sizeof i) == 0) {
        int st = job(ctx, i);
        if (ct_wire_send_all(fd, &st, sizeof st))
            break;
    }
    _exit(0);
}

ct_helper *ct_helper_start(ct_helper_job job, void *ctx)
{
    ct_helper *h = calloc(1, sizeof *h);
    int pair[2];
    if (!h || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair)) {
        free(h);
        return NULL;
    }
    pid_t parent = getpid();
    h->pid = fork();
    if (h->pid == 0) {
        close(pair[0]);
        helper_main(job, ctx, pair[1], parent);
    }
    close(pair[1]);
    h->fd = pair[0];
    if (h->pid < 0) {
        ct_helper_stop(h);
        return NULL;
    }
    return h;
}

int ct_helper_run(ct_helper *h, size_t i, int *status)
{
    return ct_wire_send_all(h->fd, &i, sizeof i) || ct_wire_recv_all(h->fd, status, sizeof *status)
               ? -1
               : 0;
}

void ct_helper_stop(ct_helper *h)
{
    if (!h)
        return;
    close(h->fd);
    /* killed, not asked: what it works on now is not wanted (the binary cache's files
     * appear whole or not at all) */
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    free(h);
}
