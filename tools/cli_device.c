/* cli_device.c — `cutune device`: what the CUDA runtime reports about each device, in words
 * or as JSON. Exits 3 with the reason when there is no device or no driver. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char device_help[] =
    "usage: cutune device [--index N] [--json]\n\n"
    "Describes the CUDA devices: name, compute capability, SM count, memory and L2 sizes,\n"
    "per-SM limits (registers, shared memory including the opt-in maximum and the part\n"
    "reserved per block, threads, blocks), clocks, memory bus width, theoretical DRAM\n"
    "bandwidth, and the driver and runtime versions.\n\n"
    "  --index N  only device N (default: all)\n"
    "  --json     machine-readable output\n\n"
    "Without a device or driver it prints 'no CUDA device found: <reason>' and exits 3.\n";

static json_t *device_json(const cutune_device_info *d)
{
    char cc[16];
    snprintf(cc, sizeof cc, "%d.%d", d->cc_major, d->cc_minor);
    return json_pack(
        "{s:i, s:s, s:s, s:i, s:I, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
        "s:i, s:i, s:f, s:i, s:i, s:s}",
        "index", d->ordinal, "name", d->name, "compute_capability", cc, "sm_count", d->sm_count,
        "total_memory_bytes", (json_int_t)d->total_memory, "l2_cache_bytes", d->l2_cache_bytes,
        "regs_per_sm", d->regs_per_sm, "regs_per_block", d->regs_per_block, "smem_per_sm_bytes",
        d->smem_per_sm, "smem_per_block_bytes", d->smem_per_block,
        "smem_per_block_optin_bytes", d->smem_per_block_optin, "smem_reserved_per_block_bytes",
        d->smem_reserved_per_block, "max_threads_per_sm", d->max_threads_per_sm,
        "max_threads_per_block", d->max_threads_per_block, "max_blocks_per_sm",
        d->max_blocks_per_sm, "warp_size", d->warp_size, "sm_clock_khz", d->sm_clock_khz,
        "mem_clock_khz", d->mem_clock_khz, "mem_bus_width_bits", d->mem_bus_width_bits,
        "theoretical_bandwidth_gbs", d->theoretical_bandwidth_gbs, "driver_version",
        d->driver_version, "runtime_version", d->runtime_version, "pci_bus_id", d->pci_bus_id);
}

static void version_text(int v, char *buf, size_t size)
{
    snprintf(buf, size, "%d.%d (%d)", v / 1000, (v % 1000) / 10, v);
}

static void device_print(const cutune_device_info *d)
{
    char drv[32], rt[32];
    version_text(d->driver_version, drv, sizeof drv);
    version_text(d->runtime_version, rt, sizeof rt);
    printf("device %d: %s\n", d->ordinal, d->name);
    printf("  compute capability       %d.%d (sm_%d%d)\n", d->cc_major, d->cc_minor, d->cc_major,
           d->cc_minor);
    printf("  multiprocessors (SMs)    %d\n", d->sm_count);
    printf("  global memory            %.1f GiB (%llu bytes)\n",
           (double)d->total_memory / (1u << 30), (unsigned long long)d->total_memory);
    printf("  L2 cache                 %.1f MiB (%d bytes)\n", d->l2_cache_bytes / 1048576.0,
           d->l2_cache_bytes);
    printf("  registers                %d per SM, %d per block\n", d->regs_per_sm,
           d->regs_per_block);
    printf("  shared memory            %d bytes per SM, %d per block (%d opt-in), %d reserved "
           "per block\n",
           d->smem_per_sm, d->smem_per_block, d->smem_per_block_optin,
           d->smem_reserved_per_block);
    printf("  threads                  %d per SM, %d per block, warp size %d\n",
           d->max_threads_per_sm, d->max_threads_per_block, d->warp_size);
    printf("  blocks per SM            %d\n", d->max_blocks_per_sm);
    printf("  clocks                   SM %d MHz, memory %d MHz\n", d->sm_clock_khz / 1000,
           d->mem_clock_khz / 1000);
    printf("  memory bus               %d bits\n", d->mem_bus_width_bits);
    printf("  theoretical bandwidth    %.1f GB/s\n", d->theoretical_bandwidth_gbs);
    printf("  driver / runtime         CUDA %s / CUDA %s\n", drv, rt);
    if (d->pci_bus_id[0])
        printf("  PCI bus id               %s\n", d->pci_bus_id);
}

int cmd_device(int argc, char **argv)
{
    static const struct option opts[] = {{"index", required_argument, 0, 'i'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int json = 0, c;
    long long only = -1;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+:hj", opts, NULL)) != -1) {
        unsigned long long v;
        switch (c) {
        case 'h':
            fputs(device_help, stdout);
            return EXIT_OK;
        case 'j':
            json = 1;
            break;
        case 'i':
            if (cli_parse_u64("device", "--index", optarg, &v))
                return EXIT_USAGE;
            only = v > 1000000 ? 1000000 : (long long)v;
            break;
        case ':':
            return cli_usage_error("device", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("device", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("device", "unexpected argument '%s'", argv[optind]);

    int count, st = cutune_device_count(&count);
    if (st) {
        fprintf(stderr, "no CUDA device found: %s\n", cutune_last_error());
        return EXIT_NO_DEVICE;
    }
    if (only >= count) {
        fprintf(stderr, "cutune device: no device %lld (this machine has %d)\n", only, count);
        return EXIT_FAILED;
    }
    json_t *list = json ? json_array() : NULL;
    for (int i = only < 0 ? 0 : (int)only; i < (only < 0 ? count : only + 1); i++) {
        cutune_device_info d;
        if ((st = cutune_device_query(i, &d))) {
            json_decref(list);
            return cli_fail("device", st);
        }
        if (json)
            json_array_append_new(list, device_json(&d));
        else
            device_print(&d);
    }
    return json ? cli_print_json(list) : EXIT_OK;
}
