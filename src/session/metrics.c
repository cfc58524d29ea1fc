/* metrics.c — a session's metrics (Kernel Tuner's `metrics`: named expressions over the
 * parameters, the problem size, the time and the metrics before them) and its objective:
 * what the strategies minimise, and what the files and the report say of each configuration. */
#include "session_impl.h"
#include "space_impl.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct ct_metric {
    char *name;
    expr *e;
} ct_metric;

/* The keys of a Kernel Tuner cache entry besides the parameters: no metric may take one. */
static const char *const taken[] = {"time", "times", "time_median", "time_std", "compile_time",
                                    "verification_time", "benchmark_time", "strategy_time",
                                    "framework_time", "timestamp", "ProblemSize",
                                    "problem_size"};

void ct_session_metrics_free(cutune_session *s)
{
    for (size_t k = 0; k < s->nmetrics; k++) {
        free(s->metrics[k].name);
        expr_free(s->metrics[k].e);
    }
    free(s->metrics);
    s->metrics = NULL;
    s->nmetrics = 0;
}

static int started(const cutune_session *s, const char *call)
{
    return ct_session_not_started(s, call, "its metrics and objective are set");
}

/* ------------------------------------------------------------------- evaluation ---- */

typedef struct scope {
    const cutune_session *s;
    const uint32_t *config;      /* NULL: only whether a name is known */
    double time_ms;
    const double *values;        /* the metrics before this one */
    size_t k;
    expr_value items[3];
    expr_list problem;
} scope;

static int lookup(void *user, const char *name, expr_value *out)
{
    scope *sc = user;
    if (strcmp(name, "time") == 0) {
        *out = (expr_value){.type = EV_FLOAT, .u.f = sc->time_ms};
        return 0;
    }
    if (strcmp(name, "ProblemSize") == 0 || strcmp(name, "problem_size") == 0) {
        *out = (expr_value){.type = EV_LIST, .u.l = &sc->problem};
        return 0;
    }
    const cutune_space *sp = sc->s->space;
    for (size_t p = 0; p < sp->np; p++)
        if (strcmp(sp->params[p].name, name) == 0) {
            if (sc->config)
                *out = sp->params[p].vals[sc->config[p]];
            return 0;
        }
    for (size_t j = 0; j < sc->k; j++)
        if (strcmp(sc->s->metrics[j].name, name) == 0) {
            if (sc->values)
                *out = (expr_value){.type = EV_FLOAT, .u.f = sc->values[j]};
            return 0;
        }
    return -1;
}

/* The first n metrics of configuration i into values; why: the first that failed, and how. */
static void eval_metrics(const cutune_session *s, size_t i, size_t n, double *values,
                         char *why, size_t size)
{
    const record *r = &s->rec[i];
    for (size_t k = 0; k < n; k++)
        values[k] = NAN;
    if (why && size)
        why[0] = '\0';
    if (!r->done || isnan(r->time_ms)) {
        if (why && size)
            snprintf(why, size, "configuration %zu %s", i, r->done ? "failed" : "was not measured");
        return;
    }
    scope sc = {.s = s, .config = ct_domain_config(&s->dom, i), .time_ms = r->time_ms,
                .values = values};
    int dims = s->problem_dims;
    for (int d = 0; d < dims && d < 3; d++)
        sc.items[d] = (expr_value){.type = EV_INT, .u.i = s->problem[d]};
    sc.problem = (expr_list){.n = (size_t)(dims > 0 ? dims : 0), .items = sc.items};
    expr_arena *arena = expr_arena_new();
    for (size_t k = 0; arena && k < n; k++) {
        expr_value v;
        char err[200];
        sc.k = k;
        int st = expr_eval(s->metrics[k].e, lookup, &sc, arena, &v, err, sizeof err);
        if (!st && v.type == EV_INT)
            values[k] = (double)v.u.i;
        else if (!st && v.type == EV_FLOAT)
            values[k] = v.u.f;
        else if (!st)
            snprintf(err, sizeof err, "not a number");
        if (isnan(values[k]) && why && size && !why[0])
            snprintf(why, size, "metric %s: %s", s->metrics[k].name, err);
    }
    if (!arena && why && size)
        snprintf(why, size, "out of memory");
    expr_arena_free(arena);
}

void ct_session_metrics(const cutune_session *s, size_t i, double *values, char *why,
                        size_t size)
{
    eval_metrics(s, i, s->nmetrics, values, why, size);
}

double ct_session_cost(cutune_session *s, size_t i, const char **failure)
{
    const record *r = &s->rec[i];
    *failure = NULL;
    if (isnan(r->time_ms)) { /* a kernel's failures by Kernel Tuner's names; an objective's
                                in its own words */
        *failure = s->messages_as_failures && r->message ? r->message : r->failure;
        return NAN;
    }
    double v = r->time_ms;
    const char *name = "time";
    if (s->objective_metric) {
        double values[CT_MAX_METRICS];
        char why[200];
        size_t k = (size_t)s->objective_metric - 1;
        eval_metrics(s, i, k + 1, values, why, sizeof why);
        v = values[k];
        name = s->metrics[k].name;
        if (isnan(v)) {
            snprintf(s->objective_why, sizeof s->objective_why, "the objective %s cannot be "
                     "computed here: %s", name, why);
            *failure = s->objective_why;
            return NAN;
        }
    } else if (!s->higher_is_better) {
        return v; /* the time, as it always was */
    }
    if (!(v > 0) || isinf(v)) {
        snprintf(s->objective_why, sizeof s->objective_why, "the objective %s is %g here, "
                 "where the strategies need a positive number", name, v);
        *failure = s->objective_why;
        return NAN;
    }
    return s->higher_is_better ? 1 / v : v;
}

int ct_session_metrics_json(const cutune_session *s, size_t i, json_t *entry)
{
    if (!s->nmetrics || isnan(s->rec[i].time_ms))
        return CUTUNE_OK; /* a failed configuration has none, as in Kernel Tuner's files */
    double values[CT_MAX_METRICS];
    ct_session_metrics(s, i, values, NULL, 0);
    for (size_t k = 0; k < s->nmetrics; k++) {
        json_t *v = isfinite(values[k]) ? json_real(values[k]) : json_null();
        if (json_object_set_new(entry, s->metrics[k].name, v))
            return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    return CUTUNE_OK;
}

/* ------------------------------------------------------------------- the API ---- */

int cutune_session_add_metric(cutune_session *s, const char *name, const char *expression)
{
    if (!s || !name || !expression)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_add_metric: NULL argument");
    int st = started(s, "cutune_session_add_metric");
    if (st)
        return st;
    size_t len = strlen(name), p;
    if (!len || len > 64)
        return ct_fail(CUTUNE_EINVAL, "a metric's name is 1 to 64 bytes, not '%.80s'", name);
    for (const char *c = name; *c; c++)
        if ((unsigned char)*c < 32 || *c == 127)
            return ct_fail(CUTUNE_EINVAL, "metric '%s': a name of printable characters", name);
    for (size_t k = 0; k < sizeof taken / sizeof *taken; k++)
        if (strcmp(name, taken[k]) == 0)
            return ct_fail(CUTUNE_EINVAL, "metric '%s': the name is one of Kernel Tuner's keys "
                           "(time, times, time_median, ...): give it another", name);
    if (cutune_space_find_param(s->space, name, &p) == CUTUNE_OK)
        return ct_fail(CUTUNE_EINVAL, "metric '%s': the name is a parameter's", name);
    for (size_t k = 0; k < s->nmetrics; k++)
        if (strcmp(s->metrics[k].name, name) == 0)
            return ct_fail(CUTUNE_EINVAL, "metric '%s' is defined twice", name);
    if (s->nmetrics == CT_MAX_METRICS)
        return ct_fail(CUTUNE_ETOOBIG, "metric '%s': more than %d metrics", name, CT_MAX_METRICS);
    char err[200];
    expr *e = NULL;
    if (expr_parse(expression, &e, err, sizeof err))
        return ct_fail(CUTUNE_EPARSE, "metric '%s' (%s): %s", name, expression, err);
    /* every name it reads must be one it can read, said now rather than at each evaluation */
    const char *names[CT_MAX_EXPR_NAMES];
    size_t n = expr_names(e, names, CT_MAX_EXPR_NAMES);
    scope sc = {.s = s, .k = s->nmetrics};
    for (size_t j = 0; j < n && j < CT_MAX_EXPR_NAMES; j++) {
        expr_value v;
        if (lookup(&sc, names[j], &v)) {
            st = ct_fail(CUTUNE_ENAME, "metric '%s' (%s): unknown name '%s' (a metric reads "
                         "time, ProblemSize, the parameters and the metrics before it)", name,
                         expression, names[j]);
            expr_free(e);
            return st;
        }
    }
    ct_metric *m = realloc(s->metrics, (s->nmetrics + 1) * sizeof *m);
    char *copy = ct_strdup(name);
    if (m)
        s->metrics = m;
    if (!m || !copy) {
        free(copy);
        expr_free(e);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    s->metrics[s->nmetrics++] = (ct_metric){.name = copy, .e = e};
    return CUTUNE_OK;
}

int cutune_session_add_spec_metrics(cutune_session *s, const char *spec)
{
    if (!s || !spec)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_add_spec_metrics: NULL argument");
    json_t *root = NULL;
    int st = ct_load_json(spec, &root);
    if (st)
        return st;
    json_t *top = json_object_get(root, "Metrics"),
           *inner = json_object_get(json_object_get(root, "KernelSpecification"), "Metrics");
    json_t *list = top ? top : inner;
    const char *where = top ? "Metrics" : "KernelSpecification.Metrics";
    if (top && inner)
        st = ct_fail(CUTUNE_EINVAL, "%s: Metrics is given twice (top level and in the "
                     "KernelSpecification)", spec);
    else if (list && !json_is_null(list) && !json_is_array(list))
        st = ct_fail(CUTUNE_EINVAL, "%s: %s must be a list of {\"Name\": ..., \"Expression\": "
                     "...}", spec, where);
    for (size_t k = 0; !st && k < json_array_size(list); k++) {
        json_t *m = json_array_get(list, k), *name = json_object_get(m, "Name"),
               *ex = json_object_get(m, "Expression");
        if (!json_is_string(name) || !json_is_string(ex))
            st = ct_fail(CUTUNE_EINVAL, "%s: %s[%zu] needs a Name and an Expression (strings)",
                         spec, where, k);
        else if ((st = cutune_session_add_metric(s, json_string_value(name),
                                                 json_string_value(ex))))
            st = ct_wrap(st, "%s: %s[%zu]", spec, where, k);
    }
    json_decref(root);
    return st;
}

size_t cutune_session_num_metrics(const cutune_session *s) { return s ? s->nmetrics : 0; }

const char *cutune_session_metric_name(const cutune_session *s, size_t k)
{
    return s && k < s->nmetrics ? s->metrics[k].name : NULL;
}

double cutune_session_metric(const cutune_session *s, size_t entry, size_t k)
{
    if (!s || k >= s->nmetrics || entry >= s->dom.n)
        return NAN;
    double values[CT_MAX_METRICS];
    eval_metrics(s, entry, k + 1, values, NULL, 0);
    return values[k];
}

int cutune_session_set_objective(cutune_session *s, const char *name, int higher_is_better)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_set_objective: NULL session");
    int st = started(s, "cutune_session_set_objective");
    if (st)
        return st;
    size_t k = 0;
    if (name && strcmp(name, "time") != 0) {
        while (k < s->nmetrics && strcmp(s->metrics[k].name, name) != 0)
            k++;
        if (k == s->nmetrics) {
            char list[512] = "";
            for (size_t j = 0, n = 0; j < s->nmetrics && n < sizeof list; j++)
                n += (size_t)snprintf(list + n, sizeof list - n, ", %s", s->metrics[j].name);
            return ct_fail(CUTUNE_ENOTFOUND, "no metric '%s': the objective is time%s%s", name,
                           s->nmetrics ? " or a metric: " : " (there are no metrics)",
                           s->nmetrics ? list + 2 : "");
        }
        k++;
    }
    s->objective_metric = (int)k;
    s->higher_is_better = higher_is_better != 0;
    return CUTUNE_OK;
}

const char *cutune_session_objective_name(const cutune_session *s, int *higher_is_better)
{
    if (higher_is_better)
        *higher_is_better = s ? s->higher_is_better : 0;
    if (!s)
        return NULL;
    return s->objective_metric ? s->metrics[s->objective_metric - 1].name : "time";
}

double cutune_session_objective(const cutune_session *s, size_t entry)
{
    if (!s || entry >= s->dom.n)
        return NAN;
    if (s->objective_metric)
        return cutune_session_metric(s, entry, (size_t)s->objective_metric - 1);
    return s->rec[entry].done ? s->rec[entry].time_ms : NAN;
}
