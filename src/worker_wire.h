/* worker_wire.h — what the two ends of a worker's socket share (worker.c, the session's
 * end and the zygote; worker_cuda.c, the worker's end): the messages, the request as it
 * travels, and whole sends and receives (worker_wire.c). */
#ifndef CUTUNE_WORKER_WIRE_H
#define CUTUNE_WORKER_WIRE_H

#include "worker.h"

#include <stdint.h>

/* MSG_CHECK: each argument's ct_check (what is compared, and how); MSG_REFERENCE: the bytes
 * of each compared output, in argument order; MSG_ARGUMENT: an argument's initial contents
 * (its index as a uint64_t, then its bytes), instead of its spec's fill. */
enum { MSG_INFO = 1, MSG_FAILED, MSG_RUN, MSG_RESULT, MSG_REFERENCE, MSG_QUIT, MSG_CHECK,
       MSG_ARGUMENT };

typedef struct msg_head {
    uint32_t kind, status; /* status: of a MSG_FAILED, a cutune status */
    uint64_t len;
} msg_head;

/* The request as it travels: fixed fields, then the symbol, then the cubin. */
typedef struct run_wire {
    unsigned grid[3], block[3];
    uint64_t dynamic_smem, cubin_size, symbol_len;
    int32_t warmups, iterations, flush_l2, make_reference, verify, cooperative;
    double precision, best_ms; /* adaptive timing (measure.h); precision 0: a fixed count */
} run_wire;


/* Sends or receives len bytes whole: 0, or -1 when the other end is gone. */
int ct_wire_send_all(int fd, const void *data, size_t len);
int ct_wire_recv_all(int fd, void *data, size_t len);
/* A message: its head, then len bytes of data. */
int ct_wire_send_msg(int fd, uint32_t kind, const void *data, uint64_t len);
/* Why the worker could not start, with its status (CUTUNE_ENODEVICE: no GPU or driver). */
void ct_wire_send_failure(int fd, int status, const char *why);
/* Waits up to timeout_s (<= 0: for ever) for data; 1 ready, 0 timed out, -1 error. */
int ct_wire_wait_readable(int fd, double timeout_s);

/* The worker's end (worker_cuda.c; worker_nocuda.c says there is no CUDA): sets up the
 * kernel's buffers on `device`, then serves requests on fd until told to quit. */
void ct_worker_child_main(int fd, const cutune_kernel *k, int device);

#endif
