/* cli_profiles.c — `cutune profiles`: the profile store from the command line. List, show,
 * select (the run-time lookup, for any device description: cli_profiles_show.c), import and
 * export of other tools' files, prune, vacuum, and salvaging a damaged database. */
#include "cli_profiles.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GO_ON (-1) /* parse_options, check_action: the command goes on */

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

/* The options into *o: GO_ON, or the exit status (--help, a usage error). */
static int parse_options(int argc, char **argv, profiles_opts *o)
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
    *o = (profiles_opts){.device = -1, .format = "kerneltuner"};
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) != -1) {
        unsigned long long v;
        char *end;
        switch (c) {
        case 'h': fputs(profiles_help, stdout); return EXIT_OK;
        case 'D': o->db = optarg; break;
        case 'j': o->json = 1; break;
        case 'k': o->kernel = optarg; break;
        case 'H': o->source_hash = optarg; break;
        case 'S': o->source = optarg; break;
        case 'P': o->spec = optarg; break;
        case 'u': o->user_key = optarg; break;
        case 'p': o->problem = optarg; break;
        case 'n': o->device_name = optarg; break;
        case 'c': o->cc = optarg; break;
        case 'f': o->format = optarg; break;
        case 'o': o->out = optarg; break;
        case 'a': o->all = 1; break;
        case 'X': o->recover = 1; break;
        case 'd':
        case 's':
        case 'r':
        case 'R':
            if (cli_parse_u64("profiles", argv[optind - 1], optarg, &v))
                return EXIT_USAGE;
            if (c == 'd')
                o->device = v > 1024 ? 1024 : (long)v;
            else
                *(c == 's' ? &o->sms : c == 'r' ? &o->driver : &o->runtime) = v > 1000000 ? 0 : v;
            break;
        case 'O':
            o->older_days = strtod(optarg, &end);
            if (*end || !(o->older_days >= 0))
                return cli_usage_error("profiles", "--older-than takes a number of days");
            o->have_older = 1;
            break;
        case ':': return cli_usage_error("profiles", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("profiles", "unknown option '%s'", argv[optind - 1]);
        }
    }
    return GO_ON;
}

/* --recover: what can be read of a damaged store salvaged into a new one at its path. */
static int recover(const char *db)
{
    uint64_t rows;
    char kept[4300];
    int st = cutune_store_recover(db, &rows, kept, sizeof kept);
    if (st)
        return cli_fail("profiles", st);
    printf("salvaged %llu rows into a new store at %s; the damaged store is kept as %s",
           (unsigned long long)rows, db, kept);
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

/* The action and its argument (argv[optind], and the one after it), checked against what
 * each takes; *id: the profile or session it names. GO_ON, or the exit status. */
static int check_action(int argc, char **argv, const profiles_opts *o, const char **action,
                        const char **arg, int64_t *id, cutune_format *format)
{
    if (optind >= argc)
        return cli_usage_error("profiles", "give an action: list, show, select, import, export, "
                                           "prune, vacuum or release");
    *action = argv[optind++];
    *arg = optind < argc ? argv[optind++] : NULL;
    if (optind < argc)
        return cli_usage_error("profiles", "unexpected argument '%s'", argv[optind]);
    static const char *const takes_arg[] = {"show", "import", "export", "release"};
    int wants = 0, known = 0;
    static const char *const actions[] = {"list",  "show",   "select", "import",
                                          "export", "prune", "vacuum", "release"};
    for (size_t k = 0; k < sizeof actions / sizeof *actions; k++)
        known |= strcmp(*action, actions[k]) == 0;
    if (!known)
        return cli_usage_error("profiles", "unknown action '%s'", *action);
    for (size_t k = 0; k < sizeof takes_arg / sizeof *takes_arg; k++)
        wants |= strcmp(*action, takes_arg[k]) == 0;
    if (wants && !*arg)
        return cli_usage_error("profiles", "%s needs %s", *action,
                               !strcmp(*action, "import")    ? "a FILE"
                               : !strcmp(*action, "release") ? "a session ID"
                                                            : "a profile ID");
    if (!wants && *arg)
        return cli_usage_error("profiles", "unexpected argument '%s'", *arg);
    *id = 0;
    if (wants && strcmp(*action, "import") != 0 &&
        parse_id(*arg, strcmp(*action, "release") ? "profile" : "session", id))
        return EXIT_USAGE;
    *format = CUTUNE_FORMAT_KERNEL_TUNER;
    if (strcmp(o->format, "t4") == 0)
        *format = CUTUNE_FORMAT_T4;
    else if (strcmp(o->format, "kerneltuner") != 0)
        return cli_usage_error("profiles", "--format is kerneltuner or t4, not '%s'", o->format);
    if (strcmp(*action, "prune") == 0 && !o->kernel && !o->have_older && !o->all)
        return cli_usage_error("profiles", "prune needs --kernel, --older-than or --all");
    return GO_ON;
}

/* The action on the open store: the exit status. */
static int run_action(cutune_store *s, const profiles_opts *o, const char *action,
                      const char *arg, int64_t id, cutune_format format)
{
    int rc = EXIT_OK, st;
    if (!strcmp(action, "list") || !strcmp(action, "show")) {
        rc = profiles_list(s, o, id);
    } else if (!strcmp(action, "select")) {
        rc = profiles_select(s, o);
    } else if (!strcmp(action, "import")) {
        int64_t session;
        if ((st = cutune_store_import(s, arg, o->user_key, &session)))
            rc = cli_fail("profiles", st);
        else
            printf("imported %s as session %lld\n", arg, (long long)session);
    } else if (!strcmp(action, "export")) {
        char *text;
        if ((st = cutune_store_export(s, id, format, &text)))
            rc = cli_fail("profiles", st);
        else
            rc = write_text(o->out, text);
        free(text);
    } else if (!strcmp(action, "prune")) {
        uint64_t removed;
        if ((st = cutune_store_prune(s, o->kernel, o->older_days * 86400.0, &removed)))
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
    return rc;
}

int cmd_profiles(int argc, char **argv)
{
    profiles_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc != GO_ON)
        return rc;
    char path[4096];
    if (!o.db) {
        int st = cutune_store_default_path(path, sizeof path);
        if (st)
            return cli_fail("profiles", st);
        o.db = path;
    }
    if (o.recover)
        return recover(o.db);
    const char *action = NULL, *arg = NULL;
    int64_t id = 0;
    cutune_format format = CUTUNE_FORMAT_KERNEL_TUNER;
    if ((rc = check_action(argc, argv, &o, &action, &arg, &id, &format)) != GO_ON)
        return rc;
    /* reading needs no write access: list, show, select and export open read-only */
    int reads = !strcmp(action, "list") || !strcmp(action, "show") ||
                !strcmp(action, "select") || !strcmp(action, "export");
    cutune_store *s;
    int st = cutune_store_open(&s, o.db, reads ? CUTUNE_STORE_READONLY : 0);
    if (st)
        return cli_fail("profiles", st);
    rc = run_action(s, &o, action, arg, id, format);
    cutune_store_free(s);
    return rc;
}
