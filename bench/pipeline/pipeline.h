/* pipeline.h — `cutune pipeline`: its options (cli_pipeline.c) and the run on the GPU
 * (pipeline_run.c; without CUDA, a line saying so). */
#ifndef CUTUNE_PIPELINE_H
#define CUTUNE_PIPELINE_H

#include "cli.h"

/* What the options ask for; without CUDA they are checked and the command says what is
 * missing. */
typedef struct pipe_args {
    size_t bytes, chunk;
    int depth, workloads, tuning, pageable, json, device;
    double us_per_mb;
} pipe_args;

int pipeline_main(const pipe_args *a);

#endif
