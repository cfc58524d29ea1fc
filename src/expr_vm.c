/* expr_vm.c — constraints compiled once to a small stack bytecode (constants folded, names
 * resolved to parameter numbers) and run without allocating: the hot loop of enumeration. */
#include "expr_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


const char *const expr_builtin_names[EXPR_NUM_BUILTINS] = {"min", "max", "abs", "int",
                                                           "float"};

typedef struct compiler {
    const expr *e;
    expr_prog *p;
    const char *const *names;
    size_t nnames;
    int depth, max_var;
    int no_fold; /* inside a constant subtree whose evaluation failed: don't retry below */
    char *err;
    size_t errsize;
} compiler;

static int cfail(compiler *c, int status, const node *nd, const char *fmt, ...) CT_PRINTF(4, 5);
static int cfail(compiler *c, int status, const node *nd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    expr_verror(c->err, c->errsize, nd->col, fmt, ap);
    va_end(ap);
    return status;
}

static int grow(void **ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap * 2 : 16;
    while (cap2 < need)
        cap2 *= 2;
    void *q = realloc(*ptr, cap2 * elem);
    if (!q)
        return -1;
    *ptr = q;
    *cap = cap2;
    return 0;
}

static int emit(compiler *c, const node *nd, int kind, int sub, int32_t arg, int stack_change)
{
    expr_prog *p = c->p;
    if (grow((void **)&p->code, &p->cap, p->n + 1, sizeof *p->code))
        return cfail(c, CUTUNE_ENOMEM, nd, "out of memory");
    p->code[p->n++] = (instr){.kind = (uint8_t)kind, .sub = (uint8_t)sub, .arg = arg};
    c->depth += stack_change;
    if (c->depth > p->max_depth)
        p->max_depth = c->depth;
    if (c->depth > CT_MAX_EXPR_STACK)
        return cfail(c, CUTUNE_ETOOBIG, nd, "expression too complex (stack deeper than %d)",
                     CT_MAX_EXPR_STACK);
    return CUTUNE_OK;
}

/* Copies a scalar (string contents included) into the program. */
static int own_value(compiler *c, const node *nd, expr_value v, expr_value *out)
{
    *out = v;
    if (v.type == EV_LIST)
        return cfail(c, CUTUNE_ETYPE, nd, "a list is not allowed here in a constraint");
    if (v.type != EV_STR)
        return CUTUNE_OK;
    expr_prog *p = c->p;
    char *s = grow((void **)&p->strs, &p->strcap, p->nstr + 1, sizeof *p->strs)
                  ? NULL
                  : malloc(strlen(v.u.s) + 1);
    if (!s)
        return cfail(c, CUTUNE_ENOMEM, nd, "out of memory");
    strcpy(s, v.u.s);
    p->strs[p->nstr++] = s;
    out->u.s = s;
    return CUTUNE_OK;
}

static int emit_const(compiler *c, const node *nd, expr_value v)
{
    expr_prog *p = c->p;
    if (grow((void **)&p->consts, &p->constcap, p->nconst + 1, sizeof *p->consts))
        return cfail(c, CUTUNE_ENOMEM, nd, "out of memory");
    int st = own_value(c, nd, v, &p->consts[p->nconst]);
    if (st)
        return st;
    return emit(c, nd, I_CONST, 0, (int32_t)p->nconst++, 1);
}

/* Evaluates a subtree that reads no parameter; 0 when it gave a value. */
static int fold(compiler *c, int n, expr_arena *arena, expr_value *out)
{
    if (collect_free_names(c->e, n, NULL, 0) > 0)
        return -1;
    char err[8];
    return expr_eval_node(c->e, n, arena, out, err, sizeof err) ? -1 : 0;
}

static int compile_node(compiler *c, int n);
static int compile_node_unfolded(compiler *c, int n);

static int compile_in(compiler *c, const node *nd)
{
    expr_arena *arena = expr_arena_new();
    expr_value set;
    int st = CUTUNE_OK;
    if (!arena)
        return cfail(c, CUTUNE_ENOMEM, nd, "out of memory");
    if (fold(c, nd->b, arena, &set) || set.type != EV_LIST) {
        st = cfail(c, CUTUNE_ETYPE, nd,
                   "the right side of 'in' must be a constant list in a constraint");
        goto done;
    }
    expr_prog *p = c->p;
    if (grow((void **)&p->lists, &p->listcap, p->nlist + 1, sizeof *p->lists)) {
        st = cfail(c, CUTUNE_ENOMEM, nd, "out of memory");
        goto done;
    }
    expr_list *l = &p->lists[p->nlist];
    l->n = 0;
    l->items = malloc((set.u.l->n ? set.u.l->n : 1) * sizeof(expr_value));
    if (!l->items) {
        st = cfail(c, CUTUNE_ENOMEM, nd, "out of memory");
        goto done;
    }
    p->nlist++;
    for (size_t i = 0; !st && i < set.u.l->n; i++)
        st = own_value(c, nd, set.u.l->items[i], &l->items[l->n++]);
    if (!st && !(st = compile_node(c, nd->a)))
        st = emit(c, nd, I_IN, nd->c, (int32_t)(p->nlist - 1), 0);
done:
    expr_arena_free(arena);
    return st;
}

static int compile_call(compiler *c, const node *nd)
{
    size_t fn = 0;
    while (fn < sizeof expr_builtin_names / sizeof *expr_builtin_names &&
           strcmp(expr_builtin_names[fn], nd->v.u.s) != 0)
        fn++;
    if (fn == sizeof expr_builtin_names / sizeof *expr_builtin_names)
        return cfail(c, CUTUNE_ENAME, nd,
                     "function '%s' is not allowed in a constraint (allowed: min, max, abs, int, "
                     "float)", nd->v.u.s);
    int nargs = 0, st;
    for (int a = nd->a; a >= 0; a = c->e->nodes[a].next, nargs++)
        if ((st = compile_node(c, a)))
            return st;
    if (nargs == 0 || nargs > 8)
        return cfail(c, CUTUNE_ETYPE, nd, "%s() takes 1 to 8 arguments", nd->v.u.s);
    return emit(c, nd, I_CALL, (int)fn, nargs, 1 - nargs);
}

static int patch_here(compiler *c, size_t at)
{
    c->p->code[at].arg = (int32_t)c->p->n;
    return CUTUNE_OK;
}

/* A part that reads no parameter is computed once, here. When that fails (an overflow, a
 * division by zero, a type mismatch) the constraint is refused: it would fail for every
 * configuration that reaches it, and where Python's unbounded integers give a value cutune
 * cannot, the user has to know. Unknown functions and lists fall through to the compiler,
 * which says why they are not allowed. */
static int compile_node(compiler *c, int n)
{
    const node *nd = &c->e->nodes[n];
    int st;
    if (!c->no_fold && nd->kind != N_CONST && nd->kind != N_LIST && nd->kind != N_COMP &&
        collect_free_names(c->e, n, NULL, 0) == 0) {
        expr_arena *arena = expr_arena_new();
        if (!arena)
            return cfail(c, CUTUNE_ENOMEM, nd, "out of memory");
        expr_value v;
        st = expr_eval_node(c->e, n, arena, &v, c->err, c->errsize);
        int folded = st == CUTUNE_OK && v.type != EV_LIST;
        if (folded)
            st = emit_const(c, nd, v);
        expr_arena_free(arena);
        if (folded || (st && st != CUTUNE_ENAME))
            return st;
        c->no_fold = 1; /* a list, or a call the compiler will refuse with its reason */
        st = compile_node_unfolded(c, n);
        c->no_fold = 0;
        return st;
    }
    return compile_node_unfolded(c, n);
}

static int compile_node_unfolded(compiler *c, int n)
{
    const node *nd = &c->e->nodes[n];
    int st;
    switch (nd->kind) {
    case N_CONST:
        return emit_const(c, nd, nd->v);
    case N_NAME:
        for (size_t i = 0; i < c->nnames; i++)
            if (strcmp(c->names[i], nd->v.u.s) == 0) {
                if ((int)i > c->max_var)
                    c->max_var = (int)i;
                return emit(c, nd, I_VAR, 0, (int32_t)i, 1);
            }
        return cfail(c, CUTUNE_ENAME, nd, "unknown name '%s'", nd->v.u.s);
    case N_UNARY:
    case N_NOT:
        if ((st = compile_node(c, nd->a)))
            return st;
        return emit(c, nd, I_UNARY, nd->kind == N_NOT ? OP_NOT : nd->op, 0, 0);
    case N_BINARY:
        if ((st = compile_node(c, nd->a)) || (st = compile_node(c, nd->b)))
            return st;
        return emit(c, nd, I_BINARY, nd->op, 0, -1);
    case N_AND:
    case N_OR: {
        if ((st = compile_node(c, nd->a)))
            return st;
        size_t jump = c->p->n;
        if ((st = emit(c, nd, nd->kind == N_AND ? I_JF_KEEP : I_JT_KEEP, 0, 0, -1)) ||
            (st = compile_node(c, nd->b)))
            return st;
        return patch_here(c, jump);
    }
    case N_COND: {
        if ((st = compile_node(c, nd->c)))
            return st;
        size_t to_else = c->p->n;
        if ((st = emit(c, nd, I_JF_POP, 0, 0, -1)) || (st = compile_node(c, nd->a)))
            return st;
        size_t to_end = c->p->n;
        if ((st = emit(c, nd, I_JMP, 0, 0, -1)))
            return st;
        patch_here(c, to_else);
        if ((st = compile_node(c, nd->b)))
            return st;
        return patch_here(c, to_end);
    }
    case N_IN:
        return compile_in(c, nd);
    case N_CALL:
        return compile_call(c, nd);
    default:
        return cfail(c, CUTUNE_ETYPE, nd, "a list is not allowed here in a constraint");
    }
}

int expr_compile_at(const expr *e, int root, const char *const *names, size_t nnames,
                    expr_prog **out, int *max_var, char *err, size_t errsize)
{
    *out = NULL;
    expr_prog *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errsize, "out of memory");
        return CUTUNE_ENOMEM;
    }
    compiler c = {.e = e, .p = p, .names = names, .nnames = nnames, .max_var = -1, .err = err,
                  .errsize = errsize};
    int st = compile_node(&c, root);
    if (!st)
        st = emit(&c, &e->nodes[root], I_RET, 0, 0, 0);
    if (st) {
        expr_prog_free(p);
        return st;
    }
    if (max_var)
        *max_var = c.max_var;
    *out = p;
    return CUTUNE_OK;
}

int expr_compile(const expr *e, const char *const *names, size_t nnames, expr_prog **out,
                 int *max_var, char *err, size_t errsize)
{
    return expr_compile_at(e, e->root, names, nnames, out, max_var, err, errsize);
}

static size_t conjuncts(const expr *e, int n, int *roots, size_t count, size_t max)
{
    if (e->nodes[n].kind == N_AND) {
        count = conjuncts(e, e->nodes[n].a, roots, count, max);
        return conjuncts(e, e->nodes[n].b, roots, count, max);
    }
    if (count < max)
        roots[count] = n;
    return count + 1;
}

size_t expr_conjuncts(const expr *e, int *roots, size_t max)
{
    return conjuncts(e, e->root, roots, 0, max);
}

size_t expr_prog_vars(const expr_prog *p, int *vars)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->code[i].kind != I_VAR)
            continue;
        int v = p->code[i].arg;
        size_t at = n;
        while (at > 0 && vars[at - 1] > v)
            at--;
        if (at > 0 && vars[at - 1] == v)
            continue;
        memmove(vars + at + 1, vars + at, (n - at) * sizeof *vars);
        vars[at] = v;
        n++;
    }
    return n;
}

void expr_prog_free(expr_prog *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nlist; i++)
        free(p->lists[i].items);
    for (size_t i = 0; i < p->nstr; i++)
        free(p->strs[i]);
    free(p->lists);
    free(p->strs);
    free(p->consts);
    free(p->code);
    free(p);
}

int expr_run(const expr_prog *p, const expr_value *vars, expr_value *out)
{
    expr_value stack[CT_MAX_EXPR_STACK];
    int sp = -1, st;
    for (const instr *ip = p->code;; ip++) {
        switch (ip->kind) {
        case I_CONST:
            stack[++sp] = p->consts[ip->arg];
            break;
        case I_VAR:
            stack[++sp] = vars[ip->arg];
            break;
        case I_UNARY:
            if ((st = expr_unop(ip->sub, stack[sp], &stack[sp])))
                return st;
            break;
        case I_BINARY: {
            expr_value *a = &stack[sp - 1], *b = &stack[sp];
            st = a->type == EV_INT && b->type == EV_INT ? expr_int_binop(ip->sub, a->u.i, b->u.i, a)
                                                        : expr_binop(ip->sub, *a, *b, a);
            if (st)
                return st;
            sp--;
            break;
        }
        case I_JF_KEEP:
            if (!expr_truthy(stack[sp]))
                ip = p->code + ip->arg - 1;
            else
                sp--;
            break;
        case I_JT_KEEP:
            if (expr_truthy(stack[sp]))
                ip = p->code + ip->arg - 1;
            else
                sp--;
            break;
        case I_JF_POP:
            if (!expr_truthy(stack[sp--]))
                ip = p->code + ip->arg - 1;
            break;
        case I_JMP:
            ip = p->code + ip->arg - 1;
            break;
        case I_IN: {
            const expr_list *l = &p->lists[ip->arg];
            int found = 0;
            for (size_t i = 0; !found && i < l->n; i++)
                found = expr_equal(stack[sp], l->items[i]);
            stack[sp] = (expr_value){.type = EV_INT, .u.i = found != ip->sub};
            break;
        }
        case I_CALL:
            sp -= ip->arg - 1;
            if ((st = expr_builtin_scalar(expr_builtin_names[ip->sub], &stack[sp], (size_t)ip->arg,
                                          &stack[sp])))
                return st;
            break;
        case I_RET:
            *out = stack[sp];
            return CUTUNE_OK;
        }
    }
}
