/* expr.h — expressions in the Python subset of T1 specs and Kernel Tuner: parsing to a tree,
 * evaluation of that tree (lists, ranges, comprehensions), and compilation of scalar
 * expressions (constraints) to a compact bytecode that runs without allocating. */
#ifndef CUTUNE_EXPR_H
#define CUTUNE_EXPR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum expr_type { EV_NONE = 0, EV_INT, EV_FLOAT, EV_STR, EV_LIST };

typedef struct expr_list expr_list;

typedef struct expr_value {
    int type; /* enum expr_type */
    union {
        int64_t i;
        double f;
        const char *s; /* borrowed: owned by the expression, the space or an arena */
        expr_list *l;
    } u;
} expr_value;

struct expr_list {
    size_t n;
    expr_value *items;
};

/* Parsed expression. Messages are "column C: what" (1-based column in the source). */
typedef struct expr expr;
/* The column C of such a message (1 when it has none). */
static inline int expr_error_column(const char *err)
{
    int col = 0;
    if (strncmp(err, "column ", 7) == 0)
        for (const char *c = err + 7; *c >= '0' && *c <= '9' && col < 100000000; c++)
            col = col * 10 + (*c - '0');
    return col > 0 ? col : 1;
}
int expr_parse(const char *src, expr **out, char *err, size_t errsize);
void expr_free(expr *e);

/* Names the expression reads, each once, in order of first use (comprehension variables
 * excluded). The pointers live as long as `e`. */
size_t expr_names(const expr *e, const char **names, size_t max);

/* Tree evaluation, lists allowed. Names other than comprehension variables are looked up
 * through `lookup` (return 0 when found). Lists and strings made during evaluation live in
 * `arena` until expr_arena_free. Lists are capped at EXPR_MAX_LIST elements. */
#define EXPR_MAX_LIST (1u << 20)
typedef struct expr_arena expr_arena;
expr_arena *expr_arena_new(void);
void expr_arena_free(expr_arena *a);
typedef int (*expr_lookup_fn)(void *user, const char *name, expr_value *out);
int expr_eval(const expr *e, expr_lookup_fn lookup, void *user, expr_arena *arena,
              expr_value *out, char *err, size_t errsize);

/* Bytecode for scalar expressions over numbered variables. `names[i]` is variable i.
 * `used` (may be NULL) receives the highest variable index read, or -1 for none. */
typedef struct expr_prog expr_prog;
int expr_compile(const expr *e, const char *const *names, size_t nnames, expr_prog **out,
                 int *max_var, char *err, size_t errsize);
void expr_prog_free(expr_prog *p);
/* The same for the subtree at `root`, one of the roots expr_conjuncts gives. */
int expr_compile_at(const expr *e, int root, const char *const *names, size_t nnames,
                    expr_prog **out, int *max_var, char *err, size_t errsize);
/* The operands of the expression's outermost chain of 'and' (chained comparisons included:
 * "a < b < c" is "a < b and b < c"), as node roots for expr_compile_at; the expression is true
 * exactly when each of them is. Returns their number; writes up to `max` of them. */
size_t expr_conjuncts(const expr *e, int *roots, size_t max);
/* The variables the program reads, ascending, each once; `vars` has room for every variable
 * it was compiled with. Returns their number. */
size_t expr_prog_vars(const expr_prog *p, int *vars);
/* Runs the program with vars[i] as variable i. Returns 0 and the result, or a cutune status
 * (CUTUNE_EDOMAIN for division by zero or overflow, CUTUNE_ETYPE for a type mismatch). */
int expr_run(const expr_prog *p, const expr_value *vars, expr_value *out);

/* Running a constraint before every variable has its value: a variable holds exactly `v`
 * (EXPR_EXACT), any number in [lo, hi] (EXPR_NUMBERS; `num` is EV_INT or EV_FLOAT when all of
 * them have that type, else 0), or anything (EXPR_ANYTHING). */
enum { EXPR_EXACT, EXPR_NUMBERS, EXPR_ANYTHING };
typedef struct expr_range {
    int kind, num;
    double lo, hi;
    expr_value v;
} expr_range;
/* 1 when no assignment of values within `vars` makes the program true (every run gives a
 * falsy value or fails), 0 when one might. With `may_fail` not NULL every branch is followed
 * and *may_fail tells whether some run might fail (overflow, division by zero, a type
 * mismatch); when unsure, it says so. */
int expr_never_true(const expr_prog *p, const expr_range *vars, int *may_fail);

/* Python ==, for values of any type (1 == 1.0; 1 != 'a'). */
int expr_equal(expr_value a, expr_value b);
/* Python truthiness. */
int expr_truthy(expr_value v);
/* Python str() of a scalar value. */
int expr_format(expr_value v, char *buf, size_t size);

#endif
