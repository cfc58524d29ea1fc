/* gpu_helpers.c — compile helpers: processes forked to compile configurations into the
 * binary cache while the worker measures. NVRTC compiles one thing at a time in a process
 * (threads queue behind each other: docs/experiments.md), so each compile-ahead thread hands
 * its work to a process of its own, and the compilations go side by side. A helper that dies
 * (a compiler crash on a hostile source) costs only itself: its thread compiles in-process
 * from then on. */
#define _GNU_SOURCE /* close_range */
#include "gpu.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ct_helper {
    pid_t pid;
    int to, from; /* requests (a configuration's index) out, statuses in */
};

static int write_all(int fd, const void *buf, size_t n)
{
    for (const char *p = buf; n;) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    for (char *p = buf; n;) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r, n -= (size_t)r;
    }
    return 0;
}

/* The helper's life: compile what is asked until the session closes the pipe (or dies). It
 * keeps no descriptor but its two: a session's worker must see its socket close when the
 * session ends, and another helper's pipe must close when that helper is stopped. */
static void helper_main(cutune_session *s, ct_helper_job job, int in, int out, pid_t parent)
{
    int lo = in < out ? in : out, hi = in < out ? out : in;
    close_range(3, (unsigned)lo - 1, 0);
    close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
    close_range((unsigned)hi + 1, ~0U, 0);
    signal(SIGINT, SIG_IGN); /* Ctrl-C is the session's to handle: it stops the helpers */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
    size_t i;
    while (read_all(in, &i, sizeof i) == 0) {
        int st = i < s->dom.n ? job(s, i) : CUTUNE_EINVAL;
        if (write_all(out, &st, sizeof st))
            break;
    }
    _exit(0);
}

ct_helper *ct_helper_start(cutune_session *s, ct_helper_job job)
{
    ct_helper *h = calloc(1, sizeof *h);
    int req[2] = {-1, -1}, rep[2] = {-1, -1};
    if (!h || pipe(req) || pipe(rep)) {
        for (int k = 0; k < 2; k++) {
            if (req[k] >= 0)
                close(req[k]);
            if (rep[k] >= 0)
                close(rep[k]);
        }
        free(h);
        return NULL;
    }
    pid_t parent = getpid();
    h->pid = fork();
    if (h->pid == 0)
        helper_main(s, job, req[0], rep[1], parent);
    close(req[0]);
    close(rep[1]);
    h->to = req[1];
    h->from = rep[0];
    if (h->pid < 0) {
        ct_helper_stop(h);
        return NULL;
    }
    return h;
}

int ct_helper_compile(ct_helper *h, size_t i, int *status)
{
    /* (a helper gone makes the write fail with EPIPE: the signal is not wanted) */
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    int bad = write_all(h->to, &i, sizeof i);
    if (bad) { /* take back the SIGPIPE the write raised, before unblocking */
        struct timespec now = {0, 0};
        sigtimedwait(&pipe_set, NULL, &now);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return bad || read_all(h->from, status, sizeof *status) ? -1 : 0;
}

void ct_helper_stop(ct_helper *h)
{
    if (!h)
        return;
    close(h->to);
    close(h->from);
    /* not waited for: what it compiles now is not wanted (the cache's files appear whole,
     * or not at all) */
    if (h->pid > 0)
        kill(h->pid, SIGKILL);
    if (h->pid > 0)
        while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    free(h);
}
