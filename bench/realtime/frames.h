/* frames.h — `cutune pipeline --frames N`: the real-time demo end to end (frames.c). */
#ifndef CUTUNE_LAB_FRAMES_H
#define CUTUNE_LAB_FRAMES_H

typedef struct frames_args {
    int frames, baseline_frames, stage_runs, paced, json, device, oscillators;
    const char *db;          /* the profile store of the tuned run (NULL: the default) */
    const char *kernels_dir; /* where oscillators.cu and active_inference.cu are */
} frames_args;

/* Runs the demo as the arguments say and reports; the exit status (EXIT_NO_DEVICE built
 * without CUDA). */
int frames_main(const frames_args *a);

#endif
