/* worker.c — the session's end of the process that owns the CUDA context (see worker.h): it
 * starts the worker with fork, through a zygote, and talks over a socket pair (a dead worker
 * is then an error to read, not a SIGPIPE). The worker's own end is worker_cuda.c. */
#include "worker_wire.h"
#include "compile_impl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

const char *ct_outcome_name(ct_outcome o)
{
    static const char *const names[] = {"measured", "RuntimeFailedConfig",
                                        "VerificationFailedConfig", "TimeoutConfig"};
    return (unsigned)o < 4 ? names[o] : "unknown";
}

/* ------------------------------------------------------------------- the zygote ---- */

/* Workers are forked by a zygote, a process forked once when the session starts, before the
 * session has compiled anything: a process that has used NVRTC can no longer give its
 * children a working CUDA (cudaErrorInitializationError), and a worker killed on a timeout
 * must be replaced by a clean one. The zygote hands each new worker's socket back over its
 * own socket (SCM_RIGHTS). Both die with the session. */
static void zygote_main(int fd, const cutune_kernel *k, int device)
{
    signal(SIGCHLD, SIG_IGN); /* workers are reaped by the system */
    /* Ctrl-C is for the session: it ends after the configuration in hand, whose worker
     * must finish it rather than die with the session's terminal */
    signal(SIGINT, SIG_IGN);
    for (;;) {
        char request;
        if (ct_wire_recv_all(fd, &request, 1))
            return;
        int sv[2];
        pid_t pid = -1;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
            pid = fork();
            if (pid == 0) {
                close(fd);
                close(sv[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                ct_worker_child_main(sv[1], k, device);
                _exit(0);
            }
            close(sv[1]);
        }
        char buf[CMSG_SPACE(sizeof(int))];
        memset(buf, 0, sizeof buf);
        int32_t p32 = (int32_t)pid;
        struct iovec iov = {.iov_base = &p32, .iov_len = sizeof p32};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        if (pid > 0) {
            m.msg_control = buf;
            m.msg_controllen = sizeof buf;
            struct cmsghdr *c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &sv[0], sizeof(int));
        }
        ssize_t sent = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (pid > 0)
            close(sv[0]);
        if (sent != (ssize_t)sizeof p32)
            return;
    }
}

/* ------------------------------------------------------------ the session's side ---- */

struct ct_worker {
    const cutune_kernel *kernel;
    int device;
    pid_t zygote;
    int zfd;
    pid_t pid; /* the worker, a child of the zygote */
    int fd;
    char *reference; /* outputs of the reference run, to give a restarted worker */
    size_t reference_len;
    char *check;     /* each argument's ct_check, likewise (NULL: the spec's) */
    size_t check_len;
    char **given;    /* per argument: a MSG_ARGUMENT's body, contents given (NULL: none) */
    size_t *given_len;
    cutune_device_info info;
};

static void reap(ct_worker *w)
{
    if (w->pid > 0)
        kill(w->pid, SIGKILL);
    if (w->fd >= 0)
        close(w->fd);
    w->pid = -1;
    w->fd = -1;
}

static int spawn(ct_worker *w)
{
    char request = 'w';
    int32_t pid = -1;
    char buf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &pid, .iov_len = sizeof pid};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf,
                       .msg_controllen = sizeof buf};
    if (ct_wire_send_all(w->zfd, &request, 1) || recvmsg(w->zfd, &m, 0) != (ssize_t)sizeof pid ||
        pid <= 0)
        return ct_fail(CUTUNE_EIO, "worker: the zygote could not start a worker");
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return ct_fail(CUTUNE_EIO, "worker: no socket from the zygote");
    memcpy(&w->fd, CMSG_DATA(c), sizeof(int));
    w->pid = pid;
    msg_head h;
    char why[512] = "";
    /* allocating and filling big buffers may take a while */
    if (ct_wire_wait_readable(w->fd, 600) != 1 || ct_wire_recv_all(w->fd, &h, sizeof h) ||
        (h.kind != MSG_INFO && h.kind != MSG_FAILED) ||
        (h.kind == MSG_INFO && h.len != sizeof w->info) || h.len >= sizeof why + sizeof w->info) {
        reap(w);
        return ct_fail(CUTUNE_ECUDA, "worker: did not start");
    }
    if (h.kind == MSG_FAILED) {
        ct_wire_recv_all(w->fd, why, h.len < sizeof why ? h.len : sizeof why - 1);
        reap(w);
        return ct_fail(h.status == CUTUNE_ENODEVICE ? CUTUNE_ENODEVICE : CUTUNE_ECUDA,
                       "worker: %s", why);
    }
    if (ct_wire_recv_all(w->fd, &w->info, sizeof w->info)) {
        reap(w);
        return ct_fail(CUTUNE_ECUDA, "worker: did not start");
    }
    for (size_t i = 0; i < cutune_kernel_num_args(w->kernel); i++)
        if (w->given[i] && ct_wire_send_msg(w->fd, MSG_ARGUMENT, w->given[i], w->given_len[i])) {
            reap(w);
            return ct_fail(CUTUNE_ECUDA, "worker: lost while receiving the arguments");
        }
    if (w->check && ct_wire_send_msg(w->fd, MSG_CHECK, w->check, w->check_len)) {
        reap(w);
        return ct_fail(CUTUNE_ECUDA, "worker: lost while receiving what to compare");
    }
    if (w->reference && ct_wire_send_msg(w->fd, MSG_REFERENCE, w->reference, w->reference_len)) {
        reap(w);
        return ct_fail(CUTUNE_ECUDA, "worker: lost while receiving the reference");
    }
    return CUTUNE_OK;
}

int ct_worker_start(ct_worker **out, const cutune_kernel *kernel, int device,
                    cutune_device_info *info)
{
    *out = NULL;
    if (__atomic_load_n(&ct_nvrtc_loaded, __ATOMIC_RELAXED))
        return ct_fail(CUTUNE_EINVAL,
                       "worker: this process has used NVRTC already, and CUDA cannot start in "
                       "a process forked after that: start tuning sessions before compiling");
    ct_worker *w = calloc(1, sizeof *w);
    if (!w)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    size_t nargs = cutune_kernel_num_args(kernel);
    w->given = calloc(nargs ? nargs : 1, sizeof *w->given);
    w->given_len = calloc(nargs ? nargs : 1, sizeof *w->given_len);
    if (!w->given || !w->given_len) {
        free(w->given);
        free(w->given_len);
        free(w);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    w->kernel = kernel;
    w->device = device;
    w->pid = -1;
    w->fd = -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        free(w->given);
        free(w->given_len);
        free(w);
        return ct_fail(CUTUNE_EIO, "worker: socketpair: %s", strerror(errno));
    }
    w->zygote = fork();
    if (w->zygote == 0) {
        close(sv[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        zygote_main(sv[1], kernel, device);
        _exit(0);
    }
    close(sv[1]);
    w->zfd = sv[0];
    int st = w->zygote < 0 ? ct_fail(CUTUNE_EIO, "worker: fork: %s", strerror(errno))
                           : spawn(w);
    if (st) {
        ct_worker_stop(w);
        return st;
    }
    if (info)
        *info = w->info;
    *out = w;
    return CUTUNE_OK;
}

/* A message the worker keeps for the session (its checks, the reference, arguments given):
 * `owned` (malloc'd, taken over) becomes *kept, and is sent now to a running worker; a
 * worker started later is sent it as it starts. A worker that cannot take it is let go (the
 * next run starts one, and hands it over). */
static void keep_and_send_owned(ct_worker *w, uint32_t kind, char **kept, size_t *kept_len,
                                char *owned, size_t len)
{
    free(*kept);
    *kept = owned;
    *kept_len = len;
    if (w->fd >= 0 && ct_wire_send_msg(w->fd, kind, owned, len))
        reap(w);
}

static int keep_and_send(ct_worker *w, uint32_t kind, char **kept, size_t *kept_len,
                         const void *data, size_t len, const char *what)
{
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return ct_fail(CUTUNE_ENOMEM, "out of memory for %s", what);
    if (len)
        memcpy(copy, data, len);
    keep_and_send_owned(w, kind, kept, kept_len, copy, len);
    return CUTUNE_OK;
}

int ct_worker_set_reference(ct_worker *w, const void *data, size_t len)
{
    return keep_and_send(w, MSG_REFERENCE, &w->reference, &w->reference_len, data, len,
                         "the reference");
}

int ct_worker_set_check(ct_worker *w, const ct_check *checks, size_t n)
{
    return keep_and_send(w, MSG_CHECK, &w->check, &w->check_len, checks, n * sizeof *checks,
                         "the checks");
}

int ct_worker_set_argument(ct_worker *w, size_t i, const void *data, size_t len)
{
    if (i >= cutune_kernel_num_args(w->kernel))
        return ct_fail(CUTUNE_EINVAL, "worker: no argument %zu", i);
    uint64_t index = i;
    char *body = malloc(sizeof index + len);
    if (!body)
        return ct_fail(CUTUNE_ENOMEM, "out of memory for argument %zu's contents", i);
    memcpy(body, &index, sizeof index);
    memcpy(body + sizeof index, data, len);
    keep_and_send_owned(w, MSG_ARGUMENT, &w->given[i], &w->given_len[i], body,
                        sizeof index + len);
    return CUTUNE_OK;
}

void ct_worker_stop(ct_worker *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        ct_wire_send_msg(w->fd, MSG_QUIT, NULL, 0);
    reap(w);
    close(w->zfd); /* the zygote reads the end of its socket and leaves */
    if (w->zygote > 0)
        waitpid(w->zygote, NULL, 0);
    free(w->reference);
    free(w->check);
    for (size_t i = 0; i < cutune_kernel_num_args(w->kernel); i++)
        free(w->given[i]);
    free(w->given);
    free(w->given_len);
    free(w);
}

int ct_worker_run(ct_worker *w, const ct_run_request *req, ct_run_result *res)
{
    memset(res, 0, sizeof *res);
    if (w->pid < 0) {
        int st = spawn(w);
        if (st)
            return st;
    }
    size_t slen = strlen(req->symbol) + 1;
    run_wire wire = {.grid = {req->grid[0], req->grid[1], req->grid[2]},
                     .block = {req->block[0], req->block[1], req->block[2]},
                     .dynamic_smem = req->dynamic_smem, .cubin_size = req->cubin_size,
                     .symbol_len = slen, .warmups = req->warmups,
                     .iterations = req->iterations, .flush_l2 = req->flush_l2,
                     .precision = req->precision, .best_ms = req->best_ms,
                     .make_reference = req->make_reference, .verify = req->verify,
                     .cooperative = req->cooperative};
    msg_head h = {.kind = MSG_RUN, .len = sizeof wire + slen + req->cubin_size};
    if (ct_wire_send_all(w->fd, &h, sizeof h) || ct_wire_send_all(w->fd, &wire, sizeof wire) ||
        ct_wire_send_all(w->fd, req->symbol, slen) || ct_wire_send_all(w->fd, req->cubin, req->cubin_size)) {
        reap(w);
        res->outcome = CT_RUNTIME_FAILED;
        snprintf(res->message, sizeof res->message, "the worker was gone");
        return CUTUNE_OK;
    }
    int ready = ct_wire_wait_readable(w->fd, req->timeout_s);
    if (ready == 1 && ct_wire_recv_all(w->fd, &h, sizeof h) == 0 && h.kind == MSG_RESULT &&
        h.len == sizeof *res && ct_wire_recv_all(w->fd, res, sizeof *res) == 0) {
        if (req->make_reference && res->outcome == CT_MEASURED) {
            msg_head r;
            char *ref = NULL;
            if (ct_wire_recv_all(w->fd, &r, sizeof r) || r.kind != MSG_REFERENCE ||
                !(ref = malloc(r.len ? r.len : 1)) || ct_wire_recv_all(w->fd, ref, r.len)) {
                free(ref);
                reap(w);
                return ct_fail(CUTUNE_ECUDA, "worker: lost while sending the reference");
            }
            free(w->reference);
            w->reference = ref;
            w->reference_len = r.len;
        }
        /* a worker whose context a fault poisoned leaves after answering */
        if (res->restart)
            reap(w);
        return CUTUNE_OK;
    }
    if (ready == 0) {
        res->outcome = CT_TIMEOUT;
        snprintf(res->message, sizeof res->message, "no answer within %.3g s", req->timeout_s);
        reap(w);
        return CUTUNE_OK;
    }
    reap(w);
    res->outcome = CT_RUNTIME_FAILED;
    snprintf(res->message, sizeof res->message, "the worker died while running it");
    return CUTUNE_OK;
}
