/* expr_scalar.c — Python's rules for the scalars of expressions, shared by the tree
 * evaluator, the bytecode machine and the range evaluator: truth, printing, arithmetic
 * (floor division, modulo with the divisor's sign, int/float promotion, overflow refused),
 * comparison and the scalar builtins. */
#include "expr_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int expr_truthy(expr_value v)
{
    switch (v.type) {
    case EV_INT:
        return v.u.i != 0;
    case EV_FLOAT:
        return v.u.f != 0.0;
    case EV_STR:
        return v.u.s[0] != '\0';
    case EV_LIST:
        return v.u.l->n != 0;
    default:
        return 0;
    }
}

int expr_format(expr_value v, char *buf, size_t size)
{
    switch (v.type) {
    case EV_INT:
        return snprintf(buf, size, "%lld", (long long)v.u.i);
    case EV_FLOAT:
        return ct_format_double(v.u.f, buf, size);
    case EV_STR:
        return snprintf(buf, size, "%s", v.u.s);
    case EV_LIST:
        return snprintf(buf, size, "[list of %zu]", v.u.l->n);
    default:
        return snprintf(buf, size, "None");
    }
}

static int is_number(expr_value v) { return v.type == EV_INT || v.type == EV_FLOAT; }
static double as_double(expr_value v) { return v.type == EV_INT ? (double)v.u.i : v.u.f; }

static int int_pow(int64_t base, int64_t exp, int64_t *out)
{
    int64_t result = 1;
    while (exp > 0) {
        if ((exp & 1) && __builtin_mul_overflow(result, base, &result))
            return CUTUNE_EDOMAIN;
        exp >>= 1;
        if (exp && __builtin_mul_overflow(base, base, &base))
            return CUTUNE_EDOMAIN;
    }
    *out = result;
    return CUTUNE_OK;
}

static int compare(int op, expr_value a, expr_value b, expr_value *out)
{
    int c;
    if (is_number(a) && is_number(b)) {
        if (a.type == EV_INT && b.type == EV_INT)
            c = (a.u.i > b.u.i) - (a.u.i < b.u.i);
        else {
            double x = as_double(a), y = as_double(b);
            if (isnan(x) || isnan(y)) { /* every comparison with nan is false, but != */
                *out = (expr_value){.type = EV_INT, .u.i = op == OP_NE};
                return CUTUNE_OK;
            }
            c = (x > y) - (x < y);
        }
    } else if (a.type == EV_STR && b.type == EV_STR) {
        c = strcmp(a.u.s, b.u.s);
        c = (c > 0) - (c < 0);
    } else if (op == OP_EQ || op == OP_NE) {
        *out = (expr_value){.type = EV_INT, .u.i = op == OP_NE}; /* 1 == 'a' is False */
        return CUTUNE_OK;
    } else {
        return CUTUNE_ETYPE;
    }
    int r = 0;
    switch (op) {
    case OP_EQ: r = c == 0; break;
    case OP_NE: r = c != 0; break;
    case OP_LT: r = c < 0; break;
    case OP_LE: r = c <= 0; break;
    case OP_GT: r = c > 0; break;
    case OP_GE: r = c >= 0; break;
    }
    *out = (expr_value){.type = EV_INT, .u.i = r};
    return CUTUNE_OK;
}

int expr_int_binop(int op, int64_t a, int64_t b, expr_value *out)
{
    int64_t r = 0;
    out->type = EV_INT;
    switch (op) {
    case OP_ADD:
        if (__builtin_add_overflow(a, b, &r))
            return CUTUNE_EDOMAIN;
        break;
    case OP_SUB:
        if (__builtin_sub_overflow(a, b, &r))
            return CUTUNE_EDOMAIN;
        break;
    case OP_MUL:
        if (__builtin_mul_overflow(a, b, &r))
            return CUTUNE_EDOMAIN;
        break;
    case OP_DIV:
        if (b == 0)
            return CUTUNE_EDOMAIN;
        *out = (expr_value){.type = EV_FLOAT, .u.f = (double)a / (double)b};
        return CUTUNE_OK;
    case OP_FLOORDIV:
    case OP_MOD: {
        if (b == 0 || (a == INT64_MIN && b == -1))
            return CUTUNE_EDOMAIN;
        int64_t q = a / b, m = a % b;
        if (m != 0 && ((m < 0) != (b < 0))) { /* Python rounds toward negative infinity */
            q -= 1;
            m += b;
        }
        r = op == OP_MOD ? m : q;
        break;
    }
    case OP_POW:
        if (b < 0) {
            if (a == 0)
                return CUTUNE_EDOMAIN;
            *out = (expr_value){.type = EV_FLOAT, .u.f = pow((double)a, (double)b)};
            return CUTUNE_OK;
        }
        if (int_pow(a, b, &r))
            return CUTUNE_EDOMAIN;
        break;
    case OP_BITAND: r = a & b; break;
    case OP_BITOR: r = a | b; break;
    case OP_BITXOR: r = a ^ b; break;
    case OP_SHL:
        if (b < 0 || b > 63 || (a != 0 && (b >= 63 || (a > 0 ? a > (INT64_MAX >> b)
                                                              : a < (INT64_MIN >> b)))))
            return CUTUNE_EDOMAIN;
        r = (int64_t)((uint64_t)a << b);
        break;
    case OP_SHR:
        if (b < 0)
            return CUTUNE_EDOMAIN;
        r = b > 63 ? (a < 0 ? -1 : 0) : a >> b;
        break;
    case OP_EQ: r = a == b; break;
    case OP_NE: r = a != b; break;
    case OP_LT: r = a < b; break;
    case OP_LE: r = a <= b; break;
    case OP_GT: r = a > b; break;
    case OP_GE: r = a >= b; break;
    default:
        return CUTUNE_ETYPE;
    }
    out->u.i = r;
    return CUTUNE_OK;
}

static int float_binop(int op, double a, double b, expr_value *out)
{
    double r;
    switch (op) {
    case OP_ADD: r = a + b; break;
    case OP_SUB: r = a - b; break;
    case OP_MUL: r = a * b; break;
    case OP_DIV:
        if (b == 0.0)
            return CUTUNE_EDOMAIN;
        r = a / b;
        break;
    case OP_FLOORDIV:
    case OP_MOD:
        if (b == 0.0)
            return CUTUNE_EDOMAIN;
        r = fmod(a, b);
        if (r != 0.0 && ((r < 0) != (b < 0)))
            r += b;
        if (op == OP_FLOORDIV)
            r = floor((a - r) / b + 0.5); /* (a - a mod b) / b is an exact multiple */
        break;
    case OP_POW:
        if (a == 0.0 && b < 0)
            return CUTUNE_EDOMAIN;
        if (a < 0 && b != floor(b))
            return CUTUNE_EDOMAIN; /* would be complex in Python */
        r = pow(a, b);
        break;
    default:
        return CUTUNE_ETYPE; /* bitwise operators need ints */
    }
    if (isinf(r) && !isinf(a) && !isinf(b))
        return CUTUNE_EDOMAIN; /* Python raises OverflowError */
    *out = (expr_value){.type = EV_FLOAT, .u.f = r};
    return CUTUNE_OK;
}

int expr_binop(int op, expr_value a, expr_value b, expr_value *out)
{
    if (op >= OP_EQ && op <= OP_GE)
        return compare(op, a, b, out);
    if (a.type == EV_INT && b.type == EV_INT)
        return expr_int_binop(op, a.u.i, b.u.i, out);
    if (is_number(a) && is_number(b))
        return float_binop(op, as_double(a), as_double(b), out);
    return CUTUNE_ETYPE;
}

int expr_unop(int op, expr_value a, expr_value *out)
{
    if (op == OP_NOT) {
        *out = (expr_value){.type = EV_INT, .u.i = !expr_truthy(a)};
        return CUTUNE_OK;
    }
    if (a.type == EV_INT) {
        if (op == OP_NEG && a.u.i == INT64_MIN)
            return CUTUNE_EDOMAIN;
        int64_t r = op == OP_NEG ? -a.u.i : op == OP_INV ? ~a.u.i : a.u.i;
        *out = (expr_value){.type = EV_INT, .u.i = r};
        return CUTUNE_OK;
    }
    if (a.type == EV_FLOAT && op != OP_INV) {
        *out = (expr_value){.type = EV_FLOAT, .u.f = op == OP_NEG ? -a.u.f : a.u.f};
        return CUTUNE_OK;
    }
    return CUTUNE_ETYPE;
}

int expr_equal(expr_value a, expr_value b)
{
    expr_value r;
    return compare(OP_EQ, a, b, &r) == CUTUNE_OK && r.u.i;
}

/* Scalar built-ins callable from both evaluators: min, max, abs, int, float. */
int expr_builtin_scalar(const char *name, const expr_value *args, size_t n, expr_value *out)
{
    if ((strcmp(name, "min") == 0 || strcmp(name, "max") == 0) && n >= 1) {
        int want_max = name[1] == 'a';
        expr_value best = args[0];
        for (size_t i = 1; i < n; i++) {
            expr_value gt;
            int st = compare(OP_GT, args[i], best, &gt);
            if (st)
                return st;
            if (gt.u.i == want_max && !expr_equal(args[i], best))
                best = args[i];
        }
        if (!is_number(best) && best.type != EV_STR)
            return CUTUNE_ETYPE;
        *out = best;
        return CUTUNE_OK;
    }
    if (n != 1)
        return CUTUNE_ETYPE;
    expr_value a = args[0];
    if (strcmp(name, "abs") == 0) {
        if (a.type == EV_INT && a.u.i < 0)
            return expr_unop(OP_NEG, a, out);
        if (a.type == EV_FLOAT) {
            *out = (expr_value){.type = EV_FLOAT, .u.f = fabs(a.u.f)};
            return CUTUNE_OK;
        }
        *out = a;
        return a.type == EV_INT ? CUTUNE_OK : CUTUNE_ETYPE;
    }
    if (strcmp(name, "int") == 0) {
        if (a.type == EV_INT) {
            *out = a;
            return CUTUNE_OK;
        }
        if (a.type != EV_FLOAT || !isfinite(a.u.f) || fabs(a.u.f) >= 9.2e18)
            return a.type == EV_FLOAT ? CUTUNE_EDOMAIN : CUTUNE_ETYPE;
        *out = (expr_value){.type = EV_INT, .u.i = (int64_t)a.u.f}; /* truncates, as Python */
        return CUTUNE_OK;
    }
    if (strcmp(name, "float") == 0) {
        if (!is_number(a))
            return CUTUNE_ETYPE;
        *out = (expr_value){.type = EV_FLOAT, .u.f = as_double(a)};
        return CUTUNE_OK;
    }
    return CUTUNE_ENAME;
}

int expr_is_scalar_builtin(const char *name)
{
    return strcmp(name, "min") == 0 || strcmp(name, "max") == 0 || strcmp(name, "abs") == 0 ||
           strcmp(name, "int") == 0 || strcmp(name, "float") == 0;
}
