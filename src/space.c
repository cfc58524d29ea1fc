/* space.c — a search space: parameters with value lists and compiled constraints (whole, and
 * split at their outermost 'and'), configuration ids, keys and validity. Enumeration, counting
 * and sampling are in space_propagate.c. */
#include "space_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Drops what was built from the space on first use (space_impl.h). */
void ct_space_forget(cutune_space *s)
{
    ct_plan_free(atomic_exchange(&s->plan, NULL));
    ct_sampler_free(atomic_exchange(&s->sampler, NULL));
}

int cutune_space_new(cutune_space **out)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_new: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return ct_fail(CUTUNE_ENOMEM, "cutune_space_new: out of memory");
    return CUTUNE_OK;
}

void cutune_space_free(cutune_space *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->np; i++) {
        param *p = &s->params[i];
        if (p->type == CUTUNE_STRING)
            for (size_t k = 0; k < p->n; k++)
                free((char *)p->vals[k].u.s);
        free(p->vals);
        free(p->name);
    }
    ct_space_forget(s);
    for (size_t i = 0; i < s->nc; i++) {
        free(s->cons[i].src);
        expr_prog_free(s->cons[i].prog);
    }
    for (size_t i = 0; i < s->nparts; i++) {
        expr_prog_free(s->parts[i].prog);
        free(s->parts[i].vars);
    }
    free(s->parts);
    free(s->params);
    free(s->cons);
    free(s->check_order);
    free(s->check_start);
    free(s->dflt);
    for (size_t i = 0; i < s->nwarnings; i++)
        free(s->warnings[i]);
    free(s->warnings);
    free(s);
}

int ct_space_warn(cutune_space *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char **grown = n >= 0 ? realloc(s->warnings, (s->nwarnings + 1) * sizeof *grown) : NULL;
    if (!grown)
        return ct_fail(CUTUNE_ENOMEM, "out of memory keeping a warning");
    s->warnings = grown;
    char *text = malloc((size_t)n + 1);
    if (!text)
        return ct_fail(CUTUNE_ENOMEM, "out of memory keeping a warning");
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->warnings[s->nwarnings++] = text;
    return CUTUNE_OK;
}

size_t cutune_space_num_warnings(const cutune_space *s) { return s ? s->nwarnings : 0; }
const char *cutune_space_warning(const cutune_space *s, size_t i)
{
    return s && i < s->nwarnings ? s->warnings[i] : NULL;
}

static int is_identifier(const char *s)
{
    static const char *const keywords[] = {"and", "or", "not", "in", "for", "if", "else", "is",
                                           "lambda", "True", "False", "None", NULL};
    if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_')
            return 0;
    for (int i = 0; keywords[i]; i++)
        if (strcmp(s, keywords[i]) == 0)
            return 0;
    return 1;
}

/* Constraints sorted by the parameter at which they become decidable. */
static int rebuild_check_order(cutune_space *s)
{
    size_t *order = malloc((s->nc ? s->nc : 1) * sizeof *order);
    size_t *start = malloc((s->np + 2) * sizeof *start);
    if (!order || !start) {
        free(order);
        free(start);
        return ct_fail(CUTUNE_ENOMEM, "out of memory ordering constraints");
    }
    size_t k = 0;
    for (size_t d = 0; d < s->np; d++) {
        start[d] = k;
        for (size_t c = 0; c < s->nc; c++) {
            int at = s->cons[c].max_var < 0 ? 0 : s->cons[c].max_var;
            if ((size_t)at == d)
                order[k++] = c;
        }
    }
    start[s->np] = k;
    free(s->check_order);
    free(s->check_start);
    s->check_order = order;
    s->check_start = start;
    return CUTUNE_OK;
}

/* Orders scalar values by type, then value (NaN after numbers), so that equal ones meet. */
static int by_type_value(const void *pa, const void *pb)
{
    const expr_value *a = *(const expr_value *const *)pa, *b = *(const expr_value *const *)pb;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    if (a->type == EV_INT)
        return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    if (a->type == EV_FLOAT) {
        if (isnan(a->u.f) || isnan(b->u.f))
            return isnan(a->u.f) - isnan(b->u.f);
        return (a->u.f > b->u.f) - (a->u.f < b->u.f);
    }
    if (a->type == EV_STR)
        return strcmp(a->u.s, b->u.s);
    return 0;
}

/* A value listed twice (same type and equal), found by sorting: a million values take
 * milliseconds, not the hours a comparison of every pair would. */
static int find_duplicate(const expr_value *vals, size_t n, const expr_value **twice)
{
    *twice = NULL;
    const expr_value **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return CUTUNE_ENOMEM;
    for (size_t i = 0; i < n; i++)
        sorted[i] = &vals[i];
    qsort(sorted, n, sizeof *sorted, by_type_value);
    for (size_t i = 1; i < n && !*twice; i++)
        if (sorted[i]->type == sorted[i - 1]->type && expr_equal(*sorted[i], *sorted[i - 1]))
            *twice = sorted[i];
    free(sorted);
    return CUTUNE_OK;
}

static int add_param(cutune_space *s, const char *name, cutune_value_type type,
                     expr_value *vals, size_t n)
{
    if (!s || !name || (!vals && n))
        return ct_fail(CUTUNE_EINVAL, "adding a parameter: NULL argument");
    if (!is_identifier(name))
        return ct_fail(CUTUNE_EINVAL, "parameter name '%s' is not an identifier", name);
    if (n == 0)
        return ct_fail(CUTUNE_EINVAL, "parameter '%s' has no values", name);
    if (n > UINT32_MAX)
        return ct_fail(CUTUNE_ETOOBIG, "parameter '%s' has %zu values", name, n);
    if (s->np == CUTUNE_MAX_PARAMS)
        return ct_fail(CUTUNE_ETOOBIG, "more than %d parameters", CUTUNE_MAX_PARAMS);
    for (size_t i = 0; i < s->np; i++)
        if (strcmp(s->params[i].name, name) == 0)
            return ct_fail(CUTUNE_EINVAL, "parameter '%s' is defined twice", name);
    const expr_value *twice = NULL;
    int st = find_duplicate(vals, n, &twice);
    if (st)
        return ct_fail(st, "out of memory checking the values of parameter '%s'", name);
    if (twice) {
        char buf[64];
        expr_format(*twice, buf, sizeof buf);
        return ct_fail(CUTUNE_EINVAL, "parameter '%s' lists the value %s twice", name, buf);
    }
    /* the longest key is each parameter's longest value, joined by commas */
    size_t longest = 0, names = s->names_bytes + (s->np ? 1 : 0) + strlen(name);
    for (size_t k = 0; k < n; k++) {
        int len = expr_format(vals[k], NULL, 0);
        longest = len > 0 && (size_t)len > longest ? (size_t)len : longest;
    }
    size_t key = s->key_bytes + (s->np ? 1 : 0) + longest;
    if (key >= CUTUNE_KEY_MAX || names >= CUTUNE_KEY_MAX)
        return ct_fail(CUTUNE_ETOOBIG, "parameter '%s' makes %s up to %zu bytes long; cutune "
                       "keeps at most %d", name,
                       key >= CUTUNE_KEY_MAX ? "a configuration's key" : "the parameters' names",
                       key >= CUTUNE_KEY_MAX ? key : names, CUTUNE_KEY_MAX - 1);
    uint64_t raw = cutune_space_raw_size(s);
    if (s->np && raw > UINT64_MAX / n)
        return ct_fail(CUTUNE_ETOOBIG,
                       "parameter '%s' takes the space past 2^64 raw combinations", name);
    param *params = realloc(s->params, (s->np + 1) * sizeof *params);
    if (!params)
        return ct_fail(CUTUNE_ENOMEM, "out of memory adding parameter '%s'", name);
    s->params = params;
    char *copy = ct_strdup(name);
    if (!copy)
        return CUTUNE_ENOMEM;
    params[s->np++] = (param){.name = copy, .type = type, .n = n, .vals = vals};
    s->key_bytes = key;
    s->names_bytes = names;
    ct_space_forget(s);
    free(s->dflt);
    s->dflt = NULL;
    s->has_default = 0;
    return rebuild_check_order(s);
}

int cutune_space_add_int(cutune_space *s, const char *name, const int64_t *values, size_t n)
{
    expr_value *vals = malloc((n ? n : 1) * sizeof *vals);
    if (!vals)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && values; i++)
        vals[i] = (expr_value){.type = EV_INT, .u.i = values[i]};
    int st = add_param(s, name, CUTUNE_INT, values ? vals : NULL, n);
    if (st)
        free(vals);
    return st;
}

int cutune_space_add_float(cutune_space *s, const char *name, const double *values, size_t n)
{
    expr_value *vals = malloc((n ? n : 1) * sizeof *vals);
    if (!vals)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && values; i++) {
        if (isnan(values[i])) {
            free(vals);
            return ct_fail(CUTUNE_EINVAL, "parameter '%s': NaN is not a valid value",
                           name ? name : "?");
        }
        vals[i] = (expr_value){.type = EV_FLOAT, .u.f = values[i]};
    }
    int st = add_param(s, name, CUTUNE_FLOAT, values ? vals : NULL, n);
    if (st)
        free(vals);
    return st;
}

int cutune_space_add_string(cutune_space *s, const char *name, const char *const *values,
                            size_t n)
{
    expr_value *vals = calloc(n ? n : 1, sizeof *vals);
    int st = vals ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t i = 0; !st && i < n && values; i++) {
        /* Keys join values with commas (Kernel Tuner's do, and the profile store and cache
         * files are keyed by them): a comma inside a value would make two configurations
         * print the same key, as "1,2" then "3" and "1" then "2,3" both give "1,2,3". */
        if (values[i] && strchr(values[i], ',')) {
            char shown[128];
            st = ct_fail(CUTUNE_EINVAL, "parameter '%s': the value \"%s\" contains a comma, "
                         "which configuration keys (values joined by commas, as in Kernel "
                         "Tuner) could not tell apart from two values", name ? name : "?",
                         ct_excerpt(values[i], (int)(strchr(values[i], ',') - values[i]) + 1,
                                    shown, sizeof shown));
            break;
        }
        char *copy = values[i] ? ct_strdup(values[i]) : NULL;
        if (!copy)
            st = values[i] ? CUTUNE_ENOMEM
                           : ct_fail(CUTUNE_EINVAL, "parameter '%s': NULL string value",
                                     name ? name : "?");
        vals[i] = (expr_value){.type = EV_STR, .u.s = copy};
    }
    if (!st)
        st = add_param(s, name, CUTUNE_STRING, values ? vals : NULL, n);
    if (st && vals) {
        for (size_t i = 0; i < n; i++)
            free((char *)vals[i].u.s);
        free(vals);
    }
    return st;
}

/* Compiles each operand of the outermost 'and' of `e` on its own, as parts. */
static int add_parts(cutune_space *s, const expr *e, const char *const *names, char *err,
                     size_t errsize)
{
    int roots[256];
    size_t n = expr_conjuncts(e, roots, 256);
    int whole = n > 256; /* the parser's depth limit keeps chains shorter; if not, one part */
    n = whole ? 1 : n;
    ct_part *parts = realloc(s->parts, (s->nparts + n) * sizeof *parts);
    if (!parts) {
        snprintf(err, errsize, "out of memory adding a constraint");
        return CUTUNE_ENOMEM;
    }
    s->parts = parts;
    for (size_t i = 0; i < n; i++) {
        ct_part pt = {0};
        int vars[CUTUNE_MAX_PARAMS];
        int st = whole ? expr_compile(e, names, s->np, &pt.prog, NULL, err, errsize)
                       : expr_compile_at(e, roots[i], names, s->np, &pt.prog, NULL, err, errsize);
        if (!st) {
            pt.nvars = expr_prog_vars(pt.prog, vars);
            pt.vars = malloc((pt.nvars ? pt.nvars : 1) * sizeof *pt.vars);
            st = pt.vars ? CUTUNE_OK : CUTUNE_ENOMEM;
            if (st)
                snprintf(err, errsize, "out of memory adding a constraint");
        }
        if (st) {
            expr_prog_free(pt.prog);
            return st;
        }
        memcpy(pt.vars, vars, pt.nvars * sizeof *vars);
        s->parts[s->nparts++] = pt;
    }
    return CUTUNE_OK;
}

int ct_space_add_constraint(cutune_space *s, const char *text, char *err, size_t errsize)
{
    const char *names[CUTUNE_MAX_PARAMS];
    for (size_t i = 0; i < s->np; i++)
        names[i] = s->params[i].name;
    expr *e;
    int st = expr_parse(text, &e, err, errsize);
    if (st)
        return st;
    expr_prog *prog = NULL;
    int max_var = -1;
    size_t nparts = s->nparts;
    st = expr_compile(e, names, s->np, &prog, &max_var, err, errsize);
    if (!st)
        st = add_parts(s, e, names, err, errsize);
    expr_free(e);
    constraint *cons = st ? NULL : realloc(s->cons, (s->nc + 1) * sizeof *cons);
    char *copy = cons ? ct_strdup(text) : NULL;
    if (cons)
        s->cons = cons;
    if (!st && !copy) {
        snprintf(err, errsize, "out of memory adding a constraint");
        st = CUTUNE_ENOMEM;
    }
    if (st) { /* the space stays as it was */
        while (s->nparts > nparts) {
            s->nparts--;
            expr_prog_free(s->parts[s->nparts].prog);
            free(s->parts[s->nparts].vars);
        }
        expr_prog_free(prog);
        return st;
    }
    s->cons[s->nc++] = (constraint){.src = copy, .prog = prog, .max_var = max_var};
    ct_space_forget(s);
    st = rebuild_check_order(s);
    if (st)
        snprintf(err, errsize, "%s", cutune_last_error());
    return st;
}

int cutune_space_add_constraint(cutune_space *s, const char *text)
{
    if (!s || !text)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_add_constraint: NULL argument");
    char err[512], shown[128];
    int st = ct_space_add_constraint(s, text, err, sizeof err);
    if (st && st != CUTUNE_ENOMEM)
        return ct_fail(st, "constraint %zu: %s (in \"%s\")", s->nc + 1, err,
                       ct_excerpt(text, expr_error_column(err), shown, sizeof shown));
    return st ? ct_fail(st, "%s", err) : CUTUNE_OK;
}

int cutune_space_set_default(cutune_space *s, const uint32_t *config)
{
    if (!s || !config)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_set_default: NULL argument");
    for (size_t i = 0; i < s->np; i++)
        if (config[i] >= s->params[i].n)
            return ct_fail(CUTUNE_ERANGE, "default: value index %u out of range for '%s'",
                           config[i], s->params[i].name);
    if (!s->dflt && !(s->dflt = malloc((s->np ? s->np : 1) * sizeof *s->dflt)))
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    memcpy(s->dflt, config, s->np * sizeof *s->dflt);
    s->has_default = 1;
    return CUTUNE_OK;
}

int cutune_space_get_default(const cutune_space *s, uint32_t *config)
{
    if (!s || !s->has_default)
        return 0;
    if (config)
        memcpy(config, s->dflt, s->np * sizeof *config);
    return 1;
}

size_t cutune_space_num_params(const cutune_space *s) { return s ? s->np : 0; }
size_t cutune_space_num_constraints(const cutune_space *s) { return s ? s->nc : 0; }

const char *cutune_space_param_name(const cutune_space *s, size_t p)
{
    return s && p < s->np ? s->params[p].name : NULL;
}

cutune_value_type cutune_space_param_type(const cutune_space *s, size_t p)
{
    return s && p < s->np ? s->params[p].type : CUTUNE_INT;
}

size_t cutune_space_param_size(const cutune_space *s, size_t p)
{
    return s && p < s->np ? s->params[p].n : 0;
}

int cutune_space_format_value(const cutune_space *s, size_t p, size_t index, char *buf,
                              size_t size)
{
    if (!s || p >= s->np || index >= s->params[p].n)
        return ct_fail(CUTUNE_ERANGE, "no value %zu of parameter %zu", index, p) * -1;
    return expr_format(s->params[p].vals[index], buf, size);
}

int cutune_space_find_param(const cutune_space *s, const char *name, size_t *p)
{
    if (!s || !name)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_find_param: NULL argument");
    for (size_t i = 0; i < s->np; i++)
        if (strcmp(s->params[i].name, name) == 0) {
            if (p)
                *p = i;
            return CUTUNE_OK;
        }
    return ct_fail(CUTUNE_ENOTFOUND, "no parameter named '%s'", name ? name : "(null)");
}

static int check_config(const cutune_space *s, const uint32_t *config, const char *who)
{
    if (!s || !config)
        return ct_fail(CUTUNE_EINVAL, "%s: NULL argument", who);
    if (s->np == 0)
        return ct_fail(CUTUNE_EEMPTY, "%s: the space has no parameters", who);
    for (size_t i = 0; i < s->np; i++)
        if (config[i] >= s->params[i].n)
            return ct_fail(CUTUNE_ERANGE, "%s: value index %u out of range for '%s' (%zu values)",
                           who, config[i], s->params[i].name, s->params[i].n);
    return CUTUNE_OK;
}

int cutune_space_is_valid(const cutune_space *s, const uint32_t *config)
{
    int st = check_config(s, config, "cutune_space_is_valid");
    if (st)
        return -st;
    expr_value vals[CUTUNE_MAX_PARAMS];
    for (size_t d = 0; d < s->np; d++)
        vals[d] = s->params[d].vals[config[d]];
    for (size_t d = 0; d < s->np; d++)
        if (!ct_check_depth(s, d, vals))
            return 0;
    return 1;
}

int cutune_space_config_key(const cutune_space *s, const uint32_t *config, char *buf,
                            size_t size)
{
    int st = check_config(s, config, "cutune_space_config_key");
    if (st)
        return st;
    if (!buf && size)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_config_key: buf is NULL");
    /* Each value is written whole: a key cut to a buffer's length could be another's. */
    size_t used = 0;
    for (size_t i = 0; i < s->np; i++) {
        if (i) {
            if (used + 1 < size)
                buf[used] = ',';
            used++;
        }
        int n = expr_format(s->params[i].vals[config[i]], used < size ? buf + used : NULL,
                            used < size ? size - used : 0);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used >= size)
        return ct_fail(CUTUNE_ERANGE, "configuration key needs %zu bytes, buffer has %zu",
                       used + 1, size);
    return CUTUNE_OK;
}

/* Whether text[0..len) names value v: its printed form, or for a number any spelling of it
 * ("16.0" for 16, "1e-3" for 0.001). */
static int value_matches(expr_value v, const char *text, size_t len)
{
    if (v.type == EV_STR)
        return strlen(v.u.s) == len && memcmp(v.u.s, text, len) == 0;
    char buf[64], copy[64];
    if (len >= sizeof copy)
        return 0;
    memcpy(copy, text, len);
    copy[len] = '\0';
    expr_format(v, buf, sizeof buf);
    if (strcmp(buf, copy) == 0)
        return 1;
    if (v.type == EV_INT || v.type == EV_FLOAT) {
        char *end;
        double x = strtod(copy, &end);
        return end != copy && *end == '\0' && x == (v.type == EV_INT ? (double)v.u.i : v.u.f);
    }
    return 0;
}

int cutune_space_parse_key(const cutune_space *s, const char *key, uint32_t *config)
{
    if (!s || !key || !config)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_parse_key: NULL argument");
    const char *part = key;
    for (size_t i = 0; i < s->np; i++) {
        const char *end = strchr(part, ',');
        if (!end)
            end = part + strlen(part);
        if (*end == '\0' && i + 1 < s->np)
            return ct_fail(CUTUNE_EPARSE, "key \"%s\" has %zu values, the space has %zu "
                           "parameters", key, i + 1, s->np);
        size_t len = (size_t)(end - part), k = 0;
        while (k < s->params[i].n && !value_matches(s->params[i].vals[k], part, len))
            k++;
        if (k == s->params[i].n)
            return ct_fail(CUTUNE_ENOTFOUND, "key \"%s\": '%.*s' is not a value of '%s'", key,
                           (int)len, part, s->params[i].name);
        config[i] = (uint32_t)k;
        part = *end ? end + 1 : end;
        if (i + 1 == s->np && *end)
            return ct_fail(CUTUNE_EPARSE, "key \"%s\" has more values than the space has "
                           "parameters (%zu)", key, s->np);
    }
    if (s->np == 0)
        return ct_fail(CUTUNE_EEMPTY, "cutune_space_parse_key: the space has no parameters");
    return CUTUNE_OK;
}

int cutune_space_neighbours(const cutune_space *s, const uint32_t *config, uint32_t *out,
                            size_t max, size_t *found)
{
    int st = check_config(s, config, "cutune_space_neighbours");
    if (st)
        return st;
    if (!found || (!out && max))
        return ct_fail(CUTUNE_EINVAL, "cutune_space_neighbours: NULL argument");
    *found = 0;
    uint32_t cand[CUTUNE_MAX_PARAMS];
    for (size_t p = 0; p < s->np; p++)
        for (int delta = -1; delta <= 1; delta += 2) {
            if ((delta < 0 && config[p] == 0) || (delta > 0 && config[p] + 1 >= s->params[p].n))
                continue;
            memcpy(cand, config, s->np * sizeof *cand);
            cand[p] = (uint32_t)((int64_t)config[p] + delta);
            if (cutune_space_is_valid(s, cand) != 1)
                continue;
            if (*found < max)
                memcpy(out + *found * s->np, cand, s->np * sizeof *cand);
            ++*found;
        }
    if (*found > max)
        *found = max;
    return CUTUNE_OK;
}

