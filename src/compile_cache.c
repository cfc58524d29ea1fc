/* compile_cache.c — compiled kernels kept on disk, one file per binary, named by a 128-bit
 * hash (xxHash's XXH3) of everything that decides it. The file holds that text too, and a
 * binary is used only when it matches exactly: a hash collision or a damaged file is a miss,
 * never a wrong kernel. Files are written whole under a temporary name and renamed, so
 * sessions running side by side can share the folder. */
#include "compile_impl.h"
#include "includes.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>


/* A growing string for the key. */
typedef struct text {
    char *s;
    size_t len, cap;
    int failed;
} text;

static void put(text *t, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), need = t->len + la + lb + 2;
    if (t->failed)
        return;
    if (need > t->cap) {
        size_t cap = need * 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    memcpy(t->s + t->len, a, la);
    memcpy(t->s + t->len + la, b, lb);
    t->len += la + lb;
    t->s[t->len++] = '\n';
    t->s[t->len] = '\0';
}

static void hex128(XXH128_hash_t h, char out[33])
{
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}

static void cache_dir(const cutune_compile_request *r, char *dir, size_t size)
{
    dir[0] = '\0';
    if (r->cache_dir) {
        snprintf(dir, size, "%s", r->cache_dir);
        return;
    }
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(dir, size, "%s/cutune/kernels", xdg);
    else if (home && home[0] == '/')
        snprintf(dir, size, "%s/.cache/cutune/kernels", home);
}

int ct_binary_key_make(const cutune_compile_request *r, int nvrtc_major, int nvrtc_minor,
                       ct_binary_key *key)
{
    memset(key, 0, sizeof *key);
    size_t len = r->source_len ? r->source_len : strlen(r->source);
    char num[64], hash[33];
    text t = {0};
    put(&t, "cutune-binary ", "2"); /* 2: Kernel Tuner's defines ahead of the source */
    snprintf(num, sizeof num, "%d.%d", nvrtc_major, nvrtc_minor);
    put(&t, "nvrtc ", num);
    put(&t, "arch ", r->arch);
    put(&t, "kernel ", r->kernel);
    hex128(XXH3_128bits(r->source, len), hash);
    snprintf(num, sizeof num, "%s %zu", hash, len);
    put(&t, "source ", num);
    for (size_t i = 0; i < r->num_defines; i++)
        put(&t, "define ", r->defines[i]);
    for (size_t i = 0; i < r->num_options; i++)
        put(&t, "option ", r->options[i]);
    /* the headers it includes, each by its bytes (an edited one is another binary), and the
     * toolkit's folders, whose headers NVRTC's version stands for */
    const char *sys[8];
    size_t nsys = ct_toolkit_include_dirs(sys, 8);
    for (size_t i = 0; i < nsys; i++)
        put(&t, "toolkit ", sys[i]);
    ct_includes inc;
    int st = ct_includes_scan(r->source, len, r->source_name, r->options, r->num_options, sys,
                              nsys, NULL, 0, &inc);
    if (st) {
        free(t.s);
        return st;
    }
    for (size_t i = 0; i < inc.n; i++) {
        char line[PATH_MAX + 80];
        snprintf(line, sizeof line, "%s %llu %s", inc.files[i].hash,
                 (unsigned long long)inc.files[i].bytes, inc.files[i].path);
        put(&t, "include ", line);
    }
    ct_includes_free(&inc);
    if (t.failed) {
        free(t.s);
        return ct_fail(CUTUNE_ENOMEM, "compile: out of memory");
    }
    key->text = t.s;
    cache_dir(r, key->dir, sizeof key->dir);
    if (key->dir[0] && ct_make_dirs(key->dir, 0755, NULL, 0) != 0)
        key->dir[0] = '\0'; /* no cache rather than no binary */
    hex128(XXH3_128bits(t.s, t.len), hash);
    if (key->dir[0])
        snprintf(key->path, sizeof key->path, "%s/%s.cubin", key->dir, hash);
    return CUTUNE_OK;
}

void ct_binary_key_release(ct_binary_key *key)
{
    free(key->text);
    key->text = NULL;
}

/* Reads "<label> <n>\n" and then n bytes; NULL when the file does not say so. */
static const char *field(const char **p, const char *end, const char *label, size_t *n)
{
    size_t ll = strlen(label);
    if ((size_t)(end - *p) < ll + 2 || memcmp(*p, label, ll) != 0 || (*p)[ll] != ' ')
        return NULL;
    const char *q = *p + ll + 1;
    size_t v = 0;
    int digits = 0;
    for (; q < end && *q >= '0' && *q <= '9' && digits < 12; q++, digits++)
        v = v * 10 + (size_t)(*q - '0');
    if (!digits || q >= end || *q != '\n' || (size_t)(end - q - 1) < v)
        return NULL;
    *n = v;
    *p = q + 1 + v;
    return q + 1;
}

static char *copy(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

int ct_binary_cache_load(const ct_binary_key *key, cutune_binary *b)
{
    char *data;
    size_t len;
    if (!key->path[0] || access(key->path, R_OK) != 0)
        return CUTUNE_ENOTFOUND;
    if (ct_read_file(key->path, CT_MAX_BINARY_BYTES, &data, &len))
        return CUTUNE_ENOTFOUND;
    const char *p = data, *end = data + len, *k, *name, *log, *info, *cubin;
    size_t nk, nn, nl, ni, nc;
    int st = CUTUNE_ENOTFOUND;
    if ((k = field(&p, end, "key", &nk)) && nk == strlen(key->text) &&
        memcmp(k, key->text, nk) == 0 && (name = field(&p, end, "lowered", &nn)) &&
        (info = field(&p, end, "info", &ni)) && (log = field(&p, end, "log", &nl)) &&
        (cubin = field(&p, end, "cubin", &nc)) && nc > 0 && p == end) {
        char buf[128];
        cutune_binary_info in = {0};
        unsigned long long smem, stack, spill;
        snprintf(buf, sizeof buf, "%.*s", (int)(ni < 127 ? ni : 127), info);
        if (sscanf(buf, "%d %d %llu %llu %llu", &in.regs, &in.barriers, &smem, &stack,
                   &spill) == 5 &&
            in.regs >= 0 && in.regs <= 255) {
            b->lowered_name = copy(name, nn);
            b->log = copy(log, nl);
            b->cubin = copy(cubin, nc);
            b->size = nc;
            if (b->lowered_name && b->log && b->cubin) {
                in.static_smem = (size_t)smem;
                in.stack_bytes = (size_t)stack;
                in.spill_bytes = (size_t)spill;
                b->info = in;
                st = CUTUNE_OK;
            }
        }
    }
    free(data);
    return st;
}

int ct_binary_cache_store(const ct_binary_key *key, const cutune_binary *b)
{
    if (!key->path[0])
        return CUTUNE_OK;
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", key->path); /* unique per writer */
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            remove(tmp);
        }
        return ct_fail(CUTUNE_EIO, "%s: %s", tmp, strerror(e));
    }
    const char *log = b->log ? b->log : "";
    char info[128];
    snprintf(info, sizeof info, "%d %d %zu %zu %zu", b->info.regs, b->info.barriers,
             b->info.static_smem, b->info.stack_bytes, b->info.spill_bytes);
    fprintf(f, "key %zu\n%s", strlen(key->text), key->text);
    fprintf(f, "lowered %zu\n%s", strlen(b->lowered_name), b->lowered_name);
    fprintf(f, "info %zu\n%s", strlen(info), info);
    fprintf(f, "log %zu\n%s", strlen(log), log);
    fprintf(f, "cubin %zu\n", b->size);
    int ok = fwrite(b->cubin, 1, b->size, f) == b->size;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, key->path) != 0) {
        int e = errno;
        remove(tmp);
        return ct_fail(CUTUNE_EIO, "%s: %s", key->path, strerror(e));
    }
    return CUTUNE_OK;
}
