/* cli_tune.c — `cutune tune`: one tuning session, on the GPU (a kernel and its T1 spec) or,
 * with --sim, on a recorded space whose measurements stand in for the GPU's; under mpirun
 * the same session is spread over the ranks (cli_mpi.c). Here: the options and what the
 * spec's Search and Budget add to them; the run is cli_tune_run.c's. */
#include "cli_tune.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GO_ON (-1) /* parse_args, check_args: the command goes on */

static const char tune_help[] =
    "usage: cutune tune [KERNEL.cu] --spec T1.json [--strategy NAME] [--budget N] [--seed S]\n"
    "                   [--time-limit SECONDS] [--device N] [--iterations N] [--flush-l2]\n"
    "                   [--precision P] [--confirm N]\n"
    "                   [--batch Q] [--cache-out FILE.json] [--t4-out FILE.json] [--json]\n"
    "                   [--problem X[,Y[,Z]]] [--db DB | --no-store] [--resume]\n"
    "                   [--user-key K] [--precompile T] [--compile-threads T]\n"
    "                   [--compile-in-threads]\n"
    "                   [--verify default|none|[NAME=]FILE]... [--atol X] [--rtol Y]\n"
    "                   [--metric NAME=EXPR]... [--objective NAME [--higher-is-better]]\n"
    "       cutune tune --sim CACHE [--spec T1.json] [--strategy NAME] [--budget N]\n"
    "                   [--seed S] [--batch Q] [--time-limit SECONDS] [--arch SM] [--json]\n"
    "                   [--sim-delay-ms MS] [--db DB [--resume]] [--metric NAME=EXPR]...\n"
    "                   [--objective NAME [--higher-is-better]]\n"
    "       mpirun -np N cutune tune ... [--per-rank K]     (distributed: README)\n\n"
    "Tunes a kernel over its search space on the GPU: the spec's KernelSpecification says how\n"
    "to launch it (README: 'Tuning on the GPU'); the kernel's source is KERNEL.cu or the\n"
    "spec's KernelFile. The default configuration is measured first and its outputs are the\n"
    "reference the others must match (--verify says otherwise); the run says at its start\n"
    "which outputs it compares, against what. With --sim the measurements come from a recorded\n"
    "space (a Kernel Tuner cache file) instead of a GPU. Prints each new best configuration\n"
    "as it is found, then the result. Under mpirun, rank 0 runs the strategy and keeps the\n"
    "profile store, and every rank (rank 0 too) measures on its own GPU (device --device\n"
    "plus its rank on the host) or replays the recorded space; results come back as they\n"
    "finish.\n\n"
    "  --strategy NAME    bo (default), random, lhs, anneal, genetic, brute, or Kernel\n"
    "                     Tuner's names for them (bayes_opt, random_sample,\n"
    "                     genetic_algorithm, simulated_annealing, brute_force)\n"
    "  --budget N         evaluations (default 100)\n"
    "  --time-limit S     stop after S seconds\n"
    "                     (without these three, the spec's Search.Name and Budget, if it\n"
    "                     has them: ConfigurationCount, ConfigurationFraction of the valid\n"
    "                     configurations, TuningDuration in seconds)\n"
    "  --batch Q          bo: configurations planned per model update, 1 to 16 (on the GPU\n"
    "                     they compile in parallel; default there: 4, at most a tenth of the\n"
    "                     budget; with --sim: 1; under mpirun: the number of ranks)\n"
    "  --per-rank K       under mpirun: configurations each rank has in hand, one measuring\n"
    "                     and the rest queued (compiling ahead), 1 to 16 (default 2)\n"
    "  --seed S           seed (default 1)\n"
    "  --device N         CUDA device (default 0; under mpirun: N plus the local rank)\n"
    "  --iterations N     timed launches per configuration (default 7; with --precision,\n"
    "                     at most, default 64)\n"
    "  --precision P      time each configuration until the 95% interval of its median is\n"
    "                     within P of it (0.01 or 1%), from 6 launches on; one not yet\n"
    "                     that precise whose interval lies above the best time so far\n"
    "                     stops there (racing)\n"
    "  --confirm N        at the end, time the N fastest again in 5 interleaved rounds of\n"
    "                     5 launches and choose the winner on those times (default 5;\n"
    "                     0: none)\n"
    "  --flush-l2         clear the L2 cache before each timed launch (by writing as many\n"
    "                     bytes as the device's L2 holds)\n"
    "  --problem X[,Y,Z]  the problem size, instead of the spec's ProblemSize (buffers\n"
    "                     follow it)\n"
    "  --verify default   compare each output (\"Output\": 1) with the default\n"
    "                     configuration's (what happens without --verify, unless the spec\n"
    "                     has ReferenceArguments); the default must work\n"
    "  --verify none      compare nothing (Kernel Tuner without answer); the default still\n"
    "                     runs first, for the speedup\n"
    "  --verify FILE      compare with answer files: one --verify per output, in argument\n"
    "                     order, or NAME=FILE; raw little-endian of the argument's type and\n"
    "                     size, or NumPy .npy ('<f4' for float); outputs without one are\n"
    "                     not compared\n"
    "  --atol X, --rtol Y every output passes when |x - ref| <= X + Y * |ref| (Kernel\n"
    "                     Tuner's test; what is not given: the spec's Atol/Rtol, else 1e-6\n"
    "                     and 1e-5). Without them each output's spec decides: Atol/Rtol so,\n"
    "                     else |x - ref| <= Tolerance * max(1, |ref|), Tolerance 1e-4\n"
    "  --metric NAME=EXPR a metric besides the spec's Metrics (Kernel Tuner's metrics): an\n"
    "                     expression over the parameters, ProblemSize, time (ms) and the\n"
    "                     metrics before it, e.g. 'GFLOP/s=2*ProblemSize[0]**3/1e9/(time/1e3)';\n"
    "                     computed for every configuration that ran, printed with each new\n"
    "                     best and the result, written into --cache-out, --t4-out and --json\n"
    "  --objective NAME   tune for this metric (or time, the default) instead of time: the\n"
    "                     best is the objective's; the speedup stays a ratio of times, and\n"
    "                     the profile store's profile the fastest configuration\n"
    "  --higher-is-better, --lower-is-better\n"
    "                     the objective's direction (default: Kernel Tuner's for its names,\n"
    "                     GFLOP/s, GB/s, ... higher, time, energy, ... lower; other names\n"
    "                     must say)\n"
    "  --cache-out FILE   write every evaluated configuration as a Kernel Tuner cache file\n"
    "  --t4-out FILE      and in the T4 results format\n"
    "  --json             the result as JSON, with the history: every evaluation's\n"
    "                     configuration, time or failure, and at_s (seconds from the start)\n"
    "  --db DB            the profile store (default: $CUTUNE_DB, else\n"
    "                     $XDG_DATA_HOME/cutune/profiles.db): every evaluation is written\n"
    "                     there as it completes, and the best becomes the profile\n"
    "  --no-store         keep nothing in the profile store\n"
    "  --resume           take what earlier sessions of this kernel, GPU, size and space\n"
    "                     measured (a killed session goes on where it stopped, and what\n"
    "                     finished counts against the budget). One run at a time goes on\n"
    "                     with a session: while another run has it, this one says which\n"
    "                     (pid, host, since when) and exits 1; a session whose run's\n"
    "                     process is gone (killed, or its host restarted) is taken over\n"
    "  --user-key K       what else sets this profile apart (e.g. the data type)\n"
    "  --precompile T     first compile every configuration into the binary cache on T\n"
    "                     threads (for brute force over a whole space)\n"
    "  --compile-threads T\n"
    "                     threads compiling ahead, while one configuration is measured, those\n"
    "                     the strategy will ask for next, 0 to 16 (0: none; default: one\n"
    "                     fewer than the CPUs the process may run on; under mpirun, per\n"
    "                     rank). With two or more, each thread hands its compilations to\n"
    "                     a helper process of its own, since NVRTC compiles one thing at a\n"
    "                     time in a process\n"
    "  --compile-in-threads\n"
    "                     compile ahead on the threads themselves, in this process (one\n"
    "                     compilation at a time, as NVRTC allows)\n"
    "  --arch SM          (--sim) prune, before compiling, configurations whose block cannot launch\n"
    "                     on this architecture (block_size_x*y*z threads over its limit);\n"
    "                     they cost no evaluation, and the report counts them with the\n"
    "                     time the recording tuner spent on them\n"
    "  --sim-delay-ms MS  (--sim) sleep MS per measurement, standing in for the GPU's time\n"
    "  --db DB            (--sim) checkpoint into this profile store (none without it), so\n"
    "                     that --resume works as on the GPU; the profile is the recorded\n"
    "                     space's (its file's device name and problem size, compute\n"
    "                     capability and SMs unknown: the key `profiles import` gives it)\n\n"
    "Ctrl-C stops the session after the configuration in hand: it reports what it has,\n"
    "writes --cache-out and --t4-out, and exits with status 130; a second Ctrl-C ends it at\n"
    "once (also 130). With a profile store, --resume goes on from there.\n";

static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"};
    const char *off = getenv("CUTUNE_MPI");
    if (off && strcmp(off, "0") == 0)
        return 0;
    for (size_t k = 0; k < sizeof vars / sizeof *vars; k++)
        if (getenv(vars[k]))
            return 1;
    return 0;
}

static int tune_here(const tune_args *a)
{
    cutune_session *s = NULL;
    cutune_cache *cache = NULL;
    int st = a->sim ? cutune_cache_load(&cache, a->sim, a->spec) : CUTUNE_OK;
    if (!st)
        st = tune_session_new(a, cache, &a->session, a->sim_delay_ms, &s);
    if (st == CUTUNE_ENODEVICE) {
        fprintf(stderr, "no CUDA device found: %s\n", cutune_last_error());
        return EXIT_NO_DEVICE;
    }
    int rc = st ? cli_fail("tune", st) : tune_run(s, cache, a, NULL);
    cutune_session_free(s);
    cutune_cache_free(cache);
    return rc;
}

/* The spec's Search and Budget, where the command line gives no strategy, budget or time
 * limit (given: bits 1, 2, 4 for those); what was taken goes to a->from_spec. */
static int spec_search_defaults(tune_args *a, int given)
{
    cutune_spec_search ss;
    int st = cutune_spec_read_search(a->spec, &ss);
    if (st)
        return cli_fail("tune", st);
    size_t at = 0;
    char *note = a->from_spec;
    const size_t size = sizeof a->from_spec;
    if (!(given & 1) && ss.name[0]) {
        if (!ss.strategy) {
            cutune_strategy_lookup(ss.name, &ss.strategy); /* (says what is nearest) */
            fprintf(stderr, "cutune tune: %s: Search.Name: %s (--strategy NAME chooses "
                    "another)\n", a->spec, cutune_last_error());
            return EXIT_FAILED;
        }
        a->search.strategy = ss.strategy;
        at += (size_t)snprintf(note + at, size - at, "strategy %s (Search.Name %s)",
                               ss.strategy, cli_text(ss.name));
    }
    uint64_t budget = ss.budget;
    if (!(given & 2) && ss.budget_fraction > 0) {
        cutune_space *space;
        uint64_t valid = 0;
        if ((st = cutune_space_load_t1(&space, a->spec)) ||
            (st = cutune_space_count(space, &valid))) {
            cutune_space_free(space);
            return cli_fail("tune", st);
        }
        cutune_space_free(space);
        uint64_t share = (uint64_t)ceil(ss.budget_fraction * (double)valid);
        share = share ? share : 1;
        budget = budget && budget < share ? budget : share;
        if (at < size)
            at += (size_t)snprintf(note + at, size - at, "%sConfigurationFraction %g of %llu "
                                   "valid configurations", at ? ", " : "", ss.budget_fraction,
                                   (unsigned long long)valid);
    }
    if (!(given & 2) && budget) {
        a->search.budget = budget;
        if (at < size)
            at += (size_t)snprintf(note + at, size - at, "%sbudget %llu", at ? ", " : "",
                                   (unsigned long long)budget);
    }
    if (!(given & 4) && ss.time_limit_s > 0) {
        a->search.time_limit_s = ss.time_limit_s;
        if (at < size)
            snprintf(note + at, size - at, "%stime limit %g s (TuningDuration)", at ? ", " : "",
                     ss.time_limit_s);
    }
    return EXIT_OK;
}

/* The command line into *a (and which of --strategy, --budget, --time-limit were given:
 * bits 1, 2, 4 of *given): GO_ON, or the exit status (--help, a usage error). */
static int parse_args(int argc, char **argv, tune_args *a, int *given)
{
    static const struct option opts[] = {
        {"sim", required_argument, 0, 'S'},      {"spec", required_argument, 0, 'p'},
        {"strategy", required_argument, 0, 's'}, {"budget", required_argument, 0, 'b'},
        {"seed", required_argument, 0, 'e'},     {"time-limit", required_argument, 0, 'L'},
        {"json", no_argument, 0, 'j'},           {"help", no_argument, 0, 'h'},
        {"arch", required_argument, 0, 'a'},     {"device", required_argument, 0, 'd'},
        {"iterations", required_argument, 0, 'I'}, {"flush-l2", no_argument, 0, 'F'},
        {"cache-out", required_argument, 0, 'C'}, {"precompile", required_argument, 0, 'P'},
        {"t4-out", required_argument, 0, 'T'},   {"batch", required_argument, 0, 'q'},
        {"db", required_argument, 0, 'D'},       {"no-store", no_argument, 0, 'N'},
        {"resume", no_argument, 0, 'R'},         {"user-key", required_argument, 0, 'U'},
        {"problem", required_argument, 0, 'z'},  {"sim-delay-ms", required_argument, 0, 'y'},
        {"per-rank", required_argument, 0, 'k'}, {"compile-threads", required_argument, 0, 'c'},
        {"verify", required_argument, 0, 'V'},   {"atol", required_argument, 0, 'A'},
        {"rtol", required_argument, 0, 'r'},     {"metric", required_argument, 0, 'M'},
        {"objective", required_argument, 0, 'O'}, {"higher-is-better", no_argument, 0, 'H'},
        {"lower-is-better", no_argument, 0, 'W'}, {"precision", required_argument, 0, 'X'},
        {"confirm", required_argument, 0, 'Y'},   {"compile-in-threads", no_argument, 0, 'J'},
        {0, 0, 0, 0}};
    *a = (tune_args){.search = {.strategy = "bo", .budget = 100, .seed = 1}, .atol = NAN,
                     .rtol = NAN, .higher = -1};
    int index = 0, c;
    *given = 0;
    opterr = 0;
    optind = 0;
    /* (no '+': the kernel file may come before the options) */
    while ((c = getopt_long(argc, argv, ":h", opts, &index)) != -1) {
        char *end;
        unsigned long long v;
        switch (c) {
        case 'h':
            fputs(tune_help, stdout);
            return EXIT_OK;
        case 'S': a->sim = optarg; break;
        case 'p': a->spec = optarg; break;
        case 's': a->search.strategy = optarg; *given |= 1; break;
        case 'a': a->arch_name = optarg; break;
        case 'F': a->session.flush_l2 = 1; break;
        case 'C': a->cache_out = optarg; break;
        case 'T': a->t4_out = optarg; break;
        case 'D': a->db = optarg; break;
        case 'N': a->no_store = 1; break;
        case 'R': a->resume = 1; break;
        case 'U': a->user_key = optarg; break;
        case 'j': a->json = 1; break;
        case 'V':
        case 'A':
        case 'r':
        case 'M':
        case 'O':
        case 'H':
        case 'W':
            if (tune_parse_opt(a, opts[index].name, optarg))
                return EXIT_USAGE;
            break;
        case 'z':
            if (cli_parse_problem(optarg, a->session.problem))
                return cli_usage_error("tune", "--problem takes up to three positive sizes, "
                                               "X[,Y[,Z]], not '%s'", optarg);
            break;
        case 'P':
            if (cli_parse_u64("tune", "--precompile", optarg, &v))
                return EXIT_USAGE;
            a->precompile = v > 256 ? 256 : (int)v;
            break;
        case 'c': /* the library's 0 is its default, -1 none */
            if (cli_parse_u64_in("tune", "--compile-threads", optarg, 0, 16, &v))
                return EXIT_USAGE;
            a->session.compile_threads = v ? (int)v : -1;
            break;
        case 'd':
        case 'I':
            if (c == 'd' ? cli_parse_u64("tune", "--device", optarg, &v)
                         : cli_parse_u64_in("tune", "--iterations", optarg, 1, 64, &v))
                return EXIT_USAGE;
            *(c == 'd' ? &a->session.device : &a->session.iterations) = v > 1000 ? 1000 : (int)v;
            break;
        case 'b':
        case 'e':
            if (cli_parse_u64("tune", c == 'b' ? "--budget" : "--seed", optarg, &v))
                return EXIT_USAGE;
            *(c == 'b' ? &a->search.budget : &a->search.seed) = v;
            *given |= c == 'b' ? 2 : 0;
            break;
        case 'q':
        case 'k':
            if (cli_parse_u64_in("tune", c == 'q' ? "--batch" : "--per-rank", optarg, 1, 16, &v))
                return EXIT_USAGE;
            *(c == 'q' ? &a->search.batch : &a->per_rank) = (unsigned)v;
            break;
        case 'X': /* a fraction, or a percentage ("1%") */
            a->session.precision = strtod(optarg, &end);
            if (*end == '%' && end[1] == '\0')
                a->session.precision /= 100, end++;
            if (*end || !(a->session.precision > 0 && a->session.precision < 1))
                return cli_usage_error("tune", "--precision takes a fraction in (0, 1) or a "
                                               "percentage (0.01 or 1%%), not '%s'", optarg);
            break;
        case 'J':
            a->session.compile_in_threads = 1;
            break;
        case 'Y':
            if (cli_parse_u64_in("tune", "--confirm", optarg, 0, 16, &v))
                return EXIT_USAGE;
            a->session.confirm = v ? (int)v : -1; /* (the library's 0 is its default) */
            break;
        case 'L':
            a->search.time_limit_s = strtod(optarg, &end);
            if (*end || !(a->search.time_limit_s > 0))
                return cli_usage_error("tune", "--time-limit needs a positive number of seconds");
            *given |= 4;
            break;
        case 'y':
            a->sim_delay_ms = strtod(optarg, &end);
            if (*end || !(a->sim_delay_ms >= 0 && a->sim_delay_ms <= 3.6e6))
                return cli_usage_error("tune", "--sim-delay-ms needs 0 to 3600000 milliseconds");
            break;
        case ':':
            return cli_usage_error("tune", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("tune", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc - (a->sim ? 0 : 1))
        return cli_usage_error("tune", "unexpected argument '%s'", argv[argc - 1]);
    a->kernel_file = optind < argc ? argv[optind] : NULL;
    return GO_ON;
}

/* What the spec adds, and what only the whole command line decides; *arch receives
 * --arch's architecture (a->search.arch points to it): GO_ON, or the exit status. */
static int check_args(tune_args *a, int given, cutune_arch *arch)
{
    int rc = a->spec ? spec_search_defaults(a, given) : EXIT_OK; /* Search, Budget */
    if (rc)
        return rc;
    if (a->search.budget == 0)
        return cli_usage_error("tune", "--budget must be at least 1");
    if (cutune_strategy_lookup(a->search.strategy, &a->search.strategy)) /* or Kernel Tuner's */
        return cli_usage_error("tune", "%s", cutune_last_error());
    if (a->sim && a->session.problem[0])
        return cli_usage_error("tune", "--problem is for the GPU: a recorded space has its own");
    if (!a->sim && !a->spec)
        return cli_usage_error("tune", "give --spec SPEC (and KERNEL.cu unless the spec "
                                       "names its KernelFile), or --sim CACHE");
    if (a->no_store && (a->db || a->resume))
        return cli_usage_error("tune", "--no-store goes with neither --db nor --resume");
    if (a->sim && a->resume && !a->db)
        return cli_usage_error("tune", "--sim keeps nothing in the profile store unless "
                                       "--db DB names one: --resume needs it");
    if (!a->sim && (a->arch_name || a->sim_delay_ms > 0))
        return cli_usage_error("tune", "--%s goes with --sim (on the GPU the device decides)",
                               a->arch_name ? "arch" : "sim-delay-ms");
    if (a->arch_name && cutune_arch_find(a->arch_name, arch))
        return cli_fail("tune", CUTUNE_ENOTFOUND);
    a->search.arch = a->arch_name ? arch : NULL;
    rc = tune_check_opts(a);
    if (rc || (rc = tune_check_answers(a)))
        return rc;
    return GO_ON;
}

int cmd_tune(int argc, char **argv)
{
    tune_args a;
    cutune_arch arch;
    int given, rc = parse_args(argc, argv, &a, &given);
    if (rc == GO_ON)
        rc = check_args(&a, given, &arch);
    if (rc != GO_ON)
        return rc;
    return launched_by_mpi() ? cli_mpi_tune(argc, argv, &a) : tune_here(&a);
}
