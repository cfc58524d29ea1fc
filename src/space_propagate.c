/* space_propagate.c — enumeration, counting and sampling by constraint propagation: values no
 * constraint part can accept are dropped up front, and each part is checked as soon as the
 * values set so far decide it: by a table of its few combinations, or over value ranges. */
#include "space_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FILTER_COMBOS (1u << 16)   /* a part is tabled when its parameters have this few */
#define FILTER_BUDGET (1u << 22)   /* part evaluations filtering may spend */

/* One test of a part at one depth. A part whose parameters (those with more than one live
 * value; the others are constants) have few combinations gets a table per prefix of them:
 * whether the values set so far extend to a combination that satisfies it (forward checking,
 * exact). Another is run once its last parameter is set and, before that, over the ranges of
 * the parameters not set yet. */
typedef struct check {
    enum { CHECK_TABLE, CHECK_RUN, CHECK_RANGES } kind;
    const ct_part *part;
    size_t depth;
    uint8_t *table; /* CHECK_TABLE: indexed by the positions of vars[0 .. nset) */
    size_t nset;
    const int *vars;
    size_t *stride; /* index = sum of pos[vars[i]] * stride[i] */
} check;

/* What enumeration works from: each parameter's live values (those a combination satisfying
 * each tabled part uses) and the checks, by depth. */
struct space_plan {
    int lenient; /* a part that fails to compute counts as passing (cutune_space_count_failing) */
    int empty;   /* no valid configuration */
    int any_fallible; /* some part may fail to compute for some live configuration */
    uint32_t **live;  /* live[p][0 .. nlive[p]): value indices of parameter p, ascending */
    size_t *nlive;
    expr_value *fixed;  /* each parameter's first live value: the only one where nlive is 1 */
    expr_range *unset;  /* what parameter p may hold before it is set: its live values' range */
    int *effvars;       /* per part, its parameters with more than one live value */
    size_t *neff, *effat;
    check *checks;      /* by depth: checks[start[d] .. start[d + 1]) once parameter d is set */
    size_t nchecks, *start;
    uint64_t *suffix; /* suffix[d]: combinations of the live values of parameters d and on */
    size_t tail;      /* nothing is checked at depth `tail` or later */
};

void ct_plan_free(space_plan *pl)
{
    if (!pl)
        return;
    if (pl->live)
        free(pl->live[0]); /* one block holds every parameter's list */
    for (size_t i = 0; i < pl->nchecks; i++) {
        free(pl->checks[i].table);
        free(pl->checks[i].stride);
    }
    free(pl->live);
    free(pl->nlive);
    free(pl->fixed);
    free(pl->unset);
    free(pl->effvars);
    free(pl->neff);
    free(pl->effat);
    free(pl->checks);
    free(pl->start);
    free(pl->suffix);
    free(pl);
}

static int pass(const space_plan *pl, const ct_part *c, const expr_value *vals)
{
    expr_value r;
    int st = expr_run(c->prog, vals, &r);
    return st ? pl->lenient : expr_truthy(r);
}

/* ------------------------------------------------------------------- the plan ---- */

/* Part i's parameters with more than one live value (into pl->effvars). */
static void effective_vars(const cutune_space *s, space_plan *pl, size_t i)
{
    const ct_part *c = &s->parts[i];
    int *eff = pl->effvars + pl->effat[i];
    pl->neff[i] = 0;
    for (size_t j = 0; j < c->nvars; j++)
        if (pl->nlive[c->vars[j]] > 1)
            eff[pl->neff[i]++] = c->vars[j];
}

/* Runs part i over every combination of its parameters' live values, when they are few (a
 * part of one parameter always), and drops the values no satisfying combination uses: node
 * consistency for one parameter, generalised arc consistency for more. With `tables` it also
 * fills tables[j - 1] for each prefix of j parameters (see `check`), one after the other in
 * one block. Returns FILTER_SHRANK, FILTER_SAME, FILTER_SKIPPED (too many combinations) or
 * -1 when out of memory. */
enum { FILTER_SKIPPED, FILTER_SAME, FILTER_SHRANK };
static int filter_part(const cutune_space *s, space_plan *pl, size_t i, uint64_t *budget,
                       uint8_t **tables)
{
    const ct_part *c = &s->parts[i];
    effective_vars(s, pl, i);
    const int *v = pl->effvars + pl->effat[i];
    size_t k = pl->neff[i], total = 0, ntab = 0;
    uint64_t combos = 1;
    for (size_t j = 0; j < k; j++) {
        size_t n = pl->nlive[v[j]];
        combos = combos > UINT64_MAX / n ? UINT64_MAX : combos * n;
        total += n;
        ntab += (size_t)combos;
    }
    if (k > 1 && (combos > FILTER_COMBOS || combos > *budget))
        return FILTER_SKIPPED;
    *budget -= combos < *budget ? combos : *budget;
    uint8_t *seen = calloc(total ? total : 1, 1), *tab = tables ? calloc(ntab ? ntab : 1, 1) : NULL;
    size_t *pos = calloc(k ? k : 1, sizeof *pos), *base = malloc((k ? k : 1) * sizeof *base);
    if (!seen || !pos || !base || (tables && !tab)) {
        free(seen), free(tab), free(pos), free(base);
        return -1;
    }
    expr_value vals[CUTUNE_MAX_PARAMS];
    for (size_t j = 0; j < c->nvars; j++)
        vals[c->vars[j]] = pl->fixed[c->vars[j]];
    for (size_t j = 0, at = 0; j < k; at += pl->nlive[v[j]], j++)
        base[j] = at;
    for (uint64_t n = 0; n < combos; n++) {
        if (pass(pl, c, vals)) {
            size_t index = 0, off = 0, width = 1;
            for (size_t j = 0; j < k; j++) {
                seen[base[j] + pos[j]] = 1;
                index = index * pl->nlive[v[j]] + pos[j]; /* of the prefix of j + 1 */
                width *= pl->nlive[v[j]];
                if (tab)
                    tab[off + index] = 1;
                off += width;
            }
        } else if (k == 0) {
            pl->empty = 1; /* a part of constants only, and false */
        }
        for (size_t j = k; j-- > 0;) { /* next combination, the last parameter fastest */
            pos[j] = pos[j] + 1 == pl->nlive[v[j]] ? 0 : pos[j] + 1;
            vals[v[j]] = s->params[v[j]].vals[pl->live[v[j]][pos[j]]];
            if (pos[j])
                break;
        }
    }
    int shrank = 0;
    for (size_t j = 0; j < k; j++) {
        size_t kept = 0;
        for (size_t q = 0; q < pl->nlive[v[j]]; q++)
            if (seen[base[j] + q])
                pl->live[v[j]][kept++] = pl->live[v[j]][q];
        shrank |= kept < pl->nlive[v[j]];
        pl->nlive[v[j]] = kept;
        pl->empty |= kept == 0;
        if (kept)
            pl->fixed[v[j]] = s->params[v[j]].vals[pl->live[v[j]][0]];
    }
    free(seen), free(pos), free(base);
    if (tables)
        *tables = tab;
    return shrank ? FILTER_SHRANK : FILTER_SAME;
}

/* The range of parameter p's live values. */
static expr_range unset_range(const param *p, const uint32_t *live, size_t n)
{
    if (n == 1)
        return (expr_range){.kind = EXPR_EXACT, .v = p->vals[live[0]]};
    if (p->type == CUTUNE_STRING)
        return (expr_range){.kind = EXPR_ANYTHING};
    expr_range r = {.kind = EXPR_NUMBERS, .num = p->type == CUTUNE_INT ? EV_INT : EV_FLOAT,
                    .lo = INFINITY, .hi = -INFINITY};
    for (size_t j = 0; j < n; j++) {
        expr_value v = p->vals[live[j]];
        double x = v.type == EV_INT ? (double)v.u.i : v.u.f;
        r.lo = fmin(r.lo, x);
        r.hi = fmax(r.hi, x);
    }
    if (r.num == EV_INT && (fabs(r.lo) >= 9007199254740992.0 || fabs(r.hi) >= 9007199254740992.0)) {
        r.lo = nextafter(r.lo, -INFINITY); /* the conversion to double may have rounded */
        r.hi = nextafter(r.hi, INFINITY);
    }
    return r;
}

static check *add_check(space_plan *pl, size_t *cap, check c)
{
    if (pl->nchecks == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        check *grown = realloc(pl->checks, n * sizeof *grown);
        if (!grown)
            return NULL;
        pl->checks = grown;
        *cap = n;
    }
    pl->checks[pl->nchecks] = c;
    return &pl->checks[pl->nchecks++];
}

/* The checks of part i: a table for each prefix of its parameters that some values fail
 * (tab: the tables filter_part made, or NULL), else a run at its last parameter and runs over
 * ranges at the others (lenient: only when no run can fail (`fails` 0), since ranges tell
 * nothing of which runs fail, and a failing run passes there). */
static int part_checks(space_plan *pl, size_t i, const ct_part *c, uint8_t *tab, int fails,
                       size_t *cap)
{
    const int *v = pl->effvars + pl->effat[i];
    size_t k = pl->neff[i], off = 0, width = 1;
    if (k == 0)
        return 0; /* constants only: decided when filtering */
    if (!tab) {
        for (size_t j = 0; j < k; j++)
            if ((j + 1 == k || !fails) &&
                !add_check(pl, cap, (check){.kind = j + 1 == k ? CHECK_RUN : CHECK_RANGES,
                                            .part = c, .depth = (size_t)v[j]}))
                return -1;
        return 0;
    }
    for (size_t j = 0; j < k; off += width, j++) {
        width *= pl->nlive[v[j]];
        if (memchr(tab + off, 0, width) == NULL)
            continue; /* every prefix of this length extends */
        check ck = {.kind = CHECK_TABLE, .part = c, .depth = (size_t)v[j], .nset = j + 1,
                    .vars = v, .table = malloc(width), .stride = malloc((j + 1) * sizeof(size_t))};
        if (ck.table && ck.stride) {
            memcpy(ck.table, tab + off, width);
            for (size_t q = j + 1, st = 1; q-- > 0; st *= pl->nlive[v[q]])
                ck.stride[q] = st;
        }
        if (!ck.table || !ck.stride || !add_check(pl, cap, ck)) {
            free(ck.table);
            free(ck.stride);
            return -1;
        }
    }
    return 0;
}

static int by_depth(const void *pa, const void *pb)
{
    const check *a = pa, *b = pb;
    if (a->depth != b->depth)
        return a->depth < b->depth ? -1 : 1;
    if (a->kind != b->kind) /* tables are cheapest, ranges dearest */
        return a->kind < b->kind ? -1 : 1;
    return (a->part > b->part) - (a->part < b->part);
}

/* Filters until nothing changes, then once more making tables (for the parts the last round
 * ran), and lists the checks. */
static int plan_checks(const cutune_space *s, space_plan *pl)
{
    uint8_t *ran = calloc(s->nparts ? s->nparts : 1, 1);
    if (!ran)
        return -1;
    uint64_t budget = FILTER_BUDGET;
    int shrank = 1, settled = 0, st = 0;
    for (int round = 0; shrank && !pl->empty && round < 10000; round++) {
        shrank = 0;
        for (size_t i = 0; i < s->nparts && !pl->empty && st >= 0; i++) {
            st = filter_part(s, pl, i, &budget, NULL);
            ran[i] = st > FILTER_SKIPPED;
            shrank |= st == FILTER_SHRANK;
        }
        settled = !shrank;
        if (st < 0) {
            free(ran);
            return -1;
        }
    }
    for (size_t p = 0; p < s->np && !pl->empty; p++)
        pl->unset[p] = unset_range(&s->params[p], pl->live[p], pl->nlive[p]);
    /* The last round changed nothing, so running its parts again finds the same values, and
     * their tables index the final lists. */
    size_t cap = 0;
    for (size_t i = 0; i < s->nparts && !pl->empty && st >= 0; i++) {
        uint8_t *tab = NULL;
        uint64_t unlimited = UINT64_MAX;
        effective_vars(s, pl, i);
        if (settled && ran[i])
            st = filter_part(s, pl, i, &unlimited, &tab);
        if (st == FILTER_SHRANK) { /* cannot happen: the same run on the same lists */
            free(tab);
            free(ran);
            return ct_fail(CUTUNE_EINVAL, "internal error: value filtering did not settle");
        }
        int fails = 0; /* whether some run of the part may fail (asked of a lenient plan) */
        if (pl->lenient)
            expr_never_true(s->parts[i].prog, pl->unset, &fails);
        pl->any_fallible |= fails;
        if (st >= 0)
            st = part_checks(pl, i, &s->parts[i], tab, fails, &cap);
        free(tab);
    }
    free(ran);
    if (st < 0)
        return -1;
    if (pl->nchecks)
        qsort(pl->checks, pl->nchecks, sizeof *pl->checks, by_depth);
    pl->start = calloc(s->np + 1, sizeof *pl->start);
    if (!pl->start)
        return -1;
    for (size_t d = 0, k = 0; d <= s->np; d++) {
        while (k < pl->nchecks && pl->checks[k].depth < d)
            k++;
        pl->start[d] = k;
    }
    pl->tail = pl->nchecks ? pl->checks[pl->nchecks - 1].depth + 1 : 0;
    return 0;
}

int ct_plan_build(const cutune_space *s, int lenient, space_plan **out)
{
    size_t np = s->np, total = 0, nvars = 0;
    space_plan *pl = calloc(1, sizeof *pl);
    int st = pl ? CUTUNE_OK : CUTUNE_ENOMEM;
    if (pl) {
        for (size_t p = 0; p < np; p++)
            total += s->params[p].n;
        for (size_t i = 0; i < s->nparts; i++)
            nvars += s->parts[i].nvars;
        pl->lenient = lenient;
        pl->live = calloc(np, sizeof *pl->live);
        pl->nlive = malloc(np * sizeof *pl->nlive);
        pl->fixed = malloc(np * sizeof *pl->fixed);
        pl->unset = malloc(np * sizeof *pl->unset);
        pl->suffix = malloc((np + 1) * sizeof *pl->suffix);
        pl->effvars = malloc((nvars ? nvars : 1) * sizeof *pl->effvars);
        pl->neff = calloc(s->nparts ? s->nparts : 1, sizeof *pl->neff);
        pl->effat = calloc(s->nparts ? s->nparts : 1, sizeof *pl->effat);
        uint32_t *block = pl->live ? malloc(total * sizeof *block) : NULL;
        if (!block || !pl->nlive || !pl->fixed || !pl->unset || !pl->suffix || !pl->effvars ||
            !pl->neff || !pl->effat)
            st = CUTUNE_ENOMEM;
        for (size_t p = 0, at = 0; !st && p < np; at += s->params[p++].n) {
            pl->live[p] = block + at;
            pl->nlive[p] = s->params[p].n;
            pl->fixed[p] = s->params[p].vals[0];
            for (size_t j = 0; j < s->params[p].n; j++)
                pl->live[p][j] = (uint32_t)j;
        }
        if (st)
            free(block);
        for (size_t i = 1; !st && i < s->nparts; i++)
            pl->effat[i] = pl->effat[i - 1] + s->parts[i - 1].nvars;
    }
    int r = st ? 0 : plan_checks(s, pl);
    st = r < 0 ? CUTUNE_ENOMEM : r > 0 ? r : st;
    if (!st && !pl->empty) {
        pl->suffix[np] = 1;
        for (size_t p = np; p-- > 0;)
            pl->suffix[p] = pl->suffix[p + 1] * pl->nlive[p]; /* at most the raw size */
    }
    if (st) {
        ct_plan_free(pl);
        return st == CUTUNE_ENOMEM
                   ? ct_fail(st, "out of memory preparing the enumeration of a space")
                   : st;
    }
    *out = pl;
    return CUTUNE_OK;
}

/* The space's plan, built on first use; several threads may race to build it: one wins. */
const space_plan *ct_space_plan(const cutune_space *s, int *st)
{
    _Atomic(space_plan *) *slot = (_Atomic(space_plan *) *)&s->plan;
    space_plan *pl = atomic_load_explicit(slot, memory_order_acquire), *none = NULL;
    if (pl)
        return pl;
    if ((*st = ct_plan_build(s, 0, &pl)))
        return NULL;
    if (!atomic_compare_exchange_strong(slot, &none, pl)) {
        ct_plan_free(pl);
        pl = none;
    }
    return pl;
}

/* -------------------------------------------------------------------- the walk ---- */

/* A run over ranges that has dropped no prefix in this many tries is not tried again in that
 * walk: (x + y) % 7 == 3 can never be decided early, and trying costs. */
#define RANGES_GIVE_UP 1024
#define RANGES_KEEP UINT32_MAX

/* Whether the prefix set so far (vals[0..d], at positions pos[0..d] of the live lists) may
 * still lead to a valid configuration: every check at depth d holds. `tries` (NULL: try
 * every one) counts, per check, the runs over ranges that dropped nothing. */
static int node_ok(const space_plan *pl, size_t d, const size_t *pos, const expr_value *vals,
                   const expr_range *ranges, uint32_t *tries)
{
    for (size_t k = pl->start[d]; k < pl->start[d + 1]; k++) {
        const check *c = &pl->checks[k];
        if (c->kind == CHECK_TABLE) {
            size_t index = 0;
            for (size_t j = 0; j < c->nset; j++)
                index += pos[c->vars[j]] * c->stride[j];
            if (!c->table[index])
                return 0;
        } else if (c->kind == CHECK_RUN) {
            if (!pass(pl, c->part, vals))
                return 0;
        } else if (!tries || tries[k] < RANGES_GIVE_UP || tries[k] == RANGES_KEEP) {
            int never = expr_never_true(c->part->prog, ranges, NULL);
            if (tries && tries[k] != RANGES_KEEP)
                tries[k] = never ? RANGES_KEEP : tries[k] + 1;
            if (never)
                return 0;
        }
    }
    return 1;
}

/* Depth-first over the live values in ascending order, so configurations come in id order.
 * Returns what the visitor returned to stop, else 0. */
int ct_plan_walk(ct_walk *w)
{
    const cutune_space *s = w->s;
    const space_plan *pl = w->pl;
    if (pl->empty)
        return 0;
    if (!w->visit && pl->tail == 0) { /* nothing to check: every combination is valid */
        w->count = pl->suffix[0];
        return 0;
    }
    uint32_t idx[CUTUNE_MAX_PARAMS];
    size_t pos[CUTUNE_MAX_PARAMS];
    expr_value vals[CUTUNE_MAX_PARAMS];
    expr_range ranges[CUTUNE_MAX_PARAMS];
    memcpy(vals, pl->fixed, s->np * sizeof *vals);
    memcpy(ranges, pl->unset, s->np * sizeof *ranges);
    uint32_t *tries = calloc(pl->nchecks ? pl->nchecks : 1, sizeof *tries); /* NULL: all */
    size_t last = s->np - 1, d = 0;
    int stop = 0;
    pos[0] = 0;
    for (;;) {
        if (pos[d] == pl->nlive[d]) {
            ranges[d] = pl->unset[d];
            if (d == 0)
                break;
            pos[--d]++;
            continue;
        }
        if (w->steps-- == 0) {
            w->out_of_steps = 1;
            break;
        }
        idx[d] = pl->live[d][pos[d]];
        vals[d] = s->params[d].vals[idx[d]];
        ranges[d] = (expr_range){.kind = EXPR_EXACT, .v = vals[d]};
        if (!node_ok(pl, d, pos, vals, ranges, tries)) {
            pos[d]++;
        } else if (d == last) {
            w->count++;
            if (w->visit && (stop = w->visit(idx, w->user)))
                break;
            pos[d]++;
        } else if (!w->visit && d + 1 >= pl->tail) {
            w->count += pl->suffix[d + 1]; /* nothing left to check below */
            pos[d]++;
        } else {
            pos[++d] = 0;
        }
    }
    free(tries);
    return stop;
}

/* The walk behind the public call `who`: each valid configuration to `visit`, or with visit
 * NULL only their number to *count. */
static int walk_space(const cutune_space *s, const char *who, cutune_config_visitor visit,
                      void *user, uint64_t *count)
{
    if (s->np == 0)
        return ct_fail(CUTUNE_EEMPTY, "%s: the space has no parameters", who);
    int st = CUTUNE_OK;
    const space_plan *pl = ct_space_plan(s, &st);
    if (!pl)
        return st;
    ct_walk w = {.s = s, .pl = pl, .visit = visit, .user = user, .steps = UINT64_MAX};
    st = ct_plan_walk(&w);
    if (count)
        *count = w.count;
    return st;
}

int cutune_space_enumerate(const cutune_space *s, cutune_config_visitor visit, void *user)
{
    if (!s || !visit)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_enumerate: NULL argument");
    return walk_space(s, "cutune_space_enumerate", visit, user, NULL);
}

int cutune_space_count(const cutune_space *s, uint64_t *count)
{
    if (!count)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_count: count is NULL");
    *count = 0;
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_count: NULL argument");
    return walk_space(s, "cutune_space_count", NULL, NULL, count);
}

/* One draw over the live values, dropped as soon as a prefix cannot be completed. */
int ct_plan_draw(const cutune_space *s, const space_plan *pl, cutune_rng *rng,
                 uint32_t *config)
{
    expr_value vals[CUTUNE_MAX_PARAMS];
    expr_range ranges[CUTUNE_MAX_PARAMS];
    size_t pos[CUTUNE_MAX_PARAMS];
    memcpy(vals, pl->fixed, s->np * sizeof *vals);
    memcpy(ranges, pl->unset, s->np * sizeof *ranges);
    for (size_t d = 0; d < s->np; d++) {
        pos[d] = (size_t)cutune_rng_below(rng, pl->nlive[d]);
        config[d] = pl->live[d][pos[d]];
        vals[d] = s->params[d].vals[config[d]];
        ranges[d] = (expr_range){.kind = EXPR_EXACT, .v = vals[d]};
        if (!node_ok(pl, d, pos, vals, ranges, NULL))
            return 0;
    }
    return 1;
}

int ct_plan_empty(const space_plan *pl) { return pl->empty; }
int ct_plan_may_fail(const space_plan *pl) { return pl->any_fallible; }
