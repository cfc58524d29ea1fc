/* includes.c — the files a kernel's source includes, found where NVRTC would look for them
 * (the including file's folder for "name", then -I folders, then the toolkit's), each read
 * and hashed: an edited header changes the binary cache's key and the profile key, which
 * is here too (cutune_kernel_source_hash); and the toolkit's own include folders. */
#define _DEFAULT_SOURCE /* realpath */
#include "includes.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>


typedef struct scan {
    ct_includes *out;
    const char *const *user_dirs; /* -I folders, in order */
    size_t nuser;
    const char *const *system_dirs; /* the toolkit's: not hashed, not followed */
    size_t nsystem;
    const char *const *watch; /* identifiers whose use is asked about */
    size_t nwatch;
    char **seen; /* real paths of the files read, against cycles */
    size_t nseen;
} scan;

void ct_includes_free(ct_includes *inc)
{
    for (size_t i = 0; inc && i < inc->n; i++)
        free(inc->files[i].path);
    if (inc) {
        free(inc->files);
        memset(inc, 0, sizeof *inc);
    }
}

static int is_ident(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* Marks each watched identifier that occurs in text as a whole word. */
static void note_mentions(scan *sc, const char *text, size_t len)
{
    for (size_t w = 0; w < sc->nwatch && w < 32; w++) {
        size_t n = strlen(sc->watch[w]);
        for (const char *p = text; n && (size_t)(p - text) + n <= len; p++) {
            p = memchr(p, sc->watch[w][0], len - (size_t)(p - text));
            if (!p || (size_t)(p - text) + n > len)
                break;
            if (memcmp(p, sc->watch[w], n) == 0 && (p == text || !is_ident(p[-1])) &&
                ((size_t)(p - text) + n == len || !is_ident(p[n]))) {
                sc->out->mentions |= 1u << w;
                break;
            }
        }
    }
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* path = dir/name ("name" alone for an empty dir); 0 when it fits. */
static int join(char *path, size_t size, const char *dir, const char *name, size_t nlen)
{
    int n = dir && *dir ? snprintf(path, size, "%s/%.*s", dir, (int)nlen, name)
                        : snprintf(path, size, "%.*s", (int)nlen, name);
    return n >= 0 && (size_t)n < size ? 0 : -1;
}

/* Under one of the toolkit's folders? */
static int in_system_dir(const scan *sc, const char *path)
{
    for (size_t i = 0; i < sc->nsystem; i++) {
        size_t n = strlen(sc->system_dirs[i]);
        if (n && strncmp(path, sc->system_dirs[i], n) == 0 && path[n] == '/')
            return 1;
    }
    return 0;
}

static int read_one(scan *sc, const char *path, int depth);

/* The file `name` of an #include in a file of folder `dir` (quoted: dir first), or nothing
 * when it is nowhere (NVRTC will say so) or is the toolkit's. */
static int resolve(scan *sc, const char *dir, int quoted, const char *name, size_t nlen,
                   int depth)
{
    char path[PATH_MAX];
    if (nlen && name[0] == '/')
        return join(path, sizeof path, NULL, name, nlen) == 0 && file_exists(path)
                   ? read_one(sc, path, depth)
                   : CUTUNE_OK;
    if (quoted && join(path, sizeof path, dir, name, nlen) == 0 && file_exists(path))
        return read_one(sc, path, depth);
    for (size_t i = 0; i < sc->nuser; i++)
        if (join(path, sizeof path, sc->user_dirs[i], name, nlen) == 0 && file_exists(path))
            return read_one(sc, path, depth);
    return CUTUNE_OK; /* the toolkit's own, NVRTC's built-in, or missing */
}

/* Follows every #include of text (a file in folder dir). Directives inside comments are
 * skipped; those inside #if 0 are followed (a header too many costs only a cache miss). */
static int follow(scan *sc, const char *text, size_t len, const char *dir, int depth)
{
    int in_comment = 0, line_start = 1, st = CUTUNE_OK;
    for (size_t i = 0; i < len && !st; i++) {
        char c = text[i];
        if (in_comment) {
            if (c == '*' && i + 1 < len && text[i + 1] == '/')
                in_comment = 0, i++;
            line_start = line_start && c != '\n' ? line_start : c == '\n';
            continue;
        }
        if (c == '/' && i + 1 < len && text[i + 1] == '*') {
            in_comment = 1, i++;
            continue;
        }
        if (c == '/' && i + 1 < len && text[i + 1] == '/') {
            while (i < len && text[i] != '\n')
                i++;
            line_start = 1;
            continue;
        }
        if (c == '\n') {
            line_start = 1;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r')
            continue;
        if (!line_start || c != '#') {
            line_start = 0;
            continue;
        }
        line_start = 0;
        size_t j = i + 1;
        while (j < len && (text[j] == ' ' || text[j] == '\t'))
            j++;
        if (len - j < 7 || memcmp(text + j, "include", 7) != 0 ||
            (j + 7 < len && is_ident(text[j + 7])))
            continue;
        j += 7;
        while (j < len && (text[j] == ' ' || text[j] == '\t'))
            j++;
        if (j >= len || (text[j] != '"' && text[j] != '<'))
            continue; /* a computed #include: not followed */
        char close = text[j] == '"' ? '"' : '>';
        size_t start = ++j;
        while (j < len && text[j] != close && text[j] != '\n')
            j++;
        if (j < len && text[j] == close && j > start)
            st = resolve(sc, dir, close == '"', text + start, j - start, depth + 1);
        i = j;
    }
    return st;
}

static int read_one(scan *sc, const char *path, int depth)
{
    if (in_system_dir(sc, path))
        return CUTUNE_OK;
    char real[PATH_MAX];
    if (!realpath(path, real))
        return CUTUNE_OK; /* gone since: NVRTC will say so */
    for (size_t i = 0; i < sc->nseen; i++)
        if (strcmp(sc->seen[i], real) == 0)
            return CUTUNE_OK; /* read once (include guards, cycles) */
    if (in_system_dir(sc, real))
        return CUTUNE_OK;
    if (depth > CT_MAX_INCLUDE_DEPTH)
        return ct_fail(CUTUNE_ETOOBIG, "%s: #include nested more than %d deep", path,
                       CT_MAX_INCLUDE_DEPTH);
    if (sc->nseen == CT_MAX_HEADER_FILES)
        return ct_fail(CUTUNE_ETOOBIG, "%s: more than %d files included", path, CT_MAX_HEADER_FILES);
    char *data;
    size_t len;
    int st = ct_read_file(path, CT_MAX_HEADER_BYTES, &data, &len);
    if (st)
        return ct_wrap(st, "included header");
    ct_include *f = &sc->out->files[sc->out->n];
    if (!(f->path = ct_strdup(path)) || !(sc->seen[sc->nseen] = ct_strdup(real))) {
        free(f->path);
        free(data);
        return CUTUNE_ENOMEM;
    }
    sc->nseen++;
    sc->out->n++;
    XXH128_hash_t h = XXH3_128bits(data, len);
    snprintf(f->hash, sizeof f->hash, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    f->bytes = len;
    note_mentions(sc, data, len);
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    st = follow(sc, data, len, dir, depth);
    free(data);
    return st;
}

/* -I DIR, -IDIR, --include-path=DIR; --pre-include=FILE, -include=FILE (headers read
 * ahead of the source). */
static const char *option_value(const char *opt, const char *const *prefixes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(prefixes[i]);
        if (strncmp(opt, prefixes[i], k) == 0) {
            const char *v = opt + k;
            while (*v == ' ')
                v++;
            return *v ? v : NULL;
        }
    }
    return NULL;
}

int ct_includes_scan(const char *source, size_t len, const char *source_name,
                     const char *const *options, size_t noptions,
                     const char *const *system_dirs, size_t nsystem, const char *const *watch,
                     size_t nwatch, ct_includes *out)
{
    memset(out, 0, sizeof *out);
    static const char *const include_opts[] = {"--include-path=", "-I"};
    static const char *const preinclude_opts[] = {"--pre-include=", "-include="};
    const char **user = calloc(noptions + 1, sizeof *user);
    const char **pre = calloc(noptions + 1, sizeof *pre);
    size_t nuser = 0, npre = 0;
    for (size_t i = 0; user && pre && i < noptions; i++) {
        const char *v;
        if (!options[i])
            continue;
        if ((v = option_value(options[i], include_opts, 2)))
            user[nuser++] = v;
        else if ((v = option_value(options[i], preinclude_opts, 2)))
            pre[npre++] = v;
    }
    scan sc = {.out = out, .user_dirs = user, .nuser = nuser, .system_dirs = system_dirs,
               .nsystem = nsystem, .watch = watch, .nwatch = nwatch};
    out->files = calloc(CT_MAX_HEADER_FILES, sizeof *out->files);
    sc.seen = calloc(CT_MAX_HEADER_FILES, sizeof *sc.seen);
    int st = user && pre && out->files && sc.seen ? CUTUNE_OK
                                                  : ct_fail(CUTUNE_ENOMEM, "out of memory");
    char dir[PATH_MAX];
    const char *slash = source_name ? strrchr(source_name, '/') : NULL;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - source_name) : 0,
             slash ? source_name : "");
    for (size_t i = 0; !st && i < npre; i++)
        st = resolve(&sc, "", 1, pre[i], strlen(pre[i]), 0);
    if (!st) {
        note_mentions(&sc, source, len);
        st = follow(&sc, source, len, dir, 0);
    }
    free(user);
    free(pre);
    for (size_t i = 0; i < sc.nseen; i++)
        free(sc.seen[i]);
    free(sc.seen);
    if (st)
        ct_includes_free(out);
    return st;
}

/* ---------------------------------------------------------------- the profile key ---- */

int cutune_kernel_source_hash(const cutune_kernel *k, const char *source, size_t len,
                              char buf[33])
{
    return ct_kernel_source_hash_named(k, source, len, cutune_kernel_file(k), buf);
}

int ct_kernel_source_hash_named(const cutune_kernel *k, const char *source, size_t len,
                                const char *source_name, char buf[33])
{
    if (!k || (!source && len) || !buf)
        return ct_fail(CUTUNE_EINVAL, "cutune_kernel_source_hash: NULL argument");
    const char *const *opts = cutune_kernel_options(k);
    size_t nopts = cutune_kernel_num_options(k);
    const char *sys[8];
    size_t nsys = ct_toolkit_include_dirs(sys, 8);
    ct_includes inc;
    int st = ct_includes_scan(source ? source : "", len, source_name, opts, nopts, sys, nsys,
                              NULL, 0, &inc);
    if (st)
        return st;
    /* the headers by their bytes alone (a kernel moved elsewhere keeps its profiles) */
    size_t extra = 34 * inc.n;
    for (size_t i = 0; i < nopts; i++)
        if (strncmp(opts[i], "-D", 2) == 0)
            extra += strlen(opts[i]) + 1;
    if (!extra) { /* as the source alone: profiles stored before defines counted still match */
        ct_includes_free(&inc);
        cutune_source_hash(source ? source : "", len, buf);
        return CUTUNE_OK;
    }
    char *text = malloc(len + extra + 1), *at = text;
    if (!text) {
        ct_includes_free(&inc);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    if (len)
        memcpy(at, source, len);
    at += len;
    for (size_t i = 0; i < nopts; i++)
        if (strncmp(opts[i], "-D", 2) == 0)
            at += sprintf(at, "\n%s", opts[i]);
    for (size_t i = 0; i < inc.n; i++)
        at += sprintf(at, "\n%s", inc.files[i].hash);
    ct_includes_free(&inc);
    cutune_source_hash(text, (size_t)(at - text), buf);
    free(text);
    return CUTUNE_OK;
}

/* ------------------------------------------------------- the toolkit's headers ---- */

#ifndef CUTUNE_TOOLKIT_INCLUDE
#define CUTUNE_TOOLKIT_INCLUDE "/usr/local/cuda/include"
#endif

static struct {
    char paths[8][PATH_MAX];
    const char *dirs[8];
    size_t n;
} toolkit;

static void add_dir(const char *dir)
{
    char real[PATH_MAX];
    struct stat sb;
    if (toolkit.n == 8 || !dir || !*dir || !realpath(dir, real) || stat(real, &sb) != 0 ||
        !S_ISDIR(sb.st_mode))
        return;
    for (size_t i = 0; i < toolkit.n; i++)
        if (strcmp(toolkit.paths[i], real) == 0)
            return;
    snprintf(toolkit.paths[toolkit.n], PATH_MAX, "%s", real);
    toolkit.dirs[toolkit.n] = toolkit.paths[toolkit.n];
    toolkit.n++;
}

/* include/ and include/cccl/ (CUB, Thrust and libcu++ since CUDA 13) of a toolkit root or
 * include folder. */
static void add_toolkit(const char *root, const char *sub)
{
    char dir[PATH_MAX];
    if (!root || !*root || snprintf(dir, sizeof dir, "%s%s", root, sub) >= (int)sizeof dir)
        return;
    add_dir(dir);
    char cccl[PATH_MAX + 8];
    snprintf(cccl, sizeof cccl, "%s/cccl", dir);
    add_dir(cccl);
}

static void find_toolkit(void)
{
    add_toolkit(getenv("CUDA_PATH"), "/include");
    add_toolkit(getenv("CUDA_HOME"), "/include");
    add_toolkit(CUTUNE_TOOLKIT_INCLUDE, "");
    add_toolkit("/usr/local/cuda", "/include");
}

size_t ct_toolkit_include_dirs(const char **dirs, size_t max)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_toolkit);
    size_t n = toolkit.n < max ? toolkit.n : max;
    for (size_t i = 0; i < n; i++)
        dirs[i] = toolkit.dirs[i];
    return n;
}
