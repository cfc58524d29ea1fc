/* cli_compile.c — `cutune compile`: one configuration of a kernel compiled with NVRTC for an
 * architecture, through the disk cache; no GPU needed. Reports registers, shared memory,
 * spills and the occupancy they allow. */
#include "cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GO_ON (-1) /* parse_args: the command goes on */

/* What the command line asks. */
typedef struct compile_args {
    const char *spec, *key, *arch_name, *cache_dir, *output, *source_path;
    char *kernel; /* --kernel, else the spec's KernelName (malloc'd) */
    const char *extra[64]; /* --option, in order */
    size_t nextra;
    int json;
} compile_args;

static const char compile_help[] =
    "usage: cutune compile KERNEL.cu --spec T1.json --config KEY --arch SM [--kernel NAME]\n"
    "                      [--option OPT]... [--cache-dir DIR] [--output FILE.cubin]\n"
    "                      [--json]\n\n"
    "Compiles one configuration of a kernel with NVRTC for an architecture; no GPU is needed.\n"
    "As Kernel Tuner does, defines go ahead of the source: grid_size_x/y/z (where the source\n"
    "uses them), block_size_x/y/z, each parameter (a loop_unroll_factor* as a constexpr int;\n"
    "0 drops its #pragma unroll) and kernel_tuner 1; a source that redefines one of them\n"
    "fails, naming the line. The binary is kept in the disk cache ($XDG_CACHE_HOME/cutune/\n"
    "kernels by default), keyed also by every header the source includes: compiling the\n"
    "same thing again reads it back. Prints NVRTC's warnings (its whole log when it fails),\n"
    "registers, shared memory, spills and the occupancy they allow with the block.\n\n"
    "  --spec T1.json     the search space; its KernelSpecification gives the kernel name\n"
    "                     (KernelName) and compiler options (CompilerOptions)\n"
    "  --config KEY       the configuration, as Kernel Tuner writes it (\"16,1,2,...\")\n"
    "  --arch SM          sm_50 ... sm_121\n"
    "  --kernel NAME      the __global__ function, if the spec does not name it\n"
    "  --option OPT       one more NVRTC option (repeatable)\n"
    "  --cache-dir DIR    the binary cache folder ('' for none)\n"
    "  --output FILE      also write the cubin there (PTX for a kernel of more than\n"
    "                     48 KiB of static shared memory, which NVRTC makes no cubin of)\n"
    "  --json             machine-readable output\n";

/* KernelName and CompilerOptions from the spec's KernelSpecification, when it has them. */
static int read_kernel_spec(const char *path, char **kernel, const char ***options, size_t *n)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "cutune compile: %s:%d:%d: %s\n", path, err.line, err.column, err.text);
        return -1;
    }
    json_t *ks = json_object_get(root, "KernelSpecification");
    json_t *name = json_object_get(ks, "KernelName");
    json_t *opts = json_object_get(ks, "CompilerOptions");
    if (json_is_string(name) && !*kernel)
        *kernel = strdup(json_string_value(name));
    size_t count = json_is_array(opts) ? json_array_size(opts) : 0;
    *options = calloc(count + 1, sizeof **options);
    for (size_t i = 0; *options && i < count; i++) {
        json_t *o = json_array_get(opts, i);
        if (json_is_string(o))
            (*options)[(*n)++] = strdup(json_string_value(o));
    }
    json_decref(root);
    return *options ? 0 : -1;
}

/* Threads of the configuration's block: as the spec's KernelSpecification says (its
 * LocalSize) when it has a whole one, else block_size_x * y * z, the parameters that exist. */
static long block_threads(const cutune_kernel *kernel, const cutune_space *s,
                          const uint32_t *config)
{
    unsigned grid[3], block[3];
    if (kernel && cutune_kernel_geometry(kernel, config, grid, block, NULL) == CUTUNE_OK)
        return (long)block[0] * block[1] * block[2];
    static const char *const names[] = {"block_size_x", "block_size_y", "block_size_z"};
    long threads = 1;
    for (int k = 0; k < 3; k++) {
        size_t p;
        if (cutune_space_find_param(s, names[k], &p))
            continue;
        char buf[32];
        cutune_space_format_value(s, p, config[p], buf, sizeof buf);
        long v = strtol(buf, NULL, 10);
        threads = v > 0 && threads * v <= INT_MAX ? threads * v : 0;
    }
    return threads;
}

/* The kernel's source (under 64 MiB), NUL-terminated and malloc'd; NULL when it cannot be
 * read. */
static char *read_source(const char *path)
{
    char *source = NULL;
    FILE *f = fopen(path, "rb");
    size_t len = 0;
    if (f) {
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        rewind(f);
        source = size >= 0 && size < (64L << 20) ? malloc((size_t)size + 1) : NULL;
        len = source ? fread(source, 1, (size_t)size, f) : 0;
        fclose(f);
    }
    if (source)
        source[len] = '\0';
    return source;
}

/* What was compiled, written to --output when asked: its resources and the occupancy they
 * allow with the configuration's block, as lines or JSON. The exit status. */
static int report_binary(const compile_args *a, const cutune_arch *arch, long threads,
                         const cutune_binary *bin, const char *log)
{
    cutune_binary_info info;
    size_t size;
    const void *code = cutune_binary_code(bin, &size);
    cutune_binary_get_info(bin, &info);
    if (a->output && cli_file_write(a->output, code, size, "compile"))
        return EXIT_FAILED;
    cutune_block_resources l = {.threads = (int)threads, .regs = info.regs,
                                .static_smem = info.static_smem, .carveout = -1};
    cutune_occupancy occ;
    int have_occ = l.threads > 0 && cutune_occupancy_compute(arch, &l, &occ) == CUTUNE_OK;
    if (a->json) {
        return cli_print_json(json_pack(
            "{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:i, s:b, s:f, s:I, s:b, s:s?, s:s?, s:o}",
            "kernel", a->kernel, "lowered_name", info.lowered_name, "arch", arch->name, "config",
            a->key, "regs", info.regs, "static_smem", (json_int_t)info.static_smem, "stack_bytes",
            (json_int_t)info.stack_bytes, "spill_bytes", (json_int_t)info.spill_bytes,
            "barriers", info.barriers, "from_cache", info.from_cache, "compile_s",
            info.compile_s, "cubin_bytes", (json_int_t)size, "ptx", info.ptx,
            "cache_path", info.cache_path,
            "log", log,
            "occupancy",
            have_occ ? json_pack("{s:i, s:i, s:f, s:s?}", "threads", l.threads,
                                 "blocks_per_sm", occ.blocks_per_sm, "occupancy", occ.occupancy,
                                 "reason", occ.blocks_per_sm ? NULL : occ.reason)
                     : json_null()));
    }
    printf("%s (%s) for %s, configuration %s: %s\n", a->kernel, a->source_path, arch->name,
           a->key, info.from_cache ? "from the cache" : "compiled");
    cli_print_compiler_log(log, 1);
    if (!info.from_cache)
        printf("  NVRTC time       %.3f s\n", info.compile_s);
    printf("  registers        %d per thread\n", info.regs);
    printf("  shared memory    %zu bytes static\n", info.static_smem);
    printf("  stack, spills    %zu bytes, %zu bytes of spill stores\n", info.stack_bytes,
           info.spill_bytes);
    printf("  %-16s %zu bytes%s%s\n", info.ptx ? "PTX" : "cubin", size,
           info.cache_path ? " at " : "", info.cache_path ? info.cache_path : "");
    if (info.ptx)
        printf("                   (NVRTC makes no cubin past 48 KiB of static shared memory: the "
               "driver compiles it as it loads it)\n");
    if (have_occ && occ.blocks_per_sm)
        printf("  occupancy        %d blocks of %d threads per SM, %.0f%% (without dynamic "
               "shared memory)\n",
               occ.blocks_per_sm, l.threads, 100 * occ.occupancy);
    else if (have_occ)
        printf("  occupancy        cannot launch: %s\n", occ.reason);
    return EXIT_OK;
}

/* The command line into *a: GO_ON, or the exit status (--help, a usage error). */
static int parse_args(int argc, char **argv, compile_args *a)
{
    enum { O_CACHE = 256 };
    static const struct option opts[] = {{"spec", required_argument, 0, 's'},
                                         {"config", required_argument, 0, 'c'},
                                         {"arch", required_argument, 0, 'a'},
                                         {"kernel", required_argument, 0, 'k'},
                                         {"option", required_argument, 0, 'O'},
                                         {"cache-dir", required_argument, 0, O_CACHE},
                                         {"output", required_argument, 0, 'o'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *a = (compile_args){0};
    int c;
    opterr = 0;
    optind = 0;
    /* (no '+': the kernel file may come before the options) */
    while ((c = getopt_long(argc, argv, ":hj", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(compile_help, stdout);
            return EXIT_OK;
        case 's': a->spec = optarg; break;
        case 'c': a->key = optarg; break;
        case 'a': a->arch_name = optarg; break;
        case 'k': free(a->kernel); a->kernel = strdup(optarg); break;
        case O_CACHE: a->cache_dir = optarg; break;
        case 'o': a->output = optarg; break;
        case 'j': a->json = 1; break;
        case 'O':
            if (a->nextra == sizeof a->extra / sizeof *a->extra)
                return cli_usage_error("compile", "too many --option");
            a->extra[a->nextra++] = optarg;
            break;
        case ':':
            return cli_usage_error("compile", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("compile", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("compile", optind < argc ? "one kernel file, please"
                                                        : "which kernel file?");
    if (!a->spec || !a->key || !a->arch_name)
        return cli_usage_error("compile", "--spec, --config and --arch are required");
    a->source_path = argv[optind];
    return GO_ON;
}

/* Compiles the configuration and reports it: the exit status. */
static int compile_one(compile_args *a)
{
    int rc = EXIT_FAILED, st;
    cutune_space *space = NULL;
    cutune_kernel *spec_kernel = NULL; /* NULL: the spec has no whole KernelSpecification */
    cutune_binary *bin = NULL;
    char *source = NULL, *log = NULL;
    const char **options = NULL;
    size_t noptions = 0, np = 0;
    uint32_t config[64];
    cutune_arch arch;
    if ((st = cutune_arch_find(a->arch_name, &arch)) ||
        (st = cutune_space_load_t1(&space, a->spec))) {
        rc = cli_fail("compile", st);
        goto out;
    }
    np = cutune_space_num_params(space);
    if (np > 64 || (st = cutune_space_parse_key(space, a->key, config))) {
        rc = cli_fail("compile", st ? st : CUTUNE_ETOOBIG);
        goto out;
    }
    if (cutune_space_is_valid(space, config) != 1) {
        fprintf(stderr, "cutune compile: configuration %s violates the constraints of %s\n",
                a->key, a->spec);
        goto out;
    }
    if (read_kernel_spec(a->spec, &a->kernel, &options, &noptions))
        goto out;
    if (cutune_kernel_load_t1(a->spec, space, &spec_kernel) != CUTUNE_OK)
        spec_kernel = NULL;
    if (!a->kernel) {
        rc = cli_usage_error("compile", "%s names no kernel (KernelName): give --kernel",
                             a->spec);
        goto out;
    }
    if (!(source = read_source(a->source_path))) {
        fprintf(stderr, "cutune compile: cannot read %s\n", a->source_path);
        goto out;
    }
    int64_t problem[3];
    cutune_kernel_problem(spec_kernel, problem);
    /* with a whole KernelSpecification the kernel gives its options; else the spec's list */
    const char *all_options[128];
    size_t nall = 0;
    for (size_t i = 0; !spec_kernel && i < noptions && nall < 128; i++)
        all_options[nall++] = options[i];
    for (size_t i = 0; i < a->nextra && nall < 128; i++)
        all_options[nall++] = a->extra[i];
    cutune_config_request req = {.space = space, .kernel = spec_kernel, .config = config,
                                 .problem = problem, .source = source,
                                 .source_name = a->source_path, .arch = arch.name,
                                 .cache_dir = a->cache_dir, .kernel_name = a->kernel,
                                 .options = all_options, .num_options = nall, .log = &log};
    st = cutune_compile_config(&req, &bin);
    if (st) {
        if (!a->json && log) { /* the message's first line: the log below has the rest */
            char why[1024];
            snprintf(why, sizeof why, "%s", cutune_last_error());
            why[strcspn(why, "\n")] = '\0';
            cutune_set_error(st, "%s", why);
        }
        rc = cli_fail("compile", st);
        if (a->json)
            cli_print_json(json_pack("{s:s, s:s, s:s?}", "error", cutune_last_error(), "config",
                                     a->key, "log", log));
        else
            cli_print_compiler_log(log, 0);
        goto out;
    }
    rc = report_binary(a, &arch, block_threads(spec_kernel, space, config), bin, log);
out:
    free(log);
    cutune_kernel_free(spec_kernel);
    for (size_t i = 0; options && i < noptions; i++)
        free((char *)options[i]);
    free(options);
    free(source);
    free(a->kernel);
    cutune_binary_free(bin);
    cutune_space_free(space);
    return rc;
}

int cmd_compile(int argc, char **argv)
{
    compile_args a;
    int rc = parse_args(argc, argv, &a);
    return rc == GO_ON ? compile_one(&a) : rc;
}
