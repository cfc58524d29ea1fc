/* space_sample.c — uniform sampling of a space's valid configurations: plain rejection where
 * random draws find valid ones readily, else a pick from a table of them, else rejection over
 * the values propagation left, with prefixes dropped as soon as they cannot be completed. */
#include "space_impl.h"

#include <stdlib.h>
#include <string.h>

#define SAMPLE_ATTEMPTS (1u << 24) /* rejection draws before giving up */
#define PROBE_ATTEMPTS (1u << 14)  /* draws of the probe that tells whether rejection works */
#define PROBE_HITS 8               /* valid draws it needs for that */
#define PROBE_SEED 0x243f6a8885a308d3ull
#define TABLE_MAX (1u << 20)     /* valid configurations a sampling table holds at most */
#define TABLE_STEPS (1ull << 22) /* search steps spent building one */

struct space_sampler {
    enum { SAMPLE_EMPTY, SAMPLE_RAW, SAMPLE_TABLE, SAMPLE_LIVE } mode;
    uint64_t *ids; /* SAMPLE_TABLE: the valid configurations' ids, ascending */
    size_t n;
};

void ct_sampler_free(space_sampler *sm)
{
    if (sm)
        free(sm->ids);
    free(sm);
}

/* One draw as the library has always made it: each parameter uniform over all its values,
 * whole constraints checked at the depth of their last parameter, the draw dropped at the
 * first that fails. */
static int raw_attempt(const cutune_space *s, cutune_rng *rng, uint32_t *config)
{
    expr_value vals[CUTUNE_MAX_PARAMS];
    for (size_t d = 0; d < s->np; d++) {
        config[d] = (uint32_t)cutune_rng_below(rng, s->params[d].n);
        vals[d] = s->params[d].vals[config[d]];
        if (!ct_check_depth(s, d, vals))
            return 0;
    }
    return 1;
}

typedef struct table_fill {
    const cutune_space *s;
    space_sampler *sm;
    size_t cap;
} table_fill;

static int table_add(const uint32_t *config, void *user)
{
    table_fill *t = user;
    if (t->sm->n == TABLE_MAX)
        return 1;
    if (t->sm->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        uint64_t *ids = realloc(t->sm->ids, cap * sizeof *ids);
        if (!ids)
            return 2;
        t->sm->ids = ids;
        t->cap = cap;
    }
    t->sm->ids[t->sm->n++] = cutune_space_config_id(t->s, config);
    return 0;
}

/* How this space is sampled, decided from the space alone (never from the caller's generator),
 * so that a seed gives the same draws whoever sampled the space before:
 *  - when plain rejection finds valid draws readily (a probe with a fixed seed finds 8 in
 *    2^14 draws), the library's long-standing rejection, so seeds keep giving what they gave;
 *  - else, when the valid configurations can be listed quickly (2^20 at most, in 2^22 steps),
 *    a uniform pick from that table;
 *  - else rejection over the live values, with prefixes dropped as soon as they fail. */
static int sampler_build(const cutune_space *s, space_sampler **out)
{
    int st = CUTUNE_OK;
    const space_plan *pl = ct_space_plan(s, &st);
    if (!pl)
        return st;
    space_sampler *sm = calloc(1, sizeof *sm);
    if (!sm)
        return ct_fail(CUTUNE_ENOMEM, "out of memory preparing to sample a space");
    *out = sm;
    if (ct_plan_empty(pl)) {
        sm->mode = SAMPLE_EMPTY;
        return CUTUNE_OK;
    }
    cutune_rng probe;
    cutune_rng_seed(&probe, PROBE_SEED);
    uint32_t config[CUTUNE_MAX_PARAMS];
    unsigned hits = 0;
    for (unsigned i = 0; i < PROBE_ATTEMPTS && hits < PROBE_HITS; i++)
        hits += (unsigned)raw_attempt(s, &probe, config);
    if (hits == PROBE_HITS) {
        sm->mode = SAMPLE_RAW;
        return CUTUNE_OK;
    }
    table_fill t = {.s = s, .sm = sm};
    ct_walk w = {.s = s, .pl = pl, .visit = table_add, .user = &t, .steps = TABLE_STEPS};
    int stop = ct_plan_walk(&w);
    if (stop == 2) {
        ct_sampler_free(sm);
        return ct_fail(CUTUNE_ENOMEM, "out of memory listing the valid configurations");
    }
    if (stop || w.out_of_steps) {
        free(sm->ids);
        sm->ids = NULL;
        sm->n = 0;
        sm->mode = SAMPLE_LIVE;
    } else {
        sm->mode = sm->n ? SAMPLE_TABLE : SAMPLE_EMPTY;
    }
    return CUTUNE_OK;
}

static const space_sampler *get_sampler(const cutune_space *s, int *st)
{
    _Atomic(space_sampler *) *slot = (_Atomic(space_sampler *) *)&s->sampler;
    space_sampler *sm = atomic_load_explicit(slot, memory_order_acquire), *none = NULL;
    if (sm)
        return sm;
    if ((*st = sampler_build(s, &sm)))
        return NULL;
    if (!atomic_compare_exchange_strong(slot, &none, sm)) {
        ct_sampler_free(sm);
        sm = none;
    }
    return sm;
}

/* Every way is uniform over the valid configurations. Rejection draws each raw (or live)
 * combination with the same probability and keeps exactly the valid ones; dropping a prefix
 * early only drops combinations that are invalid anyway (a part is false for every
 * completion), so it is the same event, decided sooner; and a live value list drops only
 * values no valid configuration uses. The table holds each valid configuration once. */
int cutune_space_sample(const cutune_space *s, cutune_rng *rng, uint32_t *config)
{
    if (!s || !rng || !config)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_sample: NULL argument");
    if (s->np == 0)
        return ct_fail(CUTUNE_EEMPTY, "cutune_space_sample: the space has no parameters");
    int st = CUTUNE_OK;
    const space_sampler *sm = get_sampler(s, &st);
    if (!sm)
        return st;
    switch (sm->mode) {
    case SAMPLE_EMPTY:
        return ct_fail(CUTUNE_EEMPTY, "no valid configuration: the constraints rule out every "
                       "combination of values");
    case SAMPLE_TABLE:
        return cutune_space_config_from_id(s, sm->ids[cutune_rng_below(rng, sm->n)], config);
    case SAMPLE_RAW:
        for (uint32_t attempt = 0; attempt < SAMPLE_ATTEMPTS; attempt++)
            if (raw_attempt(s, rng, config))
                return CUTUNE_OK;
        break;
    case SAMPLE_LIVE: {
        const space_plan *pl = ct_space_plan(s, &st);
        for (uint32_t attempt = 0; pl && attempt < SAMPLE_ATTEMPTS; attempt++)
            if (ct_plan_draw(s, pl, rng, config))
                return CUTUNE_OK;
        if (!pl)
            return st;
        break;
    }
    }
    return ct_fail(CUTUNE_EEMPTY, "no valid configuration in %u random draws: the valid ones "
                   "are too few for random draws to find and too many to list (more than %u, "
                   "or more than %llu search steps)", SAMPLE_ATTEMPTS, TABLE_MAX,
                   (unsigned long long)TABLE_STEPS);
}
