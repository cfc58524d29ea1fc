/* lhs.c — Latin hypercube sampling: designs of up to 256 points that cover every dimension
 * evenly, each point moved to the nearest configuration not evaluated yet. */
#include "../search.h"

#include <stdlib.h>

#define MAX_DESIGN 256

typedef struct lhs {
    size_t design[MAX_DESIGN];
    size_t count, next;
} lhs;

static int lhs_init(void **state, ct_search *s)
{
    (void)s;
    *state = calloc(1, sizeof(lhs));
    return *state ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
}

static int lhs_suggest(void *state, ct_search *s, size_t *index)
{
    lhs *l = state;
    for (;;) {
        while (l->next < l->count) {
            size_t i = l->design[l->next++];
            if (!s->visited[i]) {
                *index = i;
                return CUTUNE_OK;
            }
        }
        size_t left = s->dom->n - s->nvisited;
        size_t want = s->budget > s->nvisited ? (size_t)(s->budget - s->nvisited) : 1;
        size_t m = want < left ? want : left;
        if (m == 0)
            return CUTUNE_EEMPTY;
        l->count = ct_lhs_design(s, m < MAX_DESIGN ? m : MAX_DESIGN, l->design);
        l->next = 0;
        if (l->count == 0)
            return CUTUNE_EEMPTY;
    }
}

static void lhs_observe(void *state, ct_search *s, size_t index, double time_ms)
{
    (void)state, (void)s, (void)index, (void)time_ms;
}

static size_t lhs_peek(void *state, const ct_search *s, size_t *out, size_t max)
{
    const lhs *l = state;
    size_t n = 0;
    for (size_t k = l->next; k < l->count && n < max; k++)
        if (!s->visited[l->design[k]])
            out[n++] = l->design[k];
    return n;
}

const ct_strategy ct_strategy_lhs = {"lhs", "Latin hypercube designs", lhs_init, lhs_suggest,
                                     lhs_observe, free, lhs_peek};
