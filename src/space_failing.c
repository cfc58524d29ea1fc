/* space_failing.c — which configurations only a constraint that cannot be computed (an integer
 * past 64 bits, a division by zero, a type mismatch) makes invalid, for reports that say so. */
#include "space_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIND_STEPS (1ull << 24) /* search steps spent finding the first such configuration */

typedef struct first_failing {
    const cutune_space *s;
    uint32_t *config;
} first_failing;

/* Visits what the lenient plan finds valid: the first the space itself does not is one. */
static int stop_at_failing(const uint32_t *config, void *user)
{
    first_failing *f = user;
    if (cutune_space_is_valid(f->s, config) == 1)
        return 0;
    memcpy(f->config, config, f->s->np * sizeof *config);
    return 1;
}

typedef struct config_scope {
    const cutune_space *s;
    const uint32_t *config;
} config_scope;

static int lookup_value(void *user, const char *name, expr_value *out)
{
    const config_scope *c = user;
    for (size_t p = 0; p < c->s->np; p++)
        if (strcmp(c->s->params[p].name, name) == 0) {
            *out = c->s->params[p].vals[c->config[p]];
            return 0;
        }
    return -1;
}

/* Which constraint fails to compute at `config`, and why, as the tree evaluator says it
 * (operator and column). */
static void failure_reason(const cutune_space *s, const uint32_t *config, char *why,
                           size_t size)
{
    expr_value vals[CUTUNE_MAX_PARAMS], r;
    for (size_t p = 0; p < s->np; p++)
        vals[p] = s->params[p].vals[config[p]];
    for (size_t c = 0; c < s->nc; c++) {
        if (expr_run(s->cons[c].prog, vals, &r) == CUTUNE_OK)
            continue;
        char err[256] = "", shown[128];
        expr *e;
        expr_arena *arena = expr_arena_new();
        config_scope scope = {.s = s, .config = config};
        if (arena && expr_parse(s->cons[c].src, &e, err, sizeof err) == CUTUNE_OK) {
            expr_eval(e, lookup_value, &scope, arena, &r, err, sizeof err);
            expr_free(e);
        }
        expr_arena_free(arena);
        snprintf(why, size, "constraint %zu: %s (in \"%s\")", c + 1, err,
                 ct_excerpt(s->cons[c].src, expr_error_column(err), shown, sizeof shown));
        return;
    }
}

int cutune_space_count_failing(const cutune_space *s, uint64_t *count, uint32_t *first,
                               char *why, size_t why_size)
{
    if (!s || !count || (!why && why_size))
        return ct_fail(CUTUNE_EINVAL, "cutune_space_count_failing: NULL argument");
    *count = 0;
    if (why_size)
        why[0] = '\0';
    uint64_t valid;
    int st = cutune_space_count(s, &valid);
    space_plan *lenient = NULL;
    if (!st)
        st = ct_plan_build(s, 1, &lenient);
    if (st || !ct_plan_may_fail(lenient)) { /* no part can fail: nothing to find */
        ct_plan_free(lenient);
        return st;
    }
    ct_walk w = {.s = s, .pl = lenient, .steps = UINT64_MAX};
    ct_plan_walk(&w);
    *count = w.count - valid; /* the lenient plan passes everything the strict one does */
    if (*count && (first || why_size)) {
        uint32_t config[CUTUNE_MAX_PARAMS];
        first_failing f = {.s = s, .config = config};
        ct_walk find = {.s = s, .pl = lenient, .visit = stop_at_failing, .user = &f,
                        .steps = FIND_STEPS};
        if (ct_plan_walk(&find)) {
            if (first)
                memcpy(first, config, s->np * sizeof *config);
            if (why_size)
                failure_reason(s, config, why, why_size);
        }
    }
    ct_plan_free(lenient);
    return CUTUNE_OK;
}
