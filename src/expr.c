/* expr.c — the Python expression subset of T1 specs and Kernel Tuner restrictions: a lexer
 * and a precedence-climbing parser into a flat node array, and the names an expression
 * reads. Python's rules for its values are in expr_scalar.c. */
#include "expr_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---------------------------------------------------------------------------- lexer ---- */

enum tok_kind { TK_END, TK_INT, TK_FLOAT, TK_STR, TK_NAME, TK_OP };

typedef struct token {
    int kind;
    int col;         /* 1-based */
    const char *src; /* start in the source */
    size_t len;
} token;

typedef struct parser {
    expr *e;
    const char *src;
    token tok;
    const char *pos;
    int depth;
    char *err;
    size_t errsize;
    int failed;
} parser;

void expr_verror(char *err, size_t size, int col, const char *fmt, va_list ap)
{
    int n = snprintf(err, size, "column %d: ", col);
    if (n >= 0 && (size_t)n < size)
        vsnprintf(err + n, size - (size_t)n, fmt, ap);
}

static int perr(parser *p, int col, const char *fmt, ...) CT_PRINTF(3, 4);
static int perr(parser *p, int col, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    p->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    expr_verror(p->err, p->errsize, col, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *const op_spellings[] = {"**", "//", "==", "!=", "<=", ">=", "<<", ">>", "+",
                                           "-",  "*",  "/",  "%",  "<",  ">",  "&",  "|",  "^",
                                           "~",  "(",  ")",  "[",  "]",  ",",  NULL};

static void next_token(parser *p)
{
    const char *s = p->pos;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    token t = {TK_END, (int)(s - p->src) + 1, s, 0};
    if (*s == '\0') {
        p->tok = t;
        p->pos = s;
        return;
    }
    if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))) {
        const char *q = s;
        int is_float = 0;
        while (isdigit((unsigned char)*q) || *q == '_')
            q++;
        if (*q == '.') {
            is_float = 1;
            q++;
            while (isdigit((unsigned char)*q))
                q++;
        }
        if (*q == 'e' || *q == 'E') {
            const char *r = q + 1;
            if (*r == '+' || *r == '-')
                r++;
            if (isdigit((unsigned char)*r)) {
                is_float = 1;
                q = r;
                while (isdigit((unsigned char)*q))
                    q++;
            }
        }
        if (isalpha((unsigned char)*q) || *q == '_') {
            perr(p, t.col, "malformed number '%.*s'", (int)(q - s + 1), s);
            t.kind = TK_END;
        } else {
            t.kind = is_float ? TK_FLOAT : TK_INT;
        }
        t.len = (size_t)(q - s);
    } else if (isalpha((unsigned char)*s) || *s == '_') {
        const char *q = s;
        while (isalnum((unsigned char)*q) || *q == '_')
            q++;
        t.kind = TK_NAME;
        t.len = (size_t)(q - s);
    } else if (*s == '\'' || *s == '"') {
        const char *q = s + 1;
        while (*q && *q != *s) {
            if (*q == '\\' && q[1])
                q++;
            q++;
        }
        if (!*q) {
            perr(p, t.col, "unterminated string");
            t.kind = TK_END;
            t.len = (size_t)(q - s);
        } else {
            t.kind = TK_STR;
            t.len = (size_t)(q - s + 1);
        }
    } else {
        for (int i = 0; op_spellings[i]; i++) {
            size_t n = strlen(op_spellings[i]);
            if (strncmp(s, op_spellings[i], n) == 0) {
                t.kind = TK_OP;
                t.len = n;
                break;
            }
        }
        if (t.kind != TK_OP) {
            perr(p, t.col, "unexpected character '%c'", isprint((unsigned char)*s) ? *s : '?');
            t.kind = TK_END;
        }
    }
    p->tok = t;
    p->pos = s + t.len;
}

static int tok_is(const parser *p, const char *text)
{
    return (p->tok.kind == TK_OP || p->tok.kind == TK_NAME) && p->tok.len == strlen(text) &&
           strncmp(p->tok.src, text, p->tok.len) == 0;
}

static int accept(parser *p, const char *text)
{
    if (!tok_is(p, text))
        return 0;
    next_token(p);
    return 1;
}

static int expect(parser *p, const char *text)
{
    if (accept(p, text))
        return 0;
    if (p->tok.kind == TK_END)
        return perr(p, p->tok.col, "'%s' expected at end of expression", text);
    return perr(p, p->tok.col, "'%s' expected before '%.*s'", text, (int)p->tok.len, p->tok.src);
}

/* ---------------------------------------------------------------------- node storage ---- */

static int new_node(parser *p, int kind, int col)
{
    expr *e = p->e;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 32;
        node *nodes = realloc(e->nodes, cap * sizeof *nodes);
        if (!nodes)
            return perr(p, col, "out of memory");
        e->nodes = nodes;
        e->cap = cap;
    }
    node *n = &e->nodes[e->n];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->col = col;
    n->a = n->b = n->c = n->next = -1;
    return (int)e->n++;
}

static const char *intern(parser *p, const char *s, size_t len, int col)
{
    expr *e = p->e;
    if (e->nstr == e->strcap) {
        size_t cap = e->strcap ? e->strcap * 2 : 8;
        char **strs = realloc(e->strs, cap * sizeof *strs);
        if (!strs) {
            perr(p, col, "out of memory");
            return NULL;
        }
        e->strs = strs;
        e->strcap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        perr(p, col, "out of memory");
        return NULL;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    e->strs[e->nstr++] = copy;
    return copy;
}

static int binary_node(parser *p, int kind, int op, int col, int a, int b)
{
    if (a < 0 || b < 0)
        return -1;
    int n = new_node(p, kind, col);
    if (n < 0)
        return -1;
    p->e->nodes[n].op = (uint8_t)op;
    p->e->nodes[n].a = a;
    p->e->nodes[n].b = b;
    return n;
}

/* --------------------------------------------------------------------------- parser ---- */

static int parse_test(parser *p);
static int parse_or(parser *p);
static int parse_unary(parser *p);

static int enter(parser *p)
{
    if (++p->depth > CT_MAX_EXPR_DEPTH)
        return perr(p, p->tok.col, "expression nested more than %d levels deep", CT_MAX_EXPR_DEPTH);
    return 0;
}

static int parse_string_literal(parser *p, int col)
{
    const token t = p->tok;
    char *buf = malloc(t.len);
    if (!buf)
        return perr(p, col, "out of memory");
    size_t n = 0;
    for (size_t i = 1; i + 1 < t.len; i++) {
        char c = t.src[i];
        if (c == '\\' && i + 2 < t.len) {
            c = t.src[++i];
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
        buf[n++] = c;
    }
    const char *s = intern(p, buf, n, col);
    free(buf);
    if (!s)
        return -1;
    int node_i = new_node(p, N_CONST, col);
    if (node_i < 0)
        return -1;
    p->e->nodes[node_i].v = (expr_value){.type = EV_STR, .u.s = s};
    next_token(p);
    return node_i;
}

static int parse_number(parser *p, int col)
{
    char buf[64];
    size_t k = 0;
    for (size_t i = 0; i < p->tok.len && k + 1 < sizeof buf; i++)
        if (p->tok.src[i] != '_')
            buf[k++] = p->tok.src[i];
    buf[k] = '\0';
    if (p->tok.len >= sizeof buf)
        return perr(p, col, "number too long");
    int n = new_node(p, N_CONST, col);
    if (n < 0)
        return -1;
    if (p->tok.kind == TK_FLOAT) {
        p->e->nodes[n].v = (expr_value){.type = EV_FLOAT, .u.f = strtod(buf, NULL)};
    } else {
        char *end;
        unsigned long long v = strtoull(buf, &end, 10);
        if (v > (unsigned long long)INT64_MAX || *end)
            return perr(p, col, "integer %s does not fit in 64 bits", buf);
        p->e->nodes[n].v = (expr_value){.type = EV_INT, .u.i = (int64_t)v};
    }
    next_token(p);
    return n;
}

/* "[" already consumed: a list display or a comprehension. */
static int parse_list(parser *p, int col)
{
    int list = new_node(p, N_LIST, col);
    if (list < 0)
        return -1;
    if (accept(p, "]"))
        return list;
    int first = parse_test(p);
    if (first < 0)
        return -1;
    if (tok_is(p, "for")) {
        int comp_col = p->tok.col;
        next_token(p);
        if (p->tok.kind != TK_NAME)
            return perr(p, p->tok.col, "loop variable expected after 'for'");
        const char *var = intern(p, p->tok.src, p->tok.len, p->tok.col);
        if (!var)
            return -1;
        next_token(p);
        if (expect(p, "in") < 0)
            return -1;
        int iter = parse_or(p);
        int cond = -1;
        if (iter >= 0 && accept(p, "if"))
            cond = parse_or(p);
        if (iter < 0 || (cond < 0 && p->failed))
            return -1;
        if (tok_is(p, "for"))
            return perr(p, p->tok.col, "a second 'for' clause is not supported");
        if (expect(p, "]") < 0)
            return -1;
        int n = new_node(p, N_COMP, comp_col);
        if (n < 0)
            return -1;
        node *c = &p->e->nodes[n];
        c->a = first;
        c->b = iter;
        c->c = cond;
        c->v = (expr_value){.type = EV_STR, .u.s = var};
        return n;
    }
    p->e->nodes[list].a = first;
    int last = first;
    while (accept(p, ",")) {
        if (tok_is(p, "]"))
            break;
        int item = parse_test(p);
        if (item < 0)
            return -1;
        p->e->nodes[last].next = item;
        last = item;
    }
    if (expect(p, "]") < 0)
        return -1;
    return list;
}

static int parse_atom(parser *p)
{
    int col = p->tok.col;
    switch (p->tok.kind) {
    case TK_INT:
    case TK_FLOAT:
        return parse_number(p, col);
    case TK_STR:
        return parse_string_literal(p, col);
    case TK_NAME: {
        static const char *const reserved[] = {"and", "or", "not", "in", "for", "if", "else",
                                               "is", "lambda", NULL};
        for (int i = 0; reserved[i]; i++)
            if (tok_is(p, reserved[i]))
                return perr(p, col, "'%s' cannot start an operand", reserved[i]);
        int n = new_node(p, N_CONST, col);
        if (n < 0)
            return -1;
        if (tok_is(p, "True") || tok_is(p, "False")) {
            p->e->nodes[n].v = (expr_value){.type = EV_INT, .u.i = tok_is(p, "True")};
        } else {
            const char *name = intern(p, p->tok.src, p->tok.len, col);
            if (!name)
                return -1;
            p->e->nodes[n].kind = N_NAME;
            p->e->nodes[n].v = (expr_value){.type = EV_STR, .u.s = name};
        }
        next_token(p);
        return n;
    }
    case TK_OP:
        if (accept(p, "(")) {
            int inner = parse_test(p);
            if (inner < 0 || expect(p, ")") < 0)
                return -1;
            return inner;
        }
        if (accept(p, "["))
            return parse_list(p, col);
        return perr(p, col, "operand expected before '%.*s'", (int)p->tok.len, p->tok.src);
    default:
        return perr(p, col, "operand expected at end of expression");
    }
}

/* atom followed by calls f(...) and subscripts x[i] */
static int parse_primary(parser *p)
{
    int n = parse_atom(p);
    while (n >= 0) {
        int col = p->tok.col;
        if (accept(p, "(")) {
            if (p->e->nodes[n].kind != N_NAME)
                return perr(p, col, "only named functions can be called");
            p->e->nodes[n].kind = N_CALL;
            int last = -1;
            while (!accept(p, ")")) {
                if (last >= 0 && expect(p, ",") < 0)
                    return -1;
                if (last >= 0 && accept(p, ")"))
                    break;
                int arg = parse_test(p);
                if (arg < 0)
                    return -1;
                if (last < 0)
                    p->e->nodes[n].a = arg;
                else
                    p->e->nodes[last].next = arg;
                last = arg;
            }
        } else if (accept(p, "[")) {
            int index = parse_test(p);
            if (index < 0 || expect(p, "]") < 0)
                return -1;
            n = binary_node(p, N_INDEX, 0, col, n, index);
        } else {
            break;
        }
    }
    return n;
}

static int parse_power(parser *p)
{
    int base = parse_primary(p);
    int col = p->tok.col;
    if (base >= 0 && accept(p, "**")) {
        if (enter(p) < 0)
            return -1;
        int exponent = parse_unary(p); /* right-associative, and 2 ** -1 is legal */
        p->depth--;
        return binary_node(p, N_BINARY, OP_POW, col, base, exponent);
    }
    return base;
}

static int parse_unary(parser *p)
{
    int col = p->tok.col;
    int op = tok_is(p, "-") ? OP_NEG : tok_is(p, "+") ? OP_POS : tok_is(p, "~") ? OP_INV : -1;
    if (op < 0)
        return parse_power(p);
    next_token(p);
    if (enter(p) < 0)
        return -1;
    int a = parse_unary(p);
    p->depth--;
    if (a < 0)
        return -1;
    int n = new_node(p, N_UNARY, col);
    if (n < 0)
        return -1;
    p->e->nodes[n].op = (uint8_t)op;
    p->e->nodes[n].a = a;
    return n;
}

/* Binary levels from loosest to tightest, each a list of (spelling, op). */
typedef struct binop_spelling {
    const char *text;
    int op;
} binop_spelling;
static const binop_spelling level_bitor[] = {{"|", OP_BITOR}, {NULL, 0}};
static const binop_spelling level_bitxor[] = {{"^", OP_BITXOR}, {NULL, 0}};
static const binop_spelling level_bitand[] = {{"&", OP_BITAND}, {NULL, 0}};
static const binop_spelling level_shift[] = {{"<<", OP_SHL}, {">>", OP_SHR}, {NULL, 0}};
static const binop_spelling level_arith[] = {{"+", OP_ADD}, {"-", OP_SUB}, {NULL, 0}};
static const binop_spelling level_term[] = {
    {"*", OP_MUL}, {"/", OP_DIV}, {"//", OP_FLOORDIV}, {"%", OP_MOD}, {NULL, 0}};
static const binop_spelling *const levels[] = {level_bitor, level_bitxor, level_bitand,
                                               level_shift, level_arith,  level_term};
#define NUM_LEVELS (sizeof levels / sizeof levels[0])

static int parse_level(parser *p, size_t level)
{
    if (level == NUM_LEVELS)
        return parse_unary(p);
    int left = parse_level(p, level + 1);
    while (left >= 0) {
        int op = -1, col = p->tok.col;
        if (p->tok.kind == TK_OP)
            for (const binop_spelling *b = levels[level]; b->text; b++)
                if (tok_is(p, b->text))
                    op = b->op;
        if (op < 0)
            break;
        next_token(p);
        left = binary_node(p, N_BINARY, op, col, left, parse_level(p, level + 1));
    }
    return left;
}

static int comparison_op(parser *p, int *negated_in)
{
    static const binop_spelling cmps[] = {{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE},
                                          {">=", OP_GE}, {"<", OP_LT},  {">", OP_GT},
                                          {NULL, 0}};
    *negated_in = 0;
    for (const binop_spelling *c = cmps; c->text; c++)
        if (p->tok.kind == TK_OP && tok_is(p, c->text)) {
            next_token(p);
            return c->op;
        }
    if (accept(p, "in"))
        return OP_IN;
    if (tok_is(p, "not")) {
        /* "not in" — peek past "not" */
        parser save = *p;
        next_token(p);
        if (accept(p, "in")) {
            *negated_in = 1;
            return OP_IN;
        }
        *p = save;
    }
    if (tok_is(p, "is"))
        return perr(p, p->tok.col, "'is' is not supported; use '=='");
    return -1;
}

/* a < b <= c  means  (a < b) and (b <= c), b shared between both comparisons */
static int parse_comparison(parser *p)
{
    int left = parse_level(p, 0);
    int result = left;
    for (;;) {
        int col = p->tok.col, negated;
        int op = left >= 0 ? comparison_op(p, &negated) : -1;
        if (op < 0)
            return p->failed ? -1 : result;
        int right = parse_level(p, 0);
        int cmp = binary_node(p, op == OP_IN ? N_IN : N_BINARY, op, col, left, right);
        if (cmp < 0)
            return -1;
        if (op == OP_IN)
            p->e->nodes[cmp].c = negated;
        result = result == left ? cmp : binary_node(p, N_AND, 0, col, result, cmp);
        left = right;
    }
}

static int parse_not(parser *p)
{
    int col = p->tok.col;
    if (!accept(p, "not"))
        return parse_comparison(p);
    if (enter(p) < 0)
        return -1;
    int a = parse_not(p);
    p->depth--;
    if (a < 0)
        return -1;
    int n = new_node(p, N_NOT, col);
    if (n >= 0)
        p->e->nodes[n].a = a;
    return n;
}

static int parse_and(parser *p)
{
    int left = parse_not(p);
    while (left >= 0 && tok_is(p, "and")) {
        int col = p->tok.col;
        next_token(p);
        left = binary_node(p, N_AND, 0, col, left, parse_not(p));
    }
    return left;
}

static int parse_or(parser *p)
{
    int left = parse_and(p);
    while (left >= 0 && tok_is(p, "or")) {
        int col = p->tok.col;
        next_token(p);
        left = binary_node(p, N_OR, 0, col, left, parse_and(p));
    }
    return left;
}

/* x if cond else y */
static int parse_test(parser *p)
{
    if (enter(p) < 0)
        return -1;
    int then = parse_or(p);
    if (then >= 0 && tok_is(p, "if")) {
        int col = p->tok.col;
        next_token(p);
        int cond = parse_or(p);
        if (cond < 0 || expect(p, "else") < 0)
            return -1;
        int other = parse_test(p);
        int n = binary_node(p, N_COND, 0, col, then, other);
        if (n >= 0)
            p->e->nodes[n].c = cond;
        then = n;
    }
    p->depth--;
    return then;
}

/* Depth of the tree, counted up to `limit`: a long chain such as 1+1+...+1 is deep without
 * deep parser recursion, and the evaluators recurse on it. */
static int tree_deeper_than(const expr *e, int n, int depth, int limit)
{
    for (; n >= 0; n = e->nodes[n].next) {
        const node *nd = &e->nodes[n];
        if (depth > limit)
            return 1;
        if (tree_deeper_than(e, nd->a, depth + 1, limit) ||
            tree_deeper_than(e, nd->b, depth + 1, limit) ||
            (nd->kind != N_IN && tree_deeper_than(e, nd->c, depth + 1, limit)))
            return 1;
    }
    return 0;
}

int expr_parse(const char *src, expr **out, char *err, size_t errsize)
{
    *out = NULL;
    expr *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errsize, "out of memory");
        return CUTUNE_ENOMEM;
    }
    parser p = {.e = e, .src = src, .pos = src, .err = err, .errsize = errsize};
    next_token(&p);
    int root = p.failed ? -1 : parse_test(&p);
    if (root >= 0 && p.tok.kind != TK_END)
        root = perr(&p, p.tok.col, "unexpected '%.*s' after a complete expression",
                    (int)p.tok.len, p.tok.src);
    if (root >= 0 && tree_deeper_than(e, root, 0, CT_MAX_EXPR_DEPTH))
        root = perr(&p, 1, "expression nested more than %d levels deep", CT_MAX_EXPR_DEPTH);
    if (root < 0) {
        if (!p.failed)
            snprintf(err, errsize, "column %d: syntax error", p.tok.col);
        expr_free(e);
        return CUTUNE_EPARSE;
    }
    e->root = root;
    *out = e;
    return CUTUNE_OK;
}

void expr_free(expr *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nstr; i++)
        free(e->strs[i]);
    free(e->strs);
    free(e->nodes);
    free(e);
}

/* Free names of the subtree at n; `bound` are comprehension variables in scope. */
static size_t collect_names(const expr *e, int n, const char **bound, size_t nbound,
                            const char **names, size_t count, size_t max)
{
    if (n >= 0) {
        const node *nd = &e->nodes[n];
        if (nd->kind == N_NAME || nd->kind == N_CALL) {
            if (nd->kind == N_CALL) {
                for (int a = nd->a; a >= 0; a = e->nodes[a].next)
                    count = collect_names(e, a, bound, nbound, names, count, max);
                return count;
            }
            for (size_t i = 0; i < nbound; i++)
                if (strcmp(bound[i], nd->v.u.s) == 0)
                    return count;
            for (size_t i = 0; names && i < count && i < max; i++)
                if (strcmp(names[i], nd->v.u.s) == 0)
                    return count;
            if (count < max)
                names[count] = nd->v.u.s;
            return count + 1;
        }
        if (nd->kind == N_COMP) {
            const char *inner[64];
            size_t k = nbound < 63 ? nbound : 63;
            if (k)
                memcpy(inner, bound, k * sizeof *inner);
            inner[k++] = nd->v.u.s;
            count = collect_names(e, nd->b, bound, nbound, names, count, max);
            count = collect_names(e, nd->a, inner, k, names, count, max);
            return collect_names(e, nd->c, inner, k, names, count, max);
        }
        if (nd->kind == N_LIST) {
            for (int a = nd->a; a >= 0; a = e->nodes[a].next)
                count = collect_names(e, a, bound, nbound, names, count, max);
            return count;
        }
        count = collect_names(e, nd->a, bound, nbound, names, count, max);
        count = collect_names(e, nd->b, bound, nbound, names, count, max);
        if (nd->kind == N_COND)
            count = collect_names(e, nd->c, bound, nbound, names, count, max);
    }
    return count;
}

size_t expr_names(const expr *e, const char **names, size_t max)
{
    return collect_names(e, e->root, NULL, 0, names, 0, max);
}

size_t collect_free_names(const expr *e, int root, const char **names, size_t max)
{
    return collect_names(e, root, NULL, 0, names, 0, max);
}
