/* worker.c — the process that owns the CUDA context (see worker.h). The session side starts
 * it with fork and talks over a socket pair (a dead worker is then an error to read, not a
 * SIGPIPE). The worker side allocates the kernel's buffers once, keeps pristine copies of
 * those the kernel writes, and for each configuration loads the cubin, launches it, times
 * the launches with CUDA events, and compares the outputs with the reference. */
#include "worker.h"
#include "compile_impl.h"
#include "verify.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *ct_outcome_name(ct_outcome o)
{
    static const char *const names[] = {"measured", "RuntimeFailedConfig",
                                        "VerificationFailedConfig", "TimeoutConfig"};
    return (unsigned)o < 4 ? names[o] : "unknown";
}

/* ------------------------------------------------------------------------ messages ---- */

/* MSG_CHECK: each argument's ct_check (what is compared, and how); MSG_REFERENCE: the bytes
 * of each compared output, in argument order. */
enum { MSG_INFO = 1, MSG_FAILED, MSG_RUN, MSG_RESULT, MSG_REFERENCE, MSG_QUIT, MSG_CHECK };

typedef struct msg_head {
    uint32_t kind, status; /* status: of a MSG_FAILED, a cutune status */
    uint64_t len;
} msg_head;

static int send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int recv_all(int fd, void *data, size_t len)
{
    char *p = data;
    while (len) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int send_msg(int fd, uint32_t kind, const void *data, uint64_t len)
{
    msg_head h = {.kind = kind, .len = len};
    return send_all(fd, &h, sizeof h) || (len && send_all(fd, data, len)) ? -1 : 0;
}

/* Why the worker could not start, with its status (CUTUNE_ENODEVICE: no GPU or driver). */
static void send_failure(int fd, int status, const char *why)
{
    msg_head h = {.kind = MSG_FAILED, .status = (uint32_t)status, .len = strlen(why)};
    if (!send_all(fd, &h, sizeof h))
        send_all(fd, why, h.len);
}

/* Waits up to timeout_s (<= 0: for ever) for data; 1 ready, 0 timed out, -1 error. */
static int wait_readable(int fd, double timeout_s)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        int ms = timeout_s > 0 ? (int)(timeout_s * 1e3 + 1) : -1;
        int n = poll(&p, 1, ms);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -1 : n;
    }
}

/* The request as it travels: fixed fields, then the symbol, then the cubin. */
typedef struct run_wire {
    unsigned grid[3], block[3];
    uint64_t dynamic_smem, cubin_size, symbol_len;
    int32_t warmups, iterations, flush_l2, make_reference, verify, cooperative;
} run_wire;

#ifdef CUTUNE_HAVE_CUDA
#include "cuda_launch.h"

/* ------------------------------------------------------------- the worker's side ---- */

typedef struct child {
    const cutune_kernel *k;
    size_t nargs;
    void **dev, **pristine, **host, **ref;
    void **readback; /* pinned host buffers for the outputs */
    ct_check *check; /* what is compared, and how (the spec's, until the session says) */
    size_t *bytes;
    void *flush;
    size_t flush_bytes;
    cudaStream_t stream;
    cudaEvent_t start, stop;
    int fd;
} child;

#define CUDA_TRY(call, what)                                                            \
    do {                                                                                \
        cudaError_t e_ = (call);                                                        \
        if (e_ != cudaSuccess) {                                                        \
            snprintf(why, size, "%s: %s", what, cudaGetErrorString(e_));                \
            return -1;                                                                  \
        }                                                                               \
    } while (0)

/* Refuses arguments that cannot fit before allocating and filling any (a problem size too
 * large would otherwise spend minutes filling host memory it then cannot copy): on the GPU
 * each buffer, a pristine copy of those written; on the host each argument's initial
 * contents, the reference and a pinned read-back of each output. */
static int check_memory(child *c, char *why, size_t size)
{
    double device = 0, host = 0;
    for (size_t i = 0; i < c->nargs; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(c->k, i);
        c->bytes[i] = (size_t)a->count * cutune_elem_size(a->type);
        double b = (double)c->bytes[i];
        host += b * (1 + 2 * a->output);
        if (!a->scalar)
            device += b * (1 + a->written);
    }
    size_t free_bytes = 0, total_bytes = 0;
    CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    const double gib = 1024.0 * 1024 * 1024;
    if (device > (double)free_bytes) {
        snprintf(why, size, "the kernel's arguments at this problem size need %.1f GiB of GPU "
                 "memory; %.1f GiB of the GPU's %.1f GiB are free", device / gib,
                 (double)free_bytes / gib, (double)total_bytes / gib);
        return -1;
    }
    if (ram > 0 && host > ram) {
        snprintf(why, size, "the kernel's arguments at this problem size need %.1f GiB of host "
                 "memory (initial contents, reference, read-back); this machine has %.1f GiB",
                 host / gib, ram / gib);
        return -1;
    }
    return 0;
}

static int child_setup(child *c, int device, cutune_device_info *info, char *why, size_t size)
{
    int st = cutune_device_query(device, info);
    if (st) {
        snprintf(why, size, "%s", cutune_last_error());
        return st;
    }
    CUDA_TRY(cudaSetDevice(device), "cudaSetDevice");
    CUDA_TRY(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "stream");
    CUDA_TRY(cudaEventCreate(&c->start), "event");
    CUDA_TRY(cudaEventCreate(&c->stop), "event");
    c->flush_bytes = 2 * (size_t)(info->l2_cache_bytes > 0 ? info->l2_cache_bytes : 1 << 24);
    CUDA_TRY(cudaMalloc(&c->flush, c->flush_bytes), "the L2 flush buffer");
    c->nargs = cutune_kernel_num_args(c->k);
    size_t n = c->nargs ? c->nargs : 1;
    c->dev = calloc(n, sizeof *c->dev);
    c->pristine = calloc(n, sizeof *c->pristine);
    c->host = calloc(n, sizeof *c->host);
    c->ref = calloc(n, sizeof *c->ref);
    c->readback = calloc(n, sizeof *c->readback);
    c->bytes = calloc(n, sizeof *c->bytes);
    c->check = calloc(n, sizeof *c->check);
    if (!c->dev || !c->pristine || !c->host || !c->ref || !c->readback || !c->bytes ||
        !c->check) {
        snprintf(why, size, "out of memory");
        return -1;
    }
    if (check_memory(c, why, size))
        return -1;
    for (size_t i = 0; i < c->nargs; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(c->k, i);
        c->check[i] = ct_check_of_arg(a);
        if (ct_fill_host(c->k, i, &c->host[i], why, size))
            return -1;
        if (a->scalar)
            continue;
        CUDA_TRY(cudaMalloc(&c->dev[i], c->bytes[i]), a->name);
        CUDA_TRY(cudaMemcpy(c->dev[i], c->host[i], c->bytes[i], cudaMemcpyHostToDevice),
                 a->name);
        if (a->output)
            CUDA_TRY(cudaMallocHost(&c->readback[i], c->bytes[i]), a->name);
        if (a->written) {
            CUDA_TRY(cudaMalloc(&c->pristine[i], c->bytes[i]), a->name);
            CUDA_TRY(cudaMemcpy(c->pristine[i], c->dev[i], c->bytes[i],
                                cudaMemcpyDeviceToDevice),
                     a->name);
        }
    }
    return 0;
}

/* Puts back what the kernel may have written, outside the timed interval. */
static int restore(child *c, char *why, size_t size)
{
    for (size_t i = 0; i < c->nargs; i++)
        if (c->pristine[i])
            CUDA_TRY(cudaMemcpyAsync(c->dev[i], c->pristine[i], c->bytes[i],
                                     cudaMemcpyDeviceToDevice, c->stream),
                     "restoring an input");
    return 0;
}

/* Compares the outputs with the reference (or makes them the reference). */
static int check_outputs(child *c, const run_wire *w, ct_run_result *res, char *why,
                         size_t size)
{
    for (size_t i = 0; i < c->nargs; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(c->k, i);
        if (!c->check[i].compare)
            continue;
        unsigned char *got = c->readback[i];
        CUDA_TRY(cudaMemcpy(got, c->dev[i], c->bytes[i], cudaMemcpyDeviceToHost),
                 "reading an output");
        if (w->make_reference) {
            if (!c->ref[i] && !(c->ref[i] = malloc(c->bytes[i]))) {
                snprintf(why, size, "out of memory");
                return -1;
            }
            memcpy(c->ref[i], got, c->bytes[i]);
            continue;
        }
        if (!w->verify || !c->ref[i])
            continue;
        double err;
        uint64_t j = ct_compare(a->type, got, c->ref[i], a->count, &c->check[i], &err);
        if (err > res->max_error)
            res->max_error = err;
        if (j < a->count) {
            size_t es = cutune_elem_size(a->type);
            char test[96];
            res->outcome = CT_VERIFICATION_FAILED;
            snprintf(res->message, sizeof res->message, "%s[%llu] is %g, the reference %g "
                     "(%s fails)", a->name, (unsigned long long)j,
                     ct_elem_value(a->type, got + j * es),
                     ct_elem_value(a->type, (unsigned char *)c->ref[i] + j * es),
                     ct_check_text(&c->check[i], test, sizeof test));
            break;
        }
    }
    return 0;
}

/* One configuration. A failure of the kernel is an outcome; -1 only when the worker must
 * end (a CUDA error that poisons the context), with the outcome set. */
static int child_run(child *c, const run_wire *w, const char *symbol, const void *cubin,
                     ct_run_result *res)
{
    memset(res, 0, sizeof *res);
    char *why = res->message;
    size_t size = sizeof res->message;
    cudaLibrary_t lib = NULL;
    cudaKernel_t kern;
    res->outcome = CT_RUNTIME_FAILED;
    cudaError_t e = cudaLibraryLoadData(&lib, cubin, NULL, NULL, 0, NULL, NULL, 0);
    if (e == cudaSuccess)
        e = cudaLibraryGetKernel(&kern, lib, symbol);
    if (e != cudaSuccess) {
        snprintf(why, size, "loading the cubin: %s", cudaGetErrorString(e));
        if (lib)
            cudaLibraryUnload(lib);
        return 0;
    }
    int fatal = 0;
    void **params = calloc(c->nargs ? c->nargs : 1, sizeof *params);
    for (size_t i = 0; params && i < c->nargs; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(c->k, i);
        params[i] = a->scalar ? c->host[i] : &c->dev[i];
        void *sym;
        size_t sym_size;
        if (a->constant && cudaLibraryGetGlobal(&sym, &sym_size, lib, a->name) == cudaSuccess)
            cudaMemcpy(sym, c->host[i], sym_size < c->bytes[i] ? sym_size : c->bytes[i],
                       cudaMemcpyHostToDevice);
    }
    if (!params)
        snprintf(why, size, "out of memory");
    else if (w->dynamic_smem > 48 * 1024 &&
             (e = cudaFuncSetAttribute((const void *)kern,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       (int)w->dynamic_smem)) != cudaSuccess)
        snprintf(why, size, "%llu bytes of dynamic shared memory: %s",
                 (unsigned long long)w->dynamic_smem, cudaGetErrorString(e));
    else {
        int n = w->iterations < 64 ? w->iterations : 64;
        for (int i = 0; i < w->warmups + n; i++) {
            int timed = i >= w->warmups;
            if (restore(c, why, size))
                break;
            if (timed && w->flush_l2)
                cudaMemsetAsync(c->flush, i, c->flush_bytes, c->stream);
            if (timed)
                cudaEventRecord(c->start, c->stream);
            e = ct_cuda_launch((const void *)kern, w->grid, w->block, params,
                               (size_t)w->dynamic_smem, c->stream, w->cooperative);
            if (e == cudaSuccess && timed)
                e = cudaEventRecord(c->stop, c->stream);
            if (e == cudaSuccess)
                e = cudaStreamSynchronize(c->stream);
            if (e != cudaSuccess) {
                snprintf(why, size, "%s: %s", cudaGetErrorName(e), cudaGetErrorString(e));
                /* errors of the launch itself leave the context usable; faults do not */
                cudaGetLastError();
                fatal = cudaDeviceSynchronize() != cudaSuccess;
                break;
            }
            if (timed) {
                float ms;
                cudaEventElapsedTime(&ms, c->start, c->stop);
                res->times_ms[res->iterations++] = ms;
            }
        }
        if (res->iterations == n) {
            res->outcome = CT_MEASURED;
            why[0] = '\0';
            if (check_outputs(c, w, res, why, size))
                res->outcome = CT_RUNTIME_FAILED;
        }
    }
    free(params);
    cudaLibraryUnload(lib);
    res->restart = fatal;
    return fatal ? -1 : 0;
}

static void child_main(int fd, const cutune_kernel *k, int device)
{
    child c = {.k = k, .fd = fd};
    cutune_device_info info;
    char why[256];
    int st = child_setup(&c, device, &info, why, sizeof why);
    if (st) {
        send_failure(fd, st == CUTUNE_ENODEVICE ? st : CUTUNE_ECUDA, why);
        return;
    }
    if (send_msg(fd, MSG_INFO, &info, sizeof info))
        return;
    for (;;) {
        msg_head h;
        if (recv_all(fd, &h, sizeof h) || h.kind == MSG_QUIT)
            return;
        if (h.len > ((uint64_t)1 << 36))
            return;
        char *body = malloc(h.len ? h.len : 1);
        if (!body || recv_all(fd, body, h.len)) {
            free(body);
            return;
        }
        if (h.kind == MSG_CHECK) { /* what to compare, and how */
            for (size_t i = 0; i < c.nargs && (i + 1) * sizeof *c.check <= h.len; i++) {
                const cutune_kernel_arg *a = cutune_kernel_arg_at(k, i);
                memcpy(&c.check[i], body + i * sizeof *c.check, sizeof *c.check);
                c.check[i].compare &= a->output && !a->scalar; /* (read back: outputs) */
                if (!c.check[i].compare) {
                    free(c.ref[i]);
                    c.ref[i] = NULL;
                }
            }
            free(body);
            continue;
        }
        if (h.kind == MSG_REFERENCE) { /* the default's outputs after a restart, or answers */
            size_t off = 0;
            for (size_t i = 0; i < c.nargs; i++) {
                if (!c.check[i].compare || off + c.bytes[i] > h.len)
                    continue;
                free(c.ref[i]);
                if ((c.ref[i] = malloc(c.bytes[i])))
                    memcpy(c.ref[i], body + off, c.bytes[i]);
                off += c.bytes[i];
            }
            free(body);
            continue;
        }
        run_wire w;
        ct_run_result res;
        memcpy(&w, body, sizeof w);
        const char *symbol = body + sizeof w;
        int fatal = child_run(&c, &w, symbol, body + sizeof w + w.symbol_len, &res);
        int sent = send_msg(fd, MSG_RESULT, &res, sizeof res);
        if (!sent && w.make_reference && res.outcome == CT_MEASURED) {
            size_t total = 0, off = 0;
            for (size_t i = 0; i < c.nargs; i++)
                total += c.ref[i] ? c.bytes[i] : 0;
            char *all = malloc(total ? total : 1);
            for (size_t i = 0; all && i < c.nargs; i++)
                if (c.ref[i]) {
                    memcpy(all + off, c.ref[i], c.bytes[i]);
                    off += c.bytes[i];
                }
            sent = all ? send_msg(fd, MSG_REFERENCE, all, total) : -1;
            free(all);
        }
        free(body);
        if (fatal || sent)
            return;
    }
}
#else
static void child_main(int fd, const cutune_kernel *k, int device)
{
    (void)k;
    (void)device;
    send_failure(fd, CUTUNE_ENODEVICE, "cutune was built without the CUDA toolkit");
}
#endif

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
        if (recv_all(fd, &request, 1))
            return;
        int sv[2];
        pid_t pid = -1;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
            pid = fork();
            if (pid == 0) {
                close(fd);
                close(sv[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                child_main(sv[1], k, device);
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
    if (send_all(w->zfd, &request, 1) || recvmsg(w->zfd, &m, 0) != (ssize_t)sizeof pid ||
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
    if (wait_readable(w->fd, 600) != 1 || recv_all(w->fd, &h, sizeof h) ||
        (h.kind != MSG_INFO && h.kind != MSG_FAILED) ||
        (h.kind == MSG_INFO && h.len != sizeof w->info) || h.len >= sizeof why + sizeof w->info) {
        reap(w);
        return ct_fail(CUTUNE_ECUDA, "worker: did not start");
    }
    if (h.kind == MSG_FAILED) {
        recv_all(w->fd, why, h.len < sizeof why ? h.len : sizeof why - 1);
        reap(w);
        return ct_fail(h.status == CUTUNE_ENODEVICE ? CUTUNE_ENODEVICE : CUTUNE_ECUDA,
                       "worker: %s", why);
    }
    if (recv_all(w->fd, &w->info, sizeof w->info)) {
        reap(w);
        return ct_fail(CUTUNE_ECUDA, "worker: did not start");
    }
    if (w->check && send_msg(w->fd, MSG_CHECK, w->check, w->check_len)) {
        reap(w);
        return ct_fail(CUTUNE_ECUDA, "worker: lost while receiving what to compare");
    }
    if (w->reference && send_msg(w->fd, MSG_REFERENCE, w->reference, w->reference_len)) {
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
    w->kernel = kernel;
    w->device = device;
    w->pid = -1;
    w->fd = -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
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

int ct_worker_set_reference(ct_worker *w, const void *data, size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return ct_fail(CUTUNE_ENOMEM, "out of memory for the reference");
    memcpy(copy, data, len);
    free(w->reference);
    w->reference = copy;
    w->reference_len = len;
    if (w->fd >= 0 && send_msg(w->fd, MSG_REFERENCE, w->reference, w->reference_len))
        reap(w); /* the next run starts a worker and hands it the reference */
    return CUTUNE_OK;
}

int ct_worker_set_check(ct_worker *w, const ct_check *checks, size_t n)
{
    size_t len = n * sizeof *checks;
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (len)
        memcpy(copy, checks, len);
    free(w->check);
    w->check = copy;
    w->check_len = len;
    if (w->fd >= 0 && send_msg(w->fd, MSG_CHECK, w->check, w->check_len))
        reap(w); /* the next run starts a worker and hands it the checks */
    return CUTUNE_OK;
}

void ct_worker_stop(ct_worker *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        send_msg(w->fd, MSG_QUIT, NULL, 0);
    reap(w);
    close(w->zfd); /* the zygote reads the end of its socket and leaves */
    if (w->zygote > 0)
        waitpid(w->zygote, NULL, 0);
    free(w->reference);
    free(w->check);
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
                     .make_reference = req->make_reference, .verify = req->verify,
                     .cooperative = req->cooperative};
    msg_head h = {.kind = MSG_RUN, .len = sizeof wire + slen + req->cubin_size};
    if (send_all(w->fd, &h, sizeof h) || send_all(w->fd, &wire, sizeof wire) ||
        send_all(w->fd, req->symbol, slen) || send_all(w->fd, req->cubin, req->cubin_size)) {
        reap(w);
        res->outcome = CT_RUNTIME_FAILED;
        snprintf(res->message, sizeof res->message, "the worker was gone");
        return CUTUNE_OK;
    }
    int ready = wait_readable(w->fd, req->timeout_s);
    if (ready == 1 && recv_all(w->fd, &h, sizeof h) == 0 && h.kind == MSG_RESULT &&
        h.len == sizeof *res && recv_all(w->fd, res, sizeof *res) == 0) {
        if (req->make_reference && res->outcome == CT_MEASURED) {
            msg_head r;
            char *ref = NULL;
            if (recv_all(w->fd, &r, sizeof r) || r.kind != MSG_REFERENCE ||
                !(ref = malloc(r.len ? r.len : 1)) || recv_all(w->fd, ref, r.len)) {
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
