/* worker_nocuda.c — the worker's end in a build without the CUDA toolkit: it says so. */
#include "worker_wire.h"

void ct_worker_child_main(int fd, const cutune_kernel *k, int device)
{
    (void)k;
    (void)device;
    ct_wire_send_failure(fd, CUTUNE_ENODEVICE, "cutune was built without the CUDA toolkit");
}
