/* cli_mpi_exec.c — `cutune tune` started by mpirun, in the cutune that links no MPI: it hands
 * the command to cutune-mpi beside it, which does, so that cutune runs on any machine. */
#include "cli_tune.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_mpi_tune(int argc, char **argv, const tune_args *a)
{
    (void)a;
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
    path[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash) {
        fprintf(stderr, "cutune tune: cannot tell where this program is (/proc/self/exe)\n");
        return EXIT_FAILED;
    }
    strcpy(slash + 1, "cutune-mpi");
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args)
        return EXIT_FAILED;
    args[0] = path;
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    execv(path, args); /* returns only when it could not */
    int err = errno;
    free(args);
    if (err == ENOENT)
        fprintf(stderr, "cutune tune: started by mpirun, but %s is not there: this cutune was "
                "built without MPI (scripts/deps.sh installs Open MPI; CUTUNE_MPI=ON); run "
                "cutune tune without mpirun, or set CUTUNE_MPI=0 to tune in each process "
                "alone\n", path);
    else
        fprintf(stderr, "cutune tune: cannot run %s: %s\n", path, strerror(err));
    return EXIT_FAILED;
}
