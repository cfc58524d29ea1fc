/* test_expr.c — the expression subset behaves as Python does: operators, precedence, floor
 * division and modulo signs, short-circuit values, chained comparisons, lists; and errors
 * are reported with their column. Both evaluators (tree and bytecode) must agree. */
#include "check.h"
#include "expr.h"
#include "cutune.h"

#include <math.h>
#include <stdlib.h>

static const char *const var_names[] = {"a", "b", "s", "f", "z"};
static expr_value vars[5];

static int lookup(void *user, const char *name, expr_value *out)
{
    (void)user;
    for (int i = 0; i < 5; i++)
        if (strcmp(name, var_names[i]) == 0) {
            *out = vars[i];
            return 0;
        }
    return -1;
}

/* Evaluates `src` both ways; returns the status and the value (both must agree). A list
 * result lives in `keep` when given (else it is gone on return). */
static int eval_in(const char *src, expr_value *out, char *err, size_t errsize,
                   expr_arena *keep)
{
    expr *e;
    int st = expr_parse(src, &e, err, errsize);
    if (st)
        return st;
    expr_prog *prog;
    expr_arena *arena = keep ? keep : expr_arena_new();
    expr_value tree;
    int st_tree = expr_eval(e, lookup, NULL, arena, &tree, err, errsize);
    char cerr[256];
    int st_vm = expr_compile(e, var_names, 5, &prog, NULL, cerr, sizeof cerr);
    if (st_vm == CUTUNE_OK) {
        st_vm = expr_run(prog, vars, out);
        expr_prog_free(prog);
        if (st_vm != st_tree) {
            fprintf(stderr, "'%s': tree status %d, bytecode status %d\n", src, st_tree, st_vm);
            check_failures++;
        } else if (!st_vm && (out->type != tree.type || !(out->type == EV_FLOAT
                                                              ? (out->u.f == tree.u.f ||
                                                                 (isnan(out->u.f) &&
                                                                  isnan(tree.u.f)))
                                                              : out->type == EV_STR
                                                                    ? !strcmp(out->u.s, tree.u.s)
                                                                    : out->u.i == tree.u.i))) {
            fprintf(stderr, "'%s': tree and bytecode disagree\n", src);
            check_failures++;
        }
    } else {
        *out = tree; /* lists: the tree evaluator only */
    }
    if (!keep)
        expr_arena_free(arena);
    expr_free(e);
    return st_tree;
}

static int eval_both(const char *src, expr_value *out, char *err, size_t errsize)
{
    return eval_in(src, out, err, errsize, NULL);
}

static void check_int(const char *src, int64_t want, int line)
{
    expr_value v;
    char err[256] = "";
    int st = eval_both(src, &v, err, sizeof err);
    if (st || v.type != EV_INT || v.u.i != want) {
        fprintf(stderr, "line %d: '%s' gave status %d type %d value %lld (%s), expected int %lld\n",
                line, src, st, v.type, (long long)v.u.i, err, (long long)want);
        check_failures++;
    }
}

static void check_float(const char *src, double want, int line)
{
    expr_value v;
    char err[256] = "";
    int st = eval_both(src, &v, err, sizeof err);
    if (st || v.type != EV_FLOAT || fabs(v.u.f - want) > 1e-12 * fabs(want)) {
        fprintf(stderr, "line %d: '%s' gave status %d type %d (%s), expected float %g\n", line,
                src, st, v.type, err, want);
        check_failures++;
    }
}

static void check_error(const char *src, int want_status, const char *want_text, int line)
{
    expr_value v;
    char err[256] = "";
    int st = eval_both(src, &v, err, sizeof err);
    if (st != want_status || !strstr(err, want_text)) {
        fprintf(stderr, "line %d: '%s' gave status %d '%s', expected status %d with '%s'\n",
                line, src, st, err, want_status, want_text);
        check_failures++;
    }
}

#define INT(src, want) check_int(src, want, __LINE__)
#define FLT(src, want) check_float(src, want, __LINE__)
#define ERR(src, st, text) check_error(src, st, text, __LINE__)

static void test_arithmetic(void)
{
    INT("1 + 2 * 3", 7);
    INT("(1 + 2) * 3", 9);
    INT("2 ** 3 ** 2", 512); /* right-associative */
    INT("-2 ** 2", -4);       /* ** binds tighter than unary minus */
    FLT("2 ** -1", 0.5);
    INT("7 // 2", 3);
    INT("-7 // 2", -4); /* floor, not truncation */
    INT("7 // -2", -4);
    INT("-7 % 3", 2); /* sign of the divisor */
    INT("7 % -3", -2);
    FLT("7 / 2", 3.5);
    FLT("-7.5 // 2", -4.0);
    FLT("-7.5 % 2", 0.5);
    INT("a * b", 24);
    INT("a % b", 2);
    INT("1 << 4 | 1", 17);
    INT("6 & 3 ^ 1", 3);
    INT("~5", -6);
    INT("1_000 + 1", 1001);
    FLT("1e3 + f", 1002.5);
    INT("max(a, b, 10)", 10);
    INT("min(a, b)", 4);
    INT("abs(-3)", 3);
    INT("int(7.9)", 7);
    FLT("float(a)", 6.0);
    INT("9223372036854775807", INT64_MAX);
}

static void test_logic(void)
{
    INT("1 < 2 < 3", 1);
    INT("1 < 3 < 2", 0);
    INT("a == 6 and b == 4", 1);
    INT("0 or 5", 5); /* or returns the operand, as in Python */
    INT("3 and 0", 0);
    INT("not a", 0);
    INT("not 0 == 1", 1); /* not binds looser than == */
    INT("a in [1, 6, 9]", 1);
    INT("a not in [1, 6, 9]", 0);
    INT("s == 'abc'", 1);
    INT("s != \"abd\"", 1);
    INT("s < 'abd'", 1);
    INT("1 == 'a'", 0); /* mixed types compare unequal rather than fail */
    INT("1 == 1.0", 1);
    INT("True + True", 2);
    INT("a if b > 3 else 0", 6);
    INT("a if b > 5 else 0", 0);
    INT("z == 0 or a // z > 1", 1); /* short-circuit skips the division by zero */
}

static void test_lists(void)
{
    expr_value v;
    char err[256];
    expr_arena *keep = expr_arena_new();
#define eval_both(src, out, err, size) eval_in(src, out, err, size, keep)
    CHECK_INT(eval_both("[32 * i for i in range(1, 32)]", &v, err, sizeof err), 0);
    CHECK_INT(v.type, EV_LIST);
    CHECK_INT(v.u.l->n, 31);
    CHECK_INT(eval_both("[1] + [2 * i for i in range(1, 11)]", &v, err, sizeof err), 0);
    CHECK_INT(v.u.l->n, 11);
    CHECK_INT(eval_both("[i for i in range(10, 0, -3) if i % 2 == 0]", &v, err, sizeof err), 0);
    CHECK_INT(v.u.l->n, 2); /* 10, 4 */
    CHECK_INT(eval_both("list(range(5)) * 2", &v, err, sizeof err), 0);
    CHECK_INT(v.u.l->n, 10);
    CHECK_INT(v.u.l->items[9].u.i, 4);
#undef eval_both
    expr_arena_free(keep);
    INT("len([1, 2, 3])", 3);
    INT("[5, 6, 7][-1]", 7);
    INT("max([3, 9, 2])", 9);
    INT("sum(range(101))", 5050);
    INT("a in [2**i for i in range(4)]", 0);
    INT("b in [2**i for i in range(4)]", 1);
}

static void test_errors(void)
{
    ERR("1 +", CUTUNE_EPARSE, "column 4: operand expected at end");
    ERR("(1 + 2", CUTUNE_EPARSE, "')' expected");
    ERR("1 2", CUTUNE_EPARSE, "column 3: unexpected '2'");
    ERR("a $ b", CUTUNE_EPARSE, "column 3: unexpected character '$'");
    ERR("'open", CUTUNE_EPARSE, "unterminated string");
    ERR("a is 1", CUTUNE_EPARSE, "'is' is not supported");
    ERR("12abc", CUTUNE_EPARSE, "malformed number");
    ERR("99999999999999999999", CUTUNE_EPARSE, "does not fit in 64 bits");
    ERR("blok_size + 1", CUTUNE_ENAME, "column 1: unknown name 'blok_size'");
    ERR("a // z", CUTUNE_EDOMAIN, "divides by zero");
    ERR("a % 0", CUTUNE_EDOMAIN, "divides by zero");
    ERR("f / 0.0", CUTUNE_EDOMAIN, "divides by zero");
    ERR("9223372036854775807 + 1", CUTUNE_EDOMAIN, "overflows");
    ERR("2 ** 64", CUTUNE_EDOMAIN, "'**' overflows 64-bit integers");
    ERR("1 << a * 11", CUTUNE_EDOMAIN, "'<<' overflows 64-bit integers");
    ERR("1 >> -a", CUTUNE_EDOMAIN, "negative shift count");
    ERR("0 ** -a", CUTUNE_EDOMAIN, "0 to a negative power");
    ERR("1e308 * 10", CUTUNE_EDOMAIN, "'*' overflows the float range");
    ERR("s + 1", CUTUNE_ETYPE, "unsupported operand types for '+': str and int");
    ERR("s < 1", CUTUNE_ETYPE, "unsupported operand types for '<'");
    ERR("-s", CUTUNE_ETYPE, "bad operand for unary");
    ERR("range(10 ** 9)", CUTUNE_ETOOBIG, "exceeds the limit");
    ERR("[0] * 10 ** 9", CUTUNE_ETOOBIG, "exceeds");
    INT("len([] * 11 ** 8)", 0); /* found by fuzzing: once took seconds */
    ERR("[[j for j in range(1000)] for i in range(100000)]", CUTUNE_ETOOBIG, "MiB");
    ERR("[i for i in range(3) for j in range(3)]", CUTUNE_EPARSE, "second 'for'");
    char slow[512] = "[(1";
    for (int i = 0; i < 100; i++)
        strcat(slow, "+1");
    strcat(slow, ") for i in range(1000000)]");
    ERR(slow, CUTUNE_ETOOBIG, "steps");
    ERR("frobnicate(1)", CUTUNE_ENAME, "unknown function 'frobnicate'");
    ERR("[1, 2][5]", CUTUNE_ERANGE, "out of range");

    /* nesting limits keep hostile input from exhausting the stack */
    char deep[2000];
    memset(deep, '(', 600);
    strcpy(deep + 600, "1");
    memset(deep + 601, ')', 600);
    deep[1201] = '\0';
    ERR(deep, CUTUNE_EPARSE, "nested more than");
    char *chain = malloc(200001);
    for (int i = 0; i < 100000; i++)
        memcpy(chain + 2 * i, "1+", 2);
    strcpy(chain + 199998, "1");
    ERR(chain, CUTUNE_EPARSE, "nested more than");
    free(chain);
}

static void test_compile_errors(void)
{
    const char *names[] = {"x", "y"};
    struct {
        const char *src, *want;
    } cases[] = {
        {"x + q", "column 5: unknown name 'q'"},
        {"[x, y]", "a list is not allowed"},
        {"x in [y]", "must be a constant list"},
        {"range(x)", "'range' is not allowed in a constraint"},
        /* a part that reads no parameter is computed once, when the constraint is added:
         * where it cannot be, the constraint is refused (Python would compute 2**65536) */
        {"x < 2**2**2**2**2", "column 6: '**' overflows 64-bit integers"},
        {"x > 0 or 1 // (y - y) > 0 or 1 // 0 > 0", "column 32: '//' divides by zero"},
        {"x < -(-9223372036854775807 - 1)", "unary '-' overflows"},
        {"x < 'a' + 1", "unsupported operand types for '+': str and int"},
        {"frobnicate(1) > x", "function 'frobnicate' is not allowed in a constraint"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        expr *e;
        expr_prog *p = NULL;
        char err[256] = "";
        CHECK_INT(expr_parse(cases[i].src, &e, err, sizeof err), 0);
        CHECK(expr_compile(e, names, 2, &p, NULL, err, sizeof err) != 0);
        CHECK_HAS(err, cases[i].want);
        CHECK(p == NULL);
        expr_free(e);
    }
    /* which variables a constraint reads decides where enumeration checks it */
    expr *e;
    expr_prog *p;
    int max_var = -2;
    char err[256];
    CHECK_INT(expr_parse("x * 2 <= 64", &e, err, sizeof err), 0);
    CHECK_INT(expr_compile(e, names, 2, &p, &max_var, err, sizeof err), 0);
    CHECK_INT(max_var, 0);
    expr_prog_free(p);
    expr_free(e);
    CHECK_INT(expr_parse("12 * 1024 > 0", &e, err, sizeof err), 0);
    CHECK_INT(expr_compile(e, names, 2, &p, &max_var, err, sizeof err), 0);
    CHECK_INT(max_var, -1);
    expr_prog_free(p);
    expr_free(e);
}

static int setup(void)
{
    vars[0] = (expr_value){.type = EV_INT, .u.i = 6};
    vars[1] = (expr_value){.type = EV_INT, .u.i = 4};
    vars[2] = (expr_value){.type = EV_STR, .u.s = "abc"};
    vars[3] = (expr_value){.type = EV_FLOAT, .u.f = 2.5};
    vars[4] = (expr_value){.type = EV_INT, .u.i = 0};
    return 0;
}

TEST_LIST(TEST_CASE(test_arithmetic) TEST_CASE(test_logic) TEST_CASE(test_lists)
          TEST_CASE(test_errors) TEST_CASE(test_compile_errors));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, NULL); }
