/* spec_info.c — what a T1 spec says beyond its space and its kernel: the search it asks for
 * (Search, Budget) and the fields cutune does not use, for `cutune check` to list. */
#include "expr.h"
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load_root(const char *path, json_t **root)
{
    json_error_t jerr;
    *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root)
        return ct_fail(CUTUNE_EPARSE, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    return CUTUNE_OK;
}

/* A number, or a string holding a constant expression ("2 * 60"), as a double. */
static int number_of(const char *file, const char *where, json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return CUTUNE_OK;
    }
    if (!json_is_string(v))
        return ct_fail(CUTUNE_EINVAL, "%s: %s must be a number", file, where);
    char err[256];
    expr *e = NULL;
    expr_arena *arena = expr_arena_new();
    expr_value r;
    int st = arena ? expr_parse(json_string_value(v), &e, err, sizeof err)
                   : ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (!st && arena)
        st = expr_eval(e, NULL, NULL, arena, &r, err, sizeof err);
    if (st && arena)
        st = ct_fail(st, "%s: %s: %s (in \"%.80s\")", file, where, err, json_string_value(v));
    else if (!st && r.type != EV_INT && r.type != EV_FLOAT)
        st = ct_fail(CUTUNE_ETYPE, "%s: %s: \"%.80s\" is not a number", file, where,
                     json_string_value(v));
    if (!st)
        *out = r.type == EV_INT ? (double)r.u.i : r.u.f;
    expr_free(e);
    expr_arena_free(arena);
    return st;
}

/* ------------------------------------------------------------------- Search, Budget ---- */

/* One budget, Kernel Tuner's name for it: an evaluation count, a duration or a fraction. */
static int set_budget(const char *file, const char *where, const char *type, json_t *value,
                      cutune_spec_search *out)
{
    double v;
    int st = number_of(file, where, value, &v);
    if (st)
        return st;
    if (strcmp(type, "ConfigurationCount") == 0) {
        if (!(v >= 1 && v <= 9007199254740992.0) || v != floor(v))
            return ct_fail(CUTUNE_ERANGE, "%s: %s: a ConfigurationCount of %g: a whole number "
                           "of evaluations from 1 to 2^53, please", file, where, v);
        out->budget = (uint64_t)v;
    } else if (strcmp(type, "TuningDuration") == 0) {
        if (!(v > 0 && v <= 1e9))
            return ct_fail(CUTUNE_ERANGE, "%s: %s: a TuningDuration of %g s: more than 0 and "
                           "at most 10^9 seconds, please", file, where, v);
        out->time_limit_s = v;
    } else {
        if (!(v > 0 && v <= 1))
            return ct_fail(CUTUNE_ERANGE, "%s: %s: a ConfigurationFraction of %g: more than 0 "
                           "and at most 1 (all the valid configurations), please", file, where,
                           v);
        out->budget_fraction = v;
    }
    return CUTUNE_OK;
}

static int read_search(const char *file, json_t *root, cutune_spec_search *out)
{
    json_t *search = json_object_get(root, "Search");
    if (search && !json_is_null(search)) {
        if (!json_is_object(search))
            return ct_fail(CUTUNE_EINVAL, "%s: Search must be an object with a Name", file);
        json_t *name = json_object_get(search, "Name");
        if (name && !json_is_string(name))
            return ct_fail(CUTUNE_EINVAL, "%s: Search.Name must be a string", file);
        if (name) {
            snprintf(out->name, sizeof out->name, "%s", json_string_value(name));
            if (cutune_strategy_lookup(json_string_value(name), &out->strategy))
                out->strategy = NULL; /* the caller says why, unless it names another */
        }
        /* Kernel Tuner's options that are budgets: max_fevals and time_limit */
        json_t *attrs = json_object_get(search, "Attributes");
        if (attrs && !json_is_null(attrs) && !json_is_array(attrs))
            return ct_fail(CUTUNE_EINVAL, "%s: Search.Attributes must be a list of {Name, "
                           "Value}", file);
        for (size_t i = 0; i < json_array_size(attrs); i++) {
            json_t *a = json_array_get(attrs, i);
            const char *an = json_string_value(json_object_get(a, "Name"));
            char where[96];
            snprintf(where, sizeof where, "Search.Attributes[%zu].Value", i);
            if (!json_is_object(a) || !an)
                return ct_fail(CUTUNE_EINVAL, "%s: Search.Attributes[%zu] must be an object "
                               "with a Name and a Value", file, i);
            int st = strcmp(an, "max_fevals") == 0
                         ? set_budget(file, where, "ConfigurationCount",
                                      json_object_get(a, "Value"), out)
                     : strcmp(an, "time_limit") == 0
                         ? set_budget(file, where, "TuningDuration", json_object_get(a, "Value"),
                                      out)
                         : CUTUNE_OK;
            if (st)
                return st;
        }
    }
    json_t *budget = json_object_get(root, "Budget");
    if (budget && !json_is_null(budget) && !json_is_array(budget))
        return ct_fail(CUTUNE_EINVAL, "%s: Budget must be a list of {Type, BudgetValue}", file);
    int seen = 0; /* (Budget, read after Search as Kernel Tuner does, overrides its options) */
    for (size_t i = 0; i < json_array_size(budget); i++) {
        static const char *const types[] = {"ConfigurationCount", "TuningDuration",
                                            "ConfigurationFraction"};
        json_t *b = json_array_get(budget, i);
        const char *type = json_string_value(json_object_get(b, "Type"));
        char where[64];
        snprintf(where, sizeof where, "Budget[%zu]", i);
        if (!json_is_object(b))
            return ct_fail(CUTUNE_EINVAL, "%s: %s must be an object with a Type and a "
                           "BudgetValue", file, where);
        int t = 0;
        while (type && t < 3 && strcmp(type, types[t]) != 0)
            t++;
        if (!type || t == 3)
            return ct_fail(CUTUNE_EINVAL, "%s: %s.Type %s%s%s is not ConfigurationCount, "
                           "TuningDuration or ConfigurationFraction", file, where,
                           type ? "'" : "", type ? type : "(missing)", type ? "'" : "");
        if (seen & (1 << t))
            return ct_fail(CUTUNE_EINVAL, "%s: %s: a second %s", file, where, type);
        seen |= 1 << t;
        json_t *value = json_object_get(b, "BudgetValue");
        if (!value)
            return ct_fail(CUTUNE_EINVAL, "%s: %s has no BudgetValue", file, where);
        strncat(where, ".BudgetValue", sizeof where - strlen(where) - 1);
        int st = set_budget(file, where, type, value, out);
        if (st)
            return st;
    }
    return CUTUNE_OK;
}

int ct_spec_search_json(const void *json, const char *file, cutune_spec_search *out)
{
    memset(out, 0, sizeof *out);
    json_t *root = (json_t *)json;
    if (!json_is_object(root))
        return ct_fail(CUTUNE_EINVAL, "%s: a T1 spec is a JSON object", file);
    return read_search(file, root, out);
}

int cutune_spec_read_search(const char *path, cutune_spec_search *out)
{
    if (!path || !out)
        return ct_fail(CUTUNE_EINVAL, "cutune_spec_read_search: NULL argument");
    memset(out, 0, sizeof *out);
    json_t *root;
    int st = load_root(path, &root);
    if (!st)
        st = ct_spec_search_json(root, path, out);
    json_decref(root);
    if (st)
        memset(out, 0, sizeof *out);
    return st;
}

/* ------------------------------------------------------------------ ignored fields ---- */

/* The fields cutune reads, as a tree: an object's keys, each a leaf, an object of further
 * keys, or a list of such objects. Any other key is listed as ignored; so is each key of
 * an object cutune reads none of (General). */
typedef struct field field;
enum { LEAF, OBJECT, LIST, NONE_READ };
struct field {
    const char *key;
    int kind;
    const field *children; /* OBJECT and LIST: the keys read in each */
    const char *label;     /* LIST: the key that names an item in the path ("Name"), or NULL */
};
#define END {NULL, LEAF, NULL, NULL}

static const field parameter_fields[] = {
    {"Name", LEAF, NULL, NULL}, {"Type", LEAF, NULL, NULL}, {"Values", LEAF, NULL, NULL},
    {"Default", LEAF, NULL, NULL}, END};
static const field condition_fields[] = {
    {"Expression", LEAF, NULL, NULL}, {"Parameters", LEAF, NULL, NULL}, END};
static const field space_fields[] = {
    {"TuningParameters", LIST, parameter_fields, "Name"},
    {"Conditions", LIST, condition_fields, NULL}, END};
static const field xyz_fields[] = {
    {"X", LEAF, NULL, NULL}, {"Y", LEAF, NULL, NULL}, {"Z", LEAF, NULL, NULL}, END};
/* (kernel_spec.c's load_arg: keep these in step with what it reads) */
static const field argument_fields[] = {
    {"Name", LEAF, NULL, NULL},      {"Type", LEAF, NULL, NULL},
    {"MemoryType", LEAF, NULL, NULL}, {"MemType", LEAF, NULL, NULL},
    {"AccessType", LEAF, NULL, NULL}, {"Output", LEAF, NULL, NULL},
    {"FillType", LEAF, NULL, NULL},  {"FillValue", LEAF, NULL, NULL},
    {"Path", LEAF, NULL, NULL},      {"Size", LEAF, NULL, NULL},
    {"Tolerance", LEAF, NULL, NULL}, {"Atol", LEAF, NULL, NULL},
    {"Rtol", LEAF, NULL, NULL},      END};
/* (session/verify.c: the answers a spec gives) */
static const field reference_fields[] = {
    {"Name", LEAF, NULL, NULL},        {"TargetName", LEAF, NULL, NULL},
    {"FillType", LEAF, NULL, NULL},    {"FillValue", LEAF, NULL, NULL},
    {"DataSource", LEAF, NULL, NULL},  {"ValidationMethod", LEAF, NULL, NULL},
    {"ValidationThreshold", LEAF, NULL, NULL}, END};
/* (session/metrics.c: cutune's extension, top level or in the KernelSpecification) */
static const field metric_fields[] = {
    {"Name", LEAF, NULL, NULL}, {"Expression", LEAF, NULL, NULL}, END};
/* (kernel_spec.c's load_kernel and load_geometry) */
static const field kernel_fields[] = {
    {"Language", LEAF, NULL, NULL},      {"KernelName", LEAF, NULL, NULL},
    {"KernelFile", LEAF, NULL, NULL},    {"CompilerOptions", LEAF, NULL, NULL},
    {"ProblemSize", LEAF, NULL, NULL},   {"ProblemSizeDefines", LEAF, NULL, NULL},
    {"LocalSize", OBJECT, xyz_fields, NULL}, {"GridDivX", LEAF, NULL, NULL},
    {"GridDivY", LEAF, NULL, NULL},      {"GridDivZ", LEAF, NULL, NULL},
    {"SharedMemory", LEAF, NULL, NULL},  {"Cooperative", LEAF, NULL, NULL},
    {"Seed", LEAF, NULL, NULL},          {"Arguments", LIST, argument_fields, "Name"},
    {"ReferenceArguments", LIST, reference_fields, "Name"},
    {"Metrics", LIST, metric_fields, "Name"}, END};
static const field attribute_fields[] = {{"Name", LEAF, NULL, NULL}, {"Value", LEAF, NULL, NULL},
                                         END};
static const field search_fields[] = {{"Name", LEAF, NULL, NULL},
                                      {"Attributes", LIST, attribute_fields, "Name"}, END};
static const field budget_fields[] = {{"Type", LEAF, NULL, NULL},
                                      {"BudgetValue", LEAF, NULL, NULL}, END};
static const field top_fields[] = {
    {"ConfigurationSpace", OBJECT, space_fields, NULL},
    {"KernelSpecification", OBJECT, kernel_fields, NULL},
    {"Search", OBJECT, search_fields, NULL},
    {"Budget", LIST, budget_fields, NULL},
    {"Metrics", LIST, metric_fields, "Name"},
    {"General", NONE_READ, NULL, NULL}, END};

typedef struct ignored {
    char *buf;
    size_t len, cap, count;
    int failed;
} ignored;

static void add_path(ignored *ig, const char *path)
{
    size_t n = strlen(path) + 1;
    if (ig->failed)
        return;
    if (ig->len + n + 1 > ig->cap) {
        size_t cap = ig->cap ? ig->cap : 256;
        while (ig->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(ig->buf, cap);
        if (!grown) {
            ig->failed = 1;
            return;
        }
        ig->buf = grown;
        ig->cap = cap;
    }
    memcpy(ig->buf + ig->len, path, n);
    ig->len += n;
    ig->buf[ig->len] = '\0'; /* the list's end, moved on by the next */
    ig->count++;
}

/* Search.Attributes: Kernel Tuner's strategy options; cutune takes its budgets only. */
static int attribute_read(json_t *item)
{
    const char *name = json_string_value(json_object_get(item, "Name"));
    return name && (strcmp(name, "max_fevals") == 0 || strcmp(name, "time_limit") == 0);
}

static void walk(ignored *ig, json_t *obj, const field *fields, const char *prefix, int depth)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        char path[1024];
        snprintf(path, sizeof path, "%s%s%.200s", prefix, *prefix ? "." : "", key);
        const field *f = fields;
        while (f->key && strcmp(f->key, key) != 0)
            f++;
        if (!f->key) {
            add_path(ig, path);
        } else if (f->kind == NONE_READ && json_is_object(value)) {
            walk(ig, value, (const field[]){END}, path, depth + 1);
        } else if (f->kind == NONE_READ) {
            add_path(ig, path);
        } else if (f->kind == OBJECT && json_is_object(value) && depth < 8) {
            walk(ig, value, f->children, path, depth + 1);
        } else if (f->kind == LIST && json_is_array(value) && depth < 8) {
            for (size_t i = 0; i < json_array_size(value); i++) {
                json_t *item = json_array_get(value, i);
                const char *label =
                    f->label ? json_string_value(json_object_get(item, f->label)) : NULL;
                char at[1280];
                snprintf(at, sizeof at, "%s[%zu]%s%.200s%s", path, i, label ? " (" : "",
                         label ? label : "", label ? ")" : "");
                if (f->children == attribute_fields && !attribute_read(item))
                    add_path(ig, at);
                else if (json_is_object(item))
                    walk(ig, item, f->children, at, depth + 1);
            }
        }
    }
}

int ct_spec_ignored_json(const void *json, char **fields, size_t *count)
{
    *fields = NULL;
    *count = 0;
    ignored ig = {0};
    if (json_is_object((json_t *)json))
        walk(&ig, (json_t *)json, top_fields, "", 0);
    if (!ig.failed && !ig.buf && !(ig.buf = calloc(2, 1)))
        ig.failed = 1;
    if (ig.failed) {
        free(ig.buf);
        return ct_fail(CUTUNE_ENOMEM, "out of memory listing a spec's fields");
    }
    *fields = ig.buf;
    *count = ig.count;
    return CUTUNE_OK;
}

int cutune_spec_ignored_fields(const char *path, char **fields, size_t *count)
{
    if (!fields || !count)
        return ct_fail(CUTUNE_EINVAL, "cutune_spec_ignored_fields: NULL argument");
    *fields = NULL;
    *count = 0;
    if (!path)
        return ct_fail(CUTUNE_EINVAL, "cutune_spec_ignored_fields: NULL argument");
    json_t *root;
    int st = load_root(path, &root);
    if (!st && !json_is_object(root))
        st = ct_fail(CUTUNE_EINVAL, "%s: a T1 spec is a JSON object", path);
    if (!st)
        st = ct_spec_ignored_json(root, fields, count);
    json_decref(root);
    return st;
}
