/* expr_range.c — runs constraint bytecode over ranges of values instead of values, to decide a
 * constraint before all its parameters are set: "never true" lets enumeration drop a prefix. */
#include "expr_impl.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define RANGE_STACK 32   /* programs deeper than this are not run over ranges */
#define RANGE_PATHS 32   /* branches whose condition is undecided: each runs both ways */
#define TWO53 9007199254740992.0
#define TWO63 9223372036854775808.0

/* A result is sound when it holds every value a run that does not fail could give: bounds are
 * rounded outward wherever doubles cannot hold the exact value. A run that surely fails counts
 * as "never true" (a configuration whose constraint fails is invalid). Every number is finite:
 * a run over finite values gives only finite ones (an infinite result fails, as Python's
 * OverflowError), so infinite bounds only say "unbounded"; a run that reads an infinity or NaN
 * is not decided (see finite). */
typedef struct range_run {
    const expr_prog *p;
    const expr_range *vars;
    int paths;
    int may_fail;
    int want_fail; /* follow every path to learn may_fail, instead of stopping at a maybe */
} range_run;

enum { T_FALSE = 0, T_TRUE = 1, T_UNKNOWN = -1 };

static expr_range exact(expr_value v) { return (expr_range){.kind = EXPR_EXACT, .v = v}; }
static expr_range anything(void) { return (expr_range){.kind = EXPR_ANYTHING}; }
static expr_range boolean(void)
{
    return (expr_range){.kind = EXPR_NUMBERS, .num = EV_INT, .lo = 0, .hi = 1};
}
static expr_range truth_value(int t)
{
    return t == T_UNKNOWN ? boolean() : exact((expr_value){.type = EV_INT, .u.i = t});
}

/* What is left of a range once its value is known to be falsy: of numbers, only zero. */
static expr_range falsy(expr_range r)
{
    if (r.kind != EXPR_NUMBERS)
        return r;
    if (r.num == EV_INT || r.num == EV_FLOAT)
        return exact(r.num == EV_INT ? (expr_value){.type = EV_INT, .u.i = 0}
                                     : (expr_value){.type = EV_FLOAT, .u.f = 0.0});
    return (expr_range){.kind = EXPR_NUMBERS, .lo = 0, .hi = 0};
}

/* Bounds of a number or a range of numbers; -1 for anything else. */
static int bounds(const expr_range *r, double *lo, double *hi, int *num)
{
    if (r->kind == EXPR_NUMBERS) {
        *lo = r->lo, *hi = r->hi, *num = r->num;
        return 0;
    }
    if (r->kind != EXPR_EXACT || (r->v.type != EV_INT && r->v.type != EV_FLOAT))
        return -1;
    *num = r->v.type;
    *lo = *hi = r->v.type == EV_INT ? (double)r->v.u.i : r->v.u.f;
    if (r->v.type == EV_INT && fabs(*lo) >= TWO53) { /* the conversion may have rounded */
        *lo = nextafter(*lo, -INFINITY);
        *hi = nextafter(*hi, INFINITY);
    }
    return 0;
}

static int truth(const expr_range *r)
{
    if (r->kind == EXPR_EXACT)
        return expr_truthy(r->v);
    if (r->kind == EXPR_NUMBERS) {
        if (r->lo > 0 || r->hi < 0)
            return T_TRUE;
        if (r->lo == 0 && r->hi == 0)
            return T_FALSE;
    }
    return T_UNKNOWN;
}

/* The type of a result of arithmetic on numbers of types a and b. */
static int result_num(int a, int b)
{
    if (a == EV_INT && b == EV_INT)
        return EV_INT;
    return a && b ? EV_FLOAT : 0;
}

/* A range [lo, hi] of `num` numbers computed in doubles; `exact` when no rounding happened. Ints
 * past 64 bits and infinite floats are failures in a real run, so those runs leave the range. */
static expr_range numbers(range_run *rr, double lo, double hi, int num, int exact_bounds)
{
    if (isnan(lo) || isnan(hi)) {
        rr->may_fail = 1;
        return anything();
    }
    if (!exact_bounds) {
        lo = nextafter(lo, -INFINITY);
        hi = nextafter(hi, INFINITY);
    }
    if (num != EV_FLOAT && (lo < -TWO63 || hi >= TWO63)) {
        rr->may_fail = 1;
        if (num == EV_INT) {
            lo = lo < -TWO63 ? -TWO63 : lo;
            hi = hi >= TWO63 ? TWO63 : hi;
        }
    }
    if (num != EV_INT && (isinf(lo) || isinf(hi)))
        rr->may_fail = 1;
    if (num == EV_INT) {
        lo = floor(lo);
        hi = ceil(hi);
    }
    return (expr_range){.kind = EXPR_NUMBERS, .num = num, .lo = lo, .hi = hi};
}

static int small_ints(double lo, double hi, int num)
{
    return num == EV_INT && fabs(lo) <= TWO53 && fabs(hi) <= TWO53;
}

static void min_max4(double a, double b, double c, double d, double *lo, double *hi)
{
    *lo = fmin(fmin(a, b), fmin(c, d));
    *hi = fmax(fmax(a, b), fmax(c, d));
}

/* Comparison of two ranges of numbers: true, false or unknown. */
static int compare_numbers(int op, double alo, double ahi, double blo, double bhi)
{
    switch (op) {
    case OP_LT: return ahi < blo ? T_TRUE : alo >= bhi ? T_FALSE : T_UNKNOWN;
    case OP_LE: return ahi <= blo ? T_TRUE : alo > bhi ? T_FALSE : T_UNKNOWN;
    case OP_GT: return alo > bhi ? T_TRUE : ahi <= blo ? T_FALSE : T_UNKNOWN;
    case OP_GE: return alo >= bhi ? T_TRUE : ahi < blo ? T_FALSE : T_UNKNOWN;
    case OP_EQ: return ahi < blo || bhi < alo ? T_FALSE : T_UNKNOWN;
    case OP_NE: return ahi < blo || bhi < alo ? T_TRUE : T_UNKNOWN;
    }
    return T_UNKNOWN;
}

static int is_string(const expr_range *r) { return r->kind == EXPR_EXACT && r->v.type == EV_STR; }

/* a op b over ranges; -1 when every run fails here. */
static int range_binop(range_run *rr, int op, expr_range a, expr_range b, expr_range *out)
{
    if (a.kind == EXPR_EXACT && b.kind == EXPR_EXACT) {
        int st = expr_binop(op, a.v, b.v, &out->v);
        out->kind = EXPR_EXACT;
        if (st)
            rr->may_fail = 1;
        return st ? -1 : 0;
    }
    double alo, ahi, blo, bhi, lo, hi;
    int an, bn;
    int numeric = bounds(&a, &alo, &ahi, &an) == 0 && bounds(&b, &blo, &bhi, &bn) == 0;
    if (op >= OP_EQ && op <= OP_GE) {
        if (numeric) {
            *out = truth_value(compare_numbers(op, alo, ahi, blo, bhi));
            return 0;
        }
        int mixed = (is_string(&a) && b.kind == EXPR_NUMBERS) ||
                    (is_string(&b) && a.kind == EXPR_NUMBERS); /* a number and a string */
        if (mixed && (op == OP_EQ || op == OP_NE)) {
            *out = truth_value(op == OP_NE);
            return 0;
        }
        if (mixed) {
            rr->may_fail = 1;
            return -1; /* numbers and strings do not order */
        }
        if (op != OP_EQ && op != OP_NE)
            rr->may_fail = 1;
        *out = boolean();
        return 0;
    }
    if (!numeric) {
        rr->may_fail = 1;
        *out = anything();
        return 0;
    }
    int num = result_num(an, bn);
    if ((op == OP_FLOORDIV || op == OP_MOD) && num != EV_FLOAT && alo <= -TWO63 && blo <= -1 &&
        bhi >= -1)
        rr->may_fail = 1; /* INT64_MIN // -1 and INT64_MIN % -1 overflow */
    switch (op) {
    case OP_ADD:
        *out = numbers(rr, alo + blo, ahi + bhi, num, small_ints(alo, ahi, num) &&
                       small_ints(blo, bhi, num) && small_ints(alo + blo, ahi + bhi, num));
        return 0;
    case OP_SUB:
        *out = numbers(rr, alo - bhi, ahi - blo, num, small_ints(alo, ahi, num) &&
                       small_ints(blo, bhi, num) && small_ints(alo - bhi, ahi - blo, num));
        return 0;
    case OP_MUL:
        min_max4(alo * blo, alo * bhi, ahi * blo, ahi * bhi, &lo, &hi);
        *out = numbers(rr, lo, hi, num, small_ints(lo, hi, num));
        return 0;
    case OP_DIV:
    case OP_FLOORDIV:
        if (blo <= 0 && bhi >= 0) { /* the divisor may be zero */
            rr->may_fail = 1;
            *out = (expr_range){.kind = EXPR_NUMBERS, .num = op == OP_DIV ? EV_FLOAT : num,
                                .lo = -INFINITY, .hi = INFINITY};
            return 0;
        }
        min_max4(alo / blo, alo / bhi, ahi / blo, ahi / bhi, &lo, &hi);
        if (op == OP_DIV) {
            *out = numbers(rr, lo, hi, EV_FLOAT, 0);
            return 0;
        }
        /* Python's float // may land one off floor(a / b) where a / b rounds */
        lo = nextafter(lo, -INFINITY), hi = nextafter(hi, INFINITY);
        *out = numbers(rr, floor(lo) - (num != EV_INT), floor(hi) + (num != EV_INT), num, 1);
        return 0;
    case OP_MOD:
        /* the result has the divisor's sign and is smaller than it; a non-negative a below a
         * positive b is itself */
        if (blo <= 0 && bhi >= 0)
            rr->may_fail = 1;
        if (blo > 0 && alo >= 0 && ahi < blo)
            *out = numbers(rr, alo, ahi, num, 1);
        else if (blo > 0 && alo >= 0)
            *out = numbers(rr, 0, fmin(ahi, bhi), num, 1);
        else
            *out = numbers(rr, fmin(blo, 0), fmax(bhi, 0), num, 1);
        return 0;
    case OP_POW:
        /* b ** e for b > 0 (or b >= 0 and e >= 0) is monotonic in each operand: the extremes
         * are at the corners */
        if (alo > 0 || (alo >= 0 && blo >= 0)) {
            min_max4(pow(alo, blo), pow(alo, bhi), pow(ahi, blo), pow(ahi, bhi), &lo, &hi);
            lo -= fabs(lo) * 1e-12, hi += fabs(hi) * 1e-12; /* pow is not exactly rounded */
            *out = numbers(rr, lo, hi, blo >= 0 ? num : bhi < 0 ? EV_FLOAT : 0, 0);
            return 0;
        }
        break;
    case OP_BITAND:
        if (an == EV_INT && bn == EV_INT && alo >= 0 && blo >= 0) {
            *out = numbers(rr, 0, fmin(ahi, bhi), EV_INT, 1);
            return 0;
        }
        break;
    case OP_SHR:
        if (an == EV_INT && bn == EV_INT && alo >= 0 && blo >= 0) {
            *out = numbers(rr, floor(alo / exp2(fmin(bhi, 64))), floor(ahi / exp2(blo)), EV_INT,
                           1);
            return 0;
        }
        break;
    }
    rr->may_fail = 1; /* bitwise operators on floats fail; the rest are not followed */
    *out = (expr_range){.kind = EXPR_NUMBERS, .num = num, .lo = -INFINITY, .hi = INFINITY};
    return 0;
}

static int range_unop(range_run *rr, int op, expr_range a, expr_range *out)
{
    if (op == OP_NOT) {
        int t = truth(&a);
        *out = truth_value(t == T_UNKNOWN ? t : !t);
        return 0;
    }
    if (a.kind == EXPR_EXACT) {
        int st = expr_unop(op, a.v, &out->v);
        out->kind = EXPR_EXACT;
        if (st)
            rr->may_fail = 1;
        return st ? -1 : 0;
    }
    double lo, hi;
    int num;
    if (bounds(&a, &lo, &hi, &num) || (op == OP_INV && num != EV_INT)) {
        rr->may_fail = 1;
        *out = anything();
        return 0;
    }
    if (op == OP_NEG)
        *out = numbers(rr, -hi, -lo, num, 1);
    else if (op == OP_INV)
        *out = numbers(rr, -hi - 1, -lo - 1, num, small_ints(lo, hi, num));
    else
        *out = a;
    return 0;
}

static int range_in(const expr_list *l, int negated, expr_range a, expr_range *out)
{
    double lo, hi;
    int num;
    if (a.kind == EXPR_EXACT) {
        int found = 0;
        for (size_t i = 0; !found && i < l->n; i++)
            found = expr_equal(a.v, l->items[i]);
        *out = truth_value(found != negated);
        return 0;
    }
    if (bounds(&a, &lo, &hi, &num) == 0) {
        for (size_t i = 0; i < l->n; i++) {
            expr_value x = l->items[i];
            double v = x.type == EV_INT ? (double)x.u.i : x.type == EV_FLOAT ? x.u.f : NAN;
            if (v >= lo && v <= hi) {
                *out = boolean();
                return 0;
            }
        }
        *out = truth_value(negated); /* no item lies in the range */
        return 0;
    }
    *out = boolean();
    return 0;
}

static int range_call(range_run *rr, int fn, expr_range *args, int n, expr_range *out)
{
    int all_exact = 1;
    for (int i = 0; i < n; i++)
        all_exact &= args[i].kind == EXPR_EXACT;
    if (all_exact) {
        expr_value v[8];
        for (int i = 0; i < n; i++)
            v[i] = args[i].v;
        int st = expr_builtin_scalar(expr_builtin_names[fn], v, (size_t)n, &out->v);
        out->kind = EXPR_EXACT;
        if (st)
            rr->may_fail = 1;
        return st ? -1 : 0;
    }
    double lo[8], hi[8];
    int num[8];
    for (int i = 0; i < n; i++)
        if (bounds(&args[i], &lo[i], &hi[i], &num[i])) {
            rr->may_fail = 1;
            *out = anything();
            return 0;
        }
    if (fn <= 1) { /* min, max */
        double l = lo[0], h = hi[0];
        int t = num[0];
        for (int i = 1; i < n; i++) {
            l = fn ? fmax(l, lo[i]) : fmin(l, lo[i]);
            h = fn ? fmax(h, hi[i]) : fmin(h, hi[i]);
            t = t == num[i] ? t : 0;
        }
        *out = (expr_range){.kind = EXPR_NUMBERS, .num = t, .lo = l, .hi = h};
        return 0;
    }
    if (n != 1) {
        rr->may_fail = 1;
        return -1;
    }
    if (fn == 2) /* abs */
        *out = lo[0] >= 0   ? args[0]
               : hi[0] <= 0 ? numbers(rr, -hi[0], -lo[0], num[0], 1)
                            : numbers(rr, 0, fmax(-lo[0], hi[0]), num[0], 1);
    else if (fn == 3) { /* int: truncates; a float past 64 bits fails */
        if (num[0] != EV_INT && (lo[0] <= -9.2e18 || hi[0] >= 9.2e18))
            rr->may_fail = 1;
        *out = numbers(rr, trunc(fmax(lo[0], -TWO63)), trunc(fmin(hi[0], TWO63)), EV_INT, 1);
    } else /* float */
        *out = (expr_range){.kind = EXPR_NUMBERS, .num = EV_FLOAT, .lo = lo[0], .hi = hi[0]};
    return 0;
}

/* Whether what is pushed is finite. An infinity (1e999, a parameter's value) gives NaN without
 * failing (inf - inf, inf % 3.0), and NaN compares false to everything: "f % 3.0 <= 5" is false
 * at f = inf, which no bounds of f % 3.0 can say. */
static int finite(const expr_range *r)
{
    if (r->kind == EXPR_NUMBERS)
        return isfinite(r->lo) && isfinite(r->hi);
    return r->kind != EXPR_EXACT || r->v.type != EV_FLOAT || isfinite(r->v.u.f);
}

/* Runs from `ip` with the stack given; 1 when no run along here can be true. */
static int run_from(range_run *rr, const instr *ip, expr_range *stack, int sp)
{
    const expr_prog *p = rr->p;
    for (;; ip++) {
        int t, never;
        switch (ip->kind) {
        case I_CONST:
        case I_VAR:
            stack[++sp] = ip->kind == I_CONST ? exact(p->consts[ip->arg]) : rr->vars[ip->arg];
            if (!finite(&stack[sp])) {
                rr->may_fail = 1; /* an infinity can overflow int() too */
                return 0;
            }
            break;
        case I_UNARY:
            if (range_unop(rr, ip->sub, stack[sp], &stack[sp]))
                return 1;
            break;
        case I_BINARY:
            if (range_binop(rr, ip->sub, stack[sp - 1], stack[sp], &stack[sp - 1]))
                return 1;
            sp--;
            break;
        case I_JF_KEEP:
        case I_JT_KEEP:
        case I_JF_POP:
            t = truth(&stack[sp]);
            if (t == T_UNKNOWN) {
                /* both ways: the jump on a copy of the stack, then on into the next one */
                if (++rr->paths > RANGE_PATHS) {
                    rr->may_fail = 1;
                    return 0;
                }
                expr_range copy[RANGE_STACK];
                memcpy(copy, stack, (size_t)(sp + 1) * sizeof *copy);
                if (ip->kind == I_JF_KEEP)
                    copy[sp] = falsy(copy[sp]); /* 'and' goes on with its falsy left side */
                never = run_from(rr, p->code + ip->arg, copy, ip->kind == I_JF_POP ? sp - 1 : sp);
                if (!never && !rr->want_fail)
                    return 0;
                if (!run_from(rr, ip + 1, stack, sp - 1))
                    return 0;
                return never;
            }
            if (ip->kind == I_JF_POP) {
                sp--;
                if (!t)
                    ip = p->code + ip->arg - 1;
            } else if (t == (ip->kind == I_JT_KEEP)) {
                ip = p->code + ip->arg - 1;
            } else {
                sp--;
            }
            break;
        case I_JMP:
            ip = p->code + ip->arg - 1;
            break;
        case I_IN:
            range_in(&p->lists[ip->arg], ip->sub, stack[sp], &stack[sp]);
            break;
        case I_CALL:
            sp -= ip->arg - 1;
            if (range_call(rr, ip->sub, &stack[sp], ip->arg, &stack[sp]))
                return 1;
            break;
        case I_RET:
            return truth(&stack[sp]) == T_FALSE;
        }
    }
}

int expr_never_true(const expr_prog *p, const expr_range *vars, int *may_fail)
{
    range_run rr = {.p = p, .vars = vars, .want_fail = may_fail != NULL};
    int never = 0;
    if (p->max_depth <= RANGE_STACK) {
        expr_range stack[RANGE_STACK];
        never = run_from(&rr, p->code, stack, -1);
    } else {
        rr.may_fail = 1;
    }
    if (may_fail)
        *may_fail = rr.may_fail;
    return never;
}
