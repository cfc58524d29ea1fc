/* config_source.c — one configuration's source as Kernel Tuner prepares it (its util.py,
 * prepare_kernel_string): defines ahead of the source for the grid, the block, every tuning
 * parameter and `kernel_tuner`, then `#line 1` so that messages keep the file's own lines.
 * A source that redefines one of those macros fails that configuration, saying where. */
#include "compile_impl.h"
#include "includes.h"
#include "space_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- the defines, in order ---- */

/* Kernel Tuner's names are set like a Python dict: a later value replaces an earlier one in
 * its place, so each name is defined once. */
typedef struct define {
    char name[CUTUNE_KEY_MAX];
    char value[CUTUNE_KEY_MAX];
    int unroll; /* a loop_unroll_factor*: constexpr int, and 0 drops `#pragma unroll NAME` */
} define;

typedef struct defines {
    define *d;
    size_t n, cap;
} defines;

static int put(defines *ds, const char *name, const char *value)
{
    size_t i = 0;
    while (i < ds->n && strcmp(ds->d[i].name, name) != 0)
        i++;
    if (i == ds->cap) {
        size_t cap = ds->cap ? 2 * ds->cap : 16;
        define *d = realloc(ds->d, cap * sizeof *d);
        if (!d)
            return ct_fail(CUTUNE_ENOMEM, "out of memory");
        ds->d = d;
        ds->cap = cap;
    }
    define *e = &ds->d[i];
    if (snprintf(e->name, sizeof e->name, "%s", name) >= (int)sizeof e->name ||
        snprintf(e->value, sizeof e->value, "%s", value) >= (int)sizeof e->value)
        return ct_fail(CUTUNE_ETOOBIG, "the define %.40s... is longer than %d bytes", name,
                       CUTUNE_KEY_MAX);
    ds->n += i == ds->n;
    return CUTUNE_OK;
}

static int put_int(defines *ds, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return put(ds, name, buf);
}

/* Whether the value is an integer literal, which a constexpr int can hold. */
static int is_integer(const char *v)
{
    v += *v == '-';
    if (!*v)
        return 0;
    for (; *v; v++)
        if (*v < '0' || *v > '9')
            return 0;
    return 1;
}

static const char *const grid_names[3] = {"grid_size_x", "grid_size_y", "grid_size_z"};
static const char *const block_names[3] = {"block_size_x", "block_size_y", "block_size_z"};

/* The grid (only where the source uses it: a binary then serves one grid), the block, the
 * parameters, the problem size's macros (ProblemSizeDefines), then kernel_tuner. */
static int collect(const ct_kernel_source *ks, const uint32_t *config,
                   const int64_t problem[3], unsigned uses_grid, defines *ds)
{
    const cutune_space *sp = ks->space;
    unsigned grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
    int st = CUTUNE_OK;
    if (ks->kernel) {
        st = cutune_kernel_geometry_at(ks->kernel, config, problem, grid, block, NULL);
    } else { /* no launch description: the block from block_size_x/y/z, as Kernel Tuner's */
        for (int d = 0; d < 3; d++) {
            size_t p;
            if (cutune_space_find_param(sp, block_names[d], &p) == CUTUNE_OK &&
                sp->params[p].vals[config[p]].type == EV_INT)
                block[d] = (unsigned)sp->params[p].vals[config[p]].u.i;
        }
    }
    for (int d = 0; !st && d < 3; d++)
        if (uses_grid & 1u << d)
            st = put_int(ds, grid_names[d], grid[d]);
    for (int d = 0; !st && d < 3; d++)
        st = put_int(ds, block_names[d], block[d]);
    for (size_t p = 0; !st && p < sp->np; p++) {
        char value[CUTUNE_KEY_MAX];
        cutune_space_format_value(sp, p, config[p], value, sizeof value);
        st = put(ds, sp->params[p].name, value);
    }
    for (int d = 0; !st && ks->kernel && d < 3; d++) {
        const char *name = cutune_kernel_size_define(ks->kernel, d);
        if (name)
            st = put_int(ds, name, (long long)problem[d]);
    }
    if (!st)
        st = put(ds, "kernel_tuner", "1");
    for (size_t i = 0; !st && i < ds->n; i++)
        ds->d[i].unroll = strstr(ds->d[i].name, "loop_unroll_factor") != NULL &&
                          is_integer(ds->d[i].value);
    return st;
}

/* ------------------------------------------------------------------- the text ---- */

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static int append(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *g = realloc(t->s, cap);
        if (!g)
            return ct_fail(CUTUNE_ENOMEM, "out of memory");
        t->s = g;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
    return CUTUNE_OK;
}

static int appendf(text *t, const char *fmt, ...) CT_PRINTF(2, 3);
static int appendf(text *t, const char *fmt, ...)
{
    char buf[2 * CUTUNE_KEY_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return n < 0 ? ct_fail(CUTUNE_EINVAL, "cannot format a define")
                 : append(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static int is_ident(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* Blanks each `#pragma unroll NAME` of a loop_unroll_factor whose value is 0 (Kernel Tuner's
 * way to let the compiler choose), keeping the line so that line numbers stay. */
static void drop_unroll_pragmas(char *src, size_t len, const defines *ds)
{
    for (size_t i = 0; i < ds->n; i++) {
        if (!ds->d[i].unroll || strcmp(ds->d[i].value, "0") != 0)
            continue;
        size_t nlen = strlen(ds->d[i].name);
        for (char *line = src; line && line < src + len;) {
            char *eol = memchr(line, '\n', (size_t)(src + len - line));
            char *p = line, *end = eol ? eol : src + len;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            char *hash = p;
            if (p < end && *p == '#') {
                p++;
                while (p < end && (*p == ' ' || *p == '\t'))
                    p++;
                if (end - p > 6 && memcmp(p, "pragma", 6) == 0) {
                    p += 6;
                    while (p < end && (*p == ' ' || *p == '\t'))
                        p++;
                    if (end - p > 6 && memcmp(p, "unroll", 6) == 0 && !is_ident(p[6])) {
                        p += 6;
                        while (p < end && (*p == ' ' || *p == '\t'))
                            p++;
                        if ((size_t)(end - p) >= nlen && memcmp(p, ds->d[i].name, nlen) == 0 &&
                            (p + nlen == end || !is_ident(p[nlen])))
                            memset(hash, ' ', (size_t)(p + nlen - hash));
                    }
                }
            }
            line = eol ? eol + 1 : NULL;
        }
    }
}

/* The spec's compiler options, then the caller's (malloc'd; NULL when out of memory). */
static const char **all_options(const ct_kernel_source *ks, size_t *n)
{
    size_t nspec = ks->kernel ? cutune_kernel_num_options(ks->kernel) : 0;
    const char **opts = calloc(nspec + ks->num_options + 1, sizeof *opts);
    if (!opts) {
        ct_fail(CUTUNE_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < nspec; i++)
        opts[i] = cutune_kernel_options(ks->kernel)[i];
    for (size_t i = 0; i < ks->num_options; i++)
        opts[nspec + i] = ks->options[i];
    *n = nspec + ks->num_options;
    return opts;
}

/* Which of grid_size_x/y/z the source or a header it includes uses (bit d). */
static int grid_uses(const ct_kernel_source *ks, unsigned *mask)
{
    const char *sys[8];
    size_t nsys = ct_toolkit_include_dirs(sys, 8), nopts;
    const char **opts = all_options(ks, &nopts);
    if (!opts)
        return CUTUNE_ENOMEM;
    ct_includes inc;
    int st = ct_includes_scan(ks->source, strlen(ks->source), ks->source_name, opts, nopts,
                              sys, nsys, grid_names, 3, &inc);
    free(opts);
    *mask = st ? 0 : inc.mentions;
    ct_includes_free(&inc);
    return st;
}

int ct_config_sized(const ct_kernel_source *ks, int *sized)
{
    unsigned grid;
    int st = grid_uses(ks, &grid);
    *sized = grid != 0 || ct_kernel_block_uses_problem(ks->kernel);
    for (int d = 0; ks->kernel && d < 3; d++)
        *sized = *sized || cutune_kernel_size_define(ks->kernel, d) != NULL;
    return st;
}

int ct_config_source(const ct_kernel_source *ks, const uint32_t *config,
                     const int64_t problem[3], ct_config_text *out)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(ks->source);
    unsigned uses_grid;
    int st = grid_uses(ks, &uses_grid);
    if (st)
        return st;
    defines ds = {0};
    text t = {0};
    st = collect(ks, config, problem, uses_grid, &ds);
    /* messages about these lines name them so, not the source */
    if (!st)
        st = append(&t, "#line 1 \"cutune-defines\"\n", 25);
    for (size_t i = 0; !st && i < ds.n; i++) {
        if (!ds.d[i].unroll)
            st = appendf(&t, "#define %s %s\n", ds.d[i].name, ds.d[i].value);
        else if (strcmp(ds.d[i].value, "0") != 0) /* 0: nothing, its pragmas go */
            st = appendf(&t, "constexpr int %s = %s;\n", ds.d[i].name, ds.d[i].value);
    }
    /* #line's name is the program's, which is also where NVRTC looks for "quoted" includes */
    const char *name = ks->source_name ? ks->source_name : "kernel.cu";
    if (!st)
        st = append(&t, "#line 1 \"", 9);
    for (const char *c = name; !st && *c; c++)
        st = *c == '"' || *c == '\\' ? appendf(&t, "\\%c", *c)
             : (unsigned char)*c < ' ' ? appendf(&t, "?")
                                       : append(&t, c, 1);
    if (!st)
        st = append(&t, "\"\n", 2);
    size_t at = t.len;
    if (!st)
        st = append(&t, ks->source, len);
    if (!st)
        drop_unroll_pragmas(t.s + at, len, &ds);
    for (size_t i = 0; !st && i < ds.n; i++) { /* the names a source must not redefine */
        if (ds.d[i].unroll)
            continue;
        char **grown = realloc(out->names, (out->nnames + 1) * sizeof *grown);
        if (!grown || !(grown[out->nnames] = ct_strdup(ds.d[i].name))) {
            if (grown)
                out->names = grown;
            st = ct_fail(CUTUNE_ENOMEM, "out of memory");
            break;
        }
        out->names = grown;
        out->nnames++;
    }
    free(ds.d);
    if (st) {
        free(t.s);
        ct_config_text_free(out);
        return st;
    }
    out->source = t.s;
    out->len = t.len;
    return CUTUNE_OK;
}

void ct_config_text_free(ct_config_text *t)
{
    for (size_t i = 0; t && i < t->nnames; i++)
        free(t->names[i]);
    if (t) {
        free(t->names);
        free(t->source);
        memset(t, 0, sizeof *t);
    }
}

/* ----------------------------------------------------------- redefinitions ---- */

/* NVRTC warns `FILE(LINE): warning #47-D: incompatible redefinition of macro "NAME"`: when
 * NAME is one of ours, the source set its own value over the configuration's. */
static int find_redefinition(const char *log, const ct_config_text *t)
{
    static const char needle[] = "incompatible redefinition of macro \"";
    for (const char *p = log ? strstr(log, needle) : NULL; p; p = strstr(p + 1, needle)) {
        const char *name = p + sizeof needle - 1, *q = strchr(name, '"');
        if (!q)
            break;
        size_t n = (size_t)(q - name);
        for (size_t i = 0; i < t->nnames; i++) {
            if (strlen(t->names[i]) != n || memcmp(t->names[i], name, n) != 0)
                continue;
            const char *line = p;
            while (line > log && line[-1] != '\n')
                line--;
            const char *paren = memchr(line, '(', (size_t)(p - line));
            long where = paren ? strtol(paren + 1, NULL, 10) : 0;
            return ct_fail(CUTUNE_ECOMPILE,
                           "%.*s:%ld: redefines %s, which cutune defines for each configuration "
                           "as Kernel Tuner does (with kernel_tuner 1); keep the source's own "
                           "value under #ifndef kernel_tuner (or #ifndef %s)",
                           paren ? (int)(paren - line) : 6, paren ? line : "source", where,
                           t->names[i], t->names[i]);
        }
    }
    return CUTUNE_OK;
}

int ct_compile_config(const ct_kernel_source *ks, const uint32_t *config,
                      const int64_t problem[3], cutune_binary **bin, char **log)
{
    *bin = NULL;
    if (log)
        *log = NULL;
    ct_config_text t;
    int st = ct_config_source(ks, config, problem, &t);
    if (st)
        return st;
    size_t nopt;
    const char **opts = all_options(ks, &nopt);
    if (!opts) {
        ct_config_text_free(&t);
        return CUTUNE_ENOMEM;
    }
    char *the_log = NULL;
    cutune_compile_request req = {
        .source = t.source, .source_len = t.len, .source_name = ks->source_name,
        .kernel = ks->kernel_name ? ks->kernel_name : cutune_kernel_name(ks->kernel),
        .arch = ks->arch, .options = opts, .num_options = nopt, .cache_dir = ks->cache_dir,
        .log = &the_log};
    char first[1024];
    st = cutune_compile(&req, bin);
    snprintf(first, sizeof first, "%s", cutune_last_error());
    /* a redefinition says why, also when the compile then failed */
    if (find_redefinition(the_log, &t)) {
        if (st) { /* both: the redefinition first, then NVRTC's first error */
            char why[1024];
            snprintf(why, sizeof why, "%s", cutune_last_error());
            ct_fail(CUTUNE_ECOMPILE, "%s; then %s", why, first);
        }
        cutune_binary_free(*bin);
        *bin = NULL;
        st = CUTUNE_ECOMPILE;
    }
    if (log)
        *log = the_log;
    else
        free(the_log);
    free(opts);
    ct_config_text_free(&t);
    return st;
}

/* ---------------------------------------------------------------- the public face ---- */

/* The request as config_source.c's own description of a kernel, and its problem size. */
static int from_request(const cutune_config_request *r, ct_kernel_source *ks,
                        int64_t problem[3])
{
    if (!r || !r->space || !r->config || !r->source || (r->num_options && !r->options))
        return ct_fail(CUTUNE_EINVAL, "a configuration's source needs its space, "
                                      "configuration and source");
    *ks = (ct_kernel_source){.space = r->space, .kernel = r->kernel, .source = r->source,
                             .source_name = r->source_name, .arch = r->arch,
                             .cache_dir = r->cache_dir, .kernel_name = r->kernel_name,
                             .options = r->options, .num_options = r->num_options};
    if (r->problem)
        memcpy(problem, r->problem, 3 * sizeof *problem);
    else
        cutune_kernel_problem(r->kernel, problem);
    return CUTUNE_OK;
}

int cutune_compile_config(const cutune_config_request *request, cutune_binary **out)
{
    if (out)
        *out = NULL;
    if (request && request->log)
        *request->log = NULL;
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_compile_config: nowhere to put the binary");
    ct_kernel_source ks;
    int64_t problem[3];
    int st = from_request(request, &ks, problem);
    return st ? st : ct_compile_config(&ks, request->config, problem, out, request->log);
}

int cutune_config_source(const cutune_config_request *request, char **source, size_t *len)
{
    if (source)
        *source = NULL;
    if (!source || !len)
        return ct_fail(CUTUNE_EINVAL, "cutune_config_source: nowhere to put the source");
    ct_kernel_source ks;
    int64_t problem[3];
    ct_config_text t;
    int st = from_request(request, &ks, problem);
    if (!st)
        st = ct_config_source(&ks, request->config, problem, &t);
    if (st)
        return st;
    *source = t.source;
    *len = t.len;
    t.source = NULL; /* the caller's now */
    ct_config_text_free(&t);
    return CUTUNE_OK;
}
