/* realtime_gpu.h — the demo workloads on the GPU: one frame is the observations copied in
 * from pinned memory, RT_OSC_STEPS oscillator steps, one active-inference step and the action
 * copied out, all one CUDA graph. The tuned kernels (osc_step, ai_predict) are launched
 * through cutune_launch with what the profile store selects (an empty store: their default
 * configurations, the baseline); the others are compiled once from the same sources. */
#ifndef CUTUNE_REALTIME_GPU_H
#define CUTUNE_REALTIME_GPU_H

#include "realtime.h"

typedef struct rt_gpu rt_gpu;

/* kernels_dir: where oscillators.cu/.json and active_inference.cu/.json are; cache_dir: the
 * binary cache (NULL: the default). On failure *why says what and where. */
int rt_gpu_new(rt_gpu **out, const rt_model *m, cutune_store *store, const char *kernels_dir,
               const char *cache_dir, char *why, size_t why_size);
void rt_gpu_free(rt_gpu *g);

/* The configurations launched (the spec's parameter order) and the rule that chose each. */
const char *rt_gpu_osc_config(const rt_gpu *g);
const char *rt_gpu_predict_config(const rt_gpu *g);
const char *rt_gpu_osc_rule(const rt_gpu *g);
const char *rt_gpu_predict_rule(const rt_gpu *g);
/* Steps a launch: RT_OSC_STEPS oscillator steps or RT_SUBSTEPS sub-steps in one launch when
 * the store holds profiles tuned for that (osc_step at {N, RT_OSC_STEPS}, ai_predict at
 * {RT_NS, RT_NP, RT_SUBSTEPS}), else 1: the plain one launch a step. */
int rt_gpu_osc_per_launch(const rt_gpu *g);
int rt_gpu_predict_per_launch(const rt_gpu *g);

/* Back to the model's initial state (phases, velocities, step 0, belief mu_p). */
int rt_gpu_reset(rt_gpu *g);
/* Host-timed runs (launch to completion, ms) of: RT_OSC_STEPS oscillator steps (the graph of
 * those launches alone; the state moves on), and of one active-inference step on the
 * observations last copied in. */
int rt_gpu_time_osc(rt_gpu *g, int runs, double *ms);
int rt_gpu_time_ai(rt_gpu *g, int runs, double *ms);
/* One frame on observations o (RT_NO): ai_out (RT_AI_OUT) and osc_out (osc_observe's four
 * sums) when done; *ms its latency, launch to completion. */
int rt_gpu_frame(rt_gpu *g, const double *o, double *ai_out, double *osc_out, double *ms);
/* The state now: theta and vel (N each), mu (RT_NS); any may be NULL. */
int rt_gpu_read(rt_gpu *g, double *theta, double *vel, double *mu);
/* The first frame from the initial state against the CPU references (realtime.h), the
 * largest absolute differences: check[0] phases and velocities, [1] osc_observe's sums,
 * [2] the belief, [3] the policy probabilities; check[4] 1 when the same policy is chosen.
 * Leaves the state after that frame. */
int rt_gpu_check(rt_gpu *g, double check[5]);

#endif
