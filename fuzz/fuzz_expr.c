/* fuzz_expr.c — libFuzzer target for the expression parser and both evaluators: any input
 * must parse or fail cleanly, and what parses must evaluate or fail cleanly. */
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
            expr_prog_free(prog);
        }
        expr_free(e);
    }
    free(src);
    return 0;
}
