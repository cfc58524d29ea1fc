/* spec_t1.c — loads the search space of a T1 JSON spec (ConfigurationSpace: TuningParameters
 * and Conditions). Messages point at the file, line and column where the problem is. */
#include "space_impl.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct loader {
    const char *name; /* file name for messages */
    const char *text; /* the whole file, to locate strings in */
    size_t len;
    cutune_space *space;
} loader;

/* Line and column of `needle` as a JSON string in the text, when it is there verbatim. */
static int locate(const loader *ld, const char *needle, int *line, int *col)
{
    size_t n = strlen(needle);
    if (n == 0)
        return 0;
    for (const char *at = ld->text; at + n + 2 <= ld->text + ld->len; at++) {
        at = memchr(at, '"', (size_t)(ld->text + ld->len - at));
        if (!at || at + n + 2 > ld->text + ld->len)
            return 0;
        if (memcmp(at + 1, needle, n) == 0 && at[n + 1] == '"') {
            *line = 1;
            const char *line_start = ld->text;
            for (const char *c = ld->text; c <= at; c++)
                if (*c == '\n') {
                    ++*line;
                    line_start = c + 1;
                }
            *col = (int)(at - line_start) + 2; /* first character inside the quotes */
            return 1;
        }
    }
    return 0;
}

static int spec_fail(const loader *ld, int status, const char *path, const char *fmt, ...)
    CT_PRINTF(4, 5);
static int spec_fail(const loader *ld, int status, const char *path, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ct_fail(status, "%s: %s: %s", ld->name, path, msg);
}

/* An expression error "column C: what" inside JSON string `src` at `path`: reported at the
 * file position of that column when the string can be found in the file. The reason comes
 * first and the expression is shown cut to the part around the column, so that a long one
 * cannot push the reason out of the message. */
static int expr_fail(const loader *ld, int status, const char *path, const char *src,
                     const char *err)
{
    int line, col, expr_col = expr_error_column(err);
    const char *what = err;
    if (strncmp(err, "column ", 7) == 0 && strstr(err, ": "))
        what = strstr(err, ": ") + 2;
    char shown[128];
    ct_excerpt(src, expr_col, shown, sizeof shown);
    if (locate(ld, src, &line, &col))
        return ct_fail(status, "%s:%d:%d: %s: %s (in \"%s\")", ld->name, line,
                       col + expr_col - 1, path, what, shown);
    return spec_fail(ld, status, path, "%s (in \"%s\")", err, shown);
}

static int json_to_value(json_t *j, expr_value *out)
{
    if (json_is_integer(j))
        *out = (expr_value){.type = EV_INT, .u.i = json_integer_value(j)};
    else if (json_is_real(j))
        *out = (expr_value){.type = EV_FLOAT, .u.f = json_real_value(j)};
    else if (json_is_string(j))
        *out = (expr_value){.type = EV_STR, .u.s = json_string_value(j)};
    else if (json_is_boolean(j))
        *out = (expr_value){.type = EV_INT, .u.i = json_is_true(j)};
    else
        return -1;
    return 0;
}

/* Adds one parameter from its value list, converted to its declared type. */
static int add_typed(loader *ld, const char *path, const char *name, const char *type,
                     const expr_value *vals, size_t n)
{
    int want = type ? (!strcmp(type, "int") || !strcmp(type, "bool")   ? EV_INT
                       : !strcmp(type, "float") || !strcmp(type, "real") ? EV_FLOAT
                       : !strcmp(type, "string") || !strcmp(type, "str") ? EV_STR
                                                                           : -1)
                    : EV_NONE;
    if (want < 0)
        return spec_fail(ld, CUTUNE_EINVAL, path,
                         "Type \"%s\" is not one of int, float, string", type);
    if (want == EV_NONE) { /* no Type: infer it from the values */
        want = EV_INT;
        for (size_t i = 0; i < n; i++)
            if (vals[i].type == EV_FLOAT || vals[i].type == EV_STR)
                want = want == EV_INT ? vals[i].type : want;
    }
    int64_t *ints = malloc((n ? n : 1) * sizeof *ints);
    double *floats = malloc((n ? n : 1) * sizeof *floats);
    const char **strs = malloc((n ? n : 1) * sizeof *strs);
    int st = ints && floats && strs ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        expr_value v = vals[i];
        int ok = v.type == want || (want == EV_FLOAT && v.type == EV_INT);
        if (!ok) {
            char buf[96];
            expr_format(v, buf, sizeof buf);
            st = spec_fail(ld, CUTUNE_ETYPE, path, "value %zu (%s) of '%s' is not of type %s",
                           i + 1, buf, name, want == EV_INT ? "int" : want == EV_FLOAT ? "float"
                                                                                       : "string");
            break;
        }
        ints[i] = v.type == EV_INT ? v.u.i : 0;
        floats[i] = v.type == EV_INT ? (double)v.u.i : v.type == EV_FLOAT ? v.u.f : 0;
        strs[i] = v.type == EV_STR ? v.u.s : NULL;
    }
    if (!st) {
        st = want == EV_INT     ? cutune_space_add_int(ld->space, name, ints, n)
             : want == EV_FLOAT ? cutune_space_add_float(ld->space, name, floats, n)
                                : cutune_space_add_string(ld->space, name, strs, n);
        if (st)
            st = ct_wrap(st, "%s: %s", ld->name, path);
    }
    free(ints);
    free(floats);
    free(strs);
    return st;
}

static int load_param(loader *ld, json_t *p, size_t index)
{
    char path[128];
    snprintf(path, sizeof path, "ConfigurationSpace.TuningParameters[%zu]", index);
    if (!json_is_object(p))
        return spec_fail(ld, CUTUNE_EINVAL, path, "an object with Name and Values expected");
    json_t *jname = json_object_get(p, "Name"), *jvals = json_object_get(p, "Values");
    json_t *jtype = json_object_get(p, "Type");
    if (!json_is_string(jname))
        return spec_fail(ld, CUTUNE_EINVAL, path, "Name missing or not a string");
    if (jtype && !json_is_string(jtype))
        return spec_fail(ld, CUTUNE_EINVAL, path, "Type is not a string");
    const char *name = json_string_value(jname);
    snprintf(path, sizeof path, "ConfigurationSpace.TuningParameters[%zu] (%s).Values", index,
             name);

    expr_arena *arena = expr_arena_new();
    expr *e = NULL; /* a Values expression: its string constants live as long as it does */
    expr_value *vals = NULL;
    size_t n = 0;
    int st = arena ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (!st && json_is_array(jvals)) {
        n = json_array_size(jvals);
        vals = malloc((n ? n : 1) * sizeof *vals);
        if (!vals)
            st = ct_fail(CUTUNE_ENOMEM, "out of memory");
        for (size_t i = 0; !st && i < n; i++)
            if (json_to_value(json_array_get(jvals, i), &vals[i]))
                st = spec_fail(ld, CUTUNE_ETYPE, path, "value %zu is not a number or string",
                               i + 1);
    } else if (!st && json_is_string(jvals)) {
        /* a Python expression giving the list, e.g. "[2**i for i in range(5)]" */
        const char *src = json_string_value(jvals);
        char err[512];
        expr_value list;
        st = expr_parse(src, &e, err, sizeof err);
        if (!st)
            st = expr_eval(e, NULL, NULL, arena, &list, err, sizeof err);
        if (!st && list.type != EV_LIST) {
            snprintf(err, sizeof err, "column 1: the expression gives a single value, not a "
                     "list");
            st = CUTUNE_ETYPE;
        }
        if (st) {
            st = expr_fail(ld, st, path, src, err);
        } else {
            n = list.u.l->n;
            vals = malloc((n ? n : 1) * sizeof *vals);
            if (vals)
                memcpy(vals, list.u.l->items, n * sizeof *vals);
            else
                st = ct_fail(CUTUNE_ENOMEM, "out of memory");
        }
    } else if (!st) {
        st = spec_fail(ld, CUTUNE_EINVAL, path, "missing, or neither a list nor a string");
    }
    if (!st)
        st = add_typed(ld, path, name, jtype ? json_string_value(jtype) : NULL, vals, n);
    free(vals);
    expr_free(e); /* (the space has copied its strings) */
    expr_arena_free(arena);
    return st;
}

/* ------------------------------------------------------------------ the default ---- */

/* A Default is never an error (Kernel Tuner ignores them): what cannot be used is a warning
 * and that parameter counts as having none. The default configuration is the Defaults when
 * they are valid, else the valid configuration nearest them (cutune.h says the rule). */
enum { DEFAULT_NONE, DEFAULT_BAD, DEFAULT_GIVEN };

/* A JSON value as it reads in the file, for a message (cut at 80 characters). */
static void json_shown(json_t *j, char *buf, size_t size)
{
    char *text = json_dumps(j, JSON_ENCODE_ANY);
    snprintf(buf, size, "%.80s%s", text ? text : "?", text && strlen(text) > 80 ? "..." : "");
    free(text);
}

/* Parameter p's values, "(16, 32, 64)", cut after a few. */
static void values_shown(const param *p, char *buf, size_t size)
{
    size_t at = (size_t)snprintf(buf, size, "(");
    for (size_t k = 0; k < p->n && at < size; k++) {
        char v[64];
        expr_format(p->vals[k], v, sizeof v);
        if (k == 8 && p->n > 10) {
            at += (size_t)snprintf(buf + at, size - at, ", ... %zu more", p->n - k);
            break;
        }
        at += (size_t)snprintf(buf + at, size - at, "%s%s", k ? ", " : "", v);
    }
    if (at < size)
        snprintf(buf + at, size - at, ")");
}

/* Parameter i's Default: DEFAULT_GIVEN with its value index, or why it cannot be used. */
static int read_default(loader *ld, json_t *jd, size_t i, uint32_t *index)
{
    const param *p = &ld->space->params[i];
    char path[CUTUNE_KEY_MAX + 64], shown[96];
    snprintf(path, sizeof path, "ConfigurationSpace.TuningParameters[%zu] (%s).Default", i,
             p->name);
    if (!jd || json_is_null(jd))
        return DEFAULT_NONE;
    json_shown(jd, shown, sizeof shown);
    if (json_is_array(jd) && json_array_size(jd) != 1)
        return ct_space_warn(ld->space, "%s: %s: %s is a list of %zu values, not one value: "
                             "ignored", ld->name, path, shown, json_array_size(jd))
                   ? -1 : DEFAULT_BAD;
    if (json_is_array(jd)) /* "Default": [0], as benchmark_hub's gemm_milo writes it */
        jd = json_array_get(jd, 0);
    expr_value d;
    expr *e = NULL;
    expr_arena *arena = NULL;
    int usable = !json_to_value(jd, &d);
    if (usable && d.type == EV_STR && p->type != CUTUNE_STRING) {
        /* a string Default of a number parameter: an expression ("2**5") */
        char err[256];
        usable = (arena = expr_arena_new()) && !expr_parse(d.u.s, &e, err, sizeof err) &&
                 !expr_eval(e, NULL, NULL, arena, &d, err, sizeof err) &&
                 (d.type == EV_INT || d.type == EV_FLOAT);
    }
    size_t k = 0;
    while (usable && k < p->n && !expr_equal(p->vals[k], d))
        k++;
    expr_free(e);
    expr_arena_free(arena);
    int st = CUTUNE_OK;
    if (!usable) {
        st = ct_space_warn(ld->space, "%s: %s: %s is not a value of '%s': ignored", ld->name,
                           path, shown, p->name);
    } else if (k == p->n) {
        char vals[256];
        values_shown(p, vals, sizeof vals);
        st = ct_space_warn(ld->space, "%s: %s: %s is not one of the values %s: the default "
                           "configuration takes the nearest valid one", ld->name, path, shown,
                           vals);
    }
    if (st)
        return -1;
    if (!usable || k == p->n)
        return DEFAULT_BAD;
    *index = (uint32_t)k;
    return DEFAULT_GIVEN;
}

#define NEAREST_STEPS ((uint64_t)1 << 20) /* steps of enumeration searched for the nearest */
#define NEAREST_FOUND 0x4e4541 /* the visitor's "stop": the Defaults themselves, completed */

typedef struct nearest {
    const uint8_t *given; /* per parameter: 1 when it has a usable Default */
    const uint32_t *want;
    size_t np, best_distance;
    uint64_t best_steps; /* then: how far the values moved, in places of their lists */
    uint32_t best[CUTUNE_MAX_PARAMS];
    int found;
} nearest;

static int visit_nearest(const uint32_t *config, void *user)
{
    nearest *n = user;
    size_t distance = 0;
    uint64_t steps = 0;
    for (size_t p = 0; p < n->np; p++)
        if (n->given[p] && config[p] != n->want[p]) {
            distance++;
            steps += config[p] > n->want[p] ? config[p] - n->want[p] : n->want[p] - config[p];
        }
    if (!n->found || distance < n->best_distance ||
        (distance == n->best_distance && steps < n->best_steps)) {
        memcpy(n->best, config, n->np * sizeof *config);
        n->best_distance = distance;
        n->best_steps = steps;
        n->found = 1;
    }
    return distance == 0 ? NEAREST_FOUND : 0;
}

/* "name V instead of D, ..." for the parameters with a Default that `config` changes. */
static void changes_shown(const cutune_space *s, const nearest *n, char *buf, size_t size)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t p = 0; p < s->np && at < size; p++)
        if (n->given[p] && n->best[p] != n->want[p]) {
            char v[64], d[64];
            expr_format(s->params[p].vals[n->best[p]], v, sizeof v);
            expr_format(s->params[p].vals[n->want[p]], d, sizeof d);
            at += (size_t)snprintf(buf + at, size - at, "%s%s %s instead of %s",
                                   at ? ", " : "", s->params[p].name, v, d);
        }
}

/* The constraints the Defaults break, "Conditions[1] (a % b == 0 with a=1, b=2)", into buf. */
static void broken_shown(const cutune_space *s, const uint32_t *config, char *buf, size_t size)
{
    expr_value vals[CUTUNE_MAX_PARAMS];
    for (size_t p = 0; p < s->np; p++)
        vals[p] = s->params[p].vals[config[p]];
    size_t at = 0;
    buf[0] = '\0';
    for (size_t c = 0; c < s->nc && at < size; c++) {
        expr_value r;
        if (expr_run(s->cons[c].prog, vals, &r) == CUTUNE_OK && expr_truthy(r))
            continue;
        char src[96];
        ct_excerpt(s->cons[c].src, 1, src, sizeof src);
        at += (size_t)snprintf(buf + at, size - at, "%sConfigurationSpace.Conditions[%zu] "
                               "(\"%s\" with ", at ? "; " : "", c, src);
        int vars[CUTUNE_MAX_PARAMS];
        size_t nv = expr_prog_vars(s->cons[c].prog, vars);
        for (size_t v = 0; v < nv && at < size; v++) {
            char val[64];
            expr_format(vals[vars[v]], val, sizeof val);
            at += (size_t)snprintf(buf + at, size - at, "%s%s=%s", v ? ", " : "",
                                   s->params[vars[v]].name, val);
        }
        if (at < size)
            at += (size_t)snprintf(buf + at, size - at, ")");
    }
}

static int load_default(loader *ld, json_t *params)
{
    cutune_space *s = ld->space;
    uint32_t want[CUTUNE_MAX_PARAMS] = {0};
    uint8_t given[CUTUNE_MAX_PARAMS] = {0};
    size_t ngiven = 0, nbad = 0, nnone = 0;
    for (size_t i = 0; i < s->np; i++) {
        int kind = read_default(ld, json_object_get(json_array_get(params, i), "Default"), i,
                                &want[i]);
        if (kind < 0)
            return CUTUNE_ENOMEM;
        given[i] = kind == DEFAULT_GIVEN;
        ngiven += kind == DEFAULT_GIVEN;
        nbad += kind == DEFAULT_BAD;
        nnone += kind == DEFAULT_NONE;
    }
    if (nnone == s->np)
        return CUTUNE_OK; /* no Default at all: no default configuration, as Kernel Tuner */
    if (ngiven == s->np && cutune_space_is_valid(s, want) == 1)
        return cutune_space_set_default(s, want);
    if (nnone) {
        char names[512];
        size_t at = 0;
        names[0] = '\0';
        for (size_t i = 0; i < s->np && at < sizeof names; i++)
            if (!json_object_get(json_array_get(params, i), "Default") ||
                json_is_null(json_object_get(json_array_get(params, i), "Default")))
                at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", at ? ", " : "",
                                       s->params[i].name);
        if (ct_space_warn(s, "%s: ConfigurationSpace.TuningParameters: %zu of %zu parameters "
                          "have no Default (%s): the default configuration takes their values "
                          "from the nearest valid configuration", ld->name, nnone, s->np, names))
            return CUTUNE_ENOMEM;
    }
    /* the valid configurations in id order, for a bounded number of steps (a hostile space
     * may hold few valid ones among very many) */
    nearest n = {.given = given, .want = want, .np = s->np};
    int st = CUTUNE_OK;
    const space_plan *pl = ct_space_plan(s, &st);
    ct_walk w = {.s = s, .pl = pl, .visit = visit_nearest, .user = &n, .steps = NEAREST_STEPS};
    if (pl)
        st = ct_plan_walk(&w);
    if (st == CUTUNE_ENOMEM)
        return st;
    if (st && st != NEAREST_FOUND)
        return ct_space_warn(s, "%s: ConfigurationSpace: the nearest valid configuration to the "
                             "Defaults could not be searched for (%s): there is no default "
                             "configuration", ld->name, cutune_last_error());
    if (!n.found && w.out_of_steps)
        return ct_space_warn(s, "%s: ConfigurationSpace: no valid configuration was found "
                             "within %llu steps of enumeration: there is no default "
                             "configuration", ld->name, (unsigned long long)NEAREST_STEPS);
    if (!n.found)
        return ct_space_warn(s, "%s: ConfigurationSpace: no configuration satisfies every "
                             "condition: there is no default configuration", ld->name);
    if ((st = cutune_space_set_default(s, n.best)))
        return st;
    if (n.best_distance == 0 && !nbad)
        return CUTUNE_OK; /* the Defaults given, completed by the first valid configuration */
    char key[CUTUNE_KEY_MAX], changes[512], broken[768], free_names[256] = "";
    cutune_space_config_key(s, n.best, key, sizeof key);
    if (n.best_distance == 0)
        return ct_space_warn(s, "%s: ConfigurationSpace: the default configuration is %s, the "
                             "first valid one with every usable Default", ld->name, key);
    /* the Defaults, completed with the chosen configuration's values where there is none
     * usable: the conditions they break are why the default is another */
    uint32_t completed[CUTUNE_MAX_PARAMS];
    size_t at = 0;
    for (size_t p = 0; p < s->np; p++) {
        completed[p] = given[p] ? want[p] : n.best[p];
        if (!given[p] && at < sizeof free_names)
            at += (size_t)snprintf(free_names + at, sizeof free_names - at, "%s%s",
                                   at ? ", " : "; the nearest's value for ", s->params[p].name);
    }
    char dkey[CUTUNE_KEY_MAX];
    cutune_space_config_key(s, completed, dkey, sizeof dkey);
    if (cutune_space_is_valid(s, completed) == 1) { /* beyond the steps searched, yet valid */
        if ((st = cutune_space_set_default(s, completed)))
            return st;
        return ct_space_warn(s, "%s: ConfigurationSpace: the default configuration is %s, the "
                             "Defaults completed with the values of the nearest valid "
                             "configuration found", ld->name, dkey);
    }
    changes_shown(s, &n, changes, sizeof changes);
    broken_shown(s, completed, broken, sizeof broken);
    char limited[96] = "";
    if (w.out_of_steps)
        snprintf(limited, sizeof limited, " of those found in %llu steps of enumeration",
                 (unsigned long long)NEAREST_STEPS);
    return ct_space_warn(s, "%s: the Defaults (%s%s) break %s: the default configuration is the "
                         "nearest valid one%s, %s (%s)", ld->name, dkey, free_names,
                         broken, limited, key,
                         changes);
}

static int load_condition(loader *ld, json_t *c, size_t index)
{
    char path[96];
    snprintf(path, sizeof path, "ConfigurationSpace.Conditions[%zu]", index);
    json_t *jexpr = json_is_object(c) ? json_object_get(c, "Expression") : c;
    if (!json_is_string(jexpr))
        return spec_fail(ld, CUTUNE_EINVAL, path, "Expression missing or not a string");
    json_t *jparams = json_is_object(c) ? json_object_get(c, "Parameters") : NULL;
    for (size_t i = 0; i < json_array_size(jparams); i++) {
        const char *pname = json_string_value(json_array_get(jparams, i));
        if (!pname || cutune_space_find_param(ld->space, pname, NULL))
            return spec_fail(ld, CUTUNE_ENAME, path, "Parameters[%zu] '%s' is not a tuning "
                             "parameter", i, pname ? pname : "(not a string)");
    }
    const char *src = json_string_value(jexpr);
    char err[512];
    int st = ct_space_add_constraint(ld->space, src, err, sizeof err);
    if (st == CUTUNE_ENOMEM)
        return ct_fail(st, "%s: %s", ld->name, err);
    if (st) {
        strncat(path, ".Expression", sizeof path - strlen(path) - 1);
        return expr_fail(ld, st, path, src, err);
    }
    return CUTUNE_OK;
}

int cutune_space_load_t1_buffer(cutune_space **out, const char *data, size_t len,
                                const char *name)
{
    if (!out || (!data && len))
        return ct_fail(CUTUNE_EINVAL, "cutune_space_load_t1_buffer: NULL argument");
    *out = NULL;
    name = name ? name : "(spec)";
    json_error_t jerr;
    json_t *root = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ct_fail(CUTUNE_EPARSE, "%s:%d:%d: %s", name, jerr.line, jerr.column, jerr.text);
    loader ld = {.name = name, .text = data, .len = len};
    int st = cutune_space_new(&ld.space);
    json_t *cs = json_object_get(root, "ConfigurationSpace");
    json_t *params = json_object_get(cs, "TuningParameters");
    json_t *conds = json_object_get(cs, "Conditions");
    if (!st && !json_is_object(cs))
        st = spec_fail(&ld, CUTUNE_EINVAL, "ConfigurationSpace", "missing or not an object");
    else if (!st && (!json_is_array(params) || json_array_size(params) == 0))
        st = spec_fail(&ld, CUTUNE_EINVAL, "ConfigurationSpace.TuningParameters",
                       "missing, empty or not a list");
    else if (!st && conds && !json_is_array(conds) && !json_is_null(conds))
        st = spec_fail(&ld, CUTUNE_EINVAL, "ConfigurationSpace.Conditions", "not a list");
    for (size_t i = 0; !st && i < json_array_size(params); i++)
        st = load_param(&ld, json_array_get(params, i), i);
    for (size_t i = 0; !st && i < json_array_size(conds); i++)
        st = load_condition(&ld, json_array_get(conds, i), i);
    if (!st)
        st = load_default(&ld, params);
    json_decref(root);
    if (st) {
        cutune_space_free(ld.space);
        return st;
    }
    *out = ld.space;
    return CUTUNE_OK;
}

int cutune_space_load_t1(cutune_space **out, const char *path)
{
    if (!out || !path)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_load_t1: NULL argument");
    *out = NULL;
    char *data;
    size_t len;
    int st = ct_read_file(path, CT_MAX_SPEC_BYTES, &data, &len);
    if (st)
        return st;
    st = cutune_space_load_t1_buffer(out, data, len, path);
    free(data);
    return st;
}
