/* pipeline_nocuda.c — the pipeline in a build without the CUDA toolkit: it says so. */
#include "internal.h"

int ct_pipeline_cuda(const void *in, void *out, size_t bytes, cutune_compute_fn compute,
                     void *user, const cutune_pipeline_options *options,
                     cutune_pipeline_stats *stats)
{
    (void)in, (void)out, (void)bytes, (void)compute, (void)user, (void)options, (void)stats;
    return ct_fail(CUTUNE_ENOTSUP, "pipeline: cutune was built without CUDA");
}
