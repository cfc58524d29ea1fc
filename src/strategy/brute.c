/* brute.c — brute force: every valid configuration in id order. The reference that others
 * must beat, and the right choice for a space smaller than the budget. */
#include "../search.h"

#include <stdlib.h>

typedef struct brute {
    size_t next;
} brute;

static int brute_init(void **state, ct_search *s)
{
    (void)s;
    *state = calloc(1, sizeof(brute));
    return *state ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
}

static int brute_suggest(void *state, ct_search *s, size_t *index)
{
    brute *b = state;
    while (b->next < s->dom->n && s->visited[b->next])
        b->next++;
    if (b->next == s->dom->n)
        return CUTUNE_EEMPTY;
    *index = b->next;
    return CUTUNE_OK;
}

static void brute_observe(void *state, ct_search *s, size_t index, double time_ms)
{
    (void)state, (void)s, (void)index, (void)time_ms;
}

static size_t brute_peek(void *state, const ct_search *s, size_t *out, size_t max)
{
    const brute *b = state;
    size_t n = 0;
    for (size_t i = b->next; i < s->dom->n && n < max; i++)
        if (!s->visited[i])
            out[n++] = i;
    return n;
}

const ct_strategy ct_strategy_brute = {"brute", "every configuration in order", brute_init,
                                       brute_suggest, brute_observe, free, brute_peek};
