/* cli_space.c — `cutune space`: loads a T1 spec and summarises, counts, lists or samples its
 * valid configurations. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char space_help[] =
    "usage: cutune space --spec FILE [--count | --list | --sample N [--seed S]] [--json]\n\n"
    "Loads the search space of a T1 JSON spec (tunable parameters and constraints).\n"
    "Without an action it prints a summary: parameters, constraints, raw and valid counts,\n"
    "and how many configurations only a constraint that cannot be computed (an integer past\n"
    "64 bits, a division by zero) makes invalid.\n\n"
    "  --spec FILE   the T1 spec to load\n"
    "  --count       number of valid configurations\n"
    "  --list        every valid configuration, one Kernel Tuner key a line\n"
    "                (values joined by commas, in parameter order)\n"
    "  --sample N    N configurations drawn uniformly from the valid ones (random draws\n"
    "                where they find valid ones readily, else from the listed valid ones)\n"
    "  --seed S      seed for --sample (default 1)\n"
    "  --json        machine-readable output\n";

typedef struct list_ctx {
    const cutune_space *space;
    json_t *out; /* NULL: print keys */
} list_ctx;

/* Keys, and so values, fit CUTUNE_KEY_MAX bytes whole: the space refuses longer ones. */

/* value `k` of parameter `p` as a JSON number or string */
static json_t *value_json(const cutune_space *s, size_t p, size_t k)
{
    char buf[CUTUNE_KEY_MAX];
    cutune_space_format_value(s, p, k, buf, sizeof buf);
    switch (cutune_space_param_type(s, p)) {
    case CUTUNE_INT:
        return json_integer(strtoll(buf, NULL, 10));
    case CUTUNE_FLOAT:
        return json_real(strtod(buf, NULL));
    default:
        return json_string(buf);
    }
}

static json_t *config_json(const cutune_space *s, const uint32_t *config)
{
    json_t *o = json_object();
    for (size_t p = 0; o && p < cutune_space_num_params(s); p++)
        json_object_set_new(o, cutune_space_param_name(s, p), value_json(s, p, config[p]));
    return o;
}

static int list_one(const uint32_t *config, void *user)
{
    list_ctx *c = user;
    if (c->out)
        return json_array_append_new(c->out, config_json(c->space, config)) ? -1 : 0;
    char key[CUTUNE_KEY_MAX];
    if (cutune_space_config_key(c->space, config, key, sizeof key))
        return -1;
    return puts(key) == EOF ? -1 : 0;
}

static int summary(const char *path, const cutune_space *s, int json)
{
    uint64_t valid;
    int st = cutune_space_count(s, &valid);
    if (st)
        return cli_fail("space", st);
    size_t np = cutune_space_num_params(s);
    uint32_t dflt[256], first[256];
    int has_default = cutune_space_get_default(s, dflt);
    /* configurations that a constraint that cannot be computed makes invalid (an overflow
     * where Python's integers would go on): worth a line, since Python would differ */
    uint64_t failing;
    char why[512];
    if ((st = cutune_space_count_failing(s, &failing, first, why, sizeof why)))
        return cli_fail("space", st);
    char first_key[CUTUNE_KEY_MAX], key[CUTUNE_KEY_MAX];
    int has_first = failing && why[0] &&
                    cutune_space_config_key(s, first, first_key, sizeof first_key) == CUTUNE_OK;
    if (json) {
        json_t *params = json_array();
        for (size_t p = 0; p < np; p++) {
            json_t *vals = json_array();
            for (size_t k = 0; k < cutune_space_param_size(s, p); k++)
                json_array_append_new(vals, value_json(s, p, k));
            json_array_append_new(params, json_pack("{s:s, s:o}", "name",
                                                    cutune_space_param_name(s, p), "values",
                                                    vals));
        }
        json_t *example = has_first ? json_pack("{s:s, s:s}", "key", first_key, "why", why)
                                    : json_null();
        json_t *warnings = json_array();
        for (size_t i = 0; i < cutune_space_num_warnings(s); i++)
            json_array_append_new(warnings, json_string(cutune_space_warning(s, i)));
        json_t *out = json_pack(
            "{s:s, s:o, s:I, s:I, s:I, s:I, s:o, s:o}", "spec", path, "parameters", params,
            "constraints", (json_int_t)cutune_space_num_constraints(s), "raw_combinations",
            (json_int_t)cutune_space_raw_size(s), "valid_configurations", (json_int_t)valid,
            "failing_configurations", (json_int_t)failing, "failing_example", example,
            "default", has_default ? config_json(s, dflt) : json_null());
        if (out)
            json_object_set_new(out, "warnings", warnings);
        else
            json_decref(warnings);
        return cli_print_json(out);
    }
    printf("spec          %s\n", path);
    printf("parameters    %zu\n", np);
    for (size_t p = 0; p < np; p++) {
        printf("  %-20s", cutune_space_param_name(s, p));
        for (size_t k = 0; k < cutune_space_param_size(s, p); k++) {
            cutune_space_format_value(s, p, k, key, sizeof key);
            printf("%s%s", k ? ", " : "", key);
        }
        putchar('\n');
    }
    printf("constraints   %zu\n", cutune_space_num_constraints(s));
    printf("raw           %llu combinations\n", (unsigned long long)cutune_space_raw_size(s));
    printf("valid         %llu configurations\n", (unsigned long long)valid);
    if (failing)
        printf("failing       %llu configurations are invalid only because a constraint cannot "
               "be computed for them\n", (unsigned long long)failing);
    if (has_first)
        printf("              the first, %s: %s\n", first_key, why);
    if (has_default && cutune_space_config_key(s, dflt, key, sizeof key) == CUTUNE_OK)
        printf("default       %s%s\n", key,
               cutune_space_is_valid(s, dflt) == 1 ? "" : " (violates a constraint)");
    else if (!has_default)
        printf("default       none\n");
    return EXIT_OK;
}

int cmd_space(int argc, char **argv)
{
    static const struct option opts[] = {
        {"spec", required_argument, 0, 's'}, {"count", no_argument, 0, 'c'},
        {"list", no_argument, 0, 'l'},       {"sample", required_argument, 0, 'n'},
        {"seed", required_argument, 0, 'S'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *spec = NULL;
    int json = 0, action = 0, c, have_seed = 0;
    unsigned long long nsample = 0, seed = 1;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(space_help, stdout);
            return EXIT_OK;
        case 's':
            spec = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'c':
        case 'l':
        case 'n':
            if (action && action != c)
                return cli_usage_error("space", "choose one of --count, --list, --sample");
            action = c;
            if (c == 'n' && cli_parse_u64("space", "--sample", optarg, &nsample))
                return EXIT_USAGE;
            break;
        case 'S':
            if (cli_parse_u64("space", "--seed", optarg, &seed))
                return EXIT_USAGE;
            have_seed = 1;
            break;
        case ':':
            return cli_usage_error("space", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("space", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("space", "unexpected argument '%s'", argv[optind]);
    if (!spec)
        return cli_usage_error("space", "--spec FILE is required");
    if (have_seed && action != 'n')
        return cli_usage_error("space", "--seed only goes with --sample");

    cutune_space *s;
    int st = cutune_space_load_t1(&s, spec);
    if (st)
        return cli_fail("space", st);
    cli_print_warnings(s);
    int rc = EXIT_OK;
    if (action == 'c') {
        uint64_t valid;
        if ((st = cutune_space_count(s, &valid)))
            rc = cli_fail("space", st);
        else if (json)
            rc = cli_print_json(json_pack("{s:I, s:I}", "valid_configurations",
                                          (json_int_t)valid, "raw_combinations",
                                          (json_int_t)cutune_space_raw_size(s)));
        else
            printf("%llu\n", (unsigned long long)valid);
    } else if (action == 'l') {
        list_ctx ctx = {.space = s, .out = json ? json_array() : NULL};
        st = cutune_space_enumerate(s, list_one, &ctx);
        if (st)
            rc = st < 0 ? (fprintf(stderr, "cutune space: output failed\n"), EXIT_FAILED)
                        : cli_fail("space", st);
        else if (json)
            rc = cli_print_json(ctx.out), ctx.out = NULL;
        json_decref(ctx.out);
    } else if (action == 'n') {
        cutune_rng rng;
        cutune_rng_seed(&rng, seed);
        list_ctx ctx = {.space = s, .out = json ? json_array() : NULL};
        uint32_t config[256];
        for (unsigned long long i = 0; i < nsample && rc == EXIT_OK; i++) {
            if ((st = cutune_space_sample(s, &rng, config)))
                rc = cli_fail("space", st);
            else
                list_one(config, &ctx);
        }
        if (rc == EXIT_OK && json)
            rc = cli_print_json(ctx.out), ctx.out = NULL;
        json_decref(ctx.out);
    } else {
        rc = summary(spec, s, json);
    }
    cutune_space_free(s);
    return rc;
}
