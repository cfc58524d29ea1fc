/* space_impl.h — the inside of cutune_space, shared by space.c and the spec loaders. */
#ifndef CUTUNE_SPACE_IMPL_H
#define CUTUNE_SPACE_IMPL_H

#include "expr.h"
#include "internal.h"

#define CUTUNE_MAX_PARAMS 256

typedef struct param {
    char *name;
    cutune_value_type type;
    size_t n;
    expr_value *vals; /* strings owned here for CUTUNE_STRING */
} param;

typedef struct constraint {
    char *src;
    expr_prog *prog;
    int max_var; /* highest parameter read; -1 when it reads none */
} constraint;

struct cutune_space {
    param *params;
    size_t np;
    constraint *cons;
    size_t nc;
    size_t *check_order; /* constraint numbers sorted by max_var */
    size_t *check_start; /* check_order[check_start[d] .. check_start[d+1]) decide at d */
    uint32_t *dflt;
    int has_default;
};

/* cutune_space_add_constraint, leaving the parser's or compiler's message ("column C: what")
 * in err instead of recording it: the spec loader reports it at its place in the file. */
int ct_space_add_constraint(cutune_space *s, const char *text, char *err, size_t errsize);

#endif
