/* kernel_spec.c — what a run of a kernel needs, from the KernelSpecification of a T1 spec:
 * the kernel's name, file and compiler options, the problem size, how a configuration's
 * parameters give the block, the grid and the dynamic shared memory, and the arguments
 * (buffers with their type, size and initial contents, and scalars). Sizes and launch
 * dimensions are expressions in the language of the constraints. */
#include "space_impl.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cutune_kernel {
    const cutune_space *space;
    char *name, *file, *dir;
    char **options;
    size_t num_options;
    int64_t problem[3];
    int problem_dims;
    expr *problem_expr[3]; /* ProblemSize entries naming parameters: per configuration, and
                              problem[d] is their largest value */
    expr *block[3];    /* NULL: block_size_x/y/z, or 1 */
    expr **div[3];     /* grid divisors per dimension; NULL: the block size */
    size_t ndiv[3];
    int has_div[3];
    expr *smem;        /* dynamic shared memory; NULL: none */
    expr *cooperative; /* nonzero: all blocks at once (a grid barrier); NULL: never */
    cutune_kernel_arg *args;
    char **arg_strings; /* names and files the args point to */
    size_t nargs;
    uint64_t seed;
    char *size_define[3]; /* ProblemSizeDefines: macros given the problem size, or NULL */
};

void cutune_kernel_free(cutune_kernel *k)
{
    if (!k)
        return;
    for (int d = 0; d < 3; d++) {
        free(k->size_define[d]);
        expr_free(k->problem_expr[d]);
    }
    free(k->name);
    free(k->file);
    free(k->dir);
    for (size_t i = 0; i < k->num_options; i++)
        free(k->options[i]);
    free(k->options);
    for (int d = 0; d < 3; d++) {
        expr_free(k->block[d]);
        for (size_t i = 0; i < k->ndiv[d]; i++)
            expr_free(k->div[d][i]);
        free(k->div[d]);
    }
    expr_free(k->smem);
    expr_free(k->cooperative);
    for (size_t i = 0; i < 2 * k->nargs; i++)
        free(k->arg_strings[i]);
    free(k->arg_strings);
    free(k->args);
    free(k);
}

const char *cutune_kernel_name(const cutune_kernel *k) { return k ? k->name : NULL; }
const char *cutune_kernel_file(const cutune_kernel *k) { return k ? k->file : NULL; }
int cutune_kernel_problem(const cutune_kernel *k, int64_t problem[3])
{
    for (int d = 0; d < 3; d++)
        problem[d] = k && d < k->problem_dims ? k->problem[d] : 1;
    return k ? k->problem_dims : 0;
}
size_t cutune_kernel_num_options(const cutune_kernel *k) { return k ? k->num_options : 0; }
const char *const *cutune_kernel_options(const cutune_kernel *k) { return k ? (const char *const *)k->options : NULL; }
size_t cutune_kernel_num_args(const cutune_kernel *k) { return k ? k->nargs : 0; }
const cutune_kernel_arg *cutune_kernel_arg_at(const cutune_kernel *k, size_t i)
{
    return k && i < k->nargs ? &k->args[i] : NULL;
}
uint64_t cutune_kernel_seed(const cutune_kernel *k) { return k ? k->seed : 0; }
const char *cutune_kernel_size_define(const cutune_kernel *k, int d)
{
    return k && d >= 0 && d < 3 ? k->size_define[d] : NULL;
}

/* ------------------------------------------------------------------- expressions ---- */

/* What names mean: ProblemSize is the list of problem dimensions; a parameter is the
 * configuration's value in launch expressions, the list of all its values in sizes. */
typedef struct scope {
    const cutune_kernel *k;
    const uint32_t *config; /* NULL: sizes */
    expr_value problem_items[3];
    expr_list problem;
    expr_list values[CUTUNE_MAX_PARAMS]; /* each parameter's values, for sizes */
} scope;

static int lookup(void *user, const char *name, expr_value *out)
{
    scope *s = user;
    if (strcmp(name, "ProblemSize") == 0 || strcmp(name, "problem_size") == 0) {
        *out = (expr_value){.type = EV_LIST, .u.l = &s->problem};
        return 0;
    }
    const cutune_space *sp = s->k->space;
    for (size_t p = 0; p < sp->np; p++)
        if (strcmp(sp->params[p].name, name) == 0) {
            if (s->config) {
                *out = sp->params[p].vals[s->config[p]];
            } else {
                s->values[p] = (expr_list){.n = sp->params[p].n, .items = sp->params[p].vals};
                *out = (expr_value){.type = EV_LIST, .u.l = &s->values[p]};
            }
            return 0;
        }
    return -1;
}

static void scope_init(scope *s, const cutune_kernel *k, const int64_t problem[3],
                       const uint32_t *config)
{
    s->k = k;
    s->config = config;
    for (int d = 0; d < k->problem_dims; d++)
        s->problem_items[d] = (expr_value){.type = EV_INT, .u.i = problem[d]};
    s->problem = (expr_list){.n = (size_t)k->problem_dims, .items = s->problem_items};
}

/* An expression's value in a scope (sizes: config NULL), its failure named after `what`. */
static int eval_value(const cutune_kernel *k, const int64_t problem[3], const uint32_t *config,
                      const expr *e, const char *what, expr_arena *arena, expr_value *v)
{
    scope s;
    scope_init(&s, k, problem, config);
    char err[200];
    int st = expr_eval(e, lookup, &s, arena, v, err, sizeof err);
    return st ? ct_fail(st, "%s: %s", what, err) : CUTUNE_OK;
}

/* An expression's value as a non-negative integer (floats must be whole). */
static int eval_int(const cutune_kernel *k, const int64_t problem[3], const uint32_t *config,
                    const expr *e, const char *what, int64_t *out)
{
    expr_arena *arena = expr_arena_new();
    if (!arena)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    expr_value v;
    int st = eval_value(k, problem, config, e, what, arena, &v);
    if (!st && v.type == EV_INT)
        *out = v.u.i;
    else if (!st && v.type == EV_FLOAT && v.u.f == floor(v.u.f) && fabs(v.u.f) < 9e18)
        *out = (int64_t)v.u.f;
    else if (!st)
        st = ct_fail(CUTUNE_ETYPE, "%s is not a whole number", what);
    if (!st && *out < 0)
        st = ct_fail(CUTUNE_ERANGE, "%s is negative (%lld)", what, (long long)*out);
    expr_arena_free(arena);
    return st;
}

/* An expression's value as a number (a scalar argument's FillValue), in the scope of sizes. */
static int eval_number(const cutune_kernel *k, const expr *e, const char *what, double *out)
{
    expr_arena *arena = expr_arena_new();
    if (!arena)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    expr_value v;
    int st = eval_value(k, k->problem, NULL, e, what, arena, &v);
    if (!st && (v.type == EV_INT || v.type == EV_FLOAT))
        *out = v.type == EV_INT ? (double)v.u.i : v.u.f;
    else if (!st)
        st = ct_fail(CUTUNE_ETYPE, "%s is not a number", what);
    expr_arena_free(arena);
    return st;
}

/* A configuration's problem size: `problem`, where a dimension whose ProblemSize names
 * parameters takes the configuration's value. */
static int problem_of(const cutune_kernel *k, const uint32_t *config, const int64_t problem[3],
                      int64_t out[3])
{
    for (int d = 0; d < 3; d++) {
        out[d] = problem[d] > 0 ? problem[d] : 1;
        if (!k->problem_expr[d])
            continue;
        char what[64];
        snprintf(what, sizeof what, "ProblemSize[%d]", d);
        int st = eval_int(k, k->problem, config, k->problem_expr[d], what, &out[d]);
        if (st)
            return st;
        if (out[d] < 1 || out[d] > ((int64_t)1 << 40))
            return ct_fail(CUTUNE_ERANGE, "%s is %lld for this configuration (1 to 2^40)", what,
                           (long long)out[d]);
    }
    return CUTUNE_OK;
}

/* ------------------------------------------------------------------------ loading ---- */

typedef struct elem_name {
    const char *name;
    cutune_elem_type type;
} elem_name;

static const elem_name elem_names[] = {
    {"float", CUTUNE_FLOAT32},  {"float32", CUTUNE_FLOAT32}, {"double", CUTUNE_FLOAT64},
    {"float64", CUTUNE_FLOAT64}, {"int", CUTUNE_INT32},      {"int32", CUTUNE_INT32},
    {"unsigned int", CUTUNE_UINT32}, {"uint32", CUTUNE_UINT32}, {"long", CUTUNE_INT64},
    {"int64", CUTUNE_INT64},    {"long long", CUTUNE_INT64}, {"uint64", CUTUNE_UINT64},
    {"unsigned long long", CUTUNE_UINT64}, {"char", CUTUNE_INT8}, {"int8", CUTUNE_INT8},
    {"uint8", CUTUNE_UINT8},    {"unsigned char", CUTUNE_UINT8}};

size_t cutune_elem_size(cutune_elem_type t)
{
    static const size_t sizes[] = {4, 8, 4, 4, 8, 8, 1, 1};
    return (unsigned)t < sizeof sizes / sizeof *sizes ? sizes[t] : 0;
}

typedef struct loader {
    const char *path;
    cutune_kernel *k;
    const int64_t *problem; /* instead of the spec's ProblemSize, or NULL */
    double problem_deadline; /* when finding ProblemSize's largest values takes too long */
} loader;

static int parse_expr(loader *ld, const char *where, json_t *v, expr **out)
{
    char buf[64], err[200];
    const char *src;
    if (json_is_string(v))
        src = json_string_value(v);
    else if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        src = buf;
    } else
        return ct_fail(CUTUNE_EINVAL, "%s: %s must be an expression (a string) or a number",
                       ld->path, where);
    if (expr_parse(src, out, err, sizeof err))
        return ct_fail(CUTUNE_EPARSE, "%s: %s: %s", ld->path, where, err);
    return CUTUNE_OK;
}

static const char *string_of(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* FillValue: a number, or an expression in ProblemSize and the parameters' lists, as Size. */
static int load_value(loader *ld, json_t *v, const char *where, const char *name, double *out)
{
    *out = json_is_number(v) ? json_number_value(v) : 0;
    if (!json_is_string(v))
        return CUTUNE_OK;
    char what[160];
    snprintf(what, sizeof what, "%s (%s).FillValue", where, name);
    expr *e;
    int st = parse_expr(ld, what, v, &e);
    if (st)
        return st;
    snprintf(what, sizeof what, "%s: %s (%s): FillValue", ld->path, where, name);
    st = eval_number(ld->k, e, what, out);
    expr_free(e);
    return st;
}

/* An output's pass test: Tolerance (cutune's, default 1e-4), or Atol and Rtol (Kernel
 * Tuner's; the one not given is its default), each a number >= 0. */
static int load_tolerance(loader *ld, json_t *a, const char *where, const char *name,
                          cutune_kernel_arg *arg)
{
    static const char *const keys[3] = {"Tolerance", "Atol", "Rtol"};
    double v[3] = {1e-4, 1e-6, 1e-5}; /* (Kernel Tuner's atol; numpy.allclose's rtol) */
    for (int k = 0; k < 3; k++) {
        json_t *t = json_object_get(a, keys[k]);
        if (t && !(json_is_number(t) && json_number_value(t) >= 0 &&
                   isfinite(json_number_value(t))))
            return ct_fail(CUTUNE_EINVAL, "%s: %s (%s): %s must be a number >= 0", ld->path,
                           where, name, keys[k]);
        v[k] = t ? json_number_value(t) : v[k];
        arg->allclose |= k && t;
    }
    arg->tolerance = v[0];
    arg->atol = v[1];
    arg->rtol = v[2];
    return CUTUNE_OK;
}

static int load_arg(loader *ld, json_t *a, size_t i)
{
    cutune_kernel *k = ld->k;
    cutune_kernel_arg *arg = &k->args[i];
    char where[96];
    snprintf(where, sizeof where, "KernelSpecification.Arguments[%zu]", i);
    if (!json_is_object(a))
        return ct_fail(CUTUNE_EINVAL, "%s: %s is not an object", ld->path, where);
    const char *name = string_of(a, "Name"), *type = string_of(a, "Type");
    if (!name || !*name)
        return ct_fail(CUTUNE_EINVAL, "%s: %s has no Name", ld->path, where);
    if (!(k->arg_strings[2 * i] = ct_strdup(name)))
        return CUTUNE_ENOMEM;
    arg->name = k->arg_strings[2 * i];
    size_t t = 0, nt = sizeof elem_names / sizeof *elem_names;
    while (type && t < nt && strcmp(elem_names[t].name, type) != 0)
        t++;
    if (!type || t == nt)
        return ct_fail(CUTUNE_EINVAL, "%s: %s (%s): Type '%s' is not one of float, double, "
                       "int, unsigned int, long, uint64, char, unsigned char",
                       ld->path, where, name, type ? type : "(none)");
    arg->type = elem_names[t].type;
    const char *mem = string_of(a, "MemoryType");
    arg->scalar = mem && strcmp(mem, "Scalar") == 0;
    if (mem && !arg->scalar && strcmp(mem, "Vector") != 0)
        return ct_fail(CUTUNE_EINVAL, "%s: %s (%s): MemoryType '%s' is not Vector or Scalar",
                       ld->path, where, name, mem);
    const char *cmem = string_of(a, "MemType");
    arg->constant = cmem && strcmp(cmem, "Constant") == 0;
    /* only Output makes an output: a written argument (WriteOnly too) without it is not
     * compared, and the session says which are */
    json_t *out = json_object_get(a, "Output");
    arg->output = json_is_true(out) || (json_is_integer(out) && json_integer_value(out) != 0);
    const char *access = string_of(a, "AccessType");
    arg->written = access && strcmp(access, "ReadOnly") != 0;
    int st = load_value(ld, json_object_get(a, "FillValue"), where, name, &arg->value);
    if (!st)
        st = load_tolerance(ld, a, where, name, arg);
    if (st)
        return st;
    const char *fill = string_of(a, "FillType");
    if (!fill || strcmp(fill, "Constant") == 0)
        arg->fill = arg->value == 0 ? CUTUNE_FILL_ZEROS : CUTUNE_FILL_CONSTANT;
    else if (strcmp(fill, "Zeros") == 0)
        arg->fill = CUTUNE_FILL_ZEROS;
    else if (strcmp(fill, "Random") == 0)
        arg->fill = CUTUNE_FILL_RANDOM;
    else if (strcmp(fill, "File") == 0 || strcmp(fill, "BinaryRaw") == 0) {
        arg->fill = CUTUNE_FILL_FILE;
        const char *file = string_of(a, "Path");
        if (!file)
            return ct_fail(CUTUNE_EINVAL, "%s: %s (%s): FillType %s needs a Path", ld->path,
                           where, name, fill);
        size_t n = strlen(k->dir) + strlen(file) + 2;
        if (!(k->arg_strings[2 * i + 1] = malloc(n)))
            return ct_fail(CUTUNE_ENOMEM, "out of memory");
        snprintf(k->arg_strings[2 * i + 1], n, "%s%s", file[0] == '/' ? "" : k->dir, file);
        arg->file = k->arg_strings[2 * i + 1];
    } else
        return ct_fail(CUTUNE_EINVAL, "%s: %s (%s): FillType '%s' is not Constant, Zeros, "
                       "Random or File", ld->path, where, name, fill);
    if (arg->scalar) {
        arg->count = 1;
        return CUTUNE_OK;
    }
    json_t *size = json_object_get(a, "Size");
    if (!size)
        return ct_fail(CUTUNE_EINVAL, "%s: %s (%s) has no Size", ld->path, where, name);
    expr *e;
    st = parse_expr(ld, where, size, &e);
    if (st)
        return st;
    char what[160];
    snprintf(what, sizeof what, "%s: %s (%s): Size", ld->path, where, name);
    int64_t count = 0;
    st = eval_int(k, k->problem, NULL, e, what, &count);
    expr_free(e);
    if (!st && (count < 1 || (uint64_t)count > ((uint64_t)1 << 40) / cutune_elem_size(arg->type)))
        st = ct_fail(CUTUNE_ERANGE, "%s is %lld elements (1 to 2^40 bytes, please)", what,
                     (long long)count);
    arg->count = (uint64_t)count;
    return st;
}

/* One ProblemSize entry: a positive integer, or an expression (a string): a constant one is
 * its value; one that names tuning parameters is the configuration's (problem_of) and here
 * the largest it gives over every combination of their values. */
static int load_problem_entry(loader *ld, json_t *v, int d, const char *where)
{
    cutune_kernel *k = ld->k;
    const cutune_space *sp = k->space;
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 1 || json_integer_value(v) > ((int64_t)1 << 40))
            return ct_fail(CUTUNE_EINVAL, "%s: %s must be a positive integer (1 to 2^40), not "
                           "%lld", ld->path, where, (long long)json_integer_value(v));
        k->problem[d] = json_integer_value(v);
        return CUTUNE_OK;
    }
    if (!json_is_string(v))
        return ct_fail(CUTUNE_EINVAL, "%s: %s must be a positive integer or an expression (a "
                       "string such as \"num_blocks\" or \"4096 * 2\")", ld->path, where);
    expr *e;
    int st = parse_expr(ld, where, v, &e);
    if (st)
        return st;
    const char *names[CT_MAX_EXPR_NAMES];
    size_t nn = expr_names(e, names, CT_MAX_EXPR_NAMES), params[CT_MAX_EXPR_NAMES], np = 0;
    uint64_t combinations = 1;
    for (size_t i = 0; !st && i < nn && i < CT_MAX_EXPR_NAMES; i++) {
        if (cutune_space_find_param(sp, names[i], &params[np]) == CUTUNE_OK) {
            combinations = combinations > CT_MAX_PROBLEM_COMBINATIONS
                               ? combinations : combinations * sp->params[params[np]].n;
            np++;
        } else {
            st = ct_fail(CUTUNE_ENAME, "%s: %s: \"%.80s\" names '%s', which is no tuning "
                         "parameter%s", ld->path, where, json_string_value(v), names[i],
                         strcmp(names[i], "ProblemSize") && strcmp(names[i], "problem_size")
                             ? "" : " (a ProblemSize cannot name itself)");
        }
    }
    if (!st && nn > CT_MAX_EXPR_NAMES)
        st = ct_fail(CUTUNE_ETOOBIG, "%s: %s names more than %d parameters", ld->path, where,
                     CT_MAX_EXPR_NAMES);
    if (!st && combinations > CT_MAX_PROBLEM_COMBINATIONS)
        st = ct_fail(CUTUNE_ETOOBIG, "%s: %s: \"%.80s\" names parameters with more than 2^20 "
                     "combinations of values: its largest value, which sizes the buffers, "
                     "would take too long to find", ld->path, where, json_string_value(v));
    /* every combination of the named parameters' values (the others' do not matter) */
    uint32_t config[CUTUNE_MAX_PARAMS] = {0};
    char what[160];
    snprintf(what, sizeof what, "%s: %s", ld->path, where);
    int64_t largest = 0;
    for (uint64_t c = 0; !st && c < combinations; c++) {
        uint64_t rest = c;
        for (size_t i = np; i-- > 0;) {
            config[params[i]] = (uint32_t)(rest % sp->params[params[i]].n);
            rest /= sp->params[params[i]].n;
        }
        int64_t value = 0;
        st = eval_int(k, k->problem, np ? config : NULL, e, what, &value);
        if (!st && (value < 1 || value > ((int64_t)1 << 40))) {
            char at[256] = "";
            for (size_t i = 0; i < np && strlen(at) < 200; i++) {
                char val[64];
                cutune_space_format_value(sp, params[i], config[params[i]], val, sizeof val);
                snprintf(at + strlen(at), sizeof at - strlen(at), "%s%s=%s", i ? ", " : " for ",
                         sp->params[params[i]].name, val);
            }
            st = ct_fail(CUTUNE_ERANGE, "%s is %lld%s (1 to 2^40, please)", what,
                         (long long)value, at);
        }
        largest = !st && value > largest ? value : largest;
        if (!st && c % 256 == 255 && ct_now() > ld->problem_deadline)
            st = ct_fail(CUTUNE_ETOOBIG, "%s: \"%.80s\" takes more than %g s to evaluate over "
                         "the %llu combinations of its parameters' values (its largest value "
                         "sizes the buffers): write it more simply, or name fewer parameters",
                         what, json_string_value(v), CT_MAX_PROBLEM_SECONDS,
                         (unsigned long long)combinations);
    }
    if (!st && np)
        k->problem_expr[d] = e;
    else
        expr_free(e);
    if (!st)
        k->problem[d] = largest;
    return st;
}

/* ProblemSize (an entry, or a list of 1 to 3), and the problem size the caller gives. */
static int load_problem(loader *ld, json_t *ks)
{
    cutune_kernel *k = ld->k;
    json_t *ps = json_object_get(ks, "ProblemSize");
    ld->problem_deadline = ct_now() + CT_MAX_PROBLEM_SECONDS;
    if (json_is_integer(ps) || json_is_string(ps)) {
        k->problem_dims = 1;
        int st = load_problem_entry(ld, ps, 0, "KernelSpecification.ProblemSize");
        if (st)
            return st;
    } else if (json_is_array(ps) && json_array_size(ps) >= 1 && json_array_size(ps) <= 3) {
        k->problem_dims = (int)json_array_size(ps);
        for (int d = 0; d < k->problem_dims; d++) {
            char where[64];
            snprintf(where, sizeof where, "KernelSpecification.ProblemSize[%d]", d);
            int st = load_problem_entry(ld, json_array_get(ps, (size_t)d), d, where);
            if (st)
                return st;
        }
    } else if (ps && !json_is_null(ps)) {
        return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.ProblemSize must be 1 to 3 "
                       "positive integers or expressions", ld->path);
    }
    for (int d = 0; d < 3; d++)
        if (k->problem_expr[d] && k->size_define[d])
            return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.ProblemSizeDefines[%d] (%s): "
                           "ProblemSize[%d] names tuning parameters, which are defines already",
                           ld->path, d, k->size_define[d], d);
    if (ld->problem) {
        int dims = 1;
        for (int d = 0; d < 3; d++) {
            if (ld->problem[d] < 0 || ld->problem[d] > ((int64_t)1 << 40))
                return ct_fail(CUTUNE_EINVAL, "problem size %lld (dimension %d) is out of "
                               "range (1 to 2^40)", (long long)ld->problem[d], d);
            dims = ld->problem[d] > 1 ? d + 1 : dims;
            if (ld->problem[d] > 0 && k->problem_expr[d])
                return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.ProblemSize[%d] names "
                               "tuning parameters (each configuration has its own): the problem "
                               "size given (%lld) cannot replace it", ld->path, d,
                               (long long)ld->problem[d]);
        }
        if (k->problem_dims && dims > k->problem_dims)
            return ct_fail(CUTUNE_EINVAL, "%s: its ProblemSize has %d dimension%s, the problem "
                           "size given has %d", ld->path, k->problem_dims,
                           k->problem_dims == 1 ? "" : "s", dims);
        if (!k->problem_dims)
            k->problem_dims = dims;
        for (int d = 0; d < 3; d++)
            if (!k->problem_expr[d])
                k->problem[d] = ld->problem[d] > 0 ? ld->problem[d] : 1;
    }
    return CUTUNE_OK;
}

/* KernelSpecification.Language: absent means CUDA, the one language cutune compiles. */
static int check_language(loader *ld, json_t *ks)
{
    static const char *const cuda[] = {"CUDA", "CuPy", "NVCUDA"}; /* Kernel Tuner's, for CUDA */
    json_t *lang = json_object_get(ks, "Language");
    if (!lang || json_is_null(lang))
        return CUTUNE_OK;
    if (!json_is_string(lang))
        return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.Language must be a string, "
                       "such as \"CUDA\"", ld->path);
    for (size_t i = 0; i < sizeof cuda / sizeof *cuda; i++)
        if (strcasecmp(json_string_value(lang), cuda[i]) == 0)
            return CUTUNE_OK;
    return ct_fail(CUTUNE_ENOTSUP, "%s: KernelSpecification.Language is \"%.40s\": cutune "
                   "compiles CUDA only (with NVRTC), so it cannot run this kernel; the search "
                   "space alone loads (cutune space)", ld->path, json_string_value(lang));
}

static int load_geometry(loader *ld, json_t *ks)
{
    cutune_kernel *k = ld->k;
    static const char *const axes[3] = {"X", "Y", "Z"};
    static const char *const divs[3] = {"GridDivX", "GridDivY", "GridDivZ"};
    int pst = load_problem(ld, ks);
    if (pst)
        return pst;
    json_t *local = json_object_get(ks, "LocalSize");
    for (int d = 0; d < 3; d++) {
        char where[80];
        json_t *v = json_is_object(local) ? json_object_get(local, axes[d]) : NULL;
        snprintf(where, sizeof where, "KernelSpecification.LocalSize.%s", axes[d]);
        int st = v ? parse_expr(ld, where, v, &k->block[d]) : CUTUNE_OK;
        if (st)
            return st;
        json_t *list = json_object_get(ks, divs[d]);
        if (!list)
            continue;
        if (!json_is_array(list))
            return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.%s must be a list", ld->path,
                           divs[d]);
        k->has_div[d] = 1;
        k->ndiv[d] = json_array_size(list);
        if (k->ndiv[d] && !(k->div[d] = calloc(k->ndiv[d], sizeof *k->div[d])))
            return ct_fail(CUTUNE_ENOMEM, "out of memory");
        for (size_t i = 0; i < k->ndiv[d]; i++) {
            snprintf(where, sizeof where, "KernelSpecification.%s[%zu]", divs[d], i);
            if ((st = parse_expr(ld, where, json_array_get(list, i), &k->div[d][i])))
                return st;
        }
    }
    int st;
    json_t *smem = json_object_get(ks, "SharedMemory");
    if (smem && !json_is_null(smem) && !(json_is_integer(smem) && json_integer_value(smem) == 0))
        if ((st = parse_expr(ld, "KernelSpecification.SharedMemory", smem, &k->smem)))
            return st;
    /* cutune's extension: true, false, or an expression such as "ProblemSize[1] > 1" */
    json_t *coop = json_object_get(ks, "Cooperative");
    if (json_is_boolean(coop))
        coop = json_is_true(coop) ? json_integer(1) : NULL;
    else
        json_incref(coop);
    st = coop ? parse_expr(ld, "KernelSpecification.Cooperative", coop, &k->cooperative) : 0;
    json_decref(coop);
    return st;
}

static int load_kernel(loader *ld, json_t *root)
{
    cutune_kernel *k = ld->k;
    json_t *ks = json_object_get(root, "KernelSpecification");
    if (!json_is_object(ks))
        return ct_fail(CUTUNE_EINVAL, "%s: no KernelSpecification object", ld->path);
    const char *name = string_of(ks, "KernelName"), *file = string_of(ks, "KernelFile");
    int lst = check_language(ld, ks);
    if (lst)
        return lst;
    if (!name || !*name)
        return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.KernelName is missing",
                       ld->path);
    if (!(k->name = ct_strdup(name)))
        return CUTUNE_ENOMEM;
    if (file) {
        size_t n = strlen(k->dir) + strlen(file) + 2;
        if (!(k->file = malloc(n)))
            return ct_fail(CUTUNE_ENOMEM, "out of memory");
        snprintf(k->file, n, "%s%s", file[0] == '/' ? "" : k->dir, file);
    }
    json_t *opts = json_object_get(ks, "CompilerOptions");
    if (opts && !json_is_array(opts))
        return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.CompilerOptions must be a list "
                       "of strings", ld->path);
    size_t no = opts ? json_array_size(opts) : 0;
    if (no && !(k->options = calloc(no, sizeof *k->options)))
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t i = 0; i < no; i++) {
        const char *o = json_string_value(json_array_get(opts, i));
        if (!o)
            return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.CompilerOptions[%zu] is not "
                           "a string", ld->path, i);
        if (!(k->options[k->num_options++] = ct_strdup(o)))
            return CUTUNE_ENOMEM;
    }
    json_t *seed = json_object_get(ks, "Seed");
    k->seed = json_is_integer(seed) ? (uint64_t)json_integer_value(seed) : 1;
    json_t *defs = json_object_get(ks, "ProblemSizeDefines");
    if (defs && (!json_is_array(defs) || json_array_size(defs) > 3))
        return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.ProblemSizeDefines must be a "
                       "list of up to 3 macro names", ld->path);
    for (size_t d = 0; defs && d < json_array_size(defs); d++) {
        const char *m = json_string_value(json_array_get(defs, d));
        int ok = m && (*m == '_' || ((*m | 32) >= 'a' && (*m | 32) <= 'z'));
        for (const char *c = m; ok && *c; c++)
            ok = *c == '_' || (*c >= '0' && *c <= '9') || ((*c | 32) >= 'a' && (*c | 32) <= 'z');
        if (!ok)
            return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.ProblemSizeDefines[%zu] is "
                           "not a macro name", ld->path, d);
        if (!(k->size_define[d] = ct_strdup(m)))
            return CUTUNE_ENOMEM;
    }
    int st = load_geometry(ld, ks);
    if (st)
        return st;
    json_t *args = json_object_get(ks, "Arguments");
    if (args && !json_is_array(args))
        return ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.Arguments must be a list",
                       ld->path);
    k->nargs = args ? json_array_size(args) : 0;
    k->args = calloc(k->nargs ? k->nargs : 1, sizeof *k->args);
    k->arg_strings = calloc(2 * k->nargs + 1, sizeof *k->arg_strings);
    if (!k->args || !k->arg_strings)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t i = 0; i < k->nargs && !st; i++)
        st = load_arg(ld, json_array_get(args, i), i);
    return st;
}

int cutune_kernel_load_t1(const char *path, const cutune_space *space, cutune_kernel **out)
{
    return cutune_kernel_load_t1_sized(path, space, NULL, out);
}

int cutune_kernel_load_t1_sized(const char *path, const cutune_space *space,
                                const int64_t problem[3], cutune_kernel **out)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_kernel_load_t1: out is NULL");
    *out = NULL;
    if (!path || !space)
        return ct_fail(CUTUNE_EINVAL, "cutune_kernel_load_t1: NULL argument");
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ct_fail(CUTUNE_EPARSE, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    cutune_kernel *k = calloc(1, sizeof *k);
    int st = k ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (!st) {
        k->space = space;
        const char *slash = strrchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) + 1 : 0;
        if ((k->dir = malloc(n + 1))) {
            memcpy(k->dir, path, n);
            k->dir[n] = '\0';
        } else
            st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    loader ld = {.path = path, .k = k, .problem = problem};
    if (!st)
        st = load_kernel(&ld, root);
    json_decref(root);
    if (st) {
        cutune_kernel_free(k);
        return st;
    }
    *out = k;
    return CUTUNE_OK;
}

/* --------------------------------------------------------------- launch geometry ---- */

int cutune_kernel_geometry(const cutune_kernel *k, const uint32_t *config, unsigned grid[3],
                           unsigned block[3], size_t *dynamic_smem)
{
    return cutune_kernel_geometry_at(k, config, k ? k->problem : NULL, grid, block,
                                     dynamic_smem);
}

int cutune_kernel_geometry_at(const cutune_kernel *k, const uint32_t *config,
                              const int64_t problem[3], unsigned grid[3], unsigned block[3],
                              size_t *dynamic_smem)
{
    if (!k || !config || !problem || !grid || !block)
        return ct_fail(CUTUNE_EINVAL, "cutune_kernel_geometry: NULL argument");
    int64_t at[3];
    int pst = problem_of(k, config, problem, at);
    if (pst)
        return pst;
    problem = at;
    static const char *const block_params[3] = {"block_size_x", "block_size_y", "block_size_z"};
    static const char *const axes = "xyz";
    int64_t b[3];
    for (int d = 0; d < 3; d++) {
        char what[64];
        snprintf(what, sizeof what, "block size %c", axes[d]);
        b[d] = 1;
        if (k->block[d]) {
            int st = eval_int(k, problem, config, k->block[d], what, &b[d]);
            if (st)
                return st;
        } else {
            size_t p;
            if (cutune_space_find_param(k->space, block_params[d], &p) == CUTUNE_OK) {
                expr_value v = k->space->params[p].vals[config[p]];
                b[d] = v.type == EV_INT ? v.u.i : 0;
            }
        }
        if (b[d] < 1 || b[d] > 1024)
            return ct_fail(CUTUNE_ERANGE, "block size %c is %lld", axes[d], (long long)b[d]);
        block[d] = (unsigned)b[d];
    }
    for (int d = 0; d < 3; d++) {
        int64_t size = d < k->problem_dims ? problem[d] : 1, div = 1;
        if (k->has_div[d]) {
            for (size_t i = 0; i < k->ndiv[d]; i++) {
                char what[64];
                int64_t v;
                snprintf(what, sizeof what, "grid divisor %zu of %c", i, axes[d]);
                int st = eval_int(k, problem, config, k->div[d][i], what, &v);
                if (st)
                    return st;
                if (v < 1)
                    return ct_fail(CUTUNE_ERANGE, "%s is %lld", what, (long long)v);
                div = div > INT64_MAX / v ? INT64_MAX : div * v;
            }
        } else if (d < k->problem_dims) {
            div = b[d]; /* Kernel Tuner's default: one thread per element */
        }
        int64_t g = (size + div - 1) / div;
        if (g < 1 || g > (d ? 65535 : 2147483647))
            return ct_fail(CUTUNE_ERANGE, "grid size %c is %lld", axes[d], (long long)g);
        grid[d] = (unsigned)g;
    }
    if (dynamic_smem) {
        int64_t s = 0;
        if (k->smem) {
            int st = eval_int(k, problem, config, k->smem, "SharedMemory", &s);
            if (st)
                return st;
        }
        *dynamic_smem = (size_t)s;
    }
    return CUTUNE_OK;
}

int cutune_kernel_cooperative_at(const cutune_kernel *k, const uint32_t *config,
                                 const int64_t problem[3], int *cooperative)
{
    if (!k || !config || !problem || !cooperative)
        return ct_fail(CUTUNE_EINVAL, "cutune_kernel_cooperative_at: NULL argument");
    int64_t v = 0, at[3];
    int st = problem_of(k, config, problem, at);
    if (!st && k->cooperative)
        st = eval_int(k, at, config, k->cooperative, "Cooperative", &v);
    *cooperative = !st && v != 0;
    return st;
}

int ct_kernel_block_uses_problem(const cutune_kernel *k)
{
    for (int d = 0; k && d < 3; d++) {
        const char *names[CT_MAX_EXPR_NAMES];
        size_t n = k->block[d] ? expr_names(k->block[d], names, CT_MAX_EXPR_NAMES) : 0;
        for (size_t i = 0; i < n && i < CT_MAX_EXPR_NAMES; i++)
            if (strcmp(names[i], "ProblemSize") == 0 || strcmp(names[i], "problem_size") == 0)
                return 1;
    }
    return 0;
}
