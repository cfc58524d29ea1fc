/* includes.h — the files a kernel's source includes (includes.c): what the binary cache's key
 * and the profile key hash besides the source itself. */
#ifndef CUTUNE_INCLUDES_H
#define CUTUNE_INCLUDES_H

#include "internal.h"

#include <stdint.h>

typedef struct ct_include {
    char *path;    /* as found: the including file's folder or an -I folder joined to the name */
    char hash[33]; /* XXH3-128 of its bytes, in hex */
    uint64_t bytes;
} ct_include;

typedef struct ct_includes {
    ct_include *files; /* in the order the preprocessor meets them, each once */
    size_t n;
    unsigned mentions; /* bit w: watch[w] occurs as a word in the source or a header read */
} ct_includes;

/* Reads every file that `source` (named source_name, whose folder quoted includes start from;
 * NULL: the current folder) includes, directly or through others, as NVRTC with these options
 * (-I, --include-path, --pre-include) would find it. Files under system_dirs (the toolkit's
 * include folders: they change with NVRTC's version, which the keys hold) are neither hashed
 * nor followed, nor are includes found nowhere (NVRTC reports those). watch: up to 32
 * identifiers to look for. CUTUNE_ETOOBIG past 1024 files or 64 levels; a header that exists
 * but cannot be read is an error naming it. */
int ct_includes_scan(const char *source, size_t len, const char *source_name,
                     const char *const *options, size_t noptions,
                     const char *const *system_dirs, size_t nsystem, const char *const *watch,
                     size_t nwatch, ct_includes *out);
void ct_includes_free(ct_includes *inc);

#endif
