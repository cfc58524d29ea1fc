/* cutune.c — the command-line tool: dispatches to one function per subcommand (tools/cli_*.c,
 * and bench/ for `bench` and `pipeline`). The library does the work and never prints; the
 * subcommands are where results and errors are written, with the helpers of cli.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* NULL: not implemented yet */
    const char *planned;               /* for those: the issue that brings it */
} command;

static const command commands[] = {
    {"device", "describe the CUDA devices (limits, clocks, bandwidth, versions)", cmd_device, NULL},
    {"space", "load a search space: count, list or sample its valid configurations", cmd_space,
     NULL},
    {"occupancy", "occupancy of a launch configuration, what limits it and what would lift it",
     cmd_occupancy, NULL},
    {"check", "look a spec and its kernel over: space, launch, compile, occupancy (no GPU)",
     cmd_check, NULL},
    {"compile", "compile one configuration of a kernel with NVRTC (no GPU needed)", cmd_compile,
     NULL},
    {"tune", "tune a kernel over its search space (on a recorded space with --sim)", cmd_tune,
     NULL},
    {"sim", "score search strategies on recorded search spaces, without a GPU", cmd_sim, NULL},
    {"profiles", "list, query, import and export stored tuning profiles", cmd_profiles, NULL},
    {"bench", "benchmark tuned against untuned kernels and the hardware's limits", cmd_bench,
     NULL},
    {"pipeline", "run and measure the pinned, triple-buffered copy/compute pipeline",
     cmd_pipeline, NULL},
};
#define NUM_COMMANDS (sizeof commands / sizeof *commands)

static void print_usage(FILE *f)
{
    fprintf(f, "usage: cutune [--version] [--help] COMMAND [ARGS]\n\n"
               "cutune tunes CUDA kernels: it searches their launch and code parameters,\n"
               "explains the result and keeps the best configurations for run-time use.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        fprintf(f, "  %-10s %s%s\n", commands[i].name, commands[i].summary,
                commands[i].run ? "" : " (not implemented yet)");
    fprintf(f, "\n'cutune COMMAND --help' describes a command. Exit status: 0 success, 1 the\n"
               "command failed, 2 usage error or command not implemented, 3 no CUDA device,\n"
               "130 stopped by Ctrl-C.\n");
}

static int not_implemented(const command *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: cutune %s ...\n\n%s.\n\nNot implemented yet: planned in %s.\n",
                   c->name, c->summary, c->planned);
            return EXIT_OK;
        }
    fprintf(stderr, "cutune %s: not implemented yet (planned in %s)\n", c->name, c->planned);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("cutune %s\n", cutune_version());
        return EXIT_OK;
    }
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run ? commands[i].run(argc - 1, argv + 1)
                                   : not_implemented(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "cutune: unknown command or option '%s'\n\n", name);
    print_usage(stderr);
    return EXIT_USAGE;
}
