/* device.c — what the CUDA runtime says about a device. The runtime is linked statically, so
 * a machine without a driver still runs cutune and gets a clear "no CUDA device" instead. */
#include "internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifdef CUTUNE_HAVE_CUDA
#include <cuda_runtime.h>
#include <dlfcn.h>

/* The static runtime reports a missing driver as "insufficient driver version"; look for the
 * driver library first to say plainly what is missing. */
static int driver_present(char *why, size_t size)
{
    void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        snprintf(why, size, "the CUDA driver (libcuda.so.1) is not installed");
        return 0;
    }
    dlclose(h);
    return 1;
}

int cutune_device_count(int *count)
{
    if (!count)
        return ct_fail(CUTUNE_EINVAL, "cutune_device_count: count is NULL");
    *count = 0;
    char why[128];
    if (!driver_present(why, sizeof why))
        return ct_fail(CUTUNE_ENODEVICE, "%s", why);
    cudaError_t err = cudaGetDeviceCount(count);
    if (err != cudaSuccess) {
        *count = 0;
        return ct_fail(CUTUNE_ENODEVICE, "%s (%s)", cudaGetErrorString(err), cudaGetErrorName(err));
    }
    if (*count == 0)
        return ct_fail(CUTUNE_ENODEVICE, "the driver reports no CUDA-capable device");
    return CUTUNE_OK;
}

typedef struct attr_field {
    enum cudaDeviceAttr attr;
    size_t offset;
} attr_field;

#define FIELD(a, f) {a, offsetof(cutune_device_info, f)}
static const attr_field attr_fields[] = {
    FIELD(cudaDevAttrComputeCapabilityMajor, cc_major),
    FIELD(cudaDevAttrComputeCapabilityMinor, cc_minor),
    FIELD(cudaDevAttrMultiProcessorCount, sm_count),
    FIELD(cudaDevAttrL2CacheSize, l2_cache_bytes),
    FIELD(cudaDevAttrMaxRegistersPerMultiprocessor, regs_per_sm),
    FIELD(cudaDevAttrMaxRegistersPerBlock, regs_per_block),
    FIELD(cudaDevAttrMaxSharedMemoryPerMultiprocessor, smem_per_sm),
    FIELD(cudaDevAttrMaxSharedMemoryPerBlock, smem_per_block),
    FIELD(cudaDevAttrMaxSharedMemoryPerBlockOptin, smem_per_block_optin),
    FIELD(cudaDevAttrReservedSharedMemoryPerBlock, smem_reserved_per_block),
    FIELD(cudaDevAttrMaxThreadsPerMultiProcessor, max_threads_per_sm),
    FIELD(cudaDevAttrMaxThreadsPerBlock, max_threads_per_block),
    FIELD(cudaDevAttrMaxBlocksPerMultiprocessor, max_blocks_per_sm),
    FIELD(cudaDevAttrWarpSize, warp_size),
    FIELD(cudaDevAttrClockRate, sm_clock_khz),
    FIELD(cudaDevAttrMemoryClockRate, mem_clock_khz),
    FIELD(cudaDevAttrGlobalMemoryBusWidth, mem_bus_width_bits),
};
#undef FIELD

int cutune_device_query(int ordinal, cutune_device_info *info)
{
    if (!info)
        return ct_fail(CUTUNE_EINVAL, "cutune_device_query: info is NULL");
    memset(info, 0, sizeof *info);
    int count, st = cutune_device_count(&count);
    if (st)
        return st;
    if (ordinal < 0 || ordinal >= count)
        return ct_fail(CUTUNE_ERANGE, "device %d does not exist (%d device%s)", ordinal, count,
                       count == 1 ? "" : "s");
    struct cudaDeviceProp prop;
    cudaError_t err = cudaGetDeviceProperties(&prop, ordinal);
    if (err != cudaSuccess)
        return ct_fail(CUTUNE_ECUDA, "device %d: cudaGetDeviceProperties: %s", ordinal,
                       cudaGetErrorString(err));
    info->ordinal = ordinal;
    snprintf(info->name, sizeof info->name, "%s", prop.name);
    info->total_memory = prop.totalGlobalMem;
    for (size_t i = 0; i < sizeof attr_fields / sizeof *attr_fields; i++) {
        int *field = (int *)((char *)info + attr_fields[i].offset);
        err = cudaDeviceGetAttribute(field, attr_fields[i].attr, ordinal);
        if (err != cudaSuccess)
            return ct_fail(CUTUNE_ECUDA, "device %d: attribute %d: %s", ordinal,
                           (int)attr_fields[i].attr, cudaGetErrorString(err));
    }
    /* double data rate: two transfers per memory clock */
    info->theoretical_bandwidth_gbs =
        2.0 * info->mem_clock_khz * 1e3 * (info->mem_bus_width_bits / 8.0) / 1e9;
    if ((err = cudaDriverGetVersion(&info->driver_version)) != cudaSuccess ||
        (err = cudaRuntimeGetVersion(&info->runtime_version)) != cudaSuccess)
        return ct_fail(CUTUNE_ECUDA, "device %d: version query: %s", ordinal,
                       cudaGetErrorString(err));
    if (cudaDeviceGetPCIBusId(info->pci_bus_id, sizeof info->pci_bus_id, ordinal) != cudaSuccess)
        info->pci_bus_id[0] = '\0';
    return CUTUNE_OK;
}

#else /* built without the CUDA toolkit */

int cutune_device_count(int *count)
{
    if (!count)
        return ct_fail(CUTUNE_EINVAL, "cutune_device_count: count is NULL");
    *count = 0;
    return ct_fail(CUTUNE_ENODEVICE, "cutune was built without the CUDA toolkit");
}

int cutune_device_query(int ordinal, cutune_device_info *info)
{
    (void)ordinal;
    if (!info)
        return ct_fail(CUTUNE_EINVAL, "cutune_device_query: info is NULL");
    memset(info, 0, sizeof *info);
    return ct_fail(CUTUNE_ENODEVICE, "cutune was built without the CUDA toolkit");
}
#endif
