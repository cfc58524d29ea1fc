/* fuzz_expr.c — libFuzzer target for the expression parser, both evaluators and the run over
 * ranges: any input must parse or fail cleanly, what parses must evaluate or fail cleanly, and
 * a run over ranges that says "never true" must hold for the values inside them. */
#include "expr.h"

#include <stdlib.h>
#include <string.h>

static int lookup(void *user, const char *name, expr_value *out)
{
    (void)user;
    if (name[0] == 's') {
        *out = (expr_value){.type = EV_STR, .u.s = "text"};
        return 0;
    }
    *out = (expr_value){.type = EV_INT, .u.i = (int64_t)strlen(name) - 3};
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size + 1);
    if (!src)
        return 0;
    memcpy(src, data, size);
    src[size] = '\0';
    char err[256];
    expr *e;
    if (expr_parse(src, &e, err, sizeof err) == 0) {
        expr_arena *arena = expr_arena_new();
        expr_value v;
        expr_eval(e, lookup, NULL, arena, &v, err, sizeof err);
        expr_arena_free(arena);
        static const char *const names[] = {"x", "y", "s", "block_size_x"};
        expr_value vars[4] = {{.type = EV_INT, .u.i = 3},
                              {.type = EV_FLOAT, .u.f = -0.5},
                              {.type = EV_STR, .u.s = "abc"},
                              {.type = EV_INT, .u.i = 0}};
        expr_prog *prog;
        if (expr_compile(e, names, 4, &prog, NULL, err, sizeof err) == 0) {
            expr_run(prog, vars, &v);
            /* over ranges: never true must mean the exact run is not true either */
            expr_range ranges[4] = {{.kind = EXPR_NUMBERS, .num = EV_INT, .lo = -2, .hi = 70},
                                    {.kind = EXPR_NUMBERS, .num = EV_FLOAT, .lo = -1, .hi = 0.5},
                                    {.kind = EXPR_ANYTHING},
                                    {.kind = EXPR_EXACT, .v = vars[3]}};
            int may_fail;
            int never = expr_never_true(prog, ranges, &may_fail);
            if (never && expr_run(prog, vars, &v) == 0 && expr_truthy(v))
                __builtin_trap(); /* unsound */
            expr_prog_free(prog);
        }
        /* each operand of the outermost 'and' compiles on its own */
        int roots[16];
        size_t n = expr_conjuncts(e, roots, 16);
        for (size_t i = 0; i < n && i < 16; i++)
            if (expr_compile_at(e, roots[i], names, 4, &prog, NULL, err, sizeof err) == 0)
                expr_prog_free(prog);
        expr_free(e);
    }
    free(src);
    return 0;
}
