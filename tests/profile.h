/* profile.h — what the tests that write profiles share: the hash cutune keys a spec's kernel
 * by (its source and the spec's -D defines, as tuning sessions and launchers compute it), and
 * a profile of a device ready for cutune_store_put. */
#ifndef CUTUNE_TEST_PROFILE_H
#define CUTUNE_TEST_PROFILE_H

#include "cutune.h"

#include <stdio.h>

/* The source hash of the kernel `spec` describes (its KernelFile); 0, or -1 after saying
 * why on stderr. */
static inline int spec_source_hash(const char *spec, char hash[33])
{
    static char text[1 << 20];
    cutune_space *space = NULL;
    cutune_kernel *k = NULL;
    size_t len = 0;
    int ok = cutune_space_load_t1(&space, spec) == CUTUNE_OK &&
             cutune_kernel_load_t1(spec, space, &k) == CUTUNE_OK;
    FILE *f = ok && cutune_kernel_file(k) ? fopen(cutune_kernel_file(k), "rb") : NULL;
    if (f) {
        len = fread(text, 1, sizeof text, f);
        fclose(f);
    }
    ok = ok && len && cutune_kernel_source_hash(k, text, len, hash) == CUTUNE_OK;
    if (!ok)
        fprintf(stderr, "%s: cannot hash its kernel's source: %s\n", spec, cutune_last_error());
    cutune_kernel_free(k);
    cutune_space_free(space);
    return ok ? 0 : -1;
}

/* A profile of `kernel` on `dev` at `problem` that took `ms` (its median too). */
static inline cutune_profile test_profile(const cutune_device_info *dev, const char *kernel,
                                          const char *hash, const int64_t problem[3],
                                          const char *params, const char *config, double ms)
{
    return (cutune_profile){.device = dev->name, .cc_major = dev->cc_major,
                            .cc_minor = dev->cc_minor, .sm_count = dev->sm_count,
                            .driver_version = dev->driver_version,
                            .runtime_version = dev->runtime_version, .kernel = kernel,
                            .source_hash = hash, .problem = {problem[0], problem[1], problem[2]},
                            .params = params, .config = config, .time_ms = ms, .median_ms = ms,
                            .strategy = "test", .budget = 1};
}

#endif
