/* compile_impl.h — what compile.c and compile_cache.c share: the compiled binary, and the
 * key under which the disk cache keeps it. */
#ifndef CUTUNE_COMPILE_IMPL_H
#define CUTUNE_COMPILE_IMPL_H

#include "internal.h"

struct cutune_binary {
    char *cubin;
    size_t size;
    char *lowered_name; /* the kernel's symbol in the cubin */
    char *log;          /* NVRTC's and ptxas's messages */
    char *cache_path;   /* where the disk cache keeps it; NULL without a cache */
    cutune_binary_info info;
};

/* Set once NVRTC has been used in this process: CUDA cannot start in a process forked after
 * that, so no worker may be started (worker.c). */
extern int ct_nvrtc_loaded;

/* Everything that decides the binary (NVRTC's version, architecture, kernel, a hash of the
 * source, the defines and options, in order) as text, and the file that caches it. */
typedef struct ct_binary_key {
    char *text;
    char dir[4096]; /* empty: no disk cache */
    char path[4200];
} ct_binary_key;

int ct_binary_key_make(const cutune_compile_request *r, int nvrtc_major, int nvrtc_minor,
                       ct_binary_key *key);
void ct_binary_key_release(ct_binary_key *key);
/* CUTUNE_OK and the binary when the cache holds one for exactly this key; anything else
 * (no file, another key, a damaged file) is a miss. */
int ct_binary_cache_load(const ct_binary_key *key, cutune_binary *b);
/* Writes the binary under a temporary name and renames it: readers see all of it or none. */
int ct_binary_cache_store(const ct_binary_key *key, const cutune_binary *b);

#endif
