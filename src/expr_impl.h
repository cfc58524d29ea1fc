/* expr_impl.h — the parsed form shared by the expression parser (expr.c), the tree
 * evaluator (expr_eval.c) and the bytecode compiler and machine (expr_vm.c). */
#ifndef CUTUNE_EXPR_IMPL_H
#define CUTUNE_EXPR_IMPL_H

#include "expr.h"
#include "internal.h"

enum node_kind {
    N_CONST,  /* v */
    N_NAME,   /* v.u.s is the name */
    N_UNARY,  /* op a */
    N_BINARY, /* a op b (arithmetic, bitwise, comparison) */
    N_AND,    /* a and b */
    N_OR,     /* a or b */
    N_NOT,    /* not a */
    N_IN,     /* a in b; c = 1 for "not in" */
    N_COND,   /* a if c else b */
    N_LIST,   /* items: a, then each item's next */
    N_COMP,   /* [a for v.u.s in b if c] */
    N_CALL,   /* v.u.s(args: a, then next) */
    N_INDEX   /* a[b] */
};

enum expr_op {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW,
    OP_BITAND, OP_BITOR, OP_BITXOR, OP_SHL, OP_SHR,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, /* keep contiguous: compare() relies on it */
    OP_IN, OP_NEG, OP_POS, OP_INV, OP_NOT
};

typedef struct node {
    uint8_t kind, op;
    int col;
    int a, b, c, next; /* node indices, -1 for none */
    expr_value v;
} node;

struct expr {
    node *nodes;
    size_t n, cap;
    int root;
    char **strs; /* names and string constants, owned */
    size_t nstr, strcap;
};

/* Bytecode of a compiled constraint (expr_vm.c runs it, expr_range.c runs it over ranges). */
enum instr_kind {
    I_CONST,   /* push consts[arg] */
    I_VAR,     /* push vars[arg] */
    I_UNARY,   /* sub = op */
    I_BINARY,  /* sub = op */
    I_JF_KEEP, /* top falsy: jump to arg keeping it; else pop */
    I_JT_KEEP, /* top truthy: jump to arg keeping it; else pop */
    I_JF_POP,  /* pop; jump to arg when falsy */
    I_JMP,
    I_IN,      /* top in lists[arg]; sub = 1 for "not in" */
    I_CALL,    /* sub = builtin number, arg = argument count */
    I_RET
};

typedef struct instr {
    uint8_t kind, sub;
    int32_t arg;
} instr;

/* The functions a constraint may call; I_CALL's sub is an index here. */
#define EXPR_NUM_BUILTINS 5
extern const char *const expr_builtin_names[EXPR_NUM_BUILTINS];

struct expr_prog {
    instr *code;
    size_t n, cap;
    expr_value *consts;
    size_t nconst, constcap;
    expr_list *lists;
    size_t nlist, listcap;
    char **strs;
    size_t nstr, strcap;
    int max_depth; /* deepest the stack gets */
};

/* Writes "column COL: <message>" into err. */
void expr_verror(char *err, size_t size, int col, const char *fmt, va_list ap);

int expr_binop(int op, expr_value a, expr_value b, expr_value *out);
int expr_int_binop(int op, int64_t a, int64_t b, expr_value *out);
int expr_unop(int op, expr_value a, expr_value *out);
int expr_builtin_scalar(const char *name, const expr_value *args, size_t n, expr_value *out);
int expr_is_scalar_builtin(const char *name);
/* Names read by the subtree at `root` and not bound inside it; returns their number. */
size_t collect_free_names(const expr *e, int root, const char **names, size_t max);
/* Evaluates the subtree at `root`, which must read no name (constant folding); err receives
 * "column C: what" on failure. */
int expr_eval_node(const expr *e, int root, expr_arena *arena, expr_value *out, char *err,
                   size_t errsize);

#endif
