/* expr_eval.c — evaluation of a parsed expression tree, lists included: value lists of T1
 * specs ("[32 * i for i in range(1, 32)]"), problem-size arithmetic, and constant folding.
 * Everything it makes lives in an arena freed in one go. */
#include "expr_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BOUND 16                     /* nested comprehension variables */
#define MAX_ARGS 8

typedef struct arena_block {
    struct arena_block *next;
    size_t used, size;
    max_align_t data[];
} arena_block;

struct expr_arena {
    arena_block *head;
    size_t total;
};

expr_arena *expr_arena_new(void) { return calloc(1, sizeof(expr_arena)); }

void expr_arena_free(expr_arena *a)
{
    if (!a)
        return;
    for (arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

static void *arena_alloc(expr_arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (n > CT_MAX_EXPR_ARENA || a->total + n > CT_MAX_EXPR_ARENA)
        return NULL;
    arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > 65536 ? n : 65536;
        b = malloc(sizeof *b + size);
        if (!b)
            return NULL;
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        a->total += size;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

typedef struct evalctx {
    const expr *e;
    expr_lookup_fn lookup;
    void *user;
    expr_arena *arena;
    char *err;
    size_t errsize;
    const char *bound[MAX_BOUND];
    expr_value bound_val[MAX_BOUND];
    int nbound;
    uint32_t steps;
} evalctx;

static const char *const op_text[] = {
    [OP_ADD] = "+",  [OP_SUB] = "-",  [OP_MUL] = "*",  [OP_DIV] = "/",  [OP_FLOORDIV] = "//",
    [OP_MOD] = "%",  [OP_POW] = "**", [OP_BITAND] = "&", [OP_BITOR] = "|", [OP_BITXOR] = "^",
    [OP_SHL] = "<<", [OP_SHR] = ">>", [OP_EQ] = "==", [OP_NE] = "!=", [OP_LT] = "<",
    [OP_LE] = "<=",  [OP_GT] = ">",   [OP_GE] = ">=", [OP_IN] = "in", [OP_NEG] = "-",
    [OP_POS] = "+",  [OP_INV] = "~",  [OP_NOT] = "not"};

static const char *type_name(expr_value v)
{
    static const char *const names[] = {"None", "int", "float", "str", "list"};
    return names[v.type];
}

static int fail(evalctx *c, int status, const node *nd, const char *fmt, ...) CT_PRINTF(4, 5);
static int fail(evalctx *c, int status, const node *nd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    expr_verror(c->err, c->errsize, nd->col, fmt, ap);
    va_end(ap);
    return status;
}

static int is_zero(expr_value v)
{
    return (v.type == EV_INT && v.u.i == 0) || (v.type == EV_FLOAT && v.u.f == 0.0);
}

static int op_fail(evalctx *c, int status, const node *nd, expr_value a, expr_value b)
{
    const char *op = op_text[nd->op];
    if (status != CUTUNE_EDOMAIN)
        return fail(c, status, nd, "unsupported operand types for '%s': %s and %s", op,
                    type_name(a), type_name(b));
    if ((nd->op == OP_DIV || nd->op == OP_FLOORDIV || nd->op == OP_MOD) && is_zero(b))
        return fail(c, status, nd, "'%s' divides by zero (%s %s %s)", op, type_name(a), op,
                    type_name(b));
    if (nd->op == OP_POW && is_zero(a))
        return fail(c, status, nd, "0 to a negative power divides by zero");
    if ((nd->op == OP_SHL || nd->op == OP_SHR) && b.type == EV_INT && b.u.i < 0)
        return fail(c, status, nd, "negative shift count");
    if (nd->op == OP_POW && a.type == EV_FLOAT && a.u.f < 0)
        return fail(c, status, nd, "a negative float to a fractional power is complex");
    if (a.type == EV_INT && b.type == EV_INT)
        return fail(c, status, nd, "'%s' overflows 64-bit integers (int %s int); Python's "
                    "integers have no such limit", op, op);
    return fail(c, status, nd, "'%s' overflows the float range (%s %s %s)", op, type_name(a),
                op, type_name(b));
}

static int new_list(evalctx *c, const node *nd, size_t n, expr_value *out)
{
    if (n > EXPR_MAX_LIST)
        return fail(c, CUTUNE_ETOOBIG, nd, "list of %zu elements exceeds the limit of %u", n,
                    EXPR_MAX_LIST);
    size_t bytes = sizeof(expr_list) + n * sizeof(expr_value);
    if (c->arena->total + bytes > CT_MAX_EXPR_ARENA)
        return fail(c, CUTUNE_ETOOBIG, nd, "lists of this expression need more than %zu MiB",
                    CT_MAX_EXPR_ARENA >> 20);
    expr_list *l = arena_alloc(c->arena, bytes);
    if (!l)
        return fail(c, CUTUNE_ENOMEM, nd, "out of memory building a list of %zu elements", n);
    l->n = n;
    l->items = (expr_value *)(l + 1);
    *out = (expr_value){.type = EV_LIST, .u.l = l};
    return CUTUNE_OK;
}

static int eval(evalctx *c, int n, expr_value *out);

static int list_binop(evalctx *c, const node *nd, expr_value a, expr_value b, expr_value *out)
{
    int st;
    if (nd->op == OP_ADD && a.type == EV_LIST && b.type == EV_LIST) {
        if ((st = new_list(c, nd, a.u.l->n + b.u.l->n, out)))
            return st;
        memcpy(out->u.l->items, a.u.l->items, a.u.l->n * sizeof(expr_value));
        memcpy(out->u.l->items + a.u.l->n, b.u.l->items, b.u.l->n * sizeof(expr_value));
        return CUTUNE_OK;
    }
    if (nd->op == OP_MUL && (a.type == EV_INT || b.type == EV_INT)) {
        expr_value list = a.type == EV_LIST ? a : b;
        int64_t times = a.type == EV_INT ? a.u.i : b.u.i;
        if (times < 0 || list.u.l->n == 0)
            times = 0;
        if (list.u.l->n && (uint64_t)times > EXPR_MAX_LIST / list.u.l->n)
            return fail(c, CUTUNE_ETOOBIG, nd, "repeated list exceeds %u elements",
                        EXPR_MAX_LIST);
        if ((st = new_list(c, nd, list.u.l->n * (size_t)times, out)))
            return st;
        for (int64_t t = 0; t < times; t++)
            memcpy(out->u.l->items + (size_t)t * list.u.l->n, list.u.l->items,
                   list.u.l->n * sizeof(expr_value));
        return CUTUNE_OK;
    }
    if ((nd->op == OP_EQ || nd->op == OP_NE) && a.type == EV_LIST && b.type == EV_LIST) {
        int same = a.u.l->n == b.u.l->n;
        for (size_t i = 0; same && i < a.u.l->n; i++)
            same = expr_equal(a.u.l->items[i], b.u.l->items[i]);
        *out = (expr_value){.type = EV_INT, .u.i = same == (nd->op == OP_EQ)};
        return CUTUNE_OK;
    }
    return op_fail(c, CUTUNE_ETYPE, nd, a, b);
}

static int eval_range(evalctx *c, const node *nd, const expr_value *args, size_t n,
                      expr_value *out)
{
    if (n < 1 || n > 3)
        return fail(c, CUTUNE_ETYPE, nd, "range() takes 1 to 3 arguments, not %zu", n);
    int64_t v[3] = {0, 0, 1};
    for (size_t i = 0; i < n; i++)
        if (args[i].type != EV_INT)
            return fail(c, CUTUNE_ETYPE, nd, "range() needs int arguments, not %s",
                        type_name(args[i]));
    if (n == 1)
        v[1] = args[0].u.i;
    else
        for (size_t i = 0; i < n; i++)
            v[i] = args[i].u.i;
    if (v[2] == 0)
        return fail(c, CUTUNE_EDOMAIN, nd, "range() step must not be zero");
    /* number of elements, computed without overflow */
    long double span = (long double)v[1] - (long double)v[0];
    long double count = span / (long double)v[2];
    size_t len = 0;
    if (count > 0) {
        long double whole = (span + (long double)v[2] - (v[2] > 0 ? 1 : -1)) / (long double)v[2];
        if (whole > (long double)EXPR_MAX_LIST)
            return fail(c, CUTUNE_ETOOBIG, nd, "range() of %.0Lf elements exceeds the limit of %u",
                        whole, EXPR_MAX_LIST);
        len = (size_t)whole;
    }
    int st = new_list(c, nd, len, out);
    for (size_t i = 0; !st && i < len; i++)
        out->u.l->items[i] = (expr_value){.type = EV_INT, .u.i = v[0] + (int64_t)i * v[2]};
    return st;
}

static int eval_call(evalctx *c, const node *nd, expr_value *out)
{
    expr_value args[MAX_ARGS];
    size_t n = 0;
    for (int a = nd->a; a >= 0; a = c->e->nodes[a].next) {
        if (n == MAX_ARGS)
            return fail(c, CUTUNE_EINVAL, nd, "%s() called with more than %d arguments",
                        nd->v.u.s, MAX_ARGS);
        int st = eval(c, a, &args[n++]);
        if (st)
            return st;
    }
    const char *name = nd->v.u.s;
    if (strcmp(name, "range") == 0)
        return eval_range(c, nd, args, n, out);
    if (strcmp(name, "list") == 0 && n == 1 && args[0].type == EV_LIST) {
        *out = args[0];
        return CUTUNE_OK;
    }
    if (strcmp(name, "len") == 0 && n == 1 && args[0].type == EV_LIST) {
        *out = (expr_value){.type = EV_INT, .u.i = (int64_t)args[0].u.l->n};
        return CUTUNE_OK;
    }
    if (strcmp(name, "sum") == 0 && n == 1 && args[0].type == EV_LIST) {
        expr_value total = {.type = EV_INT, .u.i = 0};
        for (size_t i = 0; i < args[0].u.l->n; i++)
            if (expr_binop(OP_ADD, total, args[0].u.l->items[i], &total))
                return fail(c, CUTUNE_ETYPE, nd, "sum() of a list that is not all numbers");
        *out = total;
        return CUTUNE_OK;
    }
    /* min/max of a single list: over its items */
    const expr_value *items = args;
    if (n == 1 && args[0].type == EV_LIST && (!strcmp(name, "min") || !strcmp(name, "max"))) {
        if (args[0].u.l->n == 0)
            return fail(c, CUTUNE_EINVAL, nd, "%s() of an empty list", name);
        items = args[0].u.l->items;
        n = args[0].u.l->n;
    }
    int st = expr_builtin_scalar(name, items, n, out);
    if (st == CUTUNE_ENAME)
        return fail(c, st, nd, "unknown function '%s' (known: range, len, list, sum, min, max, "
                    "abs, int, float)", name);
    if (st)
        return fail(c, st, nd, "bad arguments to %s()", name);
    return CUTUNE_OK;
}

static int eval_comprehension(evalctx *c, const node *nd, expr_value *out)
{
    expr_value iter;
    int st = eval(c, nd->b, &iter);
    if (st)
        return st;
    if (iter.type != EV_LIST)
        return fail(c, CUTUNE_ETYPE, nd, "cannot iterate over %s", type_name(iter));
    if (c->nbound == MAX_BOUND)
        return fail(c, CUTUNE_EINVAL, nd, "comprehensions nested too deeply");
    if ((st = new_list(c, nd, iter.u.l->n, out)))
        return st;
    size_t kept = 0;
    int slot = c->nbound++;
    c->bound[slot] = nd->v.u.s;
    for (size_t i = 0; !st && i < iter.u.l->n; i++) {
        c->bound_val[slot] = iter.u.l->items[i];
        expr_value keep = {.type = EV_INT, .u.i = 1};
        if (nd->c >= 0 && (st = eval(c, nd->c, &keep)))
            break;
        if (expr_truthy(keep))
            st = eval(c, nd->a, &out->u.l->items[kept++]);
    }
    c->nbound--;
    out->u.l->n = kept;
    return st;
}

static int eval(evalctx *c, int n, expr_value *out)
{
    const node *nd = &c->e->nodes[n];
    expr_value a, b;
    int st;
    if (++c->steps > CT_MAX_EXPR_STEPS)
        return fail(c, CUTUNE_ETOOBIG, nd, "evaluation takes more than %u steps", CT_MAX_EXPR_STEPS);
    switch (nd->kind) {
    case N_CONST:
        *out = nd->v;
        return CUTUNE_OK;
    case N_NAME:
        for (int i = c->nbound - 1; i >= 0; i--)
            if (strcmp(c->bound[i], nd->v.u.s) == 0) {
                *out = c->bound_val[i];
                return CUTUNE_OK;
            }
        if (c->lookup && c->lookup(c->user, nd->v.u.s, out) == 0)
            return CUTUNE_OK;
        return fail(c, CUTUNE_ENAME, nd, "unknown name '%s'", nd->v.u.s);
    case N_UNARY:
    case N_NOT:
        if ((st = eval(c, nd->a, &a)))
            return st;
        st = expr_unop(nd->kind == N_NOT ? OP_NOT : nd->op, a, out);
        if (st == CUTUNE_EDOMAIN)
            return fail(c, st, nd, "unary '%s' overflows 64-bit integers", op_text[nd->op]);
        if (st)
            return fail(c, st, nd, "bad operand for unary '%s': %s", op_text[nd->op],
                        type_name(a));
        return CUTUNE_OK;
    case N_BINARY:
        if ((st = eval(c, nd->a, &a)) || (st = eval(c, nd->b, &b)))
            return st;
        if (a.type == EV_LIST || b.type == EV_LIST)
            return list_binop(c, nd, a, b, out);
        st = expr_binop(nd->op, a, b, out);
        return st ? op_fail(c, st, nd, a, b) : CUTUNE_OK;
    case N_AND:
    case N_OR:
        if ((st = eval(c, nd->a, out)))
            return st;
        if (expr_truthy(*out) == (nd->kind == N_OR))
            return CUTUNE_OK;
        return eval(c, nd->b, out);
    case N_COND:
        if ((st = eval(c, nd->c, &a)))
            return st;
        return eval(c, expr_truthy(a) ? nd->a : nd->b, out);
    case N_IN: {
        if ((st = eval(c, nd->a, &a)) || (st = eval(c, nd->b, &b)))
            return st;
        int found = 0;
        if (b.type == EV_LIST) {
            for (size_t i = 0; !found && i < b.u.l->n; i++)
                found = expr_equal(a, b.u.l->items[i]);
        } else if (b.type == EV_STR && a.type == EV_STR) {
            found = strstr(b.u.s, a.u.s) != NULL;
        } else {
            return fail(c, CUTUNE_ETYPE, nd, "'in' needs a list on its right, not %s",
                        type_name(b));
        }
        *out = (expr_value){.type = EV_INT, .u.i = found != nd->c};
        return CUTUNE_OK;
    }
    case N_LIST: {
        size_t count = 0;
        for (int i = nd->a; i >= 0; i = c->e->nodes[i].next)
            count++;
        if ((st = new_list(c, nd, count, out)))
            return st;
        size_t k = 0;
        for (int i = nd->a; i >= 0; i = c->e->nodes[i].next)
            if ((st = eval(c, i, &out->u.l->items[k++])))
                return st;
        return CUTUNE_OK;
    }
    case N_COMP:
        return eval_comprehension(c, nd, out);
    case N_CALL:
        return eval_call(c, nd, out);
    case N_INDEX:
        if ((st = eval(c, nd->a, &a)) || (st = eval(c, nd->b, &b)))
            return st;
        if (a.type != EV_LIST || b.type != EV_INT)
            return fail(c, CUTUNE_ETYPE, nd, "cannot index %s with %s", type_name(a),
                        type_name(b));
        int64_t i = b.u.i < 0 ? b.u.i + (int64_t)a.u.l->n : b.u.i;
        if (i < 0 || (uint64_t)i >= a.u.l->n)
            return fail(c, CUTUNE_ERANGE, nd, "index %lld out of range for a list of %zu",
                        (long long)b.u.i, a.u.l->n);
        *out = a.u.l->items[i];
        return CUTUNE_OK;
    }
    return fail(c, CUTUNE_EINVAL, nd, "internal error: unknown node kind %d", nd->kind);
}

int expr_eval(const expr *e, expr_lookup_fn lookup, void *user, expr_arena *arena,
              expr_value *out, char *err, size_t errsize)
{
    evalctx c = {.e = e, .lookup = lookup, .user = user, .arena = arena, .err = err,
                 .errsize = errsize};
    return eval(&c, e->root, out);
}

/* Evaluates the subtree at `root` alone (no free names): used for constant folding. */
int expr_eval_node(const expr *e, int root, expr_arena *arena, expr_value *out, char *err,
                   size_t errsize)
{
    evalctx c = {.e = e, .arena = arena, .err = err, .errsize = errsize};
    return eval(&c, root, out);
}
