/* cli_profiles.c — `cutune profiles`: the profile store from the command line. List, show,
 * select (the run-time lookup, for any device description), import and export of other
 * tools' files, prune, vacuum, and salvaging a damaged database. */
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char profiles_help[] =
    "usage: cutune profiles list [--json]\n"
    "       cutune profiles show ID [--json]\n"
    "       cutune profiles select --kernel NAME --problem X[,Y[,Z]]\n"
    "                              [--source KERNEL.cu [--spec T1.json] | --source-hash H]\n"
    "                              [--user-key K] (--device N | --device-name NAME --cc M.m\n"
    "                              --sms N [--driver V] [--runtime V]) [--json]\n"
    "       cutune profiles import FILE [--user-key K]\n"
    "       cutune profiles export ID [--format kerneltuner|t4] [-o FILE]\n"
    "       cutune profiles prune (--kernel NAME | --older-than DAYS | --all)\n"
    "       cutune profiles vacuum\n"
    "       cutune profiles release SESSION\n"
    "       cutune profiles --recover\n"
    "Every form takes --db DB (default: $CUTUNE_DB, else $XDG_DATA_HOME/cutune/profiles.db).\n\n"
    "The profile store keeps the best configuration found for each device, kernel, problem\n"
    "size and user key, and every configuration the sessions behind it evaluated.\n\n"
    "  list      every profile, a line each\n"
    "  show      one profile in full\n"
    "  select    what cutune_select() answers, and by which rule: exact, nearest size (this\n"
    "            GPU), similar device, or default (nothing known); --source and --spec key\n"
    "            the kernel as tuning does (the source, and the spec's -D compiler options)\n"
    "  import    a Kernel Tuner cache file (.json, .json.gz) or T4 results, as one session\n"
    "  export    every evaluation behind a profile, as a Kernel Tuner cache file or T4\n"
    "            results (standard output without -o)\n"
    "  prune     remove profiles (and their sessions) of a kernel, or older than DAYS\n"
    "  vacuum    give free space back to the file system\n"
    "  release   free a tuning session of the run that holds it, when that run was on\n"
    "            another machine that is gone (one of this machine whose process is gone is\n"
    "            taken over by the next --resume without it)\n"
    "  --recover salvage what can still be read of a damaged store into a new store at its\n"
    "            path; the damaged file is kept beside it as DB.damaged-<time>[-N], with its\n"
    "            -wal and -shm, under names nothing had (nothing is ever overwritten). A\n"
    "            damaged store is an SQLite file of cutune's tables (and no others, of a\n"
    "            schema version no newer than this cutune's) in which SQLite's integrity\n"
    "            check finds a problem, a table does not read to its end, or a row's JSON\n"
    "            does not parse. Anything else (a text file, a folder, a healthy store, a\n"
    "            newer cutune's store) is refused and left as it was (exit status 1)\n";

typedef struct opts {
    const char *db, *kernel, *source_hash, *user_key, *device_name, *out, *format;
    const char *problem, *cc, *source, *spec;
    long device;
    unsigned long long sms, driver, runtime;
    double older_days;
    int json, all, recover, have_older;
} opts;

static void format_problem(const int64_t problem[3], char *buf, size_t size)
{
    if (problem[2] > 1)
        snprintf(buf, size, "%lldx%lldx%lld", (long long)problem[0], (long long)problem[1],
                 (long long)problem[2]);
    else if (problem[1] > 1)
        snprintf(buf, size, "%lldx%lld", (long long)problem[0], (long long)problem[1]);
    else
        snprintf(buf, size, "%lld", (long long)problem[0]);
}

static json_t *profile_json(const cutune_profile *p)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:[I,I,I], s:s, s:s, s:f, s:s, "
                          "s:I, s:I, s:I, s:f}",
                          "id", (json_int_t)p->id, "kernel", p->kernel, "device", p->device,
                          "sm_count", p->sm_count, "source_hash",
                          p->source_hash, "user_key", p->user_key, "problem",
                          (json_int_t)p->problem[0], (json_int_t)p->problem[1],
                          (json_int_t)p->problem[2], "params", p->params, "config", p->config,
                          "time_ms", p->time_ms, "strategy", p->strategy, "budget",
                          (json_int_t)p->budget, "evaluations", (json_int_t)p->evaluations,
                          "session", (json_int_t)p->session, "updated", p->updated);
    if (j) {
        char cc[16];
        snprintf(cc, sizeof cc, "%d.%d", p->cc_major, p->cc_minor);
        json_object_set_new(j, "compute_capability", json_string(cc));
        json_object_set_new(j, "driver_version", json_integer(p->driver_version));
        json_object_set_new(j, "runtime_version", json_integer(p->runtime_version));
        if (!isnan(p->median_ms))
            json_object_set_new(j, "median_ms", json_real(p->median_ms));
        if (!isnan(p->std_ms))
            json_object_set_new(j, "std_ms", json_real(p->std_ms));
    }
    return j;
}

typedef struct listing {
    json_t *array; /* --json */
    int count, full;
} listing;

static int print_profile(const cutune_profile *p, void *user)
{
    listing *l = user;
    l->count++;
    if (l->array)
        return json_array_append_new(l->array, profile_json(p)) ? 1 : 0;
    char size[64];
    format_problem(p->problem, size, sizeof size);
    if (!l->full) {
        printf("%5lld  %-24s %-24s %-12s %-8s %10.4f ms  %s\n", (long long)p->id,
               cli_text(p->kernel), cli_text(p->device), size,
               *p->user_key ? cli_text(p->user_key) : "-", p->time_ms, cli_text(p->config));
        return 0;
    }
    char when[64];
    time_t t = (time_t)p->updated;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    printf("profile %lld\n", (long long)p->id);
    printf("  kernel        %s (source %s)%s%s\n", cli_text(p->kernel),
           *p->source_hash ? cli_text(p->source_hash) : "unknown",
           *p->user_key ? ", user key " : "", cli_text(p->user_key));
    if (p->cc_major == 0 && p->sm_count == 0) /* a recorded space's, or an imported file's */
        printf("  device        %s (as its file names it: compute capability, SMs, driver "
               "and runtime not recorded)\n", cli_text(p->device));
    else
        printf("  device        %s, sm_%d%d, %d SMs, driver %d, runtime %d\n",
               cli_text(p->device), p->cc_major, p->cc_minor, p->sm_count, p->driver_version,
               p->runtime_version);
    printf("  problem size  %s\n", size);
    printf("  best          %s = %s\n", cli_text(p->params), cli_text(p->config));
    printf("  time          %.4f ms", p->time_ms);
    if (!isnan(p->median_ms))
        printf(" (median %.4f, sd %.4f)", p->median_ms, isnan(p->std_ms) ? 0 : p->std_ms);
    printf("\n  found by      %s, budget %llu (session %lld); %llu evaluations behind it\n",
           cli_text(p->strategy), (unsigned long long)p->budget, (long long)p->session,
           (unsigned long long)p->evaluations);
    printf("  updated       %s\n", when);
    return 0;
}

static int do_list(cutune_store *s, const opts *o, int64_t id)
{
    listing l = {.array = o->json ? json_array() : NULL, .full = id != 0};
    if (!l.array && !id)
        printf("%5s  %-24s %-24s %-12s %-8s %13s  %s\n", "id", "kernel", "device", "problem",
               "user key", "time", "configuration");
    int st = id ? cutune_store_get(s, id, print_profile, &l)
                : cutune_store_list(s, print_profile, &l);
    if (st) {
        json_decref(l.array);
        return cli_fail("profiles", st);
    }
    if (l.array) {
        json_t *out = json_incref(id ? json_array_get(l.array, 0) : l.array);
        json_decref(l.array);
        return cli_print_json(out);
    }
    if (!id)
        printf("%d profile%s in %s\n", l.count, l.count == 1 ? "" : "s", cutune_store_path(s));
    return EXIT_OK;
}

static int do_select(cutune_store *s, const opts *o)
{
    if (!o->kernel || !o->problem)
        return cli_usage_error("profiles", "select needs --kernel and --problem");
    int64_t problem[3];
    if (cli_parse_problem(o->problem, problem))
        return cli_usage_error("profiles", "--problem takes up to three positive sizes, "
                                           "X[,Y[,Z]], not '%s'", o->problem);
    cutune_device_info dev = {0};
    if (o->device >= 0) {
        int st = cutune_device_query(o->device, &dev);
        if (st)
            return cli_fail("profiles", st);
    } else {
        if (!o->device_name || !o->cc)
            return cli_usage_error("profiles", "select needs --device N, or --device-name and "
                                               "--cc (and --sms)");
        if (sscanf(o->cc, "%d.%d", &dev.cc_major, &dev.cc_minor) != 2)
            return cli_usage_error("profiles", "--cc takes MAJOR.MINOR, e.g. 9.0");
        snprintf(dev.name, sizeof dev.name, "%s", o->device_name);
        dev.sm_count = (int)o->sms;
        dev.driver_version = (int)o->driver;
        dev.runtime_version = (int)o->runtime;
    }
    char hash[33];
    if (o->source) { /* the kernel as tuned: its source's hash */
        FILE *f = fopen(o->source, "rb");
        char *text = NULL;
        size_t len = 0;
        if (f) {
            text = malloc((size_t)16 << 20);
            len = text ? fread(text, 1, (size_t)16 << 20, f) : 0;
            fclose(f);
        }
        if (!text) {
            fprintf(stderr, "cutune profiles: cannot read %s\n", o->source);
            return EXIT_FAILED;
        }
        int st = CUTUNE_OK;
        if (o->spec) { /* the source with the spec's -D defines, as tuning keys it */
            cutune_space *space = NULL;
            cutune_kernel *k = NULL;
            st = cutune_space_load_t1(&space, o->spec);
            if (!st)
                st = cutune_kernel_load_t1(o->spec, space, &k);
            if (!st)
                st = cutune_kernel_source_hash(k, text, len, hash);
            cutune_kernel_free(k);
            cutune_space_free(space);
        } else {
            cutune_source_hash(text, len, hash);
        }
        free(text);
        if (st)
            return cli_fail("profiles", st);
    }
    cutune_kernel_id k = {o->kernel, o->source ? hash : o->source_hash, o->user_key};
    cutune_selection sel;
    int st = cutune_select(s, &dev, &k, problem, &sel);
    if (st)
        return cli_fail("profiles", st);
    char size[64];
    format_problem(sel.problem, size, sizeof size);
    if (o->json)
        return cli_print_json(json_pack("{s:s, s:I, s:s, s:s, s:s, s:f}", "rule",
                                        cutune_select_rule_name(sel.rule), "profile",
                                        (json_int_t)sel.profile, "problem", size, "params",
                                        sel.params, "config", sel.config, "time_ms",
                                        isnan(sel.time_ms) ? -1.0 : sel.time_ms));
    if (sel.rule == CUTUNE_SELECT_DEFAULT)
        printf("default: nothing is known of %s; use its default configuration\n",
               cli_text(o->kernel));
    else
        printf("%s: profile %lld (problem %s, %.4f ms): %s = %s\n",
               cutune_select_rule_name(sel.rule), (long long)sel.profile, size, sel.time_ms,
               cli_text(sel.params), cli_text(sel.config));
    return EXIT_OK;
}

static int write_text(const char *path, const char *text)
{
    if (path) {
        cli_file f;
        if (cli_file_open(&f, path, "profiles"))
            return EXIT_FAILED;
        if (fputs(text, f.f) < 0 || fputc('\n', f.f) < 0) {
            fprintf(stderr, "cutune profiles: cannot write %s\n", path);
            cli_file_abort(&f);
            return EXIT_FAILED;
        }
        return cli_file_commit(&f, "profiles") ? EXIT_FAILED : EXIT_OK;
    }
    int bad = fputs(text, stdout) < 0 || fputc('\n', stdout) < 0 || fflush(stdout) != 0;
    if (bad)
        fprintf(stderr, "cutune profiles: writing the output failed\n");
    return bad ? EXIT_FAILED : EXIT_OK;
}

/* A profile's or a session's ID (`what`). */
static int parse_id(const char *text, const char *what, int64_t *id)
{
    unsigned long long v;
    char opt[32];
    snprintf(opt, sizeof opt, "the %s ID", what);
    if (!text || cli_parse_u64("profiles", opt, text, &v))
        return -1;
    if (v == 0 || v > INT64_MAX)
        return cli_usage_error("profiles", "a %s ID is a positive integer", what), -1;
    *id = (int64_t)v;
    return 0;
}

int cmd_profiles(int argc, char **argv)
{
    static const struct option options[] = {
        {"db", required_argument, 0, 'D'},          {"json", no_argument, 0, 'j'},
        {"kernel", required_argument, 0, 'k'},      {"source-hash", required_argument, 0, 'H'},
        {"user-key", required_argument, 0, 'u'},    {"problem", required_argument, 0, 'p'},
        {"device", required_argument, 0, 'd'},      {"device-name", required_argument, 0, 'n'},
        {"cc", required_argument, 0, 'c'},          {"sms", required_argument, 0, 's'},
        {"driver", required_argument, 0, 'r'},      {"runtime", required_argument, 0, 'R'},
        {"format", required_argument, 0, 'f'},      {"older-than", required_argument, 0, 'O'},
        {"all", no_argument, 0, 'a'},               {"recover", no_argument, 0, 'X'},
        {"source", required_argument, 0, 'S'},      {"help", no_argument, 0, 'h'},
        {"spec", required_argument, 0, 'P'},
        {0, 0, 0, 0}};
    opts o = {.device = -1, .format = "kerneltuner"};
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) != -1) {
        unsigned long long v;
        char *end;
        switch (c) {
        case 'h': fputs(profiles_help, stdout); return EXIT_OK;
        case 'D': o.db = optarg; break;
        case 'j': o.json = 1; break;
        case 'k': o.kernel = optarg; break;
        case 'H': o.source_hash = optarg; break;
        case 'S': o.source = optarg; break;
        case 'P': o.spec = optarg; break;
        case 'u': o.user_key = optarg; break;
        case 'p': o.problem = optarg; break;
        case 'n': o.device_name = optarg; break;
        case 'c': o.cc = optarg; break;
        case 'f': o.format = optarg; break;
        case 'o': o.out = optarg; break;
        case 'a': o.all = 1; break;
        case 'X': o.recover = 1; break;
        case 'd':
        case 's':
        case 'r':
        case 'R':
            if (cli_parse_u64("profiles", argv[optind - 1], optarg, &v))
                return EXIT_USAGE;
            if (c == 'd')
                o.device = v > 1024 ? 1024 : (long)v;
            else
                *(c == 's' ? &o.sms : c == 'r' ? &o.driver : &o.runtime) = v > 1000000 ? 0 : v;
            break;
        case 'O':
            o.older_days = strtod(optarg, &end);
            if (*end || !(o.older_days >= 0))
                return cli_usage_error("profiles", "--older-than takes a number of days");
            o.have_older = 1;
            break;
        case ':': return cli_usage_error("profiles", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("profiles", "unknown option '%s'", argv[optind - 1]);
        }
    }
    char path[4096];
    if (!o.db) {
        int st = cutune_store_default_path(path, sizeof path);
        if (st)
            return cli_fail("profiles", st);
        o.db = path;
    }
    if (o.recover) {
        uint64_t rows;
        char kept[4300];
        int st = cutune_store_recover(o.db, &rows, kept, sizeof kept);
        if (st)
            return cli_fail("profiles", st);
        printf("salvaged %llu rows into a new store at %s; the damaged store is kept as %s",
               (unsigned long long)rows, o.db, kept);
        static const char *const sides[] = {"-wal", "-shm"};
        for (int k = 0; k < 2; k++) {
            char side[4400];
            snprintf(side, sizeof side, "%s%s", kept, sides[k]);
            if (access(side, F_OK) == 0)
                printf("%s %s", k == 0 ? ", with" : " and", side);
        }
        printf("\n");
        return EXIT_OK;
    }
    if (optind >= argc)
        return cli_usage_error("profiles", "give an action: list, show, select, import, export, "
                                           "prune, vacuum or release");
    const char *action = argv[optind++];
    const char *arg = optind < argc ? argv[optind++] : NULL;
    if (optind < argc)
        return cli_usage_error("profiles", "unexpected argument '%s'", argv[optind]);
    static const char *const takes_arg[] = {"show", "import", "export", "release"};
    int wants = 0, known = 0;
    static const char *const actions[] = {"list",  "show",   "select", "import",
                                          "export", "prune", "vacuum", "release"};
    for (size_t k = 0; k < sizeof actions / sizeof *actions; k++)
        known |= strcmp(action, actions[k]) == 0;
    if (!known)
        return cli_usage_error("profiles", "unknown action '%s'", action);
    for (size_t k = 0; k < sizeof takes_arg / sizeof *takes_arg; k++)
        wants |= strcmp(action, takes_arg[k]) == 0;
    if (wants && !arg)
        return cli_usage_error("profiles", "%s needs %s", action,
                               !strcmp(action, "import")    ? "a FILE"
                               : !strcmp(action, "release") ? "a session ID"
                                                            : "a profile ID");
    if (!wants && arg)
        return cli_usage_error("profiles", "unexpected argument '%s'", arg);
    int64_t id = 0;
    if (wants && strcmp(action, "import") != 0 &&
        parse_id(arg, strcmp(action, "release") ? "profile" : "session", &id))
        return EXIT_USAGE;
    cutune_format format = CUTUNE_FORMAT_KERNEL_TUNER;
    if (strcmp(o.format, "t4") == 0)
        format = CUTUNE_FORMAT_T4;
    else if (strcmp(o.format, "kerneltuner") != 0)
        return cli_usage_error("profiles", "--format is kerneltuner or t4, not '%s'", o.format);
    if (strcmp(action, "prune") == 0 && !o.kernel && !o.have_older && !o.all)
        return cli_usage_error("profiles", "prune needs --kernel, --older-than or --all");

    /* reading needs no write access: list, show, select and export open read-only */
    int reads = !strcmp(action, "list") || !strcmp(action, "show") ||
                !strcmp(action, "select") || !strcmp(action, "export");
    cutune_store *s;
    int st = cutune_store_open(&s, o.db, reads ? CUTUNE_STORE_READONLY : 0);
    if (st)
        return cli_fail("profiles", st);
    int rc = EXIT_OK;
    if (!strcmp(action, "list") || !strcmp(action, "show")) {
        rc = do_list(s, &o, id);
    } else if (!strcmp(action, "select")) {
        rc = do_select(s, &o);
    } else if (!strcmp(action, "import")) {
        int64_t session;
        if ((st = cutune_store_import(s, arg, o.user_key, &session)))
            rc = cli_fail("profiles", st);
        else
            printf("imported %s as session %lld\n", arg, (long long)session);
    } else if (!strcmp(action, "export")) {
        char *text;
        if ((st = cutune_store_export(s, id, format, &text)))
            rc = cli_fail("profiles", st);
        else
            rc = write_text(o.out, text);
        free(text);
    } else if (!strcmp(action, "prune")) {
        uint64_t removed;
        if ((st = cutune_store_prune(s, o.kernel, o.older_days * 86400.0, &removed)))
            rc = cli_fail("profiles", st);
        else
            printf("removed %llu profile%s\n", (unsigned long long)removed,
                   removed == 1 ? "" : "s");
    } else if (!strcmp(action, "release")) {
        char held[512];
        if ((st = cutune_store_release_session(s, id, held, sizeof held)))
            rc = cli_fail("profiles", st);
        else if (*held)
            printf("session %lld was held by %s: released\n", (long long)id, cli_text(held));
        else
            printf("session %lld was held by no run\n", (long long)id);
    } else if ((st = cutune_store_vacuum(s))) {
        rc = cli_fail("profiles", st);
    }
    cutune_store_free(s);
    return rc;
}
