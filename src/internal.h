/* internal.h — what the library's source files share, grouped by the file that defines
 * it. Not installed; nothing here is part of the public API. The limits are in bounds.h;
 * larger parts have their own private headers (space_impl.h, search.h, compile_impl.h,
 * worker.h, session/session_impl.h, store/store_impl.h and store/session.h). */
#ifndef CUTUNE_INTERNAL_H
#define CUTUNE_INTERNAL_H

#include "cutune.h"
#include "bounds.h"

#include <stdarg.h>
#include <stdbool.h>

#if defined(__GNUC__)
#define CT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CT_PRINTF(f, a)
#endif

/* --------------------------------------------------------------------------- status.c ---- */

/* Records a message for cutune_last_error() on this thread and returns `status`. */
int ct_fail(int status, const char *fmt, ...) CT_PRINTF(2, 3);
int ct_vfail(int status, const char *fmt, va_list ap);
/* Prefixes the current message with "prefix: " and returns `status`. */
int ct_wrap(int status, const char *fmt, ...) CT_PRINTF(2, 3);
/* strdup that reports failure through ct_fail. */
char *ct_strdup(const char *s);
/* Python's repr of a float: the shortest form that reads back to the same double, with a
 * ".0" where it would otherwise look like an integer. */
int ct_format_double(double v, char *buf, size_t size);
/* A window of `src` for a message, around 1-based column `col`: the whole text when it is
 * short, else about 60 characters with "..." where it was cut. Returns buf. */
const char *ct_excerpt(const char *src, int col, char *buf, size_t size);

/* ---------------------------------------------------------------------------- clock.c ---- */

/* Seconds on the monotonic clock (durations), and since 1970 (dates). */
double ct_now(void);
double ct_unix_now(void);

/* ------------------------------------------------------------------------------- io.c ---- */

/* Reads a whole file (at most `limit` bytes) into a malloc'd buffer. */
int ct_read_file(const char *path, size_t limit, char **data, size_t *len);
/* The same as a NUL-terminated string (len may be NULL), or NULL with the failure recorded. */
char *ct_read_text(const char *path, size_t limit, size_t *len);
/* Reads a whole file, gzip'd or plain (at most 1 GiB once decompressed). */
int ct_read_gz(const char *path, char **data, size_t *len);
/* The same parsed as JSON: *(json_t **)out, a new reference (out is void * so that this
 * header needs no jansson). */
int ct_load_json(const char *path, void *out);
/* mkdir -p of `dir` with `mode` (the umask applies): 0, or -1 with errno set and, in failed
 * (may be NULL), the folder on the way that could not be made. A file where a folder should
 * be shows only as a later failure to use it. */
int ct_make_dirs(const char *dir, unsigned mode, char *failed, size_t failed_size);
/* A new file beside `path` for writing, named into tmp (size >= strlen(path) + 16): never
 * one that exists or a link (O_EXCL). It gets the mode `path` has, or what the umask allows,
 * as a file fopen makes. The descriptor, or -1 with errno set. */
int ct_create_beside(const char *path, char *tmp, size_t size);
/* Writes a file whole, gzip'd when its name ends in .gz, replacing it only once written. */
int ct_write_gz(const char *path, const char *data, size_t len);

/* -------------------------------------------------------------------------- ktcache.c ---- */

/* A Kernel Tuner cache file already parsed (json: a json_t *), checked as cutune_cache_load
 * checks a file; `path` names it in messages. */
int ct_cache_from_json(cutune_cache **out, const void *json, const char *path, const char *spec);
/* Kernel Tuner's problem_size (json: a json_t *; absent, a positive integer or a list of up
 * to three) as sizes, 1s beyond its dimensions: their number, or -1 (and 1s) when it is no
 * such size. */
int ct_kt_problem_size(const void *json, int64_t problem[3]);
/* A Kernel Tuner cache file's path, and its problem_size as cutune_kernel_problem gives a
 * spec's (the number of dimensions; 0, and 1s, when the file has none or not such a size). */
const char *ct_cache_path(const cutune_cache *cache);
int ct_cache_problem(const cutune_cache *cache, int64_t problem[3]);

/* ------------------------------------------------------------------------ spec_info.c ---- */

/* cutune_spec_read_search and cutune_spec_ignored_fields of a spec already parsed (json: a
 * json_t *, the spec's root); `file` names it in messages. */
int ct_spec_search_json(const void *json, const char *file, cutune_spec_search *out);
int ct_spec_ignored_json(const void *json, char **fields, size_t *count);

/* -------------------------------------------------------------------- config_source.c ---- */

/* A kernel of a T1 spec and what compiling its configurations takes (config_source.c). */
typedef struct ct_kernel_source {
    const cutune_space *space;
    const cutune_kernel *kernel; /* NULL: no launch description (kernel_name, block from
                                    block_size_x/y/z, no grid) */
    const char *source, *source_name;
    const char *arch;      /* "sm_90" */
    const char *cache_dir; /* as in cutune_compile_request */
    const char *kernel_name;     /* instead of the spec's KernelName, or NULL */
    const char *const *options;  /* NVRTC options after the spec's CompilerOptions */
    size_t num_options;
} ct_kernel_source;
/* A configuration's source as Kernel Tuner prepares it: `#define`s of grid_size_x/y/z (where
 * the source or a header it includes uses them), block_size_x/y/z, every parameter (a
 * loop_unroll_factor* as a constexpr int; at 0 it is not defined and `#pragma unroll NAME`
 * goes), the ProblemSizeDefines and kernel_tuner 1 (under `#line 1 "cutune-defines"`), then
 * `#line 1 "NAME"` and the source. names: the macros the source must not redefine. */
typedef struct ct_config_text {
    char *source;
    size_t len;
    char **names;
    size_t nnames;
} ct_config_text;
int ct_config_source(const ct_kernel_source *ks, const uint32_t *config,
                     const int64_t problem[3], ct_config_text *out);
void ct_config_text_free(ct_config_text *t);
/* Compiles (through the binary cache) one configuration at this problem size. A source that
 * redefines one of the configuration's macros fails it (CUTUNE_ECOMPILE, naming file and
 * line); the geometry's status when its launch cannot be computed. log (may be NULL):
 * NVRTC's whole log, malloc'd, also on failure. */
int ct_compile_config(const ct_kernel_source *ks, const uint32_t *config,
                      const int64_t problem[3], cutune_binary **bin, char **log);
/* Whether a configuration's binary depends on the problem size: the source uses
 * grid_size_x/y/z, the spec has ProblemSizeDefines, or its block follows the problem size;
 * a binary then serves that size alone. */
int ct_config_sized(const ct_kernel_source *ks, int *sized);

/* ---------------------------------------------------------------------- kernel_spec.c ---- */

/* Whether the spec's block (LocalSize) reads the problem size. */
int ct_kernel_block_uses_problem(const cutune_kernel *k);

/* -------------------------------------------------------------------------- compile.c ---- */

/* What the compiler itself said in an NVRTC log: its errors and warnings with the source
 * lines they show, without ptxas's report or NVRTC's closing remark (malloc'd), or NULL when
 * it said nothing (with warnings_only: no warning). */
char *ct_log_compiler_lines(const char *log, int warnings_only);
/* The CUDA toolkit's include folders that exist (its include/ and include/cccl/, from
 * $CUDA_PATH, $CUDA_HOME, the toolkit cutune was built with and /usr/local/cuda), each once,
 * as real paths: NVRTC searches them after the source's own -I folders. Static strings. */
size_t ct_toolkit_include_dirs(const char **dirs, size_t max);

/* ------------------------------------------------------------------------- includes.c ---- */

/* The profile key's hash of a kernel's source (cutune_kernel_source_hash) where the source
 * is the file `source_name` (NULL: the spec's KernelFile), whose folder its includes start
 * from. */
int ct_kernel_source_hash_named(const cutune_kernel *k, const char *source, size_t len,
                                const char *source_name, char buf[33]);

/* ----------------------------------------------------------------------------- args.c ---- */

/* An argument's initial contents as its spec says (malloc'd; why on failure), and
 * the few CUDA calls behind cutune_args (CUTUNE_ENOTSUP without CUDA). */
int ct_fill_host(const cutune_kernel *k, size_t index, void **out, char *why, size_t size);
int ct_cuda_free_memory(size_t *free_bytes);
int ct_cuda_upload(void **dev, const void *host, size_t bytes);
void ct_cuda_free(void *dev);

/* ----------------------------------------------- pipeline_cuda.c, pipeline_nocuda.c ---- */

/* Runs the pipeline of cutune_pipeline_run with its options checked, bytes > 0. */
int ct_pipeline_cuda(const void *in, void *out, size_t bytes, cutune_compute_fn compute,
                     void *user, const cutune_pipeline_options *options,
                     cutune_pipeline_stats *stats);

/* ----------------------------------------------------------------------------- nvml.c ---- */

/* One GPU's SM clock and the reasons NVML gives for holding it down (power or heat: the
 * bits cutune_throttle_names names), read by the worker around each measurement. NULL when
 * NVML cannot say (no driver library, or no such GPU); a read gives 0 on success. */
typedef struct ct_clocks ct_clocks;
ct_clocks *ct_clocks_open(const char *pci_bus_id);
int ct_clocks_read(ct_clocks *c, unsigned *sm_mhz, unsigned long long *slowdown);
void ct_clocks_close(ct_clocks *c);

/* ---------------------------------------------------------------------- small helpers ---- */

/* Position of `id` in the sorted array ids[0..n), or n when it is not there. */
static inline size_t ct_find_id(const uint64_t *ids, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id ? lo : n;
}

#endif
