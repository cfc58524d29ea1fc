/* pipeline.c — the copy/compute pipeline's entry: the options checked, then the CUDA half
 * (pipeline_cuda.c; pipeline_nocuda.c without the toolkit) runs it. */
#include "internal.h"

#include <string.h>

int cutune_pipeline_run(const void *in, void *out, size_t bytes, cutune_compute_fn compute,
                        void *user, const cutune_pipeline_options *options,
                        cutune_pipeline_stats *stats)
{
    cutune_pipeline_stats scratch;
    stats = stats ? stats : &scratch;
    memset(stats, 0, sizeof *stats);
    cutune_pipeline_options o = options ? *options : (cutune_pipeline_options){0};
    if (!compute)
        return ct_fail(CUTUNE_EINVAL, "pipeline: no compute callback");
    if (bytes && (!in || !out))
        return ct_fail(CUTUNE_EINVAL, "pipeline: NULL %s buffer", in ? "output" : "input");
    if (o.copy_threads < 0 || o.copy_threads > CT_MAX_COPIERS + 1)
        return ct_fail(CUTUNE_EINVAL, "pipeline: %d copy threads (1 to %d, please)",
                       o.copy_threads, CT_MAX_COPIERS + 1);
    if (o.depth < 0 || o.depth > CT_MAX_PIPELINE_DEPTH)
        return ct_fail(CUTUNE_EINVAL, "pipeline: depth %d (1 to %d, please)", o.depth,
                       CT_MAX_PIPELINE_DEPTH);
    if (bytes == 0)
        return CUTUNE_OK;
    return ct_pipeline_cuda(in, out, bytes, compute, user, &o, stats);
}
