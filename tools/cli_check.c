/* cli_check.c — `cutune check SPEC [KERNEL]`: a spec and its kernel looked over offline, as a
 * new user needs before tuning: the space (and what of the spec cutune does not use), the
 * launch of one configuration, and that configuration compiled with its resources and
 * occupancy, NVRTC's whole log when it fails. No GPU is needed. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char check_help[] =
    "usage: cutune check SPEC.json [KERNEL.cu] [--config KEY] [--arch SM] [--cache-dir DIR]\n"
    "                    [--json]\n\n"
    "Looks a T1 spec and its kernel over without a GPU: loads the search space (parameters,\n"
    "constraints, the number of valid configurations) and its KernelSpecification, then\n"
    "compiles one configuration with NVRTC as a tuning run would (Kernel Tuner's defines\n"
    "ahead of the source) and reports its launch (grid, block, dynamic shared memory), its\n"
    "registers, shared memory and spills, and the occupancy they allow with what limits it.\n"
    "What loading the spec warned of (a Default that is not a value, defaults that break a\n"
    "constraint) and the fields of the spec cutune does not read are listed. NVRTC's warnings\n"
    "are shown; when it fails, its whole log. The exit status is 1 when the spec, the kernel\n"
    "or the compilation fails.\n\n"
    "  KERNEL.cu        the source (default: the spec's KernelFile, beside the spec)\n"
    "  --config KEY     the configuration to compile, as Kernel Tuner writes it (default: the\n"
    "                   spec's default, else its first valid configuration)\n"
    "  --arch SM        the architecture (default: the GPU's when there is one, else sm_90)\n"
    "  --cache-dir DIR  the binary cache folder ('' for none)\n"
    "  --json           machine-readable output\n";

typedef struct check {
    const char *spec, *kernel_file, *key, *arch_name, *cache_dir;
    int json;
    cutune_space *space;
    cutune_kernel *kernel;
    char *source, *log;
    json_t *out; /* the report, for --json */
    int failed;
} check;

/* A stage's failure: said in words (or kept for --json), and the check fails. */
static void stage_failed(check *c, const char *stage, const char *why)
{
    c->failed = 1;
    if (c->json)
        json_object_set_new(c->out, "error", json_pack("{s:s, s:s}", "stage", stage,
                                                       "message", why));
    else
        fprintf(stderr, "cutune check: %s: %s\n", stage, why);
}

typedef struct first {
    uint32_t *config;
    size_t np;
} first;

static int first_valid(const uint32_t *config, void *user)
{
    first *f = user;
    memcpy(f->config, config, f->np * sizeof *config);
    return 1;
}

/* What loading the spec warned of, and the fields of it cutune does not use. */
static void report_spec_notes(check *c)
{
    json_t *warnings = json_array(), *ignored = json_array();
    for (size_t i = 0; i < cutune_space_num_warnings(c->space); i++) {
        const char *w = cutune_space_warning(c->space, i);
        if (c->json)
            json_array_append_new(warnings, json_string(w));
        else
            printf("  warning      %s\n", cli_text(w));
    }
    char *fields = NULL;
    size_t n = 0;
    if (cutune_spec_ignored_fields(c->spec, &fields, &n) == CUTUNE_OK && n) {
        if (!c->json)
            printf("  not used     %zu field%s cutune does not read:", n, n == 1 ? "" : "s");
        for (const char *f = fields; *f; f += strlen(f) + 1) {
            if (c->json)
                json_array_append_new(ignored, json_string(f));
            else
                printf("%s %s", f == fields ? "" : ",", cli_text(f));
        }
        if (!c->json)
            printf("\n");
    }
    free(fields);
    if (c->json) {
        json_object_set_new(c->out, "warnings", warnings);
        json_object_set_new(c->out, "ignored_fields", ignored);
    } else {
        json_decref(warnings);
        json_decref(ignored);
    }
}

/* The space: sizes, and the configuration to compile. */
static int check_space(check *c, uint32_t *config, const char **which)
{
    int st = cutune_space_load_t1(&c->space, c->spec);
    if (st) {
        stage_failed(c, "spec", cutune_last_error());
        return -1;
    }
    uint64_t valid = 0;
    size_t np = cutune_space_num_params(c->space);
    if ((st = cutune_space_count(c->space, &valid))) {
        stage_failed(c, "spec", cutune_last_error());
        return -1;
    }
    if (c->key) {
        *which = "--config";
        if ((st = cutune_space_parse_key(c->space, c->key, config)) ||
            cutune_space_is_valid(c->space, config) != 1) {
            char why[1200];
            snprintf(why, sizeof why, "configuration %s: %s", c->key,
                     st ? cutune_last_error() : "it breaks a constraint");
            stage_failed(c, "spec", why);
            return -1;
        }
    } else if (cutune_space_get_default(c->space, config) == 1) {
        *which = "the spec's default";
    } else if (valid && cutune_space_enumerate(c->space, first_valid,
                                               &(first){config, np}) == 1) {
        *which = "no default: the first valid configuration";
    } else {
        stage_failed(c, "spec", "the space has no valid configuration");
        return -1;
    }
    if (c->json) {
        json_object_set_new(c->out, "space",
                            json_pack("{s:I, s:I, s:I, s:I}", "parameters", (json_int_t)np,
                                      "constraints",
                                      (json_int_t)cutune_space_num_constraints(c->space),
                                      "valid", (json_int_t)valid, "combinations",
                                      (json_int_t)cutune_space_raw_size(c->space)));
    } else {
        printf("%s\n  space        %zu parameters, %zu constraints: %llu valid of %llu "
               "combinations\n",
               cli_text(c->spec), np, cutune_space_num_constraints(c->space),
               (unsigned long long)valid,
               (unsigned long long)cutune_space_raw_size(c->space));
    }
    report_spec_notes(c);
    return 0;
}

/* The KernelSpecification and the launch of `config`. */
static int check_kernel(check *c, const uint32_t *config, const char *which, unsigned grid[3],
                        unsigned block[3], size_t *smem)
{
    if (cutune_kernel_load_t1(c->spec, c->space, &c->kernel)) {
        stage_failed(c, "kernel", cutune_last_error());
        return -1;
    }
    char key[CUTUNE_KEY_MAX];
    cutune_space_config_key(c->space, config, key, sizeof key);
    int64_t problem[3];
    int dims = cutune_kernel_problem(c->kernel, problem);
    const char *file = c->kernel_file ? c->kernel_file : cutune_kernel_file(c->kernel);
    if (!file) {
        stage_failed(c, "kernel", "the spec names no KernelFile: give the kernel's source");
        return -1;
    }
    if (cutune_kernel_geometry(c->kernel, config, grid, block, smem)) {
        char why[1200];
        snprintf(why, sizeof why, "configuration %s cannot be launched: %s", key,
                 cutune_last_error());
        stage_failed(c, "launch", why);
        return -1;
    }
    if (c->json) {
        json_object_set_new(
            c->out, "kernel",
            json_pack("{s:s, s:s, s:[I,I,I], s:i, s:s, s:s, s:[i,i,i], s:[i,i,i], s:I}", "name",
                      cutune_kernel_name(c->kernel), "file", file, "problem_size",
                      (json_int_t)problem[0], (json_int_t)problem[1], (json_int_t)problem[2],
                      "dimensions", dims, "config", key, "config_from", which, "grid", grid[0],
                      grid[1], grid[2], "block", block[0], block[1], block[2], "dynamic_smem",
                      (json_int_t)*smem));
    } else {
        printf("%s (%s)\n", cli_text(cutune_kernel_name(c->kernel)), cli_text(file));
        printf("  problem size %lld", (long long)problem[0]);
        for (int d = 1; d < dims; d++)
            printf(" x %lld", (long long)problem[d]);
        printf("\n  arguments    %zu\n", cutune_kernel_num_args(c->kernel));
        printf("  config       %s (%s)\n", cli_text(key), which);
        printf("  launch       grid %u x %u x %u, block %u x %u x %u, %zu bytes of dynamic "
               "shared memory\n",
               grid[0], grid[1], grid[2], block[0], block[1], block[2], *smem);
    }
    if (cutune_read_file(file, (size_t)64 << 20, &c->source, NULL)) {
        stage_failed(c, "kernel", cutune_last_error());
        return -1;
    }
    c->kernel_file = file;
    return 0;
}

/* The architecture: --arch, the GPU's, or sm_90. */
static int pick_arch(check *c, cutune_arch *arch, const char **from)
{
    if (c->arch_name) {
        *from = "--arch";
        return cutune_arch_find(c->arch_name, arch);
    }
    cutune_device_info dev;
    if (cutune_device_query(0, &dev) == CUTUNE_OK && cutune_arch_from_device(&dev, arch) == 0) {
        *from = "this GPU's";
        return CUTUNE_OK;
    }
    *from = "no GPU here; --arch to choose";
    return cutune_arch_find("sm_90", arch);
}

static void check_compile(check *c, const uint32_t *config, const unsigned block[3],
                          size_t dynamic_smem)
{
    cutune_arch arch;
    const char *arch_from;
    if (pick_arch(c, &arch, &arch_from)) {
        stage_failed(c, "compile", cutune_last_error());
        return;
    }
    int64_t problem[3];
    cutune_kernel_problem(c->kernel, problem);
    cutune_config_request req = {.space = c->space, .kernel = c->kernel, .config = config,
                                 .problem = problem, .source = c->source,
                                 .source_name = c->kernel_file, .arch = arch.name,
                                 .cache_dir = c->cache_dir, .log = &c->log};
    cutune_binary *bin = NULL;
    if (cutune_compile_config(&req, &bin)) {
        /* in words, the message's first line: the log below has the rest */
        char why[1024];
        snprintf(why, sizeof why, "%s", cutune_last_error());
        if (!c->json && c->log)
            why[strcspn(why, "\n")] = '\0';
        stage_failed(c, "compile", why);
        if (c->json)
            json_object_set_new(c->out, "log", c->log ? json_string(c->log) : json_null());
        else
            cli_print_compiler_log(c->log, 0);
        return;
    }
    cutune_binary_info info;
    cutune_binary_get_info(bin, &info);
    cutune_block_resources l = {.threads = (int)(block[0] * block[1] * block[2]),
                                .regs = info.regs, .static_smem = info.static_smem,
                                .dynamic_smem = dynamic_smem, .carveout = -1};
    cutune_occupancy occ;
    int have_occ = cutune_occupancy_compute(&arch, &l, &occ) == CUTUNE_OK;
    static const char *const limit_names[] = {"warp slots", "registers", "shared memory",
                                              "the block cap"};
    char limits[96] = "";
    for (int i = 0; have_occ && i < 4; i++)
        if (occ.limiters & (1u << i))
            snprintf(limits + strlen(limits), sizeof limits - strlen(limits), "%s%s",
                     limits[0] ? ", " : "", limit_names[i]);
    if (c->json) {
        json_object_set_new(
            c->out, "compiled",
            json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:b, s:s?, s:o}", "arch", arch.name,
                      "arch_from", arch_from, "regs", info.regs, "static_smem",
                      (json_int_t)info.static_smem, "stack_bytes",
                      (json_int_t)info.stack_bytes, "spill_bytes", (json_int_t)info.spill_bytes,
                      "from_cache", info.from_cache, "log", c->log,
                      "occupancy",
                      have_occ ? json_pack("{s:i, s:f, s:s, s:s?}", "blocks_per_sm",
                                           occ.blocks_per_sm, "occupancy", occ.occupancy,
                                           "limited_by", limits,
                                           "reason", occ.blocks_per_sm ? NULL : occ.reason)
                               : json_null()));
    } else {
        cli_print_compiler_log(c->log, 1);
        printf("  compiled     for %s (%s): %d registers, %zu bytes of static shared memory, "
               "%zu bytes of stack, %zu of spill stores%s\n",
               arch.name, arch_from, info.regs, info.static_smem, info.stack_bytes,
               info.spill_bytes, info.from_cache ? " (from the cache)" : "");
        if (have_occ && occ.blocks_per_sm)
            printf("  occupancy    %d blocks of %d threads per SM, %.0f%%, limited by %s\n",
                   occ.blocks_per_sm, l.threads, 100 * occ.occupancy, limits);
        else if (have_occ)
            printf("  occupancy    cannot launch: %s\n", occ.reason);
    }
    if (have_occ && !occ.blocks_per_sm)
        c->failed = 1;
    cutune_binary_free(bin);
}

int cmd_check(int argc, char **argv)
{
    enum { O_CACHE = 256 };
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"arch", required_argument, 0, 'a'},
                                         {"cache-dir", required_argument, 0, O_CACHE},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    check c = {0};
    int opt;
    opterr = 0;
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":hj", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            fputs(check_help, stdout);
            return EXIT_OK;
        case 'c': c.key = optarg; break;
        case 'a': c.arch_name = optarg; break;
        case O_CACHE: c.cache_dir = optarg; break;
        case 'j': c.json = 1; break;
        case ':':
            return cli_usage_error("check", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("check", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc || argc - optind > 2)
        return cli_usage_error("check", optind >= argc ? "which spec?"
                                                       : "a spec and at most one kernel file");
    c.spec = argv[optind];
    c.kernel_file = optind + 1 < argc ? argv[optind + 1] : NULL;
    c.out = c.json ? json_object() : NULL;
    uint32_t *config = calloc(CUTUNE_KEY_MAX, sizeof *config);
    unsigned grid[3], block[3];
    size_t smem = 0;
    const char *which = "";
    if (!config)
        stage_failed(&c, "check", "out of memory");
    else if (check_space(&c, config, &which) == 0 &&
             check_kernel(&c, config, which, grid, block, &smem) == 0)
        check_compile(&c, config, block, smem);
    if (c.json) {
        json_object_set_new(c.out, "ok", json_boolean(!c.failed));
        cli_print_json(c.out);
    }
    free(config);
    free(c.log);
    free(c.source);
    cutune_kernel_free(c.kernel);
    cutune_space_free(c.space);
    return c.failed ? EXIT_FAILED : EXIT_OK;
}
