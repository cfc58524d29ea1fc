/* cli_occupancy.c — `cutune occupancy`: blocks per SM of one launch configuration, what
 * limits them and what would lift them; or, with --batch, one answer per line of input. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char occupancy_help[] =
    "usage: cutune occupancy (--arch SM | --device N) --threads T [--regs R] [--smem BYTES]\n"
    "                        [--static-smem BYTES] [--max-dynamic-smem BYTES]\n"
    "                        [--carveout PCT] [--json]\n"
    "       cutune occupancy --batch < LINES\n\n"
    "How many blocks of a launch one SM holds, as the CUDA runtime's calculator answers it,\n"
    "the occupancy (active warps / most warps an SM holds), what limits it (warp slots,\n"
    "registers, shared memory, blocks per SM) and what would lift it.\n\n"
    "  --arch SM             sm_50 ... sm_121 (also 90, 9.0, sm_90a)\n"
    "  --device N            the architecture and limits of CUDA device N\n"
    "  --threads T           threads per block\n"
    "  --regs R              registers per thread (default 32)\n"
    "  --smem BYTES          dynamic shared memory per block (default 0; 48K means 49152)\n"
    "  --static-smem BYTES   static (__shared__) memory per block (default 0)\n"
    "  --max-dynamic-smem B  the kernel's dynamic shared memory limit (default: raised to\n"
    "                        --smem, as cutune does when it launches)\n"
    "  --carveout PCT        preferred shared memory carve-out, 0..100 (default: none)\n"
    "  --json                machine-readable output\n"
    "  --batch               read lines 'sm_XY threads regs smem_bytes' from standard input\n"
    "                        and print blocks per SM, one a line ('error' for a bad line,\n"
    "                        with the reason on standard error; the exit status is then 1)\n\n"
    "Architectures: ";

/* An integer option with an optional K/KiB (x1024) suffix; negative values are refused. */
static int parse_size(const char *opt, const char *text, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end != text && (strcmp(end, "K") == 0 || strcmp(end, "KiB") == 0 ||
                        strcmp(end, "k") == 0)) {
        v = v > LLONG_MAX / 1024 ? LLONG_MAX : v * 1024;
        end += strlen(end);
    }
    if (end == text || *end || errno) {
        cli_usage_error("occupancy", "%s needs an integer, not '%s'", opt, text);
        return -1;
    }
    if (v < 0 || v > max) {
        cli_usage_error("occupancy", "%s %s is outside 0..%lld", opt, text, max);
        return -1;
    }
    *out = v;
    return 0;
}

static const char *limiter_list(unsigned limiters, char *buf, size_t size)
{
    static const char *const names[] = {"warps", "registers", "shared_memory", "blocks"};
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < 4; i++)
        if ((limiters & (1u << i)) && len < size)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "", names[i]);
    return buf;
}

static json_t *bound_json(int blocks)
{
    return blocks == INT_MAX ? json_null() : json_integer(blocks);
}

static int print_one(const cutune_arch *a, const cutune_block_resources *l, int json)
{
    cutune_occupancy o;
    cutune_occupancy_advice adv;
    int st = cutune_occupancy_compute(a, l, &o);
    if (!st)
        st = cutune_occupancy_advise(a, l, &adv);
    if (st)
        return cli_fail("occupancy", st);
    char lim[64];
    limiter_list(o.limiters, lim, sizeof lim);
    if (json) {
        json_t *limiters = json_array();
        for (char *p = lim; *p;) {
            size_t n = strcspn(p, ",");
            json_array_append_new(limiters, json_stringn(p, n));
            p += n + (p[n] == ',');
        }
        json_t *j = json_pack(
            "{s:s, s:i, s:i, s:I, s:I, s:I, s:i, s:i, s:i, s:i, s:f, s:o, s:{s:o, s:o, s:o, s:o},"
            " s:i, s:I, s:I, s:s?, s:{s:i, s:i, s:I, s:i, s:i, s:f, s:s}}",
            "arch", a->name, "threads", l->threads, "regs", l->regs, "static_smem",
            (json_int_t)l->static_smem, "dynamic_smem", (json_int_t)l->dynamic_smem,
            "max_dynamic_smem", (json_int_t)l->max_dynamic_smem, "carveout", l->carveout,
            "blocks_per_sm", o.blocks_per_sm, "warps_per_sm", o.warps_per_sm,
            "max_warps_per_sm", o.max_warps_per_sm, "occupancy", o.occupancy, "limiters",
            limiters, "blocks_by", "warps", bound_json(o.blocks_by_warps), "registers",
            bound_json(o.blocks_by_regs), "shared_memory", bound_json(o.blocks_by_smem),
            "blocks", bound_json(o.blocks_by_blocks), "regs_per_block", o.regs_per_block,
            "smem_per_block", (json_int_t)o.smem_per_block, "smem_per_sm",
            (json_int_t)o.smem_per_sm, "reason", o.blocks_per_sm ? NULL : o.reason, "advice",
            "more_blocks", adv.more_blocks, "regs_for_more", adv.regs_for_more,
            "smem_for_more", (json_int_t)adv.smem_for_more, "best_threads", adv.best_threads,
            "best_blocks_per_sm", adv.best_blocks, "best_occupancy", adv.best_occupancy, "text",
            adv.text);
        return cli_print_json(j);
    }
    printf("%s: %d threads per block, %d registers per thread, %zu + %zu bytes of shared "
           "memory\n",
           a->name, l->threads, l->regs, l->static_smem, l->dynamic_smem);
    printf("  blocks per SM    %d\n", o.blocks_per_sm);
    printf("  active warps     %d of %d (occupancy %.1f%%)\n", o.warps_per_sm,
           o.max_warps_per_sm, 100 * o.occupancy);
    char b[4][16];
    int bounds[4] = {o.blocks_by_warps, o.blocks_by_regs, o.blocks_by_smem, o.blocks_by_blocks};
    for (int i = 0; i < 4; i++)
        snprintf(b[i], sizeof b[i], bounds[i] == INT_MAX ? "-" : "%d", bounds[i]);
    printf("  blocks allowed   by warp slots %s, registers %s, shared memory %s, block cap %s\n",
           b[0], b[1], b[2], b[3]);
    printf("  limited by       %s\n", lim);
    printf("  per block        %d registers, %zu bytes of shared memory (SM configured to %zu)\n",
           o.regs_per_block, o.smem_per_block, o.smem_per_sm);
    printf("  %s\n", adv.text);
    return EXIT_OK;
}

/* --batch: "sm_XY threads regs smem_bytes" per line -> blocks per SM per line. */
static int run_batch(void)
{
    char line[256], last[32] = "";
    cutune_arch arch;
    int bad = 0;
    unsigned long lineno = 0;
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n') {
            }
            fprintf(stderr, "cutune occupancy: line %lu: longer than %zu characters\n", lineno,
                    sizeof line - 2);
            puts("error");
            bad = 1;
            continue;
        }
        char name[32], extra[2];
        long long threads, regs, smem;
        int n = sscanf(line, "%31s %lld %lld %lld %1s", name, &threads, &regs, &smem, extra);
        const char *why = NULL;
        if (n != 4)
            why = "expected 'sm_XY threads regs smem_bytes'";
        else if (threads < 1 || threads > INT_MAX || regs < 0 || regs > INT_MAX || smem < 0)
            why = "threads must be at least 1, registers and shared memory at least 0";
        else if (strcmp(name, last) != 0) {
            if (cutune_arch_find(name, &arch) != CUTUNE_OK) {
                why = cutune_last_error();
                last[0] = '\0';
            } else
                snprintf(last, sizeof last, "%s", name);
        }
        if (why) {
            fprintf(stderr, "cutune occupancy: line %lu: %s\n", lineno, why);
            puts("error");
            bad = 1;
            continue;
        }
        cutune_block_resources l = {
            .threads = (int)threads, .regs = (int)regs, .dynamic_smem = (size_t)smem,
            .carveout = -1};
        printf("%d\n", cutune_occupancy_blocks(&arch, &l));
    }
    if (ferror(stdin)) {
        fprintf(stderr, "cutune occupancy: reading standard input: %s\n", strerror(errno));
        return EXIT_FAILED;
    }
    return bad ? EXIT_FAILED : EXIT_OK;
}

int cmd_occupancy(int argc, char **argv)
{
    enum { O_STATIC = 256, O_MAXDYN, O_CARVE, O_BATCH };
    static const struct option opts[] = {{"arch", required_argument, 0, 'a'},
                                         {"device", required_argument, 0, 'd'},
                                         {"threads", required_argument, 0, 't'},
                                         {"regs", required_argument, 0, 'r'},
                                         {"smem", required_argument, 0, 's'},
                                         {"static-smem", required_argument, 0, O_STATIC},
                                         {"max-dynamic-smem", required_argument, 0, O_MAXDYN},
                                         {"carveout", required_argument, 0, O_CARVE},
                                         {"batch", no_argument, 0, O_BATCH},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *arch_name = NULL;
    long long device = -1, threads = -1, regs = 32, smem = 0, stat = 0, maxdyn = 0, carve = -1;
    int json = 0, batch = 0, c;
    const long long SIZE_MAX_OPT = 1LL << 40;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+:hj", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'h': {
            fputs(occupancy_help, stdout);
            for (const char *const *n = cutune_arch_names(); *n; n++)
                printf("%s%s", *n, n[1] ? " " : "\n");
            return EXIT_OK;
        }
        case 'a':
            arch_name = optarg;
            break;
        case 'd':
            bad = parse_size("--device", optarg, 1024, &device);
            break;
        case 't':
            bad = parse_size("--threads", optarg, INT_MAX, &threads);
            break;
        case 'r':
            bad = parse_size("--regs", optarg, INT_MAX, &regs);
            break;
        case 's':
            bad = parse_size("--smem", optarg, SIZE_MAX_OPT, &smem);
            break;
        case O_STATIC:
            bad = parse_size("--static-smem", optarg, SIZE_MAX_OPT, &stat);
            break;
        case O_MAXDYN:
            bad = parse_size("--max-dynamic-smem", optarg, SIZE_MAX_OPT, &maxdyn);
            break;
        case O_CARVE:
            bad = parse_size("--carveout", optarg, 100, &carve);
            break;
        case O_BATCH:
            batch = 1;
            break;
        case 'j':
            json = 1;
            break;
        case ':':
            return cli_usage_error("occupancy", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("occupancy", "unknown option '%s'", argv[optind - 1]);
        }
        if (bad)
            return EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("occupancy", "unexpected argument '%s'", argv[optind]);
    if (batch) {
        if (arch_name || device >= 0 || threads >= 0 || json)
            return cli_usage_error("occupancy", "--batch reads everything from standard input");
        return run_batch();
    }
    if (!arch_name == (device < 0))
        return cli_usage_error("occupancy", "give one of --arch or --device");
    if (threads < 0)
        return cli_usage_error("occupancy", "--threads is required");

    cutune_arch arch;
    int st;
    if (arch_name) {
        st = cutune_arch_find(arch_name, &arch);
    } else {
        cutune_device_info info;
        st = cutune_device_query((int)device, &info);
        if (st == CUTUNE_ENODEVICE) {
            fprintf(stderr, "no CUDA device found: %s\n", cutune_last_error());
            return EXIT_NO_DEVICE;
        }
        if (!st)
            st = cutune_arch_from_device(&info, &arch);
    }
    if (st)
        return cli_fail("occupancy", st);
    cutune_block_resources l = {
        .threads = (int)threads, .regs = (int)regs, .static_smem = (size_t)stat,
        .dynamic_smem = (size_t)smem, .max_dynamic_smem = (size_t)maxdyn,
        .carveout = (int)carve};
    return print_one(&arch, &l, json);
}
