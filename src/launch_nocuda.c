/* launch_nocuda.c — the launcher in a build without the CUDA toolkit: it loads and launches
 * nothing, and says why. */
#include "launch_impl.h"

int ct_launch_check_device(const cutune_launcher *l)
{
    (void)l;
    return ct_fail(CUTUNE_ENOTSUP, "cutune was built without CUDA");
}

int ct_launch_load(cutune_launcher *l, loaded *e, const int64_t problem[3])
{
    (void)l, (void)e, (void)problem;
    return ct_fail(CUTUNE_ENOTSUP, "cutune was built without CUDA");
}

int ct_launch_loaded(loaded *e, const cutune_kernel *k, const int64_t problem[3],
                     void **args, void *stream, cutune_launch_info *info)
{
    (void)e, (void)k, (void)problem, (void)args, (void)stream, (void)info;
    return ct_fail(CUTUNE_ENOTSUP, "cutune was built without CUDA");
}


int ct_launch_copy_constant(loaded *e, const constant *c)
{
    (void)e, (void)c;
    return CUTUNE_OK; /* nothing is ever loaded */
}

void ct_launch_unload(loaded *e) { (void)e; }
