/* rng.c — the random numbers every strategy and sampler draws: xoshiro256**, seeded through
 * splitmix64, so that a seed gives the same run anywhere. */
#include "internal.h"

/* xoshiro256**, seeded through splitmix64 */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void cutune_rng_seed(cutune_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t cutune_rng_next(cutune_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t cutune_rng_below(cutune_rng *rng, uint64_t bound)
{
    if (bound <= 1)
        return 0;
    uint64_t threshold = -bound % bound; /* values below it would bias the modulo */
    for (;;) {
        uint64_t r = cutune_rng_next(rng);
        if (r >= threshold)
            return r % bound;
    }
}
