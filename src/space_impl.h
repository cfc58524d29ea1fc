/* space_impl.h — the inside of cutune_space, shared by space.c and the spec loaders. */
#ifndef CUTUNE_SPACE_IMPL_H
#define CUTUNE_SPACE_IMPL_H

#include "expr.h"
#include "internal.h"

#include <stdatomic.h>


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

/* One operand of a constraint's outermost 'and' (the whole constraint when it has none),
 * compiled on its own so that it is checked as soon as its own parameters are set. */
typedef struct ct_part {
    expr_prog *prog;
    size_t nvars; /* the parameters it reads, ascending */
    int *vars;
} ct_part;

typedef struct space_plan space_plan;       /* space_propagate.c */
typedef struct space_sampler space_sampler; /* space_sample.c */

struct cutune_space {
    param *params;
    size_t np;
    constraint *cons;
    size_t nc;
    size_t *check_order; /* constraint numbers sorted by max_var */
    size_t *check_start; /* check_order[check_start[d] .. check_start[d+1]) decide at d */
    ct_part *parts;
    size_t nparts;
    uint32_t *dflt;
    int has_default;
    char **warnings; /* what the spec loader let pass (cutune_space_warning) */
    size_t nwarnings;
    size_t key_bytes, names_bytes; /* the longest key and the names joined, without the NUL */
    /* Built on first use by the functions that read a space (which may run on several threads
     * at once, hence atomic), dropped when the space changes. */
    _Atomic(space_plan *) plan;
    _Atomic(space_sampler *) sampler;
};

/* Whole constraints decidable once parameter d has its value; vals[0..d] are set. */
static inline int ct_check_depth(const cutune_space *s, size_t d, const expr_value *vals)
{
    for (size_t k = s->check_start[d]; k < s->check_start[d + 1]; k++) {
        expr_value r;
        if (expr_run(s->cons[s->check_order[k]].prog, vals, &r) != CUTUNE_OK || !expr_truthy(r))
            return 0;
    }
    return 1;
}

/* space.c: drops what was built from the space on first use (it is about to change, or be
 * freed). */
void ct_space_forget(cutune_space *s);

/* space_propagate.c: the plan enumeration works from (live values, checks by depth). The
 * space's own is built on first use; a lenient one (a constraint part that fails to compute
 * counts as passing) is built for cutune_space_count_failing. */
const space_plan *ct_space_plan(const cutune_space *s, int *st);
int ct_plan_build(const cutune_space *s, int lenient, space_plan **out);
void ct_plan_free(space_plan *pl);
int ct_plan_empty(const space_plan *pl);
/* Whether some constraint part may fail to compute for some configuration the plan visits. */
int ct_plan_may_fail(const space_plan *pl);
/* A depth-first walk over the valid configurations in id order: each goes to `visit`, or
 * with visit NULL is only counted (whole subtrees at once where nothing is left to check).
 * It stops after `steps` nodes (setting out_of_steps) or when visit returns nonzero, which
 * ct_plan_walk then returns. */
typedef struct ct_walk {
    const cutune_space *s;
    const space_plan *pl;
    cutune_config_visitor visit;
    void *user;
    uint64_t count, steps;
    int out_of_steps;
} ct_walk;
int ct_plan_walk(ct_walk *w);
/* One random draw over the plan's live values: 1 and the configuration when it is valid, 0
 * when it was dropped (at the first check that failed). */
int ct_plan_draw(const cutune_space *s, const space_plan *pl, cutune_rng *rng, uint32_t *config);

/* space_sample.c */
void ct_sampler_free(space_sampler *sm);

/* Adds a warning to the space's list (the spec loader's; never printed by the library).
 * CUTUNE_ENOMEM only. */
int ct_space_warn(cutune_space *s, const char *fmt, ...) CT_PRINTF(2, 3);

/* cutune_space_add_constraint, leaving the parser's or compiler's message ("column C: what")
 * in err instead of recording it: the spec loader reports it at its place in the file. */
int ct_space_add_constraint(cutune_space *s, const char *text, char *err, size_t errsize);

#endif
