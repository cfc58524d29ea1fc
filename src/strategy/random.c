/* random.c — random sampling without replacement: each suggestion is drawn uniformly from
 * the configurations not evaluated yet. The baseline of the score. */
#include "../search.h"

#include <stdlib.h>

static int random_init(void **state, ct_search *s)
{
    (void)s;
    *state = malloc(1); /* stateless; a non-NULL token keeps the interface uniform */
    return *state ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
}

static int random_suggest(void *state, ct_search *s, size_t *index)
{
    (void)state;
    *index = ct_random_unvisited(s);
    return *index == CT_NONE ? CUTUNE_EEMPTY : CUTUNE_OK;
}

static void random_observe(void *state, ct_search *s, size_t index, double time_ms)
{
    (void)state, (void)s, (void)index, (void)time_ms;
}

/* The next draws, from a copy of the generator: the search's own stays where it is. */
static size_t random_peek(void *state, const ct_search *s, size_t *out, size_t max)
{
    (void)state;
    ct_search copy = *s;
    size_t n = 0;
    for (size_t k = 0; k < max; k++) {
        size_t i = ct_random_unvisited(&copy);
        if (i == CT_NONE)
            break;
        out[n++] = i;
    }
    return n;
}

const ct_strategy ct_strategy_random = {"random", "uniform sampling without replacement",
                                        random_init, random_suggest, random_observe, free,
                                        random_peek};
