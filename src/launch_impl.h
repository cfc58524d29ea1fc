/* launch_impl.h — the inside of a launcher (cutune_launcher), shared by its portable part
 * (launch.c: selections, the loaded list, constants, online tuning) and its CUDA half
 * (launch_cuda.c; launch_nocuda.c without the toolkit). */
#ifndef CUTUNE_LAUNCH_IMPL_H
#define CUTUNE_LAUNCH_IMPL_H

#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

/* One configuration, compiled and loaded. Immutable once published, but for the dynamic
 * shared memory limit raised when a launch needs more. */
typedef struct loaded {
    struct loaded *next;
    char *params, *config;    /* the selection it answers (the profile's strings) */
    uint32_t cfg[CUTUNE_MAX_PARAMS]; /* what runs: the selected configuration, or the default */
    char key[CUTUNE_KEY_MAX]; /* cfg in the spec's parameter order */
    int64_t size[3];          /* the problem size compiled in (ProblemSizeDefines), or 0s */
    int fell_back;
    int regs;                 /* the binary's registers per thread and static shared memory */
    size_t static_smem;
    void *lib, *kern;         /* its cudaLibrary_t and cudaKernel_t (launch_cuda.c) */
    _Atomic size_t smem_limit; /* dynamic shared memory the kernel may use now */
} loaded;

typedef struct constant {
    struct constant *next;
    char *name;
    void *data;
    size_t bytes;
} constant;

/* An online tuning session: the size it tunes and its process. */
typedef struct job {
    struct job *next;
    int64_t problem[3];
    pid_t pid;
    int running;
} job;

struct cutune_launcher {
    cutune_store *store;
    cutune_space *space;
    cutune_kernel *kernel;
    char *spec, *source, *source_name, *user_key, *cache_dir;
    char source_hash[33];
    int sized;                     /* a binary serves one problem size (ct_config_sized) */
    cutune_kernel_id id;
    cutune_selector *selector;     /* the store's answers for this kernel on this device */
    cutune_device_info device;
    cutune_arch arch;
    uint32_t dflt[CUTUNE_MAX_PARAMS];
    _Atomic(loaded *) loaded;      /* readers walk it without the lock */
    pthread_mutex_t lock;          /* loading, constants, jobs */
    constant *constants;
    int online;
    char *cutune_path, *online_args;
    job *jobs;
    _Atomic int running_jobs;
    _Atomic double next_refresh;   /* while jobs run: when to take in their profiles again */
};

/* The CUDA half. _check_device: the launcher's device is the calling thread's; _load
 * compiles and loads e->cfg for this problem size (1: it cannot run on this GPU, a block
 * does not fit an SM); _loaded launches it; _copy_constant sets a __constant__ of a loaded
 * configuration; _unload frees what _load made. */
int ct_launch_check_device(const cutune_launcher *l);
int ct_launch_load(cutune_launcher *l, loaded *e, const int64_t problem[3]);
int ct_launch_loaded(loaded *e, const cutune_kernel *k, const int64_t problem[3],
                     void **args, void *stream, cutune_launch_info *info);
int ct_launch_copy_constant(loaded *e, const constant *c);
void ct_launch_unload(loaded *e);

#endif
